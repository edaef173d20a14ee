//! `regc import` on both engines: the samples of every regime import and
//! read back; a second import changes nothing; bad rows are refused with
//! their line and leave the database as it was; the database itself
//! refuses values that break a column's type.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::db::{Conn, Target};
use std::path::{Path, PathBuf};

use common::{regc, text};

/// A fresh database of each engine: (the `--db` argument, its guard).
struct Db {
    url: String,
    _pg: Option<common::PgSchema>,
    _dir: Option<PathBuf>,
}

impl Db {
    fn conn(&self) -> Conn {
        Conn::open(&Target::parse(&self.url).unwrap()).unwrap()
    }

    fn count(&self, table: &str) -> i64 {
        let mut c = self.conn();
        if !c.has_table(table).unwrap() {
            return 0;
        }
        regc::db::count_rows(&mut c, &[table]).unwrap()[table]
    }

    fn import(&self, regime: &str, files: &[&Path]) -> std::process::Output {
        let mut args = vec!["import", regime, "--db", &self.url];
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        args.extend(files.iter().map(String::as_str));
        regc(&args)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(d) = &self._dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn databases(tag: &str) -> Vec<Db> {
    let dir = std::env::temp_dir().join(format!("regc-import-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![Db {
        url: format!("sqlite:{}", dir.join("test.db").display()),
        _pg: None,
        _dir: Some(dir),
    }];
    if let Some(pg) = common::PgSchema::new(tag) {
        out.push(Db {
            url: pg.url.clone(),
            _pg: Some(pg),
            _dir: None,
        });
    }
    out
}

fn samples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(common::repo().join("tests/samples"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), p)
        })
        .collect();
    out.sort();
    out
}

/// The (form, unit, period) triples of a long sample file: what the
/// import must create, counted independently of regc's reader.
fn submissions_in(file: &Path) -> std::collections::BTreeSet<(String, String, String)> {
    let mut r = csv::Reader::from_path(file).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[2].to_string(), rec[0].to_string(), rec[1].to_string())
        })
        .collect()
}

#[test]
fn every_sample_imports_once_on_both_engines() {
    for db in databases("samples") {
        let mut expected = 0;
        for (regime, dir) in samples() {
            let file = dir.join("valid.csv");
            let o = db.import(&regime, &[&file]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{regime} into {}: {}",
                db.url,
                text(&o)
            );
            expected += submissions_in(&file).len() as i64;
            assert_eq!(db.count("regc_submission"), expected, "{regime}");
            // The same file again: nothing new.
            let o = db.import(&regime, &[&file]);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            assert!(text(&o).contains("0 new revision(s)"), "{}", text(&o));
            assert_eq!(db.count("regc_submission"), expected, "{regime} twice");
        }
        // Values read back exactly: a decimal, through the view of current
        // revisions (SQLite keeps decimal(12,2) as hundredths).
        let mut c = db.conn();
        let rows = c
            .query_text(
                "SELECT \"unit\", CAST(\"cargo.month\" AS TEXT), CAST(\"containers.month\" AS TEXT) FROM \"transport.seaport_cargo.B01.current\"",
                &[],
            )
            .unwrap();
        let want = if db.url.starts_with("sqlite:") {
            "1585214755"
        } else {
            "15852147.55"
        };
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0].as_deref(), Some("CVHH-HP"));
        assert_eq!(rows[0][1].as_deref(), Some(want));
        // Records: one row per record.
        let records = c
            .query_text(
                "SELECT \"ship\", CAST(\"arrived\" AS TEXT) FROM \"transport.seaport_cargo.B02.current\" ORDER BY \"record\"",
                &[],
            )
            .unwrap();
        assert_eq!(records.len(), 5);
        assert_eq!(records[0][0].as_deref(), Some("HAI PHONG STAR"));
        assert_eq!(records[0][1].as_deref(), Some("2024-12-16"));
        // The org hierarchy and its closure came with the first import.
        assert!(db.count("regc_org_unit") > 10_000);
        let provinces = c
            .query_text(
                "SELECT CAST(count(*) AS TEXT) FROM \"regc_org_closure\" AS c JOIN \"regc_org_unit\" AS u ON u.\"code\" = c.\"descendant\" WHERE c.\"edition\" = '2025' AND c.\"ancestor\" = 'VN' AND c.\"depth\" = 1 AND u.\"level\" = 'province'",
                &[],
            )
            .unwrap();
        assert_eq!(provinces[0][0].as_deref(), Some("34"));
    }
}

