//! Proxies from the environment and a plain-http base URL (issue 26, finding 1). In a binary of
//! its own: it sets `HTTP_PROXY` and `ALL_PROXY` for the whole process, as a shell would.
//!
//! Failed on 71b0bf9: with the variables set, a loopback `http://` base URL was sent through
//! the remote proxy, which received `PLAID-SECRET` in clear; the target received nothing.

mod common;

use common::{ACCESS_TOKEN, CLIENT_ID, SECRET};
use plaid_sdk::types::ItemGetRequest;
use plaid_sdk::PlaidClient;
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A local server answering every request, with its own loopback address.
async fn server_on(ip: &str) -> MockServer {
    let listener = std::net::TcpListener::bind((ip, 0)).expect("a loopback address");
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "request_id": "r" })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "request_id": "r" })))
        .mount(&server)
        .await;
    server
}

async fn call(client: &PlaidClient) {
    // The body is not an ItemGetResponse; where the request went is what matters.
    let _ = client
        .without_retries()
        .item_get(&ItemGetRequest::new(ACCESS_TOKEN))
        .await;
}

fn secret_in(requests: &[wiremock::Request]) -> bool {
    requests.iter().any(|r| {
        r.headers
            .get("plaid-secret")
            .is_some_and(|v| v.as_bytes() == SECRET.as_bytes())
    })
}

#[tokio::test]
async fn plain_http_never_leaves_through_a_proxy_from_the_environment() {
    // The "remote" proxy on 127.0.0.2, the target on 127.0.0.1.
    let proxy = server_on("127.0.0.2").await;
    let target = server_on("127.0.0.1").await;
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
    ] {
        std::env::set_var(var, proxy.uri());
    }
    for var in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(var);
    }
    let builder = || {
        PlaidClient::builder()
            .client_id(CLIENT_ID)
            .secret(SECRET)
            .base_url(target.uri())
            .timeout(Duration::from_secs(5))
    };
    // The client's own HTTP client, and one the caller built without naming a proxy.
    call(&builder().build().unwrap()).await;
    call(
        &builder()
            .http_client(reqwest::Client::builder())
            .build()
            .unwrap(),
    )
    .await;
    let at_proxy = proxy.received_requests().await.unwrap();
    assert!(
        at_proxy.is_empty(),
        "the proxy from the environment received {} request(s); the secret in clear: {}",
        at_proxy.len(),
        secret_in(&at_proxy)
    );
    let at_target = target.received_requests().await.unwrap();
    assert_eq!(at_target.len(), 2, "both calls go straight to the base URL");
    assert!(secret_in(&at_target));

    // A proxy the caller names on its own builder is the first hop it chose: it is used.
    let named = reqwest::Proxy::all(proxy.uri()).unwrap();
    call(
        &builder()
            .http_client(reqwest::Client::builder().proxy(named))
            .build()
            .unwrap(),
    )
    .await;
    assert_eq!(proxy.received_requests().await.unwrap().len(), 1);
    assert_eq!(target.received_requests().await.unwrap().len(), 2);
}
