//! Parsers and evaluators never panic, whatever the input.

use std::collections::BTreeMap;

use ow_metrics::math::{self, Series, Value};
use ow_metrics::*;
use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("m1".to_string()),
        Just("m2".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just("+".to_string()),
        Just("-".to_string()),
        Just("*".to_string()),
        Just("/".to_string()),
        Just("^".to_string()),
        Just(">=".to_string()),
        Just("AND".to_string()),
        Just("SUM".to_string()),
        Just("FILL".to_string()),
        Just("RATE".to_string()),
        Just("IF".to_string()),
        Just("METRICS".to_string()),
        Just("REPEAT".to_string()),
        Just("LINEAR".to_string()),
        Just("SORT".to_string()),
        Just("'x'".to_string()),
        Just("0".to_string()),
        Just("1e308".to_string()),
        "[a-zA-Z0-9_ .'\"%]{0,4}".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn math_never_panics(tokens in proptest::collection::vec(token(), 0..30)) {
        let src = tokens.join(" ");
        let mut vars = BTreeMap::new();
        let s = |pts: &[(i64, f64)]| Series { label: "s".into(), period_s: 60, points: pts.iter().copied().collect() };
        vars.insert("m1".to_string(), Value::Series(s(&[(0, 1.0), (60_000, 0.0)])));
        vars.insert("m2".to_string(), Value::Series(s(&[(120_000, -3.0)])));
        let ids = vec!["m1".to_string(), "m2".to_string()];
        if let Ok(e) = math::parse(&src) {
            let env = math::Env { vars: &vars, metric_ids: &ids, start_ms: 0, end_ms: 300_000, period_s: 60 };
            let _ = math::eval(&e, &env);
        }
    }

    #[test]
    fn rules_and_statistics_never_panic(s in "[A-Z_()\" a-z:0-9%.]{0,60}") {
        let _ = Rule::parse(&s);
        let _ = ExtendedStatistic::parse(&s).map(|e| e.compute(&[(1.0, 2.0), (3.0, 1.0)]));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    assert!(math::parse(&format!("{}m1{}", "(".repeat(1000), ")".repeat(1000))).is_err());
    assert!(math::parse(&vec!["1"; 1000].join("^")).is_err());
    assert!(math::parse(&"-".repeat(1000)).is_err());
    assert!(Rule::parse(&format!("{}TRUE", "NOT ".repeat(5000))).is_err());
    assert!(Rule::parse(&format!("{}TRUE{}", "(".repeat(5000), ")".repeat(5000))).is_err());
}
