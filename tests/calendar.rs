//! The reporting calendar against hand-computed dates.
//!
//! Every expected date below was counted by hand on a printed calendar with
//! the holidays of `regimes/data/holidays.yaml` (the comments show the
//! count); none is computed by the code under test. Holidays used:
//! 2024: 1/1, 8–14/2 (Tết), 18/4, 29/4, 30/4, 1/5, 2/9, 3/9; make-up
//! Saturday 4/5/2024. 2025: 1/1, 25/1–2/2 (Tết), 7/4, 30/4, 1/5, 2/5, 1/9,
//! 2/9; make-up Saturday 26/4/2025. 2026: 1/1, 2/1; make-up Saturday
//! 10/1/2026.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use regc::calendar::{self, Period, WorkingDays};
use regc::ir::{self, Cutoff, Deadline, DeadlineRule, Frequency, RegimeKind};
use std::process::Command;
use std::sync::OnceLock;

fn library() -> &'static ir::Library {
    static LIB: OnceLock<ir::Library> = OnceLock::new();
    LIB.get_or_init(|| {
        let sources = regc::source::load_library(&common::repo().join("regimes"))
            .expect("regimes/ is readable");
        let c = regc::compile(&sources);
        assert!(!c.has_errors(), "the library compiles");
        c.library
    })
}

fn days() -> WorkingDays {
    WorkingDays::of_library(library())
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn working(level: &str, n: u32) -> Deadline {
    Deadline {
        level: level.into(),
        rule: DeadlineRule::DaysAfterCutoff {
            days: n,
            working: true,
        },
    }
}

fn calendar_days(level: &str, n: u32) -> Deadline {
    Deadline {
        level: level.into(),
        rule: DeadlineRule::DaysAfterCutoff {
            days: n,
            working: false,
        },
    }
}

fn next_month(level: &str, day: u32) -> Deadline {
    Deadline {
        level: level.into(),
        rule: DeadlineRule::DayOfNextMonth {
            day,
            next_working_day: false,
        },
    }
}

/// A regime of the library with its calendar header replaced.
fn regime(frequency: Frequency, cutoff: Cutoff, deadlines: Vec<Deadline>) -> ir::Regime {
    let mut r = library()
        .regimes
        .iter()
        .find(|r| r.code == "transport.seaport_cargo")
        .unwrap()
        .clone();
    r.frequency = frequency;
    r.cutoff = cutoff;
    r.kind = if frequency == Frequency::AdHoc {
        RegimeKind::AdHoc
    } else {
        RegimeKind::Periodic
    };
    r.deadlines = deadlines;
    r
}

fn period(r: &ir::Regime, year: i32, id: &str) -> Period {
    let all = calendar::periods(r, year, &days());
    all.iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| {
            panic!(
                "no period {id} in {:?}",
                all.iter().map(|p| &p.id).collect::<Vec<_>>()
            )
        })
        .clone()
}

/// (id, start, end) of a period, and its deadline dates in level order.
fn check(p: &Period, start: &str, end: &str, deadlines: &[&str]) {
    assert_eq!((p.start, p.end), (d(start), d(end)), "bounds of {}", p.id);
    let got: Vec<NaiveDate> = p.deadlines.iter().map(|x| x.date).collect();
    let want: Vec<NaiveDate> = deadlines.iter().map(|s| d(s)).collect();
    assert_eq!(got, want, "deadlines of {}", p.id);
}

fn ids(r: &ir::Regime, year: i32) -> Vec<String> {
    calendar::periods(r, year, &days())
        .into_iter()
        .map(|p| p.id)
        .collect()
}

#[test]
fn the_library_has_the_holidays_the_cases_assume() {
    let days = days();
    for h in [
        "2025-01-25",
        "2025-01-31",
        "2025-02-02",
        "2025-04-07",
        "2025-05-02",
        "2026-01-02",
    ] {
        assert!(!days.is_working_day(d(h)), "{h} is a holiday");
    }
    for w in ["2024-05-04", "2025-04-26", "2026-01-10"] {
        assert!(days.is_working_day(d(w)), "{w} is a make-up Saturday");
    }
    // An ordinary Saturday and Sunday; an ordinary Monday.
    assert!(!days.is_working_day(d("2025-03-15")));
    assert!(!days.is_working_day(d("2025-03-16")));
    assert!(days.is_working_day(d("2025-03-17")));
}

