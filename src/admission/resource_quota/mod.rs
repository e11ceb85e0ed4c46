//! ResourceQuota, as kube-apiserver's plugin of that name (validating phase, last in the chain):
//! a create — or an update that raises usage (services, PersistentVolumeClaims) — is charged to
//! every quota of its namespace that applies to it, and refused with kube's 403 when one would go
//! over its `status.hard`.
//!
//! Flow for one write:
//!
//! ```text
//! quotas of the namespace (the cache's; none: done, without the lock — `access`)
//!   ─▶ the namespace's lock ─▶ which apply (resources limited, scopes)
//!   ─▶ constraints (`must specify limits.cpu for: …`) ─▶ usage known? (`status unknown …`)
//!   ─▶ usage of the object (minus the old object's, for an update)
//!   ─▶ used + usage ≤ hard for each quota?  no: 403 `exceeded quota: …`
//!   ─▶ status.used written, conditioned on each quota's resourceVersion (not for a dry run);
//!      a lost race reads the log's quotas and decides again; a refusal is decided on the log's
//! ```
//!
//! The charge is written before the object is: two writes racing for the last slot cannot both
//! pass, because the second one's conditioned status write fails and it decides again on the
//! charged quota. Writes in one namespace are also taken one at a time in this server (kube's
//! evaluator queues them per namespace), so they rarely race at all. A charge for an object whose
//! write then fails is given back by the quota controller's next recalculation
//! (`crate::registry::quota`), as in kube.

mod access;
pub mod usage;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde_json::Value;

use super::{Action, Attributes, Plugin};
use crate::meta::quantity::{self, ResourceList};
use crate::meta::status::ApiError;

/// How many times a charge is decided again after losing a race for a quota's status.
const MAX_ATTEMPTS: usize = 16;

/// How fresh a read of quotas must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// What the server's cache holds (kube's informer lister): no request to the log.
    Cached,
    /// The log's current quotas (a consistent read).
    Live,
}

/// The namespace's quotas, and the conditioned write of one's status.
#[async_trait]
pub trait Quotas: Send + Sync + fmt::Debug {
    /// Every ResourceQuota of `namespace`, as fresh as `read` says.
    async fn list(&self, namespace: &str, read: Read) -> Result<Vec<Value>, ApiError>;

    /// Writes `quota`'s status if its `metadata.resourceVersion` is still the stored one, and
    /// returns the quota as written; `Ok(None)` when it is not (or the quota is gone).
    async fn update_status(&self, quota: &Value) -> Result<Option<Value>, ApiError>;
}

/// The plugin.
#[derive(Debug)]
pub struct ResourceQuota {
    quotas: access::Access,
    /// One lock per namespace: this server charges one write of a namespace at a time.
    namespaces: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ResourceQuota {
    pub fn new(quotas: Arc<dyn Quotas>) -> ResourceQuota {
        ResourceQuota { quotas: access::Access::new(quotas), namespaces: Mutex::default() }
    }

    fn namespace_lock(&self, namespace: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.namespaces.lock().unwrap_or_else(PoisonError::into_inner);
        // Locks nobody holds or waits for are dropped, so the map stays small.
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(namespace.to_owned()).or_default().clone()
    }
}

/// Whether the plugin evaluates this write (kube's evaluators' `Handles`): creates of anything,
/// updates of services and PersistentVolumeClaims; never subresources.
fn handles(attributes: &Attributes<'_>) -> bool {
    if !attributes.subresource.is_empty() || attributes.namespace.is_empty() {
        return false;
    }
    match attributes.action {
        Action::Create => true,
        Action::Update => {
            attributes.group.is_empty()
                && matches!(attributes.resource, "services" | "persistentvolumeclaims")
        }
        Action::Delete | Action::Connect => false,
    }
}

#[async_trait]
impl Plugin for ResourceQuota {
    fn name(&self) -> &'static str {
        "ResourceQuota"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let Some(object) = object else { return Ok(()) };
        if !handles(attributes) {
            return Ok(());
        }
        let namespace = attributes.namespace;
        // Most namespaces have no quota: that is decided on the cache, without the lock.
        if self.quotas.quotas(namespace, Read::Cached).await?.is_empty() {
            return Ok(());
        }
        let lock = self.namespace_lock(namespace);
        let _serialized = lock.lock().await;
        let mut last_conflict = None;
        // The first decision rests on the cache (with this server's own charges in it); a lost
        // race or a refusal is decided again on the log's quotas.
        let mut read = Read::Cached;
        for _ in 0..MAX_ATTEMPTS {
            let quotas = self.quotas.quotas(namespace, read).await?;
            if quotas.is_empty() {
                return Ok(());
            }
            let charged = match check(attributes, object, &quotas) {
                Ok(charged) => charged,
                Err(_) if read == Read::Cached => {
                    read = Read::Live;
                    continue;
                }
                Err(refusal) => return Err(refusal),
            };
            if attributes.dry_run {
                return Ok(());
            }
            match self.charge(&charged).await? {
                None => return Ok(()),
                Some(name) => last_conflict = Some(name),
            }
            read = Read::Live;
        }
        let name = last_conflict.unwrap_or_default();
        Err(ApiError::conflict(
            "",
            "resourcequotas",
            &name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ))
    }
}

