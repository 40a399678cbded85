//! The reference backend's review findings, each as an attack on the backend's binary (the
//! `backend` example, run as a process), so the same test runs against any version of it:
//! `BACKEND_BIN=/path/to/backend cargo test -p plaid-examples --test backend_findings`.
//!
//! Plaid is the offline sandbox, in this process, as a server the backend reaches over HTTP
//! (`PLAID_ENV` set to its URL), except where the finding is about the offline mode itself.

mod support;

use plaid_sandbox::{Fault, Sandbox};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use support::{Backend, Start, CLIENT_ID, SECRET};

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .client_id(CLIENT_ID)
        .secret(SECRET)
        .start()
        .await
}

/// Waits until user-1's job at `job_path` (`/api/jobs/<id>`) is done.
async fn job_done(backend: &Backend, job_path: &str, what: &str, secs: u64) {
    eventually(what, secs, async || {
        let (_, j) = backend.call("GET", job_path, "user-1", None).await;
        j["state"] == "done"
    })
    .await;
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("findings-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The backend against `sandbox`, on a SQLite file of its own (in a fresh folder `name`).
fn on_sqlite(sandbox: &Sandbox, name: &str) -> Start {
    Start::default()
        .plaid(sandbox)
        .env("DATABASE", temp_dir(name).join("db.sqlite3"))
}

/// The body of Plaid's `SYNC_UPDATES_AVAILABLE` webhook for the Item.
fn sync_updates_webhook(item_id: &str) -> String {
    json!({
        "webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
        "item_id": item_id, "initial_update_complete": true,
        "historical_update_complete": true, "environment": "sandbox",
    })
    .to_string()
}

/// The body of Plaid's `ITEM` `ERROR` webhook for the Item: `ITEM_LOGIN_REQUIRED`.
fn item_error_webhook(item_id: &str) -> String {
    json!({
        "webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": item_id,
        "error": { "error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED",
                   "error_message": "the login details of this item have changed",
                   "display_message": null, "status": 400 },
        "environment": "sandbox",
    })
    .to_string()
}

/// The body of Plaid's `ITEM` `LOGIN_REPAIRED` webhook for the Item.
fn login_repaired_webhook(item_id: &str) -> String {
    json!({
        "webhook_type": "ITEM", "webhook_code": "LOGIN_REPAIRED", "item_id": item_id,
        "environment": "sandbox",
    })
    .to_string()
}

/// user-1's one Item holds exactly as many transactions as the sandbox's ledger.
async fn assert_stored_equals_ledger(backend: &Backend, sandbox: &Sandbox, item_id: &str) {
    let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
    let stored = items["items"][0]["transactions"].as_u64().unwrap();
    let ledger = sandbox.transactions(item_id).unwrap().len() as u64;
    assert_eq!(stored, ledger, "{items}");
}

async fn eventually(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// MED: after a successful exchange, a failing `/accounts/get` returned 502 and dropped the
/// access token; `/item/remove` was never called and the bank stayed connected.
#[tokio::test]
async fn a_link_that_fails_after_the_exchange_leaves_no_bank_connected() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "orphan").spawn().unwrap();
    sandbox.inject(Some("/accounts/get"), Fault::ServerError, 20);
    let (status, body) = backend.link(&sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 502, "{body}");
    eventually("the Item removed at Plaid", 10, async || {
        sandbox.connected_items().is_empty()
    })
    .await;

    // The same while Plaid also refuses the removal at first: a job retries it.
    sandbox.inject(Some("/accounts/get"), Fault::ServerError, 20);
    sandbox.inject(Some("/item/remove"), Fault::ServerError, 3);
    let (status, _) = backend.link(&sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 502);
    eventually("the Item removed at Plaid by the retry", 20, async || {
        sandbox.connected_items().is_empty()
    })
    .await;
}

/// MED: with `DATABASE` unset the database was a fixed name in the shared temporary folder,
/// created world-readable, and a file already there was used as it was.
#[tokio::test]
async fn the_default_database_is_private_and_never_a_fixed_shared_path() {
    let tmp = temp_dir("default-db");
    let home = tmp.join("home");
    std::fs::create_dir_all(&home).unwrap();
    // What another user of the machine could have left at the old fixed path.
    let planted = tmp.join("backend.sqlite3");
    std::fs::write(&planted, b"").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();

    let start = Start::default().env("TMPDIR", &tmp).env("HOME", &home);
    let mut paths = Vec::new();
    for _ in 0..2 {
        let mut backend = start.spawn().unwrap();
        let (status, _) = backend.link_offline("user-1").await;
        assert_eq!(status, 201);
        backend.kill();
        let found = files_named(&tmp, "backend.sqlite3");
        for path in &found {
            if path == &planted {
                continue;
            }
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", path.display());
            let parent = std::fs::metadata(path.parent().unwrap()).unwrap();
            assert_eq!(
                parent.permissions().mode() & 0o077,
                0,
                "its folder is private too"
            );
            if !paths.contains(path) {
                paths.push(path.clone());
            }
        }
    }
    assert_eq!(
        std::fs::metadata(&planted).unwrap().len(),
        0,
        "the planted file was opened and written"
    );
    assert_eq!(
        paths.len(),
        2,
        "each offline run has its own database: {paths:?}"
    );
}

/// LOW (review round 6): every offline run left its database behind in the temporary folder,
/// tokens of a sandbox that ended with the process.
#[tokio::test]
async fn an_offline_run_told_to_stop_leaves_no_database_behind() {
    let tmp = temp_dir("offline-cleanup");
    let mut backend = Start::default().env("TMPDIR", &tmp).spawn().unwrap();
    let (status, _) = backend.link_offline("user-1").await;
    assert_eq!(status, 201);
    assert_eq!(files_named(&tmp, "backend.sqlite3").len(), 1);
    backend.terminate();
    assert!(backend.wait_exit(10).await.success());
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Nor one that fails to start after making its folder (a setting read later is wrong).
    let failed = Start::default()
        .env("TMPDIR", &tmp)
        .env("WORKERS", "many")
        .spawn();
    assert!(failed.is_err());
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind by a failed start: {left:?}");
}

/// LOW (review round 6): with `PLAID_CLIENT_ID` unset the backend played Plaid offline, a fake
/// bank, even with a secret and `PLAID_ENV=production` set (a misspelt variable) or a misspelt
/// `PLAID_ENV`; a bad `PORT` said "invalid port value" and a port in use named neither the
/// address nor the variable.
#[tokio::test]
async fn settings_mistakes_are_named_and_never_answered_by_a_fake_bank() {
    // (the settings, the words the refusal must contain)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 6] = [
        (
            &[("PLAID_SECRET", "s"), ("PLAID_ENV", "production")],
            &["PLAID_CLIENT_ID"],
        ),
        (&[("PLAID_ENV", "staging")], &["PLAID_ENV", "staging"]),
        (&[("PORT", "abc")], &["PORT", "abc"]),
        // Review round 15: a lease of 2^64 - 1 s started, then a worker panicked on it.
        (
            &[("JOB_LEASE_SECONDS", "18446744073709551615")],
            &["JOB_LEASE_SECONDS", "86400"],
        ),
        (&[("JOB_RETRY_SECONDS", "0")], &["JOB_RETRY_SECONDS"]),
        (
            &[("REQUEST_READ_SECONDS", "99999999999")],
            &["REQUEST_READ_SECONDS"],
        ),
    ];
    for (env, named) in cases {
        let start = env
            .iter()
            .fold(Start::default(), |start, (k, v)| start.env(k, v));
        match start.spawn() {
            Ok(_) => panic!("started with {env:?}"),
            Err(message) => {
                for word in named {
                    assert!(message.contains(word), "{env:?}: {message}");
                }
                assert!(!message.contains("offline sandbox"), "{message}");
            }
        }
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let message = Start::default()
        .env("PORT", &port)
        .spawn()
        .err()
        .expect("a port in use is refused");
    assert!(
        message.contains(&format!("127.0.0.1:{port}")) && message.contains("PORT"),
        "{message}"
    );
}

/// MED (review round 6): nothing bounded a connection. A half-sent request head, or a body
/// sent a byte every 5 s, stayed open (70 s and counting); 2 MB bodies held one byte short
/// took 2.2 MB each (880 MB for 400); 20,000 connections used every file the process could
/// open; a process told to stop waited for the attacker. Also: any `Host` was answered (a page
/// re-pointed at 127.0.0.1 by DNS rebinding is same-origin with it), and API answers carried
/// neither `no-store` nor `nosniff`.
#[tokio::test]
async fn a_stranger_cannot_hold_the_server_or_borrow_its_name() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sandbox = sandbox().await;
    let mut backend = on_sqlite(&sandbox, "guard")
        .env("REQUEST_READ_SECONDS", "1")
        .spawn()
        .unwrap();
    let address = backend.url.trim_start_matches("http://").to_owned();
    let open = |text: String| {
        let address = address.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            stream.write_all(text.as_bytes()).await.unwrap();
            stream
        }
    };
    let answer = |mut stream: tokio::net::TcpStream, what: &'static str| async move {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(6), stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{what}: still open after 6 s"))
            .unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let head = open("POST /webhooks/plaid HTTP/1.1\r\nHost: ".into()).await;
    let body = open(format!(
        "POST /webhooks/plaid HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{"
    ))
    .await;
    let big = open(format!(
        "POST /api/items HTTP/1.1\r\nHost: {address}\r\nx-user-id: user-1\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{}",
        "x".repeat(100_000)
    ))
    .await;
    let rebound = open(format!(
        "GET /api/items HTTP/1.1\r\nHost: attacker.example:{}\r\nx-user-id: user-1\r\n\r\n",
        address.rsplit(':').next().unwrap()
    ))
    .await;
    let closed = answer(head, "a request head that never ends").await;
    assert!(!closed.contains(" 200 "), "{closed}");
    let slow = answer(body, "a body that never ends").await;
    assert!(slow.starts_with("HTTP/1.1 408"), "{slow}");
    let large = answer(big, "a 100 kB body").await;
    assert!(large.starts_with("HTTP/1.1 413"), "{large}");
    let foreign = answer(rebound, "another host's name").await;
    assert!(foreign.starts_with("HTTP/1.1 421"), "{foreign}");

    let listed = backend
        .http
        .get(format!("{}/api/items", backend.url))
        .header("x-user-id", "user-1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 200);
    assert_eq!(listed.headers()["cache-control"], "no-store");
    assert_eq!(listed.headers()["x-content-type-options"], "nosniff");

    // A stalled request does not keep a process told to stop alive.
    let _stalled = open(format!(
        "POST /webhooks/plaid HTTP/1.1\r\nHost: {address}\r\nContent-Length: 10\r\n\r\n"
    ))
    .await;
    backend.terminate();
    assert!(backend.wait_exit(10).await.success());
}

