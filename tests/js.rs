#![allow(clippy::indexing_slicing, clippy::unwrap_used)]
//! The JavaScript evaluator (`src/emit/rules.js`, run by
//! `tests/js/run.mjs` under Node) against the Rust one: the same
//! violations, in the same order, with the same messages, and the same
//! counts of evaluated and skipped rules, over the golden case, every
//! sample of the library and a regime of number edge cases; the same
//! values of every cell (`computeCell`), the same verdicts on submitted
//! texts (`checkValue`) and the same periods.

mod common;

use regc::eval::{Evaluator, Periods, Store, V};
use regc::ir::{self, ExprKind, PeriodRef};
use regc::submission::{Context, Reader};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `node` runs. Without it the tests are skipped, except under
/// `CI=true`, where they fail.
fn node() -> bool {
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and `node` is not found on PATH");
            }
            eprintln!("skipped: node not found");
            false
        }
    }
}

/// A temporary directory of one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("regc-js-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, value: &Json) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, serde_json::to_string(value).unwrap()).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `node tests/js/run.mjs ARGS…`: its JSON output.
fn js(args: &[&Path], mode: Option<&str>) -> Json {
    let mut cmd = Command::new("node");
    cmd.arg(common::repo().join("tests/js/run.mjs"));
    if let Some(m) = mode {
        cmd.arg(m);
    }
    let o = cmd.args(args).output().expect("node runs");
    assert!(
        o.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn regime<'a>(lib: &'a ir::Library, code: &str) -> &'a ir::Regime {
    lib.regimes.iter().find(|r| r.code == code).unwrap()
}

/// Reads CSV files into a store: the submissions and their (unit,
/// period), sorted. Values that break a cell's type, range or codelist
/// are left out (the JavaScript `validate` sees the stored values only).
fn load(lib: &ir::Library, r: &ir::Regime, files: &[PathBuf]) -> (Store, Vec<(String, String)>) {
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    load_texts(lib, r, &texts, true)
}

/// [`load`] from CSV texts; unless `strict`, lines that are not
/// submissions of the regime (a unit that does not exist yet…) are
/// dropped.
fn load_texts(
    lib: &ir::Library,
    r: &ir::Regime,
    texts: &[String],
    strict: bool,
) -> (Store, Vec<(String, String)>) {
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::default();
    for (i, text) in texts.iter().enumerate() {
        reader.read_csv(&mut ctx, &format!("file{i}.csv"), text.as_bytes());
    }
    assert!(
        !strict || reader.errors.iter().all(|e| e.value.is_some()),
        "{}: input errors {:?}",
        r.code,
        reader.errors
    );
    let mut store = Store::default();
    let mut targets = Vec::new();
    for s in reader.submissions.into_values() {
        targets.push((s.unit.clone(), s.period.clone()));
        store.insert(&r.code, s);
    }
    targets.sort();
    targets.dedup();
    (store, targets)
}

/// A value as canonical text, as `computeCell` gives it.
fn canonical(v: &V) -> String {
    match v {
        V::Num(n) => n.to_plain(),
        V::Text(t) => t.clone(),
        V::Bool(b) => b.to_string(),
        V::Date(d) => d.format("%Y-%m-%d").to_string(),
    }
}

