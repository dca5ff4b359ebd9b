//! A bounded, sequence-numbered buffer of the newest items: what the log service keeps in
//! memory, and what its pages and live subscriptions read.
//!
//! Every item gets the next sequence number (1, 2, 3, … with no holes), so a reader that
//! remembers the last number it saw can always ask for what came after it: nothing is repeated,
//! and if the buffer has dropped items the reader has not seen, it learns exactly how many.

use std::collections::VecDeque;
use std::sync::Arc;

/// The newest `capacity` items, each with its sequence number.
#[derive(Debug)]
pub struct Ring<T> {
    items: VecDeque<Arc<T>>,
    capacity: usize,
    /// Sequence number of `items[0]` (or of the next item while empty).
    first_seq: u64,
}

/// What [`Ring::read_after`] found.
#[derive(Debug)]
pub struct Read<T> {
    /// Items after the cursor that the ring no longer holds (evicted before they were read).
    pub missed: u64,
    /// The items, oldest first, with their sequence numbers.
    pub items: Vec<(u64, Arc<T>)>,
}

/// One page of matching items (see [`Ring::page`]).
#[derive(Debug)]
pub struct Page<T> {
    /// The items, oldest first, with their sequence numbers.
    pub items: Vec<(u64, Arc<T>)>,
    /// More matching items lie beyond the page in the direction it was read.
    pub has_more: bool,
}

/// Which way a page is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The newest matching items with a number below `before` (all when `None`).
    Newest {
        /// Exclusive upper bound.
        before: Option<u64>,
    },
    /// The oldest matching items with a number above `after`.
    After {
        /// Exclusive lower bound.
        after: u64,
    },
}

impl<T> Ring<T> {
    /// An empty ring for at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            first_seq: 1,
        }
    }

    /// How many items are held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The most items held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number the next item gets.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.items.len() as u64
    }

    /// The number of the newest item ever added (0 before the first).
    pub fn newest_seq(&self) -> u64 {
        self.next_seq() - 1
    }

    /// The number of the oldest item held (`None` while empty).
    pub fn oldest_seq(&self) -> Option<u64> {
        (!self.items.is_empty()).then_some(self.first_seq)
    }

    /// Adds `item` with the next number (returned), dropping the oldest item when full.
    pub fn push(&mut self, item: Arc<T>) -> u64 {
        let seq = self.next_seq();
        if self.items.len() == self.capacity {
            self.items.pop_front();
            self.first_seq += 1;
        }
        self.items.push_back(item);
        seq
    }

    /// Up to `max` items with numbers above `after`, oldest first, and how many such items were
    /// dropped before they could be read.
    pub fn read_after(&self, after: u64, max: usize) -> Read<T> {
        let wanted = after.saturating_add(1);
        let missed = self.first_seq.saturating_sub(wanted);
        let start = wanted.max(self.first_seq);
        let items = self
            .index_of(start)
            .map(|index| {
                self.items
                    .range(index..)
                    .take(max)
                    .enumerate()
                    .map(|(offset, item)| (start + offset as u64, Arc::clone(item)))
                    .collect()
            })
            .unwrap_or_default();
        Read { missed, items }
    }

    /// Up to `limit` items that `matches`, read from `from`, oldest first.
    pub fn page(&self, from: Direction, limit: usize, matches: impl Fn(&T) -> bool) -> Page<T> {
        let numbered = self
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| (self.first_seq + index as u64, item));
        let mut items: Vec<(u64, Arc<T>)> = Vec::new();
        let mut has_more = false;
        match from {
            Direction::Newest { before } => {
                let below = before.unwrap_or(u64::MAX);
                for (seq, item) in numbered.rev().filter(|(seq, _)| *seq < below) {
                    if !matches(item) {
                        continue;
                    }
                    if items.len() == limit {
                        has_more = true;
                        break;
                    }
                    items.push((seq, Arc::clone(item)));
                }
                items.reverse();
            }
            Direction::After { after } => {
                for (seq, item) in numbered.filter(|(seq, _)| *seq > after) {
                    if !matches(item) {
                        continue;
                    }
                    if items.len() == limit {
                        has_more = true;
                        break;
                    }
                    items.push((seq, Arc::clone(item)));
                }
            }
        }
        Page { items, has_more }
    }

    fn index_of(&self, seq: u64) -> Option<usize> {
        let index = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        (index < self.items.len()).then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_of(capacity: usize, count: u32) -> Ring<u32> {
        let mut ring = Ring::new(capacity);
        for value in 1..=count {
            ring.push(Arc::new(value));
        }
        ring
    }

    fn seqs<T>(items: &[(u64, Arc<T>)]) -> Vec<u64> {
        items.iter().map(|(seq, _)| *seq).collect()
    }

    #[test]
    fn numbers_run_on_while_old_items_are_dropped() {
        let ring = ring_of(3, 5);
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.oldest_seq(), Some(3));
        assert_eq!(ring.newest_seq(), 5);
        let read = ring.read_after(0, 10);
        assert_eq!(read.missed, 2);
        assert_eq!(seqs(&read.items), vec![3, 4, 5]);
        assert_eq!(*read.items[0].1, 3);
    }

    #[test]
    fn reading_after_a_cursor_repeats_nothing_and_skips_nothing() {
        let ring = ring_of(10, 7);
        let first = ring.read_after(2, 3);
        assert_eq!((first.missed, seqs(&first.items)), (0, vec![3, 4, 5]));
        let second = ring.read_after(5, 3);
        assert_eq!((second.missed, seqs(&second.items)), (0, vec![6, 7]));
        assert!(ring.read_after(7, 3).items.is_empty());
        assert!(ring.read_after(70, 3).items.is_empty());
        let empty: Ring<u32> = Ring::new(4);
        assert_eq!(empty.newest_seq(), 0);
        assert_eq!(empty.oldest_seq(), None);
        assert!(empty.read_after(0, 4).items.is_empty());
    }

    #[test]
    fn pages_backwards_and_forwards_cover_the_matches_exactly_once() {
        let ring = ring_of(100, 50);
        let even = |value: &u32| value.is_multiple_of(2);
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = ring.page(Direction::Newest { before }, 7, even);
            let mut numbers = seqs(&page.items);
            before = numbers.first().copied();
            numbers.extend(seen);
            seen = numbers;
            if !page.has_more {
                break;
            }
        }
        assert_eq!(seen, (1..=25).map(|n| n * 2).collect::<Vec<u64>>());
        let mut forward = Vec::new();
        let mut after = 0;
        loop {
            let page = ring.page(Direction::After { after }, 7, even);
            forward.extend(seqs(&page.items));
            after = forward.last().copied().unwrap_or(after);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(forward, seen);
    }
}
