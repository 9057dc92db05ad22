//! A query's answer as Weir records, so any sink can take it: Arrow columns become the
//! pipeline types (integers `i64`, decimals and floats `f64`, timestamps `timestamp`,
//! dates and other values text).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, TimeUnit, TimestampMillisecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::value::{Record, Value};

use super::QueryError;

/// The pipeline type a column of `ty` becomes.
fn column_type(ty: &DataType) -> Type {
    match ty {
        DataType::Boolean => Type::Bool,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Type::Int,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Type::Float,
        DataType::Timestamp(..) => Type::Timestamp,
        _ => Type::String,
    }
}

/// The schema of an answer whose columns are `batch`'s.
pub fn schema_of(batch: &RecordBatch) -> Schema {
    Schema::new(
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| Field {
                name: f.name().clone(),
                ty: column_type(f.data_type()),
                nullable: true,
            })
            .collect(),
    )
}

/// One column cast to the Arrow type its pipeline type is read from.
fn cast_column(column: &ArrayRef, ty: Type) -> Result<ArrayRef, QueryError> {
    let to = match ty {
        Type::Bool => DataType::Boolean,
        Type::Int => DataType::Int64,
        Type::Float => DataType::Float64,
        Type::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
        _ => DataType::Utf8,
    };
    cast(column, &to).map_err(|e| QueryError::Output(format!("cannot read a column: {e}")))
}

/// The rows of `batches` as records of `schema` (from [`schema_of`]).
pub fn records(batches: &[RecordBatch], schema: &Schema) -> Result<Vec<Record>, QueryError> {
    let mut out = Vec::new();
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .zip(&schema.fields)
            .map(|(c, f)| cast_column(c, f.ty).map(|a| (a, f.ty)))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            out.push(
                columns
                    .iter()
                    .map(|(column, ty)| value(column, ty, row))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// The value at `row` of a column already cast by [`cast_column`].
fn value(column: &ArrayRef, ty: &Type, row: usize) -> Value {
    if column.is_null(row) {
        return Value::Null;
    }
    match ty {
        Type::Bool => Value::Bool(column.as_boolean().value(row)),
        Type::Int => Value::Int(column.as_primitive::<Int64Type>().value(row)),
        Type::Float => Value::Float(column.as_primitive::<Float64Type>().value(row)),
        Type::Timestamp => {
            Value::Time(column.as_primitive::<TimestampMillisecondType>().value(row))
        }
        _ => Value::Str(Arc::from(column.as_string::<i32>().value(row))),
    }
}
