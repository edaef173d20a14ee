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

/// Where things are on the form's sheet (0-based rows and columns): rows
/// 0–2 the heading (form number, act, due date; national header, title),
/// 3–4 the unit and period typed in, 5 the regime.
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
    bold: Format,
    nation: Format,
    sign_role: Format,
    sign_note: Format,
    header: Format,
    label: Vec<Format>,
    locked: Format,
    open: Format,
    open_text: Format,
    computed: Format,
    none: Format,
}

/// The number format of a cell's type: thousands grouped, the cell's
/// decimals shown (Excel shows the separators of the reader's locale:
/// `1.234,50` in Vietnamese), percents as percentage points with two
/// decimals, dates day/month/year. `None` for texts and codes.
fn number_format(ty: &Type) -> Option<String> {
    Some(match ty {
        Type::Int | Type::Money => "#,##0".to_string(),
        Type::Decimal { scale: 0, .. } => "#,##0".to_string(),
        Type::Decimal { scale, .. } => format!("#,##0.{}", "0".repeat(*scale as usize)),
        Type::Percent => "#,##0.00".to_string(),
        Type::Date => "dd/mm/yyyy".to_string(),
        Type::Text { .. } | Type::Code { .. } | Type::Bool => return None,
    })
}

/// Excel keeps 15 significant digits: the largest whole number it holds
/// exactly enough to be checked (a whole-number cell without a range is
/// bounded by it; regc itself checks the cell's full type on import).
const EXCEL_WHOLE_MAX: &str = "999999999999999";

fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        title: Format::new()
            .set_bold()
            .set_font_size(13)
            .set_align(FormatAlign::Center),
        bold: Format::new().set_bold(),
        nation: Format::new().set_bold().set_align(FormatAlign::Center),
        sign_role: Format::new().set_bold().set_align(FormatAlign::Center),
        sign_note: Format::new().set_italic().set_align(FormatAlign::Center),
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

/// The bounds of a number cell: its range, else what its type holds
/// (`decimal(5,2)`: ±999.99), within what Excel holds exactly.
fn number_bounds(c: &ir::Cell) -> (String, String) {
    if let Some(r) = &c.range {
        return (r.min.clone(), r.max.clone());
    }
    let top = match crate::layout::Storage::of(&c.ty) {
        crate::layout::Storage::Decimal { precision, scale } => {
            let int = match precision.saturating_sub(scale) {
                0 => "0".to_string(),
                n => "9".repeat(n.min(15) as usize),
            };
            match scale {
                0 => int,
                s => format!("{int}.{}", "9".repeat(s as usize)),
            }
        }
        _ => EXCEL_WHOLE_MAX.to_string(),
    };
    (format!("-{top}"), top)
}

/// The decimals a number cell keeps.
fn scale_of(ty: &Type) -> u32 {
    match ty {
        Type::Decimal { scale, .. } => *scale,
        Type::Percent => crate::layout::PERCENT_SCALE,
        _ => 0,
    }
}

