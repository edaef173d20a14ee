//! Conversion of pest pairs into the AST: one function per grammar rule.

use super::ast::*;
use super::{MAX_NESTING, MAX_TREE_HEIGHT, Rule};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::lang::Text;
use crate::source::{FileId, Span};
use crate::tr;
use pest::iterators::Pair;

type P<'i> = Pair<'i, Rule>;

/// The grammar levels one bracket of an expression goes through
/// (`expr`, `disj`, `conj`, `neg`, `cmp`, `sum`, `product`, `unary`, …).
const EXPR_LEVELS: usize = 10;

/// Keyword pairs carry no information beyond their position; the converter
/// skips them.
fn is_keyword(r: Rule) -> bool {
    matches!(
        r,
        Rule::k_after
            | Rule::k_aggregate
            | Rule::k_and
            | Rule::k_at
            | Rule::k_basis
            | Rule::k_code
            | Rule::k_codelist
            | Rule::k_columns
            | Rule::k_cutoff
            | Rule::k_day
            | Rule::k_days
            | Rule::k_deadline
            | Rule::k_each
            | Rule::k_effective
            | Rule::k_entered
            | Rule::k_flow
            | Rule::k_for
            | Rule::k_form
            | Rule::k_frequency
            | Rule::k_from
            | Rule::k_group
            | Rule::k_include
            | Rule::k_kind
            | Rule::k_method
            | Rule::k_missing
            | Rule::k_month
            | Rule::k_next
            | Rule::k_none
            | Rule::k_not
            | Rule::k_note
            | Rule::k_of
            | Rule::k_of_which
            | Rule::k_once
            | Rule::k_or
            | Rule::k_over
            | Rule::k_owner
            | Rule::k_per
            | Rule::k_range
            | Rule::k_receiver
            | Rule::k_reconcile
            | Rule::k_records
            | Rule::k_regime
            | Rule::k_reporters
            | Rule::k_required
            | Rule::k_rows
            | Rule::k_rule
            | Rule::k_split
            | Rule::k_title
            | Rule::k_tolerance
            | Rule::k_unit
            | Rule::k_use
            | Rule::k_version
            | Rule::k_without
            | Rule::k_working
            | Rule::k_year
    )
}

fn inner(pair: P<'_>) -> impl Iterator<Item = P<'_>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

/// Header keywords, for "did you mean" on an unrecognised regime line.
const REGIME_WORDS: &[&str] = &[
    "title",
    "basis",
    "owner",
    "receiver",
    "version",
    "kind",
    "frequency",
    "cutoff",
    "reporters",
    "flow",
    "deadline",
    "method",
    "form",
    "rule",
    "reconcile",
];
const TOP_WORDS: &[&str] = &["use", "unit", "codelist", "group", "regime"];
const ATTR_WORDS: &[&str] = &[
    "entered",
    "required",
    "range",
    "aggregate",
    "without",
    "note",
    "split",
    "of_which",
];

/// Where a `bad_line` was found, which decides its message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    Regime,
    Grid,
    Columns,
    Rows,
    Records,
    Codelist,
}

pub(super) struct Lower<'d> {
    file: FileId,
    diags: &'d mut Diagnostics,
    /// Nesting of the expression being converted (recursion guard).
    depth: usize,
    /// The height of the expression tree last returned by [`Lower::expr`]:
    /// long chains like `a + a + … + a` build deep trees without nesting.
    height: usize,
    /// E0005 was reported for the expression being converted: once is enough.
    too_deep: bool,
}

impl<'d> Lower<'d> {
    pub(super) fn new(file: FileId, diags: &'d mut Diagnostics) -> Self {
        Lower {
            file,
            diags,
            depth: 0,
            height: 0,
            too_deep: false,
        }
    }

    /// The span of a pair, without the whitespace (and comments) pest
    /// includes after its last token.
    fn span(&self, p: &P<'_>) -> Span {
        let s = p.as_span();
        let text = p.as_str();
        let mut end = text.trim_end().len();
        // A trailing `// comment` inside the pair (after its last token).
        while let Some(line_start) = text.get(..end).and_then(|t| t.rfind('\n')) {
            let line = text.get(line_start + 1..end).unwrap_or("").trim_start();
            if line.starts_with("//") {
                end = text
                    .get(..line_start)
                    .map(|t| t.trim_end().len())
                    .unwrap_or(0);
            } else {
                break;
            }
        }
        Span::new(
            self.file,
            s.start(),
            s.start() + end.max(usize::from(s.end() > s.start()).min(text.len())),
        )
    }

    fn name(&self, p: P<'_>) -> Name {
        Name {
            span: self.span(&p),
            text: p.as_str().to_string(),
        }
    }

    fn number(&mut self, p: P<'_>) -> Number {
        let span = self.span(&p);
        let text = p.as_str().to_string();
        let digits = text.chars().filter(char::is_ascii_digit).count();
        if digits > 38 {
            self.diags.push(
                Diagnostic::new(
                    Code::BadNumber,
                    span,
                    tr!(
                        "this number has {digits} digits; at most 38 are supported",
                        "số này có {digits} chữ số; chỉ hỗ trợ tối đa 38 chữ số"
                    ),
                    tr!("too many digits", "quá nhiều chữ số"),
                )
                .with_help(tr!(
                    "numbers are exact decimals of up to 38 digits (like NUMERIC(38))",
                    "các số là số thập phân chính xác, tối đa 38 chữ số (như NUMERIC(38))"
                )),
            );
        }
        Number { text, span }
    }

    /// `percent_lit = @{ number ~ "%" }` (atomic, so its number is not a
    /// pair of its own): the number before the sign.
    fn percent_number(&mut self, p: P<'_>) -> Number {
        let span = self.span(&p);
        let text = p.as_str().trim_end_matches('%').to_string();
        let n = Number {
            span: Span {
                end: span.end.saturating_sub(1),
                ..span
            },
            text,
        };
        if n.text.chars().filter(char::is_ascii_digit).count() > 38 {
            return self.number_checked(n);
        }
        n
    }

    fn number_checked(&mut self, n: Number) -> Number {
        self.diags.push(
            Diagnostic::new(
                Code::BadNumber,
                n.span,
                tr!(
                    "this number has more than 38 digits",
                    "số này có hơn 38 chữ số"
                ),
                tr!("too many digits", "quá nhiều chữ số"),
            )
            .with_help(tr!(
                "numbers are exact decimals of up to 38 digits (like NUMERIC(38))",
                "các số là số thập phân chính xác, tối đa 38 chữ số (như NUMERIC(38))"
            )),
        );
        n
    }

