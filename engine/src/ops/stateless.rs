//! Fused stateless stages: consecutive `where`, `map`, `select` and `unnest` run as one
//! operator, in place on each batch, with no exchange.

use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;

use super::EventStream;
use crate::event::Event;
use crate::expression::{compile, compile_predicate, Compiled, Predicate};
use crate::plan::{Stage, UnnestSpec};
use crate::value::Value;

enum Step {
    Filter(Predicate),
    Map(Vec<(usize, Compiled)>),
    Select(Vec<Compiled>),
    /// A record per element: the steps after it run on each.
    Unnest(UnnestSpec),
}

/// A compiled chain of stateless stages.
pub struct Chain {
    steps: Vec<Step>,
    /// Whether some step is an `unnest` (the chain then builds new batches).
    expands: bool,
}

impl Chain {
    /// Compiles the stateless stages in `stages`; other stages are ignored.
    pub fn compile(stages: &[&Stage]) -> Chain {
        let steps: Vec<Step> = stages
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
                Stage::Unnest { spec, .. } => Some(Step::Unnest(spec.clone())),
                _ => None,
            })
            .collect();
        let expands = steps.iter().any(|s| matches!(s, Step::Unnest(_)));
        Chain { steps, expands }
    }

    /// Applies a chain without `unnest` to one event; false when a filter drops it.
    #[inline]
    fn apply(&self, event: &mut Event) -> bool {
        self.steps.iter().all(|step| apply_step(step, event))
    }

    /// Runs the chain over a batch: in place when no step expands records, otherwise
    /// into a new batch in input order (each record's rows in list order).
    pub fn run(&self, batch: &mut Vec<Event>) {
        if !self.expands {
            batch.retain_mut(|event| self.apply(event));
            return;
        }
        let mut out = Vec::with_capacity(batch.len());
        for event in batch.drain(..) {
            self.expand(0, event, &mut out);
        }
        *batch = out;
    }

    /// Runs steps `from..` on `event`, pushing what comes out to `out`.
    fn expand(&self, from: usize, mut event: Event, out: &mut Vec<Event>) {
        for (at, step) in self.steps.iter().enumerate().skip(from) {
            if let Step::Unnest(spec) = step {
                // Rows keep the record's event time (and its retraction sign: a field).
                let time = event.time;
                spec.rows(event.record, |row| {
                    self.expand(at + 1, Event::new(time, row), out)
                });
                return;
            }
            if !apply_step(step, &mut event) {
                return;
            }
        }
        out.push(event);
    }
}

/// Applies one record-to-record step; false when a filter drops the record.
#[inline]
fn apply_step(step: &Step, event: &mut Event) -> bool {
    match step {
        Step::Filter(pred) => return pred(&event.record),
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
        // Expanded by `Chain::expand`; a lone event cannot become several.
        Step::Unnest(_) => {}
    }
    true
}

/// Applies `chain` to every event of `stream`.
pub fn build<'scope>(stream: EventStream<'scope>, chain: Chain, name: &str) -> EventStream<'scope> {
    stream.unary(Pipeline, name, move |_cap, _info| {
        move |input, output| {
            input.for_each_stamp(|cap, containers| {
                let mut session = output.session(&cap);
                for container in containers {
                    chain.run(container);
                    if !container.is_empty() {
                        session.give_container(container);
                    }
                }
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::sample::greater;
    use crate::schema::{Field, ItemType, Schema, Type};

    #[test]
    fn unnest_expands_in_order_and_the_steps_after_it_run_on_each_row() {
        let schema = Schema::new(vec![
            Field::new("key", Type::Int),
            Field::new("xs", Type::List(ItemType::Float)),
        ]);
        let spec = UnnestSpec::new(&schema, 1, "x", Some("i"));
        let unnest = Stage::unnest(spec, &schema);
        // Keeps the elements above 1.0.
        let filter = Stage::Filter {
            predicate: greater(1, 1.0),
        };
        let chain = Chain::compile(&[&unnest, &filter]);
        let list = |xs: &[f64]| Value::List(xs.iter().map(|x| Value::Float(*x)).collect());
        let mut batch = vec![
            Event::new(5, vec![Value::Int(1), list(&[3.0, 0.5, 2.0])]),
            Event::new(6, vec![Value::Int(2), list(&[])]),
            Event::new(7, vec![Value::Int(3), list(&[4.0])]),
        ];
        chain.run(&mut batch);
        let row = |t, k, x, i| Event::new(t, vec![Value::Int(k), Value::Float(x), Value::Int(i)]);
        assert_eq!(
            batch,
            vec![row(5, 1, 3.0, 1), row(5, 1, 2.0, 3), row(7, 3, 4.0, 1)]
        );
    }
}
