//! One JWT secret object, read field by field in Hasura's order (docs/compatibility.md 1.2).

use std::fmt;

use serde_json::{Map, Value, json};

use crate::SecretString;
use crate::claims::DEFAULT_CLAIMS_NAMESPACE;
use crate::error::{ConfigErrorKind as Kind, SecretRef};
use crate::json_type::{self, JsonType, ShapeError};
use crate::string_or_uri::is_string_or_uri;
use crate::{
    ClaimValue, ClaimsFormat, ClaimsMap, ClaimsSource, ConfigError, IssuerDiscovery, JsonPath,
    JwkUrl, KeyError, KeyType, Namespace, TokenLocation, VerifyingKey,
};

const ALLOWED_ROLES: &str = "x-hasura-allowed-roles";
const DEFAULT_ROLE: &str = "x-hasura-default-role";
const REDACTED: &str = "<redacted>";

/// Where a secret's verification keys come from.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeySource {
    /// `type` + `key`: one key, decoded at configuration time.
    Key {
        /// The configured `type`.
        key_type: KeyType,
        /// The ready-to-verify key.
        key: VerifyingKey,
    },
    /// `jwk_url`: a key set fetched and refreshed at run time.
    JwkUrl(JwkUrl),
    /// `issuer_discovery` (D21): the key set at the `jwks_uri` of the issuer's discovery
    /// document, fetched and refreshed at run time like a `jwk_url`'s.
    Discovery(IssuerDiscovery),
}

impl KeySource {
    /// The URL a key set source is known by: the `jwk_url`, or the discovery document's URL.
    /// `None` for a configured key.
    pub fn key_set_url(&self) -> Option<&JwkUrl> {
        match self {
            Self::Key { .. } => None,
            Self::JwkUrl(url) => Some(url),
            Self::Discovery(discovery) => Some(discovery.document_url()),
        }
    }
}

/// A validated JWT secret: everything needed to verify a token and find its claims.
///
/// Built only by [`parse_jwt_secret`](crate::parse_jwt_secret) and
/// [`parse_jwt_secrets`](crate::parse_jwt_secrets). `Debug` never shows key material.
pub struct JwtSecret {
    key_source: KeySource,
    claims: ClaimsSource,
    audience: Option<Vec<String>>,
    issuer: Option<String>,
    allowed_skew: f64,
    location: TokenLocation,
    /// `jwk_headers` (D21): extra request headers of the key set fetches, values secret.
    jwk_headers: Vec<(String, SecretString)>,
    /// The normalised form with the key in clear: the identity used to drop duplicates.
    canonical: Map<String, Value>,
}

impl JwtSecret {
    /// Where the keys come from.
    pub fn key_source(&self) -> &KeySource {
        &self.key_source
    }

    /// How the Hasura claims are found in a verified token.
    pub fn claims(&self) -> &ClaimsSource {
        &self.claims
    }

    /// `audience`: the accepted `aud` values, if configured (an empty list rejects every token
    /// that has an `aud`).
    pub fn audience(&self) -> Option<&[String]> {
        self.audience.as_deref()
    }

    /// `issuer`: the required `iss`, if configured.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// `allowed_skew` in seconds, never negative (Hasura uses its absolute value). Default 0.
    pub fn allowed_skew(&self) -> f64 {
        self.allowed_skew
    }

    /// `header`: where the token is read from. Default `Authorization`.
    pub fn location(&self) -> &TokenLocation {
        &self.location
    }

    /// `jwk_headers` (D21): extra request headers for the key set fetches, as (name in lower
    /// case, value); each name is an HTTP token and each value a valid header value.
    pub fn jwk_headers(&self) -> &[(String, SecretString)] {
        &self.jwk_headers
    }

    /// The normalised configuration, as `jwtgate config check` prints it: defaults filled in,
    /// unknown members dropped, `key` replaced by `"<redacted>"`, the `jwk_url` redacted,
    /// `issuer_discovery` shown when true and every `jwk_headers` value redacted.
    pub fn normalized(&self) -> Value {
        let mut shown = self.canonical.clone();
        if let Some(key) = shown.get_mut("key") {
            *key = Value::from(REDACTED);
        }
        if let (Some(url), KeySource::JwkUrl(jwk_url)) =
            (shown.get_mut("jwk_url"), &self.key_source)
        {
            *url = Value::from(jwk_url.redacted());
        }
        if let Some(Value::Object(headers)) = shown.get_mut("jwk_headers") {
            for value in headers.values_mut() {
                *value = Value::from(REDACTED);
            }
        }
        Value::Object(shown)
    }

