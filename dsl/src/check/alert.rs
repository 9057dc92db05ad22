//! `alert <name> …`: conditions are bools over the record, templates name fields of the
//! record (the message also the `alert.*` fields), durations are positive and need event
//! time, each level and clause appears once. The stage's output is the alert event stream.

use weir_engine::alert::{AlertSpec, FlappingSpec, Level, LevelRule, Piece, Template};
use weir_engine::plan::Expr;
use weir_engine::schema::Type;

use super::names::Names;
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::types::check_expr;
use super::{durations, Ctx, Op};
use crate::ast::{AlertAst, AlertClause, AlertClauseKind, DurationAst, TemplateText};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};

/// Checks an `alert` stage; returns the operation and the scope after it.
pub(crate) fn check_alert(
    a: &AlertAst,
    keys: &[(usize, String)],
    scope: &Scope,
    names: &Names,
    cx: &mut Ctx<'_>,
) -> (Option<Op>, Scope) {
    let mut ok = true;
    let mut spec = AlertSpec {
        name: a.name.name.clone(),
        keys: keys.iter().map(|(s, _)| *s).collect(),
        levels: Vec::new(),
        resolve: None,
        id: default_id(&a.name.name, keys),
        message: Template::default(),
        for_ms: 0,
        keep_firing_ms: 0,
        repeat_ms: None,
        recoveries: true,
        flapping: None,
        deadman_ms: None,
        group: None,
        silences: None,
    };
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    let mut message: Option<&TemplateText> = None;
    let mut timed: Option<Span> = None;
    for clause in &a.clauses {
        let name = clause_name(&clause.kind);
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            ok = false;
            cx.push(
                Diagnostic::error(
                    codes::BAD_ALERT,
                    format!("`{name}` is given twice"),
                    clause.span,
                    "given again",
                )
                .with_secondary(*first, "first given here")
                .with_help("keep one of them"),
            );
            continue;
        }
        seen.push((name, clause.span));
        ok &= apply_clause(
            clause,
            &mut spec,
            (scope, names),
            &mut message,
            &mut timed,
            cx,
        );
    }
    spec.levels.sort_by_key(|l| std::cmp::Reverse(l.level));
    ok &= can_fire(a, &spec, timed, scope, ok, cx);
    let out = output_scope(scope);
    spec.message = match message {
        Some(t) => template(t, &out, cx).unwrap_or_else(|| {
            ok = false;
            Template::default()
        }),
        None => default_message(&out),
    };
    let out = match &spec.group {
        Some(g) => super::alert_routing::group_scope(g, &out),
        None => out,
    };
    let op = (ok && !scope.poisoned).then_some(Op::Alert(spec));
    (op, out)
}

/// Whole-alert checks once every clause is read: something must raise the alert (unless
/// a clause already failed), and clauses measured in event time need it from the source.
fn can_fire(
    a: &AlertAst,
    spec: &AlertSpec,
    timed: Option<Span>,
    scope: &Scope,
    clauses_ok: bool,
    cx: &mut Ctx<'_>,
) -> bool {
    let mut ok = true;
    if spec.levels.is_empty() && spec.deadman_ms.is_none() && clauses_ok {
        ok = false;
        cx.push(
            Diagnostic::error(
                codes::BAD_ALERT,
                format!("alert `{}` has no level", a.name.name),
                a.name.span,
                "nothing can raise this alert",
            )
            .with_help("add a condition such as `critical when temp > 80.0` (or `deadman 5m`)"),
        );
    }
    if let (
        Some(span),
        EventTime::Missing {
            source,
            span: declared,
        },
    ) = (timed, &scope.event_time)
    {
        ok = false;
        cx.push(
            Diagnostic::error(
                codes::ALERT_WITHOUT_EVENT_TIME,
                "this alert clause needs event time",
                span,
                "measured in event time",
            )
            .with_secondary(*declared, format!("`{source}` has no `event_time`"))
            .with_help(format!("add `event_time <field>` to source `{source}`")),
        );
    }
    ok
}

