//! Values of cells: exact decimals and the typed parse of a submitted
//! text against a cell's storage ([`crate::layout::Storage`]). No binary
//! floating point anywhere: a decimal is an `i128` mantissa and a scale,
//! which holds every number of up to 38 digits (the language's limit).

pub mod entry;

use crate::layout::Storage;
use chrono::NaiveDate;
use std::cmp::Ordering;

/// The most significant digits a decimal has (`decimal(38, s)`).
pub const MAX_DIGITS: u32 = 38;

/// An exact decimal: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Decimal {
    pub fn from_int(n: i64) -> Decimal {
        Decimal {
            mantissa: i128::from(n),
            scale: 0,
        }
    }

    /// Reads `-?[0-9]+(\.[0-9]+)?` with at most [`MAX_DIGITS`] digits
    /// (leading zeros of the whole part and trailing zeros of the fraction
    /// not counted). Nothing else: no exponent, no `+`, no spaces.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int.is_empty()
            || digits.ends_with('.')
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        if int.len() + frac.len() > MAX_DIGITS as usize {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        Some(Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            scale: u32::try_from(frac.len()).ok()?,
        })
    }

    /// `(mantissa, scale)`: the value is `mantissa × 10^-scale`.
    pub fn parts(&self) -> (i128, u32) {
        (self.mantissa, self.scale)
    }

    /// Digits after the point (trailing zeros dropped).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// Digits before the point (0 for `0.5`).
    pub fn int_digits(&self) -> u32 {
        if let Ok(m) = u64::try_from(self.mantissa.unsigned_abs()) {
            // 64-bit division is many times cheaper than 128-bit.
            let mut whole = 10u64.checked_pow(self.scale).map_or(0, |p| m / p);
            let mut n = 0;
            while whole > 0 {
                whole /= 10;
                n += 1;
            }
            return n;
        }
        let mut whole = (self.mantissa / pow10(self.scale).unwrap_or(1)).unsigned_abs();
        let mut n = 0;
        while whole > 0 {
            whole /= 10;
            n += 1;
        }
        n
    }

    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// The mantissa at `scale` digits (`12.5` at 2 is 1250); `None` if that
    /// would drop digits or overflow.
    pub fn scaled(&self, scale: u32) -> Option<i128> {
        let up = scale.checked_sub(self.scale)?;
        self.mantissa.checked_mul(pow10(up)?)
    }

    /// As a 64-bit integer if it is whole and fits.
    pub fn to_i64(&self) -> Option<i64> {
        i64::try_from(self.scaled(0)?).ok()
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        // At one scale (or brought to one without overflow) the mantissas
        // compare as they are.
        let s = self.scale.max(other.scale);
        if let (Some(a), Some(b)) = (self.scaled(s), other.scaled(s)) {
            return a.cmp(&b);
        }
        // Whole parts first, then the fractions at the larger scale (a
        // fraction below 10^38 times a power of ten never overflows there).
        let split = |d: &Decimal| {
            let p = pow10(d.scale).unwrap_or(1);
            (d.mantissa.div_euclid(p), d.mantissa.rem_euclid(p))
        };
        let ((wa, fa), (wb, fb)) = (split(self), split(other));
        let s = self.scale.max(other.scale);
        let align = |f: i128, from: u32| f.saturating_mul(pow10(s - from).unwrap_or(1));
        wa.cmp(&wb)
            .then_with(|| align(fa, self.scale).cmp(&align(fb, other.scale)))
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

/// A parsed, checked value of one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i64),
    Decimal(Decimal),
    Text(String),
    Date(NaiveDate),
    Bool(bool),
    Code(String),
}

impl Value {
    /// The value as written back in a canonical text form (checksums, CSV).
    pub fn canonical(&self) -> String {
        match self {
            Value::Integer(n) => n.to_string(),
            Value::Decimal(d) => d.to_string(),
            Value::Text(t) | Value::Code(t) => t.clone(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::Bool(b) => b.to_string(),
        }
    }
}

/// Which derived rule a bad value breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Not a value of the cell's type (digits, scale, length, date…).
    Type,
    /// Outside the cell's `range`.
    Range,
    /// Not a code of the cell's codelist.
    Codelist,
}

impl Problem {
    pub fn name(self) -> &'static str {
        match self {
            Problem::Type => "type",
            Problem::Range => "range",
            Problem::Codelist => "codelist",
        }
    }
}

/// Parses the text of a submitted value for a cell stored as `storage`,
/// within `range`. `codes` says whether a code exists in the cell's list.
/// The error says what is wrong in words for the reporter, and which
/// derived rule it breaks.
pub fn parse(
    text: &str,
    storage: &Storage,
    range: Option<&crate::ir::Range>,
    codes: &dyn Fn(&str) -> bool,
) -> Result<Value, (Problem, String)> {
    parse_within(text, storage, range.map(Bounds::new).as_ref(), codes)
}

/// A `range` with its bounds read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    pub range: crate::ir::Range,
    numbers: Option<(Decimal, Decimal)>,
}

impl Bounds {
    pub fn new(r: &crate::ir::Range) -> Bounds {
        Bounds {
            range: r.clone(),
            numbers: Decimal::parse(&r.min).zip(Decimal::parse(&r.max)),
        }
    }

