//! `weir bench nexmark`: every Nexmark query of `benches/nexmark/` in a child `weir`
//! process of its own, per worker count, beside the single-threaded baseline.
//!
//! The parent finds the query files and runs the baseline; each child (`--measure`, a
//! hidden flag) compiles one query, sets the stream length, runs it with discarding
//! sinks and prints its [`EngineRun`] as one JSON line, including its own peak memory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::{bail, Context};
use weir_engine::clock::WallClock;
use weir_engine::metrics::Metrics;
use weir_engine::plan::{LogicalPlan, OptionValue};
use weir_engine::run::{run_on, Layout, RunOptions};
use weir_engine::stop::StopHandle;

use super::{load_program, ErrorFormat};
use crate::connectors::nexmark::NexmarkSourceConfig;
use crate::connectors::Connectors;
use crate::nexmark_bench::discard::DiscardSinks;
use crate::nexmark_bench::{
    find_queries, memory, report, set_events, BaselineRun, EngineRun, Measurement, ANSWER_SINK,
    NEXMARK_KIND,
};

/// Where the query files live, relative to the repository root.
const QUERY_DIR: &str = "benches/nexmark";

/// Arguments of `weir bench nexmark`.
#[derive(Debug, clap::Args)]
pub struct NexmarkArgs {
    /// Only these queries (`q5` or `5`); repeat or separate with commas. Default: all.
    #[arg(long, value_delimiter = ',', value_name = "QUERY")]
    pub query: Vec<String>,
    /// Length of the generated event stream (`10M`, `500k`, `20000`); overrides each
    /// query's `nexmark(events: …)`.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub events: Option<u64>,
    /// Worker threads; a list (`1,2`) runs every query once per count.
    #[arg(long, short = 'w', value_delimiter = ',', default_value = "1")]
    pub workers: Vec<usize>,
    /// The folder holding q0.pipe, q1.pipe, … (default: benches/nexmark of the
    /// repository, looked for from the current directory and from this binary).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print one JSON object per query and worker count instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Do not run the hand-written single-threaded baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Internal: run this one query file here and print what it measured as JSON.
    #[arg(long, hide = true, value_name = "FILE")]
    pub measure: Option<PathBuf>,
}

/// `10M` → 10 000 000; `500k`, `2_000_000` and plain numbers too.
fn parse_count(text: &str) -> Result<u64, String> {
    let t = text.trim().replace('_', "");
    let (digits, scale) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('M') => (&t[..t.len() - 1], 1_000_000),
        Some('G') => (&t[..t.len() - 1], 1_000_000_000),
        _ => (t.as_str(), 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("expected a count such as 20000, 500k or 10M, found `{text}`"))
}