/// Applies one clause to `spec`; false when it was reported as an error. Keeps the
/// `message` for after the output scope is known and the first timing clause's span.
fn apply_clause<'a>(
    clause: &'a AlertClause,
    spec: &mut AlertSpec,
    (scope, names): (&Scope, &Names),
    message: &mut Option<&'a TemplateText>,
    timed: &mut Option<Span>,
    cx: &mut Ctx<'_>,
) -> bool {
    let mut ok = true;
    match &clause.kind {
        AlertClauseKind::Level { level, when } => match condition(when, scope, cx) {
            Some(when) => spec.levels.push(rule(&level.name, when)),
            None => ok = false,
        },
        AlertClauseKind::Resolve(e) => match condition(e, scope, cx) {
            Some(e) => spec.resolve = Some(e),
            None => ok = false,
        },
        AlertClauseKind::For(d) => {
            timed.get_or_insert(clause.span);
            spec.for_ms = duration(d, "`for` duration", true, cx).unwrap_or_else(|| {
                ok = false;
                0
            });
        }
        AlertClauseKind::KeepFiring(d) => {
            timed.get_or_insert(clause.span);
            spec.keep_firing_ms = duration(d, "`keep firing for` duration", true, cx)
                .unwrap_or_else(|| {
                    ok = false;
                    0
                });
        }
        AlertClauseKind::Repeat(d) => {
            timed.get_or_insert(clause.span);
            spec.repeat_ms = duration(d, "`repeat every` period", false, cx);
            ok &= spec.repeat_ms.is_some();
        }
        AlertClauseKind::Deadman(d) => {
            timed.get_or_insert(clause.span);
            spec.deadman_ms = duration(d, "`deadman` period", false, cx);
            ok &= spec.deadman_ms.is_some();
        }
        AlertClauseKind::NoRecoveries => spec.recoveries = false,
        AlertClauseKind::Flapping { low, high, history } => {
            spec.flapping = flapping(*low, *high, *history, clause.span, cx);
            ok &= spec.flapping.is_some();
        }
        AlertClauseKind::Id(t) => match template(t, scope, cx) {
            Some(id) => spec.id = id,
            None => ok = false,
        },
        AlertClauseKind::Message(t) => *message = Some(t),
        AlertClauseKind::Silenced(table) => {
            spec.silences = super::alert_routing::check_silences(table, names, cx);
            ok &= spec.silences.is_some();
        }
        AlertClauseKind::Group { by, wait, interval } => {
            let (w, i) = (wait.as_ref(), interval.as_ref());
            spec.group = super::alert_routing::check_group(&spec.name, by, w, i, scope, cx);
            ok &= spec.group.is_some();
        }
    }
    ok
}

fn clause_name(kind: &AlertClauseKind) -> &'static str {
    match kind {
        AlertClauseKind::Level { level, .. } => match level.name.as_str() {
            "critical" => "critical when",
            "warning" => "warning when",
            _ => "info when",
        },
        AlertClauseKind::Resolve(_) => "resolve when",
        AlertClauseKind::For(_) => "for",
        AlertClauseKind::KeepFiring(_) => "keep firing for",
        AlertClauseKind::Repeat(_) => "repeat every",
        AlertClauseKind::NoRecoveries => "no recoveries",
        AlertClauseKind::Deadman(_) => "deadman",
        AlertClauseKind::Flapping { .. } => "flapping",
        AlertClauseKind::Id(_) => "id",
        AlertClauseKind::Message(_) => "message",
        AlertClauseKind::Group { .. } => "group by",
        AlertClauseKind::Silenced(_) => "silenced by",
    }
}

fn rule(level: &str, when: Expr) -> LevelRule {
    let level = match level {
        "critical" => Level::Critical,
        "warning" => Level::Warning,
        _ => Level::Info,
    };
    LevelRule {
        level,
        when,
        resolve: None,
    }
}

/// A condition: a bool expression (P0220 otherwise).
fn condition(e: &crate::ast::Expr, scope: &Scope, cx: &mut Ctx<'_>) -> Option<Expr> {
    let t = check_expr(e, scope, cx)?;
    match t.ty {
        Some(Type::Bool) | None => Some(t.expr),
        Some(ty) => {
            cx.push(
                Diagnostic::error(
                    codes::ALERT_CONDITION_NOT_BOOL,
                    format!("an alert condition must be a bool, found {ty}"),
                    e.span,
                    format!("this is {ty}"),
                )
                .with_help(format!(
                    "compare it, e.g. `{} > 30.0`",
                    e.span.text(cx.text)
                )),
            );
            None
        }
    }
}

