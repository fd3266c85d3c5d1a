//! Alarm actions (DESIGN.md decision 5): SNS topic ARNs mapped in configuration to webhooks
//! (HTTP POST of an SNS-shaped notification) or local commands (the same JSON on stdin),
//! with bounded exponential-backoff retries and a JSONL dead-letter file for what finally
//! failed.
//!
//! Configuration: the `actions` member of the server's JSON config file, e.g.
//! ```json
//! {"actions": {"sns": [
//!   {"topicArn": "arn:aws:sns:us-east-1:000000000000:ops",
//!    "webhook": "http://127.0.0.1:9000/alarms"},
//!   {"topicArn": "arn:aws:sns:us-east-1:000000000000:pager",
//!    "command": ["/usr/local/bin/page", "--json"]}
//! ]}}
//! ```
//! Only `http://` webhooks are supported (the client is built without TLS); put a local
//! TLS-terminating proxy in front of HTTPS endpoints.

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::alarm::{AlarmConfig, AlarmState, CompositeAlarm, MetricAlarm};
use crate::model::{format_alarm_time, format_iso_z};

/// One SNS topic mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsTarget {
    /// The topic ARN alarms name in their actions.
    #[serde(alias = "topicArn")]
    pub topic_arn: String,
    /// `http://…` URL to POST the notification to.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Command and arguments to run with the notification JSON on stdin (exit 0 = success).
    #[serde(default)]
    pub command: Option<Vec<String>>,
}

/// Retry policy for one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in total (≥ 1). Default 5.
    #[serde(alias = "maxAttempts")]
    pub max_attempts: u32,
    /// Delay before the second attempt, ms; doubled each time. Default 500.
    #[serde(alias = "initialBackoffMs")]
    pub initial_backoff_ms: u64,
    /// Upper bound of one delay, ms. Default 30,000.
    #[serde(alias = "maxBackoffMs")]
    pub max_backoff_ms: u64,
    /// Timeout of one HTTP request or command, ms. Default 10,000.
    #[serde(alias = "timeoutMs")]
    pub timeout_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            timeout_ms: 10_000,
        }
    }
}

/// The `actions` configuration (the server config file's `actions` member).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionsConfig {
    /// `actions.sns` entries.
    pub sns: Vec<SnsTarget>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// JSONL file receiving every action that finally failed (with the whole request), so
    /// nothing is lost. `None` = only the history item and a log line.
    #[serde(alias = "deadLetterPath")]
    pub dead_letter_path: Option<PathBuf>,
}

/// An action to execute, produced by a state transition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// The alarm.
    pub alarm_name: String,
    /// `MetricAlarm` or `CompositeAlarm`.
    pub alarm_type: String,
    /// The action ARN (an SNS topic for anything that can be executed here).
    pub action_arn: String,
    /// The state entered.
    pub new_state: AlarmState,
    /// When the state changed, epoch ms.
    pub state_change_ms: i64,
    /// SNS `Subject`: `ALARM: "name" in US East (N. Virginia)` (≤ 100 characters).
    pub subject: String,
    /// SNS `Message`: the alarm JSON text as CloudWatch sends it.
    pub message: String,
}

/// The result of executing an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// The request.
    pub request: ActionRequest,
    /// Whether it finally succeeded.
    pub succeeded: bool,
    /// Attempts made.
    pub attempts: u32,
    /// The last error, when it failed.
    pub error: Option<String>,
}

/// The long region name CloudWatch puts in notifications (`US East (N. Virginia)`); the code
/// itself for regions not in the table.
pub fn region_name(code: &str) -> String {
    let name = match code {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-north-1" => "EU (Stockholm)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "sa-east-1" => "South America (Sao Paulo)",
        "ca-central-1" => "Canada (Central)",
        other => other,
    };
    name.to_string()
}

fn dims_json(d: &[crate::model::Dimension]) -> serde_json::Value {
    json!(d
        .iter()
        .map(|d| json!({"value": d.value, "name": d.name}))
        .collect::<Vec<_>>())
}

