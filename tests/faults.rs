//! Fault injection: every way Plaid (or the network between) can fail, for a read and for a
//! write, checked for the error users get and for how many times the request was sent.
//! Plus a raw TCP server that closes mid-body, and load on one client.

mod common;

use axum::extract::ConnectInfo;
use common::{plaid_error, ACCESS_TOKEN, SECRET};
use plaid_sdk::types::{AccountsGetRequest, ItemRemoveRequest};
use plaid_sdk::{Error, PlaidClient};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What a fault must produce.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Api,
    Http,
    Decode,
    Timeout,
}

/// (name, response, expected error, whether a repeatable call is retried).
fn faults() -> Vec<(&'static str, ResponseTemplate, Expect, bool)> {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    vec![
        (
            "500 Plaid error",
            plaid_error(500, "API_ERROR", "INTERNAL_SERVER_ERROR"),
            Expect::Api,
            true,
        ),
        (
            "502 HTML page",
            ResponseTemplate::new(502).set_body_raw(html, "text/html"),
            Expect::Http,
            true,
        ),
        ("503 empty", ResponseTemplate::new(503), Expect::Http, true),
        (
            "429 with Retry-After",
            plaid_error(429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT").insert_header("Retry-After", "0"),
            Expect::Api,
            true,
        ),
        (
            "429 without Retry-After",
            plaid_error(429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT"),
            Expect::Api,
            true,
        ),
        (
            "truncated JSON",
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"accounts": [{"account_id": "a"#, "application/json"),
            Expect::Decode,
            false,
        ),
        (
            "not JSON",
            ResponseTemplate::new(200).set_body_raw("OK", "text/plain"),
            Expect::Decode,
            false,
        ),
        (
            "wrong shape",
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"accounts": {"a": 1}, "request_id": 7})),
            Expect::Decode,
            false,
        ),
        (
            // serde_json stops at 128 levels; a recursive walk past that would overflow the stack.
            "JSON nested 100,000 deep",
            ResponseTemplate::new(200).set_body_raw(nested(100_000), "application/json"),
            Expect::Decode,
            false,
        ),
        (
            // Within the 64 KiB error-body cap, past serde_json's depth: not Plaid's shape.
            "a 500 whose error message nests 10,000 deep",
            ResponseTemplate::new(500).set_body_raw(
                format!(r#"{{"error_type":"API_ERROR","error_code":"INTERNAL_SERVER_ERROR","error_message":{}}}"#, nested(10_000)),
                "application/json",
            ),
            Expect::Http,
            true,
        ),
        (
            "empty 200",
            ResponseTemplate::new(200),
            Expect::Decode,
            false,
        ),
        (
            "slower than the timeout",
            ResponseTemplate::new(200).set_delay(Duration::from_millis(400)),
            Expect::Timeout,
            true,
        ),
    ]
}

/// `{"accounts":[[[…]]]}`: valid JSON, `depth` arrays deep.
fn nested(depth: usize) -> String {
    format!(
        r#"{{"accounts":{}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

fn kind(e: &Error) -> Option<Expect> {
    match e {
        Error::Api(_) => Some(Expect::Api),
        Error::Http { .. } => Some(Expect::Http),
        Error::Decode { .. } => Some(Expect::Decode),
        Error::Timeout { .. } => Some(Expect::Timeout),
        _ => None,
    }
}

fn fault_client(server: &MockServer) -> PlaidClient {
    common::builder(server)
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client")
}

#[tokio::test]
async fn every_fault_gives_its_typed_error_and_is_retried_only_where_safe() {
    let attempts = 3; // common::fast_retries(3)
    let mut failures = Vec::new();
    for (name, response, expect, retried) in faults() {
        for write in [false, true] {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(response.clone())
                .mount(&server)
                .await;
            let client = fault_client(&server);
            let result = if write {
                client
                    .item_remove(&ItemRemoveRequest::new(ACCESS_TOKEN))
                    .await
                    .map(|_| ())
            } else {
                client
                    .accounts_get(&AccountsGetRequest::new(ACCESS_TOKEN))
                    .await
                    .map(|_| ())
            };
            let hits = server.received_requests().await.unwrap_or_default().len();
            let want_hits = if retried && !write { attempts } else { 1 };
            let call = if write { "write" } else { "read" };
            match result {
                Err(e) if kind(&e) == Some(expect) && hits == want_hits => {
                    let text = format!("{e} {e:?}");
                    if text.contains(SECRET) || text.contains(ACCESS_TOKEN) {
                        failures.push(format!("{name} ({call}): a secret in {text}"));
                    }
                    if e.is_retryable() != retried {
                        failures.push(format!("{name} ({call}): is_retryable() = {}", e.is_retryable()));
                    }
                }
                other => failures.push(format!(
                    "{name} ({call}): {other:?} after {hits} requests; wanted {expect:?} after {want_hits}"
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A server that sends the headers and part of the body, then closes the connection.
async fn closes_mid_body() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(br#"{"accounts": [{"account_id": "#).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_a_transport_error_retried_only_for_reads() {
    let (url, accepted) = closes_mid_body().await;
    let client = PlaidClient::builder()
        .client_id("c")
        .secret(SECRET)
        .base_url(&url)
        .retry_policy(common::fast_retries(3))
        .build()
        .unwrap();
    let e = client
        .accounts_get(&AccountsGetRequest::new(ACCESS_TOKEN))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "a read is retried");

    let before = accepted.load(Ordering::SeqCst);
    let e = client
        .item_remove(&ItemRemoveRequest::new(ACCESS_TOKEN))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(
        accepted.load(Ordering::SeqCst) - before,
        1,
        "a write that reached Plaid is never repeated"
    );
    assert!(!format!("{e} {e:?}").contains(SECRET));
}

/// A local server counting requests and the distinct client connections they came on.
async fn counting_server(
    body: serde_json::Value,
) -> (String, Arc<AtomicUsize>, Arc<Mutex<HashSet<SocketAddr>>>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let peers = Arc::new(Mutex::new(HashSet::new()));
    let (r, p) = (requests.clone(), peers.clone());
    let body = Arc::new(body);
    let app = axum::Router::new().route(
        "/accounts/get",
        axum::routing::post(move |ConnectInfo(addr): ConnectInfo<SocketAddr>| {
            r.fetch_add(1, Ordering::SeqCst);
            p.lock().unwrap().insert(addr);
            let body = body.clone();
            async move { axum::Json((*body).clone()) }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    (url, requests, peers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_one_client_all_complete_on_reused_connections() {
    let spec = common::load_spec();
    let (url, requests, peers) = counting_server(common::example_for(&spec, "/accounts/get")).await;
    let client = PlaidClient::builder()
        .client_id("c")
        .secret(SECRET)
        .base_url(&url)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut done = 0;
                // 1,000 calls across 64 tasks: 40 tasks make 16, 24 make 15.
                for _ in 0..(if task < 40 { 16 } else { 15 }) {
                    let r = client
                        .accounts_get(&AccountsGetRequest::new(ACCESS_TOKEN))
                        .await
                        .expect("every call succeeds: the server never failed");
                    assert!(!r.accounts.is_empty());
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 1_000);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1_000,
        "nothing retried, nothing lost"
    );
    let connections = peers.lock().unwrap().len();
    println!("1,000 calls from 64 tasks on {connections} connections");
    // About one per concurrent task (the pool may open a few more when a call starts just
    // before another's connection is returned); without reuse it would be 1,000.
    assert!(
        (1..=80).contains(&connections),
        "connections are reused: {connections} for 1,000 calls"
    );
}
