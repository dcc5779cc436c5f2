//! The verified-token cache: keyed by (location, token, `x-hasura-role`), looked up without
//! allocating, and valid while the token is unexpired and its key set unchanged.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::answer::Authenticated;

/// A cache key: the token's location, the token and the `x-hasura-role` header.
#[derive(PartialEq, Eq)]
pub(crate) struct CacheKey {
    location: usize,
    token: Box<[u8]>,
    role: Option<Box<str>>,
}

/// The same key borrowed from a request, so lookups never allocate.
pub(crate) struct CacheKeyRef<'a> {
    pub(crate) location: usize,
    pub(crate) token: &'a [u8],
    pub(crate) role: Option<&'a str>,
}

impl CacheKeyRef<'_> {
    pub(crate) fn to_owned_key(&self) -> CacheKey {
        CacheKey {
            location: self.location,
            token: self.token.into(),
            role: self.role.map(Into::into),
        }
    }
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

/// A cached answer, with the secret and key set generation it was verified with.
pub(crate) struct CacheEntry {
    pub(crate) authenticated: Arc<Authenticated>,
    pub(crate) secret: usize,
    pub(crate) generation: u64,
}

/// A fixed-seed hasher: only verified tokens (whose signatures nobody but the issuer chooses)
/// enter the cache, so seeding buys nothing, and a fixed seed keeps instruction counts
/// repeatable for the benchmark gate.
type FixedHasher = std::hash::BuildHasherDefault<std::hash::DefaultHasher>;

/// The verified-token cache.
pub(crate) type TokenCache = quick_cache::sync::Cache<
    CacheKey,
    Arc<CacheEntry>,
    quick_cache::UnitWeighter,
    FixedHasher,
    quick_cache::sync::DefaultLifecycle<CacheKey, Arc<CacheEntry>>,
>;

/// A cache of `size` entries.
pub(crate) fn token_cache(size: usize) -> TokenCache {
    TokenCache::with(
        size,
        size as u64,
        quick_cache::UnitWeighter,
        FixedHasher::default(),
        quick_cache::sync::DefaultLifecycle::default(),
    )
}

/// Verified-token cache counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests the cache could serve but did not hold (or held stale).
    pub misses: u64,
}
