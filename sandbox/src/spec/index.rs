//! The index of a spec's operations, and the public API: request checks, answers, response
//! checks.

use serde_json::{json, Map, Value};

use super::binary;
use super::echo::echo;
use super::repair::repair;
use super::router::Router;
use super::schema::{Compiler, Merged, SchemaId, Schemas};
use super::synth::Synth;
use super::validate::{Kind, Mode, Validator};

/// The HTTP methods an OpenAPI path item may hold, in the order operations are listed.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// An operation of the spec.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct Operation {
    /// The spec's `operationId` (or `METHOD path` when it has none).
    pub operation_id: String,
    /// The HTTP method, upper case (`POST`).
    pub method: String,
    /// The path template (`/accounts/get`, `/fdx/consents/{consentId}`).
    pub path: String,
    /// The success status the answer carries: 200, or the operation's first 2xx code when it
    /// has no 200 (`/user/create` answers 201).
    pub status: u16,
    /// Whether it takes no credentials (the spec's `security: []`, as `/categories/get`).
    pub open: bool,
    pub(crate) request: Option<SchemaId>,
    pub(crate) response: Response,
}

#[derive(Debug, Clone)]
pub(crate) enum Response {
    Json {
        schema: Option<SchemaId>,
        example: Option<Value>,
    },
    Binary {
        content_type: &'static str,
        #[cfg_attr(not(test), allow(dead_code))]
        schema: Option<SchemaId>,
    },
}

impl Operation {
    /// The content type of the success answer: `application/json`, `application/pdf`,
    /// `application/zip`, or `application/octet-stream` for another binary type.
    pub fn content_type(&self) -> &'static str {
        match &self.response {
            Response::Json { .. } => "application/json",
            Response::Binary { content_type, .. } => content_type,
        }
    }

    /// Whether the success answer is a file rather than JSON.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn is_binary(&self) -> bool {
        matches!(self.response, Response::Binary { .. })
    }

    /// Whether the spec gives an example of the success answer.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn has_example(&self) -> bool {
        matches!(
            self.response,
            Response::Json {
                example: Some(_),
                ..
            }
        )
    }

    /// Whether the operation has a JSON request body schema.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn has_request_schema(&self) -> bool {
        self.request.is_some()
    }
}

/// Why a request is refused, in Plaid's vocabulary: every problem is an `INVALID_REQUEST`
/// error answered with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestProblem {
    /// Always `INVALID_REQUEST`.
    pub error_type: &'static str,
    /// `MISSING_FIELDS`, `UNKNOWN_FIELDS`, `INVALID_FIELD` or `INVALID_BODY`.
    pub error_code: &'static str,
    /// Plaid's message, e.g. `the following required fields are missing: access_token`.
    pub error_message: String,
    /// The fields concerned, as dotted paths (`options.count`, `country_codes[1]`).
    pub fields: Vec<String>,
    /// Always 400.
    pub http_status: u16,
}

impl RequestProblem {
    fn new(error_code: &'static str, error_message: String, fields: Vec<String>) -> Self {
        RequestProblem {
            error_type: "INVALID_REQUEST",
            error_code,
            error_message,
            fields,
            http_status: 400,
        }
    }

    /// The problem as the body of Plaid's error answer (`PlaidError`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn to_plaid_error(&self, request_id: &str) -> Value {
        json!({
            "error_type": self.error_type,
            "error_code": self.error_code,
            "error_code_reason": null,
            "error_message": self.error_message,
            "display_message": null,
            "request_id": request_id,
            "causes": [],
            "status": self.http_status,
            "documentation_url": "https://plaid.com/docs/errors/invalid-request/",
            "suggested_action": null,
        })
    }
}

/// A success answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A JSON body.
    Json(Value),
    /// A file.
    Binary {
        /// `application/pdf`, `application/zip`, or `application/octet-stream`.
        content_type: &'static str,
        /// The document.
        body: Vec<u8>,
    },
}

/// How much of a schema [`SpecIndex::synthesize_request`] fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Required properties only.
    Required,
    /// Every property, optional ones included (recursive ones once).
    All,
}

/// The operations of one spec, with their compiled schemas.
#[derive(Debug)]
pub struct SpecIndex {
    version: String,
    schemas: Schemas,
    operations: Vec<Operation>,
    router: Router,
}

