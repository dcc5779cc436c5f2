//! jwtgate-core integration tests: Hasura's error catalogue, the algorithm and key-source
//! matrix, token extraction and secret selection, attacks, the verified-token cache, and
//! properties over arbitrary input.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod appendix_a;
mod attacks;
mod cache;
mod explain;
mod extraction;
mod key_sets;
mod matrix;
mod properties;
mod support;
