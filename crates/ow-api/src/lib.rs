//! `ow-api`: the CloudWatch Logs HTTP API of OpenWatch.
//!
//! It speaks AWS JSON 1.1 (`POST /`, `X-Amz-Target: Logs_20140328.<Operation>`,
//! `Content-Type: application/x-amz-json-1.1`; spec/api.md §A.1), verifies AWS Signature
//! Version 4 on every request against configured access keys ([`auth`]), and answers the
//! log group, log stream, event, Logs Insights query and query definition operations
//! ([`dispatch::Operation`]) over the store (`ow_storage::Store`) and the query engine
//! (`ow_query::QueryEngine`) through the traits in [`backend`].
//! It is the only crate that knows the wire format.
//!
//! Main types:
//! - [`ApiConfig`]: limits and settings (AWS values as defaults).
//! - [`AppState`]: the shared state (store, engine, keys, running queries, query definitions).
//! - [`app`]: the axum [`Router`] (no socket; tests drive it with `tower::ServiceExt::oneshot`).
//! - [`serve`]: binds a listener and serves until a shutdown signal, then flushes the store.
//! - [`ApiError`]: the one error type; [`ApiError::wire`] is the table to AWS `__type`/status.
//! - [`monitoring`]: the CloudWatch metrics service (metrics, alarms, dashboards) on AWS
//!   Query, AWS JSON 1.0 and Smithy RPC v2 CBOR, beside the Logs API on the same port.
//!
//! ```no_run
//! # async fn demo(state: ow_api::AppState) {
//! let router = ow_api::app(state);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4566").await.unwrap();
//! axum::serve(listener, router).await.unwrap();
//! # }
//! ```
//!
//! Accounts: every access key has an account id. Accounts are isolated as in AWS: [`AppState`] keeps one backend per account id (store,
//! query engine, queries, query definitions, metrics service), opened on first use; the
//! default account uses the data directory itself, every other account
//! `<data-dir>/accounts/<account-id>/` ([`account_data_dir`]).
//!
//! Architecture invariants: no request reaches an operation before its signature is
//! verified; an operation validates its whole input before it changes anything; no input
//! panics the server (operations run on the blocking pool and a panic would become a 500).

#![deny(missing_docs)]

pub mod adapters;
pub mod auth;
pub mod backend;
pub mod config;
pub mod console;
pub mod definitions;
pub mod dispatch;
pub mod error;
pub mod monitoring;
mod ops;
pub mod queries;
pub mod sign;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;

pub use auth::{AccessKey, KeyStore, Principal};
pub use backend::{LogBackend, QueryBackend};
pub use dispatch::Operation;
pub use error::ApiError;

/// Settings of the API server. `Default` gives AWS's limits.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest HTTP request body accepted by any operation, in bytes; larger bodies get
    /// `413 RequestEntityTooLargeException` before anything is parsed. Default 8 MiB: enough
    /// for a maximal PutLogEvents batch (1,048,576 bytes counted as AWS counts them, whose
    /// JSON encoding may be several times larger with escapes). The PutLogEvents batch
    /// limit itself is the store's (`PutLimits::max_batch_bytes`).
    pub max_body_bytes: usize,
    /// Queries that may be Scheduled or Running at once per account (each account has its
    /// own query manager); more are rejected with `LimitExceededException`. Default 30
    /// (AWS's quota is per account too).
    pub max_concurrent_queries: usize,
    /// How long finished queries' results stay available to GetQueryResults, and how long
    /// DescribeQueries lists them. Default 24 hours [I: AWS keeps results 7 days; ours live
    /// in memory].
    pub query_retention: Duration,
    /// Query definitions per account. AWS: 1,000 [D].
    pub max_query_definitions: usize,
    /// StartQuery `queryString` length limit in characters. AWS: 10,000.
    pub max_query_string_chars: usize,
    /// Log groups per StartQuery. AWS: 50.
    pub max_query_log_groups: usize,
    /// Largest StartQuery `limit`. AWS: 100,000 (insights-language.md §4.7 [V]).
    pub max_query_limit: usize,
    /// Rows per GetQueryResults page (more come with `nextToken`). AWS: 10,000 [V].
    pub max_results_per_page: usize,
    /// How often [`serve`] runs retention and compaction in the background (`None`: never;
    /// the store still runs them after each flush). Default 10 minutes [I: AWS deletes
    /// expired events lazily, typically within 72 hours].
    pub maintenance_interval: Option<Duration>,
    /// The server's region: named in the ARNs the API builds, and the region every SigV4
    /// credential scope must name (`InvalidSignatureException` otherwise). Default
    /// `us-east-1` (config file `region`).
    pub region: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 8 << 20,
            max_concurrent_queries: 30,
            query_retention: Duration::from_secs(24 * 3600),
            max_query_definitions: 1_000,
            max_query_string_chars: 10_000,
            max_query_log_groups: 50,
            max_query_limit: 100_000,
            max_results_per_page: 10_000,
            maintenance_interval: Some(Duration::from_secs(600)),
            region: "us-east-1".to_string(),
        }
    }
}

