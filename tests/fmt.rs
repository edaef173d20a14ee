//! `regc fmt`: idempotent, meaning-preserving (the typed IR of the formatted
//! text equals the original's) and comment-preserving, over the library, the
//! valid test cases and synthetic regimes, with random whitespace
//! perturbations; a snapshot of a messy regime; the command line.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use regc::source::{SourceFile, SourceMap};
use std::process::Command;
use std::sync::OnceLock;

/// `n` cases, or `PROPTEST_CASES` when set (for longer runs).
fn config(n: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(n);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn fmt(text: &str) -> String {
    regc::fmt::format(text).unwrap_or_else(|| panic!("does not parse:\n{text}"))
}

/// Every comment of a text: `// …` fragments (without trailing whitespace)
/// and `/* … */` comments, outside strings, in order.
fn comments(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                let start = i;
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                let c: String = chars[start..i].iter().collect();
                out.push(c.trim_end_matches([' ', '\t']).to_string());
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let start = i;
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i = (i + 2).min(chars.len());
                out.push(chars[start..i].iter().collect());
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// A whitespace perturbation of `text`, driven by `ops`: spaces and tabs
/// added or removed at line starts, spaces added at line ends, blank lines
/// added, comments added (whole lines and line ends), CRLF line endings.
fn perturb(text: &str, ops: &[u8], crlf: bool) -> String {
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        let op = if ops.is_empty() {
            0
        } else {
            ops[n % ops.len()]
        };
        let line = match op % 10 {
            8 => format!("{}// note {op}\n{line}", " ".repeat(usize::from(op) % 7)),
            9 => format!("{line} // tail {op}"),
            0 => line.to_string(),
            1 => line.trim_start().to_string(),
            2 => format!("   {line}"),
            3 => format!("\t{line}"),
            4 => format!("{line}  \t"),
            5 => format!("{line}\n\n   \n"),
            6 => format!("{} ", line.trim_start()),
            _ => format!("\n{}", " ".repeat(usize::from(op / 8) % 13)) + line.trim_start(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    if ops.first().is_some_and(|o| o % 3 == 0) {
        out.push_str("\n\n");
    }
    if crlf {
        out = out.replace('\n', "\r\n");
    }
    out
}

/// The properties of one formatted text, except meaning.
fn assert_formatted(original: &str) -> String {
    let once = fmt(original);
    let twice = fmt(&once);
    assert_eq!(once, twice, "not idempotent on:\n{original}");
    assert_eq!(comments(&once), comments(original), "comments changed");
    assert!(!once.contains('\r'));
    assert!(once.is_empty() || (once.ends_with('\n') && !once.ends_with("\n\n")));
    assert!(!once.contains("\n\n\n"));
    // Lines inside block comments are kept as they are.
    for line in once.lines().filter(|_| !once.contains("/*")) {
        assert_eq!(line, line.trim_end_matches([' ', '\t']), "trailing space");
    }
    once
}

fn regimes_json(map: &SourceMap) -> String {
    let c = regc::compile(map);
    assert!(!c.has_errors(), "the library has errors");
    serde_json::to_string(&c.library.regimes).unwrap()
}

/// A copy of `map` with the texts of some files replaced.
fn replaced(map: &SourceMap, texts: &[(String, String)]) -> SourceMap {
    let mut out = SourceMap::new();
    for (_, f) in map.iter() {
        let text = texts
            .iter()
            .find(|(rel, _)| *rel == f.rel)
            .map_or(f.text.clone(), |(_, t)| t.clone());
        out.add(SourceFile::new(f.name.clone(), f.rel.clone(), text));
    }
    out
}

fn library() -> &'static (SourceMap, String) {
    static L: OnceLock<(SourceMap, String)> = OnceLock::new();
    L.get_or_init(|| {
        let map = regc::source::load_library(&common::repo().join("regimes")).unwrap();
        let json = regimes_json(&map);
        (map, json)
    })
}

/// The `.regime` files of the library: (rel, text).
fn library_files() -> Vec<(String, String)> {
    library()
        .0
        .iter()
        .filter(|(_, f)| f.kind == regc::source::FileKind::Regime)
        .map(|(_, f)| (f.rel.clone(), f.text.clone()))
        .collect()
}

fn valid_cases() -> Vec<(String, String)> {
    let dir = common::repo().join("tests/cases/valid");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "regime"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, common::read(&p))
        })
        .collect();
    out.sort();
    out
}

fn case_json(name: &str, text: &str) -> String {
    regimes_json(&common::with_case(name, text))
}