pub(super) fn nexmark(args: &NexmarkArgs) -> anyhow::Result<ExitCode> {
    if let Some(file) = &args.measure {
        let workers = args.workers.first().copied().unwrap_or(1).max(1);
        return measure(file, args.events, workers);
    }
    if args.workers.contains(&0) {
        bail!("--workers must be at least 1");
    }
    let dir = query_dir(args.dir.as_deref())?;
    let queries = find_queries(&dir, &args.query)
        .with_context(|| format!("cannot list the queries in {}", dir.display()))?;
    if queries.is_empty() {
        bail!(
            "no query files{} in {} (expected q0.pipe, q1.pipe, …)",
            if args.query.is_empty() {
                String::new()
            } else {
                format!(" matching {}", args.query.join(", "))
            },
            dir.display()
        );
    }
    let exe = std::env::current_exe().context("cannot find the weir binary to start")?;
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(out, "{}", report::header())?;
    }
    let mut mismatches = Vec::new();
    for (name, file) in &queries {
        let baseline = if args.no_baseline {
            None
        } else {
            run_baseline(name, file, args.events)?
        };
        for &workers in &args.workers {
            let run = measure_in_child(&exe, file, args.events, workers)?;
            let m = Measurement::new(run, baseline);
            if m.outputs_match_baseline == Some(false) {
                mismatches.push(format!("{name} on {workers} worker(s)"));
            }
            let line = if args.json {
                report::json_line(&m)
            } else {
                report::table_row(&m)
            };
            writeln!(out, "{line}")?;
            out.flush()?;
        }
    }
    if !mismatches.is_empty() {
        eprintln!(
            "weir: the engine's result count differs from the baseline's for {}",
            mismatches.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--dir`, else `benches/nexmark` under the current directory or one of its parents,
/// else under one of this binary's parents (`target/release/weir` in a checkout).
fn query_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = given {
        if !dir.is_dir() {
            bail!("--dir {}: not a folder", dir.display());
        }
        return Ok(dir.to_path_buf());
    }
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe);
    }
    for start in &starts {
        for dir in start.ancestors() {
            let candidate = dir.join(QUERY_DIR);
            if candidate.is_dir() {
                return Ok(candidate);
            }
        }
    }
    bail!("cannot find {QUERY_DIR}/ (the Nexmark queries): run from the repository or give --dir")
}

/// Runs `weir bench nexmark --measure FILE` and reads the JSON line it prints.
fn measure_in_child(
    exe: &Path,
    file: &Path,
    events: Option<u64>,
    workers: usize,
) -> anyhow::Result<EngineRun> {
    // Absolute, since the child runs elsewhere (below).
    let file = &std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut cmd = Command::new(exe);
    cmd.args([
        "bench",
        "nexmark",
        "--workers",
        &workers.to_string(),
        "--measure",
    ])
    .arg(file);
    // Query files name their data from the repository's root (q13's table is
    // `benches/nexmark/side_input.csv`): run where `benches/` is. Sinks discard, so
    // nothing is written there.
    if let Some(root) = file.parent().and_then(Path::parent).and_then(Path::parent) {
        cmd.current_dir(root);
    }
    if let Some(n) = events {
        cmd.args(["--events", &n.to_string()]);
    }
    let output = cmd
        .output()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "{} failed on {} worker(s) ({}):\n{}",
            file.display(),
            workers,
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| {
        format!(
            "unexpected output from the run of {}: {line:?}",
            file.display()
        )
    })
}

/// The child: compile `file`, set the stream length, run with discarding sinks, print
/// the measurement.
fn measure(file: &Path, events: Option<u64>, workers: usize) -> anyhow::Result<ExitCode> {
    let Some(compiled) = load_program(file, ErrorFormat::Human)? else {
        return Ok(ExitCode::from(1));
    };
    let mut plan = compiled.plan;
    if let Some(n) = events {
        if set_events(&mut plan, n) == 0 {
            bail!(
                "{}: no nexmark(…) source whose `events` --events could set",
                file.display()
            );
        }
    }
    let stream = stream_length(&plan, file)?;
    let plan = Arc::new(plan);
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let options = RunOptions {
        workers,
        stop: Arc::new(StopHandle::new()),
        clock: Arc::new(WallClock),
        on_bad_record: Arc::new(|bad| eprintln!("warning: malformed record: {}", bad.reason)),
        limit: None,
        clock_waiters: Default::default(),
        checkpoint: None,
    };
    let connectors = DiscardSinks::new(Connectors::default(), ANSWER_SINK);
    let answers = connectors.counter();
    let has_answer_sink = plan.sinks.iter().any(|s| s.name == ANSWER_SINK);
    let summary = run_on(
        Arc::clone(&plan),
        Arc::new(connectors),
        options,
        metrics,
        Layout::Local,
    )
    .with_context(|| format!("running {}", file.display()))?;
    let outputs = if has_answer_sink {
        answers.load(Ordering::Relaxed)
    } else {
        summary.records_out
    };
    let run = EngineRun {
        query: file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        workers,
        events: stream,
        seconds: summary.elapsed.as_secs_f64(),
        records_in: summary.records_in,
        outputs,
        records_out: summary.records_out,
        late_dropped: summary.late_dropped,
        peak_rss_bytes: memory::peak_rss_bytes(),
    };
    println!("{}", serde_json::to_string(&run)?);
    Ok(ExitCode::SUCCESS)
}

/// The length of the generated stream the query's `nexmark(…)` sources share.
fn stream_length(plan: &LogicalPlan, file: &Path) -> anyhow::Result<u64> {
    let mut lengths = plan
        .sources
        .iter()
        .filter(|s| s.connector.kind == NEXMARK_KIND)
        .map(|s| match s.connector.option("events") {
            Some(OptionValue::Int(n)) => u64::try_from(*n).ok(),
            _ => None,
        });
    let Some(Some(first)) = lengths.next() else {
        bail!(
            "{}: the first nexmark(…) source needs `events: N` (or give --events)",
            file.display()
        );
    };
    if lengths.any(|l| l != Some(first)) {
        bail!(
            "{}: the nexmark(…) sources disagree on `events`; give them one length (or --events)",
            file.display()
        );
    }
    Ok(first)
}

/// The hand-written single-threaded loop for query `name` over the stream the query's
/// first `nexmark(…)` source describes, timed; `None` for a query with no baseline.
fn run_baseline(
    name: &str,
    file: &Path,
    events: Option<u64>,
) -> anyhow::Result<Option<BaselineRun>> {
    if !baseline::has(name) {
        return Ok(None);
    }
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let path = file.display().to_string();
    let mut plan = match weir_dsl::compile_with(&path, &text, &crate::catalog::Catalog) {
        Ok(compiled) => compiled.plan,
        Err(diagnostics) => bail!(
            "{}",
            weir_dsl::render(&diagnostics, &path, &text, false).trim_end()
        ),
    };
    if let Some(n) = events {
        set_events(&mut plan, n);
    }
    let Some(source) = plan
        .sources
        .iter()
        .find(|s| s.connector.kind == NEXMARK_KIND)
    else {
        return Ok(None);
    };
    let config = NexmarkSourceConfig::from_call(&source.connector)
        .map_err(|problems| {
            anyhow::anyhow!(
                "{path}: source `{}`: {}",
                source.name,
                problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?
        .generator;
    baseline::run(name, &config)
}

/// The hand-written loops live in bench code (`benches/baseline`), so only a build with
/// the `baseline` feature (the workspace's own builds) carries them; a shipped `weir`
/// does not, and reports no baseline.
#[cfg(feature = "baseline")]
mod baseline {
    use std::time::Instant;

    use crate::nexmark_bench::BaselineRun;

    pub(super) fn has(name: &str) -> bool {
        weir_baseline::QUERIES.contains(&name)
    }

    pub(super) fn run(
        name: &str,
        config: &weir_nexmark::NexmarkConfig,
    ) -> anyhow::Result<Option<BaselineRun>> {
        let started = Instant::now();
        let result = weir_baseline::run(name, config)?;
        Ok(Some(BaselineRun {
            events: result.events,
            seconds: started.elapsed().as_secs_f64(),
            outputs: result.outputs,
            deterministic: result.deterministic,
        }))
    }
}

#[cfg(not(feature = "baseline"))]
mod baseline {
    use crate::nexmark_bench::BaselineRun;

    pub(super) fn has(_name: &str) -> bool {
        static NOTE: std::sync::Once = std::sync::Once::new();
        NOTE.call_once(|| {
            eprintln!("weir: built without the `baseline` feature: no baseline columns");
        });
        false
    }

    pub(super) fn run(
        _name: &str,
        _config: &weir_nexmark::NexmarkConfig,
    ) -> anyhow::Result<Option<BaselineRun>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_metric_suffixes() {
        assert_eq!(parse_count("20000"), Ok(20_000));
        assert_eq!(parse_count("500k"), Ok(500_000));
        assert_eq!(parse_count("10M"), Ok(10_000_000));
        assert_eq!(parse_count("2_000_000"), Ok(2_000_000));
        assert!(parse_count("ten").unwrap_err().contains("`ten`"));
        assert!(parse_count("-5").is_err());
    }
}
