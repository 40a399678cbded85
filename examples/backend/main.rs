//! A reference backend: the app our users build, on axum, with SQLite or PostgreSQL.
//!
//! ```text
//! cargo run --example backend                                   # offline, SQLite
//! DATABASE_URL=postgres://app@127.0.0.1:5432/app cargo run --example backend
//! ```
//!
//! | Route | What it does |
//! |---|---|
//! | `GET /` | the page: sign in, connect a bank through Link, Items, transactions, sync, repair, disconnect |
//! | `POST /api/link-token` | link token for a new bank connection |
//! | `POST /api/items` `{"public_token"}` | exchange, store the Item and accounts, queue the first sync (409 if already linked) |
//! | `GET /api/items` | the caller's Items: institution, last sync, error, consent expiry or scheduled disconnection (from `/item/get` at link, then `PENDING_*` webhooks), accounts, why a sync waits to be tried again (`sync_error`) |
//! | `POST /api/items/{id}/link-token` | link token in update mode |
//! | `POST /api/items/{id}/sync` | 202 with a job id; 409 while one is queued or runs, with its `job_id` (a queued one is tried now) |
//! | `GET /api/jobs/{id}` | a sync job's state |
//! | `GET /api/items/{id}/transactions[?limit=100&offset=0]` | a page of the stored transactions, newest first (`limit` 1 to 500), with `total` and `next_offset` (`null` after the last page) |
//! | `DELETE /api/items/{id}` | remove at Plaid, keep the data, mark disconnected |
//! | `POST /webhooks/plaid` | verified webhooks, stored in an inbox and answered at once |
//!
//! Every `/api` call names its user in `x-user-id` (a stand-in for real authentication); a
//! user sees only their own Items. Access tokens stay in the database. Because anyone could
//! name anyone, it refuses to start against Plaid's production: replace `User` in `app.rs`
//! with your authentication, then remove that check in `run`. A write sent by a page of
//! another site (its `Origin` or `Sec-Fetch-Site` says so) is refused (403), whatever
//! carries the user.
//!
//! Settings (environment variables):
//! - `PLAID_CLIENT_ID`, `PLAID_SECRET` (and `PLAID_ENV`): Plaid; with none of the three set,
//!   the offline sandbox in-process, with a fresh seed each start, and `POST /dev/complete-link
//!   {"link_token"}` plays the user finishing Link (some but not all of the three is an error
//!   that names what is missing).
//! - `DATABASE_URL=postgres://…`: PostgreSQL, for one or several replicas. Otherwise SQLite:
//!   `DATABASE` names the file; by default a new private folder in the temporary directory
//!   offline (the offline sandbox's Items end with the process, and the folder with a process
//!   stopped by Ctrl-C or SIGTERM), or
//!   `$XDG_DATA_HOME/plaid-sdk-backend/backend.sqlite3` with Plaid's keys. The file is created
//!   0600; one that others can read is refused.
//! - `LINK_SCRIPT_URL`: where the page loads Plaid Link (Plaid's CDN; the sandbox's stand-in
//!   offline or with `PLAID_ENV` naming a sandbox server).
//! - `PORT` (8000; 0 picks a free port), `PUBLIC_URL` (where Plaid and browsers reach this
//!   server, scheme included: a write from a page whose origin is not exactly this one, or
//!   `http://` on the server's own address, is refused with 403),
//!   `WORKERS` (job workers, 2; 0 for a replica that runs no jobs, only HTTP and webhooks;
//!   at most 64),
//!   `JOB_LEASE_SECONDS` (30), `SYNC_RESTARTS` (restarts of one
//!   sync, or tries again of one page, after a passing failure before its job is tried again later, 8), `JOB_RETRY_SECONDS`
//!   (the longest wait between two tries of a job that keeps failing that way, 600),
//!   `REQUEST_READ_SECONDS` (the time a client has to send a request's head, and its body, and
//!   to make room for its answer; also how long a kept-alive connection may stay idle; 10). The three durations are whole seconds
//!   from 1 to 86400.
//! - `RUST_LOG`: what the log (stdout) shows, `info` by default (`debug` adds each refused
//!   webhook and given-up database statement; `warn` only what needs a look; `backend=debug,
//!   warn` per module). A bare word must be a level, and a value that cannot be read stops
//!   the start.
//!
//! It listens on 127.0.0.1 only and bounds what one connection can hold: at most 1,024
//! connections, a request's head and body each read within `REQUEST_READ_SECONDS`, answers
//! written with progress at least every `REQUEST_READ_SECONDS` (a client that stops reading
//! them is let go), bodies of at most 64 KiB, requests only for this server's own host names
//! (its address, `localhost`, `PUBLIC_URL`'s host), and a stop waits 30 s at most for the
//! requests in flight and for the work of those whose clients left (`guard.rs`). So that a
//! stop never cuts an exchange off between Plaid's answer and its row, the calls made before
//! the app has a record of their effect (the exchange, `/item/remove`) take 12 s an attempt,
//! with one retry after a refusal (a `Retry-After` over 1 s is not waited for): 25 s in all.
//! An exchange Plaid answers later than that has its answer lost: it is logged as an error,
//! and the Item it made is named by its webhooks (`inbox.rs`). Give the process at least 30 s
//! between SIGTERM and SIGKILL (Kubernetes' default `terminationGracePeriodSeconds`). It cannot tell clients apart behind the proxy that
//! exposes it, so one client opening 1,024 slow connections (or reading its answers a trickle
//! at a time) fills every slot: put it behind a reverse proxy that buffers whole requests and
//! answers and limits connections per client (nginx's `limit_conn`, a load balancer's
//! equivalent). Nor does it limit how often a signed-in user makes it call Plaid (a link
//! token per `POST /api/link-token`, 300 in 0.3 s in a review): Plaid's own rate limits
//! answer `429` past theirs, which the app passes on as its own `429` with Plaid's code; a
//! limit per user belongs with the sign-in that replaces the `x-user-id` stand-in.

