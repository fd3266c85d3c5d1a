//! Alarm actions against real local HTTP receivers: retries with backoff, the dead-letter
//! file, local commands, and Action history items.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use ow_metrics::*;
use serde_json::Value;

use crate::*;

/// A request as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

/// Starts an HTTP/1.1 receiver on 127.0.0.1:0 answering the i-th request with `statuses[i]`
/// (the last status repeats). Returns its URL and what it received.
fn receiver(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alarms", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(mut stream) = conn else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap(); // request line
            let mut len = 0usize;
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                    if k == "content-length" {
                        len = v.parse().unwrap();
                    }
                    headers.push((k, v));
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            sink.lock().unwrap().push(Received {
                headers,
                body: String::from_utf8(body).unwrap(),
            });
            let status = *statuses.get(i).or(statuses.last()).unwrap();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.flush();
        }
    });
    (url, got)
}

const TOPIC: &str = "arn:aws:sns:us-east-1:000000000000:ops";

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff_ms: 5,
        max_backoff_ms: 20,
        timeout_ms: 5_000,
    }
}

/// An engine with one alarm that has just gone to ALARM, with its action pending.
fn alarmed_engine() -> Env {
    let e = env(T0 + 2 * MIN);
    put(&e.store, "Test", vec![datum("M", T0 + MIN, 5.0)]);
    let mut a = simple_alarm(
        "disk-full",
        "M",
        60,
        1,
        1,
        1.0,
        "GreaterThanThreshold",
        "missing",
    );
    a.alarm_actions = vec![TOPIC.into()];
    a.alarm_description = Some("disk is full".into());
    e.alarms.put_metric_alarm(&a).unwrap();
    e.alarms.evaluate_due();
    e
}

