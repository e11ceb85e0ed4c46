//! The watchers of a fault scenario, as clients behind a load balancer run them: each watches
//! the scenario's ConfigMaps (label `app=faults`: not the namespace's `kube-root-ca.crt`, which
//! the replicas' own controllers write) from a starting resourceVersion on one replica, and on an error or
//! a broken connection resumes from the last resourceVersion it saw on the other replica (on a
//! clean end of the watch, on the same one). Two kinds: raw HTTP (reqwest, one JSON event per
//! line) and kube-rs (`Api::watch`). Each records every event it received, in order, and every
//! resume and 410 `Expired`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, WatchEvent, WatchParams};
use serde_json::Value;
use tokio::sync::watch;

use super::cluster::{NAMESPACE, configmaps};

/// Before connecting again after a failed watch.
const BACKOFF: Duration = Duration::from_millis(100);

/// One event of one object, as a watcher received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub name: String,
    pub rv: i64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: String,
}

/// What one watcher received.
#[derive(Debug, Default)]
pub struct Record {
    pub client: &'static str,
    pub events: Vec<Seen>,
    /// The resourceVersion it would resume from (its last event's or bookmark's).
    pub last_rv: i64,
    /// Watches started again after the first.
    pub resumes: u32,
    /// 410 `Expired` answers or ERROR events: a resume that was refused.
    pub expired: u32,
    /// Watch requests that did not open, by what happened: `connect` (no answer) or the
    /// HTTP code; each is followed by a resume on the other replica.
    pub not_opened: std::collections::BTreeMap<String, u32>,
}

/// The watchers of a scenario.
#[derive(Debug)]
pub struct Watchers {
    stop: watch::Sender<bool>,
    pub records: Vec<Arc<Mutex<Record>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Where watchers connect: every replica's URL, a raw HTTP client for all, a kube-rs client
/// per replica.
#[derive(Clone)]
pub struct Targets {
    pub urls: Vec<String>,
    pub http: reqwest::Client,
    pub kube: Vec<kube::Client>,
}

impl Watchers {
    pub fn new() -> Watchers {
        Watchers { stop: watch::Sender::new(false), records: Vec::new(), tasks: Vec::new() }
    }

    /// Starts `count` raw-HTTP watchers from `rv`, on replica `first` then resuming elsewhere.
    pub fn raw(&mut self, targets: &Targets, count: usize, first: usize, rv: i64) {
        for _ in 0..count {
            let record = self.record("raw", rv);
            let stop = self.stop.subscribe();
            let targets = targets.clone();
            self.tasks.push(tokio::spawn(raw(targets, first, record, stop)));
        }
    }

    /// Starts `count` kube-rs watchers from `rv`, on replica `first` then resuming elsewhere.
    pub fn kube(&mut self, targets: &Targets, count: usize, first: usize, rv: i64) {
        for _ in 0..count {
            let record = self.record("kube-rs", rv);
            let stop = self.stop.subscribe();
            let targets = targets.clone();
            self.tasks.push(tokio::spawn(kube_rs(targets, first, record, stop)));
        }
    }

    fn record(&mut self, client: &'static str, rv: i64) -> Arc<Mutex<Record>> {
        let record = Arc::new(Mutex::new(Record { client, last_rv: rv, ..Record::default() }));
        self.records.push(record.clone());
        record
    }

