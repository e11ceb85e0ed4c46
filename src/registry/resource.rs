//! What a resource is: its names, scope, subresources, where its objects are stored and which
//! [`Strategy`] governs it. Built-in kinds and CustomResourceDefinitions both end up as a
//! [`Resource`] in the [`super::Registry`]; nothing downstream can tell them apart.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::strategy::Strategy;
use super::table::TableSpec;
use crate::meta::status::ApiError;

/// An API group and version; the core group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersion {
    pub group: String,
    pub version: String,
}

impl GroupVersion {
    pub fn new(group: &str, version: &str) -> Self {
        GroupVersion { group: group.to_owned(), version: version.to_owned() }
    }

    /// The `apiVersion` string: `v1` for the core group, `apps/v1` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api_version())
    }
}

/// The `scale` subresource: where replicas live in the object (JSON paths with a leading dot,
/// as in a CRD's `subresources.scale`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSubresource {
    pub spec_replicas_path: String,
    pub status_replicas_path: String,
    /// Where a label selector lives: a structured `metav1.LabelSelector` (Deployments), a map
    /// of labels (ReplicationControllers) or a string (CRDs); rendered as a string in
    /// `Scale.status.selector`.
    pub label_selector_path: Option<String>,
}

impl ScaleSubresource {
    /// The scale of kube's replicated workloads (Deployments, ReplicaSets, StatefulSets,
    /// ReplicationControllers): `.spec.replicas`, `.status.replicas`, the selector at
    /// `.spec.selector`.
    pub fn workload() -> Self {
        ScaleSubresource {
            spec_replicas_path: ".spec.replicas".to_owned(),
            status_replicas_path: ".status.replicas".to_owned(),
            label_selector_path: Some(".spec.selector".to_owned()),
        }
    }
}

/// Converts objects between the version a client speaks and the version they are stored in.
/// Objects are `serde_json::Value`s carrying `apiVersion` and `kind`.
///
/// Conversions in the process (built-ins, CRDs with strategy `None`) answer at once with
/// [`Converted::Ready`]; a CRD's conversion webhook answers later ([`Converted::Pending`]).
/// Callers `.await` either; the watch encoders, which convert once per event for every
/// watcher, take a ready answer inside their encode-once cache and await only a pending one.
pub trait Conversion: Send + Sync + fmt::Debug {
    /// A request body in the served version → the storage version.
    fn to_storage_version(&self, object: Value) -> Converted<'_, Value>;
    /// A stored object → the served version.
    fn to_served_version(&self, object: Value) -> Converted<'_, Value>;

    /// Many stored objects → the served version, in order: a LIST or a watch's initial state.
    /// A webhook converts them with one request, as kube-apiserver does for a LIST.
    fn to_served_versions(&self, objects: Vec<Value>) -> Converted<'_, Vec<Value>> {
        let mut out = Vec::with_capacity(objects.len());
        let mut rest = objects.into_iter();
        while let Some(object) = rest.next() {
            match self.to_served_version(object) {
                Converted::Ready(Ok(served)) => out.push(served),
                Converted::Ready(Err(err)) => return Converted::Ready(Err(err)),
                Converted::Pending(first) => {
                    return Converted::Pending(Box::pin(async move {
                        out.push(first.await?);
                        for object in rest {
                            out.push(self.to_served_version(object).await?);
                        }
                        Ok(out)
                    }));
                }
            }
        }
        Converted::Ready(Ok(out))
    }

    /// Whether converting leaves the process (a CRD's conversion webhook): its answers are
    /// [`Converted::Pending`], and readers that share one conversion (watchers of one event)
    /// await it before encoding instead of converting inside an encode-once cache.
    fn is_remote(&self) -> bool {
        false
    }

    /// `Some((apiVersion, kind))` when converting a stored object to the served version only
    /// (re)stamps these two: an object stored with them already is served as stored, and its
    /// bytes can be served without decoding them ([`crate::registry::store::Store::to_served_json`]).
    fn stamps_only(&self) -> Option<(&str, &str)> {
        None
    }

    /// A stored object that many readers share (a watch event) → the served version. `key`
    /// and `mod_revision` name its content, so a conversion that leaves the process may convert
    /// it once for all of them. Defaults to [`Conversion::to_served_version`].
    fn to_served_version_shared(
        &self,
        key: &str,
        mod_revision: i64,
        object: Value,
    ) -> Converted<'_, Value> {
        let _ = (key, mod_revision);
        self.to_served_version(object)
    }
}

