//! [`StoreObjects`]: the registry's answer to `crate::admission::Objects`, the reads admission
//! plugins make of other objects. Reads go through the store (its watch views, consistent as any
//! GET or LIST), in each resource's storage version.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::Resource;
use super::store::{ListParams, Store};
use crate::admission::Objects;
use crate::meta::status::{ApiError, Reason};

/// Stored objects for admission plugins. Holds a store without admission (reads are not
/// admitted), so the chain that holds this does not hold itself.
#[derive(Debug, Clone)]
pub struct StoreObjects {
    store: Store,
}

impl StoreObjects {
    /// Reads what `store` reads.
    pub fn of(store: &Store) -> StoreObjects {
        StoreObjects { store: store.clone().with_admission(Default::default()) }
    }

    /// The served resource `group`/`resource` in its storage version (else any served version).
    fn resource(&self, group: &str, resource: &str) -> Option<Arc<Resource>> {
        let served: Vec<Arc<Resource>> = self
            .store
            .registry
            .all()
            .into_iter()
            .filter(|r| r.gv.group == group && r.plural == resource)
            .collect();
        let stored = served.iter().find(|r| r.gv == r.storage_gv).cloned();
        stored.or_else(|| served.into_iter().next())
    }
}

fn scope<'a>(resource: &Resource, namespace: &'a str) -> Option<&'a str> {
    (resource.namespaced && !namespace.is_empty()).then_some(namespace)
}

#[async_trait]
impl Objects for StoreObjects {
    async fn get(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ApiError> {
        let Some(resource) = self.resource(group, resource) else { return Ok(None) };
        match self.store.get(&resource, scope(&resource, namespace), name, None).await {
            Ok(object) => Ok(Some(object)),
            Err(err) if err.reason == Reason::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn list(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let Some(resource) = self.resource(group, resource) else { return Ok(Vec::new()) };
        let params = ListParams::default();
        Ok(self.store.list(&resource, scope(&resource, namespace), &params).await?.items)
    }
}
