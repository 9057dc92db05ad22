//! The stable text form of a logical plan, printed by `weir explain` and pinned by tests.

use std::fmt::{self, Write};

use super::expr::{Aggregate, Expr, UnaryOp};
use super::logical::{
    ConnectorCall, LogicalPlan, LookupMiss, OptionValue, OverloadPolicy, PipelineInput, Stage,
    TableRefresh,
};
use crate::time::format_duration;
use crate::value::Value;

impl LogicalPlan {
    /// Renders the plan as indented text, one node per line.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_explain(&mut out);
        out
    }

    fn write_explain(&self, out: &mut String) -> fmt::Result {
        if let Some(checkpoint) = &self.checkpoint {
            writeln!(
                out,
                "checkpoint every {} to {:?}",
                format_duration(checkpoint.every_ms),
                checkpoint.dir
            )?;
        }
        for source in &self.sources {
            writeln!(
                out,
                "source {} = {}",
                source.name,
                ConnectorDisplay(&source.connector)
            )?;
            writeln!(out, "  schema {}", source.schema)?;
            match source.event_time {
                Some(slot) => {
                    let wm = &source.watermark;
                    write!(
                        out,
                        "  event_time {} (slot {slot}), watermark bounded {}",
                        source.schema.fields[slot].name,
                        format_duration(wm.bounded_ms)
                    )?;
                    if let Some(idle) = wm.idle_ms {
                        write!(out, ", idle {}", format_duration(idle))?;
                    }
                    if wm.per_key {
                        write!(out, ", per key")?;
                    }
                    if let Some(ahead) = wm.max_future_ms {
                        write!(out, ", max_future {}", format_duration(ahead))?;
                    }
                    writeln!(out)?;
                }
                None => writeln!(out, "  processing time")?,
            }
            if source.overload == OverloadPolicy::Drop {
                writeln!(out, "  on overload drop")?;
            }
        }
        for sink in &self.sinks {
            writeln!(
                out,
                "sink {} = {}",
                sink.name,
                ConnectorDisplay(&sink.connector)
            )?;
        }
        for table in &self.tables {
            writeln!(
                out,
                "table {} = {}",
                table.name,
                ConnectorDisplay(&table.connector)
            )?;
            let refresh = match table.refresh {
                TableRefresh::Never => "never".to_string(),
                TableRefresh::OnChange => "on change".to_string(),
                TableRefresh::Every(ms) => format!("every {}", format_duration(ms)),
            };
            writeln!(
                out,
                "  schema {}, key {} (slot {}), refresh {refresh}",
                table.schema, table.schema.fields[table.key].name, table.key
            )?;
        }
        for model in &self.models {
            let sig = |fields: &[(String, crate::ml::ElemType)]| {
                fields
                    .iter()
                    .map(|(n, t)| format!("{n}: {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            writeln!(
                out,
                "model {} = {}({:?}) inputs {{{}}} outputs {{{}}}",
                model.name,
                model.format,
                model.path,
                sig(&model.inputs),
                sig(&model.outputs)
            )?;
        }
        for pipeline in &self.pipelines {
            let input = match &pipeline.input {
                PipelineInput::Source(s) => format!("source {s}"),
                PipelineInput::Pipeline(p) => format!("pipeline {p}"),
            };
            writeln!(out, "pipeline {}", pipeline.name)?;
            writeln!(out, "  from {input} {}", pipeline.input_schema)?;
            if let Some(sink) = &pipeline.error_to {
                writeln!(out, "  on error to sink {sink}")?;
            }
            for stage in &pipeline.stages {
                write_stage(out, stage)?;
            }
        }
        Ok(())
    }
}

pub(super) fn write_stage(out: &mut String, stage: &Stage) -> fmt::Result {
    match stage {
        Stage::Filter { predicate } => writeln!(out, "  filter {}", ExprDisplay(predicate)),
        Stage::Map {
            assignments,
            schema,
        } => {
            let parts: Vec<String> = assignments
                .iter()
                .map(|(slot, e)| {
                    format!("{}@{slot} = {}", schema.fields[*slot].name, ExprDisplay(e))
                })
                .collect();
            writeln!(out, "  map {} -> {schema}", parts.join(", "))
        }
        Stage::Select { exprs, schema } => {
            let parts: Vec<String> = exprs
                .iter()
                .zip(&schema.fields)
                .map(|(e, f)| format!("{} = {}", f.name, ExprDisplay(e)))
                .collect();
            writeln!(out, "  select {} -> {schema}", parts.join(", "))
        }
        Stage::KeyBy { keys, names } => {
            let parts: Vec<String> = keys
                .iter()
                .zip(names)
                .map(|(k, n)| format!("{n}@{k}"))
                .collect();
            writeln!(out, "  key by {} (exchange by key hash)", parts.join(", "))
        }
        Stage::Dedupe {
            keys,
            names,
            within_ms,
        } => {
            let parts: Vec<String> = keys
                .iter()
                .zip(names)
                .map(|(k, n)| format!("{n}@{k}"))
                .collect();
            writeln!(
                out,
                "  dedupe by {} within {} in event-time order (exchange by key hash)",
                parts.join(", "),
                format_duration(*within_ms)
            )
        }
        Stage::Window {
            keys,
            window,
            aggregates,
            schema,
        } => {
            if window.processing_time {
                writeln!(
                    out,
                    "  window {} on processing time per key {keys:?}",
                    window.kind
                )?;
                writeln!(out, "    fires when the run's clock passes each window's end")?;
                let aggs: Vec<String> = aggregates.iter().map(agg_text).collect();
                writeln!(out, "    aggregate {}", aggs.join(", "))?;
                return writeln!(out, "    -> {schema}");
            }
            writeln!(out, "  window {} per key {keys:?}", window.kind)?;
            writeln!(out, "    trigger {}", window.trigger)?;
            write!(
                out,
                "    allow late {}, {}, timestamp {}",
                format_duration(window.allowed_lateness_ms),
                window.accumulation.keyword(),
                window.timestamp.keyword()
            )?;
            match &window.late_to {
                Some(sink) => writeln!(out, ", late to sink {sink}")?,
                None => writeln!(out, ", late elements dropped and counted")?,
            }
            let aggs: Vec<String> = aggregates.iter().map(agg_text).collect();
            writeln!(out, "    aggregate {}", aggs.join(", "))?;
            writeln!(out, "    -> {schema}")
        }
        Stage::Detect {
            keys,
            field,
            detector,
            warmup,
            name,
            schema,
        } => {
            writeln!(
                out,
                "  detect anomaly in {}@{field} using {} warmup {warmup} events as {name} per key {keys:?} (exchange by key hash)",
                schema.fields.get(*field).map_or("?", |f| f.name.as_str()),
                detector.describe()
            )?;
            writeln!(out, "    -> {schema}")
        }
        Stage::Forecast {
            keys,
            field,
            params,
            name,
            schema,
        } => {
            writeln!(
                out,
                "  forecast {}@{field} horizon {} every {} using {}(season: {}, alpha: {}, beta: {}, gamma: {}, confidence: {}{}) as {name} per key {keys:?} (exchange by key hash)",
                schema.fields.get(*field).map_or("?", |f| f.name.as_str()),
                format_duration(params.horizon_ms),
                format_duration(params.every_ms),
                params.model(),
                format_duration(params.season_ms),
                params.alpha,
                params.beta,
                params.gamma,
                params.confidence,
                if params.damping < 1.0 {
                    format!(", damping: {}", params.damping)
                } else {
                    String::new()
                }
            )?;
            writeln!(out, "    -> {schema}")
        }
        Stage::Alert { spec, schema } => {
            writeln!(out, "  {} (exchange by key hash)", crate::alert::describe(spec))?;
            writeln!(out, "    -> {schema}")
        }
        Stage::AlertGroup { spec, schema } => {
            writeln!(
                out,
                "  {} (exchange by group hash)",
                crate::alert::describe_group(spec)
            )?;
            writeln!(out, "    -> {schema}")
        }
        Stage::Infer {
            model,
            inputs,
            outputs,
            schema,
        } => writeln!(
            out,
            "  infer model {model} with slots {inputs:?} -> outputs {outputs:?} (batch per container) -> {schema}"
        ),
        Stage::Sink { sink } => writeln!(out, "  to sink {sink}"),
        Stage::Unnest { spec, schema } => {
            let named = |slot: usize| {
                let name = schema.fields.get(slot).map_or("?", |f| f.name.as_str());
                format!("{name}@{slot}")
            };
            write!(out, "  unnest list@{} as {}", spec.list, named(spec.list))?;
            if !spec.companions.is_empty() {
                let parts: Vec<String> = spec.companions.iter().map(|&c| named(c)).collect();
                write!(out, " with {}", parts.join(", "))?;
            }
            if spec.ordinality.is_some() {
                write!(out, ", ordinality {}", named(schema.len() - 1))?;
            }
            writeln!(out, " (a record per element, none for an empty list)")?;
            writeln!(out, "    -> {schema}")
        }
        Stage::Lookup {
            table,
            key,
            on_miss,
            schema,
        } => {
            let miss = match on_miss {
                LookupMiss::KeepNull => "keep null".to_string(),
                LookupMiss::Drop => "drop".to_string(),
                LookupMiss::ToSink(sink) => format!("to sink {sink}"),
            };
            writeln!(
                out,
                "  lookup table {table} on slot {key}, on miss {miss} -> {schema}"
            )
        }
        Stage::Join { join, schema } => {
            let right = match &join.right {
                PipelineInput::Source(s) => format!("source {s}"),
                PipelineInput::Pipeline(p) => format!("pipeline {p}"),
            };
            writeln!(
                out,
                "  join {right} as {} on slots {:?} = {:?}, {} (exchange both by key hash)",
                join.name, join.left_keys, join.right_keys, join.mode
            )?;
            writeln!(out, "    -> {schema}")
        }
    }
}

fn agg_text(agg: &Aggregate) -> String {
    match &agg.arg {
        Some(arg) => match agg.func.ranked() {
            Some(n) => format!(
                "{} = {}({}, {n})",
                agg.name,
                agg.func.name(),
                ExprDisplay(arg)
            ),
            None => format!("{} = {}({})", agg.name, agg.func.name(), ExprDisplay(arg)),
        },
        None => format!("{} = {}()", agg.name, agg.func.name()),
    }
}

struct ConnectorDisplay<'a>(&'a ConnectorCall);

