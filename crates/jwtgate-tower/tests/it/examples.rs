//! The examples, built by the gate, run as the servers they are.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use jwtgate_test_support::http::send;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::support::{HS256_SECRET, claims, hs256};

/// An example process, killed when the test ends.
struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `target/<profile>/examples/<name>`, next to this test's own `deps/` directory.
fn example_path(name: &str) -> PathBuf {
    let test = std::env::current_exe().unwrap();
    let profile_dir = test.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join(name)
}

/// Starts an example with the test secret and reads its `listening on http://` line.
fn start(name: &str, env: &[(&str, &str)]) -> (Example, SocketAddr) {
    let path = example_path(name);
    assert!(
        path.is_file(),
        "{} is not built (cargo builds examples with the tests)",
        path.display()
    );
    let mut child = Command::new(path)
        .env("HASURA_GRAPHQL_JWT_SECRET", HS256_SECRET)
        .env("ADDRESS", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address =
        line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}"));
    let address = address.parse().unwrap();
    (Example(child), address)
}

#[test]
fn the_axum_example_answers_a_token_the_unauthorized_role_and_refuses_a_bad_token() {
    let (_example, address) =
        start("axum_service", &[("HASURA_GRAPHQL_UNAUTHORIZED_ROLE", "anonymous")]);
    let token = format!("Bearer {}", hs256(&claims(3600)));
    let answer = send(address, "GET", "/whoami", &[("authorization", &token)], None);
    assert_eq!((answer.status, answer.body.as_str()), (200, "user 42 (token)"));
    let anonymous = send(address, "GET", "/whoami", &[], None);
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (200, "anonymous - (unauthorized role)")
    );
    let expired = format!("Bearer {}", hs256(&claims(-60)));
    let refused = send(address, "GET", "/whoami", &[("authorization", &expired)], None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["code"], "invalid-jwt");
}

#[tokio::test]
async fn the_tonic_example_answers_an_authenticated_call_and_refuses_an_unauthenticated_one() {
    let (_example, address) = start("tonic_health", &[]);
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}")).unwrap();
    let mut client = HealthClient::new(channel.connect().await.unwrap());

    let mut call = tonic::Request::new(HealthCheckRequest { service: String::new() });
    let token = format!("Bearer {}", hs256(&claims(3600)));
    call.metadata_mut().insert("authorization", token.parse().unwrap());
    let answer = client.check(call).await.unwrap();
    assert_eq!(answer.into_inner().status(), ServingStatus::Serving);

    let refused = client.check(HealthCheckRequest { service: String::new() }).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert_eq!(
        refused.message(),
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"
    );
}
