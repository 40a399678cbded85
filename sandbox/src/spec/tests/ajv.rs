//! The independent check: every answer of both specs, judged by Stoplight Prism's validator
//! (Ajv) rather than by this crate's own.
//!
//! This test writes every operation's answer to `{}` and to synthesized requests (with seeds
//! 0 and 1) to a temporary folder, prepares each spec as the project does
//! (`scripts/prism_spec.js`), and runs `sandbox/scripts/ajv_check.js` on the answers with the
//! Prism installed in the folder `PRISM_NODE_MODULES` names, failing if Prism's validator
//! refuses any. A plain `cargo test` skips it, as it needs Node and Prism; the conformance
//! script installs Prism and runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::spec::{Answer, Fill, SpecIndex};
use serde_json::{json, Value};

fn out_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plaid-sandbox-ajv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the answers folder");
    dir
}

/// Every answer the check judges, for one spec.
fn answers(index: &SpecIndex) -> Value {
    let mut out = Vec::new();
    for op in index.operations() {
        let cases = [
            ("empty", json!({}), 0),
            ("empty", json!({}), 1),
            (
                "required",
                index.synthesize_request(op, Fill::Required, 0),
                0,
            ),
            ("full", index.synthesize_request(op, Fill::All, 0), 0),
            ("full", index.synthesize_request(op, Fill::All, 1), 1),
        ];
        for (case, request, seed) in cases {
            let (content_type, body) = match index.answer(op, &request, "req-1", seed) {
                Answer::Json(body) => ("application/json", body),
                Answer::Binary { content_type, body } => (content_type, json!(body.len())),
            };
            out.push(json!({
                "method": op.method,
                "path": op.path,
                "operation_id": op.operation_id,
                "status": op.status,
                "case": format!("{case}, seed {seed}"),
                "content_type": content_type,
                "body": body,
            }));
        }
    }
    json!({
        "version": index.version(),
        "answers": out,
        "verdicts": verdicts(index),
        "requests": request_verdicts(index),
    })
}

/// Request bodies with this crate's verdict (`check_request`), for `ajv_check.js` to compare
/// with Prism's request validation. Only the cases where Plaid's reading and plain JSON Schema
/// agree: synthesized requests (with the credentials in the body, which Prism's reading of
/// `/application/get` requires), `{}`, and each top-level field given a value of the wrong
/// type. (Unknown top-level fields and nulls for optional fields are refused, respectively
/// accepted, by design here, and judged the other way by plain JSON Schema.)
fn request_verdicts(index: &SpecIndex) -> Vec<Value> {
    let mut out = Vec::new();
    for op in index.operations().filter(|o| o.has_request_schema()) {
        let full = index.synthesize_request(op, Fill::All, 0);
        let mut cases = vec![
            ("full".to_owned(), full.clone()),
            (
                "full, seed 1".to_owned(),
                index.synthesize_request(op, Fill::All, 1),
            ),
            ("{}".to_owned(), json!({})),
        ];
        if let Value::Object(map) = &full {
            // Credentials are the server's to check (by design spec-tier leaves them alone).
            for (key, value) in map
                .iter()
                .filter(|(k, _)| *k != "client_id" && *k != "secret")
            {
                let wrong = match value {
                    Value::String(_) => json!(12345),
                    Value::Number(_) | Value::Bool(_) | Value::Array(_) => json!({"x": "y"}),
                    Value::Object(_) => json!("not an object"),
                    Value::Null => continue,
                };
                let mut bad = full.clone();
                bad[key] = wrong;
                cases.push((format!("{key} of the wrong type"), bad));
            }
        }
        for (case, body) in cases {
            let verdict = index.check_request(op, &body);
            out.push(json!({
                "method": op.method,
                "path": op.path,
                "operation_id": op.operation_id,
                "case": case,
                "body": body,
                "accepted": verdict.is_ok(),
                "problem": verdict.err().map(|p| format!("{}: {}", p.error_code, p.error_message)),
            }));
        }
    }
    out
}

