#!/usr/bin/env bash
# Benchmark of `regc validate` against frictionless-py on the same file:
# ROWS wide rows (default 1,000,000) of 20 decimal cells, each `range
# 0..1000` and required, with 20 rules (most across cells) in regc, and the
# same per-column constraints (number, required, minimum, maximum) in a
# Frictionless Table Schema. frictionless is installed in a virtualenv under
# target/ by this script. Prints rows/s and peak memory of both.
# Usage: bash scripts/bench-validate.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
work="target/bench-validate"
venv="target/frictionless-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet frictionless
fi
cargo build --release --quiet --bin regc --example validate_bench
rm -rf "$work"
target/release/examples/validate_bench "$work" "$rows"

t0=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/regc.mem" target/release/regc validate bench.daily "$work/rows.csv" \
  --lib "$work/lib" --format csv >"$work/violations.csv" 2>"$work/regc.err" || true
t1=$(date +%s.%N)
cat >"$work/fl_bench.py" <<'PY'
import json, os, sys
from frictionless import Resource, Schema
os.chdir(sys.argv[1])
schema = Schema.from_descriptor(json.load(open("schema.json")))
report = Resource(path="rows.csv", schema=schema).validate(limit_errors=10**9)
print(report.tasks[0].stats["rows"], report.tasks[0].stats["errors"])
PY
/usr/bin/time -f "%M" -o "$work/fl.mem" "$venv/bin/python" "$work/fl_bench.py" "$work" >"$work/fl.out"
t2=$(date +%s.%N)
python3 - "$rows" "$t0" "$t1" "$t2" "$(tail -1 "$work/regc.mem")" "$(tail -1 "$work/fl.mem")" "$(($(wc -l <"$work/violations.csv") - 1))" <<'PY'
import sys
rows, t0, t1, t2, m1, m2, v = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
a, b = t1 - t0, t2 - t1
print(f"regc validate  {rows:>9} rows in {a:7.2f} s = {rows / a:>10,.0f} rows/s, peak {m1 / 1024:6.0f} MB, {v} violations")
print(f"frictionless   {rows:>9} rows in {b:7.2f} s = {rows / b:>10,.0f} rows/s, peak {m2 / 1024:6.0f} MB")
print(f"ratio: regc is {b / a:.1f}x frictionless (target: 50x)")
PY
