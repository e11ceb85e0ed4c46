//! The store's stages with admission plugins: their order, dry runs, refusals, warnings, and
//! the namespace controller's writes passing through them.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::watch as signal;

use crate::admission::{Attributes, Chain, Plugin};
use crate::meta::status::{ApiError, Reason};
use crate::registry::store::{DeleteOptions, Operation, Store};
use crate::registry::views::Views;
use crate::registry::{Registry, Resource, builtin, namespaces};
use crate::storage::embedded::EmbeddedStorage;
use crate::storage::{Storage, Verb};

/// Records what each phase saw: `(phase, action, name, had a uid, label "admitted")`.
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
    /// Refuse in the validating phase.
    refuse: bool,
}

impl Recorder {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn describe(phase: &str, attributes: &Attributes<'_>, object: Option<&Value>) -> String {
    let uid = object.and_then(|o| o.pointer("/metadata/uid")).is_some();
    let admitted = object.and_then(|o| o.pointer("/metadata/labels/admitted")).is_some();
    format!(
        "{phase} {} {}/{} uid={uid} admitted={admitted} dry_run={} user={}",
        attributes.action,
        attributes.namespace,
        attributes.name,
        attributes.dry_run,
        attributes.user.name
    )
}

#[async_trait]
impl Plugin for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let line = describe("admit", attributes, object.as_deref());
        self.seen.lock().unwrap().push(line);
        if let Some(object) = object {
            object["metadata"]["labels"] = json!({"admitted": "yes"});
        }
        warnings.push(format!("{} admitted", attributes.action));
        Ok(())
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let line = describe("validate", attributes, object);
        self.seen.lock().unwrap().push(line);
        if self.refuse {
            return Err(ApiError::forbidden(
                attributes.group,
                attributes.resource,
                attributes.name,
                "refused by Recorder",
            ));
        }
        Ok(())
    }
}

struct Fixture {
    store: Store,
    storage: Arc<dyn Storage>,
    configmaps: Arc<Resource>,
    recorder: Arc<Recorder>,
    _dir: tempfile::TempDir,
    _stop: signal::Sender<bool>,
}

async fn fixture(refuse: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let registry = Arc::new(Registry::new());
    builtin::register_all(&registry);
    let (stop, stopped) = signal::channel(false);
    let views = Views::new(storage.clone(), Default::default(), stopped);
    let store = Store::new(storage.clone(), registry.clone(), views);
    namespaces::ensure_built_in(&store).await.unwrap();
    let recorder = Arc::new(Recorder { refuse, ..Recorder::default() });
    let store = store.with_admission(Chain::new(vec![recorder.clone()]));
    let configmaps = registry.get("", "v1", "configmaps").unwrap();
    Fixture { store, storage, configmaps, recorder, _dir: dir, _stop: stop }
}

impl Fixture {
    fn op(&self, verb: Verb, name: &str) -> Operation {
        Operation::internal("alice", verb, &self.configmaps)
            .in_namespace(Some("default"))
            .named(name)
    }

    /// The stored object, straight from the log.
    async fn stored(&self, name: &str) -> Option<Value> {
        let key = self.configmaps.key(Some("default"), name);
        let object = self.storage.get(&key, None).await.unwrap()?;
        Some(serde_json::from_slice(&object.value).unwrap())
    }

    async fn revision(&self) -> i64 {
        self.storage.current_revision().await.unwrap()
    }

    /// Creates `name` with the recorder out of the way, and forgets what it saw.
    async fn existing(&self, name: &str) {
        let body = json!({"metadata": {"name": name}, "data": {"k": "v"}});
        self.store.create(&self.configmaps, &self.op(Verb::Create, ""), body).await.unwrap();
        self.recorder.seen.lock().unwrap().clear();
    }
}

