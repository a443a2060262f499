#!/usr/bin/env bash
# Starts or stops the local dev stack: Kafka (KRaft, one node) and TimescaleDB,
# as containers on the host network with data kept in named volumes.
#
#   bash scripts/stack.sh up [--no-migrate]   start (idempotent), apply migrations, print endpoints
#   bash scripts/stack.sh down [--purge]      stop; --purge also deletes the data volumes
#   bash scripts/stack.sh status
#
# Settings (environment):
#   WEIR_STACK_NAME        container/volume name prefix        (default weir)
#   WEIR_STACK_KAFKA_PORT  Kafka PLAINTEXT port on 127.0.0.1   (default 9092; the controller uses port+1)
#   WEIR_STACK_PG_PORT     PostgreSQL port on 127.0.0.1        (default 5432)
#   WEIR_STACK_KAFKA_IMAGE / WEIR_STACK_TIMESCALE_IMAGE        (default weir/kafka:3.9, weir/timescaledb:17)
set -euo pipefail
cd "$(dirname "$0")/.."

name=${WEIR_STACK_NAME:-weir}
kport=${WEIR_STACK_KAFKA_PORT:-9092}
cport=$((kport + 1))
pgport=${WEIR_STACK_PG_PORT:-5432}
kimage=${WEIR_STACK_KAFKA_IMAGE:-weir/kafka:3.9}
pimage=${WEIR_STACK_TIMESCALE_IMAGE:-weir/timescaledb:17}
db_url="postgresql://weir:weir@127.0.0.1:${pgport}/weir"

# The container's state (running, exited, ...) or "absent"; docker prints an empty line for a
# missing container before failing, so only a successful answer counts.
state() {
  local s
  if s=$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null) && [ -n "$s" ]; then echo "$s"; else echo absent; fi
}

# Waits until the container has logged its readiness line since it last started.
wait_log() {
  local container=$1 pattern=$2 since=$3 deadline=$((SECONDS + 120))
  until docker logs --since "$since" "$container" 2>&1 | grep -q "$pattern"; do
    if [ "$(state "$container")" != running ]; then
      echo "weir: $container stopped while starting; its last log lines:" >&2
      docker logs --tail 30 "$container" >&2 || true
      exit 1
    fi
    if [ $SECONDS -gt $deadline ]; then echo "weir: $container not ready after 120 s" >&2; docker logs --tail 30 "$container" >&2; exit 1; fi
    sleep 0.5
  done
}

start_container() {
  local container=$1 pattern=$2; shift 2
  local since
  since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  case "$(state "$container")" in
    running) echo "$container already running"; return ;;
    absent) docker run -d --name "$container" --network host --restart unless-stopped "$@" >/dev/null ;;
    *) docker start "$container" >/dev/null ;;
  esac
  wait_log "$container" "$pattern" "$since"
  echo "$container ready"
}

up() {
  local migrate=1
  [ "${1:-}" = --no-migrate ] && migrate=0
  bash scripts/ensure-docker.sh
  bash deploy/images/build.sh
  start_container "$name-timescaledb" "ready to accept connections" \
    -e PGPORT="$pgport" -e POSTGRES_USER=weir -e POSTGRES_PASSWORD=weir -e POSTGRES_DB=weir \
    -v "$name-pgdata:/var/lib/postgresql/data" "$pimage"
  start_container "$name-kafka" "Kafka Server started" \
    -e KAFKA_PORT="$kport" -e KAFKA_CONTROLLER_PORT="$cport" -e KAFKA_ADVERTISED_HOST=127.0.0.1 \
    -v "$name-kafka-data:/var/lib/kafka/data" "$kimage"
  if [ "$migrate" = 1 ]; then
    bash scripts/bootstrap.sh
    NX_DAEMON=false NX_NO_CLOUD=true npx nx run @weir/timescale:build --outputStyle=static >/dev/null
    WEIR_DATABASE__URL="$db_url" node libs/timescale/dist/cli/migrate.js up
  fi
  cat <<INFO

Weir dev stack is up:
  Kafka bootstrap servers   127.0.0.1:${kport}
  TimescaleDB               ${db_url}
  psql                      psql ${db_url}
  stop with                 npm run stack:down   (add -- --purge to delete the data)
INFO
}

down() {
  for c in "$name-kafka" "$name-timescaledb"; do
    [ "$(state "$c")" = absent ] || { docker stop -t 30 "$c" >/dev/null; docker rm "$c" >/dev/null; echo "$c stopped and removed"; }
  done
  if [ "${1:-}" = --purge ]; then
    docker volume rm -f "$name-pgdata" "$name-kafka-data" >/dev/null 2>&1 || true
    echo "data volumes removed"
  fi
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  status) for c in "$name-kafka" "$name-timescaledb"; do echo "$c: $(state "$c")"; done ;;
  *) echo "usage: $0 up [--no-migrate] | down [--purge] | status" >&2; exit 2 ;;
esac
