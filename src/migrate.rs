//! `regc migrate OLD NEW`: the SQL that moves a live database from one
//! version of a regime to the next, for both engines. Pure: two compiled
//! versions in, two scripts (or diagnostics) out.
//!
//! The two versions' layouts ([`crate::layout`]) are compared table by
//! table and cell by cell:
//!
//! | change | PostgreSQL | SQLite |
//! |---|---|---|
//! | new form | `CREATE TABLE`, view | the same |
//! | new cell | `ALTER TABLE … ADD COLUMN` | the same |
//! | widened type or range | `ALTER COLUMN … TYPE`, CHECK replaced | the table is rebuilt (new table, copy, drop, rename), values rescaled |
//! | dropped form or cell, narrowed type or range | E0601/E0602 unless `--allow-destructive`; then `DROP`/`ALTER` | rebuilt |
//! | grid ↔ records, cells moving between part tables | E0603 unless `--allow-destructive`; then dropped and created | the same |
//!
//! Every script runs in one transaction, drops and recreates the views of
//! the tables it changes, and sets `regc_regime.version`; the database
//! checks every stored value against the new constraints, and no value is
//! cut or rounded to fit, so a migration either applies whole or not at
//! all. The scripts stop at their first error by themselves, even in a
//! shell that goes on after errors (docs/database.md): PostgreSQL refuses
//! everything after an error in a transaction; on SQLite a failing copy
//! rolls the transaction back (`INSERT OR ROLLBACK`) and every later
//! statement reads a table only the transaction had made.

use crate::diagnostic::{Code, Diagnostic, Diagnostics, Severity, Text};
use crate::emit::schema;
use crate::ir::{self, FormKind};
use crate::layout::{self, Column, RegimeLayout, Storage, Table};
use crate::source::{SourceMap, Span};
use crate::sql::{Dialect, Script, SqlError, ident, literal};
use crate::tr;
use std::collections::BTreeSet;

/// One version of a regime, with the sources it was compiled from (for
/// diagnostics).
#[derive(Clone, Copy)]
pub struct Version<'a> {
    pub regime: &'a ir::Regime,
    pub sources: &'a SourceMap,
}

#[derive(Debug, Clone)]
pub struct Migration {
    pub regime: String,
    pub from: u32,
    pub to: u32,
    /// What changes, one line each, in order.
    pub changes: Vec<String>,
    pub postgres: String,
    pub sqlite: String,
    /// Destructive changes that were allowed, as warnings.
    pub warnings: Findings,
}

/// Diagnostics about the two versions, each in its own sources: `old`
/// point into the old version's files, `new` into the new one's.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    pub old: Diagnostics,
    pub new: Diagnostics,
}

impl Findings {
    pub fn has_errors(&self) -> bool {
        self.old.has_errors() || self.new.has_errors()
    }

    pub fn is_empty(&self) -> bool {
        self.old.iter().next().is_none() && self.new.iter().next().is_none()
    }

