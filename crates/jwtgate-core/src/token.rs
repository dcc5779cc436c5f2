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
    let mut dots = memchr::memchr_iter(b'.', token);
    let (Some(first_dot), Some(second_dot), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(JwtError::PartCount(memchr::memchr_iter(b'.', token).count() + 1));
    };
    if let Err(error) = std::str::from_utf8(token) {
        let at = error.valid_up_to();
        let part = usize::from(at > first_dot) + usize::from(at > second_dot);
        return Err(JwtError::InvalidText(part));
    }
    let header = token.get(..first_dot).unwrap_or_default();
    let payload_part = token.get(first_dot + 1..second_dot).unwrap_or_default();
    let signature = token.get(second_dot + 1..).unwrap_or_default();
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
    let signing_input = token.get(..second_dot).unwrap_or_default();
    Ok(DecodedToken { alg, kid, signing_input, signature, payload })
}

/// The registered claims, typed as jose types them (section 3.4), borrowed from the payload.
#[derive(Debug, Default)]
pub(crate) struct Registered<'p> {
    pub(crate) iss: Option<Cow<'p, str>>,
    pub(crate) aud: Option<Vec<Cow<'p, str>>>,
    pub(crate) exp: Option<f64>,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
}

/// A JSON string, borrowed from the payload unless it has escapes.
#[derive(Deserialize)]
struct Text<'p>(#[serde(borrow)] Cow<'p, str>);

/// Reads the registered claims; a wrongly typed one is `JWTClaimsSetDecodeError`.
pub(crate) fn registered<'p>(claims: &ClaimsSet<'p>) -> Result<Registered<'p>, JwtError> {
    fn decode_error(name: &str, message: &dyn std::fmt::Display) -> JwtError {
        JwtError::ClaimsSetDecode(format!("Error in $.{name}: {message}"))
    }
    let string_or_uri = |name: &str| -> Result<Option<Cow<'p, str>>, JwtError> {
        let Some(raw) = claims.get(name) else { return Ok(None) };
        let value: Option<Text<'p>> =
            serde_json::from_str(raw.get()).map_err(|error| decode_error(name, &error))?;
        match value {
            Some(Text(text)) if !is_string_or_uri(&text) => {
                Err(decode_error(name, &"failed to parse StringOrURI"))
            }
            other => Ok(other.map(|Text(text)| text)),
        }
    };
    let number = |name: &str| -> Result<Option<f64>, JwtError> {
        claims.get(name).map_or(Ok(None), |raw| {
            serde_json::from_str::<Option<f64>>(raw.get())
                .map_err(|error| decode_error(name, &error))
        })
    };
    let iss = string_or_uri("iss")?;
    string_or_uri("sub")?;
    if let Some(raw) = claims.get("jti") {
        serde_json::from_str::<Option<Text<'p>>>(raw.get())
            .map_err(|error| decode_error("jti", &error))?;
    }
    let aud = match claims.get("aud") {
        None => None,
        Some(raw) => audience(raw).map_err(|message| decode_error("aud", &message))?,
    };
    Ok(Registered { iss, aud, exp: number("exp")?, nbf: number("nbf")?, iat: number("iat")? })
}

/// `aud`: one `StringOrURI` or an array of them.
fn audience(raw: &RawValue) -> Result<Option<Vec<Cow<'_, str>>>, &'static str> {
    let values = if raw.get().starts_with('[') {
        let many: Vec<Text<'_>> =
            serde_json::from_str(raw.get()).map_err(|_| "expected an array of StringOrURI")?;
        many.into_iter().map(|Text(text)| text).collect()
    } else {
        let one: Option<Text<'_>> =
            serde_json::from_str(raw.get()).map_err(|_| "expected a StringOrURI")?;
        match one {
            None => return Ok(None),
            Some(Text(text)) => vec![text],
        }
    };
    if values.iter().all(|value| is_string_or_uri(value)) {
        Ok(Some(values))
    } else {
        Err("failed to parse StringOrURI")
    }
}

/// The time, audience and issuer checks in jose's order: `exp`, `iat`, `nbf`, `iss`, `aud`.
pub(crate) fn check(
    registered: &Registered<'_>,
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
        && wanted != iss.as_ref()
    {
        return Err(JwtError::NotInIssuer);
    }
    if let Some(token_audience) = &registered.aud {
        let accepted = |value: &Cow<'_, str>| {
            audience.is_none_or(|configured| configured.iter().any(|wanted| wanted == value))
        };
        if !token_audience.iter().any(accepted) {
            return Err(JwtError::NotInAudience);
        }
    }
    Ok(())
}
