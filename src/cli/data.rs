//! The commands that move data: `regc import` (and `regc migrate`).

use super::{DiagFormat, find_regime, load, print_diagnostics, usage_error};
use crate::db::{self, Conn, Target};
use crate::submission::{Context, Reader};
use std::path::PathBuf;

pub struct ImportArgs {
    pub regime: String,
    pub files: Vec<PathBuf>,
    pub db: String,
    pub lib: PathBuf,
    pub status: String,
    pub submitter: Option<String>,
    /// Store submissions that break error-severity rules (flagged).
    pub force: bool,
    pub json: bool,
}

/// Reads every file into one reader; an unreadable file is a usage error
/// (exit 2). Problems inside the files are in the reader's `errors`.
fn read_files(ctx: &mut Context, files: &[PathBuf]) -> Result<Reader, i32> {
    let mut reader = Reader::default();
    for path in files {
        if let Err(e) = reader.read_path(ctx, path) {
            return Err(usage_error(&format!(
                "{}: {e}",
                crate::source::display_path(path)
            )));
        }
    }
    Ok(reader)
}

/// The most problems printed; the rest are counted.
const SHOWN_ERRORS: usize = 50;

/// Compiles the library at `lib` and finds `code` in it; prints why not.
pub fn compile_regime(lib: &std::path::Path, color: bool) -> Result<crate::Compilation, i32> {
    let sources = load(&[lib.to_path_buf()]).map_err(|e| usage_error(&e))?;
    let c = crate::compile(&sources);
    if c.has_errors() {
        print_diagnostics(&c, &sources, DiagFormat::Human, color);
        errln!(
            "error: the library has {} error(s); fix them first",
            c.diagnostics.error_count()
        );
        return Err(1);
    }
    Ok(c)
}

pub fn import(args: &ImportArgs, color: bool) -> i32 {
    let target = match Target::parse(&args.db) {
        Ok(t) => t,
        Err(e) => return usage_error(&e),
    };
    let c = match compile_regime(&args.lib, color) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let lib = &c.library;
    let Some(regime) = find_regime(lib, &args.regime) else {
        return 2;
    };
    let mut ctx = Context::new(lib, regime);
    let reader = match read_files(&mut ctx, &args.files) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if !reader.errors.is_empty() {
        if args.json {
            let errors: Vec<serde_json::Value> = reader
                .errors
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "file": e.file, "line": e.line, "column": e.column, "message": e.message
                    })
                })
                .collect();
            outln!(
                "{}",
                serde_json::json!({"imported": false, "errors": errors})
            );
        } else {
            for e in reader.errors.iter().take(SHOWN_ERRORS) {
                errln!("error: {e}");
            }
            if reader.errors.len() > SHOWN_ERRORS {
                errln!("… and {} more", reader.errors.len() - SHOWN_ERRORS);
            }
            errln!(
                "import refused: {} problem(s) in {} row(s) read; nothing was written to {target}",
                reader.errors.len(),
                reader.rows
            );
        }
        return 1;
    }
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let now_text = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // A time of submission after now is a mistake in the file (a clock, a
    // typo), never a report of the future. A minute of clock skew is fine.
    let late = (now + chrono::Duration::minutes(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    if let Some(((unit, period, _), when)) = reader.submitted_at.iter().find(|(_, w)| **w > late) {
        return refuse_import(
            args.json,
            &target,
            &[format!(
                "the report of {unit} for {period} is said to be submitted at {when}, after now ({now_text})"
            )],
        );
    }
    let mut conn = match Conn::open(&target) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    // The rules, as `regc validate` checks them (earlier periods from the
    // database): errors keep the file out unless forced; what is stored
    // keeps the rules it breaks.
    let violations = if args.status == "draft" {
        Vec::new()
    } else {
        match db::import::violations(&mut conn, regime, &ctx, &reader) {
            Ok(v) => v,
            Err(e) => return usage_error(&format!("{target}: {e}")),
        }
    };
    let errors: Vec<&crate::validate::Violation> = violations
        .iter()
        .filter(|v| v.severity == crate::ir::Severity::Error)
        .collect();
    if !errors.is_empty() && !args.force {
        let lines: Vec<String> = errors
            .iter()
            .map(|v| {
                format!(
                    "{} {} {}: {} ({})",
                    v.unit, v.period, v.form, v.message, v.rule
                )
            })
            .collect();
        return refuse_import(args.json, &target, &lines);
    }
    let flags = db::import::flags(violations, &reader.explanations);
    let subs: Vec<&crate::submission::Submission> = reader.submissions.values().collect();
    let opts = db::import::Options {
        status: args.status.clone(),
        submitter: args.submitter.clone(),
        now: now_text,
        submitted_at: reader.submitted_at.clone(),
        violations: flags,
    };
    let started = std::time::Instant::now();
    match db::import::import(&mut conn, lib, regime, &ctx.layout, &subs, &opts) {
        Ok(report) => {
            let secs = started.elapsed().as_secs_f64();
            if args.json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "imported": true, "regime": regime.code, "database": target.to_string(),
                        "rows_read": reader.rows, "report": report
                    })
                );
            } else {
                outln!(
                    "imported {} into {target}: {} new revision(s) ({} correction(s)), {} unchanged; {} row(s) read, {} form row(s) written in {:.2} s",
                    regime.code,
                    report.written,
                    report.corrections,
                    report.unchanged,
                    reader.rows,
                    report.rows,
                    secs
                );
                if report.flagged > 0 {
                    errln!(
                        "warning: {} submission(s) break error rules and were stored because of --force; they are flagged (regc_submission_violation)",
                        report.flagged
                    );
                }
            }
            0
        }
        Err(e) => {
            if args.json {
                outln!(
                    "{}",
                    serde_json::json!({"imported": false, "database_error": e})
                );
            } else {
                errln!("error: the database refused the import: {e}");
                errln!("nothing was written to {target} (the transaction was rolled back)");
            }
            1
        }
    }
}

