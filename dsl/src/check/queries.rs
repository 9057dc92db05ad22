//! Scheduled queries (`query name every 1h = sql"""SELECT …""" | to sink`): the schedule,
//! the sinks, and the SQL itself, parsed with sqlparser (the parser DataFusion uses) so
//! that `weir check` finds a syntax error, an unknown lake table or an unknown column on
//! every build, with the place inside the SQL.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions, visit_relations, Expr, ObjectName, Query, SelectItem, SetExpr, Spanned,
    Statement, TableFactor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Location;
use weir_engine::plan::{sink_schemas, LogicalPlan, OptionValue};

use crate::ast::{DurationValue, Item, Program, QueryDecl};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

/// The lake connector: its sinks are the tables a query reads.
const LAKE_KIND: &str = "parquet";
/// A day, the longest period an `at` time of day applies to.
const DAY_MS: i64 = 86_400_000;

/// A checked scheduled query, for `weir run`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledQuery {
    /// Its name.
    pub name: String,
    /// The SQL (DataFusion's dialect).
    pub sql: String,
    /// How often it runs, in milliseconds of processing time.
    pub every_ms: i64,
    /// Its runs fall at this offset (ms) within each period, counted from the Unix epoch
    /// (`at 01:00` with `every 1d`: 01:00 UTC every day); 0 without `at`.
    pub offset_ms: i64,
    /// The lake tables it reads.
    pub tables: Vec<String>,
    /// The sinks its rows go to.
    pub to: Vec<String>,
}

/// The columns a lake sink's files have, as SQL names them, by table (sink) name.
fn lake_columns(plan: &LogicalPlan) -> HashMap<String, HashSet<String>> {
    let mut tables: HashMap<String, HashSet<String>> = HashMap::new();
    for sink in plan.sinks.iter().filter(|s| s.connector.kind == LAKE_KIND) {
        let columns = tables.entry(sink.name.clone()).or_default();
        // Partition folders by a time part are columns too (`date`, `hour`).
        if let Some(OptionValue::List(keys)) = sink.connector.option("partition_by") {
            for key in keys {
                if let OptionValue::Call { func, .. } = key {
                    columns.insert(func.clone());
                }
            }
        } else if let Some(OptionValue::Call { func, .. }) = sink.connector.option("partition_by") {
            columns.insert(func.clone());
        }
    }
    for (name, schema) in sink_schemas(plan) {
        let Some(columns) = tables.get_mut(&name) else {
            continue;
        };
        let dotted = plan.sink(&name).is_some_and(|s| {
            matches!(s.connector.option("column_names"),
                Some(OptionValue::Ident(w)) if w == "dotted")
        });
        for field in &schema.fields {
            let column = if dotted {
                field.name.clone()
            } else {
                field.name.replace('.', "_")
            };
            columns.insert(column);
        }
    }
    tables
}

/// Checks every `query` declaration against the lowered plan (a lake's columns are known
/// only now) and returns them ready to run.
pub(crate) fn check(
    program: &Program,
    plan: &LogicalPlan,
) -> (Vec<ScheduledQuery>, Vec<Diagnostic>) {
    let lakes = lake_columns(plan);
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for item in &program.items {
        let Item::Query(decl) = item else { continue };
        if let Some(first) = seen.insert(&decl.name.name, decl.name.span) {
            diagnostics.push(
                Diagnostic::error(
                    codes::BAD_QUERY_SINK,
                    format!("the query `{}` is declared twice", decl.name.name),
                    decl.name.span,
                    "declared again here",
                )
                .with_secondary(first, "first declared here")
                .with_help("give each scheduled query its own name"),
            );
        }
        let before = diagnostics.len();
        let schedule = schedule(decl, &mut diagnostics);
        let tables = check_sql(decl, &lakes, &mut diagnostics);
        check_sinks(decl, plan, &tables, &mut diagnostics);
        if let (Some((every_ms, offset_ms)), true) = (schedule, diagnostics.len() == before) {
            out.push(ScheduledQuery {
                name: decl.name.name.clone(),
                sql: decl.sql.clone(),
                every_ms,
                offset_ms,
                tables,
                to: decl.to.iter().map(|t| t.name.clone()).collect(),
            });
        }
    }
    (out, diagnostics)
}

