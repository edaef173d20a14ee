//! `regc validate` with rules that read other periods (`@previous`,
//! `@same_period_last_year`, year to date, yearly cells): it streams, each
//! unit and period checked with a window of the unit's earlier periods,
//! and reports byte for byte what reading the files whole reports
//! (`REGC_VALIDATE_WHOLE`); a unit's periods out of order fall back to
//! reading whole, with a note.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use common::{Rng, regc};
use regc::submission::{Context, Group, Reader, Submission, Window};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Runs `regc validate` on the window path (default) and reading whole.
fn both(code: &str, file: &Path, format: &str) -> (std::process::Output, std::process::Output) {
    let args = ["validate", code, file.to_str().unwrap(), "--format", format];
    let window = regc(&args);
    let whole = std::process::Command::new(env!("CARGO_BIN_EXE_regc"))
        .args(args)
        .current_dir(common::repo())
        .env("NO_COLOR", "1")
        .env("REGC_VALIDATE_WHOLE", "1")
        .output()
        .unwrap();
    (window, whole)
}

fn same_report(what: &str, window: &std::process::Output, whole: &std::process::Output) {
    assert_eq!(window.status.code(), whole.status.code(), "{what}");
    assert_eq!(
        String::from_utf8_lossy(&window.stdout),
        String::from_utf8_lossy(&whole.stdout),
        "{what}"
    );
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The regimes whose rules read earlier periods.
fn reaching() -> Vec<&'static regc::ir::Regime> {
    let (_, lib) = common::library();
    lib.regimes
        .iter()
        .filter(|r| regc::eval::periods_back(r).is_some_and(|b| b > 0))
        .collect()
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("regc-window-{}-{name}", std::process::id()))
}

/// The library's samples give the same report, byte for byte, streamed
/// with the window as read whole, in every format; the window path is
/// taken (no note).
#[test]
fn samples_give_the_same_report_with_the_window() {
    let dir = common::repo().join("tests/samples");
    let mut compared = 0;
    for r in reaching() {
        for f in ["valid.csv", "invalid.csv"] {
            let sample = dir.join(&r.code).join(f);
            if !sample.exists() {
                continue;
            }
            for format in ["csv", "json", "human"] {
                let (window, whole) = both(&r.code, &sample, format);
                let what = format!("{} {f} {format}", r.code);
                same_report(&what, &window, &whole);
                assert!(
                    !stderr(&window).contains("reading the files whole"),
                    "{what}: {}",
                    stderr(&window)
                );
                if format == "human" {
                    assert_eq!(stderr(&window), stderr(&whole), "{what}");
                }
            }
            compared += 1;
        }
    }
    assert!(compared >= 30, "only {compared} samples");
}

/// A line of a generated file: its unit, its period's index, its text.
type Line = (String, usize, String);

/// A sample's lines, spread over several units and the 40 periods up to
/// the sample's: values scaled by a factor per unit and period, some lines
/// and some periods left out. Each line is (unit, period index, text).
fn spread(r: &regc::ir::Regime, seed: u64) -> Option<(String, Vec<Line>)> {
    let (_, lib) = common::library();
    let text = std::fs::read_to_string(
        common::repo()
            .join("tests/samples")
            .join(&r.code)
            .join("valid.csv"),
    )
    .ok()?;
    let mut lines = text.lines();
    let header = lines.next()?.to_string();
    if header != "unit,period,form,record,cell,value" {
        return None;
    }
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .filter(|f: &Vec<String>| f.len() == 6)
        .collect();
    let unit = rows.first()?[0].clone();
    let period = rows.first()?[1].clone();
    if rows.iter().any(|f| f[0] != unit || f[1] != period) {
        return None;
    }
    // Units of the same level found in every edition that has that level
    // (they exist whatever the period).
    let level = lib
        .org
        .editions
        .iter()
        .flat_map(|e| &e.units)
        .find(|u| u.code == unit)?
        .level
        .clone();
    let editions: Vec<_> = lib
        .org
        .editions
        .iter()
        .filter(|e| e.units.iter().any(|u| u.level == level))
        .collect();
    let mut units: Vec<String> = editions[0]
        .units
        .iter()
        .filter(|u| u.level == level)
        .map(|u| u.code.clone())
        .filter(|c| {
            editions
                .iter()
                .all(|e| e.units.iter().any(|u| &u.code == c))
        })
        .collect();
    units.sort();
    units.retain(|u| *u != unit);
    units.truncate(3);
    units.insert(0, unit);
    let year: i32 = period.get(..4)?.parse().ok()?;
    let mut periods: Vec<String> = (year - 3..=year)
        .flat_map(|y| regc::calendar::period_bounds(r.frequency, r.cutoff, y))
        .map(|(id, _, _)| id)
        .collect();
    let at = periods.iter().position(|p| *p == period)?;
    periods.truncate(at + 1);
    let periods: Vec<String> = periods[periods.len().saturating_sub(40)..].to_vec();
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for u in &units {
        for (i, p) in periods.iter().enumerate() {
            if rng.chance(12) {
                continue;
            }
            let factor = *rng.pick(&[0.5, 0.9, 1.0, 1.0, 1.1, 1.8]);
            for f in &rows {
                if rng.chance(5) {
                    continue;
                }
                let value = scale(&f[5], factor);
                out.push((
                    u.clone(),
                    i,
                    format!("{u},{p},{},{},{},{value}", f[2], f[3], f[4]),
                ));
            }
        }
    }
    Some((header, out))
}

