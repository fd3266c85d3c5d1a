//! The server configuration file of `openwatch serve --config FILE` (JSON).
//!
//! ```json
//! {
//!   "accessKeys": [
//!     {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "wJalr…", "accountId": "123456789012"}
//!   ],
//!   "region": "us-east-1",
//!   "maxBodyBytes": 8388608,
//!   "maxConcurrentQueries": 30,
//!   "putLogEvents": {"maxAgeMs": 1209600000, "maxFutureMs": 7200000}
//! }
//! ```
//!
//! Every member but `accessKeys` is optional and defaults to AWS's value. In `putLogEvents`,
//! `maxAgeMs` / `maxFutureMs` set PutLogEvents' age windows (AWS: 14 days back, 2 hours
//! ahead); `null` (or the string `"off"`) turns a window off, so historical archives can be
//! loaded through the API. `queryTimeoutSeconds` (default 3600, AWS's 60 minutes) ends long
//! queries with status `Timeout`; `maintenanceIntervalSeconds` (default 600, `0` = off) is
//! how often retention and compaction run in the background. Unknown members are an error
//! (a typo must not be ignored).
//!
//! `actions` maps the SNS topics alarms name to deliveries (`ow_metrics::ActionsConfig`): `{"actions": {"sns": [{"topicArn":
//! "arn:aws:sns:us-east-1:123456789012:ops", "webhook": "http://127.0.0.1:9000/hook"}],
//! "retry": {"maxAttempts": 5}, "deadLetterPath": "/var/lib/openwatch/dead.jsonl"}}`.

use serde::Deserialize;
use serde_json::Value;

use crate::auth::{AccessKey, KeyStore};
use crate::error::ApiError;
use crate::ApiConfig;

/// PutLogEvents' age windows in ms; `None` = off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeWindows {
    /// Events older than this (ms before now) are rejected as too old. AWS: 14 days.
    pub max_age_ms: Option<i64>,
    /// Events more than this (ms) in the future are rejected as too new. AWS: 2 hours.
    pub max_future_ms: Option<i64>,
}

impl Default for AgeWindows {
    fn default() -> Self {
        AgeWindows {
            max_age_ms: Some(14 * 86_400_000),
            max_future_ms: Some(2 * 3_600_000),
        }
    }
}

/// A parsed configuration file.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The access keys (may be empty: then the caller supplies keys another way).
    pub keys: Vec<AccessKey>,
    /// API settings.
    pub api: ApiConfig,
    /// PutLogEvents windows.
    pub age_windows: AgeWindows,
    /// Run time after which a Logs Insights query ends with status `Timeout`
    /// (`queryTimeoutSeconds`; AWS: 60 minutes).
    pub query_timeout: std::time::Duration,
    /// Alarm actions (`actions`: SNS topics mapped to webhooks or commands, retry policy,
    /// dead-letter file); see `ow_metrics::ActionsConfig`.
    pub actions: ow_metrics::ActionsConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    #[serde(default)]
    access_keys: Vec<AccessKey>,
    region: Option<String>,
    max_body_bytes: Option<usize>,
    max_concurrent_queries: Option<usize>,
    put_log_events: Option<PutFile>,
    query_timeout_seconds: Option<u64>,
    maintenance_interval_seconds: Option<u64>,
    #[serde(default)]
    actions: ow_metrics::ActionsConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PutFile {
    #[serde(default = "absent")]
    max_age_ms: Value,
    #[serde(default = "absent")]
    max_future_ms: Value,
}

/// A marker for "member not given" (distinct from an explicit `null` = off).
fn absent() -> Value {
    Value::Bool(false)
}

fn window(member: &str, value: &Value, default: Option<i64>) -> Result<Option<i64>, ApiError> {
    match value {
        Value::Bool(false) => Ok(default),
        Value::Null => Ok(None),
        Value::String(s) if s == "off" => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(v) if v >= 0 => Ok(Some(v)),
            _ => Err(ApiError::InvalidParameter(format!(
                "config: putLogEvents.{member} must be a non-negative integer (ms), null or \"off\""
            ))),
        },
        _ => Err(ApiError::InvalidParameter(format!(
            "config: putLogEvents.{member} must be a non-negative integer (ms), null or \"off\""
        ))),
    }
}

