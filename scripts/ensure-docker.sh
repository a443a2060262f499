#!/usr/bin/env bash
# Make sure a Docker engine is installed and answering `docker info`.
#
# Idempotent and unattended (root, no TTY, CI=true):
#   - `docker info` already works            -> exit 0 (debootstrap is still ensured)
#   - docker.io / debootstrap missing          -> apt-get install them
#   - dockerd installed but not running        -> start it in the background:
#       dockerd --bridge=none --iptables=false --ip-masq=false
#     (this machine has no usable bridge network: containers use --network host)
#   - wait up to ${WEIR_DOCKER_WAIT_SECONDS:-60} s for `docker info`.
#
# Log of a dockerd started here: ${XDG_STATE_HOME:-$HOME/.local/state}/weir/dockerd.log
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*" >&2; }
die() { printf '[ensure-docker] ERROR: %s\n' "$*" >&2; exit 1; }

WAIT_SECONDS="${WEIR_DOCKER_WAIT_SECONDS:-60}"
STATE_DIR="${XDG_STATE_HOME:-${HOME:-/root}/.local/state}/weir"
DOCKERD_LOG="${STATE_DIR}/dockerd.log"

if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else SUDO=(); fi

apt_updated=0
apt_install() {
  # $@: packages
  command -v apt-get >/dev/null 2>&1 \
    || die "apt-get not found: install these by hand: $*"
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    die "need root (or passwordless sudo) to install: $*"
  fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null \
      || die "apt-get update failed (is deb.debian.org reachable?)"
    apt_updated=1
  fi
  log "apt-get install -y $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null \
    || die "apt-get install $* failed"
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

# debootstrap is needed by deploy/images/build.sh whatever the state of Docker.
if ! have debootstrap; then
  apt_install debootstrap
fi

if have docker && docker info >/dev/null 2>&1; then
  log "docker is running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

if ! have dockerd || ! have docker; then
  apt_install docker.io
fi
have dockerd || die "dockerd still not found after installing docker.io"
have docker  || die "docker CLI still not found after installing docker.io"

# Installing docker.io may have started the engine through the init system.
if docker info >/dev/null 2>&1; then
  log "docker is running"
  exit 0
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  log "dockerd process exists but 'docker info' fails; waiting for it"
else
  [ "$(id -u)" -eq 0 ] || die "dockerd is not running and starting it needs root"
  mkdir -p "$STATE_DIR"
  # A stale pid file from a dead daemon makes dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid 2>/dev/null)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd --bridge=none --iptables=false --ip-masq=false (log: $DOCKERD_LOG)"
  DOCKERD="$(command -v dockerd || echo /usr/sbin/dockerd)"
  nohup "$DOCKERD" --bridge=none --iptables=false --ip-masq=false \
    >>"$DOCKERD_LOG" 2>&1 </dev/null &
  disown || true
fi

for ((i = 0; i < WAIT_SECONDS; i++)); do
  if docker info >/dev/null 2>&1; then
    log "docker is running after ${i}s ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    exit 0
  fi
  sleep 1
done

log "last lines of $DOCKERD_LOG:"
tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
die "docker engine did not answer 'docker info' within ${WAIT_SECONDS}s (dockerd: $(command -v dockerd || echo missing); see $DOCKERD_LOG)"
