//! The digest of a spec: the smallest copy [`super::SpecIndex::new`] answers the same from.
//!
//! Kept: `openapi`, `info.version`; per operation its `operationId`, an empty `security` (an
//! operation that takes no credentials), the JSON request body's
//! schema, and the success response (its code, the media type, its schema and the example
//! `new` would pick, as `example`); the component schemas these reach, transitively. In every
//! schema only the validation keywords survive (`description`, `title`, `example` except beside
//! a `pattern`, `x-*`, `deprecated`, `readOnly`, `default`, `discriminator`, … go, and so do
//! keywords set to their default: `nullable: false`, `additionalProperties: true`,
//! `uniqueItems: false`, `required: []`). Property names are data, never dropped.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::index::{binary_media, deref, json_media, media_example, success, METHODS};

/// Keywords whose value is copied as it is.
const PLAIN: [&str; 16] = [
    "type",
    "enum",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "required",
];

/// How deep schemas are followed (the compiler refuses deeper ones anyway).
const MAX_DEPTH: usize = 160;

struct Digester<'a> {
    spec: &'a Value,
    /// Every `$ref` met in the kept schemas.
    refs: BTreeSet<String>,
}

impl Digester<'_> {
    fn schema(&mut self, node: &Value, depth: usize) -> Value {
        let Some(map) = node.as_object() else {
            return node.clone();
        };
        if depth > MAX_DEPTH {
            return node.clone();
        }
        if let Some(r) = map.get("$ref") {
            if let Some(s) = r.as_str() {
                self.refs.insert(s.to_owned());
            }
            let mut out = Map::new();
            out.insert("$ref".to_owned(), r.clone());
            return Value::Object(out);
        }
        let mut out = Map::new();
        for key in PLAIN {
            if let Some(v) = map.get(key) {
                let default = match key {
                    "required" => v.as_array().is_some_and(Vec::is_empty),
                    "exclusiveMinimum" | "exclusiveMaximum" => *v == Value::Bool(false),
                    _ => false,
                };
                if !default {
                    out.insert(key.to_owned(), v.clone());
                }
            }
        }
        if map.get("nullable") == Some(&Value::Bool(true)) {
            out.insert("nullable".to_owned(), Value::Bool(true));
        }
        if map.get("uniqueItems") == Some(&Value::Bool(true)) {
            out.insert("uniqueItems".to_owned(), Value::Bool(true));
        }
        if map.contains_key("pattern") {
            if let Some(e) = map.get("example") {
                out.insert("example".to_owned(), e.clone());
            }
        }
        for key in ["items", "not"] {
            if let Some(v) = map.get(key) {
                out.insert(key.to_owned(), self.schema(v, depth + 1));
            }
        }
        match map.get("additionalProperties") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Object(o)) if o.is_empty() => {}
            Some(v) => {
                let kept = if v.is_object() {
                    self.schema(v, depth + 1)
                } else {
                    v.clone()
                };
                out.insert("additionalProperties".to_owned(), kept);
            }
        }
        if let Some(props) = map.get("properties") {
            let kept = match props.as_object() {
                Some(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, p)| (name.clone(), self.schema(p, depth + 1)))
                        .collect(),
                ),
                None => props.clone(),
            };
            out.insert("properties".to_owned(), kept);
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(v) = map.get(key) {
                let kept = match v.as_array() {
                    Some(parts) => {
                        Value::Array(parts.iter().map(|p| self.schema(p, depth + 1)).collect())
                    }
                    None => v.clone(),
                };
                out.insert(key.to_owned(), kept);
            }
        }
        Value::Object(out)
    }

    fn operation(&mut self, op: &Value) -> Value {
        let mut out = Map::new();
        if let Some(id) = op.get("operationId") {
            out.insert("operationId".to_owned(), id.clone());
        }
        if let Some(security) = op
            .get("security")
            .filter(|s| s.as_array().is_some_and(Vec::is_empty))
        {
            out.insert("security".to_owned(), security.clone());
        }
        if let Some(body) = op.get("requestBody") {
            let body = deref(self.spec, body);
            if let Some((name, media)) = body.get("content").and_then(json_media) {
                let mut m = Map::new();
                if let Some(s) = media.get("schema") {
                    m.insert("schema".to_owned(), self.schema(s, 0));
                }
                out.insert(
                    "requestBody".to_owned(),
                    json_content(name, Value::Object(m)),
                );
            }
        }
        if let Some((status, resp)) = success(self.spec, op) {
            let mut r = Map::new();
            let content = resp.get("content").unwrap_or(&Value::Null);
            if let Some((name, media)) = json_media(content) {
                let mut m = Map::new();
                if let Some(s) = media.get("schema") {
                    m.insert("schema".to_owned(), self.schema(s, 0));
                }
                if let Some(e) = media_example(self.spec, media) {
                    m.insert("example".to_owned(), e);
                }
                r = json_content(name, Value::Object(m))
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
            } else if let Some((name, _, media)) = binary_media(content) {
                let mut m = Map::new();
                if let Some(s) = media.get("schema") {
                    m.insert("schema".to_owned(), self.schema(s, 0));
                }
                r = json_content(name, Value::Object(m))
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
            }
            let mut responses = Map::new();
            responses.insert(status.to_string(), Value::Object(r));
            out.insert("responses".to_owned(), Value::Object(responses));
        }
        Value::Object(out)
    }
}