    /// `string`: unescapes `\"`, `\\`, `\n`, `\t`; reports others (E0004).
    fn string(&mut self, p: P<'_>) -> Str {
        let span = self.span(&p);
        let raw = p.as_str();
        let body = raw
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(raw);
        let mut value = String::with_capacity(body.len());
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                if forbidden_in_text(c) {
                    let start = span.start as usize + 1 + i;
                    self.diags.push(
                        Diagnostic::new(
                            Code::ControlCharacter,
                            Span::new(self.file, start, start + c.len_utf8()),
                            tr!(
                                "the text holds the invisible character U+{}",
                                "văn bản chứa ký tự ẩn U+{}",
                                format!("{:04X}", u32::from(c))
                            ),
                            tr!(
                                "a control or bidirectional formatting character",
                                "ký tự điều khiển hoặc ký tự định dạng hai chiều"
                            ),
                        )
                        .with_help(tr!(
                            "delete it (it often comes with a paste); a database refuses NUL in text, and others reorder or hide what is shown; write \\n or \\t for a line break or a tab",
                            "hãy xóa ký tự này (thường đi kèm khi dán văn bản); cơ sở dữ liệu không nhận NUL trong văn bản, các ký tự khác làm đảo hoặc ẩn nội dung hiển thị; viết \\n hoặc \\t cho xuống dòng hoặc tab"
                        )),
                    );
                    continue;
                }
                value.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                other => {
                    let len = other.map(|(_, c)| c.len_utf8()).unwrap_or(0) + 1;
                    let start = span.start as usize + 1 + i;
                    self.diags.push(
                        Diagnostic::new(
                            Code::BadEscape,
                            Span::new(self.file, start, start + len),
                            tr!(
                                "unknown escape sequence in a string",
                                "chuỗi thoát không biết trong chuỗi ký tự"
                            ),
                            tr!("not a known escape", "không phải chuỗi thoát đã biết"),
                        )
                        .with_help(tr!(
                            r#"the escapes are \" \\ \n \t; write \\ for a backslash"#,
                            r#"các chuỗi thoát là \" \\ \n \t; hãy viết \\ cho một dấu gạch chéo ngược"#
                        )),
                    );
                    if let Some((_, c)) = other {
                        value.push(c);
                    }
                }
            }
        }
        let chars = value.chars().count();
        if chars > MAX_TEXT_CHARS {
            self.diags.push(
                Diagnostic::new(
                    Code::TextTooLong,
                    Span::new(self.file, span.start as usize, span.start as usize + 1),
                    tr!(
                        "this text has {chars} characters; a text may have at most {MAX_TEXT_CHARS}",
                        "văn bản này có {chars} ký tự; một văn bản chỉ được có tối đa {MAX_TEXT_CHARS} ký tự"
                    ),
                    tr!("text starts here", "văn bản bắt đầu ở đây"),
                )
                .with_help(tr!(
                    "an Excel cell holds at most 32,767 characters, and the Excel templates hold every label and title; shorten it, or keep long guidance in a note document",
                    "một ô Excel chứa tối đa 32.767 ký tự, và mẫu Excel chứa mọi nhãn và tiêu đề; hãy rút gọn, hoặc đưa hướng dẫn dài vào một văn bản ghi chú"
                )),
            );
        }
        Str { value, span }
    }

    fn date(&mut self, p: P<'_>) -> DateLit {
        let span = self.span(&p);
        let text = p.as_str();
        let year = text.get(0..4).and_then(|s| s.parse().ok()).unwrap_or(0);
        let month = text.get(5..7).and_then(|s| s.parse().ok()).unwrap_or(0);
        let day = text.get(8..10).and_then(|s| s.parse().ok()).unwrap_or(0);
        if chrono::NaiveDate::from_ymd_opt(year, month, day).is_none() {
            self.diags.push(
                Diagnostic::new(
                    Code::BadDate,
                    span,
                    tr!(
                        "{text} is not a date in the calendar",
                        "{text} không phải là một ngày có trong lịch"
                    ),
                    tr!("no such date", "không có ngày này"),
                )
                .with_help(tr!(
                    "write dates as YYYY-MM-DD, e.g. 2025-07-01",
                    "hãy viết ngày theo dạng YYYY-MM-DD (năm-tháng-ngày), ví dụ 2025-07-01"
                )),
            );
        }
        DateLit {
            year,
            month,
            day,
            span,
        }
    }

    /// `file = { SOI ~ top_item* ~ EOI }`
    pub(super) fn file(&mut self, p: P<'_>, mut file: File) -> File {
        for item in inner(p) {
            let span = self.span(&item);
            match item.as_rule() {
                Rule::use_decl => {
                    if let Some(path) = inner(item).next() {
                        let path = self.name(path);
                        file.uses.push(Use { path, span });
                    }
                }
                Rule::unit_decl => file.units.push(self.unit_decl(item)),
                Rule::codelist_decl => {
                    if let Some(c) = self.codelist_decl(item) {
                        file.codelists.push(c);
                    }
                }
                Rule::group_decl => {
                    if let Some(g) = self.group_decl(item) {
                        file.groups.push(g);
                    }
                }
                Rule::regime => {
                    if let Some(r) = self.regime(item) {
                        file.regimes.push(r);
                    }
                }
                Rule::bad_line => self.bad_line(item, Context::Top),
                _ => {}
            }
        }
        file
    }

    /// `unit_decl = { k_unit ~ ident ~ string? ~ unit_alias? ~ unit_stock? }`
    fn unit_decl(&mut self, p: P<'_>) -> UnitDecl {
        let span = self.span(&p);
        let mut name = None;
        let mut label = None;
        let mut alias = None;
        let mut stock = false;
        for part in inner(p) {
            match part.as_rule() {
                Rule::unit_stock => stock = true,
                Rule::ident => name = Some(self.name(part)),
                Rule::string => label = Some(self.string(part)),
                Rule::unit_alias => {
                    let mut factor = None;
                    let mut unit = None;
                    for a in inner(part) {
                        match a.as_rule() {
                            Rule::number => factor = Some(self.number(a)),
                            Rule::unit_expr => unit = Some(self.unit_expr(a)),
                            _ => {}
                        }
                    }
                    if let (Some(f), Some(u)) = (factor, unit) {
                        alias = Some((f, u));
                    }
                }
                _ => {}
            }
        }
        UnitDecl {
            name: name.unwrap_or(Name {
                text: String::new(),
                span,
            }),
            label,
            alias,
            stock,
            span,
        }
    }

    /// `codelist_decl = { k_codelist ~ ident ~ string? ~ (codelist_from | codelist_body) }`
    fn codelist_decl(&mut self, p: P<'_>) -> Option<CodelistDecl> {
        let span = self.span(&p);
        let mut name = None;
        let mut label = None;
        let mut source = None;
        for part in inner(p) {
            match part.as_rule() {
                Rule::ident => name = Some(self.name(part)),
                Rule::string => label = Some(self.string(part)),
                Rule::codelist_from => {
                    if let Some(s) = inner(part).next() {
                        source = Some(CodelistSource::File(self.string(s)));
                    }
                }
                Rule::codelist_body => {
                    let mut values = Vec::new();
                    for v in inner(part) {
                        match v.as_rule() {
                            Rule::code_value => {
                                let mut it = inner(v);
                                if let (Some(c), Some(l)) = (it.next(), it.next()) {
                                    let c = self.name(c);
                                    let l = self.string(l);
                                    values.push((c, l));
                                }
                            }
                            Rule::bad_line => self.bad_line(v, Context::Codelist),
                            _ => {}
                        }
                    }
                    source = Some(CodelistSource::Inline(values));
                }
                _ => {}
            }
        }
        Some(CodelistDecl {
            name: name?,
            label,
            source: source?,
            span,
        })
    }

    /// `group_decl = { k_group ~ ident ~ string? ~ LBRACE ~ row_item* ~ RBRACE }`
    fn group_decl(&mut self, p: P<'_>) -> Option<GroupDecl> {
        let span = self.span(&p);
        let mut name = None;
        let mut label = None;
        let mut rows = Vec::new();
        for part in inner(p) {
            match part.as_rule() {
                Rule::ident => name = Some(self.name(part)),
                Rule::string => label = Some(self.string(part)),
                _ => self.row_item(part, &mut rows),
            }
        }
        Some(GroupDecl {
            name: name?,
            label,
            rows,
            span,
        })
    }

    /// `regime = { k_regime ~ path ~ LBRACE ~ regime_item* ~ RBRACE }`
    fn regime(&mut self, p: P<'_>) -> Option<Regime> {
        let span = self.span(&p);
        let mut it = inner(p);
        let code = self.name(it.next()?);
        let mut regime = Regime {
            code,
            header: Vec::new(),
            forms: Vec::new(),
            rules: Vec::new(),
            incomplete: false,
            span,
        };
        // Where the last item ended, if it was a rule: a bad line starting
        // on the same line is the unreadable rest of that rule.
        let mut rule_end: Option<usize> = None;
        let mut broken_rule = false;
        for item in it {
            let item_span = self.span(&item);
            let item_rule = item.as_rule();
            let start = item.as_span().start();
            let rest_of_rule = rule_end
                .take()
                .and_then(|end| item.get_input().get(end..start))
                .is_some_and(|between| !between.contains('\n'));
            if item_rule != Rule::bad_line {
                broken_rule = false;
            }
            if matches!(item_rule, Rule::rule | Rule::reconcile) {
                rule_end = Some(item.as_span().start() + item.as_str().trim_end().len());
            }
            let keyword = item
                .clone()
                .into_inner()
                .next()
                .map(|k| self.span(&k))
                .unwrap_or(item_span);
            let kind = match item_rule {
                Rule::title => {
                    let mut lang = None;
                    let mut text = None;
                    for part in inner(item) {
                        match part.as_rule() {
                            Rule::lang => lang = Some(self.name(part)),
                            Rule::string => text = Some(self.string(part)),
                            _ => {}
                        }
                    }
                    text.map(|text| HeaderKind::Title { lang, text })
                }
                Rule::basis | Rule::owner | Rule::receiver => inner(item)
                    .next()
                    .map(|s| self.string(s))
                    .map(|s| match item_rule {
                        Rule::basis => HeaderKind::Basis(s),
                        Rule::owner => HeaderKind::Owner(s),
                        _ => HeaderKind::Receiver(s),
                    }),
                Rule::version => {
                    let mut number = None;
                    let mut effective = None;
                    for part in inner(item) {
                        match part.as_rule() {
                            Rule::int | Rule::number => number = Some(self.number(part)),
                            Rule::date_lit => effective = Some(self.date(part)),
                            _ => {}
                        }
                    }
                    number.map(|number| HeaderKind::Version { number, effective })
                }
                Rule::kind | Rule::frequency | Rule::cutoff => inner(item)
                    .next()
                    .map(|n| self.name(n))
                    .map(|n| match item_rule {
                        Rule::kind => HeaderKind::Kind(n),
                        Rule::frequency => HeaderKind::Frequency(n),
                        _ => HeaderKind::Cutoff(n),
                    }),
                Rule::reporters | Rule::flow | Rule::method => {
                    let names: Vec<Name> = inner(item).map(|n| self.name(n)).collect();
                    Some(match item_rule {
                        Rule::reporters => HeaderKind::Reporters(names),
                        Rule::flow => HeaderKind::Flow(names),
                        _ => HeaderKind::Method(names),
                    })
                }
                Rule::deadline => {
                    let items = inner(item).filter_map(|d| self.deadline_item(d)).collect();
                    Some(HeaderKind::Deadline(items))
                }
                Rule::form => {
                    if let Some(f) = self.form(item) {
                        regime.forms.push(f);
                    }
                    None
                }
                Rule::rule | Rule::reconcile => {
                    if let Some(r) = self.rule(item) {
                        regime.rules.push(r);
                    }
                    None
                }
                Rule::bad_line => {
                    regime.incomplete = true;
                    if rest_of_rule {
                        // The rule's condition stopped being readable here.
                        if let Some(rule) = regime.rules.pop() {
                            self.broken_rule(&rule, item);
                            broken_rule = true;
                        }
                    } else if broken_rule && continues_rule(item.as_str()) {
                        // The rest of a rule already reported as broken.
                    } else {
                        // A `rule` line that cannot be read: its condition
                        // and options on the next lines are part of it.
                        broken_rule = matches!(
                            item.as_str().split_whitespace().next(),
                            Some("rule" | "reconcile")
                        );
                        self.bad_line(item, Context::Regime);
                    }
                    None
                }
                _ => None,
            };
            if let Some(kind) = kind {
                regime.header.push(Header {
                    kind,
                    keyword,
                    span: item_span,
                });
            }
        }
        Some(regime)
    }

    /// `deadline_item = { ident ~ (days_after | fixed_day) }`
    fn deadline_item(&mut self, p: P<'_>) -> Option<Deadline> {
        let span = self.span(&p);
        let mut it = inner(p);
        let level = self.name(it.next()?);
        let spec = it.next()?;
        let rule = match spec.as_rule() {
            Rule::days_after => {
                let mut days = None;
                let mut working = false;
                for part in inner(spec) {
                    match part.as_rule() {
                        Rule::int => days = Some(self.number(part)),
                        Rule::working => working = true,
                        _ => {}
                    }
                }
                DeadlineRule::DaysAfter {
                    days: days?,
                    working,
                }
            }
            Rule::fixed_day => {
                let parts: Vec<P<'_>> = inner(spec).collect();
                let day = parts.iter().find(|p| p.as_rule() == Rule::int)?.clone();
                DeadlineRule::DayOfNextMonth {
                    day: self.number(day),
                    next_working_day: parts.iter().any(|p| p.as_rule() == Rule::next_working),
                }
            }
            _ => return None,
        };
        Some(Deadline { level, rule, span })
    }

    /// `form = { k_form ~ ident ~ string ~ (records_body | grid_body) }`
    fn form(&mut self, p: P<'_>) -> Option<Form> {
        let span = self.span(&p);
        let mut it = inner(p);
        let code = self.name(it.next()?);
        let title = self.string(it.next()?);
        let body_pair = it.next()?;
        let body = match body_pair.as_rule() {
            Rule::records_body => {
                let mut fields = Vec::new();
                for f in inner(body_pair) {
                    match f.as_rule() {
                        Rule::field => {
                            if let Some(field) = self.field(f) {
                                fields.push(field);
                            }
                        }
                        Rule::bad_line => self.bad_line(f, Context::Records),
                        _ => {}
                    }
                }
                FormBody::Records { fields }
            }
            _ => {
                let mut columns = Vec::new();
                let mut columns_span = None;
                let mut rows = Vec::new();
                for part in inner(body_pair) {
                    match part.as_rule() {
                        Rule::columns => {
                            columns_span = Some(self.span(&part));
                            for c in inner(part) {
                                match c.as_rule() {
                                    Rule::column => {
                                        if let Some(col) = self.column(c) {
                                            columns.push(col);
                                        }
                                    }
                                    Rule::bad_line => self.bad_line(c, Context::Columns),
                                    _ => {}
                                }
                            }
                        }
                        Rule::rows => {
                            for r in inner(part) {
                                self.row_item(r, &mut rows);
                            }
                        }
                        Rule::bad_line => self.bad_line(part, Context::Grid),
                        _ => {}
                    }
                }
                FormBody::Grid {
                    columns,
                    columns_span,
                    rows,
                }
            }
        };
        Some(Form {
            code,
            title,
            body,
            span,
        })
    }

    /// `field = { !reserved ~ ident ~ string ~ type_ann ~ attr* }`
    fn field(&mut self, p: P<'_>) -> Option<Field> {
        let span = self.span(&p);
        let mut it = inner(p);
        let name = self.name(it.next()?);
        let label = self.string(it.next()?);
        let ty = self.type_ann(it.next()?);
        let attrs = it.filter_map(|a| self.attr(a)).collect();
        Some(Field {
            name,
            label,
            ty,
            attrs,
            span,
        })
    }

    /// `column = { !reserved ~ ident ~ string ~ formula? ~ type_ann? ~ attr* }`
    fn column(&mut self, p: P<'_>) -> Option<Column> {
        let span = self.span(&p);
        let mut it = inner(p);
        let name = self.name(it.next()?);
        let label = self.string(it.next()?);
        let mut column = Column {
            name,
            label,
            formula: None,
            ty: None,
            attrs: Vec::new(),
            span,
        };
        for part in it {
            match part.as_rule() {
                Rule::formula => column.formula = self.formula(part),
                Rule::type_ann => column.ty = Some(self.type_ann(part)),
                _ => {
                    if let Some(a) = self.attr(part) {
                        column.attrs.push(a);
                    }
                }
            }
        }
        Some(column)
    }

    /// `row_item = _{ include | row | bad_line }`
    fn row_item(&mut self, p: P<'_>, out: &mut Vec<RowItem>) {
        match p.as_rule() {
            Rule::row => {
                if let Some(r) = self.row(p) {
                    out.push(RowItem::Row(Box::new(r)));
                }
            }
            Rule::include => {
                if let Some(path) = inner(p).next() {
                    out.push(RowItem::Include(self.name(path)));
                }
            }
            Rule::bad_line => self.bad_line(p, Context::Rows),
            _ => {}
        }
    }

    /// `row = { row_no ~ ident ~ string ~ formula? ~ type_ann? ~ attr* ~ (split | of_which)* }`
    fn row(&mut self, p: P<'_>) -> Option<Row> {
        let span = self.span(&p);
        let mut it = inner(p);
        let number = self.name(it.next()?);
        let name = self.name(it.next()?);
        let label = self.string(it.next()?);
        let mut row = Row {
            number,
            name,
            label,
            formula: None,
            ty: None,
            attrs: Vec::new(),
            children: Vec::new(),
            span,
        };
        for part in it {
            match part.as_rule() {
                Rule::formula => row.formula = self.formula(part),
                Rule::type_ann => row.ty = Some(self.type_ann(part)),
                Rule::split | Rule::of_which => {
                    let kind = if part.as_rule() == Rule::split {
                        ChildKind::Split
                    } else {
                        ChildKind::OfWhich
                    };
                    let block_span = self.span(&part);
                    let mut label = None;
                    let mut rows = Vec::new();
                    for c in inner(part) {
                        if c.as_rule() == Rule::string {
                            label = Some(self.string(c));
                        } else {
                            self.row_item(c, &mut rows);
                        }
                    }
                    row.children.push(ChildBlock {
                        kind,
                        label,
                        rows,
                        span: block_span,
                    });
                }
                _ => {
                    if let Some(a) = self.attr(part) {
                        row.attrs.push(a);
                    }
                }
            }
        }
        Some(row)
    }

    /// `formula = { "=" ~ expr }`
    fn formula(&mut self, p: P<'_>) -> Option<Expr> {
        inner(p).next().map(|e| self.expr(e))
    }

    /// `type_ann = { COLON ~ type_expr ~ unit_ann? | unit_ann }`
    fn type_ann(&mut self, p: P<'_>) -> TypeAnn {
        let span = self.span(&p);
        let mut ann = TypeAnn {
            ty: None,
            unit: None,
            span,
        };
        for part in inner(p) {
            match part.as_rule() {
                Rule::type_expr => {
                    let Some(t) = inner(part).next() else {
                        continue;
                    };
                    let tspan = self.span(&t);
                    ann.ty = match t.as_rule() {
                        Rule::code_type => inner(t).next().map(|c| TypeExpr::Code {
                            codelist: self.name(c),
                            span: tspan,
                        }),
                        _ => {
                            let mut it = inner(t);
                            it.next().map(|n| {
                                let name = self.name(n);
                                let params = it.map(|x| self.number(x)).collect();
                                TypeExpr::Simple {
                                    name,
                                    params,
                                    span: tspan,
                                }
                            })
                        }
                    };
                }
                Rule::unit_ann => {
                    ann.unit = inner(part).next().map(|u| self.unit_expr(u));
                }
                _ => {}
            }
        }
        ann
    }

    /// `unit_expr = { unit_term ~ (unit_op ~ unit_term)* }`
    fn unit_expr(&mut self, p: P<'_>) -> UnitExpr {
        let span = self.span(&p);
        let mut terms = Vec::new();
        let mut sign = 1;
        for part in inner(p) {
            match part.as_rule() {
                Rule::unit_op => sign = if part.as_str() == "/" { -1 } else { 1 },
                Rule::unit_term => {
                    let mut it = inner(part);
                    if let Some(n) = it.next() {
                        let name = self.name(n);
                        let power = it
                            .next()
                            .and_then(|e| e.as_str().parse::<i32>().ok())
                            .unwrap_or(1)
                            .clamp(-16, 16);
                        terms.push(UnitTerm {
                            name,
                            power: sign * power,
                        });
                    }
                }
                _ => {}
            }
        }
        UnitExpr { terms, span }
    }

    /// `attr = _{ entered | required | range | aggregate | without | note }`
    fn attr(&mut self, p: P<'_>) -> Option<Attr> {
        let span = self.span(&p);
        Some(match p.as_rule() {
            Rule::entered => Attr::Entered {
                once_per_year: inner(p).next().is_some(),
                span,
            },
            Rule::required => Attr::Required(span),
            Rule::range => {
                let mut it = inner(p);
                let min = it.next()?;
                let max = it.next()?;
                Attr::Range {
                    min: SignedNumber {
                        span: self.span(&min),
                        text: min.as_str().to_string(),
                    },
                    max: SignedNumber {
                        span: self.span(&max),
                        text: max.as_str().to_string(),
                    },
                    span,
                }
            }
            Rule::aggregate => {
                let mut axes = Vec::new();
                let mut none = false;
                for part in inner(p) {
                    match part.as_rule() {
                        Rule::agg_none => none = true,
                        Rule::agg_axis => {
                            let mut it = inner(part);
                            if let (Some(a), Some(f)) = (it.next(), it.next()) {
                                axes.push((self.name(a), self.name(f)));
                            }
                        }
                        _ => {}
                    }
                }
                Attr::Aggregate { axes, none, span }
            }
            Rule::without => Attr::Without(inner(p).map(|n| self.name(n)).collect()),
            Rule::note => Attr::Note(self.string(inner(p).next()?)),
            _ => return None,
        })
    }

    /// `rule = { k_rule ~ ident ~ ident? ~ string ~ for_each? ~ COLON ~ expr ~ rule_opt* }`
    /// and `reconcile = { … }`
    fn rule(&mut self, p: P<'_>) -> Option<Rule_> {
        let span = self.span(&p);
        let is_reconcile = p.as_rule() == Rule::reconcile;
        let mut it = inner(p);
        let code = self.name(it.next()?);
        let mut severity = None;
        let mut message = None;
        let mut placeholders = Vec::new();
        let mut for_each = None;
        let mut missing = None;
        let mut tolerance = None;
        let mut at_level = None;
        let mut expr = None;
        for part in it {
            match part.as_rule() {
                Rule::ident => severity = Some(self.name(part)),
                Rule::string => {
                    placeholders = self.placeholders(&part);
                    message = Some(self.string(part));
                }
                Rule::for_each => for_each = inner(part).next().map(|n| self.name(n)),
                Rule::missing => missing = inner(part).next().map(|n| self.name(n)),
                Rule::at_level => at_level = inner(part).next().map(|n| self.name(n)),
                Rule::tolerance => {
                    let tspan = self.span(&part);
                    if let Some(v) = inner(part).next() {
                        let percent = v.as_rule() == Rule::percent_lit;
                        let num = Some(if percent {
                            self.percent_number(v)
                        } else {
                            self.number(v)
                        });
                        tolerance = num.map(|value| Tolerance {
                            value,
                            percent,
                            span: tspan,
                        });
                    }
                }
                Rule::expr => expr = Some(self.expr(part)),
                _ => {}
            }
        }
        Some(Rule_ {
            code,
            is_reconcile,
            severity,
            message: message?,
            placeholders,
            for_each,
            missing,
            tolerance,
            at_level,
            expr: expr?,
            span,
        })
    }

    /// The `{…}` placeholders of a message string, parsed from the raw source
    /// (so that spans are exact). `{{` and `}}` stand for literal braces.
    fn placeholders(&mut self, p: &P<'_>) -> Vec<Reference> {
        let raw = p.as_str();
        let base = p.as_span().start();
        let mut out = Vec::new();
        let bytes = raw.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b == b'{' && bytes.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            if b == b'}' && bytes.get(i + 1) == Some(&b'}') {
                i += 2;
                continue;
            }
            if b == b'{' {
                let close = raw.get(i + 1..).and_then(|rest| rest.find('}'));
                let Some(close) = close else {
                    self.diags.push(
                        Diagnostic::new(
                            Code::BadPlaceholder,
                            Span::new(self.file, base + i, base + i + 1),
                            tr!(
                                "this `{{` opens a placeholder that is never closed",
                                "dấu `{{` này mở một chỗ giữ chỗ nhưng không bao giờ được đóng"
                            ),
                            tr!("unclosed placeholder", "chỗ giữ chỗ chưa đóng"),
                        )
                        .with_help(tr!(
                            "close it with `}}`, or write `{{{{` for a literal brace",
                            "hãy đóng bằng `}}`, hoặc viết `{{{{` để có dấu ngoặc nhọn thường"
                        )),
                    );
                    break;
                };
                let content = raw.get(i + 1..i + 1 + close).unwrap_or("");
                let offset = base + i + 1;
                match super::parse_placeholder(self.file, content.trim(), offset + (content.len() - content.trim_start().len())) {
                    Some(r) => out.push(r),
                    None => self.diags.push(
                        Diagnostic::new(
                            Code::BadPlaceholder,
                            Span::new(self.file, base + i, base + i + close + 2),
                            tr!(
                                "`{{{content}}}` is not a cell reference",
                                "`{{{content}}}` không phải là tham chiếu ô"
                            ),
                            tr!(
                                "expected a cell such as `{{cargo.month}}`",
                                "cần một ô, ví dụ `{{cargo.month}}`"
                            ),
                        )
                        .with_help(tr!(
                            "a placeholder names a cell, optionally with a period: `{{cargo.month@previous}}`; write `{{{{` for a literal brace",
                            "chỗ giữ chỗ nêu tên một ô, có thể kèm kỳ: `{{cargo.month@previous}}`; hãy viết `{{{{` để có dấu ngoặc nhọn thường"
                        )),
                    ),
                }
                i += close + 2;
                continue;
            }
            i += 1;
        }
        out
    }

    /// `expr = { disj }` and the precedence levels below it.
    fn expr(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        if self.depth == 0 {
            self.too_deep = false;
        }
        self.depth += 1;
        // Each level of brackets is about ten levels of the expression
        // grammar (or, operators, calls, `not`, `-`…).
        if self.depth > MAX_NESTING * EXPR_LEVELS {
            self.depth -= 1;
            self.height = 1;
            self.report_too_deep(
                span,
                tr!(
                    "this expression is nested more than {MAX_NESTING} levels deep",
                    "biểu thức này lồng nhau sâu quá {MAX_NESTING} mức"
                ),
                tr!(
                    "split it into computed cells or simpler rules",
                    "hãy tách nó thành các ô tính toán hoặc các quy tắc đơn giản hơn"
                ),
            );
            return Expr {
                kind: ExprKind::Error,
                span,
            };
        }
        self.height = 0;
        let e = self.expr_inner(p, span);
        self.depth -= 1;
        if self.height > MAX_TREE_HEIGHT {
            self.height = 1;
            self.report_too_deep(
                span,
                tr!(
                    "this expression chains more than {MAX_TREE_HEIGHT} operations",
                    "biểu thức này nối liền hơn {MAX_TREE_HEIGHT} phép tính"
                ),
                tr!(
                    "split it into computed cells (e.g. subtotals), each with a shorter formula",
                    "hãy tách nó thành các ô tính toán (ví dụ các tổng phụ), mỗi ô một công thức ngắn hơn"
                ),
            );
            return Expr {
                kind: ExprKind::Error,
                span,
            };
        }
        e
    }

    /// E0005, once per top-level expression.
    fn report_too_deep(&mut self, span: Span, message: Text, help: Text) {
        if !self.too_deep {
            self.too_deep = true;
            self.diags.push(
                Diagnostic::new(Code::TooDeep, span, message, tr!("too deep", "quá sâu"))
                    .with_help(help),
            );
        }
    }

    /// Records the height of a node built on children of height `child`.
    fn grow(&mut self, child: usize) {
        self.height = child + 1;
    }

    fn expr_inner(&mut self, p: P<'_>, span: Span) -> Expr {
        self.height = 1;
        let error = Expr {
            kind: ExprKind::Error,
            span,
        };
        match p.as_rule() {
            Rule::expr => match inner(p).next() {
                Some(e) => self.expr(e),
                None => error,
            },
            Rule::disj | Rule::conj => {
                let op = if p.as_rule() == Rule::disj {
                    BinOp::Or
                } else {
                    BinOp::And
                };
                self.fold_same(p, op)
            }
            Rule::neg => {
                let Some(first) = inner(p).next() else {
                    return error;
                };
                if first.as_rule() == Rule::neg {
                    let e = self.expr(first);
                    self.grow(self.height);
                    Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span,
                    }
                } else {
                    self.expr(first)
                }
            }
            Rule::cmp | Rule::sum | Rule::product => {
                let mut it = inner(p);
                let Some(first) = it.next() else {
                    return error;
                };
                let mut acc = self.expr(first);
                let mut h = self.height;
                while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
                    let op = match op.as_str() {
                        "==" => BinOp::Eq,
                        "!=" => BinOp::Ne,
                        "<=" => BinOp::Le,
                        ">=" => BinOp::Ge,
                        "<" => BinOp::Lt,
                        ">" => BinOp::Gt,
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        _ => BinOp::Div,
                    };
                    let rhs = self.expr(rhs);
                    h = h.max(self.height) + 1;
                    let s = acc.span.to(rhs.span);
                    acc = Expr {
                        kind: ExprKind::Binary(op, Box::new(acc), Box::new(rhs)),
                        span: s,
                    };
                    if h > MAX_TREE_HEIGHT {
                        break;
                    }
                }
                self.height = h;
                acc
            }
            Rule::unary => {
                let mut it = inner(p);
                let Some(first) = it.next() else {
                    return error;
                };
                if first.as_rule() == Rule::minus {
                    match it.next() {
                        Some(operand) => {
                            let e = self.expr(operand);
                            self.grow(self.height);
                            Expr {
                                kind: ExprKind::Neg(Box::new(e)),
                                span,
                            }
                        }
                        None => error,
                    }
                } else {
                    self.expr(first)
                }
            }
            Rule::number => Expr {
                kind: ExprKind::Number(self.number(p)),
                span,
            },
            Rule::percent_lit => Expr {
                kind: ExprKind::Percent(self.percent_number(p)),
                span,
            },
            Rule::date_lit => Expr {
                kind: ExprKind::Date(self.date(p)),
                span,
            },
            Rule::string => Expr {
                kind: ExprKind::Str(self.string(p)),
                span,
            },
            Rule::bool_lit => Expr {
                kind: ExprKind::Bool(p.as_str() == "true"),
                span,
            },
            Rule::reference => Expr {
                kind: ExprKind::Ref(reference_at(self.file, p, 0)),
                span,
            },
            Rule::call => {
                let mut it = inner(p);
                let Some(func) = it.next() else {
                    return error;
                };
                let func = self.name(func);
                let mut args = Vec::new();
                let mut h = 0;
                for a in it {
                    let mut parts = inner(a);
                    let Some(e) = parts.next() else { continue };
                    let expr = self.expr(e);
                    h = h.max(self.height);
                    let over = parts
                        .next()
                        .and_then(|o| inner(o).next())
                        .map(|n| self.name(n));
                    args.push(Arg { expr, over });
                }
                self.grow(h);
                Expr {
                    kind: ExprKind::Call { func, args },
                    span,
                }
            }
            _ => error,
        }
    }

    fn fold_same(&mut self, p: P<'_>, op: BinOp) -> Expr {
        let span = self.span(&p);
        let mut it = inner(p);
        let Some(first) = it.next() else {
            return Expr {
                kind: ExprKind::Error,
                span,
            };
        };
        let mut acc = self.expr(first);
        let mut h = self.height;
        for rhs in it {
            let rhs = self.expr(rhs);
            h = h.max(self.height) + 1;
            let s = acc.span.to(rhs.span);
            acc = Expr {
                kind: ExprKind::Binary(op, Box::new(acc), Box::new(rhs)),
                span: s,
            };
            if h > MAX_TREE_HEIGHT {
                break;
            }
        }
        self.height = h;
        acc
    }

    /// A rule whose condition cannot be read to its end: one E0001 at the
    /// place reading stopped (usually an unbalanced bracket), instead of
    /// errors about the half that was read.
    fn broken_rule(&mut self, rule: &super::ast::Rule, rest: P<'_>) {
        let span = span_first_line(self.span(&rest), rest.as_str());
        let line = rest.as_str().lines().next().unwrap_or("");
        // Reading may stop inside a word or number (`hàng_hóa` after its
        // `h`, `10,5` after `10,`): look at the whole source line.
        let input = rest.get_input();
        let at = (span.start as usize).min(input.len());
        let whole_start = input
            .get(..at)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |n| n + 1);
        let whole_end = input
            .get(at..)
            .and_then(|t| t.find('\n'))
            .map_or(input.len(), |n| at + n);
        let whole = input.get(whole_start..whole_end).unwrap_or("");
        // A cell named with Vietnamese letters (`hàng_hóa`): E0012 on that
        // word, not a parse error at its first accented letter.
        if let Some((offset, word)) = non_ascii_word(whole) {
            let start = whole_start + offset;
            self.diags.push(non_ascii_name(
                Span::new(self.file, start, start + word.len()),
                word,
            ));
            return;
        }
        // `10,5` or `10,5%`: a Vietnamese decimal comma.
        if let Some((offset, number)) = decimal_comma(whole) {
            let start = whole_start + offset;
            let fixed = number.replace(',', ".");
            self.diags.push(
                Diagnostic::new(
                    Code::BadNumber,
                    Span::new(self.file, start, start + number.len()),
                    tr!(
                        "`{number}` is written with a decimal comma; numbers in a regime use a decimal point",
                        "`{number}` được viết với dấu phẩy thập phân; số trong chế độ báo cáo dùng dấu chấm thập phân"
                    ),
                    tr!("decimal comma", "dấu phẩy thập phân"),
                )
                .with_label(rule.code.span, tr!("in this rule", "trong quy tắc này"))
                .with_help(tr!(
                    "write `{fixed}`: in formulas a comma separates the arguments of a function, as in `round(x, 2)` (forms still show and accept numbers the Vietnamese way)",
                    "hãy viết `{fixed}`: trong công thức dấu phẩy phân cách các đối số của hàm, như `round(x, 2)` (biểu mẫu vẫn hiển thị và nhận số theo cách viết Việt Nam)"
                )),
            );
            return;
        }
        let opened = line.matches('(').count();
        let closed = line.matches(')').count();
        let help = if opened > closed {
            Text::new(
                format!(
                    "{} `(` {} never closed: add the missing `)`",
                    opened - closed,
                    if opened - closed == 1 { "is" } else { "are" }
                ),
                format!(
                    "có {} dấu `(` không bao giờ được đóng: hãy thêm dấu `)` còn thiếu",
                    opened - closed
                ),
            )
        } else if closed > opened {
            tr!(
                "there is a `)` without its `(`",
                "có một dấu `)` không có dấu `(` tương ứng"
            )
        } else {
            tr!(
                "a condition is built from cells, numbers, `+ - * /`, comparisons, `and`/`or`/`not` and functions such as `abs(x)`",
                "điều kiện được tạo từ các ô, các số, `+ - * /`, các phép so sánh, `and`/`or`/`not` và các hàm như `abs(x)`"
            )
        };
        self.diags.push(
            Diagnostic::new(
                Code::SyntaxError,
                span,
                tr!(
                    "the condition of rule {} cannot be read from here",
                    "không đọc được điều kiện của quy tắc {} từ chỗ này",
                    rule.code.text
                ),
                tr!("not understood", "không hiểu được"),
            )
            .with_label(rule.code.span, tr!("in this rule", "trong quy tắc này"))
            .with_help(help),
        );
    }

    /// A line the grammar did not understand: says what was expected here.
    fn bad_line(&mut self, p: P<'_>, ctx: Context) {
        let span = self.span(&p);
        let text = p.as_str();
        let first_line = text.lines().next().unwrap_or("").trim();
        let words: Vec<&str> = first_line.split_whitespace().collect();
        let first = words.first().copied().unwrap_or("");
        let first_word: String = first
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        let shown: String = first_line.chars().take(60).collect();
        let word_span = {
            let start = span.start as usize + (text.len() - text.trim_start().len());
            Span::new(self.file, start, start + first.len().max(1))
        };

        let line_start = span.start as usize + (text.len() - text.trim_start().len());
        // A date written day/month/year (`effective 01/07/2025`).
        if let Some((offset, date, iso)) = slash_date(first_line) {
            let start = line_start + offset;
            self.diags.push(
                Diagnostic::new(
                    Code::BadDate,
                    Span::new(self.file, start, start + date.len()),
                    tr!(
                        "`{date}` is written day/month/year; dates in a regime are written year-month-day",
                        "`{date}` được viết theo ngày/tháng/năm; ngày trong chế độ báo cáo được viết năm-tháng-ngày"
                    ),
                    tr!("not YYYY-MM-DD", "không theo dạng YYYY-MM-DD"),
                )
                .with_help(tr!(
                    "write `{iso}` (YYYY-MM-DD)",
                    "hãy viết `{iso}` (YYYY-MM-DD)"
                )),
            );
            return;
        }
        // A rule whose message is not followed by `:`.
        if matches!(ctx, Context::Regime)
            && matches!(first_word.as_str(), "rule" | "reconcile")
            && let Some(close) = first_string_end(first_line)
            && !first_line
                .get(close..)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        {
            let at = line_start + close;
            self.diags.push(
                Diagnostic::new(
                    Code::SyntaxError,
                    Span::new(self.file, at.saturating_sub(1), at),
                    tr!(
                        "the message of this rule is not followed by `:`",
                        "thông báo của quy tắc này không có dấu `:` theo sau"
                    ),
                    tr!("`:` expected after the message", "cần dấu `:` sau thông báo"),
                )
                .with_help(tr!(
                    "write `:` between the message and the condition: `{first_word} R01 error \"…\": condition`",
                    "hãy viết dấu `:` giữa thông báo và điều kiện: `{first_word} R01 error \"…\": điều_kiện`"
                )),
            );
            return;
        }
        // The next deadline of a `deadline` line without the comma before it.
        if matches!(ctx, Context::Regime) && looks_like_deadline(&words) {
            self.diags.push(
                Diagnostic::new(
                    Code::SyntaxError,
                    word_span,
                    tr!(
                        "the deadline of `{first}` is not separated from the one before it by a comma",
                        "hạn báo cáo của `{first}` không được phân cách với hạn trước bằng dấu phẩy"
                    ),
                    tr!("`,` expected before this deadline", "cần dấu `,` trước hạn báo cáo này"),
                )
                .with_help(tr!(
                    "separate deadlines with commas: `deadline province 3 working days after cutoff, ministry 6 working days after cutoff`",
                    "hãy phân cách các hạn báo cáo bằng dấu phẩy: `deadline province 3 working days after cutoff, ministry 6 working days after cutoff`"
                )),
            );
            return;
        }
        // A string that runs to the end of the line.
        if let Some(q) = unclosed_quote(first_line) {
            let at = line_start + q;
            self.diags.push(
                Diagnostic::new(
                    Code::UnclosedBlock,
                    Span::new(self.file, at, at + 1),
                    tr!("this string is never closed", "chuỗi ký tự này không bao giờ được đóng"),
                    tr!("string starts here", "chuỗi bắt đầu ở đây"),
                )
                .with_help(tr!(
                    "close it with `\"` on the same line; a `\"` inside a text is written `\\\"`",
                    "hãy đóng bằng `\"` trên cùng dòng; dấu `\"` bên trong văn bản được viết là `\\\"`"
                )),
            );
            return;
        }
        // A name with Vietnamese letters (`hàng_hóa`) where an ASCII name is
        // needed: the first word outside strings with such letters.
        if let Some((offset, word)) = non_ascii_word(first_line) {
            let mut start = line_start + offset;
            // The line may start inside the word (`flow a -> bộ` read up
            // to `b`): report the whole word.
            let input = p.get_input();
            while let Some(c) = input.get(..start).and_then(|t| t.chars().next_back()) {
                if !(c.is_alphanumeric() || c == '_') {
                    break;
                }
                start -= c.len_utf8();
            }
            let end = line_start + offset + word.len();
            let word = input.get(start..end).unwrap_or(word);
            let mut d = non_ascii_name(Span::new(self.file, start, end), word);
            // `reporters tỉnh`, `flow xã -> tỉnh`: a level written in
            // Vietnamese; levels are named by the codes of the org data.
            let source_line = input
                .get(..start)
                .map(|t| t.rfind('\n').map_or(0, |n| n + 1))
                .and_then(|s| input.get(s..start))
                .unwrap_or("");
            let keyword = source_line.split_whitespace().next().unwrap_or("");
            if matches!(ctx, Context::Regime)
                && matches!(keyword, "reporters" | "flow" | "deadline" | "at")
            {
                d = d.with_help(tr!(
                    "levels are named by their code in the org data, not in Vietnamese: `province` (tỉnh), `district` (huyện), `commune` (xã), `ministry` (bộ), `government` (Chính phủ)",
                    "các cấp được gọi bằng mã trong dữ liệu tổ chức, không bằng tiếng Việt: `province` (tỉnh), `district` (huyện), `commune` (xã), `ministry` (bộ), `government` (Chính phủ)"
                ));
            }
            self.diags.push(d);
            return;
        }

        let (code, message, label, help) = match ctx {
            Context::Columns | Context::Records
                if [
                    "entered",
                    "required",
                    "range",
                    "aggregate",
                    "without",
                    "note",
                ]
                .contains(&first_word.as_str()) =>
            {
                (
                    Code::ReservedName,
                    tr!(
                        "`{first_word}` is a reserved word and cannot name a column or field",
                        "`{first_word}` là từ dành riêng, không dùng làm tên cột hay trường được"
                    ),
                    tr!("reserved word", "từ dành riêng"),
                    tr!(
                        "choose another name, e.g. `{first_word}_value`; the label can still read as you like",
                        "hãy chọn tên khác, ví dụ `{first_word}_value`; nhãn vẫn ghi tùy ý"
                    ),
                )
            }
            Context::Rows
                if first.starts_with(|c: char| c.is_ascii_alphabetic())
                    && words.get(1).is_some_and(|w| w.starts_with('"')) =>
            {
                (
                    Code::MissingRowNumber,
                    tr!(
                        "the row `{first}` has no row number",
                        "dòng `{first}` không có số thứ tự"
                    ),
                    tr!(
                        "row number expected before the name",
                        "cần số thứ tự dòng trước tên"
                    ),
                    tr!(
                        "write the number printed on the paper form first, e.g. `1 {first} …` or `1.2 {first} …`",
                        "hãy ghi trước số thứ tự in trên biểu giấy, ví dụ `1 {first} …` hoặc `1.2 {first} …`"
                    ),
                )
            }
            _ => {
                let (what, words_here): (Text, &[&str]) = match ctx {
                    Context::Top => (
                        tr!(
                            "a declaration (`use`, `unit`, `codelist`, `group` or `regime`)",
                            "một khai báo (`use`, `unit`, `codelist`, `group` hoặc `regime`)"
                        ),
                        TOP_WORDS,
                    ),
                    Context::Regime => (
                        tr!(
                            "a regime header line, a `form` or a `rule`",
                            "một dòng tiêu đề của chế độ báo cáo, một `form` hoặc một `rule`"
                        ),
                        REGIME_WORDS,
                    ),
                    Context::Grid => (
                        tr!(
                            "a `columns {{ … }}` or `rows {{ … }}` block",
                            "một khối `columns {{ … }}` hoặc `rows {{ … }}`"
                        ),
                        &["columns", "rows"],
                    ),
                    Context::Columns => (
                        tr!("a column: `name \"Label\" …`", "một cột: `tên \"Nhãn\" …`"),
                        ATTR_WORDS,
                    ),
                    Context::Rows => (
                        tr!(
                            "a row: `1 name \"Label\" : type [unit]`",
                            "một dòng: `1 tên \"Nhãn\" : kiểu [đơn_vị]`"
                        ),
                        ATTR_WORDS,
                    ),
                    Context::Records => (
                        tr!(
                            "a field: `name \"Label\" : type`",
                            "một trường: `tên \"Nhãn\" : kiểu`"
                        ),
                        ATTR_WORDS,
                    ),
                    Context::Codelist => (
                        tr!(
                            "a code and its label: `01 \"Label\"`",
                            "một mã và nhãn của nó: `01 \"Nhãn\"`"
                        ),
                        &[],
                    ),
                };
                let help = match suggest(&first_word, words_here.iter().copied()) {
                    Some(s) if s != first_word => {
                        tr!("did you mean `{s}`?", "có phải ý là `{s}`?")
                    }
                    _ => match ctx {
                        Context::Regime => did_you_mean(
                            &first_word,
                            tr!("header keyword", "từ khóa tiêu đề"),
                            REGIME_WORDS.iter().copied(),
                        ),
                        _ => tr!(
                            "expected {}; see `regc explain E0002` for the shapes of each block",
                            "cần {}; xem `regc explain E0002` để biết dạng của từng khối",
                            what
                        ),
                    },
                };
                (
                    Code::UnexpectedLine,
                    tr!(
                        "this line is not understood here: `{shown}`",
                        "không hiểu được dòng này ở đây: `{shown}`"
                    ),
                    tr!("expected {}", "cần {}", what),
                    help,
                )
            }
        };
        let primary = if code == Code::UnexpectedLine {
            span_first_line(span, text)
        } else {
            word_span
        };
        self.diags
            .push(Diagnostic::new(code, primary, message, label).with_help(help));
    }
}