/// `every d [at hh:mm]` as (period, offset) in milliseconds.
fn schedule(decl: &QueryDecl, diagnostics: &mut Vec<Diagnostic>) -> Option<(i64, i64)> {
    let every = match &decl.every.value {
        DurationValue::Millis(ms) if *ms > 0 => *ms,
        DurationValue::Invalid => return None,
        DurationValue::Unitless(n) => {
            diagnostics.push(
                Diagnostic::error(
                    codes::BAD_QUERY_SCHEDULE,
                    format!("`every {n}` has no unit"),
                    decl.every.span,
                    "a duration needs a unit",
                )
                .with_help(format!("write e.g. `every {n}m` or `every {n}h`")),
            );
            return None;
        }
        DurationValue::Millis(_) => {
            diagnostics.push(
                Diagnostic::error(
                    codes::BAD_QUERY_SCHEDULE,
                    "a scheduled query cannot run every 0 ms",
                    decl.every.span,
                    "not a period",
                )
                .with_help("write a positive period such as `every 1h`"),
            );
            return None;
        }
    };
    let Some(at) = &decl.at else {
        return Some((every, 0));
    };
    let offset = at.name.split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
        (h < 24 && m < 60 && h.to_string().len() <= 2).then_some((h * 60 + m) * 60_000)
    });
    let problem = match offset {
        None => format!("`{}` is not a time of day", at.name),
        Some(_) if every % DAY_MS != 0 => {
            "`at` needs a period of whole days (`every 1d`)".to_string()
        }
        Some(offset) => return Some((every, offset)),
    };
    diagnostics.push(
        Diagnostic::error(codes::BAD_QUERY_SCHEDULE, problem, at.span, "here")
            .with_secondary(decl.every.span, "the period")
            .with_help("write e.g. `every 1d at 01:00` (UTC), or drop `at` for a shorter period"),
    );
    None
}

/// The byte offset in the file of a (1-based) line and column of the SQL text.
fn file_offset(decl: &QueryDecl, at: Location) -> usize {
    if at.line == 0 {
        return decl.sql_span.lo;
    }
    let mut offset = decl.sql_span.lo;
    for (i, line) in decl.sql.split_inclusive('\n').enumerate() {
        if i + 1 == at.line as usize {
            let chars = line
                .char_indices()
                .nth(at.column.saturating_sub(1) as usize);
            return offset + chars.map_or(line.len(), |(b, _)| b);
        }
        offset += line.len();
    }
    decl.sql_span.hi
}

/// The span in the file of an SQL node, or the whole SQL when sqlparser has no place.
fn sql_span(decl: &QueryDecl, node: sqlparser::tokenizer::Span) -> Span {
    if node.start.line == 0 {
        return decl.sql_span;
    }
    let lo = file_offset(decl, node.start);
    Span::new(lo, file_offset(decl, node.end).max(lo + 1))
}

/// Parses the SQL and checks its tables and columns; returns the lake tables it reads.
fn check_sql(
    decl: &QueryDecl,
    lakes: &HashMap<String, HashSet<String>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let query = match parse_one_query(decl) {
        Ok(query) => query,
        Err(d) => {
            diagnostics.push(*d);
            return Vec::new();
        }
    };
    let ctes: HashSet<String> = query
        .with
        .iter()
        .flat_map(|w| &w.cte_tables)
        .map(|c| c.alias.name.value.to_lowercase())
        .collect();
    let mut tables = Vec::new();
    let _ = visit_relations(&query, |name: &ObjectName| {
        let Some(ident) = name.0.last().and_then(|p| p.as_ident()) else {
            return ControlFlow::<()>::Continue(());
        };
        let table = ident.value.clone();
        if lakes.contains_key(&table) {
            if !tables.contains(&table) {
                tables.push(table);
            }
        } else if !ctes.contains(&table.to_lowercase()) {
            let mut known: Vec<&str> = lakes.keys().map(String::as_str).collect();
            known.sort_unstable();
            let help = match did_you_mean(&table, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if known.is_empty() => {
                    "a query reads the `parquet(…)` sinks of this file; declare one".to_string()
                }
                None => format!("the lake tables are {}", quoted(&known)),
            };
            diagnostics.push(
                Diagnostic::error(
                    codes::UNKNOWN_LAKE_TABLE,
                    format!("`{table}` is not a lake of this file"),
                    sql_span(decl, ident.span),
                    "unknown table",
                )
                .with_note("each `parquet(…)` sink is a table, by the sink's name")
                .with_help(help),
            );
        }
        ControlFlow::Continue(())
    });
    if ctes.is_empty() {
        check_columns(decl, &query, lakes, diagnostics);
    }
    tables
}

