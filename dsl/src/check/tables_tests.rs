//! Checker and lowering tests of tables and `lookup`.

use weir_engine::plan::{LookupMiss, Stage, TableRefresh};
use weir_engine::schema::{Field, Type};

use crate::{compile, render, Diagnostic};

const BASE: &str = "\
source telemetry = sensors() {
  device_id: string
  temp:      f64
  line:      i64
  ts:        timestamp
  event_time ts
}
table devices = csv(\"devices.csv\") {
  key device_id
  device_id: string
  site:      string
  limit:     f64?
  refresh on change
}
sink out = stdout()
sink misses = stdout()
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

fn pipe(stages: &str) -> String {
    format!("pipeline p {{ from telemetry {stages} | to out }}")
}

#[test]
fn a_lookup_appends_the_table_fields_nullable_unless_misses_are_dropped() {
    for (miss, nullable, expected) in [
        ("", true, LookupMiss::KeepNull),
        (" on miss keep null", true, LookupMiss::KeepNull),
        (" on miss drop", false, LookupMiss::Drop),
        (
            " on miss to misses",
            false,
            LookupMiss::ToSink("misses".into()),
        ),
    ] {
        let text = format!(
            "{BASE}{}",
            pipe(&format!(
                "| lookup devices on device_id{miss} | where temp > limit ?? 80.0"
            ))
        );
        let plan = match compile("t.pipe", &text) {
            Ok(c) => c.plan,
            Err(d) => panic!("{}", render(&d, "t.pipe", &text, false)),
        };
        let table = plan.table("devices").expect("table in the plan");
        assert_eq!(table.key, 0);
        assert_eq!(table.refresh, TableRefresh::OnChange);
        let Stage::Lookup {
            table,
            key,
            on_miss,
            schema,
        } = &plan.pipelines[0].stages[0]
        else {
            panic!("{:?}", plan.pipelines[0].stages)
        };
        assert_eq!((table.as_str(), *key, on_miss), ("devices", 0, &expected));
        assert_eq!(schema.fields.len(), 6);
        assert_eq!(
            schema.fields[4],
            Field {
                name: "site".into(),
                ty: Type::String,
                nullable
            }
        );
        assert_eq!(schema.fields[5], Field::nullable("limit", Type::Float));
    }
}

#[test]
fn refresh_every_takes_a_positive_duration() {
    let text = "table t = csv(\"t.csv\") { key id  id: i64  v: string  refresh every 30s }";
    let plan = compile("t.pipe", text).expect("compiles").plan;
    assert_eq!(plan.tables[0].refresh, TableRefresh::Every(30_000));
    assert!(plan
        .explain()
        .contains("key id (slot 0), refresh every 30s"));
    let d = expect_one(
        "table t = csv(\"t.csv\") { key id  id: i64  refresh every 0s }",
        "P0106",
        "0s",
    );
    assert!(d.message.contains("positive"));
    expect_one(
        "table t = csv(\"t.csv\") { key id  id: i64  refresh every 30 }",
        "P0301",
        "30",
    );
}

#[test]
fn p0105_unknown_table_with_a_suggestion() {
    let d = expect_one(&pipe("| lookup device on device_id"), "P0105", "device");
    assert_eq!(d.help.as_deref(), Some("did you mean `devices`?"));
    let d = expect_one(&pipe("| lookup out on device_id"), "P0105", "out");
    assert_eq!(d.secondary.len(), 1, "points at the sink called `out`");
}

