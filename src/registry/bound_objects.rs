//! The objects ServiceAccount tokens are bound to (the ServiceAccount, a Pod or a Secret), looked
//! up through the generic store for the token authenticator
//! ([`crate::authn::serviceaccount::BoundObjectGetter`]): a token whose ServiceAccount (or pod,
//! secret) was deleted — or replaced by one of another uid — stops authenticating. Reads come
//! from the resource's watch view, so the check costs no storage round trip.
//!
//! It holds the registry weakly: the registry holds the reviewers, whose authenticator holds
//! this, and a strong handle would keep a stopped server's storage alive forever.

use std::sync::{Arc, Weak};
use std::time::UNIX_EPOCH;

use async_trait::async_trait;

use crate::authn::serviceaccount::{BoundKind, BoundObject, BoundObjectGetter};
use crate::meta::status::Reason;
use crate::registry::Registry;
use crate::registry::object;
use crate::registry::store::Store;
use crate::registry::views::Views;
use crate::storage::Storage;

/// Reads bound objects with a consistent GET, as kube's token authenticator reads them from its
/// informers (a deleted object is one the view no longer has).
#[derive(Debug, Clone)]
pub struct StoreBoundObjects {
    storage: Arc<dyn Storage>,
    registry: Weak<Registry>,
    views: Views,
}

impl StoreBoundObjects {
    pub fn new(store: &Store) -> StoreBoundObjects {
        StoreBoundObjects {
            storage: store.storage.clone(),
            registry: Arc::downgrade(&store.registry),
            views: store.views.clone(),
        }
    }
}

#[async_trait]
impl BoundObjectGetter for StoreBoundObjects {
    async fn get(
        &self,
        kind: BoundKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BoundObject>, String> {
        let plural = match kind {
            BoundKind::ServiceAccount => "serviceaccounts",
            BoundKind::Pod => "pods",
            BoundKind::Secret => "secrets",
            BoundKind::Node => "nodes",
        };
        let registry = self.registry.upgrade().ok_or("the server is shutting down")?;
        let Some(resource) = registry.get("", "v1", plural) else {
            return Ok(None); // not served (nodes): no such object
        };
        let store = Store::new(self.storage.clone(), registry, self.views.clone());
        let namespace = (!namespace.is_empty()).then_some(namespace);
        match store.get(&resource, namespace, name, None).await {
            Ok(found) => Ok(Some(BoundObject {
                uid: object::uid(&found).unwrap_or_default().to_owned(),
                deletion_timestamp: object::deletion_timestamp(&found)
                    .and_then(object::parse_timestamp)
                    .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                    .and_then(|since| i64::try_from(since.as_secs()).ok()),
            })),
            Err(error) if error.reason == Reason::NotFound => Ok(None),
            Err(error) => Err(error.message),
        }
    }
}
