//! Starting the binary, a minimal HTTP/1.1 client, and tokens.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use jwtgate_test_support::corpus::{TYPICAL_EXP, sign};
use jwtgate_test_support::keys::TestKey;
use serde_json::{Value, json};

/// Every variable the binary reads, removed so the developer's environment cannot leak in.
const VARIABLES: [&str; 11] = [
    "HASURA_GRAPHQL_JWT_SECRET",
    "HASURA_GRAPHQL_JWT_SECRETS",
    "HASURA_GRAPHQL_ADMIN_SECRET",
    "HASURA_GRAPHQL_UNAUTHORIZED_ROLE",
    "JWTGATE_HOST",
    "JWTGATE_PORT",
    "JWTGATE_JWKS_REQUIRED",
    "JWTGATE_TOKEN_CACHE_SIZE",
    "JWTGATE_LOG_FORMAT",
    "RUST_LOG",
    "HASURA_GRAPHQL_ACCESS_KEY",
];

pub(crate) const SECRET: &str = "a-32-byte-secret-for-jwtgate-srv";

pub(crate) fn hs256_secret() -> String {
    json!({"type": "HS256", "key": SECRET}).to_string()
}

/// The `jwtgate` command with a clean environment.
pub(crate) fn jwtgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jwtgate"));
    for variable in VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// A token for the typical claims (roles user and editor, user id "1", exp in 2100), HS256.
pub(crate) fn token() -> String {
    token_with(&claims())
}

pub(crate) fn claims() -> Value {
    json!({
        "sub": "1",
        "exp": TYPICAL_EXP,
        "https://hasura.io/jwt/claims": {
            "x-hasura-allowed-roles": ["user", "editor"],
            "x-hasura-default-role": "user",
            "x-hasura-user-id": "1"
        }
    })
}

pub(crate) fn token_with(claims: &Value) -> String {
    sign(claims, &TestKey::hmac(SECRET.as_bytes()), "HS256")
}

/// A running `jwtgate serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) address: SocketAddr,
    stderr: Arc<Mutex<String>>,
    /// Stdout lines after the listening line.
    pub(crate) extra_stdout: mpsc::Receiver<String>,
}

impl Server {
    /// `jwtgate serve --port 0 <args>` with the given environment.
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = jwtgate();
        command.args(["serve", "--port", "0"]).args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        Self::spawn(command)
    }

    pub(crate) fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let (lines, extra_stdout) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let first = extra_stdout.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
            let status = child.try_wait();
            panic!("no listening line; status {status:?}; stderr: {}", stderr.lock().unwrap())
        });
        let address = first
            .strip_prefix("jwtgate listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        Self { child, address, stderr, extra_stdout }
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        let status =
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("jwtgate did not exit within 10 s of SIGTERM");
    }

    pub(crate) fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        send(self.address, "GET", path, headers, None)
    }

    pub(crate) fn post(&self, path: &str, body: &str) -> HttpResponse {
        send(
            self.address,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            Some(body.as_bytes()),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl HttpResponse {
    /// The first value of a header, by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header whose name starts with `x-hasura-`, lower-cased, sorted.
    pub(crate) fn hasura_headers(&self) -> Vec<(String, String)> {
        let mut found: Vec<_> = self
            .headers
            .iter()
            .filter(|(name, _)| name.to_ascii_lowercase().starts_with("x-hasura-"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect();
        found.sort();
        found
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {:?}", self.body))
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole answer.
pub(crate) fn send(
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
pub(crate) fn send_raw(address: SocketAddr, request: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The server may answer and close before reading all of an oversized request.
    let _ = stream.write_all(request);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let text = String::from_utf8_lossy(raw);
    let (head, body) =
        text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect();
    HttpResponse { status, headers, body: body.to_owned() }
}
