//! Adapter over [`ow_storage::fields`]: extraction of field paths from a `@message` with
//! the same discovery rules as promotion and field statistics (spec §3.2, CONTRACTS.md):
//! JSON objects flattened, and the AWS text formats (Lambda `REPORT`/`START`/`END` lines,
//! the first JSON fragment of a Lambda runtime line, VPC flow log records), recognised by
//! the message's shape in every log group ([I], see `ow_storage::fields::aws`).

use std::borrow::Cow;

use ow_storage::fields::{PathExtractor, DEFAULT_MAX_FIELDS};

/// Extracts a fixed set of paths from messages, one JSON parse per message.
pub struct Extractor(PathExtractor);

impl Extractor {
    /// An extractor for `paths` (field names as a query writes them: `userIdentity.arn`,
    /// `@duration`, `srcAddr`), with the default 200-field cap.
    pub fn new(paths: &[&str]) -> Self {
        Extractor(PathExtractor::discovering(
            paths.iter().copied(),
            DEFAULT_MAX_FIELDS,
        ))
    }

    /// Fills `out` with one value per path: the field's text, or `None` when absent,
    /// null/object/array, beyond the cap, or the message has no discoverable fields.
    pub fn extract_into<'a>(&self, message: &'a str, out: &mut Vec<Option<Cow<'a, str>>>) {
        out.clear();
        if !self.0.extract_into(message, out) {
            out.clear();
        }
        out.resize(self.0.paths().len(), None);
    }
}

/// Extracts `paths` from one message (convenience for callers outside the scan).
pub fn extract_paths(message: &str, paths: &[&str]) -> Vec<Option<String>> {
    let e = Extractor::new(paths);
    let mut out = Vec::new();
    e.extract_into(message, &mut out);
    out.into_iter().map(|v| v.map(Cow::into_owned)).collect()
}
