//! The four evaluators on random cases: random regimes of random rules
//! (arithmetic, division, rounding, min/max/sum, if, comparisons, logic,
//! percent literals, computed cells, previous periods, year to date, every
//! missing-value strategy) over random submissions (missing values, zeros,
//! boundaries, 18-digit numbers), evaluated by Rust, PostgreSQL, SQLite
//! and Node. Every violation (rule, unit, period, message) must be the
//! same. `REGC_DIFF_SEEDS` (default 20) regimes of 25 rules over 24
//! periods: 12,000 rule evaluations per run; a failure prints its seed
//! (`REGC_DIFF_SEED=N` reruns it alone).

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::db::{Conn, Target};
use regc::submission::{Context, Reader};
use std::fmt::Write as _;

use common::Rng;

const ROWS: usize = 5;
const RULES: usize = 25;

/// A random regime: rows c1..c5 (int or decimal), two computed rows, a
/// value column and a year-to-date column; RULES random rules.
fn regime(rng: &mut Rng) -> (String, Vec<(usize, u32)>) {
    let mut text = String::from(
        "use common.units\n\nregime test.diff {\n  title \"Vi phân\"\n  basis \"-\"\n  owner \"-\"\n  version 1\n  kind periodic\n  frequency monthly\n  cutoff calendar\n  reporters port_authority\n  flow port_authority -> ministry\n  deadline port_authority 5 days after cutoff, ministry 9 days after cutoff\n  method electronic\n\n  form B01 \"Biểu\" {\n    columns {\n      v   \"Giá trị\" entered\n      ytd \"Lũy kế\"  = sum(v over year_to_date)\n    }\n    rows {\n",
    );
    // (precision, scale) of each row; scale 0 and precision 18 is an int.
    let mut types = Vec::new();
    for i in 1..=ROWS {
        let (p, s) = if rng.chance(40) {
            (18, 0)
        } else {
            let s = 1 + rng.below(4) as u32;
            (s + 1 + rng.below(13) as u32, s)
        };
        let ty = if s == 0 {
            "int".to_string()
        } else {
            format!("decimal({p},{s})")
        };
        writeln!(text, "      {i} c{i} \"Chỉ tiêu {i}\" : {ty}").unwrap();
        types.push((p as usize, s));
    }
    text.push_str("      6 q \"Tỷ số\" = c1 / c2\n      7 t \"Tổng\" = c1 + c2 + c3\n    }\n  }\n");
    for k in 0..RULES {
        let missing = *rng.pick(&[
            "",
            "missing zero",
            "missing skip_if_all",
            "missing never",
            "missing skip_if_any",
        ]);
        let check = boolean(rng, 3);
        let p1 = number(rng, 1);
        writeln!(
            text,
            "\n  rule X{k:02} \"kiểm tra {k}: {{{}}}\":\n    {check}\n    {missing}",
            placeholder(rng)
        )
        .unwrap();
        let _ = p1;
    }
    text.push_str("}\n");
    (text, types)
}

fn cell(rng: &mut Rng) -> String {
    let row = *rng.pick(&["c1", "c2", "c3", "c4", "c5", "q", "t"]);
    let col = if rng.chance(25) { "ytd" } else { "v" };
    let period = if rng.chance(20) { "@previous" } else { "" };
    format!("{row}.{col}{period}")
}

fn placeholder(rng: &mut Rng) -> String {
    let row = *rng.pick(&["c1", "c2", "c3", "q", "t"]);
    format!("{row}.v")
}

fn literal(rng: &mut Rng, nonzero: bool) -> String {
    let n = rng.below(1000);
    let lit = match rng.below(4) {
        0 => format!("{}", n),
        1 => format!("{}.{}", n, rng.below(100)),
        2 => format!("{}%", 1 + rng.below(200)),
        _ => format!("0.{:03}", rng.below(1000)),
    };
    if nonzero && (lit == "0" || lit.trim_start_matches(['0', '.']).is_empty()) {
        "7".to_string()
    } else {
        lit
    }
}

