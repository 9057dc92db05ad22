//! Runs a detector over one NAB file as a real `.pipe` pipeline (file source → `detect` →
//! file sink) and reads back one anomaly score per row.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir_engine::clock::WallClock;
use weir_engine::metrics::Metrics;
use weir_engine::run::{run as run_plan, RunOptions};
use weir_engine::stop::StopHandle;

use super::{DataFile, NabError};
use crate::connectors::Connectors;

/// The `.pipe` text that scores `data` with detector call `call` (e.g. `rcf(trees: 40)`)
/// and writes `timestamp,value,score` rows to `out`.
pub fn pipeline_text(data: &Path, call: &str, out: &Path) -> String {
    format!(
        "# NAB run: one pass in time order, the same parameters for every file.\n\
         source series = file(\"{data}\", format: csv) {{\n  timestamp: timestamp\n  value: f64\n  event_time timestamp\n}}\n\
         sink scores = file(\"{out}\", format: csv)\n\
         pipeline nab {{\n  from series\n  | detect anomaly in value using {call} as d\n  | select timestamp, value, score = d.score\n  | to scores\n}}\n",
        data = data.display(),
        out = out.display(),
    )
}

/// Scores every row of `file` with detector `call`, through a pipeline run on `workers`
/// threads; `scratch` is a directory for the pipeline's output.
pub fn run_detector(
    file: &DataFile,
    call: &str,
    workers: usize,
    scratch: &Path,
) -> Result<Vec<f64>, NabError> {
    let out: PathBuf = scratch.join(format!("{}.csv", file.key.replace('/', "__")));
    let text = pipeline_text(&file.path, call, &out);
    let name = format!("nab:{}", file.key);
    let compiled = weir_dsl::compile_with(&name, &text, &crate::catalog::Catalog)
        .map_err(|d| NabError::Pipeline(weir_dsl::render(&d, &name, &text, false)))?;
    let plan = Arc::new(compiled.plan);
    let metrics = Arc::new(Metrics::new(&plan, workers.max(1)));
    let options = RunOptions {
        workers: workers.max(1),
        stop: Arc::new(StopHandle::new()),
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|_| {}),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint: None,
    };
    run_plan(plan, Arc::new(Connectors::default()), options, metrics)
        .map_err(|e| NabError::Pipeline(format!("{}: {e}", file.key)))?;
    let written = std::fs::read_to_string(&out).map_err(|source| NabError::Io {
        path: out.clone(),
        source,
    })?;
    // Rows are matched by (timestamp, value): NAB files repeat a few timestamps (clock
    // changes), and the pipeline feeds rows in event-time order, not file order.
    let mut by_row: HashMap<(i64, u64), VecDeque<f64>> = HashMap::new();
    for (n, line) in written.lines().enumerate().skip(1) {
        let bad = |message: String| NabError::Row {
            path: out.clone(),
            line: n as u64 + 1,
            message,
        };
        let mut cols = line.split(',');
        let (Some(t), Some(v), Some(s)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(bad(format!(
                "expected `timestamp,value,score`, found `{line}`"
            )));
        };
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| bad(format!("bad value `{v}`")))?;
        let t = weir_engine::time::parse_timestamp(t.trim_matches('"'))
            .ok_or_else(|| bad(format!("bad timestamp `{t}`")))?;
        let s: f64 = s
            .trim()
            .parse()
            .map_err(|_| bad(format!("bad score `{s}`")))?;
        by_row.entry((t, v.to_bits())).or_default().push_back(s);
    }
    let _ = std::fs::remove_file(&out);
    file.timestamps
        .iter()
        .zip(&file.values)
        .map(|(t, v)| {
            by_row
                .get_mut(&(*t, v.to_bits()))
                .and_then(VecDeque::pop_front)
                .ok_or_else(|| {
                    NabError::Pipeline(format!(
                        "{}: the pipeline wrote no score for the row at {t} ms",
                        file.key
                    ))
                })
        })
        .collect()
}
