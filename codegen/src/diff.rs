//! What changed between two versions of Plaid's spec, as callers of the SDK feel it: the report
//! `spec/refresh.sh` prints on every refresh (`plaid-spec diff OLD NEW`).
//!
//! Read from the specs as published. For each operation (by its SDK method name, the
//! `operationId` in snake case): added or removed; for operations in both, the fields of the
//! request body (nested ones as `options.count`, list items as `accounts[]`) added, removed,
//! made required or made optional, and the fields of the success response added, removed, made
//! required or optional; across the spec, the values of every string enum added or removed.
//! The credential fields `client_id`/`secret` are left out: the SDK never sends them in a body.
//!
//! Each change says whether it breaks code written against the older build. Which ones do
//! follows the SDK's idiom: requests are built with `new(required…)` and setters, enums are open,
//! and the `new` of a request keeps the parameters of the last major version (see
//! `plaid-sdk`'s `spec/signatures.json`), so an added optional field, a new enum value or a
//! field made optional breaks nothing; a removal does, and so does a new required request field.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];
/// How deep nested request and response fields are compared.
const MAX_DEPTH: usize = 4;

/// One change between two specs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// Whether code written against the older spec's build stops compiling or working.
    pub breaking: bool,
    /// What changed, in a sentence naming the operation or schema.
    pub what: String,
}

/// The changes between two specs, and the counts that summarize them.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `info.version` of the older spec.
    pub from: String,
    /// `info.version` of the newer spec.
    pub to: String,
    /// Operations only in the newer spec.
    pub added: usize,
    /// Operations only in the older spec.
    pub removed: usize,
    /// Operations in both.
    pub common: usize,
    /// Operations in both whose request's top-level required fields differ.
    pub required_changed: usize,
    /// Of those, the ones where fields only went from required to optional.
    pub only_relaxed: usize,
    /// Every change, breaking ones first.
    pub changes: Vec<Change>,
}

/// A field of a request or response: whether it is required where it is.
type Fields = BTreeMap<String, bool>;

struct Op<'a> {
    method: String,
    path: String,
    body: Option<&'a Value>,
    response: Option<&'a Value>,
}

/// `linkTokenCreate` -> `link_token_create`; without an `operationId`, the method and path.
fn op_name(method: &str, path: &str, op: &Value) -> String {
    match op.get("operationId").and_then(Value::as_str) {
        Some(id) => crate::spec::snake_case(id),
        None => format!("{} {path}", method.to_uppercase()),
    }
}

fn operations(spec: &Value) -> BTreeMap<String, Op<'_>> {
    let mut out = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let response = op["responses"].as_object().and_then(|r| {
                r.iter()
                    .find(|(status, _)| status.starts_with('2'))
                    .and_then(|(_, resp)| resp.pointer("/content/application~1json/schema"))
            });
            out.insert(
                op_name(method, path, op),
                Op {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    body: op.pointer("/requestBody/content/application~1json/schema"),
                    response,
                },
            );
        }
    }
    out
}

/// The properties and required names of an object schema, its `allOf` parts merged.
fn object<'a>(
    spec: &'a Value,
    schema: &'a Value,
    props: &mut BTreeMap<String, &'a Value>,
    required: &mut BTreeSet<String>,
    depth: usize,
) {
    let schema = crate::spec::follow_refs(spec, schema);
    if depth > 16 {
        return;
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        object(spec, part, props, required, depth + 1);
    }
    for (k, v) in schema["properties"].as_object().into_iter().flatten() {
        props.insert(k.clone(), v);
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        if let Some(r) = r.as_str() {
            required.insert(r.to_owned());
        }
    }
}

/// Every field of `schema`, nested ones by dotted path, `[]` for list items.
fn fields(spec: &Value, schema: &Value, prefix: &str, depth: usize, out: &mut Fields) {
    if depth >= MAX_DEPTH {
        return;
    }
    let mut props = BTreeMap::new();
    let mut required = BTreeSet::new();
    object(spec, schema, &mut props, &mut required, 0);
    for (name, prop) in props {
        if prefix.is_empty() && (name == "client_id" || name == "secret") {
            continue;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        out.insert(path.clone(), required.contains(&name));
        let resolved = crate::spec::follow_refs(spec, prop);
        match resolved.get("items") {
            Some(items) => fields(spec, items, &format!("{path}[]"), depth + 1, out),
            None => fields(spec, prop, &path, depth + 1, out),
        }
    }
}

fn fields_of(spec: &Value, schema: Option<&Value>) -> Fields {
    let mut out = Fields::new();
    if let Some(schema) = schema {
        fields(spec, schema, "", 0, &mut out);
    }
    out
}

/// Every string enum of the components, by schema name, with its values as text.
fn enums(spec: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (name, schema) in spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if let Some(values) = schema["enum"].as_array() {
            let text = |v: &Value| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            };
            out.insert(name.clone(), values.iter().filter_map(text).collect());
        }
    }
    out
}

