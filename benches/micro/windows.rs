//! Window assignment (tumbling, sliding) and session merging.

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use weir_engine::plan::WindowKind;
use weir_engine::window::assign::{Assigner, Window};
use weir_engine::window::merge::merge_with;

/// Event times 7 ms apart from a 2024 instant, like a device reporting at ~140 Hz.
fn times(n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| 1_714_521_600_000 + i * 7).collect()
}

fn assignment(c: &mut Criterion) {
    let ts = times(10_000);
    let mut g = c.benchmark_group("windows/assign");
    g.throughput(Throughput::Elements(ts.len() as u64));
    let kinds = [
        (
            "tumbling_1m",
            WindowKind::Tumbling {
                size_ms: 60_000,
                offset_ms: 0,
            },
        ),
        (
            // Nexmark q5 in Beam: 10 s windows every 5 s (2 windows per element).
            "sliding_10s_every_5s",
            WindowKind::Sliding {
                size_ms: 10_000,
                period_ms: 5_000,
            },
        ),
        (
            // Nexmark q5 in the Flink port: 10 s every 2 s (5 windows per element).
            "sliding_10s_every_2s",
            WindowKind::Sliding {
                size_ms: 10_000,
                period_ms: 2_000,
            },
        ),
    ];
    for (name, kind) in kinds {
        let assigner = Assigner::new(&kind);
        g.bench_with_input(BenchmarkId::from_parameter(name), &ts, |b, ts| {
            b.iter(|| {
                let mut sum = 0i64;
                for &t in ts {
                    assigner.assign(black_box(t), |w| sum = sum.wrapping_add(w.start));
                }
                sum
            })
        });
    }
    g.finish();
}

/// Session merging as the window operator does it for one key: every element's
/// proto-session `[t, t + gap)` merges with the open sessions it overlaps.
fn session_merging(c: &mut Criterion) {
    let gap = 10_000;
    // Bursts of 20 elements 300 ms apart, bursts 15 s apart: sessions of 20 merges each,
    // with a few sessions open at a time, like Nexmark q11 for one bidder.
    let ts: Vec<i64> = (0..2_000i64)
        .map(|i| (i / 20) * 15_000 + (i % 20) * 300)
        .collect();
    let mut g = c.benchmark_group("windows/session_merge");
    g.throughput(Throughput::Elements(ts.len() as u64));
    for max in [None, Some(60_000)] {
        let name = if max.is_some() {
            "gap_10s_max_1m"
        } else {
            "gap_10s"
        };
        g.bench_with_input(BenchmarkId::from_parameter(name), &ts, |b, ts| {
            b.iter(|| {
                let mut open: Vec<Window> = Vec::new();
                for &t in ts {
                    let proto = Window {
                        start: t,
                        end: t + gap,
                    };
                    let (members, merged) = merge_with(open.iter().copied(), proto, max);
                    for i in members.into_iter().rev() {
                        open.swap_remove(i);
                    }
                    open.push(merged);
                    // Sessions the watermark (t − gap) has passed close, as they would fire.
                    open.retain(|w| w.end > t - gap);
                }
                black_box(open.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, assignment, session_merging);