/// Data validation of an entered cell whose first (top-left) address is
/// `anchor` (`None` for free text without limit): whole numbers within
/// their real range; decimals and percents within their range and with
/// no more decimals than the cell keeps; dates; text lengths; codelists
/// and truth values as lists. Each also tells, on entering the cell, what
/// it takes.
fn validation(
    c: &ir::Cell,
    anchor: &str,
    lists: &BTreeMap<String, String>,
) -> Result<Option<DataValidation>, XlsxError> {
    let v = DataValidation::new().set_error_style(DataValidationErrorStyle::Stop);
    let shown = |t: &str| crate::value::entry::format_vietnamese(t, None);
    let (v, prompt) = match &c.ty {
        Type::Int | Type::Money => {
            let (lo, hi) = number_bounds(c);
            let v = v.allow_whole_number_formula(DataValidationRule::Between(
                Formula::new(&lo),
                Formula::new(&hi),
            ));
            (v, format!("Số nguyên từ {} đến {}", shown(&lo), shown(&hi)))
        }
        Type::Decimal { .. } | Type::Percent => {
            let (lo, hi) = number_bounds(c);
            let scale = scale_of(&c.ty);
            let v = v.allow_custom(Formula::new(format!(
                "AND(ISNUMBER({anchor}),{anchor}>={lo},{anchor}<={hi},ROUND({anchor},{scale})={anchor})"
            )));
            (
                v,
                format!(
                    "Số từ {} đến {}, tối đa {scale} chữ số thập phân",
                    shown(&lo),
                    shown(&hi)
                ),
            )
        }
        Type::Text { max_len } => (
            v.allow_text_length(DataValidationRule::LessThanOrEqualTo(*max_len)),
            format!("Văn bản, tối đa {max_len} ký tự"),
        ),
        Type::Date => (
            v.allow_date(DataValidationRule::Between(
                ExcelDateTime::from_ymd(1900, 1, 1)?,
                ExcelDateTime::from_ymd(9999, 12, 31)?,
            )),
            "Ngày (ngày/tháng/năm)".to_string(),
        ),
        Type::Bool => (
            v.allow_list_strings(&["true", "false"])?,
            "true (có) hoặc false (không)".to_string(),
        ),
        Type::Code { codelist } => match lists.get(codelist) {
            Some(range) => (
                v.allow_list_formula(Formula::new(range)),
                "Chọn một mã trong danh mục".to_string(),
            ),
            None => return Ok(None),
        },
    };
    let v = v
        .set_error_title("Giá trị không hợp lệ")?
        .set_error_message(truncate(
            &format!("{}: {prompt}", truncate(&c.label, 120)),
            250,
        ))?
        .set_input_title(truncate(&c.label, 32))?
        .set_input_message(truncate(&prompt, 250))?;
    Ok(Some(v))
}

/// The format of an entered cell: open, text and codes kept as typed
/// (Excel would read `01` as 1), numbers and dates in their format.
fn open_format(fm: &Formats, ty: &Type) -> Format {
    match (ty, number_format(ty)) {
        (Type::Text { .. } | Type::Code { .. }, _) => fm.open_text.clone(),
        (_, Some(f)) => fm.open.clone().set_num_format(f),
        (_, None) => fm.open.clone(),
    }
}

/// The format of a computed cell: locked, shaded, in its type's format.
fn computed_format(fm: &Formats, ty: &Type) -> Format {
    match number_format(ty) {
        Some(f) => fm.computed.clone().set_num_format(f),
        None => fm.computed.clone(),
    }
}

