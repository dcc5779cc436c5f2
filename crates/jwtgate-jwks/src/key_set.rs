//! JWK sets (RFC 7517) parsed tolerantly into ready-to-verify keys.
//!
//! Hasura's library rejects a whole set when one key is odd; jwtgate skips that key with a reason
//! and serves the rest (D7). Each usable key becomes a [`VerifyingKey`] here, once, so verifying a
//! token never touches JWK text.

mod member;

use std::fmt;

use jwtgate_config::{Algorithm, EcCurve, KeyError, VerifyingKey};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use member::{Certificate, Members};

/// The most usable keys a set keeps, in document order, so that a forged token costs at most
/// this many signature checks (D19).
pub const MAX_USABLE_KEYS: usize = 100;
/// The `key_ops` values RFC 7517 4.3 defines.
const KNOWN_KEY_OPS: [&str; 8] =
    ["sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits"];
/// The `alg` values a JWK may carry (RFC 7518 sections 3.1 and 4.1, plus `ES256K` of RFC 8812).
const KNOWN_ALGS: [&str; 31] = [
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "ES256",
    "ES384",
    "ES512",
    "ES256K",
    "PS256",
    "PS384",
    "PS512",
    "EdDSA",
    "RSA1_5",
    "RSA-OAEP",
    "RSA-OAEP-256",
    "A128KW",
    "A192KW",
    "A256KW",
    "dir",
    "ECDH-ES",
    "ECDH-ES+A128KW",
    "ECDH-ES+A192KW",
    "ECDH-ES+A256KW",
    "A128GCMKW",
    "A192GCMKW",
    "A256GCMKW",
    "PBES2-HS256+A128KW",
    "PBES2-HS384+A192KW",
    "PBES2-HS512+A256KW",
];

/// A usable key of a set: its `kid` and `alg` (if any) and the key, ready to verify.
pub struct Jwk {
    kid: Option<Box<str>>,
    alg: Option<Algorithm>,
    key: VerifyingKey,
}

impl Jwk {
    /// The key's `kid`, if the set gave one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's `alg`, if the set gave one: then it verifies only tokens of that `alg` (D16).
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The key, ready to verify.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether this key may verify a token signed with `alg`: its kind verifies `alg` and its
    /// own `alg`, when it has one, is that `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        self.alg.is_none_or(|own| own == alg) && self.key.supports(alg)
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key", &self.key)
            .finish()
    }
}

/// A key of the set that cannot be used, and why (D7: it is skipped, the rest serve).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedKey {
    /// The key's position in the set's `keys` array (0-based).
    pub index: usize,
    /// The key's `kid`, when it had a string one.
    pub kid: Option<String>,
    /// Why it was skipped.
    pub reason: SkipReason,
}

