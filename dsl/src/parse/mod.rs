//! Text → [`ast::Program`](crate::ast::Program): the pest grammar, the pairs-to-AST
//! builder, and a Pratt parser for operator precedence.
//!
//! Pest only checks syntax. Its errors are translated into user words by
//! [`errors`]; literal problems the grammar lets through on purpose (`10sec`, `1.5s`, an
//! unterminated string, a bad escape) are reported here, so that parsing continues and
//! the checker can still report everything else in the file.

mod errors;
mod nesting;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;

use crate::ast::*;
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The pest parser generated from `grammar.pest`, in a private module: its `Rule` enum
/// is an implementation detail and never reaches users.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    pub(crate) struct PipeParser;
}
pub(crate) use grammar::{PipeParser, Rule};

/// A parsed file and the literal problems found while building it.
#[derive(Debug)]
pub struct Parsed {
    /// The syntax tree (malformed literals are `Invalid` nodes).
    pub program: Program,
    /// Errors about literals (`10sec`, bad escapes, …).
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole file. A syntax error stops parsing (pest does not recover), so `Err`
/// holds exactly one diagnostic.
pub fn parse(text: &str) -> Result<Parsed, Box<Diagnostic>> {
    // Collect expected literal tokens (`)`, `}`, …) for better syntax errors.
    pest::set_error_detail(true);
    if let Some(too_deep) = nesting::check_brackets(text) {
        return Err(Box::new(too_deep));
    }
    let mut pairs = PipeParser::parse(Rule::program, text)
        .map_err(|e| Box::new(errors::translate(&e, text)))?;
    let program = pairs
        .next()
        .expect("invariant: a successful parse yields the program pair");
    let mut builder = Builder {
        diagnostics: Vec::new(),
        expr_depth: 0,
    };
    let program = builder.program(program);
    Ok(Parsed {
        program,
        diagnostics: builder.diagnostics,
    })
}

/// The span of a pair, without trailing blanks and comments (a failed optional part at
/// the end of a rule leaves the skipped whitespace inside the pair).
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.start() + trim_end(s.as_str()).len())
}

fn trim_end(mut text: &str) -> &str {
    loop {
        text = text.trim_end();
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..];
        // A `#` outside a string starts a comment.
        let mut in_string = false;
        let mut escaped = false;
        let mut comment = None;
        for (i, c) in line.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '#' if !in_string => {
                    comment = Some(i);
                    break;
                }
                _ => {}
            }
        }
        match comment {
            Some(i) => text = &text[..line_start + i],
            None => return text,
        }
    }
}

fn ident_of(pair: &Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(pair),
    }
}

/// True for keyword rules: they carry no data beyond their span.
fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

/// Inner pairs without keywords.
fn significant<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

/// The next part of a clause the grammar guarantees.
fn part<'i>(inner: &mut impl Iterator<Item = Pair<'i, Rule>>) -> Pair<'i, Rule> {
    inner.next().expect("invariant: clause part")
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        // Loosest first.
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::postfix(Rule::between_tail)
                | Op::postfix(Rule::in_tail))
            .op(Op::infix(Rule::op_coalesce, Assoc::Right))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_rem, Assoc::Left))
            .op(Op::prefix(Rule::op_neg))
    })
}

/// Milliseconds per duration unit.
pub(crate) fn unit_millis(unit: &str) -> Option<i64> {
    Some(match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    })
}

fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(text.len());
    text.split_at(end)
}

struct Builder {
    diagnostics: Vec<Diagnostic>,
    /// An upper bound of the depth of the expression being built, at the current pair.
    expr_depth: usize,
}

impl Builder {
    fn error(&mut self, message: impl Into<String>, span: Span, label: &str, help: Option<String>) {
        self.diagnostics
            .push(Diagnostic::error(codes::SYNTAX, message, span, label).with_help_opt(help));
    }

