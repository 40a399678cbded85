//! Incremental sync: the cursor and the transactions it covers are saved to a file, together,
//! after each completed loop; the next run asks only for what changed since.
//!
//! ```text
//! cargo run --example transactions_sync     # run it a few times
//! cargo run --example transactions_sync -- --reset
//! ```
//!
//! The state file is `SYNC_STATE` (default: `plaid-transactions-sync.json` in the system's
//! temporary directory). With `PLAID_CLIENT_ID`/`PLAID_SECRET` set, the first run links a
//! sandbox Item at Plaid and later runs reuse it. With none of them (nor `PLAID_ENV`) each run
//! starts the offline sandbox with a fixed seed, so it hands out the same Item again, and moves
//! its data one day forward per run: new purchases, pending transactions posting, corrections.
//!
//! A real app keeps the access token in its database, encrypted, never in a plain file; the
//! file here is owner-only and holds a sandbox token.

use plaid_sandbox::Sandbox;
use plaid_sdk::sync::{SyncOutcome, TransactionsSync};
use plaid_sdk::types::Products;
use plaid_sdk::{AccessToken, Error, PlaidClient};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What is saved between runs. The cursor and the transactions are written in one file, so
/// they can never disagree: a cursor without its changes would skip them forever.
#[derive(Default, Serialize, Deserialize)]
struct Saved {
    /// Offline runs: the sandbox's fixed "today" and how many runs so far.
    offline_day: Option<chrono::NaiveDate>,
    runs: u32,
    access_token: Option<String>,
    cursor: Option<String>,
    /// Transactions by id: (date, description, amount, pending).
    transactions: BTreeMap<String, (String, String, f64, bool)>,
}

fn state_path() -> PathBuf {
    std::env::var_os("SYNC_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("plaid-transactions-sync.json"))
}

fn save(path: &PathBuf, saved: &Saved) -> std::io::Result<()> {
    // Write a new file and rename it over the old one: a crash leaves one or the other.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(saved)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(tmp, path)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = state_path();
    if std::env::args().any(|a| a == "--reset") {
        let _ = std::fs::remove_file(&path);
        println!("Removed {}", path.display());
        return Ok(());
    }
    let mut saved: Saved = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => Saved::default(),
    };
    saved.runs += 1;
    println!("Run {} (state in {})", saved.runs, path.display());

    let mut _sandbox = None;
    let (client, access_token) = match PlaidClient::from_env() {
        Ok(client) => {
            if saved.offline_day.is_some() {
                // The saved state came from the offline sandbox: start over at Plaid.
                saved = Saved {
                    runs: 1,
                    ..Saved::default()
                };
            }
            let token = match &saved.access_token {
                Some(token) => AccessToken::new(token.clone()),
                None => {
                    let item = client
                        .sandbox_link_item("ins_109508", [Products::Transactions])
                        .await?;
                    println!("Linked a new sandbox Item {}", item.item_id);
                    item.access_token
                }
            };
            (client, token)
        }
        Err(Error::Config(_)) if plaid_sandbox::env_names_no_plaid() => {
            // The same seed and "today" give the same Item, ledger and cursors every run;
            // each run then moves the data forward one more day.
            let today = *saved
                .offline_day
                .get_or_insert_with(|| chrono::Utc::now().date_naive());
            let sandbox = Sandbox::builder().seed(7).today(today).start().await;
            let client = sandbox.client();
            let item = client
                .sandbox_link_item("ins_109508", [Products::Transactions])
                .await?;
            let changes = sandbox.advance_days(&item.item_id, saved.runs - 1)?;
            println!(
                "Offline sandbox: {} day(s) after the first run, {changes} change(s) at the bank",
                saved.runs - 1
            );
            _sandbox = Some(sandbox);
            (client, item.access_token)
        }
        Err(e) => return Err(e.into()),
    };

    let sync = TransactionsSync::new(access_token.clone())
        .cursor(saved.cursor.clone())
        .count(500);
    let batch = match client.transactions_sync_all(&sync).await? {
        SyncOutcome::Updated(batch) => batch,
        SyncOutcome::NotReady(_) => {
            println!("Plaid has no transactions for this Item yet; run again in a few seconds.");
            return Ok(());
        }
    };
    for t in batch.added.iter().chain(&batch.modified) {
        saved.transactions.insert(
            t.transaction_id.clone(),
            (
                t.date.to_string(),
                t.merchant_name
                    .clone()
                    .or_else(|| t.name.clone())
                    .unwrap_or_default(),
                t.amount,
                t.pending,
            ),
        );
    }
    for id in batch.removed_ids() {
        saved.transactions.remove(&id);
    }
    println!(
        "{} cursor: {} added, {} modified, {} removed ({} page(s), {} restart(s))",
        if saved.cursor.is_some() {
            "From the saved"
        } else {
            "Full history, no"
        },
        batch.added.len(),
        batch.modified.len(),
        batch.removed.len(),
        batch.pages,
        batch.restarts
    );
    saved.cursor = Some(batch.next_cursor);
    saved.access_token = Some(access_token.expose_secret().to_owned());
    save(&path, &saved)?;

    let pending = saved.transactions.values().filter(|t| t.3).count();
    println!(
        "Stored: {} transactions ({pending} pending). Run again for the next day's changes.",
        saved.transactions.len()
    );
    Ok(())
}
