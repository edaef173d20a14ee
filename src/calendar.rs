//! The reporting calendar: the periods of a year with their cut-offs and the
//! deadline of each level, computed from a regime's header and the
//! library's holidays. Pure: no clock, no files (the CLI supplies the year).
//!
//! # Periods
//!
//! A period has an id, a first day (`start`) and a last day (`end`), which is
//! its **cut-off day** (ngày chốt số liệu). Ids:
//!
//! | frequency | ids |
//! |---|---|
//! | daily | `2025-03-14` |
//! | weekly | `2025-W11` (ISO 8601 weeks, Monday to Sunday; week 1 holds the year's first Thursday) |
//! | monthly | `2025-03` |
//! | quarterly | `2025-Q1` … `2025-Q4` |
//! | six-monthly | `2025-H1`, `2025-H2` |
//! | nine-monthly | `2025-9M` |
//! | annual | `2025` |
//! | ad hoc | none: an ad hoc regime has no periods |
//!
//! Cut-off rules ([`ir::Cutoff`]):
//!
//! * `calendar`: calendar months, quarters (Jan–Mar …), halves (Jan–Jun,
//!   Jul–Dec), nine months (1 Jan – 30 Sep) and years;
//! * `decree09` (Decree 09/2019/NĐ-CP, Art. 12): a period ends on the 14th
//!   and starts on the 15th of the month before its first month. Month M:
//!   15th of M−1 to 14th of M (January: 15 Dec of the previous year to
//!   14 Jan); quarter: 15th of the month before the quarter to the 14th of
//!   its last month (Q1: 15 Dec – 14 Mar); H1: 15 Dec – 14 Jun; H2: 15 Jun –
//!   14 Dec; nine months: 15 Dec – 14 Sep; year: 15 Dec – 14 Dec.
//!
//! Daily and weekly periods are calendar days and ISO weeks under either
//! rule. A year's periods are those whose id names the year: the weeks of
//! ISO year 2025 start on Monday 30 Dec 2024, and under `decree09` the
//! period `2025-01` starts on 15 Dec 2024.
//!
//! # Deadlines
//!
//! Each level of the regime's `deadlines` gets one date per period
//! ([`ir::DeadlineRule`]):
//!
//! * `days_after_cutoff {days, working: false}`: the cut-off day plus
//!   `days` calendar days;
//! * `days_after_cutoff {days, working: true}`: the `days`-th working day
//!   after the cut-off day (the cut-off day itself is not counted). A
//!   working day is a Monday to Friday that is not a holiday, or a day of
//!   `working_weekends` (a make-up Saturday);
//! * `day_of_next_month {day}`: that day of the month after the cut-off's
//!   month, as written, even if it is a holiday.
//!
//! The holidays are only known for the years the library lists (those with
//! at least one holiday). A working-day count that runs through another
//! year skips its weekends only; such a deadline is marked
//! `holidays_unknown`, since it may be too early.
//!
//! Example: `transport.seaport_cargo` (monthly, `decree09`, port authorities
//! due 3 working days after the cut-off). Period `2025-01` runs from
//! 15 Dec 2024 to Tuesday 14 Jan 2025; the working days after it are
//! Wed 15, Thu 16 and Fri 17 Jan, so the deadline is 17 Jan 2025.
//! `docs/calendar.md` has more, and the formats of `calendar.json` and
//! `regc schedule`.

use crate::ir::{self, Cutoff, DeadlineRule, Frequency};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The years `calendar.json` covers.
pub const JSON_YEARS: std::ops::RangeInclusive<i32> = 2024..=2027;

/// Which days are working days: weekdays that are not holidays, plus the
/// make-up weekend days.
#[derive(Debug, Clone, Default)]
pub struct WorkingDays {
    holidays: BTreeSet<NaiveDate>,
    working_weekends: BTreeSet<NaiveDate>,
    /// The years with at least one holiday: the years the data covers.
    known_years: BTreeSet<i32>,
}

