//! One background task per `jwk_url`: fetch, swap the key set in, schedule the next fetch.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use http::{HeaderMap, StatusCode};
use jwtgate_config::{IssuerDiscovery, JwkUrl, SecretString};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::clock::{Clock, SystemClock};
use super::discovery::{Discovered, DiscoveryError};
use super::http::{Fetch, FetchSettings, HttpFetcher, TlsError, TransportError};
use crate::key_set::{JwkSet, JwksError};
use crate::refresh::{self, KidRefetch, Schedule, Trigger};
use crate::source::{KeySet, Refetch};

/// Skipped keys of one fetch named in the log; the rest are counted in one line.
const LOGGED_SKIPS: usize = 10;
/// Settings of a key set fetcher. Start from `default()` and set what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JwksOptions {
    /// Timeouts and limits of each fetch.
    pub fetch: FetchSettings,
    /// The least time between two refetches started by unknown `kid`s
    /// ([`Self::DEFAULT_KID_REFETCH_INTERVAL`] by default).
    pub kid_refetch_interval: Duration,
    /// Extra request headers (a secret's `jwk_headers`, D21), sent to the key set's origin
    /// only; their values never appear in logs or `Debug`.
    pub headers: Vec<(String, SecretString)>,
}

impl JwksOptions {
    /// The default least time between two refetches started by unknown `kid`s: 30 s (D6).
    pub const DEFAULT_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

    /// How long to wait for a new fetcher's first fetch: the fetch timeout, and a second for
    /// the task to report.
    pub fn first_fetch_wait(&self) -> Duration {
        self.fetch.timeout.saturating_add(Duration::from_secs(1))
    }
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self {
            fetch: FetchSettings::default(),
            kid_refetch_interval: Self::DEFAULT_KID_REFETCH_INTERVAL,
            headers: Vec::new(),
        }
    }
}

/// Why a fetch did not yield a key set. The last good set stays in use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No response to read.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A status outside 200-299.
    #[error("HTTP status {}", .0.as_u16())]
    Status(StatusCode),
    /// The body is not a JWK set.
    #[error(transparent)]
    Body(#[from] JwksError),
    /// The set holds no usable key (`{"keys": []}`, or every key skipped).
    #[error("no usable key in the set ({skipped} skipped)")]
    NoUsableKeys {
        /// How many keys were skipped.
        skipped: usize,
    },
    /// The discovery document names no usable key set (D21).
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// The discovery document was read, but fetching the key set it names failed.
    #[error("jwks_uri {url}: {error}")]
    JwksUri {
        /// The `jwks_uri`, redacted like a `jwk_url`.
        url: String,
        /// Why that fetch failed.
        error: Box<FetchError>,
    },
}

/// Why a fetcher did not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// Called outside a tokio runtime: the fetcher runs as a tokio task.
    #[error("no tokio runtime: a key set fetcher runs as a task of the current tokio runtime")]
    NoRuntime,
    /// The TLS set-up failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// One completed fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchAttempt {
    /// When the response (or the failure) arrived.
    pub at: SystemTime,
    /// What started it.
    pub trigger: Trigger,
    /// The usable key count on success.
    pub outcome: Result<usize, FetchError>,
}

/// The next fetch, as scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextFetchAt {
    /// At this time.
    At(SystemTime),
    /// Not scheduled: only an unknown `kid` fetches again.
    Never,
}

/// A fetcher's state, for `/readyz`, metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksStatus {
    /// The URL, redacted.
    pub url: String,
    /// Usable keys held.
    pub keys: usize,
    /// Keys of the held set that were skipped.
    pub skipped: usize,
    /// The last completed fetch.
    pub last_attempt: Option<FetchAttempt>,
    /// When the held set arrived.
    pub last_success: Option<SystemTime>,
    /// The next scheduled fetch (`None` while the first is running).
    pub next_fetch: Option<NextFetchAt>,
    /// Successful fetches so far.
    pub fetches_ok: u64,
    /// Failed fetches so far.
    pub fetches_failed: u64,
    /// The fetch under way and what started it (`None`: the fetcher is waiting).
    pub in_flight: Option<Trigger>,
    /// The proxy fetches go through, credentials redacted (`None`: direct).
    pub proxy: Option<String>,
}

