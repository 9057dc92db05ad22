//! `weir check`: diagnostics only.

use std::path::Path;
use std::process::ExitCode;

use super::{load_program, ErrorFormat};

pub(super) fn check(file: &Path, format: ErrorFormat) -> anyhow::Result<ExitCode> {
    match load_program(file, format)? {
        Some(compiled) => {
            if format == ErrorFormat::Human {
                let p = &compiled.plan;
                // Scheduled queries are named only when there are some: the line stays
                // as it was for every other program.
                let queries = match compiled.queries.len() {
                    0 => String::new(),
                    1 => ", 1 scheduled query".to_string(),
                    n => format!(", {n} scheduled queries"),
                };
                eprintln!(
                    "{}: ok ({} sources, {} sinks, {} pipelines{queries})",
                    file.display(),
                    p.sources.len(),
                    p.sinks.len(),
                    p.pipelines.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::from(1)),
    }
}