/// The data directory of `account_id` under a server data directory `data_dir`: the
/// default account (the first configured key's, see [`default_account_id`]) uses
/// `data_dir` itself, so `openwatch import/query --data-dir D` keep working for it; every
/// other account uses `<data_dir>/accounts/<account_id>/`. The one place this layout is
/// defined (`openwatch serve`, `import`, `query` and `pack install` all use it).
pub fn account_data_dir(data_dir: &Path, account_id: &str, default_account: &str) -> PathBuf {
    if account_id == default_account {
        data_dir.to_path_buf()
    } else {
        data_dir.join("accounts").join(account_id)
    }
}

/// The default account of a key set: the first key's account, else
/// [`auth::DEFAULT_ACCOUNT_ID`] (`000000000000`).
pub fn default_account_id(keys: &KeyStore) -> String {
    keys.keys()
        .first()
        .map(|k| k.account_id.clone())
        .unwrap_or_else(|| auth::DEFAULT_ACCOUNT_ID.to_string())
}

/// What an [`AccountOpener`] returns for one account: its store, query engine, data
/// directory (query definitions) and metrics service.
pub struct AccountParts {
    /// The account's log store (its `StoreConfig::account_id` must be the account).
    pub store: Arc<dyn LogBackend>,
    /// The query engine over that store.
    pub engine: Arc<dyn QueryBackend>,
    /// The account's data directory (see [`account_data_dir`]).
    pub data_dir: PathBuf,
    /// The account's metrics service (alarm ARNs in the account).
    pub monitoring: ow_metrics::Monitoring,
}

/// Opens the backend of an account that is not the default one, on first use.
pub type AccountOpener = Arc<dyn Fn(&str) -> Result<AccountParts, ApiError> + Send + Sync>;

/// One account's isolated backend: log store, query engine, running queries, query
/// definitions and metrics service. AWS isolates accounts completely; so does this.
pub struct AccountBackend {
    account_id: String,
    store: Arc<dyn LogBackend>,
    engine: Arc<dyn QueryBackend>,
    queries: queries::QueryManager,
    definitions: definitions::DefinitionStore,
    monitoring: ow_metrics::Monitoring,
}

impl AccountBackend {
    fn build(config: &ApiConfig, account_id: &str, parts: AccountParts) -> Result<Self, ApiError> {
        let definitions = definitions::DefinitionStore::open(
            parts.data_dir.join(definitions::FILE_NAME),
            config.max_query_definitions,
        )?;
        let queries =
            queries::QueryManager::new(parts.engine.clone(), config.max_concurrent_queries);
        Ok(AccountBackend {
            account_id: account_id.to_string(),
            store: parts.store,
            engine: parts.engine,
            queries,
            definitions,
            monitoring: parts.monitoring,
        })
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The account's store.
    pub fn store(&self) -> &Arc<dyn LogBackend> {
        &self.store
    }

    /// The account's metrics service.
    pub fn monitoring(&self) -> &ow_metrics::Monitoring {
        &self.monitoring
    }
}

/// The state shared by every request. Cloning shares it. A state is scoped to one account
/// (the default account, until [`AppState::for_account`] picks another): its
/// [`store`](AppState::store), [`engine`](AppState::engine),
/// [`monitoring`](AppState::monitoring), queries and query definitions are that account's.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    account: Arc<AccountBackend>,
}

