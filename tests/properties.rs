//! Property tests of the front end: whatever the input, regc never panics,
//! every diagnostic it gives is well formed, and broken inputs always get
//! at least one error.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use regc::diagnostic::Code;
use regc::source::{SourceFile, SourceMap};
use std::sync::OnceLock;

fn fixture() -> &'static SourceMap {
    static F: OnceLock<SourceMap> = OnceLock::new();
    F.get_or_init(common::fixture)
}

fn compile_case(text: &str) -> (regc::Compilation, SourceMap) {
    let mut map = fixture().clone();
    map.add(SourceFile::new(
        "cases/prop.regime",
        "cases/prop.regime",
        text,
    ));
    let c = regc::compile(&map);
    common::assert_well_formed(&c, &map);
    (c, map)
}

/// Real regimes to mutate.
fn seeds() -> &'static [String] {
    static S: OnceLock<Vec<String>> = OnceLock::new();
    S.get_or_init(|| {
        [
            "tests/cases/valid/language_tour.regime",
            "regimes/transport/seaport_cargo.regime",
        ]
        .iter()
        .map(|p| common::read(&common::repo().join(p)))
        .collect()
    })
}

/// Splits a text into tokens and the spaces between them (kept, so that
/// joining gives the text back).
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if in_space != Some(space) {
            if i > start {
                out.push(&text[start..i]);
            }
            start = i;
            in_space = Some(space);
        }
    }
    out.push(&text[start..]);
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Replace(usize, String),
}

fn mutate(text: &str, m: &Mutation) -> String {
    let mut t: Vec<String> = tokens(text).into_iter().map(str::to_string).collect();
    let n = t.len();
    match m {
        Mutation::Delete(i) => {
            t.remove(i % n);
        }
        Mutation::Duplicate(i) => {
            let x = t[i % n].clone();
            t.insert(i % n, x);
        }
        Mutation::Swap(i, j) => t.swap(i % n, j % n),
        Mutation::Replace(i, s) => t[i % n] = s.clone(),
    }
    t.concat()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<usize>(), "\\PC{0,12}").prop_map(|(a, s)| Mutation::Replace(a, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary Unicode text: no panic, well-formed diagnostics.
    #[test]
    fn arbitrary_text(text in "\\PC{0,400}") {
        let _ = compile_case(&text);
    }

    /// Text that is not a comment and not blank, but has no regime or
    /// declaration keyword, is always an error.
    #[test]
    fn garbage_is_an_error(text in "[a-zA-Z0-9(){}\\[\\]:=,.\"+*/ -]{1,200}") {
        prop_assume!(!text.trim().is_empty());
        prop_assume!(!text.contains("//") && !text.contains("/*"));
        let (c, _) = compile_case(&text);
        let words = ["use", "unit", "codelist", "group", "regime"];
        let first = text.split_whitespace().next().unwrap_or("");
        prop_assume!(!words.iter().any(|w| first.starts_with(w)));
        prop_assert!(c.has_errors(), "no error for {text:?}");
    }

    /// Token-level mutations of real regimes: no panic, well-formed
    /// diagnostics.
    #[test]
    fn mutated_regimes(seed in 0usize..2, m in mutation()) {
        let text = mutate(&seeds()[seed % seeds().len()], &m);
        let _ = compile_case(&text);
    }

    /// A regime cut anywhere inside its block never checks clean.
    #[test]
    fn truncated_regimes_are_errors(seed in 0usize..2, cut in 0.0f64..1.0) {
        let text = &seeds()[seed % seeds().len()];
        let start = text.find("\nregime ").unwrap_or(0) + 9;
        let end = text.rfind('}').unwrap_or(text.len());
        let mut at = start + ((end - start) as f64 * cut) as usize;
        while !text.is_char_boundary(at) {
            at += 1;
        }
        let (c, _) = compile_case(&text[..at]);
        prop_assert!(c.has_errors(), "no error when cut at byte {at}");
    }

    /// Random bytes made valid UTF-8 (the loader refuses invalid UTF-8).
    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = compile_case(&text);
    }
}

fn header() -> String {
    let text =
        common::read(&common::repo().join("tests/cases/diagnostics/E0304_unit_mismatch.regime"));
    let head = text.split("  rule R01").next().unwrap_or("").to_string();
    head.lines().skip(1).collect::<Vec<_>>().join("\n")
}

fn codes(c: &regc::Compilation) -> Vec<Code> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn deep_brackets_are_refused_not_overflowed() {
    for depth in [65, 1_000, 100_000] {
        let text = format!(
            "{}\n  rule R01 error \"x\": {}cargo{} > 0\n}}\n",
            header(),
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let (c, _) = compile_case(&text);
        assert_eq!(codes(&c), vec![Code::TooDeep], "depth {depth}");
    }
}

#[test]
fn long_unary_chains_are_refused_not_overflowed() {
    for op in ["not ", "- "] {
        let text = format!(
            "{}\n  rule R01 error \"x\": {}cargo > 0\n}}\n",
            header(),
            op.repeat(200_000)
        );
        let (c, _) = compile_case(&text);
        assert_eq!(codes(&c), vec![Code::TooDeep], "{op:?}");
    }
}

#[test]
fn long_operator_chains_are_refused_not_overflowed() {
    let text = format!(
        "{}\n  rule R01 error \"x\": cargo{} > 0\n}}\n",
        header(),
        " + cargo".repeat(100_000)
    );
    let (c, _) = compile_case(&text);
    assert_eq!(codes(&c), vec![Code::TooDeep]);
}

#[test]
fn huge_files_are_refused() {
    let text = format!("// {}\n", "x".repeat(regc::syntax::MAX_FILE_BYTES));
    let (c, _) = compile_case(&text);
    assert_eq!(codes(&c), vec![Code::FileTooLarge]);
}

#[test]
fn nesting_below_the_limit_is_accepted() {
    // The regime block is one level; 60 brackets inside it are fine.
    let text = format!(
        "{}\n  rule R01 error \"x\": {}cargo + cargo{} >= 0\n}}\n",
        header(),
        "(".repeat(60),
        ")".repeat(60)
    );
    let (c, _) = compile_case(&text);
    assert!(c.diagnostics.is_empty(), "{:?}", codes(&c));
}
