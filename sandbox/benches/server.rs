//! The offline sandbox against Stoplight Prism's mock, serving the same spec on the same
//! machine in the same run: time to the first answer, memory, and calls per second; then the
//! in-process figures a Rust test pays (start, a whole `/transactions/sync` of a default Item).
//! Prints figures; asserts only that every call was answered.
//!
//!     PRISM_HOME=~/.cache/plaid-sdk/prism-5.14.2 cargo bench -p plaid-sandbox --bench server
//!
//! (`bash scripts/conformance.sh` installs Prism there.) The two servers take turns, `ROUNDS`
//! times (default 3), and each ratio is the median of the rounds' ratios, because this
//! machine's speed drifts from minute to minute.

use plaid_sandbox::Sandbox;
use plaid_sdk::sync::TransactionsSync;
use plaid_sdk::types::Products;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "bench-client";
const SECRET: &str = "bench-secret";
/// Concurrent callers during a load phase.
const CALLERS: usize = 16;
/// How long each operation is loaded.
const LOAD: Duration = Duration::from_secs(4);

fn main() {
    let prism_home = PathBuf::from(std::env::var_os("PRISM_HOME").unwrap_or_else(|| {
        eprintln!(
            "set PRISM_HOME to the folder Stoplight Prism is installed in \
             (bash scripts/conformance.sh installs it under ~/.cache/plaid-sdk/prism-5.14.2)"
        );
        std::process::exit(2)
    }));
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let spec = prism_spec(&prism_home);

    let mut rows: Vec<(Figures, Figures)> = Vec::new();
    for round in 1..=rounds {
        let ours = runtime.block_on(measure(Server::sandbox()));
        let theirs = runtime.block_on(measure(Server::prism(&prism_home, &spec)));
        println!("round {round}: sandbox {ours}");
        println!("round {round}: prism   {theirs}");
        rows.push((ours, theirs));
    }
    report(&rows);
    runtime.block_on(in_process());
}

/// What one server measured.
#[derive(Clone, Debug)]
struct Figures {
    /// From spawning the process to its first answered call.
    ready: Duration,
    /// Resident memory after the first call, and the peak after the load (whole process tree).
    rss_idle_kb: u64,
    rss_peak_kb: u64,
    /// Calls answered per second, per operation, in the order of [`OPERATIONS`].
    per_second: Vec<f64>,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ready {:.0} ms, RSS {:.1} MB idle, {:.1} MB peak; calls/s",
            self.ready.as_secs_f64() * 1e3,
            self.rss_idle_kb as f64 / 1024.0,
            self.rss_peak_kb as f64 / 1024.0
        )?;
        for ((path, _), rate) in OPERATIONS.iter().zip(&self.per_second) {
            write!(f, " {path} {rate:.0}")?;
        }
        Ok(())
    }
}

/// A request body, given the server's access token.
type Body = fn(&str) -> Value;

/// The operations loaded: a lookup without an Item, and three Item reads an app makes most.
const OPERATIONS: &[(&str, Body)] = &[
    (
        "/institutions/get_by_id",
        |_| json!({ "institution_id": "ins_109508", "country_codes": ["US"] }),
    ),
    ("/item/get", |token| json!({ "access_token": token })),
    ("/accounts/get", |token| json!({ "access_token": token })),
    (
        "/transactions/sync",
        |token| json!({ "access_token": token, "count": 100 }),
    ),
];

struct Server {
    child: Child,
    url: String,
    /// An access token the server accepts for the Item reads.
    token: String,
    spawned: Instant,
}

