#!/usr/bin/env python3
"""The official Python SDK (plaid-python, pinned by scripts/python_sdk.sh) against the offline
sandbox's binary, with plaid-python's response validation on (`_check_return_type`, its
default) and a strict JSON-Schema check of every raw body against the spec (strict.py):

  1. a Link-less flow an app makes, each step with the outcome Plaid documents: Items of
     several institutions and test users, products, transactions sync, errors, Plaid's error
     passwords, custom users, and every webhook code /sandbox/item/fire_webhook takes;
  2. a sweep of every PlaidApi operation with a minimal request built from the SDK's models;
  3. every webhook the sandbox sent, checked against the SDK's model and the spec's schema.

    python sandbox/tests/python/check.py <sandbox base URL> <client id> <secret> <spec JSON>

Starts by resetting the sandbox (POST /__sandbox/reset): point it at a sandbox of its own.
The webhook receiver listens on 127.0.0.1 only. Prints each call, then a summary, and exits
non-zero, naming each, if an answer, an error body or a webhook fails plaid-python's validation
or the strict check, if a call fails inside the SDK other than as SDK_LIMITS allows, if a flow
step's outcome is not the expected one, or if the sweep meets a Plaid error not in SWEEP_ERRORS.
"""
import argparse
import ast
import base64
import datetime as dt
import hashlib
import http.server
import importlib
import inspect
import io
import json
import re
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import plaid
from plaid import exceptions as pex
from plaid import model_utils as mu
from plaid.api import plaid_api
from plaid.model.accounts_balance_get_request import AccountsBalanceGetRequest
from plaid.model.accounts_balance_get_request_options import AccountsBalanceGetRequestOptions
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.auth_get_request import AuthGetRequest
from plaid.model.country_code import CountryCode
from plaid.model.custom_sandbox_transaction import CustomSandboxTransaction
from plaid.model.identity_get_request import IdentityGetRequest
from plaid.model.institutions_get_by_id_request import InstitutionsGetByIdRequest
from plaid.model.institutions_get_by_id_request_options import InstitutionsGetByIdRequestOptions
from plaid.model.institutions_get_request import InstitutionsGetRequest
from plaid.model.institutions_get_request_options import InstitutionsGetRequestOptions
from plaid.model.institutions_search_request import InstitutionsSearchRequest
from plaid.model.institutions_search_request_options import InstitutionsSearchRequestOptions
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest
from plaid.model.investments_transactions_get_request import InvestmentsTransactionsGetRequest
from plaid.model.investments_transactions_get_request_options import InvestmentsTransactionsGetRequestOptions
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.item_webhook_update_request import ItemWebhookUpdateRequest
from plaid.model.liabilities_get_request import LiabilitiesGetRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.link_token_get_request import LinkTokenGetRequest
from plaid.model.plaid_error import PlaidError
from plaid.model.processor_token_create_request import ProcessorTokenCreateRequest
from plaid.model.products import Products
from plaid.model.sandbox_item_fire_webhook_request import SandboxItemFireWebhookRequest
from plaid.model.sandbox_item_reset_login_request import SandboxItemResetLoginRequest
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.sandbox_public_token_create_request_options import SandboxPublicTokenCreateRequestOptions
from plaid.model.sandbox_transactions_create_request import SandboxTransactionsCreateRequest
from plaid.model.transactions_get_request import TransactionsGetRequest
from plaid.model.transactions_get_request_options import TransactionsGetRequestOptions
from plaid.model.transactions_recurring_get_request import TransactionsRecurringGetRequest
from plaid.model.transactions_refresh_request import TransactionsRefreshRequest
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from plaid.model.transactions_sync_request_options import TransactionsSyncRequestOptions
from plaid.model.webhook_type import WebhookType
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest

import strict

# Calls plaid-python cannot make whatever the server answers: (exception type, words of its
# message). Such a call is counted as an SDK limit, not a failure, and its request is sent as
# plain JSON instead, the answer checked as the SDK would check it (raw_post).
SDK_LIMITS = {
    # The request model holds the document as a file, which the SDK puts in a JSON body:
    # "Object of type bytes is not JSON serializable".
    'transfer_diligence_document_upload': (TypeError, 'is not JSON serializable'),
}
# The plain JSON sent for the operations of SDK_LIMITS.
RAW_REQUESTS = {
    'transfer_diligence_document_upload': {'originator_client_id': 'x', 'file': 'JVBERi0xLjQK', 'purpose': 'DUE_DILIGENCE'},
}
# The sweep's minimal requests that Plaid rejects too, with the error code expected. An
# operation that starts answering is fine; a new error fails the run (add it here only if
# Plaid answers that request the same way).
SWEEP_ERRORS = {
    # The spec requires neither `user` nor `user_id`, but says "one of either the user_id or
    # the user field is required".
    'link_token_create': 'MISSING_FIELDS',
    # item_webhook_update's minimal request, sent before, has no webhook: the Item has none left.
    'sandbox_item_fire_webhook': 'SANDBOX_WEBHOOK_INVALID',
    # The sweep's account is not waiting for automated micro-deposit verification.
    'sandbox_item_set_verification_status': 'INVALID_FIELD',
    # Only for Items of user_transactions_dynamic (the sweep's is user_good's).
    'sandbox_transactions_create': 'INVALID_FIELD',
    # Sent after item_access_token_invalidate, which replaced the sweep's access token.
    'item_remove': 'INVALID_ACCESS_TOKEN',
}
# The webhook codes /sandbox/item/fire_webhook refuses on an Item of user_good with Auth,
# Identity, Investments, Liabilities and Transactions.
FIRE_ERRORS = {
    'AUTHORIZATION_GRANTED': 'INVALID_FIELD',  # in the enum, but not among the codes Plaid documents
    'PRODUCT_READY': 'SANDBOX_PRODUCT_NOT_ENABLED',  # Assets webhooks: the Item has no Assets
    'ERROR': 'SANDBOX_PRODUCT_NOT_ENABLED',
}
PRODUCTS = [Products(p) for p in ('auth', 'identity', 'investments', 'liabilities', 'transactions')]
OK = 'ok'            # a call's expected outcome: a 200 answer
SWEEP = 'sweep'      # a 200 answer or the error of SWEEP_ERRORS
VALIDATION = (pex.ApiTypeError, pex.ApiValueError, pex.ApiAttributeError, pex.ApiKeyError)
NOBODY = object()    # an operation without a request body

parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
parser.add_argument('base_url')
parser.add_argument('client_id')
parser.add_argument('secret')
parser.add_argument('spec', help='the OpenAPI spec (JSON) the sandbox serves')
args = parser.parse_args()
BASE = args.base_url.rstrip('/')
SPEC = strict.Spec(args.spec)

cfg = plaid.Configuration(host=BASE, api_key={'clientId': args.client_id, 'secret': args.secret})
# plaid-python saves each binary answer (PDF, ZIP) as a file: in a folder removed at exit.
downloads = tempfile.TemporaryDirectory(prefix='plaid-python-check-')
cfg.temp_folder_path = downloads.name
api_client = plaid.ApiClient(cfg)
client = plaid_api.PlaidApi(api_client)
# Direct requests (the sandbox's own endpoints, RAW_REQUESTS) never go through a proxy.
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))

results = []    # one dict per call
problems = []   # every reason to fail, in order


class Abort(Exception):
    """A flow step whose outcome the next steps need went wrong."""


def problem(text):
    problems.append(text)
    print(f'FAIL  {text}', flush=True)


def admin(method, command, body=None):
    """One of the sandbox's own endpoints (under /__sandbox/), its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f'{BASE}/__sandbox/{command}', data=data, method=method,
                                 headers={'Content-Type': 'application/json',
                                          'PLAID-CLIENT-ID': args.client_id,
                                          'PLAID-SECRET': args.secret})
    with direct.open(req, timeout=30) as r:
        return json.loads(r.read())


# ---------------------------------------------------------------------------------------------
# The webhook receiver, on loopback

class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.hooks = []  # (lower-case headers, raw body), in the order received
        self.lock = threading.Lock()
        self.reported = set()  # indexes of failed deliveries already reported
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('content-length', 0)))
                with receiver.lock:
                    receiver.hooks.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *_):
                pass

        super().__init__(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server_address[1]}/hook'
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def settle(self):
        """Waits until the sandbox has the receiver's answer to every webhook it sent (each has
        a status in GET /__sandbox/webhooks; the receiver records a webhook before answering),
        so that nothing here depends on how soon a webhook arrives. Returns what was received."""
        deadline = time.monotonic() + 120  # a stuck sender, not a slow one
        while True:
            sent = admin('GET', 'webhooks')['webhooks']
            if all(w['status'] is not None for w in sent) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        ours = [(i, w) for i, w in enumerate(sent) if w['url'] == self.url]
        for i, w in ours:
            if w['status'] != 200 and i not in self.reported:
                self.reported.add(i)
                problem(f'webhook {w["body"].get("webhook_type")}/{w["body"].get("webhook_code")}: '
                        f'delivery status {w["status"]} (none: still pending after 120 s)')
        with self.lock:
            hooks = list(self.hooks)
        if len(hooks) != len(ours):
            problem(f'webhooks: the sandbox sent {len(ours)} to the receiver, which received {len(hooks)}')
        return hooks


hooks = Receiver()
HOOK_URL = hooks.url


# ---------------------------------------------------------------------------------------------
# Checking one answer

def endpoint(op):
    return getattr(client, op + '_endpoint')


def request_type(op):
    ep = endpoint(op)
    name = list(ep.location_map)[0]
    return name, ep.openapi_types[name][0]


def _validate(op, data):
    """plaid-python's validation of a raw JSON answer of `op`: None, or the exception."""
    try:
        mu.validate_and_convert_types(json.loads(json.dumps(data)), endpoint(op).settings['response_type'],
                                      ['received_data'], True, True, cfg)
        return None
    except Exception as e:  # noqa: BLE001 - whatever the SDK raises is the finding
        return e


def _parse_path(msg):
    i = msg.rfind("['received_data']")
    if i < 0:
        return None
    toks = re.findall(r"\['([^']*)'\]|\[(\d+)\]", msg[i:].split()[0])
    return [a if a else int(b) for a, b in toks][1:]


def _get(data, path):
    for k in path:
        data = data[k]
    return data


def _placeholder(msg):
    m = re.search(r"must be one of \[([^\]]*)\]", msg)
    if m:
        return ast.literal_eval('[' + m.group(1) + ']')[0]
    if 'as datetime' in msg:
        return '2024-01-01T00:00:00Z'
    if 'as date' in msg:
        return '2024-01-01'
    m = re.search(r"Required value type is (?:one of \[)?(\w+)", msg)
    return {'NoneType': None, 'float': 0.0, 'int': 0, 'str': 'x', 'bool': False, 'list': [], 'dict': {},
            'date': '2024-01-01', 'datetime': '2024-01-01T00:00:00Z'}.get(m.group(1) if m else 'str', {})


def all_errors(op, raw):
    """Every field of a raw answer that plaid-python rejects, not only the first: the offending
    value is repaired (null, then removed, then a value of the wanted type) and the answer
    validated again."""
    errs = []
    data = json.loads(json.dumps(raw))
    e = _validate(op, data)
    for _ in range(60):
        if e is None:
            break
        msg = f'{type(e).__name__}: {e}'.strip()
        path = _parse_path(str(e))
        try:
            val = _get(data, path) if path else None
        except (KeyError, IndexError, TypeError):
            val = None
        errs.append({'path': path, 'value': val, 'error': msg[:600]})
        if not path:
            break
        for repair in ('none', 'drop', 'placeholder'):
            trial = json.loads(json.dumps(data))
            try:
                parent = _get(trial, path[:-1])
                if repair == 'drop':
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = None if repair == 'none' else _placeholder(msg)
            except (KeyError, IndexError, TypeError):
                continue
            e2 = _validate(op, trial)
            if repair == 'drop' and e2 is not None and 'missing' in str(e2) and f"'{path[-1]}'" in str(e2):
                continue
            if e2 is None or _parse_path(str(e2)) != path:
                data, e = trial, e2
                break
        else:
            break
    return errs


