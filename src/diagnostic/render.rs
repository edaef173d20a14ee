//! Rendering diagnostics: for people with miette's graphical handler
//! against the whole source file (Unicode-aware, so Vietnamese text and wide
//! characters are underlined correctly), and as JSON for tools.

use super::{Diagnostic, Diagnostics, Lang, Severity};
use crate::source::{SourceMap, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;

/// A named source whose header location counts columns in characters, as
/// editors do (miette counts bytes, which puts `cargo` after "Hàng hóa"
/// three columns too far right).
struct CharColumns(NamedSource<String>);

impl miette::SourceCode for CharColumns {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.0.read_span(span, before, after)?;
        if before != 0 || after != 0 {
            return Ok(inner);
        }
        let text = self.0.inner().as_str();
        let at = span.offset().min(text.len());
        let line_start = text
            .get(..at)
            .and_then(|t| t.rfind('\n'))
            .map(|n| n + 1)
            .unwrap_or(0);
        let column = text
            .get(line_start..at)
            .map(|t| t.chars().count())
            .unwrap_or(0);
        let contents = miette::MietteSpanContents::new_named(
            self.0.name().to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        );
        Ok(Box::new(contents))
    }
}

/// One diagnostic with its source, in the shape miette renders.
struct Report<'a> {
    diag: &'a Diagnostic,
    lang: Lang,
    source: CharColumns,
    labels: Vec<LabeledSpan>,
}

impl std::fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.diag.message.get(self.lang))
    }
}

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.diag.message.get(self.lang))
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// The text with each lone `\r` (an old Mac line end) made `\n`, byte for
/// byte, so that the renderer, which splits lines at `\n`, shows the lines
/// `SourceFile::line_col` counts (spans stay where they are).
fn lone_cr_as_lf(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

fn clamp(span: Span, len: usize) -> (usize, usize) {
    let start = (span.start as usize).min(len);
    let end = (span.end as usize).clamp(start, len);
    (start, end - start)
}

/// Renders one diagnostic in `lang`; `color` selects ANSI colours.
pub fn human(diag: &Diagnostic, sources: &SourceMap, lang: Lang, color: bool) -> String {
    let file = sources.get(diag.primary.span.file);
    let (name, text) = file
        .map(|f| (f.name.clone(), lone_cr_as_lf(&f.text)))
        .unwrap_or_default();
    // Keep spans on character boundaries (a span inside a multi-byte
    // character would otherwise confuse the renderer).
    let fix = |span: Span| -> Span {
        let mut s = span;
        while s.start > 0 && !text.is_char_boundary(s.start as usize) {
            s.start -= 1;
        }
        while (s.end as usize) < text.len() && !text.is_char_boundary(s.end as usize) {
            s.end += 1;
        }
        s
    };
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(diag.primary.text.get(lang).to_string()),
        clamp(fix(diag.primary.span), text.len()),
    )];
    let mut elsewhere = Vec::new();
    for l in &diag.secondary {
        if l.span.file == diag.primary.span.file {
            labels.push(LabeledSpan::new_with_span(
                Some(l.text.get(lang).to_string()),
                clamp(fix(l.span), text.len()),
            ));
        } else if let Some(f) = sources.get(l.span.file) {
            let (line, col) = f.line_col(l.span.start as usize);
            elsewhere.push(format!("  = {}: {}:{line}:{col}", l.text.get(lang), f.name));
        }
    }
    let report = Report {
        diag,
        lang,
        source: CharColumns(NamedSource::new(name, text)),
        labels,
    };
    // miette cannot draw labels on lines of tens of thousands of characters
    // (it panics on a format width); such lines get the plain rendering.
    let longest = diag
        .secondary
        .iter()
        .map(|l| l.span)
        .chain(std::iter::once(diag.primary.span))
        .filter(|s| s.file == diag.primary.span.file)
        .map(|s| {
            line_len(&report.source.0, s.start as usize)
                .max(line_len(&report.source.0, s.end as usize))
        })
        .max()
        .unwrap_or(0);
    if longest > MAX_DRAWN_LINE {
        return plain(diag, sources, lang);
    }
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!(
            "{}[{}]: {}\n",
            severity_word(diag.severity, lang),
            diag.code,
            diag.message.get(lang)
        );
    }
    // The help line is drawn here rather than by miette, whose `help:` is
    // English only; it is wrapped the same way.
    if !diag.help.get(lang).is_empty() {
        out.push_str(&wrap_help(diag.help.get(lang), help_word(lang), 98));
    }
    for e in elsewhere {
        out.push_str(&e);
        out.push('\n');
    }
    out
}

