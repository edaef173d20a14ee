//! The physical layout of a regime's data: which table and column holds
//! each entered cell, and how each type is stored in each engine. The one
//! place that decides names and storage; the schema emitter
//! ([`crate::emit::schema`]), `regc import` and `regc migrate` all read it.
//!
//! * A form is one table, `"<regime>.<form>"`; a grid form has one row per
//!   submission (key `submission_id`), a record form one row per record
//!   (key `submission_id`, `record`).
//! * Each entered cell is one typed column named by the cell's id
//!   (`"cargo.month"`, or the field's name). Computed cells are not stored:
//!   they are recomputed from the entered ones.
//! * A form with more than [`PART_COLUMNS`] entered cells is split into
//!   parts `"<regime>.<form>#2"`, `#3`… in cell order, each keyed by
//!   `submission_id`, so that no table nears PostgreSQL's limits (1,600
//!   columns, and a row of fixed-width values must fit an 8 kB page).
//! * A cell named like a key column (`unit`, `period`, `status`…, see
//!   [`RESERVED`]) is stored as `"cell:<id>"`.
//! * Names longer than 63 bytes are shortened by [`crate::sql::fit`].
//!
//! Storage by type (PostgreSQL / SQLite STRICT tables):
//!
//! | type | PostgreSQL | SQLite |
//! |---|---|---|
//! | `int`, `money` | `BIGINT` | `INTEGER` |
//! | `decimal(p,s)`, p ≤ 18 | `NUMERIC(p,s)` | `INTEGER` holding the value × 10^s |
//! | `decimal(p,s)`, p > 18 | `NUMERIC(p,s)` | `TEXT`, the exact decimal |
//! | `percent` | `NUMERIC(12,4)`, points | `INTEGER`, points × 10^4 |
//! | `text(n)` | `VARCHAR(n)` | `TEXT`, `CHECK (length ≤ n)` |
//! | `date` | `DATE` | `TEXT`, `CHECK` an ISO date |
//! | `bool` | `BOOLEAN` | `INTEGER`, `CHECK IN (0, 1)` |
//! | `code LIST` | `TEXT` → `"regc_code.LIST"` | `TEXT` → `"regc_code.LIST"` |
//!
//! SQLite has no exact decimal type (its `NUMERIC` affinity keeps binary
//! floating point), so decimals are scaled integers there: sums stay exact,
//! and `regc_cell.stored_scale` says by how many digits to shift.

use crate::ir::{self, FormKind, Type};
use crate::sql::{self, Dialect};

/// The most entered cells one table holds.
pub const PART_COLUMNS: usize = 500;

/// How percent cells are stored: percentage points, as `decimal(12,4)`.
pub const PERCENT_PRECISION: u32 = 12;
pub const PERCENT_SCALE: u32 = 4;

/// The widest decimal SQLite keeps as a scaled 64-bit integer.
pub const SQLITE_MAX_SCALED_PRECISION: u32 = 18;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegimeLayout {
    pub regime: String,
    pub version: u32,
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub form: String,
    pub kind: FormKind,
    /// 1 for the form's first (or only) table.
    pub part: usize,
    /// The table's name, fitted.
    pub name: String,
    /// The name of its view of current revisions, fitted.
    pub view: String,
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The cell's id in the IR.
    pub cell: String,
    /// The column's name, fitted.
    pub name: String,
    pub storage: Storage,
    /// Inclusive bounds as exact decimals, in the cell's scale.
    pub range: Option<ir::Range>,
}

/// The value domain of a stored column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// A whole number (`int`, `money`).
    Integer,
    /// An exact decimal; `percent` is `Decimal { 12, 4 }`.
    Decimal {
        precision: u32,
        scale: u32,
    },
    Text {
        max_len: u32,
    },
    Date,
    Bool,
    Code {
        codelist: String,
    },
}

impl Storage {
    pub fn of(ty: &Type) -> Storage {
        match ty {
            Type::Int | Type::Money => Storage::Integer,
            Type::Decimal { precision, scale } => Storage::Decimal {
                precision: *precision,
                scale: *scale,
            },
            Type::Percent => Storage::Decimal {
                precision: PERCENT_PRECISION,
                scale: PERCENT_SCALE,
            },
            Type::Text { max_len } => Storage::Text { max_len: *max_len },
            Type::Date => Storage::Date,
            Type::Bool => Storage::Bool,
            Type::Code { codelist } => Storage::Code {
                codelist: codelist.clone(),
            },
        }
    }

    /// By how many decimal digits the stored number is shifted: `s` for a
    /// decimal held as a scaled integer in SQLite, else 0.
    pub fn stored_scale(&self, dialect: Dialect) -> u32 {
        match (self, dialect) {
            (Storage::Decimal { precision, scale }, Dialect::Sqlite)
                if *precision <= SQLITE_MAX_SCALED_PRECISION =>
            {
                *scale
            }
            _ => 0,
        }
    }

