//! The key set as a verifier sees it: whatever keeps a `jwk_url`'s set current (the `fetch`
//! feature's fetcher, a test script, a set that never changes) implements [`KeySet`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use crate::key_set::JwkSet;

/// A key set that may change while requests read it.
///
/// A verifier takes the [`current`](KeySet::current) set for each token, compares
/// [`generation`](KeySet::generation)s to know whether an answer it cached was verified against
/// the set now held, and calls [`request_refetch`](KeySet::request_refetch) for a token whose
/// `kid` the current set lacks (docs/compatibility.md D6).
pub trait KeySet: Send + Sync {
    /// The set held now: cheap to take (an `Arc`), and safe to keep while the set is replaced.
    fn current(&self) -> Arc<JwkSet>;

    /// A number that changes whenever the set is replaced.
    fn generation(&self) -> u64;

    /// Asks for the set to be fetched again, at `now`, because a token named `kid` and the
    /// current set has no key of that `kid`. Never waits: the answer says whether a refetch is
    /// under way that the request may wait for; awaiting it or dropping it changes nothing else.
    fn request_refetch(&self, kid: &str, now: SystemTime) -> Refetch;
}

/// A set that never changes: a JWK set pinned in configuration, or a test's.
#[derive(Debug, Clone)]
pub struct FixedKeySet(Arc<JwkSet>);

impl FixedKeySet {
    /// Holds `set` for good.
    pub fn new(set: JwkSet) -> Self {
        Self(Arc::new(set))
    }
}

impl KeySet for FixedKeySet {
    fn current(&self) -> Arc<JwkSet> {
        Arc::clone(&self.0)
    }

    fn generation(&self) -> u64 {
        0
    }

    fn request_refetch(&self, _kid: &str, _now: SystemTime) -> Refetch {
        Refetch::none()
    }
}

/// The answer to [`KeySet::request_refetch`]: a future that completes when the refetch a
/// request may wait for has completed (successfully or not), or at once when there is none.
///
/// It holds no part of the refetch itself: dropping it leaves the refetch running.
#[must_use = "a refetch is awaited or dropped; `is_pending` says whether awaiting it can help"]
pub struct Refetch(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Refetch {
    /// Nothing to wait for: no refetch is under way that a request may join (one ran a moment
    /// ago, or the set never changes).
    pub fn none() -> Self {
        Self(None)
    }

    /// A refetch under way; `completed` resolves once it has completed.
    pub fn pending(completed: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(Some(Box::pin(completed)))
    }

    /// Whether a refetch is under way, so that awaiting this may bring a new set.
    pub fn is_pending(&self) -> bool {
        self.0.is_some()
    }
}

impl Future for Refetch {
    type Output = ();

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        match &mut self.get_mut().0 {
            None => Poll::Ready(()),
            Some(completed) => completed.as_mut().poll(context),
        }
    }
}

impl fmt::Debug for Refetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refetch").field("pending", &self.is_pending()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;

    fn poll_once(refetch: &mut Refetch) -> Poll<()> {
        Pin::new(refetch).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn no_refetch_completes_at_once_and_a_pending_one_when_its_future_does() {
        let mut none = Refetch::none();
        assert!(!none.is_pending());
        assert_eq!(poll_once(&mut none), Poll::Ready(()));

        let mut waiting = Refetch::pending(std::future::pending());
        assert!(waiting.is_pending());
        assert_eq!(poll_once(&mut waiting), Poll::Pending);
        assert_eq!(format!("{waiting:?}"), "Refetch { pending: true }");

        let mut done = Refetch::pending(std::future::ready(()));
        assert_eq!(poll_once(&mut done), Poll::Ready(()));
    }

    #[test]
    fn a_fixed_set_never_changes_and_never_refetches() {
        let set = FixedKeySet::new(JwkSet::empty());
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(set.generation(), 0);
        assert!(!set.request_refetch("rotated", now).is_pending());
        assert!(Arc::ptr_eq(&set.current(), &set.current()));
    }
}
