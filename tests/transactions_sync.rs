//! The `/transactions/sync` driver against a stateful fake of Plaid: a ledger of changes, pages
//! served from cursors, mutations during pagination, failures. After any sequence of injected
//! failures, applying the driver's result to the store must give exactly the ledger: nothing
//! lost, nothing doubled.

mod common;

use common::ACCESS_TOKEN;
use futures_util::StreamExt;
use plaid_sdk::sync::{SyncEvent, SyncOutcome, TransactionsSync, UpdateStatus};
use plaid_sdk::{Error, ErrorCode, ProcessorToken};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A small deterministic generator (xorshift64*), so a failing seed reproduces.
#[derive(Clone)]
struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Debug)]
enum Change {
    Add(Value),
    Modify(Value),
    /// A transaction id and its account.
    Remove(String, String),
}

/// The fake's state: the log of changes, and what makes it hostile.
struct Ledger {
    log: Vec<Change>,
    /// Bumped by every mutation; mid-loop cursors from an older generation are refused.
    generation: u64,
    /// The position the client has stored: history before it is never rewritten.
    committed: usize,
    rng: Rng,
    template: Value,
    next_id: u64,
    mutation_percent: u64,
    error_percent: u64,
    /// Chance of one of the [`FAULTS`] instead of an answer.
    fault_percent: u64,
    /// How often each fault was served.
    faults_served: BTreeMap<&'static str, usize>,
    requests: usize,
    /// (has the account filter been sent, the account) for per-account tests.
    accounts_seen: Vec<Option<String>>,
}

impl Ledger {
    fn new(seed: u64, template: Value, mutation_percent: u64, error_percent: u64) -> Self {
        let mut ledger = Ledger {
            log: Vec::new(),
            generation: 0,
            committed: 0,
            rng: Rng::new(seed),
            template,
            next_id: 0,
            mutation_percent,
            error_percent,
            fault_percent: 0,
            faults_served: BTreeMap::new(),
            requests: 0,
            accounts_seen: Vec::new(),
        };
        let initial = 20 + ledger.rng.below(60);
        ledger.grow(initial as usize);
        ledger
    }

    fn txn(&mut self, id: &str) -> Value {
        let mut t = self.template.clone();
        t["transaction_id"] = json!(id);
        t["account_id"] = json!(if self.rng.chance(50) {
            "acc-checking"
        } else {
            "acc-savings"
        });
        t["amount"] = json!(self.rng.below(100_000) as f64 / 100.0);
        t["name"] = json!(format!("merchant {}", self.rng.below(50)));
        t["pending"] = json!(self.rng.chance(20));
        t
    }

    fn account_of(&self, id: &str) -> String {
        self.log
            .iter()
            .rev()
            .find_map(|c| match c {
                Change::Add(t) | Change::Modify(t) if t["transaction_id"] == id => {
                    t["account_id"].as_str().map(str::to_owned)
                }
                _ => None,
            })
            .unwrap_or_default()
    }

    fn live_ids(&self) -> Vec<String> {
        replay(&self.log).into_keys().collect()
    }

    /// Appends `n` changes: mostly new transactions, some edits and removals.
    fn grow(&mut self, n: usize) {
        for _ in 0..n {
            let live = self.live_ids();
            let roll = self.rng.below(10);
            if live.is_empty() || roll < 6 {
                self.next_id += 1;
                let id = format!("txn-{}", self.next_id);
                let t = self.txn(&id);
                self.log.push(Change::Add(t));
            } else {
                let id = live[self.rng.below(live.len() as u64) as usize].clone();
                if roll < 9 {
                    let t = self.txn(&id);
                    self.log.push(Change::Modify(t));
                } else {
                    let account = self.account_of(&id);
                    self.log.push(Change::Remove(id, account));
                }
            }
        }
    }

