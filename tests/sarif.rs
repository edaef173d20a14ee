//! `--format sarif` gives a SARIF 2.1.0 log that validates against the
//! published schema (the copy shipped in the `serde-sarif` crate, a
//! dev-dependency, found through `cargo metadata`), with each diagnostic's
//! code, level and place.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::process::Command;

/// The SARIF 2.1.0 schema from the serde-sarif package in cargo's registry
/// (the version pinned in Cargo.lock; cargo has unpacked it to build this
/// test).
fn sarif_schema() -> serde_json::Value {
    let lock = common::read(&common::repo().join("Cargo.lock"));
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"serde-sarif\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .expect("serde-sarif is in Cargo.lock");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo")
        });
    let registry = cargo_home.join("registry/src");
    let path = std::fs::read_dir(&registry)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| {
            e.path()
                .join(format!("serde-sarif-{version}/src/schema.json"))
        })
        .find(|p| p.is_file())
        .expect("the serde-sarif package is unpacked in cargo's registry");
    let mut schema: serde_json::Value = serde_json::from_str(&common::read(&path)).unwrap();
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    // The published schema's pattern for a `language` has a stray `]`
    // (`…-[a-zA-Z]{2}]?$`), which a strict regex engine refuses; it is
    // replaced by the intended one (a language tag like `vi` or `vi-VN`).
    fn fix(v: &mut serde_json::Value, fixed: &mut usize) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                        *fixed += 1;
                    } else {
                        fix(x, fixed);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| fix(x, fixed)),
            _ => {}
        }
    }
    let mut fixed = 0;
    fix(&mut schema, &mut fixed);
    assert!(fixed >= 1, "the known erratum is in the schema");
    schema
}

#[test]
fn sarif_output_validates_against_the_published_schema() {
    let dir = std::env::temp_dir().join(format!("regc-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Vietnamese text before the error, two errors with secondary labels.
    std::fs::write(
        dir.join("x.regime"),
        "regime a.b {\n  title \"Báo cáo thử nghiệm\"\n  frequency montly\n  kind adhoc\n}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regc"))
        .args(["check", "x.regime", "--format", "sarif"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And it deserializes into serde-sarif's typed model.
    let typed: serde_sarif::sarif::Sarif =
        serde_json::from_value(log.clone()).expect("typed SARIF");
    assert_eq!(typed.version.to_string().trim_matches('"'), "2.1.0");

    let results = log["runs"][0]["results"].as_array().unwrap();
    let freq = results
        .iter()
        .find(|r| r["ruleId"] == "E0104")
        .expect("E0104 reported");
    assert_eq!(freq["level"], "error");
    let region = &freq["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 3);
    assert_eq!(region["startColumn"], 13);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| {
        r["id"] == "E0104"
            && r["fullDescription"]["text"]
                .as_str()
                .unwrap()
                .starts_with("# E0104")
    }));
    // Each rule links to its explanation: by default the file in regc's
    // sources, which exists.
    for r in rules {
        let uri = r["helpUri"].as_str().unwrap();
        let path = uri.strip_prefix("file://").unwrap();
        assert!(std::path::Path::new(path).is_file(), "{uri} is not a file");
        assert!(uri.ends_with(&format!("/{}.md", r["id"].as_str().unwrap())));
    }
    // Or where the team publishes them.
    let out = Command::new(env!("CARGO_BIN_EXE_regc"))
        .args([
            "check",
            "x.regime",
            "--format",
            "sarif",
            "--docs-url",
            "https://docs.example.org/regc/diagnostics/",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"],
        format!(
            "https://docs.example.org/regc/diagnostics/{}.md",
            log["runs"][0]["tool"]["driver"]["rules"][0]["id"]
                .as_str()
                .unwrap()
        )
    );
}

#[test]
fn a_clean_library_gives_an_empty_valid_log() {
    let out = Command::new(env!("CARGO_BIN_EXE_regc"))
        .args(["check", "--format", "sarif"])
        .current_dir(common::repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = jsonschema::validator_for(&sarif_schema()).unwrap();
    assert!(validator.is_valid(&log));
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}
