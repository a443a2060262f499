#!/usr/bin/env bash
# Build Weir's local dev/test container images from scratch (no registry):
#
#   weir/timescaledb:17  PostgreSQL 17 + TimescaleDB (Debian trixie packages)
#   weir/kafka:3.9       Apache Kafka 3.9.2 broker, KRaft single node (jars from Maven Central)
#   weir/node:20         Node.js 20 + npm (Debian trixie packages): the base of the service images
#                        where the official node image cannot be pulled (services/*/Dockerfile)
#
# Both start from one Debian trixie minbase root filesystem made with
# debootstrap and cached under ${WEIR_CACHE_DIR:-$HOME/.cache/weir}; each image
# copies it (cp -a), installs its packages with `chroot apt-get`, and is loaded
# with `tar | docker import`.
#
# An image is skipped when `docker image inspect NAME` finds it and its
# weir.recipe label matches the current recipe (a hash of the entrypoints, the
# pom and RECIPE_VERSION below) - so editing an entrypoint rebuilds that image.
#
# Usage: deploy/images/build.sh [--force] [--refresh-base] [TARGET...]
#   TARGET       timescaledb | kafka | node | kafka-dist | all (default: all = timescaledb + kafka)
#                kafka-dist only stages the host-runnable Kafka directory
#                ($WEIR_CACHE_DIR/kafka-3.9.2: libs/ + bin/entrypoint.sh), no Docker needed
#   --force         rebuild the images even if present (reuses the cached base rootfs)
#   --refresh-base  debootstrap the base root filesystem again
#
# Environment: WEIR_CACHE_DIR, WEIR_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              WEIR_DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security)
# Needs root (debootstrap, chroot, mount), docker, debootstrap; mvn for Kafka
# (installed with apt-get when missing). Run scripts/ensure-docker.sh first.
set -euo pipefail

RECIPE_VERSION=1
KAFKA_VERSION=3.9.2
TIMESCALEDB_IMAGE="${WEIR_TIMESCALEDB_IMAGE:-weir/timescaledb:17}"
KAFKA_IMAGE="${WEIR_KAFKA_IMAGE:-weir/kafka:3.9}"
NODE_IMAGE="${WEIR_NODE_IMAGE:-weir/node:20}"
SUITE=trixie
MIRROR="${WEIR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${WEIR_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${WEIR_CACHE_DIR:-${HOME:-/root}/.cache/weir}"
BASE_DIR="$CACHE_DIR/rootfs/$SUITE-minbase"
KAFKA_DIST="$CACHE_DIR/kafka-$KAFKA_VERSION"
BUILD_LOG="$CACHE_DIR/build.log"
T0=$SECONDS

log() { printf '[build-images +%ss] %s\n' "$((SECONDS - T0))" "$*" >&2; }
die() { printf '[build-images] ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
REFRESH_BASE=0
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --refresh-base) REFRESH_BASE=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    timescaledb|kafka|node|kafka-dist) TARGETS+=("$arg") ;;
    all) TARGETS+=(timescaledb kafka) ;;
    *) die "unknown argument '$arg' (see --help)" ;;
  esac
done
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(timescaledb kafka)

recipe_hash() { # $1 = image kind
  case "$1" in
    timescaledb) { echo "v$RECIPE_VERSION $SUITE"; cat "$HERE/timescaledb/entrypoint.sh"; } | sha256sum | cut -c1-16 ;;
    kafka) { echo "v$RECIPE_VERSION $SUITE $KAFKA_VERSION"; cat "$HERE/kafka/entrypoint.sh" "$HERE/kafka/pom.xml"; } | sha256sum | cut -c1-16 ;;
    node) { echo "v$RECIPE_VERSION $SUITE"; declare -f build_node; } | sha256sum | cut -c1-16 ;;
  esac
}

image_current() { # $1 = image name, $2 = kind
  local have
  have="$(docker image inspect --format '{{ index .Config.Labels "weir.recipe" }}' "$1" 2>/dev/null)" || return 1
  if [ "$have" != "$(recipe_hash "$2")" ]; then
    log "$1 exists but was built from another recipe ($have); rebuilding"
    return 1
  fi
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "building images needs root (debootstrap, chroot, mount); re-run as root"
}

