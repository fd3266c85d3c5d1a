//! [`LogBackend`] over `ow_storage::Store` and [`QueryBackend`] over
//! `ow_query::QueryEngine`: error mapping to AWS errors and the reads the store does not
//! offer as such (the events of a log group in a time range, for GetLogEvents and
//! FilterLogEvents, read from a store snapshot: buffered batches plus segment files).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use ow_storage::{InputLogEvent, PageRequest, Store, StoreError};

use crate::backend::{
    Cancel, Cursor, EventRange, EventRecord, GroupInfo, LogBackend, PartialFn, ProgressFn,
    QueryBackend, QueryFailure, QueryFuture, QueryResult, QuerySpec, Rejected, StreamInfo,
};
use crate::error::ApiError;

/// Maps a store error to the AWS error (the variants' docs name them).
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::LogGroupNotFound(_) => {
            ApiError::ResourceNotFound("The specified log group does not exist.".to_string())
        }
        StoreError::LogStreamNotFound { .. } => {
            ApiError::ResourceNotFound("The specified log stream does not exist.".to_string())
        }
        StoreError::LogGroupAlreadyExists(_) => {
            ApiError::ResourceAlreadyExists("The specified log group already exists".to_string())
        }
        StoreError::LogStreamAlreadyExists { .. } => {
            ApiError::ResourceAlreadyExists("The specified log stream already exists".to_string())
        }
        StoreError::InvalidParameter(m) => ApiError::InvalidParameter(m),
        StoreError::DeletionProtected(m) => ApiError::Validation(m),
        StoreError::InvalidNextToken(t) => {
            ApiError::InvalidParameter(format!("The specified nextToken is invalid: {t}"))
        }
        StoreError::Closed(m) => ApiError::ServiceUnavailable(format!("The store is closed: {m}")),
        other => ApiError::Internal(other.to_string()),
    }
}

/// The store as the API's [`LogBackend`].
pub struct StoreBackend {
    store: Arc<Store>,
}

impl StoreBackend {
    /// Wraps an open store.
    pub fn new(store: Arc<Store>) -> Self {
        StoreBackend { store }
    }
}

fn group_info(g: ow_storage::LogGroup) -> GroupInfo {
    GroupInfo {
        name: g.name,
        account_id: g.account_id,
        creation_time_ms: g.creation_time_ms,
        retention_in_days: g.retention_in_days,
        stored_bytes: g.stored_bytes,
        tags: g.tags,
        log_group_class: g.log_group_class,
        deletion_protection_enabled: g.deletion_protection_enabled,
    }
}

fn stream_info(s: ow_storage::LogStream) -> StreamInfo {
    StreamInfo {
        name: s.name,
        creation_time_ms: s.creation_time_ms,
        first_event_timestamp_ms: s.first_event_timestamp_ms,
        last_event_timestamp_ms: s.last_event_timestamp_ms,
        last_ingestion_time_ms: s.last_ingestion_time_ms,
    }
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, ApiError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| ApiError::Internal(format!("event batch lacks column {name}")))
}

/// Appends the events of `batch` that are in `range` to `out`.
fn collect(
    batch: &RecordBatch,
    range: &EventRange<'_>,
    out: &mut Vec<EventRecord>,
) -> Result<(), ApiError> {
    use ow_storage::schema::{INGESTION_TIME, LOG_STREAM, MESSAGE, SEQ, TIMESTAMP};
    let ts = column::<Int64Array>(batch, TIMESTAMP)?;
    let ingest = column::<Int64Array>(batch, INGESTION_TIME)?;
    let stream = column::<StringArray>(batch, LOG_STREAM)?;
    let message = column::<StringArray>(batch, MESSAGE)?;
    let seq = column::<UInt64Array>(batch, SEQ)?;
    for i in 0..batch.num_rows() {
        let t = ts.value(i);
        if t < range.start_ms || t >= range.end_ms {
            continue;
        }
        let s = stream.value(i);
        if range
            .streams
            .is_some_and(|names| !names.iter().any(|n| n == s))
        {
            continue;
        }
        let k = (t, seq.value(i));
        let beyond = match range.cursor {
            Cursor::After(after) => after.is_some_and(|a| k <= a),
            Cursor::Before(before) => before.is_some_and(|b| k >= b),
        };
        if beyond || range.filter.is_some_and(|f| !f(message.value(i))) {
            continue;
        }
        out.push(EventRecord {
            seq: seq.value(i),
            timestamp_ms: t,
            ingestion_time_ms: ingest.value(i),
            log_stream: s.to_string(),
            message: message.value(i).to_string(),
        });
    }
    Ok(())
}

