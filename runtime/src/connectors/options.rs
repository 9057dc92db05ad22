//! Reading a connector call's arguments into typed values, collecting every problem:
//! unknown options (with a suggestion), duplicates, wrong types, missing arguments.

use weir_engine::plan::{ConnectorCall, OptionValue};
use weir_engine::time::format_duration;

use super::problem::ConfigProblem;
use super::suggest::did_you_mean;

/// The type an option takes, as users see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// An integer (`10`, `5k`).
    Int,
    /// A number (`0.5`, `1000`).
    Number,
    /// `true` or `false`.
    Bool,
    /// A duration with a unit (`10s`).
    Duration,
    /// A quoted string.
    Text,
    /// A bare word or a string (`jsonl`).
    Word,
    /// A quoted string or a list of them (`"a/#"`, `["a/#", "b/+"]`).
    TextList,
    /// A value of a connector's own shape, described in words (`a duration such as
    /// `5m`, a size such as `128MB`, or both`).
    Custom(&'static str),
}

impl OptionKind {
    /// The kind in words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            OptionKind::Int => "an integer",
            OptionKind::Number => "a number",
            OptionKind::Bool => "`true` or `false`",
            OptionKind::Duration => "a duration such as `10s`",
            OptionKind::Text => "a quoted string",
            OptionKind::Word => "a name such as `jsonl`",
            OptionKind::TextList => "a quoted string or a list of them",
            OptionKind::Custom(words) => words,
        }
    }
}

/// One parameter a connector accepts; the table of these is the connector's reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionSpec {
    /// Option name.
    pub name: &'static str,
    /// Its type.
    pub kind: OptionKind,
    /// Whether it may be given as the first positional argument (`file("x.jsonl")`).
    pub positional: bool,
    /// The default, as users would write it; `None` when required or derived.
    pub default: Option<&'static str>,
    /// One line of documentation.
    pub doc: &'static str,
}

/// A connector call being read against its [`OptionSpec`]s.
pub(crate) struct OptionReader<'a> {
    kind: &'static str,
    specs: &'static [OptionSpec],
    /// Every recognised argument, by spec name.
    given: Vec<(&'static str, &'a OptionValue)>,
    problems: Vec<ConfigProblem>,
}

