//! Bulk validation of wide CSV files: `regc validate` over the shape bulk
//! data comes in (one line per unit and period, one column per number
//! cell of grid forms, every rule compiled), without building a
//! [`Submission`](crate::submission::Submission) per line.
//!
//! One thread reads the files (`csv::ByteRecord`s, their buffers reused)
//! and checks each line's unit and period as the general reader would
//! (keeping each unit's [`Places`] and the last period's cut-off); the
//! rayon pool parses each line's values
//! straight into the table of the compiled rules ([`compiled`]) and
//! checks types, ranges, required cells and rules. A line that breaks
//! anything, or whose values are not plain numbers, is handed as it is to
//! the general reader and validator ([`Reader::read_records`],
//! [`Validator::check`]): every violation in the report is theirs, so the
//! report is the general path's (`tests/validate.rs` holds the two to
//! each other). The lines that pass, nearly all of them in bulk data,
//! only add to the counts.
//!
//! [`validate`] returns `None`, and the caller takes the general path,
//! when a file is not of this shape or holds something the general path
//! must read itself: a problem of the file (unknown unit, bad period,
//! malformed line, text that is not UTF-8), a unit and period on several
//! lines.

use super::{Report, Validator};
use crate::eval::compiled::{POW10, Val};
use crate::eval::{Evaluator, Here, Store};
use crate::ir;
use crate::submission::{Context, Places, Reader, mark};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, SyncSender};

/// Lines per batch sent to the pool.
const BATCH: usize = 1024;

/// How a file's columns are read.
struct Plan {
    /// The header, trimmed (for the general reader).
    header: Vec<String>,
    unit: usize,
    period: usize,
    columns: Vec<Column>,
}

/// A column of number cells.
struct Column {
    /// The field's index in a line.
    field: usize,
    /// The value's index in the compiled rules' table, if a rule reads it
    /// (numbers are there at the cell's scale, as here).
    table: Option<usize>,
    /// `None`: a whole number; else (precision, scale).
    decimal: Option<(u32, u32)>,
    /// The range's bounds as mantissas at the cell's scale.
    bounds: Option<(i128, i128)>,
    required: bool,
}

/// A bound as a mantissa at `scale`, if it has no more digits.
fn at_scale(d: &crate::value::Decimal, scale: u32) -> Option<i128> {
    let (m, s) = d.parts();
    m.checked_mul(10i128.checked_pow(scale.checked_sub(s)?)?)
}

impl Plan {
    /// The plan of a file with this header, if it is of the bulk shape.
    fn new(ctx: &Context, validator: &Validator, header: &csv::StringRecord) -> Option<Plan> {
        let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        let mut seen = HashSet::default();
        if !header.iter().all(|h| seen.insert(h.as_str())) {
            return None;
        }
        let at = |name: &str| header.iter().position(|h| h == name);
        let (unit, period) = (at("unit")?, at("period")?);
        if ["form", "record", "cell", "value"]
            .iter()
            .any(|n| at(n).is_some())
        {
            return None;
        }
        let mut columns = Vec::new();
        // The cell of each column: (form, slot).
        let mut cells: HashMap<(String, usize), usize> = HashMap::default();
        for (field, name) in header.iter().enumerate() {
            if field == unit || field == period {
                continue;
            }
            let c = ctx.number_column(name)?;
            // Two columns naming one cell: the general reader says so.
            if cells
                .insert((c.form.clone(), c.slot), columns.len())
                .is_some()
            {
                return None;
            }
            let scale = c.decimal.map_or(0, |(_, s)| s);
            let bounds = match &c.bounds {
                Some((lo, hi)) => Some((at_scale(lo, scale)?, at_scale(hi, scale)?)),
                None => None,
            };
            let table = match validator.program().index(&c.form, c.slot) {
                Some(t) if validator.program().scale(t) == Some(scale) => Some(t),
                Some(_) => return None,
                None => None,
            };
            columns.push(Column {
                field,
                table,
                decimal: c.decimal,
                bounds,
                required: false,
            });
        }
        // A required cell without a column would fail on every line.
        for (form, slot) in validator.required_grid_cells() {
            let i = *cells.get(&(form.to_string(), slot))?;
            columns.get_mut(i)?.required = true;
        }
        Some(Plan {
            header,
            unit,
            period,
            columns,
        })
    }
}

