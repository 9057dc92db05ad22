//! The nesting layout of a schema: dotted field names (`window.start`) grouped into
//! nested objects, computed once per schema and shared by JSON encoding and decoding.

use weir_engine::schema::Schema;

/// One level of nesting: leaves and groups in schema order (a group sits where its first
/// member is).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FieldTree {
    pub(crate) nodes: Vec<Node>,
}

/// A key at one level of the layout.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// A field written under `key`.
    Leaf {
        /// The key at this level (the last segment, or a dotted rest; see [`FieldTree::new`]).
        key: String,
        /// The field's slot in the record.
        slot: usize,
    },
    /// A nested object under `key`.
    Group {
        /// The key at this level.
        key: String,
        /// The dotted name of the group from the top (`window`, `a.b`).
        path: String,
        /// Its members.
        children: FieldTree,
    },
}

impl Node {
    /// The key of this node at its level.
    pub(crate) fn key(&self) -> &str {
        match self {
            Node::Leaf { key, .. } | Node::Group { key, .. } => key,
        }
    }
}

impl FieldTree {
    /// Lays out `schema`. A dotted name nests at each dot, except where the prefix up to
    /// that dot is itself a field: fields `a` and `a.b` would both claim key `a`, so `a.b`
    /// stays a flat key `"a.b"` at that level.
    pub(crate) fn new(schema: &Schema) -> FieldTree {
        let mut root = FieldTree::default();
        for (slot, field) in schema.fields.iter().enumerate() {
            let segments: Vec<&str> = field.name.split('.').collect();
            let mut level = &mut root;
            let mut i = 0;
            while i + 1 < segments.len() {
                let prefix = segments[..=i].join(".");
                if schema.slot(&prefix).is_some() {
                    break;
                }
                level = level.group_mut(segments[i], prefix);
                i += 1;
            }
            level.nodes.push(Node::Leaf {
                key: segments[i..].join("."),
                slot,
            });
        }
        root
    }

    /// The group called `key` at this level, created at the end if new.
    fn group_mut(&mut self, key: &str, path: String) -> &mut FieldTree {
        let pos = self
            .nodes
            .iter()
            .position(|n| matches!(n, Node::Group { key: k, .. } if k == key));
        let pos = match pos {
            Some(p) => p,
            None => {
                self.nodes.push(Node::Group {
                    key: key.to_string(),
                    path,
                    children: FieldTree::default(),
                });
                self.nodes.len() - 1
            }
        };
        match &mut self.nodes[pos] {
            Node::Group { children, .. } => children,
            Node::Leaf { .. } => unreachable!("invariant: position found a group"),
        }
    }

    /// The node with key `key` at this level.
    pub(crate) fn find(&self, key: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use weir_engine::schema::{Field, Type};

    use super::*;

    fn schema(names: &[&str]) -> Schema {
        Schema::new(names.iter().map(|n| Field::new(*n, Type::Int)).collect())
    }

    fn keys(tree: &FieldTree) -> Vec<String> {
        tree.nodes
            .iter()
            .map(|n| match n {
                Node::Leaf { key, slot } => format!("{key}@{slot}"),
                Node::Group { key, children, .. } => {
                    format!("{key}{{{}}}", keys(children).join(","))
                }
            })
            .collect()
    }

    #[test]
    fn dotted_names_nest_in_schema_order() {
        let tree = FieldTree::new(&schema(&[
            "k",
            "window.start",
            "window.end",
            "pane.timing",
            "pane.index",
        ]));
        assert_eq!(
            keys(&tree),
            ["k@0", "window{start@1,end@2}", "pane{timing@3,index@4}"]
        );
    }

    #[test]
    fn a_prefix_that_is_a_field_keeps_the_rest_flat() {
        let tree = FieldTree::new(&schema(&["a", "a.b", "x.y", "x.y.z"]));
        assert_eq!(keys(&tree), ["a@0", "a.b@1", "x{y@2,y.z@3}"]);
    }
}
