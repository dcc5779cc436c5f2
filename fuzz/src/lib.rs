//! What the fuzz targets share: the fixed `now`, the authenticator setups, the header block
//! input format and a key set served in process.
//!
//! Every setup is built once per fuzzing process from the fixture keys, so a mutated token
//! that keeps a valid signature reaches the claims checks and the session.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use jwtgate_config::{JwtSecret, SecretString, parse_jwt_secret, parse_jwt_secrets};
use jwtgate_core::{Authenticator, AuthenticatorConfig};
use jwtgate_jwks::{
    Fetch, FetchedResponse, JwksHandle, JwksOptions, KeySet, ManualClock, TransportError,
};
use jwtgate_test_support::keys::{TestKey, fixture_text, jwks};
use serde_json::json;

/// The conformance cases' default `now` (seeds mint their tokens around it).
pub const NOW_SECONDS: u64 = 1_700_000_000;

/// The HMAC secret the conformance cases sign with by default.
pub const HS256_KEY: &str = "conformance-secret-of-32-bytes!!";

/// The admin secret of the setups that have one (the conformance cases' value).
pub const ADMIN_SECRET: &str = "s3cret";

/// The key set URL of the setups with a `jwk_url`; never fetched over the network.
pub const JWKS_URL: &str = "http://jwks.fuzz.invalid/keys";

/// `NOW_SECONDS` as a time.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECONDS)
}

/// The header block format: `name: value` lines split at `\n` (a trailing `\r` dropped), the
/// value's leading spaces trimmed; repeats kept; a line that is no valid header is skipped.
pub fn header_block(bytes: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in bytes.split(|byte| *byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|byte| *byte == b':') else { continue };
        let (name, value) = line.split_at(colon);
        let value = value.get(1..).unwrap_or_default();
        let value = value.trim_ascii_start();
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

/// The authenticator setups of the `authenticate` target, chosen by its input's first byte.
pub const SETUPS: [&str; 7] =
    ["hs256", "rsa", "ec", "ed25519", "jwks", "several", "claims-map-audience-issuer"];

/// An authenticator per entry of [`SETUPS`], built once.
///
/// # Panics
/// When a fixture key is missing or a setup's configuration is refused (a broken fixture tree).
pub fn setups() -> &'static [Authenticator] {
    static SETUPS_BUILT: OnceLock<Vec<Authenticator>> = OnceLock::new();
    SETUPS_BUILT.get_or_init(|| {
        let pem = |file: &str| fixture_text(file);
        let hs256 = json!({"type": "HS256", "key": HS256_KEY});
        vec![
            build(vec![one(&hs256)], Some(ADMIN_SECRET), None, 0),
            build(
                vec![one(&json!({"type": "RS256", "key": pem("rsa-2048.pub.pem")}))],
                None,
                None,
                0,
            ),
            build(
                vec![one(&json!({"type": "ES256", "key": pem("ec-p256.cert.pem")}))],
                None,
                None,
                0,
            ),
            build(
                vec![one(&json!({"type": "Ed25519", "key": pem("ed25519.pub.pem")}))],
                None,
                None,
                0,
            ),
            build(vec![one(&json!({"jwk_url": JWKS_URL}))], None, None, 0),
            build(several(), Some(ADMIN_SECRET), Some("anonymous"), 64),
            build(vec![one(&claims_map_audience_issuer())], None, None, 0),
        ]
    })
}

/// Several secrets at once: a cookie with an issuer, a custom header, a key set with audience
/// and issuer, a namespace path with stringified claims, and a claims map.
fn several() -> Vec<JwtSecret> {
    let secrets = json!([
        {"type": "HS256", "key": HS256_KEY, "issuer": "cookie-issuer",
         "header": {"type": "Cookie", "name": "jwt"}},
        {"type": "RS256", "key": fixture_text("rsa-2048.pub.pem"),
         "header": {"type": "CustomHeader", "name": "x-token"}},
        {"jwk_url": JWKS_URL, "audience": ["a", "b"], "issuer": "https://issuer.example"},
        {"type": "ES256", "key": fixture_text("ec-p256.pub.pem"),
         "claims_namespace_path": "$.hasura.claims", "claims_format": "stringified_json"},
        claims_map_audience_issuer(),
    ]);
    parse_jwt_secrets(&secrets.to_string()).unwrap_or_else(|error| panic!("{error}"))
}

