#!/usr/bin/env bash
# Stops the dockerd that .ci/docker-up.sh started (by its pid; an engine it did not start is left
# alone). Containers still running are stopped by dockerd on its way down.
set -uo pipefail

STATE="${MCASPEC_DOCKER_STATE:-/tmp/mcaspec-docker}"
say() { printf 'docker-down: %s\n' "$*"; }

pidfile="$STATE/dockerd.pid"
if [ ! -f "$pidfile" ]; then
  say "no dockerd started by docker-up.sh (no $pidfile); nothing to stop"
  exit 0
fi
pid=$(cat "$pidfile")
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  say "dockerd (pid ${pid:-?}) is not running"
  rm -f "$pidfile"
  exit 0
fi
say "stopping dockerd (pid $pid)"
kill -TERM "$pid"
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$pid" 2>/dev/null; then
  say "dockerd (pid $pid) still running after 30 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
say "stopped"
