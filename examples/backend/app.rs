//! The reference backend's application: routes, storage and background syncs.
//!
//! Shared by `main.rs` (the binary) and `tests/backend.rs` (which drives it over HTTP).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use plaid_sdk::sync::{SyncOutcome, TransactionsSync};
use plaid_sdk::types::{
    AccountsGetRequest, CountryCode, InstitutionsGetByIdRequest, ItemGetRequest,
    ItemPublicTokenExchangeRequest, ItemRemoveRequest, LinkTokenCreateRequest,
    LinkTokenCreateRequestUser, Products,
};
use plaid_sdk::webhook::{WebhookError, WebhookEvent, WebhookVerifier};
use plaid_sdk::{AccessToken, Error as PlaidError, ErrorCode, PlaidClient, PublicToken};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Everything the handlers share.
pub struct App {
    plaid: PlaidClient,
    verifier: WebhookVerifier,
    db: Mutex<Connection>,
    /// Where Plaid should send this app's webhooks.
    webhook_url: String,
    /// Items with a sync running, and whether another was asked for meanwhile.
    syncing: Mutex<HashMap<String, bool>>,
}

impl App {
    /// Opens (or creates) the database at `db_path` (`:memory:` for a throwaway one).
    pub fn new(
        plaid: PlaidClient,
        db_path: &str,
        webhook_url: String,
    ) -> rusqlite::Result<Arc<App>> {
        let db = Connection::open(db_path)?;
        db.execute_batch(SCHEMA)?;
        Ok(Arc::new(App {
            verifier: WebhookVerifier::new(plaid.clone()),
            plaid,
            db: Mutex::new(db),
            webhook_url,
            syncing: Mutex::new(HashMap::new()),
        }))
    }

    fn db<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, AppError> {
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut db).map_err(AppError::Db)
    }
}

const SCHEMA: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,              -- Plaid's item_id
    user_id TEXT NOT NULL,
    access_token TEXT NOT NULL,       -- never leaves the server; encrypt it at rest in production
    institution_id TEXT,
    institution_name TEXT,
    cursor TEXT,                      -- /transactions/sync cursor, stored with the changes
    last_synced_at TEXT,
    error_code TEXT,
    consent_expires_at TEXT,
    status TEXT NOT NULL DEFAULT 'active',   -- active | disconnected
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id),
    name TEXT NOT NULL,
    mask TEXT,
    subtype TEXT
);
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id),
    account_id TEXT NOT NULL,
    date TEXT NOT NULL,
    name TEXT NOT NULL,
    amount REAL NOT NULL,
    category TEXT,
    pending INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items(id),
    state TEXT NOT NULL,              -- running | done | failed
    added INTEGER, modified INTEGER, removed INTEGER,
    error TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
";

/// The routes. Every `/api` route needs the caller's user id; `/webhooks/plaid` needs Plaid's
/// signature instead.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
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

