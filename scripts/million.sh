#!/usr/bin/env bash
# Issue 17's figures for the live screen at a million vehicles, on fleetsim's
# embedded broker (loopback, no Kafka needed), side by side with 10 000:
#
#   catch-up while drawing: the TUI (200x60, 15 fps cap) reads 2 000 000
#     reports from earliest; wall time, CPU, peak RSS, and the rate of the
#     second half (the vehicles known: updates, not inserts);
#   live: fleetsim offers 100 000 reports/s (1 000 000 vehicles at
#     --speedup 0.1, or 10 000 at 10) and the TUI reads from latest; the rate
#     read and the CPU over a 30 s window, and the lag on its STREAM panel.
#
#   BUILDS="new=bin/fleetwatch old=/tmp/fw-old" RUNS=2 scripts/million.sh [catchup|live]
# Prints figures for BENCHMARKS.md; asserts nothing. Needs tmux.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-2}
sim=${FLEETSIM:-bin/fleetsim}
net=assets/network.geojson
hz=$(getconf CLK_TCK)
make build >/dev/null
command -v tmux >/dev/null || { echo "tmux missing"; exit 1; }

brokers=()
cleanup() { for p in "${brokers[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
broker() { # port → starts an embedded broker there
  "$sim" broker --listen "127.0.0.1:$1" >/dev/null 2>&1 &
  brokers+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
}
status() { tmux capture-pane -p -t "$1" | tail -1; }
events() { status "$1" | grep -oE '[0-9]+ events' | grep -oE '[0-9]+' || echo 0; }
stream() { tmux capture-pane -p -t "$1" | grep -A1 'STREAM' | tail -1 | sed 's/.*│//' | awk '{print $(NF-1) " ev/s, lag " $NF}'; }
start_tui() { # session bin port from
  tmux new-session -d -s "$1" -x 200 -y 60 "env -u CI TERM=xterm-256color $2 -b 127.0.0.1:$3 --from $4 --expire 0 --network $net --basemap none"
  local pid=""
  for _ in $(seq 50); do pid=$(pgrep -n -f "^$2 -b 127.0.0.1:$3" || true); [ -n "$pid" ] && break; sleep 0.1; done
  echo "$pid"
}
stop_tui() { tmux send-keys -t "$1" q; sleep 2; tmux kill-session -t "$1" 2>/dev/null || true; }

catchup() {
  echo "== catch-up while drawing: 2 000 000 reports, $runs interleaved runs"
  broker 19201; "$sim" -b 127.0.0.1:19201 --vehicles 1000000 --duration 2s --speedup max --seed 1 --progress 0 >/dev/null
  broker 19202; "$sim" -b 127.0.0.1:19202 --vehicles 10000 --duration 200s --speedup max --seed 1 --progress 0 >/dev/null
  for _ in $(seq "$runs"); do
    for b in ${BUILDS:-new=bin/fleetwatch}; do
      for port in 19201 19202; do
        local s="fwm$$" bin=${b#*=} t0 tm="" nm=0 n=0 pid
        t0=$(date +%s.%N)
        pid=$(start_tui "$s" "$bin" "$port" earliest)
        for _ in $(seq 1800); do
          n=$(events "$s")
          if [ -z "$tm" ] && [ "$n" -ge 1100000 ]; then tm=$(date +%s.%N); nm=$n; fi
          [ "$n" -ge 2000000 ] && break
          sleep 0.1
        done
        local t1 c hwm; t1=$(date +%s.%N); c=$(awk '{print $14 + $15}' "/proc/$pid/stat"); hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
        printf '%s, %s vehicles: %.1f s, %.1f CPU-s, peak RSS %d MB; second half %d reports/s\n' "${b%%=*}" \
          "$([ $port = 19201 ] && echo 1000000 || echo 10000)" "$(echo "$t1 - $t0" | bc)" "$(echo "$c / $hz" | bc -l)" \
          $((hwm / 1024)) "$(echo "($n - $nm) / ($t1 - ${tm:-$t0})" | bc)"
        stop_tui "$s"
      done
    done
  done
}

live() {
  echo "== live: 100 000 reports/s offered, $runs runs"
  local port=19210
  for _ in $(seq "$runs"); do
    for b in ${BUILDS:-new=bin/fleetwatch}; do
      for fleet in "1000000 0.1" "10000 10"; do
        port=$((port + 1)); broker "$port"
        local s="fwl$$" bin=${b#*=} pid simpid
        pid=$(start_tui "$s" "$bin" "$port" latest)
        # shellcheck disable=SC2086 # fleet is two words
        set -- $fleet
        timeout 62 "$sim" -b "127.0.0.1:$port" --vehicles "$1" --speedup "$2" --seed 1 --progress 0 >/dev/null 2>&1 &
        simpid=$!
        sleep 20
        local e1 c1 t1 l1 e2 c2 t2 l2
        e1=$(events "$s"); c1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); t1=$(date +%s.%N); l1=$(stream "$s")
        sleep 30
        e2=$(events "$s"); c2=$(awk '{print $14 + $15}' "/proc/$pid/stat"); t2=$(date +%s.%N); l2=$(stream "$s")
        printf '%s, %s vehicles: read %d reports/s, %.2f cores; on screen at 20 s: %s, at 50 s: %s; peak RSS %d MB\n' \
          "${b%%=*}" "$1" "$(echo "($e2 - $e1) / ($t2 - $t1)" | bc)" "$(echo "($c2 - $c1) / $hz / ($t2 - $t1)" | bc -l)" \
          "$l1" "$l2" $(($(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024))
        wait "$simpid" 2>/dev/null || true
        stop_tui "$s"
        kill "${brokers[-1]}" 2>/dev/null || true
      done
    done
  done
}

case "${1:-all}" in
  catchup) catchup ;;
  live) live ;;
  all) catchup; live ;;
esac
