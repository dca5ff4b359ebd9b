//! The process backend's bounded in-memory log: every line of the child's stdout and stderr
//! with a sequence number, kept across restarts of the child, followed live through a watch
//! channel.
//!
//! Positions are `"<epoch>-<seq>"`: `epoch` identifies this buffer (the Unix milliseconds it
//! was created at, i.e. this run of ProxLB Web), `seq` counts lines from 1 and never repeats.
//!
//! Delivery semantics:
//! - `follow(after)` replays every retained line after `after`, then follows live; a reader
//!   that resumes from its last position never sees a gap or a duplicate while that position
//!   is retained.
//! - A position whose lines are no longer retained (the buffer wrapped past it) or that comes
//!   from another buffer (an earlier run of ProxLB Web) is refused with
//!   [`ServiceError::Refused`]; the caller then follows from the tail instead.
//! - A live reader that falls so far behind that the buffer wraps past it gets one
//!   `Err(ServiceError::Refused("N lines were dropped …"))` item, then continues with the
//!   oldest retained line: such an item is a warning, not the end of the stream.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::stream::BoxStream;
use futures::StreamExt;
use plb_domain::logs::RawLine;
use tokio::sync::watch;

use crate::ports::{ServiceError, SourceLine};

/// Default number of lines kept: a crashed run's traceback plus many runs of INFO output.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// A bounded, sequenced log of lines. Cheap to clone (shared).
#[derive(Clone)]
pub struct LogBuffer {
    inner: Arc<Inner>,
}

struct Inner {
    epoch: i64,
    capacity: usize,
    lines: Mutex<Lines>,
    /// The sequence number of the newest line (0 = none yet).
    newest: watch::Sender<u64>,
}

struct Lines {
    /// Sequence number of `lines[0]`.
    first_seq: u64,
    lines: VecDeque<RawLine>,
}

impl Lines {
    fn next_seq(&self) -> u64 {
        self.first_seq + self.lines.len() as u64
    }

    /// Retained lines with `seq > after`, at most `limit`.
    fn after(&self, after: u64, limit: usize) -> Vec<(u64, RawLine)> {
        let skip = after.saturating_add(1).saturating_sub(self.first_seq) as usize;
        self.lines
            .iter()
            .enumerate()
            .skip(skip)
            .take(limit)
            .map(|(index, line)| (self.first_seq + index as u64, line.clone()))
            .collect()
    }
}

/// Reads the watch receiver without holding its borrow across an await.
fn current(receiver: &watch::Receiver<u64>) -> u64 {
    *receiver.borrow()
}

