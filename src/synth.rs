//! Synthetic regime libraries of any size, for benchmarks and scale tests.
//!
//! [`library`] builds, in memory, a library of `n` regimes of about 100 cells
//! and 10 rules each (grid and record forms, split and of-which rows,
//! computed columns, period references), with the real levels and unit types.
//! Deterministic: the same `n` gives the same text.

use crate::source::{SourceFile, SourceMap};

const LEVELS: &str = include_str!("../regimes/data/org/levels.yaml");

const UNITS: &str =
    "unit tonne \"tấn\"\nunit TEU \"TEU\"\nunit person \"người\"\nunit ha \"héc-ta\"\n";

/// The text of synthetic regime number `i`.
pub fn regime(i: usize) -> String {
    let (freq, unit) = match i % 4 {
        0 => ("monthly", "tonne"),
        1 => ("quarterly", "person"),
        2 => ("six_monthly", "ha"),
        _ => ("annual", "TEU"),
    };
    let mut rows = String::new();
    for r in 0..5 {
        rows.push_str(&format!(
            "      {n} total{r} \"Chỉ tiêu tổng {r}\" : decimal(14,2) [{unit}]\n        split \"Chia ra\" {{\n",
            n = r * 4 + 1
        ));
        for c in 1..=2 {
            rows.push_str(&format!(
                "          {n}.{c} part{r}_{c} \"Thành phần {c}\" : decimal(14,2) [{unit}]\n",
                n = r * 4 + 1
            ));
        }
        rows.push_str(&format!(
            "        }}\n        of_which \"Trong đó\" {{\n          {n}.3 sub{r} \"Trong đó\" : decimal(14,2) [{unit}]\n        }}\n",
            n = r * 4 + 1
        ));
    }
    let ytd = if freq == "annual" {
        "ytd \"Cùng kỳ\" = month".to_string()
    } else {
        "ytd \"Lũy kế\" = sum(month over year_to_date)".to_string()
    };
    let mut rules = String::new();
    for k in 0..8 {
        let r = k % 5;
        rules.push_str(&match k % 4 {
            0 => format!("  rule R{k:02} warning \"Tăng quá 30% ({{total{r}.month}})\":\n    abs(total{r}.month - total{r}.month@previous) <= 30% * total{r}.month@previous\n"),
            1 => format!("  rule R{k:02} error \"Không âm\": total{r}.month >= 0 and part{r}_1.month >= 0\n    missing zero\n"),
            2 => format!("  rule R{k:02} error \"Kế hoạch\": if(total{r}.plan > 0, total{r}.month <= total{r}.plan * 2, true)\n"),
            _ => format!("  rule R{k:02} info \"Tỷ lệ\": max(part{r}_1.month, part{r}_2.month) <= total{r}.month\n    missing skip_if_all\n"),
        });
    }
    rules.push_str("  rule R08 error \"Dự án\" for each B02: capital >= 0\n");
    rules.push_str("  rule R09 warning \"Có dự án\": count(B02) >= 0\n");
    format!(
        "use common.units\n\n\
regime synth.r{i} {{\n\
  title \"Báo cáo tổng hợp số {i}\"\n\
  basis \"Thông tư {i}/2025/TT-BTC\"\n\
  owner \"Bộ Tài chính\"\n\
  version 1 effective 2025-01-01\n\
  frequency {freq}\n\
  cutoff decree09\n\
  reporters province\n\
  flow province -> ministry -> government\n\
  deadline province 5 working days after cutoff, ministry 10 working days after cutoff, government 15 working days after cutoff\n\
  form B01 \"Biểu tổng hợp\" {{\n\
    columns {{\n\
      plan \"Kế hoạch\" entered\n\
      month \"Thực hiện\" entered\n\
      {ytd}\n\
      vs_plan \"% kế hoạch\" = month / plan : percent\n\
    }}\n\
    rows {{\n{rows}    }}\n\
  }}\n\
  form B02 \"Danh mục dự án\" records {{\n\
    name \"Tên\" : text(200) required\n\
    capital \"Vốn\" : money\n\
    started \"Ngày\" : date\n\
  }}\n\
{rules}}}\n"
    )
}

/// A library of `n` synthetic regimes, with the real levels and unit types.
pub fn library(n: usize) -> SourceMap {
    let mut map = SourceMap::new();
    map.add(SourceFile::new(
        "library.yaml",
        "library.yaml",
        "kind: library\nname: synthetic\n",
    ));
    map.add(SourceFile::new(
        "common/units.regime",
        "common/units.regime",
        UNITS,
    ));
    map.add(SourceFile::new(
        "data/org/levels.yaml",
        "data/org/levels.yaml",
        LEVELS,
    ));
    for i in 0..n {
        let rel = format!("synth/r{i:05}.regime");
        map.add(SourceFile::new(rel.clone(), rel, regime(i)));
    }
    map
}

/// Writes [`library`] to a folder (for whole-process timings).
pub fn write_library(dir: &std::path::Path, n: usize) -> std::io::Result<()> {
    for (_, f) in library(n).iter() {
        let path = dir.join(&f.rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::write(path, &f.text)?;
    }
    Ok(())
}
