//! The server's handler without a socket: routing, header mode and the POST webhook body. The
//! input is a request: `METHOD PATH` on the first line, a header block, an empty line, the body.
//! Every request gets an answer with a status the server contract names, and no answer holds a
//! secret the request did not.

#![no_main]

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full};
use jwtgate_fuzz::{ADMIN_SECRET, HS256_KEY, app, header_block, runtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|pair| pair == b"\n\n") {
        Some(at) => (data.get(..at).unwrap_or_default(), data.get(at + 2..).unwrap_or_default()),
        None => (data, &[][..]),
    };
    let (request_line, header_lines) = match head.iter().position(|byte| *byte == b'\n') {
        Some(at) => (head.get(..at).unwrap_or_default(), head.get(at + 1..).unwrap_or_default()),
        None => (head, &[][..]),
    };
    let mut parts = request_line.splitn(2, |byte| *byte == b' ');
    let Ok(method) = Method::from_bytes(parts.next().unwrap_or_default()) else { return };
    let Ok(path) = std::str::from_utf8(parts.next().unwrap_or(b"/")) else { return };
    let Ok(mut request) =
        Request::builder().method(method).uri(path).body(Full::new(Bytes::copy_from_slice(body)))
    else {
        return;
    };
    *request.headers_mut() = header_block(header_lines);
    // Built before entering the runtime: building fetches the key set on it.
    let app = app();
    let answer = runtime().block_on(async {
        let response = app.handle(request).await.ok()?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.ok()?.to_bytes();
        Some((status, bytes))
    });
    let (status, bytes) = answer.unwrap_or_else(|| panic!("the handler failed without a timeout"));
    assert!(matches!(status, 200 | 400 | 401 | 404 | 503), "status {status}");
    // A session echoes the caller's own `x-hasura-*` values; a secret the request did not hold
    // never shows.
    for secret in [HS256_KEY, ADMIN_SECRET] {
        let held = |haystack: &[u8]| haystack.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(held(data) || !held(&bytes), "an answer holds a secret");
    }
});
