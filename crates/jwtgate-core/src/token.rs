//! A compact JWS decoded once, its registered claims typed and checked (docs/compatibility.md 3.1
//! to 3.6).

use std::borrow::Cow;

use jwtgate_claims::{ClaimsSet, ClaimsSetError, raw_text};
use jwtgate_config::json_type::{JsonType, ShapeError};
use jwtgate_config::{Algorithm, is_string_or_uri};
use serde::Deserialize;

use crate::explain::{Hint, Observer, StepName, StepOutcome};
use crate::explain_notes;
use serde_json::value::RawValue;

use crate::error::{JwsDecodeError, JwtError};

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

/// The header names RFC 7515 registers, which `crit` may not list (jose's
/// `jwsCritInvalidNames`).
const RESERVED_HEADER_NAMES: [&str; 11] =
    ["alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"];

/// Splits and decodes a compact JWS in jose's order: part count, text, payload, header (`alg`,
/// `kid`, then `crit`), signature. Padding is rejected, as jose's base64url is unpadded.
pub(crate) fn decode(token: &[u8]) -> Result<DecodedToken<'_>, JwtError> {
    let mut dots = memchr::memchr_iter(b'.', token);
    let (Some(first_dot), Some(second_dot), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(JwtError::PartCount(memchr::memchr_iter(b'.', token).count() + 1));
    };
    // Tokens are ASCII: the word-at-a-time check, and the UTF-8 one only for the error's part.
    if !token.is_ascii()
        && let Err(error) = std::str::from_utf8(token)
    {
        let at = error.valid_up_to();
        let part = usize::from(at > first_dot) + usize::from(at > second_dot);
        return Err(JwtError::InvalidText(part));
    }
    let header_part = token.get(..first_dot).unwrap_or_default();
    let payload_part = token.get(first_dot + 1..second_dot).unwrap_or_default();
    let signature_part = token.get(second_dot + 1..).unwrap_or_default();
    // Strict base64url without padding, as jose reads it: a SIMD decoder, since the parts are
    // most of a token's bytes.
    let base64 = |part: &[u8]| {
        base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(part)
            .map_err(|_| JwtError::JsonDecode(JwsDecodeError::NotBase64Url))
    };
    let payload = base64(payload_part)?;
    let header = Header::parse(&base64(header_part)?).map_err(JwtError::JsonDecode)?;
    let signature = base64(signature_part)?;
    let payload = String::from_utf8(payload)
        .map_err(|_| JwtError::ClaimsSetDecode(ClaimsSetError::InvalidJson))?;
    let signing_input = token.get(..second_dot).unwrap_or_default();
    Ok(DecodedToken { alg: header.alg, kid: header.kid, signing_input, signature, payload })
}

/// The protected header members jwtgate reads. jose reads `alg`, then `kid`, then `crit`,
/// so the first bad one of those is the one reported.
struct Header {
    alg: TokenAlgorithm,
    kid: Option<String>,
}

/// The three members read, borrowed raw (JSON `null` included: jose rejects a `null` `kid` or
/// `crit` rather than treating it as absent).
#[derive(Deserialize)]
struct HeaderMembers<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    alg: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    kid: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    crit: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

impl<'a> HeaderMembers<'a> {
    fn parse(json: &'a [u8]) -> Result<Self, JwsDecodeError> {
        // serde would read a struct from an array too; a header must be an object.
        if json.trim_ascii_start().first() != Some(&b'{') {
            return Err(JwsDecodeError::HeaderNotJson);
        }
        serde_json::from_slice(json).or_else(|_| {
            // A repeated member (which serde refuses and aeson reads, the last counting), or
            // not JSON at all.
            let members = std::str::from_utf8(json)
                .ok()
                .and_then(|text| ClaimsSet::parse(text).ok())
                .ok_or(JwsDecodeError::HeaderNotJson)?;
            Ok(Self { alg: members.get("alg"), kid: members.get("kid"), crit: members.get("crit") })
        })
    }
}

