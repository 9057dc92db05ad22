//! Filter pushdown: a `where` moves ahead of the stages it does not depend on, so records
//! it drops are never mapped, looked up or run through a model.
//!
//! A filter passes a stage when the stage keeps the slots the predicate reads and treats
//! every record alike, on its own: `key by`; a `map` that assigns none of them; a `select`
//! that only renames or reorders fields (the predicate is rewritten to read the fields it
//! renamed); a `lookup` or `infer` (which only append) when the predicate reads none of
//! the appended fields and, for `lookup`, misses go to no sink; an `unnest` when the
//! predicate reads neither the list, its companions nor the ordinality (the fields every
//! row of a record shares, in the same slots). It never passes a stage
//! with state or a side output (window, join, detect, forecast, a sink, `on miss to`),
//! since there the records it drops would change what is kept or written.

use crate::plan::{Expr, LogicalPlan, LookupMiss, Stage};
use crate::schema::Schema;

/// Moves every filter as far upstream within its pipeline as it may go.
pub fn apply(mut plan: LogicalPlan) -> LogicalPlan {
    for pipeline in &mut plan.pipelines {
        let mut moved = true;
        while moved {
            moved = false;
            for at in 1..pipeline.stages.len() {
                let Stage::Filter { predicate } = &pipeline.stages[at] else {
                    continue;
                };
                let before = input_width(&pipeline.input_schema, &pipeline.stages[..at - 1]);
                if let Some(rewritten) = past(&pipeline.stages[at - 1], predicate, before) {
                    pipeline.stages[at] = Stage::Filter {
                        predicate: rewritten,
                    };
                    pipeline.stages.swap(at - 1, at);
                    moved = true;
                }
            }
        }
    }
    plan
}

/// The width of the records entering the stage after `stages`.
fn input_width(input: &Schema, stages: &[Stage]) -> usize {
    stages
        .iter()
        .rev()
        .find_map(Stage::output_schema)
        .unwrap_or(input)
        .len()
}

/// The predicate as it reads before `stage` (whose input records have `width` fields),
/// if the filter may run first.
fn past(stage: &Stage, predicate: &Expr, width: usize) -> Option<Expr> {
    let same = || Some(predicate.clone());
    match stage {
        Stage::KeyBy { .. } => same(),
        Stage::Map { assignments, .. } => predicate
            .reads_only(|s| assignments.iter().all(|(slot, _)| *slot != s))
            .then(same)?,
        Stage::Select { exprs, .. } => predicate.substitute(&|slot| match exprs.get(slot) {
            Some(field @ Expr::Field { .. }) => Some(field.clone()),
            _ => None,
        }),
        Stage::Lookup { on_miss, .. } if !matches!(on_miss, LookupMiss::ToSink(_)) => {
            predicate.reads_only(|s| s < width).then(same)?
        }
        Stage::Infer { .. } => predicate.reads_only(|s| s < width).then(same)?,
        Stage::Unnest { spec, .. } => predicate
            .reads_only(|s| s < width && s != spec.list && !spec.companions.contains(&s))
            .then(same)?,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::{self, field, greater, source_schema};

    fn filter(predicate: Expr) -> Stage {
        Stage::Filter { predicate }
    }

    #[test]
    fn a_filter_moves_ahead_of_a_map_and_a_renaming_select_but_not_a_sink() {
        let mut renamed = source_schema();
        renamed.fields.swap(0, 1);
        let plan = sample::plan(vec![
            Stage::Sink { sink: "out".into() },
            Stage::Map {
                assignments: vec![(3, field(0))],
                schema: source_schema(),
            },
            Stage::Select {
                exprs: vec![field(1), field(0), field(2), field(3)],
                schema: renamed,
            },
            // Reads slot 0 after the select: `reading`, slot 1 before it.
            filter(greater(0, 5.0)),
        ]);
        let stages = apply(plan).pipelines.remove(0).stages;
        assert!(matches!(stages[0], Stage::Sink { .. }), "{stages:?}");
        assert_eq!(stages[1], filter(greater(1, 5.0)));
        assert!(matches!(stages[2], Stage::Map { .. }));
        assert!(matches!(stages[3], Stage::Select { .. }));
    }

    #[test]
    fn a_filter_moves_ahead_of_an_unnest_unless_it_reads_an_element_or_the_rank() {
        use crate::plan::UnnestSpec;
        use crate::schema::{Field, ItemType, Type};
        let mut schema = source_schema();
        schema
            .fields
            .push(Field::new("extra", Type::List(ItemType::Float)));
        let spec = UnnestSpec::new(&schema, 4, "x", Some("rank"));
        let unnest = Stage::unnest(spec, &schema);
        let plan = |slot| {
            let mut plan = sample::plan(vec![unnest.clone(), filter(greater(slot, 1.0))]);
            plan.pipelines[0].input_schema = schema.clone();
            plan
        };
        // `reading` is the same in every row: the filter runs first.
        let stages = apply(plan(1)).pipelines.remove(0).stages;
        assert_eq!(stages, [filter(greater(1, 1.0)), unnest.clone()]);
        // The element (slot 4) and the rank (slot 5) exist only after the unnest.
        for slot in [4, 5] {
            assert_eq!(apply(plan(slot)), plan(slot));
        }
    }

    #[test]
    fn a_filter_on_a_field_a_map_writes_or_a_window_computes_stays() {
        let schema = source_schema();
        let window = sample::window(&schema);
        let plan = sample::plan(vec![
            window,
            Stage::Map {
                assignments: vec![(1, field(1))],
                schema: source_schema(),
            },
            filter(greater(1, 5.0)),
        ]);
        assert_eq!(apply(plan.clone()), plan);
    }
}
