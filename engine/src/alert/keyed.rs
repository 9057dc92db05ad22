//! The alert states of one operator instance: one [`KeyState`] per key, a timer queue in
//! event time, and the alert records built from notices (the key's last record, then the
//! `alert.*` fields).
//!
//! Checkpoints save [`KeyedAlerts::saved`] (every key's machine, last record and timer,
//! by place) and restore with [`KeyedAlerts::restore`]: on the same workers each key gets
//! its place back, so timers due together fire in the same order; after rescaling a
//! worker reads every old worker's snapshot and keeps the keys whose
//! [`GroupKey::route`] leads to it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

use hashbrown::HashMap;

use super::machine::{Change, KeyState, Notice, NoticeKind, Rules};
use super::AlertSpec;
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::time::EventTime;
use crate::value::{Record, Value};

/// What a checkpoint holds of a [`KeyedAlerts`] (see [`KeyedAlerts::saved`]). The flapping
/// counter is a metric and starts again at 0, as every metric after a restart.
#[derive(Serialize)]
#[serde(rename = "SavedAlerts")]
pub struct SavedAlertsRef<'a> {
    slots: &'a [Option<Slot>],
    free: &'a [usize],
}

/// A [`KeyedAlerts`] snapshot read back, for [`KeyedAlerts::restore`].
#[derive(Deserialize)]
pub struct SavedAlerts {
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
}

/// One key's place: its machine, the last record (alert records repeat it) and its timer.
#[derive(Serialize, Deserialize)]
struct Slot {
    key: GroupKey,
    state: KeyState,
    last: Record,
    timer: Option<EventTime>,
}

/// Every key's alert state on one worker.
pub struct KeyedAlerts {
    spec: AlertSpec,
    rules: Rules,
    keys: Arc<[usize]>,
    index: HashMap<GroupKey, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    timers: BTreeSet<(EventTime, usize)>,
    /// Notices held back because their key was flapping.
    pub suppressed: u64,
}

