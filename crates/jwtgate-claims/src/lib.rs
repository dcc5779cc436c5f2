#![doc = include_str!("../README.md")]

mod claims_map;
mod claims_set;
mod error;
mod namespace;
mod session;
mod valid_json;

use jwtgate_config::ClaimsSource;

pub use claims_set::{ClaimsSet, ClaimsSetError, REGISTERED_CLAIMS, raw_text};
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
