//! Reading submissions: CSV files in the long layout (one value per line:
//! `unit,period,form,record,cell,value`) or the wide one (one line per
//! unit, period and record, one column per cell), checked against a
//! regime: known units that report it, periods of its frequency, forms,
//! entered cells, and values of each cell's type. The result is grouped
//! into [`Submission`]s; every problem is an [`InputError`] with its file,
//! line and column. Nothing here writes anywhere (`crate::db` does).
//!
//! Layouts (a header line names the columns, in any order):
//!
//! * long: `unit`, `period`, `cell`, `value`, and optionally `form` and
//!   `record`. Without `form`, a cell is written `B01.cargo.month` or is a
//!   cell id found in exactly one form;
//! * wide: `unit`, `period`, optionally `form` and `record`, and one
//!   column per cell, named as in the long layout's `cell`.
//!
//! An empty value is a missing one. Grid forms leave `record` empty;
//! record forms number their records from 1.

use crate::calendar;
use crate::ir::{self, FormKind};
use crate::layout::RegimeLayout;
use crate::value::{self, Value};
use chrono::NaiveDate;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

pub mod json;
pub mod workbook;

/// The values of one form of one unit for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub form: String,
    pub unit: String,
    pub period: String,
    /// The file and line it was first seen on.
    pub file: String,
    pub line: u64,
    /// The form's entered cells, in layout order: the slots of `records`.
    pub cells: Arc<Vec<String>>,
    /// Grid forms: one record, numbered 0. Record forms: by number. Each
    /// record has one slot per entered cell, `None` where missing.
    pub records: BTreeMap<u32, Vec<Option<Value>>>,
}

impl Submission {
    /// SHA-256 of the values in a canonical order: equal for equal data,
    /// whatever the file's layout or line order.
    pub fn checksum(&self) -> String {
        let mut text = String::new();
        for (n, values) in &self.records {
            let mut named: Vec<(&str, &Value)> = self
                .cells
                .iter()
                .zip(values)
                .filter_map(|(c, v)| Some((c.as_str(), v.as_ref()?)))
                .collect();
            named.sort_by_key(|(c, _)| *c);
            for (cell, v) in named {
                text.push_str(&format!("{n}\t{cell}\t{}\n", v.canonical()));
            }
        }
        crate::emit::manifest::sha256(text.as_bytes())
    }

    /// The value of `cell` in record `n` (0 for a grid form).
    pub fn get(&self, n: u32, cell: &str) -> Option<&Value> {
        let slot = self.cells.iter().position(|c| c == cell)?;
        self.records.get(&n)?.get(slot)?.as_ref()
    }

    pub fn value_count(&self) -> usize {
        self.records
            .values()
            .map(|r| r.iter().filter(|v| v.is_some()).count())
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// 1-based; 0 when the problem is the file itself.
    pub line: u64,
    /// The column's name, when one is at fault.
    pub column: Option<String>,
    pub message: String,
    /// A value that breaks its cell's type, range or codelist: for
    /// `regc validate` a violation of a derived rule, not a bad file.
    pub value: Option<BadValue>,
}

/// Where a bad value is and which derived rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue {
    pub problem: value::Problem,
    pub form: String,
    pub cell: String,
    pub unit: String,
    pub period: String,
    pub record: u32,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Printed on terminals: text from the files is escaped.
        let safe = crate::diagnostic::terminal_safe;
        write!(f, "{}", safe(&self.file))?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(c) = &self.column {
            write!(f, " [{}]", safe(c))?;
        }
        write!(f, ": {}", safe(&self.message))
    }
}

/// Where a unit is: its level, the validity of the edition holding it,
/// and whether units of that level report the regime (as reporters or
/// forwarding it up the flow).
type Place<'a> = (&'a str, Option<NaiveDate>, Option<NaiveDate>, bool);

/// A wide file's column: its index and the (form, cell) it names.
type WideColumn = (usize, Result<(String, String), String>);

/// A column of a wide file that names its form: what each of its values
/// needs, found once per file instead of once per value.
struct Resolved<'c> {
    form: &'c str,
    cell: &'c str,
    kind: FormKind,
    slot: usize,
    names: Arc<Vec<String>>,
    storage: crate::layout::Storage,
    bounds: Option<value::Bounds>,
    /// The file's number in `Reader::files`.
    file_no: u64,
}

/// The place a unit holds on `day`: the first edition holding it then.
fn live<'p, 'a>(places: &'p [Place<'a>], day: NaiveDate) -> Option<&'p Place<'a>> {
    places
        .iter()
        .find(|(_, from, to, _)| from.is_none_or(|f| f <= day) && to.is_none_or(|t| day <= t))
}

/// Where a unit is in the editions ([`Context::places`]).
#[derive(Debug, Clone)]
pub struct Places<'a>(Vec<Place<'a>>);

impl Places<'_> {
    /// Whether the unit exists on `cutoff` and reports the regime: the
    /// reader's check of a unit.
    pub fn accept(&self, cutoff: NaiveDate) -> bool {
        live(&self.0, cutoff).is_some_and(|p| p.3)
    }
}

/// A wide file's column that names an entered number cell of a grid
/// form ([`Context::number_column`]).
#[derive(Debug, Clone)]
pub struct NumberColumn {
    pub form: String,
    /// The cell's slot among the form's entered cells.
    pub slot: usize,
    /// `None` for a whole number; (precision, scale) of a decimal.
    pub decimal: Option<(u32, u32)>,
    /// The range's bounds, when the cell has a range of numbers.
    pub bounds: Option<(value::Decimal, value::Decimal)>,
}

/// What a regime accepts: its units, periods, forms and codes.
pub struct Context<'a> {
    pub regime: &'a ir::Regime,
    pub layout: RegimeLayout,
    /// Unit code → (level, valid from, valid to) in each edition holding it.
    units: HashMap<&'a str, Vec<Place<'a>>>,
    codes: HashMap<&'a str, HashSet<&'a str>>,
    /// Year → period id → (start, cut-off, position in the year).
    periods: HashMap<i32, HashMap<String, (NaiveDate, NaiveDate, u32)>>,
    /// Per form: its entered cells (the slots of a record) and their index.
    slots: HashMap<String, FormSlots>,
}

/// The entered cells of a form, in layout order.
struct FormSlots {
    names: Arc<Vec<String>>,
    index: HashMap<String, usize>,
    columns: Vec<crate::layout::Column>,
    /// Each column's range, its bounds read once.
    bounds: Vec<Option<value::Bounds>>,
}

