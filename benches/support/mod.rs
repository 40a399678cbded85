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
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = f();
            let elapsed = start.elapsed().as_secs_f64() * 1e3;
            drop(out);
            elapsed
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[runs / 2]
}

/// The median over `runs` of `floor` time / `typed` time, each run timing one call of each
/// back to back, so that both see the same moment of a machine whose speed drifts. (Two
/// medians taken a second apart can put the same code anywhere from 30 % to 45 % of the
/// floor here.) What each call returns is dropped after its clock stops.
pub fn paired_ratio<A, B>(
    mut floor: impl FnMut() -> A,
    mut typed: impl FnMut() -> B,
    runs: usize,
) -> f64 {
    drop((floor(), typed())); // warm up
    let mut ratios: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let a = floor();
            let f = start.elapsed().as_secs_f64();
            drop(a);
            let start = Instant::now();
            let b = typed();
            let t = start.elapsed().as_secs_f64();
            drop(b);
            f / t
        })
        .collect();
    ratios.sort_by(|a, b| a.total_cmp(b));
    ratios[runs / 2]
}
