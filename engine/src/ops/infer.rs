//! The `infer` operator: runs a model on the records of each container as one batch and
//! appends the chosen outputs, in place, with no exchange (it is stateless, so every
//! worker shares the process's loaded model and the output does not depend on placement).

use std::sync::Arc;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use std::sync::atomic::Ordering;

use super::sink::ErrorRoute;
use crate::io::BadRecord;
use crate::ml::{ElemType, Infer};
use crate::plan::error_record;
use crate::plan::LogicalPlan;
use crate::value::Value;
use crate::worker::WorkerContext;

/// The `on error to` sink of pipeline `name`, if it has one.
fn error_route(plan: &LogicalPlan, name: &str, ctx: &WorkerContext) -> Option<ErrorRoute> {
    let sink = plan
        .pipelines
        .iter()
        .find(|p| p.name == name)?
        .error_to
        .as_ref()?;
    let at = plan.sinks.iter().position(|s| &s.name == sink)?;
    Some((
        at,
        Arc::clone(ctx.sinks.get(sink, &crate::plan::error_schema())?),
    ))
}

/// An `infer` stage with its model opened.
pub struct InferStage {
    model: Arc<dyn Infer>,
    model_name: String,
    /// Slots fed to the model, in declared-input order.
    inputs: Vec<usize>,
    /// Indices of the declared outputs appended, with the element type of each.
    outputs: Vec<(usize, ElemType)>,
    /// How many outputs the model returns (all declared ones).
    declared_outputs: usize,
    name: String,
    /// The pipeline's name and its `on error to` sink, for records the model fails on.
    pipeline: String,
    route: Option<ErrorRoute>,
}

impl InferStage {
    /// Resolves a plan's `infer` stage against the models opened for the run; `None` (and
    /// the run failed) if the model is missing.
    pub fn resolve(
        plan: &LogicalPlan,
        model: &str,
        inputs: &[usize],
        outputs: &[usize],
        pipeline: &str,
        ctx: &WorkerContext,
    ) -> Option<InferStage> {
        let (Some(opened), Some(node)) = (ctx.models.get(model), plan.model(model)) else {
            ctx.fail(format!(
                "pipeline `{pipeline}`: model `{model}` is not open"
            ));
            return None;
        };
        let outputs = outputs
            .iter()
            .filter_map(|&j| node.outputs.get(j).map(|(_, t)| (j, *t)))
            .collect();
        Some(InferStage {
            model: Arc::clone(opened),
            model_name: model.to_string(),
            inputs: inputs.to_vec(),
            outputs,
            declared_outputs: node.outputs.len(),
            name: format!("Infer({pipeline}, {model})"),
            pipeline: pipeline.to_string(),
            route: error_route(plan, pipeline, ctx),
        })
    }

