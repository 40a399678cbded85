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
//! What it serves, checked the way Plaid checks it (credentials headers, JSON body, required
//! fields, known tokens; failures in Plaid's error shape):
//!
//! | Path | Behaviour |
//! |---|---|
//! | `/link/token/create` | new-user and update mode (`access_token`); see [`Sandbox::complete_link`] |
//! | `/sandbox/public_token/create` | Plaid's sandbox institutions (`ins_109508` …) |
//! | `/item/public_token/exchange` | single-use public tokens; creates the Item, its accounts and ledger |
//! | `/item/get`, `/item/remove`, `/item/webhook/update` | removal is final (`ITEM_NOT_FOUND`) |
//! | `/accounts/get`, `/accounts/balance/get` | checking, savings, credit card; balances from the ledger; `options.account_ids` |
//! | `/transactions/sync` | a ledger of realistic transactions (merchants, categories, pending → posted), cursors, `count`, `options.account_id` |
//! | `/transactions/get` | the same ledger by date, newest first, `options.count`/`offset`/`account_ids`; `PRODUCT_NOT_READY` while a new Item is not ready ([`SandboxBuilder::not_ready_syncs`]) |
//! | `/transactions/refresh` | one more day of transactions, and `SYNC_UPDATES_AVAILABLE` |
//! | `/sandbox/item/fire_webhook`, `/sandbox/item/reset_login` | webhooks signed like Plaid's, sent to the Item's URL |
//! | `/webhook_verification_key/get` | the signer's key, so `plaid_sdk::webhook::WebhookVerifier` works unchanged |
//! | `/institutions/get_by_id` | the sandbox institutions |
//!
//! Every account filter (`options.account_ids`, `options.account_id`) is read the same way: an
//! id that is not one of the Item's accounts is `INVALID_ACCOUNT_ID`.
//!
//! Data is a pure function of the seed ([`SandboxBuilder::seed`]): two sandboxes with one
//! seed hand out the same tokens, ids and transactions.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
mod data;
mod proxy;
mod server;

pub use plaid_sdk::webhook::testing::WebhookSigner;

use chrono::NaiveDate;
use plaid_sdk::{ItemId, PlaidClient};
use serde_json::Value;
use server::{lock, App, Injected, Outgoing, State};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The paths the offline sandbox serves (all `POST`); any other answers `404`
/// `INVALID_REQUEST`/`NOT_FOUND` with a message saying the offline sandbox does not serve it.
pub const SERVED_PATHS: &[&str] = &[
    "/link/token/create",
    "/sandbox/public_token/create",
    "/item/public_token/exchange",
    "/item/get",
    "/item/remove",
    "/item/webhook/update",
    "/accounts/get",
    "/accounts/balance/get",
    "/transactions/sync",
    "/transactions/get",
    "/transactions/refresh",
    "/sandbox/item/fire_webhook",
    "/sandbox/item/reset_login",
    "/webhook_verification_key/get",
    "/institutions/get_by_id",
];

/// The path prefix of the sandbox's own endpoints (`POST /__sandbox/reset`), which no Plaid
/// path uses.
pub const ADMIN_PREFIX: &str = "/__sandbox/";

/// The client id the offline sandbox accepts (see [`Sandbox::client`]).
pub const CLIENT_ID: &str = "offline-sandbox-client";
/// The secret the offline sandbox accepts.
pub const SECRET: &str = "offline-sandbox-secret";

/// A fault to inject into the sandbox's next answers (see [`Sandbox::inject`]).
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
    /// more day of transactions), as it would at Plaid.
    MutationDuringPagination,
}

/// A webhook the sandbox sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SentWebhook {
    /// Where it went.
    pub url: String,
    /// The JSON body.
    pub body: Value,
    /// The receiver's HTTP status; `Some(0)` if it could not be reached, `None` while the
    /// request is in flight.
    pub status: Option<u16>,
}

/// A request to the sandbox's control methods that names something it does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("offline sandbox: {0}")]
pub struct SandboxError(String);

