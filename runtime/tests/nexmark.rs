//! The Nexmark queries of `benches/nexmark/` run by the real `weir` binary on a small
//! generated stream, on 1 and on 3 workers, and compared exactly with the naive oracles
//! of `weir_nexmark::oracle` over the same events. Every query file also checks clean
//! and its `test` blocks pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use weir_engine::time::parse_timestamp;
use weir_nexmark::{oracle, Event, Generator, NexmarkConfig};

/// The stream every query reads here: 50 s of event time (10 windows of 10 s).
const EVENTS: u64 = 50_000;
const RATE: u64 = 1_000;
const SEED: u64 = 7;
/// What the query files say, and what the test puts instead.
const AS_WRITTEN: &str = "events: 10M, rate: 10k, seed: 0";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ has a parent")
        .to_path_buf()
}

fn query_file(query: &str) -> PathBuf {
    repo_root()
        .join("benches/nexmark")
        .join(format!("{query}.pipe"))
}

fn weir(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("weir starts")
}

fn events() -> Vec<Event> {
    let config = NexmarkConfig {
        events: EVENTS,
        rate: RATE,
        seed: SEED,
        ..NexmarkConfig::default()
    };
    let g = Generator::new(&config);
    (0..EVENTS).map(|n| g.event(n)).collect()
}