impl Server {
    fn sandbox() -> Server {
        let spawned = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_plaid-sandbox"))
            // Calls per second on one Item: Plaid's per-Item limits would answer 429.
            .args([
                "--client-id",
                CLIENT_ID,
                "--secret",
                SECRET,
                "--no-rate-limits",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("the plaid-sandbox binary starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout
            .read_line(&mut line)
            .expect("its first line is its base URL");
        // Keep reading what it prints, so its stdout never closes under it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Server {
            child,
            url: line.trim().to_owned(),
            token: String::new(),
            spawned,
        }
    }

    fn prism(home: &Path, spec: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spawned = Instant::now();
        let child = Command::new(home.join("node_modules/.bin/prism"))
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(spec)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("Prism starts");
        Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            // Prism's mock accepts any token of the right type.
            token: "access-sandbox-de3ce8ef-33f8-452c-a685-8671031fc0f6".to_owned(),
            spawned,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(http: &reqwest::Client, url: &str, path: &str, body: &Value) -> Option<Value> {
    let response = http
        .post(format!("{url}{path}"))
        .header("PLAID-CLIENT-ID", CLIENT_ID)
        .header("PLAID-SECRET", SECRET)
        .header("Plaid-Version", "2020-09-14")
        .json(body)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

async fn measure(mut server: Server) -> Figures {
    let http = reqwest::Client::new();
    let (path, body) = OPERATIONS[0];
    let body = body("");
    loop {
        if post(&http, &server.url, path, &body).await.is_some() {
            break;
        }
        assert!(
            server.spawned.elapsed() < Duration::from_secs(180),
            "{} did not answer {path}",
            server.url
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready = server.spawned.elapsed();
    let rss_idle_kb = rss_kb(server.child.id(), "VmRSS");
    if server.token.is_empty() {
        let public = post(
            &http,
            &server.url,
            "/sandbox/public_token/create",
            &json!({ "institution_id": "ins_109508", "initial_products": ["transactions"] }),
        )
        .await
        .expect("a public token");
        let item = post(
            &http,
            &server.url,
            "/item/public_token/exchange",
            &json!({ "public_token": public["public_token"] }),
        )
        .await
        .expect("an access token");
        server.token = item["access_token"].as_str().unwrap().to_owned();
    }
    let mut per_second = Vec::new();
    for (path, body) in OPERATIONS {
        per_second.push(load(&http, &server.url, path, body(&server.token)).await);
    }
    Figures {
        ready,
        rss_idle_kb,
        rss_peak_kb: rss_kb(server.child.id(), "VmHWM"),
        per_second,
    }
}

/// Calls per second answered with a success, `CALLERS` at a time for `LOAD`.
async fn load(http: &reqwest::Client, url: &str, path: &'static str, body: Value) -> f64 {
    let answered = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut callers = Vec::new();
    for _ in 0..CALLERS {
        let (http, url, body) = (http.clone(), url.to_owned(), body.clone());
        let (answered, failed) = (answered.clone(), failed.clone());
        callers.push(tokio::spawn(async move {
            while started.elapsed() < LOAD {
                match post(&http, &url, path, &body).await {
                    Some(_) => answered.fetch_add(1, Ordering::Relaxed),
                    None => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for caller in callers {
        caller.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "{url}{path}: some calls were not answered with a success"
    );
    answered.load(Ordering::Relaxed) as f64 / seconds
}

/// A field of `/proc/<pid>/status` in kB, summed over the process and its descendants.
fn rss_kb(pid: u32, field: &str) -> u64 {
    let mut total = 0;
    let mut pids = vec![pid];
    while let Some(pid) = pids.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            total += status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    total
}

/// The spec as Prism can serve it (see `scripts/prism_spec.js`): the one the sandbox embeds.
fn prism_spec(home: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("prism-bench-spec.json");
    let status = Command::new("node")
        .arg(root.join("scripts/prism_spec.js"))
        .arg(home.join("node_modules"))
        .arg(root.join("spec/plaid.json"))
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .expect("node runs");
    assert!(status.success(), "scripts/prism_spec.js failed");
    out
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(rows: &[(Figures, Figures)]) {
    let ratio = |f: &dyn Fn(&Figures) -> f64| -> (f64, Vec<f64>) {
        let each: Vec<f64> = rows.iter().map(|(o, t)| f(o) / f(t)).collect();
        (median(each.clone()), each)
    };
    let show = |name: &str, (m, each): (f64, Vec<f64>)| {
        let each: Vec<String> = each.iter().map(|r| format!("{r:.3}")).collect();
        println!("{name}: {m:.3}x (rounds {})", each.join(", "));
    };
    println!("\nsandbox / prism mock, median of {} rounds:", rows.len());
    show("time to first answer", ratio(&|f| f.ready.as_secs_f64()));
    show("RSS idle", ratio(&|f| f.rss_idle_kb as f64));
    show("RSS peak", ratio(&|f| f.rss_peak_kb as f64));
    for (i, (path, _)) in OPERATIONS.iter().enumerate() {
        show(&format!("calls/s {path}"), ratio(&|f| f.per_second[i]));
    }
}

/// What a Rust test pays in-process: starting a sandbox, and a whole sync of a default Item.
async fn in_process() {
    let mut starts = Vec::new();
    let mut syncs = Vec::new();
    let mut count = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let sandbox = Sandbox::start().await;
        starts.push(started.elapsed().as_secs_f64());
        let client = sandbox.client();
        let item = client
            .sandbox_link_item("ins_109508", [Products::Transactions])
            .await
            .expect("an Item");
        let started = Instant::now();
        let outcome = client
            .transactions_sync_all(&TransactionsSync::new(item.access_token).count(500))
            .await
            .expect("a sync");
        syncs.push(started.elapsed().as_secs_f64());
        count = outcome.into_batch().expect("ready").added.len();
    }
    println!(
        "\nin process, median of 20: Sandbox::start {:.2} ms; whole /transactions/sync of a \
         default Item ({count} transactions, the SDK's driver) {:.2} ms",
        median(starts) * 1e3,
        median(syncs) * 1e3
    );
}
