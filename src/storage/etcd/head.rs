//! The head revision, read once for many callers at a time, with several reads in flight.
//!
//! Every consistent read starts by asking etcd for its current revision (the fence the view must
//! reach). Under load, many callers ask at once; [`HeadReads`] sends one request for all the
//! callers waiting when it is sent. It stays linearizable: a caller is only answered by a request
//! sent AFTER it arrived, so the revision it gets includes every write acknowledged before its
//! read began.
//!
//! Requests are pipelined: up to `in_flight` head requests may be outstanding at once. A caller
//! that arrives while fewer are in flight starts a request task at once (which takes every
//! caller waiting when it runs); otherwise it waits, and the first request to return sends the
//! next batch. With one in flight a caller waits for the request before its own to return (half
//! a round trip on average), then for its own; with more, its own request leaves at once, for at
//! most `in_flight` times the head requests. etcd serves linearizable reads one ReadIndex round
//! at a time (a read that arrives during a round joins the next one), so the extra requests cost
//! it a range each, not a consensus round each; but the wait inside etcd is not shortened, only
//! the part of the round trip outside it (this client, gRPC, the connection) overlaps.
//!
//! Flow: callers → `waiting` → a request task (at most `in_flight` at a time) takes them → one
//! etcd request → every caller of that batch; the task then takes the next batch, if any.

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

/// One head request: what a request task runs for each batch.
pub(super) type Fetch =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Revision>> + Send>> + Send + Sync>;

/// The head requests in flight by default (`--etcd-head-reads-in-flight`): one. Measured with
/// `scripts/bench-etcd` on 2 cores shared with etcd and the load generator, a consistent GET
/// scored 0.31–0.32× `/version` with one in flight against 0.22–0.28× with four: the extra
/// requests cost CPU on both sides (gRPC, etcd's ranges) that the shorter wait does not repay
/// when the machine is CPU-bound. More help where etcd and the server have cores to spare.
pub(super) const DEFAULT_IN_FLIGHT: u16 = 1;

#[derive(Default)]
struct Waiting {
    /// Request tasks running (each sends batches until none is waiting).
    in_flight: usize,
    callers: Vec<oneshot::Sender<Answer>>,
}

/// Coalesces concurrent head reads into few pipelined requests. Clones share the batches.
#[derive(Clone)]
pub(super) struct HeadReads {
    fetch: Fetch,
    /// At most this many requests at once (at least 1).
    max_in_flight: usize,
    waiting: Arc<Mutex<Waiting>>,
}

impl std::fmt::Debug for HeadReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadReads")
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

impl HeadReads {
    /// Head reads through `fetch`, at most `max_in_flight` (at least 1) at a time.
    pub(super) fn new(fetch: Fetch, max_in_flight: usize) -> HeadReads {
        HeadReads { fetch, max_in_flight: max_in_flight.max(1), waiting: Arc::default() }
    }

