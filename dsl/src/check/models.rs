//! Models and `infer`: a `model` declaration is compared with the model file's own
//! signature (read by the runtime's catalog), and an `infer` stage with the declaration.

use weir_engine::ml::{ElemType, ModelSignature, TensorSpec};
use weir_engine::plan::ModelNode;
use weir_engine::schema::{Field, Type};

use super::connectors::{ConnectorCatalog, ModelLoadError};
use super::names::Names;
use super::scope::{Scope, ScopeField, Ty};
use super::stages::duplicate_field;
use super::{Ctx, Op};
use crate::ast::{FieldDecl, InferAst, ModelDecl, OptionValueKind};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// What `infer` needs of a checked model: its declared inputs and outputs.
#[derive(Clone, Debug)]
pub(crate) struct ModelScope {
    pub inputs: Vec<(String, ElemType)>,
    pub outputs: Vec<(String, ElemType)>,
    /// Where the model is declared.
    pub span: Span,
    /// The declaration had errors (reported); `infer` stages using it report nothing more.
    pub broken: bool,
}

/// Checks a model declaration (against its file when the catalog reads models); returns
/// its plan node (if it has no errors) and what `infer` stages see of it.
pub(crate) fn check_model(
    decl: &ModelDecl,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) -> (Option<ModelNode>, ModelScope) {
    let errors_before = cx.diagnostics.iter().filter(|d| d.is_error()).count();
    let inputs = declared(&decl.inputs, "input", cx);
    let outputs = declared(&decl.outputs, "output", cx);
    if decl.outputs.is_empty() {
        cx.push(
            Diagnostic::error(
                codes::BAD_MODEL,
                format!("model `{}` declares no outputs", decl.name.name),
                decl.outputs_span,
                "empty",
            )
            .with_help("name the model outputs `infer` may append, e.g. `outputs { y: f32 }`"),
        );
    }
    let path = model_path(decl, cx);
    if let Some(path) = &path {
        match catalog.model_signature(&decl.call.kind.name, path) {
            Ok(Some(signature)) => compare(decl, &signature, cx),
            Ok(None) => {}
            Err(ModelLoadError::Unsupported { message, help }) => cx.push(
                Diagnostic::error(
                    codes::MODEL_SUPPORT_MISSING,
                    message,
                    decl.call.span,
                    "cannot be loaded by this build",
                )
                .with_help(help),
            ),
            Err(ModelLoadError::Failed { message, help }) => cx.push(
                Diagnostic::error(
                    codes::BAD_MODEL,
                    message,
                    decl.call.span,
                    "cannot be loaded",
                )
                .with_help_opt(help),
            ),
        }
    }
    let errors_after = cx.diagnostics.iter().filter(|d| d.is_error()).count();
    let ok = errors_after == errors_before;
    // A build without the format's support trusts the declaration for `infer` checks.
    let unsupported = cx.diagnostics[..]
        .iter()
        .rev()
        .take(errors_after - errors_before)
        .filter(|d| d.code == codes::MODEL_SUPPORT_MISSING)
        .count();
    let scope = ModelScope {
        inputs: inputs.clone().unwrap_or_default(),
        outputs: outputs.clone().unwrap_or_default(),
        span: decl.name.span,
        broken: errors_after - errors_before > unsupported,
    };
    let node = match (path, inputs, outputs) {
        (Some(path), Some(inputs), Some(outputs)) if ok => Some(ModelNode {
            name: decl.name.name.clone(),
            format: decl.call.kind.name.clone(),
            path,
            inputs,
            outputs,
        }),
        _ => None,
    };
    (node, scope)
}

/// The declared tensors with their element types; `None` if one had errors (reported).
fn declared(fields: &[FieldDecl], what: &str, cx: &mut Ctx<'_>) -> Option<Vec<(String, ElemType)>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, f) in fields.iter().enumerate() {
        if let Some(first) = fields[..i].iter().find(|g| g.name.name == f.name.name) {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_FIELD,
                    format!("model {what} `{}` is declared twice", f.name.name),
                    f.name.span,
                    "declared again here",
                )
                .with_secondary(first.name.span, "first declared here"),
            );
            ok = false;
            continue;
        }
        let Some(elem) = ElemType::from_name(&f.ty.name.name) else {
            let help = match f.ty.name.name.as_str() {
                "float" | "f16" | "float32" => "write `f32`".to_string(),
                "double" | "float64" => "write `f64`".to_string(),
                "int" | "i32" | "int64" => "write `i64`".to_string(),
                _ => "model tensors are declared `f32`, `f64` or `i64`".to_string(),
            };
            cx.push(
                Diagnostic::error(
                    codes::BAD_MODEL,
                    format!("`{}` is not a model element type", f.ty.name.name),
                    f.ty.span,
                    "not f32, f64 or i64",
                )
                .with_help(help),
            );
            ok = false;
            continue;
        };
        if f.ty.nullable {
            cx.push(
                Diagnostic::error(
                    codes::BAD_MODEL,
                    format!("model {what} `{}` cannot be nullable", f.name.name),
                    f.ty.span,
                    "a model tensor has no nulls",
                )
                .with_help(format!(
                    "write `{}: {}`; a record with a null input gets null outputs",
                    f.name.name,
                    elem.name()
                )),
            );
            ok = false;
            continue;
        }
        out.push((f.name.name.clone(), elem));
    }
    ok.then_some(out)
}

