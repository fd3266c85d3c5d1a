//! [`QueryEngine`]: compiles a query, reads a storage snapshot, runs the DataFusion plan and
//! renders GetQueryResults rows.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::datasource::provider_as_source;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use ow_diagnostics::Span;
use ow_query_syntax::ast::{BinaryOp, Command, Expr as Ast, Node, Query, SourceSelector};
use ow_storage::Store;

use crate::analyze::analyze;
use crate::config::EngineConfig;
use crate::error::QueryError;
use crate::lookup::LookupTable;
use crate::output::{CancelToken, QueryOutput, QueryRequest, QueryStatistics, ResultField};
use crate::plan::{plan_query, PlanContext};
use crate::scan::{event_table, ScanCounters, ScanRequest, ScanSegment, ScanSource, GROUP, SEQ};

/// Progress of a running query, reported to an optional callback.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Events read so far.
    pub records_scanned: u64,
    /// Bytes of `@message` read so far.
    pub bytes_scanned: u64,
}

/// Receives the partial results of a running query: every row found so far that is certain
/// to be in the final result, in final order ([`QueryEngine::run_with_partial_results`]).
pub type PartialRowsFn = dyn Fn(&[Vec<ResultField>]) + Sync;

/// Runs Logs Insights queries over a [`Store`].
pub struct QueryEngine {
    store: Arc<Store>,
    config: EngineConfig,
}

