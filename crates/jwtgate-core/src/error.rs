//! Every way authentication fails, and the one mapping to Hasura's code, message and jwtgate's
//! HTTP status (docs/compatibility.md Appendix A; docs/server.md "Failure").

use jwtgate_claims::{ClaimsError, ClaimsSetError};
use jwtgate_config::json_type::ShapeError;

/// The largest token jwtgate decodes.
pub const MAX_TOKEN_BYTES: usize = 65536;

/// Why a request was not authenticated. `Display` is Hasura's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No token presented, no admin secret header and no unauthorized role.
    #[error("Missing 'Authorization' or 'Cookie' header in JWT authentication mode")]
    MissingToken,
    /// An `Authorization` header that is not `Bearer <one token>`.
    #[error("Malformed Authorization header")]
    MalformedAuthorization,
    /// Two or more (secret, token) pairs passed the issuer pre-match (section 6).
    #[error("Could not verify JWT: Multiple JWTs found")]
    MultipleTokens,
    /// The token failed decoding, signature or registered-claim checks.
    #[error("Could not verify JWT: {0}")]
    Jwt(#[from] JwtError),
    /// The verified claims do not make a session.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// An admin secret header that does not match the configured admin secret.
    #[error("invalid x-hasura-admin-secret/x-hasura-access-key")]
    InvalidAdminSecret,
}

impl AuthError {
    /// Hasura's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken | Self::MalformedAuthorization | Self::MultipleTokens => {
                "invalid-headers"
            }
            Self::Jwt(_) => "invalid-jwt",
            Self::Claims(error) => error.code(),
            Self::InvalidAdminSecret => "access-denied",
        }
    }

    /// The denial reason, one of a closed list, for `jwtgate_denials_total{code,reason}`:
    /// `expired`, `not_yet_valid`, `bad_signature`, `no_usable_keys`, `audience`, `issuer`,
    /// `malformed`, `ambiguous`, `claims`, `role`, `admin_secret` or `no_credentials`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MissingToken => "no_credentials",
            Self::MalformedAuthorization => "malformed",
            Self::MultipleTokens => "ambiguous",
            Self::Jwt(error) => error.reason(),
            Self::Claims(error) => error.denial_reason(),
            Self::InvalidAdminSecret => "admin_secret",
        }
    }

    /// The HTTP status jwtgate answers with: 401 for every denial (D3).
    pub fn status(&self) -> http::StatusCode {
        http::StatusCode::UNAUTHORIZED
    }

    /// Whether a token was presented (the `WWW-Authenticate` header says `invalid_token` then).
    pub fn token_presented(&self) -> bool {
        !matches!(self, Self::MissingToken | Self::InvalidAdminSecret)
    }

    /// The `WWW-Authenticate` challenge of the 401 answer (RFC 6750 section 3):
    /// `Bearer error="invalid_token"` when a token was presented, else `Bearer`.
    pub fn www_authenticate(&self) -> http::HeaderValue {
        static BEARER: http::HeaderValue = http::HeaderValue::from_static("Bearer");
        static INVALID_TOKEN: http::HeaderValue =
            http::HeaderValue::from_static("Bearer error=\"invalid_token\"");
        if self.token_presented() { INVALID_TOKEN.clone() } else { BEARER.clone() }
    }

    /// Hasura's error body for this denial: `{"error":"<message>","path":"$","code":"<code>"}`.
    pub fn hasura_body(&self) -> String {
        hasura_error_body(&self.to_string(), self.code())
    }
}

/// Hasura's error shape, `{"error":"<message>","path":"$","code":"<code>"}` in that key order,
/// as compact JSON.
pub fn hasura_error_body(message: &str, code: &str) -> String {
    let text = |text: &str| serde_json::Value::String(text.to_owned());
    format!(r#"{{"error":{},"path":"$","code":{}}}"#, text(message), text(code))
}

/// A token-level failure; `Display` is the part after `Could not verify JWT: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Longer than [`MAX_TOKEN_BYTES`]; rejected before decoding.
    #[error("token larger than 65536 bytes")]
    TooLarge,
    /// Not three dot-separated parts.
    #[error("JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got {0})")]
    PartCount(usize),
    /// A part that is not UTF-8 (parts numbered from 0, as jose does).
    #[error("JWSError (CompactDecodeError Invalid text: Invalid text at part {0}: not UTF-8)")]
    InvalidText(usize),
    /// Bad base64url, or a header that is not a JWS header jwtgate can act on.
    #[error("JWSError (JSONDecodeError {:?})", .0.to_string())]
    JsonDecode(JwsDecodeError),
    /// The payload is not a JWT claims set.
    #[error("JWTClaimsSetDecodeError {:?}", .0.to_string())]
    ClaimsSetDecode(ClaimsSetError),
    /// `alg: none`.
    #[error("JWSError JWSNoSignatures")]
    NoSignatures,
    /// No key to try (an empty key set).
    #[error("JWSError NoUsableKeys")]
    NoUsableKeys,
    /// No key verified the signature.
    #[error("JWSError JWSInvalidSignature")]
    InvalidSignature,
    /// `exp` has passed.
    #[error("JWTExpired")]
    Expired,
    /// `nbf` is in the future.
    #[error("JWTNotYetValid")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("JWTIssuedAtFuture")]
    IssuedAtFuture,
    /// `iss` is not the configured issuer.
    #[error("JWTNotInIssuer")]
    NotInIssuer,
    /// No `aud` value is a configured audience.
    #[error("JWTNotInAudience")]
    NotInAudience,
}

impl JwtError {
    /// The denial reason ([`AuthError::reason`]).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge
            | Self::PartCount(_)
            | Self::InvalidText(_)
            | Self::JsonDecode(_)
            | Self::ClaimsSetDecode(_) => "malformed",
            Self::NoSignatures | Self::InvalidSignature => "bad_signature",
            Self::NoUsableKeys => "no_usable_keys",
            Self::Expired => "expired",
            Self::NotYetValid | Self::IssuedAtFuture => "not_yet_valid",
            Self::NotInIssuer => "issuer",
            Self::NotInAudience => "audience",
        }
    }
}

/// Why a compact JWS does not decode; `Display` is jose's text inside `JSONDecodeError "..."`
/// (docs/compatibility.md Appendix A and D17).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsDecodeError {
    /// A part that is not unpadded base64url.
    #[error("Not valid base64url")]
    NotBase64Url,
    /// A header that is not a JSON object.
    #[error("protected header contains invalid JSON")]
    HeaderNotJson,
    /// A header without `alg`.
    #[error("missing required header \"alg\"")]
    MissingAlg,
    /// An `alg` jose does not know (a string outside its list, or not a string).
    #[error(
        "unrecognised value; expected: [\"HS256\",\"HS384\",\"HS512\",\"RS256\",\"RS384\",\"RS512\",\"ES256\",\"ES384\",\"ES512\",\"ES256K\",\"PS256\",\"PS384\",\"PS512\",\"none\",\"EdDSA\"]"
    )]
    UnknownAlg,
    /// A `kid` that is not a string, or a `crit` that is not a list of strings.
    #[error("{0}")]
    WrongType(ShapeError),
    /// `crit: []`.
    #[error("parsing NonEmpty failed, unexpected empty list")]
    CritEmpty,
    /// `crit` lists a header name RFC 7515 registers.
    #[error("crit key is reserved")]
    CritReserved,
    /// `crit` lists an extension (jose understands none, `b64` included).
    #[error("crit key is not understood")]
    CritNotUnderstood,
}

#[cfg(test)]
mod tests;
