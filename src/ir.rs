//! The typed IR: a checked regime library, the only input of the emitters.
//!
//! Everything here is resolved and checked: every cell has its type, unit,
//! entry mode and aggregation; every rule (written or derived from split and
//! of-which rows) is an expression tree whose nodes carry their type and
//! unit; every reference names its form and cell. The IR is serialized as
//! JSON by `regc build --ir DIR` (format version [`IR_VERSION`]); its meaning
//! is documented in `docs/ir.md`.
//!
//! Conventions:
//! * numbers are exact decimals kept as strings (`"0.3"`), never floats;
//! * percent cells store percentage points (`80` means 80 %); in
//!   expressions every value is a plain number, so a reference to a percent
//!   cell is wrapped in `÷ 100` and a computed percent cell's formula in
//!   `× 100`, explicitly, in the tree;
//! * lists are in source order (forms, rows, columns) or sorted by code
//!   (regimes, codelists, units), so the JSON is deterministic.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped on every incompatible change of the IR's JSON form.
pub const IR_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    pub ir_version: u32,
    pub regimes: Vec<Regime>,
    /// Every codelist some cell uses, by code.
    pub codelists: Vec<Codelist>,
    /// Every declared unit of measure, by name.
    pub units: Vec<UnitOfMeasure>,
    pub org: Org,
    pub holidays: Vec<crate::data::Holiday>,
    /// Weekend days that are working days (make-up days).
    pub working_weekends: Vec<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Org {
    pub levels: Vec<crate::data::Level>,
    pub unit_types: Vec<crate::data::UnitType>,
    /// Effective-dated editions of the hierarchy. Not serialized with the
    /// rest (they are large): `regc build --ir` writes them to `org.json`.
    #[serde(skip)]
    pub editions: Vec<crate::data::Edition>,
    #[serde(skip)]
    pub mappings: Vec<crate::data::Mapping>,
}

impl Org {
    /// The title of a level or unit type (`province` → "Tỉnh, thành phố
    /// trực thuộc trung ương").
    pub fn title_of(&self, code: &str) -> Option<&str> {
        self.levels
            .iter()
            .find(|l| l.code == code)
            .map(|l| l.title.as_str())
            .or_else(|| {
                self.unit_types
                    .iter()
                    .find(|t| t.code == code)
                    .map(|t| t.title.as_str())
            })
    }

