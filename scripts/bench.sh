#!/usr/bin/env bash
# bench.sh — measure ProxLB Web and write the results to docs/benchmarks.md.
#
#   scripts/bench.sh                  # every part; needs a release build (cargo leptos build --release --precompress)
#   scripts/bench.sh sizes wrk        # only the parts named: sizes, wrk, api, logs, browser
#
# Parts (each replaces its own section of docs/benchmarks.md):
#   sizes    the shipped artifact sizes (WASM, JS, CSS, server binary).
#   wrk      the headline numbers: the release server (target/release/proxlb-web) in demo mode on
#            a loopback port, for the 3-node demo and the large scenario (64 nodes, 10,000
#            guests), driven by wrk (2 threads, --latency, 1/20/50/200 connections) while the
#            poller rebuilds the snapshot every BENCH_POLL_SECONDS (2 s): p50/p90/p99/max,
#            requests/s, snapshots published during each run, page sizes (uncompressed and
#            brotli), server RSS before/peak/after, WASM and image size.
#   api      `cargo bench --bench api`: the same server in-process (router, SSR, guest filter).
#   logs     `cargo bench --bench logs`: ProxLB stdout → /ws/logs latency and loss at 1k/5k/10k lines/s.
#   browser  end2end/bench/guest-filter.mjs: the Guests view at 10,000 guests in Chromium.
# BENCH_SCENARIOS="large production" limits the wrk part; BENCH_BIN measures another build;
# BENCH_WRK_SECONDS and BENCH_POLL_SECONDS set the run length and the poll interval.
# Targets are checked here, never as timing asserts in tests (see docs/benchmarks.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
PKG=target/site/pkg
# BENCH_BIN: another server binary to measure (e.g. an older build, for a before/after).
BIN="${BENCH_BIN:-target/release/proxlb-web}"
# BENCH_SCENARIOS: which of the wrk part's servers to run (default all three).
SCENARIOS="${BENCH_SCENARIOS:-3node large production}"
[ -f "$PKG/proxlb_web.wasm.br" ] && [ -x "$BIN" ] || {
  echo "bench: no release build; run: cargo leptos build --release --precompress" >&2; exit 1; }

