//! `openwatch serve`: the CloudWatch Logs API (AWS JSON 1.1, SigV4) over HTTP.
//!
//! Access keys come from, in order: `--config FILE` (`accessKeys`, see `ow_api::config`),
//! the environment (`OPENWATCH_ACCESS_KEY_ID` + `OPENWATCH_SECRET_ACCESS_KEY`, optional
//! `OPENWATCH_ACCOUNT_ID`), and, when neither gives a key, a demo key pair kept in
//! `<data-dir>/credentials.json`: generated and printed once on first start, reused after.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use std::io::Write;

use anyhow::Context;
use ow_api::auth::{generate_key, AccessKey, CredentialsFile, DEFAULT_ACCOUNT_ID};
use ow_api::config::ServerConfig;

/// Arguments of `openwatch serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4566")]
    listen: SocketAddr,
    /// Data directory of the store (created if missing).
    #[arg(long, default_value = "openwatch-data")]
    data_dir: PathBuf,
    /// Server configuration file (JSON: access keys, limits, PutLogEvents age windows).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs `openwatch serve` until Ctrl-C or SIGTERM, then drains requests and flushes.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config {}", path.display()))?;
            ServerConfig::from_json(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => ServerConfig::from_json("{}").map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    let mut keys = config.keys.clone();
    if let Some(k) = key_from_env()? {
        keys.retain(|x| x.access_key_id != k.access_key_id);
        keys.push(k);
    }
    if keys.is_empty() {
        keys.push(demo_key(&args.data_dir, &config.api.region)?);
    }
    let key_store = ow_api::KeyStore::new(keys.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;

    // Accounts are isolated: the first key's account (the default one) uses the data
    // directory itself, every other account `<data-dir>/accounts/<id>/`
    // (`ow_api::account_data_dir`).
    let default_account = ow_api::default_account_id(&key_store);
    // `import --account D` into a data directory that had no default account yet wrote to
    // `accounts/D/`; if D is now the default, its data lives in the directory itself, and
    // serving would hide what was imported. Refuse, saying how to fix it, and touch nothing.
    let stranded = args.data_dir.join("accounts").join(&default_account);
    if std::fs::read_dir(&stranded).is_ok_and(|mut d| d.next().is_some()) {
        anyhow::bail!(
            "account {default_account} is this server's default account (its first key's), \
             whose data lives in {dir} itself, but {stranded} holds data imported for it \
             before it became the default. Move that data into {dir} (or serve with a config \
             whose first key belongs to another account), then start again; nothing was changed",
            dir = args.data_dir.display(),
            stranded = stranded.display(),
        );
    }
    crate::account::record_default_account(&args.data_dir, &default_account)?;
    let mut store_config = ow_storage::StoreConfig {
        account_id: default_account.clone(),
        region: config.api.region.clone(),
        ..Default::default()
    };
    store_config.put_limits.max_age_ms = config.age_windows.max_age_ms.unwrap_or(i64::MAX);
    store_config.put_limits.max_future_ms = config.age_windows.max_future_ms.unwrap_or(i64::MAX);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let store = Arc::new(
            ow_storage::Store::open(&args.data_dir, store_config.clone())
                .with_context(|| format!("opening store {}", args.data_dir.display()))?,
        );
        // Lookup tables of the default account; `dir_opener` points every other account
        // at its own directory's `lookup-tables/` (ARCHITECTURE.md, data directory).
        let engine_config = ow_query::EngineConfig {
            timeout: config.query_timeout,
            lookup_dir: Some(args.data_dir.join("lookup-tables")),
            ..Default::default()
        };
        let engine = Arc::new(ow_query::QueryEngine::new(
            store.clone(),
            engine_config.clone(),
        ));
        #[cfg(unix)]
        let query_engine_config = engine_config.clone();

        let state = ow_api::AppState::new(
            config.api.clone(),
            key_store,
            Arc::new(ow_api::adapters::StoreBackend::new(store.clone())),
            Arc::new(ow_api::adapters::EngineBackend::new(engine)),
            &args.data_dir,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        // Every other account gets its own store, engine and metrics service, and its own
        // alarm scheduler, when first opened.
        let schedulers = Arc::new(std::sync::Mutex::new(vec![start_alarms(
            state.monitoring(),
            &config.actions,
            &args.data_dir,
        )]));
        let dir_opener = ow_api::adapters::dir_opener(
            args.data_dir.clone(),
            default_account.clone(),
            store_config.clone(),
            engine_config,
            config.api.clone(),
        );
        {
            let schedulers = schedulers.clone();
            let actions = config.actions.clone();
            state.set_account_opener(Arc::new(move |account: &str| {
                let parts = dir_opener(account)?;
                schedulers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(start_alarms(&parts.monitoring, &actions, &parts.data_dir));
                Ok(parts)
            }));
        }
        // Open the configured accounts now, so their alarms are evaluated from the start.
        for key in &keys {
            let state = state.clone();
            let account = key.account_id.clone();
            tokio::task::spawn_blocking(move || state.for_account(&account).map(|_| ()))
                .await
                .context("opening an account")?
                .map_err(|e| anyhow::anyhow!("account {}: {e}", key.account_id))?;
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let local = listener.local_addr().context("listener address")?;
        // `openwatch query` on this data directory asks this server (it cannot open the
        // store while the server holds it); see `query_socket`. Made once the server can
        // start (a failed start leaves no socket behind).
        #[cfg(unix)]
        let query_socket = match crate::query_socket::QuerySocket::listen(
            &args.data_dir,
            store.clone(),
            query_engine_config,
        ) {
            Ok(socket) => Some(socket),
            Err(e) => {
                note(&format!(
                    "openwatch: warning: {}; `openwatch query` cannot use this data \
                     directory while the server runs",
                    crate::error_text(&e)
                ));
                None
            }
        };
        let shutdown = shutdown_signal()?;
        note(&format!(
            "openwatch: serving the CloudWatch Logs API on http://{local}"
        ));
        tracing::info!(listen = %local, data_dir = %args.data_dir.display(), "serving");
        ow_api::serve(listener, state, shutdown)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let all: Vec<_> = schedulers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for scheduler in all {
            scheduler.stop();
        }
        #[cfg(unix)]
        if let Some(socket) = query_socket {
            socket.close().await;
        }
        store.close().context("closing the store")?;
        note("openwatch: stopped; data flushed");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A status line on stderr; a closed stderr is not an error (never panics like `eprintln!`).
fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Starts alarm evaluation (every 10 s; api.md B.4) and action delivery per the config's
/// `actions`. Actions that finally fail go to `<data-dir>/metrics/dead-letters.jsonl` unless
/// the config names another dead-letter file.
fn start_alarms(
    monitoring: &ow_metrics::Monitoring,
    actions: &ow_metrics::ActionsConfig,
    data_dir: &Path,
) -> ow_metrics::AlarmScheduler {
    let mut actions = actions.clone();
    if actions.dead_letter_path.is_none() {
        actions.dead_letter_path =
            Some(ow_metrics::Monitoring::dir(data_dir).join("dead-letters.jsonl"));
    }
    ow_metrics::AlarmScheduler::start(
        monitoring.alarms.clone(),
        ow_metrics::ActionDispatcher::new(actions),
        std::time::Duration::from_secs(10),
    )
}

fn key_from_env() -> anyhow::Result<Option<AccessKey>> {
    let id = std::env::var("OPENWATCH_ACCESS_KEY_ID").ok();
    let secret = std::env::var("OPENWATCH_SECRET_ACCESS_KEY").ok();
    match (id, secret) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some(AccessKey {
            access_key_id: id,
            secret_access_key: secret,
            account_id: std::env::var("OPENWATCH_ACCOUNT_ID")
                .unwrap_or_else(|_| DEFAULT_ACCOUNT_ID.to_string()),
        })),
        _ => anyhow::bail!(
            "set both OPENWATCH_ACCESS_KEY_ID and OPENWATCH_SECRET_ACCESS_KEY, or neither"
        ),
    }
}

/// The demo key of `data_dir`: read from `credentials.json`, or generated, saved (mode
/// 0600 on Unix) and printed once.
fn demo_key(data_dir: &Path, region: &str) -> anyhow::Result<AccessKey> {
    let path = ow_api::demo_credentials_path(data_dir);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let store = ow_api::KeyStore::from_json(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let key = store
            .keys()
            .first()
            .cloned()
            .with_context(|| format!("{} holds no key", path.display()))?;
        note(&format!(
            "openwatch: using the demo access key {} from {}",
            key.access_key_id,
            path.display()
        ));
        return Ok(key);
    }
    let key = generate_key(DEFAULT_ACCOUNT_ID);
    let text = serde_json::to_string_pretty(&CredentialsFile {
        access_keys: vec![key.clone()],
    })?;
    write_private(&path, text.as_bytes()).with_context(|| format!("saving {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    // A closed stdout must not stop the server; the key is saved in the file anyway.
    // Both region variables: the AWS CLI v1 and boto3 (botocore 1.43 checked) read only
    // AWS_DEFAULT_REGION, the other SDKs AWS_REGION (QA: the CLI refused with AWS_REGION
    // alone: "You must specify a region").
    let _ = writeln!(
        out,
        "No access keys configured: generated a demo key pair (saved in {}):\n  \
         AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}\n  AWS_REGION={region}\n  \
         AWS_DEFAULT_REGION={region}",
        path.display(),
        key.access_key_id,
        key.secret_access_key,
    );
    let _ = out.flush();
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Registers SIGINT and SIGTERM handlers now (before the server announces itself, so a
/// signal sent right after the announcement is never the default "terminate"), and returns
/// a future that resolves on the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {},
                _ = term.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
