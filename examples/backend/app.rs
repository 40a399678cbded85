//! The reference backend's application: routes, and the workers every replica runs.
//!
//! Shared by `main.rs` (the binary) and the tests (which drive it over HTTP). Storage is
//! [`crate::store`] (SQLite or PostgreSQL), jobs [`crate::jobs`], webhooks [`crate::inbox`].

use crate::inbox::{self, Delivery};
use crate::jobs::{self, Kind, Unless};
use crate::store::{params, Db, Stmt, StoreError};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use plaid_sdk::types::{
    AccountsGetRequest, CountryCode, InstitutionsGetByIdRequest, ItemGetRequest,
    ItemPublicTokenExchangeRequest, ItemRemoveRequest, LinkTokenCreateRequest,
    LinkTokenCreateRequestUser, Products,
};
use plaid_sdk::webhook::{WebhookError, WebhookVerifier};
use plaid_sdk::{AccessToken, Error as PlaidError, ErrorCode, ErrorType, PlaidClient, PublicToken};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Each attempt of a Plaid call a request's work makes before the app has a record of its
/// effect (the exchange, a removal). With one retry after a refusal and a wait of at most 1 s
/// ([`App::plaid_unrecorded`]), such a call ends within [`UNRECORDED_WORST`], inside the time
/// a stop waits for requests in flight (review round 20: with the client's 60 s, a stop cut
/// an exchange off and left a bank connected with no record).
pub const UNRECORDED_ATTEMPT: Duration = Duration::from_secs(12);

/// The longest a call of [`App::plaid_unrecorded`] takes: two attempts and a wait.
pub const UNRECORDED_WORST: Duration = Duration::from_secs(2 * UNRECORDED_ATTEMPT.as_secs() + 1);

/// Everything the handlers and workers share.
pub struct App {
    pub plaid: PlaidClient,
    verifier: WebhookVerifier,
    pub db: Db,
    /// Where Plaid should send this app's webhooks.
    webhook_url: String,
    /// This replica's name in the jobs it claims (random per start).
    pub replica: String,
    /// How long a claimed job or webhook stays this replica's without a renewal.
    pub lease: Duration,
    /// How often an idle worker looks for work another replica queued.
    pub poll: Duration,
    /// How often one sync restarts, or asks again for a page, after a passing failure before
    /// its job is tried again later (the SDK's `TransactionsSync::max_restarts` and
    /// `max_retries`).
    pub sync_restarts: u32,
    /// The longest a job that keeps meeting passing failures waits between tries.
    pub max_retry_wait: Duration,
    /// Wakes this replica's job workers when it queues a job.
    pub wake: tokio::sync::Notify,
    /// Wakes its inbox worker when a webhook arrives.
    pub inbox_wake: tokio::sync::Notify,
    /// Where the page loads Plaid Link from.
    link_script: String,
    /// Whether Plaid is the offline sandbox (the page says so).
    offline: bool,
    /// The key ids of the webhooks verified so far, as stored in `webhook_keys`.
    key_ids: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Set when the replica stops: its workers take no more work and hand back their jobs.
    stopping: tokio::sync::watch::Sender<bool>,
    /// This replica's job and inbox workers.
    workers: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Request work that runs to its end whoever waits for it ([`to_the_end`]): shutdown
    /// waits for it as it does for connections.
    requests: tokio_util::task::TaskTracker,
    /// Webhooks refused, logged at most once a minute.
    refused: Throttled,
    /// Webhooks answered 503 for want of their key, logged at most once a minute.
    key_unfetched: Throttled,
}

/// Anyone can post to the webhook route, so a log line for each webhook it turns away would
/// let anyone fill the disk: forged tokens (refused) as much as forged key ids (which spend
/// the key-fetch budget, so that the next ones wait for a key); and anyone signed in can send
/// public tokens Plaid refuses. The first of each minute is
/// logged, with the number since the last line; every one is logged at `debug`.
struct Throttled(std::sync::Mutex<ThrottledState>);

struct ThrottledState {
    /// When the last line was written.
    logged_at: Option<std::time::Instant>,
    /// Occurrences since then.
    unlogged: u64,
}

/// The least time between two log lines of one [`Throttled`].
const THROTTLED_EVERY: Duration = Duration::from_secs(60);

impl Throttled {
    /// None yet.
    const fn new() -> Self {
        Throttled(std::sync::Mutex::new(ThrottledState {
            logged_at: None,
            unlogged: 0,
        }))
    }

    /// Logs one occurrence: at `debug`, and at `warn` if a minute has passed since the last
    /// line, with the number since.
    fn warn(&self, what: &str, error: &dyn std::fmt::Display) {
        tracing::debug!(error = %error, "{what}");
        if let Some(others) = self.due() {
            tracing::warn!(
                error = %error,
                others_since_last_line = others,
                "{what} (one line a minute at most)"
            );
        }
    }

    /// Whether this occurrence gets a line, and how many went unlogged before it.
    fn due(&self) -> Option<u64> {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        if state
            .logged_at
            .is_some_and(|at| now.duration_since(at) < THROTTLED_EVERY)
        {
            state.unlogged += 1;
            return None;
        }
        state.logged_at = Some(now);
        Some(std::mem::take(&mut state.unlogged))
    }
}

/// Plaid Link's script on Plaid's CDN.
pub const PLAID_LINK_SCRIPT: &str = "https://cdn.plaid.com/link/v2/stable/link-initialize.js";

/// How a replica runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where Plaid should send webhooks (`…/webhooks/plaid`).
    pub webhook_url: String,
    /// Which Plaid the database's tokens belong to (a base URL, or the offline sandbox's
    /// seed): a database is never used with another.
    pub environment: String,
    pub lease: Duration,
    pub poll: Duration,
    /// See [`App::sync_restarts`].
    pub sync_restarts: u32,
    /// See [`App::max_retry_wait`].
    pub max_retry_wait: Duration,
    /// Job workers in this replica (0: a replica that runs no jobs, for deployments that
    /// keep web and worker replicas apart; it still applies stored webhooks, which only
    /// record state and queue jobs).
    pub workers: usize,
    /// Where the page loads Plaid Link from: Plaid's CDN, or the offline sandbox's stand-in
    /// (`<sandbox>/link/v2/stable/link-initialize.js`).
    pub link_script: String,
    /// Plaid is the offline sandbox.
    pub offline: bool,
}

