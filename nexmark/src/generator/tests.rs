use super::*;

fn events(config: &NexmarkConfig) -> Vec<Event> {
    let g = Generator::new(config);
    (0..config.events).map(|n| g.event(n)).collect()
}

#[test]
fn mix_is_one_three_forty_six() {
    let config = NexmarkConfig::default();
    let (mut p, mut a, mut b) = (0, 0, 0);
    for e in events(&config) {
        match e {
            Event::Person(_) => p += 1,
            Event::Auction(_) => a += 1,
            Event::Bid(_) => b += 1,
        }
    }
    assert_eq!((p, a, b), (2_000, 6_000, 92_000));
}

#[test]
fn event_n_is_a_pure_function_of_config_and_n() {
    let config = NexmarkConfig::default();
    let one = Generator::new(&config);
    let two = Generator::new(&config);
    // Any order, any generator: the same event.
    for n in [99_999, 0, 17, 4_242, 50, 1, 3] {
        assert_eq!(one.event(n), two.event(n));
    }
    let other = Generator::new(&NexmarkConfig {
        seed: 1,
        ..config.clone()
    });
    let differing = (0..1000)
        .filter(|&n| one.event(n) != other.event(n))
        .count();
    assert!(differing > 990, "seed changes the stream: {differing}");
}

#[test]
fn ids_are_dense_and_references_point_at_existing_or_near_ids() {
    let config = NexmarkConfig::default();
    let (mut next_person, mut next_auction) = (FIRST_PERSON_ID, FIRST_AUCTION_ID);
    let mut hot_bids = 0;
    let mut bids = 0;
    for (n, e) in events(&config).into_iter().enumerate() {
        match e {
            Event::Person(p) => {
                assert_eq!(p.id, next_person, "event {n}");
                next_person += 1;
            }
            Event::Auction(a) => {
                assert_eq!(a.id, next_auction, "event {n}");
                next_auction += 1;
                assert!(a.seller >= FIRST_PERSON_ID && a.seller < next_person + 10);
                assert!(a.expires > a.date_time);
                assert!((10..15).contains(&a.category));
                assert!(a.reserve > a.initial_bid);
            }
            Event::Bid(b) => {
                bids += 1;
                assert!(
                    b.auction >= FIRST_AUCTION_ID && b.auction < next_auction + 10,
                    "event {n}: auction {} newest {}",
                    b.auction,
                    next_auction - 1
                );
                // Beam's bidder ids (FIRST_PERSON_ID added once): near the newest person.
                assert!(
                    b.bidder >= FIRST_PERSON_ID && b.bidder <= next_person + 10,
                    "event {n}: bidder {} newest {}",
                    b.bidder,
                    next_person - 1
                );
                if b.auction % 100 == 0 {
                    hot_bids += 1;
                }
            }
        }
    }
    // About half of the bids go to the hot auction (plus a few recent picks that are).
    let share = hot_bids as f64 / bids as f64;
    assert!((0.48..0.56).contains(&share), "hot auction share {share}");
}

#[test]
fn distributions_look_like_the_design() {
    let config = NexmarkConfig::default();
    let all = events(&config);
    let bids: Vec<&Bid> = all
        .iter()
        .filter_map(|e| match e {
            Event::Bid(b) => Some(b),
            _ => None,
        })
        .collect();
    // Log-uniform prices from $1 to $1M: the median is about $1000.
    let mut prices: Vec<i64> = bids.iter().map(|b| b.price).collect();
    prices.sort_unstable();
    assert!(prices[0] >= 100 && *prices.last().unwrap() <= 100_000_000);
    let median = prices[prices.len() / 2];
    assert!((80_000..125_000).contains(&median), "median {median}");
    // Hot bidders: 3 of 4 bids come from `(last / 100) * 100 + 1`.
    let hot = bids
        .iter()
        .filter(|b| (b.bidder - FIRST_PERSON_ID) % 100 == 1)
        .count();
    let share = hot as f64 / bids.len() as f64;
    assert!((0.74..0.78).contains(&share), "hot bidder share {share}");
    // Half the bids come through one of the four hot channels.
    let hot_channel = bids
        .iter()
        .filter(|b| !b.channel.starts_with("channel-"))
        .count();
    let share = hot_channel as f64 / bids.len() as f64;
    assert!((0.48..0.52).contains(&share), "hot channel share {share}");
    // Sizes: a bid is 100 bytes on average with its 32 fixed bytes.
    let mean_extra = bids.iter().map(|b| b.extra.len()).sum::<usize>() as f64 / bids.len() as f64;
    assert!(
        (66.0..70.0).contains(&mean_extra),
        "mean bid padding {mean_extra}"
    );
    // Auctions live ~ the time 100 more auctions take: 1666 events at 10k/s ≈ 167 ms.
    let lengths: Vec<i64> = all
        .iter()
        .filter_map(|e| match e {
            Event::Auction(a) => Some(a.expires - a.date_time),
            _ => None,
        })
        .collect();
    let mean = lengths.iter().sum::<i64>() as f64 / lengths.len() as f64;
    assert!(
        (150.0..185.0).contains(&mean),
        "mean auction length {mean} ms"
    );
    // Persons: fixed choices from the tables, email and card in shape.
    for e in &all {
        if let Event::Person(p) = e {
            assert!(["AZ", "CA", "ID", "OR", "WA", "WY"].contains(&&*p.state));
            let (user, domain) = p.email_address.split_once('@').unwrap();
            assert!(
                (1..=6).contains(&user.len()) && domain.ends_with(".com"),
                "{p:?}"
            );
            assert_eq!(p.credit_card.len(), 19);
            assert!(p.name.contains(' '));
        }
    }
}

#[test]
fn event_time_follows_the_rate_with_bounded_delays() {
    let config = NexmarkConfig::default();
    let g = Generator::new(&config);
    let mut delayed = 0;
    for n in 0..config.events {
        let on_time = config.timestamp(n);
        let t = g.event(n).date_time();
        assert!(t <= on_time && on_time - t <= config.max_delay_ms);
        if t < on_time {
            delayed += 1;
        }
    }
    assert_eq!(config.timestamp(10_000), config.first_event_time + 1000);
    let share = delayed as f64 / config.events as f64;
    assert!((0.09..0.11).contains(&share), "delayed share {share}");
    let in_order = NexmarkConfig {
        prob_delayed: 0.0,
        ..config
    };
    let g = Generator::new(&in_order);
    assert!((0..10_000).all(|n| g.event(n).date_time() == in_order.timestamp(n)));
}

#[test]
fn validate_names_the_bad_field() {
    let bad = NexmarkConfig {
        rate: 0,
        ..NexmarkConfig::default()
    };
    assert_eq!(bad.validate().unwrap_err().field, "rate");
    assert!(NexmarkConfig::default().validate().is_ok());
}
