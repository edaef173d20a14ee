//! The command line: the only place that reads arguments, touches the file
//! system (through [`crate::source`]) and prints.
//!
//! Exit codes: 0 success (warnings allowed), 1 the regimes have errors,
//! 2 usage or IO errors. A panic is a bug in regc and says so.

use crate::diagnostic::{Code, Lang, Text, render};
use crate::ir;
use crate::source::{self, SourceFile, SourceMap};
use crate::tr;
use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

// Output that never panics: a closed pipe (`regc list | head -1`) or a full
// disk ends the output, not the process.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}
macro_rules! err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr().lock(), $($t)*);
    }};
}

mod data;
mod rollup;

#[derive(Parser, Debug)]
#[command(
    name = "regc",
    version,
    about = "Compiles government reporting regimes into schemas, rules, forms and roll-ups"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour in diagnostics: auto (when printing to a terminal), always, never.
    #[arg(long, global = true, default_value = "auto")]
    pub color: ColorChoice,
    /// Print how long each compiler stage took.
    #[arg(long, global = true)]
    pub timings: bool,
    /// The language of messages: vi (Vietnamese, the default) or en;
    /// without it, the environment variable REGC_LANG.
    #[arg(long, global = true, value_name = "LANG")]
    pub lang: Option<LangChoice>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LangChoice {
    Vi,
    En,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check regimes and report every problem found.
    Check {
        /// Library folders or regime files (default: regimes/).
        paths: Vec<PathBuf>,
        #[arg(long, default_value = "human")]
        format: DiagFormat,
        /// Fail (exit 1) on warnings too, as CI gates often want.
        #[arg(long)]
        deny_warnings: bool,
        /// Where the diagnostics' explanations are published (SARIF
        /// `helpUri`: URL/CODE.md); default: docs/diagnostics of this regc's
        /// sources.
        #[arg(long, value_name = "URL")]
        docs_url: Option<String>,
    },
    /// List the regimes of a library.
    List {
        /// Library folders (default: regimes/).
        paths: Vec<PathBuf>,
        #[arg(long, default_value = "table")]
        format: ListFormat,
    },
    /// Explain a diagnostic code, with an example and its fix.
    Explain {
        /// A code such as E0304.
        code: String,
    },
    /// Compile the library and write the generated artifacts.
    Build {
        /// Library folders (default: regimes/).
        paths: Vec<PathBuf>,
        /// Where to write the artifacts.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
        /// Write the typed IR as JSON into this folder instead.
        #[arg(long, value_name = "DIR")]
        ir: Option<PathBuf>,
        /// Write nothing; exit 1 listing every file that differs from what
        /// a build would write.
        #[arg(long)]
        check: bool,
        #[arg(long, default_value = "human")]
        format: DiagFormat,
        /// Render the forms with the templates of this folder: a file named
        /// like a default template (form.html, grid.html, records.html)
        /// replaces it (docs/forms.md).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Fail (exit 1, writing nothing) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Print a regime's reporting periods and the deadline of each level.
    Schedule {
        /// The regime's code, e.g. transport.seaport_cargo.
        regime: String,
        /// Library folders (default: regimes/).
        paths: Vec<PathBuf>,
        /// The year (default: the current year).
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "table")]
        format: ScheduleFormat,
    },
    /// Load submissions (CSV, long or wide) into a database, in one
    /// transaction: all of them or, on any bad row, none.
    Import {
        /// The regime's code, e.g. transport.seaport_cargo.
        regime: String,
        /// Files of submissions: CSV (long or wide), Excel workbooks
        /// (.xlsx, .xls, .ods: the first sheet, laid out like a CSV file) or
        /// JSON submission sets.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// sqlite:PATH or postgres://USER@HOST/DB.
        #[arg(long, default_value = crate::db::DEFAULT_DB)]
        db: String,
        /// The library folder.
        #[arg(long, default_value = "regimes")]
        lib: PathBuf,
        /// The status the new revisions get.
        #[arg(long, default_value = "submitted")]
        status: SubmissionStatus,
        /// Who submitted them, recorded with each revision.
        #[arg(long)]
        submitter: Option<String>,
        /// Store submissions that break error-severity rules anyway
        /// (flagged, with the rules they break); without it such a file is
        /// refused unless `--status draft`.
        #[arg(long)]
        force: bool,
        #[arg(long, default_value = "human")]
        format: ReportFormat,
    },
    /// Check submissions against every rule of a regime and report each
    /// violation; exit 1 if any has error severity.
    Validate {
        /// The regime's code, e.g. transport.seaport_cargo.
        regime: String,
        /// Files of submissions: CSV (long or wide), Excel workbooks or
        /// JSON submission sets, as for `regc import`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A database (sqlite:PATH or postgres://…) of earlier submissions,
        /// read by rules on other periods (@previous, year to date).
        #[arg(long)]
        history: Option<String>,
        /// The library folder.
        #[arg(long, default_value = "regimes")]
        lib: PathBuf,
        #[arg(long, default_value = "human")]
        format: ValidateFormat,
    },
    /// Print the SQL that moves a database from one version of a regime
    /// to another. Refuses changes that would lose data (E0601–E0604)
    /// unless --allow-destructive.
    Migrate {
        /// The old version: a .regime file (compiled within --lib in place
        /// of the library's file of the same regime) or a library folder.
        old: PathBuf,
        /// The new version, likewise.
        new: PathBuf,
        /// The library the files belong to.
        #[arg(long, default_value = "regimes")]
        lib: PathBuf,
        /// Which regime, when OLD and NEW are folders or declare several.
        #[arg(long)]
        regime: Option<String>,
        /// Which engine's script to print.
        #[arg(long, default_value = "postgres")]
        dialect: SqlDialect,
        /// Write migrate.postgres.sql and migrate.sqlite.sql into this
        /// folder instead of printing one.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Drop forms and cells and narrow types that hold data.
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Roll a regime's stored submissions up the org hierarchy and over
    /// time (or count expected, received and on-time reports) with the
    /// generated aggregation SQL, and print the result.
    Rollup {
        /// The regime's code, e.g. transport.seaport_cargo.
        regime: String,
        /// sqlite:PATH or postgres://USER@HOST/DB.
        #[arg(long, default_value = crate::db::DEFAULT_DB)]
        db: String,
        /// Only units of this level or unit type (province, commune, …).
        #[arg(long)]
        level: Option<String>,
        /// Only this period: 2025-03, 2025-Q1, 2025-H1, 2025-9M, 2025, …
        #[arg(long)]
        period: Option<String>,
        /// Only this grid form.
        #[arg(long)]
        form: Option<String>,
        /// Every period over the newest edition of the hierarchy, units of
        /// older editions placed by the mapping (a series comparable across
        /// a reform).
        #[arg(long)]
        comparable: bool,
        /// Expected, received and on-time reports instead of values.
        #[arg(long, conflicts_with = "reconcile")]
        completeness: bool,
        /// The units and periods where a reconciliation rule's two sources
        /// disagree beyond its tolerance.
        #[arg(long)]
        reconcile: bool,
        /// The library folder.
        #[arg(long, default_value = "regimes")]
        lib: PathBuf,
        #[arg(long, default_value = "table")]
        format: RollupFormat,
        /// Write to this file instead of the standard output (required by
        /// `--format xlsx`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the reporting portal: an HTTP server where units log in,
    /// submit their reports, approve the level below and see roll-ups
    /// (docs/serve.md). With --create-user, add a user and exit.
    Serve {
        /// Library folders (default: regimes/).
        paths: Vec<PathBuf>,
        /// sqlite:PATH or postgres://USER@HOST/DB.
        #[arg(long, default_value = crate::db::DEFAULT_DB)]
        db: String,
        /// The address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Add a user with this name (the password is read from the
        /// REGC_PASSWORD variable, else from the first line of standard
        /// input) and exit.
        #[arg(long, value_name = "NAME", requires_all = ["unit", "role"])]
        create_user: Option<String>,
        /// The new user's org unit (a code of the library's org data).
        #[arg(long, requires = "create_user")]
        unit: Option<String>,
        /// The new user's role: reporter, approver, viewer or admin.
        #[arg(long, requires = "create_user")]
        role: Option<String>,
        /// How long a session lasts, in minutes.
        #[arg(long, default_value_t = 480)]
        session_minutes: u64,
        /// Send cookies without `Secure`, for a server reached over plain
        /// HTTP from another machine (browsers keep `Secure` cookies over
        /// HTTP on localhost only). Put TLS in front instead where you can.
        #[arg(long)]
        insecure_cookies: bool,
    },
    /// Format regime files in place (indentation and whitespace only).
    Fmt {
        /// Regime files or folders, searched recursively for `.regime`
        /// files (default: regimes/).
        paths: Vec<PathBuf>,
        /// Write nothing; exit 1 listing the files that would change.
        #[arg(long)]
        check: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollupFormat {
    /// One line per value: period, unit, cell, value.
    Table,
    /// One row per unit and period, a column per cell.
    Csv,
    Json,
    /// An Excel workbook: a sheet per form, period and unit in the form's
    /// paper layout (needs `--out`).
    Xlsx,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleFormat {
    Table,
    Json,
    Ics,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagFormat {
    Human,
    Json,
    /// SARIF 2.1.0, for code-scanning interfaces.
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidateFormat {
    Human,
    Json,
    Csv,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlDialect {
    Postgres,
    Sqlite,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Human,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmissionStatus {
    Draft,
    Submitted,
    Approved,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Runs regc with the process arguments; returns the exit code.
pub fn main() -> i32 {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    run(cli)
}

pub fn run(cli: Cli) -> i32 {
    TIMINGS.store(cli.timings, std::sync::atomic::Ordering::Relaxed);
    let lang = match cli.lang {
        Some(LangChoice::Vi) => Lang::Vi,
        Some(LangChoice::En) => Lang::En,
        None => std::env::var("REGC_LANG")
            .ok()
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default(),
    };
    LANG_EN.store(lang == Lang::En, std::sync::atomic::Ordering::Relaxed);
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
            docs_url,
        } => {
            let docs = docs_url.unwrap_or_else(default_docs_url);
            check(&paths, format, deny_warnings, &docs, color)
        }
        Command::List { paths, format } => list(&paths, format, color),
        Command::Explain { code } => explain(&code),
        Command::Build {
            paths,
            out,
            ir,
            check,
            format,
            templates,
            deny_warnings,
        } => build(
            &paths,
            &out,
            BuildOptions {
                ir_dir: ir.as_deref(),
                check,
                templates: templates.as_deref(),
                deny_warnings,
            },
            format,
            color,
        ),
        Command::Schedule {
            regime,
            paths,
            year,
            format,
        } => schedule(&regime, &paths, year, format, color),
        Command::Fmt { paths, check } => fmt(&paths, check, color),
        Command::Rollup {
            regime,
            db,
            level,
            period,
            form,
            comparable,
            completeness,
            reconcile,
            lib,
            format,
            out,
        } => rollup::rollup(
            &rollup::RollupArgs {
                regime,
                db,
                lib,
                query: crate::db::rollup::Query {
                    form,
                    level,
                    period,
                    comparable,
                },
                completeness,
                reconcile,
                format,
                out,
            },
            color,
        ),
        Command::Validate {
            regime,
            files,
            history,
            lib,
            format,
        } => data::validate(&regime, &files, history.as_deref(), &lib, format, color),
        Command::Migrate {
            old,
            new,
            lib,
            regime,
            dialect,
            out,
            allow_destructive,
        } => data::migrate(
            &data::MigrateArgs {
                old,
                new,
                lib,
                regime,
                dialect: match dialect {
                    SqlDialect::Postgres => crate::sql::Dialect::Postgres,
                    SqlDialect::Sqlite => crate::sql::Dialect::Sqlite,
                },
                out,
                allow_destructive,
            },
            color,
        ),
        Command::Serve {
            paths,
            db,
            listen,
            create_user,
            unit,
            role,
            session_minutes,
            insecure_cookies,
        } => serve(
            &paths,
            &db,
            listen,
            create_user.zip(unit).zip(role),
            session_minutes,
            insecure_cookies,
            color,
        ),
        Command::Import {
            regime,
            files,
            db,
            lib,
            status,
            submitter,
            force,
            format,
        } => data::import(
            &data::ImportArgs {
                regime,
                files,
                db,
                lib,
                status: match status {
                    SubmissionStatus::Draft => "draft",
                    SubmissionStatus::Submitted => "submitted",
                    SubmissionStatus::Approved => "approved",
                }
                .to_string(),
                submitter,
                force,
                json: format == ReportFormat::Json,
            },
            color,
        ),
    }
}

/// `regc serve`, and `regc serve --create-user`.
fn serve(
    paths: &[PathBuf],
    db: &str,
    listen: String,
    create: Option<((String, String), String)>,
    session_minutes: u64,
    insecure_cookies: bool,
    color: bool,
) -> i32 {
    let target = match crate::db::Target::parse(db) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let sources = match load(paths) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let c = crate::compile(&sources);
    if c.has_errors() {
        print_diagnostics(&c, &sources, DiagFormat::Human, color);
        errln!(
            "error: the library has {} error(s); fix them first",
            c.diagnostics.error_count()
        );
        return 1;
    }
    if let Some(((name, unit), role)) = create {
        let password = match std::env::var("REGC_PASSWORD") {
            Ok(p) => p,
            Err(_) => {
                let mut line = String::new();
                if let Err(e) = std::io::stdin().read_line(&mut line) {
                    return usage_error(&format!("cannot read the password: {e}"));
                }
                line.trim_end_matches(['\r', '\n']).to_string()
            }
        };
        return match crate::serve::create_user(c.library, &target, &name, &unit, &role, &password) {
            Ok(()) => {
                outln!("created user {name} ({role} of {unit}) in {target}");
                0
            }
            Err(e) => usage_error(&e),
        };
    }
    let mut config = crate::serve::Config::new(target.clone(), listen);
    config.session = std::time::Duration::from_secs(session_minutes.saturating_mul(60));
    config.secure_cookies = !insecure_cookies;
    let regimes = c.library.regimes.len();
    match crate::serve::run(c.library, config, |addr| {
        outln!("regc serve: {regimes} regime(s), {target}, listening on http://{addr}");
    }) {
        Ok(()) => 0,
        Err(e) => usage_error(&e),
    }
}

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        errln!(
            "internal error: regc {} crashed. This is a bug in regc, not in your regime.\n\
             Please report it with the input that caused it.\n\n{info}",
            env!("CARGO_PKG_VERSION")
        );
    }));
}

/// Loads the sources named on the command line: each path is a library
/// folder, or a file (its library is the nearest folder above with a
/// library.yaml; a file outside any library is compiled alone).
fn load(paths: &[PathBuf]) -> Result<SourceMap, String> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        let default = PathBuf::from("regimes");
        if !default.is_dir() {
            return Err("no paths given and there is no regimes/ folder here".into());
        }
        vec![default]
    } else {
        paths.to_vec()
    };
    let mut map = SourceMap::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    for p in &paths {
        if !p.exists() {
            return Err(format!("{}: no such file or folder", p.display()));
        }
        let root = source::find_root(p);
        let in_library = root.join(source::LIBRARY_MANIFEST).is_file();
        if p.is_file() && !in_library {
            let rel = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            map.add(source::read_file(p, rel).map_err(|e| e.to_string())?);
            continue;
        }
        if roots.contains(&root) {
            continue;
        }
        let lib = source::load_library(&root).map_err(|e| e.to_string())?;
        for (_, f) in lib.iter() {
            map.add(f.clone());
        }
        roots.push(root);
    }
    Ok(map)
}

fn print_timings(c: &crate::Compilation) {
    if TIMINGS.load(std::sync::atomic::Ordering::Relaxed) {
        for (stage, t) in &c.timings {
            errln!("{stage:>8}: {:.1} ms", t.as_secs_f64() * 1000.0);
        }
    }
}

static TIMINGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// English was asked for (`--lang en`, `REGC_LANG=en`); Vietnamese otherwise.
static LANG_EN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The language messages are printed in.
pub(crate) fn lang() -> Lang {
    if LANG_EN.load(std::sync::atomic::Ordering::Relaxed) {
        Lang::En
    } else {
        Lang::Vi
    }
}

fn print_diagnostics(c: &crate::Compilation, sources: &SourceMap, format: DiagFormat, color: bool) {
    print_timings(c);
    match format {
        DiagFormat::Json => outln!("{}", render::json_all(&c.diagnostics, sources, lang())),
        DiagFormat::Sarif => outln!(
            "{}",
            render::sarif_all(&c.diagnostics, sources, &default_docs_url(), lang())
        ),
        DiagFormat::Human => {
            let text = render::human_all(&c.diagnostics, sources, lang(), color);
            if !text.is_empty() {
                err!("{text}");
            }
        }
    }
}

/// The explanations of the codes in this regc's own sources (a `file:`
/// URL), for SARIF viewers when no published address is given.
fn default_docs_url() -> String {
    format!(
        "file://{}/docs/diagnostics",
        env!("CARGO_MANIFEST_DIR").replace('\\', "/")
    )
}

fn check(
    paths: &[PathBuf],
    format: DiagFormat,
    deny_warnings: bool,
    docs_url: &str,
    color: bool,
) -> i32 {
    let sources = match load(paths) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let c = crate::compile(&sources);
    match format {
        DiagFormat::Sarif => outln!(
            "{}",
            render::sarif_all(&c.diagnostics, &sources, docs_url, lang())
        ),
        _ => print_diagnostics(&c, &sources, format, color),
    }
    if format == DiagFormat::Human {
        let files = sources
            .iter()
            .filter(|(_, f)| f.kind == source::FileKind::Regime)
            .count();
        errln!(
            "{}",
            summary(
                c.library.regimes.len(),
                files,
                c.diagnostics.error_count(),
                c.diagnostics.warning_count()
            )
            .get(lang())
        );
    }
    let denied = deny_warnings && c.diagnostics.warning_count() > 0;
    if denied && format == DiagFormat::Human {
        errln!(
            "{}",
            tr!(
                "error: warnings are denied (--deny-warnings)",
                "lỗi: không chấp nhận cảnh báo (--deny-warnings)"
            )
            .get(lang())
        );
    }
    let code = i32::from(c.has_errors() || denied);
    // The process ends now: freeing thousands of org units one by one would
    // only delay the exit.
    std::mem::forget(c);
    code
}

/// The last line of `regc check`.
pub(crate) fn summary(regimes: usize, files: usize, errors: usize, warnings: usize) -> Text {
    tr!(
        "checked {} regime(s) in {} file(s): {} error(s), {} warning(s)",
        "đã kiểm tra {} chế độ báo cáo trong {} tệp: {} lỗi, {} cảnh báo",
        regimes,
        files,
        errors,
        warnings
    )
}

/// The regime `code` of `lib`; if there is none, says so (with the
/// nearest code) and gives `None`.
fn find_regime<'a>(lib: &'a ir::Library, code: &str) -> Option<&'a ir::Regime> {
    let found = lib.regimes.iter().find(|r| r.code == code);
    if found.is_none() {
        errln!(
            "{}",
            tr!(
                "error: there is no regime `{code}`; {}",
                "lỗi: không có chế độ báo cáo `{code}`; {}",
                crate::diagnostic::did_you_mean(
                    code,
                    tr!("regime", "chế độ báo cáo"),
                    lib.regimes.iter().map(|r| r.code.as_str())
                )
            )
            .get(lang())
        );
    }
    found
}