impl Settings {
    pub fn new(webhook_url: impl Into<String>, environment: impl Into<String>) -> Settings {
        Settings {
            webhook_url: webhook_url.into(),
            environment: environment.into(),
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(250),
            sync_restarts: 8,
            max_retry_wait: Duration::from_secs(600),
            workers: 2,
            link_script: PLAID_LINK_SCRIPT.to_owned(),
            offline: false,
        }
    }
}

/// The schema, as the migrations that build it ([`Db::migrate`]): migration N takes a
/// database from version N - 1 to N. One that has shipped is never edited; a change is a new
/// migration at the end (`ALTER TABLE items ADD COLUMN …`), which reaches every database once.
/// Migrations run inside a transaction, on SQLite with foreign keys on: no statement that a
/// transaction refuses (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `PRAGMA foreign_keys`), and no
/// table rebuilt by `DROP TABLE` (the drop's cascade would delete the rows that refer to it:
/// `ALTER TABLE … RENAME`/`ADD COLUMN` instead).
pub const MIGRATIONS: &[&str] = &[SCHEMA];

/// Migration 1: the tables, made if missing (it also takes a database made before the schema
/// had versions as it finds it).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,              -- Plaid's item_id
    user_id TEXT NOT NULL,
    access_token TEXT NOT NULL,       -- never leaves the server; encrypt it at rest in production
    institution_id TEXT,
    institution_name TEXT,
    cursor TEXT,                      -- /transactions/sync cursor, written with its changes
    last_synced_at BIGINT,
    error_code TEXT,
    state_at BIGINT NOT NULL DEFAULT 0,     -- when (s) the newest error state applied held:
                                      -- a webhook's iat, or when the call that told it started
    consent_expires_at TEXT,
    consent_at BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,             -- linking | active | removing | disconnected
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_user ON items (user_id);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    mask TEXT,
    subtype TEXT
);
CREATE TABLE IF NOT EXISTS active_links (   -- one active Item per user, bank and set of accounts
    user_id TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,        -- the accounts' names and masks, sorted
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, institution_id, fingerprint)
);
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    date TEXT NOT NULL,
    name TEXT NOT NULL,
    amount DOUBLE PRECISION NOT NULL,
    category TEXT,
    pending BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_item ON transactions (item_id, date);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,              -- random: an id says nothing about another
    kind TEXT NOT NULL,               -- sync | remove | check
    item_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,              -- queued | running | done | failed | superseded
    owner TEXT,                       -- the claim holding the lease: <replica>/<claim>
    lease_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    added BIGINT, modified BIGINT, removed BIGINT,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_queued ON jobs (item_id, kind) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, run_after);
CREATE INDEX IF NOT EXISTS jobs_item ON jobs (item_id, kind, started_at);
-- One running job per Item. Before this index two claims at the same moment (each skipping
-- the row the other had locked) could both run a job of one Item. All but the Item's first
-- running job end superseded when a job of their kind is queued or is put back before them,
-- and the one left of each kind goes back in the queue.
UPDATE jobs SET state = 'superseded', owner = NULL,
                finished_at = COALESCE(lease_until, run_after),
                error = 'another job of its Item was running'
 WHERE state = 'running'
   AND EXISTS (SELECT 1 FROM jobs r WHERE r.item_id = jobs.item_id AND r.state = 'running'
               AND r.id < jobs.id)
   AND (EXISTS (SELECT 1 FROM jobs q WHERE q.item_id = jobs.item_id AND q.kind = jobs.kind
                AND q.state = 'queued')
        OR EXISTS (SELECT 1 FROM jobs k WHERE k.item_id = jobs.item_id AND k.kind = jobs.kind
                   AND k.state = 'running' AND k.id < jobs.id
                   AND EXISTS (SELECT 1 FROM jobs r WHERE r.item_id = k.item_id
                               AND r.state = 'running' AND r.id < k.id)));
UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL, run_after = 0
 WHERE state = 'running'
   AND EXISTS (SELECT 1 FROM jobs r WHERE r.item_id = jobs.item_id AND r.state = 'running'
               AND r.id < jobs.id);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_running ON jobs (item_id) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS webhook_inbox (
    key TEXT PRIMARY KEY,             -- the body's SHA-256 and the JWT's iat
    item_id TEXT,
    webhook_type TEXT NOT NULL,
    webhook_code TEXT NOT NULL,
    iat BIGINT NOT NULL,
    body TEXT NOT NULL,
    deliveries BIGINT NOT NULL DEFAULT 1,
    state TEXT NOT NULL,              -- new | running | done
    owner TEXT,
    lease_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    outcome TEXT,
    received_at BIGINT NOT NULL,
    done_at BIGINT
);
CREATE INDEX IF NOT EXISTS inbox_new ON webhook_inbox (state, received_at);
CREATE TABLE IF NOT EXISTS webhook_keys (   -- ids of the keys verified webhooks were signed with
    kid TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
";

/// Key ids a replica gives its verifier at start, the most recently seen first: Plaid's
/// current key and a few before it.
const VOUCHED_KEY_IDS: i64 = 100;

/// Why a replica could not start.
#[derive(Debug)]
pub enum StartError {
    Db(StoreError),
    /// The database holds another Plaid's tokens.
    OtherEnvironment {
        database: String,
        this: String,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Db(e) => write!(f, "database: {e}"),
            StartError::OtherEnvironment { database, this } => write!(
                f,
                "the database holds Items of {database}, not of {this}: its access tokens open \
                 nothing here, and its Item ids could meet a new user's. Use another database."
            ),
        }
    }
}

impl std::error::Error for StartError {}

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> Self {
        StartError::Db(e)
    }
}