    /// The current revision, from a request sent after this call began.
    pub(super) async fn current(&self) -> Result<Revision> {
        let (answer, answered) = oneshot::channel();
        let start_sender = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.callers.push(answer);
            let start = waiting.in_flight < self.max_in_flight;
            if start {
                waiting.in_flight += 1;
            }
            start
        };
        if start_sender {
            // A task, not this caller: a caller that gives up must not strand the others.
            tokio::spawn(send(self.fetch.clone(), self.waiting.clone()));
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

/// A request task: sends one request for the callers waiting when it starts (each arrived before the request is
/// sent), then one per batch of callers waiting when it returns, until none is left.
async fn send(fetch: Fetch, waiting: Arc<Mutex<Waiting>>) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().unwrap_or_else(PoisonError::into_inner);
            if waiting.callers.is_empty() {
                waiting.in_flight -= 1;
                return;
            }
            std::mem::take(&mut waiting.callers)
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

    /// Asks for the head `delay` from now, on a task; answers with the revision and when it came.
    fn ask_after(
        reads: &Arc<HeadReads>,
        delay: Duration,
    ) -> tokio::task::JoinHandle<(Revision, tokio::time::Instant)> {
        let reads = reads.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let revision = reads.current().await.unwrap();
            (revision, tokio::time::Instant::now())
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_sends_its_own_request_while_fewer_than_the_limit_are_in_flight() {
        for (limit, waited) in [(1, 15), (2, 10)] {
            let (requests, head) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicI64::new(1)));
            let reads = Arc::new(HeadReads::new(counting(requests.clone(), head.clone()), limit));
            let start = tokio::time::Instant::now();
            let first = ask_after(&reads, Duration::ZERO);
            tokio::time::sleep(Duration::from_millis(5)).await;
            // A write acknowledged while the first request is in flight.
            head.store(2, Ordering::SeqCst);
            let (second, answered) = ask_after(&reads, Duration::ZERO).await.unwrap();
            assert_eq!(first.await.unwrap().0, 1, "limit {limit}");
            assert_eq!(second, 2, "limit {limit}: the answer must include the write");
            // One in flight: it waits for the first request to return (t=10 ms), then its own
            // round trip; two: its own request leaves at once.
            let waited_ms = (answered - start).as_millis() - 5;
            assert_eq!(waited_ms, waited, "limit {limit}");
            assert_eq!(requests.load(Ordering::SeqCst), 2, "limit {limit}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn callers_beyond_the_limit_wait_for_a_request_sent_after_they_arrived() {
        let (requests, head) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicI64::new(1)));
        let reads = Arc::new(HeadReads::new(counting(requests.clone(), head.clone()), 2));
        let first = ask_after(&reads, Duration::ZERO); // in flight 0-10 ms
        let second = ask_after(&reads, Duration::from_millis(5)); // 5-15 ms
        tokio::time::sleep(Duration::from_millis(6)).await;
        head.store(3, Ordering::SeqCst);
        // Both slots are busy: these two wait, and the first request to return (at 10 ms) sends
        // one request for both of them, after the write.
        let third = ask_after(&reads, Duration::ZERO);
        let fourth = ask_after(&reads, Duration::from_millis(1));
        assert_eq!(first.await.unwrap().0, 1);
        assert_eq!(second.await.unwrap().0, 1);
        assert_eq!(third.await.unwrap().0, 3);
        assert_eq!(fourth.await.unwrap().0, 3);
        assert_eq!(requests.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn every_answer_includes_the_writes_before_its_call_whatever_the_limit() {
        for limit in [1, 2, 3, 8] {
            let (requests, head) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicI64::new(0)));
            let reads = Arc::new(HeadReads::new(counting(requests.clone(), head.clone()), limit));
            let mut callers = Vec::new();
            for i in 0..200u64 {
                // A write every millisecond, and callers at uneven times between them.
                let reads = reads.clone();
                let head = head.clone();
                callers.push(tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_micros(i * 700 % 13_000)).await;
                    let before = head.load(Ordering::SeqCst);
                    let got = reads.current().await.unwrap();
                    (before, got)
                }));
            }
            let writer = tokio::spawn({
                let head = head.clone();
                async move {
                    for _ in 0..20 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        head.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            for caller in callers {
                let (before, got) = caller.await.unwrap();
                assert!(got >= before, "limit {limit}: answered {got} to a call after {before}");
            }
            writer.await.unwrap();
            // Batching: far fewer requests than callers.
            assert!(requests.load(Ordering::SeqCst) < 100, "limit {limit}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn many_callers_share_a_request_sent_after_they_arrived() {
        let (requests, head) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicI64::new(1)));
        let reads = Arc::new(HeadReads::new(counting(requests.clone(), head.clone()), 1));
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
        let reads = HeadReads::new(fetch, 2);
        assert!(matches!(reads.current().await, Err(StorageError::Unavailable(_))));
        assert_eq!(reads.current().await.unwrap(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_gives_up_does_not_strand_the_others() {
        let (requests, head) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicI64::new(3)));
        let reads = Arc::new(HeadReads::new(counting(requests, head), 1));
        let quitter = tokio::spawn({
            let reads = reads.clone();
            async move { reads.current().await }
        });
        tokio::task::yield_now().await;
        quitter.abort();
        assert_eq!(reads.current().await.unwrap(), 3);
    }
}
