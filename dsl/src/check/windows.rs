//! `window <kind>` + `aggregate …`: window kinds and clauses, event time, keys, and the
//! aggregates with their types. The pair becomes one windowed aggregate.

use weir_engine::plan::{
    Accumulation, AggFunc, Aggregate, FieldRef, Function, KeptField, TimestampCombiner, Trigger,
    WindowKind, WindowSpec, MAX_TOP_N, RETRACTION_FIELD, WINDOW_FIELDS,
};
use weir_engine::schema::{Field, Type};

use super::durations;
use super::names::Names;
use super::scope::{EventTime, Scope, ScopeField, Ty};
use super::stages::{duplicate_field, known_type, missing_name};
use super::types::check_expr;
use super::{Ctx, Op};
use crate::ast::{
    ExprKind, Ident, NamedExpr, Stage, TriggerAst, TriggerKindAst, WindowAst, WindowClauseKind,
    WindowKindAst,
};
use crate::codes;
use crate::diagnostic::{Diagnostic, Span};
use crate::suggest::did_you_mean;

const KINDS: [&str; 6] = ["tumbling", "sliding", "session", "global", "until", "count"];

fn positive(
    ms: Option<i64>,
    what: &str,
    span: Span,
    example: &str,
    cx: &mut Ctx<'_>,
) -> Option<i64> {
    match ms {
        Some(ms) if ms <= 0 => {
            cx.push(
                Diagnostic::error(
                    codes::BAD_WINDOW_SIZE,
                    format!("the {what} must be positive"),
                    span,
                    "zero length",
                )
                .with_help(format!("write e.g. `{example}`")),
            );
            None
        }
        other => other,
    }
}

/// Windows one record may fall in, at most: each is state and output, so `sliding 1d
/// every 1ms` (86.4 million per record) would exhaust memory without emitting anything.
pub(crate) const MAX_WINDOWS_PER_RECORD: i64 = 10_000;

/// Reports a sliding window whose records would each fall in more than
/// [`MAX_WINDOWS_PER_RECORD`] windows; true if it did.
fn too_many_windows(size_ms: i64, period_ms: i64, spans: (Span, Span), cx: &mut Ctx<'_>) -> bool {
    let per_record = ceil_div(size_ms, period_ms);
    if per_record <= MAX_WINDOWS_PER_RECORD {
        return false;
    }
    let (size_span, every_span) = spans;
    let coarser = coarser_period(ceil_div(size_ms, MAX_WINDOWS_PER_RECORD));
    cx.push(
        Diagnostic::error(
            codes::TOO_MANY_WINDOWS,
            format!(
                "each record would fall in {per_record} sliding windows; the limit is {MAX_WINDOWS_PER_RECORD}"
            ),
            every_span,
            "this period is too fine for the window size",
        )
        .with_secondary(size_span, "the window size")
        .with_help(format!(
            "use a coarser period: `every {}` or more (size / every at most {MAX_WINDOWS_PER_RECORD})",
            weir_engine::time::format_duration(coarser)
        )),
    );
    true
}

/// `a / b` rounded up, for positive `a` and `b`.
fn ceil_div(a: i64, b: i64) -> i64 {
    a / b + i64::from(a % b != 0)
}

/// The shortest round period (whole seconds, minutes or hours) of at least `ms`.
fn coarser_period(ms: i64) -> i64 {
    [3_600_000, 60_000, 1_000]
        .into_iter()
        .find(|&unit| ms >= unit)
        .map_or(ms, |unit| ceil_div(ms, unit) * unit)
}

