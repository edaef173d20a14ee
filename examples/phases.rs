//! Times each stage on a synthetic library: `cargo run --release --example phases -- N`.
use std::time::Instant;

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
}
