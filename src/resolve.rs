//! Name resolution: which module, unit, codelist, row group, regime, form,
//! row, column and field each name stands for.
//!
//! [`resolve`] builds the symbol tables (an [`Env`]): module scopes (own
//! declarations plus those brought in with `use`), the regimes by code, and
//! for each regime its forms with their rows flattened (row groups included,
//! split and of-which children after their parent). It reports duplicate and
//! unknown declarations. References inside expressions are resolved on
//! demand by [`Env::resolve_ref`], which the checker calls while typing.

use crate::data::{CodelistFile, DataSet};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::lang::Text;
use crate::source::Span;
use crate::syntax::ast;
use crate::tr;
use std::collections::{BTreeMap, HashMap};

/// A codelist visible in a scope: declared inline or read from a YAML file.
#[derive(Debug, Clone, Copy)]
pub enum CodelistRef<'a> {
    Inline(&'a ast::CodelistDecl),
    File(&'a ast::CodelistDecl, &'a CodelistFile),
}

impl<'a> CodelistRef<'a> {
    pub fn decl(self) -> &'a ast::CodelistDecl {
        match self {
            CodelistRef::Inline(d) | CodelistRef::File(d, _) => d,
        }
    }
}

/// What one file can see.
#[derive(Debug, Default)]
pub struct Scope<'a> {
    pub units: BTreeMap<&'a str, &'a ast::UnitDecl>,
    pub codelists: BTreeMap<&'a str, CodelistRef<'a>>,
    pub groups: BTreeMap<&'a str, &'a ast::GroupDecl>,
    /// Units declared in modules of the library this file does not `use`,
    /// with the module (so that E0208 can name the `use` line to add).
    pub units_elsewhere: BTreeMap<&'a str, &'a str>,
}

/// A row of a grid form after groups are included and children flattened.
#[derive(Debug, Clone)]
pub struct FlatRow<'a> {
    pub row: &'a ast::Row,
    pub parent: Option<usize>,
    pub relation: Option<ast::ChildKind>,
    pub block_label: Option<&'a ast::Str>,
    pub depth: u32,
    /// Which of its parent's split/of-which blocks the row is in (a row
    /// may be broken down in several ways: by sex, by area…).
    pub block: u32,
    /// The file scope the row was written in (a group's rows use their own
    /// module's units and codelists).
    pub scope: usize,
}

#[derive(Debug)]
pub enum FormShape<'a> {
    Grid {
        /// Empty when the form declares no columns: it then has one implicit
        /// column named [`IMPLICIT_COLUMN`].
        columns: Vec<&'a ast::Column>,
        rows: Vec<FlatRow<'a>>,
    },
    Records {
        fields: Vec<&'a ast::Field>,
    },
}

/// The name of the single column of a grid form that declares none.
pub const IMPLICIT_COLUMN: &str = "value";

#[derive(Debug)]
pub struct FormTable<'a> {
    pub form: &'a ast::Form,
    pub shape: FormShape<'a>,
}

impl<'a> FormTable<'a> {
    pub fn code(&self) -> &'a str {
        &self.form.code.text
    }

    pub fn row_index(&self, name: &str) -> Option<usize> {
        match &self.shape {
            FormShape::Grid { rows, .. } => rows.iter().position(|r| r.row.name.text == name),
            FormShape::Records { .. } => None,
        }
    }

    /// Column names in order (the implicit one if none is declared).
    pub fn column_names(&self) -> Vec<&'a str> {
        match &self.shape {
            FormShape::Grid { columns, .. } if columns.is_empty() => vec![IMPLICIT_COLUMN],
            FormShape::Grid { columns, .. } => {
                columns.iter().map(|c| c.name.text.as_str()).collect()
            }
            FormShape::Records { .. } => Vec::new(),
        }
    }

    pub fn has_implicit_column(&self) -> bool {
        matches!(&self.shape, FormShape::Grid { columns, .. } if columns.is_empty())
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        match &self.shape {
            FormShape::Records { fields } => fields.iter().position(|f| f.name.text == name),
            FormShape::Grid { .. } => None,
        }
    }

    pub fn is_records(&self) -> bool {
        matches!(self.shape, FormShape::Records { .. })
    }

    /// Whether the cell exists (a row may exclude columns with `without`).
    pub fn cell_exists(&self, row: usize, column: &str) -> bool {
        let FormShape::Grid { rows, .. } = &self.shape else {
            return false;
        };
        let Some(r) = rows.get(row) else { return false };
        !r.row.attrs.iter().any(|a| match a {
            ast::Attr::Without(cols) => cols.iter().any(|c| c.text == column),
            _ => false,
        })
    }
}

