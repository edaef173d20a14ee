//! `regc fmt`: a formatter that works on the text, not on a pretty-printed
//! AST, so that comments are kept exactly and meaning cannot change. It only
//! touches whitespace that the grammar ignores: indentation, trailing
//! whitespace, blank lines and line endings. See `docs/fmt.md` for the rules.
//!
//! Pure: text in, text out. The command line (`regc fmt`) reads and writes
//! the files.

use crate::diagnostic::{Diagnostics, Severity};
use crate::source::{FileId, SourceFile};
use crate::syntax::{RegimeParser, Rule};
use pest::Parser;

/// Columns a tab in a continuation line's indentation counts for.
const TAB_WIDTH: usize = 4;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FmtError {
    /// The file has syntax errors (codes `E00xx`): it is left as it is.
    Syntax(Diagnostics),
}

/// Formats one `.regime` file. A file with syntax errors (the diagnostics of
/// the syntax stage, codes `E00xx`) is not formatted.
pub fn format_file(id: FileId, file: &SourceFile) -> Result<String, FmtError> {
    let mut diags = Diagnostics::new();
    let _ = crate::syntax::parse_file(id, file, &mut diags);
    let syntax_errors: Vec<_> = diags
        .into_vec()
        .into_iter()
        .filter(|d| d.severity == Severity::Error && d.code.as_str().starts_with("E00"))
        .collect();
    if !syntax_errors.is_empty() {
        let mut errors = Diagnostics::new();
        for d in syntax_errors {
            errors.push(d);
        }
        return Err(FmtError::Syntax(errors));
    }
    Ok(format_text(&file.text))
}

/// Formats the text of a `.regime` file, or returns `None` when it has
/// syntax errors.
pub fn format(text: &str) -> Option<String> {
    let file = SourceFile::new("fmt.regime", "fmt.regime", text);
    format_file(FileId::default(), &file).ok()
}

/// Where a line is in the block structure.
struct Level {
    /// The indentation of the statements of this block.
    content: usize,
    /// The indentation of the `}` that closes it.
    closer: usize,
    /// The statement being continued: its new indentation and how far it
    /// moved (new minus old).
    stmt: Option<(usize, isize)>,
}

/// What the lexer learnt about one line.
#[derive(Default)]
struct LineInfo {
    /// The line starts inside a block comment.
    starts_in_comment: bool,
    /// The line ends inside a block comment.
    ends_in_comment: bool,
    /// `{` (true) and `}` (false) outside strings and comments, in order.
    braces: Vec<bool>,
    /// The last character of code (outside comments) is `{`.
    opens_block: bool,
    /// The line has code (outside comments).
    has_code: bool,
    /// The byte offset in the line of the first character of code, and
    /// that character.
    first_code: Option<(usize, char)>,
}

/// Scans one line, updating the block-comment state.
fn scan(line: &str, in_comment: &mut bool) -> LineInfo {
    let mut info = LineInfo {
        starts_in_comment: *in_comment,
        ..LineInfo::default()
    };
    let mut last = None;
    let mut chars = line.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if *in_comment {
            if c == '*' && chars.peek().is_some_and(|&(_, n)| n == '/') {
                chars.next();
                *in_comment = false;
            }
            continue;
        }
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek().is_some_and(|&(_, n)| n == '/') => break,
            '/' if chars.peek().is_some_and(|&(_, n)| n == '*') => {
                chars.next();
                *in_comment = true;
                continue;
            }
            '"' => in_string = true,
            '{' => info.braces.push(true),
            '}' => info.braces.push(false),
            _ => {}
        }
        if !c.is_whitespace() {
            last = Some(c);
            info.has_code = true;
            if info.first_code.is_none() {
                info.first_code = Some((i, c));
            }
        }
    }
    info.ends_in_comment = *in_comment;
    info.opens_block = last == Some('{');
    info
}