/// A failed request: an HTTP status and a message safe to show (no token, no secret).
#[derive(Debug)]
pub enum AppError {
    /// No or malformed `x-user-id`.
    Unauthenticated,
    /// The Item exists but belongs to someone else.
    Forbidden,
    /// No such Item or job.
    NotFound,
    /// The request conflicts with the state (already linked, sync running, disconnected).
    Conflict(String),
    /// The caller sent something wrong.
    BadRequest(String),
    /// Plaid said no, or could not be reached.
    Plaid(PlaidError),
    /// The database failed.
    Db(rusqlite::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "sign in first".to_owned()),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "not your Item".to_owned()),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not found".to_owned()),
            AppError::Conflict(m) => (StatusCode::CONFLICT, m),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AppError::Plaid(e) => {
                // Plaid's own message is for developers; log it (it is scrubbed of tokens)
                // and show the user Plaid's display message when there is one.
                tracing::warn!(error = %e, "Plaid call failed");
                let shown = e
                    .api_error()
                    .and_then(|a| a.display_message.clone())
                    .unwrap_or_else(|| "the bank connection failed; try again later".into());
                let status = match e.api_error() {
                    Some(a) if a.error_code == ErrorCode::InvalidPublicToken => {
                        StatusCode::BAD_REQUEST
                    }
                    _ => StatusCode::BAD_GATEWAY,
                };
                (status, shown)
            }
            AppError::Db(e) => {
                tracing::error!(error = %e, "database error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                )
            }
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

impl From<PlaidError> for AppError {
    fn from(e: PlaidError) -> Self {
        AppError::Plaid(e)
    }
}

/// The signed-in user. A stand-in for the app's real authentication (a session cookie or a
/// bearer token checked by middleware): here, the `x-user-id` header.
struct User(String);

fn user(headers: &HeaderMap) -> Result<User, AppError> {
    headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(|v| User(v.to_owned()))
        .ok_or(AppError::Unauthenticated)
}

/// The caller's Item: 404 if there is none, 403 if it is someone else's.
fn owned_item(app: &App, user: &User, item_id: &str) -> Result<(AccessToken, String), AppError> {
    let row: Option<(String, String, String)> = app.db(|db| {
        db.query_row(
            "SELECT user_id, access_token, status FROM items WHERE id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
    })?;
    match row {
        None => Err(AppError::NotFound),
        Some((owner, _, _)) if owner != user.0 => Err(AppError::Forbidden),
        Some((_, token, status)) => Ok((AccessToken::new(token), status)),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// POST /api/link-token: a link token for connecting a new bank.
async fn create_link_token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    let user = user(&headers)?;
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

/// POST /api/items: exchange Link's public token, store the Item and its accounts, start the
/// first sync. The same bank accounts linked twice by one user give 409.
async fn exchange(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Json(body): Json<ExchangeBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let user = user(&headers)?;
    if body.public_token.is_empty() {
        return Err(AppError::BadRequest("public_token is empty".into()));
    }
    let linked = app
        .plaid
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(PublicToken::new(
            body.public_token,
        )))
        .await?;
    let item = app
        .plaid
        .item_get(&ItemGetRequest::new(linked.access_token.clone()))
        .await?
        .item;
    let accounts = app
        .plaid
        .accounts_get(&AccountsGetRequest::new(linked.access_token.clone()))
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
    let existing: Vec<(String, Vec<String>)> = app.db(|db| {
        let mut stmt = db.prepare(
            "SELECT i.id, a.name || '/' || COALESCE(a.mask, '') FROM items i
             JOIN accounts a ON a.item_id = i.id
             WHERE i.user_id = ?1 AND i.institution_id = ?2 AND i.status = 'active'",
        )?;
        let rows = stmt.query_map(params![user.0, institution_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut by_item: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            let (id, acct) = row?;
            by_item.entry(id).or_default().push(acct);
        }
        Ok(by_item.into_iter().collect())
    })?;
    if let Some((duplicate_of, _)) = existing.into_iter().find(|(_, accts)| {
        let mut accts = accts.clone();
        accts.sort();
        accts == fingerprint
    }) {
        // Do not keep (or pay for) the second Item.
        app.plaid
            .item_remove(&ItemRemoveRequest::new(linked.access_token.clone()))
            .await?;
        return Err(AppError::Conflict(format!(
            "these accounts are already linked as Item {duplicate_of}"
        )));
    }

    let item_id = linked.item_id.as_str().to_owned();
    let token = linked.access_token.expose_secret().to_owned();
    app.db(|db| {
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO items (id, user_id, access_token, institution_id, institution_name,
                                created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                item_id,
                user.0,
                token,
                institution_id,
                institution_name,
                now()
            ],
        )?;
        for a in &accounts {
            tx.execute(
                "INSERT OR REPLACE INTO accounts (id, item_id, name, mask, subtype)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    a.account_id,
                    item_id,
                    a.name,
                    a.mask,
                    a.subtype.as_ref().map(|s| s.as_str().to_owned())
                ],
            )?;
        }
        tx.commit()
    })?;
    tracing::info!(item_id = %item_id, "Item linked");
    let job_id = queue_sync(&app, &item_id, IfRunning::RunAgain)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "item_id": item_id, "accounts": accounts.len(), "sync_job": job_id })),
    ))
}