struct Inner {
    config: ApiConfig,
    keys: KeyStore,
    default_account: String,
    accounts: parking_lot::Mutex<std::collections::BTreeMap<String, Arc<AccountBackend>>>,
    opener: std::sync::OnceLock<AccountOpener>,
    shutting_down: AtomicBool,
}

impl AppState {
    /// Builds the state over the default account's store and query engine (see
    /// [`backend`]); the default account is [`default_account_id`] of `keys`. Query
    /// definitions are loaded from (and saved to) `<data_dir>/query-definitions.json`.
    /// Other accounts need an opener ([`AppState::set_account_opener`]).
    ///
    /// # Errors
    /// [`ApiError::Internal`] if the query definitions file exists but cannot be read or
    /// parsed (it is never overwritten then).
    pub fn new(
        config: ApiConfig,
        keys: KeyStore,
        store: Arc<dyn LogBackend>,
        engine: Arc<dyn QueryBackend>,
        data_dir: &Path,
    ) -> Result<Self, ApiError> {
        let monitoring = monitoring::open(data_dir, &config, &default_account_id(&keys))?;
        Self::with_monitoring(config, keys, store, engine, data_dir, monitoring)
    }

    /// [`AppState::new`] with a given metrics service (tests put one on a fake clock).
    ///
    /// # Errors
    /// As [`AppState::new`].
    pub fn with_monitoring(
        config: ApiConfig,
        keys: KeyStore,
        store: Arc<dyn LogBackend>,
        engine: Arc<dyn QueryBackend>,
        data_dir: &Path,
        monitoring: ow_metrics::Monitoring,
    ) -> Result<Self, ApiError> {
        // Signatures must be scoped to the server's region, as AWS endpoints require.
        let keys = keys.with_region(&config.region);
        let default_account = default_account_id(&keys);
        let account = Arc::new(AccountBackend::build(
            &config,
            &default_account,
            AccountParts {
                store,
                engine,
                data_dir: data_dir.to_path_buf(),
                monitoring,
            },
        )?);
        let mut accounts = std::collections::BTreeMap::new();
        accounts.insert(default_account.clone(), account.clone());
        Ok(AppState {
            inner: Arc::new(Inner {
                config,
                keys,
                default_account,
                accounts: parking_lot::Mutex::new(accounts),
                opener: std::sync::OnceLock::new(),
                shutting_down: AtomicBool::new(false),
            }),
            account,
        })
    }

    /// Sets how the backends of accounts other than the default one are opened (once;
    /// a second call is ignored and returns `false`).
    pub fn set_account_opener(&self, opener: AccountOpener) -> bool {
        self.inner.opener.set(opener).is_ok()
    }

    /// This state scoped to `account_id`: its backend is opened (once, with the opener)
    /// on first use. Blocking (opening a store reads its files): call it off the reactor.
    ///
    /// # Errors
    /// [`ApiError::Internal`] when no opener is set for a non-default account or opening
    /// fails.
    pub fn for_account(&self, account_id: &str) -> Result<AppState, ApiError> {
        if self.account.account_id == account_id {
            return Ok(self.clone());
        }
        let mut accounts = self.inner.accounts.lock();
        if let Some(a) = accounts.get(account_id) {
            return Ok(AppState {
                inner: self.inner.clone(),
                account: a.clone(),
            });
        }
        let opener = self.inner.opener.get().ok_or_else(|| {
            ApiError::Internal(format!("no storage is configured for account {account_id}"))
        })?;
        let parts = opener(account_id)?;
        let account = Arc::new(AccountBackend::build(
            &self.inner.config,
            account_id,
            parts,
        )?);
        accounts.insert(account_id.to_string(), account.clone());
        tracing::info!(account = account_id, "opened the account's backend");
        Ok(AppState {
            inner: self.inner.clone(),
            account,
        })
    }

