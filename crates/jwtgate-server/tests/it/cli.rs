//! The command line, environment, start-up failures and `config check` (docs/server.md "Command
//! line"), including every configuration error of the config fixture suite.

use std::fs;
use std::net::TcpListener;
use std::process::Output;

use jwtgate_test_support::{case_files, expand_key_placeholders};
use serde_json::{Value, json};

use crate::support::{Server, hs256_secret, jwtgate};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = jwtgate();
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// Exit 1, nothing on stdout, exactly one stderr line starting `jwtgate: `; returns the line.
fn assert_startup_failure(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "{what}: stdout {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{what}: {stderr:?}");
    assert!(stderr.starts_with("jwtgate: ") && stderr.ends_with('\n'), "{what}: {stderr:?}");
    stderr.trim_end().to_owned()
}

#[test]
fn help_and_version_exit_zero() {
    for flag in ["--help", "--version"] {
        let output = run(&[flag], &[]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        assert!(!output.stdout.is_empty(), "{flag}");
    }
    let output = run(&["serve", "--help"], &[]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("--token-cache-size"));
}

type UsageCase<'a> = (&'static str, Vec<&'a str>, Vec<(&'static str, &'static str)>, &'static str);

#[test]
fn usage_errors_exit_one_with_one_line() {
    let secret = hs256_secret();
    // (what, arguments, environment, a text the error line must mention)
    let cases: Vec<UsageCase<'_>> = vec![
        (
            "an unknown flag",
            vec!["serve", "--access-key", "x", "--jwt-secret", &secret],
            vec![],
            "--access-key",
        ),
        ("no subcommand", vec![], vec![], "jwtgate: "),
        ("--port abc", vec!["serve", "--port", "abc", "--jwt-secret", &secret], vec![], "--port"),
        (
            "JWTGATE_PORT=abc",
            vec!["serve", "--jwt-secret", &secret],
            vec![("JWTGATE_PORT", "abc")],
            "--port",
        ),
        (
            "--token-cache-size -1",
            vec!["serve", "--token-cache-size=-1", "--jwt-secret", &secret],
            vec![],
            "--token-cache-size",
        ),
        (
            "--max-connections 0",
            vec!["serve", "--max-connections", "0", "--jwt-secret", &secret],
            vec![],
            "--max-connections",
        ),
        (
            "JWTGATE_MAX_CONNECTIONS=many",
            vec!["serve", "--jwt-secret", &secret],
            vec![("JWTGATE_MAX_CONNECTIONS", "many")],
            "--max-connections",
        ),
        (
            "--log-format xml",
            vec!["serve", "--log-format", "xml", "--jwt-secret", &secret],
            vec![],
            "--log-format",
        ),
        (
            "JWTGATE_JWKS_REQUIRED=maybe",
            vec!["serve", "--jwt-secret", &secret],
            vec![("JWTGATE_JWKS_REQUIRED", "maybe")],
            "JWTGATE_JWKS_REQUIRED",
        ),
        ("no secret", vec!["serve"], vec![], "no JWT secret configured"),
        ("no secret for config check", vec!["config", "check"], vec![], "no JWT secret configured"),
        (
            "an unresolvable host",
            vec!["serve", "--host", "no-such-host.invalid", "--jwt-secret", &secret],
            vec![],
            "--host",
        ),
    ];
    for (what, args, env, mention) in cases {
        let line = assert_startup_failure(&run(&args, &env), what);
        assert!(line.contains(mention), "{what}: {line}");
    }
}

#[test]
fn an_address_in_use_exits_one() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = run(&["serve", "--port", &port, "--jwt-secret", &hs256_secret()], &[]);
    let line = assert_startup_failure(&output, "address in use");
    assert!(line.contains("cannot listen on 127.0.0.1:"), "{line}");
}

/// A fixture's secret flag and JSON, and its expectation.
fn fixture(path: &std::path::Path) -> (&'static str, String, toml::Table) {
    let table: toml::Table = toml::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let expect = table["expect"].as_table().unwrap().clone();
    match (table.get("jwt_secret"), table.get("jwt_secrets")) {
        (Some(one), None) => {
            ("--jwt-secret", expand_key_placeholders(one.as_str().unwrap()), expect)
        }
        (None, Some(list)) => {
            ("--jwt-secrets", expand_key_placeholders(list.as_str().unwrap()), expect)
        }
        _ => panic!("{}: exactly one of jwt_secret and jwt_secrets", path.display()),
    }
}

