//! `--status-every`: one status line on stderr at a fixed interval, for logs (systemd,
//! containers) where the redrawn progress line of a terminal would be noise.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use weir_engine::metrics::Metrics;
use weir_engine::time::format_timestamp;

use super::progress::count;

/// A thread printing a status line every interval until finished.
pub struct StatusLine {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl StatusLine {
    /// Starts printing every `every`.
    pub fn start(metrics: Arc<Metrics>, every: Duration) -> StatusLine {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut last = (started, 0u64);
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let now = Instant::now();
                let read = metrics.records_in();
                let rate =
                    (read - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-9);
                last = (now, read);
                eprintln!("{}", line(&metrics, started.elapsed(), rate));
            }
        });
        StatusLine {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops printing.
    pub fn finish(mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `weir: status elapsed=12.0s in=1234 rate=98/s out=56 …` (logfmt, so log tools parse it).
pub fn line(metrics: &Metrics, elapsed: Duration, rate: f64) -> String {
    let (watermark, lag) = match metrics.watermark() {
        Some(wm) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            (
                format_timestamp(wm),
                format!("{:.1}s", now.saturating_sub(wm) as f64 / 1000.0),
            )
        }
        None => ("-".into(), "-".into()),
    };
    format!(
        "weir: status elapsed={:.1}s in={} rate={}/s out={} malformed={} late={} undelivered={} watermark={watermark} lag={lag}",
        elapsed.as_secs_f64(),
        metrics.records_in(),
        count(rate as u64),
        metrics.records_out(),
        metrics.bad(),
        metrics.late(),
        metrics.undelivered_total(),
    )
}
