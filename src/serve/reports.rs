//! Reports: receiving a submission (a draft, or submitted after the same
//! checks as `regc import`), listing the reports a user may see, and one
//! report with its revisions and values.
//!
//! A submission is the JSON document the generated form pages write and
//! `regc import` reads (`{"regime", "submissions": [{"unit", "period",
//! "form", "records", "explanations"}]}`, `submission.schema.json`), read
//! by the same reader and checked by the same validator; it is stored by
//! the importer, so a correction is a new revision and nothing is
//! overwritten. The whole check and write hold the database connection: a
//! submission is stored whole or not at all.

use super::App;
use super::access;
use super::routes::Refusal;
use super::store::{self, User};
use crate::db::{Conn, import};
use crate::ir::{self, Severity};
use crate::submission::{Context, Reader};
use crate::validate::Violation;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};

/// What became of a submission: the HTTP status and the JSON answer.
pub struct Answer {
    pub status: u16,
    pub body: Json,
}

fn violation_json(v: &Violation) -> Json {
    json!({
        "form": v.form, "unit": v.unit, "period": v.period, "record": v.record,
        "cell": v.cell, "rule": v.rule, "severity": v.severity, "message": v.message,
    })
}

/// Receives a submission document from `user`: stored as drafts, or
/// checked and stored as submitted. Errors keep it out; each warning
/// needs an explanation.
pub fn receive(
    app: &App,
    user: &User,
    regime: &ir::Regime,
    body: &[u8],
    draft: bool,
) -> Result<Answer, Refusal> {
    let mut ctx = Context::new(&app.lib, regime);
    let mut reader = Reader::default();
    reader.read_json(&mut ctx, "request", body);
    if !reader.errors.is_empty() {
        let errors: Vec<Json> = reader
            .errors
            .iter()
            .take(100)
            .map(|e| json!({"column": e.column, "message": e.message}))
            .collect();
        return Ok(Answer {
            status: 422,
            body: json!({"stored": false, "errors": errors}),
        });
    }
    if reader.submissions.is_empty() {
        return Ok(Answer {
            status: 422,
            body: json!({"stored": false, "errors": [{"message": "no submission"}]}),
        });
    }
    if reader
        .submissions
        .values()
        .any(|s| !access::can_submit(&app.lib, regime, user, &s.unit))
    {
        return Err(Refusal::Forbidden);
    }
    let mut conn = app.store.conn();
    let violations = if draft {
        Vec::new()
    } else {
        import::violations(&mut conn, regime, &ctx, &reader)?
    };
    let errors: Vec<Json> = violations
        .iter()
        .filter(|v| v.severity == Severity::Error)
        .map(violation_json)
        .collect();
    if !errors.is_empty() {
        return Ok(Answer {
            status: 422,
            body: json!({"stored": false, "errors": errors}),
        });
    }
    let unexplained: Vec<Json> = violations
        .iter()
        .filter(|v| {
            v.severity == Severity::Warning
                && !reader
                    .explanations
                    .get(&(v.form.clone(), v.unit.clone(), v.period.clone()))
                    .is_some_and(|e| e.contains_key(&v.rule))
        })
        .map(violation_json)
        .collect();
    if !unexplained.is_empty() {
        return Ok(Answer {
            status: 422,
            body: json!({"stored": false, "unexplained": unexplained}),
        });
    }
    let warnings: Vec<Json> = violations.iter().map(violation_json).collect();
    let opts = import::Options {
        status: if draft { "draft" } else { "submitted" }.into(),
        submitter: Some(user.name.clone()),
        // The server's clock says when a report was submitted, not the
        // client's.
        now: store::now(),
        submitted_at: BTreeMap::new(),
        violations: import::flags(violations, &reader.explanations),
    };
    let subs: Vec<&crate::submission::Submission> = reader.submissions.values().collect();
    let layout = &ctx.layout;
    let report = import::import(&mut conn, &app.lib, regime, layout, &subs, &opts)?;
    Ok(Answer {
        status: 200,
        body: json!({
            "stored": true,
            "status": opts.status,
            "written": report.written,
            "corrections": report.corrections,
            "unchanged": report.unchanged,
            "warnings": warnings,
        }),
    })
}

/// One revision of a report, as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Revision {
    pub id: String,
    pub form: String,
    pub unit: String,
    pub period: String,
    pub revision: i64,
    pub status: String,
    pub submitted_at: Option<String>,
    pub approved_at: Option<String>,
    pub submitter: Option<String>,
}

fn revisions(
    conn: &mut Conn,
    regime: &str,
    filter: &str,
    params: &[&str],
) -> Result<Vec<Revision>, String> {
    let sql = format!(
        r#"SELECT CAST("id" AS TEXT), "form", "unit", "period", CAST("revision" AS TEXT), "status", CAST("submitted_at" AS TEXT), CAST("approved_at" AS TEXT), "submitter"
FROM "regc_submission" WHERE "regime" = $1{filter} ORDER BY "unit", "period", "form", "revision""#
    );
    let sql = store::placeholders(&sql, conn.dialect());
    let mut all: Vec<&str> = vec![regime];
    all.extend_from_slice(params);
    let rows = conn.query_text(&sql, &all)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let mut it = r.into_iter();
            Some(Revision {
                id: it.next()??,
                form: it.next()??,
                unit: it.next()??,
                period: it.next()??,
                revision: it.next()??.parse().ok()?,
                status: it.next()??,
                submitted_at: it.next()?,
                approved_at: it.next()?,
                submitter: it.next()?,
            })
        })
        .collect())
}

