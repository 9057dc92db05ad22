//! Declarations and the names that refer to them: duplicates, `from`, `to`, and the
//! order in which pipelines must be checked (readers after what they read; cycles are
//! errors).

use std::collections::{HashMap, HashSet};

use super::Ctx;
use crate::ast::{Ident, Item, PipelineDecl, Program, StageKind};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// What a name is declared as (the index counts declarations of that kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decl {
    Source(usize),
    Sink(usize),
    Pipeline(usize),
    Table(usize),
    Model(usize),
}

impl Decl {
    fn what(self) -> &'static str {
        match self {
            Decl::Source(_) => "a source",
            Decl::Sink(_) => "a sink",
            Decl::Pipeline(_) => "a pipeline",
            Decl::Table(_) => "a table",
            Decl::Model(_) => "a model",
        }
    }
}

/// All declared names (one namespace; the first declaration of a name wins).
pub(crate) struct Names {
    decls: HashMap<String, (Decl, Span)>,
    /// Names in declaration order, for suggestions and notes.
    ordered: Vec<(String, Decl)>,
    /// Checked tables, by name, for `lookup`.
    pub tables: HashMap<String, super::tables::TableScope>,
    /// Checked models, by name, for `infer`.
    pub models: HashMap<String, super::models::ModelScope>,
}

/// Collects declarations, reporting duplicates (P0101).
pub(crate) fn collect(program: &Program, cx: &mut Ctx<'_>) -> Names {
    let mut names = Names {
        decls: HashMap::new(),
        ordered: Vec::new(),
        tables: HashMap::new(),
        models: HashMap::new(),
    };
    let (mut sources, mut sinks, mut pipelines, mut tables, mut models) = (0, 0, 0, 0, 0);
    for item in &program.items {
        let (ident, decl) = match item {
            Item::Source(s) => {
                sources += 1;
                (&s.name, Decl::Source(sources - 1))
            }
            Item::Sink(s) => {
                sinks += 1;
                (&s.name, Decl::Sink(sinks - 1))
            }
            Item::Pipeline(p) => {
                pipelines += 1;
                (&p.name, Decl::Pipeline(pipelines - 1))
            }
            Item::Table(t) => {
                tables += 1;
                (&t.name, Decl::Table(tables - 1))
            }
            Item::Model(m) => {
                models += 1;
                (&m.name, Decl::Model(models - 1))
            }
            Item::Unsupported { .. }
            | Item::Test(_)
            | Item::Checkpoint(_)
            | Item::Serve(_)
            | Item::Query(_) => continue,
        };
        if let Some((first, first_span)) = names.decls.get(&ident.name) {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_DECLARATION,
                    format!("`{}` is declared twice", ident.name),
                    ident.span,
                    "declared again here",
                )
                .with_secondary(
                    *first_span,
                    format!("first declared here, as {}", first.what()),
                )
                .with_help(
                    "sources, sinks, tables, models and pipelines share one namespace; rename one of them",
                ),
            );
            continue;
        }
        names.decls.insert(ident.name.clone(), (decl, ident.span));
        names.ordered.push((ident.name.clone(), decl));
    }
    names
}

impl Names {
    fn names_of(&self, keep: impl Fn(Decl) -> bool) -> Vec<&str> {
        self.ordered
            .iter()
            .filter(|(_, d)| keep(*d))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Resolves `from <name>` to a source or pipeline (P0102 otherwise).
    pub fn resolve_input(&self, name: &Ident, cx: &mut Ctx<'_>) -> Option<Decl> {
        match self.decls.get(&name.name) {
            Some((d @ (Decl::Source(_) | Decl::Pipeline(_)), _)) => Some(*d),
            Some((d @ (Decl::Sink(_) | Decl::Table(_) | Decl::Model(_)), span)) => {
                let what = d.what();
                let help = match d {
                    Decl::Table(_) => format!(
                        "`from` names a source or another pipeline; enrich records with `| lookup {} on <field>`",
                        name.name
                    ),
                    _ => "`from` names a source or another pipeline".to_string(),
                };
                cx.push(
                    Diagnostic::error(
                        codes::UNKNOWN_INPUT,
                        format!("cannot read from `{}`: it is {what}", name.name),
                        name.span,
                        format!("{what}, not a source or pipeline"),
                    )
                    .with_secondary(*span, format!("declared as {what} here"))
                    .with_help(help),
                );
                None
            }
            None => {
                let candidates =
                    self.names_of(|d| matches!(d, Decl::Source(_) | Decl::Pipeline(_)));
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_INPUT,
                    format!("unknown source or pipeline `{}`", name.name),
                    name.span,
                    "not declared",
                )
                .with_help_opt(
                    did_you_mean(&name.name, candidates.iter().copied())
                        .map(|s| format!("did you mean `{s}`?")),
                );
                d = d.with_note(if candidates.is_empty() {
                    "no sources or pipelines are declared; declare one with `source <name> = …`"
                        .to_string()
                } else {
                    format!("sources and pipelines: {}", candidates.join(", "))
                });
                cx.push(d);
                None
            }
        }
    }

