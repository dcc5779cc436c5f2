//! Hasura path grammar, its error text, display encoding and RFC 9535 translation.

use serde_json::json;

use super::*;

#[track_caller]
fn check(input: &str, steps: &[PathStep], display: &str, rfc9535: &str) {
    let path = JsonPath::parse(input).unwrap_or_else(|error| panic!("{input}: {error}"));
    assert_eq!(path.steps(), steps, "steps of {input}");
    assert_eq!(path.hasura_display(), display, "display of {input}");
    assert_eq!(path.rfc9535(), rfc9535, "rfc9535 of {input}");
}

fn key(name: &str) -> PathStep {
    PathStep::Key(name.to_owned())
}

#[test]
fn accepts_hasura_forms() {
    check("$", &[], "$", "$");
    check(
        "$.hasura.claims",
        &[key("hasura"), key("claims")],
        "$.hasura.claims",
        "$['hasura']['claims']",
    );
    check(
        "hasura.claims",
        &[key("hasura"), key("claims")],
        "$.hasura.claims",
        "$['hasura']['claims']",
    );
    check(
        "$.x-hasura-user-id",
        &[key("x-hasura-user-id")],
        "$.x-hasura-user-id",
        "$['x-hasura-user-id']",
    );
    check(
        "$.hasura.all_roles[0]",
        &[key("hasura"), key("all_roles"), PathStep::Index(0)],
        "$.hasura.all_roles[0]",
        "$['hasura']['all_roles'][0]",
    );
    check(
        "$['hasura'].claims",
        &[key("hasura"), key("claims")],
        "$.hasura.claims",
        "$['hasura']['claims']",
    );
    check("$.[\"a.b\"].[007]", &[key("a.b"), PathStep::Index(7)], "$[\"a.b\"][7]", "$['a.b'][7]");
    check("$.user_1", &[key("user_1")], "$.user_1", "$['user_1']");
    check("$._x", &[key("_x")], "$._x", "$['_x']");
    check("$.ユーザー", &[key("ユーザー")], "$[\"ユーザー\"]", "$['ユーザー']");
    check("[0][1]", &[PathStep::Index(0), PathStep::Index(1)], "$[0][1]", "$[0][1]");
    check("$[\"\"]", &[key("")], "$[\"\"]", "$['']");
}

#[test]
fn quoted_keys_use_json_escapes() {
    check(
        r#"$["https://hasura.io/jwt/claims"]"#,
        &[key("https://hasura.io/jwt/claims")],
        r#"$["https://hasura.io/jwt/claims"]"#,
        "$['https://hasura.io/jwt/claims']",
    );
    check(r#"$["a\"b\\c\n"]"#, &[key("a\"b\\c\n")], r#"$["a\"b\\c\n"]"#, r#"$['a"b\\c\n']"#);
    check(r"$['it\'s']", &[key("it's")], r#"$["it's"]"#, r"$['it\'s']");
    check(r#"$['say "hi"']"#, &[key("say \"hi\"")], r#"$["say \"hi\""]"#, r#"$['say "hi"']"#);
    check(
        r#"$["\u0001\b\f"]"#,
        &[key("\u{1}\u{8}\u{c}")],
        r#"$["\u0001\u0008\u000c"]"#,
        r"$['\u0001\b\f']",
    );
    check(r#"$["\u00e9"]"#, &[key("é")], r#"$["é"]"#, "$['é']");
}

#[test]
fn rejects_what_hasura_rejects() {
    for input in [
        "",
        "$$",
        "$.",
        "$..a",
        "$.1abc",
        "$.a b",
        "$[-1]",
        "$[1",
        "$['a]",
        "$[\"a\\q\"]",
        "$.a.",
        "$[*]",
        "$.a[?(@.b)]",
        "$a!",
        "$.a-ß!",
        "$['a'b]",
        "$[\"a\u{1}\"]",
        ".",
    ] {
        let error = JsonPath::parse(input).expect_err(input);
        assert_eq!(
            error.to_string(),
            format!(
                "{input}. Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket ([\"...\"]) if there is any special character"
            )
        );
    }
}

#[test]
fn names_take_unicode_letters_but_only_ascii_digits() {
    assert!(JsonPath::parse("$.αβγ").is_ok());
    assert!(JsonPath::parse("$.a٣").is_err(), "Arabic-Indic digits are not Data.Char.isDigit");
    assert!(JsonPath::parse("$.ⅰ").is_err(), "letter numbers are not letters");
}

#[test]
fn huge_indices_never_match() {
    let path = JsonPath::parse("$.a[9007199254740992]").unwrap();
    assert_eq!(path.rfc9535(), "$['a'][?1==2]");
    let claims = json!({"a": [1, 2, 3]});
    assert_eq!(path.select(&claims), None);
    let in_range = JsonPath::parse("$.a[9007199254740991]").unwrap();
    assert_eq!(in_range.rfc9535(), "$['a'][9007199254740991]");
    let saturated = JsonPath::parse("$[99999999999999999999999999]").unwrap();
    assert_eq!(saturated.steps(), [PathStep::Index(u64::MAX)]);
}

#[test]
fn compiled_query_selects_the_member() {
    let path = JsonPath::parse("$.x-hasura-user-id").unwrap();
    let claims = json!({"x-hasura-user-id": "42"});
    assert_eq!(path.select(&claims), Some(&json!("42")));
}