impl JwksStatus {
    /// Why the set holds no usable key, as `/readyz` says it: `<url>: <the last fetch's error>`,
    /// or `<url>: not fetched yet`.
    pub fn unavailable_reason(&self) -> String {
        match self.last_attempt.as_ref().map(|attempt| &attempt.outcome) {
            Some(Err(error)) => format!("{}: {error}", self.url),
            _ => format!("{}: not fetched yet", self.url),
        }
    }
}

struct Shared {
    url: JwkUrl,
    keys: ArcSwap<JwkSet>,
    generation: AtomicU64,
    status: Mutex<JwksStatus>,
    attempts: watch::Sender<u64>,
    kid_refetch: Notify,
    /// D2, D4, D5 and D6 as a state machine; requests and the fetch loop share it.
    schedule: Mutex<Schedule>,
}

impl Shared {
    fn schedule(&self) -> MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stops the fetch task when the last handle goes.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running fetcher for one `jwk_url`. Cloning is cheap; the task stops with the last clone.
///
/// Readers take the current set with [`KeySet::current`], an atomic load that never waits. A
/// failed fetch keeps the last good set; the first set fetched is kept (D5).
#[derive(Clone)]
pub struct JwksHandle {
    shared: Arc<Shared>,
    _task: Arc<AbortOnDrop>,
}

impl fmt::Debug for JwksHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksHandle").field("url", &self.shared.url).finish_non_exhaustive()
    }
}

impl JwksHandle {
    /// Starts fetching `url` over HTTP(S) on the system clock, as a task of the current tokio
    /// runtime.
    pub fn spawn(url: JwkUrl, options: &JwksOptions) -> Result<Self, SpawnError> {
        let fetcher = HttpFetcher::new(&url, options.fetch.clone())?.with_headers(&options.headers);
        Self::spawn_with(url, fetcher, SystemClock, options)
    }

    /// Starts fetching with any fetcher and clock (tests, simulations), as a task of the
    /// current tokio runtime.
    pub fn spawn_with<F: Fetch, C: Clock>(
        url: JwkUrl,
        fetcher: F,
        clock: C,
        options: &JwksOptions,
    ) -> Result<Self, SpawnError> {
        Self::start(url, Direct(fetcher), clock, options)
    }

    /// Starts finding the key set by OpenID Connect discovery (D21) over HTTP(S) on the system
    /// clock: each fetch reads the discovery document, checks its `issuer`, then fetches its
    /// `jwks_uri`. The fetcher is known by the document's URL.
    pub fn spawn_discovery(
        discovery: IssuerDiscovery,
        options: &JwksOptions,
    ) -> Result<Self, SpawnError> {
        let document = HttpFetcher::new(discovery.document_url(), options.fetch.clone())?
            .with_headers(&options.headers);
        Self::spawn_discovery_with(discovery, document, SystemClock, options)
    }

    /// Discovery with a fetcher of the caller's for the document (its TLS set-up, settings
    /// and headers serve the `jwks_uri` fetches too) and any clock.
    pub fn spawn_discovery_with<C: Clock>(
        discovery: IssuerDiscovery,
        document: HttpFetcher,
        clock: C,
        options: &JwksOptions,
    ) -> Result<Self, SpawnError> {
        let url = discovery.document_url().clone();
        Self::start(url, Discovered { discovery, document }, clock, options)
    }

