//! A request body, read the way Plaid reads it: a JSON object whose fields are checked as they
//! are used, each failure Plaid's `INVALID_REQUEST` error naming the field.

use crate::failure::Failure;
use chrono::NaiveDate;
use serde_json::{Map, Value};

/// The request body, its fields by name.
pub(crate) struct Body(pub(crate) Map<String, Value>);

impl Body {
    /// A JSON object whose `options`, if any, is an object (as in every request of the spec).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Body, Failure> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => match map.get("options") {
                None | Some(Value::Null | Value::Object(_)) => Ok(Body(map)),
                Some(_) => Err(Failure::invalid_field("options must be an object")),
            },
            _ => Err(Failure::code("INVALID_BODY")),
        }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    pub(crate) fn str(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Value::as_str)
    }

    /// A required string field.
    pub(crate) fn required(&self, field: &str) -> Result<&str, Failure> {
        string(self.0.get(field), field)
    }

    /// An optional string field, `INVALID_FIELD` when it is there but not a string.
    pub(crate) fn optional(&self, field: &str) -> Result<Option<&str>, Failure> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Failure::invalid_field(format!("{field} must be a string"))),
        }
    }

    /// A list of strings; absent is empty.
    pub(crate) fn strings(&self, field: &str) -> Result<Vec<String>, Failure> {
        strings(self.0.get(field), field)
    }

    /// A list of strings that must not be empty.
    pub(crate) fn required_list(&self, field: &str) -> Result<Vec<String>, Failure> {
        let list = self.strings(field)?;
        if list.is_empty() {
            return Err(Failure::missing(field));
        }
        Ok(list)
    }

    /// A required `YYYY-MM-DD` date.
    pub(crate) fn date(&self, field: &str) -> Result<NaiveDate, Failure> {
        parse_date(self.required(field)?, field)
    }

    /// A field of the request's `options` object.
    pub(crate) fn option(&self, name: &str) -> Option<&Value> {
        self.0
            .get("options")
            .and_then(Value::as_object)
            .and_then(|o| o.get(name))
            .filter(|v| !v.is_null())
    }

    /// A boolean of `options`, `false` when absent.
    pub(crate) fn option_flag(&self, name: &str) -> Result<bool, Failure> {
        match self.option(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(Failure::invalid_field(format!(
                "options.{name} must be a boolean"
            ))),
        }
    }
}

fn string<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a str, Failure> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null) => Err(Failure::missing(field)),
        Some(Value::String(_)) => Err(Failure::invalid_field(format!("{field} must not be empty"))),
        Some(_) => Err(Failure::invalid_field(format!("{field} must be a string"))),
    }
}

fn strings(value: Option<&Value>, field: &str) -> Result<Vec<String>, Failure> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Failure::invalid_field(format!("{field} must be a list of strings"))),
        Some(_) => Err(Failure::invalid_field(format!(
            "{field} must be a list of strings"
        ))),
    }
}

fn parse_date(text: &str, field: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| not_a_date(field))
}

fn not_a_date(field: &str) -> Failure {
    Failure::invalid_field(format!("{field} must be a date in the format YYYY-MM-DD"))
}

/// An optional `YYYY-MM-DD` date: absent or null is none.
pub(crate) fn optional_date(
    value: Option<&Value>,
    field: &str,
) -> Result<Option<NaiveDate>, Failure> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_date(s, field).map(Some),
        Some(_) => Err(not_a_date(field)),
    }
}

/// An optional integer from 1 to `max`: absent or null is none.
pub(crate) fn one_to(value: Option<&Value>, field: &str, max: u64) -> Result<Option<u64>, Failure> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Failure::invalid_field(format!(
                "{field} must be an integer between 1 and {max}"
            ))),
        },
    }
}

/// A page size: absent or null is `default`, else an integer from 1 to `max`.
pub(crate) fn page_count(
    value: Option<&Value>,
    field: &str,
    default: usize,
    max: usize,
) -> Result<usize, Failure> {
    Ok(one_to(value, field, max as u64)?.map_or(default, |n| n as usize))
}

/// An offset: absent or null is 0, else an integer ≥ 0 (bounded, so no arithmetic on it
/// overflows).
pub(crate) fn offset(value: Option<&Value>, field: &str) -> Result<usize, Failure> {
    match value {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= u64::from(u32::MAX))
            .map(|n| n as usize)
            .ok_or_else(|| {
                Failure::invalid_field(format!(
                    "{field} must be an integer between 0 and 4294967295"
                ))
            }),
    }
}
