//! `generated/<regime>/README.md`: a regime documented for people: what is
//! reported, by whom, to whom, when; each form as a table with types, units
//! and aggregation; every rule in words. And `generated/index.md`, the list
//! of regimes. Pure functions of the IR; Markdown text is escaped so that
//! labels cannot break the tables.

use crate::ir::{self, Regime};
use std::fmt::Write as _;

/// The README of one regime.
pub fn regime_readme(lib: &ir::Library, r: &Regime) -> String {
    let mut out = String::new();
    let title = r.titles.get("vi").map(String::as_str).unwrap_or(&r.code);
    let _ = writeln!(out, "# {}\n", md(title));
    for (lang, t) in r.titles.iter().filter(|(l, _)| l.as_str() != "vi") {
        let _ = writeln!(out, "*{}* ({lang})\n", md(t));
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    let row = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "| {k} | {v} |");
    };
    row(&mut out, "Code", format!("`{}`", r.code));
    row(&mut out, "Legal basis", md(&r.basis));
    row(&mut out, "Owner", md(&r.owner));
    if let Some(rec) = &r.receiver {
        row(&mut out, "Receiver", md(rec));
    }
    row(
        &mut out,
        "Version",
        format!(
            "{}{}",
            r.version,
            r.effective
                .map(|d| format!(", effective {d}"))
                .unwrap_or_default()
        ),
    );
    row(&mut out, "Kind", format!("{:?}", r.kind).to_lowercase());
    row(&mut out, "Frequency", r.frequency.name().replace('_', " "));
    row(
        &mut out,
        "Cut-off",
        match r.cutoff {
            ir::Cutoff::Decree09 => {
                "Decree 09/2019/NĐ-CP Art. 12 (periods run from the 15th to the 14th)".into()
            }
            ir::Cutoff::Calendar => "calendar periods".into(),
        },
    );
    row(
        &mut out,
        "Reporters",
        r.reporters
            .iter()
            .map(|c| level_name(lib, c))
            .collect::<Vec<_>>()
            .join(", "),
    );
    row(
        &mut out,
        "Flow",
        r.flow
            .iter()
            .map(|c| level_name(lib, c))
            .collect::<Vec<_>>()
            .join(" → "),
    );
    row(
        &mut out,
        "Method",
        r.methods
            .iter()
            .map(|m| format!("{m:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", "),
    );
    if !r.deadlines.is_empty() {
        let _ = writeln!(out, "\n## Deadlines\n\n| level | deadline |\n|---|---|");
        for d in &r.deadlines {
            let when = match &d.rule {
                ir::DeadlineRule::DaysAfterCutoff {
                    days,
                    working: true,
                } => format!("{days} working day(s) after the cut-off"),
                ir::DeadlineRule::DaysAfterCutoff {
                    days,
                    working: false,
                } => format!("{days} day(s) after the cut-off"),
                ir::DeadlineRule::DayOfNextMonth {
                    day,
                    next_working_day,
                } => format!(
                    "day {day} of the month after the cut-off{}",
                    if *next_working_day {
                        ", or the next working day if it is a day off"
                    } else {
                        ""
                    }
                ),
            };
            let _ = writeln!(out, "| {} | {when} |", level_name(lib, &d.level));
        }
    }
    for form in &r.forms {
        form_section(&mut out, r, form);
    }
    rules_section(&mut out, r);
    out
}

fn level_name(lib: &ir::Library, code: &str) -> String {
    match lib.org.title_of(code) {
        Some(t) => format!("{} (`{code}`)", md(t)),
        None => format!("`{code}`"),
    }
}

fn form_section(out: &mut String, r: &Regime, form: &ir::Form) {
    let _ = writeln!(out, "\n## Form {}: {}\n", form.code, md(&form.title));
    match form.kind {
        ir::FormKind::Records => {
            let _ = writeln!(
                out,
                "A list of records, one row each.\n\n| field | label | type | required |\n|---|---|---|---|"
            );
            for c in &form.cells {
                let label = &c.label;
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    c.id,
                    md(label),
                    type_text(c),
                    if c.required { "yes" } else { "" }
                );
            }
        }
        ir::FormKind::Grid => {
            let cols: Vec<&ir::Column> = form.columns.iter().collect();
            let _ = writeln!(out, "Columns:\n");
            for c in &cols {
                let _ = writeln!(
                    out,
                    "- `{}`{}",
                    c.name,
                    if c.implicit {
                        String::new()
                    } else {
                        format!(": {}", md(&c.label))
                    }
                );
            }
            grid(out, form, &cols);
            let _ = writeln!(
                out,
                "\nEvery cell:\n\n| no. | row | label | cell | type | entry | aggregation |\n|---|---|---|---|---|---|---|"
            );
            for row in &form.rows {
                let indent = "↳ ".repeat(row.depth as usize);
                let label = match (row.relation, &row.block_label) {
                    (Some(_), Some(b)) => format!("{indent}{} *({})*", md(&row.label), md(b)),
                    _ => format!("{indent}{}", md(&row.label)),
                };
                for c in form
                    .cells
                    .iter()
                    .filter(|c| c.row.as_deref() == Some(row.name.as_str()))
                {
                    let entry = match &c.entry {
                        ir::Entry::Entered => "entered".to_string(),
                        ir::Entry::EnteredYearly => "entered once per year".to_string(),
                        ir::Entry::Computed { formula } => {
                            format!("= {}", code(&expr_text(r, formula)))
                        }
                    };
                    let agg = c
                        .aggregation
                        .map(|a| {
                            format!(
                                "units {}, time {}",
                                format!("{:?}", a.units).to_lowercase(),
                                format!("{:?}", a.time).to_lowercase()
                            )
                        })
                        .unwrap_or_else(|| "recomputed".into());
                    let _ = writeln!(
                        out,
                        "| {} | `{}` | {label} | `{}` | {} | {} | {agg} |",
                        md(&row.number),
                        row.name,
                        c.id,
                        type_text(c),
                        entry
                    );
                }
            }
        }
    }
}

