//! The bounded outbound buffer of one live connection.
//!
//! Topics push events without waiting; the connection's writer takes them out as fast as the
//! client reads. The buffer never grows past its limits: state topics ([`Delivery::Latest`])
//! keep only their newest event, stream topics ([`Delivery::Every`]) drop what does not fit and
//! count it, and the writer tells the client how many events of a topic were dropped right
//! before the next one it delivers (or as soon as the buffer is empty). Control messages
//! (acknowledgements, errors) wait for room instead, which stops reading a client's requests
//! until it reads the answers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use plb_domain::live::{ControlMessage, ServerMessage};
use tokio::sync::Notify;

use super::topics::Delivery;

/// Limits of one connection's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxLimits {
    /// Most messages queued (state topics may add one each beyond it).
    pub max_messages: usize,
    /// Most bytes queued (a single larger message is let through when the buffer is empty).
    pub max_bytes: usize,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        Self {
            max_messages: 256,
            max_bytes: 1024 * 1024,
        }
    }
}

/// Identifies one subscription of a topic on one connection, so events of an ended one are
/// refused even if its producer has not noticed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscriptionId(u64);

/// The buffer. Shared by the connection's reader, its topic producers and its writer.
pub struct Outbox {
    queue: Mutex<Queue>,
    limits: OutboxLimits,
    /// Wakes the writer (one permit is kept if it is not waiting).
    ready: Notify,
    /// Wakes a control message waiting for room.
    room: Notify,
}

#[derive(Default)]
struct Queue {
    messages: VecDeque<Queued>,
    bytes: usize,
    topics: HashMap<&'static str, Slot>,
    next_id: u64,
}

struct Slot {
    id: SubscriptionId,
    delivery: Delivery,
    /// Events of a stream topic dropped since the last one queued.
    dropped: u64,
}

struct Queued {
    kind: Kind,
    text: String,
    /// Events of the same topic dropped just before this one.
    dropped_before: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Control,
    Heartbeat,
    Event(&'static str),
}

impl Outbox {
    /// An empty buffer.
    pub fn new(limits: OutboxLimits) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            limits,
            ready: Notify::new(),
            room: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves a consistent queue (no partial updates).
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a control message, waiting until there is room.
    pub async fn control(&self, text: String) {
        let len = text.len();
        let mut text = Some(text);
        loop {
            {
                let mut queue = self.lock();
                if queue.fits(len, self.limits) {
                    if let Some(text) = text.take() {
                        queue.push(Kind::Control, text, 0);
                    }
                    drop(queue);
                    self.ready.notify_one();
                    return;
                }
            }
            self.room.notified().await;
        }
    }

    /// Queues a heartbeat: replaces one still queued, and is skipped when the buffer is full
    /// (a client that does not read learns nothing from more of them).
    pub fn heartbeat(&self, text: String) {
        let mut guard = self.lock();
        let queue = &mut *guard;
        if let Some(queued) = queue
            .messages
            .iter_mut()
            .find(|q| q.kind == Kind::Heartbeat)
        {
            queue.bytes = queue.bytes - queued.text.len() + text.len();
            queued.text = text;
            return;
        }
        if queue.fits(text.len(), self.limits) {
            queue.push(Kind::Heartbeat, text, 0);
            drop(guard);
            self.ready.notify_one();
        }
    }

    /// Starts a subscription to `topic`, ending an earlier one (its queued events are removed).
    pub fn subscribe(&self, topic: &'static str, delivery: Delivery) -> SubscriptionId {
        let mut queue = self.lock();
        queue.remove_topic(topic);
        queue.next_id += 1;
        let id = SubscriptionId(queue.next_id);
        queue.topics.insert(
            topic,
            Slot {
                id,
                delivery,
                dropped: 0,
            },
        );
        drop(queue);
        self.room.notify_one();
        id
    }

    /// Ends the subscription to `topic`, removing its queued events.
    pub fn unsubscribe(&self, topic: &str) {
        self.lock().remove_topic(topic);
        self.room.notify_one();
    }