/// The latest revision of every report of `regime` the user may see
/// (of one period, if given).
pub fn list(
    app: &App,
    user: &User,
    regime: &ir::Regime,
    period: Option<&str>,
) -> Result<Vec<Revision>, Refusal> {
    if !access::takes_part(&app.lib, regime, user) {
        return Err(Refusal::NotFound);
    }
    let all = {
        let mut conn = app.store.conn();
        match period {
            Some(p) => revisions(&mut conn, &regime.code, r#" AND "period" = $2"#, &[p])?,
            None => revisions(&mut conn, &regime.code, "", &[])?,
        }
    };
    let mut latest: BTreeMap<(String, String, String), Revision> = BTreeMap::new();
    for r in all {
        latest.insert((r.unit.clone(), r.period.clone(), r.form.clone()), r);
    }
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for r in latest.into_values() {
        let visible = match seen.get(&r.unit) {
            Some(v) => *v,
            None => {
                let v = access::can_see(&app.store, &app.lib, regime, user, &r.unit)?;
                seen.insert(r.unit.clone(), v);
                v
            }
        };
        if visible {
            out.push(r);
        }
    }
    Ok(out)
}

/// One report: every revision, the rules each broke, and the values of
/// the latest, as a submission document's records (canonical text).
pub fn report(
    app: &App,
    user: &User,
    regime: &ir::Regime,
    form: &str,
    unit: &str,
    period: &str,
) -> Result<Json, Refusal> {
    let Some(f) = regime.forms.iter().find(|f| f.code == form) else {
        return Err(Refusal::NotFound);
    };
    if !access::can_see(&app.store, &app.lib, regime, user, unit)? {
        return Err(Refusal::NotFound);
    }
    let mut conn = app.store.conn();
    let revs = revisions(
        &mut conn,
        &regime.code,
        r#" AND "form" = $2 AND "unit" = $3 AND "period" = $4"#,
        &[form, unit, period],
    )?;
    let Some(last) = revs.last() else {
        return Err(Refusal::NotFound);
    };
    let layout = crate::layout::regime(regime);
    let records = values(&mut conn, &layout, f, &last.id)?;
    let sql = store::placeholders(
        r#"SELECT CAST(v."submission_id" AS TEXT), v."rule", v."severity", CAST(v."record" AS TEXT), v."cell", v."message", v."explanation"
FROM "regc_submission_violation" v JOIN "regc_submission" s ON s."id" = v."submission_id"
WHERE s."regime" = $1 AND s."form" = $2 AND s."unit" = $3 AND s."period" = $4"#,
        conn.dialect(),
    );
    let mut broken: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for row in conn.query_text(&sql, &[&regime.code, form, unit, period])? {
        let mut it = row.into_iter();
        let Some(Some(id)) = it.next() else { continue };
        let mut next = || it.next().flatten();
        let (rule, severity, record, cell, message, explanation) =
            (next(), next(), next(), next(), next(), next());
        broken.entry(id).or_default().push(json!({
            "rule": rule, "severity": severity, "record": record, "cell": cell,
            "message": message, "explanation": explanation,
        }));
    }
    let history: Vec<Json> = revs
        .iter()
        .map(|r| {
            let mut j = serde_json::to_value(r).unwrap_or(Json::Null);
            if let Some(o) = j.as_object_mut() {
                o.insert(
                    "violations".into(),
                    Json::Array(broken.remove(&r.id).unwrap_or_default()),
                );
            }
            j
        })
        .collect();
    let decisions = super::workflow::events(&mut conn, &regime.code, form, unit, period)?;
    Ok(json!({
        "regime": regime.code, "form": form, "unit": unit, "period": period,
        "status": last.status, "revision": last.revision,
        "records": records, "revisions": history, "decisions": decisions,
    }))
}

/// The values of one stored revision: record number (0 for a grid) →
/// cell → canonical text.
fn values(
    conn: &mut Conn,
    layout: &crate::layout::RegimeLayout,
    form: &ir::Form,
    id: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, String> {
    let d = conn.dialect();
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for t in layout.form_tables(&form.code) {
        let record = if t.kind == ir::FormKind::Records {
            r#"CAST("record" AS TEXT)"#
        } else {
            "'0'"
        };
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("CAST({} AS TEXT)", crate::sql::ident(&c.name)))
            .collect();
        let sql = store::placeholders(
            &format!(
                r#"SELECT {record}, {} FROM {} WHERE CAST("submission_id" AS TEXT) = $1"#,
                cols.join(", "),
                crate::sql::ident(&t.name)
            ),
            d,
        );
        for row in conn.query_text(&sql, &[id])? {
            let mut it = row.into_iter();
            let Some(Some(n)) = it.next() else { continue };
            let rec = out.entry(n).or_default();
            for (text, c) in it.zip(&t.columns) {
                if let Some(v) =
                    text.and_then(|t| crate::db::history::stored_value(&t, &c.storage, d))
                {
                    rec.insert(c.cell.clone(), v.canonical());
                }
            }
        }
    }
    Ok(out)
}