/// A line that continues a rule (its condition, or `missing …`,
/// `tolerance …`, `at …`) rather than starting a new regime item.
fn continues_rule(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    let word: String = first
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    !REGIME_WORDS.contains(&word.as_str())
}

/// The part of a span on its first line (so a swallowed block does not
/// underline twenty lines).
fn span_first_line(span: Span, text: &str) -> Span {
    let len = text.find('\n').unwrap_or(text.len());
    Span {
        end: span.start + u32::try_from(len).unwrap_or(0),
        ..span
    }
}

type Rule_ = super::ast::Rule;

/// `reference = { path ~ period_ref? }`, with spans shifted by `offset`
/// (non-zero for placeholders parsed out of a message).
pub(crate) fn reference_at(file: FileId, p: P<'_>, offset: usize) -> Reference {
    let s = p.as_span();
    // The reference ends with its last part: `path ~ period_ref?` also
    // holds the blanks (a line break, a comment) before a period that is
    // not there.
    let end = p
        .clone()
        .into_inner()
        .last()
        .map_or(s.end(), |last| last.as_span().end());
    let span = Span::new(file, s.start() + offset, end + offset);
    let mut segments = Vec::new();
    let mut period = None;
    for part in p.into_inner() {
        match part.as_rule() {
            Rule::path => {
                let base = part.as_span().start() + offset;
                let mut pos = 0;
                for seg in part.as_str().split('.') {
                    let start = base + pos;
                    segments.push(Name {
                        text: seg.to_string(),
                        span: Span::new(file, start, start + seg.len()),
                    });
                    pos += seg.len() + 1;
                }
            }
            Rule::period_ref => {
                if let Some(n) = part.into_inner().next() {
                    let ns = n.as_span();
                    period = Some(Name {
                        text: n.as_str().to_string(),
                        span: Span::new(file, ns.start() + offset, ns.end() + offset),
                    });
                }
            }
            _ => {}
        }
    }
    Reference {
        segments,
        period,
        span,
    }
}

