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

#[test]
fn code_spans_show_conditions_as_written() {
    // Inside a Markdown code span nothing is an entity: `&lt;=` would be
    // shown to the reader as the five characters `&lt;=`.
    let lib = compile_library();
    let mut spans = 0;
    for r in &lib.regimes {
        let md = docs::regime_readme(&lib, r);
        for line in md.lines() {
            // Odd pieces between backticks are code.
            for code in line.split('`').skip(1).step_by(2) {
                spans += 1;
                assert!(
                    !code.contains("&lt;") && !code.contains("&gt;") && !code.contains("&amp;"),
                    "{}: {line}",
                    r.code
                );
            }
        }
        if r.code == "education.school_statistics" {
            assert!(md.contains("`B02.ppc_primary.total <= 35`"), "{md}");
        }
    }
    assert!(spans > 1000, "{spans}");
}

#[test]
fn markdown_in_labels_stays_text() {
    let text = r#"use common.units
regime test.links {
  title "[Bấm vào đây](http://evil.example) *gấp* `x`"
  basis "x"
  owner "y"
  version 1
  frequency monthly
  reporters province
  deadline province 5 working days after cutoff
  form B01 "Biểu ![a](http://evil.example/a.png)" {
    rows {
      1 a "Tổng _số_ & <b>" : int [person]
    }
  }
  rule R01 error "Không âm {a}": a >= 0 and a < 10
}
"#;
    let sources = common::with_case("links.regime", text);
    let c = regc::compile(&sources);
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    let r = &c.library.regimes[0];
    let md = docs::regime_readme(&c.library, r);
    // No link survives: every `]` is escaped.
    assert!(!md.replace("\\]", "").contains("](http"), "{md}");
    assert!(
        md.contains(r"\[Bấm vào đây\](http://evil.example) \*gấp\* \`x\`"),
        "{md}"
    );
    assert!(md.contains(r"Tổng \_số\_ &amp; &lt;b&gt;"), "{md}");
    assert!(md.contains("`(a >= 0) and (a < 10)`"), "{md}");
    // The form is shown as its grid.
    assert!(md.contains("| no. | indicator | value |"), "{md}");
    assert!(
        md.contains(r"| 1 | Tổng \_số\_ &amp; &lt;b&gt; | entered |"),
        "{md}"
    );
}
