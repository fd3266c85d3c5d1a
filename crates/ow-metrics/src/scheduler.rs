//! A ready-made driver for the alarm engine: one thread evaluates alarms every `tick`, another
//! executes their actions (so slow webhooks and retries never delay evaluation).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the evaluation thread compacts the metric store ([`crate::MetricStore::compact`]:
/// data past the 455-day retention leaves memory and the log): at start, then daily.
pub const COMPACTION_INTERVAL: Duration = Duration::from_secs(24 * 3600);

use crate::actions::{ActionDispatcher, ActionRequest};
use crate::alarm::AlarmEngine;

/// Background alarm evaluation and action execution on two std threads.
///
/// Evaluation runs [`AlarmEngine::evaluate_due`] every `tick` of real time (10 s is right for
/// CloudWatch's cadence; the engine's own clock decides what is due). Actions are queued to
/// the second thread, executed with [`ActionDispatcher::execute`] (retries, dead letters) and
/// recorded with [`AlarmEngine::record_action_outcome`]. [`AlarmScheduler::stop`] (or drop)
/// ends both threads after the actions already queued have run.
#[derive(Debug)]
pub struct AlarmScheduler {
    stop: Arc<AtomicBool>,
    evaluator: Option<JoinHandle<()>>,
    executor: Option<JoinHandle<()>>,
}

impl AlarmScheduler {
    /// Starts the two threads.
    pub fn start(engine: Arc<AlarmEngine>, dispatcher: ActionDispatcher, tick: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<ActionRequest>();
        let eval_engine = engine.clone();
        let eval_stop = stop.clone();
        let evaluator = std::thread::Builder::new()
            .name("ow-alarm-eval".into())
            .spawn(move || {
                let mut compacted: Option<Instant> = None;
                while !eval_stop.load(Ordering::SeqCst) {
                    if compacted.is_none_or(|t| t.elapsed() >= COMPACTION_INTERVAL) {
                        match eval_engine.store().compact() {
                            Ok(n) if n > 0 => tracing::info!(dropped = n, "metric store compacted"),
                            Ok(_) => {}
                            Err(e) => tracing::error!(error = %e, "metric store compaction failed"),
                        }
                        compacted = Some(Instant::now());
                    }
                    let changes = eval_engine.evaluate_due();
                    if !changes.is_empty() {
                        tracing::info!(count = changes.len(), "alarm state changes");
                    }
                    for req in eval_engine.take_pending_actions() {
                        if tx.send(req).is_err() {
                            return;
                        }
                    }
                    // Sleep in small steps so stop() is prompt.
                    let mut left = tick;
                    while !left.is_zero() && !eval_stop.load(Ordering::SeqCst) {
                        let step = left.min(Duration::from_millis(50));
                        std::thread::sleep(step);
                        left = left.saturating_sub(step);
                    }
                }
            })
            .ok();
        let executor = std::thread::Builder::new()
            .name("ow-alarm-actions".into())
            .spawn(move || {
                for req in rx {
                    let outcome = dispatcher.execute(req);
                    engine.record_action_outcome(&outcome);
                }
            })
            .ok();
        if evaluator.is_none() || executor.is_none() {
            tracing::error!("cannot start the alarm scheduler threads");
        }
        AlarmScheduler {
            stop,
            evaluator,
            executor,
        }
    }

    /// Stops evaluating, lets queued actions finish, and joins both threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.evaluator.take() {
            let _ = h.join();
        }
        if let Some(h) = self.executor.take() {
            let _ = h.join();
        }
    }
}

impl Drop for AlarmScheduler {
    fn drop(&mut self) {
        self.shutdown();
    }
}
