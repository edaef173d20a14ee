//! Diagnostics: values, collected per stage, rendered at the edge.
//!
//! Every stage takes `&mut Diagnostics` and returns a (possibly partial)
//! result; nothing fails fast. Each diagnostic has a stable [`Code`] (see
//! [`codes`] for the registry and the long explanations behind
//! `regc explain`), a severity, a primary span with a label, secondary labels
//! and a help line.

pub mod codes;
pub mod render;

pub use crate::lang::{Lang, Text};
use crate::source::Span;
use crate::tr;
pub use codes::Code;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: Text,
    /// Where the problem is. Always a real location in a loaded file.
    pub primary: Label,
    pub secondary: Vec<Label>,
    /// What to do about it. Every diagnostic has one.
    pub help: Text,
}

impl Diagnostic {
    /// A diagnostic of the code's default severity.
    /// Message and label are [`Text`]s: both languages, or it does not
    /// compile (see [`crate::lang`]).
    pub fn new(code: Code, span: Span, message: Text, label: Text) -> Self {
        Diagnostic {
            severity: code.severity(),
            code,
            message,
            primary: Label { span, text: label },
            secondary: Vec::new(),
            help: Text::new("", ""),
        }
    }

    pub fn with_label(mut self, span: Span, text: Text) -> Self {
        self.secondary.push(Label { span, text });
        self
    }

    pub fn with_help(mut self, help: Text) -> Self {
        self.help = help;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of a compilation, in the order they were found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// What was reported already: the same problem found twice (a column
    /// formula checked for every row) is reported once.
    seen: std::collections::HashSet<(Code, Span, Text)>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        let key = (
            diagnostic.code,
            diagnostic.primary.span,
            diagnostic.message.clone(),
        );
        if self.seen.insert(key) {
            self.items.push(diagnostic);
        }
    }

    pub fn extend(&mut self, other: Diagnostics) {
        for d in other.items {
            self.push(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.iter().filter(|d| !d.is_error()).count()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorted by file, position and code, so that output is deterministic
    /// whatever order the stages ran in.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by(|a, b| {
            (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message))
        });
        v
    }

    /// A name with Vietnamese letters (`bộ`, `hàng_hóa`) is read by the
    /// grammar up to its first accent (`b`, `h`): the E0012 on the whole
    /// word says what is wrong, and what later stages found about the
    /// ASCII half (an unknown level `b`) is dropped.
    pub fn drop_inside_non_ascii_names(&mut self) {
        let names: Vec<Span> = self
            .items
            .iter()
            .filter(|d| d.code == Code::NonAsciiName)
            .map(|d| d.primary.span)
            .collect();
        if names.is_empty() {
            return;
        }
        self.items.retain(|d| {
            let s = d.primary.span;
            d.code == Code::NonAsciiName
                || !names
                    .iter()
                    .any(|n| n.file == s.file && n.start <= s.start && s.end <= n.end)
        });
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

/// "did you mean …": the closest candidate by edit distance, if it is close
/// enough to be a plausible typo, or one the name is a prefix of.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let n = lower.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            let cl = c.to_lowercase();
            let d = strsim::damerau_levenshtein(&lower, &cl);
            // A prefix of at least three letters (`warn` for `warning`,
            // `absolute` for `abs`) is as good as a typo.
            let prefix = n >= 3
                && cl.chars().count() >= 3
                && (cl.starts_with(&lower) || lower.starts_with(&cl));
            let close = d <= (n.max(cl.chars().count()) / 3).max(1);
            (close || prefix).then_some((if close { d } else { d + 100 }, c))
        })
        .min()
        .map(|(_, c)| c)
}

/// The help line for an unknown name: a suggestion if there is a close one,
/// else the list of what exists (up to a handful). `what` names the kind of
/// thing, in both languages (`tr!("level", "cấp")`).
pub fn did_you_mean<'a>(
    name: &str,
    what: Text,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Text {
    if let Some(s) = suggest(name, candidates.clone()) {
        return tr!("did you mean `{}`?", "có phải ý là `{}`?", s);
    }
    let mut all: Vec<&str> = candidates.into_iter().collect();
    all.sort_unstable();
    all.dedup();
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match all.len() {
        0 => tr!(
            "there is no {} here to refer to; declare it first",
            "ở đây không có {} nào để tham chiếu; hãy khai báo trước",
            what
        ),
        1..=10 => tr!("choose one of: {}", "chọn một trong: {}", list(&all)),
        n => tr!(
            "there are {} to choose from, e.g. {}",
            "có {} lựa chọn, ví dụ {}",
            n,
            list(all.get(..6).unwrap_or(&all))
        ),
    }
}

/// The help for a word from a closed set: a suggestion and the whole set.
pub fn choices(name: &str, choices: &[&str]) -> Text {
    let list = choices
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match suggest(name, choices.iter().copied()) {
        Some(s) => tr!(
            "did you mean `{}`? (the choices are {})",
            "có phải ý là `{}`? (các lựa chọn: {})",
            s,
            list
        ),
        None => tr!("choose one of: {}", "chọn một trong: {}", list),
    }
}

/// "a" or "an" before a word.
pub fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

/// E0014 for a source file that is not UTF-8 (`source::SourceFile::not_utf8`),
/// pointing at its first bad byte.
pub fn not_utf8(
    file: crate::source::FileId,
    source: &crate::source::SourceFile,
) -> Option<Diagnostic> {
    let at = source.not_utf8?;
    // The bad bytes became U+FFFD (3 bytes) in the text.
    let end = (at + '\u{FFFD}'.len_utf8()).min(source.text.len());
    Some(
        Diagnostic::new(
            Code::NotUtf8,
            crate::source::Span::new(file, at, end),
            tr!("this file is not UTF-8 text", "tệp này không phải văn bản UTF-8"),
            tr!("not UTF-8", "không phải UTF-8"),
        )
        .with_help(tr!(
            "save the file as UTF-8 (an editor's \"Save with encoding\"; files written in TCVN3 or Windows-1258 must be converted, e.g. with iconv -f CP1258 -t UTF-8)",
            "hãy lưu tệp ở dạng UTF-8 (\"Save with encoding\" của trình soạn thảo); tệp gõ bằng TCVN3 hoặc Windows-1258 phải được chuyển đổi, ví dụ bằng iconv -f CP1258 -t UTF-8"
        )),
    )
}

/// Text from input, made safe to print on a terminal: control characters
/// (an escape sequence could recolour, move or clear the screen) and the
/// bidirectional formatting characters (U+202E shows text reversed) are
/// written as `\u{…}`; everything else is kept.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = crate::syntax::forbidden_in_text;
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