/// The byte offset of a `"` that opens a string never closed on its line.
fn unclosed_quote(line: &str) -> Option<usize> {
    let mut open = None;
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if open.is_some() => {
                chars.next();
            }
            '"' => open = if open.is_some() { None } else { Some(i) },
            '/' if open.is_none() && line.get(i..).is_some_and(|r| r.starts_with("//")) => break,
            _ => {}
        }
    }
    open
}

/// The first word outside strings and comments that has letters outside
/// ASCII (a name written with Vietnamese letters), with its byte offset.
fn non_ascii_word(line: &str) -> Option<(usize, &str)> {
    let mut in_string = false;
    let mut start = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        let word_char = c.is_alphanumeric() || c == '_';
        match (word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let w = line.get(s..i).unwrap_or("");
                if !w.is_ascii() {
                    return Some((s, w));
                }
                start = None;
            }
            _ => {}
        }
        if c == '"' {
            in_string = true;
        }
        if c == '/' && line.get(i..).is_some_and(|r| r.starts_with("//")) {
            return None;
        }
    }
    let s = start?;
    let w = line.get(s..)?;
    (!w.is_ascii()).then_some((s, w))
}

/// E0012 for `word`, a name with letters outside ASCII.
fn non_ascii_name(span: Span, word: &str) -> Diagnostic {
    Diagnostic::new(
        Code::NonAsciiName,
        span,
        tr!(
            "`{word}` is not a valid name: names use ASCII letters, digits and `_`",
            "`{word}` không phải là tên hợp lệ: tên chỉ dùng chữ cái ASCII, chữ số và `_`"
        ),
        tr!("not an ASCII name", "không phải tên ASCII"),
    )
    .with_help(tr!(
        "write the name without accents (e.g. `{}`) and put the Vietnamese text in the label",
        "hãy viết tên không dấu (ví dụ `{}`) và để chữ tiếng Việt trong nhãn",
        crate::lang::strip_accents(word)
    ))
}

