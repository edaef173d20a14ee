//! The Rust evaluator and `regc validate`: the library's samples give
//! exactly their annotated verdicts, golden cases give the verdicts
//! computed by hand, and rules on earlier periods read them from a
//! database of either engine.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use chrono::Datelike;
use regc::submission::{Context, Reader};
use std::collections::BTreeSet;
use std::path::Path;

use common::{regc, text};

/// Validates `files` against `regime` of `lib` in process.
fn run(lib: &regc::ir::Library, regime: &str, files: &[&Path]) -> regc::validate::Report {
    let r = lib.regimes.iter().find(|r| r.code == regime).unwrap();
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::default();
    for f in files {
        reader.read_path(&mut ctx, f).unwrap();
    }
    let bad: Vec<_> = reader
        .errors
        .iter()
        .filter_map(|e| e.value.clone())
        .collect();
    assert_eq!(
        bad.len(),
        reader.errors.len(),
        "{regime}: input errors {:?}",
        reader.errors
    );
    let mut store = regc::eval::Store::default();
    let mut targets = Vec::new();
    for s in reader.submissions.into_values() {
        targets.push((s.unit.clone(), s.period.clone()));
        store.insert(regime, s);
    }
    targets.sort();
    targets.dedup();
    regc::validate::validate(r, &store, &targets, &bad)
}

#[test]
fn the_samples_give_exactly_their_annotated_verdicts() {
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let mut regimes: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    regimes.sort();
    assert_eq!(regimes.len(), 19);
    for regime in regimes {
        let valid = run(lib, &regime, &[&dir.join(&regime).join("valid.csv")]);
        assert!(
            valid.violations.is_empty(),
            "{regime}: valid.csv breaks {:#?}",
            valid.violations
        );
        assert!(valid.evaluated > 0, "{regime}: nothing evaluated");
        let invalid = run(lib, &regime, &[&dir.join(&regime).join("invalid.csv")]);
        let got: BTreeSet<String> = invalid.violations.iter().map(|v| v.rule.clone()).collect();
        let want: BTreeSet<String> =
            std::fs::read_to_string(dir.join(&regime).join("invalid.breaks.txt"))
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_whitespace().next().map(str::to_string))
                .collect();
        assert_eq!(got, want, "{regime}: rules broken by invalid.csv");
    }
}

