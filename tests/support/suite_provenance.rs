//! The provenance part of the storage conformance suite: every field of a [`Provenance`] comes
//! back exactly as written, from every read path and after a restart, and entries written by the
//! release before the identity fields still read, with those fields empty. Expanded for every
//! backend by `conformance_suite!` (see `suite.rs`).

use std::sync::Arc;

use bytes::Bytes;
use kube_ledger::storage::{Event, EventType, ListOptions, Provenance, Storage, Verb};

use super::suite::{Harness, collect_events};

/// One write as the previous release made it, for [`Harness::start_on_previous_format`]. Whether
/// it is a create, an update or a delete follows from the verb and whether the key exists.
#[derive(Debug, Clone, Copy)]
pub struct PreviousWrite {
    pub key: &'static str,
    pub verb: Verb,
    /// The value written; ignored for a delete.
    pub value: &'static str,
    pub user: &'static str,
    pub audit_id: &'static str,
    pub timestamp_micros: i64,
}

impl PreviousWrite {
    /// The provenance this build must read back for the write: the previous release's four
    /// fields, everything added since empty.
    pub fn provenance(&self) -> Provenance {
        Provenance {
            timestamp_micros: self.timestamp_micros,
            ..Provenance::now(self.user, self.verb, self.audit_id)
        }
    }

    /// The provenance JSON the previous release stored in etcd envelopes, byte for byte.
    pub fn previous_json(&self) -> String {
        format!(
            r#"{{"user":{},"verb":"{}","audit_id":{},"timestamp_micros":{}}}"#,
            serde_json::to_string(self.user).unwrap(),
            self.verb.as_str(),
            serde_json::to_string(self.audit_id).unwrap(),
            self.timestamp_micros
        )
    }
}

/// What each of `writes` does to its key, given the writes before it.
pub fn event_types(writes: &[PreviousWrite]) -> Vec<EventType> {
    let mut live = std::collections::HashSet::new();
    writes
        .iter()
        .map(|w| match w.verb {
            Verb::Delete => {
                assert!(live.remove(w.key), "{w:?} deletes a key that does not exist");
                EventType::Deleted
            }
            _ if live.insert(w.key) => EventType::Created,
            _ => EventType::Updated,
        })
        .collect()
}

const OLD: &str = "/configmaps/default/old";
const GONE: &str = "/configmaps/default/gone";

/// A small log of the previous release: creates, an update by patch and a delete.
pub const PREVIOUS_WRITES: &[PreviousWrite] = &[
    PreviousWrite {
        key: OLD,
        verb: Verb::Create,
        value: "v1",
        user: "alice",
        audit_id: "a1",
        timestamp_micros: 1_600_000_000_000_001,
    },
    PreviousWrite {
        key: GONE,
        verb: Verb::Create,
        value: "g1",
        user: "system:serviceaccount:kube-system:bob",
        audit_id: "b1",
        timestamp_micros: 1_600_000_000_000_002,
    },
    PreviousWrite {
        key: OLD,
        verb: Verb::Patch,
        value: "v2",
        user: "carol \"the admin\"",
        audit_id: "",
        timestamp_micros: 1_600_000_000_000_003,
    },
    PreviousWrite {
        key: GONE,
        verb: Verb::Delete,
        value: "",
        user: "system:serviceaccount:kube-system:bob",
        audit_id: "b2",
        timestamp_micros: 1_600_000_000_000_004,
    },
];

/// A provenance with every field set; `n` varies each of them. Group names carry the characters
/// an encoding could trip on.
fn full(n: u32, verb: Verb) -> Provenance {
    Provenance::now(format!("user-{n}"), verb, format!("audit-{n}"))
        .with_identity(
            format!("uid-{n}"),
            [
                format!("group-{n}"),
                "system:authenticated".to_owned(),
                "quote\" comma, bracket] newline\n tab\t ünïcode".to_owned(),
                String::new(),
            ],
            format!("kubectl/v1.31.{n} (linux/amd64) kubernetes/abcdef"),
            if n.is_multiple_of(2) { format!("10.0.0.{n}") } else { format!("2001:db8::{n}") },
        )
        .with_field_manager(format!("manager-{n}"))
}

/// The (revision, type, provenance) of events, for comparing what each read path returns.
fn who_did_what(events: &[Event]) -> Vec<(i64, EventType, Provenance)> {
    events
        .iter()
        .map(|e| {
            let p = e.provenance.clone().unwrap_or_else(|| panic!("no provenance: {e:?}"));
            (e.revision, e.event_type, p)
        })
        .collect()
}

async fn history(storage: &Arc<dyn Storage>, key: &str) -> Vec<(i64, EventType, Provenance)> {
    who_did_what(&storage.history(key).await.unwrap())
}

