//! Every endpoint and every row of docs/server.md, over real HTTP, GET and POST modes.

use serde_json::{Value, json};

use crate::support::{Server, claims, hs256_secret, send, send_raw, token, token_with};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn start() -> Server {
    Server::start(&["--jwt-secret", &hs256_secret()], &[])
}

#[test]
fn success_answers_the_session_with_headers() {
    let server = start();
    for path in ["/v1/auth", "/v1/auth/", "/v1/auth/forward/anything?x=1"] {
        let response = server.get(path, &[("Authorization", &bearer(&token()))]);
        assert_eq!(response.status, 200, "{path}: {}", response.body);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.header("cache-control"), Some("no-store"));
        assert_eq!(
            response.json(),
            json!({"x-hasura-role": "user", "x-hasura-user-id": "1", "Expires": "Fri, 01 Jan 2100 00:00:00 GMT"})
        );
        assert_eq!(
            response.hasura_headers(),
            [
                ("x-hasura-role".to_owned(), "user".to_owned()),
                ("x-hasura-user-id".to_owned(), "1".to_owned())
            ]
        );
        assert_eq!(response.header("expires"), None, "Expires is never a header");
    }
    // Header mode accepts any method under /v1/auth/.
    for method in ["POST", "PUT", "DELETE", "HEAD", "PATCH"] {
        let response = send(
            server.address,
            method,
            "/v1/auth/check",
            &[("Authorization", &bearer(&token()))],
            None,
        );
        assert_eq!(response.status, 200, "{method}");
    }
}

#[test]
fn expires_and_headers_follow_the_value_rules() {
    let server = start();
    let mut claims = claims();
    claims["exp"] = json!(253_402_300_800_u64);
    claims["https://hasura.io/jwt/claims"]["x-hasura-note"] = json!("line\nbreak");
    claims["https://hasura.io/jwt/claims"]["x-hasura-tabbed"] = json!("a\tb");
    let response = server.get("/v1/auth", &[("Authorization", &bearer(&token_with(&claims)))]);
    assert_eq!(response.status, 200, "{}", response.body);
    let body = response.json();
    assert!(body.get("Expires").is_none(), "exp beyond year 9999 has no Expires");
    assert_eq!(body["x-hasura-note"], "line\nbreak");
    assert_eq!(response.header("x-hasura-note"), None, "a control byte keeps it in the body only");
    assert_eq!(response.header("x-hasura-tabbed"), Some("a\tb"));

    let mut fractional = self::claims();
    fractional["exp"] = json!(1_700_000_000.9_f64 + 1e9);
    let response = server.get("/v1/auth", &[("Authorization", &bearer(&token_with(&fractional)))]);
    assert_eq!(response.json()["Expires"], "Sat, 24 Jul 2055 00:00:00 GMT");
    let mut none = self::claims();
    none.as_object_mut().unwrap().remove("exp");
    let response = server.get("/v1/auth", &[("Authorization", &bearer(&token_with(&none)))]);
    assert!(response.json().get("Expires").is_none());
}

