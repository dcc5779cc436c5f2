//! Key set fetches through proxies named by the environment: an `http` `jwk_url` through a
//! forwarding proxy, an `https` one through a `CONNECT` tunnel, and `NO_PROXY` going direct. The
//! proxy runs in this process and records what it was asked.

use std::sync::{Arc, Mutex};

use jwtgate_test_support::corpus::{TYPICAL_EXP, sign};
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::https::{pki, serve_tls};
use crate::support::{Server, runtime};

/// What a proxy was asked: each request line, with its `Proxy-Authorization` if any.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// An HTTP proxy on a loopback port: `CONNECT host:port` opens a tunnel; any other request (in
/// absolute form) is passed to its origin as it came. Returns the proxy URL and what it saw.
fn start_proxy(runtime: &tokio::runtime::Runtime) -> (String, Seen) {
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let address = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, Arc::clone(&record)));
        }
    });
    (format!("http://{address}"), seen)
}

async fn relay(mut client: TcpStream, seen: Seen) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match client.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next().unwrap_or_default().to_owned();
    let credentials = text.lines().find_map(|header| {
        let (name, value) = header.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization").then(|| value.trim().to_owned())
    });
    seen.lock().unwrap().push((line.clone(), credentials));
    let mut parts = line.split(' ');
    let (verb, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let origin = if verb == "CONNECT" {
        target.to_owned()
    } else {
        let authority = target.strip_prefix("http://").unwrap_or(target);
        authority.split('/').next().unwrap_or_default().to_owned()
    };
    let Ok(mut upstream) = TcpStream::connect(origin.as_str()).await else { return };
    if verb == "CONNECT" {
        if client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await.is_err() {
            return;
        }
    } else if upstream.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

fn token(key: &TestKey, alg: &str) -> String {
    let claims = json!({"sub": "1", "exp": TYPICAL_EXP, "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user"}});
    sign(&claims, key, alg)
}

/// A key set on wiremock at `<provider>/keys`.
fn http_provider(runtime: &tokio::runtime::Runtime, key: &TestKey) -> MockServer {
    let provider = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(jwks(&[key.jwk_with_kid("k")])),
            )
            .mount(&provider),
    );
    provider
}

#[test]
fn an_http_jwk_url_goes_through_the_forwarding_proxy_with_its_credentials_never_logged() {
    let runtime = runtime();
    let key = TestKey::load("ec-p256");
    let provider = http_provider(&runtime, &key);
    let (proxy, seen) = start_proxy(&runtime);
    let with_credentials = proxy.replace("http://", "http://fetcher:pr0xy-pa55@");
    let url = format!("{}/keys", provider.uri());
    let secret = json!({"jwk_url": url}).to_string();
    let server = Server::start(
        &["--jwt-secret", &secret],
        &[("http_proxy", &with_credentials), ("RUST_LOG", "debug")],
    );

    assert_eq!(server.get("/readyz", &[]).status, 200, "{}", server.stderr());
    let bearer = format!("Bearer {}", token(&key, "ES256"));
    assert_eq!(server.get("/v1/auth", &[("Authorization", &bearer)]).status, 200);
    // base64("fetcher:pr0xy-pa55")
    let expected =
        (format!("GET {url} HTTP/1.1"), Some("Basic ZmV0Y2hlcjpwcjB4eS1wYTU1".to_owned()));
    assert_eq!(seen.lock().unwrap().as_slice(), [expected]);
    let logs = server.stderr();
    let shown = proxy.replace("http://", "http://<redacted>@");
    assert!(
        logs.contains(&format!("JWKS fetched at start-up url={url} keys=1 proxy={shown}")),
        "{logs}"
    );
    assert!(!logs.contains("pr0xy-pa55") && !logs.contains("ZmV0Y2hlcjpwcjB4eS1wYTU1"), "{logs}");
}

#[test]
fn an_https_jwk_url_goes_through_a_connect_tunnel() {
    let runtime = runtime();
    let (ca_pem, certificate, private_key) = pki();
    let key = TestKey::load("ed25519");
    let port = serve_tls(&runtime, certificate, private_key, jwks(&[key.jwk_with_kid("k")]));
    let ca_file = std::env::temp_dir().join(format!("jwtgate-proxy-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca_pem).unwrap();
    let (proxy, seen) = start_proxy(&runtime);
    let secret = json!({"jwk_url": format!("https://localhost:{port}/keys")}).to_string();
    let server = Server::start(
        &["--jwt-secret", &secret],
        &[("HTTPS_PROXY", &proxy), ("SSL_CERT_FILE", ca_file.to_str().unwrap())],
    );

    assert_eq!(server.get("/readyz", &[]).status, 200, "{}", server.stderr());
    let bearer = format!("Bearer {}", token(&key, "EdDSA"));
    assert_eq!(server.get("/v1/auth", &[("Authorization", &bearer)]).status, 200);
    let expected = (format!("CONNECT localhost:{port} HTTP/1.1"), None);
    assert_eq!(seen.lock().unwrap().as_slice(), [expected]);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn no_proxy_hosts_are_fetched_directly() {
    let runtime = runtime();
    let key = TestKey::load("ec-p256");
    let provider = http_provider(&runtime, &key);
    let (proxy, seen) = start_proxy(&runtime);
    let secret = json!({"jwk_url": format!("{}/keys", provider.uri())}).to_string();
    for no_proxy in
        [("NO_PROXY", "127.0.0.1"), ("no_proxy", "*"), ("NO_PROXY", "10.0.0.0/8, 127.0.0.0/8")]
    {
        let server = Server::start(
            &["--jwt-secret", &secret],
            &[("HTTP_PROXY", &proxy), ("ALL_PROXY", &proxy), no_proxy],
        );
        assert_eq!(server.get("/readyz", &[]).status, 200, "{no_proxy:?}: {}", server.stderr());
    }
    assert_eq!(seen.lock().unwrap().len(), 0);

    // Without NO_PROXY the same set is fetched through the proxy.
    let server = Server::start(&["--jwt-secret", &secret], &[("ALL_PROXY", &proxy)]);
    assert_eq!(server.get("/readyz", &[]).status, 200);
    assert_eq!(seen.lock().unwrap().len(), 1);
}
