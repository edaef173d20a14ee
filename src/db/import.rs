//! `regc import`: submissions from files into a database, in one
//! transaction.
//!
//! 1. Read and check every file ([`crate::submission`]); any problem stops
//!    the import before the database is touched.
//! 2. In one transaction: apply the core schema and the regime's schema
//!    (both idempotent), refuse a database holding another version of the
//!    regime, load the library's reference data if it changed (levels,
//!    org units and their closure, mappings, holidays, codelists), the
//!    catalog (regime, forms, cells), the periods the files name, then the
//!    submissions.
//! 3. A submission whose latest revision holds the same values (same
//!    checksum) is left alone, so importing a file twice changes nothing;
//!    otherwise it is added as the next revision (revisions are never
//!    updated in place).
//!
//! Any error rolls the whole transaction back.

use super::{Conflict, Conn, SqlValue};
use crate::calendar;
use crate::emit::schema;
use crate::ir::{self, Library};
use crate::layout::{RegimeLayout, Storage};
use crate::sql::Dialect;
use crate::submission::Submission;
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `submitted` (the default), `draft` or `approved`.
    pub status: String,
    pub submitter: Option<String>,
    /// The moment recorded as submitted (and approved) at, RFC 3339, for
    /// the submissions whose files do not say when they were submitted.
    pub now: String,
    /// When the files say each unit submitted a form for a period:
    /// (unit, period, form) → RFC 3339; an empty form stands for every form
    /// of that unit and period.
    pub submitted_at: BTreeMap<(String, String, String), String>,
    /// The rules each submission breaks, kept with it
    /// (`regc_submission_violation`): (form, unit, period) → violations.
    pub violations: BTreeMap<(String, String, String), Vec<Flag>>,
}

/// A rule a stored submission breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub rule: String,
    pub severity: ir::Severity,
    pub record: Option<u32>,
    pub cell: Option<String>,
    pub message: String,
    pub explanation: Option<String>,
    /// An error stored anyway (`regc import --force`).
    pub forced: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Submissions written as a new revision.
    pub written: usize,
    /// Of those, corrections of an earlier revision.
    pub corrections: usize,
    /// Submissions whose latest revision already holds the same values.
    pub unchanged: usize,
    /// Of the written, those stored despite errors (`--force`): flagged.
    pub flagged: usize,
    /// Rows written into form tables.
    pub rows: usize,
    pub reference_data_loaded: bool,
}

/// Writes `subs` (already read and checked against `regime`) into `conn`.
pub fn import(
    conn: &mut Conn,
    lib: &Library,
    regime: &ir::Regime,
    layout: &RegimeLayout,
    subs: &[&Submission],
    opts: &Options,
) -> Result<Report, String> {
    conn.begin()?;
    match write(conn, lib, regime, layout, subs, opts) {
        Ok(report) => {
            conn.commit()?;
            Ok(report)
        }
        Err(e) => {
            conn.rollback();
            Err(e)
        }
    }
}

/// The violations of the rules by the submissions read, as `regc
/// validate` finds them, earlier periods read from the database when a
/// rule reads them.
pub fn violations(
    conn: &mut Conn,
    regime: &crate::ir::Regime,
    ctx: &crate::submission::Context,
    reader: &crate::submission::Reader,
) -> Result<Vec<crate::validate::Violation>, String> {
    let mut store = crate::eval::Store::default();
    // Earlier periods for the rules that read them, and the other forms of
    // the same period already stored (a rule of one form may read another:
    // a document that sends one form is checked against the stored rest;
    // the forms it sends replace the stored ones).
    let reads_stored = crate::eval::reads_other_periods(regime) || regime.forms.len() > 1;
    if reads_stored && conn.has_table("regc_submission")? {
        super::history::load(conn, regime, &ctx.layout, &mut store)?;
    }
    let mut targets: Vec<(String, String)> = Vec::new();
    for s in reader.submissions.values() {
        targets.push((s.unit.clone(), s.period.clone()));
        store.insert(&regime.code, s.clone());
    }
    targets.sort();
    targets.dedup();
    let mut report = crate::validate::validate(regime, &store, &targets, &[]);
    report
        .violations
        .retain(|v| v.severity != crate::ir::Severity::Info);
    Ok(report.violations)
}

