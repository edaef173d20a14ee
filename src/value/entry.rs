//! Numbers as people type them: in a form's cells and in the text cells of
//! a spreadsheet. Vietnamese writes `1.000.000` for a million and `12,5`
//! for twelve and a half; machines write `1000000` and `12.5`. Both are
//! read, and a text that the two conventions read as different numbers of
//! the cell is refused instead of guessed (docs/forms.md, Entering numbers).
//!
//! The rules, in order:
//! 1. The Vietnamese reading: digits grouped by three with `.` (or a space)
//!    before an optional `,` and its decimals; the plain reading: digits
//!    with an optional `.` and its decimals.
//! 2. A reading is possible for a cell only if it writes at most as many
//!    digits after its decimal separator as the cell keeps (none for whole
//!    numbers). So `1.000` in a whole-number cell is one thousand: one with
//!    three decimals is not a value such a cell can hold.
//! 3. One possible reading: that one. Two that differ (`1.000` in a cell
//!    that keeps three decimals): refused as ambiguous, with both readings
//!    and the spellings that say each unambiguously.
//!
//! `forms.js` (`readEntry`) implements the same rules; the table of cases
//! in `tests/fixtures/entry.json` holds both to the same answers.

use std::fmt;

/// Why a typed text is not a number of the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// Neither convention reads it.
    NotANumber,
    /// Read, but with more decimals than the cell keeps.
    TooManyDecimals {
        /// The number as read (canonical text).
        read: String,
        written: usize,
        keeps: u32,
    },
    /// The two conventions read two different numbers.
    Ambiguous {
        /// The Vietnamese reading (thousands) and the plain one, canonical.
        vietnamese: String,
        plain: String,
    },
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::NotANumber => write!(
                f,
                "not a number (write 1.000.000 or 1000000 for a million, 12,5 or 12.5 for twelve and a half)"
            ),
            EntryError::TooManyDecimals {
                written, keeps: 0, ..
            } => write!(
                f,
                "a whole number is expected, and this has {written} digit(s) after the decimal separator (for one thousand write 1000 or 1.000)"
            ),
            EntryError::TooManyDecimals { written, keeps, .. } => write!(
                f,
                "{written} digit(s) after the decimal separator; this cell keeps {keeps}"
            ),
            EntryError::Ambiguous { vietnamese, plain } => write!(
                f,
                "ambiguous: {vietnamese} if `.` groups thousands, {} if `.` is the decimal point; write {vietnamese} or {}",
                plain.replace('.', ","),
                plain.replace('.', ",")
            ),
        }
    }
}

/// A number read: digits before and after the separator, as written.
struct Read<'a> {
    int: String,
    frac: &'a str,
}

impl Read<'_> {
    /// `-?[0-9]+(\.[0-9]+)?` without leading or trailing zeros.
    fn canonical(&self, negative: bool) -> String {
        let int = self.int.trim_start_matches('0');
        let frac = self.frac.trim_end_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let mut out = String::new();
        if negative && (int != "0" || !frac.is_empty()) {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The separators that group thousands in Vietnamese text: `.`, a space,
/// a no-break space or a narrow no-break space.
fn is_group_separator(c: char) -> bool {
    matches!(c, '.' | ' ' | '\u{a0}' | '\u{202f}')
}

/// `1.234.567,89`, `1 234 567,89`, `1234567,89` or `1234567`.
fn vietnamese(text: &str) -> Option<Read<'_>> {
    let (int, frac) = match text.split_once(',') {
        Some((i, f)) if all_digits(f) => (i, f),
        Some(_) => return None,
        None => (text, ""),
    };
    if all_digits(int) {
        return Some(Read {
            int: int.to_string(),
            frac,
        });
    }
    // Grouped: one kind of separator, a first group of one to three digits
    // (not a lone leading zero), then groups of exactly three.
    let sep = int.chars().find(|c| is_group_separator(*c))?;
    let mut groups = int.split(sep);
    let first = groups.next()?;
    if !all_digits(first) || first.len() > 3 || first.starts_with('0') {
        return None;
    }
    let mut digits = first.to_string();
    for g in groups {
        if g.len() != 3 || !all_digits(g) {
            return None;
        }
        digits.push_str(g);
    }
    Some(Read { int: digits, frac })
}

/// `1234567.89` or `1234567`.
fn plain(text: &str) -> Option<Read<'_>> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if !all_digits(int) || (text.contains('.') && !all_digits(frac)) {
        return None;
    }
    Some(Read {
        int: int.to_string(),
        frac,
    })
}

