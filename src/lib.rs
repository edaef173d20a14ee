//! regc: a compiler for government reporting regimes.
//!
//! The pipeline (one module per stage, data flowing one way; see
//! `ARCHITECTURE.md`):
//!
//! | stage | module | produces |
//! |---|---|---|
//! | source loading | [`source`] | a [`source::SourceMap`] of `.regime` and `.yaml` files |
//! | syntax | [`syntax`] | an [`syntax::ast::File`] per `.regime` file, with spans |
//! | data | [`data`] | a [`data::DataSet`] from the YAML files |
//! | name resolution | [`resolve`] | an [`resolve::Env`]: scopes, regimes, forms, flattened rows |
//! | type checking | [`check`] | the typed IR, an [`ir::Library`] |
//! | diagnostics | [`diagnostic`] | coded, spanned problems, rendered at the edge |
//! | command line | [`cli`] | `regc check`, `list`, `explain`, `build` |
//!
//! Everything but `source::load_library` and `cli` is pure: data in, data out.

pub mod check;
pub mod cli;
pub mod data;
pub mod diagnostic;
pub mod ir;
pub mod resolve;
pub mod source;
pub mod syntax;
pub mod synth;

use diagnostic::Diagnostics;
use source::{FileKind, SourceMap};

/// The result of compiling a library: the IR (complete as far as the
/// sources allow) and every diagnostic found.
pub struct Compilation {
    pub library: ir::Library,
    pub diagnostics: Diagnostics,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Compiles every file of `sources`: parse, load data, resolve, check.
pub fn compile(sources: &SourceMap) -> Compilation {
    let mut diags = Diagnostics::new();
    let files: Vec<syntax::ast::File> = sources
        .iter()
        .filter(|(_, f)| f.kind == FileKind::Regime)
        .map(|(id, f)| syntax::parse_file(id, f, &mut diags))
        .collect();
    let mut data = data::load(sources, &mut diags);
    let env = resolve::resolve(&files, &data, &mut diags);
    let mut library = check::check(&env, sources, &mut diags);
    drop(env);
    // The org hierarchy is large (≈ 14,000 units): moved, not copied.
    library.org.editions = std::mem::take(&mut data.editions);
    library.org.mappings = std::mem::take(&mut data.mappings);
    Compilation {
        library,
        diagnostics: diags,
    }
}
