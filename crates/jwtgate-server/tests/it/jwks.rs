//! The server with `jwk_url` secrets served by wiremock: readiness, metrics, verification and
//! redaction.

use std::fs;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use jwtgate_test_support::corpus::{TYPICAL_EXP, sign};
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Server, runtime};

#[test]
fn jwks_keys_verify_and_readiness_follows_them() {
    let runtime = runtime();
    let provider = runtime.block_on(MockServer::start());
    let key = TestKey::load("ec-p256");
    runtime.block_on(
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("cache-control", "max-age=300")
                    .set_body_string(jwks(&[key.jwk_with_kid("corpus-key")])),
            )
            .mount(&provider),
    );
    let url = format!("{}/keys?api_key=secret", provider.uri());
    let secret = json!({"jwk_url": url}).to_string();
    let server = Server::start(&["--jwt-secret", &secret], &[]);

    let ready = server.get("/readyz", &[]);
    assert_eq!((ready.status, ready.json()), (200, json!({"status": "ok"})));
    let claims = json!({"sub": "7", "exp": TYPICAL_EXP, "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user", "x-hasura-user-id": "7"}});
    let token = sign(&claims, &key, "ES256");
    let response = server.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["x-hasura-user-id"], "7");

    let metrics = server.get("/metrics", &[]).body;
    let redacted = format!("{}/keys?<redacted>", provider.uri());
    assert!(
        metrics
            .contains(&format!(r#"jwtgate_jwks_fetches_total{{result="ok",url="{redacted}"}} 1"#)),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(r#"jwtgate_jwks_keys{{url="{redacted}"}} 1"#)), "{metrics}");
    assert!(!metrics.contains("api_key=secret"));
    assert!(!server.stderr().contains("api_key=secret"));
}

#[test]
fn an_unreachable_provider_keeps_serving_and_readyz_says_why() {
    let runtime = runtime();
    let provider = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&provider),
    );
    let url = format!("{}/jwks", provider.uri());
    let server = Server::start(&["--jwt-secret", &json!({"jwk_url": url}).to_string()], &[]);
    let ready = server.get("/readyz", &[]);
    assert_eq!(ready.status, 503);
    assert_eq!(
        ready.json(),
        json!({"status": "unavailable", "reason": format!("{url}: HTTP status 500")})
    );
    let token = sign(&json!({"sub": "1"}), &TestKey::load("ec-p256"), "ES256");
    let response = server.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(response.json()["error"], "Could not verify JWT: JWSError NoUsableKeys");
    let metrics = server.get("/metrics", &[]).body;
    // Retries may have run meanwhile: at least the start-up failure is counted.
    assert!(
        metrics.contains(&format!(r#"jwtgate_jwks_fetches_total{{result="error",url="{url}"}} "#)),
        "{metrics}"
    );
    assert!(server.stderr().contains("JWKS start-up fetch failed"), "{}", server.stderr());
}

/// A key set provider in its own process: Python's `http.server` serving a directory, whose
/// access log (stderr) counts the fetches.
struct Provider {
    process: Child,
    port: u16,
    directory: PathBuf,
}

impl Provider {
    fn start(jwks: &str) -> Self {
        let directory =
            std::env::temp_dir().join(format!("jwtgate-provider-{}", std::process::id()));
        fs::create_dir_all(&directory).unwrap();
        fs::write(directory.join("jwks.json"), jwks).unwrap();
        let mut process = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
            .arg(&directory)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("python3 runs the provider: {error}"));
        let mut line = String::new();
        BufReader::new(process.stdout.take().unwrap()).read_line(&mut line).unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let port = line.split(" port ").nth(1).and_then(|rest| rest.split(' ').next());
        let port = port.and_then(|port| port.parse().ok()).unwrap_or_else(|| panic!("{line}"));
        Self { process, port, directory }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/jwks.json", self.port)
    }

    /// Replaces the served set, as a provider rotating its keys does.
    fn publish(&self, jwks: &str) {
        let staged = self.directory.join("jwks.json.new");
        fs::write(&staged, jwks).unwrap();
        fs::rename(staged, self.directory.join("jwks.json")).unwrap();
    }

    /// The fetches logged so far, once the provider is stopped.
    fn stop(mut self) -> usize {
        let _ = self.process.kill();
        let mut log = String::new();
        let _ = self.process.stderr.take().unwrap().read_to_string(&mut log);
        let _ = self.process.wait();
        let _ = fs::remove_dir_all(&self.directory);
        log.lines().filter(|line| line.contains("\"GET /jwks.json")).count()
    }
}

#[test]
fn the_first_request_after_a_key_rotation_succeeds_against_a_provider_process() {
    let old = TestKey::load("ec-p256");
    let new = TestKey::load("ed25519");
    let provider = Provider::start(&jwks(&[old.jwk_with_kid("old")]));
    let secret = json!({"jwk_url": provider.url()}).to_string();
    let server = Server::start(&["--jwt-secret", &secret], &[]);
    assert_eq!(server.get("/readyz", &[]).status, 200);

    // The provider rotates: the new key is published, and tokens signed with it arrive before
    // any scheduled fetch (Python's server sends no caching headers: D2 fetches never again).
    provider.publish(&jwks(&[old.jwk_with_kid("old"), new.jwk_with_kid("corpus-key")]));
    let claims = json!({"sub": "1", "exp": TYPICAL_EXP, "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user"}});
    let authorization = format!("Bearer {}", sign(&claims, &new, "EdDSA"));
    let first = server.get("/v1/auth", &[("Authorization", &authorization)]);
    assert_eq!(first.status, 200, "{}", first.body);
    let again = server.get("/v1/auth", &[("Authorization", &authorization)]);
    assert_eq!(again.status, 200);
    drop(server);
    assert_eq!(provider.stop(), 2, "one start-up fetch and one kid-triggered refetch");
}
