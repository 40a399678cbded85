//! The digest answers exactly like the spec it was made from; the YAML original answers
//! exactly like its JSON conversion.

use crate::spec::{Fill, SpecIndex};
use serde_json::{json, Value};

/// Every observable answer of `a` equals `b`'s, operation by operation.
fn same_answers(a: &SpecIndex, b: &SpecIndex) {
    assert_eq!(a.version(), b.version());
    let ops_a: Vec<_> = a.operations().collect();
    let ops_b: Vec<_> = b.operations().collect();
    assert_eq!(ops_a.len(), ops_b.len());
    for (x, y) in ops_a.iter().zip(&ops_b) {
        assert_eq!(
            (
                &x.operation_id,
                &x.method,
                &x.path,
                x.status,
                x.content_type(),
                x.has_example()
            ),
            (
                &y.operation_id,
                &y.method,
                &y.path,
                y.status,
                y.content_type(),
                y.has_example()
            )
        );
        let mut requests = vec![json!({}), json!([]), json!({"unknown": 1})];
        for (fill, seed) in [(Fill::All, 0), (Fill::All, 1), (Fill::Required, 0)] {
            let r = a.synthesize_request(x, fill, seed);
            assert_eq!(r, b.synthesize_request(y, fill, seed), "{}", x.operation_id);
            requests.push(r);
        }
        for r in &requests {
            assert_eq!(
                a.check_request(x, r),
                b.check_request(y, r),
                "{}",
                x.operation_id
            );
            for seed in [0, 1] {
                let answer = a.answer(x, r, "rid", seed);
                assert_eq!(answer, b.answer(y, r, "rid", seed), "{}", x.operation_id);
                if let crate::spec::Answer::Json(body) = answer {
                    assert_eq!(a.check_response(x, &body), b.check_response(y, &body));
                }
            }
            assert_eq!(
                a.check_response(x, r),
                b.check_response(y, r),
                "{}",
                x.operation_id
            );
        }
    }
}

#[test]
fn the_digest_answers_like_the_spec() {
    for path in super::common::SPECS {
        let spec = super::common::spec(path);
        let digest = SpecIndex::digest(spec);
        let full_size = serde_json::to_vec(spec).unwrap().len();
        let digest_size = serde_json::to_vec(&digest).unwrap().len();
        println!("{path}: {full_size} bytes, digest {digest_size} bytes");
        assert!(digest_size * 2 < full_size, "{digest_size} of {full_size}");
        let from_digest = SpecIndex::new(digest.clone()).unwrap();
        same_answers(super::common::index(path), &from_digest);
        // Digesting a digest changes nothing.
        assert_eq!(SpecIndex::digest(&digest), digest);
    }
}

#[test]
fn property_names_that_are_keywords_survive_the_digest() {
    let spec = json!({
        "openapi": "3.0.0",
        "info": {"version": "t", "description": "dropped"},
        "paths": {"/t": {"post": {
            "operationId": "t",
            "summary": "dropped",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/R"}}}},
            "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/R"}, "example": {"description": "d", "title": "t"}}}}},
        }}},
        "components": {"schemas": {
            "R": {"type": "object", "description": "dropped", "x-hidden-from-docs": true, "required": ["description"], "properties": {
                "description": {"type": "string", "description": "dropped"},
                "title": {"type": "string", "example": "dropped"},
            }},
            "Unreached": {"type": "string"},
        }},
    });
    let digest = SpecIndex::digest(&spec);
    assert_eq!(
        digest["components"]["schemas"],
        json!({"R": {"type": "object", "required": ["description"], "properties": {
            "description": {"type": "string"}, "title": {"type": "string"},
        }}})
    );
    assert!(digest["info"].get("description").is_none());
    assert_eq!(
        digest["paths"]["/t"]["post"]["responses"]["200"]["content"]["application/json"]["example"],
        json!({"description": "d", "title": "t"})
    );
    same_answers(
        &SpecIndex::new(spec).unwrap(),
        &SpecIndex::new(digest).unwrap(),
    );
}

#[test]
fn the_yaml_original_answers_like_the_vendored_json() {
    let yaml: &Value = super::common::spec(super::common::YAML);
    same_answers(
        super::common::index(super::common::VENDORED),
        super::common::index(super::common::YAML),
    );
    // The digests are equal too: the JSON is a faithful conversion.
    assert_eq!(
        SpecIndex::digest(yaml),
        SpecIndex::digest(super::common::spec(super::common::VENDORED))
    );
}
