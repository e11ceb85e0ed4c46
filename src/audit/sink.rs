//! The buffered sink in front of every backend (kube's `buffered` audit backend): requests
//! never wait for a backend.
//!
//! Data flow: [`Sink::process`] puts the event on a bounded queue without waiting — when the
//! queue is full (the backend is slow or down) the event is dropped, counted in
//! [`Sink::dropped`] and in `apiserver_audit_error_total{plugin="buffered"}`, and the request
//! goes on. One task collects batches from the queue — up to `max_batch_size` events, waiting at
//! most `max_batch_wait` after the first (no wait: whatever is queued) — optionally throttled
//! (a token bucket of `qps` batches per second, `burst` at most), and hands each batch to the
//! [`Backend`] in a task of its own, at most `max_in_flight` at a time (1 keeps batches in
//! order). A batch the backend fails is counted under the backend's plugin name.
//!
//! kube spawns a goroutine per batch without a bound; here `max_in_flight` bounds what a dead
//! webhook can hold in memory — beyond it the queue fills and events are dropped and counted,
//! which is the same outcome with memory kept in check.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::metrics::{self as audit_metrics, PLUGIN_BUFFERED};
use super::types::Event;

/// Where batches of events go: the log file, the webhook.
pub trait Backend: Send + Sync + 'static {
    /// The `plugin` label of this backend's errors (`log`, `webhook`).
    fn plugin(&self) -> &'static str;

    /// Delivers one batch, in order.
    fn deliver(&self, events: Vec<Arc<Event>>) -> impl Future<Output = Result<(), Failure>> + Send;
}

/// A batch (or part of one) that could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// How many of the batch's events were lost.
    pub events: usize,
    pub reason: String,
}

/// How a sink queues and batches (kube's `BatchConfig`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchConfig {
    /// Events queued before new ones are dropped.
    pub buffer_size: usize,
    /// Events per batch at most.
    pub max_batch_size: usize,
    /// How long a batch waits for more events after its first; zero: not at all.
    pub max_batch_wait: Duration,
    /// Batches per second handed to the backend, if limited.
    pub throttle: Option<Throttle>,
    /// Batches being delivered at once at most.
    pub max_in_flight: usize,
}

/// A token bucket's rate and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub qps: f64,
    pub burst: u32,
}

/// The queue in front of one backend.
#[derive(Debug)]
pub struct Sink {
    queue: mpsc::Sender<Arc<Event>>,
    dropped: Arc<AtomicU64>,
    /// The collecting task; it ends when the queue is closed and every batch delivered.
    task: JoinHandle<()>,
}

impl Sink {
    /// Starts the collecting task of `backend` on the current tokio runtime.
    pub fn spawn<B: Backend>(backend: B, config: BatchConfig) -> Sink {
        let (queue, events) = mpsc::channel(config.buffer_size.max(1));
        let task = tokio::spawn(collect_and_deliver(Arc::new(backend), events, config));
        Sink { queue, dropped: Arc::default(), task }
    }