impl QueryEngine {
    /// An engine over `store`.
    pub fn new(store: Arc<Store>, config: EngineConfig) -> Self {
        QueryEngine { store, config }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Runs one query to completion.
    ///
    /// Rows are rendered as GetQueryResults renders them (spec §10); statistics count the
    /// events read. The query fails with [`QueryError::Cancelled`] when `cancel` fires and with
    /// [`QueryError::Timeout`] after [`EngineConfig::timeout`].
    ///
    /// # Errors
    /// [`QueryError::Malformed`] (compile errors, unsupported commands),
    /// [`QueryError::LogGroupNotFound`], [`QueryError::InvalidParameter`] (time range, limit,
    /// log group count), [`QueryError::LookupTable`], storage and internal errors.
    pub async fn run(
        &self,
        request: QueryRequest,
        cancel: CancelToken,
    ) -> Result<QueryOutput, QueryError> {
        self.run_with_progress(request, cancel, &|_| {}).await
    }

    /// [`QueryEngine::run`] with a progress callback, called about once per batch.
    pub async fn run_with_progress(
        &self,
        request: QueryRequest,
        cancel: CancelToken,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<QueryOutput, QueryError> {
        self.run_observed(request, cancel, progress, None).await
    }

    /// [`QueryEngine::run_with_progress`] that also reports partial results while the
    /// query runs (GetQueryResults while `Running`, spec/api.md §A.2): `partial` receives,
    /// about every 200 ms while new rows were found and once more before the query ends,
    /// every row found so far that is certain to be in the final result, in final order
    /// (rendered exactly as [`QueryOutput::rows`]). Only streaming queries (row-wise
    /// commands in the implicit newest-first order) report rows; which rows are certain is
    /// described in the `partial` module docs [I]. Other queries never call `partial`.
    ///
    /// # Errors
    /// As [`QueryEngine::run`].
    pub async fn run_with_partial_results(
        &self,
        request: QueryRequest,
        cancel: CancelToken,
        progress: &(dyn Fn(Progress) + Sync),
        partial: &PartialRowsFn,
    ) -> Result<QueryOutput, QueryError> {
        self.run_observed(request, cancel, progress, Some(partial))
            .await
    }

    async fn run_observed(
        &self,
        request: QueryRequest,
        cancel: CancelToken,
        progress: &(dyn Fn(Progress) + Sync),
        partial: Option<&PartialRowsFn>,
    ) -> Result<QueryOutput, QueryError> {
        let timeout = self.config.timeout;
        let query = compile(&request.query)?;
        match tokio::time::timeout(
            timeout,
            self.execute(&request, &query, &cancel, progress, partial, timeout),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => {
                cancel.cancel();
                Err(QueryError::Timeout(timeout))
            }
        }
    }

    fn execute<'a>(
        &'a self,
        request: &'a QueryRequest,
        query: &'a Query,
        cancel: &'a CancelToken,
        progress: &'a (dyn Fn(Progress) + Sync),
        partial: Option<&'a PartialRowsFn>,
        timeout: std::time::Duration,
    ) -> Pin<Box<dyn Future<Output = Result<QueryOutput, QueryError>> + Send + 'a>> {
        Box::pin(async move {
            if cancel.is_cancelled() {
                return Err(QueryError::Cancelled);
            }
            let request = &self.checked_request(query, request)?;
            let groups = self.resolve_log_groups(query, &request.log_groups)?;

            // Subqueries first (spec §4.15): materialise their first output column.
            let mut subqueries = HashMap::new();
            for (start, sub) in subqueries_of(query) {
                let inner = self.subquery_request(request, &groups);
                let sub_timeout = self.config.subquery_timeout.min(timeout);
                let out = tokio::time::timeout(
                    sub_timeout,
                    self.execute(&inner, &sub, cancel, progress, None, sub_timeout),
                )
                .await
                .map_err(|_| QueryError::Timeout(sub_timeout))??;
                let mut values = Vec::new();
                let mut seen = HashSet::new();
                if let Some(first) = out.columns.first() {
                    for row in &out.rows {
                        if let Some(v) = row.iter().find(|f| &f.field == first) {
                            if seen.insert(v.value.clone()) {
                                values.push(v.value.clone());
                            }
                        }
                    }
                }
                subqueries.insert(start, values);
            }

            let analysis = analyze(query);
            reject_reserved(&analysis)?;
            let names: Vec<&str> = groups.iter().map(String::as_str).collect();
            let snapshot = self
                .store
                .snapshot(&names, request.start_ms, request.end_ms)
                .map_err(|e| QueryError::Storage(e.to_string()))?;
            let sources = sources_of(&snapshot);
            let log_groups_scanned = sources.len();
            let counters = Arc::new(ScanCounters::default());
            let scan_request = self.scan_request(&analysis, request);
            // kept for counting recordsScanned when the plan never runs its scan (below)
            let any_event = sources
                .iter()
                .any(|s| !s.segments.is_empty() || !s.buffer.is_empty());
            let unrun_count = any_event.then(|| (sources.clone(), scan_request.clone()));
            let table = event_table(
                sources,
                scan_request,
                counters.clone(),
                cancel.0.clone(),
                self.config.partitions,
            );
            let scan =
                LogicalPlanBuilder::scan("events", provider_as_source(Arc::new(table)), None)?
                    .build()?;

            let matched = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let lookup = self.lookup_loader(false);
            let ctx = PlanContext {
                src: &request.query,
                start_ms: request.start_ms,
                end_ms: request.end_ms,
                now_ms: chrono::Utc::now().timestamp_millis(),
                subqueries,
                lookup: &lookup,
                matched: matched.clone(),
                single_log_group: log_groups_scanned <= 1,
            };
            let planned = plan_query(
                query,
                scan,
                &ctx,
                request.limit,
                self.config.default_limit,
                self.config.max_limit,
            )?;

            let session = session(
                self.config.partitions,
                self.config.batch_rows,
                self.config.partial_count.then(|| counters.clone()),
            );
            let df = session.execute_logical_plan(planned.plan).await?;
            let task = Arc::new(df.task_ctx());
            let physical = df.create_physical_plan().await?;
            tracing::debug!(
                plan = %datafusion::physical_plan::displayable(physical.as_ref()).indent(true),
                "physical plan"
            );
            let with_ptr = planned.with_ptr
                && (self.config.result_ptr || planned.columns.iter().any(|c| c == "@ptr"));
            // Partial results (module `partial`): a tap below the final sort of a streaming
            // query, keeping the rows at or after the snapshot's certainty threshold.
            let threshold = match partial {
                Some(_) if crate::partial::streaming(query) => {
                    crate::partial::threshold_ms(event_times(&snapshot), planned.final_limit)
                }
                _ => None,
            };
            let (physical, sink) = match threshold {
                Some(t) => crate::partial::install(physical, t, &planned.columns, with_ptr)?,
                None => (physical, None),
            };
            let mut stream = datafusion::physical_plan::execute_stream(physical, task)?;
            let mut partial_version = 0;
            let mut report_partial = || {
                if let (Some(sink), Some(partial)) = (&sink, partial) {
                    if let Some((v, rows)) = sink.rows_since(partial_version) {
                        partial_version = v;
                        partial(&rows);
                    }
                }
            };
            let mut batches: Vec<RecordBatch> = Vec::new();
            // Progress is reported on a timer (aggregations emit nothing until they finish);
            // cancellation is checked on every batch and every tick.
            let mut ticker = tokio::time::interval(std::time::Duration::from_millis(200));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    next = stream.next() => match next {
                        Some(_) if cancel.is_cancelled() => return Err(QueryError::Cancelled),
                        Some(batch) => batches.push(batch?),
                        None => break,
                    },
                    _ = ticker.tick() => {
                        progress(Progress {
                            records_scanned: counters.records_scanned.load(Ordering::Relaxed),
                            bytes_scanned: counters.bytes_scanned.load(Ordering::Relaxed),
                        });
                        report_partial();
                    }
                }
                if cancel.is_cancelled() {
                    return Err(QueryError::Cancelled);
                }
            }
            if cancel.is_cancelled() {
                return Err(QueryError::Cancelled);
            }
            report_partial();
            tracing::debug!(scan = ?counters.metrics(), "scan work");
            // One row past the cap (the plan fetches it too) tells whether the cap cut rows.
            let mut rows = render_rows(
                &batches,
                &planned.columns,
                with_ptr,
                planned.dedup.as_deref(),
                planned.final_limit.saturating_add(1),
                self.config.timestamp_style,
            )?;
            let cut = rows.len() > planned.final_limit;
            rows.truncate(planned.final_limit);
            // Without a filter every event of the range matches (recordsMatched equals
            // recordsScanned, as AWS reports it). The counter only sees rows that reach it,
            // so without this a top-N that skipped row groups under-reported.
            let mut scanned = counters.records_scanned.load(Ordering::Relaxed);
            let mut bytes_scanned = counters.bytes_scanned.load(Ordering::Relaxed);
            // DataFusion replaces an aggregate whose outputs the query drops (`stats count(*)
            // as c | fields queryEndTime()`) by its one placeholder row and never runs the
            // scan: recordsScanned was 0. The events of the range are counted by a plan of
            // their own, which reads no column (row groups inside the range count from their
            // metadata).
            if let Some((sources, mut scan_request)) = unrun_count.filter(|_| scanned == 0) {
                scan_request.paths.clear();
                scan_request.prefilter = None;
                scan_request.implied_prefilter = None;
                let recount = Arc::new(ScanCounters::default());
                let table = event_table(
                    sources,
                    scan_request,
                    recount.clone(),
                    cancel.0.clone(),
                    self.config.partitions,
                );
                let plan =
                    LogicalPlanBuilder::scan("events", provider_as_source(Arc::new(table)), None)?
                        .aggregate(
                            Vec::<datafusion::logical_expr::Expr>::new(),
                            vec![datafusion::functions_aggregate::count::count_all()],
                        )?
                        .build()?;
                count_rows(&session, plan, cancel).await?;
                scanned = recount.records_scanned.load(Ordering::Relaxed);
                bytes_scanned = recount.bytes_scanned.load(Ordering::Relaxed);
            }
            let mut scan_metrics = counters.metrics();
            let unfiltered = !query
                .commands
                .iter()
                .any(|c| matches!(c.node, Command::Filter(_) | Command::FilterIndex(_)));
            // the matches the scan counted itself in row groups the top-N skipped
            let mut matched = matched.load(Ordering::Relaxed)
                + counters.matches_in_skipped.load(Ordering::Relaxed);
            // A top-N skipped row groups whose matches the counter never saw: count them
            // with a plan of their own over the same snapshot that reads only those row
            // groups (QA: "10000 rows; recordsMatched 40721" for 125,956 matches, and
            // another figure on each run); a read that stopped early is counted again
            // whole. Its scan counts rows and bytes again in the counters: the statistics
            // are read above, before it runs.
            let skipped = counters
                .skipped_by_top_n
                .lock()
                .map(|mut s| std::mem::take(&mut *s))
                .unwrap_or_default();
            let stopped = counters.stopped_early.load(Ordering::Relaxed);
            if let Some(plan) = planned
                .matched_count_plan
                .filter(|_| stopped || !skipped.is_empty())
            {
                let started = std::time::Instant::now();
                let row_groups = skipped.len();
                scan_metrics.row_groups_recounted = row_groups as u64;
                if stopped {
                    matched = count_rows(&session, plan, cancel).await?;
                } else {
                    if let Ok(mut only) = counters.recount_only.lock() {
                        *only = Some(Arc::new(skipped.into_iter().collect()));
                    }
                    matched += count_rows(&session, plan, cancel).await?;
                }
                tracing::debug!(
                    row_groups,
                    stopped,
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "recordsMatched counted again"
                );
            }
            let matched = if unfiltered {
                matched.max(scanned)
            } else {
                matched
            };
            Ok(QueryOutput {
                columns: planned.columns,
                rows,
                statistics: QueryStatistics {
                    records_matched: matched as f64,
                    records_scanned: scanned as f64,
                    bytes_scanned: bytes_scanned as f64,
                    log_groups_scanned: log_groups_scanned as f64,
                },
                scan: scan_metrics,
                rows_cut_by_cap: (cut && planned.cap_governs).then_some(planned.final_limit),
                log_groups: groups,
            })
        })
    }

    /// The planner's loader of `lookup` tables from [`EngineConfig::lookup_dir`]: no
    /// directory is Q416 at the table name. A table that cannot be loaded is
    /// [`QueryError::LookupTable`] when running, and, with `as_compile_error` (StartQuery's
    /// validation), a Q421 plan error at the table name so the API can answer
    /// MalformedQueryException with a location.
    fn lookup_loader(
        &self,
        as_compile_error: bool,
    ) -> impl Fn(&str, Span) -> Result<Arc<LookupTable>, QueryError> + Send + Sync + 'static {
        let lookup_dir = self.config.lookup_dir.clone();
        let max_lookup = self.config.max_lookup_bytes;
        move |name: &str, span: Span| match &lookup_dir {
            Some(dir) => match LookupTable::load(dir, name, max_lookup) {
                Ok(t) => Ok(Arc::new(t)),
                Err(e) if as_compile_error => Err(QueryError::plan("Q421", e.to_string(), span)),
                Err(e) => Err(e),
            },
            None => Err(QueryError::plan(
                "Q416",
                "lookup tables are not configured (no lookup directory)",
                span,
            )),
        }
    }

    /// Validates `request` fully without reading any event: compiles the query, applies
    /// `SOURCE … start=/end=`, checks the time range and limit, resolves the log groups
    /// (they must exist) and builds the logical plan against the scan schema the query would
    /// read (an empty scan), including the plans of `filter f in (subquery)` and the loading
    /// of `lookup` tables. A request that passes starts executing with
    /// [`QueryEngine::run`] without compile or planning errors (barring changes in between,
    /// such as a deleted log group or lookup table). Used by StartQuery, which AWS answers
    /// with `MalformedQueryException` for a query that cannot run (spec/api.md §A.2).
    ///
    /// # Errors
    /// As [`QueryEngine::run`] before execution: [`QueryError::Malformed`] (syntax, semantic
    /// and planner diagnostics `Q4xx`; a lookup table that cannot be loaded is `Q421` at
    /// the table name, instead of [`QueryError::LookupTable`]),
    /// [`QueryError::LogGroupNotFound`], [`QueryError::InvalidParameter`],
    /// [`QueryError::Storage`].
    pub fn validate(&self, request: &QueryRequest) -> Result<(), QueryError> {
        let query = compile(&request.query)?;
        self.validate_query(request, &query)
    }

    /// The request a subquery of `request` runs with (spec §4.15): the outer query's
    /// log groups and time range, and the largest row cap.
    fn subquery_request(&self, request: &QueryRequest, groups: &[String]) -> QueryRequest {
        QueryRequest {
            query: request.query.clone(),
            log_groups: groups.to_vec(),
            start_ms: request.start_ms,
            end_ms: request.end_ms,
            limit: Some(self.config.max_limit),
        }
    }

    fn validate_query(&self, request: &QueryRequest, query: &Query) -> Result<(), QueryError> {
        let request = self.checked_request(query, request)?;
        let groups = self.resolve_log_groups(query, &request.log_groups)?;
        let mut subqueries = HashMap::new();
        for (start, sub) in subqueries_of(query) {
            let inner = self.subquery_request(&request, &groups);
            self.validate_query(&inner, &sub)?;
            // The values are not known without running: plan with none.
            subqueries.insert(start, Vec::new());
        }
        let analysis = analyze(query);
        reject_reserved(&analysis)?;
        let scan_request = self.scan_request(&analysis, &request);
        let table = event_table(
            Vec::new(),
            scan_request,
            Arc::new(ScanCounters::default()),
            Arc::new(std::sync::atomic::AtomicBool::new(false)),
            1,
        );
        let scan = LogicalPlanBuilder::scan("events", provider_as_source(Arc::new(table)), None)?
            .build()?;
        let lookup = self.lookup_loader(true);
        let ctx = PlanContext {
            src: &request.query,
            start_ms: request.start_ms,
            end_ms: request.end_ms,
            now_ms: chrono::Utc::now().timestamp_millis(),
            subqueries,
            lookup: &lookup,
            matched: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            single_log_group: groups.len() <= 1,
        };
        plan_query(
            query,
            scan,
            &ctx,
            request.limit,
            self.config.default_limit,
            self.config.max_limit,
        )?;
        Ok(())
    }

    /// What the scan of `request` reads, from the query's analysis.
    fn scan_request(
        &self,
        analysis: &crate::analyze::Analysis,
        request: &QueryRequest,
    ) -> ScanRequest {
        ScanRequest {
            paths: analysis.paths.clone(),
            needs_message: analysis.needs_message,
            start_ms: request.start_ms,
            end_ms: request.end_ms,
            prefilter: analysis.prefilter.clone(),
            implied_prefilter: analysis.implied_prefilter.clone(),
            newest_first: analysis.newest_first,
            pushdown: self.config.scan_pushdown,
            batch_rows: self.config.batch_rows.max(1),
        }
    }

    /// `request` with the window of `SOURCE … start=/end=` applied, after checking the
    /// range (start <= end) and the limit (1..=max_limit).
    fn checked_request(
        &self,
        query: &Query,
        request: &QueryRequest,
    ) -> Result<QueryRequest, QueryError> {
        let mut request = request.clone();
        if let Some((start_ms, end_ms)) =
            source_window(query, &request, chrono::Utc::now().timestamp_millis())?
        {
            request.start_ms = start_ms;
            request.end_ms = end_ms;
        }
        if request.start_ms > request.end_ms {
            return Err(QueryError::InvalidParameter(format!(
                "start time {} is after end time {}",
                utc(request.start_ms),
                utc(request.end_ms)
            )));
        }
        if let Some(l) = request.limit {
            if l == 0 || l > self.config.max_limit {
                return Err(QueryError::InvalidParameter(format!(
                    "limit must be between 1 and {}",
                    self.config.max_limit
                )));
            }
        }
        Ok(request)
    }

    /// The log groups a query reads: `SOURCE` if the query starts with it (spec §4.16), else
    /// the request's names. Every name must exist.
    fn resolve_log_groups(
        &self,
        query: &Query,
        requested: &[String],
    ) -> Result<Vec<String>, QueryError> {
        let source = query.commands.first().and_then(|c| match &c.node {
            Command::Source(s) => Some((s, c.span)),
            _ => None,
        });
        let groups: Vec<String> = match source {
            None => {
                if requested.is_empty() {
                    return Err(QueryError::InvalidParameter(
                        "no log groups: name at least one, or start the query with SOURCE".into(),
                    ));
                }
                if requested.len() > self.config.max_log_groups {
                    return Err(QueryError::InvalidParameter(format!(
                        "at most {} log groups per query",
                        self.config.max_log_groups
                    )));
                }
                for g in requested {
                    self.check_group(g)?;
                }
                requested.to_vec()
            }
            Some((s, span)) => {
                let selected = match &s.selector {
                    SourceSelector::Names(names) => {
                        let mut out = Vec::new();
                        for n in names {
                            self.check_group(&n.node)?;
                            out.push(n.node.clone());
                        }
                        out
                    }
                    SourceSelector::LogGroups(args) => self.select_log_groups(args, span)?,
                };
                if selected.len() > self.config.max_source_log_groups {
                    return Err(QueryError::InvalidParameter(format!(
                        "SOURCE selected {} log groups; at most {} are allowed",
                        selected.len(),
                        self.config.max_source_log_groups
                    )));
                }
                selected
            }
        };
        let mut seen = HashSet::new();
        Ok(groups
            .into_iter()
            .filter(|g| seen.insert(g.clone()))
            .collect())
    }

    fn check_group(&self, name: &str) -> Result<(), QueryError> {
        match self.store.log_group(name) {
            Ok(_) => Ok(()),
            Err(ow_storage::StoreError::LogGroupNotFound(_)) => {
                Err(QueryError::LogGroupNotFound(name.to_string()))
            }
            Err(e) => Err(QueryError::Storage(e.to_string())),
        }
    }

    /// `SOURCE logGroups(namePrefix: […], accountIdentifiers: […], class: […])`.
    fn select_log_groups(
        &self,
        args: &[Node<ow_query_syntax::ast::SourceArg>],
        span: Span,
    ) -> Result<Vec<String>, QueryError> {
        let mut prefixes: Vec<String> = Vec::new();
        let mut accounts: Vec<String> = Vec::new();
        let mut classes: Vec<String> = Vec::new();
        for a in args {
            let values = string_list(&a.value).ok_or_else(|| {
                QueryError::plan("Q418", "expected a list of strings", a.value.span)
            })?;
            match a.name.node.as_str() {
                "namePrefix" => prefixes = values,
                "accountIdentifiers" => accounts = values,
                "class" => classes = values.into_iter().map(|c| c.to_ascii_uppercase()).collect(),
                other => {
                    return Err(QueryError::plan(
                        "Q419",
                        format!("SOURCE logGroups({other}: …) is not supported"),
                        a.name.span,
                    ))
                }
            }
        }
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .store
                .list_log_groups(&ow_storage::PageRequest {
                    prefix: None,
                    limit: Some(1000),
                    next_token: token,
                })
                .map_err(|e| QueryError::Storage(e.to_string()))?;
            all.extend(page.items);
            match page.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let class_default = ["STANDARD".to_string()];
        let classes: &[String] = if classes.is_empty() {
            &class_default
        } else {
            &classes
        };
        // for the help of an empty selection: a prefix that matches only in another case
        let case_only: Option<String> = prefixes.iter().find_map(|p| {
            let lower = p.to_lowercase();
            all.iter()
                .find(|g| {
                    !g.name.starts_with(p.as_str()) && g.name.to_lowercase().starts_with(&lower)
                })
                .map(|g| g.name.clone())
        });
        let selected: Vec<String> = all
            .into_iter()
            .filter(|g| {
                prefixes.is_empty() || prefixes.iter().any(|p| g.name.starts_with(p.as_str()))
            })
            .filter(|g| accounts.is_empty() || accounts.contains(&g.account_id))
            .filter(|g| {
                classes
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&g.log_group_class))
            })
            .map(|g| g.name)
            .collect();
        if selected.is_empty() {
            // QA (session 20): `namePrefix: ['CloudTrail']` for `cloudtrail` had no help
            let help = match case_only {
                Some(name) => format!(
                    "log group names are case-sensitive: `{name}` starts with the prefix in another case"
                ),
                None => "no log group of the account and class starts with these prefixes (names are case-sensitive)".to_owned(),
            };
            return Err(QueryError::Malformed(vec![
                ow_diagnostics::Diagnostic::error(
                    ow_diagnostics::Code("Q420"),
                    "SOURCE selects no log group",
                    span,
                )
                .with_help(help),
            ]));
        }
        Ok(selected)
    }
}

