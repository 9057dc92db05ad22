//! `holt_winters` and `damped_trend`: additive Holt-Winters forecasting (level, trend,
//! season) over event-time buckets of `every`, forecasting `horizon` ahead with a
//! prediction interval from the one-step residuals. `damped_trend` is the same model with
//! Gardner and McKenzie's damped trend (ETS(A,Ad,A)): each step ahead adds `damping` times
//! the trend of the step before, so a recent slope is not extrapolated for ever (with
//! `damping: 1` the two are the same model).
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
    /// Trend damping φ in (0, 1]: 1 is `holt_winters`, below 1 `damped_trend`.
    #[serde(default = "undamped")]
    pub damping: f64,
}

fn undamped() -> f64 {
    1.0
}

impl HoltWintersParams {
    /// The model's name in the language.
    pub fn model(&self) -> &'static str {
        if self.damping < 1.0 {
            "damped_trend"
        } else {
            "holt_winters"
        }
    }

    /// φ + φ² + … + φʰ: how many trends `h` steps ahead adds (`h` when undamped).
    fn trend_steps(&self, h: usize) -> f64 {
        let phi = self.damping;
        if phi >= 1.0 {
            return h as f64;
        }
        phi * (1.0 - phi.powi(h.min(i32::MAX as usize) as i32)) / (1.0 - phi)
    }
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
        self.level + self.params.trend_steps(h) * self.trend + s
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
        // φ·b, exactly b when undamped (φ = 1), so `holt_winters` is unchanged.
        let trend = p.damping * self.trend;
        let forecast = self.level + trend + self.season[i];
        let error = y - forecast;
        self.residual_var = if self.step == 0 {
            error * error
        } else {
            0.9 * self.residual_var + 0.1 * error * error
        };
        let level = p.alpha * (y - self.season[i]) + (1.0 - p.alpha) * (self.level + trend);
        self.trend = p.beta * (level - self.level) + (1.0 - p.beta) * trend;
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
            damping: 1.0,
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

    /// A daily cycle on a ramp that stops: after the stop `damped_trend` forecasts the flat
    /// level better a day ahead than `holt_winters`, which keeps adding the learnt slope.
    #[test]
    fn damped_trend_stops_extrapolating_a_slope_that_ended() {
        let hour = 3_600_000;
        let run = |damping: f64| {
            let mut model = HoltWinters::new(HoltWintersParams {
                horizon_ms: 24 * hour,
                beta: 0.2,
                damping,
                ..params()
            });
            let mut last = None;
            // The ramp stops six hours before the last value.
            let ramp = |h: i64| h.min(24 * 20 - 6) as f64 * 0.5;
            for h in 0..24 * 20 {
                last = model.update(h * hour, daily(h * hour) + ramp(h));
            }
            let f = last.expect("ready");
            // The bucket a day after the last one.
            let target = (24 * 20 - 1 + 24) * hour;
            let truth = daily(target) + ramp(24 * 20);
            (f.value - truth).abs()
        };
        let (undamped, damped) = (run(1.0), run(0.8));
        assert!(
            damped < undamped / 2.0,
            "damped {damped} vs undamped {undamped}"
        );
    }

    #[test]
    fn damping_one_is_holt_winters_and_serde_keeps_the_state() {
        let mut a = HoltWinters::new(params());
        for h in 0..24 * 3 {
            a.update(h * 3_600_000, daily(h * 3_600_000) + h as f64 * 0.1);
        }
        assert_eq!(a.params.model(), "holt_winters");
        let mut b: HoltWinters =
            bincode::deserialize(&bincode::serialize(&a).expect("ser")).expect("de");
        for h in 24 * 3..24 * 5 {
            let t = h * 3_600_000;
            assert_eq!(a.update(t, daily(t)), b.update(t, daily(t)));
        }
        // h ahead adds h trends when undamped.
        assert_eq!(a.params.trend_steps(7), 7.0);
        let damped = HoltWintersParams {
            damping: 0.5,
            ..params()
        };
        assert_eq!(damped.model(), "damped_trend");
        assert!((damped.trend_steps(2) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn nothing_before_a_full_season() {
        let mut hw = HoltWinters::new(params());
        for h in 0..24 {
            assert!(hw.update(h * 3_600_000, 1.0).is_none());
        }
    }
}