/// A client that sends requests and never reads the answers is let go once the server's
/// writes have made no progress for `REQUEST_READ_SECONDS` (round 16: one connection with
/// 400 pipelined requests held its slot for 300 s, 1,024 of them took the server offline).
#[tokio::test]
async fn a_client_that_never_reads_its_answers_is_let_go() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sandbox = sandbox().await;
    let mut backend = on_sqlite(&sandbox, "slow-reader")
        .env("REQUEST_READ_SECONDS", "1")
        .spawn()
        .unwrap();
    let address: std::net::SocketAddr = backend.url.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    // About 13 MB of answers (app.js, 1,000 times): more than the kernel's buffers hold.
    let requests = format!("GET /app.js HTTP/1.1\r\nHost: {address}\r\n\r\n").repeat(1000);
    let (mut reader, mut writer) = stream.split();
    let write = async {
        let _ = writer.write_all(requests.as_bytes()).await;
    };
    let wait = tokio::time::sleep(Duration::from_secs(4));
    let (_, ()) = tokio::join!(tokio::time::timeout(Duration::from_secs(4), write), wait);
    // Now read: the connection must end (EOF or reset) before all 1,000 answers arrive.
    let mut buf = vec![0u8; 64 * 1024];
    let (mut received, mut ended) = (0usize, false);
    loop {
        match tokio::time::timeout(Duration::from_secs(3), reader.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                ended = true;
                break;
            }
            Ok(Ok(n)) => received += n,
            Err(_) => break,
        }
    }
    assert!(
        ended,
        "still open after reading {received} bytes: the stalled writes were waited on"
    );
    assert!(
        received < 1000 * 13_000,
        "{received} bytes: every answer was written"
    );

    // The server still answers others.
    let listed = backend
        .http
        .get(format!("{}/api/items", backend.url))
        .header("x-user-id", "user-1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 200);
    backend.terminate();
    assert!(backend.wait_exit(10).await.success());
}

/// LOW (review round 22): a default database folder that could not be made stopped the start
/// with `Permission denied (os error 13)` and no path; `WORKERS` had no bound (a typo's
/// thousands of pollers crowd requests out of the database's connections).
#[tokio::test]
async fn start_errors_name_the_folder_and_bound_the_workers() {
    let sandbox = sandbox().await;
    let refused = Start::default()
        .plaid(&sandbox)
        .env("XDG_DATA_HOME", "/proc/self/no-folders-here")
        .spawn()
        .err()
        .expect("started without a folder for its database");
    assert!(
        refused.contains("/proc/self/no-folders-here/plaid-sdk-backend"),
        "{refused}"
    );
    let refused = on_sqlite(&sandbox, "many-workers")
        .env("WORKERS", "100000")
        .spawn()
        .err()
        .expect("started 100,000 workers");
    assert!(refused.contains("WORKERS must be 0 to 64"), "{refused}");
}

/// LOW (review round 22): `RUST_LOG` was ignored, so the lines the backend logs at `debug`
/// (each refused webhook past the first of the minute) could never be seen, and a mistyped
/// one went unnoticed. Now it sets what the log shows, and one it cannot read stops the start.
#[tokio::test]
async fn rust_log_sets_what_the_log_shows() {
    let sandbox = sandbox().await;
    let refused = on_sqlite(&sandbox, "log-unreadable")
        .env("RUST_LOG", "backend=loudest")
        .spawn()
        .err()
        .expect("started with a RUST_LOG it cannot read");
    assert!(refused.contains("RUST_LOG"), "{refused}");
    // A bare word is a target to EnvFilter: `warning` (a typo of `warn`) silenced every line.
    let refused = on_sqlite(&sandbox, "log-typo")
        .env("RUST_LOG", "warning")
        .spawn()
        .err()
        .expect("started with RUST_LOG=warning");
    assert!(refused.contains("not a level"), "{refused}");

    let backend = on_sqlite(&sandbox, "log-debug")
        .env("RUST_LOG", "debug")
        .spawn()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(backend.post_webhook(b"{}", "a.b.c").await, 401);
    }
    eventually("each refusal logged at debug", 5, async || {
        backend.log_lines("webhook refused") >= 3
    })
    .await;
}

/// Anyone can post to the webhook route: what it refuses costs at most a log line a minute,
/// with a count of the others (round 16: 5,000 forged posts wrote 5,000 lines, 675 kB, in
/// 1.4 s). A body that is not the JSON a route takes gets the app's own JSON error, never
/// the framework's text naming its types (round 16: `expected struct ExchangeBody`).
#[tokio::test]
async fn garbage_costs_a_log_line_a_minute_and_gets_the_apps_own_error() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "garbage").spawn().unwrap();
    for _ in 0..300 {
        assert_eq!(backend.post_webhook(b"{}", "a.b.c").await, 401);
    }
    eventually("the refusal logged", 5, async || {
        backend.log_lines("webhook refused") > 0
    })
    .await;
    let lines = backend.log_lines("webhook refused");
    assert!(lines <= 2, "{lines} lines for 300 refusals");

    // Public tokens Plaid refuses, which anyone signed in can send (review round 17: a
    // warning each).
    for n in 0..100 {
        let (status, _) = backend
            .call(
                "POST",
                "/api/items",
                "user-1",
                Some(json!({ "public_token": format!("public-sandbox-{n}") })),
            )
            .await;
        assert_eq!(status, 400);
    }
    eventually("the refused public token logged", 5, async || {
        backend.log_lines("INVALID_PUBLIC_TOKEN") > 0
    })
    .await;
    let lines = backend.log_lines("INVALID_PUBLIC_TOKEN");
    assert!(lines <= 2, "{lines} lines for 100 refused public tokens");

    for (content_type, body) in [
        ("application/json", "[]"),
        ("application/json", "{"),
        ("application/json", r#"{"public_token": 7}"#),
        ("text/plain", r#"{"public_token": "public-sandbox-x"}"#),
    ] {
        let response = backend
            .http
            .post(format!("{}/api/items", backend.url))
            .header("x-user-id", "user-1")
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!((400..500).contains(&status), "{body}: {status} {text}");
        let answer: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{content_type} {body}: not JSON: {text}"));
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains("public_token"), "{body}: {answer}");
        assert!(!text.contains("ExchangeBody"), "{body}: {text}");
    }
}

/// Plaid's `429` reaches the app's client as a `429` with Plaid's code, so a page or a client
/// backs off, rather than a `502` that reads as an outage (round 16).
#[tokio::test]
async fn plaids_rate_limit_is_passed_on_as_429() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "rate-limit").spawn().unwrap();
    sandbox.inject(Some("/link/token/create"), Fault::RateLimit, 10);
    let (status, body) = backend
        .call("POST", "/api/link-token", "user-1", None)
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "RATE_LIMIT", "Plaid's code: {body}");
}

fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if entry.file_name() == name {
                out.push(path);
            }
        }
    }
    out
}

/// The one number `sql` selects from the backend's SQLite database.
fn count(db: &Path, sql: &str, params: impl rusqlite::Params) -> i64 {
    let db = rusqlite::Connection::open(db).unwrap();
    db.query_row(sql, params, |r| r.get(0)).unwrap()
}

/// Waits for the Item's first sync and returns the number of its sync jobs in the database.
async fn sync_jobs(db: &Path, item_id: &str) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM jobs WHERE item_id = ?1 AND kind = 'sync'",
        [item_id],
    )
}

/// Whether at least `received` webhooks (duplicates counted) reached the inbox, all handled, and no job is
/// queued or running: what a test waits for before it looks at what they did.
fn worked_off(db: &Path, received: i64) -> bool {
    let count = |sql: &str| count(db, sql, []);
    count("SELECT COALESCE(SUM(deliveries), 0) FROM webhook_inbox") >= received
        && count("SELECT COUNT(*) FROM webhook_inbox WHERE state <> 'done'") == 0
        && count("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')") == 0
}

/// The sync jobs copies of an applied sync webhook queued (reason `webhook again`).
fn again_jobs(db: &Path) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM jobs WHERE reason = 'webhook again'",
        [],
    )
}

/// Whether a check (`/item/get`, queued by an `ITEM` webhook) has run to the end.
fn a_check_done(db: &Path) -> bool {
    count(
        db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'check' AND state = 'done'",
        [],
    ) > 0
}

/// LOW: a replayed or late `ERROR` webhook undid a `LOGIN_REPAIRED`; one
/// `SYNC_UPDATES_AVAILABLE` delivered 10 times made 10 sync jobs.
#[tokio::test]
async fn replays_and_duplicates_have_one_effect_and_never_undo_a_newer_state() {
    let sandbox = sandbox().await;
    let dir = temp_dir("replays");
    let db = dir.join("db.sqlite3");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", &db)
        .spawn()
        .unwrap();
    let item_id = linked_and_synced(&backend, &sandbox).await;
    let jobs_before = sync_jobs(&db, &item_id).await;

    let signer = sandbox.signer();
    let now = SystemTime::now();
    let error = item_error_webhook(&item_id);
    let repaired = login_repaired_webhook(&item_id);
    let error_jwt = signer.sign_at(error.as_bytes(), now - Duration::from_secs(20));
    let repaired_jwt = signer.sign_at(repaired.as_bytes(), now - Duration::from_secs(10));
    assert_eq!(
        backend.post_webhook(error.as_bytes(), &error_jwt).await,
        200
    );
    assert_eq!(
        backend
            .post_webhook(repaired.as_bytes(), &repaired_jwt)
            .await,
        200
    );
    // The ERROR again: replayed as it was, and re-sent late (signed again, older than the repair
    // it would undo: Plaid signs each retry).
    assert_eq!(
        backend.post_webhook(error.as_bytes(), &error_jwt).await,
        200
    );
    let late = signer.sign_at(error.as_bytes(), now - Duration::from_secs(15));
    assert_eq!(backend.post_webhook(error.as_bytes(), &late).await, 200);

    // The sync webhook, delivered 10 times: once, then 9 copies after the second it was
    // signed in has passed. A copy that comes once the first is applied may announce another
    // change of that second (review round 21), but the first's sync starts after that second
    // (it waits for its end), so it covers them: the copies queue nothing.
    let sync = sync_updates_webhook(&item_id);
    let signed_at = SystemTime::now();
    let sync_jwt = signer.sign_at(sync.as_bytes(), signed_at);
    assert_eq!(backend.post_webhook(sync.as_bytes(), &sync_jwt).await, 200);
    eventually("the first delivery worked off", 20, async || {
        worked_off(&db, 5)
    })
    .await;
    let second_over = signed_at + Duration::from_millis(1100);
    tokio::time::sleep(
        second_over
            .duration_since(SystemTime::now())
            .unwrap_or_default(),
    )
    .await;
    for _ in 0..9 {
        assert_eq!(backend.post_webhook(sync.as_bytes(), &sync_jwt).await, 200);
    }
    // Every webhook worked off, and every job it queued (a sleep here once let the test pass
    // before any of them ran).
    eventually("the webhooks and their jobs worked off", 20, async || {
        worked_off(&db, 14)
    })
    .await;
    let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
    assert_eq!(items["items"][0]["error"], Value::Null, "{items}");
    let made = sync_jobs(&db, &item_id).await - jobs_before;
    let again = again_jobs(&db);
    // LOGIN_REPAIRED queues a sync too, which the first delivery may coalesce with.
    assert!(
        (1..=2).contains(&made) && again == 0,
        "{made} sync jobs ({again} for copies) for one repair and one sync webhook delivered \
         10 times"
    );
}

/// MED (review round 21): two `SYNC_UPDATES_AVAILABLE` for one Item signed in one second have
/// one body and one `iat`, so one inbox key. The second, arriving after the first's sync had
/// run, was counted as a copy and queued nothing: its transactions waited for the next
/// webhook. Both are signed 30 s ahead (within the verifier's allowance for clock skew), so
/// no sync can have started after their second and each must be acted on.
#[tokio::test]
async fn a_second_sync_webhook_signed_in_the_same_second_is_not_taken_for_a_copy() {
    let sandbox = sandbox().await;
    let dir = temp_dir("same-second");
    let db = dir.join("db.sqlite3");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", &db)
        .spawn()
        .unwrap();
    let item_id = linked_and_synced(&backend, &sandbox).await;
    // The sandbox's own webhooks wait an hour: this test delivers the two it means.
    let hour = Duration::from_secs(3600);
    sandbox.webhook_chaos(plaid_sandbox::WebhookChaos::none().delay(hour, hour));

    let hook = sync_updates_webhook(&item_id);
    let signed_at = SystemTime::now() + Duration::from_secs(30);
    let first = sandbox.signer().sign_at(hook.as_bytes(), signed_at);
    assert_eq!(backend.post_webhook(hook.as_bytes(), &first).await, 200);
    eventually(
        "the first webhook and its sync worked off",
        20,
        async || worked_off(&db, 1),
    )
    .await;
    assert_stored_equals_ledger(&backend, &sandbox, &item_id).await;

    // New transactions at the bank, announced in the same second.
    assert!(sandbox.advance_days(&item_id, 2).unwrap() > 0);
    let second = sandbox.signer().sign_at(hook.as_bytes(), signed_at);
    assert_eq!(backend.post_webhook(hook.as_bytes(), &second).await, 200);
    eventually("the second change synced", 20, async || {
        let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
        let stored = items["items"][0]["transactions"].as_u64();
        stored == Some(sandbox.transactions(&item_id).unwrap().len() as u64)
    })
    .await;
    // The second delivery's sync is told apart from the webhooks' own ones.
    assert_eq!(again_jobs(&db), 1);
}

/// Links user-1's Item with the first `/transactions/sync` answer slowed by `slow`, and waits
/// until its first sync job runs: the job's path.
async fn first_sync_running(backend: &Backend, sandbox: &Sandbox, slow: Duration) -> String {
    sandbox.inject(Some("/transactions/sync"), Fault::Slow(slow), 1);
    let (status, body) = backend.link(sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 201, "{body}");
    let job_path = format!("/api/jobs/{}", body["sync_job"].as_str().unwrap());
    eventually("the first sync running", 10, async || {
        let (_, j) = backend.call("GET", &job_path, "user-1", None).await;
        j["state"] == "running"
    })
    .await;
    job_path
}

/// LOW: a job running when the process died stayed `running` forever.
#[tokio::test]
async fn a_job_of_a_killed_process_is_finished_by_the_next() {
    let sandbox = sandbox().await;
    let dir = temp_dir("stuck");
    let start = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", dir.join("db.sqlite3"))
        .env("JOB_LEASE_SECONDS", "2");
    let mut backend = start.spawn().unwrap();
    let job_path = first_sync_running(&backend, &sandbox, Duration::from_secs(4)).await;
    backend.kill();

    let backend = start.spawn().unwrap();
    job_done(&backend, &job_path, "the killed process's job finished", 20).await;
    let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
    assert!(
        items["items"][0]["transactions"].as_i64().unwrap() > 0,
        "{items}"
    );
}