fn number(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 || rng.chance(35) {
        return if rng.chance(80) {
            cell(rng)
        } else {
            literal(rng, false)
        };
    }
    let d = depth - 1;
    match rng.below(10) {
        0 => format!("({} + {})", number(rng, d), number(rng, d)),
        1 => format!("({} - {})", number(rng, d), number(rng, d)),
        2 => format!("({} * {})", number(rng, d), number(rng, d)),
        3 => {
            let den = if rng.chance(70) {
                cell(rng)
            } else {
                literal(rng, true)
            };
            format!("({} / {den})", number(rng, d))
        }
        4 => format!("abs({})", number(rng, d)),
        5 => format!("round({}, {})", number(rng, d), rng.below(4)),
        6 => format!("min({}, {})", number(rng, d), number(rng, d)),
        7 => format!(
            "max({}, {}, {})",
            number(rng, d),
            number(rng, d),
            number(rng, d)
        ),
        8 => format!("sum({}, {})", number(rng, d), number(rng, d)),
        _ => format!(
            "if({}, {}, {})",
            boolean(rng, d),
            number(rng, d),
            number(rng, d)
        ),
    }
}

fn boolean(rng: &mut Rng, depth: u32) -> String {
    let d = depth.saturating_sub(1);
    if depth == 0 || rng.chance(50) {
        let op = *rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
        return format!("{} {op} {}", number(rng, d), number(rng, d));
    }
    match rng.below(3) {
        0 => format!("({}) and ({})", boolean(rng, d), boolean(rng, d)),
        1 => format!("({}) or ({})", boolean(rng, d), boolean(rng, d)),
        _ => format!("not ({})", boolean(rng, d)),
    }
}

/// A random value of a row's type: missing, zero, a boundary or any.
fn value(rng: &mut Rng, (p, s): (usize, u32)) -> Option<String> {
    if rng.chance(15) {
        return None;
    }
    if rng.chance(12) {
        return Some("0".into());
    }
    let int_digits = p - s as usize;
    let digits = if rng.chance(10) {
        int_digits
    } else {
        1 + rng.below(int_digits.min(6) as u64) as usize
    };
    let whole: String = if rng.chance(50) && digits == int_digits {
        "9".repeat(digits)
    } else {
        (0..digits)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let sign = if rng.chance(20) { "-" } else { "" };
    Some(if s == 0 {
        format!("{sign}{whole}")
    } else {
        let frac: String = (0..s)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        format!("{sign}{whole}.{frac}")
    })
}

fn data(rng: &mut Rng, types: &[(usize, u32)]) -> String {
    let mut csv = String::from("unit,period,form,record,cell,value\n");
    for year in [2024, 2025] {
        for month in 1..=12 {
            for (i, ty) in types.iter().enumerate() {
                if let Some(v) = value(rng, *ty) {
                    writeln!(csv, "CVHH-HP,{year}-{month:02},B01,,c{}.v,{v}", i + 1).unwrap();
                }
            }
        }
    }
    csv
}

type Row = (String, String, String, String);

fn node_available() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok();
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and node is not installed");
    }
    ok
}