impl<'a> OptionReader<'a> {
    /// Starts reading `call` for connector `kind`; reports unknown and repeated options and
    /// surplus positional arguments at once.
    pub(crate) fn new(
        kind: &'static str,
        call: &'a ConnectorCall,
        specs: &'static [OptionSpec],
    ) -> OptionReader<'a> {
        let mut reader = OptionReader {
            kind,
            specs,
            given: Vec::new(),
            problems: Vec::new(),
        };
        let positional: Vec<&'static OptionSpec> = specs.iter().filter(|s| s.positional).collect();
        for (i, value) in call.args.iter().enumerate() {
            match positional.get(i) {
                Some(spec) => reader.given.push((spec.name, value)),
                None => {
                    let problem = ConfigProblem::call(match positional.len() {
                        0 => format!(
                            "`{kind}` takes no positional arguments, found {}",
                            describe(value)
                        ),
                        n => format!(
                            "`{kind}` takes {n} positional argument{} ({}), found {}",
                            if n == 1 { "" } else { "s" },
                            names(positional.iter().map(|s| s.name)),
                            call.args.len()
                        ),
                    })
                    .with_help(format!(
                        "name the options, as in `{kind}({}: …)`",
                        reader.first_named()
                    ));
                    reader.problems.push(problem);
                    break;
                }
            }
        }
        for (name, value) in &call.options {
            match specs.iter().find(|s| s.name == name) {
                Some(spec) => {
                    if reader.given.iter().any(|(n, _)| *n == spec.name) {
                        reader.problems.push(ConfigProblem::option(
                            name,
                            format!("option `{name}` is given more than once"),
                        ));
                    } else {
                        reader.given.push((spec.name, value));
                    }
                }
                None => {
                    let help = match did_you_mean(name, specs.iter().map(|s| s.name)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("`{kind}` takes: {}", names(specs.iter().map(|s| s.name))),
                    };
                    reader.problems.push(
                        ConfigProblem::option(
                            name,
                            format!("unknown option `{name}` for `{kind}`"),
                        )
                        .with_help(help),
                    );
                }
            }
        }
        reader
    }

    fn first_named(&self) -> &'static str {
        self.specs.first().map_or("name", |s| s.name)
    }

    /// The raw value of `name`, if given.
    pub(crate) fn raw(&self, name: &str) -> Option<&'a OptionValue> {
        self.given.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Whether `name` was given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    fn spec(&self, name: &str) -> &'static OptionSpec {
        self.specs
            .iter()
            .find(|s| s.name == name)
            .expect("invariant: connectors read only options they declare")
    }

    /// Records a problem with option `name`.
    pub(crate) fn problem(&mut self, problem: ConfigProblem) {
        self.problems.push(problem);
    }

    fn wrong_type(&mut self, name: &str, value: &OptionValue) {
        let spec = self.spec(name);
        let mut problem = ConfigProblem::option(
            name,
            format!(
                "option `{name}` expects {}, found {}",
                spec.kind.describe(),
                describe(value)
            ),
        );
        if spec.kind == OptionKind::Duration {
            if let OptionValue::Int(n) = value {
                problem =
                    problem.with_help(format!("durations carry a unit: write `{n}s` or `{n}ms`"));
            }
        }
        if let (OptionKind::Int | OptionKind::Number, OptionValue::Duration(ms)) =
            (spec.kind, value)
        {
            problem = problem.with_help(self.count_not_duration(*ms));
        }
        if let (OptionKind::Word | OptionKind::Text | OptionKind::TextList, OptionValue::Ident(w)) =
            (spec.kind, value)
        {
            problem = problem.with_help(format!("quote it: `{name}: \"{w}\"`"));
        }
        self.problems.push(problem);
    }

    /// Help for a count given a duration: `10m` is ten minutes, `10M` ten million; and the
    /// connector's `duration` option, if it has one, for a run length.
    fn count_not_duration(&self, ms: i64) -> String {
        let written = format_duration(ms);
        let mut help = match written
            .strip_suffix('m')
            .filter(|n| n.parse::<u64>().is_ok())
        {
            Some(n) => format!("did you mean `{n}M` ({n} million)? `{written}` is {n} minutes"),
            None => {
                format!("a count takes no time unit: write e.g. `10k` or `10M`, not `{written}`")
            }
        };
        if self.specs.iter().any(|s| s.name == "duration") {
            help.push_str(&format!(
                "; for a run of {written} write `duration: {written}`"
            ));
        }
        help
    }

    fn read<T>(
        &mut self,
        name: &str,
        convert: impl FnOnce(&'a OptionValue) -> Option<T>,
    ) -> Option<T> {
        let value = self.raw(name)?;
        match convert(value) {
            Some(v) => Some(v),
            None => {
                self.wrong_type(name, value);
                None
            }
        }
    }

    /// An integer option.
    pub(crate) fn int(&mut self, name: &str) -> Option<i64> {
        self.read(name, |v| match v {
            OptionValue::Int(i) => Some(*i),
            _ => None,
        })
    }

    /// A numeric option (integers accepted).
    pub(crate) fn number(&mut self, name: &str) -> Option<f64> {
        self.read(name, |v| match v {
            OptionValue::Int(i) => Some(*i as f64),
            OptionValue::Float(f) => Some(*f),
            _ => None,
        })
    }

    /// A boolean option.
    pub(crate) fn boolean(&mut self, name: &str) -> Option<bool> {
        self.read(name, |v| match v {
            OptionValue::Bool(b) => Some(*b),
            _ => None,
        })
    }

    /// A duration option, in milliseconds.
    pub(crate) fn duration(&mut self, name: &str) -> Option<i64> {
        self.read(name, |v| match v {
            OptionValue::Duration(ms) => Some(*ms),
            _ => None,
        })
    }

    /// A string option.
    pub(crate) fn text(&mut self, name: &str) -> Option<&'a str> {
        self.read(name, |v| match v {
            OptionValue::Str(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// A string option or a list of strings (a single string is a list of one).
    pub(crate) fn texts(&mut self, name: &str) -> Option<Vec<&'a str>> {
        self.read(name, |v| match v {
            OptionValue::Str(s) => Some(vec![s.as_str()]),
            OptionValue::List(items) => items
                .iter()
                .map(|i| match i {
                    OptionValue::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => None,
        })
    }

    /// A word option (a bare name or a string).
    pub(crate) fn word(&mut self, name: &str) -> Option<&'a str> {
        self.read(name, |v| match v {
            OptionValue::Ident(s) | OptionValue::Str(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// Reports `name` as missing when it was not given.
    pub(crate) fn require(&mut self, name: &str, example: &str) {
        if !self.has(name) {
            let kind = self.kind;
            self.problems.push(
                ConfigProblem::option(name, format!("`{kind}` needs the argument `{name}`"))
                    .with_help(format!("write it as `{example}`")),
            );
        }
    }

    /// The typed config, or every problem found.
    pub(crate) fn finish<T>(self, config: T) -> Result<T, Vec<ConfigProblem>> {
        if self.problems.is_empty() {
            Ok(config)
        } else {
            Err(self.problems)
        }
    }
}

/// Names in backticks, comma-separated.
pub(crate) fn names<'n>(names: impl IntoIterator<Item = &'n str>) -> String {
    let quoted: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

/// An option value as users write it, in backticks.
pub(crate) fn describe(value: &OptionValue) -> String {
    fn text(value: &OptionValue) -> String {
        match value {
            OptionValue::Str(s) => format!("{s:?}"),
            OptionValue::Int(i) => i.to_string(),
            OptionValue::Float(f) => format!("{f:?}"),
            OptionValue::Bool(b) => b.to_string(),
            OptionValue::Duration(ms) => format_duration(*ms),
            OptionValue::Ident(w) => w.clone(),
            OptionValue::List(items) => {
                let parts: Vec<String> = items.iter().map(text).collect();
                format!("[{}]", parts.join(", "))
            }
            OptionValue::Call { func, args } => {
                let parts: Vec<String> = args.iter().map(text).collect();
                format!("{func}({})", parts.join(", "))
            }
        }
    }
    format!("`{}`", text(value))
}