/// The violations to keep with each stored submission, keyed by (form,
/// unit, period), with the explanations the file gives for warnings; an
/// error kept is `forced`.
pub fn flags(
    violations: Vec<crate::validate::Violation>,
    explanations: &BTreeMap<(String, String, String), BTreeMap<String, String>>,
) -> BTreeMap<(String, String, String), Vec<Flag>> {
    let mut flags: BTreeMap<_, Vec<Flag>> = BTreeMap::new();
    for v in violations {
        let key = (v.form.clone(), v.unit.clone(), v.period.clone());
        let explanation = explanations.get(&key).and_then(|e| e.get(&v.rule)).cloned();
        flags.entry(key).or_default().push(Flag {
            forced: v.severity == ir::Severity::Error,
            rule: v.rule,
            severity: v.severity,
            record: v.record,
            cell: v.cell,
            message: v.message,
            explanation,
        });
    }
    flags
}

fn write(
    conn: &mut Conn,
    lib: &Library,
    regime: &ir::Regime,
    layout: &RegimeLayout,
    subs: &[&Submission],
    opts: &Options,
) -> Result<Report, String> {
    let d = conn.dialect();
    let mut report = Report::default();
    if let Some(v) = meta(conn, "core_version")?
        && v != schema::CORE_VERSION.to_string()
    {
        return Err(format!(
            "the database has regc's core schema {v}; this regc writes {}",
            schema::CORE_VERSION
        ));
    }
    if conn.has_table("regc_regime")? {
        let rows = conn.query_text(
            "SELECT CAST(\"version\" AS TEXT) FROM \"regc_regime\" WHERE \"code\" = $1"
                .replace("$1", if d == Dialect::Sqlite { "?1" } else { "$1" })
                .as_str(),
            &[&regime.code],
        )?;
        if let Some(Some(v)) = rows.first().and_then(|r| r.first())
            && *v != regime.version.to_string()
        {
            return Err(format!(
                "the database holds version {v} of {}; the library has version {}: move the database first (regc migrate OLD NEW)",
                regime.code, regime.version
            ));
        }
    }
    conn.exec(&schema::core(lib, d).map_err(|e| e.to_string())?)?;
    conn.exec(&schema::regime(regime, layout, d).map_err(|e| e.to_string())?)?;
    conn.write_rows(
        "regc_meta",
        &["key", "value"],
        &[vec![
            "core_version".into(),
            schema::CORE_VERSION.to_string().into(),
        ]],
        Conflict::Update(&["key"]),
    )?;
    let hash = reference_hash(lib);
    if meta(conn, "reference_sha256")?.as_deref() != Some(hash.as_str()) {
        load_reference(conn, lib)?;
        conn.write_rows(
            "regc_meta",
            &["key", "value"],
            &[vec!["reference_sha256".into(), hash.into()]],
            Conflict::Update(&["key"]),
        )?;
        report.reference_data_loaded = true;
    }
    load_catalog(conn, regime, layout)?;
    load_periods(conn, lib, regime, subs)?;
    write_submissions(conn, regime, layout, subs, opts, &mut report)?;
    if d == Dialect::Postgres {
        // Fresh statistics after a bulk load: without them the planner
        // takes the new tables for empty and picks nested loops that make
        // the current-revision and roll-up views quadratic.
        let mut tables: Vec<String> = [
            "regc_submission",
            "regc_period",
            "regc_period_rollup",
            "regc_rollup_period",
            "regc_period_deadline",
        ]
        .iter()
        .map(|t| crate::sql::ident(t))
        .collect();
        if report.reference_data_loaded {
            tables.extend(
                [
                    "regc_org_unit",
                    "regc_org_link",
                    "regc_org_closure",
                    "regc_org_mapping",
                ]
                .iter()
                .map(|t| crate::sql::ident(t)),
            );
        }
        tables.extend(layout.tables.iter().map(|t| crate::sql::ident(&t.name)));
        conn.exec(&format!("ANALYZE {}", tables.join(", ")))?;
    }
    Ok(report)
}

fn meta(conn: &mut Conn, key: &str) -> Result<Option<String>, String> {
    if !conn.has_table("regc_meta")? {
        return Ok(None);
    }
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT \"value\" FROM \"regc_meta\" WHERE \"key\" = ?1",
        Dialect::Postgres => "SELECT \"value\" FROM \"regc_meta\" WHERE \"key\" = $1",
    };
    Ok(conn
        .query_text(sql, &[key])?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten()))
}

/// A hash of the library's reference data: reloaded when it changes.
fn reference_hash(lib: &Library) -> String {
    #[derive(serde::Serialize)]
    struct Reference<'a> {
        org: &'a ir::Org,
        editions: &'a [crate::data::Edition],
        mappings: &'a [crate::data::Mapping],
        holidays: &'a [crate::data::Holiday],
        working_weekends: &'a [chrono::NaiveDate],
        codelists: &'a [ir::Codelist],
    }
    let text = serde_json::to_string(&Reference {
        org: &lib.org,
        editions: &lib.org.editions,
        mappings: &lib.org.mappings,
        holidays: &lib.holidays,
        working_weekends: &lib.working_weekends,
        codelists: &lib.codelists,
    })
    .unwrap_or_default();
    crate::emit::manifest::sha256(text.as_bytes())
}

