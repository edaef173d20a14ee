//! `generated/<regime>/rules.{postgres,sqlite}.sql`: the regime's rules as
//! one view, `"<regime>.violations"`, listing every violation in the
//! stored submissions (current revisions) with the columns of
//! `regc validate`: unit, period, form, record, cell, rule, kind, severity,
//! message. The translation mirrors the Rust evaluator ([`crate::eval`])
//! node by node, so that both give the same verdicts (docs/rules.md):
//!
//! * every expression becomes a value and a "divides by zero" condition;
//! * the values a rule reads (cells, year-to-date and record aggregates)
//!   are computed once, in an inner query, with a flag for those that
//!   divide by zero, and the missing-value strategy decides from them;
//! * numbers are exact: PostgreSQL's `NUMERIC` with `regc_div` (core
//!   schema) for division; on SQLite, text decimals and the `regc_*`
//!   functions regc registers ([`crate::db::functions`]).

use crate::eval::{MessagePart, message_parts};
use crate::ir::{self, BinOp, ExprKind, Func, Missing, PeriodRef, RecordFunc, TimeAgg};
use crate::layout::{RegimeLayout, Storage};
use crate::sql::{Dialect, Script, SqlError, ident, literal};
use rustc_hash::FxHashMap as HashMap;
use std::cell::Cell as Counter;

/// A translated expression: its value and when evaluating it divides by
/// zero (`FALSE` when it never can).
#[derive(Debug, Clone)]
struct Sql {
    v: String,
    dz: String,
}

impl Sql {
    fn plain(v: String) -> Sql {
        Sql {
            v,
            dz: "FALSE".into(),
        }
    }
}

fn or(parts: &[&str]) -> String {
    let real: Vec<&str> = parts.iter().copied().filter(|p| *p != "FALSE").collect();
    match real.as_slice() {
        [] => "FALSE".into(),
        [one] => (*one).to_string(),
        many => format!("({})", many.join(" OR ")),
    }
}

/// Where an expression is evaluated.
#[derive(Clone)]
struct Ctx {
    unit: String,
    period: String,
    /// `for each` rules: the record form and the alias of its row.
    record: Option<(String, String)>,
    zero: bool,
    tolerance: Option<ir::Tolerance>,
    /// The inner columns holding the rule's reads and their "divides by
    /// zero" flags, by read index (when translating the check over them).
    reads: Option<Vec<(String, String)>>,
}

struct Gen<'a> {
    r: &'a ir::Regime,
    layout: &'a RegimeLayout,
    d: Dialect,
    cells: HashMap<(&'a str, &'a str), &'a ir::Cell>,
    alias: Counter<usize>,
    /// The index of the next read while translating a check.
    next_read: Counter<usize>,
    /// Over a roll-up ([`rollup_formula`]): the aggregated rows a formula
    /// reads. `Ctx::period` then holds which of them is "current" (`0`,
    /// `1` for the previous period's, `2` for last year's).
    rollup: Option<RollupRows>,
    /// Over the roll-up views of a reconciliation ([`reconcile_queries`]):
    /// the alias of each (regime, form) whose roll-up row is joined; every
    /// cell, entered or computed, is a column there.
    reconcile: Option<HashMap<(Option<String>, String), String>>,
}

impl<'a> Gen<'a> {
    fn fresh(&self, base: &str) -> String {
        let n = self.alias.get() + 1;
        self.alias.set(n);
        format!("{base}{n}")
    }

    fn pg(&self) -> bool {
        self.d == Dialect::Postgres
    }

