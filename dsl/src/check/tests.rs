//! Checker tests: every diagnostic code from a small program, with the exact text its
//! primary label points at; all errors of a file at once; no grammar names in messages.

use crate::{compile, compile_with, render, Diagnostic, Severity};

const BASE: &str = "\
source telemetry = sensors(devices: 5) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}
source raw = sensors() {
  v: f64
  t: timestamp
}
sink out = stdout()
";

/// Compiles `BASE + body` and returns its diagnostics (errors and warnings).
fn diagnostics(body: &str) -> (String, Vec<Diagnostic>) {
    let text = format!("{BASE}{body}\n");
    let diags = match compile("test.pipe", &text) {
        Ok(c) => c.warnings,
        Err(d) => d,
    };
    (text, diags)
}

/// Asserts `body` gives exactly one diagnostic, with `code`, pointing at `at`.
#[track_caller]
fn expect_one(body: &str, code: &str, at: &str) -> Diagnostic {
    let (text, diags) = diagnostics(body);
    let shown = render(&diags, "test.pipe", &text, false);
    assert_eq!(
        diags.len(),
        1,
        "expected one diagnostic for {body:?}, got:\n{shown}"
    );
    let d = diags.into_iter().next().expect("one");
    assert_eq!(d.code, code, "{shown}");
    assert_eq!(d.primary.span.text(&text), at, "{shown}");
    d
}

fn pipe(stages: &str) -> String {
    format!("pipeline p {{ from telemetry {stages} | to out }}")
}

#[test]
fn the_base_program_is_clean() {
    let (text, diags) = diagnostics(&pipe("| where temp > 1.0"));
    assert!(diags.is_empty(), "{}", render(&diags, "t", &text, false));
}

#[test]
fn p0001_syntax() {
    let d = expect_one(&pipe("| filter temp > 1.0"), "P0001", "filter");
    assert_eq!(d.help.as_deref(), Some("did you mean `where`?"));
    let d = expect_one("pipeline p { from telemetry | }", "P0001", "}");
    assert_eq!(d.message, "expected a stage after `|`");
    expect_one(
        &pipe("| window tumbling 10sec | aggregate n = count()"),
        "P0001",
        "10sec",
    );
}

#[test]
fn p0002_not_supported_yet() {
    expect_one("run job { }", "P0002", "run");
    expect_one(&pipe("| track device_id"), "P0002", "track");
}

#[test]
fn p0101_duplicate_declaration() {
    let d = expect_one("sink out = stdout()", "P0101", "out");
    assert_eq!(d.secondary.len(), 1);
}

#[test]
fn p0102_unknown_input() {
    let d = expect_one("pipeline p { from telemtry | to out }", "P0102", "telemtry");
    assert_eq!(d.help.as_deref(), Some("did you mean `telemetry`?"));
    expect_one("pipeline p { from out | to out }", "P0102", "out");
}

#[test]
fn p0103_unknown_sink() {
    let d = expect_one("pipeline p { from telemetry | to outt }", "P0103", "outt");
    assert_eq!(d.help.as_deref(), Some("did you mean `out`?"));
    expect_one("pipeline p { from telemetry | to raw }", "P0103", "raw");
}

#[test]
fn p0104_pipeline_cycle() {
    let d = expect_one(
        "pipeline a { from b | to out }\npipeline b { from a | to out }",
        "P0104",
        "b",
    );
    assert!(d.message.contains("a → b → a"), "{}", d.message);
    expect_one("pipeline a { from a | to out }", "P0104", "a");
}

#[test]
fn p0201_unknown_type() {
    let d = expect_one("source x = f() { a: float }", "P0201", "float");
    assert_eq!(d.help.as_deref(), Some("did you mean `f64`?"));
    let d = expect_one("source x = f() { a: int }", "P0201", "int");
    assert_eq!(d.help.as_deref(), Some("did you mean `i64`?"));
    let d = expect_one("source x = f() { a: str? }", "P0201", "str");
    assert_eq!(d.help.as_deref(), Some("did you mean `string`?"));
    let d = expect_one("source x = f() { a: timestmp }", "P0201", "timestmp");
    assert_eq!(d.help.as_deref(), Some("did you mean `timestamp`?"));
}