impl<'a> Context<'a> {
    pub fn new(lib: &'a ir::Library, regime: &'a ir::Regime) -> Context<'a> {
        let reports = |level: &str| {
            regime.flow.iter().skip(1).any(|f| f == level)
                || regime.reporters.iter().any(|r| r == level)
        };
        let mut units: HashMap<&str, Vec<_>> = HashMap::default();
        for e in &lib.org.editions {
            for u in &e.units {
                units.entry(u.code.as_str()).or_default().push((
                    u.level.as_str(),
                    e.valid_from,
                    e.valid_to,
                    reports(&u.level),
                ));
            }
        }
        let codes = lib
            .codelists
            .iter()
            .map(|c| {
                (
                    c.code.as_str(),
                    c.values.iter().map(|v| v.code.as_str()).collect(),
                )
            })
            .collect();
        let layout = crate::layout::regime(regime);
        let mut slots: HashMap<String, FormSlots> = HashMap::default();
        for t in &layout.tables {
            let f = slots.entry(t.form.clone()).or_insert_with(|| FormSlots {
                names: Arc::new(Vec::new()),
                index: HashMap::default(),
                columns: Vec::new(),
                bounds: Vec::new(),
            });
            for c in &t.columns {
                f.index.insert(c.cell.clone(), f.columns.len());
                f.columns.push(c.clone());
                f.bounds.push(c.range.as_ref().map(value::Bounds::new));
            }
        }
        for f in slots.values_mut() {
            f.names = Arc::new(f.columns.iter().map(|c| c.cell.clone()).collect());
        }
        Context {
            regime,
            layout,
            units,
            codes,
            periods: HashMap::default(),
            slots,
        }
    }

    /// The bounds of a period id of this regime's frequency.
    /// An ad hoc regime's periods are days (`2025-03-14`, the day reported on).
    pub fn period(&mut self, id: &str) -> Option<(NaiveDate, NaiveDate)> {
        self.period_at(id).map(|(s, e, _)| (s, e))
    }

    /// The bounds of a period and a number that orders the periods:
    /// consecutive periods of a year have consecutive numbers.
    fn period_at(&mut self, id: &str) -> Option<(NaiveDate, NaiveDate, i64)> {
        let year: i32 = id.get(..4)?.parse().ok()?;
        if !PERIOD_YEARS.contains(&year) {
            return None;
        }
        if self.regime.frequency == ir::Frequency::AdHoc {
            let day = NaiveDate::parse_from_str(id, "%Y-%m-%d")
                .ok()
                .filter(|_| id.len() == 10)?;
            let n = i64::from(chrono::Datelike::num_days_from_ce(&day));
            return Some((day, day, n));
        }
        let (freq, cutoff) = (self.regime.frequency, self.regime.cutoff);
        let (s, e, i) = self
            .periods
            .entry(year)
            .or_insert_with(|| {
                calendar::period_bounds(freq, cutoff, year)
                    .into_iter()
                    .zip(0u32..)
                    .map(|((id, s, e), i)| (id, (s, e, i)))
                    .collect()
            })
            .get(id)
            .copied()?;
        Some((s, e, i64::from(year) * 1000 + i64::from(i)))
    }

    /// Checks that `unit` exists on `day` and reports this regime: as one
    /// of its reporters, or as a level of its flow forwarding the report.
    fn check_unit(&self, unit: &str, day: NaiveDate) -> Result<(), String> {
        let Some(places) = self.units.get(unit) else {
            return Err(format!("unknown unit `{unit}`"));
        };
        let Some((level, _, _, reports)) = live(places, day) else {
            return Err(format!(
                "unit `{unit}` does not exist on {day} (the period's cut-off day)"
            ));
        };
        if !reports {
            let above: Vec<&str> = self
                .regime
                .flow
                .iter()
                .skip(1)
                .map(String::as_str)
                .collect();
            return Err(format!(
                "unit `{unit}` is a {level}; {} is reported by {}{}",
                self.regime.code,
                self.regime.reporters.join(", "),
                if above.is_empty() {
                    String::new()
                } else {
                    format!(" and forwarded by {}", above.join(", "))
                }
            ));
        }
        Ok(())
    }

    /// Where `unit` is in the editions (for [`Places::accept`]): what
    /// the reader looks up per line, for a caller that keeps it per unit.
    pub fn places(&self, unit: &str) -> Option<Places<'a>> {
        self.units.get(unit).map(|p| Places(p.clone()))
    }

    /// The cut-off day and number of a period of the regime.
    pub fn cutoff(&mut self, period: &str) -> Option<(NaiveDate, i64)> {
        self.period_at(period).map(|(_, cutoff, n)| (cutoff, n))
    }

    /// What a wide file's column named `name` (without a `form` column)
    /// holds, when it is an entered number cell of a grid form: enough
    /// to parse and check its values without the reader
    /// (`crate::validate::bulk`). `None` for anything else.
    pub fn number_column(&self, name: &str) -> Option<NumberColumn> {
        let (form, cell) = self.resolve_cell(None, name).ok()?;
        if self.form(&form).ok()?.kind != FormKind::Grid {
            return None;
        }
        let slots = self.slots.get(&form)?;
        let slot = *slots.index.get(&cell)?;
        let decimal = match slots.columns.get(slot)?.storage {
            crate::layout::Storage::Integer => None,
            crate::layout::Storage::Decimal { precision, scale } => Some((precision, scale)),
            _ => return None,
        };
        let bounds = slots
            .bounds
            .get(slot)?
            .as_ref()
            .and_then(value::Bounds::numbers);
        Some(NumberColumn {
            form,
            slot,
            decimal,
            bounds,
        })
    }

    /// The form and cell a column or `cell` value names.
    fn resolve_cell(&self, form: Option<&str>, name: &str) -> Result<(String, String), String> {
        if let Some(code) = form
            && self
                .slots
                .get(code)
                .is_some_and(|f| f.index.contains_key(name))
        {
            return Ok((code.to_string(), name.to_string()));
        }
        let entered = |f: &ir::Form, cell: &str| -> Result<bool, String> {
            match f.cells.iter().find(|c| c.id == cell) {
                None => Ok(false),
                Some(c) if matches!(c.entry, ir::Entry::Computed { .. }) => Err(format!(
                    "cell `{cell}` of form {} is computed, not entered: leave it out",
                    f.code
                )),
                Some(_) => Ok(true),
            }
        };
        if let Some(code) = form {
            let f = self.form(code)?;
            return if entered(f, name)? {
                Ok((code.to_string(), name.to_string()))
            } else {
                Err(self.unknown_cell(f, name))
            };
        }
        if let Some((code, cell)) = name.split_once('.')
            && let Some(f) = self.regime.forms.iter().find(|f| f.code == code)
        {
            return if entered(f, cell)? {
                Ok((code.to_string(), cell.to_string()))
            } else {
                Err(self.unknown_cell(f, cell))
            };
        }
        let mut found = Vec::new();
        for f in &self.regime.forms {
            if entered(f, name)? {
                found.push(f.code.clone());
            }
        }
        match found.as_slice() {
            [one] => Ok((one.clone(), name.to_string())),
            [] => Err(format!(
                "no form of {} has a cell `{name}`",
                self.regime.code
            )),
            many => Err(format!(
                "cell `{name}` is in forms {}: write it `FORM.{name}`",
                many.join(", ")
            )),
        }
    }

    fn form(&self, code: &str) -> Result<&'a ir::Form, String> {
        self.regime
            .forms
            .iter()
            .find(|f| f.code == code)
            .ok_or_else(|| {
                let known: Vec<&str> = self.regime.forms.iter().map(|f| f.code.as_str()).collect();
                format!(
                    "unknown form `{code}`; {} has {}",
                    self.regime.code,
                    known.join(", ")
                )
            })
    }

    fn unknown_cell(&self, f: &ir::Form, cell: &str) -> String {
        let near = f
            .cells
            .iter()
            .map(|c| (strsim::jaro_winkler(&c.id, cell), &c.id))
            .filter(|(s, _)| *s > 0.85)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| format!(" (did you mean `{id}`?)"))
            .unwrap_or_default();
        format!("form {} has no cell `{cell}`{near}", f.code)
    }

    /// What a value of `form`.`cell` read from file number `file_no`
    /// needs (`None` if not an entered cell of a known form).
    fn resolve<'c>(&self, form: &'c str, cell: &'c str, file_no: u64) -> Option<Resolved<'c>> {
        let slots = self.slots.get(form)?;
        let slot = *slots.index.get(cell)?;
        Some(Resolved {
            form,
            cell,
            kind: self.form(form).ok()?.kind,
            slot,
            names: slots.names.clone(),
            storage: slots.columns.get(slot)?.storage.clone(),
            bounds: slots.bounds.get(slot)?.clone(),
            file_no,
        })
    }

    /// A value of a resolved column, parsed.
    fn parse_resolved(
        &self,
        r: &Resolved,
        text: &str,
    ) -> Result<Value, (Option<value::Problem>, String)> {
        let codes = |code: &str| match &r.storage {
            crate::layout::Storage::Code { codelist } => self
                .codes
                .get(codelist.as_str())
                .is_some_and(|set| set.contains(code)),
            _ => false,
        };
        value::parse_within(text, &r.storage, r.bounds.as_ref(), &codes)
            .map_err(|(p, e)| (Some(p), e))
    }

    /// The slot of an entered cell and its parsed value.
    /// A number typed by a person, read as docs/forms.md says (Entering
    /// numbers) into the canonical text; any other value as it is.
    fn read_typed(
        &self,
        form: &str,
        cell: &str,
        text: &str,
    ) -> Result<String, (Option<value::Problem>, String)> {
        let scale = self.form(form).ok().and_then(|f| {
            let c = f.cells.iter().find(|c| c.id == cell)?;
            Some(match c.ty {
                ir::Type::Int | ir::Type::Money => (0, false),
                ir::Type::Decimal { scale, .. } => (scale, false),
                ir::Type::Percent => (crate::layout::PERCENT_SCALE, true),
                _ => return None,
            })
        });
        match scale {
            Some((scale, percent)) => {
                value::entry::read_number(text, scale, percent).map_err(|e| {
                    (
                        Some(value::Problem::Type),
                        format!("`{}`: {e}", text.trim()),
                    )
                })
            }
            None => Ok(text.to_string()),
        }
    }

    fn parse_value(
        &self,
        form: &str,
        cell: &str,
        text: &str,
    ) -> Result<(usize, Value), (Option<value::Problem>, String)> {
        let Some((slot, column, bounds)) = self.slots.get(form).and_then(|f| {
            f.index
                .get(cell)
                .and_then(|i| Some((*i, f.columns.get(*i)?, f.bounds.get(*i)?)))
        }) else {
            return Err((None, format!("form {form} has no entered cell `{cell}`")));
        };
        let codes = |code: &str| match &column.storage {
            crate::layout::Storage::Code { codelist } => self
                .codes
                .get(codelist.as_str())
                .is_some_and(|set| set.contains(code)),
            _ => false,
        };
        value::parse_within(text, &column.storage, bounds.as_ref(), &codes)
            .map(|v| (slot, v))
            .map_err(|(p, e)| (Some(p), e))
    }
}

