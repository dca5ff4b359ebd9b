#!/usr/bin/env bash
# setup.sh — idempotent install of everything ProxLB Web needs to build, run and test, on a bare
# Debian 12 machine with Rust 1.95 (+ wasm32-unknown-unknown), node/npm and python3.
# Only the package registries (apt, crates.io, npm, PyPI) are used. A second run takes seconds.
#
#   scripts/setup.sh          # install what is missing, print tool versions
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
CARGO_BIN="$CARGO_HOME/bin"
export PATH="$CARGO_BIN:$PATH"
# Playwright must never try to download its own browser: we drive Debian's chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

CARGO_LEPTOS_VERSION=0.3.11
# Lock pins for tool lockfiles this toolchain/registry cannot use (see docs/toolchain notes in README):
#   cargo-util-schemas 0.14.2 (cargo-leptos 0.3.11's lock) needs rustc 1.96 -> 0.14.1
#   webpki-roots 1.0.11 (wasm-bindgen-cli 0.2.130's lock) is not served by the registry -> 1.0.10
CARGO_LEPTOS_LOCK_PINS="cargo-util-schemas@0.14.1"
WASM_BINDGEN_LOCK_PINS="webpki-roots@1.0.10"
# wasm-bindgen-cli must equal the wasm-bindgen crate version in Cargo.lock.
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock" 2>/dev/null || true)}"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"
# ProxLB itself, for the integration tests against the Proxmox simulator.
PROXLB_VERSION=2.3.0
VENV="$ROOT/.venv"

log() { printf '==> %s\n' "$*"; }
step_start=$SECONDS
timed() { # timed LABEL CMD...: run and print the wall time of the step
  local label=$1 t0=$SECONDS; shift
  "$@"
  log "$label: $((SECONDS - t0)) s"
}

apt_packages() {
  # chromium: the browser Playwright drives (executablePath /usr/bin/chromium).
  # docker.io, docker-compose, debootstrap, curl: scripts/docker-test.sh builds and runs the image.
  # wrk, jq: scripts/bench.sh drives the release server with wrk and reads its JSON with jq.
  local pkgs=(chromium docker.io docker-compose debootstrap curl wrk jq) missing=() p
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "apt packages present: ${pkgs[*]}"
  fi
}

wasm_target() {
  # Usually preinstalled; where it is not, rustup may still be able to fetch it.
  rustup target list --installed | grep -qx wasm32-unknown-unknown && { log "wasm32 target present"; return; }
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown \
    || { echo "setup: the Rust target wasm32-unknown-unknown is missing and could not be installed" >&2; exit 1; }
}

# cargo_install_pinned NAME VERSION BIN "pkg@ver ..." [extra cargo install args]
# Builds a tool from its crates.io source with its own lockfile, after pinning the entries that
# this toolchain or registry cannot use.
cargo_install_pinned() {
  local name=$1 version=$2 bin=$3 pins=$4; shift 4
  if [ -x "$CARGO_BIN/$bin" ] && "$CARGO_BIN/$bin" --version 2>/dev/null | grep -q " $version\$"; then
    log "$name $version already installed"; return
  fi
  log "cargo install $name $version (locked, pins: $pins)"
  (cd / && cargo info -q "$name@$version" >/dev/null)   # unpacks the crate source into the registry cache
  local src work pin
  src="$(ls -d "$CARGO_HOME"/registry/src/*/"$name-$version" | head -1)"
  work="$(mktemp -d)"
  cp -r "$src" "$work/$name"
  for pin in $pins; do
    (cd "$work/$name" && cargo update -q -p "${pin%@*}" --precise "${pin#*@}")
  done
  cargo install -q --root "$CARGO_HOME" --path "$work/$name" --locked "$@"
  rm -rf "$work"
}

# cargo-nextest runs the workspace's tests (scripts/test.sh). Preinstalled on the project's build
# machines (/usr/local/bin); built from crates.io where it is missing. Not fatal: without it,
# scripts/test.sh runs the same tests with `cargo test`.
NEXTEST_VERSION=0.9.143
nextest() {
  if cargo nextest --version >/dev/null 2>&1; then
    log "cargo-nextest present: $(cargo nextest --version 2>/dev/null | head -1)"; return
  fi
  log "cargo install cargo-nextest $NEXTEST_VERSION (locked)"
  cargo install -q --root "$CARGO_HOME" --locked cargo-nextest --version "$NEXTEST_VERSION" ||
    log "cargo-nextest could not be installed; scripts/test.sh will use cargo test"
}

npm_tools() {
  cd "$ROOT"
  [ -f package-lock.json ] || { log "no package-lock.json yet; skipping npm"; return; }
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  else
    log "node_modules up to date"
  fi
}

proxlb_venv() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('proxlb') == '$PROXLB_VERSION'" 2>/dev/null; then
    log "ProxLB $PROXLB_VERSION present in .venv"; return
  fi
  log "ProxLB $PROXLB_VERSION into .venv"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "proxlb==$PROXLB_VERSION"
}

timed "apt packages" apt_packages
timed "wasm32 target" wasm_target
timed "cargo-leptos" cargo_install_pinned cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-leptos "$CARGO_LEPTOS_LOCK_PINS" --features no_downloads
timed "wasm-bindgen-cli" cargo_install_pinned wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen "$WASM_BINDGEN_LOCK_PINS"
timed "cargo-nextest" nextest
timed "npm tools" npm_tools
timed "proxlb" proxlb_venv

log "versions"
echo "rustc:        $(rustc --version)"
echo "cargo-leptos: $("$CARGO_BIN/cargo-leptos" --version)"
echo "wasm-bindgen: $("$CARGO_BIN/wasm-bindgen" --version)"
if [ -x "$ROOT/node_modules/.bin/wasm-opt" ]; then
  echo "wasm-opt:     $("$ROOT/node_modules/.bin/wasm-opt" --version)"
  echo "playwright:   $("$ROOT/node_modules/.bin/playwright" --version)"
fi
echo "chromium:     $(chromium --version 2>/dev/null)"
echo "proxlb:       $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("proxlb"))')"
log "setup done in $((SECONDS - step_start)) s"
