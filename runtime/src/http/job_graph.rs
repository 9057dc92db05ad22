//! `GET /api/job`: the job as a graph of sources, pipeline stages and sinks, with the
//! live counters on its nodes. Built from the logical plan in this one place, so the
//! dashboard can switch to the physical plan (explicit exchanges) without other changes.

use serde_json::{json, Value as Json};
use std::sync::atomic::Ordering;
use weir_engine::plan::{PipelineInput, Stage};
use weir_engine::time::format_timestamp;

use super::server::RunView;
use crate::connectors::live::LiveFeed;

/// The job graph of `view` with counters as of now.
pub fn job(view: &RunView) -> Json {
    let plan = &view.plan;
    let m = &view.metrics;
    let sources: Vec<Json> = plan
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "name": s.name,
                "connector": s.connector.kind,
                "records": m.source_records[i].load(Ordering::Relaxed),
                "malformed": m.bad_records[i].load(Ordering::Relaxed),
                "watermark": m.source_watermark(i).map(format_timestamp),
                "ended": m.source_ended(i),
            })
        })
        .collect();
    let sinks: Vec<Json> = plan
        .sinks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "name": s.name,
                "connector": s.connector.kind,
                "records": m.sink_records[i].load(Ordering::Relaxed),
                "undelivered": m.undelivered[i].load(Ordering::Relaxed),
            })
        })
        .collect();
    let pipelines: Vec<Json> = plan
        .pipelines
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let stages: Vec<String> = p.stages.iter().map(stage_name).collect();
            json!({
                "name": p.name,
                "from": input_name(&p.input),
                "stages": stages,
                "late_dropped": m.late_dropped[i].load(Ordering::Relaxed),
                "error_to": p.error_to,
            })
        })
        .collect();
    let feeds = view.feeds.all();
    let charts: Vec<Json> = feeds
        .iter()
        .filter_map(|(name, feed)| chart(name, feed, false))
        .collect();
    // `live` sinks: the dashboard streams their records into a table.
    let live: Vec<Json> = feeds
        .iter()
        .filter(|(_, feed)| feed.chart.is_none())
        .map(|(name, feed)| {
            json!({
                "sink": name,
                "kept": feed.keep(),
                "viewers": feed.viewers(),
                "viewers_dropped": feed.dropped_viewers(),
            })
        })
        .collect();
    json!({
        "process": view.process,
        "workers": m.workers(),
        "uptime_seconds": view.started.elapsed().as_secs_f64(),
        "sources": sources,
        "pipelines": pipelines,
        "sinks": sinks,
        "charts": charts,
        "live": live,
    })
}

/// A chart sink: what it plots, and with `points` its kept points (`None` for a feed
/// that is not a chart's).
pub fn chart(name: &str, feed: &LiveFeed, points: bool) -> Option<Json> {
    let c = feed.chart.as_ref()?;
    let mut chart = json!({
        "sink": name,
        "x": c.x,
        "y": c.y,
        "series": c.series,
        "kind": c.kind.name(),
    });
    if points {
        let kept: Vec<Json> = feed
            .recent()
            .iter()
            .filter_map(|p| serde_json::from_str(p).ok())
            .collect();
        chart["points"] = Json::Array(kept);
    }
    Some(chart)
}

fn input_name(input: &PipelineInput) -> String {
    match input {
        PipelineInput::Source(name) | PipelineInput::Pipeline(name) => name.clone(),
    }
}

/// A stage as the graph labels it: its kind in words (`key by`), or `to <sink>`.
fn stage_name(stage: &Stage) -> String {
    if let Stage::Sink { sink, .. } = stage {
        return format!("to {sink}");
    }
    // The variant's name (`KeyBy { … }` → `key by`), so new stages need no change here.
    let debug = format!("{stage:?}");
    let variant = debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("stage");
    let mut words = String::new();
    for c in variant.chars() {
        if c.is_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}
