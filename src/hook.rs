//! A hook on every attempt of every call: for metrics, tracing of your own, and headers a
//! proxy needs, without wrapping each method.
//!
//! ```
//! use plaid_sdk::hook::{Attempt, AttemptOutcome, CallHook};
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! #[derive(Default)]
//! struct Metrics {
//!     attempts: AtomicU64,
//!     failures: AtomicU64,
//! }
//!
//! impl CallHook for Metrics {
//!     fn before_attempt(&self, _attempt: &Attempt, headers: &mut http::HeaderMap) {
//!         // A header your egress proxy wants; the client's own headers are not shown here.
//!         headers.insert("x-egress-route", http::HeaderValue::from_static("plaid"));
//!     }
//!     fn after_attempt(&self, attempt: &Attempt, outcome: &AttemptOutcome<'_>) {
//!         self.attempts.fetch_add(1, Ordering::Relaxed);
//!         if outcome.failure.is_some() {
//!             self.failures.fetch_add(1, Ordering::Relaxed);
//!         }
//!         println!(
//!             "{} attempt {} -> {:?} in {:?} (request_id {:?})",
//!             attempt.operation, attempt.number, outcome.status, outcome.latency, outcome.request_id
//!         );
//!     }
//! }
//!
//! # fn main() -> Result<(), plaid_sdk::Error> {
//! let client = plaid_sdk::PlaidClient::builder()
//!     .client_id("id")
//!     .secret("secret")
//!     .hook(Metrics::default())
//!     .build()?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! A hook is a plain trait object with two synchronous methods, as aws-smithy's interceptors
//! (`read_before_attempt`, `read_after_attempt`) and progenitor's `ClientHooks` are: no
//! generic parameter on the client, nothing to `.await`, and a default for each method. It is
//! called on the task making the call (an attempt cut short by a dropped call is reported
//! where the call is dropped: an aborted task's runtime, say), so it must be quick; hand the
//! data to a channel or an atomic for anything slow. It never sees a secret: the operation, the attempt, the status,
//! Plaid's `request_id` (left out when it looks like a token), the latency and what kind of
//! failure it was; and an empty header map for what it adds, not the request's own headers,
//! which carry the credentials.

use std::time::Duration;

/// Observes (and may add headers to) every attempt of every call of a client. See the
/// [module docs](self).
pub trait CallHook: Send + Sync + 'static {
    /// Before an attempt is sent. `headers` starts empty and is added to the request: the
    /// client's own headers (the credentials, `Plaid-Version`, `User-Agent`, `Accept`,
    /// `Content-Type`) are neither shown nor replaceable, and the headers that frame or route
    /// a request (`Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, `TE`,
    /// `Trailer`, `Upgrade`, `Expect`, `Keep-Alive`) are dropped: the client sets them from
    /// the request itself.
    fn before_attempt(&self, attempt: &Attempt, headers: &mut http::HeaderMap) {
        let _ = (attempt, headers);
    }

    /// After an attempt, whatever its outcome, before the client decides to retry. An attempt
    /// still in flight when the caller drops the call is reported too, as
    /// [`FailureKind::Cancelled`], so every `before_attempt` has its `after_attempt`.
    fn after_attempt(&self, attempt: &Attempt, outcome: &AttemptOutcome<'_>) {
        let _ = (attempt, outcome);
    }
}

/// Which attempt of which call.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Attempt {
    /// The operation (`transactions_sync`).
    pub operation: &'static str,
    /// Its path template (`/transactions/sync`).
    pub path: &'static str,
    /// 1 for the first attempt, 2 for the first retry, …
    pub number: u32,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttemptOutcome<'a> {
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Plaid's `request_id`, when the response carried one.
    pub request_id: Option<&'a str>,
    /// From sending the request to the end of the response body.
    pub latency: Duration,
    /// What went wrong, if anything. A success body that then fails to decode is reported
    /// here as a success: the attempt itself succeeded.
    pub failure: Option<FailureKind>,
}

/// The kind of a failed attempt, as [`Error`](crate::Error)'s variants name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// Plaid's error object ([`Error::Api`](crate::Error::Api)).
    Api,
    /// An error status with another body ([`Error::Http`](crate::Error::Http)).
    Http,
    /// A redirect, refused ([`Error::Redirect`](crate::Error::Redirect)).
    Redirect,
    /// A body over the cap ([`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge)).
    ResponseTooLarge,
    /// The attempt's timeout ran out.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection failed after the request was sent.
    Transport,
    /// The caller dropped the call while this attempt was in flight (a `timeout` around it,
    /// a `select!`, a handler whose client went away). The request may have reached Plaid.
    Cancelled,
    /// Anything else.
    Other,
}

impl FailureKind {
    pub(crate) fn of(error: &crate::Error) -> Self {
        use crate::Error;
        match error {
            Error::Api(_) => Self::Api,
            Error::Http { .. } => Self::Http,
            Error::Redirect { .. } => Self::Redirect,
            Error::ResponseTooLarge { .. } => Self::ResponseTooLarge,
            Error::Timeout { .. } => Self::Timeout,
            Error::Connect { .. } => Self::Connect,
            Error::Transport { .. } => Self::Transport,
            _ => Self::Other,
        }
    }
}
