//! The one error type every call returns, and Plaid's own error object.
//!
//! ```no_run
//! # async fn run(client: plaid_sdk::PlaidClient, req: plaid_sdk::types::ItemGetRequest) {
//! use plaid_sdk::{Error, ErrorCode};
//! match client.item_get(&req).await {
//!     Ok(item) => println!("{:?}", item.item.item_id),
//!     Err(Error::Api(e)) if e.error_code == ErrorCode::ItemLoginRequired => {
//!         // Send the user through Link in update mode.
//!     }
//!     Err(e) if e.is_retryable() => eprintln!("transient, try later: {e}"),
//!     Err(e) => eprintln!("{e}"),
//! }
//! # }
//! ```

use crate::open_enum::open_enum;
use crate::secret::scrub;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Everything that can go wrong with a call to Plaid.
///
/// `Display` gives one line that says what happened, where and why; no variant ever contains
/// the client secret or a token.
///
/// Variants and their fields may be added in a minor release (each variant with fields is
/// `#[non_exhaustive]`, as [`ConfigError`]'s and
/// [`WebhookError`](crate::webhook::WebhookError)'s are): a pattern names the fields it reads
/// and ends with `..`:
///
/// ```
/// # fn f(e: plaid_sdk::Error) {
/// if let plaid_sdk::Error::Timeout { timeout, .. } = e {
///     eprintln!("no answer within {timeout:?}");
/// }
/// # }
/// ```
///
/// ```compile_fail
/// # fn f(e: plaid_sdk::Error) {
/// if let plaid_sdk::Error::Timeout { operation, timeout } = e {}
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Plaid answered with its error object (`error_type`, `error_code`, …).
    #[error("{0}")]
    Api(Box<ApiError>),

    /// An error status whose body is not a Plaid error: an HTML page from a proxy, a load
    /// balancer or a web application firewall, or an empty body.
    ///
    /// `Display` and `Debug` show the status, its reason phrase and the page's `<title>`,
    /// never the rest of the body: such pages may quote the request back, and the request
    /// holds your user's personal data (name, address, phone, SSN). A title that repeats a
    /// value of the request is left out too. The body itself, scrubbed of the secret and of
    /// tokens but not of personal data, is behind [`ErrorBody::text`].
    #[error("{operation}: HTTP {status}{} with a body that is not a Plaid error{}", reason_phrase(*.status), title_suffix(.title))]
    #[non_exhaustive]
    Http {
        /// The operation called (`transactions_sync`).
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The page's `<title>` (at most 120 characters), when it has one that does not
        /// repeat the request.
        title: Option<String>,
        /// The body, up to 64 KiB: not shown by `Display` or `Debug`.
        body: ErrorBody,
        /// The `Retry-After` the server sent, if any.
        retry_after: Option<Duration>,
    },

    /// A successful response that does not have the shape the spec promises.
    #[error("{operation}: cannot decode the response (HTTP {status}) at `{path}`: {message}{}", request_id_suffix(.request_id))]
    #[non_exhaustive]
    Decode {
        /// The operation called.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The JSON path that failed (`added[3].amount`), `.` for the whole body.
        path: String,
        /// What was wrong there (values in the body are not repeated).
        message: String,
        /// Plaid's `request_id` from the body, when it could be found.
        request_id: Option<String>,
    },

    /// The call did not finish within its timeout.
    #[error("{operation}: timed out after {timeout:?}")]
    #[non_exhaustive]
    Timeout {
        /// The operation called.
        operation: &'static str,
        /// The timeout that ran out.
        timeout: Duration,
    },

    /// No connection to Plaid could be made (refused, DNS failure, TLS failure, connect
    /// timeout). The request was not sent.
    #[error("{operation}: cannot connect: {source}")]
    #[non_exhaustive]
    Connect {
        /// The operation called.
        operation: &'static str,
        /// What failed, described without any text the other end sent.
        #[source]
        source: NetworkError,
    },

    /// The connection failed after the request was sent: reset, closed mid-body, …
    #[error("{operation}: network error: {source}")]
    #[non_exhaustive]
    Transport {
        /// The operation called.
        operation: &'static str,
        /// What failed, described without any text the other end sent.
        #[source]
        source: NetworkError,
    },

    /// The server answered with a redirect (`3xx`). Plaid's API never redirects, and the client
    /// follows none: the credentials and the body went to the configured base URL only. Not
    /// retried.
    #[error("{operation}: HTTP {status} redirect refused (Plaid's API never redirects){}", location_suffix(.location_host))]
    #[non_exhaustive]
    Redirect {
        /// The operation called.
        operation: &'static str,
        /// The HTTP status (`301`, `302`, `303`, `307`, `308`, …).
        status: u16,
        /// The host the `Location` header pointed to, if it named one: only the host, never
        /// the path or query, and scrubbed like any text from a response.
        location_host: Option<String>,
    },

    /// The response body is larger than the client accepts for this operation (see
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)). The
    /// rest was not read and the connection was dropped. Not retried.
    #[error("{operation}: the response (HTTP {status}) is larger than the {limit}-byte limit; it was not read")]
    #[non_exhaustive]
    ResponseTooLarge {
        /// The operation called.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },

    /// The request was rejected before anything was sent: a caller mistake the client can see
    /// (an empty access token, a `count` out of range) or a body that cannot be serialized.
    #[error("{operation}: invalid request: {message}")]
    #[non_exhaustive]
    InvalidRequest {
        /// The operation called.
        operation: &'static str,
        /// What is wrong with it.
        message: String,
    },

    /// A paginated listing or a sync loop stopped making progress: the server repeated a
    /// cursor or an offset, or the page limit was reached. Nothing partial is returned.
    #[error("{operation}: pagination stopped: {reason}")]
    #[non_exhaustive]
    Pagination {
        /// The operation called.
        operation: &'static str,
        /// What went wrong.
        reason: String,
    },

    /// Plaid still answered "not ready" when the deadline of
    /// [`PlaidClient::until_ready`](crate::PlaidClient::until_ready) came.
    #[error("{operation}: still not ready after {waited:?} ({polls} calls)")]
    #[non_exhaustive]
    NotReady {
        /// The operation called.
        operation: &'static str,
        /// How long it waited.
        waited: Duration,
        /// How many calls it made.
        polls: u32,
    },

    /// A `/transactions/sync` loop failed again after every restart it was allowed.
    #[error("{operation}: gave up after {restarts} restarts: {source}")]
    #[non_exhaustive]
    SyncRestarts {
        /// The operation called.
        operation: &'static str,
        /// How many times the loop started over.
        restarts: u32,
        /// The last failure.
        #[source]
        source: Box<Error>,
    },

    /// The client is not configured correctly.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A connection or transport failure: reqwest's error, described on one line ("error sending
/// request: tcp connect error: Connection refused (os error 111)") without any text the other
/// end sent.
///
/// The causes reqwest and its HTTP/2 layer give can quote the server: an HTTP/2 `GOAWAY` frame
/// carries free text (up to the frame's size) that its `Display` and `Debug` print, and a
/// server or a proxy that echoes the request puts the secret, the access token and personal
/// data there. So this type's `Display` and `Debug` stop each cause at the first quoted text
/// and bound its length, and [`source`](std::error::Error::source) is `None`: a logger walking
/// the chain (`{:#}`, `{:?}` of an `anyhow::Error`) cannot reach the raw causes.
/// [`NetworkError::reqwest_error`] gives the underlying error for code that inspects it; its
/// text is not for logs.
pub struct NetworkError {
    inner: reqwest::Error,
    description: String,
}

/// The most characters kept of one cause of a [`NetworkError`], and of all of them.
const CAUSE_CHARS: usize = 160;
const DESCRIPTION_CHARS: usize = 480;

impl NetworkError {
    pub(crate) fn new(inner: reqwest::Error) -> Self {
        let inner = inner.without_url();
        let description = describe_network(&inner);
        NetworkError { inner, description }
    }

    /// The underlying reqwest error (its URL removed), for code that inspects it
    /// (`is_connect()`, `is_body()`, …). Its `Display`, `Debug` and causes may quote what the
    /// server or a proxy sent: do not log them.
    pub fn reqwest_error(&self) -> &reqwest::Error {
        &self.inner
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl fmt::Debug for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NetworkError")
            .field(&self.description)
            .finish()
    }
}

impl std::error::Error for NetworkError {}

/// An error and its causes on one line, each cut before its first quoted text (`"…"`, `b"…"`:
/// what a peer sent, as h2 prints a `GOAWAY`'s debug data) and bounded.
fn describe_network(e: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(cause) = next {
        let full = cause.to_string();
        let unquoted = match full.find('"') {
            Some(i) => {
                let head = &full[..i];
                // `b"…"`: the `b` of a byte string goes with it.
                let head = head
                    .strip_suffix('b')
                    .filter(|h| h.is_empty() || h.ends_with(['(', ' ']))
                    .unwrap_or(head);
                head.trim_end_matches(['(', ' ']).to_owned() + " (…)"
            }
            None => full,
        };
        let cut: String = unquoted.chars().take(CAUSE_CHARS).collect();
        if !cut.is_empty() && !text.contains(&cut) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cut);
        }
        next = cause.source();
    }
    if text.chars().count() > DESCRIPTION_CHARS {
        text = text.chars().take(DESCRIPTION_CHARS).collect::<String>() + "…";
    }
    text
}

