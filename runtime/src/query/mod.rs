//! `weir query`: SQL over the Parquet lake, with Apache DataFusion (cargo feature `sql`).
//!
//! Each lake is a table: the `parquet(…)` sinks of a `.pipe` file by their names, or a
//! lake folder by its own name. Hive partition folders (`date=2024-05-01/hour=10`) are
//! columns (`date` a date, `year`…`hour` integers) that prune: `WHERE date = '2024-05-01'`
//! reads that folder alone. Only finished `*.parquet` files are read: a file still being
//! written is hidden (`.part-….parquet.inprogress`) and never matches.
//!
//! [`schedule`] runs a program's scheduled `query` declarations on processing time.

mod lake;
mod output;
mod rows;
pub mod schedule;

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

pub use lake::{lakes_of_plan, Lake};
pub use output::{write_batches, OutputFormat};

/// Why a query could not answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No table to query.
    #[error("{0}")]
    NoLake(String),
    /// A lake folder that cannot be used.
    #[error("the lake `{path}` of `{table}` {problem}")]
    Lake {
        /// The table name.
        table: String,
        /// Its folder.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// DataFusion refused or failed the query (a parse error, an unknown column…).
    #[error("{0}")]
    Sql(String),
    /// The runtime that drives DataFusion could not start.
    #[error("cannot start the query runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// Writing the answer failed.
    #[error("cannot write the answer: {0}")]
    Output(String),
}

/// Runs `sql` over `lakes` (each a table) and returns the answer's batches.
pub fn run(lakes: &[Lake], sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
    run_up_to(lakes, sql, None)
}

/// Like [`run`], stopping after `rows` rows (the HTTP API's cap: DataFusion stops
/// reading once it has them).
pub fn run_limited(lakes: &[Lake], sql: &str, rows: usize) -> Result<Vec<RecordBatch>, QueryError> {
    run_up_to(lakes, sql, Some(rows))
}

fn run_up_to(
    lakes: &[Lake],
    sql: &str,
    rows: Option<usize>,
) -> Result<Vec<RecordBatch>, QueryError> {
    // DataFusion is async; `weir` has no executor, so a small one runs this query.
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        let ctx = Arc::new(SessionContext::new());
        for lake in lakes {
            lake::register(&ctx, lake).await?;
        }
        let mut frame = ctx
            .sql(sql)
            .await
            .map_err(|e| QueryError::Sql(e.to_string()))?;
        if rows.is_some() {
            frame = frame
                .limit(0, rows)
                .map_err(|e| QueryError::Sql(e.to_string()))?;
        }
        frame
            .collect()
            .await
            .map_err(|e| QueryError::Sql(e.to_string()))
    })
}
