//! Who sees what, from the regime's flow and the org hierarchy only (no
//! code per regime):
//!
//! * a unit **takes part** in a regime when its level (or unit type) is one
//!   of the regime's reporters or a level of its flow;
//! * a user sees the reports of a unit when it is that unit, or its unit is
//!   above that unit in some edition of the hierarchy (the closure table),
//!   or its unit is a level of the flow with no territory above the
//!   reporters (a ministry, the Government) that receives the regime: the
//!   last level of the flow, or the unit named as the regime's owner or
//!   receiver;
//! * an administrator sees everything.

use super::store::{Store, User};
use crate::ir;

/// The level (or unit type) of a unit, in the newest edition holding it.
pub fn level_of<'a>(lib: &'a ir::Library, unit: &str) -> Option<&'a str> {
    unit_of(lib, unit).map(|u| u.level.as_str())
}

/// A unit's record in the newest edition holding it.
pub fn unit_of<'a>(lib: &'a ir::Library, unit: &str) -> Option<&'a crate::data::OrgUnit> {
    lib.org
        .editions
        .iter()
        .rev()
        .find_map(|e| e.units.iter().find(|u| u.code == unit))
}

pub fn takes_part(lib: &ir::Library, regime: &ir::Regime, user: &User) -> bool {
    if user.role == "admin" {
        return true;
    }
    level_of(lib, &user.unit).is_some_and(|level| {
        regime.reporters.iter().any(|r| r == level) || regime.flow.iter().any(|f| f == level)
    })
}

/// Whether the unit receives the whole regime (not only its subtree).
fn receives_all(lib: &ir::Library, regime: &ir::Regime, user: &User) -> bool {
    let Some(unit) = unit_of(lib, &user.unit) else {
        return false;
    };
    let Some(pos) = regime.flow.iter().position(|f| *f == unit.level) else {
        return false;
    };
    pos + 1 == regime.flow.len()
        || unit.name == regime.owner
        || regime.receiver.as_deref() == Some(unit.name.as_str())
}

/// Whether `user` may see the reports of `unit` in `regime`.
pub fn can_see(
    store: &Store,
    lib: &ir::Library,
    regime: &ir::Regime,
    user: &User,
    unit: &str,
) -> Result<bool, String> {
    if user.role == "admin" {
        return Ok(true);
    }
    if !takes_part(lib, regime, user) {
        return Ok(false);
    }
    if user.unit == unit || receives_all(lib, regime, user) {
        return Ok(true);
    }
    store.is_within(&user.unit, unit)
}

/// Whether `user` may enter and submit the reports of `unit`: a reporter
/// (or administrator) of that very unit, whose level reports the regime.
pub fn can_submit(lib: &ir::Library, regime: &ir::Regime, user: &User, unit: &str) -> bool {
    let reports = level_of(lib, unit).is_some_and(|level| {
        regime.reporters.iter().any(|r| r == level)
            || regime.flow.iter().skip(1).any(|f| f == level)
    });
    reports && (user.role == "admin" || (user.role == "reporter" && user.unit == unit))
}

/// The units whose reports `user` may see in `regime`: `None` for all.
pub fn scope(
    store: &Store,
    lib: &ir::Library,
    regime: &ir::Regime,
    user: &User,
) -> Result<Option<std::collections::HashSet<String>>, String> {
    if user.role == "admin" || receives_all(lib, regime, user) {
        return Ok(None);
    }
    if !takes_part(lib, regime, user) {
        return Ok(Some(Default::default()));
    }
    let mut units = store.descendants(&user.unit)?;
    units.insert(user.unit.clone());
    Ok(Some(units))
}

/// The flow level that receives (approves) the reports of a unit of
/// `level`: the next one in the flow (a reporter type outside the flow
/// reports to the flow's second level).
pub fn receiver_of<'a>(regime: &'a ir::Regime, level: &str) -> Option<&'a str> {
    let next = match regime.flow.iter().position(|f| f == level) {
        Some(i) => i + 1,
        None if regime.reporters.iter().any(|r| r == level) => 1,
        None => return None,
    };
    regime.flow.get(next).map(String::as_str)
}

/// Whether `user` may approve or return the reports of `unit`: an
/// approver (or administrator) of the receiving level who sees the unit.
pub fn can_decide(
    store: &Store,
    lib: &ir::Library,
    regime: &ir::Regime,
    user: &User,
    unit: &str,
) -> Result<bool, String> {
    if user.role == "admin" {
        return Ok(true);
    }
    if user.role != "approver" {
        return Ok(false);
    }
    let (Some(mine), Some(theirs)) = (level_of(lib, &user.unit), level_of(lib, unit)) else {
        return Ok(false);
    };
    if receiver_of(regime, theirs) != Some(mine) {
        return Ok(false);
    }
    can_see(store, lib, regime, user, unit)
}
