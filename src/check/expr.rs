//! Typing of expressions (formulas and rule conditions): value types, units
//! of measure with dimensional analysis, functions, period references; and
//! their lowering into IR expression trees.

use super::{CellKey, SigMap};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::ir::{self, Frequency, PeriodRef, Unit, ValueType};
use crate::lang::Text;
use crate::resolve::{Env, FormShape, RefCtx, Target};
use crate::source::Span;
use crate::syntax::ast;
use crate::tr;

/// The type and unit of a cell as far as expressions are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CellSig {
    pub ty: ir::Type,
    pub unit: Unit,
}

impl CellSig {
    pub(crate) fn value_type(&self) -> ValueType {
        match &self.ty {
            ir::Type::Int | ir::Type::Decimal { .. } | ir::Type::Money | ir::Type::Percent => {
                ValueType::Number
            }
            ir::Type::Text { .. } | ir::Type::Code { .. } => ValueType::Text,
            ir::Type::Date => ValueType::Date,
            ir::Type::Bool => ValueType::Bool,
        }
    }
}

/// A typed expression under construction. `literal` marks a bare number,
/// which takes the unit of what it is added to or compared with (`x > 0`).
pub(crate) struct Typed {
    pub expr: ir::Expr,
    pub literal: bool,
    /// The subexpression had an error already reported: no more errors
    /// about it (no cascades).
    pub poisoned: bool,
}

pub(crate) struct ExprCx<'c, 'a> {
    pub env: &'c Env<'a>,
    pub regime: &'a str,
    pub frequency: Option<Frequency>,
    pub ctx: RefCtx,
    /// Types of cells: the declared ones of the whole library…
    pub cells: &'c SigMap,
    /// …and, while formulas are typed, those inferred so far in this regime.
    pub local: Option<&'c SigMap>,
    /// Read percent cells as stored (percentage points), not as fractions:
    /// for message placeholders.
    pub raw_percent: bool,
    /// Cells read in the current period (for cycle detection).
    pub deps: Vec<CellKey>,
    /// Some reference could not be typed yet (a computed cell whose type is
    /// still being inferred); the caller retries later.
    pub deferred: bool,
    pub diags: &'c mut Diagnostics,
    /// References to other regimes found (a reconcile needs at least one).
    pub other_regimes: usize,
}

const FUNCTIONS: &[&str] = &[
    "abs", "min", "max", "round", "sum", "if", "count", "average", "last", "first",
];

