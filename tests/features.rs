//! Every operation of the spec belongs to a product feature (or the always-built core), and
//! `full` in Cargo.toml is exactly the set of features the build knows.

mod common;

#[allow(dead_code)]
#[path = "../codegen/src/features.rs"]
mod features;
#[path = "../codegen/src/normalize.rs"]
#[allow(dead_code)]
mod normalize;
// What normalize's tests read the webhook bodies with.
#[allow(dead_code)]
#[path = "../codegen/src/spec.rs"]
mod spec;
#[allow(dead_code)]
#[path = "../codegen/src/webhooks.rs"]
mod webhooks;

fn full_in_cargo_toml() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let start = manifest.find("\nfull = [").expect("a `full` feature") + "\nfull = [".len();
    let end = start + manifest[start..].find(']').unwrap();
    manifest[start..end]
        .split(',')
        .map(|f| f.trim().trim_matches('"').to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

#[test]
fn full_enables_every_feature_the_build_knows() {
    let listed = full_in_cargo_toml();
    assert_eq!(
        listed,
        features::FEATURES,
        "Cargo.toml's `full` and codegen/src/features.rs disagree"
    );
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    for feature in features::FEATURES {
        assert!(
            manifest.contains(&format!("\n{feature} = []")),
            "{feature} is not declared"
        );
    }
}

#[test]
fn every_operation_belongs_to_a_feature_or_the_core() {
    let spec = common::load_spec();
    let mut per_feature = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| ["get", "post"].contains(&m.as_str()))
        {
            let feature = features::family(path).unwrap_or("core");
            assert!(
                feature == "core" || features::FEATURES.contains(&feature),
                "{method} {path}: {feature}"
            );
            *per_feature.entry(feature).or_insert(0) += 1;
        }
    }
    let core = per_feature["core"];
    assert!(
        (10..=40).contains(&core),
        "the core is small: {core} operations"
    );
    assert!(per_feature["transactions"] >= 5);
    eprintln!("{per_feature:?}");
}

#[test]
fn the_default_build_has_every_operation() {
    // The default features include `full`: nothing is pruned.
    let spec = common::load_spec();
    let count = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|i| {
            i.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post"].contains(&m.as_str()))
                .count()
        })
        .sum::<usize>();
    assert_eq!(plaid_sdk::operations::ALL.len(), count);
}
