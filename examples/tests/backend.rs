//! The reference backend (`examples/backend`), driven over HTTP against the offline sandbox:
//! link, exchange, duplicate Items, syncs by request and by webhook, errors and update mode,
//! consent expiry, disconnect, and users kept apart. No access token in any response or log.
//!
//! Each test runs on SQLite, and on PostgreSQL when `BACKEND_TEST_DATABASE_URL` names a
//! server (`.ci/run` starts one): `cargo test -p plaid-examples --test backend -- --ignored`.

#[path = "../backend/app.rs"]
mod app;
// Its unit tests (the host names it answers to) run here; the binary's tests use the rest.
#[path = "../backend/guard.rs"]
#[allow(dead_code)]
mod guard;
#[path = "../backend/inbox.rs"]
mod inbox;
#[path = "../backend/jobs.rs"]
mod jobs;
#[path = "../backend/store.rs"]
mod store;

mod support;

use plaid_sandbox::{Fault, Sandbox};
use plaid_sdk::ItemId;
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Log lines written by the backend while the test runs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An HTTP client for the backend that remembers every response body.
struct Api {
    base: String,
    http: reqwest::Client,
    seen: Mutex<Vec<String>>,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(user) = user {
            request = request.header("x-user-id", user);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        self.seen.lock().unwrap().push(text.clone());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every stored transaction of an Item, page by page (`limit` at a time), checking each
    /// page's `total` and `next_offset`.
    async fn transactions(&self, user: &str, item_id: &str, limit: usize) -> Vec<Value> {
        let mut all: Vec<Value> = Vec::new();
        let mut offset = 0;
        loop {
            let path = format!("/api/items/{item_id}/transactions?limit={limit}&offset={offset}");
            let (status, body) = self.call("GET", &path, Some(user), None).await;
            assert_eq!(status, 200, "{body}");
            let page = body["transactions"].as_array().unwrap();
            assert!(page.len() <= limit, "{}", page.len());
            all.extend(page.iter().cloned());
            let total = body["total"].as_u64().unwrap() as usize;
            match body["next_offset"].as_u64() {
                Some(next) => {
                    assert_eq!(next as usize, all.len());
                    offset = next;
                }
                None => {
                    assert_eq!(all.len(), total, "the last page, and not all of them");
                    return all;
                }
            }
        }
    }

    async fn items(&self, user: &str) -> Vec<Value> {
        let (status, body) = self.call("GET", "/api/items", Some(user), None).await;
        assert_eq!(status, 200);
        body["items"].as_array().unwrap().clone()
    }

    /// Polls until `check` holds for the user's first Item (background syncs, webhooks).
    async fn wait_item(&self, user: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let items = self.items(user).await;
            if let Some(item) = items.first().filter(|i| check(i)) {
                return item.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {items:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the page's Reconnect does: an update-mode link token for the Item, the user
    /// through Link (played by the sandbox), a sync; then waits until the Item has no error.
    async fn repair_in_update_mode(
        &self,
        sandbox: &Sandbox,
        user: &str,
        item_id: &str,
        what: &str,
    ) {
        let (status, body) = self
            .call(
                "POST",
                &format!("/api/items/{item_id}/link-token"),
                Some(user),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        sandbox
            .complete_update(body["link_token"].as_str().unwrap())
            .unwrap();
        let (status, body) = self
            .call(
                "POST",
                &format!("/api/items/{item_id}/sync"),
                Some(user),
                None,
            )
            .await;
        assert!(status == 202 || status == 409, "{status} {body}");
        self.wait_item(user, what, |i| i["error"].is_null()).await;
    }

    async fn wait_job(&self, user: &str, job: &Value) -> Value {
        let job = job.as_str().expect("a job id");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self
                .call("GET", &format!("/api/jobs/{job}"), Some(user), None)
                .await;
            assert_eq!(status, 200);
            if body["state"] != "running" && body["state"] != "queued" {
                return body;
            }
            assert!(Instant::now() < deadline, "job {job} still running");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Plays a user who clicks "Connect a bank" and finishes Link.
    async fn link(&self, sandbox: &Sandbox, user: &str) -> (u16, Value) {
        let (status, body) = self.call("POST", "/api/link-token", Some(user), None).await;
        assert_eq!(status, 200, "{body}");
        let link_token = body["link_token"].as_str().unwrap();
        assert_eq!(sandbox.link_token_user(link_token).as_deref(), Some(user));
        let public = sandbox.complete_link(link_token, "ins_109508").unwrap();
        self.call(
            "POST",
            "/api/items",
            Some(user),
            Some(json!({ "public_token": public.expose_secret() })),
        )
        .await
    }
}

/// A new, empty database: SQLite in a file of its own, or a new PostgreSQL database on the
/// server `BACKEND_TEST_DATABASE_URL` names.
async fn database(postgres: bool) -> store::Db {
    if !postgres {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("backend-{}.sqlite3", app::random_id()));
        return store::Db::sqlite(&path).unwrap();
    }
    store::Db::postgres(&new_postgres_database().await, 4)
        .await
        .unwrap()
}

/// A new, empty PostgreSQL database on the server `BACKEND_TEST_DATABASE_URL` names: its URL.
async fn new_postgres_database() -> String {
    let url = std::env::var("BACKEND_TEST_DATABASE_URL").expect(
        "set BACKEND_TEST_DATABASE_URL to a PostgreSQL server (postgres://user@127.0.0.1:PORT/postgres) \
         for the PostgreSQL runs; .ci/run starts one",
    );
    let name = format!("backend_test_{}", app::random_id());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("the PostgreSQL server answers");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

#[tokio::test]
async fn the_whole_backend_flow_over_http_on_sqlite() {
    the_whole_backend_flow_over_http(false).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: BACKEND_TEST_DATABASE_URL (.ci/run starts one)"]
async fn the_whole_backend_flow_over_http_on_postgres() {
    the_whole_backend_flow_over_http(true).await;
}

async fn the_whole_backend_flow_over_http(postgres: bool) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = Sandbox::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let application = app::App::start(
        sandbox.client(),
        database(postgres).await,
        app::Settings::new(format!("{base}/webhooks/plaid"), sandbox.uri()),
    )
    .await
    .unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app::router(application)).await });
    let api = Api {
        base,
        http: reqwest::Client::new(),
        seen: Mutex::new(Vec::new()),
    };

    // Link: 201, accounts stored, first sync queued and finished with every transaction.
    let (status, linked) = api.link(&sandbox, "alice").await;
    assert_eq!(status, 201, "{linked}");
    let item_id = linked["item_id"].as_str().unwrap().to_owned();
    assert_eq!(
        linked["accounts"], 12,
        "Plaid's sandbox accounts of user_good"
    );
    let first = api.wait_job("alice", &linked["sync_job"]).await;
    assert_eq!(first["state"], "done", "{first}");
    let truth = sandbox.transactions(&item_id).unwrap().len() as i64;
    assert_eq!(first["added"], truth);
    let items = api.items("alice").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["institution"], "First Platypus Bank");
    assert_eq!(items[0]["accounts"], 12);
    assert_eq!(items[0]["transactions"], truth);
    assert!(items[0]["last_synced_at"].is_string());
    assert_eq!(items[0]["status"], "active");

    // The same bank accounts again: 409, and only one Item kept.
    let (status, body) = api.link(&sandbox, "alice").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(api.items("alice").await.len(), 1);

    // Users are kept apart, and a stranger cannot tell someone else's Item or job from one
    // that does not exist.
    assert!(api.items("bob").await.is_empty());
    for (method, path) in [
        ("POST", format!("/api/items/{item_id}/sync")),
        ("POST", format!("/api/items/{item_id}/link-token")),
        ("GET", format!("/api/items/{item_id}/transactions")),
        ("DELETE", format!("/api/items/{item_id}")),
        (
            "GET",
            format!("/api/jobs/{}", linked["sync_job"].as_str().unwrap()),
        ),
    ] {
        assert_eq!(
            api.call(method, &path, Some("bob"), None).await.0,
            404,
            "{method} {path}"
        );
    }
    assert_eq!(
        api.call("POST", "/api/items/nope/sync", Some("alice"), None)
            .await
            .0,
        404
    );
    assert_eq!(api.call("GET", "/api/items", None, None).await.0, 401);

    // New transactions at the bank: Plaid's SYNC_UPDATES_AVAILABLE webhook makes the backend
    // sync on its own.
    let item = ItemId::new(&item_id);
    sandbox.advance_days(&item, 3).unwrap();
    let truth = sandbox.transactions(&item).unwrap().len() as i64;
    // Its job done, not only its transactions stored: the job is marked done after they are
    // committed, and a sync asked for before that is a 409 (seen once through Prism's proxy
    // on a loaded machine).
    api.wait_item("alice", "the webhook's sync", |i| {
        i["transactions"] == truth && i["syncing"] == false
    })
    .await;

    // A sync on request: 202 and a job; a second one while it runs: 409.
    sandbox.inject(
        Some("/transactions/sync"),
        Fault::Slow(Duration::from_millis(400)),
        1,
    );
    let (status, body) = api
        .call(
            "POST",
            &format!("/api/items/{item_id}/sync"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (again, running) = api
        .call(
            "POST",
            &format!("/api/items/{item_id}/sync"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(again, 409);
    // Round 22: with the job to follow (the page said "already running" and nothing else).
    assert_eq!(running["job_id"], body["job_id"], "{running}");
    let done = api.wait_job("alice", &body["job_id"]).await;
    assert_eq!(done["state"], "done");

    // The bank wants a login: the ITEM ERROR webhook is recorded; update mode repairs it. No
    // webhook says so (as at Plaid): the page syncs after Link's onSuccess, and the sync
    // clears the error.
    sandbox.require_login(&item).unwrap();
    api.wait_item("alice", "the error", |i| {
        i["error"] == "ITEM_LOGIN_REQUIRED"
    })
    .await;
    api.repair_in_update_mode(&sandbox, "alice", &item_id, "the repair")
        .await;

    // Consent about to expire: recorded.
    sandbox.fire_webhook(&item, "PENDING_EXPIRATION").unwrap();
    api.wait_item("alice", "consent expiry", |i| {
        i["consent_expires_at"].is_string()
    })
    .await;

    // DEFAULT_UPDATE (new transactions, the older webhook): the backend syncs on the
    // SYNC_UPDATES_AVAILABLE that comes with it (it needs only that one, as Plaid says).
    sandbox.fire_webhook(&item, "DEFAULT_UPDATE").unwrap();
    let ids: Vec<String> = sandbox
        .transactions(&item)
        .unwrap()
        .into_iter()
        .map(|t| t.transaction_id)
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut stored: Vec<String> = api
            .transactions("alice", &item_id, 500)
            .await
            .iter()
            .map(|t| t["transaction_id"].as_str().unwrap().to_owned())
            .collect();
        stored.sort();
        if stored == ids {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the DEFAULT_UPDATE sync never caught up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let truth = ids.len() as i64;

    // The user takes back the app's access at the bank: the Item shows it at once, with no
    // sync needed to find out.
    sandbox
        .fire_webhook(&item, "USER_PERMISSION_REVOKED")
        .unwrap();
    api.wait_item("alice", "the revoked permission", |i| {
        i["error"] == "USER_PERMISSION_REVOKED"
    })
    .await;
    // Update mode restores it (Plaid: "it can be sent through update mode"), as the page's
    // Reconnect button does.
    api.repair_in_update_mode(&sandbox, "alice", &item_id, "the restored access")
        .await;

    // A webhook not signed by Plaid is refused.
    let forged = api
        .http
        .post(format!("{}/webhooks/plaid", api.base))
        .body(
            json!({"webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": item_id})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    // Disconnect: removed at Plaid, data kept, no more syncs. An error the Item had goes with
    // it (review round 17: a disconnected Item still said "log in again", with no way to).
    sandbox.require_login(&item).unwrap();
    api.wait_item("alice", "the error before disconnecting", |i| {
        i["error"] == "ITEM_LOGIN_REQUIRED"
    })
    .await;
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/api/items/{item_id}"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let items = api.items("alice").await;
    assert_eq!(items[0]["status"], "disconnected");
    assert_eq!(items[0]["error"], Value::Null, "{items:?}");
    assert_eq!(items[0]["consent_expires_at"], Value::Null, "{items:?}");
    assert_eq!(items[0]["transactions"], truth);
    let (status, _) = api
        .call(
            "POST",
            &format!("/api/items/{item_id}/sync"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(status, 409);
    // The stored transactions, a page at a time (round 16: the list was unbounded): the
    // same whatever the page size, newest first, each once.
    let whole = api.transactions("alice", &item_id, 500).await;
    assert_eq!(whole.len() as i64, truth);
    let paged = api.transactions("alice", &item_id, 7).await;
    assert_eq!(paged, whole);
    let dates: Vec<&str> = whole.iter().map(|t| t["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let (status, body) = api
        .call(
            "GET",
            &format!("/api/items/{item_id}/transactions"),
            Some("alice"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["transactions"].as_array().unwrap().len(),
        100.min(whole.len())
    );
    for bad in [
        "limit=0",
        "limit=501",
        "offset=-1",
        "limit=x",
        "limit=99999999999999999999",
    ] {
        let (status, body) = api
            .call(
                "GET",
                &format!("/api/items/{item_id}/transactions?{bad}"),
                Some("alice"),
                None,
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("limit"),
            "{bad}: {body}"
        );
    }

    // Every webhook the sandbox sent was accepted.
    let sent = sandbox.wait_for_webhooks(sandbox.webhooks().len()).await;
    assert!(sent.len() >= 4);
    assert!(sent.iter().all(|w| w.status == Some(200)), "{sent:?}");

    // Access tokens never left the server: not in a response, not in the logs.
    let seen = api.seen.lock().unwrap().join("\n");
    assert!(
        !seen.contains("access-sandbox-"),
        "a response carried an access token"
    );
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("Item linked"), "the backend logs: {logged}");
    assert!(
        !logged.contains("access-sandbox-"),
        "the logs carry an access token"
    );
    server.abort();
}

/// A call's time limit is for each of its steps: a transaction of many quick statements
/// (a big sync's) commits however long it takes in all. (Review round 9: a limit on the
/// whole call would have kept an Item with years of transactions from ever syncing.)
#[tokio::test]
#[ignore = "needs PostgreSQL: BACKEND_TEST_DATABASE_URL (.ci/run starts one)"]
async fn a_long_transaction_of_quick_steps_commits_on_postgres() {
    use std::time::Duration;
    let url = new_postgres_database().await;
    let db = store::Db::postgres_timed(&url, 1, Duration::from_secs(5), Duration::from_millis(400))
        .await
        .unwrap();
    let steps = (0..6)
        .map(|_| store::Stmt::new("SELECT pg_sleep(0.1)", vec![]))
        .collect();
    let started = std::time::Instant::now();
    let counts = db.transaction(steps).await.unwrap().unwrap();
    assert_eq!(counts.len(), 6);
    assert!(started.elapsed() > Duration::from_millis(600));
    let hung = db
        .transaction(vec![store::Stmt::new("SELECT pg_sleep(2)", vec![])])
        .await
        .unwrap_err();
    assert!(hung.0.contains("did not answer within"), "{hung}");
}

/// A replica on `db_url` whose database calls have 1 s for each step.
async fn replica_with_a_1s_step_limit(
    db_url: &str,
    sandbox: &Sandbox,
) -> Result<Arc<app::App>, app::StartError> {
    let db = store::Db::postgres_timed(db_url, 2, Duration::from_secs(5), Duration::from_secs(1))
        .await
        .unwrap();
    let settings = app::Settings::new("http://127.0.0.1:9/webhooks/plaid", sandbox.uri());
    app::App::start(sandbox.client(), db, settings).await
}

/// LOW (review round 10): a replica upgrading the schema ran the migration under the limit
/// of any call's step, so a sync's write transaction longer than that (or an index slow to
/// build) failed the start of every replica of the new version. A migration waits.
#[tokio::test]
#[ignore = "needs PostgreSQL: BACKEND_TEST_DATABASE_URL (.ci/run starts one)"]
async fn a_replica_upgrading_the_schema_waits_behind_a_long_transaction() {
    let db_url = new_postgres_database().await;
    let sandbox = Sandbox::start().await;
    replica_with_a_1s_step_limit(&db_url, &sandbox)
        .await
        .expect("the first replica makes the schema");
    let (sync, connection) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // A new version's schema (as if): the next replica migrates, behind a sync's open
    // transaction that holds a write lock on `items` for 2.5 s.
    sync.batch_execute("DELETE FROM meta WHERE key = 'schema_version'")
        .await
        .unwrap();
    sync.batch_execute(
        "BEGIN; INSERT INTO items (id, user_id, access_token, status, created_at)
         VALUES ('item-1', 'user-1', 'access-sandbox-x', 'linking', 0)",
    )
    .await
    .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        sync.batch_execute("ROLLBACK").await.unwrap();
    });
    let started = Instant::now();
    let upgraded = tokio::time::timeout(
        Duration::from_secs(20),
        replica_with_a_1s_step_limit(&db_url, &sandbox),
    )
    .await
    .expect("the upgrading replica's start hung");
    assert!(upgraded.is_ok(), "{:?}", upgraded.err());
    assert!(started.elapsed() > Duration::from_secs(2), "it did wait");
    release.await.unwrap();
}

/// Review round 9: a replica starting while a long sync held write locks waited behind them
/// in its migration (`CREATE INDEX IF NOT EXISTS` locks the table even when the index exists)
/// and, with a limit on each step, failed to start. A current schema is now left alone.
#[tokio::test]
#[ignore = "needs PostgreSQL: BACKEND_TEST_DATABASE_URL (.ci/run starts one)"]
async fn a_replica_starts_while_a_long_transaction_holds_write_locks() {
    use std::time::Duration;
    let db_url = new_postgres_database().await;
    let sandbox = Sandbox::start().await;
    let replica = || replica_with_a_1s_step_limit(&db_url, &sandbox);
    replica().await.expect("the first replica makes the schema");

    // A sync's transaction, still open: it holds a write lock on `items`.
    let (sync, connection) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    sync.batch_execute(
        "BEGIN; INSERT INTO items (id, user_id, access_token, status, created_at)
         VALUES ('item-1', 'user-1', 'access-sandbox-x', 'linking', 0)",
    )
    .await
    .unwrap();
    let started = tokio::time::timeout(Duration::from_secs(10), replica())
        .await
        .expect("the second replica's start hung");
    assert!(started.is_ok(), "{:?}", started.err());
    sync.batch_execute("ROLLBACK").await.unwrap();
}

/// A PostgreSQL server of the test's own (`scripts/postgres.sh`), for a test that changes
/// server settings; stopped when dropped, or when the test process ends however it ends
/// (`pg_ctl` starts the server in a session of its own, so no signal to the test reaches it).
struct OwnPostgres {
    dir: String,
    url: String,
    /// A shell that stops the server when its stdin, a pipe from this process, closes: when
    /// this is dropped, or the process is gone (a SIGKILL runs no `Drop`).
    stopper: std::process::Child,
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
        let out = std::process::Command::new("bash")
            .args([script, "start"])
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let var = |name: &str| {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} in {text}"))
                .to_owned()
        };
        let dir = var("PG_DIR");
        let stopper = std::process::Command::new("sh")
            .args(["-c", r#"read -r _; bash "$0" stop "$1""#, script, &dir])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("sh runs");
        OwnPostgres {
            dir,
            url: var("BACKEND_TEST_DATABASE_URL"),
            stopper,
        }
    }

    /// The server's process id (the first line of `postmaster.pid`).
    fn server_pid(dir: &str) -> Option<u32> {
        let pid = std::fs::read_to_string(format!("{dir}/data/postmaster.pid")).ok()?;
        pid.lines().next()?.trim().parse().ok()
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        drop(self.stopper.stdin.take());
        if !self.stopper.wait().is_ok_and(|status| status.success()) {
            // The stopper is gone or failed: stop the server here.
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
            let _ = std::process::Command::new("bash")
                .args([script, "stop", &self.dir])
                .status();
        }
    }
}

/// A test's own PostgreSQL server ends with the test process, also one killed outright
/// (review round 21: it ran on for good, as CI's trap knows only the server it started).
#[tokio::test]
#[ignore = "needs PostgreSQL's initdb (.ci/run installs it): the test starts a server of its own"]
async fn a_tests_own_postgres_ends_with_a_test_process_killed_outright() {
    const NAME: &str = "a_tests_own_postgres_ends_with_a_test_process_killed_outright";
    const HOLD: &str = "BACKEND_TEST_HOLD";
    if let Some(report) = std::env::var_os(HOLD) {
        let server = OwnPostgres::start();
        std::fs::write(report, &server.dir).unwrap();
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    let (dir, mut held) = support::held_run(NAME, HOLD).await;
    let pid = OwnPostgres::server_pid(&dir).expect("a server running");
    held.kill().unwrap();
    held.wait().unwrap();
    // Ended: the process gone (or a zombie nobody reaped yet) and its folder removed (after
    // the process, once `pg_ctl` has seen it go).
    let folder = dir.clone();
    let gone =
        move || support::running_in_group(pid).is_none() && !std::path::Path::new(&folder).exists();
    if !support::ended_within_10s(gone).await {
        // Not left behind by this test either.
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
        let _ = std::process::Command::new("bash")
            .args([script, "stop", &dir])
            .status();
        panic!("the server in {dir} outlived the killed test, or its folder did");
    }
}

/// MED (review round 10): a claim PostgreSQL committed after the call's time limit (here
/// every commit waits for a synchronous standby that is not there, and is made locally when
/// the backend cancels it, as when a standby or the storage stalls) left the job `running`
/// under a claim nobody ran. Each lease that ran out counted one more try, and the job ended
/// `failed` ("gave up after 5 attempts") the moment commits came back, never having run.
#[tokio::test]
#[ignore = "needs PostgreSQL's initdb (.ci/run installs it): the test starts a server of its own"]
async fn a_claim_whose_commit_outlived_its_time_limit_is_not_a_try() {
    let server = OwnPostgres::start();
    let (admin, connection) = tokio_postgres::connect(&server.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let sandbox = Sandbox::start().await;
    let db = store::Db::postgres_timed(
        &server.url,
        2,
        Duration::from_secs(5),
        Duration::from_millis(400),
    )
    .await
    .unwrap();
    let mut settings = app::Settings::new("http://127.0.0.1:9/webhooks/plaid", sandbox.uri());
    (settings.lease, settings.poll, settings.workers) =
        (Duration::from_secs(1), Duration::from_millis(20), 1);
    let app = app::App::start(sandbox.client(), db, settings)
        .await
        .unwrap();

    for step in [
        "ALTER SYSTEM SET synchronous_standby_names = 'nobody'",
        "SELECT pg_reload_conf()",
        "SET synchronous_commit = local",
    ] {
        admin.batch_execute(step).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A sync of an Item the backend does not know: done as soon as it runs.
    admin
        .execute(
            "INSERT INTO jobs (id, kind, item_id, reason, state, run_after, created_at)
             VALUES ('job-1', 'sync', 'item-1', 'a test', 'queued', 0, 0)",
            &[],
        )
        .await
        .unwrap();
    let state = async || {
        let row = admin
            .query_one("SELECT state, attempts FROM jobs WHERE id = 'job-1'", &[])
            .await
            .unwrap();
        (row.get::<_, String>(0), row.get::<_, i64>(1))
    };
    let mut most = 0;
    let hang = Instant::now();
    while hang.elapsed() < Duration::from_secs(10) {
        let (job, attempts) = state().await;
        assert_ne!(job, "failed");
        // Done while commits hang would mean they did not: the path below was never taken.
        assert_ne!(job, "done", "the job ran while commits were to hang");
        most = most.max(attempts);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for step in [
        "ALTER SYSTEM RESET synchronous_standby_names",
        "SELECT pg_reload_conf()",
    ] {
        admin.batch_execute(step).await.unwrap();
    }
    let end = Instant::now();
    let (job, attempts) = loop {
        let (job, attempts) = state().await;
        if job != "queued" && job != "running" || end.elapsed() > Duration::from_secs(20) {
            break (job, attempts);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("most tries seen while commits hung: {most}; at the end: {job}, {attempts}");
    assert_eq!(job, "done", "{attempts} tries");
    assert!(most <= 2, "lost claims counted as tries: {most}");
    assert!(
        most >= 1,
        "no claim was committed while commits hung: nothing was tested"
    );
    app.workers_stopped(Duration::from_secs(5)).await;
}
