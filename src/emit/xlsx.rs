//! Excel templates: `generated/<regime>/forms/<FORM>.xlsx`, the official
//! layout of a form for units that still report by spreadsheet: the grid
//! with its row numbers, labels, units and column headers locked, the
//! entered cells open with data validation (whole numbers, decimals, dates,
//! lengths, codelists, ranges), computed cells as Excel formulas where the
//! formula reads only the same sheet, and a hidden sheet `regc` that maps
//! each cell id to its address, by which `regc import`/`regc validate` read
//! a filled template back (`Reader::read_workbook`). Record forms are a
//! table of [`RECORD_ROWS`] open rows. Deterministic: fixed document dates,
//! and rust_xlsxwriter writes no other timestamp.

use crate::ir::{self, BinOp, Expr, ExprKind, FormKind, Func, PeriodRef, Type};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, DocProperties,
    ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};
use std::collections::BTreeMap;

/// Open rows of a record form's table.
pub const RECORD_ROWS: u32 = 200;

/// The name of the hidden sheet that maps cells to addresses.
pub const META_SHEET: &str = "regc";

/// Where things are on the form's sheet (0-based rows and columns).
const UNIT_ROW: u32 = 3;
const PERIOD_ROW: u32 = 4;
const INPUT_COL: u16 = 2;
const HEADER_ROW: u32 = 6;
const FIRST_ROW: u32 = 8;
/// Grid forms: STT, label, unit, then the columns.
const FIRST_VALUE_COL: u16 = 3;

/// An A1 address (`D9`) of a 0-based row and column.
pub fn a1(row: u32, col: u16) -> String {
    let mut name = String::new();
    let mut c = u32::from(col) + 1;
    while c > 0 {
        let rem = (c - 1) % 26;
        name.insert(0, char::from(b'A' + rem as u8));
        c = (c - 1) / 26;
    }
    format!("{name}{}", row + 1)
}

/// The 0-based row and column of an A1 address.
pub fn parse_a1(text: &str) -> Option<(u32, u16)> {
    let split = text.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = text.split_at(split);
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut col: u32 = 0;
    for b in letters.bytes() {
        col = col.checked_mul(26)?.checked_add(u32::from(b - b'A') + 1)?;
    }
    let row: u32 = digits.parse().ok()?;
    Some((
        row.checked_sub(1)?,
        u16::try_from(col.checked_sub(1)?).ok()?,
    ))
}

/// An Excel formula for a computed cell, when every value it reads is on
/// the same sheet in the current period (else `None`: regc computes it).
fn formula(e: &Expr, form: &str, at: &BTreeMap<&str, String>) -> Option<String> {
    let f = |x: &Expr| formula(x, form, at);
    Some(match &e.kind {
        ExprKind::Number { value } => value.clone(),
        ExprKind::Bool { value } => if *value { "TRUE" } else { "FALSE" }.to_string(),
        ExprKind::Text { value } => format!("\"{}\"", value.replace('"', "\"\"")),
        ExprKind::Date { .. } => return None,
        ExprKind::Cell {
            regime: None,
            form: f2,
            cell,
            period: PeriodRef::Current,
        } if f2 == form => at.get(cell.as_str())?.clone(),
        ExprKind::Cell { .. } | ExprKind::YearToDate { .. } | ExprKind::Records { .. } => {
            return None;
        }
        ExprKind::Neg { arg } => format!("(-{})", f(arg)?),
        ExprKind::Not { arg } => format!("NOT({})", f(arg)?),
        ExprKind::Binary { bin, lhs, rhs } => {
            let (l, r) = (f(lhs)?, f(rhs)?);
            match bin {
                BinOp::And => format!("AND({l},{r})"),
                BinOp::Or => format!("OR({l},{r})"),
                _ => {
                    let op = match bin {
                        BinOp::Add => "+",
                        BinOp::Sub => "-",
                        BinOp::Mul => "*",
                        BinOp::Div => "/",
                        BinOp::Eq => "=",
                        BinOp::Ne => "<>",
                        BinOp::Lt => "<",
                        BinOp::Le => "<=",
                        BinOp::Gt => ">",
                        _ => ">=",
                    };
                    format!("({l}{op}{r})")
                }
            }
        }
        ExprKind::Call { func, args } => {
            let args: Vec<String> = args.iter().map(f).collect::<Option<_>>()?;
            let name = match func {
                Func::Abs => "ABS",
                Func::Min => "MIN",
                Func::Max => "MAX",
                Func::Round => "ROUND",
                Func::Sum => "SUM",
                Func::If => "IF",
            };
            if *func == Func::Round && args.len() == 1 {
                format!("ROUND({},0)", args.join(","))
            } else {
                format!("{name}({})", args.join(","))
            }
        }
    })
}