# ---------------------------------------------------------------- chroot helpers
MOUNTS=()
WORKDIRS=()
cleanup() {
  local m d
  for m in "${MOUNTS[@]}"; do
    mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
  done
  for d in "${WORKDIRS[@]}"; do
    if [ -d "$d" ] && ! mountpoint -q "$d/proc" 2>/dev/null; then rm -rf --one-file-system "$d"; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_proc() { # $1 = rootfs
  mountpoint -q "$1/proc" || mount -t proc proc "$1/proc"
  MOUNTS+=("$1/proc")
}
umount_proc() {
  if mountpoint -q "$1/proc"; then umount "$1/proc" || umount -l "$1/proc"; fi
}

in_chroot() { # $1 = rootfs, rest = command
  local root="$1"; shift
  chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    "$@" </dev/null
}

apt_in() { # $1 = rootfs, rest = apt-get args; output goes to $BUILD_LOG
  local root="$1"; shift
  echo "+ chroot $root apt-get $*" >>"$BUILD_LOG"
  in_chroot "$root" apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" \
    >>"$BUILD_LOG" 2>&1 \
    || { tail -n 30 "$BUILD_LOG" >&2; log "apt-get $* failed in $root (full log: $BUILD_LOG)"; return 1; }
}

pkg_version() { # $1 = rootfs, $2 = package
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's format
  in_chroot "$1" dpkg-query -W -f '${Version}' "$2"
}

slim_rootfs() { # $1 = rootfs
  local r="$1"
  in_chroot "$r" apt-get clean
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/debconf/*-old \
         "$r"/var/log/apt/* "$r"/var/log/dpkg.log "$r"/var/log/alternatives.log \
         "$r"/tmp/* "$r"/var/tmp/* "$r"/root/.cache
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  # keep the directories: update-alternatives (e.g. the JRE's) links man pages into them
  find "$r/usr/share/man" "$r/usr/share/info" -mindepth 1 -not -type d -delete 2>/dev/null || true
  mkdir -p "$r"/usr/share/man/man{1,5,7,8}
  rm -rf "$r/usr/share/lintian"
  : >"$r/etc/resolv.conf"
}

# ---------------------------------------------------------------- base rootfs
ensure_base() {
  if [ "$REFRESH_BASE" -eq 0 ] && [ -f "$BASE_DIR/.weir-base-complete" ]; then
    log "using cached base rootfs $BASE_DIR"
    return
  fi
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] \
    || die "debootstrap is not installed (run scripts/ensure-docker.sh, or apt-get install -y debootstrap)"
  local tmp="$CACHE_DIR/rootfs/.tmp-$SUITE-minbase.$$"
  WORKDIRS+=("$tmp")
  mkdir -p "$CACHE_DIR/rootfs"
  log "debootstrap --variant=minbase $SUITE $tmp $MIRROR"
  debootstrap --variant=minbase "$SUITE" "$tmp" "$MIRROR" >"$CACHE_DIR/rootfs/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE_DIR/rootfs/debootstrap.log" >&2; die "debootstrap of $SUITE failed (is $MIRROR reachable? log: $CACHE_DIR/rootfs/debootstrap.log)"; }

  cat >"$tmp/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  cat >"$tmp/etc/apt/apt.conf.d/90weir" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  mkdir -p "$tmp/etc/dpkg/dpkg.cfg.d"
  cat >"$tmp/etc/dpkg/dpkg.cfg.d/90weir-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/lintian/*
EOF
  # Never start services inside the chroot (invoke-rc.d honours this).
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"

  cp -L /etc/resolv.conf "$tmp/etc/resolv.conf"
  mount_proc "$tmp"
  log "base: apt-get update && upgrade (security updates)"
  apt_in "$tmp" update || die "apt-get update failed in the base rootfs"
  apt_in "$tmp" dist-upgrade || die "apt-get dist-upgrade failed in the base rootfs"
  umount_proc "$tmp"
  slim_rootfs "$tmp"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$tmp/.weir-base-complete"

  rm -rf --one-file-system "$BASE_DIR"
  mv "$tmp" "$BASE_DIR"
  REFRESH_BASE=0
  log "base rootfs ready: $BASE_DIR ($(du -sh "$BASE_DIR" | cut -f1))"
}

new_rootfs() { # $1 = directory to fill with a fresh copy of the base
  local dir="$1"
  rm -rf --one-file-system "$dir"
  mkdir -p "$CACHE_DIR/build"
  cp -a "$BASE_DIR" "$dir"
  rm -f "$dir/.weir-base-complete"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
}

import_rootfs() { # $1 = rootfs, $2 = image name, rest = --change arguments
  local root="$1" name="$2"; shift 2
  umount_proc "$root"
  mountpoint -q "$root/proc" && die "$root/proc still mounted"
  local changes=() c
  for c in "$@"; do changes+=(-c "$c"); done
  local old
  old="$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)"
  log "docker import -> $name ($(du -sh "$root" | cut -f1) uncompressed)"
  tar --numeric-owner --xattrs -C "$root" -c . \
    | docker import "${changes[@]}" - "$name" >/dev/null \
    || die "docker import of $name failed"
  # Drop the image this one replaces, unless a container still uses it.
  if [ -n "$old" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

# ---------------------------------------------------------------- timescaledb
build_timescaledb() {
  local root
  root="$CACHE_DIR/build/timescaledb.$$"
  WORKDIRS+=("$root")
  new_rootfs "$root"
  mount_proc "$root"
  log "timescaledb: apt-get install postgresql-17 postgresql-17-timescaledb"
  apt_in "$root" update || die "apt-get update failed in the chroot"
  apt_in "$root" install postgresql-common || die "installing postgresql-common failed"
  # No default cluster: the entrypoint runs initdb in $PGDATA.
  sed -i 's/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/' \
    "$root/etc/postgresql-common/createcluster.conf"
  apt_in "$root" install postgresql-17 postgresql-17-timescaledb \
    || die "installing postgresql-17 postgresql-17-timescaledb in the $SUITE chroot failed"
  local pgver tsver
  pgver="$(pkg_version "$root" postgresql-17)"
  tsver="$(pkg_version "$root" postgresql-17-timescaledb)"
  log "timescaledb: postgresql-17 $pgver, timescaledb $tsver"

  install -m 755 "$HERE/timescaledb/entrypoint.sh" "$root/usr/local/bin/weir-entrypoint.sh"
  mkdir -p "$root/var/run/postgresql" "$root/var/lib/postgresql/data"
  in_chroot "$root" chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql
  chmod 2775 "$root/var/run/postgresql"
  chmod 700 "$root/var/lib/postgresql/data"
  slim_rootfs "$root"

  import_rootfs "$root" "$TIMESCALEDB_IMAGE" \
    'ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    'ENV PGDATA=/var/lib/postgresql/data' \
    'EXPOSE 5432' \
    "LABEL weir.recipe=$(recipe_hash timescaledb) weir.postgresql=$pgver weir.timescaledb=$tsver" \
    'ENTRYPOINT ["/usr/local/bin/weir-entrypoint.sh"]'
  rm -rf --one-file-system "$root"
}

# ---------------------------------------------------------------- kafka
ensure_mvn() {
  command -v mvn >/dev/null 2>&1 && return
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "mvn not found: apt-get install -y maven"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven </dev/null >/dev/null \
      || die "could not install maven"
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Apache Maven) is needed to fetch the Kafka jars from Maven Central"
}

ensure_kafka_dist() {
  if [ ! -f "$KAFKA_DIST/.weir-dist-complete" ] \
     || ! cmp -s "$HERE/kafka/pom.xml" "$KAFKA_DIST/pom.xml"; then
    ensure_mvn
    local tmp="$KAFKA_DIST.tmp.$$"
    WORKDIRS+=("$tmp")
    rm -rf "$tmp"
    mkdir -p "$tmp/libs" "$tmp/bin"
    log "kafka: mvn dependency:copy-dependencies (Kafka $KAFKA_VERSION from Maven Central)"
    # -f on a copy of the pom: Maven leaves nothing behind in the repository.
    cp "$HERE/kafka/pom.xml" "$tmp/pom.xml"
    (cd "$tmp" && mvn -B -q -f pom.xml dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp/libs" </dev/null >>"$BUILD_LOG" 2>&1) \
      || die "mvn could not fetch the Kafka $KAFKA_VERSION jars (is Maven Central reachable?)"
    rm -rf "$tmp/target"
    [ -f "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ] \
      || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn (pom/KAFKA_VERSION mismatch?)"
    touch "$tmp/.weir-dist-complete"
    rm -rf "$KAFKA_DIST"
    mv "$tmp" "$KAFKA_DIST"
  else
    log "using cached Kafka jars $KAFKA_DIST/libs"
  fi
  install -m 755 "$HERE/kafka/entrypoint.sh" "$KAFKA_DIST/bin/entrypoint.sh"
  log "kafka: host-runnable distribution at $KAFKA_DIST ($(find "$KAFKA_DIST/libs" -name '*.jar' | wc -l) jars)"
}

build_kafka() {
  ensure_kafka_dist
  local root jre
  root="$CACHE_DIR/build/kafka.$$"
  WORKDIRS+=("$root")
  new_rootfs "$root"
  mount_proc "$root"
  apt_in "$root" update || die "apt-get update failed in the chroot"
  if in_chroot "$root" apt-cache show openjdk-21-jre-headless >/dev/null 2>&1; then
    jre=openjdk-21-jre-headless
  else
    jre=openjdk-17-jre-headless
  fi
  log "kafka: apt-get install $jre"
  apt_in "$root" install "$jre" || die "installing $jre in the $SUITE chroot failed"
  local java_home jver
  java_home="$(dirname "$(dirname "$(in_chroot "$root" readlink -f /usr/bin/java)")")"
  jver="$(pkg_version "$root" "$jre")"
  log "kafka: $jre $jver ($java_home)"

  mkdir -p "$root/opt/kafka" "$root/var/lib/kafka/data"
  cp -a "$KAFKA_DIST/libs" "$KAFKA_DIST/bin" "$root/opt/kafka/"
  slim_rootfs "$root"

  import_rootfs "$root" "$KAFKA_IMAGE" \
    "ENV PATH=$java_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV JAVA_HOME=$java_home" \
    'ENV LANG=C.UTF-8' \
    'ENV KAFKA_HOME=/opt/kafka' \
    'WORKDIR /opt/kafka' \
    'EXPOSE 9092 9093' \
    "LABEL weir.recipe=$(recipe_hash kafka) weir.kafka=$KAFKA_VERSION weir.jre=$jre-$jver" \
    'ENTRYPOINT ["/opt/kafka/bin/entrypoint.sh"]' \
    'CMD ["server"]'
  rm -rf --one-file-system "$root"
}

# ---------------------------------------------------------------- node
# A stand-in for the official node:20 image: Debian trixie's nodejs (20.x) and
# npm, a `node` user with uid/gid 1000 as in the official image, CMD node.
build_node() {
  local root
  root="$CACHE_DIR/build/node.$$"
  WORKDIRS+=("$root")
  new_rootfs "$root"
  mount_proc "$root"
  log "node: apt-get install nodejs npm ca-certificates"
  apt_in "$root" update || die "apt-get update failed in the chroot"
  apt_in "$root" install nodejs npm ca-certificates \
    || die "installing nodejs npm in the $SUITE chroot failed"
  local nodever npmver major
  nodever="$(in_chroot "$root" node --version)"
  npmver="$(in_chroot "$root" npm --version)"
  major="${nodever#v}"; major="${major%%.*}"
  [ "$major" = 20 ] || die "the $SUITE chroot has Node.js $nodever, not 20.x: pin another suite or install from elsewhere"
  log "node: Node.js $nodever, npm $npmver"
  in_chroot "$root" groupadd --gid 1000 node
  in_chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  slim_rootfs "$root"

  import_rootfs "$root" "$NODE_IMAGE" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    "ENV NODE_VERSION=${nodever#v}" \
    "LABEL weir.recipe=$(recipe_hash node) weir.node=$nodever weir.npm=$npmver" \
    'CMD ["node"]'
  rm -rf --one-file-system "$root"
}

# ---------------------------------------------------------------- main
todo=()
for t in "${TARGETS[@]}"; do
  case "$t" in
    kafka-dist) todo+=(kafka-dist) ;;
    timescaledb|kafka|node)
      command -v docker >/dev/null 2>&1 || die "docker CLI not found (run scripts/ensure-docker.sh)"
      docker info >/dev/null 2>&1 || die "docker engine not reachable (run scripts/ensure-docker.sh)"
      case "$t" in timescaledb) name="$TIMESCALEDB_IMAGE" ;; kafka) name="$KAFKA_IMAGE" ;; node) name="$NODE_IMAGE" ;; esac
      if [ "$FORCE" -eq 0 ] && image_current "$name" "$t"; then
        log "$name is present (recipe $(recipe_hash "$t")); skipping (--force rebuilds)"
      else
        todo+=("$t")
      fi
      ;;
  esac
done

if [ "${#todo[@]}" -eq 0 ]; then
  log "nothing to build"
  exit 0
fi

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_DIR/.build.lock; waiting (up to 30 min)"
  flock -w 1800 9 || die "timed out waiting for $CACHE_DIR/.build.lock"
fi
: >"$BUILD_LOG"
# Leftovers of a build that was killed (we hold the lock, so nobody uses them).
for d in "$CACHE_DIR"/build/*.* "$CACHE_DIR"/rootfs/.tmp-* "$CACHE_DIR"/kafka-*.tmp.*; do
  [ -e "$d" ] || continue
  log "removing leftover $d"
  umount_proc "$d" 2>/dev/null || true
  mountpoint -q "$d/proc" 2>/dev/null || rm -rf --one-file-system "$d"
done
log "building: ${todo[*]} (cache $CACHE_DIR, detailed log $BUILD_LOG)"

for t in "${todo[@]}"; do
  case "$t" in
    kafka-dist) ensure_kafka_dist ;;
    timescaledb)
      # Another build may have finished it while we waited for the lock.
      if [ "$FORCE" -eq 0 ] && image_current "$TIMESCALEDB_IMAGE" timescaledb; then continue; fi
      need_root; ensure_base; build_timescaledb
      log "built $TIMESCALEDB_IMAGE" ;;
    kafka)
      if [ "$FORCE" -eq 0 ] && image_current "$KAFKA_IMAGE" kafka; then continue; fi
      need_root; ensure_base; build_kafka
      log "built $KAFKA_IMAGE" ;;
    node)
      if [ "$FORCE" -eq 0 ] && image_current "$NODE_IMAGE" node; then continue; fi
      need_root; ensure_base; build_node
      log "built $NODE_IMAGE" ;;
  esac
done
log "done in $((SECONDS - T0))s"
