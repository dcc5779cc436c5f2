//! `docs/errors.md` lists every error of this module with its exact message and code.

use jwtgate_claims::ClaimsSetError;
use jwtgate_config::json_type::{JsonType, ShapeError};
use jwtgate_test_support::errors_doc::{Rendered, assert_documented, assert_every_variant};

use super::{AuthError, JwsDecodeError, JwtError};

/// One value of every variant (the `match`es below fail to compile when a variant is added);
/// `Claims` is documented with the claims crate's errors.
fn every_error() -> Vec<AuthError> {
    let decode_errors = [
        JwsDecodeError::NotBase64Url,
        JwsDecodeError::HeaderNotJson,
        JwsDecodeError::MissingAlg,
        JwsDecodeError::UnknownAlg,
        JwsDecodeError::WrongType(ShapeError::WrongType {
            parser: "Text",
            expected: JsonType::String,
            found: JsonType::Number,
        }),
        JwsDecodeError::CritEmpty,
        JwsDecodeError::CritReserved,
        JwsDecodeError::CritNotUnderstood,
    ];
    let jwt_errors = [
        JwtError::TooLarge,
        JwtError::PartCount(2),
        JwtError::InvalidText(1),
        JwtError::ClaimsSetDecode(ClaimsSetError::InvalidJson),
        JwtError::NoSignatures,
        JwtError::NoUsableKeys,
        JwtError::InvalidSignature,
        JwtError::Expired,
        JwtError::NotYetValid,
        JwtError::IssuedAtFuture,
        JwtError::NotInIssuer,
        JwtError::NotInAudience,
    ]
    .into_iter()
    .chain(decode_errors.into_iter().map(JwtError::JsonDecode));
    [
        AuthError::MissingToken,
        AuthError::MalformedAuthorization,
        AuthError::MultipleTokens,
        AuthError::InvalidAdminSecret,
    ]
    .into_iter()
    .chain(jwt_errors.map(AuthError::Jwt))
    .collect()
}

fn auth_variant(error: &AuthError) -> usize {
    match error {
        AuthError::MissingToken => 0,
        AuthError::MalformedAuthorization => 1,
        AuthError::MultipleTokens => 2,
        AuthError::Jwt(_) => 3,
        AuthError::Claims(_) => 4,
        AuthError::InvalidAdminSecret => 5,
    }
}

fn jwt_variant(error: &JwtError) -> usize {
    match error {
        JwtError::TooLarge => 0,
        JwtError::PartCount(_) => 1,
        JwtError::InvalidText(_) => 2,
        JwtError::JsonDecode(_) => 3,
        JwtError::ClaimsSetDecode(_) => 4,
        JwtError::NoSignatures => 5,
        JwtError::NoUsableKeys => 6,
        JwtError::InvalidSignature => 7,
        JwtError::Expired => 8,
        JwtError::NotYetValid => 9,
        JwtError::IssuedAtFuture => 10,
        JwtError::NotInIssuer => 11,
        JwtError::NotInAudience => 12,
    }
}

fn decode_variant(error: &JwsDecodeError) -> usize {
    match error {
        JwsDecodeError::NotBase64Url => 0,
        JwsDecodeError::HeaderNotJson => 1,
        JwsDecodeError::MissingAlg => 2,
        JwsDecodeError::UnknownAlg => 3,
        JwsDecodeError::WrongType(_) => 4,
        JwsDecodeError::CritEmpty => 5,
        JwsDecodeError::CritReserved => 6,
        JwsDecodeError::CritNotUnderstood => 7,
    }
}

#[test]
fn every_variant_has_an_example() {
    let errors = every_error();
    let claims = AuthError::Claims(jwtgate_claims::ClaimsError::RoleNotAllowed);
    let auth = errors.iter().chain([&claims]).map(auth_variant);
    assert_every_variant("AuthError", auth, 6);
    let jwt = errors.iter().filter_map(|error| match error {
        AuthError::Jwt(jwt) => Some(jwt_variant(jwt)),
        _ => None,
    });
    assert_every_variant("JwtError", jwt, 13);
    let decode = errors.iter().filter_map(|error| match error {
        AuthError::Jwt(JwtError::JsonDecode(decode)) => Some(decode_variant(decode)),
        _ => None,
    });
    assert_every_variant("JwsDecodeError", decode, 8);
}

#[test]
fn every_error_is_in_docs_errors_md() {
    let rendered: Vec<Rendered> = every_error()
        .iter()
        .map(|error| Rendered::coded(error.code(), error.to_string()))
        .collect();
    assert_documented("Token and header errors", &rendered);
}

#[test]
fn every_denial_is_a_401() {
    assert!(every_error().iter().all(|error| error.status() == 401));
}

/// The closed list of denial reasons (docs/errors.md "Denial reasons").
const REASONS: [&str; 12] = [
    "expired",
    "not_yet_valid",
    "bad_signature",
    "no_usable_keys",
    "audience",
    "issuer",
    "malformed",
    "ambiguous",
    "claims",
    "role",
    "admin_secret",
    "no_credentials",
];

#[test]
fn every_denial_has_a_documented_reason_from_the_closed_list() {
    use jwtgate_claims::ClaimsError;
    let claims = [
        ClaimsError::ExpectedObject,
        ClaimsError::RoleNotAllowed,
        ClaimsError::AllowedRolesMissing,
    ];
    let errors: Vec<AuthError> =
        every_error().into_iter().chain(claims.into_iter().map(AuthError::Claims)).collect();
    let used: std::collections::BTreeSet<&str> = errors.iter().map(AuthError::reason).collect();
    let listed: std::collections::BTreeSet<&str> = REASONS.into_iter().collect();
    assert_eq!(used, listed, "every reason used, and no other");
    let doc = std::fs::read_to_string(jwtgate_test_support::errors_doc::errors_doc_path()).unwrap();
    let section = doc.split("### Denial reasons").nth(1).unwrap().split("\n## ").next().unwrap();
    for reason in REASONS {
        assert!(section.contains(&format!("| `{reason}` |")), "{reason} in docs/errors.md");
    }
    assert_eq!(ClaimsError::ExpectedString.denial_reason(), "claims");
    assert_eq!(ClaimsError::DefaultRoleMissing.denial_reason(), "role");
}