struct Formats {
    title: Format,
    header: Format,
    label: Vec<Format>,
    locked: Format,
    open: Format,
    open_text: Format,
    computed: Format,
    none: Format,
}

fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        title: Format::new().set_bold().set_font_size(13),
        header: border(
            Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xE9ECEF)),
        ),
        label: (0..4u8)
            .map(|d| border(Format::new().set_text_wrap().set_indent(d * 2)))
            .collect(),
        locked: border(Format::new()),
        open: border(Format::new().set_unlocked()),
        open_text: border(Format::new().set_unlocked().set_num_format("@")),
        computed: border(Format::new().set_background_color(Color::RGB(0xEEF2F7))),
        none: border(
            Format::new()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(0xE6E6E6)),
        ),
    }
}

/// Data validation of an entered cell (`None` for free text without limit).
fn validation(
    c: &ir::Cell,
    lists: &BTreeMap<String, String>,
) -> Result<Option<DataValidation>, XlsxError> {
    let range = c.range.as_ref();
    let bounds = |lo: f64, hi: f64| -> (f64, f64) {
        match range {
            Some(r) => (
                r.min.parse().unwrap_or(lo).max(lo),
                r.max.parse().unwrap_or(hi).min(hi),
            ),
            None => (lo, hi),
        }
    };
    let v = DataValidation::new().set_error_style(DataValidationErrorStyle::Stop);
    let v = match &c.ty {
        Type::Int | Type::Money => {
            let (lo, hi) = bounds(f64::from(i32::MIN), f64::from(i32::MAX));
            if range.is_some() && lo >= f64::from(i32::MIN) && hi <= f64::from(i32::MAX) {
                v.allow_whole_number(DataValidationRule::Between(lo as i32, hi as i32))
            } else {
                // Beyond Excel's whole-number rule: a decimal rule with the
                // bounds, whole numbers checked by regc on import.
                let (lo, hi) = bounds(-1e18, 1e18);
                v.allow_decimal_number(DataValidationRule::Between(lo, hi))
            }
        }
        Type::Decimal { precision, scale } => {
            let top = 10f64.powi(i32::try_from(precision.saturating_sub(*scale)).unwrap_or(15));
            let (lo, hi) = bounds(-top, top);
            v.allow_decimal_number(DataValidationRule::Between(lo, hi))
        }
        Type::Percent => {
            let (lo, hi) = bounds(-1e8, 1e8);
            v.allow_decimal_number(DataValidationRule::Between(lo, hi))
        }
        Type::Text { max_len } => {
            v.allow_text_length(DataValidationRule::LessThanOrEqualTo(*max_len))
        }
        Type::Date => v.allow_date(DataValidationRule::Between(
            ExcelDateTime::from_ymd(1900, 1, 1)?,
            ExcelDateTime::from_ymd(9999, 12, 31)?,
        )),
        Type::Bool => v.allow_list_strings(&["true", "false"])?,
        Type::Code { codelist } => match lists.get(codelist) {
            Some(range) => v.allow_list_formula(Formula::new(range)),
            None => return Ok(None),
        },
    };
    let v = v
        .set_error_title("Giá trị không hợp lệ")?
        .set_error_message(format!(
            "{}: giá trị không đúng kiểu dữ liệu hoặc ngoài khoảng cho phép",
            truncate(&c.label, 180)
        ))?;
    Ok(Some(v))
}