/// Runs both evaluators over `store` and asserts they agree: the report
/// of `validate` and the value of every cell of every (unit, period).
/// Returns the JavaScript report and the cell values, for further checks.
fn agree(
    lib: &ir::Library,
    r: &ir::Regime,
    store: &Store,
    targets: &[(String, String)],
    tag: &str,
) -> (Json, Json) {
    let dir = TempDir::new(tag);
    let rules = dir.write(
        "rules.json",
        &serde_json::to_value(regc::emit::rules::rules_file(lib, r)).unwrap(),
    );
    let set = dir.write("set.json", &store.to_json(&r.code));

    let report = regc::validate::validate(r, store, targets, &[]);
    let want = json!({
        "violations": serde_json::to_value(&report.violations).unwrap(),
        "evaluated": report.evaluated,
        "skipped": report.skipped,
    });
    let got = js(&[&rules, &set], None);
    if got != want {
        let (g, w) = (&got["violations"], &want["violations"]);
        for i in 0..g.as_array().unwrap().len().max(w.as_array().unwrap().len()) {
            assert_eq!(g[i], w[i], "{tag}: violation {i} (JS left, Rust right)");
        }
        assert_eq!(got, want, "{tag}: counts (JS left, Rust right)");
    }

    // Every cell of every form, entered or computed.
    let eval = Evaluator::new(r, store);
    let mut queries = Vec::new();
    let mut values = Vec::new();
    for (unit, period) in targets {
        for f in &r.forms {
            for c in &f.cells {
                let e = ir::Expr {
                    kind: ExprKind::Cell {
                        regime: None,
                        form: f.code.clone(),
                        cell: c.id.clone(),
                        period: PeriodRef::Current,
                    },
                    ty: ir::ValueType::Number,
                    unit: Default::default(),
                };
                let v = eval.eval_expr(&e, unit, period).ok().flatten();
                queries.push(json!([unit, period, f.code, c.id]));
                values.push(v.as_ref().map(canonical));
            }
        }
    }
    let q = dir.write("queries.json", &Json::from(queries.clone()));
    let got_values = js(&[&rules, &set, &q], Some("--compute"));
    let want_values = serde_json::to_value(&values).unwrap();
    for (i, query) in queries.iter().enumerate() {
        assert_eq!(
            got_values[i], want_values[i],
            "{tag}: computeCell {query} (JS left, Rust right)"
        );
    }
    (got, got_values)
}

#[test]
fn the_golden_case_gives_the_same_report() {
    if !node() {
        return;
    }
    let dir = common::repo().join("tests/fixtures/golden");
    let source = std::fs::read_to_string(dir.join("golden.regime")).unwrap();
    let sources = common::with_case("golden.regime", &source);
    let c = regc::compile(&sources);
    assert!(!c.has_errors(), "{}", common::render_all(&c, &sources));
    let r = regime(&c.library, "test.golden");
    let (store, targets) = load(&c.library, r, &[dir.join("golden.csv")]);
    let (report, _) = agree(&c.library, r, &store, &targets, "golden");
    // Not vacuous: the hand-computed verdicts are there.
    let rules: Vec<&str> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"G05") && rules.contains(&"G12"),
        "{rules:?}"
    );
}

#[test]
fn every_sample_gives_the_same_report() {
    if !node() {
        return;
    }
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let mut regimes: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    regimes.sort();
    assert_eq!(regimes.len(), 19);
    let mut violations = 0;
    for code in &regimes {
        let r = regime(lib, code);
        for file in ["valid.csv", "invalid.csv"] {
            let (store, targets) = load(lib, r, &[dir.join(code).join(file)]);
            let (report, _) = agree(lib, r, &store, &targets, &format!("{code}-{file}"));
            violations += report["violations"].as_array().unwrap().len();
        }
    }
    assert!(violations > 19, "the samples break rules");
}

/// A pseudo-random number generator (no dependency, reproducible).
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// A value changed at random: blank, zero, negated, scaled, a digit
/// more, or as it was.
fn perturb(value: &str, state: &mut u64) -> Option<String> {
    let numeric = regc::eval::num::Num::parse(value).is_some();
    Some(match next(state) % 10 {
        0 | 1 => return None,
        2 if numeric => "0".to_string(),
        3 if numeric => match value.strip_prefix('-') {
            Some(v) => v.to_string(),
            None => format!("-{value}"),
        },
        4 if numeric => format!("{value}5"),
        5 if numeric && !value.contains('.') && value.len() > 1 => {
            value[..value.len() - 1].to_string()
        }
        _ => value.to_string(),
    })
}

