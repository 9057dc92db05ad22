//! Record values as statement parameters, typed by their column (a null too).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::types::ToSql;
use weir_engine::schema::{ItemType, Type};
use weir_engine::value::Value;

/// A value as a statement parameter (a null typed by its column).
pub(super) fn parameter(value: &Value, ty: Type) -> Box<dyn ToSql + Sync> {
    match value {
        Value::Null => match ty {
            Type::Bool => Box::new(None::<bool>),
            Type::Int | Type::Duration => Box::new(None::<i64>),
            Type::Float => Box::new(None::<f64>),
            Type::String => Box::new(None::<String>),
            Type::Timestamp => Box::new(None::<SystemTime>),
            Type::List(item) => null_array(item),
        },
        Value::Bool(b) => Box::new(*b),
        Value::Int(n) | Value::Duration(n) => Box::new(*n),
        Value::Float(x) => Box::new(*x),
        Value::Str(s) => Box::new(s.to_string()),
        Value::Time(ms) => Box::new(system_time(*ms)),
        Value::List(items) => array(items, ty),
    }
}

/// A null of a list column's array type.
fn null_array(item: ItemType) -> Box<dyn ToSql + Sync> {
    match item {
        ItemType::Bool => Box::new(None::<Vec<bool>>),
        ItemType::Int | ItemType::Duration => Box::new(None::<Vec<i64>>),
        ItemType::Float => Box::new(None::<Vec<f64>>),
        ItemType::String => Box::new(None::<Vec<String>>),
        ItemType::Timestamp => Box::new(None::<Vec<SystemTime>>),
    }
}

/// A list as a PostgreSQL array of its item type (`collect` lists hold no nulls).
fn array(items: &[Value], ty: Type) -> Box<dyn ToSql + Sync> {
    let Type::List(item) = ty else {
        return Box::new(None::<String>);
    };
    match item {
        ItemType::Bool => Box::new(items.iter().filter_map(Value::as_bool).collect::<Vec<_>>()),
        ItemType::Int | ItemType::Duration => Box::new(
            items
                .iter()
                .filter_map(|v| match v {
                    Value::Int(n) | Value::Duration(n) => Some(*n),
                    _ => None,
                })
                .collect::<Vec<i64>>(),
        ),
        ItemType::Float => Box::new(items.iter().filter_map(Value::as_f64).collect::<Vec<_>>()),
        ItemType::String => Box::new(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<String>>(),
        ),
        ItemType::Timestamp => Box::new(
            items
                .iter()
                .filter_map(|v| match v {
                    Value::Time(ms) => Some(system_time(*ms)),
                    _ => None,
                })
                .collect::<Vec<SystemTime>>(),
        ),
    }
}

fn system_time(ms: i64) -> SystemTime {
    let offset = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + offset
    } else {
        UNIX_EPOCH - offset
    }
}
