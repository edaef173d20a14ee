//! The regime header: code, titles, kind, frequency, cut-off, reporters,
//! flow, deadlines (Decree 09/2019/NĐ-CP Art. 7, 8 and 12), method, version.

use crate::data::DataSet;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::ir::{self, Cutoff, Frequency, Method, RegimeKind};
use crate::lang::Text;
use crate::source::Span;
use crate::syntax::ast::{self, HeaderKind};
use crate::tr;
use std::collections::BTreeMap;

pub(crate) struct Header {
    pub titles: BTreeMap<String, String>,
    pub basis: String,
    pub owner: String,
    pub receiver: Option<String>,
    pub kind: RegimeKind,
    pub frequency: Option<Frequency>,
    pub cutoff: Cutoff,
    pub reporters: Vec<String>,
    pub flow: Vec<String>,
    pub deadlines: Vec<ir::Deadline>,
    pub methods: Vec<Method>,
    pub version: u32,
    pub effective: Option<chrono::NaiveDate>,
}

const KINDS: &[(&str, RegimeKind)] = &[
    ("periodic", RegimeKind::Periodic),
    ("thematic", RegimeKind::Thematic),
    ("ad_hoc", RegimeKind::AdHoc),
    ("adhoc", RegimeKind::AdHoc),
];
const FREQUENCY_ALIASES: &[(&str, Frequency)] = &[
    ("semiannual", Frequency::SixMonthly),
    ("half_yearly", Frequency::SixMonthly),
    ("yearly", Frequency::Annual),
    ("adhoc", Frequency::AdHoc),
];
const CUTOFFS: &[(&str, Cutoff)] = &[
    ("decree09", Cutoff::Decree09),
    ("calendar", Cutoff::Calendar),
];
const METHODS: &[(&str, Method)] = &[
    ("electronic", Method::Electronic),
    ("paper", Method::Paper),
    ("signed", Method::Signed),
    ("email", Method::Email),
];

fn lookup<T: Copy>(table: &[(&str, T)], name: &ast::Name) -> Option<T> {
    table.iter().find(|(n, _)| *n == name.text).map(|(_, v)| *v)
}

/// `what` in both languages: ("a regime kind", "loại chế độ báo cáo").
fn unknown_value(code: Code, name: &ast::Name, what: Text, choices: &[&str]) -> Diagnostic {
    let bare = what.map(|lang, s| match lang {
        crate::lang::Lang::En => s
            .strip_prefix("an ")
            .or_else(|| s.strip_prefix("a "))
            .unwrap_or(s)
            .to_string(),
        crate::lang::Lang::Vi => s.to_string(),
    });
    Diagnostic::new(
        code,
        name.span,
        tr!("`{}` is not {}", "`{}` không phải là {}", name.text, what),
        tr!("unknown {}", "{} không biết", bare),
    )
    .with_help(crate::diagnostic::choices(&name.text, choices))
}