    pub fn codes(&self) -> Vec<Code> {
        let mut c: Vec<Code> = self
            .old
            .iter()
            .chain(self.new.iter())
            .map(|d| d.code)
            .collect();
        c.sort();
        c
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Old,
    New,
}

impl Migration {
    pub fn script(&self, d: Dialect) -> &str {
        match d {
            Dialect::Postgres => &self.postgres,
            Dialect::Sqlite => &self.sqlite,
        }
    }
}

/// What happens to one table.
#[derive(Debug, Clone)]
enum Action<'a> {
    Create(&'a Table),
    Drop(&'a Table),
    Alter {
        old: &'a Table,
        new: &'a Table,
        add: Vec<&'a Column>,
        change: Vec<(&'a Column, &'a Column)>,
        drop: Vec<&'a Column>,
    },
}

/// How a column's domain changed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fit {
    Same,
    Widened,
    /// Why not every old value fits.
    Narrowed(Text),
}

pub fn migrate(
    old: Version,
    new: Version,
    allow_destructive: bool,
) -> Result<Migration, Box<Findings>> {
    let (lo, ln) = (layout::regime(old.regime), layout::regime(new.regime));
    let mut problems = Findings::default();
    let mut changes = Vec::new();
    let mut actions: Vec<Action> = Vec::new();
    let refuse = |side: Side, d: Diagnostic, problems: &mut Findings| {
        let d = if allow_destructive {
            Diagnostic {
                severity: Severity::Warning,
                ..d
            }
        } else {
            d
        };
        match side {
            Side::Old => problems.old.push(d),
            Side::New => problems.new.push(d),
        }
    };
    let mut forms: Vec<&str> = new.regime.forms.iter().map(|f| f.code.as_str()).collect();
    for f in &old.regime.forms {
        if !forms.contains(&f.code.as_str()) {
            forms.push(&f.code);
        }
    }
    for form in forms {
        let of = old.regime.forms.iter().find(|f| f.code == form);
        let nf = new.regime.forms.iter().find(|f| f.code == form);
        let old_tables: Vec<&Table> = lo.form_tables(form).collect();
        let new_tables: Vec<&Table> = ln.form_tables(form).collect();
        match (of, nf) {
            (None, Some(_)) => {
                changes.push(format!("new form {form}"));
                actions.extend(new_tables.into_iter().map(Action::Create));
            }
            (Some(_), None) => {
                let cells: usize = old_tables.iter().map(|t| t.columns.len()).sum();
                refuse(
                    Side::Old,
                    Diagnostic::new(
                        Code::DropsData,
                        locate(old, form, None),
                        tr!(
                            "form {form} is not in the new version: its table and the {cells} cell(s) reported in it would be dropped",
                            "biểu mẫu {form} không còn trong phiên bản mới: bảng của nó và {cells} ô đã báo cáo trong đó sẽ bị xóa"
                        ),
                        tr!("this form is gone in the new version", "biểu mẫu này không còn trong phiên bản mới"),
                    )
                    .with_help(tr!(
                        "keep the form, or export its data and migrate with --allow-destructive",
                        "giữ lại biểu mẫu, hoặc xuất dữ liệu của nó ra rồi chuyển đổi với --allow-destructive"
                    )),
                    &mut problems,
                );
                changes.push(format!("drop form {form}"));
                actions.extend(old_tables.into_iter().map(Action::Drop));
            }
            (Some(of), Some(nf)) => {
                let moved = columns_moved(&lo, &ln, form);
                if of.kind != nf.kind || moved.is_some() {
                    let why = if of.kind != nf.kind {
                        tr!(
                            "form {form} changes from {} to {}: its rows would mean something else",
                            "biểu mẫu {form} đổi từ {} sang {}: các dòng của nó sẽ mang nghĩa khác",
                            kind_name(of.kind),
                            kind_name(nf.kind)
                        )
                    } else {
                        tr!(
                            "cell `{}` of form {form} moves to another part table (the form passed {} entered cells)",
                            "ô `{}` của biểu mẫu {form} chuyển sang một bảng phần khác (biểu mẫu đã vượt quá {} ô nhập liệu)",
                            moved.clone().unwrap_or_default(),
                            layout::PART_COLUMNS
                        )
                    };
                    refuse(
                        Side::New,
                        Diagnostic::new(Code::CannotMigrate, locate(new, form, None), why, tr!("changed here", "thay đổi ở đây"))
                            .with_help(tr!(
                                "give the new form another code and move the data with your own SQL, or migrate with --allow-destructive to drop and recreate it",
                                "đặt mã khác cho biểu mẫu mới và tự chuyển dữ liệu bằng SQL, hoặc chuyển đổi với --allow-destructive để xóa và tạo lại biểu mẫu"
                            )),
                        &mut problems,
                    );
                    changes.push(format!("recreate form {form} (its data is dropped)"));
                    actions.extend(old_tables.into_iter().map(Action::Drop));
                    actions.extend(new_tables.into_iter().map(Action::Create));
                    continue;
                }
                for nt in &new_tables {
                    let Some(ot) = old_tables.iter().find(|t| t.name == nt.name) else {
                        changes.push(format!("new table {} of form {form}", nt.name));
                        actions.push(Action::Create(nt));
                        continue;
                    };
                    let mut add = Vec::new();
                    let mut change = Vec::new();
                    for nc in &nt.columns {
                        match ot.columns.iter().find(|c| c.cell == nc.cell) {
                            None => {
                                changes.push(format!("new cell {form}.{}", nc.cell));
                                add.push(nc);
                            }
                            Some(oc) => match fit(oc, nc) {
                                Fit::Same => {}
                                Fit::Widened => {
                                    changes.push(format!(
                                        "widen {form}.{}: {} to {}",
                                        nc.cell,
                                        describe(oc),
                                        describe(nc)
                                    ));
                                    change.push((oc, nc));
                                }
                                Fit::Narrowed(why) => {
                                    refuse(
                                        Side::New,
                                        Diagnostic::new(
                                            Code::NarrowsType,
                                            locate(new, form, Some(&nc.cell)),
                                            tr!(
                                                "cell {form}.{} narrows from {} to {}: {}",
                                                "ô {form}.{} bị thu hẹp từ {} xuống {}: {}",
                                                nc.cell, describe_t(oc), describe_t(nc), why
                                            ),
                                            tr!("narrower than before", "hẹp hơn trước"),
                                        )
                                        .with_help(tr!(
                                            "widen the type instead, or check the stored values and migrate with --allow-destructive",
                                            "hãy mở rộng kiểu thay vì thu hẹp, hoặc kiểm tra các giá trị đã lưu rồi chuyển đổi với --allow-destructive"
                                        )),
                                        &mut problems,
                                    );
                                    changes.push(format!(
                                        "narrow {form}.{}: {} to {}",
                                        nc.cell,
                                        describe(oc),
                                        describe(nc)
                                    ));
                                    change.push((oc, nc));
                                }
                            },
                        }
                    }
                    let mut drop = Vec::new();
                    for oc in &ot.columns {
                        if !nt.columns.iter().any(|c| c.cell == oc.cell) {
                            refuse(
                                Side::Old,
                                Diagnostic::new(
                                    Code::DropsData,
                                    locate(old, form, Some(&oc.cell)),
                                    tr!(
                                        "cell {form}.{} is not entered in the new version: its column and the values reported in it would be dropped",
                                        "ô {form}.{} không còn được nhập trong phiên bản mới: cột của nó và các giá trị đã báo cáo trong đó sẽ bị xóa",
                                        oc.cell
                                    ),
                                    tr!("this cell is gone in the new version", "ô này không còn trong phiên bản mới"),
                                )
                                .with_help(tr!(
                                    "keep the cell, or export its data and migrate with --allow-destructive",
                                    "giữ lại ô, hoặc xuất dữ liệu của nó ra rồi chuyển đổi với --allow-destructive"
                                )),
                                &mut problems,
                            );
                            changes.push(format!("drop cell {form}.{}", oc.cell));
                            drop.push(oc);
                        }
                    }
                    if !(add.is_empty() && change.is_empty() && drop.is_empty()) {
                        actions.push(Action::Alter {
                            old: ot,
                            new: nt,
                            add,
                            change,
                            drop,
                        });
                    }
                }
                for ot in &old_tables {
                    if !new_tables.iter().any(|t| t.name == ot.name) {
                        changes.push(format!("drop table {}", ot.name));
                        actions.push(Action::Drop(ot));
                    }
                }
            }
            (None, None) => {}
        }
    }
    if !changes.is_empty() && new.regime.version <= old.regime.version {
        problems.new.push(
            Diagnostic::new(
                Code::VersionNotRaised,
                locate(new, "", None),
                tr!(
                    "the tables of {} change, but its version goes from {} to {}",
                    "các bảng của {} thay đổi, nhưng phiên bản chỉ đi từ {} đến {}",
                    new.regime.code,
                    old.regime.version,
                    new.regime.version
                ),
                tr!("this regime's version", "phiên bản của chế độ báo cáo này"),
            )
            .with_help(tr!(
                "write `version {}`",
                "hãy ghi `version {}`",
                old.regime.version + 1
            )),
        );
    }
    if problems.has_errors() {
        return Err(Box::new(problems));
    }
    let build = |d| script(old.regime, new.regime, &actions, d);
    let sql_err = |e: SqlError| {
        let mut ds = Findings::default();
        ds.new.push(
            Diagnostic::new(
                Code::CannotMigrate,
                locate(new, "", None),
                tr!("{}", "lỗi khi tạo lệnh SQL chuyển đổi: {}", e.to_string()),
                tr!(
                    "while migrating this regime",
                    "khi chuyển đổi chế độ báo cáo này"
                ),
            )
            .with_help(tr!(
                "this is a bug in regc: please report it with both versions",
                "đây là lỗi của regc: xin báo lại kèm cả hai phiên bản"
            )),
        );
        Box::new(ds)
    };
    Ok(Migration {
        regime: new.regime.code.clone(),
        from: old.regime.version,
        to: new.regime.version,
        postgres: build(Dialect::Postgres).map_err(sql_err)?,
        sqlite: build(Dialect::Sqlite).map_err(sql_err)?,
        changes,
        warnings: problems,
    })
}

fn kind_name(k: FormKind) -> Text {
    match k {
        FormKind::Grid => tr!("a grid", "biểu dạng bảng"),
        FormKind::Records => tr!("a record form", "biểu danh sách"),
    }
}

/// The first cell of `form` stored in another part table than before.
fn columns_moved(lo: &RegimeLayout, ln: &RegimeLayout, form: &str) -> Option<String> {
    lo.form_tables(form).find_map(|ot| {
        ot.columns.iter().find_map(|oc| {
            let (nt, _) = ln.column(form, &oc.cell)?;
            (nt.name != ot.name).then(|| oc.cell.clone())
        })
    })
}

fn describe(c: &Column) -> String {
    let mut s = c.storage.type_name();
    if let Some(r) = &c.range {
        s.push_str(&format!(" range {}..{}", r.min, r.max));
    }
    s
}

/// [`describe`] for people, in both languages.
fn describe_t(c: &Column) -> Text {
    let t = c.storage.type_name();
    match &c.range {
        Some(r) => tr!("{} range {}..{}", "{} khoảng {}..{}", t, r.min, r.max),
        None => Text::new(t.clone(), t),
    }
}

/// Whether every value of `old` fits `new`.
fn fit(old: &Column, new: &Column) -> Fit {
    use crate::value::Decimal;
    let storage = match (&old.storage, &new.storage) {
        (a, b) if a == b => Fit::Same,
        (Storage::Integer, Storage::Decimal { precision, scale }) => {
            if precision - scale >= 19 {
                Fit::Widened
            } else {
                Fit::Narrowed(tr!(
                    "a whole number may have 19 digits, {} keeps {} before the point",
                    "một số nguyên có thể có 19 chữ số, {} chỉ giữ {} chữ số phần nguyên",
                    new.storage.type_name(),
                    precision - scale
                ))
            }
        }
        (
            Storage::Decimal {
                precision: p0,
                scale: s0,
            },
            Storage::Decimal {
                precision: p1,
                scale: s1,
            },
        ) => {
            if s1 < s0 {
                Fit::Narrowed(tr!(
                    "{s0} digits after the point become {s1}",
                    "{s0} chữ số phần thập phân giảm còn {s1}"
                ))
            } else if p1 - s1 < p0 - s0 {
                Fit::Narrowed(tr!(
                    "{} digits before the point become {}",
                    "{} chữ số phần nguyên giảm còn {}",
                    p0 - s0,
                    p1 - s1
                ))
            } else {
                Fit::Widened
            }
        }
        (Storage::Text { max_len: a }, Storage::Text { max_len: b }) => {
            if b >= a {
                Fit::Widened
            } else {
                Fit::Narrowed(tr!(
                    "texts of up to {a} characters become {b}",
                    "văn bản tối đa {a} ký tự giảm còn {b}"
                ))
            }
        }
        (a, b) => Fit::Narrowed(tr!(
            "{} values are not {} values",
            "giá trị {} không phải là giá trị {}",
            a.type_name(),
            b.type_name()
        )),
    };
    let range = match (&old.range, &new.range) {
        (a, b) if a == b => Fit::Same,
        (_, None) => Fit::Widened,
        (None, Some(r)) => Fit::Narrowed(tr!(
            "the new range {}..{} is new",
            "khoảng giá trị {}..{} là mới",
            r.min,
            r.max
        )),
        (Some(a), Some(b)) => {
            let d = |s: &str| Decimal::parse(s);
            match (d(&a.min), d(&a.max), d(&b.min), d(&b.max)) {
                (Some(a0), Some(a1), Some(b0), Some(b1)) if b0 <= a0 && a1 <= b1 => Fit::Widened,
                _ => Fit::Narrowed(tr!(
                    "the range {}..{} becomes {}..{}",
                    "khoảng giá trị {}..{} trở thành {}..{}",
                    a.min,
                    a.max,
                    b.min,
                    b.max
                )),
            }
        }
    };
    match (storage, range) {
        (Fit::Narrowed(w), _) | (_, Fit::Narrowed(w)) => Fit::Narrowed(w),
        (Fit::Same, Fit::Same) => Fit::Same,
        _ => Fit::Widened,
    }
}

/// Where to point a diagnostic: the cell's row or field in the form, else
/// the form, else the regime's code.
fn locate(v: Version, form: &str, cell: Option<&str>) -> Span {
    let Some(file) = v.sources.find_rel(&v.regime.source) else {
        return Span::default();
    };
    let Some(source) = v.sources.get(file) else {
        return Span::default();
    };
    let mut scratch = Diagnostics::new();
    let ast = crate::syntax::parse_file(file, source, &mut scratch);
    let Some(regime) = ast.regimes.iter().find(|r| r.code.text == v.regime.code) else {
        return Span::new(file, 0, 0);
    };
    let Some(f) = regime.forms.iter().find(|f| f.code.text == form) else {
        return regime.code.span;
    };
    let Some(word) = cell.and_then(|c| c.split('.').next()) else {
        return f.code.span;
    };
    let text = source.text.get(f.span.range()).unwrap_or_default();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = text.get(from..).and_then(|t| t.find(word)) {
        let start = from + i;
        let end = start + word.len();
        let before = text.get(..start).and_then(|t| t.chars().next_back());
        let after = text.get(end..).and_then(|t| t.chars().next());
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            let base = f.span.start as usize;
            return Span::new(file, base + start, base + end);
        }
        from = end;
    }
    f.code.span
}

