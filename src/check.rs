//! Type checking: from resolved names to the typed IR.
//!
//! Order of work (each step reports its own problems and goes on):
//! 1. regime headers ([`header`]);
//! 2. cells of every form, with types, units and aggregation ([`forms`]);
//! 3. formulas of computed cells, typed (types of undeclared computed cells
//!    are inferred, in as many rounds as needed), then cycles among them;
//! 4. rules: written ones ([`rules`]) and those derived from split and
//!    of-which rows;
//! 5. assembly of the [`ir::Library`].

pub(crate) mod expr;
mod forms;
mod header;
mod rules;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::ir::{self, Unit, ValueType};
use crate::resolve::{CodelistRef, Env, FormShape, RefCtx, RegimeTable};
use crate::source::{SourceMap, Span};
use crate::syntax::ast;
use crate::tr;
use expr::{CellSig, ExprCx};
use forms::CellDecl;
use std::collections::{BTreeMap, HashMap};

/// A computed cell, where its formula is, and the cells it reads.
type CellDeps = (CellKey, (Span, Vec<CellKey>));

/// The type and unit of every cell, by cell.
pub(crate) type SigMap = rustc_hash::FxHashMap<CellKey, CellSig>;

/// A cell anywhere in the library.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CellKey {
    pub regime: String,
    pub form: String,
    pub cell: String,
}

struct RegimeWork<'a> {
    code: &'a str,
    header: header::Header,
    /// Per form: its cells.
    forms: Vec<Vec<CellDecl<'a>>>,
    /// Typed formulas, by (form, cell index).
    formulas: HashMap<(usize, usize), ir::Expr>,
}

