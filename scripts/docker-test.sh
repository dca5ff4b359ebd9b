#!/usr/bin/env bash
# docker-test.sh — build the container image and check that it serves, small and unprivileged.
#
#   scripts/docker-test.sh        # after: cargo leptos build --release --precompress
#
# Builds the image's static server binary (scripts/image-binary.sh, cargo profile `image`),
# starts a private dockerd (no bridge, no iptables changes: containers use the host network on
# loopback only), makes a Debian 12 base image with debootstrap when it has none (no registry is
# reachable here; the base only supplies the CA bundle), builds ./Dockerfile on it and checks:
# the image's size budget, that it runs as a non-root user with a read-only root filesystem, no
# capabilities and writes only to its data volume; in demo mode: health, API, a page, the WASM
# bundle, the health check, that no secret leaves the server, that the static binary resolves a
# host name and trusts the system CA store (a second container reaches the first one's simulated
# cluster by name), and that `docker stop` ends it cleanly; validates docker-compose.yml.
# Prints one `ok - …` / `not ok - …` line per check and a final `N passed, N failed`; exits
# non-zero on any failure. Everything it started is stopped on exit.
#
# It also builds the local ProxLB 2.3.0 image (deploy/proxlb/Dockerfile; wheels fetched with
# pip on the host) and runs the Docker backend's test (crates/backend/tests/proxlb_docker.rs)
# against it. The daemon's data root (the Debian base, the ProxLB image, build layers) and the
# wheels are kept in a cache folder outside target/ (DOCKER_TEST_CACHE, default
# ~/.cache/proxlb-web/docker-test), so a second run on the same machine skips debootstrap, pip
# and the ProxLB image's apt stage, the way a registry pull would be cached.
#   DOCKER_TEST_ONLY=proxlb scripts/docker-test.sh   # only dockerd, the ProxLB image, that
#                                                    # test and docker-compose.yml (no site needed)
#   DOCKER_TEST_ONLY=image scripts/docker-test.sh    # only ProxLB Web's image (the rest of it)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
WORK="${DOCKER_TEST_DIR:-$ROOT/target/docker-test}"
CACHE="${DOCKER_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/proxlb-web/docker-test}"
PORT="${DOCKER_TEST_PORT:-3160}"
PORT2=$((PORT + 1))
BASE_IMAGE=local/debian:bookworm-minbase
IMAGE=proxlb-web:test
PROXLB_IMAGE_LOCAL=local/proxlb:2.3.0
# The host's Python for `pip download`: ProxLB's venv (scripts/setup.sh), Python 3.11 like the image.
PROXLB_HOST_PYTHON="${PROXLB_PYTHON:-$ROOT/.venv/bin/python}"
ONLY="${DOCKER_TEST_ONLY:-}"
case "$ONLY" in
  "" | proxlb | image) ;;
  *) echo "docker-test: DOCKER_TEST_ONLY is proxlb, image or empty (both), not \"$ONLY\"" >&2; exit 2 ;;
esac
CONTAINER=proxlb-web-test
CONTAINER2=proxlb-web-test-dns
VOLUME=proxlb-web-test-data
# The image's user (Dockerfile `USER`).
APP_UID=65532
# Image size budget, so growth is a decision and not an accident; and never above the spec's
# 200 MB. The service, logs, configuration and balancing work took it to 33,146,651 bytes; Leptos'
# `erase_components` (a 21.6 MB static binary instead of 25.8 MB, a smaller WASM) and shipping
# the WASM only as .br and .gz brought it to 23,933,461 on 2026-11-30, under the scale issue's
# 25 MB. The budget is that plus 10 %. The size each run reaches is printed and kept in
# target/docker-test/image-size.txt.
IMAGE_BUDGET_BYTES="${IMAGE_BUDGET_BYTES:-26300000}"
SPEC_LIMIT_BYTES=200000000
# Extra curl arguments for every request except /healthz and the login itself: the API token
# login_token makes (-H "Authorization: Bearer …"), set by the login check below.
CURL_AUTH=()
export DOCKER_HOST="unix://$WORK/docker.sock"