    /// Waits (at most 30 s) until every watcher has seen `rv`, or has given up on a 410.
    pub async fn wait_until_seen(&self, rv: i64) {
        for _ in 0..3000 {
            let behind = self.records.iter().filter(|r| {
                let r = r.lock().unwrap();
                r.last_rv < rv && r.expired == 0
            });
            if behind.count() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops every watcher and returns what each received.
    pub async fn stop(self) -> Vec<Record> {
        self.stop.send_replace(true);
        for task in self.tasks {
            task.await.unwrap();
        }
        self.records.into_iter().map(|r| std::mem::take(&mut *r.lock().unwrap())).collect()
    }
}

/// What ends one watch request.
enum End {
    /// The server ended it cleanly: resume on the same replica.
    Clean,
    /// The connection failed or the server answered an error: resume on another replica.
    Failed,
    /// 410: the watcher cannot resume without a relist; it stops (the scenario fails).
    Expired,
    Stopped,
}

async fn raw(
    targets: Targets,
    first: usize,
    record: Arc<Mutex<Record>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut replica = first;
    for attempt in 0u32.. {
        if attempt > 0 {
            record.lock().unwrap().resumes += 1;
        }
        let rv = record.lock().unwrap().last_rv;
        let url = format!(
            "{}?watch=true&allowWatchBookmarks=true&labelSelector=app%3Dfaults&resourceVersion={rv}",
            configmaps(&targets.urls[replica])
        );
        let end = tokio::select! {
            end = raw_watch(&targets.http, url, &record) => end,
            _ = stop.wait_for(|stop| *stop) => End::Stopped,
        };
        match end {
            End::Clean => {}
            End::Failed => {
                replica = (replica + 1) % targets.urls.len();
                tokio::time::sleep(BACKOFF).await;
            }
            End::Expired | End::Stopped => return,
        }
    }
}

/// One raw watch request, its events recorded until it ends.
async fn raw_watch(http: &reqwest::Client, url: String, record: &Mutex<Record>) -> End {
    let Ok(response) = http.get(url).send().await else {
        *record.lock().unwrap().not_opened.entry("connect".to_owned()).or_default() += 1;
        return End::Failed;
    };
    match response.status().as_u16() {
        200 => {}
        410 => {
            record.lock().unwrap().expired += 1;
            return End::Expired;
        }
        code => {
            *record.lock().unwrap().not_opened.entry(code.to_string()).or_default() += 1;
            return End::Failed;
        }
    }
    let mut body = response.bytes_stream();
    let mut buffer = Vec::new();
    loop {
        match body.next().await {
            None => return End::Clean,
            Some(Err(_)) => return End::Failed,
            Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
        }
        while let Some(at) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=at).collect();
            let Ok(event) = serde_json::from_slice::<Value>(&line) else { return End::Failed };
            let kind = event["type"].as_str().unwrap_or_default().to_owned();
            let metadata = &event["object"]["metadata"];
            if kind == "ERROR" {
                if event["object"]["code"] == 410 {
                    record.lock().unwrap().expired += 1;
                    return End::Expired;
                }
                return End::Failed;
            }
            let Some(rv) = metadata["resourceVersion"].as_str().and_then(|rv| rv.parse().ok())
            else {
                return End::Failed;
            };
            let mut record = record.lock().unwrap();
            record.last_rv = rv;
            if kind != "BOOKMARK" {
                let name = metadata["name"].as_str().unwrap_or_default().to_owned();
                record.events.push(Seen { name, rv, kind });
            }
        }
    }
}

async fn kube_rs(
    targets: Targets,
    first: usize,
    record: Arc<Mutex<Record>>,
    mut stop: watch::Receiver<bool>,
) {
    let apis: Vec<Api<ConfigMap>> =
        targets.kube.iter().map(|client| Api::namespaced(client.clone(), NAMESPACE)).collect();
    let mut replica = first;
    for attempt in 0u32.. {
        if attempt > 0 {
            record.lock().unwrap().resumes += 1;
        }
        let end = tokio::select! {
            end = kube_watch(&apis[replica], &record) => end,
            _ = stop.wait_for(|stop| *stop) => End::Stopped,
        };
        match end {
            End::Clean => {}
            End::Failed => {
                replica = (replica + 1) % apis.len();
                tokio::time::sleep(BACKOFF).await;
            }
            End::Expired | End::Stopped => return,
        }
    }
}

/// One kube-rs watch, its events recorded until it ends.
async fn kube_watch(api: &Api<ConfigMap>, record: &Mutex<Record>) -> End {
    let rv = record.lock().unwrap().last_rv.to_string();
    let stream = match api.watch(&WatchParams::default().labels("app=faults"), &rv).await {
        Ok(stream) => stream,
        Err(kube::Error::Api(status)) if status.code == 410 => {
            record.lock().unwrap().expired += 1;
            return End::Expired;
        }
        Err(err) => {
            let what = match err {
                kube::Error::Api(status) => status.code.to_string(),
                _ => "connect".to_owned(),
            };
            *record.lock().unwrap().not_opened.entry(what).or_default() += 1;
            return End::Failed;
        }
    };
    let mut stream = std::pin::pin!(stream);
    loop {
        let (kind, object) = match stream.next().await {
            None => return End::Clean,
            Some(Err(_)) => return End::Failed,
            Some(Ok(WatchEvent::Added(cm))) => ("ADDED", cm.metadata),
            Some(Ok(WatchEvent::Modified(cm))) => ("MODIFIED", cm.metadata),
            Some(Ok(WatchEvent::Deleted(cm))) => ("DELETED", cm.metadata),
            Some(Ok(WatchEvent::Bookmark(bookmark))) => {
                if let Ok(rv) = bookmark.metadata.resource_version.parse() {
                    record.lock().unwrap().last_rv = rv;
                }
                continue;
            }
            Some(Ok(WatchEvent::Error(status))) => {
                if status.code == 410 {
                    record.lock().unwrap().expired += 1;
                    return End::Expired;
                }
                return End::Failed;
            }
        };
        let Some(rv) = object.resource_version.and_then(|rv| rv.parse().ok()) else {
            return End::Failed;
        };
        let mut record = record.lock().unwrap();
        record.last_rv = rv;
        let name = object.name.unwrap_or_default();
        record.events.push(Seen { name, rv, kind: kind.to_owned() });
    }
}