/// A field of a CSV file regc writes, safe to open in a spreadsheet: one
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be
/// read as a formula (CSV injection), so it gets a leading `'`, as OWASP
/// recommends; a plain number (`-12.5`) is no formula and stays as it is.
pub(crate) fn csv_field(field: &str) -> std::borrow::Cow<'_, str> {
    let risky = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = field.strip_prefix('-').is_some_and(|rest| {
        let (int, frac) = rest.split_once('.').unwrap_or((rest, "0"));
        !int.is_empty()
            && !frac.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
    });
    if risky && !number {
        std::borrow::Cow::Owned(format!("'{field}"))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

fn usage_error(message: &str) -> i32 {
    errln!("error: {message}");
    2
}

/// A row of `regc list`.
#[derive(serde::Serialize)]
struct ListEntry<'a> {
    code: &'a str,
    title: &'a str,
    owner: &'a str,
    basis: &'a str,
    frequency: &'static str,
    version: u32,
    forms: Vec<&'a str>,
    cells: usize,
    rules: usize,
    source: &'a str,
}

fn list(paths: &[PathBuf], format: ListFormat, color: bool) -> i32 {
    let sources = match load(paths) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let c = crate::compile(&sources);
    if c.has_errors() {
        print_diagnostics(&c, &sources, DiagFormat::Human, color);
    }
    let entries: Vec<ListEntry<'_>> = c
        .library
        .regimes
        .iter()
        .map(|r| ListEntry {
            code: &r.code,
            title: r.titles.get("vi").map(String::as_str).unwrap_or(""),
            owner: &r.owner,
            basis: &r.basis,
            frequency: r.frequency.name(),
            version: r.version,
            forms: r.forms.iter().map(|f| f.code.as_str()).collect(),
            cells: r.forms.iter().map(|f| f.cells.len()).sum(),
            rules: r.rules.len(),
            source: &r.source,
        })
        .collect();
    match format {
        ListFormat::Json => match serde_json::to_string_pretty(&entries) {
            Ok(s) => outln!("{s}"),
            Err(e) => return usage_error(&e.to_string()),
        },
        ListFormat::Table => {
            let mut rows = vec![[
                "code".to_string(),
                "owner".into(),
                "frequency".into(),
                "version".into(),
                "forms".into(),
                "cells".into(),
                "rules".into(),
            ]];
            for e in &entries {
                rows.push([
                    e.code.to_string(),
                    e.owner.to_string(),
                    e.frequency.to_string(),
                    e.version.to_string(),
                    e.forms.join(","),
                    e.cells.to_string(),
                    e.rules.to_string(),
                ]);
            }
            out!("{}", crate::calendar::text_table(&rows));
        }
    }
    i32::from(c.has_errors())
}

