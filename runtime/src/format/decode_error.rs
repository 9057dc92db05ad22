//! Why one input record could not be decoded, and which field is to blame.

use std::fmt;

/// A record that does not fit its schema (or is not valid input at all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The field to blame, if one is (dotted name as in the schema).
    pub field: Option<String>,
    /// What is wrong, in user words.
    pub reason: String,
}

impl DecodeError {
    /// An error blamed on `field`.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            field: Some(field.into()),
            reason: reason.into(),
        }
    }

    /// An error about the record as a whole.
    pub fn record(reason: impl Into<String>) -> DecodeError {
        DecodeError {
            field: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for DecodeError {}
