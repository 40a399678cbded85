//! The reference backend's throughput on this machine: webhooks acknowledged per second (and
//! the p99 of their latency), and sync jobs per second, on SQLite with one replica and on
//! PostgreSQL with one and with three. Prints figures; asserts only that the work was done.
//!
//!     cargo build --release -p plaid-examples --example backend
//!     eval "$(bash scripts/postgres.sh start)"
//!     cargo bench -p plaid-examples --bench backend
//!     bash scripts/postgres.sh stop "$PG_DIR"
//!
//! Each replica is the `backend` binary as a process; Plaid is the offline sandbox in this
//! process, which also signs the webhooks (each one anew, as Plaid does).

#[path = "../tests/support/mod.rs"]
mod support;

use plaid_sandbox::Sandbox;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Backend, Start, CLIENT_ID, SECRET};

/// Items linked (one user each).
const ITEMS: usize = 60;
/// Webhooks sent in the acknowledgement run, by this many concurrent senders.
const WEBHOOKS: usize = 3_000;
const SENDERS: usize = 16;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let postgres = std::env::var("BACKEND_TEST_DATABASE_URL").ok();
    let mut runs: Vec<(&str, usize)> = vec![("SQLite", 1)];
    if postgres.is_some() {
        runs.extend([("PostgreSQL", 1), ("PostgreSQL", 3)]);
    } else {
        eprintln!("BACKEND_TEST_DATABASE_URL is not set: SQLite only (see the file's header)");
    }
    for (db, replicas) in runs {
        let figures = runtime.block_on(run(db, replicas, postgres.as_deref()));
        println!("{db}, {replicas} replica(s): {figures}");
    }
}

async fn database(kind: &str, admin: Option<&str>, n: usize) -> (&'static str, String) {
    if kind == "SQLite" {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("bench-backend-{}-{n}.sqlite3", std::process::id()));
        let _ = std::fs::remove_file(&path);
        return ("DATABASE", path.display().to_string());
    }
    let admin = admin.expect("a PostgreSQL server");
    let (client, connection) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL answers");
    tokio::spawn(connection);
    let name = format!("bench_{}_{n}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        client.batch_execute(&sql).await.unwrap();
    }
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    ("DATABASE_URL", format!("{base}/{name}"))
}

async fn run(kind: &str, n: usize, admin: Option<&str>) -> String {
    let sandbox = Arc::new(
        Sandbox::builder()
            .client_id(CLIENT_ID)
            .secret(SECRET)
            .seed(7)
            .history_days(30)
            .start()
            .await,
    );
    let (var, value) = database(kind, admin, n).await;
    let start = Start::default()
        .plaid(&sandbox)
        .env(var, &value)
        .env("RUST_LOG", "error");
    let replicas: Vec<Arc<Backend>> = (0..n).map(|_| Arc::new(start.spawn().unwrap())).collect();

    let mut items = Vec::new();
    for i in 0..ITEMS {
        let user = format!("user-{i}");
        let (status, body) = replicas[i % n].link(&sandbox, &user, "ins_109508").await;
        assert_eq!(status, 201, "{body}");
        items.push((user, body["item_id"].as_str().unwrap().to_owned()));
    }
    settle(&replicas[0], &items).await;

    // Webhooks: SYNC_UPDATES_AVAILABLE for random Items, each signed anew, to the replicas in
    // turn; the time from sending to the 200.
    let bodies: Vec<Vec<u8>> = items
        .iter()
        .map(|(_, item)| {
            serde_json::to_vec_pretty(&json!({
                "webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
                "item_id": item, "initial_update_complete": true,
                "historical_update_complete": true, "environment": "sandbox",
            }))
            .unwrap()
        })
        .collect();
    let bodies = Arc::new(bodies);
    let began = Instant::now();
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (sandbox, bodies, replicas) = (sandbox.clone(), bodies.clone(), replicas.clone());
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for k in (s..WEBHOOKS).step_by(SENDERS) {
                let body = &bodies[k % bodies.len()];
                let jwt = sandbox.signer().sign(body);
                let sent = Instant::now();
                let status = replicas[k % replicas.len()].post_webhook(body, &jwt).await;
                assert_eq!(status, 200);
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for sender in senders {
        latencies.extend(sender.await.unwrap());
    }
    let acks = WEBHOOKS as f64 / began.elapsed().as_secs_f64();
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    let p99 = latencies[latencies.len() * 99 / 100];
    settle(&replicas[0], &items).await;

    // Sync jobs: a day of new transactions at every Item, then a sync asked for each; the
    // time until every job is done.
    let mut rounds = Vec::new();
    for _ in 0..3 {
        for (_, item) in &items {
            sandbox.advance_days(item, 1).unwrap();
        }
        // The advance's own webhooks queue syncs too: let them finish first.
        settle(&replicas[0], &items).await;
        let began = Instant::now();
        let mut jobs = Vec::new();
        for (i, (user, item)) in items.iter().enumerate() {
            let (status, body) = replicas[i % n]
                .call("POST", &format!("/api/items/{item}/sync"), user, None)
                .await;
            if status == 202 {
                jobs.push((user.clone(), body["job_id"].as_str().unwrap().to_owned()));
            }
        }
        for (user, job) in &jobs {
            loop {
                let (_, j) = replicas[0]
                    .call("GET", &format!("/api/jobs/{job}"), user, None)
                    .await;
                if j["state"] == "done" {
                    break;
                }
                assert_ne!(j["state"], "failed", "{j}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        rounds.push(jobs.len() as f64 / began.elapsed().as_secs_f64());
    }
    rounds.sort_by(f64::total_cmp);
    format!(
        "{acks:.0} webhooks acknowledged/s (p50 {:.1} ms, p99 {:.1} ms, {SENDERS} senders); \
         {:.0} sync jobs/s (median of 3 rounds of {ITEMS}: {:.0}, {:.0}, {:.0})",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        rounds[1],
        rounds[0],
        rounds[1],
        rounds[2]
    )
}

/// Waits until no Item has a sync queued or running, twice in a row 300 ms apart (the inbox
/// may still be turning webhooks into jobs the first time).
async fn settle(replica: &Backend, items: &[(String, String)]) {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut calm = 0;
    while calm < 2 {
        assert!(Instant::now() < deadline, "the backend never settled");
        let mut idle = true;
        for (user, _) in items {
            let (_, list) = replica.call("GET", "/api/items", user, None).await;
            if list["items"][0]["syncing"] != false {
                idle = false;
                break;
            }
        }
        calm = if idle { calm + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
