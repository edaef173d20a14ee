//! Shared helpers for the integration tests: the fixture library, compiling
//! a case against it, rendering diagnostics for snapshots.
#![allow(dead_code)]
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use regc::diagnostic::render;
use regc::source::{SourceFile, SourceMap};
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The small fixture library of `tests/fixtures/lib`.
pub fn fixture() -> SourceMap {
    regc::source::load_library(&repo().join("tests/fixtures/lib"))
        .expect("the fixture library is readable")
}

/// The fixture library plus one case file, added as `cases/<name>`.
pub fn with_case(name: &str, text: &str) -> SourceMap {
    let mut map = fixture();
    map.add(SourceFile::new(
        format!("cases/{name}"),
        format!("cases/{name}"),
        text,
    ));
    map
}

/// Every diagnostic, rendered for people (no colour) in Vietnamese (the
/// default) and in English, and as JSON (Vietnamese).
pub fn render_all(c: &regc::Compilation, sources: &SourceMap) -> String {
    use regc::lang::Lang;
    let vi = render::human_all(&c.diagnostics, sources, Lang::Vi, false);
    let en = render::human_all(&c.diagnostics, sources, Lang::En, false);
    let json = render::json_all(&c.diagnostics, sources, Lang::Vi);
    format!("{vi}\n--- en ---\n{en}\n--- json ---\n{json}\n")
}

/// Diagnostics rendered in English, for assertion messages.
pub fn render_en(c: &regc::Compilation, sources: &SourceMap) -> String {
    render::human_all(&c.diagnostics, sources, regc::lang::Lang::En, false)
}

/// The codes a case file says it expects: a first line `// expect: E0304 E0201`
/// (or `# expect: …` in YAML).
pub fn expected_codes(text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .trim_start_matches("//")
        .trim_start_matches('#')
        .trim();
    match rest.strip_prefix("expect:") {
        Some(codes) => codes.split_whitespace().map(str::to_string).collect(),
        None => Vec::new(),
    }
}

/// Checks that every diagnostic is well formed: a real span on character
/// boundaries inside its file, a label and a help line.
pub fn assert_well_formed(c: &regc::Compilation, sources: &SourceMap) {
    for d in c.diagnostics.iter() {
        let file = sources
            .get(d.primary.span.file)
            .expect("the span's file exists");
        let (s, e) = (d.primary.span.start as usize, d.primary.span.end as usize);
        assert!(
            s <= e && e <= file.text.len(),
            "{:?}: span {s}..{e} outside {} bytes",
            d.code,
            file.text.len()
        );
        assert!(
            file.text.is_char_boundary(s) && file.text.is_char_boundary(e),
            "{:?}: span not on a char boundary",
            d.code
        );
        assert!(!d.primary.text.is_empty(), "{:?}: empty label", d.code);
        assert!(!d.help.is_empty(), "{:?}: no help", d.code);
        assert!(!d.message.is_empty(), "{:?}: no message", d.code);
        // Both languages are written, not one copied into the other.
        for (what, t) in [
            ("message", &d.message),
            ("label", &d.primary.text),
            ("help", &d.help),
        ] {
            assert_ne!(
                t.en(),
                t.vi(),
                "{:?}: the {what} is not translated into Vietnamese",
                d.code
            );
        }
        for l in &d.secondary {
            let f = sources.get(l.span.file).expect("label file exists");
            assert!(l.span.end as usize <= f.text.len());
        }
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The regime library of `regimes/`, compiled (once per test binary).
pub fn library() -> &'static (SourceMap, regc::ir::Library) {
    static LIB: std::sync::OnceLock<(SourceMap, regc::ir::Library)> = std::sync::OnceLock::new();
    LIB.get_or_init(|| {
        let sources = regc::source::load_library(&repo().join("regimes")).unwrap();
        let c = regc::compile(&sources);
        assert!(!c.has_errors(), "the library compiles");
        (sources, c.library)
    })
}

/// The PostgreSQL server of the tests: `REGC_TEST_POSTGRES`, else
/// 127.0.0.1:5432, user postgres, database test.
pub fn postgres_url() -> String {
    std::env::var("REGC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A fresh PostgreSQL schema of its own for one test, dropped on drop.
/// `None` (after a note on stderr) if no server answers, except under
/// `CI=true`, where a missing database fails the test.
pub struct PgSchema {
    pub name: String,
    pub url: String,
}

impl PgSchema {
    pub fn new(tag: &str) -> Option<PgSchema> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let base = postgres_url();
        let mut admin = match postgres::Client::connect(&base, postgres::NoTls) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true and PostgreSQL is not reachable at {base}: {e}");
                }
                eprintln!("skipped: PostgreSQL is not reachable at {base}: {e}");
                return None;
            }
        };
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("t_{tag}_{}_{n}", std::process::id());
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE; CREATE SCHEMA \"{name}\";"
            ))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}");
        Some(PgSchema { name, url })
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&postgres_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

/// Runs the `regc` binary in the repository root, without colour, in
/// English (tests of the Vietnamese default use [`regc_lang`]).
pub fn regc(args: &[&str]) -> std::process::Output {
    regc_lang("en", args)
}

/// Runs the `regc` binary in the repository root, without colour, with
/// `REGC_LANG` set to `lang`.
pub fn regc_lang(lang: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", lang)
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("regc runs")
}

/// Everything a run printed: stdout, then stderr.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// xorshift64*: small, deterministic, enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Copies a folder and everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