    /// Queues `event` without waiting; `false` if it was dropped (queue full or closed).
    pub fn process(&self, event: Arc<Event>) -> bool {
        if self.queue.try_send(event).is_ok() {
            return true;
        }
        let before = self.dropped.fetch_add(1, Ordering::Relaxed);
        audit_metrics::observe_errors(PLUGIN_BUFFERED, 1);
        if before.is_multiple_of(1000) {
            tracing::warn!(
                dropped = before + 1,
                "audit buffer queue blocked: an audit event was dropped (the backend is slow or \
                 down; see apiserver_audit_error_total)"
            );
        }
        false
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops taking events, delivers what is queued and waits for every delivery (a webhook's
    /// retries included: bound it with a timeout if shutdown must be quick).
    pub async fn shutdown(self) {
        drop(self.queue);
        if let Err(err) = self.task.await {
            tracing::warn!(%err, "the audit sink's task failed");
        }
    }
}

async fn collect_and_deliver<B: Backend>(
    backend: Arc<B>,
    mut events: mpsc::Receiver<Arc<Event>>,
    config: BatchConfig,
) {
    let slots = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut bucket = config.throttle.map(TokenBucket::new);
    let mut deliveries = JoinSet::new();
    loop {
        let batch = collect(&mut events, &config).await;
        if batch.is_empty() {
            break;
        }
        if let Some(bucket) = bucket.as_mut() {
            bucket.acquire().await;
        }
        let Ok(slot) = slots.clone().acquire_owned().await else { break };
        while deliveries.try_join_next().is_some() {}
        let backend = backend.clone();
        deliveries.spawn(async move {
            let count = batch.len();
            if let Err(failure) = backend.deliver(batch).await {
                audit_metrics::observe_errors(backend.plugin(), failure.events);
                tracing::warn!(
                    plugin = backend.plugin(),
                    events = failure.events,
                    batch = count,
                    reason = %failure.reason,
                    "audit events could not be delivered"
                );
            }
            drop(slot);
        });
    }
    while deliveries.join_next().await.is_some() {}
}

/// The next batch; empty once the queue is closed and drained.
async fn collect(events: &mut mpsc::Receiver<Arc<Event>>, config: &BatchConfig) -> Vec<Arc<Event>> {
    let max = config.max_batch_size.max(1);
    let mut batch = Vec::new();
    let Some(first) = events.recv().await else { return batch };
    batch.push(first);
    if config.max_batch_wait.is_zero() {
        while batch.len() < max {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        return batch;
    }
    let deadline = tokio::time::sleep(config.max_batch_wait);
    tokio::pin!(deadline);
    while batch.len() < max {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => batch.push(event),
                None => break,
            },
            () = &mut deadline => break,
        }
    }
    batch
}

/// kube's token bucket rate limiter: `burst` tokens, refilled at `qps` per second.
#[derive(Debug)]
struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(throttle: Throttle) -> TokenBucket {
        let burst = f64::from(throttle.burst.max(1));
        TokenBucket { qps: throttle.qps, burst, tokens: burst, last: Instant::now() }
    }

    /// Waits for a token and takes it.
    async fn acquire(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return;
        }
        if self.qps > 0.0 {
            let wait = Duration::from_secs_f64((1.0 - self.tokens) / self.qps);
            tokio::time::sleep(wait).await;
        }
        self.tokens = 0.0;
        self.last = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::UNIX_EPOCH;

    use tokio::sync::Notify;

    use super::*;
    use crate::audit::types::{Level, Stage};

    /// Each delivered batch: when it arrived and the audit IDs in it.
    type Batches = Arc<Mutex<Vec<(Duration, Vec<String>)>>>;

    /// A backend that records each batch with the (paused) time it arrived, and can be held.
    #[derive(Clone, Default)]
    struct Recorder {
        batches: Batches,
        started: Arc<Notify>,
        /// While set, every delivery waits for `release`.
        hold: Arc<std::sync::atomic::AtomicBool>,
        release: Arc<Notify>,
        fail: bool,
        origin: Option<Instant>,
    }

    impl Backend for Recorder {
        fn plugin(&self) -> &'static str {
            "recorder"
        }

