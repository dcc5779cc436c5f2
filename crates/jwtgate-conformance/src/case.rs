//! The request-level case format of `fixtures/conformance/{auth,jwks}/` and its placeholders:
//! the harness's drivers and the fuzz seed generator render cases through it.

#![expect(
    clippy::expect_used,
    clippy::missing_panics_doc,
    clippy::indexing_slicing,
    reason = "a broken fixture stops its case by panicking"
)]

use std::collections::BTreeMap;
use std::path::Path;

use std::time::{Duration, UNIX_EPOCH};

use jwtgate_test_support::fixtures_dir;
use jwtgate_test_support::keys::{self, TestKey, jwks};
use serde::Deserialize;
use serde_json::Value;

/// The `now` of the library driver unless a case sets its own.
pub const DEFAULT_NOW: u64 = 1_700_000_000;

/// One case: a configuration, tokens, a request and the expected verdict.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    pub description: String,
    /// Where the expected behaviour comes from.
    pub source: String,
    /// The decision this case shows jwtgate differing from Hasura by (`D1` ... `D15`).
    pub diverges: Option<String>,
    /// `lib`, `server` or both (the default).
    pub drivers: Option<Vec<String>>,
    /// Why a case runs in one driver only.
    pub only_reason: Option<String>,
    /// The fixed `now` of the library driver, seconds since the epoch.
    pub now: Option<u64>,
    /// The configuration the case runs with.
    pub config: Config,
    /// Tokens minted for the request.
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    /// The request sent.
    #[serde(default)]
    pub request: Request,
    /// A scripted key set endpoint, for `{{jwks}}`.
    pub jwks: Option<Jwks>,
    /// A scripted OpenID discovery document of issuer `{{issuer}}`, on the key set's provider.
    pub discovery: Option<Discovery>,
    /// A key set timeline (`jwks` suite).
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The expected verdict.
    pub expect: Expect,
}

/// The configuration of a case, as the server's variables would carry it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `HASURA_GRAPHQL_JWT_SECRET` (placeholders replaced).
    pub jwt_secret: Option<String>,
    /// `HASURA_GRAPHQL_JWT_SECRETS` (placeholders replaced).
    pub jwt_secrets: Option<String>,
    /// `HASURA_GRAPHQL_ADMIN_SECRET`.
    pub admin_secret: Option<String>,
    /// `HASURA_GRAPHQL_UNAUTHORIZED_ROLE`.
    pub unauthorized_role: Option<String>,
    /// `--token-cache-size`.
    pub token_cache_size: Option<usize>,
}

/// A token minted at run time, or given raw.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// The JWS `alg` (HS256 when absent).
    pub alg: Option<String>,
    /// A fixture key (`rsa-2048`, `ec-p256`, ...), `hs256` (the default HMAC secret) or
    /// `hmac:<secret>`.
    pub key: Option<String>,
    /// Extra JWS header members (JSON object text).
    pub header: Option<String>,
    /// The claims set (JSON text; `{{now}}`, `{{now+N}}`, `{{now-N}}` are replaced).
    pub claims: Option<String>,
    /// A token used as it is (placeholders replaced).
    pub raw: Option<String>,
}

/// The request a case sends.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The HTTP method (server driver; GET when absent).
    pub method: Option<String>,
    /// The path (server driver; `/v1/auth` when absent).
    pub path: Option<String>,
    /// (name, value) pairs, repeats kept; `{{token}}`, `{{token.N}}` replaced.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// A POST body (server driver only).
    pub body: Option<String>,
    /// Sends the request this many times at once; every answer must be the expected one.
    pub concurrent: Option<usize>,
}

/// A scripted JWKS endpoint: responses served in order, the last repeating.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwks {
    /// The responses, in order.
    pub responses: Vec<JwksResponse>,
    /// Headers a request must carry to be answered at all; others get 401 (a gateway in front).
    #[serde(default)]
    pub require_headers: Vec<(String, String)>,
}

/// A scripted discovery document endpoint (`issuer_discovery`, D21) at
/// `{{issuer}}/.well-known/openid-configuration`: responses in order, the last repeating. It asks
/// for the key set provider's `require_headers` too.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    /// The responses, in order.
    pub responses: Vec<DiscoveryResponse>,
}