/// How a submission file is read, told by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.xlsx`, `.xlsm`, `.xls`, `.ods`: the first worksheet.
    Workbook,
    /// `.json`: the forms' submission document.
    Json,
    /// Anything else.
    Csv,
}

impl FileKind {
    pub fn of(path: &std::path::Path) -> FileKind {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "xlsx" | "xlsm" | "xls" | "ods" => FileKind::Workbook,
            "json" => FileKind::Json,
            _ => FileKind::Csv,
        }
    }
}

/// The years whose periods a submission may name: a period of 1900 or
/// 9999 is a typing slip, not a report.
pub const PERIOD_YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// The most bytes of a JSON submission set, which is read whole (a CSV
/// file is streamed, a workbook bounded by `workbook`).
pub const MAX_JSON_BYTES: u64 = 256 << 20;

/// The most problems reported per file before giving up on it.
pub const MAX_ERRORS: usize = 200;

/// Submissions read so far from any number of files, keyed by
/// (form, unit, period).
#[derive(Debug, Default)]
pub struct Reader {
    pub submissions: BTreeMap<(String, String, String), Submission>,
    pub errors: Vec<InputError>,
    pub rows: u64,
    /// The moment each unit submitted its report for a period, when the
    /// files say it (`submitted_at`): (unit, period, form) → RFC 3339, in
    /// UTC. The form is empty when the line did not name one: the time
    /// then holds for every form of that unit and period on the line.
    pub submitted_at: BTreeMap<(String, String, String), String>,
    /// The explanations a JSON submission gives for warnings: (form, unit,
    /// period) → rule code → text (docs/forms.md).
    pub explanations: BTreeMap<(String, String, String), BTreeMap<String, String>>,
    /// Where each value was given, parallel to the submissions' slots:
    /// (form, unit, period) → record → slot → (file, line).
    lines: HashMap<(String, String, String), HashMap<u32, Vec<u64>>>,
    files: Vec<String>,
    /// The last (unit, period) checked: files list a submission's values
    /// together, so most lines repeat it.
    last_checked: Option<(String, String)>,
    /// The (unit, period) whose lines are being read.
    open: Option<Open>,
    /// Set by [`Reader::streaming`]: groups are sent, not kept.
    stream: Option<Stream>,
    /// How many errors so far are problems of the files, not bad values
    /// (only those count towards [`MAX_ERRORS`]: bad values are
    /// violations, however many).
    problems: usize,
}

/// The submissions of one unit and period, as read from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub unit: String,
    pub period: String,
    pub submissions: Vec<Arc<Submission>>,
    /// Values that break their cell's type, range or codelist.
    pub bad_values: Vec<BadValue>,
    /// The unit's submissions for the earlier periods a rule may read,
    /// sorted by (period, form) (see [`Reader::keep_earlier`]); empty
    /// unless asked for.
    pub earlier: Vec<Arc<Submission>>,
}

/// The group being read, with where each of its values was given (by
/// submission, record and slot: file number << 40 | line).
#[derive(Debug)]
struct Open {
    unit: String,
    period: String,
    subs: Vec<(Submission, HashMap<u32, Vec<u64>>)>,
    /// The first error of the group in `Reader::errors`.
    errors_from: usize,
    /// Streaming: the period's number (`Context::period_at`).
    number: i64,
}

/// How many groups go to the evaluator at a time.
const BATCH: usize = 512;

#[derive(Debug)]
struct Stream {
    send: SyncSender<Vec<Group>>,
    batch: Vec<Group>,
    /// Unit → the periods already sent, as intervals of period numbers.
    done: HashMap<String, Vec<(i64, i64)>>,
    /// Where a group's lines started again after it was sent.
    scattered: Option<String>,
    /// Set by [`Reader::keep_earlier`].
    window: Option<Window>,
}

/// Per unit, the submissions of its last periods sent, that the groups of
/// its later periods carry along (rules that read earlier periods).
#[derive(Debug, Default)]
pub struct Window {
    /// How many of a unit's last periods are kept.
    periods: usize,
    /// Unit → its last periods with data (oldest first), each period's
    /// submissions sorted by form.
    units: HashMap<String, std::collections::VecDeque<Vec<Arc<Submission>>>>,
    /// A period whose id sorts before its unit's previous one was pushed.
    unsorted: bool,
}

impl Window {
    /// A window of each unit's last `periods` periods.
    pub fn new(periods: usize) -> Window {
        Window {
            periods,
            units: HashMap::default(),
            unsorted: false,
        }
    }

    /// The submissions kept for `unit`, sorted by (period, form).
    pub fn earlier(&self, unit: &str) -> Vec<Arc<Submission>> {
        let mut list: Vec<Arc<Submission>> = self
            .units
            .get(unit)
            .map(|periods| periods.iter().flatten().cloned().collect())
            .unwrap_or_default();
        // Periods come in order and their ids sort the same way (checked
        // as they are pushed), but the lookup must not depend on it.
        if self.unsorted {
            list.sort_by(|a, b| (&a.period, &a.form).cmp(&(&b.period, &b.form)));
        }
        list
    }

    /// Adds the submissions of `unit`'s latest period (later than those
    /// kept) and drops its periods out of reach.
    pub fn push(&mut self, unit: &str, mut period: Vec<Arc<Submission>>) {
        if self.periods == 0 || period.is_empty() {
            return;
        }
        period.sort_by(|a, b| a.form.cmp(&b.form));
        let list = match self.units.get_mut(unit) {
            Some(list) => list,
            None => self.units.entry(unit.to_string()).or_default(),
        };
        if let (Some(last), Some(new)) = (list.back().and_then(|p| p.first()), period.first())
            && last.period >= new.period
        {
            self.unsorted = true;
        }
        list.push_back(period);
        while list.len() > self.periods {
            list.pop_front();
        }
    }

    /// How many submissions are kept, all units together.
    pub fn held(&self) -> usize {
        self.units.values().flatten().map(Vec::len).sum()
    }
}

