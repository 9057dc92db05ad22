//! The reader of one worker's share of a Nexmark stream.
//!
//! Every event is a pure function of its number, and worker `w` of `p` reads the numbers
//! `≡ w (mod p)` in increasing order, so a worker's position is its next number. A run
//! restored on another number of workers skips exactly the numbers the old workers had
//! read: `n` was read iff `n < next[n mod p_old]`. A restored worker's position carries
//! what it resumed from as well as its own next number, so a checkpoint taken before it
//! has caught up (or on another worker count) forgets nothing the old workers had read.

use weir_engine::checkpoint::{Epoch, SourcePosition};
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::value::{Record, Value};
use weir_nexmark::{EventKind, Generator, PROPORTION_DENOMINATOR};

use super::config::NexmarkSourceConfig;
use super::fields::Column;

/// Produces the events `n ≡ worker (mod peers)` of one kind, in increasing `n`, filling
/// the declared fields.
#[derive(Debug)]
pub struct NexmarkSource {
    generator: Generator,
    kind: EventKind,
    columns: Vec<Column>,
    /// The next event number to consider, and the step between this worker's numbers.
    next: u64,
    step: u64,
    events: u64,
    /// After a restore, per worker count of a run it resumed from: each of its workers'
    /// next number (its worker `i` read the numbers `≡ i` below it), for skipping what
    /// was read before the checkpoint.
    read_before: Vec<(u64, Vec<u64>)>,
}

/// The most workers a position may describe: a guard against a garbage position.
const MAX_WORKERS: u64 = 1 << 16;

impl NexmarkSource {
    /// `worker`'s share of the stream of `config`, producing records of `columns` (one
    /// per schema slot, see [`Column::for_schema`]).
    pub fn new(
        config: &NexmarkSourceConfig,
        columns: Vec<Column>,
        worker: WorkerInfo,
    ) -> NexmarkSource {
        NexmarkSource {
            generator: Generator::new(&config.generator),
            kind: config.kind,
            columns,
            next: worker.index as u64,
            step: worker.peers.max(1) as u64,
            events: config.generator.events,
            read_before: Vec::new(),
        }
    }

    /// Whether event `n` was read before the checkpoint this run resumed from.
    #[inline]
    fn read_before_restore(&self, n: u64) -> bool {
        (self.read_before.iter()).any(|(old, next)| n < next[(n % old) as usize])
    }

    /// The next event number of this worker and kind, if any is left; moves past it.
    #[inline]
    fn take_next(&mut self) -> Option<u64> {
        while self.next < self.events {
            let n = self.next;
            self.next += self.step;
            if EventKind::of(n) == self.kind && !self.read_before_restore(n) {
                return Some(n);
            }
            // Persons are 1 in 50 events: jump whole blocks of other kinds when one
            // worker reads everything.
            if self.step == 1 && self.kind == EventKind::Person {
                self.next = (n / PROPORTION_DENOMINATOR + 1) * PROPORTION_DENOMINATOR;
            }
        }
        None
    }

    #[inline]
    fn record(&self, n: u64) -> Record {
        let mut record = Vec::with_capacity(self.columns.len());
        match self.kind {
            EventKind::Bid => {
                let b = self.generator.bid_ref(n);
                for c in &self.columns {
                    record.push(match c {
                        Column::Auction => Value::Int(b.auction),
                        Column::Bidder => Value::Int(b.bidder),
                        Column::Price => Value::Int(b.price),
                        Column::Channel => Value::Str(b.channel.clone()),
                        Column::Url => Value::Str(b.url.clone()),
                        Column::DateTime => Value::Time(b.date_time),
                        Column::Extra => Value::Str(b.extra.clone()),
                        _ => Value::Null,
                    });
                }
            }
            EventKind::Auction => {
                let a = self.generator.auction(n);
                for c in &self.columns {
                    record.push(match c {
                        Column::AuctionId => Value::Int(a.id),
                        Column::ItemName => Value::Str(a.item_name.clone()),
                        Column::Description => Value::Str(a.description.clone()),
                        Column::InitialBid => Value::Int(a.initial_bid),
                        Column::Reserve => Value::Int(a.reserve),
                        Column::DateTime => Value::Time(a.date_time),
                        Column::Expires => Value::Time(a.expires),
                        Column::Seller => Value::Int(a.seller),
                        Column::Category => Value::Int(a.category),
                        Column::Extra => Value::Str(a.extra.clone()),
                        _ => Value::Null,
                    });
                }
            }
            EventKind::Person => {
                let p = self.generator.person(n);
                for c in &self.columns {
                    record.push(match c {
                        Column::PersonId => Value::Int(p.id),
                        Column::Name => Value::Str(p.name.clone()),
                        Column::EmailAddress => Value::Str(p.email_address.clone()),
                        Column::CreditCard => Value::Str(p.credit_card.clone()),
                        Column::City => Value::Str(p.city.clone()),
                        Column::State => Value::Str(p.state.clone()),
                        Column::DateTime => Value::Time(p.date_time),
                        Column::Extra => Value::Str(p.extra.clone()),
                        _ => Value::Null,
                    });
                }
            }
        }
        record
    }
}

