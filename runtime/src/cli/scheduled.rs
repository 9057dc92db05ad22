//! The scheduled queries of `weir run`: a thread beside the dataflow (process 0 of a
//! cluster only) that runs each `query` declaration when its time comes.

use std::sync::Arc;

use weir_dsl::ScheduledQuery;
use weir_engine::plan::LogicalPlan;
use weir_engine::stop::StopHandle;

use crate::connectors::Connectors;

/// The running scheduler; [`Scheduled::finish`] stops it when the run ends.
pub(super) struct Scheduled {
    stop: Arc<StopHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scheduled {
    /// Stops the scheduler (a query running now completes first).
    pub(super) fn finish(mut self) {
        self.stop.request(false);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the scheduler for `queries`; nothing to start without queries or on processes
/// other than 0. Without the `sql` feature a program with queries is refused.
#[cfg(feature = "sql")]
pub(super) fn start(
    queries: Vec<ScheduledQuery>,
    plan: &Arc<LogicalPlan>,
    connectors: &Connectors,
    run_stop: &Arc<StopHandle>,
    process: usize,
    quiet: bool,
) -> anyhow::Result<Scheduled> {
    use weir_engine::clock::{Clock, WallClock};

    use crate::query::schedule::{run_until_stopped, QueryRunner};

    let stop = Arc::new(StopHandle::new());
    if queries.is_empty() || process != 0 {
        return Ok(Scheduled { stop, thread: None });
    }
    let clock: Arc<dyn Clock> = Arc::new(WallClock);
    let runner = QueryRunner::new(
        queries,
        Arc::clone(plan),
        std::path::Path::new("."),
        Arc::new(connectors.clone()),
        clock.now(),
    );
    let (own, run) = (Arc::clone(&stop), Arc::clone(run_stop));
    let thread = std::thread::Builder::new()
        .name("weir-queries".into())
        .spawn(move || {
            // Either ends it: the run's stop (Ctrl-C) or the end of the run.
            let stopped = move || own.is_requested() || run.is_requested();
            run_until_stopped(runner, clock, stopped, |outcome| match &outcome.result {
                Ok(rows) if !quiet => {
                    eprintln!("query `{}`: {rows} rows", outcome.query)
                }
                Ok(_) => {}
                Err(e) => eprintln!("warning: query `{}` failed: {e}", outcome.query),
            });
        })?;
    Ok(Scheduled {
        stop,
        thread: Some(thread),
    })
}

/// Without the `sql` feature: a program with scheduled queries cannot run them.
#[cfg(not(feature = "sql"))]
pub(super) fn start(
    queries: Vec<ScheduledQuery>,
    _plan: &Arc<LogicalPlan>,
    _connectors: &Connectors,
    _run_stop: &Arc<StopHandle>,
    _process: usize,
    _quiet: bool,
) -> anyhow::Result<Scheduled> {
    if let Some(query) = queries.first() {
        anyhow::bail!(
            "this weir was built without SQL: the scheduled query `{}` needs the `sql` \
             feature (Apache DataFusion); rebuild with `cargo build --release --features sql`",
            query.name
        );
    }
    Ok(Scheduled {
        stop: Arc::new(StopHandle::new()),
        thread: None,
    })
}