/// Prints why an import is refused (nothing was written); exit 1.
fn refuse_import(json: bool, target: &Target, problems: &[String]) -> i32 {
    if json {
        outln!(
            "{}",
            serde_json::json!({"imported": false, "refused": problems})
        );
    } else {
        for p in problems.iter().take(SHOWN_ERRORS) {
            errln!("error: {p}");
        }
        if problems.len() > SHOWN_ERRORS {
            errln!("… and {} more", problems.len() - SHOWN_ERRORS);
        }
        errln!(
            "import refused: nothing was written to {target} (store the submissions as drafts with --status draft, or with their errors flagged with --force)"
        );
    }
    1
}

pub struct MigrateArgs {
    pub old: PathBuf,
    pub new: PathBuf,
    pub lib: PathBuf,
    pub regime: Option<String>,
    pub dialect: crate::sql::Dialect,
    pub out: Option<PathBuf>,
    pub allow_destructive: bool,
}

/// One version for `regc migrate`: a library folder, a file inside a
/// library, or a file compiled within `lib` in place of the library's file
/// that declares the same regime. Returns the sources and the regime codes
/// the path declares (all of the library's for a folder).
fn version_sources(
    path: &std::path::Path,
    lib: &std::path::Path,
) -> Result<(crate::source::SourceMap, Vec<String>), String> {
    use crate::source::{self, SourceFile, SourceMap};
    if !path.exists() {
        return Err(format!("{}: no such file or folder", path.display()));
    }
    let declared = |file: &SourceFile| -> Vec<String> {
        let mut scratch = crate::diagnostic::Diagnostics::new();
        crate::syntax::parse_file(crate::source::FileId(0), file, &mut scratch)
            .regimes
            .iter()
            .map(|r| r.code.text.clone())
            .collect()
    };
    let root = source::find_root(path);
    if path.is_dir() || root.join(source::LIBRARY_MANIFEST).is_file() {
        let map = source::load_library(&root).map_err(|e| e.to_string())?;
        let codes = if path.is_dir() {
            map.iter()
                .filter(|(_, f)| f.kind == source::FileKind::Regime)
                .flat_map(|(_, f)| declared(f))
                .collect()
        } else {
            let rel = path
                .canonicalize()
                .ok()
                .and_then(|p| {
                    let r = root.canonicalize().ok()?;
                    p.strip_prefix(r)
                        .ok()
                        .map(|p| p.to_string_lossy().replace('\\', "/"))
                })
                .unwrap_or_default();
            map.iter()
                .filter(|(_, f)| f.rel == rel)
                .flat_map(|(_, f)| declared(f))
                .collect()
        };
        return Ok((map, codes));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let overlay = SourceFile::new(source::display_path(path), "overlay.regime", text);
    let codes = declared(&overlay);
    let library = source::load_library(lib).map_err(|e| e.to_string())?;
    // The library's file that declares the same regime is replaced.
    let replaced = library
        .iter()
        .filter(|(_, f)| f.kind == source::FileKind::Regime)
        .find(|(_, f)| declared(f).iter().any(|c| codes.contains(c)))
        .map(|(_, f)| f.rel.clone());
    let mut map = SourceMap::new();
    for (_, f) in library.iter() {
        if Some(&f.rel) != replaced.as_ref() {
            map.add(f.clone());
        }
    }
    let rel = replaced.unwrap_or_else(|| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    map.add(SourceFile::new(
        source::display_path(path),
        rel,
        overlay.text,
    ));
    Ok((map, codes))
}

pub fn migrate(args: &MigrateArgs, color: bool) -> i32 {
    use crate::diagnostic::render;
    let mut sides = Vec::new();
    for path in [&args.old, &args.new] {
        let (sources, codes) = match version_sources(path, &args.lib) {
            Ok(v) => v,
            Err(e) => return usage_error(&e),
        };
        let c = crate::compile(&sources);
        if c.has_errors() {
            print_diagnostics(&c, &sources, DiagFormat::Human, color);
            errln!("error: {} does not compile; fix it first", path.display());
            return 1;
        }
        sides.push((sources, codes, c.library));
    }
    let [(old_src, old_codes, old_lib), (new_src, new_codes, new_lib)] = sides.as_slice() else {
        return 2;
    };
    let code = match (&args.regime, new_codes.as_slice()) {
        (Some(c), _) => c.clone(),
        (None, [one]) => one.clone(),
        (None, []) => return usage_error(&format!("{} declares no regime", args.new.display())),
        (None, many) => {
            return usage_error(&format!(
                "{} declares several regimes ({}): choose one with --regime",
                args.new.display(),
                many.join(", ")
            ));
        }
    };
    let _ = old_codes;
    let find = |lib: &crate::ir::Library, which: &std::path::Path| -> Result<usize, String> {
        lib.regimes
            .iter()
            .position(|r| r.code == code)
            .ok_or_else(|| format!("{} has no regime `{code}`", which.display()))
    };
    let (old_r, new_r) = match (find(old_lib, &args.old), find(new_lib, &args.new)) {
        (Ok(o), Ok(n)) => match (old_lib.regimes.get(o), new_lib.regimes.get(n)) {
            (Some(o), Some(n)) => (o, n),
            _ => return 2,
        },
        (Err(e), _) | (_, Err(e)) => return usage_error(&e),
    };
    let result = crate::migrate::migrate(
        crate::migrate::Version {
            regime: old_r,
            sources: old_src,
        },
        crate::migrate::Version {
            regime: new_r,
            sources: new_src,
        },
        args.allow_destructive,
    );
    let show = |f: &crate::migrate::Findings| {
        let text = format!(
            "{}{}",
            render::human_all(&f.old, old_src, super::lang(), color),
            render::human_all(&f.new, new_src, super::lang(), color)
        );
        if !text.is_empty() {
            err!("{text}");
        }
    };
    let m = match result {
        Ok(m) => m,
        Err(findings) => {
            show(&findings);
            errln!(
                "{}",
                crate::tr!(
                    "migration refused: nothing was written",
                    "từ chối chuyển đổi: không có gì được ghi"
                )
                .get(super::lang())
            );
            return 1;
        }
    };
    show(&m.warnings);
    if m.changes.is_empty() {
        errln!(
            "{code}: versions {} and {} have the same tables; nothing to migrate",
            m.from,
            m.to
        );
    } else {
        errln!("{code}: version {} → {}:", m.from, m.to);
        for c in &m.changes {
            errln!("  {c}");
        }
    }
    match &args.out {
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return usage_error(&format!("{}: {e}", dir.display()));
            }
            for d in crate::sql::Dialect::ALL {
                let path = dir.join(format!("migrate.{}.sql", d.name()));
                if let Err(e) = std::fs::write(&path, m.script(d)) {
                    return usage_error(&format!("{}: {e}", path.display()));
                }
                errln!("wrote {}", path.display());
            }
        }
        None => out!("{}", m.script(args.dialect)),
    }
    0
}