    /// Whether two secrets are the same configuration (Hasura drops such duplicates).
    pub(crate) fn same_config(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSecret")
            .field("key_source", &self.key_source)
            .field("claims", &self.claims)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("allowed_skew", &self.allowed_skew)
            .field("location", &self.location)
            .field("jwk_headers", &self.jwk_headers)
            .finish_non_exhaustive()
    }
}

/// `issuer_discovery: true`, with the `issuer` it needs if given.
#[derive(Clone, Copy)]
struct Discovery<'a> {
    issuer: Option<&'a str>,
}

/// One secret object being read: its members, and the secret errors name.
struct Members<'a> {
    object: &'a Map<String, Value>,
    secret: SecretRef,
}

impl<'a> Members<'a> {
    fn fail(&self, field: &str, kind: Kind) -> ConfigError {
        ConfigError::new(self.secret, field, kind)
    }

    /// A member that is present and not `null`.
    fn field(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|value| !value.is_null())
    }

    /// A member read as aeson's `Text`.
    fn text(&self, name: &'static str) -> Result<Option<&'a str>, ConfigError> {
        self.field(name)
            .map(|value| json_type::text(value).map_err(|e| self.fail(name, e.into())))
            .transpose()
    }

    /// `claims_namespace_path`, else `claims_namespace`, else the default; not both.
    fn namespace(&self, path: Option<&str>, key: Option<&str>) -> Result<Namespace, ConfigError> {
        match (path, key) {
            (Some(_), Some(_)) => Err(self.fail("claims_namespace_path", Kind::BothNamespaces)),
            (Some(path), None) => JsonPath::parse(path)
                .map(Namespace::Path)
                .map_err(|e| self.fail("claims_namespace_path", Kind::NamespacePath(e))),
            (None, Some(key)) => Ok(Namespace::Key(key.to_owned())),
            (None, None) => Ok(Namespace::Key(DEFAULT_CLAIMS_NAMESPACE.to_owned())),
        }
    }

    /// `jwk_headers` (D21): an object of string values, names HTTP tokens, values valid header
    /// values; names kept in lower case.
    fn jwk_headers(&self) -> Result<Vec<(String, SecretString)>, ConfigError> {
        let Some(value) = self.field("jwk_headers") else { return Ok(Vec::new()) };
        let fail = |kind| self.fail("jwk_headers", kind);
        let object = value.as_object().ok_or_else(|| fail(Kind::JwkHeadersShape))?;
        object
            .iter()
            .map(|(name, value)| {
                let text = value.as_str().ok_or_else(|| fail(Kind::JwkHeadersShape))?;
                if !is_header_name(name) {
                    return Err(fail(Kind::JwkHeaderName(name.clone())));
                }
                if !is_header_value(text) {
                    return Err(fail(Kind::JwkHeaderValue(name.clone())));
                }
                Ok((name.to_ascii_lowercase(), SecretString::new(text)))
            })
            .collect()
    }

    /// `issuer_discovery` (D21): a boolean; absent and `null` are `false`.
    fn issuer_discovery(&self) -> Result<bool, ConfigError> {
        match self.field("issuer_discovery") {
            None => Ok(false),
            Some(Value::Bool(on)) => Ok(*on),
            Some(_) => Err(self.fail("issuer_discovery", Kind::IssuerDiscoveryShape)),
        }
    }

    /// `type` + `key`, or `jwk_url`: exactly one; or, with `issuer_discovery`, neither and an
    /// `issuer` (Hasura's emptiness check is then not made).
    fn key_source(
        &self,
        raw_key: Option<&str>,
        jwk_url: Option<JwkUrl>,
        discovery: Option<Discovery<'_>>,
    ) -> Result<KeySource, ConfigError> {
        if let Some(Discovery { issuer }) = discovery {
            if raw_key.is_some() || jwk_url.is_some() {
                return Err(self.fail("issuer_discovery", Kind::IssuerDiscoveryWithKey));
            }
            let issuer = issuer
                .ok_or_else(|| self.fail("issuer_discovery", Kind::IssuerDiscoveryNeedsIssuer))?;
            return IssuerDiscovery::new(issuer)
                .map(KeySource::Discovery)
                .map_err(|e| self.fail("issuer", e.into()));
        }
        match (raw_key, jwk_url) {
            (None, None) => Err(self.fail("key", Kind::NoKeySource)),
            (Some(_), Some(_)) => Err(self.fail("jwk_url", Kind::BothKeySources)),
            (None, Some(url)) => Ok(KeySource::JwkUrl(url)),
            (Some(raw_key), None) => {
                // Read with aeson's `.:`: `null` is a wrong type here, not an absent member.
                let type_value = self
                    .object
                    .get("type")
                    .ok_or_else(|| self.fail("type", Kind::MissingKey("type")))?;
                let type_name =
                    json_type::text(type_value).map_err(|e| self.fail("type", e.into()))?;
                let key_type = KeyType::from_name(type_name).ok_or_else(|| {
                    self.fail("type", Kind::UnsupportedKeyType(type_name.to_owned()))
                })?;
                let key = read_key(key_type, raw_key).map_err(|e| self.fail("key", e.into()))?;
                Ok(KeySource::Key { key_type, key })
            }
        }
    }
}

