//! `openwatch pack install cis --log-group G [--data-dir D]` and
//! `openwatch pack install canary --log-group G --resource NAME...`
//!
//! Installs a detection pack (`ow_metrics::packs`): its metric filters on the log group
//! (created when missing) and one alarm per filter, in the data directory `openwatch
//! serve` uses (`<data-dir>/metrics`). Installing again replaces the pack's filters and
//! alarms by name (PutMetricFilter / PutMetricAlarm semantics; alarm state is kept).
//!
//! The store is opened while installing, so this fails cleanly (the store's lock) when a
//! server is running on the same data directory: stop it, install, start it again.
//! `--alarm-action ARN` sets the alarms' `AlarmActions` (an SNS topic mapped in the
//! server's `actions` configuration delivers them). `--config FILE` (the server's) gives
//! the region and the default account used in the alarm ARNs; `--account ID` installs into
//! another account (`<data-dir>/accounts/<ID>/`, see `crate::account`). Without either,
//! the account is the one `serve` would use: the demo key's saved in the data directory,
//! else `000000000000`; region `us-east-1`.
//!
//! Output: one line per filter/alarm installed on stdout. Exit status 0, or 2 for usage and
//! I/O errors.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

/// Arguments of `openwatch pack`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: PackCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PackCommand {
    /// Install a pack's metric filters and alarms.
    Install(InstallArgs),
}

/// The packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PackName {
    /// CIS AWS Foundations Benchmark CloudTrail metric filters (CIS 4.1–4.15).
    Cis,
    /// Canary tokens: any CloudTrail event naming one of the `--resource` decoys alarms.
    Canary,
}

#[derive(Debug, clap::Args)]
struct InstallArgs {
    /// Which pack.
    pack: PackName,
    /// Log group CloudTrail delivers to (created when missing).
    #[arg(long, short = 'g', value_name = "NAME")]
    log_group: String,
    /// Data directory of the store (as for `openwatch serve`).
    #[arg(long, env = "OPENWATCH_DATA_DIR", default_value = "openwatch-data")]
    data_dir: PathBuf,
    /// Canary pack: a decoy resource name (ARN, bucket, key id, user…); repeatable.
    #[arg(long = "resource", value_name = "NAME")]
    resources: Vec<String>,
    /// `AlarmActions` of every alarm (e.g. an SNS topic ARN); repeatable.
    #[arg(long = "alarm-action", value_name = "ARN")]
    alarm_actions: Vec<String>,
    /// The server's configuration file (region and default account, as `serve` uses it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The account to install into (12 digits); default: the server's default account
    /// (the config's first key, else the demo key saved in the data directory, else
    /// `000000000000`). Other accounts live in `<data-dir>/accounts/<ID>/`.
    #[arg(long, value_name = "ID")]
    account: Option<String>,
}

/// Runs `openwatch pack`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        PackCommand::Install(a) => install(a),
    }
}