PARTS=("$@")
((${#PARTS[@]})) || PARTS=(sizes wrk api logs browser)
want() { local p; for p in "${PARTS[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

# Seconds per wrk run, and the poll interval during the runs (short, so that every run
# overlaps at least one snapshot rebuild).
WRK_SECONDS="${BENCH_WRK_SECONDS:-10}"
POLL_SECONDS="${BENCH_POLL_SECONDS:-2}"
BENCH_PORT="${BENCH_PORT:-3170}"
# Extra arguments for every wrk and curl request: the API token of the signed-in demo user
# (set by sign_in, the one place this script logs in).
WRK_AUTH=()
CURL_AUTH=()

size() { stat -c %s "$1"; }

# splice NAME FILE: replace the <!-- NAME:begin --> … <!-- NAME:end --> section of
# docs/benchmarks.md with FILE, keep the rest.
splice() {
  python3 - "$ROOT/docs/benchmarks.md" "$1" "$2" <<'PY'
import sys, pathlib
doc, name, section = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3]).read_text()
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
text = doc.read_text() if doc.exists() else "# Benchmarks\n"
if begin not in text:
    text += f"\n{begin}\n{end}\n"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
doc.write_text(f"{head}{begin}\n{section}{end}{tail}")
PY
}

# ---------------------------------------------------------------------------------------------
sizes_part() {
  strip -o "$ROOT/target/proxlb-web.stripped" "$BIN"
  row() { printf '| %s | %s | %s | %s |\n' "$1" "$(size "$2")" "$(size "$2.gz")" "$(size "$2.br")"; }
  {
    echo "## Artifact sizes"
    echo
    echo "Measured by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d) from \`cargo leptos build --release --precompress\`"
    echo "(rustc $(rustc --version | cut -d' ' -f2), wasm-opt $(node_modules/.bin/wasm-opt --version | cut -d' ' -f3), commit $(git rev-parse --short HEAD))."
    echo
    echo "| file | raw bytes | gzip bytes | brotli bytes |"
    echo "| --- | ---: | ---: | ---: |"
    row "WASM (\`proxlb_web.wasm\`)" "$PKG/proxlb_web.wasm"
    row "JS glue (\`proxlb_web.js\`)" "$PKG/proxlb_web.js"
    row "CSS (\`proxlb_web.css\`)" "$PKG/proxlb_web.css"
    echo
    echo "| server binary | bytes |"
    echo "| --- | ---: |"
    echo "| \`$BIN\` | $(size "$BIN") |"
    echo "| same, stripped | $(size "$ROOT/target/proxlb-web.stripped") |"
    local image_bin=target/x86_64-unknown-linux-gnu/image/proxlb-web
    if [ -f "$image_bin" ] && [ "$image_bin" != "$BIN" ]; then
      echo "| image binary (\`scripts/image-binary.sh\`: profile \`image\`, static) | $(size "$image_bin") |"
    fi
  } >target/bench-sizes.md
  splice sizes target/bench-sizes.md
  cat target/bench-sizes.md
}

# ---------------------------------------------------------------------------------------------
SERVER_PID=
SERVER_DATA=
SIM_PID=
stop_server() {
  local pid
  for pid in "$SERVER_PID" "$SIM_PID"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PID=
  SIM_PID=
  [ -z "$SERVER_DATA" ] || rm -rf "$SERVER_DATA"
  SERVER_DATA=
}
trap stop_server EXIT

base() { echo "http://127.0.0.1:$BENCH_PORT"; }
# The snapshot version the REST API reports (increases with every snapshot the poller publishes).
snapshot_version() { curl -fsS "${CURL_AUTH[@]}" "$(base)/api/nodes" | jq -r '.meta.version'; }
rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.0f", kb / 1024 }'; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

# How sign_in logs in: demo mode's one-click login, or a Proxmox user of the simulator.
LOGIN_FORM=(-d demo=1)
# sign_in: the login form (session cookie from its JSON answer; LOGIN_FORM says how), then
# a read-only API token made with that session; wrk and curl send it as a Bearer token, as a
# script or monitoring system would.
sign_in() {
  local jar token
  jar=$(mktemp)
  curl -fsS -c "$jar" -H 'Accept: application/json' "${LOGIN_FORM[@]}" "$(base)/auth/login" >/dev/null
  token=$(curl -fsS -b "$jar" -H 'Content-Type: application/json' \
    -d '{"name":"bench","scope":"read"}' "$(base)/api/tokens" | jq -er .token)
  rm -f "$jar"
  WRK_AUTH=(-H "Authorization: Bearer $token")
  CURL_AUTH=(-H "Authorization: Bearer $token")
}

# start_server SCENARIO: the release server in demo mode on BENCH_PORT, signed in, ready when
# the REST API serves a first snapshot with guests.
start_server() {
  port_free "$BENCH_PORT" || return 1
  SERVER_DATA=$(mktemp -d)
  LOGIN_FORM=(-d demo=1)
  env PROXLB_DEMO_SCENARIO="$1" PROXLB_WEB_POLL_SECONDS="$POLL_SECONDS" PROXLB_WEB_DATA="$SERVER_DATA" \
    HOST=127.0.0.1 PORT="$BENCH_PORT" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    "$BIN" --demo >"target/bench-server-$1.log" 2>&1 &
  SERVER_PID=$!
  until_serving "$1"
}

# Another server on the port would answer instead of ours (the machine is shared).
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "bench: port $1 is in use; set BENCH_PORT / BENCH_SIM_PORT to a free one" >&2
    return 1
  fi
}

# start_production_server: the large cluster as a deployment sees it: pve-sim in its own
# process (target/release/pve-sim) and the release server reading a ProxLB config that points
# at it, signed in as a Proxmox user.
SIM_BIN=target/release/pve-sim
SIM_PORT="${BENCH_SIM_PORT:-3171}"
start_production_server() {
  port_free "$BENCH_PORT" && port_free "$SIM_PORT" || return 1
  SERVER_DATA=$(mktemp -d)
  "$SIM_BIN" --scenario large --port "$SIM_PORT" >target/bench-sim.log 2>&1 &
  SIM_PID=$!
  local token_secret
  for _ in $(seq 1 60); do
    token_secret=$(sed -n 's/^token: Authorization: PVEAPIToken=root@pam!proxlb=//p' target/bench-sim.log)
    [ -n "$token_secret" ] && break
    sleep 0.5
  done
  [ -n "$token_secret" ] || { echo "bench: pve-sim did not start (target/bench-sim.log)" >&2; return 1; }
  mkdir -m 0700 "$SERVER_DATA/data"
  cat >"$SERVER_DATA/proxlb.yaml" <<YAML
proxmox_api:
  hosts: ["127.0.0.1:$SIM_PORT"]
  user: root@pam
  token_id: proxlb
  token_secret: $token_secret
  ssl_verification: false
proxmox_cluster:
  maintenance_nodes: []
  ignore_nodes: []
balancing:
  enable: true
  method: memory
  mode: used
  balanciness: 10
YAML
  chmod 0600 "$SERVER_DATA/proxlb.yaml"
  LOGIN_FORM=(--data-urlencode username=root --data-urlencode realm=pam
    --data-urlencode "password=$(sed -n 's|^login: root@pam / ||p' target/bench-sim.log)")
  env PROXLB_CONFIG="$SERVER_DATA/proxlb.yaml" PROXLB_SERVICE=none \
    PROXLB_WEB_POLL_SECONDS="$POLL_SECONDS" PROXLB_WEB_DATA="$SERVER_DATA/data" \
    HOST=127.0.0.1 PORT="$BENCH_PORT" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    "$BIN" >"target/bench-server-production.log" 2>&1 &
  SERVER_PID=$!
  until_serving production
}

# until_serving NAME: waits for /healthz, signs in, and waits for the first snapshot with guests.
until_serving() {
  local _
  for _ in $(seq 1 120); do
    curl -fsS "$(base)/healthz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  sign_in
  for _ in $(seq 1 240); do
    if curl -fsS "${CURL_AUTH[@]}" "$(base)/api/guests" 2>/dev/null | jq -e '.guests | length > 0' >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "bench: the server did not serve $1; log: target/bench-server-$1.log" >&2
  tail -20 "target/bench-server-$1.log" >&2
  return 1
}

# wrk_row LABEL PATH CONNECTIONS [wrk args…]: one wrk run, one Markdown table row.
WRK_FAILED=0
wrk_row() {
  local label=$1 path=$2 conns=$3 threads=2 out v0 v1 line
  shift 3
  ((conns >= threads)) || threads=$conns   # wrk needs at least one connection per thread
  v0=$(snapshot_version)
  out=$(wrk -t"$threads" -c"$conns" -d"${WRK_SECONDS}s" --timeout 10s --latency \
    -s scripts/wrk-report.lua "${WRK_AUTH[@]}" "$@" "$(base)$path")
  v1=$(snapshot_version)
  echo "$out" >>"$WRK_LOG"
  line=$(echo "$out" | grep '^WRK_RESULT ' || true)
  [ -n "$line" ] || { echo "bench: wrk printed no result for $path" >&2; WRK_FAILED=1; return; }
  # The line is `WRK_RESULT key=value …`; read it into local variables.
  local requests seconds rps p50_ms p90_ms p99_ms max_ms bytes errors_connect errors_read \
    errors_write errors_status errors_timeout kv
  for kv in ${line#WRK_RESULT }; do local "${kv?}"; done
  local errors=$((errors_connect + errors_read + errors_write + errors_status + errors_timeout))
  # A non-2xx answer (e.g. 401 once login exists) means the numbers are not the page's.
  ((errors_status == 0)) || { echo "bench: $errors_status non-2xx answers from $path" >&2; WRK_FAILED=1; }
  printf '| %s | %d | %.2f | %.2f | %.1f | %.1f | %d | %d |\n' \
    "$label" "$conns" "$p50_ms" "$p99_ms" "$max_ms" "$rps" "$((v1 - v0))" "$errors"
}

# page_sizes: bytes on the wire per page, uncompressed and with the browser's brotli.
page_sizes() {
  local path plain br
  echo "| answer | uncompressed bytes | compressed bytes |"
  echo "| --- | ---: | ---: |"
  local node
  node=$(curl -fsS "${CURL_AUTH[@]}" "$(base)/api/nodes" | jq -r '.nodes[0].name')
  for path in / /nodes "/nodes/$node" /guests /rules /balancing; do
    plain=$(curl -fsS "${CURL_AUTH[@]}" -o /dev/null -w '%{size_download}' "$(base)$path")
    br=$(curl -fsS "${CURL_AUTH[@]}" -H 'Accept-Encoding: br' -o /dev/null -w '%{size_download}' "$(base)$path")
    echo "| \`$path\` (br) | $plain | $br |"
  done
  # What the guests view loads after hydration: every guest in columns (a server function).
  path=/sfn/guest_columns
  plain=$(curl -fsS "${CURL_AUTH[@]}" -d '' -o /dev/null -w '%{size_download}' "$(base)$path")
  br=$(curl -fsS "${CURL_AUTH[@]}" -d '' -H 'Accept-Encoding: br' -o /dev/null -w '%{size_download}' "$(base)$path")
  echo "| \`$path\` (br, after hydration) | $plain | $br |"
  for path in /api/nodes /api/guests; do
    plain=$(curl -fsS "${CURL_AUTH[@]}" -o /dev/null -w '%{size_download}' "$(base)$path")
    br=$(curl -fsS "${CURL_AUTH[@]}" -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$(base)$path")
    echo "| \`$path\` (gzip) | $plain | $br |"
  done
}

# whatif_rows: the Balancing view's what-if as the browser calls it (the server function, JSON
# in and out, on the release server with the poller running), one client asking back to back
# (one user typing) and 4 at once: a node put in maintenance, and only balanciness changed.
whatif_rows() {
  local settings node
  settings=$(curl -fsS "${CURL_AUTH[@]}" "$(base)/api/balancing/settings" | jq -c '.settings')
  node=$(curl -fsS "${CURL_AUTH[@]}" "$(base)/api/nodes" | jq -r '.nodes[0].name')
  jq -nc --argjson s "$settings" --arg n "$node" '{candidate: {settings: $s, maintenance_nodes: [$n]}}' \
    >target/bench-whatif-maintenance.json
  jq -nc --argjson s "$settings" '{candidate: {settings: ($s | .balanciness = (.balanciness + 5))}}' \
    >target/bench-whatif-setting.json
  local c
  for c in 1 4; do
    WRK_BODY_FILE=target/bench-whatif-maintenance.json \
      wrk_row "what-if (server function), \`$node\` in maintenance" /sfn/balancing_what_if "$c"
  done
  for c in 1 4; do
    WRK_BODY_FILE=target/bench-whatif-setting.json \
      wrk_row "what-if (server function), balanciness + 5" /sfn/balancing_what_if "$c"
  done
}

# wrk_scenario SCENARIO TITLE: every run against one server, with its sizes and memory.
wrk_scenario() {
  local scenario=$1 title=$2 rss0 rss1 hwm load0 load1 guests nodes
  if [ "$scenario" = production ]; then start_production_server; else start_server "$scenario"; fi
  guests=$(curl -fsS "${CURL_AUTH[@]}" "$(base)/api/guests" | jq '.guests | length')
  nodes=$(curl -fsS "${CURL_AUTH[@]}" "$(base)/api/nodes" | jq '.nodes | length')
  # Warm up: every path once, so the first wrk run does not pay for first-touch work.
  for path in /api/nodes /api/guests / /guests; do curl -fsS "${CURL_AUTH[@]}" -o /dev/null "$(base)$path"; done
  sleep "$POLL_SECONDS"
  rss0=$(rss_kb "$SERVER_PID" VmRSS)
  load0=$(load_avg)
  if [ -n "$title" ]; then echo "### $title $nodes nodes, $guests guests"; else echo "$nodes nodes, $guests guests:"; fi
  echo
  echo "| path | clients | p50 ms | p99 ms | max ms | requests/s | snapshots during run | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  local c
  for c in 1 50 200; do wrk_row "\`/api/nodes\`" /api/nodes "$c"; done
  for c in 1 50 200; do wrk_row "\`/api/guests\` (gzip)" /api/guests "$c" -H 'Accept-Encoding: gzip'; done
  for c in 1 20; do wrk_row "dashboard \`/\` (br)" / "$c" -H 'Accept-Encoding: br'; done
  for c in 1 20; do wrk_row "\`/guests\` (br)" /guests "$c" -H 'Accept-Encoding: br'; done
  # The memory of serving HTTP (API and pages), before the what-if's replays of ProxLB.
  local rss_http hwm_http
  rss_http=$(rss_kb "$SERVER_PID" VmRSS)
  hwm_http=$(rss_kb "$SERVER_PID" VmHWM)
  whatif_rows
  rss1=$(rss_kb "$SERVER_PID" VmRSS)
  hwm=$(rss_kb "$SERVER_PID" VmHWM)
  load1=$(load_avg)
  sleep 10
  local rss2
  rss2=$(rss_kb "$SERVER_PID" VmRSS)
  echo
  page_sizes
  echo
  echo "Server RSS: $(mb "$rss0") MB before the runs; serving the API and the pages (up to 200 clients) $(mb "$hwm_http") MB peak, $(mb "$rss_http") MB right after; the what-if runs then took the peak to $(mb "$hwm") MB; $(mb "$rss1") MB right after them, $(mb "$rss2") MB after 10 s idle."
  echo "Load average (1/5/15 min) before: $load0; after: $load1."
  echo
  stop_server
}

wrk_part() {
  command -v wrk >/dev/null || { echo "bench: wrk is missing; run scripts/setup.sh" >&2; exit 1; }
  [ -x "$SIM_BIN" ] || cargo build --release --locked -p plb-pve-sim --bin pve-sim
  WRK_LOG="$ROOT/target/bench-wrk.log"
  : >"$WRK_LOG"
  local image_size="not measured (run scripts/docker-test.sh)" image_file=target/docker-test/image-size.txt
  if [ -s "$image_file" ]; then
    image_size="$(cat "$image_file") bytes ($(awk '{printf "%.1f", $1 / 1e6}' "$image_file") MB; \`scripts/docker-test.sh\` of $(date -u -r "$image_file" +%Y-%m-%d))"
  fi
  {
    echo "## Load test with wrk (release server, loopback)"
    echo
    echo "Measured by \`scripts/bench.sh wrk\` on $(date -u +%Y-%m-%d) (commit $(git rev-parse --short HEAD)): \`$BIN --demo\`"
    echo "on 127.0.0.1, polling its simulated cluster every ${POLL_SECONDS} s, so every run overlaps snapshot rebuilds (\"snapshots during run\")."
    echo "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2) on the same $(nproc)-core machine: 2 threads (1 for one connection), ${WRK_SECONDS} s per run, \`--timeout 10s\`,"
    echo "keep-alive connections, each request with the signed-in demo user's read-only API token (\`Authorization: Bearer\`); exact percentiles"
    echo "from \`scripts/wrk-report.lua\`. \"errors\" counts connect/read/write errors, timeouts and non-2xx answers. Pages are asked for with"
    echo "\`Accept-Encoding: br\` (as a browser over HTTPS), \`/api/guests\` with \`gzip\`."
    echo
    local scenario
    for scenario in $SCENARIOS; do
      case $scenario in
        3node) wrk_scenario 3node "3-node demo:" ;;
        large) wrk_scenario large "Large scenario (\`PROXLB_DEMO_SCENARIO=large\`):" ;;
        production)
          echo "### As deployed: the large cluster from \`pve-sim\` in its own process"
          echo
          echo "The demo above keeps its simulated cluster in the server's process (its model and its RRD synthesis"
          echo "count in the server's RSS). Here \`target/release/pve-sim --scenario large\` serves the same cluster as a"
          echo "Proxmox VE would, and the server reads a ProxLB config that points at it, signed in as a Proxmox user."
          echo
          wrk_scenario production ""
          ;;
        *) echo "bench: unknown scenario $scenario (3node, large, production)" >&2; exit 2 ;;
      esac
    done
    echo "| artifact | size |"
    echo "| --- | ---: |"
    echo "| WASM, brotli (\`proxlb_web.wasm.br\`) | $(size "$PKG/proxlb_web.wasm.br") bytes |"
    echo "| container image | $image_size |"
  } >target/bench-wrk.md
  splice wrk target/bench-wrk.md
  cat target/bench-wrk.md
  ((WRK_FAILED == 0)) || { echo "bench: some wrk runs failed (see $WRK_LOG)" >&2; exit 1; }
}

# ---------------------------------------------------------------------------------------------
want sizes && sizes_part
want wrk && wrk_part
if want api; then
  # Latency in-process: REST API at 1/50/200 clients, dashboard SSR, guest filtering.
  cargo bench --locked --features ssr --bench api
  splice api target/bench-api.md
fi
if want logs; then
  # ProxLB stdout → /ws/logs client: latency p50/p99/max and loss at 1,000/5,000/10,000 lines/s.
  cargo bench --locked --features ssr --bench logs
  splice logs target/bench-logs.md
fi
if want browser; then
  # The Guests view at 10,000 guests in a real browser: page size, hydration, one keystroke.
  node end2end/bench/guest-filter.mjs target/bench-browser.md
  splice browser target/bench-browser.md
fi
