#!/usr/bin/env bash
# cargo-semver-checks between the crate built from an older spec and from the vendored one,
# comparing their rustdoc JSON: a refresh must break nothing but what Plaid itself removed or
# changed. Passes when every finding is a removal (a type, enum, variant, field, method or
# operation constant gone) or a `new` whose required fields Plaid changed, and when the counts
# of removed structs and fields agree with scripts/compat.sh's (an independent reading of the
# two builds); fails on anything else.
#
#   bash scripts/semver.sh OLD_SPEC        # after scripts/compat.sh OLD_SPEC
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "${1:?usage: scripts/semver.sh OLD_SPEC}")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
version=0.51.0
if ! cargo semver-checks --version 2>/dev/null | grep -q "$version"; then
  # Built in a throwaway directory: not in the project's target dir, which CI keeps small.
  build=$(mktemp -d)
  CARGO_TARGET_DIR="$build" cargo install --locked "cargo-semver-checks@$version"
  rm -rf "$build"
fi
work="$CARGO_TARGET_DIR/semver"
mkdir -p "$work"
rustdoc_json() { # spec (empty: vendored, PLAID_OPENAPI_SPEC unset as in other builds) -> file
  if [ -n "$1" ]; then export PLAID_OPENAPI_SPEC=$1; else unset PLAID_OPENAPI_SPEC; fi
  RUSTC_BOOTSTRAP=1 cargo rustdoc -q -p plaid-sdk --lib -- -Zunstable-options --output-format json
  cp "$CARGO_TARGET_DIR/doc/plaid_sdk.json" "$2"
}
rustdoc_json "$old" "$work/baseline.json"
rustdoc_json "" "$work/current.json"
cargo semver-checks --baseline-rustdoc "$work/baseline.json" --current-rustdoc "$work/current.json" \
  >"$work/report.txt" 2>&1 || true
python3 - "$work/report.txt" "$CARGO_TARGET_DIR/compat/summary.json" "$(basename "$old")" <<'PY'
import json, re, sys
report, summary, old = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
removals = {"struct_missing", "enum_missing", "enum_variant_missing", "inherent_method_missing",
            "struct_pub_field_missing", "pub_module_level_const_missing"}
changed_new = {c.split("::new")[0] for c in summary["changed_new"]}
found, problems = {}, []
# The tool ends every completed comparison with its `Summary` line; without it (a crash, a
# rustdoc JSON it cannot read) there are no failure blocks, which must not read as "none".
if not re.search(r"^\s*Summary ", report, re.M):
    problems.append("cargo-semver-checks did not finish: " + " | ".join(report.strip().splitlines()[-5:]))
for block in re.split(r"\n--- failure ", report)[1:]:
    lint = block.split(":")[0]
    items = [l.strip() for l in block.split("Failed in:")[-1].strip().splitlines()]
    items = [re.sub(r"(, previously)? in file .*| in /.*", "", i) for i in items
             if i and not i.startswith(("Summary", "Finished"))]
    found[lint] = items
    for item in items:
        if lint in removals:
            continue
        if lint == "method_parameter_count_changed":
            name = item.split("::new")[0].split("::")[-1]
            if name in changed_new:
                continue
        problems.append(f"{lint}: {item}")
if len(found.get("struct_missing", [])) != len(summary["gone_types"]):
    problems.append(f"struct_missing {len(found.get('struct_missing', []))} != compat's {len(summary['gone_types'])} removed types")
if len(found.get("struct_pub_field_missing", [])) != len(summary["gone_fields"]):
    problems.append(f"struct_pub_field_missing {len(found.get('struct_pub_field_missing', []))} != compat's {len(summary['gone_fields'])} removed fields")
counts = ", ".join(f"{k} {len(v)}" for k, v in sorted(found.items()))
print(f"cargo-semver-checks {old} -> vendored: {counts or 'nothing'}")
print(f"  {len(problems)} findings that are not Plaid's own removals or changed required fields")
for p in problems:
    print(f"  {p}")
sys.exit(1 if problems else 0)
PY
