//! A kube-rs controller that writes only through server-side apply (`Patch::Apply`, forced, as
//! kube-rs controllers do), on a custom resource whose `spec.ports` is a list-map keyed by
//! `name`, against the real binary on both backends.
//!
//! The user applies `spec` (`replicas`, port `http`) as manager `user`; the controller applies,
//! as manager `widget-controller`, its own port `metrics` into the same list and `status`
//! through `/status`. Checked, with deadlines rather than timings: the object converges (both
//! ports, the status the controller computes), each manager owns its own list item, the
//! controller never got a 409, a user's re-apply that drops nothing keeps the controller's port,
//! and once converged the controller's repeated applies change nothing: the resourceVersion stays
//! where it is however often it reconciles (no update loop).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};
use support::server::TestServer;

const GROUP: &str = "demo.kube-ledger.io";
const CONTROLLER: &str = "widget-controller";
const SETTLE_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn apply_controller_converges_embedded() {
    run(TestServer::embedded().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_controller_converges_on_etcd() {
    run(TestServer::on_etcd().await).await;
}

async fn client_for(kubeconfig: &std::path::Path) -> Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    Client::try_from(config).expect("kube client")
}

fn crd() -> CustomResourceDefinition {
    let port = json!({"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "port": {"type": "integer"}}});
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{GROUP}")},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "replicas": {"type": "integer"},
                        "ports": {"type": "array", "items": port,
                                  "x-kubernetes-list-type": "map",
                                  "x-kubernetes-list-map-keys": ["name"]}}},
                    "status": {"type": "object", "properties": {
                        "observedGeneration": {"type": "integer"},
                        "ports": {"type": "integer"}}}}}}
            }]
        }
    }))
    .unwrap()
}

#[derive(Debug, Default)]
struct Counters {
    reconciles: AtomicUsize,
    conflicts: AtomicUsize,
    other_errors: AtomicUsize,
}

struct Ctx {
    api: Api<DynamicObject>,
    counters: Counters,
}

/// Applies the controller's port and the status it derives from the object, every time: an
/// apply of what is already there must change nothing.
async fn reconcile(widget: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, kube::Error> {
    ctx.counters.reconciles.fetch_add(1, Ordering::Relaxed);
    let name = widget.name_any();
    let params = PatchParams::apply(CONTROLLER).force();
    let mine = json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"ports": [{"name": "metrics", "port": 9090}]},
    });
    ctx.api.patch(&name, &params, &Patch::Apply(&mine)).await?;
    let ports = widget.data["spec"]["ports"].as_array().map_or(0, Vec::len);
    let status = json!({
        "apiVersion": format!("{GROUP}/v1"), "kind": "Widget",
        "metadata": {"name": name},
        "status": {"observedGeneration": widget.metadata.generation, "ports": ports},
    });
    ctx.api.patch_status(&name, &params, &Patch::Apply(&status)).await?;
    // Reconcile again soon even without a change: the repeated applies must be no-ops.
    Ok(Action::requeue(Duration::from_millis(200)))
}

fn error_policy(_w: Arc<DynamicObject>, err: &kube::Error, ctx: Arc<Ctx>) -> Action {
    match err {
        kube::Error::Api(status) if status.is_conflict() => &ctx.counters.conflicts,
        _ => &ctx.counters.other_errors,
    }
    .fetch_add(1, Ordering::Relaxed);
    eprintln!("reconcile error: {err}");
    Action::requeue(Duration::from_millis(200))
}

