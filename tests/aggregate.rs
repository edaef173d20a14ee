//! The aggregation SQL against an oracle: random submissions of the
//! fixture regime `test.rollup` (a cell for every aggregation over units
//! and over time, a computed ratio) over the twelve months of 2025, across
//! the reform of 1 July 2025 (two provinces merge, districts go, communes
//! merge and split), with missing values, units that never report,
//! corrections and late reports. They are imported into SQLite and
//! PostgreSQL, the generated views are read back, and every roll-up and
//! completeness row must equal what the oracle below computes — in plain
//! Rust, from the same submissions and the fixture's hierarchy, with exact
//! big-integer decimals — exactly, row set and values.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::type_complexity)]

mod common;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use regc::db::{Conn, Target};
use regc::submission::{Context, Reader};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use common::Rng;

/// Numbers in the oracle: exact, as integers × 10^20 (every regc division
/// rounds to 20 digits after the point).
const SCALE: u32 = 20;

fn ten(n: u32) -> BigInt {
    BigInt::from(10u8).pow(n)
}

/// Exact decimal text to × 10^20.
fn fixed(text: &str) -> BigInt {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    assert!(frac.len() <= SCALE as usize, "{text}: too many digits");
    let digits = format!("{int}{frac}{}", "0".repeat(SCALE as usize - frac.len()));
    let n: BigInt = digits.parse().unwrap();
    if neg { -n } else { n }
}

/// `a / b` (both × 10^20) rounded half away from zero to 20 digits.
fn div(a: &BigInt, b: &BigInt) -> Option<BigInt> {
    if b.is_zero() {
        return None;
    }
    let num = a.abs() * ten(SCALE) * 2 + b.abs();
    let q: BigInt = num / (b.abs() * 2);
    Some(if a.is_negative() != b.is_negative() {
        -q
    } else {
        q
    })
}

/// The cells of `test.rollup` B01 in form order, with their aggregation
/// over units and over time and their decimal scale.
const CELLS: &[(&str, &str, &str, u32)] = &[
    ("ss", "sum", "sum", 0),
    ("sa", "sum", "average", 2),
    ("as_", "average", "sum", 0),
    ("nx", "min", "max", 1),
    ("xn", "max", "min", 0),
    ("cl", "count", "last", 0),
    ("sf", "sum", "first", 0),
    ("sl", "sum", "last", 0),
    ("nn", "none", "none", 0),
];

/// The months of 2025; before July the 2024 edition is in force.
fn edition_of(month: u32) -> &'static str {
    if month <= 6 { "2024" } else { "2025" }
}

/// The roll-up periods holding a month, by frequency (the oracle's own
/// calendar arithmetic, not regc's).
fn rollups_of(month: u32) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("monthly", format!("2025-{month:02}")),
        ("quarterly", format!("2025-Q{}", (month - 1) / 3 + 1)),
        (
            "six_monthly",
            format!("2025-H{}", if month <= 6 { 1 } else { 2 }),
        ),
        ("annual", "2025".to_string()),
    ];
    if month <= 9 {
        out.push(("nine_monthly", "2025-9M".to_string()));
    }
    out
}

/// The fixture's hierarchy: (unit, parent, level) per edition.
fn hierarchy(edition: &str) -> Vec<(&'static str, Option<&'static str>, &'static str)> {
    let vn = ("VN", None, "government");
    if edition == "2024" {
        vec![
            vn,
            ("01", Some("VN"), "province"),
            ("02", Some("VN"), "province"),
            ("03", Some("VN"), "province"),
            ("101", Some("01"), "district"),
            ("201", Some("02"), "district"),
            ("301", Some("03"), "district"),
            ("302", Some("03"), "district"),
            ("0001", Some("101"), "commune"),
            ("0002", Some("101"), "commune"),
            ("0003", Some("201"), "commune"),
            ("0004", Some("201"), "commune"),
            ("0005", Some("301"), "commune"),
            ("0006", Some("301"), "commune"),
            ("0007", Some("302"), "commune"),
            ("0008", Some("302"), "commune"),
        ]
    } else {
        vec![
            vn,
            ("01", Some("VN"), "province"),
            ("03", Some("VN"), "province"),
            ("9001", Some("01"), "commune"),
            ("0003", Some("01"), "commune"),
            ("9004", Some("01"), "commune"),
            ("9005", Some("01"), "commune"),
            ("0005", Some("03"), "commune"),
            ("0006", Some("03"), "commune"),
            ("0007", Some("03"), "commune"),
            ("0008", Some("03"), "commune"),
        ]
    }
}

