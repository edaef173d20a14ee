//! The Rust evaluator of rules: the typed IR's rules run over submissions
//! held in memory ([`Store`]). The semantics (missing values, exact
//! arithmetic, periods) are those of `docs/rules.md`, which the SQL and
//! JavaScript evaluators share.

pub mod compiled;
pub mod num;

use crate::calendar;
use crate::ir::{self, BinOp, ExprKind, Func, Missing, PeriodRef, RecordFunc, TimeAgg};
use crate::submission::Submission;
use crate::value::Value;
use chrono::NaiveDate;
use num::Num;
use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::Arc;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V {
    Num(Num),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
}

impl V {
    pub fn from_value(v: &Value) -> V {
        match v {
            Value::Integer(n) => V::Num(Num::from_i64(*n)),
            Value::Decimal(d) => V::Num(Num::from(d)),
            Value::Text(t) | Value::Code(t) => V::Text(t.clone()),
            Value::Date(d) => V::Date(*d),
            Value::Bool(b) => V::Bool(*b),
        }
    }

    /// As shown in a message.
    pub fn show(&self) -> String {
        match self {
            V::Num(n) => n.to_plain(),
            V::Text(t) => t.clone(),
            V::Bool(b) => if *b { "đúng" } else { "sai" }.to_string(),
            V::Date(d) => d.format("%d/%m/%Y").to_string(),
        }
    }
}

/// A cell's definition and its slot (entered cells).
type Found<'a> = (&'a ir::Cell, Option<usize>);

/// An expression's address: its key in `Evaluator::nodes`.
fn node(e: &ir::Expr) -> usize {
    std::ptr::from_ref(e) as usize
}

/// Equal strings, most often the very same one.
fn same(a: &str, b: &str) -> bool {
    (std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()) || a == b
}

/// The values a check reads: how many, how many missing.
#[derive(Default)]
struct Reads {
    all: usize,
    missing: usize,
}

/// Why evaluation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    DivByZero,
}

type Eval = Result<Option<V>, Stop>;

/// form → submission, for one unit and period.
type Forms = HashMap<String, Submission>;

/// The submissions of any number of regimes, units and periods.
#[derive(Debug, Default)]
pub struct Store {
    /// regime → unit → period → form → submission (nested, so that a
    /// lookup borrows its keys instead of building them).
    subs: HashMap<String, HashMap<String, HashMap<String, Forms>>>,
}

impl Store {
    pub fn is_empty(&self) -> bool {
        self.subs.values().all(HashMap::is_empty)
    }

    pub fn insert(&mut self, regime: &str, s: Submission) {
        self.subs
            .entry(regime.to_string())
            .or_default()
            .entry(s.unit.clone())
            .or_default()
            .entry(s.period.clone())
            .or_default()
            .insert(s.form.clone(), s);
    }

    pub fn get(&self, regime: &str, form: &str, unit: &str, period: &str) -> Option<&Submission> {
        self.subs.get(regime)?.get(unit)?.get(period)?.get(form)
    }

    /// The submissions of `regime` for `unit` and `period`, every form.
    pub fn here<'s>(&'s self, regime: &str, unit: &'s str, period: &'s str) -> Here<'s> {
        let forms = self
            .subs
            .get(regime)
            .and_then(|u| u.get(unit))
            .and_then(|p| p.get(period))
            .map(|forms| forms.values().collect())
            .unwrap_or_default();
        Here {
            unit,
            period,
            forms,
            earlier: &[],
        }
    }

    /// The (unit, period) pairs with a submission of `regime`, sorted.
    pub fn reports(&self, regime: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .subs
            .get(regime)
            .into_iter()
            .flat_map(|units| {
                units
                    .iter()
                    .flat_map(|(u, periods)| periods.keys().map(move |p| (u.clone(), p.clone())))
            })
            .collect();
        out.sort();
        out
    }

    /// The submissions of `regime` as the JSON the other evaluators read
    /// (docs/rules.md, "Submission sets"): sorted, values as canonical
    /// text.
    pub fn to_json(&self, regime: &str) -> serde_json::Value {
        let mut subs: Vec<&Submission> = self.submissions(regime).collect();
        subs.sort_by(|a, b| (&a.unit, &a.period, &a.form).cmp(&(&b.unit, &b.period, &b.form)));
        let list: Vec<serde_json::Value> = subs
            .iter()
            .map(|s| {
                let records: serde_json::Map<String, serde_json::Value> = s
                    .records
                    .iter()
                    .map(|(n, values)| {
                        let cells: serde_json::Map<String, serde_json::Value> = s
                            .cells
                            .iter()
                            .zip(values)
                            .filter_map(|(c, v)| {
                                Some((
                                    c.clone(),
                                    serde_json::Value::String(v.as_ref()?.canonical()),
                                ))
                            })
                            .collect();
                        (n.to_string(), serde_json::Value::Object(cells))
                    })
                    .collect();
                serde_json::json!({
                    "unit": s.unit, "period": s.period, "form": s.form, "records": records
                })
            })
            .collect();
        serde_json::json!({ "regime": regime, "submissions": list })
    }

    pub fn submissions(&self, regime: &str) -> impl Iterator<Item = &Submission> {
        self.subs
            .get(regime)
            .into_iter()
            .flat_map(|units| units.values())
            .flat_map(|periods| periods.values())
            .flat_map(|forms| forms.values())
    }
}

