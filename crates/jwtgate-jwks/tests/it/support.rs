//! Shared pieces: the two test keys, a scripted fetcher, and waiting helpers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use jwtgate_config::Algorithm;
use jwtgate_jwks::{Fetch, FetchedResponse, JwksHandle, KeySet as _, ManualClock, TransportError};
use jwtgate_test_support::keys::{TestKey, jwks};

/// Where every manual clock starts: Tue, 14 Nov 2023 22:13:20 GMT.
pub(crate) fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub(crate) fn clock() -> ManualClock {
    ManualClock::new(start())
}

pub(crate) fn at(seconds: u64) -> SystemTime {
    start() + Duration::from_secs(seconds)
}

/// The two keys of the rotation tests: A (P-256, kid "a") and B (Ed25519, kid "b").
pub(crate) struct Keys {
    pub(crate) a: TestKey,
    pub(crate) b: TestKey,
}

impl Keys {
    pub(crate) fn load() -> Self {
        Self { a: TestKey::load("ec-p256"), b: TestKey::load("ed25519") }
    }

    pub(crate) fn set_a(&self) -> String {
        jwks(&[self.a.jwk_with_kid("a")])
    }

    pub(crate) fn set_b(&self) -> String {
        jwks(&[self.b.jwk_with_kid("b")])
    }

    pub(crate) fn set_ab(&self) -> String {
        jwks(&[self.a.jwk_with_kid("a"), self.b.jwk_with_kid("b")])
    }

    /// Which of A and B the handle's current set verifies, as "A", "B", "AB" or "".
    pub(crate) fn verifying(&self, handle: &JwksHandle) -> String {
        let set = handle.current();
        let verifies = |signer: &TestKey, alg: Algorithm| {
            let signature = signer.sign(alg.name(), b"h.p");
            set.keys().iter().any(|jwk| jwk.key().verify(alg, b"h.p", &signature))
        };
        let mut out = String::new();
        if verifies(&self.a, Algorithm::Es256) {
            out.push('A');
        }
        if verifies(&self.b, Algorithm::EdDsa) {
            out.push('B');
        }
        out
    }
}

/// One scripted outcome.
pub(crate) type Outcome = Result<FetchedResponse, TransportError>;

/// A 200 response with these headers and body.
pub(crate) fn ok(headers: &[(&str, &str)], body: &str) -> Outcome {
    respond(StatusCode::OK, headers, body)
}

#[expect(clippy::unnecessary_wraps, reason = "an outcome of the script, like `Err(..)` beside it")]
pub(crate) fn respond(status: StatusCode, headers: &[(&str, &str)], body: &str) -> Outcome {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    Ok(FetchedResponse::new(status, map, Bytes::copy_from_slice(body.as_bytes())))
}

/// A fetcher answering from a script, the last entry repeating; it counts its fetches and can
/// hold each one for a while (real time, no sockets).
#[derive(Clone)]
pub(crate) struct Script {
    outcomes: Arc<Mutex<VecDeque<Outcome>>>,
    fetches: Arc<AtomicUsize>,
    hold: Duration,
}

impl Script {
    pub(crate) fn new(outcomes: Vec<Outcome>) -> Self {
        Self {
            outcomes: Arc::new(Mutex::new(outcomes.into())),
            fetches: Arc::default(),
            hold: Duration::ZERO,
        }
    }

    pub(crate) fn holding_each_fetch(mut self, hold: Duration) -> Self {
        self.hold = hold;
        self
    }

    pub(crate) fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Fetch for Script {
    async fn fetch(&self) -> Outcome {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if !self.hold.is_zero() {
            tokio::time::sleep(self.hold).await;
        }
        let mut outcomes = self.outcomes.lock().unwrap();
        if outcomes.len() > 1 {
            outcomes.pop_front().unwrap()
        } else {
            outcomes.front().unwrap().clone()
        }
    }
}

/// Waits (real time, bounded) until the handle has completed `count` fetches.
pub(crate) async fn attempts(handle: &JwksHandle, count: u64) {
    tokio::time::timeout(Duration::from_secs(10), handle.wait_for_attempts(count))
        .await
        .unwrap_or_else(|_| panic!("fetch {count} did not complete; status {:?}", handle.status()));
}
