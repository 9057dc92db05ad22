//! Oracle test for grouped alert notifications (`alert … group by … wait … interval …`):
//! random keyed streams go through an alert stage grouped by a site, and through a naive
//! reference that derives each key's fired/resolved events and then polls every group at
//! every millisecond (open, first send `wait` after opening, then a send on each tick of
//! `interval` that has news, resolved alerts dropped once sent, an empty group closed) —
//! on 1 and 4 workers, whatever the batch size.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::alert::group::{group_output_schema, GroupSpec};
use weir_engine::alert::{alert_output_schema, AlertSpec, Level, LevelRule, Piece, Template};
use weir_engine::plan::*;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{one_pipeline, run_memory, shuffle_within};

const BOUND: i64 = 50;
const CRITICAL: i64 = 80;

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("k", Type::Int),
        Field::new("site", Type::Int),
        Field::new("ts", Type::Timestamp),
        Field::new("v", Type::Int),
    ])
}

fn field(slot: usize, name: &str) -> Expr {
    Expr::Field {
        slot,
        name: name.into(),
    }
}

fn spec(wait_ms: i64, interval_ms: i64) -> AlertSpec {
    let input = schema();
    let alerts = alert_output_schema(&input);
    let mut message = Template::parse("{alert.id} is {alert.level}").expect("template");
    for (name, slot, _) in message.fields_mut() {
        *slot = alerts.slot(name).expect("alert field");
    }
    AlertSpec {
        name: "hot".into(),
        keys: vec![0],
        levels: vec![LevelRule {
            level: Level::Critical,
            when: Expr::Binary(
                BinaryOp::Gt,
                Box::new(field(3, "v")),
                Box::new(Expr::Literal(Value::Int(CRITICAL))),
            ),
            resolve: None,
        }],
        resolve: None,
        id: Template {
            pieces: vec![
                Piece::Text("hot:".into()),
                Piece::Field {
                    name: "k".into(),
                    slot: 0,
                    precision: None,
                    offset: 0,
                },
            ],
        },
        message,
        for_ms: 0,
        keep_firing_ms: 0,
        repeat_ms: None,
        recoveries: true,
        flapping: None,
        deadman_ms: None,
        silences: None,
        group: Some(GroupSpec {
            name: "hot".into(),
            by: vec![1],
            input_width: input.fields.len(),
            wait_ms,
            interval_ms,
        }),
    }
}

fn plan(wait_ms: i64, interval_ms: i64) -> LogicalPlan {
    let spec = spec(wait_ms, interval_ms);
    let alerts = alert_output_schema(&schema());
    let group = spec.group.clone().expect("grouped");
    let groups = group_output_schema(&group, &alerts);
    let stages = vec![
        Stage::KeyBy {
            keys: vec![0],
            names: vec!["k".into()],
        },
        Stage::Alert {
            spec,
            schema: alerts,
        },
        Stage::AlertGroup {
            spec: group,
            schema: groups,
        },
        Stage::Sink { sink: "out".into() },
    ];
    one_pipeline(schema(), BOUND, stages)
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Time(i) => *i,
        _ => unreachable!(),
    }
}

