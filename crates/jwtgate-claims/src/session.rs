//! The resolved session and the steps every mode shares: role selection and string checks
//! (docs/compatibility.md 4.5 and 4.6).

use std::borrow::Cow;

use jwtgate_config::json_type::JsonType;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::ClaimsError;

/// The session variable carrying the chosen role.
pub const ROLE_VARIABLE: &str = "x-hasura-role";
/// Removed from every session (Hasura's `mkUserInfo`).
const ADMIN_SECRET_VARIABLES: [&str; 2] = ["x-hasura-admin-secret", "x-hasura-access-key"];

/// A Hasura session: the chosen role and the session variables.
///
/// Names are lower-case, values strings, sorted by name; `x-hasura-role` is always present and
/// `x-hasura-allowed-roles` and `x-hasura-default-role` never are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    variables: Vec<(String, String)>,
}

impl Session {
    /// The chosen role.
    pub fn role(&self) -> &str {
        self.get(ROLE_VARIABLE).unwrap_or_default()
    }

    /// A session variable by lower-case name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables
            .binary_search_by(|(key, _)| key.as_str().cmp(name))
            .ok()
            .and_then(|at| self.variables.get(at))
            .map(|(_, value)| value.as_str())
    }

    /// A session from request headers rather than a token (the admin secret and unauthorized
    /// role paths of docs/server.md): `role` as `x-hasura-role`, plus `variables` (names already
    /// lower-case; for a repeated name the last counts) minus `x-hasura-role`,
    /// `x-hasura-allowed-roles`, `x-hasura-default-role` and the admin secret headers.
    pub fn from_variables<'v>(
        role: &str,
        variables: impl IntoIterator<Item = (&'v str, String)>,
    ) -> Self {
        let excluded = |name: &str| {
            name == ROLE_VARIABLE
                || name == "x-hasura-allowed-roles"
                || name == "x-hasura-default-role"
                || ADMIN_SECRET_VARIABLES.contains(&name)
        };
        let mut kept: Vec<(String, String)> = variables
            .into_iter()
            .filter(|(name, _)| !excluded(name))
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        // n log n, whatever the repeats: reversed and stably sorted, the last value of a name
        // comes first among its repeats, and `dedup_by` keeps the first.
        kept.reverse();
        kept.sort_by(|(a, _), (b, _)| a.cmp(b));
        kept.dedup_by(|(later, _), (earlier, _)| later == earlier);
        let at = kept.partition_point(|(name, _)| name.as_str() < ROLE_VARIABLE);
        kept.insert(at, (ROLE_VARIABLE.to_owned(), role.to_owned()));
        Self { variables: kept }
    }

    /// Every variable, sorted by name, `x-hasura-role` included.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &str)> {
        self.variables.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

/// A claim value as the resolver met it: raw JSON text from the token, a parsed value, or a
/// `claims_map` literal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ClaimJson<'c> {
    Raw(&'c RawValue),
    Value(&'c Value),
    Literal(&'c str),
}

impl ClaimJson<'_> {
    fn json_type(self) -> JsonType {
        match self {
            Self::Raw(raw) => JsonType::of_json_text(raw.get()),
            Self::Value(value) => JsonType::of(value),
            Self::Literal(_) => JsonType::String,
        }
    }

    fn into_string(self) -> Result<String, ClaimsError> {
        let not_a_string = || ClaimsError::NotAString { found: self.json_type() };
        match self {
            Self::Raw(raw) => serde_json::from_str(raw.get()).map_err(|_| not_a_string()),
            Self::Value(Value::String(text)) => Ok(text.clone()),
            Self::Value(_) => Err(not_a_string()),
            Self::Literal(text) => Ok(text.to_owned()),
        }
    }

    /// The value, parsed if raw (for the aeson-style role checks).
    pub(crate) fn to_value(self) -> Value {
        match self {
            // The text was validated while the payload was parsed, so it always parses again.
            Self::Raw(raw) => serde_json::from_str(raw.get()).unwrap_or(Value::Null),
            Self::Value(value) => value.clone(),
            Self::Literal(text) => Value::from(text),
        }
    }
}

/// The Hasura claims of a token, whatever the mode found them by.
pub(crate) struct HasuraClaims<'c> {
    pub(crate) allowed_roles: Vec<String>,
    pub(crate) default_role: String,
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
    let mut variables = Vec::with_capacity(claims.variables.len() + 1);
    for (name, value) in claims.variables {
        let value = value.into_string()?;
        if name != ROLE_VARIABLE && !ADMIN_SECRET_VARIABLES.contains(&name.as_ref()) {
            variables.push((name.into_owned(), value));
        }
    }
    variables.push((ROLE_VARIABLE.to_owned(), role.to_owned()));
    variables.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    Ok(Session { variables })
}

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
