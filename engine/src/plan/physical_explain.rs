//! The text form of a physical plan, printed by `weir explain --physical`: per pipeline,
//! its operators in order, with each exchange and each fused chain on lines of its own.

use std::fmt::{self, Write};

use super::explain::{write_stage, ExprDisplay};
use super::logical::{LogicalPlan, PipelineInput, Stage};
use super::physical::{
    BatchLayout, Exchange, ExchangeInput, Operator, Parallelism, PhysicalPlan, Route,
};

impl PhysicalPlan {
    /// Renders the plan of `logical` (which this plan was lowered from) as text.
    pub fn explain(&self, logical: &LogicalPlan) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_explain(logical, &mut out);
        out
    }

    fn write_explain(&self, logical: &LogicalPlan, out: &mut String) -> fmt::Result {
        match self.layout {
            BatchLayout::Rows => writeln!(
                out,
                "batches: rows (Vec<Event>; a row is Vec<Value>, strings shared by reference count)"
            )?,
        }
        for pipeline in &self.pipelines {
            let node = &logical.pipelines[pipeline.index];
            writeln!(
                out,
                "pipeline {} from {}",
                pipeline.name,
                input(&pipeline.input)
            )?;
            for op in &pipeline.operators {
                match op {
                    Operator::Fused { stages } => {
                        writeln!(
                            out,
                            "  fused Stateless({}) [{} stages]",
                            node.name,
                            stages.len()
                        )?;
                        for &at in stages {
                            indented(out, "  ", |o| write_stage(o, &node.stages[at]))?;
                        }
                    }
                    Operator::Exchange(exchange) => write_exchange(out, exchange)?,
                    Operator::Combine { stage } => write_combine(out, &node.stages[*stage])?,
                    Operator::Stage { stage } => write_stage(out, &node.stages[*stage])?,
                }
            }
        }
        Ok(())
    }
}

fn input(input: &PipelineInput) -> String {
    match input {
        PipelineInput::Source(s) => format!("source {s}"),
        PipelineInput::Pipeline(p) => format!("pipeline {p}"),
    }
}

fn write_combine(out: &mut String, stage: &Stage) -> fmt::Result {
    let Stage::Window { aggregates, .. } = stage else {
        return Ok(());
    };
    let parts: Vec<String> = aggregates
        .iter()
        .map(|a| match &a.arg {
            Some(e) => format!("{}({})", a.func.name(), ExprDisplay(e)),
            None => format!("{}()", a.func.name()),
        })
        .collect();
    writeln!(
        out,
        "  combine {} per key and windows, per batch (partial aggregate before the exchange)",
        parts.join(", ")
    )
}

fn write_exchange(out: &mut String, exchange: &Exchange) -> fmt::Result {
    let what = match &exchange.input {
        ExchangeInput::Stream => String::new(),
        ExchangeInput::Joined(i) => format!(" joined {}", input(i)),
    };
    let route = match exchange.route {
        Route::KeyHash => {
            let keys: Vec<String> = exchange
                .keys
                .iter()
                .zip(&exchange.names)
                .map(|(k, n)| format!("{n}@{k}"))
                .collect();
            format!("by key hash({})", keys.join(", "))
        }
        Route::Single => "no key".to_string(),
    };
    let to = match exchange.parallelism() {
        Parallelism::AllWorkers => "all workers",
        Parallelism::One => "one worker",
    };
    writeln!(out, "  exchange{what} {route} -> {to}")
}

/// Writes what `write` writes with every line indented by `prefix` more.
fn indented(
    out: &mut String,
    prefix: &str,
    write: impl FnOnce(&mut String) -> fmt::Result,
) -> fmt::Result {
    let mut text = String::new();
    write(&mut text)?;
    for line in text.lines() {
        writeln!(out, "{prefix}{line}")?;
    }
    Ok(())
}