impl App {
    /// Prepares the database, checks it belongs to this Plaid, and starts this replica's
    /// workers (jobs, webhooks, the sweeper of abandoned links) on the current runtime.
    pub async fn start(
        plaid: PlaidClient,
        db: Db,
        settings: Settings,
    ) -> Result<Arc<App>, StartError> {
        db.migrate(MIGRATIONS).await?;
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('environment', $1) ON CONFLICT (key) DO NOTHING",
            params![settings.environment.clone()],
        )
        .await?;
        let stored = db
            .query_one(
                "SELECT value FROM meta WHERE key = 'environment'",
                params![],
            )
            .await?
            .map(|r| r.text(0))
            .unwrap_or_default();
        if stored != settings.environment {
            return Err(StartError::OtherEnvironment {
                database: stored,
                this: settings.environment,
            });
        }
        // The keys Plaid signed webhooks with before: fetched without waiting behind unknown
        // ids, so a replica that has just started cannot be kept from Plaid's current key by
        // a stranger filling the verifier's queue with forged ones.
        let key_ids: Vec<String> = db
            .query(
                "SELECT kid FROM webhook_keys ORDER BY seen_at DESC LIMIT $1",
                params![VOUCHED_KEY_IDS],
            )
            .await?
            .iter()
            .map(|r| r.text(0))
            .collect();
        let verifier = WebhookVerifier::builder(plaid.clone())
            .vouched_key_ids(key_ids.iter().cloned())
            .build();
        let app = Arc::new(App {
            verifier,
            key_ids: std::sync::Mutex::new(key_ids.into_iter().collect()),
            refused: Throttled::new(),
            key_unfetched: Throttled::new(),
            plaid,
            db,
            webhook_url: settings.webhook_url,
            replica: random_id(),
            lease: settings.lease,
            poll: settings.poll,
            sync_restarts: settings.sync_restarts,
            max_retry_wait: settings.max_retry_wait,
            wake: tokio::sync::Notify::new(),
            inbox_wake: tokio::sync::Notify::new(),
            link_script: settings.link_script,
            offline: settings.offline,
            stopping: tokio::sync::watch::Sender::new(false),
            requests: tokio_util::task::TaskTracker::new(),
            workers: std::sync::Mutex::new(Vec::new()),
        });
        let mut workers: Vec<_> = (0..settings.workers)
            .map(|_| tokio::spawn(jobs::worker(app.clone())))
            .collect();
        workers.push(tokio::spawn(inbox::worker(app.clone())));
        *app.workers.lock().unwrap_or_else(|p| p.into_inner()) = workers;
        tokio::spawn(jobs::sweep(app.clone()));
        Ok(app)
    }

    /// A receiver that says when the replica stops.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Tells this replica's workers to stop: they claim nothing more, and a job that is
    /// running is handed back to the queue for any replica to run now (its lease would
    /// keep it from the others for up to `JOB_LEASE_SECONDS`, and count the stop as one
    /// of its tries).
    pub fn stop_workers(&self) {
        self.stopping.send_replace(true);
    }

    /// The client, for a call whose effect the app has no record of yet (the exchange, a
    /// removal): bounded by [`UNRECORDED_WORST`], so a stop never cuts it off.
    fn plaid_unrecorded(&self) -> PlaidClient {
        self.plaid
            .with_timeout(UNRECORDED_ATTEMPT)
            .with_retry_policy(
                plaid_sdk::RetryPolicy::default()
                    .max_attempts(2)
                    .max_backoff(Duration::from_secs(1))
                    .max_retry_after(Duration::from_secs(1)),
            )
    }

    /// Waits, until `deadline` at most, for request work that outlived its client (an
    /// exchange, a disconnect) to finish; once the server has stopped taking requests.
    #[cfg_attr(
        test,
        allow(
            dead_code,
            reason = "main.rs calls it; the tests that compile this file stop no server"
        )
    )]
    pub async fn requests_finished(&self, deadline: tokio::time::Instant) {
        self.requests.close();
        if tokio::time::timeout_at(deadline, self.requests.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "{} requests still waiting on Plaid at the end of the stop's grace: stopped half-way",
                self.requests.len(),
            );
        }
    }

    /// Waits, at most `within`, for the workers to have stopped and handed back their jobs;
    /// whatever is left keeps its lease, which runs out.
    pub async fn workers_stopped(&self, within: Duration) {
        self.stop_workers();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        let all = async {
            for worker in workers {
                let _ = worker.await;
            }
        };
        if tokio::time::timeout(within, all).await.is_err() {
            tracing::warn!(
                "workers still busy after {} s: their jobs' leases run out",
                within.as_secs()
            );
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Seconds since the Unix epoch (the unit of a webhook's `iat`).
pub fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// 128 random bits, hex: job ids, replica names.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random numbers");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The routes. Every `/api` route needs the caller's user id; `/webhooks/plaid` needs Plaid's
/// signature instead.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/app.js", get(page_script))
        .route("/app.css", get(page_style))
        .route("/api/config", get(config))
        .route("/api/link-token", post(create_link_token))
        .route("/api/items", post(exchange).get(list_items))
        .route("/api/items/{id}", delete(disconnect))
        .route("/api/items/{id}/link-token", post(update_link_token))
        .route("/api/items/{id}/sync", post(start_sync))
        .route("/api/items/{id}/transactions", get(list_transactions))
        .route("/api/jobs/{id}", get(job))
        .route("/webhooks/plaid", post(webhook))
        .with_state(app)
}

/// GET /: the page (web/index.html), with a Content-Security-Policy that lets in scripts and
/// frames from this server and from Link's origin only.
async fn page(State(app): State<Arc<App>>) -> Response {
    let link = origin(&app.link_script);
    let policy = format!(
        "default-src 'self'; script-src 'self' {link}; frame-src {link}; connect-src 'self'; \
         style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    (
        [
            ("content-type", "text/html; charset=utf-8"),
            ("content-security-policy", policy.as_str()),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
        ],
        include_str!("web/index.html"),
    )
        .into_response()
}

async fn page_script() -> impl IntoResponse {
    (
        [("content-type", "text/javascript; charset=utf-8")],
        include_str!("web/app.js"),
    )
}

async fn page_style() -> impl IntoResponse {
    (
        [("content-type", "text/css; charset=utf-8")],
        include_str!("web/app.css"),
    )
}

/// GET /api/config: what the page needs before anyone signs in.
async fn config(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({ "link_script": app.link_script, "offline": app.offline }))
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// A failed request: an HTTP status and a message safe to show (no token, no secret).
#[derive(Debug)]
pub enum AppError {
    /// No or malformed `x-user-id`.
    Unauthenticated,
    /// No such Item or job for this user (someone else's is not found either: a stranger
    /// learns nothing about which ids exist).
    NotFound,
    /// The request conflicts with the state (already linked, sync running, disconnected).
    Conflict(String),
    /// The caller sent something wrong.
    BadRequest(String),
    /// Plaid said no, or could not be reached.
    Plaid(PlaidError),
    /// The database failed.
    Db(StoreError),
    /// The task doing the request's work ended abnormally (a panic).
    Internal,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message, code) = match self {
            AppError::Unauthenticated => {
                (StatusCode::UNAUTHORIZED, "sign in first".to_owned(), None)
            }
            AppError::NotFound => (StatusCode::NOT_FOUND, "not found".to_owned(), None),
            AppError::Conflict(m) => (StatusCode::CONFLICT, m, None),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m, None),
            AppError::Plaid(e) => {
                // Plaid's own message is for developers; log it (it is scrubbed of tokens)
                // and show the user Plaid's display message when there is one. A public
                // token Plaid refuses is the caller's, and anyone signed in can send one: at
                // most a line a minute (review round 17: a warning each).
                static REFUSED_PUBLIC_TOKENS: Throttled = Throttled::new();
                match e.api_error() {
                    Some(a) if a.error_code == ErrorCode::InvalidPublicToken => {
                        REFUSED_PUBLIC_TOKENS.warn("Plaid refused a public token", &e);
                    }
                    _ => tracing::warn!(error = %e, "Plaid call failed"),
                }
                let shown = e
                    .api_error()
                    .and_then(|a| a.display_message.clone())
                    .unwrap_or_else(|| "the bank connection failed; try again later".into());
                let code = e.api_error().map(|a| a.error_code.as_str().to_owned());
                let status = match e.api_error() {
                    Some(a) if a.error_code == ErrorCode::InvalidPublicToken => {
                        StatusCode::BAD_REQUEST
                    }
                    // Plaid's rate limit: the caller should back off, not take it for an outage.
                    Some(a) if a.error_type == ErrorType::RateLimitExceeded => {
                        StatusCode::TOO_MANY_REQUESTS
                    }
                    _ => StatusCode::BAD_GATEWAY,
                };
                (status, shown, code)
            }
            AppError::Db(e) => {
                tracing::error!(error = %e, "database error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                    None,
                )
            }
            AppError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_owned(),
                None,
            ),
        };
        (status, Json(json!({ "error": message, "code": code }))).into_response()
    }
}

