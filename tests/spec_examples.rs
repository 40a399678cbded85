//! The generated API against the spec it was generated from: one method per operation, and
//! every example response in the spec parses into its operation's response type.

mod common;

use plaid_sdk::{operations, RawResponse};
use serde_json::Value;

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

    let source = common::generated_source();
    // The hidden `operations::__send_json` dispatcher is not a client method.
    let methods =
        source.matches("pub async fn ").count() - source.matches("pub async fn __").count();
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
        match decode_example(method, path, status, body) {
            Some(Ok(_)) => {}
            Some(Err(e)) => failures.push(format!("{method} {path} ({name}): {e}")),
            None => failures.push(format!("{method} {path}: no decoder")),
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

/// Decodes an example response with its operation's decoder and writes it back as JSON
/// (`null` for a binary or empty response); `None` if the operation has no decoder.
fn decode_example(
    method: &str,
    path: &str,
    status: &str,
    body: &Value,
) -> Option<Result<Value, String>> {
    let op = operations::ALL
        .iter()
        .find(|o| o.method == method && o.path == path)
        .unwrap_or_else(|| panic!("{method} {path} is not in operations::ALL"));
    let raw = RawResponse::new(
        op.name,
        status.parse().unwrap(),
        serde_json::to_vec(body).unwrap(),
    );
    operations::__decode_response(op.name, raw)
}

/// Every example response parsed and written back: what comes out is what went in, except what
/// the types leave out on purpose (an optional field's null or empty list) and example fields
/// the spec's own schema does not declare. This is what the generated `Serialize` and
/// `Deserialize` impls promise together.
#[test]
fn every_example_response_round_trips_through_its_type() {
    let spec = common::load_spec();
    let mut failures = Vec::new();
    let (mut compared, mut undeclared) = (0, 0);
    for (method, path, status, name, body) in &common::response_examples(&spec) {
        // Examples that do not parse fail the test above.
        let Some(Ok(written)) = decode_example(method, path, status, body) else {
            continue;
        };
        if written.is_null() {
            continue; // a binary or empty response
        }
        compared += 1;
        let schema = spec
            .pointer(&format!(
                "/paths/{}/{}/responses/{status}/content/application~1json/schema",
                path.replace('~', "~0").replace('/', "~1"),
                method.to_lowercase()
            ))
            .unwrap_or_else(|| panic!("{method} {path}: no response schema"));
        let mut diffs = Vec::new();
        let mut dropped = Vec::new();
        compare(body, &written, &mut Vec::new(), &mut diffs, &mut dropped);
        for (at, key) in dropped {
            if declares(&spec, schema, &at, &key) {
                diffs.push(format!("{}.{key}: dropped", render(&at)));
            } else {
                undeclared += 1;
            }
        }
        if !diffs.is_empty() {
            failures.push(format!(
                "{method} {path} ({name}):\n  {}",
                diffs.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} examples change when written back:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 200, "only {compared} examples compared");
    // The vendored spec's examples carry 15 fields their schemas do not declare.
    assert!(
        undeclared < compared,
        "{undeclared} undeclared example fields"
    );
}

/// A step from a response's root to a value inside it.
#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn render(at: &[Step]) -> String {
    at.iter()
        .map(|s| match s {
            Step::Key(k) => format!(".{k}"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// Pushes to `diffs` every difference between `input` and `output` other than a missing value
/// against a null or empty one, numbers that are equal as `f64` (`1` written back as `1.0`) and
/// date-times that are the same instant (`+00:00` written back as `Z`); and to `dropped`, the
/// keys with a value that are not written back (the caller checks them against the schema).
fn compare(
    input: &Value,
    output: &Value,
    at: &mut Vec<Step>,
    diffs: &mut Vec<String>,
    dropped: &mut Vec<(Vec<Step>, String)>,
) {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => {
            for (key, value) in i {
                match o.get(key) {
                    Some(written) => {
                        at.push(Step::Key(key.clone()));
                        compare(value, written, at, diffs, dropped);
                        at.pop();
                    }
                    None if is_empty(value) => {}
                    None => dropped.push((at.clone(), key.clone())),
                }
            }
            for (key, value) in o {
                if !i.contains_key(key) && !is_empty(value) {
                    diffs.push(format!("{}.{key}: added", render(at)));
                }
            }
        }
        (Value::Array(i), Value::Array(o)) if i.len() == o.len() => {
            for (n, (a, b)) in i.iter().zip(o).enumerate() {
                at.push(Step::Index(n));
                compare(a, b, at, diffs, dropped);
                at.pop();
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (Value::String(a), Value::String(b)) if same_instant(a, b) => {}
        (a, b) if a == b || (is_empty(a) && is_empty(b)) => {}
        _ => diffs.push(format!("{}: {input} written back as {output}", render(at))),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    matches!(
        (
            chrono::DateTime::parse_from_rfc3339(a),
            chrono::DateTime::parse_from_rfc3339(b)
        ),
        (Ok(x), Ok(y)) if x == y
    )
}

/// The schema and every schema it stands for: its `$ref` target, and the parts of its
/// `allOf`, `oneOf` and `anyOf`, recursively.
fn expand<'a>(spec: &'a Value, schema: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(target) = schema["$ref"].as_str() {
        let target = spec
            .pointer(target.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {target}"));
        return expand(spec, target, out);
    }
    out.push(schema);
    for combinator in ["allOf", "oneOf", "anyOf"] {
        for part in schema[combinator].as_array().into_iter().flatten() {
            expand(spec, part, out);
        }
    }
}

/// Whether the schema of the value at `at` (from `root`, the response schema) declares the
/// property `key`.
fn declares(spec: &Value, root: &Value, at: &[Step], key: &str) -> bool {
    let mut here = Vec::new();
    expand(spec, root, &mut here);
    for step in at {
        let mut next = Vec::new();
        for schema in here {
            let child = match step {
                Step::Key(k) => schema["properties"]
                    .get(k)
                    .or_else(|| schema.get("additionalProperties")),
                Step::Index(_) => schema.get("items"),
            };
            if let Some(child) = child {
                expand(spec, child, &mut next);
            }
        }
        here = next;
    }
    here.iter().any(|s| s["properties"].get(key).is_some())
}

/// The `required` names of a schema (its `allOf` parts' too), each with whether the schema
/// marks the property deprecated.
fn spec_required(spec: &Value, schema: &Value, out: &mut Vec<String>) {
    // A `$ref` followed, not an `allOf` of one: `required` may stand beside the `allOf`.
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => spec.pointer(&r[1..]).unwrap(),
        None => schema,
    };
    for part in schema["allOf"].as_array().into_iter().flatten() {
        spec_required(spec, part, out);
    }
    for name in schema["required"].as_array().into_iter().flatten() {
        out.push(name.as_str().unwrap().to_owned());
    }
}

/// A field name as the docs spell it and as the spec does, compared without case or `_`.
fn plain(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

/// Review round 18: each operation's doc says "(required: …)" of its request and "holding …"
/// of its response, read off the generated fields after the generator had stripped the
/// attributes that make a field default, so every defaulted list read as required:
/// `/link/token/create` "required" `access_tokens` (a closed-beta option), `/link/token/get`
/// "holding" `link_sessions`. Every field a doc names that way is one the spec requires.
#[test]
fn the_operation_docs_call_required_only_what_the_spec_requires() {
    let spec = common::load_spec();
    let source = common::generated_source();
    let (mut checked, mut named, mut failures) = (0, 0, Vec::new());
    let pieces: Vec<&str> = source.split("(required: ").collect();
    for (before, after) in pieces.iter().zip(pieces.iter().skip(1)) {
        // `…`POST /path` with [`Request`](crate::types::Request) ` then the required list.
        let Some(with) = before.rfind("` with [`") else {
            continue;
        };
        let Some(open) = before[..with].rfind('`') else {
            continue;
        };
        let Some((method, path)) = before[open + 1..with].split_once(' ') else {
            continue;
        };
        let Some(op) = spec["paths"][path].get(method.to_lowercase()) else {
            continue;
        };
        let names = |list: &str| -> Vec<String> {
            list.split(", ")
                .map(|n| n.trim_matches('`').to_owned())
                .filter(|n| n != "none" && n != "…")
                .collect()
        };
        let (required_list, rest) = after.split_once(';').unwrap();
        let mut allowed = Vec::new();
        if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
            spec_required(&spec, schema, &mut allowed);
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = common::resolve(&spec, p);
            if p["required"] == true {
                allowed.push(p["name"].as_str().unwrap().to_owned());
            }
        }
        let allowed: Vec<String> = allowed.iter().map(|n| plain(n)).collect();
        for name in names(required_list) {
            named += 1;
            if !allowed.contains(&plain(&name)) {
                failures.push(format!(
                    "{method} {path}: required `{name}` is optional in the spec"
                ));
            }
        }
        // "), returning … holding `a`, `b`." of the response.
        let returning = rest
            .split_once("), returning ")
            .map(|(_, r)| r)
            .unwrap_or("");
        let sentence = returning.split(". ").next().unwrap_or("");
        if let Some((_, held)) = sentence.split_once(" holding ") {
            let mut in_response = Vec::new();
            if let Some(schema) = op.pointer("/responses/200/content/application~1json/schema") {
                spec_required(&spec, schema, &mut in_response);
            }
            let in_response: Vec<String> = in_response.iter().map(|n| plain(n)).collect();
            for name in names(held) {
                named += 1;
                if !in_response.contains(&plain(&name)) {
                    failures.push(format!(
                        "{method} {path}: holding `{name}`, optional in the spec"
                    ));
                }
            }
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} doc claims the spec does not make:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{checked} operation docs, {named} fields named required or held");
    // Docs that name nothing would pass the check above.
    assert!(
        checked >= 200 && named >= checked * 2,
        "{checked} operation docs checked, {named} fields named"
    );
}