/// A unit and its ancestors in an edition.
fn ancestors(edition: &str, unit: &str) -> Vec<&'static str> {
    let h = hierarchy(edition);
    let mut out = Vec::new();
    let mut at = h.iter().find(|(u, _, _)| *u == unit);
    while let Some((u, parent, _)) = at {
        out.push(*u);
        at = parent.and_then(|p| h.iter().find(|(u, _, _)| *u == p));
    }
    out
}

fn level_of(edition: &str, unit: &str) -> &'static str {
    hierarchy(edition)
        .into_iter()
        .find(|(u, _, _)| *u == unit)
        .map(|(_, _, l)| l)
        .unwrap()
}

/// One generated report: its values and when it was first received.
#[derive(Clone, Debug)]
struct Report {
    values: Vec<Option<String>>,
    /// The VN day it first arrived, relative to the commune's deadline:
    /// on time or one day late.
    late: bool,
}

type Reports = BTreeMap<(String, u32), Report>;

fn generate(seed: u64) -> (Reports, Vec<(String, u32, Vec<Option<String>>)>) {
    let mut rng = Rng(seed.max(1));
    let mut reports = Reports::new();
    let mut first_revisions = Vec::new();
    for month in 1..=12u32 {
        for (unit, _, level) in hierarchy(edition_of(month)) {
            // 0007 never reports; others skip a month now and then.
            if level != "commune" || unit == "0007" || rng.chance(15) {
                continue;
            }
            let mut values = Vec::new();
            for (_, _, _, scale) in CELLS {
                if rng.chance(15) {
                    values.push(None);
                    continue;
                }
                let n = rng.below(2001) as i64 - 200;
                let v = match scale {
                    0 => n.to_string(),
                    s => {
                        let frac = rng.below(10u64.pow(*s));
                        let sign = if n < 0 { "-" } else { "" };
                        format!("{sign}{}.{frac:0w$}", n.abs(), w = *s as usize)
                    }
                };
                values.push(Some(v));
            }
            // A zero now and then, so that the ratio divides by zero.
            if rng.chance(10) {
                values[2] = Some("0".into());
            }
            let late = rng.chance(25);
            // Some reports are corrected later: the first revision holds
            // other values, the correction the ones that count.
            if rng.chance(20) {
                let wrong = values
                    .iter()
                    .map(|v| v.as_ref().map(|_| "1".to_string()))
                    .collect();
                first_revisions.push((unit.to_string(), month, wrong));
            }
            reports.insert((unit.to_string(), month), Report { values, late });
        }
    }
    (reports, first_revisions)
}

fn csv_of<'a>(rows: impl Iterator<Item = (&'a str, u32, &'a [Option<String>])>) -> String {
    let mut csv = String::from("unit,period,form,record,cell,value\n");
    for (unit, month, values) in rows {
        for ((cell, ..), v) in CELLS.iter().zip(values) {
            if let Some(v) = v {
                writeln!(csv, "{unit},2025-{month:02},B01,,{cell},{v}").unwrap();
            }
        }
    }
    csv
}

/// The commune's deadline: 5 calendar days after the month's last day.
fn commune_due(month: u32) -> chrono::NaiveDate {
    let last = if month == 12 {
        chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
    } else {
        chrono::NaiveDate::from_ymd_opt(2025, month + 1, 1)
            .unwrap()
            .pred_opt()
            .unwrap()
    };
    last + chrono::Days::new(5)
}

/// Imports the reports: first revisions, then the reports as they count,
/// each batch with its own submission time. On time means 23:59 in Vietnam
/// on the deadline (16:59 UTC); late means midnight after it.
fn import(conn: &mut Conn, reports: &Reports, first: &[(String, u32, Vec<Option<String>>)]) {
    let (_, lib) = lib();
    let r = regime();
    let mut batches: BTreeMap<(u8, u32, bool), Vec<(&str, u32, &[Option<String>])>> =
        BTreeMap::new();
    for (unit, month, values) in first {
        let late = reports[&(unit.clone(), *month)].late;
        batches
            .entry((0, *month, late))
            .or_default()
            .push((unit, *month, values));
    }
    for ((unit, month), rep) in reports {
        // A corrected report's second revision arrives two months later;
        // it is received when its first revision was.
        let corrected = first.iter().any(|(u, m, _)| u == unit && m == month);
        batches
            .entry((u8::from(corrected), *month, rep.late))
            .or_default()
            .push((unit, *month, &rep.values));
    }
    for ((stage, month, late), rows) in batches {
        let mut ctx = Context::new(lib, r);
        let mut reader = Reader::default();
        reader.read_csv(&mut ctx, "rollup.csv", csv_of(rows.into_iter()).as_bytes());
        assert!(reader.errors.is_empty(), "{:?}", reader.errors);
        let due = commune_due(month);
        let now = match (stage, late) {
            // A correction arrives two months later; the report was
            // received when its first revision was.
            (1, _) => format!("{}T10:00:00Z", due + chrono::Days::new(60)),
            (_, true) => format!("{due}T17:00:00Z"),
            (_, false) => format!("{due}T16:59:00Z"),
        };
        let subs: Vec<&regc::submission::Submission> = reader.submissions.values().collect();
        let opts = regc::db::import::Options {
            status: "submitted".into(),
            submitter: None,
            now,
            ..Default::default()
        };
        regc::db::import::import(conn, lib, r, &ctx.layout, &subs, &opts).unwrap();
    }
}