    /// Queues an event of subscription `id` of `topic`, following the topic's delivery.
    /// Returns `false` when that subscription has ended: its producer should stop.
    pub fn event(&self, topic: &'static str, id: SubscriptionId, text: String) -> bool {
        let mut guard = self.lock();
        let queue = &mut *guard;
        let (delivery, dropped) = match queue.topics.get(topic) {
            Some(slot) if slot.id == id => (slot.delivery, slot.dropped),
            _ => return false,
        };
        match delivery {
            Delivery::Latest => {
                let kind = Kind::Event(topic);
                if let Some(queued) = queue.messages.iter_mut().find(|q| q.kind == kind) {
                    let old = std::mem::replace(&mut queued.text, text);
                    queued.dropped_before += 1;
                    let new_len = queued.text.len();
                    queue.bytes = queue.bytes - old.len() + new_len;
                } else {
                    // At most one per topic: bounded without a capacity check.
                    queue.push(kind, text, 0);
                }
            }
            Delivery::Every => {
                if queue.fits(text.len(), self.limits) {
                    if let Some(slot) = queue.topics.get_mut(topic) {
                        slot.dropped = 0;
                    }
                    queue.push(Kind::Event(topic), text, dropped);
                } else if let Some(slot) = queue.topics.get_mut(topic) {
                    slot.dropped += 1;
                }
            }
        }
        drop(guard);
        self.ready.notify_one();
        true
    }

    /// The next messages to write, in order, waiting until there is one: an event may be
    /// preceded by the `dropped` notice of its topic.
    pub async fn next(&self) -> Vec<String> {
        loop {
            let taken = self.take();
            if !taken.is_empty() {
                self.room.notify_one();
                return taken;
            }
            self.ready.notified().await;
        }
    }

    fn take(&self) -> Vec<String> {
        let mut queue = self.lock();
        if let Some(queued) = queue.messages.pop_front() {
            queue.bytes -= queued.text.len();
            return match queued.kind {
                Kind::Event(topic) if queued.dropped_before > 0 => {
                    vec![dropped_notice(topic, queued.dropped_before), queued.text]
                }
                _ => vec![queued.text],
            };
        }
        // Nothing queued: report drops that no later event has carried yet.
        queue
            .topics
            .iter_mut()
            .filter(|(_, slot)| slot.dropped > 0)
            .map(|(topic, slot)| dropped_notice(topic, std::mem::take(&mut slot.dropped)))
            .collect()
    }
}

impl Queue {
    fn fits(&self, len: usize, limits: OutboxLimits) -> bool {
        self.messages.is_empty()
            || (self.messages.len() < limits.max_messages && self.bytes + len <= limits.max_bytes)
    }

    fn push(&mut self, kind: Kind, text: String, dropped_before: u64) {
        self.bytes += text.len();
        self.messages.push_back(Queued {
            kind,
            text,
            dropped_before,
        });
    }

