//! Synthesis of a value valid against a schema, when the spec has no example to start from
//! (and for the subtrees of an example that must be replaced).
//!
//! Minimal and deterministic: required properties only (or every property, for a request that
//! exercises a whole schema), arrays of `minItems` items, the lowest number the bounds allow
//! (0 when they allow it), strings of the declared `format` and length, the `pattern`'s own
//! shortest match. The seed varies generated strings, dates, UUIDs, enum choices and booleans;
//! nothing else does.

use serde_json::{Map, Number, Value};

use super::index::Fill;
use super::schema::{Additional, Bound, Merged, SchemaId, Schemas, Ty};
use super::validate::{json_eq, Mode, Validator};

/// How deep synthesis goes before it writes the simplest value of the type.
const MAX_DEPTH: usize = 48;
/// How deep optional properties are written (`Fill::All`).
const MAX_OPTIONAL_DEPTH: usize = 12;
/// The most items or properties synthesized for one array or object.
const MAX_COUNT: u64 = 64;
/// How many values one synthesizer may make before it writes only the simplest ones: a bound
/// on the time a pathological spec (recursive `oneOf`s) can cost.
const BUDGET: usize = 200_000;

/// SplitMix64's finalizer: a well-mixed 64-bit hash of `x`.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// FNV-1a of a string.
pub(crate) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A synthesizer over one spec's schemas.
pub(crate) struct Synth<'a> {
    schemas: &'a Schemas,
    seed: u64,
    fill: Fill,
    /// What the value is for: a response must satisfy strict validators (Ajv), a request the
    /// crate's own reading of the spec.
    mode: Mode,
    /// The schemas being synthesized, outermost first (optional properties that recurse are
    /// left out).
    stack: Vec<SchemaId>,
    /// Values left to make (see [`BUDGET`]).
    budget: usize,
}

impl<'a> Synth<'a> {
    /// A synthesizer for `mode` values.
    pub(crate) fn new(schemas: &'a Schemas, seed: u64, fill: Fill, mode: Mode) -> Self {
        Synth {
            schemas,
            seed,
            fill,
            mode,
            stack: Vec::new(),
            budget: BUDGET,
        }
    }

    fn valid(&self, value: &Value, id: SchemaId) -> bool {
        Validator::is_valid(self.schemas, self.mode, value, id)
    }