    /// Resolves `lookup <name>` to a checked table (P0105 otherwise); `None` also when
    /// the table itself had errors (already reported).
    pub fn resolve_table(
        &self,
        name: &Ident,
        cx: &mut Ctx<'_>,
    ) -> Option<&super::tables::TableScope> {
        match self.decls.get(&name.name) {
            Some((Decl::Table(_), _)) => self.tables.get(&name.name),
            other => {
                let tables = self.names_of(|d| matches!(d, Decl::Table(_)));
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_TABLE,
                    format!("unknown table `{}`", name.name),
                    name.span,
                    "not a table",
                );
                if let Some((decl, span)) = other {
                    d = d.with_secondary(*span, format!("declared as {} here", decl.what()));
                }
                cx.push(
                    d.with_help(
                        did_you_mean(&name.name, tables.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| {
                                format!(
                                    "declare it: `table {} = csv(\"{}.csv\") {{ key id … }}`",
                                    name.name, name.name
                                )
                            }),
                    )
                    .with_note(if tables.is_empty() {
                        "no tables are declared".to_string()
                    } else {
                        format!("tables: {}", tables.join(", "))
                    }),
                );
                None
            }
        }
    }

    /// Resolves `infer <name>` to a checked model (P0108 otherwise).
    pub fn resolve_model(
        &self,
        name: &Ident,
        cx: &mut Ctx<'_>,
    ) -> Option<&super::models::ModelScope> {
        match self.decls.get(&name.name) {
            Some((Decl::Model(_), _)) => self.models.get(&name.name),
            other => {
                let models = self.names_of(|d| matches!(d, Decl::Model(_)));
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_MODEL,
                    format!("unknown model `{}`", name.name),
                    name.span,
                    "not a model",
                );
                if let Some((decl, span)) = other {
                    d = d.with_secondary(*span, format!("declared as {} here", decl.what()));
                }
                cx.push(
                    d.with_help(
                        did_you_mean(&name.name, models.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| {
                                format!(
                                    "declare it: `model {} = onnx(\"{}.onnx\") {{ inputs {{ … }} outputs {{ … }} }}`",
                                    name.name, name.name
                                )
                            }),
                    )
                    .with_note(if models.is_empty() {
                        "no models are declared".to_string()
                    } else {
                        format!("models: {}", models.join(", "))
                    }),
                );
                None
            }
        }
    }

    /// Resolves `to <name>` to a sink (P0103 otherwise).
    pub fn resolve_sink(&self, name: &Ident, cx: &mut Ctx<'_>) -> bool {
        match self.decls.get(&name.name) {
            Some((Decl::Sink(_), _)) => true,
            Some((d, span)) => {
                cx.push(
                    Diagnostic::error(
                        codes::UNKNOWN_SINK,
                        format!("cannot write to `{}`: it is {}", name.name, d.what()),
                        name.span,
                        "not a sink",
                    )
                    .with_secondary(*span, format!("declared as {} here", d.what()))
                    .with_help("declare a sink, e.g. `sink out = stdout()`, and write `to out`"),
                );
                false
            }
            None => {
                let sinks = self.names_of(|d| matches!(d, Decl::Sink(_)));
                cx.push(
                    Diagnostic::error(
                        codes::UNKNOWN_SINK,
                        format!("unknown sink `{}`", name.name),
                        name.span,
                        "not declared",
                    )
                    .with_help(
                        did_you_mean(&name.name, sinks.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| {
                                format!("declare it: `sink {} = stdout()`", name.name)
                            }),
                    )
                    .with_note(if sinks.is_empty() {
                        "no sinks are declared".to_string()
                    } else {
                        format!("sinks: {}", sinks.join(", "))
                    }),
                );
                false
            }
        }
    }
}

