// ------------------------------------------------------------ the form page
// The glue of a generated form (src/emit/forms/forms.js), appended to the
// evaluator above in generated/forms.js: it reads the rules IR from the
// page's data block, recomputes computed cells and checks the rules on
// every keystroke with that evaluator, shows messages next to the cells and
// in a summary, and on submit writes the submission JSON (docs/forms.md).
// Text from the regime reaches the page through textContent only.

// The forms a rule's check reads (a reconciliation reads another regime).
function formsRead(e, out) {
  if (!e || typeof e !== "object") return out;
  switch (e.op) {
    case "cell":
      out.add(e.regime != null ? "\u0000other regime" : e.form);
      break;
    case "records":
      out.add(e.form);
      break;
    case "neg":
    case "not":
    case "year_to_date":
      formsRead(e.arg, out);
      break;
    case "binary":
      formsRead(e.lhs, out);
      formsRead(e.rhs, out);
      break;
    case "call":
      for (const a of e.args) formsRead(a, out);
      break;
  }
  return out;
}

// ---- numbers as people type them (src/value/entry.rs: the same rules,
// held to the same table of cases, tests/fixtures/entry.json). Vietnamese
// groups thousands with "." (or a space) and writes decimals after ",";
// the plain convention writes decimals after ".". A reading is possible
// only with at most as many decimals as the cell keeps; two possible
// readings that differ ("1.000" where three decimals are kept) are
// refused, never guessed.
const allDigits = (s) => /^[0-9]+$/.test(s);
function readVietnamese(text) {
  const comma = text.indexOf(",");
  let int = text;
  let frac = "";
  if (comma >= 0) {
    int = text.slice(0, comma);
    frac = text.slice(comma + 1);
    if (!allDigits(frac)) return null;
  }
  if (allDigits(int)) return { int, frac };
  const sep = [...int].find((c) => c === "." || c === " " || c === "\u00a0" || c === "\u202f");
  if (sep === undefined) return null;
  const groups = int.split(sep);
  const first = groups[0];
  if (!allDigits(first) || first.length > 3 || first.startsWith("0")) return null;
  if (!groups.slice(1).every((g) => g.length === 3 && allDigits(g))) return null;
  return { int: groups.join(""), frac };
}
function readPlain(text) {
  const dot = text.indexOf(".");
  const [int, frac] = dot >= 0 ? [text.slice(0, dot), text.slice(dot + 1)] : [text, ""];
  if (!allDigits(int) || (dot >= 0 && !allDigits(frac))) return null;
  return { int, frac };
}
function canonicalOf(r, negative) {
  const int = r.int.replace(/^0+/, "") || "0";
  const frac = r.frac.replace(/0+$/, "");
  const sign = negative && (int !== "0" || frac !== "") ? "-" : "";
  return frac ? `${sign}${int}.${frac}` : `${sign}${int}`;
}
// The decimals a number cell keeps (null: not a number cell).
function scaleOf(ty) {
  return ty.type === "int" || ty.type === "money" ? 0 : ty.type === "decimal" ? ty.scale : ty.type === "percent" ? 4 : null;
}
// {text: canonical} or {error: kind, message} (kind as in entry.json).
function readEntry(ty, text) {
  const scale = scaleOf(ty);
  let t = text.trim();
  if (ty.type === "percent" && t.endsWith("%")) t = t.slice(0, -1).trimEnd();
  let negative = false;
  if (t.startsWith("-") || t.startsWith("\u2212")) {
    negative = true;
    t = t.slice(1);
  }
  const vi = readVietnamese(t);
  const pl = readPlain(t);
  const fits = (r) => r !== null && r.frac.length <= scale;
  const [v, p] = [fits(vi) ? canonicalOf(vi, negative) : null, fits(pl) ? canonicalOf(pl, negative) : null];
  if (v !== null && p !== null && v !== p) {
    return {
      error: "ambiguous",
      message: `“${text.trim()}” có hai cách hiểu: ${v} nếu dấu chấm ngăn cách hàng nghìn, ${p.replace(".", ",")} nếu dấu chấm là dấu thập phân; hãy viết ${v} hoặc ${p.replace(".", ",")}`,
    };
  }
  if (v !== null || p !== null) return { text: v ?? p };
  const r = vi ?? pl;
  if (r === null) {
    return { error: "not_a_number", message: "không phải là số (viết 1.000.000 cho một triệu, 12,5 cho mười hai phẩy năm)" };
  }
  return {
    error: "too_many_decimals",
    message:
      scale === 0
        ? `ô này nhận số nguyên; “${text.trim()}” có ${r.frac.length} chữ số sau dấu thập phân (một nghìn viết là 1000 hoặc 1.000)`
        : `“${text.trim()}” có ${r.frac.length} chữ số sau dấu thập phân; ô này giữ ${scale} chữ số`,
  };
}

