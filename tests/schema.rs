//! The database schemas of the whole library: every statement reads back
//! through sqlparser as written, and every script applies, twice, to a
//! fresh PostgreSQL schema and a fresh SQLite database.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::sql::{self, Dialect};

/// Every SQL file a build of the library writes, with its dialect, in the
/// order a pipeline applies them.
fn scripts() -> Vec<(String, Dialect, String)> {
    let (sources, lib) = common::library();
    let files = regc::cli::artifacts(lib, sources, None).unwrap();
    let mut out: Vec<(String, Dialect, String)> = files
        .into_iter()
        .filter_map(|(path, text)| {
            let d = if path.ends_with(".postgres.sql") {
                Dialect::Postgres
            } else if path.ends_with(".sqlite.sql") {
                Dialect::Sqlite
            } else {
                return None;
            };
            Some((path, d, text))
        })
        .collect();
    // Core first, then every regime's tables, then the views over them.
    // Reconciliations read other regimes' roll-ups: last.
    out.sort_by_key(|(p, _, _)| {
        (
            !p.starts_with("core."),
            p.contains("/rules.") || p.contains("/aggregate.") || p.contains("/reconcile."),
            p.contains("/reconcile."),
            p.clone(),
        )
    });
    out
}

/// `stmt` (ending with `;`) is a fixed point of regc's layout: laying it
/// out again changes nothing.
fn assert_laid_out(stmt: &str, at: &str) {
    let body = stmt
        .strip_suffix(';')
        .unwrap_or_else(|| panic!("{at}: no `;`"));
    assert_eq!(
        sql::layout(body).as_deref(),
        Ok(body),
        "{at}: laid out differently"
    );
}

#[test]
fn every_statement_parses_and_is_laid_out() {
    let scripts = scripts();
    // 19 regimes × (schema, rules, aggregate, reconcile) × 2 dialects + 2 core schemas.
    assert_eq!(scripts.len(), 154);
    let mut count = 0;
    for (path, d, text) in &scripts {
        let statements = sql::statements(text);
        assert!(!statements.is_empty(), "{path}: no statements");
        for (line, stmt) in statements {
            sql::parses(*d, &stmt)
                .unwrap_or_else(|e| panic!("{path}:{line}: does not parse: {e}\n{stmt}"));
            assert_laid_out(&stmt, &format!("{path}:{line}"));
            count += 1;
        }
    }
    assert!(count >= 190, "only {count} statements");
}

#[test]
fn schemas_apply_twice_to_sqlite() {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    for round in 0..2 {
        for (path, d, text) in scripts() {
            if d == Dialect::Sqlite {
                db.execute_batch(&text)
                    .unwrap_or_else(|e| panic!("round {round}: {path}: {e}"));
            }
        }
    }
    let tables: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE '%.B0_'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 34, "one table per form of the library");
    let fk_problems: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk_problems, 0);
}

#[test]
fn schemas_apply_twice_to_postgres() {
    let Some(schema) = common::PgSchema::new("schema") else {
        return;
    };
    let mut db = schema.client();
    for round in 0..2 {
        for (path, d, text) in scripts() {
            if d == Dialect::Postgres {
                db.batch_execute(&text)
                    .unwrap_or_else(|e| panic!("round {round}: {path}: {e}"));
            }
        }
    }
    let tables: i64 = db
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name LIKE '%.B0_'",
            &[&schema.name],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 34, "one table per form of the library");
}

// ---- random regimes ------------------------------------------------------

use proptest::prelude::*;

/// Names that stress the SQL side: keywords, the key columns of form
/// tables and views, names past PostgreSQL's 63 bytes (two of them alike
/// but for their end), and plain ones.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "select",
            "table",
            "user",
            "group_",
            "where",
            "status",
            "record",
            "unit",
            "period",
            "revision",
            "submission_id",
            "value",
            "check",
            "references",
            "primary",
            "cell",
        ])
        .prop_map(str::to_string),
        Just("a".repeat(70)),
        Just(format!("{}b", "a".repeat(69))),
        "[a-z][a-z0-9_]{0,12}",
    ]
}

