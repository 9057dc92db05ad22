//! The SQL the sink sends: the table's columns typed from the records, `CREATE TABLE`,
//! and the multi-row `INSERT` (with `ON CONFLICT … DO UPDATE` for upserts).
//!
//! | Weir | PostgreSQL |
//! | --- | --- |
//! | `bool` | boolean |
//! | `i64` | bigint |
//! | `f64` | double precision |
//! | `string` | text |
//! | `timestamp` | timestamptz |
//! | `duration` | bigint (milliseconds) |
//! | `list<T>` | an array of T's type (`bigint[]`, …) |

use std::fmt::Write;

use weir_engine::schema::{ItemType, Schema, Type};

use super::config::{Mode, PostgresConfig};

/// The column type of a Weir type.
pub(crate) fn column_type(ty: Type) -> &'static str {
    match ty {
        Type::Bool => "boolean",
        Type::Int | Type::Duration => "bigint",
        Type::Float => "double precision",
        Type::String => "text",
        Type::Timestamp => "timestamptz",
        Type::List(item) => match item {
            ItemType::Bool => "boolean[]",
            ItemType::Int | ItemType::Duration => "bigint[]",
            ItemType::Float => "double precision[]",
            ItemType::String => "text[]",
            ItemType::Timestamp => "timestamptz[]",
        },
    }
}

/// A column's name: `window.start` is `window_start`, as in the Parquet lake, so SQL
/// reads it without quotes.
pub(crate) fn column_name(field: &str) -> String {
    field.replace('.', "_")
}

/// `"name"`, quoted for SQL (names are checked to be plain identifiers, so quoting
/// only keeps their case).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table, each part quoted.
pub(crate) fn table_ref(table: &str) -> String {
    table.split('.').map(quoted).collect::<Vec<_>>().join(".")
}

/// `CREATE TABLE IF NOT EXISTS` with a column per field and the key as primary key.
pub(crate) fn create_table(config: &PostgresConfig, schema: &Schema) -> String {
    let mut sql = format!("CREATE TABLE IF NOT EXISTS {} (", table_ref(&config.table));
    for (i, f) in schema.fields.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(
            sql,
            "{} {}",
            quoted(&column_name(&f.name)),
            column_type(f.ty)
        );
        if !f.nullable {
            sql.push_str(" NOT NULL");
        }
    }
    if !config.key.is_empty() {
        let key: Vec<String> = config.key.iter().map(|k| quoted(&column_name(k))).collect();
        let _ = write!(sql, ", PRIMARY KEY ({})", key.join(", "));
    }
    sql.push(')');
    sql
}

/// `INSERT INTO t (…) VALUES ($1, …), … [ON CONFLICT (key) DO UPDATE SET …]` for `rows`
/// rows of `schema`.
pub(crate) fn insert(config: &PostgresConfig, schema: &Schema, rows: usize) -> String {
    let columns: Vec<String> = schema
        .fields
        .iter()
        .map(|f| quoted(&column_name(&f.name)))
        .collect();
    let width = columns.len();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        table_ref(&config.table),
        columns.join(", ")
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..width {
            if col > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", row * width + col + 1);
        }
        sql.push(')');
    }
    if config.mode == Mode::Upsert {
        let key: Vec<String> = config.key.iter().map(|k| quoted(&column_name(k))).collect();
        let rest: Vec<String> = schema
            .fields
            .iter()
            .filter(|f| !config.key.contains(&f.name))
            .map(|f| {
                let c = quoted(&column_name(&f.name));
                format!("{c} = EXCLUDED.{c}")
            })
            .collect();
        let _ = write!(sql, " ON CONFLICT ({})", key.join(", "));
        if rest.is_empty() {
            sql.push_str(" DO NOTHING");
        } else {
            let _ = write!(sql, " DO UPDATE SET {}", rest.join(", "));
        }
    }
    sql
}
