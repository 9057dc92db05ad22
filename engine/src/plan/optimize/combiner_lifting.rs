//! Combiner lifting: a window whose aggregates are all `min`/`max` of fields gets a
//! partial aggregation in front of its exchange (as Beam's combiner lifting and Flink's
//! local-global aggregation do), so one record per key and set of windows crosses
//! workers per batch instead of every record.
//!
//! The partial record is one of the group's records with each aggregated field set to
//! the group's min or max, so the window operator after the exchange is unchanged. It is
//! only lifted where that computes the same panes: tumbling or sliding windows, the
//! default trigger (one pane per window, at the watermark), no allowed lateness, no
//! `late to`, the end-of-window timestamp, no retracting input, no per-key watermark.
//! Lateness is decided by the time a record travels at (see `ops::combine`), so records
//! that would be late pass uncombined and are counted one by one as before.

use crate::plan::physical::{ExchangeInput, Operator, PhysicalPlan};
use crate::plan::{
    AggFunc, Expr, LogicalPlan, PipelineInput, Stage, TimestampCombiner, Trigger, WindowKind,
};
use crate::retraction::RETRACTION_FIELD_NAME;
use crate::schema::Schema;

/// Puts an [`Operator::Combine`] before the exchange of every window it may.
pub fn apply(mut plan: PhysicalPlan, logical: &LogicalPlan) -> PhysicalPlan {
    for pipeline in &mut plan.pipelines {
        let node = &logical.pipelines[pipeline.index];
        let per_key = match &node.input {
            PipelineInput::Source(s) => logical.source(s).is_some_and(|s| s.watermark.per_key),
            PipelineInput::Pipeline(_) => false,
        };
        let mut inputs = Vec::with_capacity(node.stages.len());
        let mut schema = &node.input_schema;
        for stage in &node.stages {
            inputs.push(schema);
            schema = stage.output_schema().unwrap_or(schema);
        }
        let mut lifted = Vec::with_capacity(pipeline.operators.len() + 1);
        let mut ops = std::mem::take(&mut pipeline.operators)
            .into_iter()
            .peekable();
        while let Some(op) = ops.next() {
            if let (Operator::Exchange(x), Some(Operator::Stage { stage })) = (&op, ops.peek()) {
                if x.input == ExchangeInput::Stream
                    && !per_key
                    && combinable(&node.stages[*stage], inputs[*stage])
                {
                    lifted.push(Operator::Combine { stage: *stage });
                }
            }
            lifted.push(op);
        }
        pipeline.operators = lifted;
    }
    plan
}

/// Whether a window stage reading `input` has the same panes when fed partial records.
pub fn combinable(stage: &Stage, input: &Schema) -> bool {
    // Records of a retracting window upstream withdraw earlier ones: never merge them.
    if input.fields.iter().any(|f| f.name == RETRACTION_FIELD_NAME) {
        return false;
    }
    let Stage::Window {
        window, aggregates, ..
    } = stage
    else {
        return false;
    };
    let kind = matches!(
        window.kind,
        WindowKind::Tumbling { .. } | WindowKind::Sliding { .. }
    );
    let mut slots = Vec::new();
    let aggs = !aggregates.is_empty()
        && aggregates.iter().all(|a| match (&a.func, &a.arg) {
            (AggFunc::Min | AggFunc::Max, Some(Expr::Field { slot, .. })) => {
                // One field feeds one aggregate: a record holds one value per slot.
                let fresh = !slots.contains(slot);
                slots.push(*slot);
                fresh
            }
            _ => false,
        });
    // Partial aggregates are per event-time window; processing-time windows are
    // assigned only where records arrive after the exchange.
    kind && aggs
        && !window.processing_time
        && window.trigger == Trigger::default_for_windows()
        && window.allowed_lateness_ms == 0
        && window.late_to.is_none()
        && window.timestamp == TimestampCombiner::End
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::{self, field, source_schema};
    use crate::plan::Aggregate;

    fn max_window() -> Stage {
        let mut stage = sample::window(&source_schema());
        if let Stage::Window { aggregates, .. } = &mut stage {
            *aggregates = vec![Aggregate {
                name: "top".into(),
                func: AggFunc::Max,
                arg: Some(field(1)),
                arg_type: Some(crate::schema::Type::Float),
                keep: Vec::new(),
            }];
        }
        stage
    }

    #[test]
    fn a_max_window_combines_before_its_exchange() {
        let plan = sample::plan(vec![max_window()]);
        let physical = PhysicalPlan::from_logical(&plan);
        let ops = &physical.pipelines[0].operators;
        assert_eq!(ops[0], Operator::Combine { stage: 0 }, "{ops:?}");
        assert!(matches!(ops[1], Operator::Exchange(_)), "{ops:?}");
        assert_eq!(ops[2], Operator::Stage { stage: 0 });
    }

    #[test]
    fn counts_lateness_and_other_triggers_are_not_combined() {
        // The sample window counts and sums.
        assert!(!combinable(
            &sample::window(&source_schema()),
            &source_schema()
        ));
        let mut late = max_window();
        if let Stage::Window { window, .. } = &mut late {
            window.allowed_lateness_ms = 1000;
        }
        assert!(!combinable(&late, &source_schema()));
        let mut early = max_window();
        if let Stage::Window { window, .. } = &mut early {
            window.trigger = Trigger::on_watermark();
        }
        assert!(!combinable(&early, &source_schema()));
        assert!(combinable(&max_window(), &source_schema()));
    }
}
