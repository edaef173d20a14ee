//! `regc validate`: every rule of a regime over submissions, as a report of
//! violations. Written and derived rules (split, of-which) go through the
//! evaluator ([`crate::eval`]); required cells are checked here; values
//! that break a cell's type, range or codelist come from the reader.

use crate::eval::{Evaluator, Here, Outcome, Store, compiled, fill_message};
use crate::ir::{self, ExprKind, RuleOrigin, Severity};
use crate::submission::BadValue;
use serde::Serialize;

pub mod bulk;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub unit: String,
    pub period: String,
    pub form: String,
    /// The record of a record form (`for each` rules, required fields).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u32>,
    /// The cell the rule is about (its first cell), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// `R01`, `split.B01.cargo.month`, `required.B02.ship`…
    pub rule: String,
    pub kind: &'static str,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// Rule evaluations that ran (passed or failed).
    pub evaluated: usize,
    /// Rule evaluations skipped for missing values.
    pub skipped: usize,
    /// Rules this evaluator does not run, with why.
    pub not_evaluated: Vec<(String, String)>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn count(&self, s: Severity) -> usize {
        self.violations.iter().filter(|v| v.severity == s).count()
    }
}

/// The kind of a rule, as in `rules.json`.
pub fn kind(origin: &RuleOrigin) -> &'static str {
    match origin {
        RuleOrigin::Written => "written",
        RuleOrigin::Reconcile => "reconcile",
        RuleOrigin::Split { .. } => "split",
        RuleOrigin::OfWhich { .. } => "of_which",
    }
}

/// The first cell of this regime an expression reads: (form, cell).
pub fn first_cell(e: &ir::Expr) -> Option<(&str, &str)> {
    match &e.kind {
        ExprKind::Cell {
            regime: None,
            form,
            cell,
            ..
        } => Some((form, cell)),
        ExprKind::Neg { arg } | ExprKind::Not { arg } | ExprKind::YearToDate { arg, .. } => {
            first_cell(arg)
        }
        ExprKind::Binary { lhs, rhs, .. } => first_cell(lhs).or_else(|| first_cell(rhs)),
        ExprKind::Call { args, .. } => args.iter().find_map(first_cell),
        _ => None,
    }
}

/// Validates the submissions of `targets` (unit, period) in `store`.
pub fn validate(
    regime: &ir::Regime,
    store: &Store,
    targets: &[(String, String)],
    bad_values: &[BadValue],
) -> Report {
    let validator = Validator::new(regime);
    let mut report = validator.report();
    let eval = Evaluator::new(regime, store);
    for b in bad_values {
        report.violations.push(bad_value(regime, b));
    }
    for (unit, period) in targets {
        let here = store.here(&regime.code, unit, period);
        validator.check(&eval, &here, &mut report);
    }
    sort(&mut report.violations);
    report
}

/// The order of a report: unit, period, form, record, rule, cell.
pub fn sort(violations: &mut [Violation]) {
    violations.sort_by(|a, b| {
        (&a.unit, &a.period, &a.form, a.record, &a.rule, &a.cell)
            .cmp(&(&b.unit, &b.period, &b.form, b.record, &b.rule, &b.cell))
    });
}

/// The violation of a `type`, `range` or `codelist` rule a bad value is.
pub fn bad_value(regime: &ir::Regime, b: &BadValue) -> Violation {
    Violation {
        unit: b.unit.clone(),
        period: b.period.clone(),
        form: b.form.clone(),
        record: (b.record > 0).then_some(b.record),
        cell: Some(b.cell.clone()),
        rule: format!("{}.{}.{}", b.problem.name(), b.form, b.cell),
        kind: b.problem.name(),
        severity: Severity::Error,
        message: bad_value_message(regime, b),
    }
}

impl Report {
    /// Adds another part of the same report (violations left unsorted).
    pub fn merge(&mut self, other: Report) {
        self.violations.extend(other.violations);
        self.evaluated += other.evaluated;
        self.skipped += other.skipped;
    }
}

/// The rules of a regime, prepared once to be checked over one unit and
/// period at a time.
pub struct Validator<'a> {
    regime: &'a ir::Regime,
    rules: Vec<Prepared<'a>>,
    /// The cells the compiled rules read.
    program: compiled::Program,
    required: Vec<RequiredCells<'a>>,
}

/// A rule and what its violations name.
struct Prepared<'a> {
    rule: &'a ir::Rule,
    form: &'a str,
    cell: Option<&'a str>,
    each: bool,
    /// The rule compiled, when it is in the compiled subset.
    compiled: Option<compiled::Rule>,
}

/// A form's required entered cells, with their slots in layout order.
struct RequiredCells<'a> {
    form: &'a ir::Form,
    cells: Vec<(&'a ir::Cell, usize)>,
}