/// The samples of every regime, perturbed at random and repeated in the
/// periods before (previous period, same period last year, the first of
/// the year): both evaluators still agree, on rules that now read
/// history, carry yearly values over and sum years to date.
#[test]
fn perturbed_samples_with_history_give_the_same_report() {
    if !node() {
        return;
    }
    let (_, lib) = common::library();
    let dir = common::repo().join("tests/samples");
    let mut state = 0x5eed_u64;
    let mut evaluated = 0;
    for r in &lib.regimes {
        let periods = Periods::new(r);
        let mut lines: Vec<Vec<String>> = Vec::new();
        for file in ["valid.csv", "invalid.csv"] {
            let Ok(text) = std::fs::read_to_string(dir.join(&r.code).join(file)) else {
                continue;
            };
            let mut csv = csv::Reader::from_reader(text.as_bytes());
            lines.extend(
                csv.records()
                    .map(|l| l.unwrap().iter().map(str::to_string).collect()),
            );
        }
        for seed in 0..3 {
            let mut out = csv::Writer::from_writer(Vec::new());
            out.write_record(["unit", "period", "form", "record", "cell", "value"])
                .unwrap();
            let mut seen = std::collections::HashSet::new();
            for l in &lines {
                let period = &l[1];
                let shifted = [
                    Some(period.clone()),
                    periods.shift(period, PeriodRef::Previous),
                    periods.shift(period, PeriodRef::SamePeriodLastYear),
                    periods.first_of_year(period),
                    periods
                        .shift(period, PeriodRef::Previous)
                        .and_then(|p| periods.shift(&p, PeriodRef::Previous)),
                ];
                for (k, p) in shifted.into_iter().enumerate() {
                    let Some(p) = p else { continue };
                    // The first file's value wins; one value per cell.
                    if !seen.insert((
                        l[0].clone(),
                        p.clone(),
                        l[2].clone(),
                        l[3].clone(),
                        l[4].clone(),
                    )) {
                        continue;
                    }
                    let value = if k == 0 && seed == 0 {
                        Some(l[5].clone())
                    } else {
                        perturb(&l[5], &mut state)
                    };
                    if let Some(v) = value {
                        out.write_record([&l[0], &p, &l[2], &l[3], &l[4], &v])
                            .unwrap();
                    }
                }
            }
            let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
            let (store, targets) = load_texts(lib, r, &[text], false);
            let (report, _) = agree(
                lib,
                r,
                &store,
                &targets,
                &format!("{}-perturbed-{seed}", r.code),
            );
            evaluated += report["evaluated"].as_u64().unwrap();
        }
    }
    assert!(evaluated > 1000, "{evaluated} evaluations");
}

/// A regime of number edge cases: divisions, rounding, 38-digit
/// products, percents, tolerances, divisions by zero where they are read,
/// shown or not evaluated at all, records of every type.
const NUMBERS: &str = r#"
use common.units
use common.codelists

