//! `regc rollup`: the aggregation views of a regime
//! ([`crate::emit::aggregate`]) applied to a database and read back.

use super::Conn;
use crate::emit::aggregate;
use crate::ir;
use crate::layout::{RegimeLayout, column_name};
use crate::sql::{Dialect, ident};

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// One grid form (default: every grid form).
    pub form: Option<String>,
    /// Only units of this level (or unit type).
    pub level: Option<String>,
    /// Only this period (`2025-03`, `2025-Q1`, `2025`, …).
    pub period: Option<String>,
    /// Over the newest edition of the hierarchy (the comparable series).
    pub comparable: bool,
}

/// One form's roll-up: a row per (period, edition, unit).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rollup {
    pub form: String,
    /// The cells, in form order (the value columns of each row).
    pub cells: Vec<String>,
    pub rows: Vec<RollupRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RollupRow {
    pub frequency: String,
    pub period: String,
    pub edition: String,
    pub unit: String,
    pub name: String,
    pub level: String,
    /// Reporting units below (or at) the unit with a report in the period.
    pub reporters: i64,
    /// One per cell: exact decimal text, or null.
    pub values: Vec<Option<String>>,
}

/// One row of the completeness view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Completeness {
    pub period: String,
    pub edition: String,
    pub unit: String,
    pub name: String,
    pub unit_level: String,
    /// The flow level whose reports are counted.
    pub level: String,
    pub due_date: String,
    pub expected: i64,
    pub received: i64,
    pub on_time: i64,
    pub received_pct: String,
    pub on_time_pct: String,
}

/// A decimal as text without trailing zeros after the point (PostgreSQL
/// keeps the scale of a `NUMERIC`: `12.50` and `12.5` are one value).
pub fn normalize(text: &str) -> String {
    if !text.contains('.') {
        return text.to_string();
    }
    let t = text.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" || t.is_empty() {
        "0".into()
    } else {
        t.to_string()
    }
}

/// One failing reconciliation: the unit and period where the rule's two
/// sources disagree, with the message naming both values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reconciliation {
    pub rule: String,
    pub severity: String,
    pub unit: String,
    pub name: String,
    pub level: String,
    pub period: String,
    pub edition: String,
    pub message: String,
}

/// Creates (or replaces) the reconciliation view of `regime`, and first
/// the tables and roll-up views of every regime it reads (empty if the
/// database holds none of their submissions).
pub fn apply_reconcile(
    conn: &mut Conn,
    lib: &ir::Library,
    regime: &ir::Regime,
    layout: &RegimeLayout,
) -> Result<(), String> {
    let d = conn.dialect();
    let mut sql = String::new();
    for code in aggregate::reconciled_regimes(regime) {
        let Some(other) = lib.regimes.iter().find(|r| r.code == code) else {
            return Err(format!(
                "{} reads {code}, which the library lacks",
                regime.code
            ));
        };
        let l = crate::layout::regime(other);
        sql.push_str(&crate::emit::schema::regime(other, &l, d).map_err(|e| e.to_string())?);
        sql.push_str(&aggregate::aggregate_sql(other, &l, d).map_err(|e| e.to_string())?);
    }
    sql.push_str(&aggregate::reconcile_sql(regime, layout, d).map_err(|e| e.to_string())?);
    in_transaction(conn, &sql)
}

/// Reads the failing reconciliations of `regime` (view applied by
/// [`apply_reconcile`]).
pub fn reconciliations(
    conn: &mut Conn,
    regime: &ir::Regime,
    q: &Query,
) -> Result<Vec<Reconciliation>, String> {
    let d = conn.dialect();
    let names = [
        "rule", "severity", "unit", "level", "period", "edition", "message",
    ];
    let mut cols: Vec<String> = names
        .iter()
        .map(|c| text(&format!("v.{}", ident(c))))
        .collect();
    cols.push(text("n.\"name\""));
    let (wh, params) = filters(d, q, "level");
    let sql = format!(
        "SELECT {} FROM {} AS v LEFT JOIN \"regc_org_unit\" AS n ON n.\"code\" = v.\"unit\"{wh} ORDER BY v.\"period\", v.\"unit\", v.\"rule\"",
        cols.join(", "),
        ident(&aggregate::reconcile_view(regime))
    );
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let rows = conn.query_text(&sql, &params)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            let mut next = || it.next().flatten().unwrap_or_default();
            let (rule, severity, unit, level, period, edition, message) =
                (next(), next(), next(), next(), next(), next(), next());
            Reconciliation {
                rule,
                severity,
                unit,
                name: next(),
                level,
                period,
                edition,
                message,
            }
        })
        .collect())
}

/// Runs `sql` in one transaction: all of it or, on an error, none.
fn in_transaction(conn: &mut Conn, sql: &str) -> Result<(), String> {
    conn.begin()?;
    match conn.exec(sql) {
        Ok(()) => conn.commit(),
        Err(e) => {
            conn.rollback();
            Err(e)
        }
    }
}