/// Runs `query` on `workers` workers over the test stream; the lines of each of its
/// `sinks` (file names under `out/`).
fn run(query: &str, workers: usize, sinks: &[&str]) -> Vec<Vec<Json>> {
    let text = std::fs::read_to_string(query_file(query)).expect("query file");
    assert!(
        text.contains(AS_WRITTEN),
        "{query}.pipe reads `{AS_WRITTEN}`"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let small = text.replace(
        AS_WRITTEN,
        &format!("events: {EVENTS}, rate: {RATE}, seed: {SEED}"),
    );
    std::fs::write(dir.path().join("q.pipe"), small).expect("write query");
    let out = weir(
        &["run", "q.pipe", "--workers", &workers.to_string()],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{query} on {workers}: {stderr}");
    assert!(
        !stderr.contains("late"),
        "{query} on {workers}: nothing is late: {stderr}"
    );
    sinks
        .iter()
        .map(|sink| {
            std::fs::read_to_string(dir.path().join("out").join(sink))
                .unwrap_or_else(|e| panic!("{query}: {sink}: {e}"))
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect()
        })
        .collect()
}

fn int(record: &Json, field: &str) -> i64 {
    record[field]
        .as_i64()
        .unwrap_or_else(|| panic!("`{field}` is an integer in {record}"))
}

fn time(record: &Json, field: &str) -> i64 {
    record[field]
        .as_str()
        .and_then(parse_timestamp)
        .unwrap_or_else(|| panic!("`{field}` is a timestamp in {record}"))
}

fn text(record: &Json, field: &str) -> String {
    record[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is a string in {record}"))
        .to_string()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

const WORKERS: [usize; 2] = [1, 3];

#[test]
fn q0_passes_every_bid_through() {
    let events = events();
    let expected: Vec<_> = sorted(
        oracle::q0(&events)
            .into_iter()
            .map(|b| {
                let (channel, url, extra) = (
                    b.channel.to_string(),
                    b.url.to_string(),
                    b.extra.to_string(),
                );
                (
                    b.date_time,
                    b.auction,
                    b.bidder,
                    b.price,
                    channel,
                    url,
                    extra,
                )
            })
            .collect(),
    );
    assert_eq!(expected.len(), 46_000);
    for workers in WORKERS {
        let [out] = &run("q0", workers, &["nexmark_q0.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    let (channel, url, extra) =
                        (text(r, "channel"), text(r, "url"), text(r, "extra"));
                    (
                        time(r, "date_time"),
                        int(r, "auction"),
                        int(r, "bidder"),
                        int(r, "price"),
                        channel,
                        url,
                        extra,
                    )
                })
                .collect(),
        );
        assert!(
            got == expected,
            "q0 on {workers} workers differs from the oracle"
        );
    }
}

#[test]
fn q1_converts_every_price() {
    let events = events();
    let expected = sorted(
        oracle::q1(&events)
            .into_iter()
            .map(|b| (b.date_time, b.auction, b.bidder, b.price))
            .collect(),
    );
    for workers in WORKERS {
        let [out] = &run("q1", workers, &["nexmark_q1.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        time(r, "date_time"),
                        int(r, "auction"),
                        int(r, "bidder"),
                        int(r, "price"),
                    )
                })
                .collect(),
        );
        assert!(
            got == expected,
            "q1 on {workers} workers differs from the oracle"
        );
    }
}

#[test]
fn q2_selects_the_bids_on_every_123rd_auction() {
    let expected = oracle::q2(&events());
    assert!(
        expected.len() > 100,
        "the test stream exercises q2: {}",
        expected.len()
    );
    for workers in WORKERS {
        let [out] = &run("q2", workers, &["nexmark_q2.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| (int(r, "auction"), int(r, "price")))
                .collect(),
        );
        assert_eq!(got, expected, "q2 on {workers} workers");
    }
}

#[test]
fn q5_counts_bids_per_auction_and_window_and_finds_the_maximum() {
    let events = events();
    let counts = oracle::q5_counts(&events);
    let hot = oracle::q5(&events);
    // The engine's `out`: per window, the largest count and how many auctions had bids.
    let mut expected_max: Vec<(i64, i64, i64, i64)> = Vec::new();
    for c in &counts {
        match expected_max.last_mut() {
            Some(w) if w.0 == c.start => {
                w.2 = w.2.max(c.bids as i64);
                w.3 += 1;
            }
            _ => expected_max.push((c.start, c.end, c.bids as i64, 1)),
        }
    }
    // Delayed early bids reach back to −3 s: windows start at −10 s, −5 s, … 45 s.
    assert_eq!(expected_max.len(), 12);
    // The oracle's hot items are exactly the auctions at each window's maximum.
    for h in &hot {
        let w = expected_max
            .iter()
            .find(|w| w.0 == h.start)
            .expect("window");
        assert_eq!(h.bids as i64, w.2);
    }
    let expected_counts = sorted(
        counts
            .iter()
            .map(|c| (c.start, c.end, c.auction, c.bids as i64))
            .collect(),
    );
    for workers in WORKERS {
        let [out, by_auction] = &run(
            "q5",
            workers,
            &["nexmark_q5.jsonl", "nexmark_q5_counts.jsonl"],
        )[..] else {
            unreachable!()
        };
        let got = sorted(
            by_auction
                .iter()
                .map(|r| {
                    (
                        time(r, "starts"),
                        time(r, "ends"),
                        int(r, "auction"),
                        int(r, "bids"),
                    )
                })
                .collect(),
        );
        assert!(
            got == expected_counts,
            "q5 counts on {workers} workers differ from the oracle"
        );
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        time(r, "starts"),
                        time(r, "ends"),
                        int(r, "max_bids"),
                        int(r, "auctions"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected_max, "q5 on {workers} workers");
    }
}

#[test]
fn q7_finds_the_highest_price_per_window() {
    let events = events();
    let expected: Vec<_> = oracle::q7_max(&events)
        .into_iter()
        .map(|w| (w.start, w.end, w.max_price, w.bids as i64))
        .collect();
    // Every maximum is the price of a bid of Beam's answer in that window.
    let winners = oracle::q7(&events);
    for w in &expected {
        assert!(winners
            .iter()
            .any(|b| b.price == w.2 && (w.0..w.1).contains(&b.date_time)));
    }
    for workers in WORKERS {
        let [out] = &run("q7", workers, &["nexmark_q7.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        time(r, "starts"),
                        time(r, "ends"),
                        int(r, "max_price"),
                        int(r, "bids"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected, "q7 on {workers} workers");
    }
}

#[test]
fn q11_counts_bids_per_bidder_session() {
    let expected: Vec<_> = oracle::q11(&events())
        .into_iter()
        .map(|s| (s.bidder, s.start, s.end, s.bids as i64))
        .collect();
    // Hot bidders bid all the time; others once or twice: both kinds of session occur.
    assert!(expected.iter().any(|s| s.3 > 100) && expected.iter().any(|s| s.3 == 1));
    for workers in WORKERS {
        let [out] = &run("q11", workers, &["nexmark_q11.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "bidder"),
                        time(r, "starts"),
                        time(r, "ends"),
                        int(r, "bids"),
                    )
                })
                .collect(),
        );
        assert!(
            got == expected,
            "q11 on {workers} workers differs from the oracle"
        );
    }
}

#[test]
fn q12_panes_add_up_to_every_bidders_bids() {
    let expected: Vec<_> = oracle::q12_totals(&events())
        .into_iter()
        .map(|(bidder, bids)| (bidder, bids as i64))
        .collect();
    for workers in WORKERS {
        let [out] = &run("q12", workers, &["nexmark_q12.jsonl"])[..] else {
            unreachable!()
        };
        let mut totals = std::collections::BTreeMap::new();
        for r in out {
            *totals.entry(int(r, "bidder")).or_insert(0) += int(r, "bids");
        }
        let got: Vec<_> = totals.into_iter().collect();
        assert_eq!(got, expected, "q12 on {workers} workers");
    }
}

#[test]
fn every_query_checks_clean_and_passes_its_tests() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("benches/nexmark"))
        .expect("benches/nexmark")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    for file in files {
        let path = file.to_str().expect("utf-8 path");
        let out = weir(&["check", path], &repo_root());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{path} does not check:\n{stderr}");
        assert!(
            !stderr.contains("warning"),
            "{path} has warnings:\n{stderr}"
        );
        let text = std::fs::read_to_string(&file).expect("read");
        if text.contains("\ntest \"") {
            let out = weir(&["test", path], &repo_root());
            assert!(
                out.status.success(),
                "{path}: its tests fail:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
