// The JavaScript evaluator (src/emit/rules.js) from the command line, for
// tests/js.rs. Prints one JSON document on stdout.
//
//   node tests/js/run.mjs RULES.json SET.json
//       JSON.stringify(validate(rules, set))
//   node tests/js/run.mjs --compute RULES.json SET.json QUERIES.json
//       QUERIES: [[unit, period, form, cell], …] → [value or null, …]
//   node tests/js/run.mjs --check RULES.json QUERIES.json
//       QUERIES: [[form, cell, text], …] → [null or {rule, kind, message}, …]
//   node tests/js/run.mjs --periods QUERIES.json
//       QUERIES: [[frequency, id], …] → [{previous, last_year, year_to_date, first_of_year}, …]
//   node tests/js/run.mjs --fill QUERIES.json
//       QUERIES: [[message, [value, …]], …], a value null or [type, text]
//       ("num", "text", "bool", "date") → [filled message, …]

import { readFileSync } from "node:fs";
import { Num, checkValue, computeCell, fillMessage, periodsOf, validate } from "../../src/emit/rules.js";

const json = (path) => JSON.parse(readFileSync(path, "utf8"));
const [mode, ...rest] = process.argv.slice(2);
let out;
switch (mode) {
  case "--compute": {
    const [rules, set, queries] = rest.map(json);
    out = queries.map(([unit, period, form, cell]) => computeCell(rules, set, unit, period, form, cell));
    break;
  }
  case "--check": {
    const [rules, queries] = rest.map(json);
    out = queries.map(([form, cell, text]) => checkValue(rules, form, cell, text));
    break;
  }
  case "--periods": {
    const [queries] = rest.map(json);
    out = queries.map(([frequency, id]) => {
      const p = periodsOf(frequency);
      return {
        previous: p.shift(id, "previous"),
        last_year: p.shift(id, "same_period_last_year"),
        year_to_date: p.yearToDate(id),
        first_of_year: p.firstOfYear(id),
      };
    });
    break;
  }
  case "--fill": {
    const [queries] = rest.map(json);
    const value = (v) => {
      if (v === null) return null;
      const [t, text] = v;
      if (t === "num") return { t, n: Num.parse(text) };
      if (t === "bool") return { t, v: text === "true" };
      if (t === "date") {
        const [y, m, d] = text.split("-").map(Number);
        return { t, y, m, d };
      }
      return { t, v: text };
    };
    out = queries.map(([message, values]) => fillMessage(message, values.map(value)));
    break;
  }
  default: {
    if (rest.length !== 1) {
      process.stderr.write("usage: node tests/js/run.mjs RULES.json SET.json\n");
      process.exit(2);
    }
    out = validate(json(mode), json(rest[0]));
  }
}
process.stdout.write(JSON.stringify(out));