def check_plaid_error(rec, body):
    """An error answer: in the shape of Plaid's error, by the SDK's model and the spec's."""
    try:
        mu.validate_and_convert_types(body, (PlaidError,), ['error_body'], True, True, cfg)
    except Exception as e:  # noqa: BLE001
        rec['invalid'] = True
        rec['errors'].append(f'error body is not a PlaidError for plaid-python: {type(e).__name__}: {e}'[:400])
    for e in SPEC.schema_errors('PlaidError', body):
        rec['invalid'] = True
        rec['errors'].append(f'error body vs the spec\'s PlaidError: {e["path"]}: {e["error"]}')


def check_raw(rec, op, status, content_type, data):
    """A 2xx answer's raw body against the spec: JSON strictly, anything else by content type."""
    ep = endpoint(op).settings
    if not SPEC.documents_status(ep['endpoint_path'], ep['http_method'], status):
        # A success the spec does not document has no schema to check it by: a failure, not
        # something skipped.
        rec['invalid'] = True
        rec['errors'].append(f'answer status {status}, which the spec does not document')
        return
    if 'json' not in content_type:
        declared = SPEC.response_content(ep['endpoint_path'], ep['http_method'], status) or {}
        rec['content_type'] = content_type
        if content_type.split(';')[0].strip() not in declared:
            rec['invalid'] = True
            rec['errors'].append(f'answer of type {content_type!r}; the spec says {sorted(declared)}')
        return
    try:
        body = json.loads(data)
    except ValueError as e:
        rec['invalid'] = True
        rec['errors'].append(f'answer is not JSON: {e}')
        return
    errors = SPEC.response_errors(ep['endpoint_path'], ep['http_method'], status, body)
    if errors is None:
        rec['no_schema'] = True  # e.g. /fdx/notifications: "200 OK" without a body in the spec
        return
    for e in errors:
        rec['invalid'] = True
        rec['errors'].append(f'strict: {e["path"]} (value {json.dumps(e["value"], default=str)[:80]}): {e["error"]}')


# ---------------------------------------------------------------------------------------------
# Calling

def call(label, op, req, expect=OK, phase='flow'):
    """Calls `op` through the SDK, checks the answer, and records whether it was `expect` (OK,
    SWEEP, or a Plaid error code). Returns the SDK's answer, or None."""
    rec = {'phase': phase, 'label': label, 'op': op, 'errors': []}
    api_client.last_response = None
    resp = None
    try:
        resp = getattr(client, op)(*([] if req is NOBODY else [req]))
        rec['result'] = 'ok'
    except pex.ApiException as e:
        rec['result'] = 'plaid_error'
        rec['status'] = e.status
        try:
            body = json.loads(e.body)
        except (TypeError, ValueError):
            body = None
            rec['invalid'] = True
            rec['errors'].append(f'error answer {e.status} is not JSON: {str(e.body)[:200]!r}')
        if isinstance(body, dict):
            rec['error_code'] = body.get('error_code')
            rec['error_type'] = body.get('error_type')
            rec['error_message'] = str(body.get('error_message'))[:160]
            check_plaid_error(rec, body)
    except VALIDATION as e:
        rec['result'] = 'validation_failure'
        rec['invalid'] = True
        rec['errors'].append(f'plaid-python rejects the answer: {type(e).__name__}: {e}'[:600])
    except Exception as e:  # noqa: BLE001 - anything else the SDK raises
        limit = SDK_LIMITS.get(op)
        if limit and isinstance(e, limit[0]) and limit[1] in str(e):
            rec['result'] = 'sdk_limit'
        else:
            rec['result'] = 'sdk_failure'
            rec['errors'].append(f'the SDK fails: {type(e).__name__}: {e}'[:600])
    lr = api_client.last_response
    if lr is not None and 200 <= lr.status < 300:
        check_raw(rec, op, lr.status, lr.getheader('content-type') or '', lr.data)
        if rec['result'] == 'validation_failure' and 'json' in (lr.getheader('content-type') or ''):
            for e in all_errors(op, json.loads(lr.data)):
                rec['errors'].append(f'  plaid-python: {e["path"]} = {json.dumps(e["value"], default=str)[:80]}: {e["error"][:300]}')
    # The outcome against the expectation.
    code = rec.get('error_code')
    if rec['result'] == 'plaid_error':
        if expect == OK:
            rec['errors'].append(f'expected an answer, got {rec.get("status")} {code}')
        elif expect == SWEEP and SWEEP_ERRORS.get(op) != code:
            rec['errors'].append(f'Plaid error {rec.get("status")} {code} not in SWEEP_ERRORS')
        elif expect not in (OK, SWEEP) and expect != code:
            rec['errors'].append(f'expected {expect}, got {code}')
        if (rec.get('status') or 0) >= 500 and expect != code:
            rec['errors'].append(f'server error {rec.get("status")}')
    elif rec['result'] == 'ok' and expect not in (OK, SWEEP):
        rec['errors'].append(f'expected the error {expect}, got an answer')
    results.append(rec)
    tag = {'ok': 'ok   ', 'plaid_error': 'perr ', 'validation_failure': 'FAIL ',
           'sdk_failure': 'FAIL ', 'sdk_limit': 'limit'}[rec['result']]
    detail = f' {code}: {rec.get("error_message")}' if code else ''
    print(f'{tag} [{phase}] {label}{detail}', flush=True)
    for e in rec['errors']:
        problem(f'[{phase}] {label}: {e}')
    return resp if rec['result'] == 'ok' else None


def must(label, op, req):
    """A flow step whose answer the next steps need."""
    resp = call(label, op, req)
    if resp is None:
        raise Abort(label)
    return resp


def verify(label, cond, detail=''):
    """A check of an answer's content."""
    if cond:
        print(f'ok    {label}', flush=True)
    else:
        problem(f'{label}{": " + detail if detail else ""}')


