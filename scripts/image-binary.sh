#!/usr/bin/env bash
# image-binary.sh — build the server binary the container image ships, and print its path.
#
#   scripts/image-binary.sh     # then: docker build -t proxlb-web .   (needs target/site too)
#
# Cargo profile `image` (Cargo.toml: fat LTO, one codegen unit, stripped) and glibc linked
# statically (static-pie), so the binary runs on an empty `FROM scratch` image. The normal
# release binary (target/release/proxlb-web, used by the tests and benchmarks) is not touched.
# Passing `--target` keeps the static flag away from build scripts and proc macros, which must
# stay dynamic; the output lands in target/x86_64-unknown-linux-gnu/image/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TRIPLE=x86_64-unknown-linux-gnu
# Cargo joins this with .cargo/config.toml's `target.'cfg(all())'` flags (`--cfg erase_components`,
# which the server needs to match the site's WASM), so they are not repeated here; a RUSTFLAGS
# variable would drop them.
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
# The same features cargo-leptos builds the server with (bin-features in Cargo.toml).
cargo build --locked --profile image --target "$TRIPLE" --bin proxlb-web \
  --no-default-features --features ssr >&2
BIN="target/$TRIPLE/image/proxlb-web"
# A static-pie binary asks for no program interpreter (ld.so); one that does fails on `scratch`.
if readelf -lW "$BIN" | grep -q 'program interpreter'; then
  echo "image-binary: $BIN is dynamically linked" >&2
  exit 1
fi
echo "$BIN"
