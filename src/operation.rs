//! What the client knows about each operation, and the trait that ties a request type to it.

use crate::Error;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Static facts about one operation of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationInfo {
    /// The client method's name (`transactions_sync`); also the `operation` in errors and
    /// tracing spans.
    pub name: &'static str,
    /// The HTTP method (`POST` for every Plaid operation).
    pub method: &'static str,
    /// The path (`/transactions/sync`).
    pub path: &'static str,
    /// Whether repeating the call is safe.
    pub kind: OperationKind,
    /// Whether Plaid documents the call as slow (it gets the longer default timeout).
    pub slow: bool,
    /// Whether the request has a JSON body (every `POST`); `GET` operations send none.
    pub has_body: bool,
    /// What a successful call returns.
    pub response: ResponseKind,
    /// Whether the request takes an optional `idempotency_key`: when the caller leaves it
    /// empty, the client generates one (the same on every attempt of the call), so the write
    /// is retried safely.
    pub optional_idempotency_key: bool,
    /// The wait Plaid requires before a failed call is repeated with the same idempotency key,
    /// where the spec states one (`/wallet/transaction/execute`: one minute). The client
    /// never repeats such a call itself once it may have reached Plaid (its retries come
    /// within seconds); after a timeout or a `5xx`, repeat it with the same key after this
    /// wait.
    pub key_retry_delay: Option<std::time::Duration>,
    /// The `Accept` header sent: the media types the spec declares for the success response
    /// (`application/pdf` for a file), with `application/json` for Plaid's errors.
    pub accept: &'static str,
}

/// Whether an operation may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperationKind {
    /// Reads state: safe to retry.
    Read,
    /// Changes state or is billed per call: retried only with an idempotency key, or when the
    /// request never left the machine.
    Write,
    /// Reads state, but Plaid bills each answer (`/accounts/balance/get` and
    /// `/processor/balance/get`, Balance's per-request fee; `/asset_report/pdf/get`, a billing
    /// event per PDF): retried after a `429`, or a `500` or `503` carrying Plaid's error object
    /// (Plaid refused or failed it, so no answer was billed), and when the request never left
    /// the machine, but not after a timeout, a broken connection or any other `5xx` (a
    /// gateway's `502`/`504`, a CDN's `520`-`524`, a proxy's own `500`/`503` page), when Plaid
    /// may have answered, and billed, already.
    BilledRead,
}

/// What a successful call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseKind {
    /// A JSON body.
    Json,
    /// A file (PDF or ZIP), returned as bytes.
    Binary,
    /// No body.
    Empty,
}

/// A request type of the API: each generated `…Request` implements it, tying it to its
/// operation and response type. [`PlaidClient::send`](crate::PlaidClient::send) takes any of
/// them, which is what generic code (pagination, your own wrappers) builds on.
///
/// You can implement it for your own request type to call an endpoint that is not in the spec
/// this build was generated from, with the same headers, retries, timeouts and errors:
///
/// ```
/// use plaid_sdk::{Error, Operation, OperationInfo, OperationKind, RawResponse, ResponseKind};
///
/// #[derive(serde::Serialize)]
/// struct BetaThingGet { thing_id: String }
///
/// #[derive(serde::Deserialize)]
/// struct BetaThing { request_id: String }
///
/// impl Operation for BetaThingGet {
///     type Response = BetaThing;
///     const INFO: &'static OperationInfo =
///         &OperationInfo::new("beta_thing_get", "/beta/thing/get", OperationKind::Read);
///     fn decode(raw: RawResponse) -> Result<BetaThing, Error> {
///         raw.json()
///     }
/// }
/// ```
pub trait Operation: Serialize + Send + Sync {
    /// What a successful call returns.
    type Response;

    /// The operation's path, method and retry facts.
    const INFO: &'static OperationInfo;

    /// The request's idempotency key, if it has one set. A write with a key is retried like a
    /// read, with the same key on every attempt.
    fn idempotency_key(&self) -> Option<&str> {
        None
    }