/// Reads one secret object; errors carry `secret` and the field.
pub(crate) fn parse_secret(value: &Value, secret: SecretRef) -> Result<JwtSecret, ConfigError> {
    let object = value.as_object().ok_or_else(|| {
        let error = json_type::wrong_type("JWTConfig", JsonType::Object, value);
        ConfigError::new(secret, "", error.into())
    })?;
    let members = Members { object, secret };

    // Members are read in Hasura's order, so the first bad one is the one Hasura names.
    let raw_key = members.text("key")?;
    let claims_namespace = members.text("claims_namespace")?;
    let claims_namespace_path = members.text("claims_namespace_path")?;
    let audience = members.field("audience").map(|v| read_audience(v, secret)).transpose()?;
    let issuer = members.text("issuer")?;
    if issuer.is_some_and(|issuer| !is_string_or_uri(issuer)) {
        return Err(members.fail("issuer", Kind::StringOrUri));
    }
    let jwk_url = members
        .text("jwk_url")?
        .map(|url| JwkUrl::parse(url).map_err(|e| members.fail("jwk_url", e.into())))
        .transpose()?;
    let format = members.field("claims_format").map(|v| read_format(v, secret)).transpose()?;
    let claims_map = members.field("claims_map").map(|v| read_claims_map(v, secret)).transpose()?;
    let skew = members.field("allowed_skew").map(|v| read_skew(v, secret)).transpose()?;
    let header = members.field("header").map(|v| read_location(v, secret)).transpose()?;
    // jwtgate's own members (D21), read after Hasura's.
    let jwk_headers = members.jwk_headers()?;
    let discovery = members.issuer_discovery()?.then_some(Discovery { issuer });

    let namespace = members.namespace(claims_namespace_path, claims_namespace)?;
    let key_source = members.key_source(raw_key, jwk_url, discovery)?;
    let format = format.unwrap_or(ClaimsFormat::Json);
    let (allowed_skew, shown_skew) = skew.unwrap_or((0.0, Value::from(0)));
    let (location, shown_header) =
        header.unwrap_or_else(|| (TokenLocation::Authorization, json!({"type": "Authorization"})));
    let shown = Shown { raw_key, skew: shown_skew, header: shown_header };
    let canonical = canonical(&members, &key_source, &namespace, format, shown);
    let claims = match claims_map {
        Some(map) => ClaimsSource::Map(map),
        None => ClaimsSource::Namespace { namespace, format },
    };
    Ok(JwtSecret {
        key_source,
        claims,
        audience,
        issuer: issuer.map(str::to_owned),
        allowed_skew,
        location,
        jwk_headers,
        canonical,
    })
}

/// Values of the normalised form that are shown as given.
struct Shown<'a> {
    raw_key: Option<&'a str>,
    skew: Value,
    header: Value,
}

