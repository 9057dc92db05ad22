//! Sampling the run's counters into one record per interval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus};
use weir_engine::metrics::Metrics;
use weir_engine::value::{Record, Value};

use super::{MetricsConfig, MetricsField};

/// The `metrics` source of one process (read by its first worker).
pub struct MetricsSource {
    metrics: Arc<Metrics>,
    /// This source's index in the plan, left out of the figures.
    own: usize,
    fields: Vec<MetricsField>,
    every: Duration,
    next: Option<Instant>,
    last_in: (Instant, u64),
}

impl MetricsSource {
    /// A source sampling `metrics` every `config.every_ms`; `own` is its plan index.
    pub fn new(
        config: MetricsConfig,
        fields: Vec<MetricsField>,
        metrics: Arc<Metrics>,
        own: usize,
    ) -> MetricsSource {
        let every = Duration::from_millis(config.every_ms.max(100) as u64);
        MetricsSource {
            metrics,
            own,
            fields,
            every,
            next: None,
            last_in: (Instant::now(), 0),
        }
    }

    fn others(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.metrics.source_records.len()).filter(move |&i| i != self.own)
    }

    fn records_in(&self) -> u64 {
        self.others()
            .map(|i| self.metrics.source_records[i].load(std::sync::atomic::Ordering::Relaxed))
            .sum()
    }

    fn sample(&mut self, now_ms: i64) -> Record {
        let m = &self.metrics;
        let read = self.records_in();
        let now = Instant::now();
        let seconds = now.duration_since(self.last_in.0).as_secs_f64().max(1e-9);
        let rate = read.saturating_sub(self.last_in.1) as f64 / seconds;
        self.last_in = (now, read);
        let lag = self
            .others()
            .filter_map(|i| m.source_watermark(i))
            .min()
            .map(|wm| (now_ms - wm) as f64 / 1000.0);
        let count = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        self.fields
            .iter()
            .map(|f| match f {
                MetricsField::Time => Value::Time(now_ms),
                MetricsField::RecordsIn => count(read),
                MetricsField::RecordsInPerSecond => Value::Float(rate),
                MetricsField::RecordsOut => count(m.records_out()),
                MetricsField::Malformed => count(m.bad()),
                MetricsField::LateDropped => count(m.late()),
                MetricsField::Undelivered => count(m.undelivered_total()),
                MetricsField::LagSeconds => lag.map_or(Value::Null, Value::Float),
            })
            .collect()
    }

    /// Whether every other source has ended (then so does this one, after a last record).
    fn others_ended(&self) -> bool {
        let mut others = self.others().peekable();
        others.peek().is_some() && self.others().all(|i| self.metrics.source_ended(i))
    }
}

impl SourceReader for MetricsSource {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        _bad: &mut Vec<BadRecord>,
        _max: usize,
    ) -> Result<SourceStatus, IoError> {
        let now = Instant::now();
        let due = *self.next.get_or_insert(now + self.every);
        let ended = self.others_ended();
        if now < due && !ended {
            return Ok(SourceStatus::Idle);
        }
        out.push(self.sample(wall_clock_ms()));
        // After a long pause, the next record is an interval from now, not a burst.
        self.next = Some((due + self.every).max(now + self.every / 2));
        Ok(if ended {
            SourceStatus::Finished
        } else {
            SourceStatus::Ready
        })
    }
}

fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