impl Header {
    fn parse(json: &[u8]) -> Result<Self, JwsDecodeError> {
        let members = HeaderMembers::parse(json)?;
        let alg = match members.alg {
            None => return Err(JwsDecodeError::MissingAlg),
            Some(raw) => match serde_json::from_str::<Cow<'_, str>>(raw.get()).ok().as_deref() {
                Some(name) => match Algorithm::from_name(name) {
                    Some(alg) => TokenAlgorithm::Known(alg),
                    None if name == "none" => TokenAlgorithm::None,
                    None if name == "ES256K" => TokenAlgorithm::Unverifiable,
                    None => return Err(JwsDecodeError::UnknownAlg),
                },
                None => return Err(JwsDecodeError::UnknownAlg),
            },
        };
        let kid = match members.kid {
            None => None,
            Some(raw) => Some(text(raw).map_err(JwsDecodeError::WrongType)?),
        };
        if let Some(crit) = members.crit {
            return Err(critical(crit));
        }
        Ok(Self { alg, kid })
    }
}

/// Why a `crit` member fails: jose understands no extension (RFC 7515 4.1.11, D17), so every
/// `crit` does, with the error of its first problem.
fn critical(crit: &RawValue) -> JwsDecodeError {
    let Ok(names) = serde_json::from_str::<Vec<&RawValue>>(crit.get()) else {
        return JwsDecodeError::WrongType(ShapeError::WrongType {
            parser: "NonEmpty",
            expected: JsonType::Array,
            found: json_type(crit),
        });
    };
    // aeson reads the whole list as text before jose checks any name.
    let mut first = None;
    for name in &names {
        match text(name) {
            Ok(name) => {
                first.get_or_insert(name);
            }
            Err(error) => return JwsDecodeError::WrongType(error),
        }
    }
    match first {
        None => JwsDecodeError::CritEmpty,
        Some(name) if RESERVED_HEADER_NAMES.contains(&name.as_str()) => {
            JwsDecodeError::CritReserved
        }
        Some(_) => JwsDecodeError::CritNotUnderstood,
    }
}

/// A raw JSON value read as aeson's `Text`.
fn text(raw: &RawValue) -> Result<String, ShapeError> {
    serde_json::from_str(raw.get()).map_err(|_| ShapeError::WrongType {
        parser: "Text",
        expected: JsonType::String,
        found: json_type(raw),
    })
}

/// The JSON type of a raw value.
fn json_type(raw: &RawValue) -> JsonType {
    JsonType::of_json_text(raw.get())
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

/// Reads the registered claims in jose's order (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`,
/// `jti`); a wrongly typed one is `JWTClaimsSetDecodeError` with aeson's words.
pub(crate) fn registered<'p>(claims: &ClaimsSet<'p>) -> Result<Registered<'p>, JwtError> {
    let wrong_type = |claim: &'static str, parser: &'static str, expected, raw: &RawValue| {
        JwtError::ClaimsSetDecode(ClaimsSetError::WrongType {
            claim,
            error: ShapeError::WrongType { parser, expected, found: json_type(raw) },
        })
    };
    let [iss, sub, aud, exp, nbf, iat, jti] = claims.registered();
    let string_or_uri = |claim: &'static str, raw: Option<&'p RawValue>| {
        let Some(raw) = raw.filter(|raw| raw.get() != "null") else { return Ok(None) };
        match raw_text(raw) {
            Some(text) if !is_string_or_uri(&text) => {
                Err(JwtError::ClaimsSetDecode(ClaimsSetError::NotStringOrUri { claim }))
            }
            Some(text) => Ok(Some(text)),
            None => Err(wrong_type(claim, "StringOrURI", JsonType::String, raw)),
        }
    };
    let number = |claim: &'static str, raw: Option<&RawValue>| -> Result<Option<f64>, JwtError> {
        raw.map_or(Ok(None), |raw| {
            // The usual whole seconds read directly: exact as f64 up to 15 digits.
            let text = raw.get();
            if (1..=15).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit()) {
                #[expect(clippy::cast_precision_loss, reason = "at most 15 digits: exact")]
                return Ok(text.parse::<u64>().ok().map(|seconds| seconds as f64));
            }
            serde_json::from_str::<Option<f64>>(text)
                .map_err(|_| wrong_type(claim, "NumericDate", JsonType::Number, raw))
        })
    };
    let iss = string_or_uri("iss", iss)?;
    string_or_uri("sub", sub)?;
    let aud = match aud {
        None => None,
        Some(raw) => audience(raw)?,
    };
    let (exp, nbf, iat) = (number("exp", exp)?, number("nbf", nbf)?, number("iat", iat)?);
    if let Some(raw) = jti.filter(|raw| raw.get() != "null")
        && raw_text(raw).is_none()
    {
        return Err(wrong_type("jti", "Text", JsonType::String, raw));
    }
    Ok(Registered { iss, aud, exp, nbf, iat })
}