impl LogBuffer {
    /// An empty buffer keeping the newest `capacity` lines (at least 1).
    pub fn new(capacity: usize) -> Self {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64);
        let (newest, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                epoch,
                capacity: capacity.max(1),
                lines: Mutex::new(Lines {
                    first_seq: 1,
                    lines: VecDeque::new(),
                }),
                newest,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lines> {
        // A panic while holding the lock cannot leave the deque half-updated in a way that
        // matters (push/pop are atomic for us), so a poisoned lock is still usable.
        self.inner
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends a line; returns its sequence number.
    pub fn push(&self, line: RawLine) -> u64 {
        let seq = {
            let mut lines = self.lock();
            if lines.lines.len() == self.inner.capacity {
                lines.lines.pop_front();
                lines.first_seq += 1;
            }
            lines.lines.push_back(line);
            lines.next_seq() - 1
        };
        self.inner.newest.send_replace(seq);
        seq
    }

    /// The position string of line `seq`.
    pub fn position(&self, seq: u64) -> String {
        format!("{}-{seq}", self.inner.epoch)
    }

    /// Parses a position of this buffer into its sequence number.
    fn parse(&self, position: &str) -> Result<u64, ServiceError> {
        let foreign = || {
            ServiceError::Refused(format!(
                "log position {position:?} belongs to an earlier run of ProxLB Web; \
                 follow from the newest lines instead"
            ))
        };
        let (epoch, seq) = position.split_once('-').ok_or_else(foreign)?;
        if epoch.parse::<i64>().ok() != Some(self.inner.epoch) {
            return Err(foreign());
        }
        seq.parse::<u64>().map_err(|_| foreign())
    }

    /// The newest `tail` lines as they are now.
    pub fn tail(&self, tail: usize) -> Vec<SourceLine> {
        let lines = self.lock();
        let after = lines.next_seq().saturating_sub(tail as u64 + 1);
        lines
            .after(after, tail)
            .into_iter()
            .map(|(seq, line)| SourceLine {
                position: self.position(seq),
                line,
            })
            .collect()
    }

    /// The retained lines after `after` (or the newest `tail`), then live lines; see the module
    /// documentation for what happens to a reader that falls behind.
    pub fn follow(
        &self,
        after: Option<&str>,
        tail: usize,
    ) -> Result<BoxStream<'static, Result<SourceLine, ServiceError>>, ServiceError> {
        // Subscribe before reading the start point, so no line pushed in between is missed.
        let receiver = self.inner.newest.subscribe();
        let cursor = {
            let lines = self.lock();
            match after {
                Some(position) => {
                    let seq = self.parse(position)?;
                    if seq + 1 < lines.first_seq {
                        return Err(ServiceError::Refused(format!(
                            "the lines after log position {position} are no longer kept \
                             (the oldest kept is {}); follow from the newest lines instead",
                            self.position(lines.first_seq)
                        )));
                    }
                    if seq >= lines.next_seq() {
                        return Err(ServiceError::Refused(format!(
                            "log position {position} is newer than the newest line"
                        )));
                    }
                    seq
                }
                None => lines.next_seq().saturating_sub(tail as u64 + 1),
            }
        };
        let state = (self.clone(), receiver, cursor, VecDeque::new());
        let stream = futures::stream::unfold(
            state,
            |(buffer, mut receiver, mut cursor, mut pending)| async move {
                loop {
                    if let Some(item) = pending.pop_front() {
                        return Some((item, (buffer, receiver, cursor, pending)));
                    }
                    let batch = {
                        let lines = buffer.lock();
                        let dropped = lines.first_seq.saturating_sub(cursor + 1);
                        if dropped > 0 {
                            pending.push_back(Err(ServiceError::Refused(format!(
                                "{dropped} lines were dropped: this reader fell more than \
                                 {} lines behind",
                                buffer.inner.capacity
                            ))));
                            cursor = lines.first_seq - 1;
                        }
                        lines.after(cursor, 512)
                    };
                    for (seq, line) in batch {
                        cursor = seq;
                        pending.push_back(Ok(SourceLine {
                            position: buffer.position(seq),
                            line,
                        }));
                    }
                    if !pending.is_empty() {
                        continue;
                    }
                    if current(&receiver) > cursor {
                        continue;
                    }
                    // Nothing new: wait for the next push (the sender lives as long as the
                    // buffer, and this stream holds the buffer, so this never ends early).
                    if receiver.changed().await.is_err() {
                        return None;
                    }
                }
            },
        );
        Ok(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use plb_domain::logs::LogStream;

    use super::*;

    fn line(text: &str) -> RawLine {
        RawLine {
            at_unix_ms: 0,
            stream: LogStream::Stdout,
            text: text.to_owned(),
        }
    }

    async fn take(
        stream: &mut BoxStream<'static, Result<SourceLine, ServiceError>>,
        n: usize,
    ) -> Vec<Result<String, String>> {
        let mut out = Vec::new();
        for _ in 0..n {
            let item = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
                .await
                .expect("a line within 5 s")
                .expect("the stream goes on");
            out.push(item.map(|l| l.line.text).map_err(|e| e.to_string()));
        }
        out
    }

    #[tokio::test]
    async fn replays_the_tail_then_follows_and_resumes_without_gap_or_duplicate() {
        let buffer = LogBuffer::new(100);
        for text in ["a", "b", "c"] {
            buffer.push(line(text));
        }
        let mut stream = buffer.follow(None, 2).unwrap();
        buffer.push(line("d"));
        let got = take(&mut stream, 3).await;
        assert_eq!(got, vec![Ok("b".into()), Ok("c".into()), Ok("d".into())]);

        let position = buffer.tail(10)[1].position.clone(); // "b"
        let mut resumed = buffer.follow(Some(&position), 0).unwrap();
        assert_eq!(
            take(&mut resumed, 2).await,
            vec![Ok("c".into()), Ok("d".into())]
        );
        buffer.push(line("e"));
        assert_eq!(take(&mut resumed, 1).await, vec![Ok("e".into())]);
        assert_eq!(take(&mut stream, 1).await, vec![Ok("e".into())]);
    }

    #[tokio::test]
    async fn refuses_positions_it_no_longer_keeps_or_never_issued() {
        let buffer = LogBuffer::new(3);
        let first = buffer.push(line("1"));
        let first = buffer.position(first);
        for text in ["2", "3", "4", "5"] {
            buffer.push(line(text));
        }
        let error = buffer.follow(Some(&first), 0).err().unwrap().to_string();
        assert!(error.contains("no longer kept"), "{error}");
        let error = buffer.follow(Some("1-1"), 0).err().unwrap().to_string();
        assert!(error.contains("earlier run"), "{error}");
        let error = buffer.follow(Some("garbage"), 0).err().unwrap().to_string();
        assert!(error.contains("earlier run"), "{error}");
        // The position just before the oldest kept line is still fine.
        let oldest = buffer.tail(3)[0].position.clone();
        let mut stream = buffer.follow(Some(&oldest), 0).unwrap();
        assert_eq!(
            take(&mut stream, 2).await,
            vec![Ok("4".into()), Ok("5".into())]
        );
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_is_told_how_many_lines_it_lost() {
        let buffer = LogBuffer::new(3);
        let mut stream = buffer.follow(None, 0).unwrap();
        for n in 1..=5 {
            buffer.push(line(&n.to_string()));
        }
        let got = take(&mut stream, 4).await;
        assert_eq!(
            got[0],
            Err("2 lines were dropped: this reader fell more than 3 lines behind".into())
        );
        assert_eq!(&got[1..], &[Ok("3".into()), Ok("4".into()), Ok("5".into())]);
    }
}
