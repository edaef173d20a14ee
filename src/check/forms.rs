//! Forms and cells: types, units of measure, entry mode, `required`,
//! ranges, aggregation (with defaults by type), split and of-which rows.

use super::expr::CellSig;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::ir::{self, Aggregation, TimeAgg, Unit, UnitsAgg};
use crate::lang::Text;
use crate::resolve::{Env, FlatRow, FormShape, FormTable, IMPLICIT_COLUMN, Scope};
use crate::source::Span;
use crate::syntax::ast;
use crate::tr;

/// A cell as declared, before its formula (if any) is typed.
#[derive(Debug, Clone)]
pub(crate) struct CellDecl<'a> {
    pub id: String,
    pub label: String,
    pub row: Option<usize>,
    pub column: Option<usize>,
    pub row_name: Option<String>,
    pub column_name: Option<String>,
    /// None while a computed cell's type is still to be inferred.
    pub sig: Option<CellSig>,
    pub formula: Option<Formula<'a>>,
    pub yearly: bool,
    pub required: bool,
    pub range: Option<ir::Range>,
    pub aggregation: Option<Aggregation>,
    /// `aggregate` as written on the row and the column, before defaults.
    pub agg: AggChoice,
    pub note: Option<String>,
}

/// The axes an `aggregate` attribute names, and where (with whether its
/// diagnostics are reported for this cell).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AggChoice {
    pub units: Option<UnitsAgg>,
    pub time: Option<TimeAgg>,
    pub span: Option<(Span, bool)>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Formula<'a> {
    pub expr: &'a ast::Expr,
    /// A column formula (computed per row) or a row formula (per column).
    pub is_column: bool,
}

const TYPES: &[&str] = &[
    "int", "decimal", "money", "percent", "text", "date", "bool", "code",
];
const UNITS_AGG: &[(&str, UnitsAgg)] = &[
    ("sum", UnitsAgg::Sum),
    ("average", UnitsAgg::Average),
    ("avg", UnitsAgg::Average),
    ("min", UnitsAgg::Min),
    ("max", UnitsAgg::Max),
    ("count", UnitsAgg::Count),
    ("none", UnitsAgg::None),
];
const TIME_AGG: &[(&str, TimeAgg)] = &[
    ("sum", TimeAgg::Sum),
    ("average", TimeAgg::Average),
    ("avg", TimeAgg::Average),
    ("last", TimeAgg::Last),
    ("first", TimeAgg::First),
    ("min", TimeAgg::Min),
    ("max", TimeAgg::Max),
    ("none", TimeAgg::None),
];

/// The cells of one form, in order, with problems reported.
pub(crate) fn cells<'a>(
    env: &Env<'a>,
    form: &FormTable<'a>,
    file_scope: usize,
    diags: &mut Diagnostics,
) -> Vec<CellDecl<'a>> {
    match &form.shape {
        FormShape::Records { fields } => {
            if fields.is_empty() {
                diags.push(
                    Diagnostic::new(
                        Code::EmptyForm,
                        form.form.code.span,
                        tr!(
                            "form {} has no fields",
                            "biểu mẫu {} không có trường nào",
                            form.code()
                        ),
                        tr!("no fields", "không có trường"),
                    )
                    .with_help(tr!(
                        "list the fields of each record: `name \"Label\" : text(120)`",
                        "hãy liệt kê các trường của mỗi bản ghi: `name \"Nhãn\" : text(120)`"
                    )),
                );
            }
            fields
                .iter()
                .map(|f| field(env, f, file_scope, diags))
                .collect()
        }
        FormShape::Grid { columns, rows } => {
            if rows.is_empty() {
                diags.push(
                    Diagnostic::new(
                        Code::EmptyForm,
                        form.form.code.span,
                        tr!(
                            "form {} has no rows",
                            "biểu mẫu {} không có dòng nào",
                            form.code()
                        ),
                        tr!("no rows", "không có dòng"),
                    )
                    .with_help(tr!(
                        "add a `rows {{ 1 name \"Label\" : int }}` block",
                        "hãy thêm một khối `rows {{ 1 name \"Nhãn\" : int }}`"
                    )),
                );
            }
            if columns.is_empty()
                && let ast::FormBody::Grid {
                    columns_span: Some(span),
                    ..
                } = &form.form.body
            {
                diags.push(
                    Diagnostic::new(
                        Code::EmptyForm,
                        *span,
                        tr!(
                            "form {} has an empty `columns` block",
                            "biểu mẫu {} có khối `columns` trống",
                            form.code()
                        ),
                        tr!("no columns", "không có cột"),
                    )
                    .with_help(tr!(
                        "list the columns, or remove the block: a form without columns has one value per row",
                        "hãy liệt kê các cột, hoặc bỏ khối này: biểu mẫu không có cột thì mỗi dòng có một giá trị"
                    )),
                );
            }
            let names = form.column_names();
            let mut out = Vec::new();
            for (ri, row) in rows.iter().enumerate() {
                // `without` names existing columns.
                for a in &row.row.attrs {
                    if let ast::Attr::Without(cols) = a {
                        for c in cols {
                            if !names.contains(&c.text.as_str()) {
                                diags.push(
                                    Diagnostic::new(
                                        Code::UnknownColumn,
                                        c.span,
                                        tr!(
                                            "form {} has no column `{}`",
                                            "biểu mẫu {} không có cột `{}`",
                                            form.code(),
                                            c.text
                                        ),
                                        tr!("unknown column", "cột không biết"),
                                    )
                                    .with_help(did_you_mean(
                                        &c.text,
                                        tr!("column", "cột"),
                                        names.iter().copied(),
                                    )),
                                );
                            }
                        }
                    }
                }
                for (ci, cname) in names.iter().enumerate() {
                    if !form.cell_exists(ri, cname) {
                        continue;
                    }
                    let column = columns.get(ci).copied();
                    out.push(grid_cell(
                        env, file_scope, row, ri, column, ci, cname, diags,
                    ));
                }
            }
            split_checks(rows, &out, diags);
            out
        }
    }
}

