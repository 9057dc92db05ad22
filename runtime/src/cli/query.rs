//! `weir query "SELECT …" [--lake NAME|PATH] [--format table|csv|json] [FILE]`: SQL over
//! the Parquet sinks of a `.pipe` file or over a lake folder (feature `sql`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

/// How the answer is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// A text table.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

/// Arguments of `weir query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The SQL: `SELECT machine, avg(avg_temp) FROM minute_lake GROUP BY machine`.
    pub sql: String,
    /// The .pipe file whose `parquet(…)` sinks are the tables (by sink name).
    pub file: Option<PathBuf>,
    /// Query one lake only: a sink of FILE by name, or a lake folder (the table is then
    /// named after the folder: `out/lake/minutes` is `minutes`).
    #[arg(long, value_name = "NAME|PATH")]
    pub lake: Option<String>,
    /// How to print the answer.
    #[arg(long, value_enum, default_value_t)]
    pub format: QueryFormat,
}

#[cfg(not(feature = "sql"))]
pub(super) fn query(_args: &QueryArgs) -> anyhow::Result<ExitCode> {
    eprintln!(
        "error: this weir was built without SQL: `weir query` needs the `sql` feature \
         (Apache DataFusion)\n  = help: rebuild with `cargo build --release --features sql` \
         (or `cargo install --path runtime --features sql`)"
    );
    Ok(ExitCode::from(2))
}

#[cfg(feature = "sql")]
pub(super) fn query(args: &QueryArgs) -> anyhow::Result<ExitCode> {
    use crate::query::{self, Lake, OutputFormat};

    let lakes = match &args.file {
        Some(file) => {
            let Some(compiled) = super::load_program(file, super::ErrorFormat::Human)? else {
                return Ok(ExitCode::from(1));
            };
            let all = query::lakes_of_plan(&compiled.plan, std::path::Path::new("."));
            match &args.lake {
                None => all,
                Some(name) => match all.iter().find(|l| l.name == *name) {
                    Some(lake) => vec![lake.clone()],
                    None => vec![Lake::at(std::path::Path::new(name))],
                },
            }
        }
        None => match &args.lake {
            Some(path) => vec![Lake::at(std::path::Path::new(path))],
            None => anyhow::bail!(
                "`weir query` needs a .pipe file (its parquet sinks are the tables) or \
                 `--lake PATH`"
            ),
        },
    };
    if lakes.is_empty() {
        anyhow::bail!("the program writes no `parquet(…)` lake to query");
    }
    let batches = query::run(&lakes, &args.sql)?;
    let format = match args.format {
        QueryFormat::Table => OutputFormat::Table,
        QueryFormat::Csv => OutputFormat::Csv,
        QueryFormat::Json => OutputFormat::Json,
    };
    let stdout = std::io::stdout();
    query::write_batches(&batches, format, &mut stdout.lock())?;
    Ok(ExitCode::SUCCESS)
}