/// Polls `get` until `done` holds for what it returns, or fails after [`SETTLE_WITHIN`].
async fn eventually(api: &Api<DynamicObject>, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let object = serde_json::to_value(api.get("w1").await.expect("get widget")).unwrap();
        if done(&object) {
            return object;
        }
        assert!(Instant::now() < deadline, "{what}: not within {SETTLE_WITHIN:?}: {object:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn port_names(object: &Value) -> Vec<String> {
    object["spec"]["ports"]
        .as_array()
        .map(|ports| ports.iter().map(|p| p["name"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

/// The `fieldsV1` of the entry of `manager` (`subresource` `""` for the main resource).
fn owned(object: &Value, manager: &str, subresource: &str) -> Value {
    let entries = object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    entries
        .into_iter()
        .find(|e| {
            e["manager"] == manager
                && e["operation"] == "Apply"
                && e["subresource"].as_str().unwrap_or("") == subresource
        })
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or_else(|| panic!("no Apply entry of {manager:?} {subresource:?}: {object:#}"))
}

async fn run(server: TestServer) {
    let client = client_for(&server.kubeconfig).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    // The CRD itself goes in by server-side apply, as GitOps tools install them.
    let crd = crd();
    crds.patch(&crd.name_any(), &PatchParams::apply("installer"), &Patch::Apply(&crd))
        .await
        .expect("apply the CRD");
    let gvk = GroupVersionKind::gvk(GROUP, "v1", "Widget");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "widgets");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let deadline = Instant::now() + SETTLE_WITHIN;
    while api.list(&Default::default()).await.is_err() {
        assert!(Instant::now() < deadline, "widgets never served");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let user = PatchParams::apply("user");
    let users = |replicas: i64| {
        json!({
            "apiVersion": format!("{GROUP}/v1"), "kind": "Widget",
            "metadata": {"name": "w1"},
            "spec": {"replicas": replicas, "ports": [{"name": "http", "port": 80}]},
        })
    };
    api.patch("w1", &user, &Patch::Apply(&users(2))).await.expect("user's first apply");

    let ctx = Arc::new(Ctx { api: api.clone(), counters: Counters::default() });
    let controller =
        Controller::new_with(api.clone(), watcher::Config::default(), resource.clone())
            .run(reconcile, error_policy, ctx.clone())
            .for_each(|_| async {});
    let controller = tokio::spawn(controller);

    let converged = |o: &Value| {
        port_names(o) == ["http", "metrics"]
            && o["status"]["ports"] == 2
            && o["status"]["observedGeneration"] == o["metadata"]["generation"]
    };
    let object = eventually(&api, "controller converges", converged).await;
    // Each manager owns its own item of the list-map, and the user the replicas.
    let user_fields = owned(&object, "user", "");
    let controller_fields = owned(&object, CONTROLLER, "");
    let status_fields = owned(&object, CONTROLLER, "status");
    let http = r#"k:{"name":"http"}"#;
    let metrics = r#"k:{"name":"metrics"}"#;
    assert!(user_fields["f:spec"]["f:ports"].get(http).is_some(), "{user_fields:#}");
    assert!(user_fields["f:spec"]["f:ports"].get(metrics).is_none(), "{user_fields:#}");
    assert!(user_fields["f:spec"].get("f:replicas").is_some(), "{user_fields:#}");
    assert!(controller_fields["f:spec"]["f:ports"].get(metrics).is_some(), "{controller_fields:#}");
    assert!(controller_fields["f:spec"].get("f:replicas").is_none(), "{controller_fields:#}");
    assert!(status_fields["f:status"].get("f:ports").is_some(), "{status_fields:#}");

    // The user changes replicas: its config names only its own port, and the controller's
    // stays (another manager owns it).
    api.patch("w1", &user, &Patch::Apply(&users(3))).await.expect("user's second apply");
    let object =
        eventually(&api, "converges again", |o| converged(o) && o["spec"]["replicas"] == 3).await;

    // Converged: more reconciles, each applying twice, must leave the object as it is.
    let rv = object["metadata"]["resourceVersion"].clone();
    let before = ctx.counters.reconciles.load(Ordering::Relaxed);
    let deadline = Instant::now() + SETTLE_WITHIN;
    while ctx.counters.reconciles.load(Ordering::Relaxed) < before + 5 {
        assert!(Instant::now() < deadline, "the controller stopped reconciling");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = serde_json::to_value(api.get("w1").await.unwrap()).unwrap();
    assert_eq!(after["metadata"]["resourceVersion"], rv, "an unchanged apply wrote: {after:#}");
    controller.abort();

    let conflicts = ctx.counters.conflicts.load(Ordering::Relaxed);
    let errors = ctx.counters.other_errors.load(Ordering::Relaxed);
    assert_eq!((conflicts, errors), (0, 0), "the forced applies of the controller failed");
}
