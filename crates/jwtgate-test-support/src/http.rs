//! A minimal HTTP/1.1 client over `std::net`: one request per connection, the whole answer
//! read and parsed. Enough for tests that must control the exact bytes sent.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (lossily UTF-8).
    pub body: String,
}

impl HttpResponse {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header whose name starts with `x-hasura-`, lower-cased, sorted.
    pub fn hasura_headers(&self) -> Vec<(String, String)> {
        let mut found: Vec<_> = self
            .headers
            .iter()
            .filter(|(name, _)| name.to_ascii_lowercase().starts_with("x-hasura-"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect();
        found.sort();
        found
    }

    /// The body as JSON; panics when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {:?}", self.body))
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole answer.
pub fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> HttpResponse {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if let Some(body) = body {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body.unwrap_or_default());
    send_raw(address, &request)
}

/// Sends raw request bytes and parses the answer.
pub fn send_raw(address: SocketAddr, request: &[u8]) -> HttpResponse {
    let raw = exchange(address, request);
    parse_response(&raw)
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&raw)))
}

/// Sends raw request bytes; `None` when the server closed the connection without answering (as it
/// does to a connection beyond `--max-connections`).
pub fn try_send_raw(address: SocketAddr, request: &[u8]) -> Option<HttpResponse> {
    parse_response(&exchange(address, request))
}

fn exchange(address: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The server may answer and close before reading all of an oversized request.
    let _ = stream.write_all(request);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    raw
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect();
    Some(HttpResponse { status, headers, body: body.to_owned() })
}
