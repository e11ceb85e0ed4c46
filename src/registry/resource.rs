//! What a resource is: its names, scope, subresources, where its objects are stored and which
//! [`Strategy`] governs it. Built-in kinds and CustomResourceDefinitions both end up as a
//! [`Resource`] in the [`super::Registry`]; nothing downstream can tell them apart.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::strategy::Strategy;
use super::table::TableSpec;
use crate::api::status::ApiError;

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
    /// Where a label selector lives: a structured `metav1.LabelSelector` (Deployments) or a
    /// string (CRDs); rendered as a string in `Scale.status.selector`.
    pub label_selector_path: Option<String>,
}

/// Converts objects between the version a client speaks and the version they are stored in.
/// Objects are `serde_json::Value`s carrying `apiVersion` and `kind`.
pub trait Conversion: Send + Sync + fmt::Debug {
    /// A request body in the served version → the storage version.
    fn to_storage_version(&self, object: Value) -> Result<Value, ApiError>;
    /// A stored object → the served version.
    fn to_served_version(&self, object: Value) -> Result<Value, ApiError>;
}

/// The conversion of a resource served in its storage version: only `apiVersion` and `kind` are
/// (re)stamped.
#[derive(Debug, Clone)]
pub struct SameVersion {
    pub api_version: String,
    pub kind: String,
}

impl Conversion for SameVersion {
    fn to_storage_version(&self, object: Value) -> Result<Value, ApiError> {
        Ok(stamp(object, &self.api_version, &self.kind))
    }

    fn to_served_version(&self, object: Value) -> Result<Value, ApiError> {
        Ok(stamp(object, &self.api_version, &self.kind))
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

    /// The verbs discovery advertises.
    pub fn verbs(&self) -> Vec<&'static str> {
        vec!["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    }
}
