//! Data for the other-period case of `scripts/bench-validate.sh`:
//! `cargo run --release --example validate_window_bench -- OUT_DIR ROWS`.
//!
//! Writes `OUT_DIR/lib/` (the regime library plus `bench/monthly.regime`:
//! a monthly regime reported by communes, 20 decimal cells, rules on the
//! previous month, the year to date and the same month last year, so that
//! a check reaches 23 months back) and `OUT_DIR/rows.csv` (ROWS wide rows:
//! every commune of 2025, month after month from July 2025, as a file of
//! monthly reports appended one after the other). Deterministic; few rows break a rule.

use std::io::Write as _;
use std::path::Path;

const CELLS: usize = 20;

fn regime() -> String {
    let mut t = String::from(
        "use common.units\n\nregime bench.monthly {\n  title \"Báo cáo tháng (đo hiệu năng)\"\n  basis \"-\"\n  owner \"-\"\n  version 1\n  kind periodic\n  frequency monthly\n  cutoff calendar\n  reporters commune\n  flow commune -> province\n  deadline commune 5 working days after cutoff, province 10 working days after cutoff\n  method electronic\n\n  form B01 \"Chỉ tiêu tháng\" {\n    columns {\n      month \"Thực hiện tháng\" entered\n      ytd \"Lũy kế từ đầu năm\" = sum(month over year_to_date)\n      vs_ly \"Lũy kế so với cùng kỳ (%)\" = ytd / ytd@same_period_last_year : percent\n    }\n    rows {\n",
    );
    for i in 1..=CELLS {
        t.push_str(&format!(
            "      {i} r{i} \"Chỉ tiêu {i}\" : decimal(12,2) required range 0..1000\n"
        ));
    }
    t.push_str("    }\n  }\n");
    for i in 1..=CELLS {
        let rule = match i % 4 {
            0 => format!(
                "abs(r{i}.month - r{i}.month@previous) <= 2 * r{i}.month@previous + 990\n    missing skip_if_any"
            ),
            1 => format!("r{i}.ytd <= 11950"),
            2 => format!("r{i}.vs_ly <= 5000%\n    missing skip_if_any"),
            _ => format!("r{i}.month <= r{i}.ytd"),
        };
        t.push_str(&format!(
            "\n  rule R{i:02} warning \"quy tắc {i} ({{r{i}.month}})\":\n    {rule}\n"
        ));
    }
    t.push_str("}\n");
    t
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let p = e?.path();
        let target = to.join(p.file_name().unwrap_or_default());
        if p.is_dir() {
            copy_dir(&p, &target)?;
        } else {
            std::fs::copy(&p, &target)?;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/bench-validate-window".into()),
    );
    let rows: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let lib = out.join("lib");
    copy_dir(Path::new("regimes"), &lib)?;
    std::fs::create_dir_all(lib.join("bench"))?;
    std::fs::write(lib.join("bench/monthly.regime"), regime())?;

    let sources =
        regc::source::load_library(&lib).map_err(|e| std::io::Error::other(e.to_string()))?;
    let c = regc::compile(&sources);
    if c.has_errors() {
        return Err(std::io::Error::other(
            "bench/monthly.regime does not compile",
        ));
    }
    let communes: Vec<String> = c
        .library
        .org
        .editions
        .iter()
        .filter(|e| e.edition == "2025")
        .flat_map(|e| e.units.iter())
        .filter(|u| u.level == "commune")
        .map(|u| u.code.clone())
        .collect();
    if communes.is_empty() {
        return Err(std::io::Error::other("no communes in the 2025 edition"));
    }

    let mut w = std::io::BufWriter::new(std::fs::File::create(out.join("rows.csv"))?);
    write!(w, "unit,period")?;
    for i in 1..=CELLS {
        write!(w, ",r{i}.month")?;
    }
    writeln!(w)?;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut written = 0;
    'months: for m in 6.. {
        let period = format!("{}-{:02}", 2025 + m / 12, m % 12 + 1);
        for unit in &communes {
            write!(w, "{unit},{period}")?;
            for _ in 0..CELLS {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let v = state % 99_900;
                write!(w, ",{}.{:02}", v / 100, v % 100)?;
            }
            writeln!(w)?;
            written += 1;
            if written >= rows {
                break 'months;
            }
        }
    }
    w.flush()?;
    eprintln!(
        "wrote {written} rows, {} communes, into {}",
        communes.len(),
        out.display()
    );
    Ok(())
}
