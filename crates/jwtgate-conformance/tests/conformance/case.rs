//! The request-level case format of `fixtures/conformance/{auth,jwks}/` and its placeholders.

use std::collections::BTreeMap;
use std::path::Path;

use jwtgate_test_support::keys::TestKey;
use serde::Deserialize;
use serde_json::Value;

/// The `now` of the library driver unless a case sets its own.
pub(crate) const DEFAULT_NOW: u64 = 1_700_000_000;

/// One case: a configuration, tokens, a request and the expected verdict.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) description: String,
    pub(crate) source: String,
    /// The decision this case shows jwtgate differing from Hasura by (`D1` ... `D15`).
    pub(crate) diverges: Option<String>,
    /// `lib`, `server` or both (the default).
    pub(crate) drivers: Option<Vec<String>>,
    /// Why a case runs in one driver only.
    pub(crate) only_reason: Option<String>,
    pub(crate) now: Option<u64>,
    pub(crate) config: Config,
    #[serde(default)]
    pub(crate) tokens: Vec<TokenSpec>,
    #[serde(default)]
    pub(crate) request: Request,
    pub(crate) jwks: Option<Jwks>,
    #[serde(default)]
    pub(crate) steps: Vec<Step>,
    pub(crate) expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) jwt_secret: Option<String>,
    pub(crate) jwt_secrets: Option<String>,
    pub(crate) admin_secret: Option<String>,
    pub(crate) unauthorized_role: Option<String>,
    pub(crate) token_cache_size: Option<usize>,
}

/// A token minted at run time, or given raw.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenSpec {
    pub(crate) alg: Option<String>,
    /// A fixture key (`rsa-2048`, `ec-p256`, ...), `hs256` (the default HMAC secret) or
    /// `hmac:<secret>`.
    pub(crate) key: Option<String>,
    /// Extra JWS header members (JSON object text).
    pub(crate) header: Option<String>,
    /// The claims set (JSON text; `{{now}}`, `{{now+N}}`, `{{now-N}}` are replaced).
    pub(crate) claims: Option<String>,
    /// A token used as it is (placeholders replaced).
    pub(crate) raw: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Request {
    pub(crate) method: Option<String>,
    pub(crate) path: Option<String>,
    /// (name, value) pairs, repeats kept; `{{token}}`, `{{token.N}}` replaced.
    #[serde(default)]
    pub(crate) headers: Vec<(String, String)>,
    /// A POST body (server driver only).
    pub(crate) body: Option<String>,
}

/// A scripted JWKS endpoint: responses served in order, the last repeating.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Jwks {
    pub(crate) responses: Vec<JwksResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JwksResponse {
    pub(crate) status: Option<u16>,
    pub(crate) cache_control: Option<String>,
    /// `Expires`: an HTTP date, or `now+N` / `now-N` seconds from the case's `now`.
    pub(crate) expires: Option<String>,
    /// `count` copies of one fixture key, kids `filler-0` ... , before `keys`.
    pub(crate) filler: Option<Filler>,
    /// Keys as `fixture-key:kid`, or `fixture-key:kid:{JSON members}` to add members such as
    /// `use` or `alg`.
    #[serde(default)]
    pub(crate) keys: Vec<String>,
    /// Raw JWK objects (JSON text) added after `keys`: unusable keys, odd shapes.
    #[serde(default)]
    pub(crate) extra_keys: Vec<String>,
    /// A raw body instead of `keys`.
    pub(crate) body: Option<String>,
}

/// Many copies of one key, to fill a set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filler {
    pub(crate) key: String,
    pub(crate) count: usize,
}

/// A point on a JWKS timeline (library driver: the schedule runs on a manual clock).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    /// Seconds after start.
    pub(crate) at: u64,
    /// Fetches made by then.
    pub(crate) fetches: u64,
    /// Seconds after start of the next scheduled fetch, or `"never"`.
    pub(crate) next_fetch: Option<Value>,
    /// Send the case's request at this point and expect this status.
    pub(crate) request_status: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    pub(crate) status: u16,
    /// The exact session (200 only).
    pub(crate) session: Option<BTreeMap<String, String>>,
    /// `Expires` as `now+N` (exact in the library driver, within a few seconds in the server's).
    pub(crate) expires: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) error_prefix: Option<String>,
    /// JWKS fetches made when the request has been answered.
    pub(crate) fetches: Option<u64>,
}

impl Case {
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
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
        Ok(case)
    }

    pub(crate) fn now(&self) -> u64 {
        self.now.unwrap_or(DEFAULT_NOW)
    }

    pub(crate) fn runs_in(&self, driver: &str) -> bool {
        self.drivers.as_ref().is_none_or(|drivers| drivers.iter().any(|d| d == driver))
    }
}

/// Replaces `{{now}}`, `{{now+N}}` and `{{now-N}}` with seconds since the epoch.
pub(crate) fn expand_now(text: &str, now: u64) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{now") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 5..];
        let end = after.find("}}").unwrap_or(after.len());
        let offset = &after[..end];
        let value = match offset.split_at_checked(1) {
            Some(("+", n)) => now + n.parse::<u64>().unwrap_or(0),
            Some(("-", n)) => now - n.parse::<u64>().unwrap_or(0),
            _ => now,
        };
        out.push_str(&value.to_string());
        rest = after.get(end + 2..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// `now+N` / `now-N` / `now` as seconds.
pub(crate) fn relative(spec: &str, now: u64) -> Option<u64> {
    let rest = spec.strip_prefix("now")?;
    match rest.split_at_checked(1) {
        None => Some(now),
        Some(("+", n)) => Some(now + n.parse::<u64>().ok()?),
        Some(("-", n)) => Some(now - n.parse::<u64>().ok()?),
        _ => None,
    }
}

/// The signing key a token spec names.
pub(crate) fn signing_key(name: &str) -> TestKey {
    match name.strip_prefix("hmac:") {
        Some(secret) => TestKey::hmac(secret.as_bytes()),
        None if name == "hs256" => TestKey::hmac(HS256_KEY.as_bytes()),
        None => TestKey::load(name),
    }
}

/// The HMAC secret `hs256` names; configs write it out.
pub(crate) const HS256_KEY: &str = "conformance-secret-of-32-bytes!!";

/// Mints (or expands) each token of a case at `now`.
pub(crate) fn tokens(case: &Case, now: u64) -> Vec<String> {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    case.tokens
        .iter()
        .map(|spec| {
            if let Some(raw) = &spec.raw {
                return expand_now(raw, now);
            }
            let alg = spec.alg.clone().unwrap_or_else(|| "HS256".to_owned());
            let mut header = serde_json::json!({"alg": alg, "typ": "JWT"});
            if let Some(extra) = &spec.header {
                let extra: Value = serde_json::from_str(extra).expect("token header is JSON");
                for (name, value) in extra.as_object().expect("token header is an object") {
                    header[name] = value.clone();
                }
            }
            let claims = expand_now(spec.claims.as_deref().unwrap_or("{}"), now);
            let input =
                format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.as_bytes()));
            let key = signing_key(spec.key.as_deref().unwrap_or("hs256"));
            let signature = key.sign(&alg, input.as_bytes());
            format!("{input}.{}", b64(&signature))
        })
        .collect()
}

/// Replaces `{{token}}` / `{{token.N}}` with the minted tokens, `{{token%}}` with the first
/// one percent-encoded (every `.` as `%2E`), and `{{jwks}}` with the URL.
pub(crate) fn expand(text: &str, tokens: &[String], jwks_url: &str) -> String {
    let mut out = text.replace("{{jwks}}", jwks_url);
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