    /// New data arrives while a client pages: more changes, and history the client has paged
    /// through in this loop (`committed..paged`) but not stored yet rewritten: a transaction
    /// withdrawn (a pending one that vanished), or its amount changed. A driver that kept the
    /// pages of the aborted loop would still hold the withdrawn transaction.
    fn mutate(&mut self, paged: usize) {
        self.generation += 1;
        let extra = 1 + self.rng.below(5) as usize;
        self.grow(extra);
        let adds: Vec<usize> = (self.committed..paged.min(self.log.len()))
            .filter(|&i| matches!(self.log[i], Change::Add(_)))
            .collect();
        if adds.is_empty() || !self.rng.chance(70) {
            return;
        }
        let i = adds[self.rng.below(adds.len() as u64) as usize];
        if self.rng.chance(60) {
            // Withdrawn, with every later change to it.
            let id = match &self.log[i] {
                Change::Add(t) => t["transaction_id"].clone(),
                _ => return,
            };
            self.log.retain(|c| match c {
                Change::Add(x) | Change::Modify(x) => x["transaction_id"] != id,
                Change::Remove(r, _) => *r != id,
            });
        } else if let Change::Add(t) = &mut self.log[i] {
            t["amount"] = json!(-1.0);
        }
    }

    fn respond(&mut self, body: &Value) -> ResponseTemplate {
        self.requests += 1;
        self.accounts_seen.push(
            body.pointer("/options/account_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        );
        assert!(
            body.get("access_token").is_some() || body.get("processor_token").is_some(),
            "a token is sent"
        );
        if self.rng.chance(self.error_percent) {
            return ResponseTemplate::new(500)
                .set_body_json(plaid_error("API_ERROR", "INTERNAL_SERVER_ERROR"));
        }
        if self.rng.chance(self.fault_percent) {
            let (name, response) = FAULTS[self.rng.below(FAULTS.len() as u64) as usize];
            *self.faults_served.entry(name).or_default() += 1;
            return response();
        }
        let count = body["count"].as_u64().unwrap_or(100) as usize;
        let cursor = body.get("cursor").and_then(Value::as_str);
        if self.rng.chance(self.mutation_percent) {
            let paged = cursor.and_then(parse_cursor).map_or(0, |(p, _)| p);
            self.mutate(paged);
        }
        let position = match cursor {
            None => 0,
            Some(c) => match parse_cursor(c) {
                Some((pos, None)) => pos,
                Some((pos, Some(generation))) if generation == self.generation => pos,
                Some(_) => {
                    return ResponseTemplate::new(400).set_body_json(plaid_error(
                        "TRANSACTIONS_ERROR",
                        "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
                    ))
                }
                None => {
                    return ResponseTemplate::new(400)
                        .set_body_json(plaid_error("INVALID_INPUT", "INVALID_CURSOR"))
                }
            },
        };
        let position = position.min(self.log.len());
        let end = (position + count).min(self.log.len());
        let account = body.pointer("/options/account_id").and_then(Value::as_str);
        let (mut added, mut modified, mut removed) = (vec![], vec![], vec![]);
        for change in &self.log[position..end] {
            match change {
                Change::Add(t) if account.is_none_or(|a| t["account_id"] == a) => {
                    added.push(t.clone())
                }
                Change::Modify(t) if account.is_none_or(|a| t["account_id"] == a) => {
                    modified.push(t.clone())
                }
                Change::Remove(id, acc) if account.is_none_or(|a| acc == a) => {
                    removed.push(json!({ "transaction_id": id, "account_id": acc }))
                }
                _ => {}
            }
        }
        let has_more = end < self.log.len();
        let next_cursor = if has_more {
            format!("m{end}.{}", self.generation)
        } else {
            format!("s{end}")
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "added": added, "modified": modified, "removed": removed, "accounts": [],
            "next_cursor": next_cursor, "has_more": has_more,
            "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE", "request_id": "sync-req",
        }))
    }
}

