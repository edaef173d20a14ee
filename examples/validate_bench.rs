//! Data for `scripts/bench-validate.sh`:
//! `cargo run --release --example validate_bench -- OUT_DIR ROWS`.
//!
//! Writes `OUT_DIR/lib/` (the regime library plus `bench/daily.regime`: a
//! daily regime of 20 decimal cells, each `range 0..1000` and required,
//! and 20 rules, most of them across cells), `OUT_DIR/rows.csv` (ROWS wide
//! rows: every commune of 2025, day after day from 1 July 2025) and
//! `OUT_DIR/schema.json` (the same per-column constraints as a Frictionless
//! Table Schema). Deterministic; about 0.5 % of the rows break a rule.

use std::io::Write as _;
use std::path::Path;

const CELLS: usize = 20;

fn regime() -> String {
    let mut t = String::from(
        "use common.units\n\nregime bench.daily {\n  title \"Báo cáo ngày (đo hiệu năng)\"\n  basis \"-\"\n  owner \"-\"\n  version 1\n  kind periodic\n  frequency daily\n  cutoff calendar\n  reporters commune\n  flow commune -> province\n  deadline commune 1 working days after cutoff, province 2 working days after cutoff\n  method electronic\n\n  form B01 \"Chỉ tiêu ngày\" {\n    rows {\n",
    );
    for i in 1..=CELLS {
        t.push_str(&format!(
            "      {i} r{i} \"Chỉ tiêu {i}\" : decimal(10,2) required range 0..1000\n"
        ));
    }
    t.push_str("    }\n  }\n");
    let rules = [
        "r1 + r2 <= 1990",
        "r3 >= r4 - 995",
        "r5 * 2 <= r6 + 1999",
        "abs(r7 - r8) <= 998",
        "max(r9, r10) < 999.5",
        "min(r11, r12) >= 0.01",
        "r13 / (r14 + 1) <= 900",
        "sum(r15, r16, r17) <= 2985",
        "r18 <= 99.5%  * 1000 + r19",
        "round(r20, 0) <= 999",
        "r1 + r3 + r5 + r7 + r9 <= 4980",
        "r2 + r4 + r6 + r8 + r10 <= 4980",
        "not (r11 > 999 and r12 > 999)",
        "if(r13 > 500, r14 >= 0, r15 >= 0)",
        "r16 - r17 >= -999",
        "r18 + r19 + r20 >= 0.5",
        "r1 * r2 <= 999000",
        "r3 / 10 + r4 / 10 <= 199",
        "abs(r5 - r6) + abs(r7 - r8) <= 1990",
        "r9 >= 0 or r10 >= 0",
    ];
    for (i, r) in rules.iter().enumerate() {
        t.push_str(&format!(
            "\n  rule R{:02} \"quy tắc {} ({{r1}})\":\n    {r}\n",
            i + 1,
            i + 1
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
            .unwrap_or_else(|| "target/bench-validate".into()),
    );
    let rows: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let lib = out.join("lib");
    copy_dir(Path::new("regimes"), &lib)?;
    std::fs::create_dir_all(lib.join("bench"))?;
    std::fs::write(lib.join("bench/daily.regime"), regime())?;

    // The communes of the 2025 edition.
    let sources =
        regc::source::load_library(&lib).map_err(|e| std::io::Error::other(e.to_string()))?;
    let c = regc::compile(&sources);
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
        write!(w, ",r{i}")?;
    }
    writeln!(w)?;
    let start = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or_default();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut written = 0;
    'days: for day in start.iter_days() {
        for unit in &communes {
            write!(w, "{unit},{}", day.format("%Y-%m-%d"))?;
            for _ in 0..CELLS {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly 0..999.99; now and then the top of the range.
                let v = if state.is_multiple_of(1000) {
                    99_999
                } else {
                    state % 99_900
                };
                write!(w, ",{}.{:02}", v / 100, v % 100)?;
            }
            writeln!(w)?;
            written += 1;
            if written >= rows {
                break 'days;
            }
        }
    }
    w.flush()?;

    let mut fields = vec![
        serde_json::json!({"name": "unit", "type": "string", "constraints": {"required": true}}),
        serde_json::json!({"name": "period", "type": "date", "constraints": {"required": true}}),
    ];
    for i in 1..=CELLS {
        fields.push(serde_json::json!({
            "name": format!("r{i}"), "type": "number",
            "constraints": {"required": true, "minimum": 0, "maximum": 1000}
        }));
    }
    std::fs::write(
        out.join("schema.json"),
        serde_json::to_string_pretty(&serde_json::json!({"fields": fields}))?,
    )?;
    eprintln!(
        "wrote {written} rows, {} communes, into {}",
        communes.len(),
        out.display()
    );
    Ok(())
}
