//! An axum service behind `HasuraAuthLayer`.
//!
//! `GET /whoami` answers the caller's role and `x-hasura-user-id`; a request the layer denies
//! gets Hasura's 401. The secret is `HASURA_GRAPHQL_JWT_SECRET`; the address `ADDRESS`
//! (default `127.0.0.1:0`, a free port). It prints `listening on http://<address>` first.
//!
//! ```sh
//! HASURA_GRAPHQL_JWT_SECRET='{"type": "HS256", "key": "an-hmac-secret-of-at-least-32-bytes!"}' \
//!   cargo run -p jwtgate-tower --example axum_service
//! ```

use std::io::Write as _;

use axum::Router;
use axum::routing::get;
use jwtgate_tower::{Caller, HasuraAuthLayer, HasuraSession};

async fn whoami(caller: HasuraSession) -> String {
    let session = caller.session();
    let how = match caller.caller() {
        Caller::Token => "token",
        Caller::AdminSecret => "admin secret",
        Caller::UnauthorizedRole => "unauthorized role",
    };
    format!("{} {} ({how})", session.role(), session.get("x-hasura-user-id").unwrap_or("-"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut auth =
        HasuraAuthLayer::builder().jwt_secret(std::env::var("HASURA_GRAPHQL_JWT_SECRET")?);
    if let Ok(role) = std::env::var("HASURA_GRAPHQL_UNAUTHORIZED_ROLE") {
        auth = auth.unauthorized_role(role);
    }
    let app = Router::new().route("/whoami", get(whoami)).layer(auth.build()?);
    let address = std::env::var("ADDRESS").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(address).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
