//! The objects ServiceAccount tokens are bound to, looked up through the store for the
//! authenticator ([`crate::authn::serviceaccount::BoundObjectGetter`]): a token whose
//! ServiceAccount (or pod, secret, node) was deleted — or replaced by one of another uid — stops
//! authenticating. Reads come from the resource's watch view, so the check costs no storage
//! round trip on the request path.

use std::time::UNIX_EPOCH;

use async_trait::async_trait;
use serde_json::Value;

use super::object::parse_timestamp;
use super::store::Store;
use crate::api::status::Reason;
use crate::authn::serviceaccount::{BoundKind, BoundObject, BoundObjectGetter};

/// The store as the authenticator's lookup of bound objects.
#[derive(Debug, Clone)]
pub struct StoreBoundObjects(pub Store);

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
        // A kind this server does not serve (nodes) has no objects to be bound to.
        let Some(resource) = self.0.registry.get("", "v1", plural) else { return Ok(None) };
        let namespace = (!namespace.is_empty()).then_some(namespace);
        match self.0.get(&resource, namespace, name, None).await {
            Ok(object) => Ok(Some(bound_object(&object))),
            Err(error) if error.reason == Reason::NotFound => Ok(None),
            Err(error) => Err(error.message),
        }
    }
}

fn bound_object(object: &Value) -> BoundObject {
    let metadata = &object["metadata"];
    let deletion_timestamp = metadata["deletionTimestamp"]
        .as_str()
        .and_then(parse_timestamp)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    BoundObject { uid: metadata["uid"].as_str().unwrap_or_default().to_owned(), deletion_timestamp }
}
