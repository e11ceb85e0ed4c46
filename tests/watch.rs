//! WATCH served from the resource views, through the real binary and raw HTTP: the watch-list
//! protocol (initial state, then the `initial-events-end` bookmark), resuming from a revision
//! older than the view's window (replayed from the log) or older than the retained history (410),
//! and selector transitions.

mod support;

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use support::server::TestServer;

/// A watch response read line by line (a chunk may hold several lines or part of one).
struct Lines {
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
}

impl Lines {
    async fn open(server: &TestServer, url: &str) -> Lines {
        let response = server.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        Lines { body: response.bytes_stream().boxed(), buffer: Vec::new() }
    }

    /// The next event, or `None` at the end of the stream; fails the test after 30 s.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.body.next())
                .await
                .expect("a watch event within 30 s");
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk.unwrap()),
                None => {
                    assert!(self.buffer.is_empty(), "a partial line at the end");
                    return None;
                }
            }
        }
    }

    /// `(type, name, resourceVersion)` of the next event.
    async fn next_event(&mut self) -> (String, String, String) {
        describe(&self.next().await.expect("the stream continues"))
    }
}

fn describe(event: &Value) -> (String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let object = &event["object"];
    (
        text(&event["type"]),
        text(&object["metadata"]["name"]),
        text(&object["metadata"]["resourceVersion"]),
    )
}

fn event(kind: &str, name: &str, rv: &str) -> (String, String, String) {
    (kind.to_owned(), name.to_owned(), rv.to_owned())
}

/// POSTs or PATCHes `body`; returns the object's new resourceVersion.
async fn write(server: &TestServer, name: Option<&str>, body: Value) -> String {
    let cms = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let request = match name {
        None => server.http.post(&cms).json(&body),
        Some(name) => server
            .http
            .patch(format!("{cms}/{name}"))
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string()),
    };
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let object: Value = response.json().await.unwrap();
    object["metadata"]["resourceVersion"].as_str().unwrap().to_owned()
}

