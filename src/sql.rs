//! SQL text for the two engines regc targets: quoting, naming, layout, and
//! the check that every statement regc writes is one `sqlparser` reads.
//!
//! Every statement of a generated script goes through [`Script::stmt`],
//! which lays it out over indented lines ([`layout`]: only whitespace
//! between tokens changes). A statement with an unterminated quote or
//! unbalanced parentheses is an internal error, never written. Whether each
//! statement parses is not checked during a build (sqlparser took 80 % of
//! one): `tests/schema.rs` parses every statement of the whole library, and
//! of random regimes, with the dialect's sqlparser grammar ([`parses`]),
//! checks that it is a fixed point of [`layout`], and applies every script
//! to PostgreSQL and SQLite.
//!
//! Names: every identifier is double-quoted ([`ident`]), so a name is never
//! read as a keyword and keeps its case and dots. PostgreSQL cuts names at
//! 63 bytes; [`fit`] shortens longer ones deterministically (a prefix and a
//! hash of the whole name) so two long names never collide. Only
//! identifiers and numbers built by regc go into DDL: labels and other
//! free text reach the database as bound parameters, never as SQL text.

use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::Postgres, Dialect::Sqlite];

    /// `postgres` or `sqlite`, as in the file names `schema.postgres.sql`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }

    fn parser(self) -> Box<dyn sqlparser::dialect::Dialect> {
        match self {
            Dialect::Postgres => Box::new(PostgreSqlDialect {}),
            Dialect::Sqlite => Box::new(SQLiteDialect {}),
        }
    }
}

/// PostgreSQL's `NAMEDATALEN - 1`: longer identifiers are silently cut.
pub const MAX_NAME: usize = 63;

/// `name` as a quoted identifier: `"a.b"`, with `"` doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a string literal: `'it''s'`. Control characters (which
/// neither a line-based file nor PostgreSQL's NUL-free text can keep) become
/// spaces; regc only writes its own words and codes this way.
pub fn literal(text: &str) -> String {
    format!("'{}'", one_line(text).replace('\'', "''"))
}

/// `text` with every control character (newlines included) a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `name` if it fits in [`MAX_NAME`] bytes, else its first bytes, `~` and
/// eight hex digits of its SHA-256: stable, and distinct for distinct names.
pub fn fit(name: &str) -> String {
    if name.len() <= MAX_NAME {
        return name.to_string();
    }
    let hash = crate::emit::manifest::sha256(name.as_bytes());
    let tag = hash.get(..8).unwrap_or(&hash);
    let mut cut = MAX_NAME - 1 - tag.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{tag}", name.get(..cut).unwrap_or_default())
}

/// A statement sqlparser did not read back as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub dialect: Dialect,
    pub sql: String,
    pub reason: String,
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal error: regc built a {} statement that does not read back ({}):\n{}",
            self.dialect.name(),
            self.reason,
            self.sql
        )
    }
}

impl std::error::Error for SqlError {}

mod layout;
pub use layout::layout;

/// One statement as regc writes it: laid out over lines ([`layout`]),
/// ending with `;`.
pub fn canonical(dialect: Dialect, sql: &str) -> Result<String, SqlError> {
    let text = layout(sql).map_err(|reason| SqlError {
        dialect,
        sql: sql.to_string(),
        reason,
    })?;
    Ok(text + ";")
}

/// Whether `sql` is exactly one statement that sqlparser's grammar of the
/// dialect reads. Tests hold every statement regc writes to it.
pub fn parses(dialect: Dialect, sql: &str) -> Result<(), String> {
    let parsed = Parser::parse_sql(&*dialect.parser(), sql).map_err(|e| e.to_string())?;
    match parsed.len() {
        1 => Ok(()),
        n => Err(format!("{n} statements, expected one")),
    }
}

/// A SQL script: statements, each optionally after `--` comment lines,
/// separated by blank lines.
#[derive(Debug, Clone)]
pub struct Script {
    pub dialect: Dialect,
    text: String,
    pending_comment: Vec<String>,
}

impl Script {
    pub fn new(dialect: Dialect) -> Script {
        Script {
            dialect,
            text: String::new(),
            pending_comment: Vec::new(),
        }
    }

    /// A comment line for the next statement (or the end of the script).
    pub fn comment(&mut self, line: impl Into<String>) {
        // One line, whatever it holds: a newline would end the comment.
        self.pending_comment.push(one_line(&line.into()));
    }

    /// Adds a statement, laid out ([`layout`]) and ended with `;`.
    pub fn stmt(&mut self, sql: &str) -> Result<(), SqlError> {
        let text = canonical(self.dialect, sql)?;
        self.flush_comments();
        self.text.push_str(&text);
        self.text.push('\n');
        Ok(())
    }

    fn flush_comments(&mut self) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        for line in self.pending_comment.drain(..) {
            self.text.push_str("-- ");
            self.text.push_str(line.trim_end());
            self.text.push('\n');
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn finish(mut self) -> String {
        if !self.pending_comment.is_empty() {
            self.flush_comments();
        }
        self.text
    }
}

/// The statements of a script written by [`Script`], with the line each
/// starts on: blank-line separated blocks, comment lines dropped.
pub fn statements(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, line) in script.lines().enumerate() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push((start, current.join("\n")));
                current.clear();
            }
            continue;
        }
        if line.starts_with("--") && current.is_empty() {
            continue;
        }
        if current.is_empty() {
            start = i + 1;
        }
        current.push(line);
    }
    if !current.is_empty() {
        out.push((start, current.join("\n")));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn quotes_identifiers_and_literals() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's\n"), "'it''s '");
    }

    #[test]
    fn fits_long_names_without_collisions() {
        let a = "x".repeat(70);
        let b = format!("{}y", "x".repeat(69));
        assert!(fit(&a).len() <= MAX_NAME);
        assert_ne!(fit(&a), fit(&b));
        assert_eq!(fit("short"), "short");
        let v = "ố".repeat(40);
        assert!(fit(&v).len() <= MAX_NAME);
    }

    #[test]
    fn canonical_form_is_laid_out_and_ends_with_a_semicolon() {
        let s = canonical(Dialect::Postgres, "CREATE TABLE \"t\" (\"a\" BIGINT)").unwrap();
        assert_eq!(s, "CREATE TABLE \"t\" (\"a\" BIGINT);");
        assert!(canonical(Dialect::Postgres, "SELECT 1; SELECT 2").is_err());
        assert!(canonical(Dialect::Postgres, "SELECT 'a").is_err());
        assert!(parses(Dialect::Postgres, "SELECT 1").is_ok());
        assert!(parses(Dialect::Postgres, "CREATE TABEL x").is_err());
    }

    #[test]
    fn splits_scripts_into_statements() {
        let mut s = Script::new(Dialect::Sqlite);
        s.comment("first");
        s.stmt("CREATE TABLE \"a\" (\"x\" INTEGER)").unwrap();
        s.stmt("DROP TABLE \"a\"").unwrap();
        let text = s.finish();
        let st = statements(&text);
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].0, 2);
        assert_eq!(st[1].1, "DROP TABLE \"a\";");
    }
}