/// A computed cell's Excel formula as regc computes it: blank while a
/// number it reads is blank (regc's missing values; Excel would take
/// blanks for zeros), blank instead of an error (`#DIV/0!` when a
/// denominator is 0). `None` when the formula reads what the sheet does
/// not hold.
fn computed_formula(f: &Expr, form: &ir::Form, at: &BTreeMap<&str, String>) -> Option<String> {
    let text = formula(f, &form.code, at)?;
    let mut reads: Vec<&str> = Vec::new();
    let mut branches = false;
    f.walk(&mut |e| match &e.kind {
        ExprKind::Cell { cell, .. } => {
            if let Some(a) = at.get(cell.as_str())
                && !reads.contains(&a.as_str())
            {
                reads.push(a);
            }
        }
        ExprKind::Call { func: Func::If, .. } => branches = true,
        _ => {}
    });
    let numbers = reads.len();
    // `if` reads only one branch: a blank in the other does not blank it.
    Some(if branches || numbers == 0 {
        format!("IFERROR({text},\"\")")
    } else {
        format!(
            "IF(COUNT({})<{numbers},\"\",IFERROR({text},\"\"))",
            reads.join(",")
        )
    })
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
    let (units, periods) = (reporting_units(lib, r), period_ids(lib, r));
    let mut lists = BTreeMap::new();
    if !units.is_empty() {
        lists.insert(UNIT_LIST.to_string(), list_range(0, units.len()));
    }
    if !periods.is_empty() {
        lists.insert(PERIOD_LIST.to_string(), list_range(1, periods.len()));
    }
    for (i, l) in used.iter().enumerate() {
        lists.insert(l.code.clone(), list_range(i + 2, l.values.len()));
    }
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
        sheet(ws, lib, r, form, &fm, &lists, &mut meta)?;
    }
    {
        // The lists the open cells choose from: the reporting units, the
        // periods, then each codelist, a column each.
        let ws = book.add_worksheet();
        ws.set_name("lists")?;
        let columns = [("unit", units), ("period", periods)]
            .into_iter()
            .chain(used.iter().map(|l| {
                (
                    l.code.as_str(),
                    l.values.iter().map(|v| v.code.clone()).collect(),
                )
            }));
        for (i, (head, values)) in columns.enumerate() {
            let col = u16::try_from(i).unwrap_or(u16::MAX);
            ws.write_string(0, col, head)?;
            for (j, v) in values.iter().enumerate() {
                ws.write_string(u32::try_from(j + 1).unwrap_or(u32::MAX), col, v)?;
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

/// Keys of the unit and period lists among the codelists' (codelist
/// codes are identifiers: they never hold a space).
const UNIT_LIST: &str = "reporting units";
const PERIOD_LIST: &str = "periods";

/// The range of column `col` of the hidden sheet `lists` holding `n` values.
fn list_range(col: usize, n: usize) -> String {
    let letters = a1(0, u16::try_from(col).unwrap_or(u16::MAX))
        .trim_end_matches('1')
        .to_string();
    format!("=lists!${letters}$2:${letters}${}", n.max(1) + 1)
}

/// The codes of the units that report the regime, in every edition of the
/// hierarchy (before and after a reform), sorted.
fn reporting_units(lib: &ir::Library, r: &ir::Regime) -> Vec<String> {
    let mut codes: Vec<String> = lib
        .org
        .editions
        .iter()
        .flat_map(|e| &e.units)
        .filter(|u| r.reporters.contains(&u.level))
        .map(|u| u.code.clone())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// The ids of the regime's periods in the years of calendar.json (none
/// for an ad hoc regime, whose periods are the days reported on).
fn period_ids(lib: &ir::Library, r: &ir::Regime) -> Vec<String> {
    let days = crate::calendar::WorkingDays::of_library(lib);
    crate::calendar::JSON_YEARS
        .flat_map(|y| crate::calendar::periods(r, y, &days))
        .map(|p| p.id)
        .collect()
}

/// A list validation of the unit or period cell.
fn choice(list: Option<&String>, what: &str) -> Result<Option<DataValidation>, XlsxError> {
    let Some(range) = list else { return Ok(None) };
    Ok(Some(
        DataValidation::new()
            .allow_list_formula(Formula::new(range))
            .set_error_style(DataValidationErrorStyle::Stop)
            .set_error_title("Giá trị không hợp lệ")?
            .set_error_message(format!("{what}: chọn một giá trị trong danh sách"))?
            .set_input_title(what)?
            .set_input_message("Chọn trong danh sách")?,
    ))
}

fn sheet(
    ws: &mut Worksheet,
    lib: &ir::Library,
    r: &ir::Regime,
    form: &ir::Form,
    fm: &Formats,
    lists: &BTreeMap<String, String>,
    meta: &mut Vec<Vec<String>>,
) -> Result<(), XlsxError> {
    let title = r.titles.get("vi").map(String::as_str).unwrap_or(&r.code);
    let official = super::forms::official(lib, r, form);
    // The last column of the sheet: STT, label, unit and the columns of a
    // grid; STT and the fields of a record form.
    let last = match form.kind {
        FormKind::Grid => FIRST_VALUE_COL + u16::try_from(form.columns.len()).unwrap_or(0) - 1,
        FormKind::Records => u16::try_from(form.cells.len()).unwrap_or(0),
    }
    .max(FIRST_VALUE_COL);
    // Left: which form, under which act, due when. Centre: the national
    // header and the form's title. Right (rows 3–4): who reports to whom.
    ws.write_string_with_format(0, 0, &official.number, &fm.bold)?;
    if let Some(issued) = &official.issued {
        ws.write_string(1, 0, issued)?;
    }
    if let Some(due) = &official.due {
        ws.write_string(2, 0, due)?;
    }
    centred(ws, 0, last, official.nation, &fm.nation)?;
    centred(ws, 1, last, official.motto, &fm.nation)?;
    centred(
        ws,
        2,
        last,
        &format!("{}: {}", form.code, form.title),
        &fm.title,
    )?;
    ws.write_string(UNIT_ROW, FIRST_VALUE_COL, &official.reporter)?;
    if let Some(receiver) = &official.receiver {
        ws.write_string(PERIOD_ROW, FIRST_VALUE_COL, receiver)?;
    }
    ws.write_string(
        HEADER_ROW - 1,
        0,
        format!("{title} ({}), tần suất: {}", r.code, r.frequency.name()),
    )?;
    ws.write_string_with_format(UNIT_ROW, 0, "Đơn vị báo cáo (mã)", &fm.locked)?;
    ws.write_blank(UNIT_ROW, INPUT_COL, &fm.open_text)?;
    if let Some(v) = choice(lists.get(UNIT_LIST), "Đơn vị báo cáo")? {
        ws.add_data_validation(UNIT_ROW, INPUT_COL, UNIT_ROW, INPUT_COL, &v)?;
    }
    ws.write_string_with_format(PERIOD_ROW, 0, "Kỳ báo cáo", &fm.locked)?;
    ws.write_blank(PERIOD_ROW, INPUT_COL, &fm.open_text)?;
    if let Some(v) = choice(lists.get(PERIOD_LIST), "Kỳ báo cáo")? {
        ws.add_data_validation(PERIOD_ROW, INPUT_COL, PERIOD_ROW, INPUT_COL, &v)?;
    }
    let end = match form.kind {
        FormKind::Grid => grid(ws, lib, form, fm, lists, meta)?,
        FormKind::Records => records(ws, lib, form, fm, lists, meta)?,
    };
    // The signatures under the form: the preparer on the left, the head of
    // the unit under the date on the right.
    let y = end + 2;
    let [preparer, head] = &official.signatures;
    ws.write_string_with_format(y + 1, 1, preparer.role, &fm.sign_role)?;
    ws.write_string_with_format(y + 2, 1, preparer.note, &fm.sign_note)?;
    if let Some(date) = head.date {
        centred(ws, y, last, date, &fm.sign_note)?;
    }
    centred(ws, y + 1, last, head.role, &fm.sign_role)?;
    centred(ws, y + 2, last, head.note, &fm.sign_note)?;
    ws.protect();
    Ok(())
}

/// Text centred over the columns from the first value column to `last`.
fn centred(ws: &mut Worksheet, y: u32, last: u16, text: &str, f: &Format) -> Result<(), XlsxError> {
    if last > FIRST_VALUE_COL {
        ws.merge_range(y, FIRST_VALUE_COL, y, last, text, f)?;
    } else {
        ws.write_string_with_format(y, FIRST_VALUE_COL, text, f)?;
    }
    Ok(())
}

/// What a grid sheet prints around its values: the widths, the header
/// rows (STT, Chỉ tiêu, Đơn vị tính, the columns and their numbers) and,
/// on each row, its number, label (indented by depth) and unit.
fn grid_frame(
    ws: &mut Worksheet,
    lib: &ir::Library,
    form: &ir::Form,
    fm: &Formats,
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
    for (i, c) in form.columns.iter().enumerate() {
        let col = FIRST_VALUE_COL + u16::try_from(i).unwrap_or(0);
        ws.set_column_width(col, 16)?;
        ws.write_string_with_format(HEADER_ROW, col, &c.label, &fm.header)?;
        ws.write_string_with_format(HEADER_ROW + 1, col, (i + 1).to_string(), &fm.header)?;
    }
    for (i, row) in form.rows.iter().enumerate() {
        let y = FIRST_ROW + u32::try_from(i).unwrap_or(0);
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
    }
    Ok(())
}

fn grid(
    ws: &mut Worksheet,
    lib: &ir::Library,
    form: &ir::Form,
    fm: &Formats,
    lists: &BTreeMap<String, String>,
    meta: &mut Vec<Vec<String>>,
) -> Result<u32, XlsxError> {
    grid_frame(ws, lib, form, fm)?;
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
                    ir::Entry::Computed { formula: f } => {
                        let format = computed_format(fm, &c.ty);
                        match computed_formula(f, form, &at) {
                            Some(text) => {
                                ws.write_formula_with_format(
                                    y,
                                    x,
                                    Formula::new(format!("={text}")),
                                    &format,
                                )?;
                            }
                            None => {
                                ws.write_blank(y, x, &format)?;
                            }
                        }
                    }
                    _ => {
                        ws.write_blank(y, x, &open_format(fm, &c.ty))?;
                        if let Some(v) = validation(c, &a1(y, x), lists)? {
                            ws.add_data_validation(y, x, y, x, &v)?;
                        }
                        meta.push(vec!["cell".into(), c.id.clone(), a1(y, x)]);
                    }
                },
            }
        }
    }
    Ok(FIRST_ROW + u32::try_from(form.rows.len()).unwrap_or(0).max(1) - 1)
}