fn location_suffix(host: &Option<String>) -> String {
    host.as_ref()
        .map(|host| format!(" to {host}"))
        .unwrap_or_default()
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref()
        .map(|id| format!(" (request_id {id})"))
        .unwrap_or_default()
}

impl Error {
    /// Whether the failure is transient, so the same call may succeed later: `429`, a `5xx`,
    /// a timeout, or a network failure; and a `/transactions/sync` loop that gave up because
    /// its data kept changing under it (`SyncRestarts` after
    /// `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`: a later loop can pass).
    ///
    /// The client already retries these for calls that are safe to repeat, under its
    /// [`RetryPolicy`](crate::RetryPolicy); an error you see has used up those attempts, or
    /// came from a call the client would not repeat on its own: a write, or a timeout of a
    /// read Plaid bills per answer ([`OperationKind::BilledRead`](crate::OperationKind::BilledRead),
    /// Balance), where repeating may bill twice.
    ///
    /// Repeating a write yourself is safe only with the same `idempotency_key`: a key the
    /// client generated (`/transfer/create` without one) is new for each call, so a second
    /// call after a timeout is a second transfer to Plaid. Set your own key on a write you
    /// may repeat ([production guide](crate::guide::production#idempotency-keys)).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.is_retryable(),
            Error::Http { status, .. } => is_retryable_status(*status),
            Error::Timeout { .. }
            | Error::Connect { .. }
            | Error::Transport { .. }
            | Error::NotReady { .. } => true,
            Error::SyncRestarts { source, .. } => {
                source.is_retryable()
                    || source.error_code()
                        == Some(&ErrorCode::TransactionsSyncMutationDuringPagination)
            }
            Error::Decode { .. }
            | Error::Redirect { .. }
            | Error::ResponseTooLarge { .. }
            | Error::InvalidRequest { .. }
            | Error::Pagination { .. }
            | Error::Config(_) => false,
        }
    }

    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Http { status, .. }
            | Error::Decode { status, .. }
            | Error::Redirect { status, .. }
            | Error::ResponseTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Plaid's error object, if Plaid sent one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Plaid's `request_id`, to quote to Plaid support, when there is one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Plaid's `error_code`, if Plaid sent an error object.
    pub fn error_code(&self) -> Option<&ErrorCode> {
        self.api_error().map(|e| &e.error_code)
    }

    /// How long the server asked to wait before retrying (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after,
            Error::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl Error {
    /// The error with every string that came from outside the program scrubbed of tokens and
    /// `secrets` (see [`scrub`]): each field of Plaid's error object, the strings nested in its
    /// `causes` and unknown fields (keys too), error pages' titles and bodies, decode messages and paths, redirect
    /// hosts, and the errors wrapped inside. Applied once where an error is made, before it is
    /// logged or returned, so that every way of printing it (`Display`, `Debug`, `source()`,
    /// tracing) is clean.
    pub(crate) fn scrubbed(self, secrets: &[&str]) -> Error {
        let clean = |text: String| scrub(&text, secrets);
        match self {
            Error::Api(mut api) => {
                api.scrub(secrets);
                Error::Api(api)
            }
            Error::Http {
                operation,
                status,
                title,
                body,
                retry_after,
            } => Error::Http {
                operation,
                status,
                title: title.map(clean),
                body: ErrorBody(clean(body.0)),
                retry_after,
            },
            Error::Decode {
                operation,
                status,
                path,
                message,
                request_id,
            } => Error::Decode {
                operation,
                status,
                path: clean(path),
                message: clean(message),
                request_id: request_id.map(clean),
            },
            Error::Redirect {
                operation,
                status,
                location_host,
            } => Error::Redirect {
                operation,
                status,
                location_host: location_host.map(clean),
            },
            Error::InvalidRequest { operation, message } => Error::InvalidRequest {
                operation,
                message: clean(message),
            },
            Error::Pagination { operation, reason } => Error::Pagination {
                operation,
                reason: clean(reason),
            },
            Error::SyncRestarts {
                operation,
                restarts,
                source,
            } => Error::SyncRestarts {
                operation,
                restarts,
                source: Box::new(source.scrubbed(secrets)),
            },
            // No text from outside: a duration, a limit, reqwest's own messages (their URL
            // removed), or a configuration error that never repeats a value.
            other @ (Error::Timeout { .. }
            | Error::NotReady { .. }
            | Error::Connect { .. }
            | Error::Transport { .. }
            | Error::ResponseTooLarge { .. }
            | Error::Config(_)) => other,
        }
    }
}

