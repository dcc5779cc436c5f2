//! `docs/server.md` and `docs/errors.md` say what the binary does: every flag and variable of
//! every `--help` is documented and the server document names no other flag; every webhook body
//! error, start-up error and usage error the binary gives has its row.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::Full;
use jwtgate_test_support::errors_doc::{Rendered, assert_documented, matches, table};
use serde_json::{Value, json};

use crate::body_mode::post_body;
use crate::support::{Server, hs256_secret, jwtgate};

fn server_md() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/server.md");
    std::fs::read_to_string(path).unwrap()
}

/// Every `--flag` in `text` (a word starting with two dashes and a letter).
fn flags_in(text: &str) -> BTreeSet<String> {
    text.match_indices("--")
        .filter(|(at, _)| text[..*at].chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
        .map(|(at, _)| {
            let name: String = text[at + 2..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            format!("--{name}")
        })
        .filter(|flag| flag.len() > 2 && flag.as_bytes()[2].is_ascii_alphabetic())
        .collect()
}

/// Every variable `[env: NAME]` of a help text names, and every `JWTGATE_*` or `HASURA_*` word.
fn variables_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("JWTGATE_") || word.starts_with("HASURA_GRAPHQL_"))
        .map(str::to_owned)
        .collect()
}

fn help(args: &[&str]) -> String {
    let output = jwtgate().args(args).arg("--help").output().unwrap();
    assert!(output.status.success(), "{args:?} --help failed");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_flag_of_every_help_is_documented_and_no_other() {
    let helps: Vec<String> =
        [&[][..], &["serve"], &["config"], &["config", "check"], &["explain"], &["healthcheck"]]
            .iter()
            .map(|a| help(a))
            .collect();
    let document = server_md();
    let documented_flags = flags_in(&document);
    let mut binary_flags = BTreeSet::new();
    for text in &helps {
        binary_flags.extend(flags_in(text));
        for variable in variables_in(text) {
            assert!(document.contains(&variable), "docs/server.md does not name {variable}");
        }
    }
    let undocumented: Vec<&String> = binary_flags.difference(&documented_flags).collect();
    // A flag the binary lacks may be named only to say it is not supported (Hasura's
    // `--access-key`), on the line that says so.
    let unknown: Vec<&String> = documented_flags
        .difference(&binary_flags)
        .filter(|flag| {
            !document
                .lines()
                .filter(|line| flags_in(line).contains(*flag))
                .all(|line| line.contains("not supported"))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "flags --help shows but docs/server.md lacks: {undocumented:?}"
    );
    assert!(unknown.is_empty(), "flags docs/server.md names but the binary lacks: {unknown:?}");
    // The subcommands too.
    for subcommand in
        ["jwtgate serve", "jwtgate config check", "jwtgate explain", "jwtgate healthcheck"]
    {
        assert!(document.contains(subcommand), "docs/server.md lacks {subcommand}");
    }
}

#[test]
fn the_flag_reader_sees_flags_only() {
    assert_eq!(
        flags_in("`--port 0`, --jwt-secret(s), a-- b, --, --9, x--y"),
        BTreeSet::from(["--jwt-secret".to_owned(), "--port".to_owned()])
    );
}

/// A body whose stream fails, as a connection reset while the body is read.
struct FailingBody;

impl Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other("connection reset by peer"))))
    }
}

#[test]
fn every_webhook_body_error_is_in_docs_errors_md() {
    let many_headers: serde_json::Map<String, Value> =
        (0..101).map(|n| (format!("x-h-{n}"), json!("v"))).collect();
    let bodies: Vec<Vec<u8>> = vec![
        vec![b' '; 1024 * 1024 + 1],
        b"{\"headers\": nope}".to_vec(),
        b"{\"headers\": {".to_vec(),
        b"[]".to_vec(),
        b"{\"request\": {}}".to_vec(),
        b"{\"headers\": \"Bearer x\"}".to_vec(),
        b"{\"headers\": {\"authorization\": 7}}".to_vec(),
        b"{\"headers\": {\"bad name\": \"v\"}}".to_vec(),
        b"{\"headers\": {\"x-a\": \"line\\nbreak\"}}".to_vec(),
        json!({ "headers": many_headers }).to_string().into_bytes(),
    ];
    let mut answers: Vec<(u16, Value)> =
        bodies.into_iter().map(|body| post_body(Full::new(Bytes::from(body)))).collect();
    answers.push(post_body(FailingBody));
    let reasons: Vec<Rendered> = answers
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, 400, "{body}");
            assert_eq!(body["code"], "invalid-params");
            let error = body["error"].as_str().unwrap();
            let reason = error.strip_prefix("invalid webhook request body: ").unwrap();
            Rendered::plain(reason)
        })
        .collect();
    assert_documented("Webhook body errors", &reasons);
}

