//! Every baseline against `weir_nexmark::oracle` over the same 20 000 events (40 s of
//! event time, one in ten events up to 3 s out of order).

use std::collections::BTreeMap;
use std::time::Duration;

use weir_nexmark::{oracle, Bid, Event, Generator, NexmarkConfig};

fn config() -> NexmarkConfig {
    NexmarkConfig {
        events: 20_000,
        rate: 500,
        seed: 11,
        ..NexmarkConfig::default()
    }
}

fn events() -> Vec<Event> {
    let c = config();
    let g = Generator::new(&c);
    (0..c.events).map(|n| g.event(n)).collect()
}

fn collect<T>(f: impl FnOnce(&mut dyn FnMut(T))) -> Vec<T> {
    let mut out = Vec::new();
    f(&mut |x| out.push(x));
    out
}

fn by_time(mut bids: Vec<Bid>) -> Vec<Bid> {
    bids.sort_by_key(|b| (b.date_time, b.auction, b.bidder, b.price));
    bids
}

#[test]
fn the_stream_is_out_of_order() {
    let times: Vec<i64> = events().iter().map(Event::date_time).collect();
    assert!(times.windows(2).any(|w| w[1] < w[0]));
}

#[test]
fn q0_and_q1_match_the_oracle() {
    let mut q0 = Vec::new();
    crate::q0::run(&config(), |b| q0.push(b.to_bid()));
    assert_eq!(by_time(q0), oracle::q0(&events()));
    let mut q1 = Vec::new();
    crate::q1::run(&config(), |b| q1.push(b.to_bid()));
    assert_eq!(by_time(q1), oracle::q1(&events()));
}