#[test]
fn decree09_january_deadline_counts_across_tet_2025() {
    let r = regime(
        Frequency::Monthly,
        Cutoff::Decree09,
        vec![
            working("province", 10),
            calendar_days("ministry", 14),
            next_month("government", 20),
        ],
    );
    // 2025-01 runs 15 Dec 2024 – Tue 14 Jan 2025.
    // 10 working days: Wed 15 (1), Thu 16, Fri 17 (3), Mon 20 … Fri 24 (8);
    // Sat 25 Jan – Sun 2 Feb is Tết; Mon 3 Feb (9), Tue 4 Feb (10).
    // 14 calendar days: 28 Jan, inside Tết (calendar days are not moved).
    // Day 20 of the month after January: 20 Feb.
    check(
        &period(&r, 2025, "2025-01"),
        "2024-12-15",
        "2025-01-14",
        &["2025-02-04", "2025-01-28", "2025-02-20"],
    );
    // 2025-02 runs 15 Jan – Fri 14 Feb; the Tết days lie inside the period.
    // 10 working days: Mon 17 … Fri 21 (5), Mon 24 … Fri 28 (10).
    check(
        &period(&r, 2025, "2025-02"),
        "2025-01-15",
        "2025-02-14",
        &["2025-02-28", "2025-02-28", "2025-03-20"],
    );
}

#[test]
fn calendar_month_ends_and_new_year() {
    let r = regime(
        Frequency::Monthly,
        Cutoff::Calendar,
        vec![working("province", 3), next_month("ministry", 20)],
    );
    // January 2025 ends Fri 31 Jan, inside Tết (25 Jan – 2 Feb):
    // Sat 1, Sun 2 Feb are holidays; Mon 3 (1), Tue 4 (2), Wed 5 Feb (3).
    check(
        &period(&r, 2025, "2025-01"),
        "2025-01-01",
        "2025-01-31",
        &["2025-02-05", "2025-02-20"],
    );
    // December 2024 ends Tue 31 Dec; Wed 1 Jan 2025 is Tết Dương lịch:
    // Thu 2 (1), Fri 3 (2), Mon 6 Jan (3). Day 20 of January 2025.
    check(
        &period(&r, 2024, "2024-12"),
        "2024-12-01",
        "2024-12-31",
        &["2025-01-06", "2025-01-20"],
    );
    // August 2025 ends Sun 31 Aug; Mon 1 and Tue 2 Sep are Quốc khánh:
    // Wed 3 (1), Thu 4 (2), Fri 5 Sep (3).
    check(
        &period(&r, 2025, "2025-08"),
        "2025-08-01",
        "2025-08-31",
        &["2025-09-05", "2025-09-20"],
    );
    // April and a 30-day month.
    check(
        &period(&r, 2025, "2025-04"),
        "2025-04-01",
        "2025-04-30",
        // Wed 30 Apr, Thu 1, Fri 2 May are holidays: Mon 5 (1), Tue 6 (2),
        // Wed 7 May (3).
        &["2025-05-07", "2025-05-20"],
    );
}