/// `until <end> [from <start>]`: both bounds resolve to non-null timestamps.
fn until_kind(
    end: &Ident,
    start: Option<&Ident>,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> Option<WindowKind> {
    let end = bound(end, "ends", scope, cx);
    let start = start.map(|s| bound(s, "starts", scope, cx));
    match (end, start) {
        (Some(end), None) => Some(WindowKind::Until { end, start: None }),
        (Some(end), Some(Some(start))) => Some(WindowKind::Until {
            end,
            start: Some(start),
        }),
        _ => None,
    }
}

/// A field bounding an `until` window: it must be a non-null timestamp of `scope`.
fn bound(field: &Ident, what: &str, scope: &Scope, cx: &mut Ctx<'_>) -> Option<FieldRef> {
    if scope.poisoned {
        return None;
    }
    let Some(slot) = scope.slot(&field.name) else {
        cx.push(scope.unknown_field(&field.name, field.span));
        return None;
    };
    let ty = scope.fields[slot].ty?;
    if ty.ty == Type::Timestamp && !ty.nullable {
        return Some(FieldRef {
            slot,
            name: field.name.clone(),
        });
    }
    let found = if ty.ty == Type::Timestamp {
        "a nullable timestamp".to_string()
    } else {
        format!("`{}`", ty.display())
    };
    cx.push(
        Diagnostic::error(
            codes::BAD_WINDOW_BOUND,
            format!(
                "the window {what} at `{}`, which is {found}, not a timestamp",
                field.name
            ),
            field.span,
            "not a timestamp",
        )
        .with_help(if ty.ty == Type::Timestamp {
            format!(
                "give it a value where it is null first, e.g. `| where {} != null`",
                field.name
            )
        } else {
            format!(
                "convert it first, e.g. `| map {0} = timestamp({0})`",
                field.name
            )
        }),
    );
    None
}

/// `count <size> [every <every>]`: positive counts, a period no longer than the window,
/// and no clauses (each count window is emitted once, when its last record arrives).
fn count_kind(
    w: &WindowAst,
    size: Option<i64>,
    every: Option<Option<i64>>,
    cx: &mut Ctx<'_>,
) -> Option<WindowKind> {
    let size = size?;
    let every = every.unwrap_or(Some(size))?;
    let bad_size = |message: &str, label: &str, cx: &mut Ctx<'_>| {
        cx.push(
            Diagnostic::error(codes::BAD_WINDOW_SIZE, message, w.kind_span, label)
                .with_help("write e.g. `window count 10` (tumbling) or `window count 10 every 1` (the last 10 records, after each record)"),
        );
    };
    if size <= 0 || every <= 0 {
        bad_size(
            "a count window's sizes must be positive",
            "zero records",
            cx,
        );
        return None;
    }
    if every > size {
        bad_size(
            "a count window's period must not exceed its size",
            "records between windows would belong to none",
            cx,
        );
        return None;
    }
    if let Some(clause) = w.clauses.first() {
        cx.push(
            Diagnostic::error(
                codes::COUNT_WINDOW_CLAUSE,
                "a count window takes no clauses",
                clause.span,
                "not for count windows",
            )
            .with_secondary(w.kind_span, "a count window")
            .with_help("remove the clause: each count window is emitted once, when its last record arrives in event-time order")
            .with_note("triggers, lateness and accumulation are about time windows"),
        );
        return None;
    }
    Some(WindowKind::Count {
        size: size.unsigned_abs(),
        every: every.unsigned_abs(),
    })
}

/// `window <kind> on processing time` (`on` written at `on`): only tumbling and sliding
/// windows, and no clauses — each window fires once, when the run's clock passes its end,
/// and nothing is late in processing time.
fn processing_time(
    w: &WindowAst,
    on: Span,
    kind: Option<WindowKind>,
    cx: &mut Ctx<'_>,
) -> Option<WindowSpec> {
    let what = match &w.kind {
        WindowKindAst::Tumbling { .. } | WindowKindAst::Sliding { .. } => None,
        WindowKindAst::Session { .. } => Some("session"),
        WindowKindAst::Global => Some("global"),
        WindowKindAst::Until { .. } => Some("until"),
        WindowKindAst::Count { .. } => Some("count"),
        // Already reported as an unknown kind.
        WindowKindAst::Unknown(_) => return None,
    };
    if let Some(what) = what {
        cx.push(
            Diagnostic::error(
                codes::BAD_PROCESSING_WINDOW,
                format!("a `{what}` window cannot be on processing time"),
                w.kind_span,
                "not a tumbling or sliding window",
            )
            .with_secondary(on, "windows by arrival time")
            .with_help("use `window tumbling <d> on processing time` or `window sliding <d> every <d> on processing time`, or drop `on processing time`"),
        );
        return None;
    }
    if let Some(clause) = w.clauses.first() {
        cx.push(
            Diagnostic::error(
                codes::BAD_PROCESSING_WINDOW,
                "a processing-time window takes no clauses",
                clause.span,
                "not for processing-time windows",
            )
            .with_secondary(on, "windows by arrival time")
            .with_help("remove the clause: each window fires once, when the run's clock passes its end, and no record is late in processing time")
            .with_note("triggers, lateness and accumulation are about event-time windows; drop `on processing time` to use them"),
        );
        return None;
    }
    let mut spec = WindowSpec::new(kind?);
    spec.processing_time = true;
    Some(spec)
}

