//! Checker and lowering tests of `join`: names, key types, time bounds, the output
//! record, and pipelines ordered by what their joins read.

use weir_engine::plan::{JoinMode, PipelineInput, Stage, WindowKind};
use weir_engine::schema::Type;

use crate::{compile, render, Diagnostic, Severity};

const BASE: &str = "\
source readings = sensors() {
  machine: string
  temp:    f64
  ts:      timestamp
  event_time ts
}
source service = sensors() {
  machine: string
  line:    i64
  tech:    string
  at:      timestamp
  event_time at
}
source untimed = sensors() {
  machine: string
  t: timestamp
}
sink out = stdout()
";

fn diagnostics(body: &str) -> (String, Vec<Diagnostic>) {
    super::test_diagnostics::diagnostics(BASE, body)
}

#[track_caller]
fn expect_one(body: &str, code: &str, at: &str) -> Diagnostic {
    let (text, diags) = diagnostics(body);
    let shown = render(&diags, "t.pipe", &text, false);
    assert_eq!(diags.len(), 1, "expected one diagnostic, got:\n{shown}");
    let d = diags.into_iter().next().expect("one");
    assert_eq!(d.code, code, "{shown}");
    assert_eq!(d.primary.span.text(&text), at, "{shown}");
    d
}

fn join_stage(body: &str) -> (Vec<String>, weir_engine::plan::JoinSpec) {
    let text = format!("{BASE}{body}\n");
    let plan = compile("t.pipe", &text)
        .unwrap_or_else(|d| panic!("{}", render(&d, "t.pipe", &text, false)))
        .plan;
    let p = plan.pipeline("p").expect("pipeline p");
    let Some(Stage::Join { join, schema }) =
        p.stages.iter().find(|s| matches!(s, Stage::Join { .. }))
    else {
        panic!("no join in {p:?}")
    };
    (
        schema.fields.iter().map(|f| f.name.clone()).collect(),
        join.clone(),
    )
}

#[test]
fn an_interval_join_lowers_with_prefixed_right_fields() {
    let (fields, join) = join_stage(
        "pipeline p { from readings | join service on machine = machine within 5m | to out }",
    );
    assert_eq!(
        fields,
        [
            "machine",
            "temp",
            "ts",
            "service.machine",
            "service.line",
            "service.tech",
            "service.at"
        ]
    );
    assert_eq!(join.right, PipelineInput::Source("service".into()));
    assert_eq!((join.left_keys, join.right_keys), (vec![0], vec![0]));
    assert_eq!(
        join.mode,
        JoinMode::Interval {
            within_ms: Some(300_000)
        }
    );
}

#[test]
fn a_windowed_join_with_an_alias_adds_the_window_bounds() {
    let (fields, join) = join_stage(
        "pipeline p { from readings | join service as s on machine = machine window tumbling 10s\n  | select machine, tech = s.tech, window.start | to out }",
    );
    assert_eq!(fields.len(), 3 + 4 + 2);
    assert_eq!(
        &fields[3..],
        [
            "s.machine",
            "s.line",
            "s.tech",
            "s.at",
            "window.start",
            "window.end"
        ]
    );
    assert_eq!(
        join.mode,
        JoinMode::Window {
            kind: WindowKind::Tumbling {
                size_ms: 10_000,
                offset_ms: 0
            }
        }
    );
}

#[test]
fn a_join_may_read_a_pipeline_declared_after_it_and_feeds_its_reader() {
    let (_, join) = join_stage(
        "pipeline p { from readings | join hot on machine = machine within 1m | to out }\n\
         pipeline hot { from service | where line > 2 }",
    );
    assert_eq!(join.right, PipelineInput::Pipeline("hot".into()));
    // `hot` is read by the join, so it is not an unused output (no P0402).
    let (text, diags) = diagnostics(
        "pipeline p { from readings | join hot on machine = machine within 1m | to out }\n\
         pipeline hot { from service | where line > 2 }",
    );
    assert!(
        diags.is_empty(),
        "{}",
        render(&diags, "t.pipe", &text, false)
    );
}

