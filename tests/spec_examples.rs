//! The generated API against the spec it was generated from: one method per operation, and
//! every example response in the spec parses into its operation's response type.

mod common;

use plaid_sdk::{operations, RawResponse};

#[test]
fn every_operation_of_the_spec_is_a_client_method() {
    let spec = common::load_spec();
    let mut in_spec: Vec<(String, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                in_spec.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut generated: Vec<(String, String)> = operations::ALL
        .iter()
        .map(|o| (o.method.to_owned(), o.path.to_owned()))
        .collect();
    in_spec.sort();
    generated.sort();
    assert_eq!(
        generated, in_spec,
        "operations::ALL differs from the spec's operations"
    );

    let source = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/plaid_api.rs")).unwrap();
    let methods = source.matches("pub async fn ").count();
    assert_eq!(
        methods,
        in_spec.len(),
        "one PlaidClient method per operation"
    );
    assert!(
        in_spec.len() >= 200,
        "the spec has {} operations",
        in_spec.len()
    );
}

#[test]
fn every_example_response_in_the_spec_parses_into_its_type() {
    let spec = common::load_spec();
    let examples = common::response_examples(&spec);
    let mut failures = Vec::new();
    for (method, path, status, name, body) in &examples {
        let op = operations::ALL
            .iter()
            .find(|o| o.method == method && o.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is not in operations::ALL"));
        let raw = RawResponse::new(
            op.name,
            status.parse().unwrap(),
            serde_json::to_vec(body).unwrap(),
        );
        match operations::__decode_response(op.name, raw) {
            Some(Ok(())) => {}
            Some(Err(e)) => failures.push(format!("{method} {path} ({name}): {e}")),
            None => failures.push(format!("{method} {path}: no decoder for {}", op.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} spec examples do not parse:\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
    assert!(
        examples.len() >= 200,
        "only {} examples found: is the spec complete?",
        examples.len()
    );
}
