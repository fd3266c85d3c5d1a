//! `ow-ingest`: importers that turn log files into events of an [`ow_storage::Store`].
//!
//! [`import_paths`] reads files, directories (walked recursively in name order; hidden
//! entries and `CloudTrail-Digest` folders skipped) and stdin (`-`). Every input may be
//! plain, gzip or zstd (detected from its first bytes). Formats ([`Format`]):
//!
//! | format | input | message | `@timestamp` | log stream |
//! |---|---|---|---|---|
//! | `cloudtrail` | `{"Records":[…]}` delivery documents, JSON arrays, or one record per line | the record's JSON, insignificant whitespace removed | `eventTime` | `<account>_CloudTrail_<region>` from `recipientAccountId` (else `userIdentity.accountId`, else the delivery file name) and `awsRegion` (else the file name) |
//! | `ndjson` | one JSON object per line | the line | `--timestamp-field` (default `eventTime`, `@timestamp`, `timestamp`, `time`): ISO 8601 or epoch s/ms | `--log-stream`, else the file name |
//! | `text` | lines | the line | `--timestamp-format` at the start of the line | as ndjson |
//! | `cloudwatch-events` | `{timestamp, message[, logStreamName]}` per line, in a JSON array, or in a response's `events` | `message` | `timestamp` (ms) | `logStreamName`, else as ndjson |
//! | `cloudwatch-export` | `<ISO 8601> <message>` per line | the rest of the line (plus continuation lines) | the leading timestamp | as ndjson; `<stream>/000000.gz` names the stream |
//!
//! `auto` picks per input: documents by their shape (`Records` → cloudtrail, `events` →
//! cloudwatch-events); JSON lines by the first line's keys (`timestamp`+`message` →
//! cloudwatch-events, `eventSource`+`eventName`+`eventVersion`/`eventTime`/`awsRegion` → cloudtrail,
//! else ndjson); other lines → cloudwatch-export when the first starts with an ISO 8601
//! timestamp and a space, else text. Without a usable time an event gets the ingestion
//! time (counted in [`ImportSummary::ingestion_time_fallbacks`]).
//!
//! In `auto` and `ndjson` a line that is not a JSON object (broken JSON, a JSON scalar or
//! array, nesting too deep, plain text among JSON lines, or an `auto` input that looked
//! like a JSON document but is not one) is stored as a text event with the ingestion
//! time, as CloudWatch Logs stores every line and discovers JSON fields per event
//! (counted in [`ImportSummary::non_json_lines`]).
//!
//! Records AWS would not accept, and malformed records of an explicit `cloudtrail` or
//! `cloudwatch-events` format (invalid JSON, missing CloudWatch fields), are skipped and
//! reported with file and line in [`ImportSummary::rejections`]: lines that are not
//! UTF-8, events over 1 MB, empty `cloudwatch-events` messages. They never stop an import.
//!
//! ```
//! use ow_ingest::{import_reader, ImportOptions};
//! let dir = tempfile::tempdir().unwrap();
//! let store = ow_storage::Store::open(dir.path(), Default::default()).unwrap();
//! let input = b"{\"time\":1700000000,\"msg\":\"a\"}\nnot json\n\xFF\n";
//! let summary = import_reader(&store, "app.ndjson", &input[..], &ImportOptions {
//!     format: ow_ingest::Format::Ndjson,
//!     ..ImportOptions::new("app")
//! }).unwrap();
//! assert_eq!(summary.events, 2); // `not json` is kept as a text event
//! assert_eq!(summary.non_json_lines, 1);
//! assert_eq!(summary.rejections[0].line, Some(3)); // not UTF-8
//! ```

#![deny(missing_docs)]

mod error;
mod import;
pub mod time;

pub use error::{IngestError, Result};
pub use import::{
    import_paths, import_reader, minify_json, Format, ImportOptions, ImportSummary, InputLine,
    NoProgress, Progress, Rejection, NON_JSON_LINES_SHOWN,
};