impl WorkingDays {
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        working_weekends: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        let holidays: BTreeSet<NaiveDate> = holidays.into_iter().collect();
        WorkingDays {
            known_years: holidays.iter().map(|d| d.year()).collect(),
            holidays,
            working_weekends: working_weekends.into_iter().collect(),
        }
    }

    /// The holidays and make-up days of a compiled library.
    pub fn of_library(lib: &ir::Library) -> Self {
        WorkingDays::new(
            lib.holidays.iter().map(|h| h.date),
            lib.working_weekends.iter().copied(),
        )
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.working_weekends.contains(&date) {
            return true;
        }
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        !weekend && !self.holidays.contains(&date)
    }

    /// The years the holiday data covers (those with at least one holiday).
    pub fn known_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.known_years.iter().copied()
    }

    /// Whether the holidays of every year from `from` to `to` are known.
    pub fn covers(&self, from: NaiveDate, to: NaiveDate) -> bool {
        (from.year()..=to.year()).all(|y| self.known_years.contains(&y))
    }

    /// The `n`-th working day after `date` (`date` itself not counted;
    /// `n = 0` gives `date`). `None` past the end of chrono's calendar.
    ///
    /// Whole weeks are skipped at once (five weekdays each, less the
    /// weekday holidays and plus the make-up days in them, counted in the
    /// sorted sets), so the cost grows with the holidays passed, not with
    /// `n`.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut day = date;
        let mut left = n;
        while left > 0 {
            // Leave the last two weeks to the day-by-day count below.
            let weeks = left.saturating_sub(10) / 5;
            if weeks > 0 {
                let end = day.checked_add_days(chrono::Days::new(u64::from(weeks) * 7))?;
                let working = self.working_days_in(day, end);
                if working <= u64::from(left) {
                    day = end;
                    left -= u32::try_from(working).unwrap_or(left);
                    continue;
                }
            }
            day = day.succ_opt()?;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Some(day)
    }

    /// `date` if it is a working day, else the first working day after it
    /// (a week of Tết holidays is the longest run of days off; a year
    /// without one working day would be data no calendar has).
    pub fn this_or_next_working_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut day = date;
        for _ in 0..366 {
            if self.is_working_day(day) {
                return Some(day);
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// The working days after `from` up to `to` (included), where `to` is
    /// `from` plus whole weeks.
    fn working_days_in(&self, from: NaiveDate, to: NaiveDate) -> u64 {
        let weeks = u64::try_from((to - from).num_days() / 7).unwrap_or(0);
        let range = (
            std::ops::Bound::Excluded(from),
            std::ops::Bound::Included(to),
        );
        let weekend = |d: &NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let off = self
            .holidays
            .range(range)
            .filter(|d| !weekend(d) && !self.working_weekends.contains(d))
            .count() as u64;
        let made_up = self
            .working_weekends
            .range(range)
            .filter(|d| weekend(d))
            .count() as u64;
        (weeks * 5 + made_up).saturating_sub(off)
    }
}

/// One reporting period and its deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// `2025-03`, `2025-Q1`, `2025-W11`, …
    pub id: String,
    pub start: NaiveDate,
    /// The last day of the period: its cut-off day.
    pub end: NaiveDate,
    /// One per deadline of the regime, in the regime's (flow) order.
    pub deadlines: Vec<LevelDeadline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelDeadline {
    pub level: String,
    pub date: NaiveDate,
    /// A count of working days that runs through a year with no holidays in
    /// the library's data: the date ignores that year's holidays and may be
    /// too early. Only written (as `true`) when so.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub holidays_unknown: bool,
}

/// The bounds of one period, before deadlines: (id, start, end).
pub type Bounds = (String, NaiveDate, NaiveDate);

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The last day of month `m` of year `y`.
fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    ymd(ny, nm, 1)?.pred_opt()
}

