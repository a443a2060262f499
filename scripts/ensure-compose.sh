#!/usr/bin/env bash
# Makes sure a Docker Compose command exists and prints it on stdout:
# `docker compose` (the v2 plugin) when the Docker CLI has it, else
# `docker-compose`; when neither is there and we are root, Debian's
# docker-compose package is installed. Exits non-zero, saying what is
# missing, when none can be had. Validating a file needs no Docker engine.
set -euo pipefail

log() { printf '[ensure-compose] %s\n' "$*" >&2; }
die() { printf '[ensure-compose] ERROR: %s\n' "$*" >&2; exit 1; }

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  echo "docker compose"; exit 0
fi
if command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
  echo "docker-compose"; exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "no docker compose / docker-compose: apt-get install -y docker-compose"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 || die "apt-get update failed (is deb.debian.org reachable?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose </dev/null >&2 || die "apt-get install docker-compose failed"
  command -v docker-compose >/dev/null 2>&1 || die "docker-compose still missing after installing the package"
  echo "docker-compose"; exit 0
fi
die "neither 'docker compose' nor 'docker-compose' is installed, and installing Debian's docker-compose needs root and apt-get"
