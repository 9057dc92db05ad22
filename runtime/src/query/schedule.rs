//! Scheduled queries (`query name every 1h [at 01:00] = sql"""…""" | to sink`): SQL over
//! the lake on processing time, beside the dataflow, each answer's rows written to the
//! query's sinks. The clock is the run's (`WallClock` in `weir run`, a `TestClock` in
//! tests), so a test moves time and the queries fire exactly when it says.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use weir_dsl::ScheduledQuery;
use weir_engine::clock::Clock;
use weir_engine::event::Event;
use weir_engine::io::{ConnectorFactory, SinkWriter};
use weir_engine::plan::LogicalPlan;
use weir_engine::schema::Schema;

use super::{lakes_of_plan, rows, Lake, QueryError};

/// The first run of a query `every` ms at `offset` strictly after `now`.
pub fn next_run(now: i64, every: i64, offset: i64) -> i64 {
    let periods = (now - offset).div_euclid(every) + 1;
    offset + periods * every
}

/// What one run of a query did.
#[derive(Debug)]
pub struct Outcome {
    /// The query's name.
    pub query: String,
    /// The processing time it ran for.
    pub at: i64,
    /// Rows written to each of its sinks, or why it failed.
    pub result: Result<usize, QueryError>,
}

/// Runs a program's scheduled queries when they are due.
pub struct QueryRunner {
    queries: Vec<ScheduledQuery>,
    lakes: Vec<Lake>,
    plan: Arc<LogicalPlan>,
    connectors: Arc<dyn ConnectorFactory>,
    /// Writers opened on a query's first answer, by sink, with the answer's schema.
    writers: HashMap<String, (Schema, Arc<dyn SinkWriter>)>,
    /// Each query's next run.
    next: Vec<i64>,
}

impl QueryRunner {
    /// A runner for `queries` over the lakes of `plan` (paths relative to `base`), their
    /// first runs after `start`; sinks are opened with `connectors`.
    pub fn new(
        queries: Vec<ScheduledQuery>,
        plan: Arc<LogicalPlan>,
        base: &Path,
        connectors: Arc<dyn ConnectorFactory>,
        start: i64,
    ) -> QueryRunner {
        let next = queries
            .iter()
            .map(|q| next_run(start, q.every_ms, q.offset_ms))
            .collect();
        QueryRunner {
            lakes: lakes_of_plan(&plan, base),
            queries,
            plan,
            connectors,
            writers: HashMap::new(),
            next,
        }
    }

    /// When the next query is due, if there is any query.
    pub fn due(&self) -> Option<i64> {
        self.next.iter().copied().min()
    }

    /// Runs every query due at `now` once (a run missed while the process was busy is not
    /// repeated) and schedules its next run.
    pub fn run_due(&mut self, now: i64) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for i in 0..self.queries.len() {
            if self.next[i] > now {
                continue;
            }
            let at = self.next[i];
            let query = &self.queries[i];
            self.next[i] = next_run(now, query.every_ms, query.offset_ms);
            let result = self.run_one(i, at);
            outcomes.push(Outcome {
                query: self.queries[i].name.clone(),
                at,
                result,
            });
        }
        outcomes
    }

    /// Runs query `i` and writes its rows, stamped with `at` as their event time.
    fn run_one(&mut self, i: usize, at: i64) -> Result<usize, QueryError> {
        let query = &self.queries[i];
        let lakes: Vec<Lake> = self
            .lakes
            .iter()
            .filter(|l| query.tables.contains(&l.name))
            .cloned()
            .collect();
        let batches = super::run(&lakes, &query.sql)?;
        let Some(first) = batches.first() else {
            return Ok(0);
        };
        let schema = rows::schema_of(first);
        let events: Vec<Event> = rows::records(&batches, &schema)?
            .into_iter()
            .map(|r| Event::new(at, r))
            .collect();
        for sink in query.to.clone() {
            let writer = self.writer(&sink, &schema)?;
            writer
                .write(&events)
                .and_then(|()| writer.flush())
                .map_err(|e| QueryError::Output(format!("sink `{sink}`: {e}")))?;
        }
        Ok(events.len())
    }

    /// The writer of `sink` for answers of `schema`, opened on first use.
    fn writer(&mut self, sink: &str, schema: &Schema) -> Result<Arc<dyn SinkWriter>, QueryError> {
        if let Some((opened, writer)) = self.writers.get(sink) {
            if opened == schema {
                return Ok(Arc::clone(writer));
            }
            return Err(QueryError::Output(format!(
                "sink `{sink}`: the answer's columns changed since its first run"
            )));
        }
        let node = self
            .plan
            .sink(sink)
            .ok_or_else(|| QueryError::Output(format!("unknown sink `{sink}`")))?;
        let writer = self
            .connectors
            .open_sink(node, schema)
            .map_err(|e| QueryError::Output(format!("sink `{sink}`: {e}")))?;
        self.writers
            .insert(sink.to_string(), (schema.clone(), Arc::clone(&writer)));
        Ok(writer)
    }
}

/// Runs `runner` on `clock` until `stopped` says so, reporting each run with `report`.
/// Sleeps in short steps so a stop is seen within a fraction of a second.
pub fn run_until_stopped(
    mut runner: QueryRunner,
    clock: Arc<dyn Clock>,
    stopped: impl Fn() -> bool,
    report: impl Fn(&Outcome),
) {
    while !stopped() {
        let now = clock.now();
        match runner.due() {
            Some(due) if due <= now => {
                for outcome in runner.run_due(now) {
                    report(&outcome);
                }
            }
            Some(due) => {
                let wait = (due - now).clamp(1, 200) as u64;
                std::thread::sleep(Duration::from_millis(wait));
            }
            None => return,
        }
    }
}