/// The secret as `config check` shows it: every member, defaults filled in.
fn canonical(
    members: &Members<'_>,
    key_source: &KeySource,
    namespace: &Namespace,
    format: ClaimsFormat,
    shown: Shown<'_>,
) -> Map<String, Value> {
    let mut canonical = Map::new();
    match key_source {
        KeySource::Key { key_type, .. } => {
            canonical.insert("type".to_owned(), Value::from(key_type.name()));
            canonical.insert("key".to_owned(), Value::from(shown.raw_key.unwrap_or_default()));
        }
        KeySource::JwkUrl(url) => {
            canonical.insert("jwk_url".to_owned(), Value::from(url.as_url().as_str()));
        }
        KeySource::Discovery(_) => {
            canonical.insert("issuer_discovery".to_owned(), Value::Bool(true));
        }
    }
    let (name, value) = match namespace {
        Namespace::Key(key) => ("claims_namespace", key.as_str()),
        Namespace::Path(path) => ("claims_namespace_path", path.as_str()),
    };
    canonical.insert(name.to_owned(), Value::from(value));
    canonical.insert("claims_format".to_owned(), Value::from(format.name()));
    for name in ["claims_map", "audience", "issuer", "jwk_headers"] {
        if let Some(given) = members.field(name) {
            canonical.insert(name.to_owned(), given.clone());
        }
    }
    canonical.insert("allowed_skew".to_owned(), shown.skew);
    canonical.insert("header".to_owned(), shown.header);
    canonical
}

fn read_key(key_type: KeyType, raw_key: &str) -> Result<VerifyingKey, KeyError> {
    match key_type.hmac_min_len() {
        // HMAC secrets are the string's UTF-8 bytes, as they are (docs/compatibility.md 1.3.2).
        Some(min_len) if raw_key.len() < min_len => Err(KeyError::HmacTooShort { min_len }),
        Some(_) => Ok(VerifyingKey::from_hmac_secret(raw_key.as_bytes())),
        None => VerifyingKey::from_pem(raw_key),
    }
}

fn read_audience(value: &Value, secret: SecretRef) -> Result<Vec<String>, ConfigError> {
    let one = |value: &Value, field: String| -> Result<String, ConfigError> {
        let text = value.as_str().ok_or_else(|| {
            let error = json_type::wrong_type("StringOrURI", JsonType::String, value);
            ConfigError::new(secret, field.clone(), error.into())
        })?;
        if !is_string_or_uri(text) {
            return Err(ConfigError::new(secret, field, Kind::StringOrUri));
        }
        Ok(text.to_owned())
    };
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| one(item, format!("audience[{index}]")))
            .collect(),
        single => one(single, "audience".to_owned()).map(|audience| vec![audience]),
    }
}

fn read_format(value: &Value, secret: SecretRef) -> Result<ClaimsFormat, ConfigError> {
    let fail = |kind: Kind| ConfigError::new(secret, "claims_format", kind);
    match value.as_str() {
        Some("json") => Ok(ClaimsFormat::Json),
        Some("stringified_json") => Ok(ClaimsFormat::StringifiedJson),
        Some(other) => Err(fail(Kind::ClaimsFormat(other.to_owned()))),
        None => Err(fail(json_type::wrong_type("JWTClaimsFormat", JsonType::String, value).into())),
    }
}

/// `allowed_skew`: any JSON number; Hasura uses its absolute value. Returns the seconds and the
/// value shown in the normalised config.
fn read_skew(value: &Value, secret: SecretRef) -> Result<(f64, Value), ConfigError> {
    let number = value.as_number().ok_or_else(|| {
        let error = json_type::wrong_type("NominalDiffTime", JsonType::Number, value);
        ConfigError::new(secret, "allowed_skew", error.into())
    })?;
    // serde_json refuses numbers outside f64's range while parsing, so this is always finite.
    let seconds = number.as_f64().unwrap_or_default().abs();
    let shown = if let Some(integer) = number.as_i64() {
        Value::from(integer.unsigned_abs())
    } else if number.is_u64() {
        value.clone()
    } else {
        Value::from(seconds)
    };
    Ok((seconds, shown))
}