/// Every way a page can fail that a local HTTP server can produce (a connection closed
/// mid-body needs raw TCP: tests/faults.rs).
type Fault = (&'static str, fn() -> ResponseTemplate);
const FAULTS: &[Fault] = &[
    ("500", || {
        ResponseTemplate::new(500).set_body_json(plaid_error("API_ERROR", "INTERNAL_SERVER_ERROR"))
    }),
    ("502 html", || {
        ResponseTemplate::new(502).set_body_raw("<html><h1>Bad Gateway</h1></html>", "text/html")
    }),
    ("503", || ResponseTemplate::new(503)),
    ("429 retry-after", || {
        ResponseTemplate::new(429)
            .insert_header("retry-after", "0")
            .set_body_json(plaid_error("RATE_LIMIT_EXCEEDED", "RATE_LIMIT"))
    }),
    ("429", || {
        ResponseTemplate::new(429).set_body_json(plaid_error("RATE_LIMIT_EXCEEDED", "RATE_LIMIT"))
    }),
    ("truncated json", || {
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"added": [{"transaction_id": "#, "application/json")
    }),
    ("not json", || {
        ResponseTemplate::new(200).set_body_raw("upstream said no", "text/plain")
    }),
    ("wrong shape", || {
        ResponseTemplate::new(200).set_body_json(json!({ "added": "none", "has_more": "maybe" }))
    }),
    ("empty 200", || ResponseTemplate::new(200)),
    ("slower than the timeout", || {
        ResponseTemplate::new(200)
            .set_body_json(json!({}))
            .set_delay(Duration::from_millis(400))
    }),
];

impl Ledger {
    /// Checks that `store`, after applying `batch`, is exactly the ledger up to the batch's
    /// cursor (nothing lost, nothing doubled), and returns that position.
    fn assert_store_matches(
        &self,
        store: &BTreeMap<String, (f64, Option<String>)>,
        batch: &plaid_sdk::sync::SyncBatch,
        context: &str,
    ) -> usize {
        let (position, _) = parse_cursor(&batch.next_cursor).unwrap();
        assert_eq!(
            store,
            &replay(&self.log[..position]),
            "{context}: the store differs from the ledger"
        );
        position
    }
}

/// Applies a completed sync to the app's store, as an app does: upsert added and modified,
/// delete removed.
fn apply(store: &mut BTreeMap<String, (f64, Option<String>)>, batch: &plaid_sdk::sync::SyncBatch) {
    for t in batch.added.iter().chain(&batch.modified) {
        // Read through JSON: `name` is a `String` in specs before 1.697.4, an `Option` since
        // it became deprecated, and these tests run against both.
        let name = serde_json::to_value(&t.name)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        store.insert(t.transaction_id.clone(), (t.amount, name));
    }
    for id in batch.removed_ids() {
        store.remove(&id);
    }
}

fn plaid_error(error_type: &str, code: &str) -> Value {
    json!({ "error_type": error_type, "error_code": code, "error_message": "m", "display_message": null, "request_id": "e" })
}

/// `s12` (a stored, stable cursor) or `m12.3` (mid-loop, generation 3).
fn parse_cursor(c: &str) -> Option<(usize, Option<u64>)> {
    if let Some(pos) = c.strip_prefix('s') {
        return Some((pos.parse().ok()?, None));
    }
    let (pos, generation) = c.strip_prefix('m')?.split_once('.')?;
    Some((pos.parse().ok()?, Some(generation.parse().ok()?)))
}

/// The state a correct client holds after applying `log`: id -> (amount, name).
fn replay(log: &[Change]) -> BTreeMap<String, (f64, Option<String>)> {
    let mut state = BTreeMap::new();
    for change in log {
        match change {
            Change::Add(t) | Change::Modify(t) => {
                state.insert(
                    t["transaction_id"].as_str().unwrap().to_owned(),
                    (
                        t["amount"].as_f64().unwrap(),
                        t["name"].as_str().map(str::to_owned),
                    ),
                );
            }
            Change::Remove(id, _) => {
                state.remove(id);
            }
        }
    }
    state
}

async fn fake(ledger: Arc<Mutex<Ledger>>, route: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            ledger.lock().unwrap().respond(&body)
        })
        .mount(&server)
        .await;
    server
}

fn template() -> Value {
    let spec = common::load_spec();
    common::example_for(&spec, "/transactions/sync")["added"][0].clone()
}

fn client(server: &MockServer, attempts: u32) -> plaid_sdk::PlaidClient {
    common::builder(server)
        .retry_policy(common::fast_retries(attempts))
        .build()
        .unwrap()
}

fn sync() -> TransactionsSync {
    TransactionsSync::new(ACCESS_TOKEN)
        .restart_backoff(Duration::from_millis(1))
        .max_restarts(50)
}

#[tokio::test]
async fn nothing_is_lost_or_doubled_whatever_fails_over_many_seeds() {
    let template = template();
    let (mut total_restarts, mut total_pages) = (0, 0);
    for seed in 1..=60u64 {
        let ledger = Arc::new(Mutex::new(Ledger::new(seed, template.clone(), 4, 8)));
        let server = fake(ledger.clone(), "/transactions/sync").await;
        let client = client(&server, 2);
        let mut store: BTreeMap<String, (f64, Option<String>)> = BTreeMap::new();
        let mut cursor: Option<String> = None;
        // Small pages make long loops, which mutations interrupt more often.
        let count = 5 + seed % 9;
        for round in 0..4 {
            let outcome = client
                .transactions_sync_all(&sync().count(count as u32).cursor(cursor.clone()))
                .await
                .unwrap_or_else(|e| panic!("seed {seed} round {round}: {e}"));
            let SyncOutcome::Updated(batch) = outcome else {
                panic!("seed {seed}: not ready")
            };
            apply(&mut store, &batch);
            // Each transaction appears once in a batch.
            let mut ids: Vec<&str> = batch
                .added
                .iter()
                .chain(&batch.modified)
                .map(|t| t.transaction_id.as_str())
                .collect();
            let n = ids.len();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(
                ids.len(),
                n,
                "seed {seed} round {round}: a transaction twice in one batch"
            );

            let mut l = ledger.lock().unwrap();
            let position =
                l.assert_store_matches(&store, &batch, &format!("seed {seed} round {round}"));
            assert_eq!(
                batch.update_status,
                Some(UpdateStatus::HistoricalUpdateComplete)
            );
            total_restarts += batch.restarts;
            total_pages += batch.pages;
            l.committed = position;
            let more = 1 + l.rng.below(30) as usize;
            l.grow(more);
            cursor = Some(batch.next_cursor);
        }
    }
    assert!(
        total_restarts > 20,
        "the failures were exercised: {total_restarts} restarts"
    );
    assert!(total_pages > 500, "{total_pages} pages");
    eprintln!("{total_restarts} restarts over {total_pages} pages");
}

/// The same ledger under every fault at once, mixed with mutations: a call either completes
/// with exactly the ledger up to its cursor, or fails with a typed error and changes nothing;
/// after the faults stop, one more sync catches up exactly.
#[tokio::test]
async fn nothing_is_lost_or_doubled_under_any_mix_of_faults() {
    let template = template();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut served: BTreeMap<&'static str, usize> = BTreeMap::new();
    for seed in 1..=30u64 {
        let ledger = Arc::new(Mutex::new(Ledger::new(seed, template.clone(), 4, 0)));
        ledger.lock().unwrap().fault_percent = 12;
        let server = fake(ledger.clone(), "/transactions/sync").await;
        let client = common::builder(&server)
            .retry_policy(common::fast_retries(2))
            .timeout(Duration::from_millis(150))
            .build()
            .unwrap();
        let mut store: BTreeMap<String, (f64, Option<String>)> = BTreeMap::new();
        let mut cursor: Option<String> = None;
        let count = 5 + seed % 9;
        for round in 0..6 {
            if round == 5 {
                // The faults stop: the next sync must catch up with everything.
                let mut l = ledger.lock().unwrap();
                l.fault_percent = 0;
                l.mutation_percent = 0;
            }
            let result = client
                .transactions_sync_all(&sync().count(count as u32).cursor(cursor.clone()))
                .await;
            let batch = match result {
                Ok(SyncOutcome::Updated(batch)) => batch,
                Ok(SyncOutcome::NotReady(_)) => panic!("seed {seed}: not ready"),
                Err(e) => {
                    assert!(round < 5, "seed {seed}: failed without faults: {e}");
                    let kind = format!("{e:?}");
                    let kind = kind.split([' ', '(', '{']).next().unwrap_or("").to_owned();
                    *failures.entry(kind).or_default() += 1;
                    continue; // nothing applied, the stored cursor stays
                }
            };
            apply(&mut store, &batch);
            let mut l = ledger.lock().unwrap();
            let position =
                l.assert_store_matches(&store, &batch, &format!("seed {seed} round {round}"));
            if round == 5 {
                assert_eq!(position, l.log.len(), "seed {seed}: caught up");
            }
            l.committed = position;
            let more = 1 + l.rng.below(30) as usize;
            if round < 4 {
                l.grow(more);
            }
            cursor = Some(batch.next_cursor);
        }
        for (name, n) in &ledger.lock().unwrap().faults_served {
            *served.entry(name).or_default() += n;
        }
    }
    eprintln!("faults served: {served:?}; calls that failed: {failures:?}");
    assert_eq!(
        served.len(),
        FAULTS.len(),
        "every fault was served: {served:?}"
    );
    assert!(!failures.is_empty(), "some calls failed and were survived");
}

#[tokio::test]
async fn a_mutation_restarts_the_loop_from_its_first_cursor_and_counts_it() {
    let ledger = Arc::new(Mutex::new(Ledger::new(7, template(), 0, 0)));
    // Two mutations, injected when the client asks for its fourth page.
    let injected = Arc::new(Mutex::new(0));
    let hook = {
        let (ledger, injected) = (ledger.clone(), injected.clone());
        move |cursor: Option<&str>| {
            if cursor.is_some_and(|c| c.starts_with("m9.")) && *injected.lock().unwrap() < 2 {
                *injected.lock().unwrap() += 1;
                ledger.lock().unwrap().mutate(9);
            }
        }
    };
    let server = MockServer::start().await;
    let l2 = ledger.clone();
    Mock::given(method("POST"))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            hook(body.get("cursor").and_then(Value::as_str));
            l2.lock().unwrap().respond(&body)
        })
        .mount(&server)
        .await;
    let outcome = client(&server, 1)
        .transactions_sync_all(&sync().count(3))
        .await
        .unwrap();
    let batch = outcome.into_batch().unwrap();
    assert_eq!(batch.restarts, 2);
    let requests = server.received_requests().await.unwrap();
    let cursors: Vec<Option<String>> = requests
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body)
                .unwrap()
                .get("cursor")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        cursors.iter().filter(|c| c.is_none()).count(),
        3,
        "each restart starts from the loop's first (absent) cursor: {cursors:?}"
    );
}