/// Settings for a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    seed: u64,
    today: Option<NaiveDate>,
    history_days: u64,
    not_ready_syncs: u32,
    listen: SocketAddr,
    client_id: String,
    secret: String,
    webhook_hosts: Vec<String>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            seed: 0,
            today: None,
            history_days: 90,
            not_ready_syncs: 0,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            client_id: CLIENT_ID.to_owned(),
            secret: SECRET.to_owned(),
            webhook_hosts: Vec::new(),
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

    /// Also delivers webhooks to this host (by name, as in the URL). By default webhooks go
    /// to loopback addresses only (`localhost`, `127.0.0.0/8`, `::1`); one for any other host
    /// is recorded as undelivered, so a test cannot post to the internet by mistake.
    pub fn allow_webhook_host(mut self, host: impl Into<String>) -> Self {
        self.webhook_hosts.push(host.into());
        self
    }

    /// The seed all data derives from (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The sandbox's "today", the last day of each Item's history (default: today, UTC).
    /// Fix it when data must be the same on another day, e.g. across runs.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Days of transaction history a new Item has (default 90; about 3 transactions a day).
    pub fn history_days(mut self, days: u64) -> Self {
        self.history_days = days;
        self
    }

    /// How many transactions calls on a new Item answer "not ready" before data arrives, as
    /// a fresh Item at Plaid does (default 0): `/transactions/sync` answers an empty cursor
    /// with `NOT_READY`, `/transactions/get` the `PRODUCT_NOT_READY` error. Both count
    /// towards the same number.
    pub fn not_ready_syncs(mut self, calls: u32) -> Self {
        self.not_ready_syncs = calls;
        self
    }

    /// Starts the sandbox. Call it inside a Tokio runtime: the server and the webhook sender
    /// run as tasks on it.
    ///
    /// # Panics
    ///
    /// If it cannot listen on its address; [`try_start`](Self::try_start) returns the error.
    pub async fn start(self) -> Sandbox {
        match self.try_start().await {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts the sandbox, or says why it cannot listen.
    pub async fn try_start(self) -> Result<Sandbox, SandboxError> {
        let today = self
            .today
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let mut state = State::new(self.seed, today, self.history_days);
        state.not_ready_syncs = self.not_ready_syncs;
        state.client_id = self.client_id;
        state.secret = self.secret;
        state.webhook_hosts = self.webhook_hosts;
        let state = Arc::new(Mutex::new(state));
        let signer = Arc::new(WebhookSigner::new());
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| SandboxError(format!("cannot build the webhook sender: {e}")))?;
        let outbox = server::start_outbox(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|e| SandboxError(format!("cannot listen on {}: {e}", self.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| SandboxError(format!("cannot read the bound address: {e}")))?;
        let app = Arc::new(App {
            state: Arc::clone(&state),
            signer: Arc::clone(&signer),
            http: http.clone(),
            outbox: outbox.clone(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, server::router(app))
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        let uri = format!("http://{address}");
        let prism = proxy::start_if_configured(&uri).await;
        Ok(Sandbox {
            uri,
            _stop: stop,
            prism,
            state,
            signer,
            http,
            outbox,
        })
    }
}

/// A running offline sandbox. It stops when dropped.
pub struct Sandbox {
    uri: String,
    /// Dropped with the sandbox: the server then shuts down.
    _stop: tokio::sync::oneshot::Sender<()>,
    /// Prism's validating proxy in front of the server, in this project's conformance run only
    /// (see `proxy.rs`).
    prism: Option<proxy::PrismProxy>,
    state: Arc<Mutex<State>>,
    signer: Arc<WebhookSigner>,
    http: reqwest::Client,
    outbox: server::Outbox,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox with the default settings.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let sandbox = plaid_sandbox::Sandbox::start().await;
    /// assert!(sandbox.uri().starts_with("http://127.0.0.1:"));
    /// # }
    /// ```
    pub async fn start() -> Sandbox {
        SandboxBuilder::default().start().await
    }

    /// Settings: seed, today, history length, "not ready" answers.
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
        lock(&self.state).client_id.clone()
    }

    /// A client for this sandbox, with its credentials and a short retry backoff.
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
            (state.client_id.clone(), state.secret.clone())
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

    /// Plays the user finishing Link with a new-user link token: returns the public token
    /// Link's `onSuccess` would hand the front end, for an Item at `institution_id` with the
    /// link token's products and webhook.
    pub fn complete_link(
        &self,
        link_token: &str,
        institution_id: &str,
    ) -> Result<plaid_sdk::PublicToken, SandboxError> {
        let mut state = lock(&self.state);
        let session = link_session(&state, link_token)?;
        if session.access_token.is_some() {
            return Err(SandboxError(
                "an update-mode link token: use complete_update".into(),
            ));
        }
        if data::institution_name(institution_id).is_none() {
            return Err(SandboxError(format!(
                "unknown institution {institution_id}"
            )));
        }
        let token = state.new_public_token(institution_id, session.products, session.webhook);
        Ok(plaid_sdk::PublicToken::new(token))
    }

    /// Plays the user finishing Link in update mode: the Item's error is cleared and a
    /// `LOGIN_REPAIRED` webhook goes to its URL, as at Plaid.
    pub fn complete_update(&self, link_token: &str) -> Result<ItemId, SandboxError> {
        let mut outgoing = Vec::new();
        let item_id = {
            let mut state = lock(&self.state);
            let session = link_session(&state, link_token)?;
            let access_token = session
                .access_token
                .ok_or_else(|| SandboxError("not an update-mode link token".into()))?;
            let item = state
                .items
                .get_mut(&access_token)
                .ok_or_else(|| SandboxError("the link token's Item is gone".into()))?;
            let was_broken = item.error.take().is_some();
            if let (true, Some(url)) = (was_broken, &item.webhook) {
                outgoing.push(Outgoing {
                    url: url.clone(),
                    body: server::webhook_body(item, "ITEM", "LOGIN_REPAIRED", &[]),
                });
            }
            ItemId::new(item.item_id.clone())
        };
        self.send(outgoing);
        Ok(item_id)
    }

    /// Which user (`user.client_user_id`) a link token was created for.
    pub fn link_token_user(&self, link_token: &str) -> Option<String> {
        lock(&self.state)
            .link_sessions
            .get(link_token)
            .map(|s| s.client_user_id.clone())
    }

    /// Puts an Item in `ITEM_LOGIN_REQUIRED` (as `/sandbox/item/reset_login` does) and sends
    /// it the `ITEM` `ERROR` webhook.
    pub fn require_login(&self, item_id: impl AsRef<str>) -> Result<(), SandboxError> {
        let outgoing = self.with_item(item_id, |item, out| {
            item.error = Some(server::login_required());
            if let Some(url) = &item.webhook {
                let (t, c, m) = server::login_required();
                let error = server::error_json(&t, &c, &m, 400, "sandbox");
                out.push(Outgoing {
                    url: url.clone(),
                    body: server::webhook_body(item, "ITEM", "ERROR", &[("error", error)]),
                });
            }
        })?;
        self.send(outgoing);
        Ok(())
    }

    /// Sends an Item the webhook `/sandbox/item/fire_webhook` would for `code`
    /// (`SYNC_UPDATES_AVAILABLE`, `DEFAULT_UPDATE`, `NEW_ACCOUNTS_AVAILABLE`, `ERROR`,
    /// `PENDING_EXPIRATION`, `PENDING_DISCONNECT`, `USER_PERMISSION_REVOKED`,
    /// `LOGIN_REPAIRED`), with the same effect on the Item, by Item id rather than access token.
    pub fn fire_webhook(&self, item_id: impl AsRef<str>, code: &str) -> Result<(), SandboxError> {
        let item_id = item_id.as_ref();
        let mut failed = None;
        let outgoing = self.with_item(item_id, |item, out| match server::fire(item, code) {
            Ok(body) => match &item.webhook {
                Some(url) => out.push(Outgoing {
                    url: url.clone(),
                    body,
                }),
                None => failed = Some(SandboxError(format!("Item {item_id} has no webhook URL"))),
            },
            Err(_) => failed = Some(SandboxError(format!("cannot fire webhook {code}"))),
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        self.send(outgoing);
        Ok(())
    }

    /// Moves an Item's data `days` days forward: new purchases, pending transactions posting,
    /// corrections. Sends `SYNC_UPDATES_AVAILABLE` if anything changed. Returns the number of
    /// changes.
    pub fn advance_days(&self, item_id: impl AsRef<str>, days: u32) -> Result<usize, SandboxError> {
        let mut changes = 0;
        let outgoing = self.with_item(item_id, |item, out| {
            for _ in 0..days {
                changes += item.ledger.advance_day();
            }
            if changes > 0 {
                server::queue_sync_webhook(item, out);
            }
        })?;
        self.send(outgoing);
        Ok(changes)
    }

    /// The Item's transactions as they stand: `(transaction_id, amount, pending)` sorted by
    /// id, for tests that check a sync result against the truth.
    pub fn transactions(
        &self,
        item_id: impl AsRef<str>,
    ) -> Result<Vec<(String, f64, bool)>, SandboxError> {
        let mut out = Vec::new();
        self.with_item(item_id, |item, _| {
            out = item
                .ledger
                .current()
                .into_iter()
                .map(|t| (t.id, t.amount, t.pending))
                .collect();
        })?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Forgets every Item, token, Link session, injected fault and sent webhook, as
    /// `POST /__sandbox/reset` does: the sandbox answers as if just started.
    pub fn reset(&self) {
        lock(&self.state).reset();
    }

    /// Answers the next `times` requests to `path` (or to any path, with `None`) with `fault`.
    /// Faults queue in the order injected.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use plaid_sandbox::{Fault, Sandbox};
    /// let sandbox = Sandbox::start().await;
    /// sandbox.inject(Some("/accounts/get"), Fault::RateLimit, 2);
    /// # }
    /// ```
    pub fn inject(&self, path: Option<&str>, fault: Fault, times: u32) {
        lock(&self.state).faults.push(Injected {
            path: path.map(str::to_owned),
            fault,
            remaining: times,
        });
    }

    /// The webhooks sent so far, oldest first.
    pub fn webhooks(&self) -> Vec<SentWebhook> {
        lock(&self.state).webhooks.clone()
    }

    /// Waits (up to 10 s) until `n` webhooks were sent and answered, and returns them all.
    pub async fn wait_for_webhooks(&self, n: usize) -> Vec<SentWebhook> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let sent = self.webhooks();
            let answered = sent.iter().filter(|w| w.status.is_some()).count();
            if answered >= n || Instant::now() >= deadline {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn with_item(
        &self,
        item_id: impl AsRef<str>,
        f: impl FnOnce(&mut server::ItemState, &mut Vec<Outgoing>),
    ) -> Result<Vec<Outgoing>, SandboxError> {
        let mut state = lock(&self.state);
        let item_id = item_id.as_ref();
        let item = state
            .item_by_id(item_id)
            .ok_or_else(|| SandboxError(format!("no Item {item_id}")))?;
        let mut outgoing = Vec::new();
        f(item, &mut outgoing);
        Ok(outgoing)
    }

    fn send(&self, outgoing: Vec<Outgoing>) {
        for hook in outgoing {
            server::deliver(&self.state, &self.signer, &self.http, &self.outbox, hook);
        }
    }
}

/// What a link token was created for, or an error naming the token as unknown.
fn link_session(state: &State, link_token: &str) -> Result<server::LinkSession, SandboxError> {
    state
        .link_sessions
        .get(link_token)
        .cloned()
        .ok_or_else(|| SandboxError("unknown link token".into()))
}

/// The SDK guide's page on testing with this crate (`plaid_sdk::guide::testing`): its examples
/// compile here, where the crate they use is.
#[cfg(doctest)]
#[doc = include_str!("../../src/guide/testing.md")]
pub struct GuideDoctests;