/// Compares two specs.
pub fn diff(old: &Value, new: &Value) -> Report {
    let version = |s: &Value| s["info"]["version"].as_str().unwrap_or("?").to_owned();
    let mut report = Report {
        from: version(old),
        to: version(new),
        ..Report::default()
    };
    let (before, after) = (operations(old), operations(new));
    let mut changes = Vec::new();
    let mut push = |breaking: bool, what: String| changes.push(Change { breaking, what });
    for (name, op) in &after {
        if !before.contains_key(name) {
            report.added += 1;
            push(
                false,
                format!("operation added: `{name}` ({} {})", op.method, op.path),
            );
        }
    }
    for (name, op) in &before {
        let Some(new_op) = after.get(name) else {
            report.removed += 1;
            push(
                true,
                format!("operation removed: `{name}` ({} {})", op.method, op.path),
            );
            continue;
        };
        report.common += 1;
        let (was, now) = (fields_of(old, op.body), fields_of(new, new_op.body));
        let top = |f: &Fields| -> BTreeSet<String> {
            f.iter()
                .filter(|(k, req)| **req && !k.contains('.') && !k.contains('['))
                .map(|(k, _)| k.clone())
                .collect()
        };
        let (req_was, req_now) = (top(&was), top(&now));
        if req_was != req_now {
            report.required_changed += 1;
            if req_now.is_subset(&req_was)
                && req_was.difference(&req_now).all(|f| now.contains_key(f))
            {
                report.only_relaxed += 1;
            }
        }
        for (field, required) in &now {
            match was.get(field) {
                None => push(
                    *required && parent_present(field, &was),
                    format!(
                        "`{name}`: request field `{field}` added{}",
                        if *required { " (required)" } else { "" }
                    ),
                ),
                Some(false) if *required => push(
                    true,
                    format!("`{name}`: request field `{field}` made required"),
                ),
                Some(true) if !*required => push(
                    false,
                    format!("`{name}`: request field `{field}` made optional"),
                ),
                _ => {}
            }
        }
        for field in was.keys() {
            if !now.contains_key(field) && parent_present(field, &now) {
                push(true, format!("`{name}`: request field `{field}` removed"));
            }
        }
        let (was, now) = (fields_of(old, op.response), fields_of(new, new_op.response));
        for (field, required) in &now {
            match was.get(field) {
                None => push(false, format!("`{name}`: response field `{field}` added")),
                Some(false) if *required => push(
                    true,
                    format!("`{name}`: response field `{field}` made required"),
                ),
                Some(true) if !*required => push(
                    true,
                    format!("`{name}`: response field `{field}` made optional"),
                ),
                _ => {}
            }
        }
        for field in was.keys() {
            if !now.contains_key(field) && parent_present(field, &now) {
                push(true, format!("`{name}`: response field `{field}` removed"));
            }
        }
    }
    let (before, after) = (enums(old), enums(new));
    for (schema, values) in &after {
        let Some(was) = before.get(schema) else {
            continue;
        };
        for v in values.difference(was) {
            push(false, format!("enum `{schema}`: value `{v}` added"));
        }
        for v in was.difference(values) {
            push(true, format!("enum `{schema}`: value `{v}` removed"));
        }
    }
    changes.sort_by(|a, b| b.breaking.cmp(&a.breaking).then(a.what.cmp(&b.what)));
    changes.dedup();
    report.changes = changes;
    report
}