fn lib() -> &'static (regc::source::SourceMap, regc::ir::Library) {
    static LIB: std::sync::OnceLock<(regc::source::SourceMap, regc::ir::Library)> =
        std::sync::OnceLock::new();
    LIB.get_or_init(|| {
        let sources =
            regc::source::load_library(&common::repo().join("tests/fixtures/rollup")).unwrap();
        let c = regc::compile(&sources);
        assert!(!c.has_errors(), "the fixture compiles");
        (sources, c.library)
    })
}

fn regime() -> &'static regc::ir::Regime {
    lib()
        .1
        .regimes
        .iter()
        .find(|r| r.code == "test.rollup")
        .unwrap()
}

/// A roll-up row: (frequency, period, edition, unit) → (level, reporters,
/// values × 10^20 of every cell, the ratio last).
type Key = (String, String, String, String);
type Row = (String, i64, Vec<Option<BigInt>>);

fn time_agg(func: &str, series: &[(u32, BigInt)], base: bool) -> Option<BigInt> {
    // `series`: (month, value) of the reported values, by month.
    match func {
        "sum" => (!series.is_empty()).then(|| series.iter().map(|(_, v)| v).sum()),
        "average" => {
            let total: BigInt = series.iter().map(|(_, v)| v).sum();
            div(&total, &(BigInt::from(series.len()) * ten(SCALE)))
        }
        "min" => series.iter().map(|(_, v)| v.clone()).min(),
        "max" => series.iter().map(|(_, v)| v.clone()).max(),
        "last" => series
            .iter()
            .max_by_key(|(m, _)| *m)
            .map(|(_, v)| v.clone()),
        "first" => series
            .iter()
            .min_by_key(|(m, _)| *m)
            .map(|(_, v)| v.clone()),
        "none" => base
            .then(|| series.first().map(|(_, v)| v.clone()))
            .flatten(),
        other => panic!("{other}"),
    }
}

fn units_agg(
    func: &str,
    values: &[Option<BigInt>],
    own: Option<&Option<BigInt>>,
) -> Option<BigInt> {
    let present: Vec<&BigInt> = values.iter().flatten().collect();
    match func {
        "sum" => (!present.is_empty()).then(|| present.iter().copied().sum()),
        "average" => {
            let total: BigInt = present.iter().copied().sum();
            div(&total, &(BigInt::from(present.len()) * ten(SCALE)))
        }
        "min" => present.iter().copied().min().cloned(),
        "max" => present.iter().copied().max().cloned(),
        "count" => Some(BigInt::from(present.len()) * ten(SCALE)),
        "none" => own.cloned().flatten(),
        other => panic!("{other}"),
    }
}

/// The months of a roll-up period of 2025.
fn months_of(freq: &str, period: &str) -> Vec<u32> {
    (1..=12u32)
        .filter(|m| {
            rollups_of(*m)
                .iter()
                .any(|(f, p)| *f == freq && p == period)
        })
        .collect()
}

/// The period before a roll-up period of 2025 (none before 2025's first).
fn previous_of(freq: &str, period: &str) -> Option<String> {
    let n: u32 = period
        .get(5..)
        .map(|x| x.trim_start_matches(['Q', 'H']))
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    match freq {
        "monthly" if n > 1 => Some(format!("2025-{:02}", n - 1)),
        "quarterly" if n > 1 => Some(format!("2025-Q{}", n - 1)),
        "six_monthly" if n > 1 => Some("2025-H1".into()),
        _ => None,
    }
}

