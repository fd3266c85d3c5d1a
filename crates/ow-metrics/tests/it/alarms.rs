//! Metric alarms: reasons, reason data, history, validation, DescribeAlarms filters,
//! SetAlarmState, actions enabled/disabled, percentiles with few samples, metric math alarms,
//! persistence.

use std::sync::Arc;

use ow_metrics::*;
use serde_json::{json, Value};

use crate::*;

fn cpu_alarm() -> PutMetricAlarmInput {
    PutMetricAlarmInput {
        alarm_name: Some("cpu-high".into()),
        alarm_description: Some("CPU above 80".into()),
        namespace: Some("Test".into()),
        metric_name: Some("CPUUtilization".into()),
        dimensions: vec![Dimension::new("InstanceId", "i-1")],
        statistic: Some("Average".into()),
        period: Some(300),
        evaluation_periods: Some(1),
        threshold: Some(80.0),
        datapoints_to_alarm: Some(1),
        comparison_operator: Some("GreaterThanOrEqualToThreshold".into()),
        alarm_actions: vec!["arn:aws:sns:us-east-1:000000000000:ops".into()],
        ok_actions: vec!["arn:aws:sns:us-east-1:000000000000:ops".into()],
        ..Default::default()
    }
}

fn cpu(store: &MetricStore, ts: i64, v: f64) {
    let mut d = datum("CPUUtilization", ts, v);
    d.dimensions = vec![Dimension::new("InstanceId", "i-1")];
    d.unit = Some("Percent".into());
    put(store, "Test", vec![d]);
}

