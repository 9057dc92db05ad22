//! `weir bench latency`: event-to-output latency (p50/p99/p999) of a stateless pipeline
//! and of a 1-second tumbling window, fed through a real Mosquitto on 127.0.0.1 or by the
//! `sensors` simulator paced to the wall clock. Definitions: docs/benchmarks.md.

mod broker;
mod publisher;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

use run::{Feed, Outcome};

/// Arguments of `weir bench latency`.
#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    /// Event sources to run, comma-separated: `mqtt`, `sensors`.
    #[arg(long, value_delimiter = ',', default_value = "mqtt,sensors")]
    pub source: Vec<String>,
    /// Pipeline shapes, comma-separated: `stateless`, `window`.
    #[arg(long, value_delimiter = ',', default_value = "stateless,window")]
    pub shape: Vec<String>,
    /// Offered rates in events/s, comma-separated (`10k`, `1M` accepted).
    #[arg(long, value_delimiter = ',', default_value = "10k,100k,1M")]
    pub rates: Vec<String>,
    /// Seconds of events per run.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Seconds at the start of each run left out of the percentiles.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Worker threads of the pipeline.
    #[arg(long, short = 'w', default_value_t = 1)]
    pub workers: usize,
    /// Turn Nagle's algorithm off on the MQTT hops the bench controls: the broker's
    /// connections (`set_tcp_nodelay true`) and the publisher's socket.
    #[arg(long)]
    pub nodelay: bool,
    /// Print one JSON object per run instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One row of the report.
struct Row {
    source: String,
    shape: String,
    rate: u64,
    /// Events/s the MQTT publisher achieved (the simulator's lateness is in the latency).
    achieved: Option<f64>,
    samples: usize,
    /// p50, p99, p999, max and min, in µs.
    quantiles: [i64; 5],
}

/// Wall-clock microseconds since the Unix epoch.
pub(super) fn wall_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn parse_rate(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let (digits, scale) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('M' | 'm') => (&t[..t.len() - 1], 1_000_000),
        _ => (t, 1),
    };
    let n: u64 = digits.parse().with_context(|| format!("rate `{text}`"))?;
    Ok(n * scale)
}

/// The `.pipe` text of one run. Every output record has an `origin` field: the
/// wall-clock moment its latency is measured from.
fn pipeline(source: &str, shape: &str, rate: u64, seconds: f64, feed: &Feed) -> String {
    let (decl, key) = match feed {
        Feed::Mqtt { port, .. } => (
            format!(
                "source events = mqtt(\"mqtt://127.0.0.1:{port}\", topic: \"{}\", qos: 0) {{\n  \
                 n: i64\n  k: i64\n  sent_us: i64\n  ts: timestamp\n  event_time ts\n}}\n",
                publisher::TOPIC
            ),
            "k",
        ),
        Feed::Sensors { start_us, .. } => (
            format!(
                "source events = sensors(devices: 100, rate: {rate}, events: {}, realtime: true, \
                 start: \"{}\") {{\n  device_id: string\n  seq: i64\n  ts: timestamp\n  \
                 event_time ts\n}}\n",
                (rate as f64 * seconds) as u64,
                weir_engine::time::format_timestamp(start_us / 1000)
            ),
            "device_id",
        ),
    };
    let body = match (source, shape) {
        (_, "window") => format!(
            "  | key by {key}\n  | window tumbling 1s\n  | aggregate readings = count()\n  \
             | select {key}, readings, origin = window.end\n"
        ),
        ("mqtt", _) => "  | select n, origin = sent_us\n".to_string(),
        // The bench turns `seq` into its due moment (`start + seq / rate`), exact to the
        // µs where `ts` is rounded down to the ms.
        _ => "  | select device_id, origin = seq\n".to_string(),
    };
    format!("{decl}\nsink out = stdout(format: jsonl)\n\npipeline latency {{\n  from events\n{body}  | to out\n}}\n")
}

/// Latencies (µs) of the outputs whose origin lies in the measured span: after the
/// warm-up, and (for windows) no later than the last event, so a window fired by the
/// end of the stream rather than by an event is left out.
fn latencies(outcome: &Outcome, warmup: f64) -> Vec<i64> {
    let from = outcome.first_us + (warmup * 1e6) as i64;
    let mut all: Vec<i64> = outcome
        .arrivals
        .iter()
        .filter(|(_, origin)| *origin >= from && *origin <= outcome.last_us)
        .map(|(at, origin)| at - origin)
        .collect();
    all.sort_unstable();
    all
}