fn oracle_rollups(reports: &Reports) -> BTreeMap<Key, Row> {
    let mut rows = oracle_aggregates(reports);
    // ytd = sum(ss over year_to_date): each reporter's ss summed over the
    // months of the year up to the period's end reported under the row's
    // edition, then summed over the reporters below the unit.
    let keys: Vec<Key> = rows.keys().cloned().collect();
    for key in &keys {
        let (freq, period, edition, unit) = key;
        let end = months_of(freq, period).into_iter().max().unwrap();
        let mut per_reporter: BTreeMap<&str, Option<BigInt>> = BTreeMap::new();
        for ((u, m), rep) in reports {
            if *m > end
                || edition_of(*m) != edition
                || !ancestors(edition, u).contains(&unit.as_str())
            {
                continue;
            }
            let slot = per_reporter.entry(u.as_str()).or_insert(None);
            if let Some(v) = rep.values[0].as_deref().map(fixed) {
                *slot = Some(slot.take().unwrap_or_default() + v);
            }
        }
        let vals: Vec<Option<BigInt>> = per_reporter.into_values().collect();
        let ytd = units_agg("sum", &vals, None);
        // prev = ss@previous: the same unit's row in the period before,
        // under the edition in force at that period's end.
        let prev = previous_of(freq, period).and_then(|p| {
            let e = edition_of(months_of(freq, &p).into_iter().max().unwrap());
            rows.get(&(freq.clone(), p, e.to_string(), unit.clone()))
                .and_then(|(_, _, v)| v[0].clone())
        });
        let row = rows.get_mut(key).unwrap();
        let growth = match (&row.2[0], &prev) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        };
        row.2.extend([ytd, prev, growth]);
    }
    rows
}

fn oracle_aggregates(reports: &Reports) -> BTreeMap<Key, Row> {
    // Each reporter's values per roll-up period and edition.
    let mut series: BTreeMap<(String, String, String, String), Vec<(u32, Vec<Option<BigInt>>)>> =
        BTreeMap::new();
    for ((unit, month), rep) in reports {
        let values: Vec<Option<BigInt>> =
            rep.values.iter().map(|v| v.as_deref().map(fixed)).collect();
        for (freq, period) in rollups_of(*month) {
            series
                .entry((
                    freq.to_string(),
                    period,
                    edition_of(*month).to_string(),
                    unit.clone(),
                ))
                .or_default()
                .push((*month, values.clone()));
        }
    }
    let by_reporter: BTreeMap<_, Vec<Option<BigInt>>> = series
        .iter()
        .map(|(key, months)| {
            let values = CELLS
                .iter()
                .enumerate()
                .map(|(i, (_, _, time, _))| {
                    let s: Vec<(u32, BigInt)> = months
                        .iter()
                        .filter_map(|(m, vs)| vs[i].clone().map(|v| (*m, v)))
                        .collect();
                    time_agg(time, &s, key.0 == "monthly")
                })
                .collect();
            (key.clone(), values)
        })
        .collect();
    // Every unit above (and at) each reporter.
    let mut groups: BTreeMap<Key, Vec<(&str, &Vec<Option<BigInt>>)>> = BTreeMap::new();
    for ((freq, period, edition, unit), values) in &by_reporter {
        for a in ancestors(edition, unit) {
            groups
                .entry((freq.clone(), period.clone(), edition.clone(), a.to_string()))
                .or_default()
                .push((unit.as_str(), values));
        }
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let mut values: Vec<Option<BigInt>> = CELLS
                .iter()
                .enumerate()
                .map(|(i, (_, units, _, _))| {
                    let vals: Vec<Option<BigInt>> =
                        members.iter().map(|(_, v)| v[i].clone()).collect();
                    let own = members
                        .iter()
                        .find(|(u, _)| *u == key.3)
                        .map(|(_, v)| &v[i]);
                    units_agg(units, &vals, own)
                })
                .collect();
            // ratio = ss / as_
            let ratio = match (&values[0], &values[2]) {
                (Some(a), Some(b)) => div(a, b),
                _ => None,
            };
            values.push(ratio);
            let level = level_of(&key.2, &key.3).to_string();
            (key, (level, members.len() as i64, values))
        })
        .collect()
}

