//! The writers of a fault scenario: tasks that create, update and delete ConfigMaps of their own
//! through both replicas in turn, and record every write the server acknowledged (with the
//! resourceVersion it answered) and every one it did not (with its code, reason and
//! `Retry-After`), tagged with the scenario's phase when the write started.
//!
//! A writer owns its objects, so it knows their state — until a write fails: the write may have
//! been applied (a 504, a lost connection), so it reads the object (a consistent GET) before its
//! next write on it.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::cluster::configmaps;

/// Objects per writer.
const OBJECTS: usize = 3;
/// Every write waits this long after the previous one (the load's pace).
const PACE: Duration = Duration::from_millis(10);
/// After a failed request, before the next.
const BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

/// A write the server acknowledged.
#[derive(Debug, Clone)]
pub struct Ack {
    pub name: String,
    pub op: Op,
    /// The writer's sequence number, in `data.seq` (creates and updates).
    pub seq: u64,
    /// The answered `metadata.resourceVersion` (creates and updates; a ConfigMap's DELETE
    /// answers with a `Status`, which has none).
    pub rv: Option<i64>,
    pub replica: usize,
    /// The phase when the write started.
    pub phase: u32,
    /// The phase when its answer came.
    pub acked_phase: u32,
}

/// A write the server did not acknowledge (it may or may not have been applied).
#[derive(Debug, Clone)]
pub struct Failure {
    pub name: String,
    pub op: Op,
    pub replica: usize,
    pub phase: u32,
    /// The HTTP code, 0 when no answer came (connection refused or broken, client timeout).
    pub code: u16,
    pub reason: String,
    pub retry_after: Option<String>,
    /// The resourceVersion an update was conditional on.
    pub base_rv: Option<i64>,
    pub seq: u64,
}

/// What every writer shares: where to write, when to stop, the phase, and the records.
#[derive(Debug, Clone)]
pub struct Load {
    urls: Vec<String>,
    http: reqwest::Client,
    stop: Arc<AtomicBool>,
    /// Set by the scenario; every record carries the phase its write started in.
    pub phase: Arc<AtomicU32>,
    /// Replicas the writers leave alone (a bit per replica), as a load balancer whose health
    /// check failed would.
    pub avoid: Arc<AtomicU32>,
    attempted: Arc<AtomicU64>,
    pub acks: Arc<Mutex<Vec<Ack>>>,
    pub failures: Arc<Mutex<Vec<Failure>>>,
}

/// What a writer believes of one of its objects.
#[derive(Debug, Clone, Copy)]
enum Known {
    /// Absent, or present at this resourceVersion.
    State(Option<i64>),
    /// A write failed: read before writing again.
    Unsure,
}

impl Load {
    pub fn new(urls: Vec<String>, http: reqwest::Client) -> Load {
        Load {
            urls,
            http,
            stop: Arc::default(),
            phase: Arc::default(),
            avoid: Arc::default(),
            attempted: Arc::default(),
            acks: Arc::default(),
            failures: Arc::default(),
        }
    }

    /// Starts `writers` writers; [`Load::stop`] ends them.
    pub fn spawn(&self, writers: usize) -> Vec<tokio::task::JoinHandle<()>> {
        (0..writers).map(|w| tokio::spawn(self.clone().write(w))).collect()
    }

    pub fn set_phase(&self, phase: u32) {
        self.phase.store(phase, Ordering::SeqCst);
    }

