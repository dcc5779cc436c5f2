//! The request handling of `jwtgate serve` as a library: [`App`] routes a request, runs header
//! mode, the POST webhook mode, health, readiness and metrics over a
//! [`jwtgate_core::Authenticator`], and renders the answers the server contract specifies. The
//! `jwtgate` binary adds the command line, start-up, the accept loop and shutdown; benchmarks
//! call [`App::authenticate`] in process.

mod app;
mod metrics;
mod render;

pub use app::{App, BodyTimedOut, MetricsError};
pub use render::Body;
