#!/usr/bin/env bash
# Start and stop a real Apache Kafka (KRaft, no ZooKeeper) on loopback for
# tests and development. The broker is fetched by its Maven coordinates and
# cached under .cache/kafka/; see ../shared/KAFKA.md for what was checked.
#
#   scripts/kafka-local.sh up|down|status
#   scripts/kafka-local.sh kill N|start N    kill -9 / start again node N (fault tests)
#   KAFKA_VERSION=4.3.0 (default) or 3.9.1; KAFKA_NODES=1 (default) or 3
#   KAFKA_PORT=9092: node n listens on KAFKA_PORT+n-1, its controller on +10100+n
#   KAFKA_RUN=.cache/kafka/run: where data, logs and pid files go, so tests
#   can run a private cluster beside the shared one
#   KAFKA_SECURE=1 (single node only): the SCRAM and TLS listeners below
#
# A single node also listens with SASL/SCRAM-SHA-512 on 127.0.0.1:9192 and
# with SASL_SSL on 127.0.0.1:9193 (user fleet, password fleet-secret; the
# test CA is .cache/kafka/run/tls/ca.pem), for the security tests.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${KAFKA_VERSION:-4.3.0}
nodes=${KAFKA_NODES:-1}
cache="$root/.cache/kafka"
lib="$cache/$version/lib"
run=${KAFKA_RUN:-$cache/run}
base=${KAFKA_PORT:-9092}

say() { echo "kafka: $*" >&2; }
die() { echo "kafka: $*" >&2; exit 1; }

case "$nodes" in 1|3) ;; *) die "KAFKA_NODES=$nodes: want 1 or 3" ;; esac
case "$base" in ''|*[!0-9]*) die "KAFKA_PORT=$base: want a port number" ;; esac
nodeport() { echo $((base + $1 - 1)); }
ctlport() { echo $((base + 10100 + $1)); }

