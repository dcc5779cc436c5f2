//! The load benchmark's baseline: a bare hyper HTTP/1.1 server answering every request with
//! one fixed response, built like `jwtgate serve` (tokio, one task per connection, the same
//! allocator). `cargo xtask load-bench` gives it the very headers and body jwtgate answers for
//! the benchmark's token, so both put the same bytes on the wire and the ratio is jwtgate's own
//! work. The response is made of static parts, the cheapest a server can send.
//!
//! `cargo run --release -p jwtgate-server --example bare_hyper -- 127.0.0.1:0 [BODY [NAME:VALUE]...]`
//! prints `listening on http://ADDR`; without a body it answers a small session.

#![expect(clippy::print_stdout, reason = "the listening line is this program's output")]

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEFAULT_BODY: &str =
    r#"{"x-hasura-role":"user","x-hasura-user-id":"1","Expires":"Fri, 01 Jan 2100 00:00:00 GMT"}"#;

/// The fixed response's parts, leaked once so that every request clones static bytes.
struct Fixed {
    body: &'static [u8],
    headers: Vec<(HeaderName, HeaderValue)>,
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The response the arguments after the address describe.
fn fixed(arguments: &[String]) -> Result<Fixed, String> {
    let body = arguments.first().map_or(DEFAULT_BODY, |body| leak(body.clone()));
    let mut headers = vec![
        (http::header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (http::header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    for header in arguments.iter().skip(1) {
        let (name, value) =
            header.split_once(':').ok_or_else(|| format!("not NAME:VALUE: {header:?}"))?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
        // Checked first: the `from_static` forms take only valid parts.
        HeaderName::from_bytes(name.as_bytes()).map_err(|error| format!("{name:?}: {error}"))?;
        HeaderValue::from_str(&value).map_err(|error| format!("{value:?}: {error}"))?;
        if !value.is_ascii() {
            return Err(format!("{value:?}: not ASCII"));
        }
        headers.push((HeaderName::from_static(leak(name)), HeaderValue::from_static(leak(value))));
    }
    Ok(Fixed { body: body.as_bytes(), headers })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let address = arguments.first().map_or("127.0.0.1:0", String::as_str);
    let fixed: &'static Fixed = Box::leak(Box::new(fixed(arguments.get(1..).unwrap_or_default())?));
    let listener = TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_request| async {
                let mut response = Response::new(Full::new(Bytes::from_static(fixed.body)));
                let headers = response.headers_mut();
                for (name, value) in &fixed.headers {
                    headers.append(name.clone(), value.clone());
                }
                Ok::<_, Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
