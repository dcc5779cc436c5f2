//! Criterion benchmark of claims resolution alone, on a typical token's claims (a Hasura
//! namespace with two role claims and five session variables), in each mode.
//!
//! Run with `cargo bench -p jwtgate-claims`; the figures are recorded in the crate README.

#![expect(clippy::unwrap_used, reason = "benchmark set-up fails by panicking")]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jwtgate_claims::{ClaimsSet, resolve};
use jwtgate_config::parse_jwt_secret;

const KEY: &str = r#""type": "HS256", "key": "a-32-byte-secret-for-jwtgate-tests!!""#;

const TYPICAL: &str = r#"{"sub":"1234567890","name":"John Doe","iss":"https://auth.example.com/","aud":"my-app","iat":1700000000,"exp":1700003600,"jti":"8f7e6d5c","email":"john@example.com",
"https://hasura.io/jwt/claims":{"x-hasura-allowed-roles":["user","editor"],"x-hasura-default-role":"user","x-hasura-user-id":"1234567890","x-hasura-org-id":"456","x-hasura-team-id":"7","x-hasura-plan":"pro","x-hasura-region":"eu"},
"user":{"id":"1234567890","org":"456","team":"7","plan":"pro","region":"eu","roles":["user","editor"]}}"#;

fn bench(c: &mut Criterion) {
    let claims = ClaimsSet::parse(TYPICAL).unwrap();
    let namespace = parse_jwt_secret(&format!("{{{KEY}}}")).unwrap();
    let claims_map = parse_jwt_secret(&format!(
        r#"{{{KEY}, "claims_map": {{
            "x-hasura-allowed-roles": {{"path": "$.user.roles"}},
            "x-hasura-default-role": {{"path": "$.user.roles[0]"}},
            "x-hasura-user-id": {{"path": "$.user.id"}}, "x-hasura-org-id": {{"path": "$.user.org"}},
            "x-hasura-team-id": {{"path": "$.user.team"}}, "x-hasura-plan": {{"path": "$.user.plan"}},
            "x-hasura-region": {{"path": "$.user.region"}}}}}}"#
    ))
    .unwrap();
    for (name, secret) in [("namespace", &namespace), ("claims_map", &claims_map)] {
        // Assert the expected outcome once, so the benchmark never times an error path.
        let session = resolve(&claims, secret.claims(), Some("editor")).unwrap();
        assert_eq!(session.role(), "editor");
        assert_eq!(session.variables().count(), 6);
        c.bench_function(&format!("resolve_typical_{name}"), |b| {
            b.iter(|| resolve(black_box(&claims), secret.claims(), Some("editor")));
        });
    }
    c.bench_function("parse_claims_set_typical", |b| {
        b.iter(|| ClaimsSet::parse(black_box(TYPICAL)));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