impl<'c, 'a> ExprCx<'c, 'a> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn poisoned(span: Span) -> Typed {
        let _ = span;
        Typed {
            expr: ir::Expr {
                kind: ir::ExprKind::Number { value: "0".into() },
                ty: ValueType::Number,
                unit: Unit::dimensionless(),
            },
            literal: true,
            poisoned: true,
        }
    }

    fn typed(kind: ir::ExprKind, ty: ValueType, unit: Unit) -> Typed {
        Typed {
            expr: ir::Expr { kind, ty, unit },
            literal: false,
            poisoned: false,
        }
    }

    pub(crate) fn expr(&mut self, e: &ast::Expr) -> Typed {
        match &e.kind {
            ast::ExprKind::Error => Self::poisoned(e.span),
            ast::ExprKind::Number(n) => Typed {
                expr: ir::Expr {
                    kind: ir::ExprKind::Number {
                        value: normalize(&n.text),
                    },
                    ty: ValueType::Number,
                    unit: Unit::dimensionless(),
                },
                literal: true,
                poisoned: false,
            },
            ast::ExprKind::Percent(n) => Self::typed(
                ir::ExprKind::Number {
                    value: percent_value(&n.text),
                },
                ValueType::Number,
                Unit::dimensionless(),
            ),
            ast::ExprKind::Str(s) => Self::typed(
                ir::ExprKind::Text {
                    value: s.value.clone(),
                },
                ValueType::Text,
                Unit::dimensionless(),
            ),
            ast::ExprKind::Bool(b) => Self::typed(
                ir::ExprKind::Bool { value: *b },
                ValueType::Bool,
                Unit::dimensionless(),
            ),
            ast::ExprKind::Date(d) => match chrono::NaiveDate::from_ymd_opt(d.year, d.month, d.day)
            {
                Some(value) => Self::typed(
                    ir::ExprKind::Date { value },
                    ValueType::Date,
                    Unit::dimensionless(),
                ),
                None => Self::poisoned(e.span),
            },
            ast::ExprKind::Ref(r) => self.reference(r),
            ast::ExprKind::Neg(a) => {
                let a = self.expr(a);
                if !a.poisoned && a.expr.ty != ValueType::Number {
                    self.err(type_mismatch(
                        e.span,
                        tr!("`-` needs a number", "`-` cần một số"),
                        &a.expr.ty,
                    ));
                    return Self::poisoned(e.span);
                }
                let unit = a.expr.unit.clone();
                Typed {
                    literal: a.literal,
                    poisoned: a.poisoned,
                    expr: ir::Expr {
                        kind: ir::ExprKind::Neg {
                            arg: Box::new(a.expr),
                        },
                        ty: ValueType::Number,
                        unit,
                    },
                }
            }
            ast::ExprKind::Not(a) => {
                let a = self.expr(a);
                if !a.poisoned && a.expr.ty != ValueType::Bool {
                    self.err(type_mismatch(
                        e.span,
                        tr!(
                            "`not` needs a condition (true/false)",
                            "`not` cần một điều kiện (đúng/sai)"
                        ),
                        &a.expr.ty,
                    ));
                    return Self::poisoned(e.span);
                }
                Typed {
                    literal: false,
                    poisoned: a.poisoned,
                    expr: ir::Expr {
                        kind: ir::ExprKind::Not {
                            arg: Box::new(a.expr),
                        },
                        ty: ValueType::Bool,
                        unit: Unit::dimensionless(),
                    },
                }
            }
            ast::ExprKind::Binary(op, l, r) => self.binary(*op, l, r, e.span),
            ast::ExprKind::Call { func, args } => self.call(func, args, e.span),
        }
    }

    fn binary(&mut self, op: ast::BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> Typed {
        let lt = self.expr(l);
        let rt = self.expr(r);
        let poisoned = lt.poisoned || rt.poisoned;
        let bin = match op {
            ast::BinOp::Add => ir::BinOp::Add,
            ast::BinOp::Sub => ir::BinOp::Sub,
            ast::BinOp::Mul => ir::BinOp::Mul,
            ast::BinOp::Div => ir::BinOp::Div,
            ast::BinOp::Eq => ir::BinOp::Eq,
            ast::BinOp::Ne => ir::BinOp::Ne,
            ast::BinOp::Lt => ir::BinOp::Lt,
            ast::BinOp::Le => ir::BinOp::Le,
            ast::BinOp::Gt => ir::BinOp::Gt,
            ast::BinOp::Ge => ir::BinOp::Ge,
            ast::BinOp::And => ir::BinOp::And,
            ast::BinOp::Or => ir::BinOp::Or,
        };
        let build = |ty: ValueType, unit: Unit, lt: Typed, rt: Typed, literal: bool| Typed {
            literal,
            poisoned,
            expr: ir::Expr {
                kind: ir::ExprKind::Binary {
                    bin,
                    lhs: Box::new(lt.expr),
                    rhs: Box::new(rt.expr),
                },
                ty,
                unit,
            },
        };
        if poisoned {
            let ty = if bin.is_comparison() || matches!(bin, ir::BinOp::And | ir::BinOp::Or) {
                ValueType::Bool
            } else {
                ValueType::Number
            };
            let mut t = build(ty, Unit::dimensionless(), lt, rt, false);
            t.poisoned = true;
            return t;
        }
        match op {
            ast::BinOp::And | ast::BinOp::Or => {
                for (side, t) in [(l, &lt), (r, &rt)] {
                    if t.expr.ty != ValueType::Bool {
                        self.err(type_mismatch(
                            side.span,
                            tr!(
                                "`{}` joins conditions (true/false)",
                                "`{}` nối các điều kiện (đúng/sai)",
                                op.symbol()
                            ),
                            &t.expr.ty,
                        ));
                        return Self::poisoned(span);
                    }
                }
                build(ValueType::Bool, Unit::dimensionless(), lt, rt, false)
            }
            ast::BinOp::Add | ast::BinOp::Sub | ast::BinOp::Mul | ast::BinOp::Div => {
                for (side, t) in [(l, &lt), (r, &rt)] {
                    if t.expr.ty != ValueType::Number {
                        self.err(type_mismatch(
                            side.span,
                            tr!("`{}` needs numbers", "`{}` cần các số", op.symbol()),
                            &t.expr.ty,
                        ));
                        return Self::poisoned(span);
                    }
                }
                let unit = match op {
                    ast::BinOp::Mul => lt.expr.unit.mul(&rt.expr.unit),
                    ast::BinOp::Div => {
                        if let ir::ExprKind::Number { value } = &rt.expr.kind
                            && is_zero(value)
                            && rt.literal
                        {
                            self.err(
                                Diagnostic::new(Code::DivisionByZero, r.span, tr!("division by zero", "chia cho không"), tr!("this is zero", "số này bằng không"))
                                    .with_help(tr!(
                                        "a division by zero can never give a value; divide by a cell, and let the rules' missing-value strategy handle zeros",
                                        "chia cho không không bao giờ cho ra giá trị; hãy chia cho một ô, và để cách xử lý giá trị thiếu của quy tắc lo trường hợp bằng không"
                                    )),
                            );
                            return Self::poisoned(span);
                        }
                        lt.expr.unit.div(&rt.expr.unit)
                    }
                    _ => match self.same_unit(op.symbol(), l, &lt, r, &rt) {
                        Some(u) => u,
                        None => return Self::poisoned(span),
                    },
                };
                let literal = lt.literal && rt.literal;
                build(ValueType::Number, unit, lt, rt, literal)
            }
            _ => {
                // Comparisons.
                if lt.expr.ty != rt.expr.ty {
                    self.err(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            l.span,
                            tr!(
                                "`{}` compares a {} with a {}",
                                "`{}` so sánh {} với {}",
                                op.symbol(),
                                ty_name(&lt.expr.ty),
                                ty_name(&rt.expr.ty)
                            ),
                            a_ty(&lt.expr.ty),
                        )
                        .with_label(r.span, a_ty(&rt.expr.ty))
                        .with_help(tr!(
                            "compare values of the same type: numbers with numbers, dates with dates, codes and texts with texts in quotes",
                            "hãy so sánh các giá trị cùng kiểu: số với số, ngày với ngày, mã và văn bản với văn bản trong dấu ngoặc kép"
                        )),
                    );
                    return Self::poisoned(span);
                }
                let ordered = !matches!(op, ast::BinOp::Eq | ast::BinOp::Ne);
                if ordered && matches!(lt.expr.ty, ValueType::Bool | ValueType::Text) {
                    self.err(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            span,
                            tr!(
                                "`{}` cannot order {} values",
                                "`{}` không thể so sánh hơn kém các giá trị {}",
                                op.symbol(),
                                ty_name(&lt.expr.ty)
                            ),
                            tr!("not ordered", "không có thứ tự"),
                        )
                        .with_help(tr!(
                            "texts, codes and true/false can only be compared with `==` or `!=`",
                            "văn bản, mã và giá trị đúng/sai chỉ so sánh được bằng `==` hoặc `!=`"
                        )),
                    );
                    return Self::poisoned(span);
                }
                if lt.expr.ty == ValueType::Number
                    && self.same_unit(op.symbol(), l, &lt, r, &rt).is_none()
                {
                    return Self::poisoned(span);
                }
                build(ValueType::Bool, Unit::dimensionless(), lt, rt, false)
            }
        }
    }

    /// Units of two sides that must agree (`+`, `-`, comparisons, `min`…).
    fn same_unit(
        &mut self,
        what: &str,
        l: &ast::Expr,
        lt: &Typed,
        r: &ast::Expr,
        rt: &Typed,
    ) -> Option<Unit> {
        if lt.literal {
            return Some(rt.expr.unit.clone());
        }
        if rt.literal || lt.expr.unit == rt.expr.unit {
            return Some(lt.expr.unit.clone());
        }
        self.err(unit_mismatch(
            what,
            l.span,
            &lt.expr.unit,
            r.span,
            &rt.expr.unit,
        ));
        None
    }

    fn reference(&mut self, r: &ast::Reference) -> Typed {
        let span = r.span;
        let target = match self.env.resolve_ref(self.regime, r, self.ctx) {
            Ok(t) => t,
            Err(d) => {
                self.err(d);
                return Self::poisoned(span);
            }
        };
        let period = match &r.period {
            None => PeriodRef::Current,
            Some(p) => match self.period(p) {
                Some(p) => p,
                None => return Self::poisoned(span),
            },
        };
        let (regime, form, cell) = match &target {
            Target::Cell {
                regime,
                form,
                row,
                column,
            } => {
                let table = regime
                    .as_deref()
                    .and_then(|c| self.env.regimes.get(c))
                    .or_else(|| self.env.regimes.get(self.regime));
                let Some(ft) = table.and_then(|t| t.forms.get(*form)) else {
                    return Self::poisoned(span);
                };
                let row_name = match &ft.shape {
                    FormShape::Grid { rows, .. } => rows
                        .get(*row)
                        .map(|r| r.row.name.text.clone())
                        .unwrap_or_default(),
                    FormShape::Records { .. } => String::new(),
                };
                (
                    regime.clone(),
                    ft.code().to_string(),
                    if ft.has_implicit_column() {
                        row_name
                    } else {
                        format!("{row_name}.{column}")
                    },
                )
            }
            Target::Field { form, field } => {
                let Some(ft) = self
                    .env
                    .regimes
                    .get(self.regime)
                    .and_then(|t| t.forms.get(*form))
                else {
                    return Self::poisoned(span);
                };
                let FormShape::Records { fields } = &ft.shape else {
                    return Self::poisoned(span);
                };
                if period != PeriodRef::Current {
                    self.err(
                        Diagnostic::new(
                            Code::PeriodNotAvailable,
                            r.period.as_ref().map(|p| p.span).unwrap_or(span),
                            tr!(
                                "a record field has no value in another period",
                                "trường của biểu danh sách không có giá trị ở kỳ khác"
                            ),
                            tr!(
                                "records are not matched across periods",
                                "các bản ghi không được ghép giữa các kỳ"
                            ),
                        )
                        .with_help(tr!(
                            "records are not matched from one period to the next; compare a total instead, e.g. a grid cell that holds the period's total",
                            "các bản ghi không được ghép từ kỳ này sang kỳ sau; hãy so sánh một số tổng, ví dụ một ô của biểu dạng bảng chứa tổng của kỳ"
                        )),
                    );
                    return Self::poisoned(span);
                }
                let name = fields
                    .get(*field)
                    .map(|f| f.name.text.clone())
                    .unwrap_or_default();
                (None, ft.code().to_string(), name)
            }
            Target::RecordColumn { form, .. } | Target::Form { form } => {
                let code = self
                    .env
                    .regimes
                    .get(self.regime)
                    .and_then(|t| t.forms.get(*form))
                    .map(|f| f.code().to_string())
                    .unwrap_or_default();
                let text = r.text();
                self.err(
                    Diagnostic::new(
                        Code::FieldOutsideRecord,
                        span,
                        tr!(
                            "`{text}` stands for all the records of form {code}, not one value",
                            "`{text}` là toàn bộ bản ghi của biểu mẫu {code}, không phải một giá trị"
                        ),
                        tr!("a whole record form", "cả một biểu danh sách"),
                    )
                    .with_help(tr!(
                        "inside a rule about each record write `for each {code}` and name the field alone; to total the records use `count({code})` or `sum({code}.field)`",
                        "trong quy tắc áp dụng cho từng bản ghi, hãy ghi `for each {code}` và chỉ nêu tên trường; để tính tổng các bản ghi dùng `count({code})` hoặc `sum({code}.field)`"
                    )),
                );
                return Self::poisoned(span);
            }
        };
        let key = CellKey {
            regime: regime.clone().unwrap_or_else(|| self.regime.to_string()),
            form: form.clone(),
            cell: cell.clone(),
        };
        // Recorded before the type is known, so that a cycle among computed
        // cells whose types are all inferred is still found. A read of
        // another period counts: `x = y + x@previous` has no end either
        // (each period's value needs the one before, back forever).
        if regime.is_none() {
            self.deps.push(key.clone());
        }
        let Some(sig) = self
            .cells
            .get(&key)
            .or_else(|| self.local.and_then(|l| l.get(&key)))
            .cloned()
        else {
            // A computed cell whose type is not known yet.
            self.deferred = true;
            return Self::poisoned(span);
        };
        if regime.is_some() {
            self.other_regimes += 1;
        }
        let vt = sig.value_type();
        let percent = sig.ty == ir::Type::Percent && !self.raw_percent;
        let unit = if percent {
            Unit::dimensionless()
        } else {
            sig.unit.clone()
        };
        let node = ir::Expr {
            kind: ir::ExprKind::Cell {
                regime,
                form,
                cell,
                period,
            },
            ty: vt,
            unit: unit.clone(),
        };
        let expr = if percent {
            percent_to_fraction(node)
        } else {
            node
        };
        Typed {
            expr,
            literal: false,
            poisoned: false,
        }
    }

    fn period(&mut self, p: &ast::Name) -> Option<PeriodRef> {
        let period = match p.text.as_str() {
            "previous" => PeriodRef::Previous,
            "same_period_last_year" | "last_year" => PeriodRef::SamePeriodLastYear,
            other => {
                self.err(
                    Diagnostic::new(
                        Code::UnknownPeriod,
                        p.span,
                        tr!(
                            "`@{other}` is not a period reference",
                            "`@{other}` không phải là tham chiếu kỳ"
                        ),
                        tr!("unknown period", "kỳ không biết"),
                    )
                    .with_help(tr!(
                        "{}; for year to date write `sum(x over year_to_date)`",
                        "{}; để lấy lũy kế từ đầu năm hãy ghi `sum(x over year_to_date)`",
                        did_you_mean(
                            other,
                            tr!("period reference", "tham chiếu kỳ"),
                            ["previous", "same_period_last_year"]
                        )
                    )),
                );
                return None;
            }
        };
        if self.frequency == Some(Frequency::AdHoc) {
            self.err(
                Diagnostic::new(
                    Code::PeriodNotAvailable,
                    p.span,
                    tr!(
                        "an ad hoc regime has no `@{}` period",
                        "chế độ báo cáo đột xuất không có kỳ `@{}`",
                        p.text
                    ),
                    tr!(
                        "no periods in an ad hoc regime",
                        "chế độ báo cáo đột xuất không có kỳ"
                    ),
                )
                .with_help(tr!(
                    "ad hoc reports are not periodic, so there is no previous period to compare with; remove the reference",
                    "báo cáo đột xuất không định kỳ, nên không có kỳ trước để so sánh; hãy bỏ tham chiếu này"
                )),
            );
            return None;
        }
        Some(period)
    }

    fn call(&mut self, func: &ast::Name, args: &[ast::Arg], span: Span) -> Typed {
        let name = func.text.as_str();
        // `sum(x over year_to_date)` and friends.
        if let [arg] = args
            && let Some(over) = &arg.over
        {
            return self.window(func, arg, over, span);
        }
        if let Some(a) = args.iter().find_map(|a| a.over.as_ref()) {
            self.err(
                Diagnostic::new(
                    Code::BadWindow,
                    a.span,
                    tr!(
                        "`over` applies to a single argument",
                        "`over` chỉ áp dụng cho một đối số duy nhất"
                    ),
                    tr!("misplaced `over`", "`over` đặt sai chỗ"),
                )
                .with_help(tr!(
                    "write `sum(x over year_to_date)` with one argument",
                    "hãy ghi `sum(x over year_to_date)` với một đối số"
                )),
            );
            return Self::poisoned(span);
        }
        // `count(B02)`, `sum(B02.field)`.
        if matches!(name, "count" | "sum" | "min" | "max")
            && let [arg] = args
            && let ast::ExprKind::Ref(r) = &arg.expr.kind
            && r.period.is_none()
            && let Some(t) = self.record_target(r, name)
        {
            return t;
        }
        let arity: (usize, usize) = match name {
            "abs" => (1, 1),
            "round" => (1, 2),
            "if" => (3, 3),
            "min" | "max" => (2, usize::MAX),
            "sum" => (1, usize::MAX),
            "count" | "average" | "last" | "first" => {
                self.err(
                    Diagnostic::new(
                        Code::WrongArity,
                        func.span,
                        if name == "count" {
                            tr!(
                                "`count` counts the records of a record form: `count(B02)`",
                                "`count` đếm số bản ghi của một biểu danh sách: `count(B02)`"
                            )
                        } else {
                            tr!(
                                "`{name}` takes a value over a time window: `{name}(x over year_to_date)`",
                                "`{name}` lấy một giá trị trên một khoảng thời gian: `{name}(x over year_to_date)`"
                            )
                        },
                        tr!("missing what to take it over", "thiếu khoảng thời gian cần lấy"),
                    )
                    .with_help(if name == "count" {
                        tr!(
                            "name a record form: `count(B02)` is the number of records reported on form B02",
                            "hãy nêu một biểu danh sách: `count(B02)` là số bản ghi được báo cáo trong biểu B02"
                        )
                    } else {
                        tr!(
                            "write `{name}(x over year_to_date)`; for several cells of the same period use `min`, `max` or `sum`",
                            "hãy ghi `{name}(x over year_to_date)`; với nhiều ô của cùng một kỳ dùng `min`, `max` hoặc `sum`"
                        )
                    }),
                );
                return Self::poisoned(span);
            }
            _ => {
                self.err(
                    Diagnostic::new(
                        Code::UnknownFunction,
                        func.span,
                        tr!("there is no function `{name}`", "không có hàm `{name}`"),
                        tr!("unknown function", "hàm không biết"),
                    )
                    .with_help(did_you_mean(
                        name,
                        tr!("function", "hàm"),
                        FUNCTIONS.iter().copied(),
                    )),
                );
                return Self::poisoned(span);
            }
        };
        if args.len() < arity.0 || args.len() > arity.1 {
            let expect = match arity {
                (a, b) if a == b => tr!("{a}", "{a}"),
                (a, usize::MAX) => tr!("at least {a}", "ít nhất {a}"),
                (a, b) => tr!("{a} or {b}", "{a} hoặc {b}"),
            };
            self.err(
                Diagnostic::new(
                    Code::WrongArity,
                    span,
                    tr!(
                        "`{name}` takes {} argument(s), but {} were given",
                        "`{name}` nhận {} đối số, nhưng đã truyền {}",
                        expect,
                        args.len()
                    ),
                    tr!("wrong number of arguments", "sai số đối số"),
                )
                .with_help(match name {
                    "if" => tr!(
                        "write `if(condition, value_if_true, value_if_false)`",
                        "hãy ghi `if(điều_kiện, giá_trị_nếu_đúng, giá_trị_nếu_sai)`"
                    ),
                    "round" => tr!(
                        "write `round(x)` or `round(x, digits)`",
                        "hãy ghi `round(x)` hoặc `round(x, số_chữ_số)`"
                    ),
                    _ => tr!("write `{name}(a, b, …)`", "hãy ghi `{name}(a, b, …)`"),
                }),
            );
            return Self::poisoned(span);
        }
        let typed: Vec<Typed> = args.iter().map(|a| self.expr(&a.expr)).collect();
        if typed.iter().any(|t| t.poisoned) {
            let mut t = Self::poisoned(span);
            t.expr.ty = if name == "if" {
                typed
                    .get(1)
                    .map(|t| t.expr.ty.clone())
                    .unwrap_or(ValueType::Number)
            } else {
                ValueType::Number
            };
            return t;
        }
        let f = match name {
            "abs" => ir::Func::Abs,
            "round" => ir::Func::Round,
            "if" => ir::Func::If,
            "min" => ir::Func::Min,
            "max" => ir::Func::Max,
            _ => ir::Func::Sum,
        };
        let (ty, unit, literal) = match f {
            ir::Func::If => {
                let (Some(c), Some(a), Some(b)) = (typed.first(), typed.get(1), typed.get(2))
                else {
                    return Self::poisoned(span);
                };
                let (Some(ca), Some(aa), Some(ba)) = (args.first(), args.get(1), args.get(2))
                else {
                    return Self::poisoned(span);
                };
                if c.expr.ty != ValueType::Bool {
                    self.err(type_mismatch(
                        ca.expr.span,
                        tr!(
                            "the first argument of `if` is a condition",
                            "đối số đầu tiên của `if` là một điều kiện"
                        ),
                        &c.expr.ty,
                    ));
                    return Self::poisoned(span);
                }
                if a.expr.ty != b.expr.ty {
                    self.err(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            aa.expr.span,
                            tr!(
                                "the two branches of `if` give a {} and a {}",
                                "hai nhánh của `if` cho ra {} và {}",
                                ty_name(&a.expr.ty),
                                ty_name(&b.expr.ty)
                            ),
                            a_ty(&a.expr.ty),
                        )
                        .with_label(ba.expr.span, a_ty(&b.expr.ty))
                        .with_help(tr!(
                            "both branches must give the same type of value",
                            "cả hai nhánh phải cho ra giá trị cùng kiểu"
                        )),
                    );
                    return Self::poisoned(span);
                }
                let unit = if a.expr.ty == ValueType::Number {
                    match self.same_unit("if", &aa.expr, a, &ba.expr, b) {
                        Some(u) => u,
                        None => return Self::poisoned(span),
                    }
                } else {
                    Unit::dimensionless()
                };
                (a.expr.ty.clone(), unit, a.literal && b.literal)
            }
            _ => {
                for (a, t) in args.iter().zip(&typed) {
                    if t.expr.ty != ValueType::Number {
                        self.err(type_mismatch(
                            a.expr.span,
                            tr!("`{name}` needs numbers", "`{name}` cần các số"),
                            &t.expr.ty,
                        ));
                        return Self::poisoned(span);
                    }
                }
                if f == ir::Func::Round {
                    if let (Some(d), Some(da)) = (typed.get(1), args.get(1))
                        && !(d.literal
                            && matches!(&d.expr.kind, ir::ExprKind::Number { value }
                                if value.parse::<u32>().is_ok_and(|n| n <= crate::value::MAX_DIGITS)))
                    {
                        self.err(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                da.expr.span,
                                tr!(
                                    "the number of digits of `round` must be a whole number from 0 to 38, written out",
                                    "số chữ số của `round` phải là một số nguyên từ 0 đến 38, viết trực tiếp"
                                ),
                                tr!("not a whole number from 0 to 38", "không phải số nguyên từ 0 đến 38"),
                            )
                            .with_help(tr!("write e.g. `round(x, 2)`", "hãy ghi ví dụ `round(x, 2)`")),
                        );
                        return Self::poisoned(span);
                    }
                    let first = typed.first();
                    (
                        ValueType::Number,
                        first.map(|t| t.expr.unit.clone()).unwrap_or_default(),
                        first.is_some_and(|t| t.literal),
                    )
                } else if f == ir::Func::Abs {
                    let first = typed.first();
                    (
                        ValueType::Number,
                        first.map(|t| t.expr.unit.clone()).unwrap_or_default(),
                        first.is_some_and(|t| t.literal),
                    )
                } else {
                    // min, max, sum: all arguments in one unit.
                    let mut unit: Option<(usize, Unit)> = None;
                    for (i, t) in typed.iter().enumerate() {
                        if t.literal {
                            continue;
                        }
                        match &unit {
                            None => unit = Some((i, t.expr.unit.clone())),
                            Some((j, u)) if *u != t.expr.unit => {
                                let (Some(la), Some(ra)) = (args.get(*j), args.get(i)) else {
                                    return Self::poisoned(span);
                                };
                                self.err(unit_mismatch(
                                    name,
                                    la.expr.span,
                                    u,
                                    ra.expr.span,
                                    &t.expr.unit,
                                ));
                                return Self::poisoned(span);
                            }
                            _ => {}
                        }
                    }
                    let lit = unit.is_none();
                    (
                        ValueType::Number,
                        unit.map(|(_, u)| u).unwrap_or_default(),
                        lit,
                    )
                }
            }
        };
        Typed {
            literal,
            poisoned: false,
            expr: ir::Expr {
                kind: ir::ExprKind::Call {
                    func: f,
                    args: typed.into_iter().map(|t| t.expr).collect(),
                },
                ty,
                unit,
            },
        }
    }

    /// `count(B02)` / `sum(B02.gross_t)`: `None` if the argument is not a
    /// record form or one of its fields (then it is an ordinary call).
    fn record_target(&mut self, r: &ast::Reference, name: &str) -> Option<Typed> {
        let is_count = name == "count";
        let table = self.env.regimes.get(self.regime)?;
        let first = r.segments.first()?;
        let fi = table.form_index(&first.text)?;
        let ft = table.forms.get(fi)?;
        let FormShape::Records { fields } = &ft.shape else {
            return None;
        };
        let code = ft.code().to_string();
        match (r.segments.len(), is_count) {
            // A count of records is a number of things: like a literal, it
            // takes the unit of what it is compared with (`count(B02) ==
            // new_projects` where the cell is in [project]).
            (1, true) => Some(Typed {
                literal: true,
                ..Self::typed(
                    ir::ExprKind::Records {
                        func: ir::RecordFunc::Count,
                        form: code,
                        field: None,
                    },
                    ValueType::Number,
                    Unit::dimensionless(),
                )
            }),
            (2, _) => {
                let seg = r.segments.get(1)?;
                let Some(field) = fields.iter().find(|f| f.name.text == seg.text) else {
                    self.err(
                        Diagnostic::new(
                            Code::UnknownName,
                            seg.span,
                            tr!(
                                "form {code} has no field `{}`",
                                "biểu mẫu {code} không có trường `{}`",
                                seg.text
                            ),
                            tr!("unknown field", "trường không biết"),
                        )
                        .with_help(did_you_mean(
                            &seg.text,
                            tr!("field", "trường"),
                            fields.iter().map(|f| f.name.text.as_str()),
                        )),
                    );
                    return Some(Self::poisoned(r.span));
                };
                let key = CellKey {
                    regime: self.regime.to_string(),
                    form: code.clone(),
                    cell: field.name.text.clone(),
                };
                let sig = self.cells.get(&key)?.clone();
                let func = match name {
                    "count" => ir::RecordFunc::Count,
                    "min" => ir::RecordFunc::Min,
                    "max" => ir::RecordFunc::Max,
                    _ => ir::RecordFunc::Sum,
                };
                if !is_count && sig.value_type() != ValueType::Number {
                    self.err(type_mismatch(
                        seg.span,
                        tr!(
                            "`{name}` over records needs a numeric field",
                            "`{name}` trên các bản ghi cần một trường kiểu số"
                        ),
                        &sig.value_type(),
                    ));
                    return Some(Self::poisoned(r.span));
                }
                let unit = if is_count {
                    Unit::dimensionless()
                } else {
                    sig.unit.clone()
                };
                Some(Self::typed(
                    ir::ExprKind::Records {
                        func,
                        form: code,
                        field: Some(field.name.text.clone()),
                    },
                    ValueType::Number,
                    unit,
                ))
            }
            _ => None,
        }
    }

    fn window(&mut self, func: &ast::Name, arg: &ast::Arg, over: &ast::Name, span: Span) -> Typed {
        if over.text != "year_to_date" {
            self.err(
                Diagnostic::new(
                    Code::BadWindow,
                    over.span,
                    tr!(
                        "`over {}` is not a time window",
                        "`over {}` không phải là một khoảng thời gian",
                        over.text
                    ),
                    tr!("unknown window", "khoảng thời gian không biết"),
                )
                .with_help(did_you_mean(
                    &over.text,
                    tr!("window", "khoảng thời gian"),
                    ["year_to_date"],
                )),
            );
            return Self::poisoned(span);
        }
        let f = match func.text.as_str() {
            "sum" => ir::TimeAgg::Sum,
            "average" => ir::TimeAgg::Average,
            "min" => ir::TimeAgg::Min,
            "max" => ir::TimeAgg::Max,
            "last" => ir::TimeAgg::Last,
            "first" => ir::TimeAgg::First,
            other if !FUNCTIONS.contains(&other) => {
                self.err(
                    Diagnostic::new(
                        Code::UnknownFunction,
                        func.span,
                        tr!("there is no function `{other}`", "không có hàm `{other}`"),
                        tr!("unknown function", "hàm không biết"),
                    )
                    .with_help(tr!(
                        "over a time window use sum, average, min, max, last or first; {}",
                        "trên một khoảng thời gian hãy dùng sum, average, min, max, last hoặc first; {}",
                        did_you_mean(
                            other,
                            tr!("function", "hàm"),
                            ["sum", "average", "min", "max", "last", "first"]
                        )
                    )),
                );
                return Self::poisoned(span);
            }
            other => {
                self.err(
                    Diagnostic::new(
                        Code::BadWindow,
                        func.span,
                        tr!(
                            "`{other}` cannot be taken over a time window",
                            "không thể lấy `{other}` trên một khoảng thời gian"
                        ),
                        tr!("not a time aggregation", "không phải phép tổng hợp theo thời gian"),
                    )
                    .with_help(tr!(
                        "use one of sum, average, min, max, last, first: `sum(x over year_to_date)`",
                        "hãy dùng một trong sum, average, min, max, last, first: `sum(x over year_to_date)`"
                    )),
                );
                return Self::poisoned(span);
            }
        };
        if let Some(freq) = self.frequency
            && !freq.is_sub_annual()
        {
            self.err(
                Diagnostic::new(
                    Code::PeriodNotAvailable,
                    over.span,
                    Text::new(
                        format!("{} {} regime has no year-to-date total", crate::diagnostic::article(freq.name()), freq.name().replace('_', " ")),
                        format!("chế độ báo cáo {} không có số lũy kế từ đầu năm", super::frequency_vi(freq)),
                    ),
                    tr!("only one period per year", "mỗi năm chỉ có một kỳ"),
                )
                .with_help(tr!(
                    "year to date needs several periods in a year (daily … nine-monthly); use the value itself",
                    "lũy kế từ đầu năm cần nhiều kỳ trong một năm (hằng ngày … 9 tháng); hãy dùng chính giá trị đó"
                )),
            );
            return Self::poisoned(span);
        }
        let t = self.expr(&arg.expr);
        if t.poisoned {
            return t;
        }
        if t.expr.ty != ValueType::Number {
            self.err(type_mismatch(
                arg.expr.span,
                tr!("a time window needs numbers", "khoảng thời gian cần các số"),
                &t.expr.ty,
            ));
            return Self::poisoned(span);
        }
        let unit = t.expr.unit.clone();
        Self::typed(
            ir::ExprKind::YearToDate {
                func: f,
                arg: Box::new(t.expr),
            },
            ValueType::Number,
            unit,
        )
    }
}

