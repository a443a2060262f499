#!/bin/bash
# Entrypoint of weir/kafka:3.9: a single-node Apache Kafka 3.9 broker in
# KRaft mode (process.roles=broker,controller), PLAINTEXT on loopback.
#
# Also runs without Docker, on the host's Java 17+, from the distribution
# directory deploy/images/build.sh stages (KAFKA_HOME = <dist>, holding
# libs/*.jar and bin/entrypoint.sh):
#   KAFKA_LOG_DIRS=/tmp/k1/data KAFKA_PORT=59092 KAFKA_CONTROLLER_PORT=59093 \
#     ~/.cache/weir/kafka-3.9.2/bin/entrypoint.sh
#
# Usage:
#   entrypoint.sh [server]                 generate config, format storage once, exec the broker
#   entrypoint.sh run-class CLASS ARGS...  run a Kafka tool with the same jars, e.g.
#       entrypoint.sh run-class org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
#
# Environment (defaults):
#   KAFKA_PORT=9092                PLAINTEXT (client) listener port
#   KAFKA_CONTROLLER_PORT=9093     KRaft controller listener port
#   KAFKA_LISTEN_HOST=127.0.0.1    address both listeners bind to
#   KAFKA_ADVERTISED_HOST=127.0.0.1
#   KAFKA_NODE_ID=1
#   KAFKA_CLUSTER_ID=V2VpckthZmthQ2x1c3Rlcg   (base64 of "WeirKafkaCluster")
#   KAFKA_LOG_DIRS=/var/lib/kafka/data
#   KAFKA_CONFIG_DIR=$(dirname KAFKA_LOG_DIRS)/config   (server.properties, log4j.properties are written here)
#   KAFKA_HEAP_OPTS="-Xmx512m -Xms256m"
#   KAFKA_JVM_PERFORMANCE_OPTS=(Kafka's own defaults: G1, MaxGCPauseMillis=20, ...)
#   KAFKA_OPTS=""                  more JVM options
#   KAFKA_AUTO_CREATE_TOPICS=false auto.create.topics.enable
#   KAFKA_NUM_PARTITIONS=3         num.partitions (default for new topics)
#   KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS=1   partitions of __consumer_offsets
#   KAFKA_LOG_LEVEL=INFO           root log level (the readiness line is always logged)
#   KAFKA_EXTRA_PROPERTIES=""      more broker properties, "k=v" words separated by
#                                  spaces/newlines; they override the ones above
#
# Readiness: the broker logs (stdout) a line ending in
#   "[KafkaRaftServer nodeId=1] Kafka Server started (kafka.server.KafkaRaftServer)"
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
KAFKA_HOME="${KAFKA_HOME:-$(dirname "$(dirname "$SELF")")}"
LIBS="$KAFKA_HOME/libs"
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA="${JAVA:-java}"; fi

log() { printf 'weir-kafka: %s\n' "$*" >&2; }
die() { printf 'weir-kafka: ERROR: %s\n' "$*" >&2; exit 1; }

command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA_HOME or JAVA)"
ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no Kafka jars in $LIBS (set KAFKA_HOME)"

# A quiet log4j configuration for tools, to stderr.
tools_log4j() {
  local f="${TMPDIR:-/tmp}/weir-kafka-tools-log4j.properties"
  if [ ! -s "$f" ]; then
    cat >"$f.$$" <<'L4J'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
L4J
    mv -f "$f.$$" "$f"
  fi
  printf '%s' "$f"
}