fn claims_map_audience_issuer() -> serde_json::Value {
    json!({
        "type": "HS256", "key": HS256_KEY, "audience": "myapp", "issuer": "https://issuer.example",
        "allowed_skew": 30,
        "claims_map": {
            "x-hasura-allowed-roles": {"path": "$.roles"},
            "x-hasura-default-role": {"path": "$.role", "default": "user"},
            "x-hasura-user-id": {"path": "$.sub"},
            "x-hasura-org-id": {"path": "$['org id'][0]", "default": "none"},
            "x-hasura-plan": "free"
        }
    })
}

fn one(secret: &serde_json::Value) -> JwtSecret {
    parse_jwt_secret(&secret.to_string()).unwrap_or_else(|error| panic!("{error}"))
}

/// An authenticator whose key sets are served in process and fetched once before it returns.
fn build(
    secrets: Vec<JwtSecret>,
    admin_secret: Option<&str>,
    unauthorized_role: Option<&str>,
    token_cache_size: usize,
) -> Authenticator {
    build_with_key_sets(secrets, admin_secret, unauthorized_role, token_cache_size).0
}

/// The same, with the key set fetchers.
fn build_with_key_sets(
    secrets: Vec<JwtSecret>,
    admin_secret: Option<&str>,
    unauthorized_role: Option<&str>,
    token_cache_size: usize,
) -> (Authenticator, Vec<JwksHandle>) {
    let mut config = AuthenticatorConfig::new(secrets);
    config.admin_secret = admin_secret.map(SecretString::from);
    config.unauthorized_role = unauthorized_role.map(str::to_owned);
    config.token_cache_size = token_cache_size;
    let runtime = runtime();
    let mut key_sets = Vec::new();
    let authenticator = runtime.block_on(async {
        Authenticator::new(config, |url| {
            let handle = JwksHandle::spawn_with(
                url.clone(),
                FixtureKeySet,
                ManualClock::new(now()),
                &JwksOptions::default(),
            )
            .ok()?;
            key_sets.push(handle.clone());
            Some(Arc::new(handle) as Arc<dyn KeySet>)
        })
    });
    for key_set in &key_sets {
        runtime.block_on(key_set.wait_for_attempts(1));
    }
    (authenticator, key_sets)
}

/// The runtime the key set tasks live on, kept for the process's life. Nothing drives it
/// between inputs, so a refetch an input asks for stays queued and inputs stay independent.
///
/// # Panics
/// When no runtime can be built (the fuzzing process cannot start).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|error| panic!("a runtime: {error}"))
    })
}

/// The fixture keys under the kids the conformance cases use, as one JWKS document.
struct FixtureKeySet;

impl Fetch for FixtureKeySet {
    async fn fetch(&self) -> Result<FetchedResponse, TransportError> {
        static BODY: OnceLock<Bytes> = OnceLock::new();
        let body = BODY.get_or_init(|| {
            let keys: Vec<_> = [
                ("rsa-2048", "k"),
                ("ec-p256", "k"),
                ("ec-p256", "a"),
                ("ec-p384", "k"),
                ("ec-p521", "k"),
                ("ed25519", "k"),
                ("ed25519", "b"),
            ]
            .iter()
            .map(|(name, kid)| TestKey::load(name).jwk_with_kid(kid))
            .collect();
            Bytes::from(jwks(&keys))
        });
        Ok(FetchedResponse::new(StatusCode::OK, HeaderMap::new(), body.clone()))
    }
}

/// The `webhook` target's handler: the `several` setup behind the server's routing.
///
/// # Panics
/// When the handler's metrics cannot be registered (the fuzzing process cannot start).
pub fn app() -> Arc<jwtgate_server::App> {
    static APP: OnceLock<Arc<jwtgate_server::App>> = OnceLock::new();
    Arc::clone(APP.get_or_init(|| {
        let (authenticator, key_sets) =
            build_with_key_sets(several(), Some(ADMIN_SECRET), Some("anonymous"), 64);
        let app = jwtgate_server::App::new(authenticator, key_sets);
        Arc::new(app.unwrap_or_else(|error| panic!("{error}")))
    }))
}
