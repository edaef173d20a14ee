//! Emitters: the typed IR in, artifacts out. Each emitter is a pure
//! function of [`crate::ir`]; `cli` writes what they return.
//!
//! | emitter | module | writes |
//! |---|---|---|
//! | documentation | [`docs`] | `generated/<regime>/README.md`, `generated/index.md` |
//! | manifest | [`manifest`] | `generated/manifest.json` |

pub mod docs;
pub mod manifest;
