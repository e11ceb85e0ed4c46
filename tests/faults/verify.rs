//! The end of a fault scenario: what the log says happened (every object's history through the
//! `history` subresource, docs/history.md), checked against what the writers were told and
//! what every watcher received, and the replicas' views compared with each other.
//!
//! Data flows one way: the history (the truth) → the expected events and final states → the
//! figures (writes attempted/acknowledged/found, events expected/received/duplicated/out of
//! order/missing), which the scenario prints and asserts on.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::cluster::configmaps;
use super::load::{Ack, Failure, Op};
use super::watchers::{Record, Seen};

/// One revision of one object, from its history.
#[derive(Debug, Clone)]
pub struct Revision {
    pub rv: i64,
    pub kind: String,
    /// `data.seq` of the object at that revision (for DELETED, of its last state).
    pub seq: Option<u64>,
}

/// Every object's history, oldest first.
pub type Histories = BTreeMap<String, Vec<Revision>>;

/// Reads the history of every name (all pages) from the replica at `url`.
pub async fn histories(http: &reqwest::Client, url: &str, names: &[String]) -> Histories {
    let mut all = Histories::new();
    for name in names {
        let mut revisions = Vec::new();
        let mut token = String::new();
        loop {
            let page = format!("{}/{name}/history?limit=1000&continue={token}", configmaps(url));
            let response = http.get(page).send().await.expect("the history answers");
            let code = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            if code == 404 {
                break; // never created
            }
            assert_eq!(code, 200, "history of {name}: {body}");
            for item in body["items"].as_array().unwrap() {
                revisions.push(Revision {
                    rv: item["revision"].as_str().unwrap().parse().unwrap(),
                    kind: item["type"].as_str().unwrap().to_owned(),
                    seq: item["object"]["data"]["seq"].as_str().and_then(|s| s.parse().ok()),
                });
            }
            match body["metadata"]["continue"].as_str() {
                Some(next) if !next.is_empty() => token = next.to_owned(),
                _ => break,
            }
        }
        all.insert(name.clone(), revisions);
    }
    all
}

/// Acknowledged writes the history holds as acknowledged; the others, described.
pub fn found_acks(acks: &[Ack], histories: &Histories) -> (usize, Vec<String>) {
    let mut found = 0;
    let mut problems = Vec::new();
    let mut previous: BTreeMap<&str, i64> = BTreeMap::new();
    for ack in acks {
        let history = histories.get(&ack.name).map(Vec::as_slice).unwrap_or_default();
        let after = previous.get(ack.name.as_str()).copied().unwrap_or(0);
        let ok = match (ack.op, ack.rv) {
            (Op::Delete, _) => history.iter().any(|r| r.kind == "DELETED" && r.rv > after),
            (op, Some(rv)) => {
                let kind = if op == Op::Create { "ADDED" } else { "MODIFIED" };
                history.iter().any(|r| r.rv == rv && r.kind == kind && r.seq == Some(ack.seq))
            }
            (_, None) => false,
        };
        if ok {
            found += 1;
        } else {
            problems.push(format!("acknowledged write not in the history: {ack:?}"));
        }
        if let Some(rv) = ack.rv {
            previous.insert(&ack.name, rv);
        }
    }
    (found, problems)
}

/// The events a watcher from `start_rv` must receive: every revision after it, in order.
pub fn expected_events(histories: &Histories, start_rv: i64) -> Vec<Seen> {
    let mut events: Vec<Seen> = histories
        .iter()
        .flat_map(|(name, revisions)| {
            revisions.iter().filter(|r| r.rv > start_rv).map(move |r| Seen {
                name: name.clone(),
                rv: r.rv,
                kind: r.kind.clone(),
            })
        })
        .collect();
    events.sort_by_key(|e| e.rv);
    events
}

/// What the watchers received against what they should have.
#[derive(Debug, Default)]
pub struct EventFigures {
    pub watchers: usize,
    pub expected: usize,
    pub received: usize,
    pub duplicated: usize,
    pub out_of_order: usize,
    pub missing: usize,
    /// Received but no revision of the history (another type, or no such revision).
    pub unexpected: usize,
    /// A few of the unexpected and missing events, for the failure message.
    pub examples: Vec<String>,
    pub resumes: u32,
    pub expired: u32,
    /// Watch requests that did not open, by cause (see [`Record::not_opened`]).
    pub not_opened: BTreeMap<String, u32>,
}