pub(crate) fn check(regime: &ast::Regime, data: &DataSet, diags: &mut Diagnostics) -> Header {
    // The code: `agency.name`, so that other regimes can refer to it.
    if regime.code.text.split('.').count() != 2 {
        diags.push(
            Diagnostic::new(
                Code::BadRegimeCode,
                regime.code.span,
                tr!(
                    "the regime code `{}` is not of the form `agency.name`",
                    "mã chế độ báo cáo `{}` không có dạng `cơ_quan.tên`",
                    regime.code.text
                ),
                tr!("expected two parts", "cần đúng hai phần"),
            )
            .with_help(tr!(
                "write the owning agency and a short name, e.g. `transport.seaport_cargo`",
                "hãy ghi cơ quan chủ quản và một tên ngắn, ví dụ `transport.seaport_cargo`"
            )),
        );
    }

    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    let mut h = Header {
        titles: BTreeMap::new(),
        basis: String::new(),
        owner: String::new(),
        receiver: None,
        kind: RegimeKind::Periodic,
        frequency: None,
        cutoff: Cutoff::Decree09,
        reporters: Vec::new(),
        flow: Vec::new(),
        deadlines: Vec::new(),
        methods: Vec::new(),
        version: 0,
        effective: None,
    };
    let mut kind: Option<(RegimeKind, Span)> = None;
    let mut freq_span = None;
    let mut deadline_items: Vec<&ast::Deadline> = Vec::new();
    let mut reporter_names: Vec<&ast::Name> = Vec::new();
    let mut flow_names: Vec<&ast::Name> = Vec::new();

    for line in &regime.header {
        let key = line.kind.keyword();
        // Deadlines may be split over several lines.
        if !matches!(line.kind, HeaderKind::Deadline(_)) {
            if let Some(first) = seen.get(&key) {
                let code = if key.starts_with("title") {
                    Code::DuplicateLanguage
                } else {
                    Code::DuplicateHeader
                };
                diags.push(
                    Diagnostic::new(
                        code,
                        line.keyword,
                        tr!("`{key}` is given twice", "`{key}` được khai báo hai lần"),
                        tr!("given again here", "khai báo lại ở đây"),
                    )
                    .with_label(*first, tr!("first given here", "khai báo lần đầu ở đây"))
                    .with_help(if code == Code::DuplicateLanguage {
                        tr!(
                            "each language has one title: `title` (Vietnamese), `title.en`, …",
                            "mỗi ngôn ngữ có một tiêu đề: `title` (tiếng Việt), `title.en`, …"
                        )
                    } else {
                        tr!("keep one `{key}` line", "chỉ giữ một dòng `{key}`")
                    }),
                );
                continue;
            }
            seen.insert(key.clone(), line.keyword);
        }
        match &line.kind {
            HeaderKind::Title { lang, text } => {
                let l = lang
                    .as_ref()
                    .map(|l| l.text.to_lowercase())
                    .unwrap_or_else(|| "vi".into());
                if h.titles.contains_key(&l) {
                    diags.push(
                        Diagnostic::new(
                            Code::DuplicateLanguage,
                            line.keyword,
                            tr!(
                                "a title in `{l}` is given twice",
                                "tiêu đề bằng `{l}` được khai báo hai lần"
                            ),
                            tr!("given again here", "khai báo lại ở đây"),
                        )
                        .with_help(tr!(
                            "`title` is the Vietnamese title; `title.vi` says the same again",
                            "`title` là tiêu đề tiếng Việt; `title.vi` lặp lại đúng điều đó"
                        )),
                    );
                }
                h.titles.insert(l, text.value.clone());
            }
            HeaderKind::Basis(s) => h.basis = s.value.clone(),
            HeaderKind::Owner(s) => h.owner = s.value.clone(),
            HeaderKind::Receiver(s) => h.receiver = Some(s.value.clone()),
            HeaderKind::Version { number, effective } => {
                match number.as_u32() {
                    Some(v) if v >= 1 => h.version = v,
                    _ => diags.push(
                        Diagnostic::new(
                            Code::BadVersion,
                            number.span,
                            tr!(
                                "`{}` is not a valid version",
                                "`{}` không phải là phiên bản hợp lệ",
                                number.text
                            ),
                            tr!("invalid version", "phiên bản không hợp lệ"),
                        )
                        .with_help(tr!(
                            "versions are whole numbers starting at 1, raised by one with each change",
                            "phiên bản là số nguyên bắt đầu từ 1, tăng thêm một sau mỗi lần thay đổi"
                        )),
                    ),
                }
                h.effective =
                    effective.and_then(|d| chrono::NaiveDate::from_ymd_opt(d.year, d.month, d.day));
            }
            HeaderKind::Kind(n) => match lookup(KINDS, n) {
                Some(k) => kind = Some((k, n.span)),
                None => diags.push(unknown_value(
                    Code::UnknownKind,
                    n,
                    tr!("a regime kind", "loại chế độ báo cáo"),
                    &["periodic", "thematic", "ad_hoc"],
                )),
            },
            HeaderKind::Frequency(n) => {
                let f = Frequency::ALL
                    .iter()
                    .chain(FREQUENCY_ALIASES)
                    .find(|(name, _)| *name == n.text)
                    .map(|(_, f)| *f);
                match f {
                    Some(f) => {
                        h.frequency = Some(f);
                        freq_span = Some(n.span);
                    }
                    None => {
                        let names: Vec<&str> = Frequency::ALL.iter().map(|(n, _)| *n).collect();
                        diags.push(unknown_value(
                            Code::UnknownFrequency,
                            n,
                            tr!("a frequency", "tần suất báo cáo"),
                            &names,
                        ));
                    }
                }
            }
            HeaderKind::Cutoff(n) => match lookup(CUTOFFS, n) {
                Some(c) => h.cutoff = c,
                None => diags.push(unknown_value(
                    Code::UnknownCutoff,
                    n,
                    tr!("a cut-off rule", "quy tắc chốt số liệu"),
                    &["decree09", "calendar"],
                )),
            },
            HeaderKind::Reporters(names) => reporter_names.extend(names),
            HeaderKind::Flow(names) => flow_names.extend(names),
            HeaderKind::Deadline(items) => deadline_items.extend(items),
            HeaderKind::Method(names) => {
                for n in names {
                    match lookup(METHODS, n) {
                        Some(m) => h.methods.push(m),
                        None => diags.push(unknown_value(
                            Code::UnknownMethod,
                            n,
                            tr!("a reporting method", "phương thức báo cáo"),
                            &["electronic", "paper", "signed", "email"],
                        )),
                    }
                }
            }
        }
    }

    // Required lines.
    // (Not when a line of the regime could not be read: it may be that line.)
    let missing = |key: &str, example: &str, diags: &mut Diagnostics| {
        if regime.incomplete {
            return;
        }
        diags.push(
            Diagnostic::new(
                Code::MissingHeader,
                regime.code.span,
                tr!(
                    "the regime `{}` has no `{key}` line",
                    "chế độ báo cáo `{}` thiếu dòng `{key}`",
                    regime.code.text
                ),
                tr!(
                    "`{key}` missing in this regime",
                    "chế độ báo cáo này thiếu `{key}`"
                ),
            )
            .with_help(tr!(
                "add a line such as `{example}` (Decree 09/2019/NĐ-CP Art. 7 requires it)",
                "hãy thêm một dòng như `{example}` (Điều 7 Nghị định 09/2019/NĐ-CP yêu cầu)"
            )),
        );
    };
    if !h.titles.contains_key("vi") {
        missing("title", "title \"Báo cáo …\"", diags);
    }
    if !seen.contains_key("basis") {
        missing("basis", "basis \"Thông tư 48/2019/TT-BGTVT\"", diags);
    }
    if !seen.contains_key("owner") {
        missing("owner", "owner \"Bộ Giao thông vận tải\"", diags);
    }
    if !seen.contains_key("version") {
        missing("version", "version 1 effective 2025-01-01", diags);
    }
    if h.frequency.is_none() && !seen.contains_key("frequency") {
        missing("frequency", "frequency monthly", diags);
    }
    if reporter_names.is_empty() && !seen.contains_key("reporters") {
        missing("reporters", "reporters province", diags);
    }
    if h.methods.is_empty() {
        h.methods.push(Method::Electronic);
    }

    // Kind and frequency agree.
    match (kind, h.frequency) {
        (Some((k, span)), Some(f)) => {
            h.kind = k;
            let bad = (k == RegimeKind::AdHoc) != (f == Frequency::AdHoc);
            if bad {
                diags.push(
                    Diagnostic::new(
                        Code::KindFrequencyMismatch,
                        span,
                        tr!(
                            "{} regime cannot have the frequency `{}`",
                            "chế độ báo cáo {} không thể có tần suất `{}`",
                            kind_name(k),
                            f.name()
                        ),
                        tr!("kind", "loại"),
                    )
                    .with_label(freq_span.unwrap_or(span), tr!("frequency", "tần suất"))
                    .with_help(tr!(
                        "ad hoc regimes have `frequency ad_hoc`; periodic and thematic regimes have a real frequency",
                        "chế độ báo cáo đột xuất có `frequency ad_hoc`; chế độ báo cáo định kỳ và chuyên đề có một tần suất thật"
                    )),
                );
            }
        }
        (None, Some(Frequency::AdHoc)) => h.kind = RegimeKind::AdHoc,
        (Some((k, _)), _) => h.kind = k,
        _ => {}
    }

    // Reporters and flow name levels or unit types.
    let known = |n: &ast::Name, diags: &mut Diagnostics| -> bool {
        if data.is_level(&n.text) || data.is_unit_type(&n.text) {
            return true;
        }
        let all: Vec<&str> = data
            .levels
            .iter()
            .map(|l| l.code.as_str())
            .chain(data.unit_types.iter().map(|t| t.code.as_str()))
            .collect();
        diags.push(
            Diagnostic::new(
                Code::UnknownLevel,
                n.span,
                tr!(
                    "`{}` is not an org level or unit type",
                    "`{}` không phải là cấp hành chính hay loại đơn vị báo cáo",
                    n.text
                ),
                tr!("unknown level", "cấp không biết"),
            )
            .with_help(vietnamese_level(data, &n.text).unwrap_or_else(|| {
                tr!(
                    "levels and unit types are declared in the library's org data (kind: org_levels); {}",
                    "các cấp và loại đơn vị được khai báo trong dữ liệu tổ chức của thư viện (kind: org_levels); {}",
                    did_you_mean(&n.text, tr!("level", "cấp"), all.iter().copied())
                )
            })),
        );
        false
    };
    for n in &reporter_names {
        if known(n, diags) {
            h.reporters.push(n.text.clone());
        }
    }
    for n in &flow_names {
        known(n, diags);
        h.flow.push(n.text.clone());
    }
    if let (Some(first), false) = (flow_names.first(), h.reporters.is_empty())
        && !h.reporters.contains(&first.text)
    {
        diags.push(
            Diagnostic::new(
                Code::FlowStart,
                first.span,
                tr!(
                    "the flow starts at `{}`, which is not a reporter",
                    "luồng báo cáo bắt đầu từ `{}`, không phải đơn vị báo cáo",
                    first.text
                ),
                tr!("flow starts here", "luồng báo cáo bắt đầu ở đây"),
            )
            .with_help(tr!(
                "start the flow at the reporters: `flow {} -> …`",
                "hãy bắt đầu luồng báo cáo từ đơn vị báo cáo: `flow {} -> …`",
                h.reporters.join(", ")
            )),
        );
    }
    if h.flow.is_empty() {
        h.flow = h.reporters.clone();
    }

    // Without a `flow`, reports go from the reporters to the receiver in one
    // step, and the reporters' level needs its deadline.
    let flow_or_reporters: Vec<&ast::Name> = if flow_names.is_empty() {
        reporter_names.clone()
    } else {
        flow_names.clone()
    };
    deadlines(&mut h, &deadline_items, &flow_or_reporters, regime, diags);
    days_off(&h, &deadline_items, data, diags);
    h
}