/// One scripted discovery document response.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryResponse {
    /// The HTTP status (200 when absent).
    pub status: Option<u16>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// The document's `issuer` (`{{issuer}}` when absent).
    pub issuer: Option<String>,
    /// The document's `jwks_uri` (`{{jwks}}` when absent).
    pub jwks_uri: Option<String>,
    /// A raw body instead of the document.
    pub body: Option<String>,
}

impl DiscoveryResponse {
    /// The body served, placeholders not yet expanded: `body` as given, else a document in the
    /// shape providers publish.
    pub fn body(&self) -> String {
        if let Some(body) = &self.body {
            return body.clone();
        }
        serde_json::json!({
            "issuer": self.issuer.as_deref().unwrap_or("{{issuer}}"),
            "authorization_endpoint": "{{issuer}}/authorize",
            "token_endpoint": "{{issuer}}/token",
            "jwks_uri": self.jwks_uri.as_deref().unwrap_or("{{jwks}}"),
            "response_types_supported": ["code", "id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        })
        .to_string()
    }
}

/// One scripted key set response.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksResponse {
    /// The HTTP status (200 when absent).
    pub status: Option<u16>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`: an HTTP date, or `now+N` / `now-N` seconds from the case's `now`.
    pub expires: Option<String>,
    /// `count` copies of one fixture key, kids `filler-0` ... , before `keys`.
    pub filler: Option<Filler>,
    /// Keys as `fixture-key:kid`, or `fixture-key:kid:{JSON members}` to add members such as
    /// `use` or `alg`; in the members, `{{x5c:NAME}}`, `{{x5t:NAME}}` and `{{x5t#S256:NAME}}`
    /// stand for the certificate of fixture key NAME and its thumbprints.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Raw JWK objects (JSON text) added after `keys`: unusable keys, odd shapes.
    #[serde(default)]
    pub extra_keys: Vec<String>,
    /// Google's X.509 map instead of `keys`: entries `fixture-key:kid`, each the certificate of
    /// `fixtures/keys/<fixture-key>.cert.pem` under its `kid`.
    #[serde(default)]
    pub x509_map: Vec<String>,
    /// A raw body instead of `keys`.
    pub body: Option<String>,
    /// Milliseconds the provider takes to answer (a slow provider).
    pub delay_ms: Option<u64>,
}

impl JwksResponse {
    /// The `Expires` value: an HTTP date as given, or `now+N` / `now-N` rendered as one.
    pub fn expires_at(&self, now: u64) -> Option<String> {
        let expires = self.expires.as_ref()?;
        Some(relative(expires, now).map_or_else(
            || expires.clone(),
            |at| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(at)),
        ))
    }

    /// The body served: `body` as given, else the X.509 map of `x509_map`, else the JWKS
    /// document of `filler`, `keys` and `extra_keys`.
    pub fn body(&self) -> String {
        if let Some(body) = &self.body {
            return body.clone();
        }
        if !self.x509_map.is_empty() {
            let map: serde_json::Map<String, Value> = self
                .x509_map
                .iter()
                .map(|spec| {
                    let (name, kid) = spec.split_once(':').unwrap_or((spec, spec));
                    let path = fixtures_dir().join("keys").join(format!("{name}.cert.pem"));
                    let pem = std::fs::read_to_string(&path).expect("a fixture certificate");
                    (kid.to_owned(), Value::String(pem))
                })
                .collect();
            return Value::Object(map).to_string();
        }
        let filler = self.filler.iter().flat_map(|filler| {
            let key = TestKey::load(&filler.key);
            (0..filler.count).map(move |index| key.jwk_with_kid(&format!("filler-{index}")))
        });
        let listed = self.keys.iter().map(|spec| {
            let (name, rest) = spec.split_once(':').unwrap_or((spec, spec));
            let (kid, members) =
                rest.split_once(':').map_or((rest, None), |(kid, members)| (kid, Some(members)));
            let mut jwk = TestKey::load(name).jwk_with_kid(kid);
            let members: serde_json::Map<String, Value> =
                members.map_or_else(serde_json::Map::new, |text| {
                    serde_json::from_str(&expand_certificates(text))
                        .expect("key members are a JSON object")
                });
            if let Some(object) = jwk.as_object_mut() {
                object.extend(members);
            }
            jwk
        });
        let mut keys: Vec<Value> = filler.chain(listed).collect();
        keys.extend(self.extra_keys.iter().filter_map(|raw| serde_json::from_str(raw).ok()));
        jwks(&keys)
    }
}

/// Replaces `{{x5c:NAME}}` with the standard base64 DER of `fixtures/keys/NAME.cert.pem`, and
/// `{{x5t:NAME}}` / `{{x5t#S256:NAME}}` with its SHA-1 / SHA-256 thumbprint, as providers
/// publish them beside a key.
fn expand_certificates(text: &str) -> String {
    replace_placeholders(text, "x5", |inner| {
        let (member, name) = inner.split_once(':').expect("{{member:key}}");
        let value = match member {
            "x5c" => Some(keys::x5c_entry(name)),
            "x5t" => Some(keys::x5t(name, false)),
            "x5t#S256" => Some(keys::x5t(name, true)),
            _ => None,
        };
        value.expect("a certificate placeholder is x5c, x5t or x5t#S256")
    })
}

/// Replaces each `{{<prefix>...}}` in `text` with `render` of what stands between the braces.
fn replace_placeholders(text: &str, prefix: &str, render: impl Fn(&str) -> String) -> String {
    let opening = format!("{{{{{prefix}");
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(&opening) {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        out.push_str(&render(&after[..end]));
        rest = after.get(end + 2..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Many copies of one key, to fill a set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filler {
    /// The fixture key copied.
    pub key: String,
    /// How many copies.
    pub count: usize,
}

/// A point on a JWKS timeline (library driver: the schedule runs on a manual clock).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds after start.
    pub at: u64,
    /// Fetches made by then.
    pub fetches: u64,
    /// Seconds after start of the next scheduled fetch, or `"never"`.
    pub next_fetch: Option<Value>,
    /// Send the case's request at this point and expect this status.
    pub request_status: Option<u16>,
    /// The token that request carries as `{{token}}`: the index of `[[tokens]]` (0 when absent).
    pub request_token: Option<usize>,
}

/// The expected verdict of a case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The HTTP status.
    pub status: u16,
    /// The exact session (200 only).
    pub session: Option<BTreeMap<String, String>>,
    /// `Expires` as `now+N` (exact in the library driver, within a few seconds in the server's).
    pub expires: Option<String>,
    /// Hasura's error code.
    pub code: Option<String>,
    /// Hasura's error message, exactly.
    pub error: Option<String>,
    /// The start of Hasura's error message.
    pub error_prefix: Option<String>,
    /// JWKS fetches made when the request has been answered (discovery documents not counted).
    pub fetches: Option<u64>,
    /// The paths the key set provider was asked for, in order (discovery documents not
    /// counted): which `jwks_uri` a discovery followed.
    pub jwks_paths: Option<Vec<String>>,
    /// What `/readyz` says while the first key set holds no usable key (placeholders
    /// expanded); when absent, nothing is checked.
    pub ready_reason: Option<String>,
    /// The hints the explanation gives, by name (`[]`: none); when absent, not checked.
    pub hints: Option<Vec<String>>,
}

impl Case {
    /// Reads and checks a case file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|error| error.to_string())?;
        let case: Self = toml::from_str(&text).map_err(|error| error.to_string())?;
        if case.description.is_empty() || case.source.is_empty() {
            return Err("description and source are required".to_owned());
        }
        if case.drivers.as_ref().is_some_and(|drivers| drivers.len() == 1)
            != case.only_reason.is_some()
        {
            return Err(
                "a case limited to one driver says why in `only_reason` (and only then)".to_owned()
            );
        }
        if case.config.jwt_secret.is_some() == case.config.jwt_secrets.is_some() {
            return Err("exactly one of config.jwt_secret and config.jwt_secrets".to_owned());
        }
        if case.discovery.is_some() && case.jwks.is_none() {
            return Err("a discovery document needs the [jwks] provider it runs on".to_owned());
        }
        Ok(case)
    }

    /// The case's `now`, or [`DEFAULT_NOW`].
    pub fn now(&self) -> u64 {
        self.now.unwrap_or(DEFAULT_NOW)
    }

    /// Whether the case runs in `driver` (`lib` or `server`).
    pub fn runs_in(&self, driver: &str) -> bool {
        self.drivers.as_ref().is_none_or(|drivers| drivers.iter().any(|d| d == driver))
    }
}

/// Replaces `{{now}}`, `{{now+N}}` and `{{now-N}}` with seconds since the epoch.
pub fn expand_now(text: &str, now: u64) -> String {
    replace_placeholders(text, "now", |inner| relative(inner, now).unwrap_or(now).to_string())
}

/// `now+N` / `now-N` / `now` as seconds.
pub fn relative(spec: &str, now: u64) -> Option<u64> {
    let rest = spec.strip_prefix("now")?;
    match rest.split_at_checked(1) {
        None => Some(now),
        Some(("+", n)) => Some(now + n.parse::<u64>().ok()?),
        Some(("-", n)) => Some(now - n.parse::<u64>().ok()?),
        _ => None,
    }
}

/// The signing key a token spec names.
pub fn signing_key(name: &str) -> TestKey {
    match name.strip_prefix("hmac:") {
        Some(secret) => TestKey::hmac(secret.as_bytes()),
        None if name == "hs256" => TestKey::hmac(HS256_KEY.as_bytes()),
        None => TestKey::load(name),
    }
}

/// The HMAC secret `hs256` names; configs write it out.
pub const HS256_KEY: &str = "conformance-secret-of-32-bytes!!";

/// Mints (or expands) each token of a case at `now`; `{{issuer}}` in claims is the issuer on
/// the key set provider at `jwks_url`.
pub fn tokens(case: &Case, now: u64, jwks_url: &str) -> Vec<String> {
    case.tokens
        .iter()
        .map(|spec| {
            if let Some(raw) = &spec.raw {
                return expand_now(raw, now);
            }
            let alg = spec.alg.as_deref().unwrap_or("HS256");
            let mut header = serde_json::json!({"alg": alg, "typ": "JWT"});
            if let Some(extra) = &spec.header {
                let extra: Value = serde_json::from_str(extra).expect("token header is JSON");
                for (name, value) in extra.as_object().expect("token header is an object") {
                    header[name] = value.clone();
                }
            }
            let claims = expand_now(spec.claims.as_deref().unwrap_or("{}"), now);
            let claims = expand(&claims, &[], jwks_url);
            let key = signing_key(spec.key.as_deref().unwrap_or("hs256"));
            mint(alg, &header, &claims, &key)
        })
        .collect()
}

/// A compact JWS of `header` and the claims text as given (byte for byte), signed with `key`
/// under `alg` (which a case's header may contradict on purpose).
pub fn mint(alg: &str, header: &Value, claims: &str, key: &TestKey) -> String {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.as_bytes()));
    let signature = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// The key set provider's paths: its key set, its issuer (for `{{issuer}}`) and that issuer's
/// discovery document.
pub const JWKS_PATH: &str = "/jwks";
/// See [`JWKS_PATH`].
pub const ISSUER_PATH: &str = "/idp";
/// See [`JWKS_PATH`].
pub const DISCOVERY_DOCUMENT_PATH: &str = "/idp/.well-known/openid-configuration";

/// Replaces `{{token}}` / `{{token.N}}` with the minted tokens, `{{token%}}` with the first
/// one percent-encoded (every `.` as `%2E`), `{{jwks}}` with the key set URL and `{{issuer}}`
/// with the issuer on the same provider.
pub fn expand(text: &str, tokens: &[String], jwks_url: &str) -> String {
    let mut out = text.replace("{{jwks}}", jwks_url);
    if let Some(base) = jwks_url.strip_suffix(JWKS_PATH) {
        out = out.replace("{{issuer}}", &format!("{base}{ISSUER_PATH}"));
    }
    if let Some(first) = tokens.first() {
        out = out.replace("{{token%}}", &first.replace('.', "%2E"));
    }
    for (index, token) in tokens.iter().enumerate().rev() {
        out = out.replace(&format!("{{{{token.{index}}}}}"), token);
    }
    if let Some(first) = tokens.first() {
        out = out.replace("{{token}}", first);
    }
    out
}
