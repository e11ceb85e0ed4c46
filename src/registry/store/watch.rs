//! WATCH: the events of one resource (and namespace), filtered by selectors and converted to the
//! served version, as Kubernetes watch events — served from the resource's view
//! ([`super::super::views`]), so every watcher of a resource shares one view (fed by the one
//! storage watch of the whole log), one decode per write and one encoding per served version.
//!
//! A watch without a resourceVersion (or `0`, or with `sendInitialEvents=true`) first sends the
//! current state as `ADDED`, then every event after it; with `resourceVersion=N` it sends every
//! event after N (from the view's window, or replayed from the log when N is older). An object
//! that stops matching the selectors is `DELETED` for this watcher, one that starts matching is
//! `ADDED` (kube-apiserver's cacher does the same). A revision the log no longer holds ends the
//! stream with an `ERROR` event carrying a 410 `Status`. A watcher that fell behind, or whose view
//! re-listed, sees its stream end cleanly (after a `BOOKMARK` at the revision to resume from, when
//! it asked for bookmarks): Kubernetes clients then watch again from their last resourceVersion.

use std::sync::Arc;
use std::time::Duration;

use ::watch::{
    Change, EncodingKey, IndexValue, ViewError, WatchError, WatchEventType, WatchRequest,
    WatchStart, WatcherEvent,
};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::Value;
use tokio::time::Instant;

use super::list::matches;
use super::{ListParams, Store, storage_err};
use crate::meta::labels::Operator;
use crate::meta::status::{ApiError, Reason};
use crate::registry::{Resource, object};
use crate::storage::Revision;

/// Live events a watcher may have pending before it is closed as fallen behind (and resumes).
const WATCH_BUFFER: usize = 1024;

/// How long a new watch waits for a view that is still loading (its first list).
const LOAD_WAIT: Duration = Duration::from_secs(10);

/// How long a new watch from the current state waits for the resource's view to reach the log's
/// revision before reading the initial state from the log instead.
const VIEW_WAIT: Duration = Duration::from_millis(100);

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

/// One event of a watch.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// An object of the initial state read from the log (when the view lagged): `ADDED`.
    Listed(Value),
    Added(WatchObject),
    Modified(WatchObject),
    Deleted(WatchObject),
    /// Only `metadata.resourceVersion` matters; `initial_events_end` marks the end of the
    /// initial state of a watch-list.
    Bookmark {
        revision: Revision,
        initial_events_end: bool,
    },
    Error(ApiError),
}

impl WatchEvent {
    /// The resourceVersion the event brings its watcher up to (none for errors).
    pub fn revision(&self) -> Option<Revision> {
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                Some(o.change.revision())
            }
            WatchEvent::Bookmark { revision, .. } => Some(*revision),
            // An initial object's own revision is older than the state it belongs to.
            WatchEvent::Listed(_) | WatchEvent::Error(_) => None,
        }
    }

    /// `ADDED`, `MODIFIED`, … as on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Listed(_) | WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark { .. } => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }
}

/// The object of an `ADDED`, `MODIFIED` or `DELETED` event, shared with every other watcher of
/// the same write: it is converted to the served version and encoded only when an encoding is
/// not cached yet ([`WatchObject::encoded`]).
#[derive(Debug, Clone)]
pub struct WatchObject {
    resource: Arc<Resource>,
    /// The served group/version, the part of the encoding key that says which conversion.
    version: Arc<str>,
    event_type: WatchEventType,
    change: Change,
}

impl WatchObject {
    /// The object in the served version, its resourceVersion the event's revision. A webhook
    /// converts the object of one event once for every watcher of this served version (the
    /// converter shares the call by key and `mod_revision`).
    pub async fn served(&self) -> Result<Value, ApiError> {
        let object = self.change.object();
        if object.json.is_null() {
            tracing::error!(key = %object.key, "stored object is not valid JSON");
            return Err(ApiError::internal("a stored object could not be decoded"));
        }
        let conversion = &self.resource.conversion;
        let json = object.json.clone();
        let converted = conversion.to_served_version_shared(&object.key, object.mod_revision, json);
        let mut served = converted.await?;
        object::set_resource_version(&mut served, self.change.revision());
        Ok(served)
    }