/// Whether the object holding `field` exists in `fields` (a top-level field always has one):
/// a change inside an object that was itself added or removed is reported once, for the object.
fn parent_present(field: &str, fields: &Fields) -> bool {
    match field.rfind('.') {
        None => true,
        Some(i) => {
            let parent = field[..i].trim_end_matches("[]");
            fields.contains_key(parent)
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let breaking: Vec<&Change> = self.changes.iter().filter(|c| c.breaking).collect();
        writeln!(f, "Plaid spec {} -> {}", self.from, self.to)?;
        writeln!(
            f,
            "{} operations added, {} removed, {} in both; {} of those change their request's \
             required fields, {} only by making fields optional",
            self.added, self.removed, self.common, self.required_changed, self.only_relaxed
        )?;
        writeln!(
            f,
            "{} changes, {} of which break callers",
            self.changes.len(),
            breaking.len()
        )?;
        writeln!(f)?;
        writeln!(f, "Breaking:")?;
        for c in &breaking {
            writeln!(f, "- {}", c.what)?;
        }
        writeln!(f)?;
        writeln!(f, "Not breaking:")?;
        for c in self.changes.iter().filter(|c| !c.breaking) {
            writeln!(f, "- {}", c.what)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(version: &str, paths: Value, schemas: Value) -> Value {
        json!({ "openapi": "3.0.0", "info": { "version": version }, "paths": paths,
                "components": { "schemas": schemas } })
    }

    fn op(id: &str, request: &str, response: &str) -> Value {
        json!({ "post": {
            "operationId": id,
            "requestBody": { "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{request}") } } } },
            "responses": { "200": { "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{response}") } } } } },
        } })
    }

    #[test]
    fn operations_fields_and_enums_are_compared_and_marked() {
        let old = spec(
            "1",
            json!({ "/a/get": op("aGet", "AReq", "ARes"), "/gone": op("gone", "AReq", "ARes") }),
            json!({
                "AReq": { "type": "object", "required": ["client_id", "token", "count"], "properties": {
                    "client_id": { "type": "string" }, "token": { "type": "string" },
                    "count": { "type": "integer" }, "old": { "type": "string" },
                    "options": { "type": "object", "properties": { "x": { "type": "string" } } } } },
                "ARes": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" },
                    "legacy": { "type": "string" } } },
                "Kind": { "type": "string", "enum": ["a", "b", null] },
            }),
        );
        let new = spec(
            "2",
            json!({ "/a/get": op("aGet", "AReq", "ARes"), "/b/get": op("bGet", "AReq", "ARes") }),
            json!({
                "AReq": { "type": "object", "required": ["token", "mode"], "properties": {
                    "token": { "type": "string" }, "count": { "type": "integer" },
                    "mode": { "type": "string" },
                    "options": { "type": "object", "properties": { "x": { "type": "string" }, "y": { "type": "string" } } } } },
                "ARes": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" },
                    "fresh": { "type": "string" } } },
                "Kind": { "type": "string", "enum": ["a", "c"] },
            }),
        );
        let report = diff(&old, &new);
        assert_eq!((report.added, report.removed, report.common), (1, 1, 1));
        assert_eq!((report.required_changed, report.only_relaxed), (1, 0));
        let text = report.to_string();
        for (breaking, what) in [
            (true, "operation removed: `gone` (POST /gone)"),
            (true, "`a_get`: request field `mode` added (required)"),
            (true, "`a_get`: request field `old` removed"),
            (true, "`a_get`: response field `legacy` removed"),
            (true, "enum `Kind`: value `b` removed"),
            (false, "operation added: `b_get` (POST /b/get)"),
            (false, "`a_get`: request field `count` made optional"),
            (false, "`a_get`: request field `options.y` added"),
            (false, "`a_get`: response field `fresh` added"),
            (false, "enum `Kind`: value `c` added"),
        ] {
            assert!(
                report.changes.contains(&Change {
                    breaking,
                    what: what.into()
                }),
                "missing {what:?} ({breaking}):\n{text}"
            );
        }
        assert!(
            !text.contains("client_id"),
            "credentials are not request fields: {text}"
        );
        assert!(text.starts_with("Plaid spec 1 -> 2\n1 operations added, 1 removed, 1 in both"));
    }

    #[test]
    fn only_relaxing_is_told_apart() {
        let schemas = |required: Value| {
            json!({ "R": { "type": "object", "required": required, "properties": {
                "a": { "type": "string" }, "b": { "type": "string" } } } })
        };
        let paths = json!({ "/r": op("r", "R", "R") });
        let old = spec("1", paths.clone(), schemas(json!(["a", "b"])));
        let new = spec("2", paths, schemas(json!(["a"])));
        let report = diff(&old, &new);
        assert_eq!((report.required_changed, report.only_relaxed), (1, 1));
    }
}