#[tokio::test]
async fn the_stream_marks_pages_provisional_and_commits_once() {
    let ledger = Arc::new(Mutex::new(Ledger::new(11, template(), 0, 0)));
    let total = ledger.lock().unwrap().log.len();
    let server = fake(ledger.clone(), "/transactions/sync").await;
    let events = client(&server, 1).transactions_sync_stream(sync().count(10));
    let events: Vec<SyncEvent> = events.map(|e| e.unwrap()).collect().await;
    let pages = events
        .iter()
        .filter(|e| matches!(e, SyncEvent::Page(_)))
        .count();
    assert_eq!(pages, total.div_ceil(10));
    assert!(
        matches!(events.last(), Some(SyncEvent::Completed(c)) if c.pages as usize == pages && c.next_cursor == format!("s{total}"))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, SyncEvent::Completed(_)))
            .count(),
        1
    );
}

#[tokio::test]
async fn the_stream_says_when_to_discard_pages() {
    let ledger = Arc::new(Mutex::new(Ledger::new(5, template(), 0, 0)));
    let server = MockServer::start().await;
    let calls = Arc::new(Mutex::new(0));
    let (l, c) = (ledger.clone(), calls.clone());
    Mock::given(method("POST"))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let mut n = c.lock().unwrap();
            *n += 1;
            if *n == 3 {
                return ResponseTemplate::new(400).set_body_json(plaid_error(
                    "TRANSACTIONS_ERROR",
                    "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
                ));
            }
            l.lock().unwrap().respond(&body)
        })
        .mount(&server)
        .await;
    let events: Vec<SyncEvent> = client(&server, 1)
        .transactions_sync_stream(sync().count(5))
        .map(|e| e.unwrap())
        .collect()
        .await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            SyncEvent::Page(_) => "page",
            SyncEvent::Restarted { .. } => "restarted",
            SyncEvent::Completed(_) => "completed",
            _ => "other",
        })
        .collect();
    assert_eq!(
        &kinds[..4],
        ["page", "page", "restarted", "page"],
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"completed"));
    let SyncEvent::Restarted { restarts, cause } = &events[2] else {
        unreachable!()
    };
    assert_eq!(*restarts, 1);
    assert_eq!(
        cause.error_code(),
        Some(&ErrorCode::TransactionsSyncMutationDuringPagination)
    );
    let SyncEvent::Page(first_after) = &events[3] else {
        unreachable!()
    };
    assert_eq!(
        first_after.page, 1,
        "pages are numbered from 1 again after a restart"
    );
}