    /// Appends the chosen outputs to every record of `records`: one model call for all
    /// records whose inputs are all present; records with a null input get nulls. If the
    /// batch call fails, each record is run alone, so one record the model cannot score
    /// does not fail the others: those are returned, as (index, reason), with no outputs
    /// appended. A model returning the wrong shape is an error of the whole stage.
    pub fn apply(&self, records: &mut [&mut Vec<Value>]) -> Result<Vec<(usize, String)>, String> {
        let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(records.len()); self.inputs.len()];
        let mut complete = Vec::with_capacity(records.len());
        for record in records.iter() {
            let values: Option<Vec<f64>> = self
                .inputs
                .iter()
                .map(|&slot| record.get(slot).and_then(Value::as_f64))
                .collect();
            match values {
                Some(values) => {
                    for (column, v) in columns.iter_mut().zip(values) {
                        column.push(v);
                    }
                    complete.push(true);
                }
                None => complete.push(false),
            }
        }
        let rows = columns.first().map_or(0, Vec::len);
        let results: Vec<Result<Vec<f64>, String>> = if rows > 0 || self.inputs.is_empty() {
            match self.model.infer(rows, &columns) {
                Ok(results) => self.checked(results, rows).map(|r| transpose(&r, rows))?,
                Err(_) if rows > 1 => (0..rows)
                    .map(|r| self.one_row(&columns, r))
                    .collect::<Result<_, _>>()?,
                Err(e) => vec![Err(format!("model `{}`: {e}", self.model_name))],
            }
        } else {
            Vec::new()
        };
        let mut failed = Vec::new();
        let mut row = 0;
        for (i, (record, complete)) in records.iter_mut().zip(complete).enumerate() {
            let outputs = if complete {
                row += 1;
                match &results[row - 1] {
                    Ok(out) => Some(out),
                    Err(reason) => {
                        failed.push((i, reason.clone()));
                        continue;
                    }
                }
            } else {
                None
            };
            for &(j, elem) in &self.outputs {
                record.push(match outputs {
                    Some(out) => match elem {
                        ElemType::I64 => Value::Int(out[j] as i64),
                        ElemType::F32 | ElemType::F64 => Value::Float(out[j]),
                    },
                    None => Value::Null,
                });
            }
        }
        Ok(failed)
    }

    /// The model's outputs if they have the declared shape.
    fn checked(&self, results: Vec<Vec<f64>>, rows: usize) -> Result<Vec<Vec<f64>>, String> {
        if results.len() != self.declared_outputs || results.iter().any(|c| c.len() != rows) {
            return Err(format!(
                "model `{}` returned {} outputs for {rows} rows, expected {} of {rows} values",
                self.model_name,
                results.len(),
                self.declared_outputs
            ));
        }
        Ok(results)
    }

    /// Row `r` run alone: its outputs, or why the model failed on it (the outer error:
    /// a wrong shape).
    fn one_row(&self, columns: &[Vec<f64>], r: usize) -> Result<Result<Vec<f64>, String>, String> {
        let single: Vec<Vec<f64>> = columns.iter().map(|c| vec![c[r]]).collect();
        Ok(match self.model.infer(1, &single) {
            Ok(out) => Ok(self.checked(out, 1)?.into_iter().map(|c| c[0]).collect()),
            Err(e) => Err(format!("model `{}`: {e}", self.model_name)),
        })
    }
}

/// Per-row outputs from per-output columns.
fn transpose(columns: &[Vec<f64>], rows: usize) -> Vec<Result<Vec<f64>, String>> {
    (0..rows)
        .map(|r| Ok(columns.iter().map(|c| c[r]).collect()))
        .collect()
}