fn field<'a>(
    env: &Env<'a>,
    f: &'a ast::Field,
    scope: usize,
    diags: &mut Diagnostics,
) -> CellDecl<'a> {
    let scope_ref = env.scopes.get(scope);
    let sig = match &f.ty.ty {
        Some(t) => resolve_type(
            t,
            f.ty.unit.as_ref().map(|u| (u, scope_ref)),
            scope_ref,
            diags,
        ),
        None => {
            diags.push(missing_type(f.ty.span, &f.name.text));
            None
        }
    };
    let mut decl = CellDecl {
        id: f.name.text.clone(),
        label: f.label.value.clone(),
        row: None,
        column: None,
        row_name: None,
        column_name: None,
        sig,
        formula: None,
        yearly: false,
        required: false,
        range: None,
        aggregation: None,
        agg: AggChoice::default(),
        note: None,
    };
    for a in &f.attrs {
        apply_attr(&mut decl, a, false, false, diags);
    }
    if decl.agg.span.is_some() {
        decl.agg = AggChoice::default();
        if let Some(span) = f.attrs.iter().find_map(|a| match a {
            ast::Attr::Aggregate { span, .. } => Some(*span),
            _ => None,
        }) {
            diags.push(
                Diagnostic::new(
                    Code::BadAggregation,
                    span,
                    tr!(
                        "fields of a record form have no aggregation of their own",
                        "các trường của biểu danh sách không có cách tổng hợp riêng"
                    ),
                    tr!("not for record fields", "không dùng cho trường của biểu danh sách"),
                )
                .with_help(tr!(
                    "records are totalled in rules with `count(FORM)` or `sum(FORM.field)`; roll-ups count and sum them",
                    "các bản ghi được tính tổng trong quy tắc bằng `count(BIỂU)` hoặc `sum(BIỂU.trường)`; khi tổng hợp, regc đếm và cộng chúng"
                )),
            );
        }
    }
    decl
}

