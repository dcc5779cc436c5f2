//! A compact JWS decoded once, its registered claims typed and checked (hasura-semantics.md 3.1
//! to 3.6).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtgate_claims::ClaimsSet;
use jwtgate_config::{Algorithm, is_string_or_uri};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::JwtError;

/// The token's `alg`, as far as verification cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenAlgorithm {
    /// An algorithm jwtgate verifies.
    Known(Algorithm),
    /// `none`: no signature to check (`JWSNoSignatures`).
    None,
    /// A registered algorithm no key of jwtgate's verifies (`ES256K`).
    Unverifiable,
}

/// A token split and base64-decoded once.
#[derive(Debug)]
pub(crate) struct DecodedToken<'t> {
    pub(crate) alg: TokenAlgorithm,
    pub(crate) kid: Option<String>,
    /// `header.payload` as sent: what the signature covers.
    pub(crate) signing_input: &'t [u8],
    pub(crate) signature: Vec<u8>,
    pub(crate) payload: String,
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow)]
    kid: Option<Cow<'a, str>>,
}

/// Splits and decodes a compact JWS in jose's order: part count, text, header, payload,
/// signature. Padding is rejected, as jose's base64url is unpadded.
pub(crate) fn decode(token: &[u8]) -> Result<DecodedToken<'_>, JwtError> {
    let parts = token.split(|&byte| byte == b'.').count();
    let mut split = token.splitn(3, |&byte| byte == b'.');
    let (Some(header), Some(payload_part), Some(signature), 3) =
        (split.next(), split.next(), split.next(), parts)
    else {
        return Err(JwtError::PartCount(parts));
    };
    for (index, part) in [header, payload_part, signature].into_iter().enumerate() {
        if std::str::from_utf8(part).is_err() {
            return Err(JwtError::InvalidText(index));
        }
    }
    let base64 = |part: &[u8]| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|error| JwtError::JsonDecode(format!("Base64 decoding failed: {error}")))
    };
    let header_json = base64(header)?;
    let parsed: Header<'_> = serde_json::from_slice(&header_json)
        .map_err(|error| JwtError::JsonDecode(error.to_string()))?;
    let alg = match Algorithm::from_name(&parsed.alg) {
        Some(alg) => TokenAlgorithm::Known(alg),
        None if parsed.alg == "none" => TokenAlgorithm::None,
        None if parsed.alg == "ES256K" => TokenAlgorithm::Unverifiable,
        None => return Err(JwtError::JsonDecode(format!("unknown alg {:?}", parsed.alg))),
    };
    let kid = parsed.kid.map(Cow::into_owned);
    let payload = String::from_utf8(base64(payload_part)?)
        .map_err(|_| JwtError::ClaimsSetDecode("payload is not UTF-8".to_owned()))?;
    let signature = base64(signature)?;
    let signing_input = token.get(..header.len() + 1 + payload_part.len()).unwrap_or_default();
    Ok(DecodedToken { alg, kid, signing_input, signature, payload })
}

/// The registered claims, typed as jose types them (section 3.4).
#[derive(Debug, Default)]
pub(crate) struct Registered {
    pub(crate) iss: Option<String>,
    pub(crate) aud: Option<Vec<String>>,
    pub(crate) exp: Option<f64>,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
}

/// Reads the registered claims; a wrongly typed one is `JWTClaimsSetDecodeError`.
pub(crate) fn registered(claims: &ClaimsSet<'_>) -> Result<Registered, JwtError> {
    let decode_error = |name: &str, message: String| {
        JwtError::ClaimsSetDecode(format!("Error in $.{name}: {message}"))
    };
    let string_or_uri = |name: &str| -> Result<Option<String>, JwtError> {
        let Some(raw) = claims.get(name) else { return Ok(None) };
        let value: Option<String> = serde_json::from_str(raw.get())
            .map_err(|error| decode_error(name, error.to_string()))?;
        match value {
            Some(text) if !is_string_or_uri(&text) => {
                Err(decode_error(name, "failed to parse StringOrURI".to_owned()))
            }
            other => Ok(other),
        }
    };
    let number = |name: &str| -> Result<Option<f64>, JwtError> {
        claims.get(name).map_or(Ok(None), |raw| {
            serde_json::from_str::<Option<f64>>(raw.get())
                .map_err(|error| decode_error(name, error.to_string()))
        })
    };
    let iss = string_or_uri("iss")?;
    string_or_uri("sub")?;
    if let Some(raw) = claims.get("jti") {
        serde_json::from_str::<Option<String>>(raw.get())
            .map_err(|error| decode_error("jti", error.to_string()))?;
    }
    let aud = match claims.get("aud") {
        None => None,
        Some(raw) => audience(raw).map_err(|message| decode_error("aud", message))?,
    };
    Ok(Registered { iss, aud, exp: number("exp")?, nbf: number("nbf")?, iat: number("iat")? })
}

/// `aud`: one `StringOrURI` or an array of them.
fn audience(raw: &RawValue) -> Result<Option<Vec<String>>, String> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    let value: Option<Audience> = serde_json::from_str(raw.get())
        .map_err(|_| "expected a StringOrURI or an array of them".to_owned())?;
    let values = match value {
        None => return Ok(None),
        Some(Audience::One(one)) => vec![one],
        Some(Audience::Many(many)) => many,
    };
    if values.iter().all(|value| is_string_or_uri(value)) {
        Ok(Some(values))
    } else {
        Err("failed to parse StringOrURI".to_owned())
    }
}

/// The time, audience and issuer checks in jose's order: `exp`, `iat`, `nbf`, `iss`, `aud`.
pub(crate) fn check(
    registered: &Registered,
    now: f64,
    skew: f64,
    issuer: Option<&str>,
    audience: Option<&[String]>,
) -> Result<(), JwtError> {
    if registered.exp.is_some_and(|exp| now >= exp + skew) {
        return Err(JwtError::Expired);
    }
    if registered.iat.is_some_and(|iat| iat > now + skew) {
        return Err(JwtError::IssuedAtFuture);
    }
    if registered.nbf.is_some_and(|nbf| now < nbf - skew) {
        return Err(JwtError::NotYetValid);
    }
    if let (Some(wanted), Some(iss)) = (issuer, &registered.iss)
        && wanted != iss
    {
        return Err(JwtError::NotInIssuer);
    }
    if let Some(token_audience) = &registered.aud {
        let accepted =
            |value: &String| audience.is_none_or(|configured| configured.contains(value));
        if !token_audience.iter().any(accepted) {
            return Err(JwtError::NotInAudience);
        }
    }
    Ok(())
}