/// The path of `onnx("path")`, reporting any other form.
fn model_path(decl: &ModelDecl, cx: &mut Ctx<'_>) -> Option<String> {
    let call = &decl.call;
    let example = format!(
        "model {} = onnx(\"models/{}.onnx\") {{ … }}",
        decl.name.name, decl.name.name
    );
    if call.kind.name != "onnx" {
        cx.push(
            Diagnostic::error(
                codes::BAD_MODEL,
                format!("unknown model format `{}`", call.kind.name),
                call.kind.span,
                "not a model format",
            )
            .with_help(format!("models are ONNX files: `{example}`")),
        );
        return None;
    }
    let path = match (call.args.as_slice(), call.options.as_slice()) {
        (
            [crate::ast::OptionValueAst {
                kind: OptionValueKind::Str(path),
                ..
            }],
            [],
        ) => path.clone(),
        _ => {
            cx.push(
                Diagnostic::error(
                    codes::BAD_MODEL,
                    "`onnx` takes the model file's path, and nothing else",
                    call.span,
                    "expected `onnx(\"<path>\")`",
                )
                .with_help(format!("write `{example}`")),
            );
            return None;
        }
    };
    Some(path)
}

fn describe(t: &TensorSpec) -> String {
    format!("{}: {} {}", t.name, t.elem_text, t.shape_text())
}

fn listing(tensors: &[TensorSpec]) -> String {
    if tensors.is_empty() {
        "none".to_string()
    } else {
        tensors.iter().map(describe).collect::<Vec<_>>().join(", ")
    }
}

/// Compares the declaration with the model file's signature (P0109 for each mismatch).
fn compare(decl: &ModelDecl, signature: &ModelSignature, cx: &mut Ctx<'_>) {
    let path_span = decl.call.span;
    for (what, fields, tensors) in [
        ("input", &decl.inputs, &signature.inputs),
        ("output", &decl.outputs, &signature.outputs),
    ] {
        for f in fields {
            let Some(tensor) = tensors.iter().find(|t| t.name == f.name.name) else {
                let names = tensors.iter().map(|t| t.name.as_str());
                cx.push(
                    Diagnostic::error(
                        codes::BAD_MODEL,
                        format!("the model has no {what} `{}`", f.name.name),
                        f.name.span,
                        format!("not a model {what}"),
                    )
                    .with_secondary(path_span, "the model file")
                    .with_help(match did_you_mean(&f.name.name, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("declare the model's own {what} names"),
                    })
                    .with_note(format!("its {what}s: {}", listing(tensors))),
                );
                continue;
            };
            let declared = ElemType::from_name(&f.ty.name.name);
            match tensor.elem {
                None => cx.push(
                    Diagnostic::error(
                        codes::BAD_MODEL,
                        format!(
                            "model {what} `{}` is of type {}, which `infer` cannot {}",
                            tensor.name,
                            tensor.elem_text,
                            if what == "input" { "feed" } else { "read" }
                        ),
                        f.name.span,
                        format!("{} in the model", tensor.elem_text),
                    )
                    .with_help("export the model with f32, f64 or i64 tensors"),
                ),
                Some(actual) if declared.is_some_and(|d| d != actual) => cx.push(
                    Diagnostic::error(
                        codes::BAD_MODEL,
                        format!(
                            "model {what} `{}` is {actual}, not {}",
                            tensor.name, f.ty.name.name
                        ),
                        f.ty.span,
                        format!("the model says {actual}"),
                    )
                    .with_secondary(path_span, "the model file")
                    .with_help(format!("write `{}: {actual}`", f.name.name)),
                ),
                Some(_) => {}
            }
            if !tensor.holds_one_value_per_row() {
                cx.push(
                    Diagnostic::error(
                        codes::BAD_MODEL,
                        format!(
                            "model {what} `{}` has shape {}, not one value per record",
                            tensor.name,
                            tensor.shape_text()
                        ),
                        f.name.span,
                        format!("shape {}", tensor.shape_text()),
                    )
                    .with_help(
                        "`infer` feeds and reads one value per tensor per record: shapes [N], [N, 1] or [1, 1]; split a vector into one input per value when exporting the model",
                    ),
                );
            }
        }
    }
    for tensor in &signature.inputs {
        if !decl.inputs.iter().any(|f| f.name.name == tensor.name) {
            let ty = tensor
                .elem
                .map_or_else(|| tensor.elem_text.clone(), |e| e.name().to_string());
            cx.push(
                Diagnostic::error(
                    codes::BAD_MODEL,
                    format!("model input `{}` is not declared", tensor.name),
                    decl.inputs_span,
                    "the model needs it",
                )
                .with_secondary(path_span, "the model file")
                .with_help(format!("add `{}: {ty}` to `inputs`", tensor.name))
                .with_note(format!("its inputs: {}", listing(&signature.inputs))),
            );
        }
    }
}

