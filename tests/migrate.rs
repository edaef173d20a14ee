//! `regc migrate`: refused changes report their codes (snapshots), and
//! migrations applied to live databases of both engines keep the data.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::db::{Conn, Target};
use std::path::{Path, PathBuf};

const OLD: &str = "regimes/transport/seaport_cargo.regime";

use common::{regc, text};

#[test]
fn refused_changes_report_their_codes() {
    let dir = common::repo().join("tests/cases/migrate");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("tests/cases/migrate/{name}.regime");
        let expected = common::expected_codes(&std::fs::read_to_string(&case).unwrap());
        let o = regc(&["migrate", OLD, &rel]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {out}");
        for code in &expected {
            assert!(out.contains(code.as_str()), "{name}: no {code} in {out}");
        }
        assert!(out.contains("migration refused: nothing was written"));
        assert!(
            o.stdout.is_empty(),
            "{name}: SQL printed for a refused migration"
        );
        insta::assert_snapshot!(format!("migrate_{name}"), out);
        // The same refusal in Vietnamese, the default language.
        let o = common::regc_lang("vi", &["migrate", OLD, &rel]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {out}");
        assert!(
            out.contains("từ chối chuyển đổi: không có gì được ghi"),
            "{out}"
        );
        insta::assert_snapshot!(format!("migrate_{name}_vi"), out);
        // Allowed on purpose, destructive changes go through (as warnings);
        // an unraised version never does.
        let o = regc(&["migrate", OLD, &rel, "--allow-destructive"]);
        if expected == ["E0604"] {
            assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        } else {
            assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
            assert!(String::from_utf8_lossy(&o.stdout).contains("COMMIT;"));
        }
    }
}

#[test]
fn same_version_twice_has_nothing_to_migrate() {
    let o = regc(&["migrate", OLD, OLD]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("nothing to migrate"), "{}", text(&o));
}

/// A copy of the library with the seaport regime replaced by `text`.
fn library_with(tag: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regc-migrate-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    common::copy_dir(&common::repo().join("regimes"), &dir);
    std::fs::write(dir.join("transport/seaport_cargo.regime"), text).unwrap();
    dir
}

/// Version 4: wider ship names, a new IMO number, more decimals for the
/// gross tonnage, and container counts as decimals with 20 digits before
/// the point (SQLite moves them from integers to exact decimal text).
fn version_4() -> String {
    std::fs::read_to_string(common::repo().join(OLD))
        .unwrap()
        .replace("version   3", "version   4")
        .replace(
            "ship     \"Tên tàu\"          : text(120)  required",
            "ship     \"Tên tàu\"          : text(200)  required\n    imo      \"Số IMO\"           : text(10)",
        )
        .replace("decimal(10,1) [gt]", "decimal(12,2) [gt]")
        .replace(
            "2   containers \"Hàng container\"      : int [TEU]",
            "2   containers \"Hàng container\"      : decimal(22,2) [TEU]",
        )
}

struct Engine {
    url: String,
    _pg: Option<common::PgSchema>,
}

fn engines(tag: &str, dir: &Path) -> Vec<Engine> {
    let mut out = vec![Engine {
        url: format!("sqlite:{}", dir.join("test.db").display()),
        _pg: None,
    }];
    if let Some(pg) = common::PgSchema::new(tag) {
        out.push(Engine {
            url: pg.url.clone(),
            _pg: Some(pg),
        });
    }
    out
}

fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    Conn::open(&Target::parse(url).unwrap())
        .unwrap()
        .query_text(sql, &[])
        .unwrap()
}

