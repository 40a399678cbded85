#!/usr/bin/env bash
# Compile-time figures for plaid-sdk, with the `plaid` 9.0.1 crate (libninja-generated, the
# reference in the README) measured in the same run on the same machine.
#
#   benches/compile_time.sh            # 3 runs of each, medians
#   RUNS=5 benches/compile_time.sh
#
# Each figure is wall time and the peak RSS of the largest process (rustc) from /usr/bin/time,
# with every dependency already built and incremental compilation off (as when plaid-sdk is a
# dependency):
#   plaid-sdk, generate + compile   `cargo clean -p plaid-sdk` then `cargo build --lib`:
#                                   the build script is compiled and run, then the crate built
#   ... transactions only           the same with `--no-default-features --features
#                                   rustls,webhook-verify,transactions`
#   ... and its generator           transactions only, with the generator crate (codegen/)
#                                   cleaned too: what the first build of the crate costs. The
#                                   lines above count it with the dependencies, compiled once
#   plaid-sdk, compile only         the crate alone, generated code unchanged
#   plaid 9.0.1, compile            `cargo clean -p plaid` then `cargo build`
#   plaid-sdk, cargo doc            `cargo doc --no-deps --lib` from clean docs
#
#   RELEASE=1 benches/compile_time.sh  # release builds instead: plaid-sdk (generate + compile)
#                                      # and plaid 9.0.1, taking turns, and their ratio
set -euo pipefail

runs=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}/compile-bench
features=${CARGO_FEATURES:-}
tx_features="--no-default-features --features rustls,webhook-verify,transactions"
export CARGO_INCREMENTAL=0
peer=$(mktemp -d)
trap 'rm -rf "$peer"' EXIT

mkdir -p "$peer/src"
cat >"$peer/Cargo.toml" <<'EOF'
[package]
name = "plaid-peer"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
plaid = "=9.0.1"
[workspace]
EOF
: >"$peer/src/lib.rs"

