//! The `Authenticator`: request headers and `now` in, the caller's session or Hasura's error out.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use aws_lc_rs::{constant_time, digest};
use http::{HeaderMap, HeaderName};
use jwtgate_claims::Session;
use jwtgate_config::{JwkUrl, JwtSecret, SecretString};
use jwtgate_jwks::{KeySet, Refetch};
use smallvec::SmallVec;

use crate::answer::{Authenticated, Caller};
use crate::cache::{CacheEntry, CacheKeyRef, CacheStats, TokenCache, token_cache};
use crate::error::{AuthError, JwtError};
use crate::explain::{Observer, Silent, StepName, StepOutcome};
use crate::explain_notes;
use crate::extract::{Candidate, Locations};
use crate::token::DecodedToken;
use crate::verify::{
    self, ConfiguredSecret, MayWait, NeverWait, Presented, Stop, Waiting, seconds,
};

/// The default size of the verified-token cache.
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 10_000;

/// What an [`Authenticator`] is built from. Start from [`AuthenticatorConfig::new`] (or
/// `default()`) and set the fields that differ: the cache holds
/// [`DEFAULT_TOKEN_CACHE_SIZE`] entries unless told otherwise.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthenticatorConfig {
    /// The JWT secrets (one or several, D10).
    pub secrets: Vec<JwtSecret>,
    /// The admin secret, if any (docs/server.md rule 2); `Debug` shows `<redacted>`.
    pub admin_secret: Option<SecretString>,
    /// The unauthorized role, if any (docs/server.md rule 3).
    pub unauthorized_role: Option<String>,
    /// Entries of the verified-token cache; 0 turns it off.
    pub token_cache_size: usize,
}

impl AuthenticatorConfig {
    /// These secrets, no admin secret, no unauthorized role, the default cache.
    pub fn new(secrets: Vec<JwtSecret>) -> Self {
        Self { secrets, ..Self::default() }
    }
}

impl Default for AuthenticatorConfig {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            admin_secret: None,
            unauthorized_role: None,
            token_cache_size: DEFAULT_TOKEN_CACHE_SIZE,
        }
    }
}

/// What [`Authenticator::authenticate`] says of a request.
#[derive(Debug)]
#[must_use]
pub enum Outcome {
    /// The verdict: the caller's session, or Hasura's error.
    Done(Result<Arc<Authenticated>, AuthError>),
    /// The token names a `kid` its key set lacks and a refetch of that set is under way (D6):
    /// await the [`Refetch`] under a timer of your own, then call
    /// [`Authenticator::authenticate_now`] for the verdict.
    AwaitKeys(Refetch),
}

// Header names made once, so lookups do not parse them per request.
static ROLE_HEADER: HeaderName = HeaderName::from_static("x-hasura-role");
static ADMIN_SECRET_HEADER: HeaderName = HeaderName::from_static("x-hasura-admin-secret");
static ACCESS_KEY_HEADER: HeaderName = HeaderName::from_static("x-hasura-access-key");

/// Per-candidate state of one request, inline for up to two tokens.
type PerToken<T> = SmallVec<[T; 2]>;

/// The result of the full path: the answer, and for a token the secret and key generation it
/// was verified with.
struct Verified {
    authenticated: Arc<Authenticated>,
    secret: Option<(usize, u64)>,
}

impl From<Arc<Authenticated>> for Verified {
    fn from(authenticated: Arc<Authenticated>) -> Self {
        Self { authenticated, secret: None }
    }
}