/// MED (review round 9): a replica told to stop (SIGTERM: a rolling deploy) kept its running
/// jobs until their leases ran out (30 s by default), and each stop counted as one of the five
/// tries a job gets: five deploys during one long sync failed it for good.
#[tokio::test]
async fn a_job_of_a_process_told_to_stop_is_handed_back_at_once() {
    let sandbox = sandbox().await;
    let dir = temp_dir("handback");
    let db = dir.join("db.sqlite3");
    let start = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", &db)
        .env("JOB_LEASE_SECONDS", "600");
    let mut backend = start.spawn().unwrap();
    // Slow enough to be stopped mid-sync; if the stop comes before the call reaches Plaid,
    // the restarted process's sync meets it instead, and still ends in time.
    let job_path = first_sync_running(&backend, &sandbox, Duration::from_secs(8)).await;
    backend.terminate();
    assert!(backend.wait_exit(20).await.success());
    let (state, attempts, owner): (String, i64, Option<String>) = {
        let db = rusqlite::Connection::open(&db).unwrap();
        db.query_row("SELECT state, attempts, owner FROM jobs", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
    };
    assert_eq!(
        (state.as_str(), attempts, owner),
        ("queued", 0, None),
        "a stopped replica hands its job back, the stop not counted"
    );

    let backend = start.spawn().unwrap();
    job_done(&backend, &job_path, "the handed-back job finished", 30).await;
    let (_, job) = backend.call("GET", &job_path, "user-1", None).await;
    assert!(job["added"].as_i64().unwrap() > 0, "{job}");
}

/// LOW (review round 9): the SQLite file removed while the backend ran went unnoticed: a link
/// answered 201 into a file that was gone at the next start, the bank still connected at
/// Plaid with no record to remove it by.
#[tokio::test]
async fn a_database_file_removed_under_the_backend_fails_links_and_leaves_no_bank_connected() {
    let sandbox = sandbox().await;
    let dir = temp_dir("removed");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", dir.join("db.sqlite3"))
        .spawn()
        .unwrap();
    linked(&backend, &sandbox).await;
    for file in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }
    let (status, body) = backend.link(&sandbox, "user-1", "ins_109511").await;
    assert_eq!(status, 500, "{body}");
    eventually("the new Item removed at Plaid", 10, async || {
        sandbox.connected_items().len() == 1
    })
    .await;
}

/// LOW: the offline mode reused sandbox seed 0 on a persistent database, so after a restart a
/// new user got an Item id an old user's stored token opened.
#[tokio::test]
async fn an_offline_restart_never_hands_a_new_user_an_old_users_item() {
    let dir = temp_dir("restart");
    let start = Start::default().env("DATABASE", dir.join("db.sqlite3"));
    let mut first = start.spawn().unwrap();
    let (status, a) = first.link_offline("alice").await;
    assert_eq!(status, 201, "{a}");
    first.kill();
    match start.spawn() {
        // Refusing the database of a sandbox that is gone is one right answer.
        Err(message) => assert!(message.contains("database"), "{message}"),
        Ok(second) => {
            let (status, b) = second.link_offline("bob").await;
            assert_eq!(status, 201, "{b}");
            assert_ne!(a["item_id"], b["item_id"], "bob got alice's Item id");
        }
    }
}

/// Info: 403 against 404 told a stranger which Item and job ids exist; job ids were
/// sequential.
#[tokio::test]
async fn strangers_learn_nothing_from_ids() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "ids").spawn().unwrap();
    let (_, a) = backend.link(&sandbox, "alice", "ins_109508").await;
    let (_, b) = backend.link(&sandbox, "alice", "ins_109511").await;
    let item = a["item_id"].as_str().unwrap();
    let id = |v: &Value| v.as_str().map_or(v.to_string(), str::to_owned);
    let (job_a, job_b) = (id(&a["sync_job"]), id(&b["sync_job"]));
    for (mine, nobody) in [
        (
            format!("/api/items/{item}/transactions"),
            "/api/items/nope/transactions".to_owned(),
        ),
        (format!("/api/jobs/{job_a}"), "/api/jobs/12345".to_owned()),
    ] {
        let theirs = backend.call("GET", &mine, "mallory", None).await;
        let none = backend.call("GET", &nobody, "mallory", None).await;
        assert_eq!(
            theirs, none,
            "{mine} answers a stranger unlike an id that does not exist"
        );
    }
    for job in [&job_a, &job_b] {
        assert!(
            job.len() >= 32 && job.chars().all(|c| c.is_ascii_hexdigit()),
            "job id {job} is guessable"
        );
    }
}

// --- Review, round 4 ---------------------------------------------------------------------------

/// MED: a public token for an Item the app has (update mode's: Plaid's exchange gives the same
/// Item back) was answered 409 after `/item/remove` with the token it got, which is the stored
/// Item's: the Item the user kept was removed at Plaid and every later sync failed.
#[tokio::test]
async fn exchanging_an_items_public_token_again_never_removes_the_kept_item() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "update-exchange").spawn().unwrap();
    let body = linked(&backend, &sandbox).await;
    let item_id = body["item_id"].as_str().unwrap().to_owned();
    let (status, body) = backend
        .call(
            "POST",
            &format!("/api/items/{item_id}/link-token"),
            "user-1",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let link_token = body["link_token"].as_str().unwrap().to_owned();
    sandbox.complete_update(&link_token).unwrap();
    // The update-mode session's public token, as Link's onSuccess hands it over.
    let got = sandbox
        .client()
        .link_token_get(&plaid_sdk::types::LinkTokenGetRequest::new(link_token))
        .await
        .unwrap();
    let public = got.link_sessions[0]
        .on_success
        .as_ref()
        .expect("update mode finished")
        .public_token
        .expose_secret();

    let (status, body) = backend
        .call(
            "POST",
            "/api/items",
            "user-1",
            Some(json!({ "public_token": public })),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        sandbox.connected_items().len(),
        1,
        "the kept Item is still connected at Plaid"
    );
    // A sync on request (409 while the link's own still runs).
    let mut job = String::new();
    eventually("a sync accepted", 10, async || {
        let path = format!("/api/items/{item_id}/sync");
        let (status, body) = backend.call("POST", &path, "user-1", None).await;
        assert!(status == 202 || status == 409, "{status} {body}");
        job = format!("/api/jobs/{}", body["job_id"].as_str().unwrap_or_default());
        status == 202
    })
    .await;
    job_done(&backend, &job, "the kept Item syncs", 10).await;
}

/// MED: a sync that met a passing failure (Plaid answering 500 through the client's retries)
/// ended `failed` for good, and swallowed the sync webhooks it was started after; it is tried
/// again later, up to the attempts a claim allows.
#[tokio::test]
async fn a_sync_that_meets_a_passing_failure_is_tried_again() {
    let items = sync_tried_again_after("sync-retry", Fault::ServerError, 5).await;
    assert!(
        items["items"][0]["transactions"].as_i64().unwrap() > 0,
        "{items}"
    );
}

/// The Items of user-1 after its first sync met `fault` `times` and was tried again until
/// done (never `failed`). One sync gives up after its client's 3 attempts (no restarts), as it
/// would after the default 8 tries again of a page over about two minutes of Plaid failing.
async fn sync_tried_again_after(name: &str, fault: Fault, times: u32) -> Value {
    let sandbox = sandbox().await;
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", temp_dir(name).join("db.sqlite3"))
        .env("SYNC_RESTARTS", "0")
        .spawn()
        .unwrap();
    sandbox.inject(Some("/transactions/sync"), fault, times);
    let body = linked(&backend, &sandbox).await;
    let job = format!("/api/jobs/{}", body["sync_job"].as_str().unwrap());
    eventually("the sync done on a later try", 30, async || {
        let (_, j) = backend.call("GET", &job, "user-1", None).await;
        assert_ne!(j["state"], "failed", "{j}");
        j["state"] == "done"
    })
    .await;
    backend.call("GET", "/api/items", "user-1", None).await.1
}

/// LOW (review round 6, of its own fix): a sync whose data kept changing under it through
/// every restart (`SyncRestarts` after `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`) ended
/// its job `failed`, though a later loop passes; with the Item error for failures trying again
/// cannot fix, it also showed `SYNC_FAILED`. It is tried again, and the Item shows nothing.
#[tokio::test]
async fn a_sync_whose_data_kept_changing_is_tried_again() {
    let items = sync_tried_again_after("sync-mutation", Fault::MutationDuringPagination, 1).await;
    assert_eq!(items["items"][0]["error"], Value::Null, "{items}");
}