    /// The path to call, parameters filled in and percent-encoded (default: [`INFO`]'s path).
    ///
    /// [`INFO`]: Self::INFO
    fn path(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(Self::INFO.path)
    }

    /// Headers the request sets besides the client's own (header parameters).
    fn headers(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// Checks the request for caller mistakes before anything is sent (an empty access token,
    /// an out-of-range `count`). The message says what is wrong.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// Turns a successful response into [`Response`](Self::Response).
    fn decode(raw: RawResponse) -> Result<Self::Response, Error>;
}

impl OperationInfo {
    /// Describes a JSON `POST` operation (for your own [`Operation`] implementations).
    pub const fn new(name: &'static str, path: &'static str, kind: OperationKind) -> Self {
        Self {
            name,
            method: "POST",
            path,
            kind,
            slow: false,
            has_body: true,
            response: ResponseKind::Json,
            optional_idempotency_key: false,
            key_retry_delay: None,
            accept: "application/json",
        }
    }
}

/// A new idempotency key: `plaid-sdk-` and 32 hex digits (Plaid allows 50 characters). Keys
/// must be unique, not secret.
pub(crate) fn new_idempotency_key() -> String {
    use crate::retry::random_u64;
    format!("plaid-sdk-{:016x}{:016x}", random_u64(), random_u64())
}

/// A request body serialized by serde_json (a JSON object without an `idempotency_key`: the
/// field is skipped when empty) with the key added as its first field.
pub(crate) fn with_idempotency_key(body: Vec<u8>, key: &str) -> Vec<u8> {
    let field = format!("\"idempotency_key\":{}", serde_json::Value::from(key));
    let rest = body.strip_prefix(b"{").unwrap_or(&body);
    let mut out = Vec::with_capacity(body.len() + field.len() + 1);
    out.push(b'{');
    out.extend_from_slice(field.as_bytes());
    if rest.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    out
}

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters.
#[allow(dead_code)] // Generated code uses it for operations with parameters; not every spec has them.
pub(crate) fn encode_path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Rejects a path parameter that would not name one resource: empty, `.` or `..`.
#[allow(dead_code)] // Generated code uses it for operations with parameters; not every spec has them.
pub(crate) fn check_path_segment(name: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(format!(
            "path parameter {name} must be a non-empty identifier, not {value:?}"
        ));
    }
    Ok(())
}

/// A number a request field can hold, for [`check_bound`].
pub(crate) trait Bounded {
    fn as_f64(&self) -> f64;
}

macro_rules! bounded {
    ($($t:ty),*) => { $(impl Bounded for $t { fn as_f64(&self) -> f64 { *self as f64 } })* };
}
bounded!(i64, i32, u64, u32, f64, f32);

