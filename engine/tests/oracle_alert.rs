//! Oracle test for `alert`: random keyed, out-of-order streams (disorder within the
//! watermark bound) through the alert stage and through a naive reference that polls
//! every key's state machine at every millisecond instead of scheduling timers — levels
//! with hysteresis, `for`, `keep firing for`, `repeat every`, `no recoveries`, flapping and
//! deadman — on 1 and 4 workers, whatever the batch size.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use weir_engine::alert::{
    alert_output_schema, AlertSpec, FlappingSpec, Level, LevelRule, Piece, Template,
};
use weir_engine::plan::*;
use weir_engine::schema::{Field, Schema, Type};
use weir_engine::testing::MemoryConnectors;
use weir_engine::value::{Record, Value};

mod support;
use support::{one_pipeline, run_memory, shuffle_within, time};

const BOUND: i64 = 50;

fn schema() -> Schema {
    Schema::new(vec![
        Field::nullable("k", Type::Int),
        Field::new("v", Type::Int),
        Field::new("ts", Type::Timestamp),
    ])
}

/// The rules under test, drawn at random.
#[derive(Clone, Debug)]
struct Case {
    critical: i64,
    warning: i64,
    /// Stage-wide `resolve when v < x`, and a critical-only one.
    resolve: Option<i64>,
    critical_resolve: Option<i64>,
    for_ms: i64,
    keep_ms: i64,
    repeat_ms: Option<i64>,
    recoveries: bool,
    flapping: Option<FlappingSpec>,
    deadman_ms: Option<i64>,
}

fn gt(threshold: i64) -> Expr {
    Expr::Binary(
        BinaryOp::Gt,
        Box::new(Expr::Field {
            slot: 1,
            name: "v".into(),
        }),
        Box::new(Expr::Literal(Value::Int(threshold))),
    )
}

fn lt(threshold: i64) -> Expr {
    Expr::Binary(
        BinaryOp::Lt,
        Box::new(Expr::Field {
            slot: 1,
            name: "v".into(),
        }),
        Box::new(Expr::Literal(Value::Int(threshold))),
    )
}

fn spec(c: &Case) -> AlertSpec {
    let field = |name: &str, slot: usize| Piece::Field {
        name: name.into(),
        slot,
        precision: None,
        offset: 0,
    };
    AlertSpec {
        name: "a".into(),
        keys: vec![0],
        levels: vec![
            LevelRule {
                level: Level::Critical,
                when: gt(c.critical),
                resolve: c.critical_resolve.map(lt),
            },
            LevelRule {
                level: Level::Warning,
                when: gt(c.warning),
                resolve: None,
            },
        ],
        resolve: c.resolve.map(lt),
        id: Template {
            pieces: vec![Piece::Text("a:".into()), field("k", 0)],
        },
        // "{alert.id} {alert.level} {v}" over the output record.
        message: Template {
            pieces: vec![
                field("alert.id", 3),
                Piece::Text(" ".into()),
                field("alert.level", 6),
                Piece::Text(" ".into()),
                field("v", 1),
            ],
        },
        for_ms: c.for_ms,
        keep_firing_ms: c.keep_ms,
        repeat_ms: c.repeat_ms,
        recoveries: c.recoveries,
        flapping: c.flapping,
        deadman_ms: c.deadman_ms,
        group: None,
        silences: None,
    }
}

fn plan(c: &Case) -> LogicalPlan {
    let alert = Stage::Alert {
        spec: spec(c),
        schema: alert_output_schema(&schema()),
    };
    one_pipeline(
        schema(),
        BOUND,
        vec![alert, Stage::Sink { sink: "out".into() }],
    )
}

/// `n` records with increasing times, keys in 0..`keys` (one in twenty null), values
/// 0..100 moving in steps so levels persist, shuffled within the watermark bound.
fn records(seed: u64, n: usize, max_step: i64, keys: i64) -> Vec<Record> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut t = 1_000_000i64;
    let mut value: BTreeMap<i64, i64> = BTreeMap::new();
    let mut recs: Vec<Record> = (0..n)
        .map(|_| {
            t += rng.gen_range(0..=max_step);
            let k = rng.gen_range(0..keys);
            let v = value.entry(k).or_insert(50);
            *v = (*v + rng.gen_range(-30..=30)).clamp(0, 100);
            let key = if rng.gen_ratio(1, 20) {
                Value::Null
            } else {
                Value::Int(k)
            };
            vec![key, Value::Int(*v), Value::Time(t)]
        })
        .collect();
    shuffle_within(&mut recs, BOUND, &mut rng);
    recs
}

