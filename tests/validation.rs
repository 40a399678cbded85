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