#[test]
fn unknown_lookup_fields_and_miss_sinks_are_reported() {
    let d = expect_one(&pipe("| lookup devices on device"), "P0203", "device");
    assert_eq!(d.help.as_deref(), Some("did you mean `device_id`?"));
    let d = expect_one(
        &pipe("| lookup devices on device_id on miss to mises"),
        "P0103",
        "mises",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `misses`?"));
}

#[test]
fn p0106_table_keys_must_exist_be_unique_and_not_nullable() {
    let d = expect_one("table t = csv(\"t.csv\") { id: string }", "P0106", "t");
    assert_eq!(
        d.help.as_deref(),
        Some("name the field lookups match on: add `key id` to the table")
    );
    let d = expect_one(
        "table t = csv(\"t.csv\") { key ids  id: string }",
        "P0106",
        "ids",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `id`?"));
    expect_one(
        "table t = csv(\"t.csv\") { key id  id: string? }",
        "P0106",
        "id",
    );
    expect_one("table t = csv(\"t.csv\") { key x  x: f64 }", "P0106", "x");
    expect_one(
        "table t = csv(\"t.csv\") { key id  key id  id: string }",
        "P0106",
        "id",
    );
    expect_one(
        "table t = csv(\"t.csv\") { key id  id: string  refresh on change  refresh every 1m }",
        "P0106",
        "refresh every 1m",
    );
}

#[test]
fn the_looked_up_field_must_have_the_key_type() {
    let d = expect_one(&pipe("| lookup devices on line"), "P0206", "line");
    assert_eq!(
        d.message,
        "`line` is i64, but the key `device_id` of table `devices` is string"
    );
    // The conversion it suggests exists, and the suggested stages check clean.
    let help = "convert it first: `| map line_key = to_string(line) | lookup devices on line_key`";
    assert_eq!(d.help.as_deref(), Some(help));
    let fixed = pipe("| map line_key = to_string(line) | lookup devices on line_key");
    let (text, diags) = diagnostics(&fixed);
    assert!(
        diags.is_empty(),
        "{}",
        render(&diags, "t.pipe", &text, false)
    );
}

/// `int(x)` turns a string into an `i64`, so the help suggests it (the suggested
/// program checks: `int` gives `i64?`, and a null key is a miss).
#[test]
fn a_string_lookup_key_for_an_i64_table_suggests_int() {
    let body = "table lines = csv(\"lines.csv\") {\n  key id\n  id: i64\n  name: string\n}\n";
    let d = expect_one(
        &format!("{body}{}", pipe("| lookup lines on device_id")),
        "P0206",
        "device_id",
    );
    assert_eq!(
        d.help.as_deref(),
        Some(
            "convert it first: `| map device_id_key = int(device_id) | lookup lines on device_id_key`"
        )
    );
    // A bool key has no conversion from a timestamp: nothing is suggested.
    let body = "table flags = csv(\"flags.csv\") {\n  key on\n  on: bool\n  name: string\n}\n";
    let d = expect_one(
        &format!("{body}{}", pipe("| lookup flags on ts")),
        "P0206",
        "ts",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("look up a field of type bool (no function turns timestamp into bool)")
    );
}

#[test]
fn table_fields_must_not_collide_with_the_record() {
    let text = "table t = csv(\"t.csv\") { key device_id  device_id: string  temp: f64 }\n";
    let (full, diags) = diagnostics(&format!("{text}{}", pipe("| lookup t on device_id")));
    assert_eq!(diags.len(), 1, "{}", render(&diags, "t", &full, false));
    assert_eq!(diags[0].code, "P0208");
    assert!(diags[0].message.contains("`temp`"));
}

#[test]
fn tables_share_the_namespace_and_cannot_be_read_from() {
    let d = expect_one("pipeline q { from devices | to out }", "P0102", "devices");
    assert!(d
        .help
        .as_deref()
        .is_some_and(|h| h.contains("lookup devices on")));
    expect_one("sink devices = stdout()", "P0101", "devices");
}

#[test]
fn the_table_connector_is_checked_as_a_table() {
    struct OnlyCsv;
    impl crate::ConnectorCatalog for OnlyCsv {
        fn check(
            &self,
            call: &weir_engine::plan::ConnectorCall,
            role: crate::Role,
            schema: Option<&weir_engine::schema::Schema>,
        ) -> Vec<crate::ConnectorProblem> {
            match (role, call.kind.as_str()) {
                (crate::Role::Table, "csv") => {
                    assert_eq!(schema.map(|s| s.len()), Some(3));
                    Vec::new()
                }
                (crate::Role::Table, other) => {
                    vec![(None, format!("`{other}` cannot be used as a table"), None)]
                }
                _ => Vec::new(),
            }
        }
    }
    let text = format!("{BASE}{}", pipe("| lookup devices on device_id"));
    assert!(crate::compile_with("t.pipe", &text, &OnlyCsv).is_ok());
    let bad = text.replace("csv(\"devices.csv\")", "file(\"devices.csv\")");
    let errors = crate::compile_with("t.pipe", &bad, &OnlyCsv).expect_err("rejected");
    assert_eq!(errors[0].code, "P0501");
}
