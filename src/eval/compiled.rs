//! Rules compiled once into a tree over a table of values: the common
//! case of `regc validate` (a submission rule that reads entered cells of
//! the period checked) without the name lookups, the parse of literals
//! and the second walk that counts missing values, which the general
//! evaluator ([`super::Evaluator`]) does per read. Its semantics are the
//! general evaluator's, node for node (`docs/rules.md`); a rule outside
//! the subset (records, other periods, yearly or computed cells) is not
//! compiled and goes through the general evaluator.

use super::{Here, Outcome, Stop, V, num::Num, within};
use crate::ir::{self, BinOp, ExprKind, Func, Missing, PeriodRef};

mod fixed;

/// A node of a compiled expression; `number`: its type is a number (a
/// missing value of it counts as zero where missing values do).
#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    number: bool,
}

#[derive(Debug, Clone)]
enum Kind {
    Const(Option<Val>),
    /// An entered cell of the period checked: its index in the table.
    Cell(usize),
    /// A cell of another regime: missing here.
    Missing,
    Neg(Box<Node>),
    Not(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
}

/// A rule's check, compiled.
#[derive(Debug)]
pub struct Rule {
    check: Node,
    /// The table indices of the values the check reads, one per read.
    reads: Vec<usize>,
    /// Reads of values that are always missing (other regimes).
    missing_reads: usize,
    missing: Missing,
    /// The check over numbers of fixed scales, when it is one
    /// ([`Rule::outcome_fixed`]).
    fixed: Option<fixed::Truth>,
}

/// Where an entered cell of the period checked is: its slot among its
/// form's entered cells, and the scale of its values if they are numbers
/// (`None` when it is not such a cell).
pub type Entered<'e> = dyn Fn(&str, &str) -> Option<(usize, Option<u32>)> + 'e;

/// The compiled rules of a regime and the cells they read.
#[derive(Debug, Default)]
pub struct Program {
    /// (form, slot) of each table entry.
    cells: Vec<(String, usize)>,
    /// The scale of each entry's values, when they are numbers.
    scales: Vec<Option<u32>>,
}

impl Program {
    /// Compiles `rule` if it is in the subset; its cells join the table.
    pub fn compile(&mut self, rule: &ir::Rule, entered: &Entered) -> Option<Rule> {
        if !matches!(rule.scope, ir::RuleScope::Submission) {
            return None;
        }
        let mut reads = Vec::new();
        let mut missing_reads = 0;
        let check = self.node(&rule.check, entered, &mut reads, &mut missing_reads)?;
        let fixed = fixed::Truth::of(&check, &self.scales, rule.tolerance.is_some());
        Some(Rule {
            check,
            reads,
            missing_reads,
            missing: rule.missing,
            fixed,
        })
    }

    fn node(
        &mut self,
        e: &ir::Expr,
        entered: &Entered,
        reads: &mut Vec<usize>,
        missing_reads: &mut usize,
    ) -> Option<Node> {
        let mut sub = |e: &ir::Expr, reads: &mut Vec<usize>, m: &mut usize| {
            self.node(e, entered, reads, m).map(Box::new)
        };
        let kind = match &e.kind {
            ExprKind::Number { value } => {
                Kind::Const(Num::parse(value).map(|n| Val::N(F::from_num(n))))
            }
            ExprKind::Text { value } => Kind::Const(Some(Val::O(V::Text(value.clone())))),
            ExprKind::Bool { value } => Kind::Const(Some(Val::B(*value))),
            ExprKind::Date { value } => Kind::Const(Some(Val::O(V::Date(*value)))),
            ExprKind::Cell {
                regime: Some(_), ..
            } => {
                *missing_reads += 1;
                Kind::Missing
            }
            ExprKind::Cell {
                regime: None,
                form,
                cell,
                period: PeriodRef::Current,
            } => {
                let (slot, scale) = entered(form, cell)?;
                let i = match self.cells.iter().position(|(f, s)| f == form && *s == slot) {
                    Some(i) => i,
                    None => {
                        self.cells.push((form.clone(), slot));
                        self.scales.push(scale);
                        self.cells.len() - 1
                    }
                };
                reads.push(i);
                Kind::Cell(i)
            }
            ExprKind::Neg { arg } => Kind::Neg(sub(arg, reads, missing_reads)?),
            ExprKind::Not { arg } => Kind::Not(sub(arg, reads, missing_reads)?),
            ExprKind::Binary { bin, lhs, rhs } => Kind::Binary(
                *bin,
                sub(lhs, reads, missing_reads)?,
                sub(rhs, reads, missing_reads)?,
            ),
            ExprKind::Call { func, args } => {
                let mut list = Vec::with_capacity(args.len());
                for a in args {
                    list.push(self.node(a, entered, reads, missing_reads)?);
                }
                Kind::Call(*func, list)
            }
            ExprKind::Cell { .. } | ExprKind::YearToDate { .. } | ExprKind::Records { .. } => {
                return None;
            }
        };
        Some(Node {
            kind,
            number: e.ty == ir::ValueType::Number,
        })
    }