/// A fixed day of the next month that falls on a weekend or a holiday in
/// some periods: the law does not move it unless the regime says so
/// (`or next working day`), so the reporters lose the day without being
/// told. Checked over the years the holiday data covers.
/// The day of the week as a Vietnamese calendar writes it.
fn weekday_vi(w: chrono::Weekday) -> &'static str {
    match w {
        chrono::Weekday::Mon => "Thứ Hai",
        chrono::Weekday::Tue => "Thứ Ba",
        chrono::Weekday::Wed => "Thứ Tư",
        chrono::Weekday::Thu => "Thứ Năm",
        chrono::Weekday::Fri => "Thứ Sáu",
        chrono::Weekday::Sat => "Thứ Bảy",
        chrono::Weekday::Sun => "Chủ nhật",
    }
}

fn days_off(h: &Header, items: &[&ast::Deadline], data: &DataSet, diags: &mut Diagnostics) {
    let Some(frequency) = h.frequency.filter(|f| *f != Frequency::AdHoc) else {
        return;
    };
    let days = crate::calendar::WorkingDays::new(
        data.holidays.iter().map(|d| d.date),
        data.working_weekends.iter().copied(),
    );
    for d in items {
        let ast::DeadlineRule::DayOfNextMonth {
            day,
            next_working_day: false,
        } = &d.rule
        else {
            continue;
        };
        let Some(rule) = h
            .deadlines
            .iter()
            .find(|x| x.level == d.level.text)
            .map(|x| &x.rule)
            .filter(|r| matches!(r, ir::DeadlineRule::DayOfNextMonth { day: 1..=28, .. }))
        else {
            continue;
        };
        // A day already refused as too early (E0401) is not warned again.
        if h.cutoff == Cutoff::Calendar && day.as_u32().is_some_and(|n| n < 3) {
            continue;
        }
        let off = crate::calendar::deadlines_on_days_off(frequency, h.cutoff, rule, &days);
        if off.is_empty() {
            continue;
        }
        let (first, last) = (days.known_years().next(), days.known_years().last());
        let years = match (first, last) {
            (Some(a), Some(b)) if a != b => format!("{a}–{b}"),
            (Some(a), _) => a.to_string(),
            _ => String::new(),
        };
        let n = day.as_u32().unwrap_or(0);
        let list = |vi: bool| {
            let mut items: Vec<String> = off
                .iter()
                .take(3)
                .map(|(p, d)| {
                    let weekday = if vi {
                        weekday_vi(chrono::Datelike::weekday(d)).to_string()
                    } else {
                        d.format("%a").to_string()
                    };
                    format!("{p} ({weekday} {})", d.format("%d/%m/%Y"))
                })
                .collect();
            if off.len() > 3 {
                items.push("…".into());
            }
            items.join(", ")
        };
        let (examples_en, examples_vi) = (list(false), list(true));
        diags.push(
            Diagnostic::new(
                Code::DeadlineOnDayOff,
                day.span,
                tr!(
                    "day {n} of next month falls on a weekend or holiday in {} period(s) of {years}: {examples_en}",
                    "ngày {n} của tháng sau trùng ngày nghỉ cuối tuần hoặc ngày lễ ở {} kỳ báo cáo của năm {years}: {examples_vi}",
                    off.len()
                ),
                tr!("falls on a day off", "trùng ngày nghỉ"),
            )
            .with_help(tr!(
                "if the regime moves such a deadline to the next working day (as Civil Code 2015 Art. 148 does for time limits), write `day {n} of next month or next working day`; otherwise reporters lose the day: consider `N working days after cutoff`",
                "nếu chế độ báo cáo lùi thời hạn này sang ngày làm việc tiếp theo (như Điều 148 Bộ luật Dân sự 2015 quy định cho thời hạn), hãy viết `day {n} of next month or next working day`; nếu không, đơn vị báo cáo mất ngày đó: cân nhắc `N working days after cutoff`"
            )),
        );
    }
}

