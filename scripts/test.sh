#!/usr/bin/env bash
# Runs every test of regc: the unit, snapshot, property, command-line and
# browser tests. This is the README's test command, and .ci/run calls it.
#
# A fresh machine needs only Rust (cargo); anything else the tests need is
# installed here. Under CI=true nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "scripts/test.sh: cargo is not installed; install Rust from rustup.rs first" >&2
  exit 2
fi

# Snapshot tests never write snapshots in CI: a difference is a failure.
if [ "${CI:-}" = "true" ]; then
  export INSTA_UPDATE=no
fi

# The browser tests of tests/forms.rs drive the system Chromium through
# playwright-core (npm, tests/browser/): both are installed when missing
# (Debian's chromium with apt-get, as root or through sudo).
if ! command -v chromium >/dev/null 2>&1; then
  apt=""
  if [ "$(id -u)" = 0 ]; then apt="apt-get"; elif sudo -n true 2>/dev/null; then apt="sudo apt-get"; fi
  if [ -n "$apt" ] && command -v apt-get >/dev/null 2>&1; then
    $apt update -qq
    DEBIAN_FRONTEND=noninteractive $apt install -y -qq chromium chromium-driver >/dev/null
  else
    echo "scripts/test.sh: chromium is missing and cannot be installed here (the browser tests will say so)" >&2
  fi
fi
# tests/migrate.rs pipes migration scripts into the engines' own shells,
# as docs/database.md tells users to: sqlite3 and psql.
missing=""
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
command -v psql >/dev/null 2>&1 || missing="$missing postgresql-client"
if [ -n "$missing" ]; then
  apt=""
  if [ "$(id -u)" = 0 ]; then apt="apt-get"; elif sudo -n true 2>/dev/null; then apt="sudo apt-get"; fi
  if [ -n "$apt" ] && command -v apt-get >/dev/null 2>&1; then
    $apt update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $apt install -y -qq $missing >/dev/null
  else
    echo "scripts/test.sh:$missing missing and cannot be installed here (tests/migrate.rs will fail)" >&2
  fi
fi
if [ ! -d tests/browser/node_modules/playwright-core ] && command -v npm >/dev/null 2>&1; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --all-features 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# One closing line for the whole run.
passed=$(grep -oE '^test result: .* ([0-9]+) passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '^test result: .* ([0-9]+) failed' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
echo "regc: ${passed} passed, ${failed} failed"
exit "$status"