/// Creates (or replaces) the aggregation views of `regime`.
pub fn apply_views(
    conn: &mut Conn,
    regime: &ir::Regime,
    layout: &RegimeLayout,
) -> Result<(), String> {
    if !conn.has_table("regc_period_rollup")? || !conn.has_table(&layout_table(layout))? {
        return Err(format!(
            "the database holds no submissions of {}: import some first (regc import)",
            regime.code
        ));
    }
    let sql =
        aggregate::aggregate_sql(regime, layout, conn.dialect()).map_err(|e| e.to_string())?;
    in_transaction(conn, &sql)
}

fn layout_table(layout: &RegimeLayout) -> String {
    layout
        .tables
        .first()
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

/// A column read as text (`Conn::query_text` reads text only).
fn text(expr: &str) -> String {
    format!("CAST({expr} AS TEXT)")
}

fn placeholder(d: Dialect, n: usize) -> String {
    match d {
        Dialect::Postgres => format!("${n}"),
        Dialect::Sqlite => format!("?{n}"),
    }
}

/// Filters on `period` and `level` columns, with their parameters.
fn filters(d: Dialect, q: &Query, level_column: &str) -> (String, Vec<String>) {
    let mut wh = Vec::new();
    let mut params = Vec::new();
    if let Some(p) = &q.period {
        params.push(p.clone());
        wh.push(format!("v.\"period\" = {}", placeholder(d, params.len())));
    }
    if let Some(l) = &q.level {
        params.push(l.clone());
        wh.push(format!(
            "v.{} = {}",
            ident(level_column),
            placeholder(d, params.len())
        ));
    }
    let clause = if wh.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", wh.join(" AND "))
    };
    (clause, params)
}

/// Reads the roll-ups of `regime` (views applied by [`apply_views`]).
pub fn rollups(conn: &mut Conn, regime: &ir::Regime, q: &Query) -> Result<Vec<Rollup>, String> {
    let d = conn.dialect();
    let mut out = Vec::new();
    for form in regime.forms.iter().filter(|f| {
        f.kind == ir::FormKind::Grid && q.form.as_ref().is_none_or(|code| *code == f.code)
    }) {
        let view = if q.comparable {
            aggregate::comparable_view(regime, &form.code)
        } else {
            aggregate::rollup_view(regime, &form.code)
        };
        let mut cols = vec![
            text("v.\"frequency\""),
            text("v.\"period\""),
            text("v.\"edition\""),
            text("v.\"unit\""),
            text("n.\"name\""),
            text("v.\"level\""),
            text("v.\"reporters\""),
        ];
        for c in &form.cells {
            cols.push(text(&format!("v.{}", ident(&column_name(&c.id)))));
        }
        let (wh, params) = filters(d, q, "level");
        let sql = format!(
            "SELECT {} FROM {} AS v LEFT JOIN \"regc_org_unit\" AS n ON n.\"code\" = v.\"unit\"{wh} ORDER BY v.\"frequency\", v.\"period\", v.\"edition\", v.\"unit\"",
            cols.join(", "),
            ident(&view)
        );
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        let rows = conn.query_text(&sql, &params)?;
        let rows = rows
            .into_iter()
            .map(|r| {
                let mut it = r.into_iter();
                let mut next = || it.next().flatten().unwrap_or_default();
                let (frequency, period, edition, unit, name, level) =
                    (next(), next(), next(), next(), next(), next());
                let reporters = next().parse().unwrap_or(0);
                let values = it.map(|v| v.map(|x| normalize(&x))).collect();
                RollupRow {
                    frequency,
                    period,
                    edition,
                    unit,
                    name,
                    level,
                    reporters,
                    values,
                }
            })
            .collect();
        out.push(Rollup {
            form: form.code.clone(),
            cells: form.cells.iter().map(|c| c.id.clone()).collect(),
            rows,
        });
    }
    Ok(out)
}

/// Reads the completeness view of `regime`.
pub fn completeness(
    conn: &mut Conn,
    regime: &ir::Regime,
    q: &Query,
) -> Result<Vec<Completeness>, String> {
    let d = conn.dialect();
    let names = [
        "period",
        "edition",
        "unit",
        "unit_level",
        "level",
        "due_date",
        "expected",
        "received",
        "on_time",
        "received_pct",
        "on_time_pct",
    ];
    let mut cols: Vec<String> = names
        .iter()
        .map(|c| text(&format!("v.{}", ident(c))))
        .collect();
    cols.push(text("n.\"name\""));
    let (wh, params) = filters(d, q, "unit_level");
    let sql = format!(
        "SELECT {} FROM {} AS v LEFT JOIN \"regc_org_unit\" AS n ON n.\"code\" = v.\"unit\"{wh} ORDER BY v.\"period\", v.\"unit\", v.\"level\"",
        cols.join(", "),
        ident(&aggregate::completeness_view(regime))
    );
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let rows = conn.query_text(&sql, &params)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            let mut next = || it.next().flatten().unwrap_or_default();
            let (period, edition, unit, unit_level, level, due_date) =
                (next(), next(), next(), next(), next(), next());
            let (expected, received, on_time) = (
                next().parse().unwrap_or(0),
                next().parse().unwrap_or(0),
                next().parse().unwrap_or(0),
            );
            let (received_pct, on_time_pct) = (normalize(&next()), normalize(&next()));
            Completeness {
                period,
                edition,
                unit,
                name: next(),
                unit_level,
                level,
                due_date,
                expected,
                received,
                on_time,
                received_pct,
                on_time_pct,
            }
        })
        .collect())
}