fn date(d: Option<chrono::NaiveDate>) -> SqlValue {
    d.map_or(SqlValue::Null, |d| {
        SqlValue::Text(d.format("%Y-%m-%d").to_string())
    })
}

/// Levels, unit types, org units with their links and closure, mappings,
/// holidays and codelists.
fn load_reference(conn: &mut Conn, lib: &Library) -> Result<(), String> {
    let levels: Vec<Vec<SqlValue>> = lib
        .org
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            vec![
                l.code.as_str().into(),
                l.title.as_str().into(),
                l.title_en.clone().into(),
                SqlValue::Int(i64::try_from(i).unwrap_or(i64::MAX)),
            ]
        })
        .collect();
    conn.write_rows(
        "regc_level",
        &["code", "title", "title_en", "rank"],
        &levels,
        Conflict::Update(&["code"]),
    )?;
    let types: Vec<Vec<SqlValue>> = lib
        .org
        .unit_types
        .iter()
        .map(|t| {
            vec![
                t.code.as_str().into(),
                t.title.as_str().into(),
                t.title_en.clone().into(),
                t.parent_level.as_str().into(),
            ]
        })
        .collect();
    conn.write_rows(
        "regc_unit_type",
        &["code", "title", "title_en", "parent_level"],
        &types,
        Conflict::Update(&["code"]),
    )?;
    let editions: Vec<Vec<SqlValue>> = lib
        .org
        .editions
        .iter()
        .map(|e| {
            vec![
                e.edition.as_str().into(),
                date(e.valid_from),
                date(e.valid_to),
                e.source.clone().into(),
            ]
        })
        .collect();
    conn.write_rows(
        "regc_org_edition",
        &["code", "valid_from", "valid_to", "source"],
        &editions,
        Conflict::Update(&["code"]),
    )?;
    // Each code's name and level in the latest edition holding it
    // (permanent editions count as the earliest).
    let mut order: Vec<&crate::data::Edition> = lib.org.editions.iter().collect();
    order.sort_by_key(|e| e.valid_from);
    let mut units: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for e in &order {
        for u in &e.units {
            units.insert(&u.code, (&u.name, &u.level));
        }
    }
    let rows: Vec<Vec<SqlValue>> = units
        .iter()
        .map(|(code, (name, level))| vec![(*code).into(), (*name).into(), (*level).into()])
        .collect();
    conn.write_rows(
        "regc_org_unit",
        &["code", "name", "level"],
        &rows,
        Conflict::Update(&["code"]),
    )?;
    let mut links = Vec::new();
    let mut closure = Vec::new();
    let permanent: HashMap<&str, Option<&str>> = lib
        .org
        .editions
        .iter()
        .filter(|e| e.valid_from.is_none() && e.valid_to.is_none())
        .flat_map(|e| {
            e.units
                .iter()
                .map(|u| (u.code.as_str(), u.parent.as_deref()))
        })
        .collect();
    for e in &lib.org.editions {
        let own: HashMap<&str, Option<&str>> = e
            .units
            .iter()
            .map(|u| (u.code.as_str(), u.parent.as_deref()))
            .collect();
        for u in &e.units {
            links.push(vec![
                e.edition.as_str().into(),
                u.code.as_str().into(),
                u.parent.clone().into(),
                u.name.as_str().into(),
                u.level.as_str().into(),
                date(e.valid_from),
                date(e.valid_to),
            ]);
        }
        // Every unit of the edition, and (for a dated edition) the
        // permanent units too, which are valid in it as well.
        let members: Vec<&str> =
            if own.len() == permanent.len() && own.keys().all(|k| permanent.contains_key(k)) {
                own.keys().copied().collect()
            } else {
                own.keys().chain(permanent.keys()).copied().collect()
            };
        let mut seen = std::collections::HashSet::new();
        for unit in members {
            if !seen.insert(unit) {
                continue;
            }
            let mut at = Some(unit);
            let mut depth = 0i64;
            // The data's checks reject cycles; the bound is a second guard.
            while let Some(a) = at.filter(|_| depth < 64) {
                closure.push(vec![
                    e.edition.as_str().into(),
                    a.into(),
                    unit.into(),
                    SqlValue::Int(depth),
                    date(e.valid_from),
                    date(e.valid_to),
                ]);
                at = own.get(a).or_else(|| permanent.get(a)).copied().flatten();
                depth += 1;
            }
        }
    }
    conn.write_rows(
        "regc_org_link",
        &[
            "edition",
            "unit",
            "parent",
            "name",
            "level",
            "valid_from",
            "valid_to",
        ],
        &links,
        Conflict::Update(&["edition", "unit"]),
    )?;
    conn.write_rows(
        "regc_org_closure",
        &[
            "edition",
            "ancestor",
            "descendant",
            "depth",
            "valid_from",
            "valid_to",
        ],
        &closure,
        Conflict::Update(&["edition", "ancestor", "descendant"]),
    )?;
    let mappings: Vec<Vec<SqlValue>> = lib
        .org
        .mappings
        .iter()
        .flat_map(|m| {
            m.pairs.iter().map(|(old, new, kind)| {
                vec![
                    m.from.as_str().into(),
                    m.to.as_str().into(),
                    old.as_str().into(),
                    new.as_str().into(),
                    match kind {
                        crate::data::MapType::Full => "full".into(),
                        crate::data::MapType::Partial => "partial".into(),
                    },
                ]
            })
        })
        .collect();
    conn.write_rows(
        "regc_org_mapping",
        &["from_edition", "to_edition", "old_unit", "new_unit", "kind"],
        &mappings,
        Conflict::Update(&["from_edition", "to_edition", "old_unit", "new_unit"]),
    )?;
    let holidays: Vec<Vec<SqlValue>> = lib
        .holidays
        .iter()
        .map(|h| vec![date(Some(h.date)), h.name.as_str().into()])
        .collect();
    conn.write_rows(
        "regc_holiday",
        &["day", "name"],
        &holidays,
        Conflict::Update(&["day"]),
    )?;
    let weekends: Vec<Vec<SqlValue>> = lib
        .working_weekends
        .iter()
        .map(|d| vec![date(Some(*d))])
        .collect();
    conn.write_rows(
        "regc_working_weekend",
        &["day"],
        &weekends,
        Conflict::Ignore(&["day"]),
    )?;
    for c in &lib.codelists {
        let table = crate::layout::codelist_table(&c.code);
        conn.write_rows(
            "regc_codelist",
            &["code", "title", "table_name"],
            &[vec![
                c.code.as_str().into(),
                c.title.as_str().into(),
                table.as_str().into(),
            ]],
            Conflict::Update(&["code"]),
        )?;
        let values: Vec<Vec<SqlValue>> = c
            .values
            .iter()
            .map(|v| {
                vec![
                    v.code.as_str().into(),
                    v.label.as_str().into(),
                    v.label_en.clone().into(),
                ]
            })
            .collect();
        conn.write_rows(
            &table,
            &["code", "label", "label_en"],
            &values,
            Conflict::Update(&["code"]),
        )?;
    }
    Ok(())
}