#[derive(Debug)]
pub struct RegimeTable<'a> {
    pub file: usize,
    pub regime: &'a ast::Regime,
    pub forms: Vec<FormTable<'a>>,
}

impl<'a> RegimeTable<'a> {
    pub fn form_index(&self, code: &str) -> Option<usize> {
        self.forms.iter().position(|f| f.code() == code)
    }
}

pub struct Env<'a> {
    pub files: &'a [ast::File],
    pub data: &'a DataSet,
    pub scopes: Vec<Scope<'a>>,
    /// Regimes by code; the first declaration of a code wins.
    pub regimes: BTreeMap<&'a str, RegimeTable<'a>>,
}

/// Where a reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A grid cell: form index, row index, column name.
    Cell {
        regime: Option<String>,
        form: usize,
        row: usize,
        column: String,
    },
    /// A field of the record being checked (in a `for each` rule).
    Field { form: usize, field: usize },
    /// A field of a record form, as a whole column (inside `sum(B02.x)`).
    RecordColumn { form: usize, field: usize },
    /// A whole form (inside `count(B02)`).
    Form { form: usize },
}

/// Where a reference is written, which decides how short names resolve.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefCtx {
    /// The form of the formula being checked.
    pub form: Option<usize>,
    /// In a column formula: the row it is computed for.
    pub row: Option<usize>,
    /// In a row formula: the column it is computed for.
    pub column_formula: bool,
    pub row_formula: bool,
    pub column: Option<usize>,
    /// In a `for each` rule: the record form.
    pub record_form: Option<usize>,
    /// References to other regimes are allowed (in `reconcile`).
    pub allow_regime: bool,
}

pub fn resolve<'a>(files: &'a [ast::File], data: &'a DataSet, diags: &mut Diagnostics) -> Env<'a> {
    let modules: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.as_str(), i))
        .collect();

    // Own declarations of each file, with duplicates reported.
    let own: Vec<Scope<'a>> = files.iter().map(|f| own_scope(f, data, diags)).collect();

    // Each file's scope: its own declarations, then those of used modules.
    let mut scopes = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let mut scope = Scope::default();
        merge(&mut scope, own.get(i), None, diags);
        for u in &f.uses {
            match modules.get(u.path.text.as_str()) {
                Some(&m) if m == i => {}
                Some(&m) => merge(&mut scope, own.get(m), Some(u.path.span), diags),
                // Outside a library (no library.yaml above the file) no
                // module can be found: say so rather than "no such module".
                None if data.library_name.is_none() => diags.push(
                    Diagnostic::new(
                        Code::UnknownModule,
                        u.path.span,
                        tr!(
                            "`use {}` finds nothing: this file is not in a library",
                            "`use {}` không tìm thấy gì: tệp này không nằm trong một thư viện",
                            u.path.text
                        ),
                        tr!("no library to look in", "không có thư viện để tìm"),
                    )
                    .with_help(tr!(
                        "modules are found from the library root, the folder with `library.yaml`: put the file in a library (e.g. under `regimes/`) and check it there, `regc check regimes/`",
                        "mô-đun được tìm từ thư mục gốc của thư viện, thư mục có `library.yaml`: hãy đặt tệp vào một thư viện (ví dụ trong `regimes/`) rồi kiểm tra ở đó, `regc check regimes/`"
                    )),
                ),
                None => diags.push(
                    Diagnostic::new(
                        Code::UnknownModule,
                        u.path.span,
                        tr!(
                            "there is no module `{}` in this library",
                            "thư viện này không có mô-đun `{}`",
                            u.path.text
                        ),
                        tr!("unknown module", "mô-đun không biết"),
                    )
                    .with_help(tr!(
                        "a module is a .regime file named by its path from the library root (`common.units` is `common/units.regime`); {}",
                        "mô-đun là một tệp .regime được gọi theo đường dẫn từ thư mục gốc của thư viện (`common.units` là `common/units.regime`); {}",
                        did_you_mean(&u.path.text, tr!("module", "mô-đun"), modules.keys().copied())
                    )),
                ),
            }
        }
        for other in files.iter() {
            for u in &other.units {
                if !scope.units.contains_key(u.name.text.as_str()) {
                    scope
                        .units_elsewhere
                        .entry(&u.name.text)
                        .or_insert(&other.module);
                }
            }
        }
        scopes.push(scope);
    }

    let mut env = Env {
        files,
        data,
        scopes,
        regimes: BTreeMap::new(),
    };

    for (fi, f) in files.iter().enumerate() {
        for regime in &f.regimes {
            if let Some(prev) = env.regimes.get(regime.code.text.as_str()) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateRegime,
                        regime.code.span,
                        tr!(
                            "the regime `{}` is declared twice",
                            "chế độ báo cáo `{}` được khai báo hai lần",
                            regime.code.text
                        ),
                        tr!("declared again here", "khai báo lại ở đây"),
                    )
                    .with_label(prev.regime.code.span, tr!("first declared here", "khai báo lần đầu ở đây"))
                    .with_help(tr!(
                        "regime codes are unique in a library; rename one, or raise its `version` instead of copying it",
                        "mã chế độ báo cáo là duy nhất trong thư viện; hãy đổi tên một chế độ, hoặc tăng `version` thay vì sao chép"
                    )),
                );
                continue;
            }
            let table = env.regime_table(fi, regime, diags);
            env.regimes.insert(&regime.code.text, table);
        }
    }
    env
}

