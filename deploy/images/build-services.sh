#!/usr/bin/env bash
# Builds the service images weir/<service>:<tag> from services/<service>/Dockerfile
# (the repository root is the context). Services without src/main.ts yet are
# skipped and named. All images share their first stages (npm ci, one tsc -b of
# the workspace), so the second and later images take seconds.
#
# Usage: deploy/images/build-services.sh [--node-image IMAGE] [--tag TAG] [SERVICE...]
#   --node-image  base image (default $WEIR_NODE_IMAGE, else weir/node:20 when it
#                 exists locally - no registry - else node:20-bookworm-slim)
#   --tag         image tag (default $WEIR_TAG, else dev)
#   SERVICE       names under services/ (default: every one with a Dockerfile)
#
# All images are built from one snapshot of the workspace taken at the start
# (what .dockerignore lets through), so they hold the same sources even while
# files change, and the shared npm ci / tsc -b layers are reused by each image.
#
# A CA bundle named by NODE_EXTRA_CA_CERTS (a TLS-inspecting proxy) is copied to
# deploy/images/service/ca-certificates/ of the snapshot so npm trusts it inside
# the build (the working tree is not touched).
# Docker builds use --network host (the engine may run without a bridge).
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[build-services +%ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[build-services] ERROR: %s\n' "$*" >&2; exit 1; }

node_image="${WEIR_NODE_IMAGE:-}"
tag="${WEIR_TAG:-dev}"
services=()
while [ $# -gt 0 ]; do
  case "$1" in
    --node-image) node_image="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) services+=("$1"); shift ;;
  esac
done
command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/ensure-docker.sh)"
if [ -z "$node_image" ]; then
  if docker image inspect weir/node:20 >/dev/null 2>&1; then node_image=weir/node:20; else node_image=node:20-bookworm-slim; fi
fi
if [ "${#services[@]}" -eq 0 ]; then
  for d in services/*/; do d="${d%/}"; [ -f "$d/Dockerfile" ] && services+=("${d#services/}"); done
fi


# One snapshot of the build context for every image.
snapshot=$(mktemp -d "${TMPDIR:-/tmp}/weir-build-context.XXXXXX")
trap 'rm -rf "$snapshot"' EXIT
tar -c --exclude=node_modules --exclude=dist --exclude='*.tsbuildinfo' \
    package.json package-lock.json .npmrc .dockerignore tsconfig.base.json tsconfig.build.json libs services deploy/images/service \
  | tar -x -C "$snapshot"
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$snapshot/deploy/images/service/ca-certificates/node-extra-ca-certs.pem"
fi

# dockerd 20.10 without the buildx plugin: the classic builder.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi

built=() skipped=()
for s in "${services[@]}"; do
  [ -f "$snapshot/services/$s/Dockerfile" ] || die "services/$s/Dockerfile does not exist"
  if [ ! -f "$snapshot/services/$s/src/main.ts" ]; then skipped+=("$s"); log "skipping $s: services/$s/src/main.ts does not exist yet"; continue; fi
  log "docker build weir/$s:$tag (base $node_image)"
  out=$(mktemp)
  if ! docker build --network host --build-arg "NODE_IMAGE=$node_image" -f "$snapshot/services/$s/Dockerfile" -t "weir/$s:$tag" "$snapshot" >"$out" 2>&1; then
    tail -n 40 "$out" >&2; rm -f "$out"; die "docker build of weir/$s:$tag failed"
  fi
  rm -f "$out"
  built+=("$s")
done
log "built: ${built[*]:-none}; skipped (no src/main.ts): ${skipped[*]:-none}"
