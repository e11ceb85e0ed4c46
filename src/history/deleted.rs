//! Deleted objects (`deletedobjects?since&until&resource&limit&continue`): the delete events of
//! a time range, in one namespace or all, each with who deleted the object and its last state.
//!
//! Data flows one way: the range's times → revisions ([`super::position::revision_at`]) →
//! [`Storage::replay`](crate::storage::Storage::replay) of the prefix, pulled a batch at a time →
//! the delete events the caller may see ([`Access`]: `get` on `<resource>/history`, asked once
//! per resource and namespace) → at most `limit` items, the last state converted to the
//! resource's preferred served version. Memory holds one page, whatever the range.
//!
//! A page ends at `limit` items; its continue token holds the range's end and the last revision
//! scanned, so later pages read the same range and neither repeat nor miss a delete.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::position::{Bounds, from_storage, revision_at};
use super::record::{provenance_fields, stored_object};
use super::replay::about;
use super::scope::{Access, Resolver};
use crate::meta::status::{ApiError, Reason};
use crate::registry::Resource;
use crate::registry::store::Store;
use crate::storage::{EventType, Revision, StorageError};

/// What a `deletedobjects` request asks for.
#[derive(Debug, Clone, Default)]
pub struct DeletedQuery {
    /// One namespace, or all.
    pub namespace: Option<String>,
    /// µs since the epoch; `None`: from the oldest retained event.
    pub since: Option<i64>,
    /// µs since the epoch; `None`: up to now.
    pub until: Option<i64>,
    /// Only this resource (its preferred served version), else every resource.
    pub resource: Option<std::sync::Arc<Resource>>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

/// Where a later page resumes: the range's last revision and the last one scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continue {
    to: Revision,
    after: Revision,
}

impl Continue {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// kube's 400 for a token it did not write.
    pub fn decode(token: &str) -> Result<Continue, ApiError> {
        let invalid = || ApiError::bad_request("continue key is not valid");
        let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).map_err(|_| invalid())?;
        let token: Continue = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if token.after < 0 || token.to < token.after { Err(invalid()) } else { Ok(token) }
    }
}

/// The `DeletedObjectList` of one page.
pub async fn deleted_objects(
    store: &Store,
    resolver: &mut Resolver,
    access: &mut Access,
    query: &DeletedQuery,
) -> Result<Value, ApiError> {
    let Some((from, to)) = range(store, query).await? else {
        return Ok(list(Vec::new(), 0, None));
    };
    let prefix = match &query.resource {
        Some(resource) => resource.prefix(query.namespace.as_deref()),
        None => "/".to_owned(),
    };
    let mut events = match store.storage.replay(&prefix, from, to).await {
        Ok(events) => events,
        Err(StorageError::Compacted { .. }) if query.continue_token.is_some() => {
            return Err(ApiError::expired_continue());
        }
        Err(err) => return Err(from_storage(err)),
    };
    let limit = query.limit.filter(|l| *l > 0);
    let mut items = Vec::new();
    let mut next = None;
    while let Some(event) = events.next().await {
        let event = event.map_err(from_storage)?;
        if event.event_type != EventType::Deleted {
            continue;
        }
        let Some(located) = resolver.locate(&event.key) else { continue };
        let other_namespace = query.namespace.as_ref().is_some_and(|ns| *ns != located.namespace);
        if other_namespace || !access.allows(&located.resource, &located.namespace) {
            continue;
        }
        let object = match stored_object(&event) {
            Some(last) => Some(store.to_served(&located.resource, last).await?),
            None => None,
        };
        let mut item = about(&located);
        let uid = object.as_ref().and_then(crate::registry::object::uid).unwrap_or_default();
        item.insert("uid".into(), uid.into());
        item.insert("revision".into(), event.revision.to_string().into());
        provenance_fields(event.provenance.as_ref(), &mut item);
        if let Some(object) = object {
            item.insert("object".into(), object);
        }
        items.push(Value::Object(item));
        if limit.is_some_and(|l| items.len() >= l) {
            if event.revision < to {
                next = Some(Continue { to, after: event.revision }.encode());
            }
            break;
        }
    }
    Ok(list(items, to, next))
}

/// The revisions `from..=to` the page scans; `None` when the range holds nothing (it ends before
/// the log's first event, or a continue token's range is done).
async fn range(
    store: &Store,
    query: &DeletedQuery,
) -> Result<Option<(Revision, Revision)>, ApiError> {
    if let Some(token) = &query.continue_token {
        let token = Continue::decode(token)?;
        return Ok((token.after < token.to).then_some((token.after + 1, token.to)));
    }
    if let (Some(since), Some(until)) = (query.since, query.until)
        && since > until
    {
        return Err(ApiError::bad_request("invalid range: since is after until"));
    }
    let storage = store.storage.as_ref();
    let bounds = Bounds::of(storage).await?;
    // A since before the retained log reads all of it: the list says what was deleted in the
    // part of the range the log still holds.
    let from = match query.since {
        None => bounds.oldest,
        Some(since) => match storage.revision_at(since.saturating_sub(1)).await {
            Ok(Some(before)) => (before + 1).max(bounds.oldest),
            Ok(None) | Err(StorageError::Compacted { .. }) => bounds.oldest,
            Err(err) => return Err(from_storage(err)),
        },
    };
    let to = match query.until {
        None => bounds.current,
        Some(until) => match revision_at(storage, until).await {
            Ok(to) => to,
            // Nothing retained at or before `until`: nothing to list there.
            Err(err) if err.reason == Reason::Expired => return Ok(None),
            Err(err) => return Err(err),
        },
    };
    Ok((from <= to).then_some((from, to)))
}

fn list(items: Vec<Value>, revision: Revision, next: Option<String>) -> Value {
    let mut metadata = Map::new();
    metadata.insert("resourceVersion".into(), revision.to_string().into());
    if let Some(next) = next {
        metadata.insert("continue".into(), next.into());
    }
    json!({
        "kind": "DeletedObjectList",
        "apiVersion": super::API_VERSION,
        "metadata": metadata,
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let token = Continue { to: 90, after: 41 };
        assert_eq!(Continue::decode(&token.encode()).unwrap(), token);
        let backwards = URL_SAFE_NO_PAD.encode(br#"{"to":3,"after":9}"#);
        for bad in ["", "!!", "e30", backwards.as_str()] {
            let error = Continue::decode(bad).unwrap_err();
            assert_eq!(
                (error.reason, error.message.as_str()),
                (Reason::BadRequest, "continue key is not valid"),
                "{bad:?}"
            );
        }
    }
}
