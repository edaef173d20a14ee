//! The database schemas of the whole library: every statement reads back
//! through sqlparser as written, and every script applies, twice, to a
//! fresh PostgreSQL schema and a fresh SQLite database.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::sql::{self, Dialect};

/// Every SQL file a build of the library writes, with its dialect, core
/// schema first.
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
    out.sort_by_key(|(p, _, _)| (!p.starts_with("core."), p.clone()));
    out
}

#[test]
fn every_statement_reads_back_as_written() {
    let scripts = scripts();
    // 19 regimes × 2 dialects + 2 core schemas.
    assert_eq!(scripts.len(), 40);
    let mut count = 0;
    for (path, d, text) in &scripts {
        let statements = sql::statements(text);
        assert!(!statements.is_empty(), "{path}: no statements");
        for (line, stmt) in statements {
            let again = sql::pretty(*d, &stmt)
                .unwrap_or_else(|e| panic!("{path}:{line}: does not parse: {e}\n{stmt}"));
            assert_eq!(again, stmt, "{path}:{line}: prints back differently");
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
