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

// A computed value as shown: rounded to the cell's scale (percent: 2
// digits); the exact value stays in the title.
function display(ty, text) {
  const n = text === null ? null : Num.parse(text);
  if (n === null) return text ?? "";
  const digits = ty.type === "decimal" ? ty.scale : ty.type === "percent" ? 2 : ty.type === "int" || ty.type === "money" ? 0 : null;
  if (digits === null) return text;
  const shown = n.round(BigInt(digits)).toString();
  if (digits === 0) return shown;
  const [int, frac = ""] = shown.split(".");
  return `${int}.${frac.padEnd(digits, "0")}`;
}

// The page's copy of rules.json leaves out defaults (src/emit/forms.rs
// rules_data): an expression's type "number", a cell's own form and the
// current period, a cell's entry "entered" and required false.
function expand(e, form) {
  if (!e || typeof e !== "object") return;
  if (e.ty === undefined) e.ty = "number";
  if ((e.op === "cell" || e.op === "records") && e.form === undefined) e.form = form;
  if (e.op === "cell" && e.period === undefined) e.period = "current";
  expand(e.arg, form);
  expand(e.lhs, form);
  expand(e.rhs, form);
  if (e.args) for (const a of e.args) expand(a, form);
}

// Cell types are indexes into `types`; a grid cell without a label is
// labelled "<row label> — <column label>", read from the page's headers.
function expandRules(rules, form, doc) {
  const header = (id) => doc.getElementById(id)?.textContent ?? "";
  for (const f of rules.forms) {
    for (const c of f.cells) {
      if (typeof c.type === "number") c.type = rules.types[c.type];
      if (c.label === undefined) {
        const [row, col] = c.id.split(".");
        c.label = `${header(`row-${row}`)} — ${header(`col-${col}`)}`;
      }
      if (c.entry === undefined) c.entry = "entered";
      if (c.required === undefined) c.required = false;
      if (c.formula) expand(c.formula, form);
    }
  }
  for (const r of rules.rules) {
    if (r.check) expand(r.check, form);
    for (const p of r.placeholders || []) expand(p, form);
  }
  return rules;
}

// Memoization for one pass of a page (one keystroke): every stored value
// is parsed once per record object and every computed cell evaluated once
// per (unit, period) for the evaluators of a pass (they read the same
// records, and all take the page's rules), instead of at each read. The results
// are those of the evaluator above (values are never mutated; a division
// by zero is remembered and thrown again).
const parsedValues = new WeakMap(); // a record's cells object → Map key → value
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
const computedValues = new WeakMap(); // the first record's cells object → Map key → value
const baseCell = Evaluator.prototype.cell;
Evaluator.prototype.cell = function (form, cell, by, at) {
  if (at.record && at.record.form === form) return baseCell.call(this, form, cell, by, at);
  const def = this.cells.get(`${form}\u0000${cell}`);
  if (!def || def.entry !== "computed") return baseCell.call(this, form, cell, by, at);
  const key = `${form}\u0000${cell}\u0000${at.unit}\u0000${this.periods.shift(at.period, by)}`;
  if (!this.computed) {
    // Shared by the evaluators of one pass: they index the same records.
    const first = this.subs.values().next().value;
    const owner = first && first.records.get(first.numbers[0]);
    if (owner && !computedValues.has(owner)) computedValues.set(owner, new Map());
    this.computed = owner ? computedValues.get(owner) : new Map();
  }
  const known = this.computed.get(key);
  if (known) {
    if (known.error) throw known.error;
    return known.value;
  }
  try {
    const value = baseCell.call(this, form, cell, by, at);
    this.computed.set(key, { value });
    return value;
  } catch (error) {
    if (error instanceof DivByZero) this.computed.set(key, { error });
    throw error;
  }
};

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
  let marked = [];
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
  function canonicalText(ty, text) {
    if (["int", "money", "decimal", "percent"].includes(ty.type)) return Num.parse(text).toString();
    return text;
  }

  // Each control's last text and its verdict: a keystroke rechecks one.
  const checked = new WeakMap();
  function check(el, cell, text) {
    const last = checked.get(el);
    if (last && last.cell === cell && last.text === text) return last;
    const problem = checkValue(rules, code, cell, text);
    const v = { cell, text, problem, canon: problem ? null : canonicalText(defs.get(cell).type, text) };
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

  function clear() {
    for (const { el, msg } of marked) {
      if (msg) {
        msg.textContent = "";
        msg.className = "regc-msg";
      }
      if (el) {
        el.removeAttribute("aria-invalid");
        el.classList.remove("regc-warn-cell");
      }
    }
    marked = [];
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
    marked.push(where);
  }

  // ---- one pass: recompute, recheck, show
  function refresh() {
    clear();
    const unit = unitEl.value.trim();
    const period = periodEl.value.trim();
    const { records, bad } = read();
    const set = { regime: rules.regime, submissions: [{ unit: unit || "-", period, form: code, records }] };
    // Computed cells.
    const ev = new Evaluator(pageRules, set);
    const at = { unit: unit || "-", period, record: null, zero: false, tolerance: null };
    for (const out of gridOutputs) {
      const cell = out.id.slice(2);
      let text;
      try {
        text = canonical(ev.cell(code, cell, "current", at));
      } catch (e) {
        if (!(e instanceof DivByZero)) throw e;
        text = null;
      }
      const shown = display(defs.get(cell).type, text);
      if (out.value !== shown) {
        out.value = shown;
        out.title = text ?? "";
      }
    }
    const issues = [];
    const unitProblem = unit === "" && submitted ? "Đơn vị báo cáo: bắt buộc phải nhập" : null;
    if (unitProblem) issues.push({ where: { el: unitEl, msg: $("m-regc-unit") }, id: "regc-unit", severity: "error", message: unitProblem });
    const pp = periodProblem(period);
    if (pp) issues.push({ where: { el: periodEl, msg: $("m-regc-period") }, id: "regc-period", severity: "error", message: pp });
    for (const b of bad) {
      issues.push({ where: target(b.cell, b.record), id: b.el.id, severity: "error", message: b.problem.message });
    }
    for (const v of validate(pageRules, set).violations) {
      if (v.kind === "required" && !submitted) continue;
      if (v.severity === "info") continue;
      const where = v.cell != null ? target(v.cell, v.record) : { el: null, msg: null };
      issues.push({ where, id: where.el ? where.el.id : null, severity: v.severity, message: v.message, rule: v.rule });
    }
    for (const i of issues) mark(i.where, i.severity, i.message);
    // The summary.
    const errors = issues.filter((i) => i.severity === "error");
    const warnings = new Map();
    for (const i of issues) if (i.severity === "warning" && !warnings.has(i.rule)) warnings.set(i.rule, i);
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
    for (const [rule, item] of explanations) if (!warnings.has(rule)) explanations.delete(rule);
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
    return { errors, warnings, unit, period, records };
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
    const sub = { unit: state.unit, period: state.period, form: code, records: state.records };
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

  form.addEventListener("input", () => {
    status.textContent = "";
    refresh();
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
