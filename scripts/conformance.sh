#!/usr/bin/env bash
# Conformance against Stoplight Prism, a server built from the spec alone:
#
#  1. every operation of the spec, called twice (its example or its required fields; every
#     field) against `prism mock` serving the spec's examples, then random data with four fixed
#     seeds (tests/conformance.rs; known spec faults in tests/conformance_artefacts.json);
#  2. the offline sandbox behind `prism proxy`, which checks every answer it gives against the
#     spec, while the sandbox's tests, the backend test and the quickstart run
#     (sandbox/src/proxy.rs, scripts/sandbox_report.py, tests/sandbox_proxy_artefacts.json).
#
#   bash scripts/conformance.sh [SPEC]     # default: the vendored spec, spec/plaid.json
#
# Installs the pinned Prism with npm into a cache folder outside the repository. Uses the same
# CARGO_TARGET_DIR and settings as .ci/run; with SPEC, builds the crate from it
# (PLAID_OPENAPI_SPEC), as .ci/run's loop over ../shared/specs does.
set -euo pipefail
cd "$(dirname "$0")/.."

PRISM_VERSION=5.14.2
PRISM_HOME="${PLAID_SDK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plaid-sdk}/prism-$PRISM_VERSION"
if [ ! -x "$PRISM_HOME/node_modules/.bin/prism" ]; then
  mkdir -p "$PRISM_HOME"
  npm install --prefix "$PRISM_HOME" --no-audit --no-fund --no-save --loglevel=error \
    "@stoplight/prism-cli@$PRISM_VERSION"
fi
"$PRISM_HOME/node_modules/.bin/prism" --version >/dev/null
export PRISM_HOME

spec=spec/plaid.json
if [ -n "${1:-}" ]; then
  spec=$(realpath "$1")
  export PLAID_OPENAPI_SPEC=$spec
fi
version=$(grep -m1 -oE '2020-09-14_[0-9]+\.[0-9]+\.[0-9]+' "$spec")
started=$(date +%s)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

# 1. Every operation against prism mock. The test prints one line per mode.
log=$(mktemp)
# A failed step's log: its panic messages first (a backtrace can push them out of the tail).
# (`|| true`: with no panic, a compile error say, grep's status would end the script here,
# under `set -e`, before the tail that shows why.)
failed() { { grep -A4 'panicked at' "$log" | head -40; } || true; tail -"$1" "$log"; exit 1; }
if ! cargo test -p plaid-sdk --test conformance -- --ignored --nocapture >"$log" 2>&1; then
  grep -E '^(conformance|examples|random)' "$log" || true
  echo "conformance against prism mock FAILED for $version"
  failed 60
fi
grep -E '^conformance ' "$log"

# 2. The offline sandbox behind prism proxy: for the vendored spec only, the one the sandbox
# is built for (its answers are that spec's generated types).
if [ -n "${1:-}" ] && [ "$version" != "$(grep -m1 -oE '2020-09-14_[0-9]+\.[0-9]+\.[0-9]+' spec/plaid.json)" ]; then
  echo "conformance for $version: $(( $(date +%s) - started )) s (prism mock; the sandbox is checked on the vendored spec)"
  exit 0
fi
# The offline sandbox behind prism proxy: its tests (every operation of the spec, success and
# error paths; Plaid's behaviours; the older flows), the backend test and the quickstart. The
# sandbox test that sends a body that is not JSON is left out: Prism refuses such a body itself
# instead of forwarding it.
prism_spec="$CARGO_TARGET_DIR/prism-proxy-$version.json"
node scripts/prism_spec.js "$PRISM_HOME/node_modules" "$spec" "$prism_spec" | tail -1
report="$CARGO_TARGET_DIR/prism-proxy-$version.report"
rm -f "$report"
export PLAID_SANDBOX_PRISM="$PRISM_HOME/node_modules/.bin/prism"
export PLAID_SANDBOX_PRISM_SPEC="$prism_spec" PLAID_SANDBOX_PRISM_REPORT="$report"
cargo test -p plaid-sandbox --test sandbox --test every_operation --test plaid_behaviour -- \
  --skip requests_are_checked_like_plaid_checks_them --nocapture >"$log" 2>&1 || failed 60
grep -E '^(every operation|error paths)' "$log" || true
cargo test -p plaid-examples --test backend >"$log" 2>&1 || failed 60
env -u PLAID_CLIENT_ID -u PLAID_SECRET -u PLAID_ENV cargo run -q --example quickstart >"$log" 2>&1 \
  || failed 30
unset PLAID_SANDBOX_PRISM PLAID_SANDBOX_PRISM_SPEC PLAID_SANDBOX_PRISM_REPORT
# The sandbox's spec-driven answers, every operation of both specs, judged by the validator
# Prism runs (Ajv), not by the sandbox's own.
PRISM_NODE_MODULES="$PRISM_HOME/node_modules" cargo test -p plaid-sandbox --lib \
  every_answer_passes_prisms_validator -- --ignored --nocapture >"$log" 2>&1 || failed 60
# A renamed test would match nothing and pass: exactly one ran.
grep -q '^test result: ok. 1 passed' "$log" || { echo "the Ajv check did not run"; failed 20; }
grep -iE 'answers|valid|agree' "$log" | head -8 || true
python3 scripts/sandbox_report.py "$report" "$version"
rm -f "$log"
echo "conformance for $version: $(( $(date +%s) - started )) s"