#[allow(clippy::too_many_arguments)]
fn grid_cell<'a>(
    env: &Env<'a>,
    form_scope: usize,
    row: &FlatRow<'a>,
    ri: usize,
    column: Option<&'a ast::Column>,
    ci: usize,
    cname: &str,
    diags: &mut Diagnostics,
) -> CellDecl<'a> {
    let r = row.row;
    // Entry: a formula of the column or of the row, else entered. Where
    // both have one, the non-linear one is applied last: a ratio column on a
    // total row is the ratio of totals, and a ratio row in a year-to-date
    // column is the ratio of year-to-date values (never a sum of ratios).
    let formula = match (column.and_then(|c| c.formula.as_ref()), r.formula.as_ref()) {
        (Some(c), Some(rf)) if is_linear(c) && !is_linear(rf) => Some(Formula {
            expr: rf,
            is_column: false,
        }),
        (Some(e), _) => Some(Formula {
            expr: e,
            is_column: true,
        }),
        (None, Some(e)) => Some(Formula {
            expr: e,
            is_column: false,
        }),
        _ => None,
    };
    // An element that is both `= …` and `entered` (reported once: a row's
    // with its first column, a column's with its first row).
    for (has_formula, attrs, first) in [
        (r.formula.is_some(), r.attrs.as_slice(), ci == 0),
        (
            column.is_some_and(|c| c.formula.is_some()),
            column.map(|c| c.attrs.as_slice()).unwrap_or(&[]),
            ri == 0,
        ),
    ] {
        if has_formula
            && first
            && let Some(span) = attrs.iter().find_map(|a| match a {
                ast::Attr::Entered { span, .. } => Some(*span),
                _ => None,
            })
        {
            diags.push(
                Diagnostic::new(
                    Code::EnteredComputed,
                    span,
                    tr!(
                        "a computed value cannot also be entered",
                        "giá trị tính toán không thể đồng thời là giá trị nhập"
                    ),
                    tr!("marked as entered", "được đánh dấu là nhập liệu"),
                )
                .with_help(tr!(
                    "remove `entered`, or remove the formula `= …` if reporters type this value",
                    "hãy bỏ `entered`, hoặc bỏ công thức `= …` nếu đơn vị báo cáo tự nhập giá trị này"
                )),
            );
        }
    }
    // Type: the column's annotation overrides the row's. Each annotation is
    // resolved in the scope of the file it is written in (rows included
    // from a group see their own module's units).
    let col_ann = column.and_then(|c| c.ty.as_ref());
    let row_ann = r.ty.as_ref();
    let row_scope = env.scopes.get(row.scope);
    let form_scope = env.scopes.get(form_scope);
    let (ty, type_scope) = match col_ann.and_then(|a| a.ty.as_ref()) {
        Some(t) => (Some(t), form_scope),
        None => (row_ann.and_then(|a| a.ty.as_ref()), row_scope),
    };
    let unit = match (
        col_ann.and_then(|a| a.unit.as_ref()),
        row_ann.and_then(|a| a.unit.as_ref()),
    ) {
        (Some(u), _) => Some((u, form_scope)),
        // A column that names only a numeric type (`: decimal(18,1)`) keeps
        // the row's unit; one that changes the kind (`: percent`) does not.
        (None, Some(u)) if col_ann.and_then(|a| a.ty.as_ref()).is_none_or(keeps_unit) => {
            Some((u, row_scope))
        }
        _ => None,
    };
    // The implicit column of a form without columns is not part of names.
    let id = if column.is_none() && cname == IMPLICIT_COLUMN {
        r.name.text.clone()
    } else {
        format!("{}.{cname}", r.name.text)
    };
    // A row's type is checked once (with its first column), a column's once
    // (with its first row): no repeated diagnostics for every cell.
    let from_column = col_ann.is_some();
    let first = if from_column { ri == 0 } else { ci == 0 };
    let mut scratch = Diagnostics::new();
    let sink = if first { &mut *diags } else { &mut scratch };
    let sig = match ty {
        Some(t) => resolve_type(t, unit, type_scope, sink),
        None if formula.is_some() => None,
        None => {
            if ci == 0 || column.is_some_and(|c| c.ty.is_some()) {
                diags.push(missing_type(r.name.span, &r.name.text));
            }
            None
        }
    };
    let label = match column {
        Some(c) => format!("{} — {}", r.label.value, c.label.value),
        None => r.label.value.clone(),
    };
    let mut decl = CellDecl {
        id,
        label,
        row: Some(ri),
        column: Some(ci),
        row_name: Some(r.name.text.clone()),
        column_name: Some(cname.to_string()),
        sig,
        formula,
        yearly: false,
        required: false,
        range: None,
        aggregation: None,
        agg: AggChoice::default(),
        note: None,
    };
    let first_col = ci == 0;
    for a in &r.attrs {
        apply_attr(&mut decl, a, !first_col, r.formula.is_some(), diags);
    }
    if let Some(c) = column {
        for a in &c.attrs {
            // Column attributes are reported once, on the first row.
            apply_attr(&mut decl, a, ri != 0, c.formula.is_some(), diags);
        }
    }
    if decl.formula.is_some() {
        decl.yearly = false;
    }
    finalize_aggregation(&mut decl, diags);
    decl
}

