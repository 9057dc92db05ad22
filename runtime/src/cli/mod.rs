//! The command line: `weir run | check | explain | test`.

mod bench;
mod bench_latency;
mod bench_nexmark;
mod check;
pub mod checkpoint_settings;
mod explain;
mod program;
mod query;
mod resume;
mod run;
mod scheduled;
mod serve;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use program::load_program;

/// Weir: a stream processor for IoT analytics. Runs `.pipe` pipelines on timely dataflow.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// Rendered for people, with source snippets.
    #[default]
    Human,
    /// One JSON object per line, for editors and CI.
    Json,
}

/// `weir` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipelines of a .pipe file until their sources end (or Ctrl-C).
    Run(RunArgs),
    /// Check a .pipe file and print its diagnostics (exit 1 on errors).
    Check {
        /// The .pipe file.
        file: PathBuf,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t)]
        error_format: ErrorFormat,
    },
    /// Run the `test` blocks of .pipe files; print each result and `N passed, N failed`
    /// (exit 1 if any test fails).
    Test {
        /// The .pipe files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t)]
        error_format: ErrorFormat,
    },
    /// Benchmarks (`weir bench nab`, `weir bench nexmark`, `weir bench latency`).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Answer SQL over the Parquet lake a .pipe file writes (or a lake folder); needs a
    /// build with the `sql` feature.
    Query(query::QueryArgs),
    /// Print the checked logical plan of a .pipe file (or, with --physical, what runs).
    Explain {
        /// The .pipe file.
        file: PathBuf,
        /// Print the plan as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Print the physical plan: the optimised pipelines' operators, exchanges and
        /// fused chains, as every worker builds them.
        #[arg(long)]
        physical: bool,
    },
}

/// `weir bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Score every anomaly detector on the Numenta Anomaly Benchmark files present.
    Nab(bench::NabArgs),
    /// Run the Nexmark queries of benches/nexmark (each in its own process) and print
    /// events/s, per worker, peak memory and outputs beside the single-threaded baseline.
    Nexmark(bench_nexmark::NexmarkArgs),
    /// Event-to-output latency (p50/p99/p999) of a stateless pipeline and a 1-second
    /// tumbling window, through MQTT (a Mosquitto it starts on 127.0.0.1) and the paced
    /// `sensors` simulator.
    Latency(bench_latency::LatencyArgs),
}

/// Arguments of `weir run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The .pipe file.
    pub file: PathBuf,
    /// Worker threads (default: 1).
    #[arg(long, short = 'w', default_value_t = 1)]
    pub workers: usize,
    /// No progress line and no summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// On Ctrl-C or SIGTERM, fire every open window before stopping.
    #[arg(long)]
    pub drain: bool,
    /// Read at most N records from each source, then end as if the input ended.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Fail the run at the first malformed input record (ignores `on error to` routes).
    #[arg(long)]
    pub strict: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub error_format: ErrorFormat,
    /// Processes in the cluster this process belongs to (docs/cluster.md).
    #[arg(long, default_value_t = 1, value_name = "P", help_heading = "Cluster")]
    pub processes: usize,
    /// This process's index in the cluster, 0 to P-1.
    #[arg(long, default_value_t = 0, value_name = "I", help_heading = "Cluster")]
    pub process: usize,
    /// File with each process's host:port, one per line (default: localhost:2101+I).
    #[arg(long, value_name = "FILE", help_heading = "Cluster")]
    pub hostfile: Option<PathBuf>,
    /// Seconds to wait for every other process of the cluster before giving up.
    #[arg(
        long,
        default_value_t = 30.0,
        value_name = "SECONDS",
        help_heading = "Cluster"
    )]
    pub connect_timeout: f64,
    /// Run P local processes of one cluster on free loopback ports, --workers each.
    #[arg(
        long,
        value_name = "P",
        help_heading = "Cluster",
        conflicts_with_all = ["processes", "process", "hostfile"]
    )]
    pub local_cluster: Option<usize>,
    /// The HTTP server (metrics, state API): where, and who may use it.
    #[command(flatten)]
    pub http: HttpArgs,
    /// Print a one-line status to stderr every DURATION (`10s`, `1m`) when stderr is not
    /// a terminal (logs under systemd or in a container).
    #[arg(long, value_name = "DURATION", value_parser = serve::parse_interval)]
    pub status_every: Option<std::time::Duration>,
    /// Checkpoint all state and source positions into DIR, and resume from the newest
    /// complete checkpoint there (docs/checkpoints.md). Shared by every process.
    #[arg(long, value_name = "DIR", help_heading = "Checkpoints")]
    pub checkpoint_dir: Option<PathBuf>,
    /// How often to checkpoint (`10s`, the default; `500ms`, `1m`).
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = resume::parse_every,
        help_heading = "Checkpoints"
    )]
    pub checkpoint_every: Option<std::time::Duration>,
    /// Remove the checkpoints in --checkpoint-dir and start over.
    #[arg(long, help_heading = "Checkpoints")]
    pub fresh: bool,
    /// Set by `--local-cluster` on its children, with the parent's process id: die with
    /// the parent (even when it is SIGKILLed), so no child outlives it.
    #[arg(long, hide = true, value_name = "PID")]
    pub exit_with_parent: Option<u32>,
}

/// The HTTP server options of `weir run` (docs/http.md).
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Serve /metrics and /api on ADDR (`127.0.0.1:9464`, port 0 for a free one), or
    /// `off`. Default: 127.0.0.1:9464, or a free loopback port if that one is taken.
    #[arg(long, value_name = "ADDR", help_heading = "HTTP")]
    pub http: Option<String>,
    /// Require `Authorization: Bearer <token>` with the token in environment variable
    /// VAR (needed to bind beyond loopback; the token is never printed).
    #[arg(long, value_name = "VAR", help_heading = "HTTP")]
    pub http_token_env: Option<String>,
}

/// Runs a parsed command line; the exit code is 0 on success, 1 on errors.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check { file, error_format } => check::check(&file, error_format),
        Command::Explain {
            file,
            json,
            physical,
        } => explain::explain(&file, json, physical),
        Command::Test {
            files,
            error_format,
        } => test::test(&files, error_format),
        Command::Query(args) => query::query(&args),
        Command::Bench(BenchCommand::Nab(args)) => bench::nab(&args),
        Command::Bench(BenchCommand::Nexmark(args)) => bench_nexmark::nexmark(&args),
        Command::Bench(BenchCommand::Latency(args)) => bench_latency::latency(&args),
    }
}
