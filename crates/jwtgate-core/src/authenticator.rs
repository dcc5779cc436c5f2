//! The `Authenticator`: request headers and `now` in, the caller's session or Hasura's error out.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::{constant_time, digest};
use http::{HeaderMap, HeaderName};
use jwtgate_claims::{ClaimsSet, ClaimsSetError, Session};
use jwtgate_config::{JwkUrl, JwtSecret, KeySource, SecretString, VerifyingKey};
use jwtgate_jwks::JwksHandle;
use smallvec::SmallVec;

use crate::error::{AuthError, JwtError, MAX_TOKEN_BYTES};
use crate::extract::{Candidate, Locations};
use crate::token::{self, DecodedToken, Registered, TokenAlgorithm};

/// What an [`Authenticator`] is built from.
#[derive(Debug, Default)]
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

// Header names made once, so lookups do not parse them per request.
static ROLE_HEADER: HeaderName = HeaderName::from_static("x-hasura-role");
static ADMIN_SECRET_HEADER: HeaderName = HeaderName::from_static("x-hasura-admin-secret");
static ACCESS_KEY_HEADER: HeaderName = HeaderName::from_static("x-hasura-access-key");

/// The default size of the verified-token cache.
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 10_000;

/// How the caller was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// By a verified token.
    Token,
    /// By the admin secret.
    AdminSecret,
    /// Not at all: the unauthorized role applies.
    UnauthorizedRole,
}

/// A successful authentication: the session, and the token's `exp` when it had one.
pub struct Authenticated {
    session: Session,
    expires: Option<f64>,
    caller: Caller,
    /// The caller's rendering of this answer (say, an HTTP response), made once: a cached answer
    /// keeps it, so a cache hit renders nothing.
    rendered: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("session", &self.session)
            .field("expires", &self.expires)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Authenticated {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session
            && self.expires == other.expires
            && self.caller == other.caller
    }
}

impl Authenticated {
    fn new(session: Session, expires: Option<f64>, caller: Caller) -> Self {
        Self { session, expires, caller, rendered: OnceLock::new() }
    }

    /// The caller's rendering of this answer, made by `render` the first time it is asked for
    /// and kept with the answer (and so with its cache entry). `None` when an earlier call
    /// stored a rendering of another type.
    pub fn rendered<T: Any + Send + Sync>(&self, render: impl FnOnce(&Self) -> T) -> Option<&T> {
        self.rendered.get_or_init(|| Box::new(render(self))).downcast_ref()
    }

    /// The Hasura session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The token's `exp` (seconds since the epoch), exactly as sent.
    pub fn expires(&self) -> Option<f64> {
        self.expires
    }

    /// How the caller was recognised.
    pub fn caller(&self) -> Caller {
        self.caller
    }
}

struct ConfiguredSecret {
    secret: JwtSecret,
    location: usize,
    key_set: Option<JwksHandle>,
}

/// A cache key: the token's location, the token and the `x-hasura-role` header.
#[derive(PartialEq, Eq)]
struct CacheKey {
    location: usize,
    token: Box<[u8]>,
    role: Option<Box<str>>,
}

/// The same key borrowed from a request, so lookups never allocate.
struct CacheKeyRef<'a> {
    location: usize,
    token: &'a [u8],
    role: Option<&'a str>,
}

/// How many trailing token bytes the cache hashes.
const HASHED_TOKEN_TAIL: usize = 32;

/// Hashes a key by the token's length and its last bytes, which lie in the signature. Only
/// verified tokens enter the cache, and distinct valid tokens have distinct signatures, so the
/// tail spreads keys as well as the whole token would at a fraction of the hashing; equality
/// still compares whole tokens.
fn hash_key<H: Hasher>(location: usize, token: &[u8], role: Option<&str>, state: &mut H) {
    location.hash(state);
    token.len().hash(state);
    token.get(token.len().saturating_sub(HASHED_TOKEN_TAIL)..).unwrap_or_default().hash(state);
    role.hash(state);
}

impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_key(self.location, &self.token, self.role.as_deref(), state);
    }
}

impl Hash for CacheKeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_key(self.location, self.token, self.role, state);
    }
}

