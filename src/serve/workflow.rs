//! The flow's work on a report: the receiving level approves or returns
//! (with a reason) the latest submitted revision, and each level sees who
//! is late or missing for a period.
//!
//! A decision names the revision it is about: two approvers deciding at
//! once are serialized by the connection, and the second finds the
//! revision decided (409), so one wins cleanly. Decisions are kept in
//! `regc_submission_event` (who, when, why), appended, never changed; the
//! revision's status and `approved_at`/`signer` follow.

use super::App;
use super::access;
use super::reports::Answer;
use super::routes::Refusal;
use super::store::{self, User};
use crate::db::Conn;
use crate::ir;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Return,
}

/// The latest revision of a report: (id, revision, status).
fn latest(
    conn: &mut Conn,
    regime: &str,
    form: &str,
    unit: &str,
    period: &str,
) -> Result<Option<(String, i64, String)>, String> {
    let sql = store::placeholders(
        r#"SELECT CAST("id" AS TEXT), CAST("revision" AS TEXT), "status" FROM "regc_submission"
WHERE "regime" = $1 AND "form" = $2 AND "unit" = $3 AND "period" = $4 ORDER BY "revision" DESC LIMIT 1"#,
        conn.dialect(),
    );
    let rows = conn.query_text(&sql, &[regime, form, unit, period])?;
    Ok(rows.into_iter().next().and_then(|r| {
        let mut it = r.into_iter();
        Some((it.next()??, it.next()??.parse().ok()?, it.next()??))
    }))
}

/// Approves or returns revision `revision` of a report.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    app: &App,
    user: &User,
    regime: &ir::Regime,
    form: &str,
    unit: &str,
    period: &str,
    decision: Decision,
    revision: i64,
    reason: Option<&str>,
) -> Result<Answer, Refusal> {
    if !regime.forms.iter().any(|f| f.code == form)
        || !access::can_see(&app.store, &app.lib, regime, user, unit)?
    {
        return Err(Refusal::NotFound);
    }
    if !access::can_decide(&app.store, &app.lib, regime, user, unit)? {
        return Err(Refusal::Forbidden);
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if decision == Decision::Return && reason.is_none() {
        return Ok(Answer {
            status: 422,
            body: json!({"error": "a returned report needs a reason"}),
        });
    }
    let mut conn = app.store.conn();
    let Some((id, latest_rev, status)) = latest(&mut conn, &regime.code, form, unit, period)?
    else {
        return Err(Refusal::NotFound);
    };
    if latest_rev != revision {
        return Ok(Answer {
            status: 409,
            body: json!({"error": format!("revision {revision} is not the latest; the latest is {latest_rev}"), "revision": latest_rev, "status": status}),
        });
    }
    if status != "submitted" {
        return Ok(Answer {
            status: 409,
            body: json!({"error": format!("revision {revision} is {status}, not submitted"), "revision": latest_rev, "status": status}),
        });
    }
    let now = store::now();
    let (new_status, action) = match decision {
        Decision::Approve => ("approved", "approved"),
        Decision::Return => ("returned", "returned"),
    };
    let d = conn.dialect();
    conn.begin()?;
    let done = (|| -> Result<u64, String> {
        let approved_at = if decision == Decision::Approve {
            now.as_str()
        } else {
            ""
        };
        let n = store::execute(
            &mut conn,
            &store::placeholders(
                r#"UPDATE "regc_submission" SET "status" = $1, "approved_at" = CAST(NULLIF($2, '') AS TIMESTAMPTZ_OR_TEXT), "signer" = $3
WHERE "id" = CAST(CAST($4 AS TEXT) AS BIGINT) AND "status" = 'submitted'"#,
                d,
            )
            .replace(
                "TIMESTAMPTZ_OR_TEXT",
                match d {
                    crate::sql::Dialect::Postgres => "TIMESTAMPTZ",
                    crate::sql::Dialect::Sqlite => "TEXT",
                },
            ),
            &[new_status, approved_at, &user.name, &id],
        )?;
        if n == 1 {
            store::execute(
                &mut conn,
                &store::placeholders(
                    r#"INSERT INTO "regc_submission_event" ("submission_id", "action", "actor", "at", "reason")
VALUES (CAST(CAST($1 AS TEXT) AS BIGINT), $2, $3, $4, $5)"#,
                    d,
                ),
                &[&id, action, &user.name, &now, reason.unwrap_or("")],
            )?;
        }
        Ok(n)
    })();
    match done {
        Ok(1) => {
            conn.commit()?;
            Ok(Answer {
                status: 200,
                body: json!({"status": new_status, "revision": revision, "by": user.name, "at": now}),
            })
        }
        Ok(_) => {
            conn.rollback();
            Ok(Answer {
                status: 409,
                body: json!({"error": "the revision was decided meanwhile"}),
            })
        }
        Err(e) => {
            conn.rollback();
            Err(Refusal::Internal(e))
        }
    }
}

/// The decisions on a report's revisions, oldest first.
pub fn events(
    conn: &mut Conn,
    regime: &str,
    form: &str,
    unit: &str,
    period: &str,
) -> Result<Vec<Json>, String> {
    let sql = store::placeholders(
        r#"SELECT CAST(s."revision" AS TEXT), e."action", e."actor", e."at", e."reason"
FROM "regc_submission_event" e JOIN "regc_submission" s ON s."id" = e."submission_id"
WHERE s."regime" = $1 AND s."form" = $2 AND s."unit" = $3 AND s."period" = $4 ORDER BY e."at", s."revision""#,
        conn.dialect(),
    );
    Ok(conn
        .query_text(&sql, &[regime, form, unit, period])?
        .into_iter()
        .map(|r| {
            let mut it = r.into_iter();
            let mut next = || it.next().flatten();
            let (revision, action, actor, at, reason) = (next(), next(), next(), next(), next());
            json!({
                "revision": revision.and_then(|r| r.parse::<i64>().ok()),
                "action": action, "actor": actor, "at": at,
                "reason": reason.filter(|r| !r.is_empty()),
            })
        })
        .collect())
}

/// One expected report of a period, for the chase list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expected {
    pub unit: String,
    pub name: String,
    pub level: String,
    pub form: String,
    /// `missing`, or the latest revision's status.
    pub status: String,
    /// When it was first submitted (not a draft).
    pub submitted_at: Option<String>,
    pub deadline: Option<String>,
    pub late: bool,
}

