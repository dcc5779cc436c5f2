//! The whole `Authenticator::authenticate` path on arbitrary headers: the first byte picks one of
//! `jwtgate_fuzz::SETUPS` (HMAC, RSA, EC, Ed25519, a key set, several secrets at once, a claims
//! map with audience and issuer), the rest is a header block (`name: value` lines). An answer
//! asking to wait for a key set refetch is followed, as a server would, by `authenticate_now`.

#![no_main]

use jwtgate_core::Outcome;
use jwtgate_fuzz::{ADMIN_SECRET, HS256_KEY, header_block, now, setups};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((selector, block)) = data.split_first() else { return };
    let setups = setups();
    let Some(authenticator) = setups.get(usize::from(*selector) % setups.len()) else { return };
    let headers = header_block(block);
    let verdict = match authenticator.authenticate(&headers, now()) {
        Outcome::Done(verdict) => verdict,
        Outcome::AwaitKeys(_refetch) => authenticator.authenticate_now(&headers, now()),
    };
    match verdict {
        Ok(answer) => {
            assert!(!answer.session().role().is_empty(), "a session always has a role");
        }
        Err(error) => {
            assert_eq!(error.status(), 401);
            assert!(!error.code().is_empty());
            // Neither the message nor the debug form holds a secret the request did not.
            let shown = format!("{error} {error:?}");
            for secret in [HS256_KEY, ADMIN_SECRET] {
                let sent = data.windows(secret.len()).any(|window| window == secret.as_bytes());
                assert!(sent || !shown.contains(secret), "a denial shows a secret: {shown}");
            }
        }
    }
});
