//! An offline Plaid for tests: Plaid's sandbox reproduced on a local server, in-process for Rust
//! tests or as the `plaid-sandbox` binary for any language, with webhooks signed like Plaid's.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), plaid_sdk::Error> {
//! use plaid_sandbox::Sandbox;
//! use plaid_sdk::types::Products;
//!
//! let sandbox = Sandbox::start().await;
//! let client = sandbox.client(); // points at the sandbox, with its credentials
//!
//! let item = client.sandbox_link_item("ins_109508", [Products::Transactions]).await?;
//! let batch = client
//!     .transactions_sync_all(&plaid_sdk::sync::TransactionsSync::new(item.access_token.clone()))
//!     .await?
//!     .into_batch()
//!     .expect("the offline sandbox is ready at once");
//! assert!(batch.added.len() > 100);
//! # Ok(()) }
//! ```
//!
//! Every operation of the spec answers, in three tiers: Plaid's sandbox reproduced with state
//! (the main paths below; [`STATEFUL_PATHS`] lists all of them), Plaid's test users
//! (`user_good`, `user_transactions_dynamic`, `error_<CODE>` passwords, `user_custom` configs),
//! and for every other operation the request validated against the spec and a spec-valid
//! answer built from its examples. The main stateful paths, checked the way Plaid checks them
//! (credentials headers, JSON body, required fields, known tokens; failures in Plaid's error
//! shape):
//!
//! | Path | Behaviour |
//! |---|---|
//! | `/link/token/create` | new-user and update mode (`access_token`); see [`Sandbox::complete_link`] |
//! | `/sandbox/public_token/create` | Plaid's sandbox institutions (`ins_109508` …) |
//! | `/item/public_token/exchange` | single-use public tokens; creates the Item, its accounts and ledger |
//! | `/item/get`, `/item/remove`, `/item/webhook/update` | removal is final (`ITEM_NOT_FOUND`) |
//! | `/accounts/get`, `/accounts/balance/get` | Plaid's twelve `user_good` accounts (checking, savings, CD, credit card, money market, IRA, 401k, student loan, mortgage, HSA, cash management, a second credit card); balances from the ledger; `options.account_ids` |
//! | `/transactions/sync` | a ledger of realistic transactions (merchants, categories, pending → posted), cursors, `count`, `options.account_id` |
//! | `/transactions/get` | the same ledger by date, newest first, `options.count`/`offset`/`account_ids`; `PRODUCT_NOT_READY` while a new Item is not ready ([`SandboxBuilder::not_ready_syncs`]) |
//! | `/transactions/refresh` | one more day of transactions, and `SYNC_UPDATES_AVAILABLE`, `DEFAULT_UPDATE`, `TRANSACTIONS_REMOVED` |
//! | `/sandbox/item/fire_webhook`, `/sandbox/item/reset_login` | webhooks signed like Plaid's, sent to the Item's URL |
//! | `/webhook_verification_key/get` | the signer's key, so `plaid_sdk::webhook::WebhookVerifier` works unchanged |
//! | `/institutions/get_by_id` | the sandbox institutions |
//!
//! Every account filter (`options.account_ids`, `options.account_id`) is read the same way: an
//! id that is not one of the Item's accounts is `INVALID_ACCOUNT_ID`, and an empty
//! `options.account_ids` is `INVALID_FIELD`, as at Plaid. Every request is checked
//! against the spec first (unknown fields, nested ones too, are `UNKNOWN_FIELDS`), and Plaid's
//! sandbox rate limits per Item apply ([`SandboxBuilder::rate_limits`]).
//!
//! Data is a pure function of the seed ([`SandboxBuilder::seed`]): two sandboxes with one
//! seed hand out the same ids and transactions (tokens are random on every run).
//!
//! A [`Sandbox`] runs as tasks on the Tokio runtime that started it, and stops when it is
//! dropped or that runtime ends: each `#[tokio::test]` starts its own (about 4 ms).
//!
//! # The admin API
//!
//! Tests in any language control the sandbox over HTTP, under [`ADMIN_PREFIX`] (`/__sandbox/`),
//! as Rust tests do with the methods in the last column. From the sandbox's own machine (a
//! loopback address) these endpoints take no credentials; from any other they take the API's
//! `PLAID-CLIENT-ID` and `PLAID-SECRET` headers, and only when the server was started with a
//! secret of its own ([`SECRET`] is published). Like every path, they refuse a request
//! addressed to a host name the sandbox was not given and one a web page of another site
//! sends. A body is JSON. An error is `{"error": "…"}` with status 400 (a value it cannot
//! take, or a field the command does not take: a misspelt one is never ignored), 401 (another
//! machine without the credentials) or 404 (an unknown command or Item), not Plaid's error
//! shape. The two refusals every path shares answer in Plaid's shape: 421 `INVALID_HEADERS`
//! for a host name it was not given, 400 for a request a web page of another site sends.
//!
//! | Method and path | Body | Answer | Rust |
//! |---|---|---|---|
//! | `POST /__sandbox/reset` | none | `{"reset": true}`: every Item, token, Link session, fault and sent webhook forgotten; the clock's moves and the webhook chaos undone | [`Sandbox::reset`] |
//! | `GET /__sandbox/clock` | none | `{"now": "2025-03-14T12:00:00Z"}` | [`Sandbox::now`] |
//! | `POST /__sandbox/clock` | `{"advance_seconds": n}`: a number ≥ 0, fractions allowed; the clock moves at most 100 years at once and stops at 9000-01-01 | `{"now": …}`: the clock moved forward and every Item brought up to it, with its webhooks | [`Sandbox::advance_clock`] |
//! | `POST /__sandbox/webhooks/chaos` | `{"duplicates": 0.3, "max_copies": 3, "delay_ms": [low, high], "targets": [url, …]}`, each optional (`max_copies` defaults to 2); `{}` turns chaos off | `{"chaos": true}`; 400 for a target neither on loopback nor allowed, a body that is not a JSON object, or a field of another type or out of range (`duplicates` 0 to 1, `max_copies` 1 to 100, `delay_ms` up to 600000) | [`Sandbox::webhook_chaos`] |
//! | `GET /__sandbox/webhooks[?since=N]` | none | `{"webhooks": [{"url", "body", "status", "copy", "attempts"}, …], "since", "next"}`, oldest first, from index `N` (0) on; poll with `since` = the last `next` to read only new ones; `status` is `null` while a post is in flight or a retry waits (0 when no answer came); `attempts` counts the posts made | [`Sandbox::webhooks`] |
//! | `POST /__sandbox/faults` | `{"fault": "rate_limit" \| "server_error" \| "mutation" \| "slow", "path": "/accounts/get", "times": n, "delay_ms": n}`: no `path`, any operation (a request that is no operation takes no fault); `times` defaults to 1; `delay_ms`, for `slow`, to 1000 | `{"injected": true}`; 400 for another fault name, `times` outside 1 to 1000000, `delay_ms` over 600000 or with another fault than `slow`, or a `path` that is not an operation of the spec | [`Sandbox::inject`] |
//! | `GET /__sandbox/items/<item_id>/transactions` | none | `{"transactions": [{"transaction_id", "account_id", "amount", "date", "pending", "name"}, …]}`: the Item's transactions as a sync returns them; 404 for an Item it does not have or that was removed | [`Sandbox::transactions`] |
//! | `GET /__sandbox/version` | none | `{"plaid_sandbox": "0.1.0", "spec": "2020-09-14_1.697.4"}`: this crate's version and the spec it serves | |
//! | `GET /__sandbox/operations` | none | `{"spec", "operations": [{"method", "path", "operation_id", "answer": "stateful" \| "spec", "content_type"}, …]}`: every operation of the spec, and where its answer comes from | [`STATEFUL_PATHS`] |
//!
//! The fault names stand for [`Fault::RateLimit`], [`Fault::ServerError`],
//! [`Fault::MutationDuringPagination`] and [`Fault::Slow`]. The paths under
//! `/__sandbox/link/` are the calls of the sandbox's Link emulator, made by its own page: they
//! are not for tests.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
pub mod cli;
mod failure;
mod handlers;
mod identity_match;
mod institutions;
mod ledger;
mod link_flow;
mod proxy;
mod rng;
mod server;
mod spec;
mod state;
mod users;
mod webhooks;