/// Adds `x` to a sorted list of disjoint intervals; whether it was in.
pub(crate) fn mark(list: &mut Vec<(i64, i64)>, x: i64) -> bool {
    let i = list.partition_point(|&(_, hi)| hi < x);
    let next = list.get(i).copied();
    if next.is_some_and(|(lo, _)| lo <= x) {
        return true;
    }
    let prev = i.checked_sub(1).and_then(|p| list.get(p).copied());
    let joins_prev = prev.is_some_and(|(_, hi)| hi + 1 == x);
    let joins_next = next.is_some_and(|(lo, _)| lo == x + 1);
    match (joins_prev, joins_next, next) {
        (true, true, Some((_, hi))) => {
            list.remove(i);
            if let Some(p) = i.checked_sub(1).and_then(|p| list.get_mut(p)) {
                p.1 = hi;
            }
        }
        (true, _, _) => {
            if let Some(p) = i.checked_sub(1).and_then(|p| list.get_mut(p)) {
                p.1 = x;
            }
        }
        (false, true, _) => {
            if let Some(n) = list.get_mut(i) {
                n.0 = x;
            }
        }
        _ => list.insert(i, (x, x)),
    }
    false
}

/// One value of a line, before it is grouped.
struct Item<'l> {
    unit: &'l str,
    period: &'l str,
    form: Option<&'l str>,
    record: &'l str,
    cell: &'l str,
    value: &'l str,
    /// The column the value came from (wide layout) or `value`.
    column: &'l str,
    /// Typed by a person (a text cell of an Excel template): a number is
    /// read as people write it (`crate::value::entry`), not as a file's.
    typed: bool,
}

impl Reader {
    /// A reader that keeps nothing: the submissions of each unit and
    /// period are sent to `send` (in batches) as soon as the lines of the
    /// next one begin, with the bad values among them. Files list a
    /// submission's lines together; if the lines of a unit and period
    /// start again after it was sent, the reader stops and
    /// [`Reader::scattered`] says where: read the files whole instead.
    /// Call [`Reader::finish`] after the last file.
    pub fn streaming(send: SyncSender<Vec<Group>>) -> Reader {
        Reader {
            stream: Some(Stream {
                send,
                batch: Vec::new(),
                done: HashMap::default(),
                scattered: None,
                window: None,
            }),
            ..Reader::default()
        }
    }

    /// Streaming: each group also carries its unit's submissions of its
    /// last `periods` periods before it (those the rules may read), and a
    /// unit's periods must come in order (else the reader stops, as for
    /// scattered lines: [`Reader::scattered`]). 0 keeps nothing.
    pub fn keep_earlier(&mut self, periods: usize) {
        if let Some(st) = &mut self.stream {
            st.window = (periods > 0).then(|| Window::new(periods));
        }
    }

    /// Streaming: how many submissions the window holds (all units).
    pub fn window_held(&self) -> usize {
        self.stream
            .as_ref()
            .and_then(|st| st.window.as_ref())
            .map_or(0, Window::held)
    }

    /// Streaming: where the lines of a group already sent started again.
    pub fn scattered(&self) -> Option<&str> {
        self.stream.as_ref()?.scattered.as_deref()
    }

    /// Streaming: sends the groups still held.
    pub fn finish(&mut self) {
        self.close();
        if let Some(st) = &mut self.stream
            && !st.batch.is_empty()
        {
            let _ = st.send.send(std::mem::take(&mut st.batch));
        }
    }

    fn stopped(&self) -> bool {
        self.scattered().is_some()
    }