/// Applies an attribute; `quiet` suppresses diagnostics that would repeat
/// for every cell of a row or column.
/// `owner_computed`: the row or column carrying the attribute is itself
/// computed (an aggregation there is a mistake; on an entered row it simply
/// does not apply to the row's computed columns).
fn apply_attr(
    decl: &mut CellDecl<'_>,
    a: &ast::Attr,
    quiet: bool,
    owner_computed: bool,
    diags: &mut Diagnostics,
) {
    let mut report = |d: Diagnostic| {
        if !quiet {
            diags.push(d);
        }
    };
    match a {
        ast::Attr::Entered { once_per_year, .. } => decl.yearly |= *once_per_year,
        ast::Attr::Required(_) => decl.required = true,
        ast::Attr::Note(s) => decl.note = Some(s.value.clone()),
        ast::Attr::Without(_) => {}
        ast::Attr::Range { min, max, span } => {
            if decl.formula.is_some() {
                // A range on an entered row does not apply to its computed
                // columns; on a computed row or column it would never be
                // checked: refused rather than silently ignored.
                if owner_computed {
                    report(
                        Diagnostic::new(
                            Code::BadRange,
                            *span,
                            tr!(
                                "a range on a computed cell: it is never entered, so no value would be checked against it",
                                "khoảng giá trị trên một ô tính toán: ô này không bao giờ được nhập, nên không có giá trị nào được kiểm tra theo nó"
                            ),
                            tr!("on a computed cell", "trên một ô tính toán"),
                        )
                        .with_help(tr!(
                            "check the computed value with a rule instead: `rule R.. \"…\": {0} >= {1} and {0} <= {2}`",
                            "hãy kiểm tra giá trị tính toán bằng một quy tắc: `rule R.. \"…\": {0} >= {1} and {0} <= {2}`",
                            decl.id, min.text, max.text
                        )),
                    );
                }
                return;
            }
            if let Some(sig) = &decl.sig
                && !sig.ty.is_numeric()
            {
                report(
                    Diagnostic::new(
                        Code::BadRange,
                        *span,
                        tr!("a range applies to numbers only", "khoảng giá trị chỉ áp dụng cho số"),
                        tr!("not a number", "không phải số"),
                    )
                    .with_help(tr!(
                        "for texts use `text(n)` to limit the length; for codes the codelist limits the values",
                        "với văn bản hãy dùng `text(n)` để giới hạn độ dài; với mã thì danh mục giới hạn các giá trị"
                    )),
                );
                return;
            }
            if compare_decimal(&min.text, &max.text) == std::cmp::Ordering::Greater {
                report(
                    Diagnostic::new(
                        Code::BadRange,
                        *span,
                        tr!(
                            "the range {}..{} is empty: the minimum is above the maximum",
                            "khoảng giá trị {}..{} rỗng: giá trị nhỏ nhất lớn hơn giá trị lớn nhất",
                            min.text,
                            max.text
                        ),
                        tr!("empty range", "khoảng rỗng"),
                    )
                    .with_label(min.span, tr!("minimum", "nhỏ nhất"))
                    .with_label(max.span, tr!("maximum", "lớn nhất"))
                    .with_help(tr!(
                        "write the smaller bound first: `range 0..100`",
                        "hãy ghi cận nhỏ hơn trước: `range 0..100`"
                    )),
                );
                return;
            }
            decl.range = Some(ir::Range {
                min: super::expr::normalize(&min.text),
                max: super::expr::normalize(&max.text),
            });
        }
        ast::Attr::Aggregate { axes, none, span } => {
            if decl.formula.is_some() {
                if !owner_computed {
                    return;
                }
                report(
                    Diagnostic::new(
                        Code::AggregateOnComputed,
                        *span,
                        tr!(
                            "a computed cell is recomputed at every level, not aggregated",
                            "ô tính toán được tính lại ở mọi cấp, không được tổng hợp"
                        ),
                        tr!("on a computed cell", "trên một ô tính toán"),
                    )
                    .with_help(tr!(
                        "remove `aggregate`: the cells the formula reads are aggregated, and the formula is applied to their totals",
                        "hãy bỏ `aggregate`: các ô mà công thức đọc được tổng hợp, rồi công thức được áp dụng trên các số tổng đó"
                    )),
                );
                return;
            }
            if *none {
                decl.agg.units = Some(UnitsAgg::None);
                decl.agg.time = Some(TimeAgg::None);
            }
            for (axis, f) in axes {
                if axis.text == "units" {
                    match UNITS_AGG.iter().find(|(n, _)| *n == f.text) {
                        Some((_, u)) => decl.agg.units = Some(*u),
                        None => report(bad_agg(
                            f,
                            tr!("over org units", "theo đơn vị"),
                            &["sum", "average", "min", "max", "count", "none"],
                        )),
                    }
                } else {
                    match TIME_AGG.iter().find(|(n, _)| *n == f.text) {
                        Some((_, t)) => decl.agg.time = Some(*t),
                        None => report(bad_agg(
                            f,
                            tr!("over time", "theo thời gian"),
                            &["sum", "average", "last", "first", "min", "max", "none"],
                        )),
                    }
                }
            }
            if !quiet || decl.agg.span.is_none() {
                decl.agg.span = Some((*span, quiet));
            }
        }
    }
}