/// GET /api/items: the caller's Items.
async fn list_items(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    let user = user(&headers)?;
    let items = app.db(|db| {
        let mut stmt = db.prepare(
            "SELECT i.id, i.institution_name, i.last_synced_at, i.error_code,
                    i.consent_expires_at, i.status,
                    (SELECT COUNT(*) FROM accounts a WHERE a.item_id = i.id),
                    (SELECT COUNT(*) FROM transactions t WHERE t.item_id = i.id)
             FROM items i WHERE i.user_id = ?1 ORDER BY i.created_at, i.id",
        )?;
        let rows = stmt.query_map([&user.0], |r| {
            Ok(json!({
                "item_id": r.get::<_, String>(0)?,
                "institution": r.get::<_, Option<String>>(1)?,
                "last_synced_at": r.get::<_, Option<String>>(2)?,
                "error": r.get::<_, Option<String>>(3)?,
                "consent_expires_at": r.get::<_, Option<String>>(4)?,
                "status": r.get::<_, String>(5)?,
                "accounts": r.get::<_, i64>(6)?,
                "transactions": r.get::<_, i64>(7)?,
            }))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    })?;
    Ok(Json(json!({ "items": items })))
}

/// POST /api/items/{id}/link-token: a link token in update mode, to repair a login or choose
/// accounts again.
async fn update_link_token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(item_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let user = user(&headers)?;
    let (token, status) = owned_item(&app, &user, &item_id)?;
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

/// POST /api/items/{id}/sync: 202 with a job id; 409 while a sync of the Item is running.
async fn start_sync(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(item_id): Path<String>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let user = user(&headers)?;
    let (_, status) = owned_item(&app, &user, &item_id)?;
    if status != "active" {
        return Err(AppError::Conflict("the Item is disconnected".into()));
    }
    let job_id = queue_sync(&app, &item_id, IfRunning::Refuse)?
        .ok_or_else(|| AppError::Conflict("a sync of this Item is running".into()))?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "job_id": job_id }))))
}

/// GET /api/jobs/{id}: a sync job's state and counts.
async fn job(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(job_id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let user = user(&headers)?;
    let row = app.db(|db| {
        db.query_row(
            "SELECT j.item_id, i.user_id, j.state, j.added, j.modified, j.removed, j.error
             FROM jobs j JOIN items i ON i.id = j.item_id WHERE j.id = ?1",
            [job_id],
            |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    json!({
                        "job_id": job_id,
                        "item_id": r.get::<_, String>(0)?,
                        "state": r.get::<_, String>(2)?,
                        "added": r.get::<_, Option<i64>>(3)?,
                        "modified": r.get::<_, Option<i64>>(4)?,
                        "removed": r.get::<_, Option<i64>>(5)?,
                        "error": r.get::<_, Option<String>>(6)?,
                    }),
                ))
            },
        )
        .optional()
    })?;
    match row {
        None => Err(AppError::NotFound),
        Some((owner, _)) if owner != user.0 => Err(AppError::Forbidden),
        Some((_, job)) => Ok(Json(job)),
    }
}