/// `{"content": {name: media}}`.
fn json_content(name: &str, media: Value) -> Value {
    let mut content = Map::new();
    content.insert(name.to_owned(), media);
    let mut out = Map::new();
    out.insert("content".to_owned(), Value::Object(content));
    Value::Object(out)
}

/// Sets `value` at the JSON pointer `path` of `root`, creating objects on the way.
fn set_at(root: &mut Value, path: &[String], value: Value) {
    let mut node = root;
    for (i, key) in path.iter().enumerate() {
        let Value::Object(map) = node else {
            return;
        };
        if i + 1 == path.len() {
            map.insert(key.clone(), value);
            return;
        }
        node = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// The digest of `spec`; see the module documentation.
pub(crate) fn digest(spec: &Value) -> Value {
    let mut d = Digester {
        spec,
        refs: BTreeSet::new(),
    };
    let mut out = Map::new();
    if let Some(v) = spec.get("openapi") {
        out.insert("openapi".to_owned(), v.clone());
    }
    if let Some(v) = spec.pointer("/info/version") {
        let mut info = Map::new();
        info.insert("version".to_owned(), v.clone());
        out.insert("info".to_owned(), Value::Object(info));
    }
    let mut paths = Map::new();
    if let Some(items) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in items {
            let Some(item) = deref(spec, item).as_object() else {
                continue;
            };
            let mut kept = Map::new();
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    kept.insert(method.to_owned(), d.operation(op));
                }
            }
            paths.insert(path.clone(), Value::Object(kept));
        }
    }
    out.insert("paths".to_owned(), Value::Object(paths));
    // The components the kept schemas reach, each digested whole (a reference may point inside
    // one, e.g. `#/components/schemas/X/properties/y`, which the digest keeps as it is).
    let mut result = Value::Object(out);
    let mut done: BTreeSet<Vec<String>> = BTreeSet::new();
    loop {
        let pending: Vec<Vec<String>> = d
            .refs
            .iter()
            .filter_map(|r| {
                let p = r.strip_prefix("#/")?;
                let parts: Vec<String> = p
                    .split('/')
                    .map(|t| t.replace("~1", "/").replace("~0", "~"))
                    .collect();
                // The component holding the target: `components/<kind>/<name>`, or the target
                // itself elsewhere.
                let keep = if parts.first().map(String::as_str) == Some("components") {
                    parts.len().min(3)
                } else {
                    parts.len()
                };
                Some(parts[..keep].to_vec())
            })
            .filter(|p| !done.contains(p))
            .collect();
        if pending.is_empty() {
            break;
        }
        for parts in pending {
            let pointer: String = parts
                .iter()
                .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
                .collect();
            if let Some(target) = spec.pointer(&pointer) {
                let digested = d.schema(target, 0);
                set_at(&mut result, &parts, digested);
            }
            done.insert(parts);
        }
    }
    result
}