/// The aggregation of an entered cell: what its row and column say (the
/// column's choice wins on an axis both name), the defaults of its type for
/// the rest. Reports sums of texts, percents and ratios.
fn finalize_aggregation(decl: &mut CellDecl<'_>, diags: &mut Diagnostics) {
    let Some(sig) = &decl.sig else { return };
    if decl.formula.is_some() {
        return;
    }
    let default = default_aggregation(sig, decl.yearly);
    let agg = Aggregation {
        units: decl.agg.units.unwrap_or(default.units),
        time: decl.agg.time.unwrap_or(default.time),
    };
    let Some((span, quiet)) = decl.agg.span else {
        decl.aggregation = Some(agg);
        return;
    };
    let mut report = |d: Diagnostic| {
        if !quiet {
            diags.push(d);
        }
    };
    // Texts, codes, dates and true/false values can be counted or carried
    // over, not summed or averaged.
    if !sig.ty.is_numeric()
        && (!matches!(agg.units, UnitsAgg::Count | UnitsAgg::None)
            || !matches!(agg.time, TimeAgg::Last | TimeAgg::First | TimeAgg::None))
    {
        report(
            Diagnostic::new(
                Code::BadAggregation,
                span,
                tr!(
                    "only numbers can be summed, averaged or compared for a minimum or maximum",
                    "chỉ các số mới cộng được, lấy trung bình được hoặc so sánh để lấy nhỏ nhất, lớn nhất"
                ),
                tr!("not a number", "không phải số"),
            )
            .with_help(tr!(
                "for texts, codes, dates and true/false values use `units count` (how many units reported one) and `time last` or `time first`",
                "với văn bản, mã, ngày và giá trị đúng/sai hãy dùng `units count` (số đơn vị đã báo cáo) và `time last` hoặc `time first`"
            )),
        );
        decl.aggregation = Some(default);
        return;
    }
    // Summing a percent or a ratio is meaningless.
    if (sig.ty == ir::Type::Percent || sig.unit.is_ratio())
        && (agg.units == UnitsAgg::Sum || agg.time == TimeAgg::Sum)
    {
        let what = if sig.ty == ir::Type::Percent {
            tr!("a percent", "một tỷ lệ phần trăm")
        } else {
            tr!("a ratio ({})", "một tỷ số ({})", sig.unit)
        };
        report(
            Diagnostic::new(
                Code::SummedRatio,
                span,
                tr!("this would sum {}", "cách này sẽ cộng dồn {}", what),
                tr!("summed", "bị cộng dồn"),
            )
            .with_help(tr!(
                "a sum of percentages or ratios means nothing; use `average`, or make the cell computed (`= a / b`) so it is recomputed from summed parts",
                "tổng của các tỷ lệ phần trăm hay tỷ số không có ý nghĩa; hãy dùng `average`, hoặc đặt ô là ô tính toán (`= a / b`) để được tính lại từ các phần đã cộng"
            )),
        );
    }
    decl.aggregation = Some(agg);
}

fn bad_agg(f: &ast::Name, axis: Text, choices: &[&str]) -> Diagnostic {
    Diagnostic::new(
        Code::BadAggregation,
        f.span,
        tr!(
            "`{}` is not an aggregation {}",
            "`{}` không phải là cách tổng hợp {}",
            f.text,
            axis
        ),
        tr!("unknown aggregation", "cách tổng hợp không biết"),
    )
    .with_help(crate::diagnostic::choices(&f.text, choices))
}

/// Defaults by type: amounts sum over units and time; percents and ratios
/// average; yearly values take the last; texts, codes, dates and booleans
/// do not aggregate over units and take the last value over time.
pub(crate) fn default_aggregation(sig: &CellSig, yearly: bool) -> Aggregation {
    let numeric = sig.ty.is_numeric();
    if !numeric {
        return Aggregation {
            units: UnitsAgg::None,
            time: TimeAgg::Last,
        };
    }
    if sig.ty == ir::Type::Percent || sig.unit.is_ratio() {
        return Aggregation {
            units: UnitsAgg::Average,
            time: TimeAgg::Average,
        };
    }
    Aggregation {
        units: UnitsAgg::Sum,
        time: if yearly { TimeAgg::Last } else { TimeAgg::Sum },
    }
}

fn missing_type(span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MissingType,
        span,
        tr!(
            "`{name}` is entered but has no data type",
            "`{name}` là ô nhập liệu nhưng không có kiểu dữ liệu"
        ),
        tr!("no type", "không có kiểu"),
    )
    .with_help(tr!(
        "give it a type after `:`, e.g. `: int [person]`, `: decimal(12,2) [tonne]`, `: money`, `: percent`",
        "hãy ghi kiểu sau dấu `:`, ví dụ `: int [person]`, `: decimal(12,2) [tonne]`, `: money`, `: percent`"
    ))
}

/// Whether a column type keeps the row's unit of measure.
fn keeps_unit(t: &ast::TypeExpr) -> bool {
    matches!(t, ast::TypeExpr::Simple { name, .. } if matches!(name.text.as_str(), "int" | "integer" | "decimal"))
}

