//! Emitters: the typed IR in, artifacts out. Each emitter is a pure
//! function of [`crate::ir`]; `cli` writes what they return.
//!
//! | emitter | module | writes |
//! |---|---|---|
//! | documentation | [`docs`] | `generated/<regime>/README.md`, `generated/index.md` |
//! | database schemas | [`schema`] | `generated/core.schema.{postgres,sqlite}.sql`, `generated/<regime>/schema.{postgres,sqlite}.sql` |
//! | rule IR | [`rules`] | `generated/<regime>/rules.json`, `generated/rules.schema.json`, `generated/rules.js` |
//! | SQL rules | [`rules_sql`] | `generated/<regime>/rules.{postgres,sqlite}.sql` |
//! | aggregation SQL | [`aggregate`] | `generated/<regime>/aggregate.{postgres,sqlite}.sql`, `generated/<regime>/reconcile.{postgres,sqlite}.sql` |
//! | forms | [`forms`] | `generated/<regime>/forms/<FORM>.html`, `generated/<regime>/submission.schema.json`, `generated/forms.{css,js}` |
//! | Excel templates | [`xlsx`] | `generated/<regime>/forms/<FORM>.xlsx` |
//! | manifest | [`manifest`] | `generated/manifest.json` |

pub mod aggregate;
pub mod docs;
pub mod forms;
pub mod manifest;
pub mod rules;
pub mod rules_sql;
pub mod schema;
pub mod xlsx;

/// The files written for each regime, in `generated/<regime>/`, besides
/// one `forms/<FORM>.html` and one `forms/<FORM>.xlsx` per form
/// ([`forms::artifact_names`]).
pub const REGIME_ARTIFACTS: &[&str] = &[
    "README.md",
    "aggregate.postgres.sql",
    "aggregate.sqlite.sql",
    "calendar.json",
    "ir.json",
    "reconcile.postgres.sql",
    "reconcile.sqlite.sql",
    "rules.json",
    "rules.postgres.sql",
    "rules.sqlite.sql",
    "schema.postgres.sql",
    "schema.sqlite.sql",
    "submission.schema.json",
];
