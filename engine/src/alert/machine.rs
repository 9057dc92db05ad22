//! One key's alert state machine over event time: the level (with hysteresis), pending
//! while `for` runs, firing (held by `keep firing for`), resolved; repeats while firing;
//! a deadman episode when the key is silent. Notices are what receivers are told.

use super::flapping::FlapHistory;
use super::{AlertSpec, FlappingSpec, Level};
use crate::expression::{compile_predicate, Predicate};
use crate::time::EventTime;
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// The compiled rules of one `alert` stage.
pub struct Rules {
    /// (level, condition, hysteresis), highest level first.
    levels: Vec<(Level, Predicate, Option<Predicate>)>,
    resolve: Option<Predicate>,
    /// `for`.
    pub for_ms: i64,
    /// `keep firing for`.
    pub keep_ms: i64,
    /// `repeat every`.
    pub repeat_ms: Option<i64>,
    /// Resolved events are emitted (no `no recoveries`).
    pub recoveries: bool,
    /// `flapping …`.
    pub flapping: Option<FlappingSpec>,
    /// `deadman`.
    pub deadman_ms: Option<i64>,
}

impl Rules {
    /// Compiles the conditions of `spec`.
    pub fn compile(spec: &AlertSpec) -> Rules {
        Rules {
            levels: spec
                .levels
                .iter()
                .map(|l| {
                    (
                        l.level,
                        compile_predicate(&l.when),
                        l.resolve.as_ref().map(compile_predicate),
                    )
                })
                .collect(),
            resolve: spec.resolve.as_ref().map(compile_predicate),
            for_ms: spec.for_ms.max(0),
            keep_ms: spec.keep_firing_ms.max(0),
            repeat_ms: spec.repeat_ms.filter(|r| *r > 0),
            recoveries: spec.recoveries,
            flapping: spec.flapping,
            deadman_ms: spec.deadman_ms.filter(|d| *d > 0),
        }
    }

    /// The level `record` asks for, given the current level (Kapacitor's rule): the
    /// highest level whose condition holds; a lower one only once the current level's
    /// `resolve when` (or the stage's) is true.
    pub fn level(&self, current: Level, record: &[Value]) -> Level {
        let raw = self
            .levels
            .iter()
            .find(|(_, when, _)| when(record))
            .map_or(Level::Ok, |(l, _, _)| *l);
        if raw >= current {
            return raw;
        }
        let reset = self
            .levels
            .iter()
            .find(|(l, _, _)| *l == current)
            .and_then(|(_, _, r)| r.as_ref())
            .or(self.resolve.as_ref());
        match reset {
            Some(reset) if !reset(record) => current,
            _ => raw,
        }
    }
}

/// Which alert of a key a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// The conditions.
    Condition,
    /// `deadman`: the key sent nothing.
    Deadman,
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The alert started firing.
    Fired,
    /// A firing alert changed level.
    Changed,
    /// `repeat every`: still firing.
    Repeated,
    /// The alert resolved.
    Resolved,
}

impl Change {
    /// The name in `alert.event`.
    pub fn name(self) -> &'static str {
        match self {
            Change::Fired => "fired",
            Change::Changed => "changed",
            Change::Repeated => "repeated",
            Change::Resolved => "resolved",
        }
    }
}

/// One event for the receivers.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// Condition or deadman.
    pub kind: NoticeKind,
    /// What happened.
    pub change: Change,
    /// The level now (`ok` when resolved).
    pub level: Level,
    /// The level receivers last heard.
    pub previous: Level,
    /// When the episode began (the condition first held, or the last record before the
    /// silence).
    pub started_at: EventTime,
    /// Event time of the notice.
    pub time: EventTime,
    /// The episode's id, rendered when it began.
    pub id: std::sync::Arc<str>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Firing {
    level: Level,
    started_at: EventTime,
    last_sent: EventTime,
    cleared_at: Option<EventTime>,
    id: std::sync::Arc<str>,
}

/// One key's state: a few words, a level history with `flapping`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyState {
    level: Level,
    since: Option<EventTime>,
    firing: Option<Firing>,
    deadman: Option<Firing>,
    last_seen: EventTime,
    flap: Option<FlapHistory>,
    /// The level receivers were last told (Ok: resolved or never fired).
    told: Level,
    /// Notices held back while flapping.
    held_back: bool,
    /// Id and start of the last condition episode (for a resolve told late).
    episode: (std::sync::Arc<str>, EventTime),
}

