//! Types and schemas of streams, resolved to slots at check time.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A field's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Type {
    /// `bool`
    Bool,
    /// `i64`
    Int,
    /// `f64`
    Float,
    /// `string`
    String,
    /// `timestamp` (epoch milliseconds)
    Timestamp,
    /// `duration` (milliseconds)
    Duration,
    /// `list<T>`: what `collect(x)` makes, a list of non-null values of one scalar type
    /// (lists do not nest).
    List(ItemType),
}

/// The element type of a list: one of the scalar types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemType {
    /// `bool`
    Bool,
    /// `i64`
    Int,
    /// `f64`
    Float,
    /// `string`
    String,
    /// `timestamp`
    Timestamp,
    /// `duration`
    Duration,
}

impl ItemType {
    /// The scalar type of the elements.
    pub fn ty(self) -> Type {
        match self {
            ItemType::Bool => Type::Bool,
            ItemType::Int => Type::Int,
            ItemType::Float => Type::Float,
            ItemType::String => Type::String,
            ItemType::Timestamp => Type::Timestamp,
            ItemType::Duration => Type::Duration,
        }
    }

    /// The element type for a scalar type; `None` for a list (lists do not nest).
    pub fn of(ty: Type) -> Option<ItemType> {
        Some(match ty {
            Type::Bool => ItemType::Bool,
            Type::Int => ItemType::Int,
            Type::Float => ItemType::Float,
            Type::String => ItemType::String,
            Type::Timestamp => ItemType::Timestamp,
            Type::Duration => ItemType::Duration,
            Type::List(_) => return None,
        })
    }
}

impl Type {
    /// True for `i64` and `f64`.
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Float)
    }

    /// The name users write.
    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "i64",
            Type::Float => "f64",
            Type::String => "string",
            Type::Timestamp => "timestamp",
            Type::Duration => "duration",
            Type::List(_) => "list",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::List(elem) => write!(f, "list<{}>", elem.ty().name()),
            ty => f.write_str(ty.name()),
        }
    }
}

/// One named, typed field. Dotted names (`window.start`) are flat fields whose prefix
/// groups them when written out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Field name as users write it.
    pub name: String,
    /// Value type.
    pub ty: Type,
    /// Whether the value may be null (`T?`).
    pub nullable: bool,
}

impl Field {
    /// A non-nullable field.
    pub fn new(name: impl Into<String>, ty: Type) -> Field {
        Field {
            name: name.into(),
            ty,
            nullable: false,
        }
    }

    /// A nullable field.
    pub fn nullable(name: impl Into<String>, ty: Type) -> Field {
        Field {
            name: name.into(),
            ty,
            nullable: true,
        }
    }
}

/// The ordered fields of a stream; a record holds one value per field, by position (slot).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Fields in slot order.
    pub fields: Vec<Field>,
}

impl Schema {
    /// Builds a schema from fields.
    pub fn new(fields: Vec<Field>) -> Schema {
        Schema { fields }
    }

    /// Slot of the field called `name`.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the schema has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(
                f,
                "{}: {}{}",
                field.name,
                field.ty,
                if field.nullable { "?" } else { "" }
            )?;
        }
        f.write_str("}")
    }
}
