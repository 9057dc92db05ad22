//! `weir check`: diagnostics only.

use std::path::Path;
use std::process::ExitCode;

use super::{load_program, ErrorFormat};

pub(super) fn check(file: &Path, format: ErrorFormat) -> anyhow::Result<ExitCode> {
    match load_program(file, format)? {
        Some(compiled) => {
            if format == ErrorFormat::Human {
                let p = &compiled.plan;
                eprintln!(
                    "{}: ok ({} sources, {} sinks, {} pipelines)",
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
