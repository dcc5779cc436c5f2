//! `docs/errors.md` lists every claims error and every claims set decode reason exactly.

use jwtgate_config::json_type::{JsonType, ShapeError};
use jwtgate_test_support::errors_doc::{Rendered, assert_documented, assert_every_variant};

use super::ClaimsError;
use crate::ClaimsSetError;

fn shape(parser: &'static str, expected: JsonType, found: JsonType) -> ShapeError {
    ShapeError::WrongType { parser, expected, found }
}

/// One value of every variant, both hints of `DefaultRoleInvalid` and both of its reasons.
fn every_claims_error() -> Vec<ClaimsError> {
    vec![
        ClaimsError::NamespaceNotFound { namespace: "https://hasura.io/jwt/claims".to_owned() },
        ClaimsError::NamespacePathNotFound { path: "$.hasura.claims".to_owned() },
        ClaimsError::ExpectedObject,
        ClaimsError::ExpectedString,
        ClaimsError::NotStringifiedJson {
            location: "claims_namespace https://hasura.io/jwt/claims".to_owned(),
            found: "{".to_owned(),
        },
        ClaimsError::NotStringifiedJson {
            location: "claims_namespace_path $.hasura".to_owned(),
            found: "[]".to_owned(),
        },
        ClaimsError::AllowedRolesMissing,
        ClaimsError::DefaultRoleMissing,
        ClaimsError::AllowedRolesInvalid(shape("[]", JsonType::Array, JsonType::String)),
        ClaimsError::AllowedRolesInvalid(ShapeError::EmptyString),
        ClaimsError::DefaultRoleInvalid {
            hint: "should be a single role name",
            error: ShapeError::EmptyString,
        },
        ClaimsError::DefaultRoleInvalid {
            hint: "should be a role",
            error: shape("String", JsonType::String, JsonType::Number),
        },
        ClaimsError::ClaimsMapClaimMissing { name: "x-hasura-user-id".to_owned() },
        ClaimsError::NotAString { found: JsonType::Array },
        ClaimsError::RoleNotAllowed,
    ]
}

fn claims_variant(error: &ClaimsError) -> usize {
    match error {
        ClaimsError::NamespaceNotFound { .. } => 0,
        ClaimsError::NamespacePathNotFound { .. } => 1,
        ClaimsError::ExpectedObject => 2,
        ClaimsError::ExpectedString => 3,
        ClaimsError::NotStringifiedJson { .. } => 4,
        ClaimsError::AllowedRolesMissing => 5,
        ClaimsError::DefaultRoleMissing => 6,
        ClaimsError::AllowedRolesInvalid(_) => 7,
        ClaimsError::DefaultRoleInvalid { .. } => 8,
        ClaimsError::ClaimsMapClaimMissing { .. } => 9,
        ClaimsError::NotAString { .. } => 10,
        ClaimsError::RoleNotAllowed => 11,
    }
}

fn every_claims_set_error() -> Vec<ClaimsSetError> {
    vec![
        ClaimsSetError::InvalidJson,
        ClaimsSetError::NotAnObject(JsonType::Array),
        ClaimsSetError::WrongType {
            claim: "sub",
            error: shape("StringOrURI", JsonType::String, JsonType::Number),
        },
        ClaimsSetError::WrongType {
            claim: "exp",
            error: shape("NumericDate", JsonType::Number, JsonType::String),
        },
        ClaimsSetError::WrongType {
            claim: "jti",
            error: shape("Text", JsonType::String, JsonType::Boolean),
        },
        ClaimsSetError::NotStringOrUri { claim: "iss" },
    ]
}

fn claims_set_variant(error: &ClaimsSetError) -> usize {
    match error {
        ClaimsSetError::InvalidJson => 0,
        ClaimsSetError::NotAnObject(_) => 1,
        ClaimsSetError::WrongType { .. } => 2,
        ClaimsSetError::NotStringOrUri { .. } => 3,
    }
}

#[test]
fn every_variant_has_an_example() {
    assert_every_variant("ClaimsError", every_claims_error().iter().map(claims_variant), 12);
    let claims_set = every_claims_set_error();
    assert_every_variant("ClaimsSetError", claims_set.iter().map(claims_set_variant), 4);
}

#[test]
fn every_error_is_in_docs_errors_md() {
    let claims: Vec<Rendered> = every_claims_error()
        .iter()
        .map(|error| Rendered::coded(error.code(), error.to_string()))
        .collect();
    assert_documented("Claims errors", &claims);
    let reasons: Vec<Rendered> =
        every_claims_set_error().iter().map(|error| Rendered::plain(error.to_string())).collect();
    assert_documented("JWTClaimsSetDecodeError reasons", &reasons);
}
