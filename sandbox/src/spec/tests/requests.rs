//! Request checks on the real specs: synthesized requests pass, `{}` misses exactly the
//! required fields, mutations are named in Plaid's vocabulary.

use crate::spec::{Fill, SpecIndex};
use serde_json::{json, Value};

/// The required top-level fields of an operation's request schema (with its allOf parts),
/// read from the spec itself, credentials aside.
fn required_fields(spec: &Value, op: &crate::spec::Operation) -> Vec<String> {
    fn resolve<'a>(spec: &'a Value, mut s: &'a Value) -> &'a Value {
        while let Some(r) = s.get("$ref").and_then(Value::as_str) {
            s = spec.pointer(r.trim_start_matches('#')).unwrap();
        }
        s
    }
    fn collect(spec: &Value, s: &Value, out: &mut Vec<String>) {
        let s = resolve(spec, s);
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap().to_owned();
            if r != "client_id" && r != "secret" && !out.contains(&r) {
                out.push(r);
            }
        }
        for part in s
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect(spec, part, out);
        }
    }
    let mut out = Vec::new();
    let body = &spec["paths"][&op.path][op.method.to_lowercase()]["requestBody"]["content"]
        ["application/json"]["schema"];
    if !body.is_null() {
        collect(spec, body, &mut out);
    }
    out
}

#[test]
fn synthesized_requests_pass_and_empty_ones_miss_the_required_fields() {
    for path in super::common::SPECS {
        let index = super::common::index(path);
        let spec = super::common::spec(path);
        let mut with_required = 0;
        for op in index.operations() {
            for (fill, seed) in [(Fill::All, 0), (Fill::All, 1), (Fill::Required, 0)] {
                let request = index.synthesize_request(op, fill, seed);
                assert_eq!(
                    index.check_request(op, &request),
                    Ok(()),
                    "{} {fill:?} seed {seed}: {request}",
                    op.operation_id
                );
            }
            let required = required_fields(spec, op);
            match index.check_request(op, &json!({})) {
                Ok(()) => assert!(required.is_empty(), "{}: {required:?}", op.operation_id),
                Err(p) => {
                    assert_eq!(p.error_code, "MISSING_FIELDS", "{}", op.operation_id);
                    let mut got = p.fields.clone();
                    got.sort();
                    let mut want = required.clone();
                    want.sort();
                    assert_eq!(got, want, "{}", op.operation_id);
                    assert_eq!(
                        p.error_message,
                        format!(
                            "the following required fields are missing: {}",
                            p.fields.join(", ")
                        )
                    );
                    with_required += 1;
                }
            }
        }
        assert!(with_required > 200, "{with_required}");
    }
}

#[test]
fn mutated_requests_are_refused_naming_the_field() {
    for path in super::common::SPECS {
        let index = super::common::index(path);
        let (mut typed, mut unknown) = (0, 0);
        for op in index.operations().filter(|o| o.has_request_schema()) {
            let full = index.synthesize_request(op, Fill::All, 0);
            let Value::Object(map) = &full else {
                panic!("{}: {full}", op.operation_id)
            };
            let mut extra = full.clone();
            extra["not_a_plaid_field"] = json!(1);
            let p = index.check_request(op, &extra).unwrap_err();
            assert_eq!(p.error_code, "UNKNOWN_FIELDS");
            assert_eq!(p.fields, vec!["not_a_plaid_field"]);
            unknown += 1;
            for (key, value) in map {
                if key == "client_id" || key == "secret" {
                    continue;
                }
                let wrong = match value {
                    Value::String(_) => json!(12345),
                    Value::Number(_) | Value::Bool(_) | Value::Array(_) => json!({"x": "y"}),
                    Value::Object(_) => json!("not an object"),
                    Value::Null => continue,
                };
                let mut bad = full.clone();
                bad[key] = wrong;
                let p = index
                    .check_request(op, &bad)
                    .expect_err(&format!("{} {key}", op.operation_id));
                assert_eq!(
                    p.error_code, "INVALID_FIELD",
                    "{} {key}: {p:?}",
                    op.operation_id
                );
                assert_eq!(p.fields, vec![key.clone()], "{} {key}", op.operation_id);
                assert!(
                    p.error_message.starts_with(&format!("{key} must be ")),
                    "{}",
                    p.error_message
                );
                typed += 1;
            }
        }
        println!(
            "{}: {typed} wrongly typed fields and {unknown} unknown ones refused",
            index.version()
        );
        assert!(typed > 500 && unknown > 240, "{typed} {unknown}");
    }
}

fn op<'a>(index: &'a SpecIndex, path: &str) -> &'a crate::spec::Operation {
    index.find("POST", path).unwrap()
}