impl ResourceQuota {
    /// Writes the charged quotas' status; the name of the first whose write lost a race.
    async fn charge(&self, charged: &[Value]) -> Result<Option<String>, ApiError> {
        for quota in charged {
            if !self.quotas.charge(quota).await? {
                return Ok(Some(quota_name(quota).to_owned()));
            }
        }
        Ok(None)
    }
}

/// kube's `checkRequest`: the quotas whose `status.used` this write raises, with the new usage
/// set, or the 403 that refuses it.
fn check(
    attributes: &Attributes<'_>,
    object: &Value,
    quotas: &[Value],
) -> Result<Vec<Value>, ApiError> {
    let (group, resource) = (attributes.group, attributes.resource);
    let mut pertinent = Vec::new();
    for quota in quotas {
        if !usage::quota_matches(quota, group, resource, object) {
            continue;
        }
        let name = quota_name(quota);
        let hard = usage::hard_names(quota);
        let restricted = usage::matching_resources(group, resource, &hard);
        if group.is_empty()
            && resource == "pods"
            && let Err(why) = usage::pod_constraints(&restricted, object)
        {
            return Err(forbidden(attributes, &format!("failed quota: {name}: {why}")));
        }
        let used = quota.pointer("/status/used").and_then(Value::as_object);
        if restricted.iter().any(|r| !used.is_some_and(|u| u.contains_key(r))) {
            let mut names = restricted.clone();
            names.sort();
            return Err(forbidden(
                attributes,
                &format!("status unknown for quota: {name}, resources: {}", names.join(",")),
            ));
        }
        pertinent.push(quota);
    }
    if pertinent.is_empty() {
        return Ok(Vec::new());
    }
    let mut delta = usage::usage(group, resource, object);
    let negative: Vec<&String> =
        delta.iter().filter(|(_, q)| q.nanos() < 0).map(|(name, _)| name).collect();
    if !negative.is_empty() {
        let names: Vec<&str> = negative.iter().map(|s| s.as_str()).collect();
        return Err(forbidden(
            attributes,
            &format!("quota usage is negative for resource(s): {}", names.join(",")),
        ));
    }
    if attributes.action == Action::Update
        && let Some(old) = attributes.old_object
    {
        delta = quantity::subtract_non_negative(&delta, &usage::usage(group, resource, old));
    }
    let delta = quantity::remove_zeros(&delta);
    if delta.is_empty() {
        return Ok(Vec::new());
    }
    let mut charged = Vec::new();
    for quota in pertinent {
        let hard = quantity::list_from_json(quota.pointer("/status/hard"));
        let used = quantity::list_from_json(quota.pointer("/status/used"));
        let requested = quantity::mask(&delta, hard.keys());
        if requested.is_empty() {
            continue;
        }
        let new_used = quantity::add(&used, &requested);
        let exceeded =
            quantity::less_than_or_equal(&quantity::mask(&new_used, requested.keys()), &hard);
        if !exceeded.is_empty() {
            return Err(forbidden(
                attributes,
                &format!(
                    "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                    quota_name(quota),
                    quantity::pretty(&quantity::mask(&requested, &exceeded)),
                    quantity::pretty(&quantity::mask(&used, &exceeded)),
                    quantity::pretty(&quantity::mask(&hard, &exceeded)),
                ),
            ));
        }
        let mut updated = quota.clone();
        set_used(&mut updated, &new_used);
        charged.push(updated);
    }
    Ok(charged)
}

fn quota_name(quota: &Value) -> &str {
    quota.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}

/// Sets `status.used`, leaving the rest of the status as it is.
fn set_used(quota: &mut Value, used: &ResourceList) {
    if let Some(map) = quota.as_object_mut() {
        let status = map.entry("status").or_insert_with(|| Value::Object(Default::default()));
        if let Some(status) = status.as_object_mut() {
            status.insert("used".to_owned(), quantity::list_to_json(used));
        }
    }
}

/// kube's `admission.NewForbidden`: `pods "x" is forbidden: …`, without the name when the
/// object is not named yet.
pub(crate) fn forbidden(attributes: &Attributes<'_>, why: &str) -> ApiError {
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
mod tests;
