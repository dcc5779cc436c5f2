//! The load benchmark's baseline: a bare hyper HTTP/1.1 server answering every request with a
//! fixed session body, built like `jwtgate serve` (tokio, one task per connection, the same
//! allocator), so the ratio is jwtgate's own work.
//!
//! `cargo run --release -p jwtgate-server --example bare_hyper -- 127.0.0.1:0` prints
//! `listening on http://ADDR`.

#![expect(clippy::print_stdout, reason = "the listening line is this program's output")]

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str =
    r#"{"x-hasura-role":"user","x-hasura-user-id":"1","Expires":"Fri, 01 Jan 2100 00:00:00 GMT"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_request| async {
                let mut response = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
                let headers = response.headers_mut();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                Ok::<_, Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
