#!/usr/bin/env bash
# The README's first command: brings the platform up on this machine.
# For now that is the dev stack (Kafka + TimescaleDB) with migrations applied;
# services join it as they are built.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/stack.sh up
