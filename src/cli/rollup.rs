//! `regc rollup`: the roll-ups (or completeness) of a regime, read from a
//! database through its generated aggregation views.

use super::data::compile_regime;
use super::{RollupFormat, find_regime, usage_error};
use crate::db::rollup::{self, Query};
use crate::db::{Conn, Target};
use std::path::PathBuf;

pub struct RollupArgs {
    pub regime: String,
    pub db: String,
    pub lib: PathBuf,
    pub query: Query,
    pub completeness: bool,
    pub reconcile: bool,
    pub format: RollupFormat,
    /// The workbook's file (`--format xlsx`).
    pub out: Option<PathBuf>,
}

pub fn rollup(args: &RollupArgs, color: bool) -> i32 {
    let xlsx = args.format == RollupFormat::Xlsx;
    if xlsx && args.out.is_none() {
        return usage_error("--format xlsx writes a workbook: name its file with --out FILE.xlsx");
    }
    if !xlsx && args.out.is_some() {
        return usage_error(
            "--out is for --format xlsx; other formats are written to the standard output",
        );
    }
    if xlsx && (args.completeness || args.reconcile) {
        return usage_error(
            "--format xlsx lays out a form's roll-ups; completeness and reconciliations come as table, csv or json",
        );
    }
    let target = match Target::parse(&args.db) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let c = match compile_regime(&args.lib, color) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(regime) = find_regime(&c.library, &args.regime) else {
        return 2;
    };
    if let Some(form) = &args.query.form
        && !regime
            .forms
            .iter()
            .any(|f| f.code == *form && f.kind == crate::ir::FormKind::Grid)
    {
        return usage_error(&format!(
            "{} has no grid form `{form}` (record forms are not rolled up)",
            regime.code
        ));
    }
    let layout = crate::layout::regime(regime);
    let mut conn = match Conn::open(&target) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = rollup::apply_views(&mut conn, regime, &layout) {
        errln!("error: {e}");
        return 1;
    }
    if args.reconcile {
        let rows = rollup::apply_reconcile(&mut conn, &c.library, regime, &layout)
            .and_then(|()| rollup::reconciliations(&mut conn, regime, &args.query));
        match rows {
            Ok(rows) => print_reconciliations(&rows, args.format),
            Err(e) => {
                errln!("error: {e}");
                return 1;
            }
        }
    } else if args.completeness {
        match rollup::completeness(&mut conn, regime, &args.query) {
            Ok(rows) => print_completeness(&rows, args.format),
            Err(e) => {
                errln!("error: {e}");
                return 1;
            }
        }
    } else {
        match rollup::rollups(&mut conn, regime, &args.query) {
            Ok(forms) => match &args.out {
                Some(path) if xlsx => return write_workbook(&c.library, regime, &forms, path),
                _ => print_rollups(&forms, args.format),
            },
            Err(e) => {
                errln!("error: {e}");
                return 1;
            }
        }
    }
    0
}

/// The roll-ups as a workbook in the forms' paper layout, a sheet per
/// form, period and unit, written through a temporary file and a rename.
fn write_workbook(
    lib: &crate::ir::Library,
    regime: &crate::ir::Regime,
    forms: &[rollup::Rollup],
    path: &std::path::Path,
) -> i32 {
    use crate::emit::xlsx::{ROLLUP_SHEETS, RolledUp, rollup_workbook};
    let mut sheets = Vec::new();
    for f in forms {
        let Some(form) = regime.forms.iter().find(|x| x.code == f.form) else {
            continue;
        };
        for r in &f.rows {
            let values = f
                .cells
                .iter()
                .zip(&r.values)
                .filter_map(|(c, v)| Some((c.as_str(), v.as_deref()?)))
                .collect();
            sheets.push(RolledUp {
                form,
                period: &r.period,
                unit: &r.unit,
                name: &r.name,
                level: &r.level,
                reporters: r.reporters,
                values,
            });
        }
    }
    if sheets.is_empty() {
        errln!("error: no roll-up rows to write (nothing imported for these filters?)");
        return 1;
    }
    if sheets.len() > ROLLUP_SHEETS {
        return usage_error(&format!(
            "{} units and periods would be {} sheets (at most {ROLLUP_SHEETS}): choose with --period, --level or --form",
            sheets.len(),
            sheets.len()
        ));
    }
    let bytes = match rollup_workbook(lib, regime, &sheets) {
        Ok(b) => b,
        Err(e) => {
            errln!("error: {e}");
            return 1;
        }
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.regc-{}", std::process::id()));
    let written = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        errln!("error: {}: {e}", path.display());
        return 1;
    }
    errln!("wrote {} ({} sheet(s))", path.display(), sheets.len());
    0
}

