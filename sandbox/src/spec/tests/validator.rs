//! The validator's rules, one by one, on small hand-written specs: requests (Plaid's error
//! vocabulary) and responses (`check_response`), and what synthesis makes of each rule.

use crate::spec::{Answer, Fill, RequestProblem, SpecIndex};
use serde_json::{json, Value};

/// A spec with one operation, `POST /t`, whose request and response schemas are `request` and
/// `response`, and extra component schemas.
fn spec(request: Value, response: Value, components: Value) -> SpecIndex {
    SpecIndex::new(json!({
        "openapi": "3.0.0",
        "info": {"version": "test"},
        "paths": {"/t": {"post": {
            "operationId": "t",
            "requestBody": {"content": {"application/json": {"schema": request}}},
            "responses": {"200": {"content": {"application/json": {"schema": response}}}},
        }}},
        "components": {"schemas": components},
    }))
    .expect("spec compiles")
}

/// A spec whose request schema is `schema` (the response is an empty object).
fn req_spec(schema: Value) -> SpecIndex {
    spec(schema, json!({"type": "object"}), json!({}))
}

fn check(index: &SpecIndex, body: Value) -> Result<(), RequestProblem> {
    let op = index.find("POST", "/t").unwrap();
    index.check_request(op, &body)
}

fn problem(index: &SpecIndex, body: Value) -> (String, String) {
    let p = check(index, body).expect_err("a problem");
    assert_eq!(p.error_type, "INVALID_REQUEST");
    assert_eq!(p.http_status, 400);
    (p.error_code.to_owned(), p.error_message)
}

fn invalid(index: &SpecIndex, body: Value, message: &str) {
    assert_eq!(
        problem(index, body),
        ("INVALID_FIELD".to_owned(), message.to_owned())
    );
}

fn response_violations(index: &SpecIndex, body: Value) -> Vec<String> {
    let op = index.find("POST", "/t").unwrap();
    index.check_response(op, &body)
}

fn answer(index: &SpecIndex, request: Value, seed: u64) -> Value {
    let op = index.find("POST", "/t").unwrap();
    match index.answer(op, &request, "req-9", seed) {
        Answer::Json(v) => v,
        Answer::Binary { .. } => panic!("binary"),
    }
}

#[test]
fn body_must_be_an_object() {
    let s = req_spec(json!({"type": "object"}));
    for body in [json!([]), json!("x"), json!(null), json!(3)] {
        assert_eq!(problem(&s, body).0, "INVALID_BODY");
    }
    assert!(check(&s, json!({})).is_ok());
}

#[test]
fn missing_fields_dotted_and_credentials_never_required() {
    let s = req_spec(json!({
        "type": "object",
        "required": ["client_id", "secret", "access_token", "options"],
        "properties": {
            "client_id": {"type": "string"},
            "secret": {"type": "string"},
            "access_token": {"type": "string"},
            "options": {
                "type": "object",
                "required": ["count", "offset"],
                "properties": {"count": {"type": "integer"}, "offset": {"type": "integer"}},
            },
            "accounts": {"type": "array", "items": {
                "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}},
            }},
        },
    }));
    assert_eq!(
        problem(&s, json!({})),
        (
            "MISSING_FIELDS".to_owned(),
            "the following required fields are missing: access_token, options".to_owned()
        )
    );
    let p = check(
        &s,
        json!({"access_token": "t", "options": {"offset": 1}, "accounts": [{"id": "a"}, {}]}),
    )
    .unwrap_err();
    assert_eq!(p.error_code, "MISSING_FIELDS");
    assert_eq!(
        p.error_message,
        "the following required fields are missing: accounts[1].id, options.count"
    );
    assert_eq!(p.fields, vec!["accounts[1].id", "options.count"]);
    // Credentials are neither required nor checked: the server checks them itself.
    assert!(check(
        &s,
        json!({"access_token": "t", "options": {"count": 1, "offset": 0}, "client_id": 5, "secret": null})
    )
    .is_ok());
}