impl From<PlaidError> for AppError {
    fn from(e: PlaidError) -> Self {
        AppError::Plaid(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Db(e)
    }
}

/// The signed-in user. A stand-in for the app's real authentication (a session cookie or a
/// bearer token checked by middleware): here, the `x-user-id` header. An extractor that every
/// route takes before its body, so a stranger gets 401 whatever it sent (a body too large or
/// too slow for the guard is refused first, 413 or 408), never a hint about what a body should
/// look like.
struct User(String);

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .headers
            .get("x-user-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 64)
            .map(|v| User(v.to_owned()))
            .ok_or(AppError::Unauthenticated)
    }
}

/// The caller's Item (token and status); 404 if there is none or it is someone else's.
async fn owned_item(
    app: &App,
    user: &User,
    item_id: &str,
) -> Result<(AccessToken, String), AppError> {
    let row = app
        .db
        .query_one(
            "SELECT access_token, status FROM items
             WHERE id = $1 AND user_id = $2 AND status IN ('active', 'disconnected')",
            params![item_id, user.0.clone()],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((AccessToken::new(row.text(0)), row.text(1)))
}

/// POST /api/link-token: a link token for connecting a new bank.
async fn create_link_token(
    State(app): State<Arc<App>>,
    user: User,
) -> Result<Json<Value>, AppError> {
    let request = LinkTokenCreateRequest::new(
        "Plaid SDK Backend",
        "en",
        vec![CountryCode::Us],
        LinkTokenCreateRequestUser::new(user.0),
    )
    .products([Products::Transactions])
    .webhook(app.webhook_url.clone());
    let created = app.plaid.link_token_create(&request).await?;
    Ok(Json(
        json!({ "link_token": created.link_token, "expiration": created.expiration }),
    ))
}

#[derive(Deserialize)]
struct ExchangeBody {
    public_token: String,
}

/// POST /api/items: exchange Link's public token, store the Item and its accounts, queue the
/// first sync. The same bank accounts linked twice by one user give 409.
///
/// From the exchange on, the access token is in the database (status `linking`) before
/// anything else can fail: an Item the app does not keep (Plaid failing the next calls, a
/// duplicate, the database failing) is removed at Plaid, by a job that retries until Plaid
/// confirms, and a replica dying mid-way leaves a `linking` row the sweeper removes.
async fn exchange(
    State(app): State<Arc<App>>,
    user: User,
    body: Result<Json<ExchangeBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    // The framework's own text names this app's types; the caller needs the shape.
    let Json(body) = body.map_err(|rejection| {
        let what = match rejection {
            JsonRejection::MissingJsonContentType(_) => "a Content-Type of application/json and",
            _ => "a JSON body:",
        };
        AppError::BadRequest(format!("send {what} {{\"public_token\": \"public-…\"}}"))
    })?;
    if body.public_token.is_empty() {
        return Err(AppError::BadRequest("public_token is empty".into()));
    }
    to_the_end(&app.clone(), exchange_item(app, user, body.public_token)).await
}

/// Runs a request's work in its own task, so that it finishes when the client goes away (axum
/// drops a handler whose connection closed, wherever it is). From Plaid's exchange on, a
/// request stopped half-way would leave a bank connected with no record, or an Item removed
/// at Plaid and still active here. The task is tracked: with its client gone, no connection
/// holds shutdown back, so [`App::requests_finished`] waits for it (review round 17).
async fn to_the_end<T: Send + 'static>(
    app: &App,
    work: impl std::future::Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    app.requests
        .spawn(work)
        .await
        .unwrap_or(Err(AppError::Internal))
}