impl KeyState {
    /// A key first seen at `t`.
    pub fn new(t: EventTime, rules: &Rules) -> KeyState {
        KeyState {
            level: Level::Ok,
            since: None,
            firing: None,
            deadman: None,
            last_seen: t,
            flap: rules.flapping.map(|f| FlapHistory::new(f.history)),
            told: Level::Ok,
            held_back: false,
            episode: (std::sync::Arc::from(""), t),
        }
    }

    /// Applies a record at time `t`; `id` renders the episode id if one starts. Notices
    /// suppressed by flapping are counted in `suppressed`.
    pub fn on_record(
        &mut self,
        t: EventTime,
        record: &[Value],
        rules: &Rules,
        id: impl FnOnce() -> std::sync::Arc<str>,
        out: &mut Vec<Notice>,
        suppressed: &mut u64,
    ) {
        self.last_seen = t;
        if let Some(d) = self.deadman.take() {
            if rules.recoveries {
                out.push(notice(
                    &d,
                    NoticeKind::Deadman,
                    Change::Resolved,
                    Level::Ok,
                    d.level,
                    t,
                ));
            }
        }
        let level = rules.level(self.level, record);
        self.level = level;
        let was_flapping = self.flap.as_ref().is_some_and(FlapHistory::is_flapping);
        if let (Some(h), Some(spec)) = (self.flap.as_mut(), rules.flapping.as_ref()) {
            h.push(level, spec);
        }
        let mut notices = Vec::new();
        if level != Level::Ok {
            let since = *self.since.get_or_insert(t);
            match self.firing.as_mut() {
                Some(f) => {
                    f.cleared_at = None;
                    if level != f.level {
                        let previous = f.level;
                        f.level = level;
                        f.last_sent = t;
                        notices.push(notice(
                            f,
                            NoticeKind::Condition,
                            Change::Changed,
                            level,
                            previous,
                            t,
                        ));
                    }
                }
                None if t - since >= rules.for_ms => self.fire(t, id(), &mut notices),
                None => {}
            }
        } else {
            self.since = None;
            if let Some(f) = self.firing.as_mut() {
                if rules.keep_ms == 0 {
                    self.resolve(t, &mut notices);
                } else if f.cleared_at.is_none() {
                    f.cleared_at = Some(t);
                }
            }
        }
        self.tell(notices, rules, out, suppressed);
        if was_flapping && !self.flap.as_ref().is_some_and(FlapHistory::is_flapping) {
            self.catch_up(t, rules, out);
        }
    }

    /// Acts on event time `t` having passed (timers due at or before `t`).
    pub fn on_time(
        &mut self,
        t: EventTime,
        rules: &Rules,
        id: impl FnOnce() -> std::sync::Arc<str>,
        out: &mut Vec<Notice>,
        suppressed: &mut u64,
    ) {
        let mut notices = Vec::new();
        if let Some(cleared) = self.firing.as_ref().and_then(|f| f.cleared_at) {
            if t >= cleared + rules.keep_ms {
                self.resolve(t, &mut notices);
            }
        }
        if let (None, Some(since)) = (&self.firing, self.since) {
            if self.level != Level::Ok && t >= since + rules.for_ms {
                self.fire(t, id(), &mut notices);
            }
        }
        if let (Some(f), Some(every)) = (self.firing.as_mut(), rules.repeat_ms) {
            if t >= f.last_sent + every {
                f.last_sent = t;
                notices.push(notice(
                    f,
                    NoticeKind::Condition,
                    Change::Repeated,
                    f.level,
                    f.level,
                    t,
                ));
            }
        }
        self.tell(notices, rules, out, suppressed);
        if let Some(d) = rules.deadman_ms {
            if self.deadman.is_none() && t >= self.last_seen + d {
                self.start_deadman(t, out);
            }
        }
    }

    /// The key is silent on processing time: start its deadman episode at `t` (the
    /// operator's event time) unless one runs.
    pub fn on_silence(&mut self, t: EventTime, out: &mut Vec<Notice>) {
        if self.deadman.is_none() {
            self.start_deadman(t.max(self.last_seen), out);
        }
    }

