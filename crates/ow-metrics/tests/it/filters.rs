//! Metric filters: validation, evaluation (literal/extracted values, dimensions, defaultValue),
//! TestMetricFilter, DescribeMetricFilters, persistence.

use std::collections::BTreeMap;

use ow_metrics::*;

fn tr(value: &str) -> MetricTransformation {
    MetricTransformation {
        metric_name: "Bytes".into(),
        metric_namespace: "Web".into(),
        metric_value: value.into(),
        default_value: None,
        dimensions: BTreeMap::new(),
        unit: None,
    }
}

fn input(group: &str, name: &str, pattern: &str, t: MetricTransformation) -> PutMetricFilterInput {
    PutMetricFilterInput {
        log_group_name: Some(group.into()),
        filter_name: Some(name.into()),
        filter_pattern: Some(pattern.into()),
        metric_transformations: vec![t],
        apply_on_transformed_logs: false,
    }
}

#[test]
fn validation_errors() {
    let set = MetricFilterSet::in_memory(MetricFilterLimits::default());
    let code = |i: PutMetricFilterInput| set.put_metric_filter(&i, 0).unwrap_err();
    let e = code(input("g", "a:b", "", tr("1")));
    assert_eq!(e.aws_error().0, "InvalidParameterException");
    assert_eq!(e.to_string(), "1 validation error detected: Value 'a:b' at 'filterName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*");
    assert_eq!(
        code(input("g", "f", "{ $.a = ", tr("1"))).aws_error().0,
        "InvalidParameterException"
    );
    assert_eq!(
        code(input(
            "g",
            "f",
            "ERROR",
            MetricTransformation {
                metric_name: "a$b".into(),
                ..tr("1")
            }
        ))
        .aws_error()
        .0,
        "InvalidParameterException"
    );
    // $.field needs a JSON pattern; $name must be a field of the space-delimited pattern.
    assert!(code(input("g", "f", "ERROR", tr("$.bytes")))
        .to_string()
        .contains("need a JSON filter pattern"));
    assert!(code(input("g", "f", "[ip, bytes]", tr("$size")))
        .to_string()
        .contains("no field named size"));
    let mut t = tr("1");
    t.dimensions.insert("Host".into(), "$.host".into());
    t.default_value = Some(0.0);
    assert!(code(input("g", "f", "{ $.a = 1 }", t))
        .to_string()
        .contains("cannot have both dimensions and a defaultValue"));
    let mut t = tr("1");
    for k in ["a", "b", "c", "d"] {
        t.dimensions.insert(k.into(), format!("$.{k}"));
    }
    assert_eq!(
        code(input("g", "f", "{ $.a = 1 }", t)).aws_error().0,
        "LimitExceededException"
    );
    let mut i = input("g", "f", "ERROR", tr("1"));
    i.metric_transformations.push(tr("1"));
    assert_eq!(code(i).aws_error().0, "InvalidParameterException");
    assert_eq!(
        code(input(
            "g",
            "f",
            "ERROR",
            MetricTransformation {
                unit: Some("Parsecs".into()),
                ..tr("1")
            }
        ))
        .aws_error()
        .0,
        "InvalidParameterException"
    );

    // 100 filters per group; regex patterns at most 5 per group.
    let limits = MetricFilterLimits {
        max_filters_per_log_group: 3,
        ..Default::default()
    };
    let small = MetricFilterSet::in_memory(limits);
    for n in 0..3 {
        small
            .put_metric_filter(&input("g", &format!("f{n}"), "ERROR", tr("1")), 0)
            .unwrap();
    }
    assert_eq!(
        small
            .put_metric_filter(&input("g", "f3", "ERROR", tr("1")), 0)
            .unwrap_err()
            .aws_error()
            .0,
        "LimitExceededException"
    );
    small
        .put_metric_filter(&input("g", "f1", "WARN", tr("1")), 0)
        .unwrap(); // replacing is fine
    for n in 0..5 {
        set.put_metric_filter(&input("r", &format!("re{n}"), "%ERR[0-9]%", tr("1")), 0)
            .unwrap();
    }
    assert_eq!(
        set.put_metric_filter(&input("r", "re5", "%WARN%", tr("1")), 0)
            .unwrap_err()
            .aws_error()
            .0,
        "LimitExceededException"
    );
}