fn own_scope<'a>(f: &'a ast::File, data: &'a DataSet, diags: &mut Diagnostics) -> Scope<'a> {
    let mut scope = Scope::default();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut dup = |name: &'a ast::Name, what: &str, diags: &mut Diagnostics| -> bool {
        if let Some(first) = seen.get(name.text.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateDecl,
                    name.span,
                    tr!(
                        "`{}` is declared twice in this module",
                        "`{}` được khai báo hai lần trong mô-đun này",
                        name.text
                    ),
                    tr!("second {} `{}`", "{} thứ hai `{}`", noun(what), name.text),
                )
                .with_label(*first, tr!("first declared here", "khai báo lần đầu ở đây"))
                .with_help(tr!(
                    "units, codelists and groups of one module share one namespace; rename one of them",
                    "đơn vị đo, danh mục và nhóm dòng của một mô-đun dùng chung một không gian tên; hãy đổi tên một trong số đó"
                )),
            );
            true
        } else {
            seen.insert(&name.text, name.span);
            false
        }
    };
    for u in &f.units {
        if !dup(&u.name, "unit", diags) {
            scope.units.insert(&u.name.text, u);
        }
    }
    for c in &f.codelists {
        if dup(&c.name, "codelist", diags) {
            continue;
        }
        let r = match &c.source {
            ast::CodelistSource::Inline(values) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for (code, _) in values {
                    if let Some(first) = seen.insert(&code.text, code.span) {
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateDataCode,
                                code.span,
                                tr!(
                                    "the code `{}` is given twice in codelist `{}`",
                                    "mã `{}` được khai báo hai lần trong danh mục `{}`",
                                    code.text,
                                    c.name.text
                                ),
                                tr!("given again here", "khai báo lại ở đây"),
                            )
                            .with_label(first, tr!("first given here", "khai báo lần đầu ở đây"))
                            .with_help(tr!(
                                "each value of a codelist has its own code",
                                "mỗi giá trị của danh mục có mã riêng"
                            )),
                        );
                    }
                }
                CodelistRef::Inline(c)
            }
            ast::CodelistSource::File(path) => {
                match data.codelist_files.get(path.value.trim_start_matches("./")) {
                    Some((_, file)) => CodelistRef::File(c, file),
                    // A file that exists but could not be read was reported.
                    None if data.failed.contains(path.value.trim_start_matches("./")) => {
                        CodelistRef::Inline(c)
                    }
                    None => {
                        diags.push(
                            Diagnostic::new(
                                Code::MissingDataFile,
                                path.span,
                                tr!(
                                    "there is no codelist file `{}` in this library",
                                    "thư viện này không có tệp danh mục `{}`",
                                    path.value
                                ),
                                tr!("file not found", "không tìm thấy tệp"),
                            )
                            .with_help(tr!(
                                "paths are relative to the library root (the folder with library.yaml); {}",
                                "đường dẫn tính từ thư mục gốc của thư viện (thư mục có library.yaml); {}",
                                did_you_mean(
                                    &path.value,
                                    tr!("codelist file", "tệp danh mục"),
                                    data.codelist_files.keys().map(String::as_str)
                                )
                            )),
                        );
                        CodelistRef::Inline(c)
                    }
                }
            }
        };
        scope.codelists.insert(&c.name.text, r);
    }
    for g in &f.groups {
        if !dup(&g.name, "group", diags) {
            scope.groups.insert(&g.name.text, g);
        }
    }
    scope
}

