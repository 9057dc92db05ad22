//! `weir explain`: the checked logical plan, or (`--physical`) the plan that runs, then
//! the file's scheduled queries (they run beside the dataflow, outside the plan).

use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

use weir_dsl::ScheduledQuery;
use weir_engine::plan::optimize;
use weir_engine::plan::physical::PhysicalPlan;
use weir_engine::time::format_duration;

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
            print!("{}", scheduled_queries(&compiled.queries));
        }
    } else if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        print!("{}", shown.explain());
        print!("{}", scheduled_queries(&compiled.queries));
    }
    Ok(ExitCode::SUCCESS)
}

/// Each scheduled query: its schedule, the lake tables it reads, its sinks and its SQL
/// (on one line, runs of white space as one space).
fn scheduled_queries(queries: &[ScheduledQuery]) -> String {
    let mut out = String::new();
    for q in queries {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "query {} every {}",
            q.name,
            format_duration(q.every_ms)
        );
        if q.offset_ms > 0 {
            let minutes = q.offset_ms / 60_000;
            let _ = write!(out, " at {:02}:{:02} UTC", minutes / 60, minutes % 60);
        }
        let _ = writeln!(out, " (processing time)");
        let _ = writeln!(out, "  reads lake {}", q.tables.join(", "));
        let _ = writeln!(out, "  to sink {}", q.to.join(", sink "));
        let sql: Vec<&str> = q.sql.split_whitespace().collect();
        let _ = writeln!(out, "  sql {}", sql.join(" "));
    }
    out
}