    /// Starts (or goes on with) the group of `unit` and `period`.
    fn open(&mut self, ctx: &mut Context, file: &str, line: u64, unit: &str, period: &str) {
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.unit == unit && o.period == period)
        {
            return;
        }
        self.close();
        let mut open = Open {
            unit: unit.to_string(),
            period: period.to_string(),
            subs: Vec::new(),
            errors_from: self.errors.len(),
            number: 0,
        };
        match &mut self.stream {
            Some(st) => {
                let n = ctx.period_at(period).map_or(0, |(_, _, n)| n);
                open.number = n;
                let done = st.done.get(unit);
                if done.is_some_and(|l| {
                    let i = l.partition_point(|&(_, hi)| hi < n);
                    l.get(i).is_some_and(|(lo, _)| *lo <= n)
                }) {
                    st.scattered = Some(format!(
                        "{file}:{line}: the lines of {unit} for {period} start again after other submissions"
                    ));
                } else if st.window.is_some()
                    && let Some(&(_, last)) = done.and_then(|l| l.last())
                    && n < last
                {
                    // The window holds the unit's last periods: an earlier
                    // one now would be checked without its own earlier ones.
                    st.scattered = Some(format!(
                        "{file}:{line}: {unit} for {period} comes after a later period of {unit}, and rules read earlier periods"
                    ));
                }
            }
            None => {
                // Lines of a submission seen before: take it up again.
                for f in &ctx.regime.forms {
                    let key = (f.code.clone(), open.unit.clone(), open.period.clone());
                    if let Some(sub) = self.submissions.remove(&key) {
                        let lines = self.lines.remove(&key).unwrap_or_default();
                        open.subs.push((sub, lines));
                    }
                }
            }
        }
        self.open = Some(open);
    }

    /// Ends the group being read: kept, or sent when streaming.
    fn close(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        let Some(st) = &mut self.stream else {
            for (sub, lines) in open.subs {
                let key = (sub.form.clone(), sub.unit.clone(), sub.period.clone());
                self.lines.insert(key.clone(), lines);
                self.submissions.insert(key, sub);
            }
            return;
        };
        // Bad values are violations of the group's, not problems of the file.
        let mut bad_values = Vec::new();
        let mut kept = Vec::new();
        for e in self.errors.drain(open.errors_from.min(self.errors.len())..) {
            match e.value {
                Some(b) => bad_values.push(b),
                None => kept.push(e),
            }
        }
        self.errors.extend(kept);
        if open.subs.is_empty() && bad_values.is_empty() {
            return;
        }
        match st.done.get_mut(&open.unit) {
            Some(list) => {
                mark(list, open.number);
            }
            None => {
                st.done
                    .insert(open.unit.clone(), vec![(open.number, open.number)]);
            }
        }
        let submissions: Vec<Arc<Submission>> =
            open.subs.into_iter().map(|(s, _)| Arc::new(s)).collect();
        let earlier = match &mut st.window {
            Some(w) => {
                let earlier = w.earlier(&open.unit);
                w.push(&open.unit, submissions.clone());
                earlier
            }
            None => Vec::new(),
        };
        let group = Group {
            submissions,
            unit: open.unit,
            period: open.period,
            bad_values,
            earlier,
        };
        st.batch.push(group);
        if st.batch.len() >= BATCH && st.send.send(std::mem::take(&mut st.batch)).is_err() {
            st.scattered = Some("the evaluation stopped".to_string());
        }
    }

    /// Reads one CSV file (long or wide, told by its header).
    pub fn read_csv(&mut self, ctx: &mut Context, file: &str, input: impl std::io::Read) {
        let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(input);
        let header = match csv.headers() {
            Ok(h) => h.iter().map(|h| h.trim().to_string()).collect(),
            Err(e) => {
                self.error(file, csv_line(&e), None, csv_message(&e));
                return;
            }
        };
        let mut table = CsvTable {
            csv,
            record: csv::StringRecord::new(),
        };
        self.read_table(ctx, file, header, &mut table);
    }

    /// Reads lines already split into fields (by `crate::validate::bulk`,
    /// which hands over the lines it does not check itself), under the
    /// header `names`, as [`Reader::read_csv`] reads a file's lines.
    pub fn read_records(
        &mut self,
        ctx: &mut Context,
        file: &str,
        names: Vec<String>,
        rows: Vec<(u64, csv::StringRecord)>,
    ) {
        let mut table = RecordsTable {
            rows: rows.into_iter(),
            record: csv::StringRecord::new(),
        };
        self.read_table(ctx, file, names, &mut table);
    }

    /// Reads the first worksheet of an Excel workbook (`.xlsx`, `.xls`,
    /// `.ods`) laid out like a CSV file: a header row, then one row per
    /// value (long) or per unit and period (wide).
    pub fn read_workbook(&mut self, ctx: &mut Context, file: &str, path: &std::path::Path) {
        if let Err(e) = workbook::check_inflated_size(path) {
            return self.error(file, 0, None, e);
        }
        let mut book = match calamine::open_workbook_auto(path) {
            Ok(b) => b,
            Err(e) => {
                return self.error(file, 0, None, format!("not a workbook regc can read: {e}"));
            }
        };
        let meta_name = crate::emit::xlsx::META_SHEET;
        if calamine::Reader::sheet_names(&book)
            .iter()
            .any(|n| n == meta_name)
        {
            return match workbook::read_sheet(&mut book, meta_name) {
                Ok(meta) => self.read_template(ctx, file, &mut book, &meta),
                Err(e) => self.error(file, 0, None, e),
            };
        }
        let Some(first) = workbook::first_sheet(&book) else {
            return self.error(file, 0, None, "the workbook has no worksheet".into());
        };
        let sheet = match workbook::read_sheet(&mut book, &first) {
            Ok(s) => s,
            Err(e) => return self.error(file, 0, None, e),
        };
        let Some((top, left)) = sheet.start() else {
            return self.error(
                file,
                1,
                None,
                "the worksheet is empty: expected a header row".into(),
            );
        };
        let header = sheet
            .row(top)
            .iter()
            .filter_map(|((_, c), d)| {
                Some((c.checked_sub(left)?, sheet_text(d).trim().to_string()))
            })
            .collect::<Vec<_>>();
        // The header row as a dense list: its width is that of the cells
        // it names, and a hostile far-off cell in it is one more column.
        let width = header.last().map_or(0, |(c, _)| *c as usize + 1);
        if width > workbook::MAX_SHEET_CELLS {
            return self.error(
                file,
                1,
                None,
                "the header row is wider than regc reads".into(),
            );
        }
        let mut names = vec![String::new(); width];
        for (c, h) in header {
            if let Some(slot) = names.get_mut(c as usize) {
                *slot = h;
            }
        }
        let last = sheet.last_row().unwrap_or(top);
        let mut table = SheetTable {
            sheet,
            left,
            next: u64::from(top) + 1,
            last: u64::from(last),
            row: Vec::new(),
        };
        self.read_table(ctx, file, names, &mut table);
    }

    /// Reads a filled Excel template of a form (`regc build` writes them,
    /// `crate::emit::xlsx`): its hidden sheet `regc` says where the unit,
    /// the period and each cell are on the form's sheet.
    fn read_template<R: std::io::Read + std::io::Seek>(
        &mut self,
        ctx: &mut Context,
        file: &str,
        book: &mut calamine::Sheets<R>,
        meta: &workbook::Sheet,
    ) {
        let rows: Vec<Vec<String>> = match meta.start() {
            None => Vec::new(),
            Some((top, _)) => (top..=meta.last_row().unwrap_or(top))
                .map(|r| {
                    // The hidden sheet's rows start in column A: kind, cell, place.
                    (0..3)
                        .map(|c| meta.get((r, c)).map(sheet_text).unwrap_or_default())
                        .collect()
                })
                .collect(),
        };
        let get = |key: &str| {
            rows.iter()
                .find(|r| r.first().map(String::as_str) == Some(key))
                .and_then(|r| r.get(1))
                .cloned()
                .unwrap_or_default()
        };
        let (regime, form) = (get("regime"), get("form"));
        if regime != ctx.regime.code {
            return self.error(
                file,
                0,
                None,
                format!("a template of {regime}, not of {}", ctx.regime.code),
            );
        }
        let sheet = match workbook::read_sheet(book, &form) {
            Ok(s) => s,
            Err(e) => {
                return self.error(file, 0, None, format!("no sheet {form}: {e}"));
            }
        };
        let at = |address: &str| -> String {
            crate::emit::xlsx::parse_a1(address)
                .and_then(|(r, c)| sheet.get((r, u32::from(c))))
                .map(sheet_text)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let (unit, period) = (at(&get("unit")), at(&get("period")));
        let span = rows
            .iter()
            .find(|r| r.first().map(String::as_str) == Some("rows"))
            .and_then(|r| {
                Some((
                    r.get(1)?.parse::<u32>().ok()?,
                    r.get(2)?.parse::<u32>().ok()?,
                ))
            });
        for r in &rows {
            let (Some(kind), Some(cell), Some(place)) = (r.first(), r.get(1), r.get(2)) else {
                continue;
            };
            let places: Vec<(String, String)> = match (kind.as_str(), span) {
                ("cell", _) => vec![(place.clone(), String::new())],
                ("field", Some((first, last))) => (first..=last)
                    .map(|line| (format!("{place}{line}"), (line - first + 1).to_string()))
                    .collect(),
                _ => continue,
            };
            for (address, record) in places {
                let value = at(&address);
                if value.is_empty() {
                    continue;
                }
                // A number cell holding text: typed by a person (the cell
                // formatted as text, or a paste), read as people write.
                let value_typed = crate::emit::xlsx::parse_a1(&address)
                    .and_then(|(r, c)| sheet.get((r, u32::from(c))))
                    .is_some_and(|d| matches!(d, calamine::Data::String(_)));
                self.rows += 1;
                let line =
                    crate::emit::xlsx::parse_a1(&address).map_or(0, |(r, _)| u64::from(r) + 1);
                let item = Item {
                    unit: &unit,
                    period: &period,
                    form: Some(form.as_str()),
                    record: &record,
                    cell,
                    value: &value,
                    column: &address,
                    typed: value_typed,
                };
                self.add(ctx, file, line, item);
            }
        }
        // The last group read is kept (or sent, when streaming).
        self.close();
    }

    /// Reads a submission set (docs/rules.md): `{"regime", "submissions":
    /// [{"unit", "period", "form", "records": {"0": {"cell": "value"}},
    /// "explanations": {"R01": "why"}}]}` (the document a form page writes,
    /// docs/forms.md), values as text (numbers and true/false are taken as
    /// written).
    /// Problems are located by their JSON path.
    pub fn read_json(&mut self, ctx: &mut Context, file: &str, mut input: impl std::io::Read) {
        use json::Json;
        let mut text = String::new();
        if let Err(e) = input.read_to_string(&mut text) {
            return self.error(file, 0, None, format!("cannot read the file: {e}"));
        }
        let doc = match Json::parse(&text) {
            Ok(v) => v,
            Err(e) => {
                return self.error(
                    file,
                    u64::try_from(e.line()).unwrap_or(0),
                    None,
                    format!("not JSON: {e}"),
                );
            }
        };
        drop(text);
        // A key given twice would silently take one of its values.
        let twice = |j: &Json, at: &str| {
            j.duplicate_key().map(|k| {
                let path = if at.is_empty() {
                    k.to_string()
                } else {
                    format!("{at}.{k}")
                };
                (path, format!("`{k}` is given twice"))
            })
        };
        if let Some((path, message)) = twice(&doc, "") {
            return self.error(file, 0, Some(path), message);
        }
        if let Some(code) = doc.get("regime").and_then(|r| r.as_str())
            && code != ctx.regime.code
        {
            return self.error(
                file,
                0,
                Some("regime".into()),
                format!("a submission of {code}, not of {}", ctx.regime.code),
            );
        }
        let Some(Json::Array(subs)) = doc.get("submissions") else {
            return self.error(
                file,
                0,
                Some("submissions".into()),
                "expected a list `submissions`".into(),
            );
        };
        // (unit, period, form) → the submission that gave it first.
        let mut first: HashMap<(String, String, String), usize> = HashMap::default();
        for (i, sub) in subs.iter().enumerate() {
            if let Some((path, message)) = twice(sub, &format!("submissions[{i}]")) {
                self.error(file, 0, Some(path), message);
                continue;
            }
            let text = |k: &str| {
                sub.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let (unit, period, form) = (text("unit"), text("period"), text("form"));
            if let Some(j) = first.get(&(unit.clone(), period.clone(), form.clone())) {
                self.error(
                    file,
                    0,
                    Some(format!("submissions[{i}]")),
                    format!(
                        "a second submission of form {form} of {unit} for {period} \
                         (the first is submissions[{j}]): send one, with every record"
                    ),
                );
                continue;
            }
            first.insert((unit.clone(), period.clone(), form.clone()), i);
            match sub.get(SUBMITTED_AT) {
                None | Some(Json::Null) => {}
                Some(Json::String(when)) => {
                    let column = format!("submissions[{i}].{SUBMITTED_AT}");
                    let key = (unit.clone(), period.clone(), form.clone());
                    self.submitted_at_given(file, 0, &column, key, when);
                }
                Some(_) => self.error(
                    file,
                    0,
                    Some(format!("submissions[{i}].{SUBMITTED_AT}")),
                    "expected the time of submission as text (2025-02-03T09:30:00+07:00)".into(),
                ),
            }
            match sub.get("explanations") {
                None | Some(Json::Null) => {}
                Some(given @ Json::Object(entries)) => {
                    if let Some((path, message)) =
                        twice(given, &format!("submissions[{i}].explanations"))
                    {
                        self.error(file, 0, Some(path), message);
                    }
                    for (rule, why) in entries {
                        match why.as_str() {
                            Some(why) if !why.trim().is_empty() => {
                                self.explanations
                                    .entry((form.clone(), unit.clone(), period.clone()))
                                    .or_default()
                                    .insert(rule.clone(), why.to_string());
                            }
                            _ => self.error(
                                file,
                                0,
                                Some(format!("submissions[{i}].explanations.{rule}")),
                                "expected the text of an explanation".into(),
                            ),
                        }
                    }
                }
                Some(_) => self.error(
                    file,
                    0,
                    Some(format!("submissions[{i}].explanations")),
                    "expected an object: rule code → explanation".into(),
                ),
            }
            let records = match sub.get("records") {
                Some(r @ Json::Object(entries)) => {
                    if let Some((path, message)) = twice(r, &format!("submissions[{i}].records")) {
                        self.error(file, 0, Some(path), message);
                        continue;
                    }
                    entries
                }
                _ => {
                    self.error(
                        file,
                        0,
                        Some(format!("submissions[{i}].records")),
                        "expected an object of records".into(),
                    );
                    continue;
                }
            };
            for (n, cells) in records {
                let Json::Object(entries) = cells else {
                    self.error(
                        file,
                        0,
                        Some(format!("submissions[{i}].records.{n}")),
                        "expected an object of cells".into(),
                    );
                    continue;
                };
                if let Some((path, message)) =
                    twice(cells, &format!("submissions[{i}].records.{n}"))
                {
                    self.error(file, 0, Some(path), message);
                    continue;
                }
                let record = if n == "0" { "" } else { n.as_str() };
                for (cell, value) in entries {
                    // Numbers as written: never through binary floating point.
                    let value = value.text();
                    self.rows += 1;
                    let column = format!("submissions[{i}].records.{n}.{cell}");
                    let item = Item {
                        unit: &unit,
                        period: &period,
                        form: Some(form.as_str()),
                        record,
                        cell,
                        value: &value,
                        column: &column,
                        typed: false,
                    };
                    self.add(ctx, file, 0, item);
                }
            }
        }
        self.close();
    }

    /// Reads a file by its extension ([`FileKind::of`]).
    pub fn read_path(&mut self, ctx: &mut Context, path: &std::path::Path) -> std::io::Result<()> {
        let name = crate::source::display_path(path);
        match FileKind::of(path) {
            FileKind::Workbook => {
                std::fs::metadata(path)?;
                self.read_workbook(ctx, &name, path);
            }
            FileKind::Json => {
                // A JSON document is read whole: its size is checked first.
                let size = std::fs::metadata(path)?.len();
                if size > MAX_JSON_BYTES {
                    self.error(
                        &name,
                        0,
                        None,
                        format!(
                            "the file has {size} bytes; a JSON submission set may have at most {} MB \
                             (split it, or send CSV, which is read as a stream)",
                            MAX_JSON_BYTES >> 20
                        ),
                    );
                    return Ok(());
                }
                self.read_json(
                    ctx,
                    &name,
                    std::io::BufReader::new(std::fs::File::open(path)?),
                )
            }
            FileKind::Csv => self.read_csv(
                ctx,
                &name,
                std::io::BufReader::new(std::fs::File::open(path)?),
            ),
        }
        Ok(())
    }

    fn read_table(
        &mut self,
        ctx: &mut Context,
        file: &str,
        names: Vec<String>,
        table: &mut dyn Table,
    ) {
        self.read_rows(ctx, file, names, table);
        self.close();
    }

    fn read_rows(
        &mut self,
        ctx: &mut Context,
        file: &str,
        names: Vec<String>,
        table: &mut dyn Table,
    ) {
        let errors_before = self.errors.len();
        let problems_before = self.problems;
        if names.is_empty() || names.iter().all(|h| h.is_empty()) {
            self.error(
                file,
                1,
                None,
                "the file is empty: expected a header line (unit,period,form,record,cell,value)"
                    .to_string(),
            );
            return;
        }
        let col = |n: &str| names.iter().position(|h| h == n);
        let (Some(unit), Some(period)) = (col("unit"), col("period")) else {
            self.error(
                file,
                1,
                None,
                "the header names no `unit` and `period` columns".to_string(),
            );
            return;
        };
        let (form, record) = (col("form"), col("record"));
        let submitted = col(SUBMITTED_AT);
        let long = match (col("cell"), col("value")) {
            (Some(c), Some(v)) => Some((c, v)),
            _ => None,
        };
        let mut dup = HashSet::default();
        for (i, n) in names.iter().enumerate() {
            if !dup.insert(n) {
                self.error(
                    file,
                    1,
                    Some(n.clone()),
                    format!("column `{n}` is named twice"),
                );
            }
            let known = [
                Some(unit),
                Some(period),
                form,
                record,
                submitted,
                long.map(|l| l.0),
                long.map(|l| l.1),
            ];
            if long.is_some() && !known.contains(&Some(i)) {
                self.error(
                    file,
                    1,
                    Some(n.clone()),
                    format!("unknown column `{n}`: a long file has unit, period, form, record, submitted_at, cell and value"),
                );
            }
        }
        if self.errors.len() > errors_before {
            return;
        }
        // Wide: resolve each cell column once.
        let mut wide_columns: Vec<WideColumn> = Vec::new();
        if long.is_none() {
            for (i, n) in names.iter().enumerate() {
                if [Some(unit), Some(period), form, record, submitted].contains(&Some(i)) {
                    continue;
                }
                if form.is_some() {
                    // Resolved per line, against that line's form.
                    wide_columns.push((i, Ok((String::new(), n.clone()))));
                } else {
                    wide_columns.push((i, ctx.resolve_cell(None, n)));
                }
            }
            for (i, r) in &wide_columns {
                if let Err(e) = r {
                    self.error(file, 1, names.get(*i).cloned(), e.clone());
                }
            }
            if self.errors.len() > errors_before {
                return;
            }
        }
        let file_no = self.file_no(file);
        let fast: Vec<Option<Resolved>> = wide_columns
            .iter()
            .map(|(_, r)| match r {
                Ok((rf, cell)) if !rf.is_empty() => ctx.resolve(rf, cell, file_no),
                _ => None,
            })
            .collect();
        loop {
            if self.stopped() {
                return;
            }
            if self.problems.saturating_sub(problems_before) >= MAX_ERRORS {
                self.error(
                    file,
                    0,
                    None,
                    format!("more than {MAX_ERRORS} problems; stopped reading"),
                );
                return;
            }
            let line = match table.next_row() {
                Ok(None) => break,
                Ok(Some(line)) => line,
                Err((line, message)) => {
                    self.error(file, line, None, message);
                    // A malformed line stops the file: what follows may be
                    // misaligned.
                    return;
                }
            };
            self.rows += 1;
            let get = |i: Option<usize>| i.and_then(|i| table.field(i)).unwrap_or("").trim();
            let (u, p, f, r) = (
                get(Some(unit)),
                get(Some(period)),
                form.map(|i| get(Some(i))),
                get(record),
            );
            let when = get(submitted);
            if !when.is_empty() {
                let key = (u.to_string(), p.to_string(), f.unwrap_or("").to_string());
                self.submitted_at_given(file, line, SUBMITTED_AT, key, when);
            }
            match long {
                Some((c, v)) => {
                    let item = Item {
                        unit: u,
                        period: p,
                        form: f,
                        record: r,
                        cell: get(Some(c)),
                        value: table.field(v).unwrap_or(""),
                        column: "value",
                        typed: false,
                    };
                    self.add(ctx, file, line, item);
                }
                None => {
                    for ((i, resolved), fast) in wide_columns.iter().zip(&fast) {
                        let Ok((rf, cell)) = resolved else { continue };
                        let text = table.field(*i).unwrap_or("");
                        if text.trim().is_empty() {
                            continue;
                        }
                        let item = Item {
                            unit: u,
                            period: p,
                            form: f.or((!rf.is_empty()).then_some(rf.as_str())),
                            record: r,
                            cell,
                            value: text,
                            column: names.get(*i).map_or("", String::as_str),
                            typed: false,
                        };
                        // Columns named without a form column were
                        // resolved from the header, once.
                        match fast {
                            Some(r) => self.add_to(ctx, file, line, item, Some(r)),
                            None => self.add(ctx, file, line, item),
                        }
                    }
                }
            }
        }
    }

    /// Records when a unit submitted a form (or, with no form named, its
    /// report) for a period; a time that is not one, or differs from one
    /// given before for the same form, is a problem.
    fn submitted_at_given(
        &mut self,
        file: &str,
        line: u64,
        column: &str,
        key: (String, String, String),
        text: &str,
    ) {
        let when = match parse_submitted_at(text) {
            Ok(w) => w,
            Err(e) => return self.error(file, line, Some(column.to_string()), e),
        };
        match self.submitted_at.get(&key) {
            Some(before) if *before != when => {
                let (unit, period, form) = &key;
                let what = if form.is_empty() {
                    String::new()
                } else {
                    format!(" {form} of")
                };
                let message = format!(
                    "two submission times for{what} {unit} in {period}: {before} and {when}"
                );
                self.error(file, line, Some(column.to_string()), message);
            }
            Some(_) => {}
            None => {
                self.submitted_at.insert(key, when);
            }
        }
    }

    fn error(&mut self, file: &str, line: u64, column: Option<String>, message: String) {
        self.problems += 1;
        self.errors.push(InputError {
            file: file.to_string(),
            line,
            column,
            message,
            value: None,
        });
    }

    fn add(&mut self, ctx: &mut Context, file: &str, line: u64, item: Item) {
        self.add_to(ctx, file, line, item, None);
    }

    /// The number of `file` in `files`.
    fn file_no(&mut self, file: &str) -> u64 {
        (match self.files.iter().position(|f| f == file) {
            Some(n) => n,
            None => {
                self.files.push(file.to_string());
                self.files.len() - 1
            }
        }) as u64
    }

    /// Adds a value; `resolved` is what its column names, when the column
    /// named its form and cell already (a wide file's header).
    fn add_to(
        &mut self,
        ctx: &mut Context,
        file: &str,
        line: u64,
        item: Item,
        resolved: Option<&Resolved>,
    ) {
        let at = |column: &str| Some(column.to_string());
        if self.stopped() {
            return;
        }
        if item.unit.is_empty() {
            return self.error(file, line, at("unit"), "no unit".into());
        }
        let cached = self
            .last_checked
            .as_ref()
            .is_some_and(|(u, p)| u == item.unit && p == item.period);
        if !cached {
            let Some((_, cutoff)) = ctx.period(item.period) else {
                let year = item.period.get(..4).and_then(|y| y.parse::<i32>().ok());
                if let Some(y) = year.filter(|y| !PERIOD_YEARS.contains(y)) {
                    return self.error(
                        file,
                        line,
                        at("period"),
                        format!(
                            "`{}` is a period of the year {y}; regc takes periods of the years {} to {}",
                            item.period,
                            PERIOD_YEARS.start(),
                            PERIOD_YEARS.end()
                        ),
                    );
                }
                return self.error(
                    file,
                    line,
                    at("period"),
                    format!(
                        "`{}` is not a {} period of {} (e.g. {})",
                        item.period,
                        ctx.regime.frequency.name(),
                        ctx.regime.code,
                        period_example(ctx.regime.frequency)
                    ),
                );
            };
            if let Err(e) = ctx.check_unit(item.unit, cutoff) {
                return self.error(file, line, at("unit"), e);
            }
            // The strings are reused: most lines start a new unit.
            match &mut self.last_checked {
                Some((u, p)) => {
                    u.clear();
                    u.push_str(item.unit);
                    p.clear();
                    p.push_str(item.period);
                }
                None => {
                    self.last_checked = Some((item.unit.to_string(), item.period.to_string()));
                }
            }
        }
        self.open(ctx, file, line, item.unit, item.period);
        if self.stopped() {
            return;
        }
        let (form, cell): (Cow<str>, Cow<str>) = match resolved {
            Some(r) => (Cow::Borrowed(r.form), Cow::Borrowed(r.cell)),
            None => match ctx.resolve_cell(item.form.filter(|f| !f.is_empty()), item.cell) {
                Ok((f, c)) => (Cow::Owned(f), Cow::Owned(c)),
                Err(e) => {
                    let column = if item.column == "value" {
                        "cell"
                    } else {
                        item.column
                    };
                    return self.error(file, line, at(column), e);
                }
            },
        };
        let kind = match resolved {
            Some(r) => r.kind,
            None => ctx.form(&form).map(|f| f.kind).unwrap_or(FormKind::Grid),
        };
        let record = match (kind, item.record) {
            (FormKind::Grid, "") => 0,
            (FormKind::Grid, r) => {
                return self.error(
                    file,
                    line,
                    at("record"),
                    format!("form {form} is a grid: leave `record` empty (found `{r}`)"),
                );
            }
            (FormKind::Records, r) => match r.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return self.error(
                        file,
                        line,
                        at("record"),
                        format!(
                            "form {form} holds records: `record` must be 1, 2, … (found `{r}`)"
                        ),
                    );
                }
            },
        };
        if item.value.trim().is_empty() {
            return;
        }
        let parsed = match resolved {
            Some(r) => ctx.parse_resolved(r, item.value).map(|v| (r.slot, v)),
            None if item.typed => ctx
                .read_typed(&form, &cell, item.value)
                .and_then(|text| ctx.parse_value(&form, &cell, &text)),
            None => ctx.parse_value(&form, &cell, item.value),
        };
        let (slot, value) = match parsed {
            Ok(v) => v,
            Err((problem, e)) => {
                self.error(file, line, at(item.column), format!("{form}.{cell}: {e}"));
                if let (Some(problem), Some(last)) = (problem, self.errors.last_mut()) {
                    self.problems = self.problems.saturating_sub(1);
                    last.value = Some(BadValue {
                        problem,
                        form: form.into_owned(),
                        cell: cell.into_owned(),
                        unit: item.unit.to_string(),
                        period: item.period.to_string(),
                        record,
                    });
                }
                return;
            }
        };
        let (names, file_no) = match resolved {
            Some(r) => (&r.names, r.file_no),
            None => match ctx.slots.get(form.as_ref()) {
                Some(slots) => (&slots.names, self.file_no(file)),
                None => return,
            },
        };
        let width = names.len();
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let i = match open.subs.iter().position(|(s, _)| s.form == form) {
            Some(i) => i,
            None => {
                open.subs.push((
                    Submission {
                        form: form.to_string(),
                        unit: open.unit.clone(),
                        period: open.period.clone(),
                        file: file.to_string(),
                        line,
                        cells: names.clone(),
                        records: BTreeMap::new(),
                    },
                    HashMap::default(),
                ));
                open.subs.len() - 1
            }
        };
        let Some((sub, lines)) = open.subs.get_mut(i) else {
            return;
        };
        let lines = lines.entry(record).or_insert_with(|| vec![0; width]);
        if let Some(first) = lines.get(slot).copied().filter(|l| *l != 0) {
            let (f0, l0) = (
                self.files
                    .get((first >> 40) as usize)
                    .cloned()
                    .unwrap_or_default(),
                first & ((1 << 40) - 1),
            );
            let message = format!(
                "{form}.{cell} of {} for {} is given twice (first at {f0}:{l0})",
                item.unit, item.period
            );
            return self.error(file, line, at(item.column), message);
        }
        if let Some(l) = lines.get_mut(slot) {
            *l = (file_no << 40) | line;
        }
        if let Some(v) = sub
            .records
            .entry(record)
            .or_insert_with(|| vec![None; width])
            .get_mut(slot)
        {
            *v = Some(value);
        }
    }
}