/// The byte offsets where a statement (an item of a block) starts.
fn statement_starts(text: &str) -> Vec<usize> {
    let Ok(pairs) = RegimeParser::parse(Rule::file, text) else {
        return Vec::new();
    };
    let mut starts: Vec<usize> = pairs
        .flatten()
        .filter(|p| {
            matches!(
                p.as_rule(),
                Rule::use_decl
                    | Rule::unit_decl
                    | Rule::codelist_decl
                    | Rule::group_decl
                    | Rule::regime
                    | Rule::title
                    | Rule::basis
                    | Rule::owner
                    | Rule::receiver
                    | Rule::version
                    | Rule::kind
                    | Rule::frequency
                    | Rule::cutoff
                    | Rule::reporters
                    | Rule::flow
                    | Rule::deadline
                    | Rule::method
                    | Rule::form
                    | Rule::rule
                    | Rule::reconcile
                    | Rule::code_value
                    | Rule::field
                    | Rule::columns
                    | Rule::rows
                    | Rule::column
                    | Rule::row
                    | Rule::include
            )
        })
        .map(|p| p.as_span().start())
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// The width of an indentation made of spaces and tabs.
fn width(indent: &str) -> usize {
    indent
        .chars()
        .map(|c| if c == '\t' { TAB_WIDTH } else { 1 })
        .sum()
}

/// One line of the output.
enum Out {
    Blank,
    Text {
        text: String,
        /// Ends with a `{` (no blank line may follow).
        opens_block: bool,
        /// Starts with a `}` (no blank line may precede).
        closes_block: bool,
    },
}

/// Formats a text that parses (the caller checks); see the module docs.
pub fn format_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let starts = statement_starts(&text);
    let mut stack = vec![Level {
        content: 0,
        closer: 0,
        stmt: None,
    }];
    let mut out: Vec<Out> = Vec::new();
    // Comment lines waiting for the indentation of the next code line:
    // (index in `out`, the block's statement indentation, content).
    let mut pending: Vec<(usize, usize, String)> = Vec::new();
    let mut in_comment = false;
    let mut offset = 0usize;
    for line in text.split('\n') {
        let line_start = offset;
        offset += line.len() + 1;
        let info = scan(line, &mut in_comment);
        let content = line.trim_start_matches([' ', '\t']);
        let indent_str = line.get(..line.len() - content.len()).unwrap_or("");
        let orig = width(indent_str);
        let first = line_start + info.first_code.map_or(indent_str.len(), |(i, _)| i);
        let closes = info.first_code.is_some_and(|(_, c)| c == '}');
        let top_content = stack.last().map_or(0, |l| l.content);
        if info.starts_in_comment || info.ends_in_comment || content.starts_with('\u{FEFF}') {
            // Inside a block comment, or not safe to touch: kept as it is.
            if !info.starts_in_comment
                && starts.binary_search(&first).is_ok()
                && let Some(level) = stack.last_mut()
            {
                level.stmt = Some((orig, 0));
            }
            out.push(Out::Text {
                text: line.to_string(),
                opens_block: info.opens_block,
                closes_block: closes,
            });
            push_braces(&mut stack, &info.braces, orig);
            continue;
        }
        let content = content.trim_end_matches([' ', '\t']);
        if content.is_empty() {
            out.push(Out::Blank);
            continue;
        }
        let comment_only = !info.has_code;
        if comment_only {
            pending.push((out.len(), top_content, content.to_string()));
            out.push(Out::Blank);
            continue;
        }
        let indent = if closes {
            stack.last().map_or(0, |l| l.closer)
        } else if starts.binary_search(&first).is_ok() {
            let delta =
                isize::try_from(top_content).unwrap_or(0) - isize::try_from(orig).unwrap_or(0);
            if let Some(level) = stack.last_mut() {
                level.stmt = Some((top_content, delta));
            }
            top_content
        } else {
            match stack.last().and_then(|l| l.stmt) {
                Some((s, delta)) => {
                    let moved = isize::try_from(orig).unwrap_or(0) + delta;
                    usize::try_from(moved).unwrap_or(0).max(s + 2)
                }
                None => orig.max(top_content + 2),
            }
        };
        // Comments just above a continuation line go with it; others with
        // the block's statements.
        let continuation = !closes && indent != top_content;
        for (i, block_indent, c) in pending.drain(..) {
            let n = if continuation { indent } else { block_indent };
            if let Some(slot) = out.get_mut(i) {
                *slot = Out::Text {
                    text: format!("{}{c}", " ".repeat(n)),
                    opens_block: false,
                    closes_block: false,
                };
            }
        }
        out.push(Out::Text {
            text: format!("{}{content}", " ".repeat(indent)),
            opens_block: info.opens_block,
            closes_block: closes,
        });
        push_braces(&mut stack, &info.braces, indent);
    }
    for (i, block_indent, c) in pending.drain(..) {
        if let Some(slot) = out.get_mut(i) {
            *slot = Out::Text {
                text: format!("{}{c}", " ".repeat(block_indent)),
                opens_block: false,
                closes_block: false,
            };
        }
    }
    assemble(&out)
}

/// Opens and closes the blocks of a line indented by `indent`.
fn push_braces(stack: &mut Vec<Level>, braces: &[bool], indent: usize) {
    for &open in braces {
        if open {
            stack.push(Level {
                content: indent + 2,
                closer: indent,
                stmt: None,
            });
        } else if stack.len() > 1 {
            stack.pop();
        }
    }
}

/// Joins the lines: blank lines collapsed to one, none at the start or the
/// end, right after a `{` or right before a `}`; one final newline.
fn assemble(lines: &[Out]) -> String {
    let mut s = String::new();
    let mut previous_opens: Option<bool> = None;
    let mut blank = false;
    for line in lines {
        match line {
            Out::Blank => blank = true,
            Out::Text {
                text,
                opens_block,
                closes_block,
            } => {
                if blank && !closes_block && previous_opens == Some(false) {
                    s.push('\n');
                }
                blank = false;
                s.push_str(text);
                s.push('\n');
                previous_opens = Some(*opens_block);
            }
        }
    }
    s
}