impl ServerConfig {
    /// Parses the configuration file text.
    ///
    /// # Errors
    /// [`ApiError::InvalidParameter`] naming the problem (malformed JSON, unknown member,
    /// invalid key, zero limits).
    pub fn from_json(text: &str) -> Result<Self, ApiError> {
        let file: File = serde_json::from_str(text)
            .map_err(|e| ApiError::InvalidParameter(format!("config: {e}")))?;
        KeyStore::new(file.access_keys.clone())?;
        let mut api = ApiConfig::default();
        if let Some(r) = file.region {
            if r.is_empty() {
                return Err(ApiError::InvalidParameter("config: region is empty".into()));
            }
            api.region = r;
        }
        if let Some(b) = file.max_body_bytes {
            if b == 0 {
                return Err(ApiError::InvalidParameter(
                    "config: maxBodyBytes is 0".into(),
                ));
            }
            api.max_body_bytes = b;
        }
        if let Some(q) = file.max_concurrent_queries {
            if q == 0 {
                return Err(ApiError::InvalidParameter(
                    "config: maxConcurrentQueries is 0".into(),
                ));
            }
            api.max_concurrent_queries = q;
        }
        let defaults = AgeWindows::default();
        let age_windows = match file.put_log_events {
            None => defaults,
            Some(p) => AgeWindows {
                max_age_ms: window("maxAgeMs", &p.max_age_ms, defaults.max_age_ms)?,
                max_future_ms: window("maxFutureMs", &p.max_future_ms, defaults.max_future_ms)?,
            },
        };
        let query_timeout = match file.query_timeout_seconds {
            None => std::time::Duration::from_secs(3600),
            Some(0) => {
                return Err(ApiError::InvalidParameter(
                    "config: queryTimeoutSeconds is 0".into(),
                ))
            }
            Some(s) => std::time::Duration::from_secs(s),
        };
        match file.maintenance_interval_seconds {
            None => {}
            Some(0) => api.maintenance_interval = None,
            Some(s) => api.maintenance_interval = Some(std::time::Duration::from_secs(s)),
        }
        Ok(ServerConfig {
            keys: file.access_keys,
            api,
            age_windows,
            query_timeout,
            actions: file.actions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_minimal_files() {
        let c = ServerConfig::from_json(
            r#"{"accessKeys":[{"accessKeyId":"AK","secretAccessKey":"S","accountId":"123456789012"}],
                "region":"eu-west-1","maxBodyBytes":1000,"maxConcurrentQueries":2,
                "putLogEvents":{"maxAgeMs":null,"maxFutureMs":60000}}"#,
        )
        .unwrap();
        assert_eq!(c.keys[0].account_id, "123456789012");
        assert_eq!(c.api.region, "eu-west-1");
        assert_eq!(c.api.max_body_bytes, 1000);
        assert_eq!(c.api.max_concurrent_queries, 2);
        assert_eq!(c.age_windows.max_age_ms, None);
        assert_eq!(c.age_windows.max_future_ms, Some(60_000));
        assert_eq!(c.query_timeout, std::time::Duration::from_secs(3600));
        let t = ServerConfig::from_json(
            r#"{"queryTimeoutSeconds": 5, "maintenanceIntervalSeconds": 0}"#,
        )
        .unwrap();
        assert_eq!(t.query_timeout, std::time::Duration::from_secs(5));
        assert_eq!(t.api.maintenance_interval, None);
        assert!(ServerConfig::from_json(r#"{"queryTimeoutSeconds": 0}"#).is_err());

        let m = ServerConfig::from_json(r#"{"putLogEvents":{"maxAgeMs":"off"}}"#).unwrap();
        assert!(m.keys.is_empty());
        assert_eq!(m.age_windows.max_age_ms, None);
        assert_eq!(m.age_windows.max_future_ms, Some(7_200_000));
        assert_eq!(
            ServerConfig::from_json("{}").unwrap().age_windows,
            AgeWindows::default()
        );
    }

    #[test]
    fn rejects_typos_and_bad_values() {
        for bad in [
            r#"{"acessKeys":[]}"#,
            r#"{"maxBodyBytes":0}"#,
            r#"{"putLogEvents":{"maxAgeMs":-1}}"#,
            r#"{"putLogEvents":{"maxAge":1}}"#,
            r#"{"accessKeys":[{"accessKeyId":"A","secretAccessKey":"S","accountId":"12"}]}"#,
            "not json",
        ] {
            assert!(ServerConfig::from_json(bad).is_err(), "{bad}");
        }
    }
}