        async fn deliver(&self, events: Vec<Arc<Event>>) -> Result<(), Failure> {
            self.started.notify_one();
            if self.hold.load(Ordering::SeqCst) {
                self.release.notified().await;
            }
            let at = self.origin.map(|o| o.elapsed()).unwrap_or_default();
            let ids = events.iter().map(|e| e.audit_id.clone()).collect();
            self.batches.lock().unwrap().push((at, ids));
            if self.fail {
                return Err(Failure { events: events.len(), reason: "refused".into() });
            }
            Ok(())
        }
    }

    fn event(id: usize) -> Arc<Event> {
        Arc::new(Event::new(Level::Metadata, id.to_string(), Stage::ResponseComplete, UNIX_EPOCH))
    }

    fn config(buffer_size: usize, max_batch_size: usize, wait: Duration) -> BatchConfig {
        BatchConfig {
            buffer_size,
            max_batch_size,
            max_batch_wait: wait,
            throttle: None,
            max_in_flight: 1,
        }
    }

    fn recorder() -> metrics_exporter_prometheus::PrometheusRecorder {
        metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder()
    }

    /// The consumer is held inside a delivery: the queue fills, and everything beyond it is
    /// dropped at once — `process` never waits — and counted.
    #[tokio::test]
    async fn a_stalled_backend_makes_the_sink_drop_and_count_never_wait() {
        let backend = Recorder::default();
        backend.hold.store(true, Ordering::SeqCst);
        let sink = Sink::spawn(backend.clone(), config(2, 1, Duration::ZERO));
        assert!(sink.process(event(0)));
        backend.started.notified().await; // the backend holds event 0

        let metrics = recorder();
        // No await between these calls: the (current-thread) collector cannot run, so exactly
        // the queue's two places are taken.
        let accepted: Vec<bool> = metrics::with_local_recorder(&metrics, || {
            (1..10).map(|i| sink.process(event(i))).collect()
        });
        assert_eq!(accepted, [true, true, false, false, false, false, false, false, false]);
        assert_eq!(sink.dropped(), 7);
        let text = metrics.handle().render();
        assert!(text.contains(r#"apiserver_audit_error_total{plugin="buffered"} 7"#), "{text}");

        backend.hold.store(false, Ordering::SeqCst);
        backend.release.notify_one();
        sink.shutdown().await;
        let delivered: Vec<Vec<String>> =
            backend.batches.lock().unwrap().iter().map(|(_, ids)| ids.clone()).collect();
        assert_eq!(delivered, [["0"], ["1"], ["2"]]);
    }

    #[tokio::test(start_paused = true)]
    async fn batches_fill_up_to_their_size_or_wait_their_time() {
        let backend = Recorder { origin: Some(Instant::now()), ..Recorder::default() };
        let sink = Sink::spawn(backend.clone(), config(100, 3, Duration::from_secs(30)));
        for i in 0..5 {
            sink.process(event(i));
        }
        sink.process(event(5)); // still within the second batch's wait
        tokio::time::sleep(Duration::from_secs(60)).await;
        sink.process(event(6));
        sink.shutdown().await; // a closed queue ends the wait at once
        let batches = backend.batches.lock().unwrap().clone();
        let sizes: Vec<(u64, usize)> =
            batches.iter().map(|(at, ids)| (at.as_secs(), ids.len())).collect();
        assert_eq!(sizes, [(0, 3), (0, 3), (60, 1)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_partial_batch_goes_after_max_wait() {
        let backend = Recorder { origin: Some(Instant::now()), ..Recorder::default() };
        let sink = Sink::spawn(backend.clone(), config(100, 400, Duration::from_secs(30)));
        sink.process(event(0));
        sink.process(event(1));
        tokio::time::sleep(Duration::from_secs(31)).await;
        let batches = backend.batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].0, Duration::from_secs(30));
        assert_eq!(batches[0].1, ["0", "1"]);
        sink.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_throttle_spaces_batches() {
        let backend = Recorder { origin: Some(Instant::now()), ..Recorder::default() };
        let mut config = config(100, 1, Duration::ZERO);
        config.throttle = Some(Throttle { qps: 1.0, burst: 2 });
        let sink = Sink::spawn(backend.clone(), config);
        for i in 0..4 {
            sink.process(event(i));
        }
        sink.shutdown().await;
        let times: Vec<u64> =
            backend.batches.lock().unwrap().iter().map(|(at, _)| at.as_secs()).collect();
        assert_eq!(times, [0, 0, 1, 2]);
    }

    #[tokio::test]
    async fn failed_batches_are_counted_under_the_backends_plugin() {
        // Delivery tasks record into the global recorder (no other test fails "recorder").
        let handle = crate::metrics::install();
        let backend = Recorder { fail: true, ..Recorder::default() };
        let sink = Sink::spawn(backend.clone(), config(10, 10, Duration::ZERO));
        sink.process(event(0));
        sink.process(event(1));
        sink.shutdown().await;
        assert_eq!(backend.batches.lock().unwrap().len(), 1);
        let text = handle.render();
        assert!(text.contains(r#"apiserver_audit_error_total{plugin="recorder"} 2"#), "{text}");
    }
}