    /// A value of schema `id`; `hint` is the field's name, `variant` tells apart the items of
    /// one array.
    pub(crate) fn value(&mut self, id: SchemaId, hint: &str, variant: u64, depth: usize) -> Value {
        let m = self.schemas.merged(id);
        if depth > MAX_DEPTH || self.budget == 0 {
            return simplest(&m);
        }
        self.budget -= 1;
        self.stack.push(id);
        let mut out = self.of_merged(&m, hint, variant, depth);
        if !self.valid(&out, id) {
            // An `anyOf`/`oneOf`: the first branch that gives a valid value.
            'found: for group in &m.alternatives {
                for branch in group {
                    let candidate = self.value(*branch, hint, variant, depth + 1);
                    if self.valid(&candidate, id) {
                        out = candidate;
                        break 'found;
                    }
                }
            }
        }
        // Other variants of a scalar (another enum value, string, date): a container's parts
        // have already had their chances, and retrying it would cost exponential time.
        let scalar = !matches!(m.primary_type(), Some(Ty::Object | Ty::Array) | None);
        if scalar && !self.valid(&out, id) {
            for retry in 1..4u64 {
                let candidate = self.of_merged(&m, hint, variant.wrapping_add(retry * 7919), depth);
                if self.valid(&candidate, id) {
                    out = candidate;
                    break;
                }
            }
        }
        self.stack.pop();
        out
    }

    /// A value valid against every schema of `ids` if the first one's value is; else the
    /// first of the others' that is.
    pub(crate) fn value_of_all(
        &mut self,
        ids: &[SchemaId],
        hint: &str,
        variant: u64,
        depth: usize,
    ) -> Value {
        let mut first = None;
        for id in ids {
            let v = self.value(*id, hint, variant, depth);
            if ids.iter().all(|other| self.valid(&v, *other)) {
                return v;
            }
            first.get_or_insert(v);
        }
        first.unwrap_or(Value::Null)
    }

    fn h(&self, hint: &str, variant: u64) -> u64 {
        mix(self.seed ^ mix(variant) ^ hash_str(hint))
    }

    fn of_merged(&mut self, m: &Merged, hint: &str, variant: u64, depth: usize) -> Value {
        if let Some(values) = &m.enumeration {
            return self.enum_value(m, values, variant);
        }
        match m.primary_type() {
            Some(Ty::String) => self.string(m, hint, variant),
            Some(Ty::Integer) => integer(m),
            Some(Ty::Number) => number(m),
            Some(Ty::Boolean) => Value::Bool(self.h(hint, variant) & 1 == 1),
            Some(Ty::Array) => self.array(m, hint, depth),
            Some(Ty::Object) => self.object(m, depth),
            Some(Ty::Null) => Value::Null,
            None => {
                if let Some(first) = m.alternatives.first().and_then(|g| g.first()) {
                    self.value(*first, hint, variant, depth + 1)
                } else {
                    Value::Object(Map::new())
                }
            }
        }
    }

    fn enum_value(&self, m: &Merged, values: &[Value], variant: u64) -> Value {
        let typed: Vec<&Value> = values
            .iter()
            .filter(|v| {
                !v.is_null() && (m.types.is_empty() || m.types.iter().any(|t| t.matches(v)))
            })
            .collect();
        if !typed.is_empty() {
            let i = (self.seed.wrapping_add(variant) % typed.len() as u64) as usize;
            return typed.get(i).map_or(Value::Null, |v| (*v).clone());
        }
        // A `type: string` enum YAML read as numbers: the text is meant. A strict validator
        // (Ajv) accepts neither the text nor the number, so a response takes null if it may.
        if self.mode == Mode::Response && m.nullable {
            return Value::Null;
        }
        match values.iter().find(|v| !v.is_null()) {
            Some(v) if m.types.contains(&Ty::String) => Value::String(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            Some(v) => v.clone(),
            None => Value::Null,
        }
    }

    fn string(&self, m: &Merged, hint: &str, variant: u64) -> Value {
        let min = m.min_length.unwrap_or(0) as usize;
        let max = m.max_length.map_or(usize::MAX, |x| x as usize);
        for pid in &m.patterns {
            let node = self.schemas.get(*pid);
            let Some(pattern) = &node.pattern else {
                continue;
            };
            if pattern.matches("").is_none() {
                continue; // unsupported: skipped
            }
            if let Some(s) = pattern.generate(min, max) {
                return Value::String(s);
            }
            if let Some(Value::String(e)) = &node.example {
                if pattern.matches(e) == Some(true) {
                    return Value::String(e.clone());
                }
            }
        }
        let h = self.h(hint, variant);
        let base = match m.format.as_deref() {
            Some("date") => date(h),
            Some("date-time") => format!(
                "{}T{:02}:{:02}:00Z",
                date(h),
                (h >> 20) % 24,
                (h >> 28) % 60
            ),
            Some("time") => format!("{:02}:{:02}:00Z", (h >> 20) % 24, (h >> 28) % 60),
            Some("uuid") => uuid(h),
            Some("email") => format!("user{}@example.com", h % 10_000),
            Some("uri" | "url" | "uri-reference") => {
                format!("https://example.com/{}", slug(hint, h))
            }
            Some("ipv4") => format!("192.0.2.{}", 1 + h % 254),
            Some("ipv6") => format!("2001:db8::{:x}", 1 + h % 0xfffe),
            Some("hostname") => "example.com".to_owned(),
            Some("byte") => "cGxhaWQ=".to_owned(),
            _ => slug(hint, h),
        };
        let mut s: String = base.chars().take(max).collect();
        while s.chars().count() < min {
            s.push('x');
        }
        Value::String(s)
    }

    fn array(&mut self, m: &Merged, hint: &str, depth: usize) -> Value {
        let Some(item) = m.items.first().copied() else {
            let n = m.min_items.unwrap_or(0).min(MAX_COUNT);
            return Value::Array((0..n).map(|i| Value::String(format!("item{i}"))).collect());
        };
        let mut n = m.min_items.unwrap_or(0);
        let recursive = self.stack.contains(&item) || self.stack.len() > MAX_OPTIONAL_DEPTH;
        if self.fill == Fill::All && !recursive {
            n = n.max(1);
        }
        if let Some(max) = m.max_items {
            n = n.min(max);
        }
        let n = n.min(MAX_COUNT);
        let mut out: Vec<Value> = Vec::with_capacity(n as usize);
        for i in 0..n {
            let mut v = self.value_of_all(&m.items, hint, i, depth + 1);
            if m.unique_items {
                let mut tries = 1u64;
                while out.iter().any(|x| json_eq(x, &v)) && tries < 16 {
                    v = self.value_of_all(&m.items, hint, i + tries * n, depth + 1);
                    tries += 1;
                }
            }
            out.push(v);
        }
        Value::Array(out)
    }

    fn object(&mut self, m: &Merged, depth: usize) -> Value {
        let mut out = Map::new();
        for (name, ids) in &m.properties {
            let required = m.required.contains(name);
            if !required {
                let Some(first) = ids.first() else {
                    continue;
                };
                if self.fill == Fill::Required
                    || self.stack.contains(first)
                    || self.stack.len() > MAX_OPTIONAL_DEPTH
                {
                    continue;
                }
            }
            let v = self.value_of_all(ids, name, 0, depth + 1);
            out.insert(name.clone(), v);
        }
        for name in &m.required {
            if !out.contains_key(name) {
                let v = match m.additional {
                    Additional::Schema(extra) => self.value(extra, name, 0, depth + 1),
                    _ => Value::Object(Map::new()),
                };
                out.insert(name.clone(), v);
            }
        }
        if let Additional::Schema(extra) = m.additional {
            let mut wanted = m.min_properties.unwrap_or(0).min(MAX_COUNT);
            if self.fill == Fill::All && m.properties.is_empty() && !self.stack.contains(&extra) {
                wanted = wanted.max(1);
            }
            let mut i = 0u64;
            while (out.len() as u64) < wanted && i < MAX_COUNT * 2 {
                let key = if i == 0 {
                    "key".to_owned()
                } else {
                    format!("key{i}")
                };
                if !out.contains_key(&key) {
                    let v = self.value(extra, &key, i, depth + 1);
                    out.insert(key, v);
                }
                i += 1;
            }
        } else if m.additional == Additional::Any {
            let wanted = m.min_properties.unwrap_or(0).min(MAX_COUNT);
            let mut i = 0u64;
            while (out.len() as u64) < wanted && i < MAX_COUNT * 2 {
                out.entry(format!("key{i}"))
                    .or_insert_with(|| Value::String("value".to_owned()));
                i += 1;
            }
        }
        Value::Object(out)
    }
}

