#![allow(clippy::indexing_slicing, clippy::unwrap_used)]
//! Submission forms (docs/forms.md): the JSON Schema of every regime
//! against its samples and against broken documents (and `regc validate`'s
//! reader on the same documents), a snapshot of one regime's pages, the
//! templates' override and escaping, the Excel templates read back by
//! `regc validate`, and the pages in headless Chromium
//! (tests/browser/driver.mjs): values typed, computed cells updated, rules
//! broken and fixed, warnings explained, the submitted JSON checked by the
//! schema and by `regc validate`, hostile labels kept as text under the
//! page's Content-Security-Policy, labels and keyboard.

mod common;

use regc::emit::forms;
use regc::eval::Store;
use regc::ir;
use regc::submission::{Context, Reader};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn regime<'a>(lib: &'a ir::Library, code: &str) -> &'a ir::Regime {
    lib.regimes.iter().find(|r| r.code == code).unwrap()
}

/// A temporary directory of one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("regc-forms-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, value: &Json) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The valid sample of a regime as a submission set (canonical values).
fn sample_set(lib: &ir::Library, r: &ir::Regime) -> Json {
    let path = common::repo().join(format!("tests/samples/{}/valid.csv", r.code));
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::default();
    reader.read_csv(
        &mut ctx,
        "valid.csv",
        std::fs::read_to_string(&path).unwrap().as_bytes(),
    );
    assert!(reader.errors.is_empty(), "{}: {:?}", r.code, reader.errors);
    let mut store = Store::default();
    for s in reader.submissions.into_values() {
        store.insert(&r.code, s);
    }
    store.to_json(&r.code)
}

/// What regc's JSON reader says of a document: its input errors.
fn reader_errors(lib: &ir::Library, r: &ir::Regime, doc: &Json) -> Vec<String> {
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::default();
    reader.read_json(
        &mut ctx,
        "doc.json",
        serde_json::to_string(doc).unwrap().as_bytes(),
    );
    reader.errors.iter().map(|e| e.to_string()).collect()
}

fn validator(lib: &ir::Library, r: &ir::Regime) -> jsonschema::Validator {
    let schema = forms::submission_schema(lib, r);
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("{}: not a valid JSON Schema: {e}", r.code));
    jsonschema::draft202012::new(&schema).unwrap()
}

#[test]
fn every_schema_is_the_committed_one_and_accepts_the_valid_sample() {
    let (_, lib) = common::library();
    for r in &lib.regimes {
        let schema = forms::submission_schema(lib, r);
        let committed: Json = serde_json::from_str(&common::read(
            &common::repo().join(format!("generated/{}/submission.schema.json", r.code)),
        ))
        .unwrap();
        assert_eq!(schema, committed, "{}", r.code);
        let v = validator(lib, r);
        let set = sample_set(lib, r);
        let errors: Vec<String> = v.iter_errors(&set).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", r.code);
        assert!(reader_errors(lib, r, &set).is_empty(), "{}", r.code);
    }
}

/// One change to a valid document.
fn mutate(doc: &Json, f: impl FnOnce(&mut Json)) -> Json {
    let mut d = doc.clone();
    f(&mut d);
    d
}