/// The comparable series over the 2025 edition: a commune that went whole
/// into one new commune is that commune (0001 and 0002 are 9001, their
/// values combined per month with the cell's units aggregation, `count` and
/// `none` by the greatest); 0004, split, stays itself under the units that
/// hold both its successors (province 01 and VN). Computed cells reading
/// other periods are null there.
fn oracle_comparable(reports: &Reports) -> BTreeMap<Key, Row> {
    fn identity(u: &str) -> &str {
        match u {
            "0001" | "0002" => "9001",
            other => other,
        }
    }
    let placed = |id: &str| -> Vec<&'static str> {
        if id == "0004" {
            vec!["01", "VN"]
        } else {
            ancestors("2025", id)
        }
    };
    // Per month and identity: the predecessors' values combined.
    let mut combined: BTreeMap<(u32, String), Vec<Vec<Option<BigInt>>>> = BTreeMap::new();
    for ((unit, month), rep) in reports {
        combined
            .entry((*month, identity(unit).to_string()))
            .or_default()
            .push(rep.values.iter().map(|v| v.as_deref().map(fixed)).collect());
    }
    let mut series: BTreeMap<(String, String, String), Vec<(u32, Vec<Option<BigInt>>)>> =
        BTreeMap::new();
    for ((month, id), preds) in &combined {
        let values: Vec<Option<BigInt>> = CELLS
            .iter()
            .enumerate()
            .map(|(i, (_, units, _, _))| {
                let vals: Vec<Option<BigInt>> = preds.iter().map(|p| p[i].clone()).collect();
                match *units {
                    "count" | "none" => vals.iter().flatten().max().cloned(),
                    u => units_agg(u, &vals, None),
                }
            })
            .collect();
        for (freq, period) in rollups_of(*month) {
            series
                .entry((freq.to_string(), period, id.clone()))
                .or_default()
                .push((*month, values.clone()));
        }
    }
    let mut groups: BTreeMap<Key, Vec<(String, Vec<Option<BigInt>>)>> = BTreeMap::new();
    for ((freq, period, id), months) in &series {
        let values: Vec<Option<BigInt>> = CELLS
            .iter()
            .enumerate()
            .map(|(i, (_, _, time, _))| {
                let s: Vec<(u32, BigInt)> = months
                    .iter()
                    .filter_map(|(m, vs)| vs[i].clone().map(|v| (*m, v)))
                    .collect();
                time_agg(time, &s, freq == "monthly")
            })
            .collect();
        for a in placed(id) {
            groups
                .entry((freq.clone(), period.clone(), "2025".into(), a.to_string()))
                .or_default()
                .push((id.clone(), values.clone()));
        }
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let mut values: Vec<Option<BigInt>> = CELLS
                .iter()
                .enumerate()
                .map(|(i, (_, units, _, _))| {
                    let vals: Vec<Option<BigInt>> =
                        members.iter().map(|(_, v)| v[i].clone()).collect();
                    let own = members
                        .iter()
                        .find(|(u, _)| *u == key.3)
                        .map(|(_, v)| &v[i]);
                    units_agg(units, &vals, own)
                })
                .collect();
            let ratio = match (&values[0], &values[2]) {
                (Some(a), Some(b)) => div(a, b),
                _ => None,
            };
            values.extend([ratio, None, None, None]);
            let level = level_of("2025", &key.3).to_string();
            (key, (level, members.len() as i64, values))
        })
        .collect()
}

/// (period, edition, unit, level) → (expected, received, on time).
type Done = BTreeMap<(String, String, String, String), (i64, i64, i64)>;

/// Reports forwarded by provinces (the flow's second level), each on time
/// or a minute late against the province's own deadline: (province, month)
/// → late.
fn forwarded(seed: u64) -> BTreeMap<(String, u32), bool> {
    let mut rng = Rng(seed * 7 + 3);
    let mut out = BTreeMap::new();
    for month in 1..=12u32 {
        for (unit, _, level) in hierarchy(edition_of(month)) {
            if level == "province" && rng.chance(70) {
                out.insert((unit.to_string(), month), rng.chance(30));
            }
        }
    }
    out
}

/// Imports the forwarded reports (a total only), at 23:59 or 00:00 in
/// Vietnam on the province's deadline, 10 days after the month's end.
fn import_forwarded(conn: &mut Conn, fw: &BTreeMap<(String, u32), bool>) {
    let (_, lib) = lib();
    let r = regime();
    for late in [false, true] {
        for month in 1..=12u32 {
            let mut csv = String::from("unit,period,form,record,cell,value\n");
            let mut any = false;
            for ((unit, m), l) in fw {
                if *m == month && *l == late {
                    writeln!(csv, "{unit},2025-{month:02},B01,,ss,{}", 1000 + month).unwrap();
                    any = true;
                }
            }
            if !any {
                continue;
            }
            let mut ctx = Context::new(lib, r);
            let mut reader = Reader::default();
            reader.read_csv(&mut ctx, "forwarded.csv", csv.as_bytes());
            assert!(reader.errors.is_empty(), "{:?}", reader.errors);
            let due = commune_due(month) + chrono::Days::new(5);
            let now = if late {
                format!("{due}T17:00:00Z")
            } else {
                format!("{due}T16:59:00Z")
            };
            let subs: Vec<&regc::submission::Submission> = reader.submissions.values().collect();
            let opts = regc::db::import::Options {
                status: "submitted".into(),
                submitter: None,
                now,
                ..Default::default()
            };
            regc::db::import::import(conn, lib, r, &ctx.layout, &subs, &opts).unwrap();
        }
    }
}

fn oracle_completeness(reports: &Reports, fw: &BTreeMap<(String, u32), bool>) -> Done {
    let mut out = Done::new();
    for month in 1..=12u32 {
        let e = edition_of(month);
        for (unit, _, level) in hierarchy(e) {
            if level != "commune" && level != "province" {
                continue;
            }
            // Communes report; provinces forward, against their own deadline.
            let late = match level {
                "commune" => reports.get(&(unit.to_string(), month)).map(|r| r.late),
                _ => fw.get(&(unit.to_string(), month)).copied(),
            };
            for a in ancestors(e, unit) {
                let entry = out
                    .entry((
                        format!("2025-{month:02}"),
                        e.to_string(),
                        a.to_string(),
                        level.to_string(),
                    ))
                    .or_insert((0, 0, 0));
                entry.0 += 1;
                if let Some(late) = late {
                    entry.1 += 1;
                    if !late {
                        entry.2 += 1;
                    }
                }
            }
        }
    }
    out
}