/// Resolves a type annotation (in `scope`) and its unit of measure (in the
/// scope given with it).
pub(crate) fn resolve_type(
    t: &ast::TypeExpr,
    unit: Option<(&ast::UnitExpr, Option<&Scope<'_>>)>,
    scope: Option<&Scope<'_>>,
    diags: &mut Diagnostics,
) -> Option<CellSig> {
    let ty = match t {
        ast::TypeExpr::Code { codelist, .. } => {
            if scope.is_some_and(|s| s.codelists.contains_key(codelist.text.as_str())) {
                ir::Type::Code {
                    codelist: codelist.text.clone(),
                }
            } else {
                let names: Vec<&str> = scope
                    .map(|s| s.codelists.keys().copied().collect())
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::new(
                        Code::UnknownCodelist,
                        codelist.span,
                        tr!(
                            "there is no codelist `{}` here",
                            "ở đây không có danh mục `{}`",
                            codelist.text
                        ),
                        tr!("unknown codelist", "danh mục không biết"),
                    )
                    .with_help(tr!(
                        "codelists come from this file or a module brought in with `use`; {}",
                        "danh mục lấy từ chính tệp này hoặc từ một mô-đun được nạp bằng `use`; {}",
                        did_you_mean(
                            &codelist.text,
                            tr!("codelist", "danh mục"),
                            names.iter().copied()
                        )
                    )),
                );
                return None;
            }
        }
        ast::TypeExpr::Simple { name, params, span } => {
            let p: Vec<Option<u32>> = params.iter().map(|n| n.as_u32()).collect();
            let bad = |msg: Text, help: Text, diags: &mut Diagnostics| {
                diags.push(
                    Diagnostic::new(
                        Code::BadTypeParams,
                        *span,
                        msg,
                        tr!("invalid parameters", "tham số không hợp lệ"),
                    )
                    .with_help(help),
                );
            };
            match (name.text.as_str(), p.as_slice()) {
                ("int" | "integer", []) => ir::Type::Int,
                ("money", []) => ir::Type::Money,
                ("percent", []) => ir::Type::Percent,
                ("date", []) => ir::Type::Date,
                ("bool", []) => ir::Type::Bool,
                ("decimal", []) => ir::Type::Decimal {
                    precision: 18,
                    scale: 2,
                },
                ("decimal", [Some(pr)]) if (1..=38).contains(pr) => ir::Type::Decimal {
                    precision: *pr,
                    scale: 0,
                },
                ("decimal", [Some(pr), Some(sc)]) if (1..=38).contains(pr) && sc <= pr => {
                    ir::Type::Decimal {
                        precision: *pr,
                        scale: *sc,
                    }
                }
                ("decimal", _) => {
                    bad(
                        tr!(
                            "`decimal(p, s)` needs 1 ≤ p ≤ 38 digits in all and s ≤ p after the point",
                            "`decimal(p, s)` cần tổng số chữ số 1 ≤ p ≤ 38 và s ≤ p chữ số phần thập phân"
                        ),
                        tr!(
                            "e.g. `decimal(12,2)`: 12 digits, 2 after the point",
                            "ví dụ `decimal(12,2)`: 12 chữ số, 2 chữ số sau dấu thập phân"
                        ),
                        diags,
                    );
                    return None;
                }
                ("text", []) => ir::Type::Text { max_len: 255 },
                ("text", [Some(n)]) if (1..=100_000).contains(n) => ir::Type::Text { max_len: *n },
                ("text", _) => {
                    bad(
                        tr!(
                            "`text(n)` needs a length from 1 to 100000",
                            "`text(n)` cần độ dài từ 1 đến 100000"
                        ),
                        tr!("e.g. `text(120)`", "ví dụ `text(120)`"),
                        diags,
                    );
                    return None;
                }
                ("int" | "integer" | "money" | "percent" | "date" | "bool", _) => {
                    bad(
                        tr!(
                            "`{}` takes no parameters",
                            "`{}` không nhận tham số",
                            name.text
                        ),
                        tr!("remove the parentheses", "hãy bỏ cặp ngoặc"),
                        diags,
                    );
                    return None;
                }
                (other, _) => {
                    diags.push(
                        Diagnostic::new(
                            Code::UnknownType,
                            name.span,
                            tr!(
                                "`{other}` is not a data type",
                                "`{other}` không phải là kiểu dữ liệu"
                            ),
                            tr!("unknown type", "kiểu không biết"),
                        )
                        .with_help(tr!(
                            "{} (a text is `text(n)`, a code from a list `code LIST`)",
                            "{} (văn bản là `text(n)`, mã thuộc danh mục là `code DANH_MỤC`)",
                            crate::diagnostic::choices(
                                if other == "string" { "text" } else { other },
                                TYPES
                            )
                        )),
                    );
                    return None;
                }
            }
        }
    };
    let unit = match (&ty, unit) {
        (ir::Type::Int | ir::Type::Decimal { .. }, Some((u, unit_scope))) => {
            resolve_unit(u, unit_scope, diags)?
        }
        (ir::Type::Int | ir::Type::Decimal { .. }, None) => Unit::dimensionless(),
        (ir::Type::Money, None) => Unit::base("VND"),
        (_, None) => Unit::dimensionless(),
        (other, Some((u, _))) => {
            let (what, help) = match other {
                ir::Type::Money => (
                    tr!(
                        "money is always in đồng (VND)",
                        "tiền luôn tính bằng đồng (VND)"
                    ),
                    tr!(
                        "remove the unit; for amounts in millions of đồng use `decimal(18,2) [million_vnd]`",
                        "hãy bỏ đơn vị đo; với số tiền tính bằng triệu đồng dùng `decimal(18,2) [million_vnd]`"
                    ),
                ),
                ir::Type::Percent => (
                    tr!(
                        "a percent has no unit",
                        "tỷ lệ phần trăm không có đơn vị đo"
                    ),
                    tr!(
                        "remove the unit: a percent is a ratio of two quantities of the same unit",
                        "hãy bỏ đơn vị đo: tỷ lệ phần trăm là thương của hai đại lượng cùng đơn vị đo"
                    ),
                ),
                _ => (
                    tr!(
                        "only numbers have a unit of measure",
                        "chỉ các số mới có đơn vị đo"
                    ),
                    tr!("remove the unit", "hãy bỏ đơn vị đo"),
                ),
            };
            diags.push(
                Diagnostic::new(
                    Code::BadTypeParams,
                    u.span,
                    what,
                    tr!("unit not allowed here", "không được ghi đơn vị đo ở đây"),
                )
                .with_help(help),
            );
            return None;
        }
    };
    Some(CellSig { ty, unit })
}

