//! What production users of the big SDKs get, against local servers: a retry budget shared by
//! a client's calls, idempotency keys the client fills in, waiting until Plaid has the data, and
//! a hook on every attempt.

mod common;

use common::{client, fast_retries, ACCESS_TOKEN, SECRET};
use plaid_sdk::hook::{Attempt, AttemptOutcome, CallHook, FailureKind};
use plaid_sdk::types::{AccountsGetRequest, TransactionsGetRequest, TransferCreateRequest};
use plaid_sdk::{Error, RetryBudget};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

fn failing() -> ResponseTemplate {
    common::plaid_error(500, "API_ERROR", "INTERNAL_SERVER_ERROR")
}

// --- the retry budget -----------------------------------------------------------------------

#[tokio::test]
async fn an_outage_costs_at_most_the_budgets_retries_and_retries_come_back_with_recovery() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(failing())
        .with_priority(5)
        .mount(&server)
        .await;
    // 50 tokens at 5 a retry: 10 retries for every caller together.
    let budget = RetryBudget::default().capacity(50);
    let client = common::builder(&server)
        .retry_policy(fast_retries(3).retry_budget(budget))
        .build()
        .unwrap();
    let request = AccountsGetRequest::new(ACCESS_TOKEN);
    let calls =
        futures_util::future::join_all((0..40).map(|_| client.accounts_get(&request))).await;
    assert!(calls.iter().all(|r| r.is_err()));
    let sent = requests(&server).await.len();
    assert_eq!(sent, 40 + 10, "40 calls and the budget's 10 retries");

    // Without the budget, every caller retries to its limit.
    let unbounded = common::builder(&server)
        .retry_policy(fast_retries(3).without_retry_budget())
        .build()
        .unwrap();
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(failing())
        .mount(&server)
        .await;
    futures_util::future::join_all((0..40).map(|_| unbounded.accounts_get(&request))).await;
    assert_eq!(requests(&server).await.len(), 120);

    // Plaid recovers: successes earn tokens back (one each), and retries resume.
    server.reset().await;
    let spec = common::load_spec();
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::example_for(&spec, "/accounts/get")),
        )
        .mount(&server)
        .await;
    for _ in 0..10 {
        client.accounts_get(&request).await.unwrap();
    }
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(failing())
        .mount(&server)
        .await;
    let e = client.accounts_get(&request).await.unwrap_err();
    assert!(matches!(e, Error::Api(_)));
    assert_eq!(
        requests(&server).await.len(),
        3,
        "10 tokens earned back pay for this call's 2 retries"
    );
}

#[tokio::test]
async fn a_caller_that_gives_up_while_waiting_to_retry_gets_the_budget_back() {
    // Plaid asks for 5 s; the caller waits 300 ms at most (a timeout, a `select!`).
    let server = common::answering(failing().insert_header("retry-after", "5")).await;
    // One retry's worth of tokens, none earned back by a success.
    let budget = RetryBudget::default()
        .capacity(5)
        .retry_cost(5)
        .success_refund(0);
    let client = common::builder(&server)
        .retry_policy(fast_retries(2).retry_budget(budget))
        .build()
        .unwrap();
    let request = AccountsGetRequest::new(ACCESS_TOKEN);
    for _ in 0..3 {
        let gave_up =
            tokio::time::timeout(Duration::from_millis(300), client.accounts_get(&request)).await;
        assert!(gave_up.is_err(), "the caller gave up during the wait");
    }
    assert_eq!(requests(&server).await.len(), 3, "no retry was sent");

    // The retries never sent cost nothing: the next failure is still retried.
    server.reset().await;
    let spec = common::load_spec();
    let accounts = common::example_for(&spec, "/accounts/get");
    common::flaky(&server, "/accounts/get", failing(), 1, accounts).await;
    client.accounts_get(&request).await.unwrap();
    assert_eq!(
        requests(&server).await.len(),
        2,
        "the failure, then its retry"
    );
}

// --- idempotency keys ------------------------------------------------------------------------