#[test]
fn leap_years() {
    let r = regime(
        Frequency::Monthly,
        Cutoff::Calendar,
        vec![working("province", 3)],
    );
    // Thu 29 Feb 2024: Fri 1 Mar (1), Mon 4 (2), Tue 5 Mar (3).
    check(
        &period(&r, 2024, "2024-02"),
        "2024-02-01",
        "2024-02-29",
        &["2024-03-05"],
    );
    // Fri 28 Feb 2025: Mon 3 (1), Tue 4 (2), Wed 5 Mar (3).
    check(
        &period(&r, 2025, "2025-02"),
        "2025-02-01",
        "2025-02-28",
        &["2025-03-05"],
    );
    // Under Decree 09 February 2024 ends Wed 14 Feb, the last day of Tết
    // Giáp Thìn (8–14 Feb): Thu 15 (1), Fri 16 (2), Mon 19 Feb (3); March
    // starts on 15 Feb whatever the length of February.
    let r = regime(
        Frequency::Monthly,
        Cutoff::Decree09,
        vec![working("province", 3)],
    );
    check(
        &period(&r, 2024, "2024-02"),
        "2024-01-15",
        "2024-02-14",
        &["2024-02-19"],
    );
    check(
        &period(&r, 2024, "2024-03"),
        "2024-02-15",
        "2024-03-14",
        &["2024-03-19"],
    );
    // Daily periods: 366 in 2024 (with 29 Feb), 365 in 2025.
    let daily = regime(
        Frequency::Daily,
        Cutoff::Calendar,
        vec![working("province", 1)],
    );
    let y2024 = ids(&daily, 2024);
    assert_eq!(y2024.len(), 366);
    assert!(y2024.contains(&"2024-02-29".to_string()));
    assert_eq!(y2024.first().unwrap(), "2024-01-01");
    assert_eq!(y2024.last().unwrap(), "2024-12-31");
    let y2025 = ids(&daily, 2025);
    assert_eq!(y2025.len(), 365);
    assert!(!y2025.contains(&"2025-02-29".to_string()));
}

#[test]
fn make_up_saturdays_are_working_days() {
    let r = regime(
        Frequency::Monthly,
        Cutoff::Decree09,
        vec![working("province", 10)],
    );
    // 2025-04 ends Mon 14 Apr: Tue 15 … Fri 18 (4), Mon 21 … Fri 25 (9),
    // Sat 26 Apr, the make-up day for Fri 2 May (10).
    check(
        &period(&r, 2025, "2025-04"),
        "2025-03-15",
        "2025-04-14",
        &["2025-04-26"],
    );
    let daily = regime(
        Frequency::Daily,
        Cutoff::Decree09,
        vec![working("province", 1)],
    );
    // Fri 25 Apr 2025: the next working day is Saturday 26 Apr.
    check(
        &period(&daily, 2025, "2025-04-25"),
        "2025-04-25",
        "2025-04-25",
        &["2025-04-26"],
    );
    // Tue 29 Apr 2025: 30 Apr, 1 May, 2 May are holidays, 3–4 May a
    // weekend: Mon 5 May.
    check(
        &period(&daily, 2025, "2025-04-29"),
        "2025-04-29",
        "2025-04-29",
        &["2025-05-05"],
    );
    // Fri 3 May 2024: Saturday 4 May 2024 was worked for Mon 29 Apr.
    check(
        &period(&daily, 2024, "2024-05-03"),
        "2024-05-03",
        "2024-05-03",
        &["2024-05-04"],
    );
    // Calendar year 2025 ends Wed 31 Dec; 1 and 2 Jan 2026 are holidays,
    // 3–4 Jan a weekend: Mon 5 (1), Tue 6 (2), Wed 7 (3), Thu 8 (4),
    // Fri 9 (5), Sat 10 Jan 2026, the make-up day (6).
    let annual = regime(
        Frequency::Annual,
        Cutoff::Calendar,
        vec![
            working("province", 3),
            working("ministry", 5),
            working("government", 6),
        ],
    );
    check(
        &period(&annual, 2025, "2025"),
        "2025-01-01",
        "2025-12-31",
        &["2026-01-07", "2026-01-09", "2026-01-10"],
    );
}