#[test]
fn a_correction_is_a_new_revision_and_becomes_current() {
    for db in databases("revision") {
        let dir = common::repo().join("tests/samples/transport.seaport_cargo");
        let o = db.import("transport.seaport_cargo", &[&dir.join("valid.csv")]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let fixed = std::env::temp_dir().join(format!("regc-fix-{}.csv", std::process::id()));
        let valid = std::fs::read_to_string(dir.join("valid.csv")).unwrap();
        std::fs::write(
            &fixed,
            // A correction that still adds up (the split rule holds).
            valid
                .replace("cargo.month,15852147.55", "cargo.month,15852148.55")
                .replace("export.month,4215380.50", "export.month,4215381.50"),
        )
        .unwrap();
        let o = db.import("transport.seaport_cargo", &[&fixed]);
        let _ = std::fs::remove_file(&fixed);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            text(&o).contains("1 new revision(s) (1 correction(s)), 1 unchanged"),
            "{}",
            text(&o)
        );
        assert_eq!(db.count("regc_submission"), 3);
        assert_eq!(db.count("transport.seaport_cargo.B01"), 2, "append-only");
        let rows = db
            .conn()
            .query_text(
                "SELECT CAST(\"revision\" AS TEXT), CAST(\"cargo.month\" AS TEXT) FROM \"transport.seaport_cargo.B01.current\"",
                &[],
            )
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0].as_deref(), Some("2"));
        let v = rows[0][1].as_deref().unwrap();
        assert!(v == "1585214855" || v == "15852148.55", "{v}");
    }
}

const BAD: &str = "unit,period,form,record,cell,value
CVHH-HP,2025-02,B01,,cargo.month,12.345
CVHH-HP,2025-02,B01,,cargo.mnth,1
CVHH-XX,2025-02,B01,,cargo.month,1
CVHH-HP,2025-13,B01,,cargo.month,1
CVHH-HP,2025-02,B02,1,ship,Tàu ÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁ
CVHH-HP,2025-02,B02,1,flag,ZZ
CVHH-HP,2025-02,B02,1,arrived,2025-02-30
CVHH-HP,2025-02,B02,x,gross_t,1
CVHH-HP,2025-02,B01,,cargo.ytd,1
CVHH-HP,2025-02,B01,,containers.month,1.5
";