pub fn check(env: &Env<'_>, sources: &SourceMap, diags: &mut Diagnostics) -> ir::Library {
    use rayon::prelude::*;
    let tables: Vec<(&str, &RegimeTable<'_>)> = env.regimes.iter().map(|(c, t)| (*c, t)).collect();

    // 1–2: headers and declared cells, each regime on its own.
    let declared: Vec<(RegimeWork<'_>, Diagnostics)> = tables
        .par_iter()
        .map(|(code, table)| {
            let mut d = Diagnostics::new();
            let w = declare(env, code, table, &mut d);
            (w, d)
        })
        .collect();
    let mut work = Vec::with_capacity(declared.len());
    for (w, d) in declared {
        diags.extend(d);
        work.push(w);
    }
    let mut sigs: SigMap = SigMap::default();
    for w in &work {
        for (fi, cells) in w.forms.iter().enumerate() {
            let Some(form) = env.regimes.get(w.code).and_then(|t| t.forms.get(fi)) else {
                continue;
            };
            for c in cells {
                if let Some(sig) = &c.sig {
                    sigs.insert(key(w.code, form.code(), &c.id), sig.clone());
                }
            }
        }
    }

    // 3: formulas. A formula reads only its own regime, so regimes are typed
    // in parallel, each inferring the types of its undeclared computed cells.
    let typed: Vec<(Diagnostics, SigMap, Vec<CellDeps>)> = work
        .par_iter_mut()
        .map(|w| {
            let mut d = Diagnostics::new();
            let (inferred, deps) = formulas(env, w, &sigs, &mut d);
            (d, inferred, deps)
        })
        .collect();
    let mut deps: rustc_hash::FxHashMap<CellKey, (Span, Vec<CellKey>)> = Default::default();
    for (d, inferred, regime_deps) in typed {
        diags.extend(d);
        sigs.extend(inferred);
        deps.extend(regime_deps);
    }
    cycles(&deps, diags);

    // 4–5: rules and assembly, in parallel again (rules may read other
    // regimes' cells, whose types are all known now).
    let assembled: Vec<(ir::Regime, Diagnostics)> = work
        .par_iter_mut()
        .filter_map(|w| {
            let table = env.regimes.get(w.code)?;
            let mut d = Diagnostics::new();
            let regime = assemble(env, sources, table, w, &sigs, &mut d);
            Some((regime, d))
        })
        .collect();
    let mut regimes = Vec::with_capacity(assembled.len());
    for (r, d) in assembled {
        diags.extend(d);
        regimes.push(r);
    }

    ir::Library {
        ir_version: ir::IR_VERSION,
        codelists: used_codelists(env, &regimes),
        units: declared_units(env, diags),
        org: ir::Org {
            levels: env.data.levels.clone(),
            unit_types: env.data.unit_types.clone(),
            // Moved in by `crate::compile` (too large to copy).
            editions: Vec::new(),
            mappings: Vec::new(),
        },
        holidays: env.data.holidays.clone(),
        working_weekends: env.data.working_weekends.clone(),
        regimes,
    }
}

/// The header and the declared cells of one regime.
fn declare<'a>(
    env: &Env<'a>,
    code: &'a str,
    table: &RegimeTable<'a>,
    diags: &mut Diagnostics,
) -> RegimeWork<'a> {
    let header = header::check(table.regime, env.data, diags);
    if table.forms.is_empty() && !table.regime.incomplete {
        diags.push(
            Diagnostic::new(
                Code::NoForms,
                table.regime.code.span,
                tr!(
                    "the regime `{code}` has no forms",
                    "chế độ báo cáo `{code}` không có biểu mẫu nào"
                ),
                tr!("no forms", "không có biểu mẫu"),
            )
            .with_help(tr!(
                "a regime reports its data on forms: add `form B01 \"…\" {{ rows {{ … }} }}`",
                "chế độ báo cáo thu số liệu qua các biểu mẫu: hãy thêm `form B01 \"…\" {{ rows {{ … }} }}`"
            )),
        );
    }
    let forms: Vec<Vec<CellDecl<'a>>> = table
        .forms
        .iter()
        .map(|f| forms::cells(env, f, table.file, diags))
        .collect();
    // `entered once per year` only makes sense below a year.
    if let Some(freq) = header.frequency
        && !freq.is_sub_annual()
    {
        yearly_warnings(table.regime, freq, diags);
    }
    // Stocks summed over the months of a quarter or a year.
    if header.frequency.is_some_and(|f| f.is_sub_annual()) {
        stock_warnings(env, table, &forms, diags);
    }
    RegimeWork {
        code,
        header,
        forms,
        formulas: HashMap::new(),
    }
}

