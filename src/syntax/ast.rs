//! The abstract syntax tree: what a `.regime` file says, with a span on every
//! node, before any name is resolved. Values with a closed set of spellings
//! (frequency, severity, …) are kept as written ([`Name`]) and validated by
//! the checker, which can then point at them and suggest a spelling.

use crate::source::{FileId, Span};

/// An identifier or dotted path as written, with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A string literal with escapes resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct File {
    pub id: FileId,
    /// `common.units` for `common/units.regime`.
    pub module: String,
    pub uses: Vec<Use>,
    pub units: Vec<UnitDecl>,
    pub codelists: Vec<CodelistDecl>,
    pub groups: Vec<GroupDecl>,
    pub regimes: Vec<Regime>,
}

#[derive(Debug, Clone)]
pub struct Use {
    pub path: Name,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct UnitDecl {
    pub name: Name,
    pub label: Option<Str>,
    /// `= 0.001 tonne`: a unit defined as a multiple of another.
    pub alias: Option<(Number, UnitExpr)>,
    /// `stock`: it counts what exists at a moment (beds, schools, staff),
    /// so a cell in it is not summed over time.
    pub stock: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct CodelistDecl {
    pub name: Name,
    pub label: Option<Str>,
    pub source: CodelistSource,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum CodelistSource {
    Inline(Vec<(Name, Str)>),
    /// A YAML file, relative to the library root.
    File(Str),
}

#[derive(Debug, Clone)]
pub struct GroupDecl {
    pub name: Name,
    pub label: Option<Str>,
    pub rows: Vec<RowItem>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Regime {
    pub code: Name,
    pub header: Vec<Header>,
    pub forms: Vec<Form>,
    pub rules: Vec<Rule>,
    /// Some line of the regime could not be read (and was reported): checks
    /// for what is missing are skipped, since it may be on that line.
    pub incomplete: bool,
    pub span: Span,
}

/// One header line of a regime.
#[derive(Debug, Clone)]
pub struct Header {
    pub kind: HeaderKind,
    /// The keyword, for "given twice" diagnostics.
    pub keyword: Span,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum HeaderKind {
    Title {
        lang: Option<Name>,
        text: Str,
    },
    Basis(Str),
    Owner(Str),
    Receiver(Str),
    Version {
        number: Number,
        effective: Option<DateLit>,
    },
    Kind(Name),
    Frequency(Name),
    Cutoff(Name),
    Reporters(Vec<Name>),
    Flow(Vec<Name>),
    Deadline(Vec<Deadline>),
    Method(Vec<Name>),
}

impl HeaderKind {
    /// The keyword as written (`title.en` for a titled language).
    pub fn keyword(&self) -> String {
        match self {
            HeaderKind::Title { lang: Some(l), .. } => format!("title.{}", l.text),
            HeaderKind::Title { lang: None, .. } => "title".into(),
            HeaderKind::Basis(_) => "basis".into(),
            HeaderKind::Owner(_) => "owner".into(),
            HeaderKind::Receiver(_) => "receiver".into(),
            HeaderKind::Version { .. } => "version".into(),
            HeaderKind::Kind(_) => "kind".into(),
            HeaderKind::Frequency(_) => "frequency".into(),
            HeaderKind::Cutoff(_) => "cutoff".into(),
            HeaderKind::Reporters(_) => "reporters".into(),
            HeaderKind::Flow(_) => "flow".into(),
            HeaderKind::Deadline(_) => "deadline".into(),
            HeaderKind::Method(_) => "method".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Deadline {
    pub level: Name,
    pub rule: DeadlineRule,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum DeadlineRule {
    /// `3 working days after cutoff` / `10 days after cutoff`
    DaysAfter { days: Number, working: bool },
    /// `day 20 of next month`, with `or next working day` when a day off
    /// moves it.
    DayOfNextMonth { day: Number, next_working_day: bool },
}

/// A non-negative integer or decimal literal, kept as written so that no
/// precision is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    pub text: String,
    pub span: Span,
}

impl Number {
    /// The value if it is a small whole number.
    pub fn as_u32(&self) -> Option<u32> {
        self.text.parse().ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateLit {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Form {
    pub code: Name,
    pub title: Str,
    pub body: FormBody,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FormBody {
    Grid {
        columns: Vec<Column>,
        /// Where the `columns` block was (None if the form has none, which
        /// means one implicit `value` column).
        columns_span: Option<Span>,
        rows: Vec<RowItem>,
    },
    Records {
        fields: Vec<Field>,
    },
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: Name,
    pub label: Str,
    pub formula: Option<Expr>,
    pub ty: Option<TypeAnn>,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum RowItem {
    Row(Box<Row>),
    Include(Name),
}

#[derive(Debug, Clone)]
pub struct Row {
    pub number: Name,
    pub name: Name,
    pub label: Str,
    pub formula: Option<Expr>,
    pub ty: Option<TypeAnn>,
    pub attrs: Vec<Attr>,
    pub children: Vec<ChildBlock>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// "Chia ra": the children sum to the parent.
    Split,
    /// "Trong đó": each child is at most the parent.
    OfWhich,
}

#[derive(Debug, Clone)]
pub struct ChildBlock {
    pub kind: ChildKind,
    pub label: Option<Str>,
    pub rows: Vec<RowItem>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: Name,
    pub label: Str,
    pub ty: TypeAnn,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TypeAnn {
    pub ty: Option<TypeExpr>,
    pub unit: Option<UnitExpr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TypeExpr {
    /// `int`, `decimal(12,2)`, `text(120)`, …: validated by the checker.
    Simple {
        name: Name,
        params: Vec<Number>,
        span: Span,
    },
    /// `code countries`
    Code { codelist: Name, span: Span },
}

#[derive(Debug, Clone)]
pub struct UnitExpr {
    pub terms: Vec<UnitTerm>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct UnitTerm {
    pub name: Name,
    /// The exponent, negative after `/`.
    pub power: i32,
}

#[derive(Debug, Clone)]
pub enum Attr {
    Entered {
        once_per_year: bool,
        span: Span,
    },
    Required(Span),
    Range {
        min: SignedNumber,
        max: SignedNumber,
        span: Span,
    },
    Aggregate {
        axes: Vec<(Name, Name)>,
        none: bool,
        span: Span,
    },
    Without(Vec<Name>),
    Note(Str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNumber {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub code: Name,
    pub is_reconcile: bool,
    pub severity: Option<Name>,
    pub message: Str,
    /// The `{cell}` placeholders of the message, parsed as references.
    pub placeholders: Vec<Reference>,
    pub for_each: Option<Name>,
    pub missing: Option<Name>,
    pub tolerance: Option<Tolerance>,
    pub at_level: Option<Name>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Tolerance {
    pub value: Number,
    pub percent: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Number(Number),
    /// `30%`, kept as the number before the sign.
    Percent(Number),
    Str(Str),
    Bool(bool),
    Date(DateLit),
    Ref(Reference),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call {
        func: Name,
        args: Vec<Arg>,
    },
    /// Stands for a subexpression that did not parse; a diagnostic was
    /// already reported, and checking treats it as unknown.
    Error,
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub expr: Expr,
    /// `over year_to_date`
    pub over: Option<Name>,
}

impl Reference {
    /// The reference as written, without its period: `B01.cargo.month`.
    pub fn text(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

#[derive(Debug, Clone)]
pub struct Reference {
    /// The dotted segments: `B01.cargo.month` → [B01, cargo, month].
    pub segments: Vec<Name>,
    /// `@previous`, `@same_period_last_year`.
    pub period: Option<Name>,
    pub span: Span,
}
