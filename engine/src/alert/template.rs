//! Text templates such as `"{device_id} will reach {next.upper:.1} °C"`: `{field}` is
//! replaced by the field's value, `{field:.N}` rounds a number to N decimals, `{{` is a
//! literal `{`. A `{` not followed by a field name and `}` is kept as written, so JSON
//! bodies (`{"text": "{alert.message}"}`) need no escaping.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::value::Value;

/// One part of a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Piece {
    /// Text kept as written.
    Text(String),
    /// A field's value.
    Field {
        /// The field name as written.
        name: String,
        /// Its slot in the record the template is rendered from (set by the front end).
        slot: usize,
        /// `:.N`: decimals for numbers.
        precision: Option<usize>,
        /// Byte offset of the `{` in the template text, for diagnostics.
        offset: usize,
    },
}

/// A parsed template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The parts in order.
    pub pieces: Vec<Piece>,
}

/// Why a template does not parse.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TemplateError {
    /// `{name` without its `}`.
    #[error("`{{{name}` is not closed with `}}`")]
    Unclosed {
        /// The field name so far.
        name: String,
        /// Byte offset of the `{`.
        offset: usize,
    },
    /// `{x:fmt}` with a format other than `.N`.
    #[error("unknown format `{spec}` (write `{{field:.1}}` for one decimal)")]
    BadFormat {
        /// The format as written.
        spec: String,
        /// Byte offset of the `{`.
        offset: usize,
    },
}

impl TemplateError {
    /// Byte offset of the placeholder at fault.
    pub fn offset(&self) -> usize {
        match self {
            TemplateError::Unclosed { offset, .. } | TemplateError::BadFormat { offset, .. } => {
                *offset
            }
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

impl Template {
    /// Parses `text`; field slots are left at 0 for the caller to resolve.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let mut at = 0;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let offset = at + open;
            let after = &rest[open + 1..];
            if let Some(tail) = after.strip_prefix('{') {
                literal.push('{');
                at = offset + 2;
                rest = tail;
                continue;
            }
            let name_len = after
                .find(|c: char| !is_name_char(c))
                .unwrap_or(after.len());
            let name = &after[..name_len];
            let starts_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            let tail = &after[name_len..];
            if !starts_name || !(tail.starts_with('}') || tail.starts_with(':') || tail.is_empty())
            {
                literal.push('{');
                at = offset + 1;
                rest = after;
                continue;
            }
            let Some(close) = tail.find('}') else {
                return Err(TemplateError::Unclosed {
                    name: name.to_string(),
                    offset,
                });
            };
            let precision = match &tail[..close] {
                "" => None,
                spec => Some(
                    parse_precision(spec).ok_or_else(|| TemplateError::BadFormat {
                        spec: spec[1..].to_string(),
                        offset,
                    })?,
                ),
            };
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Field {
                name: name.to_string(),
                slot: 0,
                precision,
                offset,
            });
            at = offset + 1 + name_len + close + 1;
            rest = &tail[close + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { pieces })
    }

    /// A template of plain text.
    pub fn text(text: &str) -> Template {
        Template {
            pieces: vec![Piece::Text(text.to_string())],
        }
    }

    /// The field placeholders, for resolving their slots.
    pub fn fields_mut(&mut self) -> impl Iterator<Item = (&str, &mut usize, usize)> {
        self.pieces.iter_mut().filter_map(|p| match p {
            Piece::Field {
                name, slot, offset, ..
            } => Some((name.as_str(), slot, *offset)),
            Piece::Text(_) => None,
        })
    }

    /// Renders the template from `record`, values as plain text.
    pub fn render(&self, record: &[Value]) -> String {
        let mut out = String::new();
        self.render_into(record, &mut out, |text, out| out.push_str(text));
        out
    }

    /// Renders into `out`, passing each value's text through `escape` (literal text is
    /// copied as written): JSON string escaping for JSON bodies, percent-encoding for forms.
    pub fn render_into(
        &self,
        record: &[Value],
        out: &mut String,
        escape: impl Fn(&str, &mut String),
    ) {
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field {
                    slot, precision, ..
                } => {
                    let value = record.get(*slot).unwrap_or(&Value::Null);
                    escape(&value_text(value, *precision), out);
                }
            }
        }
    }
}

/// `:.N` → N.
fn parse_precision(spec: &str) -> Option<usize> {
    let digits = spec.strip_prefix(":.")?;
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    digits.parse().ok()
}

/// A value as a person reads it: strings without quotes, times in RFC 3339, durations
/// with units (`5m`), numbers rounded when asked.
pub fn value_text(value: &Value, precision: Option<usize>) -> String {
    match (value, precision) {
        (Value::Str(s), _) => s.to_string(),
        (Value::Float(x), Some(p)) => format!("{x:.p$}"),
        (Value::Int(i), Some(p)) => format!("{:.p$}", *i as f64),
        (Value::Float(x), None) => format!("{x}"),
        (Value::Time(t), _) => crate::time::format_timestamp(*t),
        (Value::Duration(d), _) => crate::time::format_duration(*d),
        (other, _) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &Template) -> Vec<(String, Option<usize>, usize)> {
        t.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Field {
                    name,
                    precision,
                    offset,
                    ..
                } => Some((name.clone(), *precision, *offset)),
                Piece::Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn alert_template_fields_formats_and_literal_braces() {
        let t = Template::parse("{device_id} will reach {next.upper:.1} °C {{x} }}").unwrap();
        assert_eq!(
            names(&t),
            vec![
                ("device_id".into(), None, 0),
                ("next.upper".into(), Some(1), 23)
            ]
        );
        let mut t = t;
        for (i, (_, slot, _)) in t.fields_mut().enumerate() {
            *slot = i;
        }
        let out = t.render(&[Value::str("truck-3"), Value::Float(31.26)]);
        // `}` is never special: JSON bodies end in `}}`.
        assert_eq!(out, "truck-3 will reach 31.3 °C {x} }}");
    }

    #[test]
    fn alert_template_keeps_json_braces_and_reports_errors() {
        let t = Template::parse(r#"{"text": "{alert.message}"}"#).unwrap();
        assert_eq!(names(&t), vec![("alert.message".into(), None, 10)]);
        let err = Template::parse("at {ts").unwrap_err();
        assert_eq!(err.offset(), 3);
        let err = Template::parse("{x:2f}").unwrap_err();
        assert!(matches!(err, TemplateError::BadFormat { .. }));
    }
}