/// A span of months `first..=last` (1–12) of year `y`, cut by `cutoff`.
fn months(y: i32, first: u32, last: u32, cutoff: Cutoff) -> Option<(NaiveDate, NaiveDate)> {
    match cutoff {
        Cutoff::Calendar => Some((ymd(y, first, 1)?, month_end(y, last)?)),
        Cutoff::Decree09 => {
            let start = if first == 1 {
                ymd(y - 1, 12, 15)?
            } else {
                ymd(y, first - 1, 15)?
            };
            Some((start, ymd(y, last, 14)?))
        }
    }
}

/// The periods of `frequency` in `year`, cut by `cutoff`, in order. Empty
/// for ad hoc regimes and for years outside chrono's range.
pub fn period_bounds(frequency: Frequency, cutoff: Cutoff, year: i32) -> Vec<Bounds> {
    let spans: Vec<(String, u32, u32)> = match frequency {
        Frequency::AdHoc => return Vec::new(),
        Frequency::Daily => {
            let mut out = Vec::new();
            let (Some(first), Some(last)) = (ymd(year, 1, 1), ymd(year, 12, 31)) else {
                return out;
            };
            for day in first.iter_days().take_while(|d| *d <= last) {
                out.push((day.format("%Y-%m-%d").to_string(), day, day));
            }
            return out;
        }
        Frequency::Weekly => {
            let mut out = Vec::new();
            for week in 1..=53 {
                let Some(monday) = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon) else {
                    break;
                };
                let Some(sunday) = monday.checked_add_days(Days::new(6)) else {
                    break;
                };
                out.push((format!("{year}-W{week:02}"), monday, sunday));
            }
            return out;
        }
        Frequency::Monthly => (1..=12).map(|m| (format!("{year}-{m:02}"), m, m)).collect(),
        Frequency::Quarterly => (1..=4)
            .map(|q| (format!("{year}-Q{q}"), q * 3 - 2, q * 3))
            .collect(),
        Frequency::SixMonthly => {
            vec![(format!("{year}-H1"), 1, 6), (format!("{year}-H2"), 7, 12)]
        }
        Frequency::NineMonthly => {
            vec![(format!("{year}-9M"), 1, 9)]
        }
        Frequency::Annual => {
            vec![(format!("{year}"), 1, 12)]
        }
    };
    spans
        .iter()
        .filter_map(|(id, first, last)| {
            let (start, end) = months(year, *first, *last, cutoff)?;
            Some((id.clone(), start, end))
        })
        .collect()
}

/// The deadline of `rule` for a period whose cut-off day is `cutoff`.
/// `None` if the date does not exist (a day of next month above 28 that the
/// month lacks, or past the end of chrono's calendar).
pub fn deadline(rule: &DeadlineRule, cutoff: NaiveDate, days: &WorkingDays) -> Option<NaiveDate> {
    match *rule {
        DeadlineRule::DaysAfterCutoff {
            days: n,
            working: true,
        } => days.add_working_days(cutoff, n),
        DeadlineRule::DaysAfterCutoff {
            days: n,
            working: false,
        } => cutoff.checked_add_days(Days::new(u64::from(n))),
        DeadlineRule::DayOfNextMonth {
            day,
            next_working_day,
        } => {
            let (y, m) = if cutoff.month() == 12 {
                (cutoff.year() + 1, 1)
            } else {
                (cutoff.year(), cutoff.month() + 1)
            };
            let date = ymd(y, m, day)?;
            if next_working_day {
                days.this_or_next_working_day(date)
            } else {
                Some(date)
            }
        }
    }
}

/// The periods, in the years the holiday data covers, whose deadline under
/// `rule` falls on a day off: (period id, that day).
pub fn deadlines_on_days_off(
    frequency: Frequency,
    cutoff: Cutoff,
    rule: &DeadlineRule,
    days: &WorkingDays,
) -> Vec<(String, NaiveDate)> {
    let years: Vec<i32> = days.known_years().collect();
    years
        .iter()
        .flat_map(|&year| period_bounds(frequency, cutoff, year))
        .filter_map(|(id, _, end)| {
            let date = deadline(rule, end, days)?;
            (years.contains(&date.year()) && !days.is_working_day(date)).then_some((id, date))
        })
        .collect()
}

