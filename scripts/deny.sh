#!/usr/bin/env bash
# Supply-chain check with cargo-deny (deny.toml): licences, banned crates and sources always;
# security advisories when the RustSec database can be fetched. Installs cargo-deny if needed.
#
#   bash scripts/deny.sh
#
# Exit status: non-zero if a licence, ban, source or (when checked) advisory fails. When the
# advisory database is unreachable (an offline machine), it says so and checks the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$version"; then
  # Built in a throwaway directory: not in the project's target dir, which CI keeps small.
  build=$(mktemp -d)
  CARGO_TARGET_DIR="$build" cargo install --locked "cargo-deny@$version"
  rm -rf "$build"
fi

cargo deny --all-features check licenses bans sources

if cargo deny --all-features fetch db >/dev/null 2>&1; then
  cargo deny --all-features check advisories
else
  echo "advisories: NOT CHECKED — the RustSec advisory database could not be fetched from this machine."
  echo "            Run this script where it can (or 'cargo deny check advisories') before a release."
fi
