//! `weir explain`: the checked logical plan.

use std::path::Path;
use std::process::ExitCode;

use super::{load_program, ErrorFormat};

pub(super) fn explain(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let Some(compiled) = load_program(file, ErrorFormat::Human)? else {
        return Ok(ExitCode::from(1));
    };
    // Passwords, header values and URL credentials are shown as `***`.
    let shown = crate::connectors::secret::redact_plan(&compiled.plan);
    if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        print!("{}", shown.explain());
    }
    Ok(ExitCode::SUCCESS)
}
