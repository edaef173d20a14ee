//! The regime library in `regimes/`: it covers the scope of the Government
//! Reporting Information System, its org data holds the real hierarchy on
//! both sides of the 1 July 2025 reform, and every regime has sample
//! submissions that fit its forms.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use regc::ir;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

fn library() -> &'static ir::Library {
    static L: OnceLock<ir::Library> = OnceLock::new();
    L.get_or_init(|| {
        let sources = regc::source::load_library(&common::repo().join("regimes"))
            .expect("regimes/ is readable");
        let c = regc::compile(&sources);
        let rendered = regc::diagnostic::render::human_all(
            &c.diagnostics,
            &sources,
            regc::lang::Lang::En,
            false,
        );
        assert!(
            c.diagnostics.is_empty(),
            "regimes/ must check clean:\n{rendered}"
        );
        c.library
    })
}

fn walk(e: &ir::Expr, f: &mut dyn FnMut(&ir::Expr)) {
    f(e);
    match &e.kind {
        ir::ExprKind::Neg { arg }
        | ir::ExprKind::Not { arg }
        | ir::ExprKind::YearToDate { arg, .. } => walk(arg, f),
        ir::ExprKind::Binary { lhs, rhs, .. } => {
            walk(lhs, f);
            walk(rhs, f);
        }
        ir::ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, f)),
        _ => {}
    }
}

#[test]
fn the_library_covers_the_scope() {
    let lib = library();
    assert!(lib.regimes.len() >= 19, "{} regimes", lib.regimes.len());
    let owners: BTreeSet<&str> = lib.regimes.iter().map(|r| r.owner.as_str()).collect();
    assert!(owners.len() >= 10, "owners: {owners:?}");
    let freqs: BTreeSet<ir::Frequency> = lib.regimes.iter().map(|r| r.frequency).collect();
    for f in [
        ir::Frequency::Daily,
        ir::Frequency::Monthly,
        ir::Frequency::Quarterly,
        ir::Frequency::SixMonthly,
        ir::Frequency::Annual,
    ] {
        assert!(freqs.contains(&f), "no {f:?} regime");
    }
    let cutoffs: BTreeSet<String> = lib
        .regimes
        .iter()
        .map(|r| format!("{:?}", r.cutoff))
        .collect();
    assert_eq!(cutoffs.len(), 2, "both cut-off rules: {cutoffs:?}");
    let forms = lib.regimes.iter().flat_map(|r| &r.forms);
    let kinds: BTreeSet<String> = forms.clone().map(|f| format!("{:?}", f.kind)).collect();
    assert_eq!(kinds.len(), 2, "grid and record forms");
    let relations: BTreeSet<String> = forms
        .clone()
        .flat_map(|f| &f.rows)
        .filter_map(|r| r.relation)
        .map(|r| format!("{r:?}"))
        .collect();
    assert_eq!(relations.len(), 2, "split and of-which rows");
    assert!(
        forms
            .clone()
            .flat_map(|f| &f.cells)
            .any(|c| matches!(c.entry, ir::Entry::Computed { .. })),
        "computed cells"
    );
    let mut cross_period = false;
    let mut reconciliations = 0;
    for r in &lib.regimes {
        for rule in &r.rules {
            let mut other = false;
            walk(&rule.check, &mut |e| {
                if let ir::ExprKind::Cell { period, regime, .. } = &e.kind {
                    cross_period |= *period != ir::PeriodRef::Current;
                    other |= regime.is_some();
                }
            });
            if rule.origin == ir::RuleOrigin::Reconcile && other {
                reconciliations += 1;
            }
        }
    }
    assert!(cross_period, "rules reading other periods");
    assert!(
        reconciliations >= 2,
        "{reconciliations} reconciliations across regimes"
    );
    assert!(
        lib.regimes.iter().any(|r| r.deadlines.len() >= 3),
        "per-level deadlines over three levels"
    );
}

/// The edition of the hierarchy valid on a day.
fn edition_on(day: NaiveDate) -> &'static regc::data::Edition {
    let lib = library();
    lib.org
        .editions
        .iter()
        .filter(|e| e.valid_from.is_some() || e.valid_to.is_some())
        .find(|e| e.valid_from.is_none_or(|f| f <= day) && e.valid_to.is_none_or(|t| day <= t))
        .expect("an edition is valid on that day")
}

fn count(e: &regc::data::Edition, level: &str) -> usize {
    e.units.iter().filter(|u| u.level == level).count()
}

