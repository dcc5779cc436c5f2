//! The scheduler on a manual clock with scripted responses: minute- and hour-long timelines of
//! D2, D4, D5 and D6 run in milliseconds, with no socket.

use std::time::Duration;

use http::StatusCode;
use jwtgate_config::JwkUrl;
use jwtgate_jwks::{
    FetchError, JwksHandle, JwksOptions, KeySet as _, ManualClock, NextFetchAt, SpawnError,
    TransportError, Trigger,
};

use crate::support::{Keys, Script, at, attempts, clock, ok, respond, start};

fn spawn(script: &Script, clock: &ManualClock) -> JwksHandle {
    let url = JwkUrl::parse("https://issuer.example/.well-known/jwks.json").unwrap();
    JwksHandle::spawn_with(url, script.clone(), clock.clone(), &JwksOptions::default()).unwrap()
}

#[tokio::test]
async fn a_headerless_startup_fetch_is_never_repeated() {
    let keys = Keys::load();
    let script = Script::new(vec![ok(&[], &keys.set_a())]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    assert_eq!(handle.status().next_fetch, Some(NextFetchAt::Never));
    assert_eq!(clock.next_wake(), None);
    clock.advance(Duration::from_hours(7 * 24));
    assert_eq!(handle.status().in_flight, None, "nothing on the clock can wake the fetcher");
    assert_eq!(script.fetches(), 1);
    assert_eq!(keys.verifying(&handle), "A");
}

#[tokio::test]
async fn max_age_refetches_on_time_and_rotates_keys() {
    let keys = Keys::load();
    let max_age = [("cache-control", "max-age=10")];
    let script = Script::new(vec![ok(&max_age, &keys.set_a()), ok(&max_age, &keys.set_b())]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    assert_eq!(clock.next_wake(), Some(at(10)));
    clock.advance(Duration::from_secs(9));
    assert_eq!(clock.next_wake(), Some(at(10)), "the fetcher still sleeps");
    assert_eq!((script.fetches(), keys.verifying(&handle).as_str()), (1, "A"));
    clock.advance(Duration::from_secs(1));
    attempts(&handle, 2).await;
    assert_eq!((script.fetches(), keys.verifying(&handle).as_str()), (2, "B"));
    assert_eq!(clock.next_wake(), Some(at(20)));
    assert_eq!(handle.generation(), 2);
}

#[tokio::test]
async fn an_hour_of_no_cache_is_sixty_one_fetches() {
    let keys = Keys::load();
    let script = Script::new(vec![ok(&[("cache-control", "no-cache")], &keys.set_a())]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    for minute in 1..=60 {
        clock.advance(Duration::from_mins(1));
        attempts(&handle, minute + 1).await;
        assert_eq!(clock.next_wake(), Some(at(60 * (minute + 1))));
    }
    assert_eq!(script.fetches(), 61);
    assert_eq!(handle.status().fetches_ok, 61);
}

#[tokio::test]
async fn failures_back_off_and_keep_the_last_good_set() {
    let keys = Keys::load();
    let script = Script::new(vec![
        ok(&[("cache-control", "max-age=5")], &keys.set_a()),
        respond(StatusCode::INTERNAL_SERVER_ERROR, &[], "oops"),
        Err(TransportError::Timeout(Duration::from_secs(10))),
        ok(&[], "junk"),
        ok(&[], r#"{"keys": []}"#),
        ok(&[], r#"{"keys": [{"kty": "XYZ"}]}"#),
        ok(&[("cache-control", "max-age=5")], &keys.set_b()),
    ]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    // Success at 0 (next +5), then failures at 5, 6, 8, 12, 20 retrying after 1, 2, 4, 8, 16 s.
    let timeline = [(5, 6), (6, 8), (8, 12), (12, 20), (20, 36)];
    for (attempt, (now, next)) in (2..).zip(timeline) {
        clock.advance(at(now).duration_since(clock_now(&clock)).unwrap());
        attempts(&handle, attempt).await;
        assert_eq!(clock.next_wake(), Some(at(next)), "after the failure at {now} s");
        assert_eq!(keys.verifying(&handle), "A", "D5: the last good set is kept");
        assert!(handle.status().last_attempt.unwrap().outcome.is_err());
    }
    let status = handle.status();
    assert_eq!(status.last_attempt.unwrap().outcome, Err(FetchError::NoUsableKeys { skipped: 1 }));
    assert_eq!((status.fetches_ok, status.fetches_failed, status.keys), (1, 5, 1));
    clock.advance(Duration::from_secs(16));
    attempts(&handle, 7).await;
    assert_eq!(keys.verifying(&handle), "B");
    assert_eq!(clock.next_wake(), Some(at(41)), "a success resets the backoff");
}

fn clock_now(clock: &ManualClock) -> std::time::SystemTime {
    use jwtgate_jwks::Clock as _;
    clock.now()
}

#[tokio::test]
async fn an_unreachable_url_at_startup_does_not_stop_anything() {
    let keys = Keys::load();
    let script = Script::new(vec![
        Err(TransportError::Request("connection refused".into())),
        ok(&[], &keys.set_a()),
    ]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    assert_eq!(keys.verifying(&handle), "");
    assert!(handle.current().is_empty());
    assert_eq!(clock.next_wake(), Some(at(1)));
    clock.advance(Duration::from_secs(1));
    attempts(&handle, 2).await;
    assert_eq!(keys.verifying(&handle), "A");
    // The first success is the startup fetch of rule 5: no headers, never again.
    assert_eq!(handle.status().next_fetch, Some(NextFetchAt::Never));
}

#[tokio::test]
async fn a_later_fetch_without_headers_refetches_after_a_minute() {
    let keys = Keys::load();
    let script = Script::new(vec![
        ok(&[("cache-control", "max-age=10")], &keys.set_a()),
        ok(&[], &keys.set_a()),
    ]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    clock.advance(Duration::from_secs(10));
    attempts(&handle, 2).await;
    assert_eq!(clock.next_wake(), Some(at(70)));
    clock.advance(Duration::from_mins(1));
    attempts(&handle, 3).await;
    assert_eq!(clock.next_wake(), Some(at(130)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_fetches_once_per_window() {
    let keys = Keys::load();
    let script = Script::new(vec![ok(&[], &keys.set_a()), ok(&[], &keys.set_ab())]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    let flood = |handle: JwksHandle, now| async move {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let handle = handle.clone();
            tasks.push(tokio::spawn(async move {
                (0..500).filter(|_| handle.request_refetch("b", now).is_pending()).count()
            }));
        }
        let mut pending = 0;
        for task in tasks {
            pending += task.await.unwrap();
        }
        pending
    };
    // 4000 requests: the first starts a refetch, those during it join it, none starts another.
    assert!(flood(handle.clone(), start()).await >= 1);
    attempts(&handle, 2).await;
    assert_eq!(handle.status().in_flight, None, "no second refetch started");
    assert_eq!(script.fetches(), 2);
    assert_eq!(keys.verifying(&handle), "AB");
    assert_eq!(handle.status().last_attempt.unwrap().trigger, Trigger::UnknownKid);
    // D6: no refresh was scheduled, so the schedule stays 'never'.
    assert_eq!(handle.status().next_fetch, Some(NextFetchAt::Never));
    assert_eq!(flood(handle.clone(), at(29)).await, 0, "still inside the 30 s window");
    assert_eq!(handle.status().in_flight, None);
    assert_eq!(script.fetches(), 2);
    assert!(flood(handle.clone(), at(30)).await >= 1, "the next window");
    attempts(&handle, 3).await;
    assert_eq!(script.fetches(), 3);
}

#[tokio::test]
async fn a_kid_refetch_during_a_fetch_in_flight_joins_it() {
    let keys = Keys::load();
    let script =
        Script::new(vec![ok(&[], &keys.set_a())]).holding_each_fetch(Duration::from_millis(200));
    let clock = clock();
    let handle = spawn(&script, &clock);
    let joined = handle.request_refetch("a", start());
    assert!(joined.is_pending(), "the startup fetch is in flight");
    joined.await;
    assert_eq!((script.fetches(), keys.verifying(&handle).as_str()), (1, "A"));
    assert!(handle.request_refetch("b", start()).is_pending(), "no fetch in flight: one starts");
    attempts(&handle, 2).await;
    assert_eq!(script.fetches(), 2);
}

#[tokio::test]
async fn a_failed_kid_refetch_changes_neither_keys_nor_schedule() {
    let keys = Keys::load();
    let script = Script::new(vec![
        ok(&[("cache-control", "max-age=100")], &keys.set_a()),
        respond(StatusCode::BAD_GATEWAY, &[], ""),
        ok(&[("cache-control", "max-age=100")], &keys.set_ab()),
    ]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    clock.advance(Duration::from_secs(40));
    assert!(handle.request_refetch("b", at(40)).is_pending());
    attempts(&handle, 2).await;
    assert_eq!(keys.verifying(&handle), "A");
    assert_eq!(clock.next_wake(), Some(at(100)), "the schedule is untouched");
    assert_eq!(handle.status().next_fetch, Some(NextFetchAt::At(at(100))));
    clock.advance(Duration::from_mins(1));
    attempts(&handle, 3).await;
    assert_eq!(keys.verifying(&handle), "AB");
}

#[tokio::test]
async fn a_successful_kid_refetch_reschedules_by_d2() {
    let keys = Keys::load();
    let script = Script::new(vec![
        ok(&[("cache-control", "max-age=100")], &keys.set_a()),
        ok(&[("cache-control", "max-age=10")], &keys.set_ab()),
    ]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    clock.advance(Duration::from_secs(50));
    assert!(handle.request_refetch("b", at(50)).is_pending());
    attempts(&handle, 2).await;
    assert_eq!(clock.next_wake(), Some(at(60)));
    assert_eq!(keys.verifying(&handle), "AB");
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_task() {
    let keys = Keys::load();
    let script = Script::new(vec![ok(&[("cache-control", "max-age=1")], &keys.set_a())]);
    let clock = clock();
    let handle = spawn(&script, &clock);
    attempts(&handle, 1).await;
    assert!(clock.next_wake().is_some(), "the fetcher sleeps until its next fetch");
    drop(handle);
    // The aborted task drops its sleep: the clock's sleeper closes.
    while clock.next_wake().is_some() {
        tokio::task::yield_now().await;
    }
    clock.advance(Duration::from_mins(1));
    assert_eq!(script.fetches(), 1);
}

#[test]
fn spawning_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let url = JwkUrl::parse("https://issuer.example/.well-known/jwks.json").unwrap();
    let script = Script::new(Vec::new());
    let spawned = JwksHandle::spawn_with(url, script, clock(), &JwksOptions::default());
    let error = spawned.err().unwrap();
    assert_eq!(error, SpawnError::NoRuntime);
    assert_eq!(
        error.to_string(),
        "no tokio runtime: a key set fetcher runs as a task of the current tokio runtime"
    );
}
