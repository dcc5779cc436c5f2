//! Prints what `cargo xtask image --test` checks the container with, one `NAME=VALUE` per line:
//! a published key set holding the fixture RSA key under `kid` `image-test` (`JWKS`), a token
//! that key signed for the typical claims (`TOKEN`), and one whose signature does not match
//! (`FORGED`).

#![expect(clippy::print_stdout, reason = "the material is this program's output")]

use jwtgate_test_support::corpus::{sign_with_header, typical_claims};
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::json;

fn main() {
    let key = TestKey::load("rsa-2048");
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "image-test"});
    let token = sign_with_header(&header, &typical_claims(), &key, "RS256");
    let other = TestKey::load("rsa-2048-next");
    let forged = sign_with_header(&header, &typical_claims(), &other, "RS256");
    println!("JWKS={}", jwks(&[key.jwk_with_kid("image-test")]));
    println!("TOKEN={token}");
    println!("FORGED={forged}");
}