/// Text and codes are kept as typed (Excel would read `01` as 1).
fn open_format<'f>(fm: &'f Formats, ty: &Type) -> &'f Format {
    match ty {
        Type::Text { .. } | Type::Code { .. } => &fm.open_text,
        _ => &fm.open,
    }
}

fn truncate(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// The workbook of one form.
pub fn template(lib: &ir::Library, r: &ir::Regime, form: &ir::Form) -> Result<Vec<u8>, String> {
    build(lib, r, form).map_err(|e| format!("{}/forms/{}.xlsx: {e}", r.code, form.code))
}

fn build(lib: &ir::Library, r: &ir::Regime, form: &ir::Form) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    // Deflate's fastest level: compressing at the default level 6 was most
    // of a large library's build, for files a third smaller.
    book.set_zip_compression_level(1);
    let when = ExcelDateTime::from_ymd(2024, 1, 1)?;
    book.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&when)
            .set_author("regc")
            .set_title(format!("{} {}", r.code, form.code)),
    );
    let fm = formats();
    // Codelists used by the form, each in a column of a hidden sheet.
    let used: Vec<&ir::Codelist> = lib
        .codelists
        .iter()
        .filter(|l| {
            form.cells
                .iter()
                .any(|c| matches!(&c.ty, Type::Code { codelist } if *codelist == l.code))
        })
        .collect();
    let mut lists = BTreeMap::new();
    let mut meta: Vec<Vec<String>> = vec![
        vec!["regime".into(), r.code.clone()],
        vec!["version".into(), r.version.to_string()],
        vec!["form".into(), form.code.clone()],
        vec!["kind".into(), format!("{:?}", form.kind).to_lowercase()],
        vec!["unit".into(), a1(UNIT_ROW, INPUT_COL)],
        vec!["period".into(), a1(PERIOD_ROW, INPUT_COL)],
    ];
    {
        let ws = book.add_worksheet();
        ws.set_name(&form.code)?;
        sheet(ws, lib, r, form, &fm, &mut lists, &used, &mut meta)?;
    }
    if !used.is_empty() {
        let ws = book.add_worksheet();
        ws.set_name("lists")?;
        for (i, l) in used.iter().enumerate() {
            let col = u16::try_from(i).unwrap_or(u16::MAX);
            ws.write_string(0, col, &l.code)?;
            for (j, v) in l.values.iter().enumerate() {
                ws.write_string(u32::try_from(j + 1).unwrap_or(u32::MAX), col, &v.code)?;
            }
        }
        ws.set_hidden(true);
        ws.protect();
    }
    let ws = book.add_worksheet();
    ws.set_name(META_SHEET)?;
    for (i, row) in meta.iter().enumerate() {
        for (j, text) in row.iter().enumerate() {
            ws.write_string(
                u32::try_from(i).unwrap_or(u32::MAX),
                u16::try_from(j).unwrap_or(u16::MAX),
                text,
            )?;
        }
    }
    ws.set_hidden(true);
    ws.protect();
    book.save_to_buffer()
}