/// Authenticates requests as Hasura's JWT mode does (with jwtgate's decisions). Build it once;
/// `authenticate` takes `&self` and is safe to call from many threads.
pub struct Authenticator {
    secrets: Vec<ConfiguredSecret>,
    locations: Locations,
    admin_secret_digest: Option<digest::Digest>,
    unauthorized_role: Option<String>,
    cache: Option<TokenCache>,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("secrets", &self.secrets.len())
            .field("admin_secret", &self.admin_secret_digest.is_some())
            .field("unauthorized_role", &self.unauthorized_role)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds the authenticator. `key_set` is called once per `jwk_url` or `issuer_discovery`
    /// secret for the key set of the URL it is known by ([`jwtgate_config::KeySource::key_set_url`]: the
    /// `jwk_url`, or the discovery document's URL): a `jwtgate_jwks::JwksHandle` with the
    /// `fetch` feature, a [`jwtgate_jwks::FixedKeySet`], a test's script. Such a secret without
    /// one has no usable keys.
    pub fn new(
        config: AuthenticatorConfig,
        mut key_set: impl FnMut(&JwkUrl) -> Option<Arc<dyn KeySet>>,
    ) -> Self {
        let locations = Locations::new(config.secrets.iter().map(JwtSecret::location));
        let secrets = config
            .secrets
            .into_iter()
            .map(|secret| {
                let key_set = secret.key_source().key_set_url().and_then(&mut key_set);
                ConfiguredSecret {
                    location: locations.index_of(secret.location()),
                    secret,
                    key_set,
                }
            })
            .collect();
        Self {
            secrets,
            locations,
            admin_secret_digest: config
                .admin_secret
                .map(|secret| digest::digest(&digest::SHA512, secret.expose().as_bytes())),
            unauthorized_role: config.unauthorized_role,
            cache: (config.token_cache_size > 0).then(|| token_cache(config.token_cache_size)),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
        }
    }

    /// Whether these headers carry the configured admin secret (`x-hasura-admin-secret`, or
    /// `x-hasura-access-key`), compared in constant time; `None` when no admin secret is
    /// configured.
    pub fn admin_secret_matches(&self, headers: &HeaderMap) -> Option<bool> {
        let expected = self.admin_secret_digest.as_ref()?;
        let sent = headers.get(&ADMIN_SECRET_HEADER).or_else(|| headers.get(&ACCESS_KEY_HEADER));
        Some(sent.is_some_and(|sent| {
            let sent = digest::digest(&digest::SHA512, sent.as_bytes());
            constant_time::verify_slices_are_equal(sent.as_ref(), expected.as_ref()).is_ok()
        }))
    }

