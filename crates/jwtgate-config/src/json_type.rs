//! Aeson-style typed reads of JSON values, with aeson's exact error texts.
//!
//! Hasura reads its configuration and claims with aeson, so a user who gives a number where a
//! string belongs sees `parsing Text failed, expected String, but encountered Number`.
//! These helpers reproduce those texts so every crate reports the same words (docs/compatibility.md
//! Appendix A lists the byte-exact forms).

use std::fmt;

use serde_json::Value;

/// The JSON type of a value, named as aeson names it in its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
    /// A JSON string.
    String,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// `null`.
    Null,
}

impl JsonType {
    /// The type of `value`.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Object(_) => Self::Object,
            Value::Array(_) => Self::Array,
            Value::String(_) => Self::String,
            Value::Number(_) => Self::Number,
            Value::Bool(_) => Self::Boolean,
            Value::Null => Self::Null,
        }
    }

    /// The type of a valid JSON text, read from its first significant byte (for values kept
    /// as raw text).
    pub fn of_json_text(text: &str) -> Self {
        match text.trim_start().as_bytes().first() {
            Some(b'{') => Self::Object,
            Some(b'[') => Self::Array,
            Some(b'"') => Self::String,
            Some(b't' | b'f') => Self::Boolean,
            Some(b'n') => Self::Null,
            _ => Self::Number,
        }
    }

    /// The name aeson prints (`encountered Number`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Object => "Object",
            Self::Array => "Array",
            Self::String => "String",
            Self::Number => "Number",
            Self::Boolean => "Boolean",
            Self::Null => "Null",
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that did not have the shape aeson expected; `Display` is aeson's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// The value had the wrong JSON type. `parser` is the name aeson gives the target type
    /// (`Text`, `String`, `[]`, `JWTConfig`, ...).
    #[error("parsing {parser} failed, expected {expected}, but encountered {found}")]
    WrongType {
        /// aeson's name for the type being parsed.
        parser: &'static str,
        /// The JSON type that was expected.
        expected: JsonType,
        /// The JSON type that was found.
        found: JsonType,
    },
    /// A role name was the empty string.
    #[error("empty string not allowed")]
    EmptyString,
}

/// Reads a string the way aeson's `Text` instance does.
pub fn text(value: &Value) -> Result<&str, ShapeError> {
    value.as_str().ok_or_else(|| wrong_type("Text", JsonType::String, value))
}

/// Reads a role name: a non-empty string (Hasura's `RoleName` instance).
pub fn role(value: &Value) -> Result<&str, ShapeError> {
    match value.as_str() {
        Some("") => Err(ShapeError::EmptyString),
        Some(role) => Ok(role),
        None => Err(wrong_type("String", JsonType::String, value)),
    }
}

/// Reads a list of role names (Hasura's `[RoleName]`), reporting the index of a bad element.
pub fn role_list(value: &Value) -> Result<Vec<String>, (Option<usize>, ShapeError)> {
    let items = value.as_array().ok_or_else(|| (None, wrong_type("[]", JsonType::Array, value)))?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| role(item).map(str::to_owned).map_err(|error| (Some(index), error)))
        .collect()
}

/// The error aeson gives when `value` is not of the `expected` type.
pub fn wrong_type(parser: &'static str, expected: JsonType, value: &Value) -> ShapeError {
    ShapeError::WrongType { parser, expected, found: JsonType::of(value) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn messages_match_aeson() {
        assert_eq!(
            text(&json!(1)).unwrap_err().to_string(),
            "parsing Text failed, expected String, but encountered Number"
        );
        assert_eq!(
            role(&json!(true)).unwrap_err().to_string(),
            "parsing String failed, expected String, but encountered Boolean"
        );
        assert_eq!(role(&json!("")).unwrap_err().to_string(), "empty string not allowed");
        assert_eq!(
            role_list(&json!("user")).unwrap_err().1.to_string(),
            "parsing [] failed, expected Array, but encountered String"
        );
        assert_eq!(role_list(&json!(["a", ""])).unwrap_err().0, Some(1));
        assert_eq!(role_list(&json!(["a", "b"])).unwrap(), ["a", "b"]);
    }
}