regime test.numbers {
  title     "Số học"
  basis     "-"
  owner     "-"
  version   1
  kind      periodic
  frequency monthly
  cutoff    calendar
  reporters port_authority
  flow      port_authority -> ministry
  deadline  port_authority 5 days after cutoff,
            ministry 10 days after cutoff
  method    electronic

  form B01 "Số" {
    rows {
      1  a   "A"            : decimal(38,10)
      2  b   "B"            : decimal(38,10)
      3  n   "N"            : int
      4  p   "P"            : percent
      5  m   "M"            : money
      6  q   "A / B"        = a / b
      7  nq  "-A / B"       = -a / b
      8  r0  "round(A)"     = round(a)
      9  r2  "round(A, 2)"  = round(a, 2)
      10 rm  "round(A / 100) × 100" = round(a / 100) * 100
      11 ab  "A × B"        = a * b
      12 pa  "A × P"        = a * p
      13 ya  "Lũy kế A"     = sum(a over year_to_date)
      14 av  "TB A"         = average(a over year_to_date)
      15 mn  "Min A"        = min(a over year_to_date)
      16 la  "Cuối A"       = last(a over year_to_date)
      17 pr  "A trước"      = a@previous
      18 ly  "A năm trước"  = a@same_period_last_year
      19 nn  "N / 3"        = n / 3
      20 mm  "M × N"        = m * n
      21 rq  "round(A / B, 3)" = round(a / b, 3)
      22 sx  "Tổng X"       = sum(B02.x)
      23 xx  "Max X"        = max(B02.x)
      24 eq  "A == B"       = if(a == b, 1, 0)
    }
  }

  form B02 "Bản ghi" records {
    name "Tên"       : text(5) required
    day  "Ngày"      : date
    due  "Hạn"       : date
    ok   "Đạt"       : bool
    flag "Quốc tịch" : code countries
    x    "X"         : decimal(10,2)
  }

  rule N01 "{{q}} {q} {nq} {r0} {r2} {rm} {rq}":
    a != a
    missing never

  rule N02 "{ab} {pa} {nn} {mm} {p} {m}":
    a != a
    missing never

  rule N03 "{ya} {av} {mn} {la} {pr} {ly}":
    a != a
    missing never

  rule N04 "a / b > 1 ({a}, {b})":
    a / b > 1

  rule N05 "read by a computed cell: {q}":
    q > 0 or n > 0

  rule N06 "shown only: {q}":
    b != 0 and a > 1000

  rule N07 "if: {a}":
    if(b == 0, a > 1000, a / b > 1000)

  rule N08 "both sides of or: {b}":
    b == 0 or a / b > 1000

  rule N09 "tolerance 0.5: {a} {b}":
    a == b
    tolerance 0.5

  rule N10 "tolerance 1%: {a} {b}":
    a == b
    tolerance 1%

  rule N11 "skip_if_all {a} {b}":
    a + b > 0
    missing skip_if_all

  rule N12 "zero {a} {n}":
    a + n > 10
    missing zero

  rule N13 "records {sx} {xx}":
    count(B02) <= 2 and min(B02.x) >= 0

  rule N14 "for each {name} {day} {due} {ok} {flag} {x}" for each B02:
    day <= due and ok == true and flag != "JP" and x * 3 / 7 < 100

  rule N15 "for each never {name} {x}" for each B02:
    x >= 0
    missing never

  rule N16 "round half {r0} {r2}":
    round(a, 1) == a

  rule N17 "year to date, never {n}":
    sum(n over year_to_date) >= 0
    missing never

  rule N18 "year to date, skip_if_all":
    average(n over year_to_date) > 0
    missing skip_if_all

  rule N19 "records, never":
    max(B02.x) < 1000 and min(B02.x) > -1000
    missing never

  rule N20 "records, skip_if_all":
    sum(B02.x) > 0
    missing skip_if_all

  // A rule's tolerance does not reach the comparisons inside the computed
  // cells it reads (eq stays 0 when a = 100.5, b = 100), and a computed
  // division in the branch of if() that is not taken is not reported.
  rule N21 "tolerance and computed cells: {eq}":
    eq == 0
    tolerance 0.5

  rule N22 "guarded computed division {q}":
    if(b == 0, a >= 0, q >= 0)
}
"#;

