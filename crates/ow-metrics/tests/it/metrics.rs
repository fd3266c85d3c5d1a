//! PutMetricData validation, GetMetricStatistics / GetMetricData / ListMetrics with
//! hand-worked values, and the durable log.

use std::io::Write;
use std::sync::Arc;

use ow_metrics::*;

use crate::*;

fn store(now: i64) -> (Arc<FakeClock>, MetricStore) {
    let clock = Arc::new(FakeClock::new(now));
    let s = MetricStore::in_memory(MetricLimits::default(), clock.clone());
    (clock, s)
}

fn err_code(s: &MetricStore, ns: Option<&str>, data: Vec<MetricDatumInput>) -> (String, String) {
    let e = s
        .put_metric_data(&PutMetricDataInput {
            namespace: ns.map(str::to_string),
            metric_data: data,
            entity_metric_data_count: 0,
        })
        .unwrap_err();
    (e.aws_error().1.to_string(), e.to_string())
}

#[test]
fn put_metric_data_validation() {
    let (_, s) = store(T0);
    let d = || datum("M", T0, 1.0);
    assert_eq!(
        err_code(&s, None, vec![d()]),
        (
            "MissingParameter".into(),
            "The parameter Namespace is required.".into()
        )
    );
    assert_eq!(
        err_code(&s, Some("AWS/EC2"), vec![d()]),
        (
            "InvalidParameterValue".into(),
            "The value AWS/EC2 for parameter Namespace is invalid.".into()
        )
    );
    assert_eq!(
        err_code(&s, Some(":x"), vec![d()]).0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(&s, Some(&"n".repeat(256)), vec![d()]).0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                metric_name: None,
                ..d()
            }]
        ),
        (
            "MissingParameter".into(),
            "The parameter MetricData.member.1.MetricName is required.".into()
        )
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![
                d(),
                MetricDatumInput {
                    value: Some(f64::NAN),
                    ..d()
                }
            ]
        ),
        (
            "InvalidParameterValue".into(),
            "The value NaN for parameter MetricData.member.2.Value is invalid.".into()
        )
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                value: Some(f64::INFINITY),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                value: Some(2f64.powi(361)),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(&s, Some("A"), vec![MetricDatumInput { statistic_values: Some(StatisticSet { sample_count: 1.0, sum: 1.0, minimum: 1.0, maximum: 1.0 }), ..d() }]),
        (
            "InvalidParameterCombination".into(),
            "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.".into()
        )
    );
    assert_eq!(
        err_code(&s, Some("A"), vec![MetricDatumInput { value: None, ..d() }]).0,
        "MissingParameter"
    );
    assert_eq!(
        err_code(&s, Some("A"), vec![MetricDatumInput { value: None, values: Some(vec![1.0, 2.0]), counts: Some(vec![1.0]), ..d() }]),
        ("InvalidParameterValue".into(), "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size.".into())
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                value: None,
                values: Some(vec![1.0; 151]),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                timestamp_ms: Some(T0 - 15 * 86_400_000),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                timestamp_ms: Some(T0 + 3 * 3_600_000),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                unit: Some("Hours".into()),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                storage_resolution: Some(5),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                dimensions: (0..31)
                    .map(|i| Dimension::new(format!("d{i}"), "v"))
                    .collect(),
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                dimensions: vec![Dimension::new("d", "")],
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                dimensions: vec![Dimension::new("d", "a"), Dimension::new("d", "b")],
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(&s, Some("A"), (0..1001).map(|_| d()).collect()).0,
        "InvalidParameterValue"
    );
    assert_eq!(
        err_code(
            &s,
            Some("A"),
            vec![MetricDatumInput {
                statistic_values: Some(StatisticSet {
                    sample_count: 2.0,
                    sum: 3.0,
                    minimum: 5.0,
                    maximum: 1.0
                }),
                value: None,
                ..d()
            }]
        )
        .0,
        "InvalidParameterValue"
    );
    // A rejected request stored nothing (the valid first datum of the NaN request included).
    assert!(s
        .list_metrics(&ListMetricsInput::default())
        .unwrap()
        .metrics
        .is_empty());
}

