//! The layout of the SQL regc writes: statements the emitters build on one
//! line, broken into indented lines for people who read `generated/`.
//!
//! Only whitespace between tokens changes: the tokens (words, quoted names,
//! literals, operators) come out exactly as they went in, so the statement
//! means what the emitter wrote. Spacing is normalized (none inside
//! parentheses or before a comma, one after a comma, otherwise as written),
//! which makes the layout a function of the tokens alone: laying out a
//! laid-out statement gives it back unchanged.
//!
//! The rules, in the spirit of sqlparser's pretty form:
//! * a query's clauses (`SELECT`, `FROM`, `WHERE`, `GROUP BY`, `HAVING`,
//!   `ORDER BY`, `UNION ALL`, …) start lines, their items on the lines
//!   below, indented, one per line; joins start lines inside `FROM`;
//! * a subquery in `FROM` (a derived table) is an indented query;
//! * a query's `CASE`, or a list before the query (a table's columns), that
//!   does not fit in [`WIDTH`] columns is broken: `WHEN … THEN` and `ELSE`
//!   on lines of their own with the result below, the list one item per
//!   line; everything else (expressions, scalar subqueries, calls) stays on
//!   one line.
//!
//! This is linear in the statement's length. (Printing every statement back
//! through sqlparser, as regc once did, took 80 % of a build; the check that
//! every statement parses now lives in `tests/schema.rs`.)

/// The column up to which a group stays on one line.
pub const WIDTH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Keywords, unquoted names, numbers.
    Word,
    /// `"name"` or `'text'`: never split, never re-cased.
    Quoted,
    Open,
    Close,
    Comma,
    /// Operators and other punctuation, a run of them at a time.
    Op,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    kind: Kind,
    /// A space before it when on the same line as the token before.
    space: bool,
    /// Width in characters.
    width: usize,
}

impl Tok<'_> {
    fn is(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }
}

/// `sql` laid out over lines, without a trailing `;`. Errors name what the
/// emitter got wrong: an unterminated quote, unbalanced parentheses or
/// `CASE`, a comment or a `;` inside the statement.
pub fn layout(sql: &str) -> Result<String, String> {
    let toks = lex(sql)?;
    let pairs = Pairs::of(&toks)?;
    let mut p = Printer {
        toks: &toks,
        pairs: &pairs,
        out: String::with_capacity(sql.len() + sql.len() / 2),
        col: 0,
        fresh: true,
    };
    p.query(0, toks.len(), 0);
    // A clause with nothing after it leaves an empty indented line.
    let kept = p.out.trim_end().len();
    p.out.truncate(kept);
    Ok(p.out)
}

fn lex(sql: &str) -> Result<Vec<Tok<'_>>, String> {
    let bytes = sql.as_bytes();
    let mut toks: Vec<Tok> = Vec::new();
    let mut i = 0;
    let mut blank = false;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_whitespace() {
            blank = true;
            i += 1;
            continue;
        }
        let start = i;
        let kind = match b {
            b'\'' | b'"' => {
                i = quoted_end(bytes, i)
                    .ok_or_else(|| format!("unterminated {} at byte {start}", char::from(b)))?;
                Kind::Quoted
            }
            b'(' => {
                i += 1;
                Kind::Open
            }
            b')' => {
                i += 1;
                Kind::Close
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            b';' => return Err(format!("`;` at byte {start}: one statement at a time")),
            _ if is_word_byte(b) => {
                while bytes.get(i).is_some_and(|&c| is_word_byte(c)) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                while bytes
                    .get(i)
                    .is_some_and(|&c| is_op_byte(c) && !c.is_ascii_whitespace())
                {
                    i += 1;
                }
                Kind::Op
            }
        };
        // Slicing at `start..i` is on char boundaries: both ends are at an
        // ASCII byte or at the end (words take whole UTF-8 sequences).
        let text = sql.get(start..i).unwrap_or_default();
        if kind == Kind::Op && (text.contains("--") || text.contains("/*")) {
            return Err(format!(
                "a comment at byte {start}: comments go before the statement"
            ));
        }
        let space = match (toks.last().map(|t| t.kind), kind) {
            (_, Kind::Close | Kind::Comma) | (Some(Kind::Open) | None, _) => false,
            (Some(Kind::Comma), _) => true,
            _ => blank,
        };
        toks.push(Tok {
            text,
            kind,
            space,
            width: text.chars().count(),
        });
        blank = false;
    }
    Ok(toks)
}