pub fn validate(
    code: &str,
    files: &[PathBuf],
    history: Option<&str>,
    lib: &std::path::Path,
    format: super::ValidateFormat,
    color: bool,
) -> i32 {
    let c = match compile_regime(lib, color) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let library = &c.library;
    let Some(regime) = find_regime(library, code) else {
        return 2;
    };
    let mut ctx = Context::new(library, regime);
    let mut store = crate::eval::Store::default();
    if let Some(db) = history {
        let target = match Target::parse(db) {
            Ok(t) => t,
            Err(e) => return usage_error(&e),
        };
        let mut conn = match Conn::open_existing(&target) {
            Ok(c) => c,
            Err(e) => return usage_error(&e),
        };
        match db::history::load(&mut conn, regime, &ctx.layout, &mut store) {
            Ok(n) => errln!("read {n} earlier submission(s) of {code} from {target}"),
            Err(e) => return usage_error(&format!("{target}: {e}")),
        }
    }
    // A period is checked as soon as its lines are read, with the unit's
    // earlier periods that the rules may read (none when no rule reads
    // other periods). `REGC_VALIDATE_WHOLE` (tests) reads the files whole.
    let other_periods = crate::eval::reads_other_periods(regime);
    let whole = std::env::var_os("REGC_VALIDATE_WHOLE").is_some();
    let validator = crate::validate::Validator::new(regime);
    if !other_periods && !whole {
        // Wide CSV files of number cells, every rule compiled: checked
        // without building submissions.
        if let Some(c) =
            crate::validate::bulk::validate(library, &mut ctx, &validator, &store, files)
        {
            return print_report(code, &c.report, c.submissions, format);
        }
    }
    let back = if other_periods {
        crate::eval::periods_back(regime)
    } else {
        Some(0)
    };
    match back {
        _ if whole => {}
        None => errln!(
            "note: a computed cell of {code} reads itself in earlier periods: reading the files whole"
        ),
        Some(back) => match validate_streaming(&mut ctx, &validator, &store, files, back) {
            Ok(Some((report, submissions))) => {
                return print_report(code, &report, submissions, format);
            }
            Ok(None) => {}
            Err(exit) => return exit,
        },
    }
    let reader = match read_files(&mut ctx, files) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (bad_values, problems): (Vec<_>, Vec<_>) =
        reader.errors.iter().partition(|e| e.value.is_some());
    if !problems.is_empty() {
        return refuse(code, &problems);
    }
    let mut targets: Vec<(String, String)> = Vec::new();
    for s in reader.submissions.into_values() {
        targets.push((s.unit.clone(), s.period.clone()));
        store.insert(&regime.code, s);
    }
    // Units whose every value was bad still get their verdict.
    for e in &bad_values {
        if let Some(b) = &e.value {
            targets.push((b.unit.clone(), b.period.clone()));
        }
    }
    targets.sort();
    targets.dedup();
    let bad: Vec<crate::submission::BadValue> =
        bad_values.iter().filter_map(|e| e.value.clone()).collect();
    let report = crate::validate::validate(regime, &store, &targets, &bad);
    print_report(code, &report, targets.len(), format)
}

