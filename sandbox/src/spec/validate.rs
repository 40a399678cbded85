//! Validation of a JSON value against a compiled schema, with OpenAPI 3.0 semantics, giving
//! every violation with the path of the field it concerns.
//!
//! Two modes:
//! - [`Mode::Response`] is plain JSON Schema with `nullable` (what Ajv does for Prism): a
//!   `null` is valid only where the schema is `nullable`.
//! - [`Mode::Request`] reads a body as Plaid's servers do: at the top level, `client_id` and
//!   `secret` are neither checked nor required (the server checks credentials itself), fields
//!   the body schema does not declare are *unknown* (whatever `additionalProperties` says,
//!   unless it is a schema), and so are those of a nested object that declares its fields; a
//!   `url` is an http(s) URL on any host (a webhook may be on a loopback host); and a `null` given for a
//!   property that is not nullable counts as absent (missing if required, ignored if
//!   optional).
//!
//! An enum value and a JSON value are equal when they are equal as JSON (numbers by value), or
//! when one is a string and the other a number or boolean with the same text: YAML reads the
//! `type: string` enum `[4.1, 4, 3]` as numbers, and the string "4.1" is what is meant.
//! `oneOf` is checked like `anyOf` (some branch must match).

use serde_json::{Map, Value};

use super::format;
use super::schema::{Additional, Bound, SchemaId, Schemas, Ty};

/// How deep a value may nest before validation gives up on it.
const MAX_DEPTH: usize = 256;
/// The most violations collected for one value (a body of a million unknown fields gets the
/// first thousand named).
const MAX_VIOLATIONS: usize = 1000;

/// The credentials a request body may always carry.
pub(crate) const CREDENTIALS: [&str; 2] = ["client_id", "secret"];

/// How values are read; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Request,
    Response,
}

/// One segment of a field's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Renders a path: `options.count`, `country_codes[1]`, `accounts[0].balances`.
pub(crate) fn render(path: &[Segment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// What rule a value breaks.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    /// A required property is absent.
    Missing,
    /// A property the schema does not allow.
    Unknown,
    /// The value is of none of these types.
    Type(Vec<Ty>),
    /// The value is none of these.
    Enum(Vec<Value>),
    /// A number outside its bounds.
    Range {
        integer: bool,
        minimum: Option<Bound>,
        maximum: Option<Bound>,
    },
    /// A number that is not a multiple of this.
    MultipleOf(f64),
    /// A string of the wrong length (in characters).
    Length { min: Option<u64>, max: Option<u64> },
    /// An array of the wrong length.
    Items { min: Option<u64>, max: Option<u64> },
    /// An array with duplicate items.
    Unique,
    /// An object with too few or too many properties.
    Properties { min: Option<u64>, max: Option<u64> },
    /// A string not in this format.
    Format(String),
    /// A string not matching this pattern.
    Pattern(String),
    /// A value matching no branch of an `anyOf`/`oneOf`.
    NoAlternative,
    /// A value matching a `not` schema.
    Not,
    /// A value nested too deeply to check.
    TooDeep,
}

/// One broken rule, with the path of the field that breaks it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Violation {
    pub path: Vec<Segment>,
    pub kind: Kind,
}

