//! Values synthesized from the spec's own schemas, for the tests that must exercise what the
//! spec's few examples do not: every operation's request (the conformance suite) and every
//! generated type (the serde differential test).
//!
//! The spec as published is the input (not the normalized one the build generates from), so a
//! value is what Plaid's schema allows, whatever the SDK made of it. Choices are fixed, so every
//! run synthesizes the same values: the first enum value, the smallest number within the
//! bounds, one list item, and strings of the declared format and length.

use serde_json::{json, Map, Value};

/// How much of a schema to fill in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Required properties only.
    Required,
    /// Every property, optional ones included.
    All,
    /// Every property, with `null` wherever the schema allows it (a list of a nullable schema
    /// gets a `null` item after its value), and one property the schema does not declare on
    /// every object that allows it.
    Nulls,
    /// Every property, with an enum value no schema lists on every enum, and one undeclared
    /// property on every object.
    Unknown,
}

/// The value an enum can hold that no version of the spec lists.
pub const UNKNOWN_ENUM: &str = "SDK_TEST_UNKNOWN_VALUE";
/// The property no schema declares.
pub const UNKNOWN_FIELD: &str = "sdk_test_unknown_field";

/// How deep references are followed into optional properties before they are left out.
const MAX_DEPTH: usize = 12;

/// Synthesizes a value of `schema`, resolving references against `spec`.
pub fn value(spec: &Value, schema: &Value, fill: Fill) -> Value {
    Synth {
        spec,
        fill,
        stack: Vec::new(),
    }
    .value(schema, true)
}

struct Synth<'a> {
    spec: &'a Value,
    fill: Fill,
    /// The references being synthesized, outermost first: a reference already on it is only
    /// followed where the schema requires it.
    stack: Vec<String>,
}

impl<'a> Synth<'a> {
    fn resolve<'b>(&self, schema: &'b Value) -> (&'b Value, Option<String>)
    where
        'a: 'b,
    {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let target = self
                    .spec
                    .pointer(r.trim_start_matches('#'))
                    .unwrap_or_else(|| panic!("unresolved {r}"));
                (target, Some(r.to_owned()))
            }
            None => (schema, None),
        }
    }

    /// Whether an optional property of this schema should be written, given the recursion.
    fn may_follow(&self, schema: &Value) -> bool {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => !self.stack.iter().any(|s| s == r) && self.stack.len() < MAX_DEPTH,
            None => self.stack.len() < MAX_DEPTH,
        }
    }

    fn value(&mut self, schema: &Value, required: bool) -> Value {
        let (schema, reference) = self.resolve(schema);
        if let Some(r) = &reference {
            self.stack.push(r.clone());
        }
        let out = self.resolved(schema, required);
        if reference.is_some() {
            self.stack.pop();
        }
        out
    }

    fn nullable(schema: &Value) -> bool {
        schema.get("nullable") == Some(&Value::Bool(true))
    }

    fn resolved(&mut self, schema: &Value, required: bool) -> Value {
        if self.fill == Fill::Nulls && Self::nullable(schema) {
            return Value::Null;
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            return self.all_of(schema, parts, required);
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            if self.fill == Fill::Unknown
                && schema.get("type").and_then(Value::as_str) == Some("string")
            {
                return json!(UNKNOWN_ENUM);
            }
            return values
                .iter()
                .find(|v| !v.is_null())
                .cloned()
                .map(|v| match (schema.get("type").and_then(Value::as_str), &v) {
                    // YAML reads `enum: [3]` of a string schema as a number.
                    (Some("string"), Value::Number(n)) => json!(n.to_string()),
                    (Some("string"), Value::Bool(b)) => json!(b.to_string()),
                    _ => v,
                })
                .unwrap_or(Value::Null);
        }
        let ty = schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_else(|| {
                if schema.get("properties").is_some()
                    || schema.get("additionalProperties").is_some()
                {
                    "object"
                } else if schema.get("items").is_some() {
                    "array"
                } else {
                    "any"
                }
            });
        match ty {
            "string" => string(schema),
            "integer" => integer(schema),
            "number" => number(schema),
            "boolean" => json!(true),
            "array" => self.array(schema),
            "object" => self.object(schema, &Map::new(), &[]),
            _ => json!("any value"),
        }
    }

    fn all_of(&mut self, schema: &Value, parts: &[Value], required: bool) -> Value {
        // An allOf of objects merges their properties; an allOf around one scalar schema (a
        // reference with a description beside it) is that schema.
        let mut properties = Map::new();
        let mut required_names: Vec<String> = Vec::new();
        let mut objects = 0;
        let mut scalar = None;
        for part in parts {
            let (resolved, _) = self.resolve(part);
            let is_object = resolved.get("properties").is_some()
                || resolved.get("type").and_then(Value::as_str) == Some("object")
                || resolved.get("allOf").is_some();
            if is_object {
                objects += 1;
                collect_object(self.spec, resolved, &mut properties, &mut required_names);
            } else if scalar.is_none() {
                scalar = Some(part);
            }
        }
        if objects == 0 {
            return match scalar {
                Some(part) => {
                    if self.fill == Fill::Nulls && Self::nullable(schema) {
                        Value::Null
                    } else {
                        self.value(part, required)
                    }
                }
                None => json!({}),
            };
        }
        collect_object(self.spec, schema, &mut properties, &mut required_names);
        let props: Map<String, Value> = properties;
        self.object(schema, &props, &required_names)
    }

    fn array(&mut self, schema: &Value) -> Value {
        let Some(items) = schema.get("items") else {
            return json!([]);
        };
        let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX) as usize;
        let count = min.max(1).min(max);
        if !self.may_follow(items) && min == 0 {
            return json!([]);
        }
        let mut out: Vec<Value> = (0..count).map(|_| self.value(items, true)).collect();
        // A list of a nullable schema may hold nulls too.
        if self.fill == Fill::Nulls && out.len() < max && Self::nullable(self.resolve(items).0) {
            out.push(Value::Null);
        }
        Value::Array(out)
    }

    /// An object from `schema`'s own properties, or from `merged` ones (an `allOf`).
    fn object(
        &mut self,
        schema: &Value,
        merged: &Map<String, Value>,
        merged_required: &[String],
    ) -> Value {
        let (properties, required): (Map<String, Value>, Vec<String>) = if merged.is_empty() {
            let mut props = Map::new();
            let mut req = Vec::new();
            collect_object(self.spec, schema, &mut props, &mut req);
            (props, req)
        } else {
            (merged.clone(), merged_required.to_vec())
        };
        let mut out = Map::new();
        for (name, property) in &properties {
            let is_required = required.iter().any(|r| r == name);
            if !is_required && (self.fill == Fill::Required || !self.may_follow(property)) {
                continue;
            }
            out.insert(name.clone(), self.value(property, is_required));
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => {}
            Some(extra @ Value::Object(_))
                if properties.is_empty() && self.fill != Fill::Required =>
            {
                out.insert("key".into(), self.value(extra, true));
            }
            _ => {
                if matches!(self.fill, Fill::Nulls | Fill::Unknown) {
                    out.insert(UNKNOWN_FIELD.into(), json!({ "nested": [1, "two", true] }));
                }
            }
        }
        Value::Object(out)
    }
}

