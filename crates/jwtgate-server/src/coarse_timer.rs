//! hyper's timer for the request-head timeout, at a one-second grain.
//!
//! hyper starts a fresh sleep for every request head it waits for. With tokio's own timer each
//! one is registered in the timer wheel and removed again a few microseconds later, and a new
//! earliest deadline unparks the worker that drives the timers: under load that was about a
//! sixth of the server's CPU per request. A 30 s limit needs no microsecond precision, so here a
//! sleep is a deadline rounded up to a whole second and a place in one of 64 per-second wait
//! lists of the thread that first polls it; one ticking thread wakes each thread's list of a
//! second when that second has passed. Waiting costs one uncontended lock to join a list and one
//! to leave it, and wakes no worker early.
//!
//! A sleep never ends before its deadline and ends at most about a second after it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Wait lists per thread, one per second modulo their number; a sleep further ahead than this
/// waits in its second's list and joins it again when woken a round early.
const LISTS: usize = 64;

/// The seconds since `epoch`, advanced by the ticking thread; the lists of every second up to
/// it have been woken.
struct Clock {
    epoch: Instant,
    seconds: AtomicU64,
    /// Every thread's lists, for the ticking thread to wake.
    threads: Mutex<Vec<&'static Lists>>,
}

struct Lists([Notify; LISTS]);

static CLOCK: OnceLock<Clock> = OnceLock::new();

thread_local! {
    /// This thread's lists, made the first time a sleep waits on it. They live as long as the
    /// process (a few kilobytes per thread that serves) so that a waiting sleep holds its place
    /// without a reference count.
    static THREAD_LISTS: &'static Lists = {
        let lists: &'static Lists =
            Box::leak(Box::new(Lists(std::array::from_fn(|_| Notify::new()))));
        clock().threads.lock().unwrap_or_else(PoisonError::into_inner).push(lists);
        lists
    };
}

/// The process's clock, its ticking thread started the first time.
fn clock() -> &'static Clock {
    CLOCK.get_or_init(|| {
        // Without the thread no sleep ends; the server cannot keep its limit without it.
        if let Err(error) = std::thread::Builder::new().name("jwtgate-timer".to_owned()).spawn(tick)
        {
            tracing::error!(%error, "could not start the request-head timer");
        }
        Clock { epoch: now(), seconds: AtomicU64::new(0), threads: Mutex::new(Vec::new()) }
    })
}

/// Every second: the clock advanced to the whole seconds elapsed, then each thread's list of
/// every second that has now passed woken.
fn tick() {
    let clock = clock();
    let mut woken = 0u64;
    loop {
        let elapsed = now().saturating_duration_since(clock.epoch);
        std::thread::sleep(
            Duration::from_secs(1)
                .saturating_sub(Duration::from_nanos(u64::from(elapsed.subsec_nanos()))),
        );
        let elapsed = now().saturating_duration_since(clock.epoch).as_secs();
        clock.seconds.store(elapsed, Ordering::Release);
        let threads = clock.threads.lock().unwrap_or_else(PoisonError::into_inner).clone();
        // After a long stall every list is woken once, not once per missed second.
        let first = woken.saturating_add(1).max(elapsed.saturating_sub(LISTS as u64));
        for second in first..=elapsed {
            for lists in &threads {
                lists.list(second).notify_waiters();
            }
        }
        woken = elapsed;
    }
}

#[expect(clippy::disallowed_methods, reason = "the server's timer is where the clock is read")]
fn now() -> Instant {
    Instant::now()
}

impl Lists {
    #[expect(clippy::indexing_slicing, reason = "the index is below LISTS by the modulo")]
    fn list(&self, second: u64) -> &Notify {
        &self.0[usize::try_from(second % LISTS as u64).unwrap_or_default()]
    }
}

impl Clock {
    fn has_reached(&self, second: u64) -> bool {
        self.seconds.load(Ordering::Acquire) >= second
    }

    /// The first whole second at or after `deadline`.
    fn second_of(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.epoch);
        since.as_secs().saturating_add(u64::from(since.subsec_nanos() > 0))
    }
}

/// The timer hyper's HTTP/1 builder takes.
#[derive(Clone, Copy)]
pub(crate) struct CoarseTimer {
    clock: &'static Clock,
}

impl CoarseTimer {
    /// The process's timer (its ticking thread starts with the first).
    pub(crate) fn new() -> Self {
        Self { clock: clock() }
    }
}

impl Timer for CoarseTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let second = self.clock.second_of(deadline);
        Box::pin(CoarseSleep { clock: self.clock, second, waiting: None })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        *sleep = self.sleep_until(new_deadline);
    }

    fn now(&self) -> Instant {
        now()
    }
}

pin_project_lite::pin_project! {
    /// A sleep until the clock reaches `second`.
    struct CoarseSleep {
        clock: &'static Clock,
        second: u64,
        // The place in the second's wait list, taken at the first pending poll.
        #[pin]
        waiting: Option<Notified<'static>>,
    }
}

impl Sleep for CoarseSleep {}

impl Future for CoarseSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let (clock, second) = (*this.clock, *this.second);
        loop {
            if clock.has_reached(second) {
                return Poll::Ready(());
            }
            if this.waiting.is_none() {
                let lists = THREAD_LISTS.with(|lists| *lists);
                this.waiting.set(Some(lists.list(second).notified()));
            }
            let Some(mut waiting) = this.waiting.as_mut().as_pin_mut() else {
                return Poll::Pending;
            };
            // In the list before the clock is read again: a wake between the two is kept.
            waiting.as_mut().enable();
            if clock.has_reached(second) {
                return Poll::Ready(());
            }
            if waiting.poll(cx).is_pending() {
                return Poll::Pending;
            }
            // Woken for an earlier round of this list (a deadline over 64 s ahead): join it
            // again.
            this.waiting.set(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sleep_ends_after_its_deadline_within_about_a_second() {
        let timer = CoarseTimer::new();
        let started = now();
        timer.sleep(Duration::from_millis(1500)).await;
        let slept = now().duration_since(started);
        assert!(slept >= Duration::from_millis(1500), "ended early: {slept:?}");
        assert!(slept < Duration::from_millis(3500), "ended late: {slept:?}");
    }

    #[tokio::test]
    async fn a_past_deadline_is_ready_a_far_one_waits_its_round_and_a_reset_moves_it() {
        let timer = CoarseTimer::new();
        timer.sleep_until(now().checked_sub(Duration::from_secs(1)).unwrap_or(now())).await;
        // One second past a round of the lists: its list is woken within the next second or
        // two, a round early, and it must wait on.
        let mut sleep = timer.sleep(Duration::from_secs(LISTS as u64 + 1));
        let far = tokio::time::timeout(Duration::from_millis(2500), sleep.as_mut()).await;
        assert!(far.is_err(), "a {} s sleep ended within 2.5 s", LISTS + 1);
        timer.reset(&mut sleep, now() + Duration::from_millis(200));
        tokio::time::timeout(Duration::from_secs(3), sleep).await.expect("the reset sleep ends");
    }
}
