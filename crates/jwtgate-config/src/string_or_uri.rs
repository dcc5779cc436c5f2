//! The JWT `StringOrURI` type (RFC 7519 section 2), read as Hasura's `jose` library reads it.

/// Whether `value` is a valid `StringOrURI`.
///
/// A string with no `:` is taken as it is; a string with a `:` must be an RFC 3986 URI (a scheme,
/// then the rest), else jose rejects it with `failed to parse StringOrURI`
/// (docs/compatibility.md 3.6.4).
/// This applies to the configured `issuer` and `audience` and to a token's `iss`, `sub` and `aud`.
pub fn is_string_or_uri(value: &str) -> bool {
    !value.contains(':') || plainly_a_uri(value) || fluent_uri::Uri::parse(value).is_ok()
}

/// A quick yes for the URIs tokens carry (`https://host[:port]/path`, `urn:a:b`): a scheme, then
/// only characters that need no context (no `%`, `?`, `#`, `[`), an authority of at most one
/// `@` and an all-digit port. `false` means "ask the full parser", never "invalid".
fn plainly_a_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else { return false };
    let mut scheme_bytes = scheme.bytes();
    let scheme_ok = scheme_bytes.next().is_some_and(|first| first.is_ascii_alphabetic())
        && scheme_bytes.all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(&byte));
    if !scheme_ok {
        return false;
    }
    // unreserved and sub-delims: allowed everywhere below.
    let plain = |byte: u8| byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&byte);
    let path_ok = |path: &str| path.bytes().all(|byte| plain(byte) || b":@/".contains(&byte));
    let Some(after_slashes) = rest.strip_prefix("//") else { return path_ok(rest) };
    let (authority, path) = after_slashes
        .find('/')
        .map_or((after_slashes, ""), |at| after_slashes.split_at(at));
    let (userinfo, host_port) = match authority.split_once('@') {
        Some((userinfo, host_port)) => (userinfo, host_port),
        None => ("", authority),
    };
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
    userinfo.bytes().all(|byte| plain(byte) || byte == b':')
        && host.bytes().all(plain)
        && port.bytes().all(|byte| byte.is_ascii_digit())
        && path_ok(path)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{is_string_or_uri, plainly_a_uri};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// The quick yes never accepts what the full RFC 3986 parser refuses.
        #[test]
        fn the_quick_yes_is_never_wrong(
            value in prop_oneof![
                "[a-z0-9+.-]{0,6}:(//)?[a-zA-Z0-9:@/._~!$&'()*+,;=%?#\\[\\] -]{0,30}",
                "[a-z]{1,5}://[a-z0-9@:.-]{0,20}(/[a-z0-9:@]{0,8}){0,3}",
                ".{0,24}",
            ]
        ) {
            if plainly_a_uri(&value) {
                prop_assert!(fluent_uri::Uri::parse(value.as_str()).is_ok(), "{value:?}");
            }
        }
    }

    #[test]
    fn the_quick_yes_takes_the_usual_issuers() {
        for usual in [
            "https://securetoken.google.com/my-project",
            "https://tenant.auth0.com/",
            "https://auth.example.com:8443/realms/x",
            "urn:example:animal",
            "http://user:pw@localhost:8080",
        ] {
            assert!(plainly_a_uri(usual), "{usual}");
        }
    }

    #[test]
    fn colon_means_uri() {
        for valid in [
            "myapp-1234",
            "a b c",
            "https://securetoken.google.com/my-project",
            "urn:example:animal",
            "https://tenant.auth0.com/",
            "",
        ] {
            assert!(is_string_or_uri(valid), "{valid}");
        }
        for invalid in
            ["a|b:c", ":nothing", "https://x y", "1http://x", "https://securetoken.google.com/<id>"]
        {
            assert!(!is_string_or_uri(invalid), "{invalid}");
        }
    }
}