fn records(
    ws: &mut Worksheet,
    lib: &ir::Library,
    form: &ir::Form,
    fm: &Formats,
    lists: &BTreeMap<String, String>,
    meta: &mut Vec<Vec<String>>,
) -> Result<u32, XlsxError> {
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
        let format = open_format(fm, &c.ty);
        for n in 0..RECORD_ROWS {
            ws.write_blank(FIRST_ROW + n, x, &format)?;
        }
        if let Some(v) = validation(c, &a1(FIRST_ROW, x), lists)? {
            ws.add_data_validation(FIRST_ROW, x, last, x, &v)?;
        }
        let letters = a1(0, x).trim_end_matches('1').to_string();
        meta.push(vec!["field".into(), c.id.clone(), letters]);
    }
    ws.write_string_with_format(HEADER_ROW + 1, 0, "A", &fm.header)?;
    Ok(last)
}

/// One unit's roll-up of a form for one period: what a roll-up workbook
/// shows on one sheet.
pub struct RolledUp<'a> {
    pub form: &'a ir::Form,
    pub period: &'a str,
    pub unit: &'a str,
    pub name: &'a str,
    pub level: &'a str,
    pub reporters: i64,
    /// Cell id → exact decimal text.
    pub values: BTreeMap<&'a str, &'a str>,
}