/// Letters (any script), digits, `_`, `$`: one word.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_op_byte(b: u8) -> bool {
    !is_word_byte(b) && !matches!(b, b'\'' | b'"' | b'(' | b')' | b',' | b';')
}

/// The index after the quote that closes the one at `i` (a doubled quote is
/// one character of the name or text).
fn quoted_end(bytes: &[u8], i: usize) -> Option<usize> {
    let q = *bytes.get(i)?;
    let mut j = i + 1;
    loop {
        if *bytes.get(j)? == q {
            if bytes.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        j += 1;
    }
}

/// The matching `)` of every `(` and `END` of every `CASE`, and the width of
/// each stretch of tokens on one line.
struct Pairs {
    close: Vec<usize>,
    /// `prefix[k]`: the width of tokens `0..k` on one line.
    prefix: Vec<usize>,
}

impl Pairs {
    fn of(toks: &[Tok]) -> Result<Pairs, String> {
        let mut close = vec![usize::MAX; toks.len()];
        // Open parentheses and CASEs, innermost last.
        let mut stack: Vec<usize> = Vec::new();
        let mut prefix = Vec::with_capacity(toks.len() + 1);
        let mut width = 0;
        prefix.push(0);
        for (i, t) in toks.iter().enumerate() {
            width += t.width + usize::from(t.space);
            prefix.push(width);
            if t.kind == Kind::Open || t.is("CASE") {
                stack.push(i);
            } else if t.kind == Kind::Close || t.is("END") {
                let opener = stack
                    .pop()
                    .ok_or_else(|| format!("unmatched `{}`", t.text))?;
                let opened_paren = toks.get(opener).is_some_and(|o| o.kind == Kind::Open);
                if opened_paren != (t.kind == Kind::Close) {
                    return Err(format!("`{}` closes a different group", t.text));
                }
                if let Some(slot) = close.get_mut(opener) {
                    *slot = i;
                }
            }
        }
        if let Some(&open) = stack.last() {
            let text = toks.get(open).map_or("", |t| t.text);
            return Err(format!("unclosed `{text}`"));
        }
        Ok(Pairs { close, prefix })
    }

    /// The width of tokens `i..=j` on one line.
    fn width(&self, toks: &[Tok], i: usize, j: usize) -> usize {
        let all =
            self.prefix.get(j + 1).copied().unwrap_or(0) - self.prefix.get(i).copied().unwrap_or(0);
        all - toks.get(i).map_or(0, |t| usize::from(t.space))
    }
}

struct Printer<'t, 'a> {
    toks: &'t [Tok<'a>],
    pairs: &'t Pairs,
    out: String,
    /// Characters on the current line.
    col: usize,
    /// Nothing on the current line but its indentation.
    fresh: bool,
}

/// Words that start a clause of a query, on a line of their own.
const CLAUSES: [&str; 9] = [
    "FROM",
    "WHERE",
    "HAVING",
    "GROUP",
    "ORDER",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "LIMIT",
];

/// Words that start a join inside `FROM`.
const JOINS: [&str; 6] = ["LEFT", "RIGHT", "FULL", "INNER", "CROSS", "NATURAL"];

impl<'t, 'a> Printer<'t, 'a> {
    fn tok(&self, i: usize) -> Option<&'t Tok<'a>> {
        self.toks.get(i)
    }