/// The submissions of one unit for one period (one of each form at most):
/// what most reads of a rule look at, found once instead of by name.
#[derive(Debug, Clone)]
pub struct Here<'s> {
    pub unit: &'s str,
    pub period: &'s str,
    pub forms: Vec<&'s Submission>,
    /// Submissions of the same unit for earlier periods that stand in for
    /// the store's (streaming: the window the reader kept), sorted by
    /// (period, form). A period and form not here is looked up in the
    /// store.
    pub earlier: &'s [Arc<Submission>],
}

impl<'s> Here<'s> {
    pub(crate) fn form(&self, form: &str) -> Option<&'s Submission> {
        self.forms.iter().find(|s| s.form == form).copied()
    }

    /// The submission of `form` for `period` among `earlier`.
    fn earlier(&self, period: &str, form: &str) -> Option<&'s Submission> {
        let list = self.earlier;
        // Periods of one regime differ at their end: compared from there,
        // most are told apart by one byte. A short list is read from its
        // latest period back, a long one searched by halves.
        let eq = |a: &str, b: &str| {
            a.len() == b.len() && a.bytes().rev().zip(b.bytes().rev()).all(|(x, y)| x == y)
        };
        if list.len() > 32 {
            let i = list.partition_point(|s| s.period.as_str() < period);
            return list
                .get(i..)?
                .iter()
                .take_while(|s| s.period == period)
                .find(|s| s.form == form)
                .map(|s| &**s);
        }
        list.iter()
            .rev()
            .find(|s| eq(&s.period, period) && s.form == form)
            .map(|s| &**s)
    }
}

/// The periods of a regime: previous, same period last year, year to date.
pub struct Periods {
    frequency: ir::Frequency,
    cutoff: ir::Cutoff,
    /// Each year's periods, made once and shared (not copied per read).
    years: std::cell::RefCell<HashMap<i32, Arc<Vec<String>>>>,
}

impl Periods {
    pub fn new(r: &ir::Regime) -> Periods {
        Periods::of(r.frequency, r.cutoff)
    }

    /// The periods of any frequency under a cut-off rule (roll-up periods).
    pub fn of(frequency: ir::Frequency, cutoff: ir::Cutoff) -> Periods {
        Periods {
            frequency,
            cutoff,
            years: Default::default(),
        }
    }

    fn year_of(id: &str) -> Option<i32> {
        id.get(..4)?.parse().ok()
    }

    fn of_year(&self, year: i32) -> Arc<Vec<String>> {
        self.years
            .borrow_mut()
            .entry(year)
            .or_insert_with(|| {
                Arc::new(
                    calendar::period_bounds(self.frequency, self.cutoff, year)
                        .into_iter()
                        .map(|(id, _, _)| id)
                        .collect(),
                )
            })
            .clone()
    }

    pub fn shift(&self, id: &str, by: PeriodRef) -> Option<String> {
        match by {
            PeriodRef::Current => Some(id.to_string()),
            PeriodRef::Previous => {
                let y = Self::year_of(id)?;
                let list = self.of_year(y);
                match list.iter().position(|p| p == id)? {
                    0 => self.of_year(y - 1).last().cloned(),
                    i => list.get(i - 1).cloned(),
                }
            }
            PeriodRef::SamePeriodLastYear => {
                let y = Self::year_of(id)?;
                let candidate = format!("{}{}", y - 1, id.get(4..)?);
                self.of_year(y - 1)
                    .iter()
                    .find(|p| **p == candidate)
                    .cloned()
            }
        }
    }

    /// The periods of `id`'s year up to and including it.
    pub fn year_to_date(&self, id: &str) -> Vec<String> {
        let (list, n) = self.year_to_date_shared(id);
        list.iter().take(n).cloned().collect()
    }