#[test]
fn webhook_retries_until_success() {
    let (url, got) = receiver(vec![503, 500, 200]);
    let e = alarmed_engine();
    let d = ActionDispatcher::new(ActionsConfig {
        sns: vec![SnsTarget {
            topic_arn: TOPIC.into(),
            webhook: Some(url),
            command: None,
        }],
        retry: fast_retry(5),
        dead_letter_path: None,
    });
    let outcomes = e.alarms.run_actions(&d);
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].succeeded, "{:?}", outcomes[0].error);
    assert_eq!(outcomes[0].attempts, 3);
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let r = &got[2];
    let header = |k: &str| r.headers.iter().find(|h| h.0 == k).map(|h| h.1.clone());
    assert_eq!(
        header("x-amz-sns-message-type").as_deref(),
        Some("Notification")
    );
    assert_eq!(header("x-amz-sns-topic-arn").as_deref(), Some(TOPIC));
    let env: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["TopicArn"], TOPIC);
    assert_eq!(
        env["Subject"],
        "ALARM: \"disk-full\" in US East (N. Virginia)"
    );
    assert_eq!(
        header("x-amz-sns-message-id").as_deref(),
        env["MessageId"].as_str()
    );
    assert_eq!(env["MessageId"].as_str().unwrap().len(), 36);
    let msg: Value = serde_json::from_str(env["Message"].as_str().unwrap()).unwrap();
    assert_eq!(msg["AlarmName"], "disk-full");
    assert_eq!(msg["AlarmDescription"], "disk is full");
    assert_eq!(msg["AWSAccountId"], "000000000000");
    assert_eq!(msg["NewStateValue"], "ALARM");
    assert_eq!(msg["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(msg["StateChangeTime"], "2024-01-02T12:02:00.000+0000");
    assert_eq!(
        msg["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:disk-full"
    );
    assert!(msg["NewStateReason"].as_str().unwrap().starts_with(
        "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (02/01/24 12:01:00)]"
    ));
    assert_eq!(msg["Trigger"]["MetricName"], "M");
    assert_eq!(msg["Trigger"]["Statistic"], "MAXIMUM");
    assert_eq!(msg["Trigger"]["ComparisonOperator"], "GreaterThanThreshold");
    // The history records the successful action.
    let (h, _) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            history_item_type: Some("Action".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(
        h[0].history_summary,
        format!("Successfully executed action {TOPIC}")
    );
    let hd: Value = serde_json::from_str(&h[0].history_data).unwrap();
    assert_eq!(hd["actionState"], "Succeeded");
}

#[test]
fn webhook_always_failing_goes_to_dead_letter() {
    let (url, got) = receiver(vec![500]);
    let dir = tempfile::tempdir().unwrap();
    let dlq = dir.path().join("dead-letter.jsonl");
    let e = alarmed_engine();
    let d = ActionDispatcher::new(ActionsConfig {
        sns: vec![SnsTarget {
            topic_arn: TOPIC.into(),
            webhook: Some(url.clone()),
            command: None,
        }],
        retry: fast_retry(3),
        dead_letter_path: Some(dlq.clone()),
    });
    let outcomes = e.alarms.run_actions(&d);
    assert!(!outcomes[0].succeeded);
    assert_eq!(outcomes[0].attempts, 3);
    assert_eq!(got.lock().unwrap().len(), 3);
    // Unmapped ARNs are dead-lettered too, without attempts.
    let unmapped = d.execute(ActionRequest {
        action_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        ..outcomes[0].request.clone()
    });
    assert_eq!(unmapped.attempts, 0);
    assert!(unmapped
        .error
        .as_deref()
        .unwrap()
        .contains("no actions.sns entry of the server config maps"));

    let lines: Vec<Value> = std::fs::read_to_string(&dlq)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["succeeded"], false);
    assert_eq!(lines[0]["attempts"], 3);
    assert_eq!(lines[0]["error"], format!("POST {url}: HTTP status 500"));
    assert_eq!(lines[0]["request"]["alarm_name"], "disk-full");
    let msg: Value =
        serde_json::from_str(lines[0]["request"]["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        msg["NewStateValue"], "ALARM",
        "the whole notification is kept"
    );
    let (h, _) = e
        .alarms
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            history_item_type: Some("Action".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        h[0].history_summary,
        format!("Failed to execute action {TOPIC}")
    );
}

#[test]
fn command_action_gets_the_notification_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("notification.json");
    let e = alarmed_engine();
    let d = ActionDispatcher::new(ActionsConfig {
        sns: vec![SnsTarget {
            topic_arn: TOPIC.into(),
            webhook: None,
            command: Some(vec![
                "/bin/sh".into(),
                "-c".into(),
                format!("cat > '{}'", out.display()),
            ]),
        }],
        retry: fast_retry(2),
        dead_letter_path: None,
    });
    let outcomes = e.alarms.run_actions(&d);
    assert!(outcomes[0].succeeded, "{:?}", outcomes[0].error);
    let env: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(env["Type"], "Notification");
    let msg: Value = serde_json::from_str(env["Message"].as_str().unwrap()).unwrap();
    assert_eq!(msg["AlarmName"], "disk-full");

    // A failing command is retried, then reported.
    let d = ActionDispatcher::new(ActionsConfig {
        sns: vec![SnsTarget {
            topic_arn: TOPIC.into(),
            webhook: None,
            command: Some(vec!["/bin/sh".into(), "-c".into(), "exit 3".into()]),
        }],
        retry: fast_retry(2),
        dead_letter_path: None,
    });
    let o = d.execute(outcomes[0].request.clone());
    assert_eq!((o.succeeded, o.attempts), (false, 2));
    assert!(o.error.unwrap().contains("exit status: 3"));
}

/// The scheduler evaluates on its own thread and delivers actions from another.
#[test]
fn scheduler_evaluates_and_delivers() {
    let (url, got) = receiver(vec![200]);
    let e = env(T0 + 2 * MIN);
    put(&e.store, "Test", vec![datum("M", T0 + MIN, 5.0)]);
    let mut a = simple_alarm(
        "sched",
        "M",
        60,
        1,
        1,
        1.0,
        "GreaterThanThreshold",
        "missing",
    );
    a.alarm_actions = vec![TOPIC.into()];
    e.alarms.put_metric_alarm(&a).unwrap();
    let engine = Arc::new(e.alarms);
    let d = ActionDispatcher::new(ActionsConfig {
        sns: vec![SnsTarget {
            topic_arn: TOPIC.into(),
            webhook: Some(url),
            command: None,
        }],
        retry: fast_retry(2),
        dead_letter_path: None,
    });
    let sched = AlarmScheduler::start(engine.clone(), d, std::time::Duration::from_millis(10));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while got.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    sched.stop();
    assert_eq!(got.lock().unwrap().len(), 1);
    let (h, _) = engine
        .describe_alarm_history(&DescribeAlarmHistoryInput {
            history_item_type: Some("Action".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(h.len(), 1);
    // Tags on the alarm ARN.
    let arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:sched";
    engine
        .tag_resource(
            arn,
            &[
                Tag {
                    key: "team".into(),
                    value: "sre".into(),
                },
                Tag {
                    key: "env".into(),
                    value: "prod".into(),
                },
            ],
        )
        .unwrap();
    engine
        .tag_resource(
            arn,
            &[Tag {
                key: "env".into(),
                value: "dev".into(),
            }],
        )
        .unwrap();
    engine
        .untag_resource(arn, &["team".into(), "nope".into()])
        .unwrap();
    assert_eq!(
        engine.list_tags_for_resource(arn).unwrap(),
        vec![Tag {
            key: "env".into(),
            value: "dev".into()
        }]
    );
    assert_eq!(
        engine
            .list_tags_for_resource("arn:aws:cloudwatch:us-east-1:0:alarm:x")
            .unwrap_err()
            .aws_error()
            .2,
        404
    );
}