/// Collects the properties and required names of an object schema and of its `allOf` parts.
fn collect_object(
    spec: &Value,
    schema: &Value,
    props: &mut Map<String, Value>,
    required: &mut Vec<String>,
) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap_or(schema),
        None => schema,
    };
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_object(spec, part, props, required);
    }
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in p {
            props.insert(k.clone(), v.clone());
        }
    }
    for r in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = r.as_str() {
            if !required.iter().any(|x| x == r) {
                required.push(r.to_owned());
            }
        }
    }
}

fn string(schema: &Value) -> Value {
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let base = match format {
        "date" => "2024-01-15".to_owned(),
        "date-time" => "2024-01-15T10:30:00Z".to_owned(),
        "email" => "user@example.com".to_owned(),
        "url" | "uri" | "uri-reference" => "https://example.com/plaid".to_owned(),
        "uuid" => "123e4567-e89b-12d3-a456-426614174000".to_owned(),
        "ipv4" => "192.0.2.1".to_owned(),
        _ => match schema.get("example") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => "sdk-test".to_owned(),
        },
    };
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    let mut s = base;
    while s.chars().count() < min {
        s.push('a');
    }
    if let Some(max) = max {
        if s.chars().count() > max {
            s = s.chars().take(max.max(min)).collect();
        }
    }
    json!(s)
}

fn bounds(schema: &Value) -> (Option<f64>, Option<f64>) {
    let get = |k: &str| schema.get(k).and_then(Value::as_f64);
    let mut min = get("minimum");
    let max = get("maximum");
    if schema.get("exclusiveMinimum") == Some(&Value::Bool(true)) {
        min = min.map(|m| m + 1.0);
    } else if let Some(n) = schema.get("exclusiveMinimum").and_then(Value::as_f64) {
        min = Some(n + 1.0);
    }
    (min, max)
}

fn integer(schema: &Value) -> Value {
    let (min, max) = bounds(schema);
    let mut v = min.map_or(1.0, |m| m.ceil().max(1.0));
    if let Some(max) = max {
        v = v.min(max.floor());
    }
    json!(v as i64)
}

fn number(schema: &Value) -> Value {
    let (min, max) = bounds(schema);
    let mut v = min.map_or(1.5, |m| m.max(1.5));
    if let Some(max) = max {
        if v > max {
            v = (min.unwrap_or(0.0) + max) / 2.0;
        }
    }
    json!(v)
}
