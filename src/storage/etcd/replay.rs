//! Replay of a prefix between two revisions: etcd watches of the prefix's range from `from`,
//! each closed after its last event at or before `to`, merged by revision; previous values come
//! from the replay's own earlier events where it has them ([`Previous`]), not from etcd per event.
//!
//! Why several watches: etcd 3.4 catches a watch up on stored history in its sync loop
//! (`syncWatchersLoop` in `mvcc/watchable_store.go`): each pass hands every behind watcher at
//! most 1,000 revisions of its own events, and while no watcher catches up, the next pass
//! comes 100 ms later, so one watch replays at most ~10,000 revisions a second. The limit is per
//! watcher, so the range is cut into up to [`MAX_WATCHES`] disjoint key ranges of about as many
//! keys each (the prefix's keys and delete tombstones at `to`, keys only), one watch each, and
//! their events are merged: every event of the prefix lies in exactly one of them, each comes in
//! revision order, and an event is handed out only once every unfinished watch has sent one at
//! or past its revision. Events of one revision from different watches (only a transaction
//! writing several keys of the prefix makes them, which kube-ledger never does) come in key
//! order, not in the order of the transaction's operations.
//!
//! A watch never ends by itself, and etcd 3.4 sends a requested progress notification before
//! the history a new watch still has to catch up on, so "nothing more before `to`" is learned
//! up front instead, for each key range: the last event in it at or before `to` is the newest
//! `mod_revision` among its keys as they were at `to` (every put since is in one of them) and
//! among their delete tombstones at `to` (every delete by kube-ledger is). Two range reads,
//! sorted by etcd, then that range's watch stops at that revision. A delete made by something
//! other than kube-ledger leaves no tombstone, so one after its range's last other event is not
//! replayed; a delete at exactly the compacted revision is not either (etcd drops it, see
//! `history`).
//!
//! Data flows up from the etcd watches, each on a connection of its own (see [`MAX_WATCHES`]),
//! at most one response (1,000 revisions) per watch ahead of the consumer plus what HTTP/2's
//! stream window lets etcd send meanwhile: flow control holds etcd back, so memory stays bounded
//! however long the range. Dropping the stream drops the watches and their connections, and
//! etcd cancels them.

use std::collections::VecDeque;

use etcd_client::{GetOptions, SortOrder, SortTarget, WatchOptions};
use futures::StreamExt;
use futures::future::try_join_all;

use super::EtcdStorage;
use super::errors::Kind;
use super::previous::Previous;
use crate::storage::{
    Event, EventStream, Result, Revision, StorageError, prefix_end, validate_prefix,
};

/// Watches of one replay, at most: each is served up to 1,000 revisions per sync pass.
///
/// Each watch has a connection of its own ([`EtcdStorage::open_watch_alone`]): on one shared
/// HTTP/2 connection, the responses waiting unread on the watches the merge is not reading yet
/// held the connection's flow-control window, so neither the watch it waited on nor a read of a
/// delete's tombstone could be answered (a 30 s stall in `cargo bench --bench history`). Alone,
/// a watch can only hold back itself, and the previous values and tombstones are read on the
/// member's usual connection. What waits unread is bounded per watch by HTTP/2's stream window.
const MAX_WATCHES: usize = 32;
/// Revisions of the range per watch, at least: a short replay needs no more than one pass, and
/// one watch alone shares the member's connection.
const REVISIONS_PER_WATCH: i64 = 100;

impl EtcdStorage {
    pub(super) async fn replay_prefix(
        &self,
        prefix: &str,
        from: Revision,
        to: Revision,
    ) -> Result<EventStream> {
        validate_prefix(prefix)?;
        let head = self.head_revision().await?;
        if to > head {
            return Err(StorageError::FutureRevision { requested: to, current: head });
        }
        let from = from.max(1);
        let recorded = self.recorded_compaction().await?;
        if from < recorded {
            return Err(StorageError::Compacted { requested: from, compacted: recorded });
        }
        if from > to {
            return Ok(futures::stream::empty().boxed());
        }
        // Also refuses a range that etcd compacted without kube-ledger recording it.
        self.check_readable(from).await?;
        let span = usize::try_from((to - from) / REVISIONS_PER_WATCH + 1).unwrap_or(MAX_WATCHES);
        let ranges = self.key_ranges(prefix, to, span.min(MAX_WATCHES)).await?;
        let lasts = try_join_all(ranges.iter().map(|r| self.last_event_in(r, to))).await?;
        // One watch alone is read whenever the merge waits: it may share the member's connection.
        let alone = ranges.len() > 1;
        let opened = ranges.iter().zip(lasts).filter(|(_, last)| *last >= from).map(|(r, last)| {
            let (start, end) = (self.layout.data_key(&r.0), self.layout.data_key(&r.1));
            let options = WatchOptions::new().with_range(end).with_start_revision(from);
            async move {
                let (client, stream) = match alone {
                    true => self.open_watch_alone(start, options).await?,
                    false => self.open_watch_shared(start, options).await?,
                };
                let buffer = VecDeque::new();
                Ok::<_, StorageError>(Part { stream, _client: client, last, buffer, ended: false })
            }
        });
        let parts = try_join_all(opened).await?;
        if parts.is_empty() {
            return Ok(futures::stream::empty().boxed());
        }
        let replay = Replay {
            storage: self.clone(),
            parts,
            previous: Previous::default(),
            pending: VecDeque::new(),
            done: false,
        };
        // Fused: a consumer may poll again after the end (an unfold would panic).
        Ok(futures::stream::unfold(replay, |mut r| async move { r.next().await.map(|i| (i, r)) })
            .fuse()
            .boxed())
    }

