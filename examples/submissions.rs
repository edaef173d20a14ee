//! Writes a long-format CSV of valid submissions for a regime of the
//! library, for import benchmarks:
//! `cargo run --release --example submissions -- REGIME ROWS OUT.csv [LIB]`.
//!
//! Every unit that reports the regime, period after period from 2025 on,
//! every entered cell of its grid forms, with values that fit each cell's
//! type and range. Deterministic.

use regc::layout::Storage;
use std::io::Write as _;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(code), Some(rows), Some(out)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: submissions REGIME ROWS OUT.csv [LIB]");
        std::process::exit(2);
    };
    let rows: usize = rows.parse().unwrap_or(1_000_000);
    let lib_dir = args.next().unwrap_or_else(|| "regimes".into());
    let sources = regc::source::load_library(std::path::Path::new(&lib_dir)).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let c = regc::compile(&sources);
    let Some(r) = c.library.regimes.iter().find(|r| r.code == code) else {
        eprintln!("error: no regime {code}");
        std::process::exit(2);
    };
    let layout = regc::layout::regime(r);
    let cells: Vec<(&str, &regc::layout::Column)> = layout
        .tables
        .iter()
        .filter(|t| t.kind == regc::ir::FormKind::Grid)
        .flat_map(|t| t.columns.iter().map(move |c| (t.form.as_str(), c)))
        .collect();
    let days = regc::calendar::WorkingDays::of_library(&c.library);
    let file = std::fs::File::create(&out).unwrap_or_else(|e| {
        eprintln!("error: {out}: {e}");
        std::process::exit(2);
    });
    let mut w = std::io::BufWriter::new(file);
    let _ = writeln!(w, "unit,period,form,record,cell,value");
    let mut written = 0usize;
    let mut n = 0u64;
    'years: for year in 2025..2100 {
        for p in regc::calendar::periods(r, year, &days) {
            // The units of a reporting level on the period's cut-off day.
            let units: Vec<&str> = c
                .library
                .org
                .editions
                .iter()
                .filter(|e| {
                    e.valid_from.is_none_or(|f| f <= p.end) && e.valid_to.is_none_or(|t| p.end <= t)
                })
                .flat_map(|e| e.units.iter())
                .filter(|u| r.reporters.contains(&u.level))
                .map(|u| u.code.as_str())
                .collect();
            for unit in units {
                for (form, col) in &cells {
                    n += 1;
                    let value = value(&col.storage, col.range.as_ref(), n, &c.library);
                    let _ = writeln!(w, "{unit},{},{form},,{},{value}", p.id, col.cell);
                    written += 1;
                    if written >= rows {
                        break 'years;
                    }
                }
            }
        }
    }
    let _ = w.flush();
    eprintln!("wrote {written} rows of {code} to {out}");
}

fn value(s: &Storage, range: Option<&regc::ir::Range>, n: u64, lib: &regc::ir::Library) -> String {
    let bound = |b: Option<&String>, default: u64| -> u64 {
        b.and_then(|v| v.split('.').next()?.parse().ok())
            .unwrap_or(default)
    };
    let lo = bound(range.map(|r| &r.min), 0);
    let hi = bound(range.map(|r| &r.max), 1_000_000).clamp(lo + 1, lo + 1_000_000);
    // In [lo, hi - 1]: with any fraction below 1 it stays within the range.
    let whole = lo + n.wrapping_mul(2_654_435_761) % (hi - lo);
    match s {
        Storage::Integer => whole.to_string(),
        Storage::Decimal { scale: 0, .. } => whole.to_string(),
        Storage::Decimal { scale, .. } => {
            let frac = n % 10u64.pow((*scale).min(2));
            format!("{whole}.{frac:0>width$}", width = (*scale).min(2) as usize)
        }
        Storage::Text { .. } => format!("text {n}"),
        Storage::Date => "2025-01-01".into(),
        Storage::Bool => "true".into(),
        Storage::Code { codelist } => lib
            .codelists
            .iter()
            .find(|c| &c.code == codelist)
            .and_then(|c| c.values.first())
            .map(|v| v.code.clone())
            .unwrap_or_default(),
    }
}
