//! A compiled check once more, over numbers whose scale is known when the
//! rule is compiled: each cell's values are held at its declared scale
//! (`decimal(10,2)`: hundredths; a whole number: units) as a 128-bit
//! mantissa, each node's scale follows from its operands' (a sum at the
//! larger one, a product at both added, a quotient at
//! [`DIV_SCALE`](crate::eval::num::DIV_SCALE)), and every alignment is a
//! multiplication by a power of ten chosen at compile time. So a check
//! runs without building a value, without an `Option` per node, and with
//! one match per node.
//!
//! Its results are [`Num`](crate::eval::num::Num)'s, operation for
//! operation (`Num::div`'s and `Num::round`'s half-away-from-zero
//! formulas; comparisons and sums exact): where a mantissa would leave 128
//! bits the check stops with [`Stop::Overflow`] and the caller asks the
//! tree of [`super::Node`]s, which carries on in big numbers. A check is
//! compiled here only when every node is a number or a truth value whose
//! meaning does not depend on a missing value: a rule's missing-value
//! strategy is applied before ([`super::Rule::missing_values`]), so what
//! is left missing counts as zero or the check is not run; a comparison
//! within a tolerance, a text, a date, a boolean cell, a constant that is
//! not a plain number or `round` to a computed or negative number of
//! digits are left to the tree.

use super::{F, Kind, Node, Val};
use crate::eval::holds;
use crate::eval::num::DIV_SCALE;
#[cfg(test)]
use crate::eval::num::Num;
use crate::ir::{BinOp, Func};

/// Why a check stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    DivByZero,
    /// A mantissa would leave 128 bits (or a missing value was read where
    /// it cannot count as zero, which the caller prevents): ask the tree.
    Overflow,
}

/// A number-valued node; its scale is fixed by the compilation.
#[derive(Debug)]
pub enum Number {
    Const(i128),
    /// A table entry (missing: zero).
    Cell(usize),
    /// A cell of another regime: always missing.
    Missing,
    Neg(Box<Number>),
    Abs(Box<Number>),
    /// `Σ argument × factor` (the factors align the scales).
    Sum(Vec<(Number, i128)>),
    Sub(Box<(Number, i128)>, Box<(Number, i128)>),
    Mul(Box<Number>, Box<Number>),
    /// `(n × up_n) / (d × up_d)`, rounded half away from zero.
    Div {
        n: Box<Number>,
        d: Box<Number>,
        up_n: i128,
        up_d: i128,
    },
    /// Rounded half away from zero to units of `unit` (a power of ten).
    Round(Box<Number>, i128),
    Extreme {
        max: bool,
        args: Vec<(Number, i128)>,
    },
    If(Box<Truth>, Box<(Number, i128)>, Box<(Number, i128)>),
}

/// A truth-valued node.
#[derive(Debug)]
pub enum Truth {
    Const(bool),
    Compare(BinOp, Box<(Number, i128)>, Box<(Number, i128)>),
    CompareTruths(BinOp, Box<Truth>, Box<Truth>),
    Not(Box<Truth>),
    And(Box<Truth>, Box<Truth>),
    Or(Box<Truth>, Box<Truth>),
    If(Box<Truth>, Box<Truth>, Box<Truth>),
}

/// 10^n, if it fits.
fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Operands brought to their largest scale: each with its factor.
fn aligned(args: Vec<(Number, u32)>) -> Option<(Vec<(Number, i128)>, u32)> {
    let scale = args.iter().map(|(_, s)| *s).max().unwrap_or(0);
    let mut out = Vec::with_capacity(args.len());
    for (n, s) in args {
        out.push((n, pow10(scale - s)?));
    }
    Some((out, scale))
}

/// Two operands at their larger scale.
fn pair(l: &Node, r: &Node, scales: &[Option<u32>]) -> Option<[(Number, i128); 2]> {
    let (ops, _) = aligned(vec![number(l, scales)?, number(r, scales)?])?;
    let [a, b]: [(Number, i128); 2] = ops.try_into().ok()?;
    Some([a, b])
}

