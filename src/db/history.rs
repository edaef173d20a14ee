//! Reading stored submissions back: the current revision of every
//! submission of a regime, as [`crate::submission::Submission`]s, for rules
//! that read other periods (`@previous`, year to date).

use super::Conn;
use crate::eval::Store;
use crate::ir;
use crate::layout::{RegimeLayout, Storage};
use crate::sql::{Dialect, ident, literal};
use crate::submission::Submission;
use crate::value::{Decimal, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Loads the current revisions of `regime`'s submissions into `store`;
/// returns how many. A database without the regime's tables holds none.
pub fn load(
    conn: &mut Conn,
    regime: &ir::Regime,
    layout: &RegimeLayout,
    store: &mut Store,
) -> Result<usize, String> {
    let d = conn.dialect();
    let mut subs: BTreeMap<(String, String, String), Submission> = BTreeMap::new();
    for form in &regime.forms {
        let tables: Vec<_> = layout.form_tables(&form.code).collect();
        let cells: Arc<Vec<String>> = Arc::new(
            tables
                .iter()
                .flat_map(|t| t.columns.iter().map(|c| c.cell.clone()))
                .collect(),
        );
        let mut offset = 0;
        for t in &tables {
            if !conn.has_table(&t.name)? {
                offset += t.columns.len();
                continue;
            }
            let record = if t.kind == ir::FormKind::Records {
                "CAST(t.\"record\" AS TEXT)"
            } else {
                "'0'"
            };
            let cols: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("CAST(t.{} AS TEXT)", ident(&c.name)))
                .collect();
            let sql = format!(
                "SELECT s.\"unit\", s.\"period\", {record}, {} FROM \"regc_current_submission\" AS s JOIN {} AS t ON t.\"submission_id\" = s.\"id\" WHERE s.\"regime\" = {} AND s.\"form\" = {}",
                cols.join(", "),
                ident(&t.name),
                literal(&regime.code),
                literal(&form.code)
            );
            for row in conn.query_text(&sql, &[])? {
                let mut it = row.into_iter();
                let (Some(Some(unit)), Some(Some(period)), Some(Some(rec))) =
                    (it.next(), it.next(), it.next())
                else {
                    continue;
                };
                let n: u32 = rec.parse().unwrap_or(0);
                let sub = subs
                    .entry((form.code.clone(), unit.clone(), period.clone()))
                    .or_insert_with(|| Submission {
                        form: form.code.clone(),
                        unit,
                        period,
                        file: "history".into(),
                        line: 0,
                        cells: cells.clone(),
                        records: BTreeMap::new(),
                    });
                let slots = sub
                    .records
                    .entry(n)
                    .or_insert_with(|| vec![None; cells.len()]);
                for (i, (text, c)) in it.zip(&t.columns).enumerate() {
                    if let (Some(text), Some(slot)) = (text, slots.get_mut(offset + i)) {
                        *slot = stored_value(&text, &c.storage, d);
                    }
                }
            }
            offset += t.columns.len();
        }
    }
    let n = subs.len();
    for s in subs.into_values() {
        store.insert(&regime.code, s);
    }
    Ok(n)
}

/// A stored value back as a [`Value`].
pub fn stored_value(text: &str, storage: &Storage, d: Dialect) -> Option<Value> {
    Some(match storage {
        Storage::Integer => Value::Integer(text.parse().ok()?),
        Storage::Decimal { .. } => {
            let scale = storage.stored_scale(d) as usize;
            if scale == 0 {
                Value::Decimal(Decimal::parse(text)?)
            } else {
                // A scaled integer: put the point back.
                let (sign, digits) = match text.strip_prefix('-') {
                    Some(rest) => ("-", rest),
                    None => ("", text),
                };
                let padded = format!("{digits:0>width$}", width = scale + 1);
                let (int, frac) = padded.split_at(padded.len() - scale);
                Value::Decimal(Decimal::parse(&format!("{sign}{int}.{frac}"))?)
            }
        }
        Storage::Text { .. } => Value::Text(text.to_string()),
        Storage::Code { .. } => Value::Code(text.to_string()),
        Storage::Date => Value::Date(chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?),
        Storage::Bool => Value::Bool(matches!(text, "1" | "true" | "t")),
    })
}
