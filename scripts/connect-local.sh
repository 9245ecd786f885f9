#!/usr/bin/env bash
# Start and stop Apache Kafka Connect (standalone) with the Debezium
# PostgreSQL source connector, capturing table public.stations of the
# `make pg-up` server into topic pg.public.stations of the `make kafka-up`
# broker: the CTA pipeline's way of streaming its stations. The jars are
# fetched by their Maven coordinates and cached under .cache/connect/; see
# ../shared/CONNECT.md for what was checked on these machines.
#
#   scripts/connect-local.sh up|down|status
#   CONNECT_VERSION=4.3.0 (default: KAFKA_VERSION, else 4.3.0): the worker's Kafka release
#   DEBEZIUM_VERSION=3.6.1.Final: the connector
#   CONNECT_PORT=8083: the REST API, on 127.0.0.1 only
#   CONNECT_RUN=.cache/connect/run: properties, offsets, log and pid file
#   CONNECT_DB=cta: the database captured (created when missing)
#   CONNECT_SEED=1 (default): seed an empty table with the demo network's stations; 0: don't
#   PG_PORT=5432, KAFKA_PORT=9092: where the make pg-up / make kafka-up servers listen
#   FLEETSIM=PATH: the fleetsim binary (default: go build ./cmd/sim into bin/)
#
# The captured database is not `fleet`: `fleetwatch record` keeps a history
# table named stations there, of another shape. The table is prepared by
# `fleetsim stations` (created when missing, REPLICA IDENTITY FULL,
# publication dbz_stations), so that SQL is kept in one place.
#
# Every up that starts the worker starts clean: no stored offsets, no old
# replication slot, so the connector first snapshots the whole table
# (op "r") and then streams its changes. down stops the worker and drops
# the slot, which would otherwise hold WAL for ever: rows inserted or updated
# while Connect is down reach the topic with the next up's snapshot, rows
# deleted meanwhile do not. Creating the slot waits for the transactions
# open on the server to end, so on a busy server the first up can be slow.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${CONNECT_VERSION:-${KAFKA_VERSION:-4.3.0}}
dbz=${DEBEZIUM_VERSION:-3.6.1.Final}
cache="$root/.cache/connect"
run=${CONNECT_RUN:-$cache/run}
port=${CONNECT_PORT:-8083}
db=${CONNECT_DB:-cta}
pgport=${PG_PORT:-5432}
kport=${KAFKA_PORT:-9092}
plugins="$cache/plugins-$dbz"
api="http://127.0.0.1:$port"
# The connector's fixed names: the topic is <prefix>.<schema>.<table>.
connector=stations slot=stations publication=dbz_stations
url="postgres://fleet:fleet@127.0.0.1:$pgport/$db?sslmode=disable"

say() { echo "connect: $*" >&2; }
die() { echo "connect: $*" >&2; exit 1; }

for v in port pgport kport; do
  case "${!v}" in ''|*[!0-9]*) die "$v=${!v}: want a port number" ;; esac