#[test]
fn golden_cases_give_the_verdicts_computed_by_hand() {
    let dir = common::repo().join("tests/fixtures/golden");
    let source = std::fs::read_to_string(dir.join("golden.regime")).unwrap();
    let sources = common::with_case("golden.regime", &source);
    let c = regc::compile(&sources);
    assert!(!c.has_errors(), "{}", common::render_all(&c, &sources));
    let report = run(&c.library, "test.golden", &[&dir.join("golden.csv")]);
    let got: BTreeSet<String> = report
        .violations
        .iter()
        .map(|v| {
            let record = v.record.map(|r| format!(" {r}")).unwrap_or_default();
            format!("{} {}{record} {}", v.period, v.rule, v.kind)
        })
        .collect();
    let want: BTreeSet<String> = std::fs::read_to_string(dir.join("golden.expected.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert_eq!(got, want);
    // Messages are filled with the values read (blank ones shown so).
    let msg = |rule: &str| {
        report
            .violations
            .iter()
            .find(|v| v.rule == rule)
            .map(|v| v.message.clone())
            .unwrap()
    };
    assert_eq!(msg("G02"), "zero: 10 + 4");
    assert_eq!(msg("G04"), "never: (trống)");
    assert_eq!(msg("G08"), "year to date 30");
    assert_eq!(msg("G12"), "for each 2");
}

#[test]
fn exit_codes_and_formats() {
    let dir = "tests/samples/transport.seaport_cargo";
    let o = regc(&[
        "validate",
        "transport.seaport_cargo",
        &format!("{dir}/valid.csv"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 error(s)"));
    let o = regc(&[
        "validate",
        "transport.seaport_cargo",
        &format!("{dir}/invalid.csv"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    insta::assert_snapshot!("validate_seaport_invalid_human", text(&o));
    let o = regc(&[
        "validate",
        "transport.seaport_cargo",
        &format!("{dir}/invalid.csv"),
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["summary"]["errors"], 4);
    assert_eq!(json["violations"][0]["unit"], "CVHH-HP");
    let o = regc(&[
        "validate",
        "transport.seaport_cargo",
        &format!("{dir}/invalid.csv"),
        "--format",
        "csv",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("unit,period,form,record,cell,rule,kind,severity,message\n"));
    assert_eq!(out.lines().count(), 5);
    // Files that are not submissions of the regime: exit 2, with lines.
    let bad = std::env::temp_dir().join(format!("regc-validate-bad-{}.csv", std::process::id()));
    std::fs::write(
        &bad,
        "unit,period,form,record,cell,value\nCVHH-HP,2025-01,B09,,x,1\n",
    )
    .unwrap();
    let o = regc(&["validate", "transport.seaport_cargo", bad.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bad);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(":2 [cell]: unknown form `B09`"),
        "{}",
        text(&o)
    );
}

/// R01 of the seaport regime compares a month with the one before: with
/// January stored in a database, February's doubling is reported.
#[test]
fn rules_on_earlier_periods_read_the_history_database() {
    let jan = common::repo().join("tests/samples/transport.seaport_cargo/valid.csv");
    let dir = std::env::temp_dir().join(format!("regc-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let feb = dir.join("feb.csv");
    std::fs::write(
        &feb,
        "unit,period,form,record,cell,value\nCVHH-HP,2025-02,B01,,cargo.month,31704295.10\nCVHH-HP,2025-02,B01,,export.month,31704295.10\n",
    )
    .unwrap();
    let mut dbs = vec![(format!("sqlite:{}", dir.join("h.db").display()), None)];
    if let Some(pg) = common::PgSchema::new("history") {
        dbs.push((pg.url.clone(), Some(pg)));
    }
    for (db, _guard) in &dbs {
        // Without history, R01 cannot be evaluated (skipped, missing).
        let o = regc(&[
            "validate",
            "transport.seaport_cargo",
            feb.to_str().unwrap(),
            "--format",
            "csv",
        ]);
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains(",R01,"),
            "{}",
            text(&o)
        );
        let o = regc(&[
            "import",
            "transport.seaport_cargo",
            jan.to_str().unwrap(),
            "--db",
            db,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = regc(&[
            "validate",
            "transport.seaport_cargo",
            feb.to_str().unwrap(),
            "--history",
            db,
            "--format",
            "csv",
        ]);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            out.contains(",R01,written,warning,Sản lượng tháng tăng/giảm quá 30% so với tháng trước (31704295.1 so với 15852147.55)"),
            "{db}: {}",
            text(&o)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_rules_json_follows_the_published_schema() {
    let (sources, lib) = common::library();
    let schema: serde_json::Value = serde_json::from_str(regc::emit::rules::SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let files = regc::cli::artifacts(lib, sources, None).unwrap();
    let mut checked = 0;
    for (path, text) in &files {
        if !path.ends_with("/rules.json") {
            continue;
        }
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
        checked += 1;
        // The schema is not vacuous: a rule with an unknown operator fails.
        let mut broken = doc.clone();
        broken["rules"][0]["check"]["op"] = serde_json::json!("modulo");
        assert!(
            !validator.is_valid(&broken),
            "{path}: a broken check passed"
        );
    }
    assert_eq!(checked, 19);
    assert!(
        files
            .iter()
            .any(|(p, t)| p == "rules.schema.json" && t == regc::emit::rules::SCHEMA)
    );
}

/// The same submissions as CSV, as a JSON submission set and as an Excel
/// workbook give the same report.
#[test]
fn json_and_excel_files_read_like_csv() {
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples/transport.seaport_cargo");
    let csv_path = dir.join("invalid.csv");
    let from_csv = run(lib, "transport.seaport_cargo", &[&csv_path]);
    assert!(!from_csv.violations.is_empty());
    let tmp = std::env::temp_dir().join(format!("regc-formats-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    // JSON: the submission set of the same data.
    let r = lib
        .regimes
        .iter()
        .find(|r| r.code == "transport.seaport_cargo")
        .unwrap();
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::default();
    reader.read_path(&mut ctx, &csv_path).unwrap();
    let mut store = regc::eval::Store::default();
    for s in reader.submissions.into_values() {
        store.insert(&r.code, s);
    }
    let json_path = tmp.join("invalid.json");
    std::fs::write(&json_path, store.to_json(&r.code).to_string()).unwrap();

    // Excel: the CSV's rows in the first sheet, numbers as numbers, dates as
    // dates.
    let xlsx_path = tmp.join("invalid.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let mut rows = csv::Reader::from_path(&csv_path).unwrap();
    for (c, h) in rows.headers().unwrap().iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (i, rec) in rows.records().enumerate() {
        let rec = rec.unwrap();
        for (c, field) in rec.iter().enumerate() {
            let (row, col) = (i as u32 + 1, c as u16);
            if c == 5
                && let Ok(d) = chrono::NaiveDate::parse_from_str(field, "%Y-%m-%d")
            {
                let d = rust_xlsxwriter::ExcelDateTime::from_ymd(
                    d.year() as u16,
                    d.month() as u8,
                    d.day() as u8,
                )
                .unwrap();
                sheet
                    .write_datetime_with_format(row, col, &d, &date_format)
                    .unwrap();
            } else if c == 5 && !field.contains('.') && field.parse::<i64>().is_ok() {
                sheet
                    .write_number(row, col, field.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write_string(row, col, field).unwrap();
            }
        }
    }
    book.save(&xlsx_path).unwrap();

    for path in [&json_path, &xlsx_path] {
        let report = run(lib, "transport.seaport_cargo", &[path]);
        assert_eq!(report.violations, from_csv.violations, "{}", path.display());
    }
    // A JSON file of another regime, and a broken workbook, are refused
    // with their location.
    std::fs::write(
        &json_path,
        r#"{"regime": "planning.fdi", "submissions": []}"#,
    )
    .unwrap();
    std::fs::write(&xlsx_path, "not a workbook").unwrap();
    let mut reader = Reader::default();
    reader.read_path(&mut ctx, &json_path).unwrap();
    reader.read_path(&mut ctx, &xlsx_path).unwrap();
    let errors: Vec<String> = reader.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        errors[0]
            .ends_with("[regime]: a submission of planning.fdi, not of transport.seaport_cargo"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("not a workbook regc can read"),
        "{errors:?}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `regc validate` on the samples: the command checks a period as soon as
/// its lines are read (or reads the files whole when a rule reads other
/// periods); either way it reports exactly what the evaluator reports on
/// the submissions held in memory.
#[test]
fn the_command_reports_what_the_evaluator_reports_on_every_sample() {
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let mut streamed = 0;
    for r in &lib.regimes {
        let sample = dir.join(&r.code).join("invalid.csv");
        if !sample.exists() {
            continue;
        }
        if !regc::eval::reads_other_periods(r) {
            streamed += 1;
        }
        let want = run(lib, &r.code, &[&sample]);
        let o = regc(&[
            "validate",
            &r.code,
            sample.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            got["violations"],
            serde_json::to_value(&want.violations).unwrap(),
            "{}",
            r.code
        );
        assert_eq!(got["summary"]["evaluated"], want.evaluated, "{}", r.code);
        assert_eq!(
            got["summary"]["skipped_for_missing_values"], want.skipped,
            "{}",
            r.code
        );
    }
    assert!(streamed >= 1, "no sample takes the streaming path");
}

/// The compiled rules (`src/eval/compiled.rs`) report what the general
/// evaluator reports, on every sample, valid and invalid.
#[test]
fn compiled_rules_report_what_the_general_evaluator_reports() {
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let mut compared = 0;
    for r in &lib.regimes {
        let files: Vec<std::path::PathBuf> = ["valid.csv", "invalid.csv"]
            .iter()
            .map(|f| dir.join(&r.code).join(f))
            .filter(|p| p.exists())
            .collect();
        for file in &files {
            let mut ctx = Context::new(lib, r);
            let mut reader = Reader::default();
            reader.read_path(&mut ctx, file).unwrap();
            let mut store = regc::eval::Store::default();
            let mut targets = Vec::new();
            for s in reader.submissions.into_values() {
                targets.push((s.unit.clone(), s.period.clone()));
                store.insert(&r.code, s);
            }
            targets.sort();
            targets.dedup();
            let eval = regc::eval::Evaluator::new(r, &store);
            let (fast, slow) = (
                regc::validate::Validator::new(r),
                regc::validate::Validator::uncompiled(r),
            );
            let (mut a, mut b) = (fast.report(), slow.report());
            for (unit, period) in &targets {
                let here = store.here(&r.code, unit, period);
                fast.check(&eval, &here, &mut a);
                slow.check(&eval, &here, &mut b);
            }
            regc::validate::sort(&mut a.violations);
            regc::validate::sort(&mut b.violations);
            assert_eq!(a, b, "{}", file.display());
            compared += 1;
        }
    }
    assert!(compared >= 38, "only {compared} sample files");
}

/// A file whose lines of one submission are not together (the first line
/// moved to the end, after other submissions) gives the same report: the
/// command notices, says so and reads the files whole.
#[test]
fn scattered_lines_give_the_same_report() {
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let mut tried = 0;
    for r in lib
        .regimes
        .iter()
        .filter(|r| !regc::eval::reads_other_periods(r))
    {
        let sample = dir.join(&r.code).join("invalid.csv");
        let Ok(text) = std::fs::read_to_string(&sample) else {
            continue;
        };
        // The sample's lines, then the same values for the day before
        // (the samples of day-based regimes hold one day).
        let lines: Vec<&str> = text.lines().collect();
        let Some(day) = lines
            .get(1)
            .and_then(|l| l.split(',').nth(1))
            .and_then(|p| chrono::NaiveDate::parse_from_str(p, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let before = (day - chrono::Days::new(1)).format("%Y-%m-%d").to_string();
        let day = day.format("%Y-%m-%d").to_string();
        let copied: Vec<String> = lines[1..]
            .iter()
            .map(|l| l.replacen(&format!(",{day},"), &format!(",{before},"), 1))
            .collect();
        let mut grouped: Vec<&str> = lines.clone();
        grouped.extend(copied.iter().map(String::as_str));
        if lines.len() < 3 {
            continue;
        }
        let sample = std::env::temp_dir().join(format!(
            "regc-grouped-{}-{}.csv",
            r.code,
            std::process::id()
        ));
        std::fs::write(&sample, grouped.join("\n") + "\n").unwrap();
        // The first line moved to the end.
        let mut moved = vec![grouped[0]];
        moved.extend(&grouped[2..]);
        moved.push(grouped[1]);
        let scattered = std::env::temp_dir().join(format!(
            "regc-scattered-{}-{}.csv",
            r.code,
            std::process::id()
        ));
        std::fs::write(&scattered, moved.join("\n") + "\n").unwrap();
        let a = regc(&[
            "validate",
            &r.code,
            sample.to_str().unwrap(),
            "--format",
            "csv",
        ]);
        let b = regc(&[
            "validate",
            &r.code,
            scattered.to_str().unwrap(),
            "--format",
            "csv",
        ]);
        let _ = std::fs::remove_file(&scattered);
        let _ = std::fs::remove_file(&sample);
        assert_eq!(a.status.code(), b.status.code(), "{}", r.code);
        assert!(!a.stdout.is_empty(), "{}: {}", r.code, text_of(&a));
        assert_eq!(
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
            "{}",
            r.code
        );
        assert!(
            !String::from_utf8_lossy(&a.stderr).contains("start again"),
            "{}: {}",
            r.code,
            text_of(&a)
        );
        assert!(
            String::from_utf8_lossy(&b.stderr).contains("start again after other submissions"),
            "{}: {}",
            r.code,
            text_of(&b)
        );
        tried += 1;
    }
    assert!(tried >= 1, "no sample tried");
}

fn text_of(o: &std::process::Output) -> String {
    text(o)
}

/// Files that are not submissions as written: an error with the file, the
/// line and the column (or field), exit 2, never a panic, on the
/// streaming path; a value far too long for its cell is a violation of its
/// type.
#[test]
fn bad_files_are_located_by_file_line_and_column() {
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let r = lib
        .regimes
        .iter()
        .find(|r| !regc::eval::reads_other_periods(r) && dir.join(&r.code).exists())
        .unwrap();
    let good = std::fs::read_to_string(dir.join(&r.code).join("valid.csv")).unwrap();
    let mut lines = good.lines();
    let (header, first) = (lines.next().unwrap(), lines.next().unwrap());
    assert_eq!(header, "unit,period,form,record,cell,value");
    let f: Vec<&str> = first.split(',').collect();
    let start = format!("{header}\n{first}\n");
    let with = |i: usize, v: &str| {
        let mut g: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        g[i] = v.to_string();
        format!("{start}{}\n", g.join(","))
    };
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "non-utf8",
            [
                start.as_bytes(),
                f[..5].join(",").as_bytes(),
                b",\xff\xfe\n",
            ]
            .concat(),
            ":3: not UTF-8 text (field 6)".into(),
        ),
        (
            "fields",
            format!("{start}{}\n", f[..3].join(",")).into_bytes(),
            ":3: 3 fields where the header has 6".into(),
        ),
        (
            "period",
            with(1, "2025-13-45").into_bytes(),
            ":3 [period]: `2025-13-45` is not a".into(),
        ),
        (
            "cell",
            with(4, "no_such_cell").into_bytes(),
            ":3 [cell]: form B01 has no cell `no_such_cell`".into(),
        ),
        (
            "unit",
            with(0, "NOWHERE").into_bytes(),
            ":3 [unit]: unknown unit `NOWHERE`".into(),
        ),
        (
            "huge line",
            with(5, &"9".repeat(2_000_000)).into_bytes(),
            String::new(),
        ),
    ];
    for (name, bytes, want) in cases {
        let path = std::env::temp_dir().join(format!(
            "regc-bad-{}-{}.csv",
            name.replace(' ', "-"),
            std::process::id()
        ));
        std::fs::write(&path, &bytes).unwrap();
        let o = regc(&["validate", &r.code, path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        let out = text(&o);
        assert!(!out.contains("this is a bug"), "{name}: {out}");
        if name == "huge line" {
            // Far too long for the cell: a violation of its type (exit 1).
            assert_eq!(o.status.code(), Some(1), "{name}: {out}");
            assert!(out.contains("[type."), "{name}: {out}");
            continue;
        }
        assert_eq!(o.status.code(), Some(2), "{name}: {out}");
        assert!(out.contains(&want), "{name}: want {want:?} in {out}");
        assert!(
            out.contains("regc-bad-"),
            "{name}: the file is named: {out}"
        );
    }
}

/// A daily regime of number cells of every storage, with rules under
/// every missing-value strategy, a division (by zero too), rounding, a
/// tolerance, `if`, `min`/`max`/`sum` and products that overflow 64 and
/// 128 bits, and a cell with a range that no rule reads: the bulk path's
/// ground.
const BULK_REGIME: &str = r#"use common.units

regime bulk.daily {
  title "Báo cáo ngày (kiểm thử)"
  basis "-"
  owner "-"
  version 1
  kind periodic
  frequency daily
  cutoff calendar
  reporters commune
  flow commune -> province
  deadline commune 1 working days after cutoff, province 2 working days after cutoff
  method electronic

  form B01 "Chỉ tiêu" {
    rows {
      1 a "A" : int required range 0..1000000
      2 b "B" : decimal(10,2) range -500..500
      3 c "C" : decimal(12,4)
      4 d "D" : int
      5 e "E" : percent
      6 f "F" : decimal(30,2)
      7 g "G" : int range 0..100
    }
  }

  rule R01 "a + b ({a}, {b})":
    a + b <= 999000

  rule R02 warning "b / c ({b}, {c})":
    b / c <= 1000
    missing skip_if_any

  rule R03 "a − d":
    a - d >= -999000
    missing zero

  rule R04 info "c hoặc e":
    c >= 0 or e <= 50%
    missing skip_if_all

  rule R05 "round(b, 1)":
    round(b, 1) <= 440
    missing never

  rule R06 warning "a + 1 ≈ a":
    a + 1 == a
    tolerance 5%

  rule R07 "f × f × f":
    f * f * f >= -1
    missing skip_if_any

  rule R08 "if":
    if(a > 500000, max(b, c) < 450, sum(b, c, e) < 1000)
    missing zero
}
"#;

/// One random value of a bulk file's cell: mostly plain, sometimes blank,
/// out of range, badly written, over its digits, zero or at a bound.
fn bulk_value(state: &mut u64, cell: usize) -> String {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let r = *state >> 33;
    let pick = r % 100;
    let n = (r / 100) % 1_000_000;
    let plain = match cell {
        0 => format!("{}", n),
        1 => format!("{}.{:02}", n % 450, n % 100),
        2 => format!("{}.{:04}", n % 300, n % 10_000),
        3 => format!("{}", n + n % 3 * 7),
        4 => format!("{}.{}", n % 100, n % 10),
        5 => format!("{}.{:02}", n, n % 100),
        _ => format!("{}", n % 102),
    };
    match pick {
        0..=86 => plain,
        87..=89 => String::new(),
        90 => "0".into(),
        91 => "-0.00".into(),
        92 => ["x", "1e3", "5.", "+5", "1.23456"][(n % 5) as usize].into(),
        93 => format!(" {plain}"),
        94 => ["1000001", "-500.001", "99999999999999999999.99"][(n % 3) as usize].into(),
        95 => "500".into(),
        96 => "-500".into(),
        // 18 digits: read in bulk, its cube overflows 128 bits.
        97 => "1234567890123456.78".into(),
        98 => "0.0000".into(),
        _ => "007.50".into(),
    }
}

/// Wide files of number cells take the bulk path (`src/validate/bulk.rs`),
/// which checks most lines without building submissions and hands the
/// others to the general reader: its report is the general path's, on
/// random files full of blanks, bad values, failures, divisions by zero
/// and overflows; files it must not take are left to the general path;
/// and the command reports what it finds.
#[test]
fn bulk_files_report_what_the_general_path_reports() {
    let mut sources = regc::source::load_library(&common::repo().join("regimes")).unwrap();
    sources.add(regc::source::SourceFile::new(
        "bulk/daily.regime",
        "bulk/daily.regime",
        BULK_REGIME,
    ));
    let c = regc::compile(&sources);
    assert!(!c.has_errors(), "the test regime compiles");
    let lib = &c.library;
    let regime = lib.regimes.iter().find(|r| r.code == "bulk.daily").unwrap();
    assert!(!regc::eval::reads_other_periods(regime));
    let communes: Vec<&str> = lib
        .org
        .editions
        .iter()
        .filter(|e| e.edition == "2025")
        .flat_map(|e| &e.units)
        .filter(|u| u.level == "commune")
        .map(|u| u.code.as_str())
        .take(40)
        .collect();
    let dir = std::env::temp_dir().join(format!("regc-bulk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bulk = |lines: &[String], name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let mut ctx = Context::new(lib, regime);
        let validator = regc::validate::Validator::new(regime);
        let history = regc::eval::Store::default();
        let checked = regc::validate::bulk::validate(
            lib,
            &mut ctx,
            &validator,
            &history,
            std::slice::from_ref(&path),
        );
        (path, checked)
    };
    let header = "unit,period,a,b,c,d,e,f,g".to_string();
    let mut handed_over = 0;
    let mut fast = 0;
    for seed in 1..=6u64 {
        let mut state = seed;
        let mut lines = vec![header.clone()];
        let mut submissions = 0;
        for day in 1..=20 {
            for unit in &communes {
                let values: Vec<String> = (0..7).map(|i| bulk_value(&mut state, i)).collect();
                if values.iter().any(|v| !v.trim().is_empty()) {
                    submissions += 1;
                }
                lines.push(format!("{unit},2025-07-{day:02},{}", values.join(",")));
            }
        }
        let (path, checked) = bulk(&lines, &format!("seed{seed}.csv"));
        let checked = checked.unwrap_or_else(|| panic!("seed {seed}: not taken in bulk"));
        let want = run(lib, "bulk.daily", &[&path]);
        assert_eq!(checked.report, want, "seed {seed}");
        assert_eq!(checked.submissions, submissions, "seed {seed}");
        handed_over += checked.handed_over;
        fast += checked.submissions - checked.handed_over;
    }
    assert!(
        handed_over > 1000 && fast > 1000,
        "{handed_over} handed over, {fast} fast"
    );

    // Files the bulk path leaves to the general one.
    let line = |unit: &str, day: u32| format!("{unit},2025-07-{day:02},5,1.5,2,5,10,3,4");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("an unknown unit", vec![header.clone(), line("99999", 1)]),
        ("a bad period", vec![header.clone(), line(communes[0], 32)]),
        (
            "one submission on two lines",
            vec![header.clone(), line(communes[0], 1), line(communes[0], 1)],
        ),
        (
            "a submission's lines apart",
            vec![
                header.clone(),
                line(communes[0], 1),
                line(communes[1], 1),
                line(communes[0], 1),
            ],
        ),
        (
            "a form column",
            vec![
                format!("form,{header}"),
                format!("B01,{}", line(communes[0], 1)),
            ],
        ),
        (
            "a long file",
            vec![
                "unit,period,cell,value".into(),
                format!("{},2025-07-01,a,5", communes[0]),
            ],
        ),
        (
            "a malformed line",
            vec![header.clone(), format!("{},2025-07-01,5", communes[0])],
        ),
    ];
    for (what, lines) in cases {
        let (_, checked) = bulk(&lines, "case.csv");
        assert!(checked.is_none(), "{what}: taken in bulk");
    }

    // The command: a library folder with the test regime.
    let lib_dir = dir.join("lib");
    copy_dir(&common::repo().join("regimes"), &lib_dir);
    std::fs::create_dir_all(lib_dir.join("bulk")).unwrap();
    std::fs::write(lib_dir.join("bulk/daily.regime"), BULK_REGIME).unwrap();
    let path = dir.join("seed1.csv");
    let want = run(lib, "bulk.daily", &[&path]);
    let o = regc(&[
        "validate",
        "bulk.daily",
        path.to_str().unwrap(),
        "--lib",
        lib_dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        got["violations"],
        serde_json::to_value(&want.violations).unwrap()
    );
    assert_eq!(got["summary"]["evaluated"], want.evaluated);
    assert_eq!(got["summary"]["skipped_for_missing_values"], want.skipped);
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}
