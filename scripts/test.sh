#!/usr/bin/env bash
# The test command: installs what is missing, then lint, typecheck, unit and
# integration tests against a real Kafka and TimescaleDB, then the libraries'
# integration tests again against the dev stack used as external endpoints.
#
#   WEIR_TEST_KAFKA_BROKERS / WEIR_TEST_DATABASE_URL  use existing servers instead
#       of containers (then no Docker is needed and the external pass is skipped).
#   WEIR_TEST_SKIP_EXTERNAL_PASS=1  skip the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_SKIP_NX_CACHE=${NX_SKIP_NX_CACHE:-false}
export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1} TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
started=$(date +%s)
log=$(mktemp -t weir-test.XXXXXX)
trap 'rm -f "$log"' EXIT

stage() { echo; echo "==> $* ($(( $(date +%s) - started )) s)"; }

stage "dependencies"
bash scripts/bootstrap.sh

external=0
if [ -n "${WEIR_TEST_KAFKA_BROKERS:-}" ] && [ -n "${WEIR_TEST_DATABASE_URL:-}" ]; then
  external=1
  # Tests that stop and restart servers of their own need Docker; say so rather than fail.
  if ! docker info >/dev/null 2>&1; then export WEIR_TEST_NO_DOCKER=1; echo "no Docker engine: outage tests (servers stopped mid-stream) will be skipped"; fi
  echo "using external Kafka ${WEIR_TEST_KAFKA_BROKERS} and TimescaleDB from WEIR_TEST_DATABASE_URL"
else
  stage "Docker engine and local images"
  bash scripts/ensure-docker.sh
  bash deploy/images/build.sh
fi

stage "lint"
npx nx run-many -t lint --outputStyle=static
stage "typecheck"
npx tsc -p tsconfig.json --noEmit
stage "build"
npx nx run-many -t build --outputStyle=static

stage "unit and integration tests"
set +e
npx vitest run 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
set -e

if [ "$external" = 0 ] && [ "${WEIR_TEST_SKIP_EXTERNAL_PASS:-0}" != 1 ] && [ "$status" = 0 ]; then
  stage "library integration tests against external endpoints (the dev stack)"
  # Ports below the kernel's ephemeral range (32768-60999): the first pass's containers and
  # servers take free ports from that range, and one may still hold it for a moment.
  export WEIR_STACK_NAME=weir-test-external WEIR_STACK_KAFKA_PORT=${WEIR_STACK_KAFKA_PORT:-29092} WEIR_STACK_PG_PORT=${WEIR_STACK_PG_PORT:-25432}
  bash scripts/stack.sh down --purge >/dev/null 2>&1 || true
  bash scripts/stack.sh up --no-migrate
  set +e
  WEIR_TEST_KAFKA_BROKERS=127.0.0.1:$WEIR_STACK_KAFKA_PORT WEIR_TEST_DATABASE_URL=postgresql://weir:weir@127.0.0.1:$WEIR_STACK_PG_PORT/weir \
    npx vitest run --project int libs/ 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
  set -e
  bash scripts/stack.sh down --purge
fi

# One closing line for the whole run: the sum of every pass's own summary.
awk '/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ { p += $1; f += $3; s += $5; n++ }
     END { if (n == 0) { print "0 passed, 1 failed, 0 skipped"; exit } print p " passed, " f " failed, " s " skipped" }' \
  <(sed 's/\x1b\[[0-9;]*m//g' "$log") > "$log.sum"
echo
echo "test run took $(( $(date +%s) - started )) s"
cat "$log.sum"
failed=$(cut -d' ' -f3 "$log.sum"); rm -f "$log.sum"
[ "$status" = 0 ] && [ "$failed" = 0 ]
