//! The whole first-run flow: create an Item without Link, exchange its public token, list its
//! accounts and balances, sync every transaction and summarize them.
//!
//! ```text
//! cargo run --example quickstart          # offline sandbox, no keys
//! PLAID_CLIENT_ID=… PLAID_SECRET=… cargo run --example quickstart
//! ```
//!
//! With `PLAID_CLIENT_ID` and `PLAID_SECRET` set it talks to Plaid (`PLAID_ENV`: `sandbox` by
//! default, or a base URL). With none of the three set it starts the offline sandbox
//! (`plaid_sandbox`) in this process, and says so; with only some, it says what is missing.

use plaid_sandbox::Sandbox;
use plaid_sdk::sync::{SyncOutcome, TransactionsSync};
use plaid_sdk::types::{AccountsBalanceGetRequest, Products};
use plaid_sdk::{Error, PlaidClient};
use std::collections::BTreeMap;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end: the offline sandbox stops when dropped.
    let mut _sandbox = None;
    let client = match PlaidClient::from_env() {
        Ok(client) => {
            println!("Using Plaid at {}", client.base_url());
            client
        }
        Err(Error::Config(reason)) if plaid_sandbox::env_names_no_plaid() => {
            let sandbox = Sandbox::start().await;
            println!("No Plaid keys ({reason}).");
            println!(
                "Using the offline sandbox at {}: fake data, no network.",
                sandbox.uri()
            );
            let client = sandbox.client();
            _sandbox = Some(sandbox);
            client
        }
        Err(e) => return Err(e.into()),
    };

    // 1. An Item without Link (sandbox only): First Platypus Bank, with Transactions. The
    //    public token becomes a long-lived access token, redacted whenever it is printed
    //    (its Debug; it has no Display). An app stores `expose_secret()`, encrypted.
    let item = client
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await?;
    println!(
        "\nItem {} linked, access token {:?}",
        item.item_id, item.access_token
    );

    // 2. Accounts with live balances.
    let balances = client
        .accounts_balance_get(&AccountsBalanceGetRequest::new(item.access_token.clone()))
        .await?;
    println!("\n{} accounts:", balances.accounts.len());
    for a in &balances.accounts {
        let money =
            |v: Option<f64>| v.map_or_else(|| "       n/a".into(), |b| format!("{b:>10.2}"));
        println!(
            "  {:<20} {:<12} current {} available {} {}",
            a.name,
            a.subtype.as_ref().map_or("", |s| s.as_str()),
            money(a.balances.current),
            money(a.balances.available),
            a.balances.iso_currency_code.as_deref().unwrap_or("")
        );
    }

    // 3. Every transaction: the driver pages, restarts if the data changes under it, and
    //    hands back one batch and the cursor to store. A brand-new Item at Plaid may not be
    //    ready for a few seconds: NotReady says so, rather than an empty success.
    let sync = TransactionsSync::new(item.access_token.clone()).count(500);
    let mut waited = 0;
    let batch = loop {
        match client.transactions_sync_all(&sync).await? {
            SyncOutcome::Updated(batch) => break batch,
            SyncOutcome::NotReady(_) if waited < 30 => {
                waited += 2;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            SyncOutcome::NotReady(_) => {
                return Err("transactions still not ready after 30 s".into())
            }
        }
    };
    println!(
        "\nTransactions: {} added, {} modified, {} removed in {} page(s); cursor stored: {} chars",
        batch.added.len(),
        batch.modified.len(),
        batch.removed.len(),
        batch.pages,
        batch.next_cursor.len()
    );

    // 4. A short summary: spending by category (amounts are positive for money out; card
    //    payments and transfers move money between accounts and are not spending), and the
    //    latest few transactions.
    let mut by_category: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for t in batch.added.iter().filter(|t| t.amount > 0.0) {
        let category = t
            .personal_finance_category
            .as_ref()
            .map_or("UNCATEGORIZED".to_owned(), |c| c.primary.clone());
        if category == "LOAN_PAYMENTS" || category.starts_with("TRANSFER") {
            continue;
        }
        let slot = by_category.entry(category).or_default();
        slot.0 += 1;
        slot.1 += t.amount;
    }
    let mut rows: Vec<_> = by_category.into_iter().collect();
    rows.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
    println!("\nSpending by category:");
    for (category, (count, total)) in rows.iter().take(8) {
        println!("  {category:<24} {count:>4} × {total:>10.2}");
    }

    let mut latest: Vec<_> = batch.added.iter().collect();
    latest.sort_by_key(|t| std::cmp::Reverse(t.date));
    println!("\nLatest transactions:");
    for t in latest.iter().take(5) {
        println!(
            "  {} {:<30} {:>9.2} {}{}",
            t.date,
            t.merchant_name
                .as_deref()
                .or(t.name.as_deref())
                .unwrap_or(""),
            t.amount,
            t.iso_currency_code.as_deref().unwrap_or(""),
            if t.pending { "  (pending)" } else { "" }
        );
    }
    Ok(())
}
