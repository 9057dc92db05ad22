//! Grouped notifications (Alertmanager's `group_by`, `group_wait`, `group_interval`) on
//! event time: the alert events of one group — equal values of the `group by` fields —
//! become one notification listing them. A group's first alert opens it and its first
//! notification goes out `wait` later; after that, changes are gathered and sent at most
//! once per `interval`, on the group's ticks (last notification + k × interval). Resolved
//! alerts leave the group once they were sent; an empty group is forgotten, so the next
//! alert waits `wait` again. Everything is a function of event times, so replays and
//! runs on any number of workers send the same notifications.
//!
//! Checkpoints save [`Groups::saved`] (every open group and the free places) and restore
//! with [`Groups::restore`], keeping the groups whose key routes to the worker.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use super::{Level, ALERT_FIELDS};
use crate::event::Event;
use crate::key::{GroupKey, KeyView};
use crate::schema::{Field, Schema, Type};
use crate::time::EventTime;
use crate::value::Value;

/// `group by <fields> [wait <d>] [interval <d>]` of an `alert` stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSpec {
    /// The alert's name (the start of `alert.group`).
    pub name: String,
    /// Slots of the `group by` fields in the alert event record.
    pub by: Vec<usize>,
    /// Fields in the records the alert stage reads (the `alert.*` fields follow them).
    pub input_width: usize,
    /// `group_wait`: how long a new group gathers alerts before its first notification.
    pub wait_ms: i64,
    /// `group_interval`: the least time between two notifications of a group.
    pub interval_ms: i64,
}

/// Alertmanager's defaults.
pub const DEFAULT_WAIT_MS: i64 = 30_000;
/// Alertmanager's defaults.
pub const DEFAULT_INTERVAL_MS: i64 = 300_000;

/// Fields a notification has after the `group by` fields, in order.
pub const GROUP_FIELDS: [(&str, Type); 8] = [
    ("alert.group", Type::String),
    ("alert.status", Type::String),
    ("alert.level", Type::String),
    ("alert.firing", Type::Int),
    ("alert.resolved", Type::Int),
    ("alert.ids", Type::String),
    ("alert.time", Type::Timestamp),
    ("alert.message", Type::String),
];

/// The schema of notifications: the `group by` fields (from `alerts`, the alert event
/// schema), then [`GROUP_FIELDS`].
pub fn group_output_schema(spec: &GroupSpec, alerts: &Schema) -> Schema {
    let mut fields: Vec<Field> = spec
        .by
        .iter()
        .filter_map(|&s| alerts.fields.get(s).cloned())
        .collect();
    fields.extend(GROUP_FIELDS.iter().map(|(n, t)| Field::new(*n, *t)));
    Schema::new(fields)
}

/// What a group last heard of one alert id.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Member {
    firing: bool,
    level: Level,
    message: Arc<str>,
}

/// What a checkpoint holds of [`Groups`] (see [`Groups::saved`]).
#[derive(Serialize)]
#[serde(rename = "SavedGroups")]
pub struct SavedGroupsRef<'a> {
    slots: &'a [Option<Group>],
    free: &'a [usize],
}

/// A [`Groups`] snapshot read back, for [`Groups::restore`].
#[derive(Deserialize)]
pub struct SavedGroups {
    slots: Vec<Option<Group>>,
    free: Vec<usize>,
}

/// One open group: its alerts by id and when it next notifies.
#[derive(Serialize, Deserialize)]
struct Group {
    key: GroupKey,
    members: BTreeMap<Arc<str>, Member>,
    /// Something changed since the last notification.
    dirty: bool,
    next: Option<EventTime>,
    last_sent: Option<EventTime>,
}

/// Every group of one worker (the stream is exchanged by the `group by` fields).
pub struct Groups {
    spec: GroupSpec,
    by: Arc<[usize]>,
    index: HashMap<GroupKey, usize>,
    slots: Vec<Option<Group>>,
    free: Vec<usize>,
    timers: BTreeSet<(EventTime, usize)>,
}

