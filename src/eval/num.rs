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
//!
//! A mantissa is an `i128` while it fits (every value a cell holds, and
//! nearly every intermediate result); an operation that would overflow is
//! redone with `num-bigint`, so results are the same whatever the size.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};
use std::cmp::Ordering;

/// Digits kept after the point by a division.
pub const DIV_SCALE: u32 = 20;

/// `mantissa × 10^-scale`, normalized: no trailing zero in the mantissa
/// when the scale is positive, and a small mantissa whenever it fits, so
/// equal numbers are equal values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Num {
    mantissa: Mantissa,
    scale: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Mantissa {
    Small(i128),
    /// Only for values outside `i128`.
    Big(BigInt),
}

fn pow10(n: u32) -> BigInt {
    BigInt::from(10u8).pow(n)
}

/// `10^n` as an `i128`, if it fits (n ≤ 38).
fn pow10_small(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// `m × 10^up`, if it fits.
fn scale_up(m: i128, up: u32) -> Option<i128> {
    if up == 0 {
        return Some(m);
    }
    m.checked_mul(pow10_small(up)?)
}

impl Num {
    pub fn zero() -> Num {
        Num {
            mantissa: Mantissa::Small(0),
            scale: 0,
        }
    }

    pub fn from_i64(n: i64) -> Num {
        Num {
            mantissa: Mantissa::Small(i128::from(n)),
            scale: 0,
        }
    }

    /// `mantissa × 10^-scale`, normalized.
    pub fn from_parts(mantissa: i128, scale: u32) -> Num {
        Num::small(mantissa, scale)
    }

    /// `(mantissa, scale)` if the mantissa fits 64 bits.
    pub fn parts_i64(&self) -> Option<(i64, u32)> {
        match self.mantissa {
            Mantissa::Small(m) => Some((i64::try_from(m).ok()?, self.scale)),
            Mantissa::Big(_) => None,
        }
    }

    /// A normalized number from an `i128` mantissa.
    fn small(mut m: i128, mut scale: u32) -> Num {
        if m == 0 {
            scale = 0;
        }
        if let Ok(mut x) = i64::try_from(m) {
            // 64-bit division is many times cheaper than 128-bit.
            while scale > 0 && x % 10 == 0 {
                x /= 10;
                scale -= 1;
            }
            return Num {
                mantissa: Mantissa::Small(i128::from(x)),
                scale,
            };
        }
        while scale > 0 && m % 10 == 0 {
            m /= 10;
            scale -= 1;
        }
        Num {
            mantissa: Mantissa::Small(m),
            scale,
        }
    }

    fn new(mantissa: BigInt, scale: u32) -> Num {
        let mut n = Num {
            mantissa: Mantissa::Big(mantissa),
            scale,
        };
        n.normalize();
        n
    }

    fn normalize(&mut self) {
        let Mantissa::Big(m) = &mut self.mantissa else {
            *self = Num::small(self.small_mantissa().unwrap_or(0), self.scale);
            return;
        };
        if m.is_zero() {
            *self = Num::zero();
            return;
        }
        let ten = BigInt::from(10u8);
        while self.scale > 0 {
            let (q, r) = m.div_rem(&ten);
            if !r.is_zero() {
                break;
            }
            *m = q;
            self.scale -= 1;
        }
        if let Ok(small) = i128::try_from(&*m) {
            self.mantissa = Mantissa::Small(small);
        }
    }

    fn small_mantissa(&self) -> Option<i128> {
        match self.mantissa {
            Mantissa::Small(m) => Some(m),
            Mantissa::Big(_) => None,
        }
    }

    /// The mantissa as a big integer (the slow path).
    fn big(&self) -> BigInt {
        match &self.mantissa {
            Mantissa::Small(m) => BigInt::from(*m),
            Mantissa::Big(m) => m.clone(),
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
        let scale = u32::try_from(frac.len()).ok()?;
        let mut m: i128 = 0;
        let mut fits = true;
        for b in int.bytes().chain(frac.bytes()) {
            match m
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
            {
                Some(next) => m = next,
                None => {
                    fits = false;
                    break;
                }
            }
        }
        if fits {
            return Some(Num::small(if neg { -m } else { m }, scale));
        }
        let all = format!("{int}{frac}");
        let m: BigInt = all.parse().ok()?;
        Some(Num::new(if neg { -m } else { m }, scale))
    }

    pub fn is_zero(&self) -> bool {
        match &self.mantissa {
            Mantissa::Small(m) => *m == 0,
            Mantissa::Big(m) => m.is_zero(),
        }
    }

    pub fn is_negative(&self) -> bool {
        match &self.mantissa {
            Mantissa::Small(m) => *m < 0,
            Mantissa::Big(m) => m.is_negative(),
        }
    }

    /// Both small mantissas at the larger scale, if they fit.
    fn aligned_small(&self, o: &Num) -> Option<(i128, i128, u32)> {
        let (a, b) = (self.small_mantissa()?, o.small_mantissa()?);
        let s = self.scale.max(o.scale);
        Some((scale_up(a, s - self.scale)?, scale_up(b, s - o.scale)?, s))
    }

    /// Both mantissas at the larger scale.
    fn aligned(&self, o: &Num) -> (BigInt, BigInt, u32) {
        let s = self.scale.max(o.scale);
        (
            self.big() * pow10(s - self.scale),
            o.big() * pow10(s - o.scale),
            s,
        )
    }

    pub fn add(&self, o: &Num) -> Num {
        if let Some((a, b, s)) = self.aligned_small(o)
            && let Some(m) = a.checked_add(b)
        {
            return Num::small(m, s);
        }
        let (a, b, s) = self.aligned(o);
        Num::new(a + b, s)
    }

    pub fn sub(&self, o: &Num) -> Num {
        if let Some((a, b, s)) = self.aligned_small(o)
            && let Some(m) = a.checked_sub(b)
        {
            return Num::small(m, s);
        }
        let (a, b, s) = self.aligned(o);
        Num::new(a - b, s)
    }

    pub fn mul(&self, o: &Num) -> Num {
        if let (Some(a), Some(b)) = (self.small_mantissa(), o.small_mantissa())
            && let Some(m) = a.checked_mul(b)
        {
            return Num::small(m, self.scale + o.scale);
        }
        Num::new(self.big() * o.big(), self.scale + o.scale)
    }

    pub fn neg(&self) -> Num {
        if let Some(m) = self.small_mantissa().and_then(i128::checked_neg) {
            return Num::small(m, self.scale);
        }
        Num::new(-self.big(), self.scale)
    }

    pub fn abs(&self) -> Num {
        if let Some(m) = self.small_mantissa().and_then(i128::checked_abs) {
            return Num::small(m, self.scale);
        }
        Num::new(self.big().abs(), self.scale)
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
        let negative = self.is_negative() != o.is_negative();
        if let (Some(a), Some(b)) = (
            self.small_mantissa().and_then(i128::checked_abs),
            o.small_mantissa().and_then(i128::checked_abs),
        ) {
            let up = u32::try_from(d.unsigned_abs()).ok();
            let (num, den) = if d >= 0 {
                (up.and_then(|u| scale_up(a, u)), Some(b))
            } else {
                (Some(a), up.and_then(|u| scale_up(b, u)))
            };
            if let (Some(num), Some(den)) = (num, den) {
                // Half away from zero: up when the remainder is at least
                // half the divisor (r ≥ den − r, without overflow).
                let (q, r) = (num / den, num % den);
                let q = if r >= den - r { q + 1 } else { q };
                return Some(Num::small(if negative { -q } else { q }, DIV_SCALE));
            }
        }
        let (mut num, mut den) = (self.big().abs(), o.big().abs());
        if d >= 0 {
            num *= pow10(u32::try_from(d).ok()?);
        } else {
            den *= pow10(u32::try_from(-d).ok()?);
        }
        let q = round_half_away(&num, &den);
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
        let negative = self.is_negative();
        if let (Some(m), Some(p), Ok(d)) = (
            self.small_mantissa().and_then(i128::checked_abs),
            pow10_small(shift),
            u32::try_from(digits),
        ) {
            let (q, r) = (m / p, m % p);
            let q = if r >= p - r { q + 1 } else { q };
            return Num::small(if negative { -q } else { q }, d);
        }
        let q = round_half_away(&self.big().abs(), &pow10(shift));
        let q = if negative { -q } else { q };
        // q counts units of 10^-digits.
        if digits >= 0 {
            Num::new(q, u32::try_from(digits).unwrap_or(0))
        } else {
            Num::new(q * pow10(u32::try_from(-digits).unwrap_or(0)), 0)
        }
    }

    /// As a string of `-?digits[.digits]`, no trailing zeros.
    pub fn to_plain(&self) -> String {
        let digits = match &self.mantissa {
            Mantissa::Small(m) => m.unsigned_abs().to_string(),
            Mantissa::Big(m) => m.abs().to_string(),
        };
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
        if let Some((a, b, _)) = self.aligned_small(o) {
            return a.cmp(&b);
        }
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
        Num::small(mantissa, scale)
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

    /// The `i128` fast path gives what the `num-bigint` path gives, on
    /// both sides of the boundary between them.
    #[test]
    fn small_and_big_paths_agree() {
        let texts = [
            "0",
            "1",
            "-1",
            "0.5",
            "-2.5",
            "3",
            "7.25",
            "1000",
            "999.99",
            "0.00000000000000000001",
            "12345678901234567890.123456789",
            "-170141183460469231731687303715884105727",
            "170141183460469231731687303715884105727",
            "17014118346046923173168730371588410572.8",
            "99999999999999999999999999999999999999",
            "-0.99999999999999999999999999999999999999",
            "1000000000000000000000000000000000000000000",
            "-123456789012345678901234567890123456789012",
        ];
        let nums: Vec<Num> = texts.iter().map(|t| n(t)).collect();
        let slow_div = |a: &Num, b: &Num| -> Option<Num> {
            if b.is_zero() {
                return None;
            }
            let d = i64::from(DIV_SCALE) + i64::from(b.scale) - i64::from(a.scale);
            let (mut x, mut y) = (a.big().abs(), b.big().abs());
            if d >= 0 {
                x *= pow10(u32::try_from(d).unwrap());
            } else {
                y *= pow10(u32::try_from(-d).unwrap());
            }
            let q = round_half_away(&x, &y);
            Some(Num::new(
                if a.is_negative() != b.is_negative() {
                    -q
                } else {
                    q
                },
                DIV_SCALE,
            ))
        };
        for a in &nums {
            assert_eq!(a.neg(), Num::new(-a.big(), a.scale), "neg {a}");
            assert_eq!(a.abs(), Num::new(a.big().abs(), a.scale), "abs {a}");
            assert_eq!(Num::parse(&a.to_plain()).as_ref(), Some(a), "parse {a}");
            for digits in [-3, 0, 1, 2, 5] {
                let shift = i64::from(a.scale) - digits;
                let slow = if shift <= 0 {
                    a.clone()
                } else {
                    let q = round_half_away(&a.big().abs(), &pow10(u32::try_from(shift).unwrap()));
                    let q = if a.is_negative() { -q } else { q };
                    if digits >= 0 {
                        Num::new(q, u32::try_from(digits).unwrap())
                    } else {
                        Num::new(q * pow10(u32::try_from(-digits).unwrap()), 0)
                    }
                };
                assert_eq!(a.round(digits), slow, "round({a}, {digits})");
            }
            for b in &nums {
                let (x, y, s) = a.aligned(b);
                assert_eq!(a.add(b), Num::new(&x + &y, s), "{a} + {b}");
                assert_eq!(a.sub(b), Num::new(&x - &y, s), "{a} - {b}");
                assert_eq!(a.cmp(b), x.cmp(&y), "{a} <> {b}");
                assert_eq!(
                    a.mul(b),
                    Num::new(a.big() * b.big(), a.scale + b.scale),
                    "{a} * {b}"
                );
                assert_eq!(a.div(b), slow_div(a, b), "{a} / {b}");
            }
        }
    }
}
