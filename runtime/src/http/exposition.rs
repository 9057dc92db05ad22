//! `/metrics`: the run's counters in the OpenMetrics text format (prometheus-client).
//!
//! Read at scrape time from the engine's atomic counters, so recording them costs the
//! hot path one relaxed add per batch and nothing per scrape. Names follow Prometheus
//! conventions: a `weir_` prefix, base units (seconds), `_total` on counters, and
//! labels for the source, sink or pipeline and the process (never per device).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::operator_exposition;
use super::server::RunView;

/// The content type of [`encode_metrics`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The metrics of `view` as OpenMetrics text.
pub fn encode_metrics(view: &RunView) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(RunCollector(view.clone())));
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

#[derive(Debug)]
struct RunCollector(RunView);

type Labels<'a> = [(&'static str, &'a str); 2];

/// (name, help, label, (label value, count) per source, sink or pipeline).
type CounterFamily<'a> = (&'a str, &'a str, &'a str, Vec<(String, u64)>);

/// (name, help, the gauge's value from a watermark in seconds).
type WatermarkGauge<'a> = (&'a str, &'a str, Box<dyn Fn(f64) -> f64 + 'a>);

impl Collector for RunCollector {
    fn encode(&self, mut out: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let view = &self.0;
        let m = &view.metrics;
        let process = view.process.to_string();
        let sources: Vec<&str> = view.plan.sources.iter().map(|s| s.name.as_str()).collect();
        let sinks: Vec<&str> = view.plan.sinks.iter().map(|s| s.name.as_str()).collect();
        let pipelines: Vec<&str> = view
            .plan
            .pipelines
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let by = |names: &[&str], values: &[AtomicU64]| -> Vec<(String, u64)> {
            names
                .iter()
                .zip(values)
                .map(|(n, v)| (n.to_string(), v.load(Ordering::Relaxed)))
                .collect()
        };
        let families: [CounterFamily; 8] = [
            (
                "weir_source_records",
                "Records read from a source.",
                "source",
                by(&sources, &m.source_records),
            ),
            (
                "weir_source_malformed_records",
                "Records a source rejected as malformed (counted, reported or routed).",
                "source",
                by(&sources, &m.bad_records),
            ),
            (
                "weir_sink_records",
                "Records handed to a sink, undeliverable ones included.",
                "sink",
                by(&sinks, &m.sink_records),
            ),
            (
                "weir_sink_undelivered_records",
                "Records a sink gave up on after its retries (routed to `on error to` or reported).",
                "sink",
                by(&sinks, &m.undelivered),
            ),
            (
                "weir_sink_throttled_records",
                "Records a sink's rate limit kept from being sent (also counted as undelivered).",
                "sink",
                by(&sinks, &m.sink_throttled),
            ),
            (
                "weir_pipeline_late_dropped",
                "Elements dropped because their window had already closed.",
                "pipeline",
                by(&pipelines, &m.late_dropped),
            ),
            (
                "weir_pipeline_alerts_silenced",
                "Alert events a silence (`silenced by`) covered: counted, not sent.",
                "pipeline",
                by(&pipelines, &m.alert_silenced),
            ),
            (
                "weir_pipeline_alerts_flapping_suppressed",
                "Alert events held back while their key was flapping.",
                "pipeline",
                by(&pipelines, &m.alert_flapping),
            ),
        ];
        for (name, help, label, values) in &families {
            let mut family = out.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (what, v) in values {
                let labels: Labels = [(label, what), ("process", &process)];
                ConstCounter::new(*v).encode(family.encode_family(&labels)?)?;
            }
        }
        encode_watermarks(view, &sources, &process, &mut out)?;
        operator_exposition::encode_operators(view, &process, &mut out)?;
        operator_exposition::encode_workers(view, &process, &mut out)?;
        operator_exposition::encode_latency(view, &process, &mut out)?;
        operator_exposition::encode_links(view, &process, &mut out)?;
        encode_process(view, &process, &mut out)?;
        encode_live(view, &process, &mut out)
    }
}

