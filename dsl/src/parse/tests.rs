//! Grammar tests: precedence, literals, connector options, comments, layout.

use super::parse;
use crate::ast::*;

/// An expression as an s-expression, for compact precedence assertions.
fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(Literal::Int(i)) => i.to_string(),
        ExprKind::Literal(Literal::Float(f)) => format!("{f:?}"),
        ExprKind::Literal(Literal::Str(s)) => format!("{s:?}"),
        ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
        ExprKind::Literal(Literal::Null) => "null".into(),
        ExprKind::Literal(Literal::Duration(ms)) => format!("{ms}ms"),
        ExprKind::Field(f) => f.clone(),
        ExprKind::Call { func, args } => {
            let args: Vec<String> = args.iter().map(sexpr).collect();
            format!("({} {})", func.name, args.join(" "))
        }
        ExprKind::Unary { op, operand, .. } => {
            let op = match op {
                UnaryOp::Neg => "neg",
                UnaryOp::Not => "not",
            };
            format!("({op} {})", sexpr(operand))
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            format!("({} {} {})", op.symbol(), sexpr(lhs), sexpr(rhs))
        }
        ExprKind::Between { value, lo, hi } => {
            format!("(between {} {} {})", sexpr(value), sexpr(lo), sexpr(hi))
        }
        ExprKind::In { value, list } => {
            let list: Vec<String> = list.iter().map(sexpr).collect();
            format!("(in {} [{}])", sexpr(value), list.join(" "))
        }
        ExprKind::Cond {
            branches,
            otherwise,
        } => {
            let mut out = "(case".to_string();
            for (c, v) in branches {
                out.push_str(&format!(" ({} {})", sexpr(c), sexpr(v)));
            }
            if let Some(o) = otherwise {
                out.push_str(&format!(" (else {})", sexpr(o)));
            }
            out + ")"
        }
        ExprKind::Invalid => "<invalid>".into(),
    }
}

fn program(text: &str) -> Program {
    match parse(text) {
        Ok(p) => {
            assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
            p.program
        }
        Err(e) => panic!("parse failed: {e:?}"),
    }
}

fn pipeline(text: &str) -> PipelineDecl {
    program(text)
        .items
        .into_iter()
        .find_map(|i| match i {
            Item::Pipeline(p) => Some(p),
            _ => None,
        })
        .expect("a pipeline")
}

/// The expression of `where <expr>`.
fn where_expr(expr: &str) -> String {
    let p = pipeline(&format!("pipeline p {{ from s | where {expr} }}"));
    match &p.stages[0].kind {
        StageKind::Where(e) => sexpr(e),
        other => panic!("not a where: {other:?}"),
    }
}

#[test]
fn precedence_follows_the_design() {
    assert_eq!(
        where_expr("a + b * c > 2 and not d"),
        "(and (> (+ a (* b c)) 2) (not d))"
    );
    assert_eq!(where_expr("a or b and c"), "(or a (and b c))");
    assert_eq!(where_expr("not a == b"), "(not (== a b))");
    // `??` is looser than arithmetic, tighter than comparisons.
    assert_eq!(where_expr("a ?? b + 1 < c"), "(< (?? a (+ b 1)) c)");
    assert_eq!(where_expr("-a * b"), "(* (neg a) b)");
    assert_eq!(where_expr("a - b - c"), "(- (- a b) c)");
    assert_eq!(where_expr("a / b % c"), "(% (/ a b) c)");
    assert_eq!(where_expr("(a + b) * c"), "(* (+ a b) c)");
    assert_eq!(where_expr("a ?? b ?? c"), "(?? a (?? b c))");
}

#[test]
fn between_and_in_bind_like_comparisons() {
    assert_eq!(
        where_expr("temp between -40.0 and 150.0"),
        "(between temp -40.0 150.0)"
    );
    assert_eq!(
        where_expr("a + 1 between 0 and b * 2 and c"),
        "(and (between (+ a 1) 0 (* b 2)) c)"
    );
    assert_eq!(
        where_expr("not x in [1, 2, 3] or y"),
        "(or (not (in x [1 2 3])) y)"
    );
    assert_eq!(where_expr("s in [\"a\", \"b\",]"), "(in s [\"a\" \"b\"])");
}

