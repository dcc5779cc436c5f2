//! What an explanation says of the steps the authenticator takes outside `verify`: the token's
//! header and which secrets took it. Only an explanation calls these.

use std::fmt::Write as _;

use jwtgate_claims::{ClaimsError, ClaimsSet};
use jwtgate_config::{ClaimValue, ClaimsSource, JsonPath, KeySource, Namespace, PathStep};

use crate::error::JwtError;
use crate::explain::{Hint, Observer, StepName, StepOutcome};
use crate::extract::Locations;
use crate::token::{DecodedToken, TokenAlgorithm};
use crate::verify::{ConfiguredSecret, Presented};

/// The header step of one token: what the decoding read, or why it stopped.
pub(crate) fn header<O: Observer>(
    token: Option<&[u8]>,
    decoded: &Result<DecodedToken<'_>, JwtError>,
    observer: &mut O,
) {
    match decoded {
        Ok(decoded) => observer.step(StepName::Header, StepOutcome::Ok, || {
            let alg = match decoded.alg {
                TokenAlgorithm::Known(alg) => alg.name(),
                TokenAlgorithm::None => "none",
                TokenAlgorithm::Unverifiable => "ES256K",
            };
            let mut detail = format!("alg {alg}");
            if let Some(kid) = &decoded.kid {
                let _ = write!(detail, ", kid {kid:?}");
            }
            detail.push_str(&shown_members(token.unwrap_or_default()));
            detail
        }),
        Err(error) => observer.step(StepName::Header, StepOutcome::Failed, || error.to_string()),
    }
}

/// `typ` and `crit` of a header that decoded, for display only (the verdict never reads them
/// but through `crit`, which decoding checked).
fn shown_members(token: &[u8]) -> String {
    use base64::Engine as _;
    let part = token.split(|&byte| byte == b'.').next().unwrap_or_default();
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part) else {
        return String::new();
    };
    let Ok(serde_json::Value::Object(header)) = serde_json::from_slice(&bytes) else {
        return String::new();
    };
    let mut shown = String::new();
    for name in ["typ", "crit"] {
        if let Some(value) = header.get(name) {
            let _ = write!(shown, ", {name} {value}");
        }
    }
    shown
}

/// The secret steps: for each token, each secret reading its location, taken or passed over by
/// issuer; hints when an issuer differs only in a known way.
pub(crate) fn secrets<O: Observer>(
    secrets: &[ConfiguredSecret],
    tokens: &[Presented<'_>],
    locations: &Locations,
    observer: &mut O,
) {
    for token in tokens {
        let place = locations.describe(token.location);
        for (index, secret) in secrets.iter().enumerate() {
            if secret.location != token.location {
                continue;
            }
            let name = || format!("secret {index} ({})", source(secret));
            let (wanted, iss) = (secret.secret.issuer(), token.issuer());
            if secret.fits(token) {
                observer.step(StepName::Secret, StepOutcome::Ok, || {
                    let issuer =
                        wanted.map_or_else(String::new, |wanted| format!(", issuer {wanted:?}"));
                    format!("{} reads {place}{issuer}: it takes the token", name())
                });
                continue;
            }
            observer.step(StepName::Secret, StepOutcome::Skipped, || {
                format!(
                    "{} wants issuer {:?}; the token's iss is {:?}",
                    name(),
                    wanted.unwrap_or_default(),
                    iss.unwrap_or_default()
                )
            });
            if let (Some(wanted), Some(iss)) = (wanted, iss) {
                issuer_hints(wanted, iss, observer);
            }
        }
    }
}

/// Hints for an issuer that differs from the token's `iss` only by a trailing slash or `/v2.0`.
pub(crate) fn issuer_hints<O: Observer>(wanted: &str, iss: &str, observer: &mut O) {
    let bare = |text: &str| text.trim_end_matches('/').to_owned();
    if wanted != iss && bare(wanted) == bare(iss) {
        observer.hint(Hint::IssuerTrailingSlash);
    }
    let unversioned = |text: &str| bare(text).trim_end_matches("/v2.0").to_owned();
    // Entra ID's v1.0 and v2.0 issuers of one tenant.
    let tenant = |issuer: &str| -> Option<String> {
        let v1 =
            issuer.strip_prefix("https://sts.windows.net/").map(|rest| rest.trim_end_matches('/'));
        let v2 =
            || issuer.strip_prefix("https://login.microsoftonline.com/")?.strip_suffix("/v2.0");
        v1.or_else(v2).map(str::to_owned)
    };
    let same_tenant = tenant(wanted).is_some() && tenant(wanted) == tenant(iss);
    if bare(wanted) != bare(iss) && (unversioned(wanted) == unversioned(iss) || same_tenant) {
        observer.hint(Hint::IssuerVersionSuffix);
    }
}

/// A secret as an explanation names it: its key source, never its key.
fn source(secret: &ConfiguredSecret) -> String {
    match secret.secret.key_source() {
        KeySource::Key { key_type, .. } => format!("type {}", key_type.name()),
        KeySource::JwkUrl(url) => format!("jwk_url {url}"),
        KeySource::Discovery(discovery) => format!("issuer_discovery {discovery}"),
        _ => "key set".to_owned(),
    }
}

/// Hints for a failed audience check: an ID token where an access token belongs, or the reverse.
pub(crate) fn audience_hints<O: Observer>(
    claims: &ClaimsSet<'_>,
    audience: Option<&[String]>,
    observer: &mut O,
) {
    if claims.get("nonce").is_some() || claims.get("at_hash").is_some() {
        observer.hint(Hint::IdTokenForAccessToken);
    } else if (claims.get("scope").is_some() || claims.get("scp").is_some())
        && audience.is_some_and(|audience| audience.iter().all(|aud| !aud.contains(':')))
    {
        observer.hint(Hint::AccessTokenForIdToken);
    }
}

/// A hint when a dotted path found nothing but the token has a claim named by its steps joined
/// with dots (`$.hasura.claims` for a claim named `hasura.claims`).
pub(crate) fn path_hints<O: Observer>(
    claims: &ClaimsSet<'_>,
    source: &ClaimsSource,
    error: &ClaimsError,
    observer: &mut O,
) {
    let paths: Vec<&JsonPath> = match (source, error) {
        (
            ClaimsSource::Namespace { namespace: Namespace::Path(path), .. },
            ClaimsError::NamespacePathNotFound { .. },
        ) => vec![path],
        (ClaimsSource::Map(map), ClaimsError::ClaimsMapClaimMissing { .. }) => {
            let mut paths = Vec::new();
            if let ClaimValue::Path { path, .. } = &map.allowed_roles {
                paths.push(path);
            }
            if let ClaimValue::Path { path, .. } = &map.default_role {
                paths.push(path);
            }
            for (_, value) in &map.session_variables {
                if let ClaimValue::Path { path, .. } = value {
                    paths.push(path);
                }
            }
            paths
        }
        _ => Vec::new(),
    };
    let joined = |path: &JsonPath| -> Option<String> {
        let names: Option<Vec<&str>> = path
            .steps()
            .iter()
            .map(|step| match step {
                PathStep::Key(name) => Some(name.as_str()),
                PathStep::Index(_) => None,
            })
            .collect();
        names.filter(|names| names.len() > 1).map(|names| names.join("."))
    };
    if paths.into_iter().filter_map(joined).any(|name| claims.get(&name).is_some()) {
        observer.hint(Hint::DottedPathForSpecialName);
    }
}
