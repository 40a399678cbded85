//! Shared helpers: the real specs, read from the repository and `../shared`, and their
//! indexes (built once).
#![allow(dead_code)]

use std::sync::OnceLock;

use crate::spec::SpecIndex;
use serde_json::Value;

/// The vendored spec (1.697.4, JSON).
pub const VENDORED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/plaid.json");
/// The oldest supported spec (1.482.3, JSON), in `../shared/specs` beside the checkout.
pub const OLDEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/specs/plaid-2020-09-14_1.482.3.json"
);
/// Plaid's YAML original of the vendored spec, beside it.
pub const YAML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/specs/plaid-2020-09-14_1.697.4.yml"
);

/// Reads a spec file, JSON or YAML, into a JSON value.
pub fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    } else {
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

/// The spec value of `path`, read once.
pub fn spec(path: &str) -> &'static Value {
    static VENDORED_SPEC: OnceLock<Value> = OnceLock::new();
    static OLDEST_SPEC: OnceLock<Value> = OnceLock::new();
    static YAML_SPEC: OnceLock<Value> = OnceLock::new();
    let cell = match path {
        VENDORED => &VENDORED_SPEC,
        OLDEST => &OLDEST_SPEC,
        YAML => &YAML_SPEC,
        other => panic!("unknown spec {other}"),
    };
    cell.get_or_init(|| read(path))
}

/// The index of the spec at `path`, built once.
pub fn index(path: &str) -> &'static SpecIndex {
    static VENDORED_INDEX: OnceLock<SpecIndex> = OnceLock::new();
    static OLDEST_INDEX: OnceLock<SpecIndex> = OnceLock::new();
    static YAML_INDEX: OnceLock<SpecIndex> = OnceLock::new();
    let cell = match path {
        VENDORED => &VENDORED_INDEX,
        OLDEST => &OLDEST_INDEX,
        YAML => &YAML_INDEX,
        other => panic!("unknown spec {other}"),
    };
    cell.get_or_init(|| {
        SpecIndex::new(spec(path).clone()).unwrap_or_else(|e| panic!("{path}: {e}"))
    })
}

/// Both JSON specs the tests cover operation by operation.
pub const SPECS: [&str; 2] = [VENDORED, OLDEST];