/// The migration script of one engine.
fn script(
    old: &ir::Regime,
    new: &ir::Regime,
    actions: &[Action],
    d: Dialect,
) -> Result<String, SqlError> {
    let mut s = Script::new(d);
    s.comment(format!(
        "Migrates {} from version {} to version {} ({}). Generated by regc {}.",
        new.code,
        old.version,
        new.version,
        d.name(),
        env!("CARGO_PKG_VERSION")
    ));
    s.comment("Runs in one transaction: it applies whole or not at all.");
    let sqlite = d == Dialect::Sqlite;
    // SQLite tables whose columns change are rebuilt (it cannot alter them).
    let rebuilt = |a: &Action| {
        sqlite
            && matches!(a, Action::Alter { change, drop, .. } if !(change.is_empty() && drop.is_empty()))
    };
    if sqlite {
        // Rebuilding a table must not trip foreign keys half-way; SQLite
        // ignores this pragma inside a transaction, so it comes first.
        s.stmt("PRAGMA foreign_keys = 0")?;
        // A renamed table keeps its name in the views of other tables
        // (the roll-ups), which then read the rebuilt table.
        s.stmt("PRAGMA legacy_alter_table = 1")?;
        s.comment(
            "The sqlite3 shell goes on after an error. So every copy rolls the whole \
             transaction back when a value does not fit, and everything after it then fails: \
             it reads tables (\"….old\", \"regc_migration\") that only the transaction made.",
        );
    }
    s.stmt("BEGIN")?;
    s.stmt(&format!(
        "CREATE TABLE \"regc_migration\" (\"version\" INTEGER NOT NULL){}",
        if sqlite { " STRICT" } else { "" }
    ))?;
    s.stmt(&format!(
        "INSERT INTO \"regc_migration\" (\"version\") VALUES ({})",
        new.version
    ))?;
    for a in actions {
        match a {
            Action::Drop(t) | Action::Alter { old: t, .. } => {
                s.stmt(&format!("DROP VIEW IF EXISTS {}", ident(&t.view)))?;
            }
            Action::Create(_) => {}
        }
    }
    // Codelists a new column refers to.
    let mut lists = BTreeSet::new();
    for a in actions {
        let cols: Vec<&Column> = match a {
            Action::Create(t) => t.columns.iter().collect(),
            Action::Alter { add, change, .. } => add
                .iter()
                .copied()
                .chain(change.iter().map(|(_, n)| *n))
                .collect(),
            Action::Drop(_) => Vec::new(),
        };
        for c in cols {
            if let Storage::Code { codelist } = &c.storage {
                lists.insert(codelist.clone());
            }
        }
    }
    for l in &lists {
        s.stmt(&format!(
            "CREATE TABLE IF NOT EXISTS {} (\"code\" TEXT PRIMARY KEY, \"label\" TEXT NOT NULL, \"label_en\" TEXT){}",
            ident(&layout::codelist_table(l)),
            if sqlite { " STRICT" } else { "" }
        ))?;
    }
    // SQLite: every table to rebuild is moved aside first, so that after a
    // rolled-back copy no later statement finds a table to drop or fill.
    for a in actions {
        if let (true, Action::Alter { old: ot, .. }) = (rebuilt(a), a) {
            s.stmt(&format!(
                "ALTER TABLE {} RENAME TO {}",
                ident(&ot.name),
                ident(&old_name(ot))
            ))?;
        }
    }
    for a in actions {
        match a {
            Action::Drop(t) => {
                s.comment(format!("Drop {} and its data.", t.name));
                s.stmt(&format!("DROP TABLE {}", ident(&t.name)))?;
            }
            Action::Create(t) => schema::table_statements(&mut s, new, t, d)?,
            Action::Alter {
                new: nt,
                add,
                change,
                drop,
                ..
            } => {
                if !rebuilt(a) {
                    alter(&mut s, nt, add, change, drop, d)?;
                    schema::view_statement(&mut s, new, nt, d)?;
                }
            }
        }
    }
    // The copies, the only statements that can fail on the data, last.
    for a in actions {
        if let (
            true,
            Action::Alter {
                old: ot, new: nt, ..
            },
        ) = (rebuilt(a), a)
        {
            sqlite_rebuild(&mut s, ot, nt)?;
            schema::view_statement(&mut s, new, nt, d)?;
        }
    }
    s.stmt(&format!(
        "UPDATE \"regc_regime\" SET \"version\" = (SELECT \"version\" FROM \"regc_migration\") WHERE \"code\" = {}",
        literal(&new.code)
    ))?;
    s.stmt("DROP TABLE \"regc_migration\"")?;
    s.stmt("COMMIT")?;
    if sqlite {
        s.stmt("PRAGMA legacy_alter_table = 0")?;
        s.stmt("PRAGMA foreign_keys = 1")?;
    }
    Ok(s.finish())
}