/// Mutations of a body, for the differential check of this crate's response validator: the
/// raw example, each of the first top-level keys removed, and the first leaf of each kind
/// given a value of the wrong type (or a bad date).
fn mutations(body: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Value::Object(map) = body {
        for key in map.keys().filter(|k| *k != "request_id").take(3) {
            let mut m = body.clone();
            m.as_object_mut().unwrap().remove(key);
            out.push((format!("without {key}"), m));
        }
    }
    type Mutator = fn(&Value) -> Option<Value>;
    let mutators: [(&str, Mutator); 6] = [
        ("a string leaf as a number", |v| {
            v.is_string().then(|| json!(12345))
        }),
        ("a number leaf as a string", |v| {
            v.is_number().then(|| json!("12345"))
        }),
        ("a boolean leaf as a string", |v| {
            v.is_boolean().then(|| json!("true"))
        }),
        ("a date leaf as a bad date", |v| {
            v.as_str()
                .filter(|s| s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-')
                .map(|_| json!("2024-02-30"))
        }),
        ("a date-time leaf without its offset", |v| {
            v.as_str()
                .filter(|s| s.len() >= 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z'))
                .map(|s| json!(s.trim_end_matches('Z')))
        }),
        ("an array as an object", |v| v.is_array().then(|| json!({}))),
    ];
    for (name, f) in mutators {
        let mut m = body.clone();
        if replace_first(&mut m, f, 0) {
            out.push((name.to_owned(), m));
        }
    }
    out
}

/// Replaces the first value (depth first, document order) `f` maps to something.
fn replace_first(v: &mut Value, f: fn(&Value) -> Option<Value>, depth: usize) -> bool {
    if depth > 0 {
        if let Some(new) = f(v) {
            *v = new;
            return true;
        }
    }
    match v {
        Value::Object(map) => map
            .iter_mut()
            .filter(|(k, _)| *k != "request_id")
            .any(|(_, x)| replace_first(x, f, depth + 1)),
        Value::Array(items) => items.iter_mut().any(|x| replace_first(x, f, depth + 1)),
        _ => false,
    }
}

/// Bodies with this crate's verdict on them, for `ajv_check.js` to compare with Prism's.
fn verdicts(index: &SpecIndex) -> Vec<Value> {
    let spec = super::common::spec(if index.version().ends_with("1.482.3") {
        super::common::OLDEST
    } else {
        super::common::VENDORED
    });
    let mut out = Vec::new();
    for op in index.operations().filter(|op| !op.is_binary()) {
        let Answer::Json(body) = index.answer(op, &json!({}), "req-1", 0) else {
            continue;
        };
        let media = &spec["paths"][&op.path][op.method.to_lowercase()]["responses"]
            [op.status.to_string()]["content"]["application/json"];
        let example = media.get("example").cloned().or_else(|| {
            media
                .get("examples")
                .and_then(Value::as_object)
                .and_then(|m| m.values().find_map(|e| e.get("value").cloned()))
        });
        let mut bodies: Vec<(String, Value)> = example
            .into_iter()
            .map(|e| ("the spec's example".to_owned(), e))
            .collect();
        bodies.extend(mutations(&body));
        for (case, b) in bodies {
            let violations = index.check_response(op, &b);
            out.push(json!({
                "method": op.method,
                "path": op.path,
                "status": op.status,
                "case": case,
                "body": b,
                "valid": violations.is_empty(),
                "violations": violations,
            }));
        }
    }
    out
}

#[test]
#[ignore = "needs Node and Prism (PRISM_NODE_MODULES); scripts/conformance.sh runs it"]
fn every_answer_passes_prisms_validator() {
    let dir = out_dir();
    let mut jobs = Vec::new();
    for path in super::common::SPECS {
        let index = super::common::index(path);
        let file = dir.join(format!("answers-{}.json", index.version()));
        std::fs::write(&file, serde_json::to_vec(&answers(index)).unwrap()).unwrap();
        jobs.push((path, index.version().to_owned(), file));
    }
    let modules = std::env::var("PRISM_NODE_MODULES")
        .expect("PRISM_NODE_MODULES names the node_modules folder Prism is installed in");
    let node_ok = Command::new("node").arg("--version").output().is_ok();
    assert!(
        node_ok && Path::new(&modules).join("@stoplight/prism-http").exists(),
        "no node, or no Prism under {modules}"
    );
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (spec, version, answers) in jobs {
        let prepared = dir.join(format!("prism-spec-{version}.json"));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let stale = match (modified(&prepared), modified(Path::new(spec))) {
            (Some(made), Some(source)) => made < source,
            _ => true,
        };
        if stale {
            let status = Command::new("node")
                .arg(manifest.join("../scripts/prism_spec.js"))
                .arg(&modules)
                .arg(spec)
                .arg(&prepared)
                .output()
                .expect("run prism_spec.js");
            assert!(
                status.status.success(),
                "prism_spec.js failed: {}",
                String::from_utf8_lossy(&status.stderr)
            );
        }
        let out = Command::new("node")
            .arg(manifest.join("scripts/ajv_check.js"))
            .arg(&modules)
            .arg(&prepared)
            .arg(&answers)
            .output()
            .expect("run ajv_check.js");
        let stdout = String::from_utf8_lossy(&out.stdout);
        println!("{stdout}");
        assert!(
            out.status.success(),
            "Prism's validator refused answers:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