/// The operations whose request takes an optional `idempotency_key`, read from the spec.
fn optional_key_operations(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for info in plaid_sdk::operations::ALL {
        let op = &spec["paths"][info.path][info.method.to_lowercase()];
        let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else {
            continue;
        };
        let schema = match schema["$ref"].as_str() {
            Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap(),
            None => schema,
        };
        let has = schema["properties"].get("idempotency_key").is_some();
        let required = schema["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == "idempotency_key"));
        if has && !required {
            out.push(info.name.to_owned());
        }
    }
    out
}

#[test]
fn the_operations_that_get_a_generated_key_are_the_specs() {
    let spec = common::load_spec();
    let generated: Vec<String> = plaid_sdk::operations::ALL
        .iter()
        .filter(|o| o.optional_idempotency_key)
        .map(|o| o.name.to_owned())
        .collect();
    assert_eq!(generated, optional_key_operations(&spec));
    assert!(
        generated.contains(&"transfer_create".to_owned()),
        "{generated:?}"
    );
}

fn transfer() -> TransferCreateRequest {
    TransferCreateRequest::new(
        ACCESS_TOKEN,
        "3gE5gnRzNyfXpBK5wEEKcymJ5albGVUqg77gr",
        "auth-1",
        "payment",
    )
}

fn key_of(request: &wiremock::Request) -> Option<String> {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    body["idempotency_key"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_write_without_a_key_gets_one_the_same_on_every_attempt_and_new_per_call() {
    let server = MockServer::start().await;
    let spec = common::load_spec();
    Mock::given(method("POST"))
        .respond_with(failing())
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::example_for(&spec, "/transfer/create")),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    // Two 500s, then success: three attempts, one key. Without the key the write would have
    // been sent once.
    client.transfer_create(&transfer()).await.unwrap();
    let first: Vec<Option<String>> = requests(&server).await.iter().map(key_of).collect();
    assert_eq!(first.len(), 3);
    let key = first[0].clone().expect("a generated key");
    assert!(key.starts_with("plaid-sdk-") && key.len() <= 50, "{key}");
    assert!(first.iter().all(|k| k.as_deref() == Some(key.as_str())));
    // The next call, a new key.
    client.transfer_create(&transfer()).await.unwrap();
    let second = key_of(requests(&server).await.last().unwrap()).unwrap();
    assert_ne!(second, key);
    // A key the caller set is never replaced.
    client
        .transfer_create(&transfer().idempotency_key("order-42"))
        .await
        .unwrap();
    assert_eq!(
        key_of(requests(&server).await.last().unwrap()).as_deref(),
        Some("order-42")
    );
    // An empty key is a mistake, refused before sending, not a key shared by every write.
    let sent = requests(&server).await.len();
    let empty = client
        .transfer_create(&transfer().idempotency_key(""))
        .await;
    assert!(
        matches!(empty, Err(plaid_sdk::Error::InvalidRequest { .. })),
        "{empty:?}"
    );
    assert_eq!(requests(&server).await.len(), sent);
}

// --- waiting until ready -----------------------------------------------------------------------

fn transactions_get() -> TransactionsGetRequest {
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    TransactionsGetRequest::new(ACCESS_TOKEN, day(1), day(20))
}

#[tokio::test]
async fn until_ready_polls_while_plaid_says_product_not_ready() {
    let spec = common::load_spec();
    let server = MockServer::start().await;
    Mock::given(path("/transactions/get"))
        .respond_with(common::plaid_error(400, "ITEM_ERROR", "PRODUCT_NOT_READY"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/transactions/get"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::example_for(&spec, "/transactions/get")),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let page = client
        .until_ready(&transactions_get())
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .await
        .unwrap();
    assert!(!page.transactions.is_empty());
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn until_ready_gives_up_at_its_deadline_and_stops_at_any_other_error() {
    let server = MockServer::start().await;
    Mock::given(path("/transactions/get"))
        .respond_with(common::plaid_error(400, "ITEM_ERROR", "PRODUCT_NOT_READY"))
        .mount(&server)
        .await;
    let client = client(&server);
    let e = client
        .until_ready(&transactions_get())
        .backoff(Duration::from_millis(10), Duration::from_millis(10))
        .deadline(Duration::from_millis(1000))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::NotReady { operation: "transactions_get", polls, .. } if polls >= 5),
        "{e:?}"
    );

    let server = MockServer::start().await;
    Mock::given(path("/transactions/get"))
        .respond_with(common::plaid_error(
            400,
            "ITEM_ERROR",
            "ITEM_LOGIN_REQUIRED",
        ))
        .mount(&server)
        .await;
    let e = common::client(&server)
        .until_ready(&transactions_get())
        .await
        .unwrap_err();
    assert_eq!(
        e.error_code().map(|c| c.as_str()),
        Some("ITEM_LOGIN_REQUIRED")
    );
    assert_eq!(
        requests(&server).await.len(),
        1,
        "no waiting on another error"
    );
}

// --- the call hook -------------------------------------------------------------------------------

#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    /// A recorder, and a client against `server` that reports to it.
    fn on(server: &MockServer) -> (Self, plaid_sdk::PlaidClient) {
        let recorder = Recorder::default();
        let client = common::builder(server)
            .hook(recorder.clone())
            .build()
            .unwrap();
        (recorder, client)
    }
}

impl CallHook for Recorder {
    fn before_attempt(&self, attempt: &Attempt, headers: &mut http::HeaderMap) {
        headers.insert("x-proxy-route", http::HeaderValue::from_static("plaid"));
        // A hook cannot replace the client's own headers.
        headers.insert(
            "plaid-secret",
            http::HeaderValue::from_static("from-the-hook"),
        );
        self.0
            .lock()
            .unwrap()
            .push(format!("before {} #{}", attempt.operation, attempt.number));
    }

    fn after_attempt(&self, attempt: &Attempt, outcome: &AttemptOutcome<'_>) {
        self.0.lock().unwrap().push(format!(
            "after {} #{} status={:?} request_id={:?} failure={:?} latency={}",
            attempt.operation,
            attempt.number,
            outcome.status,
            outcome.request_id,
            outcome.failure,
            outcome.latency > Duration::ZERO
        ));
    }
}

#[tokio::test]
async fn a_hook_sees_every_attempt_adds_headers_and_never_a_secret() {
    let spec = common::load_spec();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(failing())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(502).set_body_raw("<html>bad gateway</html>", "text/html"),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::example_for(&spec, "/accounts/get")),
        )
        .mount(&server)
        .await;
    let (recorder, client) = Recorder::on(&server);
    client
        .accounts_get(&AccountsGetRequest::new(ACCESS_TOKEN))
        .await
        .unwrap();
    let log = recorder.0.lock().unwrap().clone();
    assert_eq!(log.len(), 6, "{log:#?}");
    assert_eq!(log[0], "before accounts_get #1");
    assert!(log[1].starts_with("after accounts_get #1 status=Some(500) request_id=Some(\"req-fault\") failure=Some(Api)"), "{}", log[1]);
    assert!(
        log[3].starts_with(
            "after accounts_get #2 status=Some(502) request_id=None failure=Some(Http)"
        ),
        "{}",
        log[3]
    );
    assert!(
        log[5].starts_with("after accounts_get #3 status=Some(200)"),
        "{}",
        log[5]
    );
    assert!(log[5].ends_with("failure=None latency=true"), "{}", log[5]);
    for line in &log {
        assert!(
            !line.contains(SECRET) && !line.contains("5cd6e1b1"),
            "{line}"
        );
    }
    for sent in requests(&server).await {
        assert_eq!(sent.headers.get("x-proxy-route").unwrap(), "plaid");
        assert_eq!(
            sent.headers.get("plaid-secret").unwrap(),
            SECRET,
            "the client's own header wins"
        );
    }
    let _ = FailureKind::Timeout;
}

/// A call dropped while an attempt is in flight (a `timeout` around it, a `select!`, a
/// cancelled handler) still reports that attempt, as `Cancelled`: hooks that pair the two
/// calls (in-flight gauges, spans) do not leak (review round 20).
#[tokio::test]
async fn a_hook_hears_of_an_attempt_whose_call_was_dropped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let (recorder, client) = Recorder::on(&server);
    let dropped = tokio::time::timeout(
        Duration::from_millis(200),
        client.accounts_get(&AccountsGetRequest::new(ACCESS_TOKEN)),
    )
    .await;
    assert!(dropped.is_err(), "the call was still waiting");
    let log = recorder.0.lock().unwrap().clone();
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(log[0], "before accounts_get #1");
    assert_eq!(
        log[1],
        "after accounts_get #1 status=None request_id=None failure=Some(Cancelled) latency=true"
    );
}
