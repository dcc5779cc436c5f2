//! jwtgate-server integration tests: the real `jwtgate` binary on a loopback port, driven over
//! real HTTP through docs/server.md alone, and a real nginx in front of it.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod body_mode;
mod caddy;
mod cli;
mod deploy;
mod docs;
mod endpoints;
mod explain;
mod hardening;
mod https;
mod jwks;
mod lifecycle;
mod nginx;
mod proxy;
mod reload;
mod support;
