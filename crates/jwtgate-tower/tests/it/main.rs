//! jwtgate-tower integration tests: the layer through `tower::ServiceExt::oneshot`, an axum
//! router over real HTTP, and the examples run as the processes they are.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod axum;
mod errors_doc;
mod examples;
mod layer;
mod support;
