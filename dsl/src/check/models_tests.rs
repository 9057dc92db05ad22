//! Checker and lowering tests of `model` and `infer`, with a catalog that knows one model
//! file's signature (the runtime's real one is tested in runtime/tests/onnx.rs).

use weir_engine::ml::{ElemType, ModelSignature, TensorSpec};
use weir_engine::plan::{ConnectorCall, Stage};
use weir_engine::schema::{Field, Schema, Type};

use crate::{
    compile_with, render, ConnectorCatalog, ConnectorProblem, Diagnostic, ModelLoadError, Role,
};

const BASE: &str = "\
source telemetry = sensors() {
  device_id: string
  temp:      f64
  vibration: f64?
  count:     i64
  ts:        timestamp
  event_time ts
}
model m = onnx(\"m.onnx\") {
  inputs  { a: f32, b: i64 }
  outputs { y: f32, class: i64 }
}
sink out = stdout()
";

/// `m.onnx`: inputs a: f32 [N, 1], b: i64 [N]; outputs y: f32 [N, 1], class: i64 [N],
/// wide: f32 [N, 4]. `wide.onnx`: one input x: f32 [N, 3].
struct Models;

fn tensor(name: &str, elem: ElemType, shape: Vec<Option<usize>>) -> TensorSpec {
    TensorSpec {
        name: name.into(),
        elem: Some(elem),
        elem_text: elem.name().into(),
        shape: Some(shape),
    }
}

impl ConnectorCatalog for Models {
    fn check(&self, _: &ConnectorCall, _: Role, _: Option<&Schema>) -> Vec<ConnectorProblem> {
        Vec::new()
    }

    fn model_signature(
        &self,
        _format: &str,
        path: &str,
    ) -> Result<Option<ModelSignature>, ModelLoadError> {
        match path {
            "m.onnx" => Ok(Some(ModelSignature {
                inputs: vec![
                    tensor("a", ElemType::F32, vec![None, Some(1)]),
                    tensor("b", ElemType::I64, vec![None]),
                ],
                outputs: vec![
                    tensor("y", ElemType::F32, vec![None, Some(1)]),
                    tensor("class", ElemType::I64, vec![None]),
                    tensor("wide", ElemType::F32, vec![None, Some(4)]),
                ],
            })),
            "wide.onnx" => Ok(Some(ModelSignature {
                inputs: vec![tensor("x", ElemType::F32, vec![None, Some(3)])],
                outputs: vec![tensor("y", ElemType::F32, vec![None, Some(1)])],
            })),
            "missing.onnx" => Err(ModelLoadError::Failed {
                message: "model file `missing.onnx` does not exist".into(),
                help: None,
            }),
            _ => Ok(None),
        }
    }
}

fn diagnostics(body: &str) -> (String, Vec<Diagnostic>) {
    let text = format!("{BASE}{body}\n");
    let diags = match compile_with("t.pipe", &text, &Models) {
        Ok(c) => c.warnings,
        Err(d) => d,
    };
    (text, diags)
}

#[track_caller]
fn expect_codes(body: &str, expected: &[(&str, &str)]) -> Vec<Diagnostic> {
    let (text, diags) = diagnostics(body);
    let shown = render(&diags, "t.pipe", &text, false);
    let got: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| (d.code, d.primary.span.text(&text)))
        .collect();
    assert_eq!(got, expected, "{shown}");
    diags
}