/// Problems in the files: not submissions of the regime as written.
fn refuse(code: &str, problems: &[&crate::submission::InputError]) -> i32 {
    for e in problems.iter().take(SHOWN_ERRORS) {
        errln!("error: {e}");
    }
    if problems.len() > SHOWN_ERRORS {
        errln!("… and {} more", problems.len() - SHOWN_ERRORS);
    }
    errln!(
        "cannot validate: {} problem(s) in the files (not submissions of {code} as written)",
        problems.len()
    );
    2
}

/// The fewest submissions a thread checks at a time (of a batch of 512).
const BATCH_PART: usize = 64;

/// Validates the files as they are read: one thread reads and sends the
/// submissions of each unit and period as soon as its lines end, with the
/// unit's submissions of its last `back` periods (those the rules may
/// read), the others check them, and only the violations are kept.
/// `Ok(None)` when a file does not keep the lines of a submission
/// together, or (`back` > 0) gives a unit's periods out of order: read
/// them whole instead.
fn validate_streaming(
    ctx: &mut Context,
    validator: &crate::validate::Validator,
    history: &crate::eval::Store,
    files: &[PathBuf],
    back: usize,
) -> Result<Option<(crate::validate::Report, usize)>, i32> {
    use crate::submission::{Group, InputError};
    use crate::validate::Report;
    use rayon::prelude::*;
    let regime = ctx.regime;
    let code = regime.code.as_str();
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Group>>(4);
    let check = |eval: &mut crate::eval::Evaluator, group: &Group| -> Report {
        let mut report = Report::default();
        for b in &group.bad_values {
            report
                .violations
                .push(crate::validate::bad_value(regime, b));
        }
        let mut here = history.here(code, &group.unit, &group.period);
        // The files' submissions replace the stored ones.
        here.forms
            .retain(|h| !group.submissions.iter().any(|s| s.form == h.form));
        here.forms.extend(group.submissions.iter().map(|s| &**s));
        // The files' earlier periods, as the store would hold them.
        here.earlier = &group.earlier;
        validator.check(eval, &here, &mut report);
        report
    };
    let (read, report, submissions) = std::thread::scope(|scope| {
        let reading = scope.spawn(
            move || -> Result<(Vec<InputError>, Option<String>), String> {
                let mut reader = crate::submission::Reader::streaming(send);
                reader.keep_earlier(back);
                for path in files {
                    reader
                        .read_path(ctx, path)
                        .map_err(|e| format!("{}: {e}", crate::source::display_path(path)))?;
                    if reader.scattered().is_some() {
                        break;
                    }
                }
                reader.finish();
                let scattered = reader.scattered().map(str::to_string);
                Ok((std::mem::take(&mut reader.errors), scattered))
            },
        );
        let mut report = Report::default();
        let mut submissions = 0;
        for batch in receive {
            submissions += batch.len();
            // At most 8 parts a batch: an evaluator is made per part.
            let part = batch
                .par_iter()
                .with_min_len(BATCH_PART)
                .map_init(
                    || crate::eval::Evaluator::new(regime, history),
                    |eval, group| check(eval, group),
                )
                .reduce(Report::default, |mut a, b| {
                    a.merge(b);
                    a
                });
            report.merge(part);
        }
        let read = reading
            .join()
            .unwrap_or_else(|_| Err("the reading thread stopped".to_string()));
        (read, report, submissions)
    });
    let (errors, scattered) = read.map_err(|e| usage_error(&e))?;
    if let Some(at) = scattered {
        errln!("note: {at}: reading the files whole");
        return Ok(None);
    }
    let problems: Vec<&InputError> = errors.iter().filter(|e| e.value.is_none()).collect();
    if !problems.is_empty() {
        return Err(refuse(code, &problems));
    }
    let mut full = validator.report();
    full.merge(report);
    crate::validate::sort(&mut full.violations);
    Ok(Some((full, submissions)))
}