# One run: prints "<seconds> <peak KiB>".
timed() {
  local out="$peer/time.out"
  /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null 2>"$peer/cmd.err" || {
    echo "command failed: $*" >&2
    cat "$peer/cmd.err" >&2
    exit 1
  }
  tail -n 1 "$out"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

report() { # label, then lines of "<seconds> <KiB>" on stdin
  local label=$1 data secs rss
  data=$(cat)
  secs=$(echo "$data" | awk '{ print $1 }' | median)
  rss=$(echo "$data" | awk '{ print $2 }' | sort -n | tail -n 1)
  printf '%-34s %8.1f s   %6.2f GB peak RSS   (%s runs: %s)\n' "$label" "$secs" "$(awk -v k="$rss" 'BEGIN { print k / 1048576 }')" "$runs" "$(echo "$data" | awk '{ printf "%s ", $1 }')"
}

# The machine, the spec and the features, then anything else given ("Profile: release").
setting() {
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(rustc --version)"
  echo "Spec: ${PLAID_OPENAPI_SPEC:-spec/plaid.json}   Features: ${features:-default}${1:+   $1}"
}

# Builds that take turns append one line per round to $rounds: "<seconds> <KiB>" per build.
rounds=$peer/rounds

# ratio LABEL N D SCALE FORMAT: the time of build N over that of build D (their places in a
# round, from 1), times SCALE, in each round and the median of those, printed with FORMAT.
ratio() {
  local per
  per=$(awk -v n="$2" -v d="$3" -v s="$4" '{ print $(2 * n - 1) / $(2 * d - 1) * s }' "$rounds")
  printf "  ... %s: $5 (median of the %s rounds:" "$1" "$(echo "$per" | median)" "$runs"
  for r in $per; do printf " $5" "$r"; done
  echo ")"
}

if [ "${RELEASE:-0}" = 1 ]; then
  echo "Building dependencies once (release, not measured)..." >&2
  (cd "$root" && CARGO_TARGET_DIR=$target cargo build --release -p plaid-sdk --lib $features -q)
  (cd "$peer" && CARGO_TARGET_DIR=$target/peer cargo build --release -q)
  setting "Profile: release"
  for i in $(seq "$runs"); do
    ours=$(cd "$root" && cargo clean -q --release -p plaid-sdk --target-dir "$target" && CARGO_TARGET_DIR=$target timed cargo build --release -p plaid-sdk --lib $features)
    other=$(cd "$peer" && cargo clean -q --release -p plaid --target-dir "$target/peer" && CARGO_TARGET_DIR=$target/peer timed cargo build --release)
    echo "$ours $other" >>"$rounds"
  done
  awk '{ print $1, $2 }' "$rounds" | report "plaid-sdk, release, generate + compile"
  awk '{ print $3, $4 }' "$rounds" | report "plaid 9.0.1, release, compile"
  ratio "plaid-sdk / plaid 9.0.1" 1 2 1 "%.3fx"
  exit 0
fi

echo "Building dependencies once (not measured)..." >&2
(cd "$root" && CARGO_TARGET_DIR=$target cargo build -p plaid-sdk --lib $features -q)
(cd "$root" && CARGO_TARGET_DIR=$target cargo build -p plaid-sdk --lib $tx_features -q)
(cd "$root" && CARGO_TARGET_DIR=$target cargo doc --no-deps -p plaid-sdk --lib $features -q)
(cd "$peer" && CARGO_TARGET_DIR=$target/peer cargo build -q)

setting

# `full`, `transactions` and the `plaid` crate take turns, so that each round sees the same
# minutes of a machine whose speed drifts by a fifth from hour to hour; each ratio is the
# median of the rounds' ratios.
for i in $(seq "$runs"); do
  full=$(cd "$root" && cargo clean -q -p plaid-sdk --target-dir "$target" && CARGO_TARGET_DIR=$target timed cargo build -p plaid-sdk --lib $features)
  tx=$(cd "$root" && cargo clean -q -p plaid-sdk --target-dir "$target" && CARGO_TARGET_DIR=$target timed cargo build -p plaid-sdk --lib $tx_features)
  other=$(cd "$peer" && cargo clean -q -p plaid --target-dir "$target/peer" && CARGO_TARGET_DIR=$target/peer timed cargo build)
  echo "$full $tx $other" >>"$rounds"
done
awk '{ print $1, $2 }' "$rounds" | report "plaid-sdk, generate + compile"
awk '{ print $3, $4 }' "$rounds" | report "  ... transactions only"
ratio "transactions / full" 2 1 100 "%.1f %%"
awk '{ print $5, $6 }' "$rounds" | report "plaid 9.0.1, compile"
ratio "plaid-sdk, every operation / plaid 9.0.1" 1 3 1 "%.3fx"

for i in $(seq "$runs"); do
  (cd "$root" && cargo clean -q -p plaid-sdk -p plaid-sdk-codegen --target-dir "$target" && CARGO_TARGET_DIR=$target timed cargo build -p plaid-sdk --lib $tx_features)
done | report "  ... and its generator"

# The runs above cleaned the `full` build: make it once, unmeasured, so that this times the
# crate's compilation alone.
(cd "$root" && CARGO_TARGET_DIR=$target cargo build -p plaid-sdk --lib $features -q)
for i in $(seq "$runs"); do
  touch "$root/src/lib.rs"
  (cd "$root" && CARGO_TARGET_DIR=$target timed cargo build -p plaid-sdk --lib $features)
done | report "plaid-sdk, compile only"

for i in $(seq "$runs"); do
  rm -rf "$target/doc/plaid_sdk"
  (cd "$root" && CARGO_TARGET_DIR=$target timed cargo doc --no-deps -p plaid-sdk --lib $features)
done | report "plaid-sdk, cargo doc"
