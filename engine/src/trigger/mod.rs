//! Triggers as state machines: when a window's panes fire, following Beam's trigger
//! algebra (the Python SDK's trigger driver is the reference).
//!
//! A plan [`Trigger`] is compiled once into a flat [`TriggerMachine`]; each window holds a
//! small [`TriggerState`] (one slot per node). The window operator calls
//! [`TriggerMachine::on_element`] for every element, asks [`TriggerMachine::should_fire`]
//! after each element and on every timer, and calls [`TriggerMachine::on_fire`] when it
//! emits a pane, which says whether the trigger is finished (the window then closes).

use crate::plan::Trigger;
use crate::time::EventTime;

/// What a trigger may look at when deciding to fire.
#[derive(Clone, Copy, Debug)]
pub struct TriggerContext {
    /// The input watermark (`EventTime::MAX` once the input has ended).
    pub watermark: EventTime,
    /// Processing time now.
    pub now: EventTime,
    /// The window's exclusive end.
    pub end: EventTime,
}

impl TriggerContext {
    fn past_end(&self) -> bool {
        self.watermark >= self.end
    }
}

#[derive(Clone, Debug)]
enum Node {
    Watermark {
        early: Option<usize>,
        late: Option<usize>,
    },
    Count(u64),
    Processing(i64),
    Repeat(usize),
    Any(Vec<usize>),
    All(Vec<usize>),
    Each(Vec<usize>),
    Until(usize, usize),
    Never,
}

/// A compiled trigger. Node 0 is the root.
#[derive(Clone, Debug)]
pub struct TriggerMachine {
    nodes: Vec<Node>,
    /// Every node's descendants (itself included) as a range of node ids: nodes are laid
    /// out in pre-order, so a subtree is contiguous.
    extent: Vec<usize>,
}

/// One slot per node: whether it has finished, and a number whose meaning depends on the
/// node (elements counted, processing deadline, position in a sequence, late phase).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Slot {
    finished: bool,
    value: i64,
}

/// No deadline set.
const NO_DEADLINE: i64 = i64::MAX;

/// The trigger state of one window.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TriggerState {
    slots: Box<[Slot]>,
}

impl TriggerMachine {
    /// Compiles a plan trigger.
    pub fn new(trigger: &Trigger) -> TriggerMachine {
        let mut m = TriggerMachine {
            nodes: Vec::new(),
            extent: Vec::new(),
        };
        m.add(trigger);
        m
    }

