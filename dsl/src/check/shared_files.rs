//! Files two connectors would fight over: a sink writing the very file a source or table
//! reads (opening it for writing erases the input), or two sinks writing one file (their
//! lines interleave). The catalog says which file a call uses; paths are compared after
//! lexical clean-up, and through the file system when both exist.

use std::path::{Component, Path, PathBuf};

use weir_engine::plan::{ConnectorCall, LogicalPlan};

use crate::ast::{Item, Program};
use crate::check::connectors::{ConnectorCatalog, Role};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};

/// A declaration that uses a file.
struct User<'a> {
    what: &'static str,
    name: &'a str,
    file: String,
    span: Span,
}

/// One diagnostic per sink that writes a file another declaration uses.
pub(crate) fn check(
    program: &Program,
    plan: &LogicalPlan,
    catalog: &dyn ConnectorCatalog,
) -> Vec<Diagnostic> {
    let users = users(program, plan, catalog);
    let mut diagnostics = Vec::new();
    for (i, sink) in users.iter().enumerate().filter(|(_, u)| u.what == "sink") {
        // A reader anywhere in the file; another sink only before this one (one report).
        let clash = users.iter().enumerate().find(|(j, other)| {
            *j != i && (other.what != "sink" || *j < i) && same_file(&sink.file, &other.file)
        });
        let Some((_, other)) = clash else { continue };
        diagnostics.push(if other.what == "sink" {
            Diagnostic::error(
                codes::SINKS_SHARE_A_FILE,
                format!(
                    "sinks `{}` and `{}` both write `{}`",
                    other.name, sink.name, sink.file
                ),
                sink.span,
                "writes the same file",
            )
            .with_secondary(other.span, "also written here")
            .with_note("two writers of one file interleave and corrupt each other's records")
            .with_help(format!(
                "give `{}` a file of its own, or send both pipelines `to {}`",
                sink.name, other.name
            ))
        } else {
            Diagnostic::error(
                codes::SINK_OVERWRITES_INPUT,
                format!(
                    "sink `{}` writes `{}`, the file {} `{}` reads",
                    sink.name, sink.file, other.what, other.name
                ),
                sink.span,
                "opening it for writing erases the input",
            )
            .with_secondary(other.span, "read here")
            .with_help(format!("write `{}` to another file", sink.name))
        });
    }
    diagnostics
}

/// Every source, table and sink whose connector uses a file, in declaration order.
fn users<'a>(
    program: &'a Program,
    plan: &LogicalPlan,
    catalog: &dyn ConnectorCatalog,
) -> Vec<User<'a>> {
    let call_of = |what: &str, name: &str| -> Option<(ConnectorCall, Role)> {
        match what {
            "source" => plan
                .sources
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.connector.clone(), Role::Source)),
            "table" => plan
                .tables
                .iter()
                .find(|t| t.name == name)
                .map(|t| (t.connector.clone(), Role::Table)),
            _ => plan
                .sinks
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.connector.clone(), Role::Sink)),
        }
    };
    program
        .items
        .iter()
        .filter_map(|item| {
            let (what, name, span) = match item {
                Item::Source(d) => ("source", &d.name, d.connector.span),
                Item::Table(d) => ("table", &d.name, d.connector.span),
                Item::Sink(d) => ("sink", &d.name, d.connector.span),
                _ => return None,
            };
            let (call, role) = call_of(what, &name.name)?;
            let file = catalog.file_of(&call, role)?;
            Some(User {
                what,
                name: &name.name,
                file,
                span,
            })
        })
        .collect()
}

/// Whether `a` and `b` name one file: the same after clean-up (`./x` is `x`), or the
/// same file on disk (symbolic links, `..`) when both exist.
fn same_file(a: &str, b: &str) -> bool {
    if clean(Path::new(a)) == clean(Path::new(b)) {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::same_file;

    #[test]
    fn paths_that_differ_only_in_spelling_are_one_file() {
        assert!(same_file("out/a.jsonl", "./out/a.jsonl"));
        assert!(same_file("out/x/../a.jsonl", "out/a.jsonl"));
        assert!(!same_file("out/a.jsonl", "out/b.jsonl"));
    }
}