#[test]
fn calls_fields_and_literals() {
    assert_eq!(
        where_expr("round(abs(x), 2) >= window.start"),
        "(>= (round (abs x) 2) window.start)"
    );
    assert_eq!(where_expr("f() == null"), "(== (f ) null)");
    assert_eq!(where_expr("true != false"), "(!= true false)");
    assert_eq!(where_expr("d < 1_500ms"), "(< d 1500ms)");
    assert_eq!(where_expr("n > 5k"), "(> n 5000)");
    assert_eq!(where_expr("x == 1.5e3"), "(== x 1500.0)");
    assert_eq!(
        where_expr("s == \"a\\\"b\\\\c\\n\""),
        "(== s \"a\\\"b\\\\c\\n\")"
    );
    // Keywords are whole words: `notable`, `order`, `android` are fields.
    assert_eq!(
        where_expr("notable and order or android"),
        "(or (and notable order) android)"
    );
}

#[test]
fn expression_spans_cover_their_text() {
    let text = "pipeline p { from s | where a + b * c > 2 }";
    let p = pipeline(text);
    let StageKind::Where(e) = &p.stages[0].kind else {
        panic!("where")
    };
    assert_eq!(e.span.text(text), "a + b * c > 2");
    let ExprKind::Binary { op_span, lhs, .. } = &e.kind else {
        panic!("binary")
    };
    assert_eq!(op_span.text(text), ">");
    assert_eq!(lhs.span.text(text), "a + b * c");
}