/// Rejects a number outside the spec's `minimum`/`maximum` (inclusive) before sending.
#[allow(dead_code)] // Generated code uses it when the spec has bounds.
pub(crate) fn check_bound(
    field: &str,
    value: &impl Bounded,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(), String> {
    let v = value.as_f64();
    let below = min.is_some_and(|m| v < m);
    let above = max.is_some_and(|m| v > m);
    if !(below || above || v.is_nan()) {
        return Ok(());
    }
    Err(match (min, max) {
        (Some(lo), Some(hi)) => format!("{field} must be between {lo} and {hi}, not {v}"),
        (Some(lo), None) => format!("{field} must be at least {lo}, not {v}"),
        (None, Some(hi)) => format!("{field} must be at most {hi}, not {v}"),
        (None, None) => format!("{field} must be a number, not {v}"),
    })
}

/// A date field, required or optional, for [`check_date_range`].
pub(crate) trait DateField {
    fn date(&self) -> Option<chrono::NaiveDate>;
}

impl DateField for chrono::NaiveDate {
    fn date(&self) -> Option<chrono::NaiveDate> {
        Some(*self)
    }
}

impl DateField for Option<chrono::NaiveDate> {
    fn date(&self) -> Option<chrono::NaiveDate> {
        *self
    }
}

/// Rejects a `start_date` after its `end_date` before sending.
#[allow(dead_code)] // Generated code uses it for requests with a date range.
pub(crate) fn check_date_range(start: &impl DateField, end: &impl DateField) -> Result<(), String> {
    match (start.date(), end.date()) {
        (Some(s), Some(e)) if s > e => Err(format!("start_date {s} is after end_date {e}")),
        _ => Ok(()),
    }
}

/// Appends a query string (form-encoded) to a path, when there are pairs.
#[allow(dead_code)] // Generated code uses it for operations with parameters; not every spec has them.
pub(crate) fn with_query(mut path: String, pairs: &[(&str, String)]) -> String {
    if !pairs.is_empty() {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        path.push('?');
        path.push_str(&q.finish());
    }
    path
}

/// A successful response, before decoding. Its `Debug` shows the operation, the status and
/// the body's length, never the body (an exchange's holds the access token).
#[derive(Clone)]
pub struct RawResponse {
    pub(crate) operation: &'static str,
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawResponse")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl RawResponse {
    /// A response as received: for tests, and for decoding a stored body.
    pub fn new(operation: &'static str, status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            operation,
            status,
            body: body.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as bytes (files).
    pub fn into_bytes(self) -> Bytes {
        self.body
    }

    /// Decodes the JSON body. On failure the error names the JSON path that failed and
    /// Plaid's `request_id`; values from the body are not repeated in it.
    pub fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        // One UTF-8 check over the whole body, then serde_json's `str` reader, which does not
        // check each string again: a sixth faster on a large page than `from_slice`.
        match std::str::from_utf8(&self.body) {
            Ok(text) => serde_json::from_str(text).map_err(|e| self.decode_error(&e)),
            Err(e) => Err(self.not_utf8(e.valid_up_to())),
        }
    }

    /// A body that is not UTF-8 (so not JSON): the path is where the bad byte is.
    #[cold]
    fn not_utf8(&self, at: usize) -> Error {
        let before = &self.body[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        Error::Decode {
            operation: self.operation,
            status: self.status,
            path: crate::json_path::path_at(&self.body, line, column, false),
            message: format!("the body is not valid UTF-8 (byte {at})"),
            request_id: sniff_request_id(&self.body).map(str::to_owned),
        }
    }

    /// Describes a decode failure: the JSON path comes from the error's position in the
    /// body (see `json_path`), so no second, path-tracking deserializer is compiled per type.
    #[cold]
    fn decode_error(&self, e: &serde_json::Error) -> Error {
        let message = describe(e);
        let missing = message.starts_with("missing field");
        Error::Decode {
            operation: self.operation,
            status: self.status,
            path: crate::json_path::path_at(&self.body, e.line(), e.column(), missing),
            message,
            request_id: sniff_request_id(&self.body).map(str::to_owned),
        }
    }
}

/// A serde_json error as text, with any value it quotes from the body removed: a value can be
/// a balance, a name, an account number or a token. What stays is what the error is about:
/// the kind of value found (`floating point`, `string`, …), what was expected (which comes
/// from this crate's types), and the position.
///
/// serde's messages quote a value in three shapes: `invalid type: <unexpected>, expected …`,
/// `invalid value: <unexpected>, expected …` and `unknown variant|field `<value>`, expected
/// …`. The value sits between the prefix and the last `, expected `; the expected part is
/// written by the type, never by the body. Any other message is serde_json's own syntax error
/// or a field name of this crate's types, and quotes nothing.
pub(crate) fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let (message, position) = match text.rfind(" at line ") {
        Some(i) => text.split_at(i),
        None => (text.as_str(), ""),
    };
    for prefix in [
        "invalid type: ",
        "invalid value: ",
        "unknown variant ",
        "unknown field ",
    ] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let (found, expected) = match rest.rfind(", expected ") {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        return format!("{prefix}{}{expected}{position}", value_kind(found));
    }
    text
}

/// What kind of value serde's `Unexpected` describes, without the value: `floating point
/// (value not shown)`, `map`, `null`.
fn value_kind(unexpected: &str) -> &'static str {
    const WITH_VALUE: &[(&str, &str)] = &[
        ("boolean", "boolean (value not shown)"),
        ("integer", "integer (value not shown)"),
        ("floating point", "floating point (value not shown)"),
        ("character", "character (value not shown)"),
        ("string", "string (value not shown)"),
        ("byte array", "byte array (value not shown)"),
        ("`", "(value not shown)"),
    ];
    const WITHOUT_VALUE: &[(&str, &str)] = &[
        ("unit value", "null"),
        ("null", "null"),
        ("Option value", "an optional value"),
        ("sequence", "sequence"),
        ("map", "map"),
        ("newtype struct", "newtype struct"),
        ("enum", "enum"),
        ("unit variant", "unit variant"),
        ("newtype variant", "newtype variant"),
        ("tuple variant", "tuple variant"),
        ("struct variant", "struct variant"),
        ("number", "number"),
    ];
    WITHOUT_VALUE
        .iter()
        .find(|(kind, _)| unexpected == *kind)
        .or_else(|| {
            WITH_VALUE
                .iter()
                .find(|(kind, _)| unexpected.starts_with(kind))
        })
        .map_or("a value (not shown)", |(_, shown)| shown)
}