/// GET /api/items/{id}/transactions: the Item's stored transactions, newest first.
async fn list_transactions(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(item_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let user = user(&headers)?;
    owned_item(&app, &user, &item_id)?;
    let rows = app.db(|db| {
        let mut stmt = db.prepare(
            "SELECT id, account_id, date, name, amount, category, pending FROM transactions
             WHERE item_id = ?1 ORDER BY date DESC, id",
        )?;
        let rows = stmt.query_map([&item_id], |r| {
            Ok(json!({
                "transaction_id": r.get::<_, String>(0)?,
                "account_id": r.get::<_, String>(1)?,
                "date": r.get::<_, String>(2)?,
                "name": r.get::<_, String>(3)?,
                "amount": r.get::<_, f64>(4)?,
                "category": r.get::<_, Option<String>>(5)?,
                "pending": r.get::<_, bool>(6)?,
            }))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    })?;
    Ok(Json(json!({ "transactions": rows })))
}

/// DELETE /api/items/{id}: remove the Item at Plaid (no more billing, no more access), keep
/// the local data, mark it disconnected.
async fn disconnect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(item_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let user = user(&headers)?;
    let (token, status) = owned_item(&app, &user, &item_id)?;
    if status == "active" {
        match app
            .plaid
            .item_remove(&ItemRemoveRequest::new(token.clone()))
            .await
        {
            // Already gone at Plaid (removed elsewhere): disconnected all the same.
            Err(PlaidError::Api(e)) if e.error_code == ErrorCode::ItemNotFound => {}
            other => drop(other?),
        }
        app.db(|db| {
            db.execute(
                "UPDATE items SET status = 'disconnected' WHERE id = ?1",
                [&item_id],
            )
        })?;
        tracing::info!(item_id = %item_id, "Item disconnected");
    }
    Ok(Json(
        json!({ "item_id": item_id, "status": "disconnected" }),
    ))
}

/// POST /webhooks/plaid: verify, then act. Answers fast; syncs run in the background.
async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let event = match app.verifier.verify(&headers, &body).await {
        Ok(event) => event,
        Err(WebhookError::KeyFetch(e)) => {
            tracing::warn!(error = %e, "could not fetch Plaid's webhook key");
            return StatusCode::INTERNAL_SERVER_ERROR; // Plaid retries
        }
        Err(e) => {
            tracing::warn!(reason = %e, "webhook refused");
            return StatusCode::UNAUTHORIZED;
        }
    };
    let result = match &event {
        WebhookEvent::SyncUpdatesAvailable(h) => {
            queue_sync(&app, &h.item_id, IfRunning::RunAgain).map(drop)
        }
        WebhookEvent::DefaultUpdate(h) => {
            queue_sync(&app, &h.item_id, IfRunning::RunAgain).map(drop)
        }
        WebhookEvent::ItemError(h) => {
            let code = h
                .error
                .as_ref()
                .map(|e| e.error_code.as_str().to_owned())
                .unwrap_or_else(|| "UNKNOWN".into());
            set_item(&app, &h.item_id, "error_code", Some(code))
        }
        WebhookEvent::ItemLoginRepaired(h) => set_item(&app, &h.item_id, "error_code", None)
            .and_then(|()| queue_sync(&app, &h.item_id, IfRunning::RunAgain).map(drop)),
        WebhookEvent::PendingExpiration(h) => set_item(
            &app,
            &h.item_id,
            "consent_expires_at",
            Some(
                h.consent_expiration_time
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        ),
        other => {
            tracing::info!(kind = ?other.kind(), "webhook not handled here");
            Ok(())
        }
    };
    match result {
        Ok(()) => StatusCode::OK,
        Err(e) => e.into_response().status(),
    }
}

/// Sets one column of an Item named by a webhook (an unknown Item is not an error: it may
/// have been deleted here).
fn set_item(app: &App, item_id: &str, column: &str, value: Option<String>) -> Result<(), AppError> {
    let sql = match column {
        "error_code" => "UPDATE items SET error_code = ?1 WHERE id = ?2",
        "consent_expires_at" => "UPDATE items SET consent_expires_at = ?1 WHERE id = ?2",
        _ => return Err(AppError::BadRequest(format!("no column {column}"))),
    };
    app.db(|db| db.execute(sql, params![value, item_id]))?;
    Ok(())
}

/// What to do when a sync of the Item is already running.
#[derive(Clone, Copy, PartialEq)]
enum IfRunning {
    /// Ask it to go round once more (a webhook that arrives mid-sync is not lost).
    RunAgain,
    /// Leave it alone (a user's request answered 409).
    Refuse,
}

/// Starts a background sync of an active Item and returns its job id, or `None` if the Item
/// is unknown or disconnected, or a sync of it is already running (see [`IfRunning`]).
fn queue_sync(
    app: &Arc<App>,
    item_id: &str,
    if_running: IfRunning,
) -> Result<Option<i64>, AppError> {
    let token: Option<String> = app.db(|db| {
        db.query_row(
            "SELECT access_token FROM items WHERE id = ?1 AND status = 'active'",
            [item_id],
            |r| r.get(0),
        )
        .optional()
    })?;
    let Some(token) = token else {
        return Ok(None); // unknown or disconnected Item: nothing to sync
    };
    {
        let mut syncing = app.syncing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(again) = syncing.get_mut(item_id) {
            if if_running == IfRunning::RunAgain {
                *again = true;
            }
            return Ok(None);
        }
        syncing.insert(item_id.to_owned(), false);
    }
    let job_id = app.db(|db| {
        db.execute(
            "INSERT INTO jobs (item_id, state, started_at) VALUES (?1, 'running', ?2)",
            params![item_id, now()],
        )?;
        Ok(db.last_insert_rowid())
    })?;
    let app = Arc::clone(app);
    let item_id = item_id.to_owned();
    tokio::spawn(async move {
        loop {
            let result = sync_once(&app, &item_id, AccessToken::new(token.clone())).await;
            let (state, counts, error) = match result {
                Ok(counts) => ("done", Some(counts), None),
                Err(e) => ("failed", None, Some(e)),
            };
            let _ = app.db(|db| {
                db.execute(
                    "UPDATE jobs SET state = ?1, added = ?2, modified = ?3, removed = ?4,
                                     error = ?5, finished_at = ?6 WHERE id = ?7",
                    params![
                        state,
                        counts.map(|c| c.0 as i64),
                        counts.map(|c| c.1 as i64),
                        counts.map(|c| c.2 as i64),
                        error,
                        now(),
                        job_id
                    ],
                )
            });
            let mut syncing = app.syncing.lock().unwrap_or_else(|p| p.into_inner());
            match syncing.get(&item_id) {
                Some(true) => {
                    syncing.insert(item_id.clone(), false);
                }
                _ => {
                    syncing.remove(&item_id);
                    break;
                }
            }
        }
    });
    Ok(Some(job_id))
}

/// One sync of an Item: the driver's whole loop, then the changes and the new cursor in one
/// database transaction. Returns (added, modified, removed), or the error code to record.
async fn sync_once(
    app: &App,
    item_id: &str,
    token: AccessToken,
) -> Result<(usize, usize, usize), String> {
    let cursor: Option<String> = app
        .db(|db| {
            db.query_row("SELECT cursor FROM items WHERE id = ?1", [item_id], |r| {
                r.get(0)
            })
        })
        .map_err(|_| "database error".to_owned())?;
    let outcome = app
        .plaid
        .transactions_sync_all(&TransactionsSync::new(token).cursor(cursor).count(500))
        .await;
    let batch = match outcome {
        Ok(SyncOutcome::Updated(batch)) => batch,
        Ok(SyncOutcome::NotReady(_)) => return Ok((0, 0, 0)),
        Err(e) => {
            let code = e
                .api_error()
                .map(|a| a.error_code.as_str().to_owned())
                .unwrap_or_else(|| "SYNC_FAILED".into());
            if matches!(
                e.api_error().map(|a| &a.error_code),
                Some(ErrorCode::ItemLoginRequired)
            ) {
                let _ = set_item(app, item_id, "error_code", Some(code.clone()));
            }
            tracing::warn!(item_id = %item_id, error = %e, "sync failed");
            return Err(code);
        }
    };
    let counts = (batch.added.len(), batch.modified.len(), batch.removed.len());
    app.db(|db| {
        let tx = db.transaction()?;
        for t in batch.added.iter().chain(&batch.modified) {
            tx.execute(
                "INSERT OR REPLACE INTO transactions
                     (id, item_id, account_id, date, name, amount, category, pending)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    t.transaction_id,
                    item_id,
                    t.account_id,
                    t.date.to_string(),
                    t.merchant_name.as_deref().unwrap_or(&t.name),
                    t.amount,
                    t.personal_finance_category
                        .as_ref()
                        .map(|c| c.primary.clone()),
                    t.pending
                ],
            )?;
        }
        for id in batch.removed_ids() {
            tx.execute(
                "DELETE FROM transactions WHERE id = ?1 AND item_id = ?2",
                params![id, item_id],
            )?;
        }
        tx.execute(
            "UPDATE items SET cursor = ?1, last_synced_at = ?2, error_code = NULL WHERE id = ?3",
            params![batch.next_cursor, now(), item_id],
        )?;
        tx.commit()
    })
    .map_err(|_| "database error".to_owned())?;
    tracing::info!(item_id = %item_id, added = counts.0, modified = counts.1, removed = counts.2, "synced");
    Ok(counts)
}