fn problem(index: &SpecIndex, path: &str, body: Value) -> (&'static str, String) {
    let p = index.check_request(op(index, path), &body).unwrap_err();
    (p.error_code, p.error_message)
}

#[test]
fn plaid_vocabulary_on_real_operations() {
    let index = super::common::index(super::common::VENDORED);
    let tx = json!({"access_token": "access-sandbox-1", "start_date": "2024-01-01", "end_date": "2024-02-01"});
    assert_eq!(
        index.check_request(op(index, "/transactions/get"), &tx),
        Ok(())
    );
    let mut bad = tx.clone();
    bad["options"] = json!({"count": 0});
    assert_eq!(
        problem(index, "/transactions/get", bad),
        (
            "INVALID_FIELD",
            "options.count must be an integer between 1 and 500".to_owned()
        )
    );
    let mut bad = tx.clone();
    bad["start_date"] = json!("01/02/2024");
    assert_eq!(
        problem(index, "/transactions/get", bad),
        (
            "INVALID_FIELD",
            "start_date must be a date in the format YYYY-MM-DD".to_owned()
        )
    );
    assert_eq!(
        problem(index, "/transactions/get", json!({"access_token": "a"})),
        (
            "MISSING_FIELDS",
            "the following required fields are missing: start_date, end_date".to_owned()
        )
    );
    assert_eq!(
        problem(
            index,
            "/transactions/get",
            json!({"access_token": "a", "start_date": "2024-01-01", "end_date": "2024-02-01", "cursor": "x", "count": 1})
        ),
        (
            "UNKNOWN_FIELDS",
            "the following fields are not recognized by this endpoint: count, cursor".to_owned()
        )
    );
    let (code, message) = problem(
        index,
        "/institutions/get",
        json!({"count": 10, "offset": 0, "country_codes": ["US", "XX"]}),
    );
    assert_eq!(code, "INVALID_FIELD");
    assert!(
        message.starts_with("country_codes[1] must be one of US, GB, ES, NL, FR"),
        "{message}"
    );
    assert_eq!(
        problem(
            index,
            "/link/token/create",
            json!({"client_name": "App", "language": "en", "country_codes": ["US"], "user": {}})
        ),
        (
            "MISSING_FIELDS",
            "the following required fields are missing: user.client_user_id".to_owned()
        )
    );
    assert_eq!(
        problem(
            index,
            "/sandbox/public_token/create",
            json!({"institution_id": "ins_109508", "initial_products": []})
        ),
        (
            "INVALID_FIELD",
            "initial_products must contain at least 1 item".to_owned()
        )
    );
    assert_eq!(
        problem(
            index,
            "/transfer/create",
            json!({"access_token": "a", "account_id": "b", "authorization_id": "c", "description": "sixteen chars..."})
        ),
        (
            "INVALID_FIELD",
            "description must be at most 15 characters long".to_owned()
        )
    );
    // The spec lists client_id and secret as required here; they come in headers instead.
    assert_eq!(
        problem(index, "/application/get", json!({})),
        (
            "MISSING_FIELDS",
            "the following required fields are missing: application_id".to_owned()
        )
    );
    assert_eq!(
        index.check_request(
            op(index, "/application/get"),
            &json!({"application_id": "x"})
        ),
        Ok(())
    );
    // YAML's numeric `type: string` enums take the text of their values.
    let cra = op(index, "/cra/check_report/create");
    let mut request = index.synthesize_request(cra, Fill::Required, 0);
    request["partner_insights"] = json!({"prism_versions": {"cashscore": "4.1", "extend": "4"}});
    assert_eq!(index.check_request(cra, &request), Ok(()));
    request["partner_insights"] = json!({"prism_versions": {"cashscore": "9"}});
    assert_eq!(
        index
            .check_request(cra, &request)
            .unwrap_err()
            .error_message,
        "partner_insights.prism_versions.cashscore must be one of 4.1, 4, 3_lite, 3"
    );
    // Plaid's error body.
    let p = index
        .check_request(op(index, "/accounts/get"), &json!([]))
        .unwrap_err();
    assert_eq!(p.error_code, "INVALID_BODY");
    let e = p.to_plaid_error("rid");
    assert_eq!(e["error_type"], "INVALID_REQUEST");
    assert_eq!(e["error_code"], "INVALID_BODY");
    assert_eq!(e["request_id"], "rid");
    assert_eq!(e["status"], 400);
}

#[test]
fn operations_without_a_body_accept_anything() {
    let index = super::common::index(super::common::VENDORED);
    let op = index.find("GET", "/fdx/recipients").unwrap();
    assert!(!op.has_request_schema());
    assert_eq!(index.check_request(op, &Value::Null), Ok(()));
    assert_eq!(index.synthesize_request(op, Fill::All, 0), json!({}));
}
