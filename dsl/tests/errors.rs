//! Golden diagnostics: every `tests/errors/*.pipe` (at least one per code; the file name
//! starts with the code) gets that code as an error or warning, and its rendered output is
//! pinned by an insta snapshot (`tests/snapshots/errors__*.snap`), so any change to a
//! message, label or help shows as a diff.

use std::path::Path;

use weir_dsl::{
    ConnectorCatalog, ConnectorProblem, ModelLoadError, Role, Severity, SinkFieldIssue,
    SinkFieldProblem,
};
use weir_engine::ml::{ElemType, ModelSignature, TensorSpec};
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::{Schema, Type};

/// Knows the options of `sensors`, so the connector code (P0501) has a golden file too;
/// the runtime's real catalog is tested in runtime/tests/errors_doc.rs.
struct SensorsOptions;

impl ConnectorCatalog for SensorsOptions {
    fn check(
        &self,
        call: &ConnectorCall,
        _role: Role,
        _schema: Option<&Schema>,
    ) -> Vec<ConnectorProblem> {
        const KNOWN: [&str; 5] = ["devices", "rate", "duration", "seed", "jitter"];
        if call.kind != "sensors" {
            return Vec::new();
        }
        call.options
            .iter()
            .filter(|(name, _)| !KNOWN.contains(&name.as_str()))
            .map(|(name, _)| {
                (
                    Some(name.clone()),
                    format!("`sensors` has no option `{name}`"),
                    Some(format!("it has: {}", KNOWN.join(", "))),
                )
            })
            .collect()
    }

    /// As the runtime's catalog: `stdout()` writes JSON lines, which take any shape.
    fn writes_any_shape(&self, call: &ConnectorCall) -> bool {
        call.kind == "stdout" && call.option("format").is_none()
    }

    /// As the runtime's catalog: a broker's records may arrive out of order.
    fn may_arrive_out_of_order(&self, call: &ConnectorCall) -> bool {
        call.kind == "mqtt"
    }

    /// As the runtime's catalog: a broker subscription can drop on overload.
    fn may_drop_on_overload(&self, call: &ConnectorCall) -> bool {
        call.kind == "mqtt"
    }

    /// Parquet `partition_by` keys against the records (the real catalog's check lives in
    /// the runtime; this stand-in gives P0502 and P0503 their golden files).
    /// Also a `.csv` file sink receiving a list (P0235), as the runtime's catalog says.
    fn check_sink_fields(&self, call: &ConnectorCall, records: &Schema) -> Vec<SinkFieldProblem> {
        let csv = matches!(call.args.first(), Some(OptionValue::Str(p)) if p.ends_with(".csv"));
        if call.kind == "file" && csv {
            return records
                .fields
                .iter()
                .filter(|f| matches!(f.ty, Type::List(_)))
                .map(|f| SinkFieldProblem {
                    option: "format".into(),
                    issue: SinkFieldIssue::NoLists,
                    message: format!(
                        "a CSV sink cannot hold lists, and the records have `{}` ({})",
                        f.name, f.ty
                    ),
                    help: None,
                })
                .collect();
        }
        let Some(OptionValue::List(keys)) = call.option("partition_by") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for key in keys {
            let (field, function) = match key {
                OptionValue::Ident(f) => (f, None),
                OptionValue::Call { func, args } => match args.as_slice() {
                    [OptionValue::Ident(f)] => (f, Some(func)),
                    _ => continue,
                },
                _ => continue,
            };
            match (records.fields.iter().find(|f| &f.name == field), function) {
                (None, _) => out.push(SinkFieldProblem {
                    option: "partition_by".into(),
                    issue: SinkFieldIssue::Unknown,
                    message: format!("`partition_by` names `{field}`, which the records written here do not have"),
                    help: Some("did you mean `device_id`?".into()),
                }),
                (Some(f), Some(func)) if f.ty != Type::Timestamp => out.push(SinkFieldProblem {
                    option: "partition_by".into(),
                    issue: SinkFieldIssue::WrongType,
                    message: format!("`{func}({field})` needs a timestamp field, but `{field}` is {}", f.ty),
                    help: None,
                }),
                _ => {}
            }
        }
        out
    }

    /// `file("…")` uses the file its first argument names, as the runtime's catalog says.
    fn file_of(&self, call: &ConnectorCall, _role: Role) -> Option<String> {
        match (call.kind.as_str(), call.args.first()) {
            ("file", Some(OptionValue::Str(path))) => Some(path.clone()),
            _ => None,
        }
    }

    /// `power.onnx` is the signature of examples/models/power.onnx (as the runtime reads
    /// it); `needs-onnx-feature.onnx` answers as a build without ONNX support does.
    fn model_signature(
        &self,
        _format: &str,
        path: &str,
    ) -> Result<Option<ModelSignature>, ModelLoadError> {
        let tensor = |name: &str| TensorSpec {
            name: name.to_string(),
            elem: Some(ElemType::F32),
            elem_text: "f32".to_string(),
            shape: Some(vec![None, Some(1)]),
        };
        match path {
            "power.onnx" => Ok(Some(ModelSignature {
                inputs: vec![tensor("temp"), tensor("vibration")],
                outputs: vec![tensor("power"), tensor("fault")],
            })),
            "needs-onnx-feature.onnx" => Err(ModelLoadError::Unsupported {
                message: "this `weir` was built without ONNX support, so it cannot load models"
                    .to_string(),
                help: "rebuild with the `onnx` feature".to_string(),
            }),
            _ => Ok(None),
        }
    }
}

#[test]
fn every_error_file_renders_as_its_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/errors exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    files.sort();
    let mut covered: Vec<String> = Vec::new();
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let code = name[..5].to_uppercase();
        let text = std::fs::read_to_string(&path).expect("readable program");
        let file = format!("{name}.pipe");
        let diags = match weir_dsl::compile_with(&file, &text, &SensorsOptions) {
            Ok(c) => c.warnings,
            Err(d) => d,
        };
        let shown = weir_dsl::render(&diags, &file, &text, false);
        assert!(
            diags
                .iter()
                .any(|d| d.code == code && d.severity != Severity::Note),
            "{file} does not get {code}:\n{shown}"
        );
        insta::assert_snapshot!(name, shown);
        covered.push(code);
    }
    let codes = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/codes.rs"))
        .expect("codes.rs");
    for code in codes
        .lines()
        .filter(|l| l.starts_with("pub const "))
        .filter_map(|l| l.split('"').nth(1))
    {
        assert!(
            covered.iter().any(|c| c == code),
            "no golden file in tests/errors/ for {code}"
        );
    }
}