#[test]
fn unknown_fields_at_the_top_whatever_additional_properties_says() {
    let s = req_spec(json!({
        "type": "object",
        "additionalProperties": true,
        "properties": {
            "a": {"type": "string"},
            "loose": {"type": "object", "properties": {"x": {"type": "string"}}},
            "strict": {"type": "object", "additionalProperties": false, "properties": {"x": {"type": "string"}}},
            "map": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}},
            "free": {"type": "object"},
        },
    }));
    assert_eq!(
        problem(
            &s,
            json!({"a": "x", "zz": 1, "b": 2, "client_id": "c", "secret": "s"})
        ),
        (
            "UNKNOWN_FIELDS".to_owned(),
            "the following fields are not recognized by this endpoint: b, zz".to_owned()
        )
    );
    // A nested object that declares its fields refuses others, as Plaid does (its answer
    // names `user.email`); one that declares none is free-form.
    assert_eq!(
        problem(&s, json!({"loose": {"x": "1", "y": 2}})),
        (
            "UNKNOWN_FIELDS".to_owned(),
            "the following fields are not recognized by this endpoint: loose.y".to_owned()
        )
    );
    assert!(check(&s, json!({"free": {"anything": [1, 2]}})).is_ok());
    assert_eq!(
        problem(&s, json!({"strict": {"x": "1", "y": 2}})),
        (
            "UNKNOWN_FIELDS".to_owned(),
            "the following fields are not recognized by this endpoint: strict.y".to_owned()
        )
    );
    assert!(check(&s, json!({"map": {"k": "abc"}})).is_ok());
    invalid(
        &s,
        json!({"map": {"k": "abcd"}}),
        "map.k must be at most 3 characters long",
    );
    // Unknown fields are reported before missing ones.
    let s2 = req_spec(
        json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}),
    );
    assert_eq!(problem(&s2, json!({"b": 1})).0, "UNKNOWN_FIELDS");
}

#[test]
fn types_and_null() {
    let s = req_spec(json!({
        "type": "object",
        "required": ["s", "n"],
        "properties": {
            "s": {"type": "string"},
            "n": {"type": "string", "nullable": true},
            "i": {"type": "integer"},
            "f": {"type": "number"},
            "b": {"type": "boolean"},
            "o": {"type": "object"},
            "l": {"type": "array", "items": {"type": "string"}},
        },
    }));
    assert!(check(&s, json!({"s": "x", "n": null})).is_ok());
    invalid(&s, json!({"s": 1, "n": null}), "s must be a string");
    invalid(
        &s,
        json!({"s": "x", "n": "y", "i": 1.5}),
        "i must be an integer",
    );
    assert!(check(&s, json!({"s": "x", "n": "y", "i": 2, "f": 1})).is_ok());
    // `2.0` is a number written as one, not an integer (review round 7).
    invalid(
        &s,
        json!({"s": "x", "n": "y", "i": 2.0}),
        "i must be an integer",
    );
    invalid(
        &s,
        json!({"s": "x", "n": "y", "f": "1"}),
        "f must be a number",
    );
    invalid(
        &s,
        json!({"s": "x", "n": "y", "b": "true"}),
        "b must be a boolean",
    );
    invalid(
        &s,
        json!({"s": "x", "n": "y", "o": []}),
        "o must be an object",
    );
    invalid(
        &s,
        json!({"s": "x", "n": "y", "l": "a"}),
        "l must be an array",
    );
    invalid(
        &s,
        json!({"s": "x", "n": "y", "l": ["a", 2]}),
        "l[1] must be a string",
    );
    // A request's null for a property that is not nullable counts as absent.
    assert_eq!(
        problem(&s, json!({"s": null, "n": null})).1,
        "the following required fields are missing: s"
    );
    assert!(check(&s, json!({"s": "x", "n": null, "i": null})).is_ok());
    // A response's null is valid only where nullable.
    let r = spec(
        json!({"type": "object"}),
        json!({"type": "object", "properties": {
            "s": {"type": "string"},
            "n": {"type": "string", "nullable": true},
            "w": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/S"}]},
        }}),
        json!({"S": {"type": "string"}}),
    );
    assert!(response_violations(&r, json!({"n": null, "w": null})).is_empty());
    assert_eq!(
        response_violations(&r, json!({"s": null})),
        vec!["s must be a string"]
    );
}