/// The parts of `line` outside strings and comments, with their offsets.
fn code_parts(line: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in line.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                start = i + 1;
            }
            continue;
        }
        if c == '"' {
            parts.push((start, line.get(start..i).unwrap_or("")));
            in_string = true;
        } else if c == '/' && line.get(i..).is_some_and(|r| r.starts_with("//")) {
            parts.push((start, line.get(start..i).unwrap_or("")));
            return parts;
        }
    }
    if !in_string {
        parts.push((start, line.get(start..).unwrap_or("")));
    }
    parts
}

/// A number written with a decimal comma (`10,5`, `10,5%`) outside strings:
/// digits, a comma, digits, with no space around the comma.
fn decimal_comma(line: &str) -> Option<(usize, &str)> {
    for (base, part) in code_parts(line) {
        let b = part.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c != b','
                || i == 0
                || !b.get(i - 1).is_some_and(u8::is_ascii_digit)
                || !b.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                continue;
            }
            let mut s = i - 1;
            while s > 0
                && b.get(s - 1)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
            {
                s -= 1;
            }
            let mut e = i + 1;
            while b.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
            if b.get(e) == Some(&b'%') {
                e += 1;
            }
            // Not the end of a name (`x1,2` is two arguments).
            if s > 0
                && b.get(s - 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            {
                continue;
            }
            return Some((base + s, part.get(s..e)?));
        }
    }
    None
}

