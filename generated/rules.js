// regc rule evaluator for JavaScript: reads a regime's `rules.json` and
// gives exactly the verdicts and messages of the Rust evaluator
// (src/eval.rs, src/eval/num.rs, src/validate.rs), whose semantics are
// written down in docs/rules.md. One dependency-free ES module for browsers
// (no eval, no new Function: fine under a strict CSP) and Node 20.
//
//   validate(rules, set)       every violation of a submission set
//   checkValue(rules, form, cell, text)   one submitted text: type, range, codelist
//   computeCell(rules, set, unit, period, form, cell)   the value of any cell
//   periodsOf(frequency)       previous period, same period last year, year to date
//
// Numbers are exact decimals (a BigInt mantissa and a scale), never floats.

// ---------------------------------------------------------------- numbers

const pow10cache = [1n];
function pow10(n) {
  while (pow10cache.length <= n) pow10cache.push(pow10cache[pow10cache.length - 1] * 10n);
  return pow10cache[n];
}

function babs(x) {
  return x < 0n ? -x : x;
}

// num / den (num >= 0, den > 0) rounded half away from zero.
function roundHalfAway(num, den) {
  const q = num / den;
  return (num % den) * 2n >= den ? q + 1n : q;
}

/** An exact decimal `m × 10^-s`, normalized: no trailing zero in `m` when s > 0. */
export class Num {
  constructor(m, s = 0) {
    if (m === 0n) s = 0;
    while (s > 0 && m % 10n === 0n) {
      m /= 10n;
      s -= 1;
    }
    this.m = m;
    this.s = s;
  }

  /** Reads `-?[0-9]+(\.[0-9]+)?`, else null. */
  static parse(text) {
    const t = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text);
    if (!t) return null;
    const frac = t[3] || "";
    const m = BigInt(t[2] + frac);
    return new Num(t[1] ? -m : m, frac.length);
  }

  static int(n) {
    return new Num(BigInt(n), 0);
  }

  // Both mantissas at the larger scale.
  align(o) {
    const s = Math.max(this.s, o.s);
    return [this.m * pow10(s - this.s), o.m * pow10(s - o.s), s];
  }

  add(o) {
    const [a, b, s] = this.align(o);
    return new Num(a + b, s);
  }
  sub(o) {
    const [a, b, s] = this.align(o);
    return new Num(a - b, s);
  }
  mul(o) {
    return new Num(this.m * o.m, this.s + o.s);
  }
  neg() {
    return new Num(-this.m, this.s);
  }
  abs() {
    return new Num(babs(this.m), this.s);
  }
  cmp(o) {
    const [a, b] = this.align(o);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** this / o rounded half away from zero to `scale` digits; null when o is 0. */
  div(o, scale) {
    if (o.m === 0n) return null;
    const d = scale + o.s - this.s;
    let num = babs(this.m);
    let den = babs(o.m);
    if (d >= 0) num *= pow10(d);
    else den *= pow10(-d);
    const q = roundHalfAway(num, den);
    return new Num(this.m < 0n !== o.m < 0n ? -q : q, scale);
  }

  /** Rounded half away from zero to `digits` (a BigInt; negative: tens, hundreds…). */
  round(digits) {
    const shift = BigInt(this.s) - digits;
    if (shift <= 0n) return this;
    // More digits dropped than the mantissa has: 0 (as Rust gets, if slowly).
    if (shift > BigInt(babs(this.m).toString().length)) return new Num(0n);
    const q0 = roundHalfAway(babs(this.m), pow10(Number(shift)));
    const q = this.m < 0n ? -q0 : q0;
    return digits >= 0n ? new Num(q, Number(digits)) : new Num(q * pow10(Number(-digits)), 0);
  }

  /** `-?digits[.digits]`, no trailing zeros, no exponent. */
  toString() {
    const digits = babs(this.m).toString();
    const sign = this.m < 0n ? "-" : "";
    if (this.s === 0) return sign + digits;
    const padded = digits.padStart(this.s + 1, "0");
    const cut = padded.length - this.s;
    return `${sign}${padded.slice(0, cut)}.${padded.slice(cut)}`;
  }
}

const ZERO = new Num(0n);
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

