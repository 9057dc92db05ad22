//! The typed configuration of `chart(…)`, read strictly from a connector call.

use weir_engine::plan::ConnectorCall;
use weir_engine::schema::{Schema, Type};

use super::KIND;
use crate::connectors::options::{OptionKind, OptionReader, OptionSpec};
use crate::connectors::problem::ConfigProblem;

/// The options of `chart(…)`.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "x",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "The field along the x axis: a timestamp (`window.end`) or a number.",
    },
    OptionSpec {
        name: "y",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "The numeric field plotted.",
    },
    OptionSpec {
        name: "series",
        kind: OptionKind::Word,
        positional: false,
        default: None,
        doc: "The field that splits points into one line per value (default: one line).",
    },
    OptionSpec {
        name: "kind",
        kind: OptionKind::Word,
        positional: false,
        default: Some("line"),
        doc: "`line` or `bar`.",
    },
    OptionSpec {
        name: "keep",
        kind: OptionKind::Int,
        positional: false,
        default: Some("500"),
        doc: "Points kept for a viewer that opens the dashboard later.",
    },
];

/// How the points are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// Lines.
    Line,
    /// Bars.
    Bar,
}

impl ChartKind {
    /// Its name in files and in the API.
    pub fn name(self) -> &'static str {
        match self {
            ChartKind::Line => "line",
            ChartKind::Bar => "bar",
        }
    }
}

/// A checked `chart(…)` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartConfig {
    /// The x field.
    pub x: String,
    /// The y field.
    pub y: String,
    /// The series field, if any.
    pub series: Option<String>,
    /// Lines or bars.
    pub kind: ChartKind,
    /// Points kept.
    pub keep: usize,
}

impl ChartConfig {
    /// Reads `call`, rejecting unknown options and bad values.
    pub fn from_call(call: &ConnectorCall) -> Result<ChartConfig, Vec<ConfigProblem>> {
        let mut r = OptionReader::new(KIND, call, OPTIONS);
        r.require("x", "chart(x: window.end, y: avg_temp)");
        r.require("y", "chart(x: window.end, y: avg_temp)");
        let x = r.word("x").map(str::to_string);
        let y = r.word("y").map(str::to_string);
        let series = r.word("series").map(str::to_string);
        let kind = match r.word("kind") {
            None | Some("line") => ChartKind::Line,
            Some("bar") => ChartKind::Bar,
            Some(other) => {
                r.problem(
                    ConfigProblem::option("kind", format!("unknown chart kind `{other}`"))
                        .with_help("use `line` or `bar`"),
                );
                ChartKind::Line
            }
        };
        let keep = match r.int("keep") {
            None => 500,
            Some(n @ 1..=100_000) => n as usize,
            Some(n) => {
                r.problem(ConfigProblem::option(
                    "keep",
                    format!("`keep` must be between 1 and 100000, found {n}"),
                ));
                500
            }
        };
        let config = match (x, y) {
            (Some(x), Some(y)) => Some(ChartConfig {
                x,
                y,
                series,
                kind,
                keep,
            }),
            _ => None,
        };
        match r.finish(config) {
            Ok(Some(config)) => Ok(config),
            Ok(None) => Err(vec![ConfigProblem::call(
                "`chart` needs `x` and `y` fields",
            )]),
            Err(problems) => Err(problems),
        }
    }

    /// Problems with the named fields for records of `schema`.
    pub fn field_problems(&self, schema: &Schema) -> Vec<ConfigProblem> {
        let fields: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        let mut problems = Vec::new();
        let mut check = |option: &str, name: &str, numeric: bool| match schema.slot(name) {
            None => problems.push(
                ConfigProblem::option(
                    option,
                    format!("the records reaching this sink have no field `{name}`"),
                )
                .with_help(format!("use one of: {}", fields.join(", "))),
            ),
            Some(slot) if numeric => {
                let ty = &schema.fields[slot].ty;
                if !matches!(ty, Type::Int | Type::Float | Type::Timestamp) {
                    problems.push(ConfigProblem::option(
                        option,
                        format!("`{name}` is not a number or a timestamp, so it cannot be plotted"),
                    ));
                }
            }
            Some(_) => {}
        };
        check("x", &self.x, true);
        check("y", &self.y, true);
        if let Some(series) = &self.series {
            check("series", series, false);
        }
        problems
    }
}
