//! Runtime figures: typed parse speed of a large `/transactions/sync` page, client overhead per
//! call, and a full sync through the driver. Prints figures; asserts nothing about time.
//!
//!     cargo bench --bench runtime                    # parse + client overhead
//!     benches/sync_peers.sh                          # full sync, side by side with the
//!                                                    # official Python and Node SDKs
//!
//! The same binary is the local server and the Rust client of `sync_peers.sh`:
//!
//!     runtime serve <transactions>   prints the server's URL, then serves until killed
//!     runtime sync <url>             syncs everything through `transactions_sync_all`
//!     runtime profile-parse          only the typed parse, in a loop, for a profiler
//!
//! Every page is built from the spec's own `/transactions/sync` example: its transaction is
//! repeated with a unique id, amount, date and name.

mod support;

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use plaid_sdk::sync::{SyncOutcome, TransactionsSync};
use plaid_sdk::types::{AccountsGetRequest, AccountsGetResponse, TransactionsSyncResponse};
use plaid_sdk::{PlaidClient, RawResponse};
use serde::de::IgnoredAny;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{
    fixtures, median, median_ms, page, paired, sync_page_body, transaction, Paired, PAGE,
};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match args.first().map(String::as_str) {
        Some("serve") => {
            let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
            runtime.block_on(serve_forever(n));
        }
        Some("profile-parse") => profile_parse(),
        Some("sync") => {
            let url = args.get(1).expect("usage: runtime sync <url>");
            runtime.block_on(sync_once(url));
        }
        _ => {
            parse_bench();
            runtime.block_on(overhead_bench());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parse: a 500-transaction page into the typed response, against the IgnoredAny floor.

fn parse_bench() {
    let body = sync_page_body();
    let mb = body.len() as f64 / 1e6;
    let typed: TransactionsSyncResponse = RawResponse::new("transactions_sync", 200, body.clone())
        .json()
        .expect("the page parses");
    assert_eq!(typed.added.len(), PAGE);

    let runs = 101;
    let value = median_ms(
        || serde_json::from_slice::<Value>(&body).expect("json"),
        runs,
    );
    let parse = || {
        RawResponse::new("transactions_sync", 200, body.clone())
            .json::<TransactionsSyncResponse>()
            .expect("typed")
    };
    let Paired {
        floor_ms: floor,
        typed_ms: typed,
        ratio,
    } = paired(
        || serde_json::from_slice::<IgnoredAny>(&body).expect("json"),
        parse,
        runs,
    );
    let mut pages: Vec<_> = (0..=runs).map(|_| parse()).collect();
    let drop_ms = median_ms(|| drop(pages.pop()), runs);
    println!(
        "parse a {PAGE}-transaction /transactions/sync page ({:.2} MB), medians of {runs} (floor and typed in alternation):",
        mb
    );
    println!(
        "  serde_json into IgnoredAny (floor)   {floor:7.2} ms  {:7.0} MB/s",
        mb / floor * 1e3
    );
    println!(
        "  serde_json into Value                 {value:7.2} ms  {:7.0} MB/s",
        mb / value * 1e3
    );
    println!(
        "  plaid-sdk typed (RawResponse::json)   {typed:7.2} ms  {:7.0} MB/s  = {:.0}% of the floor",
        mb / typed * 1e3,
        ratio * 100.0
    );
    println!("  dropping the typed page               {drop_ms:7.2} ms");
    // Node parses in a process of its own, so it cannot be paired parse by parse: rounds of
    // `per_round` parses in Node, then as many typed parses here, and the ratio is the median
    // of the rounds' ratios.
    let (rounds, per_round) = (7, 31);
    let mut node = Vec::new();
    let mut faster = Vec::new();
    for _ in 0..rounds {
        let Some(n) = node_parse_ms(&body, per_round) else {
            break;
        };
        node.push(n);
        faster.push(n / median_ms(parse, per_round));
    }
    if node.len() == rounds {
        let node = median(node);
        println!(
            "  Node JSON.parse, untyped              {node:7.2} ms  {:7.0} MB/s  (plaid-sdk typed is {:.1}x faster, {rounds} paired rounds)",
            mb / node * 1e3,
            median(faster)
        );
    } else {
        println!("  Node JSON.parse: node not found, skipped");
    }
}

fn profile_parse() {
    let body = sync_page_body();
    for _ in 0..2_000 {
        let r: TransactionsSyncResponse = RawResponse::new("transactions_sync", 200, body.clone())
            .json()
            .expect("typed");
        assert_eq!(r.added.len(), PAGE);
    }
}

/// Node's `JSON.parse` of the same bytes (already a string in memory), median of `runs`.
fn node_parse_ms(body: &[u8], runs: usize) -> Option<f64> {
    let dir = std::env::temp_dir().join(format!("plaid-sdk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join("page.json");
    std::fs::write(&file, body).ok()?;
    let script = format!(
        r#"const s = require('fs').readFileSync({file:?}, 'utf8');
JSON.parse(s);
const t = [];
for (let i = 0; i < {runs}; i++) {{ const a = process.hrtime.bigint(); JSON.parse(s); t.push(Number(process.hrtime.bigint() - a) / 1e6); }}
t.sort((a, b) => a - b);
console.log(t[Math.floor({runs} / 2)]);"#
    );
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(script)
        .output()
        .ok();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The local server.

struct Ledger {
    transactions: Vec<Vec<u8>>,
    accounts: Vec<u8>,
    accounts_get: Bytes,
}

async fn transactions_sync(
    State(ledger): State<Arc<Ledger>>,
    body: Bytes,
) -> axum::response::Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let from = request["cursor"]
        .as_str()
        .and_then(|c| c.strip_prefix('c'))
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0)
        .min(ledger.transactions.len());
    let count = request["count"].as_u64().unwrap_or(100).clamp(1, 500) as usize;
    let to = (from + count).min(ledger.transactions.len());
    json_response(page(&ledger.transactions, &ledger.accounts, from, to).into())
}

async fn accounts_get(State(ledger): State<Arc<Ledger>>) -> axum::response::Response {
    json_response(ledger.accounts_get.clone())
}

fn json_response(body: Bytes) -> axum::response::Response {
    axum::response::Response::builder()
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .expect("response")
}

async fn start_server(n: usize) -> String {
    let fx = fixtures();
    let ledger = Arc::new(Ledger {
        transactions: (0..n).map(|i| transaction(&fx.transaction, i)).collect(),
        accounts: serde_json::to_vec_pretty(&fx.accounts).expect("accounts"),
        accounts_get: serde_json::to_vec_pretty(&fx.accounts_get)
            .expect("accounts/get")
            .into(),
    });
    let app = Router::new()
        .route("/transactions/sync", post(transactions_sync))
        .route("/accounts/get", post(accounts_get))
        .with_state(ledger);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    url
}

async fn serve_forever(n: usize) {
    let url = start_server(n).await;
    println!("{url}");
    std::future::pending::<()>().await;
}

fn client(url: &str, http: Option<reqwest::ClientBuilder>) -> PlaidClient {
    let mut builder = PlaidClient::builder()
        .client_id("bench-client")
        .secret("bench-secret")
        .base_url(url);
    if let Some(http) = http {
        builder = builder.http_client(http);
    }
    builder.build().expect("client")
}

// ---------------------------------------------------------------------------------------------
// A full sync through the driver (the Rust side of sync_peers.sh).

async fn sync_once(url: &str) {
    let client = client(url, None);
    let start = Instant::now();
    let sync = TransactionsSync::new("access-sandbox-bench").count(500);
    let outcome = client.transactions_sync_all(&sync).await.expect("sync");
    let elapsed = start.elapsed();
    let SyncOutcome::Updated(batch) = outcome else {
        panic!("the bench server is always ready");
    };
    println!(
        "{{\"transactions\": {}, \"pages\": {}, \"seconds\": {:.4}}}",
        batch.added.len(),
        batch.pages,
        elapsed.as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// Client overhead: `accounts_get` through the client against a bare reqwest POST of the same
// body, each on a reqwest pool of the same settings, both parsing the response into the same
// type.

async fn overhead_bench() {
    let url = start_server(0).await;
    let http = reqwest::Client::new();
    let plaid = client(&url, Some(reqwest::Client::builder()));
    let request = AccountsGetRequest::new("access-sandbox-bench");
    let body = serde_json::to_vec(&request).expect("body");
    let endpoint = format!("{url}/accounts/get");

    let calls = 2_000;
    let runs = 5;
    let mut bare = Vec::new();
    let mut sdk = Vec::new();
    for _ in 0..=runs {
        let start = Instant::now();
        for _ in 0..calls {
            let response = http
                .post(&endpoint)
                .header("content-type", "application/json")
                .header("PLAID-CLIENT-ID", "bench-client")
                .header("PLAID-SECRET", "bench-secret")
                .body(body.clone())
                .send()
                .await
                .expect("bare POST");
            let bytes = response.bytes().await.expect("bytes");
            let parsed: AccountsGetResponse = serde_json::from_slice(&bytes).expect("parse");
            assert!(!parsed.accounts.is_empty());
        }
        bare.push(start.elapsed() / calls);
        let start = Instant::now();
        for _ in 0..calls {
            let parsed = plaid.accounts_get(&request).await.expect("accounts_get");
            assert!(!parsed.accounts.is_empty());
        }
        sdk.push(start.elapsed() / calls);
    }
    // The first round warms the pool up.
    let median_call = |mut v: Vec<Duration>| {
        v.remove(0);
        v.sort();
        v[v.len() / 2]
    };
    let (bare, sdk) = (median_call(bare), median_call(sdk));
    println!("client overhead, /accounts/get against a local server, {calls} sequential calls, median of {runs}:");
    println!(
        "  bare reqwest POST + parse   {:7.1} µs/call",
        bare.as_secs_f64() * 1e6
    );
    println!(
        "  PlaidClient::accounts_get   {:7.1} µs/call  = {:.3}x the bare POST ({:+.1}%)",
        sdk.as_secs_f64() * 1e6,
        sdk.as_secs_f64() / bare.as_secs_f64(),
        (sdk.as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0
    );
}