    /// The backends of every account opened so far (the default one first is not
    /// guaranteed: ordered by account id).
    pub fn opened_accounts(&self) -> Vec<Arc<AccountBackend>> {
        self.inner.accounts.lock().values().cloned().collect()
    }

    /// The default account (the first configured key's).
    pub fn default_account(&self) -> &str {
        &self.inner.default_account
    }

    /// The account this state is scoped to.
    pub fn account_id(&self) -> &str {
        &self.account.account_id
    }

    /// The configuration.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// The accepted access keys.
    pub fn keys(&self) -> &KeyStore {
        &self.inner.keys
    }

    /// The scoped account's store.
    pub fn store(&self) -> &Arc<dyn LogBackend> {
        &self.account.store
    }

    /// The scoped account's query engine.
    pub fn engine(&self) -> &Arc<dyn QueryBackend> {
        &self.account.engine
    }

    pub(crate) fn queries(&self) -> &queries::QueryManager {
        &self.account.queries
    }

    pub(crate) fn definitions(&self) -> &definitions::DefinitionStore {
        &self.account.definitions
    }

    /// The scoped account's CloudWatch metrics service (metric store, metric filters,
    /// alarms, dashboards), opened from `<account data dir>/metrics` (see [`monitoring`]).
    pub fn monitoring(&self) -> &ow_metrics::Monitoring {
        &self.account.monitoring
    }

    /// Whether graceful shutdown has begun (health then answers 503).
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Relaxed)
    }

    /// Marks shutdown as begun and cancels running queries of every account.
    pub fn begin_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Relaxed);
        for a in self.opened_accounts() {
            a.queries.cancel_all();
        }
    }
}

/// The router: `POST /` (every operation, dispatched on `X-Amz-Target`) and
/// `GET /health`. Each request gets a tracing span with its request id and target.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route(
            "/",
            post(monitoring::handle_root).get(monitoring::handle_query_get),
        )
        .merge(monitoring::routes())
        .route("/health", get(dispatch::health))
        .merge(console::routes())
        .with_state(state)
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, then stops accepting,
/// lets in-flight requests finish, cancels running queries and flushes the store. While
/// serving, retention and compaction run every [`ApiConfig::maintenance_interval`].
///
/// # Errors
/// I/O errors of the listener, and a failed final flush (as [`ApiError::Internal`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ApiError> {
    let router = app(state.clone());
    let signal_state = state.clone();
    let maintenance = state.config().maintenance_interval.map(|every| {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await; // the first tick is immediate
            loop {
                tick.tick().await;
                let accounts = state.opened_accounts();
                let work = move || {
                    accounts
                        .iter()
                        .try_for_each(|a| a.store().maintain().map_err(|e| e.to_string()))
                };
                match tokio::task::spawn_blocking(work).await {
                    Ok(Ok(())) => tracing::debug!("maintenance done"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "maintenance failed"),
                    Err(e) => tracing::error!(error = %e, "maintenance task failed"),
                }
            }
        })
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutdown requested: draining requests");
            signal_state.begin_shutdown();
        })
        .await
        .map_err(|e| ApiError::Internal(format!("server: {e}")))?;
    if let Some(task) = maintenance {
        task.abort();
    }
    let accounts = state.opened_accounts();
    tokio::task::spawn_blocking(move || {
        accounts
            .iter()
            .try_for_each(|a| a.store().flush().map_err(|e| e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("flush task: {e}")))?
    .map_err(|e| ApiError::Internal(format!("final flush: {e}")))?;
    tracing::info!("store flushed; server stopped");
    Ok(())
}

/// The default credentials file of a data directory (the demo key is saved there).
pub fn demo_credentials_path(data_dir: &Path) -> PathBuf {
    data_dir.join("credentials.json")
}