#[test]
fn p0202_bad_event_time() {
    let d = expect_one(
        "source x = f() { a: f64  t: timestamp  event_time a }",
        "P0202",
        "a",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `event_time t`?"));
    expect_one(
        "source x = f() { t: timestamp  event_time tt }",
        "P0202",
        "tt",
    );
    expect_one(
        "source x = f() { t: timestamp?  event_time t }",
        "P0202",
        "t",
    );
}

#[test]
fn p0203_unknown_field() {
    let d = expect_one(
        "pipeline p { from telemetry | key by device_id | window tumbling 1m | aggregate avg_temp = avg(temprature) | to out }",
        "P0203",
        "temprature",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `temp`?"));
    assert_eq!(
        d.notes,
        vec!["`telemetry` has: device_id: string, temp: f64, ts: timestamp".to_string()]
    );
    assert_eq!(d.primary.message, "not a field of `telemetry`");
    // After a select, only the selected fields exist.
    expect_one(
        &pipe("| select device_id | where temp > 1.0"),
        "P0203",
        "temp",
    );
    expect_one(&pipe("| key by devce_id"), "P0203", "devce_id");
}

#[test]
fn p0204_unknown_function() {
    let d = expect_one(&pipe("| map x = sqr(temp)"), "P0204", "sqr");
    assert_eq!(d.help.as_deref(), Some("did you mean `sqrt`?"));
    expect_one(
        &pipe("| window tumbling 1m | aggregate m = median(temp)"),
        "P0204",
        "median",
    );
}

#[test]
fn p0205_bad_arguments() {
    expect_one(&pipe("| map x = abs(temp, 1)"), "P0205", "abs(temp, 1)");
    let d = expect_one(&pipe("| map x = lower(temp)"), "P0205", "temp");
    assert_eq!(
        d.help.as_deref(),
        Some("convert it first: `to_string(temp)`")
    );
    expect_one(
        &pipe("| window tumbling 1m | aggregate s = sum(device_id)"),
        "P0205",
        "device_id",
    );
    expect_one(
        &pipe("| window tumbling 1m | aggregate n = count(temp)"),
        "P0205",
        "count(temp)",
    );
}

#[test]
fn p0206_type_mismatch() {
    let d = expect_one(&pipe("| map x = device_id * 2"), "P0206", "*");
    assert_eq!(d.message, "cannot multiply string and i64");
    assert_eq!(d.secondary.len(), 2);
    expect_one(&pipe("| where ts > 5"), "P0206", ">");
    expect_one(&pipe("| where not temp"), "P0206", "not");
    expect_one(&pipe("| where temp > 1.0 and device_id"), "P0206", "and");
    expect_one(&pipe("| where temp between 0 and \"x\""), "P0206", "\"x\"");
}

#[test]
fn p0207_where_not_bool() {
    let d = expect_one(&pipe("| where temp"), "P0207", "temp");
    assert_eq!(d.help.as_deref(), Some("compare it, e.g. `temp > 0`"));
}

#[test]
fn p0208_duplicate_field() {
    let d = expect_one(&pipe("| select a = temp, a = ts"), "P0208", "a");
    assert!(d.primary.span.lo > d.secondary[0].span.lo);
    expect_one("source x = f() { a: f64  a: i64 }", "P0208", "a");
    expect_one(
        &pipe("| key by device_id | window tumbling 1m | aggregate device_id = count()"),
        "P0208",
        "device_id",
    );
}

#[test]
fn p0209_missing_name() {
    let d = expect_one(&pipe("| select temp * 2"), "P0209", "temp * 2");
    assert_eq!(d.help.as_deref(), Some("write `value = temp * 2`"));
    let d = expect_one(
        &pipe("| window tumbling 1m | aggregate count()"),
        "P0209",
        "count()",
    );
    assert_eq!(d.help.as_deref(), Some("write `count = count()`"));
}

#[test]
fn p0210_misplaced_aggregate() {
    expect_one(&pipe("| map x = avg(temp)"), "P0210", "avg");
    expect_one(
        &pipe("| window tumbling 1m | aggregate t = temp"),
        "P0210",
        "temp",
    );
    expect_one(
        &pipe("| window tumbling 1m | aggregate t = abs(temp)"),
        "P0210",
        "abs",
    );
}

#[test]
fn p0211_type_of_null() {
    expect_one(&pipe("| map x = null"), "P0211", "null");
}

#[test]
fn p0301_duration_without_unit() {
    let d = expect_one(
        &pipe("| window tumbling 60 | aggregate n = count()"),
        "P0301",
        "60",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("write `60s` (or `60ms`, `60m`, `60h`, `60d`)")
    );
    expect_one(
        "source x = f() { t: timestamp  event_time t  watermark bounded 10 }",
        "P0301",
        "10",
    );
}

#[test]
fn p0302_window_without_event_time() {
    let d = expect_one(
        "pipeline p { from raw | window tumbling 1m | aggregate n = count() | to out }",
        "P0302",
        "window",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("add `event_time t` to source `raw`")
    );
    assert_eq!(
        d.secondary[0].message,
        "`raw` is declared here without `event_time`"
    );
    // Event time is record metadata: a select that drops its field keeps the window valid.
    let (_, diags) = diagnostics(&pipe(
        "| select device_id, temp | window tumbling 1m | aggregate n = count()",
    ));
    assert!(
        diags.iter().all(|d| d.code != "P0302"),
        "dropping the event-time field must not lose event time: {diags:?}"
    );
}

#[test]
fn p0303_window_and_aggregate_go_together() {
    expect_one(&pipe("| window tumbling 1m"), "P0303", "window");
    let (_, diags) = diagnostics(&pipe(
        "| window tumbling 1m | where temp > 1.0 | aggregate n = count()",
    ));
    assert_eq!(
        diags.len(),
        2,
        "window without aggregate and aggregate without window"
    );
    expect_one(&pipe("| aggregate n = count()"), "P0303", "aggregate");
}

#[test]
fn p0304_unknown_window_kind() {
    for kind in [
        "sliding 10m every 1m",
        "session gap 5m max 1h",
        "global",
        "tumbling 1m offset 15s",
    ] {
        let (text, diags) = diagnostics(&pipe(&format!(
            "| key by device_id | window {kind} | aggregate n = count()"
        )));
        assert!(diags.is_empty(), "{}", render(&diags, "t", &text, false));
    }
    let d = expect_one(
        &pipe("| window tumblin 1m | aggregate n = count()"),
        "P0304",
        "tumblin",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `tumbling`?"));
}

#[test]
fn window_clauses_compile_to_the_canonical_trigger() {
    let text = format!(
        "{BASE}sink late_out = stdout()\n{}",
        pipe("| key by device_id | window tumbling 1m\n    emit early every 10s, on watermark, late every event\n    allow late 5m\n    retract\n    late to late_out\n    timestamp earliest\n  | aggregate n = count()")
    );
    let compiled = compile("t.pipe", &text).expect("compiles");
    let explain = compiled.plan.explain();
    assert!(
        explain.contains("trigger watermark(early: processing(10s), late: count(1))"),
        "{explain}"
    );
    assert!(
        explain.contains("allow late 5m, retract, timestamp earliest, late to sink late_out"),
        "{explain}"
    );
    assert!(explain.contains("pane.retraction: bool"), "{explain}");
    let canonical = text.replace(
        "emit early every 10s, on watermark, late every event",
        "emit watermark(early: processing(10s), late: count(1))",
    );
    let again = compile("t.pipe", &canonical).expect("canonical form compiles");
    assert_eq!(
        again.plan.explain(),
        explain,
        "sugar and canonical form agree"
    );
    for (emit, shown) in [
        ("emit every 100 events", "repeat(count(100))"),
        ("emit on watermark", "repeat(watermark)"),
        (
            "emit repeat(count(2)) until count(5)",
            "repeat(count(2)) until count(5)",
        ),
        ("emit each(count(1), never)", "each(count(1), never)"),
        (
            "emit any(processing(1m), all(count(3), watermark))",
            "any(processing(1m), all(count(3), watermark))",
        ),
    ] {
        let text = format!(
            "{BASE}{}",
            pipe(&format!(
                "| window tumbling 1m {emit} | aggregate n = count()"
            ))
        );
        let compiled = compile("t.pipe", &text)
            .unwrap_or_else(|d| panic!("{}", render(&d, "t", &text, false)));
        assert!(
            compiled
                .plan
                .explain()
                .contains(&format!("trigger {shown}")),
            "{emit}"
        );
    }
}

#[test]
fn p0107_a_sink_receives_one_shape() {
    let body = "pipeline a { from telemetry | select device_id | to out }\n\
                pipeline b { from telemetry | select temp | to out }";
    let d = expect_one(body, "P0107", "out");
    assert!(
        d.notes.iter().any(|n| n.contains("{device_id: string}")),
        "{:?}",
        d.notes
    );
    assert!(
        d.notes.iter().any(|n| n.contains("{temp: f64}")),
        "{:?}",
        d.notes
    );
    let same = "pipeline a { from telemetry | select device_id | to out }\n\
                pipeline b { from telemetry | where temp > 1.0 | select device_id | to out }";
    let (text, diags) = diagnostics(same);
    assert!(diags.is_empty(), "{}", render(&diags, "t", &text, false));
}

/// A sink whose format holds any shape (JSON lines, as the catalog says) takes records of
/// several shapes; one of a fixed format still gets P0107, with a help saying why.
#[test]
fn p0107_spares_a_sink_that_writes_any_shape() {
    struct JsonLines;
    impl crate::ConnectorCatalog for JsonLines {
        fn check(
            &self,
            _call: &weir_engine::plan::ConnectorCall,
            _role: crate::Role,
            _schema: Option<&weir_engine::schema::Schema>,
        ) -> Vec<crate::ConnectorProblem> {
            Vec::new()
        }
        fn writes_any_shape(&self, call: &weir_engine::plan::ConnectorCall) -> bool {
            call.kind == "stdout"
        }
    }
    let body = "sink table = file(\"t.csv\")\n\
                pipeline a { from telemetry | select device_id | to out }\n\
                pipeline b { from telemetry | select temp | to out }\n\
                pipeline c { from telemetry | select device_id | to table }\n\
                pipeline d { from telemetry | select temp | to table }";
    let text = format!("{BASE}{body}\n");
    let diags = compile_with("t.pipe", &text, &JsonLines).expect_err("`table` holds one shape");
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["P0107"], "{}", render(&diags, "t", &text, false));
    assert!(diags[0].message.contains("`table`"), "{}", diags[0].message);
    let help = diags[0].help.as_deref().unwrap_or_default();
    assert!(
        help.contains("a `file` sink's format") && help.contains("JSON lines"),
        "{help}"
    );
    let shared_stdout = text.replace("to table", "to out");
    let compiled = compile_with("t.pipe", &shared_stdout, &JsonLines).expect("stdout takes both");
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
}

#[test]
fn on_error_to_routes_a_sources_rejects_to_a_sink() {
    let body = "sink rejects = file(\"r.jsonl\")\n\
                pipeline p {\n on error to rejects\n from telemetry | to out }";
    let text = format!("{BASE}{body}\n");
    let compiled = compile("test.pipe", &text).expect("compiles");
    assert!(compiled.warnings.is_empty());
    assert_eq!(
        compiled.plan.pipelines[0].error_to.as_deref(),
        Some("rejects")
    );
    assert!(compiled.plan.explain().contains("on error to sink rejects"));
    // The route's records have their own shape, so it needs a sink of its own.
    let shared = "pipeline p {\n on error to out\n from telemetry | to out }";
    expect_one(shared, "P0107", "out");
    let d = expect_one(
        "pipeline p {\n on error to rejcts\n from telemetry | to out }",
        "P0103",
        "rejcts",
    );
    assert!(d.help.is_some());
}

#[test]
fn p0404_an_error_route_on_a_pipeline_reading_a_pipeline_is_useless() {
    let body = "sink rejects = file(\"r.jsonl\")\n\
                pipeline a { from telemetry | where temp > 1.0 }\n\
                pipeline b {\n on error to rejects\n from a | to out }";
    expect_one(body, "P0404", "on error to rejects");
}

#[test]
fn p0404_stays_quiet_when_the_pipeline_writes_to_a_sink_that_hands_records_back() {
    struct Webhooks;
    impl crate::ConnectorCatalog for Webhooks {
        fn check(
            &self,
            _call: &weir_engine::plan::ConnectorCall,
            _role: crate::Role,
            _schema: Option<&weir_engine::schema::Schema>,
        ) -> Vec<crate::ConnectorProblem> {
            Vec::new()
        }
        fn hands_back_undelivered(&self, call: &weir_engine::plan::ConnectorCall) -> bool {
            call.kind == "webhook"
        }
    }
    let body = "sink rejects = file(\"r.jsonl\")\n\
                sink hook = webhook(\"http://localhost:9/\")\n\
                pipeline a { from telemetry | where temp > 1.0 }\n\
                pipeline b {\n on error to rejects\n from a | to hook }";
    let text = format!("{BASE}{body}\n");
    let compiled = compile_with("t.pipe", &text, &Webhooks).expect("compiles");
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
    // The same program with a file sink still warns.
    let text = text.replace("to hook", "to out");
    let compiled = compile_with("t.pipe", &text, &Webhooks).expect("compiles");
    let codes: Vec<&str> = compiled.warnings.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["P0404"]);
}

#[test]
fn p0307_bad_trigger_and_p0308_duplicate_clause() {
    expect_one(
        &pipe("| window tumbling 1m emit count(0) | aggregate n = count()"),
        "P0307",
        "count(0)",
    );
    expect_one(
        &pipe("| window tumbling 1m emit every 0s | aggregate n = count()"),
        "P0307",
        "0s",
    );
    expect_one(
        &pipe("| window tumbling 1m accumulate discard | aggregate n = count()"),
        "P0308",
        "discard",
    );
}

#[test]
fn p0403_window_hazards_warn_but_compile() {
    let body = pipe("| window tumbling 1m\n emit early every 10s, on watermark\n allow late 5m\n | aggregate n = count()");
    let (text, diags) = diagnostics(&body);
    assert!(compile("t.pipe", &text).is_ok(), "warnings only");
    let lateness = diags
        .iter()
        .find(|d| d.severity == Severity::Warning)
        .expect("a warning about ignored lateness");
    assert_eq!(lateness.code, "P0403");
    assert_eq!(lateness.primary.span.text(&text), "allow late 5m");
    assert!(diags
        .iter()
        .any(|d| d.severity == Severity::Note && d.message.contains("dropped and counted")));
}

#[test]
fn p0305_window_size() {
    expect_one(
        &pipe("| window tumbling 0s | aggregate n = count()"),
        "P0305",
        "0s",
    );
    expect_one(
        &pipe("| window tumbling 1m offset 1m | aggregate n = count()"),
        "P0305",
        "1m",
    );
}

#[test]
fn p0306_watermark_without_event_time() {
    let d = expect_one(
        "source x = f() { t: timestamp  watermark bounded 1s }",
        "P0306",
        "watermark bounded 1s",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("add `event_time t` above the watermark")
    );
}

#[test]
fn warnings_do_not_stop_compilation() {
    let text = format!(
        "{BASE}{}\npipeline unused {{ from raw }}\n",
        pipe("| map x = temp ?? 0.0")
    );
    let compiled = compile("t.pipe", &text).expect("warnings only");
    let codes: Vec<&str> = compiled.warnings.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["P0401", "P0402"]);
    assert!(compiled
        .warnings
        .iter()
        .all(|d| d.severity == Severity::Warning));
}

