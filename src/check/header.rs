//! The regime header: code, titles, kind, frequency, cut-off, reporters,
//! flow, deadlines (Decree 09/2019/NĐ-CP Art. 7, 8 and 12), method, version.

use crate::data::DataSet;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, article, did_you_mean};
use crate::ir::{self, Cutoff, Frequency, Method, RegimeKind};
use crate::source::Span;
use crate::syntax::ast::{self, HeaderKind};
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

fn unknown_value(code: Code, name: &ast::Name, what: &str, choices: &[&str]) -> Diagnostic {
    Diagnostic::new(
        code,
        name.span,
        format!("`{}` is not {} {what}", name.text, article(what)),
        format!("unknown {what}"),
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
                format!(
                    "the regime code `{}` is not of the form `agency.name`",
                    regime.code.text
                ),
                "expected two parts",
            )
            .with_help("write the owning agency and a short name, e.g. `transport.seaport_cargo`"),
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
                        format!("`{key}` is given twice"),
                        "given again here",
                    )
                    .with_label(*first, "first given here")
                    .with_help(if code == Code::DuplicateLanguage {
                        "each language has one title: `title` (Vietnamese), `title.en`, …"
                            .to_string()
                    } else {
                        format!("keep one `{key}` line")
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
                            format!("a title in `{l}` is given twice"),
                            "given again here",
                        )
                        .with_help(
                            "`title` is the Vietnamese title; `title.vi` says the same again",
                        ),
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
                        Diagnostic::new(Code::BadVersion, number.span, format!("`{}` is not a valid version", number.text), "invalid version")
                            .with_help("versions are whole numbers starting at 1, raised by one with each change"),
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
                    "regime kind",
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
                            "frequency",
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
                    "cut-off rule",
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
                            "reporting method",
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
                format!("the regime `{}` has no `{key}` line", regime.code.text),
                format!("`{key}` missing in this regime"),
            )
            .with_help(format!(
                "add a line such as `{example}` (Decree 09/2019/NĐ-CP Art. 7 requires it)"
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
                        format!("{} {} regime cannot have the frequency `{}`", article(kind_name(k)), kind_name(k), f.name()),
                        "kind",
                    )
                    .with_label(freq_span.unwrap_or(span), "frequency")
                    .with_help("ad hoc regimes have `frequency ad_hoc`; periodic and thematic regimes have a real frequency"),
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
            Diagnostic::new(Code::UnknownLevel, n.span, format!("`{}` is not an org level or unit type", n.text), "unknown level")
                .with_help(format!(
                    "levels and unit types are declared in the library's org data (kind: org_levels); {}",
                    did_you_mean(&n.text, "level", all.iter().copied())
                )),
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
                format!(
                    "the flow starts at `{}`, which is not a reporter",
                    first.text
                ),
                "flow starts here",
            )
            .with_help(format!(
                "start the flow at the reporters: `flow {} -> …`",
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
    h
}

fn kind_name(k: RegimeKind) -> &'static str {
    match k {
        RegimeKind::Periodic => "periodic",
        RegimeKind::Thematic => "thematic",
        RegimeKind::AdHoc => "ad hoc",
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
            diags.push(
                Diagnostic::new(
                    Code::DeadlineNotInFlow,
                    d.level.span,
                    format!("`{}` has a deadline but is not in the flow", d.level.text),
                    "not in the flow",
                )
                .with_help(format!(
                    "deadlines are given for the levels of `flow` (add `{}` to the flow if it forwards the report); {}",
                    d.level.text,
                    did_you_mean(&d.level.text, "level", flow.iter().map(|f| f.text.as_str()))
                )),
            );
            continue;
        }
        if let Some((first, _)) = by_level.get(d.level.text.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateHeader,
                    d.level.span,
                    format!("`{}` has two deadlines", d.level.text),
                    "second deadline",
                )
                .with_label(first.level.span, "first deadline")
                .with_help("each level has one deadline"),
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
                            format!(
                                "a deadline of {n} {}day(s) after the cut-off can leave less than one working day",
                                if *working { "working " } else { "" }
                            ),
                            "too early",
                        )
                        .with_help("Decree 09/2019/NĐ-CP Art. 8: each level has at least one working day after the cut-off; write e.g. `1 working days after cutoff`"),
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
                            format!(
                                "a deadline of {} {}days after the cut-off is more than a year after it",
                                days.text,
                                if *working { "working " } else { "" }
                            ),
                            "too late",
                        )
                        .with_help(format!(
                            "a deadline comes at most {MAX_WORKING_DAYS} working days or {MAX_CALENDAR_DAYS} days after the cut-off (Decree 09 deadlines are days or weeks)"
                        )),
                    );
                }
                ir::DeadlineRule::DaysAfterCutoff {
                    days: n,
                    working: *working,
                }
            }
            ast::DeadlineRule::DayOfNextMonth { day } => {
                let n = day.as_u32().unwrap_or(0);
                if n == 0 || n > 28 {
                    diags.push(
                        Diagnostic::new(
                            Code::BadFixedDay,
                            day.span,
                            format!("day {n} does not exist in every month"),
                            "not in every month",
                        )
                        .with_help("choose a day from 1 to 28, so that February has it too"),
                    );
                } else if h.cutoff == Cutoff::Calendar && n < 3 {
                    diags.push(
                        Diagnostic::new(
                            Code::DeadlineTooEarly,
                            d.span,
                            format!("day {n} of the next month can come less than one working day after a calendar cut-off"),
                            "too early",
                        )
                        .with_help("Decree 09/2019/NĐ-CP Art. 8: at least one working day after the cut-off; choose day 3 or later"),
                    );
                }
                ir::DeadlineRule::DayOfNextMonth { day: n }
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
                            format!("`{}` is due before `{}`, which reports to it", d.level.text, pd.level.text),
                            "earlier than the level below",
                        )
                        .with_label(pd.span, "the lower level's deadline")
                        .with_help("a level can only forward what it has received; give it a later deadline"),
                    );
                }
                h.deadlines.push(ir::Deadline {
                    level: level.text.clone(),
                    rule: rule.clone(),
                });
                previous = Some((d, rule.clone()));
            }
            None if !ad_hoc => diags.push(
                Diagnostic::new(
                    Code::MissingDeadline,
                    level.span,
                    format!("the level `{}` of the flow has no deadline", level.text),
                    "no deadline",
                )
                .with_label(regime.code.span, "in this regime")
                .with_help(format!(
                    "add e.g. `deadline {} 5 working days after cutoff` (Decree 09 Art. 8: each level has its own deadline)",
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
        (DayOfNextMonth { day: x }, DayOfNextMonth { day: y }) => Some(x < y),
        _ => None,
    }
}