/// The help for a level written in Vietnamese (`tinh`, `xã`): the level's
/// code, which is what regimes name.
pub(crate) fn vietnamese_level(data: &DataSet, name: &str) -> Option<Text> {
    let (code, title) = data.level_from_vietnamese(name)?;
    Some(tr!(
        "`{name}` is Vietnamese for the level `{code}` ({title}); levels are named by their code: write `{code}`",
        "`{name}` là tên tiếng Việt của cấp `{code}` ({title}); các cấp được gọi bằng mã: hãy viết `{code}`"
    ))
}

/// "a periodic" (before "regime") / "định kỳ" (after "chế độ báo cáo").
fn kind_name(k: RegimeKind) -> Text {
    match k {
        RegimeKind::Periodic => tr!("a periodic", "định kỳ"),
        RegimeKind::Thematic => tr!("a thematic", "chuyên đề"),
        RegimeKind::AdHoc => tr!("an ad hoc", "đột xuất"),
    }
}

/// The latest a deadline may come after the cut-off: a year (Decree 09's
/// are days or weeks; an unbounded count made the calendar run for minutes).
pub const MAX_WORKING_DAYS: u32 = 260;
pub const MAX_CALENDAR_DAYS: u32 = 366;

/// Deadlines: one per level of the flow, each at least one working day
/// after the cut-off (Decree 09 Art. 8), in flow order.
fn deadlines(
    h: &mut Header,
    items: &[&ast::Deadline],
    flow: &[&ast::Name],
    regime: &ast::Regime,
    diags: &mut Diagnostics,
) {
    let mut by_level: BTreeMap<&str, (&ast::Deadline, ir::DeadlineRule)> = BTreeMap::new();
    for d in items {
        if !flow.is_empty() && !flow.iter().any(|f| f.text == d.level.text) {
            // Not when a line could not be read: it may be the flow's end.
            if regime.incomplete {
                continue;
            }
            diags.push(
                Diagnostic::new(
                    Code::DeadlineNotInFlow,
                    d.level.span,
                    tr!(
                        "`{}` has a deadline but is not in the flow",
                        "`{}` có hạn báo cáo nhưng không có trong luồng báo cáo",
                        d.level.text
                    ),
                    tr!("not in the flow", "không có trong luồng báo cáo"),
                )
                .with_help(tr!(
                    "deadlines are given for the levels of `flow` (add `{}` to the flow if it forwards the report); {}",
                    "hạn báo cáo được đặt cho các cấp của `flow` (hãy thêm `{}` vào luồng nếu cấp này chuyển tiếp báo cáo); {}",
                    d.level.text,
                    did_you_mean(
                        &d.level.text,
                        tr!("level", "cấp"),
                        flow.iter().map(|f| f.text.as_str())
                    )
                )),
            );
            continue;
        }
        if let Some((first, _)) = by_level.get(d.level.text.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateHeader,
                    d.level.span,
                    tr!(
                        "`{}` has two deadlines",
                        "`{}` có hai hạn báo cáo",
                        d.level.text
                    ),
                    tr!("second deadline", "hạn báo cáo thứ hai"),
                )
                .with_label(
                    first.level.span,
                    tr!("first deadline", "hạn báo cáo thứ nhất"),
                )
                .with_help(tr!(
                    "each level has one deadline",
                    "mỗi cấp có một hạn báo cáo"
                )),
            );
            continue;
        }
        let rule = match &d.rule {
            ast::DeadlineRule::DaysAfter { days, working } => {
                // A count past u32 is too late, not too early.
                let n = days.as_u32().unwrap_or(u32::MAX);
                let too_early = if *working { n < 1 } else { n < 3 };
                if too_early {
                    diags.push(
                        Diagnostic::new(
                            Code::DeadlineTooEarly,
                            d.span,
                            if *working {
                                tr!(
                                    "a deadline of {n} working day(s) after the cut-off can leave less than one working day",
                                    "hạn báo cáo {n} ngày làm việc sau ngày chốt số liệu có thể còn chưa đủ một ngày làm việc"
                                )
                            } else {
                                tr!(
                                    "a deadline of {n} day(s) after the cut-off can leave less than one working day",
                                    "hạn báo cáo {n} ngày sau ngày chốt số liệu có thể còn chưa đủ một ngày làm việc"
                                )
                            },
                            tr!("too early", "quá sớm"),
                        )
                        .with_help(tr!(
                            "Decree 09/2019/NĐ-CP Art. 8: each level has at least one working day after the cut-off; write e.g. `1 working days after cutoff`",
                            "Điều 8 Nghị định 09/2019/NĐ-CP: mỗi cấp có ít nhất một ngày làm việc sau ngày chốt số liệu; hãy ghi ví dụ `1 working days after cutoff`"
                        )),
                    );
                }
                let most = if *working {
                    MAX_WORKING_DAYS
                } else {
                    MAX_CALENDAR_DAYS
                };
                if n > most {
                    diags.push(
                        Diagnostic::new(
                            Code::DeadlineTooLate,
                            days.span,
                            tr!(
                                "a deadline of {} {}days after the cut-off is more than a year after it",
                                "thời hạn {} ngày {}sau ngày chốt số liệu là hơn một năm sau ngày đó",
                                days.text,
                                if *working {
                                    tr!("working ", "làm việc ")
                                } else {
                                    tr!("", "")
                                }
                            ),
                            tr!("too late", "quá muộn"),
                        )
                        .with_help(tr!(
                            "a deadline comes at most {MAX_WORKING_DAYS} working days or {MAX_CALENDAR_DAYS} days after the cut-off (Decree 09 deadlines are days or weeks)",
                            "thời hạn tối đa là {MAX_WORKING_DAYS} ngày làm việc hoặc {MAX_CALENDAR_DAYS} ngày sau ngày chốt số liệu (thời hạn theo Nghị định 09 tính bằng ngày hoặc tuần)"
                        )),
                    );
                }
                ir::DeadlineRule::DaysAfterCutoff {
                    days: n,
                    working: *working,
                }
            }
            ast::DeadlineRule::DayOfNextMonth {
                day,
                next_working_day,
            } => {
                let n = day.as_u32().unwrap_or(0);
                if n == 0 || n > 28 {
                    diags.push(
                        Diagnostic::new(
                            Code::BadFixedDay,
                            day.span,
                            tr!(
                                "day {n} does not exist in every month",
                                "không phải tháng nào cũng có ngày {n}"
                            ),
                            tr!("not in every month", "không phải tháng nào cũng có"),
                        )
                        .with_help(tr!(
                            "choose a day from 1 to 28, so that February has it too",
                            "hãy chọn một ngày từ 1 đến 28, để tháng Hai cũng có"
                        )),
                    );
                } else if h.cutoff == Cutoff::Calendar && n < 3 {
                    diags.push(
                        Diagnostic::new(
                            Code::DeadlineTooEarly,
                            d.span,
                            tr!(
                                "day {n} of the next month can come less than one working day after a calendar cut-off",
                                "ngày {n} của tháng sau có thể đến chưa đủ một ngày làm việc sau ngày chốt số liệu theo lịch"
                            ),
                            tr!("too early", "quá sớm"),
                        )
                        .with_help(tr!(
                            "Decree 09/2019/NĐ-CP Art. 8: at least one working day after the cut-off; choose day 3 or later",
                            "Điều 8 Nghị định 09/2019/NĐ-CP: ít nhất một ngày làm việc sau ngày chốt số liệu; hãy chọn ngày 3 trở đi"
                        )),
                    );
                }
                ir::DeadlineRule::DayOfNextMonth {
                    day: n,
                    next_working_day: *next_working_day,
                }
            }
        };
        by_level.insert(&d.level.text, (d, rule));
    }
    let ad_hoc = h.frequency == Some(Frequency::AdHoc);
    let mut previous: Option<(&ast::Deadline, ir::DeadlineRule)> = None;
    for level in flow {
        match by_level.get(level.text.as_str()) {
            Some((d, rule)) => {
                if let Some((pd, prule)) = &previous
                    && let Some(true) = earlier(rule, prule)
                {
                    diags.push(
                        Diagnostic::new(
                            Code::DeadlineOrder,
                            d.span,
                            tr!(
                                "`{}` is due before `{}`, which reports to it",
                                "hạn của `{}` sớm hơn hạn của `{}`, cấp báo cáo lên nó",
                                d.level.text,
                                pd.level.text
                            ),
                            tr!("earlier than the level below", "sớm hơn cấp dưới"),
                        )
                        .with_label(pd.span, tr!("the lower level's deadline", "hạn báo cáo của cấp dưới"))
                        .with_help(tr!(
                            "a level can only forward what it has received; give it a later deadline",
                            "một cấp chỉ chuyển tiếp được những gì đã nhận; hãy cho nó hạn muộn hơn"
                        )),
                    );
                }
                h.deadlines.push(ir::Deadline {
                    level: level.text.clone(),
                    rule: rule.clone(),
                });
                previous = Some((d, rule.clone()));
            }
            // Not when a line could not be read: it may hold this deadline
            // (`deadline a 3 working days after cutoff b 6 …` without a comma).
            None if !ad_hoc && !regime.incomplete => diags.push(
                Diagnostic::new(
                    Code::MissingDeadline,
                    level.span,
                    tr!(
                        "the level `{}` of the flow has no deadline",
                        "cấp `{}` của luồng báo cáo không có hạn báo cáo",
                        level.text
                    ),
                    tr!("no deadline", "không có hạn báo cáo"),
                )
                .with_label(regime.code.span, tr!("in this regime", "trong chế độ báo cáo này"))
                .with_help(tr!(
                    "add e.g. `deadline {} 5 working days after cutoff` (Decree 09 Art. 8: each level has its own deadline)",
                    "hãy thêm ví dụ `deadline {} 5 working days after cutoff` (Điều 8 Nghị định 09: mỗi cấp có hạn báo cáo riêng)",
                    level.text
                )),
            ),
            None => {}
        }
    }
}

/// Whether deadline `a` is strictly earlier than `b` (None if not comparable).
fn earlier(a: &ir::DeadlineRule, b: &ir::DeadlineRule) -> Option<bool> {
    use ir::DeadlineRule::*;
    match (a, b) {
        (
            DaysAfterCutoff {
                days: x,
                working: w1,
            },
            DaysAfterCutoff {
                days: y,
                working: w2,
            },
        ) if w1 == w2 => Some(x < y),
        (DayOfNextMonth { day: x, .. }, DayOfNextMonth { day: y, .. }) => Some(x < y),
        _ => None,
    }
}
