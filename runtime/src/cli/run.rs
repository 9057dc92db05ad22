//! `weir run`: compile, run on N worker threads (alone, as one process of a cluster, or as
//! a local cluster of child processes), report progress and a summary.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ValueEnum;
use parking_lot::Mutex;
use weir_engine::clock::WallClock;
use weir_engine::io::BadRecord;
use weir_engine::metrics::Metrics;
use weir_engine::run::{run_on, Layout, RunOptions, RunSummary};

use super::{load_program, serve, RunArgs};
use crate::connectors::live::LiveFeeds;
use crate::connectors::state::StateStores;
use crate::connectors::Connectors;
use crate::http::RunView;
use crate::launch::cluster::{join, JoinSpec};
use crate::launch::dir_lock::{DirLock, PATIENCE};
use crate::launch::handshake::{plan_hash, Hello};
use crate::launch::local_cluster::{self, LocalCluster};
use crate::launch::stopping::StopNotice;
use crate::launch::{hostfile, progress::Progress, signals, status::StatusLine};

/// How many malformed records are shown on stderr before only counting them.
const SHOWN_BAD_RECORDS: u64 = 5;

pub(super) fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    if let Some(processes) = args.local_cluster {
        return run_local_cluster(args, processes);
    }
    let connect_timeout = check_cluster_args(args)?;
    if let Some(parent) = args.exit_with_parent {
        exit_with_parent(parent);
    }
    let Some(compiled) = load_program(&args.file, args.error_format)? else {
        return Ok(ExitCode::from(1));
    };
    let http = serve::effective(&args.http, compiled.serving.serve.as_ref());
    let live_sinks = compiled.serving.live_sinks;
    let mut plan = compiled.plan;
    let queries = compiled.queries;
    if args.strict {
        // Under --strict the first bad record ends the run instead of being routed.
        for pipeline in &mut plan.pipelines {
            pipeline.error_to = None;
        }
    }
    let plan = Arc::new(plan);
    // Before the cluster connects: process 0 clears what the resumed run writes again.
    let (checkpoint, _dir_lock) = super::resume::checkpoint_config(args, &plan)?;
    let workers = args.workers.max(1);
    let metrics = Arc::new(Metrics::new(&plan, workers));
    let stop = signals::install(args.drain)?;
    stop.set_strict(args.strict);

    let hosts = match &args.hostfile {
        Some(path) if args.processes > 1 => hostfile::read(path, args.processes)?,
        _ => hostfile::default_addresses(args.processes),
    };
    let peers = serve::peers(&http, args.process, &hosts)?;
    let layout = if args.processes > 1 {
        let spec = JoinSpec {
            process: args.process,
            addresses: hosts,
            hello: Hello {
                process: args.process as u64,
                processes: args.processes as u64,
                workers: workers as u64,
                plan_hash: plan_hash(&plan),
                resumes: checkpoint
                    .as_ref()
                    .and_then(|c| c.resume.as_ref())
                    .map_or(0, |r| r.manifest.epoch + 1),
                file: args.file.display().to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            timeout: connect_timeout,
        };
        let link = join(&spec).with_context(|| {
            format!(
                "process {} of {} could not join its cluster",
                args.process, args.processes
            )
        })?;
        Layout::Cluster(link)
    } else {
        Layout::Local
    };

    let shown = Arc::new(AtomicU64::new(0));
    let first_bad: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let strict = args
        .strict
        .then(|| (Arc::clone(&first_bad), Arc::clone(&stop)));
    // Source and sink names share one namespace, so the name says which it was.
    let sink_names: Vec<String> = plan.sinks.iter().map(|s| s.name.clone()).collect();
    let on_bad_record = Arc::new(move |bad: &BadRecord| {
        let from_sink = sink_names.contains(&bad.source);
        if let Some((first, stop)) = &strict {
            let mut first = first.lock();
            if first.is_none() {
                *first = Some(describe_bad_record(bad, from_sink));
                stop.request(false);
            }
            return;
        }
        let n = shown.fetch_add(1, Ordering::Relaxed);
        if n < SHOWN_BAD_RECORDS {
            eprintln!("warning: {}", describe_bad_record(bad, from_sink));
        } else if n == SHOWN_BAD_RECORDS {
            eprintln!(
                "warning: more malformed or undelivered records; only counting them from now on"
            );
        }
    });
    let options = RunOptions {
        workers,
        stop: Arc::clone(&stop),
        clock: Arc::new(WallClock),
        on_bad_record,
        limit: args.limit,
        clock_waiters: Default::default(),
        checkpoint,
    };
    let stores = Arc::new(StateStores::default());
    let feeds = Arc::new(LiveFeeds::default());
    let view = RunView {
        plan: Arc::clone(&plan),
        metrics: Arc::clone(&metrics),
        stores: Arc::clone(&stores),
        feeds: Arc::clone(&feeds),
        process: args.process,
        started: Instant::now(),
        peers,
    };
    // Dropped at the end of this function: the server stops with the run.
    let _server = serve::start(&http, view, args.process, args.quiet)?;
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let progress = show_progress.then(|| Progress::start(Arc::clone(&metrics)));
    let status = args
        .status_every
        .filter(|_| !std::io::stderr().is_terminal())
        .map(|every| StatusLine::start(Arc::clone(&metrics), every));
    let mut connectors = Connectors::default()
        .for_process(args.process, args.processes)
        .with_stop(Arc::clone(&stop))
        .with_state_stores(stores)
        .with_live_feeds(feeds)
        .with_live_sinks(live_sinks)
        .with_run_metrics(
            Arc::clone(&metrics),
            plan.sources.iter().map(|s| s.name.clone()).collect(),
        );
    if args.limit.is_some() || args.strict {
        // The first records of a file, in order: --strict must stop right at a bad line.
        connectors = connectors.reading_whole_files();
    }
    let watched = connectors.clone();
    let scheduled =
        super::scheduled::start(queries, &plan, &connectors, &stop, args.process, args.quiet)?;
    let notice = StopNotice::start(Arc::clone(&stop), move || watched.backlogs());
    let started = Instant::now();
    let result = run_on(
        Arc::clone(&plan),
        Arc::new(connectors),
        options,
        Arc::clone(&metrics),
        layout,
    );
    scheduled.finish();
    notice.finish();
    if let Some(p) = progress {
        p.finish();
    }
    if let Some(s) = status {
        s.finish();
    }
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            if !args.quiet {
                // What was read, written and not delivered before the failure.
                let summary = RunSummary {
                    elapsed: started.elapsed(),
                    records_in: metrics.records_in(),
                    records_out: metrics.records_out(),
                    bad_records: metrics.bad(),
                    late_dropped: metrics.late(),
                    closed_dropped: metrics.closed(),
                    stopped: true,
                };
                let line =
                    crate::launch::progress::summary_line(&summary, &plan, &metrics, workers);
                eprintln!("{line}");
            }
            return Err(e.into());
        }
    };
    if let Some(bad) = first_bad.lock().take() {
        bail!(
            "{bad} (--strict stops at the first malformed or undelivered record; without \
             it they are counted, or sent to an `on error to <sink>` route)"
        );
    }
    if !args.quiet {
        let mut line = crate::launch::progress::summary_line(&summary, &plan, &metrics, workers);
        if args.processes > 1 {
            line.push_str(&format!(
                " (process {} of {})",
                args.process, args.processes
            ));
        }
        eprintln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// One line naming the source, the file and line (or offset), the field and the reason;
/// or, for a record a sink could not deliver, the sink, where it went and why.
fn describe_bad_record(bad: &BadRecord, from_sink: bool) -> String {
    if from_sink {
        let to = if bad.location.is_empty() {
            String::new()
        } else {
            format!(" to {}", bad.location)
        };
        return format!(
            "sink `{}` could not deliver a record{to}: {}",
            bad.source, bad.reason
        );
    }
    let at = if bad.location.is_empty() {
        String::new()
    } else {
        format!(" at {}", bad.location)
    };
    let field = bad
        .field
        .as_deref()
        .map(|f| format!(", field `{f}`"))
        .unwrap_or_default();
    format!(
        "malformed record in source `{}`{at}{field}: {}",
        bad.source, bad.reason
    )
}

/// Dies with the `--local-cluster` parent `parent`: on Linux the kernel sends this
/// process SIGKILL as the parent exits (`PR_SET_PDEATHSIG`), before the parent's own parent
/// can see it gone, so a restart never meets a child of the killed run still running; a
/// parent gone before that was set is seen as a changed parent id. Elsewhere, and as a
/// fallback, it exits once standard input, a pipe from the parent, reaches its end.
fn exit_with_parent(parent: u32) {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::signal::Signal;
        let set = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
        if set.is_ok() && nix::unistd::getppid().as_raw() != parent as i32 {
            let _ = writeln!(
                std::io::stderr(),
                "weir: the --local-cluster parent went away; exiting"
            );
            std::process::exit(1);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        // Not eprintln!: with the parent gone stderr is a broken pipe, and it would panic.
        let _ = writeln!(
            std::io::stderr(),
            "weir: the --local-cluster parent went away; exiting"
        );
        std::process::exit(1);
    });
}