    fn start<S: Source, C: Clock>(
        url: JwkUrl,
        source: S,
        clock: C,
        options: &JwksOptions,
    ) -> Result<Self, SpawnError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SpawnError::NoRuntime)?;
        let status = JwksStatus {
            url: url.redacted().to_owned(),
            keys: 0,
            skipped: 0,
            last_attempt: None,
            last_success: None,
            next_fetch: None,
            fetches_ok: 0,
            fetches_failed: 0,
            in_flight: Some(Trigger::Startup),
            proxy: source.proxy(),
        };
        let shared = Arc::new(Shared {
            url,
            keys: ArcSwap::from_pointee(JwkSet::empty()),
            generation: AtomicU64::new(0),
            status: Mutex::new(status),
            attempts: watch::Sender::new(0),
            kid_refetch: Notify::new(),
            schedule: Mutex::new(Schedule::new(options.kid_refetch_interval)),
        });
        let task = runtime.spawn(run(Arc::clone(&shared), source, clock));
        Ok(Self { shared, _task: Arc::new(AbortOnDrop(task)) })
    }

    /// Whether `other` is a handle of this same fetcher (a clone), not another fetcher.
    pub fn is_same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The URL this fetcher is known by: the `jwk_url`, or the discovery document's URL.
    pub fn url(&self) -> &JwkUrl {
        &self.shared.url
    }

    /// A snapshot of the fetcher's state.
    pub fn status(&self) -> JwksStatus {
        let in_flight = self.shared.schedule().in_flight();
        let mut status = self.shared.status.lock().unwrap_or_else(PoisonError::into_inner).clone();
        status.in_flight = in_flight;
        status
    }

    /// Waits until at least `count` fetches have completed, successful or not.
    pub async fn wait_for_attempts(&self, count: u64) {
        let mut attempts = self.shared.attempts.subscribe();
        // An error means the task is gone; there is nothing more to wait for.
        let _ = attempts.wait_for(|&done| done >= count).await;
    }
}

impl KeySet for JwksHandle {
    fn current(&self) -> Arc<JwkSet> {
        self.shared.keys.load_full()
    }

    fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// Joins the fetch under way, or starts one refetch unless a kid-triggered refetch started
    /// less than [`JwksOptions::kid_refetch_interval`] before `now` (D6). The answer is pending
    /// when it joined or started one, and completes with that fetch.
    fn request_refetch(&self, _kid: &str, now: SystemTime) -> Refetch {
        let shared = &self.shared;
        // Decided and counted under the schedule's lock, which the loop holds from a fetch's
        // end to its announcement: the answer completes with the fetch it joined or started.
        let (decision, mut attempts, completed) = {
            let mut schedule = shared.schedule();
            let attempts = shared.attempts.subscribe();
            let completed = *attempts.borrow();
            (schedule.unknown_kid(now), attempts, completed)
        };
        if decision == KidRefetch::Start {
            shared.kid_refetch.notify_one();
        }
        if !decision.may_wait() {
            return Refetch::none();
        }
        Refetch::pending(async move {
            // An error means the task is gone; there is nothing more to wait for.
            let _ = attempts.wait_for(|&done| done > completed).await;
        })
    }
}

impl Shared {
    /// Swaps a good set in and records it.
    fn install(&self, set: JwkSet, decision: &refresh::Decision, now: SystemTime) -> usize {
        // A hostile or huge set must not flood the log: the first few skips are named, the
        // rest counted.
        for skipped in set.skipped().iter().take(LOGGED_SKIPS) {
            tracing::warn!(url = %self.url, %skipped, "skipping unusable JWK");
        }
        if let Some(more) = set.skipped().len().checked_sub(LOGGED_SKIPS).filter(|&n| n > 0) {
            tracing::warn!(url = %self.url, more, "skipping more unusable JWKs");
        }
        tracing::info!(
            url = %self.url, keys = set.len(), rule = ?decision.rule,
            next = ?decision.next, "JWKS fetched"
        );
        let (count, skipped) = (set.len(), set.skipped().len());
        self.keys.store(Arc::new(set));
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        status.keys = count;
        status.skipped = skipped;
        status.last_success = Some(now);
        status.fetches_ok += 1;
        count
    }

    /// Records a completed attempt and the next fetch it leaves scheduled.
    fn record(&self, attempt: FetchAttempt, deadline: Option<SystemTime>) {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if attempt.outcome.is_err() {
            status.fetches_failed += 1;
        }
        status.last_attempt = Some(attempt);
        status.next_fetch = Some(deadline.map_or(NextFetchAt::Never, NextFetchAt::At));
    }
}

