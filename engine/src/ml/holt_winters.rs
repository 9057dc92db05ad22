//! `holt_winters`: additive Holt-Winters forecasting (level, trend, season) over event-time
//! buckets of `every`, forecasting `horizon` ahead with a prediction interval from the
//! one-step residuals.
//!
//! State per key: `season / every` f64 seasonal terms, level, trend, the residual variance
//! and the open bucket's sum and count.
//!
//! A checkpoint saves the whole [`HoltWinters`] (serde), open bucket included.

use serde::{Deserialize, Serialize};

/// Parameters of `forecast … horizon <h> [every <e>] using holt_winters(season: <s>, …)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoltWintersParams {
    /// Season length (ms), a whole number of steps.
    pub season_ms: i64,
    /// Step (ms): values are averaged per step before updating the model.
    pub every_ms: i64,
    /// How far ahead to forecast (ms).
    pub horizon_ms: i64,
    /// Level smoothing in (0, 1).
    pub alpha: f64,
    /// Trend smoothing in (0, 1).
    pub beta: f64,
    /// Season smoothing in (0, 1).
    pub gamma: f64,
    /// Coverage of the prediction interval in (0, 1).
    pub confidence: f64,
}

/// A forecast: the value and its prediction interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Forecast {
    /// Point forecast.
    pub value: f64,
    /// Lower bound of the interval.
    pub lower: f64,
    /// Upper bound of the interval.
    pub upper: f64,
}

/// The running model of one key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HoltWinters {
    params: HoltWintersParams,
    period: usize,
    /// Start (ms) of the open bucket and its running sum and count.
    bucket: Option<(i64, f64, u64)>,
    /// Bucket means of the first season, until the model is initialised.
    first: Vec<f64>,
    level: f64,
    trend: f64,
    season: Vec<f64>,
    /// Steps seen since initialisation (to index the season).
    step: usize,
    residual_var: f64,
    ready: bool,
}

impl HoltWinters {
    /// A model with nothing seen.
    pub fn new(params: HoltWintersParams) -> HoltWinters {
        let every = params.every_ms.max(1);
        let period = (params.season_ms / every).max(1) as usize;
        HoltWinters {
            params,
            period,
            bucket: None,
            first: Vec::new(),
            level: 0.0,
            trend: 0.0,
            season: Vec::new(),
            step: 0,
            residual_var: 0.0,
            ready: false,
        }
    }

    /// Adds value `x` at event time `t` (ms; non-decreasing per key) and returns the
    /// forecast for `t + horizon`, once a full season has been seen.
    pub fn update(&mut self, t: i64, x: f64) -> Option<Forecast> {
        let every = self.params.every_ms.max(1);
        let start = t.div_euclid(every) * every;
        match self.bucket {
            Some((s, sum, n)) if s == start => self.bucket = Some((s, sum + x, n + 1)),
            Some((s, sum, n)) => {
                // Close the open bucket; empty buckets in between repeat the forecast.
                let gap = ((start - s) / every).max(1) as usize;
                self.learn(sum / n as f64);
                for _ in 1..gap.min(self.period) {
                    let predicted = self.predict(1);
                    self.learn(predicted);
                }
                self.bucket = Some((start, x, 1));
            }
            None => self.bucket = Some((start, x, 1)),
        }
        if !self.ready {
            return None;
        }
        // Steps from the last learnt bucket to the bucket of t + horizon.
        let h = (self.params.horizon_ms / every).max(0) as usize + 1;
        let value = self.predict(h);
        let z = crate::ml::normal::quantile(0.5 + self.params.confidence / 2.0);
        let spread = z * (self.residual_var * h as f64).sqrt();
        Some(Forecast {
            value,
            lower: value - spread,
            upper: value + spread,
        })
    }

    fn predict(&self, h: usize) -> f64 {
        if !self.ready {
            return self.first.last().copied().unwrap_or(0.0);
        }
        let s = self.season[(self.step + h - 1) % self.period];
        self.level + h as f64 * self.trend + s
    }

    fn learn(&mut self, y: f64) {
        if !self.ready {
            self.first.push(y);
            if self.first.len() == self.period {
                let mean = self.first.iter().sum::<f64>() / self.period as f64;
                self.level = mean;
                self.trend = 0.0;
                self.season = self.first.iter().map(|v| v - mean).collect();
                self.first.clear();
                self.ready = true;
            }
            return;
        }
        let p = &self.params;
        let i = self.step % self.period;
        let forecast = self.level + self.trend + self.season[i];
        let error = y - forecast;
        self.residual_var = if self.step == 0 {
            error * error
        } else {
            0.9 * self.residual_var + 0.1 * error * error
        };
        let level = p.alpha * (y - self.season[i]) + (1.0 - p.alpha) * (self.level + self.trend);
        self.trend = p.beta * (level - self.level) + (1.0 - p.beta) * self.trend;
        self.season[i] = p.gamma * (y - level) + (1.0 - p.gamma) * self.season[i];
        self.level = level;
        self.step += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> HoltWintersParams {
        HoltWintersParams {
            season_ms: 24 * 3_600_000,
            every_ms: 3_600_000,
            horizon_ms: 2 * 3_600_000,
            alpha: 0.3,
            beta: 0.05,
            gamma: 0.3,
            confidence: 0.95,
        }
    }

    fn daily(t: i64) -> f64 {
        let hour = (t / 3_600_000) % 24;
        20.0 + 5.0 * ((hour as f64) / 24.0 * std::f64::consts::TAU).sin()
    }

    #[test]
    fn learns_a_daily_cycle_and_forecasts_two_hours_ahead() {
        let mut hw = HoltWinters::new(params());
        let minute = 60_000;
        let mut last = None;
        let mut t = 0;
        while t < 10 * 24 * 3_600_000 {
            last = hw.update(t, daily(t));
            t += 10 * minute;
        }
        let f = last.expect("ready after a season");
        // The bucket two hours after the last one.
        let target_hour_start = (t - 10 * minute) / 3_600_000 * 3_600_000 + 2 * 3_600_000;
        let expected = daily(target_hour_start);
        assert!((f.value - expected).abs() < 0.6, "{f:?} vs {expected}");
        assert!(f.lower <= f.value && f.value <= f.upper);
    }

    #[test]
    fn nothing_before_a_full_season() {
        let mut hw = HoltWinters::new(params());
        for h in 0..24 {
            assert!(hw.update(h * 3_600_000, 1.0).is_none());
        }
    }
}
