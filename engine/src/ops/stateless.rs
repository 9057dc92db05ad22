//! Fused stateless stages: consecutive `where`, `map` and `select` run as one operator,
//! in place on each batch, with no exchange.

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use crate::event::Event;
use crate::expression::{compile, compile_predicate, Compiled, Predicate};
use crate::plan::Stage;
use crate::value::Value;

enum Step {
    Filter(Predicate),
    Map(Vec<(usize, Compiled)>),
    Select(Vec<Compiled>),
}

/// A compiled chain of stateless stages.
pub struct Chain {
    steps: Vec<Step>,
}

impl Chain {
    /// Compiles the stateless stages in `stages`; other stages are ignored.
    pub fn compile(stages: &[&Stage]) -> Chain {
        let steps = stages
            .iter()
            .filter_map(|stage| match stage {
                Stage::Filter { predicate } => Some(Step::Filter(compile_predicate(predicate))),
                Stage::Map { assignments, .. } => Some(Step::Map(
                    assignments
                        .iter()
                        .map(|(slot, e)| (*slot, compile(e)))
                        .collect(),
                )),
                Stage::Select { exprs, .. } => {
                    Some(Step::Select(exprs.iter().map(compile).collect()))
                }
                _ => None,
            })
            .collect();
        Chain { steps }
    }

    /// Applies the chain to one event; false when a filter drops it.
    #[inline]
    pub fn apply(&self, event: &mut Event) -> bool {
        for step in &self.steps {
            match step {
                Step::Filter(pred) => {
                    if !pred(&event.record) {
                        return false;
                    }
                }
                Step::Map(assignments) => {
                    for (slot, expr) in assignments {
                        let v = expr(&event.record);
                        if *slot < event.record.len() {
                            event.record[*slot] = v;
                        } else {
                            event.record.push(v);
                        }
                    }
                }
                Step::Select(exprs) => {
                    let record: Vec<Value> = exprs.iter().map(|e| e(&event.record)).collect();
                    event.record = record;
                }
            }
        }
        true
    }
}

/// Applies `chain` to every event of `stream`.
pub fn build<'scope>(stream: EventStream<'scope>, chain: Chain, name: &str) -> EventStream<'scope> {
    stream.unary(Pipeline, name, move |_cap, _info| {
        move |input, output| {
            input.for_each_stamp(|cap, containers| {
                let mut session = output.session(&cap);
                for container in containers {
                    container.retain_mut(|event| chain.apply(event));
                    if !container.is_empty() {
                        session.give_container(container);
                    }
                }
            });
        }
    })
}