if [ "${1:-server}" = run-class ]; then
  shift
  [ $# -ge 1 ] || die "usage: $0 run-class CLASS [ARGS...]"
  # shellcheck disable=SC2086 # option lists
  exec "$JAVA" ${KAFKA_TOOLS_HEAP_OPTS:--Xmx256m} ${KAFKA_OPTS:-} \
    -Dlog4j.configuration="file:$(tools_log4j)" -cp "$LIBS/*" "$@"
fi
[ "${1:-server}" = server ] || die "unknown command '$1' (use: server | run-class CLASS ARGS...)"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_LISTEN_HOST="${KAFKA_LISTEN_HOST:-127.0.0.1}"
KAFKA_ADVERTISED_HOST="${KAFKA_ADVERTISED_HOST:-127.0.0.1}"
KAFKA_NODE_ID="${KAFKA_NODE_ID:-1}"
KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-V2VpckthZmthQ2x1c3Rlcg}"
KAFKA_LOG_DIRS="${KAFKA_LOG_DIRS:-/var/lib/kafka/data}"
KAFKA_CONFIG_DIR="${KAFKA_CONFIG_DIR:-$(dirname "${KAFKA_LOG_DIRS%%,*}")/config}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
KAFKA_AUTO_CREATE_TOPICS="${KAFKA_AUTO_CREATE_TOPICS:-false}"
KAFKA_NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-3}"
KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS="${KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS:-1}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-INFO}"
KAFKA_EXTRA_PROPERTIES="${KAFKA_EXTRA_PROPERTIES:-}"

for v in KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_NODE_ID KAFKA_NUM_PARTITIONS KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
done
[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

IFS=',' read -r -a log_dirs <<<"$KAFKA_LOG_DIRS"
mkdir -p "${log_dirs[@]}" "$KAFKA_CONFIG_DIR" || die "cannot create $KAFKA_LOG_DIRS / $KAFKA_CONFIG_DIR"

SERVER_PROPERTIES="$KAFKA_CONFIG_DIR/server.properties"
LOG4J_PROPERTIES="$KAFKA_CONFIG_DIR/log4j.properties"

# The configuration is written at every start, so changed env takes effect
# on a reused data directory (the cluster id must stay the same).
{
  cat <<PROPS
# generated by weir-kafka entrypoint at $(date -u +%Y-%m-%dT%H:%M:%SZ); edits are overwritten
process.roles=broker,controller
node.id=$KAFKA_NODE_ID
controller.quorum.voters=$KAFKA_NODE_ID@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_LISTEN_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_LISTEN_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_ADVERTISED_HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_LOG_DIRS
num.partitions=$KAFKA_NUM_PARTITIONS
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=$KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=$KAFKA_AUTO_CREATE_TOPICS
delete.topic.enable=true
num.network.threads=3
num.io.threads=8
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
PROPS
  if [ -n "$KAFKA_EXTRA_PROPERTIES" ]; then
    echo "# KAFKA_EXTRA_PROPERTIES"
    for kv in $KAFKA_EXTRA_PROPERTIES; do
      [[ "$kv" == *=* ]] || die "KAFKA_EXTRA_PROPERTIES: '$kv' is not key=value"
      printf '%s\n' "$kv"
    done
  fi
} >"$SERVER_PROPERTIES.tmp"
mv -f "$SERVER_PROPERTIES.tmp" "$SERVER_PROPERTIES"

cat >"$LOG4J_PROPERTIES" <<L4J
log4j.rootLogger=$KAFKA_LOG_LEVEL, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# the readiness line "Kafka Server started" comes from this logger
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
L4J

# Format the storage once (KRaft needs meta.properties in every log dir).
need_format=0
for d in "${log_dirs[@]}"; do [ -s "$d/meta.properties" ] || need_format=1; done
if [ "$need_format" -eq 1 ]; then
  log "formatting $KAFKA_LOG_DIRS (cluster id $KAFKA_CLUSTER_ID)"
  # shellcheck disable=SC2086
  "$JAVA" -Xmx256m ${KAFKA_OPTS} -Dlog4j.configuration="file:$(tools_log4j)" -cp "$LIBS/*" \
    kafka.tools.StorageTool format --ignore-formatted -t "$KAFKA_CLUSTER_ID" -c "$SERVER_PROPERTIES" >&2 \
    || die "kafka-storage format failed"
fi

log "starting Kafka broker: PLAINTEXT://$KAFKA_LISTEN_HOST:$KAFKA_PORT (advertised $KAFKA_ADVERTISED_HOST:$KAFKA_PORT), controller :$KAFKA_CONTROLLER_PORT, data $KAFKA_LOG_DIRS"
# shellcheck disable=SC2086 # option lists
exec "$JAVA" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_OPTS \
  -Dlog4j.configuration="file:$LOG4J_PROPERTIES" \
  -cp "$LIBS/*" kafka.Kafka "$SERVER_PROPERTIES"