/// Checks `infer <model> with {…} -> {…}` against the record `scope`; appends the chosen
/// outputs to `scope` and returns the checked operation.
pub(crate) fn check_infer(
    infer: &InferAst,
    scope: &mut Scope,
    names: &Names,
    cx: &mut Ctx<'_>,
) -> Option<Op> {
    let Some(model) = names.resolve_model(&infer.model, cx) else {
        *scope = Scope::poisoned();
        return None;
    };
    let fields: Vec<Option<(usize, Ty)>> = infer
        .inputs
        .iter()
        .map(|f| scope.lookup(&f.name, f.span, cx))
        .collect();
    if model.broken {
        *scope = Scope::poisoned();
        return None;
    }
    let declared = model
        .inputs
        .iter()
        .map(|(n, t)| format!("{n}: {t}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut ok = true;
    if infer.inputs.len() != model.inputs.len() {
        cx.push(
            Diagnostic::error(
                codes::BAD_INFER,
                format!(
                    "model `{}` takes {} input{}, {} field{} given",
                    infer.model.name,
                    model.inputs.len(),
                    if model.inputs.len() == 1 { "" } else { "s" },
                    infer.inputs.len(),
                    if infer.inputs.len() == 1 {
                        " is"
                    } else {
                        "s are"
                    },
                ),
                infer.inputs_span,
                format!(
                    "{} field{}",
                    infer.inputs.len(),
                    if infer.inputs.len() == 1 { "" } else { "s" }
                ),
            )
            .with_secondary(model.span, "the model is declared here")
            .with_help(format!(
                "give one record field per declared input, in order: {declared}"
            )),
        );
        ok = false;
    }
    let mut nullable = false;
    let mut slots = Vec::new();
    for (i, (f, resolved)) in infer.inputs.iter().zip(&fields).enumerate() {
        let Some((slot, ty)) = resolved else {
            ok = false;
            continue;
        };
        nullable |= ty.nullable;
        slots.push(*slot);
        let Some((input, elem)) = model.inputs.get(i) else {
            continue;
        };
        let fits = matches!(
            (ty.ty, elem),
            (Type::Int, _) | (Type::Float, ElemType::F32 | ElemType::F64)
        );
        if !fits {
            let help = match (ty.ty, elem) {
                (Type::Float, ElemType::I64) => format!(
                    "the model takes whole numbers: convert it first, e.g. `| map {n}_i = round({n})`",
                    n = f.name
                ),
                _ => format!("feed `{input}` a number field (i64 or f64)"),
            };
            cx.push(
                Diagnostic::error(
                    codes::BAD_INFER,
                    format!(
                        "`{}` is {}, but model input `{input}` is {elem}",
                        f.name,
                        ty.display()
                    ),
                    f.span,
                    format!("this is {}", ty.display()),
                )
                .with_secondary(model.span, "the model is declared here")
                .with_help(help),
            );
            ok = false;
        }
    }
    let mut outputs = Vec::new();
    let mut added: Vec<Field> = Vec::new();
    for (i, out) in infer.outputs.iter().enumerate() {
        let Some(j) = model.outputs.iter().position(|(n, _)| *n == out.name) else {
            let names = model.outputs.iter().map(|(n, _)| n.as_str());
            cx.push(
                Diagnostic::error(
                    codes::BAD_INFER,
                    format!(
                        "model `{}` declares no output `{}`",
                        infer.model.name, out.name
                    ),
                    out.span,
                    "not a declared output",
                )
                .with_secondary(model.span, "the model is declared here")
                .with_help(match did_you_mean(&out.name, names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "its outputs: {}",
                        model
                            .outputs
                            .iter()
                            .map(|(n, t)| format!("{n}: {t}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
            );
            ok = false;
            continue;
        };
        if let Some(first) = infer.outputs[..i].iter().find(|o| o.name == out.name) {
            cx.push(duplicate_field(&out.name, out.span, first.span));
            ok = false;
            continue;
        }
        if scope.slot(&out.name).is_some() {
            cx.push(
                duplicate_field(&out.name, out.span, infer.model.span).with_help(format!(
                    "the record already has a field `{}`; rename it first, e.g. `| map {}_in = {}` then `select` without it",
                    out.name, out.name, out.name
                )),
            );
            ok = false;
            continue;
        }
        let ty = match model.outputs[j].1 {
            ElemType::I64 => Type::Int,
            ElemType::F32 | ElemType::F64 => Type::Float,
        };
        outputs.push(j);
        added.push(Field {
            name: out.name.clone(),
            ty,
            nullable,
        });
    }
    for f in &added {
        scope.fields.push(ScopeField {
            name: f.name.clone(),
            ty: Some(Ty {
                ty: f.ty,
                nullable: f.nullable,
            }),
        });
    }
    ok.then(|| Op::Infer {
        model: infer.model.name.clone(),
        inputs: slots,
        outputs,
        fields: added,
    })
}