    /// Stops the writers and waits for their last write.
    pub async fn stop(&self, tasks: Vec<tokio::task::JoinHandle<()>>) {
        self.stop.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.unwrap();
        }
    }

    pub fn attempted(&self) -> u64 {
        self.attempted.load(Ordering::SeqCst)
    }

    /// Acknowledged writes so far.
    pub fn acknowledged(&self) -> usize {
        self.acks.lock().unwrap().len()
    }

    /// Waits until `more` writes beyond those acknowledged now have been acknowledged.
    pub async fn wait_for_acks(&self, more: usize) {
        let target = self.acknowledged() + more;
        for _ in 0..3000 {
            if self.acknowledged() >= target {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let failures = self.failures.lock().unwrap();
        let last: Vec<_> = failures.iter().rev().take(8).collect();
        panic!(
            "fewer than {more} writes were acknowledged in 30 s ({} attempted, {} acknowledged); \
             the last failures: {last:#?}",
            self.attempted(),
            self.acknowledged()
        );
    }

    /// The names every writer writes.
    pub fn names(writers: usize) -> Vec<String> {
        (0..writers).flat_map(|w| (0..OBJECTS).map(move |k| name(w, k))).collect()
    }

    fn replica(&self, turn: usize) -> usize {
        let avoid = self.avoid.load(Ordering::SeqCst);
        let n = self.urls.len();
        (0..n).map(|i| (turn + i) % n).find(|r| avoid & (1 << r) == 0).unwrap_or(turn % n)
    }

    /// One writer: its objects in turn, a create when absent, else an update, every fifth write
    /// a delete; each write to the next replica.
    async fn write(self, writer: usize) {
        let mut known = [Known::State(None); OBJECTS];
        let mut seq = 0u64;
        // Writes so far: the next request goes to replica `writes + writer` (mod replicas), so
        // the read after a failed write goes to the other replica, and so does the write after.
        let mut writes = 0usize;
        for turn in 0usize.. {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            let k = turn % OBJECTS;
            let name = name(writer, k);
            let replica = self.replica(writes + writer);
            let base = configmaps(&self.urls[replica]);
            let Known::State(state) = known[k] else {
                known[k] = match self.read(&base, &name).await {
                    Some(state) => Known::State(state),
                    None => {
                        tokio::time::sleep(BACKOFF).await;
                        Known::Unsure
                    }
                };
                continue;
            };
            seq += 1;
            writes += 1;
            let base_rv = state;
            let (op, request) = match state {
                None => (Op::Create, self.http.post(&base).json(&object(&name, seq, None))),
                Some(_) if seq.is_multiple_of(5) => {
                    (Op::Delete, self.http.delete(format!("{base}/{name}")))
                }
                Some(rv) => (
                    Op::Update,
                    self.http.put(format!("{base}/{name}")).json(&object(&name, seq, Some(rv))),
                ),
            };
            let phase = self.phase.load(Ordering::SeqCst);
            self.attempted.fetch_add(1, Ordering::SeqCst);
            let answer = match request.send().await {
                Ok(response) => {
                    let code = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap_or_default().to_owned());
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    Some((code, retry_after, body))
                }
                Err(_) => None,
            };
            match answer {
                Some((200 | 201, _, body)) => {
                    let rv =
                        body["metadata"]["resourceVersion"].as_str().map(|rv| rv.parse().unwrap());
                    let acked_phase = self.phase.load(Ordering::SeqCst);
                    let ack = Ack { name, op, seq, rv, replica, phase, acked_phase };
                    self.acks.lock().unwrap().push(ack);
                    known[k] = Known::State(if op == Op::Delete { None } else { rv });
                    tokio::time::sleep(PACE).await;
                }
                answer => {
                    let (code, retry_after, body) = answer.unwrap_or((0, None, Value::Null));
                    let reason = body["reason"].as_str().unwrap_or_default().to_owned();
                    let failure = Failure {
                        name,
                        op,
                        replica,
                        phase,
                        code,
                        reason,
                        retry_after,
                        base_rv,
                        seq,
                    };
                    self.failures.lock().unwrap().push(failure);
                    known[k] = Known::Unsure;
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
    }

    /// The object's state by a consistent GET; None when the replica does not answer it.
    async fn read(&self, base: &str, name: &str) -> Option<Option<i64>> {
        let response = self.http.get(format!("{base}/{name}")).send().await.ok()?;
        match response.status().as_u16() {
            404 => Some(None),
            200 => {
                let body: Value = response.json().await.ok()?;
                let rv = body["metadata"]["resourceVersion"].as_str()?.parse().ok()?;
                Some(Some(rv))
            }
            _ => None,
        }
    }
}

fn name(writer: usize, k: usize) -> String {
    format!("w{writer}-o{k}")
}

/// A ConfigMap whose `data.seq` is the writer's sequence number; with `rv`, an update
/// conditional on it.
pub fn object(name: &str, seq: u64, rv: Option<i64>) -> Value {
    let mut metadata = json!({"name": name, "labels": {"app": "faults"}});
    if let Some(rv) = rv {
        metadata["resourceVersion"] = json!(rv.to_string());
    }
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
           "data": {"seq": seq.to_string()}})
}