fetch() {
  [ -n "$(ls "$lib"/kafka_2.13-*.jar 2>/dev/null)" ] && return
  command -v mvn >/dev/null || die "mvn not found; install Maven (Debian package maven)"
  say "fetching org.apache.kafka:kafka_2.13:$version from Maven Central"
  local tmp; tmp=$(mktemp -d)
  cat > "$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>fleetwatch</groupId><artifactId>kafka-local</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
  mkdir -p "$lib.partial"
  (cd "$tmp" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$lib.partial" -DincludeScope=runtime >"$tmp/mvn.log" 2>&1) \
    || { tail -20 "$tmp/mvn.log" >&2; die "could not fetch Kafka $version with Maven"; }
  rm -rf "$lib" && mv "$lib.partial" "$lib" && rm -rf "$tmp"
}

# make_tls writes a test CA and a broker certificate for 127.0.0.1/localhost.
make_tls() {
  command -v openssl >/dev/null || die "openssl not found (Debian package openssl)"
  local d="$run/tls"
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fleetwatch test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || die "openssl: CA"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/broker.key" -out "$d/broker.csr" >/dev/null 2>&1 \
    || die "openssl: broker key"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$d/san.ext"
  openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/san.ext" -out "$d/broker.pem" >/dev/null 2>&1 || die "openssl: broker certificate"
  openssl pkcs8 -topk8 -nocrypt -in "$d/broker.key" -out "$d/broker.pk8" >/dev/null 2>&1 || die "openssl: pkcs8"
  cat "$d/broker.pk8" "$d/broker.pem" > "$d/broker-keystore.pem"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  local any=0
  for pidfile in "$run"/node*.pid; do
    [ -e "$pidfile" ] || continue
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      any=1
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  [ "$any" = 1 ] && say "stopped"
  return 0
}

up() {
  command -v java >/dev/null || die "java not found; install a JDK (17 or later)"
  fetch
  stop
  rm -rf "$run" && mkdir -p "$run"
  cat > "$run/log4j2.properties" <<'LOG'
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = info
LOG
  local cid; cid=$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  local voters="" rf=1 isr=1 major=${version%%.*}
  if [ "$nodes" = 3 ]; then rf=3; isr=2; fi
  for n in $(seq 1 "$nodes"); do voters+="${voters:+,}$n@127.0.0.1:$(ctlport "$n")"; done
  local secure=""
  if [ "$nodes" = 1 ] && [ "${KAFKA_SECURE:-1}" = 1 ]; then
    make_tls
    secure=1
  fi
  for n in $(seq 1 "$nodes"); do
    local port cport conf="$run/node$n.properties"
    port=$(nodeport "$n") cport=$(ctlport "$n")
    local listeners="PLAINTEXT://127.0.0.1:$port" protomap="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    if [ -n "$secure" ]; then
      listeners+=",SASL_PLAINTEXT://127.0.0.1:9192,SASL_SSL://127.0.0.1:9193"
      protomap+=",SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
    fi
    cat > "$conf" <<CONF
process.roles=broker,controller
node.id=$n
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protomap
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data$n
num.partitions=6
auto.create.topics.enable=true
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
group.initial.rebalance.delay.ms=0
CONF
    if [ -n "$secure" ]; then
      cat >> "$conf" <<CONF
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$run/tls/broker-keystore.pem
CONF
    fi
    if [ "$major" -ge 4 ]; then
      echo "share.coordinator.state.topic.replication.factor=$rf" >> "$conf"
      echo "share.coordinator.state.topic.min.isr=$isr" >> "$conf"
    fi
    if [ "$major" -ge 4 ] && [ "$nodes" = 1 ]; then
      echo "controller.quorum.bootstrap.servers=127.0.0.1:$cport" >> "$conf"
      java -cp "$lib/*" kafka.tools.StorageTool format --standalone -t "$cid" -c "$conf" \
        --add-scram 'SCRAM-SHA-512=[name=fleet,password=fleet-secret]' >"$run/format$n.log" 2>&1 \
        || { cat "$run/format$n.log" >&2; die "format failed"; }
    else
      echo "controller.quorum.voters=$voters" >> "$conf"
      java -cp "$lib/*" kafka.tools.StorageTool format -t "$cid" -c "$conf" ${secure:+--add-scram 'SCRAM-SHA-512=[name=fleet,password=fleet-secret]'} >"$run/format$n.log" 2>&1 \
        || { cat "$run/format$n.log" >&2; die "format failed"; }
    fi
  done
  echo "$nodes" > "$run/nodes"
  for n in $(seq 1 "$nodes"); do launch "$n"; done
  for n in $(seq 1 "$nodes"); do wait_node "$n"; done
  if [ -n "$secure" ]; then
    for port in 9192 9193; do wait_port 1 "$port"; done
  fi
  local addrs=""
  for n in $(seq 1 "$nodes"); do addrs+="${addrs:+,}127.0.0.1:$(nodeport "$n")"; done
  echo "$addrs" > "$run/brokers"
  say "$version up: $addrs"
}

# launch starts node n from its formatted data directory.
launch() {
  local heap=-Xmx512m
  [ "$(cat "$run/nodes")" = 3 ] && heap=-Xmx384m
  nohup java $heap -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$lib/*" kafka.Kafka "$run/node$1.properties" \
    >>"$run/node$1.log" 2>&1 &
  echo $! > "$run/node$1.pid"
}

wait_port() {
  local n=$1 port=$2
  for i in $(seq 1 600); do
    port_open "$port" && return 0
    kill -0 "$(cat "$run/node$n.pid")" 2>/dev/null || { tail -20 "$run/node$n.log" >&2; die "node $n exited"; }
    [ "$i" = 600 ] && { tail -20 "$run/node$n.log" >&2; die "node $n did not open port $port within 60 s"; }
    sleep 0.1
  done
}

wait_node() { wait_port "$1" "$(nodeport "$1")"; }

# kill_node is the fault: SIGKILL, no clean shutdown, as when a machine dies.
kill_node() {
  local pidfile="$run/node$1.pid"
  [ -e "$pidfile" ] || die "node $1 is not running here"
  local pid; pid=$(cat "$pidfile")
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidfile"
  say "node $1 killed"
}

start_node() {
  [ -e "$run/node$1.properties" ] || die "node $1 was never set up here; run up first"
  if [ -e "$run/node$1.pid" ] && kill -0 "$(cat "$run/node$1.pid")" 2>/dev/null; then die "node $1 is running"; fi
  launch "$1"
  wait_node "$1"
  say "node $1 started"
}

status() {
  local any=0
  for pidfile in "$run"/node*.pid; do
    [ -e "$pidfile" ] || continue
    kill -0 "$(cat "$pidfile")" 2>/dev/null && { any=1; echo "$(basename "$pidfile" .pid): pid $(cat "$pidfile")"; }
  done
  [ "$any" = 1 ] && echo "brokers: $(cat "$run/brokers" 2>/dev/null)" || echo "kafka: not running"
}

case "${1:-}" in
  up) up ;;
  down) stop ;;
  kill) [ -n "${2:-}" ] || die "usage: $0 kill N"; kill_node "$2" ;;
  start) [ -n "${2:-}" ] || die "usage: $0 start N"; start_node "$2" ;;
  status) status ;;
  *) die "usage: $0 up|down|status|kill N|start N" ;;
esac
