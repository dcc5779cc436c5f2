#![doc = include_str!("../README.md")]

mod algorithm;
mod claims;
mod discovery;
mod error;
mod json_path;
pub mod json_type;
mod jwk_url;
mod key;
mod location;
mod secret;
mod secret_string;
mod string_or_uri;

use serde_json::Value;

pub use algorithm::{Algorithm, KeyType};
pub use claims::{
    ClaimValue, ClaimsFormat, ClaimsMap, ClaimsSource, DEFAULT_CLAIMS_NAMESPACE, Namespace,
};
pub use discovery::{DISCOVERY_PATH, IssuerDiscovery};
pub use error::{ConfigError, ConfigErrorKind, SecretRef};
pub use json_path::{JsonPath, JsonPathError, PathStep};
pub use jwk_url::{JwkUrl, JwkUrlError};
pub use key::{EcCurve, KeyError, KeyKind, PemError, VerifyingKey};
pub use location::TokenLocation;
pub use secret::{JwtSecret, KeySource};
pub use secret_string::SecretString;
pub use string_or_uri::is_string_or_uri;

/// Parses one secret object (`--jwt-secret`, `HASURA_GRAPHQL_JWT_SECRET`).
///
/// Errors name the field as `jwt_secret.<field>`.
pub fn parse_jwt_secret(json: &str) -> Result<JwtSecret, ConfigError> {
    let value = parse_json(json, SecretRef::Single)?;
    secret::parse_secret(&value, SecretRef::Single)
}

/// Parses a JSON array of secret objects (`--jwt-secrets`, `HASURA_GRAPHQL_JWT_SECRETS`).
///
/// An empty array is an error. Identical secrets are kept once, in input order, as Hasura does.
/// Errors name the field as `jwt_secrets[<i>].<field>`, `i` counting from 0 in the input.
pub fn parse_jwt_secrets(json: &str) -> Result<Vec<JwtSecret>, ConfigError> {
    let value = parse_json(json, SecretRef::List)?;
    let Value::Array(items) = &value else {
        let error = json_type::wrong_type("[]", json_type::JsonType::Array, &value);
        return Err(ConfigError::new(SecretRef::List, "", error.into()));
    };
    if items.is_empty() {
        return Err(ConfigError::new(SecretRef::List, "", ConfigErrorKind::EmptySecretList));
    }
    let mut secrets: Vec<JwtSecret> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let parsed = secret::parse_secret(item, SecretRef::ListItem(index))?;
        if !secrets.iter().any(|kept| kept.same_config(&parsed)) {
            secrets.push(parsed);
        }
    }
    Ok(secrets)
}

fn parse_json(json: &str, secret: SecretRef) -> Result<Value, ConfigError> {
    serde_json::from_str(json).map_err(|error| {
        ConfigError::new(secret, "", ConfigErrorKind::InvalidJson(error.to_string()))
    })
}
