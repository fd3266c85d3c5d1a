//! Column names and the Arrow schema of the core event columns (CONTRACTS.md).
//!
//! Every segment and every in-memory batch has the core columns below, in this order.
//! Segments may add *promoted* columns after them: one nullable `Utf8` column per
//! frequent flattened JSON path, named exactly as a query names the field (see
//! [`crate::fields`]). A segment without a promoted column for some path did not promote
//! it; its values must be extracted from `@message`.

use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// `@timestamp`: event time, `Int64` epoch milliseconds UTC, not null.
pub const TIMESTAMP: &str = "@timestamp";
/// The event times (epoch ms) OpenWatch accepts from importers and CLI arguments:
/// 0001-01-01T00:00:00.000Z ..= 9999-12-31T23:59:59.999Z, the times ISO 8601 and
/// GetQueryResults' `YYYY-MM-DD HH:MM:SS.mmm` can print. [I] Our bound; AWS's
/// PutLogEvents age windows are narrower and apply on top of it.
pub const PRINTABLE_TIME_MS: std::ops::RangeInclusive<i64> =
    -62_135_596_800_000..=253_402_300_799_999;
/// `@ingestionTime`: when the store received the event, `Int64` epoch ms UTC, not null.
pub const INGESTION_TIME: &str = "@ingestionTime";
/// `@logStream`: the log stream name, `Utf8`, not null.
pub const LOG_STREAM: &str = "@logStream";
/// `@message`: the raw event text, byte-exact, `Utf8`, not null.
pub const MESSAGE: &str = "@message";
/// `__seq`: `UInt64`, unique per log group, assigned when the write is acknowledged and
/// increasing in acknowledgement order. Identifies an event for `@ptr`/GetLogRecord;
/// never shown to users.
pub const SEQ: &str = "__seq";

/// Names of the core columns in schema order.
pub const CORE_COLUMNS: [&str; 5] = [TIMESTAMP, INGESTION_TIME, LOG_STREAM, MESSAGE, SEQ];

/// The Arrow schema of the core columns (the in-memory buffer's batches have exactly
/// this schema; segments start with it).
pub fn core_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(TIMESTAMP, DataType::Int64, false),
                Field::new(INGESTION_TIME, DataType::Int64, false),
                Field::new(LOG_STREAM, DataType::Utf8, false),
                Field::new(MESSAGE, DataType::Utf8, false),
                Field::new(SEQ, DataType::UInt64, false),
            ]))
        })
        .clone()
}

/// The Arrow field of a promoted column: nullable `Utf8` named by the field path.
pub fn promoted_field(path: &str) -> Field {
    Field::new(path, DataType::Utf8, true)
}

/// Whether `name` is one of the core columns (so not a promoted JSON path).
pub fn is_core_column(name: &str) -> bool {
    CORE_COLUMNS.contains(&name)
}