#[test]
fn bad_rows_are_refused_with_their_line_and_nothing_is_written() {
    for db in databases("bad") {
        let dir = common::repo().join("tests/samples/transport.seaport_cargo");
        let o = db.import("transport.seaport_cargo", &[&dir.join("valid.csv")]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let before = (
            db.count("regc_submission"),
            db.count("transport.seaport_cargo.B01"),
        );
        let bad = std::env::temp_dir().join(format!("regc-bad-{}.csv", std::process::id()));
        // A good line too: it must not be written either.
        std::fs::write(&bad, format!("{BAD}CVHH-HP,2025-02,B01,,cargo.plan,1\n")).unwrap();
        let o = db.import("transport.seaport_cargo", &[&bad]);
        let _ = std::fs::remove_file(&bad);
        let out = text(&o).replace(&bad.display().to_string(), "bad.csv");
        assert_eq!(o.status.code(), Some(1), "{out}");
        for expected in [
            "bad.csv:2 [value]: B01.cargo.month: 12.345 has 3 digits after the point; this cell keeps 2",
            "bad.csv:3 [cell]: form B01 has no cell `cargo.mnth` (did you mean `cargo.month`?)",
            "bad.csv:4 [unit]: unknown unit `CVHH-XX`",
            "bad.csv:5 [period]: `2025-13` is not a monthly period",
            "bad.csv:6 [value]: B02.ship: the text has 129 characters; this cell keeps at most 120",
            "bad.csv:7 [value]: B02.flag: `ZZ` is not a code of the list countries",
            "bad.csv:8 [value]: B02.arrived: `2025-02-30` is not a date (YYYY-MM-DD)",
            "bad.csv:9 [record]: form B02 holds records",
            "bad.csv:10 [cell]: cell `cargo.ytd` of form B01 is computed, not entered",
            "bad.csv:11 [value]: B01.containers.month: `1.5` is not a whole number",
            "import refused: 10 problem(s) in 11 row(s) read; nothing was written",
        ] {
            assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
        }
        assert_eq!(
            (
                db.count("regc_submission"),
                db.count("transport.seaport_cargo.B01")
            ),
            before
        );
    }
}

#[test]
fn a_database_refusal_rolls_back_everything() {
    for db in databases("rollback") {
        let dir = common::repo().join("tests/samples/transport.seaport_cargo");
        let o = db.import("transport.seaport_cargo", &[&dir.join("valid.csv")]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let before = (
            db.count("regc_submission"),
            db.count("transport.seaport_cargo.B02"),
        );
        // A rule only the database knows: it refuses the second form's rows.
        let mut c = db.conn();
        if db.url.starts_with("sqlite:") {
            c.exec("CREATE TRIGGER \"refuse\" BEFORE INSERT ON \"transport.seaport_cargo.B02\" BEGIN SELECT RAISE(ABORT, 'refused by test'); END").unwrap();
        } else {
            c.exec("ALTER TABLE \"transport.seaport_cargo.B02\" ADD CONSTRAINT \"refuse\" CHECK (\"record\" > 100) NOT VALID").unwrap();
        }
        drop(c);
        let changed = std::env::temp_dir().join(format!("regc-rb-{}.csv", std::process::id()));
        let valid = std::fs::read_to_string(dir.join("valid.csv")).unwrap();
        std::fs::write(&changed, valid.replace(",2025-01,", ",2025-02,")).unwrap();
        let o = db.import("transport.seaport_cargo", &[&changed]);
        let _ = std::fs::remove_file(&changed);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("the database refused the import"),
            "{}",
            text(&o)
        );
        assert_eq!(
            (
                db.count("regc_submission"),
                db.count("transport.seaport_cargo.B02")
            ),
            before,
            "nothing of the failed import remains"
        );
        assert_eq!(db.count("transport.seaport_cargo.B01"), 1);
    }
}

/// Statements that write values breaking a column's type, straight into
/// the tables (not through regc): the database must refuse each.
#[test]
fn the_database_itself_refuses_values_that_break_a_type() {
    for db in databases("types") {
        let dir = common::repo().join("tests/samples/transport.seaport_cargo");
        let o = db.import("transport.seaport_cargo", &[&dir.join("valid.csv")]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let sqlite = db.url.starts_with("sqlite:");
        let b02 = "INSERT INTO \"transport.seaport_cargo.B02\" (\"submission_id\", \"record\", ";
        let mut cases = vec![
            // decimal(12,2): 11 digits before the point.
            format!(
                "UPDATE \"transport.seaport_cargo.B01\" SET \"cargo.month\" = {}",
                if sqlite {
                    "100000000000000"
                } else {
                    "10000000000.00"
                }
            ),
            // text(120)
            format!(
                "{b02}\"ship\") SELECT \"submission_id\", 99, '{}' FROM \"transport.seaport_cargo.B02\" LIMIT 1",
                "x".repeat(121)
            ),
            // code of the countries list
            format!(
                "{b02}\"flag\") SELECT \"submission_id\", 99, 'ZZ' FROM \"transport.seaport_cargo.B02\" LIMIT 1"
            ),
            // record numbers start at 1
            format!(
                "{b02}\"ship\") SELECT \"submission_id\", 0, 'A' FROM \"transport.seaport_cargo.B02\" LIMIT 1"
            ),
            // a submission of an unknown unit, and one with a bad status
            "UPDATE \"regc_submission\" SET \"unit\" = 'NOWHERE'".to_string(),
            "UPDATE \"regc_submission\" SET \"status\" = 'lost'".to_string(),
            // integers are integers
            format!(
                "UPDATE \"transport.seaport_cargo.B01\" SET \"containers.month\" = {}",
                if sqlite { "1.5" } else { "'abc'" }
            ),
        ];
        if sqlite {
            // Dates are ISO dates; the engine has no date type of its own.
            cases.push(format!("{b02}\"arrived\") SELECT \"submission_id\", 99, '2025-02-30' FROM \"transport.seaport_cargo.B02\" LIMIT 1"));
            cases.push(format!("{b02}\"arrived\") SELECT \"submission_id\", 99, 'soon' FROM \"transport.seaport_cargo.B02\" LIMIT 1"));
            cases.push(format!("{b02}\"gross_t\") SELECT \"submission_id\", 99, 'heavy' FROM \"transport.seaport_cargo.B02\" LIMIT 1"));
        } else {
            cases.push(format!("{b02}\"arrived\") SELECT \"submission_id\", 99, '2025-02-30' FROM \"transport.seaport_cargo.B02\" LIMIT 1"));
            // NUMERIC(10,1) would round 1.25 silently; regc refuses it on
            // input, and the database refuses what does not fit at all.
            cases.push(format!("{b02}\"gross_t\") SELECT \"submission_id\", 99, 123456789012 FROM \"transport.seaport_cargo.B02\" LIMIT 1"));
        }
        for sql in cases {
            let mut c = db.conn();
            let r = c.exec(&sql);
            assert!(r.is_err(), "{}: accepted: {sql}", db.url);
        }
    }
}

#[test]
fn a_database_of_another_regime_version_is_refused() {
    for db in databases("version") {
        let dir = common::repo().join("tests/samples/transport.seaport_cargo");
        let o = db.import("transport.seaport_cargo", &[&dir.join("valid.csv")]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        db.conn()
            .exec("UPDATE \"regc_regime\" SET \"version\" = 1 WHERE \"code\" = 'transport.seaport_cargo'")
            .unwrap();
        let o = db.import("transport.seaport_cargo", &[&dir.join("valid.csv")]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("holds version 1 of transport.seaport_cargo"),
            "{}",
            text(&o)
        );
    }
}

#[test]
fn wide_files_import_like_long_ones() {
    for db in databases("wide") {
        let wide = std::env::temp_dir().join(format!("regc-wide-{}.csv", std::process::id()));
        std::fs::write(
            &wide,
            "unit,period,B01.cargo.plan,B01.cargo.month,B01.containers.month\nCVHH-HP,2025-02,100.5,20,7\nCVHH-QNINH,2025-02,,3.25,\n",
        )
        .unwrap();
        // Parts of a report (no split rows, no ship calls): drafts, which
        // the rules do not gate.
        let o = db.import_with("transport.seaport_cargo", &[&wide], &["--status", "draft"]);
        let _ = std::fs::remove_file(&wide);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let rows = db
            .conn()
            .query_text(
                "SELECT \"unit\", CAST(\"cargo.month\" AS TEXT), CAST(\"containers.month\" AS TEXT) FROM \"transport.seaport_cargo.B01.current\" ORDER BY \"unit\"",
                &[],
            )
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][0].as_deref(), Some("CVHH-QNINH"));
        assert_eq!(rows[1][2], None, "an empty cell is missing");
    }
}

impl Db {
    fn import_with(&self, regime: &str, files: &[&Path], extra: &[&str]) -> std::process::Output {
        let mut args = vec!["import", regime, "--db", &self.url];
        args.extend_from_slice(extra);
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        args.extend(files.iter().map(String::as_str));
        regc(&args)
    }

    fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.conn().query_text(sql, &[]).unwrap()
    }
}

