//! The resolved session and the steps every mode shares: role selection and string checks
//! (docs/compatibility.md 4.5 and 4.6).

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use jwtgate_config::json_type::{self, JsonType, ShapeError};
use serde_json::Value;

use crate::ClaimsError;

/// The session variable carrying the chosen role.
pub const ROLE_VARIABLE: &str = "x-hasura-role";
/// Removed from every session (Hasura's `mkUserInfo`).
const ADMIN_SECRET_VARIABLES: [&str; 2] = ["x-hasura-admin-secret", "x-hasura-access-key"];

/// A Hasura session: the chosen role and the session variables.
///
/// Names are lower-case, values strings, sorted by name; `x-hasura-role` is always present and
/// `x-hasura-allowed-roles` and `x-hasura-default-role` never are.
#[derive(Clone)]
pub struct Session {
    /// Every name and value, one after another: one allocation for the whole session.
    text: String,
    /// Each variable's name and value as ranges of `text`, sorted by name.
    entries: Vec<(Range<usize>, Range<usize>)>,
}

impl Session {
    /// The chosen role.
    pub fn role(&self) -> &str {
        self.get(ROLE_VARIABLE).unwrap_or_default()
    }

    /// A session variable by lower-case name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .binary_search_by(|(key, _)| self.slice(key).cmp(name))
            .ok()
            .and_then(|at| self.entries.get(at))
            .map(|(_, value)| self.slice(value))
    }

    /// A session from request headers rather than a token (the admin secret and unauthorized
    /// role paths of docs/server.md): `role` as `x-hasura-role`, plus `variables` (names already
    /// lower-case; for a repeated name the last counts) minus `x-hasura-role`,
    /// `x-hasura-allowed-roles`, `x-hasura-default-role` and the admin secret headers.
    pub fn from_variables<'v, V: AsRef<str>>(
        role: &str,
        variables: impl IntoIterator<Item = (&'v str, V)>,
    ) -> Self {
        let excluded = |name: &str| {
            name == ROLE_VARIABLE
                || name == "x-hasura-allowed-roles"
                || name == "x-hasura-default-role"
                || ADMIN_SECRET_VARIABLES.contains(&name)
        };
        let mut kept: Vec<(&str, V)> =
            variables.into_iter().filter(|(name, _)| !excluded(name)).collect();
        // n log n, whatever the repeats: reversed and stably sorted, the last value of a name
        // comes first among its repeats, and `dedup_by` keeps the first.
        kept.reverse();
        kept.sort_by_key(|(name, _)| *name);
        kept.dedup_by(|(later, _), (earlier, _)| later == earlier);
        let at = kept.partition_point(|(name, _)| *name < ROLE_VARIABLE);
        let (before, after) = kept.split_at(at);
        let length = |part: &[(&str, V)]| {
            part.iter().map(|(name, value)| name.len() + value.as_ref().len()).sum::<usize>()
        };
        let mut builder = Builder {
            text: String::with_capacity(
                length(before) + ROLE_VARIABLE.len() + role.len() + length(after),
            ),
            entries: Vec::with_capacity(kept.len() + 1),
        };
        let role = (ROLE_VARIABLE, role);
        let sorted = before
            .iter()
            .map(|(name, value)| (*name, value.as_ref()))
            .chain(std::iter::once(role))
            .chain(after.iter().map(|(name, value)| (*name, value.as_ref())));
        for (name, value) in sorted {
            builder.push(name, value);
        }
        Session { text: builder.text, entries: builder.entries }
    }

    /// Every variable, sorted by name, `x-hasura-role` included.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(name, value)| (self.slice(name), self.slice(value)))
    }

    fn slice(&self, range: &Range<usize>) -> &str {
        self.text.get(range.clone()).unwrap_or_default()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.variables()).finish()
    }
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        self.variables().eq(other.variables())
    }
}

impl Eq for Session {}

/// A session under construction: text appended, entries sorted once at the end.
struct Builder {
    text: String,
    entries: Vec<(Range<usize>, Range<usize>)>,
}

impl Builder {
    fn with_capacity(variables: usize) -> Self {
        Self { text: String::with_capacity(variables * 40), entries: Vec::with_capacity(variables) }
    }

    fn push(&mut self, name: &str, value: &str) {
        let name = self.append(name);
        let value = self.append(value);
        self.entries.push((name, value));
    }

    fn append(&mut self, part: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(part);
        start..self.text.len()
    }

    /// Sorts by name, stably.
    fn sort(&mut self) {
        let text = &self.text;
        self.entries.sort_by(|(a, _), (b, _)| text.get(a.clone()).cmp(&text.get(b.clone())));
    }

    /// The session, its entries sorted by name.
    fn finish(mut self) -> Session {
        self.sort();
        Session { text: self.text, entries: self.entries }
    }
}

