//! Windows in the plan: the window kind and the Beam-model clauses (trigger, allowed
//! lateness, accumulation, late route, output timestamp).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::expr::Aggregate;
use crate::schema::{Field, Schema, Type};
use crate::time::format_duration;

/// A window and its clauses, all resolved (defaults filled in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// Window kind.
    pub kind: WindowKind,
    /// When panes fire.
    pub trigger: Trigger,
    /// Allowed lateness (ms): how long after the watermark passes a window's end it still
    /// accepts elements.
    pub allowed_lateness_ms: i64,
    /// What each pane holds.
    pub accumulation: Accumulation,
    /// The sink that receives late-dropped elements, if any.
    pub late_to: Option<String>,
    /// How a pane's timestamp is chosen.
    pub timestamp: TimestampCombiner,
    /// `on processing time`: windows are assigned by each record's arrival time on the
    /// run's clock and close when that clock passes their end (`ops::processing_window`);
    /// the trigger and lateness clauses then do not apply.
    #[serde(default)]
    pub processing_time: bool,
}

impl WindowSpec {
    /// A window of `kind` with every clause at its default: Beam's default trigger, no
    /// allowed lateness, discarding, no late route, timestamp at the end of the window.
    pub fn new(kind: WindowKind) -> WindowSpec {
        WindowSpec {
            kind,
            trigger: Trigger::default_for_windows(),
            allowed_lateness_ms: 0,
            accumulation: Accumulation::Discard,
            late_to: None,
            timestamp: TimestampCombiner::End,
            processing_time: false,
        }
    }
}

/// Kinds of windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WindowKind {
    /// `tumbling <size> [offset <d>]`: fixed, non-overlapping windows `[k*size+offset, …)`.
    Tumbling {
        /// Window length (ms).
        size_ms: i64,
        /// Offset of window starts from the epoch (ms).
        offset_ms: i64,
    },
    /// `sliding <size> every <period>`: windows of `size` starting every `period`.
    Sliding {
        /// Window length (ms).
        size_ms: i64,
        /// Distance between window starts (ms).
        period_ms: i64,
    },
    /// `session gap <d> [max <d>]`: per key, elements closer than `gap` share a window.
    Session {
        /// Inactivity gap that closes a session (ms).
        gap_ms: i64,
        /// Longest a session may grow (ms).
        max_ms: Option<i64>,
    },
    /// `global`: one window per key over all time; fires by its trigger and at the end.
    Global,
    /// `until <field> [from <field>]`: per key, the window `[from, until)` whose bounds are
    /// timestamp fields of each record (an auction's `expires`); records naming the same
    /// bounds share a window.
    Until {
        /// The field the window ends at (exclusive).
        end: FieldRef,
        /// The field it starts at; the beginning of time without one.
        start: Option<FieldRef>,
    },
    /// `count <size> [every <every>]`: per key, in event-time order, every `every`-th
    /// record closes a window over the key's last `size` records. No triggers, lateness or
    /// accumulation: each window is emitted once, at its last record's time.
    Count {
        /// Records per window (> 0).
        size: u64,
        /// Records between windows (> 0).
        every: u64,
    },
}

/// A field of the window's input named by the window kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldRef {
    /// Its slot in the input record.
    pub slot: usize,
    /// Its name, for `weir explain`.
    pub name: String,
}

impl WindowKind {
    /// Whether windows of this kind merge (sessions).
    pub fn is_merging(&self) -> bool {
        matches!(self, WindowKind::Session { .. })
    }

    /// The input slots the window kind reads (the bounds of `until` windows).
    pub fn slots(&self) -> Vec<usize> {
        match self {
            WindowKind::Until { end, start } => std::iter::once(end.slot)
                .chain(start.iter().map(|s| s.slot))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// What a pane holds (Beam's accumulation mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Accumulation {
    /// Each pane holds only the elements since the previous pane.
    Discard,
    /// Each pane holds every element of the window so far.
    Accumulate,
    /// As `Accumulate`, and each pane after the first is preceded by a retraction of the
    /// previous pane (`pane.retraction: true`).
    Retract,
}

impl Accumulation {
    /// The keyword that selects this mode.
    pub fn keyword(self) -> &'static str {
        match self {
            Accumulation::Discard => "discard",
            Accumulation::Accumulate => "accumulate",
            Accumulation::Retract => "retract",
        }
    }
}

/// How a pane's timestamp is chosen (Beam's timestamp combiner).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimestampCombiner {
    /// The end of the window minus 1 ms.
    End,
    /// The earliest timestamp of the pane's on-time elements.
    Earliest,
    /// The latest timestamp of the pane's on-time elements.
    Latest,
}

