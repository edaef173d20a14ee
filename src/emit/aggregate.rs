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
//!   the aggregated cells of the same row. With one reporting level this is
//!   done in two stages: a reporter's row is its own unit's as it is, and
//!   the rows are first grouped by their parent into a few partial rows
//!   (sums, counts, extremes; averages as sum and count) which then fan out
//!   over the parent's ancestors;
//!
//! and for the regime, `"<regime>.completeness"`: expected, received and
//! on-time reports per unit, flow level and period.
//!
//! Numbers stay exact: PostgreSQL `NUMERIC` (averages through `regc_div`);
//! SQLite sums the scaled integers it stores and hands out decimal text
//! through the `regc_*` functions regc registers (docs/rules.md).

use crate::emit::rules_sql::{RollupFormulas, RollupRows, ytd_column};
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

/// The view of every unit's aggregated values over the newest edition of
/// the hierarchy (the comparable series across a reform).
pub fn comparable_view(r: &ir::Regime, form: &str) -> String {
    fit(&format!("{}.{form}.comparable", r.code))
}

/// The view of every unit's years to date of the cells computed cells
/// sum (or otherwise aggregate) over the year.
pub fn ytd_view(r: &ir::Regime, form: &str) -> String {
    fit(&format!("{}.{form}.ytd", r.code))
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
            match order {
                // The key is a date: the greatest or least (days, value)
                // holds the value of the latest or earliest row. A plain
                // aggregate, unlike `array_agg(… ORDER BY …)`, which sorts
                // every group and keeps the planner from hashing groups.
                // Only numbers are picked in order (time last / first).
                Some((key, desc)) => format!(
                    "({}(ARRAY[CAST({key} - DATE '1970-01-01' AS NUMERIC), CAST({v} AS NUMERIC)]) FILTER (WHERE {cond}))[2]",
                    if desc { "MAX" } else { "MIN" }
                ),
                None => format!("(array_agg({v}) FILTER (WHERE {cond}))[1]"),
            }
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
                // Reporters' reports only: a report forwarded by a level
                // above (a province's) would count twice beside them.
                let reporters: Vec<String> = self.r.reporters.iter().map(|l| literal(l)).collect();
                from = format!(
                    "{} AS {alias} JOIN \"regc_org_unit\" AS ru ON ru.\"code\" = {alias}.\"unit\" AND ru.\"level\" IN ({})",
                    ident(&t.view),
                    reporters.join(", ")
                );
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

    /// The year-to-date aggregates the form's computed cells read
    /// (`sum(x over year_to_date)` of an entered cell `x` of the form), as
    /// columns: time-aggregated with the year-to-date function, then over
    /// units like `x`.
    fn ytd_columns(&self, form: &ir::Form, cols: &[Entered]) -> Vec<Entered> {
        let mut found: Vec<(TimeAgg, &str, &str)> = Vec::new();
        for cell in &form.cells {
            if let ir::Entry::Computed { formula } = &cell.entry {
                formula.walk(&mut |e| {
                    if let ir::ExprKind::YearToDate { func, arg } = &e.kind
                        && let ir::ExprKind::Cell {
                            regime: None,
                            form,
                            cell,
                            period: ir::PeriodRef::Current,
                        } = &arg.kind
                    {
                        found.push((*func, form, cell));
                    }
                });
            }
        }
        let mut out: Vec<Entered> = Vec::new();
        for (func, f, cell) in found {
            let name = ytd_column(func, cell);
            if f != form.code || out.iter().any(|e| e.name == name) {
                continue;
            }
            let Some(base) = self
                .layout
                .column(f, cell)
                .and_then(|(_, c)| cols.iter().find(|e| e.name == c.name))
            else {
                continue;
            };
            out.push(Entered {
                source: base.source.clone(),
                name,
                numeric: base.numeric,
                units: base.units,
                time: func,
                stored: base.stored,
            });
        }
        out
    }

    /// Each reporter's values over roll-up periods: the periods of
    /// `membership` (`regc_period_rollup`, or `regc_period_ytd` for years to
    /// date) aggregated over time.
    fn by_reporter(&self, from: &str, cols: &[Entered], membership: &str) -> String {
        self.by_reporter_in(from, cols, membership, None)
    }

    /// [`Self::by_reporter`], per edition or (`edition`: the SQL of one)
    /// across editions.
    fn by_reporter_in(
        &self,
        from: &str,
        cols: &[Entered],
        membership: &str,
        edition: Option<&str>,
    ) -> String {
        let base = literal(self.r.frequency.name());
        let mut select = vec![
            "m.\"frequency\" AS \"frequency\"".to_string(),
            "m.\"rollup\" AS \"period\"".to_string(),
            format!("{} AS \"edition\"", edition.unwrap_or("m.\"edition\"")),
            "t1.\"unit\" AS \"unit\"".to_string(),
            "COUNT(*) AS \"reports\"".to_string(),
        ];
        for c in cols {
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
        let grouped = |cond: &str| {
            format!(
                "SELECT {} FROM {from} JOIN {} AS m ON m.\"regime\" = {} AND m.\"period\" = t1.\"period\"{cond} GROUP BY m.\"frequency\", m.\"rollup\", {}t1.\"unit\"",
                select.join(", "),
                ident(membership),
                self.regime(),
                if edition.is_some() {
                    ""
                } else {
                    "m.\"edition\", "
                }
            )
        };
        if membership != "regc_period_rollup" || edition.is_some() {
            return grouped("");
        }
        // The regime's own periods hold one report each: its row as it is,
        // without grouping (a fifth or more of the rows the grouping would
        // sort); the coarser periods grouped.
        let mut alone = vec![
            "m.\"frequency\" AS \"frequency\"".to_string(),
            "m.\"rollup\" AS \"period\"".to_string(),
            "m.\"edition\" AS \"edition\"".to_string(),
            "t1.\"unit\" AS \"unit\"".to_string(),
            "1 AS \"reports\"".to_string(),
        ];
        for c in cols {
            let v = &c.source;
            let expr = match (c.time, c.stored) {
                (TimeAgg::Sum | TimeAgg::Min | TimeAgg::Max, Repr::Text) => {
                    format!("regc_add({v}, 0)")
                }
                (TimeAgg::Average, Repr::Plain) => {
                    format!("regc_div(CAST({v} AS NUMERIC), CAST(1 AS NUMERIC))")
                }
                (TimeAgg::Average, Repr::Scaled(s)) => format!("regc_div(regc_dec({v}, {s}), 1)"),
                (TimeAgg::Average, Repr::Text) => format!("regc_div({v}, 1)"),
                (TimeAgg::Last | TimeAgg::First, _) if self.pg() => {
                    format!("CAST({v} AS NUMERIC)")
                }
                _ => v.clone(),
            };
            alone.push(format!("{expr} AS {}", ident(&c.name)));
        }
        format!(
            "SELECT {} FROM {from} JOIN \"regc_period_rollup\" AS m ON m.\"regime\" = {} AND m.\"period\" = t1.\"period\" AND m.\"frequency\" = {base} UNION ALL {}",
            alone.join(", "),
            self.regime(),
            grouped(&format!(" AND m.\"frequency\" <> {base}"))
        )
    }

    /// How a cell's value is held in `by_reporter`.
    fn after_time(&self, c: &Entered) -> Repr {
        match (c.time, c.stored) {
            (TimeAgg::Average, Repr::Scaled(_)) => Repr::Text,
            (_, r) => r,
        }
    }

    /// The aggregation over units of by-reporter rows `b` joined to their
    /// ancestors `c` (closure): one SELECT list.
    fn units_columns(&self, cols: &[Entered]) -> Vec<String> {
        let mut inner = Vec::new();
        for c in cols {
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
        inner
    }

    /// By-reporter rows `source` aggregated over the units above them: the
    /// CTEs it needs (`name AS (…)`) and the query.
    ///
    /// With one reporting level (no reporter is above another), in two
    /// stages: every reporter's row is its own unit's (no grouping), and
    /// the rows are grouped once by their parent (a few partial rows: sums,
    /// counts, extremes; averages as sum and count) before they fan out over
    /// the parent's ancestors. Otherwise every row is joined with every
    /// ancestor and grouped there.
    fn over_units(&self, source: &str, cols: &[Entered], level: bool) -> (Vec<String>, String) {
        if self.r.reporters.len() != 1 {
            return (Vec::new(), self.over_tree(source, cols, level, None));
        }
        let ctes = vec![format!("b AS (SELECT * FROM {source} AS r0)")];
        let mut own = Vec::new();
        let mut partial = Vec::new();
        let mut up = Vec::new();
        for (i, c) in cols.iter().enumerate() {
            let v = format!("b.{}", ident(&c.name));
            let held = self.after_time(c);
            let (p, q) = (format!("p{i}"), format!("q{i}"));
            let pv = format!("p.{p}");
            // The one value of a group of one row, as the aggregate gives it.
            let alone = match held {
                Repr::Text => format!("regc_add({v}, 0)"),
                _ => v.clone(),
            };
            let (one, many, repr) = match c.units {
                UnitsAgg::Sum => {
                    partial.push(format!("{} AS {p}", self.sum(&v, held)));
                    (alone, self.sum(&pv, held), held)
                }
                UnitsAgg::Min | UnitsAgg::Max => {
                    let min = c.units == UnitsAgg::Min;
                    partial.push(format!("{} AS {p}", self.least(&v, held, min)));
                    (alone, self.least(&pv, held, min), held)
                }
                UnitsAgg::Average => {
                    partial.push(format!("{} AS {p}", self.sum(&v, held)));
                    partial.push(format!("COUNT({v}) AS {q}"));
                    let n = format!("SUM(p.{q})");
                    match held {
                        Repr::Plain => (
                            format!("regc_div(CAST({v} AS NUMERIC), CAST(1 AS NUMERIC))"),
                            format!("regc_div(CAST(SUM({pv}) AS NUMERIC), CAST({n} AS NUMERIC))"),
                            Repr::Plain,
                        ),
                        Repr::Scaled(s) => (
                            format!("regc_div(regc_dec({v}, {s}), 1)"),
                            format!("regc_div(regc_dec(SUM({pv}), {s}), {n})"),
                            Repr::Text,
                        ),
                        Repr::Text => (
                            format!("regc_div({v}, 1)"),
                            format!("regc_div(regc_total({pv}), {n})"),
                            Repr::Text,
                        ),
                    }
                }
                UnitsAgg::Count => {
                    partial.push(format!("COUNT({v}) AS {p}"));
                    (
                        format!("CAST(CASE WHEN {v} IS NULL THEN 0 ELSE 1 END AS BIGINT)"),
                        format!("CAST(SUM({pv}) AS BIGINT)"),
                        Repr::Plain,
                    )
                }
                // The unit's own value: no unit above a reporter has one.
                UnitsAgg::None => (v.clone(), "NULL".to_string(), held),
            };
            let numeric = c.numeric && c.units != UnitsAgg::Count;
            let name = ident(&c.name);
            own.push(format!("{} AS {name}", self.out(one, repr, numeric)));
            up.push(format!("{} AS {name}", self.out(many, repr, numeric)));
        }
        let list = |v: &[String]| v.iter().map(|x| format!(", {x}")).collect::<String>();
        let (own_level, own_join, up_level, up_join, up_group) = if level {
            (
                ", u.\"level\" AS \"level\", CAST(1 AS BIGINT) AS \"reporters\"",
                " JOIN \"regc_org_unit\" AS u ON u.\"code\" = b.\"unit\"",
                ", u.\"level\" AS \"level\", CAST(SUM(p.\"n\") AS BIGINT) AS \"reporters\"",
                " JOIN \"regc_org_unit\" AS u ON u.\"code\" = c.\"ancestor\"",
                ", u.\"level\"",
            )
        } else {
            ("", "", "", "", "")
        };
        let keys = "b.\"frequency\" AS \"frequency\", b.\"period\" AS \"period\", b.\"edition\" AS \"edition\"";
        let own_rows = format!(
            "SELECT {keys}, b.\"unit\" AS \"unit\"{own_level}{} FROM b JOIN \"regc_org_closure\" AS c ON c.\"edition\" = b.\"edition\" AND c.\"descendant\" = b.\"unit\" AND c.\"ancestor\" = b.\"unit\"{own_join}",
            list(&own)
        );
        let parents = format!(
            "SELECT {keys}, c.\"ancestor\" AS \"parent\", COUNT(*) AS \"n\"{} FROM b JOIN \"regc_org_closure\" AS c ON c.\"edition\" = b.\"edition\" AND c.\"descendant\" = b.\"unit\" AND c.\"depth\" = 1 GROUP BY b.\"frequency\", b.\"period\", b.\"edition\", c.\"ancestor\"",
            list(&partial)
        );
        let up_rows = format!(
            "SELECT p.\"frequency\" AS \"frequency\", p.\"period\" AS \"period\", p.\"edition\" AS \"edition\", c.\"ancestor\" AS \"unit\"{up_level}{} FROM ({parents}) AS p JOIN \"regc_org_closure\" AS c ON c.\"edition\" = p.\"edition\" AND c.\"descendant\" = p.\"parent\"{up_join} GROUP BY p.\"frequency\", p.\"period\", p.\"edition\", c.\"ancestor\"{up_group}",
            list(&up)
        );
        (ctes, format!("{own_rows} UNION ALL {up_rows}"))
    }

    /// By-reporter rows `source` joined with every ancestor of each row's
    /// unit, through the closure of each row's edition or through `tree`
    /// (the SQL of rows unit, ancestor, depth), and aggregated there.
    fn over_tree(&self, source: &str, cols: &[Entered], level: bool, tree: Option<&str>) -> String {
        let inner = self.units_columns(cols);
        let tree = match tree {
            None => "\"regc_org_closure\" AS c ON c.\"edition\" = b.\"edition\" AND c.\"descendant\" = b.\"unit\"".to_string(),
            Some(t) => format!("({t}) AS c ON c.\"unit\" = b.\"unit\""),
        };
        let (level_col, level_join, level_group) = if level {
            (
                ", u.\"level\" AS \"level\", COUNT(*) AS \"reporters\"",
                " JOIN \"regc_org_unit\" AS u ON u.\"code\" = c.\"ancestor\"",
                ", u.\"level\"",
            )
        } else {
            ("", "", "")
        };
        format!(
            "SELECT b.\"frequency\" AS \"frequency\", b.\"period\" AS \"period\", b.\"edition\" AS \"edition\", c.\"ancestor\" AS \"unit\"{level_col}{}{} FROM {source} AS b JOIN {tree}{level_join} GROUP BY b.\"frequency\", b.\"period\", b.\"edition\", c.\"ancestor\"{level_group}",
            if inner.is_empty() { "" } else { ", " },
            inner.join(", "),
        )
    }

    /// Which other periods the form's computed cells read: (previous,
    /// same period last year).
    fn shifts(form: &ir::Form) -> (bool, bool) {
        let mut out = (false, false);
        for cell in &form.cells {
            if let ir::Entry::Computed { formula } = &cell.entry {
                formula.walk(&mut |e| match &e.kind {
                    ir::ExprKind::Cell {
                        period: ir::PeriodRef::Previous,
                        ..
                    } => out.0 = true,
                    ir::ExprKind::Cell {
                        period: ir::PeriodRef::SamePeriodLastYear,
                        ..
                    } => out.1 = true,
                    _ => {}
                });
            }
        }
        out
    }

    /// The roll-up view: entered cells aggregated over units (`a`), the
    /// rows of the previous period and of last year joined where a formula
    /// reads them, the year-to-date rows likewise, and every computed cell
    /// evaluated over them.
    fn rollup(&self, form: &ir::Form, ytd: bool) -> String {
        let (_, cols) = self.entered(form);
        let (mut ctes, inner) =
            self.over_units(&ident(&by_reporter_view(self.r, &form.code)), &cols, true);
        let (previous, last_year) = Self::shifts(form);
        let regime = self.regime();
        ctes.push(format!("a AS ({inner})"));
        if ytd {
            ctes.push(format!(
                "y AS (SELECT * FROM {})",
                ident(&ytd_view(self.r, &form.code))
            ));
        }
        let mut joins = Vec::new();
        let mut rows = RollupRows {
            form: form.code.clone(),
            rows: [Some("a".to_string()), None, None],
            ytd: [None, None, None],
        };
        if ytd {
            joins.push("LEFT JOIN y AS y0 ON y0.\"frequency\" = a.\"frequency\" AND y0.\"period\" = a.\"period\" AND y0.\"edition\" = a.\"edition\" AND y0.\"unit\" = a.\"unit\"".to_string());
            rows.ytd[0] = Some("y0".into());
        }
        if previous || last_year {
            joins.push(format!("LEFT JOIN \"regc_rollup_period\" AS rp ON rp.\"regime\" = {regime} AND rp.\"frequency\" = a.\"frequency\" AND rp.\"code\" = a.\"period\""));
        }
        for (on, column, k) in [(previous, "previous", 1usize), (last_year, "last_year", 2)] {
            if !on {
                continue;
            }
            let (rp, row, y) = (format!("rp{k}"), format!("a{k}"), format!("y{k}"));
            joins.push(format!("LEFT JOIN \"regc_rollup_period\" AS {rp} ON {rp}.\"regime\" = {regime} AND {rp}.\"frequency\" = a.\"frequency\" AND {rp}.\"code\" = rp.\"{column}\""));
            joins.push(format!("LEFT JOIN a AS {row} ON {row}.\"frequency\" = a.\"frequency\" AND {row}.\"period\" = {rp}.\"code\" AND {row}.\"edition\" = {rp}.\"edition\" AND {row}.\"unit\" = a.\"unit\""));
            if let Some(slot) = rows.rows.get_mut(k) {
                *slot = Some(row);
            }
            if ytd {
                joins.push(format!("LEFT JOIN y AS {y} ON {y}.\"frequency\" = a.\"frequency\" AND {y}.\"period\" = {rp}.\"code\" AND {y}.\"edition\" = {rp}.\"edition\" AND {y}.\"unit\" = a.\"unit\""));
                if let Some(slot) = rows.ytd.get_mut(k) {
                    *slot = Some(y);
                }
            }
        }
        let outer = self.row_columns(form, &rows);
        format!(
            "WITH {} SELECT {} FROM a{}{}",
            ctes.join(", "),
            outer.join(", "),
            if joins.is_empty() { "" } else { " " },
            joins.join(" ")
        )
    }

    /// The columns of a roll-up row over the aggregated row `a`: its keys,
    /// its entered cells, and every computed cell recomputed over `rows`.
    fn row_columns(&self, form: &ir::Form, rows: &RollupRows) -> Vec<String> {
        let mut out: Vec<String> = [
            "frequency",
            "period",
            "edition",
            "unit",
            "level",
            "reporters",
        ]
        .iter()
        .map(|k| format!("a.{}", ident(k)))
        .collect();
        let formulas = RollupFormulas::new(self.r, self.layout, self.d, rows);
        for cell in &form.cells {
            let name = ident(&column_name(&cell.id));
            match &cell.entry {
                ir::Entry::Computed { formula } => {
                    let v = formulas.sql(formula);
                    out.push(format!("{v} AS {name}"));
                }
                _ => out.push(format!("a.{name}")),
            }
        }
        out
    }

    /// The comparable series: every period's reports placed in the newest
    /// edition of the hierarchy (docs/aggregation.md). A reporter of an
    /// older edition that went whole into one unit of the newest is that
    /// unit (its values and its successor's combined per period with the
    /// cell's units aggregation); one split between several stays itself,
    /// counted under the units that hold all of its successors.
    fn comparable(&self, form: &ir::Form) -> String {
        let (from, cols) = self.entered(form);
        let newest = "SELECT COALESCE((SELECT e.\"code\" FROM \"regc_org_edition\" AS e WHERE e.\"valid_from\" IS NOT NULL ORDER BY e.\"valid_from\" DESC LIMIT 1), (SELECT e.\"code\" FROM \"regc_org_edition\" AS e ORDER BY e.\"code\" LIMIT 1)) AS \"code\"";
        let in_newest = |unit: &str| {
            format!(
                "EXISTS (SELECT 1 FROM \"regc_org_closure\" AS x WHERE x.\"edition\" = (SELECT n.\"code\" FROM ({newest}) AS n) AND x.\"descendant\" = {unit} AND x.\"depth\" = 0)"
            )
        };
        let succ = format!(
            "SELECT m.\"old_unit\" AS \"unit\", MIN(m.\"new_unit\") AS \"successor\" FROM \"regc_org_mapping\" AS m WHERE m.\"to_edition\" = (SELECT n.\"code\" FROM ({newest}) AS n) GROUP BY m.\"old_unit\" HAVING COUNT(*) = 1 AND MIN(m.\"kind\") = 'full'"
        );
        // 1. Each current report under its unit in the newest edition,
        //    combined per period.
        let mut combined = Vec::new();
        let mut after = Vec::new();
        for c in &cols {
            let v = &c.source;
            let (expr, repr) = match c.units {
                UnitsAgg::Sum => (self.sum(v, c.stored), c.stored),
                UnitsAgg::Min => (self.least(v, c.stored, true), c.stored),
                UnitsAgg::Max => (self.least(v, c.stored, false), c.stored),
                UnitsAgg::Average => self.average(v, c.stored),
                // Only whether there is a value counts (count), or the
                // greatest of the predecessors' (none), deterministically.
                UnitsAgg::Count | UnitsAgg::None => (self.least(v, c.stored, false), c.stored),
            };
            combined.push(format!("{expr} AS {}", ident(&c.name)));
            after.push(Entered {
                source: format!("t1.{}", ident(&c.name)),
                name: c.name.clone(),
                numeric: c.numeric,
                units: c.units,
                time: c.time,
                stored: repr,
            });
        }
        let identity = format!(
            "CASE WHEN {} THEN t1.\"unit\" ELSE COALESCE(sc.\"successor\", t1.\"unit\") END",
            in_newest("t1.\"unit\"")
        );
        let per_period = format!(
            "(SELECT q.\"period\" AS \"period\", q.\"unit\" AS \"unit\"{}{} FROM (SELECT t1.\"period\" AS \"period\", {identity} AS \"unit\"{} FROM {from} LEFT JOIN ({succ}) AS sc ON sc.\"unit\" = t1.\"unit\") AS q GROUP BY q.\"period\", q.\"unit\") AS t1",
            if combined.is_empty() { "" } else { ", " },
            combined
                .iter()
                .zip(&cols)
                .map(|(e, c)| e.replace(&c.source, &format!("q.{}", ident(&c.name))))
                .collect::<Vec<_>>()
                .join(", "),
            cols.iter()
                .map(|c| format!(", {} AS {}", c.source, ident(&c.name)))
                .collect::<String>(),
        );
        // 2. Over time per unit, across editions.
        let newest_code = format!("(SELECT n.\"code\" FROM ({newest}) AS n)");
        let by_unit = self.by_reporter_in(
            &per_period,
            &after,
            "regc_period_rollup",
            Some(&newest_code),
        );
        // 3. Over the newest hierarchy: its closure, and each split unit
        //    under the units that hold all of its successors.
        let place = format!(
            "SELECT c.\"descendant\" AS \"unit\", c.\"ancestor\" AS \"ancestor\", c.\"depth\" AS \"depth\" FROM \"regc_org_closure\" AS c WHERE c.\"edition\" = {newest_code} UNION ALL SELECT m.\"old_unit\" AS \"unit\", c.\"ancestor\" AS \"ancestor\", -1 AS \"depth\" FROM \"regc_org_mapping\" AS m JOIN \"regc_org_closure\" AS c ON c.\"edition\" = m.\"to_edition\" AND c.\"descendant\" = m.\"new_unit\" WHERE m.\"to_edition\" = {newest_code} AND NOT {} AND m.\"old_unit\" NOT IN (SELECT s.\"unit\" FROM ({succ}) AS s) GROUP BY m.\"old_unit\", c.\"ancestor\" HAVING COUNT(*) = (SELECT COUNT(*) FROM \"regc_org_mapping\" AS m2 WHERE m2.\"to_edition\" = {newest_code} AND m2.\"old_unit\" = m.\"old_unit\")",
            in_newest("m.\"old_unit\"")
        );
        let inner = self.over_tree(&format!("({by_unit})"), &after, true, Some(&place));
        let rows = RollupRows {
            form: form.code.clone(),
            rows: [Some("a".to_string()), None, None],
            ytd: [None, None, None],
        };
        let outer = self.row_columns(form, &rows);
        format!("SELECT {} FROM ({inner}) AS a", outer.join(", "))
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

/// The view of the reconciliations that fail.
pub fn reconcile_view(r: &ir::Regime) -> String {
    fit(&format!("{}.reconcile", r.code))
}

/// The regimes a regime's reconciliations read, besides itself.
pub fn reconciled_regimes(r: &ir::Regime) -> Vec<String> {
    let mut out = Vec::new();
    for rule in r
        .rules
        .iter()
        .filter(|x| x.origin == ir::RuleOrigin::Reconcile)
    {
        for e in std::iter::once(&rule.check).chain(&rule.placeholders) {
            e.walk(&mut |n| {
                if let ir::ExprKind::Cell {
                    regime: Some(code), ..
                } = &n.kind
                    && !out.contains(code)
                {
                    out.push(code.clone());
                }
            });
        }
    }
    out.sort();
    out
}

/// `reconcile.<dialect>.sql` of one regime: one view, `"<regime>.reconcile"`,
/// listing every unit and period where a reconciliation rule's two
/// sources disagree beyond its tolerance (columns rule, severity, unit,
/// level, period, edition, message). It reads the roll-up views of the
/// regimes it names: apply their `aggregate.*.sql` first.
pub fn reconcile_sql(
    r: &ir::Regime,
    layout: &RegimeLayout,
    d: Dialect,
) -> Result<String, SqlError> {
    let mut s = Script::new(d);
    s.comment(format!(
        "Reconciliations of {} version {} ({}). Generated by regc {}; do not edit.",
        r.code,
        r.version,
        d.name(),
        env!("CARGO_PKG_VERSION")
    ));
    let others = reconciled_regimes(r);
    s.comment(if others.is_empty() {
        format!(
            "Apply after aggregate.{}.sql. The regime has no reconciliation: the view is empty.",
            d.name()
        )
    } else {
        format!(
            "Apply after aggregate.{}.sql of this regime and of {}. Semantics: docs/aggregation.md.",
            d.name(),
            others.join(", ")
        )
    });
    let queries = crate::emit::rules_sql::reconcile_queries(r, layout, d, &|code, form| {
        fit(&format!("{code}.{form}.rollup"))
    });
    let body = if queries.is_empty() {
        "SELECT CAST(NULL AS TEXT) AS \"rule\", CAST(NULL AS TEXT) AS \"severity\", CAST(NULL AS TEXT) AS \"unit\", CAST(NULL AS TEXT) AS \"level\", CAST(NULL AS TEXT) AS \"period\", CAST(NULL AS TEXT) AS \"edition\", CAST(NULL AS TEXT) AS \"message\" WHERE FALSE".to_string()
    } else {
        queries
            .into_iter()
            .map(|(_, q)| q)
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    };
    let view = ident(&reconcile_view(r));
    s.stmt(&format!("DROP VIEW IF EXISTS {view}"))?;
    s.stmt(&format!("CREATE VIEW {view} AS {body}"))?;
    Ok(s.finish())
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
    // Views are replaced whole: dependent views are dropped first. On
    // PostgreSQL, CASCADE also drops the reconciliation views of other
    // regimes that read these roll-ups (apply reconcile.*.sql again after).
    s.comment("Drop the views of an earlier version, dependent views first.");
    let drop = |name: String| {
        format!(
            "DROP VIEW IF EXISTS {}{}",
            ident(&name),
            if d == Dialect::Postgres {
                " CASCADE"
            } else {
                ""
            }
        )
    };
    s.stmt(&drop(completeness_view(r)))?;
    for form in &grids {
        s.stmt(&drop(comparable_view(r, &form.code)))?;
        s.stmt(&drop(rollup_view(r, &form.code)))?;
        s.stmt(&drop(ytd_view(r, &form.code)))?;
        s.stmt(&drop(by_reporter_view(r, &form.code)))?;
    }
    let view = |name: String, body: String| format!("CREATE VIEW {} AS {body}", ident(&name));
    for form in &grids {
        s.comment(format!(
            "Form {}: each reporter's values over every roll-up period, then every unit's.",
            form.code
        ));
        let (from, cols) = g.entered(form);
        s.stmt(&view(
            by_reporter_view(r, &form.code),
            g.by_reporter(&from, &cols, "regc_period_rollup"),
        ))?;
        let ytd = g.ytd_columns(form, &cols);
        if !ytd.is_empty() {
            s.comment("The years to date its computed cells read, per unit.");
            let per_reporter = g.by_reporter(&from, &ytd, "regc_period_ytd");
            let (ctes, body) = g.over_units(&format!("({per_reporter})"), &ytd, false);
            let body = if ctes.is_empty() {
                body
            } else {
                format!("WITH {} {body}", ctes.join(", "))
            };
            s.stmt(&view(ytd_view(r, &form.code), body))?;
        }
        s.stmt(&view(
            rollup_view(r, &form.code),
            g.rollup(form, !ytd.is_empty()),
        ))?;
        s.comment("The same over the newest edition of the hierarchy: a series comparable across a reform.");
        s.stmt(&view(comparable_view(r, &form.code), g.comparable(form)))?;
    }
    s.comment("Expected, received and on-time reports per unit, flow level and period.");
    s.stmt(&format!(
        "CREATE VIEW {} AS {}",
        ident(&completeness_view(r)),
        g.completeness()
    ))?;
    Ok(s.finish())
}
