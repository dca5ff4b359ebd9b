#!/usr/bin/env bash
# differential.sh — the full balancing sweep: the native plan against real ProxLB 2.3.0 on
# hundreds of random seeded pve-sim clusters (up to 64 nodes), then the agreement table per
# method and mode (crates/backend/tests/balancing_differential.rs; CI runs a small slice).
#
#   scripts/differential.sh                      # 300 scenarios, up to 64 nodes and 300 guests
#   SCENARIOS=60 MAX_NODES=8 scripts/differential.sh
#
# Environment: SCENARIOS (300), MAX_NODES (64), MAX_GUESTS (300), SEED (base seed, 1), JOBS
# (ProxLB processes at a time, 8; ProxLB mostly sleeps 0.1 s between per-guest requests, so
# more processes than cores is fine), PROXLB_PYTHON (default <repo>/.venv/bin/python).
# Exit code: 0 when every scenario agrees, else the test's failure (seed, scenario, config and
# both plans are printed above the table).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPORT="$(mktemp)"
trap 'rm -f "$REPORT"' EXIT
status=0
PLB_DIFF_SCENARIOS="${SCENARIOS:-300}" \
PLB_DIFF_MAX_NODES="${MAX_NODES:-64}" \
PLB_DIFF_MAX_GUESTS="${MAX_GUESTS:-300}" \
PLB_DIFF_SEED="${SEED:-1}" \
PLB_DIFF_JOBS="${JOBS:-8}" \
PLB_DIFF_REPORT="$REPORT" \
  cargo test -p plb-backend --test balancing_differential \
  native_plan_agrees_with_real_proxlb_on_random_clusters -- --nocapture || status=$?
echo
echo "Balancing differential (native plan vs ProxLB 2.3.0), seed ${SEED:-1}:"
cat "$REPORT" 2>/dev/null || echo "(no table: the test did not get to the end)"
exit "$status"