passed=0
failed=0
check() { # check NAME CMD... — one line per check, with its wall time
  local name=$1 t0=$SECONDS
  shift
  echo "### $name" >>"$WORK/checks.log"
  if "$@" >>"$WORK/checks.log" 2>&1; then
    echo "ok - $name ($((SECONDS - t0)) s)"; passed=$((passed + 1))
  else
    echo "not ok - $name ($((SECONDS - t0)) s; details in $WORK/checks.log)"; failed=$((failed + 1))
  fi
}

cleanup() {
  docker rm -f "$CONTAINER" "$CONTAINER2" >/dev/null 2>&1 || true
  # The Docker backend test's ProxLB containers (it removes them itself unless it failed).
  docker ps -aq --filter label=proxlb-web.test 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
  # The one-off containers of "ask real ProxLB" (the backend removes them unless the test died).
  docker ps -aq --filter label=proxlb-web.ask 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  # The data root is a cache kept between runs: drop what this run's rebuilds left unnamed.
  docker image prune -f >/dev/null 2>&1 || true
  if [ -f "$WORK/dockerd.pid" ]; then
    kill "$(cat "$WORK/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -f "$WORK/dockerd.pid" ] || break; sleep 0.2; done
  fi
  # dockerd leaves its network namespace mount behind; without this, target/ cannot be removed.
  findmnt -rn -o TARGET | grep -E "^($WORK|$CACHE)/" | sort -r | xargs -r umount 2>/dev/null || true
  check "dockerd stopped and left nothing mounted" no_mounts_left
  echo "$passed passed, $failed failed"
  ((failed == 0)) || exit 1
}
no_mounts_left() {
  [ ! -f "$WORK/dockerd.pid" ] && ! findmnt -rn -o TARGET | grep -E "^($WORK|$CACHE)/"
}