#[test]
fn catalog_problems_point_at_the_option() {
    struct NoRate;
    impl crate::ConnectorCatalog for NoRate {
        fn check(
            &self,
            call: &weir_engine::plan::ConnectorCall,
            role: crate::Role,
            _schema: Option<&weir_engine::schema::Schema>,
        ) -> Vec<crate::ConnectorProblem> {
            let mut out = Vec::new();
            if role == crate::Role::Source && call.option("devices").is_some() {
                out.push((
                    Some("devices".to_string()),
                    "`sensors` has no option `devices`".to_string(),
                    Some("did you mean `device_count`?".to_string()),
                ));
            }
            out
        }
    }
    let text = format!("{BASE}{}\n", pipe(""));
    let errors = compile_with("t.pipe", &text, &NoRate).expect_err("rejected");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "P0501");
    assert_eq!(errors[0].primary.span.text(&text), "devices: 5");
}

#[test]
fn all_errors_of_a_file_are_reported_together() {
    let (text, diags) = diagnostics(
        "source x = f() { a: float }\n\
         pipeline p { from telemetry | where temprature > 1.0 | to nowhere }",
    );
    let codes: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| (d.code, d.primary.span.text(&text)))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("P0201", "float"),
            ("P0203", "temprature"),
            ("P0103", "nowhere")
        ]
    );
}

