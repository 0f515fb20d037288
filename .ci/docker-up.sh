#!/usr/bin/env bash
# Starts a local Docker engine for the container tests (fakeaz/container, targets/container).
#
#   bash .ci/docker-up.sh     # then: make images docker-test; finally: bash .ci/docker-down.sh
#
# - Installs Debian's docker.io when dockerd is missing (needs root and apt).
# - Starts dockerd in the background with the bridge and iptables off: containers run with host
#   networking only, so no traffic leaves loopback. Storage driver: overlay2, else vfs.
# - Waits (bounded) until `docker info` answers; writes the pid to $STATE/dockerd.pid, the log to
#   $STATE/dockerd.log.
# - Reuses an engine that already answers (and then does not own it: docker-down.sh leaves it).
# - Never fails the build because Docker cannot run: it exits 0, writes the reason to
#   $STATE/unavailable and prints it, so the container tests skip with that reason.
#
# STATE defaults to /tmp/mcaspec-docker (env MCASPEC_DOCKER_STATE).
set -uo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
STATE="${MCASPEC_DOCKER_STATE:-/tmp/mcaspec-docker}"
WAIT_SECONDS="${MCASPEC_DOCKER_WAIT:-60}"
mkdir -p "$STATE"
rm -f "$STATE/unavailable"

say() { printf 'docker-up: %s\n' "$*"; }
unavailable() {
  printf '%s\n' "$*" >"$STATE/unavailable"
  say "Docker is NOT available: $*"
  say "container tests will be skipped (reason in $STATE/unavailable)"
  exit 0
}
answers() { timeout 10 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && answers; then
  say "a Docker engine already answers; using it (not owned by this script)"
  docker version --format 'docker-up: server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || true
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    unavailable "dockerd is not installed and cannot be installed here (needs root and apt-get)"
  fi
  say "installing docker.io (Debian)"
  t0=$(date +%s)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io; } >"$STATE/apt.log" 2>&1; then
    unavailable "apt-get install docker.io failed: $(tail -n 3 "$STATE/apt.log" | tr '\n' ' ')"
  fi
  say "installed in $(($(date +%s) - t0)) s"
fi
command -v dockerd >/dev/null 2>&1 || unavailable "dockerd is missing after installing docker.io"
command -v docker >/dev/null 2>&1 || unavailable "the docker client is missing after installing docker.io"

# An engine this script started earlier but that no longer answers: stop it first.
if [ -f "$STATE/dockerd.pid" ]; then
  old=$(cat "$STATE/dockerd.pid")
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
    say "stopping unresponsive dockerd (pid $old) started earlier"
    kill "$old" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$old" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$old" 2>/dev/null || true
  fi
  rm -f "$STATE/dockerd.pid"
fi

# start_dockerd DRIVER: starts dockerd, waits until it answers; 0 when up, 1 when it died or timed out.
start_dockerd() {
  local driver=$1 pid i
  say "starting dockerd (storage driver $driver, --bridge=none --iptables=false)"
  dockerd --bridge=none --iptables=false --ip-masq=false --storage-driver="$driver" \
    --host=unix:///var/run/docker.sock --log-level=warn \
    >>"$STATE/dockerd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STATE/dockerd.pid"
  for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dockerd exited during start-up with storage driver $driver"
      rm -f "$STATE/dockerd.pid"
      return 1
    fi
    if answers; then
      say "dockerd is up (pid $pid, storage driver $driver) after $((i / 2)) s"
      return 0
    fi
    sleep 0.5
  done
  say "dockerd did not answer within ${WAIT_SECONDS} s with storage driver $driver; stopping it"
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$STATE/dockerd.pid"
  return 1
}

: >"$STATE/dockerd.log"
for driver in ${MCASPEC_DOCKER_STORAGE:-overlay2 vfs}; do
  if start_dockerd "$driver"; then
    echo "$driver" >"$STATE/storage-driver"
    docker version --format 'docker-up: server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || true
    exit 0
  fi
done
unavailable "dockerd did not start with any storage driver (${MCASPEC_DOCKER_STORAGE:-overlay2 vfs}); last log lines: $(tail -n 5 "$STATE/dockerd.log" | tr '\n' ' ')"