/// A date written `dd/mm/yyyy` (or `d/m/yyyy`) outside strings, with its
/// offset and the same date as `yyyy-mm-dd`.
fn slash_date(line: &str) -> Option<(usize, &str, String)> {
    for (base, part) in code_parts(line) {
        let mut offset = 0;
        for word in part.split(|c: char| c.is_whitespace() || c == ',') {
            let here = offset;
            offset += word.len() + 1;
            let mut it = word.split('/');
            let (Some(d), Some(m), Some(y), None) = (it.next(), it.next(), it.next(), it.next())
            else {
                continue;
            };
            let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
                n.contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit())
            };
            if digits(d, 1..=2) && digits(m, 1..=2) && digits(y, 4..=4) {
                return Some((base + here, word, format!("{y}-{m:0>2}-{d:0>2}")));
            }
        }
    }
    None
}

/// The byte offset just after the first string of `line`, if it has one.
fn first_string_end(line: &str) -> Option<usize> {
    let open = line.find('"')?;
    let mut escaped = false;
    for (i, c) in line.get(open + 1..)?.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(open + 1 + i + 1),
            _ => {}
        }
    }
    None
}

/// Whether the words of a line read as one deadline of a `deadline` line
/// (`ministry 6 working days after cutoff`, `government day 20 of next
/// month`): the line left over when a comma between deadlines is missing.
fn looks_like_deadline(words: &[&str]) -> bool {
    let is_name = |w: &str| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let is_num = |w: &str| !w.is_empty() && w.bytes().all(|c| c.is_ascii_digit());
    match words {
        [level, n, rest @ ..] if is_name(level) && is_num(n) => {
            rest.first()
                .is_some_and(|w| matches!(*w, "working" | "days" | "day"))
                && rest.contains(&"after")
        }
        [level, "day", n, "of", ..] => is_name(level) && is_num(n),
        _ => false,
    }
}

