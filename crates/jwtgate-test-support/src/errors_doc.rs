//! `docs/errors.md` as tables a test checks error types against: every error a crate can produce
//! must match a row of its table, and every row must be matched by some error, so neither a new
//! error nor a changed message nor a stale row gets past the tests.
//!
//! A table is the first Markdown table under a heading. Its `message` column holds, in the first
//! code span, the message with each variable part written as `<name>`; an optional `code` column
//! holds Hasura's error code in a code span.

use std::fs;
use std::path::{Path, PathBuf};

/// `docs/errors.md` of the workspace.
pub fn errors_doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md")
}

/// One documented error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Hasura's code, when the table has a `code` column.
    pub code: Option<String>,
    /// The message, with `<...>` for each variable part.
    pub pattern: String,
}

/// An error as the code renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Hasura's code, for errors that have one.
    pub code: Option<String>,
    /// The exact message.
    pub message: String,
}

impl Rendered {
    /// An error with a Hasura code.
    pub fn coded(code: &str, message: impl Into<String>) -> Self {
        Self { code: Some(code.to_owned()), message: message.into() }
    }

    /// An error without a code (configuration, body and key set errors).
    pub fn plain(message: impl Into<String>) -> Self {
        Self { code: None, message: message.into() }
    }
}

/// The rows of the first table under the heading whose text is `heading`.
///
/// # Panics
/// When the document cannot be read, has no such heading, or the table lacks a `message` column.
pub fn table(heading: &str) -> Vec<Row> {
    let path = errors_doc_path();
    let text =
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    table_in(&text, heading)
}

/// [`table`] over a given text.
///
/// # Panics
/// As [`table`].
pub fn table_in(text: &str, heading: &str) -> Vec<Row> {
    let mut lines = text.lines().skip_while(|line| line.trim_start_matches('#').trim() != heading);
    assert!(lines.next().is_some(), "docs/errors.md has no heading {heading:?}");
    let mut table = lines
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .map(cells);
    let header = table.next().unwrap_or_else(|| panic!("no table under {heading:?}"));
    let column = |name: &str| header.iter().position(|cell| cell == name);
    let message =
        column("message").unwrap_or_else(|| panic!("no message column under {heading:?}"));
    let code = column("code");
    table
        .skip(1)
        .map(|row| Row {
            code: code.map(|index| first_code_span(&row[index])),
            pattern: first_code_span(&row[message]),
        })
        .collect()
}

/// Splits a table line at its unescaped `|`, unescaping `\|`.
fn cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            _ => cell.push(c),
        }
    }
    cells
}

/// The first code span of a cell, as `CommonMark` reads it: opened by a run of backticks, closed by
/// the next run of the same length (so ``` ``a `b` c`` ``` holds backticks), one space stripped
/// from each end when both are there.
fn first_code_span(cell: &str) -> String {
    let start = cell.find('`').unwrap_or_else(|| panic!("no code span in {cell:?}"));
    let fence = cell[start..].len() - cell[start..].trim_start_matches('`').len();
    let content_start = start + fence;
    let mut at = content_start;
    while let Some(found) = cell[at..].find('`') {
        let run_start = at + found;
        let run = cell[run_start..].len() - cell[run_start..].trim_start_matches('`').len();
        if run == fence {
            let content = &cell[content_start..run_start];
            let stripped = content
                .strip_prefix(' ')
                .and_then(|inner| inner.strip_suffix(' '))
                .filter(|inner| !inner.is_empty());
            return stripped.unwrap_or(content).to_owned();
        }
        at = run_start + run;
    }
    panic!("unclosed code span in {cell:?}")
}

