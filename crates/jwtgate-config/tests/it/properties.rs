//! Property tests: no input makes the parser panic.
//!
//! If one fails, proptest prints the shrunk input and saves it under `proptest-regressions/`:
//! commit that file, turn the case into a fixture under `fixtures/config/reject/` (or `accept/`),
//! and fix the parser; do not just re-run.

use jwtgate_config::{JsonPath, parse_jwt_secret, parse_jwt_secrets};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Arbitrary JSON, biased towards the shape of a secret object.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![Just("HS256"), Just("RS256"), Just("Ed25519"), Just("$.a[0]"), Just("Cookie")]
            .prop_map(Value::from),
        Just(Value::from("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let member = prop_oneof![
            Just("type".to_owned()),
            Just("key".to_owned()),
            Just("jwk_url".to_owned()),
            Just("claims_namespace".to_owned()),
            Just("claims_namespace_path".to_owned()),
            Just("claims_format".to_owned()),
            Just("claims_map".to_owned()),
            Just("audience".to_owned()),
            Just("issuer".to_owned()),
            Just("allowed_skew".to_owned()),
            Just("header".to_owned()),
            Just("name".to_owned()),
            Just("path".to_owned()),
            Just("default".to_owned()),
            Just("x-hasura-allowed-roles".to_owned()),
            Just("x-hasura-default-role".to_owned()),
            ".{0,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((member, inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_json_never_panics(value in arb_json()) {
        let text = value.to_string();
        let _ = parse_jwt_secret(&text);
        let _ = parse_jwt_secrets(&text);
        let _ = parse_jwt_secrets(&Value::Array(vec![value]).to_string());
    }

    #[test]
    fn arbitrary_strings_never_panic(text in ".{0,200}") {
        let _ = parse_jwt_secret(&text);
        let _ = parse_jwt_secrets(&text);
        let _ = JsonPath::parse(&text);
    }

    #[test]
    fn path_like_strings_never_panic(text in r#"\$?([.\[\]'"\\a-z0-9_\-]|\\u[0-9a-f]{0,4}){0,30}"#) {
        if let Ok(path) = JsonPath::parse(&text) {
            // Every accepted path re-parses from its Hasura display form to the same steps.
            let again = JsonPath::parse(path.hasura_display()).unwrap();
            prop_assert_eq!(again.steps(), path.steps());
        }
    }
}
