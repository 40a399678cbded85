//! Facts read from the (normalized) spec that progenitor's output does not carry in a usable
//! form: each operation's parameters (path, query, header), with their types.

use serde_json::Value;

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// A query-string pair.
    Query,
    /// A request header.
    Header,
}

/// The Rust type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `String`
    String,
    /// `bool`
    Bool,
    /// `i64`
    Integer,
    /// `f64`
    Number,
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The name on the wire (`consentId`, `Plaid-New-User-API-Enabled`).
    pub name: String,
    /// Where it goes.
    pub location: Location,
    /// Whether the spec requires it.
    pub required: bool,
    /// Its type.
    pub ty: ParamType,
    /// Its description, if any.
    pub description: Option<String>,
}

/// One operation of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path template (`/fdx/consents/{consentId}`).
    pub path: String,
    /// The `operationId`, if any.
    pub operation_id: Option<String>,
    /// Whether it has a request body.
    pub has_body: bool,
    /// Its parameters, path-level ones included.
    pub params: Vec<Param>,
    /// Numeric bounds (`minimum`, `maximum`) on body fields and on fields of body objects.
    pub bounds: Vec<Bound>,
    /// The `Accept` header to send (see [`accept_headers`]).
    pub accept: String,
    /// The seconds Plaid requires before a failed request is repeated with the same
    /// idempotency key (see [`key_retry_delay`]), if it names a wait.
    pub key_retry_delay: Option<u64>,
    /// Whether its description warns of a latency beyond the usual (see
    /// [`documents_latency`]).
    pub documents_latency: bool,
}

/// A `minimum` and/or `maximum` on a numeric request body field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The field, and the object field holding it if nested (`["options", "count"]`).
    pub path: Vec<String>,
    /// Inclusive lower bound.
    pub min: Option<serde_json::Number>,
    /// Inclusive upper bound.
    pub max: Option<serde_json::Number>,
}

/// What a schema's own `$ref` names in `spec`, if it has one that resolves.
fn ref_target<'a>(spec: &'a Value, schema: &Value) -> Option<&'a Value> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| spec.pointer(p))
}

/// A schema with its `$ref`s followed (at most 16); anything else as it is.
pub(crate) fn follow_refs<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..16 {
        match ref_target(spec, schema) {
            Some(next) => schema = next,
            None => break,
        }
    }
    schema
}

/// A schema with a `$ref` (or an `allOf` of one) followed; anything else as it is.
fn follow<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..8 {
        let target = match schema.get("allOf").and_then(Value::as_array) {
            Some(parts) if parts.len() == 1 => &parts[0],
            _ => schema,
        };
        match ref_target(spec, target) {
            Some(next) => schema = next,
            None => return target,
        }
    }
    schema
}

/// The `Accept` header of every operation, by (method, path): the media types its success
/// responses declare in the spec as published (normalization rewrites some), in the order
/// declared, with `application/json` added at a lower preference when they do not include it,
/// since Plaid's errors are JSON. An operation that declares no media type gets
/// `application/json`.
pub fn accept_headers(spec: &Value) -> std::collections::BTreeMap<(String, String), String> {
    let mut out = std::collections::BTreeMap::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            let mut types: Vec<&str> = Vec::new();
            for (status, response) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if !status.starts_with('2') {
                    continue;
                }
                let response = follow(spec, response);
                for media in response
                    .get("content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|c| c.keys())
                {
                    if media.contains('/') && !types.contains(&media.as_str()) {
                        types.push(media);
                    }
                }
            }
            let accept = match types.as_slice() {
                [] => "application/json".to_owned(),
                types if types.contains(&"application/json") => types.join(", "),
                types => format!("{}, application/json;q=0.5", types.join(", ")),
            };
            out.insert((method.to_uppercase(), path.clone()), accept);
        }
    }
    out
}

/// The numeric bounds of every operation's request body, by (method, path), read from the
/// spec before normalization drops them.
pub fn bounds(spec: &Value) -> std::collections::BTreeMap<(String, String), Vec<Bound>> {
    let mut out = std::collections::BTreeMap::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let found = body_bounds(spec, op);
            if HTTP_METHODS.contains(&method.as_str()) && !found.is_empty() {
                out.insert((method.to_uppercase(), path.clone()), found);
            }
        }
    }
    out
}