    fn add(&mut self, t: &Trigger) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node::Never);
        self.extent.push(id + 1);
        let node = match t {
            Trigger::Watermark { early, late } => Node::Watermark {
                early: early.as_deref().map(|e| self.add(e)),
                late: late.as_deref().map(|l| self.add(l)),
            },
            Trigger::Count(n) => Node::Count((*n).max(1)),
            Trigger::Processing(d) => Node::Processing((*d).max(0)),
            Trigger::Repeat(inner) => Node::Repeat(self.add(inner)),
            Trigger::Any(ts) => Node::Any(ts.iter().map(|t| self.add(t)).collect()),
            Trigger::All(ts) => Node::All(ts.iter().map(|t| self.add(t)).collect()),
            Trigger::Each(ts) => Node::Each(ts.iter().map(|t| self.add(t)).collect()),
            Trigger::Until(t, u) => {
                let a = self.add(t);
                let b = self.add(u);
                Node::Until(a, b)
            }
            Trigger::Never => Node::Never,
        };
        self.nodes[id] = node;
        self.extent[id] = self.nodes.len();
        id
    }

    /// A fresh state for a new window.
    pub fn init(&self) -> TriggerState {
        let mut state = TriggerState {
            slots: vec![Slot::default(); self.nodes.len()].into_boxed_slice(),
        };
        self.reset(0, &mut state);
        state
    }

    fn reset(&self, node: usize, state: &mut TriggerState) {
        for id in node..self.extent[node] {
            state.slots[id] = Slot {
                finished: false,
                value: match self.nodes[id] {
                    Node::Processing(_) => NO_DEADLINE,
                    _ => 0,
                },
            };
        }
    }

    /// Whether the trigger has finished: the window fires no more panes.
    pub fn is_finished(&self, state: &TriggerState) -> bool {
        state.slots[0].finished
    }

    /// The earliest processing-time deadline the trigger waits for, if any.
    pub fn next_deadline(&self, state: &TriggerState) -> Option<EventTime> {
        self.nodes
            .iter()
            .zip(state.slots.iter())
            .filter(|(n, s)| matches!(n, Node::Processing(_)) && !s.finished)
            .map(|(_, s)| s.value)
            .filter(|&d| d != NO_DEADLINE)
            .min()
    }

    /// Records an element arriving in the window.
    pub fn on_element(&self, state: &mut TriggerState, cx: &TriggerContext) {
        self.element(0, state, cx);
    }

    fn element(&self, id: usize, state: &mut TriggerState, cx: &TriggerContext) {
        if state.slots[id].finished {
            return;
        }
        match &self.nodes[id] {
            Node::Watermark { early, late } => {
                let in_late_phase = state.slots[id].value != 0;
                let next = if in_late_phase { late } else { early };
                if let Some(child) = *next {
                    self.element(child, state, cx);
                }
            }
            Node::Count(_) => state.slots[id].value += 1,
            Node::Processing(delay) => {
                if state.slots[id].value == NO_DEADLINE {
                    state.slots[id].value = cx.now.saturating_add(*delay);
                }
            }
            Node::Repeat(child) => self.element(*child, state, cx),
            Node::Any(children) | Node::All(children) => {
                for &c in children {
                    self.element(c, state, cx);
                }
            }
            Node::Each(children) => {
                if let Some(&c) = children.get(state.slots[id].value as usize) {
                    self.element(c, state, cx);
                }
            }
            Node::Until(a, b) => {
                self.element(*a, state, cx);
                self.element(*b, state, cx);
            }
            Node::Never => {}
        }
    }

    /// Whether the trigger wants to fire a pane now.
    pub fn should_fire(&self, state: &TriggerState, cx: &TriggerContext) -> bool {
        self.fire_ready(0, state, cx)
    }

    fn fire_ready(&self, id: usize, state: &TriggerState, cx: &TriggerContext) -> bool {
        let slot = state.slots[id];
        if slot.finished {
            return false;
        }
        match &self.nodes[id] {
            Node::Watermark { early, late } => {
                if slot.value != 0 {
                    // After the on-time pane: only the late trigger (if any) fires.
                    match late {
                        Some(l) => self.fire_ready(*l, state, cx),
                        None => cx.past_end(),
                    }
                } else if cx.past_end() {
                    true
                } else {
                    early.is_some_and(|e| self.fire_ready(e, state, cx))
                }
            }
            Node::Count(n) => slot.value >= *n as i64,
            Node::Processing(_) => slot.value != NO_DEADLINE && cx.now >= slot.value,
            Node::Repeat(child) => self.fire_ready(*child, state, cx),
            Node::Any(children) => children.iter().any(|&c| self.fire_ready(c, state, cx)),
            Node::All(children) => {
                let mut open = children
                    .iter()
                    .filter(|&&c| !state.slots[c].finished)
                    .peekable();
                open.peek().is_some() && open.all(|&c| self.fire_ready(c, state, cx))
            }
            Node::Each(children) => children
                .get(slot.value as usize)
                .is_some_and(|&c| self.fire_ready(c, state, cx)),
            Node::Until(a, b) => self.fire_ready(*a, state, cx) || self.fire_ready(*b, state, cx),
            Node::Never => false,
        }
    }

    /// Records that a pane fired; returns whether the trigger is now finished.
    pub fn on_fire(&self, state: &mut TriggerState, cx: &TriggerContext) -> bool {
        self.fire(0, state, cx)
    }

    fn fire(&self, id: usize, state: &mut TriggerState, cx: &TriggerContext) -> bool {
        let finished = match &self.nodes[id] {
            Node::Watermark { early, late } => {
                if state.slots[id].value != 0 {
                    match late {
                        Some(l) => {
                            // Late firings repeat.
                            if self.fire(*l, state, cx) {
                                self.reset(*l, state);
                            }
                            false
                        }
                        None => true,
                    }
                } else if cx.past_end() {
                    state.slots[id].value = 1;
                    late.is_none()
                } else {
                    // Early firings repeat.
                    if let Some(e) = *early {
                        if self.fire(e, state, cx) {
                            self.reset(e, state);
                        }
                    }
                    false
                }
            }
            Node::Count(_) | Node::Processing(_) => true,
            Node::Repeat(child) => {
                if self.fire(*child, state, cx) {
                    self.reset(*child, state);
                }
                false
            }
            Node::Any(children) => {
                let mut any_finished = false;
                for &c in children {
                    if self.fire_ready(c, state, cx) {
                        any_finished |= self.fire(c, state, cx);
                    }
                }
                any_finished
            }
            Node::All(children) => {
                let mut all_finished = true;
                for &c in children {
                    if !state.slots[c].finished {
                        all_finished &= self.fire(c, state, cx);
                    }
                }
                all_finished
            }
            Node::Each(children) => {
                let pos = state.slots[id].value as usize;
                match children.get(pos) {
                    Some(&c) => {
                        if self.fire(c, state, cx) {
                            state.slots[id].value += 1;
                        }
                        state.slots[id].value as usize >= children.len()
                    }
                    None => true,
                }
            }
            Node::Until(a, b) => {
                if self.fire_ready(*b, state, cx) {
                    self.fire(*b, state, cx);
                    true
                } else {
                    self.fire(*a, state, cx)
                }
            }
            Node::Never => false,
        };
        if finished {
            state.slots[id].finished = true;
        }
        finished
    }

    /// Merges the states of windows that merge into one (sessions): counts add up, the
    /// earliest deadline wins, and a node is finished or in its late phase if it was in
    /// any of the merged windows — the late phase only while the merged window's end is
    /// behind the watermark.
    pub fn merge(&self, into: &mut TriggerState, from: &TriggerState, cx: &TriggerContext) {
        for (id, node) in self.nodes.iter().enumerate() {
            let (a, b) = (into.slots[id], from.slots[id]);
            let value = match node {
                Node::Count(_) => a.value.saturating_add(b.value),
                Node::Processing(_) => a.value.min(b.value),
                Node::Watermark { .. } => i64::from((a.value | b.value) != 0 && cx.past_end()),
                Node::Each(_) => a.value.min(b.value),
                _ => a.value,
            };
            into.slots[id] = Slot {
                finished: a.finished || b.finished,
                value,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(watermark: EventTime, now: EventTime) -> TriggerContext {
        TriggerContext {
            watermark,
            now,
            end: 100,
        }
    }

    /// Feeds elements and fires whenever ready; returns the element counts at which the
    /// trigger fired and whether it finished.
    fn drive(t: &Trigger, steps: &[(EventTime, EventTime)]) -> (Vec<usize>, bool) {
        let m = TriggerMachine::new(t);
        let mut s = m.init();
        let mut fired = Vec::new();
        for (i, &(wm, now)) in steps.iter().enumerate() {
            let c = cx(wm, now);
            if m.is_finished(&s) {
                break;
            }
            m.on_element(&mut s, &c);
            if m.should_fire(&s, &c) {
                fired.push(i + 1);
                m.on_fire(&mut s, &c);
            }
        }
        (fired, m.is_finished(&s))
    }

    #[test]
    fn count_fires_once_and_repeat_forever() {
        let steps = [(0, 0); 7];
        assert_eq!(drive(&Trigger::Count(3), &steps), (vec![3], true));
        assert_eq!(
            drive(&Trigger::Repeat(Box::new(Trigger::Count(3))), &steps),
            (vec![3, 6], false)
        );
    }

    #[test]
    fn default_trigger_fires_on_time_then_per_late_element() {
        let t = Trigger::default_for_windows();
        let m = TriggerMachine::new(&t);
        let mut s = m.init();
        m.on_element(&mut s, &cx(50, 0));
        assert!(!m.should_fire(&s, &cx(50, 0)));
        assert!(m.should_fire(&s, &cx(100, 0)), "watermark passed the end");
        assert!(!m.on_fire(&mut s, &cx(100, 0)));
        // A late element fires again.
        m.on_element(&mut s, &cx(120, 0));
        assert!(m.should_fire(&s, &cx(120, 0)));
    }

    #[test]
    fn watermark_with_early_and_late_firings() {
        let t = Trigger::Watermark {
            early: Some(Box::new(Trigger::Count(2))),
            late: Some(Box::new(Trigger::Count(1))),
        };
        let m = TriggerMachine::new(&t);
        let mut s = m.init();
        let early = cx(10, 0);
        m.on_element(&mut s, &early);
        assert!(!m.should_fire(&s, &early));
        m.on_element(&mut s, &early);
        assert!(m.should_fire(&s, &early), "two elements: early firing");
        assert!(!m.on_fire(&mut s, &early));
        m.on_element(&mut s, &early);
        assert!(!m.should_fire(&s, &early), "the early count restarted");
        let on_time = cx(100, 0);
        assert!(m.should_fire(&s, &on_time));
        assert!(!m.on_fire(&mut s, &on_time));
        assert!(!m.should_fire(&s, &on_time), "nothing late yet");
        m.on_element(&mut s, &on_time);
        assert!(m.should_fire(&s, &on_time), "one late element");
        assert!(!m.on_fire(&mut s, &on_time));
        assert!(!m.is_finished(&s));
    }

    #[test]
    fn plain_watermark_finishes_on_time() {
        let t = Trigger::on_watermark();
        let m = TriggerMachine::new(&t);
        let mut s = m.init();
        m.on_element(&mut s, &cx(0, 0));
        assert!(m.on_fire(&mut s, &cx(100, 0)));
        assert!(m.is_finished(&s));
    }

    #[test]
    fn processing_time_counts_from_the_first_element() {
        let t = Trigger::Repeat(Box::new(Trigger::Processing(10)));
        let m = TriggerMachine::new(&t);
        let mut s = m.init();
        m.on_element(&mut s, &cx(0, 5));
        m.on_element(&mut s, &cx(0, 8));
        assert_eq!(m.next_deadline(&s), Some(15));
        assert!(!m.should_fire(&s, &cx(0, 14)));
        assert!(m.should_fire(&s, &cx(0, 15)));
        m.on_fire(&mut s, &cx(0, 15));
        assert_eq!(m.next_deadline(&s), None, "reset until the next element");
        m.on_element(&mut s, &cx(0, 30));
        assert_eq!(m.next_deadline(&s), Some(40));
    }

    #[test]
    fn composites_follow_beam() {
        let steps = [(0, 0); 6];
        let each = Trigger::Each(vec![Trigger::Count(1), Trigger::Count(2)]);
        assert_eq!(drive(&each, &steps), (vec![1, 3], true));
        let any = Trigger::Any(vec![Trigger::Count(4), Trigger::Count(2)]);
        assert_eq!(drive(&any, &steps), (vec![2], true));
        let all = Trigger::All(vec![Trigger::Count(1), Trigger::Count(3)]);
        assert_eq!(drive(&all, &steps), (vec![3], true));
        let until = Trigger::Until(
            Box::new(Trigger::Repeat(Box::new(Trigger::Count(1)))),
            Box::new(Trigger::Count(3)),
        );
        assert_eq!(drive(&until, &steps), (vec![1, 2, 3], true));
        assert_eq!(drive(&Trigger::Never, &steps), (vec![], false));
    }

    #[test]
    fn merged_states_add_counts_and_keep_the_earliest_deadline() {
        let t = Trigger::Any(vec![Trigger::Count(3), Trigger::Processing(10)]);
        let m = TriggerMachine::new(&t);
        let mut a = m.init();
        let mut b = m.init();
        m.on_element(&mut a, &cx(0, 5));
        m.on_element(&mut b, &cx(0, 1));
        m.on_element(&mut b, &cx(0, 2));
        m.merge(&mut a, &b, &cx(0, 3));
        assert!(
            m.should_fire(&a, &cx(0, 3)),
            "1 + 2 elements reach count(3)"
        );
        assert_eq!(m.next_deadline(&a), Some(11));
    }
}
