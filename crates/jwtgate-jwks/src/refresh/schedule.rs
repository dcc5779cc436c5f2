//! The fetch schedule of one `jwk_url` as a state machine (D2, D4, D5, D6): events in (a fetch
//! started, succeeded or failed, a token named an unknown `kid`, time passed), decisions out (when
//! to fetch next, whether a refetch starts, whether a request may wait for it). No clock, no IO:
//! every event carries its `now`.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use super::{Decision, NextFetch, after_failure, after_success};

/// What started a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// The first fetch, at start.
    Startup,
    /// A fetch the refresh policy or the retry backoff scheduled.
    Scheduled,
    /// A token whose `kid` is not in the set (D6).
    UnknownKid,
}

/// The answer to a token naming a `kid` the set lacks (D6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KidRefetch {
    /// A fetch is under way: the request may wait for it.
    Join,
    /// A refetch starts now: the request may wait for it.
    Start,
    /// A kid-triggered refetch started less than the interval ago: the request does not wait.
    Cooldown,
}

impl KidRefetch {
    /// Whether a request may wait for a fetch (it joins one or starts one).
    pub fn may_wait(self) -> bool {
        matches!(self, Self::Join | Self::Start)
    }
}

/// The schedule of one key set's fetches.
#[derive(Debug, Clone)]
pub struct Schedule {
    kid_refetch_interval: Duration,
    /// The fetch under way and what started it.
    in_flight: Option<Trigger>,
    /// When the next timed fetch is due; `None`: only an unknown `kid` fetches again.
    deadline: Option<SystemTime>,
    consecutive_failures: u32,
    /// Whether a success scheduled a timed refresh; rule 5 of D2 reads it.
    refreshing: bool,
    /// When the last kid-triggered refetch started.
    last_kid_refetch: Option<SystemTime>,
}

impl Schedule {
    /// A schedule whose startup fetch is under way; unknown `kid`s start at most one refetch per
    /// `kid_refetch_interval`.
    pub fn new(kid_refetch_interval: Duration) -> Self {
        Self {
            kid_refetch_interval,
            in_flight: Some(Trigger::Startup),
            deadline: None,
            consecutive_failures: 0,
            refreshing: false,
            last_kid_refetch: None,
        }
    }

    /// The fetch under way, if any, and what started it.
    pub fn in_flight(&self) -> Option<Trigger> {
        self.in_flight
    }

    /// When the next timed fetch is due (`None`: never, until an unknown `kid` asks).
    pub fn next_fetch(&self) -> Option<SystemTime> {
        self.deadline
    }

    /// A token named a `kid` the set lacks, at `now`: join the fetch under way, start a refetch,
    /// or neither during the cooldown. A clock that went backwards counts as the interval
    /// having passed.
    pub fn unknown_kid(&mut self, now: SystemTime) -> KidRefetch {
        if self.in_flight.is_some() {
            return KidRefetch::Join;
        }
        let cooling = self.last_kid_refetch.is_some_and(|last| {
            now.duration_since(last).is_ok_and(|since| since < self.kid_refetch_interval)
        });
        if cooling {
            return KidRefetch::Cooldown;
        }
        self.last_kid_refetch = Some(now);
        self.in_flight = Some(Trigger::UnknownKid);
        KidRefetch::Start
    }

    /// Time passed to `now`: whether a timed fetch starts (it does when one is due and no fetch
    /// is under way).
    pub fn tick(&mut self, now: SystemTime) -> bool {
        if self.in_flight.is_some() || self.deadline.is_none_or(|due| now < due) {
            return false;
        }
        self.in_flight = Some(Trigger::Scheduled);
        true
    }

    /// The fetch under way succeeded at `now`: the next fetch by D2, from the headers of each
    /// response it read (one for a `jwk_url`; a discovery document and its set for D21, when
    /// the earlier of the two decisions wins).
    pub fn succeeded(&mut self, responses: &[HeaderMap], now: SystemTime) -> Decision {
        self.in_flight = None;
        let decision = responses
            .iter()
            .map(|headers| after_success(headers, now, self.refreshing))
            .min_by_key(|decision| match decision.next {
                NextFetch::After(delay) => (false, delay),
                NextFetch::Never => (true, Duration::ZERO),
            })
            .unwrap_or_else(|| after_success(&HeaderMap::new(), now, self.refreshing));
        self.refreshing = matches!(decision.next, NextFetch::After(_));
        self.deadline = match decision.next {
            NextFetch::After(delay) => Some(now + delay),
            NextFetch::Never => None,
        };
        self.consecutive_failures = 0;
        decision
    }