def raw_post(op, body):
    """The plain JSON request for an operation in SDK_LIMITS; the answer checked like call's."""
    ep = endpoint(op).settings
    req = urllib.request.Request(BASE + ep['endpoint_path'], data=json.dumps(body).encode(), method='POST',
                                 headers={'Content-Type': 'application/json', 'PLAID-CLIENT-ID': args.client_id,
                                          'PLAID-SECRET': args.secret, 'Plaid-Version': '2020-09-14'})
    rec = {'phase': 'sweep', 'label': f'{op} (plain JSON: SDK_LIMITS)', 'op': op, 'errors': []}
    try:
        with direct.open(req, timeout=60) as r:
            status, ct, data = r.status, r.headers.get('content-type', ''), r.read()
        rec['result'] = 'ok'
        check_raw(rec, op, status, ct, data)
        e = _validate(op, json.loads(data)) if 'json' in ct else None
        if e is not None:
            rec['result'] = 'validation_failure'
            rec['invalid'] = True
            rec['errors'].append(f'plaid-python rejects the answer: {type(e).__name__}: {e}'[:600])
    except urllib.error.HTTPError as e:
        rec['result'] = 'plaid_error'
        rec['status'] = e.code
        raw = e.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
            rec['invalid'] = True
            rec['errors'].append(f'error answer {e.code} is not JSON: {raw[:200]!r}')
        rec['error_code'] = body.get('error_code')
        if body:
            check_plaid_error(rec, body)
        if SWEEP_ERRORS.get(op) != rec['error_code']:
            rec['errors'].append(f'Plaid error {e.code} {rec["error_code"]} not in SWEEP_ERRORS')
    results.append(rec)
    print(f'{"ok   " if rec["result"] == "ok" else "perr "} [sweep] {rec["label"]}', flush=True)
    for e in rec['errors']:
        problem(f'[sweep] {rec["label"]}: {e}')


# ---------------------------------------------------------------------------------------------
# Part 1: the flow

admin('POST', 'reset')
# The sandbox's clock, read once: dates in requests never depend on this machine's clock or on
# a midnight passing during the run.
NOW = dt.datetime.fromisoformat(admin('GET', 'clock')['now'][:19] + '+00:00')
TODAY = NOW.date()
START = TODAY - dt.timedelta(days=365)


def public_token(label, products, username=None, password='pass_good', institution='ins_109508', expect=OK):
    opts = {'webhook': HOOK_URL}
    if username:
        opts.update(override_username=username, override_password=password)
    r = call(f'sandbox_public_token_create {label}', 'sandbox_public_token_create',
             SandboxPublicTokenCreateRequest(institution_id=institution, initial_products=products,
                                             options=SandboxPublicTokenCreateRequestOptions(**opts)), expect)
    if expect == OK and r is None:
        raise Abort(label)
    return r and r.public_token


def link_item(label, products=PRODUCTS, **kw):
    pt = public_token(label, products, **kw)
    ex = must(f'item_public_token_exchange ({label})', 'item_public_token_exchange',
              ItemPublicTokenExchangeRequest(public_token=pt))
    verify(f'{label}: the access token is a sandbox one', ex.access_token.startswith('access-sandbox-'), ex.access_token)
    return ex.access_token, ex.item_id, pt


def sync_all(at, label, **opts):
    cursor, added, pages = None, [], 0
    while pages < 200:
        kw = {'access_token': at, 'count': 100, **opts}
        if cursor:
            kw['cursor'] = cursor
        r = must(f'transactions_sync page {pages} ({label})', 'transactions_sync', TransactionsSyncRequest(**kw))
        pages += 1
        added += r.added
        cursor = r.next_cursor
        if not r.has_more:
            break
    print(f'      {len(added)} transactions in {pages} pages ({label})')
    return added


def webhook_of(received, code, item_id):
    for headers, body in received:
        b = json.loads(body)
        if b.get('webhook_code') == code and b.get('item_id') == item_id:
            return headers, b
    return None, None


