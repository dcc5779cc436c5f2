//! Reloading the configuration: secrets and the admin secret read from files, applied again on
//! SIGHUP, on a rewritten file and on a Kubernetes-style symlink swap, with requests running
//! throughout; an invalid file changes nothing; key sets configured alike are kept.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use jwtgate_test_support::corpus::sign;
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Server, claims, runtime, try_send_raw};

const OLD_KEY: &str = "the-old-hs256-secret-of-32-bytes";
const NEW_KEY: &str = "the-new-hs256-secret-of-32-bytes";
const BAD_SIGNATURE: &str = "Could not verify JWT: JWSError JWSInvalidSignature";

fn hs256(key: &str) -> String {
    json!({"type": "HS256", "key": key}).to_string()
}

fn token(key: &str) -> String {
    sign(&claims(), &TestKey::hmac(key.as_bytes()), "HS256")
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jwtgate-reload-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces a file's content at once, as an editor or a secret manager does (write, rename).
fn replace(path: &Path, content: &str) {
    let temporary = path.with_extension("tmp");
    fs::write(&temporary, content).unwrap();
    fs::rename(&temporary, path).unwrap();
}

fn status_with(address: SocketAddr, token: &str) -> Option<(u16, String)> {
    let request = format!(
        "GET /v1/auth HTTP/1.1\r\nHost: jwtgate\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let answer = try_send_raw(address, request.as_bytes())?;
    let error =
        if answer.status == 200 { String::new() } else { answer.json()["error"].to_string() };
    Some((answer.status, error))
}

/// Requests with the old and the new token, one after the other, until stopped. Each answer
/// must say which configuration served it (old token 200 and new 401, or the reverse), and
/// once the new one has served, the old never serves again. Returns the problems and the
/// number of requests.
struct Traffic {
    stop: Arc<AtomicBool>,
    worker: thread::JoinHandle<(Vec<String>, usize)>,
}

impl Traffic {
    fn start(address: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let running = Arc::clone(&stop);
        let (old, new) = (token(OLD_KEY), token(NEW_KEY));
        let bad = format!("{BAD_SIGNATURE:?}");
        let worker = thread::spawn(move || {
            let (mut problems, mut sent, mut new_served) = (Vec::new(), 0, false);
            while !running.load(Ordering::Relaxed) {
                for (token, is_old) in [(&old, true), (&new, false)] {
                    sent += 1;
                    let served_by_new = match status_with(address, token) {
                        Some((200, _)) => !is_old,
                        Some((401, error)) if error == bad => is_old,
                        other => {
                            problems.push(format!("request {sent}: {other:?}"));
                            continue;
                        }
                    };
                    if new_served && !served_by_new {
                        problems.push(format!("request {sent}: the old configuration came back"));
                    }
                    new_served |= served_by_new;
                }
            }
            (problems, sent)
        });
        Self { stop, worker }
    }

    /// Stops and asserts nothing went wrong.
    fn finish(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let (problems, sent) = self.worker.join().unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
        sent
    }
}

/// Waits (at most `limit`) until `done` holds.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let step = Duration::from_millis(50);
    for _ in 0..limit.as_millis() / step.as_millis() {
        if done() {
            return true;
        }
        thread::sleep(step);
    }
    done()
}

fn passes(server: &Server, key: &str) -> bool {
    status_with(server.address, &token(key)).is_some_and(|(status, _)| status == 200)
}

fn reloads(server: &Server, result: &str) -> u64 {
    let metrics = server.get("/metrics", &[]).body;
    let line = format!("jwtgate_config_reloads_total{{result=\"{result}\"}} ");
    metrics.lines().find_map(|l| l.strip_prefix(&line)).map_or(0, |n| n.parse().unwrap())
}

#[test]
fn a_rewritten_secret_file_is_applied_within_5_s_with_requests_running() {
    let dir = scratch("rewrite");
    let file = dir.join("jwt-secret.json");
    fs::write(&file, hs256(OLD_KEY)).unwrap();
    let server = Server::start(&["--jwt-secret-file", file.to_str().unwrap()], &[]);
    assert!(passes(&server, OLD_KEY) && !passes(&server, NEW_KEY));

    let traffic = Traffic::start(server.address);
    thread::sleep(Duration::from_millis(300));
    replace(&file, &hs256(NEW_KEY));
    assert!(within(Duration::from_secs(5), || passes(&server, NEW_KEY)), "{}", server.stderr());
    thread::sleep(Duration::from_millis(300));
    let sent = traffic.finish();
    assert!(sent > 10, "{sent} requests");
    assert!(!passes(&server, OLD_KEY));
    assert_eq!((reloads(&server, "ok"), reloads(&server, "error")), (1, 0));
    assert!(server.stderr().contains("configuration reloaded trigger=\"file change\" secrets=1"));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_kubernetes_symlink_swap_is_a_change() {
    // The kubelet's layout: the file is a link through `..data`, which is re-pointed at a new
    // timestamped directory in one rename.
    let dir = scratch("symlink");
    let first = dir.join("..2026_12_01_10_00_00.1");
    fs::create_dir(&first).unwrap();
    fs::write(first.join("jwt-secret.json"), hs256(OLD_KEY)).unwrap();
    std::os::unix::fs::symlink(first.file_name().unwrap(), dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/jwt-secret.json", dir.join("jwt-secret.json")).unwrap();
    let file = dir.join("jwt-secret.json");
    let server = Server::start(&[], &[("HASURA_GRAPHQL_JWT_SECRET_FILE", file.to_str().unwrap())]);
    assert!(passes(&server, OLD_KEY));

    let traffic = Traffic::start(server.address);
    let second = dir.join("..2026_12_01_10_05_00.2");
    fs::create_dir(&second).unwrap();
    fs::write(second.join("jwt-secret.json"), hs256(NEW_KEY)).unwrap();
    std::os::unix::fs::symlink(second.file_name().unwrap(), dir.join("..data_tmp")).unwrap();
    fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    fs::remove_dir_all(&first).unwrap();
    assert!(within(Duration::from_secs(5), || passes(&server, NEW_KEY)), "{}", server.stderr());
    traffic.finish();
    assert!(!passes(&server, OLD_KEY));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn sighup_reloads_and_never_ends_the_process() {
    let dir = scratch("sighup");
    let file = dir.join("admin-secret");
    fs::write(&file, "first-admin-secret\n").unwrap();
    let mut server = Server::start(
        &["--jwt-secret", &hs256(OLD_KEY), "--admin-secret-file", file.to_str().unwrap()],
        &[],
    );
    let admin = |server: &Server, secret: &str| {
        server.get("/v1/auth", &[("x-hasura-admin-secret", secret)]).status
    };
    assert_eq!(admin(&server, "first-admin-secret"), 200);

    let traffic = Traffic::start(server.address);
    server.signal("HUP");
    assert!(within(Duration::from_secs(5), || reloads(&server, "ok") == 1));
    assert!(server.stderr().contains("configuration reloaded trigger=\"SIGHUP\" secrets=1"));
    traffic.finish();
    assert!(server.running() && passes(&server, OLD_KEY));

    // The admin secret file is read again too.
    replace(&file, "second-admin-secret");
    server.signal("HUP");
    assert!(within(Duration::from_secs(5), || admin(&server, "second-admin-secret") == 200));
    assert_eq!(admin(&server, "first-admin-secret"), 401);

    // Without any file, SIGHUP rebuilds the same configuration.
    let mut plain = Server::start(&["--jwt-secret", &hs256(OLD_KEY)], &[]);
    plain.signal("HUP");
    assert!(within(Duration::from_secs(5), || reloads(&plain, "ok") == 1));
    assert!(plain.running() && passes(&plain, OLD_KEY));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn an_invalid_file_changes_nothing_and_says_why() {
    let dir = scratch("invalid");
    let file = dir.join("jwt-secrets.json");
    fs::write(&file, format!("[{}]", hs256(OLD_KEY))).unwrap();
    let server = Server::start(&["--jwt-secrets-file", file.to_str().unwrap()], &[]);

    let traffic = Traffic::start(server.address);
    replace(&file, &format!("[{}, {}]", hs256(OLD_KEY), hs256("short")));
    assert!(within(Duration::from_secs(5), || reloads(&server, "error") == 1));
    replace(&file, "");
    assert!(within(Duration::from_secs(5), || reloads(&server, "error") == 2));
    assert!(passes(&server, OLD_KEY) && !passes(&server, NEW_KEY));
    let logs = server.stderr();
    let failed: Vec<&str> =
        logs.lines().filter(|line| line.contains("configuration reload failed")).collect();
    assert_eq!(failed.len(), 2, "{logs}");
    assert!(failed[0].contains(" ERROR ") && failed[0].contains(
        "error=jwt_secrets[1].key: Invalid JWK: Key size too small; should be atleast 32 characters"
    ), "{logs}");
    assert!(
        failed[1].contains(&format!("error=--jwt-secrets-file {} is empty", file.display())),
        "{logs}"
    );

    // A valid file afterwards is applied.
    replace(&file, &format!("[{}]", hs256(NEW_KEY)));
    assert!(within(Duration::from_secs(5), || passes(&server, NEW_KEY)));
    traffic.finish();
    assert_eq!(reloads(&server, "ok"), 1);
    let _ = fs::remove_dir_all(dir);
}

/// A token with `iss` and `kid`, for a list of secrets told apart by issuer.
fn issued(key: &TestKey, alg: &str, kid: &str, issuer: &str) -> String {
    let mut claims = claims();
    claims["iss"] = json!(issuer);
    let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
    jwtgate_test_support::corpus::sign_with_header(&header, &claims, key, alg)
}

#[test]
fn a_key_set_configured_alike_is_kept_and_a_new_one_fetched_before_the_switch() {
    let runtime = runtime();
    let key = TestKey::load("ec-p256");
    let provider = |kid: &str| {
        let server = runtime.block_on(MockServer::start());
        let body = jwks(&[key.jwk_with_kid(kid)]);
        runtime.block_on(
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(200).set_body_string(body))
                .mount(&server),
        );
        server
    };
    let (kept, added) = (provider("kept"), provider("added"));
    let fetches = |server: &MockServer| runtime.block_on(server.received_requests()).unwrap().len();
    let dir = scratch("key-sets");
    let file = dir.join("jwt-secrets.json");
    let kept_url = format!("{}/keys", kept.uri());
    let kept_secret = json!({"jwk_url": kept_url, "issuer": "kept"});
    let hs = |key: &str| json!({"type": "HS256", "key": key, "issuer": "hs"});
    fs::write(&file, json!([kept_secret, hs(OLD_KEY)]).to_string()).unwrap();
    let server = Server::start(&["--jwt-secrets-file", file.to_str().unwrap()], &[]);
    assert_eq!(fetches(&kept), 1);
    let status = |token: String| {
        server.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]).status
    };
    let hs_token = |secret: &str| issued(&TestKey::hmac(secret.as_bytes()), "HS256", "hs", "hs");

    let added_secret = json!({"jwk_url": format!("{}/keys", added.uri()), "issuer": "added"});
    replace(&file, &json!([kept_secret, hs(NEW_KEY), added_secret]).to_string());
    assert!(
        within(Duration::from_secs(5), || status(hs_token(NEW_KEY)) == 200),
        "{}",
        server.stderr()
    );
    assert_eq!(status(hs_token(OLD_KEY)), 401);
    // The new set was fetched before the new configuration served, the kept one not again, and
    // the kept one's keys still verify.
    assert_eq!(status(issued(&key, "ES256", "kept", "kept")), 200);
    assert_eq!(status(issued(&key, "ES256", "added", "added")), 200);
    assert_eq!((fetches(&kept), fetches(&added)), (1, 1));
    let metrics = server.get("/metrics", &[]).body;
    let counted = format!(r#"jwtgate_jwks_fetches_total{{result="ok",url="{kept_url}"}} 1"#);
    assert!(metrics.contains(&counted), "{metrics}");

    // A key set no longer configured leaves the key gauge.
    replace(&file, &json!([hs(NEW_KEY)]).to_string());
    assert!(within(Duration::from_secs(5), || reloads(&server, "ok") == 2));
    let metrics = server.get("/metrics", &[]).body;
    assert!(!metrics.contains(&format!(r#"jwtgate_jwks_keys{{url="{kept_url}"}}"#)), "{metrics}");
    let _ = fs::remove_dir_all(dir);
}