/// Checks the window kind and its clauses; `Some` with every default filled in when valid.
/// `scope` is the window's input (an `until` window reads its bounds from it).
pub(crate) fn check_kind(
    w: &WindowAst,
    scope: &Scope,
    names: &Names,
    cx: &mut Ctx<'_>,
) -> Option<WindowSpec> {
    let kind = match &w.kind {
        WindowKindAst::Tumbling { size, offset } => {
            let size_ms = durations::require(size, "window size", cx);
            let size_ms = positive(size_ms, "window size", size.span, "window tumbling 1m", cx);
            let offset_ms = match offset {
                Some(o) => durations::require(o, "window offset", cx).map(|ms| (ms, o.span)),
                None => Some((0, size.span)),
            };
            match (size_ms, offset_ms) {
                (Some(size_ms), Some((offset_ms, offset_span)))
                    if offset_ms >= size_ms || offset_ms < 0 =>
                {
                    cx.push(
                        Diagnostic::error(
                            codes::BAD_WINDOW_SIZE,
                            "the window offset must be smaller than the window size",
                            offset_span,
                            "not smaller than the size",
                        )
                        .with_secondary(size.span, "the window size")
                        .with_help(format!(
                            "an offset shifts window starts within one window; use `offset {}`",
                            weir_engine::time::format_duration(offset_ms.rem_euclid(size_ms))
                        )),
                    );
                    None
                }
                (Some(size_ms), Some((offset_ms, _))) => {
                    Some(WindowKind::Tumbling { size_ms, offset_ms })
                }
                _ => None,
            }
        }
        WindowKindAst::Sliding { size, every } => {
            let size_ms = durations::require(size, "window size", cx);
            let size_ms = positive(
                size_ms,
                "window size",
                size.span,
                "window sliding 10m every 1m",
                cx,
            );
            let period_ms = durations::require(every, "sliding period", cx);
            let period_ms = positive(
                period_ms,
                "sliding period",
                every.span,
                "window sliding 10m every 1m",
                cx,
            );
            match (size_ms, period_ms) {
                (Some(size_ms), Some(period_ms)) if period_ms > size_ms => {
                    cx.push(
                        Diagnostic::error(
                            codes::BAD_WINDOW_SIZE,
                            "a sliding window's period must not exceed its size",
                            every.span,
                            "longer than the window",
                        )
                        .with_secondary(size.span, "the window size")
                        .with_help("elements between windows would belong to none; use `window tumbling` for non-overlapping windows, or a shorter period")
                    );
                    None
                }
                (Some(size_ms), Some(period_ms)) => {
                    let spans = (size.span, every.span);
                    (!too_many_windows(size_ms, period_ms, spans, cx))
                        .then_some(WindowKind::Sliding { size_ms, period_ms })
                }
                _ => None,
            }
        }
        WindowKindAst::Session { gap, max } => {
            let gap_ms = durations::require(gap, "session gap", cx);
            let gap_ms = positive(gap_ms, "session gap", gap.span, "window session gap 5m", cx);
            let max_ms = match max {
                Some(m) => {
                    let ms = durations::require(m, "maximum session length", cx);
                    positive(
                        ms,
                        "maximum session length",
                        m.span,
                        "window session gap 5m max 1h",
                        cx,
                    )
                    .map(Some)
                }
                None => Some(None),
            };
            match (gap_ms, max_ms) {
                (Some(gap_ms), Some(max_ms)) => Some(WindowKind::Session { gap_ms, max_ms }),
                _ => None,
            }
        }
        WindowKindAst::Global => Some(WindowKind::Global),
        WindowKindAst::Until { end, start } => until_kind(end, start.as_ref(), scope, cx),
        WindowKindAst::Count { size, every } => count_kind(w, *size, *every, cx),
        WindowKindAst::Unknown(word) => {
            cx.push(
                Diagnostic::error(
                    codes::UNSUPPORTED_WINDOW,
                    format!("unknown window kind `{}`", word.name),
                    word.span,
                    "not a window kind",
                )
                .with_help(match did_you_mean(&word.name, KINDS) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => "write e.g. `window tumbling 1m`".to_string(),
                }),
            );
            None
        }
    };
    if let Some(on) = w.processing_time {
        return processing_time(w, on, kind, cx);
    }
    let mut spec = kind.map(WindowSpec::new);
    let mut ok = spec.is_some();
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    let mut trigger_span = None;
    let mut lateness_span = None;
    let mut mode_span = None;
    for clause in &w.clauses {
        let which = match &clause.kind {
            WindowClauseKind::Emit(_) => "emit",
            WindowClauseKind::AllowLate(_) => "allow late",
            WindowClauseKind::Accumulate
            | WindowClauseKind::Discard
            | WindowClauseKind::Retract => "accumulation mode",
            WindowClauseKind::LateTo(_) => "late to",
            WindowClauseKind::Timestamp(_) => "timestamp",
        };
        if let Some((_, first)) = seen.iter().find(|(w, _)| *w == which) {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_CLAUSE,
                    format!("the window has a second `{which}` clause"),
                    clause.span,
                    "given again here",
                )
                .with_secondary(*first, "first given here")
                .with_help("keep one of them"),
            );
            ok = false;
            continue;
        }
        seen.push((which, clause.span));
        match &clause.kind {
            WindowClauseKind::Emit(t) => {
                trigger_span = Some(clause.span);
                match trigger(t, cx) {
                    Some(t) => {
                        if let Some(s) = spec.as_mut() {
                            s.trigger = t;
                        }
                    }
                    None => ok = false,
                }
            }
            WindowClauseKind::AllowLate(d) => {
                lateness_span = Some(clause.span);
                match durations::require(d, "allowed lateness", cx) {
                    Some(ms) if ms < 0 => {
                        cx.push(Diagnostic::error(
                            codes::BAD_WINDOW_SIZE,
                            "the allowed lateness cannot be negative",
                            d.span,
                            "negative",
                        ));
                        ok = false;
                    }
                    Some(ms) => {
                        if let Some(s) = spec.as_mut() {
                            s.allowed_lateness_ms = ms;
                        }
                    }
                    None => ok = false,
                }
            }
            WindowClauseKind::Accumulate
            | WindowClauseKind::Discard
            | WindowClauseKind::Retract => {
                mode_span = Some(clause.span);
                if let Some(s) = spec.as_mut() {
                    s.accumulation = match &clause.kind {
                        WindowClauseKind::Accumulate => Accumulation::Accumulate,
                        WindowClauseKind::Retract => Accumulation::Retract,
                        _ => Accumulation::Discard,
                    };
                }
            }
            WindowClauseKind::LateTo(sink) => {
                if names.resolve_sink(sink, cx) {
                    if let Some(s) = spec.as_mut() {
                        s.late_to = Some(sink.name.clone());
                    }
                } else {
                    ok = false;
                }
            }
            WindowClauseKind::Timestamp(word) => {
                if let Some(s) = spec.as_mut() {
                    s.timestamp = match word.as_str() {
                        "earliest" => TimestampCombiner::Earliest,
                        "latest" => TimestampCombiner::Latest,
                        _ => TimestampCombiner::End,
                    };
                }
            }
        }
    }
    if let (Some(s), true) = (&spec, ok) {
        hazards(s, w, trigger_span, lateness_span, mode_span, cx);
    }
    spec.filter(|_| ok)
}

