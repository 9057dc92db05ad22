//! ONNX models on tract: the signature as the file declares it, and a loaded, optimised
//! plan that runs a batch of records per call (one call per record when the model's
//! first dimension is fixed).

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;
use weir_engine::io::IoError;
use weir_engine::ml::{ElemType, Infer, InferError, ModelSignature, TensorSpec};
use weir_engine::plan::ModelNode;

fn read(path: &Path) -> Result<TypedModel, String> {
    tract_onnx::onnx()
        .model_for_path(path)
        .and_then(|m| m.into_typed())
        .map_err(|e| format!("{e:#}"))
}

fn elem_of(dt: Option<DatumType>) -> (Option<ElemType>, String) {
    match dt {
        Some(DatumType::F32) => (Some(ElemType::F32), "f32".into()),
        Some(DatumType::F64) => (Some(ElemType::F64), "f64".into()),
        Some(DatumType::I64) => (Some(ElemType::I64), "i64".into()),
        Some(other) => (None, format!("{other:?}").to_lowercase()),
        None => (None, "an unknown type".into()),
    }
}

fn spec(name: String, fact: &TypedFact) -> TensorSpec {
    let (elem, elem_text) = elem_of(Some(fact.datum_type));
    let shape = fact
        .shape
        .iter()
        .map(|d| d.to_i64().ok().and_then(|n| usize::try_from(n).ok()))
        .collect();
    TensorSpec {
        name,
        elem,
        elem_text,
        shape: Some(shape),
    }
}

fn output_name(model: &TypedModel, outlet: OutletId) -> String {
    model
        .outlet_label(outlet)
        .map_or_else(|| model.node(outlet.node).name.clone(), str::to_string)
}

/// The signature of the typed model: tract infers the output types and shapes that the
/// file may leave open.
fn signature_of(model: &TypedModel) -> Result<ModelSignature, String> {
    let text = |e: TractError| format!("{e:#}");
    let mut signature = ModelSignature::default();
    for (i, outlet) in model.input_outlets().map_err(text)?.iter().enumerate() {
        let name = model.node(outlet.node).name.clone();
        signature
            .inputs
            .push(spec(name, model.input_fact(i).map_err(text)?));
    }
    for (i, outlet) in model.output_outlets().map_err(text)?.iter().enumerate() {
        let name = output_name(model, *outlet);
        signature
            .outputs
            .push(spec(name, model.output_fact(i).map_err(text)?));
    }
    Ok(signature)
}

/// The inputs and outputs the ONNX file at `path` declares.
pub fn signature(path: &Path) -> Result<ModelSignature, String> {
    signature_of(&read(path)?)
}

/// One graph input: which declared input feeds it, its element type and its shape with
/// the batch dimension (if any) first.
struct GraphInput {
    declared: usize,
    elem: ElemType,
    /// Dimensions; the first is replaced by the row count when `batches`.
    dims: Vec<usize>,
}

/// A loaded ONNX model.
pub struct OnnxModel {
    plan: Arc<TypedRunnableModel>,
    inputs: Vec<GraphInput>,
    /// For every declared output, its index among the graph outputs.
    outputs: Vec<usize>,
    /// Rows are stacked along the first dimension (it is symbolic in every input).
    batches: bool,
}