    /// The number of values in a table.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The scale of the numbers at `index` of a table, if numbers.
    pub fn scale(&self, index: usize) -> Option<u32> {
        self.scales.get(index).copied().flatten()
    }

    /// A table of values from a table of numbers at their fixed scales
    /// (for the rules [`Rule::outcome_fixed`] leaves to [`Rule::outcome`]).
    pub fn values(&self, fixed: &[Option<i128>], out: &mut Vec<Option<Val>>) {
        out.clear();
        out.extend(fixed.iter().zip(&self.scales).map(|(v, s)| {
            let (m, s) = ((*v)?, (*s)?);
            Some(Val::N(match i64::try_from(m) {
                Ok(m) => F::S(m, s),
                Err(_) => F::B(Box::new(Num::from_parts(m, s))),
            }))
        }));
    }

    /// The table of numbers at their fixed scales from a table of values,
    /// for [`Rule::outcome_fixed`]; `false` if a value present is not a
    /// number that its scale holds (then only [`Rule::outcome`] may run).
    pub fn fixed(&self, values: &[Option<Val>], out: &mut Vec<Option<i128>>) -> bool {
        out.clear();
        for (v, scale) in values.iter().zip(&self.scales) {
            out.push(match (v, scale) {
                (None, _) => None,
                (Some(Val::N(F::S(m, s))), Some(at)) if s <= at => {
                    let Some(up) = 10i128.checked_pow(at - s) else {
                        return false;
                    };
                    Some(i128::from(*m) * up)
                }
                _ => return false,
            });
        }
        true
    }

    /// The table index of an entered cell (`form`, `slot`), if a compiled
    /// rule reads it.
    pub fn index(&self, form: &str, slot: usize) -> Option<usize> {
        self.cells.iter().position(|(f, s)| f == form && *s == slot)
    }

    /// The table of `here`: each cell the compiled rules read, once.
    pub fn table(&self, here: &Here, out: &mut Vec<Option<Val>>) {
        out.clear();
        let mut last: Option<(&str, Option<&Vec<Option<crate::value::Value>>>)> = None;
        for (form, slot) in &self.cells {
            let values = match last {
                Some((f, v)) if f == form => v,
                _ => {
                    let v = here.form(form).and_then(|s| s.records.get(&0));
                    last = Some((form, v));
                    v
                }
            };
            out.push(
                values
                    .and_then(|v| v.get(*slot))
                    .and_then(Option::as_ref)
                    .map(Val::from_value),
            );
        }
    }
}

impl Rule {
    /// The rule's outcome over `table`; `Fail` with no placeholder values
    /// (the caller fills them: only failures need them).
    pub fn outcome(&self, table: &[Option<Val>], tolerance: Option<&ir::Tolerance>) -> Outcome {
        let zero = match self.missing_values(|i| table.get(i).is_some_and(Option::is_some)) {
            Ok(zero) => zero,
            Err(o) => return o,
        };
        let cx = Cx {
            table,
            zero,
            tolerance,
        };
        match cx.eval(&self.check) {
            Ok(Some(Val::B(true))) => Outcome::Pass,
            Ok(Some(Val::B(false))) => Outcome::Fail(Vec::new()),
            Ok(_) => Outcome::Skipped,
            Err(Stop::DivByZero) => Outcome::DivByZero,
        }
    }
}

impl Rule {
    /// What the rule's missing-value strategy makes of the values present
    /// (`present` by table index): the outcome if that decides it, else
    /// whether missing numbers count as zero.
    fn missing_values(&self, present: impl Fn(usize) -> bool) -> Result<bool, Outcome> {
        let all = self.reads.len() + self.missing_reads;
        let missing = self.missing_reads + self.reads.iter().filter(|i| !present(**i)).count();
        let all_missing = all > 0 && missing == all;
        match self.missing {
            Missing::SkipIfAny if missing > 0 => Err(Outcome::Skipped),
            Missing::SkipIfAll if all_missing => Err(Outcome::Skipped),
            Missing::Never if missing > 0 => Err(Outcome::Fail(Vec::new())),
            Missing::SkipIfAll | Missing::Zero => Ok(true),
            Missing::SkipIfAny | Missing::Never => Ok(false),
        }
    }