/// `help:` in each language.
fn help_word(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "gợi ý",
        Lang::En => "help",
    }
}

/// `  help: text…` wrapped at spaces to `width` characters, continuation
/// lines indented under the text.
fn wrap_help(text: &str, word: &str, width: usize) -> String {
    let head = format!("  {word}: ");
    let indent = " ".repeat(head.chars().count());
    let mut out = String::new();
    let mut line = head.clone();
    let mut line_len = head.chars().count();
    let mut empty = true;
    for w in text.split_whitespace() {
        let n = w.chars().count();
        if !empty && line_len + 1 + n > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.clone();
            line_len = indent.chars().count();
            empty = true;
        }
        if !empty {
            line.push(' ');
            line_len += 1;
        }
        line.push_str(w);
        line_len += n;
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Lines longer than this are not drawn with underlines.
const MAX_DRAWN_LINE: usize = 2000;

fn line_len(source: &NamedSource<String>, at: usize) -> usize {
    let text = source.inner().as_str();
    let at = at.min(text.len());
    let start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map(|n| n + 1)
        .unwrap_or(0);
    let end = text
        .get(at..)
        .and_then(|t| t.find('\n'))
        .map(|n| at + n)
        .unwrap_or(text.len());
    end - start
}

/// A rendering without source excerpt: code, message, location, label, help.
pub fn plain(diag: &Diagnostic, sources: &SourceMap, lang: Lang) -> String {
    let loc = location(diag.primary.span, sources);
    let mut out = format!(
        "{}[{}]: {}\n  --> {}:{}:{}: {}\n",
        severity_word(diag.severity, lang),
        diag.code,
        diag.message.get(lang),
        loc.file,
        loc.line,
        loc.column,
        diag.primary.text.get(lang)
    );
    for l in &diag.secondary {
        let at = location(l.span, sources);
        out.push_str(&format!(
            "  --> {}:{}:{}: {}\n",
            at.file,
            at.line,
            at.column,
            l.text.get(lang)
        ));
    }
    if !diag.help.get(lang).is_empty() {
        out.push_str(&format!("  {}: {}\n", help_word(lang), diag.help.get(lang)));
    }
    out
}

/// `error`/`warning` in each language.
pub fn severity_word(s: Severity, lang: Lang) -> &'static str {
    match (s, lang) {
        (Severity::Error, Lang::En) => "error",
        (Severity::Warning, Lang::En) => "warning",
        (Severity::Error, Lang::Vi) => "lỗi",
        (Severity::Warning, Lang::Vi) => "cảnh báo",
    }
}

/// All diagnostics, sorted, for a terminal, in `lang`.
pub fn human_all(diags: &Diagnostics, sources: &SourceMap, lang: Lang, color: bool) -> String {
    let mut out = String::new();
    for d in diags.sorted() {
        out.push_str(&human(d, sources, lang, color));
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
pub struct JsonLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Byte offsets into the file.
    pub start: u32,
    pub end: u32,
}

#[derive(Serialize)]
pub struct JsonLabel {
    #[serde(flatten)]
    pub location: JsonLocation,
    pub text: String,
}

#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    /// The code's one-line title, in the report's language.
    pub title: &'static str,
    pub severity: Severity,
    pub message: String,
    #[serde(flatten)]
    pub location: JsonLocation,
    pub label: String,
    pub labels: Vec<JsonLabel>,
    pub help: String,
}

pub fn location(span: Span, sources: &SourceMap) -> JsonLocation {
    let (file, (line, column), (end_line, end_column)) = match sources.get(span.file) {
        Some(f) => (
            f.name.clone(),
            f.line_col(span.start as usize),
            f.line_col(span.end as usize),
        ),
        None => (String::new(), (0, 0), (0, 0)),
    };
    JsonLocation {
        file,
        line,
        column,
        end_line,
        end_column,
        start: span.start,
        end: span.end,
    }
}