/// Mutating admission sees the decoded object before the strategy prepares it (no uid yet) and
/// its change reaches validation and storage; validating admission sees the prepared object.
#[tokio::test]
async fn mutating_admission_runs_before_prepare_and_validating_after_validation() {
    let f = fixture(false).await;
    let op = f.op(Verb::Create, "");
    let body = json!({"metadata": {"name": "a"}, "data": {"k": "v"}});
    let created = f.store.create(&f.configmaps, &op, body).await.unwrap();
    assert_eq!(
        f.recorder.seen(),
        [
            "admit CREATE default/a uid=false admitted=false dry_run=false user=alice",
            "validate CREATE default/a uid=true admitted=true dry_run=false user=alice",
        ]
    );
    assert_eq!(created["metadata"]["labels"]["admitted"], "yes");
    assert_eq!(f.stored("a").await.unwrap()["metadata"]["labels"]["admitted"], "yes");
    assert_eq!(op.warnings(), ["CREATE admitted"]);

    f.existing("b").await;
    let op = f.op(Verb::Patch, "b");
    let patch = br#"{"data":{"k":"w"}}"#;
    f.store.patch(&f.configmaps, &op, crate::patch::PatchType::Merge, patch).await.unwrap();
    let seen = f.recorder.seen();
    assert_eq!(
        seen.last().unwrap(),
        "validate UPDATE default/b uid=true admitted=true dry_run=false user=alice"
    );
    assert!(seen[0].starts_with("admit UPDATE default/b"), "{seen:?}");

    f.existing("c").await;
    let op = f.op(Verb::Delete, "c");
    f.store.delete(&f.configmaps, &op, &DeleteOptions::default()).await.unwrap();
    let seen = f.recorder.seen();
    assert!(seen.iter().any(|s| s.starts_with("admit DELETE default/c")), "{seen:?}");
    assert!(seen.last().unwrap().starts_with("validate DELETE default/c"), "{seen:?}");
    assert!(f.stored("c").await.is_none());
}

/// A dry run runs both admission phases of every write and stores nothing.
#[tokio::test]
async fn a_dry_run_runs_every_stage_and_writes_nothing() {
    let f = fixture(false).await;
    f.existing("kept").await;
    let before = f.revision().await;

    let create = f.op(Verb::Create, "").with_dry_run(true);
    let body = json!({"metadata": {"name": "new"}});
    let answered = f.store.create(&f.configmaps, &create, body).await.unwrap();
    assert_eq!(answered["metadata"]["labels"]["admitted"], "yes");

    let update = f.op(Verb::Update, "kept").with_dry_run(true);
    let body = json!({"metadata": {"name": "kept"}, "data": {"k": "changed"}});
    f.store.update(&f.configmaps, &update, body).await.unwrap();

    let delete = f.op(Verb::Delete, "kept").with_dry_run(true);
    f.store.delete(&f.configmaps, &delete, &DeleteOptions::default()).await.unwrap();

    let seen = f.recorder.seen();
    for phase in ["admit CREATE", "validate CREATE", "admit UPDATE", "validate UPDATE"] {
        assert!(
            seen.iter().any(|s| s.starts_with(phase) && s.contains("dry_run=true")),
            "{phase}: {seen:?}"
        );
    }
    assert!(seen.iter().any(|s| s.starts_with("validate DELETE")), "{seen:?}");
    assert_eq!(f.revision().await, before, "a dry run wrote");
    assert!(f.stored("new").await.is_none());
    assert_eq!(f.stored("kept").await.unwrap()["data"]["k"], "v");
}

