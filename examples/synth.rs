//! Writes a synthetic library: `cargo run --release --example synth -- DIR N`.

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "target/synth".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    if let Err(e) = regc::synth::write_library(std::path::Path::new(&dir), n) {
        eprintln!("error: {dir}: {e}");
        std::process::exit(2);
    }
    println!("wrote {n} synthetic regimes to {dir}");
}
