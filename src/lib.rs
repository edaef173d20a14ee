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
//! | formatter | [`fmt`] | `regc fmt`: indentation and whitespace, comments kept, meaning unchanged |
//! | storage layout | [`layout`] | the table and column of every entered cell, per engine |
//! | SQL text | [`sql`] | quoting, naming, and statements checked by sqlparser |
//! | calendar | [`calendar`] | reporting periods, cut-offs and deadlines per level (`calendar.json`, `regc schedule`) |
//! | command line | [`cli`] | `regc check`, `list`, `explain`, `build`, `schedule`, `fmt` |
//!
//! Everything but `source::load_library` and `cli` is pure: data in, data out.

pub mod calendar;
pub mod check;
pub mod cli;
pub mod data;
pub mod db;
pub mod diagnostic;
pub mod emit;
pub mod eval;
pub mod fmt;
pub mod ir;
pub mod lang;
pub mod layout;
pub mod migrate;
pub mod resolve;
pub mod serve;
pub mod source;
pub mod sql;
pub mod submission;
pub mod syntax;
pub mod synth;
pub mod validate;
pub mod value;

use diagnostic::Diagnostics;
use source::{FileKind, SourceMap};

/// The result of compiling a library: the IR (complete as far as the
/// sources allow) and every diagnostic found.
pub struct Compilation {
    pub library: ir::Library,
    pub diagnostics: Diagnostics,
    /// How long each stage took (`regc --timings`).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// The stack of the compiler's threads. Parsing and checking recurse over
/// nested expressions (bounded by `syntax::MAX_NESTING` and
/// `syntax::MAX_TREE_HEIGHT`); a debug build needs several megabytes for
/// the deepest accepted input, more than a default thread has.
const STACK_BYTES: usize = 256 * 1024 * 1024;

/// Compiles every file of `sources`: parse, load data, resolve, check. Runs
/// on threads of its own, with a stack large enough for any accepted input.
pub fn compile(sources: &SourceMap) -> Compilation {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("regc-compile".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, || compile_here(sources))
            .ok()
            .and_then(|h| h.join().ok())
    })
    // A thread could not be started (or panicked, which the panic hook has
    // reported): compile on this thread instead.
    .unwrap_or_else(|| compile_here(sources))
}

fn compile_here(sources: &SourceMap) -> Compilation {
    let mut timings = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, std::time::Duration)>| {
        let now = std::time::Instant::now();
        timings.push((name, now - clock));
        clock = now;
    };
    let mut diags = Diagnostics::new();
    // The data files (14,000 org units) load while the regimes parse.
    let load = || {
        let mut d = Diagnostics::new();
        let data = data::load(sources, &mut d);
        (data, d)
    };
    let (files, (mut data, data_diags)) = std::thread::scope(|scope| {
        let loader = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, load);
        let files = parse_all(sources, &mut diags);
        let data = loader.ok().and_then(|h| h.join().ok()).unwrap_or_else(load);
        (files, data)
    });
    diags.extend(data_diags);
    lap("parse and load data", &mut timings);
    let env = resolve::resolve(&files, &data, &mut diags);
    lap("resolve", &mut timings);
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_BYTES)
        .build();
    let mut library = match pool {
        Ok(pool) => pool.install(|| check::check(&env, sources, &mut diags)),
        Err(_) => check::check(&env, sources, &mut diags),
    };
    lap("check", &mut timings);
    drop(env);
    // The org hierarchy is large (≈ 14,000 units): moved, not copied.
    library.org.editions = std::mem::take(&mut data.editions);
    library.org.mappings = std::mem::take(&mut data.mappings);
    diags.drop_inside_non_ascii_names();
    Compilation {
        library,
        diagnostics: diags,
        timings,
    }
}

/// Parses every `.regime` file, on all cores: files are independent until
/// name resolution. The result (files and diagnostics) is in file order
/// whatever the number of threads.
fn parse_all(sources: &SourceMap, diags: &mut Diagnostics) -> Vec<syntax::ast::File> {
    let regimes: Vec<_> = sources
        .iter()
        .filter(|(_, f)| f.kind == FileKind::Regime)
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    // Small libraries are not worth a thread.
    let chunk = if regimes.len() < 4 {
        regimes.len().max(1)
    } else {
        regimes.len().div_ceil(threads)
    };
    let parse = |part: &[(source::FileId, &source::SourceFile)]| {
        let mut d = Diagnostics::new();
        let files: Vec<_> = part
            .iter()
            .map(|(id, f)| syntax::parse_file(*id, f, &mut d))
            .collect();
        (files, d)
    };
    let results: Vec<(Vec<syntax::ast::File>, Diagnostics)> = std::thread::scope(|scope| {
        let handles: Vec<_> = regimes
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .stack_size(STACK_BYTES)
                    .spawn_scoped(scope, move || parse(part))
            })
            .collect();
        handles
            .into_iter()
            .zip(regimes.chunks(chunk))
            // A thread that could not start, or panicked (a bug), gets its
            // part parsed here, so that a panic surfaces on this thread.
            .map(|(h, part)| {
                h.ok()
                    .and_then(|h| h.join().ok())
                    .unwrap_or_else(|| parse(part))
            })
            .collect()
    });
    let mut files = Vec::with_capacity(regimes.len());
    for (f, d) in results {
        files.extend(f);
        diags.extend(d);
    }
    files
}
