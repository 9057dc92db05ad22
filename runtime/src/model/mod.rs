//! Models for the `infer` stage: reading a model file's signature for `weir check`, and
//! loading it for a run. ONNX models run on tract, in pure Rust, behind the cargo feature
//! `onnx` (tract is heavy); without it, both say how to get it.

#[cfg(feature = "onnx")]
mod onnx;

use std::path::Path;
use std::sync::Arc;

use weir_dsl::ModelLoadError;
use weir_engine::io::IoError;
use weir_engine::ml::{Infer, ModelSignature};
use weir_engine::plan::ModelNode;

/// The model formats this build knows.
pub const FORMATS: [&str; 1] = ["onnx"];

/// Whether this build can load ONNX models.
pub const ONNX_ENABLED: bool = cfg!(feature = "onnx");

/// What `weir` says when it was built without ONNX support.
#[cfg(not(feature = "onnx"))]
fn unsupported() -> ModelLoadError {
    ModelLoadError::Unsupported {
        message: "this `weir` was built without ONNX support, so it cannot load models".to_string(),
        help: "rebuild with the `onnx` feature: `cargo build --release --features onnx` \
               (or `cargo install --path runtime --features onnx`)"
            .to_string(),
    }
}

/// The inputs and outputs of the model file at `path` (`format` is `onnx`).
pub fn signature(format: &str, path: &Path) -> Result<ModelSignature, ModelLoadError> {
    if format != "onnx" {
        return Err(ModelLoadError::Failed {
            message: format!("unknown model format `{format}`"),
            help: Some("models are ONNX files: `onnx(\"model.onnx\")`".to_string()),
        });
    }
    if !path.exists() {
        return Err(ModelLoadError::Failed {
            message: format!("model file `{}` does not exist", path.display()),
            help: Some(
                "paths are relative to the directory `weir` runs in; check the spelling"
                    .to_string(),
            ),
        });
    }
    #[cfg(feature = "onnx")]
    {
        onnx::signature(path).map_err(|message| ModelLoadError::Failed {
            message: format!("cannot read model `{}`: {message}", path.display()),
            help: Some("the file must be an ONNX model (a .onnx file)".to_string()),
        })
    }
    #[cfg(not(feature = "onnx"))]
    {
        Err(unsupported())
    }
}

/// Loads `model` from `path` (already resolved) for a run.
pub fn load(model: &ModelNode, path: &Path) -> Result<Arc<dyn Infer>, IoError> {
    #[cfg(feature = "onnx")]
    {
        Ok(Arc::new(onnx::OnnxModel::load(model, path)?))
    }
    #[cfg(not(feature = "onnx"))]
    {
        let _ = path;
        let ModelLoadError::Unsupported { message, help } = unsupported() else {
            unreachable!("unsupported() is Unsupported");
        };
        Err(IoError::Config(format!(
            "model `{}`: {message}; {help}",
            model.name
        )))
    }
}