/// Lines read, for the pool.
struct Batch {
    /// Indices into the plans and file names.
    plan: usize,
    /// Lines and their numbers; the first `len` are filled (the buffers
    /// are reused from batch to batch).
    rows: Vec<(u64, csv::ByteRecord)>,
    len: usize,
}

/// What the pool made of some batches.
#[derive(Default)]
struct Part {
    report: Report,
    submissions: usize,
    handed_over: usize,
}

/// A bulk validation's result.
#[derive(Debug)]
pub struct Checked {
    /// Sorted, as the general path's.
    pub report: Report,
    /// Submissions (units and periods) checked.
    pub submissions: usize,
    /// Of them, those handed to the general reader and validator.
    pub handed_over: usize,
}

/// What the pool needs of the caller's.
struct Shared<'a> {
    lib: &'a ir::Library,
    regime: &'a ir::Regime,
    validator: &'a Validator<'a>,
    plans: &'a [Plan],
    files: &'a [String],
    history: &'a Store,
    /// A context per pool thread, for the lines handed to the general
    /// reader (made when a thread first needs one).
    contexts: Vec<Mutex<Option<Context<'a>>>>,
    /// Set when a line must be read by the general path.
    general: AtomicBool,
}

/// Validates `paths` if every one is a CSV file of the bulk shape, the
/// regime's rules are all compiled and no stored submission (`history`)
/// is given. `None`: take the general path.
pub fn validate(
    lib: &ir::Library,
    ctx: &mut Context,
    validator: &Validator,
    history: &Store,
    paths: &[PathBuf],
) -> Option<Checked> {
    use rayon::prelude::*;
    let regime = ctx.regime;
    if !validator.all_compiled() || !history.is_empty() {
        return None;
    }
    // Every file's header first: nothing is read unless all are bulk.
    let mut plans = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        if crate::submission::FileKind::of(path) != crate::submission::FileKind::Csv {
            return None;
        }
        let mut csv = csv::Reader::from_reader(std::fs::File::open(path).ok()?);
        plans.push(Plan::new(ctx, validator, csv.headers().ok()?)?);
        files.push(crate::source::display_path(path));
    }
    let shared = Shared {
        lib,
        regime,
        validator,
        plans: &plans,
        files: &files,
        history,
        contexts: (0..rayon::current_num_threads())
            .map(|_| Mutex::new(None))
            .collect(),
        general: AtomicBool::new(false),
    };
    let (send, receive) = std::sync::mpsc::sync_channel::<Batch>(4);
    let (give_back, recycled) = std::sync::mpsc::channel::<Batch>();
    let (read, part) = std::thread::scope(|scope| {
        let (general, plans) = (&shared.general, &plans);
        let reading = scope.spawn(move || read(ctx, paths, plans, send, &recycled, general));
        let part = receive
            .into_iter()
            .par_bridge()
            .map_init(
                || Worker {
                    table: Vec::new(),
                    values: Vec::new(),
                    eval: None,
                    give_back: give_back.clone(),
                },
                |w, batch| w.check(&shared, batch),
            )
            .reduce(Part::default, |mut a, b| {
                a.report.merge(b.report);
                a.submissions += b.submissions;
                a.handed_over += b.handed_over;
                a
            });
        (reading.join().ok().flatten(), part)
    });
    if read.is_none() || shared.general.load(Ordering::Relaxed) {
        return None;
    }
    let mut report = validator.report();
    report.merge(part.report);
    super::sort(&mut report.violations);
    Some(Checked {
        report,
        submissions: part.submissions,
        handed_over: part.handed_over,
    })
}