/// Warnings and notes for window settings that are legal but probably not what was meant.
fn hazards(
    spec: &WindowSpec,
    w: &WindowAst,
    trigger_span: Option<Span>,
    lateness_span: Option<Span>,
    mode_span: Option<Span>,
    cx: &mut Ctx<'_>,
) {
    let finishes_on_time = matches!(spec.trigger, Trigger::Watermark { late: None, .. });
    if let (true, Some(late)) = (
        finishes_on_time && spec.allowed_lateness_ms > 0,
        lateness_span,
    ) {
        cx.push(
            Diagnostic::warning(
                codes::WINDOW_HAZARD,
                "late elements will be dropped although lateness is allowed",
                late,
                "allowed lateness has no effect",
            )
            .with_secondary_opt(trigger_span, "this trigger finishes at the on-time pane")
            .with_help(
                "add late firings, e.g. `emit early every 10s, on watermark, late every event`",
            ),
        );
    }
    let fires_once = spec.trigger.fires_once();
    if let (true, Some(t)) = (fires_once && spec.trigger.fires_early(), trigger_span) {
        cx.push(
            Diagnostic::note(
                codes::WINDOW_HAZARD,
                "this trigger fires once per window, then the window is closed",
                t,
                "fires once per window",
            )
            .with_note(
                "the window's elements after that pane are dropped, and the summary counts them \
                 as dropped after the window's trigger finished",
            )
            .with_help(format!(
                "to fire again and again, write `emit repeat({})`",
                spec.trigger
            )),
        );
    }
    if spec.accumulation == Accumulation::Discard
        && mode_span.is_none()
        && spec.trigger.fires_early()
        && !fires_once
    {
        if let Some(t) = trigger_span {
            cx.push(
                Diagnostic::note(
                    codes::WINDOW_HAZARD,
                    "each pane holds only the elements since the previous one (`discard`, the default)",
                    t,
                    "this trigger fires more than once per window",
                )
                .with_help("write `accumulate` for running totals, or `retract` to correct downstream results"),
            );
        }
    }
    let can_be_late = spec.kind != WindowKind::Global;
    if can_be_late
        && spec.late_to.is_none()
        && (spec.allowed_lateness_ms > 0 || trigger_span.is_some())
    {
        cx.push(
            Diagnostic::note(
                codes::WINDOW_HAZARD,
                "elements later than the allowed lateness are dropped and counted",
                w.kind_span,
                "no late route",
            )
            .with_help("add `late to <sink>` to keep them"),
        );
    }
}