#[tokio::test]
async fn not_ready_is_reported_as_such() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "added": [], "modified": [], "removed": [], "accounts": [], "next_cursor": "",
            "has_more": false, "transactions_update_status": "NOT_READY", "request_id": "r",
        })))
        .mount(&server)
        .await;
    let outcome = client(&server, 1)
        .transactions_sync_all(&sync())
        .await
        .unwrap();
    let SyncOutcome::NotReady(not_ready) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(not_ready.update_status, Some(UpdateStatus::NotReady));
}

/// A 200 that is not a sync page (an empty object, or Plaid's error object sent with 200 by a
/// proxy) is an error, not "not ready": the app would wait for a webhook that never comes
/// (round 16: both were `SyncOutcome::NotReady`, with or without a stored cursor).
#[tokio::test]
async fn a_200_that_is_not_a_page_is_an_error_not_not_ready() {
    for (name, body) in [
        ("empty object", json!({})),
        (
            "error object",
            plaid_error("API_ERROR", "INTERNAL_SERVER_ERROR"),
        ),
        (
            "null cursor",
            json!({ "next_cursor": null, "has_more": false }),
        ),
    ] {
        for cursor in [None, Some("s3")] {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
                .mount(&server)
                .await;
            let mut request = sync();
            if let Some(cursor) = cursor {
                request = request.cursor(Some(cursor.to_owned()));
            }
            let outcome = client(&server, 1).transactions_sync_all(&request).await;
            assert!(
                matches!(outcome, Err(Error::Decode { .. })),
                "{name}, cursor {cursor:?}: {outcome:?}"
            );
        }
    }
}

