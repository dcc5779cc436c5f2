//! The secret configuration JSON, as `HASURA_GRAPHQL_JWT_SECRET` (one secret) and as
//! `HASURA_GRAPHQL_JWT_SECRETS` (a list): parsed or refused with a message, never a panic, and
//! key material never in the debug form.

#![no_main]

use jwtgate_config::{parse_jwt_secret, parse_jwt_secrets};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The variables are text; bytes that are not UTF-8 never reach the parser.
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_jwt_secret(text) {
        Ok(secret) => assert_hides_keys(text, &format!("{secret:?}")),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    match parse_jwt_secrets(text) {
        Ok(secrets) => {
            assert!(!secrets.is_empty(), "a list parses to at least one secret");
            assert_hides_keys(text, &format!("{secrets:?}"));
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});

/// No secret's `key` (HMAC secrets are at least 32 bytes) shows in `shown`, unless the document
/// holds the same text elsewhere too (inside a URL or a `claims_map` literal, say), where
/// showing it is no leak.
fn assert_hides_keys(text: &str, shown: &str) {
    let Ok(document) = serde_json::from_str::<Value>(text) else { return };
    let secrets = match &document {
        Value::Array(items) => items.iter().collect(),
        secret => vec![secret],
    };
    let keys: Vec<&str> = secrets
        .iter()
        .filter_map(|secret| secret.get("key").and_then(Value::as_str))
        .filter(|key| key.len() >= 32)
        .collect();
    let mut strings = Vec::new();
    let mut pending = vec![&document];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(members) => {
                for (name, member) in members {
                    strings.push(name.as_str());
                    pending.push(member);
                }
            }
            Value::Array(items) => pending.extend(items),
            Value::String(string) => strings.push(string.as_str()),
            _ => {}
        }
    }
    for key in keys {
        let holders = strings.iter().filter(|string| string.contains(key)).count();
        assert!(holders > 1 || !shown.contains(key), "a key shows in {shown}");
    }
}
