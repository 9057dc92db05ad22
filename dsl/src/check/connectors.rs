//! Connector calls: conversion to the plan's [`ConnectorCall`] and validation through a
//! [`ConnectorCatalog`] supplied by the runtime (the dsl knows no connector itself).

use weir_engine::ml::ModelSignature;
use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::schema::Schema;

use super::Ctx;
use crate::ast::{ConnectorCallAst, OptionValueAst, OptionValueKind};
use crate::codes;
use crate::diagnostic::Diagnostic;

/// Whether a connector is used to read or to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `source x = …`
    Source,
    /// `sink x = …`
    Sink,
    /// `table x = …`
    Table,
}

/// One problem found by a catalog: the option it is about (`None`: the call as a whole),
/// the message, and an optional help line.
pub type ConnectorProblem = (Option<String>, String, Option<String>);

/// Why a catalog could not read a model file's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelLoadError {
    /// This build cannot load models of that format (a cargo feature is off).
    Unsupported {
        /// What is missing.
        message: String,
        /// How to get it.
        help: String,
    },
    /// The file is missing, unreadable, or not a valid model.
    Failed {
        /// What went wrong, naming the file.
        message: String,
        /// How to fix it, when known.
        help: Option<String>,
    },
}

/// Knows the connectors and their options; the runtime implements it.
pub trait ConnectorCatalog {
    /// Problems with `call` used as a `role` (for a source, with its declared `schema`
    /// when every field's type is known); empty when it is fine.
    fn check(
        &self,
        call: &ConnectorCall,
        role: Role,
        schema: Option<&Schema>,
    ) -> Vec<ConnectorProblem>;

    /// Problems with sink `call` given `records`, the layout of the records written to
    /// it: options that name fields (a topic template's `{device_id}`, Parquet
    /// `partition_by` keys) naming a field the records lack or one of the wrong type.
    fn check_sink_fields(&self, _call: &ConnectorCall, _records: &Schema) -> Vec<SinkFieldProblem> {
        Vec::new()
    }

    /// Whether a sink made by `call` writes every record with its own field names (JSON
    /// lines), so writers of different record shapes may share it; a sink whose format
    /// is fixed when it opens (a CSV header, a Parquet schema) holds one shape (P0107).
    fn writes_any_shape(&self, _call: &ConnectorCall) -> bool {
        false
    }

    /// Whether a sink made by `call` can hand records it could not deliver back to the
    /// pipeline's `on error to` route (a webhook that gave up after its retries).
    fn hands_back_undelivered(&self, _call: &ConnectorCall) -> bool {
        false
    }

    /// The file (or folder) `call` reads or writes as a `role`, as written, when it uses
    /// one: the checker rejects a sink on a file another declaration uses.
    fn file_of(&self, _call: &ConnectorCall, _role: Role) -> Option<String> {
        None
    }

    /// Whether a source made by `call` may deliver records out of event-time order (a
    /// broker's several publishers, a simulator's jitter), so it needs a `watermark`
    /// bound; a file is read in its own order (the default).
    fn may_arrive_out_of_order(&self, _call: &ConnectorCall) -> bool {
        false
    }

    /// Whether a source made by `call` can drop input it cannot hand over
    /// (`on overload drop`): a live source that is pushed to (a broker subscription). A
    /// source that is read at the pipeline's pace (a file, a simulator) has no overload.
    fn may_drop_on_overload(&self, _call: &ConnectorCall) -> bool {
        false
    }

    /// The inputs and outputs of the model file `path` in `format` (`onnx`), which the
    /// checker compares with the `model` declaration. `Ok(None)`: this catalog does not
    /// read models, and the declaration is trusted (the default).
    fn model_signature(
        &self,
        _format: &str,
        _path: &str,
    ) -> Result<Option<ModelSignature>, ModelLoadError> {
        Ok(None)
    }
}

/// What is wrong with a field a sink option names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkFieldIssue {
    /// The records written to the sink have no such field.
    Unknown,
    /// The field exists but has a type the option cannot use (`hour(n)` of an `i64`).
    WrongType,
    /// The records hold a list (from `collect`) and the sink's format has no lists (CSV).
    NoLists,
}

/// A sink option naming a field that does not fit the records written to the sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkFieldProblem {
    /// The option to blame (`topic`, `partition_by`).
    pub option: String,
    /// What kind of problem.
    pub issue: SinkFieldIssue,
    /// What is wrong.
    pub message: String,
    /// What to write instead (a "did you mean"), when known.
    pub help: Option<String>,
}

/// A catalog that accepts every call (used by [`crate::compile`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptAll;

impl ConnectorCatalog for AcceptAll {
    fn check(
        &self,
        _call: &ConnectorCall,
        _role: Role,
        _schema: Option<&Schema>,
    ) -> Vec<ConnectorProblem> {
        Vec::new()
    }

    /// Accepts `on overload drop` on any source too.
    fn may_drop_on_overload(&self, _call: &ConnectorCall) -> bool {
        true
    }
}

fn value(v: &OptionValueAst) -> Option<OptionValue> {
    Some(match &v.kind {
        OptionValueKind::Str(s) => OptionValue::Str(s.clone()),
        OptionValueKind::Int(i) => OptionValue::Int(*i),
        OptionValueKind::Float(f) => OptionValue::Float(*f),
        OptionValueKind::Bool(b) => OptionValue::Bool(*b),
        OptionValueKind::Duration(d) => OptionValue::Duration(*d),
        OptionValueKind::Ident(s) => OptionValue::Ident(s.clone()),
        OptionValueKind::List(items) => {
            OptionValue::List(items.iter().map(value).collect::<Option<Vec<_>>>()?)
        }
        OptionValueKind::Call { func, args } => OptionValue::Call {
            func: func.name.clone(),
            args: args.iter().map(value).collect::<Option<Vec<_>>>()?,
        },
        OptionValueKind::Invalid => return None,
    })
}

/// Converts a call and asks `catalog` about it; `None` if a value was malformed.
pub(crate) fn check_connector(
    ast: &ConnectorCallAst,
    role: Role,
    schema: Option<&Schema>,
    catalog: &dyn ConnectorCatalog,
    cx: &mut Ctx<'_>,
) -> Option<ConnectorCall> {
    for (i, (name, _)) in ast.options.iter().enumerate() {
        if let Some((first, _)) = ast.options[..i].iter().find(|(n, _)| n.name == name.name) {
            cx.push(
                Diagnostic::error(
                    codes::CONNECTOR,
                    format!("option `{}` is given twice", name.name),
                    name.span,
                    "given again here",
                )
                .with_secondary(first.span, "first given here"),
            );
        }
    }
    let call = ConnectorCall {
        kind: ast.kind.name.clone(),
        args: ast.args.iter().map(value).collect::<Option<Vec<_>>>()?,
        options: ast
            .options
            .iter()
            .map(|(n, v)| value(v).map(|v| (n.name.clone(), v)))
            .collect::<Option<Vec<_>>>()?,
    };
    for (option, message, help) in catalog.check(&call, role, schema) {
        let place = option
            .as_ref()
            .and_then(|o| ast.options.iter().find(|(n, _)| &n.name == o));
        let d = match place {
            Some((name, v)) => {
                Diagnostic::error(codes::CONNECTOR, message, name.span.to(v.span), "")
            }
            None => Diagnostic::error(codes::CONNECTOR, message, ast.span, ""),
        };
        cx.push(d.with_help_opt(help));
    }
    Some(call)
}