fn read_segment(path: &std::path::Path) -> Result<Vec<RecordBatch>, ApiError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ProjectionMask;
    let io = |e: &dyn std::fmt::Display| ApiError::Internal(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| io(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| io(&e))?;
    let core = ow_storage::schema::core_schema();
    let wanted: Vec<usize> = builder
        .parquet_schema()
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| core.field_with_name(c.name()).is_ok())
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::leaves(builder.parquet_schema(), wanted);
    let reader = builder.with_projection(mask).build().map_err(|e| io(&e))?;
    reader.map(|b| b.map_err(|e| io(&e))).collect()
}

impl LogBackend for StoreBackend {
    fn create_log_group(
        &self,
        _account_id: &str,
        name: &str,
        tags: BTreeMap<String, String>,
        log_group_class: Option<&str>,
        deletion_protection: bool,
    ) -> Result<(), ApiError> {
        // The store keeps one account id (its config) for every group; see the crate docs.
        if log_group_class.is_some_and(|c| c != "STANDARD") {
            return Err(ApiError::InvalidParameter(
                "Only the STANDARD log group class is supported by this server".into(),
            ));
        }
        self.store
            .create_log_group(name, tags)
            .map_err(store_error)?;
        if deletion_protection {
            if let Err(e) = self.store.set_deletion_protection(name, true) {
                // Nothing half-made: undo the creation.
                let _ = self.store.delete_log_group(name);
                return Err(store_error(e));
            }
        }
        Ok(())
    }

    fn delete_log_group(&self, name: &str) -> Result<(), ApiError> {
        self.store.delete_log_group(name).map_err(store_error)
    }

    fn set_deletion_protection(&self, name: &str, enabled: bool) -> Result<(), ApiError> {
        self.store
            .set_deletion_protection(name, enabled)
            .map_err(store_error)
    }

    fn list_log_groups(&self) -> Result<Vec<GroupInfo>, ApiError> {
        let mut out = Vec::new();
        let mut req = PageRequest {
            prefix: None,
            limit: Some(10_000),
            next_token: None,
        };
        loop {
            let page = self.store.list_log_groups(&req).map_err(store_error)?;
            out.extend(page.items.into_iter().map(group_info));
            match page.next_token {
                Some(t) => req.next_token = Some(t),
                None => return Ok(out),
            }
        }
    }

    fn log_group(&self, name: &str) -> Result<GroupInfo, ApiError> {
        self.store
            .log_group(name)
            .map(group_info)
            .map_err(store_error)
    }

    fn create_log_stream(&self, group: &str, stream: &str) -> Result<(), ApiError> {
        self.store
            .create_log_stream(group, stream)
            .map(|_| ())
            .map_err(store_error)
    }

    fn delete_log_stream(&self, group: &str, stream: &str) -> Result<(), ApiError> {
        self.store
            .delete_log_stream(group, stream)
            .map_err(store_error)
    }

    fn log_stream(&self, group: &str, stream: &str) -> Result<StreamInfo, ApiError> {
        self.store
            .log_stream(group, stream)
            .map(stream_info)
            .map_err(store_error)
    }