#[test]
fn errors_do_not_cascade() {
    // An unknown field in a `map` makes the new field unknown, not missing: using it later
    // reports nothing more. A pipeline reading a broken pipeline still checks.
    let (text, diags) = diagnostics(
        "pipeline a { from telemetry | map x = nope + 1 | where x > 2 | to out }\n\
         pipeline b { from a | where x > 3 | where y > 1 | to out }",
    );
    let at: Vec<&str> = diags.iter().map(|d| d.primary.span.text(&text)).collect();
    assert_eq!(at, vec!["nope", "y"]);
}

#[test]
fn rendered_messages_never_contain_grammar_rule_names() {
    let rule_names: Vec<String> = crate::parse::Rule::all_rules()
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    assert!(
        rule_names.iter().any(|n| n == "pipe_stage"),
        "sanity: {rule_names:?}"
    );
    let broken = [
        "pipeline p { from s | }",
        "pipeline p { from s where x > 1 }",
        "pipeline p { from s | where x = 1 }",
        "pipeline p { from s | where x > }",
        "pipeline p { from s | where (x > 1 }",
        "pipeline p { from s | map = 1 }",
        "pipeline p { from s | map a 1 }",
        "pipeline p { from s | select }",
        "pipeline p { from s | key device }",
        "pipeline p { from s | window }",
        "pipeline p { from s | window tumbling }",
        "pipeline p { from s | window tumbling 1m | aggregate }",
        "pipeline p { from s | to }",
        "pipeline p { | where x }",
        "pipeline p from s",
        "pipeline { from s }",
        "source s = f() { a: }",
        "source s = f() { a f64 }",
        "source s = f() { event_time }",
        "source s = f() { watermark }",
        "source s = f() { watermark bounded }",
        "source s = f(a: ) { }",
        "source s = f( { }",
        "source s { a: f64 }",
        "sink a = file(\"x\"",
        "sink a = file(\"x)",
        "sink = f()",
        "sink a f()",
        "pipelin p { from s }",
        "42",
        "pipeline p { from s | where x in [1, }",
        "pipeline p { from s | where x between 1 }",
        "pipeline p { from s | where f(1, ) }",
        "pipeline p { from s | where x ?? }",
        "source s = f(x: [1, 2) { }",
        "pipeline p { on error to }",
        "pipeline p { on error rejects from s }",
        "pipeline p { from s on error to r }",
    ];
    // The golden files of tests/errors/ too: one per diagnostic code.
    let golden_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let golden: Vec<String> = std::fs::read_dir(&golden_dir)
        .expect("tests/errors exists")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("readable"))
        .collect();
    assert!(golden.len() > 30);
    for text in broken
        .iter()
        .copied()
        .chain(golden.iter().map(String::as_str))
    {
        let diags = match compile("t.pipe", text) {
            Ok(c) if !c.warnings.is_empty() => c.warnings,
            Ok(_) if golden.iter().any(|g| g == text) => continue,
            Ok(_) => panic!("{text:?} compiled"),
            Err(d) => d,
        };
        let shown = render(&diags, "t.pipe", text, false);
        let json = crate::render_json(&diags, "t.pipe", text);
        for output in [&shown, &json] {
            for word in output.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                assert!(
                    !rule_names.iter().any(|r| r == word) || text.contains(word),
                    "rule name `{word}` in the message for {text:?}:\n{shown}"
                );
            }
        }
    }
}

