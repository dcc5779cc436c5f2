//! Namespace mode: the Hasura claims sit in one claim object, or a string holding one
//! (docs/compatibility.md 4.2).

use std::borrow::Cow;

use jwtgate_config::json_type::ShapeError;
use jwtgate_config::{ClaimsFormat, JsonPath, Namespace};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::claims_set::Members;
use crate::session::{self, ClaimJson, HasuraClaims};
use crate::valid_json;
use crate::{ClaimsError, ClaimsSet, Session};

const PREFIX: &str = "x-hasura-";
const ALLOWED_ROLES: &str = "x-hasura-allowed-roles";
const DEFAULT_ROLE: &str = "x-hasura-default-role";

pub(crate) fn resolve(
    claims: &ClaimsSet<'_>,
    namespace: &Namespace,
    format: ClaimsFormat,
    role_header: Option<&str>,
) -> Result<Session, ClaimsError> {
    match namespace {
        Namespace::Key(key) => {
            let raw = claims
                .unregistered()
                .filter(|(name, _)| name == key)
                .last()
                .map(|(_, raw)| raw)
                .ok_or_else(|| ClaimsError::NamespaceNotFound { namespace: key.clone() })?;
            from_raw(raw, format, || format!("claims_namespace {key}"), role_header)
        }
        Namespace::Path(path) => {
            let unregistered = claims.unregistered_value();
            let found = path.select(&unregistered).ok_or_else(|| {
                ClaimsError::NamespacePathNotFound { path: path.hasura_display().to_owned() }
            })?;
            from_value(found, format, path, role_header)
        }
    }
}

/// The namespace found as raw token text: parsed no further than its members.
fn from_raw(
    raw: &RawValue,
    format: ClaimsFormat,
    location: impl Fn() -> String,
    role_header: Option<&str>,
) -> Result<Session, ClaimsError> {
    match format {
        ClaimsFormat::Json => {
            // Validated with the payload: read by scanning, not parsed again.
            let members =
                valid_json::object_members(raw.get()).ok_or(ClaimsError::ExpectedObject)?;
            let members = members.iter().map(|(name, raw)| (name.as_ref(), ClaimJson::Raw(raw)));
            session::finish(hasura_claims(members)?, role_header)
        }
        ClaimsFormat::StringifiedJson => {
            let Ok(text) = serde_json::from_str::<String>(raw.get()) else {
                return Err(ClaimsError::ExpectedString);
            };
            from_stringified(&text, location, role_header)
        }
    }
}

/// The namespace found by a path, already a [`Value`].
fn from_value(
    found: &Value,
    format: ClaimsFormat,
    path: &JsonPath,
    role_header: Option<&str>,
) -> Result<Session, ClaimsError> {
    match (format, found) {
        (ClaimsFormat::Json, Value::Object(object)) => {
            let members =
                object.iter().map(|(name, value)| (name.as_str(), ClaimJson::Value(value)));
            session::finish(hasura_claims(members)?, role_header)
        }
        (ClaimsFormat::StringifiedJson, Value::String(text)) => {
            let location = || format!("claims_namespace_path {}", path.hasura_display());
            from_stringified(text, location, role_header)
        }
        (ClaimsFormat::Json, _) => Err(ClaimsError::ExpectedObject),
        (ClaimsFormat::StringifiedJson, _) => Err(ClaimsError::ExpectedString),
    }
}

/// A `stringified_json` namespace: the string must hold a JSON object.
fn from_stringified(
    text: &str,
    location: impl Fn() -> String,
    role_header: Option<&str>,
) -> Result<Session, ClaimsError> {
    let Ok(Members(members)) = serde_json::from_str(text) else {
        return Err(ClaimsError::NotStringifiedJson {
            location: location(),
            found: text.to_owned(),
        });
    };
    let members = members.iter().map(|(name, raw)| (name.as_ref(), ClaimJson::Raw(raw.get())));
    session::finish(hasura_claims(members)?, role_header)
}

/// Keeps the `x-hasura-*` members (prefix compared case-insensitively, names lower-cased; of
/// names equal but for case the last wins, D14) and reads the two role claims.
fn hasura_claims<'c>(
    members: impl Iterator<Item = (&'c str, ClaimJson<'c>)>,
) -> Result<HasuraClaims<'c>, ClaimsError> {
    let mut variables: Vec<(Cow<'c, str>, ClaimJson<'c>)> = Vec::new();
    for (name, value) in members {
        let is_session_variable =
            name.get(..PREFIX.len()).is_some_and(|prefix| prefix.eq_ignore_ascii_case(PREFIX));
        if !is_session_variable {
            continue;
        }
        // Names are ASCII in practice: checked byte-wise, and lower-cased by Unicode otherwise.
        let upper = if name.is_ascii() {
            name.bytes().any(|byte| byte.is_ascii_uppercase())
        } else {
            name.chars().any(char::is_uppercase)
        };
        let name = if upper { Cow::Owned(name.to_lowercase()) } else { Cow::Borrowed(name) };
        variables.retain(|(existing, _)| *existing != name);
        variables.push((name, value));
    }
    let take = |variables: &mut Vec<(Cow<'c, str>, ClaimJson<'c>)>, wanted: &str| {
        let at = variables.iter().position(|(name, _)| name == wanted)?;
        Some(variables.remove(at).1)
    };
    let allowed = take(&mut variables, ALLOWED_ROLES);
    let default = take(&mut variables, DEFAULT_ROLE);
    let allowed_roles = allowed.ok_or(ClaimsError::AllowedRolesMissing)?.role_list()?;
    let default_role =
        default.ok_or(ClaimsError::DefaultRoleMissing)?.role(|error: ShapeError| {
            ClaimsError::DefaultRoleInvalid { hint: "should be a single role name", error }
        })?;
    Ok(HasuraClaims { allowed_roles, default_role, variables })
}
