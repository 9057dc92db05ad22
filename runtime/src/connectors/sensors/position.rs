//! A sensors reader's checkpointed position: per device of the worker, the first round
//! not generated, and the events generated but still waiting for their arrival (with
//! `jitter`). Events are a pure function of their number, so this is all a restore needs
//! to produce each event once, on any number of workers.

use std::collections::HashSet;

use weir_engine::checkpoint::SourcePosition;
use weir_engine::io::IoError;

/// First bytes of a position, so that bytes of another layout are refused.
const MAGIC: &[u8; 4] = b"SNS1";

/// Where one reader is; what [`Position::encode`] stores in a checkpoint.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Position {
    /// `(device, first round not generated)` for each device of the worker.
    pub(super) next: Vec<(u32, u64)>,
    /// Event numbers generated before the cut but not emitted: a restore emits them.
    pub(super) waiting: Vec<u64>,
}

/// What a restored reader knows of what the checkpointed readers produced.
#[derive(Debug)]
pub(super) struct Resumed {
    /// Per device of the plant, the first round not generated before the cut.
    pub(super) next: Vec<u64>,
    /// Of this worker's devices, events generated before the cut but not emitted and not
    /// generated again yet.
    pub(super) waiting: HashSet<u64>,
}

impl Resumed {
    /// Whether event `n` of `device` in `round` was emitted before the cut; an event that
    /// was only waiting is forgotten here, as it is generated again now.
    pub(super) fn produced(&mut self, round: u64, n: u64, device: usize) -> bool {
        round < self.next[device] && !self.waiting.remove(&n)
    }

    /// Gathers every old worker's position; keeps the waiting events of the devices
    /// `mine(device)` says are this worker's.
    pub(super) fn from_positions(
        positions: &[SourcePosition],
        devices: u32,
        mine: impl Fn(u64) -> bool,
    ) -> Result<Resumed, IoError> {
        let mut next = vec![0u64; devices as usize];
        let mut waiting = HashSet::new();
        for p in positions {
            let position = Position::decode(&p.bytes).ok_or_else(not_a_position)?;
            for (d, round) in position.next {
                *next.get_mut(d as usize).ok_or_else(not_a_position)? = round;
            }
            let devices = u64::from(devices.max(1));
            waiting.extend(position.waiting.into_iter().filter(|n| mine(n % devices)));
        }
        Ok(Resumed { next, waiting })
    }
}

fn not_a_position() -> IoError {
    IoError::Other(
        "the checkpoint's sensors position is not one of this plant (another `devices` \
         count, or written by another Weir version): run with `--fresh` to start over"
            .into(),
    )
}

impl Position {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&(self.next.len() as u64).to_le_bytes());
        for (d, round) in &self.next {
            bytes.extend_from_slice(&d.to_le_bytes());
            bytes.extend_from_slice(&round.to_le_bytes());
        }
        bytes.extend_from_slice(&(self.waiting.len() as u64).to_le_bytes());
        for n in &self.waiting {
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        bytes
    }

    /// `None` if `bytes` are not an encoded position.
    pub(super) fn decode(bytes: &[u8]) -> Option<Position> {
        let mut rest = bytes.strip_prefix(MAGIC)?;
        let mut word = |len: usize| {
            let (head, tail) = rest.split_at_checked(len)?;
            rest = tail;
            let mut le = [0u8; 8];
            le[..len].copy_from_slice(head);
            Some(u64::from_le_bytes(le))
        };
        let devices = word(8)?;
        let mut next = Vec::new();
        for _ in 0..devices {
            let d = u32::try_from(word(4)?).ok()?;
            next.push((d, word(8)?));
        }
        let count = word(8)?;
        let mut waiting = Vec::new();
        for _ in 0..count {
            waiting.push(word(8)?);
        }
        // Trailing bytes: another layout.
        word(1).is_none().then_some(Position { next, waiting })
    }
}