/// Field-trial item 15: a source can declare the dotted fields Weir itself writes
/// (`window.start`, an error route's `error.reason`) and take event time from one.
#[test]
fn sources_read_back_dotted_fields() {
    let text = "\
source panes = file(\"tens.jsonl\") {
  user: string
  n: i64
  window.start: timestamp
  pane.timing: string
  event_time window.start
}
source rejects = file(\"rejects.jsonl\") {
  error.source: string
  error.reason: string
  error.field: string?
}
sink out = stdout()
sink reasons = stdout()
pipeline rollup {
  from panes
  | where pane.timing == \"on_time\"
  | key by user
  | window tumbling 30s
  | aggregate total = sum(n), first = min(window.start)
  | to out
}
pipeline why { from rejects | select source = error.source, reason = error.reason | to reasons }
";
    let compiled =
        compile("t.pipe", text).unwrap_or_else(|d| panic!("{}", render(&d, "t", text, false)));
    let schema = &compiled.plan.sources[0].schema;
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["user", "n", "window.start", "pane.timing"]);
    // A dotted name that is not a field is still an unknown field, with a suggestion.
    let bad = text.replace("pane.timing ==", "pane.timin ==");
    let diags = compile("t.pipe", &bad).unwrap_err();
    assert_eq!(diags[0].code, "P0203");
}