fn install(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let pack = match args.pack {
        PackName::Cis => {
            if !args.resources.is_empty() {
                anyhow::bail!("--resource is only for the canary pack");
            }
            ow_metrics::packs::cis(&args.log_group)
        }
        PackName::Canary => {
            if args.resources.is_empty() {
                anyhow::bail!("the canary pack needs at least one --resource NAME");
            }
            let names: Vec<&str> = args.resources.iter().map(String::as_str).collect();
            ow_metrics::packs::canary(&args.log_group, &names)
                .map_err(|e| anyhow::anyhow!("{e}"))?
        }
    };
    let pack = if args.alarm_actions.is_empty() {
        pack
    } else {
        pack.with_alarm_actions(&args.alarm_actions)
    };

    // The same default account as `openwatch serve`: the config's first key, else the
    // demo key (or the account `serve` recorded) in the data directory, else 000000000000.
    let (region, config_default) = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config {}", path.display()))?;
            let c = ow_api::config::ServerConfig::from_json(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            (c.api.region, c.keys.first().map(|k| k.account_id.clone()))
        }
        None => ("us-east-1".to_string(), None),
    };
    let default_account = match config_default {
        Some(a) => a,
        None => crate::account::recorded_default_account(&args.data_dir)?
            .unwrap_or_else(|| ow_api::auth::DEFAULT_ACCOUNT_ID.to_string()),
    };
    let account = args
        .account
        .clone()
        .unwrap_or_else(|| default_account.clone());
    let dir = crate::account::account_dir(&args.data_dir, Some(&account), Some(&default_account))?;

    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    // Opening the store takes its lock: a running server on this directory makes this fail
    // instead of both writing the metrics files.
    let store = ow_storage::Store::open(
        &dir,
        ow_storage::StoreConfig {
            account_id: account.clone(),
            region: region.clone(),
            ..Default::default()
        },
    )
    .with_context(|| {
        format!(
            "cannot open the store in {} (is `openwatch serve` running on it? stop it first)",
            dir.display()
        )
    })?;
    if store.log_group(&args.log_group).is_err() {
        store
            .create_log_group(&args.log_group, Default::default())
            .with_context(|| format!("creating log group {}", args.log_group))?;
        println!("created log group {}", args.log_group);
    }

    let mut config = ow_metrics::MonitoringConfig::default();
    config.alarm.region = region;
    config.alarm.account_id = account;
    let monitoring = ow_metrics::Monitoring::open(&dir, config, Arc::new(ow_metrics::SystemClock))
        .map_err(|e| anyhow::anyhow!("opening {}: {e}", dir.display()))?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    for f in &pack.metric_filters {
        monitoring
            .filters
            .put_metric_filter(f, now_ms)
            .map_err(|e| anyhow::anyhow!("metric filter {:?}: {e}", f.filter_name))?;
        println!(
            "metric filter {} on {}",
            f.filter_name.as_deref().unwrap_or(""),
            args.log_group
        );
    }
    for a in &pack.alarms {
        monitoring
            .alarms
            .put_metric_alarm(a)
            .map_err(|e| anyhow::anyhow!("alarm {:?}: {e}", a.alarm_name))?;
        println!("alarm {}", a.alarm_name.as_deref().unwrap_or(""));
    }
    store.close().context("closing the store")?;
    println!(
        "installed the {} pack: {} metric filters, {} alarms",
        match args.pack {
            PackName::Cis => "cis",
            PackName::Canary => "canary",
        },
        pack.metric_filters.len(),
        pack.alarms.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Metric-filter evaluation for `openwatch import` (filter-patterns.md §6: CloudWatch
/// evaluates a log group's metric filters on every event it ingests, so imported events feed
/// them like PutLogEvents does). Only used when the log group has metric filters: the
/// group's highest `__seq` is noted before the import, and afterwards every event with a
/// higher one goes through the filters into `<data-dir>/metrics` (this reads the group's
/// events twice; a group without metric filters costs nothing).
pub(crate) struct ImportFilters {
    monitoring: ow_metrics::Monitoring,
    log_group: String,
    seq_before: Option<u64>,
}

impl ImportFilters {
    /// `None` when the log group has no metric filters.
    ///
    /// # Errors
    /// The metrics files or the group's events cannot be read.
    pub(crate) fn prepare(
        store: &ow_storage::Store,
        data_dir: &std::path::Path,
        log_group: &str,
    ) -> anyhow::Result<Option<ImportFilters>> {
        let dir = ow_metrics::Monitoring::dir(data_dir);
        if !dir.join("metric-filters.json").exists() {
            return Ok(None);
        }
        let monitoring = ow_metrics::Monitoring::open(
            data_dir,
            ow_metrics::MonitoringConfig::default(),
            Arc::new(ow_metrics::SystemClock),
        )
        .map_err(|e| anyhow::anyhow!("opening {}: {e}", dir.display()))?;
        if !monitoring.filters.has_filters(log_group) {
            return Ok(None);
        }
        let seq_before = match store.log_group(log_group) {
            Err(_) => None,
            Ok(_) => store
                .read_events(log_group, None, i64::MIN, i64::MAX, None)
                .with_context(|| format!("reading log group {log_group}"))?
                .iter()
                .map(|e| e.seq)
                .max(),
        };
        Ok(Some(ImportFilters {
            monitoring,
            log_group: log_group.to_string(),
            seq_before,
        }))
    }

    /// Runs the imported events through the metric filters; returns the number of data
    /// points recorded.
    ///
    /// # Errors
    /// The events cannot be read or the metrics log cannot be written.
    pub(crate) fn apply(self, store: &ow_storage::Store) -> anyhow::Result<usize> {
        let events = store
            .read_events(&self.log_group, None, i64::MIN, i64::MAX, None)
            .with_context(|| format!("reading log group {}", self.log_group))?;
        let new: Vec<(i64, &str)> = events
            .iter()
            .filter(|e| self.seq_before.is_none_or(|s| e.seq > s))
            .map(|e| (e.timestamp_ms, e.message.as_str()))
            .collect();
        self.monitoring
            .ingest(&self.log_group, &new)
            .map_err(|e| anyhow::anyhow!("recording metric filter data: {e}"))
    }
}