async fn exchange_item(
    app: Arc<App>,
    user: User,
    public_token: String,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let linked = app
        .plaid_unrecorded()
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(PublicToken::new(
            public_token,
        )))
        .await
        .inspect_err(|e| {
            // Sent, and no answer of Plaid's own read: Plaid may have made the Item, whose
            // access token is lost with the answer. Its webhooks name it ([`inbox`]).
            if !matches!(
                e,
                PlaidError::Api(_)
                    | PlaidError::Connect { .. }
                    | PlaidError::InvalidRequest { .. }
                    | PlaidError::Config(_)
            ) {
                tracing::error!(user_id = %user.0, error = %e,
                    "the exchange's answer was lost: Plaid may have connected an Item this \
                     app has no record of (a webhook naming it is logged as such)");
            }
        })?;
    let item_id = linked.item_id.as_str().to_owned();
    let token = linked.access_token;
    let kept = app
        .db
        .execute(
            "INSERT INTO items (id, user_id, access_token, status, created_at)
             VALUES ($1, $2, $3, 'linking', $4) ON CONFLICT (id) DO NOTHING",
            params![
                item_id.clone(),
                user.0.clone(),
                token.expose_secret(),
                now_ms()
            ],
        )
        .await;
    match kept {
        Ok(1) => {}
        // The Item has a row already: a public token from update mode (Plaid's exchange gives
        // the same Item back) or one exchanged twice. That row owns the Item: removing it at
        // Plaid would break the Item the app keeps.
        Ok(_) => return Err(AppError::Conflict("this Item is linked already".into())),
        // The insert failed, or its answer was lost. Only an Item with no row is removed at
        // Plaid here: one recorded after all is given up the usual way, and one the app has
        // already (an update-mode public token) is left alone.
        Err(e) => {
            let row = app
                .db
                .query_one(
                    "SELECT status, user_id FROM items WHERE id = $1",
                    params![item_id.clone()],
                )
                .await;
            match row {
                Ok(Some(r)) if r.text(0) == "linking" && r.text(1) == user.0 => {
                    give_up_item(&app, &item_id, &token).await;
                }
                Ok(Some(_)) => {
                    return Err(AppError::Conflict("this Item is linked already".into()))
                }
                // No row, or the database cannot say: removed now, or it stays connected with
                // no record. (Unreadable, an update-mode token of a kept Item would be
                // removed too: the app's own page never sends one.)
                // Bounded like the exchange; the two together can outlast a stop's grace,
                // on this path only (the database failing as the Item was recorded).
                Ok(None) | Err(_) => {
                    if let Err(removal) = app
                        .plaid_unrecorded()
                        .item_remove(&ItemRemoveRequest::new(token.clone()))
                        .await
                    {
                        // Neither kept nor removed: say which, for whoever must remove it.
                        tracing::error!(item_id = %item_id, error = %removal,
                            "an Item could be neither recorded nor removed at Plaid");
                    }
                }
            }
            return Err(AppError::Db(e));
        }
    }
    match keep_item(&app, &user, &item_id, &token).await {
        Ok((accounts, queued)) => {
            tracing::info!(item_id = %item_id, "Item linked");
            app.wake.notify_waiters();
            // Nothing can queue a sync for the Item before it is active, so this is its first.
            let job_id = queued;
            Ok((
                StatusCode::CREATED,
                Json(json!({ "item_id": item_id, "accounts": accounts, "sync_job": job_id })),
            ))
        }
        Err(e) => {
            if !give_up_item(&app, &item_id, &token).await {
                return Err(e);
            }
            // Kept after all: its keep committed, though its answer came too late. (If the
            // reads below fail, the Item is kept and listed all the same, answered 5xx.)
            tracing::warn!(item_id = %item_id, "an Item was kept though its keep failed");
            app.wake.notify_waiters();
            let row = app
                .db
                .query_one(
                    "SELECT (SELECT COUNT(*) FROM accounts WHERE item_id = $1),
                            (SELECT id FROM jobs WHERE item_id = $1 AND kind = 'sync'
                             ORDER BY created_at LIMIT 1)",
                    params![item_id.clone()],
                )
                .await?
                .ok_or(AppError::Internal)?;
            Ok((
                StatusCode::CREATED,
                Json(
                    json!({ "item_id": item_id, "accounts": row.int(0), "sync_job": row.opt_text(1) }),
                ),
            ))
        }
    }
}

