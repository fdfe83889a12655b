#!/usr/bin/env bash
# Development/CI PostgreSQL 15 on loopback only: a private cluster (127.0.0.1, own port,
# unix socket in its own dir) with state in ${ERS_SERVICES_DIR:-<repo>/var/services}/postgres,
# run as the postgres user. Installs postgresql-15 if missing, creates role/db ers/ers.
# Usage: postgres.sh start|stop|status|env|psql ARGS...
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${ERS_SERVICES_DIR:-$ROOT/var/services}/postgres"
PORT="${ERS_PG_PORT:-55433}"
DATA="$DIR/data"           # postgres keeps its pid file in $DATA/postmaster.pid
LOG="$DIR/postgres.log"
BIN=/usr/lib/postgresql/15/bin
URL="postgresql+psycopg://ers:ers@127.0.0.1:$PORT/ers"

as_pg() { (cd / && runuser -u postgres -- "$@"); }   # initdb/pg_ctl refuse to run as root
running() { [[ -f "$DATA/PG_VERSION" ]] && as_pg "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }
ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }
admin_psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres "$@"; }

install() {
  [[ -x "$BIN/initdb" ]] && return
  echo "postgres: installing postgresql-15 ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
}

init() {
  [[ -f "$DATA/PG_VERSION" ]] && return
  mkdir -p "$DIR"
  chown postgres: "$DIR"; chmod 700 "$DIR"   # socket auth is trust: keep other users out
  as_pg test -w "$DIR" || { echo "postgres: user postgres cannot reach $DIR (set ERS_SERVICES_DIR)" >&2; exit 1; }
  echo "postgres: initdb $DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log"
}

start() {
  if running && ready; then echo "postgres: already running"; echo "$URL"; return; fi
  install
  init
  local t=0
  # Loop re-checks "running" each round (e.g. a killed postmaster not yet reaped), and
  # needs our own cluster to be up: something else answering on the port does not count.
  until running && ready; do
    if ! running; then
      echo "postgres: starting on 127.0.0.1:$PORT ..."
      # Settings passed on the command line so ports/paths follow the env vars on every start.
      as_pg "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 90 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR" >/dev/null || t=999
    fi
    (( t >= 90 )) && { echo "postgres: failed to start; log tail:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
    { running && ready; } || sleep 1; t=$((t + 1))
  done
  # Idempotent role/database setup (CREATEDB so tests can make throwaway databases).
  admin_psql -d postgres <<'SQL'
SELECT 'CREATE ROLE ers LOGIN CREATEDB PASSWORD ''ers''' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ers')\gexec
SELECT 'CREATE DATABASE ers OWNER ers' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ers')\gexec
SQL
  echo "postgres: ready (pid $(head -n1 "$DATA/postmaster.pid"))"
  echo "$URL"
}

stop() {
  if ! running; then echo "postgres: not running"; return; fi
  echo "postgres: stopping pid $(head -n1 "$DATA/postmaster.pid") ..."
  as_pg "$BIN/pg_ctl" stop -D "$DATA" -m fast -w >/dev/null
  echo "postgres: stopped"
}

status() {
  if running && ready; then echo "postgres: running (pid $(head -n1 "$DATA/postmaster.pid")) $URL"
  elif running; then echo "postgres: running but not accepting connections"; return 1
  else echo "postgres: stopped"; return 3; fi
}

case "${1:-}" in
  start|stop|status) "$1" ;;
  env) echo "export ERS_TEST_PG_URL='$URL'" ;;
  psql) shift; admin_psql "$@" ;;   # superuser shell, e.g. postgres.sh psql -d ers
  *) echo "usage: $0 start|stop|status|env|psql ARGS..." >&2; exit 2 ;;
esac