/// MED (PostgreSQL): a NUL in Plaid's data (a transaction's name) failed the whole sync on
/// PostgreSQL, whose `TEXT` refuses it, on every retry; SQLite stored it. Both store U+FFFD.
#[tokio::test]
async fn a_nul_in_plaids_data_is_stored_alike_and_never_blocks_a_sync() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "nul").spawn().unwrap();
    let config = json!({ "override_accounts": [{ "type": "depository", "subtype": "checking",
        "transactions": [{ "date_transacted": "2026-11-01", "date_posted": "2026-11-02",
            "amount": 12.5, "description": "NUL\u{0}BYTE", "currency": "USD" }] }] });
    let token = backend.link_token("user-1").await;
    let public = sandbox
        .complete_link_as(&token, "ins_109508", "user_custom", &config.to_string())
        .unwrap();
    let (status, body) = backend
        .call(
            "POST",
            "/api/items",
            "user-1",
            Some(json!({ "public_token": public.expose_secret() })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let item_id = body["item_id"].as_str().unwrap().to_owned();
    let job = format!("/api/jobs/{}", body["sync_job"].as_str().unwrap());
    job_done(&backend, &job, "the sync done", 10).await;
    let (_, got) = backend
        .call(
            "GET",
            &format!("/api/items/{item_id}/transactions"),
            "user-1",
            None,
        )
        .await;
    let names: Vec<&str> = got["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["NUL\u{FFFD}BYTE"], "{got}");
}

/// MED: a request stopped half-way (its client gone, or the process told to stop) lost an
/// exchanged Item: connected at Plaid, billed, with no record. The exchange now runs to the
/// end, and SIGTERM lets requests in flight finish.
#[tokio::test]
async fn an_exchange_finishes_when_its_client_leaves_or_the_process_is_told_to_stop() {
    let sandbox = sandbox().await;
    let mut backend = on_sqlite(&sandbox, "cancelled").spawn().unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let exchange = |user: &'static str, client: reqwest::Client, public: String| {
        let url = format!("{}/api/items", backend.url);
        async move {
            client
                .post(url)
                .header("x-user-id", user)
                .json(&json!({ "public_token": public }))
                .send()
                .await
        }
    };

    // The client gives up while Plaid is slow to answer the exchange.
    sandbox.inject(
        Some("/item/public_token/exchange"),
        Fault::Slow(Duration::from_secs(2)),
        1,
    );
    let token = backend.link_token("user-1").await;
    let public = sandbox.complete_link(&token, "ins_109508").unwrap();
    let gone = exchange("user-1", impatient, public.expose_secret().to_owned()).await;
    assert!(gone.is_err(), "the client timed out");
    eventually("the Item recorded all the same", 10, async || {
        let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
        items["items"].as_array().is_some_and(|i| i.len() == 1)
    })
    .await;

    // SIGTERM while an exchange waits on Plaid: it is answered, then the process exits.
    sandbox.inject(
        Some("/item/public_token/exchange"),
        Fault::Slow(Duration::from_secs(2)),
        1,
    );
    let token = backend.link_token("user-2").await;
    let public = sandbox.complete_link(&token, "ins_109509").unwrap();
    let pending = tokio::spawn(exchange(
        "user-2",
        reqwest::Client::new(),
        public.expose_secret().to_owned(),
    ));
    tokio::time::sleep(Duration::from_millis(700)).await;
    backend.terminate();
    let answer = pending
        .await
        .unwrap()
        .expect("answered before the process stopped");
    assert_eq!(answer.status().as_u16(), 201);
    backend.wait_exit(10).await;
    assert_eq!(sandbox.connected_items().len(), 2);
}

/// MED (review round 17): an exchange whose client had left ran in a task nothing waited
/// for, so SIGTERM then ended the process under it: Plaid's Item connected and billed, the
/// public token spent, no row at all. Shutdown now waits for such work too.
/// MED (review round 20): it waited 10 s only, while the exchange could take 60 s: an
/// exchange Plaid answered after 11 s was cut off the same way. The stop now waits its whole
/// grace (30 s from the signal) and the exchange is bounded to fit in it.
#[tokio::test]
async fn an_exchange_whose_client_left_finishes_before_the_process_stops() {
    let sandbox = sandbox().await;
    let dir = temp_dir("left-then-stopped");
    let start = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", dir.join("db.sqlite3"));
    let mut backend = start.spawn().unwrap();
    sandbox.inject(
        Some("/item/public_token/exchange"),
        Fault::Slow(Duration::from_secs(11)),
        1,
    );
    let token = backend.link_token("user-1").await;
    let public = sandbox.complete_link(&token, "ins_109508").unwrap();
    let gone = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
        .post(format!("{}/api/items", backend.url))
        .header("x-user-id", "user-1")
        .json(&json!({ "public_token": public.expose_secret() }))
        .send()
        .await;
    assert!(gone.is_err(), "the client timed out");
    backend.terminate();
    backend.wait_exit(40).await;

    let backend = start.spawn().unwrap();
    let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
    let stored = items["items"].as_array().map_or(0, Vec::len);
    assert_eq!(
        (stored, sandbox.connected_items().len()),
        (1, 1),
        "every Item connected at Plaid is stored: {items}"
    );
}

/// LOW (review round 20): an exchange Plaid applied but answered too late for the client (its
/// timeout) leaves an Item connected at Plaid that the app cannot remove: the access token
/// never arrived. The log said only that the call timed out, and the Item's webhooks were
/// marked "not needed" as if nothing were wrong. Now the lost answer is logged as an error,
/// and a webhook naming an Item the app has no record of is logged with the Item's id, so
/// that whoever runs the app can find it and have it removed.
#[tokio::test]
async fn an_item_whose_exchange_answer_was_lost_is_named_in_the_log() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "lost-answer").spawn().unwrap();
    sandbox.inject(
        Some("/item/public_token/exchange"),
        Fault::Slow(Duration::from_secs(14)),
        1,
    );
    let (status, body) = backend.link(&sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 502, "{body}");
    eventually("the lost answer logged", 5, async || {
        backend.log_lines("may have connected an Item") == 1
    })
    .await;
    let items = sandbox.connected_items();
    assert_eq!(items.len(), 1, "connected at Plaid");
    let item_id = items[0].to_string();
    let hook = sync_updates_webhook(&item_id);
    let jwt = sandbox.signer().sign(hook.as_bytes());
    assert_eq!(backend.post_webhook(hook.as_bytes(), &jwt).await, 200);
    eventually("the unknown Item named in the log", 10, async || {
        backend.log_lines(&format!("no record of Item {item_id}")) > 0
    })
    .await;
}

/// MED (review round 5): a removal Plaid refused for about a minute was given up (the claim
/// limit counted each retry as a crash) and nothing tried it again: the Item stayed connected,
/// and billed, at Plaid. Now a passing failure is retried for as long as it lasts.
#[tokio::test]
async fn a_removal_plaid_refuses_for_long_is_retried_until_plaid_confirms() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "remove-retry")
        .env("JOB_RETRY_SECONDS", "1")
        .spawn()
        .unwrap();
    sandbox.inject(Some("/accounts/get"), Fault::ServerError, 3);
    // More failures than five tries of the client's three attempts each.
    sandbox.inject(Some("/item/remove"), Fault::ServerError, 20);
    let (status, _) = backend.link(&sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 502);
    eventually(
        "the Item removed at Plaid once it answers",
        90,
        async || sandbox.connected_items().is_empty(),
    )
    .await;
    // Round 22: while Plaid refused, an Item connected (and billed) with no record here left
    // no line in the log.
    assert!(
        backend.log_lines("removing an Item the app does not keep failed; again later") > 0,
        "the refused removals were not logged"
    );
}

/// MED (review round 5): a sync that kept meeting a passing failure was given up after five
/// tries, with the webhooks it covered: the Item's transactions stayed stale with nothing to
/// show it. Now it is tried until Plaid answers, and the stored ledger is Plaid's.
#[tokio::test]
async fn a_sync_is_tried_until_plaid_answers_however_long_it_fails() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "sync-outage")
        .env("SYNC_RESTARTS", "0")
        .env("JOB_RETRY_SECONDS", "1")
        .spawn()
        .unwrap();
    sandbox.inject(Some("/transactions/sync"), Fault::ServerError, 20);
    let body = linked(&backend, &sandbox).await;
    let item_id = body["item_id"].as_str().unwrap().to_owned();
    let job = format!("/api/jobs/{}", body["sync_job"].as_str().unwrap());
    eventually("the sync done once Plaid answers", 90, async || {
        let (_, j) = backend.call("GET", &job, "user-1", None).await;
        assert_ne!(j["state"], "failed", "{j}");
        j["state"] == "done"
    })
    .await;
    assert_stored_equals_ledger(&backend, &sandbox, &item_id).await;
}

/// LOW (review round 22): a sync that kept meeting a passing failure was invisible: the Item
/// showed no error, and "Sync now" answered 409 "running" with nothing to follow while the job
/// waited to be tried again. The Item now shows why its sync is waiting, and the 409 names
/// the job.
#[tokio::test]
async fn a_sync_waiting_to_be_tried_again_shows_why() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "sync-waits")
        .env("SYNC_RESTARTS", "0")
        .env("JOB_RETRY_SECONDS", "60")
        .spawn()
        .unwrap();
    sandbox.inject(Some("/transactions/sync"), Fault::ServerError, 1_000);
    let body = linked(&backend, &sandbox).await;
    let item_id = body["item_id"].as_str().unwrap().to_owned();
    eventually("the sync's failure shown on the Item", 30, async || {
        let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
        items["items"][0]["sync_error"] == "INTERNAL_SERVER_ERROR"
    })
    .await;
    let (status, busy) = backend
        .call(
            "POST",
            &format!("/api/items/{item_id}/sync"),
            "user-1",
            None,
        )
        .await;
    assert_eq!(status, 409, "{busy}");
    assert_eq!(busy["job_id"], body["sync_job"], "{busy}");
}