#[test]
fn enums_with_numbers_nulls_and_duplicates() {
    let s = spec(
        json!({"type": "object", "properties": {
            "v": {"$ref": "#/components/schemas/Version"},
            "c": {"type": "array", "items": {"$ref": "#/components/schemas/Country"}},
            "flag": {"type": "string", "enum": [true, false]},
        }}),
        json!({"type": "object", "properties": {
            "v": {"$ref": "#/components/schemas/Version"},
            "code": {"type": "string", "enum": ["A", null]},
        }}),
        json!({
            // YAML reads `enum: [4.1, 4, 3]` of a string schema as numbers.
            "Version": {"type": "string", "nullable": true, "enum": [4.1, 4, 3, null, null]},
            "Country": {"type": "string", "enum": ["US", "GB", "US"]},
        }),
    );
    for v in [json!("4.1"), json!("4"), json!(null)] {
        assert!(check(&s, json!({"v": v})).is_ok(), "{v}");
    }
    invalid(&s, json!({"v": "5"}), "v must be one of 4.1, 4, 3");
    invalid(&s, json!({"v": 4.1}), "v must be a string");
    invalid(&s, json!({"c": ["US", "XX"]}), "c[1] must be one of US, GB");
    assert!(check(&s, json!({"flag": "true"})).is_ok());
    // An enum listing null does not make a schema nullable.
    assert_eq!(
        response_violations(&s, json!({"code": null})),
        vec!["code must be a string"]
    );
    assert!(response_violations(&s, json!({"code": "A", "v": "3"})).is_empty());
}

#[test]
fn numeric_bounds() {
    let s = req_spec(json!({"type": "object", "properties": {
        "count": {"type": "integer", "minimum": 1, "maximum": 500},
        "offset": {"type": "integer", "minimum": 0},
        "low": {"type": "integer", "maximum": 10},
        "pos": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
        "old": {"type": "integer", "minimum": 1, "exclusiveMinimum": false, "maximum": 5},
        "modern": {"type": "number", "exclusiveMaximum": 1},
        "step": {"type": "number", "multipleOf": 0.5},
    }}));
    assert!(check(
        &s,
        json!({"count": 1, "offset": 0, "pos": 0.01, "old": 1, "modern": 0.9, "step": 1.5})
    )
    .is_ok());
    invalid(
        &s,
        json!({"count": 0}),
        "count must be an integer between 1 and 500",
    );
    invalid(
        &s,
        json!({"count": 501}),
        "count must be an integer between 1 and 500",
    );
    invalid(
        &s,
        json!({"offset": -1}),
        "offset must be an integer greater than or equal to 0",
    );
    invalid(
        &s,
        json!({"low": 11}),
        "low must be an integer less than or equal to 10",
    );
    invalid(&s, json!({"pos": 0}), "pos must be a number greater than 0");
    invalid(
        &s,
        json!({"old": 0}),
        "old must be an integer between 1 and 5",
    );
    invalid(
        &s,
        json!({"modern": 1}),
        "modern must be a number less than 1",
    );
    invalid(&s, json!({"step": 0.7}), "step must be a multiple of 0.5");
}

#[test]
fn string_and_array_lengths() {
    let s = req_spec(json!({"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 30},
        "key": {"type": "string", "maxLength": 3},
        "pin": {"type": "string", "minLength": 4, "maxLength": 4},
        "codes": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "ids": {"type": "array", "maxItems": 2, "uniqueItems": true, "items": {"type": "string"}},
    }}));
    assert!(check(&s, json!({"name": "é".repeat(30), "key": "abc", "pin": "1234", "codes": ["a"], "ids": ["a", "b"]})).is_ok());
    invalid(
        &s,
        json!({"name": ""}),
        "name must be between 1 and 30 characters long",
    );
    invalid(
        &s,
        json!({"name": "x".repeat(31)}),
        "name must be between 1 and 30 characters long",
    );
    invalid(
        &s,
        json!({"key": "abcd"}),
        "key must be at most 3 characters long",
    );
    invalid(
        &s,
        json!({"pin": "123"}),
        "pin must be exactly 4 characters long",
    );
    invalid(
        &s,
        json!({"codes": []}),
        "codes must contain at least 1 item",
    );
    invalid(
        &s,
        json!({"ids": ["a", "b", "c"]}),
        "ids must contain at most 2 items",
    );
    invalid(
        &s,
        json!({"ids": ["a", "a"]}),
        "ids must not contain duplicate items",
    );
}