/// Whether `message` is an instance of `pattern`, each `<...>` standing for any non-empty text.
pub fn matches(pattern: &str, message: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('<') {
        match rest[start..].find('>') {
            Some(end) => {
                pieces.push(&rest[..start]);
                rest = &rest[start + end + 1..];
            }
            None => break,
        }
    }
    pieces.push(rest);
    if pieces.len() == 1 {
        return pattern == message;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    let Some(mut remaining) = message.strip_prefix(first) else { return false };
    let Some(end) = remaining.len().checked_sub(last.len()) else { return false };
    if !remaining.ends_with(last) {
        return false;
    }
    remaining = &remaining[..end];
    // Each placeholder takes at least one character; the literal pieces between them appear in
    // order (the leftmost choice is enough for messages whose literals do not repeat).
    for piece in &pieces[1..pieces.len() - 1] {
        let Some(found) = remaining.get(1..).and_then(|after| after.find(piece)) else {
            return false;
        };
        remaining = &remaining[1 + found + piece.len()..];
    }
    !remaining.is_empty()
}

/// Checks the errors against the table under `heading`: each error matches a row with its code,
/// and each row is matched by at least one error.
///
/// # Panics
/// With every undocumented error and every row no error matched.
pub fn assert_documented(heading: &str, errors: &[Rendered]) {
    let rows = table(heading);
    let matching = |error: &Rendered, row: &Row| {
        row.code.as_deref() == error.code.as_deref() && matches(&row.pattern, &error.message)
    };
    let undocumented: Vec<String> = errors
        .iter()
        .filter(|error| !rows.iter().any(|row| matching(error, row)))
        .map(|error| format!("  {:?} `{}`", error.code.as_deref().unwrap_or(""), error.message))
        .collect();
    let unused: Vec<String> = rows
        .iter()
        .filter(|row| !errors.iter().any(|error| matching(error, row)))
        .map(|row| format!("  {:?} `{}`", row.code.as_deref().unwrap_or(""), row.pattern))
        .collect();
    assert!(
        undocumented.is_empty() && unused.is_empty(),
        "docs/errors.md \"{heading}\" is out of date.\nErrors without a row:\n{}\nRows no error \
         matches:\n{}",
        undocumented.join("\n"),
        unused.join("\n"),
    );
}

/// Checks that the examples a test renders reach every variant of an enum: `variants` are the
/// indices an exhaustive `match` gives the examples, `count` how many variants there are.
///
/// # Panics
/// Naming the first variant without an example.
pub fn assert_every_variant(name: &str, variants: impl IntoIterator<Item = usize>, count: usize) {
    let seen: Vec<usize> = variants.into_iter().collect();
    if let Some(missing) = (0..count).find(|variant| !seen.contains(variant)) {
        panic!("{name} variant {missing} has no example");
    }
}

#[cfg(test)]
mod tests {
    use super::{matches, table_in};

    #[test]
    fn placeholders_stand_for_non_empty_text() {
        assert!(matches("claims key: '<ns>' not found", "claims key: 'hasura' not found"));
        assert!(!matches("claims key: '<ns>' not found", "claims key: '' not found"));
        assert!(!matches("claims key: '<ns>' not found", "claims key: 'x' is missing"));
        assert!(matches("got <n>)", "got 4)"));
        assert!(matches("<a> and <b>", "x and y"));
        assert!(!matches("<a> and <b>", "x and "));
        assert!(matches("JWTExpired", "JWTExpired"));
        assert!(!matches("JWTExpired", "JWTExpired "));
    }

    #[test]
    fn reads_the_first_table_under_a_heading() {
        let text = "# Errors\n\n## One\n\nText.\n\n| code | message | when |\n|---|---|---|\n\
                    | `a-b` | `x \\| <y>` and `z` | now |\n| `c` | `w` | then |\n\nAfter.\n\n\
                    ## Two\n\n| message |\n|---|\n| `v` |\n";
        let one = table_in(text, "One");
        assert_eq!(one.len(), 2);
        assert_eq!(one[0].code.as_deref(), Some("a-b"));
        assert_eq!(one[0].pattern, "x | <y>");
        assert_eq!(table_in(text, "Two")[0].pattern, "v");
        let ticks = "## T\n\n| message |\n|---|\n| `` member `kty` is missing `` |\n";
        assert_eq!(table_in(ticks, "T")[0].pattern, "member `kty` is missing");
    }
}
