//! The `/metrics` families about the dataflow itself: records in and out of every
//! physical operator per worker, the keys and state bytes of keyed operators, each
//! worker's busy time, and each sink's event-to-output latency histogram.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use super::server::RunView;

type OperatorLabels<'a> = [(&'static str, &'a str); 4];

/// Per (operator, worker): records in and out; per keyed operator: keys and bytes.
pub fn encode_operators(
    view: &RunView,
    process: &str,
    out: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let ops = &view.metrics.operators;
    let workers: Vec<String> = (0..view.metrics.workers())
        .map(|w| (view.process * view.metrics.workers() + w).to_string())
        .collect();
    let each = |keyed_only: bool| {
        ops.operators()
            .iter()
            .enumerate()
            .filter(move |(_, info)| info.keyed || !keyed_only)
            .flat_map(|(i, info)| {
                workers
                    .iter()
                    .enumerate()
                    .map(move |(w, name)| (i, info, w, name))
            })
    };
    let counters: [(&str, &str, bool); 2] = [
        (
            "weir_operator_records_in",
            "Records into a physical operator on a worker.",
            true,
        ),
        (
            "weir_operator_records_out",
            "Records out of a physical operator on a worker.",
            false,
        ),
    ];
    for (name, help, into) in counters {
        let mut family = out.encode_descriptor(name, help, None, MetricType::Counter)?;
        for (i, info, w, worker) in each(false) {
            let (r_in, r_out) = ops.records(i, w);
            let labels = labels(&info.pipeline, &info.name, worker, process);
            let v = if into { r_in } else { r_out };
            ConstCounter::new(v).encode(family.encode_family(&labels)?)?;
        }
    }
    let gauges: [(&str, &str, bool); 2] = [
        (
            "weir_operator_keys",
            "Keys a keyed operator (window, join, detect, forecast, dedupe, alert, alert group) holds state for on a worker.",
            true,
        ),
        (
            "weir_operator_state_bytes",
            "Estimated bytes of a keyed operator's state on a worker (in-line sizes; see docs/http.md).",
            false,
        ),
    ];
    for (name, help, keys) in gauges {
        let mut family = out.encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (i, info, w, worker) in each(true) {
            let size = ops.state(i, w);
            let labels = labels(&info.pipeline, &info.name, worker, process);
            let v = if keys { size.keys } else { size.bytes };
            ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX))
                .encode(family.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

fn labels<'a>(
    pipeline: &'a str,
    operator: &'a str,
    worker: &'a str,
    process: &'a str,
) -> OperatorLabels<'a> {
    [
        ("pipeline", pipeline),
        ("operator", operator),
        ("worker", worker),
        ("process", process),
    ]
}

/// Per worker: seconds spent busy, and that share of the run's time so far.
pub fn encode_workers(
    view: &RunView,
    process: &str,
    out: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let m = &view.metrics;
    let uptime = view.started.elapsed().as_secs_f64();
    let busy: Vec<(String, f64)> = (0..m.workers())
        .map(|w| {
            (
                (view.process * m.workers() + w).to_string(),
                m.busy_seconds(w),
            )
        })
        .collect();
    let mut total = out.encode_descriptor(
        "weir_worker_busy_seconds",
        "Seconds a worker spent running operators (rate() of it is the busy ratio).",
        None,
        MetricType::Counter,
    )?;
    for (worker, secs) in &busy {
        let labels = [("worker", worker.as_str()), ("process", process)];
        ConstCounter::new(*secs).encode(total.encode_family(&labels)?)?;
    }
    let mut ratio = out.encode_descriptor(
        "weir_worker_busy_ratio",
        "Busy seconds over seconds since the run started, per worker (0 to 1).",
        None,
        MetricType::Gauge,
    )?;
    for (worker, secs) in &busy {
        let labels = [("worker", worker.as_str()), ("process", process)];
        let r = if uptime > 0.0 {
            (secs / uptime).min(1.0)
        } else {
            0.0
        };
        ConstGauge::new(r).encode(ratio.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Per sink: processing time when the sink operator is handed a record minus the
/// record's event time.
pub fn encode_latency(
    view: &RunView,
    process: &str,
    out: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let mut family = out.encode_descriptor(
        "weir_sink_event_latency_seconds",
        "Processing time at which a sink is handed a record minus the record's event time.",
        None,
        MetricType::Histogram,
    )?;
    for (i, sink) in view.plan.sinks.iter().enumerate() {
        let h = view.metrics.latency.snapshot(i);
        let labels = [("sink", sink.name.as_str()), ("process", process)];
        family.encode_family(&labels)?.encode_histogram::<()>(
            h.sum_seconds,
            h.count,
            &h.buckets,
            None,
        )?;
    }
    Ok(())
}

/// Per sink: records delivered; per link to another system (MQTT, webhook): its
/// connections up, reconnects and retried requests.
pub fn encode_links(
    view: &RunView,
    process: &str,
    out: &mut DescriptorEncoder,
) -> Result<(), std::fmt::Error> {
    let m = &view.metrics;
    let mut delivered = out.encode_descriptor(
        "weir_sink_delivered_records",
        "Records a sink delivered (handed to it and not given up on).",
        None,
        MetricType::Counter,
    )?;
    for (i, sink) in view.plan.sinks.iter().enumerate() {
        let handed = m.sink_records[i].load(std::sync::atomic::Ordering::Relaxed);
        let failed = m.undelivered[i].load(std::sync::atomic::Ordering::Relaxed);
        let labels = [("sink", sink.name.as_str()), ("process", process)];
        ConstCounter::new(handed.saturating_sub(failed))
            .encode(delivered.encode_family(&labels)?)?;
    }
    let links = crate::connectors::link_health::links().all();
    let mut retries = out.encode_descriptor(
        "weir_sink_retries",
        "Requests a sink tried again after a failure that may heal (webhook).",
        None,
        MetricType::Counter,
    )?;
    for (_, link) in links.iter().filter(|(_, l)| l.role == "sink") {
        let labels = [("sink", link.name.as_str()), ("process", process)];
        ConstCounter::new(link.retries()).encode(retries.encode_family(&labels)?)?;
    }
    let mqtt: Vec<_> = links
        .iter()
        .filter(|(_, l)| l.connector == "mqtt")
        .collect();
    let mut up = out.encode_descriptor(
        "weir_mqtt_connections_up",
        "MQTT connections of a source (one per worker) or sink that are connected now.",
        None,
        MetricType::Gauge,
    )?;
    for (_, link) in &mqtt {
        let labels = [(link.role, link.name.as_str()), ("process", process)];
        ConstGauge::new(link.up().max(0)).encode(up.encode_family(&labels)?)?;
    }
    let mut reconnects = out.encode_descriptor(
        "weir_mqtt_reconnects",
        "Times an MQTT connection came back after being lost.",
        None,
        MetricType::Counter,
    )?;
    for (_, link) in &mqtt {
        let labels = [(link.role, link.name.as_str()), ("process", process)];
        ConstCounter::new(link.reconnects()).encode(reconnects.encode_family(&labels)?)?;
    }
    let mut dropped = out.encode_descriptor(
        "weir_source_overload_dropped",
        "Messages a source with `on overload drop` dropped because the pipeline could not take them.",
        None,
        MetricType::Counter,
    )?;
    for (_, link) in links.iter().filter(|(_, l)| l.role == "source") {
        let labels = [("source", link.name.as_str()), ("process", process)];
        ConstCounter::new(link.overload_dropped()).encode(dropped.encode_family(&labels)?)?;
    }
    Ok(())
}