    /// [`WatchObject::served`] when the conversion answers at once (it runs in the process); a
    /// remote one ([`WatchObject::converts_remotely`]) must be awaited with `served` instead.
    pub fn served_now(&self) -> Result<Value, ApiError> {
        let object = self.change.object();
        if object.json.is_null() {
            tracing::error!(key = %object.key, "stored object is not valid JSON");
            return Err(ApiError::internal("a stored object could not be decoded"));
        }
        match self.resource.conversion.to_served_version(object.json.clone()).now() {
            Some(served) => {
                let mut served = served?;
                object::set_resource_version(&mut served, self.change.revision());
                Ok(served)
            }
            None => Err(ApiError::internal("the conversion of a watch event did not answer")),
        }
    }

    /// Whether the conversion to the served version leaves the process (a webhook).
    pub fn converts_remotely(&self) -> bool {
        self.resource.conversion.is_remote()
    }

    /// The bytes `encode` makes of this event in `encoding` (a name for the output format that
    /// the caller chooses, such as `"json"`): encoded by the first watcher of this event, served
    /// version, encoding and event type that asks, and shared with every later one.
    pub fn encoded(&self, encoding: &'static str, encode: impl FnOnce() -> Bytes) -> Bytes {
        let key =
            EncodingKey { version: self.version.clone(), encoding, event_type: self.event_type };
        self.change.encoded(key, encode)
    }
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
        let after = match (from_state, rv) {
            (true, _) | (false, None) => None,
            (false, Some(rv)) => {
                Some(rv.parse::<Revision>().ok().filter(|r| *r >= 0).ok_or_else(|| {
                    ApiError::bad_request(format!("invalid resource version: {rv:?}"))
                })?)
            }
        };
        let view = self.views.of(&resource);
        // A view started by this very watch loads (lists its prefix) first.
        view.wait_until(0, Instant::now() + LOAD_WAIT).await.map_err(view_error)?;
        let mut initial = Vec::new();
        let mut after = after;
        let mut initial_events_end = params.send_initial_events && params.allow_bookmarks;
        if let Some(n) = after {
            // From a revision: no fence needed (the watcher skips ahead to it); it must not be
            // newer than the log.
            let log = self.storage.current_revision().await.map_err(storage_err(&resource, ""))?;
            if n > log {
                return Err(ApiError::too_large_resource_version(n, log));
            }
            // A revision the log no longer holds is 410, even while the view's window still
            // holds its events: resuming is promised for exactly what the log retains.
            let oldest =
                self.storage.compacted_revision().await.map_err(storage_err(&resource, ""))?;
            if n < oldest {
                let expired = WatchEvent::Error(ApiError::expired(n, oldest));
                return Ok(futures::stream::iter([expired]).boxed());
            }
        } else if let Err(err) = view.catch_up(Instant::now() + VIEW_WAIT).await {
            // The fence — the view reflects every acknowledged write — was not reached in time
            // (the view is lagging, or an etcd head was moved by a write outside the objects'
            // keys; every view otherwise advances with every revision of the log). The initial
            // state then comes from a consistent LIST and the watcher follows from its revision.
            if !matches!(err, ViewError::Timeout { .. }) {
                return Err(view_error(err));
            }
            let mut list_params = params.list.clone();
            list_params.resource_version = None;
            list_params.resource_version_match = None;
            list_params.limit = None;
            list_params.continue_token = None;
            let listed = self.list(&resource, namespace.as_deref(), &list_params).await?;
            initial.extend(listed.items.into_iter().map(WatchEvent::Listed));
            if initial_events_end {
                initial.push(WatchEvent::Bookmark {
                    revision: listed.resource_version,
                    initial_events_end: true,
                });
                initial_events_end = false;
            }
            after = Some(listed.resource_version);
        }
        let selected = resource.clone();
        let list = params.list.clone();
        let request = WatchRequest {
            after,
            namespace: namespace.filter(|_| resource.namespaced),
            index: index_hint(&resource, &params.list),
            filter: Arc::new(move |stored: &Value| matches(&selected, stored, &list)),
            buffer: WATCH_BUFFER,
            bookmarks: params.allow_bookmarks,
            initial_events_end,
        };
        let watcher = view.watch(request).map_err(view_error)?;
        tracing::debug!(plural = %resource.plural, start = ?watcher.start_point(), "watch started");
        if let WatchStart::ReplayFromLog { .. } = watcher.start_point() {
            let name = crate::metrics::group_resource(&resource.gv.group, &resource.plural);
            metrics::counter!("ledger_watch_log_replays_total", "resource" => name).increment(1);
        }
        let version: Arc<str> = resource.gv.api_version().into();
        let bookmarks = params.allow_bookmarks;
        let events = watcher.filter_map(move |event| {
            let event = translate(&resource, &version, event, bookmarks);
            futures::future::ready(event)
        });
        Ok(futures::stream::iter(initial).chain(events).boxed())
    }
}

