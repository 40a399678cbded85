//! Echo of request values into same-named response fields, on the real spec.

use crate::spec::{Answer, Fill, SpecIndex};
use serde_json::{json, Value};

fn body(index: &SpecIndex, path: &str, request: Value) -> Value {
    let op = index.find("POST", path).unwrap();
    match index.answer(op, &request, "req-1", 0) {
        Answer::Json(b) => {
            assert!(index.check_response(op, &b).is_empty(), "{b}");
            b
        }
        Answer::Binary { .. } => panic!("binary"),
    }
}

#[test]
fn institution_id_is_echoed_into_the_institution() {
    let index = super::common::index(super::common::VENDORED);
    let b = body(
        index,
        "/institutions/get_by_id",
        json!({"institution_id": "ins_109508", "country_codes": ["US", "GB"]}),
    );
    assert_eq!(b["institution"]["institution_id"], "ins_109508");
    // An array of scalars of the same type is replaced as a whole.
    assert_eq!(b["institution"]["country_codes"], json!(["US", "GB"]));
    // The rest is the spec's example.
    assert_eq!(b["institution"]["name"], "Houndstooth Bank");
    assert_eq!(b["request_id"], "req-1");
}

#[test]
fn scalars_are_echoed_at_nested_levels() {
    let index = super::common::index(super::common::VENDORED);
    let b = body(
        index,
        "/item/webhook/update",
        json!({"access_token": "access-sandbox-x", "webhook": "https://hooks.example.org/plaid"}),
    );
    assert_eq!(b["item"]["webhook"], "https://hooks.example.org/plaid");
    let b = body(
        index,
        "/transfer/create",
        json!({"access_token": "a", "account_id": "acc-7", "authorization_id": "auth-7", "description": "rent", "amount": "42.00"}),
    );
    assert_eq!(b["transfer"]["account_id"], "acc-7");
    assert_eq!(b["transfer"]["authorization_id"], "auth-7");
    assert_eq!(b["transfer"]["description"], "rent");
    assert_eq!(b["transfer"]["amount"], "42.00");
    // Into every object of an array.
    let b = body(
        index,
        "/wallet/transaction/list",
        json!({"wallet_id": "wallet-9"}),
    );
    let transactions = b["transactions"].as_array().unwrap();
    assert!(transactions.len() >= 2);
    assert!(transactions.iter().all(|t| t["wallet_id"] == "wallet-9"));
    // Numbers and booleans too.
    let b = body(
        index,
        "/beacon/report/create",
        json!({"beacon_user_id": "becusr_1", "type": "first_party", "fraud_date": "2024-03-01", "fraud_amount": {"iso_currency_code": "USD", "value": 250.5}}),
    );
    assert_eq!(b["beacon_user_id"], "becusr_1");
    assert_eq!(b["fraud_date"], "2024-03-01");
    assert_eq!(b["fraud_amount"]["value"], 250.5);
}

#[test]
fn only_values_valid_for_the_response_field_and_of_the_same_type_are_echoed() {
    let index = super::common::index(super::common::VENDORED);
    let plain = body(index, "/institutions/get_by_id", json!({}));
    // "XX" is no country code the response allows; a number is not a string.
    let b = body(
        index,
        "/institutions/get_by_id",
        json!({"institution_id": 42, "country_codes": ["XX"]}),
    );
    assert_eq!(b, plain);
    // An object is never replaced wholesale.
    let b = body(
        index,
        "/institutions/get_by_id",
        json!({"institution_id": "ins_1", "institution": {"name": "Mine"}}),
    );
    assert_eq!(b["institution"]["name"], "Mine", "walked into, key by key");
    assert_eq!(
        b["institution"]["products"],
        plain["institution"]["products"]
    );
    let b = body(
        index,
        "/institutions/get_by_id",
        json!({"institution": "not an object"}),
    );
    assert_eq!(b, plain);
}

#[test]
fn credentials_and_tokens_are_never_echoed() {
    const MARK: &str = "NEVER-ECHOED";
    fn mark(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    let l = k.to_ascii_lowercase();
                    if x.is_string()
                        && (l == "client_id" || l.contains("secret") || l.contains("token"))
                    {
                        *x = json!(MARK);
                    } else {
                        mark(x);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(mark),
            _ => {}
        }
    }
    for path in super::common::SPECS {
        let index = super::common::index(path);
        let mut marked = 0;
        for op in index.operations() {
            let mut request = index.synthesize_request(op, Fill::All, 0);
            for key in [
                "client_id",
                "secret",
                "access_token",
                "public_token",
                "processor_token",
                "user_token",
                "link_token",
            ] {
                if request.is_object() {
                    request[key] = json!(MARK);
                }
            }
            mark(&mut request);
            if let Answer::Json(b) = index.answer(op, &request, "req-1", 0) {
                assert!(!b.to_string().contains(MARK), "{}: {b}", op.operation_id);
                marked += 1;
            }
        }
        assert!(marked > 200);
    }
}

#[test]
fn echo_keeps_every_answer_valid() {
    // Requests holding, under every response key, a value of every type.
    let index = super::common::index(super::common::VENDORED);
    for op in index.operations().filter(|o| !o.is_binary()) {
        let Answer::Json(plain) = index.answer(op, &json!({}), "r", 0) else {
            continue;
        };
        let mut keys = Vec::new();
        collect_keys(&plain, &mut keys);
        for filler in [
            json!("2024-01-01"),
            json!(7),
            json!(true),
            json!(["US"]),
            json!(-1.5),
        ] {
            let request: serde_json::Map<String, Value> =
                keys.iter().map(|k| (k.clone(), filler.clone())).collect();
            let Answer::Json(b) = index.answer(op, &Value::Object(request), "r", 0) else {
                panic!()
            };
            assert!(
                index.check_response(op, &b).is_empty(),
                "{} {filler}",
                op.operation_id
            );
        }
    }
}

fn collect_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if !out.contains(k) {
                    out.push(k.clone());
                }
                collect_keys(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_keys(x, out)),
        _ => {}
    }
}
