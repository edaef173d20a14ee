// Drives the system Chromium (headless, through playwright-core) through a
// generated form for tests/forms.rs, which makes the plan and asserts on
// what this prints. No assertion here: the driver only acts and reports.
//
//   node tests/browser/driver.mjs PLAN.json
//
// PLAN: {"sessions": [SESSION, …]}, each SESSION in a fresh browser context:
//   {"page": "/abs/path/B01.html", "steps": [STEP, …], "screenshot": "out.png"?}
// STEP, each reporting one entry of "results" where it says so:
//   {"fill": ID, "value": TEXT}          types into the control #ID (select: chooses)
//   {"add_record": true}                 clicks "Thêm dòng"
//   {"remove_record": N}                 clicks "Xóa dòng" of record N
//   {"explain": RULE, "text": TEXT}      writes the explanation of a warning
//   {"explain_all": TEXT}                writes TEXT as every warning's explanation
//   {"press": KEY, "on": ID}             focuses #ID, presses KEY → {"focused": id}
//   {"tab_from": ID, "count": N}         focuses #ID, presses Tab N times → {"focused": id}
//   {"look": true}                       → {"outputs": {cell: shown}, "messages": {id: text},
//                                           "errors": [summary lines], "warnings": [rule codes],
//                                           "summary_hidden": bool, "status": text, "invalid": [ids],
//                                           "warned": [ids], "titles": {cell: exact value},
//                                           "message_classes": {id: class}, "summary_title": text}
//   {"submit": true}                     → {"status": text, "json": parsed document or null}
//   {"a11y": true}                       → {"controls": n, "unlabelled": [ids], "describedby_missing": [ids],
//                                           "invalid_unexplained": [ids], "invalid": n}
//   {"keys": [[ID, TEXT], …]}           sets each control's text and fires its input event, in the page
//   {"full_pass": true}                  fires an input event on the unit: the page recomputes everything
//   {"print": true}                      → {"text": the page's visible text as printed, "heading": [texts of
//                                           .regc-official and .regc-sign]}; the screen media comes back after
//   {"bench": ID, "values": [TEXT, …]}   → {"ms": [per keystroke]}: the time of the input
//                                           event's handler plus layout, measured in the page
// The report: {"sessions": [{"results": [...], "dialogs": [...], "csp": [violations],
//              "console_errors": [...], "requests": [non-file URLs], "injected": {...}}, …]}