    /// All the group's streams in one call: one read of the store's state, so a stream
    /// created or deleted meanwhile cannot shift the store's offset-based pages (which would
    /// repeat or skip streams).
    fn list_log_streams(&self, group: &str) -> Result<Vec<StreamInfo>, ApiError> {
        let req = PageRequest {
            prefix: None,
            limit: Some(usize::MAX),
            next_token: None,
        };
        let page = self
            .store
            .list_log_streams(group, &req, ow_storage::StreamOrder::LogStreamName, false)
            .map_err(store_error)?;
        debug_assert!(page.next_token.is_none());
        Ok(page.items.into_iter().map(stream_info).collect())
    }

    fn put_log_events(
        &self,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) -> Result<Rejected, ApiError> {
        let events: Vec<InputLogEvent> = events
            .into_iter()
            .map(|(timestamp_ms, message)| InputLogEvent {
                timestamp_ms,
                message,
            })
            .collect();
        let out = self
            .store
            .put_log_events(group, stream, &events)
            .map_err(store_error)?;
        Ok(Rejected {
            too_new_start: out.rejected.too_new_log_event_start_index,
            too_old_end: out.rejected.too_old_log_event_end_index,
            expired_end: out.rejected.expired_log_event_end_index,
        })
    }

    fn read_events(
        &self,
        group: &str,
        range: EventRange<'_>,
    ) -> Result<Vec<EventRecord>, ApiError> {
        if range.start_ms >= range.end_ms || range.limit == 0 {
            // Still report a missing group.
            self.store.log_group(group).map_err(store_error)?;
            return Ok(Vec::new());
        }
        let snapshot = self
            .store
            .snapshot(&[group], range.start_ms, range.end_ms - 1)
            .map_err(store_error)?;
        let mut out = Vec::new();
        for g in &snapshot.groups {
            // The buffer is bounded (the store's flush threshold): read it all.
            for b in &g.buffered {
                collect(b, &range, &mut out)?;
            }
            // Segments nearest the cursor first; stop once `limit` events are known to
            // precede (forward) or follow (backward) everything in the unread segments.
            let mut segments: Vec<&ow_storage::SegmentRef> = g.segments.iter().collect();
            match range.cursor {
                Cursor::After(after) => {
                    segments.retain(|s| after.is_none_or(|k| s.max_timestamp_ms >= k.0));
                    segments.sort_by_key(|s| s.min_timestamp_ms);
                    for s in segments {
                        let settled = out
                            .iter()
                            .filter(|e| e.timestamp_ms < s.min_timestamp_ms)
                            .count();
                        if settled >= range.limit {
                            break;
                        }
                        for b in read_segment(&s.path)? {
                            collect(&b, &range, &mut out)?;
                        }
                    }
                }
                Cursor::Before(before) => {
                    segments.retain(|s| before.is_none_or(|k| s.min_timestamp_ms <= k.0));
                    segments.sort_by_key(|s| std::cmp::Reverse(s.max_timestamp_ms));
                    for s in segments {
                        let settled = out
                            .iter()
                            .filter(|e| e.timestamp_ms > s.max_timestamp_ms)
                            .count();
                        if settled >= range.limit {
                            break;
                        }
                        for b in read_segment(&s.path)? {
                            collect(&b, &range, &mut out)?;
                        }
                    }
                }
            }
        }
        out.sort_by_key(|e| (e.timestamp_ms, e.seq));
        match range.cursor {
            Cursor::After(_) => out.truncate(range.limit),
            Cursor::Before(_) => {
                let skip = out.len().saturating_sub(range.limit);
                out.drain(..skip);
            }
        }
        Ok(out)
    }

    fn get_event(&self, group: &str, seq: u64) -> Result<EventRecord, ApiError> {
        match self.store.get_event(group, seq).map_err(store_error)? {
            Some(e) => Ok(EventRecord {
                seq: e.seq,
                timestamp_ms: e.timestamp_ms,
                ingestion_time_ms: e.ingestion_time_ms,
                log_stream: e.log_stream,
                message: e.message,
            }),
            None => Err(ApiError::ResourceNotFound(
                "The specified log record does not exist.".to_string(),
            )),
        }
    }