/// The answer of a [`Conversion`]: at once, or after a call out of the process.
pub enum Converted<'a, T> {
    Ready(Result<T, ApiError>),
    Pending(BoxFuture<'a, Result<T, ApiError>>),
}

impl<T> Converted<'_, T> {
    /// The answer if there is one without waiting.
    pub fn now(self) -> Option<Result<T, ApiError>> {
        match self {
            Converted::Ready(result) => Some(result),
            Converted::Pending(_) => None,
        }
    }
}

impl<'a, T: Send + 'a> IntoFuture for Converted<'a, T> {
    type Output = Result<T, ApiError>;
    type IntoFuture = BoxFuture<'a, Result<T, ApiError>>;

    fn into_future(self) -> Self::IntoFuture {
        match self {
            Converted::Ready(result) => Box::pin(std::future::ready(result)),
            Converted::Pending(future) => future,
        }
    }
}

impl<T> fmt::Debug for Converted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Converted::Ready(_) => "Converted::Ready",
            Converted::Pending(_) => "Converted::Pending",
        })
    }
}

/// The conversion of a resource served in its storage version: only `apiVersion` and `kind` are
/// (re)stamped.
#[derive(Debug, Clone)]
pub struct SameVersion {
    pub api_version: String,
    pub kind: String,
}

impl Conversion for SameVersion {
    fn to_storage_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Ready(Ok(stamp(object, &self.api_version, &self.kind)))
    }

    fn to_served_version(&self, object: Value) -> Converted<'_, Value> {
        Converted::Ready(Ok(stamp(object, &self.api_version, &self.kind)))
    }

    fn stamps_only(&self) -> Option<(&str, &str)> {
        Some((&self.api_version, &self.kind))
    }
}

/// Sets `apiVersion` and `kind` on an object.
pub fn stamp(mut object: Value, api_version: &str, kind: &str) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), api_version.into());
        map.insert("kind".into(), kind.into());
    }
    object
}

/// One served resource in one group/version.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The group/version this entry is served at.
    pub gv: GroupVersion,
    pub kind: String,
    /// Lower-case plural, the path segment: `configmaps`.
    pub plural: String,
    /// Lower-case singular: `configmap`.
    pub singular: String,
    pub short_names: Vec<String>,
    /// Discovery categories, e.g. `all`.
    pub categories: Vec<String>,
    pub namespaced: bool,
    /// Whether `/status` is served: then the main resource ignores status changes and `/status`
    /// ignores everything else.
    pub status_subresource: bool,
    pub scale_subresource: Option<ScaleSubresource>,
    /// Where objects live in the log, without a trailing slash: `/configmaps`. Every served
    /// version of one resource shares it (core/v1 and events.k8s.io/v1 `events` do).
    pub storage_prefix: String,
    /// The group/version objects are stored in.
    pub storage_gv: GroupVersion,
    /// Served version ⇄ storage version.
    pub conversion: Arc<dyn Conversion>,
    /// Per-kind defaulting, validation and field rules.
    pub strategy: Arc<dyn Strategy>,
    /// Columns for `kubectl get`.
    pub table: TableSpec,
}

impl Resource {
    /// `ConfigMapList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// The key of one object: `/configmaps/default/settings` or `/namespaces/default`.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}/{ns}/{name}", self.storage_prefix),
            _ => format!("{}/{name}", self.storage_prefix),
        }
    }

    /// The prefix of a list or watch: one namespace, or all of them.
    pub fn prefix(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}/{ns}/", self.storage_prefix),
            _ => format!("{}/", self.storage_prefix),
        }
    }

    /// Whether objects of this resource live in the log under its storage prefix: not for the
    /// create-only (reviews), computed (ComponentStatuses) and own-endpoint (ledger) resources.
    pub fn stored(&self) -> bool {
        !self.strategy.create_only()
            && self.strategy.computed().is_none()
            && self.strategy.own_endpoint().is_none()
    }

    /// The verbs discovery advertises: `create` alone for a create-only resource.
    pub fn verbs(&self) -> Vec<&'static str> {
        if self.strategy.create_only() {
            return vec!["create"];
        }
        if self.strategy.computed().is_some() {
            return vec!["get", "list"];
        }
        if let Some(verbs) = self.strategy.own_endpoint() {
            return verbs.to_vec();
        }
        let mut verbs =
            vec!["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
        if !self.strategy.delete_collection() {
            verbs.retain(|v| *v != "deletecollection");
        }
        verbs
    }
}