#[tokio::test]
async fn one_account_at_a_time() {
    let ledger = Arc::new(Mutex::new(Ledger::new(3, template(), 0, 0)));
    let server = fake(ledger.clone(), "/transactions/sync").await;
    let batch = client(&server, 1)
        .transactions_sync_all(&sync().account_id("acc-checking"))
        .await
        .unwrap()
        .into_batch()
        .unwrap();
    assert!(batch
        .added
        .iter()
        .chain(&batch.modified)
        .all(|t| t.account_id == "acc-checking"));
    assert!(ledger
        .lock()
        .unwrap()
        .accounts_seen
        .iter()
        .all(|a| a.as_deref() == Some("acc-checking")));
}

#[tokio::test]
async fn the_processor_variant_uses_its_own_endpoint_and_token() {
    let ledger = Arc::new(Mutex::new(Ledger::new(9, template(), 0, 0)));
    let server = fake(ledger.clone(), "/processor/transactions/sync").await;
    let sync =
        TransactionsSync::processor(ProcessorToken::new("processor-sandbox-0asd1-a92nc")).count(50);
    let batch = client(&server, 1)
        .transactions_sync_all(&sync)
        .await
        .unwrap()
        .into_batch()
        .unwrap();
    assert_eq!(
        batch.added.len() + batch.modified.len(),
        replay(&ledger.lock().unwrap().log).len()
    );
    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["processor_token"], "processor-sandbox-0asd1-a92nc");
}

