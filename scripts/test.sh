#!/usr/bin/env bash
# test.sh — every check and test of ProxLB Web, as CI runs it (`.ci/run` calls exactly this).
#
#   scripts/test.sh
#
# Runs scripts/setup.sh first (idempotent), then: rustfmt, clippy for the server (ssr) and for
# the browser (hydrate, wasm32) separately, a wasm32 build of crates/domain, the whole workspace's
# tests (cargo-nextest, then the doctests), the release build of the site (WASM, CSS, assets)
# and of the container image's server binary, Playwright end-to-end tests with JavaScript on and
# off against that binary, and the container image (scripts/docker-test.sh: build, run in demo
# mode, check, stop). Prints each step's wall time and ends with one line `N passed, N failed`
# counting every step's tests (a check such as clippy counts as one).
# Exits non-zero on any failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CARGO_TERM_COLOR=never
# One build per run: incremental caches only cost disk (they were 19 GB of a 42 GB target/).
export CARGO_INCREMENTAL=0
LOGS="$ROOT/target/test-logs"
# The container image's server binary (scripts/image-binary.sh), built in the background below.
IMAGE_BIN=target/x86_64-unknown-linux-gnu/image/proxlb-web
mkdir -p "$LOGS"

passed=0
failed=0
timings=()
failures=()
started=$SECONDS

finish() {
  local code=$?
  # Stop anything a step left running (Playwright stops its own server; this is the safety net).
  pkill -f "$ROOT/target/release/proxlb-web" 2>/dev/null || true
  pkill -f "$ROOT/$IMAGE_BIN" 2>/dev/null || true
  # The image build, if the run ended before it did.
  [ -n "${image_pgid:-}" ] && kill -- "-$image_pgid" 2>/dev/null || true
  printf '\n==> step times\n'
  printf '  %s\n' "${timings[@]}"
  if ((${#failures[@]})); then
    printf '\n==> failed steps (logs in %s)\n' "$LOGS"
    printf '  %s\n' "${failures[@]}"
  fi
  printf '\ntotal wall time: %d s\n' "$((SECONDS - started))"
  echo "$passed passed, $failed failed"
  if ((failed > 0)) || ((code != 0 && passed == 0)); then exit 1; fi
  exit 0
}
trap finish EXIT

# step NAME KIND CMD... — KIND is "check" (counts as one test) or "cargo-test" / "playwright"
# (counts the tests the runner reports; a runner that reports nothing counts as one failure).
step() {
  local name=$1 kind=$2 log="$LOGS/$1.log" t0=$SECONDS rc
  shift 2
  printf '\n==> %s: %s\n' "$name" "$*"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  local p=0 f=0
  case "$kind" in
    check)
      if ((rc == 0)); then p=1; else f=1; fi ;;
    cargo-test)
      # cargo test's `test result: ok. 3 passed; 0 failed; …` per binary and nextest's
      # `Summary [ 1.2s] 5 tests run: 4 passed, 1 failed, 1 timed out, 0 skipped`.
      read -r p f < <(awk '/^test result: |^ *Summary \[/{ for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|timed)/) f += $i } } END { print p+0, f+0 }' "$log")
      if ((rc != 0 && f == 0)); then f=1; fi ;;
    tap)
      # `ok - …` / `not ok - …` lines, one per check.
      p=$(grep -c '^ok - ' "$log"); f=$(grep -c '^not ok - ' "$log")
      if ((rc != 0 && f == 0)); then f=1; fi ;;
    playwright)
      local json="$E2E_JSON"
      if [ -f "$json" ]; then
        read -r p f < <(node -e 'const s=require(process.argv[1]).stats; console.log(s.expected, s.unexpected + s.flaky)' "$json")
      fi
      p=${p:-0}; f=${f:-0}
      if ((rc != 0 && f == 0)); then f=1; fi ;;
  esac
  passed=$((passed + p))
  failed=$((failed + f))
  # Disk is a CI limit too: record target/'s size and the free space after every step.
  local target_size free
  target_size=$(du -sh "$ROOT/target" 2>/dev/null | cut -f1)
  free=$(df -h --output=avail "$ROOT" 2>/dev/null | tail -1 | tr -d ' ')
  timings+=("$(printf '%-16s %5d s  rc=%d  %d passed, %d failed  (target %s, disk free %s)' "$name" "$((SECONDS - t0))" "$rc" "$p" "$f" "$target_size" "$free")")
  ((rc == 0)) || failures+=("$name")
  return "$rc"
}

export E2E_JSON="$LOGS/e2e-results.json"

step setup check bash scripts/setup.sh || exit 1
# The container image's server binary (scripts/image-binary.sh: cargo profile `image`, fat LTO,
# static) is the one server build of this run: the e2e tests and the docker step both use it, so
# CI tests the binary that ships and builds no release-profile server (~16 min on 2 cores). It
# starts first, in its own process group at the lowest CPU priority, and takes the CPU the other
# steps leave idle (clippy's long single-threaded check of the app crate, the tests waiting on
# ProxLB's built-in sleeps); the image-binary step below waits for it. Its own target folders
# (target/image, target/x86_64-unknown-linux-gnu/image) lock apart from target/debug. A new
# session is a new scheduler autogroup where the kernel has them (sched_autogroup_enabled):
# `nice` then ranks only inside the group, and the groups share the CPU equally (measured: the
# test build took 931 s instead of 417 s), so the group itself gets nice 19 too.
IMAGE_LOG="$LOGS/image-binary.log"
rm -f "$IMAGE_LOG.rc"
setsid nice -n 19 bash -c '{ echo 19 >/proc/self/autogroup; } 2>/dev/null
  bash scripts/image-binary.sh >"$1" 2>&1; echo $? >"$1.rc"' _ "$IMAGE_LOG" &
