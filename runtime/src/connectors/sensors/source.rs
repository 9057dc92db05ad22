//! The reader of one worker's share of the simulated plant.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use weir_engine::checkpoint::{Epoch, SourcePosition};
use weir_engine::io::{BadRecord, IoError, SourceReader, SourceStatus, WorkerInfo};
use weir_engine::value::{Record, Value};

use super::config::SensorsConfig;
use super::fields::Measure;
use super::plant::Plant;
use super::position::{Position, Resumed};

/// Produces the events of the devices `d` with `d % peers == worker`, filling the
/// declared fields: in increasing event number without jitter, else in arrival order
/// (arrival, then event number).
#[derive(Debug)]
pub struct SensorsSource {
    plant: Plant,
    measures: Vec<Measure>,
    /// This worker's devices, ascending.
    mine: Vec<u32>,
    /// Current round (events `round·devices .. (round+1)·devices`) and position in `mine`.
    round: u64,
    position: usize,
    /// Wall-clock start, when pacing to real time: the moment of `start` if that lies
    /// ahead of the wall clock, else the first poll.
    started: Option<Instant>,
    /// Which costly quantities the schema asks for.
    needs: Needs,
    /// With jitter: generated events waiting for their arrival, as `(arrival, n,
    /// device)`; at most `jitter × rate` of them.
    arriving: BinaryHeap<Reverse<(i64, u64, usize)>>,
    /// Resumed from a checkpoint: what the checkpointed readers had produced.
    resumed: Option<Resumed>,
    /// Where real-time pacing starts: the first event number generated (nonzero after a
    /// restore, so a resumed run does not wait again for what it had produced).
    paced_from: u64,
}

/// The computed quantities a schema uses, so a record computes each at most once and
/// only if declared.
#[derive(Clone, Copy, Debug, Default)]
struct Needs {
    temperature: bool,
    vibration: bool,
    power: bool,
}

impl SensorsSource {
    /// `worker`'s share of the plant of `config`, producing records of `measures` (one
    /// per schema slot, see [`Measure::for_schema`]).
    pub fn new(config: SensorsConfig, measures: Vec<Measure>, worker: WorkerInfo) -> SensorsSource {
        let peers = worker.peers.max(1) as u64;
        let mine = (0..config.devices)
            .filter(|d| u64::from(*d) % peers == worker.index as u64)
            .collect();
        let needs = Needs {
            temperature: measures.contains(&Measure::Temperature),
            vibration: measures.contains(&Measure::Vibration),
            power: measures.contains(&Measure::Power),
        };
        SensorsSource {
            needs,
            plant: Plant::new(config),
            measures,
            mine,
            round: 0,
            position: 0,
            started: None,
            arriving: BinaryHeap::new(),
            resumed: None,
            paced_from: 0,
        }
    }

    /// The next event number this reader will produce and its device, if any is left.
    #[inline]
    fn next_n(&self) -> Option<(u64, usize)> {
        let d = *self.mine.get(self.position)?;
        let n = self
            .round
            .checked_mul(u64::from(self.plant.config.devices))?
            .checked_add(u64::from(d))?;
        (n < self.plant.config.events).then_some((n, d as usize))
    }

    fn advance(&mut self) {
        self.position += 1;
        if self.position == self.mine.len() {
            self.position = 0;
            self.round += 1;
        }
    }

    /// Microseconds of wall clock since pacing started; `None` before it starts.
    fn paced_micros(&mut self) -> Option<u128> {
        let start_ms = self.plant.config.start_ms;
        let started = *self.started.get_or_insert_with(|| pacing_anchor(start_ms));
        Instant::now()
            .checked_duration_since(started)
            .map(|d| d.as_micros())
    }

    /// Events numbered below this may be emitted now (all of them unless pacing).
    fn pace_limit(&mut self) -> u64 {
        if !self.plant.config.realtime {
            return u64::MAX;
        }
        let Some(elapsed_us) = self.paced_micros() else {
            return 0;
        };
        let due = elapsed_us * u128::from(self.plant.config.rate_milli) / 1_000_000_000 + 1;
        u64::try_from(due)
            .unwrap_or(u64::MAX)
            .saturating_add(self.paced_from)
    }

    #[inline]
    fn record(&self, n: u64, device: usize) -> Record {
        let e = self.plant.event_of(n, device);
        let device = &self.plant.devices[e.device];
        let needs = self.needs;
        let temperature = if needs.temperature {
            self.plant.temperature(&e)
        } else {
            0.0
        };
        let vibration = if needs.vibration {
            self.plant.vibration(&e)
        } else {
            0.0
        };
        let power = if needs.power {
            self.plant.power(&e)
        } else {
            0.0
        };
        let mut record = Vec::with_capacity(self.measures.len());
        for m in &self.measures {
            record.push(match m {
                Measure::DeviceId => Value::Str(device.id.clone()),
                Measure::MachineId => Value::Str(device.machine.clone()),
                Measure::Line => Value::Str(device.line.clone()),
                Measure::Time => Value::Time(e.time),
                Measure::Temperature => Value::Float(temperature),
                Measure::Vibration => Value::Float(vibration),
                Measure::Power => Value::Float(power),
                Measure::Seq => Value::Int(e.n as i64),
                Measure::Anomaly => Value::Bool(e.anomaly),
            });
        }
        record
    }
}

