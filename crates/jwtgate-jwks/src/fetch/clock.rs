//! The scheduler's notion of time: the system clock in production, a manual one in tests.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;

/// The clock and sleep hook the fetcher schedules with.
///
/// Only the schedule runs on it; socket timeouts always use real time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Resolves once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static;
}

/// The system clock and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(clippy::disallowed_methods, reason = "the one place the fetcher reads the real clock")]
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep(duration)
    }
}

/// A clock that moves only when told, for tests and simulations: minute-long refresh timelines
/// run in milliseconds, and sockets keep real time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    now: SystemTime,
    sleepers: Vec<(SystemTime, oneshot::Sender<()>)>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        Self { state: Arc::new(Mutex::new(ManualState { now: start, sleepers: Vec::new() })) }
    }

    /// Moves the clock forward and wakes every sleeper whose time has come.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.now += by;
        let now = state.now;
        let (due, waiting) = std::mem::take(&mut state.sleepers)
            .into_iter()
            .partition(|(wake_at, _)| *wake_at <= now);
        state.sleepers = waiting;
        drop(state);
        for (_, waker) in due {
            // A dropped receiver is a sleep that was cancelled; nothing to wake.
            let _ = waker.send(());
        }
    }

    /// The earliest time a live sleeper waits for, if any.
    pub fn next_wake(&self) -> Option<SystemTime> {
        let mut state = self.lock();
        state.sleepers.retain(|(_, waker)| !waker.is_closed());
        state.sleepers.iter().map(|(wake_at, _)| *wake_at).min()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.lock().now
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        let (waker, sleeper) = oneshot::channel();
        let mut state = self.lock();
        let wake_at = state.now + duration;
        if duration.is_zero() {
            let _ = waker.send(());
        } else {
            state.sleepers.push((wake_at, waker));
        }
        drop(state);
        async move {
            // The clock being dropped wakes the sleeper too; the worker then stops with it.
            let _ = sleeper.await;
        }
    }
}