fn quantile(sorted: &[i64], q: f64) -> i64 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn one_run(
    args: &LatencyArgs,
    exe: &Path,
    dir: &Path,
    port: Option<u16>,
    source: &str,
    shape: &str,
    rate: u64,
) -> anyhow::Result<Row> {
    let feed = match port {
        Some(port) => Feed::Mqtt {
            port,
            rate,
            seconds: args.seconds,
            nodelay: args.nodelay,
        },
        // Far enough ahead for the child to start; the simulator waits for it.
        None => Feed::Sensors {
            start_us: (wall_micros() / 1000 + 2000) * 1000,
            seconds: args.seconds,
        },
    };
    let pipe = dir.join(format!("{source}-{shape}-{rate}.pipe"));
    std::fs::write(&pipe, pipeline(source, shape, rate, args.seconds, &feed))?;
    let mut outcome = run::measure(exe, &pipe, args.workers, &feed)?;
    if let (Feed::Sensors { start_us, .. }, "stateless") = (&feed, shape) {
        for (_, origin) in &mut outcome.arrivals {
            *origin = start_us + (*origin as i128 * 1_000_000 / i128::from(rate)) as i64;
        }
    }
    let sorted = latencies(&outcome, args.warmup);
    if sorted.is_empty() {
        bail!("{source} {shape} at {rate}/s: no output in the measured span");
    }
    let span = (outcome.last_us - outcome.first_us).max(1) as f64 / 1e6;
    let achieved = port.map(|_| outcome.events as f64 / span);
    Ok(Row {
        source: source.to_string(),
        shape: shape.to_string(),
        rate,
        achieved,
        samples: sorted.len(),
        quantiles: [
            quantile(&sorted, 0.5),
            quantile(&sorted, 0.99),
            quantile(&sorted, 0.999),
            sorted[sorted.len() - 1],
            sorted[0],
        ],
    })
}

fn print_row(row: &Row, json: bool) {
    let ms = |us: i64| us as f64 / 1000.0;
    let [p50, p99, p999, max, min] = row.quantiles;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "source": row.source, "shape": row.shape, "rate": row.rate,
                "achieved_rate": row.achieved.map(f64::round), "samples": row.samples,
                "p50_ms": ms(p50), "p99_ms": ms(p99), "p999_ms": ms(p999),
                "max_ms": ms(max), "min_ms": ms(min),
            })
        );
    } else {
        println!(
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            row.source,
            row.shape,
            row.rate,
            row.achieved
                .map_or("paced".to_string(), |a| format!("{a:.0}")),
            row.samples,
            ms(p50),
            ms(p99),
            ms(p999),
            ms(max)
        );
    }
}

pub(super) fn latency(args: &LatencyArgs) -> anyhow::Result<ExitCode> {
    let rates = args
        .rates
        .iter()
        .map(|r| parse_rate(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for s in &args.source {
        if !["mqtt", "sensors"].contains(&s.as_str()) {
            bail!("unknown source `{s}` (mqtt or sensors)");
        }
    }
    for s in &args.shape {
        if !["stateless", "window"].contains(&s.as_str()) {
            bail!("unknown shape `{s}` (stateless or window)");
        }
    }
    let exe = std::env::current_exe().context("locating the weir binary")?;
    let dir: PathBuf =
        std::env::temp_dir().join(format!("weir-bench-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let broker = if args.source.iter().any(|s| s == "mqtt") {
        Some(broker::Broker::start(&dir, args.nodelay)?)
    } else {
        None
    };
    if !args.json {
        println!("| source | pipeline | offered events/s | achieved events/s | outputs measured | p50 ms | p99 ms | p99.9 ms | max ms |");
        println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    }
    for source in &args.source {
        let port = (source == "mqtt")
            .then(|| broker.as_ref().map(|b| b.port))
            .flatten();
        for shape in &args.shape {
            for &rate in &rates {
                let row = one_run(args, &exe, &dir, port, source, shape, rate)?;
                print_row(&row, args.json);
            }
        }
    }
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::run::origin_of;
    use super::*;

    #[test]
    fn origins_are_read_as_microseconds() {
        assert_eq!(
            origin_of(br#"{"n":3,"origin":1700000000123456}"#),
            Some(1_700_000_000_123_456)
        );
        assert_eq!(
            origin_of(br#"{"k":1,"readings":5,"origin":"2024-05-01T10:00:05.000Z"}"#),
            Some(1_714_557_605_000_000)
        );
        assert_eq!(origin_of(br#"{"n":3}"#), None);
    }

    #[test]
    fn quantiles_take_the_rank_at_or_above() {
        let sorted: Vec<i64> = (1..=1000).collect();
        assert_eq!(quantile(&sorted, 0.5), 500);
        assert_eq!(quantile(&sorted, 0.99), 990);
        assert_eq!(quantile(&sorted, 0.999), 999);
        assert_eq!(quantile(&[7], 0.999), 7);
        assert_eq!(parse_rate("100k").expect("rate"), 100_000);
        assert_eq!(parse_rate("1M").expect("rate"), 1_000_000);
    }
}
