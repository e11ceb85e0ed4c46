//! WATCH: the log's events for one resource (and namespace), filtered by selectors and
//! converted to the served version, as Kubernetes watch events.
//!
//! A watch without a resourceVersion (or `0`) first sends the current state as `ADDED`, read at
//! one revision, then every event after that revision; with `resourceVersion=N` it sends every
//! event after N. An object that stops matching the selectors is `DELETED` for this watcher,
//! one that starts matching is `ADDED` (kube-apiserver's cacher does the same). A revision the
//! log no longer holds ends the stream with an `ERROR` event carrying a 410 `Status`.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use serde_json::Value;

use super::list::matches;
use super::{ListParams, Store, decode, storage_err};
use crate::api::status::ApiError;
use crate::registry::{Resource, object};
use crate::storage::{Event, EventType, Object, Revision, StorageError, WatchItem, WatchStream};

/// The watch query.
#[derive(Debug, Clone, Default)]
pub struct WatchParams {
    /// Selectors and `resourceVersion` (`limit`/`continue` do not apply).
    pub list: ListParams,
    pub allow_bookmarks: bool,
    /// `sendInitialEvents=true` (watch-list): the current state first, then a bookmark marking
    /// its end.
    pub send_initial_events: bool,
}

/// One event of a watch, in the served version.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    Added(Value),
    Modified(Value),
    Deleted(Value),
    /// Only `metadata.resourceVersion` matters; `initial_events_end` marks the end of the
    /// initial state of a watch-list.
    Bookmark {
        revision: Revision,
        initial_events_end: bool,
    },
    Error(ApiError),
}

impl WatchEvent {
    /// `ADDED`, `MODIFIED`, … as on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark { .. } => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }
}

/// The state of one watch's stream.
enum State {
    /// Sending the initial state, then following `live`.
    Initial {
        pending: VecDeque<WatchEvent>,
        live: WatchStream,
    },
    Live(WatchStream),
    Done,
}

impl Store {
    pub async fn watch(
        &self,
        resource: Arc<Resource>,
        namespace: Option<String>,
        params: WatchParams,
    ) -> Result<BoxStream<'static, WatchEvent>, ApiError> {
        let rv = params.list.resource_version.as_deref().filter(|s| !s.is_empty());
        let from_state = params.send_initial_events || matches!(rv, None | Some("0"));
        let mut pending = VecDeque::new();
        let start = if from_state {
            let mut list_params = params.list.clone();
            list_params.resource_version = None;
            list_params.resource_version_match = None;
            list_params.limit = None;
            list_params.continue_token = None;
            let list = self.list(&resource, namespace.as_deref(), &list_params).await?;
            pending.extend(list.items.into_iter().map(WatchEvent::Added));
            if params.send_initial_events && params.allow_bookmarks {
                pending.push_back(WatchEvent::Bookmark {
                    revision: list.resource_version,
                    initial_events_end: true,
                });
            }
            list.resource_version
        } else {
            let rv = rv.unwrap_or("0");
            rv.parse::<Revision>()
                .ok()
                .filter(|r| *r >= 0)
                .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?
        };
        let prefix = resource.prefix(namespace.as_deref());
        let live = match self.storage.watch(&prefix, start).await {
            Ok(live) => live,
            Err(StorageError::Compacted { requested, compacted }) => {
                let error = WatchEvent::Error(ApiError::expired(requested, compacted));
                return Ok(stream::iter([error]).boxed());
            }
            Err(err) => return Err(storage_err(&resource, "")(err)),
        };
        let store = self.clone();
        let state = State::Initial { pending, live };
        let events = stream::unfold(state, move |state| {
            let (store, resource, params) = (store.clone(), resource.clone(), params.clone());
            async move { store.step(state, &resource, &params).await }
        });
        Ok(events.boxed())
    }

    /// Advances a watch by one event.
    async fn step(
        &self,
        mut state: State,
        resource: &Resource,
        params: &WatchParams,
    ) -> Option<(WatchEvent, State)> {
        loop {
            state = match state {
                State::Done => return None,
                State::Initial { mut pending, live } => match pending.pop_front() {
                    Some(event) => return Some((event, State::Initial { pending, live })),
                    None => State::Live(live),
                },
                State::Live(mut live) => match live.next().await {
                    None => return None,
                    Some(Err(StorageError::Compacted { requested, compacted })) => {
                        return Some((
                            WatchEvent::Error(ApiError::expired(requested, compacted)),
                            State::Done,
                        ));
                    }
                    Some(Err(err)) => {
                        let error = storage_err(resource, "")(err);
                        return Some((WatchEvent::Error(error), State::Done));
                    }
                    Some(Ok(WatchItem::Progress(_))) => State::Live(live),
                    Some(Ok(WatchItem::Event(event))) => {
                        match self.translate(resource, &event, params) {
                            Ok(Some(out)) => return Some((out, State::Live(live))),
                            Ok(None) => State::Live(live),
                            Err(error) => return Some((WatchEvent::Error(error), State::Done)),
                        }
                    }
                },
            }
        }
    }

    /// A log event → what this watcher sees, given its selectors.
    fn translate(
        &self,
        resource: &Resource,
        event: &Event,
        params: &WatchParams,
    ) -> Result<Option<WatchEvent>, ApiError> {
        let decode_matching = |o: &Option<Object>| -> Result<Option<Value>, ApiError> {
            match o {
                Some(o) => {
                    let value = decode(o)?;
                    Ok(matches(resource, &value, &params.list).then_some(value))
                }
                None => Ok(None),
            }
        };
        let now = decode_matching(&event.object)?;
        let before = match event.event_type {
            EventType::Created => None,
            _ => decode_matching(&event.prev_object)?,
        };
        let served = |value: Value| -> Result<Value, ApiError> {
            let mut served = resource.conversion.to_served_version(value)?;
            object::set_resource_version(&mut served, event.revision);
            Ok(served)
        };
        Ok(match (before, now) {
            (None, Some(now)) => Some(WatchEvent::Added(served(now)?)),
            (Some(_), Some(now)) => Some(WatchEvent::Modified(served(now)?)),
            (Some(before), None) => Some(WatchEvent::Deleted(served(before)?)),
            (None, None) => None,
        })
    }
}