    fn set_retention(&self, group: &str, days: Option<u32>) -> Result<(), ApiError> {
        match days {
            Some(d) => self.store.put_retention_policy(group, d),
            None => self.store.delete_retention_policy(group),
        }
        .map_err(store_error)
    }

    fn tag(&self, group: &str, tags: BTreeMap<String, String>) -> Result<(), ApiError> {
        self.store.tag_log_group(group, tags).map_err(store_error)
    }

    fn untag(&self, group: &str, keys: &[String]) -> Result<(), ApiError> {
        self.store.untag_log_group(group, keys).map_err(store_error)
    }

    fn field_stats(
        &self,
        group: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<(u64, Vec<(String, u64)>), ApiError> {
        let s = self
            .store
            .field_stats(group, start_ms, end_ms)
            .map_err(store_error)?;
        Ok((s.events, s.fields))
    }

    fn flatten(&self, message: &str) -> Vec<(String, String)> {
        let max = self.store.config().max_fields_per_event;
        ow_storage::fields::flatten(message, max)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_text().map(|t| (k, t.into_owned())))
            .collect()
    }

    fn flush(&self) -> Result<(), ApiError> {
        self.store.flush().map_err(store_error)
    }

    fn maintain(&self) -> Result<(), ApiError> {
        self.store
            .maintain(ow_storage::now_ms())
            .map_err(store_error)
    }
}

/// The query engine as the API's [`QueryBackend`].
pub struct EngineBackend {
    engine: Arc<ow_query::QueryEngine>,
}

impl EngineBackend {
    /// Wraps an engine.
    pub fn new(engine: Arc<ow_query::QueryEngine>) -> Self {
        EngineBackend { engine }
    }
}

impl QueryBackend for EngineBackend {
    fn validate(&self, spec: &QuerySpec) -> Result<(), ApiError> {
        let request = ow_query::QueryRequest {
            query: spec.query.clone(),
            log_groups: spec.log_groups.clone(),
            start_ms: spec.start_ms,
            end_ms: spec.end_ms,
            limit: spec.limit,
        };
        match self.engine.validate(&request) {
            Ok(()) => Ok(()),
            Err(ow_query::QueryError::Malformed(d)) => Err(malformed(&spec.query, &d)),
            Err(ow_query::QueryError::LogGroupNotFound(_)) => Err(ApiError::ResourceNotFound(
                "The specified log group does not exist.".to_string(),
            )),
            Err(ow_query::QueryError::InvalidParameter(m)) => Err(ApiError::InvalidParameter(m)),
            // `validate` reports lookup tables as Q421 diagnostics; kept for completeness.
            Err(e @ ow_query::QueryError::LookupTable { .. }) => Err(ApiError::MalformedQuery {
                message: e.to_string(),
                start_char: 0,
                end_char: 0,
            }),
            Err(e) => Err(ApiError::Internal(e.to_string())),
        }
    }