/// Rows of a table file (CSV, a worksheet): fields by column index.
trait Table {
    /// Moves to the next row: its line number, `None` at the end, or why
    /// the file cannot be read further.
    fn next_row(&mut self) -> Result<Option<u64>, (u64, String)>;
    fn field(&self, i: usize) -> Option<&str>;
}

struct CsvTable<R: std::io::Read> {
    csv: csv::Reader<R>,
    record: csv::StringRecord,
}

impl<R: std::io::Read> Table for CsvTable<R> {
    fn next_row(&mut self) -> Result<Option<u64>, (u64, String)> {
        match self.csv.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(self.record.position().map_or(0, |p| p.line()))),
            Err(e) => Err((csv_line(&e), csv_message(&e))),
        }
    }

    fn field(&self, i: usize) -> Option<&str> {
        self.record.get(i)
    }
}

/// Lines already split into fields, with their line numbers.
struct RecordsTable {
    rows: std::vec::IntoIter<(u64, csv::StringRecord)>,
    record: csv::StringRecord,
}

impl Table for RecordsTable {
    fn next_row(&mut self) -> Result<Option<u64>, (u64, String)> {
        Ok(self.rows.next().map(|(line, record)| {
            self.record = record;
            line
        }))
    }

    fn field(&self, i: usize) -> Option<&str> {
        self.record.get(i)
    }
}

