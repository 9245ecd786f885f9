#!/usr/bin/env bash
# make bench: the Go benchmarks, then the figures of issue 8 measured against
# a real Apache Kafka (make kafka-up) side by side with kcat, then those of
# issue 14 (history in PostgreSQL: FLEETWATCH_TEST_DB, or a private server
# started here). Prints every figure BENCHMARKS.md records; nothing here is
# an assertion.
#
#   BROKER=127.0.0.1:9092 RUNS=5 [FW=bin/fleetwatch] scripts/bench.sh [go|kafka]   (default: both; FW: the build measured)
#   ONLY=history [HPARTS="record snapshot replay"] [KEEP=1] scripts/bench.sh kafka
#                                                                 (the history figures alone)
#   ONLY=serve_viewers [RUNS=3] [SERVE_BUILDS="main=bin/fleetwatch scale=../scale/bin/fleetwatch"] scripts/bench.sh
#                                                                 (serve with 1, 10, 100 SSH viewers; no Kafka needed)
#   ONLY=million [RUNS=2] [BUILDS="new=bin/fleetwatch old=/tmp/fw-old"] scripts/bench.sh
#                                                                 (the live screen at 1 000 000 vehicles: scripts/million.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
broker=${BROKER:-127.0.0.1:9092}
runs=${RUNS:-5}
what=${1:-all}
fw=${FW:-./bin/fleetwatch}
sim=./bin/fleetsim