impl quick_cache::Equivalent<CacheKey> for CacheKeyRef<'_> {
    fn equivalent(&self, key: &CacheKey) -> bool {
        self.location == key.location
            && *self.token == *key.token
            && self.role == key.role.as_deref()
    }
}

struct CacheEntry {
    authenticated: Arc<Authenticated>,
    secret: usize,
    generation: u64,
}

/// A fixed-seed hasher: only verified tokens (whose signatures nobody but the issuer chooses)
/// enter the cache, so seeding buys nothing, and a fixed seed keeps instruction counts
/// repeatable for the benchmark gate.
type FixedHasher = std::hash::BuildHasherDefault<std::hash::DefaultHasher>;

/// The verified-token cache.
type TokenCache = quick_cache::sync::Cache<
    CacheKey,
    Arc<CacheEntry>,
    quick_cache::UnitWeighter,
    FixedHasher,
    quick_cache::sync::DefaultLifecycle<CacheKey, Arc<CacheEntry>>,
>;

/// Per-candidate state of one request, inline for up to two tokens.
type PerToken<T> = SmallVec<[T; 2]>;

/// The result of the full path: the answer, and for a token the secret and key generation it
/// was verified with.
struct Verified {
    authenticated: Arc<Authenticated>,
    secret: Option<(usize, u64)>,
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

/// Verified-token cache counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests the cache could serve but did not hold (or held stale).
    pub misses: u64,
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
    /// Builds the authenticator. `key_set` is called once per `jwk_url` secret for the handle
    /// of that URL's fetcher (the server starts them; tests may script them).
    pub fn new(
        config: AuthenticatorConfig,
        mut key_set: impl FnMut(&JwkUrl) -> Option<JwksHandle>,
    ) -> Self {
        let locations = Locations::new(config.secrets.iter().map(JwtSecret::location));
        let secrets = config
            .secrets
            .into_iter()
            .map(|secret| {
                let key_set = match secret.key_source() {
                    KeySource::JwkUrl(url) => key_set(url),
                    KeySource::Key { .. } => None,
                };
                ConfiguredSecret {
                    location: locations.index_of(secret.location()),
                    secret,
                    key_set,
                }
            })
            .collect();
        let cache = (config.token_cache_size > 0).then(|| {
            TokenCache::with(
                config.token_cache_size,
                config.token_cache_size as u64,
                quick_cache::UnitWeighter,
                FixedHasher::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            )
        });
        Self {
            secrets,
            locations,
            admin_secret_digest: config
                .admin_secret
                .map(|secret| digest::digest(&digest::SHA512, secret.expose().as_bytes())),
            unauthorized_role: config.unauthorized_role,
            cache,
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
        }
    }

    /// The key set fetchers of the `jwk_url` secrets, in secret order.
    pub fn key_sets(&self) -> impl Iterator<Item = &JwksHandle> {
        self.secrets.iter().filter_map(|secret| secret.key_set.as_ref())
    }

