//! Seeing: a regime's roll-up for a period (every unit at every level, as
//! `regc rollup` computes it with the generated aggregation views), cut to
//! the units the user sees, as JSON, CSV, or a table on the regime's page.

use super::App;
use super::access;
use super::routes::Refusal;
use super::store::User;
use crate::db::rollup::{self, Rollup};
use crate::ir;

/// The roll-ups of `regime`'s grid forms for `period` (of any period type:
/// `2025-08`, `2025-Q3`, `2025`), rows of units the user sees; one unit's
/// rows only when `unit` is given.
pub fn rollups(
    app: &App,
    user: &User,
    regime: &ir::Regime,
    period: &str,
    unit: Option<&str>,
    form: Option<&str>,
) -> Result<Vec<Rollup>, Refusal> {
    if !access::takes_part(&app.lib, regime, user) {
        return Err(Refusal::NotFound);
    }
    if let Some(f) = form
        && !regime.forms.iter().any(|x| x.code == f)
    {
        return Err(Refusal::NotFound);
    }
    let scope = access::scope(&app.store, &app.lib, regime, user)?;
    if let (Some(u), Some(s)) = (unit, &scope)
        && !s.contains(u)
    {
        return Err(Refusal::NotFound);
    }
    let q = rollup::Query {
        form: form.map(str::to_string),
        level: None,
        period: Some(period.to_string()),
        comparable: false,
    };
    let mut forms = {
        let mut conn = app.store.conn();
        rollup::rollups(&mut conn, regime, &q)?
    };
    for f in &mut forms {
        f.rows.retain(|r| {
            scope.as_ref().is_none_or(|s| s.contains(&r.unit)) && unit.is_none_or(|u| u == r.unit)
        });
    }
    Ok(forms)
}

/// The roll-ups as CSV: one row per form, unit and period, a column per
/// cell.
pub fn csv(forms: &[Rollup]) -> Result<String, String> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for f in forms {
        let mut head: Vec<String> = [
            "form",
            "frequency",
            "period",
            "unit",
            "name",
            "level",
            "reporters",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        head.extend(f.cells.iter().cloned());
        w.write_record(&head).map_err(|e| e.to_string())?;
        for r in &f.rows {
            let mut row = vec![
                f.form.clone(),
                r.frequency.clone(),
                r.period.clone(),
                r.unit.clone(),
                // A name from the org data cannot start a formula in a
                // spreadsheet.
                guard(&r.name),
                r.level.clone(),
                r.reporters.to_string(),
            ];
            row.extend(r.values.iter().map(|v| v.clone().unwrap_or_default()));
            w.write_record(&row).map_err(|e| e.to_string())?;
        }
    }
    String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

/// Text that a spreadsheet would read as a formula, quoted.
pub fn guard(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}