impl<'a> Validator<'a> {
    pub fn new(regime: &'a ir::Regime) -> Validator<'a> {
        // The slot of an entered (not yearly, not computed) cell, and the
        // scale of its values if they are numbers.
        let entered = |form: &str, cell: &str| -> Option<(usize, Option<u32>)> {
            let f = regime.forms.iter().find(|f| f.code == form)?;
            let slot = f
                .cells
                .iter()
                .filter(|c| !matches!(c.entry, ir::Entry::Computed { .. }))
                .position(|c| c.id == cell)?;
            let c = f
                .cells
                .iter()
                .find(|c| c.id == cell && c.entry == ir::Entry::Entered)?;
            let scale = match crate::layout::Storage::of(&c.ty) {
                crate::layout::Storage::Integer => Some(0),
                crate::layout::Storage::Decimal { scale, .. } => Some(scale),
                _ => None,
            };
            Some((slot, scale))
        };
        let mut program = compiled::Program::default();
        let rules = regime
            .rules
            .iter()
            .filter(|r| r.origin != RuleOrigin::Reconcile)
            .map(|rule| {
                let (form, cell) = match (&rule.scope, first_cell(&rule.check)) {
                    (ir::RuleScope::EachRecord { form }, c) => (form.as_str(), c.map(|(_, c)| c)),
                    (_, Some((f, c))) => (f, Some(c)),
                    (_, None) => ("", None),
                };
                Prepared {
                    rule,
                    form,
                    cell,
                    each: matches!(rule.scope, ir::RuleScope::EachRecord { .. }),
                    compiled: program.compile(rule, &entered),
                }
            })
            .collect();
        let required = regime
            .forms
            .iter()
            .filter_map(|form| {
                let cells: Vec<(&ir::Cell, usize)> = form
                    .cells
                    .iter()
                    .filter(|c| !matches!(c.entry, ir::Entry::Computed { .. }))
                    .enumerate()
                    .filter(|(_, c)| c.required)
                    .map(|(slot, c)| (c, slot))
                    .collect();
                (!cells.is_empty()).then_some(RequiredCells { form, cells })
            })
            .collect();
        Validator {
            regime,
            rules,
            program,
            required,
        }
    }

    /// The same rules, none compiled: every rule through the general
    /// evaluator (tests hold the compiled rules to it).
    pub fn uncompiled(regime: &'a ir::Regime) -> Validator<'a> {
        let mut v = Validator::new(regime);
        for p in &mut v.rules {
            p.compiled = None;
        }
        v
    }

    /// Whether every rule this evaluator runs is compiled (then a
    /// submission's verdict needs only the table of [`Validator::program`]
    /// and its required cells).
    pub fn all_compiled(&self) -> bool {
        self.rules.iter().all(|p| p.compiled.is_some())
    }

    /// The cells the compiled rules read.
    pub fn program(&self) -> &compiled::Program {
        &self.program
    }

    /// The required entered cells of grid forms: (form, slot).
    pub fn required_grid_cells(&self) -> Vec<(&str, usize)> {
        self.required
            .iter()
            .filter(|r| r.form.kind == ir::FormKind::Grid)
            .flat_map(|r| {
                r.cells
                    .iter()
                    .map(|(_, slot)| (r.form.code.as_str(), *slot))
            })
            .collect()
    }

    /// The compiled rules over `table` (numbers at the scales of
    /// [`compiled::Program::scale`]; `values`: scratch space for the rules
    /// that need their values built): (evaluated, skipped for missing
    /// values) when no rule fails, `None` as soon as one fails or divides
    /// by zero (its violation needs the general path's message). Only for
    /// a validator whose rules are all compiled.
    pub fn passes(
        &self,
        table: &[Option<i128>],
        values: &mut Vec<Option<compiled::Val>>,
    ) -> Option<(usize, usize)> {
        let (mut evaluated, mut skipped) = (0, 0);
        let mut built = false;
        for p in &self.rules {
            let c = p.compiled.as_ref()?;
            let outcome = match c.outcome_fixed(table) {
                Some(o) => o,
                None => {
                    if !built {
                        self.program.values(table, values);
                        built = true;
                    }
                    c.outcome(values, p.rule.tolerance.as_ref())
                }
            };
            match outcome {
                Outcome::Pass => evaluated += 1,
                Outcome::Skipped => skipped += 1,
                Outcome::Fail(_) | Outcome::DivByZero => return None,
            }
        }
        Some((evaluated, skipped))
    }

    /// An empty report, with the rules this evaluator does not run.
    pub fn report(&self) -> Report {
        let mut report = Report::default();
        for rule in &self.regime.rules {
            if rule.origin == RuleOrigin::Reconcile {
                report.not_evaluated.push((
                    rule.code.clone(),
                    "a reconciliation compares roll-ups of two regimes: it is evaluated by the aggregation SQL".into(),
                ));
            }
        }
        report
    }

    /// Checks the submissions of one unit and period: required cells and
    /// every rule (violations added unsorted).
    pub fn check(&self, eval: &Evaluator, here: &Here, report: &mut Report) {
        self.required(here, report);
        let mut table: Vec<Option<compiled::Val>> = Vec::new();
        self.program.table(here, &mut table);
        let mut fixed = Vec::new();
        let fixed_ok = self.program.fixed(&table, &mut fixed);
        for p in &self.rules {
            let rule = p.rule;
            match &p.compiled {
                Some(c) => {
                    let outcome = fixed_ok
                        .then(|| c.outcome_fixed(&fixed))
                        .flatten()
                        .unwrap_or_else(|| c.outcome(&table, rule.tolerance.as_ref()));
                    let outcome = match outcome {
                        Outcome::Fail(_) => Outcome::Fail(eval.placeholder_values(rule, here)),
                        o => o,
                    };
                    self.record(p, here, 0, outcome, report);
                }
                None => eval.rule_each(rule, here, &mut |record, outcome| {
                    self.record(p, here, record, outcome, report);
                }),
            }
        }
    }

    /// Counts an outcome; a failure is a violation.
    fn record(
        &self,
        p: &Prepared,
        here: &Here,
        record: u32,
        outcome: Outcome,
        report: &mut Report,
    ) {
        let rule = p.rule;
        let record = p.each.then_some(record);
        let (kind, severity, message) = match outcome {
            Outcome::Pass => {
                report.evaluated += 1;
                return;
            }
            Outcome::Skipped => {
                report.skipped += 1;
                return;
            }
            Outcome::Fail(values) => (
                kind(&rule.origin),
                rule.severity,
                fill_message(&rule.message, &values),
            ),
            Outcome::DivByZero => (
                "div_by_zero",
                Severity::Error,
                format!(
                    "Không kiểm tra được quy tắc {}: phép chia cho 0 (division by zero)",
                    rule.code
                ),
            ),
        };
        report.evaluated += 1;
        report.violations.push(Violation {
            unit: here.unit.to_string(),
            period: here.period.to_string(),
            form: p.form.to_string(),
            record,
            cell: p.cell.map(str::to_string),
            rule: rule.code.clone(),
            kind,
            severity,
            message,
        });
    }

    /// Required cells left blank.
    fn required(&self, here: &Here, report: &mut Report) {
        for req in &self.required {
            let form = req.form;
            let sub = here.forms.iter().find(|s| s.form == form.code).copied();
            let records: Vec<u32> = match (form.kind, sub) {
                (ir::FormKind::Grid, _) => vec![0],
                (ir::FormKind::Records, Some(s)) => s.records.keys().copied().collect(),
                (ir::FormKind::Records, None) => Vec::new(),
            };
            for n in records {
                let values = sub.and_then(|s| s.records.get(&n));
                for (c, slot) in &req.cells {
                    // The slot in layout order, checked against the
                    // submission's own list of cells.
                    let present = match (sub, values) {
                        (Some(s), Some(v)) if s.cells.get(*slot) == Some(&c.id) => {
                            v.get(*slot).is_some_and(Option::is_some)
                        }
                        (Some(s), _) => s.get(n, &c.id).is_some(),
                        (None, _) => false,
                    };
                    if present {
                        continue;
                    }
                    report.violations.push(Violation {
                        unit: here.unit.to_string(),
                        period: here.period.to_string(),
                        form: form.code.clone(),
                        record: (form.kind == ir::FormKind::Records).then_some(n),
                        cell: Some(c.id.clone()),
                        rule: format!("required.{}.{}", form.code, c.id),
                        kind: "required",
                        severity: Severity::Error,
                        message: format!("{}: bắt buộc phải nhập", c.label),
                    });
                }
            }
        }
    }
}

fn bad_value_message(regime: &ir::Regime, b: &BadValue) -> String {
    let label = regime
        .forms
        .iter()
        .find(|f| f.code == b.form)
        .and_then(|f| f.cells.iter().find(|c| c.id == b.cell))
        .map_or(b.cell.as_str(), |c| c.label.as_str());
    match b.problem {
        crate::value::Problem::Type => format!("{label}: giá trị không đúng kiểu dữ liệu"),
        crate::value::Problem::Range => format!("{label}: giá trị nằm ngoài khoảng cho phép"),
        crate::value::Problem::Codelist => format!("{label}: mã không có trong danh mục"),
    }
}
