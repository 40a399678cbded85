//! The vendored spec is what spec/README.md says it is: `spec/refresh.sh` writes both, and the
//! file is never edited by hand (the build normalizes the spec on the fly instead). Where the
//! specs of `../shared/specs` are at hand (CI), also: the vendored JSON holds exactly what its
//! source YAML says, and the change report from the oldest supported spec counts what Plaid
//! changed as Plaid's published figures do.

#[path = "../codegen/src/diff.rs"]
#[allow(dead_code)]
mod diff;
#[path = "../codegen/src/spec.rs"]
#[allow(dead_code)]
mod spec;

use std::path::{Path, PathBuf};

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
    // The source, when it is at hand: the JSON says exactly what the YAML says.
    let source = shared_specs()
        .into_iter()
        .find(|p| sha256_hex(&std::fs::read(p).unwrap()) == row(&readme, "source file sha256"));
    match source {
        Some(source) => {
            let yaml: serde_json::Value =
                serde_yaml_ng::from_str(&std::fs::read_to_string(&source).unwrap()).unwrap();
            let json: serde_json::Value = serde_json::from_slice(&spec).unwrap();
            assert!(yaml == json, "spec/plaid.json is not {}", source.display());
        }
        None => println!("the source of spec/plaid.json is not in ../shared/specs: not compared"),
    }
    let json: serde_json::Value = serde_json::from_slice(&spec).expect("the spec is JSON");
    assert_eq!(
        json["info"]["version"].as_str(),
        Some(row(&readme, "spec `info.version`"))
    );
}

/// The specs in `../shared/specs`, when that folder is there (it is in CI).
fn shared_specs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    specs.sort();
    specs
}

fn load(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_yaml_ng::from_str(&text).unwrap()
    }
}

/// The report `spec/refresh.sh` prints, from the oldest supported spec (1.482.3) to 1.697.4,
/// against the figures counted independently for the project (`../shared/GUIDE.md`): 88
/// operations added, 6 removed, 241 in both, 11 of those changing their request's required
/// fields, 7 of them only by relaxing one. And the CHANGELOG carries that report.
#[test]
fn the_change_report_counts_what_plaid_changed() {
    let specs = shared_specs();
    let find = |version: &str| specs.iter().find(|p| p.to_string_lossy().contains(version));
    let (Some(old), Some(new)) = (find("1.482.3"), find("1.697.4")) else {
        println!("../shared/specs does not hold 1.482.3 and 1.697.4: not checked");
        return;
    };
    let report = diff::diff(&load(old), &load(new));
    assert_eq!(
        (report.added, report.removed, report.common),
        (88, 6, 241),
        "{report}"
    );
    assert_eq!((report.required_changed, report.only_relaxed), (11, 7));
    for removed in [
        "base_report_get",
        "cra_bank_income_get",
        "deposit_switch_alt_create",
        "deposit_switch_create",
        "deposit_switch_get",
        "deposit_switch_token_create",
    ] {
        assert!(report.changes.iter().any(|c| c.breaking
            && c.what
                .starts_with(&format!("operation removed: `{removed}`"))));
    }
    for relaxed in [
        "`link_token_create`: request field `user` made optional",
        "`transfer_get`: request field `transfer_id` made optional",
    ] {
        assert!(
            report
                .changes
                .iter()
                .any(|c| !c.breaking && c.what == relaxed),
            "{relaxed}"
        );
    }
    let changelog =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("CHANGELOG.md"))
            .unwrap();
    let summary = report.to_string();
    let first_lines: Vec<&str> = summary.lines().take(3).collect();
    for line in first_lines {
        assert!(
            changelog.contains(line),
            "CHANGELOG.md lacks the report's line {line:?}"
        );
    }
}