// A canonical number as Vietnamese text: "." between thousands, ","
// before decimals, rounded and padded to `digits` decimals when given.
function formatVietnamese(text, digits) {
  let n = Num.parse(text);
  if (n === null) return text;
  let shown = digits === null ? n.toString() : n.round(BigInt(digits)).toString();
  const negative = shown.startsWith("-");
  if (negative) shown = shown.slice(1);
  let [int, frac = ""] = shown.split(".");
  if (digits !== null) frac = frac.padEnd(digits, "0");
  int = int.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  return `${negative ? "-" : ""}${int}${frac ? `,${frac}` : ""}`;
}

// A computed value as shown: in Vietnamese, rounded to the cell's scale
// (percent: 2 digits); the exact value stays in the title.
function display(ty, text) {
  if (text === null) return "";
  const digits = ty.type === "percent" ? 2 : scaleOf(ty);
  return digits === null ? text : formatVietnamese(text, digits);
}

// The page's copy of rules.json is packed (src/emit/forms.rs rules_data):
// an expression leaves out its type "number", a cell its own form and the
// current period; a cell of the form in the current period is its id
// ("r1.c1"), a binary operation [bin, lhs, rhs, ty?]; in the formula of a
// grid cell, ".x" is the cell x of the same row. The glue unpacks it into
// the objects of rules.json.
function unpack(e, form, row) {
  if (typeof e === "string") e = { op: "cell", cell: e };
  else if (Array.isArray(e)) {
    const [bin, lhs, rhs, ty] = e;
    e = { op: "binary", bin, lhs, rhs };
    if (ty !== undefined) e.ty = ty;
  } else if (!e || typeof e !== "object") return e;
  else e = { ...e };
  if (e.ty === undefined) e.ty = "number";
  if ((e.op === "cell" || e.op === "records") && e.form === undefined) e.form = form;
  if (e.op === "cell") {
    if (e.period === undefined) e.period = "current";
    if (row !== null && typeof e.cell === "string" && e.cell.startsWith(".")) e.cell = row + e.cell;
  }
  if (e.arg !== undefined) e.arg = unpack(e.arg, form, row);
  if (e.lhs !== undefined) e.lhs = unpack(e.lhs, form, row);
  if (e.rhs !== undefined) e.rhs = unpack(e.rhs, form, row);
  if (e.args) e.args = e.args.map((a) => unpack(a, form, row));
  return e;
}

