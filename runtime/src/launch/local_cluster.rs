//! `weir run --local-cluster P`: P `weir` processes of one cluster on free loopback ports.
//!
//! The children run `weir run … --processes P --process I --hostfile H` in their own
//! process group, so a Ctrl-C reaches them once, through this parent. Their stdout is
//! forwarded line by line, their stderr with a `[process I]` prefix. When one fails, the
//! others get a short grace period to report the loss themselves, then are killed. The exit
//! code is the first failing child's, else 0. Should this process die (even by SIGKILL),
//! its children die with it (`--exit-with-parent PID`: the kernel's parent-death signal,
//! and their stdin, a pipe from this process that is never written, closing).

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How long the surviving children may take to stop on their own after one failed.
const GRACE: Duration = Duration::from_secs(3);

/// A local cluster to run.
#[derive(Clone, Debug)]
pub struct LocalCluster {
    /// Number of processes.
    pub processes: usize,
    /// The `weir` binary to start.
    pub program: PathBuf,
    /// Arguments every child gets (`run FILE --workers W …`), before the cluster flags.
    pub args: Vec<OsString>,
}

/// How a local cluster ended.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterOutcome {
    /// 0 when every process succeeded, else the first failing process's code.
    pub code: i32,
    /// The first process that failed, if any.
    pub failed: Option<usize>,
    /// Wall time from the first start to the last exit.
    pub elapsed: Duration,
    /// Records read by all processes, from their summary lines (None if any was missing).
    pub records_in: Option<u64>,
}

/// A local cluster that could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LocalClusterError {
    /// No free loopback port, or the hostfile could not be written.
    #[error("cannot prepare the local cluster: {0}")]
    Prepare(#[source] std::io::Error),
    /// A child could not be started.
    #[error("cannot start process {index} (`{program}`): {source}")]
    Spawn {
        /// The process index.
        index: usize,
        /// The binary.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Removes the temporary hostfile when the cluster is done.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs the cluster to the end. Each child's process id is pushed to `children_ids` as it
/// starts, so that a signal handler can forward Ctrl-C / SIGTERM to them.
pub fn run(
    cluster: &LocalCluster,
    children_ids: &Arc<Mutex<Vec<u32>>>,
) -> Result<ClusterOutcome, LocalClusterError> {
    let hosts = free_addresses(cluster.processes).map_err(LocalClusterError::Prepare)?;
    let hostfile = TempFile(std::env::temp_dir().join(format!(
        "weir-local-cluster-{}-{}.hosts",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )));
    std::fs::write(&hostfile.0, hosts.join("\n") + "\n").map_err(LocalClusterError::Prepare)?;

    let started = Instant::now();
    let records = Arc::new(Mutex::new(vec![None; cluster.processes]));
    let mut children: Vec<Option<Child>> = Vec::new();
    let mut forwarders: Vec<JoinHandle<()>> = Vec::new();
    for index in 0..cluster.processes {
        let mut command = Command::new(&cluster.program);
        command
            .args(&cluster.args)
            .arg("--processes")
            .arg(cluster.processes.to_string())
            .arg("--process")
            .arg(index.to_string())
            .arg("--hostfile")
            .arg(&hostfile.0)
            // Never written: it closes when this process dies, and the child then exits.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(source) => {
                kill_all(&mut children);
                return Err(LocalClusterError::Spawn {
                    index,
                    program: cluster.program.display().to_string(),
                    source,
                });
            }
        };
        children_ids.lock().push(child.id());
        if let Some(out) = child.stdout.take() {
            forwarders.push(std::thread::spawn(move || forward_stdout(out)));
        }
        if let Some(err) = child.stderr.take() {
            let records = Arc::clone(&records);
            forwarders.push(std::thread::spawn(move || {
                forward_stderr(err, index, &records)
            }));
        }
        children.push(Some(child));
    }

    let mut code = 0;
    let mut failed = None;
    let mut kill_at: Option<Instant> = None;
    while children.iter().any(Option::is_some) {
        for (index, slot) in children.iter_mut().enumerate() {
            let Some(child) = slot.as_mut() else { continue };
            let status = match child.try_wait() {
                Ok(Some(status)) => status,
                Ok(None) => continue,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    *slot = None;
                    continue;
                }
            };
            *slot = None;
            if !status.success() && failed.is_none() {
                failed = Some(index);
                code = status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
                let how = match (status.code(), status.signal()) {
                    (Some(c), _) => format!("exited with code {c}"),
                    (None, Some(s)) => format!("was killed by signal {s}"),
                    _ => "ended abnormally".to_string(),
                };
                eprintln!("weir: process {index} of the local cluster {how}; stopping the others");
                kill_at = Some(Instant::now() + GRACE);
            }
        }
        if kill_at.is_some_and(|t| Instant::now() >= t) {
            kill_all(&mut children);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for f in forwarders {
        let _ = f.join();
    }
    let records_in = records.lock().iter().copied().sum::<Option<u64>>();
    Ok(ClusterOutcome {
        code,
        failed,
        elapsed: started.elapsed(),
        records_in,
    })
}

/// Kills every child still running (SIGKILL) and reaps it.
fn kill_all(children: &mut [Option<Child>]) {
    for slot in children.iter_mut() {
        if let Some(mut child) = slot.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `127.0.0.1:PORT` for `n` ports free right now (all held at once, so they differ).
fn free_addresses(n: usize) -> std::io::Result<Vec<String>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.to_string()))
        .collect()
}

/// Copies a child's stdout to ours, a whole line at a time so lines never interleave.
fn forward_stdout(out: impl Read) {
    let mut reader = BufReader::new(out);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                if lock.write_all(&line).and_then(|()| lock.flush()).is_err() {
                    return;
                }
            }
        }
    }
}

/// Copies a child's stderr to ours with a `[process I]` prefix, noting its record count
/// from its summary line.
fn forward_stderr(err: impl Read, index: usize, records: &Mutex<Vec<Option<u64>>>) {
    let reader = BufReader::new(err);
    for line in reader.split(b'\n') {
        let Ok(line) = line else { return };
        let text = String::from_utf8_lossy(&line);
        if let Some(n) = summary_records(&text) {
            records.lock()[index] = Some(n);
        }
        // The progress line redraws with \r; keep only its last state.
        let shown = text.rsplit('\r').next().unwrap_or("").trim_end();
        if !shown.is_empty() {
            eprintln!("[process {index}] {shown}");
        }
    }
}

/// The record count of a child's summary line (`weir: read N records in …`).
fn summary_records(line: &str) -> Option<u64> {
    let rest = line
        .strip_prefix("weir: read ")
        .or_else(|| line.strip_prefix("weir: stopped after "))?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_record_count_of_a_summary_line() {
        assert_eq!(
            summary_records("weir: read 5000000 records in 1.20s (4.1M records/s on 1 worker)"),
            Some(5_000_000)
        );
        assert_eq!(
            summary_records("weir: stopped after 12 records in 1s"),
            Some(12)
        );
        assert_eq!(summary_records("warning: malformed record"), None);
    }

    #[test]
    fn free_addresses_differ() {
        let a = free_addresses(3).unwrap();
        assert_eq!(a.len(), 3);
        assert!(a[0] != a[1] && a[1] != a[2] && a[0] != a[2]);
    }
}
