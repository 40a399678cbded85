"""A strict check of raw JSON bodies against a Plaid OpenAPI spec, for check.py beside it.

The spec's schemas become JSON Schema draft 7 (`nullable` as `anyOf` with null, `$ref` into
`definitions`), and each body is checked for types, required properties, enums,
additionalProperties and the formats `date` (YYYY-MM-DD) and `date-time` (RFC 3339). This
complements plaid-python's own response validation, which takes any date its parser
understands. Errors are returned as lists of {path, value, error, schema_path}; an empty list
means the body is as the spec says.
"""
import datetime as dt
import json
import re

import jsonschema
from rfc3339_validator import validate_rfc3339

# OpenAPI keywords with no JSON Schema meaning (nullable is rewritten, the rest are notes).
_DROP = {'nullable', 'discriminator', 'example', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'externalDocs'}

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks('date', raises=ValueError)
def _date(s):
    if not isinstance(s, str):
        return True
    if not re.fullmatch(r'\d{4}-\d{2}-\d{2}', s):
        raise ValueError('not YYYY-MM-DD')
    dt.date.fromisoformat(s)
    return True


@_FORMATS.checks('date-time', raises=ValueError)
def _date_time(s):
    if not isinstance(s, str):
        return True
    if not validate_rfc3339(s):
        raise ValueError('not RFC 3339')
    return True


def _convert(x):
    """One OpenAPI 3.0 schema (or part of one) as JSON Schema draft 7."""
    if isinstance(x, list):
        return [_convert(v) for v in x]
    if not isinstance(x, dict):
        return x
    y = {k: _convert(v) for k, v in x.items() if k not in _DROP and not k.startswith('x-')}
    if '$ref' in y:
        ref = y.pop('$ref').replace('#/components/schemas/', '#/definitions/')
        # Draft 7 ignores a $ref's siblings: keep them beside it in an allOf.
        y = {'allOf': [{'$ref': ref}], **y} if y else {'$ref': ref}
    if x.get('nullable'):
        y = {'anyOf': [{'type': 'null'}, y]}
    return y


def _value(instance):
    return '<obj>' if isinstance(instance, (dict, list)) else instance


def _errors(validator, body):
    out = []
    for e in validator.iter_errors(body):
        # An anyOf (most often the nullable wrapper): report its most specific sub-error other
        # than "is not of type 'null'", not "is not valid under any of the given schemas".
        subs = [c for c in e.context or [] if not (c.validator == 'type' and c.validator_value == 'null')]
        if subs:
            e = max(subs, key=lambda c: len(c.absolute_path))
        out.append({'path': e.json_path, 'value': _value(e.instance), 'error': e.message[:300],
                    'schema_path': '/'.join(map(str, e.absolute_schema_path))[:200]})
    return out


class Spec:
    """The spec at `path`, with a validator per response schema made on first use."""

    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            self.raw = json.load(f)
        self.definitions = {k: _convert(v) for k, v in self.raw['components']['schemas'].items()}
        self._validators = {}

    def _validator(self, key, schema):
        if key not in self._validators:
            root = {'definitions': self.definitions, **_convert(schema)}
            self._validators[key] = jsonschema.Draft7Validator(root, format_checker=_FORMATS)
        return self._validators[key]

    def response_content(self, path, method, status):
        """The `content` map of an operation's answer with this status ({} if none)."""
        operation = self.raw['paths'].get(path, {}).get(method.lower())
        if not isinstance(operation, dict):
            return None
        return operation.get('responses', {}).get(str(status), {}).get('content', {})

    def documents_status(self, path, method, status):
        """Whether the operation `method path` documents an answer with `status`."""
        operation = self.raw['paths'].get(path, {}).get(method.lower())
        return isinstance(operation, dict) and str(status) in operation.get('responses', {})

    def response_errors(self, path, method, status, body):
        """How a JSON answer of the operation `method path` with `status` differs from the spec;
        None if the spec gives that answer no JSON schema (nothing to check it against)."""
        content = self.response_content(path, method, status)
        if content is None:
            return [{'path': '$', 'value': None, 'error': f'the spec has no operation {method} {path}', 'schema_path': ''}]
        schema = content.get('application/json', {}).get('schema')
        if schema is None:
            return None
        return _errors(self._validator((path, method.lower(), status), schema), body)

    def schema_errors(self, name, body):
        """How `body` differs from the spec's components/schemas/`name`."""
        return _errors(self._validator(name, {'$ref': f'#/components/schemas/{name}'}), body)

    def webhook_schemas(self):
        """(webhook_type, webhook_code) -> the names of the schemas that describe that webhook,
        read from the descriptions of their webhook_type and webhook_code properties."""
        out = {}
        for name, schema in self.raw['components']['schemas'].items():
            props = schema.get('properties', {})
            if 'webhook_type' in props and 'webhook_code' in props:
                types = re.findall(r'`([A-Z_]+)`', props['webhook_type'].get('description', ''))
                codes = re.findall(r'`([A-Z_]+)`', props['webhook_code'].get('description', ''))
                if types and codes:
                    out.setdefault((types[0], codes[0]), []).append(name)
        return out
