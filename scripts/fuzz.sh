#!/usr/bin/env bash
# Runs each fuzz target for a bounded time and prints the executions it managed.
#
#   bash scripts/fuzz.sh [seconds per target, default 60]
#
# Uses cargo-fuzz (installed if missing) with libFuzzer and no sanitizer, so it works on the
# stable toolchain (RUSTC_BOOTSTRAP lets cargo-fuzz pass its flags). Seeds come from the spec's
# examples. A crash stops the run, leaves the input in fuzz/artifacts/<target>/ and fails; turn
# it into a unit test beside the code it broke (RELIABILITY.md, "From the network or Plaid, fuzzed").
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz
python3 scripts/fuzz_seeds.py

export RUSTC_BOOTSTRAP=1
for target in webhook_verify parse_responses; do
  log="fuzz/$target.log"
  mkdir -p "fuzz/corpus/$target"
  cargo fuzz run --sanitizer none "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len=262144 -print_final_stats=1 >"$log" 2>&1 \
    || { tail -40 "$log"; echo "fuzz target $target FAILED (input in fuzz/artifacts/$target)"; exit 1; }
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  echo "$target: $runs executions in ${seconds}s, no crash; corpus $corpus inputs"
done