/// A trigger as written → the plan's canonical trigger.
fn trigger(t: &TriggerAst, cx: &mut Ctx<'_>) -> Option<Trigger> {
    let sub = |t: &TriggerAst, cx: &mut Ctx<'_>| trigger(t, cx).map(Box::new);
    Some(match &t.kind {
        TriggerKindAst::Watermark { early, late } => {
            let early = match early {
                Some(e) => Some(sub(e, cx)?),
                None => None,
            };
            let late = match late {
                Some(l) => Some(sub(l, cx)?),
                None => None,
            };
            Trigger::Watermark { early, late }
        }
        TriggerKindAst::Count(n) => match n {
            Some(n) if *n > 0 => Trigger::Count(*n as u64),
            Some(_) => {
                cx.push(
                    Diagnostic::error(
                        codes::BAD_TRIGGER,
                        "a count trigger needs at least 1 element",
                        t.span,
                        "fires on nothing",
                    )
                    .with_help("write e.g. `count(1)` or `every event`"),
                );
                return None;
            }
            None => return None,
        },
        TriggerKindAst::Processing(d) => {
            let ms = durations::require(d, "processing-time delay", cx)?;
            if ms <= 0 {
                cx.push(
                    Diagnostic::error(
                        codes::BAD_TRIGGER,
                        "a processing-time delay must be positive",
                        d.span,
                        "no delay",
                    )
                    .with_help("write e.g. `processing(10s)`"),
                );
                return None;
            }
            Trigger::Processing(ms)
        }
        TriggerKindAst::Repeat(inner) => Trigger::Repeat(sub(inner, cx)?),
        TriggerKindAst::Any(ts) | TriggerKindAst::All(ts) | TriggerKindAst::Each(ts) => {
            let mut out = Vec::new();
            let mut ok = true;
            for t in ts {
                match trigger(t, cx) {
                    Some(t) => out.push(t),
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            match &t.kind {
                TriggerKindAst::Any(_) => Trigger::Any(out),
                TriggerKindAst::All(_) => Trigger::All(out),
                _ => Trigger::Each(out),
            }
        }
        TriggerKindAst::Until(a, b) => {
            let a = trigger(a, cx);
            let b = trigger(b, cx);
            Trigger::Until(Box::new(a?), Box::new(b?))
        }
        TriggerKindAst::Never => Trigger::Never,
    })
}

/// Checks `window` + `aggregate`; returns the windowed aggregate and the output scope.
pub(crate) fn check_window(
    window: &WindowAst,
    window_stage: &Stage,
    items: &[NamedExpr],
    keys: &[Ident],
    scope: &Scope,
    names: &Names,
    cx: &mut Ctx<'_>,
) -> (Option<Op>, Scope) {
    let spec = check_kind(window, scope, names, cx);
    let mut ok = spec.is_some();

    // Event time (processing-time windows read the clock instead).
    match &scope.event_time {
        _ if window.processing_time.is_some() => {}
        EventTime::Field(_) | EventTime::Unknown => {}
        EventTime::Missing { source, span } => {
            let example = scope
                .fields
                .iter()
                .find(|f| {
                    matches!(
                        f.ty,
                        Some(Ty {
                            ty: Type::Timestamp,
                            ..
                        })
                    )
                })
                .map(|f| f.name.clone());
            let help = match &example {
                Some(f) => format!("add `event_time {f}` to source `{source}`"),
                None => format!(
                    "add a timestamp field and `event_time <field>` to source `{source}`, e.g. `ts: timestamp` and `event_time ts`"
                ),
            };
            cx.push(
                Diagnostic::error(
                    codes::WINDOW_WITHOUT_EVENT_TIME,
                    format!("windows need event time, but source `{source}` has no `event_time`"),
                    window_stage.keyword,
                    "this window needs event time",
                )
                .with_secondary(*span, format!("`{source}` is declared here without `event_time`"))
                .with_help(help)
                .with_note("a source without `event_time` is in processing time; windows follow the watermark of event time"),
            );
            ok = false;
        }
        // Event time travels with each record as metadata (as in Beam), so a stage that
        // drops or replaces the field it came from does not lose it.
        EventTime::Lost { .. } => {}
    }

    // Keys, re-resolved at the window (a `select` may have moved them).
    let mut key_slots = Vec::new();
    for k in keys {
        match scope.slot(&k.name) {
            Some(slot) => key_slots.push(slot),
            None if scope.poisoned => ok = false,
            None => {
                cx.push(
                    scope
                        .unknown_field(&k.name, k.span)
                        .with_secondary(window_stage.keyword, "the window is keyed by it"),
                );
                ok = false;
            }
        }
    }

    // Aggregates.
    let mut out_fields: Vec<ScopeField> =
        key_slots.iter().map(|&s| scope.fields[s].clone()).collect();
    let mut out_spans: Vec<Span> = keys.iter().map(|k| k.span).collect();
    let mut aggregates = Vec::new();
    for item in items {
        let (name, agg) = check_aggregate(item, scope, cx);
        let Some(name) = name else {
            ok = false;
            continue;
        };
        if let Some(k) = out_fields.iter().position(|f| f.name == name.name) {
            cx.push(duplicate_field(&name.name, name.span, out_spans[k]));
            ok = false;
            continue;
        }
        if WINDOW_FIELDS
            .iter()
            .chain([RETRACTION_FIELD].iter())
            .any(|(n, _)| *n == name.name)
        {
            cx.push(
                Diagnostic::error(
                    codes::DUPLICATE_FIELD,
                    format!("`{}` is a field every window output already has", name.name),
                    name.span,
                    "reserved for the window",
                )
                .with_help("choose another name"),
            );
            ok = false;
            continue;
        }
        let ty = agg.as_ref().map(|a| {
            let f = a.output_field();
            Ty {
                ty: f.ty,
                nullable: f.nullable,
            }
        });
        out_fields.push(ScopeField {
            name: name.name.clone(),
            ty,
        });
        out_spans.push(name.span);
        // `best = arg_max(price) keep {bidder}` also gives `best.bidder`.
        for f in agg
            .iter()
            .flat_map(|a| a.output_fields().into_iter().skip(1))
        {
            out_fields.push(ScopeField {
                name: f.name,
                ty: Some(Ty {
                    ty: f.ty,
                    nullable: f.nullable,
                }),
            });
            out_spans.push(name.span);
        }
        match agg {
            Some(a) => aggregates.push(a),
            None => ok = false,
        }
    }
    let retracting = spec
        .as_ref()
        .is_some_and(|s| s.accumulation == Accumulation::Retract);
    let extra = retracting.then_some(RETRACTION_FIELD);
    out_fields.extend(
        WINDOW_FIELDS
            .iter()
            .chain(extra.iter())
            .map(|(n, t)| ScopeField {
                name: n.to_string(),
                ty: Some(Ty {
                    ty: *t,
                    nullable: false,
                }),
            }),
    );
    let out = Scope {
        fields: out_fields,
        origin: "the output of `aggregate`".to_string(),
        origin_span: None,
        poisoned: scope.poisoned,
        event_time: EventTime::Field("pane.timestamp".to_string()),
    };
    let op = match spec {
        Some(spec) if ok && !scope.poisoned => {
            // The checker's output scope must agree with the engine's layout (when the
            // input's is known: a field of unknown type was reported already).
            debug_assert_eq!(
                scope.schema().and(out.schema()),
                scope.schema().map(|s| WindowSpec::output_schema(
                    &s,
                    &key_slots,
                    &aggregates,
                    spec.accumulation
                )),
            );
            Some(Op::Window {
                keys: key_slots,
                spec,
                aggregates,
            })
        }
        _ => None,
    };
    (op, out)
}

/// One `name = func(arg)` item; the name (if any) and the aggregate (if valid).
fn check_aggregate(
    item: &NamedExpr,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> (Option<Ident>, Option<Aggregate>) {
    let (func, args) = match &item.value.kind {
        ExprKind::Call { func, args } => (func, args),
        other => {
            let help = match other {
                ExprKind::Field(f) => format!(
                    "aggregate it, e.g. `{f} = last({f})`, or add `{f}` to `key by` to keep it per group"
                ),
                _ => "aggregate items are `name = function(expression)`; compute further in a `map` after `aggregate`".to_string(),
            };
            cx.push(
                Diagnostic::error(
                    codes::MISPLACED_AGGREGATE,
                    "expected an aggregate function call",
                    item.value.span,
                    "not an aggregate",
                )
                .with_help(help)
                .with_note(agg_list()),
            );
            return (item.name.clone(), None);
        }
    };
    let name = match &item.name {
        Some(n) => Some(n.clone()),
        None => {
            cx.push(missing_name(item.value.span, &func.name, cx.text));
            None
        }
    };
    let Some(f) = AggFunc::ALL.iter().copied().find(|a| a.name() == func.name) else {
        let suggestion = did_you_mean(&func.name, AggFunc::ALL.iter().map(|a| a.name()));
        let scalar = Function::ALL.iter().any(|f| f.name() == func.name);
        let d = if scalar {
            Diagnostic::error(
                codes::MISPLACED_AGGREGATE,
                format!("`{}` is not an aggregate function", func.name),
                func.span,
                "a function on single values",
            )
            .with_help(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "aggregate first, then apply `{}` in a `map` after `aggregate`",
                    func.name
                ),
            })
        } else {
            Diagnostic::error(
                codes::UNKNOWN_FUNCTION,
                format!("unknown aggregate function `{}`", func.name),
                func.span,
                "no such aggregate",
            )
            .with_help_opt(suggestion.map(|s| format!("did you mean `{s}`?")))
        };
        cx.push(d.with_note(agg_list()));
        return (name, None);
    };
    if f == AggFunc::Count {
        if check_keep(item, f, scope, cx).is_none() {
            return (name, None);
        }
        if !args.is_empty() {
            cx.push(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    format!("`count` takes no argument, found {}", args.len()),
                    item.value.span,
                    "counts records, not values",
                )
                .with_help("write `count()`"),
            );
            return (name, None);
        }
        return (
            name.clone(),
            name.map(|n| Aggregate {
                name: n.name,
                func: f,
                arg: None,
                arg_type: None,
                keep: Vec::new(),
            }),
        );
    }
    if f.ranked().is_some() && (args.len() != 2 || !rank_count_literal(&args[1])) {
        cx.push(bad_top_count(f, args, item.value.span, cx.text));
        return (name, None);
    }
    let percentile = matches!(f, AggFunc::Percentile(_));
    let arity = if matches!(
        f,
        AggFunc::Percentile(_) | AggFunc::Top(_) | AggFunc::Bottom(_)
    ) {
        2
    } else {
        1
    };
    if args.len() != arity {
        let usage = if percentile {
            "write `percentile(<field>, 0.99)`".to_string()
        } else {
            format!("write `{}(<field>)`", f.name())
        };
        cx.push(
            Diagnostic::error(
                codes::BAD_ARGUMENTS,
                format!(
                    "`{}` takes {arity} argument{}, found {}",
                    f.name(),
                    if arity == 1 { "" } else { "s" },
                    args.len()
                ),
                item.value.span,
                format!("{} arguments", args.len()),
            )
            .with_help(usage),
        );
        return (name, None);
    }
    let f = match f {
        AggFunc::Percentile(_) => match percentile_fraction(&args[1], cx) {
            Some(ppm) => AggFunc::Percentile(ppm),
            None => return (name, None),
        },
        AggFunc::Top(_) | AggFunc::Bottom(_) => match rank_count(f, args, item.value.span, cx.text)
        {
            Ok(ranked) => ranked,
            Err(d) => {
                cx.push(*d);
                return (name, None);
            }
        },
        f => f,
    };
    let arg = &args[0];
    let Some(typed) = check_expr(arg, scope, cx) else {
        return (name, None);
    };
    let Some(ty) = known_type(&typed, arg.span, cx) else {
        return (name, None);
    };
    if f == AggFunc::Collect && matches!(ty.ty, Type::List(_)) {
        cx.push(
            Diagnostic::error(
                codes::NESTED_LIST,
                format!("`collect` of a list: lists do not nest (this is {})", ty.ty),
                arg.span,
                "already a list",
            )
            .with_help("collect the values themselves, in the `aggregate` that made this list"),
        );
        return (name, None);
    }
    let accepted = match f {
        AggFunc::Sum
        | AggFunc::Avg
        | AggFunc::Stddev
        | AggFunc::StddevPop
        | AggFunc::Variance
        | AggFunc::VariancePop
        | AggFunc::Percentile(_) => ty.ty.is_numeric(),
        AggFunc::Min
        | AggFunc::Max
        | AggFunc::ArgMax
        | AggFunc::ArgMin
        | AggFunc::Top(_)
        | AggFunc::Bottom(_) => {
            ty.ty.is_numeric() || matches!(ty.ty, Type::Timestamp | Type::String)
        }
        _ => true,
    };
    if !accepted {
        let needs = match f {
            AggFunc::Min
            | AggFunc::Max
            | AggFunc::ArgMax
            | AggFunc::ArgMin
            | AggFunc::Top(_)
            | AggFunc::Bottom(_) => "a number, timestamp or string",
            AggFunc::Sum | AggFunc::Avg => "a number",
            _ => "a number",
        };
        cx.push(Diagnostic::error(
            codes::BAD_ARGUMENTS,
            format!("`{}` needs {needs}, found {}", f.name(), ty.ty),
            arg.span,
            format!("this is {}", ty.ty),
        ));
        return (name, None);
    }
    let keep = check_keep(item, f, scope, cx);
    let agg = name.as_ref().zip(keep).map(|(n, keep)| Aggregate {
        name: n.name.clone(),
        func: f,
        arg: Some(typed.expr),
        arg_type: Some(ty.ty),
        keep,
    });
    (name, agg)
}

