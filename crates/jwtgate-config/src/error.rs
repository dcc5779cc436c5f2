//! Configuration errors: which secret, which field, and Hasura's reason.

use std::fmt;

use crate::json_type::ShapeError;
use crate::{JsonPathError, JwkUrlError, KeyError};

/// Which secret of the input an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRef {
    /// The one secret of `--jwt-secret` / `HASURA_GRAPHQL_JWT_SECRET` (`jwt_secret`).
    Single,
    /// The list of `--jwt-secrets` / `HASURA_GRAPHQL_JWT_SECRETS` as a whole (`jwt_secrets`).
    List,
    /// One element of that list, 0-based (`jwt_secrets[2]`).
    ListItem(usize),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Single => f.write_str("jwt_secret"),
            Self::List => f.write_str("jwt_secrets"),
            Self::ListItem(index) => write!(f, "jwt_secrets[{index}]"),
        }
    }
}

/// A configuration that cannot be used.
///
/// `Display` names the field and gives the reason, with Hasura's message where Hasura has one:
/// `jwt_secret.key: Invalid JWK: Key size too small; should be atleast 32 characters`.
/// It never contains a key or other secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    secret: SecretRef,
    field: String,
    kind: ConfigErrorKind,
}

impl ConfigError {
    pub(crate) fn new(secret: SecretRef, field: impl Into<String>, kind: ConfigErrorKind) -> Self {
        Self { secret, field: field.into(), kind }
    }

    /// The secret the error is about.
    pub fn secret(&self) -> SecretRef {
        self.secret
    }

    /// The field within the secret, e.g. `key` or `claims_map["x-hasura-user-id"].path`;
    /// empty when the error is about the secret as a whole.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.kind
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.secret)?;
        if !self.field.is_empty() {
            write!(f, ".{}", self.field)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for ConfigError {}

/// What is wrong with a configuration; `Display` is Hasura's message where Hasura has one
/// (docs/compatibility.md 1.2, 1.3, 4.3, 4.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The text is not JSON. The reason names a position, never the text.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A value of the wrong JSON type, in aeson's words.
    #[error("{0}")]
    Shape(#[from] ShapeError),
    /// A required member is absent.
    #[error("key \"{0}\" not found")]
    MissingKey(&'static str),
    /// Both `claims_namespace` and `claims_namespace_path`.
    #[error("claims_namespace and claims_namespace_path both cannot be set")]
    BothNamespaces,
    /// Neither `key` nor `jwk_url`.
    #[error("key and jwk_url both cannot be empty")]
    NoKeySource,
    /// Both `key` and `jwk_url`.
    #[error("key, jwk_url both cannot be present")]
    BothKeySources,
    /// A `type` outside the supported list (exact case).
    #[error("Invalid JWK: Key type: {0} is not supported")]
    UnsupportedKeyType(String),
    /// A `key` that cannot be used with its `type`.
    #[error("Invalid JWK: {0}")]
    InvalidKey(#[from] KeyError),
    /// A `claims_namespace_path` outside Hasura's path grammar.
    #[error("invalid JSON path claims_namespace_path error: {0}")]
    NamespacePath(JsonPathError),
    /// A `claims_map` path outside Hasura's path grammar.
    #[error("{0}")]
    ClaimsMapPath(JsonPathError),
    /// `claims_map` lacks `x-hasura-allowed-roles` or `x-hasura-default-role` (exact lower case).
    #[error("{0} is expected but not found")]
    ClaimsMapRoleMissing(&'static str),
    /// A `claims_format` string other than `json` or `stringified_json`.
    #[error(
        "parsing JWTClaimsFormat failed, expected one of the tags [\"json\",\"stringified_json\"], but found tag {0:?}"
    )]
    ClaimsFormat(String),
    /// An `issuer` or `audience` with a `:` that is not a URI.
    #[error("failed to parse StringOrURI")]
    StringOrUri,
    /// A `jwk_url` that is not an absolute `http` or `https` URL.
    #[error("{0}")]
    JwkUrl(#[from] JwkUrlError),
    /// A `header` whose `type` is none of the three.
    #[error("expected 'type' is 'Authorization' or 'Cookie' or 'CustomHeader'")]
    HeaderType,
    /// A `header` string that does not hold a JSON object (D8).
    #[error("a header string must hold a JSON object: {0}")]
    HeaderString(String),
    /// An empty list of secrets.
    #[error("at least one secret is required, the list is empty")]
    EmptySecretList,
    /// `jwk_headers` that is not an object of string values (D21).
    #[error("jwk_headers must be an object of string values")]
    JwkHeadersShape,
    /// A `jwk_headers` member that is not an HTTP header name (D21).
    #[error("jwk_headers: invalid header name {0}")]
    JwkHeaderName(String),
    /// A `jwk_headers` value with bytes an HTTP header value cannot carry (D21); the value is
    /// never shown.
    #[error("jwk_headers: invalid header value for {0}")]
    JwkHeaderValue(String),
    /// An `issuer_discovery` that is neither `true`, `false` nor `null` (D21).
    #[error("issuer_discovery must be a boolean")]
    IssuerDiscoveryShape,
    /// `issuer_discovery: true` without an `issuer` (D21).
    #[error("issuer_discovery needs issuer")]
    IssuerDiscoveryNeedsIssuer,
    /// `issuer_discovery: true` with a `key` or a `jwk_url` (D21).
    #[error("issuer_discovery cannot be combined with key or jwk_url")]
    IssuerDiscoveryWithKey,
}

#[cfg(test)]
mod tests;