fn csv_line(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing into memory cannot fail.
    let _ = w.write_record(fields.iter().map(|f| super::csv_field(f).into_owned()));
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

fn print_rollups(forms: &[rollup::Rollup], format: RollupFormat) {
    match format {
        RollupFormat::Json => {
            let json = serde_json::to_string_pretty(forms).unwrap_or_default();
            outln!("{json}");
        }
        RollupFormat::Csv => {
            // One row per form, period, edition and unit; a column per cell.
            let mut header: Vec<String> = [
                "form",
                "frequency",
                "period",
                "edition",
                "unit",
                "name",
                "level",
                "reporters",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
            let single = forms.len() == 1;
            for f in forms {
                for c in &f.cells {
                    header.push(if single {
                        c.clone()
                    } else {
                        format!("{}.{c}", f.form)
                    });
                }
            }
            outln!("{}", csv_line(&header));
            let width: usize = forms.iter().map(|f| f.cells.len()).sum();
            let mut offset = 0;
            for f in forms {
                for r in &f.rows {
                    let mut line = vec![
                        f.form.clone(),
                        r.frequency.clone(),
                        r.period.clone(),
                        r.edition.clone(),
                        r.unit.clone(),
                        r.name.clone(),
                        r.level.clone(),
                        r.reporters.to_string(),
                    ];
                    let mut values = vec![String::new(); width];
                    for (i, v) in r.values.iter().enumerate() {
                        if let Some(slot) = values.get_mut(offset + i) {
                            *slot = v.clone().unwrap_or_default();
                        }
                    }
                    line.extend(values);
                    outln!("{}", csv_line(&line));
                }
                offset += f.cells.len();
            }
        }
        RollupFormat::Table | RollupFormat::Xlsx => {
            // Long: one line per value, so that wide forms stay readable.
            let mut rows = vec![
                ["period", "unit", "name", "level", "form", "cell", "value"]
                    .iter()
                    .map(|s| (*s).to_string())
                    .collect::<Vec<_>>(),
            ];
            for f in forms {
                for r in &f.rows {
                    for (c, v) in f.cells.iter().zip(&r.values) {
                        let Some(v) = v else { continue };
                        rows.push(vec![
                            r.period.clone(),
                            r.unit.clone(),
                            r.name.clone(),
                            r.level.clone(),
                            f.form.clone(),
                            c.clone(),
                            v.clone(),
                        ]);
                    }
                }
            }
            out!("{}", crate::calendar::text_table(&rows));
            let n: usize = forms.iter().map(|f| f.rows.len()).sum();
            errln!("{n} roll-up row(s) of {} form(s)", forms.len());
        }
    }
}

/// Rows of one kind, each a fixed list of fields: JSON (the rows as they
/// serialize), CSV, or a plain-text table.
fn print_records<T: serde::Serialize>(
    rows: &[T],
    header: &[&str],
    line: impl Fn(&T) -> Vec<String>,
    format: RollupFormat,
) {
    let header: Vec<String> = header.iter().map(|s| (*s).to_string()).collect();
    match format {
        RollupFormat::Json => {
            let json = serde_json::to_string_pretty(rows).unwrap_or_default();
            outln!("{json}");
        }
        RollupFormat::Csv => {
            outln!("{}", csv_line(&header));
            for r in rows {
                outln!("{}", csv_line(&line(r)));
            }
        }
        RollupFormat::Table | RollupFormat::Xlsx => {
            let mut table = vec![header];
            table.extend(rows.iter().map(line));
            out!("{}", crate::calendar::text_table(&table));
        }
    }
}

fn print_completeness(rows: &[rollup::Completeness], format: RollupFormat) {
    let header = [
        "period",
        "unit",
        "name",
        "unit_level",
        "level",
        "due_date",
        "expected",
        "received",
        "on_time",
        "received_pct",
        "on_time_pct",
    ];
    let line = |r: &rollup::Completeness| {
        vec![
            r.period.clone(),
            r.unit.clone(),
            r.name.clone(),
            r.unit_level.clone(),
            r.level.clone(),
            r.due_date.clone(),
            r.expected.to_string(),
            r.received.to_string(),
            r.on_time.to_string(),
            r.received_pct.clone(),
            r.on_time_pct.clone(),
        ]
    };
    print_records(rows, &header, line, format);
}

fn print_reconciliations(rows: &[rollup::Reconciliation], format: RollupFormat) {
    let header = [
        "period", "unit", "name", "level", "rule", "severity", "message",
    ];
    let line = |r: &rollup::Reconciliation| {
        vec![
            r.period.clone(),
            r.unit.clone(),
            r.name.clone(),
            r.level.clone(),
            r.rule.clone(),
            r.severity.clone(),
            r.message.clone(),
        ]
    };
    print_records(rows, &header, line, format);
    if format == RollupFormat::Table {
        errln!("{} reconciliation(s) failing", rows.len());
    }
}