def flow(ctx):
    at, item_id, pt = link_item('user_good')
    call('item_public_token_exchange again (single use)', 'item_public_token_exchange',
         ItemPublicTokenExchangeRequest(public_token=pt), 'INVALID_PUBLIC_TOKEN')
    # user_transactions_dynamic has no investment accounts.
    public_token('user_transactions_dynamic, 5 products', PRODUCTS, 'user_transactions_dynamic',
                 expect='NO_INVESTMENT_ACCOUNTS')
    at_dyn, _, _ = link_item('user_transactions_dynamic', [Products('transactions')], username='user_transactions_dynamic')

    item = must('item_get', 'item_get', ItemGetRequest(access_token=at)).item
    verify('item_get: the Item and its institution', item.item_id == item_id and item.institution_id == 'ins_109508',
           f'{item.item_id} {item.institution_id}')
    accounts = must('accounts_get', 'accounts_get', AccountsGetRequest(access_token=at)).accounts
    verify('accounts_get: Plaid Checking 0000 first', (accounts[0].name, accounts[0].mask) == ('Plaid Checking', '0000'),
           f'{accounts[0].name} {accounts[0].mask}')
    must('accounts_balance_get', 'accounts_balance_get', AccountsBalanceGetRequest(access_token=at))
    auth = must('auth_get', 'auth_get', AuthGetRequest(access_token=at))
    ach = [n for n in auth.numbers.ach if n.account_id == accounts[0].account_id]
    verify('auth_get: the checking account\'s numbers', ach and (ach[0].account, ach[0].routing) == ('1111222233330000', '011401533'),
           str(ach[:1]))
    identity = must('identity_get', 'identity_get', IdentityGetRequest(access_token=at))
    verify('identity_get: the owner', identity.accounts[0].owners[0].names == ['Alberta Bobbeth Charleson'],
           str(identity.accounts[0].owners[0].names))
    must('investments_holdings_get', 'investments_holdings_get', InvestmentsHoldingsGetRequest(access_token=at))
    must('investments_transactions_get', 'investments_transactions_get',
         InvestmentsTransactionsGetRequest(access_token=at, start_date=START, end_date=TODAY))
    must('liabilities_get', 'liabilities_get', LiabilitiesGetRequest(access_token=at))
    n = len(sync_all(at, 'user_good'))
    verify('transactions_sync: user_good has over 100 transactions', n > 100, str(n))
    n = len(sync_all(at_dyn, 'user_transactions_dynamic'))
    verify('transactions_sync: user_transactions_dynamic has transactions', n > 0, str(n))
    must('transactions_get', 'transactions_get',
         TransactionsGetRequest(access_token=at, start_date=START, end_date=TODAY,
                                options=TransactionsGetRequestOptions(count=500, offset=0)))
    must('transactions_get (dynamic)', 'transactions_get',
         TransactionsGetRequest(access_token=at_dyn, start_date=START, end_date=TODAY))
    must('transactions_recurring_get', 'transactions_recurring_get', TransactionsRecurringGetRequest(access_token=at))
    must('transactions_refresh', 'transactions_refresh', TransactionsRefreshRequest(access_token=at_dyn))
    sync_all(at_dyn, 'user_transactions_dynamic after refresh')

    countries = [CountryCode('US'), CountryCode('CA'), CountryCode('GB')]
    must('institutions_get', 'institutions_get',
         InstitutionsGetRequest(count=500, offset=0, country_codes=countries,
                                options=InstitutionsGetRequestOptions(include_optional_metadata=True)))
    found = must('institutions_search', 'institutions_search',
                 InstitutionsSearchRequest(query='Platypus', country_codes=[CountryCode('US')],
                                           options=InstitutionsSearchRequestOptions(include_optional_metadata=True)))
    verify('institutions_search: Platypus finds ins_109508', any(i.institution_id == 'ins_109508' for i in found.institutions))
    for ins in ('ins_109508', 'ins_109509', 'ins_109510', 'ins_109511', 'ins_109512', 'ins_43', 'ins_116834',
                'ins_127287', 'ins_132363', 'ins_132361', 'ins_133402'):
        must(f'institutions_get_by_id {ins}', 'institutions_get_by_id',
             InstitutionsGetByIdRequest(institution_id=ins, country_codes=countries,
                                        options=InstitutionsGetByIdRequestOptions(include_optional_metadata=True,
                                                                                  include_status=True)))
    user = LinkTokenCreateRequestUser(client_user_id='py-user-1')
    lt = must('link_token_create', 'link_token_create',
              LinkTokenCreateRequest(client_name='Py app', language='en', country_codes=[CountryCode('US')], user=user,
                                     products=[Products('transactions')], webhook=HOOK_URL))
    verify('link_token_create: a sandbox link token', lt.link_token.startswith('link-sandbox-'), lt.link_token)
    got = must('link_token_get', 'link_token_get', LinkTokenGetRequest(link_token=lt.link_token))
    verify('link_token_get: the products asked for', [str(p) for p in got.metadata.initial_products] == ['transactions'],
           str(got.metadata.initial_products))
    lt2 = must('link_token_create (update mode)', 'link_token_create',
               LinkTokenCreateRequest(client_name='Py app', language='en', country_codes=[CountryCode('US')], user=user,
                                      access_token=at))
    must('link_token_get (update mode)', 'link_token_get', LinkTokenGetRequest(link_token=lt2.link_token))

    must('item_webhook_update', 'item_webhook_update', ItemWebhookUpdateRequest(access_token=at, webhook=HOOK_URL))
    fired = must('sandbox_item_fire_webhook SYNC_UPDATES_AVAILABLE', 'sandbox_item_fire_webhook',
                 SandboxItemFireWebhookRequest(access_token=at, webhook_code='SYNC_UPDATES_AVAILABLE'))
    verify('sandbox_item_fire_webhook: webhook_fired', fired.webhook_fired is True)
    headers, body = webhook_of(hooks.settle(), 'SYNC_UPDATES_AVAILABLE', item_id)
    verify('the SYNC_UPDATES_AVAILABLE webhook arrived', body is not None)
    if headers is not None:
        h = headers.get('plaid-verification', '').split('.')[0]
        jwt_header = json.loads(base64.urlsafe_b64decode(h + '=' * (-len(h) % 4)) or b'{}')
        verify('the webhook is signed with ES256', jwt_header.get('alg') == 'ES256', str(jwt_header))
        key = must('webhook_verification_key_get', 'webhook_verification_key_get',
                   WebhookVerificationKeyGetRequest(key_id=jwt_header.get('kid', 'none'))).key
        verify('webhook_verification_key_get: the key of that kid', key.kid == jwt_header.get('kid') and key.alg == 'ES256')
        ctx['key_id'] = key.kid

    must('processor_token_create', 'processor_token_create',
         ProcessorTokenCreateRequest(access_token=at, account_id=accounts[0].account_id, processor='dwolla'))
    must('sandbox_item_reset_login', 'sandbox_item_reset_login', SandboxItemResetLoginRequest(access_token=at))
    call('accounts_get after reset_login', 'accounts_get', AccountsGetRequest(access_token=at), 'ITEM_LOGIN_REQUIRED')
    call('transactions_sync after reset_login', 'transactions_sync', TransactionsSyncRequest(access_token=at),
         'ITEM_LOGIN_REQUIRED')
    call('auth_get after reset_login', 'auth_get', AuthGetRequest(access_token=at), 'ITEM_LOGIN_REQUIRED')
    item = must('item_get after reset_login', 'item_get', ItemGetRequest(access_token=at)).item
    verify('item_get: item.error is ITEM_LOGIN_REQUIRED', item.get('error') and item.error.error_code == 'ITEM_LOGIN_REQUIRED',
           str(item.get('error')))
    must('item_remove', 'item_remove', ItemRemoveRequest(access_token=at))
    call('accounts_get with an unknown access token', 'accounts_get',
         AccountsGetRequest(access_token='access-sandbox-00000000-0000-0000-0000-000000000000'), 'INVALID_ACCESS_TOKEN')