#[test]
fn p0311_too_many_windows_per_record() {
    let window = |w: &str| {
        pipe(&format!(
            "| key by device_id | window {w} | aggregate n = count()"
        ))
    };
    let d = expect_one(&window("sliding 1d every 1ms"), "P0311", "1ms");
    assert_eq!(
        d.message,
        "each record would fall in 86400000 sliding windows; the limit is 10000"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("use a coarser period: `every 9s` or more (size / every at most 10000)")
    );
    // The limit itself is allowed; one window more is not.
    let (text, diags) = diagnostics(&window("sliding 10000s every 1s"));
    assert!(diags.is_empty(), "{}", render(&diags, "t", &text, false));
    let d = expect_one(&window("sliding 10001s every 1s"), "P0311", "1s");
    assert_eq!(
        d.help.as_deref(),
        Some("use a coarser period: `every 2s` or more (size / every at most 10000)")
    );
    // Joins by sliding window are held to the same limit.
    let join = "source visits = sensors() { device_id: string  ts: timestamp  event_time ts }\n\
                pipeline j { from telemetry | join visits as v on device_id = device_id window sliding 1d every 1ms | to out }";
    let (text, diags) = diagnostics(join);
    assert!(
        diags.iter().any(|d| d.code == "P0311"),
        "{}",
        render(&diags, "t", &text, false)
    );
}

