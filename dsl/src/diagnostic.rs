//! Diagnostics: coded errors and warnings with labelled spans, rendered like rustc
//! (via codespan-reporting) or as JSON lines for editors and CI.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use codespan_reporting::term::termcolor::{Ansi, NoColor};
use serde::Serialize;

/// A byte range `lo..hi` in the program text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    /// First byte.
    pub lo: usize,
    /// One past the last byte.
    pub hi: usize,
}

impl Span {
    /// The span `lo..hi`.
    pub fn new(lo: usize, hi: usize) -> Span {
        Span { lo, hi }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.lo.min(other.lo), self.hi.max(other.hi))
    }

    /// The text this span covers in `text` (empty if out of range).
    pub fn text(self, text: &str) -> &str {
        text.get(self.lo..self.hi).unwrap_or("")
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The program is rejected.
    Error,
    /// The program compiles but is probably not what was meant.
    Warning,
    /// Extra information.
    Note,
}

/// A message attached to a span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
}

impl Label {
    /// A label at `span` saying `message`.
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// One error or warning about a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code such as `P0203` (see [`crate::codes`]).
    pub code: &'static str,
    /// Error, warning or note.
    pub severity: Severity,
    /// One-line summary.
    pub message: String,
    /// The exact place of the problem.
    pub primary: Label,
    /// Related places (e.g. a declaration).
    pub secondary: Vec<Label>,
    /// What to type to fix it.
    pub help: Option<String>,
    /// Further facts (e.g. the fields that exist).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with `code` and `message`, labelled `label` at `span`.
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: Label::new(span, label),
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// A warning with `code` and `message`, labelled `label` at `span`.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span, label)
        }
    }

    /// A note with `code` and `message`, labelled `label` at `span`: a fact worth knowing,
    /// not a problem.
    pub fn note(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, message, span, label)
        }
    }

    /// Adds a secondary label if there is a place for it.
    pub fn with_secondary_opt(self, span: Option<Span>, message: impl Into<String>) -> Diagnostic {
        match span {
            Some(span) => self.with_secondary(span, message),
            None => self,
        }
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label::new(span, message));
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line if there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn to_codespan(&self, text_len: usize) -> cs::Diagnostic<()> {
        let clamp = |s: Span| s.lo.min(text_len)..s.hi.min(text_len).max(s.lo.min(text_len));
        let severity = match self.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
            Severity::Note => cs::Severity::Note,
        };
        let mut labels =
            vec![cs::Label::primary((), clamp(self.primary.span))
                .with_message(&self.primary.message)];
        labels.extend(
            self.secondary
                .iter()
                .map(|l| cs::Label::secondary((), clamp(l.span)).with_message(&l.message)),
        );
        let mut notes = Vec::new();
        if let Some(help) = &self.help {
            notes.push(format!("help: {help}"));
        }
        notes.extend(self.notes.iter().map(|n| format!("note: {n}")));
        cs::Diagnostic::new(severity)
            .with_code(self.code)
            .with_message(&self.message)
            .with_labels(labels)
            .with_notes(notes)
    }
}

/// Renders diagnostics as text like rustc's, naming `path`, line and column.
pub fn render(diagnostics: &[Diagnostic], path: &str, text: &str, color: bool) -> String {
    let file = SimpleFile::new(path, text);
    let config = term::Config::default();
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let d = diagnostic.to_codespan(text.len());
        // Rendering into memory only fails on a span outside the file, which
        // `to_codespan` clamps away; fall back to a plain line just in case.
        let result = if color {
            term::emit(&mut Ansi::new(&mut out), &config, &file, &d)
        } else {
            term::emit(&mut NoColor::new(&mut out), &config, &file, &d)
        };
        if result.is_err() {
            let (line, column) = line_column(text, diagnostic.primary.span.lo);
            out.extend_from_slice(
                format!(
                    "{}[{}]: {} ({path}:{line}:{column})\n",
                    severity_word(diagnostic.severity),
                    diagnostic.code,
                    diagnostic.message
                )
                .as_bytes(),
            );
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    primary: bool,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
    notes: &'a [String],
}

fn json_label<'a>(text: &str, l: &'a Label, primary: bool) -> JsonLabel<'a> {
    let (line, column) = line_column(text, l.span.lo);
    let (end_line, end_column) = line_column(text, l.span.hi);
    JsonLabel {
        line,
        column,
        end_line,
        end_column,
        message: &l.message,
        primary,
    }
}

/// Renders diagnostics as JSON, one object per line (lines and columns are 1-based).
pub fn render_json(diagnostics: &[Diagnostic], path: &str, text: &str) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let primary = json_label(text, &d.primary, true);
        let mut labels = vec![json_label(text, &d.primary, true)];
        labels.extend(d.secondary.iter().map(|l| json_label(text, l, false)));
        let json = JsonDiagnostic {
            code: d.code,
            severity: d.severity,
            message: &d.message,
            file: path,
            line: primary.line,
            column: primary.column,
            end_line: primary.end_line,
            end_column: primary.end_column,
            labels,
            help: d.help.as_deref(),
            notes: &d.notes,
        };
        // Serialising plain strings and numbers cannot fail.
        out.push_str(&serde_json::to_string(&json).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "ab\ncé d";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // `d` is after a two-byte `é`.
        assert_eq!(line_column(text, text.find('d').expect("d")), (2, 4));
    }

    #[test]
    fn json_has_one_object_per_line() {
        let text = "source x\n";
        let d = Diagnostic::error("P0001", "oops", Span::new(7, 8), "here").with_help("fix");
        let out = render_json(&[d.clone(), d], "a.pipe", text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
        assert_eq!(v["code"], "P0001");
        assert_eq!(v["file"], "a.pipe");
        assert_eq!(v["line"], 1);
        assert_eq!(v["column"], 8);
        assert_eq!(v["help"], "fix");
        assert_eq!(v["labels"][0]["primary"], true);
    }

    #[test]
    fn text_rendering_names_file_line_and_column() {
        let text = "a\nbb cc\n";
        let d = Diagnostic::error(
            "P0203",
            "unknown field `cc`",
            Span::new(5, 7),
            "not a field",
        )
        .with_help("did you mean `bb`?")
        .with_note("x has: bb");
        let out = render(&[d], "f.pipe", text, false);
        assert!(out.contains("error[P0203]: unknown field `cc`"), "{out}");
        assert!(out.contains("f.pipe:2:4"), "{out}");
        assert!(out.contains("= help: did you mean `bb`?"), "{out}");
        assert!(out.contains("= note: x has: bb"), "{out}");
    }
}