    /// The edition of the hierarchy in force on `day`: the dated edition
    /// whose validity holds it (dated editions include the permanent
    /// units), else the first edition without dates.
    pub fn edition_on(&self, day: NaiveDate) -> Option<&crate::data::Edition> {
        let dated = |e: &&crate::data::Edition| e.valid_from.is_some() || e.valid_to.is_some();
        self.editions
            .iter()
            .filter(dated)
            .find(|e| e.valid_from.is_none_or(|f| f <= day) && e.valid_to.is_none_or(|t| day <= t))
            .or_else(|| self.editions.iter().find(|e| !dated(e)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Codelist {
    pub code: String,
    pub title: String,
    pub values: Vec<crate::data::CodeValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitOfMeasure {
    pub name: String,
    pub label: Option<String>,
    /// `kg = 0.001 tonne`: the factor and the unit it is a multiple of.
    pub defined_as: Option<(String, Unit)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regime {
    /// [`IR_VERSION`], so that each regime's JSON file says its format.
    pub ir_version: u32,
    /// `transport.seaport_cargo`
    pub code: String,
    /// Titles by language; `vi` is always present.
    pub titles: BTreeMap<String, String>,
    pub basis: String,
    pub owner: String,
    pub receiver: Option<String>,
    pub kind: RegimeKind,
    pub frequency: Frequency,
    pub cutoff: Cutoff,
    pub reporters: Vec<String>,
    /// Levels (or unit types) a report passes through, reporters first.
    pub flow: Vec<String>,
    /// One per level of the flow, in flow order (an ad hoc regime may leave
    /// levels without one).
    pub deadlines: Vec<Deadline>,
    pub methods: Vec<Method>,
    pub version: u32,
    pub effective: Option<NaiveDate>,
    pub forms: Vec<Form>,
    pub rules: Vec<Rule>,
    /// The file the regime is written in, relative to the library root.
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegimeKind {
    Periodic,
    Thematic,
    AdHoc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    SixMonthly,
    NineMonthly,
    Annual,
    AdHoc,
}

impl Frequency {
    pub const ALL: &'static [(&'static str, Frequency)] = &[
        ("daily", Frequency::Daily),
        ("weekly", Frequency::Weekly),
        ("monthly", Frequency::Monthly),
        ("quarterly", Frequency::Quarterly),
        ("six_monthly", Frequency::SixMonthly),
        ("nine_monthly", Frequency::NineMonthly),
        ("annual", Frequency::Annual),
        ("ad_hoc", Frequency::AdHoc),
    ];

    pub fn name(self) -> &'static str {
        Frequency::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .unwrap_or("ad_hoc")
    }

    /// Whether a year holds more than one period of this frequency.
    /// A nine-month report is made once a year (January to September).
    pub fn is_sub_annual(self) -> bool {
        !matches!(
            self,
            Frequency::Annual | Frequency::NineMonthly | Frequency::AdHoc
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cutoff {
    /// Decree 09/2019/NĐ-CP Art. 12: periods run from the 15th to the 14th.
    Decree09,
    /// Calendar months, quarters and years.
    Calendar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Electronic,
    Paper,
    Signed,
    Email,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub level: String,
    pub rule: DeadlineRule,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeadlineRule {
    /// N days after the cut-off day; working days skip weekends and holidays.
    DaysAfterCutoff { days: u32, working: bool },
    /// A fixed day of the month after the period's cut-off; with
    /// `next_working_day`, a weekend or holiday moves it to the next
    /// working day (`day 20 of next month or next working day`).
    DayOfNextMonth {
        day: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        next_working_day: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// `B01`
    pub code: String,
    pub title: String,
    pub kind: FormKind,
    /// Grid forms: the columns in order (one implicit `value` column if the
    /// form declared none). Empty for record forms.
    pub columns: Vec<Column>,
    /// Grid forms: the rows in paper order, children after their parent.
    /// Empty for record forms.
    pub rows: Vec<Row>,
    /// Grid forms: one per existing row × column, row-major. Record forms:
    /// one per field.
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    Grid,
    Records,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub label: String,
    /// True for the implicit column of a form without `columns`.
    pub implicit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    /// As printed on the paper form: `1`, `1.1`, `II`.
    pub number: String,
    pub label: String,
    /// Nesting depth: 0 for top rows, 1 for their split/of-which children…
    pub depth: u32,
    pub parent: Option<String>,
    /// How this row relates to its parent.
    pub relation: Option<Relation>,
    /// The heading of the block this row is in ("Chia ra", "Trong đó").
    pub block_label: Option<String>,
    /// Which of the parent's blocks the row is in: a row may be split in
    /// several ways (by sex, by area), each block summing to the parent.
    pub block: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// "Chia ra": the children sum to the parent.
    Split,
    /// "Trong đó": each child is at most the parent.
    OfWhich,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// `cargo.month` in a grid form, the field name in a record form.
    pub id: String,
    pub row: Option<String>,
    pub column: Option<String>,
    /// As printed: the field's label in a record form; in a grid form the
    /// row's label, then the column's (`Tổng hàng hóa — Thực hiện tháng`).
    pub label: String,
    pub ty: Type,
    pub unit: Unit,
    pub entry: Entry,
    pub required: bool,
    /// Inclusive bounds, in the cell's stored scale.
    pub range: Option<Range>,
    /// How the value rolls up over org units and over time; `None` for
    /// computed cells (recomputed at every level from aggregated inputs) and
    /// for the fields of record forms. Values that do not roll up say so
    /// with `none` on an axis.
    pub aggregation: Option<Aggregation>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Type {
    /// A whole number.
    Int,
    Decimal {
        precision: u32,
        scale: u32,
    },
    /// Vietnamese đồng, a whole number (VND has no minor unit).
    Money,
    /// Percentage points: 80 means 80 %.
    Percent,
    Text {
        max_len: u32,
    },
    Date,
    Bool,
    Code {
        codelist: String,
    },
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Type::Int | Type::Decimal { .. } | Type::Money | Type::Percent
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub min: String,
    pub max: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Entered,
    /// Entered in the first period of each year (a yearly plan); later
    /// periods of the year carry it.
    EnteredYearly,
    Computed {
        formula: Expr,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregation {
    pub units: UnitsAgg,
    pub time: TimeAgg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitsAgg {
    Sum,
    Average,
    Min,
    Max,
    Count,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeAgg {
    Sum,
    Average,
    Last,
    First,
    Min,
    Max,
    None,
}

/// A unit of measure as a product of powers of declared units:
/// `tonne/person` is `{tonne: 1, person: -1}`; dimensionless is `{}`.
/// Kept as a short sorted list (most units have one or two factors, and
/// every expression node carries one); serialized as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Unit(Vec<(String, i32)>);

impl Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, p) in &self.0 {
            m.serialize_entry(k, p)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, i32>::deserialize(d)?;
        Ok(Unit(m.into_iter().filter(|(_, p)| *p != 0).collect()))
    }
}

impl Unit {
    pub fn dimensionless() -> Unit {
        Unit::default()
    }

    pub fn base(name: &str) -> Unit {
        Unit::power(name, 1)
    }

    /// `name^p`.
    pub fn power(name: &str, p: i32) -> Unit {
        if p == 0 {
            Unit::default()
        } else {
            Unit(vec![(name.to_string(), p)])
        }
    }

    /// The factors and their powers, sorted by name.
    pub fn powers(&self) -> impl Iterator<Item = (&str, i32)> {
        self.0.iter().map(|(k, p)| (k.as_str(), *p))
    }

    pub fn is_dimensionless(&self) -> bool {
        self.0.is_empty()
    }

    /// A ratio has some unit in the denominator (`tonne/person`).
    /// The one unit it is, with its power (`tonne` is `("tonne", 1)`).
    pub fn single(&self) -> Option<(&str, i32)> {
        match self.0.as_slice() {
            [(u, p)] => Some((u.as_str(), *p)),
            _ => None,
        }
    }

    pub fn is_ratio(&self) -> bool {
        self.0.iter().any(|(_, p)| *p < 0)
    }

    pub fn mul(&self, other: &Unit) -> Unit {
        self.combine(other, 1)
    }

    pub fn div(&self, other: &Unit) -> Unit {
        self.combine(other, -1)
    }

    fn combine(&self, other: &Unit, sign: i32) -> Unit {
        let mut out = self.0.clone();
        for (k, p) in &other.0 {
            match out.binary_search_by(|(n, _)| n.as_str().cmp(k)) {
                Ok(i) => {
                    if let Some(e) = out.get_mut(i) {
                        e.1 += sign * p;
                        if e.1 == 0 {
                            out.remove(i);
                        }
                    }
                }
                Err(i) => out.insert(i, (k.clone(), sign * p)),
            }
        }
        Unit(out)
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no unit");
        }
        let part = |items: Vec<(&String, i32)>| {
            items
                .iter()
                .map(|(k, p)| {
                    if *p == 1 {
                        (*k).clone()
                    } else {
                        format!("{k}^{p}")
                    }
                })
                .collect::<Vec<_>>()
                .join("*")
        };
        let num: Vec<_> = self
            .0
            .iter()
            .filter(|(_, p)| *p > 0)
            .map(|(k, p)| (k, *p))
            .collect();
        let den: Vec<_> = self
            .0
            .iter()
            .filter(|(_, p)| *p < 0)
            .map(|(k, p)| (k, -*p))
            .collect();
        let n = if num.is_empty() {
            "1".to_string()
        } else {
            part(num)
        };
        if den.is_empty() {
            f.write_str(&n)
        } else {
            write!(f, "{n}/{}", part(den))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `R01` for written rules; `split.B01.cargo.month` and
    /// `of_which.B01.liquid.month` for derived ones.
    pub code: String,
    pub origin: RuleOrigin,
    pub severity: Severity,
    /// The message with `{n}` placeholders numbered into `placeholders`.
    pub message: String,
    pub placeholders: Vec<Expr>,
    pub missing: Missing,
    pub scope: RuleScope,
    /// For comparisons between two sources: allowed difference.
    pub tolerance: Option<Tolerance>,
    /// The org level at which a reconciliation is made.
    pub at_level: Option<String>,
    /// A boolean expression: true means the data pass.
    pub check: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuleOrigin {
    Written,
    Reconcile,
    Split {
        form: String,
        parent: String,
        column: String,
    },
    OfWhich {
        form: String,
        parent: String,
        child: String,
        column: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks submission.
    Error,
    /// Needs an explanation from the reporter.
    Warning,
    Info,
}

/// What a rule does when a value it reads is missing (blank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Not evaluated if any value it reads is missing (the default).
    SkipIfAny,
    /// Not evaluated only if every value it reads is missing; others count as zero.
    SkipIfAll,
    /// Missing values count as zero.
    Zero,
    /// Always evaluated: a missing value makes the rule fail.
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuleScope {
    /// Evaluated once per submission (unit × period).
    Submission,
    /// Evaluated for each record of a record form.
    EachRecord { form: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance {
    pub value: String,
    /// Relative to the larger absolute side (`1%`), else absolute.
    pub relative: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expr {
    #[serde(flatten)]
    pub kind: ExprKind,
    pub ty: ValueType,
    #[serde(skip_serializing_if = "Unit::is_dimensionless", default)]
    pub unit: Unit,
}

/// The type of an expression's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Number,
    Text,
    Bool,
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ExprKind {
    Number {
        value: String,
    },
    Text {
        value: String,
    },
    Bool {
        value: bool,
    },
    Date {
        value: NaiveDate,
    },
    /// A cell of a grid form or a field of the current record.
    Cell {
        /// Another regime (reconciliation only).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        regime: Option<String>,
        form: String,
        cell: String,
        period: PeriodRef,
    },
    Neg {
        arg: Box<Expr>,
    },
    Not {
        arg: Box<Expr>,
    },
    Binary {
        bin: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Call {
        func: Func,
        args: Vec<Expr>,
    },
    /// `sum(x over year_to_date)`: `x` summed over the periods of the year up
    /// to and including the current one.
    YearToDate {
        func: TimeAgg,
        arg: Box<Expr>,
    },
    /// `count(B02)`, `sum(B02.gross_t)`: over the records of a record form.
    Records {
        func: RecordFunc,
        form: String,
        field: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl Expr {
    /// Calls `f` on this node and every node below it, parents first.
    pub fn walk<'e>(&'e self, f: &mut impl FnMut(&'e Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Neg { arg } | ExprKind::Not { arg } | ExprKind::YearToDate { arg, .. } => {
                arg.walk(f)
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
            ExprKind::Number { .. }
            | ExprKind::Text { .. }
            | ExprKind::Bool { .. }
            | ExprKind::Date { .. }
            | ExprKind::Cell { .. }
            | ExprKind::Records { .. } => {}
        }
    }
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Func {
    Abs,
    Min,
    Max,
    /// `round(x)` or `round(x, digits)`: half away from zero.
    Round,
    /// `sum(a, b, …)`
    Sum,
    /// `if(condition, then, else)`
    If,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFunc {
    Count,
    Sum,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodRef {
    Current,
    Previous,
    SamePeriodLastYear,
}
