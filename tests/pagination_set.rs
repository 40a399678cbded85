//! The set of paginated operations the build derived matches what the spec says: every
//! operation whose request takes an `offset`, a `cursor` or an `after_id` (at the top level or
//! in `options`) has a paginator, or the sync driver, and nothing else does.

mod common;

use plaid_sdk::operations;
use serde_json::Value;
use std::collections::BTreeSet;

fn fields(spec: &Value, schema: &Value) -> BTreeSet<String> {
    let s = common::resolve(spec, schema);
    let mut out: BTreeSet<String> = s
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for member in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.extend(fields(spec, member));
    }
    out
}

fn property<'a>(spec: &'a Value, schema: &'a Value, name: &str) -> Option<&'a Value> {
    let s = common::resolve(spec, schema);
    s.pointer(&format!("/properties/{name}")).or_else(|| {
        s.get("allOf")?
            .as_array()?
            .iter()
            .find_map(|m| property(spec, m, name))
    })
}

/// (paginated, sync) operation paths, read straight from the spec.
fn from_spec() -> (BTreeSet<String>, BTreeSet<String>) {
    let spec = common::load_spec();
    let (mut paginated, mut sync) = (BTreeSet::new(), BTreeSet::new());
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        let Some(body) = op.pointer("/requestBody/content/application~1json/schema") else {
            continue;
        };
        let Some(resp) = op.pointer("/responses/200/content/application~1json/schema") else {
            continue;
        };
        let request = fields(&spec, body);
        let options = property(&spec, body, "options")
            .map(|o| fields(&spec, o))
            .unwrap_or_default();
        let response = fields(&spec, resp);
        let takes = |f: &str| request.contains(f) || options.contains(f);
        if request.contains("cursor")
            && response.contains("next_cursor")
            && response.contains("has_more")
            && response.contains("added")
        {
            sync.insert(path.clone());
        } else if (request.contains("cursor") && response.contains("next_cursor"))
            || takes("after_id")
            || takes("offset")
        {
            paginated.insert(path.clone());
        }
    }
    (paginated, sync)
}

fn paths(names: &[&str]) -> BTreeSet<String> {
    names
        .iter()
        .map(|name| {
            operations::ALL
                .iter()
                .find(|o| o.name == *name)
                .expect("a known operation")
                .path
                .to_owned()
        })
        .collect()
}

#[test]
fn the_derived_set_is_what_the_spec_says() {
    let (paginated, sync) = from_spec();
    assert_eq!(paths(operations::PAGINATED), paginated);
    assert_eq!(paths(operations::SYNC_PAGINATED), sync);
}

#[test]
fn the_endpoints_plaid_documents_as_paginated_are_covered() {
    let generic = paths(operations::PAGINATED);
    for path in [
        "/transactions/get",
        "/investments/transactions/get",
        "/institutions/get",
        "/transfer/list",
        "/transfer/event/list",
        "/transfer/event/sync",
        "/bank_transfer/list",
        "/bank_transfer/event/sync",
        "/payment_initiation/payment/list",
        "/wallet/list",
        "/wallet/transaction/list",
        "/identity_verification/list",
        "/dashboard_user/list",
        "/beacon/report/list",
        "/watchlist_screening/individual/list",
        "/watchlist_screening/entity/list",
    ] {
        assert!(generic.contains(path), "{path} has no paginator");
    }
    let sync = paths(operations::SYNC_PAGINATED);
    assert!(sync.contains("/transactions/sync") && sync.contains("/processor/transactions/sync"));
    assert!(
        generic.len() >= 30,
        "{} paginated operations",
        generic.len()
    );
}