/// The order to check pipelines in (each after the pipelines it reads, by `from` or
/// `join`), and the pipelines that are part of a cycle (reported as P0104, once per cycle).
pub(crate) fn pipeline_order(
    pipelines: &[&PipelineDecl],
    names: &Names,
    cx: &mut Ctx<'_>,
) -> (Vec<usize>, HashSet<usize>) {
    let index: HashMap<&str, usize> = pipelines
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.name.as_str(), i))
        .rev() // the first declaration wins
        .collect();
    // What pipeline `i` reads (only first declarations are real pipelines), with the
    // name that refers to it: `from` first, then each join's input.
    let upstreams = |i: usize| -> Vec<(usize, &Ident)> {
        let p = pipelines[i];
        std::iter::once(&p.from)
            .chain(p.stages.iter().filter_map(|s| match &s.kind {
                StageKind::Join(j) => Some(&j.input),
                _ => None,
            }))
            .filter_map(|name| match names.decls.get(&name.name) {
                Some((Decl::Pipeline(_), _)) => index.get(name.name.as_str()).map(|&j| (j, name)),
                _ => None,
            })
            .collect()
    };
    let mut marks = vec![Mark::New; pipelines.len()];
    let mut walk = Walk {
        order: Vec::new(),
        cyclic: HashSet::new(),
        chain: Vec::new(),
    };
    for start in 0..pipelines.len() {
        visit(start, &upstreams, &mut marks, &mut walk, pipelines, cx);
    }
    (walk.order, walk.cyclic)
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    Active,
    Done,
}

/// A depth-first walk over "reads" edges.
struct Walk<'p> {
    order: Vec<usize>,
    cyclic: HashSet<usize>,
    /// The pipelines being visited, each with the name by which it reads the next.
    chain: Vec<(usize, Option<&'p Ident>)>,
}

fn visit<'p>(
    i: usize,
    upstreams: &dyn Fn(usize) -> Vec<(usize, &'p Ident)>,
    marks: &mut [Mark],
    walk: &mut Walk<'p>,
    pipelines: &[&'p PipelineDecl],
    cx: &mut Ctx<'_>,
) {
    if marks[i] != Mark::New {
        return;
    }
    marks[i] = Mark::Active;
    walk.chain.push((i, None));
    for (j, name) in upstreams(i) {
        if let Some(last) = walk.chain.last_mut() {
            last.1 = Some(name);
        }
        match marks[j] {
            Mark::Done => {}
            Mark::Active => {
                // `j` is on the current chain: a cycle from `j` to here.
                let pos = walk.chain.iter().position(|(c, _)| *c == j).unwrap_or(0);
                let cycle: Vec<(usize, &Ident)> = walk.chain[pos..]
                    .iter()
                    .filter_map(|(c, n)| n.map(|n| (*c, n)))
                    .collect();
                report_cycle(pipelines, &cycle, cx);
                walk.cyclic.extend(cycle.iter().map(|(c, _)| *c));
            }
            Mark::New => visit(j, upstreams, marks, walk, pipelines, cx),
        }
    }
    walk.chain.pop();
    marks[i] = Mark::Done;
    walk.order.push(i);
}

fn report_cycle(pipelines: &[&PipelineDecl], cycle: &[(usize, &Ident)], cx: &mut Ctx<'_>) {
    // `cycle[k]` reads `cycle[k+1]` by the name given, and the last reads `cycle[0]`.
    let Some(&(first, first_ref)) = cycle.first() else {
        return;
    };
    let mut path: Vec<&str> = cycle
        .iter()
        .map(|&(i, _)| pipelines[i].name.name.as_str())
        .collect();
    path.push(path[0]);
    let mut d = Diagnostic::error(
        codes::PIPELINE_CYCLE,
        format!("pipelines read each other in a cycle: {}", path.join(" → ")),
        first_ref.span,
        format!(
            "`{}` reads `{}` here",
            pipelines[first].name.name, first_ref.name
        ),
    );
    for &(i, r) in &cycle[1..] {
        d = d.with_secondary(
            r.span,
            format!("`{}` reads `{}` here", pipelines[i].name.name, r.name),
        );
    }
    cx.push(d.with_help("a pipeline must read a source or a pipeline that does not read it back"));
}
