// Reads every case of tests/fixtures/entry.json with the page script's own
// number reader (generated forms.js, run in a Node vm: readEntry) for
// tests/forms.rs, which compares the answers with the table's.
//
//   node tests/browser/entry.mjs FORMS.JS ENTRY.json
//
// Prints [{"value": canonical} | {"error": kind, "message": text}, …], one
// per case, and the Vietnamese texts of a few numbers ("shown").
import { readFileSync } from "node:fs";
import vm from "node:vm";

const [script, table] = process.argv.slice(2);
const module = { exports: {} };
vm.runInNewContext(readFileSync(script, "utf8"), { module });
const { readEntry, formatVietnamese } = module.exports;
const type = (c) => (c.percent ? { type: "percent" } : c.scale === 0 ? { type: "int" } : { type: "decimal", precision: 20, scale: c.scale });
const answers = JSON.parse(readFileSync(table, "utf8")).cases.map((c) => {
  const r = readEntry(type(c), c.text);
  return r.error ? { error: r.error, message: r.message } : { value: r.text };
});
const shown = [["1234567.891", null], ["-1000", 2], ["2.345", 2], ["-2.345", 2], ["999.5", 0], ["12", null]].map(([t, d]) => formatVietnamese(t, d));
process.stdout.write(JSON.stringify({ answers, shown }));
