#!/usr/bin/env bash
# Makes sure a pinned Helm 3 binary exists and prints its path on stdout.
#
# Helm is neither in Debian nor on npm, so it is built from its Go module
# (`go install helm.sh/helm/v3/cmd/helm@$WEIR_HELM_VERSION`) into a cache:
#   ${WEIR_CACHE_DIR:-$HOME/.cache/weir}/bin/helm-<version>   (a second run takes no time)
#
# Go: `go` on PATH or /usr/local/go/bin/go; when neither exists and we are root,
# Debian's golang-go is installed. A Go older than Helm's go.mod asks for is
# upgraded by Go itself (GOTOOLCHAIN=auto fetches the toolchain module from the
# Go module proxy; needs Go >= 1.21). Exits non-zero with the precise reason
# when Helm cannot be built.
#
# Environment: WEIR_HELM_VERSION (default below), WEIR_CACHE_DIR, GOPROXY (Go's default).
set -euo pipefail

HELM_VERSION="${WEIR_HELM_VERSION:-v3.21.4}"
CACHE_DIR="${WEIR_CACHE_DIR:-${HOME:-/root}/.cache/weir}"
BIN_DIR="$CACHE_DIR/bin"
TARGET="$BIN_DIR/helm-$HELM_VERSION"

log() { printf '[ensure-helm] %s\n' "$*" >&2; }
die() { printf '[ensure-helm] ERROR: %s\n' "$*" >&2; exit 1; }

if [ -x "$TARGET" ] && "$TARGET" version --short >/dev/null 2>&1; then
  echo "$TARGET"
  exit 0
fi

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go; return; fi
  if [ -x /usr/lib/go/bin/go ]; then echo /usr/lib/go/bin/go; return; fi
  return 1
}

GO="$(find_go || true)"
if [ -z "$GO" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "go not found: apt-get install -y golang-go"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 || die "apt-get update failed (is deb.debian.org reachable?)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go </dev/null >&2 || die "apt-get install golang-go failed"
    GO="$(find_go || true)"
  fi
  [ -n "$GO" ] || die "Go is needed to build Helm $HELM_VERSION and was not found (no go on PATH or in /usr/local/go/bin); install Debian's golang-go as root, or Go >= 1.21 from go.dev"
fi

GO_VERSION="$("$GO" env GOVERSION 2>/dev/null || "$GO" version | awk '{print $3}')"
case "$GO_VERSION" in
  go1.1[0-9]*|go1.20*|go1.[0-9]|go1.[0-9].*)
    die "Go $GO_VERSION ($GO) is too old to build Helm $HELM_VERSION and cannot fetch a newer toolchain by itself (that needs Go >= 1.21); install golang-1.22 or newer (Debian bookworm-backports, trixie) or Go from go.dev" ;;
esac

mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.helm.lock"
flock -w 1800 9 || die "timed out waiting for $BIN_DIR/.helm.lock"
# Another run may have built it while we waited.
if [ -x "$TARGET" ] && "$TARGET" version --short >/dev/null 2>&1; then echo "$TARGET"; exit 0; fi

tmp="$(mktemp -d "$BIN_DIR/.helm-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log "building helm $HELM_VERSION with $GO_VERSION (go install from the Go module proxy; a few minutes the first time)"
GOBIN="$tmp" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOFLAGS=-mod=mod CGO_ENABLED=0 \
  "$GO" install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2 \
  || die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed (is the Go module proxy ${GOPROXY:-https://proxy.golang.org} reachable?)"
[ -x "$tmp/helm" ] || die "go install finished but produced no helm binary"
mv "$tmp/helm" "$TARGET"
ln -sfn "helm-$HELM_VERSION" "$BIN_DIR/helm"
log "helm $("$TARGET" version --short) at $TARGET"
echo "$TARGET"
