//! Previous values for the events of a replay or a key's history, without asking etcd for them
//! per event.
//!
//! A watch opened `with_prev_key` makes etcd read each event's previous value with a range of
//! its own, one after another in the watch's send loop: about 130 µs an event on this machine,
//! so a replay of etcd's stored history ran at ~7,500 events/s however fast the rest was. But a
//! replay sees every event of its range in order, so the previous value of a key it has already
//! passed is the object of that key's last event it handed out. [`Previous`] remembers those
//! (up to [`REMEMBERED_BYTES`] of values, then it starts over) and reads the others — the first
//! event of each key in the range — at `revision - 1`, concurrently within one watch response.
//!
//! Data flows one way: a response's events, decoded without previous values → [`Previous::fill`]
//! → the same events with them, in order.

use std::collections::HashMap;

use etcd_client::GetOptions;
use futures::future::try_join_all;

use super::EtcdStorage;
use super::errors::{self, Kind, RevisionError};
use crate::storage::{Event, EventType, Object, Result, Revision};

/// How many bytes of values are remembered before the memory starts over: a bound on what a
/// replay holds, whatever the number of keys in its range.
const REMEMBERED_BYTES: usize = 32 << 20;

/// The last object of each key a replay has handed out.
#[derive(Debug, Default)]
pub(super) struct Previous {
    last: HashMap<String, Object>,
    bytes: usize,
}

impl Previous {
    /// Gives every update and delete in `events` (in revision order, decoded without previous
    /// values) the object its key held before: the one remembered, or read from etcd.
    pub(super) async fn fill(&mut self, storage: &EtcdStorage, events: &mut [Event]) -> Result<()> {
        let mut missing = Vec::new();
        for (n, event) in events.iter_mut().enumerate() {
            if event.event_type != EventType::Created && event.prev_object.is_none() {
                match self.last.get(&event.key) {
                    Some(object) => event.prev_object = Some(object.clone()),
                    None => missing.push(n),
                }
            }
            self.remember(event);
        }
        let read =
            missing.iter().map(|&n| storage.object_before(&events[n].key, events[n].revision));
        let objects = try_join_all(read).await?;
        for (n, object) in missing.into_iter().zip(objects) {
            events[n].prev_object = object;
        }
        Ok(())
    }

    fn remember(&mut self, event: &Event) {
        match &event.object {
            Some(object) => {
                if self.bytes + object.value.len() > REMEMBERED_BYTES {
                    self.last.clear();
                    self.bytes = 0;
                }
                self.bytes += object.value.len();
                if let Some(old) = self.last.insert(event.key.clone(), object.clone()) {
                    self.bytes -= old.value.len();
                }
            }
            None => {
                if let Some(old) = self.last.remove(&event.key) {
                    self.bytes -= old.value.len();
                }
            }
        }
    }
}

impl EtcdStorage {
    /// The object `key` held just before `revision`: `None` when it held none, or when etcd no
    /// longer holds that revision (as a watch's previous value would be missing then).
    async fn object_before(&self, key: &str, revision: Revision) -> Result<Option<Object>> {
        let options = GetOptions::new().with_revision(revision - 1);
        let response = match self.range("replay", &self.layout.data_key(key), options).await? {
            Ok(response) => response,
            Err(err) if errors::revision_error(&err) == Some(RevisionError::Compacted) => {
                return Ok(None);
            }
            Err(err) => return Err(errors::map(err, Kind::Read)),
        };
        match response.kvs().first() {
            Some(kv) => Ok(Some(self.layout.object_ref(kv)?.0)),
            None => Ok(None),
        }
    }
}