/// The reading thread: sends every non-blank line, each checked for its
/// unit and period; `None` when the general path must read the files.
fn read(
    ctx: &mut Context,
    paths: &[PathBuf],
    plans: &[Plan],
    send: SyncSender<Batch>,
    recycled: &std::sync::mpsc::Receiver<Batch>,
    general: &AtomicBool,
) -> Option<()> {
    // Unit → where it is, and the periods seen, as intervals of period
    // numbers (one lookup per line for both).
    let mut units: HashMap<String, (Places, Vec<(i64, i64)>)> = HashMap::default();
    // The last period read: its id, cut-off day and number.
    let mut last_period: Option<(String, chrono::NaiveDate, i64)> = None;
    let mut last: (String, String) = Default::default();
    let fresh = |plan| Batch {
        plan,
        rows: Vec::new(),
        len: 0,
    };
    for (n, (path, plan)) in paths.iter().zip(plans).enumerate() {
        let file = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path).ok()?);
        let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(file);
        csv.headers().ok()?;
        let mut batch = fresh(n);
        loop {
            if batch.rows.len() <= batch.len {
                batch.rows.push((0, csv::ByteRecord::new()));
            }
            let (line, record) = batch.rows.get_mut(batch.len)?;
            if !csv.read_byte_record(record).ok()? {
                break;
            }
            *line = record.position().map_or(0, |p| p.line());
            let mut blank = true;
            for c in &plan.columns {
                if !is_blank(record.get(c.field).unwrap_or_default())? {
                    blank = false;
                    break;
                }
            }
            // The general reader skips a line with no value.
            if blank {
                continue;
            }
            let text = |i: usize| std::str::from_utf8(record.get(i).unwrap_or_default()).ok();
            let (unit, period) = (text(plan.unit)?.trim(), text(plan.period)?.trim());
            // A submission on several lines: the general reader joins them.
            if last.0 == unit && last.1 == period {
                return None;
            }
            // What the general reader checks of a line's unit and period,
            // with the period and the unit's places kept.
            let (cutoff, number) = match &last_period {
                Some((id, cutoff, number)) if id == period => (*cutoff, *number),
                _ => {
                    let (cutoff, number) = ctx.cutoff(period)?;
                    last_period = Some((period.to_string(), cutoff, number));
                    (cutoff, number)
                }
            };
            match units.get_mut(unit) {
                Some((places, seen)) => {
                    // Lines of a unit and period seen before, apart.
                    if !places.accept(cutoff) || mark(seen, number) {
                        return None;
                    }
                }
                None => {
                    let places = ctx.places(unit)?;
                    if unit.is_empty() || !places.accept(cutoff) {
                        return None;
                    }
                    units.insert(unit.to_string(), (places, vec![(number, number)]));
                }
            }
            last.0.clear();
            last.0.push_str(unit);
            last.1.clear();
            last.1.push_str(period);
            batch.len += 1;
            if batch.len == BATCH {
                if general.load(Ordering::Relaxed) {
                    return None;
                }
                let mut next = recycled.try_recv().unwrap_or_else(|_| fresh(n));
                next.plan = n;
                next.len = 0;
                send.send(std::mem::replace(&mut batch, next)).ok()?;
            }
        }
        if batch.len > 0 {
            send.send(batch).ok()?;
        }
    }
    Some(())
}

/// Whether a field is blank to the general reader (`str::trim` leaves
/// nothing); `None` when it is not UTF-8.
fn is_blank(field: &[u8]) -> Option<bool> {
    match field.first() {
        None => Some(true),
        Some(b) if b.is_ascii_digit() || *b == b'-' => Some(false),
        Some(_) => std::str::from_utf8(field).ok().map(|s| s.trim().is_empty()),
    }
}

/// A pool thread's state.
struct Worker<'a> {
    /// The compiled rules' table: numbers at their fixed scales.
    table: Vec<Option<i128>>,
    /// Scratch space for the rules that need values built.
    values: Vec<Option<Val>>,
    /// For the lines the compiled rules do not pass.
    eval: Option<Evaluator<'a>>,
    give_back: Sender<Batch>,
}

