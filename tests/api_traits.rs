//! What users move across tasks and threads stays `Send` (and `Sync` where it is shared): the
//! client, its errors, the webhook verifier, and the futures and streams of calls, so that
//! `tokio::spawn` and axum handlers take them. A change that loses it fails to compile here,
//! not in an app (review round 20: nothing asserted it; the reference backend did, by using
//! some of them).

use plaid_sdk::sync::TransactionsSync;
use plaid_sdk::types::{ItemGetRequest, TransactionsGetRequest};
use plaid_sdk::webhook::{WebhookError, WebhookEvent, WebhookVerifier};
use plaid_sdk::{AccessToken, ConfigError, Error, PlaidClient, RetryPolicy};

fn shared<T: Send + Sync + 'static>() {}
fn sendable<T: Send>(_: &T) {}

#[test]
fn the_types_users_share_are_send_and_sync() {
    shared::<PlaidClient>();
    shared::<Error>();
    shared::<ConfigError>();
    shared::<WebhookError>();
    shared::<WebhookVerifier>();
    shared::<WebhookEvent>();
    shared::<AccessToken>();
    shared::<RetryPolicy>();
    shared::<TransactionsSync>();
    // `Error` goes into `Box<dyn Error + Send + Sync>` (anyhow, `?` in a spawned task).
    let _: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::from(
        "sandox".parse::<plaid_sdk::Environment>().unwrap_err(),
    ));
}

/// Never run: it only has to compile.
#[allow(dead_code, clippy::let_underscore_future)]
fn the_futures_and_streams_of_calls_are_send(
    client: PlaidClient,
    verifier: WebhookVerifier,
    item: ItemGetRequest,
    transactions: TransactionsGetRequest,
    sync: TransactionsSync,
    headers: http::HeaderMap,
) {
    sendable(&client.item_get(&item));
    sendable(&client.until_ready(&transactions));
    sendable(&client.transactions_sync_all(&sync));
    sendable(&client.transactions_sync_stream(sync.clone()));
    sendable(&client.paginate(transactions.clone()).all());
    sendable(&client.paginate(transactions).items());
    sendable(&client.sandbox_link_item("ins_109508", []));
    sendable(&verifier.verify(&headers, b"{}"));
    sendable(&verifier.verify_delivery(&headers, b"{}"));
}
