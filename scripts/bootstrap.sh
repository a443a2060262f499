#!/usr/bin/env bash
# Installs the workspace's npm dependencies when they are missing or out of date.
# Needs Node.js >= 20.19 and npm; says so precisely when they are not there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "weir: Node.js >= 20.19 with npm is required and was not found on PATH." >&2
  echo "      On Debian: apt-get install -y nodejs npm (or use the NodeSource packages for Node 20/22)." >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "weir: Node.js >= 20.19 is required; found $(node --version)." >&2
  exit 1
fi

# npm ci only when the lock file changed since the last install here.
stamp=node_modules/.weir-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "weir: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