/// A whole-file parse failure (the grammar's recovery could not absorb it,
/// e.g. an unclosed block or string): one diagnostic at the place pest
/// stopped, phrased without grammar rule names.
pub(super) fn parse_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let ErrorVariant::CustomError { message } = &err.variant
        && message.contains("limit reached")
    {
        return Diagnostic::new(
            Code::TooDeep,
            Span::new(file, pos, (pos + 1).min(text.len())),
            tr!(
                "the file nests too deeply here to be read",
                "tệp lồng nhau quá sâu ở đây nên không đọc được"
            ),
            tr!("reading stopped here", "dừng đọc ở đây"),
        )
        .with_help(tr!(
            "long chains of `not` or `-`, or deeply nested brackets, cannot be read; simplify the expression or split it into computed cells",
            "không đọc được chuỗi dài các `not` hay `-`, hoặc các dấu ngoặc lồng quá sâu; hãy đơn giản hóa biểu thức hoặc tách thành các ô tính toán"
        ));
    }
    let braces = scan_braces(text);
    if let Some(open) = braces.unclosed {
        let last = text.trim_end().len();
        let last_start = text
            .get(..last)
            .and_then(|t| t.char_indices().last())
            .map(|(i, _)| i)
            .unwrap_or(0);
        return Diagnostic::new(
            Code::UnclosedBlock,
            Span::new(file, open, open + 1),
            tr!("this `{{` is never closed", "dấu `{{` này không bao giờ được đóng"),
            tr!("block opened here", "khối mở ở đây"),
        )
        .with_label(
            Span::new(file, last_start, last),
            tr!("the file ends before its `}}`", "tệp kết thúc trước dấu `}}` của nó"),
        )
        .with_help(tr!(
            "add the missing `}}` (each `form`, `rows`, `columns`, `split` and `regime` block needs one); the indentation suggests it belongs to the block marked here",
            "hãy thêm dấu `}}` còn thiếu (mỗi khối `form`, `rows`, `columns`, `split` và `regime` cần một dấu); cách thụt lề cho thấy nó thuộc khối được đánh dấu ở đây"
        ));
    }
    if let Some(close) = braces.stray {
        return Diagnostic::new(
            Code::SyntaxError,
            Span::new(file, close, close + 1),
            tr!(
                "this `}}` closes a block that is already closed",
                "dấu `}}` này đóng một khối đã được đóng"
            ),
            tr!("one `}}` too many", "thừa một dấu `}}`"),
        )
        .with_help(tr!(
            "remove this `}}`, or the one before it that closes its block too early; everything after the extra `}}` is outside the regime",
            "hãy bỏ dấu `}}` này, hoặc dấu trước nó đã đóng khối quá sớm; mọi thứ sau dấu `}}` thừa đều nằm ngoài chế độ báo cáo"
        ));
    }
    if let Some(open) = unclosed_string(text) {
        return Diagnostic::new(
            Code::UnclosedBlock,
            Span::new(file, open, open + 1),
            tr!(
                "this string is never closed",
                "chuỗi ký tự này không bao giờ được đóng"
            ),
            tr!("string starts here", "chuỗi bắt đầu ở đây"),
        )
        .with_help(tr!(
            "close the string with `\"` on the same line",
            "hãy đóng chuỗi bằng `\"` trên cùng dòng"
        ));
    }
    let expected = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<(&str, &str)> =
                positives.iter().filter_map(|r| friendly(*r)).collect();
            words.sort_unstable();
            words.dedup();
            words
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let end = text
        .get(pos..)
        .and_then(|rest| rest.find(|c: char| c.is_whitespace()))
        .map(|n| pos + n.max(1))
        .unwrap_or(text.len());
    let label = if expected.is_empty() {
        tr!("unexpected here", "không mong đợi ở đây")
    } else {
        let en: Vec<&str> = expected.iter().map(|w| w.0).collect();
        let vi: Vec<&str> = expected.iter().map(|w| w.1).collect();
        Text::new(
            format!("expected {}", en.join(" or ")),
            format!("cần {}", vi.join(" hoặc ")),
        )
    };
    Diagnostic::new(
        Code::SyntaxError,
        Span::new(file, pos, end.min(text.len())),
        tr!(
            "the file cannot be read past this point",
            "không đọc được tệp quá chỗ này"
        ),
        label,
    )
    .with_help(tr!(
        "check the brackets and quotes around this place; `regc explain E0001` shows the shape of a regime file",
        "hãy kiểm tra các dấu ngoặc và dấu ngoặc kép quanh chỗ này; `regc explain E0001` cho thấy dạng của một tệp chế độ báo cáo"
    ))
}