for tool in dockerd docker debootstrap docker-compose curl jq readelf; do
  command -v "$tool" >/dev/null || { echo "docker-test: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done
[ "$ONLY" = proxlb ] || [ -f target/site/pkg/proxlb_web.wasm ] || {
  echo "docker-test: no site; run: cargo leptos build --release --precompress" >&2; exit 1; }

# Another server on these ports would answer instead of the container (the machine is shared).
for port in "$PORT" "$PORT2"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "docker-test: port $port is in use; set DOCKER_TEST_PORT (uses it and the next one)" >&2; exit 1
  fi
done

mkdir -p "$WORK" "$CACHE"
# One daemon per data root: a second run on this machine (another checkout) waits here instead
# of starting a second dockerd on the same cache, which corrupts it.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  echo "docker-test: another run uses $CACHE; waiting for it" >&2
  flock 9
fi
: >"$WORK/checks.log"
trap cleanup EXIT

# The image's binary: profile `image` (fat LTO, stripped), glibc linked statically. The build
# time is printed for docs/benchmarks.md (it is the profile's cost over the release build).
build_binary() {
  local t0=$SECONDS
  bash scripts/image-binary.sh || return 1
  echo "image binary build: $((SECONDS - t0)) s" | tee "$WORK/image-binary-time.txt"
}
[ "$ONLY" = proxlb ] || check "the image's static binary builds (cargo profile image)" build_binary

# A private daemon: its own data, socket and pid file; no bridge, NAT or forwarding rules.
dockerd --data-root "$CACHE/root" --exec-root "$WORK/exec" -H "$DOCKER_HOST" \
  --pidfile "$WORK/dockerd.pid" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
  >"$WORK/dockerd.log" 2>&1 9>&- &
for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
check "dockerd starts" docker info

# Debian 12 base (what debian:bookworm-slim is elsewhere), made once per data root. A cached
# base that no longer runs (its layer lost, e.g. an interrupted import) is made again.
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 &&
  ! docker run --rm --network none "$BASE_IMAGE" /bin/sh -c true >/dev/null 2>&1; then
  echo "docker-test: the cached $BASE_IMAGE does not run; making it again" >&2
  docker rmi -f "$BASE_IMAGE" >/dev/null 2>&1 || true
fi
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  rm -rf "$WORK/rootfs"
  check "debootstrap makes a Debian 12 root" \
    debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian
  check "the root is imported as $BASE_IMAGE" \
    bash -c "tar -C '$WORK/rootfs' -c . | docker import - '$BASE_IMAGE'"
  rm -rf "$WORK/rootfs"
fi

# ProxLB 2.3.0 in a container: the local image, and the Docker backend controlling it.
proxlb_wheels() { # ProxLB and its dependencies as wheels for the image's Python (3.11), once
  [ -f "$CACHE/proxlb-wheels/proxlb-2.3.0-py3-none-any.whl" ] && return 0
  "$PROXLB_HOST_PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
    echo "$PROXLB_HOST_PYTHON is not Python 3.11 (the image's): pip would fetch other wheels"; return 1; }
  rm -rf "$CACHE/proxlb-wheels.part" &&
    "$PROXLB_HOST_PYTHON" -m pip download -q --dest "$CACHE/proxlb-wheels.part" proxlb==2.3.0 &&
    mv "$CACHE/proxlb-wheels.part" "$CACHE/proxlb-wheels"
}
proxlb_version() { # the image runs ProxLB 2.3.0 and says so in its label
  local out
  out=$(docker run --rm --network host "$PROXLB_IMAGE_LOCAL" -v) || return 1
  echo "$out"
  grep -q '^ProxLB version: 2.3.0$' <<<"$out" &&
    [ "$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' \
      "$PROXLB_IMAGE_LOCAL")" = 2.3.0 ]
}
proxlb_docker_backend() { # the backend test against this daemon (it starts its own simulator)
  # Selected from the whole workspace with scripts/test.sh's features, so that it reuses that
  # run's test build: `-p plb-backend` alone resolves other dependency features and rebuilt 65
  # crates first.
  PROXLB_TEST_IMAGE="$PROXLB_IMAGE_LOCAL" \
    cargo test --locked --workspace --features proxlb-web/ssr --test proxlb_docker -- \
    --ignored --test-threads=1
}
proxlb_checks() {
  check "pip downloads ProxLB 2.3.0 and its dependencies on the host (cached)" proxlb_wheels
  # apt in the image's stages needs the host's network; pip installs only the copied wheels.
  check "the ProxLB 2.3.0 image builds from the wheels (pip --no-index)" \
    docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$PROXLB_IMAGE_LOCAL" \
    -f deploy/proxlb/Dockerfile "$CACHE/proxlb-wheels"
  image_size_of "$PROXLB_IMAGE_LOCAL" >"$WORK/proxlb-image-size.txt" 2>/dev/null || true
  check "the ProxLB image runs ProxLB 2.3.0 (label org.opencontainers.image.version)" proxlb_version
  check "Docker backend: status, stop (exit 0), start, restart, reload, failed run, timestamped logs resumed without gaps or duplicates, ask real ProxLB in a one-off container" \
    proxlb_docker_backend
}
image_size_of() { docker image inspect -f '{{.Size}}' "$1"; }
if [ "$ONLY" = proxlb ]; then
  proxlb_checks
  check "docker-compose.yml is valid (Compose v1)" docker-compose -f docker-compose.yml config -q
  exit
fi

# The first stage's RUN installs ca-certificates with apt, so it needs the host's network.
check "docker build succeeds" \
  docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" .

image_size() { docker image inspect -f '{{.Size}}' "$IMAGE"; }
within_budget() { # within_budget LIMIT — the image is at most LIMIT bytes
  local size
  size=$(image_size) || return 1
  echo "image size: $size bytes, limit $1"
  ((size <= $1))
}
check "the image is at most $IMAGE_BUDGET_BYTES bytes (the size reached plus 10 %)" within_budget "$IMAGE_BUDGET_BYTES"
check "the image is at most 200 MB (spec NF-03)" within_budget "$SPEC_LIMIT_BYTES"
image_size >"$WORK/image-size.txt" 2>/dev/null || true
non_root_user() { # the image declares a numeric, non-root USER
  local user
  user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE") || return 1
  echo "Config.User=$user"
  [ "$user" = "$APP_UID:$APP_UID" ]
}
check "the image's user is $APP_UID:$APP_UID, not root" non_root_user

