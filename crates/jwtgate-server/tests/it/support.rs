//! Starting the binary, a minimal HTTP/1.1 client, and tokens.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use jwtgate_test_support::corpus::{TYPICAL_EXP, sign};
pub(crate) use jwtgate_test_support::http::{HttpResponse, send, send_raw, try_send_raw};
use jwtgate_test_support::keys::TestKey;
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "a-32-byte-secret-for-jwtgate-srv";

pub(crate) fn hs256_secret() -> String {
    json!({"type": "HS256", "key": SECRET}).to_string()
}

/// A runtime for the wiremock providers the binary fetches key sets from.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

/// The `jwtgate` command with a clean environment.
pub(crate) fn jwtgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jwtgate"));
    for variable in jwtgate_test_support::BINARY_VARIABLES {
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

    /// Sends a signal (`HUP`, `TERM` ...) without waiting for anything.
    pub(crate) fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args([&format!("-{name}"), &pid]).status().unwrap();
        assert!(status.success());
    }

    /// Whether the process is still running.
    pub(crate) fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) fn terminate(self) -> ExitStatus {
        self.signal("TERM");
        self.wait()
    }

    /// Waits up to 15 s for the exit.
    pub(crate) fn wait(mut self) -> ExitStatus {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("jwtgate did not exit within 15 s");
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
