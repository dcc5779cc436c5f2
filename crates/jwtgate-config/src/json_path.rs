//! Hasura's JSON path grammar, translated once to RFC 9535 for `serde_json_path` (D9).
//!
//! Hasura accepts `$`, or an optional `$` followed by one or more elements: `.name` or `name`
//! (a letter or `_`, then letters, ASCII digits, `_` or `-`), `[123]`, `["json string"]` or
//! `['string with \' escapes']`, each bracket optionally preceded by `.`
//! (docs/compatibility.md 4.4, `Data/Parser/JSONPath.hs`). The grammar is a PEG: choices are
//! ordered and repetition is greedy, which this parser follows step by step.

use std::fmt::{self, Write as _};

use serde_json::Value;
use unicode_general_category::{GeneralCategory, get_general_category};

/// The largest array index RFC 9535 (and I-JSON) can express: 2^53 - 1.
const MAX_INDEX: u64 = (1 << 53) - 1;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object member, by exact name.
    Key(String),
    /// An array element. Indices past 2^53 - 1 never match (D9); digits past `u64` saturate.
    Index(u64),
}

/// A Hasura JSON path that did not parse. `Display` is Hasura's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input}. Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket ([\"...\"]) if there is any special character"
)]
#[non_exhaustive]
pub struct JsonPathError {
    /// The path as given.
    pub input: String,
}

/// A parsed Hasura JSON path, ready to evaluate.
///
/// Holds the steps, the RFC 9535 query compiled by `serde_json_path`, and the path re-encoded the
/// way Hasura prints paths in error messages (`$['hasura'].claims` prints as `$.hasura.claims`).
#[derive(Clone)]
pub struct JsonPath {
    source: String,
    steps: Vec<PathStep>,
    hasura_display: String,
    rfc9535: String,
    query: serde_json_path::JsonPath,
}

impl JsonPath {
    /// Parses `input` with Hasura's grammar.
    pub fn parse(input: &str) -> Result<Self, JsonPathError> {
        let error = || JsonPathError { input: input.to_owned() };
        let steps = parse_steps(input).ok_or_else(error)?;
        let rfc9535 = to_rfc9535(&steps);
        // Every translated path is valid RFC 9535; a failure here would be a translation bug,
        // reported as a configuration error rather than a panic.
        let query = serde_json_path::JsonPath::parse(&rfc9535).map_err(|_| error())?;
        Ok(Self {
            source: input.to_owned(),
            hasura_display: hasura_display(&steps),
            steps,
            rfc9535,
            query,
        })
    }

    /// The path as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The steps from the root; empty for `$`.
    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    /// The path as Hasura prints it in error messages (`encodeJSONPath`).
    pub fn hasura_display(&self) -> &str {
        &self.hasura_display
    }

    /// The equivalent RFC 9535 query text, always in bracket form (`$['x-hasura-user-id']`).
    pub fn rfc9535(&self) -> &str {
        &self.rfc9535
    }

    /// The value the path selects in `value`, if any: a Hasura path names one member or
    /// element at each step, so it selects at most one.
    pub fn select<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.query.query(value).first()
    }
}

impl fmt::Debug for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JsonPath").field(&self.source).finish()
    }
}

impl PartialEq for JsonPath {
    fn eq(&self, other: &Self) -> bool {
        self.steps == other.steps
    }
}

impl Eq for JsonPath {}

fn parse_steps(input: &str) -> Option<Vec<PathStep>> {
    if input == "$" {
        return Some(Vec::new());
    }
    let mut rest = input.strip_prefix('$').unwrap_or(input);
    let mut steps = Vec::new();
    while let Some((step, after)) = element(rest) {
        steps.push(step);
        rest = after;
    }
    (!steps.is_empty() && rest.is_empty()).then_some(steps)
}

/// `element = Key <$> (optional '.' *> name) <|> bracketElement`
fn element(input: &str) -> Option<(PathStep, &str)> {
    let after_dot = input.strip_prefix('.').unwrap_or(input);
    name(after_dot).or_else(|| bracket(input))
}