impl fmt::Display for SkippedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keys[{}]", self.index)?;
        if let Some(kid) = &self.kid {
            write!(f, " (kid {kid:?})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Why one key of a set was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// The entry is not a JSON object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A member the key type requires is absent.
    #[error("missing member `{0}`")]
    Missing(&'static str),
    /// A member has the wrong JSON type.
    #[error("member `{member}` must be {expected}")]
    WrongType {
        /// The member's name.
        member: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A member that must be base64url (standard base64 is tolerated) is not.
    #[error("member `{0}` is not base64url")]
    NotBase64(&'static str),
    /// A `kty` jwtgate cannot verify with.
    #[error("unsupported kty {0:?}")]
    UnsupportedKeyType(String),
    /// A curve jwtgate cannot verify with.
    #[error("unsupported curve {0:?}")]
    UnsupportedCurve(String),
    /// A `use` other than `sig`, such as Keycloak's `enc` key beside its signing key (D16).
    #[error("use {0:?} is not for signatures")]
    NotForSignatures(String),
    /// A `key_ops` entry RFC 7517 does not define.
    #[error("unknown key operation {0:?}")]
    UnknownKeyOperation(String),
    /// A `key_ops` list without `verify` (D16).
    #[error("key_ops does not allow verify")]
    VerifyNotAllowed,
    /// An `alg` RFC 7518 does not define.
    #[error("unknown alg {0:?}")]
    UnknownAlgorithm(String),
    /// An `alg` this key cannot verify tokens with: an encryption algorithm, `ES256K`, or a
    /// signature algorithm of another key kind (D16).
    #[error("alg {0:?} is not a signature algorithm of this key")]
    AlgorithmNotForThisKey(String),
    /// Beyond the first [`MAX_USABLE_KEYS`] usable keys of the set (D19).
    #[error("more than 100 usable keys")]
    TooManyKeys,
    /// An EC coordinate longer than its curve's field.
    #[error("EC coordinate `{member}` is {len} bytes; {curve} takes at most {max}")]
    CoordinateTooLong {
        /// `x` or `y`.
        member: &'static str,
        /// Its decoded length.
        len: usize,
        /// The curve's name.
        curve: &'static str,
        /// The curve's field size in bytes.
        max: usize,
    },
    /// An `x5t` or `x5t#S256` thumbprint of the wrong length (old Auth0 tenants, #4335).
    #[error("thumbprint `{member}` is {len} bytes, not {expected}")]
    BadThumbprint {
        /// `x5t` or `x5t#S256`.
        member: &'static str,
        /// Its decoded length.
        len: usize,
        /// The length its hash gives.
        expected: usize,
    },
    /// The first `x5c` certificate cannot be read.
    #[error("x5c[0] is not an X.509 certificate")]
    BadCertificate,
    /// The first `x5c` certificate holds a different public key than the JWK members.
    #[error("x5c[0] holds a different public key")]
    CertificateMismatch,
    /// The key material itself was rejected.
    #[error("{0}")]
    Key(#[from] KeyError),
}

/// Why a response body is not a JWK set at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The body is neither a JSON object with a `keys` array nor an X.509 map.
    #[error("not a JWK set: {0}")]
    NotAJwkSet(String),
}

/// A parsed JWK set: the usable keys in set order, and the skipped ones with their reasons.
#[derive(Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    skipped: Vec<SkippedKey>,
    /// Positions in `keys` of the keys with a `kid`, sorted by `kid` and then set order: a
    /// token's `kid` is found by binary search, not by reading every key.
    by_kid: Vec<usize>,
}

impl JwkSet {
    /// A set with no keys (before the first fetch).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Parses a key set document: a JWKS (a JSON object whose `keys` member is an array of JWKs;
    /// other members are ignored), or Google's X.509 map (a JSON object whose every value is a
    /// PEM certificate, each certificate's key taking its member name as `kid`: D20).
    ///
    /// A key that cannot be used is skipped and listed in [`JwkSet::skipped`]; the set fails
    /// only when the document itself is neither.
    pub fn parse(body: &[u8]) -> Result<Self, JwksError> {
        #[derive(serde::Deserialize)]
        struct Document<'a> {
            #[serde(borrow)]
            keys: Vec<&'a RawValue>,
        }
        let document: Document<'_> = match serde_json::from_slice(body) {
            Ok(document) => document,
            Err(error) => {
                return Self::parse_x509_map(body)
                    .ok_or_else(|| JwksError::NotAJwkSet(error.to_string()));
            }
        };
        let mut set = Self::default();
        for (index, raw) in document.keys.into_iter().enumerate() {
            let entry: Value = serde_json::from_str(raw.get())
                .map_err(|error| JwksError::NotAJwkSet(error.to_string()))?;
            let Value::Object(object) = entry else {
                set.skipped.push(SkippedKey { index, kid: None, reason: SkipReason::NotAnObject });
                continue;
            };
            let kid = object.get("kid").and_then(Value::as_str).map(str::to_owned);
            match parse_key(&object) {
                Ok(_) if set.keys.len() >= MAX_USABLE_KEYS => {
                    set.skipped.push(SkippedKey { index, kid, reason: SkipReason::TooManyKeys });
                }
                Ok((key, alg)) => {
                    set.keys.push(Jwk { kid: kid.map(String::into_boxed_str), alg, key });
                }
                Err(reason) => set.skipped.push(SkippedKey { index, kid, reason }),
            }
        }
        Ok(set.indexed())
    }

    /// Google's X.509 map (`{"<kid>": "-----BEGIN CERTIFICATE-----...", ...}`), or `None` when
    /// the body is not one. Certificate dates are not checked, as for a `key` certificate.
    fn parse_x509_map(body: &[u8]) -> Option<Self> {
        let members: Map<String, Value> = serde_json::from_slice(body).ok()?;
        let certificates: Vec<(&String, &str)> = members
            .iter()
            .map(|(kid, value)| Some((kid, value.as_str().filter(|text| is_certificate(text))?)))
            .collect::<Option<_>>()?;
        if certificates.is_empty() {
            return None;
        }
        let mut set = Self::default();
        for (index, (kid, pem)) in certificates.into_iter().enumerate() {
            let kid = Some(kid.clone());
            match VerifyingKey::from_pem(pem) {
                Ok(_) if set.keys.len() >= MAX_USABLE_KEYS => {
                    set.skipped.push(SkippedKey { index, kid, reason: SkipReason::TooManyKeys });
                }
                Ok(key) => {
                    set.keys.push(Jwk { kid: kid.map(String::into_boxed_str), alg: None, key });
                }
                Err(error) => {
                    set.skipped.push(SkippedKey { index, kid, reason: SkipReason::Key(error) });
                }
            }
        }
        Some(set.indexed())
    }

    /// The set with its `kid` index built.
    fn indexed(mut self) -> Self {
        let kid_at = |at: usize| self.keys.get(at).and_then(|jwk| jwk.kid.as_deref());
        let mut by_kid: Vec<usize> =
            (0..self.keys.len()).filter(|&at| kid_at(at).is_some()).collect();
        by_kid.sort_by(|&a, &b| kid_at(a).cmp(&kid_at(b)).then(a.cmp(&b)));
        self.by_kid = by_kid;
        self
    }

    /// The positions of the keys with this `kid`, in set order.
    fn named(&self, kid: &str) -> &[usize] {
        let kid_at = |at: usize| self.keys.get(at).and_then(|jwk| jwk.kid.as_deref());
        let start = self.by_kid.partition_point(|&at| kid_at(at) < Some(kid));
        let rest = self.by_kid.get(start..).unwrap_or_default();
        rest.get(..rest.partition_point(|&at| kid_at(at) == Some(kid))).unwrap_or_default()
    }

    /// The usable keys, in set order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The keys that were skipped, with their reasons.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether some usable key has this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        !self.named(kid).is_empty()
    }

    /// The keys to try for a token with this `kid` and `alg`, in set order (D19): when the
    /// `kid` names keys of the set, only those; otherwise every key. Either way only keys that
    /// [fit](Jwk::fits) `alg`. So a forged token naming a `kid` costs one check, and any forged
    /// token at most [`MAX_USABLE_KEYS`].
    pub fn keys_to_try<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a Jwk> + 'a {
        let named = kid.map(|kid| self.named(kid)).filter(|named| !named.is_empty());
        // One of the two is empty: the named keys, or else every key.
        let (named, every): (&[usize], &[Jwk]) = match named {
            Some(named) => (named, &[]),
            None => (&[], &self.keys),
        };
        named
            .iter()
            .filter_map(move |&at| self.keys.get(at))
            .chain(every)
            .filter(move |jwk| jwk.fits(alg))
    }
}