/// Formats a number as written: `500`, not `500.0`.
pub(crate) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The text of an enum value in a message.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Violation {
    /// The field's path; `body` for the whole value.
    pub(crate) fn field(&self) -> String {
        let p = render(&self.path);
        if p.is_empty() {
            "body".to_owned()
        } else {
            p
        }
    }

    /// A sentence naming the field and the rule.
    pub(crate) fn message(&self) -> String {
        let f = self.field();
        match &self.kind {
            Kind::Missing => format!("{f} is required but missing"),
            Kind::Unknown => format!("{f} is not a recognized field"),
            Kind::Type(types) => {
                let names: Vec<&str> = types.iter().map(|t| t.described()).collect();
                format!("{f} must be {}", names.join(" or "))
            }
            Kind::Enum(values) => {
                let mut texts: Vec<String> = Vec::new();
                for v in values.iter().filter(|v| !v.is_null()) {
                    let t = value_text(v);
                    if !texts.contains(&t) {
                        texts.push(t);
                    }
                }
                format!("{f} must be one of {}", texts.join(", "))
            }
            Kind::Range {
                integer,
                minimum,
                maximum,
            } => {
                let what = if *integer { "an integer" } else { "a number" };
                match (minimum, maximum) {
                    (Some(lo), Some(hi)) if !lo.exclusive && !hi.exclusive => format!(
                        "{f} must be {what} between {} and {}",
                        number_text(lo.value),
                        number_text(hi.value)
                    ),
                    _ => {
                        let mut parts = Vec::new();
                        if let Some(lo) = minimum {
                            parts.push(format!(
                                "greater than {}{}",
                                if lo.exclusive { "" } else { "or equal to " },
                                number_text(lo.value)
                            ));
                        }
                        if let Some(hi) = maximum {
                            parts.push(format!(
                                "less than {}{}",
                                if hi.exclusive { "" } else { "or equal to " },
                                number_text(hi.value)
                            ));
                        }
                        format!("{f} must be {what} {}", parts.join(" and "))
                    }
                }
            }
            Kind::MultipleOf(m) => format!("{f} must be a multiple of {}", number_text(*m)),
            Kind::Length { min, max } => match (min, max) {
                (Some(a), Some(b)) if a == b => {
                    format!(
                        "{f} must be exactly {} long",
                        plural(*a, "character", "characters")
                    )
                }
                (Some(a), Some(b)) => format!("{f} must be between {a} and {b} characters long"),
                (Some(a), None) => format!(
                    "{f} must be at least {} long",
                    plural(*a, "character", "characters")
                ),
                (None, Some(b)) => format!(
                    "{f} must be at most {} long",
                    plural(*b, "character", "characters")
                ),
                (None, None) => format!("{f} has a wrong length"),
            },
            Kind::Items { min, max } => match (min, max) {
                (Some(a), Some(b)) if a == b => {
                    format!("{f} must contain exactly {}", plural(*a, "item", "items"))
                }
                (Some(a), Some(b)) => format!("{f} must contain between {a} and {b} items"),
                (Some(a), None) => {
                    format!("{f} must contain at least {}", plural(*a, "item", "items"))
                }
                (None, Some(b)) => {
                    format!("{f} must contain at most {}", plural(*b, "item", "items"))
                }
                (None, None) => format!("{f} has a wrong number of items"),
            },
            Kind::Unique => format!("{f} must not contain duplicate items"),
            Kind::Properties { min, max } => match (min, max) {
                (Some(a), Some(b)) => format!("{f} must have between {a} and {b} properties"),
                (Some(a), None) => format!(
                    "{f} must have at least {}",
                    plural(*a, "property", "properties")
                ),
                (None, Some(b)) => format!(
                    "{f} must have at most {}",
                    plural(*b, "property", "properties")
                ),
                (None, None) => format!("{f} has a wrong number of properties"),
            },
            Kind::Format(fmt) => format!("{f} must be {}", format::described(fmt)),
            Kind::Pattern(p) => format!("{f} must match the pattern {p}"),
            Kind::NoAlternative => format!("{f} does not match any of the allowed schemas"),
            Kind::Not => format!("{f} matches a schema it must not match"),
            Kind::TooDeep => format!("{f} is nested too deeply"),
        }
    }
}

/// A number's value when it is a whole number (an integer, exactly; a float with no fraction,
/// as its `f64`: `1.0` is `1`). Review round 17: integers met floats as `f64`, so `2^63 + 1` equalled
/// `2^63.0`.
fn integral(n: &serde_json::Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(i128::from(u));
    }
    let f = n.as_f64()?;
    // Below 2^126 every whole f64 is an exact i128 (the cast saturates beyond, so stop there).
    (f.fract() == 0.0 && f.abs() < 8.5e37).then_some(f as i128)
}