/// `name = (letter <|> '_') then many (letter <|> digit <|> '-' <|> '_')`
fn name(input: &str) -> Option<(PathStep, &str)> {
    let mut chars = input.char_indices();
    let (_, first) = chars.next()?;
    if !(is_haskell_letter(first) || first == '_') {
        return None;
    }
    let end = chars
        .find(|&(_, c)| !(is_haskell_letter(c) || c.is_ascii_digit() || c == '-' || c == '_'))
        .map_or(input.len(), |(at, _)| at);
    let (name, rest) = input.split_at(end);
    Some((PathStep::Key(name.to_owned()), rest))
}

/// attoparsec's `letter` is `Data.Char.isAlpha`: the Unicode letter categories.
fn is_haskell_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

/// `optional '.' *> '[' *> (Index <$> decimal <|> doubleQuoted <|> singleQuoted) <* ']'`
fn bracket(input: &str) -> Option<(PathStep, &str)> {
    let input = input.strip_prefix('.').unwrap_or(input);
    let inner = input.strip_prefix('[')?;
    let (step, rest) =
        index(inner).or_else(|| quoted(inner, '"')).or_else(|| quoted(inner, '\''))?;
    Some((step, rest.strip_prefix(']')?))
}

fn index(input: &str) -> Option<(PathStep, &str)> {
    let end = input.find(|c: char| !c.is_ascii_digit()).unwrap_or(input.len());
    if end == 0 {
        return None;
    }
    let (digits, rest) = input.split_at(end);
    let value = digits.bytes().fold(0_u64, |value, digit| {
        value.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
    });
    Some((PathStep::Index(value), rest))
}

/// A quoted key. Its body is gathered as JSON string text and then decoded as JSON, as Hasura
/// does; in single quotes `\'` stands for `'` and a bare `"` is escaped first.
fn quoted(input: &str, delimiter: char) -> Option<(PathStep, &str)> {
    let mut rest = input.strip_prefix(delimiter)?;
    let mut json = String::from("\"");
    loop {
        if delimiter == '\'' {
            if let Some(after) = rest.strip_prefix("\\'") {
                json.push('\'');
                rest = after;
                continue;
            }
            if let Some(after) = rest.strip_prefix('"') {
                json.push_str("\\\"");
                rest = after;
                continue;
            }
        }
        let mut chars = rest.chars();
        match chars.next()? {
            '\\' if !chars.as_str().is_empty() => {
                let escaped = chars.next()?;
                json.push('\\');
                json.push(escaped);
                rest = chars.as_str();
            }
            c if c == delimiter => {
                rest = chars.as_str();
                break;
            }
            c => {
                json.push(c);
                rest = chars.as_str();
            }
        }
    }
    json.push('"');
    let key: String = serde_json::from_str(&json).ok()?;
    Some((PathStep::Key(key), rest))
}

/// Hasura's `encodeJSONPath`: `.key` for plain ASCII names, else `["json"]`; `[n]` for indices.
fn hasura_display(steps: &[PathStep]) -> String {
    let mut out = String::from("$");
    for step in steps {
        match step {
            PathStep::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
            PathStep::Key(key) if is_plain_name(key) => {
                out.push('.');
                out.push_str(key);
            }
            PathStep::Key(key) => {
                out.push('[');
                push_aeson_string(&mut out, key);
                out.push(']');
            }
        }
    }
    out
}

fn is_plain_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A JSON string as aeson writes it: `\"`, `\\`, `\n`, `\r`, `\t`, other controls as `\u00XX`.
fn push_aeson_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 9535 text in bracket form. Shorthand would reject `-`, leading digits and `%`.
fn to_rfc9535(steps: &[PathStep]) -> String {
    let mut out = String::from("$");
    for step in steps {
        match step {
            PathStep::Index(index) if *index <= MAX_INDEX => {
                let _ = write!(out, "[{index}]");
            }
            // Out of RFC 9535's index range: a selector that matches nothing, so the path fails
            // as Hasura's would on any real array.
            PathStep::Index(_) => out.push_str("[?1==2]"),
            PathStep::Key(key) => {
                out.push_str("['");
                for c in key.chars() {
                    match c {
                        '\'' => out.push_str("\\'"),
                        '\\' => out.push_str("\\\\"),
                        '\u{8}' => out.push_str("\\b"),
                        '\u{c}' => out.push_str("\\f"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if c < ' ' => {
                            let _ = write!(out, "\\u{:04x}", u32::from(c));
                        }
                        c => out.push(c),
                    }
                }
                out.push_str("']");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
