#!/usr/bin/env bash
# docker-test.sh — build the container image from the release build and check that it serves.
#
#   scripts/docker-test.sh        # after: cargo leptos build --release --precompress
#
# Starts a private dockerd (no bridge, no iptables changes: containers use the host network on
# loopback only), makes a Debian 12 base image with debootstrap when it has none (no registry is
# reachable here), builds ./Dockerfile on it, runs the image in demo mode and checks health, API,
# a page, the WASM bundle, the image's health check and a graceful stop; validates
# docker-compose.yml. Prints one `ok - …` / `not ok - …` line per check and a final
# `N passed, N failed`; exits non-zero on any failure. Everything it started is stopped on exit.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="${DOCKER_TEST_DIR:-$ROOT/target/docker-test}"
PORT="${DOCKER_TEST_PORT:-3160}"
BASE_IMAGE=local/debian:bookworm-minbase
IMAGE=proxlb-web:test
CONTAINER=proxlb-web-test
export DOCKER_HOST="unix://$WORK/docker.sock"

passed=0
failed=0
check() { # check NAME CMD... — one line per check
  local name=$1
  shift
  if "$@" >>"$WORK/checks.log" 2>&1; then
    echo "ok - $name"; passed=$((passed + 1))
  else
    echo "not ok - $name (details in $WORK/checks.log)"; failed=$((failed + 1))
  fi
}

cleanup() {
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  if [ -f "$WORK/dockerd.pid" ]; then
    kill "$(cat "$WORK/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -f "$WORK/dockerd.pid" ] || break; sleep 0.2; done
  fi
  # dockerd leaves its network namespace mount behind; without this, target/ cannot be removed.
  findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | xargs -r umount 2>/dev/null || true
  check "dockerd stopped and left nothing mounted" no_mounts_left
  echo "$passed passed, $failed failed"
  ((failed == 0)) || exit 1
}
no_mounts_left() {
  [ ! -f "$WORK/dockerd.pid" ] && ! findmnt -rn -o TARGET | grep "^$WORK/"
}

for tool in dockerd docker debootstrap docker-compose curl; do
  command -v "$tool" >/dev/null || { echo "docker-test: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done
[ -x target/release/proxlb-web ] && [ -f target/site/pkg/proxlb_web.wasm ] || {
  echo "docker-test: no release build; run: cargo leptos build --release --precompress" >&2; exit 1; }

mkdir -p "$WORK"
: >"$WORK/checks.log"
trap cleanup EXIT

# A private daemon: its own data, socket and pid file; no bridge, NAT or forwarding rules.
dockerd --data-root "$WORK/root" --exec-root "$WORK/exec" -H "$DOCKER_HOST" \
  --pidfile "$WORK/dockerd.pid" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
  >"$WORK/dockerd.log" 2>&1 &
for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
check "dockerd starts" docker info

# Debian 12 base (what debian:bookworm-slim is elsewhere), made once per data root.
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  rm -rf "$WORK/rootfs"
  check "debootstrap makes a Debian 12 root" \
    debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian
  check "the root is imported as $BASE_IMAGE" \
    bash -c "tar -C '$WORK/rootfs' -c . | docker import - '$BASE_IMAGE'"
  rm -rf "$WORK/rootfs"
fi

# The build's RUN step installs ca-certificates with apt, so it needs the host's network.
check "docker build succeeds" \
  docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" .
check "the image runs in demo mode" \
  docker run -d --name "$CONTAINER" --network host --health-interval 1s --health-start-period 0s \
  -e HOST=127.0.0.1 -e PORT="$PORT" -e PROXLB_WEB_POLL_SECONDS=1 "$IMAGE" --demo

base="http://127.0.0.1:$PORT"
wait_for() { # wait_for URL PATTERN — up to 60 s for a body matching PATTERN
  for _ in $(seq 1 120); do
    curl -fsS "$1" 2>/dev/null | grep -q "$2" && return 0
    sleep 0.5
  done
  curl -sS "$1"; docker logs "$CONTAINER" 2>&1 | tail -20
  return 1
}
check "/healthz answers ok" wait_for "$base/healthz" '"status":"ok"'
check "/api/nodes lists the demo's three nodes" \
  wait_for "$base/api/nodes" '"name":"pve3"'
check "the dashboard renders cluster data" wait_for "$base/" 'Nodes online'
check "the WASM bundle is served precompressed" \
  bash -c "curl -fsS -o /dev/null -D - -H 'Accept-Encoding: br' '$base/pkg/proxlb_web.wasm' | grep -qi '^content-encoding: br'"
healthy() { # the image's HEALTHCHECK (proxlb-web --healthcheck) reports healthy
  for _ in $(seq 1 60); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$CONTAINER")" = healthy ] && return 0
    sleep 0.5
  done
  docker inspect -f '{{json .State.Health}}' "$CONTAINER"
  return 1
}
check "the image's health check reports healthy" healthy
no_secret() { # the demo's API token secret, read inside the container, appears in no answer
  local secret
  secret=$(docker exec "$CONTAINER" awk '/token_secret:/ {print $2}' /var/lib/proxlb-web/demo/proxlb.yaml)
  [ -n "$secret" ] || return 1
  for path in /api/cluster /api/nodes /api/guests /api/rules / /guests; do
    if curl -fsS "$base$path" | grep -qF "$secret"; then echo "secret in $path"; return 1; fi
  done
}
check "the API token secret appears in no API answer or page" no_secret
graceful_stop() {
  docker stop -t 10 "$CONTAINER" >/dev/null &&
    [ "$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")" = 0 ]
}
check "docker stop ends it gracefully (exit code 0)" graceful_stop
check "docker-compose.yml is valid" docker-compose -f docker-compose.yml config -q

((failed == 0))