#[test]
fn max_future_bounds_a_source_and_must_be_positive() {
    let text = "source s = sensors() { ts: timestamp  event_time ts  watermark bounded 5s, max_future 1h }\n\
                sink out = stdout()\npipeline p { from s | to out }\n";
    let plan = compile("t.pipe", text).expect("compiles").plan;
    assert_eq!(plan.sources[0].watermark.max_future_ms, Some(3_600_000));
    assert!(
        plan.explain().contains("max_future 1h"),
        "{}",
        plan.explain()
    );
    let bad = text.replace("max_future 1h", "max_future 0s");
    let diags = compile("t.pipe", &bad).expect_err("zero is refused");
    assert_eq!(diags[0].code, "P0305");
    assert_eq!(diags[0].message, "the `max_future` bound must be positive");
}

/// `emit count(1)` fires once per window: the note says so (it used to say "fires more
/// than once" and talk of `discard`), and how to fire again and again.
#[test]
fn p0403_a_count_trigger_is_noted_as_firing_once() {
    let body = pipe("| window tumbling 1m emit count(1) | aggregate n = count()");
    let (text, diags) = diagnostics(&body);
    let shown = render(&diags, "t.pipe", &text, false);
    let once = diags
        .iter()
        .find(|d| d.primary.span.text(&text) == "emit count(1)")
        .unwrap_or_else(|| panic!("a note on the trigger:\n{shown}"));
    assert_eq!(once.severity, Severity::Note, "{shown}");
    assert_eq!(once.primary.message, "fires once per window", "{shown}");
    assert_eq!(
        once.help.as_deref(),
        Some("to fire again and again, write `emit repeat(count(1))`")
    );
    assert!(!shown.contains("more than once"), "{shown}");
    assert!(!shown.contains("since the previous one"), "{shown}");
    // A repeating trigger still gets the `discard` note.
    let body = pipe("| window tumbling 1m emit repeat(count(1)) | aggregate n = count()");
    let (text, diags) = diagnostics(&body);
    let shown = render(&diags, "t.pipe", &text, false);
    assert!(shown.contains("fires more than once per window"), "{shown}");
    assert!(!shown.contains("fires once per window"), "{shown}");
}

#[test]
fn serve_and_live_reach_the_compiled_program() {
    let text = "source s = sensors() { v: f64  ts: timestamp  event_time ts }\n\
                serve on \"0.0.0.0:9500\" token env \"WEIR_TOKEN\"\n\
                live sink hot = stdout()\n\
                sink quiet = stdout()\n\
                pipeline p { from s | to hot }\n\
                pipeline q { from s | to quiet }\n";
    let compiled = compile("t.pipe", text).expect("compiles");
    assert_eq!(compiled.serving.live_sinks, ["hot"]);
    assert_eq!(
        compiled.serving.serve,
        Some(crate::ServeSpec::On {
            addr: "0.0.0.0:9500".parse().expect("addr"),
            token_env: Some("WEIR_TOKEN".into()),
        })
    );
    // `live` and `serve` stay usable as names.
    let names = "source live = sensors() { serve: f64  ts: timestamp  event_time ts }\n\
                 sink out = stdout()\n\
                 pipeline p { from live | where serve > 1.0 | to out }\n";
    let compiled = compile("t.pipe", names).expect("compiles");
    assert_eq!(compiled.serving, crate::Serving::default());
}
