//! Reading JSON text that `serde_json` has already validated (a member of a parsed claims set):
//! each member's bounds are found by scanning for quotes and brackets, not by validating again.
//! Text that was not validated must never come here.

use std::borrow::Cow;

/// The members of the object `text` holds, in document order, each value as its JSON text;
/// `None` when `text` is not an object.
pub(crate) fn object_members(text: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
    let bytes = text.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_whitespace(bytes, at + 1);
    let mut members = Vec::with_capacity(8);
    if bytes.get(at) == Some(&b'}') {
        return Some(members);
    }
    loop {
        let key_end = string_end(bytes, at)?;
        let key = text.get(at..key_end)?;
        let key = match key.get(1..key.len() - 1) {
            Some(inner) if !inner.as_bytes().contains(&b'\\') => Cow::Borrowed(inner),
            _ => Cow::Owned(serde_json::from_str::<String>(key).ok()?),
        };
        // The colon, then the value.
        at = skip_whitespace(bytes, skip_whitespace(bytes, key_end) + 1);
        let value_end = value_end(bytes, at)?;
        members.push((key, text.get(at..value_end)?));
        at = skip_whitespace(bytes, value_end);
        match bytes.get(at) {
            Some(b',') => at = skip_whitespace(bytes, at + 1),
            Some(b'}') => return Some(members),
            _ => return None,
        }
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The index after the closing quote of the string starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'"') {
        return None;
    }
    let mut at = start + 1;
    loop {
        at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        match bytes.get(at) {
            Some(b'"') => return Some(at + 1),
            // An escape: the next byte is never the string's end.
            _ => at += 2,
        }
    }
}

/// The index after the value starting at `start`.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match bytes.get(start)? {
        b'"' => string_end(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = start;
            loop {
                match bytes.get(at)? {
                    b'"' => {
                        at = string_end(bytes, at)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        // A number, `true`, `false` or `null`: up to the next delimiter.
        _ => {
            let rest = bytes.get(start..)?;
            let length = rest
                .iter()
                .position(|byte| matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(rest.len());
            Some(start + length)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::object_members;
    use crate::claims_set::Members;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            "[\"\\\\{}\\[\\],: a-z]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec(("[\"\\\\a-z:{ ]{0,6}", inner), 0..5)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// Whitespace between tokens, as a token issuer may write it.
    fn spaced(text: &str, spaces: &[u8]) -> String {
        let mut out = String::new();
        let mut in_string = false;
        let mut escaped = false;
        for (index, ch) in text.chars().enumerate() {
            out.push(ch);
            if in_string {
                match (escaped, ch) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
            } else if ch == '"' {
                in_string = true;
            } else if matches!(ch, '{' | '[' | ',' | ':') {
                let pick = spaces.get(index % spaces.len().max(1)).copied().unwrap_or(0);
                out.push_str(["", " ", "\n\t", "\r\n  "][usize::from(pick % 4)]);
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The scan reads the same members as serde_json does.
        #[test]
        fn the_scan_reads_what_serde_json_reads(
            value in json_value(),
            spaces in proptest::collection::vec(any::<u8>(), 1..8),
        ) {
            let text = spaced(&value.to_string(), &spaces);
            let scanned = object_members(&text);
            let parsed = serde_json::from_str::<Members<'_>>(&text).ok();
            let parsed = parsed.map(|Members(members)| {
                members.into_iter().map(|(key, raw)| (key, raw.get())).collect::<Vec<_>>()
            });
            prop_assert_eq!(scanned, parsed, "{}", text);
        }
    }
}
