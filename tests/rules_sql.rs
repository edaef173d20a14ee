//! The SQL evaluators: `rules.{postgres,sqlite}.sql` list, in stored
//! submissions, exactly the violations the Rust evaluator finds in the same
//! data (every field: unit, period, form, record, cell, rule, kind,
//! severity, message).

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::db::{Conn, Target};
use regc::sql::Dialect;
use regc::submission::{Context, Reader};

/// A violation as a comparable tuple.
type Row = (
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    String,
);

fn rust_rows(report: &regc::validate::Report) -> Vec<Row> {
    let mut rows: Vec<Row> = report
        .violations
        .iter()
        .map(|v| {
            (
                v.unit.clone(),
                v.period.clone(),
                v.form.clone(),
                v.record.map(i64::from),
                v.cell.clone(),
                v.rule.clone(),
                v.kind.to_string(),
                serde_json::to_value(v.severity)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
                v.message.clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn sql_rows(conn: &mut Conn, view: &str) -> Vec<Row> {
    let sql = format!(
        "SELECT \"unit\", \"period\", \"form\", CAST(\"record\" AS TEXT), \"cell\", \"rule\", \"kind\", \"severity\", \"message\" FROM {}",
        regc::sql::ident(view)
    );
    let mut rows: Vec<Row> = conn
        .query_text(&sql, &[])
        .unwrap()
        .into_iter()
        .map(|r| {
            let s = |i: usize| r[i].clone().unwrap_or_default();
            (
                s(0),
                s(1),
                s(2),
                r[3].as_ref().map(|x| x.parse().unwrap()),
                r[4].clone(),
                s(5),
                s(6),
                s(7),
                s(8),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Imports `files` into `conn`, applies the rules script, and compares
/// the view with the Rust evaluator over the same submissions.
fn compare(conn: &mut Conn, lib: &regc::ir::Library, regime: &str, files: &[std::path::PathBuf]) {
    let r = lib.regimes.iter().find(|r| r.code == regime).unwrap();
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::default();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        reader.read_csv(&mut ctx, &f.display().to_string(), text.as_bytes());
    }
    assert!(reader.errors.is_empty(), "{regime}: {:?}", reader.errors);
    let subs: Vec<&regc::submission::Submission> = reader.submissions.values().collect();
    let opts = regc::db::import::Options {
        status: "submitted".into(),
        submitter: None,
        now: "2025-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    regc::db::import::import(conn, lib, r, &ctx.layout, &subs, &opts).unwrap();
    let d = conn.dialect();
    let script = regc::emit::rules_sql::rules_sql(r, &ctx.layout, d).unwrap();
    conn.exec(&script)
        .unwrap_or_else(|e| panic!("{regime} ({}): {e}", d.name()));
    let mut store = regc::eval::Store::default();
    let mut targets = Vec::new();
    for s in reader.submissions.into_values() {
        targets.push((s.unit.clone(), s.period.clone()));
        store.insert(regime, s);
    }
    targets.sort();
    targets.dedup();
    let report = regc::validate::validate(r, &store, &targets, &[]);
    let want = rust_rows(&report);
    let got = sql_rows(conn, &regc::emit::rules_sql::view_name(r));
    assert_eq!(got, want, "{regime} on {}", d.name());
}

fn connections(tag: &str) -> Vec<(Conn, Option<common::PgSchema>)> {
    let mut out = vec![(
        Conn::open(&Target::Sqlite(":memory:".into())).unwrap(),
        None,
    )];
    if let Some(pg) = common::PgSchema::new(tag) {
        out.push((
            Conn::open(&Target::parse(&pg.url).unwrap()).unwrap(),
            Some(pg),
        ));
    }
    out
}

#[test]
fn the_samples_give_the_same_violations_in_sql_as_in_rust() {
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let mut regimes: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    regimes.sort();
    for (mut conn, _guard) in connections("rules_samples") {
        for regime in &regimes {
            // The invalid file is a correction of the valid one: its
            // revision is current, so the view sees the invalid data.
            compare(
                &mut conn,
                lib,
                regime,
                &[dir.join(regime).join("invalid.csv")],
            );
        }
        assert!(matches!(
            conn.dialect(),
            Dialect::Sqlite | Dialect::Postgres
        ));
    }
}

#[test]
fn the_golden_cases_give_the_same_violations_in_sql_as_in_rust() {
    let dir = common::repo().join("tests/fixtures/golden");
    let source = std::fs::read_to_string(dir.join("golden.regime")).unwrap();
    let sources = common::with_case("golden.regime", &source);
    let c = regc::compile(&sources);
    assert!(!c.has_errors());
    for (mut conn, _guard) in connections("rules_golden") {
        compare(
            &mut conn,
            &c.library,
            "test.golden",
            &[dir.join("golden.csv")],
        );
    }
}