fn gms(
    s: &MetricStore,
    stats: &[&str],
    ext: &[&str],
    period: i64,
    start: i64,
    end: i64,
) -> GetMetricStatisticsOutput {
    s.get_metric_statistics(&GetMetricStatisticsInput {
        namespace: Some("App".into()),
        metric_name: Some("Latency".into()),
        dimensions: vec![Dimension::new("Service", "api")],
        start_time_ms: Some(start),
        end_time_ms: Some(end),
        period_s: Some(period),
        statistics: stats.iter().map(|x| x.to_string()).collect(),
        extended_statistics: ext.iter().map(|x| x.to_string()).collect(),
        unit: None,
    })
    .unwrap()
}

#[test]
fn get_metric_statistics_hand_worked() {
    let (_, s) = store(T0 + 10 * MIN);
    let dim = vec![Dimension::new("Service", "api")];
    let mk = |ts: i64, v: f64| MetricDatumInput {
        dimensions: dim.clone(),
        unit: Some("Milliseconds".into()),
        ..datum("Latency", ts, v)
    };
    put(
        &s,
        "App",
        vec![
            // minute 0: 10, 20, 30 (and 40 ×2 via Values/Counts)
            mk(T0 + 1_000, 10.0),
            mk(T0 + 2_000, 20.0),
            mk(T0 + 3_000, 30.0),
            MetricDatumInput {
                value: None,
                values: Some(vec![40.0]),
                counts: Some(vec![2.0]),
                ..mk(T0 + 4_000, 0.0)
            },
            // minute 1: a statistic set (count 4, sum 10, min 1, max 4)
            MetricDatumInput {
                value: None,
                statistic_values: Some(StatisticSet {
                    sample_count: 4.0,
                    sum: 10.0,
                    minimum: 1.0,
                    maximum: 4.0,
                }),
                ..mk(T0 + MIN + 5_000, 0.0)
            },
            // minute 3: one value with another dimension order (same metric)
            mk(T0 + 3 * MIN, 7.0),
        ],
    );
    let out = gms(
        &s,
        &["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
        &[],
        60,
        T0 + 30_000,
        T0 + 5 * MIN,
    );
    assert_eq!(out.label, "Latency");
    // StartTime rounds down to the minute: T0.
    let rows: Vec<(i64, f64, f64, f64, f64, f64)> = out
        .datapoints
        .iter()
        .map(|d| {
            (
                d.timestamp_ms - T0,
                d.sample_count.unwrap(),
                d.average.unwrap(),
                d.sum.unwrap(),
                d.minimum.unwrap(),
                d.maximum.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (0, 5.0, 28.0, 140.0, 10.0, 40.0), // (10+20+30+40+40)/5 = 28
            (MIN, 4.0, 2.5, 10.0, 1.0, 4.0),
            (3 * MIN, 1.0, 7.0, 7.0, 7.0, 7.0),
        ]
    );
    assert!(out.datapoints.iter().all(|d| d.unit == "Milliseconds"));

    // 300 s period: everything in one datapoint: count 10, sum 157.
    let out = gms(&s, &["SampleCount", "Sum"], &[], 300, T0, T0 + 5 * MIN);
    assert_eq!(out.datapoints.len(), 1);
    assert_eq!(
        (out.datapoints[0].sample_count, out.datapoints[0].sum),
        (Some(10.0), Some(157.0))
    );
    assert_eq!(out.datapoints[0].average, None);

    // Percentiles (nearest rank): minute 0 values 10,20,30,40,40 → p50 = 30, p80 = 40, p20 = 10;
    // TM(20%:80%) keeps ranks 2..4 → (20+30+40)/3 = 30. Minute 1 is a statistic set that is not
    // a repeated value → no extended statistics there.
    let out = gms(
        &s,
        &[],
        &["p50", "p80", "p20", "TM(20%:80%)", "PR(:25)"],
        60,
        T0,
        T0 + 2 * MIN,
    );
    let e0 = &out.datapoints[0].extended_statistics;
    assert_eq!(e0.get("p50"), Some(&30.0));
    assert_eq!(e0.get("p80"), Some(&40.0));
    assert_eq!(e0.get("p20"), Some(&10.0));
    assert_eq!(e0.get("TM(20%:80%)"), Some(&30.0));
    assert_eq!(e0.get("PR(:25)"), Some(&40.0)); // 10 and 20 of 5 values
                                                // Minute 1 (the statistic set) has no datapoint at all (see qa_gms_extended_on_statistic_set).
    assert_eq!(out.datapoints.len(), 1);

    // Unit filter and per-unit datapoints.
    put(
        &s,
        "App",
        vec![MetricDatumInput {
            dimensions: dim.clone(),
            unit: Some("Seconds".into()),
            ..datum("Latency", T0 + 3 * MIN + 1, 0.5)
        }],
    );
    let out = gms(&s, &["Sum"], &[], 60, T0 + 3 * MIN, T0 + 4 * MIN);
    let mut units: Vec<(String, f64)> = out
        .datapoints
        .iter()
        .map(|d| (d.unit.clone(), d.sum.unwrap()))
        .collect();
    units.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        units,
        vec![("Milliseconds".into(), 7.0), ("Seconds".into(), 0.5)]
    );
    let only = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            namespace: Some("App".into()),
            metric_name: Some("Latency".into()),
            dimensions: dim.clone(),
            start_time_ms: Some(T0),
            end_time_ms: Some(T0 + 5 * MIN),
            period_s: Some(300),
            statistics: vec!["Sum".into()],
            unit: Some("Seconds".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        only.datapoints
            .iter()
            .map(|d| d.sum.unwrap())
            .collect::<Vec<_>>(),
        vec![0.5]
    );

    // Dimensions must match the full set: no dimensions = another metric.
    let none = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            namespace: Some("App".into()),
            metric_name: Some("Latency".into()),
            start_time_ms: Some(T0),
            end_time_ms: Some(T0 + 5 * MIN),
            period_s: Some(60),
            statistics: vec!["Sum".into()],
            ..Default::default()
        })
        .unwrap();
    assert!(none.datapoints.is_empty());
}

