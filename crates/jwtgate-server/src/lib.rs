#![doc = include_str!("../README.md")]

mod app;
mod explain_http;
mod metrics;
mod render;

pub use app::{App, BodyTimedOut, Configuration, MetricsError};
pub use explain_http::explanation_json;
pub use render::{Body, verdict};