impl Groups {
    /// The groups held and an estimate of their bytes: index entries, slots, members and
    /// timers by their in-line sizes (heap behind strings is not counted).
    pub fn size(&self) -> crate::metrics::operators::StateSize {
        let entry = std::mem::size_of::<GroupKey>() + std::mem::size_of::<usize>();
        let slot = std::mem::size_of::<Option<Group>>();
        let member = std::mem::size_of::<(Arc<str>, Member)>();
        let timer = std::mem::size_of::<(EventTime, usize)>();
        let members: usize = (self.slots.iter().flatten())
            .map(|g| g.members.len() * member)
            .sum();
        let bytes = self.index.len() * entry
            + self.slots.len() * slot
            + members
            + self.timers.len() * timer;
        crate::metrics::operators::StateSize {
            keys: self.index.len() as u64,
            bytes: bytes as u64,
        }
    }

    /// No groups yet.
    pub fn new(spec: &GroupSpec) -> Groups {
        Groups {
            by: spec.by.as_slice().into(),
            spec: spec.clone(),
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: BTreeSet::new(),
        }
    }

    /// Groups with alerts.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no group is open.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Takes one alert event (in event-time order); schedules its group's notification.
    pub fn on_alert(&mut self, event: &Event) {
        let at = self.slot_of(event);
        let Some(group) = self.slots[at].as_mut() else {
            return;
        };
        let w = self.spec.input_width;
        let text = |i: usize| match event.record.get(w + i) {
            Some(Value::Str(s)) => s.clone(),
            _ => Arc::from(""),
        };
        let level = match &*text(3) {
            "critical" => Level::Critical,
            "warning" => Level::Warning,
            "info" => Level::Info,
            _ => Level::Ok,
        };
        let member = Member {
            firing: &*text(5) == "firing",
            level,
            message: text(ALERT_FIELDS.len() - 1),
        };
        group.members.insert(text(0), member);
        group.dirty = true;
        if group.next.is_none() {
            let t = event.time;
            let next = match group.last_sent {
                None => t + self.spec.wait_ms,
                Some(last) => next_tick(last, t, self.spec.interval_ms),
            };
            group.next = Some(next);
            self.timers.insert((next, at));
        }
    }

    /// The slot of `event`'s group, opened if new.
    fn slot_of(&mut self, event: &Event) -> usize {
        let view = KeyView {
            record: &event.record,
            slots: &self.by,
        };
        if let Some(&at) = self.index.get(&view) {
            return at;
        }
        let group = Group {
            key: view.to_owned(),
            members: BTreeMap::new(),
            dirty: false,
            next: None,
            last_sent: None,
        };
        self.place(group)
    }

    /// Puts a group in a free place (or at the end); its notification joins the queue.
    fn place(&mut self, group: Group) -> usize {
        let at = self.free.pop().unwrap_or(self.slots.len());
        self.index.insert(group.key.clone(), at);
        if let Some(t) = group.next {
            self.timers.insert((t, at));
        }
        if at == self.slots.len() {
            self.slots.push(Some(group));
        } else {
            self.slots[at] = Some(group);
        }
        at
    }

