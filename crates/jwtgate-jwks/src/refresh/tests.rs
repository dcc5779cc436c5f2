//! Decision D2 as a table: one row per rule and per sentence of the documentation's "Rotating
//! JWKs" section (Hasura's documentation page), no clock and no socket.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::{CACHE_CONTROL, EXPIRES, HeaderValue};

use super::*;

/// Tue, 14 Nov 2023 22:13:20 GMT.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn imf(offset_secs: i64) -> String {
    let at = if offset_secs >= 0 {
        now() + Duration::from_secs(offset_secs.unsigned_abs())
    } else {
        now() - Duration::from_secs(offset_secs.unsigned_abs())
    };
    httpdate::fmt_http_date(at)
}

/// (source, Cache-Control lines, Expires, refreshing, next fetch in seconds or never, rule)
type Row = (&'static str, &'static [&'static str], Option<String>, bool, Option<u64>, Rule);

const START: bool = false;
const LATER: bool = true;

#[test]
#[expect(clippy::too_many_lines, reason = "one row per rule and per documented sentence")]
fn every_rule_of_d2_and_every_documented_sentence() {
    use Rule::*;
    let rows: Vec<Row> = vec![
        // Documentation, "JWK procedure on startup" 1.1 and "However, if max-age is not
        // specified or if no-cache or no-store are present, then it will refresh the JWKs once
        // every minute" (D2 rule 1).
        ("doc: no-cache at startup → once a minute", &["no-cache"], None, START, Some(60), NoCache),
        ("doc: no-store → once a minute", &["no-store"], None, START, Some(60), NoCache),
        (
            "D2 1: no-cache with an argument counts",
            &["no-cache=\"Set-Cookie\""],
            None,
            START,
            Some(60),
            NoCache,
        ),
        ("D2 1: no-cache beats max-age", &["max-age=10, no-cache"], None, START, Some(60), NoCache),
        (
            "D2 1: no-store beats must-revalidate",
            &["must-revalidate, max-age=10, no-store"],
            None,
            START,
            Some(60),
            NoCache,
        ),
        ("D2 1: no-cache while running", &["no-cache"], None, LATER, Some(60), NoCache),
        // "If must-revalidate and max-age are present, then it will refresh the JWK again after
        // the time period specified in max-age has passed" (D2 rule 2).
        (
            "doc: must-revalidate with max-age",
            &["must-revalidate, max-age=10"],
            None,
            START,
            Some(10),
            MustRevalidate,
        ),
        (
            "D2 2: must-revalidate with s-maxage",
            &["s-maxage=30, must-revalidate"],
            None,
            START,
            Some(30),
            MustRevalidate,
        ),
        (
            "doc: must-revalidate without max-age → once a minute",
            &["must-revalidate"],
            None,
            START,
            Some(60),
            MustRevalidate,
        ),
        (
            "D2 2: must-revalidate with max-age=0 → sub-second rule",
            &["must-revalidate, max-age=0"],
            None,
            START,
            Some(60),
            MustRevalidate,
        ),
        // Startup 1.2 / running 1.1: "try to parse an max-age or s-maxage directive" and "use
        // that parsed time to refetch the JWKs again" (D2 rule 3).
        ("doc: max-age", &["max-age=10"], None, START, Some(10), MaxAge),
        ("doc: s-maxage", &["s-maxage=20"], None, START, Some(20), MaxAge),
        ("doc running: max-age", &["public, max-age=300"], None, LATER, Some(300), MaxAge),
        (
            "D2: the first of max-age and s-maxage counts",
            &["max-age=10, s-maxage=20"],
            None,
            START,
            Some(10),
            MaxAge,
        ),
        (
            "D2: the first of s-maxage and max-age counts",
            &["s-maxage=20, max-age=10"],
            None,
            START,
            Some(20),
            MaxAge,
        ),
        (
            "D2: field lines read as one list",
            &["public", "max-age=15"],
            None,
            START,
            Some(15),
            MaxAge,
        ),
        (
            "D2: directive names are case-insensitive",
            &["Max-Age=12"],
            None,
            START,
            Some(12),
            MaxAge,
        ),
        ("D2: quoted delta-seconds", &["max-age=\"60\""], None, START, Some(60), MaxAge),
        (
            "D2: a malformed directive hides nothing (two spaces)",
            &["public,  max-age=10"],
            None,
            START,
            Some(10),
            MaxAge,
        ),
        (
            "D2: a malformed directive hides nothing (bad token)",
            &["x y, max-age=11"],
            None,
            START,
            Some(11),
            MaxAge,
        ),
        (
            "D2: commas inside a quoted string",
            &["private=\"a, max-age=5\", max-age=7"],
            None,
            START,
            Some(7),
            MaxAge,
        ),
        (
            "D2: an invalid max-age is ignored, the next one counts",
            &["max-age=abc, s-maxage=30"],
            None,
            START,
            Some(30),
            MaxAge,
        ),
        (
            "D2: a value above 2^31 counts as 2^31",
            &["max-age=99999999999999999999999"],
            None,
            START,
            Some(MAX_AGE_CAP),
            MaxAge,
        ),
        ("D2: max-age beats Expires", &["max-age=10"], Some(imf(3600)), START, Some(10), MaxAge),
        // "If the parsed time is less than a second, the JWKs will be fetched once per minute
        // regardless"; D2: 1 s or more is used as given.
        ("doc: max-age=0 → once a minute", &["max-age=0"], None, START, Some(60), MaxAge),
        ("D2: max-age=1 is used as given", &["max-age=1"], None, START, Some(1), MaxAge),
        // Startup 1.3 / running 1.2: "check if an Expires header is present (if Cache-Control is
        // not present), and try to parse the value as a timestamp" (D2 rule 4).
        ("doc: Expires in the future", &[], Some(imf(3600)), START, Some(3600), Expires),
        (
            "doc: Cache-Control without a timing directive falls to Expires",
            &["public"],
            Some(imf(120)),
            START,
            Some(120),
            Expires,
        ),
        ("doc running: Expires", &[], Some(imf(90)), LATER, Some(90), Expires),
        (
            "D2: Expires in the past → sub-second rule",
            &[],
            Some(imf(-3600)),
            START,
            Some(60),
            Expires,
        ),
        ("D2: Expires equal to now → sub-second rule", &[], Some(imf(0)), START, Some(60), Expires),
        (
            "D2: Expires one second ahead is used as given",
            &[],
            Some(imf(1)),
            START,
            Some(1),
            Expires,
        ),
        (
            "D2: Expires in RFC 850 form",
            &[],
            Some("Tuesday, 14-Nov-23 23:13:20 GMT".into()),
            START,
            Some(3600),
            Expires,
        ),
        (
            "D2: Expires in asctime form",
            &[],
            Some("Tue Nov 14 23:13:20 2023".into()),
            START,
            Some(3600),
            Expires,
        ),
        (
            "D2: an invalid max-age falls through to Expires",
            &["max-age=lolbroken"],
            Some(imf(60)),
            START,
            Some(60),
            Expires,
        ),
        // "If it is unable to parse those values, then it will not refresh the JWKs (it assumes
        // that if the above headers are not present, the provider doesn't rotate their JWKs)."
        ("doc: no headers at startup → never", &[], None, START, None, NoHeadersAtStartup),
        (
            "D2 5: an unparsable Expires counts as absent",
            &[],
            Some("0".into()),
            START,
            None,
            NoHeadersAtStartup,
        ),
        (
            "D2 5: a malformed Expires at startup → never",
            &[],
            Some("tomorrow".into()),
            START,
            None,
            NoHeadersAtStartup,
        ),
        (
            "D2 5: Cache-Control saying nothing → never",
            &["public, immutable"],
            None,
            START,
            None,
            NoHeadersAtStartup,
        ),
        // Running 2: "If it is unable to parse any values, then it will sleep for one minute and
        // then start another refresh cycle."
        (
            "doc running: no headers → one minute",
            &[],
            None,
            LATER,
            Some(60),
            NoHeadersWhileRefreshing,
        ),
        (
            "doc running: malformed Expires → one minute",
            &[],
            Some("garbage".into()),
            LATER,
            Some(60),
            NoHeadersWhileRefreshing,
        ),
        (
            "doc running: negative max-age → one minute",
            &["max-age=-5"],
            None,
            LATER,
            Some(60),
            NoHeadersWhileRefreshing,
        ),
    ];
    let mut failures = Vec::new();
    for (source, cache_control, expires, refreshing, next, rule) in &rows {
        let mut headers = HeaderMap::new();
        for line in *cache_control {
            headers.append(CACHE_CONTROL, HeaderValue::from_static(line));
        }
        if let Some(expires) = expires {
            headers.append(EXPIRES, HeaderValue::from_str(expires).unwrap());
        }
        let decision = after_success(&headers, now(), *refreshing);
        let expected =
            next.map_or(NextFetch::Never, |secs| NextFetch::After(Duration::from_secs(secs)));
        if decision.next != expected || decision.rule != *rule {
            failures.push(format!(
                "{}: got {:?} by {:?}, expected {expected:?} by {:?}",
                source, decision.next, decision.rule, rule
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn the_sub_second_rule_is_reported() {
    let mut headers = HeaderMap::new();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=0"));
    assert!(after_success(&headers, now(), false).raised_from_sub_second);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=1"));
    assert!(!after_success(&headers, now(), false).raised_from_sub_second);
}

#[test]
fn a_sub_second_expires_becomes_a_minute() {
    let mut headers = HeaderMap::new();
    headers.insert(EXPIRES, HeaderValue::from_str(&imf(1)).unwrap());
    let almost_there = now() + Duration::from_millis(500);
    let decision = after_success(&headers, almost_there, false);
    assert_eq!(decision.next, NextFetch::After(FALLBACK_DELAY));
    assert!(decision.raised_from_sub_second);
}

#[test]
fn failures_back_off_from_one_second_doubling_to_a_minute() {
    let delays: Vec<u64> = (0..=9).map(|failures| after_failure(failures).as_secs()).collect();
    assert_eq!(delays, [1, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    assert_eq!(after_failure(u32::MAX), FALLBACK_DELAY);
}

#[test]
fn directives_parse_on_their_own() {
    let parsed = CacheDirectives::parse("No-Store, must-revalidate, s-maxage=5, max-age=9");
    assert_eq!(
        parsed,
        CacheDirectives {
            no_cache: false,
            no_store: true,
            must_revalidate: true,
            max_age: Some(Duration::from_secs(5)),
        }
    );
    assert_eq!(CacheDirectives::parse(""), CacheDirectives::default());
    assert_eq!(CacheDirectives::parse(",,, ,"), CacheDirectives::default());
    assert_eq!(CacheDirectives::parse("max-age="), CacheDirectives::default());
}

mod properties {
    //! `CacheDirectives::parse` is total, and on well-formed lists agrees with a plain model.

    use proptest::prelude::*;

    use super::*;

    /// A directive as a provider might send it: a name in any case, maybe an argument.
    fn directive() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("no-cache"),
            Just("no-store"),
            Just("must-revalidate"),
            Just("max-age"),
            Just("s-maxage"),
            Just("public"),
            Just("private"),
            Just("stale-while-revalidate"),
        ];
        let argument = prop_oneof![
            Just(None),
            (0_u64..100_000).prop_map(|seconds| Some(seconds.to_string())),
            (0_u64..100_000).prop_map(|seconds| Some(format!("\"{seconds}\""))),
            Just(Some("99999999999999999999999".to_owned())),
            "[a-z0-9 ,\"-]{0,6}".prop_map(|text| Some(format!("\"{}\"", text.replace('"', "")))),
            "-?[a-z0-9.]{1,4}".prop_map(Some),
        ];
        (name, any::<bool>(), argument).prop_map(|(name, upper, argument)| {
            let name = if upper { name.to_ascii_uppercase() } else { name.to_owned() };
            match argument {
                Some(argument) => format!("{name}={argument}"),
                None => name,
            }
        })
    }

    /// What D2 reads from a list of well-formed directives, written plainly.
    fn model(directives: &[String]) -> CacheDirectives {
        let mut expected = CacheDirectives::default();
        for directive in directives {
            let (name, argument) = directive.split_once('=').unwrap_or((directive, ""));
            let name = name.to_ascii_lowercase();
            expected.no_cache |= name == "no-cache";
            expected.no_store |= name == "no-store";
            expected.must_revalidate |= name == "must-revalidate";
            if (name == "max-age" || name == "s-maxage") && expected.max_age.is_none() {
                let digits = argument.trim_matches('"');
                if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
                    let seconds = digits.parse::<u64>().unwrap_or(MAX_AGE_CAP).min(MAX_AGE_CAP);
                    expected.max_age = Some(Duration::from_secs(seconds));
                }
            }
        }
        expected
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn any_value_parses_within_the_cap(value in any::<String>()) {
            let directives = CacheDirectives::parse(&value);
            prop_assert!(directives.max_age.is_none_or(|age| age.as_secs() <= MAX_AGE_CAP));
        }

        #[test]
        fn well_formed_lists_agree_with_the_model(
            directives in proptest::collection::vec(directive(), 0..6),
            separator in prop_oneof![Just(","), Just(", "), Just(" ,\t"), Just(",,")],
        ) {
            let line = directives.join(separator);
            prop_assert_eq!(CacheDirectives::parse(&line), model(&directives), "{}", line);
        }

        #[test]
        fn field_lines_read_as_one_list(
            first in proptest::collection::vec(directive(), 0..4),
            second in proptest::collection::vec(directive(), 0..4),
        ) {
            let mut headers = HeaderMap::new();
            for line in [first.join(", "), second.join(", ")] {
                headers.append(CACHE_CONTROL, HeaderValue::from_str(&line).unwrap_or(HeaderValue::from_static("")));
            }
            let joined = [first, second].concat();
            prop_assert_eq!(CacheDirectives::from_headers(&headers), model(&joined));
        }

        #[test]
        fn a_fetch_is_never_scheduled_sooner_than_a_second(
            cache_control in proptest::option::of(any::<String>()),
            expires_in in proptest::option::of(-100_000_i64..100_000),
            refreshing in any::<bool>(),
        ) {
            let mut headers = HeaderMap::new();
            if let Some(value) = cache_control.and_then(|value| HeaderValue::from_str(&value).ok()) {
                headers.insert(CACHE_CONTROL, value);
            }
            if let Some(offset) = expires_in {
                headers.insert(EXPIRES, HeaderValue::from_str(&imf(offset)).unwrap_or(HeaderValue::from_static("")));
            }
            let decision = after_success(&headers, now(), refreshing);
            if let NextFetch::After(delay) = decision.next {
                prop_assert!(delay >= MINIMUM_DELAY, "{decision:?}");
            }
        }
    }
}