/// The spec's example (B.4 "State reasons"): 84.6 at 12:00 over a 300 s period, threshold 80.
#[test]
fn state_reason_and_reason_data_in_aws_shape() {
    let e = env(T0);
    e.alarms.put_metric_alarm(&cpu_alarm()).unwrap();
    let a = state_of(&e.alarms, "cpu-high");
    assert_eq!(a.state_value, AlarmState::InsufficientData);
    assert_eq!(a.state_reason, "Unchecked: Initial alarm creation");
    assert_eq!(
        a.alarm_arn,
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high"
    );
    assert_eq!(a.config.datapoints_to_alarm, Some(1));
    assert_eq!(a.config.treat_missing_data.as_deref(), Some("missing"));
    assert_eq!(a.config.actions_enabled, Some(true));

    cpu(&e.store, T0, 84.6);
    e.clock.set_ms(T0 + 5 * MIN + 31_853);
    let ch = e.alarms.evaluate_due();
    assert_eq!(ch.len(), 1);
    let a = state_of(&e.alarms, "cpu-high");
    assert_eq!(a.state_value, AlarmState::Alarm);
    // dd/MM/yy HH:mm:ss [I: AWS's own reasons read e.g. `(22/11/19 12:43:00)`].
    assert_eq!(
        a.state_reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [84.6 (02/01/24 12:00:00)] was greater than or equal to the threshold (80.0) (minimum 1 datapoint for OK -> ALARM transition)."
    );
    let data: Value = serde_json::from_str(a.state_reason_data.as_deref().unwrap()).unwrap();
    let mut want = json!({"version":"1.0","queryDate":"2024-01-02T12:05:31.853+0000","startDate":"2024-01-02T12:00:00.000+0000","statistic":"Average","period":300,"recentDatapoints":[84.6],"threshold":80.0,"evaluatedDatapoints":[{"timestamp":"2024-01-02T12:00:00.000+0000","sampleCount":1.0,"value":84.6}]});
    assert_eq!(data, want);
    // Key order as AWS prints it (serde_json preserve_order).
    let text = a.state_reason_data.unwrap();
    assert!(
        text.starts_with(r#"{"version":"1.0","queryDate":"#),
        "{text}"
    );
    assert_eq!(a.state_transitioned_ms, T0 + 5 * MIN + 31_853);

    // Back to OK.
    cpu(&e.store, T0 + 6 * MIN, 12.5);
    e.clock.set_ms(T0 + 11 * MIN);
    e.alarms.evaluate_due();
    let a = state_of(&e.alarms, "cpu-high");
    assert_eq!(a.state_value, AlarmState::Ok);
    assert_eq!(
        a.state_reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [12.5 (02/01/24 12:06:00)] was not greater than or equal to the threshold (80.0) (minimum 1 datapoint for ALARM -> OK transition)."
    );
    want["recentDatapoints"] = json!([12.5]);
    let data: Value = serde_json::from_str(a.state_reason_data.as_deref().unwrap()).unwrap();
    assert_eq!(data["recentDatapoints"], json!([12.5]));
    assert_eq!(data["startDate"], json!("2024-01-02T12:06:00.000+0000"));

    // History: ConfigurationUpdate + two StateUpdates, newest first.
    let (items, next) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            alarm_name: Some("cpu-high".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(next.is_none());
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|h| (h.history_item_type.as_str(), h.history_summary.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("StateUpdate", "Alarm updated from ALARM to OK"),
            (
                "StateUpdate",
                "Alarm updated from INSUFFICIENT_DATA to ALARM"
            ),
            ("ConfigurationUpdate", "Alarm \"cpu-high\" created"),
        ]
    );
    let hd: Value = serde_json::from_str(&items[1].history_data).unwrap();
    assert_eq!(hd["version"], "1.0");
    assert_eq!(hd["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(
        hd["oldState"]["stateReason"],
        "Unchecked: Initial alarm creation"
    );
    assert_eq!(hd["newState"]["stateValue"], "ALARM");
    assert_eq!(
        hd["newState"]["stateReasonData"]["recentDatapoints"],
        json!([84.6])
    );

    // Filters: type, time window, ascending scan.
    let (items, _) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            history_item_type: Some("StateUpdate".into()),
            start_date_ms: Some(T0 + 6 * MIN),
            scan_by: Some("TimestampAscending".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].history_summary, "Alarm updated from ALARM to OK");
    // Composite-only history is empty; paging with MaxRecords=1.
    let (items, _) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            alarm_types: vec!["CompositeAlarm".into()],
            ..Default::default()
        })
        .unwrap();
    assert!(items.is_empty());
    let (p1, t1) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            max_records: Some(2),
            ..Default::default()
        })
        .unwrap();
    let (p2, t2) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            max_records: Some(2),
            next_token: t1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((p1.len(), p2.len(), t2), (2, 1, None));

    // Two actions queued (ALARM then OK), both to the topic.
    let pending = e.alarms.take_pending_actions();
    assert_eq!(
        pending.iter().map(|p| p.new_state).collect::<Vec<_>>(),
        vec![AlarmState::Alarm, AlarmState::Ok]
    );
    assert_eq!(
        pending[0].subject,
        "ALARM: \"cpu-high\" in US East (N. Virginia)"
    );
    let msg: Value = serde_json::from_str(&pending[0].message).unwrap();
    assert_eq!(msg["AlarmName"], "cpu-high");
    assert_eq!(msg["NewStateValue"], "ALARM");
    assert_eq!(msg["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(msg["Region"], "US East (N. Virginia)");
    assert_eq!(msg["Trigger"]["Statistic"], "AVERAGE");
    assert_eq!(
        msg["Trigger"]["Dimensions"],
        json!([{"value": "i-1", "name": "InstanceId"}])
    );
    assert_eq!(msg["Trigger"]["Threshold"], json!(80.0));
    assert_eq!(
        msg["NewStateReason"],
        pending[0].message.parse::<Value>().unwrap()["NewStateReason"]
    );
}

#[test]
fn insufficient_data_reason_and_cadence() {
    let e = env(T0);
    let mut a = simple_alarm("a", "M", 60, 3, 3, 1.0, "GreaterThanThreshold", "missing");
    a.alarm_actions = vec!["arn:aws:sns:us-east-1:000000000000:x".into()];
    e.alarms.put_metric_alarm(&a).unwrap();
    e.alarms.set_alarm_state("a", "OK", "test", None).unwrap();
    let ch = e.alarms.evaluate_due();
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].old_state, AlarmState::Ok);
    assert_eq!(
        ch[0].reason,
        "Insufficient Data: 3 datapoints were unknown."
    );
    let data: Value = serde_json::from_str(
        state_of(&e.alarms, "a")
            .state_reason_data
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        data,
        json!({"version":"1.0","queryDate":"2024-01-02T12:00:00.000+0000","statistic":"Maximum","period":60,"recentDatapoints":[],"threshold":1.0,
               "evaluatedDatapoints":[{"timestamp":"2024-01-02T11:59:00.000+0000"},{"timestamp":"2024-01-02T11:58:00.000+0000"},{"timestamp":"2024-01-02T11:57:00.000+0000"}]})
    );
    // Already evaluated at this minute: nothing more, even after SetAlarmState.
    e.alarms
        .set_alarm_state("a", "ALARM", "test", None)
        .unwrap();
    e.clock.set_ms(T0 + 59_000);
    assert!(e.alarms.evaluate_due().is_empty());
    assert_eq!(state_of(&e.alarms, "a").state_value, AlarmState::Alarm);
    // The next minute returns it to its computed state.
    e.clock.set_ms(T0 + MIN);
    assert_eq!(e.alarms.evaluate_due().len(), 1);
    assert_eq!(
        state_of(&e.alarms, "a").state_value,
        AlarmState::InsufficientData
    );
}

