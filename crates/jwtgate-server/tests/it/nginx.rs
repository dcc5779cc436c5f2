//! A real nginx in front of an upstream, asking jwtgate with `auth_request` (the configuration
//! docs/server.md documents). `.ci/run` installs nginx.

use std::fs;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::support::{Server, hs256_secret, send, token};

/// The nginx configuration of docs/server.md, with this test's ports and prefix.
fn config(prefix: &Path, listen: SocketAddr, jwtgate: SocketAddr, upstream: SocketAddr) -> String {
    let prefix = prefix.display();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen {listen};
        location = /_jwtgate {{
            internal;
            proxy_pass http://{jwtgate}/v1/auth/nginx;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }}
        location / {{
            auth_request /_jwtgate;
            auth_request_set $hasura_role $upstream_http_x_hasura_role;
            auth_request_set $hasura_user_id $upstream_http_x_hasura_user_id;
            proxy_set_header X-Hasura-Role $hasura_role;
            proxy_set_header X-Hasura-User-Id $hasura_user_id;
            proxy_pass http://{upstream};
        }}
    }}
}}
"#
    )
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!("nginx is needed for this test: apt-get install nginx (.ci/run does)")
        })
}

/// An upstream answering every request with the `x-hasura-*` headers it received, as JSON.
fn upstream() -> SocketAddr {
    counting_upstream().0
}

/// [`upstream`], and the number of requests it has answered.
pub(crate) fn counting_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&answered);
    thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            count.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || echo_hasura_headers(stream));
        }
    });
    (address, answered)
}

fn echo_hasura_headers(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut seen = Map::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name.starts_with("x-hasura-") {
                seen.insert(name, Value::String(value.trim().to_owned()));
            }
        }
    }
    let body = Value::Object(seen).to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A proxy running in the background with its own directory: both go when it is dropped.
pub(crate) struct Proxy {
    pub(crate) child: Child,
    pub(crate) dir: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn start_nginx(jwtgate: SocketAddr, upstream: SocketAddr) -> (Proxy, SocketAddr) {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let instance = STARTED.fetch_add(1, Ordering::SeqCst);
    let prefix =
        std::env::temp_dir().join(format!("jwtgate-nginx-{}-{instance}", std::process::id()));
    let _ = fs::remove_dir_all(&prefix);
    fs::create_dir_all(prefix.join("logs")).unwrap();
    let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let conf = prefix.join("nginx.conf");
    fs::write(&conf, config(&prefix, listen, jwtgate, upstream)).unwrap();
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(&prefix)
        .args(["-e", "stderr", "-c"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let nginx = Proxy { child, dir: prefix };
    wait_until_listening(listen, "nginx");
    (nginx, listen)
}

/// Waits up to 10 s for a proxy started in the background to accept connections.
pub(crate) fn wait_until_listening(address: SocketAddr, proxy: &str) {
    for _ in 0..200 {
        if TcpStream::connect(address).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("{proxy} did not start listening on {address}");
}

#[test]
fn nginx_auth_request_forwards_verified_headers_only() {
    let jwtgate = Server::start(&["--jwt-secret", &hs256_secret()], &[]);
    let (_nginx, nginx) = start_nginx(jwtgate.address, upstream());
    let authorization = format!("Bearer {}", token());

    let valid = send(nginx, "GET", "/api/items", &[("Authorization", &authorization)], None);
    assert_eq!(valid.status, 200, "{}", valid.body);
    assert_eq!(valid.json(), json!({"x-hasura-role": "user", "x-hasura-user-id": "1"}));

    // A client-forged role is replaced by the verified one; the chosen role is honoured.
    let forged = send(
        nginx,
        "GET",
        "/api/items",
        &[
            ("Authorization", &authorization),
            ("X-Hasura-Role", "admin"),
            ("X-Hasura-User-Id", "999"),
        ],
        None,
    );
    assert_eq!(forged.status, 401, "admin is not an allowed role: jwtgate denies it");
    let editor = send(
        nginx,
        "GET",
        "/api/items",
        &[
            ("Authorization", &authorization),
            ("X-Hasura-Role", "editor"),
            ("X-Hasura-User-Id", "999"),
        ],
        None,
    );
    assert_eq!(editor.status, 200);
    assert_eq!(editor.json(), json!({"x-hasura-role": "editor", "x-hasura-user-id": "1"}));

    let bad = send(nginx, "GET", "/api/items", &[("Authorization", "Bearer not.a.token")], None);
    assert_eq!(bad.status, 401);
    let missing = send(nginx, "POST", "/api/items", &[("X-Hasura-Role", "admin")], Some(b"{}"));
    assert_eq!(missing.status, 401);
}

#[test]
fn nginx_drops_forged_headers_when_jwtgate_sends_none() {
    // With an unauthorized role jwtgate answers 200 with only X-Hasura-Role: a client-sent
    // X-Hasura-User-Id must not reach the upstream.
    let jwtgate =
        Server::start(&["--jwt-secret", &hs256_secret(), "--unauthorized-role", "anonymous"], &[]);
    let (_nginx, nginx) = start_nginx(jwtgate.address, upstream());
    let response =
        send(nginx, "GET", "/", &[("X-Hasura-Role", "admin"), ("X-Hasura-User-Id", "999")], None);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json(), json!({"x-hasura-role": "anonymous"}));
}
