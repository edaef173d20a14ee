//! The command line as users run it: exit codes, output formats, files.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn regc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("regc runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("regc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `--deny-warnings` fails on a library whose only diagnostics are
/// warnings; without it the same library passes.
#[test]
fn warnings_can_be_denied() {
    let dir = tmp("deny");
    let lib = dir.join("lib");
    common::copy_dir(&common::repo().join("tests/fixtures/lib"), &lib);
    std::fs::copy(
        common::repo().join("tests/cases/diagnostics/E0330_stock_summed.regime"),
        lib.join("stock.regime"),
    )
    .unwrap();
    let lib_s = lib.to_string_lossy().into_owned();
    let o = regc(&["check", &lib_s], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("1 warning(s)"), "{}", text(&o));
    let o = regc(&["check", &lib_s, "--deny-warnings"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("warnings are denied"), "{}", text(&o));
    let o = regc(&["build", &lib_s, "--out", "out", "--deny-warnings"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!dir.join("out").exists(), "a denied build wrote files");
    let o = regc(&["build", &lib_s, "--out", "out"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn check_of_the_library_succeeds() {
    let o = regc(&["check"], &common::repo());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 error(s)"));
}

#[test]
fn check_reports_errors_with_code_and_location_and_exits_1() {
    let case = common::repo().join("tests/cases/diagnostics/E0304_unit_mismatch.regime");
    let dir = tmp("e0304");
    // Outside any library the file is compiled alone: its `use` fails too.
    let file = dir.join("bad.regime");
    std::fs::copy(&case, &file).expect("copy");
    let o = regc(&["check", "bad.regime"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("E0201"), "{out}");
    assert!(out.contains("bad.regime:2:5"), "{out}");
    // It says why: there is no library, rather than "no such module".
    assert!(
        out.contains("`use common.units` finds nothing: this file is not in a library"),
        "{out}"
    );
    assert!(out.contains("library.yaml"), "{out}");
}

/// A file named by a relative path from inside a library (`t/x.regime`
/// run in the library folder) is checked with its library.
#[test]
fn a_relative_file_inside_a_library_is_checked_with_it() {
    let dir = tmp("relative");
    common::copy_dir(&common::repo().join("tests/fixtures/lib"), &dir);
    std::fs::create_dir_all(dir.join("t")).expect("mkdir");
    std::fs::copy(
        common::repo().join("tests/cases/diagnostics/E0304_unit_mismatch.regime"),
        dir.join("t/x.regime"),
    )
    .expect("copy");
    let o = regc(&["check", "t/x.regime"], &dir);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("E0304"), "{out}");
    assert!(!out.contains("E0201"), "{out}");
}

#[test]
fn json_diagnostics_are_machine_readable() {
    let dir = tmp("json");
    std::fs::write(
        dir.join("x.regime"),
        "regime a.b {\n  frequency montly\n}\n",
    )
    .expect("write");
    let o = regc(&["check", "x.regime", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let diags = v["diagnostics"].as_array().expect("a list");
    let freq = diags
        .iter()
        .find(|d| d["code"] == "E0104")
        .expect("E0104 reported");
    assert_eq!(freq["line"], 2);
    assert_eq!(freq["column"], 13);
    assert!(freq["help"].as_str().unwrap_or("").contains("monthly"));
    assert!(v["errors"].as_u64().unwrap_or(0) >= 1);
}

#[test]
fn io_and_usage_errors_exit_2() {
    let dir = tmp("io");
    assert_eq!(
        regc(&["check", "no/such/path"], &dir).status.code(),
        Some(2)
    );
    assert_eq!(regc(&["frobnicate"], &dir).status.code(), Some(2));
    assert_eq!(
        regc(&["check", "--format", "xml"], &dir).status.code(),
        Some(2)
    );
    std::fs::write(
        dir.join("latin1.regime"),
        b"regime a.b { title \"B\xe1o c\xe1o\" }\n",
    )
    .expect("write");
    // A file that is not UTF-8 is no IO error: it is E0014 at its first
    // bad byte (issue 21), and the check fails like any other.
    let o = regc(&["check", "latin1.regime"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("E0014"), "{}", text(&o));
    assert!(text(&o).contains("latin1.regime:1:22"), "{}", text(&o));
}

/// Vietnamese by default; English with `--lang en` or `REGC_LANG=en`; the
/// flag wins over the variable.
#[test]
fn messages_are_vietnamese_unless_english_is_asked_for() {
    let dir = tmp("lang");
    std::fs::write(
        dir.join("x.regime"),
        "regime a.b {\n  frequency montly\n}\n",
    )
    .expect("write");
    let run = |env: Option<&str>, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_regc"));
        c.args(args).current_dir(&dir).env("NO_COLOR", "1");
        match env {
            Some(v) => c.env("REGC_LANG", v),
            None => c.env_remove("REGC_LANG"),
        };
        text(&c.output().expect("regc runs"))
    };
    let vi = run(None, &["check", "x.regime"]);
    assert!(vi.contains("không phải là tần suất báo cáo"), "{vi}");
    assert!(vi.contains("gợi ý: có phải ý là `monthly`?"), "{vi}");
    assert!(
        vi.contains("đã kiểm tra 1 chế độ báo cáo trong 1 tệp:"),
        "{vi}"
    );
    assert!(!vi.contains("help:"), "{vi}");
    let en = run(None, &["check", "x.regime", "--lang", "en"]);
    assert!(en.contains("is not a frequency"), "{en}");
    assert!(en.contains("checked 1 regime(s) in 1 file(s):"), "{en}");
    assert_eq!(run(Some("en_US.UTF-8"), &["check", "x.regime"]), en);
    assert_eq!(run(Some("en"), &["--lang", "vi", "check", "x.regime"]), vi);
    // JSON says which language its texts are in.
    let json = run(None, &["check", "x.regime", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["lang"], "vi");
    // `explain` has a Vietnamese page for every code.
    let ex = run(None, &["explain", "E0304"]);
    assert!(
        ex.starts_with("E0304 (lỗi): cộng hoặc so sánh các đại lượng khác đơn vị đo"),
        "{ex}"
    );
    let ex = run(None, &["explain", "E0304", "--lang", "en"]);
    assert!(ex.starts_with("E0304 (error)"), "{ex}");
}

#[test]
fn explain_prints_the_long_text() {
    let o = regc(&["explain", "e0304"], &common::repo());
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).starts_with("E0304 (error)"), "{}", text(&o));
    let o = regc(&["explain", "E9999"], &common::repo());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_names_every_regime() {
    let o = regc(&["list", "--format", "json"], &common::repo());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let list = v.as_array().expect("a list");
    // The library covers the 19 regimes of the 10 agencies of the Government
    // Reporting Information System.
    assert!(list.len() >= 19, "{} regimes", list.len());
    let owners: std::collections::BTreeSet<&str> =
        list.iter().filter_map(|r| r["owner"].as_str()).collect();
    assert!(owners.len() >= 10, "owners: {owners:?}");
    for r in list {
        for key in [
            "code",
            "owner",
            "frequency",
            "version",
            "forms",
            "cells",
            "rules",
        ] {
            assert!(!r[key].is_null(), "{key} missing in {r}");
        }
    }
    assert!(
        list.iter()
            .any(|r| r["code"] == "transport.seaport_cargo" && r["frequency"] == "monthly")
    );
}

#[test]
fn build_ir_writes_json_and_check_detects_edits() {
    let dir = tmp("ir");
    let out = dir.join("ir");
    let lib = common::repo().join("regimes");
    let (lib_s, out_s) = (
        lib.to_string_lossy().into_owned(),
        out.to_string_lossy().into_owned(),
    );
    let o = regc(&["build", &lib_s, "--ir", &out_s], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let ir: serde_json::Value =
        serde_json::from_str(&common::read(&out.join("transport.seaport_cargo.json")))
            .expect("JSON");
    assert_eq!(ir["frequency"], "monthly");
    assert!(out.join("library.json").is_file() && out.join("org.json").is_file());
    let o = regc(&["build", &lib_s, "--ir", &out_s, "--check"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(out.join("transport.seaport_cargo.json"), "{}").expect("edit");
    let o = regc(&["build", &lib_s, "--ir", &out_s, "--check"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("changed: transport.seaport_cargo.json"),
        "{}",
        text(&o)
    );
}

fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn builds_are_deterministic_atomic_and_checked() {
    let dir = tmp("build");
    let lib = common::repo().join("regimes");
    let lib_s = lib.to_string_lossy().into_owned();
    // Twice into two folders: byte-identical, and equal to the committed generated/.
    for out in ["a", "b"] {
        let o = regc(&["build", &lib_s, "--out", out], &dir);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let a = tree(&dir.join("a"));
    assert_eq!(a, tree(&dir.join("b")));
    assert_eq!(
        a,
        tree(&common::repo().join("generated")),
        "generated/ is stale: run `regc build`"
    );
    assert!(a.contains_key("manifest.json") && a.contains_key("index.md"));
    // A stale file of a removed regime disappears.
    std::fs::create_dir_all(dir.join("a/old.regime_code")).unwrap();
    std::fs::write(dir.join("a/old.regime_code/ir.json"), "{}").unwrap();
    let o = regc(&["build", &lib_s, "--out", "a", "--check"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("extra: old.regime_code/ir.json"),
        "{}",
        text(&o)
    );
    let o = regc(&["build", &lib_s, "--out", "a"], &dir);
    assert_eq!(o.status.code(), Some(0));
    assert!(!dir.join("a/old.regime_code").exists());
    // --check catches a hand-edited file and writes nothing.
    std::fs::write(dir.join("a/index.md"), "edited").unwrap();
    let o = regc(&["build", &lib_s, "--out", "a", "--check"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("changed: index.md"), "{}", text(&o));
    // … and shows what changed, as a unified diff of the text file.
    assert!(
        text(&o).contains("--- a/index.md\n+++ b/index.md\n"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("\n-edited"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("a/index.md")).unwrap(),
        "edited"
    );
    // A build whose sources have an error writes nothing: the old tree stays.
    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    for entry in ["library.yaml", "common", "data", "transport"] {
        let status = Command::new("cp")
            .arg("-r")
            .arg(lib.join(entry))
            .arg(&broken)
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::write(
        broken.join("transport/seaport_cargo.regime"),
        "regime transport.seaport_cargo {",
    )
    .unwrap();
    let before = tree(&dir.join("b"));
    let o = regc(&["build", &broken.to_string_lossy(), "--out", "b"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        tree(&dir.join("b")),
        before,
        "a failed build left the old tree as it was"
    );
    // An output folder that cannot be written: exit 2, old tree intact.
    let ro = dir.join("ro");
    std::fs::create_dir_all(ro.join("out")).unwrap();
    std::fs::write(ro.join("out/keep.txt"), "keep").unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&ro, perms).unwrap();
    let o = regc(
        &["build", &lib_s, "--out", &ro.join("out").to_string_lossy()],
        &dir,
    );
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&ro, perms).unwrap();
    // (root ignores permissions: then the build simply succeeds.)
    if o.status.code() != Some(0) {
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert_eq!(
            std::fs::read_to_string(ro.join("out/keep.txt")).unwrap(),
            "keep"
        );
    }
}

#[test]
fn an_incremental_build_equals_a_full_build() {
    let dir = tmp("incremental");
    let lib = dir.join("lib");
    let status = Command::new("cp")
        .arg("-r")
        .arg(common::repo().join("regimes"))
        .arg(&lib)
        .status()
        .unwrap();
    assert!(status.success());
    let lib_s = lib.to_string_lossy().into_owned();
    assert_eq!(
        regc(&["build", &lib_s, "--out", "inc"], &dir).status.code(),
        Some(0)
    );
    // Touch one regime: a new comment and a changed label.
    let file = lib.join("transport/seaport_cargo.regime");
    let text = common::read(&file).replace("\"Tổng hàng hóa\"", "\"Tổng khối lượng hàng hóa\"");
    std::fs::write(&file, format!("// edited\n{text}")).unwrap();
    assert_eq!(
        regc(&["build", &lib_s, "--out", "inc"], &dir).status.code(),
        Some(0)
    );
    assert_eq!(
        regc(&["build", &lib_s, "--out", "full"], &dir)
            .status
            .code(),
        Some(0)
    );
    let (inc, full) = (tree(&dir.join("inc")), tree(&dir.join("full")));
    assert_eq!(inc, full);
    assert!(
        String::from_utf8_lossy(&inc["transport.seaport_cargo/README.md"])
            .contains("Tổng khối lượng hàng hóa")
    );
}

#[test]
fn rollup_prints_the_aggregated_levels_of_a_period() {
    let dir = tmp("rollup");
    let csv = dir.join("cargo.csv");
    std::fs::write(
        &csv,
        "unit,period,form,record,cell,value
CVHH-HP,2025-01,B01,,cargo.plan,1000
CVHH-HP,2025-01,B01,,cargo.month,100.50
CVHH-HP,2025-01,B01,,berths.month,97
CVHH-HP,2025-02,B01,,cargo.month,200.25
CVHH-HP,2025-02,B01,,berths.month,98
",
    )
    .unwrap();
    let db = format!("sqlite:{}", dir.join("r.db").display());
    let csv = csv.to_str().unwrap();
    // Parts of reports (no split rows): stored despite the split rules.
    let o = common::regc(&[
        "import",
        "transport.seaport_cargo",
        csv,
        "--db",
        &db,
        "--force",
    ]);
    assert!(o.status.success(), "{}", common::text(&o));
    let o = common::regc(&[
        "rollup",
        "transport.seaport_cargo",
        "--db",
        &db,
        "--period",
        "2025-Q1",
        "--level",
        "ministry",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", common::text(&o));
    let forms: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let b01 = &forms[0];
    assert_eq!(b01["form"], "B01");
    let rows = b01["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(
        (row["unit"].as_str(), row["level"].as_str()),
        (Some("BGTVT"), Some("ministry"))
    );
    assert_eq!(row["frequency"], "quarterly");
    let cells: Vec<&str> = b01["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let value = |cell: &str| {
        let i = cells.iter().position(|c| *c == cell).unwrap();
        row["values"][i].as_str().map(str::to_string)
    };
    // Summed over the quarter; the berths (a stock) as last reported; the
    // yearly plan carried; the percentages recomputed from the totals.
    assert_eq!(value("cargo.month").as_deref(), Some("300.75"));
    assert_eq!(value("berths.month").as_deref(), Some("98"));
    assert_eq!(value("cargo.plan").as_deref(), Some("1000"));
    assert_eq!(value("cargo.ytd").as_deref(), Some("300.75"));
    assert_eq!(value("cargo.vs_plan").as_deref(), Some("30.075"));

    // The same roll-up as a workbook in the form's paper layout.
    let book = dir.join("rollup.xlsx");
    let args = [
        "rollup",
        "transport.seaport_cargo",
        "--db",
        &db,
        "--period",
        "2025-Q1",
        "--level",
        "ministry",
        "--format",
        "xlsx",
    ];
    let o = common::regc(&args);
    assert_eq!(o.status.code(), Some(2), "{}", common::text(&o));
    assert!(common::text(&o).contains("--out"), "{}", common::text(&o));
    let mut with_out = args.to_vec();
    with_out.extend(["--out", book.to_str().unwrap()]);
    let o = common::regc(&with_out);
    assert!(o.status.success(), "{}", common::text(&o));
    {
        use calamine::Reader as _;
        let mut wb = calamine::open_workbook_auto(&book).unwrap();
        assert_eq!(wb.sheet_names(), vec!["B01 2025-Q1 BGTVT".to_string()]);
        let sheet = wb.worksheet_range("B01 2025-Q1 BGTVT").unwrap();
        let at = |y: u32, x: u32| {
            sheet
                .get_value((y, x))
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        assert_eq!(at(0, 0), "Biểu số: B01");
        let row = (0..sheet.height() as u32)
            .find(|&y| at(y, 1) == "Tổng hàng hóa")
            .unwrap();
        assert_eq!(at(row, 0), "1");
        assert_eq!(at(row, 2), "tấn");
        // Columns: plan, month, ytd, % of plan (rounded to 2 digits).
        let header = (0..sheet.height() as u32)
            .find(|&y| at(y, 0) == "STT")
            .unwrap();
        let col = |label: &str| {
            (3..sheet.width() as u32)
                .find(|&x| at(header, x) == label)
                .unwrap_or_else(|| panic!("no column {label}"))
        };
        assert_eq!(at(row, col("Thực hiện tháng")), "300.75");
        assert_eq!(at(row, col("Kế hoạch năm")), "1000");
        assert_eq!(at(row, col("% kế hoạch")), "30.08");
    }

    // Completeness: one port authority expected below the ministry.
    let o = common::regc(&[
        "rollup",
        "transport.seaport_cargo",
        "--db",
        &db,
        "--completeness",
        "--level",
        "ministry",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", common::text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("period,unit,name,unit_level,level,due_date,expected,received,on_time"),
        "{out}"
    );
    assert!(
        out.contains("2025-01,BGTVT,Bộ Giao thông vận tải,ministry,port_authority,"),
        "{out}"
    );

    // A record form is not rolled up; a database without the regime says so.
    let o = common::regc(&[
        "rollup",
        "transport.seaport_cargo",
        "--db",
        &db,
        "--form",
        "B02",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", common::text(&o));
    assert!(
        common::text(&o).contains("record forms are not rolled up"),
        "{}",
        common::text(&o)
    );
    let empty = format!("sqlite:{}", dir.join("empty.db").display());
    let o = common::regc(&["rollup", "transport.seaport_cargo", "--db", &empty]);
    assert_eq!(o.status.code(), Some(1), "{}", common::text(&o));
    assert!(
        common::text(&o).contains("import some first"),
        "{}",
        common::text(&o)
    );
}
