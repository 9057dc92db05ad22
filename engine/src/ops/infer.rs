//! The `infer` operator: runs a model on the records of each container as one batch and
//! appends the chosen outputs, in place, with no exchange (it is stateless, so every
//! worker shares the process's loaded model and the output does not depend on placement).

use std::sync::Arc;

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use crate::ml::{ElemType, Infer};
use crate::plan::LogicalPlan;
use crate::value::Value;
use crate::worker::WorkerContext;

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
        })
    }

    /// Appends the chosen outputs to every record of `records`: one model call for all
    /// records whose inputs are all present; records with a null input get nulls.
    pub fn apply(&self, records: &mut [&mut Vec<Value>]) -> Result<(), String> {
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
        let results = if rows > 0 || self.inputs.is_empty() {
            let results = self
                .model
                .infer(rows, &columns)
                .map_err(|e| format!("model `{}`: {e}", self.model_name))?;
            if results.len() != self.declared_outputs || results.iter().any(|c| c.len() != rows) {
                return Err(format!(
                    "model `{}` returned {} outputs for {rows} rows, expected {} of {rows} values",
                    self.model_name,
                    results.len(),
                    self.declared_outputs
                ));
            }
            results
        } else {
            Vec::new()
        };
        let mut row = 0;
        for (record, complete) in records.iter_mut().zip(complete) {
            for &(j, elem) in &self.outputs {
                let value = if complete {
                    let x = results[j][row];
                    match elem {
                        ElemType::I64 => Value::Int(x as i64),
                        ElemType::F32 | ElemType::F64 => Value::Float(x),
                    }
                } else {
                    Value::Null
                };
                record.push(value);
            }
            if complete {
                row += 1;
            }
        }
        Ok(())
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
                    if let Err(e) = stage.apply(&mut records) {
                        failed = true;
                        ctx.fail(format!("{}: {e}", stage.name));
                        container.clear();
                        continue;
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
        }
    }

    #[test]
    fn appends_outputs_in_order_and_nulls_for_missing_inputs() {
        let s = stage(vec![(1, ElemType::F64), (0, ElemType::I64)]);
        let mut a = vec![Value::Float(3.0), Value::Int(2)];
        let mut b = vec![Value::Null, Value::Int(5)];
        let mut c = vec![Value::Float(0.5), Value::Int(-1)];
        s.apply(&mut [&mut a, &mut b, &mut c]).unwrap();
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
}