impl SourceReader for NexmarkSource {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        _bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        out.reserve(max.min(4096));
        for _ in 0..max {
            let Some(n) = self.take_next() else {
                return Ok(SourceStatus::Finished);
            };
            out.push(self.record(n));
        }
        Ok(if self.next < self.events {
            SourceStatus::Ready
        } else {
            SourceStatus::Finished
        })
    }

    /// `(workers, worker, next)` triples: this worker's, then those it resumed from.
    fn position(&mut self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let own = (self.step, self.next % self.step, self.next);
        let resumed = self
            .read_before
            .iter()
            .flat_map(|(old, next)| (0..*old).map(move |i| (*old, i, next[i as usize])));
        let mut bytes = Vec::new();
        for (workers, worker, next) in std::iter::once(own).chain(resumed) {
            for word in [workers, worker, next] {
                bytes.extend_from_slice(&word.to_le_bytes());
            }
        }
        Ok(Some(bytes))
    }

    /// Takes over this worker's share of what the old workers had not read yet, on any
    /// number of workers.
    fn seek(&mut self, positions: &[SourcePosition]) -> Result<(), IoError> {
        let Some(first) = positions.first() else {
            return Ok(());
        };
        let old = first.workers;
        let mut seen = vec![false; old];
        let mut groups: Vec<(u64, Vec<u64>)> = Vec::new();
        for p in positions {
            let triples = triples(p).filter(|_| p.workers == old);
            match (triples, seen.get_mut(p.worker)) {
                (Some(triples), Some(slot)) => {
                    *slot = true;
                    for (workers, worker, next) in triples {
                        let at = match groups.iter().position(|(w, _)| *w == workers) {
                            Some(at) => at,
                            None => {
                                groups.push((workers, vec![0; workers as usize]));
                                groups.len() - 1
                            }
                        };
                        let slot = &mut groups[at].1[worker as usize];
                        *slot = (*slot).max(next);
                    }
                }
                _ => {
                    return Err(IoError::Config(format!(
                        "the checkpoint's nexmark position of worker {} of {} is not one \
                         this version wrote",
                        p.worker, p.workers
                    )))
                }
            }
        }
        if seen.contains(&false) {
            return Err(IoError::Config(format!(
                "the checkpoint lacks the nexmark position of some of its {old} workers"
            )));
        }
        // Every number below a run's lowest next number was read: start at this
        // worker's first number at or above the highest such bound.
        let low = groups
            .iter()
            .map(|(_, next)| next.iter().copied().min().unwrap_or(0))
            .max()
            .unwrap_or(0);
        if self.next < low {
            self.next += (low - self.next) / self.step * self.step;
        }
        self.read_before = groups;
        Ok(())
    }
}

/// The `(workers, worker, next)` triples of a position: 8 bytes (a worker's next number,
/// as positions without what they resumed from were written) or 24 bytes each; `None`
/// if it is neither.
fn triples(p: &SourcePosition) -> Option<Vec<(u64, u64, u64)>> {
    let word = |b: &[u8]| b.try_into().ok().map(u64::from_le_bytes);
    if p.bytes.len() == 8 {
        return Some(vec![(p.workers as u64, p.worker as u64, word(&p.bytes)?)]);
    }
    if p.bytes.is_empty() || !p.bytes.len().is_multiple_of(24) {
        return None;
    }
    p.bytes
        .chunks_exact(24)
        .map(|t| {
            let (workers, worker, next) = (word(&t[..8])?, word(&t[8..16])?, word(&t[16..])?);
            (worker < workers && workers <= MAX_WORKERS).then_some((workers, worker, next))
        })
        .collect()
}