/// Types the formulas of one regime, in rounds until no more computed cell
/// can be typed (a cell whose formula reads an untyped computed cell waits
/// for the next round); what is left is typed once more with diagnostics
/// on (cycles, or cells after an error). Returns the inferred types and the
/// dependencies of each computed cell.
fn formulas<'a>(
    env: &Env<'a>,
    w: &mut RegimeWork<'a>,
    declared: &SigMap,
    diags: &mut Diagnostics,
) -> (SigMap, Vec<CellDeps>) {
    let mut inferred = SigMap::default();
    let mut deps = Vec::new();
    let Some(table) = env.regimes.get(w.code) else {
        return (inferred, deps);
    };
    let mut final_round = false;
    loop {
        let mut progress = false;
        let mut pending = 0usize;
        for (fi, cells) in w.forms.iter_mut().enumerate() {
            let Some(form) = table.forms.get(fi) else {
                continue;
            };
            for (ci, cell) in cells.iter_mut().enumerate() {
                let Some(formula) = cell.formula else {
                    continue;
                };
                if w.formulas.contains_key(&(fi, ci)) {
                    continue;
                }
                let ctx = RefCtx {
                    form: Some(fi),
                    row: cell.row,
                    column: cell.column,
                    column_formula: formula.is_column,
                    row_formula: !formula.is_column,
                    ..RefCtx::default()
                };
                let mut scratch = Diagnostics::new();
                let (typed, cell_deps, deferred) = {
                    let sink = if final_round {
                        &mut *diags
                    } else {
                        &mut scratch
                    };
                    let mut cx = ExprCx {
                        env,
                        regime: w.code,
                        frequency: w.header.frequency,
                        ctx,
                        cells: declared,
                        local: Some(&inferred),
                        raw_percent: false,
                        deps: Vec::new(),
                        deferred: false,
                        diags: sink,
                        other_regimes: 0,
                    };
                    let t = cx.expr(formula.expr);
                    (t, cx.deps, cx.deferred)
                };
                if deferred && !final_round {
                    pending += 1;
                    continue;
                }
                if !final_round {
                    diags.extend(scratch);
                }
                let k = key(w.code, form.code(), &cell.id);
                deps.push((k.clone(), (formula.expr.span, cell_deps)));
                progress = true;
                let expr = match &cell.sig {
                    Some(sig) => conform(typed, sig, formula.expr.span, &cell.id, diags),
                    None => {
                        let sig = CellSig {
                            ty: infer_type(&typed.expr, declared, &inferred, w.code),
                            unit: typed.expr.unit.clone(),
                        };
                        if !deferred {
                            cell.sig = Some(sig.clone());
                            inferred.insert(k, sig);
                        }
                        typed.expr
                    }
                };
                w.formulas.insert((fi, ci), expr);
            }
        }
        if final_round || pending == 0 {
            break;
        }
        if !progress {
            final_round = true;
        }
    }
    // Cells whose type could not be found (in a cycle, or after an error)
    // get a neutral one so that checking goes on.
    for cells in w.forms.iter_mut() {
        for c in cells.iter_mut() {
            if c.sig.is_none() {
                c.sig = Some(CellSig {
                    ty: ir::Type::Decimal {
                        precision: 38,
                        scale: 6,
                    },
                    unit: Unit::dimensionless(),
                });
            }
        }
    }
    (inferred, deps)
}

/// The IR of one regime: its forms, its written and derived rules.
fn assemble(
    env: &Env<'_>,
    sources: &SourceMap,
    table: &RegimeTable<'_>,
    w: &RegimeWork<'_>,
    sigs: &SigMap,
    diags: &mut Diagnostics,
) -> ir::Regime {
    let mut forms_ir = Vec::new();
    for (fi, cells) in w.forms.iter().enumerate() {
        if let Some(form) = table.forms.get(fi) {
            forms_ir.push(form_ir(form, cells, &w.formulas, fi));
        }
    }
    let mut rules_ir = rules::written(env, table, w.code, w.header.frequency, sigs, diags);
    rules_ir.extend(rules::derived(table, &forms_ir));
    let h = &w.header;
    ir::Regime {
        ir_version: ir::IR_VERSION,
        code: w.code.to_string(),
        titles: h.titles.clone(),
        basis: h.basis.clone(),
        owner: h.owner.clone(),
        receiver: h.receiver.clone(),
        kind: h.kind,
        frequency: h.frequency.unwrap_or(ir::Frequency::AdHoc),
        cutoff: h.cutoff,
        reporters: h.reporters.clone(),
        flow: h.flow.clone(),
        deadlines: h.deadlines.clone(),
        methods: h.methods.clone(),
        version: h.version,
        effective: h.effective,
        forms: forms_ir,
        rules: rules_ir,
        source: env
            .files
            .get(table.file)
            .and_then(|f| sources.get(f.id))
            .map(|f| f.rel.clone())
            .unwrap_or_default(),
    }
}

fn key(regime: &str, form: &str, cell: &str) -> CellKey {
    CellKey {
        regime: regime.to_string(),
        form: form.to_string(),
        cell: cell.to_string(),
    }
}

