//! Plaid adds enum values and fields without notice and calls that non-breaking. Responses
//! from the spec's own examples, changed the way Plaid changes them, must still parse, keep the
//! values, and serialize unknown values back unchanged.

mod common;

use common::{client, ACCESS_TOKEN};
use plaid_sdk::types::{AccountSubtype, AccountType, AccountsGetRequest, TransactionsSyncRequest};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn serve(route: &str, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

/// Adds an unknown field to every object in `value`. Its value is a string, so it is also a
/// valid new entry in the free-form string maps (`metadata`) that look like objects in JSON.
fn add_unknown_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                add_unknown_fields(v);
            }
            map.insert("field_added_in_2031".into(), json!("new"));
        }
        Value::Array(items) => items.iter_mut().for_each(add_unknown_fields),
        _ => {}
    }
}

#[tokio::test]
async fn accounts_with_unknown_enum_values_extra_fields_and_nulls_parse_and_keep_values() {
    let spec = common::load_spec();
    let mut body = common::example_for(&spec, "/accounts/get");
    let account = &mut body["accounts"][0];
    account["subtype"] = json!("crypto wallet");
    account["type"] = json!("metaverse");
    account["balances"]["available"] = Value::Null;
    account["official_name"] = Value::Null;
    account.as_object_mut().unwrap().remove("mask"); // required and nullable: missing is None
    body["accounts"][1]["subtype"] = Value::Null;
    add_unknown_fields(&mut body);
    body["object_added_in_2031"] = json!({ "nested": [1, "two", null, { "deep": true }] });

    let server = serve("/accounts/get", body).await;
    let response = client(&server)
        .accounts_get(&AccountsGetRequest::new(ACCESS_TOKEN))
        .await
        .unwrap();

    let first = &response.accounts[0];
    assert_eq!(first.subtype, Some(AccountSubtype::from("crypto wallet")));
    assert_eq!(first.subtype.as_ref().unwrap().as_str(), "crypto wallet");
    assert_eq!(first.type_, AccountType::from("metaverse"));
    assert_eq!(first.balances.available, None);
    assert_eq!(first.official_name, None);
    assert_eq!(first.mask, None);
    assert_eq!(response.accounts[1].subtype, None);
    assert!(
        !response.accounts[2].account_id.is_empty(),
        "the other accounts are intact"
    );

    // Unknown values are written back exactly as received.
    let again = serde_json::to_value(first).unwrap();
    assert_eq!(again["subtype"], "crypto wallet");
    assert_eq!(again["type"], "metaverse");
}

#[tokio::test]
async fn known_enum_values_still_parse_as_their_variants() {
    let spec = common::load_spec();
    let mut body = common::example_for(&spec, "/accounts/get");
    body["accounts"][0]["subtype"] = json!("checking");
    body["accounts"][0]["type"] = json!("depository");
    let server = serve("/accounts/get", body).await;
    let response = client(&server)
        .accounts_get(&AccountsGetRequest::new(ACCESS_TOKEN))
        .await
        .unwrap();
    assert_eq!(response.accounts[0].subtype, Some(AccountSubtype::Checking));
    assert_eq!(response.accounts[0].type_, AccountType::Depository);
}

#[tokio::test]
async fn a_sync_page_with_unknown_values_null_lists_and_extra_fields_parses() {
    let spec = common::load_spec();
    let mut body = common::example_for(&spec, "/transactions/sync");
    let txn = &mut body["added"][0];
    txn["payment_channel"] = json!("telepathy");
    txn["transaction_type"] = json!("barter");
    txn["category"] = Value::Null; // an optional, nullable list
    txn["pending_transaction_id"] = Value::Null;
    add_unknown_fields(&mut body);
    let server = serve("/transactions/sync", body).await;
    let page = client(&server)
        .transactions_sync(&TransactionsSyncRequest::new(ACCESS_TOKEN))
        .await
        .unwrap();
    let txn = &page.added[0];
    assert_eq!(txn.payment_channel.as_str(), "telepathy");
    assert!(txn.payment_channel.is_unrecognized());
    assert_eq!(
        txn.transaction_type.as_ref().map(|t| t.as_str()),
        Some("barter")
    );
    assert_eq!(txn.pending_transaction_id, None);
    let again = serde_json::to_value(txn).unwrap();
    assert_eq!(again["payment_channel"], "telepathy");
}

