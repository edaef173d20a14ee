//! Checking speed: synthetic libraries of growing size (time should grow
//! linearly), and the real library. Run with `cargo bench --bench check`.

use divan::Bencher;

fn main() {
    divan::main();
}

#[divan::bench(args = [10, 100, 1000], sample_count = 10)]
fn check_synthetic(bencher: Bencher, n: usize) {
    let sources = regc::synth::library(n);
    bencher.bench(|| {
        let c = regc::compile(divan::black_box(&sources));
        assert!(!c.has_errors());
        c.library.regimes.len()
    });
}

#[divan::bench(sample_count = 20)]
fn check_real_library(bencher: Bencher) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regimes");
    bencher.bench(|| {
        let sources = regc::source::load_library(&root).expect("regimes/ is readable");
        regc::compile(&sources).library.regimes.len()
    });
}

/// The whole build of the real library: compile and every artifact (the
/// files are produced in memory, not written).
#[divan::bench(sample_count = 10)]
fn build_real_library(bencher: Bencher) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regimes");
    let sources = regc::source::load_library(&root).expect("regimes/ is readable");
    bencher.bench(|| {
        let c = regc::compile(&sources);
        regc::cli::artifacts(&c.library, &sources, None)
            .expect("artifacts")
            .len()
    });
}
