//! Finding token candidates in request headers (docs/compatibility.md section 2).

use std::borrow::Cow;

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};
use jwtgate_config::TokenLocation;

/// The distinct token locations the configured secrets read, each with an index.
#[derive(Debug)]
pub(crate) struct Locations {
    all: Vec<TokenLocation>,
    authorization: Option<usize>,
    cookies: Vec<(String, usize)>,
    custom_headers: Vec<(String, usize)>,
}

/// A token found at a location some secret reads.
#[derive(Debug)]
pub(crate) struct Candidate<'h> {
    /// Index into [`Locations`].
    pub(crate) location: usize,
    /// The token bytes, or `None` for a malformed `Authorization` header.
    pub(crate) token: Option<Cow<'h, [u8]>>,
}

impl Locations {
    pub(crate) fn new<'a>(locations: impl IntoIterator<Item = &'a TokenLocation>) -> Self {
        let mut this = Self {
            all: Vec::new(),
            authorization: None,
            cookies: Vec::new(),
            custom_headers: Vec::new(),
        };
        for location in locations {
            if this.all.contains(location) {
                continue;
            }
            let index = this.all.len();
            match location {
                TokenLocation::Authorization => this.authorization = Some(index),
                TokenLocation::Cookie { name } => this.cookies.push((name.clone(), index)),
                TokenLocation::CustomHeader { name } => {
                    this.custom_headers.push((name.clone(), index));
                }
            }
            this.all.push(location.clone());
        }
        this
    }

    /// A location in words, for an explanation: `the Authorization header`, `cookie <name>`,
    /// `header <name>`.
    pub(crate) fn describe(&self, index: usize) -> String {
        match self.all.get(index) {
            Some(TokenLocation::Authorization) => "the Authorization header".to_owned(),
            Some(TokenLocation::Cookie { name }) => format!("cookie {name}"),
            Some(TokenLocation::CustomHeader { name }) => format!("header {name}"),
            None => "an unknown location".to_owned(),
        }
    }

    /// Every location, in words.
    pub(crate) fn describe_all(&self) -> String {
        (0..self.all.len()).map(|index| self.describe(index)).collect::<Vec<_>>().join(", ")
    }

    /// The index of a location.
    pub(crate) fn index_of(&self, location: &TokenLocation) -> usize {
        self.all.iter().position(|known| known == location).unwrap_or(usize::MAX)
    }

    /// Calls `found` for each candidate, in header order (section 2.2): every `Authorization`
    /// header (when a secret reads it), every expected cookie, every configured custom header.
    pub(crate) fn scan<'h>(&self, headers: &'h HeaderMap, mut found: impl FnMut(Candidate<'h>)) {
        if let Some(location) = self.authorization {
            for value in headers.get_all(AUTHORIZATION) {
                found(Candidate {
                    location,
                    token: bearer_token(value.as_bytes()).map(Cow::Borrowed),
                });
            }
        }
        if !self.cookies.is_empty() {
            for value in headers.get_all(COOKIE) {
                for (name, token) in cookie_pairs(value.as_bytes()) {
                    if let Some(&(_, location)) =
                        self.cookies.iter().find(|(wanted, _)| wanted.as_bytes() == name)
                    {
                        found(Candidate { location, token: Some(url_decode(token)) });
                    }
                }
            }
        }
        for (name, location) in &self.custom_headers {
            // A custom header named Authorization or Cookie never matches (section 2.2).
            if name == "authorization" || name == "cookie" {
                continue;
            }
            for value in headers.get_all(name.as_str()) {
                found(Candidate {
                    location: *location,
                    token: Some(Cow::Borrowed(value.as_bytes())),
                });
            }
        }
    }
}

/// Char8 `isSpace`: what Hasura's `words` splits on.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0xa0)
}

/// `Bearer <token>` split on Char8 whitespace: exactly two words, the first exactly `Bearer`.
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    // The usual shape: a token of visible ASCII (so no whitespace), checked in one pass without
    // an early exit, which the compiler vectorises.
    if let Some(token) = value.strip_prefix(b"Bearer ")
        && !token.is_empty()
        && token.iter().fold(true, |visible, &byte| visible & (byte.wrapping_sub(0x21) < 0x5e))
    {
        return Some(token);
    }
    let mut words = value.split(|&byte| is_space(byte)).filter(|word| !word.is_empty());
    match (words.next(), words.next(), words.next()) {
        (Some(b"Bearer"), Some(token), None) => Some(token),
        _ => None,
    }
}

/// Cookie pairs: split on `;`, then at the first `=`; leading spaces of the name dropped; a
/// segment without `=` is a cookie with an empty value.
fn cookie_pairs(value: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    value.split(|&byte| byte == b';').map(|segment| {
        let start = segment.iter().position(|&byte| byte != b' ').unwrap_or(segment.len());
        let segment = segment.get(start..).unwrap_or_default();
        match segment.iter().position(|&byte| byte == b'=') {
            Some(at) => {
                (segment.get(..at).unwrap_or_default(), segment.get(at + 1..).unwrap_or_default())
            }
            None => (segment, &[][..]),
        }
    })
}

/// URL-decodes a cookie value: `+` is a space, `%XX` a byte; anything else stays as it is.
fn url_decode(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.iter().any(|&byte| byte == b'+' || byte == b'%') {
        return Cow::Borrowed(value);
    }
    let hex = |byte: u8| char::from(byte).to_digit(16).and_then(|digit| u8::try_from(digit).ok());
    let mut decoded = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => decoded.push(b' '),
            b'%' => match (tail.first().copied().and_then(hex), tail.get(1).copied().and_then(hex))
            {
                (Some(high), Some(low)) => {
                    decoded.push(high << 4 | low);
                    rest = tail.get(2..).unwrap_or_default();
                }
                _ => decoded.push(b'%'),
            },
            other => decoded.push(other),
        }
    }
    Cow::Owned(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_rules() {
        assert_eq!(bearer_token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"  Bearer \t abc  "), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"Bearer\xa0abc"), Some(&b"abc"[..]));
        for malformed in [&b"bearer abc"[..], b"Basic abc", b"Bearer", b"Bearer a b", b"", b"abc"] {
            assert_eq!(bearer_token(malformed), None, "{}", String::from_utf8_lossy(malformed));
        }
    }

    #[test]
    fn cookie_rules() {
        let pairs: Vec<_> = cookie_pairs(b"a=1;  b=x=y; flag; c=").collect();
        assert_eq!(pairs, [(&b"a"[..], &b"1"[..]), (b"b", b"x=y"), (b"flag", b""), (b"c", b"")]);
        assert_eq!(&*url_decode(b"a%2Eb+c%zz%4"), b"a.b c%zz%4");
        assert_eq!(&*url_decode(b"\"quoted\""), b"\"quoted\"", "D14: quotes are kept");
    }
}