impl fmt::Display for ConnectorDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let call = self.0;
        write!(f, "{}(", call.kind)?;
        let mut first = true;
        for arg in &call.args {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{arg}")?;
        }
        for (name, value) in &call.options {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{name}: {value}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Str(s) => write!(f, "{s:?}"),
            OptionValue::Int(i) => write!(f, "{i}"),
            OptionValue::Float(x) => write!(f, "{x:?}"),
            OptionValue::Bool(b) => write!(f, "{b}"),
            OptionValue::Duration(d) => f.write_str(&format_duration(*d)),
            OptionValue::Ident(s) => f.write_str(s),
            OptionValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            OptionValue::Call { func, args } => {
                write!(f, "{func}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Displays an expression fully parenthesised, with slots: `(temp@2 > 50.0)`.
pub struct ExprDisplay<'a>(pub &'a Expr);

impl fmt::Display for ExprDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Expr::Literal(Value::Str(s)) => write!(f, "{s:?}"),
            Expr::Literal(v) => write!(f, "{v}"),
            Expr::Field { slot, name } => write!(f, "{name}@{slot}"),
            Expr::Unary(UnaryOp::Neg, e) => write!(f, "(-{})", ExprDisplay(e)),
            Expr::Unary(UnaryOp::Not, e) => write!(f, "(not {})", ExprDisplay(e)),
            Expr::Binary(op, l, r) => {
                write!(f, "({} {} {})", ExprDisplay(l), op.symbol(), ExprDisplay(r))
            }
            Expr::Between(x, lo, hi) => {
                write!(
                    f,
                    "({} between {} and {})",
                    ExprDisplay(x),
                    ExprDisplay(lo),
                    ExprDisplay(hi)
                )
            }
            Expr::In(x, list) => {
                write!(f, "({} in [", ExprDisplay(x))?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", ExprDisplay(item))?;
                }
                f.write_str("])")
            }
            Expr::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", ExprDisplay(arg))?;
                }
                f.write_str(")")
            }
            Expr::ToFloat(e) => write!(f, "f64({})", ExprDisplay(e)),
            Expr::Cond(branches, otherwise) => {
                f.write_str("(case")?;
                for (c, v) in branches {
                    write!(f, " when {} then {}", ExprDisplay(c), ExprDisplay(v))?;
                }
                write!(f, " else {} end)", ExprDisplay(otherwise))
            }
        }
    }
}