def extras():
    # Other institutions: ins_109510 (Tattersall) has no Identity, as Plaid's notes say.
    for ins, prods in [('ins_109509', ['auth', 'transactions']), ('ins_109510', ['transactions', 'identity']),
                       ('ins_109511', ['auth']), ('ins_109512', ['auth']), ('ins_127287', ['transactions']),
                       ('ins_43', ['transactions']), ('ins_116834', ['transactions']), ('ins_132363', ['transactions'])]:
        if ins == 'ins_109510':
            public_token(ins, [Products(p) for p in prods], institution=ins, expect='PRODUCTS_NOT_SUPPORTED')
            continue
        at, _, _ = link_item(ins, [Products(p) for p in prods], institution=ins)
        must(f'item_get {ins}', 'item_get', ItemGetRequest(access_token=at))
        must(f'accounts_get {ins}', 'accounts_get', AccountsGetRequest(access_token=at))
        if 'auth' in prods:
            must(f'auth_get {ins}', 'auth_get', AuthGetRequest(access_token=at))
        if 'transactions' in prods:
            must(f'transactions_get {ins}', 'transactions_get',
                 TransactionsGetRequest(access_token=at, start_date=START, end_date=TODAY))
    # Plaid's error passwords: error_<CODE> fails the login with that code.
    for code in ('ITEM_LOCKED', 'INVALID_CREDENTIALS', 'INSTITUTION_DOWN', 'NO_ACCOUNTS'):
        public_token(f'error_{code}', [Products('transactions')], 'user_good', f'error_{code}', expect=code)
    # user_custom: the accounts a JSON configuration in the password describes.
    days = lambda n: (TODAY - dt.timedelta(days=n)).isoformat()  # noqa: E731
    custom = json.dumps({"override_accounts": [
        {"type": "depository", "subtype": "checking", "starting_balance": 1000,
         "meta": {"name": "Spending", "mask": "4321"},
         "numbers": {"account": "9900001234", "ach_routing": "322271627"},
         "transactions": [{"date_transacted": days(3), "date_posted": days(2), "amount": 12.5,
                           "description": "Coffee", "currency": "USD"}],
         "identity": {"names": ["John Doe"], "emails": [{"data": "j@py-app.test", "primary": True, "type": "primary"}]}},
        {"type": "credit", "subtype": "credit card", "liability": {"type": "credit", "purchase_apr": 12.9}},
        {"type": "loan", "subtype": "student", "liability": {"type": "student", "origination_date": "2020-01-01"}},
        {"type": "investment", "subtype": "brokerage", "holdings": [
            {"institution_price": 10, "quantity": 10, "currency": "USD", "security": {"ticker_symbol": "PLAID", "currency": "USD"}}],
         "investment_transactions": [
            {"date": days(5), "name": "buy PLAID", "quantity": 1, "price": 10, "fees": 0, "type": "buy",
             "currency": "USD", "security": {"ticker_symbol": "PLAID", "currency": "USD"}}]},
    ]})
    at, _, _ = link_item('user_custom', username='user_custom', password=custom)
    accounts = must('accounts_get (user_custom)', 'accounts_get', AccountsGetRequest(access_token=at)).accounts
    verify('accounts_get (user_custom): the configured accounts',
           len(accounts) == 4 and (accounts[0].name, accounts[0].mask) == ('Spending', '4321'),
           str([(a.name, a.mask) for a in accounts]))
    for op, req in [('auth_get', AuthGetRequest(access_token=at)), ('identity_get', IdentityGetRequest(access_token=at)),
                    ('liabilities_get', LiabilitiesGetRequest(access_token=at)),
                    ('investments_holdings_get', InvestmentsHoldingsGetRequest(access_token=at)),
                    ('investments_transactions_get', InvestmentsTransactionsGetRequest(access_token=at, start_date=START, end_date=TODAY)),
                    ('transactions_get', TransactionsGetRequest(access_token=at, start_date=START, end_date=TODAY)),
                    ('transactions_recurring_get', TransactionsRecurringGetRequest(access_token=at))]:
        must(f'{op} (user_custom)', op, req)
    added = sync_all(at, 'user_custom')
    verify('transactions_sync (user_custom): the configured transaction', [t.amount for t in added] == [12.5],
           str([t.amount for t in added]))

    # Options on user_good.
    at, _, _ = link_item('user_good for options')
    must('transactions_get with options', 'transactions_get',
         TransactionsGetRequest(access_token=at, start_date=START, end_date=TODAY,
                                options=TransactionsGetRequestOptions(count=50, offset=10, include_original_description=True,
                                                                      include_personal_finance_category=True,
                                                                      include_logo_and_counterparty_beta=True)))
    sync_all(at, 'with options', options=TransactionsSyncRequestOptions(include_original_description=True,
                                                                        include_personal_finance_category=True))
    must('investments_transactions_get paged', 'investments_transactions_get',
         InvestmentsTransactionsGetRequest(access_token=at, start_date=START, end_date=TODAY,
                                           options=InvestmentsTransactionsGetRequestOptions(count=2, offset=1)))
    must('accounts_balance_get with min_last_updated_datetime', 'accounts_balance_get',
         AccountsBalanceGetRequest(access_token=at, options=AccountsBalanceGetRequestOptions(
             min_last_updated_datetime=NOW - dt.timedelta(days=1))))
    must('institutions_get with a products filter', 'institutions_get',
         InstitutionsGetRequest(count=10, offset=0, country_codes=[CountryCode('US')],
                                options=InstitutionsGetRequestOptions(products=[Products('auth')], include_optional_metadata=True,
                                                                      include_auth_metadata=True,
                                                                      include_payment_initiation_metadata=True)))

    # user_transactions_dynamic: a created transaction comes with the next refresh.
    at_d, item_d, _ = link_item('user_transactions_dynamic (create)', [Products('transactions')],
                                username='user_transactions_dynamic')
    before = {t.transaction_id for t in sync_all(at_d, 'dynamic before create')}
    must('sandbox_transactions_create', 'sandbox_transactions_create',
         SandboxTransactionsCreateRequest(access_token=at_d, transactions=[CustomSandboxTransaction(
             date_transacted=TODAY, date_posted=TODAY, amount=9.99, description='Py coffee', iso_currency_code='USD')]))
    must('transactions_refresh (dynamic)', 'transactions_refresh', TransactionsRefreshRequest(access_token=at_d))
    new = [t for t in sync_all(at_d, 'dynamic after create') if t.transaction_id not in before]
    verify('transactions_sync: the created transaction after refresh', any(t.amount == 9.99 for t in new),
           str([(t.name, t.amount) for t in new]))

    # Every webhook code /sandbox/item/fire_webhook takes, DEFAULT_UPDATE of each product.
    item = client.item_get(ItemGetRequest(access_token=at)).item
    fired, n0 = set(), len(hooks.settle())
    for code in SandboxItemFireWebhookRequest.allowed_values[('webhook_code',)].values():
        types = [None]
        if code == 'DEFAULT_UPDATE':
            types = ['TRANSACTIONS', 'AUTH', 'HOLDINGS', 'INVESTMENTS_TRANSACTIONS', 'LIABILITIES', 'IDENTITY']
        for t in types:
            kw = {'access_token': at_d if code == 'SYNC_UPDATES_AVAILABLE' else at, 'webhook_code': code}
            if t:
                kw['webhook_type'] = WebhookType(t)
            r = call(f'sandbox_item_fire_webhook {t + " " if t else ""}{code}', 'sandbox_item_fire_webhook',
                     SandboxItemFireWebhookRequest(**kw), FIRE_ERRORS.get(code, OK))
            if r is not None:
                fired.add((item_d if kw['access_token'] == at_d else item.item_id, code, t))
    received = [json.loads(b) for _, b in hooks.settle()[n0:]]
    for item_id, code, t in sorted(fired, key=str):
        verify(f'webhook {t or ""} {code} arrived',
               any(b.get('item_id') == item_id and b.get('webhook_code') == code and (t is None or b.get('webhook_type') == t)
                   for b in received))