/// How deep [`body_bounds`] looks for bounds: Plaid's deepest is five fields down
/// (`cra_options.base_report.home_lending_report_options.employment_refresh_options.
/// days_requested` of `/link/token/create`).
const BOUND_DEPTH: usize = 8;

/// The properties of an object schema: its own and those of every `allOf` part, `$ref`s
/// followed (`PaymentAmountToRefund` is an `allOf` of `PaymentAmountNullable` and a
/// description); its own win over its parts'. The generator's one reading of "the fields of
/// an object" (request bounds, pagination).
pub(crate) fn all_properties<'a>(
    spec: &'a Value,
    schema: &'a Value,
) -> Vec<(&'a String, &'a Value)> {
    properties_at(spec, schema, 0)
}

fn properties_at<'a>(
    spec: &'a Value,
    schema: &'a Value,
    depth: usize,
) -> Vec<(&'a String, &'a Value)> {
    let mut out = Vec::new();
    if depth > 16 {
        return out;
    }
    // `$ref`s only: an `allOf` of one may have properties beside it, merged below.
    let schema = follow_refs(spec, schema);
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.extend(properties_at(spec, part, depth + 1));
    }
    for (name, prop) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.retain(|(n, _)| *n != name);
        out.push((name, prop));
    }
    out
}

/// The bounds on a request body's numeric fields, at any depth of objects.
fn body_bounds(spec: &Value, op: &Value) -> Vec<Bound> {
    fn visit(spec: &Value, schema: &Value, prefix: &[String], out: &mut Vec<Bound>) {
        if prefix.len() > BOUND_DEPTH {
            return;
        }
        for (name, prop) in all_properties(spec, schema) {
            let mut path = prefix.to_vec();
            path.push(name.clone());
            let prop = follow(spec, prop);
            // On the schema, or on an `allOf` part of it (`{allOf: [{$ref: Days}, {description}]}`).
            let parts = std::iter::once(prop).chain(
                prop.get("allOf")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|part| follow(spec, part)),
            );
            let number = |k: &str| {
                parts
                    .clone()
                    .find_map(|p| p.get(k).and_then(Value::as_number).cloned())
            };
            let (min, max) = (number("minimum"), number("maximum"));
            if min.is_some() || max.is_some() {
                out.push(Bound { path, min, max });
            } else {
                visit(spec, prop, &path, out);
            }
        }
    }
    let Some(body) = op.pointer("/requestBody/content/application~1json/schema") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    visit(spec, body, &[], &mut out);
    out
}

impl Operation {
    /// The path with every `{param}` replaced by `{}`: how progenitor's `format!` spells it.
    pub fn path_pattern(&self) -> String {
        path_pattern(&self.path)
    }
}

/// `/a/{id}/b` -> `/a/{}/b`
pub fn path_pattern(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every operation of the spec, with its parameters resolved (`$ref`s into
/// `components/parameters` followed).
pub fn operations(spec: &Value) -> Result<Vec<Operation>, String> {
    let mut out = Vec::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (method, op) in item {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            let at = format!("operation {} {path}", method.to_uppercase());
            let own = op
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut params: Vec<Param> = Vec::new();
            for p in shared.iter().chain(own.iter()) {
                let param = param(spec, p).map_err(|e| format!("{at}: {e}"))?;
                // An operation-level parameter overrides a path-level one of the same name.
                params.retain(|q| !(q.name == param.name && q.location == param.location));
                params.push(param);
            }
            out.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                operation_id: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                has_body: op.get("requestBody").is_some(),
                params,
                // Normalization drops `minimum`/`maximum` (progenitor would make constrained
                // newtypes of them): [`bounds`] reads them from the spec as published.
                bounds: Vec::new(),
                accept: "application/json".to_owned(),
                key_retry_delay: key_retry_delay(spec, op),
                documents_latency: documents_latency(op),
            });
        }
    }
    Ok(out)
}

