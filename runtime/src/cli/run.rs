//! `weir run`: compile, run on N worker threads, report progress and a summary.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use weir_engine::clock::WallClock;
use weir_engine::io::BadRecord;
use weir_engine::metrics::Metrics;
use weir_engine::run::{run as run_plan, RunOptions};

use super::{load_program, RunArgs};
use crate::connectors::Connectors;
use crate::launch::{progress::Progress, signals};

/// How many malformed records are shown on stderr before only counting them.
const SHOWN_BAD_RECORDS: u64 = 5;

pub(super) fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let Some(compiled) = load_program(&args.file, args.error_format)? else {
        return Ok(ExitCode::from(1));
    };
    let plan = Arc::new(compiled.plan);
    let workers = args.workers.max(1);
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let stop = signals::install(args.drain)?;

    let shown = Arc::new(AtomicU64::new(0));
    let on_bad_record = Arc::new(move |bad: &BadRecord| {
        let n = shown.fetch_add(1, Ordering::Relaxed);
        if n < SHOWN_BAD_RECORDS {
            let field = bad
                .field
                .as_deref()
                .map(|f| format!(", field `{f}`"))
                .unwrap_or_default();
            eprintln!(
                "warning: malformed record in source `{}` at {}{field}: {}",
                bad.source, bad.location, bad.reason
            );
        } else if n == SHOWN_BAD_RECORDS {
            eprintln!("warning: more malformed records; only counting them from now on");
        }
    });
    let options = RunOptions {
        workers,
        stop: Arc::clone(&stop),
        clock: Arc::new(WallClock),
        on_bad_record,
        limit: args.limit,
        clock_waiters: Default::default(),
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let progress = show_progress.then(|| Progress::start(Arc::clone(&metrics)));
    let result = run_plan(
        Arc::clone(&plan),
        Arc::new(Connectors::default()),
        options,
        Arc::clone(&metrics),
    );
    if let Some(p) = progress {
        p.finish();
    }
    let summary = result?;
    if !args.quiet {
        eprintln!(
            "{}",
            crate::launch::progress::summary_line(&summary, &plan, &metrics, workers)
        );
    }
    Ok(ExitCode::SUCCESS)
}