    /// Whether SQLite keeps this decimal as text.
    pub fn sqlite_text_decimal(&self) -> bool {
        matches!(self, Storage::Decimal { precision, .. } if *precision > SQLITE_MAX_SCALED_PRECISION)
    }

    pub fn sql_type(&self, dialect: Dialect) -> String {
        match (dialect, self) {
            (Dialect::Postgres, Storage::Integer) => "BIGINT".into(),
            (Dialect::Postgres, Storage::Decimal { precision, scale }) => {
                format!("NUMERIC({precision},{scale})")
            }
            (Dialect::Postgres, Storage::Text { max_len }) => format!("VARCHAR({max_len})"),
            (Dialect::Postgres, Storage::Date) => "DATE".into(),
            (Dialect::Postgres, Storage::Bool) => "BOOLEAN".into(),
            (Dialect::Postgres, Storage::Code { .. }) => "TEXT".into(),
            (Dialect::Sqlite, s) if s.sqlite_text_decimal() => "TEXT".into(),
            (Dialect::Sqlite, Storage::Integer | Storage::Decimal { .. } | Storage::Bool) => {
                "INTEGER".into()
            }
            (Dialect::Sqlite, Storage::Text { .. } | Storage::Date | Storage::Code { .. }) => {
                "TEXT".into()
            }
        }
    }

    /// A short name for the catalog (`regc_cell.type`).
    pub fn type_name(&self) -> String {
        match self {
            Storage::Integer => "integer".into(),
            Storage::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            Storage::Text { max_len } => format!("text({max_len})"),
            Storage::Date => "date".into(),
            Storage::Bool => "bool".into(),
            Storage::Code { codelist } => format!("code {codelist}"),
        }
    }
}

impl Column {
    /// The column's CHECK condition, if the type or range says more than the
    /// SQL type does.
    pub fn check(&self, dialect: Dialect) -> Option<String> {
        let c = sql::ident(&self.name);
        let mut parts = Vec::new();
        let scale = self.storage.stored_scale(dialect);
        match (&self.storage, dialect) {
            (Storage::Decimal { precision, .. }, Dialect::Sqlite)
                if !self.storage.sqlite_text_decimal() =>
            {
                let max = "9".repeat(*precision as usize);
                parts.push(format!("{c} BETWEEN -{max} AND {max}"));
            }
            (Storage::Text { max_len }, Dialect::Sqlite) => {
                parts.push(format!("length({c}) <= {max_len}"));
            }
            (Storage::Date, Dialect::Sqlite) => {
                parts.push(format!("coalesce(date({c}), '') = {c}"));
            }
            (Storage::Bool, Dialect::Sqlite) => parts.push(format!("{c} IN (0, 1)")),
            _ => {}
        }
        // SQLite compares text decimals as text: their range is regc's job.
        let comparable = !(dialect == Dialect::Sqlite && self.storage.sqlite_text_decimal());
        if let Some(range) = self.range.as_ref().filter(|_| comparable) {
            let lo = shift_decimal(&range.min, scale, Round::Up);
            let hi = shift_decimal(&range.max, scale, Round::Down);
            if let (Some(lo), Some(hi)) = (lo, hi) {
                parts.push(format!("{c} BETWEEN {lo} AND {hi}"));
            }
        }
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }

    /// The column's definition in `CREATE TABLE` or `ADD COLUMN`.
    pub fn definition(&self, dialect: Dialect) -> String {
        let mut def = format!(
            "{} {}",
            sql::ident(&self.name),
            self.storage.sql_type(dialect)
        );
        if let Some(check) = self.check(dialect) {
            let name = check_name(&self.name);
            def.push_str(&format!(
                " CONSTRAINT {} CHECK ({check})",
                sql::ident(&name)
            ));
        }
        if let Storage::Code { codelist } = &self.storage {
            def.push_str(&format!(
                " CONSTRAINT {} REFERENCES {} (\"code\")",
                sql::ident(&code_name(&self.name)),
                sql::ident(&codelist_table(codelist))
            ));
        }
        def
    }
}

/// The name of a column's CHECK constraint (migrations replace it).
pub fn check_name(column: &str) -> String {
    sql::fit(&format!("{column}.check"))
}

/// The name of a code column's foreign key.
pub fn code_name(column: &str) -> String {
    sql::fit(&format!("{column}.code"))
}

/// The names regc gives the key columns of form tables and their views.
pub const RESERVED: &[&str] = &[
    "submission_id",
    "record",
    "unit",
    "period",
    "revision",
    "status",
];

/// The column of a cell: its id, or `cell:<id>` if the id is one of the
/// [`RESERVED`] names (`:` is in no id, so this cannot collide).
pub fn column_name(id: &str) -> String {
    if RESERVED.contains(&id) {
        sql::fit(&format!("cell:{id}"))
    } else {
        sql::fit(id)
    }
}