# The demo container, locked down as docker-compose.yml runs it: read-only root, no
# capabilities, no privilege gain; its data in a named volume (gets the image's ownership).
docker volume create "$VOLUME" >/dev/null 2>&1
check "the image runs in demo mode, read-only, without capabilities" \
  docker run -d --name "$CONTAINER" --network host --read-only --cap-drop ALL \
  --security-opt no-new-privileges:true -v "$VOLUME:/var/lib/proxlb-web" \
  --health-interval 1s --health-start-period 0s \
  -e HOST=127.0.0.1 -e PORT="$PORT" -e PROXLB_WEB_POLL_SECONDS=1 "$IMAGE" --demo
DATA=$(docker volume inspect -f '{{.Mountpoint}}' "$VOLUME" 2>/dev/null)

base="http://127.0.0.1:$PORT"
wait_for() { # wait_for URL PATTERN — up to 60 s for a body matching PATTERN
  for _ in $(seq 1 120); do
    curl -fsS "${CURL_AUTH[@]}" "$1" 2>/dev/null | grep -q "$2" && return 0
    sleep 0.5
  done
  curl -sS "${CURL_AUTH[@]}" "$1"; docker logs "$CONTAINER" 2>&1 | tail -20
  return 1
}
check "/healthz answers ok" wait_for "$base/healthz" '"status":"ok"'

# The one place this script signs in. login_token BASE [login form fields…]: signs in through
# the login form's JSON answer (session cookie), creates an API token with that session
# (scope TOKEN_SCOPE, default read) and prints the token. Demo mode: `-d demo=1`, its one-click login; elsewhere the
# local admin from the data folder's initial-admin-password.
login_token() {
  local base=$1 jar rc
  shift
  jar=$(mktemp)
  curl -fsS -c "$jar" -H 'Accept: application/json' "$@" "$base/auth/login" >/dev/null &&
    curl -fsS -b "$jar" -H 'Content-Type: application/json' \
      -d "{\"name\":\"docker-test\",\"scope\":\"${TOKEN_SCOPE:-read}\"}" "$base/api/tokens" | jq -er .token
  rc=$?
  rm -f "$jar"
  return $rc
}
demo_login() { # every later request carries the demo user's API token
  local token
  token=$(login_token "$base" -d demo=1) || return 1
  CURL_AUTH=(-H "Authorization: Bearer $token")
  # Without it the API refuses (so the checks below do test a signed-in client).
  [ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/api/nodes")" = 401 ]
}
check "the demo's one-click login gives an API token; without one the API answers 401" demo_login
check "/api/nodes lists the demo's three nodes" \
  wait_for "$base/api/nodes" '"name":"pve3"'
check "the dashboard renders cluster data" wait_for "$base/" 'Nodes online'
check "the WASM bundle is served precompressed" \
  bash -c "curl -fsS -o /dev/null -D - -H 'Accept-Encoding: br' '$base/pkg/proxlb_web.wasm' | grep -qi '^content-encoding: br'"
wasm_without_encoding() { # the image ships the WASM only as .br and .gz; a client that takes
  # no encoding gets it decompressed (the WASM magic number)
  local magic
  if docker cp "$CONTAINER:/app/site/pkg/proxlb_web.wasm" - >/dev/null 2>&1; then
    echo "the image holds the uncompressed WASM"; return 1
  fi
  curl -fsS -H 'Accept-Encoding: identity' -o "$WORK/plain.wasm" "$base/pkg/proxlb_web.wasm" || return 1
  magic=$(head -c 4 "$WORK/plain.wasm" | od -An -tx1 | tr -d ' \n')
  echo "first bytes: $magic"
  [ "$magic" = 0061736d ]
}
check "the WASM is shipped only compressed and still reaches a client that takes no encoding" wasm_without_encoding

