//! `claims_map` mode: each session variable from a path in the whole claims set, a default or a
//! literal (docs/compatibility.md 4.3).

use std::borrow::Cow;

use jwtgate_config::{ClaimValue, ClaimsMap, JsonPath, PathStep};

use crate::session::{self, ClaimJson, HasuraClaims};
use crate::{ClaimsError, ClaimsSet, Session};

pub(crate) fn resolve(
    claims: &ClaimsSet<'_>,
    map: &ClaimsMap,
    role_header: Option<&str>,
) -> Result<Session, ClaimsError> {
    // Only the members the paths start from are parsed (per request, the rest of the payload
    // stays raw text); a path starting elsewhere (`$`, an index) needs them all.
    let needed = first_members(map);
    let whole = claims.to_value_of(needed.as_deref());
    let find = |path: &JsonPath| path.select(&whole);

    let allowed_roles = match &map.allowed_roles {
        ClaimValue::Literal(roles) => {
            roles.iter().map(|role| Cow::Borrowed(role.as_str())).collect()
        }
        ClaimValue::Path { path, default } => match find(path) {
            Some(found) => ClaimJson::Value(found).role_list()?,
            None => default
                .as_ref()
                .map(|roles| roles.iter().map(|role| Cow::Borrowed(role.as_str())).collect())
                .ok_or(ClaimsError::AllowedRolesMissing)?,
        },
    };
    let default_role = match &map.default_role {
        ClaimValue::Literal(role) => Cow::Borrowed(role.as_str()),
        ClaimValue::Path { path, default } => match find(path) {
            Some(found) => ClaimJson::Value(found).role(|error| {
                ClaimsError::DefaultRoleInvalid { hint: "should be a role", error }
            })?,
            None => default.as_deref().map(Cow::Borrowed).ok_or(ClaimsError::DefaultRoleMissing)?,
        },
    };
    let mut variables = Vec::with_capacity(map.session_variables.len());
    for (name, entry) in &map.session_variables {
        let value = match entry {
            ClaimValue::Literal(text) => ClaimJson::Literal(text),
            ClaimValue::Path { path, default } => match (find(path), default) {
                (Some(found), _) => ClaimJson::Value(found),
                (None, Some(text)) => ClaimJson::Literal(text),
                (None, None) => {
                    return Err(ClaimsError::ClaimsMapClaimMissing { name: name.clone() });
                }
            },
        };
        variables.push((Cow::Borrowed(name.as_str()), value));
    }
    session::finish(HasuraClaims { allowed_roles, default_role, variables }, role_header)
}

/// The top-level members the map's paths start from, or `None` when some path starts elsewhere.
fn first_members(map: &ClaimsMap) -> Option<Vec<&str>> {
    let paths = [path_of(&map.allowed_roles), path_of(&map.default_role)]
        .into_iter()
        .chain(map.session_variables.iter().map(|(_, value)| path_of(value)))
        .flatten();
    let mut names: Vec<&str> = Vec::new();
    for path in paths {
        match path.steps().first() {
            Some(PathStep::Key(name)) => {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
            _ => return None,
        }
    }
    Some(names)
}

fn path_of<T>(value: &ClaimValue<T>) -> Option<&JsonPath> {
    match value {
        ClaimValue::Path { path, .. } => Some(path),
        ClaimValue::Literal(_) => None,
    }
}