    fn is(&self, i: usize, word: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is(word))
    }

    /// Starts a line at `indent`; on a line that holds nothing yet, only
    /// changes its indentation (so no line is ever blank).
    fn newline(&mut self, indent: usize) {
        if self.out.is_empty() {
            return;
        }
        if self.fresh {
            let line_start = self.out.rfind('\n').map_or(0, |n| n + 1);
            self.out.truncate(line_start);
        } else {
            let kept = self.out.trim_end_matches(' ').len();
            self.out.truncate(kept);
            self.out.push('\n');
        }
        for _ in 0..indent {
            self.out.push_str("  ");
        }
        self.col = indent * 2;
        self.fresh = true;
    }

    fn put(&mut self, i: usize) {
        let Some(t) = self.tok(i).copied() else {
            return;
        };
        if t.space && !self.fresh {
            self.out.push(' ');
            self.col += 1;
        }
        self.out.push_str(t.text);
        self.col += t.width;
        self.fresh = false;
    }

    /// Whether tokens `i..=j`, from the current column, fit in [`WIDTH`].
    fn fits(&self, i: usize, j: usize) -> bool {
        self.col + 1 + self.pairs.width(self.toks, i, j) <= WIDTH
    }

    /// The tokens `i..j` of a statement or subquery at `indent`: its
    /// clauses start lines.
    fn query(&mut self, i: usize, j: usize, indent: usize) {
        // The clause being laid out (`None` before the first: the `CREATE
        // …` of a statement).
        let mut clause: Option<&str> = None;
        let mut k = i;
        while k < j {
            let Some(t) = self.tok(k) else {
                return;
            };
            let close = self.pairs.close.get(k).copied().unwrap_or(usize::MAX);
            if close < j && (t.kind == Kind::Open || t.is("CASE")) {
                let level = if clause.is_some() { indent + 1 } else { indent };
                if self.is(k + 1, "SELECT") && clause == Some("FROM") {
                    // A derived table: an indented query, however short.
                    self.put(k);
                    self.query(k + 1, close, level + 1);
                    self.newline(level);
                    self.put(close);
                } else if self.fits(k, close) {
                    self.flat(k, close);
                } else if t.is("CASE") {
                    self.case(k, close, level);
                } else if clause.is_none() && self.has_comma(k + 1, close) {
                    // A long list before the query: a table's columns.
                    self.list(k, close, level);
                } else {
                    self.flat(k, close);
                }
                k = close + 1;
                continue;
            }
            let (next, started) = self.clause(k, indent);
            if let Some(word) = started {
                clause = Some(word);
            }
            k = next;
        }
    }

    /// `open..=close` one item per line.
    fn list(&mut self, open: usize, close: usize, indent: usize) {
        self.put(open);
        self.newline(indent + 1);
        let mut k = open + 1;
        while k < close {
            let end = self.item_end(k, close);
            if end > k {
                self.flat(k, end - 1);
            }
            if end < close {
                self.put(end);
                self.newline(indent + 1);
            }
            k = end + 1;
        }
        self.newline(indent);
        self.put(close);
    }

    /// One token of a query at `indent` (with the words that go with it):
    /// the index of the next, and the clause it began, if it did.
    fn clause(&mut self, k: usize, indent: usize) -> (usize, Option<&'static str>) {
        let Some(t) = self.tok(k) else {
            return (k + 1, None);
        };
        if t.kind == Kind::Comma {
            self.put(k);
            self.newline(indent + 1);
            return (k + 1, None);
        }
        if t.is("SELECT") {
            self.newline(indent);
            self.put(k);
            let mut k = k + 1;
            if self.is(k, "DISTINCT") || self.is(k, "ALL") {
                self.put(k);
                k += 1;
            }
            self.newline(indent + 1);
            return (k, Some("SELECT"));
        }
        let distinct_from = self.is(k.wrapping_sub(1), "DISTINCT")
            && (self.is(k.wrapping_sub(2), "IS") || self.is(k.wrapping_sub(2), "NOT"));
        if let Some(&word) = CLAUSES.iter().find(|c| t.is(c))
            && !distinct_from
        {
            self.newline(indent);
            self.put(k);
            let mut k = k + 1;
            // GROUP BY, ORDER BY, UNION ALL: the second word goes with it.
            if ["BY", "ALL", "DISTINCT"].iter().any(|w| self.is(k, w)) {
                self.put(k);
                k += 1;
            }
            let items = !(t.is("UNION") || t.is("EXCEPT") || t.is("INTERSECT") || t.is("LIMIT"));
            if items {
                self.newline(indent + 1);
            }
            return (k, Some(word));
        }
        // `LEFT(` is a function, `LEFT JOIN` a join.
        let next_is_call = self.tok(k + 1).is_some_and(|n| n.kind == Kind::Open);
        let after_join_word = JOINS.iter().any(|w| self.is(k.wrapping_sub(1), w))
            || self.is(k.wrapping_sub(1), "OUTER");
        if (JOINS.iter().any(|w| t.is(w)) && !next_is_call) || (t.is("JOIN") && !after_join_word) {
            self.newline(indent + 1);
        }
        self.put(k);
        (k + 1, None)
    }

    /// Whether `i..j` holds a comma outside of nested groups.
    fn has_comma(&self, i: usize, j: usize) -> bool {
        self.item_end(i, j) < j
    }

    /// The index of the first comma of `i..j` outside nested groups, or `j`.
    fn item_end(&self, i: usize, j: usize) -> usize {
        let mut k = i;
        while k < j {
            match self.tok(k) {
                Some(t) if t.kind == Kind::Comma => return k,
                Some(t) if t.kind == Kind::Open || t.is("CASE") => {
                    k = self.pairs.close.get(k).copied().unwrap_or(j) + 1;
                }
                _ => k += 1,
            }
        }
        j
    }

    /// `CASE … END`, `case..=end`: `WHEN … THEN` and `ELSE` on lines of
    /// their own, each result on the line below; what they hold on one line.
    fn case(&mut self, case: usize, end: usize, indent: usize) {
        self.put(case);
        let mut k = case + 1;
        while k < end {
            let Some(t) = self.tok(k) else {
                break;
            };
            let close = self.pairs.close.get(k).copied().unwrap_or(usize::MAX);
            if (t.kind == Kind::Open || t.is("CASE")) && close < end {
                self.flat(k, close);
                k = close + 1;
                continue;
            }
            if t.is("WHEN") || t.is("ELSE") {
                self.newline(indent + 1);
            }
            self.put(k);
            if t.is("THEN") || t.is("ELSE") {
                self.newline(indent + 2);
            }
            k += 1;
        }
        self.newline(indent);
        self.put(end);
    }

    /// Tokens `i..=j` on the current line.
    fn flat(&mut self, i: usize, j: usize) {
        for k in i..=j {
            self.put(k);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn texts(sql: &str) -> Vec<String> {
        lex(sql)
            .unwrap()
            .iter()
            .map(|t| t.text.to_string())
            .collect()
    }

    #[test]
    fn lays_out_a_query_like_sqlparser_s_pretty_form() {
        let sql = "CREATE VIEW \"v\" AS SELECT b.\"unit\" AS \"unit\", CASE WHEN b.\"x\" = 'div_by_zero' THEN 'a long result that does not fit' ELSE 'another long result' END AS \"kind\" FROM (SELECT DISTINCT \"unit\", \"x\" FROM \"regc_current_submission\" WHERE \"regime\" = 'r') AS b LEFT JOIN \"t\" AS t ON t.\"unit\" = b.\"unit\" WHERE b.\"x\" IS NULL UNION ALL SELECT 1, 2";
        let expected = "\
CREATE VIEW \"v\" AS
SELECT
  b.\"unit\" AS \"unit\",
  CASE
    WHEN b.\"x\" = 'div_by_zero' THEN
      'a long result that does not fit'
    ELSE
      'another long result'
  END AS \"kind\"
FROM
  (
    SELECT DISTINCT
      \"unit\",
      \"x\"
    FROM
      \"regc_current_submission\"
    WHERE
      \"regime\" = 'r'
  ) AS b
  LEFT JOIN \"t\" AS t ON t.\"unit\" = b.\"unit\"
WHERE
  b.\"x\" IS NULL
UNION ALL
SELECT
  1,
  2";
        assert_eq!(layout(sql).unwrap(), expected);
        assert_eq!(layout(expected).unwrap(), expected);
    }

    #[test]
    fn breaks_a_long_column_list_and_keeps_a_short_one() {
        let long = format!(
            "CREATE TABLE \"t\" ({})",
            (0..8)
                .map(|i| format!("\"column_{i}\" TEXT NOT NULL"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let out = layout(&long).unwrap();
        assert!(out.starts_with("CREATE TABLE \"t\" (\n  \"column_0\" TEXT NOT NULL,\n"));
        assert!(out.ends_with("\"column_7\" TEXT NOT NULL\n)"));
        assert_eq!(
            layout("CREATE TABLE \"t\" ( \"a\" TEXT )").unwrap(),
            "CREATE TABLE \"t\" (\"a\" TEXT)"
        );
    }

    #[test]
    fn keeps_literals_and_names_as_written() {
        let sql = "SELECT 'it''s  (FROM)\n WHERE', \"a \"\" b\", x.\"y\"::TEXT FROM \"t\"";
        let out = layout(sql).unwrap();
        assert!(out.contains("'it''s  (FROM)\n WHERE'"));
        assert!(out.contains("\"a \"\" b\""));
        assert!(out.contains("x.\"y\"::TEXT"));
        assert_eq!(texts(&out), texts(sql));
    }

    #[test]
    fn a_distinct_from_is_not_a_clause() {
        let out = layout("SELECT 1 FROM \"t\" WHERE a IS NOT DISTINCT FROM b").unwrap();
        assert!(out.ends_with("WHERE\n  a IS NOT DISTINCT FROM b"));
    }

    #[test]
    fn refuses_what_it_cannot_lay_out_safely() {
        for bad in [
            "SELECT 'a",
            "SELECT \"a",
            "SELECT (1",
            "SELECT 1)",
            "SELECT CASE WHEN 1 THEN 2",
            "SELECT (CASE WHEN 1 THEN 2) END",
            "SELECT 1; SELECT 2",
            "SELECT 1 -- comment",
            "SELECT /* x */ 1",
        ] {
            assert!(layout(bad).is_err(), "{bad}");
        }
    }

    /// Random statements: balanced groups and CASEs of keywords, names,
    /// literals (with quotes, parentheses and `;` inside) and operators.
    /// (Blanks inside literals: `keeps_literals_and_names_as_written`.)
    fn statement() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            prop::sample::select(vec![
                "SELECT",
                "DISTINCT",
                "FROM",
                "WHERE",
                "GROUP BY",
                "ORDER BY",
                "HAVING",
                "UNION ALL",
                "LIMIT",
                "LEFT JOIN",
                "JOIN",
                "ON",
                "AS",
                "AND",
                "NOT",
                "IS",
                "NULL",
                ",",
                "=",
                "<=",
                "||",
                "::",
                ".",
                "*",
                "x",
                "t1",
                "42",
                "0.5",
                "COALESCE",
                "LEFT",
            ])
            .prop_map(str::to_string),
            "[a-z()',;]{0,12}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
            "[A-Za-zố.\"]{1,12}".prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
        ];
        leaf.prop_recursive(4, 120, 12, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..12).prop_map(|v| v.join(" ")),
                prop::collection::vec(inner.clone(), 0..12)
                    .prop_map(|v| format!("({})", v.join(" "))),
                prop::collection::vec(inner.clone(), 0..8)
                    .prop_map(|v| format!("(SELECT {} FROM t)", v.join(", "))),
                (inner.clone(), inner.clone(), inner)
                    .prop_map(|(a, b, c)| format!("CASE WHEN {a} THEN {b} ELSE {c} END")),
            ]
        })
    }

    proptest! {
        #[test]
        fn only_whitespace_changes_and_a_second_layout_changes_nothing(
            sql in statement(),
            spaces in "[ \n]{1,3}",
        ) {
            let messy = sql.replace(' ', &spaces);
            let once = layout(&messy).unwrap();
            prop_assert_eq!(texts(&once), texts(&messy));
            let twice = layout(&once).unwrap();
            prop_assert_eq!(&twice, &once);
            for line in once.lines() {
                prop_assert!(!line.trim().is_empty(), "a blank line in\n{}", once);
                prop_assert_eq!(line.trim_end(), line);
            }
        }
    }
}