runs_as_app_user() { # the server process has UID/GID $APP_UID on the host (no docker exec)
  local pid status
  pid=$(docker inspect -f '{{.State.Pid}}' "$CONTAINER") || return 1
  status=$(grep -E '^(Uid|Gid|CapEff):' "/proc/$pid/status") || return 1
  echo "$status"; docker top "$CONTAINER" -o pid,uid,gid,comm
  echo "$status" | grep -Eq "^Uid:\s+$APP_UID\s+$APP_UID\s+$APP_UID\s+$APP_UID$" &&
    echo "$status" | grep -Eq "^Gid:\s+$APP_UID\s+$APP_UID\s+$APP_UID\s+$APP_UID$" &&
    echo "$status" | grep -Eq '^CapEff:\s+0+$'
}
check "the server runs as UID $APP_UID with no capabilities" runs_as_app_user
wrote_only_its_volume() { # read-only root; everything written is in the volume, owned by the app
  [ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$CONTAINER")" = true ] || return 1
  [ -f "$DATA/demo/proxlb.yaml" ] || { echo "no demo/proxlb.yaml in the volume"; return 1; }
  local changed foreign
  changed=$(docker diff "$CONTAINER")
  foreign=$(find "$DATA" ! -uid "$APP_UID" -print)
  echo "docker diff: ${changed:-none}"; echo "not owned by $APP_UID: ${foreign:-none}"
  [ -z "$changed" ] && [ -z "$foreign" ]
}
check "the root filesystem is read-only and the server wrote only its data volume" wrote_only_its_volume
ca_bundle() { # the image ships the system CA bundle (for Proxmox hosts with public certificates)
  local n
  n=$(docker cp "$CONTAINER:/etc/ssl/certs/ca-certificates.crt" - | tar -xO | grep -c 'BEGIN CERTIFICATE')
  echo "$n certificates"
  ((n > 100))
}
check "the image ships the system CA bundle" ca_bundle

