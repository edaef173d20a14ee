//! The typed IR of every regime of the library (`regimes/`) and of every
//! valid case (`tests/cases/valid/`), snapshotted as JSON; and the IR's
//! JSON form round-trips.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::source::load_library;

#[test]
fn library_is_clean_and_its_ir_is_pinned() {
    let sources = load_library(&common::repo().join("regimes")).expect("regimes/ is readable");
    let c = regc::compile(&sources);
    let rendered =
        regc::diagnostic::render::human_all(&c.diagnostics, &sources, regc::lang::Lang::En, false);
    assert!(
        c.diagnostics.is_empty(),
        "regimes/ must check clean:\n{rendered}"
    );
    assert!(
        c.library.regimes.len() >= 3,
        "the library has at least three regimes"
    );
    for r in &c.library.regimes {
        let json = serde_json::to_string_pretty(r).expect("the IR serializes");
        insta::assert_snapshot!(format!("ir_{}", r.code), json);
    }
}

#[test]
fn valid_cases_check_clean_and_their_ir_is_pinned() {
    insta::glob!("cases/valid/*.regime", |path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let sources = common::with_case(name, &common::read(path));
        let c = regc::compile(&sources);
        let rendered = regc::diagnostic::render::human_all(
            &c.diagnostics,
            &sources,
            regc::lang::Lang::En,
            false,
        );
        assert!(
            c.diagnostics.is_empty(),
            "{name} must check clean:\n{rendered}"
        );
        let json = serde_json::to_string_pretty(&c.library.regimes).expect("the IR serializes");
        insta::assert_snapshot!(json);
    });
}

#[test]
fn ir_json_round_trips() {
    let sources = load_library(&common::repo().join("regimes")).expect("regimes/ is readable");
    let c = regc::compile(&sources);
    let json = serde_json::to_string(&c.library).expect("serializes");
    let back: regc::ir::Library = serde_json::from_str(&json).expect("deserializes");
    // Editions and mappings are written separately (org.json); the rest
    // must come back equal.
    let mut expected = c.library.clone();
    expected.org.editions.clear();
    expected.org.mappings.clear();
    assert_eq!(back, expected);
}

#[test]
fn compiling_twice_gives_identical_ir() {
    let sources = load_library(&common::repo().join("regimes")).expect("regimes/ is readable");
    let a = serde_json::to_string(&regc::compile(&sources).library).expect("serializes");
    let b = serde_json::to_string(&regc::compile(&sources).library).expect("serializes");
    assert_eq!(a, b);
}