done
case "$db" in ''|*[!a-z0-9_]*) die "CONNECT_DB=$db: want a database name of a-z, 0-9 and _" ;; esac
case "$run" in /*) ;; *) run="$PWD/$run" ;; esac

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# sql runs one statement as fleet over TCP, as pg-local.sh does.
sql() { PGPASSWORD=fleet PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U fleet -d "$1" -tAc "$2"; }

# mvn_copy resolves the coordinates given (groupId:artifactId:version) and
# their runtime dependencies into directory $1, through a throwaway pom as
# kafka-local.sh does; the directory appears whole or not at all.
mvn_copy() {
  local dest=$1; shift
  command -v mvn >/dev/null || die "mvn not found; install Maven (Debian package maven)"
  local tmp deps="" c g a v
  tmp=$(mktemp -d)
  for c in "$@"; do
    IFS=: read -r g a v <<<"$c"
    deps+="<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
  done
  cat > "$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>fleetwatch</groupId><artifactId>connect-local</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>$deps</dependencies>
</project>
POM
  rm -rf "$dest.partial" && mkdir -p "$dest.partial"
  (cd "$tmp" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$dest.partial" -DincludeScope=runtime >"$tmp/mvn.log" 2>&1) \
    || { tail -20 "$tmp/mvn.log" >&2; rm -rf "$tmp" "$dest.partial"; die "could not fetch $* with Maven"; }
  rm -rf "$dest" && mv "$dest.partial" "$dest" && rm -rf "$tmp"
}

# fetch finds the worker's jars and the connector plugin, fetching what is
# missing. The broker's jars (kafka-local.sh) serve when they hold the
# Connect runtime; kafka_2.13 alone does not bring it.
fetch() {
  lib="$root/.cache/kafka/$version/lib"
  if ! ls "$lib"/connect-runtime-*.jar "$lib"/connect-json-*.jar >/dev/null 2>&1; then
    lib="$cache/$version/lib"
    if ! ls "$lib"/connect-runtime-*.jar >/dev/null 2>&1; then
      say "fetching org.apache.kafka:connect-runtime:$version from Maven Central"
      mvn_copy "$lib" "org.apache.kafka:connect-runtime:$version" "org.apache.kafka:connect-json:$version" \
        org.apache.logging.log4j:log4j-core:2.24.3 org.apache.logging.log4j:log4j-slf4j-impl:2.24.3
    fi
  fi
  if ! ls "$plugins"/debezium-connector-postgres/debezium-connector-postgres-*.jar >/dev/null 2>&1; then
    say "fetching io.debezium:debezium-connector-postgres:$dbz from Maven Central"
    mvn_copy "$plugins/debezium-connector-postgres" "io.debezium:debezium-connector-postgres:$dbz"
  fi
}

# fleetsim is the binary that prepares (and may seed) the table.
fleetsim() {
  if [ -n "${FLEETSIM:-}" ]; then
    echo "$FLEETSIM"
    return
  fi
  command -v go >/dev/null || die "go not found: it builds fleetsim, which prepares the table (or set FLEETSIM)"
  (cd "$root" && go build -o bin/fleetsim ./cmd/sim) >&2 || die "could not build fleetsim (go build ./cmd/sim)"
  echo "$root/bin/fleetsim"
}

pid() { cat "$run/connect.pid" 2>/dev/null; }
# alive tells whether the pid file names a worker that is still there: not
# a process that reused the pid, nor one killed a moment ago and exiting.
alive() {
  local p st
  p=$(pid) && [ -n "$p" ] || return 1
  st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status" 2>/dev/null) || return 1
  case "$st" in ''|Z|X) return 1 ;; esac
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q ConnectStandalone
}

# state prints the connector's and its task's states from the REST API
# ("RUNNING RUNNING"), nothing while the worker does not answer.
state() {
  local body
  body=$(curl -s -m 2 "$api/connectors/$connector/status" 2>/dev/null) || return 0
  { grep -o '"state":"[A-Z]*"' <<<"$body" || true; } | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//'
}

# slot_drop drops the connector's replication slot once no walsender holds
# it (a stopped worker's connection may take a moment to go).
slot_drop() {
  local active
  for _ in $(seq 1 50); do
    active=$(sql "$db" "select active from pg_replication_slots where slot_name = '$slot'") || return 1
    case "$active" in
      '') return 0 ;;
      f) sql "$db" "select pg_drop_replication_slot('$slot')" >/dev/null 2>&1 || true ;;
      *) sleep 0.2 ;;
    esac
  done
  return 1
}

up() {
  command -v java >/dev/null || die "java not found; install a JDK (17 or later)"
  command -v curl >/dev/null || die "curl not found (Debian package curl)"
  command -v psql >/dev/null || die "psql not found (Debian package postgresql-client)"
  port_open "$kport" || die "no Kafka on 127.0.0.1:$kport; run make kafka-up first"
  sql postgres 'select 1' >/dev/null 2>&1 || die "no PostgreSQL on 127.0.0.1:$pgport (user fleet); run make pg-up first"
  local t0=$SECONDS
  fetch
  if [ -z "$(sql postgres "select 1 from pg_database where datname = '$db'")" ]; then
    sql postgres "create database $db" || die "could not create database $db"
  fi
  # Prepare on every up, running or not: a table dropped and created again
  # has left the publication.
  local sim seed=--if-empty
  sim=$(fleetsim)
  [ "${CONNECT_SEED:-1}" = 0 ] && seed=--prepare-only
  "$sim" stations --db "$url" "$seed" >/dev/null || die "fleetsim stations could not prepare public.stations in $db"

  local rc=1
  if alive; then
    say "already running (pid $(pid)): $api"
    wait_running && rc=0 || rc=$?
    # A worker killed a moment ago may still look alive, and a connector
    # that failed stays failed until restarted: start afresh.
    case $rc in
      1) say "the worker went away; starting another" ;;
      2) say "the connector failed; starting the worker again"; stop_worker ;;
    esac
  fi
  if [ "$rc" != 0 ]; then
    start_free
    wait_running && rc=0 || rc=$?
    case $rc in
      1) gone ;;
      2) die "the connector failed; see $run/connect.log" ;;
    esac
  fi
  say "up in $((SECONDS - t0)) s: $api, table public.stations of $db → topic pg.public.stations on 127.0.0.1:$kport"
}

gone() { tail -20 "$run/connect.log" >&2; die "the worker exited; see $run/connect.log"; }

# start_free starts a worker where the REST port is free.
start_free() {
  for _ in $(seq 1 50); do port_open "$port" || break; sleep 0.1; done
  port_open "$port" && die "127.0.0.1:$port is taken by another process; stop it or set CONNECT_PORT"
  start
}

start() {
  # A clean start (see the header), keeping the last worker's log.
  mkdir -p "$run"
  [ -f "$run/connect.log" ] && mv "$run/connect.log" "$run/connect.log.1"
  find "$run" -mindepth 1 -maxdepth 1 ! -name connect.log.1 -exec rm -rf {} +
  slot_drop || die "replication slot $slot of $db is held by another process; stop it first"
  cat > "$run/log4j2.properties" <<'LOG'
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
logger.debezium.name = io.debezium
logger.debezium.level = info
logger.cli.name = org.apache.kafka.connect.cli
logger.cli.level = info
LOG
  # Schemas off: the plain change events of CONNECT.md, ~540 B a row.
  cat > "$run/worker.properties" <<CONF
bootstrap.servers=127.0.0.1:$kport
listeners=http://127.0.0.1:$port
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename=$run/connect.offsets
offset.flush.interval.ms=5000
plugin.path=$plugins
plugin.discovery=service_load
CONF
  # One partition: the table's changes in the order they were committed.
  # heartbeat.interval.ms: while the table is quiet and other databases of
  # the server are busy (fleetwatch record), heartbeats let the connector
  # confirm the slot's position, so PostgreSQL can recycle the WAL.
  cat > "$run/connector.properties" <<CONF
name=$connector
connector.class=io.debezium.connector.postgresql.PostgresConnector
tasks.max=1
plugin.name=pgoutput
database.hostname=127.0.0.1
database.port=$pgport
database.user=fleet
database.password=fleet
database.dbname=$db
topic.prefix=pg
table.include.list=public.stations
slot.name=$slot
publication.name=$publication
publication.autocreate.mode=filtered
heartbeat.interval.ms=10000
heartbeat.action.query=SELECT pg_logical_emit_message(false, 'fleetwatch-heartbeat', now()::text)
message.prefix.exclude.list=fleetwatch-heartbeat
topic.creation.default.partitions=1
topic.creation.default.replication.factor=-1
CONF
  # setsid: the worker outlives the shell that started it (make, CI).
  setsid nohup java -Xmx768m -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$lib/*" \
    org.apache.kafka.connect.cli.ConnectStandalone "$run/worker.properties" "$run/connector.properties" \
    >>"$run/connect.log" 2>&1 </dev/null &
  echo $! > "$run/connect.pid"
}

# wait_running waits until the connector and its task run. It returns 1
# when the worker exits and 2 when the connector or its task failed (the
# status, with its trace, on stderr); it exits after 120 s.
wait_running() {
  local s=""
  for i in $(seq 1 600); do
    s=$(state)
    case "$s" in
      "RUNNING RUNNING") return 0 ;;
      *FAILED*)
        curl -s -m 2 "$api/connectors/$connector/status" | head -c 2000 >&2; echo >&2
        return 2 ;;
    esac
    alive || return 1
    [ "$i" = 600 ] && { tail -20 "$run/connect.log" >&2; die "the connector is not RUNNING after 120 s (state: ${s:-no answer})"; }
    sleep 0.2
  done
}

# stop_worker stops the worker: SIGTERM, then SIGKILL after 15 s.
stop_worker() {
  if alive; then
    local p; p=$(pid)
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null || true
    say "stopped"
  fi
  rm -f "$run/connect.pid"
}

stop() {
  stop_worker
  rm -f "$run/connect.offsets"
  if command -v psql >/dev/null && sql postgres 'select 1' >/dev/null 2>&1; then
    if [ -n "$(sql postgres "select 1 from pg_database where datname = '$db'")" ]; then
      slot_drop || say "replication slot $slot of $db is still in use; not dropped"
    fi
  elif [ -d "$run" ]; then
    say "PostgreSQL not reachable: replication slot $slot not dropped (the next up drops it)"
  fi
  return 0
}

status() {
  if alive; then
    echo "connect: pid $(pid), $api, connector $connector: $(state)"
  else
    echo "connect: not running"
  fi
}

case "${1:-}" in
  up) up ;;
  down) stop ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