fn explain(code: &str) -> i32 {
    match Code::parse(code) {
        Some(c) => {
            let lang = lang();
            outln!(
                "{} ({}): {}\n",
                c.as_str(),
                render::severity_word(c.severity(), lang),
                c.title_in(lang)
            );
            out!("{}", c.explanation_in(lang));
            0
        }
        None => {
            let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            errln!(
                "{}",
                tr!(
                    "error: `{code}` is not a regc diagnostic code; {}",
                    "lỗi: `{code}` không phải là mã chẩn đoán của regc; {}",
                    crate::diagnostic::did_you_mean(code, tr!("code", "mã"), all.iter().copied())
                )
                .get(lang())
            );
            2
        }
    }
}

/// What `library.json` holds: everything of the IR but the regimes (each
/// has its own file) and the org units (in `org.json` of `--ir`).
#[derive(serde::Serialize)]
struct LibraryFile<'a> {
    ir_version: u32,
    regimes: Vec<&'a str>,
    codelists: &'a [ir::Codelist],
    units: &'a [ir::UnitOfMeasure],
    org: &'a ir::Org,
    holidays: &'a [crate::data::Holiday],
    working_weekends: &'a [chrono::NaiveDate],
}

fn library_file(lib: &ir::Library) -> LibraryFile<'_> {
    LibraryFile {
        ir_version: lib.ir_version,
        regimes: lib.regimes.iter().map(|r| r.code.as_str()).collect(),
        codelists: &lib.codelists,
        units: &lib.units,
        org: &lib.org,
        holidays: &lib.holidays,
        working_weekends: &lib.working_weekends,
    }
}