fn name_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The regime, its forms and cells, with where each cell is stored.
pub fn load_catalog(conn: &mut Conn, r: &ir::Regime, layout: &RegimeLayout) -> Result<(), String> {
    let d = conn.dialect();
    conn.write_rows(
        "regc_regime",
        &["code", "version", "title", "frequency", "cutoff", "owner"],
        &[vec![
            r.code.as_str().into(),
            SqlValue::Int(i64::from(r.version)),
            r.titles.get("vi").cloned().unwrap_or_default().into(),
            r.frequency.name().into(),
            name_of(&r.cutoff).into(),
            r.owner.as_str().into(),
        ]],
        Conflict::Update(&["code"]),
    )?;
    let forms: Vec<Vec<SqlValue>> = r
        .forms
        .iter()
        .map(|f| {
            vec![
                r.code.as_str().into(),
                f.code.as_str().into(),
                f.title.as_str().into(),
                name_of(&f.kind).into(),
            ]
        })
        .collect();
    conn.write_rows(
        "regc_form",
        &["regime", "code", "title", "kind"],
        &forms,
        Conflict::Update(&["regime", "code"]),
    )?;
    let delete = match d {
        Dialect::Sqlite => "DELETE FROM \"regc_cell\" WHERE \"regime\" = ?1",
        Dialect::Postgres => "DELETE FROM \"regc_cell\" WHERE \"regime\" = $1",
    };
    conn.query_text(delete, &[&r.code])?;
    let mut cells = Vec::new();
    for f in &r.forms {
        for c in &f.cells {
            let place = layout.column(&f.code, &c.id);
            let storage = Storage::of(&c.ty);
            cells.push(vec![
                r.code.as_str().into(),
                f.code.as_str().into(),
                c.id.as_str().into(),
                c.label.as_str().into(),
                storage.type_name().into(),
                c.unit.to_string().into(),
                match &c.entry {
                    ir::Entry::Entered => "entered".into(),
                    ir::Entry::EnteredYearly => "entered_yearly".into(),
                    ir::Entry::Computed { .. } => "computed".into(),
                },
                SqlValue::Bool(c.required),
                c.aggregation.map(|a| name_of(&a.units)).into(),
                c.aggregation.map(|a| name_of(&a.time)).into(),
                place.map(|(t, _)| t.name.clone()).into(),
                place.map(|(_, col)| col.name.clone()).into(),
                SqlValue::Int(i64::from(
                    place.map_or(0, |(_, col)| col.storage.stored_scale(d)),
                )),
            ]);
        }
    }
    conn.write_rows(
        "regc_cell",
        &[
            "regime",
            "form",
            "cell",
            "label",
            "type",
            "unit",
            "entry",
            "required",
            "units_agg",
            "time_agg",
            "table_name",
            "column_name",
            "stored_scale",
        ],
        &cells,
        Conflict::Fail,
    )
}