/// The alarm JSON text CloudWatch publishes to SNS for a metric alarm transition
/// (`AlarmName`, `AlarmDescription`, `AWSAccountId`, `AlarmConfigurationUpdatedTimestamp`,
/// `NewStateValue`, `NewStateReason`, `StateChangeTime`, `Region`, `AlarmArn`,
/// `OldStateValue`, `OKActions`, `AlarmActions`, `InsufficientDataActions`, `Trigger`).
/// In `Trigger`, `Statistic` is upper case (`SUM`) as in CloudWatch's notifications \[I\].
pub fn metric_alarm_message(a: &MetricAlarm, old: AlarmState, cfg: &AlarmConfig) -> String {
    let c = &a.config;
    let mut trigger = serde_json::Map::new();
    if c.metrics.is_empty() {
        trigger.insert("MetricName".into(), json!(c.metric_name));
        trigger.insert("Namespace".into(), json!(c.namespace));
        match (&c.statistic, &c.extended_statistic) {
            (_, Some(e)) => {
                trigger.insert("StatisticType".into(), json!("ExtendedStatistic"));
                trigger.insert("ExtendedStatistic".into(), json!(e));
            }
            (s, None) => {
                trigger.insert("StatisticType".into(), json!("Statistic"));
                trigger.insert(
                    "Statistic".into(),
                    json!(s.as_deref().unwrap_or("").to_uppercase()),
                );
            }
        }
        trigger.insert("Unit".into(), json!(c.unit));
        trigger.insert("Dimensions".into(), dims_json(&c.dimensions));
        trigger.insert("Period".into(), json!(c.period));
    } else {
        let metrics: Vec<serde_json::Value> = c
            .metrics
            .iter()
            .map(|q| {
                let mut m = serde_json::Map::new();
                m.insert("Id".into(), json!(q.id));
                if let Some(e) = &q.expression {
                    m.insert("Expression".into(), json!(e));
                }
                if let Some(s) = &q.metric_stat {
                    m.insert(
                        "MetricStat".into(),
                        json!({
                            "Metric": {"Dimensions": dims_json(&s.metric.dimensions), "MetricName": s.metric.metric_name, "Namespace": s.metric.namespace},
                            "Period": s.period,
                            "Stat": s.stat,
                        }),
                    );
                }
                if let Some(l) = &q.label {
                    m.insert("Label".into(), json!(l));
                }
                m.insert("ReturnData".into(), json!(q.return_data.unwrap_or(true)));
                serde_json::Value::Object(m)
            })
            .collect();
        trigger.insert("Period".into(), json!(c.period.unwrap_or(0)));
        trigger.insert("Metrics".into(), json!(metrics));
    }
    trigger.insert("EvaluationPeriods".into(), json!(c.evaluation_periods));
    if let Some(m) = c.datapoints_to_alarm {
        trigger.insert("DatapointsToAlarm".into(), json!(m));
    }
    trigger.insert("ComparisonOperator".into(), json!(c.comparison_operator));
    trigger.insert("Threshold".into(), json!(c.threshold));
    trigger.insert(
        "TreatMissingData".into(),
        json!(c.treat_missing_data.as_deref().unwrap_or("missing")),
    );
    trigger.insert(
        "EvaluateLowSampleCountPercentile".into(),
        json!(c
            .evaluate_low_sample_count_percentile
            .as_deref()
            .unwrap_or("")),
    );
    json!({
        "AlarmName": a.name(),
        "AlarmDescription": c.alarm_description,
        "AWSAccountId": cfg.account_id,
        "AlarmConfigurationUpdatedTimestamp": format_alarm_time(a.alarm_configuration_updated_ms),
        "NewStateValue": a.state_value.as_str(),
        "NewStateReason": a.state_reason,
        "StateChangeTime": format_alarm_time(a.state_transitioned_ms),
        "Region": region_name(&cfg.region),
        "AlarmArn": a.alarm_arn,
        "OldStateValue": old.as_str(),
        "OKActions": c.ok_actions,
        "AlarmActions": c.alarm_actions,
        "InsufficientDataActions": c.insufficient_data_actions,
        "Trigger": serde_json::Value::Object(trigger),
    })
    .to_string()
}

/// The alarm JSON text for a composite alarm transition (`AlarmRule`, `TriggeringChildren`
/// instead of `Trigger`).
pub fn composite_alarm_message(a: &CompositeAlarm, old: AlarmState, cfg: &AlarmConfig) -> String {
    let children: serde_json::Value = a
        .state_reason_data
        .as_deref()
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .map(|v| {
            json!(v["triggeringAlarms"]
                .as_array()
                .map(|l| l
                    .iter()
                    .map(|t| json!({"Arn": t["arn"], "State": {"Value": t["state"]["value"], "Timestamp": t["state"]["timestamp"]}}))
                    .collect::<Vec<_>>())
                .unwrap_or_default())
        })
        .unwrap_or_else(|| json!([]));
    json!({
        "AlarmName": a.name(),
        "AlarmDescription": a.config.alarm_description,
        "AWSAccountId": cfg.account_id,
        "NewStateValue": a.state_value.as_str(),
        "NewStateReason": a.state_reason,
        "StateChangeTime": format_alarm_time(a.state_transitioned_ms),
        "Region": region_name(&cfg.region),
        "AlarmArn": a.alarm_arn,
        "OldStateValue": old.as_str(),
        "AlarmRule": a.config.alarm_rule,
        "TriggeringChildren": children,
    })
    .to_string()
}

/// A random UUID v4 text from the standard library's randomly keyed hasher (not
/// cryptographic; used for SNS `MessageId`).
fn message_id() -> String {
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i as u64);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The SNS HTTP/S notification envelope for a request (what an SNS subscription POSTs):
/// `Type`, `MessageId`, `TopicArn`, `Subject`, `Message`, `Timestamp`, `SignatureVersion`,
/// `Signature`, `SigningCertURL`, `UnsubscribeURL`. OpenWatch cannot sign as SNS does:
/// `Signature` and `SigningCertURL` are empty.
pub fn sns_envelope(req: &ActionRequest, now_ms: i64) -> serde_json::Value {
    json!({
        "Type": "Notification",
        "MessageId": message_id(),
        "TopicArn": req.action_arn,
        "Subject": req.subject,
        "Message": req.message,
        "Timestamp": format_iso_z(now_ms),
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": "",
        "UnsubscribeURL": "",
    })
}