/// Whether the operation's description warns that it can take longer than a usual call, as
/// Plaid words it: "up to 30 seconds or more" (real-time balance, the refreshes,
/// `/signal/evaluate` with a Balance-only ruleset), "one to two minutes"
/// (`/investments/transactions/get` and its processor twin right after Link) or "higher
/// latency" (`/processor/signal/evaluate`). Such calls get the client's longer default
/// timeout, so that a call Plaid is still answering is not cut off and repeated.
pub fn documents_latency(op: &Value) -> bool {
    let text = ["summary", "description"]
        .iter()
        .filter_map(|k| op.get(k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    ["seconds or more", "one to two minutes", "higher latency"]
        .iter()
        .any(|phrase| text.contains(phrase))
}

/// The wait Plaid requires before a failed request is repeated with the same idempotency key,
/// in seconds, as the key's description states it: `/wallet/transaction/execute`'s says "if a
/// request … fails due to a network connection error, then after a minimum delay of one
/// minute, you can retry the request with the same idempotency key". A client that repeats
/// such a call sooner (its own retries come within seconds) may not get the guarantee.
pub fn key_retry_delay(spec: &Value, op: &Value) -> Option<u64> {
    let body = follow(spec, op.get("requestBody")?);
    let schema = follow(spec, body.pointer("/content/application~1json/schema")?);
    let key = follow(spec, schema.pointer("/properties/idempotency_key")?);
    let text = key.get("description")?.as_str()?.to_ascii_lowercase();
    let after = &text[text.find("minimum delay of ")? + "minimum delay of ".len()..];
    let mut words = after.split(|c: char| !c.is_ascii_alphanumeric());
    let (count, unit) = (words.next()?, words.next()?);
    let count: u64 = match count {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "five" => 5,
        "ten" => 10,
        digits => digits.parse().ok()?,
    };
    let unit = match unit.trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        _ => return None,
    };
    Some(count.saturating_mul(unit))
}

fn param(spec: &Value, p: &Value) -> Result<Param, String> {
    let p = match p.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r
                .strip_prefix('#')
                .ok_or_else(|| format!("external parameter reference {r}"))?;
            spec.pointer(pointer)
                .ok_or_else(|| format!("parameter reference {r} not found"))?
        }
        None => p,
    };
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .ok_or("a parameter without a name")?;
    let location = match p.get("in").and_then(Value::as_str) {
        Some("path") => Location::Path,
        Some("query") => Location::Query,
        Some("header") => Location::Header,
        other => {
            return Err(format!(
                "parameter {name} is in {other:?}; only path, query and header are supported"
            ))
        }
    };
    let schema_type = p.pointer("/schema/type").and_then(Value::as_str);
    let ty = match schema_type {
        Some("string") | None => ParamType::String,
        Some("boolean") => ParamType::Bool,
        Some("integer") => ParamType::Integer,
        Some("number") => ParamType::Number,
        Some(other) => {
            return Err(format!(
                "parameter {name} has type {other}; only scalars are supported"
            ))
        }
    };
    Ok(Param {
        name: name.to_owned(),
        location,
        required: location == Location::Path || p.get("required") == Some(&Value::Bool(true)),
        ty,
        description: p
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// The `required` list of every component schema, in the spec's order, keyed by the Rust type
/// name typify gives the schema (`APIClientID` -> `ApiClientId`). `new` takes its arguments in
/// this order, which is the order of Plaid's docs.
pub fn required_orders(spec: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return out;
    };
    for (name, schema) in schemas {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            let names = required
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            out.insert(pascal_case(&snake_case(name)), names);
        }
    }
    out
}