/// A number node and its scale; `None` if not of the fixed kind.
fn number(n: &Node, scales: &[Option<u32>]) -> Option<(Number, u32)> {
    if !n.number {
        return None;
    }
    Some(match &n.kind {
        Kind::Const(Some(Val::N(F::S(m, s)))) => (Number::Const(i128::from(*m)), *s),
        Kind::Cell(i) => (Number::Cell(*i), (*scales.get(*i)?)?),
        Kind::Missing => (Number::Missing, 0),
        Kind::Neg(a) => {
            let (a, s) = number(a, scales)?;
            (Number::Neg(Box::new(a)), s)
        }
        Kind::Binary(BinOp::Add, l, r) => {
            let (ops, s) = aligned(vec![number(l, scales)?, number(r, scales)?])?;
            (Number::Sum(ops), s)
        }
        Kind::Binary(BinOp::Sub, l, r) => {
            let (ops, s) = aligned(vec![number(l, scales)?, number(r, scales)?])?;
            let [a, b]: [(Number, i128); 2] = ops.try_into().ok()?;
            (Number::Sub(Box::new(a), Box::new(b)), s)
        }
        Kind::Binary(BinOp::Mul, l, r) => {
            let ((a, sa), (b, sb)) = (number(l, scales)?, number(r, scales)?);
            let s = sa + sb;
            pow10(s)?;
            (Number::Mul(Box::new(a), Box::new(b)), s)
        }
        Kind::Binary(BinOp::Div, l, r) => {
            // Num::div: the quotient's mantissa at DIV_SCALE digits is
            // |a| × 10^(D + sb − sa) / |b|, the power on whichever side
            // keeps it non-negative.
            let ((a, sa), (b, sb)) = (number(l, scales)?, number(r, scales)?);
            let d = i64::from(DIV_SCALE) + i64::from(sb) - i64::from(sa);
            let up = pow10(u32::try_from(d.unsigned_abs()).ok()?)?;
            let (up_n, up_d) = if d >= 0 { (up, 1) } else { (1, up) };
            let (n, d) = (Box::new(a), Box::new(b));
            (Number::Div { n, d, up_n, up_d }, DIV_SCALE)
        }
        Kind::Call(func, args) => call(*func, args, scales)?,
        _ => return None,
    })
}

fn call(func: Func, args: &[Node], scales: &[Option<u32>]) -> Option<(Number, u32)> {
    Some(match (func, args) {
        (Func::Abs, [a]) => {
            let (a, s) = number(a, scales)?;
            (Number::Abs(Box::new(a)), s)
        }
        (Func::Round, [a]) => round(number(a, scales)?, 0)?,
        (Func::Round, [a, digits]) => {
            // The tree reads the digits as `Num::to_plain` parsed as a
            // whole number, 0 if it is not one.
            let Kind::Const(Some(Val::N(n))) = &digits.kind else {
                return None;
            };
            let digits: i64 = n.to_num().to_plain().parse().unwrap_or(0);
            round(number(a, scales)?, u32::try_from(digits).ok()?)?
        }
        (Func::Min | Func::Max, [_, ..]) => {
            let ops = args
                .iter()
                .map(|a| number(a, scales))
                .collect::<Option<Vec<_>>>()?;
            let (args, s) = aligned(ops)?;
            let max = func == Func::Max;
            (Number::Extreme { max, args }, s)
        }
        (Func::Sum, _) => {
            let ops = args
                .iter()
                .map(|a| number(a, scales))
                .collect::<Option<Vec<_>>>()?;
            let (ops, s) = aligned(ops)?;
            (Number::Sum(ops), s)
        }
        (Func::If, [c, t, f]) => {
            let c = Truth::node(c, scales, false)?;
            let (ops, s) = aligned(vec![number(t, scales)?, number(f, scales)?])?;
            let [t, f]: [(Number, i128); 2] = ops.try_into().ok()?;
            (Number::If(Box::new(c), Box::new(t), Box::new(f)), s)
        }
        _ => return None,
    })
}

