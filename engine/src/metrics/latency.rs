//! Event-to-output latency per sink: the processing time at which the sink operator is
//! handed a record minus the record's event time, as a histogram with fixed buckets.
//! Each worker has its own buckets; a batch is counted locally and added with one
//! relaxed add per touched bucket, so the hot path takes no lock.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::event::Event;
use crate::time::EventTime;

/// Upper bounds of the buckets, in milliseconds (the last bucket, +Inf, is implicit).
pub const BUCKETS_MS: [i64; 14] = [
    1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 3_600_000, 86_400_000,
];

const SLOTS: usize = BUCKETS_MS.len() + 1;

/// One histogram per (sink, worker).
#[derive(Debug)]
pub struct LatencyHistograms {
    sinks: usize,
    workers: usize,
    /// Slot `(worker * sinks + sink) * SLOTS + bucket`: non-cumulative counts.
    counts: Vec<AtomicU64>,
    /// Per (worker, sink): the sum of latencies in milliseconds.
    sums_ms: Vec<AtomicU64>,
}

/// A histogram as read at scrape time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencySnapshot {
    /// Sum of the observed latencies, in seconds.
    pub sum_seconds: f64,
    /// Observations.
    pub count: u64,
    /// (upper bound in seconds, count in that bucket alone), +Inf last.
    pub buckets: Vec<(f64, u64)>,
}

impl LatencyHistograms {
    /// Empty histograms for `sinks` sinks on `workers` workers.
    pub fn new(sinks: usize, workers: usize) -> LatencyHistograms {
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        LatencyHistograms {
            sinks,
            workers,
            counts: zeros(sinks * workers * SLOTS),
            sums_ms: zeros(sinks * workers),
        }
    }

    /// Observes `events` reaching `sink` on `worker` at processing time `now`. An event
    /// time after `now` (a clock ahead of this one) counts as 0.
    pub fn observe(&self, sink: usize, worker: usize, now: EventTime, events: &[Event]) {
        if sink >= self.sinks || worker >= self.workers || events.is_empty() {
            return;
        }
        let mut local = [0u64; SLOTS];
        let mut sum: u64 = 0;
        for event in events {
            let ms = now.saturating_sub(event.time).max(0);
            sum = sum.saturating_add(ms as u64);
            let bucket = BUCKETS_MS.partition_point(|&b| b < ms);
            local[bucket] += 1;
        }
        let at = worker * self.sinks + sink;
        for (bucket, n) in local.iter().enumerate().filter(|(_, n)| **n > 0) {
            self.counts[at * SLOTS + bucket].fetch_add(*n, Ordering::Relaxed);
        }
        self.sums_ms[at].fetch_add(sum, Ordering::Relaxed);
    }

    /// `sink`'s histogram summed over this process's workers.
    pub fn snapshot(&self, sink: usize) -> LatencySnapshot {
        let mut counts = [0u64; SLOTS];
        let mut sum_ms: u64 = 0;
        for worker in 0..self.workers {
            let at = worker * self.sinks + sink;
            let Some(sum) = self.sums_ms.get(at) else {
                continue;
            };
            sum_ms = sum_ms.saturating_add(sum.load(Ordering::Relaxed));
            for (b, c) in counts.iter_mut().enumerate() {
                *c += self.counts[at * SLOTS + b].load(Ordering::Relaxed);
            }
        }
        let buckets = counts
            .iter()
            .enumerate()
            .map(|(b, &n)| {
                let bound = BUCKETS_MS
                    .get(b)
                    .map_or(f64::INFINITY, |&ms| ms as f64 / 1000.0);
                (bound, n)
            })
            .collect();
        LatencySnapshot {
            sum_seconds: sum_ms as f64 / 1000.0,
            count: counts.iter().sum(),
            buckets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn at(time: EventTime) -> Event {
        Event::new(time, vec![Value::Null])
    }

    #[test]
    fn each_latency_lands_in_the_first_bucket_whose_bound_it_does_not_pass() {
        let h = LatencyHistograms::new(2, 2);
        // Latencies 0, 5, 6 and 2000 ms on worker 0; 40 s and a future event on worker 1.
        h.observe(1, 0, 10_000, &[at(10_000), at(9_995), at(9_994), at(8_000)]);
        h.observe(1, 1, 50_000, &[at(10_000), at(60_000)]);
        let s = h.snapshot(1);
        assert_eq!(s.count, 6);
        assert!((s.sum_seconds - (0.0 + 0.005 + 0.006 + 2.0 + 40.0)).abs() < 1e-9);
        let count_at = |bound: f64| s.buckets.iter().find(|(b, _)| *b == bound).unwrap().1;
        assert_eq!(count_at(0.001), 2, "0 ms and the future event");
        assert_eq!(count_at(0.005), 1);
        assert_eq!(count_at(0.01), 1);
        assert_eq!(count_at(5.0), 1);
        assert_eq!(count_at(60.0), 1);
        assert_eq!(h.snapshot(0).count, 0, "another sink");
    }
}