impl TimestampCombiner {
    /// The keyword that selects this combiner.
    pub fn keyword(self) -> &'static str {
        match self {
            TimestampCombiner::End => "end",
            TimestampCombiner::Earliest => "earliest",
            TimestampCombiner::Latest => "latest",
        }
    }
}

/// A trigger: when a window's panes fire. Mirrors Beam's trigger algebra.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Trigger {
    /// `watermark`, `watermark(early: T, late: T)`: fires when the watermark passes the end
    /// of the window; `early` fires repeatedly before, `late` repeatedly after.
    Watermark {
        /// Repeated firings before the watermark passes the end.
        early: Option<Box<Trigger>>,
        /// Repeated firings for late elements.
        late: Option<Box<Trigger>>,
    },
    /// `count(n)`: fires once after `n` elements.
    Count(u64),
    /// `processing(d)`: fires once, `d` of processing time after the pane's first element.
    Processing(i64),
    /// `repeat(T)`: fires whenever `T` does, forever.
    Repeat(Box<Trigger>),
    /// `any(T, …)`: fires when any sub-trigger fires; finishes when that one finishes.
    Any(Vec<Trigger>),
    /// `all(T, …)`: fires when every sub-trigger is ready.
    All(Vec<Trigger>),
    /// `each(T, …)`: the sub-triggers in sequence.
    Each(Vec<Trigger>),
    /// `T until U`: `T` until `U` fires, then finishes.
    Until(Box<Trigger>, Box<Trigger>),
    /// `never`: fires only when the window is garbage-collected.
    Never,
}

impl Trigger {
    /// Beam's default trigger: on time, then once per late element within allowed lateness.
    pub fn default_for_windows() -> Trigger {
        Trigger::Repeat(Box::new(Trigger::on_watermark()))
    }

    /// `watermark` with no early or late firings.
    pub fn on_watermark() -> Trigger {
        Trigger::Watermark {
            early: None,
            late: None,
        }
    }

    /// Whether this trigger can fire before the watermark passes the end of the window
    /// (a speculative, early pane).
    pub fn fires_early(&self) -> bool {
        match self {
            Trigger::Watermark { early, .. } => early.is_some(),
            Trigger::Count(_) | Trigger::Processing(_) => true,
            Trigger::Repeat(t) => t.fires_early(),
            Trigger::Any(ts) | Trigger::All(ts) | Trigger::Each(ts) => {
                ts.iter().any(Trigger::fires_early)
            }
            Trigger::Until(t, u) => t.fires_early() || u.fires_early(),
            Trigger::Never => false,
        }
    }

    /// Whether the first pane this trigger fires is also its last (`count(n)`,
    /// `processing(d)`, a watermark trigger without early or late firings): after it the
    /// window is closed and its further elements are dropped.
    pub fn fires_once(&self) -> bool {
        match self {
            Trigger::Watermark { early, late } => early.is_none() && late.is_none(),
            Trigger::Count(_) | Trigger::Processing(_) | Trigger::Never => true,
            Trigger::Repeat(_) => false,
            // Any finishes when a child that fired finishes; All when every child has.
            Trigger::Any(ts) | Trigger::All(ts) => ts.iter().all(Trigger::fires_once),
            Trigger::Each(ts) => ts.len() <= 1 && ts.iter().all(Trigger::fires_once),
            Trigger::Until(t, _) => t.fires_once(),
        }
    }

    /// Whether this trigger uses processing time.
    pub fn uses_processing_time(&self) -> bool {
        match self {
            Trigger::Processing(_) => true,
            Trigger::Watermark { early, late } => early
                .iter()
                .chain(late.iter())
                .any(|t| t.uses_processing_time()),
            Trigger::Repeat(t) => t.uses_processing_time(),
            Trigger::Any(ts) | Trigger::All(ts) | Trigger::Each(ts) => {
                ts.iter().any(Trigger::uses_processing_time)
            }
            Trigger::Until(t, u) => t.uses_processing_time() || u.uses_processing_time(),
            Trigger::Count(_) | Trigger::Never => false,
        }
    }
}

/// The canonical text form, as `weir explain` prints it.
impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, ts: &[Trigger]| {
            write!(f, "{name}(")?;
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{t}")?;
            }
            f.write_str(")")
        };
        match self {
            Trigger::Watermark {
                early: None,
                late: None,
            } => f.write_str("watermark"),
            Trigger::Watermark { early, late } => {
                f.write_str("watermark(")?;
                if let Some(e) = early {
                    write!(f, "early: {e}")?;
                }
                if let Some(l) = late {
                    if early.is_some() {
                        f.write_str(", ")?;
                    }
                    write!(f, "late: {l}")?;
                }
                f.write_str(")")
            }
            Trigger::Count(n) => write!(f, "count({n})"),
            Trigger::Processing(d) => write!(f, "processing({})", format_duration(*d)),
            Trigger::Repeat(t) => write!(f, "repeat({t})"),
            Trigger::Any(ts) => list(f, "any", ts),
            Trigger::All(ts) => list(f, "all", ts),
            Trigger::Each(ts) => list(f, "each", ts),
            Trigger::Until(t, u) => {
                // `until` does not nest without parentheses.
                let side = |f: &mut fmt::Formatter<'_>, x: &Trigger| match x {
                    Trigger::Until(..) => write!(f, "({x})"),
                    _ => write!(f, "{x}"),
                };
                side(f, t)?;
                f.write_str(" until ")?;
                side(f, u)
            }
            Trigger::Never => f.write_str("never"),
        }
    }
}

