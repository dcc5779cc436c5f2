//! `jwtgate healthcheck`: one plain HTTP GET, for a container image without a shell or curl.
//! A 200 answer is healthy; anything else, or no answer within 5 s, is not.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::Duration;

/// How long connecting, and then the whole answer, may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The most of an answer read: the status line is all that counts.
const MOST_READ: u64 = 16 * 1024;

/// `Ok` when `url` (an `http://` URL) answers 200; else why not, in one line.
pub(crate) fn check(url: &str) -> Result<(), String> {
    let (authority, path) = split_url(url)?;
    let address = authority
        .to_socket_addrs()
        .map_err(|error| format!("{authority}: {error}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&address, TIMEOUT).map_err(|error| format!("{url}: {error}"))?;
    let failed = |error: std::io::Error| format!("{url}: {error}");
    stream.set_read_timeout(Some(TIMEOUT)).map_err(failed)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(failed)?;
    // One write: a request in pieces may meet a server that has already answered and closed.
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(failed)?;
    let mut answer = Vec::new();
    // A read that times out after the status line arrived still tells the status.
    let read = stream.take(MOST_READ).read_to_end(&mut answer);
    let status_line = answer.split(|&byte| byte == b'\n').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    let status = status_line.split_whitespace().nth(1);
    match (status, read) {
        (Some("200"), _) => Ok(()),
        (Some(status), _) => Err(format!("{url} answered {status}")),
        (None, Err(error)) => Err(failed(error)),
        (None, Ok(_)) => Err(format!("{url} gave no HTTP answer")),
    }
}

/// `host:port` (port 80 when absent) and the path of an `http://` URL.
fn split_url(url: &str) -> Result<(String, &str), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("{url}: expected http://HOST[:PORT]/PATH"));
    }
    let has_port = match authority.rsplit_once(']') {
        // `[::1]` or `[::1]:8081`
        Some((_, after)) => after.starts_with(':'),
        None => authority.contains(':'),
    };
    let authority = if has_port { authority.to_owned() } else { format!("{authority}:80") };
    Ok((authority, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_an_address_and_a_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8081/healthz"),
            Ok(("127.0.0.1:8081".into(), "/healthz"))
        );
        assert_eq!(split_url("http://[::1]:9/readyz?x=1"), Ok(("[::1]:9".into(), "/readyz?x=1")));
        assert_eq!(split_url("http://example.test"), Ok(("example.test:80".into(), "/")));
        assert_eq!(split_url("http://[::1]/"), Ok(("[::1]:80".into(), "/")));
        assert!(split_url("https://example.test/").is_err());
        assert!(split_url("http:///healthz").is_err());
        assert!(split_url("http://user@host/").is_err());
    }
}