/// Where SQLite keeps a table while it is rebuilt.
fn old_name(t: &Table) -> String {
    crate::sql::fit(&format!("{}.old", t.name))
}

/// `ALTER TABLE` statements (PostgreSQL; SQLite for added columns only).
fn alter(
    s: &mut Script,
    t: &Table,
    add: &[&Column],
    change: &[(&Column, &Column)],
    drop: &[&Column],
    d: Dialect,
) -> Result<(), SqlError> {
    let table = ident(&t.name);
    for c in add {
        s.stmt(&format!(
            "ALTER TABLE {table} ADD COLUMN {}",
            c.definition(d)
        ))?;
    }
    for (o, n) in change {
        let check = ident(&layout::check_name(&o.name));
        let fk = ident(&layout::code_name(&o.name));
        s.stmt(&format!(
            "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}"
        ))?;
        if matches!(o.storage, Storage::Code { .. }) {
            s.stmt(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {fk}"
            ))?;
        }
        let ty = n.storage.sql_type(d);
        s.stmt(&format!(
            "ALTER TABLE {table} ALTER COLUMN {} TYPE {ty} USING {}",
            ident(&n.name),
            postgres_convert(t, o, n)
        ))?;
        if let Some(cond) = n.check(d) {
            s.stmt(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} CHECK ({cond})",
                ident(&layout::check_name(&n.name))
            ))?;
        }
        if let Storage::Code { codelist } = &n.storage {
            s.stmt(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} (\"code\")",
                ident(&layout::code_name(&n.name)),
                ident(&n.name),
                ident(&layout::codelist_table(codelist))
            ))?;
        }
    }
    for c in drop {
        s.stmt(&format!(
            "ALTER TABLE {table} DROP COLUMN {}",
            ident(&c.name)
        ))?;
    }
    Ok(())
}

