//! MQTT topics: subscription filters whose `{name}` levels capture a topic level into a
//! field, and sink topic templates filled from record fields.
//!
//! A filter `plant/{device_id}/telemetry` subscribes as `plant/+/telemetry` and, for a
//! message on `plant/m7/telemetry`, sets field `device_id` to `m7`. A template
//! `alerts/{device_id}` publishes a record with `device_id = "m7"` to `alerts/m7`.

use std::fmt::Write as _;

use weir_engine::schema::Schema;
use weir_engine::time::{format_duration, format_timestamp};
use weir_engine::value::{Record, Value};

/// One level of a subscription filter.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Level {
    /// Matches this exact level.
    Exact(String),
    /// `+`: any one level.
    Any,
    /// `{name}`: any one level, captured as field `name`.
    Capture(String),
    /// `#`: this and every following level (always last).
    Rest,
}

/// A subscription filter with optional captured levels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicFilter {
    /// As written.
    pub text: String,
    /// As sent to the broker (`{name}` replaced by `+`).
    pub mqtt: String,
    levels: Vec<Level>,
}

impl TopicFilter {
    /// Parses `text`; the error says what is wrong in user words.
    pub fn parse(text: &str) -> Result<TopicFilter, String> {
        if text.is_empty() {
            return Err("the topic filter is empty".into());
        }
        let parts: Vec<&str> = text.split('/').collect();
        let mut levels = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let level = match *part {
                "+" => Level::Any,
                "#" if i + 1 == parts.len() => Level::Rest,
                "#" => return Err(format!("`#` must be the last level of `{text}`")),
                p if p.starts_with('{') && p.ends_with('}') && p.len() >= 2 => {
                    let name = &p[1..p.len() - 1];
                    if name.is_empty() || name.contains(['{', '}', '+', '#']) {
                        return Err(format!("bad captured level `{p}` in `{text}`"));
                    }
                    if levels.contains(&Level::Capture(name.to_string())) {
                        return Err(format!("field `{name}` is captured twice in `{text}`"));
                    }
                    Level::Capture(name.to_string())
                }
                p if p.contains(['+', '#']) => {
                    return Err(format!(
                        "`+` and `#` must fill a whole level, found `{p}` in `{text}`"
                    ))
                }
                p if p.contains(['{', '}']) => {
                    return Err(format!(
                        "a captured level is a whole level such as `{{device_id}}`, found `{p}` in `{text}`"
                    ))
                }
                p => Level::Exact(p.to_string()),
            };
            levels.push(level);
        }
        let mqtt: Vec<&str> = parts
            .iter()
            .zip(&levels)
            .map(|(p, l)| match l {
                Level::Capture(_) => "+",
                _ => p,
            })
            .collect();
        Ok(TopicFilter {
            text: text.to_string(),
            mqtt: mqtt.join("/"),
            levels,
        })
    }

    /// The names of the captured levels, in order.
    pub fn captures(&self) -> impl Iterator<Item = &str> {
        self.levels.iter().filter_map(|l| match l {
            Level::Capture(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Whether `topic` matches, and if so the captured (name, level) pairs.
    ///
    /// Follows MQTT: `#` also matches the parent level, and wildcards at the first level
    /// do not match topics starting with `$`.
    pub fn matches<'t>(&self, topic: &'t str) -> Option<Vec<(&str, &'t str)>> {
        if topic.starts_with('$') && !matches!(self.levels.first(), Some(Level::Exact(_))) {
            return None;
        }
        let mut captured = Vec::new();
        let mut parts = topic.split('/');
        for level in &self.levels {
            match level {
                Level::Rest => return Some(captured),
                _ => {
                    let part = parts.next()?;
                    match level {
                        Level::Exact(e) if e != part => return None,
                        Level::Capture(name) => captured.push((name.as_str(), part)),
                        _ => {}
                    }
                }
            }
        }
        parts.next().is_none().then_some(captured)
    }
}

/// A sink topic with `{field}` placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicTemplate {
    /// As written.
    pub text: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

/// A resolved template: text pieces and record slots.
#[derive(Clone, Debug)]
pub struct BoundTemplate {
    parts: Vec<BoundPart>,
}

#[derive(Clone, Debug)]
enum BoundPart {
    Text(String),
    Slot(usize, String),
}

impl TopicTemplate {
    /// Parses `text`: plain text with `{field}` placeholders, no wildcards.
    pub fn parse(text: &str) -> Result<TopicTemplate, String> {
        if text.is_empty() {
            return Err("the topic is empty".into());
        }
        if text.contains(['+', '#']) {
            return Err(format!(
                "a sink topic cannot contain `+` or `#` (found in `{text}`)"
            ));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in topic `{text}`"))?;
            let name = &after[..close];
            if name.is_empty() || name.contains('{') {
                return Err(format!("bad placeholder `{{{name}}}` in topic `{text}`"));
            }
            parts.push(Part::Field(name.to_string()));
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("unmatched `}}` in topic `{text}`"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(TopicTemplate {
            text: text.to_string(),
            parts,
        })
    }

    /// The fields named by placeholders.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field(f) => Some(f.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Resolves the placeholders against `schema`; the error names the missing fields.
    pub fn bind(&self, schema: &Schema) -> Result<BoundTemplate, Vec<String>> {
        let mut missing = Vec::new();
        let parts = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => BoundPart::Text(t.clone()),
                Part::Field(f) => match schema.slot(f) {
                    Some(slot) => BoundPart::Slot(slot, f.clone()),
                    None => {
                        missing.push(f.clone());
                        BoundPart::Text(String::new())
                    }
                },
            })
            .collect();
        if missing.is_empty() {
            Ok(BoundTemplate { parts })
        } else {
            Err(missing)
        }
    }
}

impl BoundTemplate {
    /// The topic for `record`; fails on a null field or one whose text holds `+`, `#` or
    /// is empty (the topic would be a wildcard or lose a level).
    pub fn render(&self, record: &Record) -> Result<String, String> {
        self.render_checked(record, true)
    }

    /// The text for `record` with no check on what the fields hold but null (a Kafka
    /// record key may contain anything).
    pub fn render_text(&self, record: &Record) -> Result<String, String> {
        self.render_checked(record, false)
    }

    fn render_checked(&self, record: &Record, as_level: bool) -> Result<String, String> {
        let mut topic = String::new();
        for part in &self.parts {
            match part {
                BoundPart::Text(t) => topic.push_str(t),
                BoundPart::Slot(slot, name) => {
                    let start = topic.len();
                    match record.get(*slot) {
                        None | Some(Value::Null) => {
                            return Err(format!("field `{name}` of the topic is null"))
                        }
                        Some(Value::Str(s)) => topic.push_str(s),
                        Some(Value::Int(i)) => {
                            let _ = write!(topic, "{i}");
                        }
                        Some(Value::Float(f)) => {
                            let _ = write!(topic, "{f}");
                        }
                        Some(Value::Bool(b)) => {
                            let _ = write!(topic, "{b}");
                        }
                        Some(Value::Time(t)) => topic.push_str(&format_timestamp(*t)),
                        Some(Value::Duration(d)) => topic.push_str(&format_duration(*d)),
                        Some(list @ Value::List(_)) => {
                            let _ = write!(topic, "{list}");
                        }
                    }
                    let text = &topic[start..];
                    if as_level && (text.is_empty() || text.contains(['+', '#'])) {
                        return Err(format!(
                            "field `{name}` gives `{text}`, which cannot be a topic level"
                        ));
                    }
                }
            }
        }
        Ok(topic)
    }
}