// ------------------------------------------------------ strings and dates

// Rust orders strings by bytes (UTF-8), that is by code points; JS's `<`
// compares UTF-16 units, which differs above U+FFFF.
export function cmpStr(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const sx = x >= 0xd800 && x <= 0xdfff;
      const sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy) return sx ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

// Unicode White_Space, as Rust's `str::trim` and chrono see it.
const WS = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const leadingWs = new RegExp(`^[${WS}]*`);
const blank = new RegExp(`^[${WS}]*$`);

function utf8Length(text) {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

function isLeap(y) {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
function daysIn(y, m) {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}
const pad = (n, w) => String(n).padStart(w, "0");

// A date written YYYY-MM-DD, as the Rust reader accepts it (four-digit
// year, two-digit month and day, a day the month has). {y, m, d} or null.
function parseDate(text) {
  const t = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  if (!t) return null;
  const [y, m, d] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return null;
  return { y, m, d };
}

// chrono's %Y: four digits, or a sign and more outside 0..=9999.
function showYear(y) {
  return y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? "-" : "+") + pad(Math.abs(y), 4);
}

// ----------------------------------------------------------------- values
// A value is null (missing) or {t: "num", n: Num} | {t: "text", v} |
// {t: "bool", v} | {t: "date", y, m, d}.

const num = (n) => ({ t: "num", n });
const bool = (v) => ({ t: "bool", v });

// The typed value of a stored text (canonical, as `Store::to_json` writes
// it) of a cell of type `ty`; null if it is not one.
function fromText(ty, text) {
  switch (ty.type) {
    case "int":
    case "money":
    case "decimal":
    case "percent": {
      const n = Num.parse(text);
      return n && num(n);
    }
    case "date": {
      const d = parseDate(text);
      return d && { t: "date", ...d };
    }
    case "bool":
      return text === "true" || text === "1" ? bool(true) : text === "false" || text === "0" ? bool(false) : null;
    default:
      return { t: "text", v: text };
  }
}

/** A value as shown in a message. */
function show(v) {
  switch (v.t) {
    case "num":
      return v.n.toString();
    case "bool":
      return v.v ? "đúng" : "sai";
    case "date":
      return `${pad(v.d, 2)}/${pad(v.m, 2)}/${showYear(v.y)}`;
    default:
      return v.v;
  }
}

/** A value in its canonical text form (as stored), or null. */
function canonical(v) {
  if (v === null) return null;
  switch (v.t) {
    case "num":
      return v.n.toString();
    case "bool":
      return String(v.v);
    case "date":
      return `${showYear(v.y)}-${pad(v.m, 2)}-${pad(v.d, 2)}`;
    default:
      return v.v;
  }
}

function cmpValues(a, b) {
  if (a.t !== b.t) return null;
  switch (a.t) {
    case "num":
      return a.n.cmp(b.n);
    case "text":
      return cmpStr(a.v, b.v);
    case "bool":
      return Number(a.v) - Number(b.v);
    default:
      return Math.sign(a.y - b.y || a.m - b.m || a.d - b.d);
  }
}

/** Fills `{k}` with the k-th value (`(trống)` when missing), `{{`/`}}` with braces. */
export function fillMessage(message, values) {
  let out = "";
  let rest = message;
  for (;;) {
    const i = rest.search(/[{}]/);
    if (i < 0) break;
    out += rest.slice(0, i);
    const tail = rest.slice(i);
    if (tail.startsWith("{{") || tail.startsWith("}}")) {
      out += tail[0];
      rest = tail.slice(2);
      continue;
    }
    // A placeholder is `{` digits `}`.
    const end = tail.indexOf("}");
    const k = end > 0 ? /^([0-9]+)$/.exec(tail.slice(1, end)) : null;
    if (k && BigInt(k[1]) <= 2n ** 64n - 1n) {
      const v = BigInt(k[1]) < BigInt(values.length) ? values[Number(k[1])] : null;
      out += v == null ? "(trống)" : show(v);
      rest = tail.slice(end + 1);
      continue;
    }
    out += tail[0];
    rest = tail.slice(1);
  }
  return out + rest;
}

// ---------------------------------------------------------------- periods

// Weeks in ISO year y: 53 when the year starts or ends on a Thursday, else
// 52 (p(x) is the weekday of 31 December of year x, 0 for Sunday).
function isoWeeks(y) {
  const p = (x) => (((x + Math.floor(x / 4) - Math.floor(x / 100) + Math.floor(x / 400)) % 7) + 7) % 7;
  return p(y) === 4 || p(y - 1) === 3 ? 53 : 52;
}

/** The period ids of `year` for a frequency, in order (src/calendar.rs period_bounds). */
export function periodIds(frequency, year) {
  const range = (n, f) => Array.from({ length: n }, (_, i) => f(i + 1));
  switch (frequency) {
    case "daily":
      return range(12, (m) => range(daysIn(year, m), (d) => `${showYear(year)}-${pad(m, 2)}-${pad(d, 2)}`)).flat();
    case "weekly":
      return range(isoWeeks(year), (w) => `${year}-W${pad(w, 2)}`);
    case "monthly":
      return range(12, (m) => `${year}-${pad(m, 2)}`);
    case "quarterly":
      return range(4, (q) => `${year}-Q${q}`);
    case "six_monthly":
      return [`${year}-H1`, `${year}-H2`];
    case "nine_monthly":
      return [`${year}-9M`];
    case "annual":
      return [`${year}`];
    default: // ad_hoc: no periods
      return [];
  }
}

/** Previous period, same period last year, year to date, first of the year (eval::Periods). */
export function periodsOf(frequency) {
  const years = new Map();
  const ofYear = (y) => {
    if (!years.has(y)) years.set(y, periodIds(frequency, y));
    return years.get(y);
  };
  // The year an id names: its first four characters (Rust `parse::<i32>`).
  const yearOf = (id) => (id.length >= 4 && /^[+-]?[0-9]+$/.test(id.slice(0, 4)) ? Number(id.slice(0, 4)) : null);
  return {
    shift(id, by) {
      if (by === "current") return id;
      const y = yearOf(id);
      if (y === null) return null;
      if (by === "previous") {
        const i = ofYear(y).indexOf(id);
        if (i < 0) return null;
        return i === 0 ? (ofYear(y - 1).at(-1) ?? null) : ofYear(y)[i - 1];
      }
      const candidate = `${y - 1}${id.slice(4)}`;
      return ofYear(y - 1).includes(candidate) ? candidate : null;
    },
    yearToDate(id) {
      const y = yearOf(id);
      const list = y === null ? [] : ofYear(y);
      const i = list.indexOf(id);
      return i < 0 ? [] : list.slice(0, i + 1);
    },
    firstOfYear(id) {
      const y = yearOf(id);
      return y === null ? null : (ofYear(y)[0] ?? null);
    },
  };
}

// -------------------------------------------------------------- evaluator

// Thrown by a division by zero; caught where Rust matches `Stop::DivByZero`.
class DivByZero extends Error {}

// Aggregates present values (over periods or records): null when none.
function aggregate(func, values, divScale) {
  if (values.length === 0) return null;
  const sum = () => values.reduce((s, x) => s.add(x), ZERO);
  switch (func) {
    case "sum":
      return sum();
    case "average":
      return sum().div(Num.int(values.length), divScale);
    case "last":
      return values.at(-1);
    case "min":
      return values.reduce((m, x) => (x.cmp(m) < 0 ? x : m));
    case "max":
      return values.reduce((m, x) => (x.cmp(m) > 0 ? x : m));
    default: // first, none
      return values[0];
  }
}

// A parsed submission set, indexed: (form, unit, period) → {numbers: the
// record numbers in order, records: Map n → {cell: text}}.
function indexSet(rules, set) {
  if (set.regime !== undefined && set.regime !== rules.regime) {
    throw new Error(`the submission set is of ${set.regime}, the rules of ${rules.regime}`);
  }
  const subs = new Map();
  for (const s of set.submissions || []) {
    const records = new Map(Object.entries(s.records || {}).map(([n, cells]) => [Number(n), cells || {}]));
    const numbers = [...records.keys()].sort((a, b) => a - b);
    subs.set(`${s.form}\u0000${s.unit}\u0000${s.period}`, { numbers, records });
  }
  return subs;
}

class Evaluator {
  constructor(rules, set) {
    this.divScale = rules.div_scale ?? 20;
    this.subs = indexSet(rules, set);
    this.periods = periodsOf(rules.frequency);
    this.cells = new Map();
    for (const f of rules.forms) for (const c of f.cells) this.cells.set(`${f.code}\u0000${c.id}`, c);
  }

  sub(form, unit, period) {
    return this.subs.get(`${form}\u0000${unit}\u0000${period}`) || null;
  }

  // The value of an entered cell in record n of a submission (Submission::get).
  value(sub, n, form, cell) {
    const def = this.cells.get(`${form}\u0000${cell}`);
    const text = sub && sub.records.get(n)?.[cell];
    if (!def || def.entry === "computed" || typeof text !== "string" || blank.test(text)) return null;
    return fromText(def.type, text);
  }

  stored(form, cell, unit, period) {
    return this.value(this.sub(form, unit, period), 0, form, cell);
  }

  /** One outcome per record (record 0 for submission rules): [[n, outcome]]. */
  rule(rule, unit, period) {
    const base = { unit, period, record: null, zero: false, tolerance: rule.tolerance || null };
    if (rule.scope.type !== "each_record") return [[0, this.outcome(rule, base)]];
    const form = rule.scope.form;
    const sub = this.sub(form, unit, period);
    if (!sub) return [];
    return sub.numbers.map((n) => [n, this.outcome(rule, { ...base, record: { form, sub, n } })]);
  }

  outcome(rule, at) {
    const reads = [];
    this.reads(rule.check, at, reads);
    const missing = reads.filter((r) => !r).length;
    const allMissing = reads.length > 0 && missing === reads.length;
    let zero;
    switch (rule.missing) {
      case "skip_if_all":
        if (allMissing) return { kind: "skipped" };
        zero = true;
        break;
      case "zero":
        zero = true;
        break;
      case "never":
        if (missing > 0) return { kind: "fail", values: this.placeholders(rule, at) };
        zero = false;
        break;
      default: // skip_if_any
        if (missing > 0) return { kind: "skipped" };
        zero = false;
    }
    at = { ...at, zero };
    let v;
    try {
      v = this.eval(rule.check, at);
    } catch (e) {
      if (e instanceof DivByZero) return { kind: "div_by_zero" };
      throw e;
    }
    if (v && v.t === "bool") return v.v ? { kind: "pass" } : { kind: "fail", values: this.placeholders(rule, at) };
    return { kind: "skipped" };
  }

  placeholders(rule, at) {
    at = { ...at, zero: false };
    return (rule.placeholders || []).map((p) => {
      try {
        return this.eval(p, at);
      } catch (e) {
        if (e instanceof DivByZero) return null;
        throw e;
      }
    });
  }

  // Whether each value the expression reads is present, in order. A read
  // that divides by zero counts as present: the check reports the division
  // only if it uses that value.
  present(e, at) {
    try {
      return this.eval(e, { ...at, zero: false }) !== null;
    } catch (err) {
      if (err instanceof DivByZero) return true;
      throw err;
    }
  }

  reads(e, at, out) {
    switch (e.op) {
      case "cell":
      case "year_to_date":
        out.push(this.present(e, at));
        break;
      case "records":
        if (e.func !== "count") out.push(this.present(e, at));
        break;
      case "neg":
      case "not":
        this.reads(e.arg, at, out);
        break;
      case "binary":
        this.reads(e.lhs, at, out);
        this.reads(e.rhs, at, out);
        break;
      case "call":
        for (const a of e.args) this.reads(a, at, out);
        break;
    }
  }

  // A cell of this regime in at.period shifted by `by`.
  cell(form, cell, by, at) {
    if (at.record && at.record.form === form) return this.value(at.record.sub, at.record.n, form, cell);
    const period = this.periods.shift(at.period, by);
    if (period === null) return null;
    const def = this.cells.get(`${form}\u0000${cell}`);
    if (!def) return null;
    // The cell's own value: the rule's tolerance does not reach into it.
    if (def.entry === "computed") {
      return this.eval(def.formula, { ...at, period, record: null, zero: false, tolerance: null });
    }
    const v = this.stored(form, cell, at.unit, period);
    if (v !== null || def.entry !== "entered_yearly") return v;
    // Entered once per year: a blank takes the first period's value.
    const first = this.periods.firstOfYear(period);
    return first === null ? null : this.stored(form, cell, at.unit, first);
  }

  // A number, or 0 for a missing number when missing values count as 0.
  num(e, at) {
    const v = this.eval(e, at);
    if (v && v.t === "num") return v.n;
    return v === null && at.zero && e.ty === "number" ? ZERO : null;
  }

  eval(e, at) {
    const zeroIf = (v) => (v === null && at.zero && e.ty === "number" ? num(ZERO) : v);
    switch (e.op) {
      case "number": {
        const n = Num.parse(e.value);
        return n && num(n);
      }
      case "text":
        return { t: "text", v: e.value };
      case "bool":
        return bool(e.value);
      case "date": {
        const d = parseDate(e.value);
        return d && { t: "date", ...d };
      }
      case "cell":
        // A cell of another regime (reconciliations) reads nothing here.
        if (e.regime != null) return null;
        return zeroIf(this.cell(e.form, e.cell, e.period, at));
      case "neg": {
        const n = this.num(e.arg, at);
        return n && num(n.neg());
      }
      case "not": {
        const v = this.eval(e.arg, at);
        return v && v.t === "bool" ? bool(!v.v) : null;
      }
      case "binary":
        return this.binary(e.bin, e.lhs, e.rhs, at);
      case "call":
        return this.call(e.func, e.args, at);
      case "year_to_date": {
        const values = [];
        for (const period of this.periods.yearToDate(at.period)) {
          const v = this.eval(e.arg, { ...at, period, zero: false });
          if (v && v.t === "num") values.push(v.n);
        }
        return zeroIf(this.agg(e.func, values));
      }
      case "records": {
        const sub = this.sub(e.form, at.unit, at.period);
        if (e.func === "count" || e.field == null) return num(Num.int(sub ? sub.numbers.length : 0));
        const values = [];
        for (const n of sub ? sub.numbers : []) {
          const v = this.value(sub, n, e.form, e.field);
          if (v && v.t === "num") values.push(v.n);
        }
        return zeroIf(this.agg(e.func, values));
      }
      default:
        return null;
    }
  }

  agg(func, values) {
    const n = aggregate(func, values, this.divScale);
    return n && num(n);
  }

  binary(bin, lhs, rhs, at) {
    if (bin === "and" || bin === "or") {
      // Both sides are evaluated (a division by zero on either stops).
      const l = this.eval(lhs, at);
      const r = this.eval(rhs, at);
      if (!l || !r || l.t !== "bool" || r.t !== "bool") return null;
      return bool(bin === "and" ? l.v && r.v : l.v || r.v);
    }
    if (bin === "add" || bin === "sub" || bin === "mul" || bin === "div") {
      const a = this.num(lhs, at);
      const b = this.num(rhs, at);
      if (a === null || b === null) return null;
      if (bin === "div") {
        const q = a.div(b, this.divScale);
        if (q === null) throw new DivByZero();
        return num(q);
      }
      return num(bin === "add" ? a.add(b) : bin === "sub" ? a.sub(b) : a.mul(b));
    }
    let l, r;
    if (lhs.ty === "number") {
      const a = this.num(lhs, at);
      const b = this.num(rhs, at);
      [l, r] = [a && num(a), b && num(b)];
    } else {
      l = this.eval(lhs, at);
      r = this.eval(rhs, at);
    }
    if (l === null || r === null) return null;
    // A tolerance makes "equal" mean "close enough".
    if (l.t === "num" && r.t === "num" && at.tolerance && (bin === "eq" || bin === "ne")) {
      return bool(within(l.n, r.n, at.tolerance) === (bin === "eq"));
    }
    const c = cmpValues(l, r);
    if (c === null) return null;
    const result = { eq: c === 0, ne: c !== 0, lt: c < 0, le: c <= 0, gt: c > 0 }[bin];
    return bool(result === undefined ? c >= 0 : result);
  }

  call(func, args, at) {
    if (func === "if") {
      // Only the chosen branch is evaluated.
      if (args.length !== 3) return null;
      const c = this.eval(args[0], at);
      if (!c || c.t !== "bool") return null;
      return this.eval(c.v ? args[1] : args[2], at);
    }
    // Arguments left to right; the first missing one stops the call.
    const xs = [];
    for (const a of args) {
      const n = this.num(a, at);
      if (n === null) return null;
      xs.push(n);
    }
    switch (func) {
      case "abs":
        return xs.length === 1 ? num(xs[0].abs()) : null;
      case "round": {
        if (xs.length === 1) return num(xs[0].round(0n));
        if (xs.length !== 2) return null;
        // Rust: `n.to_plain().parse::<i64>().unwrap_or(0)`.
        const t = xs[1].toString();
        let digits = /^-?[0-9]+$/.test(t) ? BigInt(t) : 0n;
        if (digits < I64_MIN || digits > I64_MAX) digits = 0n;
        return num(xs[0].round(digits));
      }
      case "min":
      case "max":
        return xs.length ? num(aggregate(func, xs, this.divScale)) : null;
      case "sum":
        return num(xs.reduce((s, x) => s.add(x), ZERO));
      default:
        return null;
    }
  }
}

/** |a − b| ≤ t, or ≤ t × max(|a|, |b|) for a relative tolerance. */
function within(a, b, t) {
  const tol = Num.parse(t.value);
  if (tol === null) return a.cmp(b) === 0;
  const [x, y] = [a.abs(), b.abs()];
  const bound = t.relative ? tol.mul(x.cmp(y) > 0 ? x : y) : tol;
  return a.sub(b).abs().cmp(bound) <= 0;
}

// --------------------------------------------------------------- validate

const RULE_KINDS = new Set(["written", "split", "of_which"]);

/**
 * Every violation of the submissions of `set` (docs/rules.md, "Submission
 * sets") for each (unit, period) it holds, like `regc validate`: written,
 * split and of-which rules, required cells, divisions by zero.
 * Reconciliations are not evaluated here. Returns {violations, evaluated, skipped}.
 */
export function validate(rules, set) {
  const ev = new Evaluator(rules, set);
  const violations = [];
  let evaluated = 0;
  let skipped = 0;
  const violation = (unit, period, form, record, cell, rule, kind, severity, message) => {
    const v = { unit, period, form };
    if (record !== null) v.record = record;
    if (cell !== null) v.cell = cell;
    Object.assign(v, { rule, kind, severity, message });
    violations.push(v);
  };
  const seen = new Map();
  for (const s of set.submissions || []) seen.set(`${s.unit}\u0000${s.period}`, [s.unit, s.period]);
  const targets = [...seen.values()].sort((a, b) => cmpStr(a[0], b[0]) || cmpStr(a[1], b[1]));

  for (const [unit, period] of targets) {
    // Required cells left blank.
    for (const form of rules.forms) {
      const required = form.cells.filter((c) => c.required && c.entry !== "computed");
      if (required.length === 0) continue;
      const sub = ev.sub(form.code, unit, period);
      const records = form.kind === "grid" ? [0] : sub ? sub.numbers : [];
      for (const n of records) {
        for (const c of required) {
          const text = sub && sub.records.get(n)?.[c.id];
          if (typeof text === "string" && !blank.test(text)) continue;
          violation(unit, period, form.code, form.kind === "records" ? n : null, c.id,
            `required.${form.code}.${c.id}`, "required", "error", `${c.label}: bắt buộc phải nhập`);
        }
      }
    }
    // Written and derived rules.
    for (const rule of rules.rules) {
      if (!RULE_KINDS.has(rule.kind)) continue;
      const each = rule.scope.type === "each_record";
      const form = each ? rule.scope.form : (rule.form ?? "");
      const cell = rule.cell ?? null;
      for (const [n, o] of ev.rule(rule, unit, period)) {
        const record = each ? n : null;
        if (o.kind === "skipped") skipped += 1;
        else evaluated += 1;
        if (o.kind === "fail") {
          violation(unit, period, form, record, cell, rule.code, rule.kind, rule.severity,
            fillMessage(rule.message, o.values));
        } else if (o.kind === "div_by_zero") {
          violation(unit, period, form, record, cell, rule.code, "div_by_zero", "error",
            `Không kiểm tra được quy tắc ${rule.code}: phép chia cho 0 (division by zero)`);
        }
      }
    }
  }
  // Sorted as src/validate.rs sorts them (a missing record or cell first).
  const opt = (a, b, cmp) => (a === undefined ? (b === undefined ? 0 : -1) : b === undefined ? 1 : cmp(a, b));
  violations.sort((a, b) =>
    cmpStr(a.unit, b.unit) || cmpStr(a.period, b.period) || cmpStr(a.form, b.form) ||
    opt(a.record, b.record, (x, y) => x - y) || cmpStr(a.rule, b.rule) || opt(a.cell, b.cell, cmpStr));
  return { violations, evaluated, skipped };
}

/**
 * The value of any cell (entered, entered once per year, or computed) of
 * `unit` for `period`, as canonical text; null when missing or when its
 * formula divides by zero.
 */
export function computeCell(rules, set, unit, period, form, cell) {
  const ev = new Evaluator(rules, set);
  const at = { unit, period, record: null, zero: false, tolerance: null };
  try {
    return canonical(ev.cell(form, cell, "current", at));
  } catch (e) {
    if (e instanceof DivByZero) return null;
    throw e;
  }
}

// ------------------------------------------------------------ checkValue

// value.rs `Decimal::parse`: at most 38 digits, leading zeros of the whole
// part and trailing zeros of the fraction not counted. {int, frac} or null.
function parseDecimal(text) {
  const t = /^-?([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (!t) return null;
  const int = t[1].replace(/^0+/, "");
  const frac = (t[2] || "").replace(/0+$/, "");
  // `written`: the decimals as typed, zeros included ("5.00" has two): a
  // cell keeps no more than its scale, as the reader says (value.rs).
  return int.length + frac.length > 38 ? null : { int, frac, written: (t[2] || "").length, n: Num.parse(text) };
}

/**
 * Checks one submitted text for an entered cell against the `type`, `range`
 * and `codelist` rules of rules.json, as `regc validate` reads a file.
 * Returns null (a valid value, or a blank one: blanks are missing values)
 * or {rule, kind, message}. Throws for a form or cell that takes no entry.
 */
export function checkValue(rules, form, cell, text) {
  const c = (rules.forms.find((f) => f.code === form)?.cells || []).find((x) => x.id === cell);
  if (!c || c.entry === "computed") throw new Error(`form ${form} has no entered cell \`${cell}\``);
  if (text == null || blank.test(text)) return null;
  const about = (kind) => rules.rules.find((r) => r.kind === kind && r.form === form && r.cell === cell);
  const bad = (kind, what) => ({ rule: `${kind}.${form}.${cell}`, kind, message: `${c.label}: ${what}` });
  const typeError = bad("type", "giá trị không đúng kiểu dữ liệu");
  let number = null;
  const ty = c.type;
  switch (ty.type) {
    case "int":
    case "money": {
      const d = parseDecimal(text);
      if (!d || d.written > 0 || d.n.m < I64_MIN || d.n.m > I64_MAX) return typeError;
      number = d.n;
      break;
    }
    case "decimal":
    case "percent": {
      const [precision, scale] = ty.type === "percent" ? [12, 4] : [ty.precision, ty.scale];
      const d = parseDecimal(text);
      if (!d || d.written > scale || d.int.length > precision - scale) return typeError;
      number = d.n;
      break;
    }
    case "text":
      if ([...text].length > ty.max_len || text.includes("\u0000")) return typeError;
      break;
    case "date":
      if (utf8Length(text) !== 10 || parseDate(text) === null) return typeError;
      break;
    case "bool":
      if (!["true", "1", "false", "0"].includes(text)) return typeError;
      break;
    case "code":
      if (!(about("codelist")?.codes || []).includes(text)) return bad("codelist", "mã không có trong danh mục");
      break;
  }
  const range = about("range")?.range;
  if (number !== null && range) {
    const lo = parseDecimal(range.min);
    const hi = parseDecimal(range.max);
    if (lo && hi && (number.cmp(lo.n) < 0 || number.cmp(hi.n) > 0)) {
      return bad("range", "giá trị nằm ngoài khoảng cho phép");
    }
  }
  return null;
}