type DenialCase = (Vec<(&'static str, &'static str)>, &'static str, &'static str, &'static str);

#[test]
fn denials_answer_401_in_hasuras_shape() {
    let server = Server::start(&["--jwt-secret", &hs256_secret(), "--admin-secret", "s3cret"], &[]);
    // (request headers, code, message, WWW-Authenticate)
    let cases: Vec<DenialCase> = vec![
        (
            vec![],
            "invalid-headers",
            "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
            "Bearer",
        ),
        (
            vec![("Authorization", "Basic x")],
            "invalid-headers",
            "Malformed Authorization header",
            "Bearer error=\"invalid_token\"",
        ),
        (
            vec![("Authorization", "Bearer a.b")],
            "invalid-jwt",
            "Could not verify JWT: JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got 2)",
            "Bearer error=\"invalid_token\"",
        ),
        (
            vec![("x-hasura-admin-secret", "nope")],
            "access-denied",
            "invalid x-hasura-admin-secret/x-hasura-access-key",
            "Bearer",
        ),
    ];
    for (headers, code, message, authenticate) in cases {
        let response = server.get("/v1/auth", &headers);
        assert_eq!(response.status, 401, "{message}");
        assert_eq!(
            response.body,
            format!(
                r#"{{"error":{},"path":"$","code":"{code}"}}"#,
                Value::String(message.to_owned())
            )
        );
        assert_eq!(response.header("www-authenticate"), Some(authenticate), "{message}");
        assert_eq!(response.header("cache-control"), Some("no-store"));
        assert!(response.hasura_headers().is_empty());
    }
    let mut expired = claims();
    expired["exp"] = json!(1_000);
    let response = server.get("/v1/auth", &[("Authorization", &bearer(&token_with(&expired)))]);
    assert_eq!(
        response.json(),
        json!({"error": "Could not verify JWT: JWTExpired", "path": "$", "code": "invalid-jwt"})
    );
    // A head over 64 KiB is 431, so an oversized token arrives in POST mode.
    let huge = json!({"headers": {"Authorization": bearer(&"a".repeat(65_537))}});
    let response = server.post("/v1/auth", &huge.to_string());
    assert_eq!(response.status, 401);
    assert_eq!(response.json()["error"], "Could not verify JWT: token larger than 65536 bytes");
}

#[test]
fn admin_secret_and_unauthorized_role() {
    let server = Server::start(
        &[
            "--jwt-secret",
            &hs256_secret(),
            "--admin-secret",
            "s3cret",
            "--unauthorized-role",
            "anonymous",
        ],
        &[],
    );
    let admin =
        server.get("/v1/auth", &[("X-Hasura-Admin-Secret", "s3cret"), ("X-Hasura-Org", "7")]);
    assert_eq!(admin.status, 200);
    assert_eq!(admin.json(), json!({"x-hasura-role": "admin", "x-hasura-org": "7"}));
    assert_eq!(admin.header("x-hasura-org"), Some("7"));

    let anonymous =
        server.get("/v1/auth", &[("x-hasura-role", "admin"), ("x-hasura-user-id", "5")]);
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.json(), json!({"x-hasura-role": "anonymous", "x-hasura-user-id": "5"}));
    assert_eq!(
        anonymous.hasura_headers(),
        [("x-hasura-role".to_owned(), "anonymous".to_owned())],
        "client-supplied variables are never sent back as headers"
    );
    // D1: a presented token is enforced even beside the right admin secret.
    let mixed = server
        .get("/v1/auth", &[("Authorization", "Bearer a.b.c"), ("x-hasura-admin-secret", "s3cret")]);
    assert_eq!(mixed.status, 401);
}