/// A library with synthetic regime `i` only.
fn synth_json(text: &str) -> String {
    let map = replaced(
        &regc::synth::library(1),
        &[("synth/r00000.regime".to_string(), text.to_string())],
    );
    regimes_json(&map)
}

#[test]
fn the_library_is_formatted() {
    for (rel, text) in library_files() {
        assert_eq!(fmt(&text), text, "{rel} is not formatted");
        assert_formatted(&text);
    }
}

#[test]
fn formatting_everything_keeps_the_library_meaning() {
    let (map, json) = library();
    let texts: Vec<(String, String)> = library_files()
        .into_iter()
        .map(|(rel, text)| {
            let f = assert_formatted(&text);
            (rel, f)
        })
        .collect();
    assert_eq!(regimes_json(&replaced(map, &texts)), *json);
}

#[test]
fn synthetic_regimes_are_idempotent() {
    for i in 0..300 {
        let text = regc::synth::regime(i);
        // Not a fixed point: synth writes some lines without indentation.
        assert_formatted(&text);
    }
}

#[test]
fn valid_cases_are_idempotent_and_keep_meaning() {
    for (name, text) in valid_cases() {
        let f = assert_formatted(&text);
        assert_eq!(case_json(&name, &f), case_json(&name, &text), "{name}");
    }
}

