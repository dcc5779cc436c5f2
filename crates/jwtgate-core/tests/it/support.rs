//! Minting tokens with the fixture keys, building authenticators, and a fixed key set fetcher.

use std::collections::VecDeque;
use std::fs;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use jwtgate_config::{JwkUrl, parse_jwt_secret};
use jwtgate_core::{AuthError, Authenticated, Authenticator, AuthenticatorConfig};
use jwtgate_jwks::{Fetch, FetchedResponse, JwksHandle, JwksOptions, ManualClock, TransportError};
use jwtgate_test_support::fixtures_dir;
use jwtgate_test_support::keys::TestKey;
use serde_json::{Value, json};

/// The fixed `now` of these tests: Tue, 14 Nov 2023 22:13:20 GMT.
pub(crate) const NOW: u64 = 1_700_000_000;

pub(crate) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// A 32-byte HMAC secret (HS256 only) and a 64-byte one (every HS*).
pub(crate) const HS_SECRET: &str = "an-hmac-secret-of-at-least-32-by";
pub(crate) const HS512_SECRET: &str =
    "an-hmac-secret-of-sixty-four-bytes-for-hs512-tokens-0123456789ab";

/// The claims of a typical token: a Hasura namespace with user and editor roles, one hour left.
pub(crate) fn claims() -> Value {
    json!({
        "sub": "1234567890",
        "name": "Jo",
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "https://hasura.io/jwt/claims": {
            "x-hasura-allowed-roles": ["user", "editor"],
            "x-hasura-default-role": "user",
            "x-hasura-user-id": "1"
        }
    })
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS over any header and payload, signed by `key` with `alg`.
pub(crate) fn mint_with_header(header: &Value, payload: &str, key: &TestKey, alg: &str) -> String {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(payload.as_bytes()));
    let signature = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// A token with `{"alg": alg, "typ": "JWT"}` over these claims.
pub(crate) fn mint(claims: &Value, key: &TestKey, alg: &str) -> String {
    mint_with_header(&json!({"alg": alg, "typ": "JWT"}), &claims.to_string(), key, alg)
}

pub(crate) fn hs256(claims: &Value) -> String {
    mint(claims, &TestKey::hmac(HS_SECRET.as_bytes()), "HS256")
}

pub(crate) fn fixture_text(file: &str) -> String {
    fs::read_to_string(fixtures_dir().join("keys").join(file)).unwrap()
}

/// Headers from (name, value) pairs, repeats kept.
pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

pub(crate) fn bearer(token: &str) -> HeaderMap {
    headers(&[("authorization", &format!("Bearer {token}"))])
}

/// What a test builds an authenticator from.
#[derive(Default)]
pub(crate) struct Setup {
    pub(crate) secrets: Vec<Value>,
    pub(crate) admin_secret: Option<&'static str>,
    pub(crate) unauthorized_role: Option<&'static str>,
    pub(crate) cache_size: usize,
    /// The JWKS document every `jwk_url` serves.
    pub(crate) jwks: Option<String>,
}

impl Setup {
    pub(crate) fn secret(secret: Value) -> Self {
        Self { secrets: vec![secret], ..Self::default() }
    }

    pub(crate) fn hs256() -> Self {
        Self::secret(json!({"type": "HS256", "key": HS_SECRET}))
    }

    /// Builds it; `jwk_url` secrets get a fetcher serving `jwks` (which must be a tokio context)
    /// and the build waits for their first fetch.
    pub(crate) async fn build(self) -> Authenticator {
        self.build_with_key_sets().await.0
    }

    /// Builds it, and hands out the key set fetchers too.
    pub(crate) async fn build_with_key_sets(self) -> (Authenticator, Vec<JwksHandle>) {
        let secrets = self
            .secrets
            .iter()
            .map(|secret| parse_jwt_secret(&secret.to_string()).unwrap())
            .collect();
        let mut config = AuthenticatorConfig::new(secrets);
        config.admin_secret = self.admin_secret.map(Into::into);
        config.unauthorized_role = self.unauthorized_role.map(str::to_owned);
        config.token_cache_size = self.cache_size;
        let body = self.jwks.unwrap_or_else(|| r#"{"keys": []}"#.to_owned());
        let script = Script::new([body]);
        let mut handles = Vec::new();
        let authenticator = Authenticator::new(config, |url: &JwkUrl| {
            let handle = JwksHandle::spawn_with(
                url.clone(),
                script.clone(),
                ManualClock::new(now()),
                &JwksOptions::default(),
            )
            .unwrap();
            handles.push(handle.clone());
            Some(Arc::new(handle))
        });
        for handle in &handles {
            handle.wait_for_attempts(1).await;
        }
        (authenticator, handles)
    }
}

/// A fetcher serving JWKS documents in turn, with no cache headers; the last one stays.
#[derive(Clone)]
pub(crate) struct Script(pub(crate) Arc<Mutex<VecDeque<String>>>);

impl Script {
    pub(crate) fn new(documents: impl IntoIterator<Item = String>) -> Self {
        Self(Arc::new(Mutex::new(documents.into_iter().collect())))
    }
}

impl Fetch for Script {
    async fn fetch(&self) -> Result<FetchedResponse, TransportError> {
        let body = {
            let mut documents = self.0.lock().unwrap();
            if documents.len() > 1 { documents.pop_front() } else { documents.front().cloned() }
        };
        Ok(FetchedResponse::new(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from(body.unwrap_or_default()),
        ))
    }
}

/// The verdict as (code, message, status), or the session's variables.
pub(crate) fn error_of(result: Result<Arc<Authenticated>, AuthError>) -> (String, String, u16) {
    let error = result.map(|ok| ok.session().clone()).unwrap_err();
    (error.code().to_owned(), error.to_string(), error.status().as_u16())
}

pub(crate) fn session_of(result: Result<Arc<Authenticated>, AuthError>) -> Vec<(String, String)> {
    let authenticated = result.unwrap_or_else(|error| panic!("denied: {} {error}", error.code()));
    authenticated
        .session()
        .variables()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}