pub(crate) fn resolve_unit(
    u: &ast::UnitExpr,
    scope: Option<&Scope<'_>>,
    diags: &mut Diagnostics,
) -> Option<Unit> {
    let mut unit = Unit::dimensionless();
    let mut ok = true;
    for term in &u.terms {
        if scope.is_some_and(|s| s.units.contains_key(term.name.text.as_str())) {
            unit = unit.mul(&Unit::power(&term.name.text, term.power));
        } else {
            ok = false;
            let names: Vec<&str> = scope
                .map(|s| s.units.keys().copied().collect())
                .unwrap_or_default();
            // Declared in a module this file does not bring in: name the
            // `use` line that is missing.
            if let Some(module) = scope.and_then(|s| s.units_elsewhere.get(term.name.text.as_str()))
            {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownUnit,
                        term.name.span,
                        tr!(
                            "the unit of measure `{}` is declared in module `{module}`, which this file does not `use`",
                            "đơn vị đo `{}` được khai báo trong mô-đun `{module}`, nhưng tệp này không nạp mô-đun đó bằng `use`",
                            term.name.text
                        ),
                        tr!("not brought in with `use`", "chưa được nạp bằng `use`"),
                    )
                    .with_help(tr!(
                        "add the line `use {module}` at the top of this file",
                        "hãy thêm dòng `use {module}` ở đầu tệp này"
                    )),
                );
                continue;
            }
            diags.push(
                Diagnostic::new(
                    Code::UnknownUnit,
                    term.name.span,
                    tr!(
                        "there is no unit of measure `{}` here",
                        "ở đây không có đơn vị đo `{}`",
                        term.name.text
                    ),
                    tr!("unknown unit", "đơn vị đo không biết"),
                )
                .with_help(tr!(
                    "{}; declare it with `unit {} \"…\"` in a shared module and `use` it",
                    "{}; hãy khai báo nó bằng `unit {} \"…\"` trong một mô-đun dùng chung rồi nạp bằng `use`",
                    did_you_mean(&term.name.text, tr!("unit", "đơn vị đo"), names.iter().copied()),
                    term.name.text
                )),
            );
        }
    }
    ok.then_some(unit)
}

