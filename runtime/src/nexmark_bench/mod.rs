//! `weir bench nexmark`'s measurements: each query of `benches/nexmark/` runs in a child
//! process of its own (so one query's memory never shows in another's peak), with its
//! sinks discarding output, beside the hand-written single-threaded baseline.
//!
//! [`EngineRun`] is what a child measures; [`Measurement`] adds the baseline; [`report`]
//! prints them as a table, JSON lines or Markdown.

pub mod discard;
pub mod memory;
pub mod report;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use weir_engine::plan::{LogicalPlan, OptionValue};

/// The connector whose `events` option `--events` overrides.
pub const NEXMARK_KIND: &str = "nexmark";

/// The sink that holds a query's answer; its records are the query's outputs.
pub const ANSWER_SINK: &str = "out";

/// One query run by the engine, as the child process measured it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineRun {
    /// Query name (`q5`).
    pub query: String,
    /// Worker threads.
    pub workers: usize,
    /// Length of the generated event stream (persons, auctions and bids together), the
    /// unit Nexmark counts throughput in.
    pub events: u64,
    /// Wall time of the run (sources opened to sinks flushed), seconds.
    pub seconds: f64,
    /// Records the query's sources produced (only the kinds it reads).
    pub records_in: u64,
    /// Records written to the query's answer sink `out` (to every sink if it has none).
    pub outputs: u64,
    /// Records written to all its sinks.
    pub records_out: u64,
    /// Elements dropped as late.
    pub late_dropped: u64,
    /// Peak resident memory of the child process, bytes (Linux only).
    pub peak_rss_bytes: Option<u64>,
}

/// The hand-written baseline's run of the same query over the same events.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineRun {
    /// Events of the stream it went through.
    pub events: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Results it produced.
    pub outputs: u64,
    /// Whether its result count is a function of the stream alone (q12's depends on the
    /// wall clock, so neither side's count is checked against the other's).
    pub deterministic: bool,
}

/// One line of the report: the engine's run and the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Query name.
    pub query: String,
    /// Worker threads.
    pub workers: usize,
    /// Events of the generated stream.
    pub events: u64,
    /// Engine wall time, seconds.
    pub seconds: f64,
    /// Events per second.
    pub events_per_sec: f64,
    /// Events per second per worker (each worker is one thread, one core at most).
    pub events_per_sec_per_worker: f64,
    /// Peak resident memory of the process that ran the query, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Records the engine wrote to the query's answer sink `out`.
    pub outputs: u64,
    /// Records the query's sources produced.
    pub records_in: u64,
    /// Elements dropped as late.
    pub late_dropped: u64,
    /// The single-threaded baseline's events per second.
    pub baseline_events_per_sec: Option<f64>,
    /// The baseline's result count.
    pub baseline_outputs: Option<u64>,
    /// Engine events/s per worker over baseline events/s (COST: how close one engine
    /// core comes to one hand-written loop).
    pub engine_over_baseline: Option<f64>,
    /// Whether the engine and the baseline produced the same number of results; `None`
    /// without a baseline or when the count depends on the wall clock (q12).
    pub outputs_match_baseline: Option<bool>,
}

impl Measurement {
    /// Combines an engine run with the baseline's run of the same query, if any.
    pub fn new(run: EngineRun, baseline: Option<BaselineRun>) -> Measurement {
        let events_per_sec = per_second(run.events, run.seconds);
        let per_worker = events_per_sec / run.workers.max(1) as f64;
        let baseline_rate = baseline.map(|b| per_second(b.events, b.seconds));
        Measurement {
            query: run.query,
            workers: run.workers,
            events: run.events,
            seconds: run.seconds,
            events_per_sec,
            events_per_sec_per_worker: per_worker,
            peak_rss_bytes: run.peak_rss_bytes,
            outputs: run.outputs,
            records_in: run.records_in,
            late_dropped: run.late_dropped,
            baseline_events_per_sec: baseline_rate,
            baseline_outputs: baseline.map(|b| b.outputs),
            engine_over_baseline: baseline_rate.map(|b| per_worker / b),
            outputs_match_baseline: baseline
                .filter(|b| b.deterministic)
                .map(|b| b.outputs == run.outputs),
        }
    }
}

fn per_second(events: u64, seconds: f64) -> f64 {
    events as f64 / seconds.max(1e-9)
}

