//! The pipeline's types as Arrow columns, named as the sink's `column_names` says: the Arrow schema of a stream, and records
//! turned into a [`RecordBatch`].
//!
//! | Weir | Arrow (Parquet) |
//! | --- | --- |
//! | `bool` | Boolean |
//! | `i64` | Int64 |
//! | `f64` | Float64 |
//! | `string` | Utf8 |
//! | `timestamp` | Timestamp(ms, UTC) |
//! | `duration` | Duration(ms) (Int64 in Parquet; Arrow readers restore it) |
//! | `list<T>` | List of T's type (non-null items), a Parquet LIST column |

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, DurationMillisecondBuilder, Float64Builder, Int64Builder,
    StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, RecordBatch};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use weir_engine::schema::{Schema, Type};
use weir_engine::value::{Record, Value};

use super::config::ColumnNames;

/// The Arrow type of a Weir type.
pub(crate) fn arrow_type(ty: Type) -> DataType {
    match ty {
        Type::Bool => DataType::Boolean,
        Type::Int => DataType::Int64,
        Type::Float => DataType::Float64,
        Type::String => DataType::Utf8,
        Type::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        Type::Duration => DataType::Duration(TimeUnit::Millisecond),
        Type::List(item) => DataType::List(item_field(item.ty())),
    }
}

/// The item field of a list column: items are never null (`collect` skips nulls).
fn item_field(ty: Type) -> Arc<Field> {
    Arc::new(Field::new_list_field(arrow_type(ty), false))
}

/// The Arrow schema of records of `schema` (same order and nullability, names as
/// `names` says); an error names two fields that would become one column.
pub(crate) fn arrow_schema(schema: &Schema, names: ColumnNames) -> Result<SchemaRef, String> {
    let mut fields: Vec<Field> = Vec::with_capacity(schema.fields.len());
    for f in &schema.fields {
        let name = names.column(&f.name);
        if let Some(i) = fields.iter().position(|c| *c.name() == name) {
            return Err(format!(
                "fields `{}` and `{}` would both be the column `{name}`; rename one, or \
                 write `column_names: dotted`",
                schema.fields[i].name, f.name
            ));
        }
        fields.push(Field::new(name, arrow_type(f.ty), f.nullable));
    }
    Ok(Arc::new(ArrowSchema::new(fields)))
}

/// Builds one batch from records of the schema it was made for.
pub(crate) fn record_batch(
    schema: &Schema,
    arrow: &SchemaRef,
    records: &[&Record],
) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = schema
        .fields
        .iter()
        .enumerate()
        .map(|(slot, field)| column(field.ty, records.iter().map(|r| &r[slot])))
        .collect::<Result<_, _>>()?;
    // A null in a non-nullable column (a connector bug upstream) is refused here, with
    // the column named, rather than written.
    RecordBatch::try_new(Arc::clone(arrow), columns)
}

/// One column of values of type `ty` (nulls where a value is missing or of another type).
fn column<'a>(
    ty: Type,
    values: impl ExactSizeIterator<Item = &'a Value>,
) -> Result<ArrayRef, ArrowError> {
    let n = values.len();
    let mut builder: Box<dyn ArrayBuilder> = match ty {
        Type::Bool => {
            let mut b = BooleanBuilder::with_capacity(n);
            values.for_each(|v| b.append_option(v.as_bool()));
            Box::new(b)
        }
        Type::Int => {
            let mut b = Int64Builder::with_capacity(n);
            values.for_each(|v| b.append_option(v.as_i64()));
            Box::new(b)
        }
        Type::Float => {
            let mut b = Float64Builder::with_capacity(n);
            values.for_each(|v| b.append_option(v.as_f64()));
            Box::new(b)
        }
        Type::String => {
            let mut b = StringBuilder::with_capacity(n, n * 8);
            values.for_each(|v| b.append_option(v.as_str()));
            Box::new(b)
        }
        Type::Timestamp => {
            let mut b = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
            values.for_each(|v| b.append_option(time(v)));
            Box::new(b)
        }
        Type::Duration => {
            let mut b = DurationMillisecondBuilder::with_capacity(n);
            values.for_each(|v| b.append_option(v.as_i64()));
            Box::new(b)
        }
        Type::List(item) => return list_column(item.ty(), values),
    };
    Ok(builder.finish())
}

/// A list column: the items of every row in one child column, cut by offsets.
fn list_column<'a>(
    item: Type,
    values: impl Iterator<Item = &'a Value>,
) -> Result<ArrayRef, ArrowError> {
    let mut lengths = Vec::new();
    let mut valid = Vec::new();
    let mut items: Vec<&Value> = Vec::new();
    for v in values {
        match v {
            Value::List(list) => {
                lengths.push(list.len());
                valid.push(true);
                items.extend(list.iter());
            }
            _ => {
                lengths.push(0);
                valid.push(false);
            }
        }
    }
    let children = column(item, items.into_iter())?;
    let array = ListArray::try_new(
        item_field(item),
        OffsetBuffer::from_lengths(lengths),
        children,
        Some(NullBuffer::from(valid)),
    )?;
    Ok(Arc::new(array))
}

fn time(v: &Value) -> Option<i64> {
    match v {
        Value::Time(t) => Some(*t),
        _ => None,
    }
}