proptest! {
    #![proptest_config(config(8))]

    /// Every file of the library perturbed at once, then formatted: one
    /// compilation per case compares the whole library's IR.
    #[test]
    fn perturbed_library_formats_to_the_same_meaning(
        ops in proptest::collection::vec(any::<u8>(), 1..40),
        crlf in any::<bool>(),
    ) {
        let (map, json) = library();
        let mut texts = Vec::new();
        for (k, (rel, text)) in library_files().into_iter().enumerate() {
            let mut o = ops.clone();
            o.rotate_left(k % ops.len());
            let messy = perturb(&text, &o, crlf && k % 2 == 0);
            let f = assert_formatted(&messy);
            texts.push((rel, f));
        }
        prop_assert_eq!(regimes_json(&replaced(map, &texts)), json.clone());
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn perturbed_library_files_are_idempotent(
        file in any::<prop::sample::Index>(),
        ops in proptest::collection::vec(any::<u8>(), 1..60),
        crlf in any::<bool>(),
    ) {
        let files = library_files();
        let (_, text) = file.get(&files);
        // Whitespace only (no added comments), to compare line by line.
        let ops: Vec<u8> = ops.iter().map(|o| o / 10 * 10 + o % 10 % 8).collect();
        let messy = perturb(text, &ops, crlf);
        let f = assert_formatted(&messy);
        // Statement lines and closing braces are where the original has
        // them, whatever the perturbation.
        let want = fmt(text);
        let fixed: Vec<&str> = want.lines().filter(|l| !l.trim().is_empty()).collect();
        let got: Vec<&str> = f.lines().filter(|l| !l.trim().is_empty()).collect();
        prop_assert_eq!(got.len(), fixed.len());
        for (g, w) in got.iter().zip(&fixed) {
            prop_assert_eq!(g.trim_start(), w.trim_start());
        }
    }

    #[test]
    fn perturbed_synthetic_regimes_keep_their_meaning(
        i in 0usize..1000,
        ops in proptest::collection::vec(any::<u8>(), 1..60),
        crlf in any::<bool>(),
    ) {
        let text = regc::synth::regime(i);
        let messy = perturb(&text, &ops, crlf);
        let f = assert_formatted(&messy);
        prop_assert_eq!(synth_json(&f), synth_json(&text));
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn perturbed_valid_cases_keep_their_meaning(
        ops in proptest::collection::vec(any::<u8>(), 1..60),
        crlf in any::<bool>(),
    ) {
        for (name, text) in valid_cases() {
            let messy = perturb(&text, &ops, crlf);
            let f = assert_formatted(&messy);
            prop_assert_eq!(case_json(&name, &f), case_json(&name, &text));
        }
    }
}

/// A regime written carelessly: wrong indentation, tabs, trailing spaces,
/// runs of blank lines, blank lines after `{` and before `}`, CRLF, a block
/// comment whose inside must not move, no final newline.
const MESSY: &str = "\r\n\r\n// A messy regime.   \r\nuse common.units\r\n\r\n\r\n\r\nregime test.messy {\r\n\r\n\ttitle \"Báo cáo  {không}   đổi\"   \r\n      basis \"Nghị định 09/2019/NĐ-CP\"\r\n owner \"Văn phòng Chính phủ\"\r\nversion 1 effective 2026-01-01\r\n  frequency monthly\r\n   cutoff decree09\r\n  reporters province\r\n  flow province -> ministry\r\n     deadline province 5 working days after cutoff,\r\n  ministry 10 working days after cutoff\r\n\r\n\r\n  /* a block comment\r\n        whose lines   \r\n   stay as they are */\r\nform B01 \"Biểu\" {\r\n\r\ncolumns {\r\n  month \"Tháng\" entered // the month\r\n          ytd \"Lũy kế\" = sum(month over year_to_date)\r\n}\r\n      rows {\r\n  1 pupils \"Học sinh\" : int [person]\r\n      split \"Chia ra\" {\r\n   1.1 boys \"Nam\" : int [person]\r\n  1.2 girls \"Nữ\" : int [person]\r\n\r\n   }\r\n   }\r\n\r\n  }\r\n// rules\r\n rule R01 error \"Không âm\":\r\n  // checked every month\r\n  pupils.month >= 0\r\n    and boys.month >= 0\r\n missing zero\r\n\r\n\r\n}";

#[test]
fn messy_regime_snapshot() {
    let f = assert_formatted(MESSY);
    insta::assert_snapshot!(f);
    assert_eq!(comments(&f), comments(MESSY));
    assert_eq!(
        case_json("messy.regime", &f),
        case_json("messy.regime", MESSY)
    );
}

#[test]
fn strings_and_comments_do_not_count_as_braces() {
    let text = "regime x.y {\n    title \"a { b // c /* d\"   \n// } \" {\n        basis \"\\\" }\" // {\n  /* } */ owner \"o\"\n\t}\n";
    let want = "regime x.y {\n  title \"a { b // c /* d\"\n  // } \" {\n  basis \"\\\" }\" // {\n  /* } */ owner \"o\"\n}\n";
    assert_eq!(fmt(text), want);
    assert_formatted(text);
}

#[test]
fn blank_lines_and_line_ends() {
    let text = "\n\nuse a.b\r\n\r\n\r\nuse c.d\rregime x.y {\n\n  title \"t\"\n\n\n  basis \"b\"\n\n}\n\n\n";
    assert_eq!(
        fmt(text),
        "use a.b\n\nuse c.d\nregime x.y {\n  title \"t\"\n\n  basis \"b\"\n}\n"
    );
}

#[test]
fn a_file_with_syntax_errors_is_not_formatted() {
    assert!(regc::fmt::format("regime x {\n  title \"a\"\n").is_none());
    assert!(regc::fmt::format("regime x {\n  nonsense here\n}\n").is_none());
    assert_eq!(regc::fmt::format("").as_deref(), Some(""));
    assert_eq!(regc::fmt::format("\n\n  \n").as_deref(), Some(""));
}

fn regc(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_check_passes_on_the_library() {
    let (code, out, err) = regc(&["fmt", "--check"], &common::repo());
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn cli_formats_in_place_and_checks() {
    let dir = std::env::temp_dir().join(format!("regc-fmt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("regimes/sub")).unwrap();
    let messy = dir.join("regimes/sub/messy.regime");
    let clean = dir.join("regimes/clean.regime");
    let broken = dir.join("broken.regime");
    let other = dir.join("regimes/notes.txt");
    std::fs::write(&messy, MESSY).unwrap();
    std::fs::write(&clean, fmt(MESSY)).unwrap();
    std::fs::write(&broken, "regime x {\n   title \"a\"\n").unwrap();
    std::fs::write(&other, "  not a regime  \n").unwrap();

    let (code, out, _) = regc(&["fmt", "--check"], &dir);
    assert_eq!(code, 1);
    assert!(
        out.contains("messy.regime") && !out.contains("clean.regime"),
        "{out}"
    );
    assert_eq!(common::read(&messy), MESSY, "--check wrote");

    let (code, out, _) = regc(&["fmt"], &dir);
    assert_eq!(code, 0);
    assert!(out.contains("messy.regime"), "{out}");
    assert_eq!(common::read(&messy), fmt(MESSY));
    assert_eq!(common::read(&other), "  not a regime  \n");

    let (code, _, _) = regc(&["fmt", "--check"], &dir);
    assert_eq!(code, 0);

    let (code, _, err) = regc(&["fmt", "broken.regime"], &dir);
    assert_eq!(code, 1);
    assert!(err.contains("syntax errors"), "{err}");
    assert_eq!(common::read(&broken), "regime x {\n   title \"a\"\n");
    let (code, _, _) = regc(&["fmt", "--check", "broken.regime"], &dir);
    assert_eq!(code, 1);

    let (code, _, _) = regc(&["fmt", "missing"], &dir);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