/// One diagnostic as data, its texts in `lang`.
pub fn json_diagnostic(d: &Diagnostic, sources: &SourceMap, lang: Lang) -> JsonDiagnostic {
    JsonDiagnostic {
        code: d.code.as_str(),
        title: d.code.title_in(lang),
        severity: d.severity,
        message: d.message.get(lang).to_string(),
        location: location(d.primary.span, sources),
        label: d.primary.text.get(lang).to_string(),
        labels: d
            .secondary
            .iter()
            .map(|l| JsonLabel {
                location: location(l.span, sources),
                text: l.text.get(lang).to_string(),
            })
            .collect(),
        help: d.help.get(lang).to_string(),
    }
}

#[derive(Serialize)]
pub struct JsonReport {
    /// The language of every text of the report (`vi`, `en`): tools should
    /// match on `code`, never on the words.
    pub lang: &'static str,
    pub diagnostics: Vec<JsonDiagnostic>,
    pub errors: usize,
    pub warnings: usize,
}

/// All diagnostics as one JSON document, their texts in `lang`.
pub fn json_all(diags: &Diagnostics, sources: &SourceMap, lang: Lang) -> String {
    let report = JsonReport {
        lang: lang.tag(),
        diagnostics: diags
            .sorted()
            .into_iter()
            .map(|d| json_diagnostic(d, sources, lang))
            .collect(),
        errors: diags.error_count(),
        warnings: diags.warning_count(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// All diagnostics as a SARIF 2.1.0 log, so that code-scanning interfaces
/// show regime errors inline. Columns are counted in Unicode code points
/// (`columnKind`), as in the other formats; every code used has a rule
/// with its title and its long explanation as help.
/// `docs_url`: where the explanations are, `docs_url/CODE.md` (each rule's
/// `helpUri`).
/// Texts are in `lang`, which the run records as its `language`.
pub fn sarif_all(diags: &Diagnostics, sources: &SourceMap, docs_url: &str, lang: Lang) -> String {
    use serde_json::json;
    let sorted = diags.sorted();
    let mut codes: Vec<super::Code> = sorted.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.title_in(lang),
                "shortDescription": { "text": c.title_in(lang) },
                "fullDescription": { "text": c.explanation_in(lang) },
                "help": { "text": format!("regc explain {}", c.as_str()), "markdown": c.explanation_in(lang) },
                "helpUri": format!("{}/{}.md", docs_url.trim_end_matches('/'), c.as_str()),
                "defaultConfiguration": { "level": sarif_level(c.severity()) },
            })
        })
        .collect();
    let region = |span: Span| {
        let l = location(span, sources);
        json!({
            "startLine": l.line.max(1),
            "startColumn": l.column.max(1),
            "endLine": l.end_line.max(1),
            "endColumn": l.end_column.max(1),
        })
    };
    let place = |span: Span| {
        json!({
            "physicalLocation": {
                "artifactLocation": { "uri": location(span, sources).file },
                "region": region(span),
            }
        })
    };
    let results: Vec<serde_json::Value> = sorted
        .iter()
        .map(|d| {
            let rule_index = codes.iter().position(|c| *c == d.code).unwrap_or(0);
            let related: Vec<serde_json::Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut p = place(l.span);
                    if let Some(obj) = p.as_object_mut() {
                        obj.insert("id".into(), json!(i));
                        obj.insert("message".into(), json!({ "text": l.text.get(lang) }));
                    }
                    p
                })
                .collect();
            let mut loc = place(d.primary.span);
            if let Some(obj) = loc.as_object_mut() {
                obj.insert("message".into(), json!({ "text": d.primary.text.get(lang) }));
            }
            json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": rule_index,
                "level": sarif_level(d.severity),
                "message": { "text": format!("{} ({}: {})", d.message.get(lang), help_word(lang), d.help.get(lang)) },
                "locations": [loc],
                "relatedLocations": related,
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "regc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "language": lang.tag(),
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