/// The fields of `keep {a, b}`: only after `arg_max`/`arg_min`/`top`/`bottom`, each a
/// field of the input (for `top`/`bottom` not a list: its values become a list).
fn check_keep(
    item: &NamedExpr,
    f: AggFunc,
    scope: &Scope,
    cx: &mut Ctx<'_>,
) -> Option<Vec<KeptField>> {
    let Some(first) = item.keep.first() else {
        return Some(Vec::new());
    };
    if !matches!(f, AggFunc::ArgMax | AggFunc::ArgMin) && f.ranked().is_none() {
        cx.push(
            Diagnostic::error(
                codes::KEEP_WITHOUT_ARG,
                format!(
                    "`keep` needs `arg_max`, `arg_min`, `top` or `bottom`, not `{}`",
                    f.name()
                ),
                first.span,
                "nothing to keep fields of",
            )
            .with_help(
                "`arg_max(x) keep {a, b}` keeps the fields of the record with the greatest `x`",
            ),
        );
        return None;
    }
    let mut kept = Vec::with_capacity(item.keep.len());
    for k in &item.keep {
        let (slot, ty) = scope.lookup(&k.name, k.span, cx)?;
        if f.ranked().is_some() && matches!(ty.ty, Type::List(_)) {
            cx.push(
                Diagnostic::error(
                    codes::TOP_KEEPS_LIST,
                    format!(
                        "`{}` cannot keep `{}`: it is a list, and its kept fields become lists (lists do not nest)",
                        f.name(),
                        k.name
                    ),
                    k.span,
                    format!("this is {}", ty.ty),
                )
                .with_help("keep the fields of the ranked records, or compute the list after ranking (`collect` in the `aggregate` that made it)"),
            );
            return None;
        }
        kept.push(KeptField {
            slot,
            field: Field {
                name: k.name.clone(),
                ty: ty.ty,
                nullable: ty.nullable,
            },
        });
    }
    Some(kept)
}

