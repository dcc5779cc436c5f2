//! `Cache-Control` and `Expires` values through the refresh policy: a header block of response
//! headers; every `Cache-Control` line parses on its own, and the next fetch is never sooner
//! than a second after a success, whether the keys were refreshing or not.

#![no_main]

use http::header::CACHE_CONTROL;
use jwtgate_fuzz::{header_block, now};
use jwtgate_jwks::refresh::{self, CacheDirectives, MAX_AGE_CAP, MINIMUM_DELAY, NextFetch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let headers = header_block(data);
    for line in headers.get_all(CACHE_CONTROL) {
        let directives = CacheDirectives::parse(&String::from_utf8_lossy(line.as_bytes()));
        assert!(directives.max_age.is_none_or(|age| age.as_secs() <= MAX_AGE_CAP));
    }
    for refreshing in [false, true] {
        let decision = refresh::after_success(&headers, now(), refreshing);
        if let NextFetch::After(delay) = decision.next {
            assert!(delay >= MINIMUM_DELAY, "{decision:?}");
        }
    }
});
