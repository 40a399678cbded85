#!/usr/bin/env bash
# Freezes the parameters of every generated `new` in spec/signatures.json: the generator keeps
# a listed type's parameters, in order, even when a newer spec makes one optional, so a spec
# refresh does not change `new`'s arity (see codegen/src/postprocess.rs, "Constructors").
#
#   bash scripts/freeze_signatures.sh [SPEC]     # default: the vendored spec
#
# Run it at a major release (to take the current required fields as the new baseline, with
# PLAID_SDK_UNFROZEN=1 and spec/signatures.json deleted) or after a refresh (to add the types the new spec brought;
# the types already listed keep their parameters). It builds the crate from SPEC with the
# current file and writes the signatures that build generated.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then
  export PLAID_OPENAPI_SPEC=$(realpath "$1")
fi
# No file yet: a new baseline, from the spec's required fields.
[ -f spec/signatures.json ] || export PLAID_SDK_UNFROZEN=1
out=$( (cargo check -p plaid-sdk --lib --message-format=json 2>/dev/null || true) | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "build-script-executed" and "#plaid-sdk@" in m.get("package_id", ""):
        print(m["out_dir"])' | tail -n 1)
[ -n "$out" ] && [ -f "$out/signatures.json" ] || { echo "no signatures.json from the build" >&2; exit 1; }
cp "$out/signatures.json" spec/signatures.json
echo "spec/signatures.json: $(grep -c '^  "' spec/signatures.json) types, from ${PLAID_OPENAPI_SPEC:-spec/plaid.json}"