    /// The verified-token cache's counters so far.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            hits: self.cache_hits.load(Ordering::Relaxed),
            misses: self.cache_misses.load(Ordering::Relaxed),
        }
    }

    /// Says who the caller of a request with these headers is, at `now`, or that waiting for a
    /// key set refetch would decide it ([`Outcome::AwaitKeys`]).
    pub fn authenticate(&self, headers: &HeaderMap, now: SystemTime) -> Outcome {
        match self.authenticate_as::<MayWait>(headers, now) {
            Ok(authenticated) => Outcome::Done(Ok(authenticated)),
            Err(Stop::Denied(error)) => Outcome::Done(Err(error)),
            Err(Stop::AwaitKeys(refetch)) => Outcome::AwaitKeys(refetch),
        }
    }

    /// Says who the caller of a request with these headers is, at `now`, from the key sets held
    /// now: a refetch it asks for runs in the background.
    pub fn authenticate_now(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<Arc<Authenticated>, AuthError> {
        self.authenticate_as::<NeverWait>(headers, now).map_err(|stop| match stop {
            Stop::Denied(error) => error,
            Stop::AwaitKeys(never) => match never {},
        })
    }

    fn authenticate_as<W: Waiting>(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<Arc<Authenticated>, Stop<W::Pending>> {
        let role_header =
            headers.get(&ROLE_HEADER).map(|value| String::from_utf8_lossy(value.as_bytes()));
        let role_header = role_header.as_deref();
        let Some(cache) = &self.cache else {
            return self
                .authenticate_uncached::<W, _>(headers, now, role_header, &mut Silent)
                .map(|v| v.authenticated);
        };
        let mut count = 0;
        let mut only: Option<Candidate<'_>> = None;
        self.locations.scan(headers, |candidate| {
            count += 1;
            only = Some(candidate);
        });
        // The cache serves only a request with exactly one well-formed candidate, so it never
        // hides `Multiple JWTs found` or `Malformed Authorization header`.
        let Some(Candidate { location, token: Some(token) }) = only.filter(|_| count == 1) else {
            return self
                .authenticate_uncached::<W, _>(headers, now, role_header, &mut Silent)
                .map(|v| v.authenticated);
        };
        let key = CacheKeyRef { location, token: &token, role: role_header };
        if let Some(entry) = cache.get(&key)
            && self.is_fresh(&entry, now)
        {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::clone(&entry.authenticated));
        }
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
        let verified =
            self.authenticate_uncached::<W, _>(headers, now, role_header, &mut Silent)?;
        if let Some((secret, generation)) = verified.secret {
            let authenticated = Arc::clone(&verified.authenticated);
            let entry = CacheEntry { authenticated, secret, generation };
            cache.insert(key.to_owned_key(), Arc::new(entry));
        }
        Ok(verified.authenticated)
    }

    /// A cached answer counts until the token's `exp` and while its key set is unchanged.
    fn is_fresh(&self, entry: &CacheEntry, now: SystemTime) -> bool {
        let unexpired = entry.authenticated.expires().is_none_or(|exp| seconds(now) < exp);
        let same_keys = self
            .secrets
            .get(entry.secret)
            .is_none_or(|secret| secret.generation() == entry.generation);
        unexpired && same_keys
    }

    /// The uncached path, told to `observer` step by step (an explanation's).
    pub(crate) fn observed<W: Waiting, O: Observer>(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
        observer: &mut O,
    ) -> Result<Arc<Authenticated>, Stop<W::Pending>> {
        let role_header =
            headers.get(&ROLE_HEADER).map(|value| String::from_utf8_lossy(value.as_bytes()));
        self.authenticate_uncached::<W, O>(headers, now, role_header.as_deref(), observer)
            .map(|verified| verified.authenticated)
    }

    fn authenticate_uncached<W: Waiting, O: Observer>(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
        role_header: Option<&str>,
        observer: &mut O,
    ) -> Result<Verified, Stop<W::Pending>> {
        // Requests carry one token, rarely two: keep the per-token state off the heap.
        let mut candidates: PerToken<Candidate<'_>> = SmallVec::new();
        self.locations.scan(headers, |candidate| candidates.push(candidate));
        if O::RECORDS {
            self.observe_candidates(&candidates, observer);
        }
        if candidates.is_empty() {
            return Ok(self.without_token(headers, observer)?.into());
        }
        // Each token is decoded and its payload parsed once, whatever the number of secrets.
        let decoded = candidates
            .iter()
            .map(|candidate| {
                candidate.token.as_deref().map(|token| (candidate.location, verify::decode(token)))
            })
            .collect::<Option<PerToken<(usize, Result<DecodedToken<'_>, JwtError>)>>>()
            .ok_or(AuthError::MalformedAuthorization)?;
        let tokens: PerToken<Presented<'_>> =
            decoded.iter().map(|(location, decoded)| Presented::read(*location, decoded)).collect();
        if O::RECORDS {
            for (candidate, (_, decoded)) in candidates.iter().zip(&decoded) {
                explain_notes::header(candidate.token.as_deref(), decoded, observer);
            }
        }
        let (index, secret, token) = self.choose(&tokens, observer)?;
        let generation = secret.generation();
        let read = token.read.as_ref().map_err(|error| {
            // A token that did not decode failed at its header step already.
            if matches!(error, JwtError::ClaimsSetDecode(_)) {
                observer.step(StepName::Claims, StepOutcome::Failed, || error.to_string());
            }
            error.clone()
        })?;
        let authenticated = verify::verify::<W, O>(secret, read, role_header, now, observer)?;
        Ok(Verified { authenticated: Arc::new(authenticated), secret: Some((index, generation)) })
    }

    /// The location steps: each candidate found, or where none was.
    fn observe_candidates<O: Observer>(&self, candidates: &[Candidate<'_>], observer: &mut O) {
        if candidates.is_empty() {
            observer.step(StepName::Location, StepOutcome::Info, || {
                format!("no token in {}", self.locations.describe_all())
            });
        }
        for candidate in candidates {
            let place = self.locations.describe(candidate.location);
            match candidate.token {
                Some(_) => observer
                    .step(StepName::Location, StepOutcome::Ok, || format!("a token in {place}")),
                None => observer.step(StepName::Location, StepOutcome::Failed, || {
                    format!("{place} is not \"Bearer <token>\"")
                }),
            }
        }
        if candidates.len() > 1 {
            observer.step(StepName::Location, StepOutcome::Info, || {
                format!("{} candidates: each is matched to the secrets", candidates.len())
            });
        }
    }

    /// The one (secret, token) pair whose location and issuer match (section 6): none is
    /// `JWTNotInIssuer`, more than one `Multiple JWTs found`.
    fn choose<'s, 'p, 't, O: Observer>(
        &'s self,
        tokens: &'p [Presented<'t>],
        observer: &mut O,
    ) -> Result<(usize, &'s ConfiguredSecret, &'p Presented<'t>), AuthError> {
        let mut pairs = tokens.iter().flat_map(|token| {
            self.secrets
                .iter()
                .enumerate()
                .filter(move |(_, secret)| secret.location == token.location && secret.fits(token))
                .map(move |(index, secret)| (index, secret, token))
        });
        let chosen = pairs.next();
        let second = pairs.next();
        if O::RECORDS {
            explain_notes::secrets(&self.secrets, tokens, &self.locations, observer);
        }
        let Some(chosen) = chosen else {
            observer.step(StepName::Secret, StepOutcome::Failed, || {
                "no secret takes the token: none reads its location with its issuer".to_owned()
            });
            return Err(JwtError::NotInIssuer.into());
        };
        if second.is_some() {
            observer.step(StepName::Secret, StepOutcome::Failed, || {
                "more than one (secret, token) pair matches by location and issuer".to_owned()
            });
            return Err(AuthError::MultipleTokens);
        }
        Ok(chosen)
    }

    /// No token presented: the admin secret, else the unauthorized role (docs/server.md 2 and 3).
    fn without_token<O: Observer>(
        &self,
        headers: &HeaderMap,
        observer: &mut O,
    ) -> Result<Arc<Authenticated>, AuthError> {
        if let Some(expected) = &self.admin_secret_digest {
            let sent =
                headers.get(&ADMIN_SECRET_HEADER).or_else(|| headers.get(&ACCESS_KEY_HEADER));
            if let Some(sent) = sent {
                let sent = digest::digest(&digest::SHA512, sent.as_bytes());
                constant_time::verify_slices_are_equal(sent.as_ref(), expected.as_ref()).map_err(
                    |_| {
                        observer.step(StepName::AdminSecret, StepOutcome::Failed, || {
                            "the admin secret header does not match".to_owned()
                        });
                        AuthError::InvalidAdminSecret
                    },
                )?;
                observer.step(StepName::AdminSecret, StepOutcome::Ok, || {
                    "the admin secret header matches".to_owned()
                });
                let role = headers
                    .get(&ROLE_HEADER)
                    .map(|value| String::from_utf8_lossy(value.as_bytes()))
                    .filter(|role| !role.is_empty())
                    .unwrap_or(Cow::Borrowed("admin"));
                let session = Session::from_variables(&role, request_variables(headers));
                return Ok(Arc::new(Authenticated::new(session, None, Caller::AdminSecret)));
            }
        }
        let Some(role) = self.unauthorized_role.as_deref() else {
            observer.step(StepName::UnauthorizedRole, StepOutcome::Failed, || {
                "no token, no admin secret header, and no unauthorized role configured".to_owned()
            });
            return Err(AuthError::MissingToken);
        };
        observer.step(StepName::UnauthorizedRole, StepOutcome::Ok, || {
            format!("no credentials: the unauthorized role {role}")
        });
        let session = Session::from_variables(role, request_variables(headers));
        Ok(Arc::new(Authenticated::new(session, None, Caller::UnauthorizedRole)))
    }
}

/// The request's `x-hasura-*` headers (names lower-case already), values decoded lossily.
fn request_variables(headers: &HeaderMap) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-hasura-"))
        .map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value.as_bytes())))
}