#[test]
fn quarters_under_both_cutoffs() {
    let deadlines = vec![working("province", 5), next_month("ministry", 10)];
    let cal = regime(Frequency::Quarterly, Cutoff::Calendar, deadlines.clone());
    assert_eq!(
        ids(&cal, 2025),
        ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    );
    // Q1 ends Mon 31 Mar 2025: Tue 1 … Fri 4 Apr (4), Mon 7 Apr is Giỗ Tổ,
    // Tue 8 Apr (5). Day 10 of April.
    check(
        &period(&cal, 2025, "2025-Q1"),
        "2025-01-01",
        "2025-03-31",
        &["2025-04-08", "2025-04-10"],
    );
    check(
        &period(&cal, 2025, "2025-Q4"),
        "2025-10-01",
        "2025-12-31",
        &["2026-01-09", "2026-01-10"],
    );
    let d09 = regime(Frequency::Quarterly, Cutoff::Decree09, deadlines);
    // Q1: 15 Dec 2024 – Fri 14 Mar 2025: Mon 17 … Fri 21 Mar (5).
    check(
        &period(&d09, 2025, "2025-Q1"),
        "2024-12-15",
        "2025-03-14",
        &["2025-03-21", "2025-04-10"],
    );
    // Q2: 15 Mar – Sat 14 Jun: Mon 16 … Fri 20 Jun (5).
    check(
        &period(&d09, 2025, "2025-Q2"),
        "2025-03-15",
        "2025-06-14",
        &["2025-06-20", "2025-07-10"],
    );
    // Q4: 15 Sep – Sun 14 Dec: Mon 15 … Fri 19 Dec (5); day 10 of January.
    check(
        &period(&d09, 2025, "2025-Q4"),
        "2025-09-15",
        "2025-12-14",
        &["2025-12-19", "2026-01-10"],
    );
}

#[test]
fn six_monthly_periods_under_both_cutoffs() {
    let deadlines = vec![working("province", 5), next_month("ministry", 20)];
    let d09 = regime(Frequency::SixMonthly, Cutoff::Decree09, deadlines.clone());
    assert_eq!(ids(&d09, 2025), ["2025-H1", "2025-H2"]);
    // H1: 15 Dec 2024 – Sat 14 Jun 2025: Mon 16 … Fri 20 Jun (5).
    check(
        &period(&d09, 2025, "2025-H1"),
        "2024-12-15",
        "2025-06-14",
        &["2025-06-20", "2025-07-20"],
    );
    // H2: 15 Jun – Sun 14 Dec 2025: Mon 15 … Fri 19 Dec (5).
    check(
        &period(&d09, 2025, "2025-H2"),
        "2025-06-15",
        "2025-12-14",
        &["2025-12-19", "2026-01-20"],
    );
    let cal = regime(Frequency::SixMonthly, Cutoff::Calendar, deadlines);
    // H1 ends Mon 30 Jun 2025: Tue 1 … Fri 4 Jul (4), Mon 7 Jul (5).
    check(
        &period(&cal, 2025, "2025-H1"),
        "2025-01-01",
        "2025-06-30",
        &["2025-07-07", "2025-07-20"],
    );
    // H2 ends Wed 31 Dec 2025: 1–2 Jan 2026 holidays: Mon 5 … Fri 9 Jan (5).
    check(
        &period(&cal, 2025, "2025-H2"),
        "2025-07-01",
        "2025-12-31",
        &["2026-01-09", "2026-01-20"],
    );
}

#[test]
fn nine_monthly_and_annual_periods_under_both_cutoffs() {
    let deadlines = vec![working("province", 10), next_month("ministry", 20)];
    let d09 = regime(Frequency::NineMonthly, Cutoff::Decree09, deadlines.clone());
    assert_eq!(ids(&d09, 2025), ["2025-9M"]);
    // 15 Dec 2024 – Sun 14 Sep 2025: Mon 15 … Fri 19 (5), Mon 22 … Fri 26 Sep (10).
    check(
        &period(&d09, 2025, "2025-9M"),
        "2024-12-15",
        "2025-09-14",
        &["2025-09-26", "2025-10-20"],
    );
    let cal = regime(Frequency::NineMonthly, Cutoff::Calendar, deadlines.clone());
    // Tue 30 Sep 2025: Wed 1 … Fri 3 (3), Mon 6 … Fri 10 (8), Mon 13, Tue 14 Oct (10).
    check(
        &period(&cal, 2025, "2025-9M"),
        "2025-01-01",
        "2025-09-30",
        &["2025-10-14", "2025-10-20"],
    );
    // Nine months of 2024 under Decree 09: Sat 14 Sep 2024: Mon 16 … Fri 20 (5),
    // Mon 23 … Fri 27 Sep (10).
    check(
        &period(&d09, 2024, "2024-9M"),
        "2023-12-15",
        "2024-09-14",
        &["2024-09-27", "2024-10-20"],
    );
    let annual = regime(Frequency::Annual, Cutoff::Decree09, deadlines);
    assert_eq!(ids(&annual, 2025), ["2025"]);
    // 15 Dec 2024 – Sun 14 Dec 2025: Mon 15 … Fri 19 (5), Mon 22 … Fri 26 Dec (10).
    check(
        &period(&annual, 2025, "2025"),
        "2024-12-15",
        "2025-12-14",
        &["2025-12-26", "2026-01-20"],
    );
}