/// Reads a typed number for a cell keeping `scale` decimals (0 for whole
/// numbers); `percent` also takes a trailing `%`. The result is the
/// canonical text (`-?[0-9]+(\.[0-9]+)?`), to be checked against the
/// cell's type and range as any submitted value is.
pub fn read_number(text: &str, scale: u32, percent: bool) -> Result<String, EntryError> {
    let mut t = text.trim();
    if percent && let Some(rest) = t.strip_suffix('%') {
        t = rest.trim_end();
    }
    let (negative, body) = match t.strip_prefix('-').or_else(|| t.strip_prefix('\u{2212}')) {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let fits = |r: &Read| r.frac.len() <= scale as usize;
    let (vi, pl) = (vietnamese(body), plain(body));
    match (
        vi.as_ref().filter(|r| fits(r)),
        pl.as_ref().filter(|r| fits(r)),
    ) {
        (Some(v), Some(p)) => {
            let (v, p) = (v.canonical(negative), p.canonical(negative));
            if v == p {
                Ok(v)
            } else {
                Err(EntryError::Ambiguous {
                    vietnamese: v,
                    plain: p,
                })
            }
        }
        (Some(r), None) | (None, Some(r)) => Ok(r.canonical(negative)),
        (None, None) => match vi.or(pl) {
            Some(r) => Err(EntryError::TooManyDecimals {
                read: r.canonical(negative),
                written: r.frac.len(),
                keeps: scale,
            }),
            None => Err(EntryError::NotANumber),
        },
    }
}

/// A canonical number (`-?[0-9]+(\.[0-9]+)?`) as Vietnamese text: `.`
/// between thousands, `,` before decimals, padded to `scale` decimals when
/// given (and rounded to them half away from zero); anything else is
/// returned as it is.
pub fn format_vietnamese(canonical: &str, scale: Option<u32>) -> String {
    let Some(d) = super::Decimal::parse(canonical) else {
        return canonical.to_string();
    };
    let text = match scale {
        Some(s) => round_text(&d, s),
        None => d.to_string(),
    };
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// Canonical decimal text rounded half away from zero to `scale`
/// decimals (`None` if it is not a number regc writes).
pub fn round_canonical(canonical: &str, scale: u32) -> Option<String> {
    super::Decimal::parse(canonical).map(|d| round_text(&d, scale))
}

/// `d` rounded half away from zero to `scale` decimals, written with
/// exactly that many.
fn round_text(d: &super::Decimal, scale: u32) -> String {
    let (m, s) = d.parts();
    let m = if s > scale {
        let p = 10i128.pow((s - scale).min(38));
        let (q, r) = (m / p, m % p);
        if r.unsigned_abs() * 2 >= p.unsigned_abs() {
            q + m.signum()
        } else {
            q
        }
    } else {
        match m.checked_mul(10i128.pow((scale - s).min(38))) {
            Some(m) => m,
            None => return d.to_string(),
        }
    };
    let digits = m.unsigned_abs().to_string();
    let sign = if m < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = padded.split_at(padded.len() - scale as usize);
    format!("{sign}{int}.{frac}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// The table both readers are held to (forms.js in tests/forms.rs).
    #[test]
    fn the_shared_table_of_cases() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/entry.json")).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() > 40);
        for c in cases {
            let text = c["text"].as_str().unwrap();
            let scale = u32::try_from(c["scale"].as_u64().unwrap()).unwrap();
            let percent = c["percent"].as_bool().unwrap_or(false);
            let got = match read_number(text, scale, percent) {
                Ok(v) => format!("value {v}"),
                Err(EntryError::NotANumber) => "error not_a_number".into(),
                Err(EntryError::TooManyDecimals { .. }) => "error too_many_decimals".into(),
                Err(EntryError::Ambiguous { .. }) => "error ambiguous".into(),
            };
            let want = match (c["value"].as_str(), c["error"].as_str()) {
                (Some(v), _) => format!("value {v}"),
                (None, Some(e)) => format!("error {e}"),
                _ => panic!("case without value or error: {c}"),
            };
            assert_eq!(got, want, "{text:?} at scale {scale}");
        }
    }

    #[test]
    fn messages_name_both_readings() {
        let e = read_number("1.000", 3, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ambiguous: 1000 if `.` groups thousands, 1 if `.` is the decimal point; write 1000 or 1"
        );
    }

    #[test]
    fn vietnamese_text() {
        assert_eq!(format_vietnamese("1234567.891", None), "1.234.567,891");
        assert_eq!(format_vietnamese("-1000", Some(2)), "-1.000,00");
        assert_eq!(format_vietnamese("2.345", Some(2)), "2,35");
        assert_eq!(format_vietnamese("-2.345", Some(2)), "-2,35");
        assert_eq!(format_vietnamese("999.5", Some(0)), "1.000");
        assert_eq!(format_vietnamese("12", None), "12");
        assert_eq!(format_vietnamese("abc", None), "abc");
    }
}
