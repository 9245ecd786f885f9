#!/usr/bin/env bash
# make bench: the Go benchmarks, then the figures of issue 8 measured against
# a real Apache Kafka (make kafka-up) side by side with kcat. Prints every
# figure BENCHMARKS.md records; nothing here is an assertion.
#
#   BROKER=127.0.0.1:9092 RUNS=5 scripts/bench.sh [go|kafka]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
broker=${BROKER:-127.0.0.1:9092}
runs=${RUNS:-5}
what=${1:-all}
fw=./bin/fleetwatch
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

make build >/dev/null
case "$what" in go|all) go_benchmarks ;; esac
case "$what" in kafka|all)
  if ! port_open; then
    echo; echo "no Kafka at $broker: run make kafka-up for the side-by-side figures"; exit 0
  fi
  command -v kcat >/dev/null || { echo "kcat missing (Debian package kcat)"; exit 1; }
  case "${ONLY:-}" in
    "") catch_up; latency; live; memory; terminal_bytes ;;
    *) $ONLY ;;
  esac ;;
esac