fn configmaps(server: &TestServer) -> String {
    format!("{}/api/v1/namespaces/default/configmaps", server.url)
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_list_sends_the_state_then_the_initial_events_end_bookmark() {
    let server = TestServer::embedded().await;
    let a = write(&server, None, json!({"metadata": {"name": "a"}})).await;
    let b = write(&server, None, json!({"metadata": {"name": "b"}})).await;
    let url = format!(
        "{}?watch=1&allowWatchBookmarks=true&sendInitialEvents=true\
         &resourceVersionMatch=NotOlderThan",
        configmaps(&server)
    );
    let mut watch = Lines::open(&server, &url).await;
    assert_eq!(watch.next_event().await, event("ADDED", "a", &a));
    assert_eq!(watch.next_event().await, event("ADDED", "b", &b));
    // The namespace's kube-root-ca.crt, in key order.
    assert_eq!(watch.next_event().await.1, "kube-root-ca.crt");
    let bookmark = watch.next().await.unwrap();
    assert_eq!(bookmark["type"], "BOOKMARK", "{bookmark}");
    let metadata = &bookmark["object"]["metadata"];
    assert_eq!(metadata["annotations"]["k8s.io/initial-events-end"], "true", "{bookmark}");
    let at: i64 = metadata["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(at >= b.parse().unwrap(), "{bookmark}");
    let c = write(&server, None, json!({"metadata": {"name": "c"}})).await;
    assert_eq!(watch.next_event().await, event("ADDED", "c", &c));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_from_before_the_window_replays_the_log_exactly() {
    replays_the_log_exactly(TestServer::embedded_with(&["--watch-window-events", "5"]).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_from_before_the_window_replays_the_log_exactly_on_etcd() {
    replays_the_log_exactly(TestServer::on_etcd_with(&["--watch-window-events", "5"]).await).await;
}

async fn replays_the_log_exactly(server: TestServer) {
    let cms = configmaps(&server);
    let from = write(&server, None, json!({"metadata": {"name": "counter"}})).await;
    // Start the view: it loads at the current revision, so its window begins after `from`.
    let mut first = Lines::open(&server, &format!("{cms}?watch=1&resourceVersion={from}")).await;
    let mut written = Vec::new();
    for i in 0..20 {
        let patch = json!({"data": {"i": i.to_string()}});
        written.push(event("MODIFIED", "counter", &write(&server, Some("counter"), patch).await));
    }
    written.push(event(
        "ADDED",
        "other",
        &write(&server, None, json!({"metadata": {"name": "other"}})).await,
    ));
    // The live watch saw them all, and so does one resuming from before the 5-event window.
    for expected in &written {
        assert_eq!(&first.next_event().await, expected);
    }
    let url = format!("{cms}?watch=1&resourceVersion={from}&timeoutSeconds=3");
    let mut resumed = Lines::open(&server, &url).await;
    let mut seen = Vec::new();
    while let Some(event) = resumed.next().await {
        seen.push(describe(&event));
    }
    assert_eq!(seen, written);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_from_a_compacted_revision_ends_with_410() {
    let server = TestServer::embedded_with(&["--history-retention", "1s"]).await;
    let cms = configmaps(&server);
    let old = write(&server, None, json!({"metadata": {"name": "old"}})).await;
    // Wait for the compactor to drop `old` (an exact read of it then fails with 410).
    let mut compacted = false;
    for _ in 0..100 {
        write(&server, Some("old"), json!({"data": {"t": "x"}})).await;
        let url = format!("{cms}?resourceVersion={old}&resourceVersionMatch=Exact");
        if server.http.get(url).send().await.unwrap().status() == 410 {
            compacted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(compacted, "revision {old} was never compacted");
    let mut watch = Lines::open(&server, &format!("{cms}?watch=1&resourceVersion={old}")).await;
    let error = watch.next().await.expect("an ERROR event");
    assert_eq!(error["type"], "ERROR", "{error}");
    assert_eq!(error["object"]["kind"], "Status", "{error}");
    assert_eq!(error["object"]["code"], 410, "{error}");
    assert_eq!(error["object"]["reason"], "Expired", "{error}");
    assert!(watch.next().await.is_none(), "the ERROR event is the last one");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_labelled_out_of_a_selector_is_deleted_for_that_watcher() {
    let server = TestServer::embedded().await;
    let cms = configmaps(&server);
    let url = format!("{cms}?watch=1&labelSelector=app%3Dweb");
    let mut selected = Lines::open(&server, &url).await;
    let mut everything = Lines::open(&server, &format!("{cms}?watch=1")).await;
    let created =
        write(&server, None, json!({"metadata": {"name": "x", "labels": {"app": "web"}}})).await;
    let relabel = |app: &str| json!({"metadata": {"labels": {"app": app}}});
    let out = write(&server, Some("x"), relabel("db")).await;
    let back = write(&server, Some("x"), relabel("web")).await;
    assert_eq!(selected.next_event().await, event("ADDED", "x", &created));
    let deleted = selected.next().await.unwrap();
    assert_eq!(describe(&deleted), event("DELETED", "x", &out));
    // The DELETED object is the last state the watcher's selector matched.
    assert_eq!(deleted["object"]["metadata"]["labels"]["app"], "web", "{deleted}");
    assert_eq!(selected.next_event().await, event("ADDED", "x", &back));
    // The unselected watch starts with the namespace's kube-root-ca.crt.
    assert_eq!(everything.next_event().await.1, "kube-root-ca.crt");
    for expected in [("ADDED", &created), ("MODIFIED", &out), ("MODIFIED", &back)] {
        assert_eq!(everything.next_event().await, event(expected.0, "x", expected.1));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_from_a_future_revision_is_refused() {
    let server = TestServer::embedded().await;
    let url = format!("{}?watch=1&resourceVersion=999999", configmaps(&server));
    let response = server.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 504);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["details"]["causes"][0]["reason"], "ResourceVersionTooLarge", "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_reaching_its_timeout_ends_with_a_bookmark() {
    let server = TestServer::embedded().await;
    let from = write(&server, None, json!({"metadata": {"name": "before"}})).await;
    let cms = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let url =
        format!("{cms}?watch=1&resourceVersion={from}&allowWatchBookmarks=true&timeoutSeconds=2");
    let mut lines = Lines::open(&server, &url).await;
    let rv = write(&server, None, json!({"metadata": {"name": "during"}})).await;
    assert_eq!(lines.next_event().await, event("ADDED", "during", &rv));
    let last = lines.next().await.expect("a closing bookmark");
    assert_eq!(last["type"], "BOOKMARK", "{last}");
    let bookmarked: i64 =
        last["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(bookmarked >= rv.parse::<i64>().unwrap(), "{last}");
    assert!(lines.next().await.is_none(), "the stream ends after the bookmark");

    // Without allowWatchBookmarks the stream just ends.
    let url = format!("{cms}?watch=1&resourceVersion={rv}&timeoutSeconds=1");
    let mut quiet = Lines::open(&server, &url).await;
    assert!(quiet.next().await.is_none());
}

/// On etcd a resource that is idle while others are written only advances its view on a
/// progress notification (every 10 minutes by default): reads and watches of it must not wait
/// for one (they read the log instead).
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_resource_on_etcd_is_read_and_watched_at_once() {
    let server = TestServer::on_etcd().await;
    let leases = format!("{}/apis/coordination.k8s.io/v1/namespaces/default/leases", server.url);
    let lease = |name: &str| json!({"metadata": {"name": name}, "spec": {"holderIdentity": "me"}});
    let created = server.http.post(&leases).json(&lease("first")).send().await.unwrap();
    assert_eq!(created.status(), 201);
    // Start the leases view, then move the log on elsewhere.
    assert_eq!(server.http.get(&leases).send().await.unwrap().status(), 200);
    for i in 0..3 {
        write(&server, None, json!({"metadata": {"name": format!("elsewhere-{i}")}})).await;
    }
    let list: Value = server.http.get(&leases).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let mut lines = Lines::open(&server, &format!("{leases}?watch=1")).await;
    let (kind, name, _) = lines.next_event().await;
    assert_eq!((kind.as_str(), name.as_str()), ("ADDED", "first"));
    let second = server.http.post(&leases).json(&lease("second")).send().await.unwrap();
    assert_eq!(second.status(), 201);
    let (kind, name, _) = lines.next_event().await;
    assert_eq!((kind.as_str(), name.as_str()), ("ADDED", "second"));
}

/// The resourceVersion of a watch event's or a list's metadata, as a number.
fn revision_of(metadata: &Value) -> i64 {
    metadata["resourceVersion"].as_str().unwrap().parse().unwrap()
}

/// Every view follows the one subscription to the whole log, so a resource idle while others
/// are written still advances with every revision — on etcd too, where a watch of its prefix
/// alone would hear of them only from a progress notification (every 10 minutes). Observed
/// without timing: bookmarks carry the view's revision, and one reaches the last write
/// elsewhere although nothing was written to the resource.
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_resource_on_etcd_follows_the_head_of_the_log() {
    let server = TestServer::on_etcd_with(&["--watch-bookmark-interval", "200ms"]).await;
    let leases = format!("{}/apis/coordination.k8s.io/v1/namespaces/default/leases", server.url);
    let lease = json!({"metadata": {"name": "first"}, "spec": {"holderIdentity": "me"}});
    let created: Value =
        server.http.post(&leases).json(&lease).send().await.unwrap().json().await.unwrap();
    let from = revision_of(&created["metadata"]);
    let url = format!("{leases}?watch=1&resourceVersion={from}&allowWatchBookmarks=true");
    let mut lines = Lines::open(&server, &url).await;
    let mut last = 0;
    for i in 0..3 {
        let rv =
            write(&server, None, json!({"metadata": {"name": format!("elsewhere-{i}")}})).await;
        last = rv.parse().unwrap();
    }
    // Bookmarks at the view's revision while it moves; none once it stops short of `last`.
    loop {
        let bookmark = lines.next().await.expect("the watch continues");
        assert_eq!(bookmark["type"], "BOOKMARK", "{bookmark}");
        if revision_of(&bookmark["object"]["metadata"]) >= last {
            break;
        }
    }
    // Served by that caught-up view: a consistent LIST, and a watch-list from now.
    let list: Value = server.http.get(&leases).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert!(revision_of(&list["metadata"]) >= last, "{list}");
    let url = format!(
        "{leases}?watch=1&allowWatchBookmarks=true&sendInitialEvents=true\
         &resourceVersionMatch=NotOlderThan"
    );
    let mut watch = Lines::open(&server, &url).await;
    assert_eq!(watch.next_event().await, event("ADDED", "first", &from.to_string()));
    let end = watch.next().await.unwrap();
    let metadata = &end["object"]["metadata"];
    assert_eq!(metadata["annotations"]["k8s.io/initial-events-end"], "true", "{end}");
    assert!(revision_of(metadata) >= last, "{end}");
}