/// SQLite cannot change a column's type or constraints: the old table was
/// renamed aside ([`old_name`]); the new one is created, every converted
/// value checked to fit (a rolled-back transaction if one does not), the
/// rows copied and the old table dropped.
fn sqlite_rebuild(s: &mut Script, old: &Table, new: &Table) -> Result<(), SqlError> {
    let d = Dialect::Sqlite;
    let aside = ident(&old_name(old));
    s.comment(format!(
        "Rebuild {}: SQLite cannot alter a column's type or checks.",
        new.name
    ));
    s.stmt(&schema::create_table(new, d).replace(" IF NOT EXISTS", ""))?;
    let mut cols = vec!["\"submission_id\"".to_string()];
    if new.kind == FormKind::Records {
        cols.push("\"record\"".to_string());
    }
    let mut exprs = cols.clone();
    let mut checks = Vec::new();
    for nc in &new.columns {
        if let Some(oc) = old.columns.iter().find(|c| c.cell == nc.cell) {
            cols.push(ident(&nc.name));
            let value = sqlite_convert(oc, nc);
            if oc.storage != nc.storage {
                checks.push((nc, value.clone()));
            }
            exprs.push(value);
        }
    }
    if !checks.is_empty() {
        // The STRICT table would refuse a value of the wrong type without
        // rolling back (only CHECKs honour OR ROLLBACK): each converted
        // value is checked first, into a scratch table whose CHECKs say
        // what a value must be.
        let mut defs: Vec<String> = (1..=checks.len()).map(|i| format!("\"v{i}\"")).collect();
        for (i, (nc, _)) in checks.iter().enumerate() {
            let v = format!("\"v{}\"", i + 1);
            let kind = if matches!(nc.storage.sql_type(d).as_str(), "INTEGER") {
                format!(
                    "typeof({v}) = 'integer' OR (typeof({v}) = 'text' AND CAST(CAST({v} AS INTEGER) AS TEXT) = {v})"
                )
            } else {
                // (A number given to a TEXT column is kept as its text.)
                format!("typeof({v}) IN ('text', 'integer')")
            };
            defs.push(format!(
                "CONSTRAINT {} CHECK ({v} IS NULL OR {kind})",
                ident(&format!(
                    "{}.{}: a value does not fit {}",
                    new.name,
                    nc.name,
                    nc.storage.type_name()
                ))
            ));
        }
        s.stmt(&format!(
            "CREATE TEMP TABLE \"regc_fits\" ({})",
            defs.join(", ")
        ))?;
        s.stmt(&format!(
            "INSERT OR ROLLBACK INTO \"regc_fits\" SELECT {} FROM {aside}",
            checks
                .iter()
                .map(|(_, e)| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        s.stmt("DROP TABLE \"regc_fits\"")?;
    }
    s.stmt(&format!(
        "INSERT OR ROLLBACK INTO {} ({}) SELECT {} FROM {aside}",
        ident(&new.name),
        cols.join(", "),
        exprs.join(", "),
    ))?;
    s.stmt(&format!("DROP TABLE {aside}"))
}

/// A PostgreSQL text that is no value of `ty`: casting it fails, with a
/// message naming the column and the value that does not fit.
fn postgres_refuse(t: &Table, n: &Column, c: &str, ty: &str) -> String {
    let what = literal(&format!("regc: {}.{} cannot keep ", t.name, n.name));
    let fits = literal(&format!(" as {ty}"));
    format!("CAST({what} || CAST({c} AS TEXT) || {fits} AS {ty})")
}

/// The `USING` expression of a PostgreSQL column whose type changes: never
/// a truncating or rounding cast. A text is assigned (PostgreSQL refuses
/// one too long for `VARCHAR(n)`, where an explicit cast would cut it); a
/// number that the new scale would round, or that is not 0 or 1 for a
/// boolean, fails the migration with its value.
fn postgres_convert(t: &Table, o: &Column, n: &Column) -> String {
    let d = Dialect::Postgres;
    let c = ident(&n.name);
    let ty = n.storage.sql_type(d);
    let numeric = |s: &Storage| matches!(s, Storage::Integer | Storage::Decimal { .. });
    match &n.storage {
        Storage::Text { .. } | Storage::Code { .. } => format!("CAST({c} AS TEXT)"),
        Storage::Integer | Storage::Decimal { .. } if o.storage != Storage::Bool => {
            let scale = match n.storage {
                Storage::Decimal { scale, .. } => scale,
                _ => 0,
            };
            let x = if numeric(&o.storage) {
                c.clone()
            } else {
                format!("CAST({c} AS NUMERIC)")
            };
            format!(
                "CASE WHEN {c} IS NULL THEN NULL WHEN {x} = round({x}, {scale}) THEN CAST({x} AS {ty}) ELSE {} END",
                postgres_refuse(t, n, &c, &ty)
            )
        }
        Storage::Bool if numeric(&o.storage) => format!(
            "CASE WHEN {c} IS NULL THEN NULL WHEN {c} IN (0, 1) THEN {c} <> 0 ELSE {} END",
            postgres_refuse(t, n, &c, &ty)
        ),
        _ => format!("CAST({c} AS {ty})"),
    }
}

/// The expression that turns an old SQLite value into the new column's.
fn sqlite_convert(old: &Column, new: &Column) -> String {
    let c = ident(&old.name);
    let d = Dialect::Sqlite;
    let (s0, s1) = (old.storage.stored_scale(d), new.storage.stored_scale(d));
    let old_text = old.storage.sqlite_text_decimal();
    let new_text = new.storage.sqlite_text_decimal();
    let numeric = |s: &Storage| matches!(s, Storage::Integer | Storage::Decimal { .. });
    if !(numeric(&old.storage) && numeric(&new.storage)) {
        return c;
    }
    match (old_text, new_text) {
        (false, false) if s1 >= s0 => {
            if s1 == s0 {
                c
            } else {
                format!("{c} * 1{}", "0".repeat((s1 - s0) as usize))
            }
        }
        (false, false) => {
            // Fewer decimals (allowed as destructive): exact or refused,
            // never rounded (0.5, a REAL, is what the check refuses).
            let p = format!("1{}", "0".repeat((s0 - s1) as usize));
            format!(
                "CASE WHEN {c} IS NULL THEN NULL WHEN {c} % {p} = 0 THEN {c} / {p} ELSE 0.5 END"
            )
        }
        (false, true) => {
            // A scaled integer becomes the exact decimal text.
            if s0 == 0 {
                return format!("CAST({c} AS TEXT)");
            }
            let p = format!("1{}", "0".repeat(s0 as usize));
            let zeros = "0".repeat(s0 as usize);
            format!(
                "CASE WHEN {c} IS NULL THEN NULL WHEN {c} < 0 THEN '-' || CAST(-{c} / {p} AS TEXT) || '.' || substr('{zeros}' || CAST(-{c} % {p} AS TEXT), -{s0}) ELSE CAST({c} / {p} AS TEXT) || '.' || substr('{zeros}' || CAST({c} % {p} AS TEXT), -{s0}) END"
            )
        }
        (true, true) => {
            // Exact decimal text: refused (0.5, a REAL, which the check
            // refuses) when the new scale or digits cannot hold it.
            let (p1, s1) = match new.storage {
                Storage::Decimal { precision, scale } => (precision, scale),
                _ => (0, 0),
            };
            let (int, frac) = text_parts(&c);
            format!(
                "CASE WHEN {c} IS NULL THEN NULL WHEN length(rtrim({frac}, '0')) <= {s1} AND length(ltrim(ltrim({int}, '-'), '0')) <= {} THEN {c} ELSE 0.5 END",
                p1 - s1
            )
        }
        (true, false) => {
            // Text decimals to a scaled integer (a narrowing, allowed as
            // destructive): digit by digit, exact, or 0.5 that the check refuses.
            let (int, frac) = text_parts(&c);
            let zeros = "0".repeat(s1 as usize);
            let digits = format!("ltrim({int}, '-') || substr({frac} || '{zeros}', 1, {s1})");
            format!(
                "CASE WHEN {c} IS NULL THEN NULL WHEN length(rtrim({frac}, '0')) <= {s1} AND length(ltrim({digits}, '0')) <= 18 THEN CAST(CASE WHEN {c} LIKE '-%' THEN '-' || {digits} ELSE {digits} END AS INTEGER) ELSE 0.5 END"
            )
        }
    }
}

/// The digits before and after the point of SQLite's decimal text `c`.
fn text_parts(c: &str) -> (String, String) {
    (
        format!(
            "CASE WHEN instr({c}, '.') > 0 THEN substr({c}, 1, instr({c}, '.') - 1) ELSE {c} END"
        ),
        format!("CASE WHEN instr({c}, '.') > 0 THEN substr({c}, instr({c}, '.') + 1) ELSE '' END"),
    )
}
