//! The client secret and token-shaped strings planted in every field a server controls, of
//! every error variant, then swept out of every way the error reaches a person: `Display`,
//! `Debug`, pretty `Debug`, the `source()` chain, and every `tracing` event and span field at
//! TRACE (the retry WARN line included).
//!
//! In its own test binary: `tracing` caches per-callsite interest process-wide, and a test
//! without a subscriber running in parallel would hide events from this one.

mod common;

use common::{answering, ACCESS_TOKEN, CLIENT_ID, SECRET};
use plaid_sdk::types::{TransactionsSyncRequest, WalletListRequest};
use plaid_sdk::{Error, PlaidClient};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

/// The secret parts: the client secret and the token's random part.
const NEEDLES: &[&str] = &[SECRET, "5cd6e1b1-1b5b-459d-9284-366e2da89755", "5cd6e1b1"];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for needle in NEEDLES {
        assert!(!text.contains(needle), "{what} leaks {needle}:\n{text}");
    }
}

/// Display, Debug, pretty Debug, and every source in the chain.
#[track_caller]
fn assert_error_clean(what: &str, e: &Error) {
    assert_clean(&format!("{what} Display"), &e.to_string());
    assert_clean(&format!("{what} Debug"), &format!("{e:?}"));
    assert_clean(&format!("{what} pretty Debug"), &format!("{e:#?}"));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        assert_clean(&format!("{what} source"), &s.to_string());
        assert_clean(&format!("{what} source Debug"), &format!("{s:?}"));
        source = s.source();
    }
}

/// Plaid's error object with the secret or a token in every field, nested ones included.
fn poisoned_plaid_error(status: u16) -> Value {
    json!({
        "error_type": format!("NEW_TYPE_{ACCESS_TOKEN}"),
        "error_code": format!("NEW_CODE_{SECRET}"),
        "error_code_reason": ACCESS_TOKEN,
        "error_message": format!("token {ACCESS_TOKEN} secret {SECRET}"),
        "display_message": SECRET,
        "request_id": ACCESS_TOKEN,
        "causes": [
            { "error_message": ACCESS_TOKEN, "item_id": SECRET,
              "deep": { "list": [SECRET, { "again": ACCESS_TOKEN }] } },
            SECRET,
            { ACCESS_TOKEN: SECRET },
        ],
        "status": status,
        "documentation_url": format!("https://plaid.com/docs/?s={SECRET}"),
        "suggested_action": ACCESS_TOKEN,
        "extra_field": { "nested": { "deeper": [ACCESS_TOKEN, SECRET] }, SECRET: 1 },
        "another": [[[SECRET]]],
    })
}

fn client(server: &MockServer) -> PlaidClient {
    common::client(server)
}

