#!/usr/bin/env bash
# Start and stop a private PostgreSQL 15 on loopback for tests and
# development: Debian's server binaries, a data directory under
# .cache/pg/, user fleet with password fleet, database fleet. See
# ../shared/POSTGRES.md for what was checked on these machines.
#
#   scripts/pg-local.sh up|down|status|reset
#   PG_PORT=5432 (default): listens on 127.0.0.1:PG_PORT only
#   PG_RUN=.cache/pg: where the data, the socket and the log go, so tests
#   can run a private server beside the shared one
#   PG_BIN=/usr/lib/postgresql/15/bin: the server binaries
#
# The data survive down/up (a recorded history is worth keeping); reset
# stops the server and deletes them. Passwords are checked (scram-sha-256),
# so a wrong one fails as it would on a real server; fsync is off, which is
# right for tests and wrong for anyone's real data.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
run=${PG_RUN:-$root/.cache/pg}
port=${PG_PORT:-5432}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
data="$run/data"
sock="$run/sock"
url="postgres://fleet:fleet@127.0.0.1:$port/fleet?sslmode=disable"

say() { echo "pg: $*" >&2; }
die() { echo "pg: $*" >&2; exit 1; }

case "$port" in ''|*[!0-9]*) die "PG_PORT=$port: want a port number" ;; esac
case "$run" in /*) ;; *) run="$PWD/$run"; data="$run/data"; sock="$run/sock" ;; esac

# PostgreSQL refuses to run as root: as root, run the server tools as the
# postgres system user; as anyone else, run them as oneself.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [ -s "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

# sql runs one statement in database fleet's server as fleet, over TCP
# with the password, as clients will.
sql() { PGPASSWORD=fleet PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U fleet -d "$1" -tAc "$2"; }

init() {
  [ -x "$bin/initdb" ] || die "$bin/initdb not found; install PostgreSQL 15 (Debian package postgresql)"
  command -v psql >/dev/null || die "psql not found (Debian package postgresql-client)"
  mkdir -p "$run"
  if [ "$(id -u)" = 0 ]; then
    # The postgres user must reach the data through every parent directory.
    local d=$run
    while [ "$d" != / ]; do
      runuser -u postgres -- test -x "$d" 2>/dev/null || [ ! -e "$d" ] \
        || die "$d is not searchable by the postgres user; set PG_RUN to a directory it can reach"
      d=$(dirname "$d")
    done
    chown postgres "$run"
  fi
  rm -rf "$data"
  local pw; pw=$(mktemp "$run/pw.XXXXXX")
  echo fleet > "$pw"
  [ "$(id -u)" = 0 ] && chown postgres "$pw"
  as_pg "$bin/initdb" -D "$data" -U fleet --pwfile="$pw" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"$run/initdb.log" 2>&1 || { rm -f "$pw"; cat "$run/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pw"
  # Settings that hold whatever the port: Debezium needs logical decoding;
  # the rest trade durability for speed, fine for tests and benchmarks.
  as_pg tee -a "$data/postgresql.conf" >/dev/null <<'CONF'

# scripts/pg-local.sh
wal_level = logical
fsync = off
full_page_writes = off
max_wal_size = 4GB
shared_buffers = 256MB
log_min_messages = warning
CONF
}

up() {
  # A server of this data directory may be running, starting or, killed
  # a moment ago, still going away: wait for one or the other.
  for i in $(seq 1 100); do
    running || break
    local on; on=$(sed -n 4p "$data/postmaster.pid" 2>/dev/null)
    [ "$on" = "$port" ] || die "the server on $data listens on port $on, not $port; run down first"
    if sql postgres 'select 1' >/dev/null 2>&1; then
      say "already running: $url"
      return 0
    fi
    [ "$i" = 100 ] && die "the server on $data runs but does not accept connections; see $run/log"
    sleep 0.1
  done
  if port_open "$port"; then
    die "127.0.0.1:$port is taken by another server; stop it or set PG_PORT"
  fi
  [ -s "$data/PG_VERSION" ] || init
  mkdir -p "$sock"
  [ "$(id -u)" = 0 ] && chown postgres "$sock"
  as_pg "$bin/pg_ctl" -D "$data" -l "$run/log" -w -t 60 \
    -o "-p $port -k $sock -c listen_addresses=127.0.0.1" start >/dev/null \
    || { tail -20 "$run/log" >&2; die "the server did not start"; }
  for i in $(seq 1 100); do
    sql postgres 'select 1' >/dev/null 2>&1 && break
    [ "$i" = 100 ] && { tail -20 "$run/log" >&2; die "the server does not accept connections"; }
    sleep 0.1
  done
  if [ -z "$(sql postgres "select 1 from pg_database where datname = 'fleet'")" ]; then
    sql postgres 'create database fleet' || die "could not create database fleet"
  fi
  say "up: $url"
}

stop() {
  if running; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || die "pg_ctl stop failed"
    say "stopped"
  fi
  return 0
}

status() {
  if running; then
    echo "pg: running on 127.0.0.1:$port, data $data"
    echo "$url"
  else
    echo "pg: not running"
  fi
}

case "${1:-}" in
  up) up ;;
  down) stop ;;
  status) status ;;
  reset) stop; rm -rf "$run"; say "data deleted" ;;
  *) die "usage: $0 up|down|status|reset" ;;
esac