fn read_rollups(conn: &mut Conn) -> BTreeMap<Key, Row> {
    read_series(conn, false)
}

fn read_series(conn: &mut Conn, comparable: bool) -> BTreeMap<Key, Row> {
    let q = regc::db::rollup::Query {
        comparable,
        ..Default::default()
    };
    let rows = regc::db::rollup::rollups(conn, regime(), &q).unwrap();
    let mut out = BTreeMap::new();
    for r in &rows[0].rows {
        let values = r.values.iter().map(|v| v.as_deref().map(fixed)).collect();
        out.insert(
            (
                r.frequency.clone(),
                r.period.clone(),
                r.edition.clone(),
                r.unit.clone(),
            ),
            (r.level.clone(), r.reporters, values),
        );
    }
    out
}

fn read_completeness(conn: &mut Conn) -> Done {
    let rows = regc::db::rollup::completeness(conn, regime(), &Default::default()).unwrap();
    rows.into_iter()
        .map(|r| {
            // The percentages are the counts' exact ratios, rounded.
            let pct = |n: i64| {
                let q = div(
                    &(BigInt::from(n) * ten(SCALE) * 100),
                    &(BigInt::from(r.expected) * ten(SCALE)),
                )
                .unwrap();
                // to 2 digits, half away from zero
                let unit = ten(SCALE - 2);
                let r2: BigInt = (q.abs() * 2 + &unit) / (&unit * 2) * &unit;
                if q.is_negative() { -r2 } else { r2 }
            };
            assert_eq!(fixed(&r.received_pct), pct(r.received), "{r:?}");
            assert_eq!(fixed(&r.on_time_pct), pct(r.on_time), "{r:?}");
            (
                (r.period, r.edition, r.unit, r.level),
                (r.expected, r.received, r.on_time),
            )
        })
        .collect()
}

fn explain<K: std::fmt::Debug + Ord, V: std::fmt::Debug + PartialEq>(
    engine: &str,
    seed: u64,
    want: &BTreeMap<K, V>,
    got: &BTreeMap<K, V>,
) -> String {
    let mut s = format!("seed {seed}: {engine} differs from the oracle\n");
    let keys: BTreeSet<&K> = want.keys().chain(got.keys()).collect();
    for k in keys
        .into_iter()
        .filter(|k| want.get(k) != got.get(k))
        .take(10)
    {
        writeln!(
            s,
            "{k:?}\n  oracle: {:?}\n  {engine}: {:?}",
            want.get(k),
            got.get(k)
        )
        .unwrap();
    }
    s
}

