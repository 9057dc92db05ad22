//! A reference table loaded from CSV, shared by the workers of a process and reloaded
//! in place when its file changes or its period passes.

use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use ::csv::ByteRecord;
use parking_lot::{Mutex, RwLock};
use weir_engine::clock::Clock;
use weir_engine::io::{IoError, LookupTable, TableRows};
use weir_engine::plan::{TableNode, TableRefresh};
use weir_engine::schema::Schema;

use super::config::CsvTableConfig;
use crate::format::csv::{row_text, CsvDecoder};

/// Where warnings about a table go (bad rows, failed reloads); the CLI prints them.
pub type Warn = Arc<dyn Fn(&str) + Send + Sync>;

/// How often `refresh on change` looks at the file's size and modification time.
const POLL_MS: i64 = 250;
/// Bad rows reported one by one per load; the rest are counted.
const SHOWN_BAD_ROWS: usize = 3;

/// What identifies a version of the file: modification time and length.
type Signature = (SystemTime, u64);

/// A CSV reference table.
///
/// Rows whose cells do not fit the declared types are skipped and reported through
/// [`Warn`]; a later row with the same key replaces an earlier one. With `refresh on
/// change` the file is looked at every 250 ms of the clock and read again once a new
/// version has stayed unchanged for one look, so a file caught half-written is not
/// loaded (writing a new file and renaming it over the old one is picked up as fast).
/// A reload that fails keeps the previous rows. Reloads happen on the worker that asks
/// first; the others keep using the current rows meanwhile.
pub struct CsvTable {
    name: String,
    path: PathBuf,
    schema: Schema,
    key: usize,
    refresh: TableRefresh,
    clock: Arc<dyn Clock>,
    warn: Warn,
    rows: RwLock<Arc<TableRows>>,
    watch: Mutex<Watch>,
}

struct Watch {
    next_check: i64,
    loaded: Option<Signature>,
    seen: Option<Signature>,
}

impl CsvTable {
    /// Loads table `node` from `config`; fails when the file cannot be read or its header
    /// lacks a declared field.
    pub fn open(
        node: &TableNode,
        config: &CsvTableConfig,
        clock: Arc<dyn Clock>,
        warn: Warn,
    ) -> Result<CsvTable, IoError> {
        let table = CsvTable {
            name: node.name.clone(),
            path: config.path.clone(),
            schema: node.schema.clone(),
            key: node.key,
            refresh: node.refresh,
            clock,
            warn,
            rows: RwLock::new(Arc::new(TableRows::default())),
            watch: Mutex::new(Watch {
                next_check: i64::MIN,
                loaded: None,
                seen: None,
            }),
        };
        let signature = table.signature();
        let rows = table.load()?;
        *table.rows.write() = Arc::new(rows);
        let mut watch = table.watch.lock();
        watch.loaded = signature;
        watch.seen = signature;
        watch.next_check = table.clock.now().saturating_add(match table.refresh {
            TableRefresh::Every(ms) => ms,
            _ => POLL_MS,
        });
        drop(watch);
        Ok(table)
    }

    fn signature(&self) -> Option<Signature> {
        let meta = fs::metadata(&self.path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    fn load(&self) -> Result<TableRows, IoError> {
        let path = self.path.display().to_string();
        let file = File::open(&self.path)
            .map_err(|e| IoError::os(format!("cannot open table file `{path}`"), e))?;
        let mut input = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(file);
        let read_error =
            |e: ::csv::Error| IoError::Other(format!("cannot read table file `{path}`: {e}"));
        let header = input.byte_headers().map_err(read_error)?.clone();
        let names: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let decoder = CsvDecoder::new(&self.schema, names.iter().map(String::as_str))
            .map_err(|e| IoError::Other(format!("table file `{path}`: {e}")))?;
        let mut rows = TableRows::default();
        let mut row = ByteRecord::new();
        let (mut bad, mut duplicates) = (0usize, 0usize);
        while input.read_byte_record(&mut row).map_err(read_error)? {
            let line = row.position().map_or(0, |p| p.line());
            match decoder.decode(&row) {
                Ok(mut record) => {
                    let key = std::mem::take(&mut record[self.key]);
                    record.remove(self.key);
                    if rows.insert(key, record).is_some() {
                        duplicates += 1;
                    }
                }
                Err(e) => {
                    bad += 1;
                    if bad <= SHOWN_BAD_ROWS {
                        let field = e
                            .field
                            .map(|f| format!(", field `{f}`"))
                            .unwrap_or_default();
                        (self.warn)(&format!(
                            "table `{}`: skipping row {path}:{line}{field}: {} ({})",
                            self.name,
                            e.reason,
                            row_text(&row)
                        ));
                    }
                }
            }
        }
        if bad > SHOWN_BAD_ROWS {
            (self.warn)(&format!(
                "table `{}`: skipped {bad} malformed rows of `{path}` in all",
                self.name
            ));
        }
        if duplicates > 0 {
            (self.warn)(&format!(
                "table `{}`: {duplicates} rows of `{path}` repeat an earlier key; the last one wins",
                self.name
            ));
        }
        Ok(rows)
    }

    fn reload(&self) {
        match self.load() {
            Ok(rows) => *self.rows.write() = Arc::new(rows),
            Err(e) => (self.warn)(&format!(
                "table `{}`: {e}; keeping the previous rows",
                self.name
            )),
        }
    }

    /// Reloads if the refresh policy says so; only one worker checks at a time.
    fn maybe_refresh(&self) {
        if self.refresh == TableRefresh::Never {
            return;
        }
        let now = self.clock.now();
        let Some(mut watch) = self.watch.try_lock() else {
            return;
        };
        if now < watch.next_check {
            return;
        }
        match self.refresh {
            TableRefresh::Every(ms) => {
                watch.next_check = now.saturating_add(ms);
                self.reload();
            }
            TableRefresh::OnChange => {
                watch.next_check = now.saturating_add(POLL_MS);
                let current = self.signature();
                if current.is_some() && current != watch.loaded {
                    if current == watch.seen {
                        // Unchanged since the last look: the writer is done.
                        watch.loaded = current;
                        self.reload();
                    } else {
                        watch.seen = current;
                    }
                }
            }
            TableRefresh::Never => {}
        }
    }
}

impl LookupTable for CsvTable {
    fn rows(&self) -> Arc<TableRows> {
        self.maybe_refresh();
        Arc::clone(&self.rows.read())
    }
}

impl std::fmt::Debug for CsvTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvTable")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}
