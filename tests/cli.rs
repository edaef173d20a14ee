//! The command line as users run it: exit codes, output formats, files.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn regc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("regc runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("regc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn check_of_the_library_succeeds() {
    let o = regc(&["check"], &common::repo());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 error(s)"));
}

#[test]
fn check_reports_errors_with_code_and_location_and_exits_1() {
    let case = common::repo().join("tests/cases/diagnostics/E0304_unit_mismatch.regime");
    let dir = tmp("e0304");
    // Outside any library the file is compiled alone: its `use` fails too.
    let file = dir.join("bad.regime");
    std::fs::copy(&case, &file).expect("copy");
    let o = regc(&["check", "bad.regime"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("E0201"), "{out}");
    assert!(out.contains("bad.regime:2:5"), "{out}");
}

#[test]
fn json_diagnostics_are_machine_readable() {
    let dir = tmp("json");
    std::fs::write(
        dir.join("x.regime"),
        "regime a.b {\n  frequency montly\n}\n",
    )
    .expect("write");
    let o = regc(&["check", "x.regime", "--format", "json"], &dir);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let diags = v["diagnostics"].as_array().expect("a list");
    let freq = diags
        .iter()
        .find(|d| d["code"] == "E0104")
        .expect("E0104 reported");
    assert_eq!(freq["line"], 2);
    assert_eq!(freq["column"], 13);
    assert!(freq["help"].as_str().unwrap_or("").contains("monthly"));
    assert!(v["errors"].as_u64().unwrap_or(0) >= 1);
}

#[test]
fn io_and_usage_errors_exit_2() {
    let dir = tmp("io");
    assert_eq!(
        regc(&["check", "no/such/path"], &dir).status.code(),
        Some(2)
    );
    assert_eq!(regc(&["frobnicate"], &dir).status.code(), Some(2));
    assert_eq!(
        regc(&["check", "--format", "xml"], &dir).status.code(),
        Some(2)
    );
    std::fs::write(
        dir.join("latin1.regime"),
        b"regime a.b { title \"B\xe1o c\xe1o\" }\n",
    )
    .expect("write");
    let o = regc(&["check", "latin1.regime"], &dir);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("latin1.regime"));
}

#[test]
fn explain_prints_the_long_text() {
    let o = regc(&["explain", "e0304"], &common::repo());
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).starts_with("E0304 (error)"), "{}", text(&o));
    let o = regc(&["explain", "E9999"], &common::repo());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_names_every_regime() {
    let o = regc(&["list", "--format", "json"], &common::repo());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let list = v.as_array().expect("a list");
    // The library covers the 19 regimes of the 10 agencies of the Government
    // Reporting Information System.
    assert!(list.len() >= 19, "{} regimes", list.len());
    let owners: std::collections::BTreeSet<&str> =
        list.iter().filter_map(|r| r["owner"].as_str()).collect();
    assert!(owners.len() >= 10, "owners: {owners:?}");
    for r in list {
        for key in [
            "code",
            "owner",
            "frequency",
            "version",
            "forms",
            "cells",
            "rules",
        ] {
            assert!(!r[key].is_null(), "{key} missing in {r}");
        }
    }
    assert!(
        list.iter()
            .any(|r| r["code"] == "transport.seaport_cargo" && r["frequency"] == "monthly")
    );
}

#[test]
fn build_ir_writes_json_and_check_detects_edits() {
    let dir = tmp("ir");
    let out = dir.join("ir");
    let lib = common::repo().join("regimes");
    let (lib_s, out_s) = (
        lib.to_string_lossy().into_owned(),
        out.to_string_lossy().into_owned(),
    );
    let o = regc(&["build", &lib_s, "--ir", &out_s], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let ir: serde_json::Value =
        serde_json::from_str(&common::read(&out.join("transport.seaport_cargo.json")))
            .expect("JSON");
    assert_eq!(ir["frequency"], "monthly");
    assert!(out.join("library.json").is_file() && out.join("org.json").is_file());
    let o = regc(&["build", &lib_s, "--ir", &out_s, "--check"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(out.join("transport.seaport_cargo.json"), "{}").expect("edit");
    let o = regc(&["build", &lib_s, "--ir", &out_s, "--check"], &dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("changed: transport.seaport_cargo.json"),
        "{}",
        text(&o)
    );
}
