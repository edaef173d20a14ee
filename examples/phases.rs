//! Times each stage, and each emitter of `regc build` (one thread), on a
//! synthetic library: `cargo run --release --example phases -- N`.
use std::time::Instant;

/// One emitter of `regc build`: the bytes it writes for a regime.
type Emitter<'a> = Box<dyn Fn(&regc::ir::Regime, &regc::layout::RegimeLayout) -> usize + 'a>;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let sources = regc::synth::library(n);
    let t = Instant::now();
    let mut d = regc::diagnostic::Diagnostics::new();
    let files: Vec<_> = sources
        .iter()
        .filter(|(_, f)| f.kind == regc::source::FileKind::Regime)
        .map(|(id, f)| regc::syntax::parse_file(id, f, &mut d))
        .collect();
    println!("parse (1 thread): {:?}", t.elapsed());
    let t = Instant::now();
    let data = regc::data::load(&sources, &mut d);
    let env = regc::resolve::resolve(&files, &data, &mut d);
    println!("data + resolve:   {:?}", t.elapsed());
    let t = Instant::now();
    let lib = regc::check::check(&env, &sources, &mut d);
    println!(
        "check:            {:?} ({} regimes)",
        t.elapsed(),
        lib.regimes.len()
    );
    let t = Instant::now();
    let c = regc::compile(&sources);
    println!(
        "compile (all):    {:?} ({} diagnostics)",
        t.elapsed(),
        c.diagnostics.len()
    );
    let lib = &c.library;
    let days = regc::calendar::WorkingDays::of_library(lib);
    let mut emitters: Vec<(&str, Emitter)> = Vec::new();
    emitters.push((
        "ir.json",
        Box::new(|r, _| serde_json::to_string_pretty(r).map_or(0, |s| s.len())),
    ));
    emitters.push((
        "calendar.json",
        Box::new(|r, _| {
            let cal = regc::calendar::calendar_file(r, regc::calendar::JSON_YEARS, &days);
            serde_json::to_string_pretty(&cal).map_or(0, |s| s.len())
        }),
    ));
    emitters.push((
        "README.md",
        Box::new(|r, _| regc::emit::docs::regime_readme(lib, r).len()),
    ));
    emitters.push((
        "rules.json",
        Box::new(|r, _| {
            serde_json::to_string_pretty(&regc::emit::rules::rules_file(lib, r))
                .map_or(0, |s| s.len())
        }),
    ));
    emitters.push((
        "layout",
        Box::new(|r, _| regc::layout::regime(r).tables.len()),
    ));
    for d in regc::sql::Dialect::ALL {
        let name = |what: &str| -> &'static str { format!("{what}.{}.sql", d.name()).leak() };
        emitters.push((
            name("schema"),
            Box::new(move |r, l| regc::emit::schema::regime(r, l, d).map_or(0, |s| s.len())),
        ));
        emitters.push((
            name("rules"),
            Box::new(move |r, l| regc::emit::rules_sql::rules_sql(r, l, d).map_or(0, |s| s.len())),
        ));
        emitters.push((
            name("aggregate"),
            Box::new(move |r, l| {
                regc::emit::aggregate::aggregate_sql(r, l, d).map_or(0, |s| s.len())
            }),
        ));
    }
    let templates = regc::emit::forms::Templates::new().expect("the built-in templates load");
    emitters.push((
        "forms",
        Box::new(move |r, _| {
            regc::emit::forms::regime_files(lib, r, &templates)
                .map_or(0, |f| f.iter().map(|(_, t)| t.len()).sum())
        }),
    ));
    emitters.push((
        "xlsx",
        Box::new(|r, _| {
            regc::emit::xlsx::regime_files(lib, r)
                .map_or(0, |f| f.iter().map(|(_, b)| b.len()).sum())
        }),
    ));
    let layouts: Vec<_> = lib.regimes.iter().map(regc::layout::regime).collect();
    for (name, emit) in &emitters {
        let t = Instant::now();
        let bytes: usize = lib
            .regimes
            .iter()
            .zip(&layouts)
            .map(|(r, l)| emit(r, l))
            .sum();
        println!(
            "emit {name:<22} {:>10.1?} {:>6.1} MB",
            t.elapsed(),
            bytes as f64 / 1e6
        );
    }
}