/// Split and of-which children: numeric parents, children in the parent's unit.
fn split_checks(rows: &[FlatRow<'_>], cells: &[CellDecl<'_>], diags: &mut Diagnostics) {
    for (ri, row) in rows.iter().enumerate() {
        let Some(pi) = row.parent else { continue };
        let Some(parent) = rows.get(pi) else { continue };
        let sig_of = |r: usize| {
            cells
                .iter()
                .find(|c| c.row == Some(r) && c.formula.is_none())
                .and_then(|c| c.sig.clone())
        };
        let (Some(ps), Some(cs)) = (sig_of(pi), sig_of(ri)) else {
            continue;
        };
        let block = if row.relation == Some(ast::ChildKind::Split) {
            tr!("split (Chia ra)", "Chia ra")
        } else {
            tr!("of-which (Trong đó)", "Trong đó")
        };
        if !ps.ty.is_numeric() {
            // Reported once per parent: on its first child.
            if rows.iter().position(|r| r.parent == Some(pi)) == Some(ri) {
                diags.push(
                    Diagnostic::new(
                        Code::SplitNotNumeric,
                        parent.row.name.span,
                        tr!(
                            "`{}` has {} rows but is not a number",
                            "`{}` có các dòng \"{}\" nhưng không phải là số",
                            parent.row.name.text,
                            block
                        ),
                        tr!("not a number", "không phải số"),
                    )
                    .with_label(row.row.name.span, tr!("child row", "dòng con"))
                    .with_help(tr!(
                        "only numeric rows can be broken down; give the parent a numeric type",
                        "chỉ dòng kiểu số mới chia nhỏ được; hãy cho dòng cha một kiểu số"
                    )),
                );
            }
            continue;
        }
        if !cs.ty.is_numeric() {
            diags.push(
                Diagnostic::new(
                    Code::SplitNotNumeric,
                    row.row.name.span,
                    tr!(
                        "the {} row `{}` is not a number",
                        "dòng \"{}\" `{}` không phải là số",
                        block,
                        row.row.name.text
                    ),
                    tr!("not a number", "không phải số"),
                )
                .with_label(parent.row.name.span, tr!("a number", "là số"))
                .with_help(tr!(
                    "the rows of a breakdown count parts of their parent: give them the parent's numeric type",
                    "các dòng chia nhỏ đếm các phần của dòng cha: hãy cho chúng kiểu số của dòng cha"
                )),
            );
            continue;
        }
        let kind = |s: &CellSig| {
            if s.ty == ir::Type::Percent {
                tr!("percent", "phần trăm")
            } else {
                let u = s.unit.to_string();
                Text::new(u.clone(), u)
            }
        };
        if ps.unit != cs.unit || (ps.ty == ir::Type::Percent) != (cs.ty == ir::Type::Percent) {
            let (cu, pu) = (kind(&cs), kind(&ps));
            diags.push(
                Diagnostic::new(
                    Code::SplitUnitMismatch,
                    row.row.name.span,
                    tr!(
                        "the {} row `{}` is in {}, its parent `{}` in {}",
                        "dòng \"{}\" `{}` tính bằng {}, còn dòng cha `{}` tính bằng {}",
                        block,
                        row.row.name.text,
                        cu,
                        parent.row.name.text,
                        pu
                    ),
                    tr!("different unit", "khác đơn vị đo"),
                )
                .with_label(parent.row.name.span, tr!("parent in {}", "dòng cha tính bằng {}", pu))
                .with_help(tr!(
                    "children of a split or of-which row count the same quantity as their parent: give them the parent's unit",
                    "các dòng con của \"Chia ra\" hoặc \"Trong đó\" đếm cùng đại lượng với dòng cha: hãy cho chúng đơn vị đo của dòng cha"
                )),
            );
        }
    }
}

/// Compares two decimal literals (optionally negative) exactly.
pub(crate) fn compare_decimal(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let parse = |s: &str| {
        let n = super::expr::normalize(s);
        let neg = n.starts_with('-');
        let body = n.trim_start_matches('-').to_string();
        let (i, f) = body
            .split_once('.')
            .map(|(i, f)| (i.to_string(), f.to_string()))
            .unwrap_or((body.clone(), String::new()));
        (neg, i, f)
    };
    let (an, ai, af) = parse(a);
    let (bn, bi, bf) = parse(b);
    let mag = |ai: &str, af: &str, bi: &str, bf: &str| -> Ordering {
        ai.len()
            .cmp(&bi.len())
            .then_with(|| ai.cmp(bi))
            .then_with(|| {
                let w = af.len().max(bf.len());
                format!("{af:0<w$}").cmp(&format!("{bf:0<w$}"))
            })
    };
    match (an, bn) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => mag(&ai, &af, &bi, &bf),
        (true, true) => mag(&bi, &bf, &ai, &af),
    }
}

/// The implicit column's name, re-exported for the IR.
pub(crate) const VALUE: &str = IMPLICIT_COLUMN;

/// Whether a formula is linear in the cells it reads (sums, differences,
/// multiples by constants, year-to-date sums), so that applying it before or
/// after aggregation gives the same result.
fn is_linear(e: &ast::Expr) -> bool {
    let constant =
        |e: &ast::Expr| matches!(e.kind, ast::ExprKind::Number(_) | ast::ExprKind::Percent(_));
    match &e.kind {
        ast::ExprKind::Number(_) | ast::ExprKind::Percent(_) | ast::ExprKind::Ref(_) => true,
        ast::ExprKind::Neg(a) => is_linear(a),
        ast::ExprKind::Binary(ast::BinOp::Add | ast::BinOp::Sub, a, b) => {
            is_linear(a) && is_linear(b)
        }
        ast::ExprKind::Binary(ast::BinOp::Mul, a, b) => {
            (constant(a) && is_linear(b)) || (constant(b) && is_linear(a))
        }
        ast::ExprKind::Binary(ast::BinOp::Div, a, b) => constant(b) && is_linear(a),
        ast::ExprKind::Call { func, args } => {
            func.text == "sum" && args.iter().all(|a| is_linear(&a.expr))
        }
        _ => false,
    }
}