    fn zero(&self) -> &'static str {
        if self.pg() {
            "CAST(0 AS NUMERIC)"
        } else {
            "'0'"
        }
    }

    fn number(&self, value: &str) -> String {
        if self.pg() {
            format!("CAST({value} AS NUMERIC)")
        } else {
            literal(value)
        }
    }

    fn arith(&self, op: BinOp, a: &str, b: &str) -> String {
        match (self.d, op) {
            (Dialect::Postgres, BinOp::Add) => format!("({a} + {b})"),
            (Dialect::Postgres, BinOp::Sub) => format!("({a} - {b})"),
            (Dialect::Postgres, BinOp::Mul) => format!("({a} * {b})"),
            (Dialect::Sqlite, BinOp::Add) => format!("regc_add({a}, {b})"),
            (Dialect::Sqlite, BinOp::Sub) => format!("regc_sub({a}, {b})"),
            (Dialect::Sqlite, BinOp::Mul) => format!("regc_mul({a}, {b})"),
            _ => format!("regc_div({a}, {b})"),
        }
    }

    /// `a OP b` for numbers, exactly.
    fn compare_num(&self, op: &str, a: &str, b: &str) -> String {
        if self.pg() {
            format!("({a} {op} {b})")
        } else {
            format!("(regc_cmp({a}, {b}) {op} 0)")
        }
    }

    /// A stored column as an expression value.
    fn column(&self, alias: &str, name: &str, storage: &Storage) -> String {
        let c = format!("{alias}.{}", ident(name));
        match (self.d, storage) {
            (Dialect::Postgres, Storage::Integer | Storage::Decimal { .. }) => {
                format!("CAST({c} AS NUMERIC)")
            }
            (Dialect::Sqlite, s @ (Storage::Integer | Storage::Decimal { .. }))
                if !s.sqlite_text_decimal() =>
            {
                format!("regc_dec({c}, {})", s.stored_scale(self.d))
            }
            _ => c,
        }
    }

    fn regime_lit(&self) -> String {
        literal(&self.r.code)
    }

    /// The id of the period `by` from `period`.
    fn shift(&self, period: &str, by: PeriodRef) -> String {
        let col = match by {
            PeriodRef::Current => return period.to_string(),
            PeriodRef::Previous => "previous",
            PeriodRef::SamePeriodLastYear => "last_year",
        };
        self.period_column(period, col)
    }

    fn period_column(&self, period: &str, col: &str) -> String {
        let a = self.fresh("p");
        format!(
            "(SELECT {a}.{} FROM \"regc_period\" AS {a} WHERE {a}.\"regime\" = {} AND {a}.\"code\" = {period})",
            ident(col),
            self.regime_lit()
        )
    }

    /// The stored value of an entered grid cell.
    fn stored(&self, form: &str, cell: &str, unit: &str, period: &str) -> String {
        let Some((t, c)) = self.layout.column(form, cell) else {
            return "NULL".into();
        };
        let a = self.fresh("t");
        format!(
            "(SELECT {} FROM {} AS {a} WHERE {a}.\"unit\" = {unit} AND {a}.\"period\" = {period})",
            self.column(&a, &c.name, &c.storage),
            ident(&t.view)
        )
    }

    fn cell(&self, form: &str, cell: &str, by: PeriodRef, ctx: &Ctx) -> Sql {
        if let Some((rf, alias)) = &ctx.record
            && rf == form
        {
            let Some((_, c)) = self.layout.column(form, cell) else {
                return Sql::plain("NULL".into());
            };
            return Sql::plain(self.column(alias, &c.name, &c.storage));
        }
        if let Some(rows) = &self.rollup {
            return self.rollup_cell(rows, form, cell, by, ctx);
        }
        let period = self.shift(&ctx.period, by);
        let Some(def) = self.cells.get(&(form, cell)) else {
            return Sql::plain("NULL".into());
        };
        match &def.entry {
            ir::Entry::Computed { formula } => {
                let inner = Ctx {
                    period,
                    record: None,
                    zero: false,
                    tolerance: None,
                    reads: None,
                    ..ctx.clone()
                };
                self.eval(formula, &inner)
            }
            ir::Entry::Entered => Sql::plain(self.stored(form, cell, &ctx.unit, &period)),
            ir::Entry::EnteredYearly => {
                let first = self.period_column(&period, "first");
                Sql::plain(format!(
                    "COALESCE({}, {})",
                    self.stored(form, cell, &ctx.unit, &period),
                    self.stored(form, cell, &ctx.unit, &first)
                ))
            }
        }
    }

    fn zero_if(&self, e: &ir::Expr, s: Sql, ctx: &Ctx) -> Sql {
        if ctx.zero && e.ty == ir::ValueType::Number {
            Sql {
                v: format!("COALESCE({}, {})", s.v, self.zero()),
                dz: s.dz,
            }
        } else {
            s
        }
    }

    /// Rust's `Evaluator::num`: a number, zero for a missing one in zero mode.
    fn num(&self, e: &ir::Expr, ctx: &Ctx) -> Sql {
        let s = self.eval(e, ctx);
        self.zero_if(e, s, ctx)
    }

    fn is_read(e: &ir::Expr) -> bool {
        matches!(
            e.kind,
            ExprKind::Cell { .. }
                | ExprKind::YearToDate { .. }
                | ExprKind::Records {
                    func: RecordFunc::Sum | RecordFunc::Min | RecordFunc::Max,
                    ..
                }
        )
    }

    /// The reads of a check, in the order of `Evaluator::reads`.
    fn reads<'e>(e: &'e ir::Expr, out: &mut Vec<&'e ir::Expr>) {
        if Self::is_read(e) {
            out.push(e);
            return;
        }
        match &e.kind {
            ExprKind::Neg { arg } | ExprKind::Not { arg } => Self::reads(arg, out),
            ExprKind::Binary { lhs, rhs, .. } => {
                Self::reads(lhs, out);
                Self::reads(rhs, out);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| Self::reads(a, out)),
            _ => {}
        }
    }

    fn eval(&self, e: &ir::Expr, ctx: &Ctx) -> Sql {
        // Over the inner query, a read is its column, and divides by zero
        // where its flag says so.
        if let Some(cols) = &ctx.reads
            && Self::is_read(e)
        {
            let i = self.next_read.get();
            self.next_read.set(i + 1);
            let (v, dz) = cols
                .get(i)
                .cloned()
                .unwrap_or_else(|| ("NULL".into(), "FALSE".into()));
            return self.zero_if(e, Sql { v, dz }, ctx);
        }
        if let (
            Some(aliases),
            ExprKind::Cell {
                regime,
                form,
                cell,
                period,
            },
        ) = (&self.reconcile, &e.kind)
        {
            let alias = aliases.get(&(regime.clone(), form.clone()));
            let v = match (alias, period) {
                (Some(a), PeriodRef::Current) => {
                    format!("{a}.{}", ident(&crate::layout::column_name(cell)))
                }
                _ => "NULL".into(),
            };
            return self.zero_if(e, Sql::plain(v), ctx);
        }
        match &e.kind {
            ExprKind::Number { value } => Sql::plain(self.number(value)),
            ExprKind::Text { value } => Sql::plain(literal(value)),
            ExprKind::Bool { value } => Sql::plain(if *value { "TRUE" } else { "FALSE" }.into()),
            ExprKind::Date { value } => {
                let d = literal(&value.format("%Y-%m-%d").to_string());
                Sql::plain(if self.pg() {
                    format!("CAST({d} AS DATE)")
                } else {
                    d
                })
            }
            ExprKind::Cell {
                regime: Some(_), ..
            } => Sql::plain("NULL".into()),
            ExprKind::Cell {
                regime: None,
                form,
                cell,
                period,
            } => {
                let s = self.cell(form, cell, *period, ctx);
                self.zero_if(e, s, ctx)
            }
            ExprKind::Neg { arg } => {
                let a = self.num(arg, ctx);
                let v = if self.pg() {
                    format!("(-{})", a.v)
                } else {
                    format!("regc_neg({})", a.v)
                };
                Sql { v, dz: a.dz }
            }
            ExprKind::Not { arg } => {
                let a = self.eval(arg, ctx);
                Sql {
                    v: format!("(NOT {})", a.v),
                    dz: a.dz,
                }
            }
            ExprKind::Binary { bin, lhs, rhs } => self.binary(*bin, lhs, rhs, ctx),
            ExprKind::Call { func, args } => self.call(*func, args, ctx),
            ExprKind::YearToDate { func, arg } if self.rollup.is_some() => {
                let v = self.rollup.as_ref().and_then(|rows| {
                    let ExprKind::Cell {
                        regime: None,
                        form,
                        cell,
                        period: PeriodRef::Current,
                    } = &arg.kind
                    else {
                        return None;
                    };
                    let alias = rows.ytd.get(shift_index(&ctx.period))?.as_ref()?;
                    (*form == rows.form && self.layout.column(form, cell).is_some())
                        .then(|| format!("{alias}.{}", ident(&ytd_column(*func, cell))))
                });
                Sql::plain(v.unwrap_or_else(|| "NULL".into()))
            }
            ExprKind::Records { .. } if self.rollup.is_some() => Sql::plain("NULL".into()),
            ExprKind::YearToDate { func, arg } => {
                let s = self.year_to_date(*func, arg, ctx);
                self.zero_if(e, s, ctx)
            }
            ExprKind::Records { func, form, field } => {
                let s = self.records(*func, form, field.as_deref(), ctx);
                self.zero_if(e, s, ctx)
            }
        }
    }

    fn binary(&self, bin: BinOp, lhs: &ir::Expr, rhs: &ir::Expr, ctx: &Ctx) -> Sql {
        if matches!(bin, BinOp::And | BinOp::Or) {
            let (l, r) = (self.eval(lhs, ctx), self.eval(rhs, ctx));
            // SQL's AND and OR know an answer with one side unknown
            // (FALSE AND NULL); the rules do not: regc_and/regc_or are
            // NULL when either side is.
            let f = if bin == BinOp::And {
                "regc_and"
            } else {
                "regc_or"
            };
            return Sql {
                v: format!("{f}({}, {})", l.v, r.v),
                dz: or(&[&l.dz, &r.dz]),
            };
        }
        if matches!(bin, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div) {
            let (a, b) = (self.num(lhs, ctx), self.num(rhs, ctx));
            let mut dz = vec![a.dz.as_str(), b.dz.as_str()];
            let zero_div;
            if bin == BinOp::Div {
                // Never unknown: a missing divisor does not divide by zero.
                zero_div = format!(
                    "({} IS NOT NULL AND COALESCE({}, FALSE))",
                    a.v,
                    self.compare_num("=", &b.v, self.zero())
                );
                dz.push(&zero_div);
            }
            return Sql {
                v: self.arith(bin, &a.v, &b.v),
                dz: or(&dz),
            };
        }
        let number = lhs.ty == ir::ValueType::Number;
        let (l, r) = if number {
            (self.num(lhs, ctx), self.num(rhs, ctx))
        } else {
            (self.eval(lhs, ctx), self.eval(rhs, ctx))
        };
        let dz = or(&[&l.dz, &r.dz]);
        let op = match bin {
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            _ => ">=",
        };
        if number {
            if let (Some(t), BinOp::Eq | BinOp::Ne) = (&ctx.tolerance, bin) {
                let close = self.within(&l.v, &r.v, t);
                let v = if bin == BinOp::Eq {
                    close
                } else {
                    format!("(NOT {close})")
                };
                return Sql { v, dz };
            }
            return Sql {
                v: self.compare_num(op, &l.v, &r.v),
                dz,
            };
        }
        let v = if self.pg() && lhs.ty == ir::ValueType::Text {
            format!("({} COLLATE \"C\" {op} {})", l.v, r.v)
        } else {
            format!("({} {op} {})", l.v, r.v)
        };
        Sql { v, dz }
    }

    fn within(&self, a: &str, b: &str, t: &ir::Tolerance) -> String {
        if self.pg() {
            let tol = self.number(&t.value);
            let bound = if t.relative {
                format!("{tol} * GREATEST(abs({a}), abs({b}))")
            } else {
                tol
            };
            format!(
                "(CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE abs({a} - {b}) <= {bound} END)"
            )
        } else {
            format!(
                "(regc_within({a}, {b}, {}, {}) = 1)",
                literal(&t.value),
                i32::from(t.relative)
            )
        }
    }

    fn call(&self, func: Func, args: &[ir::Expr], ctx: &Ctx) -> Sql {
        if func == Func::If {
            let [c, t, f] = args else {
                return Sql::plain("NULL".into());
            };
            let (c, t, f) = (self.eval(c, ctx), self.eval(t, ctx), self.eval(f, ctx));
            return Sql {
                v: format!(
                    "(CASE WHEN {0} IS NULL THEN NULL WHEN {0} THEN {1} ELSE {2} END)",
                    c.v, t.v, f.v
                ),
                dz: format!(
                    "({} OR ({1} IS NOT NULL AND {1} AND {2}) OR ({1} IS NOT NULL AND NOT {1} AND {3}))",
                    c.dz, c.v, t.dz, f.dz
                ),
            };
        }
        // Arguments are evaluated in order; a missing one stops the call.
        let parts: Vec<Sql> = args.iter().map(|a| self.num(a, ctx)).collect();
        let mut dz = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            if p.dz == "FALSE" {
                continue;
            }
            let before: Vec<String> = parts
                .iter()
                .take(i)
                .map(|q| format!("{} IS NOT NULL", q.v))
                .collect();
            dz.push(if before.is_empty() {
                p.dz.clone()
            } else {
                format!("({} AND {})", before.join(" AND "), p.dz)
            });
        }
        let dz_refs: Vec<&str> = dz.iter().map(String::as_str).collect();
        let vals: Vec<&str> = parts.iter().map(|p| p.v.as_str()).collect();
        let any_null = vals
            .iter()
            .map(|v| format!("{v} IS NULL"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let v = match (func, vals.as_slice(), self.d) {
            (Func::Abs, [x], Dialect::Postgres) => format!("abs({x})"),
            (Func::Abs, [x], Dialect::Sqlite) => format!("regc_abs({x})"),
            (Func::Round, [x], Dialect::Postgres) => format!("round({x})"),
            (Func::Round, [x], Dialect::Sqlite) => format!("regc_round({x}, '0')"),
            (Func::Round, [x, n], Dialect::Postgres) => {
                format!("round({x}, CAST({n} AS INTEGER))")
            }
            (Func::Round, [x, n], Dialect::Sqlite) => format!("regc_round({x}, {n})"),
            (Func::Min | Func::Max, xs, Dialect::Postgres) if !xs.is_empty() => format!(
                "(CASE WHEN {any_null} THEN NULL ELSE {}({}) END)",
                if func == Func::Min {
                    "LEAST"
                } else {
                    "GREATEST"
                },
                xs.join(", ")
            ),
            (Func::Min, xs, Dialect::Sqlite) if !xs.is_empty() => {
                format!("regc_min({})", xs.join(", "))
            }
            (Func::Max, xs, Dialect::Sqlite) if !xs.is_empty() => {
                format!("regc_max({})", xs.join(", "))
            }
            (Func::Sum, xs, Dialect::Postgres) if !xs.is_empty() => format!("({})", xs.join(" + ")),
            (Func::Sum, xs, Dialect::Sqlite) if !xs.is_empty() => {
                format!("regc_sum({})", xs.join(", "))
            }
            _ => "NULL".into(),
        };
        Sql {
            v,
            dz: or(&dz_refs),
        }
    }

    /// Aggregates `arg` over the year's periods up to the current one.
    fn year_to_date(&self, func: TimeAgg, arg: &ir::Expr, ctx: &Ctx) -> Sql {
        let q = self.fresh("q");
        let y = self.fresh("y");
        let inner = Ctx {
            period: format!("{q}.\"code\""),
            zero: false,
            reads: None,
            ..ctx.clone()
        };
        let a = self.eval(arg, &inner);
        let year = self.period_column(&ctx.period, "year");
        let seq = self.period_column(&ctx.period, "seq");
        let rows = format!(
            "(SELECT {q}.\"seq\" AS \"seq\", {} AS \"v\", {} AS \"dz\" FROM \"regc_period\" AS {q} WHERE {q}.\"regime\" = {} AND {q}.\"year\" = {year} AND {q}.\"seq\" <= {seq}) AS {y}",
            a.v,
            a.dz,
            self.regime_lit()
        );
        let v = match (func, self.d) {
            (TimeAgg::Sum, Dialect::Postgres) => format!("(SELECT SUM({y}.\"v\") FROM {rows})"),
            (TimeAgg::Sum, Dialect::Sqlite) => {
                format!("(SELECT regc_total({y}.\"v\") FROM {rows})")
            }
            (TimeAgg::Average, Dialect::Postgres) => format!(
                "(SELECT regc_div(SUM({y}.\"v\"), CAST(COUNT({y}.\"v\") AS NUMERIC)) FROM {rows})"
            ),
            (TimeAgg::Average, Dialect::Sqlite) => {
                format!("(SELECT regc_div(regc_total({y}.\"v\"), COUNT({y}.\"v\")) FROM {rows})")
            }
            (TimeAgg::Min, Dialect::Postgres) => format!("(SELECT MIN({y}.\"v\") FROM {rows})"),
            (TimeAgg::Max, Dialect::Postgres) => format!("(SELECT MAX({y}.\"v\") FROM {rows})"),
            (TimeAgg::Min, Dialect::Sqlite) => {
                format!("(SELECT regc_least({y}.\"v\") FROM {rows})")
            }
            (TimeAgg::Max, Dialect::Sqlite) => {
                format!("(SELECT regc_greatest({y}.\"v\") FROM {rows})")
            }
            (TimeAgg::Last, _) => format!(
                "(SELECT {y}.\"v\" FROM {rows} WHERE {y}.\"v\" IS NOT NULL ORDER BY {y}.\"seq\" DESC LIMIT 1)"
            ),
            (TimeAgg::First | TimeAgg::None, _) => format!(
                "(SELECT {y}.\"v\" FROM {rows} WHERE {y}.\"v\" IS NOT NULL ORDER BY {y}.\"seq\" LIMIT 1)"
            ),
        };
        let dz = if a.dz == "FALSE" {
            "FALSE".to_string()
        } else {
            format!("EXISTS (SELECT 1 FROM {rows} WHERE {y}.\"dz\")")
        };
        Sql { v, dz }
    }

    fn records(&self, func: RecordFunc, form: &str, field: Option<&str>, ctx: &Ctx) -> Sql {
        let Some(table) = self.layout.form_tables(form).next() else {
            return Sql::plain("NULL".into());
        };
        let t = self.fresh("t");
        let from = format!(
            "FROM {} AS {t} WHERE {t}.\"unit\" = {} AND {t}.\"period\" = {}",
            ident(&table.view),
            ctx.unit,
            ctx.period
        );
        let col = field.and_then(|f| self.layout.column(form, f));
        let v = match (func, col, self.d) {
            (RecordFunc::Count, _, _) | (_, None, _) => {
                if self.pg() {
                    format!("(SELECT CAST(COUNT(*) AS NUMERIC) {from})")
                } else {
                    format!("(SELECT CAST(COUNT(*) AS TEXT) {from})")
                }
            }
            (f, Some((ct, c)), d) => {
                let value = self.column(&t, &c.name, &c.storage);
                let agg = match (f, d) {
                    (RecordFunc::Sum, Dialect::Postgres) => "SUM",
                    (RecordFunc::Min, Dialect::Postgres) => "MIN",
                    (RecordFunc::Max | RecordFunc::Count, Dialect::Postgres) => "MAX",
                    (RecordFunc::Sum, Dialect::Sqlite) => "regc_total",
                    (RecordFunc::Min, Dialect::Sqlite) => "regc_least",
                    (RecordFunc::Max | RecordFunc::Count, Dialect::Sqlite) => "regc_greatest",
                };
                format!(
                    "(SELECT {agg}({value}) FROM {} AS {t} WHERE {t}.\"unit\" = {} AND {t}.\"period\" = {})",
                    ident(&ct.view),
                    ctx.unit,
                    ctx.period
                )
            }
        };
        Sql::plain(v)
    }

    /// A value as shown in a message (`V::show`), NULL when missing.
    fn show(&self, e: &ir::Expr, v: &str) -> String {
        match (e.ty.clone(), self.d) {
            (ir::ValueType::Number, Dialect::Postgres) => format!("CAST(trim_scale({v}) AS TEXT)"),
            (ir::ValueType::Number, Dialect::Sqlite) => format!("regc_add({v}, '0')"),
            (ir::ValueType::Bool, _) => {
                format!("(CASE WHEN {v} IS NULL THEN NULL WHEN {v} THEN 'đúng' ELSE 'sai' END)")
            }
            (ir::ValueType::Date, Dialect::Postgres) => format!("to_char({v}, 'DD/MM/YYYY')"),
            (ir::ValueType::Date, Dialect::Sqlite) => format!("strftime('%d/%m/%Y', {v})"),
            (ir::ValueType::Text, _) => v.to_string(),
        }
    }

    /// The message with its placeholders filled (`eval::fill_message`).
    fn message(&self, rule: &ir::Rule, ctx: &Ctx) -> String {
        let raw = Ctx {
            zero: false,
            reads: None,
            ..ctx.clone()
        };
        let values: Vec<String> = rule
            .placeholders
            .iter()
            .map(|p| {
                let s = self.eval(p, &raw);
                let v = if s.dz == "FALSE" {
                    s.v
                } else {
                    format!("(CASE WHEN {} THEN NULL ELSE {} END)", s.dz, s.v)
                };
                format!("COALESCE({}, '(trống)')", self.show(p, &v))
            })
            .collect();
        let mut parts: Vec<String> = message_parts(&rule.message)
            .into_iter()
            .map(|p| match p {
                MessagePart::Text(t) => literal(&t),
                MessagePart::Placeholder(k) => {
                    values.get(k).cloned().unwrap_or_else(|| "'(trống)'".into())
                }
            })
            .collect();
        if parts.is_empty() {
            parts.push(literal(""));
        }
        parts.join(" || ")
    }

    /// The query listing the violations of one rule.
    fn rule(&self, rule: &ir::Rule) -> Option<String> {
        if rule.origin == ir::RuleOrigin::Reconcile {
            return None;
        }
        let code = self.regime_lit();
        let (base, record, form, record_col) = match &rule.scope {
            ir::RuleScope::Submission => (
                format!(
                    "(SELECT DISTINCT \"unit\", \"period\" FROM \"regc_current_submission\" WHERE \"regime\" = {code}) AS b"
                ),
                None,
                crate::validate::first_cell(&rule.check).map(|(f, _)| f.to_string()),
                "CAST(NULL AS INTEGER)".to_string(),
            ),
            ir::RuleScope::EachRecord { form } => {
                let table = self.layout.form_tables(form).next()?;
                (
                    format!("{} AS b", ident(&table.view)),
                    Some((form.clone(), "b".to_string())),
                    Some(form.clone()),
                    "b.\"record\"".to_string(),
                )
            }
        };
        let cell = crate::validate::first_cell(&rule.check).map(|(_, c)| c.to_string());
        let ctx = Ctx {
            unit: "b.\"unit\"".into(),
            period: "b.\"period\"".into(),
            record,
            zero: false,
            tolerance: rule.tolerance.clone(),
            reads: None,
        };
        let mut reads = Vec::new();
        Self::reads(&rule.check, &mut reads);
        let raw: Vec<Sql> = reads.iter().map(|e| self.eval(e, &ctx)).collect();
        let mut inner_cols = vec![
            "b.\"unit\" AS \"unit\"".to_string(),
            "b.\"period\" AS \"period\"".to_string(),
            format!("{record_col} AS \"record\""),
        ];
        // Each read: its value and, if it can divide by zero, a flag (a
        // read that does counts as present, docs/rules.md).
        let mut cols: Vec<(String, String)> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            inner_cols.push(format!("{} AS \"r{i}\"", s.v));
            let col = format!("i.\"r{i}\"");
            if s.dz == "FALSE" {
                missing.push(format!("{col} IS NULL"));
                cols.push((col, "FALSE".into()));
            } else {
                inner_cols.push(format!("COALESCE({}, FALSE) AS \"z{i}\"", s.dz));
                let flag = format!("i.\"z{i}\"");
                missing.push(format!("({col} IS NULL AND NOT {flag})"));
                cols.push((col, flag));
            }
        }
        let missing_any = missing.join(" OR ");
        let missing_all = missing.join(" AND ");
        let zero = matches!(rule.missing, Missing::SkipIfAll | Missing::Zero);
        // Over the inner query: reads are its columns; the message reads
        // the record and unit through the inner query's columns too.
        let over = Ctx {
            unit: "i.\"unit\"".into(),
            period: "i.\"period\"".into(),
            record: ctx
                .record
                .as_ref()
                .map(|(f, _)| (f.clone(), "i".to_string())),
            zero,
            tolerance: rule.tolerance.clone(),
            reads: Some(cols.clone()),
        };
        self.next_read.set(0);
        let check = self.eval(&rule.check, &over);
        let mut cases = Vec::new();
        if !cols.is_empty() {
            match rule.missing {
                Missing::SkipIfAny => cases.push(format!("WHEN {missing_any} THEN 'skipped'")),
                Missing::SkipIfAll => cases.push(format!("WHEN {missing_all} THEN 'skipped'")),
                Missing::Never => cases.push(format!("WHEN {missing_any} THEN 'fail'")),
                Missing::Zero => {}
            }
        }
        if check.dz != "FALSE" {
            cases.push(format!("WHEN {} THEN 'div_by_zero'", check.dz));
        }
        cases.push(format!("WHEN {} THEN 'pass'", check.v));
        cases.push(format!("WHEN NOT {} THEN 'fail'", check.v));
        let message_ctx = Ctx {
            unit: "v.\"unit\"".into(),
            period: "v.\"period\"".into(),
            record: None,
            zero: false,
            tolerance: None,
            reads: None,
        };
        // For each record, the message's fields are those of the record:
        // rejoin the record's row.
        let (record_join, message_ctx) = match &ctx.record {
            Some((form, _)) => {
                let table = self.layout.form_tables(form).next()?;
                (
                    format!(
                        " JOIN {} AS m ON m.\"unit\" = v.\"unit\" AND m.\"period\" = v.\"period\" AND m.\"record\" = v.\"record\"",
                        ident(&table.view)
                    ),
                    Ctx {
                        record: Some((form.clone(), "m".into())),
                        ..message_ctx
                    },
                )
            }
            None => (String::new(), message_ctx),
        };
        let message = self.message(rule, &message_ctx);
        let div_message = literal(&format!(
            "Không kiểm tra được quy tắc {}: phép chia cho 0 (division by zero)",
            rule.code
        ));
        let kind = literal(crate::validate::kind(&rule.origin));
        let severity = literal(match rule.severity {
            ir::Severity::Error => "error",
            ir::Severity::Warning => "warning",
            ir::Severity::Info => "info",
        });
        let text_null = "CAST(NULL AS TEXT)";
        let form_lit = form.as_deref().map_or(literal(""), literal);
        let cell_lit = cell.as_deref().map_or(text_null.to_string(), literal);
        let record_out = if ctx.record.is_some() {
            "v.\"record\"".to_string()
        } else {
            "CAST(NULL AS INTEGER)".to_string()
        };
        let verdict = format!("CASE {} ELSE 'skipped' END", cases.join(" "));
        Some(format!(
            "SELECT v.\"unit\" AS \"unit\", v.\"period\" AS \"period\", {form_lit} AS \"form\", {record_out} AS \"record\", {cell_lit} AS \"cell\", {} AS \"rule\", CASE WHEN v.\"verdict\" = 'div_by_zero' THEN 'div_by_zero' ELSE {kind} END AS \"kind\", CASE WHEN v.\"verdict\" = 'div_by_zero' THEN 'error' ELSE {severity} END AS \"severity\", CASE WHEN v.\"verdict\" = 'div_by_zero' THEN {div_message} ELSE {message} END AS \"message\" FROM (SELECT i.\"unit\", i.\"period\", i.\"record\", {verdict} AS \"verdict\" FROM (SELECT {} FROM {base}) AS i) AS v{record_join} WHERE v.\"verdict\" IN ('fail', 'div_by_zero')",
            literal(&rule.code),
            inner_cols.join(", ")
        ))
    }

    /// Required cells left blank.
    fn required(&self) -> Vec<String> {
        let code = self.regime_lit();
        let mut out = Vec::new();
        for f in &self.r.forms {
            for c in f
                .cells
                .iter()
                .filter(|c| c.required && !matches!(c.entry, ir::Entry::Computed { .. }))
            {
                let Some((t, col)) = self.layout.column(&f.code, &c.id) else {
                    continue;
                };
                let rule = literal(&format!("required.{}.{}", f.code, c.id));
                let message = literal(&format!("{}: bắt buộc phải nhập", c.label));
                let name = ident(&col.name);
                let query = match f.kind {
                    // Every unit and period with any submission of the
                    // regime: a grid form it did not send lacks the cell too.
                    ir::FormKind::Grid => format!(
                        "SELECT b.\"unit\" AS \"unit\", b.\"period\" AS \"period\", {} AS \"form\", CAST(NULL AS INTEGER) AS \"record\", {} AS \"cell\", {rule} AS \"rule\", 'required' AS \"kind\", 'error' AS \"severity\", {message} AS \"message\" FROM (SELECT DISTINCT \"unit\", \"period\" FROM \"regc_current_submission\" WHERE \"regime\" = {code}) AS b LEFT JOIN {} AS t ON t.\"unit\" = b.\"unit\" AND t.\"period\" = b.\"period\" WHERE t.{name} IS NULL",
                        literal(&f.code),
                        literal(&c.id),
                        ident(&t.view)
                    ),
                    ir::FormKind::Records => format!(
                        "SELECT t.\"unit\" AS \"unit\", t.\"period\" AS \"period\", {} AS \"form\", t.\"record\" AS \"record\", {} AS \"cell\", {rule} AS \"rule\", 'required' AS \"kind\", 'error' AS \"severity\", {message} AS \"message\" FROM {} AS t WHERE t.{name} IS NULL",
                        literal(&f.code),
                        literal(&c.id),
                        ident(&t.view)
                    ),
                };
                out.push(query);
            }
        }
        out
    }
}