/// `n` records with increasing times, keys 0..`keys` on `sites` sites (site = k % sites),
/// values moving in steps around the threshold, shuffled within the watermark bound.
fn records(seed: u64, n: usize, max_step: i64, keys: i64, sites: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut t = 1_000_000i64;
    let mut value: BTreeMap<i64, i64> = BTreeMap::new();
    let mut recs: Vec<Record> = (0..n)
        .map(|_| {
            t += rng.gen_range(0..=max_step);
            let k = rng.gen_range(0..keys);
            let v = value.entry(k).or_insert(70);
            *v = (*v + rng.gen_range(-15..=15)).clamp(50, 110);
            vec![
                Value::Int(k),
                Value::Int(k % sites),
                Value::Time(t),
                Value::Int(*v),
            ]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// One key's alert event: (time, site, id, firing).
type KeyEvent = (i64, i64, String, bool);

/// Each key fires on a record above the line and resolves on one at or under it.
fn key_events(input: &[Record]) -> Vec<KeyEvent> {
    let mut sorted: Vec<&Record> = input.iter().collect();
    sorted.sort_by_key(|r| (int(&r[2]), int(&r[0]), int(&r[3])));
    let mut firing: BTreeMap<i64, bool> = BTreeMap::new();
    let mut out = Vec::new();
    for r in sorted {
        let (k, site, t, v) = (int(&r[0]), int(&r[1]), int(&r[2]), int(&r[3]));
        let was = firing.entry(k).or_insert(false);
        if (v > CRITICAL) != *was {
            *was = v > CRITICAL;
            out.push((t, site, format!("hot:{k}"), *was));
        }
    }
    out
}

/// The notifications, polling each group at every millisecond.
fn oracle(input: &[Record], wait: i64, interval: i64) -> Vec<(i64, Record)> {
    let mut by_site: BTreeMap<i64, Vec<KeyEvent>> = BTreeMap::new();
    for e in key_events(input) {
        by_site.entry(e.1).or_default().push(e);
    }
    let mut out = Vec::new();
    for (site, events) in by_site {
        let mut members: BTreeMap<String, bool> = BTreeMap::new();
        let (mut opened, mut first_send, mut dirty) = (None::<i64>, None::<i64>, false);
        let end = events.last().map_or(0, |e| e.0) + wait + interval;
        let mut next = 0;
        for t in events[0].0..=end {
            while next < events.len() && events[next].0 == t {
                members.insert(events[next].2.clone(), events[next].3);
                dirty = true;
                opened.get_or_insert(t);
                next += 1;
            }
            let Some(open) = opened else { continue };
            let due = match first_send {
                None => t == open + wait,
                Some(f) => t > f && (t - f) % interval == 0,
            };
            if !due {
                continue;
            }
            if dirty {
                out.push((t, notification(site, &members, t)));
            }
            first_send.get_or_insert(t);
            dirty = false;
            members.retain(|_, firing| *firing);
            if members.is_empty() {
                (opened, first_send) = (None, None);
            }
        }
    }
    out.sort_by(cmp);
    out
}

fn notification(site: i64, members: &BTreeMap<String, bool>, t: i64) -> Record {
    let firing: Vec<&String> = members.iter().filter(|m| *m.1).map(|m| m.0).collect();
    let resolved: Vec<&String> = members.iter().filter(|m| !*m.1).map(|m| m.0).collect();
    let listed: Vec<&String> = firing.iter().chain(&resolved).copied().collect();
    let messages: Vec<String> = listed
        .iter()
        .map(|id| {
            let level = if members[*id] { "critical" } else { "ok" };
            format!("{id} is {level}")
        })
        .collect();
    let ids: Vec<&str> = listed.iter().map(|s| s.as_str()).collect();
    let any = !firing.is_empty();
    vec![
        Value::Int(site),
        Value::str(&format!("hot:{site}")),
        Value::str(if any { "firing" } else { "resolved" }),
        Value::str(if any { "critical" } else { "ok" }),
        Value::Int(firing.len() as i64),
        Value::Int(resolved.len() as i64),
        Value::str(&ids.join(", ")),
        Value::Time(t),
        Value::str(&messages.join("\n")),
    ]
}

fn cmp(a: &(i64, Record), b: &(i64, Record)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then_with(|| {
        a.1.iter()
            .zip(&b.1)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

fn engine(
    input: &[Record],
    wait: i64,
    interval: i64,
    batch: usize,
    workers: usize,
) -> Vec<(i64, Record)> {
    let connectors = MemoryConnectors::new(batch).with_source("in", input.to_vec());
    let (_, out) = run_memory(plan(wait, interval), connectors, workers);
    let mut out: Vec<(i64, Record)> = out.into_iter().map(|e| (e.time, e.record)).collect();
    out.sort_by(cmp);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn grouped_alerts_match_naive_polling_oracle_on_1_and_4_workers(
        seed in 0u64..1_000_000,
        n in 1usize..400,
        max_step in prop::sample::select(vec![1i64, 5, 20]),
        keys in prop::sample::select(vec![1i64, 6, 30]),
        sites in prop::sample::select(vec![1i64, 3]),
        wait in prop::sample::select(vec![0i64, 30, 200]),
        interval in prop::sample::select(vec![1i64, 50, 300]),
        batch in 1usize..100,
    ) {
        let input = records(seed, n, max_step, keys, sites);
        let expected = oracle(&input, wait, interval);
        for workers in [1, 4] {
            let got = engine(&input, wait, interval, batch, workers);
            prop_assert!(got == expected, "{} workers: {} vs {} notifications\n got {:?}\n expected {:?}",
                workers, got.len(), expected.len(), got.first(), expected.first());
        }
    }
}

#[test]
fn many_keys_of_one_site_make_one_notification() {
    // Ten keys of one site above the line within the wait: one notification naming all.
    let input: Vec<Record> = (0..10)
        .map(|k| {
            vec![
                Value::Int(k),
                Value::Int(0),
                Value::Time(1_000 + k),
                Value::Int(95),
            ]
        })
        .collect();
    let got = engine(&input, 30, 300, 3, 4);
    assert_eq!(got, oracle(&input, 30, 300));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 1_030);
    assert_eq!(got[0].1[4], Value::Int(10));
}
