//! `regc validate`: every rule of a regime over submissions, as a report of
//! violations. Written and derived rules (split, of-which) go through the
//! evaluator ([`crate::eval`]); required cells are checked here; values
//! that break a cell's type, range or codelist come from the reader.

use crate::eval::{Evaluator, Outcome, Store, fill_message};
use crate::ir::{self, ExprKind, RuleOrigin, Severity};
use crate::submission::BadValue;
use serde::Serialize;

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
    let mut report = Report::default();
    let eval = Evaluator::new(regime, store);
    for b in bad_values {
        let rule = format!("{}.{}.{}", b.problem.name(), b.form, b.cell);
        report.violations.push(Violation {
            unit: b.unit.clone(),
            period: b.period.clone(),
            form: b.form.clone(),
            record: (b.record > 0).then_some(b.record),
            cell: Some(b.cell.clone()),
            rule,
            kind: b.problem.name(),
            severity: Severity::Error,
            message: bad_value_message(regime, b),
        });
    }
    for rule in &regime.rules {
        if rule.origin == RuleOrigin::Reconcile {
            report.not_evaluated.push((
                rule.code.clone(),
                "a reconciliation compares roll-ups of two regimes: it is evaluated by the aggregation SQL".into(),
            ));
        }
    }
    for (unit, period) in targets {
        required(regime, store, unit, period, &mut report);
        for rule in &regime.rules {
            if rule.origin == RuleOrigin::Reconcile {
                continue;
            }
            let (form, cell) = match (&rule.scope, first_cell(&rule.check)) {
                (ir::RuleScope::EachRecord { form }, c) => {
                    (form.clone(), c.map(|(_, c)| c.to_string()))
                }
                (_, Some((f, c))) => (f.to_string(), Some(c.to_string())),
                (_, None) => (String::new(), None),
            };
            for (record, outcome) in eval.rule(rule, unit, period) {
                let record =
                    matches!(rule.scope, ir::RuleScope::EachRecord { .. }).then_some(record);
                match outcome {
                    Outcome::Pass => report.evaluated += 1,
                    Outcome::Skipped => report.skipped += 1,
                    Outcome::Fail(values) => {
                        report.evaluated += 1;
                        report.violations.push(Violation {
                            unit: unit.clone(),
                            period: period.clone(),
                            form: form.clone(),
                            record,
                            cell: cell.clone(),
                            rule: rule.code.clone(),
                            kind: kind(&rule.origin),
                            severity: rule.severity,
                            message: fill_message(&rule.message, &values),
                        });
                    }
                    Outcome::DivByZero => {
                        report.evaluated += 1;
                        report.violations.push(Violation {
                            unit: unit.clone(),
                            period: period.clone(),
                            form: form.clone(),
                            record,
                            cell: cell.clone(),
                            rule: rule.code.clone(),
                            kind: "div_by_zero",
                            severity: Severity::Error,
                            message: format!(
                                "Không kiểm tra được quy tắc {}: phép chia cho 0 (division by zero)",
                                rule.code
                            ),
                        });
                    }
                }
            }
        }
    }
    report.violations.sort_by(|a, b| {
        (&a.unit, &a.period, &a.form, a.record, &a.rule, &a.cell)
            .cmp(&(&b.unit, &b.period, &b.form, b.record, &b.rule, &b.cell))
    });
    report
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

/// Required cells left blank in the submissions of `unit` for `period`.
fn required(regime: &ir::Regime, store: &Store, unit: &str, period: &str, report: &mut Report) {
    for form in &regime.forms {
        let required: Vec<&ir::Cell> = form
            .cells
            .iter()
            .filter(|c| c.required && !matches!(c.entry, ir::Entry::Computed { .. }))
            .collect();
        if required.is_empty() {
            continue;
        }
        let sub = store.get(&regime.code, &form.code, unit, period);
        let records: Vec<u32> = match (form.kind, sub) {
            (ir::FormKind::Grid, _) => vec![0],
            (ir::FormKind::Records, Some(s)) => s.records.keys().copied().collect(),
            (ir::FormKind::Records, None) => Vec::new(),
        };
        for n in records {
            for c in &required {
                if sub.and_then(|s| s.get(n, &c.id)).is_none() {
                    report.violations.push(Violation {
                        unit: unit.to_string(),
                        period: period.to_string(),
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
