//! The generator's strings: fixed choices made once and shared (names, cities, states,
//! channels with their URLs, padding), and random strings drawn per event.

use rand::Rng;
use rand_pcg::Pcg64Mcg;
use std::sync::Arc;

const FIRST_NAMES: [&str; 11] = [
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
const LAST_NAMES: [&str; 9] = [
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];
const CITIES: [&str; 10] = [
    "Phoenix",
    "Los Angeles",
    "San Francisco",
    "Boise",
    "Portland",
    "Bend",
    "Redmond",
    "Seattle",
    "Kent",
    "Cheyenne",
];
const STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];
/// Distinct non-hot channels (`channel-0` … `channel-9999`), as in the Flink port.
pub(crate) const CHANNELS: usize = 10_000;
/// Random strings are at least this long before trimming.
const MIN_STRING_LENGTH: u64 = 3;

/// Every fixed-choice string, built once per generator.
#[derive(Debug)]
pub(crate) struct Texts {
    /// All first × last name combinations, `first * 9 + last`.
    pub names: Vec<Arc<str>>,
    pub cities: Vec<Arc<str>>,
    pub states: Vec<Arc<str>>,
    /// The four hot channels and their URLs.
    pub hot_channels: Vec<(Arc<str>, Arc<str>)>,
    /// `channel-k` and its URL, for `k < CHANNELS`.
    pub channels: Vec<(Arc<str>, Arc<str>)>,
    /// `padding[len]` is a string of `len` lowercase letters (prefixes of one random text).
    pub padding: Vec<Arc<str>>,
}

impl Texts {
    /// Builds the tables; the random parts (URL paths, padding text) follow `seed`.
    pub(crate) fn new(seed: u64, max_padding: usize) -> Texts {
        let mut rng = Pcg64Mcg::new(u128::from(seed) << 64 | 0x5851_F42D_4C95_7F2D);
        let names = FIRST_NAMES
            .iter()
            .flat_map(|first| LAST_NAMES.iter().map(move |last| format!("{first} {last}")))
            .map(Arc::from)
            .collect();
        let hot_channels = HOT_CHANNELS
            .iter()
            .map(|c| {
                let url = format!(
                    "https://www.nexmark.com/{}/item.htm?query=1",
                    c.to_lowercase()
                );
                (Arc::from(*c), Arc::from(url))
            })
            .collect();
        let mut buf = String::new();
        let channels = (0..CHANNELS)
            .map(|k| {
                let mut url = String::from("https://www.nexmark.com/");
                for _ in 0..3 {
                    random_string(&mut rng, 5, &mut buf);
                    url.push_str(if buf.is_empty() { "x" } else { &buf });
                    url.push('/');
                }
                // Bit-reversed like the Flink port, so ids do not follow the channel number.
                url.push_str(&format!(
                    "item.htm?query=1&channel_id={}",
                    (k as u32).reverse_bits() >> 1
                ));
                (Arc::from(format!("channel-{k}")), Arc::from(url))
            })
            .collect();
        let text: String = (0..max_padding)
            .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
            .collect();
        let padding = (0..=max_padding)
            .map(|len| Arc::from(&text[..len]))
            .collect();
        Texts {
            names,
            cities: CITIES.iter().map(|c| Arc::from(*c)).collect(),
            states: STATES.iter().map(|s| Arc::from(*s)).collect(),
            hot_channels,
            channels,
            padding,
        }
    }

    /// Padding of `len` bytes (capped at the longest prepared).
    #[inline]
    pub(crate) fn padding(&self, len: usize) -> &Arc<str> {
        &self.padding[len.min(self.padding.len() - 1)]
    }
}

/// Beam's `nextString`: `3 + uniform[0, max − 3)` characters, each a–z or (1 in 13) a
/// space, then trimmed. Written into `out`, which is cleared first.
pub(crate) fn random_string(rng: &mut Pcg64Mcg, max: u64, out: &mut String) {
    out.clear();
    let len = MIN_STRING_LENGTH + rng.gen_range(0..max.saturating_sub(MIN_STRING_LENGTH).max(1));
    // Four characters per 64 random bits: 16 bits pick a space (1 in 13) or a letter.
    let mut bits = 0u64;
    for i in 0..len {
        if i % 4 == 0 {
            bits = rng.gen();
        }
        let v = (bits & 0xFFFF) as u32;
        bits >>= 16;
        if v.is_multiple_of(13) {
            out.push(' ');
        } else {
            out.push(char::from(b'a' + (v / 13 % 26) as u8));
        }
    }
    let trimmed = out.trim();
    if trimmed.len() != out.len() {
        *out = trimmed.to_string();
    }
}