#[test]
fn apply_values_dimensions_and_default() {
    let set = MetricFilterSet::in_memory(MetricFilterLimits::default());
    // Space-delimited with an extracted value and a dimension.
    let mut t = tr("$bytes");
    t.dimensions.insert("Status".into(), "$status".into());
    t.unit = Some("Bytes".into());
    set.put_metric_filter(
        &input("web", "bytes", "[ip, user, method, path, status, bytes]", t),
        0,
    )
    .unwrap();
    // Term pattern with a default value.
    set.put_metric_filter(
        &input(
            "web",
            "errors",
            "ERROR",
            MetricTransformation {
                metric_name: "Errors".into(),
                default_value: Some(0.0),
                ..tr("1")
            },
        ),
        0,
    )
    .unwrap();
    // JSON with $.field value.
    set.put_metric_filter(
        &input(
            "web",
            "latency",
            "{ $.latency > 0 }",
            MetricTransformation {
                metric_name: "Latency".into(),
                ..tr("$.latency")
            },
        ),
        0,
    )
    .unwrap();
    let events = [
        (1_000, "10.0.0.1 frank GET /a 200 1534"),
        (2_000, "ERROR disk full"),
        (3_000, "10.0.0.2 - GET /b 404 not-a-number"),
        (4_000, r#"{"latency": 12.5}"#),
        (5_000, r#"{"latency": "7"}"#),
    ];
    let data = set.apply("web", &events);
    let got: Vec<(String, i64, f64, Vec<(String, String)>)> = data
        .iter()
        .map(|d| {
            (
                d.metric.metric_name.clone(),
                d.timestamp_ms,
                d.value,
                d.metric
                    .dimensions
                    .iter()
                    .map(|x| (x.name.clone(), x.value.clone()))
                    .collect(),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        vec![
            (s("Bytes"), 1_000, 1534.0, vec![(s("Status"), s("200"))]),
            (s("Errors"), 1_000, 0.0, vec![]),
            (s("Errors"), 2_000, 1.0, vec![]),
            // 3_000: bytes is not numeric → no Bytes data point; Errors default
            (s("Errors"), 3_000, 0.0, vec![]),
            (s("Errors"), 4_000, 0.0, vec![]),
            (s("Latency"), 4_000, 12.5, vec![]),
            (s("Errors"), 5_000, 0.0, vec![]),
            (s("Latency"), 5_000, 7.0, vec![]),
        ]
    );
    assert_eq!(data[0].unit.as_deref(), Some("Bytes"));
    assert!(set.apply("other", &events).is_empty());
    assert!(set.has_filters("web") && !set.has_filters("other"));
}

#[test]
fn test_metric_filter_and_describe() {
    let limits = MetricFilterLimits::default();
    let m = test_metric_filter(
        "[ip, user, ..., status = 4*, bytes]",
        &[
            "10.0.0.1 frank GET /a 404 1534".into(),
            "10.0.0.1 frank GET /a 200 10".into(),
        ],
        &limits,
    )
    .unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].event_number, 1);
    assert_eq!(
        m[0].extracted_values.get("$bytes").map(String::as_str),
        Some("1534")
    );
    assert_eq!(
        m[0].extracted_values.get("$status").map(String::as_str),
        Some("404")
    );
    let m = test_metric_filter(
        r#"{ $.user.id = 2 }"#,
        &[r#"{"user":{"id":2}}"#.into()],
        &limits,
    )
    .unwrap();
    assert_eq!(
        m[0].extracted_values.get("$.user.id").map(String::as_str),
        Some("2")
    );
    assert_eq!(
        test_metric_filter("ERROR", &[], &limits)
            .unwrap_err()
            .aws_error()
            .0,
        "InvalidParameterException"
    );
    assert_eq!(
        test_metric_filter("ERROR", &vec!["x".to_string(); 51], &limits)
            .unwrap_err()
            .aws_error()
            .0,
        "InvalidParameterException"
    );

    let dir = tempfile::tempdir().unwrap();
    {
        let set = MetricFilterSet::open(dir.path(), limits.clone()).unwrap();
        set.put_metric_filter(&input("a", "f1", "ERROR", tr("1")), 10)
            .unwrap();
        set.put_metric_filter(
            &input(
                "a",
                "f2",
                "WARN",
                MetricTransformation {
                    metric_name: "Warn".into(),
                    ..tr("1")
                },
            ),
            20,
        )
        .unwrap();
        set.put_metric_filter(&input("b", "f1", "X", tr("2")), 30)
            .unwrap();
        set.delete_metric_filter("b", "f1").unwrap();
        assert_eq!(
            set.delete_metric_filter("b", "f1").unwrap_err().to_string(),
            "The specified metric filter does not exist."
        );
        assert_eq!(
            set.delete_metric_filter("b", "f1")
                .unwrap_err()
                .aws_error()
                .0,
            "ResourceNotFoundException"
        );
    }
    let set = MetricFilterSet::open(dir.path(), limits).unwrap();
    let (all, next) = set
        .describe_metric_filters(&DescribeMetricFiltersInput::default())
        .unwrap();
    assert!(next.is_none());
    assert_eq!(
        all.iter()
            .map(|f| (
                f.log_group_name.as_str(),
                f.filter_name.as_str(),
                f.creation_time
            ))
            .collect::<Vec<_>>(),
        vec![("a", "f1", 10), ("a", "f2", 20)]
    );
    let (p1, t1) = set
        .describe_metric_filters(&DescribeMetricFiltersInput {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    let (p2, t2) = set
        .describe_metric_filters(&DescribeMetricFiltersInput {
            limit: Some(1),
            next_token: t1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        (p1[0].filter_name.as_str(), p2[0].filter_name.as_str(), t2),
        ("f1", "f2", None)
    );
    let (w, _) = set
        .describe_metric_filters(&DescribeMetricFiltersInput {
            metric_name: Some("Warn".into()),
            metric_namespace: Some("Web".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(w.len(), 1);
    assert!(set
        .describe_metric_filters(&DescribeMetricFiltersInput {
            filter_name_prefix: Some("f".into()),
            ..Default::default()
        })
        .is_err());
    assert!(set
        .describe_metric_filters(&DescribeMetricFiltersInput {
            metric_name: Some("Warn".into()),
            ..Default::default()
        })
        .is_err());
    assert_eq!(set.apply("a", &[(5, "ERROR WARN")]).len(), 2);
    set.delete_log_group("a").unwrap();
    assert!(set.apply("a", &[(5, "ERROR WARN")]).is_empty());
}