const NUMBERS_CSV: &str = "unit,period,form,record,cell,value
CVHH-HP,2024-01,B01,,a,2
CVHH-HP,2024-01,B01,,b,3
CVHH-HP,2024-01,B01,,n,9223372036854775807
CVHH-HP,2024-01,B01,,p,33.3333
CVHH-HP,2024-01,B01,,m,-9223372036854775808
CVHH-HP,2024-02,B01,,a,-2
CVHH-HP,2024-02,B01,,b,3
CVHH-HP,2024-02,B01,,n,-7
CVHH-HP,2024-03,B01,,a,2.5
CVHH-HP,2024-03,B01,,b,0
CVHH-HP,2024-03,B01,,p,0.0001
CVHH-HP,2024-04,B01,,a,-2.5
CVHH-HP,2024-04,B01,,b,-0.5
CVHH-HP,2024-05,B01,,a,1234.5678901234
CVHH-HP,2024-05,B01,,b,7
CVHH-HP,2024-05,B01,,m,1000000000000
CVHH-HP,2024-05,B01,,n,1000000000
CVHH-HP,2024-06,B01,,a,999999999999999999999999999.9999999999
CVHH-HP,2024-06,B01,,b,0.0000000001
CVHH-HP,2024-07,B01,,a,-1250
CVHH-HP,2024-07,B01,,b,-1250.4
CVHH-HP,2024-08,B01,,a,0.0000000005
CVHH-HP,2024-08,B01,,b,100000000000
CVHH-HP,2024-09,B01,,b,0
CVHH-HP,2024-09,B01,,n,3
CVHH-HP,2024-10,B01,,a,-0.005
CVHH-HP,2024-10,B01,,b,-0.005
CVHH-HP,2024-11,B01,,b,5
CVHH-HP,2024-12,B01,,a,1234567890123456789012345678.0123456789
CVHH-HP,2024-12,B01,,b,-9876543210987654321098765432.1098765432
CVHH-HP,2025-01,B01,,a,1
CVHH-HP,2025-01,B01,,b,3
CVHH-HP,2025-01,B02,1,name,Hà Nội
CVHH-HP,2025-01,B02,1,day,2025-01-02
CVHH-HP,2025-01,B02,1,due,2025-01-01
CVHH-HP,2025-01,B02,1,ok,true
CVHH-HP,2025-01,B02,1,flag,VN
CVHH-HP,2025-01,B02,1,x,0.07
CVHH-HP,2025-01,B02,2,name,Ốc
CVHH-HP,2025-01,B02,2,ok,0
CVHH-HP,2025-01,B02,2,flag,JP
CVHH-HP,2025-01,B02,2,x,-12.5
CVHH-HP,2025-01,B02,3,day,2024-02-29
CVHH-HP,2025-01,B02,3,due,2024-03-01
CVHH-HP,2025-01,B02,3,ok,1
CVHH-HP,2025-01,B02,3,x,99999999.99
CVHH-HP,2025-02,B01,,a,100.5
CVHH-HP,2025-02,B01,,b,100
CVHH-HP,2025-03,B01,,a,-100
CVHH-HP,2025-03,B01,,b,-101
CVHH-HP,2025-03,B01,,n,1
CVHH-HP,2025-04,B01,,a,0.05
CVHH-HP,2025-04,B01,,b,-0.05
CVHH-HP,2025-05,B01,,a,0.15
CVHH-HP,2025-06,B01,,a,0
CVHH-HP,2025-06,B01,,b,0
CVHH-HP,2025-06,B01,,n,0
CVHH-HP,2025-06,B01,,p,-0.0001
CVHH-HP,2025-07,B02,1,name,A
CVHH-HP,2025-07,B02,1,x,1
CVHH-HP,2025-12,B01,,a,-0.00000000005
CVHH-HP,2025-12,B01,,b,3
";

