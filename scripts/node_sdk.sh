#!/usr/bin/env bash
# The official Node SDK (npm `plaid`, pinned) against the offline sandbox's binary: builds the
# binary, starts it on a free loopback port, runs sandbox/tests/node/flow.js (a Link-less
# flow: link token, public token, exchange, Item, accounts, Auth, Identity, transactions sync,
# a fired webhook verified with Node's own crypto, errors, a spec-driven operation), and stops
# the sandbox whatever happens.
#
#   bash scripts/node_sdk.sh
#
# Installs the SDK with npm into a cache folder outside the repository, like Prism.
set -euo pipefail
cd "$(dirname "$0")/.."

PLAID_NODE_VERSION=47.0.0
NODE_HOME="${PLAID_SDK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plaid-sdk}/plaid-node-$PLAID_NODE_VERSION"
if [ ! -f "$NODE_HOME/node_modules/plaid/package.json" ]; then
  mkdir -p "$NODE_HOME"
  npm install --prefix "$NODE_HOME" --no-audit --no-fund --no-save --loglevel=error "plaid@$PLAID_NODE_VERSION"
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q -p plaid-sandbox --bin plaid-sandbox
out=$(mktemp)
"$CARGO_TARGET_DIR/debug/plaid-sandbox" --client-id node-client --secret node-secret >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  [ -s "$out" ] && break
  sleep 0.1
done
url=$(head -n 1 "$out")
case "$url" in
  http://127.0.0.1:*) ;;
  *) echo "the sandbox did not print its URL (got: $url)"; exit 1 ;;
esac
node sandbox/tests/node/flow.js "$NODE_HOME/node_modules" "$url" node-client node-secret