/// Fetches what the app stores about a new Item and makes it active with its first sync
/// queued, in one transaction (an active Item without a sync would never be synced: Plaid
/// sends `SYNC_UPDATES_AVAILABLE` only once `/transactions/sync` has been called); an error if
/// it is a duplicate of one the user has. The number of accounts, and the sync's id if this
/// queued it.
async fn keep_item(
    app: &App,
    user: &User,
    item_id: &str,
    token: &AccessToken,
) -> Result<(usize, Option<String>), AppError> {
    let asked_at = now_s();
    let item = app
        .plaid
        .item_get(&ItemGetRequest::new(token.clone()))
        .await?
        .item;
    let accounts = app
        .plaid
        .accounts_get(&AccountsGetRequest::new(token.clone()))
        .await?
        .accounts;
    let institution_id = item.institution_id.clone().unwrap_or_default();
    let institution_name = match item.institution_id.clone() {
        Some(id) => app
            .plaid
            .institutions_get_by_id(&InstitutionsGetByIdRequest::new(id, vec![CountryCode::Us]))
            .await
            .map(|r| r.institution.name)
            .ok(),
        None => None,
    };

    // Duplicate Items: Plaid recommends checking the institution and the accounts' names and
    // masks before keeping a new Item.
    let mut fingerprint: Vec<String> = accounts
        .iter()
        .map(|a| format!("{}/{}", a.name, a.mask.as_deref().unwrap_or("")))
        .collect();
    fingerprint.sort();
    let rows = app
        .db
        .query(
            "SELECT i.id, a.name, a.mask FROM items i JOIN accounts a ON a.item_id = i.id
             WHERE i.user_id = $1 AND i.institution_id = $2 AND i.status = 'active'",
            params![user.0.clone(), institution_id.clone()],
        )
        .await?;
    let mut by_item: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        by_item.entry(r.text(0)).or_default().push(format!(
            "{}/{}",
            r.text(1),
            r.opt_text(2).unwrap_or_default()
        ));
    }
    if let Some((duplicate_of, _)) = by_item.into_iter().find(|(_, accts)| {
        let mut accts = accts.clone();
        accts.sort();
        accts == fingerprint
    }) {
        return Err(AppError::Conflict(format!(
            "these accounts are already linked as Item {duplicate_of}"
        )));
    }

    // The check above reads; this row is what makes two links of the same accounts at once
    // impossible: the second's insert finds the first's (its key) and its transaction ends.
    let fingerprint = fingerprint.join("\u{1f}");
    let mut stmts = Vec::new();
    // An Item with no accounts duplicates nothing.
    if !accounts.is_empty() {
        stmts.push(Stmt::guard(
            "INSERT INTO active_links (user_id, institution_id, fingerprint, item_id)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            params![
                user.0.clone(),
                institution_id.clone(),
                fingerprint.clone(),
                item_id
            ],
        ));
    }
    // The consent's end as Plaid reports it (webhooks for this Item wait until it is active,
    // and apply over this only if signed after the call was made).
    stmts.push(Stmt::guard(
        "UPDATE items SET institution_id = $1, institution_name = $2, status = 'active',
                          consent_expires_at = $4, consent_at = $5
         WHERE id = $3 AND status = 'linking'",
        params![
            institution_id.clone(),
            institution_name,
            item_id,
            item.consent_expiration_time.map(consent_text),
            asked_at
        ],
    ));
    for a in &accounts {
        stmts.push(Stmt::new(
            "INSERT INTO accounts (id, item_id, name, mask, subtype) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, mask = excluded.mask,
                                           subtype = excluded.subtype
             WHERE accounts.item_id = excluded.item_id",
            params![
                a.account_id.clone(),
                item_id,
                a.name.clone(),
                a.mask.clone(),
                a.subtype.as_ref().map(|s| s.as_str().to_owned())
            ],
        ));
    }
    let (job_id, queue) = jobs::enqueue_stmt(Kind::Sync, item_id, "link", Unless::Queued);
    let insert_at = stmts.len();
    stmts.extend(queue);
    let Some(counts) = app.db.transaction(stmts).await? else {
        let other = app
            .db
            .query_one(
                "SELECT item_id FROM active_links
                 WHERE user_id = $1 AND institution_id = $2 AND fingerprint = $3",
                params![user.0.clone(), institution_id, fingerprint],
            )
            .await?
            .map(|r| r.text(0))
            .filter(|other| other != item_id);
        return Err(AppError::Conflict(match other {
            Some(other) => format!("these accounts are already linked as Item {other}"),
            None => "the link was abandoned meanwhile".into(),
        }));
    };
    let queued = counts.get(insert_at).is_some_and(|n| *n > 0);
    Ok((accounts.len(), queued.then_some(job_id)))
}

/// An Item the app will not keep: marked `removing` with a job that removes it at Plaid,
/// retrying until Plaid confirms, in one transaction (or marked alone, if the job cannot be
/// queued: the sweeper queues one); then removed at Plaid now, if it can be (the job then
/// finds nothing to do). Marking first matters: a keep whose answer was lost (a database
/// that answered too late) may have committed, and an Item the app keeps must not be
/// removed at Plaid. If it cannot be marked, it stays `linking` and the sweeper removes it
/// once the database answers. Whether the Item turned out to be kept.
async fn give_up_item(app: &App, item_id: &str, token: &AccessToken) -> bool {
    let mark = || {
        Stmt::guard(
            "UPDATE items SET status = 'removing' WHERE id = $1 AND status = 'linking'",
            params![item_id],
        )
    };
    let (_, queue) = jobs::enqueue_stmt(Kind::Remove, item_id, "link not kept", Unless::Queued);
    let mut stmts = vec![mark()];
    stmts.extend(queue);
    let marked = match app.db.transaction(stmts).await {
        Err(e) => {
            tracing::warn!(item_id = %item_id, error = %e, "could not queue an Item's removal");
            app.db.transaction(vec![mark()]).await
        }
        marked => marked,
    };
    match marked {
        Ok(Some(_)) => {}
        Ok(None) => {
            let status = app
                .db
                .query_one("SELECT status FROM items WHERE id = $1", params![item_id])
                .await;
            return matches!(status, Ok(Some(row)) if row.text(0) == "active");
        }
        Err(e) => {
            tracing::warn!(item_id = %item_id, error = %e,
                "could not record an Item to remove; the sweeper removes it later");
            return false;
        }
    }
    let removed = app
        .plaid
        .item_remove(&ItemRemoveRequest::new(token.clone()))
        .await;
    let gone = match removed {
        Ok(_) => true,
        Err(PlaidError::Api(e)) => e.error_code == ErrorCode::ItemNotFound,
        Err(_) => false,
    };
    if gone {
        let deleted = app
            .db
            .execute(
                "DELETE FROM items WHERE id = $1 AND status = 'removing'",
                params![item_id],
            )
            .await;
        if let Err(e) = deleted {
            // Its job removes it again (Plaid answers ITEM_NOT_FOUND) and deletes the row.
            tracing::warn!(item_id = %item_id, error = %e, "could not delete a removed Item");
        }
    } else {
        app.wake.notify_waiters(); // its job tries again
    }
    false
}

