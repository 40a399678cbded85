//! Schemas compiled from the spec: an arena of nodes in which every `$ref` is resolved to the
//! node of its target, and the merged view of a schema with its `allOf` parts.
//!
//! Only the keywords that decide validity are kept (OpenAPI 3.0: `type`, `nullable`, `enum`,
//! `format`, `pattern`, string lengths, numeric bounds, `multipleOf`, array and object
//! keywords, `allOf`/`anyOf`/`oneOf`/`not`); annotations (`description`, `title`, `example`
//! except beside a `pattern`, `x-*`, `deprecated`, `readOnly`, `default`, …) are ignored.
//! As OpenAPI 3.0 says, the siblings of a `$ref` are ignored.

use std::collections::HashMap;

use serde_json::Value;

use super::pattern::Pattern;

/// The index of a schema node in [`Schemas::nodes`].
pub(crate) type SchemaId = usize;

/// How deep inline schemas may nest inside one another before the spec is refused.
const MAX_INLINE_DEPTH: usize = 128;
/// How many `$ref` hops an alias chain may take.
const MAX_REF_HOPS: usize = 32;
/// How deep `allOf` parts are followed when merging.
const MAX_MERGE_DEPTH: usize = 32;

/// A JSON type a schema may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    Null,
}

impl Ty {
    fn parse(name: &str) -> Option<Ty> {
        Some(match name {
            "string" => Ty::String,
            "number" => Ty::Number,
            "integer" => Ty::Integer,
            "boolean" => Ty::Boolean,
            "object" => Ty::Object,
            "array" => Ty::Array,
            "null" => Ty::Null,
            _ => return None,
        })
    }

    /// Whether `value` is of this type (an integer is a number with no fractional part).
    pub(crate) fn matches(self, value: &Value) -> bool {
        match (self, value) {
            (Ty::String, Value::String(_))
            | (Ty::Number, Value::Number(_))
            | (Ty::Boolean, Value::Bool(_))
            | (Ty::Object, Value::Object(_))
            | (Ty::Array, Value::Array(_))
            | (Ty::Null, Value::Null) => true,
            // Written as an integer: `1.0` is a number, not an integer (JSON Schema draft 4,
            // which OpenAPI 3.0 follows; Plaid's Go decoder refuses it for an int), and the
            // answer's echo would put a float where the spec promises an integer.
            (Ty::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            _ => false,
        }
    }

    /// The type with its article, for messages: "a string", "an integer".
    pub(crate) fn described(self) -> &'static str {
        match self {
            Ty::String => "a string",
            Ty::Number => "a number",
            Ty::Integer => "an integer",
            Ty::Boolean => "a boolean",
            Ty::Object => "an object",
            Ty::Array => "an array",
            Ty::Null => "null",
        }
    }
}

/// What an object schema says of the properties it does not declare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Additional {
    /// Anything (absent, `true` or `{}`).
    #[default]
    Any,
    /// Nothing (`false`).
    Deny,
    /// Values valid against this schema.
    Schema(SchemaId),
}

/// A numeric bound: the limit, and whether it is exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bound {
    pub value: f64,
    pub exclusive: bool,
}

/// One compiled schema.
#[derive(Debug)]
pub(crate) struct Schema {
    /// The types allowed; empty for any.
    pub types: Vec<Ty>,
    pub nullable: bool,
    pub enumeration: Option<Vec<Value>>,
    pub format: Option<String>,
    pub pattern: Option<Pattern>,
    /// The schema's `example`, kept only beside a `pattern` (the synthesizer's fallback).
    pub example: Option<Value>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub multiple_of: Option<f64>,
    pub items: Option<SchemaId>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    pub properties: Vec<(String, SchemaId)>,
    pub required: Vec<String>,
    pub additional: Additional,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub all_of: Vec<SchemaId>,
    pub any_of: Vec<SchemaId>,
    pub one_of: Vec<SchemaId>,
    pub not: Option<SchemaId>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema {
            types: Vec::new(),
            nullable: false,
            enumeration: None,
            format: None,
            pattern: None,
            example: None,
            min_length: None,
            max_length: None,
            minimum: None,
            maximum: None,
            multiple_of: None,
            items: None,
            min_items: None,
            max_items: None,
            unique_items: false,
            properties: Vec::new(),
            required: Vec::new(),
            additional: Additional::Any,
            min_properties: None,
            max_properties: None,
            all_of: Vec::new(),
            any_of: Vec::new(),
            one_of: Vec::new(),
            not: None,
        }
    }
}

