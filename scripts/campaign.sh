#!/usr/bin/env bash
# A reporting campaign on `regc serve`, end to end, as the README's
# walkthrough tells it: three provinces submit the monthly state budget
# report (finance.state_budget, B01), one is returned and corrected, the
# ministry (Bộ Tài chính) approves and reads the roll-up and the late list.
#
#   bash scripts/campaign.sh            # uses target/release/regc (cargo build --release)
#
# Everything happens in a temporary folder; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
REGC=${REGC:-target/release/regc}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite:$work/campaign.db"
export REGC_PASSWORD='mật khẩu chiến dịch'

# 1. Users: a reporter for each of three provinces, an approver at the ministry.
for p in 01:hanoi 31:haiphong 79:hcm; do
  "$REGC" serve --db "$db" --create-user "${p#*:}" --unit "${p%%:*}" --role reporter
done
"$REGC" serve --db "$db" --create-user btc --unit BTC --role approver

# 2. The server, on a free port.
"$REGC" serve --db "$db" --listen 127.0.0.1:0 > "$work/server.out" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.2; done
base=$(sed -n 's/.*listening on //p' "$work/server.out")
echo "server: $base"

login() { # NAME → a cookie jar $work/NAME.jar; prints the CSRF token
  curl -sf -c "$work/$1.jar" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"password\":\"$REGC_PASSWORD\"}" "$base/api/login" |
    sed 's/.*"csrf":"\([0-9a-f]*\)".*/\1/'
}
post() { # NAME CSRF PATH JSON → the answer
  curl -s -b "$work/$1.jar" -H 'Content-Type: application/json' -H "X-CSRF-Token: $2" \
    -d "$4" "$base$3"
}
report() { # UNIT REVENUE DOMESTIC → a submission document of B01 and B02 for 2025-08
  cat <<JSON
{"regime": "finance.state_budget", "submissions": [{"unit": "$1", "period": "2025-08", "form": "B01",
 "records": {"0": {"revenue.plan": "100000.0", "revenue.month": "$2",
   "domestic.plan": "90000.0", "domestic.month": "$3", "land_use.plan": "5000.0", "land_use.month": "400.0",
   "lottery.plan": "100.0", "lottery.month": "8.0", "crude_oil.plan": "0.0", "crude_oil.month": "0.0",
   "import_export.plan": "9900.0", "import_export.month": "900.0", "aid.plan": "100.0", "aid.month": "0.0"}}},
 {"unit": "$1", "period": "2025-08", "form": "B02",
 "records": {"0": {"expenditure.plan": "120000.0", "expenditure.month": "9000.0",
   "dev_investment.plan": "60000.0", "dev_investment.month": "3000.0", "debt_interest.plan": "500.0", "debt_interest.month": "40.0",
   "recurrent.plan": "59400.0", "recurrent.month": "5960.0", "education.plan": "20000.0", "education.month": "2000.0",
   "science.plan": "1000.0", "science.month": "50.0", "reserve_fund.plan": "100.0", "reserve_fund.month": "0.0", "contingency.plan": "0.0"}}}]}
JSON
}

# 3. The provinces submit. Hải Phòng's first try breaks the split rule
#    (8000 + 900 ≠ 9000): refused, nothing stored; fixed, it goes in.
for p in 01:hanoi 79:hcm; do
  t=$(login "${p#*:}")
  echo "${p#*:}: $(post "${p#*:}" "$t" /api/r/finance.state_budget/submit "$(report "${p%%:*}" 8900.0 8000.0)")"
done
t=$(login haiphong)
echo "haiphong: $(post haiphong "$t" /api/r/finance.state_budget/submit "$(report 31 9000.0 8000.0)")"
echo "haiphong (fixed): $(post haiphong "$t" /api/r/finance.state_budget/submit "$(report 31 9000.0 8100.0)")"

# 4. The ministry returns Hà Nội's report with a reason, approves Hồ Chí Minh's.
t=$(login btc)
echo "btc returns 01: $(post btc "$t" /api/r/finance.state_budget/report/B01/01/2025-08/return '{"revision": 1, "reason": "Số thu tháng chưa khớp Kho bạc"}')"
echo "btc approves 79: $(post btc "$t" /api/r/finance.state_budget/report/B01/79/2025-08/approve '{"revision": 1}')"

# 5. Hà Nội corrects (revision 2); the ministry approves it.
h=$(login hanoi)
echo "hanoi corrects: $(post hanoi "$h" /api/r/finance.state_budget/submit "$(report 01 8950.0 8050.0)")"
echo "btc approves 01: $(post btc "$t" /api/r/finance.state_budget/report/B01/01/2025-08/approve '{"revision": 2}')"

# 6. What the ministry sees: the history, who is late, the roll-up.
echo "history of 01:"; curl -s -b "$work/btc.jar" "$base/api/r/finance.state_budget/report/B01/01/2025-08"; echo
echo "late or missing (first lines):"
curl -s -b "$work/btc.jar" "$base/api/r/finance.state_budget/expected?period=2025-08&format=csv" | head -5
echo "national roll-up of 2025-08 (CSV, the Government's row):"
curl -s -b "$work/btc.jar" "$base/api/r/finance.state_budget/rollup?period=2025-08&form=B01&format=csv" | sed -n '1p;/,VN,/p'
echo "open $base/r/finance.state_budget?period=2025-08 in a browser to see the same pages"