healthy() { # the image's HEALTHCHECK (proxlb-web --healthcheck) reports healthy
  for _ in $(seq 1 60); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$CONTAINER")" = healthy ] && return 0
    sleep 0.5
  done
  docker inspect -f '{{json .State.Health}}' "$CONTAINER"
  return 1
}
check "the image's health check reports healthy" healthy
jemalloc() { # the static binary runs on jemalloc with its compiled-in settings: the purging
  # thread that `background_thread:true` starts is there (docs/benchmarks.md, "jemalloc")
  local pid
  pid=$(docker inspect -f '{{.State.Pid}}' "$CONTAINER") || return 1
  grep -qx 'jemalloc_bg_thd' /proc/"$pid"/task/*/comm
}
check "the server runs on jemalloc with its purging thread" jemalloc
no_secret() { # the demo's Proxmox token secret, the initial admin password and the session
  # secret appear in no answer and no log line
  local secrets secret path
  secrets=("$(awk '/token_secret:/ {print $2}' "$DATA/demo/proxlb.yaml")"
    "$(cat "$DATA/initial-admin-password")" "$(cat "$DATA/session-secret")")
  for secret in "${secrets[@]}"; do
    [ ${#secret} -ge 16 ] || { echo "a secret is missing or short: '$secret'"; return 1; }
    for path in /api/cluster /api/nodes /api/guests /api/rules /api/me / /guests /login; do
      if curl -fsS "${CURL_AUTH[@]}" "$base$path" | grep -qF "$secret"; then echo "a secret in $path"; return 1; fi
    done
    if docker logs "$CONTAINER" 2>&1 | grep -qF "$secret"; then echo "a secret in the log"; return 1; fi
  done
}
check "no secret (Proxmox token, admin password, session secret) in any answer, page or log line" no_secret

# Name resolution and the system trust store in the static binary: a second container reads a
# proxlb.yaml that names the first one's simulator by a host name known only to its own
# /etc/hosts (--add-host), with TLS verification on and only SSL_CERT_FILE (the system store
# path the image sets) pointing at the simulator's certificate.
resolves_and_trusts() {
  local sim token conf="$WORK/dns-config" data="$WORK/dns-data" base2="http://127.0.0.1:$PORT2"
  sim=$(grep -Eo '127\.0\.0\.1:[0-9]+' "$DATA/demo/proxlb.yaml" | head -1)
  [ -n "$sim" ] || { echo "no simulator address in the demo config"; return 1; }
  rm -rf "$conf" && mkdir -p "$conf"
  sed "s/127\.0\.0\.1:/pve1:/" "$DATA/demo/proxlb.yaml" >"$conf/proxlb.yaml"
  cp "$DATA/demo/pve/pve-ssl.pem" "$conf/pve-ca.pem"
  chmod 0644 "$conf"/*
  # ProxLB's documented Docker setup bind-mounts the single file; the UI edits it in place
  # (checked below), so it belongs to the image's user here, as it would to ProxLB's `plb`.
  chown "$APP_UID:$APP_UID" "$conf/proxlb.yaml"
  grep -q "pve1:${sim#*:}" "$conf/proxlb.yaml" || return 1
  # Its data folder is a host folder owned by the image's user, so the test can read the local
  # admin's initial password to sign in.
  rm -rf "$data" && mkdir -m 0700 "$data" && chown "$APP_UID:$APP_UID" "$data"
  docker run -d --name "$CONTAINER2" --network host --read-only --cap-drop ALL \
    --security-opt no-new-privileges:true --add-host pve1:127.0.0.1 \
    -v "$data:/var/lib/proxlb-web" -v "$conf/proxlb.yaml:/etc/proxlb/proxlb.yaml" \
    -v "$conf/pve-ca.pem:/etc/proxlb/pve-ca.pem:ro" -e SSL_CERT_FILE=/etc/proxlb/pve-ca.pem \
    -e HOST=127.0.0.1 -e PORT="$PORT2" -e PROXLB_WEB_POLL_SECONDS=1 "$IMAGE" || return 1
  for _ in $(seq 1 60); do
    curl -fsS "$base2/healthz" >/dev/null 2>&1 && [ -s "$data/initial-admin-password" ] && break
    sleep 0.5
  done
  token=$(TOKEN_SCOPE=operate login_token "$base2" -d realm=local --data-urlencode username=admin \
    --data-urlencode "password=$(cat "$data/initial-admin-password")") || return 1
  ADMIN_TOKEN2=$token
  for _ in $(seq 1 60); do
    curl -fsS -H "Authorization: Bearer $token" "$base2/api/nodes" 2>/dev/null | grep -q '"name":"pve3"' && return 0
    sleep 0.5
  done
  curl -sS -H "Authorization: Bearer $token" "$base2/api/nodes"; echo; docker logs "$CONTAINER2" 2>&1 | tail -20
  return 1
}
check "the static binary resolves a host name and trusts the system CA store" resolves_and_trusts
edits_bind_mounted_file() { # a maintenance toggle writes the single bind-mounted file in place:
  # rename cannot replace a mount point, so the file keeps its inode; the old text is backed up
  local file="$WORK/dns-config/proxlb.yaml" inode answer backups
  inode=$(stat -c %i "$file") || return 1
  answer=$(curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN2" -H 'Content-Type: application/json' \
    -d '{"node":"pve2","state":true}' "http://127.0.0.1:$PORT2/api/maintenance") || return 1
  echo "$answer"
  [ "$(jq -r .outcome.mode <<<"$answer")" = InPlace ] || return 1
  [ "$(stat -c %i "$file")" = "$inode" ] || { echo "the file was replaced, not edited"; return 1; }
  grep -A3 'maintenance_nodes' "$file" | grep -q 'pve2' || { cat "$file"; return 1; }
  backups=$(find "$WORK/dns-data/config-backups" -type f -perm 0600 | wc -l)
  echo "backups (mode 0600): $backups"
  ((backups == 1))
}
check "a single bind-mounted proxlb.yaml is edited in place and backed up (0600)" edits_bind_mounted_file
docker rm -f "$CONTAINER2" >/dev/null 2>&1
rm -rf "$WORK/dns-data" "$WORK/dns-config"

graceful_stop() {
  docker stop -t 10 "$CONTAINER" >/dev/null &&
    [ "$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")" = 0 ]
}
check "docker stop ends it gracefully (exit code 0)" graceful_stop
if [ "$ONLY" != image ]; then
  proxlb_checks
  check "docker-compose.yml is valid (Compose v1)" docker-compose -f docker-compose.yml config -q
fi
# Compose v2 is a docker CLI plugin; check it too where it is installed.
if docker compose version >/dev/null 2>&1; then
  check "docker-compose.yml is valid (Compose v2)" docker compose -f docker-compose.yml config -q
fi

((failed == 0))