/// The body of an error page ([`Error::Http`]), kept out of `Display` and `Debug` because it
/// may quote the request, personal data included. Read it on purpose, with
/// [`text`](Self::text); it is scrubbed of the client secret and of tokens.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ErrorBody(pub(crate) String);

impl ErrorBody {
    /// The body as text (invalid UTF-8 replaced), at most 64 KiB of it.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the server sent no body.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorBody({} bytes)", self.0.len())
    }
}

/// ` Bad Gateway` for 502: the standard reason phrase of a status, if it has one.
fn reason_phrase(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|reason| format!(" {reason}"))
        .unwrap_or_default()
}

fn title_suffix(title: &Option<String>) -> String {
    match title {
        Some(title) => format!(" (page title {title:?})"),
        None => String::new(),
    }
}

/// The longest page title kept in [`Error::Http`].
const TITLE_CHARS: usize = 120;

/// The `<title>` of an HTML page, entities and percent-escapes decoded and whitespace
/// collapsed, unless it repeats any of `request_values` (the strings and numbers of the request
/// that failed) or any word of 4 characters or more of one of them: a page that echoes part of
/// a name or an address (`Blocked: 1 Infinite Loop`), an encoded token
/// (`access&#x2d;sandbox&#x2d;…`) or a value with its spacing changed shows no title.
/// The words of token prefixes (`access`, `sandbox`, …) do not count, so `Access Denied` stays.
pub(crate) fn page_title(body: &str, request_values: &[String]) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let decoded = percent_decode(&decode_entities(&body[start..end]));
    let title: String = decoded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(TITLE_CHARS)
        .collect();
    if title.is_empty() {
        return None;
    }
    let folded = title.to_lowercase();
    let title_words: std::collections::HashSet<&str> = words(&folded).collect();
    let repeats = request_values.iter().any(|value| {
        let value = value.to_lowercase();
        let spaced = value.split_whitespace().collect::<Vec<_>>().join(" ");
        folded.contains(&spaced)
            || words(&value).any(|w| {
                w.chars().count() >= 4 && !PREFIX_WORDS.contains(&w) && title_words.contains(w)
            })
    });
    (!repeats).then_some(title)
}

/// Words of token prefixes: common in error pages ("Access Denied"), never personal.
const PREFIX_WORDS: &[&str] = &[
    "access",
    "public",
    "processor",
    "user",
    "link",
    "sandbox",
    "production",
    "development",
];

/// The runs of letters and digits of `text`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// HTML's character references: the five named ones and every numeric one (`&#39;`,
/// `&#x2d;`); an invalid one stays as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(semi) = after.find(';').filter(|n| *n <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..semi];
        let decoded = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "amp" => Some('&'),
            _ => name.strip_prefix('#').and_then(|n| {
                match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => n.parse().ok(),
                }
                .and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `%HH` escapes decoded (as UTF-8, invalid sequences replaced).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The values of a JSON request that an error page could quote back: every string of at
/// least 4 characters and every number of at least 4 digits, object keys left out.
pub(crate) fn request_values(body: &[u8]) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) if s.trim().chars().count() >= 4 => {
                out.push(s.trim().to_owned())
            }
            serde_json::Value::Number(n) if n.to_string().len() >= 4 => out.push(n.to_string()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        walk(&value, &mut out);
    }
    out
}

/// Scrubs every string of a JSON value, object keys included, at any depth.
pub(crate) fn scrub_value(value: serde_json::Value, secrets: &[&str]) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(scrub(&s, secrets)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| scrub_value(v, secrets)).collect())
        }
        Value::Object(map) => Value::Object(scrub_map(map, secrets)),
        other => other,
    }
}

fn scrub_map(
    map: serde_json::Map<String, serde_json::Value>,
    secrets: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    map.into_iter()
        .map(|(k, v)| (scrub(&k, secrets), scrub_value(v, secrets)))
        .collect()
}