#[test]
fn get_metric_statistics_rules() {
    let (clock, s) = store(T0);
    let base = || GetMetricStatisticsInput {
        namespace: Some("App".into()),
        metric_name: Some("M".into()),
        start_time_ms: Some(T0 - 3_600_000),
        end_time_ms: Some(T0),
        period_s: Some(60),
        statistics: vec!["Sum".into()],
        ..Default::default()
    };
    let code = |i: GetMetricStatisticsInput| s.get_metric_statistics(&i).unwrap_err().aws_error().1;
    assert_eq!(
        code(GetMetricStatisticsInput {
            period_s: Some(45),
            ..base()
        }),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(GetMetricStatisticsInput {
            period_s: Some(0),
            ..base()
        }),
        "InvalidParameterValue"
    );
    for bad in [
        GetMetricStatisticsInput {
            period_s: Some(60 * (1 << 40)),
            ..base()
        },
        GetMetricStatisticsInput {
            start_time_ms: Some(i64::MIN),
            ..base()
        },
        GetMetricStatisticsInput {
            end_time_ms: Some(i64::MAX),
            ..base()
        },
    ] {
        assert_eq!(code(bad), "InvalidParameterValue");
    }
    assert_eq!(
        code(GetMetricStatisticsInput {
            statistics: vec![],
            ..base()
        }),
        "MissingParameter"
    );
    assert_eq!(
        code(GetMetricStatisticsInput {
            extended_statistics: vec!["p99".into()],
            ..base()
        }),
        "InvalidParameterCombination"
    );
    assert_eq!(
        code(GetMetricStatisticsInput {
            statistics: vec!["Median".into()],
            ..base()
        }),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(GetMetricStatisticsInput {
            end_time_ms: Some(T0 - 3_600_000),
            ..base()
        }),
        "InvalidParameterValue"
    );
    let e = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            start_time_ms: Some(T0 - 86_400_001),
            ..base()
        })
        .unwrap_err();
    assert_eq!(e.aws_error().1, "InvalidParameterCombination");
    assert!(
        e.to_string().starts_with(
            "You have requested up to 1441 datapoints, which exceeds the limit of 1440."
        ),
        "{e}"
    );
    s.get_metric_statistics(&GetMetricStatisticsInput {
        start_time_ms: Some(T0 - 86_400_000),
        ..base()
    })
    .unwrap();

    // High-resolution data: 10 s periods see only StorageResolution=1 samples, within 3 h.
    put(
        &s,
        "App",
        vec![
            MetricDatumInput {
                storage_resolution: Some(1),
                ..datum("M", T0 - 25_000, 1.0)
            },
            MetricDatumInput {
                storage_resolution: Some(1),
                ..datum("M", T0 - 15_000, 2.0)
            },
            datum("M", T0 - 14_000, 100.0),
        ],
    );
    let hi = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            start_time_ms: Some(T0 - 27_000),
            period_s: Some(10),
            ..base()
        })
        .unwrap();
    // Start rounds down to the 10 s boundary (T0-30 s): buckets T0-30 s (1.0) and T0-20 s (2.0).
    assert_eq!(
        hi.datapoints
            .iter()
            .map(|d| (d.timestamp_ms - T0, d.sum.unwrap()))
            .collect::<Vec<_>>(),
        vec![(-30_000, 1.0), (-20_000, 2.0)]
    );
    let minute = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            start_time_ms: Some(T0 - MIN),
            ..base()
        })
        .unwrap();
    assert_eq!(minute.datapoints[0].sum, Some(103.0));
    clock.set_ms(T0 + 4 * 3_600_000);
    let hi = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            start_time_ms: Some(T0 - 30_000),
            end_time_ms: Some(T0),
            period_s: Some(10),
            ..base()
        })
        .unwrap();
    assert!(
        hi.datapoints.is_empty(),
        "high-resolution data expires after 3 h"
    );
    // Data older than 15 days needs a 300 s multiple.
    clock.set_ms(T0 + 16 * 86_400_000);
    let q = |p: i64| {
        s.get_metric_statistics(&GetMetricStatisticsInput {
            start_time_ms: Some(T0 - 3_600_000),
            end_time_ms: Some(T0),
            period_s: Some(p),
            ..base()
        })
        .unwrap()
    };
    assert!(q(60).datapoints.is_empty());
    assert_eq!(q(300).datapoints[0].sum, Some(103.0));
}