#[tokio::test]
async fn restarts_are_bounded() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(plaid_error(
            "TRANSACTIONS_ERROR",
            "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
        )))
        .mount(&server)
        .await;
    let e = client(&server, 1)
        .transactions_sync_all(&sync().max_restarts(3))
        .await
        .unwrap_err();
    let Error::SyncRestarts {
        restarts, source, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*restarts, 3);
    assert_eq!(
        source.error_code(),
        Some(&ErrorCode::TransactionsSyncMutationDuringPagination)
    );
    // The data kept changing: the loop may pass later, so the error says to try again.
    assert!(!source.is_retryable());
    assert!(e.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn errors_that_a_restart_cannot_fix_are_returned_as_they_came() {
    // A login to repair, and a bank that is down: `INSTITUTION_DOWN` is retryable (later),
    // but a restart a moment later would fail the same way.
    for (error_type, code, expected) in [
        (
            "ITEM_ERROR",
            "ITEM_LOGIN_REQUIRED",
            ErrorCode::ItemLoginRequired,
        ),
        (
            "INSTITUTION_ERROR",
            "INSTITUTION_DOWN",
            ErrorCode::InstitutionDown,
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(plaid_error(error_type, code)))
            .mount(&server)
            .await;
        let e = client(&server, 1)
            .transactions_sync_all(&sync())
            .await
            .unwrap_err();
        assert_eq!(e.error_code(), Some(&expected));
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{code}");
    }
}

/// The error a sync against `server` ends with, which must come within 10 s.
async fn sync_error_within_10s(server: &MockServer) -> Error {
    tokio::time::timeout(
        Duration::from_secs(10),
        client(server, 1).transactions_sync_all(&sync()),
    )
    .await
    .expect("the sync ends within 10 s")
    .unwrap_err()
}

#[tokio::test]
async fn a_server_that_repeats_a_cursor_ends_the_loop_with_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "added": [], "modified": [], "removed": [], "next_cursor": "same", "has_more": true, "request_id": "r",
        })))
        .mount(&server)
        .await;
    let e = sync_error_within_10s(&server).await;
    assert!(
        matches!(&e, Error::Pagination { reason, .. } if reason.contains("repeated a cursor")),
        "{e}"
    );
}

#[tokio::test]
async fn bad_settings_are_rejected_before_sending() {
    let server = MockServer::start().await;
    let e = client(&server, 1)
        .transactions_sync_all(&sync().count(0))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { message, .. } if message.contains("count")),
        "{e}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// MED (review round 10): a page that failed with a transient error made the whole loop start
