//! A key set response body: parsed into usable keys (at most 100, the rest skipped with a
//! reason) or refused, never a panic; a token's key lookup works on whatever was kept.

#![no_main]

use jwtgate_config::Algorithm;
use jwtgate_jwks::{JwkSet, MAX_USABLE_KEYS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = JwkSet::parse(data) else { return };
    assert!(set.len() <= MAX_USABLE_KEYS);
    let _ = format!("{set:?}");
    let kid = set.keys().first().and_then(|key| key.kid()).map(str::to_owned);
    for alg in Algorithm::ALL {
        for key in set.keys_to_try(kid.as_deref(), alg) {
            assert!(key.fits(alg), "a key handed to a token fits its alg");
        }
        assert!(set.keys_to_try(kid.as_deref(), alg).count() <= MAX_USABLE_KEYS);
    }
});