/// The rows of a worksheet below its header, read from its sparse cells:
/// a row no cell is in is an empty line, and only the cells a row holds
/// are turned into text.
struct SheetTable {
    sheet: workbook::Sheet,
    /// The first column holding anything: the header's first.
    left: u32,
    /// The next row's index (0-based).
    next: u64,
    last: u64,
    /// The current row's fields by index from `left`.
    row: Vec<(usize, String)>,
}

impl Table for SheetTable {
    fn next_row(&mut self) -> Result<Option<u64>, (u64, String)> {
        if self.next > self.last {
            return Ok(None);
        }
        let r = self.next;
        self.next = r + 1;
        let left = self.left;
        self.row = self
            .sheet
            .row(u32::try_from(r).unwrap_or(u32::MAX))
            .iter()
            .filter_map(|((_, c), d)| Some((c.checked_sub(left)? as usize, sheet_text(d))))
            .collect();
        // Lines are the sheet's row numbers.
        Ok(Some(r + 1))
    }

    fn field(&self, i: usize) -> Option<&str> {
        self.row
            .binary_search_by_key(&i, |(c, _)| *c)
            .ok()
            .and_then(|k| self.row.get(k))
            .map(|(_, t)| t.as_str())
    }
}

/// A worksheet cell as the text a CSV file would hold: numbers as Excel
/// shows them ([`excel_number`]), dates as YYYY-MM-DD.
fn sheet_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) => excel_number(*f),
        Data::Bool(b) => b.to_string(),
        // An Excel date is a count of days from 30 December 1899.
        Data::DateTime(dt) => NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|epoch| {
                let days = dt.as_f64().floor();
                (0.0..3_000_000.0)
                    .contains(&days)
                    .then(|| epoch.checked_add_days(chrono::Days::new(days as u64)))
                    .flatten()
            })
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| dt.to_string()),
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// The column (CSV) or key (JSON) giving when a report was submitted.
pub const SUBMITTED_AT: &str = "submitted_at";