/// `round(a, digits)`: `Num::round` keeps a number with no more digits.
fn round((a, s): (Number, u32), digits: u32) -> Option<(Number, u32)> {
    if s <= digits {
        return Some((a, s));
    }
    Some((Number::Round(Box::new(a), pow10(s - digits)?), digits))
}

impl Truth {
    /// The check of a rule, if it is of the fixed kind (`tolerance`: the
    /// rule compares within one, which is left to the tree).
    pub fn of(check: &Node, scales: &[Option<u32>], tolerance: bool) -> Option<Truth> {
        Truth::node(check, scales, tolerance)
    }

    fn node(n: &Node, scales: &[Option<u32>], tolerance: bool) -> Option<Truth> {
        let sub = |n: &Node| Truth::node(n, scales, tolerance).map(Box::new);
        Some(match &n.kind {
            Kind::Const(Some(Val::B(b))) => Truth::Const(*b),
            Kind::Not(a) => Truth::Not(sub(a)?),
            Kind::Binary(BinOp::And, l, r) => Truth::And(sub(l)?, sub(r)?),
            Kind::Binary(BinOp::Or, l, r) => Truth::Or(sub(l)?, sub(r)?),
            Kind::Binary(
                op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
                l,
                r,
            ) => {
                if l.number {
                    if tolerance && matches!(op, BinOp::Eq | BinOp::Ne) {
                        return None;
                    }
                    let [a, b] = pair(l, r, scales)?;
                    Truth::Compare(*op, Box::new(a), Box::new(b))
                } else {
                    Truth::CompareTruths(*op, sub(l)?, sub(r)?)
                }
            }
            Kind::Call(Func::If, args) if !n.number => {
                let [c, t, f] = args.as_slice() else {
                    return None;
                };
                Truth::If(sub(c)?, sub(t)?, sub(f)?)
            }
            _ => return None,
        })
    }

    /// The check over `table` (numbers at their fixed scales); `zero`:
    /// missing numbers count as zero (else none may be read).
    pub fn eval(&self, table: &[Option<i128>], zero: bool) -> Result<bool, Stop> {
        Cx { table, zero }.truth(self)
    }
}

struct Cx<'t> {
    table: &'t [Option<i128>],
    zero: bool,
}

/// `x × factor`, the factor often 1.
fn times(x: i128, factor: i128) -> Result<i128, Stop> {
    if factor == 1 {
        return Ok(x);
    }
    x.checked_mul(factor).ok_or(Stop::Overflow)
}

/// `n / d` rounded half away from zero, both non-negative, `d` > 0.
fn divide_rounded(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n - q * d;
    if r >= d - r { q + 1 } else { q }
}