/// Review of round 22: the sync error stayed on the Item while the sync it came from ran again
/// ("Updating this bank failed" during the try that may succeed). It is shown only while the
/// sync waits.
#[tokio::test]
async fn a_sync_error_is_not_shown_while_the_sync_runs_again() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "sync-error-running")
        .env("SYNC_RESTARTS", "0")
        .env("JOB_RETRY_SECONDS", "1")
        .spawn()
        .unwrap();
    // One try's three attempts fail; the next try's call is slow, so it is seen running.
    sandbox.inject(Some("/transactions/sync"), Fault::ServerError, 3);
    sandbox.inject(
        Some("/transactions/sync"),
        Fault::Slow(Duration::from_secs(4)),
        1,
    );
    let body = linked(&backend, &sandbox).await;
    let job = format!("/api/jobs/{}", body["sync_job"].as_str().unwrap());
    eventually("the second try running", 20, async || {
        let (_, j) = backend.call("GET", &job, "user-1", None).await;
        // Its first try's error still on the job: the second try.
        j["state"] == "running" && j["error"] == "INTERNAL_SERVER_ERROR"
    })
    .await;
    let item = first_item(&backend).await;
    assert_eq!(item["sync_error"], Value::Null, "{item}");
    assert_eq!(item["syncing"], true, "{item}");
}

/// LOW (review round 6): a sync that failed for good on an answer the backend cannot read
/// (here `/transactions/sync` with a string where Plaid's spec has a list) ended its job
/// `failed` while the Item showed no error, and every later sync failed the same way unseen.
#[tokio::test]
async fn a_sync_that_cannot_read_plaids_answer_shows_on_the_item() {
    let sandbox = sandbox().await;
    let proxy = proxy(
        sandbox.uri(),
        "/transactions/sync",
        Tap::Answer(r#"{"added": "not a list", "request_id": "r"}"#),
    )
    .await;
    let backend = on_sqlite(&sandbox, "undecodable")
        .env("PLAID_ENV", &proxy)
        .spawn()
        .unwrap();
    let (status, item) = backend.link(&sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 201, "{item}");
    eventually("the Item shows the failure", 20, async || {
        let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
        items["items"][0]["error"] == "SYNC_FAILED"
    })
    .await;
}

/// MED (review round 6): right after a start the verifier knew no key, so a stranger who kept
/// its queue for new key ids full of forged ids presented twice each (about 20 requests a
/// minute) had Plaid's webhooks refused with 503 for minutes, after every restart. The backend
/// now keeps the key ids of the webhooks it verified and gives them to its verifier at start.
#[tokio::test]
async fn a_restarted_backend_still_verifies_plaids_webhooks_during_a_forged_key_flood() {
    let sandbox = sandbox().await;
    let start = on_sqlite(&sandbox, "key-flood");
    let mut first = start.spawn().unwrap();
    let (status, item) = first.link(&sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 201, "{item}");
    eventually("the first webhooks verified", 20, async || {
        let sent = sandbox.webhooks();
        !sent.is_empty() && sent.iter().all(|w| w.status == Some(200))
    })
    .await;
    first.kill();

    let second = start.spawn().unwrap();
    let hooks = format!("{}/webhooks/plaid", second.url);
    sandbox.webhook_chaos(plaid_sandbox::WebhookChaos::none().targets([hooks.clone()]));
    // The flood: the fetch budget's burst spent on forged ids, then every place of the queue
    // taken by a forged id presented twice.
    let forger = plaid_sandbox::WebhookSigner::new();
    let body = sync_updates_webhook(item["item_id"].as_str().unwrap());
    let forged = |i: usize| {
        forger.sign_with_header(
            &json!({ "alg": "ES256", "kid": format!("forged-{i}"), "typ": "JWT" }),
            &json!({ "iat": 0, "request_body_sha256": "00" }),
        )
    };
    let post = |token: String| {
        second
            .http
            .post(&hooks)
            .header("Plaid-Verification", token)
            .body(body.clone())
            .send()
    };
    futures_util::future::join_all((0..10).map(|i| post(forged(i)))).await;
    let flood =
        futures_util::future::join_all((10..80).flat_map(|i| [post(forged(i)), post(forged(i))]));
    let genuine = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = sandbox.webhooks().len();
        sandbox
            .fire_webhook(item["item_id"].as_str().unwrap(), "NEW_ACCOUNTS_AVAILABLE")
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let sent = sandbox.webhooks();
            // After its first post: its status, or None when it failed and waits for a retry.
            if let Some(w) = sent.get(before).filter(|w| w.attempts > 0) {
                return w.status;
            }
            assert!(Instant::now() < deadline, "no answer to Plaid's webhook");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (answers, status) = tokio::join!(flood, genuine);
    assert_eq!(status, Some(200), "Plaid's webhook during the flood");
    // The forged ids turned away for want of a key (503: Plaid would retry a genuine one)
    // cost a log line a minute, not one each (round 16: one each).
    let unfetched = answers
        .iter()
        .filter(|a| a.as_ref().is_ok_and(|a| a.status() == 503))
        .count();
    assert!(unfetched > 10, "{unfetched} answered 503");
    let lines = second.log_lines("could not fetch Plaid's webhook key");
    assert!(
        lines <= 2,
        "{lines} lines for {unfetched} webhooks without a key"
    );
}

/// What a [`proxy`] does to the answers of its path.
#[derive(Clone, Copy)]
enum Tap {
    /// Holds them until this many arrived, then lets them all go at once.
    Barrier(usize),
    /// Replaces their bodies with this text.
    Answer(&'static str),
}

/// A proxy to `target` that does `tap` to each answer to `path`: holds them until enough are
/// ready, then lets them go together (two requests that reach that point at once, every
/// time), or replaces them.
async fn proxy(target: String, path: &'static str, tap: Tap) -> String {
    let parties = match tap {
        Tap::Barrier(parties) => parties,
        Tap::Answer(_) => 1,
    };
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(parties));
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (barrier, http, target) = (barrier.clone(), http.clone(), target.clone());
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let mut out = http.request(
                parts.method.clone(),
                format!("{target}{}", parts.uri.path()),
            );
            for (name, value) in &parts.headers {
                if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
                    out = out.header(name, value);
                }
            }
            let answer = out.body(body).send().await.unwrap();
            let (status, headers) = (answer.status(), answer.headers().clone());
            let mut body = answer.bytes().await.unwrap();
            if parts.uri.path() == path {
                match tap {
                    Tap::Barrier(_) => {
                        barrier.wait().await;
                    }
                    Tap::Answer(text) => body = bytes::Bytes::from_static(text.as_bytes()),
                }
            }
            let mut response = axum::response::Response::new(axum::body::Body::from(body));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// LOW–MED (review round 5): two links of the same accounts exchanged at once both passed the
/// duplicate check (each read before the other wrote) and both stayed active. Five rounds of
/// two concurrent exchanges whose last Plaid answer before the check arrives at the same
/// moment (a proxy holds them): one Item each.
#[tokio::test]
async fn two_links_of_the_same_accounts_at_once_keep_one_item() {
    let sandbox = sandbox().await;
    let proxy = proxy(sandbox.uri(), "/institutions/get_by_id", Tap::Barrier(2)).await;
    let backend = on_sqlite(&sandbox, "duplicate-race")
        .env("PLAID_ENV", &proxy)
        .spawn()
        .unwrap();
    for round in 0..5 {
        let user = format!("user-{round}");
        let mut publics = Vec::new();
        for _ in 0..2 {
            let token = backend.link_token(&user).await;
            publics.push(sandbox.complete_link(&token, "ins_109508").unwrap());
        }
        let exchange = |public: &plaid_sdk::PublicToken| {
            backend.call(
                "POST",
                "/api/items",
                &user,
                Some(json!({ "public_token": public.expose_secret() })),
            )
        };
        let ((a, _), (b, _)) = tokio::join!(exchange(&publics[0]), exchange(&publics[1]));
        let mut statuses = [a, b];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}");
        let (_, items) = backend.call("GET", "/api/items", &user, None).await;
        assert_eq!(items["items"].as_array().unwrap().len(), 1, "{items}");
    }
    // The one refused is removed at Plaid: one Item per user stays connected.
    eventually("the duplicates removed at Plaid", 20, async || {
        sandbox.connected_items().len() == 5
    })
    .await;
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

/// LOW (review round 5): `PENDING_DISCONNECT` carries `disconnect_time`, not
/// `consent_expiration_time`; the backend read the latter and erased the expiry it had. A
/// trailing slash in `PUBLIC_URL` gave Plaid a webhook URL (`…//webhooks/plaid`) no route
/// answers. A stranger's malformed body was answered 400/415 rather than 401. A webhook whose
/// new key id waited past the fetch budget was refused 401 (not from Plaid) rather than 503
/// (try again).
#[tokio::test]
async fn webhook_times_urls_and_statuses_say_what_happened() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "statuses")
        .env("PUBLIC_URL", "http://127.0.0.1:9/")
        .spawn()
        .unwrap();
    let token = backend.link_token("user-1").await;
    let report = sandbox
        .client()
        .link_token_get(&plaid_sdk::types::LinkTokenGetRequest::new(token.as_str()))
        .await
        .unwrap();
    let report = serde_json::to_value(&report).unwrap();
    assert_eq!(
        report["metadata"]["webhook"], "http://127.0.0.1:9/webhooks/plaid",
        "{report}"
    );

    let body = linked(&backend, &sandbox).await;
    let item_id = body["item_id"].as_str().unwrap().to_owned();
    let signer = sandbox.signer();
    let now = SystemTime::now();
    for (n, hook) in [
        json!({ "webhook_type": "ITEM", "webhook_code": "PENDING_EXPIRATION", "item_id": item_id,
                "consent_expiration_time": "2027-01-01T00:00:00Z", "environment": "sandbox" }),
        json!({ "webhook_type": "ITEM", "webhook_code": "PENDING_DISCONNECT", "item_id": item_id,
                "reason": "INSTITUTION_TOKEN_EXPIRATION",
                "disconnect_time": "2026-12-12T00:00:00Z", "environment": "sandbox" }),
    ]
    .into_iter()
    .enumerate()
    {
        let body = hook.to_string();
        // Signed after the link (whose /item/get answer the Item keeps) and in order: a
        // second apart, the later one within the verifier's minute of clock skew.
        let jwt = signer.sign_at(body.as_bytes(), now + Duration::from_secs(n as u64));
        assert_eq!(backend.post_webhook(body.as_bytes(), &jwt).await, 200);
    }
    eventually("the disconnection time recorded", 10, async || {
        let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
        items["items"][0]["consent_expires_at"] == "2026-12-12T00:00:00Z"
    })
    .await;

    for (content_type, body) in [("text/plain", "nonsense"), ("application/json", "{")] {
        let response = backend
            .http
            .post(format!("{}/api/items", backend.url))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{content_type}");
    }

    // Eleven new key ids at once: ten spend the minute's fetch budget, the eleventh waits
    // for a fetch (10 s) that the budget does not allow.
    let body = json!({ "webhook_type": "ITEM", "webhook_code": "WEBHOOK_UPDATE_ACKNOWLEDGED",
                       "item_id": item_id, "environment": "sandbox" })
    .to_string();
    let genuine = signer.sign(body.as_bytes());
    let rest = genuine.split_once('.').unwrap().1.to_owned();
    let statuses = futures_util::future::join_all((0..11).map(|n| {
        let header = json!({ "alg": "ES256", "kid": format!("forged-{n}"), "typ": "JWT" });
        let jwt = format!("{}.{rest}", base64url(header.to_string().as_bytes()));
        let (backend, body) = (&backend, body.clone());
        async move { backend.post_webhook(body.as_bytes(), &jwt).await }
    }))
    .await;
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 503].contains(s)),
        "{statuses:?}"
    );
}

