//! docs/errors.md lists every error of the layer, as it is rendered.

use axum_core::response::IntoResponse as _;
use jwtgate_test_support::errors_doc::{
    Rendered, assert_documented, assert_every_variant, matches, table,
};
use jwtgate_tower::{BuildError, HasuraAuthLayer, SessionRejection};

fn build_errors() -> Vec<BuildError> {
    let no_secret = HasuraAuthLayer::builder().build().unwrap_err();
    let config = HasuraAuthLayer::builder().jwt_secret("{}").build().unwrap_err();
    // Outside a tokio runtime the fetcher cannot start.
    let key_set = HasuraAuthLayer::builder()
        .jwt_secret(r#"{"jwk_url": "https://keys.example/jwks"}"#)
        .build()
        .unwrap_err();
    vec![no_secret, config, key_set]
}

fn build_variant(error: &BuildError) -> usize {
    match error {
        BuildError::NoSecret => 0,
        BuildError::Config(_) => 1,
        BuildError::KeySet(_) => 2,
        _ => usize::MAX,
    }
}

async fn rejection_text(rejection: SessionRejection) -> String {
    let body = rejection.into_response().into_body();
    let bytes = axum::body::to_bytes(body, 1024).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn every_error_of_the_layer_is_in_docs_errors_md() {
    // Built off the runtime, so that a `jwk_url`'s fetcher cannot start.
    let errors = std::thread::spawn(build_errors).join().unwrap();
    assert_every_variant("BuildError", errors.iter().map(build_variant), 3);
    let own = vec![
        Rendered::plain(errors[0].to_string()),
        Rendered::plain(rejection_text(SessionRejection::NoLayer).await),
    ];
    assert_documented("The tower layer", &own);
    // The others are the config's and the fetcher's errors, documented with them.
    let fetcher_rows = table("Starting a key set fetcher");
    let key_set = errors[2].to_string();
    assert!(fetcher_rows.iter().any(|row| matches(&row.pattern, &key_set)), "{key_set}");
    let secret_rows = table("Secret errors");
    let BuildError::Config(config) = &errors[1] else { panic!("{}", errors[1]) };
    assert_eq!(config.to_string(), format!("jwt_secret.key: {}", config.kind()));
    let reason = config.kind().to_string();
    assert!(secret_rows.iter().any(|row| matches(&row.pattern, &reason)), "{reason}");
}