/// Follows a `$ref` to a spec component (a request body, a response, an example).
pub(crate) fn deref<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    for _ in 0..16 {
        let Some(r) = node.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match r.strip_prefix('#').and_then(|p| spec.pointer(p)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

/// The success response of an operation: `200`, else the first `2xx`.
pub(crate) fn success<'a>(spec: &'a Value, op: &'a Value) -> Option<(u16, &'a Value)> {
    let responses = op.get("responses")?.as_object()?;
    let code = if responses.contains_key("200") {
        "200"
    } else {
        responses
            .keys()
            .find(|k| k.len() == 3 && k.starts_with('2') && k.parse::<u16>().is_ok())?
            .as_str()
    };
    let status = code.parse().ok()?;
    Some((status, deref(spec, responses.get(code)?)))
}

/// The JSON media type of a `content` map: `application/json`, else any `…/json` or
/// `…+json`.
pub(crate) fn json_media(content: &Value) -> Option<(&str, &Value)> {
    let content = content.as_object()?;
    if let Some(m) = content.get("application/json") {
        return Some(("application/json", m));
    }
    content
        .iter()
        .find(|(k, _)| {
            let base = k.split(';').next().unwrap_or("").trim();
            base.ends_with("/json") || base.ends_with("+json")
        })
        .map(|(k, v)| (k.as_str(), v))
}

/// The binary media type of a `content` map without JSON: its name, and the `&'static` name
/// the answer carries.
pub(crate) fn binary_media(content: &Value) -> Option<(&str, &'static str, &Value)> {
    let (name, media) = content.as_object()?.iter().next()?;
    let base = name.split(';').next().unwrap_or("").trim();
    let static_name = match base {
        "application/pdf" => "application/pdf",
        "application/zip" => "application/zip",
        _ => "application/octet-stream",
    };
    Some((name.as_str(), static_name, media))
}

/// The example of a media type: `example`, else the first of `examples` (`value`).
pub(crate) fn media_example(spec: &Value, media: &Value) -> Option<Value> {
    if let Some(e) = media.get("example") {
        return Some(e.clone());
    }
    let examples = media.get("examples")?.as_object()?;
    examples
        .values()
        .find_map(|e| deref(spec, e).get("value").cloned())
}

/// The JSON request body schema of an operation.
pub(crate) fn request_schema<'a>(spec: &'a Value, op: &'a Value) -> Option<&'a Value> {
    let body = deref(spec, op.get("requestBody")?);
    let (_, media) = json_media(body.get("content")?)?;
    media.get("schema")
}

impl SpecIndex {
    /// Builds the index from the spec as published (a JSON value; YAML is converted by the
    /// caller), or from its [`digest`](SpecIndex::digest). Fails when the spec has no
    /// `paths`, or a schema an operation reaches is malformed or references nothing.
    pub fn new(spec: Value) -> Result<SpecIndex, String> {
        let version = spec
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("the spec has no paths object")?;
        let mut compiler = Compiler::new(&spec);
        let mut operations = Vec::new();
        let mut router = Router::default();
        for (path, item) in paths {
            let Some(item) = deref(&spec, item).as_object() else {
                continue;
            };
            for method in METHODS {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let upper = method.to_ascii_uppercase();
                let at = format!("{upper} {path}");
                let operation_id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map_or_else(|| at.clone(), str::to_owned);
                let request = match request_schema(&spec, op) {
                    Some(schema) => Some(
                        compiler
                            .compile(schema)
                            .map_err(|e| format!("{at} request: {e}"))?,
                    ),
                    None => None,
                };
                let (status, response) = match success(&spec, op) {
                    None => (
                        200,
                        Response::Json {
                            schema: None,
                            example: None,
                        },
                    ),
                    Some((status, resp)) => {
                        let content = resp.get("content").unwrap_or(&Value::Null);
                        let response = if let Some((_, media)) = json_media(content) {
                            let schema = match media.get("schema") {
                                Some(s) => Some(
                                    compiler
                                        .compile(s)
                                        .map_err(|e| format!("{at} response: {e}"))?,
                                ),
                                None => None,
                            };
                            Response::Json {
                                schema,
                                example: media_example(&spec, media),
                            }
                        } else if let Some((_, content_type, media)) = binary_media(content) {
                            let schema = match media.get("schema") {
                                Some(s) => Some(
                                    compiler
                                        .compile(s)
                                        .map_err(|e| format!("{at} response: {e}"))?,
                                ),
                                None => None,
                            };
                            Response::Binary {
                                content_type,
                                schema,
                            }
                        } else {
                            Response::Json {
                                schema: None,
                                example: None,
                            }
                        };
                        (status, response)
                    }
                };
                router.add(&upper, path, operations.len());
                let open = op
                    .get("security")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty);
                operations.push(Operation {
                    operation_id,
                    method: upper,
                    path: path.clone(),
                    status,
                    open,
                    request,
                    response,
                });
            }
        }
        Ok(SpecIndex {
            version,
            schemas: compiler.finish(),
            operations,
            router,
        })
    }

    /// A smaller copy of `spec` holding only what [`SpecIndex::new`] reads: `new(digest(s))`
    /// answers exactly like `new(s)`.
    #[cfg(test)]
    pub fn digest(spec: &Value) -> Value {
        super::digest::digest(spec)
    }

    /// The spec's `info.version` (`2020-09-14_1.697.4`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every operation, in the order of the spec's paths.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.iter()
    }

    /// The operation with this `operationId`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn operation(&self, operation_id: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.operation_id == operation_id)
    }

    /// The operation serving `method` (any case) at `path` (a query string and a trailing
    /// slash are ignored; templated paths such as `/fdx/consents/{consentId}` match any
    /// segment, literal segments first).
    pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        self.router
            .find(method, path)
            .and_then(|i| self.operations.get(i))
    }

    /// Checks a request body against the operation's request schema, as Plaid does. The
    /// first problem found is reported, in this order: a body that is not a JSON object
    /// (`INVALID_BODY`); fields the schema does not declare (`UNKNOWN_FIELDS`, every one);
    /// required fields absent or null (`MISSING_FIELDS`, every one); the first field breaking
    /// a rule (`INVALID_FIELD`). `client_id` and `secret` are always allowed and never
    /// required. An operation without a JSON request body accepts anything.
    pub fn check_request(&self, op: &Operation, body: &Value) -> Result<(), RequestProblem> {
        let Some(schema) = op.request else {
            return Ok(());
        };
        if !body.is_object() {
            return Err(RequestProblem::new(
                "INVALID_BODY",
                "the request body must be a JSON object".to_owned(),
                Vec::new(),
            ));
        }
        let violations = Validator::new(&self.schemas, Mode::Request).violations(body, schema);
        let fields_of = |kind: &Kind| -> Vec<String> {
            violations
                .iter()
                .filter(|v| v.kind == *kind)
                .map(|v| v.field())
                .collect()
        };
        let unknown = fields_of(&Kind::Unknown);
        if !unknown.is_empty() {
            return Err(RequestProblem::new(
                "UNKNOWN_FIELDS",
                format!(
                    "the following fields are not recognized by this endpoint: {}",
                    unknown.join(", ")
                ),
                unknown,
            ));
        }
        let missing = fields_of(&Kind::Missing);
        if !missing.is_empty() {
            return Err(RequestProblem::new(
                "MISSING_FIELDS",
                format!(
                    "the following required fields are missing: {}",
                    missing.join(", ")
                ),
                missing,
            ));
        }
        match violations.first() {
            None => Ok(()),
            Some(v) => Err(RequestProblem::new(
                "INVALID_FIELD",
                v.message(),
                vec![v.field()],
            )),
        }
    }

    /// The success answer of an operation: the spec's example repaired against the response
    /// schema (or a value synthesized from the schema when there is none), with the request's
    /// values echoed into same-named fields and `request_id` set; a minimal PDF or ZIP for a
    /// binary operation. Deterministic: the same request and seed give the same answer.
    pub fn answer(&self, op: &Operation, request: &Value, request_id: &str, seed: u64) -> Answer {
        match &op.response {
            Response::Binary { content_type, .. } => Answer::Binary {
                content_type,
                body: match *content_type {
                    "application/pdf" => binary::pdf(&format!(
                        "Offline Plaid emulator: {} {}",
                        op.method, op.path
                    )),
                    "application/zip" => binary::zip(),
                    _ => Vec::new(),
                },
            },
            Response::Json { schema, example } => {
                let Some(schema) = *schema else {
                    let mut body = example.clone().unwrap_or_else(|| json!({}));
                    if let Value::Object(map) = &mut body {
                        map.insert("request_id".into(), Value::String(request_id.to_owned()));
                    }
                    return Answer::Json(body);
                };
                Answer::Json(self.json_answer(schema, example.as_ref(), request, request_id, seed))
            }
        }
    }

    /// A listing answered from the spec is its last page: every call gives the same stateless
    /// answer, so `has_more: true` (as Plaid's examples say) or a next cursor would send a
    /// paginator back for the same page again and again. `has_more` becomes `false`; where
    /// there is no `has_more`, a `next_cursor` becomes empty (or null, whichever its schema
    /// takes). Where there is one, the cursor stays: a sync-style answer
    /// (`/processor/transactions/sync`) hands back the cursor to store, and an empty one
    /// would mean "not ready yet". A later page asked for (an `offset` or an `after_id` past
    /// 0) has empty lists, so a listing that ends only on a short page ends there.
    fn last_page(&self, body: &mut Value, schema: SchemaId, request: &Value) {
        let merged = self.schemas.merged(schema);
        let Value::Object(map) = body else {
            return;
        };
        let takes = |key: &str, value: &Value| self.takes(&merged, key, value);
        let past_zero = |v: Option<&Value>| v.and_then(Value::as_u64).is_some_and(|n| n > 0);
        let later = past_zero(request.get("offset"))
            || past_zero(request.pointer("/options/offset"))
            || past_zero(request.get("after_id"));
        if later {
            let empty = Value::Array(Vec::new());
            let lists: Vec<String> = map
                .iter()
                .filter(|(key, value)| value.is_array() && takes(key, &empty))
                .map(|(key, _)| key.clone())
                .collect();
            for key in lists {
                map.insert(key, empty.clone());
            }
        }
        if map.get("has_more") == Some(&Value::Bool(true)) && takes("has_more", &Value::Bool(false))
        {
            map.insert("has_more".to_owned(), Value::Bool(false));
        }
        if merged.property("has_more").is_none()
            && map
                .get("next_cursor")
                .is_some_and(|c| c.as_str().is_some_and(|c| !c.is_empty()))
        {
            let end = [Value::String(String::new()), Value::Null]
                .into_iter()
                .find(|end| takes("next_cursor", end));
            if let Some(end) = end {
                map.insert("next_cursor".to_owned(), end);
            }
        }
    }

    fn json_answer(
        &self,
        schema: SchemaId,
        example: Option<&Value>,
        request: &Value,
        request_id: &str,
        seed: u64,
    ) -> Value {
        let mut synth = Synth::new(&self.schemas, seed, Fill::Required, Mode::Response);
        let mut base = match example {
            Some(e) => repair(&self.schemas, &mut synth, e, schema, "", 0),
            None => synth.value(schema, "", 0, 0),
        };
        self.last_page(&mut base, schema, request);
        let valid = |v: &Value| Validator::is_valid(&self.schemas, Mode::Response, v, schema);
        let mut body = base.clone();
        echo(&self.schemas, &mut body, schema, request);
        // An echo can only break a rule that spans fields (`uniqueItems` over echoed items):
        // then the answer goes without it.
        if !valid(&body) {
            body = base;
        }
        let merged = self.schemas.merged(schema);
        let id_value = Value::String(request_id.to_owned());
        if let Value::Object(map) = &mut body {
            if self.takes(&merged, "request_id", &id_value) {
                map.insert("request_id".to_owned(), id_value);
            }
        }
        body
    }

    /// Whether an answer's property `key` (of the merged schema) has room for `value`.
    fn takes(&self, merged: &Merged, key: &str, value: &Value) -> bool {
        merged.property(key).is_some_and(|ids| {
            ids.iter()
                .all(|id| Validator::is_valid(&self.schemas, Mode::Response, value, *id))
        })
    }

    /// Every way `body` breaks the operation's success response schema, one sentence each
    /// (`institution.name must be a string`); empty when it is valid, or when the operation
    /// declares no schema. For a binary operation, `body` is checked against the declared
    /// schema of the file (a string).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn check_response(&self, op: &Operation, body: &Value) -> Vec<String> {
        let schema = match &op.response {
            Response::Json { schema, .. } | Response::Binary { schema, .. } => *schema,
        };
        let Some(schema) = schema else {
            return Vec::new();
        };
        Validator::new(&self.schemas, Mode::Response)
            .violations(body, schema)
            .iter()
            .map(|v| v.message())
            .collect()
    }

    /// A request body synthesized from the operation's request schema: required fields only,
    /// or every field (`Fill::All`). It passes [`SpecIndex::check_request`]. `{}` for an
    /// operation without a JSON request body.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn synthesize_request(&self, op: &Operation, fill: Fill, seed: u64) -> Value {
        match op.request {
            Some(schema) => {
                Synth::new(&self.schemas, seed, fill, Mode::Request).value(schema, "", 0, 0)
            }
            None => Value::Object(Map::new()),
        }
    }
}
