//! Benchmark of the generated roll-ups (scripts/bench-rollup.sh): every
//! commune of the 2025 hierarchy reports a monthly regime of 20 cells for
//! MONTHS months (2026 on); the reports are imported into PostgreSQL (and
//! SQLite), then the generated roll-up view (all units and levels, months,
//! quarters, halves, nine months and years; also the provinces and the
//! country only, and completeness) is materialized and timed
//! against a hand-written query for the same result, which must give the
//! same rows.
//!
//! Usage: rollup_bench POSTGRES_URL|- SQLITE_PATH [MONTHS]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use regc::db::{Conn, Target};
use regc::submission::{Context, Reader};
use std::fmt::Write as _;
use std::time::Instant;

const REGIME: &str = "regime bench.rollup {
  title     \"Tổng hợp quy mô quốc gia\"
  basis     \"-\"
  owner     \"-\"
  version   1
  kind      periodic
  frequency monthly
  cutoff    calendar
  reporters commune
  flow      commune -> province -> government
  deadline  commune 5 days after cutoff, province 10 days after cutoff, government 15 days after cutoff
  method    electronic

  form B01 \"Biểu\" {
    rows {
      1  c01 \"Chỉ tiêu 1\"  : int
      2  c02 \"Chỉ tiêu 2\"  : int
      3  c03 \"Chỉ tiêu 3\"  : int
      4  c04 \"Chỉ tiêu 4\"  : int
      5  c05 \"Chỉ tiêu 5\"  : int
      6  c06 \"Chỉ tiêu 6\"  : int
      7  c07 \"Chỉ tiêu 7\"  : decimal(14,2)
      8  c08 \"Chỉ tiêu 8\"  : decimal(14,2)
      9  c09 \"Chỉ tiêu 9\"  : decimal(14,2)
      10 c10 \"Chỉ tiêu 10\" : decimal(14,2)
      11 c11 \"Chỉ tiêu 11\" : int aggregate time last
      12 c12 \"Chỉ tiêu 12\" : int aggregate time last
      13 c13 \"Chỉ tiêu 13\" : int aggregate time last
      14 c14 \"Chỉ tiêu 14\" : int aggregate time last
      15 c15 \"Chỉ tiêu 15\" : int aggregate units average time average
      16 c16 \"Chỉ tiêu 16\" : int aggregate units average time average
      17 c17 \"Chỉ tiêu 17\" : int aggregate units max time max
      18 c18 \"Chỉ tiêu 18\" : int aggregate units min time min
      19 c19 \"Chỉ tiêu 19\" : int aggregate units count time last
      20 c20 \"Chỉ tiêu 20\" : int aggregate time first
    }
  }
}
";