#[allow(clippy::too_many_arguments)]
fn sheet(
    ws: &mut Worksheet,
    lib: &ir::Library,
    r: &ir::Regime,
    form: &ir::Form,
    fm: &Formats,
    lists: &mut BTreeMap<String, String>,
    used: &[&ir::Codelist],
    meta: &mut Vec<Vec<String>>,
) -> Result<(), XlsxError> {
    for (i, l) in used.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        let last = u32::try_from(l.values.len()).unwrap_or(u32::MAX);
        let letters = a1(0, col).trim_end_matches('1').to_string();
        lists.insert(
            l.code.clone(),
            format!("=lists!${letters}$2:${letters}${}", last + 1),
        );
    }
    let title = r.titles.get("vi").map(String::as_str).unwrap_or(&r.code);
    ws.write_string_with_format(
        0,
        0,
        format!("Biểu {}: {}", form.code, form.title),
        &fm.title,
    )?;
    ws.write_string(1, 0, format!("{title} ({}) — {}", r.code, r.basis))?;
    ws.write_string_with_format(UNIT_ROW, 0, "Đơn vị báo cáo (mã)", &fm.locked)?;
    ws.write_blank(UNIT_ROW, INPUT_COL, &fm.open_text)?;
    ws.write_string_with_format(PERIOD_ROW, 0, "Kỳ báo cáo", &fm.locked)?;
    ws.write_blank(PERIOD_ROW, INPUT_COL, &fm.open_text)?;
    ws.write_string(
        PERIOD_ROW,
        INPUT_COL + 1,
        format!("tần suất: {}", r.frequency.name()),
    )?;
    match form.kind {
        FormKind::Grid => grid(ws, lib, form, fm, lists, meta)?,
        FormKind::Records => records(ws, lib, form, fm, lists, meta)?,
    }
    ws.protect();
    Ok(())
}

fn grid(
    ws: &mut Worksheet,
    lib: &ir::Library,
    form: &ir::Form,
    fm: &Formats,
    lists: &BTreeMap<String, String>,
    meta: &mut Vec<Vec<String>>,
) -> Result<(), XlsxError> {
    ws.set_column_width(0, 7)?;
    ws.set_column_width(1, 44)?;
    ws.set_column_width(2, 12)?;
    for (col, (text, letter)) in [
        (0, ("STT", "A")),
        (1, ("Chỉ tiêu", "B")),
        (2, ("Đơn vị tính", "C")),
    ] {
        ws.write_string_with_format(HEADER_ROW, col, text, &fm.header)?;
        ws.write_string_with_format(HEADER_ROW + 1, col, letter, &fm.header)?;
    }
    let col_of: BTreeMap<&str, u16> = form
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.name.as_str(),
                FIRST_VALUE_COL + u16::try_from(i).unwrap_or(0),
            )
        })
        .collect();
    for (i, c) in form.columns.iter().enumerate() {
        let col = FIRST_VALUE_COL + u16::try_from(i).unwrap_or(0);
        ws.set_column_width(col, 16)?;
        ws.write_string_with_format(HEADER_ROW, col, &c.label, &fm.header)?;
        ws.write_string_with_format(HEADER_ROW + 1, col, (i + 1).to_string(), &fm.header)?;
    }
    let row_of: BTreeMap<&str, u32> = form
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| (row.name.as_str(), FIRST_ROW + u32::try_from(i).unwrap_or(0)))
        .collect();
    let at: BTreeMap<&str, String> = form
        .cells
        .iter()
        .filter_map(|c| {
            let row = *row_of.get(c.row.as_deref()?)?;
            let col = *col_of.get(c.column.as_deref()?)?;
            Some((c.id.as_str(), a1(row, col)))
        })
        .collect();
    for row in &form.rows {
        let Some(&y) = row_of.get(row.name.as_str()) else {
            continue;
        };
        let label_fmt = fm
            .label
            .get(usize::try_from(row.depth).unwrap_or(0).min(3))
            .unwrap_or(&fm.locked);
        ws.write_string_with_format(y, 0, &row.number, &fm.locked)?;
        ws.write_string_with_format(y, 1, &row.label, label_fmt)?;
        let unit = form
            .cells
            .iter()
            .find(|c| c.row.as_deref() == Some(row.name.as_str()))
            .map(|c| super::forms::unit_text(lib, &c.ty, &c.unit))
            .unwrap_or_default();
        ws.write_string_with_format(y, 2, unit, &fm.locked)?;
        for col in &form.columns {
            let Some(&x) = col_of.get(col.name.as_str()) else {
                continue;
            };
            let cell = form.cells.iter().find(|c| {
                c.row.as_deref() == Some(row.name.as_str())
                    && c.column.as_deref() == Some(col.name.as_str())
            });
            match cell {
                None => {
                    ws.write_string_with_format(y, x, "x", &fm.none)?;
                }
                Some(c) => match &c.entry {
                    ir::Entry::Computed { formula: f } => match formula(f, &form.code, &at) {
                        Some(text) => {
                            ws.write_formula_with_format(
                                y,
                                x,
                                Formula::new(format!("={text}")),
                                &fm.computed,
                            )?;
                        }
                        None => {
                            ws.write_blank(y, x, &fm.computed)?;
                        }
                    },
                    _ => {
                        ws.write_blank(y, x, open_format(fm, &c.ty))?;
                        if let Some(v) = validation(c, lists)? {
                            ws.add_data_validation(y, x, y, x, &v)?;
                        }
                        meta.push(vec!["cell".into(), c.id.clone(), a1(y, x)]);
                    }
                },
            }
        }
    }
    Ok(())
}