#[test]
fn several_key_pairs_and_double_equals_are_accepted() {
    let (_, join) = join_stage(
        "pipeline p { from service | join service as other on machine == machine, line = line within 1s | to out }",
    );
    assert_eq!((join.left_keys, join.right_keys), (vec![0, 1], vec![0, 1]));
}

#[test]
fn key_types_must_agree() {
    let d = expect_one(
        "pipeline p { from readings | join service on machine = line within 1m | to out }",
        "P0214",
        "machine",
    );
    assert!(d.message.contains("string = i64"), "{}", d.message);
    assert_eq!(d.secondary.len(), 1);
    assert!(
        d.help
            .as_deref()
            .is_some_and(|h| h.ends_with("`| map line_key = to_string(line)`")),
        "{:?}",
        d.help
    );
    let d = expect_one(
        "pipeline p { from readings | join readings as r on temp = temp within 1m | to out }",
        "P0214",
        "temp",
    );
    // `round` returns an `f64`, which is no key either: only `to_string` converts.
    assert_eq!(
        d.help.as_deref(),
        Some("join on an `i64` or `string` field, e.g. `| map k = to_string(x)` on both sides")
    );
}

#[test]
fn unknown_fields_on_either_side_name_their_side() {
    let d = expect_one(
        "pipeline p { from readings | join service on machine = machin within 1m | to out }",
        "P0203",
        "machin",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `machine`?"));
    assert!(d.notes[0].contains("tech: string"), "{:?}", d.notes);
    let d = expect_one(
        "pipeline p { from readings | join service on tech = machine within 1m | to out }",
        "P0203",
        "tech",
    );
    assert!(d.notes[0].contains("temp: f64"), "{:?}", d.notes);
}

#[test]
fn unknown_inputs_are_p0102() {
    expect_one(
        "pipeline p { from readings | join servce on machine = machine within 1m | to out }",
        "P0102",
        "servce",
    );
}

#[test]
fn time_bounds_need_event_time_and_fixed_windows() {
    expect_one(
        "pipeline p { from readings | join untimed on machine = machine within 1m | to out }",
        "P0310",
        "1m",
    );
    expect_one(
        "pipeline p { from readings | join service on machine = machine window session gap 1m | to out }",
        "P0310",
        "session gap 1m",
    );
    expect_one(
        "pipeline p { from readings | join service on machine = machine within 5 | to out }",
        "P0301",
        "5",
    );
}

#[test]
fn an_unbounded_join_warns_about_its_state() {
    let d = expect_one(
        "pipeline p { from readings | join untimed on machine = machine | to out }",
        "P0405",
        "join",
    );
    assert_eq!(d.severity, Severity::Warning);
}

#[test]
fn clashing_output_names_are_p0208_with_a_fix() {
    let d = expect_one(
        "pipeline p { from readings | map service.tech = \"x\" | join service on machine = machine within 1m | to out }",
        "P0208",
        "service",
    );
    assert!(d.help.as_deref().is_some_and(|h| h.contains("as <name>")));
}

#[test]
fn joins_that_read_each_other_are_a_cycle() {
    let (text, diags) = diagnostics(
        "pipeline a { from readings | join b on machine = machine within 1m | to out }\n\
         pipeline b { from service | join a on machine = machine within 1m | to out }",
    );
    let shown = render(&diags, "t.pipe", &text, false);
    assert!(diags.iter().any(|d| d.code == "P0104"), "{shown}");
    assert!(shown.contains("a → b → a"), "{shown}");
}

#[test]
fn the_key_fields_keep_their_types_in_the_output() {
    let text = format!(
        "{BASE}pipeline p {{ from readings | join service on machine = machine within 1m | to out }}\n"
    );
    let plan = compile("t.pipe", &text).expect("compiles").plan;
    let schema = plan.pipeline("p").expect("p").output_schema().clone();
    assert_eq!(schema.fields[4].ty, Type::Int);
    assert_eq!(schema.fields[4].name, "service.line");
}
