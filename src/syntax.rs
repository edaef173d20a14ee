//! Syntax: `.regime` text → [`ast::File`], with spans, using the pest grammar
//! in `grammar/regime.pest`. One conversion function per grammar rule; each
//! names its rule in its doc comment.
//!
//! Parsing never stops at the first problem: the grammar's catch-all
//! `bad_line` alternatives let the rest of a file parse, and the converter
//! reports each of them with a targeted message.

pub mod ast;
mod lower;
pub use lower::forbidden_in_text;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, SourceFile, Span};
use crate::tr;
use pest::Parser;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/regime.pest"]
pub(crate) struct RegimeParser;

/// Files larger than this are refused with a diagnostic (E0010) instead of
/// being parsed: no real regime comes near it.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Nesting deeper than this (brackets, or nested expressions) is refused
/// with E0005 before it can exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// Parser calls allowed per byte of input: real files need about 20.
const PARSER_CALLS_PER_BYTE: usize = 2000;

/// Expression trees taller than this (long chains such as `a + b + … + z`
/// with hundreds of terms) are refused with E0005: checking and every
/// emitter walk expressions recursively.
pub const MAX_TREE_HEIGHT: usize = 256;

/// Parses one `.regime` file. Always returns a file (possibly empty) and
/// reports every problem found in `diags`.
pub fn parse_file(id: FileId, source: &SourceFile, diags: &mut Diagnostics) -> ast::File {
    let text = source.text.as_str();
    let empty = ast::File {
        id,
        module: source.module_path(),
        ..Default::default()
    };
    if let Some(d) = crate::diagnostic::not_utf8(id, source) {
        diags.push(d);
        return empty;
    }
    // A file too large was not even read (source::read_file).
    let size = source.too_large.unwrap_or(text.len() as u64);
    if size > MAX_FILE_BYTES as u64 {
        diags.push(
            Diagnostic::new(
                Code::FileTooLarge,
                Span::new(id, 0, 0),
                tr!(
                    "this file has {size} bytes; regime files may have at most {} bytes",
                    "tệp này có {size} byte; tệp chế độ báo cáo chỉ được có tối đa {} byte",
                    MAX_FILE_BYTES
                ),
                tr!("file starts here", "tệp bắt đầu ở đây"),
            )
            .with_help(tr!(
                "split the regime into several files and share declarations with `use`",
                "chia chế độ báo cáo thành nhiều tệp và dùng chung các khai báo bằng `use`"
            )),
        );
        return empty;
    }
    if let Some((start, end)) = too_deep(text) {
        diags.push(
            Diagnostic::new(
                Code::TooDeep,
                Span::new(id, start, end),
                tr!(
                    "brackets are nested more than {MAX_NESTING} levels deep here",
                    "ở đây các dấu ngoặc lồng nhau sâu quá {MAX_NESTING} mức"
                ),
                tr!("nested too deeply", "lồng quá sâu"),
            )
            .with_help(tr!(
                "split the expression into computed cells, or remove the extra brackets",
                "tách biểu thức thành các ô tính toán, hoặc bỏ bớt các dấu ngoặc thừa"
            )),
        );
        return empty;
    }
    // A budget of parser calls, so that a pathological input ends with a
    // diagnostic instead of running for minutes (pest also stops before the
    // native stack runs out).
    pest::set_call_limit(std::num::NonZeroUsize::new(
        PARSER_CALLS_PER_BYTE * text.len().max(1024),
    ));
    match RegimeParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let mut lower = lower::Lower::new(id, diags);
            match pairs.next() {
                Some(file) => lower.file(file, empty),
                None => empty,
            }
        }
        Err(err) => {
            diags.push(lower::parse_error(id, text, err));
            empty
        }
    }
}

/// Finds the first place where `(`, `[` or `{` nest deeper than
/// [`MAX_NESTING`], outside strings and comments.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' || c == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((i, i + 1));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses the inside of a message placeholder (`cargo.month@previous`).
/// `offset` is where `text` starts in the file.
pub(crate) fn parse_placeholder(id: FileId, text: &str, offset: usize) -> Option<ast::Reference> {
    let mut pairs = RegimeParser::parse(Rule::placeholder, text).ok()?;
    let placeholder = pairs.next()?;
    let reference = placeholder
        .into_inner()
        .find(|p| p.as_rule() == Rule::reference)?;
    Some(lower::reference_at(id, reference, offset))
}
