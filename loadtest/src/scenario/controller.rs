//! `controller`: I informers and W writers, like a cluster's controllers. Each informer keeps a
//! local cache (name → resourceVersion) the way client-go's reflector does: LIST, then WATCH
//! from the list's resourceVersion with bookmarks, resume from the last resourceVersion when the
//! stream ends, re-LIST on 410. Writers create, update and delete ConfigMaps at a fixed total
//! rate for the run's duration. After the last write, the server's LIST is the truth: the run
//! waits until every informer's cache equals it and reports how long that took.
//!
//! Data flow: writers → server → informer streams → caches; server LIST → comparison.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

use crate::api::{self, Api};
use crate::config::Controller;
use crate::error::{Error, Result};
use crate::report::Report;
use crate::scenario::stream::{Kind, WatchStream};
use crate::scenario::{Ctx, names, require_success, spawn_all};
use crate::stats::Tally;

/// How long informers may take to match the server after the last write.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often caches are compared with the server's LIST.
const POLL: Duration = Duration::from_millis(10);
/// Pause before retrying a failed LIST or WATCH.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// What the informers did, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct ControllerSummary {
    pub informers: usize,
    pub writers: usize,
    pub writes: u64,
    /// Objects in the server's LIST after the last write.
    pub objects_at_end: usize,
    /// Informers whose cache equalled the server's LIST (names and resourceVersions).
    pub converged: usize,
    pub all_equal: bool,
    /// Milliseconds from the last acknowledged write until the last informer matched.
    pub convergence_ms: Option<f64>,
    pub lists: u64,
    pub watches: u64,
    pub events: u64,
    pub relists_after_410: u64,
    /// Differences of informers that never matched (a few, for diagnosis).
    pub mismatches: Vec<String>,
}

impl ControllerSummary {
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "informers {}: {} of them equal to the server's LIST ({} objects); convergence {}",
            self.informers,
            self.converged,
            self.objects_at_end,
            match self.convergence_ms {
                Some(ms) => format!("{ms:.1} ms after the last write"),
                None => "never".to_owned(),
            }
        );
        let _ = writeln!(
            out,
            "informer requests: {} LISTs ({} after 410), {} WATCHes, {} events",
            self.lists, self.relists_after_410, self.watches, self.events
        );
        for mismatch in &self.mismatches {
            let _ = writeln!(out, "mismatch: {mismatch}");
        }
        out
    }
}

/// An informer's cache: name → resourceVersion (std Mutex: never held across an await).
type Cache = Arc<Mutex<BTreeMap<String, String>>>;

/// Counters every informer adds to.
#[derive(Debug, Default)]
struct Counters {
    lists: AtomicU64,
    watches: AtomicU64,
    events: AtomicU64,
    relists_after_410: AtomicU64,
}

/// The reflector's states, stepped by [`step`].
#[derive(Debug)]
enum State {
    /// LIST and replace the cache.
    List,
    /// WATCH after this resourceVersion.
    Watch(String),
    /// Told to stop.
    Stopped,
}

