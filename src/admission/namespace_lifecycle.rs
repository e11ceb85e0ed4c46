//! NamespaceLifecycle, as kube-apiserver's plugin of that name (mutating phase, first in the
//! chain): nothing is created in a namespace that does not exist (404) or is being deleted
//! (403), nothing is changed in one that does not exist, and the namespaces the server cannot
//! run without (`default`, `kube-system`, `kube-public`) are never deleted (403).
//!
//! Namespaces are read through [`Namespaces`] (the registry implements it over the namespaces
//! view and the log): the cache answers when it knows the namespace active, the log otherwise —
//! and always, for 30 s, for a namespace whose deletion this plugin admitted, since the cache
//! may not have seen the deletion yet (kube's "force live lookup" list).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;

use super::{Action, Attributes, Plugin};
use crate::meta::status::{ApiError, Cause};

/// The namespaces that may not be deleted.
pub const IMMORTAL: [&str; 3] = ["default", "kube-system", "kube-public"];

/// How long a namespace whose deletion was admitted is read from the log: far longer than the
/// cache takes to see the write.
const LIVE_LOOKUP_TTL: Duration = Duration::from_secs(30);

/// What the plugin needs to know of a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Missing,
    Active,
    Terminating,
}

/// Where the plugin reads namespaces from.
#[async_trait]
pub trait Namespaces: Send + Sync + fmt::Debug {
    /// From the server's cache, without waiting; `None` when the cache cannot say.
    fn cached(&self, name: &str) -> Option<Phase>;
    /// From the log.
    async fn live(&self, name: &str) -> Result<Phase, ApiError>;
}

/// The plugin.
#[derive(Debug)]
pub struct NamespaceLifecycle {
    namespaces: Arc<dyn Namespaces>,
    /// Namespaces whose deletion was admitted lately, with when.
    live_lookups: Mutex<HashMap<String, Instant>>,
}

impl NamespaceLifecycle {
    pub fn new(namespaces: Arc<dyn Namespaces>) -> NamespaceLifecycle {
        NamespaceLifecycle { namespaces, live_lookups: Mutex::default() }
    }

    /// From now on (for [`LIVE_LOOKUP_TTL`]) writes in `namespace` read it from the log.
    fn force_live_lookup(&self, namespace: &str) {
        let mut lookups = self.live_lookups.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        lookups.retain(|_, since| now.duration_since(*since) < LIVE_LOOKUP_TTL);
        lookups.insert(namespace.to_owned(), now);
    }

    fn needs_live_lookup(&self, namespace: &str) -> bool {
        let lookups = self.live_lookups.lock().unwrap_or_else(PoisonError::into_inner);
        lookups.get(namespace).is_some_and(|since| since.elapsed() < LIVE_LOOKUP_TTL)
    }
}

#[async_trait]
impl Plugin for NamespaceLifecycle {
    fn name(&self) -> &'static str {
        "NamespaceLifecycle"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        _object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let is_namespace = attributes.group.is_empty() && attributes.resource == "namespaces";
        if is_namespace {
            if attributes.action == Action::Delete {
                if IMMORTAL.contains(&attributes.name) {
                    return Err(forbidden(attributes, "this namespace may not be deleted"));
                }
                self.force_live_lookup(attributes.name);
            }
            return Ok(());
        }
        // Cluster-scoped objects, deletes and access reviews (whose answer must not tell
        // whether a namespace exists) pass.
        let namespace = attributes.namespace;
        if namespace.is_empty()
            || attributes.action == Action::Delete
            || is_access_review(attributes)
        {
            return Ok(());
        }
        let cached = if self.needs_live_lookup(namespace) {
            None
        } else {
            self.namespaces.cached(namespace)
        };
        let phase = match cached {
            Some(phase @ (Phase::Active | Phase::Terminating)) => phase,
            _ => self.namespaces.live(namespace).await?,
        };
        match phase {
            Phase::Missing => Err(ApiError::not_found("", "namespaces", namespace)),
            Phase::Terminating if attributes.action == Action::Create => {
                let why = format!(
                    "unable to create new content in namespace {namespace} because it is being terminated"
                );
                let mut error = forbidden(attributes, &why);
                error.causes.push(Cause {
                    reason: "NamespaceTerminating".to_owned(),
                    message: format!("namespace {namespace} is being terminated"),
                    field: "metadata.namespace".to_owned(),
                });
                Err(error)
            }
            Phase::Active | Phase::Terminating => Ok(()),
        }
    }
}

fn is_access_review(attributes: &Attributes<'_>) -> bool {
    attributes.group == "authorization.k8s.io" && attributes.resource == "localsubjectaccessreviews"
}