/// A number scaled (as many decimals as written); anything else as is.
fn scale(v: &str, factor: f64) -> String {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let numeric = digits(int.trim_start_matches('-')) && (frac.is_empty() || digits(frac));
    if !numeric || (int.len() > 1 && int.starts_with('0')) {
        return v.to_string();
    }
    let x: f64 = v.parse().unwrap();
    format!("{:.*}", frac.len(), x * factor)
}

fn write(path: &Path, header: &str, lines: &[&Line]) {
    let mut text = format!("{header}\n");
    for (_, _, l) in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// Whether `rule` alone reads earlier periods.
fn reads_earlier(r: &regc::ir::Regime, rule: &str) -> bool {
    let mut one = r.clone();
    one.rules.retain(|x| x.code == rule);
    regc::eval::periods_back(&one).is_some_and(|b| b > 0)
}

/// Multi-period files of the library's regimes (several units, 40
/// periods, gaps), unit after unit and period after period: the window
/// path reports byte for byte what reading whole reports, and rules on
/// earlier periods do fail in them.
#[test]
fn multi_period_files_give_the_same_report_with_the_window() {
    let mut tried = 0;
    let mut earlier_failures = 0;
    for (n, r) in reaching().into_iter().enumerate() {
        let Some((header, lines)) = spread(r, 0x5EED + n as u64) else {
            continue;
        };
        let mut unit_major: Vec<&Line> = lines.iter().collect();
        unit_major.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut period_major = unit_major.clone();
        period_major.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        for (order, list) in [("units", &unit_major), ("periods", &period_major)] {
            let path = temp(&format!("{}-{order}.csv", r.code));
            write(&path, &header, list);
            for format in ["csv", "json"] {
                let (window, whole) = both(&r.code, &path, format);
                let what = format!("{} {order} {format}", r.code);
                assert_ne!(whole.status.code(), Some(2), "{what}: {}", stderr(&whole));
                same_report(&what, &window, &whole);
                assert!(
                    !stderr(&window).contains("reading the files whole"),
                    "{what}: {}",
                    stderr(&window)
                );
                if format == "csv" {
                    let out = String::from_utf8_lossy(&window.stdout).into_owned();
                    earlier_failures += out
                        .lines()
                        .skip(1)
                        .filter(|l| reads_earlier(r, l.split(',').nth(5).unwrap_or("")))
                        .count();
                }
            }
            let _ = std::fs::remove_file(&path);
        }
        tried += 1;
    }
    eprintln!("{tried} regimes, {earlier_failures} failures of rules on earlier periods");
    assert!(tried >= 8, "only {tried} regimes tried");
    assert!(
        earlier_failures >= 20,
        "only {earlier_failures} failures of rules on earlier periods"
    );
}

/// A unit's period given after a later one of the same unit: the command
/// says so and reads the files whole (same report).
#[test]
fn periods_out_of_order_fall_back_with_a_note() {
    let mut tried = 0;
    for (n, r) in reaching().into_iter().enumerate().take(6) {
        let Some((header, lines)) = spread(r, 0xBAD + n as u64) else {
            continue;
        };
        let mut sorted: Vec<&Line> = lines.iter().collect();
        sorted.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        // The first unit's first period moved after its last one.
        let (unit, first) = (sorted[0].0.clone(), sorted[0].1);
        let (moved, mut rest): (Vec<_>, Vec<_>) = sorted
            .into_iter()
            .partition(|l| l.0 == unit && l.1 == first);
        let at = rest.iter().rposition(|l| l.0 == unit).unwrap() + 1;
        rest.splice(at..at, moved);
        let path = temp(&format!("{}-disorder.csv", r.code));
        write(&path, &header, &rest);
        let (window, whole) = both(&r.code, &path, "csv");
        let _ = std::fs::remove_file(&path);
        same_report(&r.code, &window, &whole);
        assert!(
            stderr(&window).contains("comes after a later period of")
                && stderr(&window).contains("reading the files whole"),
            "{}: {}",
            r.code,
            stderr(&window)
        );
        assert!(
            !stderr(&whole).contains("reading the files whole"),
            "{}",
            stderr(&whole)
        );
        tried += 1;
    }
    assert!(tried >= 3, "only {tried} regimes tried");
}

fn sub(unit: &str, period: &str, form: &str) -> Arc<Submission> {
    Arc::new(Submission {
        form: form.into(),
        unit: unit.into(),
        period: period.into(),
        file: "f.csv".into(),
        line: 1,
        cells: Arc::new(Vec::new()),
        records: Default::default(),
    })
}

/// The window keeps each unit's last periods only: as periods advance,
/// what it holds stays bounded, and a unit gets its own last periods,
/// sorted.
#[test]
fn the_window_drops_what_is_out_of_reach() {
    let mut w = Window::new(3);
    let units = ["A", "B", "C"];
    for m in 0..200 {
        let period = format!("{}-{:02}", 2000 + m / 12, m % 12 + 1);
        for u in units {
            // B skips every other period.
            if u == "B" && m % 2 == 1 {
                continue;
            }
            let earlier = w.earlier(u);
            let periods: Vec<&str> = earlier.iter().map(|s| s.period.as_str()).collect();
            assert!(periods.is_sorted(), "{periods:?}");
            assert!(earlier.iter().all(|s| s.unit == u));
            assert!(periods.len() <= 6, "{u} {period}: {periods:?}");
            if m >= 6 {
                assert_eq!(periods.len(), 6, "{u} {period}: {periods:?}");
            }
            if let Some(last) = periods.last() {
                assert!(*last < period.as_str());
            }
            w.push(u, vec![sub(u, &period, "B02"), sub(u, &period, "B01")]);
        }
        assert!(w.held() <= units.len() * 3 * 2, "{} held", w.held());
    }
    assert_eq!(w.held(), 18);
    let a: Vec<String> = w
        .earlier("A")
        .iter()
        .map(|s| format!("{} {}", s.period, s.form))
        .collect();
    assert_eq!(
        a,
        [
            "2016-06 B01",
            "2016-06 B02",
            "2016-07 B01",
            "2016-07 B02",
            "2016-08 B01",
            "2016-08 B02"
        ]
    );
}

/// Period ids that do not sort as they come still give sorted windows
/// (the evaluator's lookup searches them by halves).
#[test]
fn the_window_is_sorted_whatever_the_ids() {
    let mut w = Window::new(40);
    for n in (1..=40).rev() {
        w.push("A", vec![sub("A", &n.to_string(), "B01")]);
    }
    let got: Vec<String> = w.earlier("A").iter().map(|s| s.period.clone()).collect();
    let mut want: Vec<String> = (1..=40).map(|n: i32| n.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
}

/// The reader attaches to each group the unit's submissions of the
/// periods in reach before it (those the file has), and holds no more
/// than each unit's last periods, however long the file.
#[test]
fn the_reader_attaches_each_unit_its_periods_in_reach() {
    let (_, lib) = common::library();
    let r = reaching()
        .into_iter()
        .find(|r| r.frequency == regc::ir::Frequency::Monthly && spread(r, 1).is_some())
        .unwrap();
    let back = regc::eval::periods_back(r).unwrap();
    let (header, lines) = spread(r, 7).unwrap();
    let mut sorted: Vec<&Line> = lines.iter().collect();
    sorted.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let path = temp(&format!("{}-reader.csv", r.code));
    write(&path, &header, &sorted);
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Group>>(4);
    let collect = std::thread::spawn(move || receive.into_iter().flatten().collect::<Vec<_>>());
    let mut ctx = Context::new(lib, r);
    let mut reader = Reader::streaming(send);
    reader.keep_earlier(back);
    reader.read_path(&mut ctx, &path).unwrap();
    reader.finish();
    let _ = std::fs::remove_file(&path);
    assert!(reader.scattered().is_none());
    let held = reader.window_held();
    drop(reader);
    let groups = collect.join().unwrap();
    let units: std::collections::BTreeSet<&str> = groups.iter().map(|g| g.unit.as_str()).collect();
    let forms = r.forms.len();
    assert!(held > 0 && held <= units.len() * back * forms, "{held}");
    // Each group: the last `back` periods of its unit sent before it.
    for (i, g) in groups.iter().enumerate() {
        let mut before: Vec<&Group> = groups[..i]
            .iter()
            .filter(|x| x.unit == g.unit && !x.submissions.is_empty())
            .collect();
        before.drain(..before.len().saturating_sub(back));
        let mut want: Vec<(String, String)> = before
            .iter()
            .flat_map(|x| &x.submissions)
            .map(|s| (s.period.clone(), s.form.clone()))
            .collect();
        want.sort();
        let got: Vec<(String, String)> = g
            .earlier
            .iter()
            .map(|s| (s.period.clone(), s.form.clone()))
            .collect();
        assert_eq!(got, want, "{} {}", g.unit, g.period);
        assert!(g.earlier.iter().all(|s| s.unit == g.unit));
    }
    assert!(groups.len() > 100, "{} groups", groups.len());
}

/// With `--history`: a period the files do not have is read from the
/// database, one they have from the files (the window), as reading whole
/// does.
#[test]
fn the_window_goes_with_the_history_database() {
    let code = "transport.seaport_cargo";
    let jan = common::repo().join("tests/samples/transport.seaport_cargo/valid.csv");
    let dir = temp("history");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite:{}", dir.join("h.db").display());
    let o = regc(&["import", code, jan.to_str().unwrap(), "--db", &db]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let head = "unit,period,form,record,cell,value\n";
    let month = |p: &str, v: &str| {
        format!("CVHH-HP,{p},B01,,cargo.month,{v}\nCVHH-HP,{p},B01,,export.month,{v}\n")
    };
    // January from the database (15852147.55): February's rise is a
    // warning. January in the file (31000000): it is not.
    let cases = [
        (
            "feb-mar",
            format!(
                "{head}{}{}",
                month("2025-02", "31704295.10"),
                month("2025-03", "31704295.10")
            ),
            true,
        ),
        (
            "jan-feb",
            format!(
                "{head}{}{}",
                month("2025-01", "31000000.00"),
                month("2025-02", "31704295.10")
            ),
            false,
        ),
    ];
    for (name, text, warned) in cases {
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        let args = [
            "validate",
            code,
            path.to_str().unwrap(),
            "--history",
            &db,
            "--format",
            "csv",
        ];
        let window = regc(&args);
        let whole = std::process::Command::new(env!("CARGO_BIN_EXE_regc"))
            .args(args)
            .current_dir(common::repo())
            .env("NO_COLOR", "1")
            .env("REGC_VALIDATE_WHOLE", "1")
            .output()
            .unwrap();
        same_report(name, &window, &whole);
        assert!(
            !stderr(&window).contains("reading the files whole"),
            "{name}"
        );
        let out = String::from_utf8_lossy(&window.stdout).into_owned();
        assert_eq!(
            out.lines()
                .any(|l| l.starts_with("CVHH-HP,2025-02,") && l.contains(",R01,")),
            warned,
            "{name}: {out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