#[test]
fn number_edge_cases_give_the_same_report_and_values() {
    if !node() {
        return;
    }
    let sources = common::with_case("numbers.regime", NUMBERS);
    let c = regc::compile(&sources);
    assert!(!c.has_errors(), "{}", common::render_all(&c, &sources));
    let r = regime(&c.library, "test.numbers");
    let dir = TempDir::new("numbers-csv");
    let csv = dir.0.join("numbers.csv");
    std::fs::write(&csv, NUMBERS_CSV).unwrap();
    let (store, targets) = load(&c.library, r, &[csv]);
    let (report, values) = agree(&c.library, r, &store, &targets, "numbers");

    // A few values by hand (docs/rules.md): division to 20 digits, half
    // away from zero; round half away from zero; exact products.
    let value = |period: &str, cell: &str| -> Json {
        let cells: Vec<&str> = r
            .forms
            .iter()
            .flat_map(|f| f.cells.iter().map(|c| c.id.as_str()))
            .collect();
        let per = cells.len();
        let t = targets.iter().position(|(_, p)| p == period).unwrap();
        let i = cells.iter().position(|c| *c == cell).unwrap();
        values[t * per + i].clone()
    };
    assert_eq!(value("2024-01", "q"), json!("0.66666666666666666667"));
    assert_eq!(value("2024-02", "q"), json!("-0.66666666666666666667"));
    assert_eq!(value("2024-03", "q"), Json::Null);
    assert_eq!(value("2024-03", "r0"), json!("3"));
    assert_eq!(value("2024-04", "r0"), json!("-3"));
    assert_eq!(value("2024-04", "q"), json!("5"));
    assert_eq!(value("2024-07", "rm"), json!("-1300"));
    assert_eq!(value("2024-10", "r2"), json!("-0.01"));
    assert_eq!(value("2024-08", "q"), json!("0.00000000000000000001"));
    assert_eq!(
        value("2024-12", "ab"),
        json!("-12193263113702179522618503264607529337559823197544734034.43334857492098917848")
    );
    assert_eq!(value("2024-01", "pa"), json!("0.666666"));
    let messages: Vec<String> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{} {} {} {}",
                v["period"], v["rule"], v["kind"], v["message"]
            )
        })
        .collect();
    let has = |m: &str| messages.iter().any(|x| x == m);
    assert!(
        has(
            r#""2024-01" "N01" "written" "{q} 0.66666666666666666667 -0.66666666666666666667 2 2 0 0.667""#
        ),
        "{messages:#?}"
    );
    // N21 and N22 (see the regime): eq is 0 and the rule holds; the
    // guarded division is not reported.
    assert_eq!(value("2025-02", "eq"), json!("0"));
    assert!(
        !messages.iter().any(|m| m.starts_with(r#""2025-02" "N21""#)),
        "{messages:#?}"
    );
    assert!(
        !messages.iter().any(|m| m.starts_with(r#""2024-03" "N22""#)),
        "{messages:#?}"
    );
}

#[test]
fn periods_are_the_same() {
    if !node() {
        return;
    }
    let (_, lib) = common::library();
    let mut queries = Vec::new();
    let mut want = Vec::new();
    for (name, frequency) in ir::Frequency::ALL {
        let mut r = lib.regimes[0].clone();
        r.frequency = *frequency;
        let periods = Periods::new(&r);
        let years = if *frequency == ir::Frequency::Daily {
            2023..=2025
        } else {
            2014..=2028
        };
        let mut ids: Vec<String> = years
            .flat_map(|y| regc::calendar::period_bounds(*frequency, r.cutoff, y))
            .map(|(id, _, _)| id)
            .enumerate()
            .filter(|(i, id)| {
                *frequency != ir::Frequency::Daily
                    || i % 9 == 0
                    || id.ends_with("-01")
                    || id.ends_with("02-29")
            })
            .map(|(_, id)| id)
            .collect();
        ids.extend(
            [
                "2025-03-14",
                "2025-W53",
                "2026-W53",
                "2025-13",
                "2025",
                "abcd",
                "",
                "+202-Q1",
            ]
            .map(String::from),
        );
        for id in ids {
            queries.push(json!([name, id]));
            want.push(json!({
                "previous": periods.shift(&id, PeriodRef::Previous),
                "last_year": periods.shift(&id, PeriodRef::SamePeriodLastYear),
                "year_to_date": periods.year_to_date(&id),
                "first_of_year": periods.first_of_year(&id),
            }));
        }
    }
    let dir = TempDir::new("periods");
    let q = dir.write("queries.json", &Json::from(queries.clone()));
    let got = js(&[&q], Some("--periods"));
    for (i, query) in queries.iter().enumerate() {
        assert_eq!(got[i], want[i], "periods of {query} (JS left, Rust right)");
    }
}

/// Texts to try on a cell: generic ones, its range's bounds and just
/// beyond, its text length limit, its codes.
fn texts_for(lib: &ir::Library, c: &ir::Cell) -> Vec<String> {
    let mut out: Vec<String> = [
        "0",
        "1",
        "-1",
        "-0",
        "007",
        "5.00",
        "1.5",
        "-12.345",
        "0.00001",
        "12.3456",
        "12.34567",
        "1e3",
        "+1",
        " 1",
        "1 ",
        "1,5",
        "1.",
        ".5",
        "--1",
        "abc",
        "",
        "   ",
        "\t",
        "true",
        "false",
        "yes",
        "TRUE",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999999999999999999",
        "999999999999999999999999999999999999999",
        "0.00000000000000000000000000000000000001",
        "1000000000000.5",
        "2025-02-28",
        "2025-02-29",
        "2024-02-29",
        "1900-02-29",
        "2000-02-29",
        "2025-2-03",
        " 2025-1-03",
        "2025- 1-03",
        "+2025-1-03",
        "-999-01-01",
        "+99999-1-1",
        "2025-13-01",
        "2025-00-10",
        "2025-01-32",
        "20250101",
        "2025-01-01 ",
        "2025/01/01",
        "0000-01-01",
        "VN",
        "JP",
        "vn",
        " VN",
        "Đà Nẵng",
        "a\u{0}b",
        "x",
        "🚢",
        "\u{a0}",
    ]
    .map(String::from)
    .to_vec();
    if let Some(range) = &c.range {
        let n = |s: &str| regc::eval::num::Num::parse(s).unwrap();
        for bound in [&range.min, &range.max] {
            out.push(bound.clone());
            for d in ["1", "0.01", "0.0001"] {
                out.push(n(bound).add(&n(d)).to_plain());
                out.push(n(bound).sub(&n(d)).to_plain());
            }
        }
    }
    if let ir::Type::Text { max_len } = c.ty
        && max_len <= 2000
    {
        let n = max_len as usize;
        out.push("ă".repeat(n));
        out.push("ă".repeat(n + 1));
        out.push("🚢".repeat(n));
    }
    if let ir::Type::Code { codelist } = &c.ty
        && let Some(list) = lib.codelists.iter().find(|l| &l.code == codelist)
    {
        out.extend(list.values.iter().take(3).map(|v| v.code.clone()));
        out.extend(list.values.iter().take(1).map(|v| format!("{} ", v.code)));
    }
    out
}

/// `checkValue` against the reader's parse (src/value.rs) and the
/// messages of src/validate.rs: on a battery of texts for every entered
/// cell of the library and the number regime, and on every value of the
/// samples.
#[test]
fn check_value_agrees_with_the_reader() {
    if !node() {
        return;
    }
    let (_, lib) = common::library();
    let sources = common::with_case("numbers.regime", NUMBERS);
    let numbers = regc::compile(&sources);
    assert!(!numbers.has_errors());
    let mut libs: Vec<(&ir::Library, &ir::Regime)> = lib.regimes.iter().map(|r| (lib, r)).collect();
    libs.push((&numbers.library, regime(&numbers.library, "test.numbers")));
    let dir = TempDir::new("check");
    let mut flagged = 0;
    for (lib, r) in libs {
        // Every (form, cell, text) to try, and what the reader says.
        let mut tries: Vec<(String, String, String)> = Vec::new();
        for f in &r.forms {
            for c in &f.cells {
                if matches!(c.entry, ir::Entry::Computed { .. }) {
                    continue;
                }
                for t in texts_for(lib, c) {
                    tries.push((f.code.clone(), c.id.clone(), t));
                }
            }
        }
        let samples = common::repo().join("tests/samples").join(&r.code);
        for file in ["valid.csv", "invalid.csv"] {
            let Ok(text) = std::fs::read_to_string(samples.join(file)) else {
                continue;
            };
            let mut csv = csv::Reader::from_reader(text.as_bytes());
            for line in csv.records() {
                let line = line.unwrap();
                let (form, cell) = (line[2].to_string(), line[4].to_string());
                if r.forms
                    .iter()
                    .any(|f| f.code == form && f.cells.iter().any(|c| c.id == cell))
                {
                    tries.push((form, cell, line[5].to_string()));
                }
            }
        }
        let rules = serde_json::to_value(regc::emit::rules::rules_file(lib, r)).unwrap();
        let message = |code: &str| -> String {
            rules["rules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["code"] == code)
                .map(|x| x["message"].as_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("no rule {code}"))
        };
        let mut want = Vec::new();
        for (form, cell, text) in &tries {
            let c = r
                .forms
                .iter()
                .find(|f| &f.code == form)
                .and_then(|f| f.cells.iter().find(|c| &c.id == cell))
                .unwrap();
            let codes = |code: &str| match &c.ty {
                ir::Type::Code { codelist } => lib
                    .codelists
                    .iter()
                    .any(|l| &l.code == codelist && l.values.iter().any(|v| v.code == code)),
                _ => false,
            };
            let storage = regc::layout::Storage::of(&c.ty);
            want.push(if text.trim().is_empty() {
                Json::Null
            } else {
                match regc::value::parse(text, &storage, c.range.as_ref(), &codes) {
                    Ok(_) => Json::Null,
                    Err((problem, _)) => {
                        let code = format!("{}.{form}.{cell}", problem.name());
                        json!({ "rule": code, "kind": problem.name(), "message": message(&code) })
                    }
                }
            });
        }
        let rules_path = dir.write("rules.json", &rules);
        let queries: Vec<Json> = tries.iter().map(|(f, c, t)| json!([f, c, t])).collect();
        let q = dir.write("queries.json", &Json::from(queries.clone()));
        let got = js(&[&rules_path, &q], Some("--check"));
        for (i, query) in queries.iter().enumerate() {
            assert_eq!(
                got[i], want[i],
                "{}: checkValue {query} (JS left, Rust right)",
                r.code
            );
        }
        flagged += want.iter().filter(|w| !w.is_null()).count();
    }
    assert!(flagged > 100, "the battery finds bad values ({flagged})");
}

/// Messages filled as `eval::fill_message` fills them, odd ones included.
#[test]
fn messages_are_filled_the_same_way() {
    if !node() {
        return;
    }
    let values = vec![
        Some(V::Num(regc::eval::num::Num::parse("-1.50").unwrap())),
        Some(V::Text("Hải Phòng {0}".into())),
        Some(V::Bool(true)),
        Some(V::Bool(false)),
        Some(V::Date(
            chrono::NaiveDate::from_ymd_opt(2025, 2, 3).unwrap(),
        )),
        None,
    ];
    let typed: Vec<Json> = values
        .iter()
        .map(|v| match v {
            Some(V::Num(n)) => json!(["num", n.to_plain()]),
            Some(V::Text(t)) => json!(["text", t]),
            Some(V::Bool(b)) => json!(["bool", b.to_string()]),
            Some(V::Date(d)) => json!(["date", d.to_string()]),
            None => Json::Null,
        })
        .collect();
    let messages = [
        "",
        "plain",
        "{0} {1} {2} {3} {4} {5}",
        "{{0}} {{{0}}}",
        "{",
        "}",
        "{{",
        "}}}",
        "{0",
        "{x}",
        "{+1}",
        "{ 1}",
        "{01}",
        "{-1}",
        "{6}",
        "{99}",
        "{18446744073709551615}",
        "{18446744073709551616}",
        "{a{1}",
        "{1}}",
        "}{0}",
        "đ{0}ư{4}",
        "{}",
        "{{}}",
        "🚢{2}🚢",
    ];
    let queries: Vec<Json> = messages.iter().map(|m| json!([m, typed])).collect();
    let dir = TempDir::new("fill");
    let q = dir.write("queries.json", &Json::from(queries));
    let got = js(&[&q], Some("--fill"));
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(
            got[i],
            json!(regc::eval::fill_message(m, &values)),
            "message {m:?} (JS left, Rust right)"
        );
    }
}
