#!/usr/bin/env bash
# Benchmark of the generated roll-ups at national scale: the 3,321 communes
# of the 2025 hierarchy report 20 cells a month for MONTHS months (default
# 36); the reports go into a fresh PostgreSQL schema and a fresh SQLite
# file; the generated roll-up view is materialized for (b) every unit and
# level (months, quarters, halves, nine months, years), (a) the provinces
# and the country only, and (c) completeness, medians of 3; (b) is timed
# against a hand-written PostgreSQL query for the same rows (checked equal).
# Usage: bash scripts/bench-rollup.sh [MONTHS]
set -euo pipefail
cd "$(dirname "$0")/.."
months="${1:-36}"
pg="${REGC_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
work="$(mktemp -d)"
schema="bench_rollup_$$"
cleanup() {
  psql "$pg" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql "$pg" -q -c "CREATE SCHEMA $schema"
cargo build --release --quiet --example rollup_bench
sep='?'
case "$pg" in *\?*) sep='&' ;; esac
target/release/examples/rollup_bench "${pg}${sep}options=-csearch_path%3D${schema}" "$work/bench.db" "$months"