/// Whether a map value is a PEM certificate (its first line, leading space aside).
fn is_certificate(text: &str) -> bool {
    text.trim_start().starts_with("-----BEGIN CERTIFICATE-----")
}

impl fmt::Debug for JwkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwkSet")
            .field("keys", &self.keys)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

/// Reads one JWK object into a key and its `alg`, or says why it cannot verify signatures.
fn parse_key(object: &Map<String, Value>) -> Result<(VerifyingKey, Option<Algorithm>), SkipReason> {
    let members = Members::new(object);
    // RFC 7517 4.2 to 4.4, honoured (D16): what the provider says a key is for.
    if let Some(usage) = members.optional_str("use")?
        && usage != "sig"
    {
        return Err(SkipReason::NotForSignatures(usage.to_owned()));
    }
    if let Some(operations) = members.optional_strings("key_ops")? {
        if let Some(unknown) = operations.iter().find(|op| !KNOWN_KEY_OPS.contains(op)) {
            return Err(SkipReason::UnknownKeyOperation((*unknown).to_owned()));
        }
        if !operations.contains(&"verify") {
            return Err(SkipReason::VerifyNotAllowed);
        }
    }
    let alg_name = members.optional_str("alg")?;
    if let Some(name) = alg_name
        && !KNOWN_ALGS.contains(&name)
    {
        return Err(SkipReason::UnknownAlgorithm(name.to_owned()));
    }
    let key = parse_key_material(&members)?;
    let alg = match alg_name {
        None => None,
        Some(name) => match Algorithm::from_name(name) {
            Some(alg) if key.supports(alg) => Some(alg),
            _ => return Err(SkipReason::AlgorithmNotForThisKey(name.to_owned())),
        },
    };
    Ok((key, alg))
}