/// What the braces of a file say when it cannot be parsed.
struct Braces {
    /// A `{` never closed: the likeliest one (see below).
    unclosed: Option<usize>,
    /// A `}` with no `{`: the likeliest one.
    stray: Option<usize>,
}

/// Matches braces (outside strings and comments) and uses indentation to
/// find the likely culprit: the first `}` standing on its own line whose
/// indentation differs from the line of the `{` it closes is where the
/// structure went wrong. If a block is left open, it is the block that
/// `}` closed (its own `}` is missing); if there is one `}` too many, it is
/// that `}`.
fn scan_braces(text: &str) -> Braces {
    let line_start = |pos: usize| {
        text.get(..pos)
            .and_then(|t| t.rfind('\n'))
            .map(|n| n + 1)
            .unwrap_or(0)
    };
    let indent = |s: &str| s.chars().take_while(|c| *c == ' ' || *c == '\t').count();
    // The indentation of the line `pos` is on.
    let line_indent = |pos: usize| indent(text.get(line_start(pos)..).unwrap_or(""));
    // The indentation before `pos`, and whether only blanks precede it.
    let indent_at = |pos: usize| -> (usize, bool) {
        let before = text.get(line_start(pos)..pos).unwrap_or("");
        (indent(before), before.trim().is_empty())
    };
    let mut stack: Vec<usize> = Vec::new();
    let mut mismatch: Option<(usize, usize)> = None;
    let mut stray = None;
    let mut in_string = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' | '\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek().map(|(_, c)| *c) == Some('/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' => stack.push(i),
            '}' => match stack.pop() {
                Some(open) => {
                    let (close_indent, alone) = indent_at(i);
                    let open_line_indent = line_indent(open);
                    if alone && close_indent != open_line_indent && mismatch.is_none() {
                        mismatch = Some((open, i));
                    }
                }
                None => {
                    if stray.is_none() {
                        stray = Some(i);
                    }
                }
            },
            _ => {}
        }
    }
    let unclosed = (!stack.is_empty())
        .then(|| mismatch.map(|(open, _)| open).or(stack.last().copied()))
        .flatten();
    let stray = stray.map(|s| mismatch.map(|(_, close)| close).unwrap_or(s));
    Braces { unclosed, stray }
}

/// The opening quote of a string that runs to the end of its line.
fn unclosed_string(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(i) = unclosed_quote(line.trim_end_matches(['\n', '\r'])) {
            return Some(offset + i);
        }
        offset += line.len();
    }
    None
}

/// Grammar rules as users know them; `None` for rules never worth naming.
/// What a grammar rule is, for people: (English, Vietnamese).
fn friendly(r: Rule) -> Option<(&'static str, &'static str)> {
    Some(match r {
        Rule::ident | Rule::path => ("a name", "một tên"),
        Rule::string => ("a text in double quotes", "một văn bản trong dấu ngoặc kép"),
        Rule::int | Rule::number | Rule::signed_number => ("a number", "một số"),
        Rule::date_lit => ("a date (YYYY-MM-DD)", "một ngày (YYYY-MM-DD)"),
        Rule::expr
        | Rule::disj
        | Rule::conj
        | Rule::neg
        | Rule::cmp
        | Rule::sum
        | Rule::product
        | Rule::unary => ("an expression", "một biểu thức"),
        Rule::cmp_op => ("a comparison", "một phép so sánh"),
        Rule::type_expr | Rule::type_ann => ("a type", "một kiểu"),
        Rule::unit_expr | Rule::unit_term => ("a unit", "một đơn vị đo"),
        Rule::row_no => ("a row number", "một số thứ tự dòng"),
        Rule::EOI => ("the end of the file", "cuối tệp"),
        _ => return None,
    })
}

/// Characters a text in a `.regime` file may not hold as they are: control
/// characters (NUL breaks every PostgreSQL import of the catalog; `\t`
/// and `\n` are written as escapes) and the bidirectional formatting
/// characters that make a text show other than it reads (U+202A–U+202E,
/// U+2066–U+2069).
pub fn forbidden_in_text(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The most characters of a text: what an Excel cell holds (the templates
/// hold every title and label).
pub const MAX_TEXT_CHARS: usize = 32_767;
