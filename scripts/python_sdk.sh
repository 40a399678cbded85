#!/usr/bin/env bash
# The official Python SDK (PyPI `plaid-python`, pinned; it matches the vendored spec
# 2020-09-14_1.697.4) against the offline sandbox's binary: builds the binary, starts it on a
# free loopback port, runs sandbox/tests/python/check.py (a Link-less flow with the outcomes
# Plaid documents, every webhook the sandbox sends, and a sweep of every PlaidApi operation,
# each answer validated by plaid-python and checked strictly against spec/plaid.json by
# strict.py), and stops the sandbox whatever happens.
#
#   bash scripts/python_sdk.sh
#
# Installs the SDK with pip into a virtualenv in a cache folder outside the repository, like
# Prism and the Node SDK, and reuses it while the pins below are unchanged and it still runs
# (PYTHON chooses the interpreter that makes it; python3 by default).
set -euo pipefail
cd "$(dirname "$0")/.."

PLAID_PYTHON_VERSION=40.0.0
# Every package check.py and strict.py import, pinned.
REQUIREMENTS="plaid-python==$PLAID_PYTHON_VERSION jsonschema==4.26.0 rfc3339-validator==0.1.4"
PY_HOME="${PLAID_SDK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plaid-sdk}/plaid-python-$PLAID_PYTHON_VERSION"
PYTHON="${PYTHON:-python3}"
if [ "$(cat "$PY_HOME/.installed" 2>/dev/null)" != "$REQUIREMENTS" ] ||
  ! "$PY_HOME/bin/python" -c 'import plaid, jsonschema, rfc3339_validator' 2>/dev/null; then
  # A half-made virtualenv (an interrupted install) is made anew; the stamp is written last.
  # `python3 -m venv` needs ensurepip, which Debian ships apart, in python3-venv.
  venv() { rm -rf "$PY_HOME" && mkdir -p "$(dirname "$PY_HOME")" && "$PYTHON" -m venv "$PY_HOME"; }
  if ! venv 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "$PYTHON -m venv is unavailable: installing Debian's python3-venv"
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    if ! venv; then
      echo "$PYTHON -m venv is unavailable: install python3-venv (Debian, as root: apt-get install python3-venv)"
      exit 1
    fi
  fi
  # shellcheck disable=SC2086 # one word per requirement
  "$PY_HOME/bin/python" -m pip install --quiet --disable-pip-version-check --no-input $REQUIREMENTS
  echo "installed in $PY_HOME: $("$PY_HOME/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
  printf '%s' "$REQUIREMENTS" >"$PY_HOME/.installed"
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q -p plaid-sandbox --bin plaid-sandbox
out=$(mktemp)
err=$(mktemp)
pid=
# shellcheck disable=SC2317 # called by the trap
stop() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$out" "$err"
}
trap stop EXIT
"$CARGO_TARGET_DIR/debug/plaid-sandbox" --client-id python-client --secret python-secret >"$out" 2>"$err" &
pid=$!
for _ in $(seq 1 100); do
  [ -s "$out" ] && break
  sleep 0.1
done
url=$(head -n 1 "$out")
case "$url" in
  http://127.0.0.1:*) ;;
  *) echo "the sandbox did not print its URL (got: $url)"; cat "$err"; exit 1 ;;
esac
# No __pycache__ in the repository.
if ! PYTHONDONTWRITEBYTECODE=1 "$PY_HOME/bin/python" sandbox/tests/python/check.py "$url" python-client python-secret spec/plaid.json; then
  echo "the sandbox's log (last lines):"
  tail -n 20 "$err"
  exit 1
fi