    /// [`Periods::year_to_date`] without copying: the year's periods and
    /// how many of them.
    fn year_to_date_shared(&self, id: &str) -> (Arc<Vec<String>>, usize) {
        let Some(y) = Self::year_of(id) else {
            return (Arc::default(), 0);
        };
        let list = self.of_year(y);
        match list.iter().position(|p| p == id) {
            Some(i) => (list, i + 1),
            None => (list, 0),
        }
    }

    /// The first period of `id`'s year.
    pub fn first_of_year(&self, id: &str) -> Option<String> {
        self.of_year(Self::year_of(id)?).first().cloned()
    }
}

/// The outcome of one rule for one unit and period (and record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Not evaluated: values it reads are missing.
    Skipped,
    /// The rule does not hold; the placeholders' values.
    Fail(Vec<Option<V>>),
    /// A division by zero stopped the evaluation.
    DivByZero,
}

/// Evaluates the rules of one regime.
pub struct Evaluator<'a> {
    pub regime: &'a ir::Regime,
    pub store: &'a Store,
    pub periods: Periods,
    cells: HashMap<(&'a str, &'a str), &'a ir::Cell>,
    /// The slot of each entered cell in a submission's records (layout
    /// order, as the reader and the history store them).
    slots: HashMap<(&'a str, &'a str), usize>,
    /// The cell each cell reference of the regime's rules and formulas
    /// names, with its slot, by the reference's address: found once.
    nodes: HashMap<usize, Found<'a>>,
}

/// Where an evaluation happens.
#[derive(Clone, Copy)]
struct At<'s> {
    unit: &'s str,
    period: &'s str,
    /// `for each` rules: the record form and the record's values.
    record: Option<(&'s str, &'s Submission, u32)>,
    /// The submissions of the unit and period evaluated.
    here: &'s Here<'s>,
    /// Missing numbers count as zero.
    zero: bool,
    tolerance: Option<&'s ir::Tolerance>,
}

