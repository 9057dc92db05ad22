//! Projection pushdown into sources: which fields of each source some stage reads, so a
//! reader may skip the others instead of building their values (a JSON decoder skips a
//! string it would otherwise copy).
//!
//! A pipeline reads a source's fields through its stages until a stage replaces the
//! record (`select`, a window): filters, maps, keys, aggregate arguments, the fields a
//! `lookup`, `infer`, `detect` or `forecast` reads. A stage that passes the whole record
//! on to a sink or to another pipeline (`to`, `late to`, `on miss to`, a `join`, or the
//! end of a pipeline another one reads) reads every field. The event-time field is always
//! read.

use crate::plan::{Expr, LogicalPlan, LookupMiss, PipelineInput, Stage};

/// For each source of `plan`, in order, the fields it must decode (`true` at a read
/// slot); `None` when every field is read.
pub fn source_fields(plan: &LogicalPlan) -> Vec<Option<Vec<bool>>> {
    plan.sources
        .iter()
        .map(|source| {
            let mut read = vec![false; source.schema.len()];
            if let Some(slot) = source.event_time {
                read[slot] = true;
            }
            for pipeline in &plan.pipelines {
                if pipeline.input == PipelineInput::Source(source.name.clone()) {
                    let consumed = plan.pipelines.iter().any(|p| {
                        p.inputs()
                            .any(|i| i == &PipelineInput::Pipeline(pipeline.name.clone()))
                    });
                    mark(&pipeline.stages, consumed, &mut read);
                }
                let joined = pipeline.inputs().skip(1);
                if joined
                    .into_iter()
                    .any(|i| i == &PipelineInput::Source(source.name.clone()))
                {
                    read.fill(true);
                }
            }
            (!read.iter().all(|&r| r)).then_some(read)
        })
        .collect()
}

/// Marks in `read` the source slots `stages` read; `consumed`: another pipeline reads
/// what the last stage produces.
fn mark(stages: &[Stage], consumed: bool, read: &mut [bool]) {
    let width = read.len();
    let expr = |e: &Expr, read: &mut [bool]| {
        e.for_each_slot(&mut |s| {
            if s < width {
                read[s] = true;
            }
        })
    };
    let slots = |slots: &[usize], read: &mut [bool]| {
        slots
            .iter()
            .filter(|&&s| s < width)
            .for_each(|&s| read[s] = true)
    };
    for stage in stages {
        match stage {
            Stage::Filter { predicate } => expr(predicate, read),
            Stage::Map { assignments, .. } => {
                assignments.iter().for_each(|(_, e)| expr(e, read));
            }
            Stage::KeyBy { keys, .. } | Stage::Dedupe { keys, .. } => slots(keys, read),
            Stage::Select { exprs, .. } => {
                exprs.iter().for_each(|e| expr(e, read));
                return;
            }
            Stage::Window {
                keys,
                window,
                aggregates,
                ..
            } => {
                if window.late_to.is_some() {
                    read.fill(true);
                }
                slots(keys, read);
                slots(&window.kind.slots(), read);
                aggregates
                    .iter()
                    .filter_map(|a| a.arg.as_ref())
                    .for_each(|e| expr(e, read));
                // `arg_max … keep {bidder}` outputs the winner's kept fields.
                aggregates
                    .iter()
                    .flat_map(|a| &a.keep)
                    .for_each(|k| slots(&[k.slot], read));
                return;
            }
            Stage::Detect { keys, field, .. } | Stage::Forecast { keys, field, .. } => {
                slots(keys, read);
                slots(&[*field], read);
            }
            Stage::Infer { inputs, .. } => slots(inputs, read),
            // Every other field is copied in its slot; the ordinality is appended.
            Stage::Unnest { spec, .. } => {
                slots(&[spec.list], read);
                slots(&spec.companions, read);
            }
            Stage::Lookup { key, on_miss, .. } => {
                if matches!(on_miss, LookupMiss::ToSink(_)) {
                    read.fill(true);
                }
                slots(&[*key], read);
            }
            // An alert event carries its whole record (message templates read any field).
            Stage::Sink { .. }
            | Stage::Join { .. }
            | Stage::Alert { .. }
            | Stage::AlertGroup { .. } => {
                read.fill(true);
                return;
            }
        }
    }
    if consumed {
        read.fill(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::{self, field, greater, source_schema};
    use crate::schema::Schema;

    #[test]
    fn a_source_decodes_only_what_filters_keys_and_aggregates_read() {
        let plan = sample::plan(vec![
            Stage::Filter {
                predicate: greater(1, 0.0),
            },
            sample::window(&source_schema()),
            Stage::Sink { sink: "out".into() },
        ]);
        // device (key), reading (filter, sum), ts (event time); not site.
        assert_eq!(
            source_fields(&plan),
            vec![Some(vec![true, true, true, false])]
        );
    }

    #[test]
    fn a_sink_of_the_source_records_reads_every_field() {
        let plan = sample::plan(vec![Stage::Sink { sink: "out".into() }]);
        assert_eq!(source_fields(&plan), vec![None]);
        let select = sample::plan(vec![Stage::Select {
            exprs: vec![field(0)],
            schema: Schema::new(vec![source_schema().fields[0].clone()]),
        }]);
        assert_eq!(
            source_fields(&select),
            vec![Some(vec![true, false, true, false])]
        );
    }
}