fn string_list(e: &Node<Ast>) -> Option<Vec<String>> {
    use ow_query_syntax::ast::Literal;
    match &e.node {
        Ast::List(items) => items
            .iter()
            .map(|i| match &i.node {
                Ast::Literal(Literal::String(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Ast::Literal(Literal::String(s)) => Some(vec![s.clone()]),
        _ => None,
    }
}

/// The time window of `SOURCE … start=<t> end=<t>` (spec §4.16), if the query gives one:
/// `now`, or a period before now (`-1d`; a period written without `-` also counts back
/// [I]). A missing bound keeps the request's. Calendar periods (mo, q, y) have no fixed
/// length and are rejected (Q417).
fn source_window(
    query: &Query,
    request: &QueryRequest,
    now_ms: i64,
) -> Result<Option<(i64, i64)>, QueryError> {
    use ow_query_syntax::ast::TimeBound;
    let Some(Command::Source(s)) = query.commands.first().map(|c| &c.node) else {
        return Ok(None);
    };
    if s.start.is_none() && s.end.is_none() {
        return Ok(None);
    }
    let bound = |b: &Node<TimeBound>| -> Result<i64, QueryError> {
        match &b.node {
            TimeBound::Now => Ok(now_ms),
            TimeBound::Relative { period, .. } => {
                let ms = period.fixed_ms().ok_or_else(|| {
                    QueryError::plan(
                        "Q417",
                        "SOURCE start=/end= need a fixed-length period (ms, s, m, h, d or w)",
                        b.span,
                    )
                })?;
                Ok(now_ms.saturating_sub(i64::try_from(ms).unwrap_or(i64::MAX)))
            }
        }
    };
    let start = match &s.start {
        Some(b) => bound(b)?,
        None => request.start_ms,
    };
    let end = match &s.end {
        Some(b) => bound(b)?,
        None => request.end_ms,
    };
    Ok(Some((start, end)))
}

/// Parses and checks the query text.
pub(crate) fn compile(src: &str) -> Result<Query, QueryError> {
    ow_query_syntax::check(src).map_err(QueryError::Malformed)
}

/// `(span start, subquery)` of every `f in (…)` in filters.
fn subqueries_of(query: &Query) -> Vec<(usize, Query)> {
    fn walk(e: &Node<Ast>, out: &mut Vec<(usize, Query)>) {
        match &e.node {
            Ast::Binary { op, lhs, rhs } => {
                if matches!(op, BinaryOp::In | BinaryOp::NotIn) {
                    if let Ast::Subquery(q) = &rhs.node {
                        out.push((rhs.span.start, q.node.clone()));
                        return;
                    }
                }
                walk(lhs, out);
                walk(rhs, out);
            }
            Ast::Unary { expr, .. } => walk(expr, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &query.commands {
        if let Command::Filter(e) = &c.node {
            walk(e, &mut out);
        }
    }
    out
}

/// `(timestamp_ms, events)` points bounding the snapshot's event times from above: each
/// segment's row count at its maximum `@timestamp`, each buffered event at its own.
fn event_times(snapshot: &ow_storage::Snapshot) -> Vec<(i64, u64)> {
    use arrow::array::AsArray;
    let mut points = Vec::new();
    for g in &snapshot.groups {
        for s in &g.segments {
            let info = s.info();
            points.push((info.max_timestamp_ms, info.row_count));
        }
        for b in &g.buffered {
            match b
                .column_by_name(ow_storage::schema::TIMESTAMP)
                .and_then(|c| c.as_primitive_opt::<arrow::datatypes::Int64Type>())
            {
                Some(ts) => points.extend(ts.iter().map(|t| (t.unwrap_or(i64::MAX), 1))),
                // Unknown times: count the batch as newest (nothing older is certain).
                None => points.push((i64::MAX, b.num_rows() as u64)),
            }
        }
    }
    points
}

fn sources_of(snapshot: &ow_storage::Snapshot) -> Vec<ScanSource> {
    snapshot
        .groups
        .iter()
        .map(|g| ScanSource {
            log_group: g.log_group.name.clone(),
            account_id: g.log_group.account_id.clone(),
            segments: g
                .segments
                .iter()
                .map(|s| ScanSegment {
                    path: s.path.clone(),
                    min_timestamp_ms: s.min_timestamp_ms,
                    max_timestamp_ms: s.max_timestamp_ms,
                    handle: Some(s.clone()),
                })
                .collect(),
            buffer: g.buffered.clone(),
            min_timestamp_ms: g.min_timestamp_ms,
        })
        .collect()
}

/// Epoch milliseconds for a message: RFC 3339 UTC as `--timestamps rfc3339` prints them
/// ([`crate::render::timestamp_ms_rfc3339`]), or `<ms> ms` out of its range.
fn utc(ms: i64) -> String {
    crate::render::timestamp_ms_rfc3339(ms).unwrap_or_else(|| format!("{ms} ms"))
}

/// Q422: the query reads or defines a field named like one of the engine's hidden columns
/// (`__seq`, `__group`, `__elem…`). Such a name would be confused with the hidden column, so the query
/// is refused with a diagnostic at the name rather than answered wrongly.
/// [I] AWS has no hidden columns; this is OpenWatch's own limit.
fn reject_reserved(analysis: &crate::analyze::Analysis) -> Result<(), QueryError> {
    match &analysis.reserved {
        Some((name, span)) => Err(QueryError::plan(
            "Q422",
            format!(
                "the field name `{name}` is reserved by OpenWatch for its own use and cannot be \
                 queried or defined"
            ),
            *span,
        )),
        None => Ok(()),
    }
}

/// The DataFusion session a query runs in, without OpenWatch's own physical rule: `partitions`
/// scan partitions (threads), `batch_rows` rows per batch. It has no SQL front end and no
/// function registry (plans name their functions as UDF objects) but `first_value`, which
/// DataFusion's `DISTINCT ON` rewrite looks up by name. Public for tests and tools.
pub fn session_context(partitions: usize, batch_rows: usize) -> SessionContext {
    session(partitions, batch_rows, None)
}

/// A DataFusion session for one query. With `partial_count` (the query's counters), the
/// partial aggregate of `stats count(*) by …` is replaced by `count_by::PartialCountExec`.
fn session(
    partitions: usize,
    batch_rows: usize,
    partial_count: Option<Arc<ScanCounters>>,
) -> SessionContext {
    // Round-robin repartitioning is off: it spread the rows of a sorted stream over
    // partitions to run a later projection or filter in parallel, then merged them in
    // arrival order, so `sort … | fields f(x) … | dedup` lost the sort's order (QA). The
    // scan is already partitioned; aggregates still repartition by hash.
    let config = SessionConfig::new()
        .with_target_partitions(partitions.max(1))
        .with_batch_size(batch_rows.max(1))
        .with_round_robin_repartition(false);
    // PushDownFilter is left out on purpose: filters stay where the query put them, so the
    // matched-rows counter (a volatile filter) sees exactly the rows that passed the query's
    // filters. The planner already places filters next to the data they need.
    // The leaf-expression rules (which move `get_field` of parse results towards the scan)
    // are left out too: below a filter they produce a schema with both the qualified and the
    // unqualified name of a scan column (DataFusion 55.2).
    //
    // No `with_default_features`: plans are built directly (no SQL), and every function in
    // them is an Arc'd UDF object, so the session needs no function registry, catalog, file
    // formats or SQL planners. Registering DataFusion's few hundred functions, and building
    // the state twice to edit its rules, took about 1 ms of every query (perf, 1 GB
    // benchmark store); the rules below are DataFusion's defaults.
    let rules: Vec<_> = datafusion::optimizer::Optimizer::new()
        .rules
        .into_iter()
        .filter(|r| {
            !matches!(
                r.name(),
                "push_down_filter" | "extract_leaf_expressions" | "push_down_leaf_projections"
            )
        })
        .collect();
    // One registry entry stays: `replace_distinct_aggregate` looks `first_value` up by name
    // (and unwraps) when it meets a `DISTINCT ON`; no plan of ours has one, but a missing
    // registry must never turn into a panic.
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_aggregate_functions(vec![
            datafusion::functions_aggregate::first_last::first_value_udaf(),
        ])
        .with_optimizer_rules(rules)
        // the matched-rows counter first: no filter pushdown may pass it (module `matched`)
        .with_physical_optimizer_rules(
            std::iter::once(Arc::new(crate::matched::MatchedCounterRule)
                as Arc<
                    dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync,
                >)
            .chain(datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules)
            .chain(std::iter::once(Arc::new(crate::matched::CountSkippedRule)
                as Arc<
                    dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync,
                >))
            .collect(),
        );
    if let Some(counters) = partial_count {
        state = state
            .with_physical_optimizer_rule(Arc::new(crate::count_by::PartialCountRule { counters }));
    }
    SessionContext::new_with_state(state.build())
}

/// Runs `plan`, an aggregate of one `count` (`Planned::matched_count_plan`), and returns
/// its value; checks `cancel` on every batch.
async fn count_rows(
    session: &SessionContext,
    plan: datafusion::logical_expr::LogicalPlan,
    cancel: &CancelToken,
) -> Result<u64, QueryError> {
    use arrow::array::AsArray;
    let df = session.execute_logical_plan(plan).await?;
    let mut stream = df.execute_stream().await?;
    let mut count = 0u64;
    while let Some(batch) = stream.next().await {
        if cancel.is_cancelled() {
            return Err(QueryError::Cancelled);
        }
        let batch = batch?;
        if let Some(c) = batch
            .columns()
            .first()
            .and_then(|c| c.as_primitive_opt::<arrow::datatypes::Int64Type>())
        {
            count += c.iter().flatten().map(|v| v.max(0) as u64).sum::<u64>();
        }
    }
    Ok(count)
}

/// Renders collected batches to GetQueryResults rows, applying `dedup` (spec §4.10: first row
/// per key combination in current order; rows with a null key are always kept) and the cap.
pub(crate) fn render_rows(
    batches: &[RecordBatch],
    columns: &[String],
    with_ptr: bool,
    dedup: Option<&[String]>,
    limit: usize,
    style: crate::TimestampStyle,
) -> Result<Vec<Vec<ResultField>>, QueryError> {
    use arrow::array::{Array, AsArray};
    let mut rows = Vec::new();
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    for batch in batches {
        if rows.len() >= limit {
            break;
        }
        let schema = batch.schema();
        let render = |name: &str| -> Option<Vec<Option<String>>> {
            schema
                .column_with_name(name)
                .map(|(i, _)| crate::render::column_styled(batch.column(i), style))
        };
        // each row's values are moved out of their rendered column (each row is read once)
        let mut cols: Vec<Option<Vec<Option<String>>>> =
            columns.iter().map(|c| render(c)).collect();
        let dedup_cols: Option<Vec<Option<Vec<Option<String>>>>> =
            dedup.map(|keys| keys.iter().map(|k| render(k)).collect());
        let group = schema
            .column_with_name(GROUP)
            .and_then(|(i, _)| batch.column(i).as_string_opt::<i32>().cloned());
        let seq = schema.column_with_name(SEQ).and_then(|(i, _)| {
            batch
                .column(i)
                .as_primitive_opt::<arrow::datatypes::UInt64Type>()
                .cloned()
        });
        for r in 0..batch.num_rows() {
            if rows.len() >= limit {
                return Ok(rows);
            }
            if let Some(dc) = &dedup_cols {
                // Rows with a missing key are never duplicates (spec §4.10).
                let key: Option<Vec<String>> = dc
                    .iter()
                    .map(|c| c.as_ref().and_then(|c| c[r].clone()))
                    .collect();
                if let Some(key) = key {
                    if !seen.insert(key) {
                        continue;
                    }
                }
            }
            let mut row = Vec::with_capacity(columns.len() + 1);
            for (name, c) in columns.iter().zip(&mut cols) {
                if let Some(v) = c.as_mut().and_then(|c| c[r].take()) {
                    row.push(ResultField {
                        field: name.clone(),
                        value: v,
                    });
                }
            }
            if with_ptr {
                if let (Some(g), Some(s)) = (&group, &seq) {
                    if !g.is_null(r) && !s.is_null(r) {
                        row.push(ResultField {
                            field: "@ptr".into(),
                            value: crate::ptr::encode(g.value(r), s.value(r)),
                        });
                    }
                }
            }
            rows.push(row);
        }
    }
    Ok(rows)
}
