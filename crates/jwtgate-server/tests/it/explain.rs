//! `POST /v1/explain` and `GET /explain` behind `--explain`: who may ask, what they answer, the
//! page's headers, and that explaining counts nothing.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full};
use jwtgate_config::parse_jwt_secret;
use jwtgate_core::{Authenticator, AuthenticatorConfig};
use jwtgate_server::App;
use serde_json::{Value, json};

use crate::support::{Server, claims, hs256_secret, send, token, token_with};

fn explain(server: &Server, body: &Value, headers: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    let answer =
        send(server.address, "POST", "/v1/explain", &all, Some(body.to_string().as_bytes()));
    (answer.status, answer.body)
}

#[test]
fn the_endpoints_answer_only_with_explain() {
    let secret = hs256_secret();
    let plain = Server::start(&["--jwt-secret", &secret], &[]);
    assert_eq!(explain(&plain, &json!({"headers": {}}), &[]).0, 404);
    assert_eq!(plain.get("/explain", &[]).status, 404);

    let server = Server::start(&["--jwt-secret", &secret], &[("JWTGATE_EXPLAIN", "true")]);
    let page = server.get("/explain", &[]);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    let policy = page.header("content-security-policy").unwrap();
    assert!(
        policy.starts_with("default-src 'none'; script-src 'unsafe-inline';")
            && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    // Self-contained: nothing loaded from anywhere.
    assert!(
        !page.body.contains("http://")
            && !page.body.contains("https://")
            && !page.body.contains("src="),
        "the page names no other origin"
    );
}

#[test]
fn an_explanation_is_the_verdict_of_get_v1_auth_and_counts_nothing() {
    let server = Server::start(&["--jwt-secret", &hs256_secret(), "--explain"], &[]);
    let mut late = claims();
    late["exp"] = json!(1_700_000_000);
    for token in [token(), token_with(&late)] {
        let bearer = format!("Bearer {token}");
        let (status, body) =
            explain(&server, &json!({"headers": {"Authorization": bearer}, "request": {}}), &[]);
        assert_eq!(status, 200, "{body}");
        let explained: Value = serde_json::from_str(&body).unwrap();
        let answer = server.get("/v1/auth", &[("Authorization", &bearer)]);
        assert_eq!(explained["verdict"]["status"], answer.status);
        assert_eq!(explained["verdict"]["body"]["x-hasura-role"], answer.json()["x-hasura-role"]);
        assert_eq!(explained["verdict"]["body"]["error"], answer.json()["error"]);
    }
    // `at` sets the time of the check: the expired token was good then.
    let bearer = format!("Bearer {}", token_with(&late));
    let (_, body) =
        explain(&server, &json!({"headers": {"Authorization": bearer}, "at": 1_699_999_000}), &[]);
    let explained: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(explained["verdict"]["status"], 200, "{explained}");
    // Two answers to GET /v1/auth were counted; no explanation was.
    let metrics = server.get("/metrics", &[]).body;
    assert!(metrics.contains("jwtgate_verification_duration_seconds_count 2"), "{metrics}");
    // A body that is not the webhook's shape is refused as for POST /v1/auth.
    assert_eq!(explain(&server, &json!([]), &[]).0, 400);
}

#[test]
fn with_an_admin_secret_the_request_must_carry_it() {
    let server = Server::start(
        &["--jwt-secret", &hs256_secret(), "--explain", "--admin-secret", "s3cret"],
        &[],
    );
    let body = json!({"headers": {}});
    let (status, refused) = explain(&server, &body, &[]);
    assert_eq!(status, 401);
    assert_eq!(serde_json::from_str::<Value>(&refused).unwrap()["code"], "access-denied");
    assert_eq!(explain(&server, &body, &[("x-hasura-admin-secret", "wrong")]).0, 401);
    assert_eq!(explain(&server, &body, &[("x-hasura-admin-secret", "s3cret")]).0, 200);
    // The page itself is served: it asks for the secret.
    assert_eq!(server.get("/explain", &[]).status, 200);
}

#[test]
fn without_an_admin_secret_only_loopback_clients_are_answered() {
    let config = AuthenticatorConfig::new(vec![parse_jwt_secret(&hs256_secret()).unwrap()]);
    let app = Arc::new(
        App::new(Authenticator::new(config, |_| None), Vec::new()).unwrap().with_explain(true),
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = |client: Option<&str>, method: Method, path: &str| {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from_static(br#"{"headers": {}}"#)))
            .unwrap();
        let client = client.map(|address| address.parse().unwrap());
        let response = runtime.block_on(app.handle_from(client, request)).unwrap();
        let status = response.status().as_u16();
        let body = runtime.block_on(response.into_body().collect()).unwrap().to_bytes();
        (status, body.is_empty())
    };
    assert_eq!(status(Some("127.0.0.1:5000"), Method::POST, "/v1/explain").0, 200);
    assert_eq!(status(Some("[::1]:5000"), Method::GET, "/explain").0, 200);
    assert_eq!(status(Some("192.0.2.7:5000"), Method::POST, "/v1/explain"), (403, true));
    assert_eq!(status(Some("192.0.2.7:5000"), Method::GET, "/explain"), (403, true));
    assert_eq!(status(None, Method::POST, "/v1/explain"), (403, true));
}
