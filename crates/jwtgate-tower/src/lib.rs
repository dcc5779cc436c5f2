#![doc = include_str!("../README.md")]

mod builder;
mod layer;

#[cfg(feature = "axum")]
mod axum;

pub use builder::{BuildError, Builder};
pub use layer::{AuthBody, Denied, HasuraAuth, HasuraAuthLayer, OnDenial};

#[cfg(feature = "axum")]
pub use axum::{HasuraSession, SessionRejection};

pub use jwtgate_core::{AuthError, Authenticated, Caller, KEY_REFETCH_WAIT};