/// The form as it is printed: one line per row, one column per column;
/// an entered cell shows its type, a computed one its formula, a shaded
/// (absent) cell stays empty.
fn grid(out: &mut String, form: &ir::Form, cols: &[&ir::Column]) {
    let _ = write!(out, "\nThe form as printed:\n\n| no. | indicator |");
    for c in cols {
        let head = if c.implicit {
            "value"
        } else {
            c.label.as_str()
        };
        let _ = write!(out, " {} |", md(head));
    }
    let _ = write!(out, "\n|---|---|");
    for _ in cols {
        out.push_str("---|");
    }
    out.push('\n');
    for row in &form.rows {
        let indent = "\u{a0}\u{a0}".repeat(row.depth as usize);
        let _ = write!(out, "| {} | {indent}{} |", md(&row.number), md(&row.label));
        for col in cols {
            let cell = form.cells.iter().find(|c| {
                c.row.as_deref() == Some(row.name.as_str())
                    && c.column.as_deref() == Some(col.name.as_str())
            });
            let text = match cell.map(|c| &c.entry) {
                None => String::new(),
                Some(ir::Entry::Computed { .. }) => "computed".to_string(),
                Some(ir::Entry::Entered | ir::Entry::EnteredYearly) => "entered".to_string(),
            };
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
}

fn type_text(c: &ir::Cell) -> String {
    let t = match &c.ty {
        ir::Type::Int => "int".to_string(),
        ir::Type::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        ir::Type::Money => "money (đồng)".to_string(),
        ir::Type::Percent => "percent".to_string(),
        ir::Type::Text { max_len } => format!("text({max_len})"),
        ir::Type::Date => "date".to_string(),
        ir::Type::Bool => "yes/no".to_string(),
        ir::Type::Code { codelist } => format!("code `{codelist}`"),
    };
    let unit = if c.unit.is_dimensionless() || c.ty == ir::Type::Money {
        String::new()
    } else {
        format!(" [{}]", c.unit)
    };
    let range = c
        .range
        .as_ref()
        .map(|r| format!(", {}..{}", r.min, r.max))
        .unwrap_or_default();
    format!("{t}{unit}{range}")
}

fn rules_section(out: &mut String, r: &Regime) {
    if r.rules.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Rules\n\n| code | severity | message | condition | if values are missing |\n|---|---|---|---|---|"
    );
    for rule in &r.rules {
        let missing = match rule.missing {
            ir::Missing::SkipIfAny => "skipped if any is missing",
            ir::Missing::SkipIfAll => "skipped if all are missing",
            ir::Missing::Zero => "missing values count as 0",
            ir::Missing::Never => "a missing value fails the rule",
        };
        let mut cond = expr_text(r, &rule.check);
        if let ir::RuleScope::EachRecord { form } = &rule.scope {
            cond = format!("for each record of {form}: {cond}");
        }
        if let Some(t) = &rule.tolerance {
            cond = format!(
                "{cond} (tolerance {}{})",
                if t.relative {
                    percent_text(&t.value)
                } else {
                    t.value.clone()
                },
                if t.relative { "%" } else { "" }
            );
        }
        if let Some(l) = &rule.at_level {
            cond = format!("{cond}, at level {l}");
        }
        let message = fill_message(r, rule);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {missing} |",
            rule.code,
            format!("{:?}", rule.severity).to_lowercase(),
            md(&message),
            code(&cond)
        );
    }
}

/// The message with its placeholders shown as the cells they name.
fn fill_message(r: &Regime, rule: &ir::Rule) -> String {
    let mut m = rule.message.clone();
    for (i, p) in rule.placeholders.iter().enumerate() {
        m = m.replace(&format!("{{{i}}}"), &format!("{{{}}}", expr_text(r, p)));
    }
    m
}

