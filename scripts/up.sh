#!/usr/bin/env bash
# The README's first command: brings the whole platform up on this machine.
#   1. npm dependencies, a Docker engine and the local images (as npm test does);
#   2. the dev stack: Kafka + TimescaleDB, migrations applied (scripts/stack.sh);
#   3. every service built;
#   4. the plant simulator and every service as processes (tools/platform/up.ts),
#      with where to look printed; Ctrl-C stops them (the stack keeps running:
#      npm run stack:down).
# Settings: WEIR_STACK_* (scripts/stack.sh), WEIR_UP_STATE_DIR (.weir/platform),
# WEIR_UP_OPCUA_PORT (4840), WEIR_UP_OPS_PORT_BASE (9470), WEIR_UP_API_PORT (8080),
# WEIR_UP_SYSLOG_PORT (5514), WEIR_UP_HTTP_PORT (8088).
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
bash scripts/bootstrap.sh
bash scripts/stack.sh up
echo "weir up: building the services"
npx nx run-many -t build --outputStyle=static >/dev/null
export WEIR_UP_KAFKA_BROKERS="127.0.0.1:${WEIR_STACK_KAFKA_PORT:-9092}"
export WEIR_UP_DATABASE_URL="postgresql://weir:weir@127.0.0.1:${WEIR_STACK_PG_PORT:-5432}/weir"
exec npx tsx tools/platform/up.ts
