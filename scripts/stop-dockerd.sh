#!/usr/bin/env bash
# Stops the dockerd that scripts/bootstrap.sh started (if it started one).
set -u
pidfile="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/dockerd.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
fi
rm -f "$pidfile"
