//! Echo of request values into same-named response fields, as stripe-mock's `datareplacer`
//! does, so an answer talks about what the caller asked for (`/institutions/get_by_id` with
//! `institution_id: ins_3` answers about `ins_3`).
//!
//! For each key of a response object, recursively into nested objects and arrays of objects:
//! when the request has a value under the same key, at the same level or a parent level (the
//! nearest wins), of the same JSON type (string, number, boolean; an array only when both are
//! arrays of scalars of one type), and that value is valid against the response field's
//! schema, it replaces the response's value. Objects are never replaced wholesale, only
//! walked into; nulls are left alone. `client_id`, `request_id`, and any key containing
//! `secret` or `token` are never echoed.

use serde_json::{Map, Value};

use super::schema::{Additional, SchemaId, Schemas, Ty};
use super::validate::{Mode, Validator};

/// How deep the echo walks.
const MAX_DEPTH: usize = 64;

/// Whether a key's value may be echoed from the request.
pub(crate) fn echoable(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    !(k == "client_id" || k == "request_id" || k.contains("secret") || k.contains("token"))
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Scalar {
    String,
    Number,
    Bool,
}

fn scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::String(_) => Some(Scalar::String),
        Value::Number(_) => Some(Scalar::Number),
        Value::Bool(_) => Some(Scalar::Bool),
        _ => None,
    }
}

/// The one scalar type of every item of a non-empty array.
fn scalar_items(items: &[Value]) -> Option<Scalar> {
    let first = scalar(items.first()?)?;
    items
        .iter()
        .all(|x| scalar(x) == Some(first))
        .then_some(first)
}

/// Echoes `request` into `response` (a value of schema `id`).
pub(crate) fn echo(schemas: &Schemas, response: &mut Value, id: SchemaId, request: &Value) {
    let Value::Object(request) = request else {
        return;
    };
    let mut scopes = vec![request];
    walk(schemas, response, id, &mut scopes, 0);
}

/// The nearest request value under `key` that `accept` takes.
fn lookup<'r>(
    scopes: &[&'r Map<String, Value>],
    key: &str,
    accept: impl Fn(&Value) -> bool,
) -> Option<&'r Value> {
    scopes
        .iter()
        .rev()
        .find_map(|scope| scope.get(key).filter(|v| accept(v)))
}

fn walk(
    schemas: &Schemas,
    value: &mut Value,
    id: SchemaId,
    scopes: &mut Vec<&Map<String, Value>>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            let m = schemas.merged(id);
            for (key, field) in map.iter_mut() {
                let ids: Vec<SchemaId> = match (m.property(key), m.additional) {
                    (Some(ids), _) => ids.to_vec(),
                    (None, Additional::Schema(extra)) => vec![extra],
                    (None, _) => continue,
                };
                field_echo(schemas, key, field, &ids, scopes, depth);
            }
        }
        Value::Array(items) => {
            let m = schemas.merged(id);
            if let Some(item) = m.items.first().copied() {
                for x in items.iter_mut() {
                    walk(schemas, x, item, scopes, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn field_echo(
    schemas: &Schemas,
    key: &str,
    field: &mut Value,
    ids: &[SchemaId],
    scopes: &mut Vec<&Map<String, Value>>,
    depth: usize,
) {
    let valid = |v: &Value| {
        ids.iter()
            .all(|id| Validator::is_valid(schemas, Mode::Response, v, *id))
    };
    let Some(first) = ids.first().copied() else {
        return;
    };
    match field {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            if !echoable(key) {
                return;
            }
            let kind = scalar(field);
            if let Some(found) = lookup(scopes, key, |v| scalar(v) == kind) {
                if valid(found) {
                    *field = found.clone();
                }
            }
        }
        Value::Array(items) => {
            let m = schemas.merged(first);
            let item_type = m
                .items
                .first()
                .map(|i| schemas.merged(*i).primary_type())
                .unwrap_or(None);
            let of_objects = items.iter().any(Value::is_object)
                || (items.is_empty() && item_type == Some(Ty::Object));
            if of_objects {
                let Some(item) = m.items.first().copied() else {
                    return;
                };
                let request_items = lookup(scopes, key, Value::is_array).and_then(Value::as_array);
                for (i, x) in items.iter_mut().enumerate() {
                    let nested = request_items
                        .and_then(|r| r.get(i))
                        .and_then(Value::as_object);
                    if let Some(n) = nested {
                        scopes.push(n);
                    }
                    walk(schemas, x, item, scopes, depth + 1);
                    if nested.is_some() {
                        scopes.pop();
                    }
                }
                return;
            }
            if !echoable(key) {
                return;
            }
            // An array of scalars, replaced by the request's array of the same scalar type.
            let wanted = match scalar_items(items) {
                Some(k) => Some(k),
                None if items.is_empty() => match item_type {
                    Some(Ty::String) => Some(Scalar::String),
                    Some(Ty::Number | Ty::Integer) => Some(Scalar::Number),
                    Some(Ty::Boolean) => Some(Scalar::Bool),
                    _ => None,
                },
                None => None,
            };
            let Some(wanted) = wanted else {
                return;
            };
            let found = lookup(scopes, key, |v| {
                v.as_array()
                    .is_some_and(|a| scalar_items(a) == Some(wanted))
            });
            if let Some(found) = found {
                if valid(found) {
                    *field = found.clone();
                }
            }
        }
        Value::Object(_) => {
            let nested = lookup(scopes, key, Value::is_object).and_then(Value::as_object);
            if let Some(n) = nested {
                scopes.push(n);
            }
            walk(schemas, field, first, scopes, depth + 1);
            if nested.is_some() {
                scopes.pop();
            }
        }
        Value::Null => {}
    }
}