impl<'a> Worker<'a> {
    fn check(&mut self, shared: &Shared<'a>, batch: Batch) -> Part {
        let mut part = Part::default();
        if let Some(plan) = shared.plans.get(batch.plan) {
            for (line, record) in batch.rows.iter().take(batch.len) {
                part.submissions += 1;
                match self.fast(shared.validator, plan, record) {
                    Some((evaluated, skipped)) => {
                        part.report.evaluated += evaluated;
                        part.report.skipped += skipped;
                    }
                    None => {
                        part.handed_over += 1;
                        if self
                            .general(shared, &batch, *line, record, &mut part.report)
                            .is_none()
                        {
                            shared.general.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        }
        let _ = self.give_back.send(batch);
        part
    }

    /// A line's verdict without the general reader: (evaluated, skipped)
    /// if every value is a plain number of its cell's type and range,
    /// every required cell is given and no rule fails.
    fn fast(
        &mut self,
        validator: &Validator,
        plan: &Plan,
        record: &csv::ByteRecord,
    ) -> Option<(usize, usize)> {
        self.table.clear();
        self.table.resize(validator.program().len(), None);
        for c in &plan.columns {
            let field = record.get(c.field).unwrap_or_default();
            if field.is_empty() {
                if c.required {
                    return None;
                }
                continue;
            }
            let (mantissa, scale, int_digits) = plain_number(field)?;
            // Digits written after the point, zeros too, as the general
            // reader counts them (`1.000` is refused in a whole number).
            let written = written_decimals(field);
            let at = match c.decimal {
                None if written == 0 => 0,
                Some((precision, at))
                    if written <= at as usize && int_digits <= precision.saturating_sub(at) =>
                {
                    at
                }
                _ => return None,
            };
            // At most 18 digits times at most 10^38: within 128 bits.
            let up = *POW10.get(usize::try_from(at - scale).ok()?)?;
            let v = i128::from(mantissa) * i128::from(up);
            if let Some((lo, hi)) = c.bounds
                && (v < lo || v > hi)
            {
                return None;
            }
            if let Some(slot) = c.table.and_then(|t| self.table.get_mut(t)) {
                *slot = Some(v);
            }
        }
        validator.passes(&self.table, &mut self.values)
    }

    /// A line through the general reader and validator, as the general
    /// path reads and checks it; `None` if it holds a problem of the file.
    fn general(
        &mut self,
        shared: &Shared<'a>,
        batch: &Batch,
        line: u64,
        record: &csv::ByteRecord,
        report: &mut Report,
    ) -> Option<()> {
        let plan = shared.plans.get(batch.plan)?;
        let file = shared.files.get(batch.plan)?;
        let record = csv::StringRecord::from_byte_record(record.clone()).ok()?;
        let unit = record.get(plan.unit)?.trim().to_string();
        let period = record.get(plan.period)?.trim().to_string();
        let mut reader = Reader::default();
        {
            let i = rayon::current_thread_index().unwrap_or(0) % shared.contexts.len().max(1);
            let mut slot = shared.contexts.get(i)?.lock().ok()?;
            let ctx = slot.get_or_insert_with(|| Context::new(shared.lib, shared.regime));
            reader.read_records(ctx, file, plan.header.clone(), vec![(line, record)]);
        }
        // Bad values are violations of the line's; other problems are
        // the file's, for the general path to report.
        for e in &reader.errors {
            let b = e.value.as_ref()?;
            report.violations.push(super::bad_value(shared.regime, b));
        }
        let submissions: Vec<_> = reader.submissions.into_values().collect();
        let here = Here {
            unit: &unit,
            period: &period,
            forms: submissions.iter().collect(),
            // Only regimes whose rules read no other period come here.
            earlier: &[],
        };
        let eval = self
            .eval
            .get_or_insert_with(|| Evaluator::new(shared.regime, shared.history));
        shared.validator.check(eval, &here, report);
        Some(())
    }
}

/// The digits after the point of a number's text.
fn written_decimals(text: &[u8]) -> usize {
    text.iter()
        .position(|b| *b == b'.')
        .map_or(0, |p| text.len() - p - 1)
}

/// A plain number as the general reader parses it (`-?digits(.digits)?`):
/// (mantissa, scale, digits before the point), leading and trailing zeros
/// dropped as `Decimal::parse` drops them. `None` for anything else, and
/// for more than 18 significant digits: the general reader takes those.
fn plain_number(text: &[u8]) -> Option<(i64, u32, u32)> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // One pass: the mantissa of the significant digits so far, how many
    // digits before the point (leading zeros dropped), after it, and the
    // zeros after the point not yet known to be significant.
    let (mut mantissa, mut int, mut frac, mut zeros) = (0i64, 0u32, 0u32, 0u32);
    let (mut point, mut any) = (false, false);
    for &b in digits {
        match b {
            b'0'..=b'9' if point => {
                frac += 1;
                if b == b'0' {
                    zeros += 1;
                    continue;
                }
                // Zeros before a significant digit are digits of it.
                for _ in 0..zeros {
                    mantissa = mantissa.checked_mul(10)?;
                }
                zeros = 0;
                mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
            }
            b'0'..=b'9' => {
                any = true;
                if b == b'0' && int == 0 {
                    continue;
                }
                int += 1;
                mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
            }
            b'.' if !point && any => point = true,
            _ => return None,
        }
    }
    // `5.` and `-` are not numbers; at most 18 significant digits.
    let scale = frac - zeros;
    if !any || (point && frac == 0) || int + scale > 18 {
        return None;
    }
    Some((if negative { -mantissa } else { mantissa }, scale, int))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::value::Decimal;

    proptest::proptest! {
        /// On any text of digits, points and minus signs, `plain_number`
        /// agrees with `Decimal::parse` wherever it reads a number.
        #[test]
        fn plain_numbers_are_decimals_on_any_text(t in "-?[0-9.]{0,22}|-?0*[0-9]{0,19}(\\.[0-9]{0,19}0*)?") {
            let d = Decimal::parse(&t);
            match plain_number(t.as_bytes()) {
                Some((m, s, digits)) => {
                    let d = d.unwrap();
                    proptest::prop_assert_eq!(d.parts(), (i128::from(m), s));
                    proptest::prop_assert_eq!(d.int_digits(), digits);
                }
                None => proptest::prop_assert!(d.is_none_or(|d| d.int_digits() + d.scale() > 18)),
            }
        }
    }

    /// `plain_number` reads what `Decimal::parse` reads, to the same
    /// value, and gives up on nothing it could read within 18 digits.
    #[test]
    fn plain_numbers_are_decimals() {
        let texts = [
            "0",
            "-0",
            "7",
            "-7",
            "007",
            "0.5",
            "-0.50",
            "472.89",
            "5.10",
            "5.",
            ".5",
            "-",
            "",
            "1e3",
            "+1",
            " 1",
            "1 ",
            "1.2.3",
            "12345678901234567",
            "123456789012345678",
            "1234567890123456789",
            "0.000000000000000001",
            "100000000000000000.0",
            "٣",
            "1,5",
        ];
        for t in texts {
            let d = Decimal::parse(t);
            match plain_number(t.as_bytes()) {
                Some((m, s, digits)) => {
                    let d = d.unwrap_or_else(|| panic!("{t:?} read, not a decimal"));
                    assert_eq!(d.parts(), (i128::from(m), s), "{t:?}");
                    assert_eq!(d.int_digits(), digits, "{t:?}");
                }
                None => assert!(
                    d.is_none_or(|d| d.int_digits() + d.scale() > 18),
                    "{t:?} is a decimal within 18 digits"
                ),
            }
        }
    }
}
