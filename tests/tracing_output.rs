//! What the client logs through `tracing`: the call, its attempts and status, never a secret.
//!
//! In its own test binary: `tracing` caches per-callsite interest process-wide, and a test
//! without a subscriber running in parallel would hide the span from this one.

mod common;

use common::{client, ACCESS_TOKEN, SECRET};
use plaid_sdk::types::TransactionsSyncRequest;
use serde_json::json;
use std::sync::{Arc, Mutex};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A `tracing` writer that keeps everything in memory.
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

#[tokio::test]
async fn tracing_output_names_the_call_but_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A server that echoes the request, headers included, into its error.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(503).set_body_json(json!({
                "error_type": "API_ERROR", "error_code": "INTERNAL_SERVER_ERROR",
                "error_message": format!("{:?} {}", req.headers, String::from_utf8_lossy(&req.body)),
                "display_message": null, "request_id": "r",
            }))
        })
        .mount(&server)
        .await;
    let _ = client(&server)
        .transactions_sync(&TransactionsSyncRequest::new(ACCESS_TOKEN))
        .await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("plaid.request"), "the span is there:\n{log}");
    assert!(log.contains("operation=\"transactions_sync\""), "{log}");
    assert!(log.contains("attempt=2"), "retries are logged:\n{log}");
    assert!(log.contains("status=503"), "{log}");
    assert!(log.contains("request_id=\"r\""), "{log}");
    for secret in [SECRET, "5cd6e1b1-1b5b-459d-9284-366e2da89755"] {
        assert!(!log.contains(secret), "the log leaks {secret}:\n{log}");
    }
}
