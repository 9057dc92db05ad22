//! How fast the generator alone makes events, on one thread:
//! `cargo run --release -p weir-nexmark --example generate -- 10000000`.

use std::time::Instant;

use weir_nexmark::{Event, EventKind, Generator, NexmarkConfig};

fn main() {
    let events = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000u64);
    let config = NexmarkConfig {
        events,
        ..NexmarkConfig::default()
    };
    let g = Generator::new(&config);
    // Owned events, then bids as borrowed `BidRef`s (what the source connector uses).
    for borrowed in [false, true] {
        let started = Instant::now();
        // Fold every event into a checksum so nothing is optimised away.
        let mut checksum = 0i64;
        for n in 0..events {
            checksum = checksum.wrapping_add(if borrowed && EventKind::of(n) == EventKind::Bid {
                let b = g.bid_ref(n);
                b.price ^ b.bidder ^ b.extra.len() as i64
            } else {
                match g.event(n) {
                    Event::Person(p) => p.id,
                    Event::Auction(a) => a.reserve,
                    Event::Bid(b) => b.price ^ b.bidder ^ b.extra.len() as i64,
                }
            });
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{events} events ({}) in {seconds:.2}s: {:.2}M events/s (checksum {checksum})",
            if borrowed { "bids borrowed" } else { "owned" },
            events as f64 / seconds / 1e6
        );
    }
}