fn cell_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("int".to_string()),
        (1u32..=38)
            .prop_flat_map(|p| (Just(p), 0..=p))
            .prop_map(|(p, s)| format!("decimal({p},{s})")),
        Just("money".to_string()),
        Just("percent".to_string()),
        (1u32..=100_000).prop_map(|n| format!("text({n})")),
        Just("date".to_string()),
        Just("bool".to_string()),
        Just("code countries".to_string()),
        Just("code ownership".to_string()),
        Just("int range 0..120".to_string()),
        Just("decimal(9,3) range -5.5..1000.125".to_string()),
    ]
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// A regime of one to three forms, grid or records, of random cells.
fn regime_text() -> impl Strategy<Value = String> {
    let form = (
        any::<bool>(),
        prop::collection::vec((name(), cell_type()), 1..12),
        prop::collection::vec(name(), 0..3),
    );
    prop::collection::vec(form, 1..4).prop_map(|forms| {
        let mut text = String::from(
            "use common.units\nuse common.codelists\n\nregime test.random {\n  title \"Ngẫu nhiên\"\n  basis \"-\"\n  owner \"-\"\n  version 1\n  kind periodic\n  frequency monthly\n  cutoff calendar\n  reporters province\n  flow province -> ministry\n  deadline province 5 days after cutoff, ministry 10 days after cutoff\n  method electronic\n",
        );
        for (i, (records, cells, columns)) in forms.into_iter().enumerate() {
            let mut seen = std::collections::BTreeSet::new();
            let cells: Vec<(String, String)> =
                cells.into_iter().filter(|(n, _)| seen.insert(n.clone())).collect();
            let columns = dedup(columns);
            if records {
                text.push_str(&format!("\n  form F{i} \"Biểu {i}\" records {{\n"));
                for (n, ty) in &cells {
                    text.push_str(&format!("    {n} \"Trường {n}\" : {ty}\n"));
                }
            } else {
                text.push_str(&format!("\n  form F{i} \"Biểu {i}\" {{\n"));
                // Columns hold the row's type; only numbers take columns.
                let numeric = columns.len() > 1;
                if numeric {
                    text.push_str("    columns {\n");
                    for c in &columns {
                        text.push_str(&format!("      {c} \"Cột {c}\" entered\n"));
                    }
                    text.push_str("    }\n");
                }
                text.push_str("    rows {\n");
                for (k, (n, ty)) in cells.iter().enumerate() {
                    let ty = if numeric && !(ty.starts_with("int") || ty.starts_with("decimal")) {
                        "int"
                    } else {
                        ty.as_str()
                    };
                    text.push_str(&format!("      {} {n} \"Dòng {n}\" : {ty}\n", k + 1));
                }
                text.push_str("    }\n");
            }
            text.push_str("  }\n");
        }
        text.push_str("}\n");
        text
    })
}

/// Applies the scripts of one compiled random regime to both engines.
fn apply_everywhere(lib: &regc::ir::Library, pg: Option<&mut postgres::Client>, pg_schema: &str) {
    let r = &lib.regimes[0];
    let layout = regc::layout::regime(r);
    let db = rusqlite::Connection::open_in_memory().unwrap();
    let mut pg = pg;
    for d in Dialect::ALL {
        let core = regc::emit::schema::core(lib, d).unwrap();
        let own = regc::emit::schema::regime(r, &layout, d).unwrap();
        for script in [&core, &own] {
            for (line, stmt) in sql::statements(script) {
                assert_eq!(sql::parses(d, &stmt), Ok(()), "line {line}");
                assert_laid_out(&stmt, &format!("line {line}"));
            }
        }
        match d {
            Dialect::Sqlite => {
                db.execute_batch(&core).unwrap();
                db.execute_batch(&own)
                    .unwrap_or_else(|e| panic!("{e}\n{own}"));
                db.execute_batch(&own).unwrap();
            }
            Dialect::Postgres => {
                if let Some(c) = pg.as_deref_mut() {
                    c.batch_execute(&format!(
                        "DROP SCHEMA IF EXISTS \"{pg_schema}\" CASCADE; CREATE SCHEMA \"{pg_schema}\"; SET search_path TO \"{pg_schema}\";"
                    ))
                    .unwrap();
                    c.batch_execute(&core).unwrap();
                    c.batch_execute(&own)
                        .unwrap_or_else(|e| panic!("{e}\n{own}"));
                    c.batch_execute(&own).unwrap();
                }
            }
        }
    }
}