#[test]
fn post_mode_reads_the_webhook_body() {
    let server = start();
    let body = json!({
        "headers": {"Authorization": bearer(&token()), "X-Hasura-Role": "editor", "Content-Type": "application/json"},
        "request": {"query": "query { users { id } }", "variables": {"big": [1, 2, 3]}}
    });
    let response = server.post("/v1/auth", &body.to_string());
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["x-hasura-role"], "editor");

    let case_collision = json!({"headers": {"x-hasura-role": "user", "X-HASURA-ROLE": "editor", "authorization": bearer(&token())}});
    assert_eq!(
        server.post("/v1/auth", &case_collision.to_string()).json()["x-hasura-role"],
        "editor"
    );

    let denied = server.post("/v1/auth", &json!({"headers": {}}).to_string());
    assert_eq!(denied.status, 401);

    for (body, reason) in [
        ("not json".to_owned(), "not valid JSON at line 1 column 2"),
        (String::new(), "unexpected end of the body at line 1 column 0"),
        ("[]".to_owned(), "expected a JSON object at line 1 column 2"),
        (r#"{"request": {}}"#.to_owned(), "no `headers` member at line 1 column 15"),
        (r#"{"headers": {"a": 1}}"#.to_owned(), "header 1 is not a string at line 1 column 19"),
        (
            r#"{"headers": {"a b": "1"}}"#.to_owned(),
            "header 1 has an invalid name at line 1 column 24",
        ),
        (r#"{"headers": {}} x"#.to_owned(), "not valid JSON at line 1 column 17"),
        (
            format!(r#"{{"headers": {{}}, "pad": "{}"}}"#, "x".repeat(1024 * 1024)),
            "body larger than 1048576 bytes",
        ),
    ] {
        let response = server.post("/v1/auth", &body);
        assert_eq!(response.status, 400, "{reason}");
        let error = response.json();
        assert_eq!(error["code"], "invalid-params");
        assert_eq!(error["path"], "$");
        assert_eq!(error["error"], format!("invalid webhook request body: {reason}"));
    }
}

#[test]
fn health_readiness_metrics_and_not_found() {
    let server = start();
    let health = server.get("/healthz", &[]);
    assert_eq!((health.status, health.json()), (200, json!({"status": "ok"})));
    let ready = server.get("/readyz", &[]);
    assert_eq!((ready.status, ready.json()), (200, json!({"status": "ok"})));
    server.get("/v1/auth", &[("Authorization", &bearer(&token()))]);
    server.get("/v1/auth", &[("Authorization", &bearer(&token()))]);
    server.get("/v1/auth", &[]);
    let forged = format!("{}x", token());
    server.get("/v1/auth", &[("Authorization", &bearer(&forged))]);
    server.get("/v1/auth", &[("Authorization", "Basic abc")]);
    let metrics = server.get("/metrics", &[]);
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    for expected in [
        "# TYPE jwtgate_verifications_total counter",
        r#"jwtgate_verifications_total{code="",outcome="success"} 2"#,
        r#"jwtgate_verifications_total{code="invalid-headers",outcome="failure"} 2"#,
        r#"jwtgate_verifications_total{code="invalid-jwt",outcome="failure"} 1"#,
        "# TYPE jwtgate_denials_total counter",
        r#"jwtgate_denials_total{code="invalid-headers",reason="no_credentials"} 1"#,
        r#"jwtgate_denials_total{code="invalid-headers",reason="malformed"} 1"#,
        r#"jwtgate_denials_total{code="invalid-jwt",reason="bad_signature"} 1"#,
        "# TYPE jwtgate_verification_duration_seconds histogram",
        "jwtgate_verification_duration_seconds_count 5",
        "jwtgate_token_cache_hits_total 1",
        "jwtgate_token_cache_misses_total 2",
    ] {
        assert!(metrics.body.contains(expected), "missing {expected:?} in\n{}", metrics.body);
    }
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/v1/authx"),
        ("PUT", "/v1/auth"),
        ("POST", "/healthz"),
        ("GET", "/v1/graphql"),
    ] {
        assert_eq!(send(server.address, method, path, &[], None).status, 404, "{method} {path}");
    }
}

#[test]
fn an_oversized_request_head_is_431() {
    let server = start();
    let big = "x".repeat(70 * 1024);
    let request =
        format!("GET /v1/auth HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nConnection: close\r\n\r\n");
    let response = send_raw(server.address, request.as_bytes());
    assert_eq!(response.status, 431);
    assert!(response.body.is_empty());
    // The server keeps serving.
    assert_eq!(server.get("/healthz", &[]).status, 200);
}

#[test]
fn the_cache_never_hides_multiple_tokens() {
    let server = start();
    let header = bearer(&token());
    assert_eq!(server.get("/v1/auth", &[("Authorization", &header)]).status, 200);
    assert_eq!(server.get("/v1/auth", &[("Authorization", &header)]).status, 200);
    let twice = server.get("/v1/auth", &[("Authorization", &header), ("Authorization", &header)]);
    assert_eq!(twice.json()["error"], "Could not verify JWT: Multiple JWTs found");
    let no_cache =
        Server::start(&["--jwt-secret", &hs256_secret(), "--token-cache-size", "0"], &[]);
    assert_eq!(no_cache.get("/v1/auth", &[("Authorization", &header)]).status, 200);
    let metrics = no_cache.get("/metrics", &[]).body;
    assert!(metrics.contains("jwtgate_token_cache_hits_total 0"), "{metrics}");
}

#[test]
fn logs_go_to_stderr_and_never_hold_the_token() {
    let server = Server::start(
        &["--jwt-secret", &hs256_secret(), "--log-format", "json"],
        &[("RUST_LOG", "debug")],
    );
    let token = token();
    server.get("/v1/auth", &[("Authorization", &bearer(&token))]);
    server.get("/v1/auth", &[("Authorization", "Bearer a.b.c")]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let stderr = server.stderr();
    assert!(stderr.lines().count() >= 3, "{stderr}");
    for line in stderr.lines() {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
    }
    let signature = token.rsplit('.').next().unwrap();
    assert!(!stderr.contains(signature), "the token leaked into the logs");
    assert!(
        stderr.contains(r#""kid":"corpus-key""#) && stderr.contains(r#""alg":"HS256""#),
        "{stderr}"
    );
    assert!(!stderr.contains(crate::support::SECRET), "the secret leaked into the logs");
}

#[test]
fn host_takes_names_and_ipv6() {
    let by_name = Server::start(&["--jwt-secret", &hs256_secret(), "--host", "localhost"], &[]);
    assert!(by_name.address.ip().is_loopback());
    assert_eq!(by_name.get("/healthz", &[]).status, 200);
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let v6 = Server::start(&["--jwt-secret", &hs256_secret()], &[("JWTGATE_HOST", "::1")]);
        assert_eq!(v6.address.to_string().chars().next(), Some('['));
        assert_eq!(v6.get("/healthz", &[]).status, 200);
    }
}