impl fmt::Display for WindowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowKind::Tumbling { size_ms, offset_ms } => {
                write!(f, "tumbling {}", format_duration(*size_ms))?;
                if *offset_ms != 0 {
                    write!(f, " offset {}", format_duration(*offset_ms))?;
                }
                Ok(())
            }
            WindowKind::Sliding { size_ms, period_ms } => write!(
                f,
                "sliding {} every {}",
                format_duration(*size_ms),
                format_duration(*period_ms)
            ),
            WindowKind::Session { gap_ms, max_ms } => {
                write!(f, "session gap {}", format_duration(*gap_ms))?;
                if let Some(m) = max_ms {
                    write!(f, " max {}", format_duration(*m))?;
                }
                Ok(())
            }
            WindowKind::Global => f.write_str("global"),
            WindowKind::Count { size, every } if size == every => write!(f, "count {size}"),
            WindowKind::Count { size, every } => write!(f, "count {size} every {every}"),
            WindowKind::Until { end, start } => {
                write!(f, "until {}", end.name)?;
                if let Some(s) = start {
                    write!(f, " from {}", s.name)?;
                }
                Ok(())
            }
        }
    }
}

/// Fields every windowed aggregate appends, in this order, with their types.
pub const WINDOW_FIELDS: [(&str, Type); 7] = [
    ("window.start", Type::Timestamp),
    ("window.end", Type::Timestamp),
    ("pane.timing", Type::String),
    ("pane.index", Type::Int),
    ("pane.nonspeculative_index", Type::Int),
    ("pane.final", Type::Bool),
    ("pane.timestamp", Type::Timestamp),
];

/// The field a retracting window appends after [`WINDOW_FIELDS`].
pub const RETRACTION_FIELD: (&str, Type) = ("pane.retraction", Type::Bool);

/// Fields a late route appends to the dropped element's own fields.
pub const LATE_FIELDS: [(&str, Type); 4] = [
    ("late.reason", Type::String),
    ("late.window.start", Type::Timestamp),
    ("late.window.end", Type::Timestamp),
    ("late.watermark", Type::Timestamp),
];

impl WindowSpec {
    /// The schema of the records a `late to` route receives: the element as it reached
    /// the window, then [`LATE_FIELDS`].
    pub fn late_schema(input: &Schema) -> Schema {
        let mut fields = input.fields.clone();
        fields.extend(LATE_FIELDS.iter().map(|(n, t)| Field::new(*n, *t)));
        Schema::new(fields)
    }

    /// The output schema of a windowed aggregate over `input` keyed by `keys`: the keys,
    /// the aggregates, [`WINDOW_FIELDS`], and with `retract` the [`RETRACTION_FIELD`].
    pub fn output_schema(
        input: &Schema,
        keys: &[usize],
        aggregates: &[Aggregate],
        accumulation: Accumulation,
    ) -> Schema {
        let mut fields: Vec<Field> = keys.iter().map(|&k| input.fields[k].clone()).collect();
        for agg in aggregates {
            fields.extend(agg.output_fields());
        }
        fields.extend(WINDOW_FIELDS.iter().map(|(n, t)| Field::new(*n, *t)));
        if accumulation == Accumulation::Retract {
            fields.push(Field::new(RETRACTION_FIELD.0, RETRACTION_FIELD.1));
        }
        Schema::new(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_print_in_canonical_form() {
        let t = Trigger::Watermark {
            early: Some(Box::new(Trigger::Processing(10_000))),
            late: Some(Box::new(Trigger::Count(1))),
        };
        assert_eq!(
            t.to_string(),
            "watermark(early: processing(10s), late: count(1))"
        );
        assert_eq!(
            Trigger::default_for_windows().to_string(),
            "repeat(watermark)"
        );
        let u = Trigger::Until(
            Box::new(Trigger::Repeat(Box::new(Trigger::Count(2)))),
            Box::new(Trigger::Any(vec![Trigger::Never, Trigger::Count(9)])),
        );
        assert_eq!(u.to_string(), "repeat(count(2)) until any(never, count(9))");
        assert!(u.fires_early());
        assert!(!Trigger::default_for_windows().fires_early());
        assert!(t.uses_processing_time());
    }
}
