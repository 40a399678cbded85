//! A webhook endpoint on axum that verifies Plaid's signature and dispatches typed events.
//!
//! ```text
//! cargo run --example webhook_server --features test-util
//! ```
//!
//! The one thing to get right with any framework: verify the body **exactly as received**.
//! Plaid signs the SHA-256 of its own bytes; take the body as `Bytes` (not `Json<…>`, which
//! parses and would have to re-serialize), hand those bytes to the verifier, and only use the
//! event it returns.
//!
//! With `PLAID_CLIENT_ID`/`PLAID_SECRET` set it listens on `PORT` (default 8000) for real
//! webhooks (expose it with a tunnel and set it as your Items' webhook URL). Without them it
//! runs offline: it serves a throwaway signing key on a local stand-in for Plaid, posts itself a
//! signed webhook, a tampered one and an unsigned one, and prints what the endpoint said.

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
        // A key we could not fetch is our problem: 500 makes Plaid try again later.
        Err(WebhookError::KeyFetch(e)) => {
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
        other => format!("{:?} received", other.kind()),
    };
    // Answer quickly (Plaid expects a 200 within seconds); do the work in the background.
    (StatusCode::OK, what)
}

fn app(verifier: WebhookVerifier) -> Router {
    Router::new()
        .route("/plaid/webhook", post(webhook))
        .with_state(verifier)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match PlaidClient::from_env() {
        Ok(client) if std::env::var_os("PLAID_CLIENT_ID").is_some() => {
            let port = std::env::var("PORT").unwrap_or_else(|_| "8000".into());
            let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
            println!(
                "Listening for Plaid webhooks on http://{}/plaid/webhook",
                listener.local_addr()?
            );
            axum::serve(listener, app(WebhookVerifier::new(client))).await?;
            Ok(())
        }
        _ => offline().await,
    }
}

/// Plays Plaid locally: a signing key served on a stand-in API, and webhooks posted to the app.
async fn offline() -> Result<(), Box<dyn std::error::Error>> {
    use plaid_sdk::webhook::testing::WebhookSigner;
    let plaid = wiremock::MockServer::start().await;
    let signer = WebhookSigner::new();
    signer.mount(&plaid).await;
    let client = PlaidClient::builder()
        .client_id("local")
        .secret("local")
        .base_url(plaid.uri())
        .build()?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/plaid/webhook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app(WebhookVerifier::new(client))).await });
    println!(
        "No PLAID_CLIENT_ID/PLAID_SECRET: running offline against a local stand-in for Plaid."
    );
    println!("Webhook endpoint: {url}\n");

    let body = serde_json::to_vec_pretty(&serde_json::json!({
        "webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
        "item_id": "wz666MBjYWTp2PDzzggYhM6oWWmBb", "initial_update_complete": true,
        "historical_update_complete": false, "environment": "sandbox",
    }))?;
    let http = reqwest::Client::new();
    let post = |headers: HeaderMap, body: Vec<u8>| {
        let request = http.post(&url).headers(headers).body(body);
        async move {
            let response = request.send().await?;
            Ok::<_, reqwest::Error>(format!("{} {}", response.status(), response.text().await?))
        }
    };
    println!(
        "signed by Plaid's key:  {}",
        post(signer.headers(&body), body.clone()).await?
    );
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    println!(
        "body changed after:     {}",
        post(signer.headers(&body), tampered).await?
    );
    println!(
        "no signature:           {}",
        post(HeaderMap::new(), body).await?
    );
    Ok(())
}