pub async fn run(ctx: &Ctx, params: &Controller, report: &mut Report) -> Result<()> {
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let caches: Vec<Cache> = (0..params.informers).map(|_| Cache::default()).collect();
    let informers: Vec<_> = caches
        .iter()
        .map(|cache| {
            let (api, ns, cache) = (ctx.api.clone(), ctx.namespace.clone(), cache.clone());
            let (counters, stop) = (counters.clone(), stop_rx.clone());
            tokio::spawn(informer(api, ns, cache, counters, stop))
        })
        .collect();

    let tallies = write(ctx, params).await?;
    let last_write = Instant::now();
    let truth: BTreeMap<String, String> = ctx
        .api
        .list_configmaps(&ctx.namespace, None, None)
        .await?
        .items
        .into_iter()
        .map(|o| (o.metadata.name, o.metadata.resource_version))
        .collect();

    let mut converged_at: Vec<Option<Instant>> = vec![None; caches.len()];
    while last_write.elapsed() < CONVERGE_TIMEOUT && converged_at.iter().any(Option::is_none) {
        for (cache, at) in caches.iter().zip(converged_at.iter_mut()) {
            if at.is_none() && cache.lock().is_ok_and(|c| *c == truth) {
                *at = Some(Instant::now());
            }
        }
        tokio::time::sleep(POLL).await;
    }
    let _ = stop_tx.send(true);
    for handle in informers {
        handle.await.map_err(|e| Error::Run(format!("an informer failed: {e}")))?;
    }

    let mut mismatches = Vec::new();
    for (i, cache) in caches.iter().enumerate() {
        let cache = cache.lock().map(|c| c.clone()).unwrap_or_default();
        if converged_at[i].is_none() && mismatches.len() < 5 {
            mismatches.push(format!("informer {i}: {}", difference(&cache, &truth)));
        }
    }
    let converged = converged_at.iter().filter(|a| a.is_some()).count();
    let convergence_ms = if converged == caches.len() {
        converged_at
            .iter()
            .flatten()
            .map(|at| at.saturating_duration_since(last_write).as_secs_f64() * 1000.0)
            .reduce(f64::max)
    } else {
        None
    };
    let mut all = Tally::default();
    for (label, tally) in ["create", "update", "delete"].iter().zip(&tallies) {
        report.measure(&format!("controller {label}"), tally);
        all.merge(tally);
    }
    all.elapsed = ctx.duration;
    require_success("controller write", &all)?;
    report.controller = Some(ControllerSummary {
        informers: params.informers,
        writers: params.writers,
        writes: all.ok,
        objects_at_end: truth.len(),
        converged,
        all_equal: converged == caches.len(),
        convergence_ms,
        lists: counters.lists.load(Ordering::Relaxed),
        watches: counters.watches.load(Ordering::Relaxed),
        events: counters.events.load(Ordering::Relaxed),
        relists_after_410: counters.relists_after_410.load(Ordering::Relaxed),
        mismatches,
    });
    Ok(())
}

/// What differs between a cache and the truth, briefly.
fn difference(cache: &BTreeMap<String, String>, truth: &BTreeMap<String, String>) -> String {
    let missing = truth.keys().filter(|k| !cache.contains_key(*k)).count();
    let extra = cache.keys().filter(|k| !truth.contains_key(*k)).count();
    let stale = truth.iter().filter(|(k, v)| cache.get(*k).is_some_and(|c| c != *v)).count();
    format!("{missing} missing, {extra} extra, {stale} at another resourceVersion")
}

/// Steps one informer's state machine until told to stop.
async fn informer(
    api: Api,
    namespace: String,
    cache: Cache,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
) {
    let mut state = State::List;
    loop {
        state = tokio::select! {
            _ = stop.changed() => State::Stopped,
            next = step(state, &api, &namespace, &cache, &counters) => next,
        };
        if matches!(state, State::Stopped) || *stop.borrow() {
            return;
        }
    }
}

/// One step: a LIST, or one WATCH stream read to its end.
async fn step(
    state: State,
    api: &Api,
    namespace: &str,
    cache: &Cache,
    counters: &Counters,
) -> State {
    match state {
        State::Stopped => State::Stopped,
        State::List => {
            counters.lists.fetch_add(1, Ordering::Relaxed);
            match api.list_configmaps(namespace, None, None).await {
                Ok(list) => {
                    let items = list
                        .items
                        .into_iter()
                        .map(|o| (o.metadata.name, o.metadata.resource_version));
                    if let Ok(mut cache) = cache.lock() {
                        *cache = items.collect();
                    }
                    State::Watch(list.metadata.resource_version)
                }
                Err(_) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    State::List
                }
            }
        }
        State::Watch(mut resource_version) => {
            counters.watches.fetch_add(1, Ordering::Relaxed);
            let response = match api.watch_configmaps(namespace, &resource_version).await {
                Ok(response) => response,
                Err(e) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    // An expired revision may be refused before the stream starts.
                    return if e.to_string().contains("HTTP 410") {
                        counters.relists_after_410.fetch_add(1, Ordering::Relaxed);
                        State::List
                    } else {
                        State::Watch(resource_version)
                    };
                }
            };
            let mut stream = WatchStream::new(response);
            loop {
                let event = match stream.next().await {
                    Ok(Some(event)) => event,
                    // The server ended the stream (or it broke): resume where we are.
                    Ok(None) | Err(_) => return State::Watch(resource_version),
                };
                counters.events.fetch_add(1, Ordering::Relaxed);
                match event.kind {
                    Kind::Error => {
                        if event.code == Some(410) {
                            counters.relists_after_410.fetch_add(1, Ordering::Relaxed);
                            return State::List;
                        }
                        tokio::time::sleep(RETRY_PAUSE).await;
                        return State::Watch(resource_version);
                    }
                    Kind::Bookmark => {}
                    Kind::Added | Kind::Modified => {
                        if let Ok(mut cache) = cache.lock() {
                            cache.insert(event.name, event.resource_version.clone());
                        }
                    }
                    Kind::Deleted => {
                        if let Ok(mut cache) = cache.lock() {
                            cache.remove(&event.name);
                        }
                    }
                }
                resource_version = event.resource_version;
            }
        }
    }
}