/// The fetch loop, a thin shell around the schedule: fetch, let the schedule decide, sleep until
/// it wants the next fetch or a request asks for one. Runs until the last handle is dropped.
async fn run<S: Source, C: Clock>(shared: Arc<Shared>, source: S, clock: C) {
    loop {
        let trigger = shared.schedule().in_flight().unwrap_or(Trigger::Scheduled);
        tracing::info!(url = %shared.url, ?trigger, "fetching JWKS");
        let result = source.fetch_set().await;
        let now = clock.now();
        let mut sleep = {
            // Held until the attempt is announced, so a request deciding meanwhile waits for
            // the next fetch, not for this one.
            let mut schedule = shared.schedule();
            let outcome = match result {
                Ok(Fetched { set, headers }) => {
                    let decision = schedule.succeeded(&headers, now);
                    Ok(shared.install(set, &decision, now))
                }
                Err(error) => {
                    schedule.failed(now);
                    tracing::warn!(url = %shared.url, %error, "JWKS fetch failed; keeping the last good keys");
                    Err(error)
                }
            };
            shared.record(FetchAttempt { at: now, trigger, outcome }, schedule.next_fetch());
            // Armed before the attempt is announced, so whoever waits for the attempt sees the
            // next fetch already on the clock.
            let sleep = schedule.next_fetch().map(|at| sleep_until(&clock, at));
            shared.attempts.send_modify(|done| *done += 1);
            sleep
        };
        loop {
            match sleep.as_mut() {
                Some(timer) => tokio::select! {
                    () = timer => sleep = None,
                    () = shared.kid_refetch.notified() => {}
                },
                None => shared.kid_refetch.notified().await,
            }
            let mut schedule = shared.schedule();
            if schedule.in_flight().is_some() || schedule.tick(clock.now()) {
                break;
            }
            // Woken before the fetch is due (a timer ahead of the wall clock): wait again.
            if sleep.is_none() {
                sleep = schedule.next_fetch().map(|at| sleep_until(&clock, at));
            }
        }
    }
}

/// A sleep on `clock` until `at` (at once when it has passed).
fn sleep_until<C: Clock>(clock: &C, at: SystemTime) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(clock.sleep(at.duration_since(clock.now()).unwrap_or_default()))
}

/// What one fetch of a key set source yields: the set, and the headers of each response read
/// for it (a discovery's document and set), which the schedule reads (D2).
pub(super) struct Fetched {
    pub(super) set: JwkSet,
    pub(super) headers: Vec<HeaderMap>,
}

/// Where a fetcher's key set comes from: a `jwk_url`, or discovery.
pub(super) trait Source: Send + Sync + 'static {
    /// Fetches the set once.
    fn fetch_set(&self) -> impl Future<Output = Result<Fetched, FetchError>> + Send;

    /// The proxy the first document is fetched through, redacted.
    fn proxy(&self) -> Option<String>;
}

/// A `jwk_url`: one document, the set itself.
struct Direct<F>(F);

impl<F: Fetch> Source for Direct<F> {
    async fn fetch_set(&self) -> Result<Fetched, FetchError> {
        let (set, headers) = fetch_key_set(&self.0).await?;
        Ok(Fetched { set, headers: vec![headers] })
    }

    fn proxy(&self) -> Option<String> {
        self.0.proxy()
    }
}

/// One fetch: a 2xx response whose body is a JWK set with at least one usable key.
pub(super) async fn fetch_key_set<F: Fetch>(
    fetcher: &F,
) -> Result<(JwkSet, HeaderMap), FetchError> {
    let response = fetcher.fetch().await?;
    if !response.status.is_success() {
        return Err(FetchError::Status(response.status));
    }
    let set = JwkSet::parse(&response.body)?;
    if set.is_empty() {
        return Err(FetchError::NoUsableKeys { skipped: set.skipped().len() });
    }
    Ok((set, response.headers))
}
