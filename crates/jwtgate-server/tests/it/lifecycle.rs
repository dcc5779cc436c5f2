//! What a container platform relies on: `jwtgate healthcheck` (exit 0 on 200, 1 otherwise,
//! silent on success) and `--shutdown-delay` (after SIGTERM, `/readyz` answers 503 while
//! requests are still served, then the process drains and exits 0).

use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Server, hs256_secret, jwtgate, token};

/// The real clock: these tests watch a running server's shutdown.
#[expect(clippy::disallowed_methods, reason = "the shutdown delay runs on the real clock")]
fn clock() -> Instant {
    Instant::now()
}

fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = jwtgate();
    command.arg("healthcheck").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn assert_unhealthy(output: &Output, mentioning: &str) {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("jwtgate: ") && stderr.contains(mentioning), "{stderr}");
    assert!(output.stdout.is_empty());
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn healthcheck_passes_silently_against_a_serving_jwtgate_by_url_or_by_port() {
    let server = Server::start(&["--jwt-secret", &hs256_secret()], &[]);
    let url = format!("http://{}/healthz", server.address);
    let by_url = healthcheck(&["--url", &url], &[]);
    assert!(by_url.status.success(), "{by_url:?}");
    assert!(by_url.stdout.is_empty() && by_url.stderr.is_empty(), "{by_url:?}");
    let port = server.address.port().to_string();
    let by_port = healthcheck(&[], &[("JWTGATE_PORT", &port)]);
    assert!(by_port.status.success(), "{by_port:?}");
    assert!(by_port.stdout.is_empty() && by_port.stderr.is_empty(), "{by_port:?}");
}

#[test]
fn healthcheck_fails_when_nothing_answers_or_the_answer_is_not_200() {
    let port = closed_port().to_string();
    assert_unhealthy(&healthcheck(&[], &[("JWTGATE_PORT", &port)]), &port);
    assert_unhealthy(&healthcheck(&["--url", &format!("http://127.0.0.1:{port}/")], &[]), &port);
    assert_unhealthy(&healthcheck(&["--url", "https://127.0.0.1/healthz"], &[]), "http://");
    assert_unhealthy(&healthcheck(&[], &[("JWTGATE_PORT", "eighty")]), "JWTGATE_PORT");

    // Not ready: a key set whose provider does not answer.
    let unreachable = format!("http://127.0.0.1:{}/jwks.json", closed_port());
    let secret = json!({"jwk_url": unreachable}).to_string();
    let server = Server::start(&["--jwt-secret", &secret], &[]);
    let readyz = format!("http://{}/readyz", server.address);
    assert_unhealthy(&healthcheck(&["--url", &readyz], &[]), "503");
    let healthz = format!("http://{}/healthz", server.address);
    assert!(healthcheck(&["--url", &healthz], &[]).status.success());
}

#[test]
fn after_sigterm_the_shutdown_delay_serves_with_readyz_503_then_exits_0() {
    let server =
        Server::start(&["--jwt-secret", &hs256_secret()], &[("JWTGATE_SHUTDOWN_DELAY", "2")]);
    assert_eq!(server.get("/readyz", &[]).status, 200);
    let bearer = format!("Bearer {}", token());
    server.signal("TERM");
    let signalled = clock();
    let mut readyz = server.get("/readyz", &[]);
    while readyz.status == 200 && signalled.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(20));
        readyz = server.get("/readyz", &[]);
    }
    assert_eq!(readyz.status, 503, "{}", readyz.body);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&readyz.body).unwrap(),
        json!({"status": "unavailable", "reason": "shutting down"})
    );
    let auth = server.get("/v1/auth", &[("Authorization", &bearer)]);
    assert_eq!(auth.status, 200, "still serving during the delay: {}", auth.body);
    assert_eq!(server.get("/healthz", &[]).status, 200);
    assert!(signalled.elapsed() < Duration::from_secs(2), "the checks took the whole delay");

    let status = server.wait();
    assert!(status.success(), "{status:?}");
    let took = signalled.elapsed();
    assert!(took >= Duration::from_secs(2), "exited after {took:?}, before the delay ended");
    assert!(took < Duration::from_secs(12), "exited after {took:?}");
}

#[test]
fn without_a_delay_sigterm_stops_at_once_and_a_bad_delay_is_a_usage_error() {
    let server = Server::start(&["--jwt-secret", &hs256_secret()], &[]);
    let signalled = clock();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(signalled.elapsed() < Duration::from_secs(2), "{:?}", signalled.elapsed());

    let output = jwtgate()
        .args(["serve", "--jwt-secret", &hs256_secret(), "--shutdown-delay", "soon"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--shutdown-delay"), "{stderr}");
}
