//! Repair of a spec example that breaks its own schema (Plaid's examples have mistakes: a
//! `date-time` written as a date, a required field left out, a `null` where none is allowed).
//!
//! Only the invalid subtrees change: an object keeps its valid properties and gets its missing
//! required ones synthesized; undeclared properties are dropped only where
//! `additionalProperties` is `false`; an array keeps its valid items, loses duplicates where
//! items must be unique, is cut to `maxItems` and filled to `minItems`; any other invalid
//! value is replaced by a synthesized one.

use serde_json::{Map, Value};

use super::schema::{Additional, SchemaId, Schemas, Ty};
use super::synth::Synth;
use super::validate::{json_eq, Mode, Validator};

/// How deep repair recurses before it replaces a whole subtree.
const MAX_DEPTH: usize = 64;

/// Repairs `value` against schema `id`, synthesizing with `synth`.
pub(crate) fn repair(
    schemas: &Schemas,
    synth: &mut Synth<'_>,
    value: &Value,
    id: SchemaId,
    hint: &str,
    depth: usize,
) -> Value {
    let valid = |v: &Value| Validator::is_valid(schemas, Mode::Response, v, id);
    if valid(value) {
        return value.clone();
    }
    if depth > MAX_DEPTH {
        return synth.value(id, hint, 0, depth);
    }
    let m = schemas.merged(id);
    let allows = |t: Ty| m.types.is_empty() || m.types.contains(&t);
    let candidate = match value {
        Value::Object(map) if allows(Ty::Object) => {
            let mut out = Map::new();
            for (key, x) in map {
                if let Some(ids) = m.property(key) {
                    out.insert(
                        key.clone(),
                        repair_all(schemas, synth, x, ids, key, depth + 1),
                    );
                } else {
                    match m.additional {
                        Additional::Deny => {}
                        Additional::Schema(extra) => {
                            out.insert(
                                key.clone(),
                                repair(schemas, synth, x, extra, key, depth + 1),
                            );
                        }
                        Additional::Any => {
                            out.insert(key.clone(), x.clone());
                        }
                    }
                }
            }
            for name in &m.required {
                if !out.contains_key(name) {
                    let v = match (m.property(name), m.additional) {
                        (Some(ids), _) => synth.value_of_all(ids, name, 0, depth + 1),
                        (None, Additional::Schema(extra)) => synth.value(extra, name, 0, depth + 1),
                        (None, _) => Value::Object(Map::new()),
                    };
                    out.insert(name.clone(), v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) if allows(Ty::Array) => {
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for x in items {
                let v = if m.items.is_empty() {
                    x.clone()
                } else {
                    repair_all(schemas, synth, x, &m.items, hint, depth + 1)
                };
                if m.unique_items && out.iter().any(|y| json_eq(y, &v)) {
                    continue;
                }
                out.push(v);
            }
            if let Some(max) = m.max_items {
                out.truncate(usize::try_from(max).unwrap_or(usize::MAX));
            }
            let min = m.min_items.unwrap_or(0);
            let mut variant = out.len() as u64;
            while (out.len() as u64) < min && variant < min + 64 {
                let v = synth.value_of_all(&m.items, hint, variant, depth + 1);
                if !(m.unique_items && out.iter().any(|y| json_eq(y, &v))) {
                    out.push(v);
                }
                variant += 1;
            }
            Some(Value::Array(out))
        }
        _ => None,
    };
    match candidate {
        Some(c) if valid(&c) => c,
        _ => synth.value(id, hint, 0, depth),
    }
}

/// Repairs `value` against every schema of `ids` (a property declared by several `allOf`
/// parts).
fn repair_all(
    schemas: &Schemas,
    synth: &mut Synth<'_>,
    value: &Value,
    ids: &[SchemaId],
    hint: &str,
    depth: usize,
) -> Value {
    let all_valid = |v: &Value| {
        ids.iter()
            .all(|id| Validator::is_valid(schemas, Mode::Response, v, *id))
    };
    if all_valid(value) {
        return value.clone();
    }
    let mut current = value.clone();
    for id in ids {
        current = repair(schemas, synth, &current, *id, hint, depth);
    }
    if all_valid(&current) {
        current
    } else {
        synth.value_of_all(ids, hint, 0, depth)
    }
}