/// LOW (review round 5): a sync that met a passing failure while a webhook had queued another
/// sync ended `done` with no counts (its requeue hit the one-queued-job index), so a user
/// following it read "synced" for a sync that had failed. It ends `superseded` and names the
/// job doing the work, which the page follows to its end.
#[tokio::test]
async fn a_failed_sync_with_another_queued_hands_its_work_over() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "superseded")
        .env("SYNC_RESTARTS", "0")
        .env("JOB_RETRY_SECONDS", "1")
        .spawn()
        .unwrap();
    // The first sync's call fails after the client's three attempts (about 1.5 s of backoff).
    sandbox.inject(Some("/transactions/sync"), Fault::ServerError, 3);
    let body = linked(&backend, &sandbox).await;
    let item_id = body["item_id"].as_str().unwrap().to_owned();
    let first = format!("/api/jobs/{}", body["sync_job"].as_str().unwrap());
    // Meanwhile Plaid says there is news: a sync queued after the running one.
    let hook = sync_updates_webhook(&item_id);
    let jwt = sandbox.signer().sign(hook.as_bytes());
    assert_eq!(backend.post_webhook(hook.as_bytes(), &jwt).await, 200);
    let mut seen = Value::Null;
    eventually("the first sync handed over", 30, async || {
        let (_, j) = backend.call("GET", &first, "user-1", None).await;
        assert_ne!(j["state"], "done", "a failed sync reads as done: {j}");
        seen = j.clone();
        j["state"] == "superseded"
    })
    .await;
    assert!(seen["error"].is_string(), "{seen}");
    let next = format!("/api/jobs/{}", seen["next_job_id"].as_str().unwrap());
    job_done(&backend, &next, "the sync that took over", 30).await;
    assert_stored_equals_ledger(&backend, &sandbox, &item_id).await;
}

/// LOW (review round 22): a check of an Item (queued by an `ITEM` webhook) that Plaid refused
/// for good, here `INVALID_ACCESS_TOKEN` for a token rotated elsewhere, ended its job `failed`
/// and left the Item showing the webhook's `ITEM_LOGIN_REQUIRED`, which update mode cannot fix
/// without a working token. Plaid's answer is now the Item's error.
#[tokio::test]
async fn a_check_plaid_refuses_for_good_shows_on_the_item() {
    let sandbox = sandbox().await;
    let db = temp_dir("check-refused").join("db.sqlite3");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", &db)
        .spawn()
        .unwrap();
    let item_id = linked_and_synced(&backend, &sandbox).await;
    let token: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT access_token FROM items WHERE id = ?1",
            [&item_id],
            |r| r.get(0),
        )
        .unwrap();
    // Rotated by someone else: the stored token no longer opens the Item.
    sandbox
        .client()
        .item_access_token_invalidate(&plaid_sdk::types::ItemAccessTokenInvalidateRequest::new(
            plaid_sdk::AccessToken::new(token),
        ))
        .await
        .unwrap();
    let hook = item_error_webhook(&item_id);
    let jwt = sandbox.signer().sign(hook.as_bytes());
    assert_eq!(backend.post_webhook(hook.as_bytes(), &jwt).await, 200);
    eventually("Plaid's answer to the check shown", 30, async || {
        first_item(&backend).await["error"] == "INVALID_ACCESS_TOKEN"
    })
    .await;
}

/// user-1's first Item linked (`ins_109508`, 201): the answer's body.
async fn linked(backend: &Backend, sandbox: &Sandbox) -> Value {
    let (status, body) = backend.link(sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 201, "{body}");
    body
}

/// user-1's first Item, linked and synced once: its id.
async fn linked_and_synced(backend: &Backend, sandbox: &Sandbox) -> String {
    let body = linked(backend, sandbox).await;
    eventually("the first sync", 10, async || {
        let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
        items["items"][0]["last_synced_at"].is_string()
    })
    .await;
    body["item_id"].as_str().unwrap().to_owned()
}

/// user-1's first Item as `GET /api/items` shows it.
async fn first_item(backend: &Backend) -> Value {
    let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
    items["items"][0].clone()
}

