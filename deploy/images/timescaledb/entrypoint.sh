#!/bin/bash
# Entrypoint of weir/timescaledb:17 (PostgreSQL 17 + TimescaleDB, Debian trixie).
#
# First start (empty $PGDATA): initdb as the postgres OS user, with
#   - $POSTGRES_USER as the bootstrap superuser, password $POSTGRES_PASSWORD
#   - scram-sha-256 for every host (TCP) connection, trust on the unix socket
#   - database $POSTGRES_DB created in single-user mode (no temporary server,
#     so "database system is ready to accept connections" is logged once)
# Every start: exec postgres in the foreground with listen address and port
# from the environment, plus $PG_EXTRA_ARGS and any arguments given to the
# container (e.g. `docker run ... weir/timescaledb:17 -c fsync=off`).
#
# Environment (defaults):
#   POSTGRES_USER=weir  POSTGRES_PASSWORD=weir  POSTGRES_DB=weir
#   PGPORT=5432  PGDATA=/var/lib/postgresql/data
#   PG_LISTEN_ADDRESSES=127.0.0.1
#   PG_EXTRA_ARGS=""               e.g. "-c fsync=off -c synchronous_commit=off"
#   POSTGRES_CREATE_EXTENSION=false  true: CREATE EXTENSION timescaledb in $POSTGRES_DB at init
#   POSTGRES_INITDB_ARGS=""        extra initdb arguments
set -euo pipefail

POSTGRES_USER="${POSTGRES_USER:-weir}"
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-weir}"
POSTGRES_DB="${POSTGRES_DB:-weir}"
PGPORT="${PGPORT:-5432}"
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
PG_LISTEN_ADDRESSES="${PG_LISTEN_ADDRESSES:-127.0.0.1}"
PG_EXTRA_ARGS="${PG_EXTRA_ARGS:-}"
POSTGRES_CREATE_EXTENSION="${POSTGRES_CREATE_EXTENSION:-false}"
POSTGRES_INITDB_ARGS="${POSTGRES_INITDB_ARGS:-}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/17/bin}"
PG_SOCKET_DIR="${PG_SOCKET_DIR:-/var/run/postgresql}"
export PGDATA PGPORT

log() { printf 'weir-entrypoint: %s\n' "$*" >&2; }
die() { printf 'weir-entrypoint: ERROR: %s\n' "$*" >&2; exit 1; }

[ -x "$PG_BIN/postgres" ] || die "postgres not found in $PG_BIN"
[[ "$POSTGRES_USER" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "POSTGRES_USER must be a plain identifier, got '$POSTGRES_USER'"
[[ "$POSTGRES_DB" =~ ^[A-Za-z_][A-Za-z0-9_-]*$ ]] || die "POSTGRES_DB must be a plain identifier, got '$POSTGRES_DB'"
[[ "$PGPORT" =~ ^[0-9]+$ ]] || die "PGPORT must be a number, got '$PGPORT'"

# Run a command as the postgres OS user (or as ourselves when not root,
# e.g. `docker run --user postgres`).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$PGDATA" "$PG_SOCKET_DIR"
  chown postgres:postgres "$PG_SOCKET_DIR"
  chmod 2775 "$PG_SOCKET_DIR"
  # Only touch ownership of a fresh directory (or a mount point given to us).
  if [ "$(stat -c %U "$PGDATA")" != postgres ]; then
    chown -R postgres:postgres "$PGDATA"
  fi
  chmod 700 "$PGDATA"
else
  mkdir -p "$PGDATA" "$PG_SOCKET_DIR" 2>/dev/null || true
  chmod 700 "$PGDATA" 2>/dev/null || true
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -n "$(find "$PGDATA" -mindepth 1 -maxdepth 1 ! -name lost+found -print -quit 2>/dev/null)" ]; then
    die "$PGDATA is not empty but holds no database (no PG_VERSION); refusing to initdb over it"
  fi
  log "initialising $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres "$pwfile"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words
  as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync $POSTGRES_INITDB_ARGS >/dev/null \
    || { rm -f "$pwfile"; die "initdb failed"; }
  rm -f "$pwfile"

  # TCP from anywhere (when PG_LISTEN_ADDRESSES is widened) needs a password.
  printf '%s\n' \
    '# added by weir-entrypoint: password (scram-sha-256) for any TCP client' \
    'host    all             all             all                     scram-sha-256' \
    >>"$PGDATA/pg_hba.conf"

  cat >>"$PGDATA/postgresql.conf" <<CONF

# --- weir-entrypoint ---
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
password_encryption = 'scram-sha-256'
unix_socket_directories = '$PG_SOCKET_DIR'
# listen_addresses and port are passed on the command line at every start
# (env PG_LISTEN_ADDRESSES, PGPORT); anything else via PG_EXTRA_ARGS.
CONF

  single_user_sql() {
    # postgres --single reads statements from stdin; it logs nothing like
    # "ready to accept connections", so the readiness line stays unique.
    as_postgres "$PG_BIN/postgres" --single -j -D "$PGDATA" \
      -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off \
      -c log_min_messages=warning -c log_checkpoints=off -c fsync=off "$1" >/dev/null
  }
  if [ "$POSTGRES_DB" != postgres ]; then
    printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$POSTGRES_DB" "$POSTGRES_USER" \
      | single_user_sql postgres || die "could not create database $POSTGRES_DB"
  fi
  if [ "$POSTGRES_CREATE_EXTENSION" = true ]; then
    printf 'CREATE EXTENSION IF NOT EXISTS timescaledb;\n' \
      | single_user_sql "$POSTGRES_DB" || die "could not create extension timescaledb in $POSTGRES_DB"
  fi
  log "initialised"
fi

# shellcheck disable=SC2086 # PG_EXTRA_ARGS is a list of words
set -- "$PG_BIN/postgres" -D "$PGDATA" \
  -c "listen_addresses=$PG_LISTEN_ADDRESSES" -c "port=$PGPORT" \
  $PG_EXTRA_ARGS "$@"

log "starting: $*"
# docker stop sends SIGTERM, which postgres treats as a "smart" shutdown that
# waits for every client to leave. The official image avoids that with
# STOPSIGNAL SIGINT, which `docker import` cannot set, so we stay in front of
# postgres and turn TERM into INT: a "fast" shutdown that ends sessions, rolls
# back open transactions and writes a clean checkpoint.
if [ "$(id -u)" -eq 0 ]; then
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$@" &
else
  "$@" &
fi
pg_pid=$!
trap 'kill -INT "$pg_pid" 2>/dev/null || true' TERM INT
status=0
wait "$pg_pid" || status=$?
# A trapped signal ends the first wait early; wait again for postgres to finish.
while kill -0 "$pg_pid" 2>/dev/null; do wait "$pg_pid" || status=$?; done
exit "$status"