    /// The state a checkpoint saves, borrowed: every open group and the free places (the
    /// timer queue is each group's `next`, rebuilt on restore).
    pub fn saved(&self) -> SavedGroupsRef<'_> {
        SavedGroupsRef {
            slots: &self.slots,
            free: &self.free,
        }
    }

    /// Adds the groups of `saved` that `keep` accepts (after rescaling: the keys whose
    /// [`GroupKey::route`] leads to this worker). Restored into a new instance, groups keep
    /// their places, so notifications due at the same time go out in the same order.
    pub fn restore(&mut self, saved: SavedGroups, mut keep: impl FnMut(&GroupKey) -> bool) {
        let kept = saved.slots.into_iter().map(|g| g.filter(|g| keep(&g.key)));
        if !self.slots.is_empty() {
            kept.flatten().for_each(|group| {
                self.place(group);
            });
            return;
        }
        self.free = saved.free;
        for (at, group) in kept.enumerate() {
            if let Some(group) = &group {
                self.index.insert(group.key.clone(), at);
                if let Some(t) = group.next {
                    self.timers.insert((t, at));
                }
            }
            self.slots.push(group);
        }
        // A place that was taken and is now dropped becomes free, after the saved ones.
        let taken: Vec<usize> = (0..self.slots.len())
            .filter(|&at| self.slots[at].is_none() && !self.free.contains(&at))
            .collect();
        self.free.extend(taken);
    }

    /// Sends every notification due before `before`.
    pub fn fire_timers(&mut self, before: EventTime, out: &mut Vec<Event>) {
        while let Some(&(t, at)) = self.timers.first() {
            if t >= before {
                break;
            }
            self.timers.pop_first();
            self.notify(at, t, out);
        }
    }

    /// Group `at`'s notification at `t`; resolved alerts leave, an empty group closes.
    fn notify(&mut self, at: usize, t: EventTime, out: &mut Vec<Event>) {
        let Some(group) = self.slots[at].as_mut() else {
            return;
        };
        if group.dirty {
            out.push(notification(&self.spec, group, t));
        }
        group.members.retain(|_, m| m.firing);
        group.dirty = false;
        group.next = None;
        group.last_sent = Some(t);
        if group.members.is_empty() {
            if let Some(group) = self.slots[at].take() {
                self.index.remove(&group.key);
                self.free.push(at);
            }
        }
    }
}

/// The first tick of a group last notified at `last` that is not before `t`
/// (Alertmanager's group ticker runs every interval from the first notification).
fn next_tick(last: EventTime, t: EventTime, interval: i64) -> EventTime {
    let interval = interval.max(1);
    let behind = (t - last).max(0);
    let ticks = (behind + interval - 1) / interval;
    last + interval * ticks.max(1)
}

/// One notification: the group's values, then [`GROUP_FIELDS`]. Firing alerts are
/// listed first, each part ordered by id.
fn notification(spec: &GroupSpec, group: &Group, t: EventTime) -> Event {
    let firing: Vec<(&Arc<str>, &Member)> =
        group.members.iter().filter(|(_, m)| m.firing).collect();
    let resolved: Vec<(&Arc<str>, &Member)> =
        group.members.iter().filter(|(_, m)| !m.firing).collect();
    let level = firing
        .iter()
        .map(|(_, m)| m.level)
        .max()
        .unwrap_or(Level::Ok);
    let listed = || firing.iter().chain(&resolved);
    let ids: Vec<&str> = listed().map(|(id, _)| &***id).collect();
    let messages: Vec<&str> = listed().map(|(_, m)| &*m.message).collect();
    let values: Vec<String> = group
        .key
        .0
        .iter()
        .map(|v| match v {
            Value::Str(s) => s.to_string(),
            v => v.to_string(),
        })
        .collect();
    let mut record: Vec<Value> = group.key.0.to_vec();
    record.extend([
        Value::str(&format!("{}:{}", spec.name, values.join(","))),
        Value::str(if firing.is_empty() {
            "resolved"
        } else {
            "firing"
        }),
        Value::str(level.name()),
        Value::Int(firing.len() as i64),
        Value::Int(resolved.len() as i64),
        Value::str(&ids.join(", ")),
        Value::Time(t),
        Value::str(&messages.join("\n")),
    ]);
    Event::new(t, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_the_last_notification() {
        assert_eq!(next_tick(1000, 1000, 300), 1300);
        assert_eq!(next_tick(1000, 1100, 300), 1300);
        assert_eq!(next_tick(1000, 1300, 300), 1300);
        assert_eq!(next_tick(1000, 1301, 300), 1600);
    }
}