/// Checks a typed formula against the cell's declared type and unit, and
/// scales a fraction into percentage points for a percent cell.
fn conform(
    typed: expr::Typed,
    sig: &CellSig,
    span: Span,
    id: &str,
    diags: &mut Diagnostics,
) -> ir::Expr {
    if typed.poisoned {
        return typed.expr;
    }
    let want = sig.value_type();
    if typed.expr.ty != want {
        diags.push(
            Diagnostic::new(
                Code::DeclaredTypeMismatch,
                span,
                tr!(
                    "the formula of `{id}` gives a {}, but the cell is a {}",
                    "công thức của `{id}` cho ra {}, nhưng ô này là {}",
                    expr::ty_name(&typed.expr.ty),
                    expr::ty_name(&want)
                ),
                tr!("gives a {}", "cho ra {}", expr::ty_name(&typed.expr.ty)),
            )
            .with_help(tr!(
                "change the formula or the cell's declared type",
                "hãy sửa công thức hoặc kiểu đã khai báo của ô"
            )),
        );
        return typed.expr;
    }
    if sig.ty == ir::Type::Percent {
        if !typed.expr.unit.is_dimensionless() {
            diags.push(
                Diagnostic::new(
                    Code::DeclaredTypeMismatch,
                    span,
                    tr!(
                        "`{id}` is a percent, but its formula gives a quantity in {}",
                        "`{id}` là tỷ lệ phần trăm, nhưng công thức của nó cho ra một đại lượng tính bằng {}",
                        typed.expr.unit
                    ),
                    tr!("in {}", "tính bằng {}", typed.expr.unit),
                )
                .with_help(tr!(
                    "a percent is a ratio of two quantities in the same unit, e.g. `= ytd / plan`",
                    "tỷ lệ phần trăm là thương của hai đại lượng cùng đơn vị đo, ví dụ `= ytd / plan`"
                )),
            );
            return typed.expr;
        }
        return expr::fraction_to_percent(typed.expr);
    }
    if want == ValueType::Number && !typed.literal && typed.expr.unit != sig.unit {
        diags.push(
            Diagnostic::new(
                Code::DeclaredTypeMismatch,
                span,
                tr!(
                    "`{id}` is in {}, but its formula gives {}",
                    "`{id}` tính bằng {}, nhưng công thức của nó cho ra {}",
                    sig.unit,
                    typed.expr.unit
                ),
                tr!("in {}", "tính bằng {}", typed.expr.unit),
            )
            .with_help(tr!(
                "make the formula's unit match the cell's, or declare the cell with the formula's unit",
                "hãy sửa công thức cho cùng đơn vị đo với ô, hoặc khai báo ô theo đơn vị đo của công thức"
            )),
        );
    }
    typed.expr
}

