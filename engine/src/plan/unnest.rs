//! `unnest <list> as <name> [with ordinality as <rank>]`: a record whose list has n
//! elements becomes n records, in list order (SQL's `CROSS JOIN UNNEST … WITH
//! ORDINALITY`, Beam's `FlatMap`).
//!
//! The list's companions — list fields named `<list>.<field>`, as `top(x, n) keep {a}`
//! makes `<list>.a` beside `<list>` — are unnested with it, element by element, so the
//! n-th record holds the n-th ranked value and the n-th value of each kept field. Every
//! slot keeps its place: the list and its companions are replaced in place by their
//! elements (`<name>`, `<name>.<field>`), the other fields are copied, and the ordinality
//! (an `i64` from 1) is appended.

use serde::{Deserialize, Serialize};

use crate::schema::{Field, Schema, Type};
use crate::value::{Record, Value};

/// An `unnest` stage, resolved to slots of its input records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnnestSpec {
    /// Slot of the list unnested.
    pub list: usize,
    /// Slots of its companion lists (`<list>.<field>`), in slot order.
    pub companions: Vec<usize>,
    /// The element's name (`as <name>`); companions become `<name>.<field>`.
    pub name: String,
    /// `with ordinality as <rank>`: the name of the appended position field.
    pub ordinality: Option<String>,
}

impl UnnestSpec {
    /// Unnests the list at slot `list` of `input` as `name`, its companions found by name.
    pub fn new(input: &Schema, list: usize, name: &str, ordinality: Option<&str>) -> UnnestSpec {
        let companions = input
            .fields
            .get(list)
            .map(|f| companions(input, &f.name))
            .unwrap_or_default();
        UnnestSpec {
            list,
            companions,
            name: name.to_string(),
            ordinality: ordinality.map(str::to_string),
        }
    }

    /// The output schema over `input`: the list becomes its element (non-null: lists
    /// hold no nulls), each companion `<list>.<f>` becomes `<name>.<f>` (nullable, as
    /// `arg_max`'s kept fields: a kept field may be null), then the ordinality (`i64`).
    pub fn output_schema(&self, input: &Schema) -> Schema {
        let list_name = input.fields.get(self.list).map_or("", |f| f.name.as_str());
        let mut fields: Vec<Field> = input
            .fields
            .iter()
            .enumerate()
            .map(|(slot, f)| {
                let item = match f.ty {
                    Type::List(item) => item.ty(),
                    ty => ty,
                };
                if slot == self.list {
                    Field::new(&self.name, item)
                } else if self.companions.contains(&slot) {
                    let rest = f.name.strip_prefix(list_name).unwrap_or(&f.name);
                    Field::nullable(format!("{}{rest}", self.name), item)
                } else {
                    f.clone()
                }
            })
            .collect();
        if let Some(rank) = &self.ordinality {
            fields.push(Field::new(rank, Type::Int));
        }
        Schema::new(fields)
    }

    /// The records `record` becomes, in list order, appended to `out` by `emit`. A null
    /// (or empty) list gives none; a companion shorter than the list gives nulls.
    pub fn rows(&self, mut record: Record, mut emit: impl FnMut(Record)) {
        let Some(Value::List(items)) = record.get_mut(self.list).map(std::mem::take) else {
            return;
        };
        // Taken out of the record before it is copied once per element.
        let companions: Vec<Value> = self
            .companions
            .iter()
            .map(|&c| record.get_mut(c).map(std::mem::take).unwrap_or_default())
            .collect();
        for (i, item) in items.iter().enumerate() {
            let mut row = record.clone();
            if let Some(v) = row.get_mut(self.list) {
                *v = item.clone();
            }
            for (&slot, list) in self.companions.iter().zip(&companions) {
                if let Some(v) = row.get_mut(slot) {
                    *v = match list {
                        Value::List(values) => values.get(i).cloned().unwrap_or(Value::Null),
                        _ => Value::Null,
                    };
                }
            }
            if self.ordinality.is_some() {
                // A list never holds more than i64::MAX items.
                row.push(Value::Int(i64::try_from(i + 1).unwrap_or(i64::MAX)));
            }
            emit(row);
        }
    }
}

/// The slots of `schema`'s list fields named `<list>.<field>`.
pub fn companions(schema: &Schema, list: &str) -> Vec<usize> {
    let prefix = format!("{list}.");
    schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name.starts_with(&prefix) && matches!(f.ty, Type::List(_)))
        .map(|(slot, _)| slot)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ItemType;

    fn ranked() -> Schema {
        Schema::new(vec![
            Field::new("auction", Type::Int),
            Field::new("top", Type::List(ItemType::Int)),
            Field::new("top.bidder", Type::List(ItemType::Int)),
            Field::new("top.n", Type::Int),
            Field::new("topping", Type::List(ItemType::Int)),
        ])
    }

    fn ints(v: &[i64]) -> Value {
        Value::List(v.iter().map(|i| Value::Int(*i)).collect())
    }

    #[test]
    fn the_list_and_its_companions_become_elements_in_place() {
        let spec = UnnestSpec::new(&ranked(), 1, "bid", Some("rank"));
        // `top.n` is no list and `topping` only shares the prefix: both are copied.
        assert_eq!(spec.companions, vec![2]);
        assert_eq!(
            spec.output_schema(&ranked()).to_string(),
            "{auction: i64, bid: i64, bid.bidder: i64?, top.n: i64, topping: list<i64>, rank: i64}"
        );
        let record = vec![
            Value::Int(7),
            ints(&[900, 500, 100]),
            ints(&[12, 14]),
            Value::Int(3),
            ints(&[1]),
        ];
        let mut rows = Vec::new();
        spec.rows(record, |r| rows.push(r));
        let row = |bid, bidder: Value, rank| {
            vec![
                Value::Int(7),
                Value::Int(bid),
                bidder,
                Value::Int(3),
                ints(&[1]),
                Value::Int(rank),
            ]
        };
        assert_eq!(
            rows,
            vec![
                row(900, Value::Int(12), 1),
                row(500, Value::Int(14), 2),
                // The companion is shorter than the list.
                row(100, Value::Null, 3),
            ]
        );
    }

    #[test]
    fn an_empty_or_null_list_gives_no_rows() {
        let spec = UnnestSpec::new(&ranked(), 1, "bid", None);
        for list in [ints(&[]), Value::Null] {
            let record = vec![Value::Int(7), list, ints(&[]), Value::Int(0), ints(&[])];
            let mut rows = Vec::new();
            spec.rows(record, |r| rows.push(r));
            assert!(rows.is_empty(), "{rows:?}");
        }
    }
}