/// Review round 17: numbers were bucketed for `uniqueItems` by their `f64` text and an
/// integer met a float as `f64`, so 2^63 + 1 and 2^63.0 were "duplicates", and 95,000
/// distinct integers near 2^63 fell in few buckets, each compared pairwise under the
/// sandbox's lock. Numbers are equal by exact value, as JSON Schema has it (`1` is `1.0`).
#[test]
fn unique_numbers_are_compared_by_exact_value() {
    let s = req_spec(json!({"type": "object", "properties": {
        "nums": {"type": "array", "uniqueItems": true, "items": {"type": "number"}},
        "lists": {"type": "array", "uniqueItems": true, "items": {"type": "array"}},
    }}));
    let above: Value =
        serde_json::from_str("[9223372036854775809, 9223372036854775808.0]").unwrap();
    assert!(check(&s, json!({ "nums": above })).is_ok());
    let near: Vec<u64> = (0..1_000).map(|k| (1 << 63) + k).collect();
    assert!(check(&s, json!({ "nums": near })).is_ok());
    let nested: Vec<Value> = (0..1_000u64).map(|k| json!([(1u64 << 63) + k])).collect();
    assert!(check(&s, json!({ "lists": nested })).is_ok());
    for same in [
        "[1, 1.0]",
        "[-3, -3.0]",
        "[18446744073709551615, 18446744073709551615]",
        "[0.5, 0.5]",
    ] {
        let nums: Value = serde_json::from_str(same).unwrap();
        invalid(
            &s,
            json!({ "nums": nums }),
            "nums must not contain duplicate items",
        );
    }
    let lists: Value = serde_json::from_str("[[2, {\"a\": 1}], [2.0, {\"a\": 1.0}]]").unwrap();
    invalid(
        &s,
        json!({ "lists": lists }),
        "lists must not contain duplicate items",
    );
}

#[test]
fn formats_and_patterns() {
    let s = req_spec(json!({"type": "object", "properties": {
        "start_date": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string", "format": "email"},
        "webhook": {"type": "string", "format": "url"},
        "other": {"type": "string", "format": "cognito_id"},
        "mask": {"type": "string", "pattern": "^$|^[A-Za-z0-9]{2,4}$"},
        "odd": {"type": "string", "pattern": "^(a)\\1$"},
    }}));
    assert!(check(
        &s,
        json!({
            "start_date": "2024-02-29", "at": "2024-01-15T10:30:00.5+01:00",
            "id": "123e4567-e89b-12d3-a456-426614174000", "email": "a@example.com",
            "webhook": "https://example.com/hook", "other": "anything", "mask": "0000",
            "odd": "not checked: back-references are outside the supported subset",
        })
    )
    .is_ok());
    invalid(
        &s,
        json!({"start_date": "2023-02-29"}),
        "start_date must be a date in the format YYYY-MM-DD",
    );
    invalid(
        &s,
        json!({"start_date": "01/02/2024"}),
        "start_date must be a date in the format YYYY-MM-DD",
    );
    let (code, message) = problem(&s, json!({"at": "2024-01-15T10:30:00"}));
    assert_eq!(code, "INVALID_FIELD");
    assert!(
        message.starts_with("at must be a date-time in RFC 3339 format"),
        "{message}"
    );
    invalid(&s, json!({"id": "nope"}), "id must be a UUID");
    invalid(
        &s,
        json!({"email": "a@b"}),
        "email must be an email address",
    );
    invalid(
        &s,
        json!({"webhook": "example.com/hook"}),
        "webhook must be an absolute http(s) URL",
    );
    invalid(
        &s,
        json!({"mask": "12345"}),
        "mask must match the pattern ^$|^[A-Za-z0-9]{2,4}$",
    );
    assert!(check(&s, json!({"mask": ""})).is_ok());
}

/// Review round 20 (a differential against Prism's mock): a request's `url` field took any
/// absolute URI, so `/link/token/create` stored `javascript:alert(1)` as a webhook, and a
/// `uri` took broken escapes and brackets. A request's URL is now a web URL on any host
/// (loopback and private ones too, as a test's webhook receiver is).
#[test]
fn a_requests_url_is_a_web_url_on_any_host() {
    let s = req_spec(json!({"type": "object", "properties": {
        "webhook": {"type": "string", "format": "url"},
        "link": {"type": "string", "format": "uri"},
    }}));
    for good in [
        "https://example.com/hook",
        "http://localhost:8000/h",
        "http://127.0.0.1/h",
        "https://10.0.0.1/h",
        "http://[::1]:9000/webhooks/plaid?x=1#f",
        "http://receiver/h",
        "https://user@example.com/a%20b",
        "HTTPS://Example.COM",
        "http://example.com./h",
        "http://h:/empty-port",
        "http://h?x=1",
    ] {
        assert!(check(&s, json!({ "webhook": good })).is_ok(), "{good}");
    }
    for bad in [
        "javascript:alert(1)",
        "foo:bar",
        "mailto:a@example.com",
        "http:///path",
        "http://",
        "http://[::1",
        "http://[::1]x/",
        "http://host:port/",
        "http://host:65536/",
        "http://./",
        "https://example.com/%zz",
        "https://exa mple.com/",
        "https://-bad-.com/",
    ] {
        invalid(
            &s,
            json!({ "webhook": bad }),
            "webhook must be an absolute http(s) URL",
        );
    }
    assert!(check(&s, json!({"link": "urn:isbn:0451450523"})).is_ok());
    assert!(check(&s, json!({"link": "https://example.com/a%2Fb"})).is_ok());
    for bad in ["https://example.com/%zz", "http://[::1/x", "https://a/%4"] {
        invalid(&s, json!({ "link": bad }), "link must be an absolute URL");
    }
}