/// `aud`: an array of `StringOrURI`, or one. aeson tries the array first and reports the
/// single value's error when both fail, so a bad array reads `... encountered Array`.
fn audience(raw: &RawValue) -> Result<Option<Vec<Cow<'_, str>>>, JwtError> {
    if let Ok(many) = serde_json::from_str::<Vec<Text<'_>>>(raw.get())
        && many.iter().all(|Text(text)| is_string_or_uri(text))
    {
        return Ok(Some(many.into_iter().map(|Text(text)| text).collect()));
    }
    match serde_json::from_str::<Option<Text<'_>>>(raw.get()) {
        Ok(None) => Ok(None),
        Ok(Some(Text(text))) if is_string_or_uri(&text) => Ok(Some(vec![text])),
        Ok(Some(_)) => {
            Err(JwtError::ClaimsSetDecode(ClaimsSetError::NotStringOrUri { claim: "aud" }))
        }
        Err(_) => Err(JwtError::ClaimsSetDecode(ClaimsSetError::WrongType {
            claim: "aud",
            error: ShapeError::WrongType {
                parser: "StringOrURI",
                expected: JsonType::String,
                found: json_type(raw),
            },
        })),
    }
}

/// The time, audience and issuer checks in jose's order: `exp`, `iat`, `nbf`, `iss`, `aud`,
/// each told to `observer` with the values compared.
pub(crate) fn check<O: Observer>(
    registered: &Registered<'_>,
    now: f64,
    skew: f64,
    issuer: Option<&str>,
    audience: Option<&[String]>,
    observer: &mut O,
) -> Result<(), JwtError> {
    // Each check's margin: how far inside (positive) or outside (negative) its bound the time is.
    let checks = [
        (StepName::Exp, registered.exp.map(|exp| exp + skew - now), JwtError::Expired),
        (StepName::Iat, registered.iat.map(|iat| now + skew - iat), JwtError::IssuedAtFuture),
        (StepName::Nbf, registered.nbf.map(|nbf| now - (nbf - skew)), JwtError::NotYetValid),
    ];
    for (name, margin, error) in checks {
        // `exp` passes strictly before its bound; `iat` and `nbf` at their bound too.
        let failed = margin
            .is_some_and(|margin| if name == StepName::Exp { margin <= 0.0 } else { margin < 0.0 });
        if O::RECORDS {
            time_step(name, margin, failed, skew, observer);
        }
        if failed {
            return Err(error);
        }
    }
    check_issuer(registered, issuer, observer)?;
    if let Some(token_audience) = &registered.aud {
        let accepted = |value: &Cow<'_, str>| {
            audience.is_none_or(|configured| configured.iter().any(|wanted| wanted == value))
        };
        if !token_audience.iter().any(accepted) {
            observer.step(StepName::Aud, StepOutcome::Failed, || {
                format!(
                    "aud {token_audience:?} holds none of the audience {:?}",
                    audience.unwrap_or_default()
                )
            });
            if token_audience.is_empty() {
                observer.hint(Hint::EmptyAudience);
            }
            return Err(JwtError::NotInAudience);
        }
        observer.step(StepName::Aud, StepOutcome::Ok, || match audience {
            Some(configured) => format!("aud {token_audience:?} holds one of {configured:?}"),
            None => format!("aud {token_audience:?}: no audience configured"),
        });
    } else {
        observer.step(StepName::Aud, StepOutcome::Skipped, || "the token has no aud".to_owned());
    }
    Ok(())
}