#[test]
fn daily_regime() {
    let r = regime(
        Frequency::Daily,
        Cutoff::Decree09,
        vec![working("province", 1), calendar_days("ministry", 1)],
    );
    // Fri 14 Mar 2025: next working day Mon 17 Mar; next calendar day Sat 15.
    check(
        &period(&r, 2025, "2025-03-14"),
        "2025-03-14",
        "2025-03-14",
        &["2025-03-17", "2025-03-15"],
    );
    // Fri 24 Jan 2025, the eve of Tết: Mon 3 Feb.
    check(
        &period(&r, 2025, "2025-01-24"),
        "2025-01-24",
        "2025-01-24",
        &["2025-02-03", "2025-01-25"],
    );
}

#[test]
fn weekly_regime_uses_iso_weeks() {
    let r = regime(
        Frequency::Weekly,
        Cutoff::Decree09,
        vec![working("province", 1), working("ministry", 3)],
    );
    // ISO week 1 of 2025 runs Mon 30 Dec 2024 – Sun 5 Jan 2025.
    // Mon 6 Jan (1), Tue 7, Wed 8 Jan (3).
    check(
        &period(&r, 2025, "2025-W01"),
        "2024-12-30",
        "2025-01-05",
        &["2025-01-06", "2025-01-08"],
    );
    // Week 11: Mon 10 – Sun 16 Mar 2025.
    check(
        &period(&r, 2025, "2025-W11"),
        "2025-03-10",
        "2025-03-16",
        &["2025-03-17", "2025-03-19"],
    );
    // Week 4 ends Sun 26 Jan, in Tết: Mon 3 (1), Tue 4, Wed 5 Feb (3).
    check(
        &period(&r, 2025, "2025-W04"),
        "2025-01-20",
        "2025-01-26",
        &["2025-02-03", "2025-02-05"],
    );
    // 2024 has 52 ISO weeks, starting Mon 1 Jan 2024; 2026 has 53, the last
    // running Mon 28 Dec 2026 – Sun 3 Jan 2027.
    let w2024 = ids(&r, 2024);
    assert_eq!(w2024.len(), 52);
    check(
        &period(&r, 2024, "2024-W01"),
        "2024-01-01",
        "2024-01-07",
        &["2024-01-08", "2024-01-10"],
    );
    assert_eq!(ids(&r, 2025).len(), 52);
    assert_eq!(ids(&r, 2026).len(), 53);
    // Mon 4 Jan 2027 (1), Tue 5, Wed 6 Jan (3).
    check(
        &period(&r, 2026, "2026-W53"),
        "2026-12-28",
        "2027-01-03",
        &["2027-01-04", "2027-01-06"],
    );
}

#[test]
fn day_of_next_month() {
    let r = regime(
        Frequency::Monthly,
        Cutoff::Decree09,
        vec![next_month("province", 20), next_month("ministry", 28)],
    );
    check(
        &period(&r, 2025, "2025-01"),
        "2024-12-15",
        "2025-01-14",
        &["2025-02-20", "2025-02-28"],
    );
    // December rolls over into January of the next year.
    check(
        &period(&r, 2025, "2025-12"),
        "2025-11-15",
        "2025-12-14",
        &["2026-01-20", "2026-01-28"],
    );
    // Day 20 of April 2025 is a Sunday: the date is kept as written.
    check(
        &period(&r, 2025, "2025-03"),
        "2025-02-15",
        "2025-03-14",
        &["2025-04-20", "2025-04-28"],
    );
    // Under the calendar cut-off, December 2024 → 28 Jan 2025, inside Tết.
    let cal = regime(
        Frequency::Monthly,
        Cutoff::Calendar,
        vec![next_month("province", 28)],
    );
    check(
        &period(&cal, 2024, "2024-12"),
        "2024-12-01",
        "2024-12-31",
        &["2025-01-28"],
    );
}

