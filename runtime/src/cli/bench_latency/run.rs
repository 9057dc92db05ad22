//! One measured run: a child `weir run` whose standard output is read and stamped with
//! the wall clock as it arrives, fed by the MQTT publisher or by its own paced simulator.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::publisher;
use super::wall_micros;

/// One output record: when it was read, and its `origin` (µs) — the wall-clock moment
/// latency is measured from.
pub type Arrival = (i64, i64);

/// What feeds the pipeline.
pub enum Feed {
    /// The publisher thread, to the broker on this port.
    Mqtt {
        port: u16,
        rate: u64,
        seconds: f64,
        nodelay: bool,
    },
    /// The pipeline's own `sensors` source, bounded, starting at `start_us`.
    Sensors { start_us: i64, seconds: f64 },
}

/// The outputs of one run and the wall-clock span its events were created in (µs).
pub struct Outcome {
    pub arrivals: Vec<Arrival>,
    pub events: u64,
    pub first_us: i64,
    pub last_us: i64,
}

/// Runs `pipe` (already written) in a child `weir` and collects its stamped outputs.
pub fn measure(exe: &Path, pipe: &Path, workers: usize, feed: &Feed) -> anyhow::Result<Outcome> {
    let stderr_path = pipe.with_extension("stderr");
    let mut child = Command::new(exe)
        .arg("run")
        .arg(pipe)
        .arg("--quiet")
        .arg("--workers")
        .arg(workers.to_string())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path)?)
        .spawn()
        .context("starting `weir run`")?;
    let stdout = child.stdout.take().context("the child's standard output")?;
    let reader = std::thread::spawn(move || read_stamped(stdout));
    let (events, first_us, last_us) = match feed {
        Feed::Mqtt {
            port,
            rate,
            seconds,
            nodelay,
        } => {
            // Time to start and subscribe; events before it are lost, and the warm-up
            // leaves the first ones out anyway.
            std::thread::sleep(Duration::from_millis(1500));
            let published = publisher::spawn(*port, *rate, *seconds, *nodelay)
                .join()
                .map_err(|_| anyhow::anyhow!("the publisher panicked"))??;
            std::thread::sleep(Duration::from_millis(1000));
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            (published.events, published.first_us, published.last_us)
        }
        Feed::Sensors { start_us, seconds } => {
            wait_or_kill(&mut child, Duration::from_secs_f64(seconds + 60.0))?;
            let span = (seconds * 1e6) as i64;
            (0, *start_us, start_us + span)
        }
    };
    let status = wait_or_kill(&mut child, Duration::from_secs(30))?;
    let arrivals = join(reader)?;
    if arrivals.is_empty() && !status.success() {
        let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        bail!("`weir run {}` failed ({status}):\n{stderr}", pipe.display());
    }
    Ok(Outcome {
        arrivals,
        events,
        first_us,
        last_us,
    })
}

fn wait_or_kill(child: &mut Child, limit: Duration) -> anyhow::Result<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            return Ok(child.wait()?);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn join(reader: JoinHandle<std::io::Result<Vec<Arrival>>>) -> anyhow::Result<Vec<Arrival>> {
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the output reader panicked"))?
        .context("reading the pipeline's output")
}

/// Reads the pipe in chunks, stamping each chunk once when it arrives (so the reader's
/// own parsing never delays a stamp), and keeps every complete line's origin.
fn read_stamped(mut out: impl Read) -> std::io::Result<Vec<Arrival>> {
    let mut arrivals = Vec::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = out.read(&mut buffer[filled..])?;
        if read == 0 {
            return Ok(arrivals);
        }
        let at = wall_micros();
        filled += read;
        let mut consumed = 0;
        while let Some(end) = buffer[consumed..filled].iter().position(|b| *b == b'\n') {
            if let Some(origin) = origin_of(&buffer[consumed..consumed + end]) {
                arrivals.push((at, origin));
            }
            consumed += end + 1;
        }
        buffer.copy_within(consumed..filled, 0);
        filled -= consumed;
    }
}

/// The `origin` field of one JSON line, in µs: an integer of µs, or an RFC 3339 timestamp.
pub fn origin_of(line: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"origin\":";
    let at = line.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = std::str::from_utf8(&line[at..]).ok()?;
    if let Some(quoted) = rest.strip_prefix('"') {
        let text = &quoted[..quoted.find('"')?];
        return weir_engine::time::parse_timestamp(text).map(|ms| ms * 1000);
    }
    let digits = rest
        .find(|c: char| !c.is_ascii_digit() && c != '-')
        .unwrap_or(rest.len());
    rest[..digits].parse().ok()
}