pub fn event_figures(records: &[Record], expected: &[Seen]) -> EventFigures {
    let wanted: HashSet<(&str, i64, &str)> =
        expected.iter().map(|e| (e.name.as_str(), e.rv, e.kind.as_str())).collect();
    let mut figures = EventFigures { watchers: records.len(), ..EventFigures::default() };
    for record in records {
        figures.expected += expected.len();
        figures.received += record.events.len();
        figures.resumes += record.resumes;
        figures.expired += record.expired;
        for (cause, count) in &record.not_opened {
            *figures.not_opened.entry(cause.clone()).or_default() += count;
        }
        let mut seen = HashSet::new();
        let mut highest = 0;
        for event in &record.events {
            let key = (event.name.as_str(), event.rv, event.kind.as_str());
            if !seen.insert(key) {
                figures.duplicated += 1;
                continue;
            }
            if event.rv <= highest {
                figures.out_of_order += 1;
            }
            highest = highest.max(event.rv);
            if !wanted.contains(&key) {
                figures.unexpected += 1;
                if figures.examples.len() < 6 {
                    figures.examples.push(format!("{} received {event:?}", record.client));
                }
            }
        }
        for key in wanted.iter().filter(|key| !seen.contains(*key)) {
            figures.missing += 1;
            if figures.examples.len() < 6 {
                figures.examples.push(format!("{} missed {key:?}", record.client));
            }
        }
    }
    figures
}

/// Every replica's LIST (without resourceVersion: consistent) of the scenario's objects, as
/// name → (resourceVersion, seq); each must equal the history's last states.
pub async fn lists(http: &reqwest::Client, urls: &[String]) -> Vec<BTreeMap<String, (i64, u64)>> {
    let mut lists = Vec::new();
    for url in urls {
        let response = http.get(format!("{}?labelSelector=app%3Dfaults", configmaps(url)));
        let response = response.send().await.expect("the LIST answers");
        let code = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(code, 200, "LIST on {url}: {body}");
        let items = body["items"].as_array().unwrap().iter().map(|item| {
            let name = item["metadata"]["name"].as_str().unwrap().to_owned();
            let rv = item["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
            let seq = item["data"]["seq"].as_str().unwrap().parse().unwrap();
            (name, (rv, seq))
        });
        lists.push(items.collect());
    }
    lists
}

/// The current state by the history: name → (resourceVersion, seq) of every live object.
pub fn last_states(histories: &Histories) -> BTreeMap<String, (i64, u64)> {
    histories
        .iter()
        .filter_map(|(name, revisions)| {
            let last = revisions.last()?;
            (last.kind != "DELETED").then(|| (name.clone(), (last.rv, last.seq.unwrap())))
        })
        .collect()
}

/// A 409 on a conditional update is explained by the writer's own earlier write committed late:
/// a write that failed without an answer (504, a broken connection) may still be applied after
/// the writer read the object again, so the object's next revision after the update's base is
/// a write the writer was not told about. Two other outcomes are defects: the next revision is
/// an acknowledged write (the writer was given a stale object), or it is the very write that
/// was answered 409 (a write refused as a conflict was applied). Returns those, described.
pub fn unexplained_conflicts(
    failures: &[Failure],
    acks: &[Ack],
    histories: &Histories,
) -> Vec<String> {
    let acked: HashSet<(&str, u64)> = acks.iter().map(|a| (a.name.as_str(), a.seq)).collect();
    let mut unexplained = Vec::new();
    for failure in failures.iter().filter(|f| f.code == 409) {
        let history = histories.get(&failure.name).map(Vec::as_slice).unwrap_or_default();
        let base = failure.base_rv.unwrap_or(0);
        let next = history.iter().find(|r| r.rv > base);
        let what = match next.and_then(|r| r.seq) {
            Some(seq) if seq == failure.seq => "the write answered 409 was applied",
            Some(seq) if acked.contains(&(failure.name.as_str(), seq)) => {
                "the update rested on a stale object"
            }
            Some(_) => continue, // an earlier unanswered write, committed late
            None => "no later revision explains the conflict",
        };
        unexplained.push(format!("{what}: {failure:?}; history {history:?}"));
    }
    unexplained
}