#[test]
fn monthly_periods_of_a_year_are_contiguous() {
    for cutoff in [Cutoff::Decree09, Cutoff::Calendar] {
        let r = regime(Frequency::Monthly, cutoff, vec![working("province", 3)]);
        let ps = calendar::periods(&r, 2025, &days());
        assert_eq!(ps.len(), 12);
        for w in ps.windows(2) {
            assert_eq!(
                w[0].end.succ_opt(),
                Some(w[1].start),
                "{cutoff:?} {}",
                w[0].id
            );
        }
    }
}

#[test]
fn ad_hoc_regimes_have_no_periods() {
    let r = regime(Frequency::AdHoc, Cutoff::Decree09, vec![]);
    assert!(calendar::periods(&r, 2025, &days()).is_empty());
    assert!(
        calendar::calendar_file(&r, calendar::JSON_YEARS, &days())
            .periods
            .is_empty()
    );
}

#[test]
fn the_seaport_calendar_file() {
    let lib = library();
    let r = lib
        .regimes
        .iter()
        .find(|r| r.code == "transport.seaport_cargo")
        .unwrap();
    let f = calendar::calendar_file(r, calendar::JSON_YEARS, &days());
    assert_eq!(f.years, [2024, 2025, 2026, 2027]);
    assert_eq!(f.periods.len(), 48);
    assert!(f.periods.windows(2).all(|w| w[0].start < w[1].start));
    let json = serde_json::to_value(&f).unwrap();
    let jan = &json["periods"][12];
    assert_eq!(jan["id"], "2025-01");
    assert_eq!(jan["start"], "2024-12-15");
    assert_eq!(jan["end"], "2025-01-14");
    // 3 working days after Tue 14 Jan 2025: Wed 15, Thu 16, Fri 17.
    assert_eq!(jan["deadlines"][0]["level"], "port_authority");
    assert_eq!(jan["deadlines"][0]["date"], "2025-01-17");
    // The file in generated/ is what a build writes.
    let on_disk = std::fs::read_to_string(
        common::repo().join("generated/transport.seaport_cargo/calendar.json"),
    )
    .unwrap();
    let mut expected = serde_json::to_string_pretty(&f).unwrap();
    expected.push('\n');
    assert_eq!(on_disk, expected);
}

#[test]
fn ics_is_a_valid_icalendar() {
    let lib = library();
    let r = lib
        .regimes
        .iter()
        .find(|r| r.code == "information.postal_services")
        .unwrap();
    let ps = calendar::periods(r, 2025, &days());
    let ics = calendar::render_ics(r, &ps);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    // Every line ends with CRLF and has at most 75 octets.
    let body = ics.strip_suffix("\r\n").unwrap();
    for line in body.split("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        assert!(line.len() <= 75, "{line:?}");
    }
    let events = ps.len() * r.deadlines.len();
    assert_eq!(ics.matches("BEGIN:VEVENT\r\n").count(), events);
    assert_eq!(ics.matches("END:VEVENT\r\n").count(), events);
    assert_eq!(ics.matches("DTSTAMP:20240101T000000Z\r\n").count(), events);
    // 2025-H1 (decree09) ends Sat 14 Jun; province 5 working days: Fri 20 Jun.
    assert!(ics.contains(
        "UID:information.postal_services.2025-H1.province@regc\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20250620\r\n"
    ));
    assert!(ics.contains("SUMMARY:information.postal_services 2025-H1: province deadline\r\n"));
    // UIDs are unique.
    let mut uids: Vec<&str> = body
        .split("\r\n")
        .filter(|l| l.starts_with("UID:"))
        .collect();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(uids.len(), events);
}

fn regc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_regc"))
        .env("REGC_LANG", "en")
        .args(args)
        .current_dir(common::repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("regc runs")
}