image_pgid=$!
image_binary_built() { # waits for the build started above; its log, then its exit code
  while [ ! -f "$IMAGE_LOG.rc" ]; do
    # Killed before it could write its exit code (e.g. out of memory): fail, never wait forever.
    if ! kill -0 "$image_pgid" 2>/dev/null && [ ! -f "$IMAGE_LOG.rc" ]; then
      cat "$IMAGE_LOG"
      echo "the image build ended without an exit code"
      return 1
    fi
    sleep 5
  done
  cat "$IMAGE_LOG"
  return "$(cat "$IMAGE_LOG.rc")"
}

step fmt check cargo fmt --all --check
step clippy-ssr check cargo clippy --locked --workspace --all-targets --features proxlb-web/ssr -- -D warnings
step clippy-hydrate check cargo clippy --locked -p proxlb-web --lib --no-default-features --features hydrate \
  --target wasm32-unknown-unknown -- -D warnings
step domain-wasm32 check cargo build --locked -p plb-domain --target wasm32-unknown-unknown
# The workspace's tests with cargo-nextest (.config/nextest.toml): every test in its own process,
# tests of all binaries side by side, so the slow ones (real ProxLB's sleeps, simulated
# migrations) overlap instead of running binary after binary (593 s with `cargo test`). nextest
# runs no doctests: `cargo test --doc` does, with the libraries this build made. Where
# scripts/setup.sh could not install nextest, `cargo test` runs them all (slower, same tests).
workspace_tests() {
  local rc=0
  if ! cargo nextest --version >/dev/null 2>&1; then
    echo "cargo-nextest is missing: running cargo test instead"
    cargo test --locked --no-fail-fast --workspace --features proxlb-web/ssr
    return
  fi
  cargo nextest run --locked --workspace --features proxlb-web/ssr --no-fail-fast || rc=1
  cargo test --locked --doc --workspace --features proxlb-web/ssr || rc=1
  return "$rc"
}
step cargo-test cargo-test workspace_tests
# The test executables (each links the whole server: 3.4 of the debug build's 5 GB) are not
# needed after this step. When the disk is short (CI starts with ~12 GB free), free them before
# the site build needs the space. Libraries and proc macros stay, so the Docker step's one
# backend test (scripts/docker-test.sh) relinks in seconds instead of rebuilding everything.
free_kib=$(df --output=avail -k "$ROOT" | tail -1 | tr -d ' ')
if ((free_kib < ${PLB_MIN_FREE_KIB:-16000000})); then
  echo "==> disk: $((free_kib / 1024)) MiB free; removing the test executables to make room"
  find "$ROOT/target/debug" "$ROOT/target/debug/deps" -maxdepth 1 -type f -executable ! -name "*.so" -delete
fi
# Size budgets of the shipped bundle (issue 12), checked on the release build's output: sizes are
# deterministic for a given tree, so this is a check, not a timing assert. The page-size budgets
# (dashboard HTML at 10,000 guests ≤ 100 KB, …) are tests: tests/projections.rs.
# The issue's target is 350 KB, not met: 729,000 is the size reached on 2026-12-01 (707,775: one
# JSON reader for resources and server functions, src/api/resource.rs; 729,467 with Leptos'
# `erase_components` alone, 994,099 before it, .cargo/config.toml says why every build needs it)
# plus 3 %, so nothing grows unseen (docs/benchmarks.md says what is big).
WASM_BR_BUDGET=${WASM_BR_BUDGET:-729000}
wasm_budget() {
  local size
  size=$(stat -c %s target/site/pkg/proxlb_web.wasm.br) || return 1
  echo "WASM (brotli): $size bytes, budget $WASM_BR_BUDGET"
  ((size <= WASM_BR_BUDGET)) || { echo "over budget: find what grew (docs/benchmarks.md, 'WASM size')"; return 1; }
}
step site-build check cargo leptos build --release --precompress --cargo-locked --frontend-only
front=$?
# The Docker checks that need neither the site nor the server binary (dockerd, the Debian base,
# the ProxLB image, the Docker backend's test, docker-compose.yml) run while the image build's
# last, single-threaded step (fat LTO) holds one core; ProxLB Web's own image is checked below.
DOCKER_TEST_ONLY=proxlb step docker-proxlb tap bash scripts/docker-test.sh
step image-binary check image_binary_built
image=$?
((front == 0)) && step wasm-budget check wasm_budget
if ((front == 0 && image == 0)); then
  rm -f "$E2E_JSON"
  # An absolute path, so that finish() finds a server the run left behind by its command line.
  E2E_SERVER_BIN="$ROOT/$IMAGE_BIN" step e2e playwright npx playwright test -c end2end/playwright.config.ts
  # docker-test.sh's own call to image-binary.sh finds the binary built.
  DOCKER_TEST_ONLY=image step docker tap bash scripts/docker-test.sh
else
  failed=$((failed + 2))
  failures+=("e2e (skipped: no site or no server binary)" "docker (skipped: no site or no server binary)")
fi