/// Whether the `n` of `top(x, n)` is an integer literal (its range is checked after).
fn rank_count_literal(arg: &crate::ast::Expr) -> bool {
    matches!(arg.kind, ExprKind::Literal(crate::ast::Literal::Int(_)))
}

/// `top(x, n)` / `bottom(x, n)` with `n` in range, or the diagnostic.
fn rank_count(
    f: AggFunc,
    args: &[crate::ast::Expr],
    span: Span,
    text: &str,
) -> Result<AggFunc, Box<Diagnostic>> {
    match args[1].kind {
        ExprKind::Literal(crate::ast::Literal::Int(n))
            if (1..=i64::from(MAX_TOP_N)).contains(&n) =>
        {
            let n = n as u32;
            Ok(if matches!(f, AggFunc::Top(_)) {
                AggFunc::Top(n)
            } else {
                AggFunc::Bottom(n)
            })
        }
        _ => Err(Box::new(bad_top_count(f, args, span, text))),
    }
}

/// P0315: what `top`/`bottom` needs, with the likely fix.
fn bad_top_count(f: AggFunc, args: &[crate::ast::Expr], span: Span, text: &str) -> Diagnostic {
    let name = f.name();
    let swapped = args.len() == 2 && rank_count_literal(&args[0]) && !rank_count_literal(&args[1]);
    let (at, label) = match args.get(1) {
        _ if swapped => (args[0].span, "the count goes second".to_string()),
        Some(n) => (n.span, format!("not a whole number from 1 to {MAX_TOP_N}")),
        None => (
            span,
            format!(
                "{} argument{}",
                args.len(),
                if args.len() == 1 { "" } else { "s" }
            ),
        ),
    };
    let help = if swapped {
        format!(
            "the value comes first, then how many: `{name}({}, {})`",
            args[1].span.text(text),
            args[0].span.text(text)
        )
    } else {
        format!(
            "write `{name}(<field>, 10)` for the 10 records with the {} value",
            if name == "top" { "greatest" } else { "least" }
        )
    };
    Diagnostic::error(
        codes::BAD_TOP_COUNT,
        format!(
            "`{name}` needs a value and a constant count from 1 to {MAX_TOP_N}: `{name}(x, n)`"
        ),
        at,
        label,
    )
    .with_help(help)
}

/// The `p` of `percentile(x, p)`: a constant fraction 0 ≤ p ≤ 1, in parts per million.
fn percentile_fraction(arg: &crate::ast::Expr, cx: &mut Ctx<'_>) -> Option<u32> {
    use crate::ast::Literal;
    let p = match &arg.kind {
        ExprKind::Literal(Literal::Float(p)) => Some(*p),
        ExprKind::Literal(Literal::Int(p)) => Some(*p as f64),
        _ => None,
    };
    match p {
        Some(p) if (0.0..=1.0).contains(&p) => Some((p * 1e6).round() as u32),
        _ => {
            cx.push(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    "`percentile` needs a constant fraction from 0 to 1",
                    arg.span,
                    "not a fraction",
                )
                .with_help("write the quantile as a fraction: `percentile(latency, 0.99)` for the 99th percentile"),
            );
            None
        }
    }
}

fn agg_list() -> String {
    format!(
        "aggregate functions: {}",
        AggFunc::ALL
            .iter()
            .map(|a| format!("{}()", a.name()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
