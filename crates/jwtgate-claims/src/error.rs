//! Why claims did not resolve to a session, with Hasura's codes and exact messages
//! (docs/compatibility.md 4 and Appendix A).

use jwtgate_config::json_type::{JsonType, ShapeError};

/// A claims resolution failure. `Display` is Hasura's message; [`ClaimsError::code`] its code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// `claims_namespace` names no unregistered claim.
    #[error("claims key: '{namespace}' not found")]
    NamespaceNotFound {
        /// The configured namespace.
        namespace: String,
    },
    /// `claims_namespace_path` finds nothing among the unregistered claims.
    #[error("claims not found at claims_namespace_path: '{path}'")]
    NamespacePathNotFound {
        /// The path as Hasura prints it.
        path: String,
    },
    /// `claims_format` is `json` and the namespace holds something other than an object.
    #[error("expecting a json object when claims_format is json")]
    ExpectedObject,
    /// `claims_format` is `stringified_json` and the namespace holds something other than a string.
    #[error("expecting a string when claims_format is stringified_json")]
    ExpectedString,
    /// The `stringified_json` string does not decode to a JSON object.
    #[error("expecting stringified json at: '{location}', but found: {found}")]
    NotStringifiedJson {
        /// `claims_namespace <name>` or `claims_namespace_path <path>`.
        location: String,
        /// The string found.
        found: String,
    },
    /// No `x-hasura-allowed-roles` (and, in `claims_map` mode, no default for it).
    #[error("JWT claim does not contain x-hasura-allowed-roles")]
    AllowedRolesMissing,
    /// No `x-hasura-default-role` (and, in `claims_map` mode, no default for it).
    #[error("JWT claim does not contain x-hasura-default-role")]
    DefaultRoleMissing,
    /// `x-hasura-allowed-roles` is not a list of non-empty strings.
    #[error("invalid x-hasura-allowed-roles; should be a list of roles: {0}")]
    AllowedRolesInvalid(ShapeError),
    /// `x-hasura-default-role` is not a non-empty string. Hasura's hint differs by mode:
    /// `should be a single role name` for a namespace, `should be a role` for a `claims_map` path.
    #[error("invalid x-hasura-default-role; {hint}: {error}")]
    DefaultRoleInvalid {
        /// Hasura's hint for the mode.
        hint: &'static str,
        /// The aeson reason.
        error: ShapeError,
    },
    /// A `claims_map` path found nothing and the entry has no default.
    #[error("JWT claim from claims_map, {name} not found")]
    ClaimsMapClaimMissing {
        /// The session variable name.
        name: String,
    },
    /// A session variable whose value is not a JSON string (no coercion).
    #[error("x-hasura-* claims: parsing Text failed, expected String, but encountered {found}")]
    NotAString {
        /// The JSON type found.
        found: JsonType,
    },
    /// The requested (or default) role is not among the allowed roles.
    #[error("Your requested role is not in allowed roles")]
    RoleNotAllowed,
}

impl ClaimsError {
    /// Hasura's error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AllowedRolesMissing | Self::DefaultRoleMissing => "jwt-missing-role-claims",
            Self::RoleNotAllowed => "access-denied",
            Self::NamespaceNotFound { .. }
            | Self::NamespacePathNotFound { .. }
            | Self::ExpectedObject
            | Self::ExpectedString
            | Self::NotStringifiedJson { .. }
            | Self::AllowedRolesInvalid(_)
            | Self::DefaultRoleInvalid { .. }
            | Self::ClaimsMapClaimMissing { .. }
            | Self::NotAString { .. } => "jwt-invalid-claims",
        }
    }

    /// The denial reason jwtgate counts it under (`jwtgate_denials_total`): `role` for the role
    /// claims and the requested role, `claims` for the rest.
    pub fn denial_reason(&self) -> &'static str {
        match self {
            Self::AllowedRolesMissing
            | Self::DefaultRoleMissing
            | Self::AllowedRolesInvalid(_)
            | Self::DefaultRoleInvalid { .. }
            | Self::RoleNotAllowed => "role",
            Self::NamespaceNotFound { .. }
            | Self::NamespacePathNotFound { .. }
            | Self::ExpectedObject
            | Self::ExpectedString
            | Self::NotStringifiedJson { .. }
            | Self::ClaimsMapClaimMissing { .. }
            | Self::NotAString { .. } => "claims",
        }
    }
}

#[cfg(test)]
mod tests;