#[test]
fn all_of_merges_and_refs_resolve() {
    let s = spec(
        json!({"$ref": "#/components/schemas/Req"}),
        json!({"$ref": "#/components/schemas/Alias"}),
        json!({
            "Alias": {"$ref": "#/components/schemas/Resp"},
            "Base": {"type": "object", "required": ["access_token"], "properties": {"access_token": {"type": "string"}}},
            "Req": {"allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "required": ["item"], "properties": {"item": {"$ref": "#/components/schemas/Item"}}},
            ], "description": "merged"},
            "Item": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"},
                "parent": {"$ref": "#/components/schemas/Item"},
            }},
            "Resp": {"type": "object", "required": ["item", "request_id"], "properties": {
                "item": {"$ref": "#/components/schemas/Item"},
                "request_id": {"type": "string"},
            }},
        }),
    );
    assert_eq!(
        problem(&s, json!({})).1,
        "the following required fields are missing: access_token, item"
    );
    // Properties of every allOf part are known at the top.
    assert!(check(
        &s,
        json!({"access_token": "t", "item": {"id": "i", "parent": {"id": "p"}}})
    )
    .is_ok());
    assert_eq!(
        problem(
            &s,
            json!({"access_token": "t", "item": {"id": "i"}, "x": 1})
        )
        .0,
        "UNKNOWN_FIELDS"
    );
    invalid(
        &s,
        json!({"access_token": "t", "item": {"id": "i", "parent": {"id": 3}}}),
        "item.parent.id must be a string",
    );
    // The answer, synthesized through the alias and the recursive reference.
    let body = answer(&s, json!({}), 0);
    assert!(response_violations(&s, body.clone()).is_empty(), "{body}");
    assert_eq!(body["request_id"], "req-9");
    assert_eq!(
        response_violations(&s, json!({"item": {}})),
        vec![
            "request_id is required but missing",
            "item.id is required but missing"
        ]
    );
}

#[test]
fn any_of_and_one_of_accept_any_branch() {
    let s = spec(
        json!({"type": "object", "properties": {
            "v": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]},
            "w": {"anyOf": [{"type": "string", "format": "date"}, {"type": "boolean"}]},
        }}),
        json!({"type": "object", "required": ["v"], "properties": {
            "v": {"oneOf": [{"type": "integer", "minimum": 3}, {"type": "string"}]},
        }}),
        json!({}),
    );
    for v in [json!("a"), json!(2)] {
        assert!(check(&s, json!({"v": v})).is_ok());
    }
    invalid(
        &s,
        json!({"v": -1}),
        "v does not match any of the allowed schemas",
    );
    invalid(
        &s,
        json!({"v": true}),
        "v does not match any of the allowed schemas",
    );
    assert!(check(&s, json!({"w": true})).is_ok());
    invalid(
        &s,
        json!({"w": "2024-99-01"}),
        "w does not match any of the allowed schemas",
    );
    let body = answer(&s, json!({}), 0);
    assert!(response_violations(&s, body.clone()).is_empty(), "{body}");
}