    /// [`Rule::outcome`] over a table of numbers at the scales of
    /// [`Program::scale`], when the check is one over numbers of fixed
    /// scales and nothing overflows 128 bits; `None` otherwise (then ask
    /// [`Rule::outcome`]). The same outcome, faster: no value is built.
    pub fn outcome_fixed(&self, table: &[Option<i128>]) -> Option<Outcome> {
        let fixed = self.fixed.as_ref()?;
        let zero = match self.missing_values(|i| table.get(i).is_some_and(Option::is_some)) {
            Ok(zero) => zero,
            Err(o) => return Some(o),
        };
        match fixed.eval(table, zero) {
            Ok(true) => Some(Outcome::Pass),
            Ok(false) => Some(Outcome::Fail(Vec::new())),
            Err(fixed::Stop::DivByZero) => Some(Outcome::DivByZero),
            Err(fixed::Stop::Overflow) => None,
        }
    }
}

/// A number of the compiled evaluator: a 64-bit mantissa and a scale
/// (not normalized: `2.00` stays `200 × 10^-2`, which no result depends
/// on), or a [`Num`] when it does not fit. Every operation is exact, and
/// whatever does not fit 64 bits is done by [`Num`], so the results are
/// [`Num`]'s.
#[derive(Debug, Clone)]
pub enum F {
    S(i64, u32),
    /// Boxed: the values a node returns stay small.
    B(Box<Num>),
}

/// `10^n` for n ≤ 18.
const POW10: [i64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// Both mantissas at the larger scale, if they fit.
fn align(a: i64, sa: u32, b: i64, sb: u32) -> Option<(i64, i64, u32)> {
    if sa == sb {
        return Some((a, b, sa));
    }
    if sa < sb {
        let p = *POW10.get(usize::try_from(sb - sa).ok()?)?;
        Some((a.checked_mul(p)?, b, sb))
    } else {
        let p = *POW10.get(usize::try_from(sa - sb).ok()?)?;
        Some((a, b.checked_mul(p)?, sa))
    }
}

impl F {
    /// A decimal as the evaluator holds it.
    pub fn from_decimal(d: &crate::value::Decimal) -> F {
        let (m, s) = d.parts();
        match i64::try_from(m) {
            Ok(m) => F::S(m, s),
            Err(_) => F::B(Box::new(Num::from(d))),
        }
    }

    fn from_num(n: Num) -> F {
        match n.parts_i64() {
            Some((m, s)) => F::S(m, s),
            None => F::B(Box::new(n)),
        }
    }

    fn to_num(&self) -> Num {
        match self {
            F::S(m, s) => Num::from_parts(i128::from(*m), *s),
            F::B(n) => (**n).clone(),
        }
    }

    fn zero() -> F {
        F::S(0, 0)
    }

    fn add(&self, o: &F) -> F {
        if let (F::S(a, sa), F::S(b, sb)) = (self, o)
            && let Some((x, y, s)) = align(*a, *sa, *b, *sb)
            && let Some(m) = x.checked_add(y)
        {
            return F::S(m, s);
        }
        F::from_num(self.to_num().add(&o.to_num()))
    }

    fn sub(&self, o: &F) -> F {
        if let (F::S(a, sa), F::S(b, sb)) = (self, o)
            && let Some((x, y, s)) = align(*a, *sa, *b, *sb)
            && let Some(m) = x.checked_sub(y)
        {
            return F::S(m, s);
        }
        F::from_num(self.to_num().sub(&o.to_num()))
    }

    fn mul(&self, o: &F) -> F {
        if let (F::S(a, sa), F::S(b, sb)) = (self, o)
            && let Some(m) = a.checked_mul(*b)
            && let Some(s) = sa.checked_add(*sb)
        {
            return F::S(m, s);
        }
        F::from_num(self.to_num().mul(&o.to_num()))
    }

    fn div(&self, o: &F) -> Option<F> {
        self.to_num().div(&o.to_num()).map(F::from_num)
    }

    fn neg(&self) -> F {
        if let F::S(m, s) = self
            && let Some(n) = m.checked_neg()
        {
            return F::S(n, *s);
        }
        F::from_num(self.to_num().neg())
    }

    fn abs(&self) -> F {
        if let F::S(m, s) = self
            && let Some(n) = m.checked_abs()
        {
            return F::S(n, *s);
        }
        F::from_num(self.to_num().abs())
    }

    fn round(&self, digits: i64) -> F {
        F::from_num(self.to_num().round(digits))
    }

    pub fn compare(&self, o: &F) -> std::cmp::Ordering {
        if let (F::S(a, sa), F::S(b, sb)) = (self, o)
            && let Some((x, y, _)) = align(*a, *sa, *b, *sb)
        {
            return x.cmp(&y);
        }
        self.to_num().cmp(&o.to_num())
    }
}

/// A value of the compiled evaluator: a number, a truth value, or any
/// other value (text, date).
#[derive(Debug, Clone)]
pub enum Val {
    N(F),
    B(bool),
    O(V),
}

impl Val {
    fn from_value(v: &crate::value::Value) -> Val {
        use crate::value::Value;
        match v {
            Value::Integer(n) => Val::N(F::S(*n, 0)),
            Value::Decimal(d) => Val::N(F::from_decimal(d)),
            Value::Bool(b) => Val::B(*b),
            other => Val::O(V::from_value(other)),
        }
    }
}

struct Cx<'t> {
    table: &'t [Option<Val>],
    zero: bool,
    tolerance: Option<&'t ir::Tolerance>,
}

type Eval = Result<Option<Val>, Stop>;

impl Cx<'_> {
    /// The general evaluator's `num`: the value if a number, zero for a
    /// missing number where missing values count as zero.
    fn num(&self, e: &Node) -> Result<Option<F>, Stop> {
        let v = match &e.kind {
            Kind::Cell(i) => match self.table.get(*i).and_then(Option::as_ref) {
                Some(Val::N(n)) => return Ok(Some(n.clone())),
                Some(_) => return Ok(None),
                None => None,
            },
            Kind::Const(v) => match v {
                Some(Val::N(n)) => return Ok(Some(n.clone())),
                Some(_) => return Ok(None),
                None => None,
            },
            Kind::Missing => None,
            Kind::Neg(arg) => self.num(arg)?.map(|n| n.neg()),
            Kind::Binary(bin @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), l, r) => {
                self.arith(*bin, l, r)?
            }
            Kind::Call(func, args) if *func != Func::If => self.fold(*func, args)?,
            _ => {
                return Ok(match self.eval(e)? {
                    Some(Val::N(n)) => Some(n),
                    None if self.zero && e.number => Some(F::zero()),
                    _ => None,
                });
            }
        };
        Ok(v.or_else(|| (self.zero && e.number).then(F::zero)))
    }

    fn arith(&self, bin: BinOp, lhs: &Node, rhs: &Node) -> Result<Option<F>, Stop> {
        let (Some(a), Some(b)) = (self.num(lhs)?, self.num(rhs)?) else {
            return Ok(None);
        };
        Ok(Some(match bin {
            BinOp::Add => a.add(&b),
            BinOp::Sub => a.sub(&b),
            BinOp::Mul => a.mul(&b),
            _ => a.div(&b).ok_or(Stop::DivByZero)?,
        }))
    }

    fn eval(&self, e: &Node) -> Eval {
        Ok(match &e.kind {
            Kind::Const(v) => v.clone(),
            Kind::Cell(i) => match self.table.get(*i).and_then(Option::as_ref) {
                Some(v) => Some(v.clone()),
                None if self.zero && e.number => Some(Val::N(F::zero())),
                None => None,
            },
            Kind::Missing => None,
            Kind::Neg(arg) => self.num(arg)?.map(|n| Val::N(n.neg())),
            Kind::Not(arg) => match self.eval(arg)? {
                Some(Val::B(b)) => Some(Val::B(!b)),
                _ => None,
            },
            Kind::Binary(bin, lhs, rhs) => self.binary(*bin, lhs, rhs)?,
            Kind::Call(func, args) => self.call(*func, args)?,
        })
    }

    fn binary(&self, bin: BinOp, lhs: &Node, rhs: &Node) -> Eval {
        use std::cmp::Ordering;
        if matches!(bin, BinOp::And | BinOp::Or) {
            let l = self.eval(lhs)?;
            let r = self.eval(rhs)?;
            return Ok(match (l, r) {
                (Some(Val::B(a)), Some(Val::B(b))) => {
                    Some(Val::B(if bin == BinOp::And { a && b } else { a || b }))
                }
                _ => None,
            });
        }
        if matches!(bin, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div) {
            return Ok(self.arith(bin, lhs, rhs)?.map(Val::N));
        }
        let numbers = |a: &F, b: &F| -> Result<Ordering, bool> {
            // A tolerance makes "equal" mean "close enough".
            if let (Some(t), BinOp::Eq | BinOp::Ne) = (self.tolerance, bin) {
                return Err(within(&a.to_num(), &b.to_num(), t) == (bin == BinOp::Eq));
            }
            Ok(a.compare(b))
        };
        let ord = if lhs.number {
            let (Some(a), Some(b)) = (self.num(lhs)?, self.num(rhs)?) else {
                return Ok(None);
            };
            numbers(&a, &b)
        } else {
            let (Some(l), Some(r)) = (self.eval(lhs)?, self.eval(rhs)?) else {
                return Ok(None);
            };
            match (&l, &r) {
                (Val::N(a), Val::N(b)) => numbers(a, b),
                (Val::B(a), Val::B(b)) => Ok(a.cmp(b)),
                (Val::O(V::Text(a)), Val::O(V::Text(b))) => Ok(a.cmp(b)),
                (Val::O(V::Date(a)), Val::O(V::Date(b))) => Ok(a.cmp(b)),
                _ => return Ok(None),
            }
        };
        let ord = match ord {
            Ok(o) => o,
            Err(close) => return Ok(Some(Val::B(close))),
        };
        Ok(Some(Val::B(match bin {
            BinOp::Eq => ord == Ordering::Equal,
            BinOp::Ne => ord != Ordering::Equal,
            BinOp::Lt => ord == Ordering::Less,
            BinOp::Le => ord != Ordering::Greater,
            BinOp::Gt => ord == Ordering::Greater,
            _ => ord != Ordering::Less,
        })))
    }

    fn call(&self, func: Func, args: &[Node]) -> Eval {
        if func == Func::If {
            let [c, t, f] = args else { return Ok(None) };
            return match self.eval(c)? {
                Some(Val::B(true)) => self.eval(t),
                Some(Val::B(false)) => self.eval(f),
                _ => Ok(None),
            };
        }
        Ok(self.fold(func, args)?.map(Val::N))
    }

    /// A function other than `if`: a number, or `None`.
    fn fold(&self, func: Func, args: &[Node]) -> Result<Option<F>, Stop> {
        use std::cmp::Ordering;
        // The arguments in order, folded as they come: the first missing
        // one ends the call (those after it are not evaluated).
        let mut acc: Option<F> = None;
        let mut second: Option<F> = None;
        let mut count = 0usize;
        for a in args {
            let Some(x) = self.num(a)? else {
                return Ok(None);
            };
            count += 1;
            acc = Some(match (func, acc) {
                (Func::Sum, s) => s.unwrap_or_else(F::zero).add(&x),
                (Func::Min, Some(m)) => {
                    if x.compare(&m) == Ordering::Less {
                        x
                    } else {
                        m
                    }
                }
                (Func::Max, Some(m)) => {
                    if x.compare(&m) == Ordering::Greater {
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
            (Func::Abs, 1, Some(x), _) => Some(x.abs()),
            (Func::Round, 1, Some(x), _) => Some(x.round(0)),
            (Func::Round, 2, Some(x), Some(n)) => {
                let digits: i64 = n.to_num().to_plain().parse().unwrap_or(0);
                Some(x.round(digits))
            }
            (Func::Min | Func::Max, 1.., Some(m), _) => Some(m),
            (Func::Sum, _, s, _) => Some(s.unwrap_or_else(F::zero)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    /// Scales of the three cells of the random checks below.
    const SCALES: [u32; 3] = [0, 2, 4];

    fn number_node() -> BoxedStrategy<Node> {
        let n = |kind| Node { kind, number: true };
        let leaf = prop_oneof![
            (
                prop_oneof![-1000i64..1000, Just(0), Just(i64::MAX), Just(i64::MIN)],
                0u32..5
            )
                .prop_map(move |(m, s)| n(Kind::Const(Some(Val::N(F::S(m, s)))))),
            (0usize..3).prop_map(move |i| n(Kind::Cell(i))),
        ];
        leaf.prop_recursive(4, 24, 3, move |inner| {
            let ops = prop_oneof![
                Just(BinOp::Add),
                Just(BinOp::Sub),
                Just(BinOp::Mul),
                Just(BinOp::Div)
            ];
            let folds = prop_oneof![Just(Func::Min), Just(Func::Max), Just(Func::Sum)];
            let digits = (0i64..4).prop_map(move |d| n(Kind::Const(Some(Val::N(F::S(d, 0))))));
            prop_oneof![
                inner.clone().prop_map(move |a| n(Kind::Neg(Box::new(a)))),
                (ops, inner.clone(), inner.clone()).prop_map(move |(op, a, b)| n(Kind::Binary(
                    op,
                    Box::new(a),
                    Box::new(b)
                ))),
                (folds, prop::collection::vec(inner.clone(), 1..3))
                    .prop_map(move |(f, args)| n(Kind::Call(f, args))),
                inner
                    .clone()
                    .prop_map(move |a| n(Kind::Call(Func::Abs, vec![a]))),
                (inner.clone(), prop::option::of(digits)).prop_map(move |(a, d)| n(Kind::Call(
                    Func::Round,
                    std::iter::once(a).chain(d).collect()
                ))),
                (truth_leaf(inner.clone()), inner.clone(), inner)
                    .prop_map(move |(c, a, b)| n(Kind::Call(Func::If, vec![c, a, b]))),
            ]
        })
        .boxed()
    }

    fn truth_leaf(num: BoxedStrategy<Node>) -> BoxedStrategy<Node> {
        let ops = prop_oneof![
            Just(BinOp::Eq),
            Just(BinOp::Ne),
            Just(BinOp::Lt),
            Just(BinOp::Le),
            Just(BinOp::Gt),
            Just(BinOp::Ge)
        ];
        (ops, num.clone(), num)
            .prop_map(|(op, a, b)| Node {
                kind: Kind::Binary(op, Box::new(a), Box::new(b)),
                number: false,
            })
            .boxed()
    }

    fn truth_node() -> BoxedStrategy<Node> {
        let t = |kind| Node {
            kind,
            number: false,
        };
        truth_leaf(number_node())
            .prop_recursive(2, 6, 2, move |inner| {
                prop_oneof![
                    inner.clone().prop_map(move |a| t(Kind::Not(Box::new(a)))),
                    (inner.clone(), inner.clone(), any::<bool>()).prop_map(move |(a, b, and)| t(
                        Kind::Binary(
                            if and { BinOp::And } else { BinOp::Or },
                            Box::new(a),
                            Box::new(b)
                        )
                    )),
                ]
            })
            .boxed()
    }

    fn cell_reads(n: &Node, out: &mut Vec<usize>) {
        match &n.kind {
            Kind::Cell(i) => out.push(*i),
            Kind::Neg(a) | Kind::Not(a) => cell_reads(a, out),
            Kind::Binary(_, a, b) => {
                cell_reads(a, out);
                cell_reads(b, out);
            }
            Kind::Call(_, args) => args.iter().for_each(|a| cell_reads(a, out)),
            Kind::Const(_) | Kind::Missing => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Over numbers of fixed scales, a check gives the tree's outcome
        /// whenever it gives one (it stops on overflow, for the tree).
        #[test]
        fn fixed_scale_checks_agree_with_the_tree(
            check in truth_node(),
            values in prop::collection::vec(
                prop::option::weighted(0.85, prop_oneof![
                    -100_000i64..100_000,
                    Just(0),
                    Just(i64::MAX / 7),
                    Just(-(i64::MAX / 3)),
                ]),
                3,
            ),
            missing in prop_oneof![
                Just(Missing::SkipIfAny),
                Just(Missing::SkipIfAll),
                Just(Missing::Zero),
                Just(Missing::Never)
            ],
        ) {
            let scales = SCALES.map(Some).to_vec();
            let mut reads = Vec::new();
            cell_reads(&check, &mut reads);
            // (Not of the fixed kind: quotients of quotients, products of
            // many decimals; left to the tree.)
            let fixed = fixed::Truth::of(&check, &scales, false);
            let rule = Rule { check, reads, missing_reads: 0, missing, fixed };
            let table: Vec<Option<Val>> = values
                .iter()
                .zip(SCALES)
                .map(|(v, s)| v.map(|m| Val::N(F::S(m, s))))
                .collect();
            let numbers: Vec<Option<i128>> = values.iter().map(|v| v.map(i128::from)).collect();
            if let Some(o) = rule.outcome_fixed(&numbers) {
                prop_assert_eq!(o, rule.outcome(&table, None));
            }
        }
    }

    /// The checks above are mostly of the fixed kind and decided without
    /// the tree (else the test above would test little).
    #[test]
    fn fixed_scale_checks_mostly_decide() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut decided, mut all) = (0, 0);
        for _ in 0..500 {
            let check = truth_node().new_tree(&mut runner).unwrap().current();
            let scales = SCALES.map(Some).to_vec();
            let numbers = [Some(12_345), Some(-700), Some(5)];
            all += 1;
            if let Some(fixed) = fixed::Truth::of(&check, &scales, false)
                && fixed.eval(&numbers, false) != Err(fixed::Stop::Overflow)
            {
                decided += 1;
            }
        }
        assert!(decided * 2 > all, "only {decided} of {all} decided");
    }

    /// The 64-bit fast path gives [`Num`]'s results, on both sides of the
    /// boundary where it hands over to [`Num`].
    #[test]
    fn fast_numbers_agree_with_num() {
        let texts = [
            "0",
            "1",
            "-1",
            "0.5",
            "-2.5",
            "2.00",
            "999.99",
            "0.000000000000000001",
            "9223372036854775807",
            "-9223372036854775808",
            "922337203685477580.7",
            "4294967296",
            "12345678901234567890.5",
        ];
        let nums: Vec<Num> = texts.iter().map(|t| Num::parse(t).unwrap()).collect();
        // Unnormalized forms too: 2.00 as 200 × 10^-2.
        let mut fast: Vec<(F, Num)> = nums
            .iter()
            .map(|n| (F::from_num(n.clone()), n.clone()))
            .collect();
        fast.push((F::S(200, 2), Num::parse("2").unwrap()));
        fast.push((F::S(-5000, 3), Num::parse("-5").unwrap()));
        fast.push((
            F::S(i64::MAX, 18),
            Num::parse("9.223372036854775807").unwrap(),
        ));
        for (a, na) in &fast {
            assert_eq!(a.to_num(), *na);
            assert_eq!(a.neg().to_num(), na.neg(), "neg {na}");
            assert_eq!(a.abs().to_num(), na.abs(), "abs {na}");
            for d in [-2, 0, 1, 3] {
                assert_eq!(a.round(d).to_num(), na.round(d), "round {na} {d}");
            }
            for (b, nb) in &fast {
                assert_eq!(a.add(b).to_num(), na.add(nb), "{na} + {nb}");
                assert_eq!(a.sub(b).to_num(), na.sub(nb), "{na} - {nb}");
                assert_eq!(a.mul(b).to_num(), na.mul(nb), "{na} * {nb}");
                assert_eq!(a.div(b).map(|q| q.to_num()), na.div(nb), "{na} / {nb}");
                assert_eq!(a.compare(b), na.cmp(nb), "{na} <> {nb}");
            }
        }
    }
}
