//! The controllers over a real store (embedded storage, NamespaceLifecycle admitting their
//! writes): what they create at start, for new namespaces, after deletions and changes.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::watch as signal;

use super::root_ca::{DESCRIPTION, DESCRIPTION_ANNOTATION, RootCaConfigMap};
use super::service_accounts::DefaultServiceAccount;
use super::*;
use crate::admission::Chain;
use crate::admission::namespace_lifecycle::NamespaceLifecycle;
use crate::registry::store::DeleteOptions;
use crate::registry::views::Views;
use crate::registry::{Registry, builtin, namespaces};
use crate::storage::Storage;
use crate::storage::embedded::EmbeddedStorage;

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

struct Fixture {
    store: Store,
    _dir: tempfile::TempDir,
    _stop: signal::Sender<bool>,
    stopped: signal::Receiver<bool>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let registry = Arc::new(Registry::new());
    builtin::register_all(&registry);
    let (stop, stopped) = signal::channel(false);
    let views = Views::new(storage.clone(), Default::default(), stopped.clone());
    let store = Store::new(storage, registry, views);
    let lifecycle = NamespaceLifecycle::new(Arc::new(namespaces::Lister::of(&store)));
    let store = store.with_admission(Chain::new(vec![Arc::new(lifecycle)]));
    namespaces::ensure_built_in(&store).await.unwrap();
    Fixture { store, _dir: dir, _stop: stop, stopped }
}

impl Fixture {
    fn resource(&self, plural: &str) -> Arc<Resource> {
        self.store.registry.get("", "v1", plural).unwrap()
    }

    async fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        match self.store.get(&self.resource(plural), Some(namespace), name, None).await {
            Ok(found) => Some(found),
            Err(err) if err.reason == Reason::NotFound => None,
            Err(err) => panic!("{err}"),
        }
    }

    /// Waits (a bounded number of times) until `check` holds for the object.
    async fn wait_for(
        &self,
        plural: &str,
        namespace: &str,
        name: &str,
        check: impl Fn(Option<&Value>) -> bool,
    ) -> Option<Value> {
        for _ in 0..400 {
            let found = self.get(plural, namespace, name).await;
            if check(found.as_ref()) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{plural} {namespace}/{name} never became as expected");
    }

    fn op(&self, verb: Verb, plural: &str, namespace: Option<&str>, name: &str) -> Operation {
        Operation::internal("alice", verb, &self.resource(plural))
            .in_namespace(namespace)
            .named(name)
    }

    async fn create_namespace(&self, name: &str) {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let op = self.op(Verb::Create, "namespaces", None, name);
        self.store.create(&self.resource("namespaces"), &op, body).await.unwrap();
    }

    async fn delete(&self, plural: &str, namespace: &str, name: &str) {
        let op = self.op(Verb::Delete, plural, Some(namespace), name);
        self.store.delete(&self.resource(plural), &op, &DeleteOptions::default()).await.unwrap();
    }
}

#[tokio::test]
async fn every_namespace_gets_a_default_service_account_again_and_again() {
    let f = fixture().await;
    start(f.store.clone(), Arc::new(DefaultServiceAccount), f.stopped.clone()).await.unwrap();
    // The built-in namespaces have theirs once `start` returns.
    for namespace in namespaces::BUILT_IN {
        let sa = f.get("serviceaccounts", namespace, "default").await.unwrap();
        assert_eq!(sa["metadata"]["name"], "default");
    }
    f.create_namespace("team").await;
    f.wait_for("serviceaccounts", "team", "default", |sa| sa.is_some()).await;

    f.delete("serviceaccounts", "team", "default").await;
    let again = f.wait_for("serviceaccounts", "team", "default", |sa| sa.is_some()).await;
    assert!(again.unwrap()["metadata"]["uid"].is_string());

    // The account is the users' to change: a label stays.
    let resource = f.resource("serviceaccounts");
    let op = f.op(Verb::Patch, "serviceaccounts", Some("team"), "default");
    let patch = br#"{"metadata":{"labels":{"mine":"yes"}},"automountServiceAccountToken":false}"#;
    f.store.patch(&resource, &op, crate::patch::PatchType::Merge, patch).await.unwrap();
    let sa = f.get("serviceaccounts", "team", "default").await.unwrap();
    assert_eq!(sa["automountServiceAccountToken"], false);
}

