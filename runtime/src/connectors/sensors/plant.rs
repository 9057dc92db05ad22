//! The simulated plant: per-device characteristics and the physics of each reading, all
//! pure functions of the seed and the event number.

use std::sync::Arc;

use super::config::{EventClock, SensorsConfig};
use super::random::{mix64, Draws};
use super::wave::sin_turns;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: f64 = 3_600_000.0;
/// Devices per machine, machines per line.
const DEVICES_PER_MACHINE: u32 = 4;
const MACHINES_PER_LINE: u32 = 4;

/// Streams of an event's draws (one per use, so a value never depends on which fields
/// are declared).
mod stream {
    pub const JITTER: u64 = 0;
    pub const ANOMALY: u64 = 1;
    pub const TEMP_NOISE: u64 = 2;
    pub const TEMP_SPIKE: u64 = 3;
    pub const VIB_NOISE: u64 = 4;
    pub const VIB_SPIKE: u64 = 5;
    pub const POWER_NOISE: u64 = 6;
}

/// Salts that separate the key spaces of events, devices and vibration bursts.
const EVENT_SALT: u64 = 0x6576_656E_7473_0001;
const DEVICE_SALT: u64 = 0x6465_7669_6365_0002;
const BURST_SALT: u64 = 0x6275_7273_7473_0003;

/// Base temperature range (°C), daily amplitude, noise σ, drift amplitude range.
pub(crate) const TEMP_BASE: (f64, f64) = (55.0, 75.0);
pub(crate) const TEMP_DAILY: f64 = 4.0;
pub(crate) const TEMP_NOISE: f64 = 0.3;
pub(crate) const TEMP_DRIFT: (f64, f64) = (0.5, 1.5);
/// Anomaly spike added to the temperature (°C).
pub(crate) const TEMP_SPIKE: (f64, f64) = (15.0, 30.0);
/// Base vibration range (mm/s) and relative noise.
pub(crate) const VIB_BASE: (f64, f64) = (1.5, 3.0);
const VIB_NOISE: f64 = 0.08;
/// Chance that a device has a vibration burst in a given minute, and its factor range.
const VIB_BURST_CHANCE: f64 = 0.02;
const VIB_BURST: (f64, f64) = (1.5, 2.5);
/// Anomaly factor on vibration.
const VIB_SPIKE: (f64, f64) = (4.0, 8.0);
/// Base power range (kW) at full load, and relative noise.
const POWER_BASE: (f64, f64) = (15.0, 45.0);
const POWER_NOISE: f64 = 0.03;
const POWER_SPIKE: f64 = 1.5;

/// One device's fixed characteristics.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    pub(crate) id: Arc<str>,
    pub(crate) machine: Arc<str>,
    pub(crate) line: Arc<str>,
    base_temp: f64,
    drift_amp: f64,
    /// Turns per ms of the slow drift, and its phase in turns.
    drift_speed: f64,
    drift_phase: f64,
    base_vib: f64,
    base_power: f64,
    burst_key: u64,
}

/// One event's identity: what every field of it is derived from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) n: u64,
    pub(crate) device: usize,
    /// Event time, epoch ms: always on the grid `start + n·1000/rate` (jitter delays
    /// the arrival, never the event time).
    pub(crate) time: i64,
    pub(crate) anomaly: bool,
    draws: Draws,
}

/// The whole plant.
#[derive(Clone, Debug)]
pub(crate) struct Plant {
    pub(crate) config: SensorsConfig,
    pub(crate) devices: Vec<Device>,
    event_key: u64,
    clock: EventClock,
}

fn between((lo, hi): (f64, f64), u: f64) -> f64 {
    lo + (hi - lo) * u
}

/// Decimal digits of `n` (at least 1).
fn width(n: u32) -> usize {
    n.max(1).ilog10() as usize + 1
}

impl Plant {
    /// The plant of `config`: device characteristics drawn from the seed, names made once.
    pub(crate) fn new(config: SensorsConfig) -> Plant {
        let devices = config.devices;
        let machines = devices.div_ceil(DEVICES_PER_MACHINE);
        let lines = machines.div_ceil(MACHINES_PER_LINE);
        let machine_ids: Vec<Arc<str>> = (0..machines)
            .map(|m| Arc::from(format!("mach-{m:0w$}", w = width(machines))))
            .collect();
        let line_ids: Vec<Arc<str>> = (0..lines)
            .map(|l| Arc::from(format!("line-{l:0w$}", w = width(lines))))
            .collect();
        let device_key = mix64(config.seed ^ DEVICE_SALT);
        let burst_key = mix64(config.seed ^ BURST_SALT);
        let devices = (0..devices)
            .map(|d| {
                let draws = Draws::new(device_key, u64::from(d));
                let machine = d / DEVICES_PER_MACHINE;
                let drift_days = between((3.0, 14.0), draws.unit(2));
                Device {
                    id: Arc::from(format!("dev-{d:0w$}", w = width(devices))),
                    machine: Arc::clone(&machine_ids[machine as usize]),
                    line: Arc::clone(&line_ids[(machine / MACHINES_PER_LINE) as usize]),
                    base_temp: between(TEMP_BASE, draws.unit(0)),
                    drift_amp: between(TEMP_DRIFT, draws.unit(1)),
                    drift_speed: 1.0 / (drift_days * DAY_MS as f64),
                    drift_phase: draws.unit(3),
                    base_vib: between(VIB_BASE, draws.unit(4)),
                    base_power: between(POWER_BASE, draws.unit(5)),
                    burst_key: mix64(burst_key ^ u64::from(d).wrapping_mul(0xD1B5_4A32_D192_ED03)),
                }
            })
            .collect();
        Plant {
            event_key: mix64(config.seed ^ EVENT_SALT),
            clock: EventClock::new(&config),
            config,
            devices,
        }
    }

