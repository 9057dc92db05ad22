//! While a stopped run waits for its sinks: a line on stderr now and then saying that it
//! is flushing and what each sink has not delivered yet, so a slow stop is not silent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use weir_engine::stop::StopHandle;

/// How long a stop may take before the first notice, and between notices.
const FIRST_NOTICE: Duration = Duration::from_secs(1);
const EVERY: Duration = Duration::from_secs(3);

/// A thread printing flush notices once a stop is requested, until finished.
pub struct StopNotice {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StopNotice {
    /// Watches `stop`; `backlogs` says what each sink still holds (sink, records).
    pub fn start(
        stop: Arc<StopHandle>,
        backlogs: impl Fn() -> Vec<(String, u64)> + Send + 'static,
    ) -> StopNotice {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let tick = Duration::from_millis(50);
            while !flag.load(Ordering::Relaxed) && !stop.is_requested() {
                std::thread::sleep(tick);
            }
            let stopped = Instant::now();
            let mut next = stopped + FIRST_NOTICE;
            while !flag.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    eprintln!(
                        "weir: stopping for {:.0}s: {}",
                        stopped.elapsed().as_secs_f64(),
                        describe(&backlogs())
                    );
                    next += EVERY;
                }
                std::thread::sleep(tick);
            }
        });
        StopNotice {
            done,
            thread: Some(thread),
        }
    }

    /// Stops watching.
    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `flushing sinks; not yet delivered: `hot` 1200` (or only the first part).
fn describe(backlogs: &[(String, u64)]) -> String {
    let waiting: Vec<String> = backlogs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("`{name}` {n}"))
        .collect();
    if waiting.is_empty() {
        "finishing the records in flight and flushing sinks (interrupt again to exit at once, losing them)".into()
    } else {
        format!(
            "flushing sinks; not yet delivered: {} (each sink gives up after its flush_timeout)",
            waiting.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn notices_name_what_each_sink_still_holds() {
        let line = describe(&[("hot".into(), 1200), ("console".into(), 0)]);
        assert!(line.contains("not yet delivered: `hot` 1200 ("), "{line}");
        assert!(!line.contains("console"), "{line}");
        assert!(describe(&[]).starts_with("finishing the records in flight"));
    }
}
