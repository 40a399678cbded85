//! The vendored spec is what spec/README.md says it is: `spec/refresh.sh` writes both, and the
//! file is never edited by hand (the build normalizes the spec on the fly instead).

use std::path::Path;

fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value of the row `| <label> | `<value>` |` in spec/README.md.
fn row<'a>(readme: &'a str, label: &str) -> &'a str {
    let line = readme
        .lines()
        .find(|l| l.starts_with(&format!("| {label} |")))
        .unwrap_or_else(|| panic!("spec/README.md has no row {label:?}"));
    line.split('`')
        .rev()
        .nth(1)
        .unwrap_or_else(|| panic!("no `value` in {line:?}"))
}

#[test]
fn the_vendored_spec_matches_its_recorded_provenance() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let spec = std::fs::read(dir.join("plaid.json")).unwrap();
    assert_eq!(
        sha256_hex(&spec),
        row(&readme, "`plaid.json` sha256"),
        "spec/plaid.json differs from what spec/refresh.sh wrote: run the script, do not edit the file"
    );
    if readme.contains("| `plaid.json` | copied byte for byte |") {
        assert_eq!(
            row(&readme, "source file sha256"),
            row(&readme, "`plaid.json` sha256")
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&spec).expect("the spec is JSON");
    assert_eq!(
        json["info"]["version"].as_str(),
        Some(row(&readme, "spec `info.version`"))
    );
}