/// The simplest value of the schema's type, where synthesis stops recursing.
fn simplest(m: &Merged) -> Value {
    if m.nullable {
        return Value::Null;
    }
    match m.primary_type() {
        Some(Ty::String) => Value::String(String::new()),
        Some(Ty::Integer | Ty::Number) => integer(m),
        Some(Ty::Boolean) => Value::Bool(false),
        Some(Ty::Array) => Value::Array(Vec::new()),
        Some(Ty::Null) => Value::Null,
        Some(Ty::Object) | None => Value::Object(Map::new()),
    }
}

/// A readable string from a field's name: `account_id_3fa94c`.
fn slug(hint: &str, h: u64) -> String {
    let base: String = hint
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(40)
        .collect();
    let base = if base.is_empty() {
        "value".to_owned()
    } else {
        base
    };
    format!("{base}_{:06x}", h & 0xff_ffff)
}

fn date(h: u64) -> String {
    format!("2024-{:02}-{:02}", 1 + (h >> 8) % 12, 1 + h % 28)
}

fn uuid(h: u64) -> String {
    let a = mix(h);
    let b = mix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + (b >> 62),
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

fn lower_int(b: Option<Bound>) -> Option<f64> {
    b.map(|b| {
        if b.exclusive {
            b.value.floor() + 1.0
        } else {
            b.value.ceil()
        }
    })
}

fn upper_int(b: Option<Bound>) -> Option<f64> {
    b.map(|b| {
        if b.exclusive {
            b.value.ceil() - 1.0
        } else {
            b.value.floor()
        }
    })
}

fn as_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Number(Number::from(x as i64))
    } else {
        Number::from_f64(x).map_or(Value::Number(Number::from(0)), Value::Number)
    }
}

fn integer(m: &Merged) -> Value {
    let lo = lower_int(m.minimum);
    let hi = upper_int(m.maximum);
    let mut x = match (lo, hi) {
        (Some(lo), _) if lo > 0.0 => lo,
        (_, Some(hi)) if hi < 0.0 => hi,
        _ => 0.0,
    };
    if let Some(step) = m.multiple_of {
        if step.fract() == 0.0 {
            x = (x / step).ceil() * step;
        }
    }
    if let Some(hi) = hi {
        if x > hi {
            x = hi;
        }
    }
    as_number(x)
}

fn number(m: &Merged) -> Value {
    let lo = m.minimum;
    let hi = m.maximum;
    let mut x = match (lo, hi) {
        (Some(l), _) if l.value > 0.0 || (l.value == 0.0 && l.exclusive) => {
            if l.exclusive {
                l.value + 1.0
            } else {
                l.value
            }
        }
        (_, Some(h)) if h.value < 0.0 || (h.value == 0.0 && h.exclusive) => {
            if h.exclusive {
                h.value - 1.0
            } else {
                h.value
            }
        }
        _ => 0.0,
    };
    if let (Some(l), Some(h)) = (lo, hi) {
        let out_of = |x: f64| {
            (if l.exclusive {
                x <= l.value
            } else {
                x < l.value
            }) || (if h.exclusive {
                x >= h.value
            } else {
                x > h.value
            })
        };
        if out_of(x) {
            x = (l.value + h.value) / 2.0;
        }
    }
    if let Some(step) = m.multiple_of {
        x = (x / step).ceil() * step;
    }
    as_number(x)
}
