//! One snapshot per case in `tests/cases/diagnostics/`: each case is a
//! `.regime` (or data `.yaml`) file compiled with the fixture library; its
//! first line names the codes it must produce (`// expect: E0304`), and the
//! snapshot holds the diagnostics rendered for people and as JSON.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::diagnostic::Code;
use std::collections::BTreeSet;

#[test]
fn diagnostic_cases() {
    // Code mismatches are collected so that one run lists them all.
    let mismatches = std::cell::RefCell::new(Vec::new());
    insta::glob!("cases/diagnostics/*.*", |path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = common::read(path);
        let sources = common::with_case(name, &text);
        let c = regc::compile(&sources);
        common::assert_well_formed(&c, &sources);
        let got: BTreeSet<String> = c
            .diagnostics
            .iter()
            .map(|d| d.code.as_str().to_string())
            .collect();
        let want: BTreeSet<String> = common::expected_codes(&text).into_iter().collect();
        assert!(
            !want.is_empty(),
            "{name}: the first line must say `// expect: CODE …`"
        );
        if got != want {
            mismatches
                .borrow_mut()
                .push(format!("{name}: expected {want:?}, got {got:?}"));
            return;
        }
        insta::assert_snapshot!(common::render_all(&c, &sources));
    });
    let mismatches = mismatches.into_inner();
    assert!(
        mismatches.is_empty(),
        "cases whose codes differ from their `expect:` line:\n{}",
        mismatches.join("\n")
    );
}

/// Every code of the registry has a case (so every message is pinned by a
/// snapshot), and every case names only known codes.
#[test]
fn every_code_has_a_case() {
    let dir = common::repo().join("tests/cases/diagnostics");
    let mut covered = BTreeSet::new();
    // Migration codes (E06xx) have their cases in tests/cases/migrate
    // (tests/migrate.rs): a new version of a regime of the library.
    let migrate = common::repo().join("tests/cases/migrate");
    let entries = std::fs::read_dir(&dir)
        .expect("the cases folder exists")
        .chain(std::fs::read_dir(&migrate).expect("the migrate cases folder exists"));
    for entry in entries {
        let path = entry.expect("entry").path();
        for code in common::expected_codes(&common::read(&path)) {
            assert!(
                Code::parse(&code).is_some(),
                "{}: unknown code {code}",
                path.display()
            );
            covered.insert(code);
        }
    }
    // A case file over 4 MiB would be absurd to commit: E0010 is asserted in
    // tests/properties.rs (`huge_files_are_refused`).
    covered.insert("E0010".to_string());
    // Nor can a case file that is not UTF-8 be read as one: E0014 is
    // asserted in tests/hostile.rs.
    covered.insert("E0014".to_string());
    // A text of 32,768 characters would be a case file of one huge line:
    // E0702 is asserted in tests/hostile.rs.
    covered.insert("E0702".to_string());
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a case in tests/cases/diagnostics: {missing:?}"
    );
}

#[test]
fn every_code_is_explained() {
    for code in Code::ALL {
        let text = code.explanation();
        assert!(
            text.starts_with(&format!("# {}", code.as_str())),
            "{code}: the explanation starts with its code"
        );
        assert!(
            !text.contains("TODO"),
            "{code}: the explanation is unfinished"
        );
        assert!(
            text.contains("```"),
            "{code}: the explanation shows an example"
        );
    }
}

/// Every code has a Vietnamese title and page (`docs/diagnostics/vi/`),
/// headed by that title, with the English page's examples, and neither is
/// a copy of the English.
#[test]
fn every_code_is_explained_in_vietnamese() {
    use regc::lang::Lang;
    for code in Code::ALL {
        let (title, text) = (code.title_in(Lang::Vi), code.explanation_in(Lang::Vi));
        assert_ne!(title, code.title(), "{code}: the title is not translated");
        assert!(
            text.starts_with(&format!("# {}: {title}\n", code.as_str())),
            "{code}: the Vietnamese page starts with its code and title"
        );
        assert_ne!(
            text,
            code.explanation(),
            "{code}: the page is not translated"
        );
        let blocks = |t: &str| t.matches("```").count();
        assert_eq!(
            blocks(text),
            blocks(code.explanation()),
            "{code}: the Vietnamese page shows the same examples"
        );
    }
}

#[test]
fn the_fixture_library_is_clean() {
    let sources = common::fixture();
    let c = regc::compile(&sources);
    let rendered =
        regc::diagnostic::render::human_all(&c.diagnostics, &sources, regc::lang::Lang::En, false);
    assert!(c.diagnostics.is_empty(), "{rendered}");
}