# ---------------------------------------------------------------------------------------------
# Part 2: the sweep

def pick_str(name, ctx, validations=None):
    """A value for a string field, by its name (names of a reserved TLD, .test, for addresses)."""
    n = name.lower()
    table = {
        'access_token': ctx.get('access_token'), 'processor_token': ctx.get('processor_token'),
        'account_id': ctx.get('account_id'), 'institution_id': 'ins_109508', 'public_token': ctx.get('public_token'),
        'link_token': ctx.get('link_token'), 'client_user_id': 'py-user-1', 'webhook': HOOK_URL,
        'client_name': 'Py app', 'language': 'en', 'query': 'Platypus', 'key_id': ctx.get('key_id', 'x'),
        'webhook_code': 'SYNC_UPDATES_AVAILABLE', 'item_id': ctx.get('item_id'), 'email_address': 'py@py-app.test',
        'email': 'py@py-app.test', 'phone_number': '+14155550011', 'url': 'https://py-app.test/',
        'website': 'https://py-app.test/', 'redirect_uri': 'https://py-app.test/return',
        'iso_currency_code': 'USD', 'country': 'US', 'currency': 'USD',
        'ssn': '123-45-6789', 'date_of_birth': '1990-01-01', 'postal_code': '94103', 'region': 'CA',
        'legal_name': 'Py Co', 'name': 'Py', 'description': 'x', 'user_token': ctx.get('user_token', 'x'),
        'template_id': 'x', 'consumer_report_permissible_purpose': 'ACCOUNT_REVIEW_CREDIT',
    }
    if table.get(n) is not None:
        return table[n]
    if n.endswith('_date') or n == 'date':
        return TODAY.isoformat()
    if 'routing' in n:
        return '011401533'
    if 'account_number' in n or n == 'account':
        return '1111222233330000'
    return 'x' * (validations or {}).get((name,), {}).get('min_length', 1)


def build(cls, ctx, name='root', depth=0):
    """A minimal instance of a model (or a value of a simple type): its required fields only."""
    if depth > 8:
        return None
    if isinstance(cls, list):  # [X]
        inner = cls[0]
        return [build(inner[0] if isinstance(inner, tuple) else inner, ctx, name, depth + 1)]
    if isinstance(cls, tuple):
        return build(cls[0], ctx, name, depth)
    if cls is str:
        return pick_str(name, ctx)
    simple = {bool: True, int: 1, float: 1.0, dt.date: TODAY, dt.datetime: NOW.replace(microsecond=0)}
    if cls in simple:
        return simple[cls]
    if cls is dict:
        return {}
    if cls is mu.file_type or (isinstance(cls, type) and issubclass(cls, io.IOBase)):
        return io.BytesIO(b'%PDF-1.4\n%%EOF\n')
    if isinstance(cls, type) and issubclass(cls, mu.ModelSimple):
        allowed = list(cls.allowed_values.get(('value',), {}).values())
        prefs = {'Products': 'transactions', 'CountryCode': 'US'}
        if prefs.get(cls.__name__) in allowed:
            return cls(prefs[cls.__name__])
        return cls(allowed[0] if allowed else 'x')
    if isinstance(cls, type) and issubclass(cls, mu.ModelComposed):
        comps = cls._composed_schemas
        parts = comps.get('allOf', []) + comps.get('oneOf', [])
        simple_parts = [c for c in parts if isinstance(c, type) and issubclass(c, mu.ModelSimple)]
        if simple_parts:
            return build(simple_parts[0], ctx, name, depth)
        kw = {}
        for c in comps.get('allOf', []) + comps.get('oneOf', [])[:1] + comps.get('anyOf', [])[:1]:
            if isinstance(c, type) and issubclass(c, mu.ModelNormal):
                kw.update(required_kwargs(c, ctx, depth))
        return cls(**kw)
    if isinstance(cls, type) and issubclass(cls, mu.ModelNormal):
        return cls(**required_kwargs(cls, ctx, depth))
    return None


def required_kwargs(cls, ctx, depth):
    params = [p for p in inspect.signature(cls._from_openapi_data).parameters if p not in ('cls', 'args', 'kwargs')]
    kw = {}
    for p in params:
        t = cls.openapi_types[p]
        allowed = cls.allowed_values.get((p,))
        if allowed:
            vals = list(allowed.values())
            kw[p] = 'dwolla' if p == 'processor' and 'dwolla' in vals else vals[0]
        elif t == (str,):
            kw[p] = pick_str(p, ctx, cls.validations)
        elif t == (dt.date,) or (p.endswith('_date') and str in t):
            kw[p] = TODAY - dt.timedelta(days=30) if p.startswith('start') else TODAY
        else:
            kw[p] = build(t, ctx, p, depth + 1)
    return kw


def sweep_request(op, ctx):
    params = list(endpoint(op).location_map)
    if op in ('item_products_terminate', 'user_products_terminate'):
        # plaid-python cannot build the allOf-wrapped enum of reason_code
        # (ItemProductsTerminateReasonCode) its request model holds: pass the plain enum string
        # without the SDK's type check of the request (the answer is still validated).
        _, rcls = request_type(op)
        kw = {'reason_code': 'OTHER', '_check_type': False}
        if op == 'item_products_terminate':
            kw['access_token'] = ctx['access_token']
        else:
            kw['user_id'] = 'x'
        return rcls(**kw)
    if not params:
        return NOBODY
    if params == ['body']:
        return {}
    return build(request_type(op)[1], ctx)