/// The periods of every year the submissions name (all of them, so that
/// year-to-date rules find the year's earlier periods), with their links
/// to the previous period, the same period a year before and the year's
/// first, and their deadlines. An ad hoc regime's periods are the days
/// named.
fn load_periods(
    conn: &mut Conn,
    lib: &Library,
    r: &ir::Regime,
    subs: &[&Submission],
) -> Result<(), String> {
    let days = calendar::WorkingDays::of_library(lib);
    let wanted: std::collections::BTreeSet<&str> = subs.iter().map(|s| s.period.as_str()).collect();
    let links = crate::eval::Periods::new(r);
    let mut periods = Vec::new();
    let mut rows = Vec::new();
    let mut years = std::collections::BTreeSet::new();
    for id in &wanted {
        if r.frequency == ir::Frequency::AdHoc {
            if let Ok(day) = chrono::NaiveDate::parse_from_str(id, "%Y-%m-%d") {
                let p = calendar::Period {
                    id: (*id).to_string(),
                    start: day,
                    end: day,
                    deadlines: r
                        .deadlines
                        .iter()
                        .filter_map(|dl| {
                            Some(calendar::LevelDeadline {
                                level: dl.level.clone(),
                                date: calendar::deadline(&dl.rule, day, &days)?,
                                holidays_unknown: false,
                            })
                        })
                        .collect(),
                };
                rows.push(period_row(r, &p, None, None, &links));
                periods.push(p);
            }
        } else if let Some(y) = id.get(..4).and_then(|y| y.parse::<i32>().ok()) {
            years.insert(y);
        }
    }
    for y in years {
        for (i, p) in calendar::periods(r, y, &days).into_iter().enumerate() {
            rows.push(period_row(r, &p, Some(y), Some(i + 1), &links));
            periods.push(p);
        }
    }
    let mut deadlines = Vec::new();
    for p in &periods {
        periods_row(&mut deadlines, r, p);
    }
    conn.write_rows(
        "regc_period",
        &[
            "regime",
            "code",
            "frequency",
            "start_date",
            "end_date",
            "year",
            "seq",
            "previous",
            "last_year",
            "first",
        ],
        &rows,
        Conflict::Update(&["regime", "code"]),
    )?;
    conn.write_rows(
        "regc_period_deadline",
        &["regime", "period", "level", "due_date", "holidays_unknown"],
        &deadlines,
        Conflict::Update(&["regime", "period", "level"]),
    )?;
    load_rollups(conn, lib, r, &periods)
}

