//! Every operation of both specs answers: bodies valid against the success schema (for `{}`
//! and for synthesized requests, seeds 0 and 1), deterministic, with the caller's
//! `request_id`; binary operations answer a valid PDF or ZIP.

use crate::spec::{Answer, Fill, SpecIndex};
use serde_json::{json, Value};

fn requests(index: &SpecIndex, op: &crate::spec::Operation) -> Vec<(&'static str, Value)> {
    vec![
        ("{}", json!({})),
        ("required", index.synthesize_request(op, Fill::Required, 0)),
        ("full", index.synthesize_request(op, Fill::All, 0)),
        ("full, seed 1", index.synthesize_request(op, Fill::All, 1)),
    ]
}

#[test]
fn operation_counts() {
    let v = super::common::index(super::common::VENDORED);
    assert_eq!(v.version(), "2020-09-14_1.697.4");
    assert_eq!(v.operations().count(), 329);
    assert_eq!(v.operations().filter(|o| o.method == "POST").count(), 326);
    assert_eq!(v.operations().filter(|o| o.method == "GET").count(), 3);
    let pdf = v
        .operations()
        .filter(|o| o.content_type() == "application/pdf")
        .count();
    let zip = v
        .operations()
        .filter(|o| o.content_type() == "application/zip")
        .count();
    assert_eq!((pdf, zip), (8, 1));
    assert_eq!(v.operations().filter(|o| o.has_example()).count(), 313);
    // /user/create declares 200 and 201: 200 is served.
    assert_eq!(v.operation("userCreate").unwrap().status, 200);
    let o = super::common::index(super::common::OLDEST);
    assert_eq!(o.version(), "2020-09-14_1.482.3");
    assert_eq!(o.operations().count(), 247);
}

