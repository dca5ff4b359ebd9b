//! Topics `service` and `runs`: ProxLB's service state and run state, each time it changes.
//!
//! Both are state topics whose events carry no cursor: a subscriber (new or resuming, with any
//! cursor) gets the current state at once, then every newer one; states published faster than
//! it reads are skipped, which is right for a state.

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use plb_backend::AppState;
use plb_domain::live::{Cursor, RunsTopic, ServiceTopic};
use plb_domain::runs::RunState;
use plb_domain::service::ServiceStatus;
use tokio::sync::watch;

use super::topics::{BadCursor, Delivery, TopicSource};

/// The server side of topic `service`.
pub struct ServiceTopicSource {
    statuses: watch::Receiver<ServiceStatus>,
}

impl ServiceTopicSource {
    /// The topic over `state`'s ProxLB service.
    pub fn new(state: &AppState) -> Self {
        Self {
            statuses: state.proxlb.subscribe(),
        }
    }
}

impl TopicSource for ServiceTopicSource {
    type Topic = ServiceTopic;
    const DELIVERY: Delivery = Delivery::Latest;

    fn subscribe(
        &self,
        _cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, (Option<Cursor>, ServiceStatus)>, BadCursor> {
        Ok(states(self.statuses.clone()))
    }
}

/// The server side of topic `runs`.
pub struct RunsTopicSource {
    runs: watch::Receiver<RunState>,
}

impl RunsTopicSource {
    /// The topic over `state`'s ProxLB log.
    pub fn new(state: &AppState) -> Self {
        Self {
            runs: state.proxlb.logs.runs(),
        }
    }
}

impl TopicSource for RunsTopicSource {
    type Topic = RunsTopic;
    const DELIVERY: Delivery = Delivery::Latest;

    fn subscribe(
        &self,
        _cursor: Option<&Cursor>,
    ) -> Result<BoxStream<'static, (Option<Cursor>, RunState)>, BadCursor> {
        Ok(states(self.runs.clone()))
    }
}

/// The current value of `values`, then every newer one (equal ones once), without cursors.
/// Ends when the sender goes (the service ends at shutdown).
pub fn states<T>(mut values: watch::Receiver<T>) -> BoxStream<'static, (Option<Cursor>, T)>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let current = values.borrow_and_update().clone();
    stream::unfold(
        (values, Some(current), None::<T>),
        |(mut values, mut next, mut last)| async move {
            loop {
                if let Some(value) = next.take() {
                    if last.as_ref() != Some(&value) {
                        last = Some(value.clone());
                        return Some(((None, value), (values, None, last)));
                    }
                }
                values.changed().await.ok()?;
                next = Some(values.borrow_and_update().clone());
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn next(events: &mut BoxStream<'static, (Option<Cursor>, u32)>) -> Option<u32> {
        let (cursor, value) = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .ok()??;
        assert_eq!(cursor, None);
        Some(value)
    }

    #[tokio::test]
    async fn the_current_state_comes_first_then_each_change_once() {
        let (publish, values) = watch::channel(1_u32);
        let mut events = states(values);
        assert_eq!(next(&mut events).await, Some(1));
        publish.send_replace(1);
        publish.send_replace(2);
        assert_eq!(next(&mut events).await, Some(2));
        for value in 3..=9 {
            publish.send_replace(value);
        }
        assert_eq!(next(&mut events).await, Some(9), "skips to the newest");
        drop(publish);
        assert_eq!(next(&mut events).await, None);
    }
}