import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const browser = await chromium.launch({
  executablePath: process.env.REGC_CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
async function session(plan) {
  const report = { results: [], dialogs: [], csp: [], console_errors: [], requests: [], injected: null };
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("dialog", async (d) => {
    report.dialogs.push(d.message());
    await d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error") report.console_errors.push(m.text());
  });
  page.on("pageerror", (e) => report.console_errors.push(String(e)));
  page.on("request", (r) => {
    if (!r.url().startsWith("file:")) report.requests.push(r.url());
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`file://${plan.page}`);
  await page.waitForLoadState("load");
  const control = (id) => page.locator(`[id="${id}"]`);
  for (const step of plan.steps) {
    if (step.fill !== undefined) {
      const el = control(step.fill);
      const tag = await el.evaluate((e) => e.tagName);
      if (tag === "SELECT") await el.selectOption(step.value);
      else await el.fill(step.value);
    } else if (step.add_record) {
      await page.click("#regc-add");
    } else if (step.remove_record !== undefined) {
      await page.click(`[aria-label="Xóa dòng ${step.remove_record}"]`);
    } else if (step.explain_all !== undefined) {
      for (const area of await page.locator("#regc-warnings textarea").all()) await area.fill(step.explain_all);
    } else if (step.explain !== undefined) {
      await control(`x-${step.explain}`).fill(step.text);
    } else if (step.press !== undefined) {
      await control(step.on).focus();
      await page.keyboard.press(step.press);
      report.results.push({ focused: await page.evaluate(() => document.activeElement?.id ?? null) });
    } else if (step.tab_from !== undefined) {
      await control(step.tab_from).focus();
      for (let i = 0; i < step.count; i++) await page.keyboard.press("Tab");
      report.results.push({ focused: await page.evaluate(() => document.activeElement?.id ?? null) });
    } else if (step.keys !== undefined) {
      await page.evaluate((keys) => {
        for (const [id, text] of keys) {
          const el = document.getElementById(id);
          el.value = text;
          el.dispatchEvent(new Event("input", { bubbles: true }));
        }
      }, step.keys);
    } else if (step.full_pass) {
      await page.evaluate(() => document.getElementById("regc-unit").dispatchEvent(new Event("input", { bubbles: true })));
    } else if (step.print) {
      await page.emulateMedia({ media: "print" });
      report.results.push(
        await page.evaluate(() => ({
          text: document.body.innerText,
          heading: [...document.querySelectorAll(".regc-official, .regc-sign")].map((e) => e.innerText),
        })),
      );
      await page.emulateMedia({ media: "screen" });
    } else if (step.look) {
      report.results.push(
        await page.evaluate(() => {
          const outputs = {};
          for (const o of document.querySelectorAll('output[id^="f-"]')) outputs[o.id.slice(2)] = o.value;
          const messages = {};
          for (const m of document.querySelectorAll(".regc-msg")) if (m.textContent) messages[m.id] = m.textContent;
          return {
            outputs,
            messages,
            errors: [...document.querySelectorAll("#regc-errors li")].map((li) => li.textContent),
            warnings: [...document.querySelectorAll("#regc-warnings textarea")].map((t) => t.dataset.rule),
            summary_hidden: document.getElementById("regc-summary").hidden,
            status: document.getElementById("regc-status").textContent,
            invalid: [...document.querySelectorAll('[aria-invalid="true"]')].map((e) => e.id),
            warned: [...document.querySelectorAll(".regc-warn-cell")].map((e) => e.id),
            titles: Object.fromEntries([...document.querySelectorAll('output[id^="f-"]')].map((o) => [o.id.slice(2), o.title])),
            message_classes: Object.fromEntries([...document.querySelectorAll(".regc-msg")].map((m) => [m.id, m.className])),
            summary_title: document.getElementById("regc-summary-title").textContent,
          };
        }),
      );
    } else if (step.submit) {
      await page.click("#regc-submit");
      report.results.push(
        await page.evaluate(() => {
          const shown = !document.getElementById("regc-result").hidden;
          return {
            status: document.getElementById("regc-status").textContent,
            json: shown ? JSON.parse(document.getElementById("regc-json").textContent) : null,
            focused: document.activeElement?.id ?? null,
          };
        }),
      );
    } else if (step.a11y) {
      report.results.push(
        await page.evaluate(() => {
          const controls = [...document.querySelectorAll("input, select, textarea, output, button")];
          const named = (el) => {
            if (el.tagName === "BUTTON") return el.textContent.trim() !== "" || el.hasAttribute("aria-label");
            const by = el.getAttribute("aria-labelledby");
            if (by) return by.split(/\s+/).every((id) => document.getElementById(id)?.textContent.trim());
            return el.labels && el.labels.length > 0;
          };
          const described = (el) => {
            const by = el.getAttribute("aria-describedby");
            return !by || by.split(/\s+/).every((id) => document.getElementById(id));
          };
          return {
            controls: controls.length,
            unlabelled: controls.filter((c) => !named(c)).map((c) => c.id || c.outerHTML.slice(0, 60)),
            describedby_missing: controls.filter((c) => !described(c)).map((c) => c.id),
            // Invalid controls whose aria-describedby names no message.
            invalid_unexplained: [...document.querySelectorAll('[aria-invalid="true"]')]
              .filter((el) => !(el.getAttribute("aria-describedby") || "").split(/\s+/)
                .some((id) => document.getElementById(id)?.textContent.trim()))
              .map((el) => el.id),
            invalid: document.querySelectorAll('[aria-invalid="true"]').length,
          };
        }),
      );
    } else if (step.bench !== undefined) {
      const ms = await page.evaluate(
        ({ id, values }) => {
          const el = document.getElementById(id);
          const out = [];
          for (const v of values) {
            const t0 = performance.now();
            el.value = v;
            el.dispatchEvent(new Event("input", { bubbles: true }));
            void document.body.offsetHeight; // layout included
            out.push(performance.now() - t0);
          }
          return out;
        },
        { id: step.bench, values: step.values },
      );
      report.results.push({ ms });
    }
  }
  if (plan.screenshot) await page.screenshot({ path: plan.screenshot, fullPage: true });
  report.csp = await page.evaluate(() => window.__csp);
  report.injected = await page.evaluate(() => ({
    xss_flag: window.__xss ?? null,
    images: document.querySelectorAll("img").length,
    scripts: [...document.scripts].map((s) => s.src ? s.src.replace(/^.*\//, "") : `inline:${s.type}`),
    event_handlers: [...document.querySelectorAll("*")].filter((e) => [...e.attributes].some((a) => a.name.startsWith("on"))).length,
  }));
  await context.close();
  return report;
}

const sessions = [];
try {
  for (const s of plan.sessions) sessions.push(await session(s));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ sessions }));
