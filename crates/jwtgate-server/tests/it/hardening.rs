//! The hardening of issue 12, through the real binary: `crit` (D17), a Keycloak-shaped key set
//! with its encryption key (D16), webhook bodies with many headers, nothing secret in logs or
//! bodies at trace level, slow bodies and the connection cap.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jwtgate_test_support::corpus::{sign, sign_with_header};
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{SECRET, Server, claims, hs256_secret, runtime, token, try_send_raw};

/// The real clock: these tests watch a running server's timeouts.
#[expect(clippy::disallowed_methods, reason = "the server's timeouts run on the real clock")]
fn clock() -> Instant {
    Instant::now()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn validly_signed_tokens_with_crit_are_refused() {
    let server = Server::start(&["--jwt-secret", &hs256_secret()], &[]);
    let key = TestKey::hmac(SECRET.as_bytes());
    for (header, inner) in [
        (json!({"alg": "HS256", "crit": ["x"], "x": 1}), "crit key is not understood"),
        (json!({"alg": "HS256", "crit": ["exp"]}), "crit key is not understood"),
        (json!({"alg": "HS256", "b64": false, "crit": ["b64"]}), "crit key is not understood"),
        (json!({"alg": "HS256", "crit": ["alg"]}), "crit key is reserved"),
        (json!({"alg": "HS256", "crit": []}), "parsing NonEmpty failed, unexpected empty list"),
        (
            json!({"alg": "HS256", "crit": "x"}),
            "parsing NonEmpty failed, expected Array, but encountered String",
        ),
    ] {
        let token = sign_with_header(&header, &claims(), &key, "HS256");
        let response = server.get("/v1/auth", &[("Authorization", &bearer(&token))]);
        assert_eq!(response.status, 401, "{header}: {}", response.body);
        let expected = format!("Could not verify JWT: JWSError (JSONDecodeError \"{inner}\")");
        assert_eq!(response.json()["error"], expected, "{header}");
        assert_eq!(response.json()["code"], "invalid-jwt");
    }
    let plain = server.get("/v1/auth", &[("Authorization", &bearer(&token()))]);
    assert_eq!(plain.status, 200, "the same token without crit verifies");
}

#[test]
fn a_keycloak_encryption_key_never_verifies() {
    // Keycloak publishes an RSA-OAEP `use: enc` key beside its signing key; a token signed by
    // the encryption key's private half must not verify.
    let runtime = runtime();
    let provider = runtime.block_on(MockServer::start());
    let rsa = TestKey::load("rsa-2048");
    let ec = TestKey::load("ec-p256");
    let mut encryption = rsa.jwk_with_kid("enc-key");
    encryption["use"] = json!("enc");
    encryption["alg"] = json!("RSA-OAEP");
    let mut signing = ec.jwk_with_kid("sig-key");
    signing["use"] = json!("sig");
    signing["alg"] = json!("ES256");
    runtime.block_on(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(jwks(&[encryption, signing])))
            .mount(&provider),
    );
    let secret = json!({"jwk_url": format!("{}/certs", provider.uri())}).to_string();
    let server = Server::start(&["--jwt-secret", &secret], &[]);
    let signed_by = |key: &TestKey, alg: &str, kid: &str| {
        let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
        sign_with_header(&header, &claims(), key, alg)
    };
    for kid in ["enc-key", "sig-key", "other"] {
        let token = signed_by(&rsa, "RS256", kid);
        let response = server.get("/v1/auth", &[("Authorization", &bearer(&token))]);
        assert_eq!(response.status, 401, "kid {kid}: {}", response.body);
        assert_eq!(
            response.json()["error"],
            "Could not verify JWT: JWSError JWSInvalidSignature",
            "kid {kid}"
        );
    }
    let good = signed_by(&ec, "ES256", "sig-key");
    let response = server.get("/v1/auth", &[("Authorization", &bearer(&good))]);
    assert_eq!(response.status, 200, "{}", response.body);
    let metrics = server.get("/metrics", &[]).body;
    assert!(metrics.contains(r#"jwtgate_jwks_keys{url=""#), "{metrics}");
    assert!(
        metrics.lines().any(|line| line.starts_with("jwtgate_jwks_keys{") && line.ends_with(" 1"))
    );
}

fn headers_body(count: usize) -> String {
    let headers: serde_json::Map<String, Value> =
        (0..count).map(|index| (format!("h{index}"), json!(""))).collect();
    json!({"headers": headers}).to_string()
}

#[test]
fn webhook_bodies_with_many_headers_are_refused_and_the_server_lives() {
    let server = Server::start(&["--jwt-secret", &hs256_secret()], &[]);
    let at_limit = server.post("/v1/auth", &headers_body(100));
    assert_eq!(at_limit.status, 401, "100 headers are read: {}", at_limit.body);
    // 24 577 members made `HeaderMap::with_capacity` panic before.
    for count in [101, 24_577, 60_000] {
        let response = server.post("/v1/auth", &headers_body(count));
        assert_eq!(response.status, 400, "{count} headers");
        assert_eq!(
            response.json(),
            json!({"error": "invalid webhook request body: more than 100 headers", "path": "$", "code": "invalid-params"})
        );
    }
    assert_eq!(server.get("/healthz", &[]).status, 200);
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

/// Everything that must never be printed: pieces of the token, the HMAC key, the admin
/// secret, and the JWKS URL's userinfo in every form it could take.
struct Secrets {
    token: String,
    admin_secret: &'static str,
    user: &'static str,
    password: &'static str,
}

impl Secrets {
    fn forbidden(&self) -> Vec<String> {
        let signature = self.token.rsplit('.').next().unwrap().to_owned();
        let payload = self.token.split('.').nth(1).unwrap().to_owned();
        let basic = STANDARD.encode(format!("{}:{}", self.user, self.password));
        vec![
            self.token.clone(),
            signature,
            payload,
            SECRET.to_owned(),
            URL_SAFE_NO_PAD.encode(SECRET),
            self.admin_secret.to_owned(),
            self.user.to_owned(),
            self.password.to_owned(),
            basic,
        ]
    }
}

#[test]
#[expect(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
fn nothing_secret_reaches_logs_or_bodies_at_trace_level() {
    let runtime = runtime();
    let provider = runtime.block_on(MockServer::start());
    let ec = TestKey::load("ec-p256");
    runtime.block_on(
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(jwks(&[ec.jwk_with_kid("corpus-key")])),
            )
            .mount(&provider),
    );
    let secrets = Secrets {
        token: token(),
        admin_secret: "admin-secret-that-must-not-leak",
        user: "jwks-user-not-to-log",
        password: "jwks-password-not-to-log",
    };
    let jwk_url = provider.uri().replacen(
        "http://",
        &format!("http://{}:{}@", secrets.user, secrets.password),
        1,
    );
    let secrets_json = json!([
        {"type": "HS256", "key": SECRET, "header": {"type": "CustomHeader", "name": "x-hs-token"}},
        {"jwk_url": format!("{jwk_url}/keys")},
    ])
    .to_string();
    // The same token with its signature's first character changed: a bad signature.
    let signature_at = secrets.token.rfind('.').unwrap() + 1;
    let mut forged = secrets.token.clone();
    let first = if &forged[signature_at..=signature_at] == "A" { "B" } else { "A" };
    forged.replace_range(signature_at..=signature_at, first);
    let ec_token = sign(&claims(), &ec, "ES256");
    for format in ["text", "json"] {
        let server = Server::start(
            &[
                "--jwt-secrets",
                &secrets_json,
                "--admin-secret",
                secrets.admin_secret,
                "--log-format",
                format,
            ],
            &[("RUST_LOG", "trace")],
        );
        let mut bodies = Vec::new();
        let mut check = |status: u16, response: crate::support::HttpResponse| {
            assert_eq!(response.status, status, "{format}: {}", response.body);
            bodies.push(response.body);
        };
        check(200, server.get("/v1/auth", &[("x-hs-token", &secrets.token)]));
        check(401, server.get("/v1/auth", &[("x-hs-token", &forged)]));
        check(200, server.get("/v1/auth", &[("Authorization", &bearer(&ec_token))]));
        check(401, server.get("/v1/auth", &[("Authorization", &bearer(&forged))]));
        check(200, server.get("/v1/auth", &[("x-hasura-admin-secret", secrets.admin_secret)]));
        check(401, server.get("/v1/auth", &[("x-hasura-admin-secret", "a-wrong-admin-secret")]));
        let token_as_headers = json!({"headers": bearer(&secrets.token)}).to_string();
        check(400, server.post("/v1/auth", &token_as_headers));
        let token_as_value = json!({"headers": {"x-hs-token": [secrets.token]}}).to_string();
        check(400, server.post("/v1/auth", &token_as_value));
        let token_as_body = format!("{} trailing", secrets.token);
        check(400, server.post("/v1/auth", &token_as_body));
        check(200, server.get("/readyz", &[]));
        check(200, server.get("/metrics", &[]));
        // Let the trace lines of the last requests reach stderr.
        thread::sleep(Duration::from_millis(300));
        let stderr = server.stderr();
        assert!(
            stderr
                .lines()
                .filter(|line| line.contains("DEBUG") || line.contains("\"level\":\"DEBUG\""))
                .count()
                >= 6,
            "{format}: every request is logged at debug:\n{stderr}"
        );
        assert!(
            stderr.contains("JWSInvalidSignature"),
            "{format}: the forgery was checked:\n{stderr}"
        );
        for forbidden in secrets.forbidden() {
            assert!(!stderr.contains(&forbidden), "{format}: a log line holds {forbidden:?}");
            for body in &bodies {
                assert!(!body.contains(&forbidden), "{format}: a body holds {forbidden:?}: {body}");
            }
        }
    }
    // The userinfo went to the provider as HTTP Basic credentials instead.
    let requests = runtime.block_on(provider.received_requests()).unwrap();
    let expected =
        format!("Basic {}", STANDARD.encode("jwks-user-not-to-log:jwks-password-not-to-log"));
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(request.headers.get("authorization").unwrap().to_str().unwrap(), expected);
        assert!(!request.url.as_str().contains("jwks-user"), "{}", request.url);
    }
}

/// Reads until the peer closes the connection, or `limit` passes; returns when it closed.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = clock();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buffer = [0; 1024];
    while start.elapsed() < limit {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[test]
fn a_body_not_received_within_ten_seconds_closes_the_connection() {
    let server = Server::start(&["--jwt-secret", &hs256_secret()], &[]);
    let sent = clock();
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut stream = TcpStream::connect(server.address).unwrap();
            stream
                .write_all(
                    b"POST /v1/auth HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"head",
                )
                .unwrap();
            stream
        })
        .collect();
    thread::sleep(Duration::from_secs(5));
    // Meanwhile requests are served.
    assert_eq!(server.get("/healthz", &[]).status, 200);
    for stream in &mut slow {
        assert!(
            closed_within(stream, Duration::from_secs(12)).is_some(),
            "a slow body's connection is closed within 10 s of its head"
        );
        let after = sent.elapsed();
        assert!(after >= Duration::from_secs(9), "closed early, {after:?} after the head");
    }
    assert!(sent.elapsed() < Duration::from_secs(14), "closed late: {:?}", sent.elapsed());
    assert_eq!(server.get("/healthz", &[]).status, 200);
}

