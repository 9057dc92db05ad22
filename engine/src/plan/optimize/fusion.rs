//! Fusion: consecutive stateless operators (`where`, `map`, `select`) become one, so a
//! batch goes through the whole chain in place, in one activation, with no channel
//! between the stages.

use crate::plan::physical::{Operator, PhysicalPlan};

/// Merges every run of adjacent [`Operator::Fused`] into one.
pub fn apply(mut plan: PhysicalPlan) -> PhysicalPlan {
    for pipeline in &mut plan.pipelines {
        let mut fused: Vec<Operator> = Vec::with_capacity(pipeline.operators.len());
        for op in pipeline.operators.drain(..) {
            match (fused.last_mut(), op) {
                (Some(Operator::Fused { stages }), Operator::Fused { stages: more }) => {
                    stages.extend(more)
                }
                (_, op) => fused.push(op),
            }
        }
        pipeline.operators = fused;
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::physical::{BatchLayout, PhysicalPipeline};
    use crate::plan::PipelineInput;

    fn pipeline(operators: Vec<Operator>) -> PhysicalPlan {
        PhysicalPlan {
            pipelines: vec![PhysicalPipeline {
                name: "p".into(),
                index: 0,
                input: PipelineInput::Source("s".into()),
                operators,
            }],
            layout: BatchLayout::Rows,
        }
    }

    #[test]
    fn adjacent_stateless_stages_fuse_and_a_stateful_one_splits_them() {
        let fused = |s: &[usize]| Operator::Fused { stages: s.to_vec() };
        let plan = apply(pipeline(vec![
            fused(&[0]),
            fused(&[1]),
            fused(&[2]),
            Operator::Stage { stage: 3 },
            fused(&[4]),
            fused(&[5]),
        ]));
        assert_eq!(
            plan.pipelines[0].operators,
            vec![
                fused(&[0, 1, 2]),
                Operator::Stage { stage: 3 },
                fused(&[4, 5])
            ]
        );
    }
}