/// over from its first cursor, so under Plaid's rate limit (50 `/transactions/sync` calls a
/// minute per Item) a loop longer than the limit never finished. Here every fourth call is
/// `TRANSACTIONS_SYNC_LIMIT`: a 20-page loop completes, asking again only for the pages that
/// failed, and never starts over.
#[tokio::test]
async fn a_rate_limited_page_is_asked_for_again_and_the_loop_goes_on() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const PAGES: usize = 20;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let txn = template();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/transactions/sync"))
        .respond_with(move |request: &Request| {
            if counter.fetch_add(1, Ordering::SeqCst) % 4 == 3 {
                return ResponseTemplate::new(429).set_body_json(plaid_error(
                    "RATE_LIMIT_EXCEEDED",
                    "TRANSACTIONS_SYNC_LIMIT",
                ));
            }
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let page: usize = body["cursor"]
                .as_str()
                .and_then(|c| c.strip_prefix('p'))
                .map_or(0, |n| n.parse().unwrap());
            let mut added = txn.clone();
            added["transaction_id"] = json!(format!("t{page}"));
            ResponseTemplate::new(200).set_body_json(json!({
                "added": [added], "modified": [], "removed": [], "accounts": [],
                "next_cursor": format!("p{}", page + 1), "has_more": page + 1 < PAGES,
                "request_id": "r",
            }))
        })
        .mount(&server)
        .await;
    let batch = client(&server, 1)
        .transactions_sync_all(&sync().count(1).max_restarts(3))
        .await
        .unwrap()
        .into_batch()
        .unwrap();
    let ids: Vec<&str> = batch
        .added
        .iter()
        .map(|t| t.transaction_id.as_str())
        .collect();
    let expected: Vec<String> = (0..PAGES).map(|n| format!("t{n}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(batch.next_cursor, format!("p{PAGES}"));
    assert_eq!((batch.pages, batch.restarts), (PAGES as u32, 0));
    // One call in four failed and was made again; no page was fetched twice otherwise.
    let failed = PAGES.div_ceil(3) - 1;
    assert_eq!(batch.retries as usize, failed);
    assert_eq!(calls.load(Ordering::SeqCst), PAGES + failed);
}

/// A page that keeps failing ends the sync with its own error after `max_retries` more tries,
/// and the wait between tries comes from the client's retry policy unless set.
#[tokio::test]
async fn a_page_that_keeps_failing_ends_the_sync_with_its_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(plaid_error("API_ERROR", "INTERNAL_SERVER_ERROR")),
        )
        .mount(&server)
        .await;
    // No `restart_backoff`: twice the client's 1 ms initial backoff, doubling.
    let started = std::time::Instant::now();
    let e = client(&server, 1)
        .transactions_sync_all(&TransactionsSync::new(ACCESS_TOKEN).max_retries(3))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        e.error_code(),
        Some(&ErrorCode::InternalServerError),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

/// Asking again for a failed page is a retry, paid from the client's budget: ten syncs in an
/// outage, with one retry's worth of tokens, send one retry between them, not eight each.
#[tokio::test]
async fn a_syncs_asks_again_are_paid_from_the_clients_retry_budget() {
    let server = common::answering(
        ResponseTemplate::new(503).set_body_json(plaid_error("API_ERROR", "INTERNAL_SERVER_ERROR")),
    )
    .await;
    let client = common::builder(&server)
        .retry_policy(
            common::fast_retries(2).retry_budget(plaid_sdk::RetryBudget::default().capacity(5)),
        )
        .build()
        .unwrap();
    let sync = sync();
    let results =
        futures_util::future::join_all((0..10).map(|_| client.transactions_sync_all(&sync))).await;
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert_eq!(
            e.error_code(),
            Some(&ErrorCode::InternalServerError),
            "{e:?}"
        );
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        10 + 1,
        "ten first asks and the budget's one retry"
    );
}

/// A `Retry-After` longer than the client waits for ends the sync with the error at once,
/// as it ends the client's own retries: asking sooner than Plaid said would be refused again.
#[tokio::test]
async fn a_retry_after_longer_than_the_client_waits_ends_the_sync() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .set_body_json(plaid_error(
                    "RATE_LIMIT_EXCEEDED",
                    "TRANSACTIONS_SYNC_LIMIT",
                )),
        )
        .mount(&server)
        .await;
    let e = sync_error_within_10s(&server).await;
    assert_eq!(e.error_code(), Some(&ErrorCode::TransactionsSyncLimit));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// LOW (review round 20): an `option` whose value cannot be JSON (a map with keys that are not
/// strings) was sent as `null`, silently. The sync now fails before sending anything, naming
/// the option.
#[tokio::test]
async fn an_option_that_cannot_be_json_fails_the_sync_before_sending() {
    let server = MockServer::start().await;
    let client = common::client(&server);
    let bad: BTreeMap<Vec<u8>, u8> = BTreeMap::from([(vec![1], 1)]);
    let e = client
        .transactions_sync_all(
            &TransactionsSync::new(plaid_sdk::AccessToken::new(ACCESS_TOKEN))
                .option("include_original_description", true)
                .option("days_requested", bad),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { message, .. } if message.contains("days_requested")),
        "{e:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
