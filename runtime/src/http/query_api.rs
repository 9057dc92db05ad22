//! `POST /api/query`: SQL over the run's lake (its `parquet(…)` sinks, by name), the body
//! the SQL, the answer JSON rows. Bounded: at most 10 000 rows (`truncated` says when
//! more matched), 10 s per query, 64 KiB of SQL. Needs the `sql`
//! feature; without it the answer is 501 with how to get it.

use std::io::Read;

use tiny_http::Request;

use super::reply::{self, Reply};
use super::server::RunView;

/// Rows an answer holds at most.
#[cfg(feature = "sql")]
const MAX_ROWS: usize = 10_000;
/// How long a query may run before the answer is 504.
#[cfg(feature = "sql")]
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The longest SQL accepted, in bytes.
const MAX_BODY: u64 = 64 * 1024;

/// Reads the SQL of `request` and answers it.
pub fn answer(request: &mut Request, view: &RunView) -> Reply {
    let mut sql = String::new();
    let read = request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_string(&mut sql);
    if read.is_err() {
        return reply::error(400, "the body must be the SQL, as UTF-8 text");
    }
    if sql.len() as u64 > MAX_BODY {
        return reply::error(413, format!("the SQL is longer than {MAX_BODY} bytes"));
    }
    if sql.trim().is_empty() {
        return reply::error(400, "the body must be the SQL: `SELECT … FROM <lake sink>`");
    }
    run(view, sql)
}

#[cfg(not(feature = "sql"))]
fn run(_view: &RunView, _sql: String) -> Reply {
    reply::error(
        501,
        "this weir was built without SQL: `/api/query` needs the `sql` feature \
         (`cargo build --release --features sql`)",
    )
}

#[cfg(feature = "sql")]
fn run(view: &RunView, sql: String) -> Reply {
    use crate::query::{self, QueryError};

    let lakes = query::lakes_of_plan(&view.plan, std::path::Path::new("."));
    if lakes.is_empty() {
        return reply::error(404, "this run writes no `parquet(…)` lake to query");
    }
    // DataFusion cannot be interrupted from here: a query over its time answers 504 and
    // finishes on its own thread, its answer dropped.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(query::run_limited(&lakes, &sql, MAX_ROWS + 1));
    });
    let batches = match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(batches)) => batches,
        Ok(Err(QueryError::Sql(e))) => return reply::error(400, e),
        Ok(Err(e @ (QueryError::Lake { .. } | QueryError::NoLake(_)))) => {
            return reply::error(404, e.to_string())
        }
        Ok(Err(e)) => return reply::error(500, e.to_string()),
        Err(_) => {
            return reply::error(
                504,
                format!("the query took longer than {} s", TIMEOUT.as_secs()),
            )
        }
    };
    match rows_json(&batches) {
        Ok((columns, mut rows)) => {
            let truncated = rows.len() > MAX_ROWS;
            rows.truncate(MAX_ROWS);
            reply::json(
                200,
                &serde_json::json!({"columns": columns, "rows": rows, "truncated": truncated}),
            )
        }
        Err(e) => reply::error(500, e.to_string()),
    }
}

/// The column names and rows (JSON objects) of an answer.
#[cfg(feature = "sql")]
fn rows_json(
    batches: &[datafusion::arrow::record_batch::RecordBatch],
) -> Result<(Vec<String>, Vec<serde_json::Value>), crate::query::QueryError> {
    use crate::query::{write_batches, OutputFormat, QueryError};

    let columns = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    let mut text = Vec::new();
    write_batches(batches, OutputFormat::Json, &mut text)?;
    let rows = String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<Vec<serde_json::Value>, _>>()
        .map_err(|e| QueryError::Output(e.to_string()))?;
    Ok((columns, rows))
}