#[test]
fn every_operation_answers_a_valid_body() {
    for path in super::common::SPECS {
        let index = super::common::index(path);
        let mut checked = 0;
        for op in index.operations() {
            for (case, request) in requests(index, op) {
                for seed in [0, 1] {
                    let answer = index.answer(op, &request, "req-1", seed);
                    assert_eq!(
                        answer,
                        index.answer(op, &request, "req-1", seed),
                        "{} {case} seed {seed}: not deterministic",
                        op.operation_id
                    );
                    match answer {
                        Answer::Json(body) => {
                            let violations = index.check_response(op, &body);
                            assert!(
                                violations.is_empty(),
                                "{} {} ({case}, seed {seed}): {violations:?}\n{body}",
                                index.version(),
                                op.operation_id
                            );
                            assert_eq!(op.content_type(), "application/json");
                            if let Some(id) = body.get("request_id") {
                                assert_eq!(id, "req-1", "{}", op.operation_id);
                            }
                            checked += 1;
                        }
                        Answer::Binary { content_type, body } => {
                            assert_eq!(content_type, op.content_type());
                            match content_type {
                                "application/pdf" => {
                                    assert!(body.starts_with(b"%PDF-1.4\n"));
                                    assert!(body.ends_with(b"%%EOF\n"));
                                }
                                "application/zip" => {
                                    assert_eq!(body.len(), 22);
                                    assert!(body.starts_with(b"PK\x05\x06"));
                                }
                                other => panic!("unexpected binary type {other}"),
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }
}

#[test]
fn request_id_is_the_callers() {
    let index = super::common::index(super::common::VENDORED);
    let mut with_id = 0;
    for op in index.operations().filter(|o| !o.is_binary()) {
        if let Answer::Json(body) = index.answer(op, &json!({}), "fresh-id-42", 7) {
            if let Some(id) = body.get("request_id") {
                assert_eq!(id, "fresh-id-42", "{}", op.operation_id);
                with_id += 1;
            }
        }
    }
    assert!(with_id > 300, "{with_id}");
    let op = index.find("POST", "/accounts/get").unwrap();
    let Answer::Json(a) = index.answer(op, &json!({}), "a", 0) else {
        panic!()
    };
    let Answer::Json(b) = index.answer(op, &json!({}), "b", 0) else {
        panic!()
    };
    assert_eq!(a["request_id"], "a");
    assert_eq!(b["request_id"], "b");
}

#[test]
fn seeds_vary_synthesized_answers_only() {
    let index = super::common::index(super::common::VENDORED);
    // No example: synthesized, and the seed shows.
    let op = index
        .find("POST", "/processor/apex/processor_token/create")
        .unwrap();
    assert!(!op.has_example());
    let (Answer::Json(a), Answer::Json(b)) = (
        index.answer(op, &json!({}), "r", 0),
        index.answer(op, &json!({}), "r", 1),
    ) else {
        panic!()
    };
    assert_ne!(a, b);
    // A valid example is served as it is, whatever the seed.
    let op = index.find("POST", "/accounts/get").unwrap();
    assert_eq!(
        index.answer(op, &json!({}), "r", 0),
        index.answer(op, &json!({}), "r", 99)
    );
}

#[test]
fn examples_plaid_got_wrong_are_repaired() {
    // Plaid's /signal/evaluate example leaves out the required risk_tier of both scores.
    let index = super::common::index(super::common::VENDORED);
    let spec = super::common::spec(super::common::VENDORED);
    let op = index.find("POST", "/signal/evaluate").unwrap();
    let example = &spec["paths"]["/signal/evaluate"]["post"]["responses"]["200"]["content"]
        ["application/json"]["example"];
    let raw = if example.is_null() {
        spec["paths"]["/signal/evaluate"]["post"]["responses"]["200"]["content"]["application/json"]
            ["examples"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["value"]
            .clone()
    } else {
        example.clone()
    };
    let violations = index.check_response(op, &raw);
    assert_eq!(
        violations,
        vec![
            "scores.bank_initiated_return_risk.risk_tier is required but missing",
            "scores.customer_initiated_return_risk.risk_tier is required but missing",
        ]
    );
    let Answer::Json(body) = index.answer(op, &json!({}), "r", 0) else {
        panic!()
    };
    assert!(index.check_response(op, &body).is_empty());
    // Only the invalid parts changed: the scores keep their example values.
    assert_eq!(
        body["scores"]["customer_initiated_return_risk"]["score"],
        raw["scores"]["customer_initiated_return_risk"]["score"]
    );
    assert!(body["scores"]["bank_initiated_return_risk"]["risk_tier"].is_number());
    let mut unrepaired = body.clone();
    unrepaired["scores"]["bank_initiated_return_risk"]
        .as_object_mut()
        .unwrap()
        .remove("risk_tier");
    unrepaired["scores"]["customer_initiated_return_risk"]
        .as_object_mut()
        .unwrap()
        .remove("risk_tier");
    unrepaired["request_id"] = raw["request_id"].clone();
    assert_eq!(unrepaired, raw);
}

#[test]
fn find_routes_every_operation() {
    for path in super::common::SPECS {
        let index = super::common::index(path);
        for op in index.operations() {
            let concrete = op
                .path
                .replace("{consentId}", "c-1")
                .replace("{recipientId}", "r-1");
            let found = index.find(&op.method.to_lowercase(), &concrete).unwrap();
            assert_eq!(found.operation_id, op.operation_id);
        }
    }
    let index = super::common::index(super::common::VENDORED);
    assert_eq!(
        index.find("GET", "/fdx/consents/abc").unwrap().path,
        "/fdx/consents/{consentId}"
    );
    assert_eq!(
        index.find("GET", "/fdx/recipients").unwrap().path,
        "/fdx/recipients"
    );
    assert_eq!(
        index.find("GET", "/fdx/recipient/r9").unwrap().path,
        "/fdx/recipient/{recipientId}"
    );
    assert!(index.find("POST", "/fdx/recipients").is_none());
    assert!(index.find("POST", "/no/such/path").is_none());
    assert_eq!(
        index.find("post", "/accounts/get/?x=1").unwrap().path,
        "/accounts/get"
    );
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<SpecIndex>();
    shared::<crate::spec::Operation>();
}

/// Review round 11: a listing answered from the spec said more follow (`has_more: true`,
/// Plaid's examples do) and named a next cursor, but every page is the same stateless
/// answer: the SDK's paginators, which follow `has_more`, asked for `/transfer/event/list`
/// page after page until their 100,000-page limit. An answer from the spec is a listing's
/// last page: `has_more: false`, or without `has_more` an empty `next_cursor` (a sync-style
/// answer keeps its cursor: `the_processor_sync_driver_runs_on_the_sandbox`). Before the fix
/// `/transfer/event/sync` and others answered `has_more: true`.
#[test]
fn a_listing_answered_from_the_spec_is_its_last_page() {
    for path in super::common::SPECS {
        let index = super::common::index(path);
        let mut listings = 0;
        for op in index.operations() {
            for (case, request) in requests(index, op) {
                let Answer::Json(body) = index.answer(op, &request, "r", 0) else {
                    continue;
                };
                if let Some(more) = body.get("has_more") {
                    assert_eq!(more, false, "{} {case}", op.operation_id);
                    listings += 1;
                }
                if let Some(cursor) = body
                    .get("next_cursor")
                    .filter(|_| body.get("has_more").is_none())
                {
                    assert!(
                        cursor.is_null() || cursor == "",
                        "{} {case}: {cursor}",
                        op.operation_id
                    );
                }
            }
        }
        assert!(listings > 0, "{path}");
    }
}