impl Schema {
    /// The schema of a declared property.
    pub(crate) fn property(&self, name: &str) -> Option<SchemaId> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }
}

/// The compiled schemas of a spec.
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    pub nodes: Vec<Schema>,
}

/// A schema with the keywords of its `allOf` parts folded in: what an instance must satisfy
/// as one object, for the synthesizer, the repairer and the echo.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    pub types: Vec<Ty>,
    pub nullable: bool,
    pub enumeration: Option<Vec<Value>>,
    pub format: Option<String>,
    /// The nodes carrying a `pattern`.
    pub patterns: Vec<SchemaId>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub multiple_of: Option<f64>,
    pub items: Vec<SchemaId>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    /// Each declared property with every schema it must satisfy.
    pub properties: Vec<(String, Vec<SchemaId>)>,
    pub required: Vec<String>,
    pub additional: Additional,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    /// The `anyOf`/`oneOf` lists of the schema and its parts.
    pub alternatives: Vec<Vec<SchemaId>>,
}

impl Merged {
    /// The schemas a declared property must satisfy.
    pub(crate) fn property(&self, name: &str) -> Option<&[SchemaId]> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, ids)| ids.as_slice())
    }

    /// The type a value synthesized for this schema should have.
    pub(crate) fn primary_type(&self) -> Option<Ty> {
        if let Some(t) = self.types.iter().find(|t| **t != Ty::Null) {
            return Some(*t);
        }
        if !self.properties.is_empty()
            || self.additional != Additional::Any
            || self.min_properties.is_some()
            || self.max_properties.is_some()
        {
            return Some(Ty::Object);
        }
        if !self.items.is_empty() || self.min_items.is_some() || self.max_items.is_some() {
            return Some(Ty::Array);
        }
        if self.min_length.is_some() || self.max_length.is_some() || self.format.is_some() {
            return Some(Ty::String);
        }
        if self.minimum.is_some() || self.maximum.is_some() {
            return Some(Ty::Number);
        }
        None
    }
}

