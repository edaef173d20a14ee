#!/usr/bin/env bash
# Benchmark of `regc build` (issue 9's targets, README "Performance"):
#   1. the library in regimes/ into an empty folder (target: < 300 ms);
#   2. the same, nothing changed since the last build (manifest reuse);
#   3. after touching one regime (incremental; target: < 100 ms);
#   4. a synthetic library of N regimes (default 1,000) into an empty folder
#      (target: < 10 s on this 2-core machine).
# Each is run RUNS times (default 5; the synthetic library 3 times); the
# median wall-clock time, user + system CPU and peak memory are printed,
# with the load average before the runs (the machine is shared: compare
# CPU seconds when it is loaded).
# Usage: bash scripts/bench-build.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
runs="${2:-5}"
cargo build --release --quiet --bin regc --example synth
# A fresh folder under /tmp: in a folder where thousands of files were just
# deleted (target/ after cargo's work), ext4 takes longer to create files,
# and that would be measured as the build's time.
work="$(mktemp -d "${TMPDIR:-/tmp}/regc-bench-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
regc="$PWD/target/release/regc"

# measure NAME RUNS SETUP COMMAND...: SETUP runs before each (untimed).
measure() {
  local name="$1" count="$2" setup="$3"
  shift 3
  local i
  for ((i = 0; i < count; i++)); do
    eval "$setup"
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.$i" "$@" >/dev/null 2>"$work/err" ||
      { cat "$work/err"; exit 1; }
  done
  python3 - "$name" "$work" "$count" <<'PY'
import statistics, sys
name, work, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [open(f"{work}/time.{i}").read().split()[-4:] for i in range(count)]
wall = statistics.median(float(r[0]) for r in rows)
cpu = statistics.median(float(r[1]) + float(r[2]) for r in rows)
mem = max(int(r[3]) for r in rows) / 1024
print(f"{name:<44} median {wall * 1000:8.0f} ms wall, {cpu * 1000:8.0f} ms CPU, peak {mem:6.0f} MB ({count} runs)")
PY
}

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
cp -r regimes "$work/lib"
# Earlier outputs are moved aside, not deleted, before a run into an empty
# folder (for the same reason).
k=0
aside='k=$((k + 1)); if [ -e "$work/$dest" ]; then mv "$work/$dest" "$work/aside-$k"; fi'
dest=out
measure "library, into an empty folder" "$runs" "$aside" \
  "$regc" build "$work/lib" --out "$work/out"
measure "library, nothing changed" "$runs" ':' \
  "$regc" build "$work/lib" --out "$work/out"
# A regime of its own (a file under common/ is read by every regime).
touched="$(find "$work/lib" -name '*.regime' -not -path '*/common/*' | sort | head -1)"
measure "library, one regime touched (incremental)" "$runs" 'echo "// touched" >>"$touched"' \
  "$regc" build "$work/lib" --out "$work/out"
target/release/examples/synth "$work/synth" "$n" >/dev/null
dest=synth-out
measure "$n synthetic regimes, into an empty folder" 3 "$aside" \
  "$regc" build "$work/synth" --out "$work/synth-out"
echo "synthetic output: $(find "$work/synth-out" -type f | wc -l) files, $(du -sh "$work/synth-out" | cut -f1)"
