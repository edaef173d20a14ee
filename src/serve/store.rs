//! The server's database: the core and regime schemas (applied as `regc
//! import` applies them), the server's own tables (users, sessions, the
//! history of reports) and the few queries the server makes, written once
//! for both engines. One connection behind a mutex: SQLite writes one
//! transaction at a time anyway, and every request holds it briefly.

use crate::db::{Conn, Target, import};
use crate::ir::Library;
use crate::sql::Dialect;
use std::sync::{Mutex, MutexGuard};

/// The server's tables. Times are RFC 3339 text in UTC
/// (`2026-12-08T02:00:00Z`), which orders as it reads on both engines.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS "regc_user" (
  "name" TEXT PRIMARY KEY,
  "unit" TEXT NOT NULL REFERENCES "regc_org_unit" ("code"),
  "role" TEXT NOT NULL CHECK ("role" IN ('reporter', 'approver', 'viewer', 'admin')),
  "password_hash" TEXT NOT NULL,
  "created_at" TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "regc_session" (
  "token_sha256" TEXT PRIMARY KEY,
  "user_name" TEXT NOT NULL REFERENCES "regc_user" ("name") ON DELETE CASCADE,
  "csrf" TEXT NOT NULL,
  "created_at" TEXT NOT NULL,
  "expires_at" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "regc_session.user" ON "regc_session" ("user_name");
CREATE TABLE IF NOT EXISTS "regc_submission_event" (
  "submission_id" INTEGER NOT NULL REFERENCES "regc_submission" ("id"),
  "action" TEXT NOT NULL CHECK ("action" IN ('approved', 'returned')),
  "actor" TEXT NOT NULL,
  "at" TEXT NOT NULL,
  "reason" TEXT
);
CREATE INDEX IF NOT EXISTS "regc_submission_event.submission" ON "regc_submission_event" ("submission_id");
"#;

pub struct Store {
    conn: Mutex<Conn>,
    pub dialect: Dialect,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub unit: String,
    pub role: String,
    pub password_hash: String,
}

/// A live session and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_sha256: String,
    pub csrf: String,
    pub expires_at: String,
    pub user: User,
}

impl Store {
    /// Opens the database (SQLite in WAL mode), applies the core schema,
    /// each regime's schema, the reference data and the catalog (refusing
    /// a database that holds another version of a regime, as `regc import`
    /// does), then the server's tables.
    pub fn open(target: &Target, lib: &Library) -> Result<Store, String> {
        let mut conn = Conn::open(target)?;
        if let Conn::Sqlite(c) = &conn {
            c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
                .map_err(|e| format!("{target}: {e}"))?;
        }
        let now = now();
        for regime in &lib.regimes {
            let layout = crate::layout::regime(regime);
            let opts = import::Options {
                status: "submitted".into(),
                now: now.clone(),
                ..import::Options::default()
            };
            import::import(&mut conn, lib, regime, &layout, &[], &opts)
                .map_err(|e| format!("{target}: {}: {e}", regime.code))?;
            crate::db::rollup::apply_views(&mut conn, regime, &layout)
                .map_err(|e| format!("{target}: {}: {e}", regime.code))?;
        }
        conn.exec(SCHEMA).map_err(|e| format!("{target}: {e}"))?;
        let dialect = conn.dialect();
        Ok(Store {
            conn: Mutex::new(conn),
            dialect,
        })
    }