#[test]
fn every_config_error_exits_one_naming_the_field() {
    let mut checked = 0;
    for path in case_files("config", "reject") {
        let (flag, json, expect) = fixture(&path);
        let error = expect["error"].as_str().unwrap();
        let variable = if flag == "--jwt-secret" {
            "HASURA_GRAPHQL_JWT_SECRET"
        } else {
            "HASURA_GRAPHQL_JWT_SECRETS"
        };
        for (what, output) in [
            ("config check", run(&["config", "check", flag, &json], &[])),
            ("serve", run(&["serve", "--port", "0", flag, &json], &[])),
            ("serve from the environment", run(&["serve", "--port", "0"], &[(variable, &json)])),
        ] {
            let line = assert_startup_failure(&output, &format!("{}: {what}", path.display()));
            assert_eq!(line, format!("jwtgate: {error}"), "{}: {what}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} reject fixtures");
}

#[test]
fn config_check_prints_the_normalised_secrets() {
    for path in case_files("config", "accept") {
        let (flag, json, expect) = fixture(&path);
        let output = run(&["config", "check", flag, &json], &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        let expected: Value = serde_json::from_str(expect["normalized"].as_str().unwrap()).unwrap();
        assert_eq!(printed, expected, "{}", path.display());
        assert!(output.stderr.is_empty());
    }
}

#[test]
fn secrets_come_from_the_first_source_set() {
    let check = |args: &[&str], env: &[(&str, &str)]| -> Value {
        let mut full = vec!["config", "check"];
        full.extend_from_slice(args);
        let output = run(&full, env);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let secret = |ns: &str| {
        format!(
            r#"{{"type": "HS256", "key": "a-32-byte-secret-for-jwtgate-srv", "claims_namespace": "{ns}"}}"#
        )
    };
    let namespace = |printed: Value| printed[0]["claims_namespace"].as_str().unwrap().to_owned();
    let (a, b, c, d) = (secret("a"), secret("b"), secret("c"), secret("d"));
    let (list_b, list_c) = (format!("[{b}]"), format!("[{c}]"));
    let env = [
        ("HASURA_GRAPHQL_JWT_SECRETS", list_c.as_str()),
        ("HASURA_GRAPHQL_JWT_SECRET", d.as_str()),
    ];
    assert_eq!(namespace(check(&["--jwt-secret", &a, "--jwt-secrets", &list_b], &env)), "b");
    assert_eq!(namespace(check(&["--jwt-secret", &a], &env)), "a");
    assert_eq!(namespace(check(&[], &env)), "c");
    assert_eq!(namespace(check(&[], &env[1..])), "d");
    // An empty value counts as not set.
    assert_eq!(
        namespace(check(&["--jwt-secrets", ""], &[("HASURA_GRAPHQL_JWT_SECRETS", ""), env[1]])),
        "d"
    );
    // Identical objects are de-duplicated.
    let twice = format!("[{a}, {a}, {b}]");
    assert_eq!(check(&["--jwt-secrets", &twice], &[]).as_array().unwrap().len(), 2);
}

#[test]
fn config_check_makes_no_network_calls() {
    let unreachable = r#"{"jwk_url": "https://user:pw@jwks.invalid/keys?token=t"}"#;
    let output = run(&["config", "check", "--jwt-secret", unreachable], &[]);
    assert_eq!(output.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed[0]["jwk_url"], "https://<redacted>@jwks.invalid/keys?<redacted>");
}

#[test]
fn jwks_required_makes_a_failed_first_fetch_fatal() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let secret = format!(r#"{{"jwk_url": "http://127.0.0.1:{port}/jwks"}}"#);
    let list = format!("[{}, {secret}]", hs256_secret());
    for (args, env, field) in [
        (
            vec!["serve", "--port", "0", "--jwks-required", "--jwt-secret", &secret],
            vec![],
            "jwt_secret.jwk_url",
        ),
        (
            vec!["serve", "--port", "0", "--jwt-secrets", &list],
            vec![("JWTGATE_JWKS_REQUIRED", "true")],
            "jwt_secrets[1].jwk_url",
        ),
        (
            vec!["serve", "--port", "0", "--jwt-secret", &secret],
            vec![("JWTGATE_JWKS_REQUIRED", "1")],
            "jwt_secret.jwk_url",
        ),
    ] {
        let line = assert_startup_failure(&run(&args, &env), field);
        assert!(line.starts_with(&format!("jwtgate: {field}: ")), "{line}");
        assert!(line.contains(&format!("http://127.0.0.1:{port}/jwks")), "{line}");
    }
    // Without it (or with 0 / false / empty), start-up goes on (D4).
    for value in ["0", "false", ""] {
        let server = Server::start(&["--jwt-secret", &secret], &[("JWTGATE_JWKS_REQUIRED", value)]);
        assert_eq!(server.get("/readyz", &[]).status, 503);
    }
}

#[test]
fn jwks_required_covers_issuer_discovery() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}/realms/acme");
    let secret = json!({"issuer": issuer, "issuer_discovery": true}).to_string();
    let args = ["serve", "--port", "0", "--jwks-required", "--jwt-secret", &secret];
    let line = assert_startup_failure(&run(&args, &[]), "jwt_secret.issuer_discovery");
    let expected = format!(
        "jwtgate: jwt_secret.issuer_discovery: the first fetch of \
         {issuer}/.well-known/openid-configuration failed: request failed"
    );
    assert!(line.starts_with(&expected), "{line}");

    // Without it, start-up goes on and /readyz names the discovery document.
    let server = Server::start(&["--jwt-secret", &secret], &[]);
    let ready = server.get("/readyz", &[]);
    assert_eq!(ready.status, 503);
    let reason = ready.json()["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.starts_with(&format!("{issuer}/.well-known/openid-configuration: request failed")),
        "{reason}"
    );
}

#[test]
fn sigterm_and_sigint_exit_zero() {
    let server = Server::start(&["--jwt-secret", &hs256_secret()], &[]);
    assert_eq!(server.get("/healthz", &[]).status, 200);
    let status = server.terminate();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_demo_prints_a_token_and_a_working_curl_command() {
    let server = Server::start(
        &["--demo", "--jwt-secret", "not even json"],
        &[("HASURA_GRAPHQL_JWT_SECRET", "{}")],
    );
    let token_line = server.extra_stdout.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    let curl_line = server.extra_stdout.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    let token = token_line.strip_prefix("token: ").unwrap();
    assert!(
        curl_line.starts_with("curl ")
            && !curl_line.contains('|')
            && !curl_line.trim_end().ends_with(';')
    );
    assert!(curl_line.contains(&server.address.to_string()), "{curl_line}");
    let response = server.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(response.status, 200, "{}", response.body);
    let session = response.json();
    assert_eq!(
        (session["x-hasura-role"].as_str(), session["x-hasura-user-id"].as_str()),
        (Some("user"), Some("1"))
    );
    let editor = server.get(
        "/v1/auth",
        &[("Authorization", &format!("Bearer {token}")), ("x-hasura-role", "editor")],
    );
    assert_eq!(editor.status, 200);
    // The curl command itself answers 200 (`.ci/run` installs curl).
    let output = std::process::Command::new("sh")
        .args(["-c", &format!("{curl_line} -o /dev/null -w '%{{http_code}}'")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn secrets_from_files_stand_beside_their_value_forms() {
    let dir = std::env::temp_dir().join(format!("jwtgate-cli-files-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let single = dir.join("secret.json");
    let list = dir.join("secrets.json");
    let admin = dir.join("admin");
    fs::write(&single, format!("\n  {}  \n", json!({"type": "HS256", "key": "k".repeat(32)})))
        .unwrap();
    fs::write(&list, json!([{"type": "HS384", "key": "l".repeat(48)}]).to_string()).unwrap();
    fs::write(&admin, "s3cret\n").unwrap();
    let (single, list, admin) =
        (single.to_str().unwrap(), list.to_str().unwrap(), admin.to_str().unwrap());
    let checked_type = |args: &[&str], env: &[(&str, &str)]| {
        let output = run(&[&["config", "check"], args].concat(), env);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        printed[0]["type"].as_str().unwrap().to_owned()
    };
    // The file's content, trimmed; flags before variables, the list before the single one.
    assert_eq!(checked_type(&["--jwt-secret-file", single], &[]), "HS256");
    assert_eq!(checked_type(&[], &[("HASURA_GRAPHQL_JWT_SECRETS_FILE", list)]), "HS384");
    let secret = hs256_secret();
    let flag_single = ["--jwt-secret", secret.as_str()];
    assert_eq!(checked_type(&flag_single, &[("HASURA_GRAPHQL_JWT_SECRETS_FILE", list)]), "HS256");
    let file_list = ["--jwt-secrets-file", list];
    assert_eq!(checked_type(&file_list, &[("HASURA_GRAPHQL_JWT_SECRET", &secret)]), "HS384");

    // A value and a file for one setting, by flag or variable, are a usage error.
    for (args, env, names) in [
        (
            vec!["config", "check", "--jwt-secret", &secret, "--jwt-secret-file", single],
            vec![],
            "--jwt-secret and --jwt-secret-file",
        ),
        (
            vec!["config", "check", "--jwt-secrets-file", list],
            vec![("HASURA_GRAPHQL_JWT_SECRETS", "[]")],
            "HASURA_GRAPHQL_JWT_SECRETS and --jwt-secrets-file",
        ),
        (
            vec!["serve", "--jwt-secret", &secret, "--admin-secret-file", admin],
            vec![("HASURA_GRAPHQL_ADMIN_SECRET", "x")],
            "HASURA_GRAPHQL_ADMIN_SECRET and --admin-secret-file",
        ),
    ] {
        let line = assert_startup_failure(&run(&args, &env), names);
        assert_eq!(
            line,
            format!("jwtgate: {names} are both set: give the value or the file, not both")
        );
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn explain_answers_what_the_server_answers_with_exit_codes_0_1_2() {
    use std::io::Write as _;
    let secret = hs256_secret();
    let server = Server::start(&["--jwt-secret", &secret], &[]);
    let good = crate::support::token();
    let forged = format!("{good}x");
    for (token, exit) in [(good.as_str(), 0), (forged.as_str(), 1)] {
        // The token through stdin, as the docs recommend.
        let mut child = jwtgate()
            .args(["explain", "-", "--json", "--jwt-secret", &secret])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(token.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(exit));
        let explained: Value = serde_json::from_slice(&output.stdout).unwrap();
        let answer = server.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]);
        assert_eq!(explained["verdict"]["status"], answer.status);
        let mut answered = answer.json();
        let mut given = explained["verdict"]["body"].clone();
        // `Expires` is computed from the token: the same in both.
        assert_eq!(given.get("Expires"), answered.get("Expires"));
        given.as_object_mut().map(|body| body.remove("Expires"));
        answered.as_object_mut().map(|body| body.remove("Expires"));
        assert_eq!(given, answered);
        let steps = explained["steps"].as_array().unwrap();
        assert_eq!(steps.last().unwrap()["step"], "verdict");
    }

    // Text, never coloured off a terminal; the verdict line first.
    let text = run(&["explain", &forged, "--jwt-secret", &secret], &[]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("401 invalid-jwt: Could not verify JWT: JWSError JWSInvalidSignature\n"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'));
    assert!(
        text.contains("  signature         FAILED  no key tried verified the signature\n"),
        "{text}"
    );

    // Usage and configuration errors exit 2, with one line.
    for (args, mention) in [
        (vec!["explain", "--jwt-secret", &secret, "--at", "yesterday", "x"], "--at"),
        (vec!["explain", "--jwt-secret", &secret], "nothing to explain"),
        (
            vec!["explain", "x", "--jwt-secret", r#"{"type": "HS256", "key": "short"}"#],
            "jwt_secret.key",
        ),
        (vec!["explain", "--no-such-flag"], "--no-such-flag"),
    ] {
        let output = run(&args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with("jwtgate: ")
                && stderr.lines().count() == 1
                && stderr.contains(mention),
            "{stderr}"
        );
    }
}
