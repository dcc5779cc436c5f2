//! Property tests of claims resolution.
//!
//! If one fails, proptest prints the shrunk input and saves it under `proptest-regressions/`:
//! commit that file, turn the case into a fixture under `fixtures/claims/`, and fix the cause.

use std::fmt::Write as _;

use jwtgate_claims::{ClaimsSet, resolve};
use jwtgate_config::{ClaimsFormat, ClaimsSource, JsonPath, Namespace, PathStep};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const NS: &str = "https://hasura.io/jwt/claims";

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((arb_name(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,4}",
        Just("x-hasura-user-id".to_owned()),
        Just("x-hasura-allowed-roles".to_owned()),
        Just("x-hasura-default-role".to_owned()),
        Just(NS.to_owned()),
        Just("a b".to_owned()),
        Just("it's".to_owned()),
        Just("sub".to_owned()),
        Just("aud".to_owned()),
    ]
}

/// A valid Hasura path, built from its steps and written in a random one of Hasura's notations.
fn arb_path() -> impl Strategy<Value = (String, Vec<PathStep>)> {
    let step =
        prop_oneof![arb_name().prop_map(PathStep::Key), (0_u64..4).prop_map(PathStep::Index),];
    (prop::collection::vec((step, 0_u8..3), 0..5), any::<bool>()).prop_map(|(steps, dollar)| {
        let mut text = if dollar || steps.is_empty() { String::from("$") } else { String::new() };
        for (step, notation) in &steps {
            match step {
                PathStep::Index(index) => {
                    let _ = write!(text, "[{index}]");
                }
                PathStep::Key(key) if notation % 3 == 0 && is_plain(key) => {
                    text.push('.');
                    text.push_str(key);
                }
                PathStep::Key(key) if notation % 3 == 1 => {
                    let _ = write!(text, "[{}]", Value::from(key.as_str()));
                }
                PathStep::Key(key) => {
                    let _ =
                        write!(text, "[\'{}\']", key.replace('\\', "\\\\").replace('\'', "\\'"));
                }
            }
        }
        (text, steps.into_iter().map(|(step, _)| step).collect())
    })
}

fn is_plain(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// An independent evaluator of Hasura paths: key steps need objects, index steps arrays.
fn reference_evaluate<'v>(steps: &[PathStep], value: &'v Value) -> Option<&'v Value> {
    steps.iter().try_fold(value, |current, step| match step {
        PathStep::Key(key) => current.as_object()?.get(key),
        PathStep::Index(index) => current.as_array()?.get(usize::try_from(*index).ok()?),
    })
}

fn namespace_source() -> ClaimsSource {
    ClaimsSource::Namespace { namespace: Namespace::Key(NS.to_owned()), format: ClaimsFormat::Json }
}

proptest! {
    #[test]
    fn random_claims_and_paths_never_panic(claims in arb_json(), path in ".{0,24}", role in proptest::option::of("[a-z]{0,4}")) {
        let text = claims.to_string();
        if let Ok(set) = ClaimsSet::parse(&text) {
            let _ = resolve(&set, &namespace_source(), role.as_deref());
            if let Ok(path) = JsonPath::parse(&path) {
                for format in [ClaimsFormat::Json, ClaimsFormat::StringifiedJson] {
                    let source = ClaimsSource::Namespace { namespace: Namespace::Path(path.clone()), format };
                    let _ = resolve(&set, &source, role.as_deref());
                }
            }
        }
    }

    #[test]
    fn serde_json_path_agrees_with_the_reference((text, steps) in arb_path(), claims in arb_json()) {
        let path = JsonPath::parse(&text).unwrap();
        prop_assert_eq!(path.steps(), steps.as_slice());
        let ours = path.select(&claims);
        prop_assert_eq!(ours, reference_evaluate(&steps, &claims), "path {} as {}", text, path.rfc9535());
    }

    #[test]
    fn unrelated_claims_order_and_case_do_not_change_the_session(
        extra in prop::collection::vec(("[a-w]{1,6}", arb_json()), 0..6),
        variables in prop::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{0,5}", 0..5),
        upper in prop::collection::vec(any::<bool>(), 8),
        reverse in any::<bool>(),
    ) {
        let mut hasura: Vec<(String, Value)> = vec![
            ("x-hasura-allowed-roles".to_owned(), json!(["user", "editor"])),
            ("x-hasura-default-role".to_owned(), json!("user")),
        ];
        hasura.extend(variables.iter().map(|(name, value)| (format!("x-hasura-{name}"), json!(value))));
        let plain: Map<String, Value> = hasura.iter().cloned().collect();
        let baseline_text = json!({ NS: plain }).to_string();
        let baseline = resolve(&ClaimsSet::parse(&baseline_text).unwrap(), &namespace_source(), None).unwrap();

        let mut varied = hasura;
        if reverse {
            varied.reverse();
        }
        let varied: Map<String, Value> = varied
            .into_iter()
            .zip(upper.iter().cycle())
            .map(|((name, value), &up)| (if up { name.to_uppercase() } else { name }, value))
            .collect();
        let mut payload: Map<String, Value> = extra.into_iter().collect();
        payload.insert(NS.to_owned(), Value::Object(varied));
        let text = Value::Object(payload).to_string();
        let session = resolve(&ClaimsSet::parse(&text).unwrap(), &namespace_source(), None).unwrap();
        prop_assert_eq!(session, baseline);
    }
}