/// Executes action requests. Blocking: run it on a blocking thread.
#[derive(Debug, Clone)]
pub struct ActionDispatcher {
    config: ActionsConfig,
}

impl ActionDispatcher {
    /// A dispatcher for a configuration.
    pub fn new(config: ActionsConfig) -> Self {
        ActionDispatcher { config }
    }

    /// Executes one request: up to `max_attempts` tries with exponential backoff
    /// (`initial_backoff_ms × 2^k`, capped at `max_backoff_ms`). What finally fails is
    /// appended to the dead-letter file as one JSON line (the [`ActionOutcome`]). ARNs with
    /// no `actions.sns` mapping (Lambda, EC2, Auto Scaling, unmapped topics) fail at once
    /// and are dead-lettered.
    pub fn execute(&self, request: ActionRequest) -> ActionOutcome {
        let target = self
            .config
            .sns
            .iter()
            .find(|t| t.topic_arn == request.action_arn)
            .cloned();
        let policy = &self.config.retry;
        let mut attempts = 0;
        let mut last_error = None;
        match target {
            None => {
                last_error = Some(format!(
                    "no actions.sns entry of the server config maps {} (only SNS topics mapped to a webhook or command can be executed)",
                    request.action_arn
                ));
            }
            Some(t) => {
                let max = policy.max_attempts.max(1);
                let mut delay = policy.initial_backoff_ms;
                while attempts < max {
                    attempts += 1;
                    let now_ms = chrono::Utc::now().timestamp_millis();
                    let body = sns_envelope(&request, now_ms);
                    let res = match (&t.webhook, &t.command) {
                        (Some(url), _) => self.post(url, &body, &request),
                        (None, Some(cmd)) => self.run_command(cmd, &body),
                        (None, None) => {
                            Err("the actions.sns entry has neither webhook nor command".to_string())
                        }
                    };
                    match res {
                        Ok(()) => {
                            return ActionOutcome {
                                request,
                                succeeded: true,
                                attempts,
                                error: None,
                            }
                        }
                        Err(e) => {
                            tracing::warn!(action = %request.action_arn, attempt = attempts, error = %e, "alarm action failed");
                            last_error = Some(e);
                        }
                    }
                    if attempts < max {
                        std::thread::sleep(Duration::from_millis(delay.min(policy.max_backoff_ms)));
                        delay = delay.saturating_mul(2);
                    }
                }
            }
        }
        let outcome = ActionOutcome {
            request,
            succeeded: false,
            attempts,
            error: last_error,
        };
        self.dead_letter(&outcome);
        outcome
    }

    fn post(&self, url: &str, body: &serde_json::Value, req: &ActionRequest) -> Result<(), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(self.config.retry.timeout_ms)))
            .http_status_as_error(false)
            .build()
            .into();
        let resp = agent
            .post(url)
            .header("Content-Type", "text/plain; charset=UTF-8")
            .header("x-amz-sns-message-type", "Notification")
            .header(
                "x-amz-sns-message-id",
                body["MessageId"].as_str().unwrap_or(""),
            )
            .header("x-amz-sns-topic-arn", req.action_arn.as_str())
            .send(body.to_string().as_bytes())
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("POST {url}: HTTP status {status}"))
        }
    }

    fn run_command(&self, cmd: &[String], body: &serde_json::Value) -> Result<(), String> {
        let (prog, args) = cmd
            .split_first()
            .ok_or_else(|| "empty command".to_string())?;
        let mut child = Command::new(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {prog}: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its input closes the pipe: not an error by itself,
            // the exit status decides.
            if let Err(e) = stdin.write_all(body.to_string().as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("writing to {prog}: {e}"));
                }
            }
        }
        let deadline =
            std::time::Instant::now() + Duration::from_millis(self.config.retry.timeout_ms);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("{prog} exited with {status}")),
                Ok(None) if std::time::Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{prog} timed out"));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("waiting for {prog}: {e}")),
            }
        }
    }

    fn dead_letter(&self, outcome: &ActionOutcome) {
        tracing::error!(action = %outcome.request.action_arn, alarm = %outcome.request.alarm_name, error = outcome.error.as_deref().unwrap_or(""), "alarm action finally failed");
        let Some(path) = &self.config.dead_letter_path else {
            return;
        };
        let line = match serde_json::to_string(outcome) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(%e, "cannot encode dead letter");
                return;
            }
        };
        let res = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| {
                f.write_all(format!("{line}\n").as_bytes())?;
                f.sync_data()
            });
        if let Err(e) = res {
            tracing::error!(path = %path.display(), %e, "cannot append to the dead-letter file");
        }
    }
}
