//! The JWT `StringOrURI` type (RFC 7519 section 2), read as Hasura's `jose` library reads it.

/// Whether `value` is a valid `StringOrURI`.
///
/// A string with no `:` is taken as it is; a string with a `:` must be an RFC 3986 URI (a scheme,
/// then the rest), else jose rejects it with `failed to parse StringOrURI`
/// (docs/compatibility.md 3.6.4).
/// This applies to the configured `issuer` and `audience` and to a token's `iss`, `sub` and `aud`.
pub fn is_string_or_uri(value: &str) -> bool {
    !value.contains(':') || fluent_uri::Uri::parse(value).is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_string_or_uri;

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
