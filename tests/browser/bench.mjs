// Benchmark of a generated form in headless Chromium (docs/forms.md):
// a grid of 100 rows × 10 columns (800 entered cells, 200 computed: a
// row total and its year to date) with 100 rules, all cells filled, then
// KEYS keystrokes typed one by one into different cells; each keystroke's
// time is the page's own handler (recompute the computed cells and
// recheck the rules the change reaches, update messages and summary) plus
// layout, measured in the page with performance.now(); then 20 full passes
// (every cell, every rule: a change of unit). Also the page weight
// (HTML + CSS + JS).
//
//   node tests/browser/bench.mjs REGC_BINARY [KEYS]     (scripts/bench-forms.sh)

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [regc, keysArg] = process.argv.slice(2);
const KEYS = Number(keysArg || 300);
const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function regime() {
  const cols = Array.from({ length: 8 }, (_, i) => `c${i + 1}`);
  let text = `use common.units
regime bench.forms {
  title "Biểu thử 1.000 ô, 100 quy tắc"
  basis "-"
  owner "-"
  version 1
  frequency monthly
  cutoff calendar
  reporters province
  flow province -> ministry
  deadline province 5 days after cutoff, ministry 10 days after cutoff
  form B01 "Một nghìn ô" {
    columns {
${cols.map((c, i) => `      ${c} "Cột ${i + 1}" entered`).join("\n")}
      total "Tổng" = ${cols.join(" + ")}
      ytd "Lũy kế" = sum(total over year_to_date)
    }
    rows {
`;
  for (let r = 1; r <= 100; r++) text += `      ${r} r${r} "Chỉ tiêu ${r}" : decimal(14,2) [tonne]\n`;
  text += "    }\n  }\n";
  for (let k = 1; k <= 100; k++) {
    const r = k;
    const next = (k % 100) + 1;
    const sev = k % 4 === 0 ? "warning" : "error";
    text += k % 2
      ? `  rule R${k} ${sev} "Dòng ${r}: cột 1 ({r${r}.c1}) không quá một nửa tổng ({r${r}.total})": r${r}.c1 * 2 <= r${r}.total\n    missing zero\n`
      : `  rule R${k} ${sev} "Dòng ${r} so với dòng ${next}: {r${r}.total} và {r${next}.total}": r${r}.total <= r${next}.total * 100 and r${r}.ytd >= r${r}.total\n`;
  }
  return text + "}\n";
}

const tmp = mkdtempSync(join(tmpdir(), "regc-bench-forms-"));
try {
  const lib = join(tmp, "lib");
  cpSync(join(repo, "tests/fixtures/lib"), lib, { recursive: true });
  mkdirSync(join(lib, "bench"));
  writeFileSync(join(lib, "bench/forms.regime"), regime());
  const out = join(tmp, "out");
  execFileSync(regc, ["build", lib, "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
  const html = join(out, "bench.forms/forms/B01.html");
  const weight = {
    html: statSync(html).size,
    css: statSync(join(out, "forms.css")).size,
    js: statSync(join(out, "forms.js")).size,
  };
  weight.total = weight.html + weight.css + weight.js;

  const browser = await chromium.launch({
    executablePath: process.env.REGC_CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  await page.goto(`file://${html}`);
  const result = await page.evaluate((keys) => {
    const inputs = [...document.querySelectorAll('input[id^="f-"]')];
    const outputs = document.querySelectorAll('output[id^="f-"]').length;
    document.getElementById("regc-unit").value = "01";
    document.getElementById("regc-period").value = "2025-08";
    inputs.forEach((el, i) => (el.value = String(100 + (i % 37))));
    inputs[0].dispatchEvent(new Event("input", { bubbles: true }));
    const ms = [];
    const script = [];
    for (let k = 0; k < keys; k++) {
      const el = inputs[(k * 7919) % inputs.length];
      // One more digit, as typed (sometimes breaking a rule).
      const t0 = performance.now();
      el.value = el.value.length > 6 ? "1" : el.value + String(k % 10);
      el.dispatchEvent(new Event("input", { bubbles: true }));
      const t1 = performance.now();
      void document.body.offsetHeight;
      ms.push(performance.now() - t0);
      script.push(t1 - t0);
    }
    const messages = [...document.querySelectorAll(".regc-msg")].filter((m) => m.textContent).length;
    // A full pass (what a change of unit or period, a submit, or any
    // keystroke before the incremental updates costs): every cell, every rule.
    const full = [];
    const unit = document.getElementById("regc-unit");
    for (let k = 0; k < 20; k++) {
      const t0 = performance.now();
      unit.dispatchEvent(new Event("input", { bubbles: true }));
      void document.body.offsetHeight;
      full.push(performance.now() - t0);
    }
    return { inputs: inputs.length, outputs, ms, script, messages, full };
  }, KEYS);
  await browser.close();
  const sorted = [...result.ms].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const report = {
    entered_cells: result.inputs,
    computed_cells: result.outputs,
    rules: 100,
    keystrokes: KEYS,
    messages_shown_at_end: result.messages,
    ms_per_keystroke: { median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +sorted.at(-1).toFixed(2) },
    under_16ms: result.ms.filter((x) => x < 16).length,
    full_pass_ms_median: +[...result.full].sort((a, b) => a - b)[10].toFixed(2),
    script_ms_median: +[...result.script].sort((a, b) => a - b)[Math.floor(result.script.length / 2)].toFixed(2),
    script_ms_p95: +[...result.script].sort((a, b) => a - b)[Math.floor(result.script.length * 0.95)].toFixed(2),
    page_weight_bytes: weight,
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