pub use handlers::STATEFUL_PATHS;
pub use plaid_sdk::webhook::testing::WebhookSigner;

use chrono::{DateTime, NaiveDate, Utc};
use plaid_sdk::{ItemId, PlaidClient};
use serde_json::Value;
use server::App;
use state::{lock, Injected, Settings, State};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use webhooks::Outgoing;

/// The path prefix of the sandbox's own endpoints (`POST /__sandbox/reset`, the clock, the
/// webhook chaos, …), which no Plaid path uses. The crate docs list them all
/// ([the admin API](crate#the-admin-api)).
pub const ADMIN_PREFIX: &str = "/__sandbox/";

/// The client id the offline sandbox accepts unless told otherwise (see [`Sandbox::client`]).
pub const CLIENT_ID: &str = "offline-sandbox-client";
/// The secret the offline sandbox accepts unless told otherwise.
pub const SECRET: &str = "offline-sandbox-secret";

/// Whether the environment names no Plaid at all: none of `PLAID_CLIENT_ID`, `PLAID_SECRET`
/// and `PLAID_ENV` is set (or each is empty). Only then should an example, or an app's dev
/// mode, fall back to the offline sandbox: a half-set environment (a secret without its client
/// id, a misspelt `PLAID_ENV`) is a mistake to report, never a reason to answer with fake data.
///
/// ```no_run
/// # async fn run() -> Result<(), plaid_sdk::Error> {
/// use plaid_sandbox::Sandbox;
///
/// let (client, _sandbox) = if plaid_sandbox::env_names_no_plaid() {
///     let sandbox = Sandbox::start().await; // stops when dropped: keep it
///     (sandbox.client(), Some(sandbox))
/// } else {
///     // Every mistake in the settings at once, as an `Error::Config`.
///     (plaid_sdk::PlaidClient::from_env()?, None)
/// };
/// # Ok(()) }
/// ```
pub fn env_names_no_plaid() -> bool {
    ["PLAID_CLIENT_ID", "PLAID_SECRET", "PLAID_ENV"]
        .iter()
        .all(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
}

/// A fault to inject into the sandbox's next answers (see [`Sandbox::inject`]).
///
/// The client of [`Sandbox::client`] retries a `429` or a `500` a few times with a short
/// backoff, so a fault injected once or twice is retried away. On `/transactions/sync` the
/// SDK's sync driver then asks for the failed page again, keeping the pages it has, up to
/// [`max_retries`](plaid_sdk::sync::TransactionsSync::max_retries) times in a row (8), waiting
/// twice the client's initial backoff (10 ms with this client), doubling: a fault that lasts
/// ends the sync within about two seconds. A mutation during pagination restarts the loop
/// from its first cursor at once, up to
/// [`max_restarts`](plaid_sdk::sync::TransactionsSync::max_restarts) times.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `429 RATE_LIMIT_EXCEEDED`.
    RateLimit,
    /// `500 API_ERROR INTERNAL_SERVER_ERROR`.
    ServerError,
    /// The normal answer, after this delay.
    Slow(Duration),
    /// `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`; the Items' data really changes (one
    /// more batch of transactions), as it would at Plaid.
    MutationDuringPagination,
}

/// A webhook the sandbox sent (or, under [`WebhookChaos`], one copy of it).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SentWebhook {
    /// Where it went.
    pub url: String,
    /// The JSON body.
    pub body: Value,
    /// The receiver's HTTP status; `Some(0)` if it could not be reached (or was not sent: a
    /// host that is neither loopback nor allowed). `None` while a post is in flight, and also
    /// while a retry is scheduled after an answer other than 200: the first retry waits 30 s
    /// unless [`SandboxBuilder::webhook_retry`] shortens it, and retries go on for 24 hours.
    pub status: Option<u16>,
    /// 0 for the webhook, 1, 2, … for the duplicates chaos added.
    pub copy: u32,
    /// Posts made so far: more than 1 when the receiver did not answer 200 and the sandbox
    /// retried, as Plaid does ([`SandboxBuilder::webhook_retry`]).
    pub attempts: u32,
}

/// How the sandbox delivers webhooks, for testing a receiver against what Plaid does: at least
/// once, in no guaranteed order, to whichever of a service's replicas. Deterministic: the same
/// seed makes the same duplicates and delays. Set it with [`Sandbox::webhook_chaos`] (its
/// example shows a use).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct WebhookChaos {
    /// The share of webhooks sent more than once (0 to 1).
    pub duplicates: f64,
    /// The most copies of one webhook (at least 2 for any duplicate).
    pub max_copies: u32,
    /// Each copy waits a random time in this range before it is sent, so webhooks overtake
    /// each other.
    pub delay: (Duration, Duration),
    /// Deliver each copy to one of these URLs, at random, instead of the Item's webhook URL
    /// (a stand-in for a load balancer in front of replicas).
    pub targets: Vec<String>,
}

impl WebhookChaos {
    /// No chaos: each webhook once, at once, in order, to the Item's URL.
    pub fn none() -> Self {
        WebhookChaos::default()
    }

    /// Sends `share` of webhooks 2 to `max_copies` times.
    pub fn duplicates(mut self, share: f64, max_copies: u32) -> Self {
        self.duplicates = share.clamp(0.0, 1.0);
        self.max_copies = max_copies.max(1);
        self
    }

    /// Delays each copy by a random time between `low` and `high`.
    pub fn delay(mut self, low: Duration, high: Duration) -> Self {
        self.delay = (low.min(high), high.max(low));
        self
    }

    /// Delivers to these URLs, one at random per copy (a retry picks again). Like an Item's
    /// webhook URL, a target must be on a loopback host or one allowed by name
    /// ([`SandboxBuilder::allow_webhook_host`]); a webhook for another is recorded as not
    /// reached (`status: Some(0)`) and not sent.
    pub fn targets(mut self, urls: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.targets = urls.into_iter().map(Into::into).collect();
        self
    }
}

/// One transaction as the sandbox holds it ([`Sandbox::transactions`]): the fields a test
/// checks a synced copy against. Its JSON (`GET /__sandbox/items/<item_id>/transactions`)
/// has these names; `date` is `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct LedgerTransaction {
    /// Plaid's `transaction_id`.
    pub transaction_id: String,
    /// The account it is on.
    pub account_id: String,
    /// Plaid's sign: positive for money out of the account.
    pub amount: f64,
    /// The date it posted (or, while pending, was made).
    pub date: NaiveDate,
    /// Whether it is still pending.
    pub pending: bool,
    /// Its `name`.
    pub name: String,
}

/// Why a control method of the sandbox failed, or why it could not start: something it does
/// not have (an Item id, a Link token), an error Plaid would give (see
/// [`error_code`](Self::error_code)), or an address it cannot listen on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("offline sandbox: {message}")]
pub struct SandboxError {
    message: String,
    code: Option<String>,
}

impl SandboxError {
    /// An error of the sandbox's own, with no Plaid error code.
    fn new(message: impl Into<String>) -> Self {
        SandboxError {
            message: message.into(),
            code: None,
        }
    }

    /// Plaid's error, with its code, after `context` (if any).
    fn plaid(context: &str, failure: &failure::Failure) -> Self {
        SandboxError {
            message: format!("{context}{}: {}", failure.code, failure.message),
            code: Some(failure.code.clone()),
        }
    }