#[tokio::test]
async fn every_example_parses_with_unknown_fields_added_everywhere() {
    let spec = common::load_spec();
    let mut failures = Vec::new();
    let examples = common::response_examples(&spec);
    for (method_, route, status, name, mut body) in examples.clone() {
        add_unknown_fields(&mut body);
        let op = plaid_sdk::operations::ALL
            .iter()
            .find(|o| o.method == method_ && o.path == route)
            .unwrap();
        let raw = plaid_sdk::RawResponse::new(
            op.name,
            status.parse().unwrap(),
            serde_json::to_vec(&body).unwrap(),
        );
        if let Some(Err(e)) = plaid_sdk::operations::__decode_response(op.name, raw) {
            failures.push(format!("{route} ({name}): {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn decode_errors_name_the_first_missing_field_and_a_repeated_key_keeps_the_last_value() {
    use plaid_sdk::types::AccountBase;
    let parse = |s: &str| serde_json::from_str::<AccountBase>(s);
    let missing = |s: &str| parse(s).unwrap_err().to_string();

    // Required fields in declaration order: account_id, balances, name, type.
    assert!(
        missing(r#"{"balances":{},"type":"credit"}"#).contains("missing field `account_id`"),
        "first of several missing"
    );
    assert!(
        missing(r#"{"account_id":"a","type":"credit","balances":{}}"#)
            .contains("missing field `name`")
    );
    assert!(
        missing(r#"{"account_id":"a","balances":{},"name":"n"}"#).contains("missing field `type`"),
        "the last required field"
    );
    // A bad value is reported as itself, not as a missing field, and stops the parse.
    let bad = missing(r#"{"account_id":5,"balances":{},"name":"n","type":"credit"}"#);
    assert!(bad.contains("invalid type: integer `5`"), "{bad}");
    let bad =
        missing(r#"{"account_id":"a","balances":{"current":"x"},"name":"n","type":"credit"}"#);
    assert!(bad.contains("invalid type: string"), "{bad}");

    let account = parse(
        r#"{"account_id":"first","balances":{"current":1.5},"name":"n","type":"credit",
            "mask":null,"account_id":"second","extra":{"deep":[1,2]}}"#,
    )
    .unwrap();
    assert_eq!(account.account_id, "second");
    assert_eq!(account.balances.current, Some(1.5));
    assert_eq!(account.mask, None);
    assert_eq!(account.subtype, None);
}

/// Counts the `null` items of every list in `value`.
fn null_items(value: &Value) -> usize {
    match value {
        Value::Array(items) => {
            items.iter().filter(|v| v.is_null()).count()
                + items.iter().map(null_items).sum::<usize>()
        }
        Value::Object(map) => map.values().map(null_items).sum(),
        _ => 0,
    }
}

/// Every response, synthesized from its schema with `null` wherever the spec allows one: in
/// nullable fields, required ones included, and as an item of every list of a nullable schema
/// (`PayrollItem.accounts`, `CraCreditProfileReport.lend_scores`, …), where a `null` item used
/// to fail the whole response. It parses, and the nulls in lists are kept as `None`.
#[test]
fn every_response_parses_with_nulls_wherever_the_spec_allows_them() {
    let spec = common::load_spec();
    let mut failures = Vec::new();
    let (mut responses, mut nulls_in_lists) = (0, 0);
    for info in plaid_sdk::operations::ALL {
        let op = &spec["paths"][info.path][info.method.to_lowercase()];
        let Some(schema) = op.pointer("/responses/200/content/application~1json/schema") else {
            continue;
        };
        let body = common::synth::value(&spec, schema, common::synth::Fill::Nulls);
        let raw = plaid_sdk::RawResponse::new(info.name, 200, serde_json::to_vec(&body).unwrap());
        responses += 1;
        match plaid_sdk::operations::__decode_response(info.name, raw) {
            Some(Ok(written)) => {
                // A null list item is written back as null: nothing dropped, nothing moved.
                if null_items(&written) != null_items(&body) {
                    failures.push(format!("{}: null list items not kept", info.name));
                }
                nulls_in_lists += null_items(&body);
            }
            Some(Err(e)) => failures.push(format!("{}: {e}", info.name)),
            None => failures.push(format!("{}: no decoder", info.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {responses} responses:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(nulls_in_lists > 0, "the spec has lists of nullable schemas");
}