impl<'a> Gen<'a> {
    fn new(
        r: &'a ir::Regime,
        layout: &'a RegimeLayout,
        d: Dialect,
        rollup: Option<RollupRows>,
    ) -> Self {
        let mut cells = HashMap::default();
        for f in &r.forms {
            for c in &f.cells {
                cells.insert((f.code.as_str(), c.id.as_str()), c);
            }
        }
        Gen {
            r,
            layout,
            d,
            cells,
            alias: Counter::new(0),
            next_read: Counter::new(0),
            rollup,
            reconcile: None,
        }
    }
}

/// The aggregated rows a roll-up formula reads: the current period's,
/// the previous period's and last year's (`None`: not joined), and the
/// year-to-date row of each, all of one form.
#[derive(Debug, Clone)]
pub(crate) struct RollupRows {
    pub form: String,
    pub rows: [Option<String>; 3],
    pub ytd: [Option<String>; 3],
}

/// Which of [`RollupRows`] a roll-up context reads (kept in `Ctx::period`).
fn shift_index(period: &str) -> usize {
    period.parse().unwrap_or(0)
}

/// The column of a roll-up's year-to-date row holding `func` of `cell`.
pub(crate) fn ytd_column(func: TimeAgg, cell: &str) -> String {
    let f = match func {
        TimeAgg::Sum => "sum",
        TimeAgg::Average => "average",
        TimeAgg::Last => "last",
        TimeAgg::First => "first",
        TimeAgg::Min => "min",
        TimeAgg::Max => "max",
        TimeAgg::None => "none",
    };
    crate::sql::fit(&format!("ytd.{f}.{cell}"))
}

