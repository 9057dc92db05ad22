//! The lakes a query can read, and each registered as a DataFusion table whose Hive
//! partition folders are typed, pruning columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use weir_engine::plan::LogicalPlan;

use super::QueryError;
use crate::connectors::parquet::{self, ParquetConfig};

/// A lake folder queried as table `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lake {
    /// The table name in SQL.
    pub name: String,
    /// The lake folder.
    pub path: PathBuf,
}

impl Lake {
    /// A lake folder named by its last component (`out/lake/minutes` is `minutes`).
    pub fn at(path: &Path) -> Lake {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().replace(['.', '-', ' '], "_"))
            .unwrap_or_else(|| "lake".to_string());
        Lake {
            name,
            path: path.to_path_buf(),
        }
    }
}

/// The `parquet(…)` sinks of `plan`, each a table by the sink's name; relative paths
/// resolve against `base` (where `weir run` would have written them).
pub fn lakes_of_plan(plan: &LogicalPlan, base: &Path) -> Vec<Lake> {
    plan.sinks
        .iter()
        .filter(|s| s.connector.kind == parquet::KIND)
        .filter_map(|s| {
            let config = ParquetConfig::from_call(&s.connector).ok()?;
            Some(Lake {
                name: s.name.clone(),
                path: base.join(config.path),
            })
        })
        .collect()
}

/// The column type of a partition folder's key: dates are dates, time parts integers,
/// a field's values text.
fn partition_type(key: &str) -> DataType {
    match key {
        "date" => DataType::Date32,
        "year" | "month" | "day" | "hour" => DataType::Int32,
        _ => DataType::Utf8,
    }
}

/// Registers `lake` in `ctx`: every `*.parquet` file below it (hidden `.inprogress`
/// files never match), its partition folders as columns.
pub(super) async fn register(ctx: &SessionContext, lake: &Lake) -> Result<(), QueryError> {
    let problem = |problem: String| QueryError::Lake {
        table: lake.name.clone(),
        path: lake.path.display().to_string(),
        problem,
    };
    if !lake.path.is_dir() {
        return Err(problem(
            "does not exist yet: run the pipeline that writes it first".into(),
        ));
    }
    let absolute = std::fs::canonicalize(&lake.path).map_err(|e| problem(e.to_string()))?;
    // Hidden files and folders (a writer's `.inprogress` files and lock, anything else a
    // tool hides) are never listed: only `*.parquet` names not starting with a dot.
    let url = ListingTableUrl::parse(format!("{}/**/[!.]*.parquet", absolute.display()))
        .map_err(|e| problem(e.to_string()))?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let state = ctx.state();
    // The schema of one finished file, not of all: a query then opens only the files
    // its partition filters keep.
    let sample =
        first_file(&absolute).ok_or_else(|| problem("has no finished Parquet file yet".into()))?;
    let file_schema = file_schema(&sample)
        .map_err(|e| problem(format!("cannot read `{}`: {e}", sample.display())))?;
    // A field partition (`device_id=…`) is in the files too: read it from there.
    let in_files = |key: &str| {
        let column = key.replace('.', "_");
        file_schema
            .fields()
            .iter()
            .any(|f| *f.name() == column || f.name() == key)
    };
    let partitions: Vec<(String, DataType)> = options
        .infer_partitions(&state, &url)
        .await
        .map_err(|e| problem(e.to_string()))?
        .into_iter()
        .filter(|key| !in_files(key))
        .map(|key| {
            let ty = partition_type(&key);
            (key, ty)
        })
        .collect();
    let options = options.with_table_partition_cols(partitions);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(file_schema);
    let table = ListingTable::try_new(config).map_err(|e| problem(e.to_string()))?;
    ctx.register_table(lake.name.as_str(), Arc::new(table))
        .map(|_| ())
        .map_err(|e| problem(e.to_string()))
}

/// The first finished Parquet file under `dir` in name order, hidden ones skipped.
fn first_file(dir: &Path) -> Option<PathBuf> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir).ok()?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = first_file(&path) {
                return Some(found);
            }
        } else if path.extension().is_some_and(|e| e == "parquet") {
            return Some(path);
        }
    }
    None
}

/// The Arrow schema a Parquet file was written with.
fn file_schema(path: &Path) -> Result<SchemaRef, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| e.to_string())?;
    Ok(Arc::clone(builder.schema()))
}
