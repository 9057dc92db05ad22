//! Trigger evaluation: the per-element `on_element` + `should_fire` the window operator
//! runs, and firing, for the common trigger shapes.

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use weir_engine::plan::Trigger;
use weir_engine::trigger::{TriggerContext, TriggerMachine};

const ELEMENTS: usize = 10_000;

fn shapes() -> Vec<(&'static str, Trigger)> {
    vec![
        ("default", Trigger::default_for_windows()),
        (
            "count_100_repeat",
            Trigger::Repeat(Box::new(Trigger::Count(100))),
        ),
        (
            // Beam's Nexmark q12: a pane 10 s of processing time after its first element.
            "processing_10s_repeat",
            Trigger::Repeat(Box::new(Trigger::Processing(10_000))),
        ),
        (
            "watermark_early_count_late_count",
            Trigger::Watermark {
                early: Some(Box::new(Trigger::Count(50))),
                late: Some(Box::new(Trigger::Count(1))),
            },
        ),
        (
            "any_count_or_processing_until_count",
            Trigger::Until(
                Box::new(Trigger::Repeat(Box::new(Trigger::Any(vec![
                    Trigger::Count(100),
                    Trigger::Processing(5_000),
                ])))),
                Box::new(Trigger::Count(5_000)),
            ),
        ),
    ]
}

fn evaluation(c: &mut Criterion) {
    let mut g = c.benchmark_group("triggers/per_element");
    g.throughput(Throughput::Elements(ELEMENTS as u64));
    for (name, trigger) in shapes() {
        let machine = TriggerMachine::new(&trigger);
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let mut state = machine.init();
                let mut fired = 0u32;
                for i in 0..ELEMENTS as i64 {
                    // One window [0, 60 s); the watermark crosses its end two-thirds in.
                    let cx = TriggerContext {
                        watermark: i * 9,
                        now: i,
                        end: 60_000,
                    };
                    machine.on_element(&mut state, &cx);
                    if machine.should_fire(&state, &cx) {
                        fired += 1;
                        if machine.on_fire(&mut state, &cx) {
                            state = machine.init();
                        }
                    }
                }
                black_box(fired)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, evaluation);