/// kube's `admission.NewForbidden`: `configmaps "x" is forbidden: …`, without the name when
/// the object is not named yet (`generateName`).
fn forbidden(attributes: &Attributes<'_>, why: &str) -> ApiError {
    let (group, resource, name) = (attributes.group, attributes.resource, attributes.name);
    let mut error = ApiError::forbidden(group, resource, name, why);
    if name.is_empty() {
        let qualified =
            if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") };
        error.message = format!("{qualified} is forbidden: {why}");
    }
    error
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::authn::UserInfo;
    use crate::meta::status::Reason;

    /// `cache` and `log` phases by name; counts live lookups.
    #[derive(Debug, Default)]
    struct Fake {
        cache: HashMap<&'static str, Phase>,
        log: HashMap<&'static str, Phase>,
        live_reads: AtomicUsize,
    }

    #[async_trait]
    impl Namespaces for Fake {
        fn cached(&self, name: &str) -> Option<Phase> {
            self.cache.get(name).copied()
        }
        async fn live(&self, name: &str) -> Result<Phase, ApiError> {
            self.live_reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.log.get(name).copied().unwrap_or(Phase::Missing))
        }
    }

    fn attributes<'a>(
        user: &'a UserInfo,
        action: Action,
        resource: &'a str,
        namespace: &'a str,
        name: &'a str,
    ) -> Attributes<'a> {
        Attributes {
            action,
            user,
            group: "",
            version: "v1",
            resource,
            subresource: "",
            kind: "",
            namespace,
            name,
            dry_run: false,
            old_object: None,
            options: None,
            audit_annotations: crate::admission::AuditAnnotations::unrecorded(),
        }
    }

    async fn admit(
        plugin: &NamespaceLifecycle,
        attributes: Attributes<'_>,
    ) -> Result<(), ApiError> {
        plugin.admit(&attributes, None, &mut Vec::new()).await
    }

    #[tokio::test]
    async fn immortal_namespaces_are_never_deleted() {
        let plugin = NamespaceLifecycle::new(Arc::new(Fake::default()));
        let user = UserInfo::anonymous();
        for name in IMMORTAL {
            let err = admit(&plugin, attributes(&user, Action::Delete, "namespaces", "", name))
                .await
                .unwrap_err();
            assert_eq!(err.reason, Reason::Forbidden);
            assert_eq!(
                err.message,
                format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted")
            );
        }
        admit(&plugin, attributes(&user, Action::Delete, "namespaces", "", "kube-node-lease"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn creates_need_an_active_namespace_and_changes_an_existing_one() {
        let fake = Fake {
            cache: HashMap::from([("live", Phase::Active), ("going", Phase::Terminating)]),
            log: HashMap::from([("live", Phase::Active), ("going", Phase::Terminating)]),
            ..Fake::default()
        };
        let plugin = NamespaceLifecycle::new(Arc::new(fake));
        let user = UserInfo::anonymous();
        let create = |ns| attributes(&user, Action::Create, "configmaps", ns, "x");
        admit(&plugin, create("live")).await.unwrap();

        let err = admit(&plugin, create("nowhere")).await.unwrap_err();
        assert_eq!(err.reason, Reason::NotFound);
        assert_eq!(err.message, "namespaces \"nowhere\" not found");

        let err = admit(&plugin, create("going")).await.unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(
            err.message,
            "configmaps \"x\" is forbidden: unable to create new content in namespace going \
             because it is being terminated"
        );
        assert_eq!(err.causes[0].reason, "NamespaceTerminating");
        assert_eq!(err.causes[0].field, "metadata.namespace");

        // Updates may go on in a terminating namespace, not in a missing one; deletes always.
        let update = |ns| attributes(&user, Action::Update, "configmaps", ns, "x");
        admit(&plugin, update("going")).await.unwrap();
        assert_eq!(admit(&plugin, update("nowhere")).await.unwrap_err().reason, Reason::NotFound);
        let delete = attributes(&user, Action::Delete, "configmaps", "nowhere", "x");
        admit(&plugin, delete).await.unwrap();
    }

    /// The cache still says active just after this server admitted the namespace's deletion:
    /// the log decides.
    #[tokio::test]
    async fn a_namespace_being_deleted_is_read_from_the_log() {
        let fake = Arc::new(Fake {
            cache: HashMap::from([("ns", Phase::Active)]),
            log: HashMap::from([("ns", Phase::Terminating)]),
            ..Fake::default()
        });
        let plugin = NamespaceLifecycle::new(fake.clone());
        let user = UserInfo::anonymous();
        admit(&plugin, attributes(&user, Action::Create, "configmaps", "ns", "a")).await.unwrap();
        assert_eq!(fake.live_reads.load(Ordering::SeqCst), 0, "an active cached namespace");

        admit(&plugin, attributes(&user, Action::Delete, "namespaces", "", "ns")).await.unwrap();
        let err = admit(&plugin, attributes(&user, Action::Create, "configmaps", "ns", ""))
            .await
            .unwrap_err();
        assert_eq!(fake.live_reads.load(Ordering::SeqCst), 1);
        assert_eq!(
            err.message,
            "configmaps is forbidden: unable to create new content in namespace ns because it \
             is being terminated"
        );
    }
}