/// Sheets a roll-up workbook holds at most: past that, a filter
/// (`--period`, `--level`, `--form`) is the readable answer.
pub const ROLLUP_SHEETS: usize = 250;

/// `regc rollup --format xlsx`: each unit's roll-up of each period on a
/// sheet of its own, in the form's paper layout (the heading, row numbers,
/// labels, units of measure and column headers of the template), numbers
/// rounded to their cell's scale and formatted per cell.
pub fn rollup_workbook(
    lib: &ir::Library,
    r: &ir::Regime,
    sheets: &[RolledUp<'_>],
) -> Result<Vec<u8>, String> {
    rollup_book(lib, r, sheets).map_err(|e| format!("roll-up workbook: {e}"))
}

fn rollup_book(
    lib: &ir::Library,
    r: &ir::Regime,
    sheets: &[RolledUp<'_>],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let when = ExcelDateTime::from_ymd(2024, 1, 1)?;
    book.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&when)
            .set_author("regc")
            .set_title(format!("{} roll-up", r.code)),
    );
    let fm = formats();
    let mut names = std::collections::BTreeSet::new();
    for s in sheets {
        let ws = book.add_worksheet();
        ws.set_name(sheet_name(s, &mut names))?;
        rollup_sheet(ws, lib, r, s, &fm)?;
    }
    book.save_to_buffer()
}

