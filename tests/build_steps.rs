//! Runs the unit tests of the build steps in `codegen/src/`, the generator crate's modules:
//! including them here with `#[path]` makes plaid-sdk's `cargo test` run their tests.

#![allow(dead_code)]

#[path = "../codegen/src/chunks.rs"]
mod chunks;
#[path = "../codegen/src/classify.rs"]
mod classify;
#[path = "../codegen/src/codegen.rs"]
mod codegen;
#[path = "../codegen/src/diff.rs"]
mod diff;
#[path = "../codegen/src/features.rs"]
mod features;
#[path = "../codegen/src/normalize.rs"]
mod normalize;
#[path = "../codegen/src/pagination.rs"]
mod pagination;
#[path = "../codegen/src/postprocess.rs"]
mod postprocess;
#[path = "../codegen/src/spec.rs"]
mod spec;
#[path = "../codegen/src/webhooks.rs"]
mod webhooks;

/// Every generator file with unit tests is included above: `cargo test` runs the workspace's
/// default members, which the generator is not, so a file left out (the chunk writer's tests
/// were, in `codegen/src/lib.rs`) would have its tests compiled by clippy and never run.
#[test]
fn every_generator_file_with_tests_runs_here() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let this = std::fs::read_to_string(root.join("tests/build_steps.rs")).unwrap();
    let mut with_tests = 0;
    for entry in std::fs::read_dir(root.join("codegen/src")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !name.ends_with(".rs") || !text.contains("#[cfg(test)]") {
            continue;
        }
        with_tests += 1;
        assert_ne!(
            name, "lib.rs",
            "the crate root's tests cannot run here; move them"
        );
        assert!(
            this.contains(&format!("#[path = \"../codegen/src/{name}\"]")),
            "codegen/src/{name} has tests that no `cargo test` runs"
        );
    }
    assert!(with_tests >= 9, "{with_tests} generator files with tests");
}