mod app;
mod guard;
mod inbox;
mod jobs;
mod store;

use plaid_sandbox::Sandbox;
use plaid_sdk::{Error, PlaidClient};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() {
    // `RUST_LOG` says what the log shows (`info` when unset); one it cannot read stops the
    // start rather than hiding the lines it asked for.
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => log_filter(&v).unwrap_or_else(|e| {
            eprintln!("backend: RUST_LOG={v:?} cannot be read: {e}");
            std::process::exit(1);
        }),
        Err(std::env::VarError::NotUnicode(_)) => {
            eprintln!("backend: RUST_LOG is not UTF-8");
            std::process::exit(1);
        }
        _ => tracing_subscriber::EnvFilter::new("info"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
    if let Err(e) = run().await {
        eprintln!("backend: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port = match std::env::var("PORT") {
        Ok(v) if !v.is_empty() => v.parse::<u16>().map_err(|_| {
            format!("PORT must be a port number (0 to 65535, 0 for a free one), got {v:?}")
        })?,
        _ => 8000,
    };
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address} (set PORT to another port): {e}"))?;
    let bound = listener.local_addr()?;
    let local = format!("http://{bound}");
    let public_url = std::env::var("PUBLIC_URL").unwrap_or_else(|_| local.clone());
    // `https://app.example/` and `https://app.example` are the same place: without the trim
    // the webhook URL would be `…//webhooks/plaid`, which no route answers.
    let webhook_url = format!("{}/webhooks/plaid", public_url.trim_end_matches('/'));

    let (client, sandbox, environment) = match PlaidClient::from_env() {
        Ok(client) if client.base_url() == plaid_sdk::Environment::Production.base_url() => {
            // Anyone who can reach the server names any user in `x-user-id`: with real bank
            // data behind it, that is everyone's accounts for anyone who asks.
            return Err(concat!(
                "refusing to serve Plaid's production: this backend's sign-in is a stand-in ",
                "(the caller names its user in x-user-id). Replace `User` in app.rs with your ",
                "authentication, then remove this check in main.rs"
            )
            .into());
        }
        Ok(client) => {
            let environment = client.base_url().to_owned();
            (client, None, environment)
        }
        Err(Error::Config(_)) if plaid_sandbox::env_names_no_plaid() => {
            // A fresh seed each start: the Items of a previous run are gone with its sandbox,
            // and a new user must never get an Item id an old stored token opens.
            let mut seed = [0u8; 8];
            getrandom::fill(&mut seed)?;
            let seed = u64::from_le_bytes(seed);
            let sandbox = Arc::new(Sandbox::builder().seed(seed).start().await);
            println!(
                "No Plaid keys: using the offline sandbox at {}",
                sandbox.uri()
            );
            (
                sandbox.client(),
                Some(sandbox),
                format!("offline sandbox, seed {seed}"),
            )
        }
        Err(e) => return Err(e.into()),
    };

    // An offline run's database folder, made for this process and removed when `run` ends,
    // stopped or failed.
    let mut _offline_folder = None;
    let (db, shown) = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            (store::Db::postgres(&url, 8).await?, "PostgreSQL".to_owned())
        }
        Some(_) => {
            return Err(
                "DATABASE_URL must be a postgres:// URL (for SQLite, set DATABASE to a file)"
                    .into(),
            )
        }
        None => {
            let (path, made) = sqlite_path(sandbox.is_some())?;
            _offline_folder = made.map(OfflineFolder);
            let shown = path.display().to_string();
            (store::Db::sqlite(&path)?, shown)
        }
    };
    let mut settings = app::Settings::new(webhook_url, environment);
    // Link for the page: the offline sandbox serves its stand-in at Plaid's path; a sandbox
    // server named by PLAID_ENV too; Plaid itself, from Plaid's CDN. LINK_SCRIPT_URL overrides.
    settings.offline = sandbox.is_some();
    let plaid_base = match &sandbox {
        Some(sandbox) => Some(sandbox.uri()),
        None => Some(client.base_url().to_owned()).filter(|b| b.starts_with("http://")),
    };
    if let Some(base) = plaid_base {
        settings.link_script = format!("{base}/link/v2/stable/link-initialize.js");
    }
    if let Ok(url) = std::env::var("LINK_SCRIPT_URL") {
        settings.link_script = url;
    }
    if let Some(n) = env_number("WORKERS")? {
        // Each worker polls the database: thousands would crowd requests out of the pool.
        if n > MAX_WORKERS {
            return Err(format!("WORKERS must be 0 to {MAX_WORKERS}, got {n}").into());
        }
        settings.workers = usize::try_from(n)?;
    }
    if let Some(lease) = env_seconds("JOB_LEASE_SECONDS")? {
        settings.lease = lease;
    }
    if let Some(wait) = env_seconds("JOB_RETRY_SECONDS")? {
        settings.max_retry_wait = wait;
    }
    if let Some(n) = env_number("SYNC_RESTARTS")? {
        settings.sync_restarts = u32::try_from(n)?;
    }
    let read_deadline = env_seconds("REQUEST_READ_SECONDS")?.unwrap_or(Duration::from_secs(10));
    let application = app::App::start(client, db, settings).await?;
    let replica = application.replica.clone();
    let workers = application.clone();
    let mut router = app::router(application);
    if let Some(sandbox) = sandbox {
        router = router.merge(dev_routes(sandbox));
    }
    let router = guard::layer(router, guard::Guard::new(bound, &public_url, read_deadline));
    println!("Backend on {local} (database {shown}, replica {replica})");
    println!("Open {local}/ in a browser to connect a bank through Link.");
    let stop = async {
        shutdown().await;
        workers.stop_workers(); // running jobs go back to the queue now
    };
    // One grace from the signal, for the connections and for the work their clients left.
    let grace_ends = guard::serve(listener, router, read_deadline, stop).await;
    workers.requests_finished(grace_ends).await;
    workers.workers_stopped(Duration::from_secs(10)).await;
    Ok(())
}

