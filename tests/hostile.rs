//! Regression tests of hostile and clumsy input (issue 21, "Nothing lost,
//! nothing exhausted"): each failed before its fix.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use common::text;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A scratch folder of this test process, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("regc-hostile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs regc under a cap on its address space (`ulimit -v`, in kB), so a
/// run that tries to allocate gigabytes fails instead of taking the
/// machine.
fn regc_capped(cap_kb: u64, args: &[&str]) -> std::process::Output {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {cap_kb}; exec '{}' {}",
            env!("CARGO_BIN_EXE_regc"),
            quoted.join(" ")
        ))
        .current_dir(common::repo())
        .env("NO_COLOR", "1")
        .env("REGC_LANG", "en")
        .output()
        .expect("sh runs")
}

/// 1.5 GB of address space: regc compiles the library and reads a file in
/// far less; a dense grid of a whole sheet needs 23 GB.
const CAP_KB: u64 = 1_500_000;

fn validate_capped(file: &Path) -> std::process::Output {
    regc_capped(
        CAP_KB,
        &[
            "validate",
            "transport.seaport_cargo",
            file.to_str().unwrap(),
        ],
    )
}

/// Item 1: a workbook of a few kilobytes with cells A1 and XFD1048576 is
/// read cell by cell, not as a grid of 17 billion cells.
#[test]
fn a_workbook_with_a_far_cell_is_read_sparsely() {
    let tmp = Scratch::new("far-cell");
    let path = tmp.path("far.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["unit", "period", "form", "record", "cell", "value"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["CVHH-HP", "2025-01", "B01", "", "cargo.month", "12"]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    book.save(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 20_000);
    let o = validate_capped(&path);
    let out = text(&o);
    // Read to its end: the empty rows between are lines without a unit,
    // and the reader stops after its most problems.
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("far.xlsx:3 [unit]: no unit"), "{out}");
    assert!(out.contains("201 problem(s) in the files"), "{out}");
}

/// Writes a zip-based workbook whose shared strings inflate to `bytes`
/// bytes of one string.
fn zip_bomb(path: &Path, bytes: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .large_file(true);
    let parts: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#).unwrap();
    zip.start_file("xl/sharedStrings.xml", opts).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#).unwrap();
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..bytes / chunk.len() {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(b"</t></si></sst>").unwrap();
    zip.finish().unwrap();
}

/// Item 1: a zip bomb is refused by what it inflates to, before calamine
/// loads it.
#[test]
fn a_zip_bomb_workbook_is_refused_before_it_is_loaded() {
    let tmp = Scratch::new("bomb");
    let path = tmp.path("bomb.xlsx");
    zip_bomb(&path, 300 << 20);
    assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20);
    let o = validate_capped(&path);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("bomb.xlsx: the workbook inflates to more than 256 MB"),
        "{out}"
    );
    // A small workbook of the same making is read (and named its cells).
    zip_bomb(&path, 1 << 20);
    let out = text(&validate_capped(&path));
    assert!(!out.contains("inflates"), "{out}");
}