/// The key material of a JWK, checked against its certificate and thumbprints.
fn parse_key_material(members: &Members<'_>) -> Result<VerifyingKey, SkipReason> {
    let kty = members.required_str("kty")?;
    members.optional_str("kid")?;
    members.thumbprint("x5t", 20)?;
    members.thumbprint("x5t#S256", 32)?;
    let certificate = members.certificate()?;

    let (key, public_key) = match kty {
        "RSA" => {
            let modulus = members.required_bytes("n")?;
            let exponent = members.required_bytes("e")?;
            let key = VerifyingKey::from_rsa_components(&modulus, &exponent)?;
            (key, PublicKey::Rsa { modulus, exponent })
        }
        "EC" => {
            let curve_name = members.required_str("crv")?;
            let curve = EcCurve::from_name(curve_name)
                .ok_or_else(|| SkipReason::UnsupportedCurve(curve_name.to_owned()))?;
            let x = coordinate(members, curve, "x")?;
            let y = coordinate(members, curve, "y")?;
            let key = VerifyingKey::from_ec_coordinates(curve, &x, &y)?;
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (key, PublicKey::Raw(point))
        }
        "OKP" => {
            let curve_name = members.required_str("crv")?;
            if curve_name != "Ed25519" {
                return Err(SkipReason::UnsupportedCurve(curve_name.to_owned()));
            }
            let x = members.required_bytes("x")?;
            (VerifyingKey::from_ed25519(&x)?, PublicKey::Raw(x))
        }
        "oct" => {
            if certificate.is_some() {
                return Err(SkipReason::CertificateMismatch);
            }
            return Ok(VerifyingKey::from_hmac_secret(&members.required_bytes("k")?));
        }
        other => return Err(SkipReason::UnsupportedKeyType(other.to_owned())),
    };
    if let Some(certificate) = certificate
        && !public_key.matches(&certificate)
    {
        return Err(SkipReason::CertificateMismatch);
    }
    Ok(key)
}

/// An EC coordinate, left-padded to the curve's field size (some encoders drop leading zeros).
fn coordinate(
    members: &Members<'_>,
    curve: EcCurve,
    member: &'static str,
) -> Result<Vec<u8>, SkipReason> {
    let field_len = curve.coordinate_len();
    let bytes = members.required_bytes(member)?;
    if bytes.len() > field_len {
        return Err(SkipReason::CoordinateTooLong {
            member,
            len: bytes.len(),
            curve: curve.name(),
            max: field_len,
        });
    }
    let mut padded = vec![0; field_len - bytes.len()];
    padded.extend_from_slice(&bytes);
    Ok(padded)
}

/// A JWK's public key in the form an X.509 certificate carries it, to compare with `x5c`.
enum PublicKey {
    Rsa {
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    /// The raw key bits: the SEC1 point of an EC key, the 32 bytes of an Ed25519 key.
    Raw(Vec<u8>),
}

impl PublicKey {
    fn matches(&self, certificate: &Certificate) -> bool {
        match self {
            Self::Rsa { modulus, exponent } => {
                certificate.rsa_components().is_some_and(|(n, e)| {
                    strip_zeros(n) == strip_zeros(modulus)
                        && strip_zeros(e) == strip_zeros(exponent)
                })
            }
            Self::Raw(bits) => certificate.public_key_bits() == bits.as_slice(),
        }
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&byte| byte != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests;
