//! Where a token's Hasura claims come from: a namespace or a `claims_map`
//! (docs/compatibility.md 4).

use crate::JsonPath;

/// The default `claims_namespace`.
pub const DEFAULT_CLAIMS_NAMESPACE: &str = "https://hasura.io/jwt/claims";

/// How a secret finds the Hasura claims in a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimsSource {
    /// The claims sit in one claim object (or a string holding one).
    Namespace {
        /// Where that object is.
        namespace: Namespace,
        /// Whether it is an object or a string holding one.
        format: ClaimsFormat,
    },
    /// Each session variable is mapped from a path in the claims set or given literally.
    /// When `claims_map` is set, `claims_namespace*` and `claims_format` are ignored.
    Map(ClaimsMap),
}

/// The location of the claims object among the token's unregistered claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespace {
    /// `claims_namespace`: an exact, case-sensitive top-level claim name.
    Key(String),
    /// `claims_namespace_path`: a JSON path.
    Path(JsonPath),
}

/// `claims_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimsFormat {
    /// `json` (the default): the namespace holds a JSON object.
    Json,
    /// `stringified_json`: the namespace holds a string that decodes to a JSON object.
    StringifiedJson,
}

impl ClaimsFormat {
    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::StringifiedJson => "stringified_json",
        }
    }
}

/// A `claims_map` (docs/compatibility.md 4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimsMap {
    /// `x-hasura-allowed-roles`: a list of non-empty role names.
    pub allowed_roles: ClaimValue<Vec<String>>,
    /// `x-hasura-default-role`: a non-empty role name.
    pub default_role: ClaimValue<String>,
    /// Every other entry, in document order, names lower-cased. Names are not required to start
    /// with `x-hasura-`; of names that differ only in case the last one wins.
    pub session_variables: Vec<(String, ClaimValue<String>)>,
}

/// One `claims_map` entry: a literal, or a path with an optional default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimValue<T> {
    /// The value to use, whatever the token holds.
    Literal(T),
    /// A path evaluated on the whole claims set, and the value to use when it finds nothing.
    Path {
        /// The path.
        path: JsonPath,
        /// Used when the path finds nothing (JSON `null` counts as found).
        default: Option<T>,
    },
}