/// The SQL as one query, or the diagnostic saying why not.
fn parse_one_query(decl: &QueryDecl) -> Result<Box<Query>, Box<Diagnostic>> {
    let bad = |message: String, span: Span, label: &str| {
        Box::new(
            Diagnostic::error(codes::BAD_SQL, message, span, label)
                .with_help("a scheduled query is one `SELECT …` in DataFusion's SQL"),
        )
    };
    let statements = Parser::parse_sql(&GenericDialect {}, &decl.sql).map_err(|e| {
        let message = e.to_string();
        // sqlparser ends its messages with " at Line: L, Column: C".
        let (text, place) = match message.rsplit_once(" at Line: ") {
            Some((text, place)) => (text.to_string(), Some(place.to_string())),
            None => (message.clone(), None),
        };
        let span = place
            .and_then(|p| {
                let (line, column) = p.split_once(", Column: ")?;
                let at = Location::new(line.trim().parse().ok()?, column.trim().parse().ok()?);
                let lo = file_offset(decl, at);
                // "…, found: FORM": the label covers the token.
                let width = match text.rsplit_once("found: ") {
                    Some((_, token)) if token != "EOF" => token.len().max(1),
                    _ => 1,
                };
                Some(Span::new(
                    lo,
                    (lo + width).min(decl.sql_span.hi.max(lo + 1)),
                ))
            })
            .unwrap_or(decl.sql_span);
        let text = text.strip_prefix("sql parser error: ").unwrap_or(&text);
        bad(format!("the SQL does not parse: {text}"), span, "here")
    })?;
    match statements.as_slice() {
        [Statement::Query(query)] => Ok(query.clone()),
        [] => Err(bad("the SQL is empty".into(), decl.sql_span, "no query")),
        [one] => Err(bad(
            "a scheduled query must be a `SELECT`".into(),
            sql_span(decl, one.span()),
            "not a query",
        )),
        [_, second, ..] => Err(bad(
            "a scheduled query is one statement".into(),
            sql_span(decl, second.span()),
            "a second statement",
        )),
    }
}

/// Checks the columns a simple `SELECT … FROM lake [JOIN lake]` names. Queries with
/// derived tables or subqueries are left to DataFusion at run time: their scopes are not
/// lake tables.
fn check_columns(
    decl: &QueryDecl,
    query: &Query,
    lakes: &HashMap<String, HashSet<String>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return;
    };
    // Each table in FROM by its name and its alias.
    let mut scope: HashMap<String, &HashSet<String>> = HashMap::new();
    let factors = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    for factor in factors {
        let TableFactor::Table { name, alias, .. } = factor else {
            return;
        };
        let Some(table) = name.0.last().and_then(|p| p.as_ident()) else {
            return;
        };
        let Some(columns) = lakes.get(&table.value) else {
            return;
        };
        scope.insert(table.value.clone(), columns);
        if let Some(alias) = alias {
            scope.insert(alias.name.value.clone(), columns);
        }
    }
    if scope.is_empty() {
        return;
    }
    let aliases: HashSet<String> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
            _ => None,
        })
        .collect();
    let subquery = visit_expressions(query, |e: &Expr| match e {
        Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    if subquery.is_break() {
        return;
    }
    let all: HashSet<&String> = scope.values().flat_map(|c| c.iter()).collect();
    let _ = visit_expressions(query, |e: &Expr| {
        let (ident, columns): (_, Vec<&String>) = match e {
            Expr::Identifier(ident) => (ident, all.iter().copied().collect()),
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                match scope.get(&parts[0].value) {
                    Some(columns) => (&parts[1], columns.iter().collect()),
                    None => return ControlFlow::<()>::Continue(()),
                }
            }
            _ => return ControlFlow::Continue(()),
        };
        // DataFusion folds unquoted names to lower case.
        let name = match ident.quote_style {
            Some(_) => ident.value.clone(),
            None => ident.value.to_lowercase(),
        };
        if columns.iter().any(|c| **c == name) || aliases.contains(&name) {
            return ControlFlow::Continue(());
        }
        let mut known: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
        known.sort_unstable();
        let help = match did_you_mean(&name, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the columns are {}", quoted(&known)),
        };
        diagnostics.push(
            Diagnostic::error(
                codes::UNKNOWN_LAKE_COLUMN,
                format!("no column `{name}` in the lake"),
                sql_span(decl, ident.span),
                "unknown column",
            )
            .with_note(
                "a lake's columns are its sink's fields (`window.start` is `window_start`) \
                 and its `date(…)`-style partition keys",
            )
            .with_help(help),
        );
        ControlFlow::Continue(())
    });
}

/// Checks the `to` sinks: declared, and not a lake the query reads (it would read its own
/// output).
fn check_sinks(
    decl: &QueryDecl,
    plan: &LogicalPlan,
    tables: &[String],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for sink in &decl.to {
        if plan.sink(&sink.name).is_none() {
            let names: Vec<&str> = plan.sinks.iter().map(|s| s.name.as_str()).collect();
            let help = match did_you_mean(&sink.name, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "declare it: `sink {} = file(\"out/{}.jsonl\")`",
                    sink.name, sink.name
                ),
            };
            diagnostics.push(
                Diagnostic::error(
                    codes::BAD_QUERY_SINK,
                    format!("unknown sink `{}`", sink.name),
                    sink.span,
                    "not a sink",
                )
                .with_help(help),
            );
        } else if tables.contains(&sink.name) {
            diagnostics.push(
                Diagnostic::error(
                    codes::BAD_QUERY_SINK,
                    format!("the query reads `{}` and writes to it", sink.name),
                    sink.span,
                    "the lake it reads",
                )
                .with_help(
                    "send the rows to another sink: each run would read the last one's rows",
                ),
            );
        }
    }
}

/// `a`, `b` and `c`.
fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => "none".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