/// Checks the cluster flags together; returns the connect timeout.
fn check_cluster_args(args: &RunArgs) -> anyhow::Result<Duration> {
    if args.processes == 0 {
        bail!("--processes must be at least 1");
    }
    if args.process >= args.processes {
        bail!(
            "--process {} is out of range for --processes {} (use 0 to {})",
            args.process,
            args.processes,
            args.processes - 1
        );
    }
    if args.processes == 1 && args.hostfile.is_some() {
        bail!("--hostfile needs --processes greater than 1");
    }
    if !(args.connect_timeout.is_finite() && args.connect_timeout > 0.0) {
        bail!(
            "--connect-timeout must be a positive number of seconds, not {}",
            args.connect_timeout
        );
    }
    Ok(Duration::from_secs_f64(args.connect_timeout))
}

/// `--local-cluster P`: checks the program once, then runs P child processes of a cluster.
fn run_local_cluster(args: &RunArgs, processes: usize) -> anyhow::Result<ExitCode> {
    if processes == 0 {
        bail!("--local-cluster must be at least 1");
    }
    check_cluster_args(args)?;
    // Diagnostics once, here, rather than once per child.
    let Some(compiled) = load_program(&args.file, args.error_format)? else {
        return Ok(ExitCode::from(1));
    };
    let http_args = serve::effective(&args.http, compiled.serving.serve.as_ref());
    let mut child_args: Vec<OsString> = vec![
        "run".into(),
        args.file.clone().into_os_string(),
        "--exit-with-parent".into(),
        std::process::id().to_string().into(),
    ];
    child_args.extend(["--workers".into(), args.workers.max(1).to_string().into()]);
    child_args.extend([
        "--connect-timeout".into(),
        args.connect_timeout.to_string().into(),
    ]);
    if let Some(format) = args.error_format.to_possible_value() {
        child_args.extend(["--error-format".into(), format.get_name().into()]);
    }
    if args.quiet {
        child_args.push("--quiet".into());
    }
    if args.drain {
        child_args.push("--drain".into());
    }
    if args.strict {
        child_args.push("--strict".into());
    }
    if let Some(n) = args.limit {
        child_args.extend(["--limit".into(), n.to_string().into()]);
    }
    let settings = super::checkpoint_settings::checkpoint_settings(
        &compiled.plan,
        args.checkpoint_dir.as_deref(),
        args.checkpoint_every,
    );
    if let Some((dir, _)) = &settings {
        // The children of a killed run may still be ending: none of ours may meet them.
        DirLock::wait_until_free(dir, PATIENCE)?;
        if args.fresh {
            // Once, here: a child clearing them could race another's first checkpoint.
            weir_engine::checkpoint::Store::open(dir)?.clear()?;
        }
        child_args.extend(["--checkpoint-dir".into(), dir.clone().into_os_string()]);
    } else if args.fresh {
        bail!("--fresh needs --checkpoint-dir DIR (or a `checkpoint` statement in the file)");
    }
    if let Some(every) = args.checkpoint_every {
        child_args.extend([
            "--checkpoint-every".into(),
            format!("{}ms", every.as_millis()).into(),
        ]);
    }
    // Each child serves its own metrics, process I on port + I, so process 0 can ask
    // the others for the job-wide view.
    let http = serve::local_cluster_http(http_args.http.as_deref(), processes)?;
    for (flag, value) in [
        ("--http", http.or_else(|| http_args.http.clone())),
        ("--http-token-env", http_args.http_token_env.clone()),
    ] {
        if let Some(v) = value {
            child_args.extend([flag.into(), v.into()]);
        }
    }
    if let Some(every) = args.status_every {
        child_args.extend([
            "--status-every".into(),
            format!("{}ms", every.as_millis()).into(),
        ]);
    }
    let cluster = LocalCluster {
        processes,
        program: std::env::current_exe().context("cannot find the weir binary to start")?,
        args: child_args,
    };
    let children = Arc::new(Mutex::new(Vec::new()));
    signals::forward_to(Arc::clone(&children))?;
    let outcome = local_cluster::run(&cluster, &children)?;
    if outcome.code != 0 {
        return Ok(ExitCode::from(u8::try_from(outcome.code).unwrap_or(1)));
    }
    if !args.quiet {
        let secs = outcome.elapsed.as_secs_f64();
        let rate = match outcome.records_in {
            Some(n) => format!(
                "read {n} records in {secs:.2}s ({} records/s)",
                crate::launch::progress::count((n as f64 / secs.max(1e-9)) as u64)
            ),
            None => format!("finished in {secs:.2}s"),
        };
        eprintln!(
            "weir: local cluster of {processes} processes × {} worker(s): {rate}",
            args.workers.max(1)
        );
    }
    Ok(ExitCode::SUCCESS)
}
