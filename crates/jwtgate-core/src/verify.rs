//! One presented token read once, and the verification of the (secret, token) pair chosen for
//! it: signature, registered claims, claims resolution.

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use jwtgate_claims::{ClaimsError, ClaimsSet};
use jwtgate_config::{Algorithm, JwtSecret, KeyKind, KeySource, VerifyingKey};
use jwtgate_jwks::{Jwk, JwkSet, KeySet, Refetch};
use std::sync::Arc;

use crate::answer::{Authenticated, Caller};
use crate::error::{AuthError, JwtError, MAX_TOKEN_BYTES};
use crate::explain::{Hint, Observer, StepName, StepOutcome};
use crate::explain_notes;
use crate::token::{self, DecodedToken, Registered, TokenAlgorithm};

/// A configured secret with the key set of its `jwk_url`, if it has one.
pub(crate) struct ConfiguredSecret {
    pub(crate) secret: JwtSecret,
    pub(crate) location: usize,
    pub(crate) key_set: Option<Arc<dyn KeySet>>,
}

impl ConfiguredSecret {
    /// The generation of the key set a verification starts from (0 for a configured key).
    pub(crate) fn generation(&self) -> u64 {
        self.key_set.as_ref().map_or(0, |key_set| key_set.generation())
    }

    /// Whether the issuer pre-match lets this secret take `token` (section 6): a token without
    /// a readable `iss`, or a secret without `issuer`, always fits.
    pub(crate) fn fits(&self, token: &Presented<'_>) -> bool {
        match (self.secret.issuer(), token.issuer()) {
            (Some(wanted), Some(iss)) => wanted == iss,
            _ => true,
        }
    }
}

/// Decodes a token found in the request, refusing an oversized one unread.
pub(crate) fn decode(token: &[u8]) -> Result<DecodedToken<'_>, JwtError> {
    if token.len() > MAX_TOKEN_BYTES { Err(JwtError::TooLarge) } else { token::decode(token) }
}

/// A token the request presented, read once whatever the number of secrets.
pub(crate) struct Presented<'t> {
    /// Its location's index.
    pub(crate) location: usize,
    /// The token read as far as it goes: the first failure (decoding, the claims set, a
    /// registered claim's type) stops the reading and is the token's error.
    pub(crate) read: Result<ReadToken<'t>, JwtError>,
}

/// A token decoded, its claims set parsed and its registered claims typed.
pub(crate) struct ReadToken<'t> {
    pub(crate) decoded: &'t DecodedToken<'t>,
    pub(crate) claims: ClaimsSet<'t>,
    pub(crate) registered: Registered<'t>,
}

impl<'t> Presented<'t> {
    pub(crate) fn read(location: usize, decoded: &'t Result<DecodedToken<'t>, JwtError>) -> Self {
        let read = decoded.as_ref().map_err(Clone::clone).and_then(|decoded| {
            let claims = ClaimsSet::parse(&decoded.payload).map_err(JwtError::ClaimsSetDecode)?;
            let registered = token::registered(&claims)?;
            Ok(ReadToken { decoded, claims, registered })
        });
        Self { location, read }
    }

    /// The token's `iss`, when it reads as far as its registered claims (3.6.1).
    pub(crate) fn issuer(&self) -> Option<&str> {
        self.read.as_ref().ok().and_then(|read| read.registered.iss.as_deref())
    }
}

/// Whether a request may wait for a key set refetch (D6), as a type: the path that may not
/// cannot produce a wait.
pub(crate) trait Waiting {
    /// What a stop to wait carries.
    type Pending;
    /// The refetch to wait for, if this request waits for it.
    fn pending(refetch: Refetch) -> Option<Self::Pending>;
}

/// The request may wait for a refetch that is under way.
pub(crate) struct MayWait;

impl Waiting for MayWait {
    type Pending = Refetch;

    fn pending(refetch: Refetch) -> Option<Refetch> {
        refetch.is_pending().then_some(refetch)
    }
}

/// The request never waits: a refetch it asked for runs in the background.
pub(crate) struct NeverWait;

impl Waiting for NeverWait {
    type Pending = Infallible;

    fn pending(_refetch: Refetch) -> Option<Infallible> {
        None
    }
}