#[tokio::test]
async fn every_error_variant_and_every_log_line_is_scrubbed() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let sync = TransactionsSyncRequest::new(ACCESS_TOKEN);
    let mut errors: Vec<(&str, Error)> = Vec::new();

    // Api, retried (500), so the WARN retry line carries it too; and not retried (400).
    for status in [500, 400] {
        let server =
            answering(ResponseTemplate::new(status).set_body_json(poisoned_plaid_error(status)))
                .await;
        let e = client(&server).transactions_sync(&sync).await.unwrap_err();
        assert!(matches!(e, Error::Api(_)), "{e:?}");
        errors.push(("Api", e));
    }

    // Api whose optional fields have the wrong type (read leniently, as text): a token and
    // the secret split by control characters inside an object, a list and a key.
    let split_token = ACCESS_TOKEN.replace("access", "acc\u{0}ess");
    let split_secret = SECRET.replace('s', "s\u{0}\u{7}");
    let odd = json!({
        "error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED",
        "error_message": { "m": split_token.clone() },
        "display_message": [split_secret.clone()],
        "request_id": { split_token.clone(): split_secret },
        "suggested_action": { "token": split_token },
    });
    let server = answering(ResponseTemplate::new(400).set_body_json(odd)).await;
    let e = client(&server).transactions_sync(&sync).await.unwrap_err();
    assert_eq!(
        e.error_code(),
        Some(&plaid_sdk::ErrorCode::ItemLoginRequired),
        "{e:?}"
    );
    errors.push(("Api, odd fields", e));

    // Http: the secret in the page's title; in its body, after 500 characters, split by
    // invisible characters, and by control characters. The body is checked too, through its
    // accessor, below.
    let straddle = format!(
        "<html><title>{SECRET}</title>{}{SECRET} and {} and {}</html>",
        "x".repeat(500),
        SECRET.replace('-', "-\u{200B}"),
        SECRET.replace('s', "s\u{0}\u{7}")
    );
    let server =
        answering(ResponseTemplate::new(502).set_body_raw(straddle.clone(), "text/html")).await;
    let e = client(&server)
        .without_retries()
        .transactions_sync(&sync)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Http { .. }), "{e:?}");
    errors.push(("Http", e));
    let short = format!("{}{SECRET}", "y".repeat(505 - SECRET.len() / 2));
    let server = answering(ResponseTemplate::new(503).set_body_raw(short, "text/plain")).await;
    let e = client(&server).transactions_sync(&sync).await.unwrap_err();
    errors.push(("Http straddling", e));

    // Decode: a token as the bad value and as the request id.
    let server = answering(ResponseTemplate::new(200).set_body_json(json!({
        "added": ACCESS_TOKEN, "next_cursor": SECRET, "request_id": ACCESS_TOKEN,
    })))
    .await;
    let e = client(&server).transactions_sync(&sync).await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    errors.push(("Decode", e));

    // Redirect to a host named like a token.
    let server = answering(ResponseTemplate::new(307).insert_header(
        "location",
        format!("http://{ACCESS_TOKEN}.example.test/{SECRET}?t={ACCESS_TOKEN}"),
    ))
    .await;
    let e = client(&server).transactions_sync(&sync).await.unwrap_err();
    errors.push(("Redirect", e));

    // ResponseTooLarge: only a limit, no text, but swept all the same.
    let server = answering(ResponseTemplate::new(200).set_body_raw(
        format!("{{\"request_id\":\"{ACCESS_TOKEN}\",\"x\":\"{SECRET}\"}}"),
        "application/json",
    ))
    .await;
    let e = common::builder(&server)
        .max_response_bytes(16)
        .build()
        .unwrap()
        .transactions_sync(&sync)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ResponseTooLarge { .. }), "{e:?}");
    errors.push(("ResponseTooLarge", e));

    // Pagination: a server that repeats a cursor made of a token and the secret.
    let spec = common::load_spec();
    let mut reply = common::example_for(&spec, "/wallet/list");
    reply["next_cursor"] = json!(format!("{ACCESS_TOKEN}{SECRET}"));
    let server = answering(ResponseTemplate::new(200).set_body_json(reply)).await;
    let e = client(&server)
        .paginate(serde_json::from_value::<WalletListRequest>(json!({})).unwrap())
        .all()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Pagination { .. }), "{e:?}");
    errors.push(("Pagination", e));

    // SyncRestarts: every page is a mutation during pagination, whose text is poisoned.
    #[cfg(feature = "transactions")]
    {
        use plaid_sdk::sync::TransactionsSync;
        let mut body = poisoned_plaid_error(400);
        body["error_type"] = json!("TRANSACTIONS_ERROR");
        body["error_code"] = json!("TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION");
        let server = answering(ResponseTemplate::new(400).set_body_json(body)).await;
        let e = client(&server)
            .transactions_sync_all(&TransactionsSync::new(ACCESS_TOKEN).max_restarts(1))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::SyncRestarts { .. }), "{e:?}");
        errors.push(("SyncRestarts", e));
    }

    // Timeout, Connect, Transport, InvalidRequest, Config: no text from a server, checked all
    // the same.
    let slow = answering(ResponseTemplate::new(200).set_delay(Duration::from_secs(2))).await;
    let e = client(&slow)
        .with_timeout(Duration::from_millis(50))
        .without_retries()
        .transactions_sync(&sync)
        .await
        .unwrap_err();
    errors.push(("Timeout", e));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = PlaidClient::builder()
        .client_id(CLIENT_ID)
        .secret(SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let e = refused
        .without_retries()
        .transactions_sync(&sync)
        .await
        .unwrap_err();
    errors.push(("Connect", e));
    let e = client(&slow)
        .transactions_sync(&TransactionsSyncRequest::new(""))
        .await
        .unwrap_err();
    errors.push(("InvalidRequest", e));
    let e = PlaidClient::builder()
        .client_id(CLIENT_ID)
        .secret(format!("{SECRET}\n").as_str())
        .build()
        .unwrap_err();
    errors.push(("Config", e));

    for (what, e) in &errors {
        assert_error_clean(what, e);
        if let Error::Http { body, title, .. } = e {
            assert_clean(&format!("{what} body"), body.text());
            assert_clean(&format!("{what} title"), title.as_deref().unwrap_or(""));
        }
    }
    // The scrubbing left the errors useful.
    let Error::Api(api) = &errors[0].1 else {
        unreachable!()
    };
    assert!(api.error_code.as_str().starts_with("NEW_CODE_"));
    assert_eq!(api.status, 500);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("retrying"), "the retry line is there:\n{log}");
    assert!(log.contains("NEW_CODE_"), "with the error:\n{log}");
    assert_clean("tracing output", &log);
}