#[test]
fn after_the_reform_34_provinces_and_3321_communes() {
    let e = edition_on(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
    assert_eq!(count(e, "province"), 34);
    assert_eq!(count(e, "commune"), 3321);
    assert_eq!(count(e, "district"), 0);
    let provinces: BTreeSet<&str> = e
        .units
        .iter()
        .filter(|u| u.level == "province")
        .map(|u| u.code.as_str())
        .collect();
    for c in e.units.iter().filter(|u| u.level == "commune") {
        assert!(
            provinces.contains(c.parent.as_deref().unwrap_or("")),
            "commune {} has no province parent",
            c.code
        );
    }
}

#[test]
fn before_the_reform_63_provinces() {
    let e = edition_on(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    assert_eq!(count(e, "province"), 63);
    assert_eq!(count(e, "district"), 696);
    assert_eq!(count(e, "commune"), 10047);
    let e2024 = edition_on(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap());
    assert_eq!(
        e2024.edition, e.edition,
        "periods of 2024 use the old hierarchy"
    );
}

#[test]
fn every_old_commune_maps_into_exactly_one_new_province() {
    let lib = library();
    let old = edition_on(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    let new = edition_on(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
    let new_parent: BTreeMap<&str, &str> = new
        .units
        .iter()
        .map(|u| (u.code.as_str(), u.parent.as_deref().unwrap_or("")))
        .collect();
    let new_province = |code: &str| -> String {
        match new.units.iter().find(|u| u.code == code) {
            Some(u) if u.level == "province" => code.to_string(),
            Some(_) => new_parent.get(code).copied().unwrap_or("").to_string(),
            None => String::new(),
        }
    };
    let mapping = lib
        .org
        .mappings
        .iter()
        .find(|m| m.from == old.edition && m.to == new.edition)
        .expect("a 2024 → 2025 mapping");
    let mut provinces: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (o, n, _) in &mapping.pairs {
        provinces
            .entry(o.as_str())
            .or_default()
            .insert(new_province(n));
    }
    for c in old.units.iter().filter(|u| u.level == "commune") {
        let p = provinces
            .get(c.code.as_str())
            .unwrap_or_else(|| panic!("old commune {} is not mapped", c.code));
        assert_eq!(
            p.len(),
            1,
            "old commune {} maps into provinces {p:?}",
            c.code
        );
        assert!(
            !p.iter().next().unwrap().is_empty(),
            "old commune {} maps to an unknown unit",
            c.code
        );
    }
}

#[test]
fn every_regime_has_samples_that_fit_its_forms() {
    let lib = library();
    let units: BTreeSet<&str> = lib
        .org
        .editions
        .iter()
        .flat_map(|e| e.units.iter().map(|u| u.code.as_str()))
        .collect();
    for r in &lib.regimes {
        let dir = common::repo().join("tests/samples").join(&r.code);
        let rules: BTreeSet<&str> = r.rules.iter().map(|x| x.code.as_str()).collect();
        for file in ["valid.csv", "invalid.csv"] {
            let text = common::read(&dir.join(file));
            let mut lines = text.lines();
            assert_eq!(
                lines.next(),
                Some("unit,period,form,record,cell,value"),
                "{}/{file}: header",
                r.code
            );
            let mut rows = 0;
            for (n, line) in lines.enumerate() {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(line.as_bytes());
                let rec = reader.records().next().unwrap().unwrap();
                let at = format!("{}/{file}:{}", r.code, n + 2);
                assert_eq!(rec.len(), 6, "{at}: six fields");
                assert!(
                    units.contains(&rec[0]),
                    "{at}: unknown org unit {}",
                    &rec[0]
                );
                let form = r
                    .forms
                    .iter()
                    .find(|f| f.code == rec[2])
                    .unwrap_or_else(|| panic!("{at}: no form {}", &rec[2]));
                let cell = form
                    .cells
                    .iter()
                    .find(|c| c.id == rec[4])
                    .unwrap_or_else(|| panic!("{at}: no cell {} in {}", &rec[4], form.code));
                assert!(
                    !matches!(cell.entry, ir::Entry::Computed { .. }),
                    "{at}: {} is computed",
                    cell.id
                );
                assert_eq!(
                    rec[3].is_empty(),
                    form.kind == ir::FormKind::Grid,
                    "{at}: record number on a record form only"
                );
                rows += 1;
            }
            assert!(rows > 0, "{}/{file} is empty", r.code);
        }
        let breaks = common::read(&dir.join("invalid.breaks.txt"));
        let named: Vec<&str> = breaks
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .collect();
        assert!(
            !named.is_empty(),
            "{}: invalid.breaks.txt names no rule",
            r.code
        );
        for code in named {
            assert!(
                rules.contains(code),
                "{}: invalid.breaks.txt names unknown rule {code}",
                r.code
            );
        }
    }
}

#[test]
fn the_library_readme_lists_every_regime() {
    let readme = common::read(&common::repo().join("regimes/README.md"));
    for r in &library().regimes {
        assert!(
            readme.contains(&format!("`{}`", r.code)),
            "regimes/README.md does not list {}",
            r.code
        );
    }
}