/// The storage type of a computed cell with no declared type: whole numbers
/// and money stay so under `+ - ×`, sums, minima and maxima; anything with
/// a division (or mixed inputs) is a decimal.
fn infer_type(e: &ir::Expr, declared: &SigMap, inferred: &SigMap, regime: &str) -> ir::Type {
    fn walk(
        e: &ir::Expr,
        sigs: &[&SigMap],
        regime: &str,
        acc: &mut Option<ir::Type>,
        exact: &mut bool,
    ) {
        match &e.kind {
            ir::ExprKind::Cell {
                regime: regime_of,
                form,
                cell,
                ..
            } => {
                let k = CellKey {
                    regime: regime_of.clone().unwrap_or_else(|| regime.to_string()),
                    form: form.clone(),
                    cell: cell.clone(),
                };
                let t = sigs.iter().find_map(|m| m.get(&k)).map(|s| s.ty.clone());
                match (acc.as_ref(), t) {
                    (_, None) => *exact = false,
                    (None, Some(t @ (ir::Type::Int | ir::Type::Money))) => *acc = Some(t),
                    (Some(a), Some(t)) if *a == t => {}
                    _ => *exact = false,
                }
            }
            ir::ExprKind::Number { value } => {
                if value.contains('.') {
                    *exact = false;
                }
            }
            ir::ExprKind::Binary {
                bin: ir::BinOp::Div,
                ..
            }
            | ir::ExprKind::Call {
                func: ir::Func::Round,
                ..
            } => *exact = false,
            ir::ExprKind::Binary { lhs, rhs, .. } => {
                walk(lhs, sigs, regime, acc, exact);
                walk(rhs, sigs, regime, acc, exact);
            }
            ir::ExprKind::Neg { arg } | ir::ExprKind::YearToDate { arg, .. } => {
                walk(arg, sigs, regime, acc, exact)
            }
            ir::ExprKind::Call { args, .. } => {
                args.iter().for_each(|a| walk(a, sigs, regime, acc, exact))
            }
            ir::ExprKind::Records {
                func: ir::RecordFunc::Count,
                ..
            } => {
                if acc.is_none() {
                    *acc = Some(ir::Type::Int);
                }
            }
            _ => *exact = false,
        }
    }
    match e.ty {
        ValueType::Text => return ir::Type::Text { max_len: 255 },
        ValueType::Bool => return ir::Type::Bool,
        ValueType::Date => return ir::Type::Date,
        ValueType::Number => {}
    }
    let mut acc = None;
    let mut exact = true;
    walk(e, &[declared, inferred], regime, &mut acc, &mut exact);
    match (acc, exact) {
        (Some(t), true) => t,
        _ => ir::Type::Decimal {
            precision: 38,
            scale: 6,
        },
    }
}

/// Reports every cycle among computed cells once, at the formula of its
/// first cell (by name), listing the path.
fn cycles(deps: &rustc_hash::FxHashMap<CellKey, (Span, Vec<CellKey>)>, diags: &mut Diagnostics) {
    let mut keys: Vec<&CellKey> = deps.keys().collect();
    keys.sort();
    let mut reported: std::collections::HashSet<&CellKey> = std::collections::HashSet::new();
    // Colour-marking DFS; 0 = new, 1 = on stack, 2 = done.
    let mut colour: HashMap<&CellKey, u8> = HashMap::new();
    for start in keys {
        if colour.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(&CellKey, usize)> = vec![(start, 0)];
        colour.insert(start, 1);
        while let Some((node, next)) = stack.last().cloned() {
            let succ = deps.get(node).map(|(_, d)| d.as_slice()).unwrap_or(&[]);
            if let Some(s) = succ.get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                if !deps.contains_key(s) {
                    continue;
                }
                match colour.get(s).copied().unwrap_or(0) {
                    0 => {
                        colour.insert(s, 1);
                        stack.push((s, 0));
                    }
                    1 => {
                        // A cycle: from `s` up the stack to `node`.
                        let pos = stack.iter().position(|(n, _)| *n == s).unwrap_or(0);
                        let path: Vec<&CellKey> = stack
                            .get(pos..)
                            .unwrap_or(&[])
                            .iter()
                            .map(|(n, _)| *n)
                            .collect();
                        if path.iter().any(|p| reported.contains(p)) {
                            continue;
                        }
                        reported.extend(path.iter().copied());
                        let first = path.iter().min().copied().unwrap_or(s);
                        let Some((span, _)) = deps.get(first) else {
                            continue;
                        };
                        let names: Vec<String> = path
                            .iter()
                            .map(|k| format!("{}.{}", k.form, k.cell))
                            .collect();
                        let mut d = Diagnostic::new(
                            Code::ComputedCycle,
                            *span,
                            tr!(
                                "computed cells depend on each other in a cycle: {} → {}",
                                "các ô tính toán phụ thuộc lẫn nhau thành vòng: {} → {}",
                                names.join(" → "),
                                names.first().cloned().unwrap_or_default()
                            ),
                            tr!("`{}` is computed from itself", "`{}` được tính từ chính nó", first.cell),
                        )
                        .with_help(tr!(
                            "break the cycle: one of these cells must be entered, or computed from other cells; a read of another period (`@previous`, year to date) counts too: a running total is `sum(month over year_to_date)`, not `month + total@previous`",
                            "hãy phá vòng: một trong các ô này phải là ô nhập liệu, hoặc được tính từ các ô khác; việc đọc kỳ khác (`@previous`, lũy kế từ đầu năm) cũng tính: lũy kế là `sum(month over year_to_date)`, không phải `month + total@previous`"
                        ));
                        for p in &path {
                            if *p != first
                                && let Some((sp, _)) = deps.get(*p)
                            {
                                d = d.with_label(
                                    *sp,
                                    tr!("`{}` is computed here", "`{}` được tính ở đây", p.cell),
                                );
                            }
                        }
                        diags.push(d);
                    }
                    _ => {}
                }
            } else {
                colour.insert(node, 2);
                stack.pop();
            }
        }
    }
}

