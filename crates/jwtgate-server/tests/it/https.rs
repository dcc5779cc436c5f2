//! An https JWKS provider whose certificate authority is trusted only through `SSL_CERT_FILE`:
//! jwtgate fetches over rustls with the system store, and honours that variable.

use std::sync::Arc;

use jwtgate_test_support::corpus::{TYPICAL_EXP, sign};
use jwtgate_test_support::keys::{TestKey, jwks};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::support::Server;

/// A test CA (PEM) and a `localhost` certificate it signed, with its key.
pub(crate) fn pki() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "jwtgate test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    (ca.pem(), leaf.der().clone(), key)
}

/// Serves `body` as the answer to every request, over TLS.
pub(crate) fn serve_tls(
    runtime: &tokio::runtime::Runtime,
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    body: String,
) -> u16 {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else { return };
                let mut head = Vec::new();
                let mut buffer = [0_u8; 1024];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

#[test]
fn an_https_provider_is_trusted_through_ssl_cert_file() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (ca_pem, certificate, key) = pki();
    let signer = TestKey::load("ed25519");
    let port = serve_tls(&runtime, certificate, key, jwks(&[signer.jwk_with_kid("corpus-key")]));
    let ca_file = std::env::temp_dir().join(format!("jwtgate-test-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca_pem).unwrap();
    let url = format!("https://localhost:{port}/jwks");
    let secret = json!({"jwk_url": url}).to_string();

    let trusted =
        Server::start(&["--jwt-secret", &secret], &[("SSL_CERT_FILE", ca_file.to_str().unwrap())]);
    let ready = trusted.get("/readyz", &[]);
    assert_eq!(ready.status, 200, "{}", ready.body);
    let claims = json!({"sub": "1", "exp": TYPICAL_EXP, "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user"}});
    let token = sign(&claims, &signer, "EdDSA");
    assert_eq!(
        trusted.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]).status,
        200
    );

    // Without it the test CA is unknown: the fetch fails on the certificate and readyz says so.
    let untrusted = Server::start(&["--jwt-secret", &secret], &[]);
    let ready = untrusted.get("/readyz", &[]);
    assert_eq!(ready.status, 503);
    let reason = ready.json()["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.starts_with(&format!("{url}: request failed")) && reason.contains("certificate"),
        "{reason}"
    );
    let _ = std::fs::remove_file(ca_file);
}