    /// Up to `count` disjoint key ranges `[start, end)` (object keys) that together make the
    /// prefix's range, cut between the keys and tombstones it holds at `to` so that each holds
    /// about as many keys.
    async fn key_ranges(
        &self,
        prefix: &str,
        to: Revision,
        count: usize,
    ) -> Result<Vec<(String, String)>> {
        let whole = vec![(prefix.to_owned(), prefix_end(prefix))];
        if count <= 1 {
            return Ok(whole);
        }
        let (data, data_end) = self.layout.data_range(prefix);
        let (tombstones, tombstones_end) = self.layout.tombstone_prefix_range(prefix);
        let keys =
            |end: String| GetOptions::new().with_range(end).with_revision(to).with_keys_only();
        let (data, tombstones) = futures::try_join!(
            self.read("replay", to, &data, keys(data_end)),
            self.read("replay", to, &tombstones, keys(tombstones_end)),
        )?;
        let data_prefix = self.layout.data_key("");
        let tombstone_prefix = self.layout.tombstone_key("");
        let mut keys: Vec<&[u8]> = data
            .kvs()
            .iter()
            .filter_map(|kv| kv.key().strip_prefix(data_prefix.as_bytes()))
            .chain(
                tombstones
                    .kvs()
                    .iter()
                    .filter_map(|kv| kv.key().strip_prefix(tombstone_prefix.as_bytes())),
            )
            .collect();
        keys.sort_unstable();
        keys.dedup();
        Ok(cut(prefix, &keys, count))
    }

    /// Fails with `Compacted` unless    /// Fails with `Compacted` unless the state at `revision` is still readable.
    async fn check_readable(&self, revision: Revision) -> Result<()> {
        let options = GetOptions::new().with_count_only().with_revision(revision);
        match self.range("replay", &self.layout.compacted_key(), options).await? {
            Ok(_) => Ok(()),
            Err(err) => Err(self.read_error(err, revision).await),
        }
    }

    /// The revision of the last event in the key range `[start, end)` at or before `to` (0 when
    /// there is none): the newest `mod_revision` among its keys and their tombstones at `to`.
    async fn last_event_in(
        &self,
        (start, end): &(String, String),
        to: Revision,
    ) -> Result<Revision> {
        let (data, data_end) = (self.layout.data_key(start), self.layout.data_key(end));
        let (tombstones, tombstones_end) =
            (self.layout.tombstone_key(start), self.layout.tombstone_key(end));
        let newest = |end: String| {
            GetOptions::new()
                .with_range(end)
                .with_revision(to)
                .with_keys_only()
                .with_sort(SortTarget::Mod, SortOrder::Descend)
                .with_limit(1)
        };
        let (data, tombstones) = futures::try_join!(
            self.read("replay", to, &data, newest(data_end)),
            self.read("replay", to, &tombstones, newest(tombstones_end)),
        )?;
        let newest = |response: &etcd_client::GetResponse| {
            response.kvs().first().map_or(0, etcd_client::KeyValue::mod_revision)
        };
        Ok(newest(&data).max(newest(&tombstones)))
    }
}

