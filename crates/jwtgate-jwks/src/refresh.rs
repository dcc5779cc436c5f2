//! When to fetch a `jwk_url` again: decision D2 as pure functions of the response and `now`.
//!
//! No clock, no socket: the fetcher passes the response headers and the moment the response
//! arrived, and gets back the delay to the next fetch and the rule that chose it.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use http::{HeaderMap, HeaderValue, header::CACHE_CONTROL};
//! use jwtgate_jwks::refresh::{self, NextFetch, Rule};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert(CACHE_CONTROL, HeaderValue::from_static("must-revalidate, max-age=300"));
//! let decision = refresh::after_success(&headers, SystemTime::UNIX_EPOCH, false);
//! assert_eq!(decision.next, NextFetch::After(Duration::from_secs(300)));
//! assert_eq!(decision.rule, Rule::MustRevalidate);
//! ```

mod schedule;

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use http::header::{CACHE_CONTROL, EXPIRES};
pub use schedule::{KidRefetch, Schedule, Trigger};

/// The delay of the one-minute fallback (rules 1, 2, 5 and the sub-second rule).
pub const FALLBACK_DELAY: Duration = Duration::from_mins(1);
/// Delays below this become [`FALLBACK_DELAY`] (the documentation's sub-second rule).
pub const MINIMUM_DELAY: Duration = Duration::from_secs(1);
/// The largest `max-age` / `s-maxage` honoured (RFC 9111 5.1: 2^31).
pub const MAX_AGE_CAP: u64 = 2_147_483_648;
/// The first retry delay after a failed fetch; it doubles up to [`FALLBACK_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Which rule of D2 decided the next fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// 1: `no-cache` or `no-store`.
    NoCache,
    /// 2: `must-revalidate` (with its `max-age` / `s-maxage`, else the fallback).
    MustRevalidate,
    /// 3: `max-age` or `s-maxage`.
    MaxAge,
    /// 4: `Expires`.
    Expires,
    /// 5: nothing usable, after the startup fetch: the provider is taken not to rotate.
    NoHeadersAtStartup,
    /// 5: nothing usable, after a later fetch: the keys were already refreshing.
    NoHeadersWhileRefreshing,
}

/// When to fetch next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextFetch {
    /// After this delay, counted from the response's arrival.
    After(Duration),
    /// Never (until something else asks, see D6).
    Never,
}

/// The outcome of [`after_success`]: the next fetch and the rule that chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// When to fetch next.
    pub next: NextFetch,
    /// The rule of D2 that applied.
    pub rule: Rule,
    /// Whether the sub-second rule replaced a delay under one second with a minute.
    pub raised_from_sub_second: bool,
}

/// The next fetch after a successful fetch whose response carried `headers` and arrived at `now`.
///
/// `refreshing` says whether the keys were already refreshing (a timed fetch was scheduled
/// before this one); it matters only for rule 5.
pub fn after_success(headers: &HeaderMap, now: SystemTime, refreshing: bool) -> Decision {
    let directives = CacheDirectives::from_headers(headers);
    let (rule, delay) = if directives.no_cache || directives.no_store {
        (Rule::NoCache, Some(FALLBACK_DELAY))
    } else if directives.must_revalidate {
        (Rule::MustRevalidate, Some(directives.max_age.unwrap_or(FALLBACK_DELAY)))
    } else if let Some(max_age) = directives.max_age {
        (Rule::MaxAge, Some(max_age))
    } else if let Some(expires) = expires(headers) {
        (Rule::Expires, Some(expires.duration_since(now).unwrap_or(Duration::ZERO)))
    } else if refreshing {
        (Rule::NoHeadersWhileRefreshing, Some(FALLBACK_DELAY))
    } else {
        (Rule::NoHeadersAtStartup, None)
    };
    match delay {
        None => Decision { next: NextFetch::Never, rule, raised_from_sub_second: false },
        Some(delay) if delay < MINIMUM_DELAY => {
            Decision { next: NextFetch::After(FALLBACK_DELAY), rule, raised_from_sub_second: true }
        }
        Some(delay) => {
            Decision { next: NextFetch::After(delay), rule, raised_from_sub_second: false }
        }
    }
}

/// The delay before retrying after `consecutive_failures` failed fetches in a row (1, 2, 4 ...
/// seconds, at most a minute). The last good key set is kept meanwhile.
pub fn after_failure(consecutive_failures: u32) -> Duration {
    let exponent = consecutive_failures.saturating_sub(1).min(6);
    (FIRST_RETRY_DELAY * (1 << exponent)).min(FALLBACK_DELAY)
}

/// The `Cache-Control` directives D2 reads, from every field line as one list (RFC 9110 5.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheDirectives {
    /// `no-cache`, with or without an argument.
    pub no_cache: bool,
    /// `no-store`, with or without an argument.
    pub no_store: bool,
    /// `must-revalidate`.
    pub must_revalidate: bool,
    /// The first valid `max-age` or `s-maxage`, in header order, capped at [`MAX_AGE_CAP`].
    pub max_age: Option<Duration>,
}

impl CacheDirectives {
    /// Reads every `Cache-Control` field line of `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut directives = Self::default();
        for line in headers.get_all(CACHE_CONTROL) {
            directives.read_line(&String::from_utf8_lossy(line.as_bytes()));
        }
        directives
    }

    /// Reads one `Cache-Control` field value.
    pub fn parse(value: &str) -> Self {
        let mut directives = Self::default();
        directives.read_line(value);
        directives
    }

    /// Adds one field line's directives. A malformed directive is skipped; the others count.
    fn read_line(&mut self, line: &str) {
        for element in split_list(line) {
            let (name, argument) = match element.split_once('=') {
                Some((name, argument)) => (name.trim_end(), Some(argument.trim_start())),
                None => (element, None),
            };
            if !is_token(name) {
                continue;
            }
            let name = name.to_ascii_lowercase();
            match name.as_str() {
                "no-cache" => self.no_cache = true,
                "no-store" => self.no_store = true,
                "must-revalidate" => self.must_revalidate = true,
                "max-age" | "s-maxage" if self.max_age.is_none() => {
                    self.max_age = argument.and_then(delta_seconds);
                }
                _ => {}
            }
        }
    }
}

/// Splits a list field value at commas outside quoted strings; drops empty elements.
fn split_list(line: &str) -> impl Iterator<Item = &str> {
    let mut elements = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, byte) in line.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_quotes => escaped = true,
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                elements.push(line.get(start..index).unwrap_or_default());
                start = index + 1;
            }
            _ => {}
        }
    }
    elements.push(line.get(start..).unwrap_or_default());
    elements.into_iter().map(|element| element.trim_matches([' ', '\t'])).filter(|e| !e.is_empty())
}

/// RFC 9110 `token`: one or more tchar.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// `delta-seconds` (RFC 9111 1.2.2), also in quoted form; values over 2^31 count as 2^31.
fn delta_seconds(argument: &str) -> Option<Duration> {
    let digits =
        argument.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).unwrap_or(argument);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    // All digits: a parse failure can only be overflow, which the cap covers.
    let seconds = digits.parse::<u64>().unwrap_or(MAX_AGE_CAP).min(MAX_AGE_CAP);
    Some(Duration::from_secs(seconds))
}

/// The first `Expires` field, when it is an HTTP date in any of RFC 9110's three formats.
fn expires(headers: &HeaderMap) -> Option<SystemTime> {
    let value = headers.get(EXPIRES)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok()
}

#[cfg(test)]
mod tests;