#[test]
fn a_widening_migration_keeps_the_data_on_both_engines() {
    let lib = library_with("widen", &version_4());
    let new_file = lib.join("transport/seaport_cargo.regime");
    let out = lib.join("out");
    let o = regc(&[
        "migrate",
        OLD,
        new_file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for changed in [
        "widen B01.containers.month: integer to decimal(22,2)",
        "widen B02.ship: text(120) to text(200)",
        "new cell B02.imo",
        "widen B02.gross_t: decimal(10,1) to decimal(12,2)",
    ] {
        assert!(text(&o).contains(changed), "{changed}: {}", text(&o));
    }
    let sample = common::repo().join("tests/samples/transport.seaport_cargo/valid.csv");
    for e in engines("widen", &lib) {
        let sqlite = e.url.starts_with("sqlite:");
        let o = regc(&[
            "import",
            "transport.seaport_cargo",
            sample.to_str().unwrap(),
            "--db",
            &e.url,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let before = query(
            &e.url,
            "SELECT CAST(\"cargo.month\" AS TEXT), CAST(\"containers.month\" AS TEXT) FROM \"transport.seaport_cargo.B01\"",
        );
        let script = std::fs::read_to_string(out.join(if sqlite {
            "migrate.sqlite.sql"
        } else {
            "migrate.postgres.sql"
        }))
        .unwrap();
        Conn::open(&Target::parse(&e.url).unwrap())
            .unwrap()
            .exec(&script)
            .unwrap_or_else(|err| panic!("{}: {err}\n{script}", e.url));
        let after = query(
            &e.url,
            "SELECT CAST(\"cargo.month\" AS TEXT), CAST(\"containers.month\" AS TEXT) FROM \"transport.seaport_cargo.B01.current\"",
        );
        assert_eq!(after.len(), 1);
        assert_eq!(
            after[0][0], before[0][0],
            "untouched cells keep their values"
        );
        let containers = before[0][1].clone().unwrap();
        let want = if sqlite {
            containers.clone()
        } else {
            format!("{containers}.00")
        };
        assert_eq!(after[0][1].as_deref(), Some(want.as_str()));
        // decimal(10,1) → (12,2): SQLite's scaled integers are rescaled.
        let gross = query(
            &e.url,
            "SELECT CAST(\"gross_t\" AS TEXT) FROM \"transport.seaport_cargo.B02\" WHERE \"record\" = 1",
        );
        let want = if sqlite { "743000" } else { "7430.00" };
        assert_eq!(gross[0][0].as_deref(), Some(want));
        let version = query(
            &e.url,
            "SELECT CAST(\"version\" AS TEXT) FROM \"regc_regime\" WHERE \"code\" = 'transport.seaport_cargo'",
        );
        assert_eq!(version[0][0].as_deref(), Some("4"));
        // The migrated database takes data of version 4.
        let v4 = lib.join("v4.csv");
        std::fs::write(
            &v4,
            "unit,period,form,record,cell,value\nCVHH-HP,2025-02,B02,1,ship,ORIENT STAR\nCVHH-HP,2025-02,B02,1,imo,IMO9321483\nCVHH-HP,2025-02,B02,1,gross_t,100.25\nCVHH-HP,2025-02,B02,1,arrived,2025-01-20\nCVHH-HP,2025-02,B01,,containers.month,12.5\n",
        )
        .unwrap();
        let o = regc(&[
            "import",
            "transport.seaport_cargo",
            v4.to_str().unwrap(),
            "--db",
            &e.url,
            "--lib",
            lib.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let imo = query(
            &e.url,
            "SELECT \"imo\" FROM \"transport.seaport_cargo.B02.current\" WHERE \"period\" = '2025-02'",
        );
        assert_eq!(imo[0][0].as_deref(), Some("IMO9321483"));
    }
    let _ = std::fs::remove_dir_all(&lib);
}

#[test]
fn an_allowed_destructive_migration_drops_only_what_it_says() {
    let case = common::repo().join("tests/cases/migrate/E0601_dropped_cell.regime");
    let text_v4 = std::fs::read_to_string(&case).unwrap();
    let lib = library_with("drop", &text_v4);
    let out = lib.join("out");
    let o = regc(&[
        "migrate",
        OLD,
        case.to_str().unwrap(),
        "--allow-destructive",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("E0601"), "{}", text(&o));
    let sample = common::repo().join("tests/samples/transport.seaport_cargo/valid.csv");
    for e in engines("drop", &lib) {
        let sqlite = e.url.starts_with("sqlite:");
        let o = regc(&[
            "import",
            "transport.seaport_cargo",
            sample.to_str().unwrap(),
            "--db",
            &e.url,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let script = std::fs::read_to_string(out.join(if sqlite {
            "migrate.sqlite.sql"
        } else {
            "migrate.postgres.sql"
        }))
        .unwrap();
        let mut c = Conn::open(&Target::parse(&e.url).unwrap()).unwrap();
        c.exec(&script)
            .unwrap_or_else(|err| panic!("{}: {err}", e.url));
        // (SQLite reads an unknown "name" as a string, so ask the catalog.)
        let columns = if sqlite {
            "SELECT CAST(count(*) AS TEXT) FROM pragma_table_info('transport.seaport_cargo.B01') WHERE name LIKE 'berths.%'"
        } else {
            "SELECT CAST(count(*) AS TEXT) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'transport.seaport_cargo.B01' AND column_name LIKE 'berths.%'"
        };
        drop(c);
        assert_eq!(
            query(&e.url, columns)[0][0].as_deref(),
            Some("0"),
            "the dropped columns are gone"
        );
        let kept = query(
            &e.url,
            "SELECT CAST(\"passengers.month\" AS TEXT) FROM \"transport.seaport_cargo.B01.current\"",
        );
        assert!(kept[0][0].is_some());
        let ships = query(
            &e.url,
            "SELECT CAST(count(*) AS TEXT) FROM \"transport.seaport_cargo.B02\"",
        );
        assert_eq!(ships[0][0].as_deref(), Some("5"));
    }
    let _ = std::fs::remove_dir_all(&lib);
}

/// Pipes `script` into the engine's own shell as docs/database.md shows
/// (`… | sqlite3 regc.db`, `psql URL`), with no option that stops on the
/// first error: the script must stop by itself.
fn pipe_into_shell(url: &str, script: &str) -> std::process::Output {
    use std::io::Write;
    let mut cmd = match url.strip_prefix("sqlite:") {
        Some(path) => {
            let mut c = std::process::Command::new("sqlite3");
            c.arg(path);
            c
        }
        None => {
            let mut c = std::process::Command::new("psql");
            c.args(["-X", "-q", url]);
            c
        }
    };
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("the shell of {url} runs (install sqlite3 and psql): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Version 4 with ship names of at most 14 characters ("PACIFIC HARMONY"
/// has 15), or gross tonnage in whole tonnes (4987.5 is stored): an
/// allowed destructive migration that the data does not fit fails whole,
/// piped into `sqlite3` or `psql`, and nothing is lost, cut or rounded.
#[test]
fn a_narrowing_the_data_does_not_fit_changes_nothing_in_either_shell() {
    let narrowings = [
        (
            "text",
            "ship     \"Tên tàu\"          : text(14)  required",
            "decimal(10,1) [gt]",
            true,
        ),
        (
            "scale",
            "ship     \"Tên tàu\"          : text(120)  required",
            "decimal(10,0) [gt]",
            true,
        ),
        (
            "fits",
            "ship     \"Tên tàu\"          : text(15)  required",
            "decimal(10,1) [gt]",
            false,
        ),
    ];
    let sample = common::repo().join("tests/samples/transport.seaport_cargo/valid.csv");
    for (tag, ship, gross, refused) in narrowings {
        let v4 = std::fs::read_to_string(common::repo().join(OLD))
            .unwrap()
            .replace("version   3", "version   4")
            .replace("ship     \"Tên tàu\"          : text(120)  required", ship)
            .replace("decimal(10,1) [gt]", gross);
        let lib = library_with(&format!("narrow-{tag}"), &v4);
        let new_file = lib.join("transport/seaport_cargo.regime");
        let out = lib.join("out");
        let o = regc(&[
            "migrate",
            OLD,
            new_file.to_str().unwrap(),
            "--allow-destructive",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        for e in engines(&format!("narrow_{tag}"), &lib) {
            let sqlite = e.url.starts_with("sqlite:");
            let o = regc(&[
                "import",
                "transport.seaport_cargo",
                sample.to_str().unwrap(),
                "--db",
                &e.url,
            ]);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            let rows = "SELECT CAST(\"ship\" AS TEXT), CAST(\"gross_t\" AS TEXT) FROM \"transport.seaport_cargo.B02\" ORDER BY \"record\"";
            let before = query(&e.url, rows);
            assert_eq!(before.len(), 5);
            let script = std::fs::read_to_string(out.join(if sqlite {
                "migrate.sqlite.sql"
            } else {
                "migrate.postgres.sql"
            }))
            .unwrap();
            let shell = pipe_into_shell(&e.url, &script);
            let said = text(&shell);
            let version = query(
                &e.url,
                "SELECT CAST(\"version\" AS TEXT) FROM \"regc_regime\" WHERE \"code\" = 'transport.seaport_cargo'",
            );
            let after = query(&e.url, rows);
            if refused {
                assert_eq!(after, before, "{tag} {}: nothing changed\n{said}", e.url);
                assert_eq!(version[0][0].as_deref(), Some("3"), "{tag}: {said}");
                assert!(
                    said.contains("transport.seaport_cargo.B02"),
                    "{tag}: {said}"
                );
            } else {
                assert_eq!(
                    after, before,
                    "{tag} {}: the values are kept\n{said}",
                    e.url
                );
                assert_eq!(version[0][0].as_deref(), Some("4"), "{tag}: {said}");
                assert!(!said.contains("rror"), "{tag}: {said}");
            }
            // Nothing of the migration's own is left behind.
            let leftovers = if sqlite {
                "SELECT name FROM sqlite_master WHERE name LIKE '%.old' OR name = 'regc_migration'"
            } else {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND (table_name LIKE '%.old' OR table_name = 'regc_migration')"
            };
            assert!(query(&e.url, leftovers).is_empty(), "{tag}: {said}");
        }
        let _ = std::fs::remove_dir_all(&lib);
    }
}