/// Every period of `regime` in `year`, with the deadline of each level. A
/// deadline whose date does not exist is left out of its period.
pub fn periods(regime: &ir::Regime, year: i32, days: &WorkingDays) -> Vec<Period> {
    period_bounds(regime.frequency, regime.cutoff, year)
        .into_iter()
        .map(|(id, start, end)| Period {
            id,
            start,
            end,
            deadlines: regime
                .deadlines
                .iter()
                .filter_map(|d| {
                    let date = deadline(&d.rule, end, days)?;
                    let counts_working_days = matches!(
                        d.rule,
                        DeadlineRule::DaysAfterCutoff { working: true, .. }
                            | DeadlineRule::DayOfNextMonth {
                                next_working_day: true,
                                ..
                            }
                    );
                    Some(LevelDeadline {
                        level: d.level.clone(),
                        date,
                        holidays_unknown: counts_working_days && !days.covers(end, date),
                    })
                })
                .collect(),
        })
        .collect()
}

/// The coarser period types a regime's data roll up into, finest first
/// (its own frequency is not listed). A period belongs to the period of a
/// coarser type that holds its cut-off day ([`rollup_of`]); nine months
/// are a roll-up target only where they are a union of whole periods.
pub fn rollup_frequencies(base: Frequency) -> &'static [Frequency] {
    use Frequency::*;
    match base {
        Daily => &[Weekly, Monthly, Quarterly, SixMonthly, NineMonthly, Annual],
        Weekly => &[Monthly, Quarterly, SixMonthly, NineMonthly, Annual],
        Monthly => &[Quarterly, SixMonthly, NineMonthly, Annual],
        Quarterly => &[SixMonthly, NineMonthly, Annual],
        SixMonthly => &[Annual],
        NineMonthly | Annual | AdHoc => &[],
    }
}

/// The period of `frequency` (cut by `cutoff`) that holds `day`, if any
/// (a day after 30 September is in no nine-month period).
pub fn rollup_of(frequency: Frequency, cutoff: Cutoff, day: NaiveDate) -> Option<Bounds> {
    // The periods named by the day's year hold it, except at the edges:
    // ISO weeks and decree09 periods reach into the neighbouring years.
    let y = day.year();
    [y, y + 1, y - 1].into_iter().find_map(|year| {
        period_bounds(frequency, cutoff, year)
            .into_iter()
            .find(|(_, start, end)| *start <= day && day <= *end)
    })
}

/// What `calendar.json` holds for one regime.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarFile {
    pub regime: String,
    pub frequency: Frequency,
    pub cutoff: Cutoff,
    /// The deadline rules, level by level, as in the IR.
    pub deadline_rules: Vec<ir::Deadline>,
    pub years: Vec<i32>,
    /// The years whose holidays the library lists. A working-day deadline
    /// counted through another year is marked `holidays_unknown`.
    pub holiday_years: Vec<i32>,
    /// The periods of every year, in order of their start.
    pub periods: Vec<Period>,
}

/// The calendar of `regime` over `years`.
pub fn calendar_file(
    regime: &ir::Regime,
    years: impl IntoIterator<Item = i32>,
    days: &WorkingDays,
) -> CalendarFile {
    let years: Vec<i32> = years.into_iter().collect();
    let mut periods: Vec<Period> = years
        .iter()
        .flat_map(|y| self::periods(regime, *y, days))
        .collect();
    periods.sort_by(|a, b| (a.start, a.end, &a.id).cmp(&(b.start, b.end, &b.id)));
    CalendarFile {
        regime: regime.code.clone(),
        frequency: regime.frequency,
        cutoff: regime.cutoff,
        deadline_rules: regime.deadlines.clone(),
        years,
        holiday_years: days.known_years().collect(),
        periods,
    }
}

