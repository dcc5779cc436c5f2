//! jwtgate-jwks integration tests: the scheduler on a manual clock with scripted responses (no
//! sockets), and the real HTTP fetcher against wiremock (real sockets, manual schedule clock).

#![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

mod http;
mod schedule;
mod support;