    /// The bounds as numbers, when both are.
    pub fn numbers(&self) -> Option<(Decimal, Decimal)> {
        self.numbers
    }
}

/// [`parse`], the range's bounds read beforehand.
pub fn parse_within(
    text: &str,
    storage: &Storage,
    range: Option<&Bounds>,
    codes: &dyn Fn(&str) -> bool,
) -> Result<Value, (Problem, String)> {
    parse_typed(text, storage, codes)
        .map_err(|e| (Problem::Type, e))
        .and_then(|(v, code_ok)| {
            if !code_ok {
                let Storage::Code { codelist } = storage else {
                    return Err((Problem::Type, String::new()));
                };
                return Err((
                    Problem::Codelist,
                    format!("`{}` is not a code of the list {codelist}", shorten(text)),
                ));
            }
            check_range(v, range).map_err(|e| (Problem::Range, e))
        })
}

fn check_range(value: Value, range: Option<&Bounds>) -> Result<Value, String> {
    if let Some(b) = range {
        let number = match &value {
            Value::Integer(n) => Some(Decimal::from_int(*n)),
            Value::Decimal(d) => Some(*d),
            _ => None,
        };
        if let (Some(n), Some((lo, hi))) = (number, b.numbers)
            && (n < lo || n > hi)
        {
            let r = &b.range;
            return Err(format!("{n} is outside the range {}..{}", r.min, r.max));
        }
    }
    Ok(value)
}

/// The value of its type, and whether a code is in its list.
fn parse_typed(
    text: &str,
    storage: &Storage,
    codes: &dyn Fn(&str) -> bool,
) -> Result<(Value, bool), String> {
    let value = match storage {
        Storage::Integer => {
            let d = Decimal::parse(text)
                .ok_or_else(|| format!("`{}` is not a whole number", shorten(text)))?;
            // Any digit after the point, even a zero, is refused: `1.000`
            // is one thousand to a Vietnamese reader and 1 to a machine.
            let written = written_decimals(text);
            if written > 0 {
                return Err(format!(
                    "`{}` is not a whole number: it has {written} digit(s) after the point (one thousand is written 1000)",
                    shorten(text)
                ));
            }
            Value::Integer(d.to_i64().ok_or_else(|| {
                format!("{text} is too large (at most 9223372036854775807 in absolute value)")
            })?)
        }
        Storage::Decimal { precision, scale } => {
            let d = Decimal::parse(text)
                .ok_or_else(|| format!("`{}` is not a decimal number", shorten(text)))?;
            // Written digits count, zeros too: `1.000` in a cell of two
            // decimals is refused, not read as 1 (it may mean a thousand).
            let written = written_decimals(text);
            if written > *scale as usize {
                return Err(format!(
                    "{text} has {written} digits after the point; this cell keeps {scale}"
                ));
            }
            if d.int_digits() > precision - scale {
                return Err(format!(
                    "{text} has {} digits before the point; this cell keeps {}",
                    d.int_digits(),
                    precision - scale
                ));
            }
            Value::Decimal(d)
        }
        Storage::Text { max_len } => {
            let len = text.chars().count();
            if len > *max_len as usize {
                return Err(format!(
                    "the text has {len} characters; this cell keeps at most {max_len}"
                ));
            }
            if text.contains('\0') {
                return Err("the text holds a NUL character".to_string());
            }
            Value::Text(text.to_string())
        }
        Storage::Date => Value::Date(
            Some(text)
                .filter(|t| is_iso_date_shape(t))
                .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                .ok_or_else(|| format!("`{}` is not a date (YYYY-MM-DD)", shorten(text)))?,
        ),
        Storage::Bool => Value::Bool(match text {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(format!("`{}` is not true or false", shorten(text))),
        }),
        Storage::Code { .. } => return Ok((Value::Code(text.to_string()), codes(text))),
    };
    Ok((value, true))
}

/// The digits written after the point of a number's text.
fn written_decimals(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

/// `YYYY-MM-DD` exactly: chrono alone would also take ` 2025-1-3` or a
/// signed year.
pub fn is_iso_date_shape(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// A value quoted in a message: at most 40 characters.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(d("0012.500").to_string(), "12.5");
        assert_eq!(d("-0.05").to_string(), "-0.05");
        assert_eq!(d("-0").to_string(), "0");
        assert_eq!(d("99999999999999999999999999999999999999").int_digits(), 38);
        assert!(Decimal::parse("999999999999999999999999999999999999999").is_none());
        for bad in ["", "-", ".5", "5.", "1e3", "+1", " 1", "1,5", "--1"] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn compares_exactly() {
        assert!(d("0.1") < d("0.10000000000000000000000000000000000001"));
        assert!(d("-1.5") < d("-1.25"));
        assert!(d("2") > d("1.999"));
        assert_eq!(d("1.50").cmp(&d("1.5")), Ordering::Equal);
        assert!(d("-0.5") < d("0"));
    }

    #[test]
    fn scales() {
        assert_eq!(d("12.5").scaled(2), Some(1250));
        assert_eq!(d("12.55").scaled(1), None);
    }
}