    /// Plaid's `error_code` when the error is one Plaid would give: the credentials
    /// [`Sandbox::complete_link_as`] played (`INVALID_CREDENTIALS`, `ITEM_LOCKED`, any
    /// `error_<CODE>` password's code), a Link token that is unknown or expired
    /// (`INVALID_LINK_TOKEN`), a webhook [`Sandbox::fire_webhook`] cannot send. `None` for the
    /// sandbox's own errors: an Item id it does not have, an address it cannot listen on.
    /// [`Sandbox::complete_link`]'s example shows one.
    pub fn error_code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

/// Settings for a [`Sandbox`]. Its `Debug` output leaves the secret out.
#[derive(Clone)]
pub struct SandboxBuilder {
    seed: u64,
    today: Option<NaiveDate>,
    frozen: bool,
    history_days: u64,
    not_ready_syncs: u32,
    listen: SocketAddr,
    client_id: String,
    secret: String,
    webhook_hosts: Vec<String>,
    hosts: Vec<String>,
    webhook_retry: Duration,
    rate_limits: bool,
}

/// Every setting but the secret, which is shown as `<redacted>`: a builder printed in a
/// test's log or a panic message does not give it away.
impl fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("seed", &self.seed)
            .field("today", &self.today)
            .field("frozen", &self.frozen)
            .field("history_days", &self.history_days)
            .field("not_ready_syncs", &self.not_ready_syncs)
            .field("listen", &self.listen)
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .field("webhook_hosts", &self.webhook_hosts)
            .field("hosts", &self.hosts)
            .field("webhook_retry", &self.webhook_retry)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            seed: 0,
            today: None,
            frozen: false,
            history_days: 90,
            not_ready_syncs: 0,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            client_id: CLIENT_ID.to_owned(),
            secret: SECRET.to_owned(),
            webhook_hosts: Vec::new(),
            hosts: Vec::new(),
            webhook_retry: Duration::from_secs(30),
            rate_limits: true,
        }
    }
}