#[tokio::test]
async fn the_root_ca_config_map_is_published_and_restored() {
    let f = fixture().await;
    let kept = Arc::new(RootCaConfigMap { ca: CA.to_owned() });
    start(f.store.clone(), kept, f.stopped.clone()).await.unwrap();
    let cm = f.get("configmaps", "kube-system", "kube-root-ca.crt").await.unwrap();
    assert_eq!(cm["data"], json!({"ca.crt": CA}));
    assert_eq!(cm["metadata"]["annotations"][DESCRIPTION_ANNOTATION], DESCRIPTION);

    f.create_namespace("team").await;
    f.wait_for("configmaps", "team", "kube-root-ca.crt", |cm| cm.is_some()).await;

    // Changed data and a dropped description are put back; another annotation stays.
    let resource = f.resource("configmaps");
    let op = f.op(Verb::Patch, "configmaps", Some("team"), "kube-root-ca.crt");
    let patch = br#"{"metadata":{"annotations":{"kubernetes.io/description":null,"mine":"x"}},
                     "data":{"ca.crt":"forged","extra":"y"}}"#;
    f.store.patch(&resource, &op, crate::patch::PatchType::Merge, patch).await.unwrap();
    let restored = f
        .wait_for("configmaps", "team", "kube-root-ca.crt", |cm| {
            cm.is_some_and(|cm| cm["data"] == json!({"ca.crt": CA}))
        })
        .await
        .unwrap();
    assert_eq!(restored["metadata"]["annotations"][DESCRIPTION_ANNOTATION], DESCRIPTION);
    assert_eq!(restored["metadata"]["annotations"]["mine"], "x");

    f.delete("configmaps", "team", "kube-root-ca.crt").await;
    f.wait_for("configmaps", "team", "kube-root-ca.crt", |cm| cm.is_some()).await;
}

#[tokio::test]
async fn namespaces_being_deleted_or_gone_are_left_alone() {
    let f = fixture().await;
    let keeper = Keeper {
        store: f.store.clone(),
        kept: Arc::new(DefaultServiceAccount),
        namespaces: f.resource("namespaces"),
        objects: f.resource("serviceaccounts"),
    };
    keeper.sync("nowhere").await.unwrap();
    assert!(f.get("serviceaccounts", "nowhere", "default").await.is_none());

    // A namespace held in Terminating by a finalizer on one of its objects.
    f.create_namespace("going").await;
    let configmaps = f.resource("configmaps");
    let body = json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}});
    let op = f.op(Verb::Create, "configmaps", Some("going"), "");
    f.store.create(&configmaps, &op, body).await.unwrap();
    let op = f.op(Verb::Delete, "namespaces", None, "going");
    f.store.delete(&f.resource("namespaces"), &op, &DeleteOptions::default()).await.unwrap();
    keeper.sync("going").await.unwrap();
    assert!(f.get("serviceaccounts", "going", "default").await.is_none());

    // A namespace that the view still shows active but NamespaceLifecycle knows terminating:
    // the refused create is not an error to retry.
    let refused = ApiError {
        causes: vec![crate::meta::status::Cause {
            reason: "NamespaceTerminating".to_owned(),
            message: String::new(),
            field: String::new(),
        }],
        ..ApiError::new(Reason::Forbidden, "")
    };
    assert!(gone_or_made(&refused));
    assert!(!gone_or_made(&ApiError::new(Reason::Forbidden, "")));
}