    /// The verified-token cache's counters so far.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            hits: self.cache_hits.load(Ordering::Relaxed),
            misses: self.cache_misses.load(Ordering::Relaxed),
        }
    }

    /// Says who the caller of a request with these headers is, at `now`.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<Arc<Authenticated>, AuthError> {
        let role_header =
            headers.get(&ROLE_HEADER).map(|value| String::from_utf8_lossy(value.as_bytes()));
        let Some(cache) = &self.cache else {
            return self
                .authenticate_uncached(headers, now, role_header.as_deref())
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
                .authenticate_uncached(headers, now, role_header.as_deref())
                .map(|v| v.authenticated);
        };
        let key = CacheKeyRef { location, token: &token, role: role_header.as_deref() };
        if let Some(entry) = cache.get(&key)
            && self.is_fresh(&entry, now)
        {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::clone(&entry.authenticated));
        }
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
        let verified = self.authenticate_uncached(headers, now, role_header.as_deref())?;
        if let Some((secret, generation)) = verified.secret {
            let key = CacheKey {
                location,
                token: token.as_ref().into(),
                role: role_header.as_deref().map(Into::into),
            };
            let entry = CacheEntry {
                authenticated: Arc::clone(&verified.authenticated),
                secret,
                generation,
            };
            cache.insert(key, Arc::new(entry));
        }
        Ok(verified.authenticated)
    }

    /// A cached answer counts until the token's `exp` and while its key set is unchanged.
    fn is_fresh(&self, entry: &CacheEntry, now: SystemTime) -> bool {
        let unexpired = entry.authenticated.expires.is_none_or(|exp| seconds(now) < exp);
        let same_keys = self
            .secrets
            .get(entry.secret)
            .and_then(|secret| secret.key_set.as_ref())
            .is_none_or(|key_set| key_set.generation() == entry.generation);
        unexpired && same_keys
    }

    fn authenticate_uncached(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
        role_header: Option<&str>,
    ) -> Result<Verified, AuthError> {
        // Requests carry one token, rarely two: keep the per-token state off the heap.
        let mut candidates: PerToken<Candidate<'_>> = SmallVec::new();
        self.locations.scan(headers, |candidate| candidates.push(candidate));
        if candidates.is_empty() {
            return self
                .without_token(headers)
                .map(|authenticated| Verified { authenticated, secret: None });
        }
        if candidates.iter().any(|candidate| candidate.token.is_none()) {
            return Err(AuthError::MalformedAuthorization);
        }
        // Each token is decoded and its payload parsed once, whatever the number of secrets.
        let decoded: PerToken<Result<DecodedToken<'_>, JwtError>> = candidates
            .iter()
            .map(|candidate| {
                let token = candidate.token.as_deref().unwrap_or_default();
                if token.len() > MAX_TOKEN_BYTES {
                    Err(JwtError::TooLarge)
                } else {
                    token::decode(token)
                }
            })
            .collect();
        let claims: PerToken<Option<Result<ClaimsSet<'_>, ClaimsSetError>>> = decoded
            .iter()
            .map(|token| token.as_ref().ok().map(|token| ClaimsSet::parse(&token.payload)))
            .collect();
        // The registered claims are typed once too; the issuer pre-match reads `iss` from them,
        // and a token whose claims set does not decode counts as having no issuer (3.6.1).
        let registered: PerToken<Option<Result<Registered<'_>, JwtError>>> = claims
            .iter()
            .map(|claims| match claims {
                Some(Ok(claims)) => Some(token::registered(claims)),
                _ => None,
            })
            .collect();

        // Issuer pre-match of every (secret, token) pair (section 6).
        let mut chosen = None;
        let mut matches = 0;
        for (index, candidate) in candidates.iter().enumerate() {
            let token_issuer = match registered.get(index) {
                Some(Some(Ok(registered))) => registered.iss.as_deref(),
                _ => None,
            };
            for (secret_index, secret) in self.secrets.iter().enumerate() {
                if secret.location != candidate.location {
                    continue;
                }
                let mismatch = matches!((secret.secret.issuer(), token_issuer), (Some(wanted), Some(iss)) if wanted != iss);
                if !mismatch {
                    matches += 1;
                    chosen = Some((index, secret_index));
                }
            }
        }
        let (index, secret_index) = match (matches, chosen) {
            (1, Some(pair)) => pair,
            (0, _) | (_, None) => return Err(JwtError::NotInIssuer.into()),
            _ => return Err(AuthError::MultipleTokens),
        };
        let secret = self.secrets.get(secret_index).ok_or(AuthError::MissingToken)?;
        let generation = secret.key_set.as_ref().map_or(0, JwksHandle::generation);
        let decoded =
            decoded.get(index).ok_or(AuthError::MissingToken)?.as_ref().map_err(Clone::clone)?;
        let (claims, registered) = match (claims.get(index), registered.get(index)) {
            (Some(Some(Ok(claims))), Some(Some(registered))) => {
                (claims, registered.as_ref().map_err(Clone::clone)?)
            }
            (Some(Some(Err(error))), _) => {
                return Err(JwtError::ClaimsSetDecode(error.clone()).into());
            }
            _ => return Err(AuthError::MissingToken),
        };
        let authenticated = verify(secret, decoded, claims, registered, role_header, now)?;
        Ok(Verified {
            authenticated: Arc::new(authenticated),
            secret: Some((secret_index, generation)),
        })
    }

    /// No token presented: the admin secret, else the unauthorized role (docs/server.md 2 and 3).
    fn without_token(&self, headers: &HeaderMap) -> Result<Arc<Authenticated>, AuthError> {
        if let Some(expected) = &self.admin_secret_digest {
            let sent =
                headers.get(&ADMIN_SECRET_HEADER).or_else(|| headers.get(&ACCESS_KEY_HEADER));
            if let Some(sent) = sent {
                let sent = digest::digest(&digest::SHA512, sent.as_bytes());
                constant_time::verify_slices_are_equal(sent.as_ref(), expected.as_ref())
                    .map_err(|_| AuthError::InvalidAdminSecret)?;
                let role = headers
                    .get(&ROLE_HEADER)
                    .map(|value| String::from_utf8_lossy(value.as_bytes()))
                    .filter(|role| !role.is_empty())
                    .unwrap_or(Cow::Borrowed("admin"));
                let session = Session::from_variables(&role, request_variables(headers));
                return Ok(Arc::new(Authenticated::new(session, None, Caller::AdminSecret)));
            }
        }
        let role = self.unauthorized_role.as_deref().ok_or(AuthError::MissingToken)?;
        let session = Session::from_variables(role, request_variables(headers));
        Ok(Arc::new(Authenticated::new(session, None, Caller::UnauthorizedRole)))
    }
}

