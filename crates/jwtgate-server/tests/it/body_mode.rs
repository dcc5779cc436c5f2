//! Body mode is total: whatever a POST body holds, the handler answers 200, 400 or 401 without
//! panicking, and a 400 or 401 names the problem without quoting the body. Driven in process through
//! `App::handle`, as hyper calls it, with an in-memory body.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full};
use jwtgate_config::parse_jwt_secret;
use jwtgate_core::{Authenticator, AuthenticatorConfig};
use jwtgate_server::App;
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::support::{SECRET, hs256_secret, token};

/// Every string the generated bodies hold starts with this, so a reflected value is easy to spot.
const MARKER: &str = "QUOTED";

fn app() -> Arc<App> {
    static APP: OnceLock<Arc<App>> = OnceLock::new();
    Arc::clone(APP.get_or_init(|| {
        let mut config = AuthenticatorConfig::new(vec![parse_jwt_secret(&hs256_secret()).unwrap()]);
        config.unauthorized_role = Some("anonymous".to_owned());
        Arc::new(App::new(Authenticator::new(config, |_| None), Vec::new()).unwrap())
    }))
}

/// POSTs `body` to `/v1/auth` in process; the status and the body of the answer.
fn post(body: Vec<u8>) -> (u16, Value) {
    post_body(Full::new(Bytes::from(body)))
}

/// POSTs any body to `/v1/auth` in process; the status and the body of the answer.
pub(crate) fn post_body<B>(body: B) -> (u16, Value)
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    runtime.block_on(async {
        let request = Request::builder().method(Method::POST).uri("/v1/auth").body(body);
        let response = app().handle(request.unwrap()).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    })
}

/// Any JSON value, its strings marked.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9 .:;=-]{0,12}".prop_map(|text| Value::from(format!("{MARKER}{text}"))),
        Just(Value::from(format!("Bearer {}", token()))),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((member_name(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("headers".to_owned()),
        Just("request".to_owned()),
        Just("authorization".to_owned()),
        Just("x-hasura-role".to_owned()),
        Just("x-hasura-user-id".to_owned()),
        "[a-zA-Z -]{0,10}".prop_map(|name| format!("{MARKER}{name}")),
    ]
}

/// A `headers` member's value: mostly strings (a good token, a bad one, a role), or anything.
fn header_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => Just(Value::from(format!("Bearer {}", token()))),
        2 => "[a-z.]{0,12}".prop_map(|text| Value::from(format!("Bearer {MARKER}{text}"))),
        2 => Just(Value::from("editor")),
        1 => json_value(),
    ]
}

/// A body: arbitrary bytes, a JSON document, or a JSON document cut short.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        json_value().prop_map(|value| value.to_string().into_bytes()),
        (json_value(), any::<prop::sample::Index>()).prop_map(|(value, cut)| {
            let text = value.to_string().into_bytes();
            let end = cut.index(text.len() + 1);
            text.get(..end).unwrap_or_default().to_vec()
        }),
        proptest::collection::vec((member_name(), header_value()), 0..4).prop_map(|headers| {
            let headers: Map<String, Value> = headers.into_iter().collect();
            serde_json::json!({"headers": headers, "request": {}}).to_string().into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_body_gets_an_answer_that_quotes_nothing(body in body()) {
        let (status, answer) = post(body);
        prop_assert!(matches!(status, 200 | 400 | 401), "status {status}: {answer}");
        let text = answer.to_string();
        prop_assert!(!text.contains(SECRET));
        // A session echoes `x-hasura-*` values; a denial or an invalid body quotes nothing.
        if status != 200 {
            prop_assert!(!text.contains(MARKER), "the answer quotes the body: {text}");
        }
        if status == 400 {
            prop_assert_eq!(&answer["code"], "invalid-params");
            let error = answer["error"].as_str().unwrap_or_default();
            prop_assert!(error.starts_with("invalid webhook request body: "), "{error}");
        }
    }
}

#[test]
fn the_generated_bodies_reach_every_answer() {
    let token = token();
    let cases = [
        (serde_json::json!({"headers": {"Authorization": format!("Bearer {token}")}}), 200),
        (serde_json::json!({"headers": {"Authorization": "Bearer x"}}), 401),
        (serde_json::json!({"headers": {}}), 200),
        (serde_json::json!({"headers": []}), 400),
    ];
    for (body, status) in cases {
        assert_eq!(post(body.to_string().into_bytes()).0, status, "{body}");
    }
}