fn engines(tag: &str) -> (Vec<(&'static str, Conn)>, Option<common::PgSchema>) {
    let mut out = vec![(
        "sqlite",
        Conn::open(&Target::Sqlite(":memory:".into())).unwrap(),
    )];
    let pg = common::PgSchema::new(tag);
    if let Some(pg) = &pg {
        out.push((
            "postgres",
            Conn::open(&Target::parse(&pg.url).unwrap()).unwrap(),
        ));
    }
    (out, pg)
}

#[test]
fn rollups_and_completeness_equal_the_oracle_on_both_engines() {
    let seeds: Vec<u64> = match std::env::var("REGC_ROLLUP_SEED") {
        Ok(s) => vec![s.parse().unwrap()],
        Err(_) => vec![1, 2, 3],
    };
    for seed in seeds {
        let (reports, first) = generate(seed);
        let want = oracle_rollups(&reports);
        let fw = forwarded(seed);
        let want_done = oracle_completeness(&reports, &fw);
        let (conns, _pg) = engines("rollup");
        for (name, mut conn) in conns {
            import(&mut conn, &reports, &first);
            // Forwarded reports count for completeness, never in roll-ups.
            import_forwarded(&mut conn, &fw);
            let r = regime();
            regc::db::rollup::apply_views(&mut conn, r, &regc::layout::regime(r)).unwrap();
            let got = read_rollups(&mut conn);
            assert!(want == got, "{}", explain(name, seed, &want, &got));
            let done = read_completeness(&mut conn);
            assert!(
                want_done == done,
                "{}",
                explain(name, seed, &want_done, &done)
            );
            let want_cmp = oracle_comparable(&reports);
            let cmp = read_series(&mut conn, true);
            assert!(
                want_cmp == cmp,
                "comparable: {}",
                explain(name, seed, &want_cmp, &cmp)
            );
        }
    }
}

/// Hand-computed roll-ups of two communes of province 03 (edition 2025)
/// over July and August 2025: every aggregation type, a missing value, a
/// month without a report.
#[test]
fn golden_rollups_computed_by_hand() {
    let csv = "unit,period,form,record,cell,value
0005,2025-07,B01,,ss,10
0005,2025-07,B01,,sa,1.50
0005,2025-07,B01,,as_,4
0005,2025-07,B01,,nx,2.5
0005,2025-07,B01,,xn,7
0005,2025-07,B01,,cl,3
0005,2025-07,B01,,sf,5
0005,2025-07,B01,,sl,100
0005,2025-07,B01,,nn,9
0005,2025-08,B01,,ss,20
0005,2025-08,B01,,sa,2.25
0005,2025-08,B01,,as_,6
0005,2025-08,B01,,nx,1.5
0005,2025-08,B01,,xn,4
0005,2025-08,B01,,sf,6
0005,2025-08,B01,,nn,8
0006,2025-07,B01,,ss,1
0006,2025-07,B01,,sa,0.10
0006,2025-07,B01,,as_,1
0006,2025-07,B01,,nx,-3.0
0006,2025-07,B01,,xn,9
0006,2025-07,B01,,cl,1
0006,2025-07,B01,,sl,50
0006,2025-07,B01,,nn,7
";
    // (frequency, period, unit) → reporters and the cells
    // ss sa as_ nx xn cl sf sl nn ratio ytd prev growth, as text ("" for
    // null). The year to date counts the months reported under the row's
    // edition; the period before July 2025 is of the 2024 edition, where
    // these communes did not report.
    #[rustfmt::skip]
    let want: &[(&str, &str, &str, i64, [&str; 13])] = &[
        // Q3: 0005 over time: ss 10+20, sa (1.50+2.25)/2, as_ 4+6, nx
        // max(2.5, 1.5), xn min(7, 4), cl last reported (July: August is
        // blank), sf first, sl last reported, nn only monthly.
        ("quarterly", "2025-Q3", "0005", 1, ["30", "1.875", "10", "2.5", "4", "1", "5", "100", "", "3", "30", "", ""]),
        ("quarterly", "2025-Q3", "0006", 1, ["1", "0.1", "1", "-3", "9", "1", "", "50", "", "1", "1", "", ""]),
        // Province 03: ss 30+1, sa 1.875+0.1, as_ (10+1)/2, nx min, xn
        // max, cl counts 2 values, sf 5 (0006 has none), sl 100+50, ratio
        // 31/5.5 rounded half away from zero at 20 digits.
        ("quarterly", "2025-Q3", "03", 2, ["31", "1.975", "5.5", "-3", "9", "2", "5", "150", "", "5.63636363636363636364", "31", "", ""]),
        // August: only 0005 reported; cl and sl are blank there. The year
        // to date adds July (10 + 1); the previous period is July's row.
        ("monthly", "2025-08", "03", 1, ["20", "2.25", "6", "1.5", "4", "0", "6", "", "", "3.33333333333333333333", "31", "11", "9"]),
        ("monthly", "2025-08", "0005", 1, ["20", "2.25", "6", "1.5", "4", "0", "6", "", "8", "3.33333333333333333333", "30", "10", "10"]),
        ("monthly", "2025-07", "0006", 1, ["1", "0.1", "1", "-3", "9", "1", "", "50", "7", "1", "1", "", ""]),
        ("monthly", "2025-07", "03", 2, ["11", "1.6", "2.5", "-3", "9", "2", "5", "150", "", "4.4", "11", "", ""]),
    ];
    let (_, lib) = lib();
    let r = regime();
    let (conns, _pg) = engines("rollup_golden");
    for (name, mut conn) in conns {
        let mut ctx = Context::new(lib, r);
        let mut reader = Reader::default();
        reader.read_csv(&mut ctx, "golden.csv", csv.as_bytes());
        assert!(reader.errors.is_empty(), "{:?}", reader.errors);
        let subs: Vec<&regc::submission::Submission> = reader.submissions.values().collect();
        let opts = regc::db::import::Options {
            status: "approved".into(),
            submitter: None,
            now: "2025-09-01T00:00:00Z".into(),
            ..Default::default()
        };
        regc::db::import::import(&mut conn, lib, r, &ctx.layout, &subs, &opts).unwrap();
        regc::db::rollup::apply_views(&mut conn, r, &ctx.layout).unwrap();
        let got = regc::db::rollup::rollups(&mut conn, r, &Default::default()).unwrap();
        for (freq, period, unit, reporters, cells) in want {
            let row = got[0]
                .rows
                .iter()
                .find(|x| x.frequency == *freq && x.period == *period && x.unit == *unit)
                .unwrap_or_else(|| panic!("{name}: no row {freq} {period} {unit}"));
            assert_eq!(row.edition, "2025", "{name}");
            assert_eq!(row.reporters, *reporters, "{name}: {freq} {period} {unit}");
            let values: Vec<String> = row
                .values
                .iter()
                .map(|v| v.clone().unwrap_or_default())
                .collect();
            assert_eq!(values, cells.to_vec(), "{name}: {freq} {period} {unit}");
        }
    }
}

fn source2() -> &'static regc::ir::Regime {
    lib()
        .1
        .regimes
        .iter()
        .find(|r| r.code == "test.source2")
        .unwrap()
}