impl Cx<'_> {
    fn truth(&self, t: &Truth) -> Result<bool, Stop> {
        Ok(match t {
            Truth::Const(b) => *b,
            Truth::Not(a) => !self.truth(a)?,
            // Both sides are evaluated, as the tree does (a division by
            // zero on either side is the outcome).
            Truth::And(l, r) => {
                let l = self.truth(l)?;
                self.truth(r)? && l
            }
            Truth::Or(l, r) => {
                let l = self.truth(l)?;
                self.truth(r)? || l
            }
            Truth::Compare(op, l, r) => {
                let a = self.scaled(l)?;
                let b = self.scaled(r)?;
                holds(*op, a.cmp(&b))
            }
            Truth::CompareTruths(op, l, r) => {
                let a = self.truth(l)?;
                let b = self.truth(r)?;
                holds(*op, a.cmp(&b))
            }
            Truth::If(c, t, f) => {
                if self.truth(c)? {
                    self.truth(t)?
                } else {
                    self.truth(f)?
                }
            }
        })
    }

    fn scaled(&self, (n, factor): &(Number, i128)) -> Result<i128, Stop> {
        times(self.operand(n)?, *factor)
    }

    /// [`Cx::number`], with cells and constants (most operands) read here
    /// rather than through a call.
    #[inline(always)]
    fn operand(&self, n: &Number) -> Result<i128, Stop> {
        match n {
            Number::Const(m) => Ok(*m),
            Number::Cell(i) => match self.table.get(*i).copied().flatten() {
                Some(m) => Ok(m),
                None if self.zero => Ok(0),
                None => Err(Stop::Overflow),
            },
            _ => self.number(n),
        }
    }

    fn number(&self, n: &Number) -> Result<i128, Stop> {
        let overflow = Stop::Overflow;
        Ok(match n {
            Number::Const(m) => *m,
            Number::Cell(i) => match self.table.get(*i).copied().flatten() {
                Some(m) => m,
                None if self.zero => 0,
                None => return Err(overflow),
            },
            Number::Missing if self.zero => 0,
            Number::Missing => return Err(overflow),
            Number::Neg(a) => self.operand(a)?.checked_neg().ok_or(overflow)?,
            Number::Abs(a) => self.operand(a)?.checked_abs().ok_or(overflow)?,
            Number::Sum(args) => {
                let mut sum: i128 = 0;
                for a in args {
                    sum = sum.checked_add(self.scaled(a)?).ok_or(Stop::Overflow)?;
                }
                sum
            }
            Number::Sub(l, r) => {
                let a = self.scaled(l)?;
                a.checked_sub(self.scaled(r)?).ok_or(overflow)?
            }
            Number::Mul(l, r) => {
                let a = self.operand(l)?;
                a.checked_mul(self.operand(r)?).ok_or(overflow)?
            }
            Number::Div { n, d, up_n, up_d } => {
                let (a, b) = (self.operand(n)?, self.operand(d)?);
                if b == 0 {
                    return Err(Stop::DivByZero);
                }
                let negative = (a < 0) != (b < 0);
                let num = times(a.checked_abs().ok_or(Stop::Overflow)?, *up_n)?;
                let den = times(b.checked_abs().ok_or(Stop::Overflow)?, *up_d)?;
                let q = divide_rounded(num, den);
                if negative { -q } else { q }
            }
            Number::Round(a, unit) => {
                let a = self.operand(a)?;
                let q = divide_rounded(a.checked_abs().ok_or(overflow)?, *unit);
                if a < 0 { -q } else { q }
            }
            Number::Extreme { max, args } => {
                let mut best: Option<i128> = None;
                for a in args {
                    let x = self.scaled(a)?;
                    best = Some(match best {
                        Some(b) if (x > b) == *max && x != b => x,
                        Some(b) => b,
                        None => x,
                    });
                }
                best.ok_or(Stop::Overflow)?
            }
            Number::If(c, t, f) => {
                if self.truth(c)? {
                    self.scaled(t)?
                } else {
                    self.scaled(f)?
                }
            }
        })
    }
}

/// The value of a number at `scale` as [`Num`] (for tests).
#[cfg(test)]
fn to_num(m: i128, scale: u32) -> Num {
    Num::from_parts(m, scale)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rounding_and_division_are_nums() {
        // 2 / 3 at 20 digits, half away from zero; −2.5 rounded is −3.
        let two = to_num(2, 0);
        let three = to_num(3, 0);
        let q = divide_rounded(2 * 10i128.pow(20), 3);
        assert_eq!(to_num(q, 20), two.div(&three).unwrap());
        assert_eq!(-divide_rounded(25, 10), -3);
        assert_eq!(to_num(-3, 0), to_num(-25, 1).round(0));
    }
}
