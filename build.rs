//! Sets `REGC_BUILD_ID`: a hash of the compiler's own sources (src/,
//! grammar/, Cargo.lock). An incremental `regc build` reuses a regime's
//! previous artifacts only if they were written by a compiler with the same
//! id, so that a changed emitter never leaves stale files behind.

use sha2::{Digest, Sha256};
use std::path::Path;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let mut all = Vec::new();
    for dir in ["src", "grammar"] {
        println!("cargo:rerun-if-changed={dir}");
        files(Path::new(dir), &mut all);
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    all.push("Cargo.lock".into());
    all.sort();
    let mut h = Sha256::new();
    for path in &all {
        h.update(path.to_string_lossy().as_bytes());
        h.update(std::fs::read(path).unwrap_or_default());
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=REGC_BUILD_ID={hex}");
}