    /// The connection, for one request. A request that panicked while
    /// holding it left no open transaction (each is committed or rolled
    /// back before the guard drops), so a poisoned lock is taken as is.
    pub fn conn(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `sql` written with `$1`, `$2`… for this engine.
    pub fn sql(&self, sql: &str) -> String {
        placeholders(sql, self.dialect)
    }

    /// The rows of a query whose columns are all text.
    pub fn query(&self, sql: &str, params: &[&str]) -> Result<Vec<Vec<Option<String>>>, String> {
        let sql = self.sql(sql);
        self.conn().query_text(&sql, params)
    }

    /// Runs one statement with text parameters; returns the rows changed.
    pub fn execute(&self, sql: &str, params: &[&str]) -> Result<u64, String> {
        let sql = self.sql(sql);
        execute(&mut self.conn(), &sql, params)
    }

    pub fn user(&self, name: &str) -> Result<Option<User>, String> {
        let rows = self.query(
            r#"SELECT "name", "unit", "role", "password_hash" FROM "regc_user" WHERE "name" = $1"#,
            &[name],
        )?;
        Ok(rows.into_iter().next().and_then(user_of))
    }

    pub fn create_user(&self, user: &User) -> Result<(), String> {
        if self.user(&user.name)?.is_some() {
            return Err(format!("there is already a user `{}`", user.name));
        }
        self.execute(
            r#"INSERT INTO "regc_user" ("name", "unit", "role", "password_hash", "created_at") VALUES ($1, $2, $3, $4, $5)"#,
            &[&user.name, &user.unit, &user.role, &user.password_hash, &now()],
        )
        .map(|_| ())
    }

    pub fn create_session(
        &self,
        token_sha256: &str,
        user: &str,
        csrf: &str,
        expires_at: &str,
    ) -> Result<(), String> {
        self.execute(
            r#"INSERT INTO "regc_session" ("token_sha256", "user_name", "csrf", "created_at", "expires_at") VALUES ($1, $2, $3, $4, $5)"#,
            &[token_sha256, user, csrf, &now(), expires_at],
        )
        .map(|_| ())
    }

    /// The session of a token's hash, if it exists and has not expired
    /// (an expired one is deleted).
    pub fn session(&self, token_sha256: &str) -> Result<Option<Session>, String> {
        let rows = self.query(
            r#"SELECT s."csrf", s."expires_at", u."name", u."unit", u."role", u."password_hash"
FROM "regc_session" s JOIN "regc_user" u ON u."name" = s."user_name"
WHERE s."token_sha256" = $1"#,
            &[token_sha256],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let mut it = row.into_iter();
        let (Some(Some(csrf)), Some(Some(expires_at))) = (it.next(), it.next()) else {
            return Ok(None);
        };
        let Some(user) = user_of(it.collect()) else {
            return Ok(None);
        };
        if expires_at <= now() {
            self.delete_session(token_sha256)?;
            return Ok(None);
        }
        Ok(Some(Session {
            token_sha256: token_sha256.to_string(),
            csrf,
            expires_at,
            user,
        }))
    }

    pub fn delete_session(&self, token_sha256: &str) -> Result<(), String> {
        self.execute(
            r#"DELETE FROM "regc_session" WHERE "token_sha256" = $1"#,
            &[token_sha256],
        )
        .map(|_| ())
    }

    /// Every unit at or below `unit` in some edition of the hierarchy.
    pub fn descendants(&self, unit: &str) -> Result<std::collections::HashSet<String>, String> {
        Ok(self
            .query(
                r#"SELECT DISTINCT "descendant" FROM "regc_org_closure" WHERE "ancestor" = $1"#,
                &[unit],
            )?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// Whether `ancestor` is `unit` or above it in some edition of the
    /// hierarchy (the closure table holds each unit as its own ancestor).
    pub fn is_within(&self, ancestor: &str, unit: &str) -> Result<bool, String> {
        let rows = self.query(
            r#"SELECT 'y' FROM "regc_org_closure" WHERE "ancestor" = $1 AND "descendant" = $2 LIMIT 1"#,
            &[ancestor, unit],
        )?;
        Ok(!rows.is_empty())
    }
}

fn user_of(row: Vec<Option<String>>) -> Option<User> {
    let mut it = row.into_iter();
    Some(User {
        name: it.next()??,
        unit: it.next()??,
        role: it.next()??,
        password_hash: it.next()??,
    })
}

/// Runs one statement with text parameters on either engine.
pub fn execute(conn: &mut Conn, sql: &str, params: &[&str]) -> Result<u64, String> {
    match conn {
        Conn::Sqlite(c) => c
            .execute(sql, rusqlite::params_from_iter(params.iter()))
            .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
            .map_err(|e| e.to_string()),
        Conn::Postgres(c) => {
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                .collect();
            c.execute(sql, &params).map_err(crate::db::pg_error)
        }
    }
}

/// `$1`, `$2`… as SQLite's `?1`, `?2`… (the server's statements have no
/// `$` elsewhere).
pub fn placeholders(sql: &str, d: Dialect) -> String {
    match d {
        Dialect::Postgres => sql.to_string(),
        Dialect::Sqlite => sql.replace('$', "?"),
    }
}

/// Now, RFC 3339 in UTC to the second.
pub fn now() -> String {
    at(std::time::SystemTime::now())
}

pub fn at(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_engine() {
        let sql = r#"SELECT 1 WHERE "a" = $1 AND "b" = $2"#;
        assert_eq!(placeholders(sql, Dialect::Postgres), sql);
        assert_eq!(
            placeholders(sql, Dialect::Sqlite),
            r#"SELECT 1 WHERE "a" = ?1 AND "b" = ?2"#
        );
    }

    #[test]
    fn times_order_as_text() {
        let a = at(std::time::UNIX_EPOCH + std::time::Duration::from_secs(9));
        let b = at(std::time::UNIX_EPOCH + std::time::Duration::from_secs(10));
        assert_eq!(a, "1970-01-01T00:00:09Z");
        assert!(a < b);
    }
}