/// Why verification stopped short of a session.
pub(crate) enum Stop<P> {
    /// Denied, with Hasura's error.
    Denied(AuthError),
    /// Waiting for a key set refetch would decide it.
    AwaitKeys(P),
}

impl<P> From<AuthError> for Stop<P> {
    fn from(error: AuthError) -> Self {
        Self::Denied(error)
    }
}

impl<P> From<JwtError> for Stop<P> {
    fn from(error: JwtError) -> Self {
        Self::Denied(error.into())
    }
}

impl<P> From<ClaimsError> for Stop<P> {
    fn from(error: ClaimsError) -> Self {
        Self::Denied(error.into())
    }
}

/// Signature, registered claims and claims resolution of the chosen (secret, token) pair.
pub(crate) fn verify<W: Waiting, O: Observer>(
    configured: &ConfiguredSecret,
    token: &ReadToken<'_>,
    role_header: Option<&str>,
    now: SystemTime,
    observer: &mut O,
) -> Result<Authenticated, Stop<W::Pending>> {
    let secret = &configured.secret;
    check_signature::<W, O>(configured, token.decoded, now, observer)?;
    let checked = token::check(
        &token.registered,
        seconds(now),
        secret.allowed_skew(),
        secret.issuer(),
        secret.audience(),
        observer,
    );
    if O::RECORDS && checked == Err(JwtError::NotInAudience) {
        explain_notes::audience_hints(&token.claims, secret.audience(), observer);
    }
    checked?;
    match jwtgate_claims::resolve(&token.claims, secret.claims(), role_header) {
        Ok(session) => {
            observer.step(StepName::Claims, StepOutcome::Ok, || {
                let names: Vec<&str> = session.variables().map(|(name, _)| name).collect();
                format!("session variables: {}", names.join(", "))
            });
            observer.step(StepName::Role, StepOutcome::Ok, || {
                let how = if role_header.is_some() { "requested" } else { "default" };
                format!("role {} ({how})", session.role())
            });
            Ok(Authenticated::new(session, token.registered.exp, Caller::Token))
        }
        Err(error) => {
            let name =
                if error.denial_reason() == "role" { StepName::Role } else { StepName::Claims };
            observer.step(name, StepOutcome::Failed, || error.to_string());
            if error == ClaimsError::RoleNotAllowed && role_header.is_some() {
                observer.hint(Hint::RoleHeaderNotAllowed);
            }
            if O::RECORDS {
                explain_notes::path_hints(&token.claims, secret.claims(), &error, observer);
            }
            Err(error.into())
        }
    }
}

/// Tries the secret's keys: the one configured key, or the keys of the set D19 allows (those
/// the token's `kid` names, else those fitting its `alg`). A `kid` the set lacks asks the key
/// set for a refetch (D6), which a request that may wait waits for when the signature fails.
fn check_signature<W: Waiting, O: Observer>(
    configured: &ConfiguredSecret,
    token: &DecodedToken<'_>,
    now: SystemTime,
    observer: &mut O,
) -> Result<(), Stop<W::Pending>> {
    let alg = match token.alg {
        TokenAlgorithm::None => {
            observer.step(StepName::Signature, StepOutcome::Failed, || {
                "alg none: the token is not signed".to_owned()
            });
            return Err(JwtError::NoSignatures.into());
        }
        TokenAlgorithm::Known(alg) => Some(alg),
        TokenAlgorithm::Unverifiable => None,
    };
    let verifies = |key: &VerifyingKey, alg| key.verify(alg, token.signing_input, &token.signature);
    let key_set = match (configured.secret.key_source(), &configured.key_set) {
        (KeySource::Key { key, key_type }, _) => {
            let good = alg.is_some_and(|alg| verifies(key, alg));
            observer.step(StepName::Key, StepOutcome::Info, || {
                format!("the configured {} key", key_type.name())
            });
            signature_step(observer, good);
            return if good { Ok(()) } else { Err(JwtError::InvalidSignature.into()) };
        }
        // Every other source is a key set, held by the authenticator when one was given.
        (_, Some(key_set)) => key_set,
        (_, None) => {
            observer.step(StepName::Key, StepOutcome::Failed, || "no key set".to_owned());
            return Err(JwtError::NoUsableKeys.into());
        }
    };
    let set = key_set.current();
    let kid = token.kid.as_deref();
    let refetch =
        kid.filter(|kid| !set.contains_kid(kid)).map(|kid| key_set.request_refetch(kid, now));
    if O::RECORDS {
        let refreshed = observer.key_set_seen(key_set.generation());
        explain_keys(&set, kid, alg, refreshed, observer);
    }
    if alg.is_some_and(|alg| set.keys_to_try(kid, alg).any(|jwk| verifies(jwk.key(), alg))) {
        signature_step(observer, true);
        return Ok(());
    }
    if let Some(pending) = refetch.and_then(W::pending) {
        return Err(Stop::AwaitKeys(pending));
    }
    if set.is_empty() {
        observer.hint(Hint::KeySetEmpty);
        return Err(JwtError::NoUsableKeys.into());
    }
    signature_step(observer, false);
    Err(JwtError::InvalidSignature.into())
}