impl Gen<'_> {
    /// A cell read over roll-up rows: an entered cell is its column in the
    /// row of the period it names, a computed one its formula over that
    /// row. Other forms, and a period shifted twice, are `NULL`.
    fn rollup_cell(
        &self,
        rows: &RollupRows,
        form: &str,
        cell: &str,
        by: PeriodRef,
        ctx: &Ctx,
    ) -> Sql {
        let null = || Sql::plain("NULL".into());
        if form != rows.form {
            return null();
        }
        let at = match (shift_index(&ctx.period), by) {
            (here, PeriodRef::Current) => here,
            (0, PeriodRef::Previous) => 1,
            (0, PeriodRef::SamePeriodLastYear) => 2,
            _ => return null(),
        };
        match self.cells.get(&(form, cell)).map(|c| &c.entry) {
            Some(ir::Entry::Computed { formula }) => {
                let inner = Ctx {
                    period: at.to_string(),
                    record: None,
                    zero: false,
                    tolerance: None,
                    reads: None,
                    ..ctx.clone()
                };
                self.eval(formula, &inner)
            }
            Some(_) => match rows.rows.get(at).cloned().flatten() {
                Some(alias) => Sql::plain(format!(
                    "{alias}.{}",
                    ident(&crate::layout::column_name(cell))
                )),
                None => null(),
            },
            None => null(),
        }
    }
}

