//! `generated/manifest.json`: what produced `generated/` and from what: the
//! compiler's version, the SHA-256 of every input file and of every output
//! file, and for each regime its version, source and the hash of the inputs
//! its artifacts depend on. Deterministic (sorted, no timestamps), so it
//! changes only when an input, an output or the compiler does.

use crate::ir;
use crate::source::{FileKind, SourceMap};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Serialize)]
pub struct Manifest {
    pub compiler: Compiler,
    pub ir_version: u32,
    /// Every file of the library, by path relative to its root.
    pub inputs: BTreeMap<String, String>,
    pub regimes: Vec<RegimeEntry>,
    /// Every output but the manifest itself, by path relative to `generated/`.
    pub outputs: BTreeMap<String, String>,
}

#[derive(Serialize)]
pub struct Compiler {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct RegimeEntry {
    pub code: String,
    pub version: u32,
    pub source: String,
    /// SHA-256 over the compiler version and the hashes of the files the
    /// regime's artifacts depend on: its own file, the modules of the
    /// library (units, codelists, groups), the data files, and the files of
    /// the regimes its reconciliations read.
    pub inputs_sha256: String,
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of what each regime's artifacts depend on: the compiler
/// version, its own file, the library's shared files (modules, data) and
/// the files of the regimes its reconciliations read.
pub fn regime_input_hashes(lib: &ir::Library, sources: &SourceMap) -> BTreeMap<String, String> {
    let inputs: BTreeMap<String, String> = sources
        .iter()
        .map(|(_, f)| (f.rel.clone(), sha256(f.text.as_bytes())))
        .collect();
    let regime_files: BTreeSet<&str> = lib.regimes.iter().map(|r| r.source.as_str()).collect();
    let shared: Vec<(&String, &String)> = sources
        .iter()
        .filter(|(_, f)| !(f.kind == FileKind::Regime && regime_files.contains(f.rel.as_str())))
        .filter_map(|(_, f)| inputs.get_key_value(&f.rel))
        .collect();
    let source_of: BTreeMap<&str, &str> = lib
        .regimes
        .iter()
        .map(|r| (r.code.as_str(), r.source.as_str()))
        .collect();
    lib.regimes
        .iter()
        .map(|r| {
            let mut files: BTreeSet<&str> = BTreeSet::from([r.source.as_str()]);
            for other in other_regimes(r) {
                if let Some(src) = source_of.get(other.as_str()) {
                    files.insert(src);
                }
            }
            let mut h = Sha256::new();
            h.update(env!("CARGO_PKG_VERSION").as_bytes());
            for f in &files {
                if let Some(hash) = inputs.get(*f) {
                    h.update(f.as_bytes());
                    h.update(hash.as_bytes());
                }
            }
            for (path, hash) in &shared {
                h.update(path.as_bytes());
                h.update(hash.as_bytes());
            }
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            (r.code.clone(), hex)
        })
        .collect()
}

/// The manifest of a build of `lib` from `sources` that writes `outputs`;
/// `hashes`: [`regime_input_hashes`] of the same, which the build computed
/// first to decide what it could reuse.
pub fn manifest<T: AsRef<[u8]> + Sync>(
    lib: &ir::Library,
    sources: &SourceMap,
    hashes: &BTreeMap<String, String>,
    outputs: &[(String, T)],
) -> Manifest {
    let inputs: BTreeMap<String, String> = sources
        .iter()
        .map(|(_, f)| (f.rel.clone(), sha256(f.text.as_bytes())))
        .collect();
    let regimes = lib
        .regimes
        .iter()
        .map(|r| RegimeEntry {
            code: r.code.clone(),
            version: r.version,
            source: r.source.clone(),
            inputs_sha256: hashes.get(&r.code).cloned().unwrap_or_default(),
        })
        .collect();
    Manifest {
        compiler: Compiler {
            name: "regc",
            version: env!("CARGO_PKG_VERSION"),
        },
        ir_version: ir::IR_VERSION,
        inputs,
        regimes,
        outputs: outputs
            .par_iter()
            .map(|(p, bytes)| (p.clone(), sha256(bytes.as_ref())))
            .collect(),
    }
}

/// What a previous build's manifest says, for incremental builds.
#[derive(serde::Deserialize)]
pub struct Previous {
    pub compiler: PreviousCompiler,
    pub regimes: Vec<PreviousRegime>,
    pub outputs: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
pub struct PreviousCompiler {
    pub version: String,
}

#[derive(serde::Deserialize)]
pub struct PreviousRegime {
    pub code: String,
    pub inputs_sha256: String,
}

impl Previous {
    /// The files of `code` that can be reused as they are: the regime's
    /// inputs hash the same, by the same compiler version, and the previous
    /// build wrote the same files ([`crate::emit::REGIME_ARTIFACTS`]) as
    /// this one would. The caller checks that each file still has its
    /// recorded hash. (`regc build --check` never reuses anything.)
    pub fn reusable(&self, r: &ir::Regime, inputs_sha256: &str) -> Option<Vec<(&str, &str)>> {
        let code = r.code.as_str();
        if self.compiler.version != env!("CARGO_PKG_VERSION") {
            return None;
        }
        self.regimes
            .iter()
            .find(|r| r.code == code && r.inputs_sha256 == inputs_sha256)?;
        let prefix = format!("{code}/");
        let files: Vec<(&str, &str)> = self
            .outputs
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix))
            .map(|(p, h)| (p.as_str(), h.as_str()))
            .collect();
        let names: BTreeSet<&str> = files
            .iter()
            .filter_map(|(p, _)| p.strip_prefix(&prefix))
            .collect();
        let forms = crate::emit::forms::artifact_names(r);
        let expected: BTreeSet<&str> = crate::emit::REGIME_ARTIFACTS
            .iter()
            .copied()
            .chain(forms.iter().map(String::as_str))
            .collect();
        (names == expected).then_some(files)
    }
}

/// The regimes a regime's rules read (reconciliations).
fn other_regimes(r: &ir::Regime) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in &r.rules {
        rule.check.walk(&mut |e| {
            if let ir::ExprKind::Cell {
                regime: Some(code), ..
            } = &e.kind
            {
                out.insert(code.clone());
            }
        });
    }
    out
}