/// `header`: an object, or a string holding one (D8); `type` compared case-insensitively.
/// Returns the location and the header as `config check` shows it: canonical `type`, `name` as
/// given.
fn read_location(value: &Value, secret: SecretRef) -> Result<(TokenLocation, Value), ConfigError> {
    let fail = |field: &str, kind: Kind| ConfigError::new(secret, field, kind);
    let parsed;
    let object = match value {
        Value::Object(object) => object,
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| fail("header", Kind::HeaderString(e.to_string())))?;
            parsed.as_object().ok_or_else(|| {
                let found = JsonType::of(&parsed);
                fail("header", Kind::HeaderString(format!("found {found}")))
            })?
        }
        other => {
            let error = json_type::wrong_type("JWTHeader", JsonType::Object, other);
            return Err(fail("header", error.into()));
        }
    };
    let member = |name: &'static str| -> Result<&str, ConfigError> {
        let field = format!("header.{name}");
        let value = object.get(name).ok_or_else(|| fail(&field, Kind::MissingKey(name)))?;
        json_type::text(value).map_err(|e| fail(&field, e.into()))
    };
    let type_name = member("type")?;
    if type_name.eq_ignore_ascii_case("Authorization") {
        return Ok((TokenLocation::Authorization, json!({"type": "Authorization"})));
    }
    let (location, name) = if type_name.eq_ignore_ascii_case("Cookie") {
        let name = member("name")?;
        (TokenLocation::Cookie { name: name.to_owned() }, name)
    } else if type_name.eq_ignore_ascii_case("CustomHeader") {
        let name = member("name")?;
        (TokenLocation::CustomHeader { name: name.to_ascii_lowercase() }, name)
    } else {
        return Err(fail("header.type", Kind::HeaderType));
    };
    let shown = json!({"type": location.type_name(), "name": name});
    Ok((location, shown))
}

fn read_claims_map(value: &Value, secret: SecretRef) -> Result<ClaimsMap, ConfigError> {
    let object = value.as_object().ok_or_else(|| {
        let error = json_type::wrong_type("JWTClaimsMap", JsonType::Object, value);
        ConfigError::new(secret, "claims_map", error.into())
    })?;
    let required = |name: &'static str| {
        object
            .get(name)
            .ok_or_else(|| ConfigError::new(secret, "claims_map", Kind::ClaimsMapRoleMissing(name)))
    };
    let allowed_roles =
        read_claim_value(required(ALLOWED_ROLES)?, ALLOWED_ROLES, secret, |value, field| {
            json_type::role_list(value).map_err(|(index, error)| {
                let field = match index {
                    Some(index) => format!("{field}[{index}]"),
                    None => field.to_owned(),
                };
                ConfigError::new(secret, field, error.into())
            })
        })?;
    let default_role =
        read_claim_value(required(DEFAULT_ROLE)?, DEFAULT_ROLE, secret, |value, field| {
            role_or_text(json_type::role(value), secret, field)
        })?;
    let mut session_variables: Vec<(String, ClaimValue<String>)> = Vec::new();
    for (name, value) in object {
        let lower = name.to_lowercase();
        if lower == ALLOWED_ROLES || lower == DEFAULT_ROLE {
            continue;
        }
        let claim = read_claim_value(value, name, secret, |value, field| {
            role_or_text(json_type::text(value), secret, field)
        })?;
        session_variables.retain(|(existing, _)| *existing != lower);
        session_variables.push((lower, claim));
    }
    Ok(ClaimsMap { allowed_roles, default_role, session_variables })
}

fn role_or_text(
    read: Result<&str, ShapeError>,
    secret: SecretRef,
    field: &str,
) -> Result<String, ConfigError> {
    read.map(str::to_owned).map_err(|error| ConfigError::new(secret, field, error.into()))
}

/// One `claims_map` entry: `{"path": ..., "default": ...}` or a literal read by `literal`.
fn read_claim_value<T>(
    value: &Value,
    name: &str,
    secret: SecretRef,
    literal: impl Fn(&Value, &str) -> Result<T, ConfigError>,
) -> Result<ClaimValue<T>, ConfigError> {
    let field = format!("claims_map[{}]", Value::from(name));
    let Value::Object(spec) = value else {
        return literal(value, &field).map(ClaimValue::Literal);
    };
    let path_field = format!("{field}.path");
    let path_text = spec
        .get("path")
        .ok_or_else(|| ConfigError::new(secret, path_field.clone(), Kind::MissingKey("path")))?;
    let path_text = json_type::text(path_text)
        .map_err(|e| ConfigError::new(secret, path_field.clone(), e.into()))?;
    let path = JsonPath::parse(path_text)
        .map_err(|e| ConfigError::new(secret, path_field, Kind::ClaimsMapPath(e)))?;
    let default = spec
        .get("default")
        .filter(|value| !value.is_null())
        .map(|value| literal(value, &format!("{field}.default")))
        .transpose()?;
    Ok(ClaimValue::Path { path, default })
}

/// An HTTP header name: a non-empty RFC 9110 token.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// An HTTP header value: visible ASCII, spaces and tabs.
fn is_header_value(value: &str) -> bool {
    value.bytes().all(|byte| byte == b'\t' || (0x20..0x7f).contains(&byte))
}
