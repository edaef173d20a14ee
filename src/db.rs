//! Databases: opening SQLite (embedded, the default) or PostgreSQL, and
//! the few operations `regc import` needs, written once for both engines.
//! Bulk writes use `COPY … FROM STDIN` on PostgreSQL and one prepared
//! statement in one transaction on SQLite.

pub mod functions;
pub mod history;
pub mod import;
pub mod rollup;

use crate::sql::{Dialect, ident};
use std::collections::HashMap;
use std::path::PathBuf;

/// Where to write: `sqlite:PATH` (or a plain path) or `postgres://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

/// The database `regc import` writes when none is given.
pub const DEFAULT_DB: &str = "sqlite:regc.db";

impl Target {
    pub fn parse(text: &str) -> Result<Target, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Target::Postgres(text.to_string()));
        }
        let path = text.strip_prefix("sqlite:").unwrap_or(text);
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(format!(
                "`{text}` names no database: write sqlite:PATH or postgres://USER@HOST/DB"
            ));
        }
        if path.contains("://") {
            return Err(format!(
                "`{text}`: unknown kind of database; regc writes to sqlite:PATH or postgres://…"
            ));
        }
        Ok(Target::Sqlite(PathBuf::from(path)))
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Target::Sqlite(_) => Dialect::Sqlite,
            Target::Postgres(_) => Dialect::Postgres,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            // Never print a password.
            Target::Postgres(url) => match url.split_once('@') {
                Some((user, host)) if user.contains(':') && user.matches(':').count() > 1 => {
                    let user = user.rsplit_once(':').map_or(user, |(u, _)| u);
                    write!(f, "{user}:***@{host}")
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// A value bound into a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Null,
    Int(i64),
    /// Text, and on PostgreSQL also numbers, dates and timestamps in their
    /// text form (the server parses them by the column's type).
    Text(String),
    Bool(bool),
}

impl From<Option<String>> for SqlValue {
    fn from(v: Option<String>) -> Self {
        v.map_or(SqlValue::Null, SqlValue::Text)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

/// What to do with a row whose key exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict<'a> {
    /// Fail (the transaction is rolled back).
    Fail,
    /// Keep the existing row.
    Ignore(&'a [&'a str]),
    /// Overwrite the other columns of the existing row.
    Update(&'a [&'a str]),
}

/// The first key of regc's PostgreSQL advisory locks ("regc" in ASCII);
/// the second is a hash of the schema written to.
pub const PG_LOCK_CLASS: i32 = 0x7265_6763;

pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl Conn {
    /// Opens a database that must exist already (one only read, `validate
    /// --history`): SQLite would otherwise create an empty file for a
    /// mistyped path, and the rules would silently find no earlier period.
    pub fn open_existing(target: &Target) -> Result<Conn, String> {
        if let Target::Sqlite(path) = target
            && !path.is_file()
        {
            return Err(format!(
                "there is no database at {} (regc import creates one; is the path right?)",
                path.display()
            ));
        }
        Conn::open(target)
    }

    pub fn open(target: &Target) -> Result<Conn, String> {
        match target {
            Target::Sqlite(path) => {
                let c = rusqlite::Connection::open(path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                c.execute_batch("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                functions::register(&c).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(Conn::Sqlite(c))
            }
            Target::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
                .map(|c| Conn::Postgres(Box::new(c)))
                .map_err(|e| {
                    let cause = std::error::Error::source(&e)
                        .map(|s| format!(": {s}"))
                        .unwrap_or_default();
                    format!("cannot connect to {target}: {e}{cause}")
                }),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs statements (no results).
    pub fn exec(&mut self, sql: &str) -> Result<(), String> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(|e| e.to_string()),
            Conn::Postgres(c) => c.batch_execute(sql).map_err(pg_error),
        }
    }

    /// Starts the import's (or roll-up's) one transaction: on SQLite it
    /// takes the write lock at once; on PostgreSQL it first takes regc's
    /// advisory lock of the schema, held to the end of the transaction, so
    /// that two imports into one schema never apply its DDL at the same
    /// time (which PostgreSQL refuses with "tuple concurrently updated" or
    /// a duplicate `pg_type` row): the second waits, then finds the schema
    /// there. Submissions are locked against other writers as well (ids are
    /// numbered by the importer).
    pub fn begin(&mut self) -> Result<(), String> {
        match self {
            Conn::Sqlite(_) => self.exec("BEGIN IMMEDIATE"),
            Conn::Postgres(_) => self.exec(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({PG_LOCK_CLASS}, hashtext(coalesce(current_schema(), '')))"
            )),
        }
    }

    pub fn commit(&mut self) -> Result<(), String> {
        self.exec("COMMIT")
    }

    pub fn rollback(&mut self) {
        // Best effort: a failed connection rolls back by itself.
        let _ = self.exec("ROLLBACK");
    }

    /// Whether a table (or view) exists.
    pub fn has_table(&mut self, name: &str) -> Result<bool, String> {
        match self {
            Conn::Sqlite(c) => c
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name = ?1",
                    [name],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n > 0)
                .map_err(|e| e.to_string()),
            Conn::Postgres(c) => c
                .query_one("SELECT to_regclass(quote_ident($1)) IS NOT NULL", &[&name])
                .map(|r| r.get::<_, bool>(0))
                .map_err(pg_error),
        }
    }

    /// The rows of a query whose columns are all text (cast them), with
    /// text parameters.
    pub fn query_text(
        &mut self,
        sql: &str,
        params: &[&str],
    ) -> Result<Vec<Vec<Option<String>>>, String> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare(sql).map_err(|e| e.to_string())?;
                let n = st.column_count();
                let rows = st
                    .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                        (0..n)
                            .map(|i| r.get::<_, Option<String>>(i))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .map_err(|e| e.to_string())?;
                rows.collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())
            }
            Conn::Postgres(c) => {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = c.query(sql, &params).map_err(pg_error)?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.get::<_, Option<String>>(i))
                            .collect()
                    })
                    .collect())
            }
        }
    }

    /// Writes rows into `table`.
    pub fn write_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[Vec<SqlValue>],
        conflict: Conflict,
    ) -> Result<(), String> {
        if rows.is_empty() {
            return Ok(());
        }
        let cols: Vec<String> = columns.iter().map(|c| ident(c)).collect();
        let on_conflict = match conflict {
            Conflict::Fail => String::new(),
            Conflict::Ignore(keys) => format!(
                " ON CONFLICT ({}) DO NOTHING",
                keys.iter().map(|k| ident(k)).collect::<Vec<_>>().join(", ")
            ),
            Conflict::Update(keys) => {
                let set: Vec<String> = columns
                    .iter()
                    .filter(|c| !keys.contains(c))
                    .map(|c| format!("{0} = excluded.{0}", ident(c)))
                    .collect();
                let keys = keys.iter().map(|k| ident(k)).collect::<Vec<_>>().join(", ");
                if set.is_empty() {
                    format!(" ON CONFLICT ({keys}) DO NOTHING")
                } else {
                    format!(" ON CONFLICT ({keys}) DO UPDATE SET {}", set.join(", "))
                }
            }
        };
        match self {
            Conn::Sqlite(c) => {
                let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({}){on_conflict}",
                    ident(table),
                    cols.join(", "),
                    marks.join(", ")
                );
                let mut st = c.prepare_cached(&sql).map_err(|e| e.to_string())?;
                for row in rows {
                    let values = row.iter().map(|v| match v {
                        SqlValue::Null => rusqlite::types::Value::Null,
                        SqlValue::Int(n) => rusqlite::types::Value::Integer(*n),
                        SqlValue::Text(t) => rusqlite::types::Value::Text(t.clone()),
                        SqlValue::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                    });
                    st.execute(rusqlite::params_from_iter(values))
                        .map_err(|e| format!("{table}: {e}"))?;
                }
                Ok(())
            }
            Conn::Postgres(c) => {
                let target = if conflict == Conflict::Fail {
                    ident(table)
                } else {
                    c.batch_execute(&format!(
                        "CREATE TEMP TABLE \"regc_staging\" (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
                        ident(table)
                    ))
                    .map_err(pg_error)?;
                    "\"regc_staging\"".to_string()
                };
                copy_in(c, &target, &cols, rows).map_err(|e| format!("{table}: {e}"))?;
                if conflict != Conflict::Fail {
                    c.batch_execute(&format!(
                        "INSERT INTO {} ({1}) SELECT {1} FROM \"regc_staging\"{on_conflict}; DROP TABLE \"regc_staging\"",
                        ident(table),
                        cols.join(", ")
                    ))
                    .map_err(|e| format!("{table}: {}", pg_error(e)))?;
                }
                Ok(())
            }
        }
    }
}

/// `COPY target (cols) FROM STDIN` in the text format.
fn copy_in(
    c: &mut postgres::Client,
    target: &str,
    cols: &[String],
    rows: &[Vec<SqlValue>],
) -> Result<(), String> {
    use std::io::Write as _;
    let mut w = c
        .copy_in(&format!("COPY {target} ({}) FROM STDIN", cols.join(", ")))
        .map_err(pg_error)?;
    let mut buf = Vec::with_capacity(1 << 16);
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            match v {
                SqlValue::Null => buf.extend_from_slice(b"\\N"),
                SqlValue::Int(n) => buf.extend_from_slice(n.to_string().as_bytes()),
                SqlValue::Bool(b) => buf.push(if *b { b't' } else { b'f' }),
                SqlValue::Text(t) => {
                    for ch in t.bytes() {
                        match ch {
                            b'\\' => buf.extend_from_slice(b"\\\\"),
                            b'\t' => buf.extend_from_slice(b"\\t"),
                            b'\n' => buf.extend_from_slice(b"\\n"),
                            b'\r' => buf.extend_from_slice(b"\\r"),
                            _ => buf.push(ch),
                        }
                    }
                }
            }
        }
        buf.push(b'\n');
        if buf.len() > 1 << 20 {
            w.write_all(&buf).map_err(|e| e.to_string())?;
            buf.clear();
        }
    }
    w.write_all(&buf).map_err(|e| e.to_string())?;
    w.finish().map_err(pg_error)?;
    Ok(())
}

/// A PostgreSQL error with the server's message and detail.
pub fn pg_error(e: postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(t) = db.table() {
                s.push_str(&format!(" [table {t}]"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// Counts rows by table, for reports and tests.
pub fn count_rows(conn: &mut Conn, tables: &[&str]) -> Result<HashMap<String, i64>, String> {
    let mut out = HashMap::new();
    for t in tables {
        let rows = conn.query_text(
            &format!("SELECT CAST(count(*) AS TEXT) FROM {}", ident(t)),
            &[],
        )?;
        let n = rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        out.insert((*t).to_string(), n);
    }
    Ok(out)
}
