//! A reference backend: the app our users build, on axum and SQLite.
//!
//! ```text
//! cargo run --example backend
//! ```
//!
//! | Route | What it does |
//! |---|---|
//! | `POST /api/link-token` | link token for a new bank connection |
//! | `POST /api/items` `{"public_token"}` | exchange, store the Item and accounts, first sync (409 if already linked) |
//! | `GET /api/items` | the caller's Items: institution, last sync, error, consent expiry, accounts |
//! | `POST /api/items/{id}/link-token` | link token in update mode |
//! | `POST /api/items/{id}/sync` | 202 with a job id; 409 while one runs |
//! | `GET /api/jobs/{id}` | a sync job's state |
//! | `GET /api/items/{id}/transactions` | stored transactions |
//! | `DELETE /api/items/{id}` | remove at Plaid, keep the data, mark disconnected |
//! | `POST /webhooks/plaid` | verified webhooks: syncs, errors, consent expiry |
//!
//! Every `/api` call names its user in `x-user-id` (a stand-in for real authentication); a
//! user sees only their own Items. Access tokens stay in the database.
//!
//! With `PLAID_CLIENT_ID`/`PLAID_SECRET` set it uses Plaid (set `PUBLIC_URL` to where Plaid
//! can reach this server, for webhooks). Without them it starts the offline sandbox, and
//! `POST /dev/complete-link {"link_token"}` plays the user finishing Link. `DATABASE` sets the
//! SQLite file (default `backend.sqlite3` in the temporary directory), `PORT` the port (8000).

mod app;

use plaid_sandbox::Sandbox;
use plaid_sdk::{Error, PlaidClient};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "8000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let local = format!("http://{}", listener.local_addr()?);
    let database = std::env::var("DATABASE").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join("backend.sqlite3")
            .to_string_lossy()
            .into_owned()
    });
    let public_url = std::env::var("PUBLIC_URL").unwrap_or_else(|_| local.clone());
    let webhook_url = format!("{public_url}/webhooks/plaid");

    let (client, sandbox) = match PlaidClient::from_env() {
        Ok(client) => (client, None),
        Err(Error::Config(_)) if std::env::var_os("PLAID_CLIENT_ID").is_none() => {
            let sandbox = Arc::new(Sandbox::start().await);
            println!(
                "No Plaid keys: using the offline sandbox at {}",
                sandbox.uri()
            );
            (sandbox.client(), Some(sandbox))
        }
        Err(e) => return Err(e.into()),
    };
    let application = app::App::new(client, &database, webhook_url)?;
    let mut router = app::router(application);
    if let Some(sandbox) = sandbox {
        router = router.merge(dev_routes(sandbox));
    }
    println!("Backend on {local} (database {database})");
    axum::serve(listener, router).await?;
    Ok(())
}

/// Offline only: `POST /dev/complete-link` stands in for the user finishing Link in a browser.
fn dev_routes(sandbox: Arc<Sandbox>) -> axum::Router {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::Json;
    use serde_json::{json, Value};
    async fn complete(
        State(sandbox): State<Arc<Sandbox>>,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        let token = body["link_token"].as_str().unwrap_or_default();
        let institution = body["institution_id"].as_str().unwrap_or("ins_109508");
        let result = match sandbox.complete_link(token, institution) {
            Ok(public) => Ok(json!({ "public_token": public.expose_secret() })),
            Err(_) => sandbox
                .complete_update(token)
                .map(|item| json!({ "item_id": item.as_str() })),
        };
        match result {
            Ok(v) => (StatusCode::OK, Json(v)),
            Err(e) => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": e.to_string() })),
            ),
        }
    }
    axum::Router::new()
        .route("/dev/complete-link", axum::routing::post(complete))
        .with_state(sandbox)
}