/// The signature step.
fn signature_step<O: Observer>(observer: &mut O, good: bool) {
    if good {
        observer.step(StepName::Signature, StepOutcome::Ok, || "verified".to_owned());
    } else {
        observer.step(StepName::Signature, StepOutcome::Failed, || {
            "no key tried verified the signature".to_owned()
        });
    }
}

/// A key's kind in words.
fn kind_name(kind: KeyKind) -> String {
    match kind {
        KeyKind::Hmac { .. } => "HMAC".to_owned(),
        KeyKind::Rsa { bits } => format!("RSA {bits}-bit"),
        KeyKind::Ec(curve) => format!("EC {}", curve.name()),
        KeyKind::Ed25519 => "Ed25519".to_owned(),
        _ => "a".to_owned(),
    }
}

/// The key steps of a key set: each usable key tried or passed over, and why.
fn explain_keys<O: Observer>(
    set: &JwkSet,
    kid: Option<&str>,
    alg: Option<Algorithm>,
    refreshed: bool,
    observer: &mut O,
) {
    // Keys the set held but cannot use: skipped when it was read (D7), with their reasons.
    for skipped in set.skipped() {
        observer.step(StepName::Key, StepOutcome::Skipped, || {
            format!("{skipped} (not usable, so never tried)")
        });
    }
    if set.is_empty() {
        observer.step(StepName::Key, StepOutcome::Failed, || {
            format!("the key set holds no usable key ({} skipped)", set.skipped().len())
        });
        return;
    }
    if let Some(kid) = kid.filter(|kid| !set.contains_kid(kid)) {
        observer.step(StepName::Key, StepOutcome::Info, || {
            format!("no key of the set has kid {kid:?}: every key fitting the alg is tried")
        });
        if refreshed {
            observer.hint(Hint::KidUnknownAfterRefetch);
        }
    }
    let tried: Vec<*const Jwk> = match alg {
        Some(alg) => set.keys_to_try(kid, alg).map(std::ptr::from_ref).collect(),
        None => Vec::new(),
    };
    for jwk in set.keys() {
        let shown = || {
            let kid = jwk.kid().map_or_else(|| "no kid".to_owned(), |kid| format!("kid {kid:?}"));
            let alg = jwk.alg().map_or_else(String::new, |alg| format!(", alg {}", alg.name()));
            format!("{} key, {kid}{alg}", kind_name(jwk.key().kind()))
        };
        if tried.contains(&std::ptr::from_ref(jwk)) {
            observer.step(StepName::Key, StepOutcome::Info, || format!("{}: tried", shown()));
        } else {
            observer.step(StepName::Key, StepOutcome::Skipped, || {
                let why = match (kid, alg) {
                    (_, None) => "no key verifies this alg".to_owned(),
                    (Some(wanted), _) if set.contains_kid(wanted) && jwk.kid() != Some(wanted) => {
                        format!("the token names kid {wanted:?}")
                    }
                    (_, Some(alg)) => format!("it does not verify {}", alg.name()),
                };
                format!("{}: skipped, {why}", shown())
            });
        }
    }
}

/// Seconds since the epoch as jose reads `NumericDate`s.
pub(crate) fn seconds(now: SystemTime) -> f64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}
