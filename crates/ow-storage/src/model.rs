//! Metadata and event types of the store's public API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A log group's metadata (DescribeLogGroups' `logGroups[]`, spec api.md [V]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    /// Log group name (`[\.\-_/#A-Za-z0-9]+`, 1–512 chars).
    pub name: String,
    /// Account id owning the group (config, default `000000000000`).
    pub account_id: String,
    /// Region used in the ARN.
    pub region: String,
    /// Creation time, epoch ms UTC.
    pub creation_time_ms: i64,
    /// Retention in days; `None` = never expire (AWS default).
    pub retention_in_days: Option<u32>,
    /// Bytes of event data held: Σ(UTF-8 message bytes + 26) over stored events. [I] AWS
    /// counts compressed bytes; we report the uncompressed event size AWS bills ingestion by.
    pub stored_bytes: u64,
    /// Number of stored events.
    pub event_count: u64,
    /// Smallest and largest stored `@timestamp` (epoch ms), `None` when empty.
    pub first_event_timestamp_ms: Option<i64>,
    /// See `first_event_timestamp_ms`.
    pub last_event_timestamp_ms: Option<i64>,
    /// Tags (TagResource / CreateLogGroup `tags`).
    pub tags: BTreeMap<String, String>,
    /// Log group class: `STANDARD` (default), `INFREQUENT_ACCESS` or `DELIVERY`.
    pub log_group_class: String,
    /// Deletion protection (blocks DeleteLogGroup).
    pub deletion_protection_enabled: bool,
}

impl LogGroup {
    /// The `arn` field: `arn:aws:logs:<region>:<account>:log-group:<name>:*` (trailing `:*`).
    pub fn arn(&self) -> String {
        format!("{}:*", self.log_group_arn())
    }

    /// The `logGroupArn` field: the ARN without the trailing `:*`.
    pub fn log_group_arn(&self) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{}",
            self.region, self.account_id, self.name
        )
    }

    /// The `@log` value of this group's events: `account-id:log-group-name` (spec §3.1).
    pub fn at_log(&self) -> String {
        format!("{}:{}", self.account_id, self.name)
    }
}

/// A log stream's metadata (DescribeLogStreams' `logStreams[]`, spec api.md [V]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogStream {
    /// Log stream name (1–512 chars, no `:` or `*`).
    pub name: String,
    /// Creation time, epoch ms UTC.
    pub creation_time_ms: i64,
    /// Smallest stored event `@timestamp`, epoch ms; `None` before the first event.
    pub first_event_timestamp_ms: Option<i64>,
    /// Largest stored event `@timestamp`, epoch ms.
    pub last_event_timestamp_ms: Option<i64>,
    /// Latest ingestion time, epoch ms.
    pub last_ingestion_time_ms: Option<i64>,
    /// Σ(message bytes + 26) of the stream's events. AWS always reports 0 here since 2019;
    /// the API layer decides what to show.
    pub stored_bytes: u64,
    /// Number of events written to the stream.
    pub event_count: u64,
}

/// One event given to [`crate::Store::put_log_events`] (AWS `InputLogEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLogEvent {
    /// Event time, epoch ms UTC.
    pub timestamp_ms: i64,
    /// Raw message, at least 1 character.
    pub message: String,
}

/// One event given to [`crate::Store::import_events`]: no age or order limits.
pub type NewEvent = InputLogEvent;

/// Which events PutLogEvents rejected one by one (AWS `rejectedLogEventsInfo` [V]).
/// Indexes refer to the request's `logEvents` list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedLogEventsInfo {
    /// First index of the too-new suffix (inclusive): events more than 2 h in the future.
    pub too_new_log_event_start_index: Option<usize>,
    /// End of the too-old prefix (exclusive): events older than 14 days.
    pub too_old_log_event_end_index: Option<usize>,
    /// End of the expired prefix (exclusive): events older than the group's retention.
    pub expired_log_event_end_index: Option<usize>,
}

impl RejectedLogEventsInfo {
    /// Whether nothing was rejected (AWS then omits `rejectedLogEventsInfo`).
    pub fn is_empty(&self) -> bool {
        *self == RejectedLogEventsInfo::default()
    }
}

/// Result of [`crate::Store::put_log_events`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutLogEventsOutput {
    /// Events stored (durable when this is returned).
    pub accepted: usize,
    /// Events rejected one by one.
    pub rejected: RejectedLogEventsInfo,
    /// `__seq` of the first stored event; stored events got consecutive values.
    pub first_seq: Option<u64>,
}

/// Result of [`crate::Store::import_events`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutput {
    /// Events stored (durable).
    pub events: u64,
    /// Σ(message bytes + 26) of the stored events.
    pub bytes: u64,
}

/// A stored event as GetLogRecord / GetLogEvents return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// `__seq` within the log group.
    pub seq: u64,
    /// Event time, epoch ms.
    pub timestamp_ms: i64,
    /// Ingestion time, epoch ms.
    pub ingestion_time_ms: i64,
    /// Log stream name.
    pub log_stream: String,
    /// Raw message.
    pub message: String,
}

/// Paging of list operations: an opaque `next_token` continues a previous call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Only names starting with this (case-sensitive).
    pub prefix: Option<String>,
    /// Page size; AWS: 1–50, default 50 (the API layer validates; the store caps at
    /// nothing and treats `None` as 50).
    pub limit: Option<usize>,
    /// Token from the previous page.
    pub next_token: Option<String>,
}

/// One page of a list operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Items of this page, in the operation's order.
    pub items: Vec<T>,
    /// Token for the next page; `None` when this was the last one.
    pub next_token: Option<String>,
}

/// Order of DescribeLogStreams (spec api.md [V]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StreamOrder {
    /// By name, ASCII order (default).
    #[default]
    LogStreamName,
    /// By last event time (prefix not allowed with this order).
    LastEventTime,
}

/// Per-log-group field statistics over a time range (feeds GetLogGroupFields).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldStats {
    /// Events considered.
    pub events: u64,
    /// `(path, events having the path)`, most frequent first, then by name.
    pub fields: Vec<(String, u64)>,
}

/// What recovery found when the store was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// WAL records replayed into the buffer.
    pub replayed_records: u64,
    /// Events replayed into the buffer.
    pub replayed_events: u64,
    /// Bytes cut from the end of the WAL because the tail was torn (a crash mid-write)
    /// or failed its checksum.
    pub truncated_bytes: u64,
    /// Description of the damaged tail, if any (file, offset, reason).
    pub tail_problem: Option<String>,
    /// Segment files found on disk but not in the manifest (left by a crash mid-flush),
    /// removed.
    pub orphan_segments_removed: u64,
}
