#!/usr/bin/env bash
# bench.sh — measure ProxLB Web and write the results to docs/benchmarks.md.
#
#   scripts/bench.sh            # needs a release build (cargo leptos build --release --precompress)
#
# Measures the shipped artifact sizes and, with `cargo bench --bench api`, the REST API's latency
# at 1, 50 and 200 concurrent loopback clients, server rendering of the dashboard, and one
# guest-filter keystroke at 10,000 guests, and (end2end/bench/guest-filter.mjs) the same keystroke
# in headless Chromium against the release server. Targets (API p99 <= 10 ms at 200 clients on the
# 3-node demo; one keystroke < 16 ms at 10,000 guests) are checked here, never as timing asserts
# in tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PKG=target/site/pkg
BIN=target/release/proxlb-web
[ -f "$PKG/proxlb_web.wasm.br" ] && [ -x "$BIN" ] || {
  echo "bench: no release build; run: cargo leptos build --release --precompress" >&2; exit 1; }

size() { stat -c %s "$1"; }
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
  echo "| \`target/release/proxlb-web\` | $(size "$BIN") |"
  echo "| same, stripped | $(size "$ROOT/target/proxlb-web.stripped") |"
} > target/bench-sizes.md

# Latency: REST API at 1/50/200 clients, dashboard SSR, guest filtering at 10,000 guests.
cargo bench --locked --features ssr --bench api

# The Guests view at 10,000 guests in a real browser: page size, hydration, one keystroke.
node end2end/bench/guest-filter.mjs target/bench-browser.md

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
splice sizes target/bench-sizes.md
splice api target/bench-api.md
splice browser target/bench-browser.md
cat target/bench-sizes.md
