//! `new`'s parameters are frozen by `spec/signatures.json` (see the generator's `postprocess`
//! module): a type listed there keeps its parameters, in order, whatever spec the crate is
//! built from, so that a refresh does not change `new`'s arity. This checks the build against
//! the file: every listed parameter the spec still has is still a parameter, first and in its
//! order; and, for the vendored spec, that the file lists exactly what this build generates
//! (run `bash scripts/freeze_signatures.sh` after a refresh to add the new types).

use std::collections::BTreeMap;
use std::path::Path;

type Signatures = BTreeMap<String, Vec<String>>;

fn read(path: &Path) -> Signatures {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn new_keeps_its_frozen_parameters() {
    let frozen = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/signatures.json"));
    let built = read(&Path::new(env!("OUT_DIR")).join("signatures.json"));
    let inventory: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("OUT_DIR")).join("inventory.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for (name, params) in &built {
        let Some(listed) = frozen.get(name) else {
            continue;
        };
        let fields: Vec<&str> = inventory[name]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f[0].as_str().unwrap())
            .collect();
        let still: Vec<&String> = listed
            .iter()
            .filter(|p| fields.contains(&p.as_str()))
            .collect();
        assert_eq!(
            params.iter().take(still.len()).collect::<Vec<_>>(),
            still,
            "{name}::new lost or reordered a frozen parameter"
        );
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} types checked");
    if std::env::var_os("PLAID_OPENAPI_SPEC").is_none_or(|v| v.is_empty()) {
        assert_eq!(
            built.keys().collect::<Vec<_>>(),
            frozen.keys().collect::<Vec<_>>(),
            "spec/signatures.json does not list this build's types: run scripts/freeze_signatures.sh"
        );
        assert_eq!(built, frozen);
    }
}