/// The folder an offline run made for its database. Its tokens open nothing once the
/// in-process sandbox is gone: removed when dropped, so no copy of them is left behind.
struct OfflineFolder(PathBuf);

impl Drop for OfflineFolder {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("backend: could not remove {}: {e}", self.0.display());
        }
    }
}

/// SIGTERM (a deploy, a scaler) or Ctrl-C: stop taking connections and let the requests in
/// flight finish, and the work of those whose clients left, for at most 30 s from the signal
/// (an exchange stopped half-way would leave a bank connected with no record; its calls to
/// Plaid end within [`app::UNRECORDED_WORST`], which fits).
/// Jobs running in this process are not waited for: they are handed back to the queue at
/// once, and another replica, or this one restarted, resumes them from their stored cursors
/// (a replica killed outright keeps them until their leases run out).
async fn shutdown() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    println!("Shutting down: finishing the requests in flight");
}

fn env_number(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be a number, got {v:?}")),
        _ => Ok(None),
    }
}

/// `RUST_LOG` read as a filter. A bare word must be a level: to `EnvFilter` any other is a
/// target shown at every level, so a typo (`warning`) silenced every line.
fn log_filter(text: &str) -> Result<tracing_subscriber::EnvFilter, String> {
    for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare = !directive.contains('=') && !directive.contains('[');
        if bare
            && directive
                .parse::<tracing_subscriber::filter::LevelFilter>()
                .is_err()
        {
            return Err(format!(
                "{directive:?} is not a level (error, warn, info, debug, trace, off); for one \
                 module's lines write {directive}=debug"
            ));
        }
    }
    tracing_subscriber::EnvFilter::try_new(text).map_err(|e| e.to_string())
}

