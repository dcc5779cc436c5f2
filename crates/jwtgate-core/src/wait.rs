//! Waiting for a key set refetch, runtime-agnostic: the caller brings the clock and the timer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::answer::Authenticated;
use crate::authenticator::{Authenticator, Outcome};
use crate::error::AuthError;
use jwtgate_jwks::Refetch;

/// How long a request waits for a key set refetch its token's unknown `kid` joined or started
/// (D6): long enough for a provider that answers, short enough that a slow one costs a request
/// no more than that.
pub const KEY_REFETCH_WAIT: Duration = Duration::from_secs(2);

impl Authenticator {
    /// [`authenticate`](Authenticator::authenticate), and when it answers
    /// [`Outcome::AwaitKeys`], waits for the refetch or for `timer` (made only then), whichever
    /// comes first, then answers from the keys held by then. `now` is read for each verdict.
    ///
    /// A server on tokio passes `|| tokio::time::sleep(KEY_REFETCH_WAIT)`.
    pub async fn authenticate_waiting<T: Future<Output = ()>>(
        &self,
        headers: &HeaderMap,
        now: impl Fn() -> SystemTime,
        timer: impl FnOnce() -> T,
    ) -> Result<Arc<Authenticated>, AuthError> {
        match self.authenticate(headers, now()) {
            Outcome::Done(verdict) => verdict,
            Outcome::AwaitKeys(refetch) => {
                FirstOf::new(refetch, timer()).await;
                self.authenticate_now(headers, now())
            }
        }
    }
}

/// Completes when the refetch or the timer does.
pub(crate) struct FirstOf<T> {
    refetch: Refetch,
    timer: Pin<Box<T>>,
}

impl<T> FirstOf<T> {
    pub(crate) fn new(refetch: Refetch, timer: T) -> Self {
        Self { refetch, timer: Box::pin(timer) }
    }
}

impl<T: Future<Output = ()>> Future for FirstOf<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Pin::new(&mut this.refetch).poll(context).is_ready() {
            return Poll::Ready(());
        }
        this.timer.as_mut().poll(context)
    }
}