/// The text files a build writes, as (relative path, contents), sorted
/// (the Excel templates left out: [`artifacts_with`] has every file).
/// `previous`: the folder of an earlier build; a regime whose inputs hash
/// the same as its manifest says, and whose files there are intact, is not
/// emitted again: its files are read back (the output is the same as a full
/// build's, which tests/cli.rs asserts).
pub fn artifacts(
    lib: &ir::Library,
    sources: &SourceMap,
    previous: Option<&Path>,
) -> Result<Vec<(String, String)>, String> {
    let files = artifacts_with(
        lib,
        sources,
        previous,
        &crate::emit::forms::Templates::new()?,
        &indicatif::ProgressBar::hidden(),
    )?;
    Ok(files
        .into_iter()
        .filter(|(p, _)| !p.ends_with(".xlsx"))
        .filter_map(|(p, bytes)| Some((p, String::from_utf8(bytes).ok()?)))
        .collect())
}

/// A file of `generated/`: its path and bytes.
pub type Artifact = (String, Vec<u8>);

/// [`artifacts`] with the forms rendered from `templates`; `progress`
/// advances by one as each regime is done.
pub fn artifacts_with(
    lib: &ir::Library,
    sources: &SourceMap,
    previous: Option<&Path>,
    templates: &crate::emit::forms::Templates,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<Artifact>, String> {
    let mut out = Vec::new();
    let days = crate::calendar::WorkingDays::of_library(lib);
    let hashes = crate::emit::manifest::regime_input_hashes(lib, sources);
    let old: Option<crate::emit::manifest::Previous> = previous
        .and_then(|dir| std::fs::read_to_string(dir.join("manifest.json")).ok())
        .and_then(|text| serde_json::from_str(&text).ok());
    // Regimes are independent: emitted in parallel, then sorted below, so
    // the order of the work never shows in the output.
    let emitted = lib
        .regimes
        .par_iter()
        .map(|r| {
            let reuse = old.as_ref().zip(previous);
            let files = regime_artifacts(lib, r, &days, reuse, hashes.get(&r.code), templates);
            progress.inc(1);
            files
        })
        .collect::<Result<Vec<_>, String>>()?;
    out.push(("forms.css".to_string(), crate::emit::forms::CSS.to_string()));
    out.push(("forms.js".to_string(), crate::emit::forms::script()));
    out.push((
        "rules.schema.json".to_string(),
        crate::emit::rules::SCHEMA.to_string(),
    ));
    out.push(("rules.js".to_string(), crate::emit::rules::JS.to_string()));
    for d in crate::sql::Dialect::ALL {
        let sql = crate::emit::schema::core(lib, d).map_err(|e| e.to_string())?;
        out.push((format!("core.schema.{}.sql", d.name()), sql));
    }
    out.push((
        "library.json".to_string(),
        erased::Json::to_json(&library_file(lib))?,
    ));
    out.push(("index.md".to_string(), crate::emit::docs::index(lib)));
    let mut out: Vec<Artifact> = out
        .into_iter()
        .map(|(p, text)| (p, text.into_bytes()))
        .chain(emitted.into_iter().flatten())
        .collect();
    out.sort();
    let manifest = crate::emit::manifest::manifest(lib, sources, &hashes, &out);
    out.push((
        "manifest.json".to_string(),
        erased::Json::to_json(&manifest)?.into_bytes(),
    ));
    out.sort();
    Ok(out)
}

/// The artifacts of one regime: read back from the previous tree when its
/// manifest says the regime's inputs are unchanged (and the files there are
/// still the ones it lists), else emitted.
fn regime_artifacts(
    lib: &ir::Library,
    r: &ir::Regime,
    days: &crate::calendar::WorkingDays,
    previous: Option<(&crate::emit::manifest::Previous, &Path)>,
    hash: Option<&String>,
    templates: &crate::emit::forms::Templates,
) -> Result<Vec<Artifact>, String> {
    let reused = previous.zip(hash).and_then(|((old, dir), hash)| {
        let files = old.reusable(r, hash)?;
        files
            .into_iter()
            .map(|(path, hash)| {
                let bytes = std::fs::read(dir.join(path)).ok()?;
                (crate::emit::manifest::sha256(&bytes) == hash).then(|| (path.to_string(), bytes))
            })
            .collect::<Option<Vec<_>>>()
    });
    if let Some(files) = reused {
        return Ok(files);
    }
    let mut out = Vec::new();
    out.push((format!("{}/ir.json", r.code), erased::Json::to_json(r)?));
    let cal = crate::calendar::calendar_file(r, crate::calendar::JSON_YEARS, days);
    out.push((
        format!("{}/calendar.json", r.code),
        erased::Json::to_json(&cal)?,
    ));
    out.push((
        format!("{}/README.md", r.code),
        crate::emit::docs::regime_readme(lib, r),
    ));
    out.push((
        format!("{}/rules.json", r.code),
        erased::Json::to_json(&crate::emit::rules::rules_file(lib, r))?,
    ));
    let layout = crate::layout::regime(r);
    for d in crate::sql::Dialect::ALL {
        let sql = crate::emit::schema::regime(r, &layout, d).map_err(|e| e.to_string())?;
        out.push((format!("{}/schema.{}.sql", r.code, d.name()), sql));
        let sql = crate::emit::rules_sql::rules_sql(r, &layout, d).map_err(|e| e.to_string())?;
        out.push((format!("{}/rules.{}.sql", r.code, d.name()), sql));
        let sql =
            crate::emit::aggregate::aggregate_sql(r, &layout, d).map_err(|e| e.to_string())?;
        out.push((format!("{}/aggregate.{}.sql", r.code, d.name()), sql));
        let sql =
            crate::emit::aggregate::reconcile_sql(r, &layout, d).map_err(|e| e.to_string())?;
        out.push((format!("{}/reconcile.{}.sql", r.code, d.name()), sql));
    }
    out.extend(crate::emit::forms::regime_files(lib, r, templates)?);
    Ok(out
        .into_iter()
        .map(|(p, text)| (p, text.into_bytes()))
        .chain(crate::emit::xlsx::regime_files(lib, r)?)
        .collect())
}

/// The IR dump of `regc build --ir`: one file per regime, the library
/// (codelists, units, levels, holidays) and the org hierarchy.
pub fn ir_files(lib: &ir::Library) -> Result<Vec<(String, String)>, String> {
    #[derive(serde::Serialize)]
    struct OrgDump<'a> {
        editions: &'a [crate::data::Edition],
        mappings: &'a [crate::data::Mapping],
    }
    let mut out = Vec::new();
    for r in &lib.regimes {
        out.push((format!("{}.json", r.code), erased::Json::to_json(r)?));
    }
    out.push((
        "library.json".to_string(),
        erased::Json::to_json(&library_file(lib))?,
    ));
    let org = OrgDump {
        editions: &lib.org.editions,
        mappings: &lib.org.mappings,
    };
    out.push(("org.json".to_string(), erased::Json::to_json(&org)?));
    out.sort();
    Ok(out)
}