/// The hand-written query: current revisions with DISTINCT ON, roll-up
/// periods by date arithmetic instead of the membership tables, one
/// edition (all the data are of 2025's), the same aggregates, and the
/// same exact division for averages (`regc_div`, of the core schema).
fn hand_written() -> String {
    let mut per = String::new();
    let mut up = String::new();
    for i in 1..=20 {
        let c = format!("c{i:02}");
        let t = match i {
            11..=14 | 19 => {
                format!("(array_agg({c} ORDER BY end_date DESC) FILTER (WHERE {c} IS NOT NULL))[1]")
            }
            15 | 16 => format!("regc_div(sum({c}), count({c}))"),
            17 => format!("max({c})"),
            18 => format!("min({c})"),
            20 => format!("(array_agg({c} ORDER BY end_date) FILTER (WHERE {c} IS NOT NULL))[1]"),
            _ => format!("sum({c})"),
        };
        let u = match i {
            15 | 16 => format!("regc_div(sum({c}), count({c}))"),
            17 => format!("max({c})"),
            18 => format!("min({c})"),
            19 => format!("count({c})"),
            _ => format!("sum({c})"),
        };
        write!(per, ", {t} AS {c}").unwrap();
        write!(up, ", {u} AS {c}").unwrap();
    }
    format!(
        "WITH cur AS (
  SELECT DISTINCT ON (s.unit, s.period) s.unit, s.period, s.id
  FROM regc_submission s WHERE s.regime = 'bench.rollup' AND s.form = 'B01'
  ORDER BY s.unit, s.period, (s.status = 'approved') DESC, s.revision DESC),
base AS (
  SELECT cur.unit, p.end_date, t.*
  FROM cur JOIN \"bench.rollup.B01\" t ON t.submission_id = cur.id
  JOIN regc_period p ON p.regime = 'bench.rollup' AND p.code = cur.period),
periods AS (
  SELECT b.*, f.frequency, f.period FROM base b CROSS JOIN LATERAL (VALUES
    ('monthly', to_char(b.end_date, 'YYYY-MM')),
    ('quarterly', to_char(b.end_date, 'YYYY') || '-Q' || extract(quarter FROM b.end_date)),
    ('six_monthly', to_char(b.end_date, 'YYYY') || CASE WHEN extract(month FROM b.end_date) <= 6 THEN '-H1' ELSE '-H2' END),
    ('nine_monthly', CASE WHEN extract(month FROM b.end_date) <= 9 THEN to_char(b.end_date, 'YYYY') || '-9M' END),
    ('annual', to_char(b.end_date, 'YYYY'))) AS f(frequency, period)
  WHERE f.period IS NOT NULL),
per AS (
  SELECT frequency, period, unit{per} FROM periods GROUP BY frequency, period, unit)
SELECT per.frequency, per.period, '2025' AS edition, c.ancestor AS unit, u.level, count(*) AS reporters{up}
FROM per JOIN regc_org_closure c ON c.edition = '2025' AND c.descendant = per.unit
JOIN regc_org_unit u ON u.code = c.ancestor
GROUP BY per.frequency, per.period, c.ancestor, u.level"
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(pg_url), Some(sqlite_path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: rollup_bench POSTGRES_URL SQLITE_PATH [MONTHS]");
        std::process::exit(2);
    };
    let months: u32 = args.get(3).and_then(|m| m.parse().ok()).unwrap_or(36);
    let mut sources =
        regc::source::load_library(std::path::Path::new("regimes")).expect("regimes/");
    sources.add(regc::source::SourceFile::new(
        "bench/rollup.regime",
        "bench/rollup.regime",
        REGIME,
    ));
    let c = regc::compile(&sources);
    assert!(!c.has_errors(), "the bench regime compiles");
    let lib = &c.library;
    let r = lib
        .regimes
        .iter()
        .find(|r| r.code == "bench.rollup")
        .expect("bench regime");
    let edition = lib
        .org
        .editions
        .iter()
        .find(|e| e.edition == "2025")
        .expect("edition 2025");
    let communes: Vec<&str> = edition
        .units
        .iter()
        .filter(|u| u.level == "commune")
        .map(|u| u.code.as_str())
        .collect();

    // Wide CSV: one row per commune and month; a value now and then blank.
    let mut csv = String::from("unit,period,form");
    for i in 1..=20 {
        write!(csv, ",c{i:02}").unwrap();
    }
    csv.push('\n');
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for m in 0..months {
        let period = format!("{}-{:02}", 2026 + m / 12, m % 12 + 1);
        for u in &communes {
            write!(csv, "{u},{period},B01").unwrap();
            for i in 1..=20 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x.is_multiple_of(20) {
                    csv.push(',');
                } else if (7..=10).contains(&i) {
                    write!(csv, ",{}.{:02}", x % 100_000, (x >> 20) % 100).unwrap();
                } else {
                    write!(csv, ",{}", x % 10_000).unwrap();
                }
            }
            csv.push('\n');
        }
    }
    let reports = communes.len() as u64 * u64::from(months);
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::default();
    reader.read_csv(&mut ctx, "bench.csv", csv.as_bytes());
    assert!(reader.errors.is_empty(), "{:?}", reader.errors.first());
    let subs: Vec<&regc::submission::Submission> = reader.submissions.values().collect();
    let opts = regc::db::import::Options {
        status: "submitted".into(),
        submitter: None,
        now: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    println!(
        "{} communes × {months} months = {reports} reports × 20 cells",
        communes.len()
    );

    let mut targets = vec![("sqlite", Target::Sqlite(sqlite_path.into()))];
    if pg_url != "-" {
        targets.insert(
            0,
            ("postgres", Target::parse(pg_url).expect("postgres URL")),
        );
    }
    for (name, target) in targets {
        let mut conn = Conn::open(&target).expect("database");
        let t = Instant::now();
        regc::db::import::import(&mut conn, lib, r, &ctx.layout, &subs, &opts).expect("import");
        println!("{name:<9} import {:>8.2} s", t.elapsed().as_secs_f64());
        regc::db::rollup::apply_views(&mut conn, r, &ctx.layout).expect("views");
        let view = regc::sql::ident(&regc::emit::aggregate::rollup_view(r, "B01"));
        let completeness = regc::sql::ident(&regc::emit::aggregate::completeness_view(r));
        let runs = 3;
        // (b) every level, (a) provinces and the country only, (c)
        // completeness: each materialized `runs` times, median reported.
        let cases = [
            ("(b) every level", format!("SELECT * FROM {view}")),
            (
                "(a) provinces + country",
                format!("SELECT * FROM {view} WHERE \"level\" <> 'commune'"),
            ),
            ("(c) completeness", format!("SELECT * FROM {completeness}")),
        ];
        let mut gen_b = f64::MAX;
        for (label, query) in &cases {
            let mut times = Vec::new();
            for _ in 0..runs {
                conn.exec("DROP TABLE IF EXISTS bench_gen").expect("drop");
                let t = Instant::now();
                conn.exec(&format!("CREATE TEMP TABLE bench_gen AS {query}"))
                    .expect("generated roll-up");
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            let rows = conn
                .query_text("SELECT CAST(count(*) AS TEXT) FROM bench_gen", &[])
                .expect("count")
                .first()
                .and_then(|r| r.first().cloned())
                .flatten()
                .unwrap_or_default();
            println!(
                "{name:<9} generated {label:<24} median {:>8.3} s (runs: {}), {rows} rows",
                times[runs / 2],
                times
                    .iter()
                    .map(|t| format!("{t:.3}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if label.starts_with("(b)") {
                gen_b = times[runs / 2];
            }
        }
        // Leave the full roll-up in bench_gen for the comparison below.
        conn.exec("DROP TABLE IF EXISTS bench_gen").expect("drop");
        conn.exec(&format!(
            "CREATE TEMP TABLE bench_gen AS SELECT * FROM {view}"
        ))
        .expect("generated roll-up");
        if name != "postgres" {
            continue;
        }
        let mut hand = Vec::new();
        for _ in 0..runs {
            conn.exec("DROP TABLE IF EXISTS bench_hand").expect("drop");
            let t = Instant::now();
            conn.exec(&format!(
                "CREATE TEMP TABLE bench_hand AS {}",
                hand_written()
            ))
            .expect("hand-written roll-up");
            hand.push(t.elapsed().as_secs_f64());
        }
        hand.sort_by(f64::total_cmp);
        let hand_b = hand[runs / 2];
        // The same rows: every value of the hand-written result in the
        // generated one and the other way round.
        let mut cols = vec![
            "frequency".to_string(),
            "period".into(),
            "edition".into(),
            "unit".into(),
            "level".into(),
            "reporters".into(),
        ];
        cols.extend((1..=20).map(|i| format!("c{i:02}")));
        let list = cols.join(", ");
        let diff = conn
            .query_text(
                &format!("SELECT CAST(count(*) AS TEXT) FROM ((SELECT {list} FROM bench_gen EXCEPT SELECT {list} FROM bench_hand) UNION ALL (SELECT {list} FROM bench_hand EXCEPT SELECT {list} FROM bench_gen)) AS d"),
                &[],
            )
            .expect("compare");
        let differing = diff
            .first()
            .and_then(|r| r.first().cloned())
            .flatten()
            .unwrap_or_default();
        println!(
            "{name:<9} hand-written {:<24} median {hand_b:>8.3} s; rows differing: {differing}",
            "(b) every level"
        );
        println!(
            "ratio (b): generated / hand-written = {:.2} (target ≤ 1.2)",
            gen_b / hand_b
        );
    }
}