/// GET /api/items: the caller's Items.
async fn list_items(State(app): State<Arc<App>>, user: User) -> Result<Json<Value>, AppError> {
    let rows = app
        .db
        .query(
            "SELECT i.id, i.institution_name, i.last_synced_at, i.error_code,
                    i.consent_expires_at, i.status,
                    (SELECT COUNT(*) FROM accounts a WHERE a.item_id = i.id),
                    (SELECT COUNT(*) FROM transactions t WHERE t.item_id = i.id),
                    (SELECT COUNT(*) FROM jobs j WHERE j.item_id = i.id AND j.kind = 'sync'
                        AND j.state IN ('queued', 'running')),
                    (SELECT j.error FROM jobs j WHERE j.item_id = i.id AND j.kind = 'sync'
                        AND j.state = 'queued' AND j.error IS NOT NULL
                        ORDER BY j.created_at DESC LIMIT 1)
             FROM items i WHERE i.user_id = $1 AND i.status IN ('active', 'disconnected')
             ORDER BY i.created_at, i.id",
            params![user.0],
        )
        .await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "item_id": r.text(0),
                "institution": r.opt_text(1),
                "last_synced_at": rfc3339(r.opt_int(2)),
                "error": r.opt_text(3),
                "consent_expires_at": r.opt_text(4),
                "status": r.text(5),
                "accounts": r.int(6),
                "transactions": r.int(7),
                "syncing": r.int(8) > 0,
                // Why the sync waiting to be tried again failed last (Plaid's code, or the
                // app's words): the Item's data is stale until it succeeds. Not while it runs
                // again.
                "sync_error": r.opt_text(9),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// A consent's end as the Item stores it: what Plaid's webhooks carry, RFC 3339 in UTC.
fn consent_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// POST /api/items/{id}/link-token: a link token in update mode, to repair a login or renew
/// consent. (Account selection stays off: this app keeps the accounts it stored at link, so
/// choosing accounts again would also need `update.account_selection_enabled` and a refresh
/// of the stored accounts afterwards.)
async fn update_link_token(
    State(app): State<Arc<App>>,
    user: User,
    Path(item_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let (token, status) = owned_item(&app, &user, &item_id).await?;
    if status != "active" {
        return Err(AppError::Conflict("the Item is disconnected".into()));
    }
    let request = LinkTokenCreateRequest::update_mode("Plaid SDK Backend", user.0, token)
        .webhook(app.webhook_url.clone());
    let created = app.plaid.link_token_create(&request).await?;
    Ok(Json(
        json!({ "link_token": created.link_token, "expiration": created.expiration }),
    ))
}

/// POST /api/items/{id}/sync: 202 with a job id; 409 while a sync of the Item is queued or
/// running, with that job's id to follow (a queued one waiting to be tried again is tried
/// now).
async fn start_sync(
    State(app): State<Arc<App>>,
    user: User,
    Path(item_id): Path<String>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let (_, status) = owned_item(&app, &user, &item_id).await?;
    if status != "active" {
        return Err(AppError::Conflict("the Item is disconnected".into()));
    }
    if let Some(job_id) = jobs::enqueue(&app, Kind::Sync, &item_id, "user", Unless::Busy).await? {
        return Ok((StatusCode::ACCEPTED, Json(json!({ "job_id": job_id }))));
    }
    let busy = app
        .db
        .query_one(
            "SELECT id, state FROM jobs WHERE item_id = $1 AND kind = 'sync'
               AND state IN ('queued', 'running')
             ORDER BY created_at DESC LIMIT 1",
            params![item_id],
        )
        .await?;
    let (job_id, error) = match &busy {
        Some(row) if row.text(1) == "running" => {
            (Some(row.text(0)), "a sync of this Item is running")
        }
        Some(row) => (Some(row.text(0)), "a sync of this Item is queued"),
        // Ended between the two statements: the next click starts one.
        None => (None, "a sync of this Item just ended"),
    };
    Ok((
        StatusCode::CONFLICT,
        Json(json!({ "error": error, "job_id": job_id })),
    ))
}

/// GET /api/jobs/{id}: a sync job's state and counts.
async fn job(
    State(app): State<Arc<App>>,
    user: User,
    Path(job_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let row = app
        .db
        .query_one(
            "SELECT j.item_id, j.state, j.added, j.modified, j.removed, j.error, j.attempts
             FROM jobs j JOIN items i ON i.id = j.item_id
             WHERE j.id = $1 AND i.user_id = $2 AND j.kind = 'sync'",
            params![job_id.clone(), user.0],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    // A sync that met a passing failure while another was queued handed its work to that one
    // (`superseded`): name the Item's newest, to follow instead.
    let next = if row.text(1) == "superseded" {
        app.db
            .query_one(
                "SELECT id FROM jobs WHERE item_id = $1 AND kind = 'sync' AND id <> $2
                 ORDER BY created_at DESC LIMIT 1",
                params![row.text(0), job_id.clone()],
            )
            .await?
            .map(|r| r.text(0))
    } else {
        None
    };
    Ok(Json(json!({
        "job_id": job_id,
        "item_id": row.text(0),
        "state": row.text(1),
        "added": row.opt_int(2),
        "modified": row.opt_int(3),
        "removed": row.opt_int(4),
        "error": row.opt_text(5),
        "attempts": row.int(6),
        "next_job_id": next,
    })))
}

/// `?limit=&offset=` of a listing.
#[derive(Deserialize)]
struct Paging {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A page's default and largest size.
const PAGE_DEFAULT: i64 = 100;
const PAGE_MAX: i64 = 500;

/// GET /api/items/{id}/transactions[?limit=100&offset=0]: a page of the Item's stored
/// transactions, newest first (`limit` 1 to 500, default 100), with `total` and the
/// `next_offset` of the next page (`null` after the last).
async fn list_transactions(
    State(app): State<Arc<App>>,
    user: User,
    Path(item_id): Path<String>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let bad = || AppError::BadRequest(format!("limit is 1 to {PAGE_MAX}, offset 0 or more"));
    let Query(paging) = paging.map_err(|_| bad())?;
    let limit = paging.limit.unwrap_or(PAGE_DEFAULT);
    let offset = paging.offset.unwrap_or(0);
    if !(1..=PAGE_MAX).contains(&limit) || offset < 0 {
        return Err(bad());
    }
    owned_item(&app, &user, &item_id).await?;
    let total = app
        .db
        .query(
            "SELECT COUNT(*) FROM transactions WHERE item_id = $1",
            params![item_id.as_str()],
        )
        .await?
        .first()
        .map_or(0, |r| r.int(0));
    let rows = app
        .db
        .query(
            "SELECT id, account_id, date, name, amount, category, pending FROM transactions
             WHERE item_id = $1 ORDER BY date DESC, id LIMIT $2 OFFSET $3",
            params![item_id, limit, offset],
        )
        .await?;
    let transactions: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "transaction_id": r.text(0),
                "account_id": r.text(1),
                "date": r.text(2),
                "name": r.text(3),
                "amount": r.real(4),
                "category": r.opt_text(5),
                "pending": r.int(6) != 0,
            })
        })
        .collect();
    let end = offset.saturating_add(transactions.len() as i64);
    let next_offset = (end < total && !transactions.is_empty()).then_some(end);
    Ok(Json(json!({
        "transactions": transactions,
        "total": total,
        "next_offset": next_offset,
    })))
}

/// DELETE /api/items/{id}: remove the Item at Plaid (no more billing, no more access), keep
/// the local data, mark it disconnected.
async fn disconnect(
    State(app): State<Arc<App>>,
    user: User,
    Path(item_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let (token, status) = owned_item(&app, &user, &item_id).await?;
    if status == "active" {
        to_the_end(&app.clone(), disconnect_item(app, item_id.clone(), token)).await?;
    }
    Ok(Json(
        json!({ "item_id": item_id, "status": "disconnected" }),
    ))
}

/// `/item/remove`, then the row marked disconnected.
async fn disconnect_item(
    app: Arc<App>,
    item_id: String,
    token: AccessToken,
) -> Result<(), AppError> {
    match app
        .plaid_unrecorded()
        .item_remove(&ItemRemoveRequest::new(token))
        .await
    {
        // Already gone at Plaid (removed elsewhere): disconnected all the same.
        Err(PlaidError::Api(e)) if e.error_code == ErrorCode::ItemNotFound => {}
        other => drop(other?),
    }
    app.db
        .transaction(vec![
            // Plaid has invalidated the token: nothing to keep it for. Nor the Item's error
            // or its access's end: nothing can repair or renew it now (review round 17).
            Stmt::new(
                "UPDATE items SET status = 'disconnected', access_token = '', error_code = NULL,
                                  consent_expires_at = NULL
                 WHERE id = $1",
                params![item_id.clone()],
            ),
            // The same accounts may be linked again.
            Stmt::new(
                "DELETE FROM active_links WHERE item_id = $1",
                params![item_id.clone()],
            ),
        ])
        .await?;
    tracing::info!(item_id = %item_id, "Item disconnected");
    Ok(())
}

/// Stores the id of a key Plaid signed a verified webhook with, the first time this replica
/// sees it, for the verifiers of replicas that start later (`VOUCHED_KEY_IDS`).
async fn remember_key_id(app: &App, kid: &str) {
    let new = app
        .key_ids
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(kid.to_owned());
    if !new {
        return;
    }
    let stored = app
        .db
        .execute(
            "INSERT INTO webhook_keys (kid, seen_at) VALUES ($1, $2)
             ON CONFLICT (kid) DO UPDATE SET seen_at = excluded.seen_at",
            params![kid.to_owned(), now_s()],
        )
        .await;
    if let Err(e) = stored {
        // Only a later start is worse off: it may wait for this key like for a new one.
        tracing::warn!(error = %e, "could not store a webhook key id");
        app.key_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(kid);
    }
}

/// POST /webhooks/plaid: verify, store in the inbox, answer 200. The inbox workers act on it.
async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let verified = match app.verifier.verify_delivery(&headers, &body).await {
        Ok(verified) => verified,
        // A key not fetched (Plaid unreachable, or the fetch budget spent on unknown key ids):
        // the webhook may be genuine, so 503 and Plaid retries.
        Err(e @ (WebhookError::KeyFetch(_) | WebhookError::KeyFetchLimited { .. })) => {
            app.key_unfetched
                .warn("could not fetch Plaid's webhook key", &e);
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        Err(e) => {
            app.refused.warn("webhook refused", &e);
            return StatusCode::UNAUTHORIZED;
        }
    };
    remember_key_id(&app, &verified.key_id).await;
    let (webhook_type, webhook_code) = verified.event.kind();
    let item_id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["item_id"].as_str().map(str::to_owned));
    let body = String::from_utf8_lossy(&body);
    // The key is what the signature vouches for: the body and when Plaid signed it. Not the
    // token's text: an ECDSA signature has a second valid form, (r, n - s), and base64 can be
    // padded, so a replay could otherwise come back under as many keys as it has spellings.
    // Two events with the same body in the same second share a key; the inbox queues a sync
    // for a copy that comes once the first is applied (inbox::store).
    let delivery = Delivery {
        key: format!("{}:{}", verified.body_sha256_hex(), verified.issued_at),
        item_id,
        webhook_type,
        webhook_code,
        iat: verified.issued_at,
        body: &body,
    };
    let item_id = delivery.item_id.clone();
    match inbox::store(&app, delivery).await {
        Ok(_) => StatusCode::OK,
        Err(e) => {
            tracing::error!(item_id = ?item_id, webhook_type = %webhook_type,
                webhook_code = %webhook_code, error = %e,
                "could not store a webhook; Plaid sends it again");
            StatusCode::SERVICE_UNAVAILABLE // Plaid retries
        }
    }
}