/// Item 3: `regc build --out DIR` replaces DIR whole, so it refuses a
/// folder that regc did not write, and one that holds the inputs.
#[test]
fn build_never_replaces_a_folder_it_did_not_write() {
    let tmp = Scratch::new("build-out");
    let lib = tmp.path("lib");
    common::copy_dir(&common::repo().join("tests/fixtures/lib"), &lib);
    let lib_s = lib.to_str().unwrap();
    let count = |dir: &Path| std::fs::read_dir(dir).map_or(0, |d| d.count());
    let inputs = count(&lib);
    assert!(inputs > 0);
    // The library itself, and a folder holding it.
    for out in [lib.clone(), tmp.0.clone()] {
        let o = common::regc(&["build", lib_s, "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("it holds the input"), "{}", text(&o));
        assert_eq!(count(&lib), inputs, "the sources are still there");
    }
    // A folder of someone's files, even with a manifest.json of another tool.
    let theirs = tmp.path("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("notes.txt"), "mine").unwrap();
    std::fs::write(theirs.join("manifest.json"), r#"{"name": "an extension"}"#).unwrap();
    let o = common::regc(&["build", lib_s, "--out", theirs.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a folder regc wrote"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(theirs.join("notes.txt")).unwrap(),
        "mine"
    );
    let o = common::regc(&["build", lib_s, "--ir", theirs.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(theirs.join("notes.txt").exists());
    // A new or empty folder, and then the build's own, are written.
    let built = tmp.path("gen");
    for _ in 0..2 {
        let o = common::regc(&["build", lib_s, "--out", built.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(built.join("manifest.json").is_file());
    }
    // Without its record beside it, the manifest still says regc wrote it.
    std::fs::remove_file(tmp.path(".gen.regc-build")).unwrap();
    let o = common::regc(&["build", lib_s, "--out", built.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let ir = tmp.path("ir");
    for _ in 0..2 {
        let o = common::regc(&["build", lib_s, "--ir", ir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
}

/// Reads one JSON submission set of the seaport regime in process.
fn read_json_set(name: &str, doc: &str) -> regc::submission::Reader {
    let (_, lib) = common::library();
    let r = lib
        .regimes
        .iter()
        .find(|r| r.code == "transport.seaport_cargo")
        .unwrap();
    let tmp = Scratch::new(name);
    let path = tmp.path("set.json");
    std::fs::write(&path, doc).unwrap();
    let mut ctx = regc::submission::Context::new(lib, r);
    let mut reader = regc::submission::Reader::default();
    reader.read_path(&mut ctx, &path).unwrap();
    reader
}

/// Item 6: a JSON submission set gives numbers exactly as written, and
/// refuses two submissions of one form, unit and period, and a key given
/// twice, instead of merging them or keeping the last.
#[test]
fn json_sets_are_read_exactly_and_refuse_what_is_given_twice() {
    let sub = |cells: &str| {
        format!(
            r#"{{"unit": "CVHH-HP", "period": "2025-01", "form": "B01", "records": {{"0": {{{cells}}}}}}}"#
        )
    };
    // 9007199254740993 is 2^53 + 1: through f64 it becomes …992.
    let doc = format!(
        "\u{feff}{{\"regime\": \"transport.seaport_cargo\", \"submissions\": [{}]}}",
        sub(r#""containers.month": 9007199254740993, "cargo.month": 15852147.50"#)
    );
    let reader = read_json_set("json-exact", &doc);
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    let s = reader.submissions.values().next().unwrap();
    assert_eq!(
        s.get(0, "containers.month")
            .map(|v| v.canonical())
            .as_deref(),
        Some("9007199254740993")
    );

    let doc = format!(
        r#"{{"submissions": [{}, {}]}}"#,
        sub(r#""containers.month": 1"#),
        sub(r#""cargo.month": 2"#)
    );
    let errors: Vec<String> = read_json_set("json-twice", &doc)
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.iter().any(|e| e
            .contains("[submissions[1]]: a second submission of form B01 of CVHH-HP for 2025-01")),
        "{errors:?}"
    );

    let doc = format!(
        r#"{{"submissions": [{}]}}"#,
        sub(r#""containers.month": 1, "containers.month": 2"#)
    );
    let errors: Vec<String> = read_json_set("json-key-twice", &doc)
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains(
            "[submissions[0].records.0.containers.month]: `containers.month` is given twice"
        )),
        "{errors:?}"
    );
}

/// Item 8: CSV that regc writes opens in a spreadsheet without running
/// formulas from the files: a field starting with `=`, `+`, `-` or `@`
/// gets a leading `'` (OWASP); plain negative numbers stay numbers.
#[test]
fn csv_output_carries_no_formulas() {
    let tmp = Scratch::new("csv-injection");
    let lib = tmp.path("lib");
    common::copy_dir(&common::repo().join("regimes"), &lib);
    let regime = lib.join("transport/seaport_cargo.regime");
    let source = std::fs::read_to_string(&regime).unwrap().replace(
        "rule R03 error \"Tổng dung tích phải dương\" for each B02:",
        "rule R03 error \"{ship}: tổng dung tích phải dương\" for each B02:",
    );
    std::fs::write(&regime, source).unwrap();
    let sample = std::fs::read_to_string(
        common::repo().join("tests/samples/transport.seaport_cargo/valid.csv"),
    )
    .unwrap()
    .replace(
        "B02,5,ship,DONG DO 09",
        "B02,5,ship,\"=HYPERLINK(\"\"http://evil\"\")\"",
    )
    .replace("B02,5,gross_t,4987.5", "B02,5,gross_t,-3.0");
    let file = tmp.path("sent.csv");
    std::fs::write(&file, sample).unwrap();
    let o = common::regc(&[
        "validate",
        "transport.seaport_cargo",
        file.to_str().unwrap(),
        "--lib",
        lib.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(r#",error,"'=HYPERLINK(""http://evil""): tổng dung tích phải dương""#),
        "{}",
        text(&o)
    );
    assert!(!out.contains(",\"=") && !out.contains(",="), "{out}");
}

/// Item 4: eight `regc import`s started at once into one fresh PostgreSQL
/// schema all succeed (the schema is applied under a lock), and every
/// submission is stored once.
#[test]
fn concurrent_imports_into_one_postgres_schema_all_succeed() {
    let Some(pg) = common::PgSchema::new("concurrent") else {
        return;
    };
    let tmp = Scratch::new("concurrent");
    let valid = std::fs::read_to_string(
        common::repo().join("tests/samples/transport.seaport_cargo/valid.csv"),
    )
    .unwrap();
    let files: Vec<PathBuf> = (1..=8)
        .map(|m| {
            let path = tmp.path(&format!("m{m}.csv"));
            std::fs::write(&path, valid.replace(",2025-01,", &format!(",2025-{m:02},"))).unwrap();
            path
        })
        .collect();
    let children: Vec<std::process::Child> = files
        .iter()
        .map(|f| {
            std::process::Command::new(env!("CARGO_BIN_EXE_regc"))
                .args(["import", "transport.seaport_cargo"])
                .arg(f)
                .args(["--db", &pg.url])
                .current_dir(common::repo())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let mut c = pg.client();
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM regc_submission WHERE regime = 'transport.seaport_cargo'",
            &[],
        )
        .unwrap()
        .get(0);
    // Two forms a month, eight months.
    assert_eq!(n, 16);
}

/// Item 10: a source file past its limit is refused by its size on disk,
/// before it is read: a 2 GB `.regime` or YAML file (sparse, so it takes
/// no disk) is E0010 under a cap of 1.5 GB of address space.
#[test]
fn huge_source_files_are_refused_before_they_are_read() {
    for (name, what) in [
        ("cases/huge.regime", "regime files may have at most"),
        ("data/huge.yaml", "data files may have at most"),
    ] {
        let tmp = Scratch::new("huge-source");
        let lib = tmp.path("lib");
        common::copy_dir(&common::repo().join("tests/fixtures/lib"), &lib);
        let path = lib.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(2 << 30).unwrap();
        drop(f);
        let o = regc_capped(CAP_KB, &["check", lib.to_str().unwrap()]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {out}");
        assert!(out.contains("E0010"), "{name}: {out}");
        assert!(
            out.contains(&format!("this file has 2147483648 bytes; {what}")),
            "{name}: {out}"
        );
    }
}

/// Low: `validate --history sqlite:typo.db` refuses a database that does
/// not exist instead of creating an empty one and finding nothing.
#[test]
fn a_history_database_that_does_not_exist_is_refused() {
    let tmp = Scratch::new("history-typo");
    let typo = tmp.path("typo.db");
    let o = common::regc(&[
        "validate",
        "transport.seaport_cargo",
        "tests/samples/transport.seaport_cargo/valid.csv",
        "--history",
        &format!("sqlite:{}", typo.display()),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("there is no database at"), "{}", text(&o));
    assert!(!typo.exists(), "no empty database was created");
}

/// Item 10: a JSON submission set, read whole, is refused by its size
/// before it is read.
#[test]
fn a_huge_json_set_is_refused_before_it_is_read() {
    let tmp = Scratch::new("huge-json");
    let path = tmp.path("huge.json");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(2 << 30).unwrap();
    drop(f);
    let o = validate_capped(&path);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("huge.json: the file has 2147483648 bytes; a JSON submission set may have at most 256 MB"),
        "{out}"
    );
}

/// Low: a `.regime` file that is not UTF-8 is E0014 at its first bad byte,
/// and the rest of the library is still checked (it stopped the whole
/// check with an IO error before).
#[test]
fn a_file_that_is_not_utf8_is_located_and_the_rest_is_checked() {
    let tmp = Scratch::new("not-utf8");
    let lib = tmp.path("lib");
    common::copy_dir(&common::repo().join("tests/fixtures/lib"), &lib);
    std::fs::create_dir_all(lib.join("cases")).unwrap();
    // "Báo cáo" in Latin-1: 0xE1 is no UTF-8 here.
    std::fs::write(
        lib.join("cases/latin1.regime"),
        b"// a regime saved in Latin-1\n// B\xe1o c\xe1o\n",
    )
    .unwrap();
    // Another file's own error is still found.
    std::fs::write(
        lib.join("cases/other.regime"),
        "regime x.y {\n  titel \"a\"\n}\n",
    )
    .unwrap();
    let o = common::regc(&["check", lib.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("E0014"), "{out}");
    assert!(out.contains("latin1.regime:2:5"), "{out}");
    assert!(out.contains("other.regime"), "{out}");
}

/// Low: text from a file reaches the terminal escaped: no escape sequence
/// (ESC [2J clears the screen) and no U+202E (shows text reversed) is
/// printed raw.
#[test]
fn input_text_is_printed_escaped() {
    let tmp = Scratch::new("escapes");
    let file = tmp.path("esc.csv");
    std::fs::write(
        &file,
        "unit,period,form,record,cell,value\n\u{1b}[2J\u{1b}[31mEVIL\u{202e},2025-01,B01,,cargo.month,1\n",
    )
    .unwrap();
    let o = common::regc(&[
        "validate",
        "transport.seaport_cargo",
        file.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(
        out.contains(r"unknown unit `\u{001b}[2J\u{001b}[31mEVIL\u{202e}`"),
        "{out}"
    );
}

/// Low: periods of the years 9999 and 1900 are typing slips, refused
/// with the years regc takes.
#[test]
fn periods_of_absurd_years_are_refused() {
    let tmp = Scratch::new("absurd-periods");
    let file = tmp.path("years.csv");
    std::fs::write(
        &file,
        "unit,period,form,record,cell,value\nCVHH-HP,9999-01,B01,,cargo.month,1\nCVHH-HP,1900-01,B01,,cargo.month,1\n",
    )
    .unwrap();
    let o = common::regc(&[
        "validate",
        "transport.seaport_cargo",
        file.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for (line, year) in [(2, 9999), (3, 1900)] {
        assert!(
            out.contains(&format!(
                "years.csv:{line} [period]: `{year}-01` is a period of the year {year}; regc takes periods of the years 1990 to 2100"
            )),
            "{out}"
        );
    }
}

/// Low: a file with old Mac line ends (a lone CR) is reported at the line
/// and column a reader sees, in both renderings.
#[test]
fn lone_carriage_returns_end_lines() {
    let tmp = Scratch::new("cr");
    let file = tmp.path("cr.regime");
    std::fs::write(&file, "regime x.y {\r  title \"a\"\r  titel \"b\"\r}\r").unwrap();
    let o = common::regc(&["check", file.to_str().unwrap()]);
    let out = text(&o);
    assert!(out.contains("cr.regime:3:3]"), "{out}");
    assert!(out.contains(" 3 │   titel \"b\""), "{out}");
    let o = common::regc(&["check", file.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["diagnostics"][0]["line"], 3, "{}", text(&o));
    assert_eq!(json["diagnostics"][0]["column"], 3, "{}", text(&o));
}

/// Low: a label longer than an Excel cell holds is E0702 when checking,
/// not a build that fails without a code.
#[test]
fn a_label_longer_than_an_excel_cell_is_refused_with_a_code() {
    let tmp = Scratch::new("long-label");
    let lib = tmp.path("lib");
    common::copy_dir(&common::repo().join("regimes"), &lib);
    let regime = lib.join("transport/seaport_cargo.regime");
    let long = "ă".repeat(32_768);
    let source = std::fs::read_to_string(&regime)
        .unwrap()
        .replace("\"Tổng hàng hóa\"", &format!("\"{long}\""));
    std::fs::write(&regime, source).unwrap();
    let out_dir = tmp.path("out");
    let o = common::regc(&[
        "build",
        lib.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("E0702"), "{out}");
    assert!(
        out.contains("this text has 32768 characters; a text may have at most 32767"),
        "{out}"
    );
    assert!(!out_dir.exists(), "nothing was written");
}

/// Low: a symbolic link that loops back up the library is not followed
/// round: the library is read once and checked.
#[cfg(unix)]
#[test]
fn a_symlink_loop_in_the_library_is_read_once() {
    let tmp = Scratch::new("symlink-loop");
    let lib = tmp.path("lib");
    common::copy_dir(&common::repo().join("tests/fixtures/lib"), &lib);
    std::os::unix::fs::symlink(&lib, lib.join("common/loop")).unwrap();
    let o = common::regc(&["check", lib.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Low: a label written as a Markdown link or image shows as written in
/// the regime's README.md, and is no link.
#[test]
fn markdown_links_in_labels_are_not_links_in_the_readme() {
    let (_, lib) = common::library();
    let mut lib = lib.clone();
    let r = lib
        .regimes
        .iter_mut()
        .find(|r| r.code == "transport.seaport_cargo")
        .unwrap();
    r.forms[0].title = "[bấm vào đây](http://evil.example) ![x](http://evil.example/x.png)".into();
    let r = lib
        .regimes
        .iter()
        .find(|r| r.code == "transport.seaport_cargo")
        .unwrap();
    let readme = regc::emit::docs::regime_readme(&lib, r);
    assert!(
        readme.contains(r"\[bấm vào đây\](http://evil.example) \!\[x\](http://evil.example/x.png)"),
        "{readme}"
    );
    assert!(!readme.contains("[bấm vào đây]("), "{readme}");
}
