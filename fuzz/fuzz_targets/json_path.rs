//! Hasura's JSON path grammar (`claims_map` paths and `claims_namespace_path`): a path parses or
//! is refused, never a panic; an accepted path re-parses from its Hasura form to the same
//! steps, and its compiled query runs on a claims document.

#![no_main]

use std::sync::OnceLock;

use jwtgate_config::JsonPath;
use libfuzzer_sys::fuzz_target;

/// The claims document every accepted path is queried on.
static CLAIMS: OnceLock<serde_json::Value> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(path) = JsonPath::parse(text) else { return };
    let again = JsonPath::parse(path.hasura_display())
        .unwrap_or_else(|error| panic!("{:?} does not re-parse: {error}", path.hasura_display()));
    assert_eq!(again.steps(), path.steps());
    let claims = CLAIMS.get_or_init(|| {
        serde_json::json!({
            "sub": "1", "roles": ["user", "editor"], "org id": [7],
            "hasura": {"claims": {"x-hasura-default-role": "user"}, "all_roles": ["a", "b"]},
            "": {"": [null, true, 1.5]}
        })
    });
    let _ = path.select(claims);
});