/// The roll-up periods of `periods` (docs/aggregation.md): each period is
/// its own roll-up and belongs to the coarser period holding its cut-off
/// day; each is placed in the edition of the hierarchy in force on its
/// cut-off day.
fn load_rollups(
    conn: &mut Conn,
    lib: &Library,
    r: &ir::Regime,
    periods: &[calendar::Period],
) -> Result<(), String> {
    let edition = |day: chrono::NaiveDate| {
        lib.org
            .edition_on(day)
            .map(|e| e.edition.clone())
            .ok_or_else(|| format!("no edition of the organisation is in force on {day}"))
    };
    let mut targets: BTreeMap<(&str, String), Vec<SqlValue>> = BTreeMap::new();
    let mut members = Vec::new();
    let mut ytd = Vec::new();
    let mut frequencies = vec![r.frequency];
    frequencies.extend_from_slice(calendar::rollup_frequencies(r.frequency));
    let links: Vec<(ir::Frequency, crate::eval::Periods)> = frequencies
        .iter()
        .map(|f| (*f, crate::eval::Periods::of(*f, r.cutoff)))
        .collect();
    for p in periods {
        // The year to date of every roll-up period of the period's year
        // that ends on or after it holds the period.
        if let Some(year) = p.id.get(..4).and_then(|y| y.parse::<i32>().ok()) {
            for f in &frequencies {
                for (code, _, end) in calendar::period_bounds(*f, r.cutoff, year) {
                    if end >= p.end {
                        ytd.push(vec![
                            r.code.as_str().into(),
                            p.id.as_str().into(),
                            f.name().into(),
                            code.into(),
                            date(Some(p.end)),
                            edition(p.end)?.into(),
                        ]);
                    }
                }
            }
        }
        let own = (p.id.clone(), p.start, p.end);
        let base = std::iter::once((r.frequency, Some(own)));
        let coarser = calendar::rollup_frequencies(r.frequency)
            .iter()
            .map(|f| (*f, calendar::rollup_of(*f, r.cutoff, p.end)));
        for (f, bounds) in base.chain(coarser) {
            let Some((code, start, end)) = bounds else {
                continue;
            };
            members.push(vec![
                r.code.as_str().into(),
                p.id.as_str().into(),
                f.name().into(),
                code.as_str().into(),
                date(Some(p.end)),
                edition(p.end)?.into(),
            ]);
            if let std::collections::btree_map::Entry::Vacant(v) = targets.entry((f.name(), code)) {
                let shift = |by| {
                    links
                        .iter()
                        .find(|(g, _)| *g == f)
                        .and_then(|(_, l)| l.shift(&v.key().1, by))
                };
                let row = vec![
                    r.code.as_str().into(),
                    f.name().into(),
                    v.key().1.as_str().into(),
                    date(Some(start)),
                    date(Some(end)),
                    edition(end)?.into(),
                    shift(ir::PeriodRef::Previous).into(),
                    shift(ir::PeriodRef::SamePeriodLastYear).into(),
                ];
                v.insert(row);
            }
        }
    }
    let targets: Vec<Vec<SqlValue>> = targets.into_values().collect();
    conn.write_rows(
        "regc_rollup_period",
        &[
            "regime",
            "frequency",
            "code",
            "start_date",
            "end_date",
            "edition",
            "previous",
            "last_year",
        ],
        &targets,
        Conflict::Update(&["regime", "frequency", "code"]),
    )?;
    // Year-to-date spans reach into roll-up periods no loaded period
    // belongs to (a year's quarters after the last reported month).
    let known: std::collections::HashSet<(&str, &str)> = targets
        .iter()
        .filter_map(|t| match (t.get(1), t.get(2)) {
            (Some(SqlValue::Text(f)), Some(SqlValue::Text(code))) => {
                Some((f.as_str(), code.as_str()))
            }
            _ => None,
        })
        .collect();
    let mut extra = std::collections::BTreeSet::new();
    for row in &ytd {
        if let (Some(SqlValue::Text(f)), Some(SqlValue::Text(code))) = (row.get(2), row.get(3))
            && !known.contains(&(f.as_str(), code.as_str()))
        {
            extra.insert((f.clone(), code.clone()));
        }
    }
    let mut extra_rows = Vec::new();
    for (f, code) in extra {
        let Some(freq) = frequencies.iter().find(|x| x.name() == f) else {
            continue;
        };
        let Some(year) = code.get(..4).and_then(|y| y.parse::<i32>().ok()) else {
            continue;
        };
        let Some((_, start, end)) = calendar::period_bounds(*freq, r.cutoff, year)
            .into_iter()
            .find(|(c, _, _)| *c == code)
        else {
            continue;
        };
        let l = crate::eval::Periods::of(*freq, r.cutoff);
        extra_rows.push(vec![
            r.code.as_str().into(),
            f.as_str().into(),
            code.as_str().into(),
            date(Some(start)),
            date(Some(end)),
            edition(end)?.into(),
            l.shift(&code, ir::PeriodRef::Previous).into(),
            l.shift(&code, ir::PeriodRef::SamePeriodLastYear).into(),
        ]);
    }
    conn.write_rows(
        "regc_rollup_period",
        &[
            "regime",
            "frequency",
            "code",
            "start_date",
            "end_date",
            "edition",
            "previous",
            "last_year",
        ],
        &extra_rows,
        Conflict::Update(&["regime", "frequency", "code"]),
    )?;
    conn.write_rows(
        "regc_period_ytd",
        &[
            "regime",
            "period",
            "frequency",
            "rollup",
            "end_date",
            "edition",
        ],
        &ytd,
        Conflict::Update(&["regime", "period", "frequency", "rollup"]),
    )?;
    conn.write_rows(
        "regc_period_rollup",
        &[
            "regime",
            "period",
            "frequency",
            "rollup",
            "end_date",
            "edition",
        ],
        &members,
        Conflict::Update(&["regime", "period", "frequency"]),
    )
}

