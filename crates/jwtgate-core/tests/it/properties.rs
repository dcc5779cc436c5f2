//! No input panics: arbitrary bytes as a token, arbitrary header maps.

use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue};
use jwtgate_core::Authenticator;
use proptest::prelude::*;

use crate::support::{Setup, now};

fn authenticator() -> &'static Authenticator {
    static AUTHENTICATOR: OnceLock<Authenticator> = OnceLock::new();
    AUTHENTICATOR.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let secrets = vec![
            serde_json::json!({"type": "HS256", "key": crate::support::HS_SECRET}),
            serde_json::json!({"type": "HS256", "key": crate::support::HS_SECRET, "issuer": "i",
                "header": {"type": "Cookie", "name": "jwt"}}),
            serde_json::json!({"type": "HS256", "key": crate::support::HS_SECRET,
                "header": {"type": "CustomHeader", "name": "x-token"}}),
        ];
        runtime.block_on(
            Setup {
                secrets,
                admin_secret: Some("s"),
                unauthorized_role: Some("anon"),
                cache_size: 16,
                ..Setup::default()
            }
            .build(),
        )
    })
}

fn header_name() -> impl Strategy<Value = HeaderName> {
    prop_oneof![
        Just(HeaderName::from_static("authorization")),
        Just(HeaderName::from_static("cookie")),
        Just(HeaderName::from_static("x-token")),
        Just(HeaderName::from_static("x-hasura-role")),
        Just(HeaderName::from_static("x-hasura-admin-secret")),
        "x-hasura-[a-z]{1,8}".prop_map(|name| HeaderName::from_bytes(name.as_bytes()).unwrap()),
    ]
}

fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200)
            .prop_filter_map("valid header bytes", |bytes| HeaderValue::from_bytes(&bytes).ok()),
        "(Bearer )?[A-Za-z0-9_.=%+-]{0,120}".prop_map(|text| HeaderValue::from_str(&text).unwrap()),
        "jwt=[A-Za-z0-9_.%+-]{0,120}(; jwt=[a-z.]{0,10})?"
            .prop_map(|text| HeaderValue::from_str(&text).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_headers_never_panic(pairs in proptest::collection::vec((header_name(), header_value()), 0..6)) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, value);
        }
        let result = authenticator().authenticate_now(&headers, now());
        if let Err(error) = result {
            prop_assert_eq!(error.status(), 401);
            prop_assert!(!error.code().is_empty());
        }
    }

    #[test]
    fn arbitrary_token_bytes_never_panic(token in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut value = b"Bearer ".to_vec();
        value.extend(token.iter().filter(|&&byte| byte != b' ' && byte != b'\t'));
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            let mut headers = HeaderMap::new();
            headers.insert("authorization", value);
            let _ = authenticator().authenticate_now(&headers, now());
        }
    }

    #[test]
    fn arbitrary_dotted_base64_never_panics(parts in proptest::collection::vec("[A-Za-z0-9_-]{0,60}", 1..5)) {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {}", parts.join("."))).unwrap());
        prop_assert!(authenticator().authenticate_now(&headers, now()).is_err());
    }
}