/// The writers: each owns every W-th name and cycles it through create → update × 3 → delete,
/// paced so all writers together send `writes_per_sec`. Returns create, update, delete tallies.
async fn write(ctx: &Ctx, params: &Controller) -> Result<[Tally; 3]> {
    let all_names = names("cm", params.objects);
    let per_writer = Duration::from_secs_f64(params.writers as f64 / params.writes_per_sec);
    let deadline = tokio::time::Instant::now() + ctx.duration;
    let value = Arc::new(api::value(params.value_bytes, 0));
    let millis = u64::try_from(ctx.duration.as_millis()).unwrap_or(u64::MAX);
    ctx.progress.start("controller writes", millis);
    let started = Instant::now();
    let results = spawn_all(params.writers, |w| {
        let mine: Vec<String> = all_names.iter().skip(w).step_by(params.writers).cloned().collect();
        let (api, ns, value, progress) =
            (ctx.api.clone(), ctx.namespace.clone(), value.clone(), ctx.progress.clone());
        async move {
            let mut tallies: [Tally; 3] = Default::default();
            if mine.is_empty() {
                return tallies;
            }
            // Per name: its resourceVersion if it exists, and how many writes it has had.
            let mut state: Vec<(Option<String>, u64)> = vec![(None, 0); mine.len()];
            let mut next = tokio::time::Instant::now();
            let mut turn = 0usize;
            while next < deadline {
                tokio::time::sleep_until(next).await;
                next += per_writer;
                let i = turn % mine.len();
                turn += 1;
                let (name, (rv, count)) = (&mine[i], &mut state[i]);
                let sent = Instant::now();
                let (verb, result) = match rv.clone() {
                    None => {
                        let body = api::configmap(&ns, name, &value, None, &[]);
                        (
                            0,
                            api.create_configmap(&ns, &body)
                                .await
                                .map(|m| Some(m.resource_version)),
                        )
                    }
                    Some(current) if *count % 4 != 3 => {
                        let changed = api::value(value.len(), *count as usize);
                        let body = api::configmap(&ns, name, &changed, Some(&current), &[]);
                        (
                            1,
                            api.update_configmap(&ns, name, &body)
                                .await
                                .map(|m| Some(m.resource_version)),
                        )
                    }
                    Some(_) => (2, api.delete_configmap(&ns, name).await.map(|()| None)),
                };
                match result {
                    Ok(new) => {
                        tallies[verb].success(sent.elapsed());
                        *rv = new;
                        *count += 1;
                    }
                    Err(e) => {
                        tallies[verb].failure(e);
                        // Learn the object's real state before its next write.
                        *rv = api.get_configmap(&ns, name).await.ok().map(|m| m.resource_version);
                    }
                }
                progress.set(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
            }
            tallies
        }
    })
    .await?;
    let mut merged: [Tally; 3] = Default::default();
    for tallies in &results {
        for (all, one) in merged.iter_mut().zip(tallies) {
            all.merge(one);
        }
    }
    for tally in &mut merged {
        tally.elapsed = started.elapsed();
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_counted() {
        let truth: BTreeMap<String, String> =
            [("a", "1"), ("b", "2")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        let cache: BTreeMap<String, String> =
            [("b", "1"), ("c", "3")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        assert_eq!(difference(&cache, &truth), "1 missing, 1 extra, 1 at another resourceVersion");
    }
}
