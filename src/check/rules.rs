//! Rules: written `rule` and `reconcile` declarations, and the rules the
//! compiler derives from split ("Chia ra") and of-which ("Trong đó") rows.

use super::SigMap;
use super::expr::ExprCx;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::ir::{self, Frequency, Unit, ValueType};
use crate::resolve::{Env, RefCtx, RegimeTable};
use crate::source::Span;
use crate::tr;
use std::collections::HashMap;

const SEVERITIES: &[(&str, ir::Severity)] = &[
    ("error", ir::Severity::Error),
    ("warning", ir::Severity::Warning),
    ("info", ir::Severity::Info),
];
const MISSING: &[(&str, ir::Missing)] = &[
    ("skip_if_any", ir::Missing::SkipIfAny),
    ("skip_any", ir::Missing::SkipIfAny),
    ("skip", ir::Missing::SkipIfAny),
    ("skip_if_all", ir::Missing::SkipIfAll),
    ("skip_all", ir::Missing::SkipIfAll),
    ("zero", ir::Missing::Zero),
    ("as_zero", ir::Missing::Zero),
    ("never", ir::Missing::Never),
    ("never_skip", ir::Missing::Never),
];

pub(crate) fn written(
    env: &Env<'_>,
    table: &RegimeTable<'_>,
    regime: &str,
    frequency: Option<Frequency>,
    sigs: &SigMap,
    diags: &mut Diagnostics,
) -> Vec<ir::Rule> {
    let mut out = Vec::new();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for rule in &table.regime.rules {
        if let Some(first) = seen.get(rule.code.text.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateRule,
                    rule.code.span,
                    tr!(
                        "the rule `{}` is declared twice",
                        "quy tắc `{}` được khai báo hai lần",
                        rule.code.text
                    ),
                    tr!("declared again here", "khai báo lại ở đây"),
                )
                .with_label(*first, tr!("first declared here", "khai báo lần đầu ở đây"))
                .with_help(tr!(
                    "rule codes are unique within a regime (R01, R02, …; C01 … for reconciliations)",
                    "mã quy tắc là duy nhất trong một chế độ báo cáo (R01, R02, …; C01 … cho các quy tắc đối chiếu)"
                )),
            );
            continue;
        }
        seen.insert(&rule.code.text, rule.code.span);

        let severity = match &rule.severity {
            None => ir::Severity::Error,
            Some(n) => match SEVERITIES.iter().find(|(s, _)| *s == n.text) {
                Some((_, s)) => *s,
                None => {
                    diags.push(
                        Diagnostic::new(
                            Code::UnknownSeverity,
                            n.span,
                            tr!(
                                "`{}` is not a rule severity",
                                "`{}` không phải là mức độ của quy tắc",
                                n.text
                            ),
                            tr!("unknown severity", "mức độ không biết"),
                        )
                        .with_help(tr!(
                            "{}; an error blocks the submission, a warning asks for an explanation, info only informs",
                            "{}; `error` (lỗi) chặn việc nộp báo cáo, `warning` (cảnh báo) yêu cầu giải trình, `info` chỉ để thông tin",
                            crate::diagnostic::choices(&n.text, &["error", "warning", "info"])
                        )),
                    );
                    ir::Severity::Error
                }
            },
        };
        let missing = match &rule.missing {
            None => ir::Missing::SkipIfAny,
            Some(n) => match MISSING.iter().find(|(s, _)| *s == n.text) {
                Some((_, m)) => *m,
                None => {
                    diags.push(
                        Diagnostic::new(
                            Code::UnknownMissing,
                            n.span,
                            tr!(
                                "`{}` is not a missing-value strategy",
                                "`{}` không phải là cách xử lý giá trị thiếu",
                                n.text
                            ),
                            tr!("unknown strategy", "cách xử lý không biết"),
                        )
                            .with_help(tr!(
                                "{}; skip_if_any skips the rule if any value is blank, skip_if_all only if all are, zero counts blanks as 0, never makes a blank fail the rule",
                                "{}; skip_if_any bỏ qua quy tắc nếu có giá trị nào để trống, skip_if_all chỉ khi tất cả để trống, zero coi ô trống là 0, never coi ô trống là vi phạm quy tắc",
                                crate::diagnostic::choices(&n.text, &["skip_if_any", "skip_if_all", "zero", "never"])
                            )),
                    );
                    ir::Missing::SkipIfAny
                }
            },
        };
        let mut record_form = None;
        let mut scope = ir::RuleScope::Submission;
        let mut unusable = false;
        if let Some(f) = &rule.for_each {
            unusable = true;
            match table.form_index(&f.text) {
                Some(fi) if table.forms.get(fi).is_some_and(|t| t.is_records()) => {
                    unusable = false;
                    record_form = Some(fi);
                    scope = ir::RuleScope::EachRecord { form: f.text.clone() };
                }
                Some(_) => diags.push(
                    Diagnostic::new(
                        Code::UnknownForm,
                        f.span,
                        tr!(
                            "form {} is a grid form, not a record form",
                            "biểu mẫu {} là biểu dạng bảng, không phải biểu danh sách",
                            f.text
                        ),
                        tr!("not a record form", "không phải biểu danh sách"),
                    )
                    .with_help(tr!(
                        "`for each` applies to record forms (`form B02 \"…\" records {{ … }}`); rules on grid cells need no `for each`",
                        "`for each` áp dụng cho biểu danh sách (`form B02 \"…\" records {{ … }}`); quy tắc trên các ô của biểu dạng bảng không cần `for each`"
                    )),
                ),
                None => diags.push(
                    Diagnostic::new(
                        Code::UnknownForm,
                        f.span,
                        tr!(
                            "there is no form `{}` in this regime",
                            "chế độ báo cáo này không có biểu mẫu `{}`",
                            f.text
                        ),
                        tr!("unknown form", "biểu mẫu không biết"),
                    )
                    .with_help(did_you_mean(
                        &f.text,
                        tr!("form", "biểu mẫu"),
                        table.forms.iter().map(|t| t.code()),
                    )),
                ),
            }
        }
        if unusable {
            // The rule's fields cannot be resolved without its record form.
            continue;
        }
        let ctx = RefCtx {
            record_form,
            allow_regime: rule.is_reconcile,
            ..RefCtx::default()
        };
        let mut cx = ExprCx {
            env,
            regime,
            frequency,
            ctx,
            cells: sigs,
            local: None,
            raw_percent: false,
            deps: Vec::new(),
            deferred: false,
            diags,
            other_regimes: 0,
        };
        let check = cx.expr(&rule.expr);
        // A placeholder shows the value as stored (a percent in percentage
        // points, not the fraction used in arithmetic).
        cx.raw_percent = true;
        let placeholders: Vec<ir::Expr> = rule
            .placeholders
            .iter()
            .map(|p| {
                cx.expr(&crate::syntax::ast::Expr {
                    kind: crate::syntax::ast::ExprKind::Ref(p.clone()),
                    span: p.span,
                })
                .expr
            })
            .collect();
        let other = cx.other_regimes;
        if !check.poisoned && check.expr.ty != ValueType::Bool {
            diags.push(
                Diagnostic::new(
                    Code::NotBoolean,
                    rule.expr.span,
                    tr!(
                        "the condition of rule {} gives a {}, not true or false",
                        "điều kiện của quy tắc {} cho ra {}, không phải đúng hoặc sai",
                        rule.code.text,
                        super::expr::ty_name(&check.expr.ty)
                    ),
                    tr!("not a condition", "không phải điều kiện"),
                )
                .with_help(tr!(
                    "a rule states what must hold, e.g. `cargo.month >= 0` or `total == a + b`",
                    "quy tắc nêu điều phải đúng, ví dụ `cargo.month >= 0` hoặc `total == a + b`"
                )),
            );
        }
        if rule.is_reconcile && other == 0 && !check.poisoned {
            diags.push(
                Diagnostic::new(
                    Code::ReconcileWithoutOther,
                    rule.code.span,
                    tr!(
                        "reconciliation {} compares nothing from another regime",
                        "quy tắc đối chiếu {} không so sánh gì với chế độ báo cáo khác",
                        rule.code.text
                    ),
                    tr!("no other regime", "không có chế độ báo cáo khác"),
                )
                .with_help(tr!(
                    "a reconciliation compares this regime's value with another regime's, e.g. `beds.total == health.hospital_activity.B01.beds.total`; use `rule` for checks inside one regime",
                    "quy tắc đối chiếu so sánh giá trị của chế độ báo cáo này với giá trị của chế độ báo cáo khác, ví dụ `beds.total == health.hospital_activity.B01.beds.total`; hãy dùng `rule` cho các kiểm tra trong cùng một chế độ báo cáo"
                )),
            );
        }
        let tolerance = rule.tolerance.as_ref().and_then(|t| {
            let is_eq = matches!(&check.expr.kind, ir::ExprKind::Binary { bin: ir::BinOp::Eq, .. });
            if !is_eq && !check.poisoned {
                diags.push(
                    Diagnostic::new(
                        Code::BadTolerance,
                        t.span,
                        tr!(
                            "a tolerance applies to a rule of the form `a == b`",
                            "dung sai chỉ áp dụng cho quy tắc dạng `a == b`"
                        ),
                        tr!("no equality to relax", "không có đẳng thức để nới lỏng"),
                    )
                    .with_help(tr!(
                        "write the rule as an equality (`a == b`); the tolerance says how far apart a and b may be",
                        "hãy viết quy tắc dưới dạng đẳng thức (`a == b`); dung sai cho biết a và b được chênh nhau bao nhiêu"
                    )),
                );
                return None;
            }
            if t.percent && super::forms::compare_decimal(&t.value.text, "100") == std::cmp::Ordering::Greater {
                diags.push(
                    Diagnostic::new(
                        Code::BadTolerance,
                        t.span,
                        tr!(
                            "a tolerance of {}% accepts any value",
                            "dung sai {}% chấp nhận mọi giá trị",
                            t.value.text
                        ),
                        tr!("too large", "quá lớn"),
                    )
                    .with_help(tr!(
                        "relative tolerances are between 0% and 100%; typical values are 0.5% to 5%",
                        "dung sai tương đối nằm trong khoảng 0% đến 100%; giá trị thường dùng là 0.5% đến 5%"
                    )),
                );
                return None;
            }
            Some(ir::Tolerance {
                value: if t.percent { super::expr::percent_value(&t.value.text) } else { super::expr::normalize(&t.value.text) },
                relative: t.percent,
            })
        });
        let at_level = rule.at_level.as_ref().and_then(|l| {
            if env.data.is_level(&l.text) || env.data.is_unit_type(&l.text) {
                Some(l.text.clone())
            } else {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownLevel,
                        l.span,
                        tr!(
                            "`{}` is not an org level",
                            "`{}` không phải là một cấp hành chính",
                            l.text
                        ),
                        tr!("unknown level", "cấp không biết"),
                    )
                    .with_help(
                        super::header::vietnamese_level(env.data, &l.text).unwrap_or_else(|| {
                            did_you_mean(
                                &l.text,
                                tr!("level", "cấp"),
                                env.data.levels.iter().map(|l| l.code.as_str()),
                            )
                        }),
                    ),
                );
                None
            }
        });
        out.push(ir::Rule {
            code: rule.code.text.clone(),
            origin: if rule.is_reconcile {
                ir::RuleOrigin::Reconcile
            } else {
                ir::RuleOrigin::Written
            },
            severity,
            message: number_placeholders(&rule.message.value),
            placeholders,
            missing,
            scope,
            tolerance,
            at_level,
            check: check.expr,
        });
    }
    out
}

