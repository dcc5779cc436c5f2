//! `serve --demo`: a random HS256 secret made at each start, and a token signed with it.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

/// The demo's signing key: 32 random bytes, written as 64 hex characters.
pub(crate) struct Key {
    hex: String,
}

impl Key {
    pub(crate) fn generate() -> Result<Self, String> {
        let mut bytes = [0_u8; 32];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| "cannot generate the demo secret".to_owned())?;
        let hex = bytes.iter().fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
        Ok(Self { hex })
    }

    /// The JWT secret (JSON) that verifies the demo token.
    pub(crate) fn secret_json(&self) -> String {
        json!({"type": "HS256", "key": self.hex}).to_string()
    }

    /// A token for user 1, roles `user` and `editor`, valid for an hour.
    pub(crate) fn token(&self) -> Result<String, String> {
        #[expect(clippy::disallowed_methods, reason = "the demo token's iat and exp")]
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let claims = json!({
            "sub": "1",
            "iat": now,
            "exp": now + 3600,
            "https://hasura.io/jwt/claims": {
                "x-hasura-allowed-roles": ["user", "editor"],
                "x-hasura-default-role": "user",
                "x-hasura-user-id": "1"
            }
        });
        encode(&Header::default(), &claims, &EncodingKey::from_secret(self.hex.as_bytes()))
            .map_err(|error| format!("cannot sign the demo token: {error}"))
    }
}
