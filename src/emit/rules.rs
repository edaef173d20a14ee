//! `generated/<regime>/rules.json`: every rule of a regime as data, for
//! the evaluators (Rust, SQL, JavaScript): the written and reconciliation
//! rules and those the compiler derives (split, of-which), plus one rule
//! per required cell, per typed cell, per range and per codelist cell. The
//! format is versioned ([`RULES_VERSION`]), described by
//! `generated/rules.schema.json` and documented in `docs/rules.md`.

use crate::ir::{self, Expr, Missing, RuleScope, Severity, Tolerance};
use serde::Serialize;

/// Bumped on every incompatible change of `rules.json`.
pub const RULES_VERSION: u32 = 1;

/// The JSON Schema (2020-12) of `rules.json`.
pub const SCHEMA: &str = include_str!("rules.schema.json");

/// The JavaScript evaluator, `generated/rules.js`: one dependency-free ES
/// module for browsers and Node (docs/rules.md).
pub const JS: &str = include_str!("rules.js");

#[derive(Serialize)]
pub struct RulesFile<'a> {
    pub rules_version: u32,
    pub regime: &'a str,
    pub version: u32,
    pub frequency: ir::Frequency,
    pub cutoff: ir::Cutoff,
    /// Digits a division keeps after the point.
    pub div_scale: u32,
    pub forms: Vec<FormEntry<'a>>,
    pub rules: Vec<RuleEntry<'a>>,
}

#[derive(Serialize)]
pub struct FormEntry<'a> {
    pub code: &'a str,
    pub kind: ir::FormKind,
    pub cells: Vec<CellEntry<'a>>,
}

#[derive(Serialize)]
pub struct CellEntry<'a> {
    pub id: &'a str,
    pub label: &'a str,
    #[serde(rename = "type")]
    pub ty: &'a ir::Type,
    /// `entered`, `entered_yearly` or `computed`.
    pub entry: &'static str,
    /// The formula of a computed cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<&'a Expr>,
    pub required: bool,
}

#[derive(Serialize)]
pub struct RuleEntry<'a> {
    pub code: String,
    /// `written`, `reconcile`, `split`, `of_which` (with a `check`), or
    /// `required`, `type`, `range`, `codelist` (about one cell).
    pub kind: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The form and cell the rule is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholders: Option<&'a [Expr]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a RuleScope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<&'a Tolerance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_level: Option<&'a str>,
    /// A boolean expression: true means the data pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<&'a Expr>,
    /// `type`: the cell's type; `range`: its bounds; `codelist`: its codes.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<&'a ir::Type>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<&'a ir::Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codelist: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<&'a str>>,
}

impl<'a> RuleEntry<'a> {
    fn about(
        code: String,
        kind: &'static str,
        message: String,
        form: &'a str,
        cell: &'a str,
    ) -> Self {
        RuleEntry {
            code,
            kind,
            severity: Severity::Error,
            message,
            form: Some(form),
            cell: Some(cell),
            placeholders: None,
            missing: None,
            scope: None,
            tolerance: None,
            at_level: None,
            check: None,
            ty: None,
            range: None,
            codelist: None,
            codes: None,
        }
    }
}

pub fn rules_file<'a>(lib: &'a ir::Library, r: &'a ir::Regime) -> RulesFile<'a> {
    let mut rules = Vec::new();
    for rule in &r.rules {
        let (form, cell) = match crate::validate::first_cell(&rule.check) {
            Some((f, c)) => (Some(f), Some(c)),
            None => (None, None),
        };
        rules.push(RuleEntry {
            code: rule.code.clone(),
            kind: crate::validate::kind(&rule.origin),
            severity: rule.severity,
            message: rule.message.clone(),
            form,
            cell,
            placeholders: Some(&rule.placeholders),
            missing: Some(rule.missing),
            scope: Some(&rule.scope),
            tolerance: rule.tolerance.as_ref(),
            at_level: rule.at_level.as_deref(),
            check: Some(&rule.check),
            ty: None,
            range: None,
            codelist: None,
            codes: None,
        });
    }
    for f in &r.forms {
        for c in &f.cells {
            if matches!(c.entry, ir::Entry::Computed { .. }) {
                continue;
            }
            let (fc, cc) = (f.code.as_str(), c.id.as_str());
            if c.required {
                rules.push(RuleEntry::about(
                    format!("required.{fc}.{cc}"),
                    "required",
                    format!("{}: bắt buộc phải nhập", c.label),
                    fc,
                    cc,
                ));
            }
            rules.push(RuleEntry {
                ty: Some(&c.ty),
                ..RuleEntry::about(
                    format!("type.{fc}.{cc}"),
                    "type",
                    format!("{}: giá trị không đúng kiểu dữ liệu", c.label),
                    fc,
                    cc,
                )
            });
            if let Some(range) = &c.range {
                rules.push(RuleEntry {
                    range: Some(range),
                    ..RuleEntry::about(
                        format!("range.{fc}.{cc}"),
                        "range",
                        format!("{}: giá trị nằm ngoài khoảng cho phép", c.label),
                        fc,
                        cc,
                    )
                });
            }
            if let ir::Type::Code { codelist } = &c.ty {
                let codes = lib
                    .codelists
                    .iter()
                    .find(|l| &l.code == codelist)
                    .map(|l| l.values.iter().map(|v| v.code.as_str()).collect())
                    .unwrap_or_default();
                rules.push(RuleEntry {
                    codelist: Some(codelist),
                    codes: Some(codes),
                    ..RuleEntry::about(
                        format!("codelist.{fc}.{cc}"),
                        "codelist",
                        format!("{}: mã không có trong danh mục", c.label),
                        fc,
                        cc,
                    )
                });
            }
        }
    }
    RulesFile {
        rules_version: RULES_VERSION,
        regime: &r.code,
        version: r.version,
        frequency: r.frequency,
        cutoff: r.cutoff,
        div_scale: crate::eval::num::DIV_SCALE,
        forms: r
            .forms
            .iter()
            .map(|f| FormEntry {
                code: &f.code,
                kind: f.kind,
                cells: f
                    .cells
                    .iter()
                    .map(|c| CellEntry {
                        id: &c.id,
                        label: &c.label,
                        ty: &c.ty,
                        entry: match c.entry {
                            ir::Entry::Entered => "entered",
                            ir::Entry::EnteredYearly => "entered_yearly",
                            ir::Entry::Computed { .. } => "computed",
                        },
                        formula: match &c.entry {
                            ir::Entry::Computed { formula } => Some(formula),
                            _ => None,
                        },
                        required: c.required,
                    })
                    .collect(),
            })
            .collect(),
        rules,
    }
}