/// A time of submission as regc stores it (RFC 3339 in UTC, to the
/// second) from RFC 3339 (`2025-02-03T09:30:00+07:00`), or a day alone
/// (`2025-02-03`, `03/02/2025`) or a day and time in Vietnam's time
/// (`03/02/2025 09:30`, UTC+7).
pub fn parse_submitted_at(text: &str) -> Result<String, String> {
    use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, Utc};
    let t = text.trim();
    let utc = |d: DateTime<FixedOffset>| {
        d.with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(utc(d));
    }
    let vietnam = FixedOffset::east_opt(7 * 3600).ok_or("UTC+7")?;
    let local = NaiveDateTime::parse_from_str(t, "%d/%m/%Y %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%d/%m/%Y %H:%M:%S"))
        .ok()
        .or_else(|| {
            let day = NaiveDate::parse_from_str(t, "%d/%m/%Y").ok().or_else(|| {
                Some(t)
                    .filter(|t| value::is_iso_date_shape(t))
                    .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
            })?;
            Some(day.and_time(NaiveTime::MIN))
        });
    match local.and_then(|l| l.and_local_timezone(vietnam).single()) {
        Some(d) => Ok(utc(d)),
        None => Err(format!(
            "`{t}` is not a time of submission (write 2025-02-03T09:30:00+07:00, 03/02/2025 09:30 or 03/02/2025)"
        )),
    }
}

/// A number of a spreadsheet as Excel shows it: 15 significant digits
/// (Excel keeps no more), without trailing zeros, never an exponent. So
/// `0.1 + 0.2` is `0.3`, as the officer saw it, not
/// `0.30000000000000004`.
fn excel_number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f == 0.0 {
        return "0".into();
    }
    // d.dddddddddddddde±x: 15 significant digits, rounded by the formatter.
    let sci = format!("{:.14e}", f.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return f.to_string();
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return f.to_string();
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exp + 1; // digits before the decimal point
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if f < 0.0 { format!("-{text}") } else { text }
}

fn period_example(f: ir::Frequency) -> &'static str {
    match f {
        ir::Frequency::Daily => "2025-03-14",
        ir::Frequency::Weekly => "2025-W11",
        ir::Frequency::Monthly => "2025-03",
        ir::Frequency::Quarterly => "2025-Q1",
        ir::Frequency::SixMonthly => "2025-H1",
        ir::Frequency::NineMonthly => "2025-9M",
        ir::Frequency::Annual => "2025",
        ir::Frequency::AdHoc => "2025-03-14, the day reported on",
    }
}

fn csv_line(e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| p.line())
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "not UTF-8 text (field {}): save the file as UTF-8",
            err.field() + 1
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{excel_number, parse_submitted_at};

    #[test]
    fn times_of_submission() {
        for (text, utc) in [
            ("2025-02-03T09:30:00+07:00", "2025-02-03T02:30:00Z"),
            ("2025-02-03T02:30:00Z", "2025-02-03T02:30:00Z"),
            ("03/02/2025 09:30", "2025-02-03T02:30:00Z"),
            ("03/02/2025", "2025-02-02T17:00:00Z"),
            ("2025-02-03", "2025-02-02T17:00:00Z"),
        ] {
            assert_eq!(parse_submitted_at(text).as_deref(), Ok(utc), "{text}");
        }
        for bad in [
            "",
            "hôm qua",
            "31/02/2025",
            "2025-2-3",
            "2025-02-03T25:00:00Z",
        ] {
            assert!(parse_submitted_at(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_as_excel_shows_them() {
        for (f, text) in [
            (0.1 + 0.2, "0.3"),
            (15852147.55, "15852147.55"),
            (1000.0, "1000"),
            (-2.5, "-2.5"),
            (0.000123, "0.000123"),
            (1e20, "100000000000000000000"),
            (123456789012345678.0, "123456789012346000"),
            (-0.0, "0"),
            (1.0 / 3.0, "0.333333333333333"),
        ] {
            assert_eq!(excel_number(f), text, "{f}");
        }
    }
}