/// The index hint of a watch: one `key=value` its selectors REQUIRE (every requirement of a
/// selector must hold, so any single-value equality is necessary), which lets the view hand the
/// watcher only the events of objects with that value. A field `f=v` / `f==v` on a field the
/// resource indexes (pods' `spec.nodeName`) comes first; then a label `k=v`, `k==v` or
/// `k in (v)`. `!=`, `notin`, exists, `in` with several values, or no selector: no hint, and the
/// watcher is handed every event of its namespace. The filter still decides what is sent.
fn index_hint(resource: &Resource, params: &ListParams) -> Option<IndexValue> {
    let indexed = resource.strategy.indexed_fields().iter();
    let field = indexed.filter_map(|(name, _)| {
        let value = params.field_selector.requires_exact_match(name)?;
        Some(IndexValue::field(*name, value))
    });
    let label = params.label_selector.requirements().iter().filter_map(|requirement| {
        match (requirement.operator(), requirement.values()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [value]) => {
                Some(IndexValue::label(requirement.key(), value.as_str()))
            }
            _ => None,
        }
    });
    field.chain(label).next()
}

/// What the client sees of one item of the view's watcher.
fn translate(
    resource: &Arc<Resource>,
    version: &Arc<str>,
    event: WatcherEvent,
    bookmarks: bool,
) -> Option<WatchEvent> {
    let object = |event_type, change| WatchObject {
        resource: resource.clone(),
        version: version.clone(),
        event_type,
        change,
    };
    Some(match event {
        WatcherEvent::Added(change) => WatchEvent::Added(object(WatchEventType::Added, change)),
        WatcherEvent::Modified(change) => {
            WatchEvent::Modified(object(WatchEventType::Modified, change))
        }
        WatcherEvent::Deleted(change) => {
            WatchEvent::Deleted(object(WatchEventType::Deleted, change))
        }
        WatcherEvent::Bookmark { revision, initial_events_end } => {
            WatchEvent::Bookmark { revision, initial_events_end }
        }
        WatcherEvent::Error(WatchError::Expired { requested, oldest }) => {
            WatchEvent::Error(ApiError::expired(requested, oldest))
        }
        // Fell behind, re-listed view, log unavailable: the stream ends here (the watcher's error
        // is its last item) and the client watches again from its last resourceVersion — which a
        // bookmark moves to where this watch got to, when the client takes bookmarks.
        WatcherEvent::Error(err) => {
            tracing::debug!(plural = %resource.plural, %err, "watch ended; the client resumes");
            let revision = err.resume_after().filter(|_| bookmarks)?;
            WatchEvent::Bookmark { revision, initial_events_end: false }
        }
    })
}