/// The most job workers one replica runs (`WORKERS`).
const MAX_WORKERS: u64 = 64;

/// A setting in whole seconds, from 1 to a day (review round 15: a lease of 2^64 − 1 s started
/// and then panicked a worker on `Instant + lease`; 0 was read as 1 without a word).
fn env_seconds(name: &str) -> Result<Option<Duration>, String> {
    match env_number(name)? {
        None => Ok(None),
        Some(s @ 1..=86_400) => Ok(Some(Duration::from_secs(s))),
        Some(s) => Err(format!(
            "{name} must be whole seconds from 1 to 86400, got {s}"
        )),
    }
}

/// The SQLite file: `DATABASE`, or a default that is never a fixed path others can reach; and
/// the folder made for an offline run, which ends with the process.
type SqlitePath = (PathBuf, Option<PathBuf>);

fn sqlite_path(offline: bool) -> Result<SqlitePath, Box<dyn std::error::Error>> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(path) = std::env::var_os("DATABASE").filter(|p| !p.is_empty()) {
        return Ok((PathBuf::from(path), None));
    }
    let dir = if offline {
        // Offline data lives as long as the sandbox that made it: a new private folder.
        let mut name = [0u8; 8];
        getrandom::fill(&mut name)?;
        let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
        std::env::temp_dir().join(format!("plaid-sdk-backend-{name}"))
    } else {
        let data = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .ok_or("set DATABASE (or HOME) to say where the database goes")?;
        data.join("plaid-sdk-backend")
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| {
            format!(
                "cannot create the database's folder {} ({e}): set DATABASE to a file \
                 elsewhere, or DATABASE_URL",
                dir.display()
            )
        })?;
    Ok((dir.join("backend.sqlite3"), offline.then(|| dir.clone())))
}

/// Offline only: `POST /dev/complete-link` stands in for the user finishing Link in a browser.
fn dev_routes(sandbox: Arc<Sandbox>) -> axum::Router {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::Json;
    use serde_json::{json, Value};
    async fn complete(
        State(sandbox): State<Arc<Sandbox>>,
        body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
    ) -> (StatusCode, Json<Value>) {
        let Ok(Json(body)) = body else {
            let error = "send a JSON body: {\"link_token\": \"link-…\"}";
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": error })));
        };
        let token = body["link_token"].as_str().unwrap_or_default();
        let institution = body["institution_id"].as_str().unwrap_or("ins_109508");
        let result = match sandbox.complete_link(token, institution) {
            Ok(public) => Ok(json!({ "public_token": public.expose_secret() })),
            Err(_) => sandbox
                .complete_update(token)
                .map(|item| json!({ "item_id": item.as_str() })),
        };
        match result {
            Ok(v) => (StatusCode::OK, Json(v)),
            Err(e) => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": e.to_string() })),
            ),
        }
    }
    axum::Router::new()
        .route("/dev/complete-link", axum::routing::post(complete))
        .with_state(sandbox)
}
