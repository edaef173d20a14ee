//! The numbers of rule evaluation: exact decimals of any size. Every
//! evaluator (Rust, SQL, JavaScript) implements the same arithmetic:
//!
//! * `+`, `-`, `*` are exact;
//! * `a / b` is the exact quotient rounded half away from zero to
//!   [`DIV_SCALE`] digits after the point; `b = 0` is a division by zero,
//!   reported as a violation of its own;
//! * `round(x, n)` rounds half away from zero to n digits (n may be
//!   negative: tens, hundreds…);
//! * comparisons are exact.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};
use std::cmp::Ordering;

/// Digits kept after the point by a division.
pub const DIV_SCALE: u32 = 20;

/// `mantissa × 10^-scale`, normalized: no trailing zero in the mantissa
/// when the scale is positive, so equal numbers are equal values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Num {
    mantissa: BigInt,
    scale: u32,
}

fn pow10(n: u32) -> BigInt {
    BigInt::from(10u8).pow(n)
}

impl Num {
    pub fn zero() -> Num {
        Num {
            mantissa: BigInt::zero(),
            scale: 0,
        }
    }

    pub fn from_i64(n: i64) -> Num {
        Num {
            mantissa: BigInt::from(n),
            scale: 0,
        }
    }

    fn new(mantissa: BigInt, scale: u32) -> Num {
        let mut n = Num { mantissa, scale };
        n.normalize();
        n
    }

    fn normalize(&mut self) {
        if self.mantissa.is_zero() {
            self.scale = 0;
            return;
        }
        let ten = BigInt::from(10u8);
        while self.scale > 0 {
            let (q, r) = self.mantissa.div_rem(&ten);
            if !r.is_zero() {
                break;
            }
            self.mantissa = q;
            self.scale -= 1;
        }
    }

    /// Reads `-?[0-9]+(\.[0-9]+)?`.
    pub fn parse(text: &str) -> Option<Num> {
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty()
            || digits.ends_with('.')
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all = format!("{int}{frac}");
        let m: BigInt = all.parse().ok()?;
        let scale = u32::try_from(frac.len()).ok()?;
        Some(Num::new(if neg { -m } else { m }, scale))
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.mantissa.is_negative()
    }

    /// Both mantissas at the larger scale.
    fn aligned(&self, o: &Num) -> (BigInt, BigInt, u32) {
        let s = self.scale.max(o.scale);
        (
            &self.mantissa * pow10(s - self.scale),
            &o.mantissa * pow10(s - o.scale),
            s,
        )
    }

    pub fn add(&self, o: &Num) -> Num {
        let (a, b, s) = self.aligned(o);
        Num::new(a + b, s)
    }

    pub fn sub(&self, o: &Num) -> Num {
        let (a, b, s) = self.aligned(o);
        Num::new(a - b, s)
    }

    pub fn mul(&self, o: &Num) -> Num {
        Num::new(&self.mantissa * &o.mantissa, self.scale + o.scale)
    }

    pub fn neg(&self) -> Num {
        Num::new(-self.mantissa.clone(), self.scale)
    }

    pub fn abs(&self) -> Num {
        Num::new(self.mantissa.abs(), self.scale)
    }

    /// `self / o` rounded half away from zero to [`DIV_SCALE`] digits;
    /// `None` when `o` is zero.
    pub fn div(&self, o: &Num) -> Option<Num> {
        if o.is_zero() {
            return None;
        }
        // self / o = (ma / 10^sa) / (mb / 10^sb); at DIV_SCALE digits the
        // quotient's mantissa is ma * 10^(D + sb - sa) / mb, exponents
        // moved to whichever side keeps them non-negative.
        let d = i64::from(DIV_SCALE) + i64::from(o.scale) - i64::from(self.scale);
        let (mut num, mut den) = (self.mantissa.abs(), o.mantissa.abs());
        if d >= 0 {
            num *= pow10(u32::try_from(d).ok()?);
        } else {
            den *= pow10(u32::try_from(-d).ok()?);
        }
        let q = round_half_away(&num, &den);
        let negative = self.is_negative() != o.is_negative();
        Some(Num::new(if negative { -q } else { q }, DIV_SCALE))
    }