fn durations_of(text: &str) -> Vec<DurationValue> {
    let p = pipeline(&format!("pipeline p {{ from s | window tumbling {text} }}"));
    let StageKind::Window(w) = &p.stages[0].kind else {
        panic!("window")
    };
    match &w.kind {
        WindowKindAst::Tumbling { size, offset } => {
            let mut v = vec![size.value.clone()];
            v.extend(offset.iter().map(|o| o.value.clone()));
            v
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn durations_need_units_and_scale_to_millis() {
    use DurationValue::*;
    assert_eq!(durations_of("500ms"), vec![Millis(500)]);
    assert_eq!(
        durations_of("10s offset 15s"),
        vec![Millis(10_000), Millis(15_000)]
    );
    assert_eq!(durations_of("5m"), vec![Millis(300_000)]);
    assert_eq!(durations_of("1h"), vec![Millis(3_600_000)]);
    assert_eq!(durations_of("1d"), vec![Millis(86_400_000)]);
    // A bare number parses, so the checker can ask for a unit.
    assert_eq!(durations_of("60"), vec![Unitless("60".into())]);
}

fn options_of(call: &str) -> ConnectorCallAst {
    let p = program(&format!("sink out = {call}"));
    match p.items.into_iter().next() {
        Some(Item::Sink(s)) => s.connector,
        other => panic!("{other:?}"),
    }
}

#[test]
fn connector_option_values() {
    let c = options_of(
        "sensors(\"pos\", 3, devices: 50, events: 10M, small: 5k, big: 2G, jitter: 2s, \
         every: 10m, ratio: 0.5, on: true, format: jsonl, topics: [a, \"b\", 1], esc: \"q\\\"x\")",
    );
    assert_eq!(c.kind.name, "sensors");
    let args: Vec<&OptionValueKind> = c.args.iter().map(|a| &a.kind).collect();
    assert_eq!(
        args,
        vec![
            &OptionValueKind::Str("pos".into()),
            &OptionValueKind::Int(3)
        ]
    );
    let get = |n: &str| {
        c.options
            .iter()
            .find(|(k, _)| k.name == n)
            .map(|(_, v)| v.kind.clone())
            .expect("option")
    };
    assert_eq!(get("devices"), OptionValueKind::Int(50));
    assert_eq!(get("events"), OptionValueKind::Int(10_000_000));
    assert_eq!(get("small"), OptionValueKind::Int(5_000));
    assert_eq!(get("big"), OptionValueKind::Int(2_000_000_000));
    assert_eq!(get("jitter"), OptionValueKind::Duration(2_000));
    // Lowercase `m` is minutes, uppercase `M` is millions.
    assert_eq!(get("every"), OptionValueKind::Duration(600_000));
    assert_eq!(get("ratio"), OptionValueKind::Float(0.5));
    assert_eq!(get("on"), OptionValueKind::Bool(true));
    assert_eq!(get("format"), OptionValueKind::Ident("jsonl".into()));
    assert_eq!(get("esc"), OptionValueKind::Str("q\"x".into()));
    match get("topics") {
        OptionValueKind::List(items) => {
            let kinds: Vec<OptionValueKind> = items.into_iter().map(|i| i.kind).collect();
            assert_eq!(
                kinds,
                vec![
                    OptionValueKind::Ident("a".into()),
                    OptionValueKind::Str("b".into()),
                    OptionValueKind::Int(1)
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(options_of("stdout()").args.is_empty());
}

#[test]
fn connector_options_take_calls_speeds_and_sizes() {
    let c = options_of(
        "parquet(\"lake/t\", partition_by: [date(ts), hour(ts), device_id], rotate: [5m, 128MB], \
         replay: 60x, slow: 0.5x, tiny: 64KiB, f: g(), by: [date(window.start), a.b])",
    );
    let get = |n: &str| {
        c.options
            .iter()
            .find(|(k, _)| k.name == n)
            .map(|(_, v)| v.kind.clone())
            .expect("option")
    };
    let OptionValueKind::List(keys) = get("partition_by") else {
        panic!("{:?}", get("partition_by"))
    };
    match &keys[0].kind {
        OptionValueKind::Call { func, args } => {
            assert_eq!(func.name, "date");
            assert_eq!(args[0].kind, OptionValueKind::Ident("ts".into()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(keys[2].kind, OptionValueKind::Ident("device_id".into()));
    let OptionValueKind::List(rotate) = get("rotate") else {
        panic!("{:?}", get("rotate"))
    };
    assert_eq!(rotate[0].kind, OptionValueKind::Duration(300_000));
    assert_eq!(rotate[1].kind, OptionValueKind::Ident("128MB".into()));
    assert_eq!(get("replay"), OptionValueKind::Ident("60x".into()));
    assert_eq!(get("slow"), OptionValueKind::Ident("0.5x".into()));
    assert_eq!(get("tiny"), OptionValueKind::Ident("64KiB".into()));
    assert!(matches!(get("f"), OptionValueKind::Call { args, .. } if args.is_empty()));
    let OptionValueKind::List(by) = get("by") else {
        panic!("{:?}", get("by"))
    };
    assert!(
        matches!(&by[0].kind, OptionValueKind::Call { args, .. } if args[0].kind == OptionValueKind::Ident("window.start".into()))
    );
    assert_eq!(by[1].kind, OptionValueKind::Ident("a.b".into()));
    // Other glued units are still reported, with the usual help.
    let errors = crate::compile("t.pipe", "sink o = file(\"x\", every: 10sec)").unwrap_err();
    assert!(errors[0].message.contains("unknown unit"), "{errors:?}");
}

#[test]
fn comments_and_layout_do_not_matter() {
    let one_line = pipeline(
        "pipeline p { from s | where x > 1 | key by a, b | window tumbling 1m | aggregate n = count() | to out }",
    );
    let many_lines = pipeline(
        "# leading comment\n\
         pipeline p {   # trailing comment\n\
           from s\n\
           # a comment between stages\n\
           | where x > 1    # why\n\
           | key by a,\n\
                    b\n\
           | window tumbling 1m\n\
           | aggregate n = count()\n\
           | to out\n\
         }\n",
    );
    let kinds = |p: &PipelineDecl| -> Vec<String> {
        p.stages
            .iter()
            .map(|s| {
                format!("{:?}", s.kind)
                    .split('(')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(kinds(&one_line), kinds(&many_lines));
    assert_eq!(
        kinds(&one_line),
        vec!["Where", "KeyBy", "Window", "Aggregate", "To"]
    );
    match &many_lines.stages[1].kind {
        StageKind::KeyBy(keys) => {
            let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
            assert_eq!(names, vec!["a", "b"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn source_bodies() {
    let p = program(
        "source t = sensors() {\n  a: string\n  b: f64?\n  ts: timestamp\n  event_time ts\n  watermark bounded 10s, idle 1m, per key\n}",
    );
    let Some(Item::Source(s)) = p.items.first() else {
        panic!("source")
    };
    let fields: Vec<(&str, &str, bool)> = s
        .fields
        .iter()
        .map(|f| (f.name.name.as_str(), f.ty.name.name.as_str(), f.ty.nullable))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("a", "string", false),
            ("b", "f64", true),
            ("ts", "timestamp", false)
        ]
    );
    assert_eq!(s.event_time[0].name, "ts");
    assert_eq!(
        s.watermark[0].parts,
        vec![
            WatermarkPart::Bounded(DurationAst {
                value: DurationValue::Millis(10_000),
                span: s.watermark[0].parts_span(0),
            }),
            WatermarkPart::Idle(DurationAst {
                value: DurationValue::Millis(60_000),
                span: s.watermark[0].parts_span(1),
            }),
            WatermarkPart::PerKey(s.watermark[0].parts_span(2)),
        ]
    );
}

impl WatermarkDecl {
    fn parts_span(&self, i: usize) -> Span {
        match &self.parts[i] {
            WatermarkPart::Bounded(d) | WatermarkPart::Idle(d) | WatermarkPart::MaxFuture(d) => {
                d.span
            }
            WatermarkPart::PerKey(s) => *s,
        }
    }
}

#[test]
fn later_slices_parse_without_syntax_errors() {
    let p = program(
        "table machines = csv(\"m.csv\") { key machine_id }\n\
         test \"late\" { given t {a: 1} {a: 2}\n expect out [] }\n\
         run { workers 4 }\n\
         pipeline p { from s\n\
           | window sliding 10m every 1m\n\
               emit early every 10s, on watermark, late every event\n\
               allow late 5m\n\
               accumulate\n\
               late to late_sink\n\
               timestamp earliest\n\
           | aggregate n = count()\n\
           | lookup machines on machine_id\n\
         }",
    );
    let unsupported = p
        .items
        .iter()
        .filter(|i| matches!(i, Item::Unsupported { .. }))
        .count();
    assert_eq!(unsupported, 1, "`run`");
    assert!(matches!(p.items[0], Item::Table(_)));
    assert!(p
        .items
        .iter()
        .any(|i| matches!(i, Item::Test(t) if t.name == "late" && t.steps.len() == 2)));
    let Some(Item::Pipeline(pl)) = p.items.last() else {
        panic!("pipeline")
    };
    let StageKind::Window(w) = &pl.stages[0].kind else {
        panic!("window")
    };
    assert!(matches!(w.kind, WindowKindAst::Sliding { .. }));
    let clauses: Vec<&WindowClauseKind> = w.clauses.iter().map(|c| &c.kind).collect();
    assert_eq!(clauses.len(), 5, "{clauses:?}");
    let WindowClauseKind::Emit(t) = clauses[0] else {
        panic!("emit clause")
    };
    let TriggerKindAst::Watermark {
        early: Some(early),
        late: Some(late),
    } = &t.kind
    else {
        panic!("sugar becomes watermark(early, late): {t:?}")
    };
    assert!(matches!(early.kind, TriggerKindAst::Processing(_)));
    assert_eq!(late.kind, TriggerKindAst::Count(Some(1)));
    assert!(matches!(clauses[3], WindowClauseKind::LateTo(s) if s.name == "late_sink"));
    assert_eq!(clauses[4], &WindowClauseKind::Timestamp("earliest".into()));
    assert!(matches!(&pl.stages[2].kind, StageKind::Lookup(l) if l.table.name == "machines"));
}

#[test]
fn malformed_literals_are_reported_and_parsing_goes_on() {
    let parsed = parse(
        "sink a = file(\"x\\q\", every: 10sec)\npipeline p { from s | window tumbling 1.5s | where x > 2 }",
    )
    .expect("parses");
    let messages: Vec<&str> = parsed
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(parsed.diagnostics.len(), 3, "{messages:?}");
    assert!(messages[0].contains("unknown escape"), "{messages:?}");
    assert!(messages[1].contains("unknown unit `sec`"), "{messages:?}");
    assert_eq!(parsed.diagnostics[1].help.as_deref(), Some("write `10s`"));
    assert!(messages[2].contains("whole numbers"), "{messages:?}");
    assert_eq!(
        parsed.diagnostics[2].help.as_deref(),
        Some("write `1500ms`")
    );
}

fn syntax_error(text: &str) -> crate::Diagnostic {
    match parse(text) {
        Ok(p) => panic!("parsed: {:?}", p.program),
        Err(d) => *d,
    }
}

#[test]
fn syntax_errors_speak_user_words() {
    let text = "pipeline p {\n  from s\n  | \n}";
    let d = syntax_error(text);
    assert_eq!(d.code, "P0001");
    assert_eq!(d.message, "expected a stage after `|`");
    assert_eq!(d.primary.span.lo, text.rfind('}').expect("brace"));

    let d = syntax_error("source s = f() { a: }");
    assert!(d.message.contains("a type such as `f64`"), "{}", d.message);

    let d = syntax_error("pipeline p { from s | window tumbling }");
    assert!(
        d.message.contains("a duration such as `10s`"),
        "{}",
        d.message
    );

    let d = syntax_error("pipeline p { from s where x > 1 }");
    assert!(d.message.contains("`|`"), "{}", d.message);
    assert_eq!(
        d.help.as_deref(),
        Some("put `|` before each stage: `| where …`")
    );

    let d = syntax_error("pipeline p { from s | where x = 1 }");
    assert_eq!(d.help.as_deref(), Some("to compare, write `==`"));

    let d = syntax_error("sink a = file(\"x\"");
    assert!(d.message.contains("`)`"), "{}", d.message);
    assert!(d.message.contains("end of file"), "{}", d.message);
}