impl OnnxModel {
    /// Loads and optimises `node`'s model from `path`, checking it still fits the
    /// declaration (the file may have changed since `weir check`).
    pub fn load(node: &ModelNode, path: &Path) -> Result<OnnxModel, IoError> {
        let fail = |m: String| IoError::Config(format!("cannot load `{}`: {m}", path.display()));
        let model = read(path).map_err(fail)?;
        let signature = signature_of(&model).map_err(fail)?;
        let mut inputs = Vec::new();
        for tensor in &signature.inputs {
            let Some(declared) = node.inputs.iter().position(|(n, _)| *n == tensor.name) else {
                return Err(fail(format!(
                    "model input `{}` is not declared",
                    tensor.name
                )));
            };
            let elem = node.inputs[declared].1;
            if tensor.elem != Some(elem) || !tensor.holds_one_value_per_row() {
                return Err(fail(format!(
                    "model input `{}` is {} {}, declared {elem}",
                    tensor.name,
                    tensor.elem_text,
                    tensor.shape_text()
                )));
            }
            let dims = tensor
                .shape
                .as_ref()
                .map_or_else(|| vec![1], |s| s.iter().map(|d| d.unwrap_or(1)).collect());
            inputs.push(GraphInput {
                declared,
                elem,
                dims,
            });
        }
        let mut outputs = Vec::new();
        for (name, elem) in &node.outputs {
            let Some(k) = signature.outputs.iter().position(|t| &t.name == name) else {
                return Err(fail(format!("the model has no output `{name}`")));
            };
            if signature.outputs[k].elem != Some(*elem) {
                return Err(fail(format!(
                    "model output `{name}` is {}, declared {elem}",
                    signature.outputs[k].elem_text
                )));
            }
            outputs.push(k);
        }
        let batches =
            !signature.inputs.is_empty() && signature.inputs.iter().all(TensorSpec::batches);
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| fail(format!("{e:#}")))?;
        Ok(OnnxModel {
            plan,
            inputs,
            outputs,
            batches,
        })
    }

    /// Runs `rows` rows starting at `from` in one call.
    fn run(
        &self,
        from: usize,
        rows: usize,
        columns: &[Vec<f64>],
    ) -> Result<Vec<Vec<f64>>, InferError> {
        let err = |e: TractError| InferError(format!("{e:#}"));
        let mut tensors: TVec<TValue> = TVec::new();
        for input in &self.inputs {
            let mut dims = input.dims.clone();
            if let Some(first) = dims.first_mut() {
                *first = rows;
            }
            let values = columns
                .get(input.declared)
                .map(|c| &c[from..from + rows])
                .ok_or_else(|| InferError("an input column is missing".into()))?;
            let tensor = match input.elem {
                ElemType::F32 => {
                    let data: Vec<f32> = values.iter().map(|&v| v as f32).collect();
                    Tensor::from_shape(&dims, &data)
                }
                ElemType::F64 => Tensor::from_shape(&dims, values),
                ElemType::I64 => {
                    let data: Vec<i64> = values.iter().map(|&v| v as i64).collect();
                    Tensor::from_shape(&dims, &data)
                }
            }
            .map_err(err)?;
            tensors.push(tensor.into_tvalue());
        }
        let results = self.plan.run(tensors).map_err(err)?;
        let mut out = Vec::with_capacity(self.outputs.len());
        for &k in &self.outputs {
            let tensor = results
                .get(k)
                .ok_or_else(|| InferError(format!("the model returned no output {k}")))?;
            let values: Vec<f64> = match tensor.datum_type() {
                DatumType::F32 => tensor
                    .to_plain_array_view::<f32>()
                    .map_err(err)?
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect(),
                DatumType::F64 => tensor
                    .to_plain_array_view::<f64>()
                    .map_err(err)?
                    .iter()
                    .copied()
                    .collect(),
                DatumType::I64 => tensor
                    .to_plain_array_view::<i64>()
                    .map_err(err)?
                    .iter()
                    .map(|&v| v as f64)
                    .collect(),
                other => {
                    return Err(InferError(format!("an output of type {other:?}")));
                }
            };
            if values.len() != rows {
                return Err(InferError(format!(
                    "an output has {} values for {rows} records",
                    values.len()
                )));
            }
            out.push(values);
        }
        Ok(out)
    }
}

impl Infer for OnnxModel {
    fn infer(&self, rows: usize, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, InferError> {
        if rows == 0 {
            return Ok(vec![Vec::new(); self.outputs.len()]);
        }
        if self.batches {
            return self.run(0, rows, inputs);
        }
        let mut out = vec![Vec::with_capacity(rows); self.outputs.len()];
        for r in 0..rows {
            for (column, values) in out.iter_mut().zip(self.run(r, 1, inputs)?) {
                column.extend(values);
            }
        }
        Ok(out)
    }
}
