//! Records → chart points, published to the chart's live feed.

use std::sync::Arc;

use weir_engine::event::Event;
use weir_engine::io::{IoError, SinkWriter};
use weir_engine::schema::Schema;
use weir_engine::value::Value;

use super::{ChartConfig, LiveFeed};

/// A chart sink, shared by the workers of a process.
pub struct ChartSink {
    x: usize,
    y: usize,
    series: Option<usize>,
    feed: Arc<LiveFeed>,
}

impl ChartSink {
    /// A sink for records of `schema`, and the feed the server reads.
    pub fn new(
        config: &ChartConfig,
        schema: &Schema,
    ) -> Result<(ChartSink, Arc<LiveFeed>), IoError> {
        let slot = |name: &str| {
            schema.slot(name).ok_or_else(|| {
                IoError::Config(format!("chart: the records have no field `{name}`"))
            })
        };
        let x = slot(&config.x)?;
        let y = slot(&config.y)?;
        let series = config.series.as_deref().map(slot).transpose()?;
        let feed = Arc::new(LiveFeed::chart(config.clone()));
        let sink = ChartSink {
            x,
            y,
            series,
            feed: Arc::clone(&feed),
        };
        Ok((sink, feed))
    }
}

impl SinkWriter for ChartSink {
    fn write(&self, events: &[Event]) -> Result<(), IoError> {
        let points: Vec<Arc<str>> = events
            .iter()
            .filter_map(|e| {
                let x = number(e.record.get(self.x)?)?;
                let y = number(e.record.get(self.y)?)?;
                let series = match self.series {
                    Some(slot) => series_name(e.record.get(slot)?),
                    None => String::new(),
                };
                let point = serde_json::json!({ "series": series, "x": x, "y": y });
                Some(Arc::from(point.to_string().as_str()))
            })
            .collect();
        if !points.is_empty() {
            self.feed.publish(points);
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}

/// A plotted value: timestamps in seconds since the epoch; nulls and NaN are skipped.
fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Time(ms) => *ms as f64 / 1000.0,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

fn series_name(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}
