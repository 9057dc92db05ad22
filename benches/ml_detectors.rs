//! Updates per second of every streaming detector and of the Holt-Winters forecaster, on
//! one key (the per-key cost: keys only multiply state, see docs/ml.md), and rows per
//! second of ONNX inference in batches of 1024 and one row at a time (with `--features
//! onnx`). Run: `cargo bench --bench ml_detectors [--features onnx]`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use weir_engine::ml::{
    ArtimeParams, CadOseParams, ContextualParams, DetectorSpec, HoltWinters, HoltWintersParams,
    RcfParams, SpikeDipParams, ZscoreParams,
};

/// Values per measured iteration.
const N: usize = 10_000;

/// A daily-cycle sensor series with noise and a spike every 997 values.
fn series() -> Vec<f64> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
    (0..N)
        .map(|i| {
            let base = 60.0 + 5.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin();
            let spike = if i % 997 == 0 { 25.0 } else { 0.0 };
            base + rng.gen_range(-0.5..0.5) + spike
        })
        .collect()
}

fn detectors(c: &mut Criterion) {
    let values = series();
    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Elements(N as u64));
    let specs = [
        DetectorSpec::Zscore(ZscoreParams::default()),
        DetectorSpec::SpikeDip(SpikeDipParams::default()),
        DetectorSpec::Rcf(RcfParams::default()),
        DetectorSpec::Contextual(ContextualParams::default()),
        DetectorSpec::CadOse(CadOseParams::default()),
        DetectorSpec::Artime(ArtimeParams::default()),
    ];
    for spec in specs {
        group.bench_with_input(
            BenchmarkId::from_parameter(spec.name()),
            &spec,
            |b, spec| {
                b.iter(|| {
                    // A fresh detector each iteration: warm-up included, as a key's life is.
                    let mut detector = spec.build();
                    let mut flagged = 0usize;
                    for &x in &values {
                        flagged += usize::from(detector.update(x).is_anomaly);
                    }
                    black_box(flagged)
                });
            },
        );
    }
    group.finish();
}

fn forecast(c: &mut Criterion) {
    let values = series();
    let mut group = c.benchmark_group("forecast");
    group.throughput(Throughput::Elements(N as u64));
    // One value per 5-minute step, a 1-day season: 288 steps.
    let params = HoltWintersParams {
        season_ms: 86_400_000,
        every_ms: 300_000,
        horizon_ms: 3_600_000,
        alpha: 0.3,
        beta: 0.05,
        gamma: 0.2,
        confidence: 0.95,
        damping: 1.0,
    };
    for damping in [1.0, 0.98] {
        let params = HoltWintersParams {
            damping,
            ..params.clone()
        };
        group.bench_function(params.model(), |b| {
            b.iter(|| {
                let mut model = HoltWinters::new(params.clone());
                let mut sum = 0.0;
                for (i, &x) in values.iter().enumerate() {
                    if let Some(f) = model.update(i as i64 * 300_000, x) {
                        sum += f.value;
                    }
                }
                black_box(sum)
            });
        });
    }
    group.finish();
}

#[cfg(feature = "onnx")]
fn infer(c: &mut Criterion) {
    use weir_engine::ml::ElemType;
    use weir_engine::plan::ModelNode;

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let node = ModelNode {
        name: "power".into(),
        format: "onnx".into(),
        path: "examples/models/power.onnx".into(),
        inputs: vec![
            ("temp".into(), ElemType::F32),
            ("vibration".into(), ElemType::F32),
        ],
        outputs: vec![
            ("power".into(), ElemType::F32),
            ("fault".into(), ElemType::F32),
        ],
    };
    let model = weir_runtime::model::load(&node, &root.join(&node.path)).expect("model loads");
    let values = series();
    let mut group = c.benchmark_group("infer");
    for batch in [1usize, 1024] {
        let rows = if batch == 1 { 1_000 } else { N };
        group.throughput(Throughput::Elements(rows as u64));
        let temp: Vec<f64> = values[..rows].to_vec();
        let vibration: Vec<f64> = values[..rows].iter().map(|v| v / 20.0).collect();
        group.bench_function(BenchmarkId::new("power_onnx_batch", batch), |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for start in (0..rows).step_by(batch) {
                    let end = (start + batch).min(rows);
                    let inputs = [temp[start..end].to_vec(), vibration[start..end].to_vec()];
                    let out = model.infer(end - start, &inputs).expect("runs");
                    sum += out[0].iter().sum::<f64>();
                }
                black_box(sum)
            });
        });
    }
    group.finish();
}

#[cfg(not(feature = "onnx"))]
fn infer(_: &mut Criterion) {
    println!("infer: skipped (build with `--features onnx` to measure ONNX inference)");
}

criterion_group!(benches, detectors, forecast, infer);
criterion_main!(benches);
