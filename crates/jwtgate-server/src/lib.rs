#![doc = include_str!("../README.md")]

mod app;
mod metrics;
mod render;

pub use app::{App, BodyTimedOut, Configuration, MetricsError};
pub use render::{Body, verdict};