impl<'a> Evaluator<'a> {
    pub fn new(regime: &'a ir::Regime, store: &'a Store) -> Evaluator<'a> {
        let mut cells = HashMap::default();
        for f in &regime.forms {
            for c in &f.cells {
                cells.insert((f.code.as_str(), c.id.as_str()), c);
            }
        }
        let mut slots = HashMap::default();
        for f in &regime.forms {
            let entered = f
                .cells
                .iter()
                .filter(|c| !matches!(c.entry, ir::Entry::Computed { .. }));
            for (i, c) in entered.enumerate() {
                slots.insert((f.code.as_str(), c.id.as_str()), i);
            }
        }
        fn walk<'a>(
            e: &'a ir::Expr,
            find: &dyn Fn(&str, &str) -> Option<Found<'a>>,
            out: &mut HashMap<usize, Found<'a>>,
        ) {
            match &e.kind {
                ExprKind::Cell {
                    regime: None,
                    form,
                    cell,
                    ..
                } => {
                    if let Some(found) = find(form, cell) {
                        out.insert(node(e), found);
                    }
                }
                ExprKind::Neg { arg }
                | ExprKind::Not { arg }
                | ExprKind::YearToDate { arg, .. } => {
                    walk(arg, find, out);
                }
                ExprKind::Binary { lhs, rhs, .. } => {
                    walk(lhs, find, out);
                    walk(rhs, find, out);
                }
                ExprKind::Call { args, .. } => {
                    for a in args {
                        walk(a, find, out);
                    }
                }
                _ => {}
            }
        }
        let find = |form: &str, cell: &str| {
            let def = *cells.get(&(form, cell))?;
            Some((def, slots.get(&(form, cell)).copied()))
        };
        let mut nodes = HashMap::default();
        let formulas = regime
            .forms
            .iter()
            .flat_map(|f| &f.cells)
            .filter_map(|c| match &c.entry {
                ir::Entry::Computed { formula } => Some(formula),
                _ => None,
            });
        for e in regime
            .rules
            .iter()
            .flat_map(|r| std::iter::once(&r.check).chain(&r.placeholders))
            .chain(formulas)
        {
            walk(e, &find, &mut nodes);
        }
        Evaluator {
            nodes,
            regime,
            store,
            periods: Periods::new(regime),
            cells,
            slots,
        }
    }

    /// Evaluates `rule` for `unit` and `period` (and, for a `for each`
    /// rule, every record): one outcome per record (record 0 for
    /// submission rules).
    pub fn rule(&self, rule: &ir::Rule, unit: &str, period: &str) -> Vec<(u32, Outcome)> {
        let here = self.store.here(&self.regime.code, unit, period);
        self.rule_at(rule, &here)
    }

    /// [`Evaluator::rule`] for the unit and period of `here`, whose
    /// submissions stand in for the store's.
    pub fn rule_at(&self, rule: &ir::Rule, here: &Here) -> Vec<(u32, Outcome)> {
        let mut out = Vec::new();
        self.rule_each(rule, here, &mut |n, o| out.push((n, o)));
        out
    }

    /// [`Evaluator::rule_at`], each outcome given to `f` as it comes.
    pub fn rule_each(&self, rule: &ir::Rule, here: &Here, f: &mut dyn FnMut(u32, Outcome)) {
        let (unit, period) = (here.unit, here.period);
        match &rule.scope {
            ir::RuleScope::Submission => {
                let at = At {
                    unit,
                    period,
                    here,
                    record: None,
                    zero: false,
                    tolerance: rule.tolerance.as_ref(),
                };
                f(0, self.outcome(rule, at));
            }
            ir::RuleScope::EachRecord { form } => {
                let Some(sub) = here.form(form) else {
                    return;
                };
                for n in sub.records.keys() {
                    let at = At {
                        unit,
                        period,
                        here,
                        record: Some((form.as_str(), sub, *n)),
                        zero: false,
                        tolerance: rule.tolerance.as_ref(),
                    };
                    f(*n, self.outcome(rule, at));
                }
            }
        }
    }

    /// The values of `rule`'s placeholders for the unit and period of
    /// `here` (a submission rule's failure found by [`compiled`]).
    pub fn placeholder_values(&self, rule: &ir::Rule, here: &Here) -> Vec<Option<V>> {
        let at = At {
            unit: here.unit,
            period: here.period,
            here,
            record: None,
            zero: false,
            tolerance: rule.tolerance.as_ref(),
        };
        self.placeholders(rule, at)
    }

    fn outcome(&self, rule: &ir::Rule, at: At) -> Outcome {
        let mut reads = Reads::default();
        self.reads(&rule.check, at, &mut reads);
        let missing = reads.missing;
        let all_missing = reads.all > 0 && missing == reads.all;
        let zero = match rule.missing {
            Missing::SkipIfAny if missing > 0 => return Outcome::Skipped,
            Missing::SkipIfAll if all_missing => return Outcome::Skipped,
            Missing::Never if missing > 0 => {
                return Outcome::Fail(self.placeholders(rule, at));
            }
            Missing::SkipIfAll | Missing::Zero => true,
            Missing::SkipIfAny | Missing::Never => false,
        };
        let at = At { zero, ..at };
        match self.eval(&rule.check, at) {
            Ok(Some(V::Bool(true))) => Outcome::Pass,
            Ok(Some(V::Bool(false))) => Outcome::Fail(self.placeholders(rule, at)),
            Ok(_) => Outcome::Skipped,
            Err(Stop::DivByZero) => Outcome::DivByZero,
        }
    }

    fn placeholders(&self, rule: &ir::Rule, at: At) -> Vec<Option<V>> {
        let at = At { zero: false, ..at };
        rule.placeholders
            .iter()
            .map(|p| self.eval(p, at).ok().flatten())
            .collect()
    }

    /// Counts the values the expression reads, and the missing ones. A
    /// read that divides by zero (a computed cell) counts as present: the
    /// check reports the division if, and only if, it uses that value
    /// (`if(b == 0, …, a / b …)` guards it).
    fn reads(&self, e: &ir::Expr, at: At, out: &mut Reads) {
        let mut count = |v: Eval| {
            out.all += 1;
            out.missing += usize::from(matches!(v, Ok(None)));
        };
        match &e.kind {
            ExprKind::Cell { .. } | ExprKind::YearToDate { .. } => {
                count(self.eval(e, At { zero: false, ..at }));
            }
            ExprKind::Records {
                func: RecordFunc::Sum | RecordFunc::Min | RecordFunc::Max,
                ..
            } => count(self.eval(e, At { zero: false, ..at })),
            ExprKind::Neg { arg } | ExprKind::Not { arg } => self.reads(arg, at, out),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.reads(lhs, at, out);
                self.reads(rhs, at, out);
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    self.reads(a, at, out);
                }
            }
            ExprKind::Number { .. }
            | ExprKind::Text { .. }
            | ExprKind::Bool { .. }
            | ExprKind::Date { .. }
            | ExprKind::Records { .. } => {}
        }
    }

    /// The value of a cell of this regime in `period` (shifted by `by`).
    fn cell(&self, e: &ir::Expr, form: &str, cell: &str, by: PeriodRef, at: At) -> Eval {
        // A field of the record being checked.
        if let Some((rf, sub, n)) = at.record
            && rf == form
        {
            return Ok(sub.get(n, cell).map(V::from_value));
        }
        let period: Cow<str> = match by {
            PeriodRef::Current => Cow::Borrowed(at.period),
            _ => match self.periods.shift(at.period, by) {
                Some(p) => Cow::Owned(p),
                None => return Ok(None),
            },
        };
        let (def, slot) = match self.nodes.get(&node(e)) {
            Some(found) => *found,
            None => match self.cells.get(&(form, cell)) {
                Some(def) => (*def, self.slots.get(&(form, cell)).copied()),
                None => return Ok(None),
            },
        };
        match &def.entry {
            ir::Entry::Computed { formula } => {
                // The cell's own value: the rule's tolerance does not
                // reach into its formula.
                let at = At {
                    period: &period,
                    record: None,
                    zero: false,
                    tolerance: None,
                    ..at
                };
                self.eval(formula, at)
            }
            ir::Entry::Entered => Ok(self.stored(form, slot, &period, at)),
            ir::Entry::EnteredYearly => {
                let v = self.stored(form, slot, &period, at);
                if v.is_some() {
                    return Ok(v);
                }
                Ok(self
                    .periods
                    .first_of_year(&period)
                    .and_then(|first| self.stored(form, slot, &first, at)))
            }
        }
    }

    /// The submission of `form` for the unit of `at` and `period`: the
    /// one at hand when it is that period, else one of the earlier ones at
    /// hand, else the store's.
    fn submission<'s>(&'s self, form: &str, period: &str, at: At<'s>) -> Option<&'s Submission> {
        if same(at.unit, at.here.unit) {
            if same(period, at.here.period) {
                return at.here.form(form);
            }
            if let Some(s) = at.here.earlier(period, form) {
                return Some(s);
            }
        }
        self.store.get(&self.regime.code, form, at.unit, period)
    }

    fn stored(&self, form: &str, slot: Option<usize>, period: &str, at: At) -> Option<V> {
        let slot = slot?;
        self.submission(form, period, at)?
            .records
            .get(&0)?
            .get(slot)?
            .as_ref()
            .map(V::from_value)
    }

    fn num(&self, e: &ir::Expr, at: At) -> Result<Option<Num>, Stop> {
        Ok(match self.eval(e, at)? {
            Some(V::Num(n)) => Some(n),
            None if at.zero && e.ty == ir::ValueType::Number => Some(Num::zero()),
            _ => None,
        })
    }

    pub fn eval_expr(&self, e: &ir::Expr, unit: &str, period: &str) -> Result<Option<V>, Stop> {
        let here = self.store.here(&self.regime.code, unit, period);
        self.eval(
            e,
            At {
                unit,
                period,
                here: &here,
                record: None,
                zero: false,
                tolerance: None,
            },
        )
    }

    fn eval(&self, e: &ir::Expr, at: At) -> Eval {
        let zero_if = |v: Option<V>| -> Option<V> {
            match v {
                None if at.zero && e.ty == ir::ValueType::Number => Some(V::Num(Num::zero())),
                v => v,
            }
        };
        Ok(match &e.kind {
            ExprKind::Number { value } => Num::parse(value).map(V::Num),
            ExprKind::Text { value } => Some(V::Text(value.clone())),
            ExprKind::Bool { value } => Some(V::Bool(*value)),
            ExprKind::Date { value } => Some(V::Date(*value)),
            ExprKind::Cell {
                regime: Some(_), ..
            } => None,
            ExprKind::Cell {
                regime: None,
                form,
                cell,
                period,
            } => zero_if(self.cell(e, form, cell, *period, at)?),
            ExprKind::Neg { arg } => self.num(arg, at)?.map(|n| V::Num(n.neg())),
            ExprKind::Not { arg } => match self.eval(arg, at)? {
                Some(V::Bool(b)) => Some(V::Bool(!b)),
                _ => None,
            },
            ExprKind::Binary { bin, lhs, rhs } => self.binary(*bin, lhs, rhs, at)?,
            ExprKind::Call { func, args } => self.call(*func, args, at)?,
            ExprKind::YearToDate { func, arg } => {
                let mut values = Vec::new();
                let (year, n) = self.periods.year_to_date_shared(at.period);
                for p in year.iter().take(n) {
                    let at = At {
                        period: p,
                        zero: false,
                        ..at
                    };
                    if let Some(V::Num(n)) = self.eval(arg, at)? {
                        values.push(n);
                    }
                }
                zero_if(time_agg(*func, &values)?.map(V::Num))
            }
            ExprKind::Records { func, form, field } => {
                let sub = self.submission(form, at.period, at);
                let count = sub.map_or(0, |s| s.records.len());
                match (func, field) {
                    (RecordFunc::Count, _) | (_, None) => Some(V::Num(Num::from_i64(
                        i64::try_from(count).unwrap_or(i64::MAX),
                    ))),
                    (f, Some(field)) => {
                        let values: Vec<Num> = sub
                            .map(|s| {
                                s.records
                                    .keys()
                                    .filter_map(|n| match s.get(*n, field).map(V::from_value) {
                                        Some(V::Num(x)) => Some(x),
                                        _ => None,
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        let agg = match f {
                            RecordFunc::Sum => TimeAgg::Sum,
                            RecordFunc::Min => TimeAgg::Min,
                            RecordFunc::Max | RecordFunc::Count => TimeAgg::Max,
                        };
                        zero_if(time_agg(agg, &values)?.map(V::Num))
                    }
                }
            }
        })
    }

    fn binary(&self, bin: BinOp, lhs: &ir::Expr, rhs: &ir::Expr, at: At) -> Eval {
        use std::cmp::Ordering;
        if matches!(bin, BinOp::And | BinOp::Or) {
            let l = self.eval(lhs, at)?;
            let r = self.eval(rhs, at)?;
            return Ok(match (l, r) {
                (Some(V::Bool(a)), Some(V::Bool(b))) => {
                    Some(V::Bool(if bin == BinOp::And { a && b } else { a || b }))
                }
                _ => None,
            });
        }
        if matches!(bin, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div) {
            let (Some(a), Some(b)) = (self.num(lhs, at)?, self.num(rhs, at)?) else {
                return Ok(None);
            };
            return Ok(Some(V::Num(match bin {
                BinOp::Add => a.add(&b),
                BinOp::Sub => a.sub(&b),
                BinOp::Mul => a.mul(&b),
                _ => a.div(&b).ok_or(Stop::DivByZero)?,
            })));
        }
        let (l, r) = if lhs.ty == ir::ValueType::Number {
            (
                self.num(lhs, at)?.map(V::Num),
                self.num(rhs, at)?.map(V::Num),
            )
        } else {
            (self.eval(lhs, at)?, self.eval(rhs, at)?)
        };
        let (Some(l), Some(r)) = (l, r) else {
            return Ok(None);
        };
        let ord: Ordering = match (&l, &r) {
            (V::Num(a), V::Num(b)) => {
                // A tolerance makes "equal" mean "close enough".
                if let (Some(t), BinOp::Eq | BinOp::Ne) = (at.tolerance, bin) {
                    let close = within(a, b, t);
                    return Ok(Some(V::Bool(close == (bin == BinOp::Eq))));
                }
                a.cmp(b)
            }
            (V::Text(a), V::Text(b)) => a.cmp(b),
            (V::Date(a), V::Date(b)) => a.cmp(b),
            (V::Bool(a), V::Bool(b)) => a.cmp(b),
            _ => return Ok(None),
        };
        Ok(Some(V::Bool(holds(bin, ord))))
    }

    fn call(&self, func: Func, args: &[ir::Expr], at: At) -> Eval {
        if func == Func::If {
            let [c, t, f] = args else { return Ok(None) };
            return match self.eval(c, at)? {
                Some(V::Bool(true)) => self.eval(t, at),
                Some(V::Bool(false)) => self.eval(f, at),
                _ => Ok(None),
            };
        }
        // The arguments in order, folded as they come: the first missing
        // one ends the call (those after it are not evaluated).
        let mut acc: Option<Num> = None;
        let mut second: Option<Num> = None;
        let mut count = 0usize;
        for a in args {
            let Some(x) = self.num(a, at)? else {
                return Ok(None);
            };
            count += 1;
            acc = Some(match (func, acc) {
                (Func::Sum, s) => s.unwrap_or_else(Num::zero).add(&x),
                (Func::Min, Some(m)) => {
                    if x < m {
                        x
                    } else {
                        m
                    }
                }
                (Func::Max, Some(m)) => {
                    if x > m {
                        x
                    } else {
                        m
                    }
                }
                (_, None) => x,
                (_, Some(m)) => {
                    if count == 2 {
                        second = Some(x);
                    }
                    m
                }
            });
        }
        Ok(match (func, count, acc, second) {
            (Func::Abs, 1, Some(x), _) => Some(V::Num(x.abs())),
            (Func::Round, 1, Some(x), _) => Some(V::Num(x.round(0))),
            (Func::Round, 2, Some(x), Some(n)) => {
                let digits: i64 = n.to_plain().parse().unwrap_or(0);
                Some(V::Num(x.round(digits)))
            }
            (Func::Min | Func::Max, 1.., Some(m), _) => Some(V::Num(m)),
            (Func::Sum, _, s, _) => Some(V::Num(s.unwrap_or_else(Num::zero))),
            _ => None,
        })
    }
}

/// Whether evaluating the rules of `regime` for one unit and period may
/// read another period (`@previous`, year to date, a yearly cell left
/// blank): then a period cannot be checked on its own.
/// Whether a comparison holds, given how its sides compare (`bin`: one
/// of `==`, `!=`, `<`, `<=`, `>`, `>=`).
pub(crate) fn holds(bin: BinOp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering;
    match bin {
        BinOp::Eq => ord == Ordering::Equal,
        BinOp::Ne => ord != Ordering::Equal,
        BinOp::Lt => ord == Ordering::Less,
        BinOp::Le => ord != Ordering::Greater,
        BinOp::Gt => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    }
}

pub fn reads_other_periods(regime: &ir::Regime) -> bool {
    fn walk(e: &ir::Expr, yearly: &dyn Fn(&str, &str) -> bool) -> bool {
        match &e.kind {
            ExprKind::Cell {
                regime: None,
                form,
                cell,
                period,
            } => *period != PeriodRef::Current || yearly(form, cell),
            ExprKind::YearToDate { .. } => true,
            ExprKind::Neg { arg } | ExprKind::Not { arg } => walk(arg, yearly),
            ExprKind::Binary { lhs, rhs, .. } => walk(lhs, yearly) || walk(rhs, yearly),
            ExprKind::Call { args, .. } => args.iter().any(|a| walk(a, yearly)),
            ExprKind::Cell { .. }
            | ExprKind::Number { .. }
            | ExprKind::Text { .. }
            | ExprKind::Bool { .. }
            | ExprKind::Date { .. }
            | ExprKind::Records { .. } => false,
        }
    }
    let yearly = |form: &str, cell: &str| {
        regime.forms.iter().any(|f| {
            f.code == form
                && f.cells
                    .iter()
                    .any(|c| c.id == cell && matches!(c.entry, ir::Entry::EnteredYearly))
        })
    };
    let formulas = regime
        .forms
        .iter()
        .flat_map(|f| &f.cells)
        .filter_map(|c| match &c.entry {
            ir::Entry::Computed { formula } => Some(formula),
            _ => None,
        });
    regime
        .rules
        .iter()
        .flat_map(|r| std::iter::once(&r.check).chain(&r.placeholders))
        .chain(formulas)
        .any(|e| walk(e, &yearly))
}

/// The most periods of `frequency` in a year (a year of days, of ISO
/// weeks…): how far back `@same_period_last_year` reaches, and one more
/// than year to date or a yearly cell's fallback.
pub fn periods_per_year(frequency: ir::Frequency) -> usize {
    match frequency {
        ir::Frequency::Daily | ir::Frequency::AdHoc => 366,
        ir::Frequency::Weekly => 53,
        ir::Frequency::Monthly => 12,
        ir::Frequency::Quarterly => 4,
        ir::Frequency::SixMonthly => 2,
        ir::Frequency::NineMonthly | ir::Frequency::Annual => 1,
    }
}

/// How many periods back evaluating the rules of `regime` for one unit
/// and period may read, at most, counting every period of the calendar
/// (the unit may skip some): 0 when only the period itself, `None` when
/// without bound (a computed cell that reads itself in an earlier period).
/// `@previous` is 1, `@same_period_last_year` a year of periods, year to
/// date and a yearly cell's fallback a year of periods but one; a computed
/// cell read in another period adds its formula's reach.
pub fn periods_back(regime: &ir::Regime) -> Option<usize> {
    fn back<'r>(
        e: &'r ir::Expr,
        regime: &'r ir::Regime,
        year: usize,
        stack: &mut Vec<(&'r str, &'r str)>,
    ) -> Option<usize> {
        Some(match &e.kind {
            ExprKind::Cell {
                regime: None,
                form,
                cell,
                period,
            } => {
                let shift = match period {
                    PeriodRef::Current => 0,
                    PeriodRef::Previous => 1,
                    PeriodRef::SamePeriodLastYear => year,
                };
                let def = regime
                    .forms
                    .iter()
                    .filter(|f| f.code == *form)
                    .flat_map(|f| &f.cells)
                    .find(|c| c.id == *cell);
                let inner = match def.map(|c| &c.entry) {
                    Some(ir::Entry::Computed { formula }) => {
                        let key = (form.as_str(), cell.as_str());
                        if stack.contains(&key) {
                            return None;
                        }
                        stack.push(key);
                        let inner = back(formula, regime, year, stack);
                        stack.pop();
                        inner?
                    }
                    Some(ir::Entry::EnteredYearly) => year.saturating_sub(1),
                    Some(ir::Entry::Entered) | None => 0,
                };
                shift.checked_add(inner)?
            }
            ExprKind::YearToDate { arg, .. } => year
                .saturating_sub(1)
                .checked_add(back(arg, regime, year, stack)?)?,
            ExprKind::Neg { arg } | ExprKind::Not { arg } => back(arg, regime, year, stack)?,
            ExprKind::Binary { lhs, rhs, .. } => {
                back(lhs, regime, year, stack)?.max(back(rhs, regime, year, stack)?)
            }
            ExprKind::Call { args, .. } => {
                let mut most = 0;
                for a in args {
                    most = most.max(back(a, regime, year, stack)?);
                }
                most
            }
            ExprKind::Cell { .. }
            | ExprKind::Number { .. }
            | ExprKind::Text { .. }
            | ExprKind::Bool { .. }
            | ExprKind::Date { .. }
            | ExprKind::Records { .. } => 0,
        })
    }
    let year = periods_per_year(regime.frequency);
    let mut most = 0;
    for e in regime
        .rules
        .iter()
        .flat_map(|r| std::iter::once(&r.check).chain(&r.placeholders))
    {
        most = most.max(back(e, regime, year, &mut Vec::new())?);
    }
    Some(most)
}

/// Whether `a` and `b` agree within the tolerance: |a − b| ≤ t, or
/// ≤ t × max(|a|, |b|) for a relative one.
pub fn within(a: &Num, b: &Num, t: &ir::Tolerance) -> bool {
    let Some(tol) = Num::parse(&t.value) else {
        return a == b;
    };
    let diff = a.sub(b).abs();
    let bound = if t.relative {
        let (x, y) = (a.abs(), b.abs());
        tol.mul(if x > y { &x } else { &y })
    } else {
        tol
    };
    diff <= bound
}

/// Aggregates present values over time (or over records): `None` when
/// there are none.
fn time_agg(func: TimeAgg, values: &[Num]) -> Result<Option<Num>, Stop> {
    let Some(first) = values.first() else {
        return Ok(None);
    };
    Ok(Some(match func {
        TimeAgg::Sum => values.iter().fold(Num::zero(), |s, x| s.add(x)),
        TimeAgg::Average => {
            let sum = values.iter().fold(Num::zero(), |s, x| s.add(x));
            let n = Num::from_i64(i64::try_from(values.len()).unwrap_or(i64::MAX));
            sum.div(&n).ok_or(Stop::DivByZero)?
        }
        TimeAgg::Last => values.last().cloned().unwrap_or_else(|| first.clone()),
        TimeAgg::First | TimeAgg::None => first.clone(),
        TimeAgg::Min => values
            .iter()
            .fold(first.clone(), |m, x| if *x < m { x.clone() } else { m }),
        TimeAgg::Max => values
            .iter()
            .fold(first.clone(), |m, x| if *x > m { x.clone() } else { m }),
    }))
}

/// `{k}`'s k: ASCII digits only (no sign, no blanks).
pub fn placeholder_index(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A piece of a rule's message: text (braces already undoubled) or the
/// index of a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagePart {
    Text(String),
    Placeholder(usize),
}

/// Splits a message into text and `{k}` placeholders: `{{` and `}}` are
/// braces, any other brace is text. Adjacent text is one part.
pub fn message_parts(message: &str) -> Vec<MessagePart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = message;
    while let Some(i) = rest.find(['{', '}']) {
        text.push_str(rest.get(..i).unwrap_or_default());
        let tail = rest.get(i..).unwrap_or_default();
        if tail.starts_with("{{") || tail.starts_with("}}") {
            text.push_str(tail.get(..1).unwrap_or_default());
            rest = tail.get(2..).unwrap_or_default();
            continue;
        }
        if let Some(end) = tail.find('}')
            && let Some(k) = placeholder_index(tail.get(1..end).unwrap_or_default())
        {
            if !text.is_empty() {
                parts.push(MessagePart::Text(std::mem::take(&mut text)));
            }
            parts.push(MessagePart::Placeholder(k));
            rest = tail.get(end + 1..).unwrap_or_default();
            continue;
        }
        text.push_str(tail.get(..1).unwrap_or_default());
        rest = tail.get(1..).unwrap_or_default();
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(MessagePart::Text(text));
    }
    parts
}

/// Fills a rule's message: `{k}` by the k-th placeholder's value (`(trống)`
/// when missing), `{{`/`}}` by braces.
pub fn fill_message(message: &str, values: &[Option<V>]) -> String {
    message_parts(message)
        .into_iter()
        .map(|p| match p {
            MessagePart::Text(t) => t,
            MessagePart::Placeholder(k) => values
                .get(k)
                .and_then(|v| v.as_ref())
                .map_or_else(|| "(trống)".to_string(), V::show),
        })
        .collect()
}