/// HIGH (review round 8): a sync that committed after an `ITEM_LOGIN_REQUIRED` webhook
/// arrived cleared the error: it was stamped with its commit time, though its data was older.
/// An `ERROR` queues no sync, so the Item showed healthy while Plaid wanted a new login.
#[tokio::test]
async fn an_error_plaid_reports_while_a_sync_runs_stays_on_the_item() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "error-mid-sync").spawn().unwrap();
    let item_id = linked_and_synced(&backend, &sandbox).await;
    // Plaid's /item/get failing, the app's checks cannot repair what the sync would undo.
    sandbox.inject(Some("/item/get"), Fault::ServerError, 1000);
    // The next sync's answer is made now and arrives 4 s later.
    sandbox.inject(
        Some("/transactions/sync"),
        Fault::Slow(Duration::from_secs(4)),
        1,
    );
    let (status, body) = backend
        .call(
            "POST",
            &format!("/api/items/{item_id}/sync"),
            "user-1",
            None,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let job = format!("/api/jobs/{}", body["job_id"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sandbox.require_login(&item_id).unwrap();
    eventually("the ERROR webhook shown", 10, async || {
        first_item(&backend).await["error"] == "ITEM_LOGIN_REQUIRED"
    })
    .await;
    // From here on the error never leaves, through the sync's end and after.
    let mut after_done = None;
    loop {
        let item = first_item(&backend).await;
        assert_eq!(item["error"], "ITEM_LOGIN_REQUIRED", "{item}");
        if after_done.is_none() {
            let (_, j) = backend.call("GET", &job, "user-1", None).await;
            if j["state"] == "done" {
                after_done = Some(Instant::now());
            }
        }
        if after_done.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// MED (review round 8): Plaid signs each retry of a webhook anew, so an `ERROR` first
/// refused (a 503 while the key could not be fetched) and retried after the Item was repaired
/// looks newer than anything the app knows, and showed the working Item as broken. Plaid's
/// own `/item/get` has the last word. (The repair here is older than the app's last sync.)
#[tokio::test]
async fn a_retried_error_signed_after_the_repair_does_not_break_the_item() {
    let sandbox = sandbox().await;
    let db = temp_dir("error-retried").join("db.sqlite3");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", &db)
        .spawn()
        .unwrap();
    let item_id = linked_and_synced(&backend, &sandbox).await;
    let signer = sandbox.signer();
    let now = SystemTime::now();
    let error = item_error_webhook(&item_id);
    let repaired = login_repaired_webhook(&item_id);
    let repaired_jwt = signer.sign_at(repaired.as_bytes(), now - Duration::from_secs(10));
    assert_eq!(
        backend
            .post_webhook(repaired.as_bytes(), &repaired_jwt)
            .await,
        200
    );
    let retry_jwt = signer.sign_at(error.as_bytes(), now);
    assert_eq!(
        backend.post_webhook(error.as_bytes(), &retry_jwt).await,
        200
    );
    // Both webhooks handled and the check they queued done (the Item was healthy before them,
    // so waiting for "healthy" alone passed before anything ran).
    let checked = async || a_check_done(&db) && worked_off(&db, 2);
    eventually("the webhooks and the check worked off", 20, checked).await;
    let item = first_item(&backend).await;
    assert!(item["error"].is_null(), "{item}");
}

/// MED (review round 8): the first sync was queued after the Item was made active, in a
/// step of its own; a database error (or a crash) between the two left an active Item with
/// no sync, never synced (Plaid sends `SYNC_UPDATES_AVAILABLE` only after a first
/// `/transactions/sync`), connected at Plaid, the public token spent, the user told 500.
/// Both commit together now, or neither and the Item is removed at Plaid.
#[tokio::test]
async fn an_item_is_kept_only_with_its_first_sync_queued() {
    let sandbox = sandbox().await;
    let dir = temp_dir("keep-with-sync");
    let db = dir.join("db.sqlite3");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", &db)
        .spawn()
        .unwrap();
    // The database refuses new jobs (a stand-in for an error or a crash at that step).
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER no_jobs BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'injected'); END;",
    )
    .unwrap();
    let (status, body) = backend.link(&sandbox, "user-1", "ins_109508").await;
    assert!(status >= 500, "{status} {body}");
    eventually("no bank left connected", 10, async || {
        sandbox.connected_items().is_empty()
    })
    .await;
    let (_, items) = backend.call("GET", "/api/items", "user-1", None).await;
    assert_eq!(items["items"], json!([]), "{items}");
    conn.execute_batch("DROP TRIGGER no_jobs;").unwrap();
    // With the database well again, a link keeps its Item and syncs it.
    let item_id = linked_and_synced(&backend, &sandbox).await;
    assert_stored_equals_ledger(&backend, &sandbox, &item_id).await;
}

/// LOW (review round 8): a disconnected Item kept its access token in the database (Plaid
/// had invalidated it, a secret kept for nothing), and `ITEM` webhooks still changed it.
#[tokio::test]
async fn a_disconnected_item_keeps_no_token_and_ignores_item_webhooks() {
    let sandbox = sandbox().await;
    let dir = temp_dir("disconnected");
    let db = dir.join("db.sqlite3");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("DATABASE", &db)
        .spawn()
        .unwrap();
    let item_id = linked_and_synced(&backend, &sandbox).await;
    let (status, body) = backend
        .call("DELETE", &format!("/api/items/{item_id}"), "user-1", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let token: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT access_token FROM items WHERE id = ?1",
            [&item_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(token, "", "the disconnected Item's token is still stored");
    let error = item_error_webhook(&item_id);
    let jwt = sandbox.signer().sign(error.as_bytes());
    assert_eq!(backend.post_webhook(error.as_bytes(), &jwt).await, 200);
    eventually("the webhook worked off", 10, async || {
        let open: i64 = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT COUNT(*) FROM webhook_inbox WHERE state <> 'done'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        open == 0
    })
    .await;
    let item = first_item(&backend).await;
    assert_eq!(item["status"], "disconnected", "{item}");
    assert!(item["error"].is_null(), "{item}");
}

/// LOW (review round 8, of its own fix): Plaid's "no error" from a check, queued by a
/// `LOGIN_REPAIRED`, cleared `SYNC_FAILED`, the app's own state for an answer it cannot read:
/// the Item showed healthy while every sync failed for good.
#[tokio::test]
async fn plaids_no_error_leaves_the_apps_own_sync_failure() {
    let sandbox = sandbox().await;
    let proxy = proxy(
        sandbox.uri(),
        "/transactions/sync",
        Tap::Answer(r#"{"added": "not a list", "request_id": "r"}"#),
    )
    .await;
    let db = temp_dir("sync-failed-kept").join("db.sqlite3");
    let backend = Start::default()
        .plaid(&sandbox)
        .env("PLAID_ENV", &proxy)
        .env("DATABASE", &db)
        .spawn()
        .unwrap();
    let (status, item) = backend.link(&sandbox, "user-1", "ins_109508").await;
    assert_eq!(status, 201, "{item}");
    let item_id = item["item_id"].as_str().unwrap().to_owned();
    eventually("the Item shows the failure", 20, async || {
        first_item(&backend).await["error"] == "SYNC_FAILED"
    })
    .await;
    let repaired = login_repaired_webhook(&item_id);
    let jwt = sandbox.signer().sign(repaired.as_bytes());
    assert_eq!(backend.post_webhook(repaired.as_bytes(), &jwt).await, 200);
    let checked = async || a_check_done(&db) && worked_off(&db, 1);
    eventually("the repair's sync and check done", 20, checked).await;
    let item = first_item(&backend).await;
    assert_eq!(item["error"], "SYNC_FAILED", "{item}");
}

/// Review round 11: a request that changes something, sent by a page of another site, was
/// refused only because browsers preflight the `x-user-id` header; an app that swaps the
/// stand-in for a session cookie (as `app.rs` suggests) would accept it. The guard now
/// refuses a write whose `Origin` or `Sec-Fetch-Site` names another site, whatever carries
/// the user. Before the fix all three foreign requests below made a link token (200).
#[tokio::test]
async fn a_write_sent_by_another_site_is_refused() {
    let sandbox = sandbox().await;
    let backend = on_sqlite(&sandbox, "cross-site").spawn().unwrap();
    async fn post(backend: &Backend, headers: &[(&str, &str)]) -> u16 {
        let mut request = backend
            .http
            .post(format!("{}/api/link-token", backend.url))
            .header("x-user-id", "user-1");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send().await.unwrap().status().as_u16()
    }
    let foreign = [
        ("origin", "http://attacker.example"),
        ("sec-fetch-site", "cross-site"),
        ("origin", "null"),
    ];
    for header in foreign {
        assert_eq!(post(&backend, &[header]).await, 403, "{header:?}");
    }
    // The page itself, and callers that are not browsers, are served.
    let own = [
        ("origin", backend.url.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    assert_eq!(post(&backend, &own).await, 200);
    assert_eq!(post(&backend, &[]).await, 200);
    // Plaid's webhooks come from no site: still answered.
    let body = sync_updates_webhook("unknown-item");
    let jwt = sandbox.signer().sign(body.as_bytes());
    assert_eq!(backend.post_webhook(body.as_bytes(), &jwt).await, 200);
}

/// Review round 11: with Plaid's production keys the backend served real bank data to anyone
/// who named a user in `x-user-id`, its stand-in for sign-in. It now refuses to start against
/// Plaid's production until that stand-in is replaced. Before the fix it started.
#[tokio::test]
async fn the_stand_in_sign_in_never_serves_plaids_production() {
    let dir = temp_dir("production");
    let refused = Start::default()
        .env("PLAID_ENV", "production")
        .env("PLAID_CLIENT_ID", "client")
        .env("PLAID_SECRET", "prod-secret-7c1e")
        .env("DATABASE", dir.join("db.sqlite3"))
        .spawn();
    let err = match refused {
        Ok(_) => panic!("started against Plaid's production with a stand-in sign-in"),
        Err(err) => err,
    };
    assert!(err.contains("x-user-id"), "{err}");
    assert!(err.contains("remove this check"), "says what to do: {err}");
    assert!(!err.contains("  "), "one sentence, no gaps: {err}");
    assert!(!err.contains("prod-secret-7c1e"), "{err}");
}
