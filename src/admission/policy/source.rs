//! The stored policies and bindings, as the plugin uses them: read from their views (the server's
//! in-memory copy of the log, as kube's plugin reads informers) and compiled again only when one
//! of them changed — a policy's expressions are compiled once per stored revision, never on the
//! request path.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use super::compile::{Binding, Policy};
use crate::registry::Registry;
use crate::registry::builtin::admissionpolicies::{BINDINGS, GROUP, POLICIES};
use crate::registry::views::Views;

/// A policy with the bindings that name it, in name order (kube's evaluation order).
#[derive(Debug)]
pub struct Hook {
    pub policy: Arc<Policy>,
    pub bindings: Vec<Arc<Binding>>,
}

/// What the compiled hooks were built from: every object's key and revision.
type Fingerprint = Vec<(Arc<str>, i64)>;

/// Compiled objects by key, with the revision they were compiled at.
type Compiled<T> = BTreeMap<Arc<str>, (i64, Arc<T>)>;

#[derive(Debug, Default)]
struct Cache {
    fingerprint: (Fingerprint, Fingerprint),
    policies: Compiled<Policy>,
    bindings: Compiled<Binding>,
    hooks: Arc<Vec<Hook>>,
}

/// The policies and bindings of a server.
#[derive(Debug)]
pub struct Source {
    views: Views,
    registry: Arc<Registry>,
    cache: Mutex<Cache>,
}

/// How long a request waits for a view that is still loading before it is refused.
const READY_WAIT: Duration = Duration::from_secs(10);

impl Source {
    pub fn new(views: Views, registry: Arc<Registry>) -> Source {
        Source { views, registry, cache: Mutex::default() }
    }

    /// The objects of one of the two kinds (none when `--runtime-config` leaves it unserved).
    async fn objects(&self, plural: &str) -> Result<Vec<Arc<::watch::Object>>, String> {
        let Some(resource) = self.registry.get(GROUP, "v1", plural) else {
            return Ok(Vec::new());
        };
        let view = self.views.of(&resource);
        if view.revision().is_none() {
            let deadline = tokio::time::Instant::now() + READY_WAIT;
            view.wait_until(0, deadline).await.map_err(|e| e.to_string())?;
        }
        let (objects, _) = view.list(None, &|_| true).map_err(|e| e.to_string())?;
        Ok(objects)
    }

    /// Every policy that has at least one binding, with its bindings. `Err` when a view could
    /// not be loaded in time.
    pub async fn hooks(&self) -> Result<Arc<Vec<Hook>>, String> {
        let policies = self.objects(POLICIES).await?;
        let bindings = self.objects(BINDINGS).await?;
        let print = |objects: &[Arc<::watch::Object>]| -> Fingerprint {
            objects.iter().map(|o| (o.key.clone(), o.mod_revision)).collect()
        };
        let fingerprint = (print(&policies), print(&bindings));
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.fingerprint != fingerprint {
            cache.policies = refresh(&cache.policies, &policies, Policy::compile);
            cache.bindings = refresh(&cache.bindings, &bindings, Binding::parse);
            let mut hooks: BTreeMap<&str, Hook> = BTreeMap::new();
            for (_, policy) in cache.policies.values() {
                hooks.insert(&policy.name, Hook { policy: policy.clone(), bindings: Vec::new() });
            }
            let mut bindings: Vec<_> = cache.bindings.values().map(|(_, b)| b.clone()).collect();
            bindings.sort_by(|a, b| a.name.cmp(&b.name));
            for binding in bindings {
                if let Some(hook) = hooks.get_mut(binding.policy_name.as_str()) {
                    hook.bindings.push(binding);
                }
            }
            let hooks: Vec<Hook> =
                hooks.into_values().filter(|hook| !hook.bindings.is_empty()).collect();
            cache.hooks = Arc::new(hooks);
            cache.fingerprint = fingerprint;
        }
        Ok(cache.hooks.clone())
    }
}

/// `objects` compiled, reusing what `old` compiled at the same revision.
fn refresh<T>(
    old: &Compiled<T>,
    objects: &[Arc<::watch::Object>],
    compile: fn(&Value) -> T,
) -> Compiled<T> {
    objects
        .iter()
        .map(|object| {
            let reused =
                old.get(&object.key).filter(|(revision, _)| *revision == object.mod_revision);
            let compiled = match reused {
                Some((_, compiled)) => compiled.clone(),
                None => Arc::new(compile(&object.json)),
            };
            (object.key.clone(), (object.mod_revision, compiled))
        })
        .collect()
}
