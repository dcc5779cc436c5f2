//! The jwtgate conformance harness lives in `tests/conformance/` (a `harness = false` test):
//! every case under `fixtures/` runs through the library driver (`jwtgate-core` in process, fixed
//! `now`) and the server driver (the built `jwtgate` binary over HTTP). Run it with
//! `cargo xtask conformance`; the case format is in `fixtures/README.md`.

pub mod case;
