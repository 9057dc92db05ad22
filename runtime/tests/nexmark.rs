//! The Nexmark queries of `benches/nexmark/` run by the real `weir` binary on a small
//! generated stream, on 1 and on 4 workers, and compared exactly with the naive oracles
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
    let dir = run_in_dir(query, workers);
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

/// Runs `query` on `workers` workers over the test stream in a fresh directory, which
/// holds what its sinks wrote under `out/`.
fn run_in_dir(query: &str, workers: usize) -> tempfile::TempDir {
    let text = std::fs::read_to_string(query_file(query)).expect("query file");
    assert!(
        text.contains(AS_WRITTEN),
        "{query}.pipe reads `{AS_WRITTEN}`"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    // Files the query reads (q13's table) are named from the repository's root.
    let root = repo_root();
    let small = text
        .replace(
            AS_WRITTEN,
            &format!("events: {EVENTS}, rate: {RATE}, seed: {SEED}"),
        )
        .replace("\"benches/", &format!("\"{}/benches/", root.display()));
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
    dir
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

const WORKERS: [usize; 2] = [1, 4];

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
fn q5_finds_the_hot_auctions_of_each_sliding_window() {
    let expected = sorted(
        oracle::q5(&events())
            .iter()
            .map(|c| (c.start, c.end, c.auction, c.bids as i64))
            .collect(),
    );
    // Delayed early bids reach back to −3 s: windows start at −10 s, −5 s, … 45 s.
    let windows: std::collections::BTreeSet<i64> = expected.iter().map(|c| c.0).collect();
    assert_eq!(windows.len(), 12);
    for workers in WORKERS {
        let [out] = &run("q5", workers, &["nexmark_q5.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
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
        assert_eq!(got, expected, "q5 on {workers} workers");
    }
}

#[test]
fn q7_finds_the_highest_bids_per_window() {
    let expected = sorted(
        oracle::q7(&events())
            .into_iter()
            .map(|b| {
                (
                    b.date_time.div_euclid(10_000) * 10_000,
                    b.auction,
                    b.bidder,
                    b.price,
                    b.date_time,
                )
            })
            .collect(),
    );
    // Every window of the stream has its winners (there are bids in every 10 s).
    let windows: std::collections::BTreeSet<i64> = expected.iter().map(|w| w.0).collect();
    assert!(windows.len() >= 5, "{} windows", windows.len());
    for workers in WORKERS {
        let [out] = &run("q7", workers, &["nexmark_q7.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        time(r, "starts"),
                        int(r, "auction"),
                        int(r, "bidder"),
                        int(r, "price"),
                        time(r, "date_time"),
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

#[test]
fn q3_joins_new_auctions_with_their_local_sellers() {
    let expected: Vec<_> = oracle::q3(&events())
        .into_iter()
        .map(|i| (i.name, i.city, i.state, i.auction))
        .collect();
    assert!(
        expected.len() > 50,
        "the test stream exercises q3: {}",
        expected.len()
    );
    for workers in WORKERS {
        let [out] = &run("q3", workers, &["nexmark_q3.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        text(r, "name"),
                        text(r, "city"),
                        text(r, "state"),
                        int(r, "id"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected, "q3 on {workers} workers");
    }
}

#[test]
fn q8_finds_new_persons_who_sell_in_their_first_window() {
    let expected: Vec<_> = oracle::q8(&events())
        .into_iter()
        .map(|s| (s.id, s.name, s.start, s.auctions as i64))
        .collect();
    assert!(
        expected.len() > 20,
        "the test stream exercises q8: {}",
        expected.len()
    );
    for workers in WORKERS {
        let [out] = &run("q8", workers, &["nexmark_q8.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "id"),
                        text(r, "name"),
                        time(r, "starts"),
                        int(r, "auctions"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected, "q8 on {workers} workers");
    }
}

#[test]
fn q9_finds_each_closed_auctions_winning_bid() {
    let expected: Vec<_> = oracle::q9(&events())
        .into_iter()
        .map(|w| {
            (
                w.auction,
                w.seller,
                w.category,
                w.expires,
                w.price,
                w.bidder,
                w.date_time,
            )
        })
        .collect();
    assert!(
        expected.len() > 100,
        "the test stream exercises q9: {}",
        expected.len()
    );
    for workers in WORKERS {
        let [out] = &run("q9", workers, &["nexmark_q9.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "auction"),
                        int(r, "seller"),
                        int(r, "category"),
                        time(r, "expires"),
                        int(r, "price"),
                        int(r, "bidder"),
                        time(r, "bid_time"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected, "q9 on {workers} workers");
    }
}

#[test]
fn q4_averages_the_winning_prices_per_category_and_window() {
    let expected = oracle::q4(&events());
    assert!(expected.len() > 20, "{} windows", expected.len());
    for workers in WORKERS {
        let [out] = &run("q4", workers, &["nexmark_q4.jsonl"])[..] else {
            unreachable!()
        };
        let mut got: Vec<(i64, i64, f64, i64)> = out
            .iter()
            .map(|r| {
                let avg = r["avg_price"].as_f64().expect("avg_price is a number");
                (
                    int(r, "category"),
                    time(r, "starts"),
                    avg,
                    int(r, "auctions"),
                )
            })
            .collect();
        got.sort_by_key(|a| (a.0, a.1));
        assert_eq!(got.len(), expected.len(), "q4 on {workers} workers");
        for (g, w) in got.iter().zip(&expected) {
            assert_eq!((g.0, g.1, g.3), (w.category, w.start, w.auctions as i64));
            assert!(
                (g.2 - w.avg_price).abs() <= 1e-9 * w.avg_price.abs(),
                "q4 on {workers} workers: {g:?} vs {w:?}"
            );
        }
    }
}

#[test]
fn q6_averages_each_sellers_last_ten_winning_prices() {
    let expected = oracle::q6(&events());
    assert!(
        expected
            .iter()
            .any(|a| a.auctions == oracle::Q6_LAST as u64),
        "some seller sells 10 times: the window slides"
    );
    for workers in WORKERS {
        let [out] = &run("q6", workers, &["nexmark_q6.jsonl"])[..] else {
            unreachable!()
        };
        let mut got: Vec<(i64, i64, i64, f64)> = out
            .iter()
            .map(|r| {
                let avg = r["avg_price"].as_f64().expect("avg_price is a number");
                (int(r, "seller"), time(r, "closed"), int(r, "auctions"), avg)
            })
            .collect();
        got.sort_by_key(|a| (a.0, a.1, a.2));
        let mut want: Vec<(i64, i64, i64, f64)> = expected
            .iter()
            .map(|a| (a.seller, a.closed, a.auctions as i64, a.avg_price))
            .collect();
        want.sort_by_key(|a| (a.0, a.1, a.2));
        assert_eq!(got.len(), want.len(), "q6 on {workers} workers");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((g.0, g.1, g.2), (w.0, w.1, w.2), "q6 on {workers} workers");
            assert!(
                (g.3 - w.3).abs() <= 1e-9 * w.3.abs(),
                "q6 on {workers} workers: {g:?} vs {w:?}"
            );
        }
    }
}

#[test]
fn q18_keeps_the_latest_bid_of_each_bidder_on_each_auction() {
    let expected: Vec<_> = oracle::q18(&events())
        .into_iter()
        .map(|b| (b.bidder, b.auction, b.date_time, b.price))
        .collect();
    for workers in WORKERS {
        let [out] = &run("q18", workers, &["nexmark_q18.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "bidder"),
                        int(r, "auction"),
                        time(r, "date_time"),
                        int(r, "price"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected, "q18 on {workers} workers");
    }
}

/// A row of q10's lake: (partition directories, date_time, auction, bidder, price, extra,
/// dt, hm).
#[cfg(feature = "parquet")]
type LakeRow = (String, i64, i64, i64, i64, String, String, String);

/// The rows of every Parquet file under `lake`.
#[cfg(feature = "parquet")]
fn q10_rows(lake: &Path) -> Vec<LakeRow> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMillisecondType};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut files = Vec::new();
    let mut dirs = vec![lake.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("lake directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                files.push(path);
            }
        }
    }
    let mut rows = Vec::new();
    for file in files {
        let partition = file
            .parent()
            .and_then(|p| p.strip_prefix(lake).ok())
            .expect("under the lake")
            .display()
            .to_string();
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).expect("open"))
                .expect("a parquet file")
                .build()
                .expect("reader");
        for batch in reader {
            let batch = batch.expect("a batch");
            let col = |name: &str| batch.column_by_name(name).expect(name).clone();
            let (auction, bidder, price) = (col("auction"), col("bidder"), col("price"));
            let (t, extra, dt, hm) = (col("date_time"), col("extra"), col("dt"), col("hm"));
            for i in 0..batch.num_rows() {
                rows.push((
                    partition.clone(),
                    t.as_primitive::<TimestampMillisecondType>().value(i),
                    auction.as_primitive::<Int64Type>().value(i),
                    bidder.as_primitive::<Int64Type>().value(i),
                    price.as_primitive::<Int64Type>().value(i),
                    extra.as_string::<i32>().value(i).to_string(),
                    dt.as_string::<i32>().value(i).to_string(),
                    hm.as_string::<i32>().value(i).to_string(),
                ));
            }
        }
    }
    rows
}

#[cfg(feature = "parquet")]
#[test]
fn q10_writes_every_bid_to_the_partition_of_its_day_and_minute() {
    // Flink's `DATE_FORMAT(dateTime, 'yyyy-MM-dd')` and `'HH:mm'`, in UTC.
    let expected = sorted(
        oracle::q0(&events())
            .into_iter()
            .map(|b| {
                let at = chrono::DateTime::from_timestamp_millis(b.date_time).expect("in range");
                let (dt, hm) = (
                    at.format("%Y-%m-%d").to_string(),
                    at.format("%H:%M").to_string(),
                );
                let partition = format!("dt={dt}/hm={}", hm.replace(':', "%3A"));
                (
                    partition,
                    b.date_time,
                    b.auction,
                    b.bidder,
                    b.price,
                    b.extra.to_string(),
                    dt,
                    hm,
                )
            })
            .collect(),
    );
    for workers in WORKERS {
        let dir = run_in_dir("q10", workers);
        let got = sorted(q10_rows(&dir.path().join("out/nexmark_q10")));
        assert!(
            got == expected,
            "q10 on {workers} workers differs from the oracle"
        );
    }
}

#[test]
fn q19_ranks_the_ten_highest_bids_of_each_auction() {
    let expected = oracle::q19_rows(&events());
    // Some auction fills all ten ranks, and some has fewer bids.
    let top = oracle::Q19_TOP as i64;
    assert!(expected.iter().any(|r| r.1 == top));
    assert!(expected
        .windows(2)
        .any(|w| w[0].0 != w[1].0 && w[0].1 < top));
    for workers in WORKERS {
        let [out] = &run("q19", workers, &["nexmark_q19.jsonl"])[..] else {
            unreachable!()
        };
        for r in out {
            let fields: Vec<&str> = r
                .as_object()
                .expect("a record")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                sorted(fields),
                ["auction", "bidder", "date_time", "price", "rank_number"],
                "Flink's columns (without channel, url and extra)"
            );
        }
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "auction"),
                        int(r, "rank_number"),
                        int(r, "price"),
                        int(r, "bidder"),
                        time(r, "date_time"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected, "q19 on {workers} workers");
    }
}

fn opt_text(record: &Json, field: &str) -> Option<String> {
    match &record[field] {
        Json::Null => None,
        v => Some(
            v.as_str()
                .unwrap_or_else(|| panic!("`{field}` is text in {record}"))
                .to_string(),
        ),
    }
}

/// A `day` field (`YYYY-MM-DD`) as the day's start, epoch ms.
fn day(record: &Json) -> i64 {
    parse_timestamp(&format!("{}T00:00:00Z", text(record, "day")))
        .unwrap_or_else(|| panic!("`day` is a date in {record}"))
}

fn float(record: &Json, field: &str) -> f64 {
    record[field]
        .as_f64()
        .unwrap_or_else(|| panic!("`{field}` is a number in {record}"))
}

#[test]
fn q14_converts_large_bids_and_classes_their_hour() {
    let expected = oracle::q14(&events());
    assert!(expected.len() > 100, "{}", expected.len());
    for workers in WORKERS {
        let [out] = &run("q14", workers, &["nexmark_q14.jsonl"])[..] else {
            unreachable!()
        };
        let mut got: Vec<_> = out
            .iter()
            .map(|r| {
                (
                    time(r, "date_time"),
                    int(r, "auction"),
                    int(r, "bidder"),
                    float(r, "price"),
                    text(r, "bid_time_type"),
                )
            })
            .collect();
        got.sort_by(|a, b| {
            (a.0, a.1, a.2)
                .cmp(&(b.0, b.1, b.2))
                .then(a.3.total_cmp(&b.3))
        });
        let want: Vec<_> = expected
            .iter()
            .map(|c| {
                let class = c.bid_time_type.to_string();
                (c.date_time, c.auction, c.bidder, c.price, class)
            })
            .collect();
        assert_eq!(got, want, "q14 on {workers} workers");
    }
}

fn rank_counts(r: &Json) -> oracle::RankCounts {
    let four = |what: &str| {
        ["total", "rank1", "rank2", "rank3"].map(|p| int(r, &format!("{p}_{what}")) as u64)
    };
    oracle::RankCounts {
        bids: four("bids"),
        bidders: four("bidders"),
        auctions: four("auctions"),
    }
}

#[test]
fn q15_counts_bids_bidders_and_auctions_per_day_and_rank() {
    let expected = oracle::q15(&events());
    // Delayed first bids fall on the day before the stream's first midnight.
    assert_eq!(expected.len(), 2, "{expected:?}");
    for workers in WORKERS {
        let [out] = &run("q15", workers, &["nexmark_q15.jsonl"])[..] else {
            unreachable!()
        };
        let mut got: Vec<_> = out.iter().map(|r| (day(r), rank_counts(r))).collect();
        got.sort_by_key(|g| g.0);
        assert_eq!(got, expected, "q15 on {workers} workers");
    }
}

#[test]
fn q16_counts_per_channel_and_day() {
    let expected = oracle::q16(&events());
    assert!(expected.len() > 1000, "{}", expected.len());
    for workers in WORKERS {
        let [out] = &run("q16", workers, &["nexmark_q16.jsonl"])[..] else {
            unreachable!()
        };
        let mut got: Vec<_> = out
            .iter()
            .map(|r| oracle::ChannelDay {
                channel: text(r, "channel"),
                day: day(r),
                last_bid: time(r, "last_bid"),
                counts: rank_counts(r),
            })
            .collect();
        got.sort_by(|a, b| (&a.channel, a.day).cmp(&(&b.channel, b.day)));
        assert!(
            got == expected,
            "q16 on {workers} workers differs from the oracle"
        );
    }
}

#[test]
fn q17_summarises_each_auctions_day() {
    let expected = oracle::q17(&events());
    assert!(expected.len() > 1000, "{}", expected.len());
    for workers in WORKERS {
        let [out] = &run("q17", workers, &["nexmark_q17.jsonl"])[..] else {
            unreachable!()
        };
        let mut got: Vec<_> = out
            .iter()
            .map(|r| oracle::AuctionDay {
                auction: int(r, "auction"),
                day: day(r),
                bids: ["total_bids", "rank1_bids", "rank2_bids", "rank3_bids"]
                    .map(|f| int(r, f) as u64),
                min_price: int(r, "min_price"),
                max_price: int(r, "max_price"),
                avg_price: float(r, "avg_price"),
                sum_price: int(r, "sum_price"),
            })
            .collect();
        got.sort_by_key(|a| (a.auction, a.day));
        assert_eq!(got.len(), expected.len(), "q17 on {workers} workers");
        for (g, w) in got.iter().zip(&expected) {
            let close = (g.avg_price - w.avg_price).abs() <= 1e-9 * w.avg_price.abs();
            let same = oracle::AuctionDay {
                avg_price: w.avg_price,
                ..g.clone()
            };
            assert!(
                close && same == *w,
                "q17 on {workers} workers: {g:?} vs {w:?}"
            );
        }
    }
}

#[test]
fn q20_expands_bids_with_their_category_10_auction() {
    let expected = oracle::q20(&events());
    assert!(expected.len() > 1000, "{}", expected.len());
    for workers in WORKERS {
        let [out] = &run("q20", workers, &["nexmark_q20.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    assert_eq!(int(r, "category"), 10, "{r}");
                    (
                        int(r, "auction"),
                        int(r, "bidder"),
                        int(r, "price"),
                        time(r, "date_time"),
                        int(r, "seller"),
                    )
                })
                .collect(),
        );
        assert_eq!(got, expected, "q20 on {workers} workers");
    }
}

#[test]
fn q21_finds_each_bids_channel_id() {
    let expected = oracle::q21(&events());
    assert!(expected.iter().any(|b| b.4 == "1") && expected.iter().any(|b| b.4.len() > 2));
    for workers in WORKERS {
        let [out] = &run("q21", workers, &["nexmark_q21.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "auction"),
                        int(r, "bidder"),
                        int(r, "price"),
                        text(r, "channel"),
                        text(r, "channel_id"),
                    )
                })
                .collect(),
        );
        assert!(
            got == expected,
            "q21 on {workers} workers differs from the oracle"
        );
    }
}

#[test]
fn q22_splits_each_bids_url() {
    let expected = oracle::q22(&events());
    assert!(expected.iter().any(|b| b.6.is_none()) && expected.iter().any(|b| b.6.is_some()));
    for workers in WORKERS {
        let [out] = &run("q22", workers, &["nexmark_q22.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "auction"),
                        int(r, "bidder"),
                        int(r, "price"),
                        text(r, "channel"),
                        opt_text(r, "dir1"),
                        opt_text(r, "dir2"),
                        opt_text(r, "dir3"),
                    )
                })
                .collect(),
        );
        assert!(
            got == expected,
            "q22 on {workers} workers differs from the oracle"
        );
    }
}

#[test]
fn q13_joins_each_bid_with_its_side_input_row() {
    let expected = sorted(
        oracle::q0(&events())
            .into_iter()
            .map(|b| {
                let value = (b.auction % 10_000).to_string();
                (b.auction, b.bidder, b.price, b.date_time, value)
            })
            .collect(),
    );
    for workers in WORKERS {
        let [out] = &run("q13", workers, &["nexmark_q13.jsonl"])[..] else {
            unreachable!()
        };
        let got = sorted(
            out.iter()
                .map(|r| {
                    (
                        int(r, "auction"),
                        int(r, "bidder"),
                        int(r, "price"),
                        time(r, "date_time"),
                        text(r, "value"),
                    )
                })
                .collect(),
        );
        assert!(
            got == expected,
            "q13 on {workers} workers differs from the oracle"
        );
    }
}
