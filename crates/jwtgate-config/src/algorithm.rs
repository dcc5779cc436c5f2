//! Token signature algorithms (the JWS `alg` values jwtgate verifies) and the config `type` names.

use std::fmt;

/// A JWS signature algorithm jwtgate can verify (RFC 7518 names).
///
/// `ES256K` is not listed: no key of jwtgate's can verify it (docs/compatibility.md 3.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    Hs256,
    /// HMAC with SHA-384.
    Hs384,
    /// HMAC with SHA-512.
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
    /// EdDSA (Ed25519).
    EdDsa,
}

impl Algorithm {
    /// Every algorithm, in declaration order.
    pub const ALL: [Self; 13] = [
        Self::Hs256,
        Self::Hs384,
        Self::Hs512,
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::Es512,
        Self::EdDsa,
    ];

    /// The JWS `alg` name, e.g. `"RS256"` or `"EdDSA"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Reads a JWS `alg` name, exact case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// Position in [`Algorithm::ALL`], used to index per-algorithm tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `type` of a `type` + `key` secret.
///
/// As in Hasura, the type chooses how `key` is read (an HMAC secret or a PEM public key) and the
/// minimum HMAC length; it does not pin the token's `alg` (docs/compatibility.md 1.3.4, D15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `HS256`: HMAC secret of at least 32 bytes.
    Hs256,
    /// `HS384`: HMAC secret of at least 48 bytes.
    Hs384,
    /// `HS512`: HMAC secret of at least 64 bytes.
    Hs512,
    /// `RS256`: PEM public key.
    Rs256,
    /// `RS384`: PEM public key.
    Rs384,
    /// `RS512`: PEM public key.
    Rs512,
    /// `PS256`: PEM public key (accepted by jwtgate, not by Hasura: D11).
    Ps256,
    /// `PS384`: PEM public key (D11).
    Ps384,
    /// `PS512`: PEM public key (D11).
    Ps512,
    /// `ES256`: PEM public key.
    Es256,
    /// `ES384`: PEM public key.
    Es384,
    /// `ES512`: PEM public key.
    Es512,
    /// `Ed25519`: PEM public key.
    Ed25519,
}

impl KeyType {
    const ALL: [Self; 13] = [
        Self::Hs256,
        Self::Hs384,
        Self::Hs512,
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::Es512,
        Self::Ed25519,
    ];

    /// The name as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::Ed25519 => "Ed25519",
        }
    }

    /// Reads a configuration `type`, exact case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key_type| key_type.name() == name)
    }

    /// For HMAC types, the minimum secret length in bytes; `None` for public-key types.
    pub fn hmac_min_len(self) -> Option<usize> {
        match self {
            Self::Hs256 => Some(32),
            Self::Hs384 => Some(48),
            Self::Hs512 => Some(64),
            _ => None,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
            assert_eq!(Algorithm::ALL[alg.index()], alg);
        }
        for key_type in KeyType::ALL {
            assert_eq!(KeyType::from_name(key_type.name()), Some(key_type));
        }
        assert_eq!(Algorithm::from_name("none"), None);
        assert_eq!(Algorithm::from_name("ES256K"), None);
        assert_eq!(Algorithm::from_name("Ed25519"), None);
        assert_eq!(KeyType::from_name("EdDSA"), None);
        assert_eq!(KeyType::from_name("hs256"), None);
    }
}