/// Replaces the k-th `{…}` placeholder of a message with `{k}`; `{{` and
/// `}}` stay as they are (literal braces).
fn number_placeholders(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut k = 0;
    let mut rest = message;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(rest.get(..i).unwrap_or(""));
        let tail = rest.get(i..).unwrap_or("");
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(tail.get(..2).unwrap_or(""));
            rest = tail.get(2..).unwrap_or("");
        } else if tail.starts_with('{') {
            match tail.find('}') {
                Some(close) => {
                    out.push_str(&format!("{{{k}}}"));
                    k += 1;
                    rest = tail.get(close + 1..).unwrap_or("");
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        } else {
            out.push('}');
            rest = tail.get(1..).unwrap_or("");
        }
    }
    out.push_str(rest);
    out
}

/// Split rows: for each entered numeric column of the parent, the parent
/// equals the sum of its children. Of-which rows: each child is at most the
/// parent. Blank cells count as zero (`missing zero`). Percent and ratio
/// columns are not additive and get no split rule.
pub(crate) fn derived(table: &RegimeTable<'_>, forms: &[ir::Form]) -> Vec<ir::Rule> {
    let _ = table;
    let mut out = Vec::new();
    for form in forms {
        if form.kind != ir::FormKind::Grid {
            continue;
        }
        let cell = |row: &str, col: &str| {
            form.cells
                .iter()
                .find(|c| c.row.as_deref() == Some(row) && c.column.as_deref() == Some(col))
        };
        for parent in &form.rows {
            let children: Vec<&ir::Row> = form
                .rows
                .iter()
                .filter(|r| r.parent.as_deref() == Some(parent.name.as_str()))
                .collect();
            if children.is_empty() {
                continue;
            }
            for col in &form.columns {
                let Some(pc) = cell(&parent.name, &col.name) else {
                    continue;
                };
                if !additive(pc) || matches!(pc.entry, ir::Entry::Computed { .. }) {
                    continue;
                }
                let col_label = if col.implicit {
                    String::new()
                } else {
                    format!(" [{}]", col.label)
                };
                let pref = cell_ref(form, pc);
                // One sum per split block (a row may be split by sex and by
                // area); blocks numbered after the first get a suffix.
                let mut blocks: Vec<u32> = children
                    .iter()
                    .filter(|c| c.relation == Some(ir::Relation::Split))
                    .map(|c| c.block)
                    .collect();
                blocks.dedup();
                for (n, block) in blocks.iter().enumerate() {
                    let split: Vec<&ir::Cell> = children
                        .iter()
                        .filter(|c| c.relation == Some(ir::Relation::Split) && c.block == *block)
                        .filter_map(|c| cell(&c.name, &col.name))
                        .filter(|c| additive(c) && c.unit == pc.unit)
                        .collect();
                    if split.is_empty() {
                        continue;
                    }
                    let sum = ir::Expr {
                        kind: ir::ExprKind::Call {
                            func: ir::Func::Sum,
                            args: split.iter().map(|c| cell_ref(form, c)).collect(),
                        },
                        ty: ValueType::Number,
                        unit: pc.unit.clone(),
                    };
                    let suffix = if n == 0 {
                        String::new()
                    } else {
                        format!(".{}", n + 1)
                    };
                    out.push(ir::Rule {
                        code: format!("split.{}.{}{suffix}", form.code, pc.id),
                        origin: ir::RuleOrigin::Split {
                            form: form.code.clone(),
                            parent: parent.name.clone(),
                            column: col.name.clone(),
                        },
                        severity: ir::Severity::Error,
                        message: format!(
                            "{}. {}{col_label}: tổng các dòng chia ra ({{1}}) phải bằng dòng tổng ({{0}})",
                            parent.number, parent.label
                        ),
                        placeholders: vec![pref.clone(), sum.clone()],
                        missing: ir::Missing::Zero,
                        scope: ir::RuleScope::Submission,
                        tolerance: None,
                        at_level: None,
                        check: compare(ir::BinOp::Eq, pref.clone(), sum),
                    });
                }
                for child in children
                    .iter()
                    .filter(|c| c.relation == Some(ir::Relation::OfWhich))
                {
                    let Some(cc) = cell(&child.name, &col.name) else {
                        continue;
                    };
                    if cc.unit != pc.unit || !additive(cc) {
                        continue;
                    }
                    let cref = cell_ref(form, cc);
                    out.push(ir::Rule {
                        code: format!("of_which.{}.{}", form.code, cc.id),
                        origin: ir::RuleOrigin::OfWhich {
                            form: form.code.clone(),
                            parent: parent.name.clone(),
                            child: child.name.clone(),
                            column: col.name.clone(),
                        },
                        severity: ir::Severity::Error,
                        message: format!(
                            "{}. {}{col_label} ({{0}}) không được lớn hơn {}. {} ({{1}})",
                            child.number, child.label, parent.number, parent.label
                        ),
                        placeholders: vec![cref.clone(), pref.clone()],
                        missing: ir::Missing::Zero,
                        scope: ir::RuleScope::Submission,
                        tolerance: None,
                        at_level: None,
                        check: compare(ir::BinOp::Le, cref, pref.clone()),
                    });
                }
            }
        }
    }
    out
}

/// A cell whose values add up: a number that is not a percent or a ratio.
fn additive(c: &ir::Cell) -> bool {
    c.ty.is_numeric() && c.ty != ir::Type::Percent && !c.unit.is_ratio()
}

fn cell_ref(form: &ir::Form, c: &ir::Cell) -> ir::Expr {
    ir::Expr {
        kind: ir::ExprKind::Cell {
            regime: None,
            form: form.code.clone(),
            cell: c.id.clone(),
            period: ir::PeriodRef::Current,
        },
        ty: ValueType::Number,
        unit: c.unit.clone(),
    }
}

fn compare(bin: ir::BinOp, lhs: ir::Expr, rhs: ir::Expr) -> ir::Expr {
    ir::Expr {
        kind: ir::ExprKind::Binary {
            bin,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        ty: ValueType::Bool,
        unit: Unit::dimensionless(),
    }
}
