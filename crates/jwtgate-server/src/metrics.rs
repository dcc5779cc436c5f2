//! Prometheus metrics in text format 0.0.4 (docs/server.md `/metrics`).

use std::collections::HashMap;
use std::sync::Mutex;

use jwtgate_core::{AuthError, CacheStats};

use crate::app::Configuration;
use prometheus::{
    Encoder as _, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// The metrics and their registry.
pub(crate) struct Metrics {
    registry: Registry,
    verifications: IntCounterVec,
    /// The success series and the histogram, resolved once: the hot path hashes no labels.
    successes: IntCounter,
    duration: Histogram,
    jwks_fetches: IntCounterVec,
    jwks_keys: IntGaugeVec,
    cache_hits: IntCounter,
    cache_misses: IntCounter,
    connections_rejected: IntCounter,
    reloads: IntCounterVec,
    denials: IntCounterVec,
    /// What the scrape-time counters have already been advanced to.
    exported: Mutex<Exported>,
}

#[derive(Default)]
struct Exported {
    cache: CacheStats,
    /// (ok, error) fetch counts per JWKS URL.
    fetches: HashMap<String, (u64, u64)>,
}

impl Metrics {
    #[expect(clippy::too_many_lines, reason = "a table: one definition per metric")]
    pub(crate) fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let verifications = registered(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "jwtgate_verifications_total",
                    "Authentications by outcome and Hasura error code (\"\" on success).",
                ),
                &["outcome", "code"],
            )?,
        )?;
        let duration = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "jwtgate_verification_duration_seconds",
                    "Time to answer an authentication request.",
                )
                .buckets(vec![
                    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001,
                    0.005, 0.025,
                ]),
                &[],
            )?,
        )?;
        let jwks_fetches = registered(
            &registry,
            IntCounterVec::new(
                Opts::new("jwtgate_jwks_fetches_total", "JWKS fetches by URL and result."),
                &["url", "result"],
            )?,
        )?;
        let jwks_keys = registered(
            &registry,
            IntGaugeVec::new(
                Opts::new("jwtgate_jwks_keys", "Usable keys held per JWKS URL."),
                &["url"],
            )?,
        )?;
        let cache_hits = registered(
            &registry,
            IntCounter::new(
                "jwtgate_token_cache_hits_total",
                "Requests answered from the verified-token cache.",
            )?,
        )?;
        let cache_misses = registered(
            &registry,
            IntCounter::new(
                "jwtgate_token_cache_misses_total",
                "Cacheable requests the verified-token cache did not answer.",
            )?,
        )?;
        let connections_rejected = registered(
            &registry,
            IntCounter::new(
                "jwtgate_connections_rejected_total",
                "Connections closed at once because --max-connections were open.",
            )?,
        )?;
        let reloads = registered(
            &registry,
            IntCounterVec::new(
                Opts::new("jwtgate_config_reloads_total", "Configuration reloads by result."),
                &["result"],
            )?,
        )?;
        let denials = registered(
            &registry,
            IntCounterVec::new(
                Opts::new("jwtgate_denials_total", "Denials by Hasura error code and reason."),
                &["code", "reason"],
            )?,
        )?;
        let successes = verifications.with_label_values(&["success", ""]);
        let duration = duration.with_label_values(&[] as &[&str]);
        Ok(Self {
            registry,
            verifications,
            successes,
            duration,
            jwks_fetches,
            jwks_keys,
            cache_hits,
            cache_misses,
            connections_rejected,
            reloads,
            denials,
            exported: Mutex::default(),
        })
    }

    /// Counts one authentication answer: a success, or a denial by code and reason.
    pub(crate) fn record(&self, denial: Option<&AuthError>, seconds: f64) {
        match denial {
            None => self.successes.inc(),
            Some(error) => {
                let code = error.code();
                self.verifications.with_label_values(&["failure", code]).inc();
                self.denials.with_label_values(&[code, error.reason()]).inc();
            }
        }
        self.duration.observe(seconds);
    }

    /// Counts a connection refused by `--max-connections`.
    pub(crate) fn count_rejected_connection(&self) {
        self.connections_rejected.inc();
    }

    /// Counts a configuration reload, applied or refused.
    pub(crate) fn count_reload(&self, ok: bool) {
        self.reloads.with_label_values(&[if ok { "ok" } else { "error" }]).inc();
    }

    /// A reload put `next` in place of `old`: `old`'s counts are exported for good, and `next`'s
    /// cache and new fetchers count from zero; key sets no longer configured leave the gauge.
    pub(crate) fn replaced(&self, old: &Configuration, next: &Configuration) {
        self.refresh(old);
        let mut exported = self.exported.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        exported.cache = CacheStats::default();
        for key_set in next.key_sets() {
            if !old.key_sets().iter().any(|kept| kept.is_same(key_set)) {
                exported.fetches.insert(key_set.status().url, (0, 0));
            }
        }
        for key_set in old.key_sets() {
            let url = key_set.status().url;
            if !next.key_sets().iter().any(|kept| kept.status().url == url) {
                let _ = self.jwks_keys.remove_label_values(&[url.as_str()]);
            }
        }
    }

    /// The text exposition, after bringing the scrape-time values up to date.
    pub(crate) fn render(&self, configuration: &Configuration) -> String {
        self.refresh(configuration);
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics; an error leaves what was written.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8_lossy(&buffer).into_owned()
    }

    fn refresh(&self, configuration: &Configuration) {
        let mut exported = self.exported.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let cache = configuration.authenticator().cache_stats();
        self.cache_hits.inc_by(cache.hits.saturating_sub(exported.cache.hits));
        self.cache_misses.inc_by(cache.misses.saturating_sub(exported.cache.misses));
        exported.cache = cache;
        for key_set in configuration.key_sets() {
            let status = key_set.status();
            let (ok, error) = exported.fetches.entry(status.url.clone()).or_default();
            let url = status.url.as_str();
            self.jwks_fetches
                .with_label_values(&[url, "ok"])
                .inc_by(status.fetches_ok.saturating_sub(*ok));
            self.jwks_fetches
                .with_label_values(&[url, "error"])
                .inc_by(status.fetches_failed.saturating_sub(*error));
            *ok = status.fetches_ok;
            *error = status.fetches_failed;
            self.jwks_keys
                .with_label_values(&[status.url.as_str()])
                .set(i64::try_from(status.keys).unwrap_or(i64::MAX));
        }
    }
}

/// `metric`, registered in `registry`.
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> Result<M, prometheus::Error> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}