/// Computed cells' formulas over aggregated roll-up rows: how roll-ups
/// recompute ratios from aggregated components (docs/aggregation.md).
/// Record aggregates are `NULL` there. One per form and rows, for all of
/// its computed cells (building the generator's cell index once).
pub(crate) struct RollupFormulas<'a> {
    g: Gen<'a>,
}

impl<'a> RollupFormulas<'a> {
    pub(crate) fn new(
        r: &'a ir::Regime,
        layout: &'a RegimeLayout,
        d: Dialect,
        rows: &RollupRows,
    ) -> Self {
        RollupFormulas {
            g: Gen::new(r, layout, d, Some(rows.clone())),
        }
    }

    /// `formula` as SQL over the rows.
    pub(crate) fn sql(&self, formula: &ir::Expr) -> String {
        // Each formula numbers its aliases from zero, as if alone.
        self.g.alias.set(0);
        self.g.next_read.set(0);
        let ctx = Ctx {
            unit: "NULL".into(),
            period: "0".into(),
            record: None,
            zero: false,
            tolerance: None,
            reads: None,
        };
        self.g.eval(formula, &ctx).v
    }
}

/// The (regime, form) pairs an expression reads (regime `None`: its own).
fn sources(e: &ir::Expr, out: &mut Vec<(Option<String>, String)>) {
    e.walk(&mut |n| {
        if let ExprKind::Cell { regime, form, .. } = &n.kind {
            let key = (regime.clone(), form.clone());
            if !out.contains(&key) {
                out.push(key);
            }
        }
    });
}