pub async fn every_field_round_trips_durably<H: Harness>(harness: &mut H) {
    let storage = harness.storage();
    let (key, other) = ("/secrets/default/creds", "/secrets/default/plain");
    let mut live = storage.watch("/secrets/", 0).await.unwrap();

    let by =
        [full(1, Verb::Create), full(2, Verb::Patch), full(3, Verb::Delete), full(4, Verb::Create)];
    // Without the builders the new fields are empty, and stay so.
    let plain = Provenance::now("system:anonymous", Verb::Create, "");
    let c = storage.create(key, Bytes::from("a"), by[0].clone()).await.unwrap();
    let u = storage.update(key, c.mod_revision, Bytes::from("b"), by[1].clone()).await.unwrap();
    let p = storage.create(other, Bytes::from("p"), plain.clone()).await.unwrap();
    // A delete's provenance travels without a value (etcd: in the tombstone).
    let d = storage.delete(key, u.mod_revision, by[2].clone()).await.unwrap();
    let r = storage.create(key, Bytes::from("c"), by[3].clone()).await.unwrap();

    let expected = vec![
        (c.mod_revision, EventType::Created, by[0].clone()),
        (u.mod_revision, EventType::Updated, by[1].clone()),
        (d.revision, EventType::Deleted, by[2].clone()),
        (r.mod_revision, EventType::Created, by[3].clone()),
    ];
    let expected_other = vec![(p.mod_revision, EventType::Created, plain.clone())];
    let mut everything = [expected.clone(), expected_other.clone()].concat();
    everything.sort_by_key(|e| e.0);

    // History, the live watch, and a watch replaying from the start all agree.
    assert_eq!(history(&storage, key).await, expected);
    assert_eq!(history(&storage, other).await, expected_other);
    assert_eq!(who_did_what(&collect_events(&mut live, r.mod_revision).await), everything);
    let mut replay = storage.watch("/secrets/", 0).await.unwrap();
    assert_eq!(who_did_what(&collect_events(&mut replay, r.mod_revision).await), everything);
    drop((live, replay, storage));

    // Durably: the same after the backend restarts.
    harness.restart().await;
    let storage = harness.storage();
    assert_eq!(history(&storage, key).await, expected);
    assert_eq!(history(&storage, other).await, expected_other);
    let mut replay = storage.watch("/secrets/", 0).await.unwrap();
    assert_eq!(who_did_what(&collect_events(&mut replay, r.mod_revision).await), everything);
}

pub async fn previous_format_reads_with_empty_identity<H: Harness>() {
    let mut harness = H::start_on_previous_format(PREVIOUS_WRITES).await;
    let storage = harness.storage();
    let types = event_types(PREVIOUS_WRITES);

    // History: each write with the previous release's fields as written, the new ones empty.
    let mut events = Vec::new();
    for key in [OLD, GONE] {
        let h = storage.history(key).await.unwrap();
        let written: Vec<_> = PREVIOUS_WRITES
            .iter()
            .zip(&types)
            .filter(|(w, _)| w.key == key)
            .map(|(w, t)| (*t, w.provenance(), (*t != EventType::Deleted).then_some(w.value)))
            .collect();
        let read: Vec<_> = h
            .iter()
            .map(|e| {
                let value = e.object.as_ref().map(|o| std::str::from_utf8(&o.value).unwrap());
                (e.event_type, e.provenance.clone().expect("provenance"), value)
            })
            .collect();
        assert_eq!(read, written, "history of {key}");
        events.extend(h);
    }
    events.sort_by_key(|e| e.revision);
    let head = storage.current_revision().await.unwrap();
    assert_eq!(head, events.last().unwrap().revision);

    // The current state and a replaying watch read them too.
    assert_eq!(storage.get(OLD, None).await.unwrap().unwrap().value, "v2");
    assert_eq!(storage.get(GONE, None).await.unwrap(), None);
    let listed = storage.list("/configmaps/", ListOptions::default()).await.unwrap();
    assert_eq!(listed.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), [OLD]);
    let mut replay = storage.watch("/configmaps/", 0).await.unwrap();
    assert_eq!(who_did_what(&collect_events(&mut replay, head).await), who_did_what(&events));

    // New writes on top of the old log record everything, next to the old entries.
    let current = storage.get(OLD, None).await.unwrap().unwrap();
    let (update, delete) = (full(5, Verb::Update), full(6, Verb::Delete));
    let u =
        storage.update(OLD, current.mod_revision, Bytes::from("v3"), update.clone()).await.unwrap();
    let d = storage.delete(OLD, u.mod_revision, delete.clone()).await.unwrap();
    let old_history = history(&storage, OLD).await;
    assert_eq!(
        old_history[2..],
        [(u.mod_revision, EventType::Updated, update), (d.revision, EventType::Deleted, delete)]
    );
    drop((replay, storage));

    harness.restart().await;
    assert_eq!(history(&harness.storage(), OLD).await, old_history);
}
