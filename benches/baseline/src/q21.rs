//! q21 (Flink suite), add channel id: 0–3 for the hot channels by lower-case name, else
//! the URL's `channel_id` parameter (after `&` or at the start); bids with neither are
//! left out.

use weir_nexmark::{BidRef, NexmarkConfig};

use crate::stream::for_each_bid;

/// The value of `channel_id=` in `url` (the SQL's `(&|^)channel_id=([^&]*)`), if any.
fn channel_id(url: &str) -> Option<&str> {
    const KEY: &str = "channel_id=";
    let at = if url.starts_with(KEY) {
        0
    } else {
        url.find("&channel_id=")? + 1
    };
    let value = url[at + KEY.len()..].split('&').next()?;
    (!value.is_empty()).then_some(value)
}

/// Hands every bid with a channel id, and the id, to `emit`.
pub fn run(config: &NexmarkConfig, mut emit: impl FnMut(BidRef<'_>, &str)) {
    for_each_bid(config, |b| {
        let hot = ["apple", "google", "facebook", "baidu"]
            .iter()
            .position(|name| b.channel.eq_ignore_ascii_case(name));
        let ids = ["0", "1", "2", "3"];
        match hot {
            Some(i) => emit(b, ids[i]),
            None => {
                if let Some(id) = channel_id(b.url) {
                    emit(b, id)
                }
            }
        }
    });
}