/// Prints a report; the exit code.
fn print_report(
    code: &str,
    report: &crate::validate::Report,
    submissions: usize,
    format: super::ValidateFormat,
) -> i32 {
    use crate::validate::Violation;
    let severity = |v: &Violation| match v.severity {
        crate::ir::Severity::Error => "error",
        crate::ir::Severity::Warning => "warning",
        crate::ir::Severity::Info => "info",
    };
    match format {
        super::ValidateFormat::Json => {
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "regime": code,
                    "submissions": submissions,
                    "violations": report.violations,
                    "summary": {
                        "errors": report.count(crate::ir::Severity::Error),
                        "warnings": report.count(crate::ir::Severity::Warning),
                        "infos": report.count(crate::ir::Severity::Info),
                        "evaluated": report.evaluated,
                        "skipped_for_missing_values": report.skipped,
                        "not_evaluated": report.not_evaluated.iter().map(|(r, why)| serde_json::json!({"rule": r, "why": why})).collect::<Vec<_>>(),
                    }
                }))
                .unwrap_or_default()
            );
        }
        super::ValidateFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            let _ = w.write_record([
                "unit", "period", "form", "record", "cell", "rule", "kind", "severity", "message",
            ]);
            for v in &report.violations {
                let record = v.record.map(|r| r.to_string()).unwrap_or_default();
                let fields = [
                    v.unit.as_str(),
                    &v.period,
                    &v.form,
                    &record,
                    v.cell.as_deref().unwrap_or_default(),
                    &v.rule,
                    v.kind,
                    severity(v),
                    &v.message,
                ];
                // Values and messages come from the files: no formulas.
                let _ = w.write_record(fields.map(super::csv_field).iter().map(|f| f.as_bytes()));
            }
            let _ = w.flush();
        }
        super::ValidateFormat::Human => {
            for v in &report.violations {
                let record = v.record.map(|r| format!(" record {r}")).unwrap_or_default();
                let cell = v
                    .cell
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                outln!(
                    "{}: {} {} {}{record}{cell} [{}]: {}",
                    severity(v),
                    v.unit,
                    v.period,
                    v.form,
                    v.rule,
                    v.message
                );
            }
            for (rule, why) in &report.not_evaluated {
                errln!("note: {rule} not evaluated here: {why}");
            }
            errln!(
                "{code}: {} submission(s) checked: {} error(s), {} warning(s), {} info; {} rule evaluation(s), {} skipped for missing values",
                submissions,
                report.count(crate::ir::Severity::Error),
                report.count(crate::ir::Severity::Warning),
                report.count(crate::ir::Severity::Info),
                report.evaluated,
                report.skipped
            );
        }
    }
    i32::from(report.errors() > 0)
}