impl KeyedAlerts {
    /// The keys with a machine and an estimate of their bytes: index entries, slots and
    /// timers by their in-line sizes (heap behind a slot's strings is not counted).
    pub fn size(&self) -> crate::metrics::operators::StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<usize>();
        let slot = std::mem::size_of::<Option<Slot>>();
        let timer = std::mem::size_of::<(EventTime, usize)>();
        let bytes = self.index.len() * entry + self.slots.len() * slot + self.timers.len() * timer;
        crate::metrics::operators::StateSize {
            keys: self.index.len() as u64,
            bytes: bytes as u64,
        }
    }

    /// No keys yet.
    pub fn new(spec: &AlertSpec) -> KeyedAlerts {
        KeyedAlerts {
            rules: Rules::compile(spec),
            keys: spec.keys.as_slice().into(),
            spec: spec.clone(),
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: BTreeSet::new(),
            suppressed: 0,
        }
    }

    /// Keys with state.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no key has state.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Applies one record (in event-time order per key); alert records go to `out`.
    pub fn on_record(&mut self, event: Event, out: &mut Vec<Event>) {
        let view = KeyView {
            record: &event.record,
            slots: &self.keys,
        };
        let at = match self.index.get(&view) {
            Some(&at) => at,
            None => {
                let slot = Slot {
                    key: view.to_owned(),
                    state: KeyState::new(event.time, &self.rules),
                    last: Vec::new(),
                    timer: None,
                };
                self.place(slot)
            }
        };
        let mut notices = Vec::new();
        let Some(slot) = self.slots[at].as_mut() else {
            return;
        };
        let spec = &self.spec;
        let record = &event.record;
        slot.state.on_record(
            event.time,
            record,
            &self.rules,
            || Arc::from(spec.id.render(record)),
            &mut notices,
            &mut self.suppressed,
        );
        slot.last = event.record;
        self.finish(at, notices, out);
    }

    /// Puts a new key's slot in a free place (or at the end); its timer joins the queue.
    fn place(&mut self, slot: Slot) -> usize {
        let at = self.free.pop().unwrap_or(self.slots.len());
        self.index.insert(slot.key.clone(), at);
        if let Some(t) = slot.timer {
            self.timers.insert((t, at));
        }
        if at == self.slots.len() {
            self.slots.push(Some(slot));
        } else {
            self.slots[at] = Some(slot);
        }
        at
    }

    /// The state a checkpoint saves, borrowed: every key's slot and the free places.
    /// The timer queue is not saved: it is each slot's `timer`, rebuilt on restore.
    pub fn saved(&self) -> SavedAlertsRef<'_> {
        SavedAlertsRef {
            slots: &self.slots,
            free: &self.free,
        }
    }

    /// Adds the keys of `saved` that `keep` accepts (after rescaling: the keys whose
    /// [`GroupKey::route`] leads to this worker). Restored into a new instance, the slots
    /// keep their places, so timers due at the same time fire in the same order as before
    /// the checkpoint; snapshots of further old workers are added after it.
    pub fn restore(&mut self, saved: SavedAlerts, mut keep: impl FnMut(&GroupKey) -> bool) {
        let kept = saved.slots.into_iter().map(|s| s.filter(|s| keep(&s.key)));
        if !self.slots.is_empty() {
            kept.flatten().for_each(|slot| {
                self.place(slot);
            });
            return;
        }
        self.free = saved.free;
        for (at, slot) in kept.enumerate() {
            if let Some(slot) = &slot {
                self.index.insert(slot.key.clone(), at);
                if let Some(t) = slot.timer {
                    self.timers.insert((t, at));
                }
            }
            self.slots.push(slot);
        }
        // A place that was taken and is now dropped becomes free, after the saved ones.
        let taken: Vec<usize> = (0..self.slots.len())
            .filter(|&at| self.slots[at].is_none() && !self.free.contains(&at))
            .collect();
        self.free.extend(taken);
    }

    /// Fires every timer due before `before` (timers at `t` act once records at `t` are in).
    pub fn fire_timers(&mut self, before: EventTime, out: &mut Vec<Event>) {
        while let Some(&(t, at)) = self.timers.first() {
            if t >= before {
                break;
            }
            self.timers.pop_first();
            let mut notices = Vec::new();
            let Some(slot) = self.slots[at].as_mut() else {
                continue;
            };
            slot.timer = None;
            let spec = &self.spec;
            let last = &slot.last;
            slot.state.on_time(
                t,
                &self.rules,
                || Arc::from(spec.id.render(last)),
                &mut notices,
                &mut self.suppressed,
            );
            self.finish_after(at, notices, Some(t), out);
        }
    }

    /// The operator's input has been silent on processing time for the deadman period:
    /// every key starts a deadman episode at event time `t`.
    pub fn on_silence(&mut self, t: EventTime, out: &mut Vec<Event>) {
        for at in 0..self.slots.len() {
            let mut notices = Vec::new();
            if let Some(slot) = self.slots[at].as_mut() {
                slot.state.on_silence(t, &mut notices);
            }
            self.finish(at, notices, out);
        }
    }

    fn finish(&mut self, at: usize, notices: Vec<Notice>, out: &mut Vec<Event>) {
        self.finish_after(at, notices, None, out);
    }

    /// Turns notices into records, reschedules the key's timer (after `fired`, the time of
    /// a timer just handled, so a timer can never spin), forgets a quiet key.
    fn finish_after(
        &mut self,
        at: usize,
        notices: Vec<Notice>,
        fired: Option<EventTime>,
        out: &mut Vec<Event>,
    ) {
        let Some(slot) = self.slots[at].as_mut() else {
            return;
        };
        for n in &notices {
            out.push(alert_event(&self.spec, &slot.last, n));
        }
        let next = slot
            .state
            .next_timer(&self.rules)
            .map(|n| fired.map_or(n, |f| n.max(f + 1)));
        if next != slot.timer {
            if let Some(old) = slot.timer {
                self.timers.remove(&(old, at));
            }
            if let Some(t) = next {
                self.timers.insert((t, at));
            }
            slot.timer = next;
        }
        if next.is_none() && slot.state.is_quiet(&self.rules) {
            if let Some(slot) = self.slots[at].take() {
                self.index.remove(&slot.key);
                self.free.push(at);
            }
        }
    }
}

/// The alert record of notice `n`: `last`, then the `alert.*` fields.
fn alert_event(spec: &AlertSpec, last: &Record, n: &Notice) -> Event {
    let id: Arc<str> = match n.kind {
        NoticeKind::Condition => n.id.clone(),
        NoticeKind::Deadman => Arc::from(format!("{}/deadman", spec.id.render(last))),
    };
    let kind = match n.kind {
        NoticeKind::Condition => "condition",
        NoticeKind::Deadman => "deadman",
    };
    let state = if n.change == Change::Resolved {
        "resolved"
    } else {
        "firing"
    };
    let mut record = Vec::with_capacity(last.len() + super::ALERT_FIELDS.len());
    record.extend_from_slice(last);
    record.extend([
        Value::Str(id),
        Value::str(kind),
        Value::str(n.change.name()),
        Value::str(n.level.name()),
        Value::str(n.previous.name()),
        Value::str(state),
        Value::Time(n.started_at),
        Value::Time(n.time),
        Value::Duration(n.time - n.started_at),
    ]);
    let message = spec.message.render(&record);
    record.push(Value::str(&message));
    Event::new(n.time, record)
}