/// The request's `x-hasura-*` headers (names lower-case already), values decoded lossily.
fn request_variables(headers: &HeaderMap) -> impl Iterator<Item = (&str, String)> {
    headers.iter().filter(|(name, _)| name.as_str().starts_with("x-hasura-")).map(
        |(name, value)| (name.as_str(), String::from_utf8_lossy(value.as_bytes()).into_owned()),
    )
}

/// Signature, registered claims and claims resolution of the chosen (secret, token) pair.
fn verify(
    configured: &ConfiguredSecret,
    token: &DecodedToken<'_>,
    claims: &ClaimsSet<'_>,
    registered: &Registered<'_>,
    role_header: Option<&str>,
    now: SystemTime,
) -> Result<Authenticated, AuthError> {
    let secret = &configured.secret;
    check_signature(configured, token, now)?;
    token::check(
        registered,
        seconds(now),
        secret.allowed_skew(),
        secret.issuer(),
        secret.audience(),
    )?;
    let session = jwtgate_claims::resolve(claims, secret.claims(), role_header)?;
    Ok(Authenticated::new(session, registered.exp, Caller::Token))
}

/// Tries the secret's keys: the one configured key, or the keys of the set D19 allows (those
/// the token's `kid` names, else those fitting its `alg`). An unknown `kid` also asks the
/// fetcher for one background refetch (D6).
fn check_signature(
    configured: &ConfiguredSecret,
    token: &DecodedToken<'_>,
    now: SystemTime,
) -> Result<(), JwtError> {
    let alg = match token.alg {
        TokenAlgorithm::None => return Err(JwtError::NoSignatures),
        TokenAlgorithm::Known(alg) => Some(alg),
        TokenAlgorithm::Unverifiable => None,
    };
    let verifies = |key: &VerifyingKey, alg| key.verify(alg, token.signing_input, &token.signature);
    let signature_ok = match (configured.secret.key_source(), &configured.key_set) {
        (KeySource::Key { key, .. }, _) => alg.is_some_and(|alg| verifies(key, alg)),
        (KeySource::JwkUrl(_), Some(handle)) => {
            let set = handle.keys();
            if let Some(kid) = token.kid.as_deref()
                && !set.contains_kid(kid)
            {
                handle.refetch_for_unknown_kid(now);
            }
            if set.is_empty() {
                return Err(JwtError::NoUsableKeys);
            }
            alg.is_some_and(|alg| {
                set.keys_to_try(token.kid.as_deref(), alg).any(|jwk| verifies(jwk.key(), alg))
            })
        }
        (KeySource::JwkUrl(_), None) => return Err(JwtError::NoUsableKeys),
    };
    if signature_ok { Ok(()) } else { Err(JwtError::InvalidSignature) }
}

/// Seconds since the epoch as jose reads `NumericDate`s.
fn seconds(now: SystemTime) -> f64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}