/// Whether two items of `items` are equal ([`json_eq`]), in time linear in their size: items
/// are bucketed by a canonical text (keys sorted, whole numbers exactly, others as `f64`),
/// and only items in one bucket are compared. Comparing every pair took 41 s for 100,000
/// numbers, with the sandbox's lock held (review round 7); numbers bucketed as `f64` put
/// distinct integers near 2^63 in few buckets (review round 17).
fn has_duplicates(items: &[Value]) -> bool {
    let mut buckets: std::collections::HashMap<String, Vec<&Value>> =
        std::collections::HashMap::with_capacity(items.len());
    for item in items {
        let bucket = buckets.entry(canonical(item)).or_default();
        if bucket.iter().any(|seen| json_eq(seen, item)) {
            return true;
        }
        bucket.push(item);
    }
    false
}

/// A text equal for items [`json_eq`] calls equal (the converse is checked by the caller).
fn canonical(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Number(n) => match integral(n) {
                Some(i) => {
                    out.push('i');
                    out.push_str(&i.to_string());
                }
                None => {
                    out.push('n');
                    out.push_str(&n.as_f64().unwrap_or(f64::NAN).to_string());
                }
            },
            Value::Array(items) => {
                out.push('[');
                for item in items {
                    write(item, out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for key in keys {
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(&map[key], out);
                    out.push(',');
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// JSON equality with numbers compared by value (`1` equals `1.0`), as JSON Schema has it:
/// integers exactly, a float as the `f64` it was read as (serde_json reads
/// `9223372036854775809.0` as 2^63).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (integral(x), integral(y)) {
            (Some(i), Some(j)) => i == j,
            (None, None) => x.as_f64() == y.as_f64(),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// Whether `value` is the enum entry `entry` (see the module documentation).
pub(crate) fn enum_eq(entry: &Value, value: &Value) -> bool {
    if json_eq(entry, value) {
        return true;
    }
    match (entry, value) {
        (Value::String(s), Value::Number(_) | Value::Bool(_))
        | (Value::Number(_) | Value::Bool(_), Value::String(s)) => {
            let other = if entry.is_string() { value } else { entry };
            let text = other.to_string();
            *s == text
        }
        _ => false,
    }
}

/// Where a schema is applied: at the top of a request body (or in one of the top schema's
/// `allOf` parts), or anywhere else (or in one of that schema's `allOf` parts, read as a
/// request).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    RootPart,
    Inner,
    InnerPart,
}

/// Collects the violations of one value.
pub(crate) struct Validator<'a> {
    schemas: &'a Schemas,
    mode: Mode,
    path: Vec<Segment>,
    out: Vec<Violation>,
    /// Stop at the first violation (for validity checks).
    first_only: bool,
}

impl<'a> Validator<'a> {
    /// A validator of `mode`.
    pub(crate) fn new(schemas: &'a Schemas, mode: Mode) -> Self {
        Validator {
            schemas,
            mode,
            path: Vec::new(),
            out: Vec::new(),
            first_only: false,
        }
    }

    /// Every violation of `value` against `id`, deduplicated, in document order. A request
    /// body is read as a top-level body (`Mode::Request`).
    /// The format a request's value is checked against: a `url` (ajv's, public hosts only) is
    /// a web URL on any host in a request (`web-url`), as Plaid takes a webhook on a private or
    /// loopback host; not any URI (review round 20: `javascript:alert(1)` was a webhook).
    fn request_format<'f>(&self, format: &'f str) -> &'f str {
        match (self.mode, format) {
            (Mode::Request, "url") => "web-url",
            _ => format,
        }
    }

    pub(crate) fn violations(mut self, value: &Value, id: SchemaId) -> Vec<Violation> {
        let level = if self.mode == Mode::Request {
            Level::Root
        } else {
            Level::Inner
        };
        self.check(value, id, 0, level);
        // allOf parts may report the same violation twice.
        let mut seen = std::collections::HashSet::new();
        self.out
            .into_iter()
            .filter(|v| seen.insert(v.message()))
            .collect()
    }

    /// Whether `value` is valid against `id` (as a nested value, never a top-level body).
    pub(crate) fn is_valid(schemas: &Schemas, mode: Mode, value: &Value, id: SchemaId) -> bool {
        let mut v = Validator {
            schemas,
            mode,
            path: Vec::new(),
            out: Vec::new(),
            first_only: true,
        };
        v.check(value, id, 0, Level::Inner);
        v.out.is_empty()
    }

    fn done(&self) -> bool {
        self.first_only && !self.out.is_empty()
    }

    fn push(&mut self, kind: Kind) {
        if self.out.len() >= MAX_VIOLATIONS {
            return;
        }
        self.out.push(Violation {
            path: self.path.clone(),
            kind,
        });
    }

    fn push_at(&mut self, key: &str, kind: Kind) {
        self.path.push(Segment::Key(key.to_owned()));
        self.push(kind);
        self.path.pop();
    }

    fn accepts_null(&self, id: SchemaId) -> bool {
        Validator::is_valid(self.schemas, self.mode, &Value::Null, id)
    }

    fn check(&mut self, value: &Value, id: SchemaId, depth: usize, level: Level) {
        if self.done() {
            return;
        }
        if depth > MAX_DEPTH {
            self.push(Kind::TooDeep);
            return;
        }
        let schemas = self.schemas;
        let s = schemas.get(id);
        if value.is_null() && s.nullable {
            return;
        }
        if !s.types.is_empty() && !s.types.iter().any(|t| t.matches(value)) {
            self.push(Kind::Type(s.types.clone()));
            return;
        }
        if let Some(values) = &s.enumeration {
            if !values.iter().any(|e| enum_eq(e, value)) {
                self.push(Kind::Enum(values.clone()));
                return;
            }
        }
        match value {
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(0.0);
                let below = s.minimum.is_some_and(|b| {
                    if b.exclusive {
                        f <= b.value
                    } else {
                        f < b.value
                    }
                });
                let above = s.maximum.is_some_and(|b| {
                    if b.exclusive {
                        f >= b.value
                    } else {
                        f > b.value
                    }
                });
                if below || above {
                    self.push(Kind::Range {
                        integer: s.types.contains(&Ty::Integer),
                        minimum: s.minimum,
                        maximum: s.maximum,
                    });
                }
                if let Some(m) = s.multiple_of {
                    let q = f / m;
                    if (q - q.round()).abs() > 1e-9 {
                        self.push(Kind::MultipleOf(m));
                    }
                }
                if let Some(fmt) = &s.format {
                    if !format::check(fmt, value) {
                        self.push(Kind::Format(fmt.clone()));
                    }
                }
            }
            Value::String(text) => {
                if s.min_length.is_some() || s.max_length.is_some() {
                    let n = text.chars().count() as u64;
                    if s.min_length.is_some_and(|m| n < m) || s.max_length.is_some_and(|m| n > m) {
                        self.push(Kind::Length {
                            min: s.min_length,
                            max: s.max_length,
                        });
                    }
                }
                if let Some(fmt) = &s.format {
                    let fmt = self.request_format(fmt);
                    if !format::check(fmt, value) {
                        self.push(Kind::Format(fmt.to_owned()));
                    }
                }
                if let Some(p) = &s.pattern {
                    // An unsupported pattern (None) is skipped.
                    if p.matches(text) == Some(false) {
                        self.push(Kind::Pattern(p.source.clone()));
                    }
                }
            }
            Value::Array(items) => {
                let n = items.len() as u64;
                if s.min_items.is_some_and(|m| n < m) || s.max_items.is_some_and(|m| n > m) {
                    self.push(Kind::Items {
                        min: s.min_items,
                        max: s.max_items,
                    });
                }
                if s.unique_items && has_duplicates(items) {
                    self.push(Kind::Unique);
                }
                if let Some(item) = s.items {
                    for (i, x) in items.iter().enumerate() {
                        self.path.push(Segment::Index(i));
                        self.check(x, item, depth + 1, Level::Inner);
                        self.path.pop();
                        if self.done() {
                            return;
                        }
                    }
                }
            }
            Value::Object(map) => self.object(map, id, depth, level),
            _ => {}
        }
        let part_level = match level {
            Level::Root | Level::RootPart => Level::RootPart,
            // A request's nested object is checked for unknown fields as a whole (against
            // every part's names), so its parts do not check them.
            Level::Inner | Level::InnerPart if self.mode == Mode::Request => Level::InnerPart,
            Level::Inner | Level::InnerPart => Level::Inner,
        };
        for part in &s.all_of {
            self.check(value, *part, depth + 1, part_level);
        }
        for branches in [&s.any_of, &s.one_of] {
            if !branches.is_empty()
                && !branches
                    .iter()
                    .any(|b| Validator::is_valid(schemas, self.mode, value, *b))
            {
                self.push(Kind::NoAlternative);
            }
        }
        if let Some(not) = s.not {
            if Validator::is_valid(schemas, self.mode, value, not) {
                self.push(Kind::Not);
            }
        }
    }

    fn object(&mut self, map: &Map<String, Value>, id: SchemaId, depth: usize, level: Level) {
        let schemas = self.schemas;
        let s = schemas.get(id);
        let top = matches!(level, Level::Root | Level::RootPart);
        let request = self.mode == Mode::Request;
        for name in &s.required {
            if top && CREDENTIALS.contains(&name.as_str()) {
                continue;
            }
            let missing = match map.get(name) {
                None => true,
                // The property's schemas wherever the object declares it, `allOf` parts
                // included: a `required` name may be declared only in a part.
                Some(Value::Null) if request => match schemas.merged(id).property(name) {
                    Some(ids) if !ids.is_empty() => !ids.iter().all(|pid| self.accepts_null(*pid)),
                    _ => false,
                },
                Some(_) => false,
            };
            if missing {
                self.push_at(name, Kind::Missing);
                if self.done() {
                    return;
                }
            }
        }
        let mut declared: Option<Vec<String>> = None;
        for (key, x) in map {
            if top && CREDENTIALS.contains(&key.as_str()) {
                continue;
            }
            if let Some(pid) = s.property(key) {
                if request && x.is_null() && !self.accepts_null(pid) {
                    continue; // absent, as far as a request goes
                }
                self.path.push(Segment::Key(key.clone()));
                self.check(x, pid, depth + 1, Level::Inner);
                self.path.pop();
            } else {
                match (level, s.additional) {
                    (Level::RootPart | Level::InnerPart, _) => {}
                    (_, Additional::Schema(extra)) => {
                        self.path.push(Segment::Key(key.clone()));
                        self.check(x, extra, depth + 1, Level::Inner);
                        self.path.pop();
                    }
                    (Level::Root, _) => {
                        let names = declared.get_or_insert_with(|| schemas.declared_names(id));
                        if !names.iter().any(|n| n == key) {
                            self.push_at(key, Kind::Unknown);
                        }
                    }
                    (Level::Inner, Additional::Deny) => self.push_at(key, Kind::Unknown),
                    // Plaid refuses a nested field it does not know (`options.cont`) as it does
                    // a top-level one; an object that declares no fields is free-form.
                    (Level::Inner, Additional::Any) if request => {
                        let names = declared.get_or_insert_with(|| schemas.declared_names(id));
                        if !names.is_empty() && !names.iter().any(|n| n == key) {
                            self.push_at(key, Kind::Unknown);
                        }
                    }
                    (Level::Inner, Additional::Any) => {}
                }
            }
            if self.done() {
                return;
            }
        }
        let n = map.len() as u64;
        if s.min_properties.is_some_and(|m| n < m) || s.max_properties.is_some_and(|m| n > m) {
            self.push(Kind::Properties {
                min: s.min_properties,
                max: s.max_properties,
            });
        }
    }
}