/// A cell counting what exists at a moment (its unit is declared `stock`:
/// beds, schools, subscribers) that would be summed over time by default:
/// a quarter's "number of schools" would be three months' schools added up.
/// Warned once per row; an explicit `aggregate time sum` is taken as meant.
fn stock_warnings(
    env: &Env<'_>,
    table: &RegimeTable<'_>,
    forms: &[Vec<CellDecl<'_>>],
    diags: &mut Diagnostics,
) {
    for (form, cells) in table.forms.iter().zip(forms) {
        let FormShape::Grid { rows, .. } = &form.shape else {
            continue;
        };
        let mut warned = std::collections::BTreeSet::new();
        for c in cells {
            let (Some(ri), Some(sig), Some(agg)) = (c.row, &c.sig, &c.aggregation) else {
                continue;
            };
            if c.formula.is_some() || c.agg.time.is_some() || agg.time != ir::TimeAgg::Sum {
                continue;
            }
            let Some(row) = rows.get(ri) else { continue };
            let Some((unit, 1)) = sig.unit.single() else {
                continue;
            };
            let stock = env
                .scopes
                .iter()
                .filter_map(|s| s.units.get(unit))
                .any(|u| u.stock);
            if !stock || !warned.insert(ri) {
                continue;
            }
            let label = env
                .scopes
                .iter()
                .filter_map(|s| s.units.get(unit))
                .find_map(|u| u.label.as_ref().map(|l| l.value.clone()))
                .unwrap_or_else(|| unit.to_string());
            diags.push(
                Diagnostic::new(
                    Code::StockSummedOverTime,
                    row.row.name.span,
                    tr!(
                        "`{}` counts {label} ({unit}), a stock, and would be summed over time: a quarter would add up its months",
                        "`{}` đếm {label} ({unit}), là chỉ tiêu thời điểm, nhưng sẽ bị cộng dồn theo thời gian: số của quý sẽ bằng tổng các tháng",
                        row.row.name.text
                    ),
                    tr!("a stock summed over time", "chỉ tiêu thời điểm bị cộng dồn theo thời gian"),
                )
                .with_help(tr!(
                    "write `aggregate time last` on the row (the value at the end of the period), or `aggregate time sum` if adding up is really meant",
                    "hãy ghi `aggregate time last` trên dòng (lấy giá trị cuối kỳ), hoặc `aggregate time sum` nếu thật sự muốn cộng dồn"
                )),
            );
        }
    }
}

fn yearly_warnings(regime: &ast::Regime, freq: ir::Frequency, diags: &mut Diagnostics) {
    for form in &regime.forms {
        let ast::FormBody::Grid { columns, rows, .. } = &form.body else {
            continue;
        };
        let attrs = columns
            .iter()
            .flat_map(|c| c.attrs.iter())
            .chain(rows_attrs(rows));
        for a in attrs {
            if let ast::Attr::Entered {
                once_per_year: true,
                span,
            } = a
            {
                diags.push(
                    Diagnostic::new(
                        Code::YearlyInYearly,
                        *span,
                        crate::lang::Text::new(
                            format!("`entered once per year` in {} {} regime", crate::diagnostic::article(freq.name()), freq.name().replace('_', " ")),
                            format!("`entered once per year` trong chế độ báo cáo {}", frequency_vi(freq)),
                        ),
                        tr!("has no effect here", "không có tác dụng ở đây"),
                    )
                    .with_help(tr!(
                        "this regime has at most one period a year, so every value is entered once per year already; write `entered`",
                        "chế độ báo cáo này có nhiều nhất một kỳ mỗi năm, nên mọi giá trị vốn đã chỉ nhập một lần mỗi năm; hãy ghi `entered`"
                    )),
                );
            }
        }
    }
}

fn rows_attrs(rows: &[ast::RowItem]) -> Vec<&ast::Attr> {
    let mut out = Vec::new();
    for item in rows {
        if let ast::RowItem::Row(r) = item {
            out.extend(r.attrs.iter());
            for c in &r.children {
                out.extend(rows_attrs(&c.rows));
            }
        }
    }
    out
}

fn form_ir(
    form: &crate::resolve::FormTable<'_>,
    cells: &[CellDecl<'_>],
    formulas: &HashMap<(usize, usize), ir::Expr>,
    fi: usize,
) -> ir::Form {
    let (kind, columns, rows) = match &form.shape {
        FormShape::Records { .. } => (ir::FormKind::Records, Vec::new(), Vec::new()),
        FormShape::Grid { columns, rows } => {
            let cols = if columns.is_empty() {
                vec![ir::Column {
                    name: forms::VALUE.to_string(),
                    label: String::new(),
                    implicit: true,
                }]
            } else {
                columns
                    .iter()
                    .map(|c| ir::Column {
                        name: c.name.text.clone(),
                        label: c.label.value.clone(),
                        implicit: false,
                    })
                    .collect()
            };
            let rows = rows
                .iter()
                .map(|r| ir::Row {
                    name: r.row.name.text.clone(),
                    number: r.row.number.text.clone(),
                    label: r.row.label.value.clone(),
                    depth: r.depth,
                    parent: r
                        .parent
                        .and_then(|p| rows.get(p))
                        .map(|p| p.row.name.text.clone()),
                    relation: r.relation.map(|k| match k {
                        ast::ChildKind::Split => ir::Relation::Split,
                        ast::ChildKind::OfWhich => ir::Relation::OfWhich,
                    }),
                    block_label: r.block_label.map(|s| s.value.clone()),
                    block: r.block,
                })
                .collect();
            (ir::FormKind::Grid, cols, rows)
        }
    };
    let cells = cells
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let sig = c.sig.clone().unwrap_or(CellSig {
                ty: ir::Type::Decimal {
                    precision: 38,
                    scale: 6,
                },
                unit: Unit::dimensionless(),
            });
            let entry = match formulas.get(&(fi, ci)) {
                Some(f) => ir::Entry::Computed { formula: f.clone() },
                None if c.formula.is_some() => ir::Entry::Computed {
                    formula: expr::number("0"),
                },
                None if c.yearly => ir::Entry::EnteredYearly,
                None => ir::Entry::Entered,
            };
            let aggregation = match entry {
                ir::Entry::Computed { .. } => None,
                _ if kind == ir::FormKind::Records => None,
                _ => c
                    .aggregation
                    .or(Some(forms::default_aggregation(&sig, c.yearly))),
            };
            // `required` on a row or column concerns what is entered.
            let required = c.required && !matches!(entry, ir::Entry::Computed { .. });
            // So is a range: a computed percent on a row of counts has none.
            let range = if matches!(entry, ir::Entry::Computed { .. }) {
                None
            } else {
                c.range.clone()
            };
            ir::Cell {
                id: c.id.clone(),
                label: c.label.clone(),
                row: c.row_name.clone(),
                column: c.column_name.clone(),
                ty: sig.ty,
                unit: sig.unit,
                entry,
                required,
                range,
                aggregation,
                note: c.note.clone(),
            }
        })
        .collect();
    ir::Form {
        code: form.code().to_string(),
        title: form.form.title.value.clone(),
        kind,
        columns,
        rows,
        cells,
    }
}

