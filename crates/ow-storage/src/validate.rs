//! PutLogEvents validation (spec api.md, PutLogEvents rules 1–5 [V]).

use std::ops::Range;

use crate::config::PutLimits;
use crate::error::{Result, StoreError};
use crate::model::{InputLogEvent, RejectedLogEventsInfo};

/// Outcome of validating one PutLogEvents batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedBatch {
    /// Indexes of the events to store (a contiguous range: rejected-old events form a
    /// prefix and rejected-new events a suffix, because the batch is chronological).
    pub accepted: Range<usize>,
    /// What was rejected one by one.
    pub rejected: RejectedLogEventsInfo,
}

/// Applies AWS's PutLogEvents rules to a batch received at `now_ms` (epoch ms) for a log
/// group whose retention is `retention_in_days` (`None` = never expire).
///
/// Whole-batch failures (AWS `InvalidParameterException`), in this order: empty batch or
/// more than `max_batch_events`; an empty message or an event over `max_event_bytes`;
/// Σ(message bytes + 26) over `max_batch_bytes`; timestamps not in non-decreasing order;
/// the events left after individual rejections spanning more than 24 hours.
///
/// Individual rejections: timestamp > now + 2 h → too new (suffix from
/// `too_new_log_event_start_index`); timestamp < now − 14 days → too old (prefix up to
/// `too_old_log_event_end_index`); timestamp < now − retention → expired (prefix up to
/// `expired_log_event_end_index`). [I] When an event is both too old and expired, both
/// indexes cover it (each prefix is computed on its own rule).
pub fn validate_put_log_events(
    events: &[InputLogEvent],
    limits: &PutLimits,
    retention_in_days: Option<u32>,
    now_ms: i64,
) -> Result<ValidatedBatch> {
    if events.is_empty() {
        return Err(StoreError::InvalidParameter(
            "logEvents must contain at least 1 event".into(),
        ));
    }
    if events.len() > limits.max_batch_events {
        return Err(StoreError::InvalidParameter(format!(
            "logEvents has {} events; a batch holds at most {}",
            events.len(),
            limits.max_batch_events
        )));
    }
    let mut total: usize = 0;
    for (i, e) in events.iter().enumerate() {
        if e.message.is_empty() {
            return Err(StoreError::InvalidParameter(format!(
                "logEvents.{i}.message must have at least 1 character"
            )));
        }
        let size = e.message.len() + limits.event_overhead_bytes;
        if size > limits.max_event_bytes {
            return Err(StoreError::InvalidParameter(format!(
                "Log event too large: logEvents.{i} is {size} bytes (message + {} bytes); the maximum is {}",
                limits.event_overhead_bytes, limits.max_event_bytes
            )));
        }
        total = total.saturating_add(size);
    }
    if total > limits.max_batch_bytes {
        return Err(StoreError::InvalidParameter(format!(
            "Upload too large: the batch is {total} bytes (messages + {} bytes per event); the maximum is {}",
            limits.event_overhead_bytes, limits.max_batch_bytes
        )));
    }
    if events
        .windows(2)
        .any(|w| w[1].timestamp_ms < w[0].timestamp_ms)
    {
        return Err(StoreError::InvalidParameter(
            "Log events in a single PutLogEvents request must be in chronological order.".into(),
        ));
    }

    let too_new_from = now_ms.saturating_add(limits.max_future_ms);
    let too_old_before = now_ms.saturating_sub(limits.max_age_ms);
    let expired_before =
        retention_in_days.map(|d| now_ms.saturating_sub(i64::from(d).saturating_mul(86_400_000)));

    let too_old_end = events.partition_point(|e| e.timestamp_ms < too_old_before);
    let expired_end = expired_before
        .map(|cut| events.partition_point(|e| e.timestamp_ms < cut))
        .unwrap_or(0);
    let too_new_start = events.partition_point(|e| e.timestamp_ms <= too_new_from);

    let start = too_old_end.max(expired_end).min(too_new_start);
    let accepted = start..too_new_start;
    if let (Some(first), Some(last)) = (
        events.get(accepted.start),
        events.get(accepted.end.wrapping_sub(1)),
    ) {
        if !accepted.is_empty()
            && last.timestamp_ms.saturating_sub(first.timestamp_ms) > limits.max_batch_span_ms
        {
            return Err(StoreError::InvalidParameter(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.".into(),
            ));
        }
    }
    let rejected = RejectedLogEventsInfo {
        too_new_log_event_start_index: (too_new_start < events.len()).then_some(too_new_start),
        too_old_log_event_end_index: (too_old_end > 0).then_some(too_old_end),
        expired_log_event_end_index: (expired_end > 0).then_some(expired_end),
    };
    Ok(ValidatedBatch { accepted, rejected })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const H: i64 = 3_600_000;
    const D: i64 = 24 * H;

    fn ev(ts: i64) -> InputLogEvent {
        InputLogEvent {
            timestamp_ms: ts,
            message: "m".into(),
        }
    }

    fn check(ts: &[i64], retention: Option<u32>) -> Result<ValidatedBatch> {
        let events: Vec<_> = ts.iter().map(|&t| ev(t)).collect();
        validate_put_log_events(&events, &PutLimits::default(), retention, NOW)
    }

    #[test]
    fn rejected_indexes_follow_aws_rules() {
        // 0: 15 days old (too old), 1: 13 days old (ok), 2: now, 3: now+3h (too new)
        let v = check(&[NOW - 15 * D, NOW - 13 * D + H, NOW, NOW + 3 * H], None);
        // the accepted ones span more than 24h -> error
        assert!(matches!(v, Err(StoreError::InvalidParameter(_))));
        let v = check(
            &[NOW - 15 * D, NOW - H, NOW, NOW + 2 * H, NOW + 2 * H + 1],
            None,
        )
        .unwrap();
        assert_eq!(v.accepted, 1..4);
        assert_eq!(v.rejected.too_old_log_event_end_index, Some(1));
        assert_eq!(v.rejected.too_new_log_event_start_index, Some(4));
        assert_eq!(v.rejected.expired_log_event_end_index, None);
    }

    #[test]
    fn retention_rejects_expired_prefix() {
        let v = check(&[NOW - 2 * D, NOW - D - 1, NOW - D + 1, NOW], Some(1)).unwrap();
        assert_eq!(v.accepted, 2..4);
        assert_eq!(v.rejected.expired_log_event_end_index, Some(2));
        assert_eq!(v.rejected.too_old_log_event_end_index, None);
        // all rejected: nothing accepted, no span error
        let v = check(&[NOW - 20 * D, NOW - 16 * D], Some(1)).unwrap();
        assert!(v.accepted.is_empty());
        assert_eq!(v.rejected.too_old_log_event_end_index, Some(2));
        assert_eq!(v.rejected.expired_log_event_end_index, Some(2));
    }

    #[test]
    fn order_size_and_count_fail_the_whole_batch() {
        assert!(check(&[NOW, NOW - 1], None).is_err());
        assert!(check(&[], None).is_err());
        let limits = PutLimits::default();
        // 26 bytes per event counts: 10,000 events of 79 bytes = 1,050,000 > 1,048,576
        let events: Vec<_> = (0..10_000)
            .map(|_| InputLogEvent {
                timestamp_ms: NOW,
                message: "x".repeat(79),
            })
            .collect();
        assert!(validate_put_log_events(&events, &limits, None, NOW).is_err());
        // 78 bytes: 1,040,000 fits
        let events: Vec<_> = (0..10_000)
            .map(|_| InputLogEvent {
                timestamp_ms: NOW,
                message: "x".repeat(78),
            })
            .collect();
        assert!(validate_put_log_events(&events, &limits, None, NOW).is_ok());
        let events: Vec<_> = (0..10_001).map(|_| ev(NOW)).collect();
        assert!(validate_put_log_events(&events, &limits, None, NOW).is_err());
        let empty = [InputLogEvent {
            timestamp_ms: NOW,
            message: String::new(),
        }];
        assert!(validate_put_log_events(&empty, &limits, None, NOW).is_err());
    }

    #[test]
    fn span_of_exactly_24_hours_is_allowed() {
        assert!(check(&[NOW - D, NOW], None).is_ok());
        assert!(check(&[NOW - D - 1, NOW], None).is_err());
    }
}
