//! The secret configuration JSON, as `HASURA_GRAPHQL_JWT_SECRET` (one secret) and as
//! `HASURA_GRAPHQL_JWT_SECRETS` (a list): parsed or refused with a message, never a panic, and
//! key material never in the debug form.

#![no_main]

use jwtgate_config::{parse_jwt_secret, parse_jwt_secrets};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The variables are text; bytes that are not UTF-8 never reach the parser.
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_jwt_secret(text) {
        Ok(secret) => {
            let shown = format!("{secret:?}");
            assert!(!shown.contains("PRIVATE KEY") && !shown.contains("BEGIN"), "{shown}");
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    match parse_jwt_secrets(text) {
        Ok(secrets) => assert!(!secrets.is_empty(), "a list parses to at least one secret"),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