fn used_codelists(env: &Env<'_>, regimes: &[ir::Regime]) -> Vec<ir::Codelist> {
    let mut out: BTreeMap<String, ir::Codelist> = BTreeMap::new();
    for r in regimes {
        let Some(table) = env.regimes.get(r.code.as_str()) else {
            continue;
        };
        let Some(scope) = env.scopes.get(table.file) else {
            continue;
        };
        for f in &r.forms {
            for c in &f.cells {
                let ir::Type::Code { codelist } = &c.ty else {
                    continue;
                };
                if out.contains_key(codelist) {
                    continue;
                }
                // Rows from groups use their own module's codelists.
                let found = scope.codelists.get(codelist.as_str()).copied().or_else(|| {
                    env.scopes
                        .iter()
                        .find_map(|s| s.codelists.get(codelist.as_str()).copied())
                });
                let Some(cl) = found else { continue };
                let decl = cl.decl();
                let list = match cl {
                    CodelistRef::Inline(_) => ir::Codelist {
                        code: codelist.clone(),
                        title: decl
                            .label
                            .as_ref()
                            .map(|l| l.value.clone())
                            .unwrap_or_default(),
                        values: match &decl.source {
                            ast::CodelistSource::Inline(values) => values
                                .iter()
                                .map(|(c, l)| crate::data::CodeValue {
                                    code: c.text.clone(),
                                    label: l.value.clone(),
                                    label_en: None,
                                })
                                .collect(),
                            ast::CodelistSource::File(_) => Vec::new(),
                        },
                    },
                    CodelistRef::File(_, file) => ir::Codelist {
                        code: codelist.clone(),
                        title: decl
                            .label
                            .as_ref()
                            .map(|l| l.value.clone())
                            .unwrap_or_else(|| file.title.clone()),
                        values: file.values.clone(),
                    },
                };
                out.insert(codelist.clone(), list);
            }
        }
    }
    out.into_values().collect()
}

