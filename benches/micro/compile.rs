//! Parse + check (+ lower) of a large generated `.pipe`: the front end's cost on a big
//! program, every pipeline a different mix of stages.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};

/// A program with `pipelines` pipelines over a few sources, sinks and a table.
pub fn large_program(pipelines: usize) -> String {
    let mut text = String::from(
        "source telemetry = sensors(devices: 100, rate: 1000, seed: 7) {\n  device_id: string\n  machine_id: string\n  temp: f64\n  vibration: f64\n  power: f64\n  ts: timestamp\n  event_time ts\n  watermark bounded 5s\n}\n\
         source raw = file(\"in/raw.jsonl\") {\n  device_id: string\n  temp: f64\n  ts: timestamp\n  event_time ts\n}\n\
         sink console = stdout()\n",
    );
    for i in 0..pipelines {
        text.push_str(&format!("sink out{i} = file(\"out/p{i}.jsonl\")\n"));
    }
    for i in 0..pipelines {
        let body = match i % 5 {
            0 => format!(
                "from telemetry\n  | where temp between -40.0 and {}.0 and vibration < 9.5\n  | key by device_id\n  | window tumbling 1m\n  | aggregate avg_temp = avg(temp), max_temp = max(temp), n = count()\n  | where max_temp > 75.0",
                100 + i
            ),
            1 => "from telemetry\n  | map hot = temp > 80.0, kw = power * 1.5, tag = concat(lower(machine_id), \"/\", device_id)\n  | select device_id, hot, kw, tag, ts".to_string(),
            2 => "from telemetry\n  | key by machine_id\n  | window sliding 10m every 1m\n  | aggregate p = sum(power), peak = max(vibration)".to_string(),
            3 => "from raw\n  | where temp > 30.0\n  | key by device_id\n  | window session gap 5m\n  | aggregate n = count(), avg_temp = avg(temp)".to_string(),
            _ => "from telemetry\n  | key by device_id\n  | window tumbling 10s\n      emit every 100 events\n      accumulate\n  | aggregate n = count(), lo = min(temp), hi = max(temp)".to_string(),
        };
        text.push_str(&format!("pipeline p{i} {{\n  {body}\n  | to out{i}\n}}\n"));
    }
    text
}

fn parse_and_check(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile/parse_check_lower");
    for pipelines in [10usize, 200] {
        let text = large_program(pipelines);
        // The benchmark must measure a program that compiles.
        if let Err(errors) = weir_dsl::compile("large.pipe", &text) {
            panic!(
                "the generated program does not compile:\n{}",
                weir_dsl::render(&errors, "large.pipe", &text, false)
            );
        }
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("pipelines", pipelines),
            &text,
            |b, text| {
                b.iter(|| weir_dsl::compile("large.pipe", text).map(|c| c.plan.pipelines.len()))
            },
        );
    }
    g.finish();
}

criterion_group!(benches, parse_and_check);