/// `x` (percentage points) as a fraction: `x ÷ 100`.
pub(crate) fn percent_to_fraction(e: ir::Expr) -> ir::Expr {
    ir::Expr {
        unit: Unit::dimensionless(),
        ty: ValueType::Number,
        kind: ir::ExprKind::Binary {
            bin: ir::BinOp::Div,
            lhs: Box::new(e),
            rhs: Box::new(number("100")),
        },
    }
}

/// A fraction as percentage points: `x × 100`.
pub(crate) fn fraction_to_percent(e: ir::Expr) -> ir::Expr {
    ir::Expr {
        unit: Unit::dimensionless(),
        ty: ValueType::Number,
        kind: ir::ExprKind::Binary {
            bin: ir::BinOp::Mul,
            lhs: Box::new(e),
            rhs: Box::new(number("100")),
        },
    }
}

pub(crate) fn number(v: &str) -> ir::Expr {
    ir::Expr {
        kind: ir::ExprKind::Number {
            value: v.to_string(),
        },
        ty: ValueType::Number,
        unit: Unit::dimensionless(),
    }
}

fn is_zero(v: &str) -> bool {
    v.chars().all(|c| c == '0' || c == '.')
}

/// `007.50` → `7.5`: one spelling per value, so the IR is canonical.
pub(crate) fn normalize(text: &str) -> String {
    let (neg, t) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    }
}

