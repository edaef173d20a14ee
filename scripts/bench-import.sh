#!/usr/bin/env bash
# Benchmark of `regc import`: 1,000,000 long-format rows (5,406 submissions
# of natural_resources.land_use, 185 entered cells each) into a fresh SQLite
# file and a fresh PostgreSQL schema. The library's reference data (24,000
# org units, their closure…) is loaded first with a small file, so the
# figures are those of the submissions alone; the first import's reference
# load is timed separately. Usage: bash scripts/bench-import.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
pg="${REGC_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet --bin regc --example submissions
regc=target/release/regc
target/release/examples/submissions natural_resources.land_use "$rows" "$work/rows.csv"
target/release/examples/submissions natural_resources.land_use 185 "$work/one.csv"
schema="bench_$$"
cleanup_pg() { psql "$pg" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; }

measure() { # name db
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/mem" "$regc" import natural_resources.land_use "$work/rows.csv" --db "$2" >"$work/out"
  end=$(date +%s.%N)
  python3 - "$1" "$start" "$end" "$rows" "$(cat "$work/mem")" <<'PY'
import sys
name, start, end, rows, mem = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
secs = end - start
print(f"{name:<11} {rows:>9} rows in {secs:6.2f} s = {rows / secs:>9,.0f} rows/s, peak {mem / 1024:.0f} MB")
PY
}

first=$( { /usr/bin/time -f "%e" "$regc" import natural_resources.land_use "$work/one.csv" --db "sqlite:$work/bench.db" >/dev/null; } 2>&1 )
echo "sqlite      first import with the reference data: ${first} s"
measure sqlite "sqlite:$work/bench.db"
if psql "$pg" -q -c "CREATE SCHEMA $schema" >/dev/null 2>&1; then
  trap 'cleanup_pg; rm -rf "$work"' EXIT
  url="$pg?options=-csearch_path%3D$schema"
  first=$( { /usr/bin/time -f "%e" "$regc" import natural_resources.land_use "$work/one.csv" --db "$url" >/dev/null; } 2>&1 )
  echo "postgres    first import with the reference data: ${first} s"
  measure postgres "$url"
else
  echo "postgres    skipped: no server at $pg"
fi