    fn program(&mut self, pair: Pair<'_, Rule>) -> Program {
        let mut items = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::source_decl => items.push(Item::Source(self.source(p))),
                Rule::sink_decl => items.push(Item::Sink(self.sink(p))),
                Rule::pipeline_decl => items.push(Item::Pipeline(self.pipeline(p))),
                Rule::test_decl => items.push(Item::Test(self.test(p))),
                Rule::table_decl => items.push(Item::Table(self.table(p))),
                Rule::model_decl => items.push(Item::Model(self.model(p))),
                Rule::checkpoint_decl => items.push(Item::Checkpoint(self.checkpoint(p))),
                Rule::serve_decl => items.push(Item::Serve(self.serve(p))),
                Rule::query_decl => items.push(Item::Query(self.query(p))),
                Rule::future_decl => {
                    let span = span_of(&p);
                    let keyword = p
                        .into_inner()
                        .next()
                        .map(|k| ident_of(&k))
                        .expect("invariant: future_decl starts with its keyword");
                    items.push(Item::Unsupported { keyword, span });
                }
                _ => {} // EOI
            }
        }
        Program { items }
    }

    fn query(&mut self, pair: Pair<'_, Rule>) -> QueryDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair);
        let name = ident_of(&inner.next().expect("invariant: query name"));
        let every = self.duration(inner.next().expect("invariant: query period"));
        let mut decl = QueryDecl {
            name,
            every,
            at: None,
            sql: String::new(),
            sql_span: span,
            to: Vec::new(),
            span,
        };
        for part in inner {
            match part.as_rule() {
                Rule::query_at => {
                    let time = significant(part).next().expect("invariant: at time");
                    decl.at = Some(ident_of(&time));
                }
                Rule::sql_text => {
                    let body = part.into_inner().next().expect("invariant: sql body");
                    decl.sql = body.as_str().to_string();
                    decl.sql_span = span_of(&body);
                }
                Rule::to_stage => {
                    let sink = significant(part).next().expect("invariant: to sink");
                    decl.to.push(ident_of(&sink));
                }
                _ => {}
            }
        }
        decl
    }

    fn source(&mut self, pair: Pair<'_, Rule>) -> SourceDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair);
        let name = ident_of(&inner.next().expect("invariant: source name"));
        let connector = self.connector(inner.next().expect("invariant: source connector"));
        let mut decl = SourceDecl {
            name,
            connector,
            fields: Vec::new(),
            event_time: Vec::new(),
            watermark: Vec::new(),
            overload: Vec::new(),
            span,
        };
        for item in inner {
            match item.as_rule() {
                Rule::field_decl => {
                    let mut parts = item.into_inner();
                    let name = ident_of(&parts.next().expect("invariant: field name"));
                    let ty = parts.next().expect("invariant: field type");
                    let ty_span = span_of(&ty);
                    let mut ty_parts = ty.into_inner();
                    let ty_name = ident_of(&ty_parts.next().expect("invariant: type name"));
                    decl.fields.push(FieldDecl {
                        name,
                        ty: TypeRef {
                            name: ty_name,
                            nullable: ty_parts.next().is_some(),
                            span: ty_span,
                        },
                    });
                }
                Rule::event_time_decl => {
                    let field = significant(item)
                        .next()
                        .expect("invariant: event_time field");
                    decl.event_time.push(ident_of(&field));
                }
                Rule::watermark_decl => {
                    let span = span_of(&item);
                    let parts = significant(item)
                        .map(|part| match part.as_rule() {
                            Rule::wm_bounded => WatermarkPart::Bounded(
                                self.duration(significant(part).next().expect("invariant: d")),
                            ),
                            Rule::wm_idle => WatermarkPart::Idle(
                                self.duration(significant(part).next().expect("invariant: d")),
                            ),
                            Rule::wm_max_future => WatermarkPart::MaxFuture(
                                self.duration(significant(part).next().expect("invariant: d")),
                            ),
                            _ => WatermarkPart::PerKey(span_of(&part)),
                        })
                        .collect();
                    decl.watermark.push(WatermarkDecl { parts, span });
                }
                Rule::overload_decl => {
                    let span = span_of(&item);
                    let drop = item
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::overload_policy)
                        .flat_map(|p| p.into_inner())
                        .any(|w| w.as_rule() == Rule::kw_drop);
                    let policy = if drop {
                        OverloadPolicy::Drop
                    } else {
                        OverloadPolicy::Backpressure
                    };
                    decl.overload.push((policy, span));
                }
                _ => {}
            }
        }
        decl
    }

    fn table(&mut self, pair: Pair<'_, Rule>) -> TableDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair);
        let name = ident_of(&inner.next().expect("invariant: table name"));
        let connector = self.connector(inner.next().expect("invariant: table connector"));
        let mut decl = TableDecl {
            name,
            connector,
            fields: Vec::new(),
            keys: Vec::new(),
            refresh: Vec::new(),
            span,
        };
        for item in inner {
            match item.as_rule() {
                Rule::field_decl => decl.fields.push(self.field(item)),
                Rule::table_key => {
                    let key = significant(item).next().expect("invariant: key field");
                    decl.keys.push(ident_of(&key));
                }
                Rule::table_refresh => {
                    let span = span_of(&item);
                    let how = significant(item).next().expect("invariant: refresh kind");
                    let kind = match how.as_rule() {
                        Rule::refresh_every => RefreshKind::Every(
                            self.duration(significant(how).next().expect("invariant: period")),
                        ),
                        _ => RefreshKind::OnChange,
                    };
                    decl.refresh.push(RefreshDecl { kind, span });
                }
                _ => {}
            }
        }
        decl
    }

    fn model(&mut self, pair: Pair<'_, Rule>) -> ModelDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair);
        let name = ident_of(&inner.next().expect("invariant: model name"));
        let call = self.connector(inner.next().expect("invariant: model call"));
        let mut fields = |part: Option<Pair<'_, Rule>>| {
            let part = part.expect("invariant: model inputs and outputs");
            let keyword = part
                .clone()
                .into_inner()
                .next()
                .map_or(span_of(&part), |k| span_of(&k));
            let list = significant(part).next().expect("invariant: model fields");
            let fields = list.into_inner().map(|f| self.field(f)).collect();
            (fields, keyword)
        };
        let (inputs, inputs_span) = fields(inner.next());
        let (outputs, outputs_span) = fields(inner.next());
        ModelDecl {
            name,
            call,
            inputs,
            outputs,
            inputs_span,
            outputs_span,
            span,
        }
    }

    fn field(&mut self, item: Pair<'_, Rule>) -> FieldDecl {
        let mut parts = item.into_inner();
        let name = ident_of(&parts.next().expect("invariant: field name"));
        let ty = parts.next().expect("invariant: field type");
        let ty_span = span_of(&ty);
        let mut ty_parts = ty.into_inner();
        let ty_name = ident_of(&ty_parts.next().expect("invariant: type name"));
        FieldDecl {
            name,
            ty: TypeRef {
                name: ty_name,
                nullable: ty_parts.next().is_some(),
                span: ty_span,
            },
        }
    }

    fn sink(&mut self, pair: Pair<'_, Rule>) -> SinkDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair).peekable();
        let live = inner
            .next_if(|p| p.as_rule() == Rule::live_mark)
            .map(|p| span_of(&p));
        let name = ident_of(&inner.next().expect("invariant: sink name"));
        let connector = self.connector(inner.next().expect("invariant: sink connector"));
        SinkDecl {
            name,
            connector,
            live,
            span,
        }
    }

    /// `serve on "addr" [token env "VAR"]` or `serve off`.
    fn serve(&mut self, pair: Pair<'_, Rule>) -> ServeDecl {
        let span = span_of(&pair);
        let mut decl = ServeDecl {
            addr: None,
            token_env: None,
            span,
        };
        let how = significant(pair)
            .next()
            .expect("invariant: serve on or off");
        if how.as_rule() == Rule::serve_off {
            return decl;
        }
        for part in significant(how) {
            let (text, span) = match part.as_rule() {
                Rule::serve_token => {
                    let var = significant(part).next().expect("invariant: token variable");
                    let span = span_of(&var);
                    decl.token_env = self.string(var.as_str(), span).map(|v| (v, span));
                    continue;
                }
                _ => (part.as_str(), span_of(&part)),
            };
            // An address with a bad escape was reported; the declaration is then ignored.
            let addr = self
                .string(text, span)
                .unwrap_or_else(|| text[1..text.len() - 1].to_string());
            decl.addr = Some((addr, span));
        }
        decl
    }

    fn connector(&mut self, pair: Pair<'_, Rule>) -> ConnectorCallAst {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let kind = ident_of(&inner.next().expect("invariant: connector name"));
        let mut call = ConnectorCallAst {
            kind,
            args: Vec::new(),
            options: Vec::new(),
            span,
        };
        for arg in inner {
            match arg.as_rule() {
                Rule::named_option => {
                    let mut parts = arg.into_inner();
                    let name = ident_of(&parts.next().expect("invariant: option name"));
                    let value = self.option_value(parts.next().expect("invariant: option value"));
                    call.options.push((name, value));
                }
                _ => {
                    let value = self.option_value(arg);
                    call.args.push(value);
                }
            }
        }
        call
    }

    fn option_value(&mut self, pair: Pair<'_, Rule>) -> OptionValueAst {
        let span = span_of(&pair);
        let inner = pair
            .into_inner()
            .next()
            .expect("invariant: option_value has one child");
        let kind = match inner.as_rule() {
            Rule::option_list => {
                OptionValueKind::List(inner.into_inner().map(|v| self.option_value(v)).collect())
            }
            Rule::ident | Rule::unit_word | Rule::dotted_name => {
                OptionValueKind::Ident(inner.as_str().to_string())
            }
            Rule::option_call => {
                let mut parts = inner.into_inner();
                let func = ident_of(&parts.next().expect("invariant: option call name"));
                OptionValueKind::Call {
                    func,
                    args: parts.map(|v| self.option_value(v)).collect(),
                }
            }
            _ => match self.literal(&inner) {
                Some(Literal::Int(i)) => OptionValueKind::Int(i),
                Some(Literal::Float(f)) => OptionValueKind::Float(f),
                Some(Literal::Str(s)) => OptionValueKind::Str(s),
                Some(Literal::Bool(b)) => OptionValueKind::Bool(b),
                Some(Literal::Duration(d)) => OptionValueKind::Duration(d),
                Some(Literal::Null) | None => OptionValueKind::Invalid,
            },
        };
        OptionValueAst { kind, span }
    }

    /// A literal token; reports malformed ones and returns `None` for them.
    fn literal(&mut self, pair: &Pair<'_, Rule>) -> Option<Literal> {
        let text = pair.as_str();
        let span = span_of(pair);
        match pair.as_rule() {
            Rule::string_lit => self.string(text, span).map(Literal::Str),
            Rule::unterminated_string => {
                let span = Span::new(span.lo, span.lo + text.trim_end_matches('\n').len());
                self.error(
                    "unterminated string",
                    span,
                    "this string has no closing `\"`",
                    Some("close the string with `\"` on the same line".into()),
                );
                None
            }
            Rule::int_lit => match split_number(text).0.replace('_', "").parse::<i64>() {
                Ok(i) => Some(Literal::Int(i)),
                Err(_) => {
                    self.error("integer too large", span, "does not fit in an i64", None);
                    None
                }
            },
            Rule::float_lit => match text.replace('_', "").parse::<f64>() {
                Ok(f) => Some(Literal::Float(f)),
                Err(_) => {
                    self.error("malformed number", span, "not a number", None);
                    None
                }
            },
            Rule::count_lit => {
                let (digits, suffix) = split_number(text);
                let scale: i64 = match suffix {
                    "k" => 1_000,
                    "M" => 1_000_000,
                    _ => 1_000_000_000,
                };
                match digits
                    .replace('_', "")
                    .parse::<i64>()
                    .ok()
                    .and_then(|n| n.checked_mul(scale))
                {
                    Some(n) => Some(Literal::Int(n)),
                    None => {
                        self.error("count too large", span, "does not fit in an i64", None);
                        None
                    }
                }
            }
            Rule::duration_lit => {
                let (digits, unit) = split_number(text);
                let ms = digits
                    .replace('_', "")
                    .parse::<i64>()
                    .ok()
                    .zip(unit_millis(unit))
                    .and_then(|(n, scale)| n.checked_mul(scale));
                match ms {
                    Some(ms) => Some(Literal::Duration(ms)),
                    None => {
                        self.error(
                            "duration too large",
                            span,
                            "does not fit in i64 milliseconds",
                            None,
                        );
                        None
                    }
                }
            }
            Rule::bad_number => {
                self.bad_number(text, span);
                None
            }
            Rule::bool_lit => Some(Literal::Bool(text == "true")),
            Rule::null_lit => Some(Literal::Null),
            _ => None,
        }
    }

    fn bad_number(&mut self, text: &str, span: Span) {
        let (digits, rest) = split_number(text);
        if let Some(fraction_and_unit) = rest.strip_prefix('.') {
            let unit = fraction_and_unit.trim_start_matches(|c: char| c.is_ascii_digit());
            if let Some(scale) = unit_millis(unit) {
                let value: f64 = text[..text.len() - unit.len()].parse().unwrap_or(0.0);
                let smaller = match unit {
                    "d" => Some(("h", 24.0)),
                    "h" => Some(("m", 60.0)),
                    "m" => Some(("s", 60.0)),
                    "s" => Some(("ms", 1000.0)),
                    _ => None,
                };
                let help = match smaller {
                    Some((u, f)) if (value * f).fract() == 0.0 => {
                        format!("write `{}{u}`", (value * f) as i64)
                    }
                    _ => format!(
                        "write a whole number of a smaller unit, e.g. `{}ms`",
                        (value * scale as f64).round() as i64
                    ),
                };
                self.error(
                    format!("durations take whole numbers, found `{text}`"),
                    span,
                    "fractional duration",
                    Some(help),
                );
                return;
            }
        }
        let unit = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        let help = match unit {
            "sec" | "secs" | "second" | "seconds" => Some(format!("write `{digits}s`")),
            "min" | "mins" | "minute" | "minutes" => Some(format!("write `{digits}m`")),
            "hr" | "hrs" | "hour" | "hours" => Some(format!("write `{digits}h`")),
            "day" | "days" => Some(format!("write `{digits}d`")),
            "msec" | "millis" | "milliseconds" => Some(format!("write `{digits}ms`")),
            "K" => Some(format!("write `{digits}k`")),
            "g" => Some(format!("write `{digits}G`")),
            _ => None,
        }
        .unwrap_or_else(|| {
            "durations use `ms`, `s`, `m`, `h`, `d`; counts use `k`, `M`, `G`".to_string()
        });
        self.error(
            format!("unknown unit `{unit}` in `{text}`"),
            span,
            "unknown unit",
            Some(help),
        );
    }

    fn string(&mut self, text: &str, span: Span) -> Option<String> {
        let body = &text[1..text.len() - 1];
        let mut out = String::with_capacity(body.len());
        let mut chars = body.char_indices();
        let mut ok = true;
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((j, other)) => {
                    let lo = span.lo + 1 + i;
                    let esc = Span::new(lo, span.lo + 1 + j + other.len_utf8());
                    self.error(
                        format!("unknown escape `\\{other}` in a string"),
                        esc,
                        "unknown escape",
                        Some("strings know `\\\"`, `\\\\`, `\\n`, `\\t` and `\\r`".into()),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn checkpoint(&mut self, pair: Pair<'_, Rule>) -> CheckpointDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair);
        let every = inner.next().expect("invariant: checkpoint interval");
        let dir = inner.next().expect("invariant: checkpoint directory");
        let mut negative = false;
        let mut duration = None;
        for part in every.into_inner() {
            match part.as_rule() {
                Rule::op_neg => negative = true,
                _ => duration = Some(self.duration(part)),
            }
        }
        let dir_span = span_of(&dir);
        CheckpointDecl {
            every: duration.expect("invariant: checkpoint_every has a dur_value"),
            negative,
            dir: self.string(dir.as_str(), dir_span),
            dir_span,
            span,
        }
    }

    fn duration(&mut self, pair: Pair<'_, Rule>) -> DurationAst {
        // `pair` is a dur_value.
        let span = span_of(&pair);
        let inner = pair
            .into_inner()
            .next()
            .expect("invariant: dur_value has one child");
        let value = match inner.as_rule() {
            Rule::int_lit | Rule::float_lit => DurationValue::Unitless(inner.as_str().to_string()),
            _ => match self.literal(&inner) {
                Some(Literal::Duration(ms)) => DurationValue::Millis(ms),
                _ => DurationValue::Invalid,
            },
        };
        DurationAst { value, span }
    }

    fn pipeline(&mut self, pair: Pair<'_, Rule>) -> PipelineDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair);
        let name = ident_of(&inner.next().expect("invariant: pipeline name"));
        let mut on_error = None;
        let mut from = None;
        let mut stages = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::on_error_line => {
                    let span = span_of(&p);
                    on_error = significant(p)
                        .find(|n| n.as_rule() == Rule::ident)
                        .map(|n| (span, ident_of(&n)));
                }
                Rule::from_line => {
                    from = significant(p).next().map(|n| ident_of(&n));
                }
                Rule::pipe_stage => stages.push(self.stage(p)),
                _ => {}
            }
        }
        PipelineDecl {
            name,
            on_error,
            from: from.expect("invariant: a pipeline has a from line"),
            stages,
            span,
        }
    }

    fn stage(&mut self, pair: Pair<'_, Rule>) -> Stage {
        let stage = pair
            .into_inner()
            .next()
            .expect("invariant: pipe_stage has one child");
        let span = span_of(&stage);
        let rule = stage.as_rule();
        let mut children = stage.into_inner().peekable();
        // The keyword span: leading keyword pairs (`key by` is two).
        let mut keyword = Span::new(span.lo, span.lo);
        while let Some(k) = children.peek() {
            if !is_keyword(k.as_rule()) {
                break;
            }
            keyword = keyword.to(span_of(k));
            children.next();
        }
        let kind = match rule {
            Rule::where_stage => {
                StageKind::Where(self.expr(children.next().expect("invariant: where expr")))
            }
            Rule::map_stage => StageKind::Map(
                children
                    .map(|a| {
                        let mut parts = a.into_inner();
                        let target = ident_of(&parts.next().expect("invariant: target"));
                        let value = self.expr(parts.next().expect("invariant: value"));
                        Assignment { target, value }
                    })
                    .collect(),
            ),
            Rule::select_stage => StageKind::Select(children.map(|n| self.named(n)).collect()),
            Rule::aggregate_stage => {
                StageKind::Aggregate(children.map(|n| self.named(n)).collect())
            }
            Rule::key_by_stage => StageKind::KeyBy(children.map(|k| ident_of(&k)).collect()),
            Rule::dedupe_stage => {
                let mut keys = Vec::new();
                let mut within = None;
                for p in children {
                    match p.as_rule() {
                        Rule::field_name => keys.push(ident_of(&p)),
                        Rule::dur_value => within = Some(self.duration(p)),
                        _ => {}
                    }
                }
                StageKind::Dedupe(DedupeAst {
                    keys,
                    within: within.expect("invariant: dedupe interval"),
                })
            }
            Rule::to_stage => StageKind::To(ident_of(&children.next().expect("invariant: sink"))),
            Rule::lookup_stage => {
                // Keywords inside (`on`) are skipped; what is left is table, field, miss.
                let mut parts = children.filter(|p| !is_keyword(p.as_rule()));
                let table = ident_of(&parts.next().expect("invariant: lookup table"));
                let field = ident_of(&parts.next().expect("invariant: lookup field"));
                let on_miss = parts.next().map(|miss| {
                    let span = span_of(&miss);
                    let how = significant(miss).next().expect("invariant: miss kind");
                    let kind = match how.as_rule() {
                        Rule::miss_drop => MissKind::Drop,
                        Rule::miss_keep_null => MissKind::KeepNull,
                        _ => MissKind::To(ident_of(
                            &significant(how).next().expect("invariant: miss sink"),
                        )),
                    };
                    MissAst { kind, span }
                });
                StageKind::Lookup(LookupAst {
                    table,
                    field,
                    on_miss,
                })
            }
            Rule::window_stage => StageKind::Window(self.window(children)),
            Rule::join_stage => StageKind::Join(self.join(children)),
            Rule::detect_stage => StageKind::Detect(self.detect(children)),
            Rule::forecast_stage => StageKind::Forecast(self.forecast(children)),
            Rule::infer_stage => {
                let mut parts = children.filter(|p| !is_keyword(p.as_rule()));
                let model = ident_of(&parts.next().expect("invariant: infer model"));
                let with = parts.next().expect("invariant: infer inputs");
                let inputs_span = span_of(&with);
                let inputs = with.into_inner().map(|f| ident_of(&f)).collect();
                let outputs = parts
                    .next()
                    .expect("invariant: infer outputs")
                    .into_inner()
                    .map(|f| ident_of(&f))
                    .collect();
                StageKind::Infer(InferAst {
                    model,
                    inputs,
                    inputs_span,
                    outputs,
                })
            }
            Rule::alert_stage => StageKind::Alert(self.alert(children)),
            Rule::unnest_stage => {
                let mut parts = children.filter(|p| !is_keyword(p.as_rule()));
                let list = ident_of(&parts.next().expect("invariant: unnest list"));
                let name = ident_of(&parts.next().expect("invariant: unnest name"));
                let ordinality = parts
                    .next()
                    .and_then(|o| significant(o).next())
                    .map(|n| ident_of(&n));
                StageKind::Unnest(UnnestAst {
                    list,
                    name,
                    ordinality,
                })
            }
            Rule::future_stage => {
                let kw = children.next().expect("invariant: future stage keyword");
                keyword = span_of(&kw);
                StageKind::Unsupported(ident_of(&kw))
            }
            _ => {
                let word = ident_of(&children.next().expect("invariant: unknown stage word"));
                keyword = word.span;
                StageKind::Unknown(word)
            }
        };
        Stage {
            kind,
            span,
            keyword,
        }
    }

    fn join<'i>(&mut self, children: impl Iterator<Item = Pair<'i, Rule>>) -> JoinAst {
        let mut input = None;
        let mut alias = None;
        let mut on = Vec::new();
        let mut time = None;
        for p in children.filter(|p| !is_keyword(p.as_rule())) {
            match p.as_rule() {
                Rule::ident => input = Some(ident_of(&p)),
                Rule::join_alias => alias = significant(p).next().map(|n| ident_of(&n)),
                Rule::join_pair => {
                    let mut sides = p.into_inner();
                    let left = ident_of(&sides.next().expect("invariant: join left field"));
                    let right = ident_of(&sides.next().expect("invariant: join right field"));
                    on.push((left, right));
                }
                Rule::join_within => {
                    let d = significant(p).next().expect("invariant: within duration");
                    time = Some(JoinTimeAst::Within(self.duration(d)));
                }
                _ => time = Some(JoinTimeAst::Window(self.window(significant(p)))),
            }
        }
        JoinAst {
            input: input.expect("invariant: join input"),
            alias,
            on,
            time,
        }
    }

    fn forecast<'i>(&mut self, children: impl Iterator<Item = Pair<'i, Rule>>) -> ForecastAst {
        let mut parts = children.filter(|p| !is_keyword(p.as_rule()));
        let field = ident_of(&parts.next().expect("invariant: forecast field"));
        let horizon = self.duration(parts.next().expect("invariant: forecast horizon"));
        let mut every = None;
        let mut algorithm = None;
        let mut params = Vec::new();
        let mut name = None;
        for p in parts {
            match p.as_rule() {
                Rule::dur_value => every = Some(self.duration(p)),
                Rule::detect_param => params.push(self.param(p)),
                _ if algorithm.is_none() => algorithm = Some(ident_of(&p)),
                _ => name = Some(ident_of(&p)),
            }
        }
        ForecastAst {
            field,
            horizon,
            every,
            algorithm: algorithm.expect("invariant: forecast algorithm"),
            params,
            name: name.expect("invariant: forecast ends with `as <name>`"),
        }
    }

    fn alert<'i>(&mut self, children: impl Iterator<Item = Pair<'i, Rule>>) -> AlertAst {
        let mut parts = children.filter(|p| !is_keyword(p.as_rule()));
        let name = ident_of(&parts.next().expect("invariant: alert name"));
        let clauses = parts
            .filter_map(|p| {
                let span = span_of(&p);
                let kind = self.alert_clause(p)?;
                Some(AlertClause { kind, span })
            })
            .collect();
        AlertAst { name, clauses }
    }

    fn alert_clause(&mut self, p: Pair<'_, Rule>) -> Option<AlertClauseKind> {
        let rule = p.as_rule();
        let mut inner = significant(p);
        Some(match rule {
            Rule::alert_level => {
                let level = ident_of(&part(&mut inner));
                let when = self.expr(part(&mut inner));
                AlertClauseKind::Level { level, when }
            }
            Rule::alert_resolve => AlertClauseKind::Resolve(self.expr(part(&mut inner))),
            Rule::alert_for => AlertClauseKind::For(self.duration(part(&mut inner))),
            Rule::alert_keep => AlertClauseKind::KeepFiring(self.duration(part(&mut inner))),
            Rule::alert_repeat => AlertClauseKind::Repeat(self.duration(part(&mut inner))),
            Rule::alert_no_recoveries => AlertClauseKind::NoRecoveries,
            Rule::alert_deadman => AlertClauseKind::Deadman(self.duration(part(&mut inner))),
            Rule::alert_flapping => {
                let low = self.share(part(&mut inner));
                let high = self.share(part(&mut inner));
                let history = inner.next().map(|n| {
                    let span = span_of(&n);
                    (
                        n.as_str().replace('_', "").parse::<i64>().unwrap_or(-1),
                        span,
                    )
                });
                AlertClauseKind::Flapping { low, high, history }
            }
            Rule::alert_silenced => AlertClauseKind::Silenced(ident_of(&part(&mut inner))),
            Rule::alert_group => {
                let (mut by, mut wait, mut interval) = (Vec::new(), None, None);
                for p in inner {
                    match p.as_rule() {
                        Rule::group_wait => wait = Some(self.duration(part(&mut significant(p)))),
                        Rule::group_interval => {
                            interval = Some(self.duration(part(&mut significant(p))))
                        }
                        _ => by.push(ident_of(&p)),
                    }
                }
                AlertClauseKind::Group { by, wait, interval }
            }
            Rule::alert_id | Rule::alert_message => {
                let lit = part(&mut inner);
                let span = span_of(&lit);
                let text = self.string(lit.as_str(), span)?;
                let t = TemplateText { text, span };
                if rule == Rule::alert_id {
                    AlertClauseKind::Id(t)
                } else {
                    AlertClauseKind::Message(t)
                }
            }
            _ => return None,
        })
    }

    /// A `flap_value`: `25%`, `0.25` or `1`, as a fraction.
    fn share(&mut self, p: Pair<'_, Rule>) -> (f64, Span) {
        let span = span_of(&p);
        let v = p.into_inner().next().expect("invariant: flap value");
        let text = v.as_str().replace('_', "");
        let value = match v.as_rule() {
            Rule::percent_lit => text.trim_end_matches('%').parse::<f64>().map(|x| x / 100.0),
            _ => text.parse::<f64>(),
        };
        (value.unwrap_or(f64::NAN), span)
    }

    fn param(&mut self, p: Pair<'_, Rule>) -> (Ident, ParamValue) {
        let mut kv = p.into_inner();
        let key = ident_of(&kv.next().expect("invariant: parameter name"));
        let v = kv.next().expect("invariant: parameter value");
        let value = if v.as_rule() == Rule::percent_lit {
            let text = v.as_str().trim_end_matches('%').replace('_', "");
            ParamValue::Percent(text.parse::<f64>().unwrap_or(f64::NAN) / 100.0, span_of(&v))
        } else if v.as_rule() == Rule::negative_lit {
            let text = v.as_str().replace('_', "");
            let kind = match text.parse::<i64>() {
                Ok(i) => OptionValueKind::Int(i),
                Err(_) => OptionValueKind::Float(text.parse::<f64>().unwrap_or(f64::NAN)),
            };
            ParamValue::Value(OptionValueAst {
                kind,
                span: span_of(&v),
            })
        } else {
            ParamValue::Value(self.option_value(v))
        };
        (key, value)
    }

    fn detect<'i>(&mut self, children: impl Iterator<Item = Pair<'i, Rule>>) -> DetectAst {
        let mut parts = children.filter(|p| !is_keyword(p.as_rule()));
        let field = ident_of(&parts.next().expect("invariant: detect field"));
        let algorithm = ident_of(&parts.next().expect("invariant: detect algorithm"));
        let mut params = Vec::new();
        let mut warmup = None;
        let mut name = None;
        for p in parts {
            match p.as_rule() {
                Rule::detect_param => params.push(self.param(p)),
                Rule::detect_warmup => {
                    if let Some(n) = significant(p).next() {
                        if let Some(Literal::Int(i)) = self.literal(&n) {
                            warmup = Some((i, span_of(&n)));
                        }
                    }
                }
                _ => name = Some(ident_of(&p)),
            }
        }
        DetectAst {
            field,
            algorithm,
            params,
            warmup,
            name: name.expect("invariant: detect ends with `as <name>`"),
        }
    }

    fn named(&mut self, pair: Pair<'_, Rule>) -> NamedExpr {
        let span = span_of(&pair);
        let mut parts: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let keep = match parts.last() {
            Some(p) if p.as_rule() == Rule::agg_keep => {
                let keep = parts.pop().expect("invariant: just seen");
                significant(keep).map(|f| ident_of(&f)).collect()
            }
            _ => Vec::new(),
        };
        let value = self.expr(parts.pop().expect("invariant: named_expr has a value"));
        let name = parts.pop().map(|n| ident_of(&n));
        NamedExpr {
            name,
            value,
            keep,
            span,
        }
    }

    fn window<'i>(&mut self, mut children: impl Iterator<Item = Pair<'i, Rule>>) -> WindowAst {
        let kind_pair = children
            .next()
            .expect("invariant: window kind")
            .into_inner()
            .next()
            .expect("invariant: window_kind has one child");
        let kind_span = span_of(&kind_pair);
        let rule = kind_pair.as_rule();
        let mut durations: Vec<DurationAst> = Vec::new();
        let mut word = None;
        let mut fields: Vec<Ident> = Vec::new();
        let mut counts: Vec<Option<i64>> = Vec::new();
        for p in kind_pair.into_inner() {
            match p.as_rule() {
                Rule::int_value => counts.push(self.int_value(p)),
                Rule::dur_value => durations.push(self.duration(p)),
                Rule::field_name => fields.push(ident_of(&p)),
                Rule::ident if word.is_none() => word = Some(ident_of(&p)),
                _ => {}
            }
        }
        let mut durations = durations.into_iter();
        let kind = match rule {
            Rule::tumbling_window => WindowKindAst::Tumbling {
                size: durations.next().expect("invariant: tumbling size"),
                offset: durations.next(),
            },
            Rule::sliding_window => WindowKindAst::Sliding {
                size: durations.next().expect("invariant: sliding size"),
                every: durations.next().expect("invariant: sliding period"),
            },
            Rule::session_window => WindowKindAst::Session {
                gap: durations.next().expect("invariant: session gap"),
                max: durations.next(),
            },
            Rule::global_window => WindowKindAst::Global,
            Rule::until_window => {
                let mut fields = fields.into_iter();
                WindowKindAst::Until {
                    end: fields.next().expect("invariant: until field"),
                    start: fields.next(),
                }
            }
            Rule::count_window => WindowKindAst::Count {
                size: counts.first().copied().flatten(),
                every: counts.get(1).copied(),
            },
            _ => WindowKindAst::Unknown(word.expect("invariant: unknown window word")),
        };
        let mut children = children.peekable();
        let processing_time = children
            .next_if(|p| p.as_rule() == Rule::time_domain)
            .map(|p| span_of(&p));
        let clauses = children
            .map(|clause| {
                let span = span_of(&clause);
                let c = clause
                    .into_inner()
                    .next()
                    .expect("invariant: window_clause has one child");
                let kind = match c.as_rule() {
                    Rule::emit_clause => {
                        let body = significant(c).next().expect("invariant: emit body");
                        WindowClauseKind::Emit(match body.as_rule() {
                            Rule::emit_sugar => self.emit_sugar(body),
                            _ => self.trigger(body),
                        })
                    }
                    Rule::allow_late_clause => WindowClauseKind::AllowLate(
                        self.duration(significant(c).next().expect("invariant: lateness")),
                    ),
                    Rule::accumulation_mode => match c.as_str() {
                        "accumulate" => WindowClauseKind::Accumulate,
                        "discard" => WindowClauseKind::Discard,
                        _ => WindowClauseKind::Retract,
                    },
                    Rule::late_to_clause => WindowClauseKind::LateTo(ident_of(
                        &significant(c).next().expect("invariant: late sink"),
                    )),
                    _ => WindowClauseKind::Timestamp(
                        c.as_str()
                            .trim_start_matches("timestamp")
                            .trim()
                            .to_string(),
                    ),
                };
                WindowClause { kind, span }
            })
            .collect();
        WindowAst {
            kind,
            kind_span,
            processing_time,
            clauses,
        }
    }

    /// A `trigger_expr` (or one of its terms) in canonical form.
    fn trigger(&mut self, pair: Pair<'_, Rule>) -> TriggerAst {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut inner: Vec<Pair<'_, Rule>> = significant(pair).collect();
        let kind = match rule {
            Rule::trigger_expr => {
                if inner.len() == 1 {
                    return self.trigger(inner.remove(0));
                }
                let until = self.trigger(inner.pop().expect("invariant: until operand"));
                let first = self.trigger(inner.pop().expect("invariant: until operand"));
                TriggerKindAst::Until(Box::new(first), Box::new(until))
            }
            Rule::trig_watermark => {
                let (mut early, mut late) = (None, None);
                for arg in inner {
                    let which = arg.as_str().trim_start().starts_with("early");
                    let t = self.trigger(significant(arg).next().expect("invariant: trigger"));
                    let slot = if which { &mut early } else { &mut late };
                    if slot.is_some() {
                        self.error(
                            "this firing is given twice",
                            t.span,
                            "given again here",
                            Some("write each of `early:` and `late:` at most once".into()),
                        );
                    }
                    *slot = Some(Box::new(t));
                }
                TriggerKindAst::Watermark { early, late }
            }
            Rule::trig_count => {
                TriggerKindAst::Count(self.int_value(inner.pop().expect("invariant: count")))
            }
            Rule::trig_processing => TriggerKindAst::Processing(
                self.duration(inner.pop().expect("invariant: processing delay")),
            ),
            Rule::trig_repeat => TriggerKindAst::Repeat(Box::new(
                self.trigger(inner.pop().expect("invariant: repeated trigger")),
            )),
            Rule::trig_any | Rule::trig_all | Rule::trig_each => {
                let ts: Vec<TriggerAst> = inner.into_iter().map(|p| self.trigger(p)).collect();
                match rule {
                    Rule::trig_any => TriggerKindAst::Any(ts),
                    Rule::trig_all => TriggerKindAst::All(ts),
                    _ => TriggerKindAst::Each(ts),
                }
            }
            _ => TriggerKindAst::Never,
        };
        TriggerAst { kind, span }
    }

    /// `early every 10s, on watermark, late every event` and `every 100 events`.
    fn emit_sugar(&mut self, pair: Pair<'_, Rule>) -> TriggerAst {
        let span = span_of(&pair);
        let (mut early, mut on_time, mut late, mut plain) = (None, false, None, None);
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::sugar_on_time => on_time = true,
                Rule::sugar_early | Rule::sugar_late => {
                    let is_early = item.as_rule() == Rule::sugar_early;
                    let rate = significant(item).next().expect("invariant: rate");
                    let t = self.sugar_rate(rate);
                    if is_early {
                        early = Some(Box::new(t));
                    } else {
                        late = Some(Box::new(t));
                    }
                }
                _ => plain = Some(self.sugar_rate(item)),
            }
        }
        let kind = match plain {
            // `every …` alone repeats; mixed with the watermark it is an error the
            // checker cannot see, so it is reported here.
            Some(t) if early.is_none() && late.is_none() && !on_time => {
                TriggerKindAst::Repeat(Box::new(t))
            }
            Some(t) => {
                self.error(
                    "`every …` cannot be combined with `early`, `on watermark` or `late`",
                    t.span,
                    "ambiguous firing",
                    Some("write `early every …` or `late every …`".into()),
                );
                TriggerKindAst::Never
            }
            // `on watermark` alone is Beam's default trigger.
            None if early.is_none() && late.is_none() => {
                TriggerKindAst::Repeat(Box::new(TriggerAst {
                    kind: TriggerKindAst::Watermark {
                        early: None,
                        late: None,
                    },
                    span,
                }))
            }
            None => TriggerKindAst::Watermark { early, late },
        };
        TriggerAst { kind, span }
    }

    /// `every event` → `count(1)`, `every n events` → `count(n)`, `every d` →
    /// `processing(d)`.
    fn sugar_rate(&mut self, pair: Pair<'_, Rule>) -> TriggerAst {
        let span = span_of(&pair);
        let kind = match significant(pair).next() {
            None => TriggerKindAst::Count(Some(1)),
            Some(p) if p.as_rule() == Rule::int_value => TriggerKindAst::Count(self.int_value(p)),
            Some(p) => TriggerKindAst::Processing(self.duration(p)),
        };
        TriggerAst { kind, span }
    }

    /// A whole number where one is required (`count(100)`, `every 5k events`).
    fn int_value(&mut self, pair: Pair<'_, Rule>) -> Option<i64> {
        let token = pair.into_inner().next().expect("invariant: number token");
        match token.as_rule() {
            Rule::int_lit | Rule::count_lit => match self.literal(&token) {
                Some(Literal::Int(i)) => Some(i),
                _ => None,
            },
            _ => {
                self.error(
                    "expected a whole number",
                    span_of(&token),
                    "not a whole number",
                    Some("write e.g. `count(100)`".into()),
                );
                None
            }
        }
    }

    /// `test "name" { … }`.
    fn test(&mut self, pair: Pair<'_, Rule>) -> TestDecl {
        let span = span_of(&pair);
        let mut inner = significant(pair);
        let name_pair = inner.next().expect("invariant: test name");
        let name = self
            .string(name_pair.as_str(), span_of(&name_pair))
            .unwrap_or_default();
        let steps = inner.map(|p| self.test_step(p)).collect();
        TestDecl { name, steps, span }
    }

    fn test_step(&mut self, pair: Pair<'_, Rule>) -> TestStepAst {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut inner: Vec<Pair<'_, Rule>> = significant(pair).collect();
        let kind = match rule {
            Rule::given_step => {
                let source = ident_of(&inner.remove(0));
                let records = inner.into_iter().map(|r| self.record_lit(r)).collect();
                TestStepKind::Given { source, records }
            }
            Rule::watermark_step => {
                let time = self.time_value(inner.pop().expect("invariant: watermark time"));
                let source = inner.pop().map(|p| ident_of(&p));
                TestStepKind::Watermark { source, time }
            }
            Rule::clock_step => {
                TestStepKind::Clock(self.time_value(inner.pop().expect("invariant: clock time")))
            }
            _ => {
                let sink = ident_of(&inner.remove(0));
                let records = inner.into_iter().map(|r| self.record_lit(r)).collect();
                TestStepKind::Expect { sink, records }
            }
        };
        TestStepAst { kind, span }
    }

    fn record_lit(&mut self, pair: Pair<'_, Rule>) -> RecordLit {
        let span = span_of(&pair);
        let fields = pair
            .into_inner()
            .map(|field| {
                let fspan = span_of(&field);
                let mut parts = field.into_inner();
                let name = ident_of(&parts.next().expect("invariant: field name"));
                let value = parts.next().expect("invariant: field value");
                let value = if value.as_rule() == Rule::list_value {
                    let items = value.into_inner().map(|v| self.value_lit(v)).collect();
                    Some(TestValue::List(items))
                } else {
                    self.value_lit(value).map(TestValue::Scalar)
                };
                (name, value, fspan)
            })
            .collect();
        RecordLit { fields, span }
    }

    fn value_lit(&mut self, pair: Pair<'_, Rule>) -> Option<Literal> {
        let mut negative = false;
        let mut value = None;
        for p in pair.into_inner() {
            if p.as_rule() == Rule::op_neg {
                negative = true;
            } else {
                value = self.literal(&p);
            }
        }
        match (negative, value) {
            (true, Some(Literal::Int(i))) => Some(Literal::Int(-i)),
            (true, Some(Literal::Float(f))) => Some(Literal::Float(-f)),
            (true, Some(Literal::Duration(d))) => Some(Literal::Duration(-d)),
            (_, v) => v,
        }
    }

    fn time_value(&mut self, pair: Pair<'_, Rule>) -> TimeLit {
        let span = span_of(&pair);
        let token = pair.into_inner().next().expect("invariant: time token");
        let value = match self.literal(&token) {
            Some(Literal::Int(ms)) => Some(ms),
            Some(Literal::Str(text)) => {
                let t = weir_engine::time::parse_timestamp(&text);
                if t.is_none() {
                    self.error(
                        "not a timestamp",
                        span,
                        "expected RFC 3339",
                        Some("write e.g. `\"2024-05-01T10:00:00Z\"`, or epoch milliseconds".into()),
                    );
                }
                t
            }
            _ => None,
        };
        TimeLit { value, span }
    }

    /// An `expression` or `bound_expr` pair.
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        // Each operator or operand of the sequence may add a level to the tree; stop
        // before building a tree later passes could not walk without overflowing.
        let parts = pair.clone().into_inner().count();
        if self.expr_depth + parts > nesting::MAX_EXPR_DEPTH {
            let span = span_of(&pair);
            self.diagnostics.push(nesting::expression_too_deep(span));
            return Expr {
                kind: ExprKind::Invalid,
                span,
            };
        }
        self.expr_depth += parts;
        let expr = self.pratt_expr(pair.into_inner());
        self.expr_depth -= parts;
        expr
    }

    fn pratt_expr(&mut self, pairs: Pairs<'_, Rule>) -> Expr {
        // The Pratt callbacks all need `self`; share it through a RefCell.
        let this = std::cell::RefCell::new(self);
        let expr = pratt()
            .map_primary(|p| this.borrow_mut().primary(p))
            .map_prefix(|op, operand| {
                let op_span = span_of(&op);
                let span = op_span.to(operand.span);
                if op.as_rule() == Rule::op_neg {
                    // Fold `-<number>` into a negative literal.
                    match operand.kind {
                        ExprKind::Literal(Literal::Int(i)) => {
                            return Expr {
                                kind: ExprKind::Literal(Literal::Int(-i)),
                                span,
                            }
                        }
                        ExprKind::Literal(Literal::Float(f)) => {
                            return Expr {
                                kind: ExprKind::Literal(Literal::Float(-f)),
                                span,
                            }
                        }
                        _ => {}
                    }
                }
                let op = if op.as_rule() == Rule::op_neg {
                    UnaryOp::Neg
                } else {
                    UnaryOp::Not
                };
                Expr {
                    kind: ExprKind::Unary {
                        op,
                        op_span,
                        operand: Box::new(operand),
                    },
                    span,
                }
            })
            .map_postfix(|value, op| {
                let span = value.span.to(span_of(&op));
                let kind = if op.as_rule() == Rule::between_tail {
                    let mut bounds = op.into_inner().filter(|p| p.as_rule() == Rule::bound_expr);
                    let mut this = this.borrow_mut();
                    let lo = this.expr(bounds.next().expect("invariant: between low"));
                    let hi = this.expr(bounds.next().expect("invariant: between high"));
                    ExprKind::Between {
                        value: Box::new(value),
                        lo: Box::new(lo),
                        hi: Box::new(hi),
                    }
                } else {
                    let list = significant(op).map(|e| this.borrow_mut().expr(e)).collect();
                    ExprKind::In {
                        value: Box::new(value),
                        list,
                    }
                };
                Expr { kind, span }
            })
            .map_infix(|lhs, op, rhs| {
                let op_span = span_of(&op);
                let op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_coalesce => BinaryOp::Coalesce,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    _ => BinaryOp::Rem,
                };
                Expr {
                    span: lhs.span.to(rhs.span),
                    kind: ExprKind::Binary {
                        op,
                        op_span,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                }
            })
            .parse(pairs);
        expr
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::paren_expr => {
                // The span keeps the parentheses, so messages quote what was written.
                self.expr(pair.into_inner().next().expect("invariant: parenthesised"))
                    .kind
            }
            Rule::field_ref => ExprKind::Field(pair.as_str().to_string()),
            Rule::if_expr => {
                let mut parts = significant(pair).map(|e| self.expr(e));
                let (Some(c), Some(a), Some(b)) = (parts.next(), parts.next(), parts.next()) else {
                    unreachable!("invariant: `if` has a condition and two values")
                };
                ExprKind::Cond {
                    branches: vec![(c, a)],
                    otherwise: Some(Box::new(b)),
                }
            }
            Rule::case_expr => {
                let mut branches = Vec::new();
                let mut otherwise = None;
                for part in significant(pair) {
                    let is_when = part.as_rule() == Rule::case_when;
                    let mut exprs = significant(part).map(|e| self.expr(e));
                    match (is_when, exprs.next(), exprs.next()) {
                        (true, Some(c), Some(v)) => branches.push((c, v)),
                        (false, Some(v), None) => otherwise = Some(Box::new(v)),
                        _ => unreachable!("invariant: `when c then v` or `else v`"),
                    }
                }
                ExprKind::Cond {
                    branches,
                    otherwise,
                }
            }
            Rule::func_call => {
                let mut inner = pair.into_inner();
                let func = ident_of(&inner.next().expect("invariant: function name"));
                let args = inner.map(|a| self.expr(a)).collect();
                ExprKind::Call { func, args }
            }
            _ => match self.literal(&pair) {
                Some(lit) => ExprKind::Literal(lit),
                None => ExprKind::Invalid,
            },
        };
        Expr { kind, span }
    }
}