fn percent_text(fraction: &str) -> String {
    // "0.01" → "1": move the point two places.
    let (int, frac) = fraction.split_once('.').unwrap_or((fraction, ""));
    let frac = format!("{frac:0<2}");
    let (a, b) = frac.split_at(2);
    let whole = format!("{}{a}", int.trim_start_matches('0'));
    let whole = if whole.trim_start_matches('0').is_empty() {
        "0".to_string()
    } else {
        whole.trim_start_matches('0').to_string()
    };
    let b = b.trim_end_matches('0');
    if b.is_empty() {
        whole
    } else {
        format!("{whole}.{b}")
    }
}

/// An expression written back in the language's syntax (the explicit
/// percent scaling of the IR is left out: a percent cell reads as itself).
pub fn expr_text(r: &Regime, e: &ir::Expr) -> String {
    use ir::ExprKind as K;
    match &e.kind {
        K::Number { value } => value.clone(),
        K::Text { value } => format!("{value:?}"),
        K::Bool { value } => value.to_string(),
        K::Date { value } => value.to_string(),
        K::Cell {
            regime,
            form,
            cell,
            period,
        } => {
            let mut s = match regime {
                Some(other) => format!("{other}.{form}.{cell}"),
                None if r.forms.len() > 1 => format!("{form}.{cell}"),
                None => cell.clone(),
            };
            match period {
                ir::PeriodRef::Current => {}
                ir::PeriodRef::Previous => s.push_str("@previous"),
                ir::PeriodRef::SamePeriodLastYear => s.push_str("@same_period_last_year"),
            }
            s
        }
        K::Neg { arg } => format!("-{}", paren(r, arg)),
        K::Not { arg } => format!("not {}", paren(r, arg)),
        K::Binary { bin, lhs, rhs } => {
            // Percent scaling: `cell / 100` and `(…) * 100`.
            let hundred = matches!(&rhs.kind, K::Number { value } if value == "100");
            if hundred && matches!(bin, ir::BinOp::Div) && matches!(lhs.kind, K::Cell { .. }) {
                return expr_text(r, lhs);
            }
            let op = match bin {
                ir::BinOp::Add => "+",
                ir::BinOp::Sub => "-",
                ir::BinOp::Mul => "*",
                ir::BinOp::Div => "/",
                ir::BinOp::Eq => "==",
                ir::BinOp::Ne => "!=",
                ir::BinOp::Lt => "<",
                ir::BinOp::Le => "<=",
                ir::BinOp::Gt => ">",
                ir::BinOp::Ge => ">=",
                ir::BinOp::And => "and",
                ir::BinOp::Or => "or",
            };
            format!("{} {op} {}", paren(r, lhs), paren(r, rhs))
        }
        K::Call { func, args } => {
            let name = format!("{func:?}").to_lowercase();
            let args: Vec<String> = args.iter().map(|a| expr_text(r, a)).collect();
            format!("{name}({})", args.join(", "))
        }
        K::YearToDate { func, arg } => format!(
            "{}({} over year_to_date)",
            format!("{func:?}").to_lowercase(),
            expr_text(r, arg)
        ),
        K::Records { func, form, field } => match field {
            Some(f) => format!("{}({form}.{f})", format!("{func:?}").to_lowercase()),
            None => format!("count({form})"),
        },
    }
}

fn paren(r: &Regime, e: &ir::Expr) -> String {
    let s = expr_text(r, e);
    match &e.kind {
        ir::ExprKind::Binary { bin, lhs, rhs }
            if !(matches!(bin, ir::BinOp::Div)
                && matches!(lhs.kind, ir::ExprKind::Cell { .. })
                && matches!(&rhs.kind, ir::ExprKind::Number { value } if value == "100")) =>
        {
            format!("({s})")
        }
        _ => s,
    }
}

/// Markdown-safe text for a table cell: `|` and newlines would break the
/// table, HTML in a label must show as text, and Markdown in a label
/// (links, emphasis, code) must show as written, never as markup.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A code span in a table cell. Inside a code span Markdown and HTML are
/// literal (no entities: `<=` stays `<=`); only the table's `|` needs its
/// backslash, and the fence is longer than any run of backticks inside.
fn code(s: &str) -> String {
    let text = s.replace(['\n', '\r'], " ").replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `generated/index.md`: every regime with its owner, frequency and forms.
pub fn index(lib: &ir::Library) -> String {
    let mut out = String::from(
        "# Generated artifacts\n\nOne folder per regime, written by `regc build` from `regimes/`; do not edit by hand.\n\n| regime | title | owner | frequency | forms | rules |\n|---|---|---|---|---|---|\n",
    );
    for r in &lib.regimes {
        let title = r.titles.get("vi").map(String::as_str).unwrap_or("");
        let _ = writeln!(
            out,
            "| [`{0}`]({0}/README.md) | {1} | {2} | {3} | {4} | {5} |",
            r.code,
            md(title),
            md(&r.owner),
            r.frequency.name().replace('_', " "),
            r.forms
                .iter()
                .map(|f| f.code.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            r.rules.len()
        );
    }
    out
}