/// Finds Plaid's top-level `request_id` in a JSON body without parsing it: the last
/// `"request_id": "<id>"` (Plaid writes it last). Ids are short and unescaped; anything else is
/// ignored.
pub(crate) fn sniff_request_id(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"request_id\"";
    let at = body.windows(KEY.len()).rposition(|w| w == KEY)?;
    let rest = &body[at + KEY.len()..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start()
        .strip_prefix(b"\"")?;
    let end = rest.iter().take(128).position(|&b| b == b'"')?;
    let id = std::str::from_utf8(&rest[..end]).ok()?;
    id.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .then_some(id)
}

/// What the generated `operations::__send_json` and `operations::__decode_response` (behind
/// `operations-by-name`) call: each of their arms names its request type and these do the work, so
/// rustc checks one generic body instead of one body per operation (the two tables took 3 s
/// of type and borrow checking when every arm spelled the call out).
#[cfg(feature = "operations-by-name")]
pub(crate) mod by_name {
    use super::{Operation, RawResponse};
    use crate::{Error, PlaidClient};
    use serde::de::DeserializeOwned;
    use serde_json::{Map, Value};
    use std::borrow::Borrow;

    /// Sets a request's path, query and header parameters from JSON, by their names in the
    /// spec; the message says which one did not fit.
    pub(crate) type SetParams<O> = fn(&mut O, &Map<String, Value>) -> Result<(), String>;

    /// Writes a typed response back as JSON.
    pub(crate) type Write<R> = fn(R) -> Result<Value, String>;

    /// For an operation without parameters.
    pub(crate) fn no_params<O>(_: &mut O, _: &Map<String, Value>) -> Result<(), String> {
        Ok(())
    }

    /// A JSON response, as JSON.
    pub(crate) fn write_json<R: serde::Serialize>(response: R) -> Result<Value, String> {
        serde_json::to_value(&response).map_err(|e| e.to_string())
    }

    /// A file, as its length.
    pub(crate) fn write_len(response: bytes::Bytes) -> Result<Value, String> {
        Ok(Value::from(response.len()))
    }

    /// Anything, as `null` (an empty response; a file where only decoding is checked).
    pub(crate) fn write_null<R>(_: R) -> Result<Value, String> {
        Ok(Value::Null)
    }

    /// Reads `O` from `body` and `params`, sends it and writes the response back.
    pub(crate) async fn send<O, C>(
        client: &C,
        body: Value,
        params: &Map<String, Value>,
        set: SetParams<O>,
        write: Write<O::Response>,
    ) -> Result<Value, Error>
    where
        O: Operation + DeserializeOwned,
        C: Borrow<PlaidClient>,
    {
        let invalid = |message: String| Error::InvalidRequest {
            operation: O::INFO.name,
            message,
        };
        let mut request: O = serde_json::from_value(body)
            .map_err(|e| invalid(format!("the request does not fit the type: {e}")))?;
        set(&mut request, params).map_err(invalid)?;
        let response = client.borrow().send(&request).await?;
        write(response).map_err(|e| invalid(format!("writing the response back: {e}")))
    }

    /// Decodes `raw` as `O`'s response and writes it back.
    #[inline]
    pub(crate) fn decode<O: Operation>(
        raw: RawResponse,
        write: Write<O::Response>,
    ) -> Result<Value, String> {
        let response = O::decode(raw).map_err(|e| e.to_string())?;
        write(response).map_err(|e| format!("writing it back: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Page {
        added: Vec<Txn>,
        request_id: String,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Txn {
        amount: f64,
    }

    fn raw(body: &str) -> RawResponse {
        RawResponse {
            operation: "transactions_sync",
            status: 200,
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn idempotency_keys_are_unique_short_and_go_first_in_the_body() {
        let keys: std::collections::HashSet<String> =
            (0..1000).map(|_| new_idempotency_key()).collect();
        assert_eq!(keys.len(), 1000);
        assert!(keys
            .iter()
            .all(|k| k.len() == 42 && k.starts_with("plaid-sdk-")));
        let body = |b: &str, k: &str| {
            String::from_utf8(with_idempotency_key(b.as_bytes().to_vec(), k)).unwrap()
        };
        assert_eq!(body("{}", "k1"), r#"{"idempotency_key":"k1"}"#);
        assert_eq!(
            body(r#"{"amount":"1.00"}"#, "k2"),
            r#"{"idempotency_key":"k2","amount":"1.00"}"#
        );
    }

    #[test]
    fn a_date_range_must_not_end_before_it_starts() {
        let d = |day| chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        assert_eq!(check_date_range(&d(1), &d(1)), Ok(()));
        assert_eq!(check_date_range(&Some(d(1)), &None), Ok(()));
        assert_eq!(
            check_date_range(&d(2), &Some(d(1))),
            Err("start_date 2026-11-02 is after end_date 2026-11-01".into())
        );
    }

    #[test]
    fn bounds_are_inclusive_and_named_in_the_message() {
        assert_eq!(check_bound("count", &1i64, Some(1.0), Some(500.0)), Ok(()));
        assert_eq!(
            check_bound("count", &500i64, Some(1.0), Some(500.0)),
            Ok(())
        );
        assert_eq!(
            check_bound("options.count", &501i64, Some(1.0), Some(500.0)),
            Err("options.count must be between 1 and 500, not 501".into())
        );
        assert_eq!(
            check_bound("offset", &-1i64, Some(0.0), None),
            Err("offset must be at least 0, not -1".into())
        );
        assert!(check_bound("score", &f64::NAN, None, Some(1.0)).is_err());
    }

    #[test]
    fn decode_errors_name_the_path_and_request_id_but_not_the_value() {
        let e = raw(r#"{"added":[{"amount":1},{"amount":"0123456789"}],"request_id":"Abc123"}"#)
            .json::<Page>()
            .unwrap_err();
        let Error::Decode {
            path,
            message,
            request_id,
            status,
            operation,
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(path, "added[1].amount");
        assert_eq!(request_id.as_deref(), Some("Abc123"));
        assert_eq!((*status, *operation), (200, "transactions_sync"));
        assert!(!message.contains("0123456789"), "{message}");
        assert!(
            message.contains("invalid type: string (value not shown), expected f64"),
            "{message}"
        );
        assert!(!e.to_string().contains("0123456789"));
    }

    #[test]
    fn decode_errors_keep_the_kind_and_the_expected_type_but_no_value() {
        let cases = [
            (
                r#"{"added":[{"amount":"9876.54"}],"request_id":"r"}"#,
                "invalid type: string (value not shown), expected f64",
            ),
            (
                r#"{"added":[{"amount":true}],"request_id":"r"}"#,
                "invalid type: boolean (value not shown), expected f64",
            ),
            (
                r#"{"added":[{"amount":null}],"request_id":"r"}"#,
                "invalid type: null, expected f64",
            ),
            (
                r#"{"added":[{"amount":{"x":1}}],"request_id":"r"}"#,
                "invalid type: map, expected f64",
            ),
            (
                r#"{"added":4111111111111111,"request_id":"r"}"#,
                "invalid type: integer (value not shown), expected a sequence",
            ),
            (
                r#"{"added":-12.5,"request_id":"r"}"#,
                "invalid type: floating point (value not shown), expected a sequence",
            ),
            (
                r#"{"added":[],"request_id":987.25}"#,
                "invalid type: floating point (value not shown), expected a string",
            ),
            // A string value that itself contains ", expected ": the last one is serde's.
            (
                r#"{"added":"a\", expected x","request_id":"r"}"#,
                "invalid type: string (value not shown), expected a sequence",
            ),
        ];
        for (body, says) in cases {
            let e = raw(body).json::<Page>().unwrap_err();
            let Error::Decode { message, .. } = &e else {
                panic!("{e:?}")
            };
            assert!(message.starts_with(says), "{body}: {message}");
            assert!(message.contains(" at line 1 column "), "{message}");
            for leak in ["9876", "4111", "12.5", "987", "true", "\"x\":1", "a\\\""] {
                assert!(!message.contains(leak), "{body}: {message}");
            }
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        enum Closed {
            A,
        }
        let e = raw(r#""Alberta""#).json::<Closed>().unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown variant (value not shown), expected `A`"),
            "{e}"
        );
        assert!(!e.to_string().contains("Alberta"));
    }

    #[test]
    fn a_body_that_is_not_utf8_is_a_decode_error_naming_where() {
        let mut body = br#"{"added":[{"amount":1}],"name":"caf"#.to_vec();
        body.extend_from_slice(&[0xff, b'"', b'}']);
        let e = RawResponse::new("transactions_sync", 200, body)
            .json::<Page>()
            .unwrap_err();
        let Error::Decode { path, message, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(path, "name");
        assert!(message.contains("not valid UTF-8"), "{message}");
    }

    #[test]
    fn missing_fields_and_garbage() {
        let e = raw(r#"{"added":[]}"#).json::<Page>().unwrap_err();
        assert!(e.to_string().contains("missing field `request_id`"), "{e}");
        let e = raw("not json").json::<Page>().unwrap_err();
        assert!(
            matches!(e, Error::Decode { ref path, .. } if path == "."),
            "{e:?}"
        );
        let e = raw("").json::<Page>().unwrap_err();
        assert!(e.to_string().contains("EOF"), "{e}");
    }

    #[test]
    fn path_segments_are_encoded_and_checked() {
        assert_eq!(encode_path_segment("abc-123_~."), "abc-123_~.");
        assert_eq!(encode_path_segment("a/b c?d#é"), "a%2Fb%20c%3Fd%23%C3%A9");
        assert!(check_path_segment("id", "").is_err());
        assert!(check_path_segment("id", "..").unwrap_err().contains("id"));
        assert!(check_path_segment("id", "x").is_ok());
        assert_eq!(with_query("/a".into(), &[]), "/a");
        assert_eq!(
            with_query("/a".into(), &[("q", "x y&z".into()), ("n", "1".into())]),
            "/a?q=x+y%26z&n=1"
        );
    }

    #[test]
    fn sniffs_the_last_request_id() {
        assert_eq!(
            sniff_request_id(br#"{"a":{"request_id":"inner"},"request_id" : "outer"}"#),
            Some("outer")
        );
        assert_eq!(sniff_request_id(br#"{"request_id":null}"#), None);
        assert_eq!(sniff_request_id(br#"{"request_id":"has space"}"#), None);
        assert_eq!(sniff_request_id(b"<html>"), None);
    }
}
