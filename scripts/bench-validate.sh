#!/usr/bin/env bash
# Benchmark of `regc validate` against frictionless-py on the same file:
# ROWS wide rows (default 1,000,000) of 20 decimal cells, each `range
# 0..1000` and required, with 20 rules (most across cells) in regc, and the
# same per-column constraints (number, required, minimum, maximum) in a
# Frictionless Table Schema. frictionless is installed in a virtualenv under
# target/ by this script. Prints rows/s and peak memory of both.
# With BIG_ROWS (e.g. 3000000), regc alone also runs on a file that many
# rows long, to show that its memory does not grow with the file.
# With WINDOW_ROWS (e.g. 2000000), regc also runs on a file that many rows
# long of a monthly regime whose rules read earlier periods (the window
# path; examples/validate_window_bench.rs), then on the same file read
# whole (REGC_VALIDATE_WHOLE=1, several GB: only with memory to spare).
# Usage: bash scripts/bench-validate.sh [ROWS] [BIG_ROWS] [WINDOW_ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
big="${2:-}"
window="${3:-}"
work="target/bench-validate"
venv="target/frictionless-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet frictionless
fi
cargo build --release --quiet --bin regc --example validate_bench --example validate_window_bench
rm -rf "$work"
target/release/examples/validate_bench "$work" "$rows"

load="$(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
/usr/bin/time -f "%M %U %S" -o "$work/regc.mem" target/release/regc validate bench.daily "$work/rows.csv" \
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
/usr/bin/time -f "%M %U %S" -o "$work/fl.mem" "$venv/bin/python" "$work/fl_bench.py" "$work" >"$work/fl.out"
t2=$(date +%s.%N)
echo "load average before the runs: $load; $(nproc) cores"
echo "frictionless: $(cat "$work/fl.out") (rows, errors)"
python3 - "$rows" "$t0" "$t1" "$t2" "$(tail -1 "$work/regc.mem")" "$(tail -1 "$work/fl.mem")" "$(($(wc -l <"$work/violations.csv") - 1))" <<'PY'
import sys
rows, t0, t1, t2 = int(sys.argv[1]), *map(float, sys.argv[2:5])
m1, u1, s1 = sys.argv[5].split()
m2, u2, s2 = sys.argv[6].split()
v = int(sys.argv[7])
a, b = t1 - t0, t2 - t1
print(f"regc validate  {rows:>9} rows in {a:7.2f} s = {rows / a:>10,.0f} rows/s, peak {int(m1) / 1024:6.0f} MB, CPU {float(u1) + float(s1):6.2f} s, {v} violations")
print(f"frictionless   {rows:>9} rows in {b:7.2f} s = {rows / b:>10,.0f} rows/s, peak {int(m2) / 1024:6.0f} MB, CPU {float(u2) + float(s2):6.2f} s")
print(f"ratio: regc is {b / a:.1f}x frictionless in rows/s (target: 50x); {(float(u2) + float(s2)) / (float(u1) + float(s1)):.1f}x in CPU time")
PY
if [ -n "$big" ]; then
  target/release/examples/validate_bench "$work/big" "$big"
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/big.mem" target/release/regc validate bench.daily "$work/big/rows.csv" \
    --lib "$work/big/lib" --format csv >/dev/null 2>"$work/big.err" || true
  t1=$(date +%s.%N)
  python3 -c "import sys; r, a, m = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]), int(sys.argv[4]); print(f'regc validate  {r:>9} rows in {a:7.2f} s = {r / a:>10,.0f} rows/s, peak {m / 1024:6.0f} MB')" \
    "$big" "$t0" "$t1" "$(tail -1 "$work/big.mem")"
  rm -rf "$work/big"
fi
if [ -n "$window" ]; then
  target/release/examples/validate_window_bench "$work/window" "$window"
  for how in window whole; do
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    t0=$(date +%s.%N)
    if [ "$how" = whole ]; then export REGC_VALIDATE_WHOLE=1; fi
    /usr/bin/time -f "%M %U %S" -o "$work/window.mem" target/release/regc validate bench.monthly \
      "$work/window/rows.csv" --lib "$work/window/lib" --format csv >/dev/null 2>"$work/window.err" || true
    unset REGC_VALIDATE_WHOLE
    t1=$(date +%s.%N)
    python3 -c "import sys; r, a = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); m, u, s = sys.argv[4].split(); print(f'regc validate  {r:>9} rows, rules on earlier periods, {sys.argv[5]:>6}: {a:7.2f} s = {r / a:>10,.0f} rows/s, peak {int(m) / 1024:6.0f} MB, CPU {float(u) + float(s):6.2f} s (load before: {sys.argv[6]})')" \
      "$window" "$t0" "$t1" "$(tail -1 "$work/window.mem")" "$how" "$load"
  done
  rm -rf "$work/window"
fi
