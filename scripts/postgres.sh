#!/usr/bin/env bash
# A throwaway PostgreSQL server for the backend's tests, from Debian's `postgresql` package:
# `initdb` into a new temporary folder, the server on a free loopback port, trust auth for the
# user `app`. As root (CI), the server runs as the package's `postgres` user, since initdb and
# postgres refuse root.
#
#   eval "$(bash scripts/postgres.sh start)"   # exports PG_DIR and BACKEND_TEST_DATABASE_URL
#   bash scripts/postgres.sh stop "$PG_DIR"
#
# Installs the package with apt when initdb is missing and apt is there. fsync is off unless
# PG_FSYNC=on (tests need no durability across a power cut; benches that compare with SQLite do).
set -euo pipefail

find_bin() {
  command -v "$1" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  if [ -z "$(find_bin initdb)" ]; then
    if command -v apt-get >/dev/null; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      # Where services start on install, the package started its default cluster: stopped,
      # as this script starts only its own.
      if command -v pg_lsclusters >/dev/null; then
        pg_lsclusters -h 2>/dev/null | while read -r version name _; do
          pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
        done
      fi
    else
      echo "postgres.sh: no initdb and no apt-get; install PostgreSQL" >&2
      exit 1
    fi
  fi
  initdb=$(find_bin initdb)
  pg_ctl=$(find_bin pg_ctl)
  dir=$(mktemp -d /tmp/plaid-pg.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # A start that fails part-way leaves nothing behind: no caller learns the folder then. (A
  # server pg_ctl gave up waiting for may still come up; `stop` stops it.)
  abandon() { cat "$1" >&2 || true; bash "$0" stop "$dir"; exit 1; }
  as_owner "$initdb" -D "$dir/data" -A trust -U app >"$dir/initdb.log" 2>&1 \
    || abandon "$dir/initdb.log"
  as_owner "$pg_ctl" -D "$dir/data" -w -l "$dir/log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=${PG_FSYNC:-off}" start >/dev/null \
    || abandon "$dir/log"
  echo "export PG_DIR=$dir PG_PORT=$port"
  echo "export BACKEND_TEST_DATABASE_URL=postgres://app@127.0.0.1:$port/postgres"
  ;;
stop)
  dir=${2:?usage: postgres.sh stop DIR}
  as_owner "$(find_bin pg_ctl)" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: postgres.sh start | stop DIR" >&2
  exit 2
  ;;
esac
