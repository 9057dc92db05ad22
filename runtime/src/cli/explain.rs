//! `weir explain`: the checked logical plan, or (`--physical`) the plan that runs.

use std::path::Path;
use std::process::ExitCode;

use weir_engine::plan::optimize;
use weir_engine::plan::physical::PhysicalPlan;

use super::{load_program, ErrorFormat};

pub(super) fn explain(file: &Path, json: bool, physical: bool) -> anyhow::Result<ExitCode> {
    let Some(compiled) = load_program(file, ErrorFormat::Human)? else {
        return Ok(ExitCode::from(1));
    };
    // Passwords, header values and URL credentials are shown as `***`.
    let shown = crate::connectors::secret::redact_plan(&compiled.plan);
    if physical {
        let logical = optimize::logical(shown);
        let plan = PhysicalPlan::from_logical(&logical);
        if json {
            let both = serde_json::json!({ "logical": logical, "physical": plan });
            println!("{}", serde_json::to_string_pretty(&both)?);
        } else {
            print!("{}", plan.explain(&logical));
        }
    } else if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        print!("{}", shown.explain());
    }
    Ok(ExitCode::SUCCESS)
}