fn seeds() -> Vec<u64> {
    if let Some(one) = std::env::var("REGC_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![one];
    }
    let n: u64 = std::env::var("REGC_DIFF_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    (1..=n)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect()
}

#[test]
fn rust_postgres_sqlite_and_node_agree_on_random_rules() {
    let node = node_available();
    let pg_schema = common::PgSchema::new("diff");
    let mut evaluations = 0usize;
    let mut violations = 0usize;
    for seed in seeds() {
        let mut rng = Rng(seed | 1);
        let (text, types) = regime(&mut rng);
        let sources = common::with_case("diff.regime", &text);
        let c = regc::compile(&sources);
        assert!(
            !c.has_errors(),
            "seed {seed}: the generator wrote an invalid regime:\n{text}\n{}",
            common::render_all(&c, &sources)
        );
        let lib = &c.library;
        let r = &lib.regimes[0];
        let csv = data(&mut rng, &types);
        if let Ok(dir) = std::env::var("REGC_DIFF_DUMP") {
            std::fs::write(format!("{dir}/diff-{seed}.regime"), &text).unwrap();
            std::fs::write(format!("{dir}/diff-{seed}.csv"), &csv).unwrap();
        }
        let mut ctx = Context::new(lib, r);
        let mut reader = Reader::default();
        reader.read_csv(&mut ctx, "diff.csv", csv.as_bytes());
        assert!(reader.errors.is_empty(), "seed {seed}: {:?}", reader.errors);

        // Rust.
        let mut store = regc::eval::Store::default();
        let mut targets = Vec::new();
        for s in reader.submissions.values() {
            targets.push((s.unit.clone(), s.period.clone()));
            store.insert(&r.code, s.clone());
        }
        targets.sort();
        targets.dedup();
        let report = regc::validate::validate(r, &store, &targets, &[]);
        evaluations += targets.len() * r.rules.len();
        let mut rust: Vec<Row> = report
            .violations
            .iter()
            .map(|v| {
                (
                    v.unit.clone(),
                    v.period.clone(),
                    v.rule.clone(),
                    v.message.clone(),
                )
            })
            .collect();
        rust.sort();
        violations += rust.len();
        let explain = |engine: &str, got: &[Row]| {
            let missing: Vec<&Row> = rust.iter().filter(|r| !got.contains(r)).collect();
            let extra: Vec<&Row> = got.iter().filter(|r| !rust.contains(r)).collect();
            format!(
                "seed {seed} (rerun with REGC_DIFF_SEED={seed}): {engine} differs from Rust\nonly in Rust: {missing:#?}\nonly in {engine}: {extra:#?}\nregime:\n{text}"
            )
        };

        // PostgreSQL and SQLite: import, apply the rules view, read it.
        let subs: Vec<&regc::submission::Submission> = reader.submissions.values().collect();
        let opts = regc::db::import::Options {
            status: "submitted".into(),
            submitter: None,
            now: "2025-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        let mut engines = vec![("sqlite", Target::Sqlite(":memory:".into()))];
        if let Some(pg) = &pg_schema {
            engines.push(("postgres", Target::parse(&pg.url).unwrap()));
        }
        for (name, target) in engines {
            let started = std::time::Instant::now();
            let mut conn = Conn::open(&target).unwrap();
            if name == "postgres" {
                let s = &pg_schema.as_ref().unwrap().name;
                conn.exec(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE; CREATE SCHEMA \"{s}\"; SET search_path TO \"{s}\""))
                    .unwrap();
            }
            regc::db::import::import(&mut conn, lib, r, &ctx.layout, &subs, &opts).unwrap();
            let imported = started.elapsed();
            let script = regc::emit::rules_sql::rules_sql(r, &ctx.layout, conn.dialect()).unwrap();
            let generated = started.elapsed();
            let script_len = script.len();
            conn.exec(&script)
                .unwrap_or_else(|e| panic!("seed {seed} {name}: {e}"));
            let sql = format!(
                "SELECT \"unit\", \"period\", \"rule\", \"message\" FROM {}",
                regc::sql::ident(&regc::emit::rules_sql::view_name(r))
            );
            let mut got: Vec<Row> = conn
                .query_text(&sql, &[])
                .unwrap_or_else(|e| panic!("seed {seed} {name}: {e}"))
                .into_iter()
                .map(|row| {
                    let s = |i: usize| row[i].clone().unwrap_or_default();
                    (s(0), s(1), s(2), s(3))
                })
                .collect();
            got.sort();
            assert!(got == rust, "{}", explain(name, &got));
            if std::env::var("REGC_DIFF_TIMES").is_ok() {
                eprintln!(
                    "seed {seed}: {name} {:?} (import {imported:?}, generated {generated:?}, {script_len} bytes)",
                    started.elapsed()
                );
            }
        }

        // Node.
        if node {
            let dir = std::env::temp_dir().join(format!("regc-diff-{}-{seed}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let rules = serde_json::to_string(&regc::emit::rules::rules_file(lib, r)).unwrap();
            std::fs::write(dir.join("rules.json"), rules).unwrap();
            std::fs::write(dir.join("set.json"), store.to_json(&r.code).to_string()).unwrap();
            let out = std::process::Command::new("node")
                .arg(common::repo().join("tests/js/run.mjs"))
                .arg(dir.join("rules.json"))
                .arg(dir.join("set.json"))
                .output()
                .unwrap();
            let _ = std::fs::remove_dir_all(&dir);
            assert!(
                out.status.success(),
                "seed {seed}: node: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let mut got: Vec<Row> = v["violations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    let s = |k: &str| x[k].as_str().unwrap_or_default().to_string();
                    (s("unit"), s("period"), s("rule"), s("message"))
                })
                .collect();
            got.sort();
            assert!(got == rust, "{}", explain("node", &got));
        }
    }
    eprintln!("{evaluations} rule evaluations, {violations} violations, all evaluators agree");
    if seeds().len() >= 20 {
        assert!(evaluations >= 10_000, "only {evaluations} evaluations");
    }
    // Not vacuous: the random rules do fail, and do divide by zero.
    assert!(violations > 0);
}