/// A file whose submissions break error rules is refused as a whole
/// (nothing written); with `--force` it is stored, flagged, with the rules
/// it breaks; as drafts it is stored without the gate.
#[test]
fn submissions_breaking_error_rules_are_refused_unless_forced() {
    let dir = common::repo().join("tests/samples/transport.seaport_cargo");
    let invalid = dir.join("invalid.csv");
    for db in databases("gate") {
        let o = db.import("transport.seaport_cargo", &[&dir.join("valid.csv")]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let before = (
            db.count("regc_submission"),
            db.count("transport.seaport_cargo.B01"),
        );
        let o = db.import("transport.seaport_cargo", &[&invalid]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains("split.B01.cargo.plan"), "{out}");
        assert!(out.contains("import refused: nothing was written"), "{out}");
        assert_eq!(
            (
                db.count("regc_submission"),
                db.count("transport.seaport_cargo.B01")
            ),
            before,
            "a refused file changed the database"
        );
        // Forced: stored as corrections, flagged with each broken rule.
        let o = db.import_with("transport.seaport_cargo", &[&invalid], &["--force"]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("flagged"), "{out}");
        let flagged = db.rows(
            "SELECT v.\"rule\", CAST(s.\"revision\" AS TEXT) FROM \"regc_submission_violation\" AS v JOIN \"regc_submission\" AS s ON s.\"id\" = v.\"submission_id\" WHERE v.\"forced\" AND v.\"severity\" = 'error' ORDER BY v.\"rule\"",
        );
        let rules: Vec<&str> = flagged.iter().map(|r| r[0].as_deref().unwrap()).collect();
        for rule in ["R03", "split.B01.cargo.month", "split.B01.cargo.plan"] {
            assert!(rules.contains(&rule), "{rule} not flagged: {rules:?}");
        }
        assert!(flagged.iter().all(|r| r[1].as_deref() == Some("2")));
    }
    // Drafts: no gate, nothing flagged.
    for db in databases("gate-draft") {
        let o = db.import_with(
            "transport.seaport_cargo",
            &[&invalid],
            &["--status", "draft"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(db.count("regc_submission_violation"), 0);
        assert_eq!(
            db.rows("SELECT DISTINCT \"status\" FROM \"regc_submission\""),
            vec![vec![Some("draft".to_string())]]
        );
    }
}

/// The time a file says a report was submitted is the one recorded; the
/// import time only stands in when the file says none; a time in the
/// future is refused.
#[test]
fn the_time_of_submission_comes_from_the_file() {
    let dir = std::env::temp_dir().join(format!("regc-submitted-at-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let valid =
        common::read(&common::repo().join("tests/samples/transport.seaport_cargo/valid.csv"));
    // The long sample with a submitted_at column: 20 January 2025, 09:30 in Hà Nội.
    let mut lines = valid.lines();
    let mut timed = format!("{},submitted_at\n", lines.next().unwrap());
    for l in lines {
        timed.push_str(&format!("{l},20/01/2025 09:30\n"));
    }
    let file = dir.join("timed.csv");
    std::fs::write(&file, &timed).unwrap();
    let json = dir.join("timed.json");
    std::fs::write(
        &json,
        r#"{"regime": "transport.seaport_cargo", "submissions": [{"unit": "CVHH-HP", "period": "2025-02", "form": "B01", "submitted_at": "2025-02-17T08:00:00+07:00", "records": {"0": {"containers.month": "1200"}}}]}"#,
    )
    .unwrap();
    let future = dir.join("future.json");
    std::fs::write(
        &future,
        r#"{"regime": "transport.seaport_cargo", "submissions": [{"unit": "CVHH-HP", "period": "2025-03", "form": "B01", "submitted_at": "2999-01-01T00:00:00Z", "records": {"0": {"containers.month": "1"}}}]}"#,
    )
    .unwrap();
    for db in databases("time") {
        let o = db.import("transport.seaport_cargo", &[&file, &json]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let times = db.rows(
            "SELECT DISTINCT \"period\", CAST(\"submitted_at\" AS TEXT) FROM \"regc_submission\" ORDER BY 1",
        );
        assert_eq!(times.len(), 2, "{times:?}");
        let jan = times[0][1].as_deref().unwrap();
        let feb = times[1][1].as_deref().unwrap();
        assert!(
            jan.starts_with("2025-01-20") && jan.contains("02:30:00"),
            "{jan}"
        );
        assert!(
            feb.starts_with("2025-02-17") && feb.contains("01:00:00"),
            "{feb}"
        );
        let before = db.count("regc_submission");
        let o = db.import("transport.seaport_cargo", &[&future]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("after now"), "{}", text(&o));
        assert_eq!(db.count("regc_submission"), before);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
