//! The head revision, read once for many callers at a time.
//!
//! Every consistent read starts by asking etcd for its current revision (the fence the view must
//! reach). Under load, many callers ask at once; [`HeadReads`] sends one request for all of them.
//! It stays linearizable: a caller is only answered by a request sent AFTER it arrived, so the
//! revision it gets includes every write acknowledged before its read began. Callers that arrive
//! while a request is in flight wait for the next one, which a driver task sends as soon as the
//! current one returns: at most one head request is in flight, and a caller waits at most about
//! two round trips.
//!
//! Flow: callers → `waiting` → driver task (one at a time) → one etcd request → every caller of
//! that batch.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::storage::{Result, Revision, StorageError};

/// A failed head read, in a form every caller of the batch can have a copy of.
#[derive(Debug, Clone)]
enum Failure {
    Unavailable(String),
    OutcomeUnknown(String),
    Other(String),
}

type Answer = std::result::Result<Revision, Failure>;

/// One head request: what the driver runs for each batch.
pub(super) type Fetch =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Revision>> + Send>> + Send + Sync>;

#[derive(Default)]
struct Waiting {
    /// A driver task is running (it sends batches until none is waiting).
    driving: bool,
    callers: Vec<oneshot::Sender<Answer>>,
}

/// Coalesces concurrent head reads into one request per round trip. Clones share the batches.
#[derive(Clone)]
pub(super) struct HeadReads {
    fetch: Fetch,
    waiting: Arc<Mutex<Waiting>>,
}

impl std::fmt::Debug for HeadReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadReads").finish_non_exhaustive()
    }
}

impl HeadReads {
    pub(super) fn new(fetch: Fetch) -> HeadReads {
        HeadReads { fetch, waiting: Arc::default() }
    }

    /// The current revision, from a request sent after this call began.
    pub(super) async fn current(&self) -> Result<Revision> {
        let (answer, answered) = oneshot::channel();
        let start_driver = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.callers.push(answer);
            !std::mem::replace(&mut waiting.driving, true)
        };
        if start_driver {
            // A task, not this caller: a caller that gives up must not strand the others.
            tokio::spawn(drive(self.fetch.clone(), self.waiting.clone()));
        }
        match answered.await {
            Ok(Ok(revision)) => Ok(revision),
            Ok(Err(Failure::Unavailable(detail))) => Err(StorageError::Unavailable(detail)),
            Ok(Err(Failure::OutcomeUnknown(detail))) => Err(StorageError::OutcomeUnknown(detail)),
            Ok(Err(Failure::Other(detail))) => Err(StorageError::Internal(detail)),
            Err(_) => Err(StorageError::Internal("the head reader stopped".into())),
        }
    }
}

/// Sends one request per batch of waiting callers until none is left.
async fn drive(fetch: Fetch, waiting: Arc<Mutex<Waiting>>) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().unwrap_or_else(PoisonError::into_inner);
            let batch = std::mem::take(&mut waiting.callers);
            if batch.is_empty() {
                waiting.driving = false;
                return;
            }
            batch
        };
        let answer = match fetch().await {
            Ok(revision) => Ok(revision),
            Err(StorageError::Unavailable(detail)) => Err(Failure::Unavailable(detail)),
            Err(StorageError::OutcomeUnknown(detail)) => Err(Failure::OutcomeUnknown(detail)),
            Err(other) => Err(Failure::Other(other.to_string())),
        };
        for caller in batch {
            let _ = caller.send(answer.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// A fake log head that moves on every request, counting requests.
    fn counting(requests: Arc<AtomicUsize>, head: Arc<AtomicI64>) -> Fetch {
        Arc::new(move || {
            let (requests, head) = (requests.clone(), head.clone());
            Box::pin(async move {
                requests.fetch_add(1, Ordering::SeqCst);
                let at_send = head.load(Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(at_send)
            })
        })
    }

    #[tokio::test(start_paused = true)]
    async fn many_callers_share_a_request_sent_after_they_arrived() {
        let (requests, head) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicI64::new(1)));
        let reads = Arc::new(HeadReads::new(counting(requests.clone(), head.clone())));
        // 100 callers at once: one request answers them all.
        let callers: Vec<_> = (0..100)
            .map(|_| {
                let reads = reads.clone();
                tokio::spawn(async move { reads.current().await.unwrap() })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), 1);
        }
        assert_eq!(requests.load(Ordering::SeqCst), 1);

        // A caller arriving while a request is in flight (after a write moved the head) must not
        // be answered by that request: it gets the next one, which sees the write.
        let first = tokio::spawn({
            let reads = reads.clone();
            async move { reads.current().await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        head.store(2, Ordering::SeqCst);
        let second = reads.current().await.unwrap();
        assert_eq!(first.await.unwrap(), 1);
        assert_eq!(second, 2);
        assert_eq!(requests.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_reach_every_caller_of_the_batch_and_the_next_batch_retries() {
        let fails = Arc::new(AtomicUsize::new(1));
        let fetch: Fetch = Arc::new({
            let fails = fails.clone();
            move || {
                let fails = fails.clone();
                Box::pin(async move {
                    if fails.fetch_sub(1, Ordering::SeqCst) > 0 {
                        Err(StorageError::Unavailable("etcd is down".into()))
                    } else {
                        Ok(7)
                    }
                })
            }
        });
        let reads = HeadReads::new(fetch);
        assert!(matches!(reads.current().await, Err(StorageError::Unavailable(_))));
        assert_eq!(reads.current().await.unwrap(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_gives_up_does_not_strand_the_others() {
        let (requests, head) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicI64::new(3)));
        let reads = Arc::new(HeadReads::new(counting(requests, head)));
        let quitter = tokio::spawn({
            let reads = reads.clone();
            async move { reads.current().await }
        });
        tokio::task::yield_now().await;
        quitter.abort();
        assert_eq!(reads.current().await.unwrap(), 3);
    }
}