#[test]
fn random_regimes_give_ddl_that_reads_back_and_runs_on_both_engines() {
    let schema = common::PgSchema::new("random");
    let pg = std::cell::RefCell::new(schema.as_ref().map(common::PgSchema::client));
    let pg_schema = schema
        .as_ref()
        .map_or(String::new(), |s| format!("{}_case", s.name));
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    runner
        .run(&regime_text(), |text| {
            let sources = common::with_case("random.regime", &text);
            let c = regc::compile(&sources);
            prop_assert!(
                !c.has_errors(),
                "the generator wrote an invalid regime:\n{text}\n{}",
                common::render_all(&c, &sources)
            );
            apply_everywhere(&c.library, pg.borrow_mut().as_mut(), &pg_schema);
            Ok(())
        })
        .unwrap();
    if let Some(c) = pg.borrow_mut().as_mut() {
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{pg_schema}\" CASCADE"));
    }
}

/// A form of 1,700 entered cells (past PostgreSQL's 1,600 columns) is
/// split into parts of 500 that PostgreSQL accepts, with a full row each.
#[test]
fn a_form_past_postgres_column_limit_is_split_into_parts() {
    let mut text = String::from(
        "use common.units\n\nregime test.big {\n  title \"Lớn\"\n  basis \"-\"\n  owner \"-\"\n  version 1\n  kind periodic\n  frequency annual\n  cutoff calendar\n  reporters province\n  flow province -> ministry\n  deadline province 5 days after cutoff, ministry 9 days after cutoff\n  method electronic\n  form B01 \"Biểu lớn\" {\n    rows {\n",
    );
    for i in 1..=1700 {
        text.push_str(&format!(
            "      {i} r{i} \"Chỉ tiêu {i}\" : decimal(18,2)\n"
        ));
    }
    text.push_str("    }\n  }\n}\n");
    let sources = common::with_case("big.regime", &text);
    let c = regc::compile(&sources);
    assert!(!c.has_errors(), "{}", common::render_all(&c, &sources));
    let r = &c.library.regimes[0];
    let layout = regc::layout::regime(r);
    let parts: Vec<usize> = layout.tables.iter().map(|t| t.columns.len()).collect();
    assert_eq!(parts, vec![500, 500, 500, 200]);
    assert_eq!(layout.tables[3].name, "test.big.B01#4");
    let Some(schema) = common::PgSchema::new("big") else {
        return;
    };
    let mut db = schema.client();
    db.batch_execute(&regc::emit::schema::core(&c.library, Dialect::Postgres).unwrap())
        .unwrap();
    db.batch_execute(&regc::emit::schema::regime(r, &layout, Dialect::Postgres).unwrap())
        .unwrap();
    // Every column of every part filled with the largest value it takes.
    db.batch_execute("INSERT INTO regc_regime VALUES ('test.big', 1, 'Lớn', 'annual', 'calendar', '-'); INSERT INTO regc_form VALUES ('test.big', 'B01', 'Biểu lớn', 'grid'); INSERT INTO regc_org_unit VALUES ('01', 'Hà Nội', 'province'); INSERT INTO regc_period VALUES ('test.big', '2025', 'annual', '2025-01-01', '2025-12-31'); INSERT INTO regc_submission (id, regime, regime_version, form, unit, period, revision, status, checksum) VALUES (1, 'test.big', 1, 'B01', '01', '2025', 1, 'submitted', '-');").unwrap();
    for t in &layout.tables {
        let cols: Vec<String> = t.columns.iter().map(|c| sql::ident(&c.name)).collect();
        let values = vec!["9999999999999999.99"; cols.len()].join(", ");
        db.batch_execute(&format!(
            "INSERT INTO {} (\"submission_id\", {}) VALUES (1, {values})",
            sql::ident(&t.name),
            cols.join(", ")
        ))
        .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    }
    let n: i64 = db
        .query_one("SELECT count(*) FROM \"test.big.B01#4.current\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}