/// The properties the spec requires and allows to be `null`, per component schema, keyed by
/// the Rust type name typify gives the schema, with their wire names. Read from the spec as
/// published: normalization makes such a property optional when it references a nullable
/// schema (so that `null` and a missing key both parse), which would otherwise make the
/// generated `Serialize` leave it out, where Plaid's answers carry `null`
/// (`Transaction.transaction_code`, `Item.error`). The generated `Serialize` writes these as
/// `null` when they are `None` (see `postprocess::write_required_nulls`).
pub fn required_nullable(
    spec: &Value,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut out = std::collections::BTreeMap::new();
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return out;
    };
    fn resolve<'a>(spec: &'a Value, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(r) => match spec.pointer(r.trim_start_matches('#')) {
                    Some(target) => node = target,
                    None => break,
                },
                None => break,
            }
        }
        node
    }
    let nullable = |property: &Value| {
        let is_nullable = |node: &Value| {
            node.get("nullable") == Some(&Value::Bool(true))
                || node
                    .get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|e| e.contains(&Value::Null))
        };
        is_nullable(property)
            || is_nullable(resolve(spec, property))
            || property
                .get("allOf")
                .and_then(Value::as_array)
                .is_some_and(|parts| parts.iter().any(|p| is_nullable(resolve(spec, p))))
    };
    for (name, schema) in schemas {
        // The schema and its `allOf` parts, one level: where Plaid writes its properties.
        let mut parts = vec![schema];
        if let Some(all_of) = schema.get("allOf").and_then(Value::as_array) {
            parts.extend(all_of.iter().map(|p| resolve(spec, p)));
        }
        let required: std::collections::BTreeSet<&str> = parts
            .iter()
            .filter_map(|p| p.get("required").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut names = std::collections::BTreeSet::new();
        for part in &parts {
            for (prop, schema) in part
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if required.contains(prop.as_str()) && nullable(schema) {
                    names.insert(prop.clone());
                }
            }
        }
        if !names.is_empty() {
            out.insert(pascal_case(&snake_case(name)), names);
        }
    }
    out
}