/// Per source: its watermark (seconds since the epoch) and lag behind the wall clock.
fn encode_watermarks(
    view: &RunView,
    sources: &[&str],
    process: &str,
    out: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let now = now_seconds();
    let watermarks: Vec<(&str, f64)> = sources
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let wm = view.metrics.source_watermark(i)?;
            Some((*name, wm as f64 / 1000.0))
        })
        .collect();
    let gauges: [WatermarkGauge; 2] = [
        (
            "weir_source_watermark_seconds",
            "A source's current watermark in this process, as seconds since the Unix epoch.",
            Box::new(|wm| wm),
        ),
        (
            "weir_source_lag_seconds",
            "Wall clock minus a source's watermark (how far event time trails real time).",
            Box::new(move |wm| now - wm),
        ),
    ];
    for (name, help, value) in &gauges {
        let mut family = out.encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (source, wm) in &watermarks {
            let labels: Labels = [("source", source), ("process", process)];
            ConstGauge::new(value(*wm)).encode(family.encode_family(&labels)?)?;
        }
    }
    let mut ended = out.encode_descriptor(
        "weir_source_ended",
        "1 once every share of a source in this process has ended, else 0.",
        None,
        MetricType::Gauge,
    )?;
    for (i, source) in sources.iter().enumerate() {
        let labels: Labels = [("source", source), ("process", process)];
        let v = i64::from(view.metrics.source_ended(i));
        ConstGauge::new(v).encode(ended.encode_family(&labels)?)?;
    }
    Ok(())
}

/// The process: uptime, workers, and the keys each `state` hot store holds.
fn encode_process(
    view: &RunView,
    process: &str,
    out: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let only = [("process", process)];
    let mut uptime = out.encode_descriptor(
        "weir_uptime_seconds",
        "Seconds since this process started its run.",
        None,
        MetricType::Gauge,
    )?;
    ConstGauge::new(view.started.elapsed().as_secs_f64()).encode(uptime.encode_family(&only)?)?;
    let mut workers = out.encode_descriptor(
        "weir_workers",
        "Worker threads of this process.",
        None,
        MetricType::Gauge,
    )?;
    ConstGauge::new(view.metrics.workers() as i64).encode(workers.encode_family(&only)?)?;
    let mut keys = out.encode_descriptor(
        "weir_state_keys",
        "Keys a `state(…)` hot store holds in this process.",
        None,
        MetricType::Gauge,
    )?;
    for (sink, store) in view.stores.all() {
        let labels: Labels = [("sink", &sink), ("process", process)];
        ConstGauge::new(store.len() as i64).encode(keys.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Per streamed sink (`chart` or `live`): viewers now, and viewers dropped for falling
/// behind (the sink never waits for a viewer).
fn encode_live(
    view: &RunView,
    process: &str,
    out: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let feeds = view.feeds.all();
    let mut viewers = out.encode_descriptor(
        "weir_live_viewers",
        "Server-sent-event viewers of a `chart` or `live` sink connected now.",
        None,
        MetricType::Gauge,
    )?;
    for (sink, feed) in &feeds {
        let labels: Labels = [("sink", sink), ("process", process)];
        ConstGauge::new(feed.viewers() as i64).encode(viewers.encode_family(&labels)?)?;
    }
    let mut dropped = out.encode_descriptor(
        "weir_live_viewers_dropped",
        "Viewers of a `chart` or `live` sink disconnected for falling too far behind.",
        None,
        MetricType::Counter,
    )?;
    for (sink, feed) in &feeds {
        let labels: Labels = [("sink", sink), ("process", process)];
        ConstCounter::new(feed.dropped_viewers()).encode(dropped.encode_family(&labels)?)?;
    }
    Ok(())
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
