//! q16 (Flink suite), channel statistics report: q15's counts per channel and day, with
//! the channel's latest bid time — what `benches/nexmark/q16.pipe` writes to `out` when
//! each day closes.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use weir_nexmark::NexmarkConfig;

use crate::q15::{RankCounts, RankSets, DAY_MS};
use crate::stream::{for_each_bid, Watermark};

/// One answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChannelDay {
    /// The channel.
    pub channel: Arc<str>,
    /// The day's start, epoch ms.
    pub day: i64,
    /// The channel's latest bid that day, epoch ms.
    pub last_bid: i64,
    /// The counts.
    pub counts: RankCounts,
}

/// Per open day, per channel: the latest bid time and the counts.
type Open = BTreeMap<i64, FxHashMap<Arc<str>, (i64, RankSets)>>;

/// Hands each channel's day to `emit` as the day closes.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(ChannelDay)) {
    let mut open: Open = BTreeMap::new();
    let mut watermark = Watermark::new(config);
    for_each_bid(config, |b| {
        let day = b.date_time.div_euclid(DAY_MS) * DAY_MS;
        let channels = open.entry(day).or_default();
        // Look up by `&str`: the key is cloned (a reference count) only for a new channel.
        let group = match channels.get_mut(&**b.channel) {
            Some(g) => g,
            None => channels
                .entry(b.channel.clone())
                .or_insert_with(|| (i64::MIN, RankSets::default())),
        };
        group.0 = group.0.max(b.date_time);
        group.1.add(b.price, b.bidder, b.auction);
        let wm = watermark.observe(b.date_time);
        while let Some(entry) = open.first_entry() {
            if *entry.key() + DAY_MS > wm {
                break;
            }
            let (day, channels) = entry.remove_entry();
            close(day, channels, &mut emit);
        }
    });
    for (day, channels) in open {
        close(day, channels, &mut emit);
    }
}

fn close(
    day: i64,
    channels: FxHashMap<Arc<str>, (i64, RankSets)>,
    emit: &mut impl FnMut(ChannelDay),
) {
    for (channel, (last_bid, sets)) in channels {
        emit(ChannelDay {
            channel,
            day,
            last_bid,
            counts: sets.counts(),
        });
    }
}
