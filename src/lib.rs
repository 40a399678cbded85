//! # plaid-sdk
//!
//! The Plaid banking API for Rust. Every operation of Plaid's OpenAPI spec is a typed method on
//! [`PlaidClient`], generated at build time; every request and response type is in [`types`].
//!
//! ```no_run
//! use plaid_sdk::types::{TransactionsSyncRequest};
//! use plaid_sdk::{AccessToken, PlaidClient};
//!
//! # async fn run() -> Result<(), plaid_sdk::Error> {
//! // PLAID_CLIENT_ID, PLAID_SECRET, and PLAID_ENV (sandbox, production or a base URL).
//! let client = PlaidClient::from_env()?;
//! let token = AccessToken::new("access-sandbox-…");
//!
//! // Required fields go to `new`; optional ones to their setters.
//! let request = TransactionsSyncRequest::new(token).count(500);
//! let page = client.transactions_sync(&request).await?;
//! println!("{} added, more: {}", page.added.len(), page.has_more);
//! # Ok(()) }
//! ```
//!
//! New here? The [`guide`] walks through [getting started](guide::getting_started),
//! [configuration](guide::configuration), [errors](guide::errors), [Link](guide::link),
//! [pagination](guide::pagination), [webhooks](guide::webhooks),
//! [production behaviours](guide::production),
//! [testing with the offline sandbox](guide::testing), [testing Link](guide::testing_link) in
//! a real browser, [the sandbox as a server](guide::sandbox_server) for other languages, and
//! [building against a newer spec](guide::newer_spec).
//!
//! What the client does on every call:
//!
//! * sends the credentials as the `PLAID-CLIENT-ID` and `PLAID-SECRET` headers (the secret is
//!   marked sensitive), `Plaid-Version: 2020-09-14` and a `User-Agent` naming this crate;
//! * applies a timeout (60 s; 300 s for the calls Plaid documents as slow), changeable per
//!   client and per call ([`PlaidClient::with_timeout`]);
//! * retries `429` (not `CREDITS_EXHAUSTED`), `5xx`, timeouts and network failures with
//!   exponential backoff and jitter,
//!   honouring `Retry-After`, but only for calls that are safe to repeat: reads, and writes
//!   that carry an `idempotency_key` (see [`RetryPolicy`]); a read Plaid bills per answer
//!   (Balance) is not repeated after a timeout
//!   ([`OperationKind::BilledRead`]);
//! * opens a `tracing` span `plaid.request` with the operation, attempt, status and Plaid's
//!   `request_id`; never a secret. Retries, and a retry refused for the spent budget, are
//!   events; any other outcome, success or failure, is only the span's fields: to see
//!   each call, have the subscriber report spans as they close
//!   (`tracing_subscriber::fmt().with_span_events(FmtSpan::CLOSE)`);
//! * returns one [`Error`] type whose variants say what happened: Plaid's own error
//!   ([`Error::Api`], with open [`ErrorType`] and [`ErrorCode`]), a non-Plaid error page, a
//!   decode error naming the JSON path, a timeout, a connection failure.
//!
//! ## Forward compatibility
//!
//! Plaid adds enum values, fields and error codes without notice. Every enum here is open (an
//! unknown value is kept as `Unrecognized`, read with `as_str()`, and sent back unchanged), unknown fields are
//! ignored, and a field the spec marks optional or nullable parses `null` or a missing key as
//! `None` (or empty, for lists).
//!
//! ## Secrets
//!
//! Access, public, processor and user tokens and the client secret are newtypes
//! ([`AccessToken`], …): `Debug` redacts the value and they have no `Display`, so the real
//! value is text only through `expose_secret()`, `into_secret()` or serializing it; error
//! messages are scrubbed of anything that looks like a token.
//!
//! ## Building against a newer spec
//!
//! The crate is generated from the spec vendored in its `spec/` directory. To build against a
//! newer one without waiting for a release, point `PLAID_OPENAPI_SPEC` at it:
//!
//! ```text
//! PLAID_OPENAPI_SPEC=/path/to/2020-09-14.yml cargo build
//! ```

//! ## Cargo features
//!
//! | Feature | What it adds |
//! |---|---|
//! | `full` (default) | every Plaid product family below |
//! | `transactions`, `auth`, `identity`, `investments`, `liabilities`, `assets`, `transfer`, `payment-initiation`, `income`, `cra`, `signal`, `identity-verification`, `statements`, `institutions`, `users`, `processor`, `partner`, `enrich`, `hosted-link`, `item-admin`, `other` | one product family's operations and types; the core (Link tokens, Items, accounts, balances, sandbox, webhook keys) is always in |
//! | `rustls` (default), `native-tls` | the TLS backend |
//! | `webhook-verify` (default) | [`webhook::WebhookVerifier`] |
//! | `test-util` | for `[dev-dependencies]`: `webhook::testing::WebhookSigner`, which signs webhooks like Plaid |
//! | `wiremock` | `test-util`, and `WebhookSigner::mount`, which serves the signer's key from a `wiremock` server |
//!
//! Items that need a feature say so on docs.rs. The offline sandbox and the webhook signer for
//! tests are the `plaid-sandbox` crate, for your `[dev-dependencies]`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod de;
mod error;
mod generated;
pub mod guide;
pub mod hook;
mod json_path;
pub mod link;
mod open_enum;
mod operation;
pub mod pagination;
pub mod ready;
mod retry;
mod secret;
#[cfg(feature = "transactions")]
#[cfg_attr(docsrs, doc(cfg(feature = "transactions")))]
pub mod sync;
pub mod webhook;

pub use client::{
    ClientBuilder, Environment, PlaidClient, API_VERSION, DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
};
pub use error::{ApiError, ConfigError, Error, ErrorBody, ErrorCode, ErrorType, NetworkError};
#[cfg(feature = "serde-reference")]
#[doc(hidden)]
pub use generated::{__serde_reference, __OLDER_SPELLINGS, __SERDE_DIFFERENTIAL};
pub use generated::{operations, types, SPEC_VERSION};
pub use link::ItemId;
pub use open_enum::UnrecognizedValue;
pub use operation::{Operation, OperationInfo, OperationKind, RawResponse, ResponseKind};
pub use retry::{RetryBudget, RetryPolicy};
pub use secret::{AccessToken, ClientSecret, ProcessorToken, PublicToken, SecretString, UserToken};

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
