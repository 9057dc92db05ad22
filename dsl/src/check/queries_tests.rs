//! Checker tests of scheduled queries: what `weir check` accepts and where it points.

use crate::{codes, compile, Diagnostic};

const BASE: &str = "\
source telemetry = sensors() {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
}
sink lake = parquet(\"out/lake\", partition_by: [date(window.start), hour(window.start)])
sink raw = parquet(\"out/raw\", column_names: dotted)
sink report = stdout()
pipeline minutes { from telemetry | key by device_id | window tumbling 1m | aggregate avg_temp = avg(temp) | to lake }
pipeline keep { from minutes | to raw }
";

fn compiled(query: &str) -> Result<crate::Compiled, Vec<Diagnostic>> {
    compile("t.pipe", &format!("{BASE}{query}\n"))
}

#[track_caller]
fn accepted(query: &str) -> crate::ScheduledQuery {
    match compiled(query) {
        Ok(c) => c.queries.into_iter().next().expect("one query"),
        Err(d) => panic!(
            "{query}: {:?}",
            d.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    }
}

/// The code of the one diagnostic, and the text its label covers.
#[track_caller]
fn refused(query: &str) -> (&'static str, String) {
    let text = format!("{BASE}{query}\n");
    let diags = compiled(query).expect_err("an error");
    assert_eq!(
        diags.len(),
        1,
        "{:?}",
        diags.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
    let span = diags[0].primary.span;
    (diags[0].code, text[span.lo..span.hi].to_string())
}

#[test]
fn a_query_compiles_with_its_schedule_tables_and_sinks() {
    let q = accepted(
        "query daily every 1d at 01:30 = sql\"\"\"SELECT device_id, max(avg_temp) AS peak, \
         min(window_start) FROM lake WHERE date = current_date - 1 AND hour < 12 \
         GROUP BY device_id ORDER BY peak\"\"\" | to report",
    );
    assert_eq!(q.name, "daily");
    assert_eq!((q.every_ms, q.offset_ms), (86_400_000, 90 * 60_000));
    assert_eq!(q.tables, vec!["lake".to_string()]);
    assert_eq!(q.to, vec!["report".to_string()]);
    assert!(q.sql.starts_with("SELECT device_id"));
}

#[test]
fn names_follow_the_lake_column_naming_and_sql_case_folding() {
    // `dotted` keeps `window.start`, which SQL quotes; unquoted names fold to lower case.
    accepted(
        "query a every 1h = sql\"\"\"SELECT \"window.start\", AVG_TEMP FROM raw\"\"\" | to report",
    );
    let (code, at) =
        refused("query a every 1h = sql\"\"\"SELECT window_start FROM raw\"\"\" | to report");
    assert_eq!(
        (code, at.as_str()),
        (codes::UNKNOWN_LAKE_COLUMN, "window_start")
    );
    // A qualified column is looked up in its table, through an alias.
    let (code, at) = refused(
        "query a every 1h = sql\"\"\"SELECT l.device_id, r.nope FROM lake l JOIN raw r ON l.device_id = r.device_id\"\"\" | to report",
    );
    assert_eq!((code, at.as_str()), (codes::UNKNOWN_LAKE_COLUMN, "nope"));
}

#[test]
fn with_and_subqueries_are_checked_for_tables_only() {
    accepted(
        "query a every 1h = sql\"\"\"WITH peaks AS (SELECT device_id, max(avg_temp) AS p FROM lake GROUP BY device_id) SELECT * FROM peaks WHERE p > 1\"\"\" | to report",
    );
    let (code, at) = refused(
        "query a every 1h = sql\"\"\"WITH peaks AS (SELECT * FROM lakes) SELECT * FROM peaks\"\"\" | to report",
    );
    assert_eq!((code, at.as_str()), (codes::UNKNOWN_LAKE_TABLE, "lakes"));
}

#[test]
fn only_one_select_is_a_query() {
    let (code, _) = refused("query a every 1h = sql\"\"\"DELETE FROM lake\"\"\" | to report");
    assert_eq!(code, codes::BAD_SQL);
    let (code, at) = refused(
        "query a every 1h = sql\"\"\"SELECT 1 FROM lake; SELECT 2 FROM lake\"\"\" | to report",
    );
    assert_eq!(code, codes::BAD_SQL);
    assert!(at.starts_with("SELECT 2"), "{at}");
    let (code, _) = refused("query a every 1h = sql\"\"\"  \"\"\" | to report");
    assert_eq!(code, codes::BAD_SQL);
}

#[test]
fn schedules_and_sinks_are_checked() {
    let sql = "sql\"\"\"SELECT device_id FROM lake\"\"\"";
    for (schedule, at) in [
        ("every 0s", "0s"),
        ("every 10", "10"),
        ("every 1d at 25:00", "25:00"),
    ] {
        let (code, got) = refused(&format!("query a {schedule} = {sql} | to report"));
        assert_eq!((code, got.as_str()), (codes::BAD_QUERY_SCHEDULE, at));
    }
    let (code, at) = refused(&format!("query a every 1h = {sql} | to lake"));
    assert_eq!((code, at.as_str()), (codes::BAD_QUERY_SINK, "lake"));
    let twice =
        format!("query a every 1h = {sql} | to report\nquery a every 2h = {sql} | to report");
    let diags = compiled(&twice).expect_err("an error");
    assert_eq!(diags[0].code, codes::BAD_QUERY_SINK);
}
