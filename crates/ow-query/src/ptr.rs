//! `@ptr`: the opaque pointer returned with every non-aggregated row (spec §3.1, §10).
//!
//! Encoding (ours; AWS only promises that `GetLogRecord` accepts it): URL-safe base64 without
//! padding of `v1:<seq>:<log group name>`, where `<seq>` is the event's `__seq` in decimal.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Encodes the pointer of event `seq` of `log_group`.
pub fn encode(log_group: &str, seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{seq}:{log_group}"))
}

/// Decodes a pointer made by [`encode`] into `(log_group, seq)`; `None` if it is not one.
pub fn decode(ptr: &str) -> Option<(String, u64)> {
    let bytes = URL_SAFE_NO_PAD.decode(ptr.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("v1:")?;
    let (seq, group) = rest.split_once(':')?;
    if group.is_empty() {
        return None;
    }
    Some((group.to_string(), seq.parse().ok()?))
}
