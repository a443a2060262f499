#!/usr/bin/env bash
# Runs the benchmarks (all, or those named) and records them in bench/results.json.
#   bash bench/run.sh                      every benchmark
#   bash bench/run.sh kafka-consumer-vs-bare
# Each benchmark starts its own Kafka/TimescaleDB (or uses WEIR_TEST_KAFKA_BROKERS /
# WEIR_TEST_DATABASE_URL), runs ours and the baseline alternately and prints a
# markdown row for bench/RESULTS.md. Not part of the test suite; never asserts timings.
set -euo pipefail
cd "$(dirname "$0")/.."
export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1} TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
bash scripts/bootstrap.sh
if [ -z "${WEIR_TEST_KAFKA_BROKERS:-}" ] || [ -z "${WEIR_TEST_DATABASE_URL:-}" ]; then
  bash scripts/ensure-docker.sh
  bash deploy/images/build.sh
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in bench/*.ts; do names+=("$(basename "$f" .ts)"); done
fi
for n in "${names[@]}"; do
  echo "==> bench/$n.ts"
  npx tsx "bench/$n.ts"
done