fn stat_query(id: &str, name: &str, stat: &str) -> MetricDataQuery {
    MetricDataQuery {
        id: id.into(),
        metric_stat: Some(MetricStat {
            metric: MetricRef {
                namespace: Some("App".into()),
                metric_name: Some(name.into()),
                dimensions: vec![],
            },
            period: Some(60),
            stat: Some(stat.into()),
            unit: None,
        }),
        ..Default::default()
    }
}

#[test]
fn get_metric_data_math_order_and_pages() {
    let (_, s) = store(T0 + 10 * MIN);
    put(
        &s,
        "App",
        vec![
            datum("Errors", T0 + 1_000, 2.0),
            datum("Errors", T0 + MIN + 1_000, 6.0),
            datum("Requests", T0 + 1_000, 100.0),
            datum("Requests", T0 + MIN + 1_000, 200.0),
            datum("Requests", T0 + 2 * MIN + 1_000, 50.0),
        ],
    );
    let input = GetMetricDataInput {
        metric_data_queries: vec![
            MetricDataQuery {
                return_data: Some(false),
                ..stat_query("errors", "Errors", "Sum")
            },
            stat_query("requests", "Requests", "Sum"),
            MetricDataQuery {
                id: "rate".into(),
                expression: Some("100 * errors / requests".into()),
                label: Some("Error %".into()),
                ..Default::default()
            },
            MetricDataQuery {
                id: "total".into(),
                expression: Some("SUM(METRICS())".into()),
                ..Default::default()
            },
            MetricDataQuery {
                id: "filled".into(),
                expression: Some("FILL(errors, 0)".into()),
                ..Default::default()
            },
        ],
        start_time_ms: Some(T0 + 20_000),
        end_time_ms: Some(T0 + 3 * MIN),
        scan_by: Some("TimestampAscending".into()),
        ..Default::default()
    };
    let out = s.get_metric_data(&input).unwrap();
    let view: Vec<(&str, &str, Vec<i64>, Vec<f64>, &str)> = out
        .metric_data_results
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.label.as_str(),
                r.timestamps_ms.iter().map(|t| (t - T0) / MIN).collect(),
                r.values.clone(),
                r.status_code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        view,
        vec![
            (
                "requests",
                "Requests",
                vec![0, 1, 2],
                vec![100.0, 200.0, 50.0],
                "Complete"
            ),
            // 100*2/100, 100*6/200, 100*0/50 (missing errors count as 0)
            (
                "rate",
                "Error %",
                vec![0, 1, 2],
                vec![2.0, 3.0, 0.0],
                "Complete"
            ),
            (
                "total",
                "total",
                vec![0, 1, 2],
                vec![102.0, 206.0, 50.0],
                "Complete"
            ),
            (
                "filled",
                "filled",
                vec![0, 1, 2],
                vec![2.0, 6.0, 0.0],
                "Complete"
            ),
        ]
    );
    assert!(out.next_token.is_none());

    // Default order: newest first. MaxDatapoints=4 pages through the same results.
    let mut paged = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = s
            .get_metric_data(&GetMetricDataInput {
                scan_by: None,
                max_datapoints: Some(4),
                next_token: token.clone(),
                ..input.clone()
            })
            .unwrap();
        pages += 1;
        for r in out.metric_data_results {
            paged.push((r.id, r.values, r.status_code));
        }
        token = out.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        paged[0],
        (
            "requests".to_string(),
            vec![50.0, 200.0, 100.0],
            "Complete".to_string()
        )
    );
    assert_eq!(
        paged[1],
        ("rate".to_string(), vec![0.0], "PartialData".to_string())
    );
    assert_eq!(
        paged[2],
        ("rate".to_string(), vec![3.0, 2.0], "Complete".to_string())
    );
    let all: usize = paged.iter().map(|p| p.1.len()).sum();
    assert_eq!(all, 12);

    // Errors.
    let bad = |queries: Vec<MetricDataQuery>| {
        s.get_metric_data(&GetMetricDataInput {
            metric_data_queries: queries,
            ..input.clone()
        })
        .unwrap_err()
    };
    assert_eq!(
        bad(vec![stat_query("Bad", "Errors", "Sum")]).aws_error().1,
        "InvalidParameterValue"
    );
    assert_eq!(
        bad(vec![
            stat_query("a", "Errors", "Sum"),
            stat_query("a", "Errors", "Sum")
        ])
        .aws_error()
        .1,
        "InvalidParameterValue"
    );
    assert_eq!(
        bad(vec![MetricDataQuery {
            id: "e".into(),
            ..Default::default()
        }])
        .aws_error()
        .1,
        "MissingParameter"
    );
    let e = bad(vec![MetricDataQuery {
        id: "e".into(),
        expression: Some("AVG(x".into()),
        ..Default::default()
    }]);
    assert!(e.to_string().starts_with("Error in expression e:"), "{e}");
    let e = bad(vec![
        stat_query("m", "Errors", "Sum"),
        MetricDataQuery {
            id: "e".into(),
            expression: Some("AVG(m)".into()),
            ..Default::default()
        },
    ]);
    assert!(e.to_string().contains("must be a time series"), "{e}");
    let e = bad(vec![
        MetricDataQuery {
            id: "a".into(),
            expression: Some("b + 1".into()),
            ..Default::default()
        },
        MetricDataQuery {
            id: "b".into(),
            expression: Some("a + 1".into()),
            ..Default::default()
        },
    ]);
    assert!(e.to_string().contains("circular"), "{e}");
    let e = s
        .get_metric_data(&GetMetricDataInput {
            next_token: Some("x".into()),
            ..input.clone()
        })
        .unwrap_err();
    assert_eq!(e.aws_error().1, "InvalidNextToken");
}