/// Sends the records the model failed on to the pipeline's `on error to` sink (or, without
/// one, to the run's bad-record handler), with the model's reason; they go no further.
fn route_failures(
    stage: &InferStage,
    failed: Vec<(usize, String)>,
    container: &mut Vec<crate::event::Event>,
    ctx: &WorkerContext,
) {
    let mut bad = Vec::with_capacity(failed.len());
    for (i, reason) in failed.iter().rev() {
        let event = container.remove(*i);
        bad.push(BadRecord {
            source: stage.pipeline.clone(),
            location: stage.name.clone(),
            field: None,
            reason: reason.clone(),
            raw: format!("{:?}", event.record),
        });
    }
    bad.reverse();
    let Some((index, writer)) = &stage.route else {
        bad.iter().for_each(|b| (ctx.on_bad_record)(b));
        return;
    };
    let now = ctx.clock.now();
    let events: Vec<crate::event::Event> = bad
        .iter()
        .map(|b| crate::event::Event::new(now, error_record(b)))
        .collect();
    match writer.write(&events) {
        Ok(()) => {
            ctx.metrics.sink_records[*index].fetch_add(events.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            ctx.fail(format!("{}: writing to the error route: {e}", stage.name));
        }
    }
}

/// Runs `stage`'s model on every container of `stream`.
pub fn build<'scope>(
    stream: EventStream<'scope>,
    stage: InferStage,
    ctx: Arc<WorkerContext>,
) -> EventStream<'scope> {
    let name = stage.name.clone();
    stream.unary(Pipeline, &name, move |_cap, _info| {
        let mut failed = false;
        move |input, output| {
            input.for_each_stamp(|cap, containers| {
                let mut session = output.session(&cap);
                for container in containers {
                    if failed {
                        container.clear();
                        continue;
                    }
                    let mut records: Vec<&mut Vec<Value>> =
                        container.iter_mut().map(|e| &mut e.record).collect();
                    match stage.apply(&mut records) {
                        Ok(rejected) if rejected.is_empty() => {}
                        Ok(rejected) => route_failures(&stage, rejected, container, &ctx),
                        Err(e) => {
                            failed = true;
                            ctx.fail(format!("{}: {e}", stage.name));
                            container.clear();
                            continue;
                        }
                    }
                    session.give_container(container);
                }
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::InferError;

    /// y = 2a + b, z = a·b: enough to see batching, order and nulls.
    struct Affine;

    impl Infer for Affine {
        fn infer(&self, rows: usize, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, InferError> {
            assert_eq!(inputs.len(), 2);
            let y = (0..rows)
                .map(|r| 2.0 * inputs[0][r] + inputs[1][r])
                .collect();
            let z = (0..rows).map(|r| inputs[0][r] * inputs[1][r]).collect();
            Ok(vec![y, z])
        }
    }

    fn stage(outputs: Vec<(usize, ElemType)>) -> InferStage {
        InferStage {
            model: Arc::new(Affine),
            model_name: "m".into(),
            inputs: vec![1, 0],
            outputs,
            declared_outputs: 2,
            name: "Infer(p, m)".into(),
            pipeline: "p".into(),
            route: None,
        }
    }

    #[test]
    fn appends_outputs_in_order_and_nulls_for_missing_inputs() {
        let s = stage(vec![(1, ElemType::F64), (0, ElemType::I64)]);
        let mut a = vec![Value::Float(3.0), Value::Int(2)];
        let mut b = vec![Value::Null, Value::Int(5)];
        let mut c = vec![Value::Float(0.5), Value::Int(-1)];
        assert!(s.apply(&mut [&mut a, &mut b, &mut c]).unwrap().is_empty());
        // inputs are (slot 1, slot 0): a = 2, b = 3 → y = 7, z = 6
        assert_eq!(a[2..], [Value::Float(6.0), Value::Int(7)]);
        assert_eq!(b[2..], [Value::Null, Value::Null]);
        // a = -1, b = 0.5 → y = -1.5 → -1 as i64, z = -0.5
        assert_eq!(c[2..], [Value::Float(-0.5), Value::Int(-1)]);
    }

    struct Broken;

    impl Infer for Broken {
        fn infer(&self, _: usize, _: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, InferError> {
            Ok(vec![vec![1.0]])
        }
    }

    #[test]
    fn a_model_returning_the_wrong_shape_is_an_error() {
        let mut s = stage(vec![(0, ElemType::F64)]);
        s.model = Arc::new(Broken);
        let mut a = vec![Value::Float(1.0), Value::Float(2.0)];
        let mut b = vec![Value::Float(1.0), Value::Float(2.0)];
        let e = s.apply(&mut [&mut a, &mut b]).unwrap_err();
        assert!(e.contains("returned 1 outputs for 2 rows"), "{e}");
    }

    /// Fails on any batch holding a negative first input, like a model rejecting a value.
    struct Picky;

    impl Infer for Picky {
        fn infer(&self, rows: usize, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, InferError> {
            if inputs[0].iter().any(|&a| a < 0.0) {
                return Err(InferError("input out of range".into()));
            }
            Affine.infer(rows, inputs)
        }
    }

    #[test]
    fn a_record_the_model_fails_on_is_returned_and_the_others_scored() {
        let mut s = stage(vec![(0, ElemType::F64)]);
        s.model = Arc::new(Picky);
        let mut a = vec![Value::Float(1.0), Value::Int(2)];
        let mut b = vec![Value::Float(1.0), Value::Int(-3)];
        let mut c = vec![Value::Float(4.0), Value::Int(5)];
        let failed = s.apply(&mut [&mut a, &mut b, &mut c]).unwrap();
        assert_eq!(
            failed,
            vec![(1, "model `m`: input out of range".to_string())]
        );
        // a: 2·2 + 1 = 5; c: 2·5 + 4 = 14; b gets nothing (it leaves the stream).
        assert_eq!(a[2..], [Value::Float(5.0)]);
        assert_eq!(b.len(), 2);
        assert_eq!(c[2..], [Value::Float(14.0)]);
    }
}