/// A sheet name Excel takes (31 characters at most, none of `[]:*?/\`),
/// unique in the book.
fn sheet_name(s: &RolledUp<'_>, taken: &mut std::collections::BTreeSet<String>) -> String {
    let clean: String = format!("{} {} {}", s.form.code, s.period, s.unit)
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { '_' } else { c })
        .collect();
    let base: String = clean.chars().take(31).collect();
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        let suffix = format!(" ({n})");
        let keep = 31usize.saturating_sub(suffix.chars().count());
        name = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        n += 1;
    }
    name
}

fn rollup_sheet(
    ws: &mut Worksheet,
    lib: &ir::Library,
    r: &ir::Regime,
    s: &RolledUp<'_>,
    fm: &Formats,
) -> Result<(), XlsxError> {
    let form = s.form;
    let official = super::forms::official(lib, r, form);
    let last = (FIRST_VALUE_COL + u16::try_from(form.columns.len()).unwrap_or(0))
        .saturating_sub(1)
        .max(FIRST_VALUE_COL);
    ws.write_string_with_format(0, 0, &official.number, &fm.bold)?;
    if let Some(issued) = &official.issued {
        ws.write_string(1, 0, issued)?;
    }
    centred(ws, 0, last, official.nation, &fm.nation)?;
    centred(ws, 1, last, official.motto, &fm.nation)?;
    centred(
        ws,
        2,
        last,
        &format!("{}: {}", form.code, form.title),
        &fm.title,
    )?;
    let level = lib.org.title_of(s.level).unwrap_or(s.level);
    ws.write_string(
        UNIT_ROW,
        0,
        format!("Đơn vị: {} ({}), {level}", s.name, s.unit),
    )?;
    ws.write_string(
        PERIOD_ROW,
        0,
        format!(
            "Kỳ báo cáo: {} · Số đơn vị đã báo cáo: {}",
            s.period, s.reporters
        ),
    )?;
    ws.write_string(
        HEADER_ROW - 1,
        0,
        "Số liệu tổng hợp (regc rollup), làm tròn theo số chữ số thập phân của từng ô",
    )?;
    grid_frame(ws, lib, form, fm)?;
    for (i, row) in form.rows.iter().enumerate() {
        let y = FIRST_ROW + u32::try_from(i).unwrap_or(0);
        for (j, col) in form.columns.iter().enumerate() {
            let x = FIRST_VALUE_COL + u16::try_from(j).unwrap_or(0);
            let cell = form.cells.iter().find(|c| {
                c.row.as_deref() == Some(row.name.as_str())
                    && c.column.as_deref() == Some(col.name.as_str())
            });
            let Some(cell) = cell else {
                ws.write_string_with_format(y, x, "x", &fm.none)?;
                continue;
            };
            let format = match number_format(&cell.ty) {
                Some(f) => fm.locked.clone().set_num_format(f),
                None => fm.locked.clone(),
            };
            let value = s.values.get(cell.id.as_str()).copied();
            let scale = match &cell.ty {
                Type::Percent => Some(2),
                t if t.is_numeric() => Some(scale_of(t)),
                _ => None,
            };
            let shown = match (value, scale) {
                (Some(v), Some(scale)) => crate::value::entry::round_canonical(v, scale)
                    .and_then(|t| t.parse::<f64>().ok()),
                _ => None,
            };
            match (value, shown) {
                (_, Some(n)) => ws.write_number_with_format(y, x, n, &format)?,
                (Some(v), None) => ws.write_string_with_format(y, x, v, &format)?,
                (None, _) => ws.write_blank(y, x, &format)?,
            };
        }
    }
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