fn period_row(
    r: &ir::Regime,
    p: &calendar::Period,
    year: Option<i32>,
    seq: Option<usize>,
    links: &crate::eval::Periods,
) -> Vec<SqlValue> {
    let int = |n: Option<i64>| n.map_or(SqlValue::Null, SqlValue::Int);
    vec![
        r.code.as_str().into(),
        p.id.as_str().into(),
        r.frequency.name().into(),
        date(Some(p.start)),
        date(Some(p.end)),
        int(year.map(i64::from)),
        int(seq.and_then(|s| i64::try_from(s).ok())),
        links.shift(&p.id, ir::PeriodRef::Previous).into(),
        links.shift(&p.id, ir::PeriodRef::SamePeriodLastYear).into(),
        links.first_of_year(&p.id).into(),
    ]
}

fn periods_row(out: &mut Vec<Vec<SqlValue>>, r: &ir::Regime, p: &calendar::Period) {
    for dl in &p.deadlines {
        out.push(vec![
            r.code.as_str().into(),
            p.id.as_str().into(),
            dl.level.as_str().into(),
            date(Some(dl.date)),
            SqlValue::Bool(dl.holidays_unknown),
        ]);
    }
}

/// A value as bound into its column.
pub fn sql_value(v: &Value, storage: &Storage, d: Dialect) -> SqlValue {
    match (v, d) {
        (Value::Integer(n), _) => SqlValue::Int(*n),
        (Value::Decimal(x), Dialect::Sqlite) if !storage.sqlite_text_decimal() => {
            // Checked on input: the digits fit the column, so the scaled
            // mantissa fits 18 digits.
            let scale = storage.stored_scale(d);
            x.scaled(scale)
                .and_then(|m| i64::try_from(m).ok())
                .map_or_else(|| SqlValue::Text(x.to_string()), SqlValue::Int)
        }
        (Value::Decimal(x), _) => SqlValue::Text(x.to_string()),
        (Value::Text(t) | Value::Code(t), _) => SqlValue::Text(t.clone()),
        (Value::Date(day), _) => SqlValue::Text(day.format("%Y-%m-%d").to_string()),
        (Value::Bool(b), _) => SqlValue::Bool(*b),
    }
}

