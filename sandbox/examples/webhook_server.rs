//! A webhook endpoint on axum that verifies Plaid's signature and dispatches typed events.
//!
//! ```text
//! cargo run --example webhook_server
//! ```
//!
//! The one thing to get right with any framework: verify the body **exactly as received**.
//! Plaid signs the SHA-256 of its own bytes; take the body as `Bytes` (not `Json<…>`, which
//! parses and would have to re-serialize), hand those bytes to the verifier, and only use the
//! event it returns.
//!
//! With `PLAID_CLIENT_ID`/`PLAID_SECRET` set it listens on `PORT` (default 8000) for real
//! webhooks (expose it with a tunnel and set it as your Items' webhook URL). With none of them
//! (nor `PLAID_ENV`) it runs offline: the offline sandbox links an Item with this endpoint as its webhook URL and
//! fires webhooks at it, signed like Plaid's; then a tampered and an unsigned one are posted,
//! and it prints what the endpoint answered to each.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use plaid_sdk::webhook::{WebhookError, WebhookEvent, WebhookVerifier};
use plaid_sdk::PlaidClient;

/// POST /plaid/webhook
async fn webhook(
    State(verifier): State<WebhookVerifier>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let event = match verifier.verify(&headers, &body).await {
        Ok(event) => event,
        // A key we could not fetch (or did not fetch yet, to stay within the fetch budget) is
        // our problem: 500 makes Plaid try again later.
        Err(e @ (WebhookError::KeyFetch(_) | WebhookError::KeyFetchLimited { .. })) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, format!("try again: {e}"))
        }
        // Anything else is not from Plaid (or was tampered with). Never log the token or body.
        Err(e) => return (StatusCode::UNAUTHORIZED, format!("rejected: {e}")),
    };
    let what = match &event {
        WebhookEvent::SyncUpdatesAvailable(hook) => {
            format!("sync transactions for item {}", hook.item_id)
        }
        WebhookEvent::ItemError(hook) => format!(
            "item {} has an error: {:?}",
            hook.item_id,
            hook.error.as_ref().map(|e| &e.error_code)
        ),
        WebhookEvent::PendingExpiration(hook) => format!(
            "item {} consent expires {}",
            hook.item_id, hook.consent_expiration_time
        ),
        WebhookEvent::NewAccountsAvailable(hook) => format!(
            "item {} has new accounts to share",
            hook.item_id.as_deref().unwrap_or("?")
        ),
        other => format!("{:?} received", other.kind()),
    };
    // Answer quickly (Plaid expects a 200 within seconds); do the work in the background.
    println!("  endpoint: {what}");
    (StatusCode::OK, what)
}

fn app(verifier: WebhookVerifier) -> Router {
    Router::new()
        .route("/plaid/webhook", post(webhook))
        .with_state(verifier)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if plaid_sandbox::env_names_no_plaid() {
        return offline().await;
    }
    match PlaidClient::from_env() {
        Ok(client) => {
            let port = std::env::var("PORT").unwrap_or_else(|_| "8000".into());
            let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
            println!(
                "Listening for Plaid webhooks on http://{}/plaid/webhook",
                listener.local_addr()?
            );
            axum::serve(listener, app(WebhookVerifier::new(client))).await?;
            Ok(())
        }
        // Half the settings is a mistake to fix, not a reason to play Plaid offline.
        Err(e) => Err(e.into()),
    }
}

/// Plays Plaid locally: the offline sandbox sends its signed webhooks to the app, then a
/// tampered and an unsigned one show what the endpoint refuses.
async fn offline() -> Result<(), Box<dyn std::error::Error>> {
    use plaid_sandbox::Sandbox;
    use plaid_sdk::types::{
        CountryCode, ItemPublicTokenExchangeRequest, LinkTokenCreateRequest,
        LinkTokenCreateRequestUser, Products, SandboxItemResetLoginRequest,
    };

    let sandbox = Sandbox::start().await;
    let client = sandbox.client();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/plaid/webhook", listener.local_addr()?);
    let verifier = WebhookVerifier::new(client.clone());
    tokio::spawn(async move { axum::serve(listener, app(verifier)).await });
    println!("No PLAID_CLIENT_ID/PLAID_SECRET: the offline sandbox plays Plaid.");
    println!("Webhook endpoint: {url}\n");

    // An Item whose webhooks go to the endpoint (Plaid sends INITIAL_UPDATE and
    // HISTORICAL_UPDATE once it has pulled its transactions), then three more: two fired the
    // sandbox way, and the one a login reset sends.
    let link = client
        .link_token_create(
            &LinkTokenCreateRequest::new(
                "Webhook demo",
                "en",
                vec![CountryCode::Us],
                LinkTokenCreateRequestUser::new("user-1"),
            )
            .products([Products::Transactions])
            .webhook(url.clone()),
        )
        .await?;
    let item = client
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(
            sandbox.complete_link(&link.link_token, "ins_109508")?,
        ))
        .await?;
    for code in ["SYNC_UPDATES_AVAILABLE", "NEW_ACCOUNTS_AVAILABLE"] {
        client
            .sandbox_fire_webhook(&item.access_token, code)
            .await?;
    }
    client
        .sandbox_item_reset_login(&SandboxItemResetLoginRequest::new(
            item.access_token.clone(),
        ))
        .await?;
    let sent = sandbox.wait_for_webhooks(5).await;
    let answers: Vec<String> = sent
        .iter()
        .map(|w| w.status.map_or("none".into(), |s| s.to_string()))
        .collect();
    println!(
        "The sandbox sent {} webhooks; the endpoint answered {answers:?}",
        sent.len()
    );
    // CI runs this example: it fails unless the endpoint behaves.
    if sent.len() != 5 || sent.iter().any(|w| w.status != Some(200)) {
        return Err("the endpoint did not accept every signed webhook".into());
    }

    // What the endpoint refuses: a body changed after signing, and no signature at all.
    let body = serde_json::to_vec_pretty(&serde_json::json!({
        "webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
        "item_id": item.item_id.as_str(), "initial_update_complete": true,
        "historical_update_complete": true, "environment": "sandbox",
    }))?;
    let http = reqwest::Client::new();
    let post = |headers: HeaderMap, body: Vec<u8>| {
        let request = http.post(&url).headers(headers).body(body);
        async move {
            let response = request.send().await?;
            Ok::<_, reqwest::Error>(format!("{} {}", response.status(), response.text().await?))
        }
    };
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let changed = post(sandbox.signer().headers(&body), tampered).await?;
    let unsigned = post(HeaderMap::new(), body).await?;
    println!("\nbody changed after signing: {changed}");
    println!("no signature:               {unsigned}");
    if !changed.starts_with("401") || !unsigned.starts_with("401") {
        return Err("the endpoint accepted a webhook it should refuse".into());
    }
    Ok(())
}