/// A claim value as the resolver met it: raw JSON text from the token, a parsed value, or a
/// `claims_map` literal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ClaimJson<'c> {
    /// JSON text from the token, validated when the payload was parsed.
    Raw(&'c str),
    Value(&'c Value),
    Literal(&'c str),
}

impl<'c> ClaimJson<'c> {
    fn json_type(self) -> JsonType {
        match self {
            Self::Raw(raw) => JsonType::of_json_text(raw),
            Self::Value(value) => JsonType::of(value),
            Self::Literal(_) => JsonType::String,
        }
    }

    /// The value as a string, borrowed where it has no escapes.
    fn as_text(self) -> Result<Cow<'c, str>, ClaimsError> {
        let not_a_string = || ClaimsError::NotAString { found: self.json_type() };
        match self {
            Self::Raw(raw) => crate::claims_set::text_of(raw).ok_or_else(not_a_string),
            Self::Value(Value::String(text)) => Ok(Cow::Borrowed(text)),
            Self::Value(_) => Err(not_a_string()),
            Self::Literal(text) => Ok(Cow::Borrowed(text)),
        }
    }

    /// The value read as Hasura's `[RoleName]`: from the token's text directly when it is a
    /// list of non-empty strings, else through the parsed value for aeson's error.
    pub(crate) fn role_list(self) -> Result<Vec<Cow<'c, str>>, ClaimsError> {
        if let Self::Raw(raw) = self
            && let Ok(roles) = serde_json::from_str::<Vec<Text<'c>>>(raw)
            && roles.iter().all(|Text(role)| !role.is_empty())
        {
            return Ok(roles.into_iter().map(|Text(role)| role).collect());
        }
        if let Self::Value(Value::Array(items)) = self
            && let Some(roles) = items
                .iter()
                .map(|item| item.as_str().filter(|role| !role.is_empty()).map(Cow::Borrowed))
                .collect::<Option<Vec<_>>>()
        {
            return Ok(roles);
        }
        json_type::role_list(&self.to_value())
            .map(|roles| roles.into_iter().map(Cow::Owned).collect())
            .map_err(|(_, error)| ClaimsError::AllowedRolesInvalid(error))
    }

    /// The value read as one role name: borrowed when it is a non-empty string, else the error
    /// `invalid` makes of aeson's.
    pub(crate) fn role(
        self,
        invalid: impl FnOnce(ShapeError) -> ClaimsError,
    ) -> Result<Cow<'c, str>, ClaimsError> {
        match self.as_text() {
            Ok(role) if !role.is_empty() => Ok(role),
            _ => match json_type::role(&self.to_value()) {
                Ok(role) => Ok(Cow::Owned(role.to_owned())),
                Err(error) => Err(invalid(error)),
            },
        }
    }

    /// The value, parsed if raw (for the aeson-style role checks).
    pub(crate) fn to_value(self) -> Value {
        match self {
            // The text was validated while the payload was parsed, so it always parses again.
            Self::Raw(raw) => serde_json::from_str(raw).unwrap_or(Value::Null),
            Self::Value(value) => value.clone(),
            Self::Literal(text) => Value::from(text),
        }
    }
}

/// The Hasura claims of a token, whatever the mode found them by.
pub(crate) struct HasuraClaims<'c> {
    pub(crate) allowed_roles: Vec<Cow<'c, str>>,
    pub(crate) default_role: Cow<'c, str>,
    /// Lower-case names, without the two role claims; the last of a repeated name counts.
    pub(crate) variables: Vec<(Cow<'c, str>, ClaimJson<'c>)>,
}

/// Chooses the role and checks the variables, in Hasura's order: the requested role (the
/// non-empty `x-hasura-role` header, else the default) must be allowed, then every variable must
/// be a string.
pub(crate) fn finish(
    claims: HasuraClaims<'_>,
    role_header: Option<&str>,
) -> Result<Session, ClaimsError> {
    let role = role_header.filter(|role| !role.is_empty()).unwrap_or(&claims.default_role);
    if !claims.allowed_roles.iter().any(|allowed| allowed == role) {
        return Err(ClaimsError::RoleNotAllowed);
    }
    let mut session = Builder::with_capacity(claims.variables.len() + 1);
    for (name, value) in claims.variables {
        let value = value.as_text()?;
        if name != ROLE_VARIABLE && !ADMIN_SECRET_VARIABLES.contains(&name.as_ref()) {
            session.push(&name, &value);
        }
    }
    session.push(ROLE_VARIABLE, role);
    Ok(session.finish())
}

/// A JSON string, borrowed from the token unless it has escapes.
#[derive(serde::Deserialize)]
pub(crate) struct Text<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);

#[cfg(test)]
mod tests {
    use super::*;

    fn session(role: &str, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let variables = pairs.iter().map(|&(name, value)| (name, value.to_owned()));
        Session::from_variables(role, variables)
            .variables()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|&(name, value)| (name.to_owned(), value.to_owned())).collect()
    }

    #[test]
    fn from_variables_keeps_the_last_of_a_name_sorted_with_the_role() {
        let got = session(
            "user",
            &[
                ("x-hasura-b", "1"),
                ("x-hasura-a", "first"),
                ("x-hasura-role", "admin"),
                ("x-hasura-allowed-roles", "x"),
                ("x-hasura-default-role", "x"),
                ("x-hasura-admin-secret", "s"),
                ("x-hasura-access-key", "s"),
                ("x-hasura-a", "second"),
                ("x-hasura-z", "z"),
                ("x-hasura-a", "third"),
                ("x-hasura-b", "2"),
            ],
        );
        let want = owned(&[
            ("x-hasura-a", "third"),
            ("x-hasura-b", "2"),
            ("x-hasura-role", "user"),
            ("x-hasura-z", "z"),
        ]);
        assert_eq!(got, want);
        assert_eq!(session("anonymous", &[]), owned(&[("x-hasura-role", "anonymous")]));
    }

    #[test]
    fn many_variables_with_repeats() {
        // 20 000 pairs over 10 000 names, every name twice: the second value wins.
        let names: Vec<String> = (0..10_000).map(|i| format!("x-hasura-v{i:05}")).collect();
        let pairs = names
            .iter()
            .map(|name| (name.as_str(), "old".to_owned()))
            .chain(names.iter().rev().map(|name| (name.as_str(), name.clone())));
        let built = Session::from_variables("user", pairs);
        assert_eq!(built.variables().count(), 10_001);
        assert!(built.variables().all(|(name, value)| name == ROLE_VARIABLE || name == value));
        assert_eq!(built.get("x-hasura-v04242"), Some("x-hasura-v04242"));
        assert_eq!(built.role(), "user");
    }
}