fn short_weekday(d: NaiveDate) -> &'static str {
    match d.weekday() {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

/// Rows of cells as plain text columns, padded by character count (so that
/// Vietnamese text lines up), two spaces apart, without trailing blanks.
pub fn text_table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let columns = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r.as_ref()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .as_ref()
            .iter()
            .zip(&widths)
            .map(|(cell, w)| {
                format!(
                    "{cell}{}",
                    " ".repeat(w.saturating_sub(cell.chars().count()))
                )
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A plain text table: period, start, end (the cut-off), then one column
/// per level with its deadline and weekday (followed by `?` when the count
/// ran through a year without holiday data), and a note on such dates.
pub fn render_table(regime: &ir::Regime, periods: &[Period]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["period".to_string(), "start".into(), "end (cut-off)".into()];
    head.extend(regime.deadlines.iter().map(|d| d.level.clone()));
    rows.push(head);
    for p in periods {
        let mut row = vec![p.id.clone(), p.start.to_string(), p.end.to_string()];
        for d in &regime.deadlines {
            row.push(
                p.deadlines
                    .iter()
                    .find(|x| x.level == d.level)
                    .map(|x| {
                        let mark = if x.holidays_unknown { " ?" } else { "" };
                        format!("{} {}{mark}", x.date, short_weekday(x.date))
                    })
                    .unwrap_or_else(|| "-".into()),
            );
        }
        rows.push(row);
    }
    let mut out = text_table(&rows);
    if periods
        .iter()
        .any(|p| p.deadlines.iter().any(|d| d.holidays_unknown))
    {
        out.push_str(
            "? counted through a year without holidays in the library's data: may be too early\n",
        );
    }
    out
}

/// The fixed `DTSTAMP` of every event, so that the output is deterministic.
pub const ICS_DTSTAMP: &str = "20240101T000000Z";

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets (RFC 5545 §3.1) without
/// splitting a character, ended by CRLF.
fn ics_line(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// An iCalendar (RFC 5545) file: one all-day event per period and level
/// deadline. Lines end with CRLF; `DTSTAMP` is [`ICS_DTSTAMP`].
pub fn render_ics(regime: &ir::Regime, periods: &[Period]) -> String {
    let mut out = String::new();
    ics_line(&mut out, "BEGIN:VCALENDAR");
    ics_line(&mut out, "VERSION:2.0");
    ics_line(
        &mut out,
        &format!("PRODID:-//regc//regc {}//EN", env!("CARGO_PKG_VERSION")),
    );
    ics_line(&mut out, "CALSCALE:GREGORIAN");
    ics_line(
        &mut out,
        &format!(
            "X-WR-CALNAME:{}",
            ics_text(&format!("{} deadlines", regime.code))
        ),
    );
    let date = |d: NaiveDate| d.format("%Y%m%d").to_string();
    for p in periods {
        for d in &p.deadlines {
            ics_line(&mut out, "BEGIN:VEVENT");
            ics_line(
                &mut out,
                &format!(
                    "UID:{}",
                    ics_text(&format!("{}.{}.{}@regc", regime.code, p.id, d.level))
                ),
            );
            ics_line(&mut out, &format!("DTSTAMP:{ICS_DTSTAMP}"));
            ics_line(&mut out, &format!("DTSTART;VALUE=DATE:{}", date(d.date)));
            if let Some(next) = d.date.succ_opt() {
                ics_line(&mut out, &format!("DTEND;VALUE=DATE:{}", date(next)));
            }
            ics_line(
                &mut out,
                &format!(
                    "SUMMARY:{}",
                    ics_text(&format!("{} {}: {} deadline", regime.code, p.id, d.level))
                ),
            );
            let mut desc = String::new();
            let _ = write!(
                desc,
                "Period {} ({} to {}; cut-off {}). Deadline of level {}.",
                p.id, p.start, p.end, p.end, d.level
            );
            if d.holidays_unknown {
                desc.push_str(
                    " Counted without that year's holidays (not in the data): may be too early.",
                );
            }
            ics_line(&mut out, &format!("DESCRIPTION:{}", ics_text(&desc)));
            ics_line(&mut out, "TRANSP:TRANSPARENT");
            ics_line(&mut out, "END:VEVENT");
        }
    }
    ics_line(&mut out, "END:VCALENDAR");
    out
}