/// test.rollup's reconciliation C01 (the communes' total `ss` against the
/// province's own report in test.source2, 10 % at province level): the
/// failing (unit, period) pairs on both engines are exactly those where
/// the oracle's province total and the second source differ by more than
/// 10 % of the larger.
#[test]
fn reconciliations_equal_the_oracle_on_both_engines() {
    let seed = 7;
    let (reports, first) = generate(seed);
    let want_rows = oracle_rollups(&reports);
    let mut rng = Rng(seed * 31 + 1);
    let mut csv = String::from("unit,period,form,record,cell,value\n");
    let mut second: BTreeMap<(String, u32), BigInt> = BTreeMap::new();
    for month in 1..=12u32 {
        for (unit, _, level) in hierarchy(edition_of(month)) {
            if level != "province" || rng.chance(20) {
                continue;
            }
            let own = want_rows
                .get(&(
                    "monthly".to_string(),
                    format!("2025-{month:02}"),
                    edition_of(month).to_string(),
                    unit.to_string(),
                ))
                .and_then(|(_, _, v)| v[0].clone())
                .map(|v| v / ten(SCALE));
            // Equal, 5 % apart (within), 12 % apart (just outside), far.
            let v: BigInt = match (own, rng.below(5)) {
                (Some(x), 0) => x,
                (Some(x), 1) => x * 105 / 100,
                (Some(x), 2) => x * 112 / 100,
                (Some(x), 3) => x * 3 / 2 + 1,
                _ => BigInt::from(rng.below(3000)),
            };
            writeln!(csv, "{unit},2025-{month:02},B01,,total,{v}").unwrap();
            second.insert((unit.to_string(), month), v);
        }
    }
    let mut want = BTreeSet::new();
    for ((freq, period, edition, unit), (level, _, values)) in &want_rows {
        if freq != "monthly" || level != "province" {
            continue;
        }
        let month: u32 = period[5..].parse().unwrap();
        let (Some(a), Some(b)) = (&values[0], second.get(&(unit.clone(), month))) else {
            continue;
        };
        let b = b * ten(SCALE);
        let larger = a.abs().max(b.abs());
        if (a - &b).abs() * 10 > larger {
            want.insert((unit.clone(), period.clone(), edition.clone()));
        }
    }
    assert!(want.len() >= 3, "the data make some reconciliations fail");
    let (_, lib) = lib();
    let (conns, _pg) = engines("reconcile");
    for (name, mut conn) in conns {
        import(&mut conn, &reports, &first);
        let mut ctx = Context::new(lib, source2());
        let mut reader = Reader::default();
        reader.read_csv(&mut ctx, "source2.csv", csv.as_bytes());
        assert!(reader.errors.is_empty(), "{:?}", reader.errors);
        let subs: Vec<&regc::submission::Submission> = reader.submissions.values().collect();
        let opts = regc::db::import::Options {
            status: "submitted".into(),
            submitter: None,
            now: "2026-01-20T00:00:00Z".into(),
            ..Default::default()
        };
        regc::db::import::import(&mut conn, lib, source2(), &ctx.layout, &subs, &opts).unwrap();
        let r = regime();
        let layout = regc::layout::regime(r);
        regc::db::rollup::apply_views(&mut conn, r, &layout).unwrap();
        regc::db::rollup::apply_reconcile(&mut conn, lib, r, &layout).unwrap();
        let rows = regc::db::rollup::reconciliations(&mut conn, r, &Default::default()).unwrap();
        let got: BTreeSet<(String, String, String)> = rows
            .iter()
            .map(|x| (x.unit.clone(), x.period.clone(), x.edition.clone()))
            .collect();
        assert_eq!(got, want, "{name}");
        for x in &rows {
            let month: u32 = x.period[5..].parse().unwrap();
            let b = &second[&(x.unit.clone(), month)];
            assert!(
                x.message
                    .ends_with(&format!("khớp với báo cáo của tỉnh ({b})")),
                "{name}: {}",
                x.message
            );
            assert_eq!(
                (x.rule.as_str(), x.severity.as_str(), x.level.as_str()),
                ("C01", "warning", "province")
            );
        }
    }
}
