//! Every algorithm with every key source: a PEM public key, an X.509 certificate and a JWKS (and
//! a secret or an `oct` JWK for HMAC). Each verifies its own token and rejects a changed one.

use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::{Value, json};

use crate::support::{
    HS512_SECRET, Setup, bearer, claims, error_of, fixture_text, mint, now, session_of,
};

/// (token alg, fixture key, config `type`)
const ASYMMETRIC: [(&str, &str, &str); 10] = [
    ("RS256", "rsa-2048", "RS256"),
    ("RS384", "rsa-2048", "RS384"),
    ("RS512", "rsa-2048", "RS512"),
    ("PS256", "rsa-2048", "PS256"),
    ("PS384", "rsa-2048", "PS384"),
    ("PS512", "rsa-2048", "PS512"),
    ("ES256", "ec-p256", "ES256"),
    ("ES384", "ec-p384", "ES384"),
    ("ES512", "ec-p521", "ES512"),
    ("EdDSA", "ed25519", "Ed25519"),
];

/// Verifies `token` with `setup`, then the same token with its payload changed (one claim, no
/// new signature) and expects `JWSInvalidSignature`.
async fn accepts_and_rejects_tampering(what: &str, setup: impl Fn() -> Setup, token: &str) {
    let authenticator = setup().build().await;
    let session = session_of(authenticator.authenticate_now(&bearer(token), now()));
    assert!(
        session.contains(&("x-hasura-user-id".to_owned(), "1".to_owned())),
        "{what}: {session:?}"
    );

    let mut parts: Vec<&str> = token.split('.').collect();
    let mut changed = claims();
    changed["https://hasura.io/jwt/claims"]["x-hasura-user-id"] = json!("2");
    let forged_payload = crate::support::b64(changed.to_string().as_bytes());
    parts[1] = &forged_payload;
    let forged = parts.join(".");
    let (code, message, _) = error_of(authenticator.authenticate_now(&bearer(&forged), now()));
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("invalid-jwt", "Could not verify JWT: JWSError JWSInvalidSignature"),
        "{what}"
    );
}

#[tokio::test]
async fn every_asymmetric_algorithm_from_pem_certificate_and_jwks() {
    for (alg, key_name, key_type) in ASYMMETRIC {
        let signer = TestKey::load(key_name);
        let token = mint(&claims(), &signer, alg);
        for (source, file) in [
            ("PEM", format!("{key_name}.pub.pem")),
            ("certificate", format!("{key_name}.cert.pem")),
        ] {
            let pem = fixture_text(&file);
            let setup = || Setup::secret(json!({"type": key_type, "key": pem}));
            accepts_and_rejects_tampering(&format!("{alg} from {source}"), setup, &token).await;
        }
        let set = jwks(&[signer.jwk_with_kid(key_name)]);
        let setup = || Setup {
            jwks: Some(set.clone()),
            ..Setup::secret(json!({"jwk_url": "https://keys.example/jwks"}))
        };
        accepts_and_rejects_tampering(&format!("{alg} from JWKS"), setup, &token).await;
    }
}

#[tokio::test]
async fn every_hmac_algorithm_from_a_secret_and_an_oct_jwk() {
    let signer = TestKey::hmac(HS512_SECRET.as_bytes());
    for alg in ["HS256", "HS384", "HS512"] {
        let token = mint(&claims(), &signer, alg);
        let setup = || Setup::secret(json!({"type": alg, "key": HS512_SECRET}));
        accepts_and_rejects_tampering(&format!("{alg} from a secret"), setup, &token).await;
        let set = jwks(&[signer.jwk_with_kid("h")]);
        let setup = || Setup {
            jwks: Some(set.clone()),
            ..Setup::secret(json!({"jwk_url": "https://keys.example/jwks"}))
        };
        accepts_and_rejects_tampering(&format!("{alg} from an oct JWK"), setup, &token).await;
    }
}