mod erased {
    pub trait Json {
        fn to_json(&self) -> Result<String, String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Result<String, String> {
            serde_json::to_string_pretty(self)
                .map(|mut s| {
                    s.push('\n');
                    s
                })
                .map_err(|e| e.to_string())
        }
    }
}

/// What `regc build` writes, and from which templates.
struct BuildOptions<'a> {
    ir_dir: Option<&'a Path>,
    check: bool,
    templates: Option<&'a Path>,
    deny_warnings: bool,
}

fn build(
    paths: &[PathBuf],
    out: &Path,
    options: BuildOptions,
    format: DiagFormat,
    color: bool,
) -> i32 {
    let BuildOptions {
        ir_dir,
        check,
        templates,
        deny_warnings,
    } = options;
    // Templates of a folder are not among the hashed inputs: no reuse, and
    // the next build may not reuse this one's forms either.
    let custom = templates.is_some();
    let templates_dir = templates;
    let templates = match templates {
        Some(dir) => crate::emit::forms::Templates::from_dir(dir),
        None => crate::emit::forms::Templates::new(),
    };
    let templates = match templates {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    if !check {
        let target = ir_dir.unwrap_or(out);
        let mut inputs: Vec<PathBuf> = if paths.is_empty() {
            vec![PathBuf::from("regimes")]
        } else {
            paths.to_vec()
        };
        inputs.extend(templates_dir.map(Path::to_path_buf));
        if let Err(e) = may_replace(target, &inputs, ir_dir.is_some()) {
            return usage_error(&e);
        }
    }
    // A spinner on a terminal (indicatif draws nothing when stderr is not
    // one, so CI logs stay clean).
    let progress = indicatif::ProgressBar::new_spinner();
    progress.enable_steady_tick(std::time::Duration::from_millis(100));
    progress.set_message("reading the library");
    let sources = match load(paths) {
        Ok(s) => s,
        Err(e) => {
            progress.finish_and_clear();
            return usage_error(&e);
        }
    };
    progress.set_message(format!("compiling {} files", sources.len()));
    let c = crate::compile(&sources);
    progress.finish_and_clear();
    print_diagnostics(&c, &sources, format, color);
    if c.has_errors() {
        errln!(
            "build failed: {} error(s); nothing was written",
            c.diagnostics.error_count()
        );
        return 1;
    }
    if deny_warnings && c.diagnostics.warning_count() > 0 {
        errln!(
            "build failed: {} warning(s), denied by --deny-warnings; nothing was written",
            c.diagnostics.warning_count()
        );
        return 1;
    }
    let (dir, files) = match ir_dir {
        Some(d) => (
            d,
            ir_files(&c.library).map(|files| {
                files
                    .into_iter()
                    .map(|(p, text)| (p, text.into_bytes()))
                    .collect()
            }),
        ),
        // `--check` compares a full build; a real build reuses what it can
        // of a tree the same compiler wrote.
        None => {
            let reuse = !check && !custom && build_id_matches(out);
            let progress = indicatif::ProgressBar::new(c.library.regimes.len() as u64);
            progress.set_style(
                indicatif::ProgressStyle::with_template("{spinner} emitting regimes {pos}/{len}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            progress.enable_steady_tick(std::time::Duration::from_millis(100));
            let files = artifacts_with(
                &c.library,
                &sources,
                reuse.then_some(out),
                &templates,
                &progress,
            );
            progress.finish_and_clear();
            (out, files)
        }
    };
    let files = match files {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    if check {
        return match stale(dir, &files) {
            Ok(diff) if diff.is_empty() => {
                errln!(
                    "{}",
                    tr!(
                        "{} is up to date ({} files)",
                        "{} đã khớp với nguồn ({} tệp)",
                        dir.display(),
                        files.len()
                    )
                    .get(lang())
                );
                0
            }
            Ok(diff) => {
                errln!(
                    "{}",
                    tr!(
                        "{} is not up to date with the sources; run `regc build`:",
                        "{} chưa khớp với nguồn; hãy chạy `regc build`:",
                        dir.display()
                    )
                    .get(lang())
                );
                for d in &diff {
                    errln!("  {d}");
                }
                // What changed in each text file, as a unified diff.
                for d in &diff {
                    if let Some(path) = d.strip_prefix("changed: ")
                        && let Some((_, new)) = files.iter().find(|(p, _)| p == path)
                    {
                        let old = std::fs::read(dir.join(path)).unwrap_or_default();
                        err!("{}", text_diff(path, &old, new));
                    }
                }
                1
            }
            Err(e) => usage_error(&e),
        };
    }
    match write_tree(dir, &files) {
        Ok(()) => {
            if ir_dir.is_none() {
                // Best effort: without it the next build is a full one.
                if custom {
                    let _ = std::fs::remove_file(build_id_file(out));
                } else {
                    let _ = std::fs::write(build_id_file(out), env!("REGC_BUILD_ID"));
                }
            }
            outln!(
                "{}",
                tr!(
                    "wrote {} files to {}:",
                    "đã ghi {} tệp vào {}:",
                    files.len(),
                    dir.display()
                )
                .get(lang())
            );
            for (path, text) in &files {
                outln!("  {path} ({} bytes)", text.len());
            }
            0
        }
        Err(e) => usage_error(&e),
    }
}

/// Whether a build may replace the folder `dir` (a build swaps in a new
/// tree and deletes the old one): only a folder that does not exist, is
/// empty, or that regc wrote (a `manifest.json` of regc's, or the build's
/// record beside it; for `--ir`, only `.json` files with `org.json`), and
/// never one that holds an input.
fn may_replace(dir: &Path, inputs: &[PathBuf], ir: bool) -> Result<(), String> {
    let Ok(canonical) = dir.canonicalize() else {
        return Ok(());
    };
    for input in inputs {
        if let Ok(i) = input.canonicalize()
            && i.starts_with(&canonical)
        {
            return Err(format!(
                "refusing to write the build into {}: it holds the input {}, and a build \
                 replaces its whole folder; choose another --out",
                dir.display(),
                input.display()
            ));
        }
    }
    if !canonical.is_dir() {
        return Err(format!(
            "refusing to write the build into {}: it is not a folder",
            dir.display()
        ));
    }
    let entries: Vec<PathBuf> = std::fs::read_dir(&canonical)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let ours = if ir {
        canonical.join("org.json").is_file()
            && entries
                .iter()
                .all(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
    } else {
        build_id_file(dir).is_file() || regc_manifest(&canonical.join("manifest.json"))
    };
    if ours {
        return Ok(());
    }
    Err(format!(
        "refusing to replace {}: it is not a folder regc wrote ({}), and a build replaces \
         its whole folder; remove it yourself or choose another {}",
        dir.display(),
        if ir {
            "not only .json files with org.json"
        } else {
            "no manifest.json of regc's and no build record beside it"
        },
        if ir { "--ir" } else { "--out" }
    ))
}

/// Whether `path` is a manifest a regc build wrote.
fn regc_manifest(path: &Path) -> bool {
    use std::io::Read as _;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut text = Vec::new();
    // A manifest lists every input and output: a few MB at most.
    if file.take(64 << 20).read_to_end(&mut text).is_err() {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("compiler")?
                .get("name")?
                .as_str()
                .map(|n| n == "regc")
        })
        .unwrap_or(false)
}

/// Where a build records which compiler wrote `out`: beside it, as
/// `.<name>.regc-build` (not inside, so that `out` holds only artifacts).
fn build_id_file(out: &Path) -> PathBuf {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "generated".into());
    parent.join(format!(".{name}.regc-build"))
}

/// Whether `out` was written by this very compiler (same `REGC_BUILD_ID`).
fn build_id_matches(out: &Path) -> bool {
    std::fs::read_to_string(build_id_file(out)).is_ok_and(|id| id == env!("REGC_BUILD_ID"))
}

/// Every file that differs between `dir` and `files`: changed, missing or
/// extra.
fn stale(dir: &Path, files: &[Artifact]) -> Result<Vec<String>, String> {
    let mut diff = Vec::new();
    for (path, text) in files {
        match std::fs::read(dir.join(path)) {
            Ok(existing) if existing == *text => {}
            Ok(_) => diff.push(format!("changed: {path}")),
            Err(_) => diff.push(format!("missing: {path}")),
        }
    }
    let mut present = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, &mut present).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for p in present {
        if !files.iter().any(|(f, _)| *f == p) {
            diff.push(format!("extra: {p}"));
        }
    }
    diff.sort();
    Ok(diff)
}

/// The most lines of a unified diff printed for one file.
const DIFF_LINES: usize = 200;

/// A unified diff of a file as it is (`old`) and as a build writes it
/// (`new`), at most [`DIFF_LINES`] lines; a line for a binary file.
fn text_diff(path: &str, old: &[u8], new: &[u8]) -> String {
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return format!("binary file {path} differs\n");
    };
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= DIFF_LINES {
        return text;
    }
    let mut out = lines
        .iter()
        .take(DIFF_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    out.push_str(&format!(
        "\n… {} more line(s) of the diff of {path}\n",
        lines.len() - DIFF_LINES
    ));
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Writes the tree atomically: into a fresh sibling folder, then swapped in
/// with renames, so that a failed build leaves the old tree as it was.
fn write_tree(dir: &Path, files: &[Artifact]) -> Result<(), String> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "generated".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let io = |e: std::io::Error, p: &Path| format!("{}: {e}", p.display());
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io(e, &tmp))?;
    let folders: std::collections::BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|(path, _)| tmp.join(path).parent().map(Path::to_path_buf))
        .collect();
    for folder in &folders {
        std::fs::create_dir_all(folder).map_err(|e| io(e, folder))?;
    }
    // Thousands of files for a large library: written on every core. A
    // file whose bytes are those of the tree being replaced is linked, not
    // written again (most of an incremental build's files).
    let written = files.par_iter().try_for_each(|(path, text)| {
        let target = tmp.join(path);
        let existing = dir.join(path);
        let unchanged = std::fs::metadata(&existing).is_ok_and(|m| m.len() == text.len() as u64)
            && std::fs::read(&existing).is_ok_and(|old| old == *text);
        if unchanged && std::fs::hard_link(&existing, &target).is_ok() {
            return Ok(());
        }
        std::fs::write(&target, text).map_err(|e| io(e, &target))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| io(e, dir))?;
    }
    if let Err(e) = std::fs::rename(&tmp, dir) {
        // Put the old tree back.
        let _ = std::fs::rename(&old, dir);
        return Err(io(e, dir));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

// ---- regc fmt ------------------------------------------------------------

/// `regc fmt`: formats `.regime` files in place, or with `check` lists the
/// files that would change. Files with syntax errors are reported, not
/// formatted.
fn fmt(paths: &[PathBuf], check: bool, color: bool) -> i32 {
    let roots: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from("regimes")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for root in &roots {
        if root.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(root, root, &mut found) {
                return usage_error(&format!("{}: {e}", root.display()));
            }
            files.extend(
                found
                    .into_iter()
                    .filter(|rel| rel.ends_with(".regime"))
                    .map(|rel| root.join(rel)),
            );
        } else if root.is_file() {
            files.push(root.clone());
        } else {
            return usage_error(&format!("{}: no such file or folder", root.display()));
        }
    }
    files.sort();
    files.dedup();
    let mut changed = Vec::new();
    let mut broken = 0usize;
    for path in &files {
        let name = source::display_path(path);
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return usage_error(&format!("{name}: {e}")),
        };
        let mut map = SourceMap::new();
        let id = map.add(SourceFile::new(name.clone(), name.clone(), text));
        let Some(file) = map.get(id) else {
            continue;
        };
        // Parsing recurses over nested expressions: on a thread with the
        // compiler's stack, as `compile` does.
        let result = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(256 * 1024 * 1024)
                .spawn_scoped(scope, || crate::fmt::format_file(id, file))
                .ok()
                .and_then(|h| h.join().ok())
        })
        .unwrap_or_else(|| crate::fmt::format_file(id, file));
        match result {
            Ok(formatted) if formatted == file.text => {}
            Ok(formatted) => {
                if !check && let Err(e) = write_atomically(path, &formatted) {
                    return usage_error(&e);
                }
                changed.push(name);
            }
            Err(crate::fmt::FmtError::Syntax(diags)) => {
                err!("{}", render::human_all(&diags, &map, lang(), color));
                errln!(
                    "{}",
                    tr!(
                        "{name}: not formatted: it has syntax errors",
                        "{name}: không định dạng được: tệp có lỗi cú pháp"
                    )
                    .get(lang())
                );
                broken += 1;
            }
        }
    }
    if check {
        if changed.is_empty() {
            errln!(
                "{}",
                tr!(
                    "{} file(s) are formatted",
                    "{} tệp đã được định dạng",
                    files.len() - broken
                )
                .get(lang())
            );
        } else {
            errln!(
                "{}",
                tr!(
                    "{} file(s) are not formatted; run `regc fmt`:",
                    "{} tệp chưa được định dạng; hãy chạy `regc fmt`:",
                    changed.len()
                )
                .get(lang())
            );
            for name in &changed {
                outln!("{name}");
            }
        }
        return i32::from(!changed.is_empty() || broken > 0);
    }
    for name in &changed {
        outln!(
            "{}",
            tr!("formatted {name}", "đã định dạng {name}").get(lang())
        );
    }
    errln!(
        "{}",
        tr!(
            "{} file(s) checked, {} reformatted",
            "đã kiểm tra {} tệp, định dạng lại {} tệp",
            files.len(),
            changed.len()
        )
        .get(lang())
    );
    i32::from(broken > 0)
}