fn records(
    ws: &mut Worksheet,
    lib: &ir::Library,
    form: &ir::Form,
    fm: &Formats,
    lists: &BTreeMap<String, String>,
    meta: &mut Vec<Vec<String>>,
) -> Result<(), XlsxError> {
    ws.set_column_width(0, 7)?;
    ws.write_string_with_format(HEADER_ROW, 0, "STT", &fm.header)?;
    let last = FIRST_ROW + RECORD_ROWS - 1;
    meta.push(vec![
        "rows".into(),
        (FIRST_ROW + 1).to_string(),
        (last + 1).to_string(),
    ]);
    for n in 0..RECORD_ROWS {
        ws.write_number_with_format(FIRST_ROW + n, 0, f64::from(n + 1), &fm.locked)?;
    }
    for (i, c) in form.cells.iter().enumerate() {
        let x = 1 + u16::try_from(i).unwrap_or(0);
        let unit = super::forms::unit_text(lib, &c.ty, &c.unit);
        let head = if unit.is_empty() {
            c.label.clone()
        } else {
            format!("{} ({unit})", c.label)
        };
        ws.set_column_width(x, 18)?;
        ws.write_string_with_format(HEADER_ROW, x, head, &fm.header)?;
        ws.write_string_with_format(HEADER_ROW + 1, x, (i + 1).to_string(), &fm.header)?;
        for n in 0..RECORD_ROWS {
            ws.write_blank(FIRST_ROW + n, x, open_format(fm, &c.ty))?;
        }
        if let Some(v) = validation(c, lists)? {
            ws.add_data_validation(FIRST_ROW, x, last, x, &v)?;
        }
        let letters = a1(0, x).trim_end_matches('1').to_string();
        meta.push(vec!["field".into(), c.id.clone(), letters]);
    }
    ws.write_string_with_format(HEADER_ROW + 1, 0, "A", &fm.header)?;
    Ok(())
}

/// Every template of a regime, as (path relative to `generated/`, bytes).
pub fn regime_files(lib: &ir::Library, r: &ir::Regime) -> Result<Vec<(String, Vec<u8>)>, String> {
    r.forms
        .iter()
        .map(|f| {
            Ok((
                format!("{}/forms/{}.xlsx", r.code, f.code),
                template(lib, r, f)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{a1, parse_a1};

    #[test]
    fn addresses() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(8, 3), "D9");
        assert_eq!(a1(0, 25), "Z1");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(9, 27), "AB10");
        for (r, c) in [(0, 0), (8, 3), (199, 26), (5, 701), (5, 702)] {
            assert_eq!(parse_a1(&a1(r, c)), Some((r, c)));
        }
        assert_eq!(parse_a1("D0"), None);
        assert_eq!(parse_a1("9"), None);
    }
}
