#!/usr/bin/env bash
# A full /transactions/sync of 10,000 transactions from one local server, side by side:
# plaid-sdk's driver, the official Python SDK (plaid-python) and the official Node SDK (plaid).
#
#   benches/sync_peers.sh                    # 10,000 transactions, 3 runs each, medians
#   TRANSACTIONS=50000 RUNS=5 benches/sync_peers.sh
#
# The server is the `runtime` bench binary (`runtime serve N`): pages of up to 500 transactions
# built from the spec's example, indented as Plaid sends them. Each client runs the loop in its
# own process; the figure is the loop's wall time measured inside the process (interpreter start
# and imports excluded) and the process's peak RSS. The peers are installed into the target
# directory from the package registries (no lock file is written into the repository).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$target/sync-peers
n=${TRANSACTIONS:-10000}
runs=${RUNS:-3}
python_sdk=${PLAID_PYTHON_VERSION:-46.0.0}
node_sdk=${PLAID_NODE_VERSION:-47.0.0}
mkdir -p "$work"

echo "Building the bench binary..." >&2
bin=$(cd "$root" && cargo bench --bench runtime --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "runtime" and m.get("executable"):
        print(m["executable"])')

if [ ! -x "$work/venv/bin/python" ] || ! "$work/venv/bin/python" -c "import plaid" 2>/dev/null; then
  echo "Installing plaid-python $python_sdk..." >&2
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q "plaid-python==$python_sdk"
fi
if [ ! -d "$work/node/node_modules/plaid" ]; then
  echo "Installing plaid (npm) $node_sdk..." >&2
  mkdir -p "$work/node"
  (cd "$work/node" && npm install --silent --no-save --no-package-lock --no-audit --no-fund "plaid@$node_sdk" >/dev/null)
fi
cp "$root/benches/peers/sync_node.js" "$work/node/"

"$bin" serve "$n" >"$work/url" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -n 1 "$work/url")

# One run: prints "<seconds> <peak KiB> <transactions>".
run() {
  /usr/bin/time -f '%M' -o "$work/time.out" "$@" >"$work/run.out" 2>"$work/run.err" || {
    echo "failed: $*" >&2; cat "$work/run.err" >&2; exit 1; }
  python3 -c 'import json,sys; r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(r["seconds"], open(sys.argv[2]).read().split()[-1], r["transactions"])' "$work/run.out" "$work/time.out"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A secs rss
measure() { # label, command...
  local label=$1; shift
  local data
  data=$(for _ in $(seq "$runs"); do run "$@"; done)
  if awk -v n="$n" '$3 != n { bad = 1 } END { exit !bad }' <<<"$data"; then
    echo "$label did not get all $n transactions: $data" >&2; exit 1
  fi
  secs[$label]=$(awk '{ print $1 }' <<<"$data" | median)
  rss[$label]=$(awk '{ print $2 }' <<<"$data" | sort -n | tail -n 1)
}

measure plaid-sdk "$bin" sync "$url"
measure node node "$work/node/sync_node.js" "$url"
measure python "$work/venv/bin/python" "$root/benches/peers/sync_python.py" "$url"

echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(rustc --version); node $(node --version); $("$work/venv/bin/python" --version)"
echo "Full /transactions/sync of $n transactions, pages of 500, local server; median of $runs runs:"
for label in plaid-sdk node python; do
  printf '  %-28s %9.3f s  %7.1f MB peak RSS  %8.1fx plaid-sdk\n' \
    "$(case $label in plaid-sdk) echo "plaid-sdk (transactions_sync_all)";; node) echo "plaid $node_sdk (Node)";; python) echo "plaid-python $python_sdk";; esac)" \
    "${secs[$label]}" "$(awk -v k="${rss[$label]}" 'BEGIN { print k / 1024 }')" \
    "$(awk -v a="${secs[$label]}" -v b="${secs[plaid-sdk]}" 'BEGIN { print a / b }')"
done
