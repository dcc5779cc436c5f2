//! A real Caddy (Debian's 2.6) in front of an upstream, asking jwtgate with `forward_auth`,
//! running the very `deploy/caddy/Caddyfile` the documentation shows. `.ci/run` installs caddy.

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use serde_json::json;

use crate::nginx::{Proxy, counting_upstream, wait_until_listening};
use crate::support::{Server, hs256_secret, send, token};

fn caddy_binary() -> PathBuf {
    ["/usr/bin/caddy", "/usr/local/bin/caddy"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!("caddy is needed for this test: apt-get install caddy (.ci/run does)")
        })
}

fn start_caddy(jwtgate: SocketAddr, upstream: SocketAddr) -> (Proxy, SocketAddr) {
    let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let home = std::env::temp_dir().join(format!(
        "jwtgate-caddy-{}-{}",
        std::process::id(),
        listen.port()
    ));
    fs::create_dir_all(&home).unwrap();
    let caddyfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/caddy/Caddyfile");
    let child = Command::new(caddy_binary())
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&caddyfile)
        .env("LISTEN", listen.to_string())
        .env("JWTGATE", jwtgate.to_string())
        .env("UPSTREAM", upstream.to_string())
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let caddy = Proxy { child, dir: home };
    wait_until_listening(listen, "caddy");
    (caddy, listen)
}

#[test]
fn caddy_forward_auth_passes_only_what_jwtgate_verified() {
    let jwtgate =
        Server::start(&["--jwt-secret", &hs256_secret(), "--unauthorized-role", "anonymous"], &[]);
    let (upstream, answered) = counting_upstream();
    let (_caddy, caddy) = start_caddy(jwtgate.address, upstream);
    let authorization = format!("Bearer {}", token());

    // A header jwtgate sends replaces the client's.
    let valid = send(
        caddy,
        "GET",
        "/api/items",
        &[("Authorization", &authorization), ("X-Hasura-User-Id", "999")],
        None,
    );
    assert_eq!(valid.status, 200, "{}", valid.body);
    assert_eq!(valid.json(), json!({"x-hasura-role": "user", "x-hasura-user-id": "1"}));

    // The unauthorized role: jwtgate sends only X-Hasura-Role; the client's X-Hasura-User-Id
    // and any other X-Hasura-* header never reach the upstream, nor a placeholder's text.
    let anonymous = send(
        caddy,
        "GET",
        "/",
        &[("X-Hasura-Role", "admin"), ("X-Hasura-User-Id", "999"), ("X-Hasura-Org-Id", "7")],
        None,
    );
    assert_eq!(anonymous.status, 200, "{}", anonymous.body);
    assert_eq!(anonymous.json(), json!({"x-hasura-role": "anonymous"}));

    // A denial is jwtgate's answer, and the upstream is never asked.
    let before = answered.load(Ordering::SeqCst);
    let denied = send(caddy, "GET", "/api/items", &[("Authorization", "Bearer not.a.token")], None);
    assert_eq!(denied.status, 401, "{}", denied.body);
    assert_eq!(denied.json()["code"], "invalid-jwt", "{}", denied.body);
    assert_eq!(answered.load(Ordering::SeqCst), before, "the upstream was reached");
}