/// Every declared unit of measure; the unit a `unit x = n y` is defined
/// by must exist where it is written.
fn declared_units(env: &Env<'_>, diags: &mut Diagnostics) -> Vec<ir::UnitOfMeasure> {
    let mut out: BTreeMap<String, ir::UnitOfMeasure> = BTreeMap::new();
    for (fi, f) in env.files.iter().enumerate() {
        for u in &f.units {
            let defined_as = u.alias.as_ref().and_then(|(n, e)| {
                forms::resolve_unit(e, env.scopes.get(fi), diags)
                    .map(|unit| (expr::normalize(&n.text), unit))
            });
            out.entry(u.name.text.clone())
                .or_insert_with(|| ir::UnitOfMeasure {
                    name: u.name.text.clone(),
                    label: u.label.as_ref().map(|l| l.value.clone()),
                    defined_as,
                });
        }
    }
    out.into_values().collect()
}

/// A frequency as Vietnamese staff name it ("hằng tháng", "6 tháng").
pub(crate) fn frequency_vi(f: ir::Frequency) -> &'static str {
    match f {
        ir::Frequency::Daily => "hằng ngày",
        ir::Frequency::Weekly => "hằng tuần",
        ir::Frequency::Monthly => "hằng tháng",
        ir::Frequency::Quarterly => "hằng quý",
        ir::Frequency::SixMonthly => "6 tháng",
        ir::Frequency::NineMonthly => "9 tháng",
        ir::Frequency::Annual => "hằng năm",
        ir::Frequency::AdHoc => "đột xuất",
    }
}