/// A duration in ms; `zero_ok` allows `0s`.
pub(super) fn duration(
    d: &DurationAst,
    what: &str,
    zero_ok: bool,
    cx: &mut Ctx<'_>,
) -> Option<i64> {
    let ms = durations::require(d, what, cx)?;
    if ms < 0 || (ms == 0 && !zero_ok) {
        cx.push(
            Diagnostic::error(
                codes::BAD_ALERT_DURATION,
                format!("the {what} must be positive"),
                d.span,
                "not positive",
            )
            .with_help("write a duration such as `5m`"),
        );
        return None;
    }
    Some(ms)
}

fn flapping(
    low: (f64, Span),
    high: (f64, Span),
    history: Option<(i64, Span)>,
    span: Span,
    cx: &mut Ctx<'_>,
) -> Option<FlappingSpec> {
    let mut bad = |at: Span, msg: &str, help: &str| {
        cx.push(
            Diagnostic::error(codes::BAD_ALERT, msg.to_string(), at, "out of range")
                .with_help(help.to_string()),
        );
        None::<FlappingSpec>
    };
    for (x, at) in [low, high] {
        if !(0.0..=1.0).contains(&x) {
            return bad(
                at,
                "a flapping threshold is a share between 0 and 1",
                "write e.g. `flapping low 0.25 high 0.5` (or `25%`)",
            );
        }
    }
    if low.0 >= high.0 {
        return bad(
            span,
            "`flapping` needs `low` below `high`",
            "flapping starts above `high` and ends below `low`, e.g. `low 0.25 high 0.5`",
        );
    }
    let history = match history {
        Some((n, at)) if !(2..=64).contains(&n) => {
            return bad(
                at,
                "`history` keeps 2 to 64 levels",
                "write e.g. `history 21` (Kapacitor's default)",
            )
        }
        Some((n, _)) => n as usize,
        None => 21,
    };
    Some(FlappingSpec {
        low: low.0,
        high: high.0,
        history,
    })
}

/// Parses a template and resolves its fields against `scope` (P0221, P0203).
pub(crate) fn template(t: &TemplateText, scope: &Scope, cx: &mut Ctx<'_>) -> Option<Template> {
    let at = |offset: usize, len: usize| {
        let lo = (t.span.lo + 1 + offset).min(t.span.hi);
        Span::new(lo, (lo + len).min(t.span.hi))
    };
    let mut parsed = match Template::parse(&t.text) {
        Ok(p) => p,
        Err(e) => {
            cx.push(
                Diagnostic::error(
                    codes::BAD_TEMPLATE,
                    format!("bad template: {e}"),
                    at(e.offset(), 1),
                    "here",
                )
                .with_help(
                    "placeholders are `{field}` or `{field:.1}`; write `{{` for a literal `{`",
                ),
            );
            return None;
        }
    };
    let mut ok = true;
    for (name, slot, offset) in parsed.fields_mut() {
        match scope.slot(name) {
            Some(s) => *slot = s,
            None if scope.poisoned => ok = false,
            None => {
                ok = false;
                cx.push(scope.unknown_field(name, at(offset + 1, name.len())));
            }
        }
    }
    ok.then_some(parsed)
}

fn default_id(name: &str, keys: &[(usize, String)]) -> Template {
    let mut pieces = vec![Piece::Text(name.to_string())];
    for (i, (slot, key)) in keys.iter().enumerate() {
        pieces.push(Piece::Text(if i == 0 { ":" } else { "," }.to_string()));
        pieces.push(Piece::Field {
            name: key.clone(),
            slot: *slot,
            precision: None,
            offset: 0,
        });
    }
    Template { pieces }
}

fn default_message(out: &Scope) -> Template {
    let mut t = Template::parse("{alert.id} is {alert.level}").unwrap_or_default();
    for (name, slot, _) in t.fields_mut() {
        *slot = out.slot(name).unwrap_or(0);
    }
    t
}

/// The record after the stage: the input's fields, then the `alert.*` fields; event time
/// is the alert's time.
fn output_scope(scope: &Scope) -> Scope {
    let mut fields = scope.fields.clone();
    fields.extend(
        weir_engine::alert::ALERT_FIELDS
            .iter()
            .map(|(n, t)| ScopeField {
                name: (*n).to_string(),
                ty: Some(Ty {
                    ty: *t,
                    nullable: false,
                }),
            }),
    );
    Scope {
        fields,
        origin: "the output of `alert`".to_string(),
        origin_span: None,
        poisoned: scope.poisoned,
        event_time: EventTime::Field("alert.time".to_string()),
    }
}
