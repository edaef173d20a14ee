//! `generated/<regime>/aggregate.{postgres,sqlite}.sql`: roll-ups of the
//! current revisions of stored submissions over the org hierarchy and over
//! time, completeness and timeliness. The semantics are written down in
//! `docs/aggregation.md`; in short, for each grid form:
//!
//! * `"<regime>.<form>.by_reporter"`: each reporting unit's values over
//!   every roll-up period (its own periods and the coarser ones of
//!   `regc_rollup_period`), aggregated over time with each cell's time
//!   aggregation, per edition of the hierarchy (the edition in force on
//!   each reporting period's cut-off day);
//! * `"<regime>.<form>.rollup"`: those values aggregated over the
//!   reporting units below every unit of that edition (itself included)
//!   with each cell's units aggregation, straight from the reporters
//!   (through the closure table, so averages are true averages over
//!   reporters, never averages of averages); computed cells recomputed from
//!   the aggregated cells of the same row;
//!
//! and for the regime, `"<regime>.completeness"`: expected, received and
//! on-time reports per unit, flow level and period.
//!
//! Numbers stay exact: PostgreSQL `NUMERIC` (averages through `regc_div`);
//! SQLite sums the scaled integers it stores and hands out decimal text
//! through the `regc_*` functions regc registers (docs/rules.md).

use crate::emit::rules_sql::rollup_formula;
use crate::ir::{self, TimeAgg, UnitsAgg};
use crate::layout::{RegimeLayout, Storage, column_name};
use crate::sql::{Dialect, Script, SqlError, fit, ident, literal};

/// The view of each reporter's values over roll-up periods.
pub fn by_reporter_view(r: &ir::Regime, form: &str) -> String {
    fit(&format!("{}.{form}.by_reporter", r.code))
}

/// The view of every unit's aggregated values, as reported.
pub fn rollup_view(r: &ir::Regime, form: &str) -> String {
    fit(&format!("{}.{form}.rollup", r.code))
}

/// The view of expected, received and on-time reports.
pub fn completeness_view(r: &ir::Regime) -> String {
    fit(&format!("{}.completeness", r.code))
}

/// How an aggregated value is held on its way through the views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repr {
    /// PostgreSQL `NUMERIC`, or any non-number.
    Plain,
    /// SQLite: an integer, the value × 10^scale (how SQLite stores decimals).
    Scaled(u32),
    /// SQLite: exact decimal text, read by the `regc_*` functions.
    Text,
}

/// One entered cell of a form, with where it is read from.
struct Entered {
    /// `t1."schools.public"`
    source: String,
    name: String,
    numeric: bool,
    units: UnitsAgg,
    time: TimeAgg,
    stored: Repr,
}

struct Gen<'a> {
    r: &'a ir::Regime,
    layout: &'a RegimeLayout,
    d: Dialect,
}

