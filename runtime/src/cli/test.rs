//! `weir test`: runs the `test` blocks of .pipe files and reports each one.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use weir_engine::run::{open_models, open_tables};
use weir_engine::testing::script::{run_test_opened, Opened};

use crate::connectors::Connectors;

use super::{load_program, ErrorFormat};

pub(super) fn test(files: &[PathBuf], format: ErrorFormat) -> anyhow::Result<ExitCode> {
    let (mut passed, mut failed, mut broken) = (0usize, 0usize, 0usize);
    for file in files {
        let Some(compiled) = load_program(file, format)? else {
            broken += 1;
            continue;
        };
        let plan = Arc::new(compiled.plan);
        if plan.tests.is_empty() {
            println!("{}: no tests", file.display());
            continue;
        }
        // Models of `infer` stages and tables of `lookup` stages are opened once per file,
        // from their files, as `weir run` does: tests script the sources only.
        let connectors = Connectors::default();
        let opened = Opened {
            models: Arc::new(
                open_models(&plan, &connectors)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
            ),
            tables: Arc::new(
                open_tables(&plan, &connectors)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
            ),
        };
        for case in &plan.tests {
            let report = run_test_opened(&plan, case, &opened)
                .map_err(|e| anyhow::anyhow!("{}: test \"{}\": {e}", file.display(), case.name))?;
            if report.passed() {
                passed += 1;
                println!("test {} \"{}\" ... ok", file.display(), report.name);
            } else {
                failed += 1;
                println!("test {} \"{}\" ... FAILED", file.display(), report.name);
                for failure in &report.failures {
                    println!("  {failure}");
                }
            }
        }
    }
    let mut summary = format!("{passed} passed, {failed} failed");
    if broken > 0 {
        summary.push_str(&format!(", {broken} file(s) with errors"));
    }
    println!("{summary}");
    Ok(if failed == 0 && broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