/// Adds `from` to `into`. A name brought in by two `use`s is reported.
fn merge<'a>(
    into: &mut Scope<'a>,
    from: Option<&Scope<'a>>,
    at: Option<Span>,
    diags: &mut Diagnostics,
) {
    let Some(from) = from else { return };
    let clash = |name: &str, first: Span, diags: &mut Diagnostics| {
        if let Some(at) = at {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateDecl,
                    at,
                    tr!(
                        "this `use` brings in `{name}`, which is already declared in this scope",
                        "`use` này nạp `{name}`, vốn đã được khai báo trong phạm vi này"
                    ),
                    tr!("second `{name}`", "`{name}` thứ hai"),
                )
                .with_label(first, tr!("the one already visible", "khai báo đã có sẵn"))
                .with_help(tr!(
                    "rename one of the declarations; the one declared in this file is used",
                    "hãy đổi tên một trong các khai báo; khai báo trong tệp này được dùng"
                )),
            );
        }
    };
    for (k, v) in &from.units {
        match into.units.get(k) {
            Some(existing) if !std::ptr::eq(*existing, *v) => clash(k, existing.name.span, diags),
            Some(_) => {}
            None => {
                into.units.insert(k, v);
            }
        }
    }
    for (k, v) in &from.codelists {
        match into.codelists.get(k) {
            Some(existing) if !std::ptr::eq(existing.decl(), v.decl()) => {
                clash(k, existing.decl().name.span, diags)
            }
            Some(_) => {}
            None => {
                into.codelists.insert(k, *v);
            }
        }
    }
    for (k, v) in &from.groups {
        match into.groups.get(k) {
            Some(existing) if !std::ptr::eq(*existing, *v) => clash(k, existing.name.span, diags),
            Some(_) => {}
            None => {
                into.groups.insert(k, v);
            }
        }
    }
}

