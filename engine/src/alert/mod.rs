//! The `alert` stage: per-key alert state machines (OK → pending → firing → resolved) over
//! event time, with levels, hysteresis, `for`, `keep firing for`, repeats, flapping
//! suppression and a deadman. The stage turns records into an alert event stream; the
//! timely operator is `ops::alert`.

pub mod flapping;
pub mod group;
pub mod keyed;
pub mod machine;
pub mod silence;
pub mod template;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::plan::Expr;
use crate::schema::{Field, Schema, Type};
pub use template::{Piece, Template};

/// Alert levels, ordered: OK < info < warning < critical (Kapacitor's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// No condition holds.
    Ok,
    /// `info when …`
    Info,
    /// `warning when …`
    Warning,
    /// `critical when …`
    Critical,
}

impl Level {
    /// The name written in the language and in alert events.
    pub fn name(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `<level> when <expr> [resolve when <expr>]` clause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelRule {
    /// The level this condition raises.
    pub level: Level,
    /// The condition (a bool expression over the record).
    pub when: Expr,
    /// Hysteresis: once at this level, stay until this is true (default: the stage's
    /// `resolve when`, else until the condition is false).
    pub resolve: Option<Expr>,
}

/// `flapping low <l> high <h> [history <n>]`: Kapacitor's weighted share of level changes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlappingSpec {
    /// Flapping ends below this share.
    pub low: f64,
    /// Flapping starts above this share.
    pub high: f64,
    /// Levels remembered per key (2 to 64).
    pub history: usize,
}

/// Everything an `alert` stage does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertSpec {
    /// The alert's name (`alert overheat`).
    pub name: String,
    /// Key slots (empty: one state for the whole stream).
    pub keys: Vec<usize>,
    /// Levels, highest first.
    pub levels: Vec<LevelRule>,
    /// Stage-wide hysteresis for levels without their own `resolve when`.
    pub resolve: Option<Expr>,
    /// `id "…"`: rendered from the record that starts an episode (default `name:key,…`).
    pub id: Template,
    /// `message "…"` (default `"{alert.id} is {alert.level}"`).
    pub message: Template,
    /// `for <d>`: how long a level must hold in event time before the alert fires.
    pub for_ms: i64,
    /// `keep firing for <d>`: how long a firing alert stays firing after it cleared.
    pub keep_firing_ms: i64,
    /// `repeat every <d>`: re-send a firing alert this often (event time).
    pub repeat_ms: Option<i64>,
    /// False with `no recoveries`: resolved events are not emitted.
    pub recoveries: bool,
    /// `flapping …`: suppress events while a key's level flaps.
    pub flapping: Option<FlappingSpec>,
    /// `deadman <d>`: alert when a key has sent nothing for this long.
    pub deadman_ms: Option<i64>,
    /// `group by …`: one notification per group instead of one event per alert.
    #[serde(default)]
    pub group: Option<group::GroupSpec>,
    /// `silenced by <table>`: events matching a silence of the table are counted, not sent.
    #[serde(default)]
    pub silences: Option<silence::SilenceSpec>,
}

/// Names of the fields the stage appends, in order, with their types.
pub const ALERT_FIELDS: [(&str, Type); 10] = [
    ("alert.id", Type::String),
    ("alert.kind", Type::String),
    ("alert.event", Type::String),
    ("alert.level", Type::String),
    ("alert.previous_level", Type::String),
    ("alert.state", Type::String),
    ("alert.started_at", Type::Timestamp),
    ("alert.time", Type::Timestamp),
    ("alert.duration", Type::Duration),
    ("alert.message", Type::String),
];

/// The output schema of an `alert` stage over `input`: the record that caused the event
/// (for timer events, the key's last record), then [`ALERT_FIELDS`].
pub fn alert_output_schema(input: &Schema) -> Schema {
    let mut fields = input.fields.clone();
    fields.extend(ALERT_FIELDS.iter().map(|(n, t)| Field::new(*n, *t)));
    Schema::new(fields)
}

/// One line for `weir explain`: levels by name, timing and policy, keys by slot.
pub fn describe(spec: &AlertSpec) -> String {
    use crate::time::format_duration;
    let levels: Vec<&str> = spec.levels.iter().map(|l| l.level.name()).collect();
    let mut text = format!(
        "alert {} levels [{}] per key {:?}",
        spec.name,
        levels.join(", "),
        spec.keys
    );
    if spec.resolve.is_some() || spec.levels.iter().any(|l| l.resolve.is_some()) {
        text.push_str(" with hysteresis");
    }
    text.push_str(&format!(" for {}", format_duration(spec.for_ms)));
    if spec.keep_firing_ms > 0 {
        text.push_str(&format!(
            " keep firing for {}",
            format_duration(spec.keep_firing_ms)
        ));
    }
    if let Some(r) = spec.repeat_ms {
        text.push_str(&format!(" repeat every {}", format_duration(r)));
    }
    if !spec.recoveries {
        text.push_str(" no recoveries");
    }
    if let Some(f) = spec.flapping {
        text.push_str(&format!(
            " flapping low {} high {} history {}",
            f.low, f.high, f.history
        ));
    }
    if let Some(d) = spec.deadman_ms {
        text.push_str(&format!(" deadman {}", format_duration(d)));
    }
    text
}

/// One line for `weir explain` of a grouping stage.
pub fn describe_group(spec: &group::GroupSpec) -> String {
    use crate::time::format_duration;
    format!(
        "alert {} group by {:?} wait {} interval {}",
        spec.name,
        spec.by,
        format_duration(spec.wait_ms),
        format_duration(spec.interval_ms)
    )
}