/// The table of a codelist's values.
pub fn codelist_table(codelist: &str) -> String {
    sql::fit(&format!("regc_code.{codelist}"))
}

/// How to round a bound that has more decimals than its column keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Up,
    Down,
}

/// `value` (an exact decimal string) × 10^`shift`, as an exact decimal
/// string; digits left after the point when `shift` is the column's scale
/// are rounded toward the inside of the range (`Up` for a lower bound).
/// `None` if `value` is not a decimal.
pub fn shift_decimal(value: &str, shift: u32, round: Round) -> Option<String> {
    let (neg, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let shift = shift as usize;
    let mut whole = String::from(int);
    let mut rest = frac.to_string();
    if rest.len() >= shift {
        let tail = rest.split_off(shift);
        whole.push_str(&rest);
        rest = tail;
    } else {
        whole.push_str(&rest);
        whole.push_str(&"0".repeat(shift - rest.len()));
        rest.clear();
    }
    let inexact = rest.chars().any(|c| c != '0');
    let whole = whole.trim_start_matches('0');
    let mut n: String = if whole.is_empty() {
        "0".into()
    } else {
        whole.into()
    };
    if shift > 0 || !inexact {
        // An integer result; a remainder moves it toward the inside.
        let away = inexact && ((round == Round::Up) != neg);
        if away {
            n = increment(&n);
        }
        return Some(if neg && n != "0" { format!("-{n}") } else { n });
    }
    // shift == 0 and a fractional part: keep the exact decimal.
    let frac = rest.trim_end_matches('0');
    Some(format!("{}{n}.{frac}", if neg { "-" } else { "" }))
}

fn increment(n: &str) -> String {
    let mut digits: Vec<u8> = n.bytes().rev().map(|b| b - b'0').collect();
    let mut carry = 1;
    for d in digits.iter_mut() {
        let v = *d + carry;
        *d = v % 10;
        carry = v / 10;
        if carry == 0 {
            break;
        }
    }
    if carry > 0 {
        digits.push(carry);
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// The layout of one regime.
pub fn regime(r: &ir::Regime) -> RegimeLayout {
    let mut tables = Vec::new();
    for form in &r.forms {
        let entered: Vec<&ir::Cell> = form
            .cells
            .iter()
            .filter(|c| !matches!(c.entry, ir::Entry::Computed { .. }))
            .collect();
        let chunks: Vec<&[&ir::Cell]> = if entered.is_empty() {
            vec![&[]]
        } else {
            entered.chunks(PART_COLUMNS).collect()
        };
        for (i, chunk) in chunks.into_iter().enumerate() {
            let part = i + 1;
            let base = if part == 1 {
                format!("{}.{}", r.code, form.code)
            } else {
                format!("{}.{}#{part}", r.code, form.code)
            };
            tables.push(Table {
                form: form.code.clone(),
                kind: form.kind,
                part,
                name: sql::fit(&base),
                view: sql::fit(&format!("{base}.current")),
                columns: chunk
                    .iter()
                    .map(|c| Column {
                        cell: c.id.clone(),
                        name: column_name(&c.id),
                        storage: Storage::of(&c.ty),
                        range: c.range.clone(),
                    })
                    .collect(),
            });
        }
    }
    RegimeLayout {
        regime: r.code.clone(),
        version: r.version,
        tables,
    }
}

impl RegimeLayout {
    /// The table and column of a cell.
    pub fn column(&self, form: &str, cell: &str) -> Option<(&Table, &Column)> {
        self.tables
            .iter()
            .filter(|t| t.form == form)
            .find_map(|t| t.columns.iter().find(|c| c.cell == cell).map(|c| (t, c)))
    }

    pub fn form_tables<'a>(&'a self, form: &'a str) -> impl Iterator<Item = &'a Table> + 'a {
        self.tables.iter().filter(move |t| t.form == form)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn shifts_decimals_exactly() {
        let s = |v, n, r| shift_decimal(v, n, r).unwrap();
        assert_eq!(s("12.5", 2, Round::Up), "1250");
        assert_eq!(s("0", 4, Round::Up), "0");
        assert_eq!(s("-0.5", 0, Round::Up), "-0.5");
        assert_eq!(s("100", 0, Round::Down), "100");
        assert_eq!(s("1.234", 2, Round::Up), "124");
        assert_eq!(s("1.234", 2, Round::Down), "123");
        assert_eq!(s("-1.234", 2, Round::Up), "-123");
        assert_eq!(s("-1.234", 2, Round::Down), "-124");
        assert_eq!(s("0.999", 2, Round::Up), "100");
        assert_eq!(s("007.10", 1, Round::Down), "71");
        assert!(shift_decimal("1e5", 0, Round::Up).is_none());
        assert!(shift_decimal("", 0, Round::Up).is_none());
    }
}
