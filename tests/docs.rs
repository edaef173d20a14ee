//! The documentation emitter: a regime's README.md and the index, pinned by
//! snapshots; labels from regime text cannot break the Markdown.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use regc::emit::docs;

fn compile_library() -> regc::ir::Library {
    let sources =
        regc::source::load_library(&common::repo().join("regimes")).expect("regimes/ is readable");
    regc::compile(&sources).library
}

#[test]
fn the_seaport_regime_readme_is_pinned() {
    let lib = compile_library();
    let r = lib
        .regimes
        .iter()
        .find(|r| r.code == "transport.seaport_cargo")
        .unwrap();
    insta::assert_snapshot!(docs::regime_readme(&lib, r));
}

#[test]
fn the_index_lists_every_regime() {
    let lib = compile_library();
    let index = docs::index(&lib);
    for r in &lib.regimes {
        assert!(
            index.contains(&format!("[`{0}`]({0}/README.md)", r.code)),
            "{}",
            r.code
        );
    }
}

#[test]
fn hostile_labels_stay_text() {
    let text = r#"use common.units
regime test.hostile {
  title "<script>alert(1)</script> | cột"
  basis "x"
  owner "y\"><img src=x onerror=alert(1)>"
  version 1
  frequency monthly
  reporters province
  deadline province 5 working days after cutoff
  form B01 "Biểu | một" {
    rows {
      1 a "<b>Tổng</b> | hàng" : int [person]
    }
  }
  rule R01 error "Không <i>âm</i> | {a}": a >= 0
}
"#;
    let sources = common::with_case("hostile.regime", text);
    let c = regc::compile(&sources);
    assert!(c.diagnostics.is_empty());
    let r = c
        .library
        .regimes
        .iter()
        .find(|r| r.code == "test.hostile")
        .unwrap();
    let md = docs::regime_readme(&c.library, r);
    assert!(
        !md.contains("<script>")
            && !md.contains("<img")
            && !md.contains("<b>")
            && !md.contains("<i>"),
        "{md}"
    );
    // Every table row keeps its column count: `|` in labels is escaped.
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells >= 3, "{line}");
    }
    assert!(md.contains("&lt;script&gt;"));
}
