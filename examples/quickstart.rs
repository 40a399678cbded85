//! The whole first-run flow: create an Item without Link, exchange its public token, list its
//! accounts and sync its transactions.
//!
//! ```text
//! cargo run --example quickstart                   # no credentials: a local server, offline
//! PLAID_CLIENT_ID=… PLAID_SECRET=… cargo run --example quickstart   # Plaid's sandbox
//! ```
//!
//! With `PLAID_CLIENT_ID` and `PLAID_SECRET` set it talks to Plaid (`PLAID_ENV`: `sandbox` by
//! default, or a base URL). Without them it starts a local server that answers with the
//! example responses from the spec this crate was built from, and says so.

use plaid_sdk::types::{
    AccountsGetRequest, ItemPublicTokenExchangeRequest, Products, SandboxPublicTokenCreateRequest,
    TransactionsSyncRequest,
};
use plaid_sdk::{Error, PlaidClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = match PlaidClient::from_env() {
        Ok(client) => {
            println!("Using Plaid at {}", client.base_url());
            (client, None)
        }
        Err(Error::Config(reason)) if std::env::var_os("PLAID_CLIENT_ID").is_none() => {
            let server = local::start().await?;
            println!("No PLAID_CLIENT_ID/PLAID_SECRET ({reason}):");
            println!(
                "using a local server at {} that answers with the spec's examples.",
                server.uri()
            );
            let client = PlaidClient::builder()
                .client_id("local-client-id")
                .secret("local-secret")
                .base_url(server.uri())
                .build()?;
            (client, Some(server))
        }
        Err(e) => return Err(e.into()),
    };

    // 1. An Item without Link (sandbox only): First Platypus Bank, with Transactions.
    let created = client
        .sandbox_public_token_create(&SandboxPublicTokenCreateRequest::new(
            "ins_109508",
            vec![Products::Transactions],
        ))
        .await?;

    // 2. The public token becomes a long-lived access token (redacted when printed).
    let exchanged = client
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(created.public_token))
        .await?;
    let token = exchanged.access_token;
    println!("\nItem {} linked, access token {token}", exchanged.item_id);

    // 3. Accounts and balances.
    let accounts = client
        .accounts_get(&AccountsGetRequest::new(token.clone()))
        .await?;
    println!("\n{} accounts:", accounts.accounts.len());
    for a in &accounts.accounts {
        let balance = a
            .balances
            .current
            .map(|b| format!("{b:>10.2}"))
            .unwrap_or_else(|| "       n/a".into());
        println!(
            "  {:<28} {:<12} {balance} {}",
            a.name,
            a.type_.as_str(),
            a.balances.iso_currency_code.as_deref().unwrap_or("")
        );
    }

    // 4. Every transaction, page by page. (In Plaid's sandbox a new Item may need a few
    //    seconds before transactions are ready; an empty first page means "not yet".)
    let mut cursor = None;
    let (mut added, mut modified, mut removed) = (Vec::new(), 0, 0);
    loop {
        let page = client
            .transactions_sync(&TransactionsSyncRequest {
                cursor: cursor.clone(),
                count: Some(500),
                ..TransactionsSyncRequest::new(token.clone())
            })
            .await?;
        added.extend(page.added);
        modified += page.modified.len();
        removed += page.removed.len();
        cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    println!(
        "\nTransactions: {} added, {modified} modified, {removed} removed",
        added.len()
    );
    for t in added.iter().take(5) {
        println!(
            "  {} {:<32} {:>9.2} {}",
            t.date,
            t.name,
            t.amount,
            t.iso_currency_code.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// A local stand-in for Plaid that answers the four calls above with the spec's examples.
mod local {
    use serde_json::Value;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    pub async fn start() -> Result<MockServer, Box<dyn std::error::Error>> {
        let spec_path = std::env::var("PLAID_OPENAPI_SPEC")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/spec/plaid.yml").to_owned());
        let spec: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&spec_path)?)?;
        let server = MockServer::start().await;
        for route in [
            "/sandbox/public_token/create",
            "/item/public_token/exchange",
            "/accounts/get",
            "/transactions/sync",
        ] {
            let media =
                &spec["paths"][route]["post"]["responses"]["200"]["content"]["application/json"];
            let mut example = media
                .get("example")
                .cloned()
                .or_else(|| {
                    media["examples"]
                        .as_object()?
                        .values()
                        .next()?
                        .get("value")
                        .cloned()
                })
                .ok_or_else(|| format!("the spec has no example for {route}"))?;
            if route == "/transactions/sync" {
                example["has_more"] = Value::Bool(false);
            }
            Mock::given(method("POST"))
                .and(path(route))
                .respond_with(ResponseTemplate::new(200).set_body_json(example))
                .mount(&server)
                .await;
        }
        Ok(server)
    }
}