fn write_submissions(
    conn: &mut Conn,
    r: &ir::Regime,
    layout: &RegimeLayout,
    subs: &[&Submission],
    opts: &Options,
    report: &mut Report,
) -> Result<(), String> {
    let d = conn.dialect();
    if d == Dialect::Postgres {
        conn.exec("LOCK TABLE \"regc_submission\" IN EXCLUSIVE MODE")?;
    }
    let latest_sql = match d {
        Dialect::Sqlite => {
            "SELECT \"form\", \"unit\", \"period\", CAST(\"revision\" AS TEXT), \"checksum\", \"status\" FROM \"regc_submission\" WHERE \"regime\" = ?1"
        }
        Dialect::Postgres => {
            "SELECT \"form\", \"unit\", \"period\", CAST(\"revision\" AS TEXT), \"checksum\", \"status\" FROM \"regc_submission\" WHERE \"regime\" = $1"
        }
    };
    // The latest revision of each submission: (revision, checksum, status).
    let mut latest: HashMap<(String, String, String), (i64, String, String)> = HashMap::new();
    for row in conn.query_text(latest_sql, &[&r.code])? {
        let [
            Some(f),
            Some(u),
            Some(p),
            Some(rev),
            Some(sum),
            Some(status),
        ] = <[Option<String>; 6]>::try_from(row)
            .map_err(|_| "unexpected columns from regc_submission".to_string())?
        else {
            continue;
        };
        let rev: i64 = rev.parse().unwrap_or(0);
        let e = latest
            .entry((f, u, p))
            .or_insert((0, String::new(), String::new()));
        if rev > e.0 {
            *e = (rev, sum, status);
        }
    }
    let max = conn.query_text(
        "SELECT CAST(coalesce(max(\"id\"), 0) AS TEXT) FROM \"regc_submission\"",
        &[],
    )?;
    let mut next_id: i64 = max
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let approved = opts.status == "approved";
    let mut headers = Vec::new();
    let mut violation_rows = Vec::new();
    let mut tables: BTreeMap<&str, (Vec<&str>, Vec<Vec<SqlValue>>)> = BTreeMap::new();
    for t in &layout.tables {
        let mut cols = vec!["submission_id"];
        if t.kind == ir::FormKind::Records {
            cols.push("record");
        }
        cols.extend(t.columns.iter().map(|c| c.name.as_str()));
        tables.insert(t.name.as_str(), (cols, Vec::new()));
    }
    for s in subs {
        let checksum = s.checksum();
        let key = (s.form.clone(), s.unit.clone(), s.period.clone());
        // The same values are unchanged, except a draft now submitted (or
        // approved): that is a new revision with the new status.
        let revision = match latest.get(&key) {
            Some((_, sum, status))
                if *sum == checksum && (status != "draft" || opts.status == "draft") =>
            {
                report.unchanged += 1;
                continue;
            }
            Some((rev, _, _)) => {
                report.corrections += 1;
                rev + 1
            }
            None => 1,
        };
        next_id += 1;
        report.written += 1;
        let flags = opts
            .violations
            .get(&(s.form.clone(), s.unit.clone(), s.period.clone()))
            .map_or(&[][..], Vec::as_slice);
        if flags.iter().any(|f| f.forced) {
            report.flagged += 1;
        }
        for f in flags {
            violation_rows.push(vec![
                SqlValue::Int(next_id),
                f.rule.as_str().into(),
                match f.severity {
                    ir::Severity::Error => "error",
                    ir::Severity::Warning => "warning",
                    ir::Severity::Info => "info",
                }
                .into(),
                f.record
                    .map_or(SqlValue::Null, |n| SqlValue::Int(i64::from(n))),
                f.cell.clone().into(),
                f.message.as_str().into(),
                f.explanation.clone().into(),
                SqlValue::Bool(f.forced),
            ]);
        }
        let key = |form: &str| (s.unit.clone(), s.period.clone(), form.to_string());
        let when = opts
            .submitted_at
            .get(&key(&s.form))
            .or_else(|| opts.submitted_at.get(&key("")))
            .unwrap_or(&opts.now);
        headers.push(vec![
            SqlValue::Int(next_id),
            r.code.as_str().into(),
            SqlValue::Int(i64::from(r.version)),
            s.form.as_str().into(),
            s.unit.as_str().into(),
            s.period.as_str().into(),
            SqlValue::Int(revision),
            opts.status.as_str().into(),
            if opts.status == "draft" {
                SqlValue::Null
            } else {
                when.as_str().into()
            },
            if approved {
                opts.now.as_str().into()
            } else {
                SqlValue::Null
            },
            opts.submitter.clone().into(),
            checksum.into(),
            format!("{}:{}", s.file, s.line).into(),
        ]);
        // A form's slots are its tables' columns, part after part.
        let mut offset = 0;
        for t in layout.form_tables(&s.form) {
            let width = t.columns.len();
            let Some((_, rows)) = tables.get_mut(t.name.as_str()) else {
                offset += width;
                continue;
            };
            let records: Vec<(u32, Option<&Vec<Option<Value>>>)> = match t.kind {
                ir::FormKind::Grid => vec![(0, s.records.get(&0))],
                ir::FormKind::Records => s.records.iter().map(|(n, v)| (*n, Some(v))).collect(),
            };
            for (n, values) in records {
                let mut row = Vec::with_capacity(width + 2);
                row.push(SqlValue::Int(next_id));
                if t.kind == ir::FormKind::Records {
                    row.push(SqlValue::Int(i64::from(n)));
                }
                for (i, c) in t.columns.iter().enumerate() {
                    row.push(
                        values
                            .and_then(|v| v.get(offset + i))
                            .and_then(Option::as_ref)
                            .map_or(SqlValue::Null, |v| sql_value(v, &c.storage, d)),
                    );
                }
                rows.push(row);
            }
            offset += width;
        }
    }
    conn.write_rows(
        "regc_submission",
        &[
            "id",
            "regime",
            "regime_version",
            "form",
            "unit",
            "period",
            "revision",
            "status",
            "submitted_at",
            "approved_at",
            "submitter",
            "checksum",
            "source",
        ],
        &headers,
        Conflict::Fail,
    )?;
    for (table, (cols, rows)) in &tables {
        report.rows += rows.len();
        conn.write_rows(table, cols, rows, Conflict::Fail)?;
    }
    conn.write_rows(
        "regc_submission_violation",
        &[
            "submission_id",
            "rule",
            "severity",
            "record",
            "cell",
            "message",
            "explanation",
            "forced",
        ],
        &violation_rows,
        Conflict::Fail,
    )?;
    Ok(())
}