impl<'a> Env<'a> {
    fn regime_table(
        &self,
        file: usize,
        regime: &'a ast::Regime,
        diags: &mut Diagnostics,
    ) -> RegimeTable<'a> {
        let mut forms: Vec<FormTable<'a>> = Vec::new();
        for form in &regime.forms {
            if let Some(prev) = forms.iter().find(|f| f.code() == form.code.text) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateForm,
                        form.code.span,
                        tr!(
                            "the form `{}` is declared twice in this regime",
                            "biểu mẫu `{}` được khai báo hai lần trong chế độ báo cáo này",
                            form.code.text
                        ),
                        tr!("declared again here", "khai báo lại ở đây"),
                    )
                    .with_label(
                        prev.form.code.span,
                        tr!("first declared here", "khai báo lần đầu ở đây"),
                    )
                    .with_help(tr!(
                        "form codes are unique within a regime (B01, B02, …)",
                        "mã biểu mẫu là duy nhất trong một chế độ báo cáo (B01, B02, …)"
                    )),
                );
                continue;
            }
            let shape = match &form.body {
                ast::FormBody::Records { fields } => {
                    check_unique(fields.iter().map(|f| &f.name), "field", diags);
                    FormShape::Records {
                        fields: fields.iter().collect(),
                    }
                }
                ast::FormBody::Grid { columns, rows, .. } => {
                    check_unique(columns.iter().map(|c| &c.name), "column", diags);
                    let mut flat = Vec::new();
                    self.flatten(
                        rows,
                        None,
                        None,
                        (None, 0),
                        0,
                        file,
                        &mut Vec::new(),
                        &mut flat,
                        diags,
                    );
                    check_unique(flat.iter().map(|r| &r.row.name), "row", diags);
                    check_row_numbers(&flat, diags);
                    FormShape::Grid {
                        columns: columns.iter().collect(),
                        rows: flat,
                    }
                }
            };
            forms.push(FormTable { form, shape });
        }
        RegimeTable {
            file,
            regime,
            forms,
        }
    }

    /// Flattens rows: included groups are expanded in place (each group at
    /// most once on the current path, so a group that includes itself is
    /// reported instead of looping), children follow their parent.
    #[allow(clippy::too_many_arguments)]
    fn flatten(
        &self,
        items: &'a [ast::RowItem],
        parent: Option<usize>,
        relation: Option<ast::ChildKind>,
        (block_label, block): (Option<&'a ast::Str>, u32),
        depth: u32,
        scope: usize,
        path: &mut Vec<&'a str>,
        out: &mut Vec<FlatRow<'a>>,
        diags: &mut Diagnostics,
    ) {
        for item in items {
            match item {
                ast::RowItem::Row(row) => {
                    let idx = out.len();
                    out.push(FlatRow {
                        row,
                        parent,
                        relation,
                        block_label,
                        depth,
                        block,
                        scope,
                    });
                    for (bi, block) in row.children.iter().enumerate() {
                        self.flatten(
                            &block.rows,
                            Some(idx),
                            Some(block.kind),
                            (block.label.as_ref(), u32::try_from(bi).unwrap_or(u32::MAX)),
                            depth + 1,
                            scope,
                            path,
                            out,
                            diags,
                        );
                    }
                }
                ast::RowItem::Include(name) => {
                    let Some(group) = self
                        .scopes
                        .get(scope)
                        .and_then(|s| s.groups.get(name.text.as_str()))
                    else {
                        let names = self
                            .scopes
                            .get(scope)
                            .map(|s| s.groups.keys().copied().collect::<Vec<_>>())
                            .unwrap_or_default();
                        diags.push(
                            Diagnostic::new(
                                Code::UnknownGroup,
                                name.span,
                                tr!(
                                    "there is no row group `{}` here",
                                    "ở đây không có nhóm dòng `{}`",
                                    name.text
                                ),
                                tr!("unknown group", "nhóm dòng không biết"),
                            )
                            .with_help(tr!(
                                "groups come from this file or from a module brought in with `use`; {}",
                                "nhóm dòng lấy từ chính tệp này hoặc từ một mô-đun được nạp bằng `use`; {}",
                                did_you_mean(&name.text, tr!("group", "nhóm dòng"), names.iter().copied())
                            )),
                        );
                        continue;
                    };
                    if path.contains(&group.name.text.as_str()) {
                        diags.push(
                            Diagnostic::new(
                                Code::UnknownGroup,
                                name.span,
                                tr!(
                                    "the row group `{}` includes itself",
                                    "nhóm dòng `{}` tự bao gồm chính nó",
                                    name.text
                                ),
                                tr!("included again here", "bao gồm lại ở đây"),
                            )
                            .with_label(group.name.span, tr!("group declared here", "nhóm dòng được khai báo ở đây"))
                            .with_help(tr!(
                                "a group cannot include itself, directly or through another group",
                                "một nhóm dòng không thể bao gồm chính nó, trực tiếp hay qua một nhóm khác"
                            )),
                        );
                        continue;
                    }
                    let group_scope = self.scope_of_group(group).unwrap_or(scope);
                    path.push(&group.name.text);
                    self.flatten(
                        &group.rows,
                        parent,
                        relation,
                        (block_label, block),
                        depth,
                        group_scope,
                        path,
                        out,
                        diags,
                    );
                    path.pop();
                }
            }
        }
    }

    fn scope_of_group(&self, group: &ast::GroupDecl) -> Option<usize> {
        self.files
            .iter()
            .position(|f| f.groups.iter().any(|g| std::ptr::eq(g, group)))
    }

    /// Resolves a cell reference in the regime `regime`. `ctx` says where
    /// the reference is written.
    pub fn resolve_ref(
        &self,
        regime: &str,
        r: &ast::Reference,
        ctx: RefCtx,
    ) -> Result<Target, Diagnostic> {
        let segs: Vec<&str> = r.segments.iter().map(|s| s.text.as_str()).collect();
        // Four or more segments can only start with a regime code.
        if segs.len() >= 4 {
            let code = format!(
                "{}.{}",
                segs.first().copied().unwrap_or(""),
                segs.get(1).copied().unwrap_or("")
            );
            if !self.regimes.contains_key(code.as_str()) {
                let span = match (r.segments.first(), r.segments.get(1)) {
                    (Some(a), Some(b)) => a.span.to(b.span),
                    _ => r.span,
                };
                return Err(Diagnostic::new(
                    Code::UnknownRegime,
                    span,
                    tr!(
                        "there is no regime `{code}` in this library",
                        "thư viện này không có chế độ báo cáo `{code}`"
                    ),
                    tr!("unknown regime", "chế độ báo cáo không biết"),
                )
                .with_help(tr!(
                    "a cell of another regime is written `agency.name.FORM.row.column`; {}",
                    "ô của chế độ báo cáo khác được viết `cơ_quan.tên.BIỂU.dòng.cột`; {}",
                    did_you_mean(
                        &code,
                        tr!("regime", "chế độ báo cáo"),
                        self.regimes.keys().copied()
                    )
                )));
            }
        }
        // Another regime: the first two segments are a regime code.
        if segs.len() >= 3 {
            let code = format!(
                "{}.{}",
                segs.first().copied().unwrap_or(""),
                segs.get(1).copied().unwrap_or("")
            );
            if code != regime {
                if let Some(other) = self.regimes.get(code.as_str()) {
                    if !ctx.allow_regime {
                        return Err(Diagnostic::new(
                            Code::CrossRegimeInRule,
                            r.span,
                            tr!(
                                "`{}` is a cell of another regime (`{code}`)",
                                "`{}` là một ô của chế độ báo cáo khác (`{code}`)",
                                segs.join(".")
                            ),
                            tr!("another regime's cell", "ô của chế độ báo cáo khác"),
                        )
                        .with_help(tr!(
                            "values of other regimes can only be compared in a `reconcile` rule, which says at which level and with which tolerance",
                            "giá trị của chế độ báo cáo khác chỉ so sánh được trong quy tắc `reconcile`, nơi nêu rõ cấp và dung sai"
                        )));
                    }
                    let rest = r.segments.get(2..).unwrap_or(&[]);
                    return self
                        .resolve_in(other, rest, r, RefCtx::default())
                        .map(|t| match t {
                            Target::Cell {
                                form, row, column, ..
                            } => Target::Cell {
                                regime: Some(code.clone()),
                                form,
                                row,
                                column,
                            },
                            t => t,
                        });
                }
            } else {
                // The regime's own code as a prefix.
                let Some(own) = self.regimes.get(regime) else {
                    return Err(unknown(r, "regime", Vec::new()));
                };
                return self.resolve_in(own, r.segments.get(2..).unwrap_or(&[]), r, ctx);
            }
        }
        let Some(table) = self.regimes.get(regime) else {
            return Err(unknown(r, "regime", Vec::new()));
        };
        self.resolve_in(table, &r.segments, r, ctx)
    }

    fn resolve_in(
        &self,
        table: &RegimeTable<'a>,
        segs: &[ast::Name],
        r: &ast::Reference,
        ctx: RefCtx,
    ) -> Result<Target, Diagnostic> {
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        let cell = |form: usize, row: usize, column: &str| Target::Cell {
            regime: None,
            form,
            row,
            column: column.to_string(),
        };
        let exists = |form: usize, row: usize, column: &str| -> Result<(), Diagnostic> {
            match table.forms.get(form) {
                Some(f) if f.cell_exists(row, column) => Ok(()),
                _ => Err(Diagnostic::new(
                    Code::UnknownName,
                    r.span,
                    tr!(
                        "the cell `{}` does not exist: its row leaves out the column `{column}`",
                        "ô `{}` không tồn tại: dòng của nó bỏ cột `{column}`",
                        texts.join(".")
                    ),
                    tr!("no such cell", "không có ô này"),
                )
                .with_help(tr!(
                    "the row has `without` for this column (a shaded cell on the paper form); refer to another column",
                    "dòng này có `without` cho cột này (ô gạch chéo trên biểu giấy); hãy tham chiếu cột khác"
                ))),
            }
        };
        match texts.as_slice() {
            [x] => {
                // A field of the current record.
                if let Some(rf) = ctx.record_form
                    && let Some(field) = table.forms.get(rf).and_then(|f| f.field_index(x))
                {
                    return Ok(Target::Field { form: rf, field });
                }
                if let Some(fi) = ctx.form
                    && let Some(form) = table.forms.get(fi)
                {
                    // A sibling column (column formula) or row (row formula).
                    if ctx.column_formula
                        && let Some(row) = ctx.row
                        && form.column_names().contains(x)
                    {
                        exists(fi, row, x)?;
                        return Ok(cell(fi, row, x));
                    }
                    if ctx.row_formula
                        && let Some(ci) = ctx.column
                        && let Some(row) = form.row_index(x)
                    {
                        let col = form
                            .column_names()
                            .get(ci)
                            .copied()
                            .unwrap_or(IMPLICIT_COLUMN);
                        exists(fi, row, col)?;
                        return Ok(cell(fi, row, col));
                    }
                }
                // A row of a single-column grid form.
                let mut found = Vec::new();
                for (fi, form) in table.forms.iter().enumerate() {
                    if form.has_implicit_column()
                        && let Some(row) = form.row_index(x)
                    {
                        found.push(cell(fi, row, IMPLICIT_COLUMN));
                    }
                }
                if found.is_empty()
                    && let Some(fi) = table.form_index(x)
                {
                    return Ok(Target::Form { form: fi });
                }
                self.pick(found, table, r)
            }
            [a, b] => {
                let mut found = Vec::new();
                // row.column, preferring the current form.
                let order: Vec<usize> = match ctx.form {
                    Some(cur) => std::iter::once(cur)
                        .chain((0..table.forms.len()).filter(|i| *i != cur))
                        .collect(),
                    None => (0..table.forms.len()).collect(),
                };
                for fi in order {
                    let Some(form) = table.forms.get(fi) else {
                        continue;
                    };
                    if let Some(row) = form.row_index(a)
                        && form.column_names().contains(b)
                    {
                        exists(fi, row, b)?;
                        found.push(cell(fi, row, b));
                        if Some(fi) == ctx.form {
                            break;
                        }
                    }
                }
                if found.is_empty()
                    && let Some(fi) = table.form_index(a)
                    && let Some(form) = table.forms.get(fi)
                {
                    if let Some(field) = form.field_index(b) {
                        return Ok(Target::RecordColumn { form: fi, field });
                    }
                    if form.has_implicit_column()
                        && let Some(row) = form.row_index(b)
                    {
                        return Ok(cell(fi, row, IMPLICIT_COLUMN));
                    }
                }

                self.pick(found, table, r)
            }
            [f, a, b] => {
                let Some(fi) = table.form_index(f) else {
                    let mut d = unknown_in(
                        r,
                        segs.first(),
                        "form",
                        table.forms.iter().map(|f| f.code().to_string()).collect(),
                    );
                    d.code = Code::UnknownForm;
                    return Err(d);
                };
                let Some(form) = table.forms.get(fi) else {
                    return Err(unknown(r, "form", Vec::new()));
                };
                let Some(row) = form.row_index(a) else {
                    return Err(unknown_in(r, segs.get(1), "row", row_names(form)));
                };
                if !form.column_names().contains(b) {
                    return Err(unknown_in(
                        r,
                        segs.get(2),
                        "column",
                        form.column_names().iter().map(|s| s.to_string()).collect(),
                    ));
                }
                exists(fi, row, b)?;
                Ok(cell(fi, row, b))
            }
            _ => Err(unknown(r, "cell", Vec::new())),
        }
    }

    fn pick(
        &self,
        found: Vec<Target>,
        table: &RegimeTable<'a>,
        r: &ast::Reference,
    ) -> Result<Target, Diagnostic> {
        let mut it = found.into_iter();
        match (it.next(), it.next()) {
            (Some(t), None) => Ok(t),
            (Some(first), Some(second)) => {
                let name = |t: &Target| match t {
                    Target::Cell { form, .. } => table
                        .forms
                        .get(*form)
                        .map(|f| f.code().to_string())
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                let text = r.text();
                Err(Diagnostic::new(
                    Code::AmbiguousName,
                    r.span,
                    tr!(
                        "`{text}` is a cell of more than one form ({} and {})",
                        "`{text}` là ô của nhiều biểu mẫu ({} và {})",
                        name(&first),
                        name(&second)
                    ),
                    tr!("ambiguous", "không rõ ràng"),
                )
                .with_help(tr!(
                    "name the form first: `{}.{text}`",
                    "hãy ghi tên biểu mẫu trước: `{}.{text}`",
                    name(&first)
                )))
            }
            (None, _) => {
                // A field of a record form, used outside `for each`.
                if let [name] = r.segments.as_slice() {
                    for form in &table.forms {
                        if form.field_index(&name.text).is_some() {
                            return Err(Diagnostic::new(
                                Code::FieldOutsideRecord,
                                r.span,
                                tr!(
                                    "`{}` is a field of the record form {}, which has one value per record",
                                    "`{}` là một trường của biểu danh sách {}, mỗi bản ghi có một giá trị",
                                    name.text,
                                    form.code()
                                ),
                                tr!("a field of each record", "trường của từng bản ghi"),
                            )
                            .with_help(tr!(
                                "for a rule about each record add `for each {0}` after the message; for all records together use `sum({0}.{1})` or `count({0})`",
                                "với quy tắc cho từng bản ghi hãy thêm `for each {0}` sau thông báo; cho tất cả bản ghi cùng lúc dùng `sum({0}.{1})` hoặc `count({0})`",
                                form.code(),
                                name.text
                            )));
                        }
                    }
                }
                // Candidates: every row.column and row of the regime.
                let mut cands = Vec::new();
                for form in &table.forms {
                    match &form.shape {
                        FormShape::Grid { rows, .. } => {
                            for row in rows {
                                if form.has_implicit_column() {
                                    cands.push(row.row.name.text.clone());
                                } else {
                                    for c in form.column_names() {
                                        cands.push(format!("{}.{c}", row.row.name.text));
                                    }
                                }
                            }
                        }
                        FormShape::Records { fields } => {
                            for f in fields {
                                cands.push(format!("{}.{}", form.code(), f.name.text));
                            }
                        }
                    }
                }
                Err(unknown(r, "cell", cands))
            }
        }
    }
}

fn row_names(form: &FormTable<'_>) -> Vec<String> {
    match &form.shape {
        FormShape::Grid { rows, .. } => rows.iter().map(|r| r.row.name.text.clone()).collect(),
        FormShape::Records { fields } => fields.iter().map(|f| f.name.text.clone()).collect(),
    }
}

fn unknown(r: &ast::Reference, what: &str, cands: Vec<String>) -> Diagnostic {
    let text = r.text();
    Diagnostic::new(
        Code::UnknownName,
        r.span,
        tr!(
            "there is no {} `{text}` in this regime",
            "chế độ báo cáo này không có {} `{text}`",
            noun(what)
        ),
        tr!("unknown {}", "{} không biết", noun(what)),
    )
    .with_help(did_you_mean(
        &text,
        noun(what),
        cands.iter().map(String::as_str),
    ))
}

/// The name of a kind of thing in both languages (`row` → `dòng`).
fn noun(what: &str) -> Text {
    let vi = match what {
        "regime" => "chế độ báo cáo",
        "form" => "biểu mẫu",
        "row" => "dòng",
        "column" => "cột",
        "cell" => "ô",
        "field" => "trường",
        "unit" => "đơn vị đo",
        "codelist" => "danh mục",
        "group" => "nhóm dòng",
        other => other,
    };
    Text::new(what, vi)
}

fn unknown_in(
    r: &ast::Reference,
    seg: Option<&ast::Name>,
    what: &str,
    cands: Vec<String>,
) -> Diagnostic {
    let Some(seg) = seg else {
        return unknown(r, what, cands);
    };
    Diagnostic::new(
        Code::UnknownName,
        seg.span,
        tr!(
            "there is no {} `{}` here",
            "ở đây không có {} `{}`",
            noun(what),
            seg.text
        ),
        tr!("unknown {}", "{} không biết", noun(what)),
    )
    .with_help(did_you_mean(
        &seg.text,
        noun(what),
        cands.iter().map(String::as_str),
    ))
}

/// Each name that repeats an earlier one, with the span of the first.
pub(crate) fn repeated<'n>(
    names: impl IntoIterator<Item = &'n ast::Name>,
) -> Vec<(&'n ast::Name, Span)> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut out = Vec::new();
    for n in names {
        match seen.get(n.text.as_str()) {
            Some(first) => out.push((n, *first)),
            None => {
                seen.insert(&n.text, n.span);
            }
        }
    }
    out
}