/// Every report expected for `period` from the reporters the user sees:
/// the reporters' units in the edition of the hierarchy in force on the
/// period's cut-off day, each form, with its status and whether it is (or
/// was) late against the reporters' deadline.
pub fn expected(
    app: &App,
    user: &User,
    regime: &ir::Regime,
    period: &str,
) -> Result<Vec<Expected>, Refusal> {
    if !access::takes_part(&app.lib, regime, user) {
        return Err(Refusal::NotFound);
    }
    let year: i32 = period
        .get(..4)
        .and_then(|y| y.parse().ok())
        .ok_or(Refusal::NotFound)?;
    let days = crate::calendar::WorkingDays::of_library(&app.lib);
    let Some(p) = crate::calendar::periods(regime, year, &days)
        .into_iter()
        .find(|p| p.id == period)
    else {
        return Err(Refusal::NotFound);
    };
    let Some(edition) = app.lib.org.edition_on(p.end) else {
        return Ok(Vec::new());
    };
    let scope = access::scope(&app.store, &app.lib, regime, user)?;
    // (form, unit) → (latest status, first submitted at).
    let mut got: BTreeMap<(String, String), (String, Option<String>)> = BTreeMap::new();
    {
        let mut conn = app.store.conn();
        let sql = store::placeholders(
            r#"SELECT "form", "unit", CAST("revision" AS TEXT), "status", CAST("submitted_at" AS TEXT) FROM "regc_submission"
WHERE "regime" = $1 AND "period" = $2 ORDER BY "revision""#,
            conn.dialect(),
        );
        for row in conn.query_text(&sql, &[&regime.code, period])? {
            let mut it = row.into_iter();
            let mut next = || it.next().flatten();
            let (Some(form), Some(unit), _, Some(status), at) =
                (next(), next(), next(), next(), next())
            else {
                continue;
            };
            let e = got.entry((form, unit)).or_insert((String::new(), None));
            if status != "draft" && e.1.is_none() {
                e.1 = at;
            }
            e.0 = status;
        }
    }
    let today = store::now();
    let mut out = Vec::new();
    for u in &edition.units {
        if !regime.reporters.contains(&u.level) {
            continue;
        }
        if scope.as_ref().is_some_and(|s| !s.contains(&u.code)) {
            continue;
        }
        let deadline = p
            .deadlines
            .iter()
            .find(|d| d.level == u.level)
            .map(|d| d.date.format("%Y-%m-%d").to_string());
        for f in &regime.forms {
            let (status, submitted_at) = got
                .get(&(f.code.clone(), u.code.clone()))
                .cloned()
                .unwrap_or_else(|| ("missing".into(), None));
            // Late: submitted after the deadline's day, or not submitted
            // and the deadline has passed.
            let late = deadline.as_deref().is_some_and(|d| match &submitted_at {
                Some(at) => at.get(..10).is_some_and(|day| day > d),
                None => today.get(..10).is_some_and(|day| day > d),
            });
            out.push(Expected {
                unit: u.code.clone(),
                name: u.name.clone(),
                level: u.level.clone(),
                form: f.code.clone(),
                status,
                submitted_at,
                deadline: deadline.clone(),
                late,
            });
        }
    }
    Ok(out)
}

/// The chase list as CSV.
pub fn expected_csv(rows: &[Expected]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "unit",
        "name",
        "level",
        "form",
        "status",
        "submitted_at",
        "deadline",
        "late",
    ])
    .map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record([
            r.unit.as_str(),
            &r.name,
            &r.level,
            &r.form,
            &r.status,
            r.submitted_at.as_deref().unwrap_or(""),
            r.deadline.as_deref().unwrap_or(""),
            if r.late { "yes" } else { "no" },
        ])
        .map_err(|e| e.to_string())?;
    }
    String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}
