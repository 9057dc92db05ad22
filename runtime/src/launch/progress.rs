//! The progress line on stderr during a run, and the summary at its end.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use weir_engine::metrics::Metrics;
use weir_engine::plan::LogicalPlan;
use weir_engine::run::RunSummary;
use weir_engine::time::format_timestamp;

/// A thread redrawing one status line until finished.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts redrawing every 250 ms.
    pub fn start(metrics: Arc<Metrics>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut last = (Instant::now(), 0u64);
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                let now = Instant::now();
                let read = metrics.records_in();
                let rate =
                    (read - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-9);
                last = (now, read);
                let wm = metrics
                    .watermark()
                    .map(format_timestamp)
                    .unwrap_or_else(|| "-".into());
                eprint!(
                    "\r\x1b[2K{:>6.1}s  in {}  out {}  {}/s  watermark {wm}",
                    started.elapsed().as_secs_f64(),
                    count(read),
                    count(metrics.records_out()),
                    count(rate as u64),
                );
                let _ = std::io::stderr().flush();
            }
            eprint!("\r\x1b[2K");
        });
        Progress {
            done,
            thread: Some(thread),
        }
    }

    /// Stops and clears the line.
    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `1234567` → `1.23M`.
pub fn count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}M", n as f64 / 1e6),
        _ => format!("{:.2}G", n as f64 / 1e9),
    }
}

/// The end-of-run summary.
pub fn summary_line(
    summary: &RunSummary,
    plan: &LogicalPlan,
    metrics: &Metrics,
    workers: usize,
) -> String {
    let mut line = format!(
        "weir: {} {} records in {:.2}s ({} records/s on {workers} worker{}), wrote {}",
        if summary.stopped {
            "stopped after"
        } else {
            "read"
        },
        summary.records_in,
        summary.elapsed.as_secs_f64(),
        count(summary.records_per_second() as u64),
        if workers == 1 { "" } else { "s" },
        summary.records_out,
    );
    line.push_str(&format!(", {} malformed", summary.bad_records));
    for (i, s) in plan.sources.iter().enumerate() {
        let left = metrics.unacknowledged[i].load(Ordering::Relaxed);
        if left > 0 {
            line.push_str(&format!(
                ", {left} received but not acknowledged by `{}`",
                s.name
            ));
        }
    }
    for (i, s) in plan.sinks.iter().enumerate() {
        let undelivered = metrics.undelivered[i].load(Ordering::Relaxed);
        if undelivered > 0 {
            line.push_str(&format!(", {undelivered} undelivered by `{}`", s.name));
        }
        let throttled = metrics.sink_throttled[i].load(Ordering::Relaxed);
        if throttled > 0 {
            line.push_str(&format!(" ({throttled} of them over the rate limit)"));
        }
    }
    for (i, p) in plan.pipelines.iter().enumerate() {
        let late = metrics.late_dropped[i].load(Ordering::Relaxed);
        if late > 0 {
            line.push_str(&format!(", {late} late dropped in `{}`", p.name));
        }
        let silenced = metrics.alert_silenced[i].load(Ordering::Relaxed);
        if silenced > 0 {
            line.push_str(&format!(", {silenced} alerts silenced in `{}`", p.name));
        }
        let flapping = metrics.alert_flapping[i].load(Ordering::Relaxed);
        if flapping > 0 {
            line.push_str(&format!(
                ", {flapping} alerts held back while flapping in `{}`",
                p.name
            ));
        }
        let closed = metrics.closed_dropped[i].load(Ordering::Relaxed);
        if closed > 0 {
            line.push_str(&format!(
                ", {closed} dropped after the window's trigger finished in `{}`",
                p.name
            ));
        }
    }
    line
}
