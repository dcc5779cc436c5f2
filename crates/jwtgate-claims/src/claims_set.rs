//! A token's claims set, parsed once and borrowed from the payload text.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use jwtgate_config::json_type::{JsonType, ShapeError};

use crate::session::Text;

/// The registered claim names of RFC 7519. Hasura's library keeps them out of the
/// "unregistered claims" that `claims_namespace` and `claims_namespace_path` look in.
pub const REGISTERED_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// A JWT claims set: the payload's members in document order, each value left as unparsed JSON
/// text borrowed from the payload.
///
/// Parsing it once lets the verifier read the registered claims and the claims resolver read
/// the namespace without building a [`Value`] of the whole payload.
#[derive(Debug, Clone)]
pub struct ClaimsSet<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> ClaimsSet<'a> {
    /// Parses a payload that must be a JSON object.
    pub fn parse(payload: &'a str) -> Result<Self, ClaimsSetError> {
        match serde_json::from_str(payload) {
            Ok(Members(members)) => Ok(Self { members }),
            // Valid JSON that is not an object gets aeson's type error; anything else is not
            // JSON at all.
            Err(_) => match serde_json::from_str::<de::IgnoredAny>(payload) {
                Ok(_) => Err(ClaimsSetError::NotAnObject(JsonType::of_json_text(payload))),
                Err(_) => Err(ClaimsSetError::InvalidJson),
            },
        }
    }

    /// The value of a member, exact name; of repeated names the last counts, as in `serde_json`
    /// and aeson.
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.members.iter().rev().find(|(key, _)| key == name).map(|&(_, value)| value)
    }

    /// The registered claims' values in [`REGISTERED_CLAIMS`] order, read in one pass (of
    /// repeated names the last counts, as in [`Self::get`]).
    pub fn registered(&self) -> [Option<&'a RawValue>; 7] {
        let mut found = [None; 7];
        for (name, value) in &self.members {
            if let Some(at) = REGISTERED_CLAIMS.iter().position(|claim| claim == name)
                && let Some(slot) = found.get_mut(at)
            {
                *slot = Some(*value);
            }
        }
        found
    }

    /// Every member in document order, repeats included.
    pub fn members(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        self.members.iter().map(|(key, value)| (key.as_ref(), *value))
    }

    /// The members that are not registered claims.
    pub fn unregistered(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        self.members().filter(|(key, _)| !REGISTERED_CLAIMS.contains(key))
    }

    /// The unregistered claims as one object (what `claims_namespace_path` is evaluated on).
    pub fn unregistered_value(&self) -> Value {
        to_object(self.unregistered())
    }

    /// The whole claims set as Hasura's library re-encodes it for `claims_map` paths: registered
    /// claims included, and a one-element `aud` array rendered as a plain string
    /// (docs/compatibility.md 4.3.4).
    pub fn to_value(&self) -> Value {
        self.to_value_of(None)
    }

    /// [`Self::to_value`] with only the members `names` lists (all of them for `None`): what a
    /// set of paths starting with those names can reach, without parsing the rest.
    pub fn to_value_of(&self, names: Option<&[&str]>) -> Value {
        let wanted = |name: &str| names.is_none_or(|names| names.contains(&name));
        let mut value = to_object(self.members().filter(|(name, _)| wanted(name)));
        if let Some(aud) = value.get_mut("aud")
            && let Value::Array(items) = aud
            && items.len() == 1
        {
            *aud = items.pop().unwrap_or(Value::Null);
        }
        value
    }
}

/// A raw JSON string's text, borrowed when it has no escapes; `None` when `raw` is not a
/// string. The text was validated while parsing, so an unescaped one needs no second reading.
pub fn raw_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    text_of(raw.get())
}

/// [`raw_text`] of validated JSON text.
pub(crate) fn text_of(text: &str) -> Option<Cow<'_, str>> {
    if let Some(inner) = text.strip_prefix('"').and_then(|text| text.strip_suffix('"'))
        && !inner.as_bytes().contains(&b'\\')
    {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<Text<'_>>(text).ok().map(|Text(text)| text)
}

/// Why a payload is not a JWT claims set; `Display` is the text inside Hasura's
/// `JWTClaimsSetDecodeError "..."` (aeson's words, docs/compatibility.md Appendix A).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsSetError {
    /// The payload is not JSON.
    #[error("Error in $: Failed reading: not a valid json value")]
    InvalidJson,
    /// The payload is JSON but not an object.
    #[error("parsing JWT Claims Set failed, expected Object, but encountered {0}")]
    NotAnObject(JsonType),
    /// A registered claim of the wrong JSON type (`parsing StringOrURI failed, ...`).
    #[error("Error in $.{claim}: {error}")]
    WrongType {
        /// The claim's name.
        claim: &'static str,
        /// aeson's type error.
        error: ShapeError,
    },
    /// An `iss`, `sub` or `aud` string with a `:` that is not a URI.
    #[error("Error in $.{claim}: failed to parse StringOrURI")]
    NotStringOrUri {
        /// The claim's name.
        claim: &'static str,
    },
}

fn to_object<'k>(members: impl Iterator<Item = (&'k str, &'k RawValue)>) -> Value {
    let mut object = Map::new();
    for (key, raw) in members {
        // The text was validated while parsing, so it always parses again.
        let value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        // Remove first so a repeated name takes its last position as well as its last value.
        object.shift_remove(key);
        object.insert(key.to_owned(), value);
    }
    Value::Object(object)
}

/// The members of a JSON object, in document order, with values left as raw text.
pub(crate) struct Members<'a>(pub(crate) Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(Key(key)) = map.next_key()? {
            let value: &'de RawValue = map.next_value()?;
            members.push((key, value));
        }
        Ok(Members(members))
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}