pub(crate) fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Plaid's error object, wherever Plaid sends it: as the body of a failed call
/// ([`Error::Api`]), as an Item's `error` in a response, or in an `ITEM` `ERROR` webhook. The
/// generated types use this type for the spec's `PlaidError`, so one `match` on
/// [`error_code`](Self::error_code) serves all three.
///
/// Match on `error_code` (safe for programmatic use); the messages may change over time.
/// Fields Plaid adds later are kept in [`extra`](Self::extra). Inside a response or webhook,
/// [`status`](Self::status) is 0 and [`operation`](Self::operation) empty: there was no failed
/// call; Plaid's own `status` is in [`status_in_body`](Self::status_in_body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status of the failed call (0 for an error inside a response or webhook).
    #[serde(skip)]
    pub status: u16,
    /// The operation called (empty for an error inside a response or webhook).
    #[serde(skip)]
    pub operation: &'static str,
    /// The `Retry-After` the server sent, if any.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
    /// The broad category.
    pub error_type: ErrorType,
    /// The specific error, safe for programmatic use.
    pub error_code: ErrorCode,
    /// A finer reason for some codes (`OAUTH_INVALID_TOKEN`, …).
    #[serde(default, deserialize_with = "crate::de::error_field::optional_text")]
    pub error_code_reason: Option<String>,
    /// A developer-facing message; may change over time.
    #[serde(default, deserialize_with = "crate::de::error_field::text")]
    pub error_message: String,
    /// A message fit to show the end user, when the error is about something they did.
    #[serde(default, deserialize_with = "crate::de::error_field::optional_text")]
    pub display_message: Option<String>,
    /// Plaid's id for the request, to quote to Plaid support.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::de::error_field::optional_text"
    )]
    pub request_id: Option<String>,
    /// Per-Item causes (Assets), as Plaid sent them (a single cause as a list of one).
    #[serde(default, deserialize_with = "crate::de::error_field::list")]
    pub causes: Vec<serde_json::Value>,
    /// The HTTP status Plaid reports inside the body, if any (also when sent as a string).
    #[serde(
        default,
        rename = "status",
        deserialize_with = "crate::de::error_field::number"
    )]
    pub status_in_body: Option<f64>,
    /// A link to Plaid's documentation for this error.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::de::error_field::optional_text"
    )]
    pub documentation_url: Option<String>,
    /// What Plaid suggests doing about it.
    #[serde(default, deserialize_with = "crate::de::error_field::optional_text")]
    pub suggested_action: Option<String>,
    /// Fields this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// Scrubs every string field, the open enums' unknown values, and everything nested in
    /// `causes` and `extra`.
    fn scrub(&mut self, secrets: &[&str]) {
        let clean = |text: &str| scrub(text, secrets);
        if self.error_type.is_unrecognized() {
            self.error_type = ErrorType::from(clean(self.error_type.as_str()));
        }
        if self.error_code.is_unrecognized() {
            self.error_code = ErrorCode::from(clean(self.error_code.as_str()));
        }
        for text in [
            &mut self.error_code_reason,
            &mut self.display_message,
            &mut self.request_id,
            &mut self.documentation_url,
            &mut self.suggested_action,
        ]
        .into_iter()
        .flatten()
        {
            *text = clean(text);
        }
        self.error_message = clean(&self.error_message);
        self.causes = std::mem::take(&mut self.causes)
            .into_iter()
            .map(|v| scrub_value(v, secrets))
            .collect();
        self.extra = scrub_map(std::mem::take(&mut self.extra), secrets);
    }

    /// Whether retrying the same call later may succeed: `429`, `5xx`, an error type Plaid
    /// uses for transient failures (`RATE_LIMIT_EXCEEDED`, `API_ERROR`), or a code that says
    /// to wait for the bank or for Plaid's data ([`waits_on_the_bank`](Self::waits_on_the_bank):
    /// `INSTITUTION_DOWN` and the like arrive as `400`). The client repeats none of the
    /// latter by itself: they pass in minutes or hours, not seconds. Never for
    /// `CREDITS_EXHAUSTED` (a `429` no wait ends), which the client does not repeat either.
    pub fn is_retryable(&self) -> bool {
        // A spent allowance answers 429, but no wait ends it.
        if self.error_code == ErrorCode::CreditsExhausted {
            return false;
        }
        is_retryable_status(self.status)
            || matches!(
                self.error_type,
                ErrorType::RateLimitExceeded | ErrorType::ApiError
            )
            || self.waits_on_the_bank()
    }

    /// Whether the error says to try again once the bank is back or Plaid's data is ready:
    /// `INSTITUTION_DOWN`, `INSTITUTION_NOT_RESPONDING`, `INSTITUTION_NOT_AVAILABLE`,
    /// `PRODUCT_NOT_READY`. Plaid's docs say to retry these later (hours for a bank that is
    /// down); an immediate retry fails the same way.
    pub fn waits_on_the_bank(&self) -> bool {
        matches!(
            self.error_code,
            ErrorCode::InstitutionDown
                | ErrorCode::InstitutionNotResponding
                | ErrorCode::InstitutionNotAvailable
                | ErrorCode::ProductNotReady
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An error that came inside a response or a webhook (an Item's `error`) has no call.
        if !self.operation.is_empty() {
            write!(f, "{}: ", self.operation)?;
        }
        write!(f, "Plaid error {}/{}", self.error_type, self.error_code)?;
        if self.status != 0 {
            write!(f, " (HTTP {})", self.status)?;
        }
        if !self.error_message.is_empty() {
            write!(f, ": {}", self.error_message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request_id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

open_enum! {
    /// The broad category of a Plaid error (`error_type`).
    pub enum ErrorType {
        InvalidRequest = "INVALID_REQUEST",
        InvalidResult = "INVALID_RESULT",
        InvalidInput = "INVALID_INPUT",
        InstitutionError = "INSTITUTION_ERROR",
        RateLimitExceeded = "RATE_LIMIT_EXCEEDED",
        ApiError = "API_ERROR",
        ItemError = "ITEM_ERROR",
        AssetReportError = "ASSET_REPORT_ERROR",
        BaseReportError = "BASE_REPORT_ERROR",
        RecaptchaError = "RECAPTCHA_ERROR",
        OauthError = "OAUTH_ERROR",
        PaymentError = "PAYMENT_ERROR",
        BankTransferError = "BANK_TRANSFER_ERROR",
        IncomeVerificationError = "INCOME_VERIFICATION_ERROR",
        MicrodepositsError = "MICRODEPOSITS_ERROR",
        SandboxError = "SANDBOX_ERROR",
        PartnerError = "PARTNER_ERROR",
        SignalError = "SIGNAL_ERROR",
        TransactionsError = "TRANSACTIONS_ERROR",
        TransactionError = "TRANSACTION_ERROR",
        TransferError = "TRANSFER_ERROR",
        CheckReportError = "CHECK_REPORT_ERROR",
        ConsumerReportError = "CONSUMER_REPORT_ERROR",
        UserError = "USER_ERROR",
    }
}

open_enum! {
    /// The specific Plaid error (`error_code`): the field to match on. The list holds the codes
    /// an integration most often handles (Plaid's "most common errors", rate limits, request
    /// and input errors), each with what it means and what to do, from Plaid's error
    /// reference; every other code arrives as `Unrecognized` with its string.
    ///
    /// ```no_run
    /// use plaid_sdk::types::TransactionsSyncRequest;
    /// use plaid_sdk::{Error, ErrorCode, PlaidClient};
    /// # async fn run(client: PlaidClient, request: TransactionsSyncRequest) -> Result<(), Error> {
    /// match client.transactions_sync(&request).await {
    ///     Ok(page) => println!("{} new", page.added.len()),
    ///     Err(Error::Api(e)) => match e.error_code {
    ///         ErrorCode::ItemLoginRequired => println!("send the user through update mode"),
    ///         ErrorCode::ItemNotFound => println!("the Item is gone: forget it"),
    ///         ErrorCode::TransactionsSyncMutationDuringPagination => println!("restart the sync"),
    ///         other => println!("Plaid error {}: {}", other.as_str(), e.error_message),
    ///     },
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub enum ErrorCode {
        // Item errors
        /// The bank needs the user again: the password or MFA changed, consent expired or was
        /// revoked, or (in the sandbox) the Item is over 30 days old or was reset. Send the user
        /// through Link in update mode
        /// ([`LinkTokenCreateRequest::update_mode`](crate::types::LinkTokenCreateRequest::update_mode));
        /// Link's `onSuccess` says it worked (it passes a public token too: do not exchange it,
        /// the Item keeps its access token). The `LOGIN_REPAIRED` webhook comes only when the
        /// user repaired it elsewhere. At an OAuth bank, the user linking the same account again
        /// can break the older Item this way: remove the old Item instead.
        ItemLoginRequired = "ITEM_LOGIN_REQUIRED",
        /// The Item no longer exists: removed with `/item/remove`, by the user at my.plaid.com, or
        /// by Plaid. Delete your record and send the user through Link for a new Item.
        ItemNotFound = "ITEM_NOT_FOUND",
        /// The bank locked the account after repeated failed logins. The user unlocks it on the
        /// bank's site, then logs in again through Link (update mode for an existing Item).
        ItemLocked = "ITEM_LOCKED",
        /// Plaid cannot connect this kind of account at this bank. Nothing to retry; the user picks
        /// another account or bank.
        ItemNotSupported = "ITEM_NOT_SUPPORTED",
        /// The user's username or password was wrong (Link shows it). The user tries again; several
        /// failures can lock the account (`ITEM_LOCKED`).
        InvalidCredentials = "INVALID_CREDENTIALS",
        /// The answer to the bank's MFA challenge was wrong. The user tries again in Link.
        InvalidMfa = "INVALID_MFA",
        /// In update mode, the user logged in with a different username from the Item's. The user
        /// logs in as the Item's owner; to link another login instead, delete the original Item
        /// (`/item/remove`) before linking the new one.
        InvalidUpdatedUsername = "INVALID_UPDATED_USERNAME",
        /// The user did not give the bank enough authorization (an OAuth flow not finished). Send
        /// the user through Link again.
        InsufficientCredentials = "INSUFFICIENT_CREDENTIALS",
        /// The account asks for an MFA method Plaid does not support at this bank. Nothing to
        /// retry; the user may change the bank's MFA settings.
        MfaNotSupported = "MFA_NOT_SUPPORTED",
        /// No open, eligible account was found (closed, filtered by `account_filters`, or access
        /// revoked). Check your account filters; the user can pick other accounts in update mode.
        NoAccounts = "NO_ACCOUNTS",
        /// The Item has no checking or savings account Auth can use: none at the bank, none
        /// shared at an OAuth bank, or access since revoked. The user links a bank with one,
        /// or shares it through update mode.
        NoAuthAccounts = "NO_AUTH_ACCOUNTS",
        /// The Item has no investment account, which Investments needs. The user links one.
        NoInvestmentAccounts = "NO_INVESTMENT_ACCOUNTS",
        /// The Item has no credit card, student loan or mortgage account, which Liabilities needs.
        /// The user links one.
        NoLiabilityAccounts = "NO_LIABILITY_ACCOUNTS",
        /// The data is not extracted yet: transactions just after linking (or the first
        /// `/transactions/get` of an Item linked without Transactions), investment
        /// transactions. Wait for the product's webhook (`INITIAL_UPDATE`, `HISTORICAL_UPDATE`)
        /// or retry later; [`PlaidClient::until_ready`](crate::PlaidClient::until_ready) does the
        /// waiting. (`/transactions/sync` never answers it: it says "not ready" in its data.) For
        /// Auth it means micro-deposits are not verified yet: automatic verification ends with
        /// a webhook, manual verification needs the user in Link, which no polling replaces.
        ProductNotReady = "PRODUCT_NOT_READY",
        /// The Item was not set up for the product you called: it was in neither `products` nor
        /// `optional_products` when the link token was made, or the bank does not offer it.
        /// `/item/get` says which products the Item has and could have. Put products you cannot
        /// do without in `products` (each one there narrows the banks Link offers, so keep
        /// the rest optional).
        ProductsNotSupported = "PRODUCTS_NOT_SUPPORTED",
        /// The user did not grant the permission this product needs (an OAuth consent screen). Send
        /// the user through update mode to grant it.
        AccessNotGranted = "ACCESS_NOT_GRANTED",
        /// The user's account is not fully set up at the bank. The user finishes the setup on the
        /// bank's site, then logs in again through Link (update mode for an existing Item).
        UserSetupRequired = "USER_SETUP_REQUIRED",
        /// The bank requires the user to reset their password. The user does so on the bank's site,
        /// then goes through update mode.
        PasswordResetRequired = "PASSWORD_RESET_REQUIRED",
        /// The Item was linked without the product you called (not in the link token's
        /// `products` or `optional_products`). Update mode does not add it: include it when
        /// creating the link token and link the Item again.
        ProductNotEnabled = "PRODUCT_NOT_ENABLED",
        /// The user revoked the app's access to the Item (at the bank or at my.plaid.com).
        /// The Item cannot be reactivated: delete your record (and call `/item/remove`); a new
        /// link makes a new Item.
        UserPermissionRevoked = "USER_PERMISSION_REVOKED",
        // Institution errors
        /// The bank is down (maintenance or outage). Retry in a few hours; tell the user it is the
        /// bank, not your app.
        InstitutionDown = "INSTITUTION_DOWN",
        /// The bank is failing some requests. Retry later.
        InstitutionNotResponding = "INSTITUTION_NOT_RESPONDING",
        /// Plaid's connection to the bank is temporarily down. Retry later.
        InstitutionNotAvailable = "INSTITUTION_NOT_AVAILABLE",
        /// Plaid no longer supports this bank. The user picks another.
        InstitutionNoLongerSupported = "INSTITUTION_NO_LONGER_SUPPORTED",
        /// The bank exists but not in this environment (a production bank in the sandbox, or the
        /// other way round). Use an institution of this environment.
        InstitutionNotEnabledInEnvironment = "INSTITUTION_NOT_ENABLED_IN_ENVIRONMENT",
        // API errors
        /// Plaid or the bank failed unexpectedly (HTTP 500). The client retries it within its
        /// budget; writes are retried only with an idempotency key. At an OAuth bank it can also
        /// mean the user did not authorize the Item for this product: then only the user
        /// granting it (update mode) helps.
        InternalServerError = "INTERNAL_SERVER_ERROR",
        /// Plaid is down for planned maintenance (HTTP 503); see status.plaid.com. Retry later.
        PlannedMaintenance = "PLANNED_MAINTENANCE",
        // Transactions errors
        /// The transactions changed while you paged through `/transactions/sync`. Restart from the
        /// cursor the loop began with, not the last page's;
        /// [`TransactionsSync`](crate::sync::TransactionsSync) does this for you.
        TransactionsSyncMutationDuringPagination = "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
        // Invalid request errors
        /// The body was not JSON, or not sent as `application/json`. The generated calls always
        /// send JSON; seen with a hand-built request or a proxy that rewrites bodies.
        InvalidBody = "INVALID_BODY",
        /// A required header is missing or malformed (`error_message` names it). Check headers a
        /// hook or a proxy adds.
        InvalidHeaders = "INVALID_HEADERS",
        /// A field has a wrong value or type, or a value the operation does not allow here;
        /// `error_message` names it. Fix that field.
        InvalidField = "INVALID_FIELD",
        /// Required fields are missing; `error_message` lists them. The generated `new(…)` takes
        /// every required field, so this points at a hand-built body or a spec older than Plaid's
        /// API.
        MissingFields = "MISSING_FIELDS",
        /// The operation does not know some fields; `error_message` lists them. Seen when building
        /// against a newer spec than the environment serves: remove the fields.
        UnknownFields = "UNKNOWN_FIELDS",
        /// The endpoint does not exist (HTTP 404): a wrong base URL, or an operation this
        /// environment does not offer.
        NotFound = "NOT_FOUND",
        /// A `/sandbox/…` operation was called outside the sandbox. Call it only in tests.
        SandboxOnly = "SANDBOX_ONLY",
        // Invalid input errors
        /// The client id or secret is wrong, or belongs to another environment. Use the keys of
        /// this environment from the Plaid dashboard.
        InvalidApiKeys = "INVALID_API_KEYS",
        /// The access token is not one Plaid knows here: malformed, from another environment, or
        /// for another client id. Check the environment and that the stored token is the one
        /// `expose_secret()` gave; an Item removed earlier answers `ITEM_NOT_FOUND` instead.
        InvalidAccessToken = "INVALID_ACCESS_TOKEN",
        /// The public token is unknown, from another environment, or expired (30 minutes after
        /// Link). Send the user through Link for a new one.
        InvalidPublicToken = "INVALID_PUBLIC_TOKEN",
        /// The link token expired (4 hours; 30 minutes in update mode), was used already, belongs
        /// to another environment, or saw too many wrong logins. Create a new link token and
        /// open Link again.
        InvalidLinkToken = "INVALID_LINK_TOKEN",
        /// The processor token is unknown or from another environment. Create it again with
        /// `/processor/token/create` in this environment.
        InvalidProcessorToken = "INVALID_PROCESSOR_TOKEN",
        /// An account id is not one of this Item's current accounts (closed, revoked, or from
        /// another Item). Use the ids `/accounts/get` returns now.
        InvalidAccountId = "INVALID_ACCOUNT_ID",
        /// The institution id does not exist. Use one from `/institutions/search` or
        /// `/institutions/get`.
        InvalidInstitution = "INVALID_INSTITUTION",
        /// A product name is invalid, or your client is not enabled for it (also `balance` in
        /// `/link/token/create`, which is not a Link product). Fix the list, or ask Plaid to enable
        /// the product.
        InvalidProduct = "INVALID_PRODUCT",
        /// The Item was not granted consent for the product you called (it was in none of the
        /// link token's `products`, `optional_products` or `additional_consented_products`).
        /// Send the user through update mode with a link token listing it in
        /// `additional_consented_products`.
        AdditionalConsentRequired = "ADDITIONAL_CONSENT_REQUIRED",
        /// The key id is not one Plaid issued in this environment. Pass the `kid` of the webhook's
        /// JWT to the environment the webhook came from;
        /// [`WebhookVerifier`](crate::webhook::WebhookVerifier) does.
        InvalidWebhookVerificationKeyId = "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
        /// The micro-deposit amounts the user entered are wrong. The user tries again (the attempts
        /// are limited).
        IncorrectDepositVerification = "INCORRECT_DEPOSIT_VERIFICATION",
        /// The user entered wrong micro-deposit amounts too many times. The Item cannot be
        /// verified; the user links the account again.
        TooManyVerificationAttempts = "TOO_MANY_VERIFICATION_ATTEMPTS",
        /// An Item was created without Link, which your client is not enabled for. Use Link.
        DirectIntegrationNotEnabled = "DIRECT_INTEGRATION_NOT_ENABLED",
        // Rate limits
        /// A rate limit was hit (HTTP 429). The client backs off and retries within its budget;
        /// make fewer calls for the Item. Plaid also answers it when it suspects abuse, or when
        /// sandbox credentials are tried at a production bank: then the user waits a day or two.
        RateLimit = "RATE_LIMIT",
        /// Too many `/accounts/get` calls for this Item (HTTP 429). Back off; cache accounts
        /// between webhooks.
        AccountsLimit = "ACCOUNTS_LIMIT",
        /// Too many `/accounts/balance/get` calls (HTTP 429). Back off; each call reaches the bank,
        /// so call it only when a fresh balance matters.
        AccountsBalanceGetLimit = "ACCOUNTS_BALANCE_GET_LIMIT",
        /// Too many `/auth/get` calls for this Item (HTTP 429). Back off; account numbers rarely
        /// change, so store them.
        AuthLimit = "AUTH_LIMIT",
        /// Too many balance requests for this Item (HTTP 429). Back off.
        BalanceLimit = "BALANCE_LIMIT",
        /// Too many `/identity/get` calls for this Item (HTTP 429). Back off; store the result.
        IdentityLimit = "IDENTITY_LIMIT",
        /// Too many `/institutions/get` calls (HTTP 429). Back off; cache the list.
        InstitutionsGetLimit = "INSTITUTIONS_GET_LIMIT",
        /// Too many `/institutions/get_by_id` calls (HTTP 429). Back off; cache institutions.
        InstitutionsGetByIdLimit = "INSTITUTIONS_GET_BY_ID_LIMIT",
        /// Too many `/investments/holdings/get` calls for this Item (HTTP 429). Back off; wait for
        /// the holdings webhook.
        InvestmentHoldingsGetLimit = "INVESTMENT_HOLDINGS_GET_LIMIT",
        /// Too many `/investments/transactions/get` calls for this Item (HTTP 429). Back off.
        InvestmentTransactionsLimit = "INVESTMENT_TRANSACTIONS_LIMIT",
        /// Too many `/item/get` calls for this Item (HTTP 429). Back off; the Item's webhooks
        /// report changes.
        ItemGetLimit = "ITEM_GET_LIMIT",
        /// Too many `/transactions/get` (or `/transactions/refresh`) calls for this Item (HTTP
        /// 429). Back off, or move to `/transactions/sync`.
        TransactionsLimit = "TRANSACTIONS_LIMIT",
        /// Too many `/transactions/sync` calls for this Item (HTTP 429). Sync on
        /// `SYNC_UPDATES_AVAILABLE` rather than on a timer, with `count` 500.
        TransactionsSyncLimit = "TRANSACTIONS_SYNC_LIMIT",
        /// A rate limit was hit (HTTP 429). The client backs off and retries within its budget.
        /// (Plaid documents `RATE_LIMIT_EXCEEDED` as the error *type* of the codes above; this
        /// code is kept for answers that carry it as the code.)
        RateLimitExceeded = "RATE_LIMIT_EXCEEDED",
        /// The free API usage of Limited Production is spent (HTTP 429). Waiting does not help:
        /// request full Production access in Plaid's dashboard. Not
        /// [`is_retryable`](crate::ApiError::is_retryable), and the client never repeats it.
        CreditsExhausted = "CREDITS_EXHAUSTED",
    }
}

/// A setting that is missing or malformed. Names the setting (the environment variable, or the
/// builder method) and never repeats a secret's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An environment variable `from_env` needs is not set.
    #[error("environment variable {name} is not set: {hint}")]
    #[non_exhaustive]
    MissingVar {
        /// The variable.
        name: &'static str,
        /// What it should hold.
        hint: &'static str,
    },
    /// An environment variable has a value the client cannot use.
    #[error("environment variable {name} is invalid: {reason}")]
    #[non_exhaustive]
    InvalidVar {
        /// The variable.
        name: &'static str,
        /// What is wrong (never the value of a secret).
        reason: String,
    },
    /// A required builder setting was not given.
    #[error("no {setting} given: call ClientBuilder::{setting}")]
    #[non_exhaustive]
    Missing {
        /// The builder method to call.
        setting: &'static str,
    },
    /// A builder setting has a value the client cannot use.
    #[error("invalid {setting}: {reason}")]
    #[non_exhaustive]
    Invalid {
        /// The builder method.
        setting: &'static str,
        /// What is wrong (never the value of a secret).
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// More than one setting is wrong: every problem found, each one of the other variants,
    /// in the order a person fixes them (which Plaid environment first, then its keys).
    /// [`problems`](ConfigError::problems) lists them whichever variant this is.
    #[error("{} configuration problems: {}", .0.len(), list(.0))]
    Several(Vec<ConfigError>),
}

fn list(problems: &[ConfigError]) -> String {
    let shown: Vec<String> = problems
        .iter()
        .enumerate()
        .map(|(i, p)| format!("({}) {p}", i + 1))
        .collect();
    shown.join("; ")
}

impl ConfigError {
    /// Every problem this error reports: the list of [`Several`](ConfigError::Several), or
    /// this error alone.
    ///
    /// ```
    /// # fn run() -> Result<(), plaid_sdk::Error> {
    /// match plaid_sdk::PlaidClient::from_env() {
    ///     Ok(client) => { /* … */ }
    ///     Err(plaid_sdk::Error::Config(e)) => {
    ///         for problem in e.problems() {
    ///             eprintln!("- {problem}");
    ///         }
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn problems(&self) -> &[ConfigError] {
        match self {
            ConfigError::Several(problems) => problems,
            one => std::slice::from_ref(one),
        }
    }

    /// One error for `problems` (at least one), sorted in the order to fix them.
    pub(crate) fn from_problems(mut problems: Vec<ConfigError>) -> ConfigError {
        const ORDER: &[&str] = &["PLAID_ENV", "PLAID_CLIENT_ID", "PLAID_SECRET"];
        problems.sort_by_key(|p| {
            p.variable()
                .and_then(|v| ORDER.iter().position(|o| *o == v))
                .unwrap_or(ORDER.len())
        });
        match problems.len() {
            1 => problems.remove(0),
            _ => ConfigError::Several(problems),
        }
    }

    /// The environment variable this problem is about, if it is about one.
    pub(crate) fn variable(&self) -> Option<&'static str> {
        match self {
            ConfigError::MissingVar { name, .. } | ConfigError::InvalidVar { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }

    /// Whether this problem is about the environment variable `name`.
    pub(crate) fn names(&self, name: &str) -> bool {
        self.variable() == Some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> ApiError {
        let mut e: ApiError = serde_json::from_str(body).unwrap();
        e.status = status;
        e.operation = "item_get";
        e
    }

    #[test]
    fn parses_plaid_errors_with_unknown_types_codes_and_fields() {
        let e = api(
            400,
            r#"{"error_type":"BRAND_NEW_ERROR","error_code":"SHINY_CODE","error_message":"m",
                "display_message":null,"request_id":"r1","causes":null,"new_field":{"a":1}}"#,
        );
        assert_eq!(e.error_type, ErrorType::from("BRAND_NEW_ERROR"));
        assert_eq!(e.error_code.as_str(), "SHINY_CODE");
        assert!(e.causes.is_empty());
        assert_eq!(e.extra["new_field"]["a"], 1);
        assert_eq!(
            e.to_string(),
            "item_get: Plaid error BRAND_NEW_ERROR/SHINY_CODE (HTTP 400): m (request_id r1)"
        );
    }

    #[test]
    fn retryable_by_status_and_type() {
        let e = |status, ty: &str| {
            api(
                status,
                &format!(r#"{{"error_type":"{ty}","error_code":"X"}}"#),
            )
        };
        assert!(e(429, "RATE_LIMIT_EXCEEDED").is_retryable());
        assert!(e(500, "API_ERROR").is_retryable());
        assert!(
            e(400, "API_ERROR").is_retryable(),
            "API_ERROR is transient whatever the status"
        );
        assert!(!e(400, "ITEM_ERROR").is_retryable());
        assert!(
            !e(400, "INSTITUTION_ERROR").is_retryable(),
            "an unknown institution code is not transient"
        );
        // Review round 7: these arrive as 400 and the codes' own docs say "retry later";
        // is_retryable said no.
        for (ty, code) in [
            ("INSTITUTION_ERROR", "INSTITUTION_DOWN"),
            ("INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING"),
            ("INSTITUTION_ERROR", "INSTITUTION_NOT_AVAILABLE"),
            ("ITEM_ERROR", "PRODUCT_NOT_READY"),
        ] {
            let err = api(
                400,
                &format!(r#"{{"error_type":"{ty}","error_code":"{code}"}}"#),
            );
            assert!(err.is_retryable(), "{code}");
            assert!(err.waits_on_the_bank(), "{code}");
            assert!(Error::Api(Box::new(err)).is_retryable(), "{code}");
        }
    }

    #[test]
    fn page_titles_are_found_and_never_repeat_the_request() {
        let page = "<HTML><head><Title>\n  Request  blocked &amp; logged </title></head>";
        assert_eq!(
            page_title(page, &[]).as_deref(),
            Some("Request blocked & logged")
        );
        let values = request_values(
            br#"{"user":{"legal_name":"Jane Q Doe","ssn":"123-45-6789"},"n":12345,"c":"US"}"#,
        );
        let mut sorted = values.clone();
        sorted.sort();
        assert_eq!(sorted, ["123-45-6789", "12345", "Jane Q Doe"]);
        let quoting = "<title>Blocked: jane q doe</title>";
        assert_eq!(page_title(quoting, &values), None);
        assert_eq!(page_title("<html>no title</html>", &values), None);
        assert_eq!(page_title("<title>   </title>", &values), None);
        let long = format!("<title>{}</title>", "x".repeat(500));
        assert_eq!(page_title(&long, &[]).unwrap().len(), TITLE_CHARS);
    }

    /// What a page can do to a value and still show it (review, round 4): quote part of it,
    /// encode it, change its spacing. None of these titles is shown; generic ones still are.
    #[test]
    fn page_titles_that_quote_a_changed_value_are_dropped() {
        let values = request_values(
            br#"{"access_token":"access-sandbox-5cd6e1b1-1b5b-459d-9284-366e2da89755",
                "user":{"legal_name":"Jane  O'Connor-Smythe","email":"jane.oconnor@example.com",
                "street":"1 Infinite Loop, Suite 4"}}"#,
        );
        for title in [
            "Blocked: 1 Infinite Loop",
            "Rejected O&#x27;Connor-Smythe",
            "bad: jane.oconnor%40example.com",
            "Denied for Jane O'Connor-Smythe",
            "Blocked access&#x2d;sandbox&#x2d;5cd6e1b1&#x2d;1b5b",
        ] {
            let page = format!("<title>{title}</title>");
            assert_eq!(page_title(&page, &values), None, "{title}");
        }
        for title in [
            "403 Access Denied",
            "Service Unavailable",
            "Request blocked",
        ] {
            let page = format!("<title>{title}</title>");
            assert_eq!(page_title(&page, &values).as_deref(), Some(title));
        }
        assert_eq!(
            decode_entities("a &amp;&#65;&#x42;&bogus; &"),
            "a &AB&bogus; &"
        );
        assert_eq!(percent_decode("a%40b%2"), "a@b%2");
    }

    #[test]
    fn error_accessors() {
        let err = Error::Api(Box::new(api(
            400,
            r#"{"error_type":"ITEM_ERROR","error_code":"ITEM_LOGIN_REQUIRED","request_id":"abc"}"#,
        )));
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.request_id(), Some("abc"));
        assert_eq!(err.error_code(), Some(&ErrorCode::ItemLoginRequired));
        assert!(!err.is_retryable());
        let http = Error::Http {
            operation: "x",
            status: 502,
            title: Some("502 Bad Gateway".into()),
            body: ErrorBody("<html>".into()),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert!(http.is_retryable());
        assert_eq!(http.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(
            http.to_string(),
            "x: HTTP 502 Bad Gateway with a body that is not a Plaid error (page title \"502 Bad Gateway\")"
        );
        assert!(format!("{http:?}").contains("ErrorBody(6 bytes)"));
        let decode = Error::Decode {
            operation: "x",
            status: 200,
            path: "a[1]".into(),
            message: "m".into(),
            request_id: Some("r".into()),
        };
        assert_eq!(
            decode.to_string(),
            "x: cannot decode the response (HTTP 200) at `a[1]`: m (request_id r)"
        );
    }
}