def sweep(ctx):
    ops = sorted(n[:-len('_endpoint')] for n in dir(client) if n.endswith('_endpoint'))
    # These end the sweep's Item or token: last, in this order.
    last = ['item_public_token_exchange', 'sandbox_item_reset_login', 'item_access_token_invalidate', 'item_remove']
    for op in [o for o in ops if o not in last] + last:
        try:
            req = sweep_request(op, ctx)
        except Exception as e:  # noqa: BLE001 - the SDK cannot build a request of its own model
            results.append({'phase': 'sweep', 'label': op, 'op': op, 'result': 'sdk_failure', 'errors': []})
            problem(f'[sweep] {op}: plaid-python cannot build a minimal request: {type(e).__name__}: {e}'[:400])
            continue
        call(op, op, req, SWEEP, 'sweep')
        if op in SDK_LIMITS and results[-1]['result'] == 'sdk_limit':
            raw_post(op, RAW_REQUESTS[op])
    return ops


# ---------------------------------------------------------------------------------------------
# Part 3: the webhooks

def check_webhooks(received):
    """Every webhook received: the SDK's model and the spec's schema of its type and code (the
    processor variant for a body with account_id and no item_id), and the body's SHA-256 in
    its Plaid-Verification JWT."""
    schemas = SPEC.webhook_schemas()
    kinds, failed = set(), 0
    for headers, raw in received:
        before = len(problems)
        check_webhook(schemas, headers, raw, kinds)
        failed += len(problems) > before
    return kinds, failed


def check_webhook(schemas, headers, raw, kinds):
    """One webhook (see check_webhooks)."""
    b = json.loads(raw)
    key = (b.get('webhook_type'), b.get('webhook_code'))
    kinds.add(key)
    label = f'webhook {key[0]}/{key[1]}'
    processor = 'account_id' in b and 'item_id' not in b
    names = [n for n in schemas.get(key, []) if ('Processor' in n) == processor]
    if not names:
        problem(f'{label}: the spec has no schema for this webhook')
        return
    name = names[0]
    for e in SPEC.schema_errors(name, b):
        problem(f'{label}: strict ({name}): {e["path"]}: {e["error"]}')
    module = re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', '_', name).lower()
    try:
        model = getattr(importlib.import_module(f'plaid.model.{module}'), name)
        mu.validate_and_convert_types(b, (model,), ['webhook'], True, True, cfg)
    except ModuleNotFoundError:
        problem(f'{label}: plaid-python has no model plaid.model.{module}')
    except Exception as e:  # noqa: BLE001
        problem(f'{label}: plaid-python rejects it as {name}: {type(e).__name__}: {e}'[:500])
    try:
        p = headers['plaid-verification'].split('.')[1]
        claims = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
        if claims.get('request_body_sha256') != hashlib.sha256(raw).hexdigest():
            problem(f'{label}: request_body_sha256 in the JWT is not the body\'s')
    except (KeyError, IndexError, ValueError) as e:
        problem(f'{label}: no readable Plaid-Verification JWT: {e}')


def main():
    t0 = time.monotonic()
    ctx = {}
    try:
        flow(ctx)
        extras()
        # A fresh Item, tokens and ids for the sweep's requests.
        at, item_id, _ = link_item('for the sweep')
        accounts = client.accounts_get(AccountsGetRequest(access_token=at)).accounts
        ctx.update(access_token=at, item_id=item_id, account_id=accounts[0].account_id)
        ctx['processor_token'] = client.processor_token_create(ProcessorTokenCreateRequest(
            access_token=at, account_id=ctx['account_id'], processor='dwolla')).processor_token
        ctx['link_token'] = client.link_token_create(LinkTokenCreateRequest(
            client_name='Py app', language='en', country_codes=[CountryCode('US')],
            user=LinkTokenCreateRequestUser(client_user_id='py-user-1'), products=[Products('transactions')])).link_token
        ctx['public_token'] = client.sandbox_public_token_create(SandboxPublicTokenCreateRequest(
            institution_id='ins_109508', initial_products=[Products('transactions')])).public_token
        ops = sweep(ctx)
    except Abort as a:
        problem(f'the flow stopped at "{a}": no sweep')
        ops = None
    received = hooks.settle()
    kinds, hooks_failed = check_webhooks(received)
    hooks.shutdown()
    downloads.cleanup()

    called = {r['op'] for r in results}
    all_ops = sorted(n[:-len('_endpoint')] for n in dir(client) if n.endswith('_endpoint'))
    missed = sorted(set(ops) - called) if ops else []
    if missed:
        problem(f'operations never called: {", ".join(missed)}')
    count = lambda result: sum(r['result'] == result for r in results)  # noqa: E731
    print('\nnon-JSON answers: ' + ', '.join(f'{r["op"]} ({r["content_type"]})' for r in results if r.get('content_type')))
    print('JSON answers the spec gives no schema (not checked): '
          + ', '.join(sorted({r['op'] for r in results if r.get('no_schema')})))
    print(f'webhook kinds: {", ".join("/".join(k) for k in sorted(kinds))}')
    invalid = sum(bool(r.get('invalid')) for r in results)
    print(f'python sdk: {len(called)} of {len(all_ops)} operations called in {len(results)} calls: '
          f'{count("ok")} succeeded, {count("plaid_error")} Plaid errors, {invalid} validation failures '
          f'(plaid-python or strict), {count("sdk_failure")} SDK failures, {count("sdk_limit")} SDK limits, '
          f'{len(received)} webhooks checked ({len(kinds)} kinds, {hooks_failed} failed); '
          f'{len(problems)} problems; {time.monotonic() - t0:.1f} s')
    if problems:
        print(f'\n{len(problems)} problem(s):')
        for p in problems:
            print(f'  {p}')
        sys.exit(1)
    print('python sdk: every answer, error and webhook as plaid-python and the spec say; every step as expected')


if __name__ == '__main__':
    main()