    /// The fetch under way failed at `now`: back off (D4, D5), except that a failed
    /// kid-triggered refetch changes neither keys nor schedule (D6).
    pub fn failed(&mut self, now: SystemTime) {
        let trigger = self.in_flight.take();
        if trigger != Some(Trigger::UnknownKid) {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.deadline = Some(now + after_failure(self.consecutive_failures));
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use http::header::CACHE_CONTROL;

    use super::*;

    const WINDOW: Duration = Duration::from_secs(30);

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds)
    }

    fn headers(cache_control: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if !cache_control.is_empty() {
            headers.insert(CACHE_CONTROL, HeaderValue::from_str(cache_control).unwrap());
        }
        headers
    }

    /// One step of a timeline and what the schedule must answer.
    enum Step {
        Kid(u64, KidRefetch),
        Tick(u64, bool),
        Ok(u64, &'static str, Option<u64>),
        Fail(u64, Option<u64>),
    }

    fn run(name: &str, steps: &[Step]) {
        let mut schedule = Schedule::new(WINDOW);
        for (index, step) in steps.iter().enumerate() {
            let context = format!("{name}, step {index}");
            match *step {
                Step::Kid(now, expected) => {
                    assert_eq!(schedule.unknown_kid(at(now)), expected, "{context}");
                }
                Step::Tick(now, starts) => assert_eq!(schedule.tick(at(now)), starts, "{context}"),
                Step::Ok(now, cache_control, next) => {
                    schedule.succeeded(&[headers(cache_control)], at(now));
                    assert_eq!(schedule.next_fetch(), next.map(at), "{context}");
                    assert_eq!(schedule.in_flight(), None, "{context}");
                }
                Step::Fail(now, next) => {
                    schedule.failed(at(now));
                    assert_eq!(schedule.next_fetch(), next.map(at), "{context}");
                }
            }
        }
    }

    #[test]
    fn timelines() {
        use KidRefetch::{Cooldown, Join, Start};
        use Step::{Fail, Kid, Ok, Tick};
        run("a request during the startup fetch joins it", &[Kid(0, Join), Tick(0, false)]);
        run(
            "no caching headers: never again, but for unknown kids, one per 30 s",
            &[
                Ok(0, "", None),
                Tick(1_000_000, false),
                Kid(5, Start),
                Kid(5, Join),
                Ok(6, "", None),
                Kid(20, Cooldown),
                Kid(34, Cooldown),
                Kid(35, Start),
            ],
        );
        run(
            "no-cache: a minute, and a kid refetch in between reschedules",
            &[
                Ok(0, "no-cache", Some(60)),
                Tick(39, false),
                Kid(40, Start),
                Ok(41, "no-cache", Some(101)),
                Tick(60, false),
                Tick(101, true),
                Kid(101, Join),
            ],
        );
        run(
            "rule 5 after a kid refetch: a refresh already scheduled stays one minute",
            &[Ok(0, "max-age=100", Some(100)), Kid(10, Start), Ok(11, "", Some(71))],
        );
        run(
            "failures back off from 1 s doubling, a success resets",
            &[
                Fail(0, Some(1)),
                Tick(1, true),
                Fail(1, Some(3)),
                Tick(3, true),
                Fail(3, Some(7)),
                Tick(7, true),
                Ok(7, "max-age=300", Some(307)),
            ],
        );
        run(
            "a failed kid refetch changes neither schedule nor window",
            &[
                Ok(0, "max-age=100", Some(100)),
                Kid(40, Start),
                Fail(41, Some(100)),
                Kid(50, Cooldown),
            ],
        );
        run(
            "a clock that went backwards counts as the window having passed",
            &[Ok(100, "", None), Kid(200, Start), Ok(200, "", None), Kid(150, Start)],
        );
    }

    #[test]
    fn only_joining_or_starting_lets_a_request_wait() {
        assert!(KidRefetch::Join.may_wait());
        assert!(KidRefetch::Start.may_wait());
        assert!(!KidRefetch::Cooldown.may_wait());
    }
}