/// The reference: one naive machine per key, polled at every millisecond.
struct Naive<'c> {
    c: &'c Case,
    level: Level,
    since: Option<i64>,
    /// (level, started_at, last_sent, cleared_at, id) while firing.
    firing: Option<(Level, i64, i64, Option<i64>, String)>,
    dead: Option<i64>,
    last_seen: i64,
    last: Record,
    history: Vec<Level>,
    flapping: bool,
    held: bool,
    told: Level,
    episode: (String, i64),
}

fn value(r: &Record) -> i64 {
    match r[1] {
        Value::Int(v) => v,
        _ => unreachable!(),
    }
}

impl Naive<'_> {
    fn raw(&self, v: i64) -> Level {
        if v > self.c.critical {
            Level::Critical
        } else if v > self.c.warning {
            Level::Warning
        } else {
            Level::Ok
        }
    }

    fn record(&mut self, t: i64, r: &Record, out: &mut Vec<(i64, Record)>) {
        self.last_seen = t;
        self.last = r.clone();
        if let Some(start) = self.dead.take() {
            if self.c.recoveries {
                let id = format!("{}/deadman", self.id());
                out.push(self.emit(
                    t,
                    &id,
                    "deadman",
                    "resolved",
                    Level::Ok,
                    Level::Critical,
                    start,
                ));
            }
        }
        let v = value(r);
        let raw = self.raw(v);
        let reset = match (self.level, self.c.critical_resolve, self.c.resolve) {
            (Level::Critical, Some(x), _) => Some(x),
            (_, _, x) => x,
        };
        if raw >= self.level || reset.is_none_or(|x| v < x) {
            self.level = raw;
        }
        let was = self.flapping;
        if let Some(f) = self.c.flapping {
            self.history.push(self.level);
            self.flapping = flapping_now(&self.history, &f, was);
        }
        let mut notes = Vec::new();
        if self.level != Level::Ok {
            let since = *self.since.get_or_insert(t);
            if let Some(f) = self.firing.as_mut() {
                f.3 = None;
                if f.0 != self.level {
                    let prev = f.0;
                    f.0 = self.level;
                    f.2 = t;
                    notes.push(("changed", self.level, prev, f.1, f.4.clone()));
                }
            } else if t - since >= self.c.for_ms {
                self.fire(t, &mut notes);
            }
        } else {
            self.since = None;
            if let Some(f) = self.firing.as_mut() {
                if self.c.keep_ms == 0 {
                    self.resolve(t, &mut notes);
                } else if f.3.is_none() {
                    f.3 = Some(t);
                }
            }
        }
        self.tell(t, notes, out);
        if was && !self.flapping && std::mem::take(&mut self.held) {
            let now = self.firing.as_ref().map_or(Level::Ok, |f| f.0);
            if now != self.told {
                let prev = self.told;
                self.told = now;
                match &self.firing {
                    Some(f) => {
                        let ev = if prev == Level::Ok {
                            "fired"
                        } else {
                            "changed"
                        };
                        out.push(self.emit(t, &f.4, "condition", ev, now, prev, f.1));
                    }
                    None if self.c.recoveries => {
                        let (id, start) = self.episode.clone();
                        out.push(self.emit(
                            t,
                            &id,
                            "condition",
                            "resolved",
                            Level::Ok,
                            prev,
                            start,
                        ));
                    }
                    None => {}
                }
            }
        }
    }

    fn poll(&mut self, t: i64, out: &mut Vec<(i64, Record)>) {
        let mut notes = Vec::new();
        if let Some(cleared) = self.firing.as_ref().and_then(|f| f.3) {
            if t >= cleared + self.c.keep_ms {
                self.resolve(t, &mut notes);
            }
        }
        if self.firing.is_none() && self.level != Level::Ok {
            if let Some(since) = self.since {
                if t >= since + self.c.for_ms {
                    self.fire(t, &mut notes);
                }
            }
        }
        if let (Some(f), Some(every)) = (self.firing.as_mut(), self.c.repeat_ms) {
            if t >= f.2 + every {
                f.2 = t;
                notes.push(("repeated", f.0, f.0, f.1, f.4.clone()));
            }
        }
        self.tell(t, notes, out);
        if let Some(d) = self.c.deadman_ms {
            if self.dead.is_none() && t >= self.last_seen + d {
                self.dead = Some(self.last_seen);
                let id = format!("{}/deadman", self.id());
                out.push(self.emit(
                    t,
                    &id,
                    "deadman",
                    "fired",
                    Level::Critical,
                    Level::Ok,
                    self.last_seen,
                ));
            }
        }
    }

    fn id(&self) -> String {
        match &self.last[0] {
            Value::Int(k) => format!("a:{k}"),
            _ => "a:null".into(),
        }
    }

    fn fire(&mut self, t: i64, notes: &mut Vec<Note>) {
        let start = self.since.unwrap_or(t);
        let id = self.id();
        self.episode = (id.clone(), start);
        self.firing = Some((self.level, start, t, None, id.clone()));
        notes.push(("fired", self.level, Level::Ok, start, id));
    }

    fn resolve(&mut self, _t: i64, notes: &mut Vec<Note>) {
        self.since = None;
        if let Some(f) = self.firing.take() {
            notes.push(("resolved", Level::Ok, f.0, f.1, f.4));
        }
    }

    fn tell(&mut self, t: i64, notes: Vec<Note>, out: &mut Vec<(i64, Record)>) {
        for (ev, level, prev, start, id) in notes {
            if self.flapping {
                self.held = true;
                continue;
            }
            self.told = level;
            if ev != "resolved" || self.c.recoveries {
                out.push(self.emit(t, &id, "condition", ev, level, prev, start));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        t: i64,
        id: &str,
        kind: &str,
        ev: &str,
        level: Level,
        prev: Level,
        start: i64,
    ) -> (i64, Record) {
        let mut r = self.last.clone();
        let state = if ev == "resolved" {
            "resolved"
        } else {
            "firing"
        };
        r.extend([
            Value::str(id),
            Value::str(kind),
            Value::str(ev),
            Value::str(level.name()),
            Value::str(prev.name()),
            Value::str(state),
            Value::Time(start),
            Value::Time(t),
            Value::Duration(t - start),
        ]);
        let message = format!("{id} {} {}", level.name(), value(&self.last));
        r.push(Value::str(&message));
        (t, r)
    }
}

type Note = (&'static str, Level, Level, i64, String);

/// Kapacitor's weighted share of changes over the last `history` levels (OK before the
/// first), recomputed from scratch.
fn flapping_now(levels: &[Level], f: &FlappingSpec, was: bool) -> bool {
    let n = f.history;
    let mut window: Vec<Level> = vec![Level::Ok; n.saturating_sub(levels.len())];
    window.extend(levels.iter().rev().take(n).rev());
    let mut changes = 0.0;
    for i in 0..n - 1 {
        if window[i] != window[i + 1] {
            changes += if n > 2 {
                0.8 + 0.4 * i as f64 / (n - 2) as f64
            } else {
                1.0
            };
        }
    }
    let share = changes / (n - 1) as f64;
    if was {
        share >= f.low
    } else {
        share > f.high
    }
}

fn oracle(c: &Case, input: &[Record]) -> Vec<(i64, Record)> {
    let mut sorted: Vec<&Record> = input.iter().collect();
    sorted.sort_by(|a, b| time(a).cmp(&time(b)).then(value(a).cmp(&value(b))));
    let last_time = sorted.last().map_or(0, |r| time(r));
    let mut by_key: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in sorted {
        by_key.entry(format!("{:?}", r[0])).or_default().push(r);
    }
    let mut out = Vec::new();
    for recs in by_key.values() {
        let first = time(recs[0]);
        let mut m = Naive {
            c,
            level: Level::Ok,
            since: None,
            firing: None,
            dead: None,
            last_seen: first,
            last: recs[0].clone(),
            history: Vec::new(),
            flapping: false,
            held: false,
            told: Level::Ok,
            episode: (String::new(), first),
        };
        let mut next = 0;
        // Timers at or after the last record never fire: the input ended before the
        // watermark passed them.
        for t in first..=last_time {
            while next < recs.len() && time(recs[next]) == t {
                m.record(t, recs[next], &mut out);
                next += 1;
            }
            if t < last_time {
                m.poll(t, &mut out);
            }
        }
    }
    out.sort_by(cmp);
    out
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

/// Where two sorted alert streams part, for a readable failure.
fn first_difference(got: &[(i64, Record)], expected: &[(i64, Record)]) -> String {
    let at = got
        .iter()
        .zip(expected)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(expected.len()));
    format!(
        "{} alerts, expected {}; first difference at {at}:\n  got      {:?}\n  expected {:?}",
        got.len(),
        expected.len(),
        got.get(at),
        expected.get(at)
    )
}

fn engine(c: &Case, input: &[Record], batch: usize, workers: usize) -> Vec<(i64, Record)> {
    let connectors = MemoryConnectors::new(batch).with_source("in", input.to_vec());
    let (_, out) = run_memory(plan(c), connectors, workers);
    let mut out: Vec<(i64, Record)> = out.into_iter().map(|e| (e.time, e.record)).collect();
    out.sort_by(cmp);
    out
}

fn case() -> impl Strategy<Value = Case> {
    (
        (60i64..90, 30i64..60),
        prop::option::of(10i64..50),
        prop::option::of(40i64..70),
        prop::sample::select(vec![0i64, 5, 30, 120]),
        prop::sample::select(vec![0i64, 10, 60]),
        prop::option::of(prop::sample::select(vec![25i64, 200])),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            (0.2, 0.5, 6usize),
            (0.25, 0.6, 21),
        ])),
        prop::option::of(prop::sample::select(vec![80i64, 400])),
    )
        .prop_map(
            |(
                (critical, warning),
                resolve,
                cr,
                for_ms,
                keep_ms,
                repeat_ms,
                recoveries,
                flap,
                deadman_ms,
            )| Case {
                critical,
                warning,
                resolve,
                critical_resolve: cr,
                for_ms,
                keep_ms,
                repeat_ms,
                recoveries,
                flapping: flap.map(|(low, high, history)| FlappingSpec { low, high, history }),
                deadman_ms,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn alert_matches_naive_polling_oracle_on_1_and_4_workers(
        seed in 0u64..1_000_000,
        n in 1usize..500,
        max_step in prop::sample::select(vec![1i64, 5, 20]),
        keys in prop::sample::select(vec![1i64, 4, 30]),
        c in case(),
        batch in 1usize..100,
    ) {
        let input = records(seed, n, max_step, keys);
        let expected = oracle(&c, &input);
        for workers in [1, 4] {
            let got = engine(&c, &input, batch, workers);
            prop_assert!(got == expected, "{} workers, {:?}: {}", workers, c, first_difference(&got, &expected));
        }
    }
}

#[test]
fn alert_oracle_sees_episodes_not_records() {
    // A key above the line for a long stretch: one fired, one resolved, whatever the
    // number of records in between (the 107 messages for 8 devices).
    let c = Case {
        critical: 80,
        warning: 90,
        resolve: None,
        critical_resolve: None,
        for_ms: 0,
        keep_ms: 0,
        repeat_ms: None,
        recoveries: true,
        flapping: None,
        deadman_ms: None,
    };
    let mut input: Vec<Record> = (0..100)
        .map(|i| vec![Value::Int(1), Value::Int(85), Value::Time(1_000 + i)])
        .collect();
    input.push(vec![Value::Int(1), Value::Int(10), Value::Time(1_200)]);
    let got = engine(&c, &input, 7, 4);
    let events: Vec<String> = got.iter().map(|(_, r)| r[5].to_string()).collect();
    assert_eq!(events, ["\"fired\"", "\"resolved\""]);
    assert_eq!(got, oracle(&c, &input));
}
