//! The JWT `StringOrURI` type (RFC 7519 section 2), read as Hasura's `jose` library reads it.

/// Whether `value` is a valid `StringOrURI`.
///
/// A string with no `:` is taken as it is; a string with a `:` must be an RFC 3986 URI (a scheme,
/// then the rest), else jose rejects it with `failed to parse StringOrURI`
/// (docs/compatibility.md 3.6.4).
/// This applies to the configured `issuer` and `audience` and to a token's `iss`, `sub` and `aud`.
pub fn is_string_or_uri(value: &str) -> bool {
    !value.as_bytes().contains(&b':')
        || plainly_a_uri(value)
        || fluent_uri::Uri::parse(value).is_ok()
}

/// Byte classes of RFC 3986, one table lookup per byte.
const PLAIN: u8 = 1; // unreserved and sub-delims
const SCHEME: u8 = 2; // ALPHA / DIGIT / "+" / "-" / "."
const PATH: u8 = 4; // plain, ":", "@", "/"
const USERINFO: u8 = 8; // plain, ":"

static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        #[expect(clippy::cast_possible_truncation, reason = "byte < 256")]
        let b = byte as u8;
        let mut class = 0;
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            class |= PLAIN;
        }
        if matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
        {
            class |= PLAIN;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') {
            class |= SCHEME;
        }
        if class & PLAIN != 0 || matches!(b, b':' | b'@' | b'/') {
            class |= PATH;
        }
        if class & PLAIN != 0 || b == b':' {
            class |= USERINFO;
        }
        #[expect(clippy::indexing_slicing, reason = "byte < 256, the table's length")]
        {
            table[byte] = class;
        }
        byte += 1;
    }
    table
};

#[expect(clippy::indexing_slicing, reason = "a 256-entry table indexed by a byte")]
fn all_in(part: &[u8], class: u8) -> bool {
    part.iter().all(|&byte| CLASSES[usize::from(byte)] & class != 0)
}

/// A quick yes for the URIs tokens carry (`https://host[:port]/path`, `urn:a:b`): a scheme, then
/// only characters that need no context (no `%`, `?`, `#`, `[`), an authority of at most one
/// `@` and an all-digit port. `false` means "ask the full parser", never "invalid".
fn plainly_a_uri(value: &str) -> bool {
    let value = value.as_bytes();
    let Some(colon) = memchr::memchr(b':', value) else { return false };
    let (scheme, rest) =
        (value.get(..colon).unwrap_or_default(), value.get(colon + 1..).unwrap_or_default());
    if !scheme.first().is_some_and(u8::is_ascii_alphabetic) || !all_in(scheme, SCHEME) {
        return false;
    }
    let Some(after_slashes) = rest.strip_prefix(b"//") else { return all_in(rest, PATH) };
    let (authority, path) =
        after_slashes.split_at(memchr::memchr(b'/', after_slashes).unwrap_or(after_slashes.len()));
    let (userinfo, host_port) = match memchr::memchr(b'@', authority) {
        Some(at) => {
            (authority.get(..at).unwrap_or_default(), authority.get(at + 1..).unwrap_or_default())
        }
        None => (&[][..], authority),
    };
    let (host, port) = match memchr::memchr(b':', host_port) {
        Some(at) => {
            (host_port.get(..at).unwrap_or_default(), host_port.get(at + 1..).unwrap_or_default())
        }
        None => (host_port, &[][..]),
    };
    all_in(userinfo, USERINFO)
        && all_in(host, PLAIN)
        && port.iter().all(u8::is_ascii_digit)
        && all_in(path, PATH)
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
