//! Integration tests of jwtgate-claims: the fixture suite with its snapshots, and properties.

#![expect(clippy::unwrap_used, reason = "test helpers fail by panicking")]

mod fixtures;
mod properties;