#[test]
fn connections_beyond_the_cap_are_closed_and_counted() {
    let server = Server::start(&["--jwt-secret", &hs256_secret(), "--max-connections", "3"], &[]);
    let held: Vec<TcpStream> =
        (0..3).map(|_| TcpStream::connect(server.address).unwrap()).collect();
    thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(server.address).unwrap();
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let closed = closed_within(&mut extra, Duration::from_secs(5));
    assert!(closed.is_some(), "the fourth connection is closed at once");
    drop(held);
    // The server notices the closed connections when it next polls them: until then a new
    // connection is one beyond the cap too, closed unanswered and counted.
    let mut rejected = 1;
    let deadline = clock() + Duration::from_secs(5);
    loop {
        let answer = try_send_raw(
            server.address,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        if let Some(response) = answer {
            assert_eq!(response.status, 200);
            let counted = format!("jwtgate_connections_rejected_total {rejected}\n");
            assert!(response.body.contains(&counted), "{counted} in {}", response.body);
            break;
        }
        rejected += 1;
        assert!(clock() < deadline, "the held connections were not released");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_low_open_files_limit_is_named_after_the_listening_line() {
    let mut command = Command::new("bash");
    let binary = env!("CARGO_BIN_EXE_jwtgate");
    command.args([
        "-c",
        &format!("ulimit -n 256 && exec {binary} serve --port 0 --max-connections 1000 --jwt-secret \"$SECRET\""),
    ]);
    command.env("SECRET", hs256_secret());
    for (name, _) in std::env::vars() {
        if name.starts_with("HASURA_") || name.starts_with("JWTGATE_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    let server = Server::spawn(command);
    let deadline = clock() + Duration::from_secs(5);
    while !server.stderr().contains("open-files limit") && clock() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    let stderr = server.stderr();
    let warnings: Vec<&str> =
        stderr.lines().filter(|line| line.contains("open-files limit")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("WARN"), "{stderr}");
    assert!(warnings[0].contains("256") && warnings[0].contains("1000"), "{stderr}");
    assert_eq!(server.get("/healthz", &[]).status, 200);
}