/// One query per reconciliation rule of `r`: the units of the rule's
/// level and the periods where the two sources disagree beyond the
/// tolerance, with columns rule, severity, unit, level, period, edition,
/// message. Each source is the roll-up view (`rollup_view`) of its regime
/// and form at the regime's own period type; `None` for a rule that reads
/// no cell of its own regime.
pub(crate) fn reconcile_queries(
    r: &ir::Regime,
    layout: &RegimeLayout,
    d: Dialect,
    rollup_view: &dyn Fn(&str, &str) -> String,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in r
        .rules
        .iter()
        .filter(|x| x.origin == ir::RuleOrigin::Reconcile)
    {
        let mut pairs = Vec::new();
        sources(&rule.check, &mut pairs);
        for p in &rule.placeholders {
            sources(p, &mut pairs);
        }
        // The rule's own regime first: its rows are the ones checked.
        pairs.sort_by_key(|(regime, _)| regime.is_some());
        let Some((None, _)) = pairs.first() else {
            continue;
        };
        let mut aliases = HashMap::default();
        let mut from = String::new();
        let freq = literal(r.frequency.name());
        for (i, (regime, form)) in pairs.iter().enumerate() {
            let alias = format!("s{i}");
            let code = regime.as_deref().unwrap_or(&r.code);
            let view = ident(&rollup_view(code, form));
            if i == 0 {
                from = format!("{view} AS {alias}");
            } else {
                from.push_str(&format!(
                    " LEFT JOIN {view} AS {alias} ON {alias}.\"frequency\" = s0.\"frequency\" AND {alias}.\"period\" = s0.\"period\" AND {alias}.\"edition\" = s0.\"edition\" AND {alias}.\"unit\" = s0.\"unit\""
                ));
            }
            aliases.insert((regime.clone(), form.clone()), alias);
        }
        let mut g = Gen::new(r, layout, d, None);
        g.reconcile = Some(aliases);
        let ctx = Ctx {
            unit: "s0.\"unit\"".into(),
            period: "s0.\"period\"".into(),
            record: None,
            zero: matches!(rule.missing, Missing::Zero | Missing::SkipIfAll),
            tolerance: rule.tolerance.clone(),
            reads: None,
        };
        let check = g.eval(&rule.check, &ctx).v;
        let plain = Ctx {
            zero: false,
            ..ctx.clone()
        };
        let mut reads = Vec::new();
        Gen::reads(&rule.check, &mut reads);
        let read_values: Vec<String> = reads.iter().map(|e| g.eval(e, &plain).v).collect();
        let failing = match rule.missing {
            Missing::Never => format!("({check}) IS NOT TRUE"),
            Missing::SkipIfAll if !read_values.is_empty() => format!(
                "({check}) IS FALSE AND ({})",
                read_values
                    .iter()
                    .map(|v| format!("{v} IS NOT NULL"))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
            _ => format!("({check}) IS FALSE"),
        };
        let mut wh = vec![format!("s0.\"frequency\" = {freq}"), failing];
        if let Some(level) = &rule.at_level {
            wh.insert(1, format!("s0.\"level\" = {}", literal(level)));
        }
        let message = g.message(rule, &plain);
        let severity = match rule.severity {
            ir::Severity::Error => "error",
            ir::Severity::Warning => "warning",
            ir::Severity::Info => "info",
        };
        out.push((
            rule.code.clone(),
            format!(
                "SELECT {} AS \"rule\", '{severity}' AS \"severity\", s0.\"unit\" AS \"unit\", s0.\"level\" AS \"level\", s0.\"period\" AS \"period\", s0.\"edition\" AS \"edition\", {message} AS \"message\" FROM {from} WHERE {}",
                literal(&rule.code),
                wh.join(" AND ")
            ),
        ));
    }
    out
}

/// The name of the regime's view of violations.
pub fn view_name(r: &ir::Regime) -> String {
    crate::sql::fit(&format!("{}.violations", r.code))
}

/// `rules.<dialect>.sql` of one regime.
pub fn rules_sql(r: &ir::Regime, layout: &RegimeLayout, d: Dialect) -> Result<String, SqlError> {
    let g = Gen::new(r, layout, d, None);
    let mut queries = g.required();
    let mut skipped = Vec::new();
    for rule in &r.rules {
        match g.rule(rule) {
            Some(q) => queries.push(q),
            None => skipped.push(rule.code.clone()),
        }
    }
    let mut s = Script::new(d);
    s.comment(format!(
        "The rules of {} version {} ({}): every violation in the current revisions. Generated by regc {}; do not edit.",
        r.code,
        r.version,
        d.name(),
        env!("CARGO_PKG_VERSION")
    ));
    s.comment(format!(
        "Apply after schema.{}.sql. Columns: unit, period, form, record, cell, rule, kind, severity, message.",
        d.name()
    ));
    if d == Dialect::Sqlite {
        s.comment("Numbers are exact through the regc_* functions, which regc registers on its connections (docs/rules.md).");
    }
    if !skipped.is_empty() {
        s.comment(format!(
            "Reconciliations ({}) compare roll-ups of two regimes: see reconcile.{}.sql.",
            skipped.join(", "),
            d.name()
        ));
    }
    let view = ident(&view_name(r));
    let body = if queries.is_empty() {
        "SELECT CAST(NULL AS TEXT) AS \"unit\", CAST(NULL AS TEXT) AS \"period\", CAST(NULL AS TEXT) AS \"form\", CAST(NULL AS INTEGER) AS \"record\", CAST(NULL AS TEXT) AS \"cell\", CAST(NULL AS TEXT) AS \"rule\", CAST(NULL AS TEXT) AS \"kind\", CAST(NULL AS TEXT) AS \"severity\", CAST(NULL AS TEXT) AS \"message\" WHERE FALSE".to_string()
    } else {
        queries.join(" UNION ALL ")
    };
    s.stmt(&format!("DROP VIEW IF EXISTS {view}"))?;
    s.stmt(&format!("CREATE VIEW {view} AS {body}"))?;
    Ok(s.finish())
}
