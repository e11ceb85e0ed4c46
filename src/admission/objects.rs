//! What admission plugins read besides the object being admitted: other stored objects (the
//! ServiceAccount a pod names, the namespace's LimitRanges and ResourceQuotas, the default
//! StorageClass, …), as kube-apiserver's plugins read them through informers.
//!
//! Plugins see only the [`Objects`] trait; the registry implements it over the store's views
//! (`crate::registry::admission_objects`), so admission does not depend on the registry. Objects
//! come back as stored: JSON in the resource's storage version.

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

use crate::meta::status::ApiError;

/// Read access to stored objects, by API group and plural resource name (the storage version is
/// chosen for the caller). `namespace` is `""` for cluster-scoped resources.
#[async_trait]
pub trait Objects: Send + Sync + fmt::Debug {
    /// The object, or `None` when it does not exist or the resource is not served.
    async fn get(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ApiError>;

    /// Every object of the resource in `namespace` (`""`: every namespace, or the cluster-scoped
    /// resource's objects), in key order; empty when the resource is not served.
    async fn list(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
    ) -> Result<Vec<Value>, ApiError>;
}