#[test]
fn synthesis_honours_every_rule() {
    let s = spec(
        json!({"type": "object"}),
        json!({"type": "object", "required": [
            "day", "at", "id", "mail", "site", "mask", "code", "short", "long", "n", "x", "f", "list", "set", "v", "map", "flag",
        ], "properties": {
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "mail": {"type": "string", "format": "email"},
            "site": {"type": "string", "format": "url"},
            "mask": {"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"},
            "code": {"type": "string", "enum": ["A", "B"]},
            "short": {"type": "string", "maxLength": 2},
            "long": {"type": "string", "minLength": 40},
            "n": {"type": "integer", "minimum": 5, "maximum": 9},
            "x": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1},
            "f": {"type": "number", "maximum": -3},
            "list": {"type": "array", "minItems": 3, "items": {"type": "string", "enum": ["p", "q", "r"]}, "uniqueItems": true},
            "set": {"type": "array", "minItems": 2, "uniqueItems": true, "items": {"type": "string", "format": "date"}},
            "v": {"type": "string", "nullable": true, "enum": [4.1, 4]},
            "map": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "integer"}},
            "flag": {"type": "boolean"},
            "optional": {"type": "string"},
        }}),
        json!({}),
    );
    for seed in 0..8 {
        let body = answer(&s, json!({}), seed);
        assert!(
            response_violations(&s, body.clone()).is_empty(),
            "seed {seed}: {body}"
        );
        assert!(body.get("optional").is_none());
        // A string enum YAML read as numbers: Ajv accepts neither "4.1" nor 4.1; null it is.
        assert_eq!(body["v"], Value::Null);
        assert_eq!(body, answer(&s, json!({}), seed), "deterministic");
    }
    assert_ne!(
        answer(&s, json!({}), 0),
        answer(&s, json!({}), 1),
        "the seed varies values"
    );
    let op = s.find("POST", "/t").unwrap();
    assert_eq!(s.synthesize_request(op, Fill::All, 0), json!({}));
}

#[test]
fn repair_replaces_only_invalid_subtrees() {
    let index = SpecIndex::new(json!({
        "openapi": "3.0.0",
        "info": {"version": "test"},
        "paths": {"/t": {"post": {
            "responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/R"},
                "examples": {"first": {"value": {
                    "created_at": "2020-01-01",
                    "name": "kept",
                    "extra": {"kept": true},
                    "strict": {"a": "kept", "dropped": 1},
                    "items": [{"id": "one"}, {"id": 2}, {"id": "one"}],
                    "count": null,
                }}},
            }}}},
        }}},
        "components": {"schemas": {"R": {"type": "object", "required": ["created_at", "name", "request_id", "must"], "properties": {
            "created_at": {"type": "string", "format": "date-time"},
            "name": {"type": "string"},
            "request_id": {"type": "string"},
            "must": {"type": "integer", "minimum": 2},
            "strict": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}},
            "items": {"type": "array", "uniqueItems": true, "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
            "count": {"type": "integer"},
        }}}},
    }))
    .unwrap();
    let op = index
        .operation("POST /t")
        .expect("an id from method and path");
    let Answer::Json(body) = index.answer(op, &json!({}), "rid", 0) else {
        panic!()
    };
    assert!(index.check_response(op, &body).is_empty(), "{body}");
    assert_eq!(body["name"], "kept");
    assert_eq!(body["extra"], json!({"kept": true}));
    assert_eq!(body["strict"], json!({"a": "kept"}));
    assert_eq!(body["must"], 2);
    assert_eq!(body["request_id"], "rid");
    assert!(body["created_at"].as_str().unwrap().contains('T'));
    assert_eq!(body["items"][0], json!({"id": "one"}));
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert!(body["count"].is_i64());
}

#[test]
fn malformed_specs_are_errors_not_panics() {
    assert!(SpecIndex::new(json!({})).is_err());
    assert!(SpecIndex::new(json!([1, 2])).is_err());
    let unresolved = json!({"paths": {"/t": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Nope"}}}}}}}});
    assert!(SpecIndex::new(unresolved).unwrap_err().contains("Nope"));
    let circular = json!({"paths": {"/t": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/A"}}}}}}},
        "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}}});
    assert!(SpecIndex::new(circular).is_err());
    let bad_type = json!({"paths": {"/t": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"type": "strnig"}}}}}}}});
    assert!(SpecIndex::new(bad_type).is_err());
    // A self-referencing required property: synthesis stops, no stack overflow.
    let s = spec(
        json!({"$ref": "#/components/schemas/Loop"}),
        json!({"$ref": "#/components/schemas/Loop"}),
        json!({"Loop": {"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#/components/schemas/Loop"}}}}),
    );
    let op = s.find("POST", "/t").unwrap();
    let _ = s.answer(op, &json!({}), "r", 0);
    let _ = s.synthesize_request(op, Fill::All, 0);
    // A deeply nested body is refused, not overflowed.
    let mut deep = json!({});
    for _ in 0..600 {
        deep = json!({ "next": deep });
    }
    assert!(check(&s, deep.clone()).is_err());
    assert!(s
        .check_request(op, &deep)
        .unwrap_err()
        .error_message
        .contains("nested too deeply"));
    assert!(!s.check_response(op, &deep).is_empty());
    let _ = s.answer(op, &deep, "r", 0);
}