/// Why a view could not start a watch, as the client sees it.
fn view_error(err: ViewError) -> ApiError {
    let mut error = match err {
        ViewError::Timeout { wanted, current } => ApiError::new(
            Reason::Timeout,
            format!("the watch cache did not reach revision {wanted} in time (at {current})"),
        ),
        ViewError::NotReady => {
            ApiError::new(Reason::ServiceUnavailable, "the watch cache is not ready yet")
        }
        ViewError::Stopped => {
            ApiError::new(Reason::ServiceUnavailable, "the server is shutting down")
        }
        ViewError::Source(err) => {
            tracing::warn!(%err, "the watch cache could not read the log");
            ApiError::new(Reason::ServiceUnavailable, "storage is unavailable, retry later")
        }
    };
    error.retry_after_seconds = Some(1);
    error
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use futures::stream::BoxStream;
    use serde_json::json;
    use tokio::sync::watch as signal;

    use super::*;
    use crate::registry::store::Operation;
    use crate::registry::views::Views;
    use crate::registry::{Registry, builtin, namespaces};
    use crate::storage::Storage;
    use crate::storage::Verb;
    use crate::storage::embedded::EmbeddedStorage;

    struct Fixture {
        store: Store,
        resource: Arc<Resource>,
        _dir: tempfile::TempDir,
        _stop: signal::Sender<bool>,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let registry = Arc::new(Registry::new());
        builtin::register_all(&registry);
        let (stop, stopped) = signal::channel(false);
        let views = Views::new(storage.clone(), Default::default(), stopped);
        let store = Store::new(storage, registry.clone(), views);
        namespaces::ensure_built_in(&store).await.unwrap();
        let resource = registry.get("", "v1", "configmaps").unwrap();
        Fixture { store, resource, _dir: dir, _stop: stop }
    }

    async fn next(events: &mut BoxStream<'static, WatchEvent>) -> WatchEvent {
        tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn watchers_of_one_version_share_one_encoding_of_an_event() {
        let f = fixture().await;
        let watch =
            || f.store.watch(f.resource.clone(), Some("default".into()), Default::default());
        let (mut first, mut second) = (watch().await.unwrap(), watch().await.unwrap());
        let op =
            Operation::internal("test", Verb::Create, &f.resource).in_namespace(Some("default"));
        let body = json!({"metadata": {"name": "shared"}});
        let created = f.store.create(&f.resource, &op, body).await.unwrap();
        let (WatchEvent::Added(a), WatchEvent::Added(b)) =
            (next(&mut first).await, next(&mut second).await)
        else {
            panic!("two ADDED events");
        };
        assert_eq!(a.served().await.unwrap(), created);
        let encoded = a.encoded("json", || Bytes::from_static(b"first"));
        let shared = b.encoded("json", || panic!("encoded a second time"));
        assert_eq!((encoded.as_ref(), shared.as_ref()), (&b"first"[..], &b"first"[..]));
        assert_eq!(b.encoded("table-v1-metadata", || Bytes::from_static(b"table")), "table");
        let view = f.store.views.of(&f.resource);
        let metrics = view.metrics();
        assert_eq!(metrics.encode_hits.load(Ordering::Relaxed), 1);
        assert_eq!(metrics.encode_misses.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn index_hints_come_only_from_necessary_single_value_requirements() {
        use crate::meta::fields::FieldSelector;
        use crate::meta::labels::LabelSelector;
        let registry = Registry::new();
        builtin::register_all(&registry);
        let pods = registry.get("", "v1", "pods").unwrap();
        let configmaps = registry.get("", "v1", "configmaps").unwrap();
        let hint = |resource: &Resource, labels: &str, fields: &str| {
            let params = ListParams {
                label_selector: LabelSelector::parse(labels).unwrap(),
                field_selector: FieldSelector::parse(fields).unwrap(),
                ..Default::default()
            };
            index_hint(resource, &params)
        };
        let label = |k: &str, v: &str| Some(IndexValue::label(k, v));
        assert_eq!(hint(&configmaps, "app=web", ""), label("app", "web"));
        assert_eq!(hint(&configmaps, "app==web", ""), label("app", "web"));
        assert_eq!(hint(&configmaps, "app in (web)", ""), label("app", "web"));
        assert_eq!(hint(&configmaps, "tier!=x,app=web", ""), label("app", "web"));
        assert_eq!(hint(&configmaps, "app=", ""), label("app", ""));
        for selector in ["", "app!=web", "app notin (web)", "app", "!app", "app in (a,b)", "n>1"] {
            assert_eq!(hint(&configmaps, selector, ""), None, "{selector:?}");
        }
        // Fields: only the ones the resource indexes, and only `=`/`==`.
        let node = |v: &str| Some(IndexValue::field("spec.nodeName", v));
        assert_eq!(hint(&pods, "app=web", "spec.nodeName=n1"), node("n1"));
        assert_eq!(hint(&pods, "", "spec.nodeName==n1"), node("n1"));
        assert_eq!(hint(&pods, "", "spec.nodeName="), node(""));
        assert_eq!(hint(&pods, "", "spec.host=n1"), Some(IndexValue::field("spec.host", "n1")));
        assert_eq!(hint(&pods, "", "spec.nodeName!=n1"), None);
        assert_eq!(hint(&pods, "app=web", "status.phase=Running"), label("app", "web"));
        assert_eq!(hint(&configmaps, "", "metadata.name=x"), None);
    }

    #[tokio::test]
    async fn a_pod_watch_by_node_is_served_through_the_index() {
        let f = fixture().await;
        let pods = f.store.registry.get("", "v1", "pods").unwrap();
        let op = Operation::internal("test", Verb::Create, &pods).in_namespace(Some("default"));
        let mut params = WatchParams::default();
        params.list.field_selector = "spec.nodeName=n1".parse().unwrap();
        let mut mine = f.store.watch(pods.clone(), None, params).await.unwrap();
        for (name, node) in [("a", "n2"), ("b", "n1"), ("c", "n3")] {
            let pod = json!({"metadata": {"name": name}, "spec": {"nodeName": node,
                "containers": [{"name": "c", "image": "nginx"}]}});
            f.store.create(&pods, &op, pod).await.unwrap();
        }
        let WatchEvent::Added(added) = next(&mut mine).await else { panic!("ADDED") };
        assert_eq!(added.served().await.unwrap()["metadata"]["name"], "b");
        let skipped = f.store.views.of(&pods).metrics().index_skipped.load(Ordering::Relaxed);
        assert!(skipped >= 1, "events of other nodes were not handed over: {skipped}");
    }

    #[tokio::test]
    async fn a_watcher_that_must_resume_ends_cleanly_after_a_bookmark_if_it_takes_them() {
        let f = fixture().await;
        let version: Arc<str> = "v1".into();
        let fell_behind = || WatcherEvent::Error(WatchError::FellBehind { resume_after: 42 });
        match translate(&f.resource, &version, fell_behind(), true) {
            Some(WatchEvent::Bookmark { revision: 42, initial_events_end: false }) => {}
            other => panic!("expected a bookmark at 42, got {other:?}"),
        }
        assert!(translate(&f.resource, &version, fell_behind(), false).is_none());
        let expired = WatcherEvent::Error(WatchError::Expired { requested: 3, oldest: 9 });
        match translate(&f.resource, &version, expired, true) {
            Some(WatchEvent::Error(error)) => assert_eq!(error.reason, Reason::Expired),
            other => panic!("expected a 410, got {other:?}"),
        }
    }
}