#[test]
fn list_metrics_filters_and_pages() {
    let clock = Arc::new(FakeClock::new(T0));
    let limits = MetricLimits {
        list_metrics_page: 2,
        ..Default::default()
    };
    let s = MetricStore::in_memory(limits, clock.clone());
    let with = |name: &str, dims: &[(&str, &str)]| MetricDatumInput {
        dimensions: dims.iter().map(|(n, v)| Dimension::new(*n, *v)).collect(),
        ..datum(name, T0, 1.0)
    };
    put(
        &s,
        "App",
        vec![
            with("Latency", &[("Service", "api"), ("Stage", "prod")]),
            with("Latency", &[("Service", "web")]),
            with("Errors", &[]),
        ],
    );
    clock.set_ms(T0 + 4 * 3_600_000);
    put(
        &s,
        "Other",
        vec![MetricDatumInput {
            timestamp_ms: None,
            ..with("Errors", &[("Service", "api")])
        }],
    );

    let list = |i: ListMetricsInput| -> Vec<String> {
        let mut out = Vec::new();
        let mut i = i;
        loop {
            let page = s.list_metrics(&i).unwrap();
            assert!(page.metrics.len() <= 2);
            out.extend(page.metrics.iter().map(|m| {
                format!(
                    "{}/{}{:?}",
                    m.namespace,
                    m.metric_name,
                    m.dimensions
                        .iter()
                        .map(|d| format!("{}={}", d.name, d.value))
                        .collect::<Vec<_>>()
                )
            }));
            match page.next_token {
                Some(t) => i.next_token = Some(t),
                None => return out,
            }
        }
    };
    assert_eq!(
        list(ListMetricsInput::default()),
        vec![
            "App/Errors[]",
            "App/Latency[\"Service=api\", \"Stage=prod\"]",
            "App/Latency[\"Service=web\"]",
            "Other/Errors[\"Service=api\"]",
        ]
    );
    assert_eq!(
        list(ListMetricsInput {
            namespace: Some("App".into()),
            metric_name: Some("Latency".into()),
            ..Default::default()
        })
        .len(),
        2
    );
    // A metric with extra dimensions still matches a dimension filter.
    assert_eq!(
        list(ListMetricsInput {
            dimensions: vec![("Service".into(), Some("api".into()))],
            ..Default::default()
        }),
        vec![
            "App/Latency[\"Service=api\", \"Stage=prod\"]",
            "Other/Errors[\"Service=api\"]"
        ]
    );
    assert_eq!(
        list(ListMetricsInput {
            dimensions: vec![("Stage".into(), None)],
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        list(ListMetricsInput {
            recently_active: Some("PT3H".into()),
            ..Default::default()
        }),
        vec!["Other/Errors[\"Service=api\"]"]
    );
    assert_eq!(
        s.list_metrics(&ListMetricsInput {
            recently_active: Some("PT1H".into()),
            ..Default::default()
        })
        .unwrap_err()
        .aws_error()
        .1,
        "InvalidParameterValue"
    );
    assert_eq!(
        s.list_metrics(&ListMetricsInput {
            next_token: Some("zz".into()),
            ..Default::default()
        })
        .unwrap_err()
        .aws_error()
        .1,
        "InvalidNextToken"
    );
}

#[test]
fn durable_log_reload_torn_tail_and_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FakeClock::new(T0 + 5 * MIN));
    let sum = |s: &MetricStore| {
        s.get_metric_statistics(&GetMetricStatisticsInput {
            namespace: Some("App".into()),
            metric_name: Some("M".into()),
            start_time_ms: Some(T0),
            end_time_ms: Some(T0 + 5 * MIN),
            period_s: Some(300),
            statistics: vec!["Sum".into(), "SampleCount".into()],
            ..Default::default()
        })
        .unwrap()
        .datapoints
        .first()
        .map(|d| (d.sum.unwrap(), d.sample_count.unwrap()))
    };
    {
        let s = MetricStore::open(dir.path(), MetricLimits::default(), clock.clone()).unwrap();
        put(
            &s,
            "App",
            vec![datum("M", T0, 1.5), datum("M", T0 + MIN, 2.5)],
        );
        put(
            &s,
            "App",
            vec![MetricDatumInput {
                value: None,
                values: Some(vec![1.0, 2.0]),
                counts: Some(vec![3.0, 1.0]),
                ..datum("M", T0 + 2 * MIN, 0.0)
            }],
        );
        assert_eq!(sum(&s), Some((9.0, 6.0)));
    }
    let path = dir.path().join("metrics.log");
    // A torn record (crash mid-write) is dropped on reopen, and the log is appendable again.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"0badc0de {\"r\":1,\"m\":[")
        .unwrap();
    {
        let s = MetricStore::open(dir.path(), MetricLimits::default(), clock.clone()).unwrap();
        assert_eq!(sum(&s), Some((9.0, 6.0)));
        put(&s, "App", vec![datum("M", T0 + 3 * MIN, 1.0)]);
    }
    let s = MetricStore::open(dir.path(), MetricLimits::default(), clock.clone()).unwrap();
    assert_eq!(sum(&s), Some((10.0, 7.0)));
    drop(s);
    // A flipped byte in a complete record is reported, not skipped.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("1.5", "7.5", 1)).unwrap();
    match MetricStore::open(dir.path(), MetricLimits::default(), clock) {
        Err(MetricsError::Corrupt { line, reason, .. }) => {
            assert_eq!(line, 1);
            assert_eq!(reason, "checksum mismatch");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn compaction_drops_expired_samples_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FakeClock::new(T0));
    let s = MetricStore::open(dir.path(), MetricLimits::default(), clock.clone()).unwrap();
    put(
        &s,
        "App",
        vec![datum("Old", T0 - MIN, 1.0), datum("New", T0, 2.0)],
    );
    // All-zero counts add no sample: no datapoint (not a NaN average).
    put(
        &s,
        "App",
        vec![MetricDatumInput {
            value: None,
            values: Some(vec![5.0]),
            counts: Some(vec![0.0]),
            ..datum("Zero", T0, 0.0)
        }],
    );
    clock.set_ms(T0 + 455 * 86_400_000 - 30_000);
    put(
        &s,
        "App",
        vec![datum("New", T0 + 455 * 86_400_000 - 40_000, 3.0)],
    );
    assert_eq!(s.compact().unwrap(), 1); // "Old" is past 455 days; "New"@T0 is not yet
    put(
        &s,
        "App",
        vec![datum("New", T0 + 455 * 86_400_000 - 35_000, 4.0)],
    );
    drop(s);
    let s = MetricStore::open(dir.path(), MetricLimits::default(), clock.clone()).unwrap();
    let names: Vec<String> = s
        .list_metrics(&ListMetricsInput::default())
        .unwrap()
        .metrics
        .into_iter()
        .map(|m| m.metric_name)
        .collect();
    assert_eq!(names, vec!["New", "Zero"]);
    let out = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            namespace: Some("App".into()),
            metric_name: Some("New".into()),
            start_time_ms: Some(T0 + 455 * 86_400_000 - 3_600_000),
            end_time_ms: Some(T0 + 455 * 86_400_000),
            period_s: Some(3600),
            statistics: vec!["Sum".into(), "SampleCount".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        out.datapoints
            .iter()
            .map(|d| (d.sum.unwrap(), d.sample_count.unwrap()))
            .collect::<Vec<_>>(),
        vec![(7.0, 2.0)]
    );
    let zero = s
        .get_metric_statistics(&GetMetricStatisticsInput {
            namespace: Some("App".into()),
            metric_name: Some("Zero".into()),
            start_time_ms: Some(T0 + 455 * 86_400_000 - 3_600_000 * 24 * 400),
            end_time_ms: Some(T0 + 455 * 86_400_000),
            period_s: Some(86_400),
            statistics: vec!["Average".into()],
            ..Default::default()
        })
        .unwrap();
    assert!(zero.datapoints.is_empty());
}

/// QA finding F: an out-of-range value is printed in its shortest form, not 201 digits.
#[test]
fn qa_put_metric_data_large_value_message() {
    let (_, s) = store(T0);
    assert_eq!(
        err_code(&s, Some("A"), vec![datum("M", T0, 1e200)]),
        (
            "InvalidParameterValue".into(),
            "The value 1e200 for parameter MetricData.member.1.Value is invalid.".into()
        )
    );
    assert_eq!(
        err_code(&s, Some("A"), vec![datum("M", T0, -3.5e120)]).1,
        "The value -3.5e120 for parameter MetricData.member.1.Value is invalid."
    );
}

/// QA finding F: GetMetricStatistics with ExtendedStatistics over a period holding only a
/// statistic set (api.md B.2: extended statistics are not available there) omits that
/// period, as GetMetricData does, instead of a datapoint with only Timestamp and Unit.
#[test]
fn qa_gms_extended_on_statistic_set() {
    let (_, s) = store(T0 + 10 * MIN);
    let dim = vec![Dimension::new("Service", "api")];
    put(
        &s,
        "App",
        vec![
            MetricDatumInput {
                dimensions: dim.clone(),
                value: None,
                statistic_values: Some(StatisticSet {
                    sample_count: 4.0,
                    sum: 10.0,
                    minimum: 1.0,
                    maximum: 4.0,
                }),
                ..datum("Latency", T0 + 5_000, 0.0)
            },
            MetricDatumInput {
                dimensions: dim.clone(),
                ..datum("Latency", T0 + MIN + 5_000, 8.0)
            },
        ],
    );
    let out = gms(&s, &[], &["p50"], 60, T0, T0 + 2 * MIN);
    assert_eq!(out.datapoints.len(), 1, "{:?}", out.datapoints);
    assert_eq!(out.datapoints[0].timestamp_ms, T0 + MIN);
    assert_eq!(out.datapoints[0].extended_statistics.get("p50"), Some(&8.0));
    // The basic statistics of the statistic set are still there.
    let out = gms(&s, &["Sum"], &[], 60, T0, T0 + 2 * MIN);
    assert_eq!(out.datapoints.len(), 2);
    assert_eq!(out.datapoints[0].sum, Some(10.0));
}