#[test]
fn q2_matches_the_oracle() {
    let mut got = collect(|e| crate::q2::run(&config(), e));
    got.sort_unstable();
    let want = oracle::q2(&events());
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[test]
fn q5_matches_the_oracle() {
    let mut hot = collect(|e| crate::q5::run(&config(), e));
    // Windows close in order.
    assert!(hot.windows(2).all(|w| w[0].0 <= w[1].0));
    hot.sort_unstable();
    let want: Vec<(i64, i64, u64)> = oracle::q5(&events())
        .into_iter()
        .map(|c| (c.start, c.auction, c.bids))
        .collect();
    assert!(want.len() >= 10);
    assert_eq!(hot, want);
}

#[test]
fn q7_matches_the_oracle() {
    let mut got = collect(|e| crate::q7::run(&config(), e));
    got.sort_unstable();
    let mut want: Vec<_> = oracle::q7(&events())
        .into_iter()
        .map(|b| {
            let start = b.date_time.div_euclid(crate::q7::SIZE_MS) * crate::q7::SIZE_MS;
            (start, b.auction, b.bidder, b.price, b.date_time)
        })
        .collect();
    want.sort_unstable();
    assert!(want.len() >= 4);
    assert_eq!(got, want);
}

#[test]
fn q11_matches_the_oracle() {
    let mut got = collect(|e| crate::q11::run(&config(), e));
    got.sort_unstable();
    let want = oracle::q11(&events());
    // Some bidder has more than one session, so closing and merging are exercised.
    assert!(want.windows(2).any(|w| w[0].bidder == w[1].bidder));
    assert_eq!(got, want);
}

#[test]
fn q12_windows_add_up_to_every_bidders_bids() {
    use crate::q12::{run, BidderWindow, WINDOW};
    let totals = |panes: &[BidderWindow]| {
        let mut t: BTreeMap<i64, u64> = BTreeMap::new();
        for p in panes {
            *t.entry(p.bidder).or_default() += p.bids;
        }
        t.into_iter().collect::<Vec<_>>()
    };
    let want = oracle::q12_totals(&events());
    // A clock 1 ms further at every look, windows of 1 ms: a window per look.
    let mut tick = 5_000_i64;
    let eager = collect(|e| {
        run(
            &config(),
            Duration::from_millis(1),
            || {
                tick += 1;
                tick
            },
            e,
        )
    });
    assert!(eager.len() > want.len());
    assert!(eager.iter().all(|p| p.end_ms == p.start_ms + 1));
    let starts: std::collections::BTreeSet<i64> = eager.iter().map(|p| p.start_ms).collect();
    assert!(starts.len() > 1, "several windows fired");
    assert_eq!(totals(&eager), want);
    // A clock that stands still at 12.345 s: one window [10 s, 20 s), one result per bidder.
    let still = collect(|e| run(&config(), WINDOW, || 12_345, e));
    assert_eq!(still.len(), want.len());
    assert!(still
        .iter()
        .all(|p| (p.start_ms, p.end_ms) == (10_000, 20_000)));
    assert_eq!(totals(&still), want);
}

/// The join queries' answers by nested loops over the whole stream, as
/// `weir_nexmark::oracle::q3` and `q8` compute them (on the join branch).
mod joins {
    use super::*;
    use weir_nexmark::{Auction, Person};

    fn persons(events: &[Event]) -> Vec<&Person> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Person(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    fn auctions(events: &[Event]) -> Vec<&Auction> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Auction(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn q3_matches_a_nested_loop_join() {
        let events = events();
        let mut want = Vec::new();
        for a in auctions(&events).into_iter().filter(|a| a.category == 10) {
            for p in persons(&events) {
                if p.id == a.seller && ["OR", "ID", "CA"].contains(&&*p.state) {
                    want.push((
                        p.name.to_string(),
                        p.city.to_string(),
                        p.state.to_string(),
                        a.id,
                    ));
                }
            }
        }
        want.sort();
        let mut got: Vec<_> = collect(|e| crate::q3::run(&config(), e))
            .into_iter()
            .map(|m| {
                (
                    m.name.to_string(),
                    m.city.to_string(),
                    m.state.to_string(),
                    m.auction,
                )
            })
            .collect();
        got.sort();
        assert!(want.len() > 10, "{}", want.len());
        assert_eq!(got, want);
    }

    #[test]
    fn q8_matches_a_nested_loop_join() {
        let events = events();
        let window = |t: i64| t.div_euclid(10_000) * 10_000;
        let mut want = Vec::new();
        for p in persons(&events) {
            let start = window(p.date_time);
            let sold = auctions(&events)
                .into_iter()
                .filter(|a| a.seller == p.id && window(a.date_time) == start)
                .count() as u64;
            if sold > 0 {
                want.push((p.id, p.name.to_string(), start, sold));
            }
        }
        want.sort();
        let mut got: Vec<_> = collect(|e| crate::q8::run(&config(), e))
            .into_iter()
            .map(|s| (s.id, s.name.to_string(), s.start, s.auctions))
            .collect();
        got.sort();
        assert!(want.len() > 10, "{}", want.len());
        assert_eq!(got, want);
    }
}

#[test]
fn q9_matches_the_oracle() {
    let mut got = collect(|e| crate::q9::run(&config(), e));
    got.sort_unstable();
    let want: Vec<crate::q9::WinningBid> = oracle::q9(&events())
        .into_iter()
        .map(|w| crate::q9::WinningBid {
            auction: w.auction,
            seller: w.seller,
            category: w.category,
            expires: w.expires,
            price: w.price,
            bidder: w.bidder,
            date_time: w.date_time,
        })
        .collect();
    assert!(want.len() > 50, "{}", want.len());
    assert_eq!(got, want);
}

#[test]
fn q10_gives_every_bid_its_day_and_minute() {
    let mut got = Vec::new();
    crate::q10::run(&config(), |b, day, minute| {
        got.push((b.to_bid(), day, minute))
    });
    let bids = by_time(got.iter().map(|(b, _, _)| b.clone()).collect());
    assert_eq!(bids, oracle::q0(&events()));
    for (b, day, minute) in &got {
        let secs = b.date_time.div_euclid(1000);
        let (of_day, days) = (secs.rem_euclid(86_400), secs.div_euclid(86_400));
        // Days since 1970-01-01 for 2015-07-15 (the generator's base day) and the next.
        let expected_day = match days {
            16_630 => "2015-07-14",
            16_631 => "2015-07-15",
            16_632 => "2015-07-16",
            d => panic!("day {d} outside the test stream"),
        };
        assert_eq!(day, expected_day);
        assert_eq!(
            *minute,
            format!("{:02}:{:02}", of_day / 3600, of_day % 3600 / 60)
        );
    }
}

#[test]
fn q14_q21_and_q22_match_the_oracles() {
    let mut q14 = Vec::new();
    crate::q14::run(&config(), |b, price, class| {
        q14.push((b.date_time, b.auction, b.bidder, price.to_bits(), class))
    });
    q14.sort_unstable();
    let want: Vec<_> = oracle::q14(&events())
        .into_iter()
        .map(|c| {
            (
                c.date_time,
                c.auction,
                c.bidder,
                c.price.to_bits(),
                c.bid_time_type,
            )
        })
        .collect();
    let mut want_sorted = want.clone();
    want_sorted.sort_unstable();
    assert!(!want.is_empty());
    assert_eq!(q14, want_sorted);

    let mut q21 = collect(|e| {
        crate::q21::run(&config(), |b, id| {
            e((
                b.auction,
                b.bidder,
                b.price,
                b.channel.to_string(),
                id.to_string(),
            ))
        })
    });
    q21.sort_unstable();
    assert_eq!(q21, oracle::q21(&events()));

    let mut q22 = collect(|e| {
        crate::q22::run(&config(), |b, [d1, d2, d3]| {
            let own = |d: Option<&str>| d.map(str::to_string);
            e((
                b.auction,
                b.bidder,
                b.price,
                b.channel.to_string(),
                own(d1),
                own(d2),
                own(d3),
            ))
        })
    });
    q22.sort_unstable();
    assert_eq!(q22, oracle::q22(&events()));
}

#[test]
fn q18_and_q19_match_the_oracles() {
    let mut q18 = collect(|e| crate::q18::run(&config(), e));
    q18.sort_unstable();
    let want: Vec<_> = oracle::q18(&events())
        .into_iter()
        .map(|l| (l.bidder, l.auction, l.date_time, l.price))
        .collect();
    assert_eq!(q18, want);

    let mut q19 = collect(|e| {
        crate::q19::run(&config(), |a, rank, (price, bidder, t)| {
            e((a, rank, price, bidder, t))
        })
    });
    q19.sort_unstable();
    let want = oracle::q19_rows(&events());
    // Some auction fills all ten ranks.
    assert!(want.iter().any(|r| r.1 == crate::q19::TOP as i64));
    assert_eq!(q19, want);
}

#[test]
fn q4_and_q6_match_the_oracles() {
    let mut q4 = collect(|e| crate::q4::run(&config(), e));
    // Windows close in order.
    assert!(q4.windows(2).all(|w| w[0].start <= w[1].start));
    q4.sort_by_key(|a| (a.category, a.start));
    let want = oracle::q4(&events());
    assert!(want.len() > 20, "{}", want.len());
    assert_eq!(q4.len(), want.len());
    for (g, w) in q4.iter().zip(&want) {
        assert_eq!(
            (g.category, g.start, g.auctions, g.avg_price.to_bits()),
            (w.category, w.start, w.auctions, w.avg_price.to_bits())
        );
    }

    let mut q6 = collect(|e| crate::q6::run(&config(), e));
    q6.sort_by_key(|a| (a.seller, a.closed, a.auctions));
    let want = oracle::q6(&events());
    assert!(want.iter().any(|a| a.auctions == oracle::Q6_LAST as u64));
    assert_eq!(q6.len(), want.len());
    for (g, w) in q6.iter().zip(&want) {
        assert_eq!(
            (g.seller, g.closed, g.auctions, g.avg_price.to_bits()),
            (w.seller, w.closed, w.auctions, w.avg_price.to_bits())
        );
    }
}

#[test]
fn q13_joins_every_bid_with_the_side_input_file() {
    // The baseline's table is the file's.
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../nexmark/side_input.csv"
    ))
    .expect("benches/nexmark/side_input.csv");
    let mut rows = file.lines();
    assert_eq!(rows.next(), Some("id,value"));
    let from_file: rustc_hash::FxHashMap<i64, String> = rows
        .map(|l| {
            let (k, v) = l.split_once(',').expect("two columns");
            (k.parse().expect("an integer key"), v.to_string())
        })
        .collect();
    let table = crate::q13::side_input();
    assert_eq!(table, from_file);

    let mut got = Vec::new();
    crate::q13::run(&config(), &table, |b, value| {
        got.push((b.to_bid(), value.to_string()))
    });
    for (b, value) in &got {
        assert_eq!(*value, (b.auction % 10_000).to_string());
    }
    let bids = by_time(got.into_iter().map(|(b, _)| b).collect());
    assert_eq!(bids, oracle::q0(&events()));
}

#[test]
fn q15_q16_and_q17_match_the_oracles() {
    let counts = |c: crate::q15::RankCounts| oracle::RankCounts {
        bids: c.bids,
        bidders: c.bidders,
        auctions: c.auctions,
    };
    let q15: Vec<_> = collect(|e| crate::q15::run(&config(), |day, c| e((day, counts(c)))));
    assert_eq!(q15, oracle::q15(&events()));

    let mut q16: Vec<oracle::ChannelDay> = collect(|e| crate::q16::run(&config(), e))
        .into_iter()
        .map(|c| oracle::ChannelDay {
            channel: c.channel.to_string(),
            day: c.day,
            last_bid: c.last_bid,
            counts: counts(c.counts),
        })
        .collect();
    q16.sort_by(|a, b| (&a.channel, a.day).cmp(&(&b.channel, b.day)));
    let want = oracle::q16(&events());
    assert!(want.len() > 4, "{}", want.len());
    assert_eq!(q16, want);

    let mut q17: Vec<oracle::AuctionDay> = collect(|e| crate::q17::run(&config(), e))
        .into_iter()
        .map(|a| oracle::AuctionDay {
            auction: a.auction,
            day: a.day,
            bids: a.bids,
            min_price: a.min_price,
            max_price: a.max_price,
            avg_price: a.avg_price,
            sum_price: a.sum_price,
        })
        .collect();
    q17.sort_by_key(|a| (a.auction, a.day));
    let want = oracle::q17(&events());
    assert!(want.len() > 100, "{}", want.len());
    assert_eq!(q17, want);
}

#[test]
fn q20_matches_the_oracle() {
    let mut got = collect(|e| {
        crate::q20::run(&config(), |b, a| {
            assert_eq!((a.id, a.category), (b.auction, 10));
            e((b.auction, b.bidder, b.price, b.date_time, a.seller))
        })
    });
    got.sort_unstable();
    let want = oracle::q20(&events());
    assert!(want.len() > 1000, "{}", want.len());
    assert_eq!(got, want);
}