/// Cuts the range of `prefix` into up to `count` ranges `[start, end)` of about as many of
/// `keys` (sorted object keys under the prefix) each. The first starts at the prefix and the last
/// ends at its end, so together they hold every key the prefix can hold.
fn cut(prefix: &str, keys: &[&[u8]], count: usize) -> Vec<(String, String)> {
    let mut bounds = vec![prefix.to_owned()];
    for i in 1..count {
        let Some(key) = keys.get(keys.len() * i / count) else { break };
        let Ok(key) = std::str::from_utf8(key) else { continue };
        if key > bounds[bounds.len() - 1].as_str() {
            bounds.push(key.to_owned());
        }
    }
    bounds.push(prefix_end(prefix));
    bounds.windows(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect()
}

/// The state of one replay stream.
struct Replay {
    storage: EtcdStorage,
    /// The watches still sending, one per key range.
    parts: Vec<Part>,
    /// The objects handed out so far, the previous values of later events.
    previous: Previous,
    /// Events merged and not handed out yet.
    pending: VecDeque<Result<Event>>,
    /// Set once every watch has ended, or the stream failed: what is pending is all that is left.
    done: bool,
}

/// The watch of one key range of a replay.
struct Part {
    stream: etcd_client::WatchStream,
    /// The client of the watch's own connection, which it keeps open.
    _client: etcd_client::WatchClient,
    /// The revision of the range's last event to hand out.
    last: Revision,
    /// Events received and not merged yet, in revision order.
    buffer: VecDeque<Event>,
    /// Set once `last` is buffered: nothing more is read from this watch.
    ended: bool,
}

impl Replay {
    async fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.merge().await {
                Ok(mut events) => match self.previous.fill(&self.storage, &mut events).await {
                    Ok(()) => self.pending.extend(events.into_iter().map(Ok)),
                    Err(err) => self.fail(err),
                },
                Err(err) => self.fail(err),
            }
            self.done = self.done || self.parts.is_empty();
        }
    }

    /// The next events in revision order: every event buffered at or before the earliest
    /// revision an unfinished watch has reached, once each unfinished watch has sent one.
    async fn merge(&mut self) -> Result<Vec<Event>> {
        let storage = &self.storage;
        let starved = self.parts.iter_mut().filter(|p| p.buffer.is_empty() && !p.ended);
        try_join_all(starved.map(|part| part.receive(storage))).await?;
        let through = self
            .parts
            .iter()
            .filter(|p| !p.ended)
            .filter_map(|p| p.buffer.back().map(|e| e.revision))
            .min()
            .unwrap_or(Revision::MAX);
        let mut events = Vec::new();
        for part in &mut self.parts {
            while part.buffer.front().is_some_and(|e| e.revision <= through) {
                events.extend(part.buffer.pop_front());
            }
        }
        self.parts.retain(|p| !(p.ended && p.buffer.is_empty()));
        // Stable: events of one revision keep their ranges' key order.
        events.sort_by_key(|e| e.revision);
        Ok(events)
    }

    fn fail(&mut self, err: StorageError) {
        self.pending.push_back(Err(err));
        self.done = true;
    }
}

impl Part {
    /// Reads responses until one brings events of the range, or its last one.
    async fn receive(&mut self, storage: &EtcdStorage) -> Result<()> {
        while self.buffer.is_empty() && !self.ended {
            // etcd sends stored history without pause, so silence means trouble.
            let response = storage.within("replay", Kind::Read, self.stream.message()).await?;
            let Some(response) = response else {
                return Err(StorageError::Unavailable("etcd closed the watch".to_owned()));
            };
            if response.compact_revision() > 0 {
                return Err(StorageError::Compacted {
                    requested: self.last,
                    compacted: response.compact_revision(),
                });
            }
            if response.canceled() {
                return Err(StorageError::Unavailable(format!(
                    "etcd canceled the watch: {}",
                    response.cancel_reason()
                )));
            }
            let events = try_join_all(response.events().iter().map(|e| storage.event(e))).await?;
            for event in events {
                if event.revision > self.last {
                    self.ended = true;
                    break;
                }
                self.ended = event.revision == self.last;
                self.buffer.push_back(event);
                if self.ended {
                    break;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_cover_the_prefix_without_overlap() {
        let keys: Vec<String> = (0..100).map(|n| format!("/pods/ns/p-{n:03}")).collect();
        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        for count in [1, 2, 3, 7, 32, 200] {
            let ranges = cut("/pods/", &keys, count);
            assert!(ranges.len() <= count.max(1), "{count}: {ranges:?}");
            assert_eq!(ranges[0].0, "/pods/");
            assert_eq!(ranges[ranges.len() - 1].1, "/pods0");
            assert!(ranges.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 < w[0].1));
            // Every key in exactly one range, and the ranges about even.
            let sizes: Vec<usize> = ranges
                .iter()
                .map(|(s, e)| {
                    keys.iter().filter(|k| **k >= s.as_bytes() && **k < e.as_bytes()).count()
                })
                .collect();
            assert_eq!(sizes.iter().sum::<usize>(), 100);
            if count <= 100 {
                assert!(sizes.iter().all(|&n| n.abs_diff(100 / count) <= 1), "{sizes:?}");
            }
        }
        assert_eq!(cut("/pods/", &[], 8), vec![("/pods/".to_owned(), "/pods0".to_owned())]);
    }
}
