//! A tonic gRPC server (the standard health service) behind `HasuraAuthLayer`.
//!
//! A call with `authorization: Bearer <token>` metadata is answered; one without is refused with
//! HTTP 401, which the client reads as `Unauthenticated`. The secret is
//! `HASURA_GRAPHQL_JWT_SECRET`; the address `ADDRESS` (default `127.0.0.1:0`). It prints
//! `listening on http://<address>` first.
//!
//! ```sh
//! HASURA_GRAPHQL_JWT_SECRET='{"type": "HS256", "key": "an-hmac-secret-of-at-least-32-bytes!"}' \
//!   cargo run -p jwtgate-tower --example tonic_health
//! ```

use std::io::Write as _;

use jwtgate_tower::HasuraAuthLayer;
use tonic::transport::server::TcpIncoming;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = HasuraAuthLayer::builder()
        .jwt_secret(std::env::var("HASURA_GRAPHQL_JWT_SECRET")?)
        .build()?;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let address = std::env::var("ADDRESS").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(address).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    tonic::transport::Server::builder()
        .layer(auth)
        .add_service(health)
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;
    Ok(())
}
