//! What the benches share: a `/transactions/sync` page built from the spec's own example, and
//! the timing helpers. Each bench uses part of it.

#![allow(dead_code)]

#[path = "../../tests/common/mod.rs"]
mod common;

use bytes::Bytes;
use serde_json::Value;
use std::time::Instant;

/// Transactions in the parsed page.
pub const PAGE: usize = 500;

// ---------------------------------------------------------------------------------------------
// The data: the spec's example, scaled.

/// The spec's example transaction and accounts.
pub struct Fixtures {
    pub transaction: Value,
    pub accounts: Value,
    pub accounts_get: Value,
}

/// Reads them from the spec the crate was built from.
pub fn fixtures() -> Fixtures {
    let spec = common::load_spec();
    let sync = common::example_for(&spec, "/transactions/sync");
    let accounts_get = common::example_for(&spec, "/accounts/get");
    // Older specs' sync example has no `accounts`: take them from /accounts/get.
    let accounts = match &sync["accounts"] {
        Value::Array(a) if !a.is_empty() => sync["accounts"].clone(),
        _ => accounts_get["accounts"].clone(),
    };
    Fixtures {
        transaction: sync["added"][0].clone(),
        accounts,
        accounts_get,
    }
}

/// Transaction `i` of the ledger, as Plaid writes it (indented).
pub fn transaction(template: &Value, i: usize) -> Vec<u8> {
    let mut t = template.clone();
    t["transaction_id"] = format!("txn-{i:08}-lPNjeW1nR6CDn5okmGQ6hEpMo4lLNoSrzqDje").into();
    t["amount"] = ((i % 9_973) as f64 / 100.0 + 1.0).into();
    t["date"] = format!("2025-{:02}-{:02}", 1 + i % 12, 1 + i % 28).into();
    t["name"] = format!("Merchant {} purchase", i % 317).into();
    serde_json::to_vec_pretty(&t).expect("serialize")
}

/// One `/transactions/sync` page of `transactions[from..to]`.
pub fn page(transactions: &[Vec<u8>], accounts: &[u8], from: usize, to: usize) -> Vec<u8> {
    let total = transactions.len();
    let mut out =
        Vec::with_capacity(transactions[from..to].iter().map(Vec::len).sum::<usize>() + 4096);
    out.extend_from_slice(b"{\n  \"accounts\": ");
    out.extend_from_slice(accounts);
    out.extend_from_slice(b",\n  \"added\": [\n");
    for (k, t) in transactions[from..to].iter().enumerate() {
        if k > 0 {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(t);
    }
    out.extend_from_slice(b"\n  ],\n  \"modified\": [],\n  \"removed\": [],\n");
    let has_more = to < total;
    out.extend_from_slice(
        format!(
            "  \"has_more\": {has_more},\n  \"next_cursor\": \"c{to}\",\n  \"request_id\": \"bench-{from}\",\n  \"transactions_update_status\": \"HISTORICAL_UPDATE_COMPLETE\"\n}}"
        )
        .as_bytes(),
    );
    out
}

/// A page of [`PAGE`] transactions, with the accounts of the example.
pub fn sync_page_body() -> Bytes {
    let fx = fixtures();
    let transactions: Vec<Vec<u8>> = (0..PAGE).map(|i| transaction(&fx.transaction, i)).collect();
    let accounts = serde_json::to_vec_pretty(&fx.accounts).expect("accounts");
    Bytes::from(page(&transactions, &accounts, 0, PAGE))
}

/// Median time of `f` in ms over `runs`; what `f` returns is dropped after the clock stops
/// (dropping a parsed page is timed on its own).
pub fn median_ms<T>(mut f: impl FnMut() -> T, runs: usize) -> f64 {
    drop(f()); // warm up
    median((0..runs).map(|_| time_ms(&mut f)).collect())
}

/// Times `floor` and `typed` in alternation, one call of each per run, so that both see the
/// same moments of a machine whose speed drifts (two medians taken a second apart put the same
/// build anywhere from 22 % to 54 % of the floor in one morning here). Returns the median time of each in
/// ms and the median of the per-run ratios floor / typed. What each call returns is dropped
/// after its clock stops.
pub fn paired<A, B>(
    mut floor: impl FnMut() -> A,
    mut typed: impl FnMut() -> B,
    runs: usize,
) -> Paired {
    drop((floor(), typed())); // warm up
    let (mut f, mut t, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let a = time_ms(&mut floor);
        let b = time_ms(&mut typed);
        f.push(a);
        t.push(b);
        r.push(a / b);
    }
    Paired {
        floor_ms: median(f),
        typed_ms: median(t),
        ratio: median(r),
    }
}

/// What [`paired`] measured.
pub struct Paired {
    /// Median time of the floor, ms.
    pub floor_ms: f64,
    /// Median time of the typed call, ms.
    pub typed_ms: f64,
    /// Median of the per-run floor / typed ratios.
    pub ratio: f64,
}

/// The median of `v` (its upper median when the length is even).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Time of one call of `f` in ms; what it returns is dropped after the clock stops.
pub fn time_ms<T>(f: impl FnOnce() -> T) -> f64 {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed().as_secs_f64() * 1e3;
    drop(out);
    elapsed
}
