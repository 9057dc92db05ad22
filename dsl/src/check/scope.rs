//! The record at one point of a pipeline: its fields (by slot), its event time and where
//! it came from, for name lookup with "did you mean" and "`x` has: …" notes.

use weir_engine::schema::{Field, Schema, Type};

use super::Ctx;
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// A field's type as far as the checker knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ty {
    /// The value type.
    pub ty: Type,
    /// May be null.
    pub nullable: bool,
}

impl Ty {
    /// `ty` written the way users write it (`f64?`).
    pub fn display(self) -> String {
        format!("{}{}", self.ty, if self.nullable { "?" } else { "" })
    }
}

/// One field of a [`Scope`]; `ty` is `None` when an earlier error left it unknown.
#[derive(Clone, Debug)]
pub(crate) struct ScopeField {
    pub name: String,
    pub ty: Option<Ty>,
}

/// What the event time of the records is at this point.
#[derive(Clone, Debug)]
pub(crate) enum EventTime {
    /// The field holding event time.
    Field(String),
    /// The source has no `event_time` (processing time).
    Missing { source: String, span: Span },
    /// A stage removed or changed the event-time field. Event time still travels with
    /// each record; where and how it was lost is kept for future lints.
    #[allow(dead_code)]
    Lost {
        field: String,
        stage: Span,
        how: &'static str,
    },
    /// Unknown because of an earlier error.
    Unknown,
}

/// The fields of the records at one point of a pipeline.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    pub fields: Vec<ScopeField>,
    /// Describes the records in messages: "`telemetry`", "the output of `select`".
    pub origin: String,
    /// Where that origin is declared, for a secondary label.
    pub origin_span: Option<Span>,
    /// The whole layout is unknown (after an unsupported stage, or an input that failed):
    /// lookups fail silently, because the cause was already reported.
    pub poisoned: bool,
    pub event_time: EventTime,
}

impl Scope {
    /// A scope that reports nothing (its cause was already reported).
    pub fn poisoned() -> Scope {
        Scope {
            fields: Vec::new(),
            origin: String::new(),
            origin_span: None,
            poisoned: true,
            event_time: EventTime::Unknown,
        }
    }

    /// Slot of `name`.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The schema, if every field type is known.
    pub fn schema(&self) -> Option<Schema> {
        if self.poisoned {
            return None;
        }
        self.fields
            .iter()
            .map(|f| {
                f.ty.map(|t| Field {
                    name: f.name.clone(),
                    ty: t.ty,
                    nullable: t.nullable,
                })
            })
            .collect::<Option<Vec<Field>>>()
            .map(Schema::new)
    }

    /// "device_id: string, temp: f64, ts: timestamp".
    pub fn listing(&self) -> String {
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|f| match f.ty {
                Some(t) => format!("{}: {}", f.name, t.display()),
                None => f.name.clone(),
            })
            .collect();
        if parts.is_empty() {
            "no fields".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// Resolves a field reference, reporting P0203 when it does not exist. `None` when
    /// unknown (reported here or earlier).
    pub fn lookup(&self, name: &str, span: Span, cx: &mut Ctx<'_>) -> Option<(usize, Ty)> {
        if self.poisoned {
            return None;
        }
        match self.slot(name) {
            Some(slot) => self.fields[slot].ty.map(|t| (slot, t)),
            None => {
                cx.push(self.unknown_field(name, span));
                None
            }
        }
    }

    /// The P0203 diagnostic for `name` at `span`.
    pub fn unknown_field(&self, name: &str, span: Span) -> Diagnostic {
        let suggestion = did_you_mean(name, self.fields.iter().map(|f| f.name.as_str()));
        let mut d = Diagnostic::error(
            codes::UNKNOWN_FIELD,
            format!("unknown field `{name}`"),
            span,
            format!("not a field of {}", self.origin),
        )
        .with_help_opt(suggestion.map(|s| format!("did you mean `{s}`?")))
        .with_note(format!("{} has: {}", self.origin, self.listing()));
        if let Some(origin) = self.origin_span {
            d = d.with_secondary(origin, format!("{} is declared here", self.origin));
        }
        d
    }
}
