//! Counters a run publishes while it goes: read by the progress line, the summary, the
//! periodic status line and the HTTP server's `/metrics`.

pub mod latency;
pub mod operators;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::plan::LogicalPlan;
use crate::time::{EventTime, MIN_WATERMARK};

use latency::LatencyHistograms;
use operators::OperatorMetrics;

/// Live counters of one run, shared by all workers of a process.
#[derive(Debug)]
pub struct Metrics {
    /// Records read, per source.
    pub source_records: Vec<AtomicU64>,
    /// Rejected (malformed) records, per source.
    pub bad_records: Vec<AtomicU64>,
    /// Input messages a source had received but not handed out when it was stopped
    /// (not acknowledged: left to the upstream), per source.
    pub unacknowledged: Vec<AtomicU64>,
    /// Records handed to each sink (those it could not deliver included).
    pub sink_records: Vec<AtomicU64>,
    /// Records each sink handed back as undeliverable (routed or reported).
    pub undelivered: Vec<AtomicU64>,
    /// Records a sink's rate limit kept from being sent (also undelivered), per sink.
    pub sink_throttled: Vec<AtomicU64>,
    /// Late elements, per pipeline: their window had expired (the watermark passed its
    /// end plus the allowed lateness), or a `join` had forgotten their time.
    pub late_dropped: Vec<AtomicU64>,
    /// Elements of a window whose trigger had finished (`count(n)`, `until`, a watermark
    /// trigger without late firings), per pipeline: not late, just after the last pane.
    pub closed_dropped: Vec<AtomicU64>,
    /// Alert events held back while their key was flapping, per pipeline.
    pub alert_flapping: Vec<AtomicU64>,
    /// Alert events matching a silence (`silenced by`), per pipeline: counted, not sent.
    pub alert_silenced: Vec<AtomicU64>,
    /// Current watermark per (source, worker); `i64::MAX` once that share has ended.
    watermarks: Vec<AtomicI64>,
    /// Records in and out of every physical operator, and keyed operators' state.
    pub operators: OperatorMetrics,
    /// Event-to-output latency per sink.
    pub latency: LatencyHistograms,
    /// Per worker: nanoseconds spent in scheduling rounds that had work to do.
    busy_nanos: Vec<AtomicU64>,
    workers: usize,
}

impl Metrics {
    /// Counters for `plan` run on `workers` workers.
    pub fn new(plan: &LogicalPlan, workers: usize) -> Metrics {
        let counters = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        Metrics {
            source_records: counters(plan.sources.len()),
            bad_records: counters(plan.sources.len()),
            unacknowledged: counters(plan.sources.len()),
            sink_records: counters(plan.sinks.len()),
            undelivered: counters(plan.sinks.len()),
            sink_throttled: counters(plan.sinks.len()),
            late_dropped: counters(plan.pipelines.len()),
            closed_dropped: counters(plan.pipelines.len()),
            alert_flapping: counters(plan.pipelines.len()),
            alert_silenced: counters(plan.pipelines.len()),
            watermarks: (0..plan.sources.len() * workers)
                .map(|_| AtomicI64::new(MIN_WATERMARK))
                .collect(),
            operators: OperatorMetrics::new(plan, workers),
            latency: LatencyHistograms::new(plan.sinks.len(), workers),
            busy_nanos: counters(workers),
            workers,
        }
    }

    /// Adds `nanos` of busy time to `worker` (its index in this process).
    pub fn add_busy(&self, worker: usize, nanos: u64) {
        if let Some(b) = self.busy_nanos.get(worker) {
            b.fetch_add(nanos, Ordering::Relaxed);
        }
    }

    /// Seconds `worker` has spent busy since the run started.
    pub fn busy_seconds(&self, worker: usize) -> f64 {
        self.busy_nanos
            .get(worker)
            .map_or(0.0, |b| b.load(Ordering::Relaxed) as f64 / 1e9)
    }

    pub(crate) fn set_watermark(&self, source: usize, worker: usize, wm: EventTime) {
        if let Some(w) = self.watermarks.get(source * self.workers + worker) {
            w.store(wm, Ordering::Relaxed);
        }
    }

    /// The greatest watermark of `source` over its shares in this process that have not
    /// ended, if any has one yet.
    pub fn max_live_watermark(&self, source: usize) -> Option<EventTime> {
        let shares = self
            .watermarks
            .get(source * self.workers..(source + 1) * self.workers)?;
        shares
            .iter()
            .map(|w| w.load(Ordering::Relaxed))
            .filter(|&w| w != i64::MAX && w != MIN_WATERMARK)
            .max()
    }

    /// The watermark of `source` in this process: the least over its shares that have a
    /// watermark and have not ended; `None` before the first or after the last.
    pub fn source_watermark(&self, source: usize) -> Option<EventTime> {
        let shares = self
            .watermarks
            .get(source * self.workers..(source + 1) * self.workers)?;
        shares
            .iter()
            .map(|w| w.load(Ordering::Relaxed))
            .filter(|&w| w != i64::MAX && w != MIN_WATERMARK)
            .min()
    }

    /// Whether every share of `source` in this process has ended.
    pub fn source_ended(&self, source: usize) -> bool {
        self.watermarks
            .get(source * self.workers..(source + 1) * self.workers)
            .is_some_and(|s| s.iter().all(|w| w.load(Ordering::Relaxed) == i64::MAX))
    }

    /// Worker threads of this process.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The least watermark over every live source share; `None` when all have ended or
    /// while some share has none yet.
    pub fn watermark(&self) -> Option<EventTime> {
        let wm = self
            .watermarks
            .iter()
            .map(|w| w.load(Ordering::Relaxed))
            .min()?;
        (wm != i64::MAX && wm != MIN_WATERMARK).then_some(wm)
    }

    /// Total records read from all sources.
    pub fn records_in(&self) -> u64 {
        sum(&self.source_records)
    }

    /// Total records written to all sinks (not counting those a sink handed back).
    pub fn records_out(&self) -> u64 {
        sum(&self.sink_records).saturating_sub(self.undelivered_total())
    }

    /// Total records sinks could not deliver.
    pub fn undelivered_total(&self) -> u64 {
        sum(&self.undelivered)
    }

    /// Total malformed records.
    pub fn bad(&self) -> u64 {
        sum(&self.bad_records)
    }

    /// Total late-dropped elements.
    pub fn late(&self) -> u64 {
        sum(&self.late_dropped)
    }

    /// Total elements dropped after their window's trigger finished.
    pub fn closed(&self) -> u64 {
        sum(&self.closed_dropped)
    }
}

fn sum(counters: &[AtomicU64]) -> u64 {
    counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}
