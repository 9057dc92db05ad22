//! Model inference for the `infer` stage: the signature of a model (what `weir check`
//! compares a `model` declaration against) and the [`Infer`] trait the runtime implements
//! (ONNX through tract, behind its `onnx` feature). The engine never loads a model file.

use serde::{Deserialize, Serialize};

/// Element type of a model input or output tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ElemType {
    /// 32-bit float (ONNX `FLOAT`).
    F32,
    /// 64-bit float (ONNX `DOUBLE`).
    F64,
    /// 64-bit integer (ONNX `INT64`).
    I64,
}

impl ElemType {
    /// The name used in a `model` declaration (`f32`, `f64`, `i64`).
    pub fn name(self) -> &'static str {
        match self {
            ElemType::F32 => "f32",
            ElemType::F64 => "f64",
            ElemType::I64 => "i64",
        }
    }

    /// The element type called `name` in a `model` declaration.
    pub fn from_name(name: &str) -> Option<ElemType> {
        match name {
            "f32" => Some(ElemType::F32),
            "f64" => Some(ElemType::F64),
            "i64" => Some(ElemType::I64),
            _ => None,
        }
    }
}

impl std::fmt::Display for ElemType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One input or output of a model file, as the model itself describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Its name in the model graph.
    pub name: String,
    /// Element type, `None` when the model uses one Weir does not support (named in
    /// `elem_text`).
    pub elem: Option<ElemType>,
    /// The element type as the model names it (`f32`, `u8`, `String`, …).
    pub elem_text: String,
    /// Dimensions: `Some(n)` fixed, `None` symbolic (a batch dimension); `None` for the
    /// whole shape when the model does not say.
    pub shape: Option<Vec<Option<usize>>>,
}

impl TensorSpec {
    /// Whether one record fits this tensor as one value: a shape of `[]`, `[N]`,
    /// `[N, 1]`, `[1, 1]`, … (at most one dimension other than 1, and that one the batch
    /// in front). An unknown shape is accepted (the model is trusted).
    pub fn holds_one_value_per_row(&self) -> bool {
        let Some(shape) = &self.shape else {
            return true;
        };
        shape
            .iter()
            .enumerate()
            .all(|(i, d)| *d == Some(1) || (i == 0 && d.is_none()))
    }

    /// Whether rows can be stacked along the first dimension (it is symbolic).
    pub fn batches(&self) -> bool {
        matches!(&self.shape, Some(s) if s.first().is_some_and(Option::is_none))
    }

    /// The shape as text: `[N, 1]`, `[?]` when unknown.
    pub fn shape_text(&self) -> String {
        match &self.shape {
            None => "[?]".to_string(),
            Some(dims) => {
                let dims: Vec<String> = dims
                    .iter()
                    .map(|d| d.map_or_else(|| "N".to_string(), |n| n.to_string()))
                    .collect();
                format!("[{}]", dims.join(", "))
            }
        }
    }
}

/// What a model file takes and gives.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSignature {
    /// The graph's inputs, in graph order.
    pub inputs: Vec<TensorSpec>,
    /// The graph's outputs, in graph order.
    pub outputs: Vec<TensorSpec>,
}

/// A loaded model, shared by all workers of a process: runs one batch of rows.
pub trait Infer: Send + Sync {
    /// Runs the model on `rows` rows. `inputs[i][r]` is the value of declared input `i`
    /// for row `r`; the result has, for every declared output `j`, `rows` values
    /// (`result[j][r]`). Integers travel as `f64` (exact up to 2^53).
    fn infer(&self, rows: usize, inputs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, InferError>;
}

/// A model that failed while running.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InferError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(shape: Option<Vec<Option<usize>>>) -> TensorSpec {
        TensorSpec {
            name: "x".into(),
            elem: Some(ElemType::F32),
            elem_text: "f32".into(),
            shape,
        }
    }

    #[test]
    fn one_value_per_row_shapes() {
        assert!(spec(Some(vec![None, Some(1)])).holds_one_value_per_row());
        assert!(spec(Some(vec![None])).holds_one_value_per_row());
        assert!(spec(Some(vec![Some(1), Some(1)])).holds_one_value_per_row());
        assert!(spec(Some(vec![])).holds_one_value_per_row());
        assert!(spec(None).holds_one_value_per_row());
        assert!(!spec(Some(vec![None, Some(3)])).holds_one_value_per_row());
        assert!(!spec(Some(vec![Some(1), None])).holds_one_value_per_row());
        assert!(spec(Some(vec![None, Some(1)])).batches());
        assert!(!spec(Some(vec![Some(1), Some(1)])).batches());
        assert_eq!(spec(Some(vec![None, Some(1)])).shape_text(), "[N, 1]");
    }
}
