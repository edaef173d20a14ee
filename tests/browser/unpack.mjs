// Unpacks pages' data blocks with the page's own script (generated
// forms.js, run in a Node vm: expandRules) for tests/forms.rs, which
// compares the result with the rules the page must hold.
//
//   node tests/browser/unpack.mjs FORMS.JS CASES.json
//
// CASES: [{"form": CODE, "data": PACKED_TEXT, "headers": {id: text}}, …];
// prints the unpacked rules, one per case, as a JSON array.
import { readFileSync } from "node:fs";
import vm from "node:vm";

const [script, cases] = process.argv.slice(2);
const module = { exports: {} };
vm.runInNewContext(readFileSync(script, "utf8"), { module });
const { expandRules } = module.exports;
const out = JSON.parse(readFileSync(cases, "utf8")).map((c) => {
  const doc = { getElementById: (id) => (id in c.headers ? { textContent: c.headers[id] } : null) };
  return expandRules(JSON.parse(c.data), c.form, doc);
});
process.stdout.write(JSON.stringify(out));
