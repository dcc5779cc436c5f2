//! An axum router behind the layer, served over real HTTP on a loopback port.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use jwtgate_test_support::http::{HttpResponse, send};
use jwtgate_tower::{HasuraAuthLayer, HasuraSession, OnDenial};
use serde_json::json;

use crate::support::{HS256_SECRET, claims, hs256};

async fn whoami(caller: HasuraSession) -> String {
    format!(
        "{} {}",
        caller.session().role(),
        caller.session().get("x-hasura-user-id").unwrap_or("-")
    )
}

async fn maybe(caller: Option<HasuraSession>) -> String {
    caller.map_or_else(|| "nobody".to_owned(), |caller| caller.session().role().to_owned())
}

/// Serves `app` on a free loopback port for the rest of the test.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

/// A GET over a real socket (the client blocks, so it runs off the runtime's threads).
async fn get_with(address: SocketAddr, path: &'static str, token: Option<String>) -> HttpResponse {
    tokio::task::spawn_blocking(move || {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> =
            authorization.iter().map(|value| ("authorization", value.as_str())).collect();
        send(address, "GET", path, &headers, None)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_router_answers_sessions_and_hasuras_401_over_http() {
    let layer = HasuraAuthLayer::builder().jwt_secret(HS256_SECRET).build().unwrap();
    let address = serve(Router::new().route("/whoami", get(whoami)).layer(layer)).await;

    let answer = get_with(address, "/whoami", Some(hs256(&claims(3600)))).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "user 42"));

    let expired = get_with(address, "/whoami", Some(hs256(&claims(-60)))).await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
    assert_eq!(
        expired.json(),
        json!({"error": "Could not verify JWT: JWTExpired", "path": "$", "code": "invalid-jwt"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_continue_mode_the_extractors_decide() {
    let layer = HasuraAuthLayer::builder()
        .jwt_secret(HS256_SECRET)
        .on_denial(OnDenial::Continue)
        .build()
        .unwrap();
    let app = Router::new().route("/whoami", get(whoami)).route("/maybe", get(maybe));
    let address = serve(app.layer(layer)).await;

    let nobody = get_with(address, "/maybe", None).await;
    assert_eq!((nobody.status, nobody.body.as_str()), (200, "nobody"));
    let user = get_with(address, "/maybe", Some(hs256(&claims(3600)))).await;
    assert_eq!((user.status, user.body.as_str()), (200, "user"));
    // `HasuraSession` itself refuses the denied request with the layer's 401.
    let refused = get_with(address, "/whoami", Some(hs256(&claims(-60)))).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"], "Could not verify JWT: JWTExpired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_without_the_layer_is_a_500_not_a_pass() {
    let address = serve(Router::new().route("/whoami", get(whoami))).await;
    let answer = get_with(address, "/whoami", Some(hs256(&claims(3600)))).await;
    assert_eq!((answer.status, answer.body.as_str()), (500, "HasuraAuthLayer is not installed"));
}