say() { printf '\n== %s\n' "$*"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

go_benchmarks() {
  say "Go benchmarks (go test -bench)"
  go test -run '^$' -bench . -benchmem -count=1 ./internal/codec ./internal/model ./internal/view ./internal/sim ./internal/ingest ./internal/cli 2>&1 |
    grep -E '^(Benchmark|ok|FAIL)'
}

port_open() { (exec 3<>"/dev/tcp/${broker%:*}/${broker#*:}") 2>/dev/null; }

# produce_once fills prefix.* with fleetsim unless the topic is there already.
produce_once() { # prefix vehicles duration: fills prefix.* once
  local prefix=$1 vehicles=$2 duration=$3
  if kcat -L -b "$broker" -t "$prefix.vehicles" 2>/dev/null | grep -q 'partition 5,'; then return; fi
  "$sim" -b "$broker" --vehicles-topic "$prefix.vehicles" --stations-topic "$prefix.stations" \
    --weather-topic "$prefix.weather" --speedup max --duration "$duration" --vehicles "$vehicles" --seed 1 \
    --start "$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)" --progress 0 --partitions 6 2>&1 | tail -1
}

catch_up() {
  say "1. catch-up: 1 000 000 vehicle events (10 000 vehicles), 6 partitions, $runs interleaved runs"
  produce_once bench 10000 100s
  local tk tf
  tk=$(mktemp) tf=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -a -o "$tk" -f '%e' kcat -C -b "$broker" -t bench.vehicles -o beginning -e -q >/dev/null
    /usr/bin/time -a -o "$tf" -f '%e %M' "$fw" snapshot -b "$broker" --vehicles-topic bench.vehicles \
      --stations-topic bench.stations --weather-topic bench.weather --until-caught-up --json --expire 0 >/dev/null
  done
  local k f rss
  k=$(median < "$tk"); f=$(cut -d' ' -f1 "$tf" | median); rss=$(cut -d' ' -f2 "$tf" | median)
  echo "kcat -C -e -o beginning -q:            median $k s   (runs: $(tr '\n' ' ' < "$tk"))"
  echo "fleetwatch snapshot --until-caught-up: median $f s, $((rss / 1024)) MB RSS   (runs: $(cut -d' ' -f1 "$tf" | tr '\n' ' '))"
  echo "ratio kcat/fleetwatch: $(awk -v k="$k" -v f="$f" 'BEGIN {printf "%.2f", k/f}')"
  rm -f "$tk" "$tf"
}

memory() {
  say "4. memory: RSS of the live screen (120x40) holding N distinct vehicles"
  command -v tmux >/dev/null || { echo "tmux missing: skipped"; return; }
  for n in 10000 100000 1000000; do
    produce_once "mem$n" "$n" 2s >/dev/null
    local name="fwmem$$"
    tmux new-session -d -s "$name" -x 120 -y 40 "env -u CI TERM=xterm-256color $fw -b $broker --vehicles-topic mem$n.vehicles --stations-topic mem$n.stations --weather-topic mem$n.weather --from earliest --expire 0"
    local shown=""
    for _ in $(seq 240); do
      shown=$(tmux capture-pane -p -t "$name" | head -1 | grep -oE '[0-9]+ vehicles' || true)
      [ "$shown" = "$n vehicles" ] && break
      sleep 0.5
    done
    local pid rss
    pid=$(pgrep -n -f "fleetwatch -b $broker --vehicles-topic mem$n.vehicles")
    sleep 2 # a few frames at the full size
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    echo "$n vehicles ($shown on screen): RSS $((rss / 1024)) MB, $((rss * 1024 / n)) B/vehicle"
    tmux kill-session -t "$name"
  done
}

latency() {
  say "3. end-to-end latency at 10 000 events/s (producer timestamp to state), 20 s"
  local p="lat$$"
  "$sim" -b "$broker" --vehicles-topic "$p.vehicles" --stations-topic "$p.stations" --weather-topic "$p.weather" \
    --vehicles 10000 --duration 30s --progress 0 2>/dev/null &
  local simpid=$!
  sleep 3
  /usr/bin/time -f 'snapshot CPU: %U user + %S sys s for %e s' \
    "$fw" snapshot -b "$broker" --vehicles-topic "$p.vehicles" --stations-topic "$p.stations" --weather-topic "$p.weather" \
    --from latest --after 20s --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["stats"]; l=d["e2e_latency_ms"]; print("records %d, %.0f ev/s; p50 %g ms, p99 %g ms, max %g ms" % (l["records"], l["records"]/20, l["p50"], l["p99"], l["max"]))'
  wait "$simpid" || true
}

cpu_of() { # pid → user+sys clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

live() {
  say "2. live: the TUI (200x60, rendering at its 15 fps cap) reading fleetsim in real time"
  command -v tmux >/dev/null || { echo "tmux missing: skipped"; return; }
  local hz; hz=$(getconf CLK_TCK)
  for speed in 1 10 20; do
    local p="live$$s$speed" name="fwbench$$"
    "$sim" -b "$broker" --vehicles-topic "$p.vehicles" --stations-topic "$p.stations" --weather-topic "$p.weather" \
      --vehicles 10000 --speedup "$speed" --duration "$((25 * speed))s" --progress 0 2>/dev/null &
    local simpid=$!
    tmux new-session -d -s "$name" -x 200 -y 60 "env -u CI TERM=xterm-256color $fw -b $broker --vehicles-topic $p.vehicles --stations-topic $p.stations --weather-topic $p.weather --from latest"
    sleep 4
    local pid; pid=$(pgrep -n -f "fleetwatch -b $broker --vehicles-topic $p.vehicles")
    local c0 c1; c0=$(cpu_of "$pid"); sleep 15; c1=$(cpu_of "$pid")
    local stream
    stream=$(tmux capture-pane -p -t "$name" | python3 -c 'import re,sys
m=[re.search(r"vehicles +\S* +(\d+) +(\d+)", l) for l in sys.stdin]
m=[x for x in m if x]
print("%s ev/s, lag %s" % m[0].groups() if m else "?")')
    echo "$((10000 * speed)) ev/s offered: fleetwatch CPU $(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.0f", d/hz/15*100}') % of a core; vehicles stream on screen: $stream"
    tmux kill-session -t "$name"
    kill "$simpid" 2>/dev/null || true; wait "$simpid" 2>/dev/null || true
  done
}

terminal_bytes() {
  say "5. bytes written to the terminal by the demo (200x60), 10 s"
  command -v tmux >/dev/null || { echo "tmux missing: skipped"; return; }
  local name="fwbytes$$" out; out=$(mktemp)
  tmux new-session -d -s "$name" -x 200 -y 60 "env -u CI TERM=xterm-256color $fw --demo"
  sleep 3
  tmux pipe-pane -t "$name" "cat > $out"
  sleep 10
  tmux pipe-pane -t "$name"
  tmux kill-session -t "$name"
  echo "$(( $(stat -c %s "$out") / 10 )) bytes/s"
  rm -f "$out"
}

# History (issue 14): the recorder into PostgreSQL side by side with psql \copy
# of the same rows, snapshot --at on 10 M stored positions, replay at 10× of
# 10 000 vehicles. PostgreSQL is FLEETWATCH_TEST_DB's server or, without it,
# a private one started here (scripts/pg-local.sh on BENCH_PG_PORT, 55432,
# deleted afterwards). The databases it makes (fwbench_*) are dropped at the
# end, the 10 M-row one too unless KEEP=1 (which only helps with
# FLEETWATCH_TEST_DB: the private server goes with its data): it is gigabytes
# on a shared server.
hbase=""
hpgrun=""
hdb() { local p=${hbase%%\?*}; printf '%s/%s%s' "${p%/*}" "$1" "${hbase#"$p"}"; }
hsql() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 "$1" -tAc "$2"; }
hfresh() { hsql "$hbase" "DROP DATABASE IF EXISTS $1 WITH (FORCE)" && hsql "$hbase" "CREATE DATABASE $1"; }
hdrop() { hsql "$hbase" "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true; }
# hmigrate gives a database fleetwatch's schema through its own migrations:
# record migrates, then, --until-caught-up with no topic to read, stops.
hmigrate() {
  "$fw" record --db "$(hdb "$1")" -b "$broker" --until-caught-up --progress 0 --vehicles-topic "fwbench-none$$.v" \
    --stations-topic "fwbench-none$$.s" --weather-topic "fwbench-none$$.w" 2>/dev/null
}

history_pg() {
  if [ -n "${FLEETWATCH_TEST_DB:-}" ]; then
    hbase=$FLEETWATCH_TEST_DB
  elif [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    hpgrun=$(mktemp -d)
    chmod 755 "$hpgrun" # as root, the server runs as postgres and must reach it
    PG_PORT=${BENCH_PG_PORT:-55432} PG_RUN=$hpgrun scripts/pg-local.sh up || return 1
    hbase="postgres://fleet:fleet@127.0.0.1:${BENCH_PG_PORT:-55432}/fleet?sslmode=disable"
  else
    echo "no PostgreSQL: set FLEETWATCH_TEST_DB (make pg-up) or install PostgreSQL 15 for the history figures"
    return 1
  fi
  hsql "$hbase" 'SELECT 1' >/dev/null || { echo "PostgreSQL at ${hbase%%\?*} does not answer"; return 1; }
}

history_done() {
  hdrop fwbench_rec
  hdrop fwbench_copy
  [ "${KEEP:-}" = 1 ] || hdrop fwbench_snap
  if [ -n "$hpgrun" ]; then PG_PORT=${BENCH_PG_PORT:-55432} PG_RUN=$hpgrun scripts/pg-local.sh reset; fi
  return 0
}

poscols='topic, partition, "offset", idx, ts, vehicle_id, removed, line, lat, lon, speed_kmh, heading, status, stop_id, delay_s, occupancy'

history_record() {
  say "6. history: fleetwatch record (Kafka to PostgreSQL) against psql \\copy of the same rows from CSV, $runs interleaved runs"
  produce_once bench 10000 100s
  local csv schema tr tc t2 out n=0
  csv=$(mktemp --suffix .csv) schema=$(mktemp) tr=$(mktemp) tc=$(mktemp) t2=$(mktemp) out=$(mktemp)
  chmod 644 "$csv"
  for i in $(seq "$runs"); do
    hfresh fwbench_rec
    # A group of its own each run: with no offsets in a fresh database the
    # recorder would otherwise start at the group's commits in Kafka.
    /usr/bin/time -a -o "$tr" -f '%e %U %S %M' "$fw" record --db "$(hdb fwbench_rec)" -b "$broker" \
      --vehicles-topic bench.vehicles --stations-topic bench.stations --weather-topic bench.weather \
      --group "fwbench-$$-$i" --until-caught-up --progress 0 2>"$out"
    n=$(tail -1 "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["recorded"]["vehicles"])')
    if [ "$i" = 1 ]; then
      echo "recorded: $(tail -1 "$out")"
      # The same rows, as CSV, and the same schema (the day partitions the
      # recorder made included) for \copy to load into a second database.
      psql -X -q -v ON_ERROR_STOP=1 "$(hdb fwbench_rec)" -c "\\copy (SELECT $poscols FROM vehicle_positions) TO '$csv' WITH (FORMAT csv)"
      pg_dump --schema-only --no-owner "$(hdb fwbench_rec)" > "$schema"
      echo "CSV: $(wc -l < "$csv") rows, $(( $(stat -c %s "$csv") / 1048576 )) MB"
    fi
    # Two recorders of one group on this machine: each has its own writer
    # and connection, as two machines' recorders would.
    hfresh fwbench_rec
    local t0; t0=$(date +%s.%N)
    for m in a b; do
      "$fw" record --db "$(hdb fwbench_rec)" -b "$broker" --vehicles-topic bench.vehicles --stations-topic bench.stations \
        --weather-topic bench.weather --group "fwbench-$$-$i-two" --until-caught-up --progress 0 2>"$out.$m" &
    done
    wait
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f\n", b-a}' >> "$t2"
    [ "$(hsql "$(hdb fwbench_rec)" 'SELECT count(*) FROM vehicle_positions')" = "$n" ] ||
      echo "two recorders: $(hsql "$(hdb fwbench_rec)" 'SELECT count(*) FROM vehicle_positions') positions stored, want $n"
    hfresh fwbench_copy
    psql -X -q -v ON_ERROR_STOP=1 "$(hdb fwbench_copy)" -f "$schema" >/dev/null
    /usr/bin/time -a -o "$tc" -f '%e' psql -X -q -v ON_ERROR_STOP=1 "$(hdb fwbench_copy)" \
      -c "\\copy vehicle_positions ($poscols) FROM '$csv' WITH (FORMAT csv)"
  done
  local r c
  r=$(cut -d' ' -f1 "$tr" | median); c=$(median < "$tc")
  echo "fleetwatch record --until-caught-up: median $r s, $(awk -v n="$n" -v t="$r" 'BEGIN {printf "%.0f", n/t}') positions/s" \
    "(runs: $(cut -d' ' -f1 "$tr" | tr '\n' ' ')s; CPU user+sys median $(awk '{print $2+$3}' "$tr" | median) s; RSS $(( $(cut -d' ' -f4 "$tr" | median) / 1024 )) MB)"
  local r2; r2=$(median < "$t2")
  echo "two recorders, one group:            median $r2 s, $(awk -v n="$n" -v t="$r2" 'BEGIN {printf "%.0f", n/t}') positions/s (runs: $(tr '\n' ' ' < "$t2")s)"
  echo "psql \\copy FROM csv:               median $c s, $(awk -v n="$n" -v t="$c" 'BEGIN {printf "%.0f", n/t}') positions/s (runs: $(tr '\n' ' ' < "$tc")s)"
  echo "ratio record/\\copy: $(awk -v r="$r" -v c="$c" 'BEGIN {printf "%.2f", c/r}')," \
    "two recorders/\\copy: $(awk -v r="$r2" -v c="$c" 'BEGIN {printf "%.2f", c/r}')"
  rm -f "$csv" "$schema" "$tr" "$tc" "$t2" "$out" "$out.a" "$out.b"
}

# The synthetic history behind 6b and 6c: 10 000 vehicles each reporting
# every second for 1 000 s from 2026-11-22 08:00 UTC (10 M positions, all of
# one day partition), about 70 arrivals a second, each station's turnstile
# count every minute and each area's weather every minute, as fleetsim's
# streams are shaped; through the schema fleetwatch migrates.
snap_fill() {
  local db; db=$(hdb fwbench_snap)
  if [ "$(hsql "$db" 'SELECT count(*) FROM vehicle_positions' 2>/dev/null)" = 10000000 ]; then
    echo "10 000 000 positions already stored (by 6b, or kept by KEEP=1)"
    return
  fi
  hfresh fwbench_snap
  hmigrate fwbench_snap
  hsql "$db" "CREATE TABLE vehicle_positions_p20261122 PARTITION OF vehicle_positions
    FOR VALUES FROM ('2026-11-22 00:00:00+00') TO ('2026-11-23 00:00:00+00')"
  local t0 t1; t0=$(date +%s.%N)
  hsql "$db" "INSERT INTO vehicle_positions (topic, partition, \"offset\", idx, ts, vehicle_id, line, lat, lon, speed_kmh,
      heading, status, stop_id, delay_s, occupancy)
    SELECT 'fleet.vehicles', v % 6, (sec * 10000 + v) / 6, 0,
      '2026-11-22 08:00:00+00'::timestamptz + make_interval(secs => sec + v / 10000.0),
      format('bus-%s', lpad(v::text, 5, '0')), format('line-%s', v % 40), 41.8 + (v % 1000) / 1e4,
      -87.6 - ((v + sec) % 777) / 1e4, (v + sec) % 60, (v * 7 + sec) % 360, 'IN_TRANSIT_TO',
      format('stop-%s', (v + sec / 30) % 2000), (v % 300) - 60, (v % 100) / 100.0
    FROM generate_series(0, 999) sec, generate_series(0, 9999) v"
  hsql "$db" "INSERT INTO station_events (topic, partition, \"offset\", ts, station_id, type, name, lines, lat, lon)
      SELECT 'fleet.stations', 0, s, '2026-11-22 07:59:00+00', format('st-%s', s), 'station', format('Station %s', s),
        ARRAY['line-' || s % 40], 41.8 + s / 1e3, -87.6 - s / 1e3
      FROM generate_series(0, 119) s;
    INSERT INTO station_events (topic, partition, \"offset\", ts, station_id, type, vehicle_id, line, direction, prev_station_id)
      SELECT 'fleet.stations', 1, i, '2026-11-22 08:00:00+00'::timestamptz + make_interval(secs => i / 70.0),
        format('st-%s', i % 120), 'arrival', format('bus-%s', lpad((i * 7919 % 10000)::text, 5, '0')),
        format('line-%s', i % 40), 'N', format('st-%s', (i + 1) % 120)
      FROM generate_series(0, 69999) i;
    INSERT INTO station_events (topic, partition, \"offset\", ts, station_id, type, entries)
      SELECT 'fleet.stations', 2, m * 120 + s, '2026-11-22 08:00:00+00'::timestamptz + make_interval(mins => m),
        format('st-%s', s), 'turnstile', 50 + (s * m) % 40
      FROM generate_series(0, 16) m, generate_series(0, 119) s;
    INSERT INTO weather (topic, partition, \"offset\", ts, area, temp_c, wind_kmh, humidity, condition)
      SELECT 'fleet.weather', 0, m * 4 + a, '2026-11-22 08:00:00+00'::timestamptz + make_interval(mins => m),
        (ARRAY['loop', 'north', 'south', 'west'])[a + 1], 3 + a, 12, 0.7, 'cloudy'
      FROM generate_series(0, 16) m, generate_series(0, 3) a"
  t1=$(date +%s.%N)
  # What autovacuum would have done by the time anyone asks about the past:
  # statistics, and a visibility map for index-only scans.
  hsql "$db" 'VACUUM ANALYZE'
  echo "generated 10 000 000 positions (and 72 000 station events) in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b-a}') s," \
    "VACUUM ANALYZE $(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b-a}') s;" \
    "database $(hsql "$db" "SELECT pg_size_pretty(pg_database_size(current_database()))")"
}

history_snapshot() {
  say "6b. snapshot --db --at on 10 000 000 stored positions (10 000 vehicles), $runs runs each"
  snap_fill
  local db; db=$(hdb fwbench_snap)
  for at in 2026-11-22T08:16:39Z 2026-11-22T08:08:20Z 2026-11-22T08:00:30Z; do
    local tf out; tf=$(mktemp) out=$(mktemp)
    for _ in $(seq "$runs"); do
      /usr/bin/time -a -o "$tf" -f '%e' "$fw" snapshot --db "$db" --at "$at" --json >"$out"
    done
    echo "snapshot --at $at: median $(median < "$tf") s (runs: $(tr '\n' ' ' < "$tf")s), $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["vehicles"]))' "$out") vehicles"
    rm -f "$tf" "$out"
  done
  local tf; tf=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -a -o "$tf" -f '%e' "$fw" snapshot --db "$db" --at 2026-11-22T08:16:39Z --expire 0 --json >/dev/null
  done
  echo "snapshot --at 2026-11-22T08:16:39Z --expire 0: median $(median < "$tf") s (runs: $(tr '\n' ' ' < "$tf")s)"
  rm -f "$tf"
}

history_replay() {
  say "6c. replay at 10x of 10 000 vehicles (100 000 positions/s of history)"
  # The player reads a minute of data ahead at a time (history.Events) and
  # seeks with FleetAt; the Go benchmarks time each against a fresh database
  # of two minutes of the same fleet.
  FLEETWATCH_TEST_DB=$hbase go test -run '^$' -bench 'Events|FleetAt' -benchtime 5x -count=1 ./internal/history 2>&1 |
    grep -E '^(Benchmark|ok|FAIL)'
  FLEETWATCH_TEST_DB=$hbase go test -run '^$' -bench 'Write' -count=1 ./internal/history 2>&1 |
    grep -E '^(Benchmark|ok|FAIL)'
  command -v tmux >/dev/null || { echo "tmux missing: the replay screen skipped"; return; }
  snap_fill
  # The replay screen itself, 200x60, over the 10 M positions: its CPU over
  # 20 s of wall time, and the data time on its time bar before and after.
  local name="fwreplay$$" hz; hz=$(getconf CLK_TCK)
  tmux new-session -d -s "$name" -x 200 -y 60 \
    "env -u CI TERM=xterm-256color $fw replay --db '$(hdb fwbench_snap)' --from 2026-11-22T08:01:00Z --speed 10"
  local pid=""
  for _ in $(seq 100); do
    pid=$(pgrep -n -f "fleetwatch replay --db .*fwbench_snap" || true)
    [ -n "$pid" ] && tmux capture-pane -p -t "$name" | grep -q '10000 vehicles' && break
    sleep 0.2
  done
  # The time bar reads "▶ 2026-11-22 08:01:28Z ×10".
  barclock() { tmux capture-pane -p -t "$name" | grep -oE '2026-11-22 [0-9:]{8}Z' | head -1 || true; }
  # The clock starts once the first chunk is loaded: sample from then.
  for _ in $(seq 100); do
    [ "$(barclock)" != "2026-11-22 08:01:00Z" ] && break
    sleep 0.1
  done
  local s0 s1 c0 c1
  s0=$(barclock); c0=$(cpu_of "$pid"); sleep 20; c1=$(cpu_of "$pid"); s1=$(barclock)
  local shown; shown=$(tmux capture-pane -p -t "$name" | grep -oE '[0-9]+ vehicles' | head -1 || true)
  tmux kill-session -t "$name"
  local rate="?"
  [ -n "$s0" ] && [ -n "$s1" ] && rate=$(awk -v d=$(($(date -ud "$s1" +%s) - $(date -ud "$s0" +%s))) 'BEGIN {printf "%.1f", d/20}')
  echo "replay --speed 10: data time ${s0:-?} to ${s1:-?} in 20 s of wall time (${rate}x);" \
    "fleetwatch CPU $(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.0f", d/hz/20*100}') % of a core; ${shown:-?} on screen"
}

# history runs the three parts, or those of HPARTS (record snapshot replay).
history() {
  history_pg || return 0
  trap history_done EXIT
  for part in ${HPARTS:-record snapshot replay}; do
    "history_$part"
  done
}

# serve: many viewers (issue 17). Needs no Kafka: scripts/serveload starts
# an embedded broker (fleetsim broker) and a live fleet (fleetsim --vehicles
# 10000, real time), then for each build and viewer count a fresh
# `fleetwatch serve --insecure-no-auth` on loopback, opens the SSH sessions
# (pty xterm-256color 120x40), and prints serve's CPU and RSS, each viewer's
# frames and bytes a second, and the consumed rate and lag read off a
# viewer's screen over a WINDOW once all are up; SLOW more viewers stall
# their TCP reads for 15 s of it.
#   ONLY=serve_viewers [RUNS=3] [VIEWERS=1,10,100] [SLOW=5] [WINDOW=30s] \
#     [SERVE_BUILDS="main=bin/fleetwatch scale=../scale/bin/fleetwatch"] \
#     [SERVE_SIM_ARGS="--vehicles 0 --roam 10000"] [SERVE_PROFILE=DIR] \
#     [SERVE_ARGS="-slow-size 300x100 -slow-pause 20s"] scripts/bench.sh
# (go run ./scripts/serveload -h lists the harness's flags: -fresh-fleet=false
# -fleet-age 7m measures an aged fleet, -shards N spreads the reports.)
serve_viewers() {
  say "serve: ${VIEWERS:-1,10,100} SSH viewers of a 10 000-vehicle fleet (issue 17), $runs runs"
  local args=() b
  for b in ${SERVE_BUILDS:-main=bin/fleetwatch}; do args+=(-build "$b"); done
  [ -n "${SERVE_SIM_ARGS:-}" ] && args+=(-sim-args "$SERVE_SIM_ARGS")
  [ -n "${SERVE_PROFILE:-}" ] && { mkdir -p "$SERVE_PROFILE"; args+=(-cpuprofile "$SERVE_PROFILE"); }
  # shellcheck disable=SC2086 # SERVE_ARGS is a list of flags
  go run ./scripts/serveload "${args[@]}" -fleetsim "$sim" -viewers "${VIEWERS:-1,10,100}" -runs "$runs" \
    -window "${WINDOW:-30s}" -slow "${SLOW:-5}" ${SERVE_ARGS:-}
}

make build >/dev/null
if [ "${ONLY:-}" = serve_viewers ]; then serve_viewers; exit 0; fi
if [ "${ONLY:-}" = million ]; then scripts/million.sh; exit 0; fi
case "$what" in go|all) go_benchmarks ;; esac
case "$what" in kafka|all)
  if ! port_open; then
    echo; echo "no Kafka at $broker: run make kafka-up for the side-by-side figures"; exit 0
  fi
  command -v kcat >/dev/null || { echo "kcat missing (Debian package kcat)"; exit 1; }
  case "${ONLY:-}" in
    "") catch_up; latency; live; memory; terminal_bytes; history ;;
    *) $ONLY ;;
  esac ;;
esac