#[test]
fn schemas_reject_what_the_reader_rejects() {
    let (_, lib) = common::library();
    let r = regime(lib, "transport.seaport_cargo");
    let v = validator(lib, r);
    let set = sample_set(lib, r);
    let b01 = set["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["form"] == "B01")
        .unwrap();
    let b02 = set["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["form"] == "B02")
        .unwrap();
    let cases: Vec<(&str, Json)> = vec![
        (
            "a word in a number",
            mutate(&set, |d| {
                d["submissions"][b01]["records"]["0"]["cargo.month"] = json!("nhiều");
            }),
        ),
        (
            "three decimals in decimal(12,2)",
            mutate(&set, |d| {
                d["submissions"][b01]["records"]["0"]["cargo.month"] = json!("1.125");
            }),
        ),
        (
            "a computed cell",
            mutate(&set, |d| {
                d["submissions"][b01]["records"]["0"]["cargo.ytd"] = json!("1");
            }),
        ),
        (
            "an unknown cell",
            mutate(&set, |d| {
                d["submissions"][b01]["records"]["0"]["cargo.nope"] = json!("1");
            }),
        ),
        (
            "a code outside its codelist",
            mutate(&set, |d| {
                d["submissions"][b02]["records"]["1"]["flag"] = json!("ZZ");
            }),
        ),
        (
            "a required field left out",
            mutate(&set, |d| {
                d["submissions"][b02]["records"]["1"]
                    .as_object_mut()
                    .unwrap()
                    .remove("ship");
            }),
        ),
        (
            "a date that does not exist",
            mutate(&set, |d| {
                d["submissions"][b02]["records"]["1"]["arrived"] = json!("2025-02-30x");
            }),
        ),
        (
            "a period of another frequency",
            mutate(&set, |d| {
                d["submissions"][b01]["period"] = json!("2025-Q1");
            }),
        ),
        (
            "an unknown form",
            mutate(&set, |d| {
                d["submissions"][b01]["form"] = json!("B09");
            }),
        ),
        (
            "another regime",
            mutate(&set, |d| {
                d["regime"] = json!("transport.traffic_accidents");
            }),
        ),
        (
            "an explanation that is not text",
            mutate(&set, |d| {
                d["submissions"][b01]["explanations"] = json!({"R01": 5});
            }),
        ),
    ];
    for (what, doc) in &cases {
        assert!(!v.is_valid(doc), "the schema accepts {what}");
        // The required field is a rule (regc validate reports it), not an
        // input error; every other case the reader refuses as well.
        if *what != "a required field left out" {
            assert!(
                !reader_errors(lib, r, doc).is_empty(),
                "the reader accepts {what}"
            );
        }
    }
    // Explanations of warnings are part of the document.
    let explained = mutate(&set, |d| {
        d["submissions"][b01]["explanations"] = json!({"R01": "Cảng mới đưa vào khai thác"});
    });
    assert!(v.is_valid(&explained));
    assert!(reader_errors(lib, r, &explained).is_empty());
    let unknown = mutate(&set, |d| {
        d["submissions"][b01]["explanations"] = json!({"R02": "R02 is an error, not a warning"});
    });
    assert!(!v.is_valid(&unknown));
}

#[test]
fn whole_number_ranges_are_patterns() {
    let (_, lib) = common::library();
    let mut seen = 0;
    for r in &lib.regimes {
        for f in &r.forms {
            for c in &f.cells {
                let (Some(range), ir::Type::Int) = (&c.range, &c.ty) else {
                    continue;
                };
                let (lo, hi): (u64, u64) = (range.min.parse().unwrap(), range.max.parse().unwrap());
                let schema = json!({"type": "string", "pattern": forms::int_range_pattern(lo, hi)});
                let v = jsonschema::draft202012::new(&schema).unwrap();
                for n in [lo, hi, (lo + hi) / 2] {
                    assert!(v.is_valid(&json!(n.to_string())), "{} {n}", c.id);
                }
                assert!(
                    !v.is_valid(&json!((hi + 1).to_string())),
                    "{} {}",
                    c.id,
                    hi + 1
                );
                if lo > 0 {
                    assert!(!v.is_valid(&json!((lo - 1).to_string())), "{}", c.id);
                }
                assert!(!v.is_valid(&json!(format!("0{hi}"))) || lo == 0);
                seen += 1;
            }
        }
    }
    assert!(seen > 0, "the library has whole-number ranges");
    // Exhaustively on small ranges.
    for (lo, hi) in [(0, 9), (0, 120), (1, 1000), (7, 7), (15, 2345)] {
        let schema = json!({"type": "string", "pattern": forms::int_range_pattern(lo, hi)});
        let v = jsonschema::draft202012::new(&schema).unwrap();
        for n in 0..3000u64 {
            assert_eq!(
                v.is_valid(&json!(n.to_string())),
                (lo..=hi).contains(&n),
                "{lo}..{hi}: {n}"
            );
        }
    }
}

#[test]
fn pages_of_the_seaport_regime() {
    let (_, lib) = common::library();
    let r = regime(lib, "transport.seaport_cargo");
    let templates = forms::Templates::new().unwrap();
    for form in &r.forms {
        let data = forms::rules_data(lib, r, form).unwrap();
        let html = forms::form_page(lib, r, form, &data, &templates).unwrap();
        // The data block is the rules IR of this form, parsed back whole.
        let start = html.find(r#"id="regc-rules">"#).unwrap() + r#"id="regc-rules">"#.len();
        let end = start + html[start..].find("</script>").unwrap();
        let parsed: Json = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(parsed["regime"], "transport.seaport_cargo");
        assert_eq!(parsed["forms"].as_array().unwrap().len(), 1);
        assert_eq!(parsed["forms"][0]["code"], form.code.as_str());
        insta::with_settings!({filters => vec![(r#"id="regc-rules">[^<]*</script>"#, r#"id="regc-rules">[rules IR]</script>"#)]}, {
            insta::assert_snapshot!(format!("seaport_{}", form.code), html);
        });
    }
}

/// A regime whose every label, title and message is hostile.
const HOSTILE: &str = r#"use common.units
use common.codelists
regime test.hostile {
  title "</title><script>window.__xss='title'</script>"
  basis "x\"><img src=x onerror=\"window.__xss='basis'\">"
  owner "<svg onload=window.__xss='owner'>"
  version 1
  frequency monthly
  cutoff calendar
  reporters province
  flow province -> ministry
  deadline province 5 days after cutoff, ministry 10 days after cutoff
  form B01 "<script>window.__xss='form'</script>" {
    columns {
      v   "\"><img src=x onerror=window.__xss='column'>" entered
      ytd "<iframe src=javascript:window.__xss='ytd'>" = sum(v over year_to_date)
    }
    rows {
      1 a "<script>window.__xss='row'</script>" : int [person]
        split "<b onmouseover=window.__xss='block'>Chia ra</b>" {
          1.1 b "'><img src=x onerror=window.__xss='child'>" : int [person]
          1.2 c "</td></tr></table><script>window.__xss='c'</script>" : int [person]
        }
    }
  }
  form B02 "Bản ghi <img src=x onerror=window.__xss='records'>" records {
    name "<script>window.__xss='field'</script>" : text(40) required
    flag "\"><svg onload=window.__xss='flag'>" : code countries
  }
  rule R01 error "<img src=x onerror=window.__xss='message'> {a.v} </script><script>window.__xss='m2'</script>": a.v <= 100
  rule W01 warning "<script>window.__xss='warning'</script> {b.v}": b.v <= 10
}
"#;

/// The fixture library with the hostile regime, on disk (for `regc
/// validate --lib`) and built (pages, schemas, templates) under `out/`.
fn hostile_library(tmp: &TempDir) -> (PathBuf, PathBuf) {
    let lib_dir = tmp.path("lib");
    common::copy_dir(&common::repo().join("tests/fixtures/lib"), &lib_dir);
    std::fs::create_dir_all(lib_dir.join("cases")).unwrap();
    std::fs::write(lib_dir.join("cases/hostile.regime"), HOSTILE).unwrap();
    let out = tmp.path("out");
    let o = Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .args(["build"])
        .arg(&lib_dir)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (lib_dir, out)
}

#[test]
fn hostile_text_is_escaped_in_the_pages() {
    let tmp = TempDir::new("escape");
    let (_, out) = hostile_library(&tmp);
    for form in ["B01", "B02"] {
        let html = common::read(&out.join(format!("test.hostile/forms/{form}.html")));
        let lower = html.to_lowercase();
        // Exactly the page's own two scripts: forms.js and the data block.
        assert_eq!(lower.matches("<script").count(), 2, "{html}");
        for bad in ["<img", "<svg", "<iframe", "<b ", "</title><", "<td></tr>"] {
            assert!(!lower.contains(bad), "{form}: {bad} in {html}");
        }
        assert!(html.contains("&lt;script&gt;window.__xss="), "{form}");
    }
}

#[test]
fn templates_can_be_replaced_and_still_escape() {
    let (_, lib) = common::library();
    let r = regime(lib, "transport.seaport_cargo");
    let form = &r.forms[0];
    let custom = std::collections::BTreeMap::from([(
        "grid.html".to_string(),
        "<p class=custom>{{ form.title }} {{ '<b>' }}</p>".to_string(),
    )]);
    let t = forms::Templates::with_overrides(&custom).unwrap();
    let html = forms::form_page(lib, r, form, "{}", &t).unwrap();
    assert!(html.contains("<p class=custom>Sản lượng hàng hóa thông qua cảng &lt;b&gt;</p>"));
    assert!(!html.contains("<table class=\"regc-grid\">"));
    let unknown = std::collections::BTreeMap::from([("base.html".to_string(), String::new())]);
    assert!(forms::Templates::with_overrides(&unknown).is_err());
    // From a folder, through the command line.
    let tmp = TempDir::new("templates");
    std::fs::create_dir_all(tmp.path("t")).unwrap();
    std::fs::write(tmp.path("t/grid.html"), "<p id=mine>{{ form.code }}</p>").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .arg("build")
        .arg(common::repo().join("regimes"))
        .arg("--out")
        .arg(tmp.path("out"))
        .arg("--templates")
        .arg(tmp.path("t"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = common::read(&tmp.path("out/transport.seaport_cargo/forms/B01.html"));
    assert!(page.contains("<p id=mine>B01</p>"));
}

// ------------------------------------------------------------------ Excel

/// Fills a template's open cells with the values of a submission (as a
/// unit reporting by spreadsheet would) and returns the workbook's path.
fn fill_template(
    tmp: &TempDir,
    r: &ir::Regime,
    form: &ir::Form,
    xlsx: &[u8],
    sub: &Json,
) -> PathBuf {
    // The template's map of cells, read with calamine as regc reads it.
    let path = tmp.path(&format!("{}.template.xlsx", form.code));
    std::fs::write(&path, xlsx).unwrap();
    use calamine::Reader as _;
    let mut book = calamine::open_workbook_auto(&path).unwrap();
    let meta = book.worksheet_range("regc").unwrap();
    let rows: Vec<Vec<String>> = meta
        .rows()
        .map(|r| {
            let mut cells: Vec<String> = r.iter().map(|d| d.to_string()).collect();
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            cells
        })
        .collect();
    assert_eq!(rows[0], ["regime", r.code.as_str()]);
    let place = |kind: &str, id: &str| {
        rows.iter()
            .find(|r| r[0] == kind && r[1] == id)
            .map(|r| r[2].clone())
    };
    let first_row: u32 = rows
        .iter()
        .find(|r| r[0] == "rows")
        .map(|r| r[1].parse().unwrap())
        .unwrap_or(0);
    // Write a new workbook with the same layout of values (rust_xlsxwriter
    // cannot edit a file): the form's sheet with the values at their
    // addresses, and the same `regc` sheet.
    let mut book_out = rust_xlsxwriter::Workbook::new();
    let ws = book_out.add_worksheet();
    ws.set_name(&form.code).unwrap();
    let mut put = |address: &str, text: &str, number: bool| {
        let (row, col) = regc::emit::xlsx::parse_a1(address).unwrap();
        match text.parse::<f64>() {
            Ok(x) if number => ws.write_number(row, col, x).unwrap(),
            _ => ws.write_string(row, col, text).unwrap(),
        };
    };
    put(
        &place_of(&rows, "unit"),
        sub["unit"].as_str().unwrap(),
        false,
    );
    put(
        &place_of(&rows, "period"),
        sub["period"].as_str().unwrap(),
        false,
    );
    let numeric = |id: &str| {
        form.cells
            .iter()
            .find(|c| c.id == id)
            .is_some_and(|c| c.ty.is_numeric())
    };
    for (n, cells) in sub["records"].as_object().unwrap() {
        for (id, value) in cells.as_object().unwrap() {
            let text = value.as_str().unwrap();
            if n == "0" {
                put(&place("cell", id).unwrap(), text, numeric(id));
            } else {
                let col = place("field", id).unwrap();
                let line = first_row + n.parse::<u32>().unwrap() - 1;
                put(&format!("{col}{line}"), text, numeric(id));
            }
        }
    }
    let ws = book_out.add_worksheet();
    ws.set_name("regc").unwrap();
    for (i, row) in rows.iter().enumerate() {
        for (j, text) in row.iter().enumerate() {
            ws.write_string(i as u32, j as u16, text).unwrap();
        }
    }
    let filled = tmp.path(&format!("{}.filled.xlsx", form.code));
    book_out.save(&filled).unwrap();
    filled
}

fn place_of(rows: &[Vec<String>], key: &str) -> String {
    rows.iter().find(|r| r[0] == key).unwrap()[1].clone()
}

/// The data validations of a worksheet of an .xlsx file (calamine does
/// not read them): (cells, type, formula1, formula2) per rule, read from
/// the sheet's XML.
fn validations(xlsx: &[u8], sheet: usize) -> Vec<(String, String, String, String)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name(&format!("xl/worksheets/sheet{sheet}.xml"))
            .unwrap(),
        &mut xml,
    )
    .unwrap();
    let unescape = |t: &str| {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    };
    let between = |t: &str, open: &str, close: &str| -> String {
        t.split_once(open)
            .and_then(|(_, rest)| rest.split_once(close))
            .map(|(inside, _)| unescape(inside))
            .unwrap_or_default()
    };
    xml.split("<dataValidation ")
        .skip(1)
        .map(|v| {
            let v = v.split("</dataValidation>").next().unwrap();
            // The attributes, each after a space.
            let head = format!(" {}", v.split('>').next().unwrap());
            let attr = |k: &str| between(&head, &format!(" {k}=\""), "\"");
            (
                attr("sqref"),
                attr("type"),
                between(v, "<formula1>", "</formula1>"),
                between(v, "<formula2>", "</formula2>"),
            )
        })
        .collect()
}

/// Excel templates check what the cells take: whole numbers as whole
/// numbers within the range Excel holds, decimals within their type's
/// bounds and decimals, the unit and the period from lists of the
/// regime's units and periods; numbers are formatted per cell; computed
/// cells stay blank instead of `#DIV/0!` or a false 0.
#[test]
fn excel_templates_validate_what_the_cells_take() {
    use calamine::Reader as _;
    let (_, lib) = common::library();
    let r = regime(lib, "transport.seaport_cargo");
    let form = r.forms.iter().find(|f| f.code == "B01").unwrap();
    let xlsx = regc::emit::xlsx::template(lib, r, form).unwrap();
    let tmp = TempDir::new("xlsx-validation");
    let path = tmp.path("B01.xlsx");
    std::fs::write(&path, &xlsx).unwrap();
    let mut book = calamine::open_workbook_auto(&path).unwrap();
    let meta = book.worksheet_range("regc").unwrap();
    let rows: Vec<Vec<String>> = meta
        .rows()
        .map(|r| r.iter().map(|d| d.to_string()).collect())
        .collect();
    let at = |id: &str| {
        rows.iter()
            .find(|r| r[0] == "cell" && r[1] == id)
            .map(|r| r[2].clone())
            .unwrap()
    };
    let rules = validations(&xlsx, 1);
    let rule = |address: &str| {
        rules
            .iter()
            .find(|v| v.0 == address)
            .cloned()
            .unwrap_or_else(|| panic!("no validation at {address}: {rules:?}"))
    };
    // int [TEU]: whole numbers, within what Excel holds exactly.
    let containers = rule(&at("containers.month"));
    assert_eq!(
        (
            containers.1.as_str(),
            containers.2.as_str(),
            containers.3.as_str()
        ),
        ("whole", "-999999999999999", "999999999999999")
    );
    // decimal(12,2): its real bounds and two decimals at most.
    let cargo = at("cargo.month");
    assert_eq!(rule(&cargo).1, "custom");
    assert_eq!(
        rule(&cargo).2,
        format!(
            "AND(ISNUMBER({cargo}),{cargo}>=-9999999999.99,{cargo}<=9999999999.99,ROUND({cargo},2)={cargo})"
        )
    );
    // The unit and the period: lists on the hidden sheet.
    let unit = rule(&place_of(&rows, "unit"));
    let period = rule(&place_of(&rows, "period"));
    assert_eq!(unit.1, "list");
    assert_eq!(period.1, "list");
    let lists = book.worksheet_range("lists").unwrap();
    let column = |i: usize| -> Vec<String> {
        lists
            .rows()
            .skip(1)
            .filter_map(|r| r.get(i).map(|d| d.to_string()))
            .filter(|t| !t.is_empty())
            .collect()
    };
    let units = column(0);
    let periods = column(1);
    assert_eq!(unit.2, format!("lists!$A$2:$A${}", units.len() + 1));
    assert_eq!(period.2, format!("lists!$B$2:$B${}", periods.len() + 1));
    assert!(units.contains(&"CVHH-HP".to_string()), "{units:?}");
    let mut expected_units: Vec<String> = lib
        .org
        .editions
        .iter()
        .flat_map(|e| &e.units)
        .filter(|u| u.level == "port_authority")
        .map(|u| u.code.clone())
        .collect();
    expected_units.sort();
    expected_units.dedup();
    assert_eq!(units, expected_units);
    assert_eq!(periods.first().map(String::as_str), Some("2024-01"));
    assert_eq!(periods.last().map(String::as_str), Some("2027-12"));
    assert_eq!(periods.len(), 48);
    // Number formats: thousands grouped, the cell's decimals.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&xlsx)).unwrap();
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    assert!(styles.contains("formatCode=\"#,##0.00\""), "{styles}");
    // % of plan = ytd / plan: blank while either is blank, blank on a 0
    // plan (regc's missing values; no #DIV/0!).
    let sheet = book.worksheet_formula("B01").unwrap();
    let (y, x) = regc::emit::xlsx::parse_a1(&at("cargo.plan")).unwrap();
    let plan = regc::emit::xlsx::a1(y, x);
    let vs = (y, x + 3);
    let f = sheet.get_value((vs.0, u32::from(vs.1))).unwrap();
    let ytd = regc::emit::xlsx::a1(y, x + 2);
    assert_eq!(
        f,
        &format!("IF(COUNT({ytd},{plan})<2,\"\",IFERROR((({ytd}/{plan})*100),\"\"))")
    );
    // The official heading and the signatures, as on the HTML page.
    let page = book.worksheet_range("B01").unwrap();
    let texts: Vec<String> = page
        .rows()
        .flat_map(|r| r.iter().map(|d| d.to_string()))
        .filter(|t| !t.is_empty())
        .collect();
    let official = regc::emit::forms::official(lib, r, form);
    assert_eq!(page.get_value((0, 0)).unwrap().to_string(), "Biểu số: B01");
    for want in [
        official.nation,
        official.motto,
        "Ban hành kèm theo Thông tư 48/2019/TT-BGTVT",
        "Ngày nhận báo cáo: 3 ngày làm việc sau ngày chốt số liệu",
        "Đơn vị báo cáo: Cảng vụ hàng hải",
        "Đơn vị nhận báo cáo: Bộ, cơ quan ngang bộ",
        "Người lập biểu",
        "Thủ trưởng đơn vị",
        "(Ký, đóng dấu, ghi rõ họ tên)",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want:?} not in {texts:?}");
    }
}

/// A template whose number cells hold text (a cell formatted as text, a
/// paste) is read as people write numbers; numbers are read as Excel
/// shows them (15 digits), not as their binary value.
#[test]
fn excel_text_numbers_are_read_as_typed() {
    let (_, lib) = common::library();
    let tmp = TempDir::new("xlsx-typed");
    let fill = |r: &ir::Regime,
                form: &str,
                cells: &[(&str, Result<&str, f64>)],
                unit: &str,
                period: &str| {
        let form = r.forms.iter().find(|f| f.code == form).unwrap();
        let xlsx = regc::emit::xlsx::template(lib, r, form).unwrap();
        let path = tmp.path(&format!("{}.t.xlsx", r.code));
        std::fs::write(&path, &xlsx).unwrap();
        use calamine::Reader as _;
        let mut book = calamine::open_workbook_auto(&path).unwrap();
        let rows: Vec<Vec<String>> = book
            .worksheet_range("regc")
            .unwrap()
            .rows()
            .map(|r| r.iter().map(|d| d.to_string()).collect())
            .collect();
        let mut out = rust_xlsxwriter::Workbook::new();
        let ws = out.add_worksheet();
        ws.set_name(&form.code).unwrap();
        let put = |ws: &mut rust_xlsxwriter::Worksheet, a: &str, v: Result<&str, f64>| {
            let (row, col) = regc::emit::xlsx::parse_a1(a).unwrap();
            match v {
                Ok(t) => ws.write_string(row, col, t).unwrap(),
                Err(x) => ws.write_number(row, col, x).unwrap(),
            };
        };
        put(ws, &place_of(&rows, "unit"), Ok(unit));
        put(ws, &place_of(&rows, "period"), Ok(period));
        for (id, v) in cells {
            let a = rows.iter().find(|r| r[0] == "cell" && r[1] == *id).unwrap()[2].clone();
            put(ws, &a, *v);
        }
        let ws = out.add_worksheet();
        ws.set_name("regc").unwrap();
        for (i, row) in rows.iter().enumerate() {
            for (j, text) in row.iter().enumerate() {
                ws.write_string(i as u32, j as u16, text).unwrap();
            }
        }
        let filled = tmp.path(&format!("{}.{}.filled.xlsx", r.code, form.code));
        out.save(&filled).unwrap();
        filled
    };
    let seaport = regime(lib, "transport.seaport_cargo");
    let file = fill(
        seaport,
        "B01",
        &[
            ("containers.month", Ok("1.000")),
            ("cargo.month", Ok("1.000,5")),
            ("export.month", Err(0.1 + 0.2)),
            ("liquid.month", Ok("12,5")),
        ],
        "CVHH-HP",
        "2025-01",
    );
    let mut ctx = regc::submission::Context::new(lib, seaport);
    let mut reader = regc::submission::Reader::default();
    reader.read_path(&mut ctx, &file).unwrap();
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    let sub = reader.submissions.values().next().unwrap();
    let got = |c: &str| sub.get(0, c).map(|v| v.canonical());
    assert_eq!(got("containers.month").as_deref(), Some("1000"));
    assert_eq!(got("cargo.month").as_deref(), Some("1000.5"));
    assert_eq!(got("export.month").as_deref(), Some("0.3"));
    assert_eq!(got("liquid.month").as_deref(), Some("12.5"));
    // Three decimals kept: "1.000" is refused as ambiguous, "1,000" is one.
    let fdi = regime(lib, "planning.fdi");
    let file = fill(
        fdi,
        "B01",
        &[
            ("total_capital.quarter", Ok("1.000")),
            ("disbursed.quarter", Ok("1,000")),
        ],
        "01",
        "2025-Q1",
    );
    let mut ctx = regc::submission::Context::new(lib, fdi);
    let mut reader = regc::submission::Reader::default();
    reader.read_path(&mut ctx, &file).unwrap();
    let messages: Vec<String> = reader.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("total_capital.quarter") && messages[0].contains("ambiguous"),
        "{messages:?}"
    );
    assert_eq!(
        reader.errors[0].value.as_ref().map(|v| v.problem),
        Some(regc::value::Problem::Type)
    );
}

#[test]
fn excel_templates_are_read_back_into_the_same_values() {
    let (_, lib) = common::library();
    let tmp = TempDir::new("xlsx");
    let mut checked = 0;
    for r in &lib.regimes {
        let set = sample_set(lib, r);
        for form in &r.forms {
            let xlsx = regc::emit::xlsx::template(lib, r, form).unwrap();
            // Deterministic bytes, and the committed file.
            assert_eq!(xlsx, regc::emit::xlsx::template(lib, r, form).unwrap());
            let committed = std::fs::read(
                common::repo().join(format!("generated/{}/forms/{}.xlsx", r.code, form.code)),
            )
            .unwrap();
            assert!(
                xlsx == committed,
                "{} {}: not the committed template",
                r.code,
                form.code
            );
            for sub in set["submissions"].as_array().unwrap() {
                if sub["form"] != form.code.as_str() {
                    continue;
                }
                let filled = fill_template(&tmp, r, form, &xlsx, sub);
                let mut ctx = Context::new(lib, r);
                let mut reader = Reader::default();
                reader.read_path(&mut ctx, &filled).unwrap();
                assert!(
                    reader.errors.is_empty(),
                    "{} {}: {:?}",
                    r.code,
                    form.code,
                    reader.errors
                );
                let mut store = Store::default();
                for s in reader.submissions.into_values() {
                    store.insert(&r.code, s);
                }
                let back = store.to_json(&r.code);
                assert_eq!(
                    back["submissions"],
                    json!([sub]),
                    "{} {}",
                    r.code,
                    form.code
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 19, "{checked} submissions read back");
}

#[test]
fn a_filled_template_passes_regc_validate() {
    let (_, lib) = common::library();
    let r = regime(lib, "transport.seaport_cargo");
    let tmp = TempDir::new("xlsx-cli");
    let set = sample_set(lib, r);
    let mut files = Vec::new();
    for form in &r.forms {
        let xlsx = regc::emit::xlsx::template(lib, r, form).unwrap();
        let sub = set["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["form"] == form.code.as_str())
            .unwrap();
        files.push(fill_template(&tmp, r, form, &xlsx, sub));
    }
    let o = Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .current_dir(common::repo())
        .args(["validate", "transport.seaport_cargo"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

// ---------------------------------------------------------------- browser

/// Whether the browser tests can run: the system Chromium and
/// playwright-core (scripts/test.sh installs both). Skipped without them,
/// except under `CI=true`, where they fail.
fn browser() -> bool {
    let chromium = std::env::var("REGC_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let driver = common::repo().join("tests/browser/node_modules/playwright-core");
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if Path::new(&chromium).exists() && driver.is_dir() && node {
        return true;
    }
    let why = format!(
        "chromium at {chromium}: {}, playwright-core: {}, node: {node} (run scripts/test.sh, which installs them)",
        Path::new(&chromium).exists(),
        driver.is_dir()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and the browser tests cannot run: {why}");
    }
    eprintln!("skipped: {why}");
    false
}

/// Runs the driver over sessions; their reports.
fn drive(tmp: &TempDir, sessions: Vec<Json>) -> Vec<Json> {
    let plan = tmp.write("plan.json", &json!({ "sessions": sessions }));
    let o = Command::new("node")
        .arg(common::repo().join("tests/browser/driver.mjs"))
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "driver failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    let sessions = report["sessions"].as_array().unwrap().clone();
    for s in &sessions {
        assert_eq!(s["console_errors"], json!([]), "errors in the page");
        assert_eq!(s["csp"], json!([]), "Content-Security-Policy violations");
        assert_eq!(
            s["requests"],
            json!([]),
            "requests beyond the page's folder"
        );
        assert_eq!(s["dialogs"], json!([]), "dialogs opened");
    }
    sessions
}

fn page(code: &str, form: &str) -> String {
    common::repo()
        .join(format!("generated/{code}/forms/{form}.html"))
        .display()
        .to_string()
}

/// Steps that type a submission's values into its page.
fn fill_steps(form: &ir::Form, sub: &Json) -> Vec<Json> {
    let mut steps = vec![
        json!({"fill": "regc-unit", "value": sub["unit"]}),
        json!({"fill": "regc-period", "value": sub["period"]}),
    ];
    let records = sub["records"].as_object().unwrap();
    match form.kind {
        ir::FormKind::Grid => {
            for (cell, value) in records["0"].as_object().unwrap() {
                steps.push(json!({"fill": format!("f-{cell}"), "value": value}));
            }
        }
        ir::FormKind::Records => {
            let mut numbers: Vec<u32> = records.keys().map(|k| k.parse().unwrap()).collect();
            numbers.sort();
            for (i, n) in numbers.iter().enumerate() {
                if i > 0 {
                    steps.push(json!({"add_record": true}));
                }
                for (field, value) in records[&n.to_string()].as_object().unwrap() {
                    steps.push(json!({"fill": format!("f-{}-{field}", i + 1), "value": value}));
                }
            }
        }
    }
    steps
}

/// Records renumbered 1, 2, 3… in order (a page numbers its rows so).
fn renumbered(sub: &Json) -> Json {
    let mut sub = sub.clone();
    let records = sub["records"].as_object().unwrap();
    if records.contains_key("0") {
        return sub;
    }
    let mut numbers: Vec<(u32, Json)> = records
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), v.clone()))
        .collect();
    numbers.sort_by_key(|(n, _)| *n);
    sub["records"] = Json::Object(
        numbers
            .into_iter()
            .enumerate()
            .map(|(i, (_, v))| ((i + 1).to_string(), v))
            .collect(),
    );
    sub
}

fn regc_validate(lib_dir: &Path, code: &str, file: &Path) -> (bool, Json) {
    let o = Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .current_dir(common::repo())
        .args(["validate", code])
        .arg(file)
        .arg("--lib")
        .arg(lib_dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| {
        json!({"stdout": String::from_utf8_lossy(&o.stdout), "stderr": String::from_utf8_lossy(&o.stderr)})
    });
    (o.status.success(), report)
}

/// Every form of every regime: the valid sample typed in, no error shown,
/// the submitted document equal to the sample, valid under the schema,
/// and all forms of a regime together passing `regc validate`.
#[test]
fn browser_every_form_submits_its_valid_sample() {
    if !browser() {
        return;
    }
    let (_, lib) = common::library();
    let tmp = TempDir::new("browser-samples");
    let mut sessions = Vec::new();
    let mut expected = Vec::new();
    for r in &lib.regimes {
        let set = sample_set(lib, r);
        for sub in set["submissions"].as_array().unwrap() {
            let form = r
                .forms
                .iter()
                .find(|f| sub["form"] == f.code.as_str())
                .unwrap();
            let mut steps = fill_steps(form, sub);
            steps.push(json!({"look": true}));
            steps.push(json!({"explain_all": "Số liệu đã được kiểm tra lại"}));
            steps.push(json!({"submit": true}));
            sessions.push(json!({"page": page(&r.code, &form.code), "steps": steps}));
            expected.push((r, form, renumbered(sub)));
        }
    }
    let reports = drive(&tmp, sessions);
    let mut by_regime: std::collections::BTreeMap<&str, Vec<Json>> = Default::default();
    for (report, (r, form, sub)) in reports.iter().zip(&expected) {
        let results = report["results"].as_array().unwrap();
        let (look, submit) = (&results[0], &results[1]);
        let at = format!("{} {}", r.code, form.code);
        assert_eq!(
            look["errors"],
            json!([]),
            "{at}: errors shown for a valid sample"
        );
        let doc = &submit["json"];
        assert!(doc.is_object(), "{at}: not submitted: {}", submit["status"]);
        assert_eq!(doc["regime"], r.code.as_str());
        let mut got = doc["submissions"][0].clone();
        let warned = got.as_object_mut().unwrap().remove("explanations");
        // The moment of submission, which regc import records.
        let when = got.as_object_mut().unwrap().remove("submitted_at");
        let when = when.as_ref().and_then(Json::as_str).unwrap_or_default();
        assert!(
            regc::submission::parse_submitted_at(when).is_ok(),
            "{at}: submitted_at {when:?}"
        );
        assert_eq!(got, *sub, "{at}: the document is not the typed values");
        if let Some(w) = warned {
            let shown: Vec<&str> = look["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            let keys: Vec<&str> = w.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys.len(), shown.len(), "{at}");
        }
        let v = validator(lib, r);
        let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{at}: {errors:#?}");
        by_regime
            .entry(r.code.as_str())
            .or_default()
            .push(doc["submissions"][0].clone());
    }
    assert!(by_regime.len() == lib.regimes.len());
    for (code, subs) in by_regime {
        let file = tmp.write(
            &format!("{code}.json"),
            &json!({"regime": code, "submissions": subs}),
        );
        let (ok, report) = regc_validate(&common::repo().join("regimes"), code, &file);
        assert!(
            ok,
            "{code}: regc validate fails the submitted forms: {report:#}"
        );
    }
}

/// The seaport form: computed cells follow the typing, an of-which rule is
/// broken then fixed, a wrong value shows its type message, and the
/// document passes the schema and `regc validate`.
#[test]
fn browser_computed_cells_rules_and_submit() {
    if !browser() {
        return;
    }
    let (_, lib) = common::library();
    let r = regime(lib, "transport.seaport_cargo");
    let tmp = TempDir::new("browser-seaport");
    let steps = vec![
        json!({"fill": "regc-unit", "value": "CVHH-HP"}),
        json!({"fill": "regc-period", "value": "2025-01"}),
        json!({"fill": "f-cargo.plan", "value": "195000000"}),
        json!({"fill": "f-cargo.month", "value": "15852147.55"}),
        json!({"look": true}),
        // Liquid cargo larger than all cargo: the of-which rule.
        json!({"fill": "f-export.month", "value": "15852147.55"}),
        json!({"fill": "f-liquid.month", "value": "16000000"}),
        json!({"look": true}),
        // Fixed; and a word where a number goes.
        json!({"fill": "f-liquid.month", "value": "9800000.5"}),
        json!({"fill": "f-containers.month", "value": "nhiều"}),
        json!({"look": true}),
        json!({"submit": true}),
        json!({"fill": "f-containers.month", "value": "1200"}),
        json!({"fill": "f-export.plan", "value": "195000000"}),
        json!({"submit": true}),
    ];
    let reports = drive(
        &tmp,
        vec![json!({"page": page(&r.code, "B01"), "steps": steps})],
    );
    let results = reports[0]["results"].as_array().unwrap();
    let (first, broken, fixed, refused, sent) = (
        &results[0],
        &results[1],
        &results[2],
        &results[3],
        &results[4],
    );
    // Year to date in January is the month; % of plan rounded to 2 digits.
    assert_eq!(first["outputs"]["cargo.ytd"], "15.852.147,55");
    assert_eq!(first["outputs"]["cargo.vs_plan"], "8,13");
    // The split rule (children must sum to the parent) fails until the
    // children are typed; its message sits at the parent cell.
    assert!(
        first["messages"]["m-cargo.month"]
            .as_str()
            .unwrap()
            .contains("chia ra")
    );
    let of_which = broken["messages"]["m-liquid.month"].as_str().unwrap();
    assert!(
        of_which.contains("16000000") && of_which.contains("15852147.55"),
        "{of_which}"
    );
    assert!(
        broken["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str() == Some(of_which))
    );
    assert!(
        broken["invalid"]
            .as_array()
            .unwrap()
            .contains(&json!("f-liquid.month"))
    );
    assert_eq!(broken["outputs"]["liquid.ytd"], "16.000.000,00");
    assert!(
        fixed["messages"].get("m-liquid.month").is_none(),
        "{fixed:#}"
    );
    assert!(
        fixed["messages"]["m-containers.month"]
            .as_str()
            .unwrap()
            .contains("không phải là số")
    );
    assert!(!fixed["summary_hidden"].as_bool().unwrap());
    assert_eq!(
        refused["json"],
        Json::Null,
        "a form with errors was submitted"
    );
    assert_eq!(refused["focused"], "regc-summary");
    let doc = &sent["json"];
    assert_eq!(
        doc["submissions"][0]["records"]["0"],
        json!({"cargo.plan": "195000000", "cargo.month": "15852147.55", "export.month": "15852147.55",
               "export.plan": "195000000",
               "liquid.month": "9800000.5", "containers.month": "1200"})
    );
    assert!(validator(lib, r).is_valid(doc));
    let file = tmp.write("sent.json", doc);
    let (_, report) = regc_validate(&common::repo().join("regimes"), &r.code, &file);
    // regc validate sees the same data: no error of this form's rules
    // (R02 reads form B02, not sent here, and is left to it).
    let text = report.to_string();
    assert!(
        !text.contains("of_which.B01") && !text.contains("split.B01"),
        "{report:#}"
    );
    assert!(
        text.contains("R02"),
        "regc validate checks the cross-form rule: {report:#}"
    );
}

/// Hostile labels and messages stay text in the browser; the warning asks
/// for an explanation, which goes into the document; record rows are added
/// and removed; every control is labelled; arrows move along a column.
#[test]
fn browser_hostile_text_warnings_records_and_keyboard() {
    if !browser() {
        return;
    }
    let tmp = TempDir::new("browser-hostile");
    let (lib_dir, out) = hostile_library(&tmp);
    let b01 = out
        .join("test.hostile/forms/B01.html")
        .display()
        .to_string();
    let b02 = out
        .join("test.hostile/forms/B02.html")
        .display()
        .to_string();
    let s1 = vec![
        json!({"a11y": true}),
        json!({"fill": "regc-unit", "value": "01"}),
        json!({"fill": "regc-period", "value": "2025-08"}),
        json!({"fill": "f-a.v", "value": "150"}),
        json!({"fill": "f-b.v", "value": "140"}),
        json!({"fill": "f-c.v", "value": "10"}),
        json!({"look": true}),
        json!({"a11y": true}),
        json!({"fill": "f-a.v", "value": "90"}),
        json!({"fill": "f-b.v", "value": "80"}),
        json!({"look": true}),
        json!({"submit": true}),
        json!({"explain": "W01", "text": "<img src=x onerror=window.__xss='explanation'> đúng"}),
        json!({"submit": true}),
        json!({"press": "ArrowDown", "on": "f-a.v"}),
        json!({"press": "ArrowUp", "on": "f-c.v"}),
        json!({"tab_from": "regc-unit", "count": 1}),
    ];
    let s2 = vec![
        json!({"fill": "regc-unit", "value": "01"}),
        json!({"fill": "regc-period", "value": "2025-08"}),
        json!({"fill": "f-1-name", "value": "<script>window.__xss='typed'</script>"}),
        json!({"fill": "f-1-flag", "value": "VN"}),
        json!({"add_record": true}),
        json!({"add_record": true}),
        json!({"fill": "f-3-name", "value": "Ba"}),
        json!({"look": true}),
        json!({"submit": true}),
        json!({"remove_record": 2}),
        json!({"a11y": true}),
        json!({"submit": true}),
    ];
    let shot = tmp.path("hostile.png");
    let reports = drive(
        &tmp,
        vec![
            json!({"page": b01, "steps": s1, "screenshot": shot.display().to_string()}),
            json!({"page": b02, "steps": s2}),
        ],
    );
    for rep in &reports {
        let injected = &rep["injected"];
        assert_eq!(injected["xss_flag"], Json::Null, "{injected}");
        assert_eq!(injected["images"], 0);
        assert_eq!(injected["event_handlers"], 0);
        assert_eq!(
            injected["scripts"],
            json!(["forms.js", "inline:application/json"])
        );
    }
    let r1 = reports[0]["results"].as_array().unwrap();
    let a11y = &r1[0];
    assert!(a11y["controls"].as_u64().unwrap() >= 6);
    assert_eq!(a11y["unlabelled"], json!([]));
    assert_eq!(a11y["describedby_missing"], json!([]));
    let broken = &r1[1];
    // Each invalid control names its message with aria-describedby.
    assert_eq!(r1[2]["invalid"], 1);
    assert_eq!(r1[2]["invalid_unexplained"], json!([]));
    assert_eq!(r1[2]["describedby_missing"], json!([]));
    // Messages hold the hostile text as text, with the values.
    let m = broken["messages"]["m-a.v"].as_str().unwrap();
    assert!(
        m.contains("<img src=x onerror=window.__xss='message'> 150"),
        "{m}"
    );
    assert_eq!(broken["warnings"], json!(["W01"]));
    assert_eq!(broken["outputs"]["a.ytd"], "150");
    let calm = &r1[3];
    assert_eq!(calm["errors"], json!([]));
    assert_eq!(calm["warnings"], json!(["W01"]));
    let unexplained = &r1[4];
    assert_eq!(unexplained["json"], Json::Null);
    assert!(unexplained["status"].as_str().unwrap().contains("W01"));
    let sent = &r1[5]["json"];
    assert_eq!(
        sent["submissions"][0]["explanations"],
        json!({"W01": "<img src=x onerror=window.__xss='explanation'> đúng"})
    );
    assert_eq!(r1[6]["focused"], "f-b.v");
    assert_eq!(r1[7]["focused"], "f-b.v");
    assert_eq!(r1[8]["focused"], "regc-period");
    // The schema and regc validate take the document, explanation included.
    let c = regc::compile(&regc::source::load_library(&lib_dir).unwrap());
    let r = regime(&c.library, "test.hostile");
    assert!(validator(&c.library, r).is_valid(sent));
    let file = tmp.write("b01.json", sent);
    let (ok, report) = regc_validate(&lib_dir, "test.hostile", &file);
    assert!(ok, "{report:#}");
    assert!(report.to_string().contains("W01"), "{report:#}");

    let r2 = reports[1]["results"].as_array().unwrap();
    // Record 2 is empty: its required name is reported on submit.
    assert!(r2[0]["errors"].as_array().unwrap().is_empty());
    assert_eq!(r2[1]["json"], Json::Null);
    assert_eq!(r2[2]["unlabelled"], json!([]));
    let sent = &r2[3]["json"];
    assert_eq!(
        sent["submissions"][0]["records"],
        json!({"1": {"name": "<script>window.__xss='typed'</script>", "flag": "VN"}, "2": {"name": "Ba"}})
    );
    assert!(validator(&c.library, r).is_valid(sent));
    let file = tmp.write("b02.json", sent);
    let (ok, report) = regc_validate(&lib_dir, "test.hostile", &file);
    assert!(ok, "{report:#}");
}

/// Whether Node runs here (the unpacking test needs it, not Chromium).
fn node() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and node is missing");
    }
    if !ok {
        eprintln!("skipped: node is missing");
    }
    ok
}

/// The data block of every page of the library, unpacked by the page's own
/// script (`expandRules` of forms.js, under Node), is exactly the
/// cut of rules.json the page works on (`forms::page_rules`): packing loses
/// nothing.
#[test]
fn every_data_block_unpacks_to_the_rules_of_its_page() {
    if !node() {
        return;
    }
    let (_, lib) = common::library();
    let tmp = TempDir::new("unpack");
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for r in &lib.regimes {
        for form in &r.forms {
            let mut headers = serde_json::Map::new();
            for row in &form.rows {
                headers.insert(format!("row-{}", row.name), json!(row.label));
            }
            for col in &form.columns {
                headers.insert(format!("col-{}", col.name), json!(col.label));
            }
            cases.push(json!({
                "form": form.code,
                "data": forms::rules_data(lib, r, form).unwrap(),
                "headers": headers,
            }));
            expected.push((
                format!("{} {}", r.code, form.code),
                forms::page_rules(lib, r, form).unwrap(),
            ));
        }
    }
    let file = tmp.write("cases.json", &Json::Array(cases));
    let script = tmp.path("forms.js");
    std::fs::write(&script, forms::script()).unwrap();
    let o = Command::new("node")
        .arg(common::repo().join("tests/browser/unpack.mjs"))
        .arg(&script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Vec<Json> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(got.len(), expected.len());
    for (g, (at, e)) in got.iter().zip(&expected) {
        if let Some(d) = first_difference(g, e, String::new()) {
            panic!("{at}: the unpacked data block differs at {d}");
        }
    }
}

/// The page script reads typed numbers as the shared table says, and as
/// regc's own reader (src/value/entry.rs) does; it shows numbers in
/// Vietnamese as `format_vietnamese` does.
#[test]
fn the_page_reads_numbers_as_regc_does() {
    use regc::value::entry::{EntryError, format_vietnamese, read_number};
    if !node() {
        return;
    }
    let tmp = TempDir::new("entry");
    let script = tmp.path("forms.js");
    std::fs::write(&script, forms::script()).unwrap();
    let table = common::repo().join("tests/fixtures/entry.json");
    let o = Command::new("node")
        .arg(common::repo().join("tests/browser/entry.mjs"))
        .arg(&script)
        .arg(&table)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Json = serde_json::from_slice(&o.stdout).unwrap();
    let doc: Json = serde_json::from_str(&std::fs::read_to_string(&table).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let answers = got["answers"].as_array().unwrap();
    assert_eq!(answers.len(), cases.len());
    for (c, a) in cases.iter().zip(answers) {
        let text = c["text"].as_str().unwrap();
        let scale = u32::try_from(c["scale"].as_u64().unwrap()).unwrap();
        let percent = c["percent"].as_bool().unwrap_or(false);
        let rust = match read_number(text, scale, percent) {
            Ok(v) => json!({"value": v}),
            Err(EntryError::NotANumber) => json!({"error": "not_a_number"}),
            Err(EntryError::TooManyDecimals { .. }) => json!({"error": "too_many_decimals"}),
            Err(EntryError::Ambiguous { .. }) => json!({"error": "ambiguous"}),
        };
        let page = match a.get("value") {
            Some(v) => json!({"value": v}),
            None => json!({"error": a["error"]}),
        };
        assert_eq!(page, rust, "{text:?} at scale {scale}");
        if let Some(v) = c.get("value") {
            assert_eq!(page["value"], *v, "{text:?}");
        } else {
            assert_eq!(page["error"], c["error"], "{text:?}");
            // The refusal says something the officer can act on.
            assert!(a["message"].as_str().unwrap().len() > 20, "{a}");
        }
    }
    let shown: Vec<String> = [
        ("1234567.891", None),
        ("-1000", Some(2)),
        ("2.345", Some(2)),
        ("-2.345", Some(2)),
        ("999.5", Some(0)),
        ("12", None),
    ]
    .iter()
    .map(|(t, d)| format_vietnamese(t, *d))
    .collect();
    assert_eq!(got["shown"], json!(shown));
}

/// A form printed for signing carries the official heading (national
/// header, "Biểu số", the act, units, "Ngày nhận báo cáo") and the
/// signature block, and shows neither rule codes nor raw `{cell}`
/// placeholders.
#[test]
fn browser_printed_forms_have_the_official_layout() {
    if !browser() {
        return;
    }
    let (_, lib) = common::library();
    let seaport = regime(lib, "transport.seaport_cargo");
    let html = std::fs::read_to_string(page(&seaport.code, "B01")).unwrap();
    // On screen the legend names the rules and the cells they read.
    assert!(html.contains("<code>R01</code>"), "{html}");
    assert!(html.contains(r#"<span class="regc-ph">{B01.cargo.month}</span>"#));
    let tmp = TempDir::new("browser-print");
    let reports = drive(
        &tmp,
        vec![json!({"page": page(&seaport.code, "B01"), "steps": [{"print": true}]})],
    );
    let printed = &reports[0]["results"][0];
    let text = printed["text"].as_str().unwrap();
    for want in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Biểu số: B01",
        "Ban hành kèm theo Thông tư 48/2019/TT-BGTVT",
        "Ngày nhận báo cáo: 3 ngày làm việc sau ngày chốt số liệu",
        "Đơn vị báo cáo: Cảng vụ hàng hải",
        "Đơn vị nhận báo cáo: Bộ, cơ quan ngang bộ",
        "Người lập biểu",
        "Thủ trưởng đơn vị",
        "(Ký, đóng dấu, ghi rõ họ tên)",
    ] {
        assert!(text.contains(want), "{want:?} not printed:\n{text}");
    }
    // Rule codes and placeholders are on screen only.
    assert!(!text.contains("R01") && !text.contains('{'), "{text}");
    assert!(text.contains("(… so với …)"), "{text}");
    assert!(!text.contains("Kiểm tra và tạo tệp gửi"), "{text}");
}

/// Numbers typed as Vietnamese officers write them are read as meant, a
/// text the two conventions read differently is refused with both
/// readings, and the document holds the canonical numbers.
#[test]
fn browser_numbers_typed_the_vietnamese_way() {
    if !browser() {
        return;
    }
    let (_, lib) = common::library();
    let seaport = regime(lib, "transport.seaport_cargo");
    let fdi = regime(lib, "planning.fdi");
    let tmp = TempDir::new("browser-entry");
    let seaport_steps = vec![
        json!({"fill": "regc-unit", "value": "CVHH-HP"}),
        json!({"fill": "regc-period", "value": "2025-01"}),
        json!({"fill": "f-cargo.plan", "value": "195.000.000"}),
        json!({"fill": "f-export.plan", "value": "195000000"}),
        json!({"fill": "f-cargo.month", "value": "1.000,5"}),
        json!({"fill": "f-export.month", "value": "1000.5"}),
        json!({"fill": "f-containers.month", "value": "1.000"}),
        json!({"fill": "f-liquid.month", "value": "12,5"}),
        json!({"look": true}),
        // English thousands in a whole-number cell: refused, not read as 1.
        json!({"fill": "f-containers.month", "value": "1,000"}),
        json!({"look": true}),
        json!({"submit": true}),
        json!({"fill": "f-containers.month", "value": "1.000"}),
        json!({"submit": true}),
    ];
    let fdi_steps = vec![
        json!({"fill": "regc-unit", "value": "01"}),
        json!({"fill": "regc-period", "value": "2025-Q1"}),
        // Three decimals kept: "1.000" is a thousand or one.
        json!({"fill": "f-total_capital.quarter", "value": "1.000"}),
        json!({"fill": "f-disbursed.quarter", "value": "1,000"}),
        json!({"look": true}),
    ];
    let reports = drive(
        &tmp,
        vec![
            json!({"page": page(&seaport.code, "B01"), "steps": seaport_steps}),
            json!({"page": page(&fdi.code, "B01"), "steps": fdi_steps}),
        ],
    );
    let results = reports[0]["results"].as_array().unwrap();
    let (read, english, refused, sent) = (&results[0], &results[1], &results[2], &results[3]);
    // Year to date in January is the month, shown the Vietnamese way at
    // the cell's scale.
    assert_eq!(read["outputs"]["cargo.ytd"], "1.000,50");
    assert_eq!(read["outputs"]["liquid.ytd"], "12,50");
    assert_eq!(read["outputs"]["containers.ytd"], "1.000");
    assert!(
        read["messages"].get("m-containers.month").is_none(),
        "{read:#}"
    );
    let msg = english["messages"]["m-containers.month"].as_str().unwrap();
    assert!(msg.contains("số nguyên") && msg.contains("1000"), "{msg}");
    assert!(
        english["invalid"]
            .as_array()
            .unwrap()
            .contains(&json!("f-containers.month"))
    );
    assert_eq!(refused["json"], Json::Null);
    let doc = &sent["json"];
    assert_eq!(
        doc["submissions"][0]["records"]["0"],
        json!({"cargo.plan": "195000000", "export.plan": "195000000", "cargo.month": "1000.5",
               "export.month": "1000.5", "containers.month": "1000", "liquid.month": "12.5"}),
        "{sent:#}"
    );
    assert!(validator(lib, seaport).is_valid(doc));
    let look = &reports[1]["results"][0];
    let msg = look["messages"]["m-total_capital.quarter"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("hai cách hiểu") && msg.ends_with("hãy viết 1000 hoặc 1"),
        "{msg}"
    );
    assert!(
        look["messages"].get("m-disbursed.quarter").is_none(),
        "{look:#}"
    );
    assert_eq!(look["outputs"]["disbursed.ytd"], "1,000");
}

/// Where two JSON values first differ: a path and both values.
fn first_difference(a: &Json, b: &Json, path: String) -> Option<String> {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Json::Null),
                    y.get(k).unwrap_or(&Json::Null),
                    format!("{path}.{k}"),
                )
                .or_else(|| {
                    (x.contains_key(k) != y.contains_key(k))
                        .then(|| format!("{path}.{k}: present on one side"))
                })
            })
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} / {b}")),
    }
}

/// A regime whose computed cells feed rules on other rows: a total per
/// row, its year to date, a difference, and rules across rows (one that
/// divides, one counting missing values as 0, a warning).
const CHAIN: &str = r#"use common.units
regime test.chain {
  title "Chuỗi phụ thuộc"
  basis "-"
  owner "-"
  version 1
  frequency monthly
  cutoff calendar
  reporters province
  flow province -> ministry
  deadline province 5 days after cutoff, ministry 10 days after cutoff
  form B01 "Chuỗi" {
    columns {
      a     "A" entered
      b     "B" entered
      total "Tổng" = a + b
      ytd   "Lũy kế" = sum(total over year_to_date)
      diff  "Hiệu" = total - b
    }
    rows {
      1 r1 "Một" : int [person]
      2 r2 "Hai" : int [person]
      3 r3 "Ba" : int [person]
      4 r4 "Bốn" : int [person]
    }
  }
  rule R1 error "Tổng dòng 1 ({r1.total}) không lớn hơn tổng dòng 2 ({r2.total})": r1.total <= r2.total
  rule R2 error "Dòng 4: A/B ({r4.a}, {r4.b}) không quá 10": r4.a / r4.b <= 10
  rule R3 error "Hiệu dòng 2 ({r2.diff}) không âm": r2.diff >= 0
    missing zero
  rule W1 warning "Dòng 3 cột A ({r3.a}) không quá hai lần lũy kế dòng 1 ({r1.ytd})": r3.a <= r1.ytd * 2
}
"#;

/// The page updates only what a keystroke changes (docs/forms.md): a cell
/// whose total feeds a rule on another row makes that rule's message appear
/// and clear, and after random keystrokes the page shows exactly what a
/// full pass over every cell shows.
#[test]
fn browser_incremental_updates_match_a_full_pass() {
    if !browser() {
        return;
    }
    let tmp = TempDir::new("browser-chain");
    let lib_dir = tmp.path("lib");
    common::copy_dir(&common::repo().join("tests/fixtures/lib"), &lib_dir);
    std::fs::create_dir_all(lib_dir.join("cases")).unwrap();
    std::fs::write(lib_dir.join("cases/chain.regime"), CHAIN).unwrap();
    let out = tmp.path("out");
    let o = Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .arg("build")
        .arg(&lib_dir)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b01 = out.join("test.chain/forms/B01.html").display().to_string();
    let mut steps = vec![
        json!({"fill": "regc-unit", "value": "01"}),
        json!({"fill": "regc-period", "value": "2025-03"}),
        json!({"fill": "f-r1.a", "value": "5"}),
        json!({"fill": "f-r1.b", "value": "5"}),
        json!({"fill": "f-r2.b", "value": "0"}),
        json!({"fill": "f-r2.a", "value": "1"}),
        json!({"look": true}),
        // Row 2's total (a computed cell) is what rule R1 of row 1 reads.
        json!({"fill": "f-r2.a", "value": "20"}),
        json!({"look": true}),
        json!({"fill": "f-r2.a", "value": "2"}),
        json!({"look": true}),
    ];
    // Random keystrokes: digits added and removed, blanks, words, zeros
    // (R2 divides by r4.b); after each round, what the page shows, then
    // the same after a full pass.
    let cells: Vec<String> = ["r1", "r2", "r3", "r4"]
        .iter()
        .flat_map(|r| ["a", "b"].map(|c| format!("f-{r}.{c}")))
        .collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut texts: std::collections::BTreeMap<String, String> = Default::default();
    let rounds = 12;
    for _ in 0..rounds {
        let mut keys = Vec::new();
        for _ in 0..15 {
            let id = cells[usize::try_from(next(cells.len() as u64)).unwrap()].clone();
            let text = texts.entry(id.clone()).or_default();
            match next(10) {
                0 => text.clear(),
                1 => *text = "nhiều".into(),
                2 => *text = "0".into(),
                3 => {
                    text.pop();
                }
                _ => text.push(char::from(b'0' + u8::try_from(next(10)).unwrap())),
            }
            keys.push(json!([id, text.clone()]));
        }
        steps.push(json!({"keys": keys}));
        steps.push(json!({"look": true}));
        steps.push(json!({"full_pass": true}));
        steps.push(json!({"look": true}));
    }
    let reports = drive(&tmp, vec![json!({"page": b01, "steps": steps})]);
    let results = reports[0]["results"].as_array().unwrap();
    let rule = |look: &Json| {
        look["messages"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, m)| m.as_str().unwrap().contains("Tổng dòng 1"))
            .map(|(id, m)| (id.clone(), m.as_str().unwrap().to_string()))
            .collect::<Vec<_>>()
    };
    let (broken, fixed, again) = (&results[0], &results[1], &results[2]);
    assert_eq!(broken["outputs"]["r2.total"], "1");
    let shown = rule(broken);
    assert_eq!(shown.len(), 1, "{broken:#}");
    assert!(
        shown[0].1.contains("(10)") && shown[0].1.contains("(1)"),
        "{shown:?}"
    );
    assert!(
        broken["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str() == Some(shown[0].1.as_str()))
    );
    assert_eq!(fixed["outputs"]["r2.total"], "20");
    assert_eq!(rule(fixed), vec![], "{fixed:#}");
    assert_eq!(fixed["summary_hidden"], true, "{fixed:#}");
    assert_eq!(rule(again).len(), 1, "{again:#}");
    let mut differed = 0;
    let mut messages = 0;
    for round in results[3..].chunks(2) {
        let (incremental, full) = (&round[0], &round[1]);
        assert_eq!(incremental, full, "the page differs from a full pass");
        messages += incremental["messages"].as_object().unwrap().len();
        differed += usize::from(incremental["errors"] != results[0]["errors"]);
    }
    // The random keystrokes did break and fix rules.
    assert!(messages > rounds && differed > 0, "{messages} {differed}");
}

/// generated/forms.js drops comment lines and indentation (`lean` in
/// src/emit/forms.rs), which is safe only while no string or template
/// literal of its sources spans lines.
#[test]
fn no_string_of_the_page_script_spans_lines() {
    for file in ["src/emit/rules.js", "src/emit/forms/forms.js"] {
        let text = common::read(&common::repo().join(file));
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
                continue;
            }
            assert!(
                code.matches('`').count() % 2 == 0 && !code.ends_with('\\'),
                "{file}:{}: a literal spans lines: {line}",
                i + 1
            );
        }
    }
}