fn check_unique<'n>(
    names: impl Iterator<Item = &'n ast::Name>,
    what: &str,
    diags: &mut Diagnostics,
) {
    for (n, first) in repeated(names) {
        diags.push(
            Diagnostic::new(
                Code::DuplicateName,
                n.span,
                tr!(
                    "the {} `{}` is declared twice in this form",
                    "{} `{}` được khai báo hai lần trong biểu mẫu này",
                    noun(what),
                    n.text
                ),
                tr!("declared again here", "khai báo lại ở đây"),
            )
            .with_label(first, tr!("first declared here", "khai báo lần đầu ở đây"))
            .with_help(tr!(
                "each {} of a form needs its own name; cells are named `row.column`",
                "mỗi {} của biểu mẫu cần một tên riêng; ô được gọi là `dòng.cột`",
                noun(what)
            )),
        );
    }
}

fn check_row_numbers(rows: &[FlatRow<'_>], diags: &mut Diagnostics) {
    for (n, first) in repeated(rows.iter().map(|r| &r.row.number)) {
        diags.push(
            Diagnostic::new(
                Code::DuplicateRowNumber,
                n.span,
                tr!(
                    "row number {} is used twice in this form",
                    "số thứ tự dòng {} được dùng hai lần trong biểu mẫu này",
                    n.text
                ),
                tr!("used again here", "dùng lại ở đây"),
            )
            .with_label(first, tr!("first used here", "dùng lần đầu ở đây"))
            .with_help(tr!(
                "row numbers are printed on the paper form and must be unique (1, 1.1, 1.2, 2, …)",
                "số thứ tự dòng được in trên biểu giấy và phải là duy nhất (1, 1.1, 1.2, 2, …)"
            )),
        );
    }
}
