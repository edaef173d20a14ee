// Drives the system Chromium (headless, through playwright-core) through
// `regc serve` for tests/serve.rs, which starts the server, makes the plan
// and asserts on what this prints. No assertion here: the driver only acts
// and reports.
//
//   node tests/browser/serve.mjs PLAN.json
//
// PLAN: {"base": "http://127.0.0.1:PORT", "sessions": [SESSION, …]}, each
// SESSION in a fresh browser context: {"steps": [STEP, …]}
// STEP, each reporting one entry of "results" where it says so:
//   {"login": NAME, "password": TEXT}   logs in with the login form → {"url": after}
//   {"goto": PATH}                      opens a page → {"status": http status, "text": body text}
//   {"fill": ID, "value": TEXT}         types into the control #ID
//   {"explain_all": TEXT}               writes TEXT as every warning's explanation
//   {"submit": true}                    clicks the form's submit button and waits for the
//                                       page's status or the server's answer
//                                       → {"status": page status, "server": server answer text,
//                                          "errors": [summary lines]}
//   {"value": ID}                       → {"value": the control's text}
//   {"click": ID}                       clicks #ID, waits for the next page → {"url", "status", "text"}
// The report: {"sessions": [{"results": [...], "dialogs": [...], "csp": [violations],
//              "console_errors": [...], "requests": [URLs not on the server]}, …]}

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
async function session(s) {
  const report = { results: [], dialogs: [], csp: [], console_errors: [], requests: [] };
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
    if (!r.url().startsWith(plan.base + "/")) report.requests.push(r.url());
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const control = (id) => page.locator(`[id="${id}"]`);
  for (const step of s.steps) {
    if (step.login !== undefined) {
      await page.goto(plan.base + "/login");
      await page.fill("#name", step.login);
      await page.fill("#password", step.password);
      await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
      report.results.push({ url: page.url() });
    } else if (step.goto !== undefined) {
      const r = await page.goto(plan.base + step.goto);
      await page.waitForLoadState("load");
      report.results.push({ status: r ? r.status() : 0, text: await page.locator("body").innerText() });
    } else if (step.fill !== undefined) {
      if (!(await control(step.fill).count())) {
        // Say what the page shows instead of waiting for what is not there.
        throw new Error(`no control #${step.fill} on ${page.url()}:\n${await page.locator("body").innerText()}\n` +
          JSON.stringify(report.results, null, 1));
      }
      await control(step.fill).fill(step.value);
    } else if (step.explain_all !== undefined) {
      for (const area of await page.locator("#regc-warnings textarea").all()) await area.fill(step.explain_all);
    } else if (step.submit) {
      await page.evaluate(() => {
        document.getElementById("regc-status").textContent = "";
        document.getElementById("regc-server").textContent = "";
      });
      await page.click("#regc-submit");
      // Refused in the page (status), or sent: wait for the server's answer.
      await page.waitForFunction(() => {
        const server = document.getElementById("regc-server").textContent;
        const status = document.getElementById("regc-status").textContent;
        return (status && !status.startsWith("Dữ liệu hợp lệ")) || (server && !server.startsWith("Đang gửi"));
      });
      report.results.push(
        await page.evaluate(() => ({
          status: document.getElementById("regc-status").textContent,
          server: document.getElementById("regc-server").textContent,
          errors: [...document.querySelectorAll("#regc-errors li")].map((li) => li.textContent),
        }))
      );
    } else if (step.click !== undefined) {
      const [r] = await Promise.all([page.waitForNavigation(), control(step.click).click()]);
      report.results.push({ url: page.url(), status: r ? r.status() : 0, text: await page.locator("body").innerText() });
    } else if (step.value !== undefined) {
      report.results.push({ value: await control(step.value).inputValue() });
    }
  }
  report.csp = await page.evaluate(() => window.__csp);
  await context.close();
  return report;
}
const sessions = [];
try {
  for (const s of plan.sessions) sessions.push(await session(s));
} catch (e) {
  // What the sessions before saw, to tell why this one failed.
  process.stderr.write(JSON.stringify({ sessions }, null, 1) + "\n");
  throw e;
}
await browser.close();
process.stdout.write(JSON.stringify({ sessions }) + "\n");