/// A wire name as a Rust field name: `consentId` -> `consent_id`,
/// `Plaid-New-User-API-Enabled` -> `plaid_new_user_api_enabled`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                });
            if boundary && !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// `fdx_consent_get` -> `FdxConsentGet`
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_key_retry_delay_is_read_from_the_keys_description() {
        let spec = serde_json::json!({
            "paths": { "/wallet/transaction/execute": { "post": { "requestBody": { "content": {
                "application/json": { "schema": { "$ref": "#/components/schemas/Execute" } }
            } } } } },
            "components": { "schemas": {
                "Execute": { "properties": {
                    "idempotency_key": { "$ref": "#/components/schemas/Key" } } },
                "Key": { "type": "string", "description": "The API supports idempotency. If a \
                    request fails due to a network connection error, then after a minimum \
                    delay of one minute, you can retry the request with the same key." },
                "Plain": { "properties": { "idempotency_key": {
                    "type": "string", "description": "A unique key." } } }
            } }
        });
        let op = &spec["paths"]["/wallet/transaction/execute"]["post"];
        assert_eq!(super::key_retry_delay(&spec, op), Some(60));
        let plain = serde_json::json!({ "requestBody": { "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/Plain" } } } } });
        assert_eq!(super::key_retry_delay(&spec, &plain), None);
        assert_eq!(super::key_retry_delay(&spec, &serde_json::json!({})), None);
        // The vendored spec: the two operations that state a wait (a refund's key says the
        // same as a wallet transaction's).
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/plaid.json"));
        if let Ok(text) = text {
            let vendored: serde_json::Value = serde_json::from_str(&text).unwrap();
            let waits: Vec<(String, u64)> = super::operations(&vendored)
                .unwrap()
                .into_iter()
                .filter_map(|op| op.key_retry_delay.map(|d| (op.path, d)))
                .collect();
            assert_eq!(
                waits,
                [
                    ("/payment_initiation/payment/reverse".to_owned(), 60),
                    ("/wallet/transaction/execute".to_owned(), 60)
                ]
            );
        }
    }

    #[test]
    fn a_documented_latency_is_read_from_the_operations_description() {
        let op = |text: &str| serde_json::json!({ "description": text });
        assert!(super::documents_latency(&op(
            "latency may be higher (typically less than 10 seconds, but occasionally up to 30 \
             seconds or more)"
        )));
        assert!(super::documents_latency(&op(
            "calling it immediately after Link may take up to one to two minutes to return."
        )));
        assert!(super::documents_latency(&op(
            "Note: This request may have Higher Latency for a new Item."
        )));
        assert!(!super::documents_latency(&op(
            "A public_token expires after 30 minutes."
        )));
        assert!(!super::documents_latency(&serde_json::json!({})));
        // The vendored spec: every operation that warns of its latency, the processor twins
        // and `/signal/evaluate` among them.
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/plaid.json"));
        if let Ok(text) = text {
            let vendored: serde_json::Value = serde_json::from_str(&text).unwrap();
            let slow: Vec<String> = super::operations(&vendored)
                .unwrap()
                .into_iter()
                .filter(|op| op.documents_latency)
                .map(|op| op.path)
                .collect();
            for path in [
                "/accounts/balance/get",
                "/investments/transactions/get",
                "/processor/investments/transactions/get",
                "/signal/evaluate",
                "/processor/signal/evaluate",
                "/transactions/refresh",
            ] {
                assert!(slow.iter().any(|p| p == path), "{path} in {slow:?}");
            }
            assert!(!slow.iter().any(|p| p == "/accounts/get"), "{slow:?}");
        }
    }

    #[test]
    fn required_nullable_properties_are_found_through_refs_and_all_of() {
        let spec = serde_json::json!({ "components": { "schemas": {
            "Code": { "type": "string", "nullable": true, "enum": ["a", null] },
            "Transaction": {
                "allOf": [{ "$ref": "#/components/schemas/Base" }],
                "required": ["transaction_code", "name", "optional_but_listed"],
                "properties": {
                    "transaction_code": { "$ref": "#/components/schemas/Code" },
                    "name": { "type": "string" },
                    "wrapped": { "allOf": [{ "$ref": "#/components/schemas/Code" }] },
                    "optional_but_listed": { "type": "string", "nullable": true }
                }
            },
            "Base": { "required": ["category"], "properties": { "category": { "type": "array", "nullable": true } } }
        } } });
        let found = required_nullable(&spec);
        let names: Vec<&str> = found["Transaction"].iter().map(String::as_str).collect();
        assert_eq!(
            names,
            ["category", "optional_but_listed", "transaction_code"]
        );
        assert!(!found.contains_key("Code"));
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn bounds_come_from_body_fields_and_their_objects_at_any_depth() {
        let spec = json!({
            "paths": { "/t/get": { "post": { "requestBody": { "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/Req" } } } } } } },
            "components": { "schemas": {
                "Req": { "type": "object", "properties": {
                    "count": { "type": "integer", "minimum": 1, "maximum": 500 },
                    "name": { "type": "string", "maxLength": 3 },
                    "options": { "$ref": "#/components/schemas/Opts" } } },
                "Opts": { "type": "object", "properties": {
                    "offset": { "allOf": [{ "$ref": "#/components/schemas/Offset" }] },
                    "deep": { "type": "object", "properties": {
                        "amount": { "$ref": "#/components/schemas/Refund" },
                        "days": { "allOf": [{ "$ref": "#/components/schemas/Days" },
                                            { "description": "How many days." }] } } } } },
                "Offset": { "type": "integer", "minimum": 0 },
                // Review round 18: bounds two objects down, and in an `allOf` of a `$ref`
                // and a description, were not read.
                "Refund": { "allOf": [{ "$ref": "#/components/schemas/Amount" },
                                      { "type": "object", "description": "d" }] },
                // A bounded number given as an `allOf` of a `$ref` and a description.
                "Days": { "type": "integer", "minimum": 1, "maximum": 730 },
                "Amount": { "type": "object", "properties": {
                    "value": { "type": "number", "minimum": 0.01 } } },
            } },
        });
        let found = &bounds(&spec)[&("POST".to_owned(), "/t/get".to_owned())];
        let paths: Vec<String> = found.iter().map(|b| b.path.join(".")).collect();
        assert_eq!(
            paths,
            [
                "count",
                "options.deep.amount.value",
                "options.deep.days",
                "options.offset"
            ]
        );
        assert_eq!(found[0].max.as_ref().and_then(|n| n.as_i64()), Some(500));
        assert_eq!(found[1].min.as_ref().and_then(|n| n.as_f64()), Some(0.01));
        assert_eq!(found[2].max.as_ref().and_then(|n| n.as_i64()), Some(730));
        assert_eq!(found[3].min.as_ref().and_then(|n| n.as_i64()), Some(0));
        assert!(found[3].max.is_none());
    }

    #[test]
    fn reads_operations_with_resolved_parameters() {
        let spec = json!({
            "paths": {
                "/fdx/consents/{consentId}": {
                    "x-hidden-from-docs": true,
                    "get": { "operationId": "fdxConsentGet", "parameters": [
                        { "in": "path", "name": "consentId", "schema": { "type": "string" } } ] } },
                "/user/create": { "post": {
                    "operationId": "userCreate", "requestBody": {},
                    "parameters": [{ "$ref": "#/components/parameters/NewApi" }] } },
                "/b": { "parameters": [{ "in": "query", "name": "n", "schema": { "type": "integer" } }],
                        "post": { "parameters": [{ "in": "query", "name": "n", "required": true,
                                                   "schema": { "type": "integer" } }] } },
            },
            "components": { "parameters": { "NewApi": {
                "in": "header", "name": "Plaid-New-User-API-Enabled", "description": "d",
                "schema": { "type": "boolean" } } } }
        });
        let ops = operations(&spec).unwrap();
        assert_eq!(ops.len(), 3);
        let find = |path: &str| ops.iter().find(|o| o.path == path).unwrap();
        let fdx = find("/fdx/consents/{consentId}");
        assert_eq!((fdx.method.as_str(), fdx.has_body), ("GET", false));
        assert_eq!(fdx.params[0].location, Location::Path);
        assert!(
            fdx.params[0].required,
            "path parameters are always required"
        );
        assert_eq!(fdx.path_pattern(), "/fdx/consents/{}");
        let user = find("/user/create");
        assert!(user.has_body);
        assert_eq!(
            user.params[0],
            Param {
                name: "Plaid-New-User-API-Enabled".into(),
                location: Location::Header,
                required: false,
                ty: ParamType::Bool,
                description: Some("d".into()),
            }
        );
        assert_eq!(
            find("/b").params.len(),
            1,
            "operation-level overrides path-level"
        );
        assert!(find("/b").params[0].required);
    }

    #[test]
    fn unsupported_parameters_name_the_operation() {
        let spec = json!({ "paths": { "/a": { "post": { "parameters": [
            { "in": "cookie", "name": "c" } ] } } } });
        let e = operations(&spec).unwrap_err();
        assert!(
            e.contains("operation POST /a") && e.contains("cookie"),
            "{e}"
        );
        let spec =
            json!({ "paths": { "/a": { "post": { "parameters": [{ "$ref": "#/nowhere" }] } } } });
        assert!(operations(&spec).unwrap_err().contains("not found"));
    }

    #[test]
    fn required_orders_keep_the_spec_order_under_the_rust_name() {
        let spec = json!({ "components": { "schemas": {
            "SandboxPublicTokenCreateRequest": { "required": ["institution_id", "initial_products"] },
            "APIClientID": { "type": "string" },
        } } });
        let orders = required_orders(&spec);
        assert_eq!(
            orders["SandboxPublicTokenCreateRequest"],
            ["institution_id", "initial_products"]
        );
        assert!(
            !orders.contains_key("ApiClientId"),
            "no required list, no entry"
        );
        assert_eq!(pascal_case(&snake_case("APIClientID")), "ApiClientId");
    }

    #[test]
    fn names() {
        assert_eq!(snake_case("consentId"), "consent_id");
        assert_eq!(snake_case("OAUTH-STATE-ID"), "oauth_state_id");
        assert_eq!(
            snake_case("Plaid-New-User-API-Enabled"),
            "plaid_new_user_api_enabled"
        );
        assert_eq!(snake_case("recipientId"), "recipient_id");
        assert_eq!(snake_case("HTTPServer2Go"), "http_server2_go");
        assert_eq!(pascal_case("fdx_consent_get"), "FdxConsentGet");
        assert_eq!(path_pattern("/a/{x}/b/{y}"), "/a/{}/b/{}");
    }
}