impl SensorsSource {
    /// Whether a restore found event `n` of `device` (about to be generated) produced
    /// before the cut.
    #[inline]
    fn produced(&mut self, n: u64, device: usize) -> bool {
        let round = self.round;
        self.resumed
            .as_mut()
            .is_some_and(|r| r.produced(round, n, device))
    }

    /// Arrival times up to this may be emitted now (all of them unless pacing).
    fn pace_clock(&mut self) -> i64 {
        if !self.plant.config.realtime {
            return i64::MAX;
        }
        let start_ms = self.plant.time_of(self.paced_from);
        match self.paced_micros() {
            None => start_ms.saturating_sub(1),
            Some(us) => start_ms.saturating_add(i64::try_from(us / 1000).unwrap_or(i64::MAX)),
        }
    }

    /// Emits up to `max` events in arrival order. An event waits in `arriving` until no
    /// event still to be generated can arrive before it: every later event arrives at or
    /// after its own event time, which is at least the next event's.
    fn poll_arrivals(&mut self, out: &mut Vec<Record>, max: usize) -> SourceStatus {
        let now = self.pace_clock();
        let mut emitted = 0;
        while emitted < max {
            let next = self.next_n();
            let horizon = next.map_or(i64::MAX, |(n, _)| self.plant.time_of(n));
            match self.arriving.peek() {
                Some(&Reverse((arrival, n, device))) if arrival <= horizon.min(now) => {
                    self.arriving.pop();
                    out.push(self.record(n, device));
                    emitted += 1;
                }
                _ => match next {
                    Some((n, device)) if horizon <= now => {
                        if !self.produced(n, device) {
                            let arrival = self.plant.arrival_of(n);
                            self.arriving.push(Reverse((arrival, n, device)));
                        }
                        self.advance();
                    }
                    Some(_) => return SourceStatus::Idle,
                    None if self.arriving.is_empty() => return SourceStatus::Finished,
                    None => return SourceStatus::Idle,
                },
            }
        }
        if self.next_n().is_none() && self.arriving.is_empty() {
            SourceStatus::Finished
        } else {
            SourceStatus::Ready
        }
    }
}

impl SourceReader for SensorsSource {
    fn poll(
        &mut self,
        out: &mut Vec<Record>,
        _bad: &mut Vec<BadRecord>,
        max: usize,
    ) -> Result<SourceStatus, IoError> {
        if self.plant.config.jitter_ms > 0 {
            return Ok(self.poll_arrivals(out, max));
        }
        let limit = self.pace_limit();
        out.reserve(max.min(4096));
        for _ in 0..max {
            let Some((n, device)) = self.next_n() else {
                return Ok(SourceStatus::Finished);
            };
            if n >= limit {
                return Ok(SourceStatus::Idle);
            }
            if !self.produced(n, device) {
                out.push(self.record(n, device));
            }
            self.advance();
        }
        Ok(match self.next_n() {
            None => SourceStatus::Finished,
            Some(_) => SourceStatus::Ready,
        })
    }

    /// Per device of this worker, the first round not generated (what it resumed from
    /// if it has not caught up yet), and the events waiting for their arrival.
    fn position(&mut self, _epoch: Epoch) -> Result<Option<Vec<u8>>, IoError> {
        let next = self
            .mine
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let generated = self.round + u64::from(i < self.position);
                let resumed = self.resumed.as_ref().map_or(0, |r| r.next[d as usize]);
                (d, generated.max(resumed))
            })
            .collect();
        let heap = self.arriving.iter().map(|Reverse((_, n, _))| *n);
        let not_regenerated = self.resumed.iter().flat_map(|r| r.waiting.iter().copied());
        let waiting = heap.chain(not_regenerated).collect();
        Ok(Some(Position { next, waiting }.encode()))
    }

    /// Gathers what every old worker had produced; this worker (of any worker count)
    /// starts at the earliest round of its devices and skips what was produced.
    fn seek(&mut self, positions: &[SourcePosition]) -> Result<(), IoError> {
        let devices = self.plant.config.devices;
        let mine = |d: u64| self.mine.binary_search(&(d as u32)).is_ok();
        let resumed = Resumed::from_positions(positions, devices, mine)?;
        // Waiting events belong to rounds before their device's next one: start early
        // enough to generate them again (what was produced in between is skipped).
        let earliest_waiting = resumed
            .waiting
            .iter()
            .map(|n| n / u64::from(devices.max(1)));
        self.round = self
            .mine
            .iter()
            .map(|&d| resumed.next[d as usize])
            .chain(earliest_waiting)
            .min()
            .unwrap_or(0);
        self.position = 0;
        self.paced_from = self.round.saturating_mul(u64::from(devices));
        self.arriving.clear();
        self.resumed = Some(resumed);
        Ok(())
    }
}

/// Where real-time pacing starts: at the wall-clock moment of `start_ms` if it lies
/// ahead, so that each event is emitted when the wall clock reaches its event time (a
/// live plant's clock); else now.
fn pacing_anchor(start_ms: i64) -> Instant {
    let now = Instant::now();
    let wall_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let start_us = u128::try_from(start_ms).unwrap_or(0) * 1000;
    match u64::try_from(start_us.saturating_sub(wall_us)) {
        Ok(ahead) if ahead > 0 => now + Duration::from_micros(ahead),
        _ => now,
    }
}