/// A validating plugin's refusal is the client's error, and nothing is written.
#[tokio::test]
async fn a_refusing_validating_plugin_leaves_nothing_written() {
    let f = fixture(true).await;
    let before = f.revision().await;
    let body = json!({"metadata": {"name": "a"}});
    let err = f.store.create(&f.configmaps, &f.op(Verb::Create, ""), body).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(err.message, "configmaps \"a\" is forbidden: refused by Recorder");
    assert!(f.stored("a").await.is_none());
    assert_eq!(f.revision().await, before);

    // An object created past the chain: updates and deletes are refused too.
    let plain =
        Store::new(f.store.storage.clone(), f.store.registry.clone(), f.store.views.clone());
    let body = json!({"metadata": {"name": "b"}, "data": {"k": "v"}});
    plain.create(&f.configmaps, &f.op(Verb::Create, ""), body).await.unwrap();
    let before = f.revision().await;
    let body = json!({"metadata": {"name": "b"}, "data": {"k": "w"}});
    let err = f.store.update(&f.configmaps, &f.op(Verb::Update, "b"), body).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    let op = f.op(Verb::Delete, "b");
    let err = f.store.delete(&f.configmaps, &op, &DeleteOptions::default()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(f.revision().await, before);
    assert_eq!(f.stored("b").await.unwrap()["data"]["k"], "v");
}

/// The namespace controller writes through the store: its deletes and the namespace's
/// finalization are admitted, and the ledger records who did them.
#[tokio::test]
async fn namespace_cleanup_is_admitted_and_recorded_as_the_controller() {
    let f = fixture(false).await;
    let namespaces = f.store.registry.get("", "v1", "namespaces").unwrap();
    let create = Operation::internal("alice", Verb::Create, &namespaces);
    let body = json!({"metadata": {"name": "doomed"}});
    f.store.create(&namespaces, &create, body).await.unwrap();
    let op = Operation::internal("alice", Verb::Create, &f.configmaps).in_namespace(Some("doomed"));
    f.store.create(&f.configmaps, &op, json!({"metadata": {"name": "x"}})).await.unwrap();
    f.recorder.seen.lock().unwrap().clear();
    // The controller that empties terminating namespaces (the server runs it while it leads).
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    crate::registry::namespaces::start_controller(f.store.clone(), stop).await.unwrap();

    let delete = Operation::internal("alice", Verb::Delete, &namespaces).named("doomed");
    f.store.delete(&namespaces, &delete, &DeleteOptions::default()).await.unwrap();
    let key = namespaces.key(None, "doomed");
    let mut waited = 0;
    while f.storage.get(&key, None).await.unwrap().is_some() {
        assert!(waited < 200, "the namespace was never removed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    let controller = "user=system:serviceaccount:kube-system:namespace-controller";
    let seen = f.recorder.seen();
    assert!(
        seen.iter().any(|s| s.starts_with("admit DELETE doomed/x") && s.ends_with(controller)),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.starts_with("validate UPDATE /doomed") && s.ends_with(controller)),
        "{seen:?}"
    );

    let history = f.storage.history(&key).await.unwrap();
    let last = history.last().unwrap().provenance.clone().unwrap();
    assert_eq!(last.user, "system:serviceaccount:kube-system:namespace-controller");
    let contents = f.storage.history(&f.configmaps.key(Some("doomed"), "x")).await.unwrap();
    let removed = contents.last().unwrap().provenance.clone().unwrap();
    assert_eq!(removed.user, "system:serviceaccount:kube-system:namespace-controller");
    assert_eq!(removed.verb, Verb::Delete);
    assert!(!removed.audit_id.is_empty());
}

/// Admission sees the operation's user and the namespace a create is addressed to.
#[tokio::test]
async fn attributes_come_from_the_operation() {
    let f = fixture(false).await;
    let op = f.op(Verb::Create, "").with_subresource("");
    let body = json!({"metadata": {"generateName": "gen-"}});
    let created = f.store.create(&f.configmaps, &op, body).await.unwrap();
    let name = created["metadata"]["name"].as_str().unwrap().to_owned();
    let seen = f.recorder.seen();
    // Mutating admission runs before the name is generated; validation sees it.
    assert_eq!(seen[0], "admit CREATE default/ uid=false admitted=false dry_run=false user=alice");
    assert!(seen[1].contains(&format!("default/{name}")), "{seen:?}");
}

/// Annotates in both phases: one annotation for every level from Metadata, one from Request,
/// and one whose key kube refuses; then refuses the write.
#[derive(Debug)]
struct Annotator;

#[async_trait]
impl Plugin for Annotator {
    fn name(&self) -> &'static str {
        "Annotator"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        _: Option<&mut Value>,
        _: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        attributes.annotate("example.com/admitted", "yes");
        attributes.annotate_at("example.com/patch", "[]", crate::audit::Level::Request);
        attributes.annotate("no-prefix", "dropped");
        Ok(())
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        _: Option<&Value>,
        _: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        attributes.annotate("example.com/validated", "no");
        Err(ApiError::forbidden("", "configmaps", attributes.name, "refused by Annotator"))
    }
}

/// Admission's audit annotations reach the request's audit event when its level covers them,
/// refused writes included, as kube's admission audit handler records them.
#[tokio::test]
async fn audit_annotations_reach_the_audit_event_by_level() {
    use crate::audit::policy::RequestAuditConfig;
    use crate::audit::types::StageSet;
    use crate::audit::{AuditHandle, Event, Level, RequestAudit, Stage};

    let f = fixture(false).await;
    let store = f.store.clone().with_admission(Chain::new(vec![Arc::new(Annotator)]));
    for (level, with_patch) in [(Level::Metadata, false), (Level::Request, true)] {
        let config =
            RequestAuditConfig { level, omit_stages: StageSet::EMPTY, omit_managed_fields: false };
        let event = Event::new(level, "id", Stage::RequestReceived, std::time::SystemTime::now());
        let handle = AuditHandle::new(RequestAudit::new(config, event).unwrap());
        let mut op = f.op(Verb::Create, "");
        op.audit = Some(handle.clone());
        let body = json!({"metadata": {"name": "annotated"}});
        let err = store.create(&f.configmaps, &op, body).await.unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        let annotations = handle.with(|r| r.audit.event_mut().annotations.clone());
        let mut wanted = vec!["example.com/admitted", "example.com/validated"];
        if with_patch {
            wanted.insert(1, "example.com/patch");
        }
        assert_eq!(annotations.keys().collect::<Vec<_>>(), wanted, "{level:?}");
        assert_eq!(annotations["example.com/admitted"], "yes");
    }
}