#[test]
fn schedule_table_of_the_seaport_regime() {
    let o = regc(&[
        "schedule",
        "transport.seaport_cargo",
        "--year",
        "2025",
        "--format",
        "table",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    insta::assert_snapshot!(String::from_utf8(o.stdout).unwrap());
}

#[test]
fn schedule_json_and_ics_formats() {
    let o = regc(&[
        "schedule",
        "health.communicable_disease",
        "--year",
        "2025",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["years"], serde_json::json!([2025]));
    assert_eq!(v["periods"][0]["id"], "2025-W01");
    assert_eq!(v["periods"][0]["start"], "2024-12-30");
    let o = regc(&[
        "schedule",
        "transport.seaport_cargo",
        "--year",
        "2025",
        "--format",
        "ics",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
    // Without --year the current year is used: it runs and prints a table.
    let o = regc(&["schedule", "transport.seaport_cargo"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("period"));
}

#[test]
fn schedule_of_an_unknown_regime_suggests_one() {
    let o = regc(&["schedule", "transport.seaport_carg", "--year", "2025"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("did you mean `transport.seaport_cargo`?"),
        "{err}"
    );
}

#[test]
fn counts_through_a_year_without_holiday_data_are_marked() {
    let r = regime(
        Frequency::Annual,
        Cutoff::Calendar,
        vec![
            working("province", 10),
            calendar_days("ministry", 10),
            next_month("government", 20),
        ],
    );
    // 2028 has no holidays in the data. Fri 31 Dec 2027: Mon 3 … Fri 7 (5),
    // Mon 10 … Fri 14 Jan 2028 (10), counting weekends only (1 Jan 2028 is
    // a Saturday, which the law makes up on Monday 3 Jan: one day early).
    let p = period(&r, 2027, "2027");
    check(
        &p,
        "2027-01-01",
        "2027-12-31",
        &["2028-01-14", "2028-01-10", "2028-01-20"],
    );
    let unknown: Vec<bool> = p.deadlines.iter().map(|d| d.holidays_unknown).collect();
    assert_eq!(unknown, [true, false, false]);
    // 2026 counts into 2027, which the data covers (computed dates).
    // Thu 31 Dec 2026; Fri 1 Jan 2027 is a holiday: Mon 4 … Fri 8 (5),
    // Mon 11 … Fri 15 Jan 2027 (10).
    let p = period(&r, 2026, "2026");
    check(
        &p,
        "2026-01-01",
        "2026-12-31",
        &["2027-01-15", "2027-01-10", "2027-01-20"],
    );
    assert!(p.deadlines.iter().all(|d| !d.holidays_unknown));
    let f = calendar::calendar_file(&r, calendar::JSON_YEARS, &days());
    assert_eq!(f.holiday_years, [2024, 2025, 2026, 2027]);
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["periods"][3]["deadlines"][0]["holidays_unknown"], true);
    // The flag is only written when set.
    assert!(
        json["periods"][3]["deadlines"][1]
            .get("holidays_unknown")
            .is_none()
    );
}

#[test]
fn every_frequency_and_cutoff_tiles_its_years() {
    let days = days();
    let all = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::SixMonthly,
        Frequency::NineMonthly,
        Frequency::Annual,
    ];
    for frequency in all {
        for cutoff in [Cutoff::Decree09, Cutoff::Calendar] {
            let r = regime(
                frequency,
                cutoff,
                vec![working("province", 1), working("ministry", 7)],
            );
            let mut previous: Option<Period> = None;
            for year in 2024..=2027 {
                let ps = calendar::periods(&r, year, &days);
                assert!(!ps.is_empty(), "{frequency:?} {cutoff:?} {year}");
                for p in ps {
                    assert!(p.start <= p.end, "{}", p.id);
                    assert!(p.id.starts_with(&year.to_string()), "{}", p.id);
                    // Consecutive periods touch, except nine months (one a
                    // year).
                    if let Some(prev) = &previous
                        && frequency != Frequency::NineMonthly
                    {
                        assert_eq!(prev.end.succ_opt(), Some(p.start), "{} → {}", prev.id, p.id);
                    }
                    for dl in &p.deadlines {
                        assert!(dl.date > p.end, "{} {}", p.id, dl.level);
                        assert!(
                            days.is_working_day(dl.date),
                            "{} {}: {}",
                            p.id,
                            dl.level,
                            dl.date
                        );
                    }
                    assert!(p.deadlines[0].date < p.deadlines[1].date);
                    previous = Some(p);
                }
            }
        }
    }
}

#[test]
fn schedule_of_an_ad_hoc_regime_says_it_has_no_periods() {
    let o = regc(&[
        "schedule",
        "natural_resources.environmental_incidents",
        "--year",
        "2025",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ad hoc"));
    let o = regc(&[
        "schedule",
        "natural_resources.environmental_incidents",
        "--year",
        "2025",
        "--format",
        "ics",
    ]);
    let ics = String::from_utf8(o.stdout).unwrap();
    assert!(!ics.contains("BEGIN:VEVENT"));
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
}

/// `day N of next month or next working day` moves a deadline that falls
/// on a weekend or holiday to the next working day; without it the day
/// stays where it falls (and `regc check` warns, E0331).
#[test]
fn a_fixed_day_moves_off_days_only_when_the_regime_says_so() {
    let fixed = |day, next_working_day| Deadline {
        level: "port_authority".into(),
        rule: DeadlineRule::DayOfNextMonth {
            day,
            next_working_day,
        },
    };
    let moved = regime(Frequency::Monthly, Cutoff::Calendar, vec![fixed(20, true)]);
    let kept = regime(Frequency::Monthly, Cutoff::Calendar, vec![fixed(20, false)]);
    // 20 April 2025 is a Sunday.
    check(
        &period(&moved, 2025, "2025-03"),
        "2025-03-01",
        "2025-03-31",
        &["2025-04-21"],
    );
    check(
        &period(&kept, 2025, "2025-03"),
        "2025-03-01",
        "2025-03-31",
        &["2025-04-20"],
    );
    // A working day stays.
    check(
        &period(&moved, 2025, "2025-05"),
        "2025-05-01",
        "2025-05-31",
        &["2025-06-20"],
    );
    // 28 January 2025 is in the Tết holidays (25 January to 2 February).
    let tet = regime(Frequency::Monthly, Cutoff::Calendar, vec![fixed(28, true)]);
    check(
        &period(&tet, 2024, "2024-12"),
        "2024-12-01",
        "2024-12-31",
        &["2025-02-03"],
    );
    let off = calendar::deadlines_on_days_off(
        Frequency::Monthly,
        Cutoff::Calendar,
        &kept.deadlines[0].rule,
        &days(),
    );
    assert!(
        off.contains(&("2025-03".to_string(), d("2025-04-20"))),
        "{off:?}"
    );
    assert!(off.iter().all(|(_, day)| !days().is_working_day(*day)));
    assert!(
        calendar::deadlines_on_days_off(
            Frequency::Monthly,
            Cutoff::Calendar,
            &moved.deadlines[0].rule,
            &days()
        )
        .is_empty()
    );
}

/// Counting working days skips whole weeks (issue 21): it gives the day
/// the day-by-day count gives, across Tết, make-up Saturdays and years
/// without holidays in the data, and a count of millions is immediate.
#[test]
fn working_days_are_counted_by_weeks_as_day_by_day() {
    let w = days();
    let by_day = |from: NaiveDate, n: u32| {
        let (mut day, mut left) = (from, n);
        while left > 0 {
            day = day.succ_opt().unwrap();
            if w.is_working_day(day) {
                left -= 1;
            }
        }
        day
    };
    for from in [
        "2024-12-31",
        "2025-01-14",
        "2025-01-24",
        "2025-04-25",
        "2026-02-10",
    ] {
        for n in [0, 1, 4, 5, 11, 12, 15, 16, 30, 61, 250, 777] {
            assert_eq!(
                w.add_working_days(d(from), n),
                Some(by_day(d(from), n)),
                "{n} working days after {from}"
            );
        }
    }
    // Day by day this would take minutes; by weeks it returns at once.
    assert!(w.add_working_days(d("2025-01-14"), 50_000_000).is_some());
}