fn tighter_min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn tighter_max(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn tighter_bound(a: Option<Bound>, b: Option<Bound>, lower: bool) -> Option<Bound> {
    match (a, b) {
        (Some(x), Some(y)) => {
            let x_tighter = if lower {
                x.value > y.value || (x.value == y.value && x.exclusive)
            } else {
                x.value < y.value || (x.value == y.value && x.exclusive)
            };
            Some(if x_tighter { x } else { y })
        }
        (x, None) => x,
        (None, y) => y,
    }
}

impl Schemas {
    /// The node of `id`. Ids come from this arena only, so this never fails; an id out of
    /// range (a bug) gets an empty schema rather than a panic.
    pub(crate) fn get(&self, id: SchemaId) -> &Schema {
        static EMPTY: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
        self.nodes
            .get(id)
            .unwrap_or_else(|| EMPTY.get_or_init(Schema::default))
    }

    /// The schema `id` merged with its `allOf` parts, recursively.
    pub(crate) fn merged(&self, id: SchemaId) -> Merged {
        let mut out = Merged::default();
        let own = self.get(id);
        out.nullable = own.nullable;
        let mut seen = Vec::new();
        self.fold(id, &mut out, &mut seen, 0);
        out
    }

    fn fold(&self, id: SchemaId, out: &mut Merged, seen: &mut Vec<SchemaId>, depth: usize) {
        if depth > MAX_MERGE_DEPTH || seen.contains(&id) {
            return;
        }
        seen.push(id);
        let s = self.get(id);
        if out.types.is_empty() {
            out.types.clone_from(&s.types);
        } else if !s.types.is_empty() {
            // Both constrain the type: keep what both allow (an integer is a number).
            let mut kept: Vec<Ty> = out
                .types
                .iter()
                .copied()
                .filter(|t| {
                    s.types.contains(t) || (*t == Ty::Integer && s.types.contains(&Ty::Number))
                })
                .collect();
            if kept.is_empty() {
                kept = s
                    .types
                    .iter()
                    .copied()
                    .filter(|t| *t == Ty::Integer && out.types.contains(&Ty::Number))
                    .collect();
            }
            if !kept.is_empty() {
                out.types = kept;
            }
        }
        if out.enumeration.is_none() {
            out.enumeration.clone_from(&s.enumeration);
        }
        if out.format.is_none() {
            out.format.clone_from(&s.format);
        }
        if s.pattern.is_some() {
            out.patterns.push(id);
        }
        out.min_length = tighter_min(out.min_length, s.min_length);
        out.max_length = tighter_max(out.max_length, s.max_length);
        out.minimum = tighter_bound(out.minimum, s.minimum, true);
        out.maximum = tighter_bound(out.maximum, s.maximum, false);
        if out.multiple_of.is_none() {
            out.multiple_of = s.multiple_of;
        }
        if let Some(items) = s.items {
            out.items.push(items);
        }
        out.min_items = tighter_min(out.min_items, s.min_items);
        out.max_items = tighter_max(out.max_items, s.max_items);
        out.unique_items |= s.unique_items;
        for (name, pid) in &s.properties {
            match out.properties.iter_mut().find(|(n, _)| n == name) {
                Some((_, ids)) => {
                    if !ids.contains(pid) {
                        ids.push(*pid);
                    }
                }
                None => out.properties.push((name.clone(), vec![*pid])),
            }
        }
        for r in &s.required {
            if !out.required.contains(r) {
                out.required.push(r.clone());
            }
        }
        out.additional = match (out.additional, s.additional) {
            (Additional::Deny, _) | (_, Additional::Deny) => Additional::Deny,
            (Additional::Any, other) => other,
            (mine, _) => mine,
        };
        out.min_properties = tighter_min(out.min_properties, s.min_properties);
        out.max_properties = tighter_max(out.max_properties, s.max_properties);
        if !s.any_of.is_empty() {
            out.alternatives.push(s.any_of.clone());
        }
        if !s.one_of.is_empty() {
            out.alternatives.push(s.one_of.clone());
        }
        for part in &s.all_of {
            self.fold(*part, out, seen, depth + 1);
        }
    }

    /// The names of the properties `id` declares, with those of its `allOf` parts.
    pub(crate) fn declared_names(&self, id: SchemaId) -> Vec<String> {
        self.merged(id)
            .properties
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }
}

/// Compiles schemas out of a spec document, resolving `$ref`s against it.
pub(crate) struct Compiler<'a> {
    root: &'a Value,
    schemas: Schemas,
    /// The node of every reference already met, by its pointer.
    refs: HashMap<String, SchemaId>,
    /// Referenced schemas reserved but not compiled yet: their node and their target.
    pending: Vec<(SchemaId, &'a Value, String)>,
}

impl<'a> Compiler<'a> {
    /// A compiler resolving references against `root`.
    pub(crate) fn new(root: &'a Value) -> Self {
        Compiler {
            root,
            schemas: Schemas::default(),
            refs: HashMap::new(),
            pending: Vec::new(),
        }
    }

    /// Compiles `schema` and every schema it references.
    pub(crate) fn compile(&mut self, schema: &'a Value) -> Result<SchemaId, String> {
        let id = self.node(schema, "#", 0)?;
        // Referenced schemas are compiled here, one after the other, rather than recursively,
        // so a long chain of references costs no stack.
        while let Some((rid, target, at)) = self.pending.pop() {
            let compiled = self.build(target, &at, 0)?;
            if let Some(slot) = self.schemas.nodes.get_mut(rid) {
                *slot = compiled;
            }
        }
        Ok(id)
    }

    /// The schemas compiled so far.
    pub(crate) fn finish(self) -> Schemas {
        self.schemas
    }

    /// The target of a `#/…` JSON pointer.
    fn resolve(&self, reference: &str) -> Result<&'a Value, String> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(format!(
                "{reference}: only local references (#/...) are supported"
            ));
        };
        let mut node = self.root;
        if pointer.is_empty() {
            return Ok(node);
        }
        let Some(rest) = pointer.strip_prefix('/') else {
            return Err(format!("{reference}: not a JSON pointer"));
        };
        for raw in rest.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            node = match node {
                Value::Object(map) => map.get(&token),
                Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            }
            .ok_or_else(|| format!("{reference}: unresolved reference"))?;
        }
        Ok(node)
    }

    /// The node of a schema value: a new one, or the one of the schema it references.
    fn node(&mut self, schema: &'a Value, at: &str, depth: usize) -> Result<SchemaId, String> {
        if depth > MAX_INLINE_DEPTH {
            return Err(format!("{at}: schemas nest too deeply"));
        }
        if let Some(reference) = schema.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| format!("{at}: $ref is not a string"))?;
            return self.reference(reference);
        }
        let id = self.schemas.nodes.len();
        self.schemas.nodes.push(Schema::default());
        let compiled = self.build(schema, at, depth)?;
        if let Some(slot) = self.schemas.nodes.get_mut(id) {
            *slot = compiled;
        }
        Ok(id)
    }

    /// The node of a referenced schema, reserved now and compiled later.
    fn reference(&mut self, reference: &str) -> Result<SchemaId, String> {
        if let Some(id) = self.refs.get(reference) {
            return Ok(*id);
        }
        // Follow an alias chain (a referenced schema that is itself a reference) to its end.
        let mut chain = vec![reference.to_owned()];
        let mut target = self.resolve(reference)?;
        while let Some(next) = target.get("$ref") {
            let next = next
                .as_str()
                .ok_or_else(|| format!("{reference}: $ref is not a string"))?;
            if chain.iter().any(|c| c == next) || chain.len() > MAX_REF_HOPS {
                return Err(format!("{reference}: circular reference"));
            }
            if let Some(id) = self.refs.get(next).copied() {
                for c in chain {
                    self.refs.insert(c, id);
                }
                return Ok(id);
            }
            chain.push(next.to_owned());
            target = self.resolve(next)?;
        }
        let id = self.schemas.nodes.len();
        self.schemas.nodes.push(Schema::default());
        let at = chain.last().cloned().unwrap_or_default();
        for c in chain {
            self.refs.insert(c, id);
        }
        self.pending.push((id, target, at));
        Ok(id)
    }

    fn sub(&mut self, v: &'a Value, at: &str, key: &str, depth: usize) -> Result<SchemaId, String> {
        if !v.is_object() {
            return Err(format!("{at}/{key}: not a schema object"));
        }
        self.node(v, &format!("{at}/{key}"), depth + 1)
    }

    fn list(
        &mut self,
        v: &'a Value,
        at: &str,
        key: &str,
        depth: usize,
    ) -> Result<Vec<SchemaId>, String> {
        let items = v
            .as_array()
            .ok_or_else(|| format!("{at}/{key}: not a list of schemas"))?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(self.sub(item, at, &format!("{key}/{i}"), depth)?);
        }
        Ok(out)
    }

    /// Compiles one schema object's own keywords.
    fn build(&mut self, v: &'a Value, at: &str, depth: usize) -> Result<Schema, String> {
        let Some(map) = v.as_object() else {
            return Err(format!("{at}: a schema must be an object"));
        };
        let mut s = Schema::default();
        let uint = |key: &str| -> Result<Option<u64>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(n) => n
                    .as_u64()
                    .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                    .map(Some)
                    .ok_or_else(|| format!("{at}/{key}: not a non-negative integer")),
            }
        };
        let num = |key: &str| -> Result<Option<f64>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(n) => n
                    .as_f64()
                    .map(Some)
                    .ok_or_else(|| format!("{at}/{key}: not a number")),
            }
        };
        match map.get("type") {
            None => {}
            Some(Value::String(t)) => {
                s.types
                    .push(Ty::parse(t).ok_or_else(|| format!("{at}/type: unknown type {t}"))?);
            }
            Some(Value::Array(ts)) => {
                for t in ts {
                    let name = t.as_str().unwrap_or("");
                    s.types.push(
                        Ty::parse(name).ok_or_else(|| format!("{at}/type: unknown type {t}"))?,
                    );
                }
            }
            Some(other) => return Err(format!("{at}/type: not a type name: {other}")),
        }
        s.nullable = map.get("nullable") == Some(&Value::Bool(true)) || s.types.contains(&Ty::Null);
        if let Some(e) = map.get("enum") {
            s.enumeration = Some(
                e.as_array()
                    .ok_or_else(|| format!("{at}/enum: not a list"))?
                    .clone(),
            );
        }
        if let Some(f) = map.get("format") {
            s.format = Some(
                f.as_str()
                    .ok_or_else(|| format!("{at}/format: not a string"))?
                    .to_owned(),
            );
        }
        if let Some(p) = map.get("pattern") {
            let src = p
                .as_str()
                .ok_or_else(|| format!("{at}/pattern: not a string"))?;
            s.pattern = Some(Pattern::new(src));
            s.example = map.get("example").cloned();
        }
        s.min_length = uint("minLength")?;
        s.max_length = uint("maxLength")?;
        s.minimum = num("minimum")?.map(|value| Bound {
            value,
            exclusive: map.get("exclusiveMinimum") == Some(&Value::Bool(true)),
        });
        s.maximum = num("maximum")?.map(|value| Bound {
            value,
            exclusive: map.get("exclusiveMaximum") == Some(&Value::Bool(true)),
        });
        // JSON Schema (draft 6 on) writes an exclusive bound as a number.
        if let Some(n) = map.get("exclusiveMinimum").and_then(Value::as_f64) {
            s.minimum = tighter_bound(
                s.minimum,
                Some(Bound {
                    value: n,
                    exclusive: true,
                }),
                true,
            );
        }
        if let Some(n) = map.get("exclusiveMaximum").and_then(Value::as_f64) {
            s.maximum = tighter_bound(
                s.maximum,
                Some(Bound {
                    value: n,
                    exclusive: true,
                }),
                false,
            );
        }
        s.multiple_of = num("multipleOf")?.filter(|m| *m > 0.0);
        if let Some(items) = map.get("items") {
            s.items = Some(self.sub(items, at, "items", depth)?);
        }
        s.min_items = uint("minItems")?;
        s.max_items = uint("maxItems")?;
        s.unique_items = map.get("uniqueItems") == Some(&Value::Bool(true));
        if let Some(props) = map.get("properties") {
            let props = props
                .as_object()
                .ok_or_else(|| format!("{at}/properties: not an object"))?;
            for (name, p) in props {
                let id = self.sub(p, at, &format!("properties/{name}"), depth)?;
                s.properties.push((name.clone(), id));
            }
        }
        if let Some(req) = map.get("required") {
            let req = req
                .as_array()
                .ok_or_else(|| format!("{at}/required: not a list"))?;
            for r in req {
                let r = r
                    .as_str()
                    .ok_or_else(|| format!("{at}/required: not a list of names"))?;
                if !s.required.iter().any(|x| x == r) {
                    s.required.push(r.to_owned());
                }
            }
        }
        s.additional = match map.get("additionalProperties") {
            None | Some(Value::Bool(true)) => Additional::Any,
            Some(Value::Bool(false)) => Additional::Deny,
            Some(Value::Object(o)) if o.is_empty() => Additional::Any,
            Some(extra @ Value::Object(_)) => {
                Additional::Schema(self.sub(extra, at, "additionalProperties", depth)?)
            }
            Some(_) => return Err(format!("{at}/additionalProperties: not a schema")),
        };
        s.min_properties = uint("minProperties")?;
        s.max_properties = uint("maxProperties")?;
        if let Some(parts) = map.get("allOf") {
            s.all_of = self.list(parts, at, "allOf", depth)?;
        }
        if let Some(parts) = map.get("anyOf") {
            s.any_of = self.list(parts, at, "anyOf", depth)?;
        }
        if let Some(parts) = map.get("oneOf") {
            s.one_of = self.list(parts, at, "oneOf", depth)?;
        }
        if let Some(not) = map.get("not") {
            s.not = Some(self.sub(not, at, "not", depth)?);
        }
        Ok(s)
    }
}