/// `30` (from `30%`) → `0.3`, exactly, by moving the decimal point.
pub(crate) fn percent_value(text: &str) -> String {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 - 2;
    let s = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    };
    normalize(&s)
}

pub(crate) fn ty_name(t: &ValueType) -> Text {
    match t {
        ValueType::Number => tr!("number", "số"),
        ValueType::Text => tr!("text", "văn bản"),
        ValueType::Bool => tr!("true/false value", "giá trị đúng/sai"),
        ValueType::Date => tr!("date", "ngày"),
    }
}

/// "a number" (a label naming what a value is).
pub(crate) fn a_ty(t: &ValueType) -> Text {
    tr!("a {}", "là {}", ty_name(t))
}

fn type_mismatch(span: Span, what: Text, found: &ValueType) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        span,
        tr!(
            "{}, but this is a {}",
            "{}, nhưng đây là {}",
            what,
            ty_name(found)
        ),
        a_ty(found),
    )
    .with_help(tr!(
        "check which cell this refers to; codes and texts are compared with `==` only",
        "hãy kiểm tra xem đây là ô nào; mã và văn bản chỉ so sánh bằng `==`"
    ))
}

pub(crate) fn unit_mismatch(what: &str, ls: Span, lu: &Unit, rs: Span, ru: &Unit) -> Diagnostic {
    Diagnostic::new(
        Code::UnitMismatch,
        ls,
        tr!(
            "`{what}` mixes quantities in {lu} and in {ru}",
            "`{what}` trộn lẫn đại lượng tính bằng {lu} và tính bằng {ru}"
        ),
        tr!("in {lu}", "tính bằng {lu}"),
    )
    .with_label(rs, tr!("in {ru}", "tính bằng {ru}"))
    .with_help(tr!(
        "only quantities in the same unit can be added or compared: report both cells in one unit, or divide them if a ratio is meant (tonne / TEU)",
        "chỉ cộng hoặc so sánh được các đại lượng cùng đơn vị đo: hãy báo cáo hai ô theo cùng một đơn vị, hoặc chia chúng nếu muốn một tỷ số (tonne / TEU)"
    ))
}