    /// Rounded half away from zero to `digits` after the point (negative:
    /// to tens, hundreds…).
    pub fn round(&self, digits: i64) -> Num {
        let shift = i64::from(self.scale) - digits;
        if shift <= 0 {
            return self.clone();
        }
        let Ok(shift) = u32::try_from(shift) else {
            return Num::zero();
        };
        let q = round_half_away(&self.mantissa.abs(), &pow10(shift));
        let q = if self.is_negative() { -q } else { q };
        // q counts units of 10^-digits.
        if digits >= 0 {
            Num::new(q, u32::try_from(digits).unwrap_or(0))
        } else {
            Num::new(q * pow10(u32::try_from(-digits).unwrap_or(0)), 0)
        }
    }

    /// As a string of `-?digits[.digits]`, no trailing zeros.
    pub fn to_plain(&self) -> String {
        let digits = self.mantissa.abs().to_string();
        let sign = if self.is_negative() { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }
}

/// `num / den` (both ≥ 0, den > 0) rounded half away from zero.
fn round_half_away(num: &BigInt, den: &BigInt) -> BigInt {
    let (q, r) = num.div_rem(den);
    if r * 2 >= *den { q + 1 } else { q }
}

impl Ord for Num {
    fn cmp(&self, o: &Self) -> Ordering {
        let (a, b, _) = self.aligned(o);
        a.cmp(&b)
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_plain())
    }
}

impl From<&crate::value::Decimal> for Num {
    fn from(d: &crate::value::Decimal) -> Num {
        let (mantissa, scale) = d.parts();
        Num::new(BigInt::from(mantissa), scale)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn n(s: &str) -> Num {
        Num::parse(s).unwrap()
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(n("0.1").add(&n("0.2")), n("0.3"));
        assert_eq!(n("1.50").to_plain(), "1.5");
        assert_eq!(n("-0.000").to_plain(), "0");
        assert_eq!(n("12.5").mul(&n("-0.2")).to_plain(), "-2.5");
        let big = n("99999999999999999999999999999999999999");
        assert_eq!(big.mul(&big).to_plain().len(), 76);
    }

    #[test]
    fn division_rounds_half_away_from_zero_at_20_digits() {
        assert_eq!(
            n("1").div(&n("3")).unwrap().to_plain(),
            "0.33333333333333333333"
        );
        assert_eq!(
            n("2").div(&n("3")).unwrap().to_plain(),
            "0.66666666666666666667"
        );
        assert_eq!(
            n("-2").div(&n("3")).unwrap().to_plain(),
            "-0.66666666666666666667"
        );
        assert_eq!(n("1").div(&n("4")).unwrap().to_plain(), "0.25");
        assert_eq!(n("7.5").div(&n("0.25")).unwrap().to_plain(), "30");
        assert!(n("1").div(&n("0.00")).is_none());
        // 5e-21 is exactly half a unit of the 20th digit: away from zero.
        assert_eq!(
            n("0.000000000000000000005")
                .div(&n("1"))
                .unwrap()
                .to_plain(),
            "0.00000000000000000001"
        );
        assert_eq!(
            n("-0.000000000000000000005")
                .div(&n("1"))
                .unwrap()
                .to_plain(),
            "-0.00000000000000000001"
        );
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(n("2.5").round(0).to_plain(), "3");
        assert_eq!(n("-2.5").round(0).to_plain(), "-3");
        assert_eq!(n("2.45").round(1).to_plain(), "2.5");
        assert_eq!(n("1234").round(-2).to_plain(), "1200");
        assert_eq!(n("1250").round(-2).to_plain(), "1300");
        assert_eq!(n("1.2").round(5).to_plain(), "1.2");
    }

    #[test]
    fn compares_exactly() {
        assert!(n("0.1") < n("0.10000000000000000000000000000000000000001"));
        assert_eq!(n("1.0").cmp(&n("1")), Ordering::Equal);
        assert!(n("-3") < n("-2.9"));
    }
}