/// `iss` against the configured `issuer`.
fn check_issuer<O: Observer>(
    registered: &Registered<'_>,
    issuer: Option<&str>,
    observer: &mut O,
) -> Result<(), JwtError> {
    if let (Some(wanted), Some(iss)) = (issuer, &registered.iss)
        && wanted != iss.as_ref()
    {
        observer.step(StepName::Iss, StepOutcome::Failed, || {
            format!("the token's iss {iss:?} is not the issuer {wanted:?}")
        });
        explain_notes::issuer_hints(wanted, iss, observer);
        return Err(JwtError::NotInIssuer);
    }
    observer.step(
        StepName::Iss,
        if issuer.is_some() && registered.iss.is_some() {
            StepOutcome::Ok
        } else {
            StepOutcome::Skipped
        },
        || match (issuer, &registered.iss) {
            (Some(wanted), Some(_)) => format!("iss is the issuer {wanted:?}"),
            (None, _) => "no issuer configured".to_owned(),
            (Some(_), None) => "the token has no iss".to_owned(),
        },
    );
    Ok(())
}

/// One time check's step: the margin in whole seconds, and a hint when it failed by less than
/// a minute.
fn time_step<O: Observer>(
    name: StepName,
    margin: Option<f64>,
    failed: bool,
    skew: f64,
    observer: &mut O,
) {
    let Some(margin) = margin else {
        observer.step(name, StepOutcome::Skipped, || format!("the token has no {}", name.as_str()));
        return;
    };
    let seconds = margin.abs().round();
    let skew = if skew > 0.0 { format!(" (allowed_skew {skew} s)") } else { String::new() };
    let detail = match (name, failed) {
        (StepName::Exp, true) => format!("expired {seconds} s ago{skew}"),
        (StepName::Exp, false) => format!("expires in {seconds} s{skew}"),
        (StepName::Iat, true) => format!("issued {seconds} s in the future{skew}"),
        (StepName::Nbf, true) => format!("not valid for another {seconds} s{skew}"),
        _ => format!("passed by {seconds} s{skew}"),
    };
    observer.step(name, if failed { StepOutcome::Failed } else { StepOutcome::Ok }, || detail);
    if failed && margin.abs() < 60.0 {
        observer.hint(Hint::SmallClockSkew);
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// The SIMD decoder accepts and refuses exactly what the `base64` crate's strict
        /// unpadded base64url does (padding, lengths of 4n+1, non-zero trailing bits, other
        /// alphabets), with the same bytes.
        #[test]
        fn simd_base64url_agrees_with_the_base64_crate(
            text in prop_oneof![
                "[A-Za-z0-9_-]{0,80}",
                "[A-Za-z0-9_+/=-]{0,12}",
                "[A-Za-z0-9_-]{0,40}[=.+/ \n\u{0}\u{80}][A-Za-z0-9_-]{0,40}",
            ]
        ) {
            let simd = base64_simd::URL_SAFE_NO_PAD.decode_to_vec(text.as_bytes()).ok();
            let reference = URL_SAFE_NO_PAD.decode(text.as_bytes()).ok();
            prop_assert_eq!(simd, reference);
        }
    }
}
