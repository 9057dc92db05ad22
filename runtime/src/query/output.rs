//! A query's answer as a table for people, CSV or JSON lines.

use std::io::Write;

use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::QueryError;

/// How `weir query` prints its answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// A text table with a header.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON object per row.
    Json,
}

/// Writes `batches` to `out` as `format` says.
pub fn write_batches(
    batches: &[RecordBatch],
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let fail = |e: &dyn std::fmt::Display| QueryError::Output(e.to_string());
    match format {
        OutputFormat::Table => {
            let table = pretty_format_batches(batches).map_err(|e| fail(&e))?;
            writeln!(out, "{table}").map_err(|e| fail(&e))
        }
        OutputFormat::Csv => {
            let mut writer = WriterBuilder::new().with_header(true).build(out);
            for batch in batches {
                writer.write(batch).map_err(|e| fail(&e))?;
            }
            Ok(())
        }
        OutputFormat::Json => {
            let mut writer = LineDelimitedWriter::new(out);
            for batch in batches {
                writer.write(batch).map_err(|e| fail(&e))?;
            }
            writer.finish().map_err(|e| fail(&e))
        }
    }
}
