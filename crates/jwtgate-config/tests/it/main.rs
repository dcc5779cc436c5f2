//! Integration tests of jwtgate-config: the fixture suite, API properties and fuzzing.

#![expect(clippy::unwrap_used, clippy::panic, reason = "test helpers fail by panicking")]

mod fixtures;
mod properties;
mod secrets;