    /// Event `n`, whose device (`n % devices`) the caller already knows.
    #[inline]
    pub(crate) fn event_of(&self, n: u64, device: usize) -> Event {
        debug_assert_eq!(n % u64::from(self.config.devices), device as u64);
        let draws = Draws::new(self.event_key, n);
        Event {
            n,
            device,
            time: self.clock.time(n),
            anomaly: self.config.anomaly_rate > 0.0
                && draws.unit(stream::ANOMALY) < self.config.anomaly_rate,
            draws,
        }
    }

    /// Event time of event `n`, epoch ms.
    #[inline]
    pub(crate) fn time_of(&self, n: u64) -> i64 {
        self.clock.time(n)
    }

    /// When event `n` arrives, epoch ms on the same clock: its event time plus a delay
    /// in `[0, jitter]` drawn from `(seed, n)`. Records are emitted in arrival order, so
    /// a window's count is exact while the stream is out of event-time order.
    #[inline]
    pub(crate) fn arrival_of(&self, n: u64) -> i64 {
        let delay = match self.config.jitter_ms {
            0 => 0,
            j => Draws::new(self.event_key, n).up_to(stream::JITTER, j as u64) as i64,
        };
        self.clock.time(n).saturating_add(delay)
    }

    /// Temperature in °C: device base, a daily cycle peaking mid-afternoon, a slow drift,
    /// noise, and a spike on anomalies.
    #[inline]
    pub(crate) fn temperature(&self, e: &Event) -> f64 {
        let d = &self.devices[e.device];
        let day_phase = e.time.rem_euclid(DAY_MS) as f64 / DAY_MS as f64;
        let daily = TEMP_DAILY * sin_turns(day_phase - 0.375);
        let elapsed = e.time.wrapping_sub(self.config.start_ms) as f64;
        let drift = d.drift_amp * sin_turns(elapsed * d.drift_speed + d.drift_phase);
        let mut t =
            d.base_temp + daily + drift + TEMP_NOISE * e.draws.normalish(stream::TEMP_NOISE);
        if e.anomaly {
            t += between(TEMP_SPIKE, e.draws.unit(stream::TEMP_SPIKE));
        }
        t
    }

    /// Vibration in mm/s: device base with noise, bursts in some minutes, ×4–8 on
    /// anomalies.
    #[inline]
    pub(crate) fn vibration(&self, e: &Event) -> f64 {
        let d = &self.devices[e.device];
        let mut v = d.base_vib * (1.0 + VIB_NOISE * e.draws.normalish(stream::VIB_NOISE));
        let minute = Draws::new(d.burst_key, e.time.div_euclid(60_000) as u64);
        if minute.unit(0) < VIB_BURST_CHANCE {
            v *= between(VIB_BURST, minute.unit(1));
        }
        if e.anomaly {
            v *= between(VIB_SPIKE, e.draws.unit(stream::VIB_SPIKE));
        }
        v
    }

    /// Power in kW: device base × the load of the working day, noise, ×1.5 on anomalies.
    #[inline]
    pub(crate) fn power(&self, e: &Event) -> f64 {
        let d = &self.devices[e.device];
        let mut p = d.base_power
            * load(e.time)
            * (1.0 + POWER_NOISE * e.draws.normalish(stream::POWER_NOISE));
        if e.anomaly {
            p *= POWER_SPIKE;
        }
        p
    }
}

/// The plant's load at `time` in [0.3, 1]: idle at night, ramping up from 06:00 to full
/// load 08:00–18:00 and down until 22:00 (UTC); weekends run at a third of the shift.
fn load(time: i64) -> f64 {
    let day = time.div_euclid(DAY_MS);
    let hour = time.rem_euclid(DAY_MS) as f64 / HOUR_MS;
    let shift = if hour < 6.0 {
        0.0
    } else if hour < 8.0 {
        (hour - 6.0) / 2.0
    } else if hour < 18.0 {
        1.0
    } else if hour < 22.0 {
        1.0 - (hour - 18.0) / 4.0
    } else {
        0.0
    };
    // 1970-01-01 was a Thursday: with Monday = 0 it is day 3.
    let weekend = (day + 3).rem_euclid(7) >= 5;
    0.3 + 0.7 * shift * if weekend { 0.3 } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_follows_the_working_day() {
        let wednesday = 1_714_521_600_000; // 2024-05-01, a Wednesday
        assert_eq!(load(wednesday), 0.3);
        assert_eq!(load(wednesday + 12 * 3_600_000), 1.0);
        let saturday = wednesday + 3 * DAY_MS;
        assert!((load(saturday + 12 * 3_600_000) - 0.51).abs() < 1e-9);
    }

    #[test]
    fn names_are_zero_padded() {
        let plant = Plant::new(SensorsConfig {
            devices: 100,
            ..SensorsConfig::default()
        });
        assert_eq!(&*plant.devices[7].id, "dev-007");
        assert_eq!(&*plant.devices[99].machine, "mach-24");
        assert_eq!(&*plant.devices[99].line, "line-6");
        assert_eq!(width(10), 2);
        assert_eq!(width(9), 1);
    }
}