    fn run(
        &self,
        spec: QuerySpec,
        cancel: Cancel,
        progress: ProgressFn,
        partial: PartialFn,
    ) -> QueryFuture {
        let engine = self.engine.clone();
        Box::pin(async move {
            let token = ow_query::CancelToken::new();
            let request = ow_query::QueryRequest {
                query: spec.query.clone(),
                log_groups: spec.log_groups,
                start_ms: spec.start_ms,
                end_ms: spec.end_ms,
                limit: spec.limit,
            };
            // The API's StopQuery cancels the engine's token directly.
            {
                let token = token.clone();
                cancel.on_cancel(move || token.cancel());
            }
            let report = move |p: ow_query::Progress| progress(p.records_scanned, p.bytes_scanned);
            let report_rows = move |rows: &[Vec<ow_query::ResultField>]| {
                partial(
                    rows.iter()
                        .map(|row| {
                            row.iter()
                                .map(|f| (f.field.clone(), f.value.clone()))
                                .collect()
                        })
                        .collect(),
                )
            };
            let result = engine
                .run_with_partial_results(request, token, &report, &report_rows)
                .await;
            match result {
                Ok(out) => Ok(QueryResult {
                    rows: out
                        .rows
                        .into_iter()
                        .map(|row| row.into_iter().map(|f| (f.field, f.value)).collect())
                        .collect(),
                    records_matched: out.statistics.records_matched,
                    records_scanned: out.statistics.records_scanned,
                    bytes_scanned: out.statistics.bytes_scanned,
                    log_groups_scanned: out.statistics.log_groups_scanned,
                }),
                Err(ow_query::QueryError::Cancelled) => Err(QueryFailure::Cancelled),
                Err(ow_query::QueryError::Timeout(_)) => Err(QueryFailure::Timeout),
                Err(ow_query::QueryError::Malformed(d)) => {
                    Err(QueryFailure::Failed(malformed(&spec.query, &d).to_string()))
                }
                Err(e) => Err(QueryFailure::Failed(e.to_string())),
            }
        })
    }

    fn decode_ptr(&self, ptr: &str) -> Option<(String, u64)> {
        ow_query::ptr::decode(ptr)
    }
}

/// A `MalformedQueryException` from compile diagnostics: the first error's code and
/// message, its span as character offsets.
pub fn malformed(src: &str, diagnostics: &[ow_diagnostics::Diagnostic]) -> ApiError {
    let first = diagnostics
        .iter()
        .find(|d| d.is_error())
        .or_else(|| diagnostics.first());
    match first {
        Some(d) => {
            let (start_char, end_char) = d.span.char_offsets(src);
            ApiError::MalformedQuery {
                message: format!("{}: {}", d.code.as_str(), d.message),
                start_char,
                end_char,
            }
        }
        None => ApiError::MalformedQuery {
            message: "The query is malformed".to_string(),
            start_char: 0,
            end_char: 0,
        },
    }
}

/// An [`crate::AccountOpener`] over directories: account `A` gets a [`Store`] opened at
/// [`crate::account_data_dir`]`(data_dir, A, default_account)` with `store_config` whose
/// `account_id` is `A` (so its ARNs and `@log` name `A`), a query engine with
/// `engine_config` reading lookup tables from `<account dir>/lookup-tables/`, and a metrics service on the system clock in the same directory.
pub fn dir_opener(
    data_dir: std::path::PathBuf,
    default_account: String,
    store_config: ow_storage::StoreConfig,
    engine_config: ow_query::EngineConfig,
    api_config: crate::ApiConfig,
) -> crate::AccountOpener {
    Arc::new(move |account_id: &str| {
        let dir = crate::account_data_dir(&data_dir, account_id, &default_account);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::Internal(format!("creating {}: {e}", dir.display())))?;
        let mut sc = store_config.clone();
        sc.account_id = account_id.to_string();
        let store = Arc::new(
            Store::open(&dir, sc)
                .map_err(|e| ApiError::Internal(format!("opening {}: {e}", dir.display())))?,
        );
        // The account's lookup tables: `<account dir>/lookup-tables/<name>.csv`, as
        // `openwatch query` reads them (ARCHITECTURE.md, data directory).
        let mut ec = engine_config.clone();
        ec.lookup_dir = Some(dir.join("lookup-tables"));
        let engine = Arc::new(ow_query::QueryEngine::new(store.clone(), ec));
        let monitoring = crate::monitoring::open(&dir, &api_config, account_id)?;
        Ok(crate::AccountParts {
            store: Arc::new(StoreBackend::new(store)),
            engine: Arc::new(EngineBackend::new(engine)),
            data_dir: dir,
            monitoring,
        })
    })
}