impl Gen<'_> {
    fn pg(&self) -> bool {
        self.d == Dialect::Postgres
    }

    fn regime(&self) -> String {
        literal(&self.r.code)
    }

    /// The first value of `v` in `order` among the rows where `cond`
    /// holds; `None` order: any (the rows hold one value).
    fn pick(&self, v: &str, order: Option<(&str, bool)>, cond: &str) -> String {
        if self.pg() {
            let order = order
                .map(|(key, desc)| format!(" ORDER BY {key}{}", if desc { " DESC" } else { "" }))
                .unwrap_or_default();
            format!("(array_agg({v}{order}) FILTER (WHERE {cond}))[1]")
        } else {
            match order {
                // The key is an ISO date (10 characters): the greatest or
                // least `key|value` holds the value of the latest or
                // earliest row.
                Some((key, desc)) => format!(
                    "substr({}(CASE WHEN {cond} THEN {key} || '|' || {v} END), 12)",
                    if desc { "MAX" } else { "MIN" }
                ),
                None => format!("MAX(CASE WHEN {cond} THEN {v} END)"),
            }
        }
    }

    /// `SUM` of values held as `repr`.
    fn sum(&self, v: &str, repr: Repr) -> String {
        match repr {
            Repr::Text => format!("regc_total({v})"),
            _ => format!("SUM({v})"),
        }
    }

    fn least(&self, v: &str, repr: Repr, min: bool) -> String {
        match (repr, min) {
            (Repr::Text, true) => format!("regc_least({v})"),
            (Repr::Text, false) => format!("regc_greatest({v})"),
            (_, true) => format!("MIN({v})"),
            (_, false) => format!("MAX({v})"),
        }
    }

    /// The exact mean of the values (held as `repr`): their sum over their
    /// count, rounded as every regc division is; `NULL` without values.
    fn average(&self, v: &str, repr: Repr) -> (String, Repr) {
        match repr {
            Repr::Plain => (
                format!("regc_div(CAST(SUM({v}) AS NUMERIC), CAST(COUNT({v}) AS NUMERIC))"),
                Repr::Plain,
            ),
            Repr::Scaled(s) => (
                format!("regc_div(regc_dec(SUM({v}), {s}), COUNT({v}))"),
                Repr::Text,
            ),
            Repr::Text => (format!("regc_div(regc_total({v}), COUNT({v}))"), Repr::Text),
        }
    }

    /// A picked value comes back as text on SQLite; integers are cast back.
    fn picked(&self, expr: String, repr: Repr) -> String {
        match repr {
            Repr::Scaled(_) if !self.pg() => format!("CAST({expr} AS INTEGER)"),
            _ => expr,
        }
    }

    /// A value as the roll-up views hand it out: `NUMERIC` on PostgreSQL,
    /// decimal text on SQLite.
    fn out(&self, expr: String, repr: Repr, numeric: bool) -> String {
        match repr {
            Repr::Plain if self.pg() && numeric => format!("CAST({expr} AS NUMERIC)"),
            Repr::Scaled(s) => format!("regc_dec({expr}, {s})"),
            _ => expr,
        }
    }

    fn entered(&self, form: &ir::Form) -> (String, Vec<Entered>) {
        // The first part's view of current revisions, the other parts'
        // tables joined by submission.
        let mut from = String::new();
        let mut cols = Vec::new();
        for (i, t) in self.layout.form_tables(&form.code).enumerate() {
            let alias = format!("t{}", i + 1);
            if i == 0 {
                from = format!("{} AS {alias}", ident(&t.view));
            } else {
                from.push_str(&format!(
                    " LEFT JOIN {} AS {alias} ON {alias}.\"submission_id\" = t1.\"submission_id\"",
                    ident(&t.name)
                ));
            }
            for c in &t.columns {
                let Some(cell) = form.cells.iter().find(|x| x.id == c.cell) else {
                    continue;
                };
                let numeric = matches!(c.storage, Storage::Integer | Storage::Decimal { .. });
                let agg = cell.aggregation.filter(|_| numeric);
                let stored = match (self.d, &c.storage) {
                    (Dialect::Sqlite, s @ (Storage::Integer | Storage::Decimal { .. })) => {
                        if s.sqlite_text_decimal() {
                            Repr::Text
                        } else {
                            Repr::Scaled(s.stored_scale(self.d))
                        }
                    }
                    _ => Repr::Plain,
                };
                cols.push(Entered {
                    source: format!("{alias}.{}", ident(&c.name)),
                    name: c.name.clone(),
                    numeric,
                    units: agg.map_or(UnitsAgg::None, |a| a.units),
                    time: agg.map_or(TimeAgg::None, |a| a.time),
                    stored,
                });
            }
        }
        (from, cols)
    }

    /// Each reporter's values over roll-up periods.
    fn by_reporter(&self, form: &ir::Form) -> String {
        let (from, cols) = self.entered(form);
        let base = literal(self.r.frequency.name());
        let mut select = vec![
            "m.\"frequency\" AS \"frequency\"".to_string(),
            "m.\"rollup\" AS \"period\"".to_string(),
            "m.\"edition\" AS \"edition\"".to_string(),
            "t1.\"unit\" AS \"unit\"".to_string(),
            "COUNT(*) AS \"reports\"".to_string(),
        ];
        for c in &cols {
            let v = &c.source;
            let expr = match c.time {
                TimeAgg::Sum => self.sum(v, c.stored),
                TimeAgg::Min => self.least(v, c.stored, true),
                TimeAgg::Max => self.least(v, c.stored, false),
                TimeAgg::Average => self.average(v, c.stored).0,
                TimeAgg::Last | TimeAgg::First => self.picked(
                    self.pick(
                        v,
                        Some(("m.\"end_date\"", c.time == TimeAgg::Last)),
                        &format!("{v} IS NOT NULL"),
                    ),
                    c.stored,
                ),
                TimeAgg::None => self.pick(v, None, &format!("m.\"frequency\" = {base}")),
            };
            select.push(format!("{expr} AS {}", ident(&c.name)));
        }
        format!(
            "SELECT {} FROM {from} JOIN \"regc_period_rollup\" AS m ON m.\"regime\" = {} AND m.\"period\" = t1.\"period\" GROUP BY m.\"frequency\", m.\"rollup\", m.\"edition\", t1.\"unit\"",
            select.join(", "),
            self.regime()
        )
    }

    /// How a cell's value is held in `by_reporter`.
    fn after_time(&self, c: &Entered) -> Repr {
        match (c.time, c.stored) {
            (TimeAgg::Average, Repr::Scaled(_)) => Repr::Text,
            (_, r) => r,
        }
    }

    /// The aggregation over units of `by_reporter` rows `b` joined to their
    /// ancestors `c` (closure) — one SELECT list — and the outer list with
    /// computed cells recomputed over it.
    fn units_columns(&self, form: &ir::Form) -> (Vec<String>, Vec<String>) {
        let (_, cols) = self.entered(form);
        let mut inner = Vec::new();
        for c in &cols {
            let v = format!("b.{}", ident(&c.name));
            let held = self.after_time(c);
            let (expr, repr) = match c.units {
                UnitsAgg::Sum => (self.sum(&v, held), held),
                UnitsAgg::Min => (self.least(&v, held, true), held),
                UnitsAgg::Max => (self.least(&v, held, false), held),
                UnitsAgg::Average => self.average(&v, held),
                UnitsAgg::Count => (format!("COUNT({v})"), Repr::Plain),
                UnitsAgg::None => (self.pick(&v, None, "c.\"depth\" = 0"), held),
            };
            let numeric = c.numeric && c.units != UnitsAgg::Count;
            inner.push(format!(
                "{} AS {}",
                self.out(expr, repr, numeric),
                ident(&c.name)
            ));
        }
        let mut outer = Vec::new();
        for cell in &form.cells {
            let name = column_name(&cell.id);
            match &cell.entry {
                ir::Entry::Computed { formula } => {
                    let v = rollup_formula(self.r, self.layout, self.d, &form.code, formula, "a");
                    outer.push(format!("{v} AS {}", ident(&name)));
                }
                _ => outer.push(format!("a.{}", ident(&name))),
            }
        }
        (inner, outer)
    }

    fn rollup(&self, form: &ir::Form) -> String {
        let (inner, outer) = self.units_columns(form);
        format!(
            "SELECT a.\"frequency\", a.\"period\", a.\"edition\", a.\"unit\", a.\"level\", a.\"reporters\"{}{} FROM (SELECT b.\"frequency\" AS \"frequency\", b.\"period\" AS \"period\", b.\"edition\" AS \"edition\", c.\"ancestor\" AS \"unit\", u.\"level\" AS \"level\", COUNT(*) AS \"reporters\"{}{} FROM {} AS b JOIN \"regc_org_closure\" AS c ON c.\"edition\" = b.\"edition\" AND c.\"descendant\" = b.\"unit\" JOIN \"regc_org_unit\" AS u ON u.\"code\" = c.\"ancestor\" GROUP BY b.\"frequency\", b.\"period\", b.\"edition\", c.\"ancestor\", u.\"level\") AS a",
            if outer.is_empty() { "" } else { ", " },
            outer.join(", "),
            if inner.is_empty() { "" } else { ", " },
            inner.join(", "),
            ident(&by_reporter_view(self.r, &form.code)),
        )
    }

    /// The received date of a submission: the day in Vietnam (UTC+7) of
    /// its `submitted_at`.
    fn received_day(&self, ts: &str) -> String {
        if self.pg() {
            format!("CAST(({ts} AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)")
        } else {
            format!("date({ts}, '+7 hours')")
        }
    }

    /// `100 × n / total`, exactly, rounded half away from zero to 2 digits.
    fn percent(&self, n: &str, total: &str) -> String {
        if self.pg() {
            format!("round(CAST(100 * {n} AS NUMERIC) / {total}, 2)")
        } else {
            format!("regc_round(regc_div(100 * {n}, {total}), 2)")
        }
    }

    fn completeness(&self) -> String {
        let grid: Vec<&ir::Form> = self
            .r
            .forms
            .iter()
            .filter(|f| f.kind == ir::FormKind::Grid)
            .collect();
        // A report is received when every grid form (every form, if the
        // regime has none) has a submission that is not a draft; it was
        // received on the day its last form first arrived.
        let forms: Vec<String> = if grid.is_empty() {
            self.r.forms.iter().map(|f| literal(&f.code)).collect()
        } else {
            grid.iter().map(|f| literal(&f.code)).collect()
        };
        let received = format!(
            "SELECT x.\"unit\" AS \"unit\", x.\"period\" AS \"period\", MAX(x.\"received_on\") AS \"received_on\" FROM (SELECT s.\"unit\" AS \"unit\", s.\"period\" AS \"period\", s.\"form\" AS \"form\", MIN({}) AS \"received_on\" FROM \"regc_submission\" AS s WHERE s.\"regime\" = {} AND s.\"status\" <> 'draft' AND s.\"form\" IN ({}) GROUP BY s.\"unit\", s.\"period\", s.\"form\") AS x GROUP BY x.\"unit\", x.\"period\" HAVING COUNT(*) = {}",
            self.received_day("s.\"submitted_at\""),
            self.regime(),
            forms.join(", "),
            forms.len()
        );
        let (expected, got, on_time) = (
            "COUNT(*)",
            "COUNT(rc.\"unit\")",
            "SUM(CASE WHEN rc.\"received_on\" <= dl.\"due_date\" THEN 1 ELSE 0 END)",
        );
        format!(
            "SELECT m.\"period\" AS \"period\", m.\"edition\" AS \"edition\", c.\"ancestor\" AS \"unit\", au.\"level\" AS \"unit_level\", dl.\"level\" AS \"level\", dl.\"due_date\" AS \"due_date\", {expected} AS \"expected\", {got} AS \"received\", {on_time} AS \"on_time\", {} AS \"received_pct\", {} AS \"on_time_pct\" FROM \"regc_period_rollup\" AS m JOIN \"regc_period_deadline\" AS dl ON dl.\"regime\" = m.\"regime\" AND dl.\"period\" = m.\"period\" JOIN \"regc_org_closure\" AS c ON c.\"edition\" = m.\"edition\" JOIN \"regc_org_unit\" AS du ON du.\"code\" = c.\"descendant\" AND du.\"level\" = dl.\"level\" JOIN \"regc_org_unit\" AS au ON au.\"code\" = c.\"ancestor\" LEFT JOIN ({received}) AS rc ON rc.\"unit\" = c.\"descendant\" AND rc.\"period\" = m.\"period\" WHERE m.\"regime\" = {} AND m.\"frequency\" = {} GROUP BY m.\"period\", m.\"edition\", c.\"ancestor\", au.\"level\", dl.\"level\", dl.\"due_date\"",
            self.percent(got, expected),
            self.percent(on_time, expected),
            self.regime(),
            literal(self.r.frequency.name()),
        )
    }
}