// Cell types are indexes into `types`; a grid cell equal to its column's
// usual cell is its id alone (the column's cell is in `columns`); a grid
// cell without a label is labelled "<row label> — <column label>", read
// from the page's headers. Rules leave out kind "written", severity
// "error", missing "skip_if_any" and scope "submission".
function expandRules(rules, form, doc) {
  const header = (id) => doc.getElementById(id)?.textContent ?? "";
  for (const f of rules.forms) {
    const columns = f.columns || {};
    delete f.columns;
    f.cells = f.cells.map((given) => {
      const c = typeof given === "string" ? { ...columns[given.slice(given.indexOf(".") + 1)], id: given } : given;
      const dot = c.id.indexOf(".");
      const row = dot > 0 ? c.id.slice(0, dot) : null;
      if (typeof c.type === "number") c.type = rules.types[c.type];
      if (c.label === undefined) c.label = `${header(`row-${row}`)} — ${header(`col-${c.id.slice(dot + 1)}`)}`;
      if (c.entry === undefined) c.entry = "entered";
      if (c.required === undefined) c.required = false;
      if (c.formula) c.formula = unpack(c.formula, form, row);
      return c;
    });
  }
  delete rules.types;
  for (const r of rules.rules) {
    if (r.kind === undefined) r.kind = "written";
    if (r.severity === undefined && r.kind !== "range" && r.kind !== "codelist") r.severity = "error";
    if (r.missing === undefined && r.kind !== "range" && r.kind !== "codelist") r.missing = "skip_if_any";
    if (r.scope === undefined && r.kind !== "range" && r.kind !== "codelist") r.scope = { type: "submission" };
    if (r.check) r.check = unpack(r.check, form, null);
    if (r.placeholders) r.placeholders = r.placeholders.map((p) => unpack(p, form, null));
  }
  return rules;
}

// Memoization: every stored value is parsed once per record object and
// every computed cell evaluated once per (unit, period) for the evaluators
// that read the same records (they all take the page's rules), instead of
// at each read. The results are those of the evaluator above (values are
// never mutated; a division by zero is remembered and thrown again). A
// full pass builds new records, hence new memos; a keystroke changes the
// changed values of the records in place and forgets what depends on
// them (`forget`).
const parsedValues = new WeakMap(); // a record's cells object → Map "form\0cell" → value
const baseValue = Evaluator.prototype.value;
Evaluator.prototype.value = function (sub, n, form, cell) {
  const rec = sub && sub.records.get(n);
  if (!rec) return baseValue.call(this, sub, n, form, cell);
  let memo = parsedValues.get(rec);
  if (!memo) parsedValues.set(rec, (memo = new Map()));
  const key = `${form}\u0000${cell}`;
  if (memo.has(key)) return memo.get(key);
  const v = baseValue.call(this, sub, n, form, cell);
  memo.set(key, v);
  return v;
};
// The first record's cells object → Map "form\0cell" → Map "unit\0period" → {value} | {error}.
const computedValues = new WeakMap();
const baseCell = Evaluator.prototype.cell;
Evaluator.prototype.cell = function (form, cell, by, at) {
  if (at.record && at.record.form === form) return baseCell.call(this, form, cell, by, at);
  const def = this.cells.get(`${form}\u0000${cell}`);
  if (!def || def.entry !== "computed") return baseCell.call(this, form, cell, by, at);
  if (!this.computed) {
    // Shared by the evaluators of the same records.
    const first = this.subs.values().next().value;
    const owner = first && first.records.get(first.numbers[0]);
    if (owner && !computedValues.has(owner)) computedValues.set(owner, new Map());
    this.computed = owner ? computedValues.get(owner) : new Map();
  }
  const name = `${form}\u0000${cell}`;
  let byPeriod = this.computed.get(name);
  if (!byPeriod) this.computed.set(name, (byPeriod = new Map()));
  const key = `${at.unit}\u0000${this.periods.shift(at.period, by)}`;
  const known = byPeriod.get(key);
  if (known) {
    if (known.error) throw known.error;
    return known.value;
  }
  try {
    const value = baseCell.call(this, form, cell, by, at);
    byPeriod.set(key, { value });
    return value;
  } catch (error) {
    if (error instanceof DivByZero) byPeriod.set(key, { error });
    throw error;
  }
};

// Forgets the memos of `cells` (names of cells of `form`) of a records object.
function forget(rec, form, entered, computed) {
  const parsed = parsedValues.get(rec);
  if (parsed) for (const c of entered) parsed.delete(`${form}\u0000${c}`);
  const values = computedValues.get(rec);
  if (values) for (const c of computed) values.delete(`${form}\u0000${c}`);
}