#[tokio::test]
async fn type_does_not_pin_the_algorithm() {
    // Section 3.2.1 and D15: an RS256-configured key verifies PS512; an HS256 secret of 64 bytes
    // verifies HS512.
    let rsa = TestKey::load("rsa-2048");
    let pem = fixture_text("rsa-2048.pub.pem");
    let authenticator = Setup::secret(json!({"type": "RS256", "key": pem})).build().await;
    session_of(authenticator.authenticate_now(&bearer(&mint(&claims(), &rsa, "PS512")), now()));
    let authenticator = Setup::secret(json!({"type": "HS256", "key": HS512_SECRET})).build().await;
    let hs512 = mint(&claims(), &TestKey::hmac(HS512_SECRET.as_bytes()), "HS512");
    session_of(authenticator.authenticate_now(&bearer(&hs512), now()));
}

#[tokio::test]
async fn a_1024_bit_rsa_key_verifies_rs256_and_rs512_only() {
    // D13. aws-lc-rs does not sign with 1024-bit keys: these tokens were made by OpenSSL
    // (fixtures/keys/generate.sh), with valid signatures for all four algorithms.
    let pem = fixture_text("rsa-1024.pub.pem");
    let authenticator = Setup::secret(json!({"type": "RS256", "key": pem})).build().await;
    for alg in ["rs256", "rs512"] {
        let token = fixture_text(&format!("rsa-1024.{alg}.jwt"));
        session_of(authenticator.authenticate_now(&bearer(&token), now()));
    }
    for alg in ["rs384", "ps256"] {
        let token = fixture_text(&format!("rsa-1024.{alg}.jwt"));
        let (_, message, _) = error_of(authenticator.authenticate_now(&bearer(&token), now()));
        assert_eq!(message, "Could not verify JWT: JWSError JWSInvalidSignature", "{alg}");
    }
}

#[tokio::test]
async fn jwks_keys_with_a_matching_kid_and_without() {
    // D19: a kid that names keys of the set limits the trial to them; a kid naming no key, or
    // none, lets every key that fits the alg try, as Hasura tries every key.
    let a = TestKey::load("ec-p256");
    let b = TestKey::load("ed25519");
    let set = jwks(&[a.jwk_with_kid("a"), b.jwk_with_kid("b")]);
    let authenticator =
        Setup { jwks: Some(set), ..Setup::secret(json!({"jwk_url": "https://keys.example/jwks"})) }
            .build()
            .await;
    let header = |kid: Option<&str>| -> Value {
        kid.map_or_else(|| json!({"alg": "EdDSA"}), |kid| json!({"alg": "EdDSA", "kid": kid}))
    };
    let token_with =
        |kid| crate::support::mint_with_header(&header(kid), &claims().to_string(), &b, "EdDSA");
    for kid in [Some("b"), Some("unknown"), None] {
        session_of(authenticator.authenticate_now(&bearer(&token_with(kid)), now()));
    }
    let named_wrong_key = authenticator.authenticate_now(&bearer(&token_with(Some("a"))), now());
    assert_eq!(
        named_wrong_key.unwrap_err().to_string(),
        "Could not verify JWT: JWSError JWSInvalidSignature"
    );
}

#[tokio::test]
async fn jsonwebtoken_minted_tokens_verify() {
    // Interop with the user's chosen library, which also mints the demo's token.
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(HS512_SECRET.as_bytes()),
    )
    .unwrap();
    let authenticator = Setup::secret(json!({"type": "HS256", "key": HS512_SECRET})).build().await;
    session_of(authenticator.authenticate_now(&bearer(&hs), now()));

    let rsa_key = EncodingKey::from_rsa_pem(fixture_text("rsa-2048.key.pem").as_bytes()).unwrap();
    let rs = encode(&Header::new(Algorithm::PS384), &claims(), &rsa_key).unwrap();
    let pem = fixture_text("rsa-2048.cert.pem");
    let authenticator = Setup::secret(json!({"type": "RS256", "key": pem})).build().await;
    session_of(authenticator.authenticate_now(&bearer(&rs), now()));
}