/// `aggregate.<dialect>.sql` of one regime.
pub fn aggregate_sql(
    r: &ir::Regime,
    layout: &RegimeLayout,
    d: Dialect,
) -> Result<String, SqlError> {
    let g = Gen { r, layout, d };
    let mut s = Script::new(d);
    s.comment(format!(
        "Roll-ups of {} version {} ({}). Generated by regc {}; do not edit.",
        r.code,
        r.version,
        d.name(),
        env!("CARGO_PKG_VERSION")
    ));
    s.comment(format!(
        "Apply after schema.{}.sql; applying it again changes nothing. Semantics: docs/aggregation.md.",
        d.name()
    ));
    if d == Dialect::Sqlite {
        s.comment("Values are exact decimal text through the regc_* functions, which regc registers on its connections.");
    }
    let grids: Vec<&ir::Form> = r
        .forms
        .iter()
        .filter(|f| f.kind == ir::FormKind::Grid)
        .collect();
    // Views are replaced whole: dependent views are dropped first.
    s.comment("Drop the views of an earlier version, dependent views first.");
    s.stmt(&format!(
        "DROP VIEW IF EXISTS {}",
        ident(&completeness_view(r))
    ))?;
    for form in &grids {
        s.stmt(&format!(
            "DROP VIEW IF EXISTS {}",
            ident(&rollup_view(r, &form.code))
        ))?;
        s.stmt(&format!(
            "DROP VIEW IF EXISTS {}",
            ident(&by_reporter_view(r, &form.code))
        ))?;
    }
    for form in &grids {
        s.comment(format!(
            "Form {}: each reporter's values over every roll-up period, then every unit's.",
            form.code
        ));
        let view = |name: String, body: String| format!("CREATE VIEW {} AS {body}", ident(&name));
        s.stmt(&view(by_reporter_view(r, &form.code), g.by_reporter(form)))?;
        s.stmt(&view(rollup_view(r, &form.code), g.rollup(form)))?;
    }
    s.comment("Expected, received and on-time reports per unit, flow level and period.");
    s.stmt(&format!(
        "CREATE VIEW {} AS {}",
        ident(&completeness_view(r)),
        g.completeness()
    ))?;
    Ok(s.finish())
}