#[test]
fn infer_appends_the_chosen_outputs_typed_and_nullable_with_a_nullable_input() {
    let text = format!(
        "{BASE}pipeline p {{ from telemetry | infer m with {{temp, count}} -> {{class, y}} | to out }}\n"
    );
    let c = compile_with("t.pipe", &text, &Models).expect("compiles");
    let Stage::Infer {
        model,
        inputs,
        outputs,
        schema,
    } = &c.plan.pipelines[0].stages[0]
    else {
        panic!("an infer stage: {:?}", c.plan.pipelines[0].stages);
    };
    assert_eq!(model, "m");
    assert_eq!(inputs, &[1, 3]);
    assert_eq!(outputs, &[1, 0]);
    assert_eq!(
        schema.fields[5..],
        [Field::new("class", Type::Int), Field::new("y", Type::Float)]
    );
    assert_eq!(
        c.plan.models[0].inputs,
        [
            ("a".to_string(), ElemType::F32),
            ("b".to_string(), ElemType::I64)
        ]
    );
    assert_eq!(c.plan.models[0].path, "m.onnx");

    // A nullable field makes the outputs nullable (null when it is null).
    let text = format!(
        "{BASE}pipeline p {{ from telemetry | infer m with {{vibration, count}} -> {{y}} | where y > 1.0 | to out }}\n"
    );
    let c = compile_with("t.pipe", &text, &Models).expect("compiles");
    assert_eq!(
        c.plan.pipelines[0].output_schema().fields[5],
        Field::nullable("y", Type::Float)
    );
    assert!(c
        .plan
        .explain()
        .contains("infer model m with slots [2, 3] -> outputs [0]"));
}

#[test]
fn p0108_unknown_model() {
    let d = expect_codes(
        "pipeline p { from telemetry | infer mm with {temp, count} -> {y} | to out }",
        &[("P0108", "mm")],
    );
    assert_eq!(d[0].help.as_deref(), Some("did you mean `m`?"));
    expect_codes(
        "pipeline p { from telemetry | infer out with {temp, count} -> {y} | to out }",
        &[("P0108", "out")],
    );
}

#[test]
fn p0109_declarations_are_compared_with_the_file() {
    let d = expect_codes(
        "model n = onnx(\"m.onnx\") { inputs { a: f64, bb: i64 } outputs { y: f32, wide: f32 } }",
        &[
            ("P0109", "inputs"),
            ("P0109", "f64"),
            ("P0109", "bb"),
            ("P0109", "wide"),
        ],
    );
    assert_eq!(d[0].message, "model input `b` is not declared");
    assert_eq!(d[0].help.as_deref(), Some("add `b: i64` to `inputs`"));
    assert_eq!(d[1].message, "model input `a` is f32, not f64");
    assert_eq!(d[2].help.as_deref(), Some("did you mean `b`?"));
    assert!(
        d[3].message
            .contains("has shape [N, 4], not one value per record"),
        "{}",
        d[3].message
    );
    expect_codes(
        "model n = onnx(\"wide.onnx\") { inputs { x: f32 } outputs { y: f32 } }",
        &[("P0109", "x")],
    );
    let d = expect_codes(
        "model n = onnx(\"missing.onnx\") { inputs { x: f32 } outputs { y: f32 } }",
        &[("P0109", "onnx(\"missing.onnx\")")],
    );
    assert_eq!(d[0].message, "model file `missing.onnx` does not exist");
    expect_codes(
        "model n = tflite(\"m.tflite\") { inputs { x: f32 } outputs { y: f32 } }",
        &[("P0109", "tflite")],
    );
    expect_codes(
        "model n = onnx(\"other.onnx\") { inputs { x: float, z: f32? } outputs { } }",
        &[("P0109", "float"), ("P0109", "f32?"), ("P0109", "outputs")],
    );
}

#[test]
fn p0214_infer_fields_must_fit_the_model() {
    let d = expect_codes(
        "pipeline p { from telemetry | infer m with {temp} -> {y} | to out }",
        &[("P0215", "{temp}")],
    );
    assert_eq!(
        d[0].help.as_deref(),
        Some("give one record field per declared input, in order: a: f32, b: i64")
    );
    let d = expect_codes(
        "pipeline p { from telemetry | infer m with {device_id, temp} -> {yy} | to out }",
        &[("P0215", "device_id"), ("P0215", "temp"), ("P0215", "yy")],
    );
    assert_eq!(d[1].message, "`temp` is f64, but model input `b` is i64");
    expect_codes(
        "pipeline p { from telemetry | infer m with {temp, count} -> {y, y} | to out }",
        &[("P0208", "y")],
    );
    expect_codes(
        "pipeline p { from telemetry | infer m with {temp, count} -> {y} | infer m with {y, count} -> {y} | to out }",
        &[("P0208", "y")],
    );
    expect_codes(
        "pipeline p { from telemetry | infer m with {temp, cnt} -> {y} | to out }",
        &[("P0203", "cnt")],
    );
}
