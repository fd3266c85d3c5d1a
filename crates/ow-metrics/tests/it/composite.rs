//! Composite alarms: rule parsing errors, creation state, evaluation on child changes,
//! deletion rules, actions.

use ow_metrics::*;
use serde_json::Value;

use crate::*;

fn composite(e: &Env, name: &str, rule: &str) -> Result<()> {
    e.alarms.put_composite_alarm(&PutCompositeAlarmInput {
        alarm_name: Some(name.into()),
        alarm_rule: Some(rule.into()),
        alarm_actions: vec!["arn:aws:sns:us-east-1:000000000000:ops".into()],
        ..Default::default()
    })
}

fn composite_state(e: &Env, name: &str) -> CompositeAlarm {
    e.alarms
        .describe_alarms(&DescribeAlarmsInput {
            alarm_names: vec![name.into()],
            alarm_types: vec!["CompositeAlarm".into()],
            ..Default::default()
        })
        .unwrap()
        .composite_alarms
        .into_iter()
        .next()
        .expect("composite exists")
}

#[test]
fn composite_follows_children() {
    let e = env(T0);
    for n in ["cpu", "disk", "maintenance"] {
        e.alarms
            .put_metric_alarm(&simple_alarm(
                n,
                n,
                60,
                1,
                1,
                1.0,
                "GreaterThanThreshold",
                "notBreaching",
            ))
            .unwrap();
    }
    composite(&e, "host-bad", r#"(ALARM(cpu) OR ALARM("disk")) AND NOT ALARM(arn:aws:cloudwatch:us-east-1:000000000000:alarm:maintenance)"#).unwrap();
    assert_eq!(
        composite_state(&e, "host-bad").state_value,
        AlarmState::InsufficientData
    );

    // First tick: children go OK (notBreaching), the composite is evaluated → OK.
    e.alarms.evaluate_due();
    assert_eq!(composite_state(&e, "host-bad").state_value, AlarmState::Ok);
    e.alarms.take_pending_actions();

    // disk breaches → composite ALARM, with the child named in the reason.
    put(&e.store, "Test", vec![datum("disk", T0 + 5_000, 7.0)]);
    e.clock.set_ms(T0 + MIN);
    let changes = e.alarms.evaluate_due();
    let names: Vec<(&str, AlarmState)> = changes
        .iter()
        .map(|c| (c.alarm_name.as_str(), c.new_state))
        .collect();
    assert_eq!(
        names,
        vec![("disk", AlarmState::Alarm), ("host-bad", AlarmState::Alarm)]
    );
    let c = composite_state(&e, "host-bad");
    assert!(
        c.state_reason.starts_with("arn:aws:cloudwatch:us-east-1:000000000000:alarm:disk transitioned to ALARM at Tuesday 02 January, 2024 12:01:00 UTC"),
        "{}",
        c.state_reason
    );
    let data: Value = serde_json::from_str(c.state_reason_data.as_deref().unwrap()).unwrap();
    assert_eq!(
        data["triggeringAlarms"][0]["arn"],
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:disk"
    );
    let actions = e.alarms.take_pending_actions();
    let composite_action = actions
        .iter()
        .find(|a| a.alarm_name == "host-bad")
        .expect("composite action");
    let msg: Value = serde_json::from_str(&composite_action.message).unwrap();
    assert_eq!(
        msg["AlarmRule"],
        r#"(ALARM(cpu) OR ALARM("disk")) AND NOT ALARM(arn:aws:cloudwatch:us-east-1:000000000000:alarm:maintenance)"#
    );
    assert_eq!(msg["TriggeringChildren"][0]["State"]["Value"], "ALARM");

    // Maintenance window: SetAlarmState on the child re-evaluates the parent.
    e.alarms
        .set_alarm_state("maintenance", "ALARM", "maintenance window", None)
        .unwrap();
    assert_eq!(composite_state(&e, "host-bad").state_value, AlarmState::Ok);

    // SetAlarmState on the composite holds until a child changes.
    e.alarms
        .set_alarm_state("host-bad", "ALARM", "drill", None)
        .unwrap();
    e.clock.set_ms(T0 + 90_000);
    e.alarms.evaluate_due();
    assert_eq!(
        composite_state(&e, "host-bad").state_value,
        AlarmState::Alarm
    );
    e.clock.set_ms(T0 + 2 * MIN); // maintenance (notBreaching, no data) goes back to OK
    e.alarms.evaluate_due();
    assert_eq!(
        state_of(&e.alarms, "maintenance").state_value,
        AlarmState::Ok
    );
    // disk's breach is still inside its evaluation range (R = N + 2 = 3 periods): with its
    // newest period empty, the most recent real point decides (B.4 step 2) → still ALARM,
    // so the rule is true and the composite stays in ALARM.
    assert_eq!(state_of(&e.alarms, "disk").state_value, AlarmState::Alarm);
    assert_eq!(
        composite_state(&e, "host-bad").state_value,
        AlarmState::Alarm
    );
    e.clock.set_ms(T0 + 4 * MIN); // the breach left the range → disk OK → composite OK
    let ch = e.alarms.evaluate_due();
    assert_eq!(
        ch.iter()
            .map(|c| (c.alarm_name.as_str(), c.new_state))
            .collect::<Vec<_>>(),
        vec![("disk", AlarmState::Ok), ("host-bad", AlarmState::Ok)]
    );

    // History of the composite.
    let (h, _) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            alarm_name: Some("host-bad".into()),
            alarm_types: vec!["CompositeAlarm".into()],
            history_item_type: Some("StateUpdate".into()),
            scan_by: Some("TimestampAscending".into()),
            ..Default::default()
        })
        .unwrap();
    let s: Vec<&str> = h.iter().map(|i| i.history_summary.as_str()).collect();
    assert_eq!(
        s,
        vec![
            "Alarm updated from INSUFFICIENT_DATA to OK",
            "Alarm updated from OK to ALARM",
            "Alarm updated from ALARM to OK",
            "Alarm updated from OK to ALARM",
            "Alarm updated from ALARM to OK",
        ]
    );

    // Relations.
    let kids = e
        .alarms
        .describe_alarms(&DescribeAlarmsInput {
            children_of_alarm_name: Some("host-bad".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        kids.metric_alarms
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>(),
        vec!["cpu", "disk", "maintenance"]
    );
    let parents = e
        .alarms
        .describe_alarms(&DescribeAlarmsInput {
            parents_of_alarm_name: Some("cpu".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        parents
            .composite_alarms
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>(),
        vec!["host-bad"]
    );

    // A referenced child cannot be deleted; the composite and child together can.
    let err = e.alarms.delete_alarms(&["cpu".into()]).unwrap_err();
    assert_eq!(
        err.aws_error(),
        ("ResourceConflict", "ResourceConflict", 409)
    );
    e.alarms
        .delete_alarms(&["host-bad".into(), "cpu".into()])
        .unwrap();
    assert!(e
        .alarms
        .describe_alarms(&DescribeAlarmsInput {
            alarm_types: vec!["CompositeAlarm".into()],
            ..Default::default()
        })
        .unwrap()
        .composite_alarms
        .is_empty());
}

#[test]
fn composite_rule_errors() {
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
    let cases = [
        ("ALARM(a) and OK(a)", "Error in AlarmRule: unexpected text after the rule (AND/OR/NOT must be upper case) at position 9."),
        ("ALARM(a", "Error in AlarmRule: expected ')' after the alarm name at position 7."),
        ("ALARM(missing)", "Error in AlarmRule: the alarm missing does not exist."),
        ("WARN(a)", "Error in AlarmRule: expected ALARM(…), OK(…), INSUFFICIENT_DATA(…), TRUE, FALSE, NOT or '(' at position 0."),
        ("ALARM(self)", "The AlarmRule of self cannot reference the alarm itself."),
    ];
    for (rule, msg) in cases {
        let err = composite(&e, "self", rule).unwrap_err();
        assert_eq!(err.to_string(), msg, "{rule}");
        assert_eq!(err.aws_error().1, "InvalidParameterValue");
    }
    let err = e
        .alarms
        .put_composite_alarm(&PutCompositeAlarmInput {
            alarm_name: Some("c".into()),
            alarm_rule: Some("ALARM(a)".into()),
            alarm_actions: vec!["arn:aws:automate:us-east-1:ec2:stop".into()],
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        err.aws_error().1,
        "InvalidParameterValue",
        "EC2 actions are not allowed on composites"
    );
    let err = e
        .alarms
        .put_composite_alarm(&PutCompositeAlarmInput {
            alarm_name: Some("c".into()),
            alarm_rule: Some("ALARM(a)".into()),
            actions_suppressor: Some("a".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(err
        .to_string()
        .contains("ActionsSuppressor is not supported"));
    // Two composites in one DeleteAlarms call.
    composite(&e, "c1", "TRUE").unwrap();
    composite(&e, "c2", "FALSE OR ALARM(a)").unwrap();
    assert_eq!(
        e.alarms
            .delete_alarms(&["c1".into(), "c2".into()])
            .unwrap_err()
            .aws_error()
            .1,
        "InvalidParameterValue"
    );
    e.alarms.evaluate_due();
    assert_eq!(composite_state(&e, "c1").state_value, AlarmState::Alarm);
    assert_eq!(composite_state(&e, "c2").state_value, AlarmState::Ok);
}

/// A cycle (c1 → c2 → c1, made by updating c1 after c2 exists) stops evaluation of both.
#[test]
fn composite_cycle_is_not_evaluated() {
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
            "notBreaching",
        ))
        .unwrap();
    composite(&e, "c1", "ALARM(a)").unwrap();
    composite(&e, "c2", "ALARM(c1)").unwrap();
    composite(&e, "c1", "ALARM(a) OR ALARM(c2)").unwrap();
    e.alarms.evaluate_due();
    assert_eq!(
        composite_state(&e, "c1").state_value,
        AlarmState::InsufficientData
    );
    assert_eq!(
        composite_state(&e, "c2").state_value,
        AlarmState::InsufficientData
    );
    // Breaking the cycle with FALSE (B.3) lets evaluation resume.
    composite(&e, "c1", "FALSE").unwrap();
    e.alarms.evaluate_due();
    assert_eq!(composite_state(&e, "c1").state_value, AlarmState::Ok);
    assert_eq!(composite_state(&e, "c2").state_value, AlarmState::Ok);
}
