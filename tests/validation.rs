//! Caller mistakes are caught before any request: numbers outside the spec's `minimum` and
//! `maximum`, date ranges that end before they start, empty tokens.

mod common;

use chrono::NaiveDate;
use common::{client, ACCESS_TOKEN};
use plaid_sdk::types::{
    AccountsGetRequest, CountryCode, InstitutionsGetRequest, TransactionsGetRequest,
    TransactionsGetRequestOptions, TransactionsSyncRequest,
};
use plaid_sdk::{AccessToken, Error};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server that must not be called.
async fn untouchable() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

fn refused<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::InvalidRequest { message, .. }) => message,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

#[tokio::test]
async fn counts_and_offsets_outside_the_spec_bounds_are_refused_before_sending() {
    let server = untouchable().await;
    let client = client(&server);
    for count in [0, 501, -3] {
        let request = TransactionsSyncRequest::new(ACCESS_TOKEN).count(count);
        let message = refused(client.transactions_sync(&request).await);
        assert_eq!(
            message,
            format!("count must be between 1 and 500, not {count}")
        );
    }

    let nested = TransactionsGetRequest::new(ACCESS_TOKEN, day(1), day(20))
        .options(TransactionsGetRequestOptions::new().count(1000));
    let message = refused(client.transactions_get(&nested).await);
    assert_eq!(message, "options.count must be between 1 and 500, not 1000");

    let offset = InstitutionsGetRequest::new(10, -1, vec![CountryCode::Us]);
    let message = refused(client.institutions_get(&offset).await);
    assert_eq!(message, "offset must be at least 0, not -1");
    server.verify().await;
}

#[tokio::test]
async fn a_date_range_that_ends_before_it_starts_is_refused() {
    let server = untouchable().await;
    let request = TransactionsGetRequest::new(ACCESS_TOKEN, day(20), day(1));
    let message = refused(client(&server).transactions_get(&request).await);
    assert_eq!(
        message,
        "start_date 2026-11-20 is after end_date 2026-11-01"
    );
}

#[tokio::test]
async fn an_empty_access_token_is_refused() {
    let server = untouchable().await;
    let request = AccountsGetRequest::new(AccessToken::new(""));
    let message = refused(client(&server).accounts_get(&request).await);
    assert_eq!(message, "access_token is empty");
}

#[tokio::test]
async fn values_on_the_bounds_are_sent() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error_type": "INVALID_INPUT", "error_code": "INVALID_ACCESS_TOKEN",
            "error_message": "m", "display_message": null, "request_id": "r",
        })))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    for count in [1, 500] {
        let request = TransactionsSyncRequest::new(ACCESS_TOKEN).count(count);
        assert!(matches!(
            client.transactions_sync(&request).await,
            Err(Error::Api(_))
        ));
    }
}

/// The properties of a schema, its `allOf` parts' too, `$ref`s followed: this test's own
/// reading of the spec, not the generator's.
fn properties<'a>(
    spec: &'a serde_json::Value,
    schema: &'a serde_json::Value,
) -> Vec<(&'a String, &'a serde_json::Value)> {
    let schema = common::resolve(spec, schema);
    let mut out: Vec<(&String, &serde_json::Value)> = Vec::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(properties(spec, part));
    }
    for (name, p) in schema["properties"].as_object().into_iter().flatten() {
        out.retain(|(n, _)| *n != name);
        out.push((name, p));
    }
    out
}

fn bounded(spec: &serde_json::Value, schema: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    for (name, p) in properties(spec, schema) {
        let label = if at.is_empty() {
            name.clone()
        } else {
            format!("{at}.{name}")
        };
        let p = common::resolve(spec, p);
        let bounded_here = std::iter::once(p)
            .chain(
                p["allOf"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|q| common::resolve(spec, q)),
            )
            .any(|q| q.get("minimum").is_some() || q.get("maximum").is_some());
        if bounded_here {
            out.push(label);
        } else if label.matches('.').count() < 8 {
            bounded(spec, p, &label, out);
        }
    }
}

/// Review round 18: the bounds of fields two objects down or more
/// (`options.transactions.days_requested` of `/sandbox/public_token/create`, 1 to 730;
/// `income_verification.bank_income.days_requested` of `/link/token/create`), and those in
/// an `allOf` of a `$ref` and a description (`amount.value` of
/// `/payment_initiation/payment/reverse`, at least 0.01), were never checked before sending.
/// Every bound of every request body is checked now: the labels the generated code checks
/// are the spec's, one for one.
#[test]
fn every_bound_of_every_request_body_is_checked_before_sending() {
    let spec = common::load_spec();
    let mut expected = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
                bounded(&spec, body, "", &mut expected);
            }
        }
    }
    let mut checked: Vec<String> = common::generated_source()
        .split("check_bound (\"")
        .skip(1)
        .map(|piece| piece.split('"').next().unwrap().to_owned())
        .collect();
    expected.sort();
    checked.sort();
    let mut missing = expected.clone();
    for label in &checked {
        if let Some(i) = missing.iter().position(|m| m == label) {
            missing.remove(i);
        }
    }
    let mut extra = checked.clone();
    for label in &expected {
        if let Some(i) = extra.iter().position(|m| m == label) {
            extra.remove(i);
        }
    }
    assert!(
        missing.is_empty() && extra.is_empty(),
        "of the spec's {} bounds, not checked: {missing:?}; checked but not the spec's: {extra:?}",
        expected.len()
    );
    assert!(
        expected.iter().any(|l| l.matches('.').count() >= 2),
        "{expected:?}"
    );
}

#[tokio::test]
async fn a_bound_three_objects_down_is_refused_before_sending() {
    use plaid_sdk::types::{
        SandboxPublicTokenCreateRequest, SandboxPublicTokenCreateRequestOptions,
        SandboxPublicTokenCreateRequestOptionsTransactions,
    };
    let server = untouchable().await;
    let request = SandboxPublicTokenCreateRequest::new("ins_109508", vec![]).options(
        SandboxPublicTokenCreateRequestOptions::new().transactions(
            SandboxPublicTokenCreateRequestOptionsTransactions::new().days_requested(731),
        ),
    );
    let message = refused(client(&server).sandbox_public_token_create(&request).await);
    assert_eq!(
        message,
        "options.transactions.days_requested must be between 1 and 730, not 731"
    );
    server.verify().await;
}
