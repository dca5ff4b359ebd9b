#!/usr/bin/env bash
# demo.sh — install what is missing, build the release, and serve ProxLB Web.
#
#   scripts/demo.sh                     # demo mode (embedded simulated cluster) on http://0.0.0.0:8080
#   HOST=127.0.0.1 PORT=9000 scripts/demo.sh
#   DEMO=0 PROXLB_CONFIG=/etc/proxlb/proxlb.yaml scripts/demo.sh   # your own cluster
#
# Any other setting of the README (PROXLB_CONFIG, PROXLB_CONTAINER, RUST_LOG, …) is passed through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

bash scripts/setup.sh
echo "==> cargo leptos build --release --precompress"
cargo leptos build --release --precompress --cargo-locked

export HOST="${HOST:-0.0.0.0}"
export PORT="${PORT:-8080}"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export PROXLB_WEB_DATA="${PROXLB_WEB_DATA:-$ROOT/target/demo-data}"
if [ "${DEMO:-1}" != "0" ]; then export PROXLB_DEMO=1; fi
shown_host=$HOST
[ "$HOST" = "0.0.0.0" ] && shown_host=127.0.0.1
echo "==> ProxLB Web: open http://$shown_host:$PORT/  (Ctrl-C stops it)"
exec "$ROOT/target/release/proxlb-web"