// The cells of `form` an expression reads (any period), into `out`; false
// when it reads what this index cannot follow (records of a form).
function cellsRead(e, form, out) {
  if (!e || typeof e !== "object") return true;
  switch (e.op) {
    case "cell":
      if (e.regime == null && e.form === form) out.add(e.cell);
      return true;
    case "records":
      return false;
    case "neg":
    case "not":
    case "year_to_date":
      return cellsRead(e.arg, form, out);
    case "binary":
      return cellsRead(e.lhs, form, out) && cellsRead(e.rhs, form, out);
    case "call":
      return e.args.every((a) => cellsRead(a, form, out));
    default:
      return true;
  }
}

// Validate's order of violations (rules.js `validate`).
function byViolation(a, b) {
  const opt = (x, y, cmp) => (x === undefined ? (y === undefined ? 0 : -1) : y === undefined ? 1 : cmp(x, y));
  return cmpStr(a.unit, b.unit) || cmpStr(a.period, b.period) || cmpStr(a.form, b.form) ||
    opt(a.record, b.record, (x, y) => x - y) || cmpStr(a.rule, b.rule) || opt(a.cell, b.cell, cmpStr);
}

function formPage(doc) {
  const form = doc.getElementById("regc-form");
  const data = doc.getElementById("regc-rules");
  if (!form || !data) return;
  const code = form.dataset.form;
  const rules = expandRules(JSON.parse(data.textContent), code, doc);
  const grid = form.dataset.kind === "grid";
  const spec = rules.forms.find((f) => f.code === code);
  if (!spec) return;
  const defs = new Map(spec.cells.map((c) => [c.id, c]));
  // Rules this page can decide: those reading this form only. The others
  // (other forms, other regimes) are left to `regc validate`.
  const own = rules.rules.filter((r) => {
    const read = formsRead(r.check, new Set());
    return read.size > 0 && [...read].every((f) => f === code);
  });
  const pageRules = { ...rules, forms: [spec], rules: own };
  const $ = (id) => doc.getElementById(id);
  const unitEl = $("regc-unit");
  const periodEl = $("regc-period");
  const summary = $("regc-summary");
  const errorsEl = $("regc-errors");
  const warningsEl = $("regc-warnings");
  const status = $("regc-status");
  const result = $("regc-result");
  const jsonEl = $("regc-json");
  const download = $("regc-download");
  const tbody = $("regc-rows");
  const template = $("regc-record");
  const explanations = new Map(); // warning rule code → its item (with a textarea)
  let submitted = false;
  let blobUrl = null;

  // ---- records: add, remove, renumber
  function renumber() {
    if (!tbody) return;
    [...tbody.rows].forEach((tr, i) => {
      const n = i + 1;
      const num = tr.querySelector('[data-role="number"]');
      num.textContent = String(n);
      num.id = `rec-${n}`;
      for (const el of tr.querySelectorAll("[data-field]")) {
        const f = el.dataset.field;
        el.id = `f-${n}-${f}`;
        el.setAttribute("aria-labelledby", `rec-${n} col-${f}`);
        el.setAttribute("aria-describedby", `m-${n}-${f}`);
      }
      for (const m of tr.querySelectorAll("[data-msg]")) m.id = `m-${n}-${m.dataset.msg}`;
      tr.querySelector('[data-role="remove"]').setAttribute("aria-label", `Xóa dòng ${n}`);
    });
  }
  function addRow() {
    tbody.appendChild(template.content.cloneNode(true));
    renumber();
  }
  if (!grid) {
    addRow();
    $("regc-add").addEventListener("click", () => {
      addRow();
      const first = tbody.rows[tbody.rows.length - 1].querySelector("[data-field]");
      if (first) first.focus();
      refresh();
    });
    tbody.addEventListener("click", (e) => {
      const button = e.target.closest('[data-role="remove"]');
      if (!button) return;
      button.closest("tr").remove();
      renumber();
      refresh();
    });
  }

  // ---- keyboard: arrows move up and down a column of the grid or table
  form.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const el = e.target;
    if (el.tagName !== "INPUT" || el.type !== "text") return;
    const td = el.closest("td");
    if (!td) return;
    const index = td.cellIndex;
    let tr = td.parentElement;
    for (;;) {
      tr = e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
      if (!tr) return;
      const next = tr.cells.length > index ? tr.cells[index].querySelector('input:not([type]), input[type="text"]') : null;
      if (next && tr.cells.length === td.parentElement.cells.length) {
        e.preventDefault();
        next.focus();
        return;
      }
    }
  });

  // ---- reading the page
  // Each control's last text and its verdict: a keystroke rechecks one.
  // A number is read as typed (readEntry), then checked as any submitted
  // value is (type, range).
  const checked = new WeakMap();
  function check(el, cell, text) {
    const last = checked.get(el);
    if (last && last.cell === cell && last.text === text) return last;
    const ty = defs.get(cell).type;
    let canon = text;
    let problem = null;
    if (scaleOf(ty) !== null) {
      const read = readEntry(ty, text);
      if (read.error) problem = { rule: `type.${code}.${cell}`, kind: "type", message: `${defs.get(cell).label}: ${read.message}` };
      else canon = read.text;
    }
    if (!problem) problem = checkValue(rules, code, cell, canon);
    const v = { cell, text, problem, canon: problem ? null : canon };
    checked.set(el, v);
    return v;
  }

  // The submission's records (valid values only, canonical text) and the
  // values that break their cell's type, range or codelist.
  const gridControls = grid ? [...form.querySelectorAll('input[id^="f-"], select[id^="f-"]')] : [];
  const gridOutputs = grid ? [...form.querySelectorAll('output[id^="f-"]')] : [];
  function read() {
    const records = {};
    const bad = [];
    const take = (n, el, cell, cells) => {
      const text = el.value.trim();
      if (text === "") return;
      const v = check(el, cell, text);
      if (v.problem) bad.push({ el, cell, record: n, problem: v.problem });
      else cells[cell] = v.canon;
    };
    if (grid) {
      const cells = {};
      for (const el of gridControls) take(0, el, el.id.slice(2), cells);
      records["0"] = cells;
    } else {
      [...tbody.rows].forEach((tr, i) => {
        const cells = {};
        for (const el of tr.querySelectorAll("input[data-field], select[data-field]")) take(i + 1, el, el.dataset.field, cells);
        records[String(i + 1)] = cells;
      });
    }
    return { records, bad };
  }

  function periodProblem(period) {
    if (period === "") return submitted ? "Kỳ báo cáo: bắt buộc phải nhập" : null;
    if (rules.frequency === "ad_hoc") return null;
    const year = /^[0-9]{4}/.test(period) ? Number(period.slice(0, 4)) : null;
    return year !== null && periodIds(rules.frequency, year).includes(period)
      ? null
      : `Kỳ báo cáo không hợp lệ (ví dụ: ${periodEl.placeholder})`;
  }

  // ---- messages
  // A cell's control and its message element, made on first use and
  // linked to the control by aria-describedby.
  function target(cell, record) {
    const suffix = grid ? cell : `${record}-${cell}`;
    const el = $(`f-${suffix}`);
    let msg = $(`m-${suffix}`);
    if (!msg && el) {
      msg = doc.createElement("span");
      msg.className = "regc-msg";
      msg.id = `m-${suffix}`;
      el.parentNode.appendChild(msg);
      const by = el.getAttribute("aria-describedby");
      el.setAttribute("aria-describedby", by ? `${by} ${msg.id}` : msg.id);
    }
    return { el, msg };
  }

  function unmark({ el, msg }) {
    if (msg) {
      msg.textContent = "";
      msg.className = "regc-msg";
    }
    if (el) {
      el.removeAttribute("aria-invalid");
      el.classList.remove("regc-warn-cell");
    }
  }

  function mark(where, severity, message) {
    const { el, msg } = where;
    if (msg) {
      const line = doc.createElement("span");
      line.textContent = message;
      line.className = `regc-line regc-${severity}`;
      msg.appendChild(line);
      if (!msg.classList.contains("regc-error")) {
        msg.classList.remove("regc-warning");
        msg.classList.add(`regc-${severity === "error" ? "error" : "warning"}`);
      }
    }
    if (el) {
      if (severity === "error") el.setAttribute("aria-invalid", "true");
      else el.classList.add("regc-warn-cell");
    }
  }

  // ---- what the page shows: computed cells, messages at the cells, summary
  // The state of the last pass: the record of a grid (changed in place by a
  // keystroke), its set and evaluator, the values that break their cell's
  // type, the violations of each rule, the messages shown at each control.
  let state = null;
  // Messages shown, by control (or message) id → {where, sig}; the summary's signature.
  let shown = new Map();
  let summarySig = null;

  // Which computed cells and rules read a cell (grid forms): on a
  // keystroke, only the computed cells that depend on the changed cell
  // (transitively) are recomputed and only the rules that read the changed
  // values rechecked; rules whose reads cannot be followed are rechecked
  // on every keystroke.
  const depIndex = grid ? buildIndex() : null;
  function buildIndex() {
    const dependents = new Map(); // cell → computed cells whose formula reads it
    const readers = new Map(); // cell → page rules that read it
    const always = [];
    const add = (map, key, value) => {
      if (!map.has(key)) map.set(key, []);
      map.get(key).push(value);
    };
    for (const c of spec.cells) {
      if (c.entry !== "computed") continue;
      const read = new Set();
      if (!cellsRead(c.formula, code, read)) return null;
      for (const x of read) add(dependents, x, c.id);
    }
    for (const r of own) {
      const read = new Set();
      const ok = cellsRead(r.check, code, read) && (r.placeholders || []).every((p) => cellsRead(p, code, read));
      if (!ok || r.scope.type === "each_record") always.push(r);
      else for (const x of read) add(readers, x, r);
    }
    return { dependents, readers, always };
  }

  // The computed cells that depend on `cell`, transitively.
  function dependentsOf(cell) {
    const out = new Set();
    const todo = [cell];
    while (todo.length) {
      for (const d of depIndex.dependents.get(todo.pop()) || []) {
        if (!out.has(d)) {
          out.add(d);
          todo.push(d);
        }
      }
    }
    return out;
  }

  const outputOf = new Map(gridOutputs.map((o) => [o.id.slice(2), o]));
  const controlIndex = new Map(gridControls.map((el, i) => [el, i]));
  function showComputed(ev, at, cell) {
    const out = outputOf.get(cell);
    if (!out) return;
    let text;
    try {
      text = canonical(ev.cell(code, cell, "current", at));
    } catch (e) {
      if (!(e instanceof DivByZero)) throw e;
      text = null;
    }
    const shownText = display(defs.get(cell).type, text);
    if (out.value !== shownText) {
      out.value = shownText;
      out.title = text ?? "";
    }
  }

  // The issues to show, in order: unit and period, values that break their
  // type, then violations in validate's order.
  function issuesOf(st, violations) {
    const issues = [...st.head];
    for (const b of st.bad) {
      issues.push({ where: target(b.cell, b.record), id: b.el.id, severity: "error", message: b.problem.message });
    }
    for (const v of violations) {
      if (v.kind === "required" && !submitted) continue;
      if (v.severity === "info") continue;
      const where = v.cell != null ? target(v.cell, v.record) : { el: null, msg: null };
      issues.push({ where, id: where.el ? where.el.id : null, severity: v.severity, message: v.message, rule: v.rule });
    }
    return issues;
  }

  // Shows the issues: at the controls (only those whose messages changed,
  // unless `all`) and in the summary.
  function render(issues, all) {
    const next = new Map();
    for (const i of issues) {
      const key = i.where.msg ? i.where.msg.id : i.where.el ? i.where.el.id : null;
      if (key === null) continue;
      let entry = next.get(key);
      if (!entry) next.set(key, (entry = { where: i.where, lines: [] }));
      entry.lines.push(i);
      entry.sig = (entry.sig ?? "") + `${i.severity}\u0000${i.message}\u0001`;
    }
    for (const [key, old] of shown) {
      if (all || next.get(key)?.sig !== old.sig) unmark(old.where);
    }
    for (const [key, entry] of next) {
      if (!all && shown.get(key)?.sig === entry.sig) continue;
      for (const i of entry.lines) mark(i.where, i.severity, i.message);
    }
    shown = next;
    // The summary.
    const errors = issues.filter((i) => i.severity === "error");
    const warnings = new Map();
    for (const i of issues) if (i.severity === "warning" && !warnings.has(i.rule)) warnings.set(i.rule, i);
    const sig = JSON.stringify([errors.map((i) => [i.id, i.message]), [...warnings.values()].map((w) => [w.rule, w.message])]);
    if (all || sig !== summarySig) {
      summarySig = sig;
      errorsEl.replaceChildren(
        ...errors.map((i) => {
          const li = doc.createElement("li");
          if (i.id) {
            const a = doc.createElement("a");
            a.href = `#${i.id}`;
            a.textContent = i.message;
            li.appendChild(a);
          } else {
            li.textContent = i.message;
          }
          return li;
        }),
      );
      for (const [rule] of explanations) if (!warnings.has(rule)) explanations.delete(rule);
      warningsEl.replaceChildren(
        ...[...warnings.values()].map((w) => {
          let item = explanations.get(w.rule);
          if (!item) {
            item = doc.createElement("div");
            item.className = "regc-warning-item";
            const label = doc.createElement("label");
            const area = doc.createElement("textarea");
            area.id = `x-${w.rule}`;
            area.dataset.rule = w.rule;
            label.htmlFor = area.id;
            item.append(label, area);
            explanations.set(w.rule, item);
          }
          item.querySelector("label").textContent = `Cảnh báo ${w.rule}: ${w.message} — giải trình:`;
          return item;
        }),
      );
      const title = $("regc-summary-title");
      title.textContent = errors.length
        ? `${errors.length} lỗi cần sửa trước khi gửi${warnings.size ? `, ${warnings.size} cảnh báo cần giải trình` : ""}`
        : `${warnings.size} cảnh báo cần giải trình`;
      summary.classList.toggle("regc-only-warnings", errors.length === 0);
      summary.hidden = errors.length === 0 && warnings.size === 0;
    }
    return { errors, warnings };
  }

  // ---- a full pass: read every control, recompute, recheck, show all
  function refresh() {
    const unit = unitEl.value.trim();
    const period = periodEl.value.trim();
    const { records, bad } = read();
    const set = { regime: rules.regime, submissions: [{ unit: unit || "-", period, form: code, records }] };
    // Computed cells.
    const ev = new Evaluator(pageRules, set);
    const at = { unit: unit || "-", period, record: null, zero: false, tolerance: null };
    for (const out of gridOutputs) showComputed(ev, at, out.id.slice(2));
    const head = [];
    const unitProblem = unit === "" && submitted ? "Đơn vị báo cáo: bắt buộc phải nhập" : null;
    if (unitProblem) head.push({ where: { el: unitEl, msg: $("m-regc-unit") }, id: "regc-unit", severity: "error", message: unitProblem });
    const pp = periodProblem(period);
    if (pp) head.push({ where: { el: periodEl, msg: $("m-regc-period") }, id: "regc-period", severity: "error", message: pp });
    const violations = validate(pageRules, set).violations;
    state = { unit, period, records, set, ev, at, head, bad };
    if (grid && depIndex) {
      state.texts = gridControls.map((el) => el.value.trim());
      state.byRule = new Map();
      state.required = [];
      for (const v of violations) {
        if (v.kind === "required") state.required.push(v);
        else {
          if (!state.byRule.has(v.rule)) state.byRule.set(v.rule, []);
          state.byRule.get(v.rule).push(v);
        }
      }
    }
    const { errors, warnings } = render(issuesOf(state, violations), true);
    return { errors, warnings, unit, period, records };
  }

  // ---- a keystroke in a grid cell: the cells whose text changed since the
  // last pass (the one typed into; any other changed without an event is
  // caught too), what depends on them
  function keystroke() {
    const st = state;
    const cells = st.records["0"];
    const changed = new Set(); // cells whose stored value changed
    let badChanged = false;
    gridControls.forEach((el, i) => {
      const text = el.value.trim();
      if (text === st.texts[i]) return;
      st.texts[i] = text;
      const cell = el.id.slice(2);
      const v = text === "" ? null : check(el, cell, text);
      const before = st.bad.length;
      st.bad = st.bad.filter((b) => b.el !== el);
      if (v && v.problem) st.bad.push({ el, cell, record: 0, problem: v.problem });
      if (before || st.bad.length) badChanged = true;
      const canon = v && !v.problem ? v.canon : undefined;
      if (cells[cell] === canon) return;
      if (canon === undefined) delete cells[cell];
      else cells[cell] = canon;
      changed.add(cell);
    });
    if (badChanged) st.bad.sort((a, b) => controlIndex.get(a.el) - controlIndex.get(b.el));
    if (changed.size) {
      const computed = new Set();
      for (const c of changed) for (const d of dependentsOf(c)) computed.add(d);
      forget(cells, code, changed, computed);
      for (const c of computed) showComputed(st.ev, st.at, c);
      const recheck = new Set(depIndex.always);
      for (const c of [...changed, ...computed]) for (const r of depIndex.readers.get(c) || []) recheck.add(r);
      const found = validate({ ...pageRules, rules: [...recheck] }, st.set).violations;
      for (const r of recheck) st.byRule.delete(r.code);
      st.required = [];
      for (const f of found) {
        if (f.kind === "required") st.required.push(f);
        else {
          if (!st.byRule.has(f.rule)) st.byRule.set(f.rule, []);
          st.byRule.get(f.rule).push(f);
        }
      }
    }
    const violations = [...st.required, ...[...st.byRule.values()].flat()].sort(byViolation);
    render(issuesOf(st, violations), false);
  }

  function submit() {
    submitted = true;
    const state = refresh();
    const unexplained = [...state.warnings.keys()].filter((r) => !explanations.get(r).querySelector("textarea").value.trim());
    if (state.errors.length || unexplained.length) {
      result.hidden = true;
      status.textContent = state.errors.length
        ? "Chưa gửi được: còn lỗi."
        : `Chưa gửi được: cần giải trình ${unexplained.join(", ")}.`;
      summary.focus();
      return;
    }
    // The moment the file is made: when the officer submitted the report.
    const sub = {
      unit: state.unit,
      period: state.period,
      form: code,
      records: state.records,
      submitted_at: new Date().toISOString().replace(/\.[0-9]{3}Z$/, "Z"),
    };
    const given = [...state.warnings.keys()].map((r) => [r, explanations.get(r).querySelector("textarea").value.trim()]);
    if (given.length) sub.explanations = Object.fromEntries(given);
    const text = JSON.stringify({ regime: rules.regime, submissions: [sub] }, null, 2) + "\n";
    jsonEl.textContent = text;
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    blobUrl = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    download.href = blobUrl;
    download.download = `${rules.regime}.${code}.${state.unit}.${state.period}.json`;
    result.hidden = false;
    status.textContent = "Dữ liệu hợp lệ: đã tạo tệp gửi.";
  }

  // Values given by the server (a draft, a correction): a control's
  // data-value holds the canonical value; a number is shown with a decimal
  // comma and no grouping, which reads back as the same number.
  for (const el of gridControls) {
    const v = el.dataset.value;
    if (v === undefined) continue;
    const def = defs.get(el.id.slice(2));
    el.value = def && scaleOf(def.type) !== null && Num.parse(v) !== null ? v.replace(".", ",") : v;
  }

  form.addEventListener("input", (e) => {
    status.textContent = "";
    // A grid cell: incremental; the unit, the period, records: a full pass.
    if (state && state.byRule && controlIndex.has(e.target)) keystroke();
    else refresh();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  refresh();
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => formPage(document));
  else formPage(document);
}

// Under Node, for tests/forms.rs: the unpacking of the data block, the
// reading and showing of numbers.
if (typeof module === "object" && module && module.exports) {
  module.exports.expandRules = expandRules;
  module.exports.readEntry = readEntry;
  module.exports.formatVietnamese = formatVietnamese;
}