/// The query files of `dir` (`q0.pipe`, `q1.pipe`, …) in query-number order, limited to
/// `only` (`q5` or `5`) when it is not empty.
pub fn find_queries(dir: &Path, only: &[String]) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut found: Vec<(u32, String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let number = name.strip_prefix('q').and_then(|n| n.parse::<u32>().ok());
        if let (Some(n), Some("pipe")) = (number, path.extension().and_then(|e| e.to_str())) {
            found.push((n, name.to_string(), path.clone()));
        }
    }
    found.sort();
    Ok(found
        .into_iter()
        .filter(|(_, name, _)| {
            only.is_empty()
                || only
                    .iter()
                    .any(|q| q.trim_start_matches('q') == name.trim_start_matches('q'))
        })
        .map(|(_, name, path)| (name, path))
        .collect())
}

/// Sets the `events` option of every `nexmark(…)` source of `plan`; returns how many
/// sources it changed.
pub fn set_events(plan: &mut LogicalPlan, events: u64) -> usize {
    let value = OptionValue::Int(i64::try_from(events).unwrap_or(i64::MAX));
    let mut changed = 0;
    for source in plan
        .sources
        .iter_mut()
        .filter(|s| s.connector.kind == NEXMARK_KIND)
    {
        let options = &mut source.connector.options;
        match options.iter_mut().find(|(name, _)| name == "events") {
            Some((_, v)) => *v = value.clone(),
            None => options.push(("events".to_string(), value.clone())),
        }
        changed += 1;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_come_in_number_order_and_filter_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "q11.pipe", "q2.pipe", "q0.pipe", "notes.md", "q5.txt", "qx.pipe",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let names = |only: &[&str]| -> Vec<String> {
            let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
            find_queries(dir.path(), &only)
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names(&[]), ["q0", "q2", "q11"]);
        assert_eq!(names(&["q11", "2"]), ["q2", "q11"]);
        assert!(names(&["q7"]).is_empty());
    }

    #[test]
    fn set_events_overrides_or_adds_the_option_on_nexmark_sources_only() {
        let text = "source bids = nexmark(events: 1000, kind: bid) { auction: i64  date_time: timestamp  event_time date_time }\n\
                    source persons = nexmark(kind: person) { id: i64  date_time: timestamp  event_time date_time }\n\
                    source s = sensors(events: 5) { temp: f64  ts: timestamp  event_time ts }\n\
                    sink a = stdout()\n\
                    sink b = stdout()\n\
                    sink c = stdout()\n\
                    pipeline pa { from bids | to a }\n\
                    pipeline pb { from persons | to b }\n\
                    pipeline pc { from s | to c }\n";
        let mut plan = weir_dsl::compile("q.pipe", text).unwrap().plan;
        assert_eq!(set_events(&mut plan, 20_000), 2);
        for s in &plan.sources {
            let events = s.connector.option("events");
            match s.connector.kind.as_str() {
                NEXMARK_KIND => assert_eq!(events, Some(&OptionValue::Int(20_000))),
                _ => assert_eq!(events, Some(&OptionValue::Int(5))),
            }
        }
    }

    #[test]
    fn a_measurement_puts_the_engine_per_worker_beside_the_baseline() {
        let run = EngineRun {
            query: "q1".into(),
            workers: 2,
            events: 1_000_000,
            seconds: 0.5,
            records_in: 920_000,
            outputs: 920_000,
            records_out: 920_000,
            late_dropped: 0,
            peak_rss_bytes: Some(1 << 20),
        };
        let baseline = BaselineRun {
            events: 1_000_000,
            seconds: 0.25,
            outputs: 920_000,
            deterministic: true,
        };
        let m = Measurement::new(run, Some(baseline));
        assert_eq!(m.events_per_sec, 2_000_000.0);
        assert_eq!(m.events_per_sec_per_worker, 1_000_000.0);
        assert_eq!(m.baseline_events_per_sec, Some(4_000_000.0));
        assert_eq!(m.engine_over_baseline, Some(0.25));
        assert_eq!(m.outputs_match_baseline, Some(true));
        let wall_clock = BaselineRun {
            deterministic: false,
            outputs: 5,
            ..baseline
        };
        let m = Measurement::new(m_run(), Some(wall_clock));
        assert_eq!(m.outputs_match_baseline, None);
        assert_eq!(m.baseline_outputs, Some(5));
    }

    fn m_run() -> EngineRun {
        EngineRun {
            query: "q12".into(),
            workers: 1,
            events: 1_000,
            seconds: 1.0,
            records_in: 920,
            outputs: 7,
            records_out: 7,
            late_dropped: 0,
            peak_rss_bytes: None,
        }
    }
}