/// Arguments and environment of one run of the binary.
type Invocation<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);

/// Every start-up and usage error a test can provoke has its row; the one it cannot (TLS set-up
/// failing) is checked to be in the table by its text.
#[test]
fn every_startup_and_usage_error_is_in_docs_errors_md() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!(r#"{{"jwk_url": "http://127.0.0.1:{closed}/jwks"}}"#);
    let secret = hs256_secret();
    let runs: Vec<Invocation<'_>> = vec![
        (vec!["serve"], vec![]),
        (vec!["serve", "--jwt-secret", &secret, "--port", "abc"], vec![]),
        (vec!["serve", "--jwt-secret", &secret, "--max-connections", "0"], vec![]),
        (vec!["serve", "--jwt-secret", &secret, "--log-format", "xml"], vec![]),
        (vec!["serve", "--jwt-secret", &secret], vec![("JWTGATE_JWKS_REQUIRED", "maybe")]),
        (vec!["serve", "--jwks-required", "--jwt-secret", &unreachable, "--port", "0"], vec![]),
        (vec!["serve", "--jwt-secret", &secret, "--host", "name.invalid"], vec![]),
        (vec!["serve", "--jwt-secret", &secret, "--port", &taken_port], vec![]),
        (vec!["serve", "--access-key", "x"], vec![]),
        (vec!["serve", "--jwt-secret-file", "/nonexistent/jwtgate/secret"], vec![]),
        (vec!["serve", "--jwt-secret-file", "/dev/null"], vec![]),
        (vec!["serve", "--jwt-secret", &secret], vec![("HASURA_GRAPHQL_JWT_SECRET_FILE", "/x")]),
        (vec!["serve", "--jwt-secret", &secret, "--shutdown-delay", "soon"], vec![]),
        (vec!["healthcheck"], vec![("JWTGATE_PORT", "eighty")]),
    ];
    let mut errors = Vec::new();
    for (args, env) in runs {
        let output = jwtgate().args(&args).envs(env).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let line = stderr.trim_end().strip_prefix("jwtgate: ").unwrap().to_owned();
        errors.push(Rendered::plain(line));
    }
    // Setting up TLS cannot be made to fail here; its row must still be there.
    let tls = "jwt_secret.jwk_url: cannot set up TLS: no protocol versions";
    let rows = table("Start-up and usage errors");
    assert!(rows.iter().any(|row| matches(&row.pattern, tls)), "no row for {tls}");
    errors.push(Rendered::plain(tls));
    // Nor can installing the SIGHUP handler.
    errors.push(Rendered::plain("cannot listen for SIGHUP: Operation not permitted (os error 1)"));
    assert_documented("Start-up and usage errors", &errors);
    drop(taken);
}

/// Every way `jwtgate healthcheck` can fail, provoked, has its row.
#[test]
fn every_healthcheck_failure_is_in_docs_errors_md() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let mute_url = format!("http://{}/healthz", mute.local_addr().unwrap());
    // A server that reads the request and closes the connection without answering.
    let hang_up = std::thread::spawn(move || {
        if let Ok((stream, _)) = mute.accept() {
            let mut reader = std::io::BufReader::new(stream);
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut reader, &mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
        }
    });
    let unready = format!(r#"{{"jwk_url": "http://127.0.0.1:{closed}/jwks"}}"#);
    let server = Server::start(&["--jwt-secret", &unready], &[]);
    let urls = [
        format!("http://127.0.0.1:{closed}/healthz"),
        format!("http://{}/readyz", server.address),
        "http://name.invalid/healthz".to_owned(),
        "https://127.0.0.1/healthz".to_owned(),
        "http://user@127.0.0.1/healthz".to_owned(),
        mute_url,
    ];
    let mut errors = Vec::new();
    for url in &urls {
        let output = jwtgate().args(["healthcheck", "--url", url]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{url}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let line = stderr.trim_end().strip_prefix("jwtgate: ").unwrap().to_owned();
        errors.push(Rendered::plain(line));
    }
    hang_up.join().unwrap();
    assert_documented("Healthcheck failures", &errors);
}