impl SandboxBuilder {
    /// Where to listen (default `127.0.0.1:0`: a free loopback port). The sandbox holds
    /// tokens and accepts one secret, like any test server: keep it on loopback.
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.listen = address;
        self
    }

    /// The client id requests must carry (default [`CLIENT_ID`]).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The secret requests must carry (default [`SECRET`]).
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = secret.into();
        self
    }

    /// Also answers requests addressed to this host name (as in the `Host` header, with or
    /// without a port): a container's name, or a proxy's that keeps the browser's `Host`. By
    /// default the sandbox answers only requests addressed to an IP address, `localhost`
    /// (and `*.localhost`) or Plaid's CDN host (the script-swap recipe); any other name is
    /// refused with 421 `INVALID_HEADERS`, so that a web page cannot reach it under a name
    /// of its own (DNS rebinding).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sandbox = plaid_sandbox::Sandbox::builder()
    ///     .allow_host("sandbox") // reached as http://sandbox:4010 from another container
    ///     .start()
    ///     .await;
    /// # drop(sandbox); }
    /// ```
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        let host = host.into();
        // Kept in the form a `Host` header is read into; a name that is no host never matches.
        if let Some(url::Host::Domain(name)) = server::host_of(host.trim()) {
            self.hosts.push(name);
        }
        self
    }

    /// Also delivers webhooks to this host (by name, as in the URL). By default webhooks go
    /// to loopback addresses only (`localhost`, `127.0.0.0/8`, `::1`); one for any other host
    /// is recorded as undelivered, so a test cannot post to the internet by mistake. An IP
    /// address is taken with or without brackets; a value with a scheme, a port or a path
    /// never matches a host, and is ignored (the binary refuses it).
    pub fn allow_webhook_host(mut self, host: impl Into<String>) -> Self {
        if let Some(host) = webhooks::webhook_host(&host.into()) {
            self.webhook_hosts.push(host);
        }
        self
    }

    /// The seed all data derives from (default 0): ids, accounts and transactions. Tokens
    /// are not derived from it: they are random on every run, unguessable as Plaid's are, so
    /// that nobody who knows the seed (or works it out from ids) can predict another user's
    /// link, public or access token.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), plaid_sdk::Error> {
    /// use plaid_sandbox::Sandbox;
    /// use plaid_sdk::types::Products;
    ///
    /// let a = Sandbox::builder().seed(7).start().await;
    /// let b = Sandbox::builder().seed(7).start().await;
    /// let in_a = a.client().sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// let in_b = b.client().sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// assert_eq!(in_a.item_id, in_b.item_id);
    /// assert_ne!(in_a.access_token, in_b.access_token);
    /// # Ok(()) }
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The sandbox's start date, the last day of each new Item's history (default: today,
    /// UTC). With a date set, the clock starts at noon UTC that day and stands still unless
    /// moved ([`Sandbox::advance_clock`], whose example sets a date), so data is the same on
    /// every run. Dates after 9000-01-01 (or before year 1) are taken as that date. A frozen
    /// clock does not end a minute of [`rate_limits`](Self::rate_limits) by itself: the `429`
    /// then says to move the clock or turn the limits off.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self.frozen = true;
        self
    }

    /// Whether the clock stands still between moves (default: only with [`today`](Self::today)).
    /// A clock that flows brings an Item up to the time that flowed only when the Item is next
    /// called or the clock is next moved: a day that passes in real time sends no webhook by
    /// itself.
    pub fn frozen_clock(mut self, frozen: bool) -> Self {
        self.frozen = frozen;
        self
    }

    /// Days of transaction history a new `user_good` Item has (default 90; about 3
    /// transactions a day).
    pub fn history_days(mut self, days: u64) -> Self {
        self.history_days = days.min(3650);
        self
    }

    /// How many transactions calls on a new Item answer "not ready" before data arrives, as
    /// a fresh Item at Plaid does (default 0): `/transactions/sync` answers an empty cursor
    /// with `NOT_READY`, `/transactions/get` the `PRODUCT_NOT_READY` error. Both count
    /// towards the same number. The Item's transactions webhooks come when the last of those
    /// calls is answered, not at link time: `INITIAL_UPDATE` and `HISTORICAL_UPDATE`, and
    /// `SYNC_UPDATES_AVAILABLE` (30 days ready, then the whole history) once
    /// `/transactions/sync` has been called, as Plaid's docs give them. So with 1, an app
    /// told "not ready" that waits for `SYNC_UPDATES_AVAILABLE` gets it; with more, the data
    /// is ready only after that many calls, which plays an app that polls (a webhook-driven
    /// app would wait for ever).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), plaid_sdk::Error> {
    /// use plaid_sdk::sync::TransactionsSync;
    /// use plaid_sdk::types::Products;
    ///
    /// let sandbox = plaid_sandbox::Sandbox::builder().not_ready_syncs(1).start().await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Transactions]).await?;
    /// let sync = TransactionsSync::new(item.access_token);
    /// assert!(client.transactions_sync_all(&sync).await?.into_batch().is_none()); // not ready
    /// assert!(client.transactions_sync_all(&sync).await?.into_batch().is_some());
    /// # Ok(()) }
    /// ```
    pub fn not_ready_syncs(mut self, calls: u32) -> Self {
        self.not_ready_syncs = calls;
        self
    }

    /// Whether Plaid's sandbox rate limits per Item apply (default on): `/transactions/sync` 50
    /// calls a minute (`TRANSACTIONS_SYNC_LIMIT`), `/accounts/balance/get` 25
    /// (`BALANCE_LIMIT`), `/transactions/refresh` 2 (`RATE_LIMIT`), `/item/get` 40
    /// (`ITEM_GET_LIMIT`), `/accounts/get` and `/auth/get` 100 (`ACCOUNTS_LIMIT`,
    /// `AUTH_LIMIT`), each a `429` of type `RATE_LIMIT_EXCEEDED`, counted over the last minute
    /// of the sandbox's clock. Off for load tests and benches.
    pub fn rate_limits(mut self, on: bool) -> Self {
        self.rate_limits = on;
        self
    }

    /// How long after a webhook the receiver did not answer 200 (within 10 s) it is sent
    /// again: Plaid waits 30 s (the default), then four times longer each time, for 24 hours,
    /// signing each delivery anew. `Duration::ZERO` sends each webhook once.
    ///
    /// While a retry waits, the webhook's [`status`](SentWebhook::status) is `None`, and
    /// [`Sandbox::wait_for_webhooks`] does not count it as answered: a test whose receiver
    /// fails on purpose shortens the wait, or turns retries off.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use plaid_sdk::types::{ItemWebhookUpdateRequest, Products};
    /// use std::time::Duration;
    ///
    /// // A receiver that is down: nothing listens on this port any more.
    /// let port = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
    /// let sandbox = plaid_sandbox::Sandbox::builder()
    ///     .webhook_retry(Duration::ZERO) // one post, its answer recorded at once
    ///     .start()
    ///     .await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// let url = format!("http://127.0.0.1:{port}/plaid/webhook");
    /// let update = ItemWebhookUpdateRequest::new(item.access_token).webhook(url);
    /// client.item_webhook_update(&update).await?; // Plaid acknowledges with a webhook
    /// let sent = sandbox.wait_for_webhooks(1).await;
    /// assert_eq!((sent[0].status, sent[0].attempts), (Some(0), 1)); // not reached, not retried
    /// # Ok(()) }
    /// ```
    pub fn webhook_retry(mut self, first: Duration) -> Self {
        self.webhook_retry = first;
        self
    }

    /// Starts the sandbox. Call it inside a Tokio runtime: the server and the webhook sender
    /// run as tasks on it, and stop when the [`Sandbox`] is dropped or that runtime ends (see
    /// [`Sandbox`]).
    ///
    /// # Panics
    ///
    /// If it cannot listen on its address; [`try_start`](Self::try_start) returns the error.
    #[must_use = "the sandbox stops when dropped: keep it for as long as its clients are used"]
    pub async fn start(self) -> Sandbox {
        match self.try_start().await {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts the sandbox, or says why it cannot listen. As with [`start`](Self::start), it
    /// runs on the current Tokio runtime until dropped.
    pub async fn try_start(self) -> Result<Sandbox, SandboxError> {
        let start = match self.today {
            Some(day) => day
                .and_hms_opt(12, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now),
            None => Utc::now(),
        };
        let state = Arc::new(Mutex::new(State::new(Settings {
            seed: self.seed,
            history_days: self.history_days,
            not_ready_syncs: self.not_ready_syncs,
            client_id: self.client_id,
            secret: self.secret,
            webhook_hosts: self.webhook_hosts,
            webhook_retry: self.webhook_retry,
            start,
            frozen: self.frozen,
            rate_limits: self.rate_limits,
        })));
        let signer = Arc::new(WebhookSigner::new());
        let http = reqwest::Client::builder()
            .no_proxy()
            // A redirect would carry a signed webhook to a host nobody allowed; Plaid counts
            // any answer but 200 as a failure, a redirect too.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SandboxError::new(format!("cannot build the webhook sender: {e}")))?;
        let outbox = webhooks::start_outbox(Arc::clone(&state), http, Arc::clone(&signer));
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|e| SandboxError::new(format!("cannot listen on {}: {e}", self.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| SandboxError::new(format!("cannot read the bound address: {e}")))?;
        let app = Arc::new(App {
            state: Arc::clone(&state),
            signer: Arc::clone(&signer),
            outbox: outbox.clone(),
            hosts: self.hosts,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let router =
                server::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        let uri = format!("http://{address}");
        let prism = proxy::start_if_configured(&uri)
            .await
            .map_err(SandboxError::new)?;
        Ok(Sandbox {
            uri,
            _stop: stop,
            server,
            prism,
            _webhooks: EndWebhooks(Arc::clone(&state)),
            state,
            signer,
            outbox,
        })
    }
}

/// A running offline sandbox.
///
/// Its server and webhook sender run as tasks on the Tokio runtime that started it. They stop
/// when the `Sandbox` is dropped or when that runtime ends, whichever comes first. Keep it in
/// a variable for as long as its clients are used: `Sandbox::start().await.client()` drops it
/// at once, and the client's calls then fail to connect. Each `#[tokio::test]` runs on a
/// runtime of its own, so each test starts its own sandbox: starting one is cheap (about 4 ms,
/// in this crate's bench). A sandbox kept in a `static` cannot outlive the test that started
/// it: once that test ends, the other tests' calls to it fail.
#[must_use = "the sandbox stops when dropped: keep it for as long as its clients are used"]
pub struct Sandbox {
    uri: String,
    /// Dropped with the sandbox: the server then shuts down.
    _stop: tokio::sync::oneshot::Sender<()>,
    /// The server's task: it ends once the requests being answered at shutdown are.
    server: tokio::task::JoinHandle<()>,
    /// Prism's validating proxy in front of the server, in this project's conformance run only
    /// (see `proxy.rs`).
    prism: Option<proxy::PrismProxy>,
    state: Arc<Mutex<State>>,
    signer: Arc<WebhookSigner>,
    outbox: webhooks::Outbox,
    /// Dropped with the sandbox: webhooks waiting out a delay or a retry, and those queued,
    /// are not sent (review round 21: they were, after the sandbox was gone).
    _webhooks: EndWebhooks,
}

/// Ends the sandbox's webhooks when dropped ([`State::end_webhooks`]).
struct EndWebhooks(Arc<Mutex<State>>);

impl Drop for EndWebhooks {
    fn drop(&mut self) {
        lock(&self.0).end_webhooks();
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Stops taking connections and waits, for at most `grace`, until the requests being
    /// answered have been (the binary's SIGTERM and Ctrl-C: a test suite's last call gets its
    /// answer, not a dropped connection).
    pub(crate) async fn stop_within(self, grace: Duration) {
        let Sandbox {
            _stop: stop,
            server,
            ..
        } = self;
        drop(stop);
        let _ = tokio::time::timeout(grace, server).await;
    }

    /// Starts a sandbox with the default settings, on the current Tokio runtime. It stops when
    /// dropped or when that runtime ends (see [`Sandbox`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// assert!(sandbox.uri().starts_with("http://127.0.0.1:"));
    /// # }
    /// ```
    #[must_use = "the sandbox stops when dropped: keep it for as long as its clients are used"]
    pub async fn start() -> Sandbox {
        SandboxBuilder::default().start().await
    }

    /// Settings: seed, dates, credentials, address, "not ready" answers.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The base URL to point a client at.
    pub fn uri(&self) -> String {
        match &self.prism {
            Some(prism) => prism.url.clone(),
            None => self.uri.clone(),
        }
    }

    /// The client id it accepts.
    pub fn client_id(&self) -> String {
        lock(&self.state).settings.client_id.clone()
    }

    /// A client for this sandbox: its URL and credentials, and a retry policy with a short
    /// backoff (5 ms, at most 50 ms), so that a test with injected faults does not wait as long
    /// as it would at Plaid.
    ///
    /// The SDK's `/transactions/sync` driver
    /// ([`TransactionsSync`](plaid_sdk::sync::TransactionsSync)) takes its own backoff from
    /// this policy too: a page that failed after the client's retries is asked for again after
    /// 10 ms, doubling, 8 times at most, so a fault that lasts ends a sync within about two
    /// seconds. See [`Fault`].
    pub fn client(&self) -> PlaidClient {
        self.client_builder()
            .build()
            .expect("the sandbox's own settings are valid")
    }

    /// A client builder already pointed at this sandbox with its credentials, to change other
    /// settings before `build()`.
    pub fn client_builder(&self) -> plaid_sdk::ClientBuilder {
        let (client_id, secret) = {
            let state = lock(&self.state);
            (
                state.settings.client_id.clone(),
                state.settings.secret.clone(),
            )
        };
        PlaidClient::builder()
            .client_id(client_id)
            .secret(secret)
            .base_url(self.uri())
            .retry_policy(
                plaid_sdk::RetryPolicy::default()
                    .initial_backoff(Duration::from_millis(5))
                    .max_backoff(Duration::from_millis(50)),
            )
    }

    /// The key the sandbox signs webhooks with (its public half is served at
    /// `/webhook_verification_key/get`).
    pub fn signer(&self) -> &WebhookSigner {
        &self.signer
    }

    /// The sandbox's clock now (see [`SandboxBuilder::today`], [`advance_clock`](Self::advance_clock)).
    pub fn now(&self) -> DateTime<Utc> {
        lock(&self.state).now()
    }

    /// Moves the sandbox's clock forward, and brings every Item up to it at once, as time
    /// passing at Plaid would. Pending transactions post and new days of activity arrive
    /// (`SYNC_UPDATES_AVAILABLE` to an Item synced once; `DEFAULT_UPDATE` and
    /// `TRANSACTIONS_REMOVED` to every Transactions Item past its "not ready" phase). An Item's
    /// login ends 30 days after it
    /// was linked or repaired (`ITEM_LOGIN_REQUIRED`, with the `ITEM` `ERROR` webhook); an Item
    /// in error gets no new days until it is repaired, as Plaid cannot reach its bank. These
    /// webhooks go out at once, with no other call. Public tokens expire after 30 minutes, and
    /// Link tokens after 4 hours (30 minutes in update mode). An Item that missed more than
    /// two years (730 days, the history a bank gives Plaid) gets only the last two years when
    /// it catches up: the days before are never pulled, and any gap costs at most two years
    /// of days. The clock moves at most 100 years at once, and stops at 9000-01-01.
    ///
    /// A clock that flows (no [`SandboxBuilder::today`]) also moves by itself, but an Item
    /// catches up with the time that flowed only when it is next called or the clock is next
    /// moved.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), plaid_sdk::Error> {
    /// use chrono::NaiveDate;
    /// use plaid_sdk::types::{AccountsGetRequest, Products};
    /// use plaid_sdk::ErrorCode;
    /// use std::time::Duration;
    ///
    /// let day = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
    /// let sandbox = plaid_sandbox::Sandbox::builder().today(day).start().await;
    /// assert_eq!(sandbox.now(), day.and_hms_opt(12, 0, 0).unwrap().and_utc()); // stands still
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    ///
    /// sandbox.advance_clock(Duration::from_secs(31 * 86_400));
    /// let error = client.accounts_get(&AccountsGetRequest::new(item.access_token)).await.unwrap_err();
    /// assert_eq!(error.error_code(), Some(&ErrorCode::ItemLoginRequired));
    /// # Ok(()) }
    /// ```
    pub fn advance_clock(&self, by: Duration) {
        let mut state = lock(&self.state);
        let outgoing = handlers::advance_clock(&mut state, by);
        webhooks::send(&mut state, &self.outbox, outgoing);
    }

    /// How webhooks are delivered from now on (see [`WebhookChaos`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let port = tokio::net::TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
    /// # let url = format!("http://127.0.0.1:{port}/plaid/webhook");
    /// use plaid_sandbox::{Sandbox, WebhookChaos};
    /// use plaid_sdk::types::{ItemWebhookUpdateRequest, Products};
    ///
    /// let sandbox = Sandbox::start().await;
    /// sandbox.webhook_chaos(WebhookChaos::none().duplicates(1.0, 2)); // every webhook twice
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// let update = ItemWebhookUpdateRequest::new(item.access_token).webhook(url);
    /// client.item_webhook_update(&update).await?; // Plaid acknowledges with a webhook
    /// let copies: Vec<u32> = sandbox.webhooks().iter().map(|w| w.copy).collect();
    /// assert_eq!(copies, [0, 1]);
    /// # Ok(()) }
    /// ```
    pub fn webhook_chaos(&self, chaos: WebhookChaos) {
        lock(&self.state).chaos = chaos;
    }

    /// Plays the user finishing Link with a new-user link token, as `user_good` /
    /// `pass_good`: returns the public token Link's `onSuccess` would hand the front end, for
    /// an Item at `institution_id` with the link token's products and webhook. The session is
    /// recorded for `/link/token/get`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use plaid_sdk::types::{
    ///     CountryCode, ItemPublicTokenExchangeRequest, LinkTokenCreateRequest,
    ///     LinkTokenCreateRequestUser, Products,
    /// };
    ///
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// let client = sandbox.client();
    /// let user = LinkTokenCreateRequestUser::new("user-42");
    /// let request = LinkTokenCreateRequest::new("My App", "en", vec![CountryCode::Us], user)
    ///     .products(vec![Products::Transactions]);
    /// let link_token = client.link_token_create(&request).await?.link_token;
    ///
    /// // The user logs in at First Platypus Bank; the front end sends the public token back.
    /// let public_token = sandbox.complete_link(&link_token, "ins_109508")?;
    /// let exchange = ItemPublicTokenExchangeRequest::new(public_token);
    /// client.item_public_token_exchange(&exchange).await?;
    /// assert_eq!(sandbox.connected_items().len(), 1);
    ///
    /// // Another try, at a bank that locks the user out: Link reports Plaid's error.
    /// let locked = sandbox
    ///     .complete_link_as(&link_token, "ins_109508", "user_good", "error_ITEM_LOCKED")
    ///     .unwrap_err();
    /// assert_eq!(locked.error_code(), Some("ITEM_LOCKED"));
    /// # Ok(()) }
    /// ```
    pub fn complete_link(
        &self,
        link_token: &str,
        institution_id: &str,
    ) -> Result<plaid_sdk::PublicToken, SandboxError> {
        self.complete_link_as(link_token, institution_id, "user_good", "pass_good")
    }

    /// [`complete_link`](Self::complete_link) with other test credentials (`user_custom` and
    /// a JSON config, `user_transactions_dynamic`, `error_<CODE>` passwords …). An error the
    /// credentials cause is Plaid's, as Link would report it: its code is
    /// [`SandboxError::error_code`] (`complete_link`'s example shows one).
    pub fn complete_link_as(
        &self,
        link_token: &str,
        institution_id: &str,
        username: &str,
        password: &str,
    ) -> Result<plaid_sdk::PublicToken, SandboxError> {
        let mut state = lock(&self.state);
        server::link_success(
            &mut state,
            link_token,
            institution_id,
            username,
            password,
            None,
        )
        .map(plaid_sdk::PublicToken::new)
        .map_err(|f| SandboxError::plaid("", &f))
    }

    /// Plays the user finishing Link in update mode: the Item's error is cleared and its login
    /// lasts another 30 days. As at Plaid, no `LOGIN_REPAIRED` webhook is sent (Plaid sends it
    /// only when the Item is repaired outside the app's own update mode, which
    /// [`Sandbox::fire_webhook`] with `LOGIN_REPAIRED` plays): the app learns of the repair from
    /// Link's `onSuccess`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use plaid_sdk::types::{AccountsGetRequest, LinkTokenCreateRequest, Products};
    /// use plaid_sdk::ErrorCode;
    ///
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// let accounts = AccountsGetRequest::new(item.access_token.clone());
    ///
    /// sandbox.require_login(&item.item_id)?; // the bank asks the user to log in again
    /// let error = client.accounts_get(&accounts).await.unwrap_err();
    /// assert_eq!(error.error_code(), Some(&ErrorCode::ItemLoginRequired));
    ///
    /// // The app opens Link in update mode, and the user logs in.
    /// let update = LinkTokenCreateRequest::update_mode("My App", "user-42", item.access_token);
    /// let link_token = client.link_token_create(&update).await?.link_token;
    /// sandbox.complete_update(&link_token)?;
    /// client.accounts_get(&accounts).await?;
    /// # Ok(()) }
    /// ```
    pub fn complete_update(&self, link_token: &str) -> Result<ItemId, SandboxError> {
        self.complete_update_with(link_token, None)
    }

    /// [`complete_update`](Self::complete_update) with the credentials the user types, checked
    /// as at a new login: an `error_<CODE>` password plays a repair that fails. Link reports
    /// Plaid's error ([`SandboxError::error_code`]) and the Item stays as it was.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use plaid_sdk::types::{LinkTokenCreateRequest, Products};
    ///
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// sandbox.require_login(&item.item_id)?;
    /// let update = LinkTokenCreateRequest::update_mode("My App", "user-42", item.access_token);
    /// let link_token = client.link_token_create(&update).await?.link_token;
    ///
    /// let locked = sandbox
    ///     .complete_update_as(&link_token, "user_good", "error_ITEM_LOCKED")
    ///     .unwrap_err();
    /// assert_eq!(locked.error_code(), Some("ITEM_LOCKED"));
    /// let repaired = sandbox.complete_update_as(&link_token, "user_good", "pass_good")?;
    /// assert_eq!(repaired, item.item_id);
    /// # Ok(()) }
    /// ```
    pub fn complete_update_as(
        &self,
        link_token: &str,
        username: &str,
        password: &str,
    ) -> Result<ItemId, SandboxError> {
        self.complete_update_with(link_token, Some((username, password)))
    }

    fn complete_update_with(
        &self,
        link_token: &str,
        credentials: Option<(&str, &str)>,
    ) -> Result<ItemId, SandboxError> {
        let mut state = lock(&self.state);
        server::link_update(&mut state, link_token, credentials)
            .map(ItemId::new)
            .map_err(|f| SandboxError::plaid("", &f))
    }

    /// Which user (`user.client_user_id`) a link token was created for.
    pub fn link_token_user(&self, link_token: &str) -> Option<String> {
        lock(&self.state)
            .link_tokens
            .get(link_token)
            .map(|s| s.client_user_id.clone())
    }

    /// Puts an Item in `ITEM_LOGIN_REQUIRED` (as `/sandbox/item/reset_login` does) and sends
    /// it the `ITEM` `ERROR` webhook. [`complete_update`](Self::complete_update)'s example
    /// shows it, and the repair.
    pub fn require_login(&self, item_id: impl AsRef<str>) -> Result<(), SandboxError> {
        self.with_item(item_id, |item, now, out| {
            handlers::require_login(item, out, now);
            Ok(())
        })
    }

    /// Sends an Item the webhook `/sandbox/item/fire_webhook` would for `code` (with its
    /// code's own webhook type), by Item id rather than access token.
    /// [`wait_for_webhooks`](Self::wait_for_webhooks)'s example shows it.
    ///
    /// Beyond Plaid's documentation (which describes only the webhook), here and in
    /// `/sandbox/item/fire_webhook` the Item also takes the state the webhook reports, so that
    /// `/item/get` agrees with it: `ERROR` and `USER_PERMISSION_REVOKED` set the Item's error,
    /// `LOGIN_REPAIRED` clears it, `PENDING_EXPIRATION` sets the consent's end. Against Plaid's
    /// sandbox, reach those states with `/sandbox/item/reset_login` and update mode instead.
    pub fn fire_webhook(&self, item_id: impl AsRef<str>, code: &str) -> Result<(), SandboxError> {
        self.with_item(item_id, |item, now, out| {
            // The error `/sandbox/item/fire_webhook` answers; without a usable webhook URL, with
            // what to do about it.
            let body = handlers::fire(item, code, None, now, out).map_err(|f| {
                let f = if f.code == "SANDBOX_WEBHOOK_INVALID" {
                    f.message(format!(
                        "Item {} has no http(s) webhook URL: set one with .webhook(url) on the \
                         link token (or /sandbox/public_token/create's options.webhook), or call \
                         /item/webhook/update",
                        item.item_id
                    ))
                } else {
                    f
                };
                SandboxError::plaid(&format!("cannot fire webhook {code}: "), &f)
            })?;
            webhooks::queue(item, out, body, now);
            Ok(())
        })
    }

    /// Moves one Item's data `days` days forward: new purchases, pending transactions posting,
    /// corrections. If anything changed, sends what Plaid sends (to a Transactions Item past
    /// its "not ready" phase): `SYNC_UPDATES_AVAILABLE` (once the Item has been synced),
    /// `DEFAULT_UPDATE` and `TRANSACTIONS_REMOVED`. Returns the number of changes. An Item in
    /// error (a login needed) gets no new days, as Plaid cannot reach its bank: 0. Past two
    /// years, only the last two years' days are made (as for an Item Plaid could not reach
    /// for that long): the bank gives Plaid no more history.
    /// ([`advance_clock`](Self::advance_clock) moves every Item, and time itself. This does
    /// not move the clock: the Item's new transactions are dated up to `days` days after
    /// [`now`](Self::now), so a `/transactions/get` meant to see them needs an `end_date`
    /// that far ahead, while recurring streams and `/sandbox/transactions/create` go by the
    /// clock's date.)
    pub fn advance_days(&self, item_id: impl AsRef<str>, days: u32) -> Result<usize, SandboxError> {
        let mut changes = 0;
        self.with_item(item_id, |item, now, out| {
            if item.error.is_some() {
                return Ok(());
            }
            let changed = item.ledger.leap(days.into());
            changes = changed.count();
            if item.has_product("transactions") {
                handlers::transactions::refreshed_webhooks(item, &changed, now, out, now);
            }
            Ok(())
        })?;
        Ok(changes)
    }

    /// The Item's transactions as they stand, on the accounts Transactions covers (as a sync
    /// returns them), sorted by id: for tests that check a sync result against the truth.
    /// `GET /__sandbox/items/<item_id>/transactions` answers the same list.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use plaid_sdk::sync::TransactionsSync;
    /// use plaid_sdk::types::Products;
    ///
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Transactions]).await?;
    /// let sync = TransactionsSync::new(item.access_token);
    /// let batch = client.transactions_sync_all(&sync).await?.into_batch().expect("ready");
    /// let mut synced: Vec<String> = batch.added.into_iter().map(|t| t.transaction_id).collect();
    /// synced.sort();
    /// let truth = sandbox.transactions(&item.item_id)?;
    /// assert_eq!(synced, truth.into_iter().map(|t| t.transaction_id).collect::<Vec<_>>());
    /// # Ok(()) }
    /// ```
    pub fn transactions(
        &self,
        item_id: impl AsRef<str>,
    ) -> Result<Vec<LedgerTransaction>, SandboxError> {
        let mut out = Vec::new();
        self.with_item(item_id, |item, _, _| {
            out = handlers::transactions::ledger(item);
            Ok(())
        })?;
        Ok(out)
    }

    /// The Items still connected (created and not removed with `/item/remove`), sorted: for
    /// tests that check an app never leaves a bank connected it does not know about.
    pub fn connected_items(&self) -> Vec<ItemId> {
        let state = lock(&self.state);
        let mut ids: Vec<ItemId> = state
            .items
            .iter()
            .filter(|(_, item)| !item.removed)
            .map(|(id, _)| ItemId::new(id.clone()))
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids
    }

    /// Forgets every Item, token, Link session, injected fault and sent webhook, the clock's
    /// moves and the webhook chaos, as `POST /__sandbox/reset` does: the sandbox answers as if
    /// just started, except that a clock that flows keeps the time that flowed.
    ///
    /// The ids start over from the seed too: a new Item after a reset gets the id the first
    /// Item had before it (and its accounts and transactions their ids), so an id kept from
    /// before a reset may name another Item after it. Tokens do not repeat: they are random.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), plaid_sdk::Error> {
    /// use plaid_sdk::types::{ItemGetRequest, Products};
    /// use plaid_sdk::ErrorCode;
    ///
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// let client = sandbox.client();
    /// let first = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// sandbox.reset();
    /// assert!(sandbox.connected_items().is_empty());
    /// let gone = ItemGetRequest::new(first.access_token.clone());
    /// let error = client.item_get(&gone).await.unwrap_err();
    /// assert_eq!(error.error_code(), Some(&ErrorCode::InvalidAccessToken));
    ///
    /// let second = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// assert_eq!(second.item_id, first.item_id); // the ids start over
    /// assert_ne!(second.access_token, first.access_token); // the tokens do not
    /// # Ok(()) }
    /// ```
    pub fn reset(&self) {
        lock(&self.state).reset();
    }

    /// Answers the next `times` calls of the operation at `path` (or of any operation, with
    /// `None`) with `fault`; a request that is no operation (`GET /`, a typo'd path, the Link
    /// emulator's and the admin API's) takes none. Faults queue in the order injected. The client's retries meet them too: see [`Fault`]
    /// for what a fault that lasts does to a `/transactions/sync` loop.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), plaid_sdk::Error> {
    /// use plaid_sandbox::{Fault, Sandbox};
    /// use plaid_sdk::types::{AccountsGetRequest, Products};
    ///
    /// let sandbox = Sandbox::start().await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// let request = AccountsGetRequest::new(item.access_token);
    ///
    /// sandbox.inject(Some("/accounts/get"), Fault::RateLimit, 1);
    /// client.accounts_get(&request).await?; // the client retried past the 429
    ///
    /// let no_retries = sandbox.client_builder().retry_policy(plaid_sdk::RetryPolicy::none());
    /// sandbox.inject(Some("/accounts/get"), Fault::RateLimit, 1);
    /// let error = no_retries.build()?.accounts_get(&request).await.unwrap_err();
    /// assert_eq!(error.status(), Some(429));
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, path: Option<&str>, fault: Fault, times: u32) {
        lock(&self.state).faults.push(Injected {
            path: path.map(str::to_owned),
            fault,
            remaining: times,
        });
    }

    /// The webhooks sent so far, oldest first (each copy under [`WebhookChaos`]), since the
    /// sandbox started or was last reset. A webhook is here as soon as the call that made it
    /// has been answered, before its receiver answers ([`SentWebhook::status`]).
    /// [`wait_for_webhooks`](Self::wait_for_webhooks)'s example shows both.
    pub fn webhooks(&self) -> Vec<SentWebhook> {
        lock(&self.state).webhooks.clone()
    }

    /// Waits until `n` webhooks have been sent and answered, or 10 s have passed, and returns
    /// every webhook sent so far, oldest first. After 10 s it returns what it has, with no
    /// error: check what it returns.
    ///
    /// `n` counts every webhook since the sandbox started or was last reset, not since the
    /// last call: the ones the sandbox sends on its own count too (`INITIAL_UPDATE` and
    /// `HISTORICAL_UPDATE` after a link with Transactions, or once a not-ready Item is ready
    /// ([`SandboxBuilder::not_ready_syncs`]), the webhooks of
    /// [`advance_clock`](Self::advance_clock)). To wait for the webhooks of one step, count
    /// first: `let before = sandbox.webhooks().len();`, then the step, then
    /// `sandbox.wait_for_webhooks(before + 1)`, or wait for one webhook by its code with
    /// [`wait_for_webhook`](Self::wait_for_webhook), which says what came instead.
    ///
    /// A webhook is answered once its [`status`](SentWebhook::status) is set. After an answer
    /// other than 200 it stays `None` while a retry is scheduled, and the first retry waits
    /// 30 s unless [`SandboxBuilder::webhook_retry`] shortens it: with a receiver that fails,
    /// this waits the whole 10 s.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/plaid/webhook", listener.local_addr()?);
    /// # let receiver = axum::Router::new().route("/plaid/webhook", axum::routing::post(|| async {}));
    /// # tokio::spawn(async move { axum::serve(listener, receiver).await });
    /// use plaid_sdk::types::{ItemWebhookUpdateRequest, Products};
    ///
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// // `url` is the app's webhook endpoint, which answers 200.
    /// let update = ItemWebhookUpdateRequest::new(item.access_token).webhook(url);
    /// client.item_webhook_update(&update).await?; // sends WEBHOOK_UPDATE_ACKNOWLEDGED
    ///
    /// let before = sandbox.webhooks().len();
    /// sandbox.fire_webhook(&item.item_id, "NEW_ACCOUNTS_AVAILABLE")?;
    /// let sent = sandbox.wait_for_webhooks(before + 1).await;
    /// assert_eq!(sent[before].body["webhook_code"], "NEW_ACCOUNTS_AVAILABLE");
    /// assert_eq!(sent[before].status, Some(200));
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_webhooks(&self, n: usize) -> Vec<SentWebhook> {
        self.watch_webhooks(|sent| {
            let answered = sent.iter().filter(|w| w.status.is_some()).count();
            (answered >= n).then(|| sent.to_vec())
        })
        .await
        .unwrap_or_else(|sent| sent)
    }

    /// Waits, at most 10 s, for an answered webhook with this `webhook_code` among those sent
    /// from index `from` on (count first: `let from = sandbox.webhooks().len();`); returns the
    /// first one. The error lists what was sent instead.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/plaid/webhook", listener.local_addr()?);
    /// # let receiver = axum::Router::new().route("/plaid/webhook", axum::routing::post(|| async {}));
    /// # tokio::spawn(async move { axum::serve(listener, receiver).await });
    /// use plaid_sdk::types::{ItemWebhookUpdateRequest, Products};
    ///
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// let client = sandbox.client();
    /// let item = client.sandbox_link_item("ins_109508", [Products::Auth]).await?;
    /// let update = ItemWebhookUpdateRequest::new(item.access_token).webhook(url);
    /// client.item_webhook_update(&update).await?;
    ///
    /// let from = sandbox.webhooks().len();
    /// sandbox.fire_webhook(&item.item_id, "NEW_ACCOUNTS_AVAILABLE")?;
    /// let hook = sandbox.wait_for_webhook(from, "NEW_ACCOUNTS_AVAILABLE").await?;
    /// assert_eq!(hook.status, Some(200));
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_webhook(
        &self,
        from: usize,
        code: &str,
    ) -> Result<SentWebhook, SandboxError> {
        let with_code = |w: &&SentWebhook| w.body["webhook_code"] == code;
        let sent = match self
            .watch_webhooks(|sent| {
                sent.iter()
                    .skip(from)
                    .filter(with_code)
                    .find(|w| w.status.is_some())
                    .cloned()
            })
            .await
        {
            Ok(hook) => return Ok(hook),
            Err(sent) => sent,
        };
        let any = sent.iter().skip(from).any(|w| with_code(&w));
        let instead: Vec<String> = sent
            .iter()
            .skip(from)
            .map(|w| {
                let answer = w
                    .status
                    .map_or("no answer yet".to_owned(), |s| s.to_string());
                format!(
                    "{} ({answer})",
                    w.body["webhook_code"].as_str().unwrap_or("?")
                )
            })
            .collect();
        Err(SandboxError::new(format!(
            "no {code} webhook {} within 10 s from #{from}; sent from there: [{}]",
            if any { "answered" } else { "sent" },
            instead.join(", ")
        )))
    }

    /// The webhooks sent so far, looked at every 10 ms until `done` finds what it waits for
    /// (`Ok`) or 10 s have passed (`Err` with the webhooks sent by then). `done` looks at the
    /// record in place, under the lock: copying it at each look held the lock for a copy of
    /// every webhook body, 100 times a second (review round 21).
    async fn watch_webhooks<T>(
        &self,
        mut done: impl FnMut(&[SentWebhook]) -> Option<T>,
    ) -> Result<T, Vec<SentWebhook>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let state = lock(&self.state);
                if let Some(found) = done(&state.webhooks) {
                    return Ok(found);
                }
                if Instant::now() >= deadline {
                    return Err(state.webhooks.clone());
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn with_item(
        &self,
        item_id: impl AsRef<str>,
        f: impl FnOnce(&mut state::Item, DateTime<Utc>, &mut Vec<Outgoing>) -> Result<(), SandboxError>,
    ) -> Result<(), SandboxError> {
        let mut state = lock(&self.state);
        let now = state.now();
        let item_id = item_id.as_ref();
        let item = state
            .items
            .get_mut(item_id)
            .filter(|i| !i.removed)
            .ok_or_else(|| SandboxError::new(format!("no Item {item_id}")))?;
        let mut outgoing = Vec::new();
        f(item, now, &mut outgoing)?;
        webhooks::send(&mut state, &self.outbox, outgoing);
        Ok(())
    }
}

/// The SDK guide's page on testing with this crate (`plaid_sdk::guide::testing`): its examples
/// compile here, where the crate they use is.
#[cfg(doctest)]
#[doc = include_str!("../../src/guide/testing.md")]
pub struct GuideDoctests;

/// This crate's README: its examples compile.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;
    use plaid_sdk::types::{AccountsGetRequest, ItemRemoveRequest, Products};
    use serde_json::{json, Value};

    /// An Item with Transactions at First Platypus Bank.
    async fn linked(client: &PlaidClient) -> plaid_sdk::types::ItemPublicTokenExchangeResponse {
        client
            .sandbox_link_item("ins_109508", [Products::Transactions])
            .await
            .unwrap()
    }

    /// MED (review round 10): a removed Item kept its whole ledger (two copies of every
    /// transaction) until reset: a server run for hours grew by about 350 KB per Item
    /// linked and removed. Only the removal is remembered.
    #[tokio::test]
    async fn a_removed_item_lets_its_transactions_go() {
        let sandbox = Sandbox::start().await;
        let client = sandbox.client();
        let item = linked(&client).await;
        let held = || lock(&sandbox.state).items[&item.item_id].ledger.log.len();
        assert!(held() > 100, "{}", held());
        client
            .item_remove(&ItemRemoveRequest::new(item.access_token.clone()))
            .await
            .unwrap();
        assert_eq!(held(), 0);
        let gone = client
            .accounts_get(&AccountsGetRequest::new(item.access_token))
            .await
            .unwrap_err();
        assert_eq!(gone.error_code(), Some(&plaid_sdk::ErrorCode::ItemNotFound));
    }

    /// HIGH (review round 15): an event kept its metadata whole, parsed, counted as text:
    /// `[[],[],…]` takes about ten times its text as `Value`s, so one link token's sessions,
    /// within their 256 KiB of text each, held 564 MB. An event keeps the fields
    /// `/link/token/get` reports, and what it keeps is what counts.
    #[tokio::test]
    async fn a_link_event_keeps_only_what_link_token_get_reports() {
        let sandbox = Sandbox::start().await;
        let http = reqwest::Client::new();
        let call = |path: &str, body: Value| {
            let request = http
                .post(format!("{}{path}", sandbox.uri()))
                .header("PLAID-CLIENT-ID", CLIENT_ID)
                .header("PLAID-SECRET", SECRET)
                .json(&body)
                .send();
            async move { request.await.unwrap().json::<Value>().await.unwrap() }
        };
        let made = call(
            "/link/token/create",
            json!({ "client_name": "App", "language": "en", "country_codes": ["US"],
                    "user": { "client_user_id": "u" }, "products": ["transactions"] }),
        )
        .await;
        let token = made["link_token"].as_str().unwrap().to_owned();
        let session = call("/__sandbox/link/session", json!({ "link_token": token })).await;
        let session = session["link_session_id"].as_str().unwrap().to_owned();
        let padding: Vec<Value> = (0..5_000).map(|_| json!([])).collect();
        for n in 0..20 {
            call(
                "/__sandbox/link/event",
                json!({ "link_token": token, "link_session_id": session, "event_name": "OPEN",
                        "metadata": { "view_name": "CONSENT", "padding": padding,
                                      "request_id": format!("r{n}"), "nested": { "a": [1] } } }),
            )
            .await;
        }
        let state = lock(&sandbox.state);
        let kept = &state.link_tokens[&token].sessions[0];
        assert_eq!(
            kept.events.len(),
            20,
            "each event kept, being small once read"
        );
        for (_, _, metadata) in &kept.events {
            let keys: Vec<&String> = metadata.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["request_id", "view_name"], "{metadata}");
        }
        assert!(kept.events_bytes < 20 * 256, "{}", kept.events_bytes);
    }

    /// MED (review round 15): a webhook delayed by chaos waited out its delay, holding its
    /// body and the server's state, after a reset had made it moot: 5,000 webhooks under an
    /// endless delay kept about 210 MB per reset cycle. A reset now ends those waits.
    #[tokio::test]
    async fn a_reset_ends_the_waits_of_delayed_webhooks() {
        use plaid_sdk::types::ItemWebhookUpdateRequest;
        let sandbox = Sandbox::start().await;
        let client = sandbox.client();
        let item = linked(&client).await;
        let hour = Duration::from_secs(3600);
        sandbox.webhook_chaos(WebhookChaos::none().delay(hour, hour));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let baseline = Arc::strong_count(&sandbox.state);
        client
            .item_webhook_update(
                &ItemWebhookUpdateRequest::new(item.access_token.clone())
                    .webhook("http://127.0.0.1:9/hook".to_owned()),
            )
            .await
            .unwrap();
        for _ in 0..10 {
            sandbox
                .fire_webhook(&item.item_id, "NEW_ACCOUNTS_AVAILABLE")
                .unwrap();
        }
        let waiting = || Arc::strong_count(&sandbox.state).saturating_sub(baseline);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while waiting() < 10 {
            assert!(
                std::time::Instant::now() < deadline,
                "{} waiting",
                waiting()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        sandbox.reset();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while waiting() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{} webhooks still wait after the reset",
                waiting()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Review round 21: the webhook sender held a sender of its own queue, so it never ended,
    /// and with it the state, and delayed webhooks and retries were still posted after the
    /// sandbox was dropped (on a runtime that outlives it: a shared one, a bench's loop).
    #[test]
    fn a_dropped_sandbox_lets_go_of_its_state_and_its_webhooks() {
        use plaid_sdk::types::ItemWebhookUpdateRequest;
        // A runtime that outlives the sandbox, as a shared one or a bench's loop does.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let receiver = wiremock::MockServer::start().await;
            let sandbox = Sandbox::start().await;
            let client = sandbox.client();
            let item = linked(&client).await;
            sandbox.webhook_chaos(
                WebhookChaos::none().delay(Duration::from_millis(300), Duration::from_millis(300)),
            );
            client
                .item_webhook_update(
                    &ItemWebhookUpdateRequest::new(item.access_token.clone())
                        .webhook(format!("{}/hook", receiver.uri())),
                )
                .await
                .unwrap();
            sandbox
                .fire_webhook(&item.item_id, "NEW_ACCOUNTS_AVAILABLE")
                .unwrap();
            let state = Arc::downgrade(&sandbox.state);
            drop(client);
            drop(sandbox);
            tokio::time::sleep(Duration::from_millis(600)).await;
            let posted = receiver.received_requests().await.unwrap_or_default().len();
            assert_eq!(posted, 0, "webhooks posted after the sandbox was dropped");
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while state.upgrade().is_some() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the dropped sandbox's state is still held"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }

    /// Review round 21: `advance_days` generated every day it was asked for, under the
    /// state's lock (a century: every other request waited, and memory grew by the century's
    /// transactions). It goes as a ledger that fell behind catches up: one window of history.
    #[tokio::test]
    async fn advancing_a_century_costs_one_window_of_history() {
        let sandbox = Sandbox::start().await;
        let client = sandbox.client();
        let item = linked(&client).await;
        let changes = sandbox.advance_days(&item.item_id, 36_500).unwrap();
        let window = crate::ledger::REACH_DAYS as usize;
        assert!(changes > 0 && changes < window * 20, "{changes} changes");
        // As far as a caller can ask: up to the clock's limit, not round to the first day
        // (a day past chrono's dates read as the ledger's first).
        sandbox.advance_days(&item.item_id, u32::MAX).unwrap();
        let newest = sandbox
            .transactions(&item.item_id)
            .unwrap()
            .into_iter()
            .map(|t| t.date)
            .max();
        let limit = crate::state::clock_limit().date_naive();
        assert!(
            newest.is_some_and(|d| d <= limit && d > limit - chrono::Days::new(30)),
            "{newest:?}"
        );
    }
}
