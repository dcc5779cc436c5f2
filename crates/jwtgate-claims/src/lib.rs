//! Hasura-compatible claims resolution: a token's verified claims to a Hasura session.
//!
//! Given a token's [`ClaimsSet`], a secret's [`ClaimsSource`] and the request's `x-hasura-role`
//! header, [`resolve`] returns the [`Session`] Hasura v2 would build, or a [`ClaimsError`] with
//! Hasura's code and exact message (docs/compatibility.md sections 4 and 5).
//!
//! No crypto and no IO: the claims are taken as verified. Paths and configuration were parsed
//! by `jwtgate-config`; resolution parses neither. In namespace mode only the namespace's members
//! are parsed, never a `serde_json::Value` of the whole payload.
//!
//! # Example
//!
//! ```
//! use jwtgate_claims::{ClaimsSet, resolve};
//! use jwtgate_config::{ClaimsFormat, ClaimsSource, Namespace};
//!
//! let payload = r#"{"sub": "1", "https://hasura.io/jwt/claims": {
//!     "x-hasura-allowed-roles": ["user", "editor"], "x-hasura-default-role": "user",
//!     "X-Hasura-User-Id": "1"}}"#;
//! let source = ClaimsSource::Namespace {
//!     namespace: Namespace::Key("https://hasura.io/jwt/claims".into()),
//!     format: ClaimsFormat::Json,
//! };
//! let claims = ClaimsSet::parse(payload)?;
//! let session = resolve(&claims, &source, Some("editor"))?;
//! assert_eq!(session.role(), "editor");
//! assert_eq!(session.get("x-hasura-user-id"), Some("1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claims_map;
mod claims_set;
mod error;
mod namespace;
mod session;

use jwtgate_config::ClaimsSource;

pub use claims_set::{ClaimsSet, ClaimsSetError, REGISTERED_CLAIMS};
pub use error::ClaimsError;
pub use session::{ROLE_VARIABLE, Session};

/// Resolves verified claims to a session.
///
/// `role_header` is the first `x-hasura-role` request header, if any; empty means absent.
pub fn resolve(
    claims: &ClaimsSet<'_>,
    source: &ClaimsSource,
    role_header: Option<&str>,
) -> Result<Session, ClaimsError> {
    match source {
        ClaimsSource::Namespace { namespace, format } => {
            namespace::resolve(claims, namespace, *format, role_header)
        }
        ClaimsSource::Map(map) => claims_map::resolve(claims, map, role_header),
    }
}