#[test]
fn actions_disabled_changes_state_without_actions() {
    let e = env(T0 + 2 * MIN);
    put(&e.store, "Test", vec![datum("M", T0 + MIN, 5.0)]);
    let mut a = simple_alarm("a", "M", 60, 1, 1, 1.0, "GreaterThanThreshold", "missing");
    a.alarm_actions = vec!["arn:aws:sns:us-east-1:000000000000:x".into()];
    e.alarms.put_metric_alarm(&a).unwrap();
    e.alarms
        .set_actions_enabled(&["a".into(), "unknown".into()], false)
        .unwrap();
    e.alarms.evaluate_due();
    assert_eq!(state_of(&e.alarms, "a").state_value, AlarmState::Alarm);
    assert!(e.alarms.take_pending_actions().is_empty());
    e.alarms.set_actions_enabled(&["a".into()], true).unwrap();
    e.alarms
        .set_alarm_state("a", "OK", "manual", Some(r#"{"k":1}"#))
        .unwrap();
    e.alarms
        .set_alarm_state("a", "ALARM", "manual", None)
        .unwrap();
    let p = e.alarms.take_pending_actions();
    assert_eq!(p.len(), 1, "only ALARM has actions");
    assert_eq!(p[0].new_state, AlarmState::Alarm);
}

#[test]
fn set_alarm_state_errors() {
    let e = env(T0);
    e.alarms
        .put_metric_alarm(&simple_alarm(
            "a",
            "M",
            60,
            1,
            1,
            1.0,
            "GreaterThanThreshold",
            "missing",
        ))
        .unwrap();
    let err = e
        .alarms
        .set_alarm_state("nope", "OK", "r", None)
        .unwrap_err();
    assert_eq!(
        err.aws_error(),
        ("ResourceNotFound", "ResourceNotFound", 404)
    );
    let err = e
        .alarms
        .set_alarm_state("a", "OK", "r", Some("{not json"))
        .unwrap_err();
    assert_eq!(err.aws_error().1, "InvalidFormat");
    let err = e
        .alarms
        .set_alarm_state("a", "BROKEN", "r", None)
        .unwrap_err();
    assert_eq!(err.aws_error().1, "InvalidParameterValue");
}

#[test]
fn put_metric_alarm_validation() {
    let e = env(T0);
    let base = || simple_alarm("a", "M", 60, 3, 2, 1.0, "GreaterThanThreshold", "missing");
    let cases: Vec<(&str, PutMetricAlarmInput, &str)> = vec![
        (
            "no name",
            PutMetricAlarmInput {
                alarm_name: None,
                ..base()
            },
            "MissingParameter",
        ),
        (
            "no N",
            PutMetricAlarmInput {
                evaluation_periods: None,
                ..base()
            },
            "MissingParameter",
        ),
        (
            "M > N",
            PutMetricAlarmInput {
                datapoints_to_alarm: Some(4),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "period 45",
            PutMetricAlarmInput {
                period: Some(45),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "period 1",
            PutMetricAlarmInput {
                period: Some(1),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "span > 1 day",
            PutMetricAlarmInput {
                period: Some(600),
                evaluation_periods: Some(145),
                datapoints_to_alarm: None,
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "span > 7 days",
            PutMetricAlarmInput {
                period: Some(3600),
                evaluation_periods: Some(169),
                datapoints_to_alarm: None,
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "both stats",
            PutMetricAlarmInput {
                extended_statistic: Some("p99".into()),
                ..base()
            },
            "InvalidParameterCombination",
        ),
        (
            "no stat",
            PutMetricAlarmInput {
                statistic: None,
                ..base()
            },
            "MissingParameter",
        ),
        (
            "bad stat",
            PutMetricAlarmInput {
                statistic: Some("Median".into()),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "band op",
            PutMetricAlarmInput {
                comparison_operator: Some("LessThanLowerOrGreaterThanUpperThreshold".into()),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "bad op",
            PutMetricAlarmInput {
                comparison_operator: Some("Equals".into()),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "no threshold",
            PutMetricAlarmInput {
                threshold: None,
                ..base()
            },
            "MissingParameter",
        ),
        (
            "tmd",
            PutMetricAlarmInput {
                treat_missing_data: Some("sometimes".into()),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "6 actions",
            PutMetricAlarmInput {
                alarm_actions: (0..6)
                    .map(|i| format!("arn:aws:sns:us-east-1:1:t{i}"))
                    .collect(),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "bad arn",
            PutMetricAlarmInput {
                ok_actions: vec!["mailto:me".into()],
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "promql",
            PutMetricAlarmInput {
                metric_name: None,
                namespace: None,
                statistic: None,
                period: None,
                has_evaluation_criteria: true,
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "nothing",
            PutMetricAlarmInput {
                metric_name: None,
                ..base()
            },
            "MissingParameter",
        ),
        (
            "metrics + metric name",
            PutMetricAlarmInput {
                metrics: vec![MetricDataQuery {
                    id: "e1".into(),
                    expression: Some("TIME_SERIES(1)".into()),
                    period: Some(60),
                    ..Default::default()
                }],
                ..base()
            },
            "InvalidParameterCombination",
        ),
        (
            "unit",
            PutMetricAlarmInput {
                unit: Some("Furlongs".into()),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "control char",
            PutMetricAlarmInput {
                alarm_name: Some("a\u{7}".into()),
                ..base()
            },
            "InvalidParameterValue",
        ),
        (
            "anomaly threshold",
            PutMetricAlarmInput {
                threshold_metric_id: Some("ad1".into()),
                ..base()
            },
            "InvalidParameterValue",
        ),
    ];
    for (what, input, code) in cases {
        let err = e.alarms.put_metric_alarm(&input).expect_err(what);
        assert_eq!(err.aws_error().1, code, "{what}: {err}");
    }
    let err = e
        .alarms
        .put_metric_alarm(&PutMetricAlarmInput {
            comparison_operator: Some("GreaterThanUpperThreshold".into()),
            ..base()
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("anomaly detection alarms are not supported"),
        "{err}"
    );
    // Nothing was stored.
    assert!(e
        .alarms
        .describe_alarms(&DescribeAlarmsInput::default())
        .unwrap()
        .metric_alarms
        .is_empty());
    // 10/20/30-second periods are valid.
    e.alarms
        .put_metric_alarm(&PutMetricAlarmInput {
            period: Some(10),
            ..base()
        })
        .unwrap();
}

#[test]
fn describe_alarms_filters_and_pages() {
    let e = env(T0);
    for (name, actions) in [
        ("api-errors", "arn:aws:sns:us-east-1:1:ops"),
        ("api-latency", "arn:aws:sns:us-east-1:1:dev"),
        ("db-cpu", "arn:aws:sns:us-east-1:1:ops"),
    ] {
        let mut a = simple_alarm(name, "M", 60, 1, 1, 1.0, "GreaterThanThreshold", "missing");
        a.alarm_actions = vec![actions.into()];
        e.alarms.put_metric_alarm(&a).unwrap();
    }
    e.alarms
        .set_alarm_state("db-cpu", "ALARM", "x", None)
        .unwrap();
    let names = |i: DescribeAlarmsInput| -> Vec<String> {
        e.alarms
            .describe_alarms(&i)
            .unwrap()
            .metric_alarms
            .iter()
            .map(|a| a.name().to_string())
            .collect()
    };
    assert_eq!(
        names(DescribeAlarmsInput::default()),
        vec!["api-errors", "api-latency", "db-cpu"]
    );
    assert_eq!(
        names(DescribeAlarmsInput {
            alarm_name_prefix: Some("api-".into()),
            ..Default::default()
        }),
        vec!["api-errors", "api-latency"]
    );
    assert_eq!(
        names(DescribeAlarmsInput {
            alarm_names: vec!["db-cpu".into(), "x".into()],
            ..Default::default()
        }),
        vec!["db-cpu"]
    );
    assert_eq!(
        names(DescribeAlarmsInput {
            state_value: Some("ALARM".into()),
            ..Default::default()
        }),
        vec!["db-cpu"]
    );
    assert_eq!(
        names(DescribeAlarmsInput {
            action_prefix: Some("arn:aws:sns:us-east-1:1:op".into()),
            ..Default::default()
        }),
        vec!["api-errors", "db-cpu"]
    );
    assert!(names(DescribeAlarmsInput {
        alarm_types: vec!["CompositeAlarm".into()],
        ..Default::default()
    })
    .is_empty());
    let p1 = e
        .alarms
        .describe_alarms(&DescribeAlarmsInput {
            max_records: Some(2),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(p1.metric_alarms.len(), 2);
    let p2 = e
        .alarms
        .describe_alarms(&DescribeAlarmsInput {
            max_records: Some(2),
            next_token: p1.next_token,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        p2.metric_alarms
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>(),
        vec!["db-cpu"]
    );
    assert!(p2.next_token.is_none());
    let err = e
        .alarms
        .describe_alarms(&DescribeAlarmsInput {
            alarm_names: vec!["a".into()],
            alarm_name_prefix: Some("a".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.aws_error().1, "InvalidParameterCombination");
    let err = e
        .alarms
        .describe_alarms(&DescribeAlarmsInput {
            next_token: Some("bogus".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.aws_error().1, "InvalidNextToken");

    // DescribeAlarmsForMetric.
    let mut other = simple_alarm(
        "other-metric",
        "N",
        300,
        1,
        1,
        1.0,
        "GreaterThanThreshold",
        "missing",
    );
    other.dimensions = vec![Dimension::new("Host", "h1")];
    e.alarms.put_metric_alarm(&other).unwrap();
    let found = e
        .alarms
        .describe_alarms_for_metric(&DescribeAlarmsForMetricInput {
            metric_name: Some("N".into()),
            namespace: Some("Test".into()),
            dimensions: vec![Dimension::new("Host", "h1")],
            period: Some(300),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        found.iter().map(|a| a.name()).collect::<Vec<_>>(),
        vec!["other-metric"]
    );
    let found = e
        .alarms
        .describe_alarms_for_metric(&DescribeAlarmsForMetricInput {
            metric_name: Some("M".into()),
            namespace: Some("Test".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.len(), 3);

    // DeleteAlarms: unknown names ignored, history kept.
    e.alarms
        .delete_alarms(&["api-errors".into(), "ghost".into()])
        .unwrap();
    assert_eq!(
        names(DescribeAlarmsInput::default()),
        vec!["api-latency", "db-cpu", "other-metric"]
    );
    let (h, _) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            alarm_name: Some("api-errors".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(h[0].history_summary, "Alarm \"api-errors\" deleted");
}

/// p90 alarm: with EvaluateLowSampleCountPercentile=ignore and fewer than 10/(1-0.9) = 100
/// samples, the state stays; with `evaluate` it is decided.
#[test]
fn percentile_alarm_with_few_samples() {
    for (mode, want) in [
        ("ignore", AlarmState::InsufficientData),
        ("evaluate", AlarmState::Alarm),
    ] {
        let e = env(T0 + MIN);
        let d = MetricDatumInput {
            metric_name: Some("Latency".into()),
            timestamp_ms: Some(T0 + 1_000),
            values: Some((1..=50).map(f64::from).collect()),
            ..Default::default()
        };
        put(&e.store, "Test", vec![d]);
        let mut a = simple_alarm(
            "p",
            "Latency",
            60,
            1,
            1,
            40.0,
            "GreaterThanThreshold",
            "missing",
        );
        a.statistic = None;
        a.extended_statistic = Some("p90".into());
        a.evaluate_low_sample_count_percentile = Some(mode.into());
        e.alarms.put_metric_alarm(&a).unwrap();
        e.alarms.evaluate_due();
        let st = state_of(&e.alarms, "p");
        assert_eq!(st.state_value, want, "{mode}");
        if want == AlarmState::Alarm {
            // p90 of 1..=50 with nearest rank: ceil(0.9 × 50) = 45th value = 45.
            assert!(
                st.state_reason.contains("[45.0 (02/01/24 12:00:00)]"),
                "{}",
                st.state_reason
            );
            let data: Value =
                serde_json::from_str(st.state_reason_data.as_deref().unwrap()).unwrap();
            assert_eq!(data["extendedStatistic"], "p90");
            assert_eq!(data["evaluatedDatapoints"][0]["sampleCount"], json!(50.0));
        }
    }
}

/// A metric-math alarm: error rate = errors / requests × 100 > 5 for 2 of 2 minutes.
#[test]
fn metric_math_alarm() {
    let e = env(T0 + 3 * MIN);
    put(
        &e.store,
        "Test",
        vec![
            datum("Requests", T0 + 1_000, 100.0),
            datum("Errors", T0 + 2_000, 3.0),
            datum("Requests", T0 + MIN + 1_000, 50.0),
            datum("Errors", T0 + MIN + 2_000, 5.0),
            datum("Requests", T0 + 2 * MIN + 1_000, 10.0),
            datum("Errors", T0 + 2 * MIN + 2_000, 1.0),
        ],
    );
    let stat = |id: &str, name: &str| MetricDataQuery {
        id: id.into(),
        metric_stat: Some(MetricStat {
            metric: MetricRef {
                namespace: Some("Test".into()),
                metric_name: Some(name.into()),
                dimensions: vec![],
            },
            period: Some(60),
            stat: Some("Sum".into()),
            unit: None,
        }),
        return_data: Some(false),
        ..Default::default()
    };
    let alarm = PutMetricAlarmInput {
        alarm_name: Some("error-rate".into()),
        metrics: vec![
            stat("errors", "Errors"),
            stat("requests", "Requests"),
            MetricDataQuery {
                id: "rate".into(),
                expression: Some("errors / requests * 100".into()),
                label: Some("Error rate".into()),
                return_data: Some(true),
                ..Default::default()
            },
        ],
        evaluation_periods: Some(2),
        threshold: Some(5.0),
        comparison_operator: Some("GreaterThanThreshold".into()),
        ..Default::default()
    };
    e.alarms.put_metric_alarm(&alarm).unwrap();
    e.alarms.evaluate_due();
    let a = state_of(&e.alarms, "error-rate");
    // Rates: 3 %, 10 %, 10 %: the last two breach.
    assert_eq!(a.state_value, AlarmState::Alarm);
    // No DatapointsToAlarm: the short wording.
    assert_eq!(
        a.state_reason,
        "Threshold Crossed: 2 datapoints [10.0 (02/01/24 12:02:00), 10.0 (02/01/24 12:01:00)] were greater than the threshold (5.0)."
    );
    assert_eq!(a.config.datapoints_to_alarm, None);
    // Two ReturnData queries are rejected.
    let mut bad = alarm.clone();
    bad.metrics[0].return_data = None;
    assert_eq!(
        e.alarms.put_metric_alarm(&bad).unwrap_err().aws_error().1,
        "InvalidParameterValue"
    );
    let mut bad = alarm;
    bad.metrics[2].expression = Some("ANOMALY_DETECTION_BAND(errors, 2)".into());
    bad.alarm_name = Some("band".into());
    let err = e.alarms.put_metric_alarm(&bad).unwrap_err();
    assert!(
        err.to_string()
            .contains("ANOMALY_DETECTION_BAND is not supported"),
        "{err}"
    );
}

#[test]
fn alarms_and_history_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FakeClock::new(T0 + 2 * MIN));
    let store =
        Arc::new(MetricStore::open(dir.path(), MetricLimits::default(), clock.clone()).unwrap());
    put(&store, "Test", vec![datum("M", T0 + MIN, 9.0)]);
    {
        let engine = AlarmEngine::open(
            dir.path(),
            store.clone(),
            clock.clone(),
            AlarmConfig::default(),
        )
        .unwrap();
        engine
            .put_metric_alarm(&simple_alarm(
                "a",
                "M",
                60,
                1,
                1,
                1.0,
                "GreaterThanThreshold",
                "missing",
            ))
            .unwrap();
        engine.evaluate_due();
        assert_eq!(state_of(&engine, "a").state_value, AlarmState::Alarm);
    }
    let store =
        Arc::new(MetricStore::open(dir.path(), MetricLimits::default(), clock.clone()).unwrap());
    let engine = AlarmEngine::open(dir.path(), store, clock, AlarmConfig::default()).unwrap();
    let a = state_of(&engine, "a");
    assert_eq!(a.state_value, AlarmState::Alarm);
    assert!(a
        .state_reason
        .starts_with("Threshold Crossed: 1 out of the last 1 datapoints [9.0"));
    let (h, _) = engine
        .describe_alarm_history(&DescribeAlarmHistoryInput::default())
        .unwrap();
    assert_eq!(h.len(), 2);
}

/// Reasons that mention fills (wordings observed in AWS notifications).
#[test]
fn reasons_with_missing_datapoints() {
    let boundary = T0 + 10 * MIN;
    // N=3, M=1, notBreaching, one breaching point: ALARM, fills mentioned.
    let e = env(boundary);
    put(&e.store, "Test", vec![datum("M", boundary - MIN, 10.0)]);
    e.alarms
        .put_metric_alarm(&simple_alarm(
            "a",
            "M",
            60,
            3,
            1,
            5.0,
            "GreaterThanThreshold",
            "notBreaching",
        ))
        .unwrap();
    e.alarms.evaluate_due();
    assert_eq!(
        state_of(&e.alarms, "a").state_reason,
        "Threshold Crossed: 1 out of the last 3 datapoints [10.0 (02/01/24 12:09:00)] was greater than the threshold (5.0) and 2 missing datapoints were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition)."
    );
    let data: Value = serde_json::from_str(
        state_of(&e.alarms, "a")
            .state_reason_data
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        data["evaluatedDatapoints"],
        json!([{"timestamp":"2024-01-02T12:09:00.000+0000","sampleCount":1.0,"value":10.0},{"timestamp":"2024-01-02T12:08:00.000+0000"},{"timestamp":"2024-01-02T12:07:00.000+0000"}])
    );
    // N=3, M=2, breaching, one OK point: the fills decide.
    let e = env(boundary);
    put(&e.store, "Test", vec![datum("M", boundary - MIN, 0.0)]);
    e.alarms
        .put_metric_alarm(&simple_alarm(
            "a",
            "M",
            60,
            3,
            2,
            5.0,
            "GreaterThanThreshold",
            "breaching",
        ))
        .unwrap();
    e.alarms.evaluate_due();
    assert_eq!(
        state_of(&e.alarms, "a").state_reason,
        "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching]."
    );
    // Without DatapointsToAlarm, N=3 (M=3), breaching, one OK point: OK, short wording.
    let e = env(boundary);
    put(&e.store, "Test", vec![datum("M", boundary - MIN, 0.0)]);
    let mut a = simple_alarm("a", "M", 60, 3, 3, 5.0, "GreaterThanThreshold", "breaching");
    a.datapoints_to_alarm = None;
    e.alarms.put_metric_alarm(&a).unwrap();
    e.alarms.evaluate_due();
    assert_eq!(
        state_of(&e.alarms, "a").state_reason,
        "Threshold Crossed: 1 datapoint [0.0 (02/01/24 12:09:00)] was not greater than the threshold (5.0) and 2 missing datapoints were treated as [Breaching]."
    );
}