/// Writes a file through a temporary sibling and a rename, so that it is
/// never left half written.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.fmt-{}", std::process::id()));
    let io = |e: std::io::Error, p: &Path| format!("{}: {e}", p.display());
    std::fs::write(&tmp, text).map_err(|e| io(e, &tmp))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e, path)
    })
}

// ---- regc schedule -------------------------------------------------------

/// The current year, from the system clock (UTC).
fn current_year() -> i32 {
    use chrono::Datelike as _;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or(1970, |t| t.year())
}

fn schedule(
    code: &str,
    paths: &[PathBuf],
    year: Option<i32>,
    format: ScheduleFormat,
    color: bool,
) -> i32 {
    let sources = match load(paths) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let c = crate::compile(&sources);
    if c.has_errors() {
        print_diagnostics(&c, &sources, DiagFormat::Human, color);
        return 1;
    }
    let Some(regime) = find_regime(&c.library, code) else {
        return 2;
    };
    let year = year.unwrap_or_else(current_year);
    let days = crate::calendar::WorkingDays::of_library(&c.library);
    match format {
        ScheduleFormat::Table => {
            let periods = crate::calendar::periods(regime, year, &days);
            if periods.is_empty() {
                errln!("{code} is reported ad hoc: it has no periods");
            }
            out!("{}", crate::calendar::render_table(regime, &periods));
        }
        ScheduleFormat::Ics => {
            let periods = crate::calendar::periods(regime, year, &days);
            out!("{}", crate::calendar::render_ics(regime, &periods));
        }
        ScheduleFormat::Json => {
            let cal = crate::calendar::calendar_file(regime, [year], &days);
            match erased::Json::to_json(&cal) {
                Ok(s) => out!("{s}"),
                Err(e) => return usage_error(&e),
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_that_would_be_formulas_are_quoted() {
        for (field, want) in [
            ("=1+2", "'=1+2"),
            ("+1-2", "'+1-2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("-12.5", "-12.5"),
            ("-3", "-3"),
            ("12", "12"),
            ("-", "'-"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(super::csv_field(field), want, "{field:?}");
        }
    }
}
