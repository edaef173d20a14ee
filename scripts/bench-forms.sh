#!/usr/bin/env bash
# Benchmark of the generated forms in headless Chromium (docs/forms.md): a
# form of 1,000 cells (800 entered, 200 computed) with 100 rules; the time
# of each keystroke (recompute and recheck what it reaches, update the
# page), of a full pass (everything), and the page weight. Usage: bash scripts/bench-forms.sh [KEYSTROKES]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
node tests/browser/bench.mjs "$PWD/target/release/regc" "${1:-300}"