    fn remove_topic(&mut self, topic: &str) {
        self.topics.remove(topic);
        let mut freed = 0;
        self.messages.retain(|queued| match queued.kind {
            Kind::Event(name) if name == topic => {
                freed += queued.text.len();
                false
            }
            _ => true,
        });
        self.bytes -= freed;
    }
}

fn dropped_notice(topic: &str, count: u64) -> String {
    let notice: ControlMessage = ServerMessage::Dropped {
        topic: topic.to_owned(),
        count,
    };
    serde_json::to_string(&notice).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    fn small() -> Outbox {
        Outbox::new(OutboxLimits {
            max_messages: 3,
            max_bytes: 1000,
        })
    }

    fn drain(outbox: &Outbox) -> Vec<String> {
        let mut all = Vec::new();
        while let Some(batch) = outbox.next().now_or_never() {
            all.extend(batch);
        }
        all
    }

    #[test]
    fn a_state_topic_keeps_only_its_newest_event_and_counts_the_rest() {
        let outbox = small();
        let id = outbox.subscribe("cluster", Delivery::Latest);
        for version in 1..=50 {
            assert!(outbox.event("cluster", id, format!("v{version}")));
        }
        assert_eq!(
            drain(&outbox),
            vec![
                r#"{"type":"dropped","topic":"cluster","count":49}"#.to_owned(),
                "v50".to_owned()
            ]
        );
    }

    #[test]
    fn a_stream_topic_drops_what_does_not_fit_and_says_so_before_the_next_event() {
        let outbox = small();
        let id = outbox.subscribe("logs", Delivery::Every);
        for line in 1..=10 {
            assert!(outbox.event("logs", id, format!("l{line}")));
        }
        // Three fit; seven were dropped. Nothing else is queued, so the notice comes last.
        assert_eq!(
            drain(&outbox),
            vec![
                "l1".to_owned(),
                "l2".to_owned(),
                "l3".to_owned(),
                r#"{"type":"dropped","topic":"logs","count":7}"#.to_owned()
            ]
        );
        for line in 11..=14 {
            outbox.event("logs", id, format!("l{line}"));
        }
        outbox.event("logs", id, "l15".into());
        let next = drain(&outbox);
        assert_eq!(next[..3], ["l11", "l12", "l13"]);
        assert_eq!(
            next[3..],
            [r#"{"type":"dropped","topic":"logs","count":2}"#.to_owned()]
        );
    }

    #[test]
    fn a_notice_precedes_the_first_event_after_a_gap() {
        let outbox = small();
        let id = outbox.subscribe("logs", Delivery::Every);
        for line in 1..=5 {
            outbox.event("logs", id, format!("l{line}"));
        }
        assert_eq!(outbox.next().now_or_never(), Some(vec!["l1".to_owned()]));
        outbox.event("logs", id, "l6".into());
        assert_eq!(
            drain(&outbox),
            vec![
                "l2".to_owned(),
                "l3".to_owned(),
                r#"{"type":"dropped","topic":"logs","count":2}"#.to_owned(),
                "l6".to_owned()
            ]
        );
    }

    #[test]
    fn the_byte_limit_holds_as_well_as_the_message_limit() {
        let outbox = Outbox::new(OutboxLimits {
            max_messages: 100,
            max_bytes: 10,
        });
        let id = outbox.subscribe("logs", Delivery::Every);
        outbox.event("logs", id, "12345678".into());
        outbox.event("logs", id, "123".into());
        outbox.event("logs", id, "12".into());
        assert_eq!(
            drain(&outbox),
            vec![
                "12345678".to_owned(),
                r#"{"type":"dropped","topic":"logs","count":1}"#.to_owned(),
                "12".to_owned()
            ]
        );
        // One message larger than the whole limit still goes out on its own.
        outbox.event("logs", id, "x".repeat(50));
        assert_eq!(drain(&outbox), vec!["x".repeat(50)]);
    }

    #[test]
    fn events_of_an_ended_subscription_are_removed_and_refused() {
        let outbox = small();
        let old = outbox.subscribe("cluster", Delivery::Latest);
        outbox.event("cluster", old, "old".into());
        let new = outbox.subscribe("cluster", Delivery::Latest);
        assert!(!outbox.event("cluster", old, "late".into()));
        assert!(outbox.event("cluster", new, "new".into()));
        assert_eq!(drain(&outbox), vec!["new".to_owned()]);
        outbox.event("cluster", new, "queued".into());
        outbox.unsubscribe("cluster");
        assert!(!outbox.event("cluster", new, "after".into()));
        assert!(drain(&outbox).is_empty());
    }

    #[test]
    fn heartbeats_do_not_pile_up() {
        let outbox = small();
        for beat in 1..=10 {
            outbox.heartbeat(format!("b{beat}"));
        }
        assert_eq!(drain(&outbox), vec!["b10".to_owned()]);
    }

    #[tokio::test]
    async fn a_control_message_waits_for_room() {
        let outbox = std::sync::Arc::new(small());
        for n in 0..3 {
            outbox.control(format!("c{n}")).await;
        }
        let waiting = outbox.control("c3".into());
        futures::pin_mut!(waiting);
        assert!(waiting.as_mut().now_or_never().is_none(), "no room yet");
        assert_eq!(outbox.next().await, vec!["c0".to_owned()]);
        assert!(waiting.now_or_never().is_some(), "room after one was taken");
        assert_eq!(drain(&outbox), vec!["c1", "c2", "c3"]);
    }
}