    fn start_deadman(&mut self, t: EventTime, out: &mut Vec<Notice>) {
        let d = Firing {
            level: Level::Critical,
            started_at: self.last_seen,
            last_sent: t,
            cleared_at: None,
            id: std::sync::Arc::from(""),
        };
        out.push(notice(
            &d,
            NoticeKind::Deadman,
            Change::Fired,
            Level::Critical,
            Level::Ok,
            t,
        ));
        self.deadman = Some(d);
    }

    /// The next event time at which [`KeyState::on_time`] has something to do.
    pub fn next_timer(&self, rules: &Rules) -> Option<EventTime> {
        let mut next: Option<EventTime> = None;
        let mut consider = |t: EventTime| next = Some(next.map_or(t, |n| n.min(t)));
        match &self.firing {
            Some(f) => {
                if let Some(c) = f.cleared_at {
                    consider(c + rules.keep_ms);
                }
                if let Some(every) = rules.repeat_ms {
                    consider(f.last_sent + every);
                }
            }
            None => {
                if let (Some(since), true) = (self.since, self.level != Level::Ok) {
                    consider(since + rules.for_ms);
                }
            }
        }
        if let (Some(d), None) = (rules.deadman_ms, &self.deadman) {
            consider(self.last_seen + d);
        }
        next
    }

    /// True when forgetting the key changes nothing (no episode, no pending level, no
    /// deadman watch, no flapping history).
    pub fn is_quiet(&self, rules: &Rules) -> bool {
        self.level == Level::Ok
            && self.firing.is_none()
            && self.deadman.is_none()
            && rules.deadman_ms.is_none()
            && self.flap.as_ref().is_none_or(|h| h.share() == 0.0)
    }

    fn fire(&mut self, t: EventTime, id: std::sync::Arc<str>, out: &mut Vec<Notice>) {
        let f = Firing {
            level: self.level,
            started_at: self.since.unwrap_or(t),
            last_sent: t,
            cleared_at: None,
            id,
        };
        self.episode = (f.id.clone(), f.started_at);
        out.push(notice(
            &f,
            NoticeKind::Condition,
            Change::Fired,
            f.level,
            Level::Ok,
            t,
        ));
        self.firing = Some(f);
    }

    fn resolve(&mut self, t: EventTime, out: &mut Vec<Notice>) {
        self.since = None;
        if let Some(f) = self.firing.take() {
            out.push(notice(
                &f,
                NoticeKind::Condition,
                Change::Resolved,
                Level::Ok,
                f.level,
                t,
            ));
        }
    }

    /// Sends `notices` unless the key flaps; resolved ones only with recoveries.
    fn tell(
        &mut self,
        notices: Vec<Notice>,
        rules: &Rules,
        out: &mut Vec<Notice>,
        suppressed: &mut u64,
    ) {
        let flapping = self.flap.as_ref().is_some_and(FlapHistory::is_flapping);
        for n in notices {
            if flapping {
                *suppressed += 1;
                self.held_back = true;
                continue;
            }
            self.told = n.level;
            if n.change != Change::Resolved || rules.recoveries {
                out.push(n);
            }
        }
    }

    /// Flapping ended: if receivers were told something other than the state now, tell
    /// them the state now (fired, changed or resolved), so no episode is left open.
    fn catch_up(&mut self, t: EventTime, rules: &Rules, out: &mut Vec<Notice>) {
        if !std::mem::take(&mut self.held_back) {
            return;
        }
        let now = self.firing.as_ref().map_or(Level::Ok, |f| f.level);
        if now == self.told {
            return;
        }
        let previous = self.told;
        self.told = now;
        match &self.firing {
            Some(f) => {
                let change = if previous == Level::Ok {
                    Change::Fired
                } else {
                    Change::Changed
                };
                out.push(notice(f, NoticeKind::Condition, change, now, previous, t));
            }
            None if rules.recoveries => out.push(Notice {
                kind: NoticeKind::Condition,
                change: Change::Resolved,
                level: Level::Ok,
                previous,
                started_at: self.episode.1,
                time: t,
                id: self.episode.0.clone(),
            }),
            None => {}
        }
    }
}

fn notice(
    f: &Firing,
    kind: NoticeKind,
    change: Change,
    level: Level,
    previous: Level,
    time: EventTime,
) -> Notice {
    Notice {
        kind,
        change,
        level,
        previous,
        started_at: f.started_at,
        time,
        id: f.id.clone(),
    }
}
