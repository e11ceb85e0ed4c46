//! Reads served from the resource's watch view ([`crate::registry::views`]) instead of the log,
//! with kube-apiserver's resourceVersion semantics for reads from its watch cache:
//!
//! - no resourceVersion: a **consistent** read — the log's current revision is read and the view
//!   is waited for (briefly) until it has reached it, so the answer reflects every acknowledged
//!   write; every view advances with every revision of the log (one log subscription feeds them
//!   all, [`crate::registry::views`]), so an idle resource is answered at once too; a view that
//!   does not get there in time (loading, lagging, or an etcd head moved by a write outside the
//!   objects' keys) leaves the read to the log;
//! - `resourceVersion=0`: whatever the view holds (any freshness);
//! - `resourceVersion=N`: not older than N; an N the log has not reached is waited for (3 s, as
//!   kube-apiserver), then 504 with `Retry-After`.
//!
//! When the view cannot answer (not loaded yet, stopped, or the log's revision could not be
//! read), the read falls back to the log: slower, never wrong. Writes always read the log, which
//! holds the authoritative `mod_revision` their preconditions compare against.

use std::sync::Arc;
use std::time::Duration;

use ::watch::{Object as ViewObject, View, ViewError};
use serde_json::Value;
use tokio::time::Instant;

use super::Store;
use crate::meta::status::ApiError;
use crate::registry::{Resource, object};
use crate::storage::Revision;

/// How long a read waits for the view to reach a requested resourceVersion before the 504.
const TOO_LARGE_WAIT: Duration = Duration::from_secs(3);

/// How long a consistent read waits for the view before reading the log instead. Short: a view
/// that is not at the log's head by then is loading or lagging, and the log gives the same
/// answer.
const CONSISTENT_WAIT: Duration = Duration::from_millis(100);

/// How fresh a read must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Freshness {
    /// `resourceVersion=0`.
    Any,
    /// `resourceVersion=N`.
    AtLeast(Revision),
    /// No resourceVersion.
    Consistent,
}

impl Freshness {
    pub(super) fn of_get(resource_version: Option<Revision>) -> Freshness {
        match resource_version {
            None => Freshness::Consistent,
            Some(0) => Freshness::Any,
            Some(n) => Freshness::AtLeast(n),
        }
    }
}

impl Store {
    /// The resource's view once it is fresh enough; `Ok(None)` when the log must answer instead;
    /// 504 when a requested revision does not arrive in time.
    pub(super) async fn fresh_view(
        &self,
        resource: &Resource,
        freshness: Freshness,
    ) -> Result<Option<View>, ApiError> {
        let view = self.views.of(resource);
        let outcome = match freshness {
            Freshness::Any => view.wait_until(0, Instant::now() + CONSISTENT_WAIT).await,
            Freshness::AtLeast(n) => {
                // Only a revision the log has not reached is worth the long wait (then 504).
                let log = self.storage.current_revision().await.unwrap_or(i64::MAX);
                let wait = if n > log { TOO_LARGE_WAIT } else { CONSISTENT_WAIT };
                view.wait_until(n, Instant::now() + wait).await
            }
            Freshness::Consistent => {
                view.catch_up(Instant::now() + CONSISTENT_WAIT).await.map(|_| ())
            }
        };
        match outcome {
            Ok(()) => Ok(Some(view)),
            Err(ViewError::Timeout { wanted, current }) => match freshness {
                Freshness::AtLeast(_) => {
                    // Newer than the view could reach in time: newer than the log, or the view
                    // is lagging; either way kube-apiserver's answer is a 504 to retry.
                    let log = self.storage.current_revision().await.unwrap_or(current);
                    if wanted > log {
                        Err(ApiError::too_large_resource_version(wanted, log))
                    } else {
                        Ok(None)
                    }
                }
                _ => Ok(None),
            },
            Err(err) => {
                tracing::debug!(%err, plural = %resource.plural, "view cannot answer; reading the log");
                Ok(None)
            }
        }
    }

    /// GET from the view: `Ok(None)` when the view cannot answer and the log must.
    pub(super) async fn get_from_view(
        &self,
        resource: &Resource,
        key: &str,
        resource_version: Option<Revision>,
    ) -> Result<Option<Option<Value>>, ApiError> {
        let Some(view) = self.fresh_view(resource, Freshness::of_get(resource_version)).await?
        else {
            return Ok(None);
        };
        match view.get(key) {
            Ok(Some(found)) => Ok(Some(Some(served_from_view(resource, &found).await?))),
            Ok(None) => Ok(Some(None)),
            Err(_) => Ok(None),
        }
    }
}

/// A view object → the served version with its resourceVersion (decoded once by the view).
pub(super) async fn served_from_view(
    resource: &Resource,
    found: &Arc<ViewObject>,
) -> Result<Value, ApiError> {
    let mut served = resource.conversion.to_served_version(view_json(found)?).await?;
    object::set_resource_version(&mut served, found.mod_revision);
    Ok(served)
}

/// Many view objects → the served version, converted together (one review for a webhook).
pub(super) async fn all_served_from_view(
    resource: &Resource,
    found: &[Arc<ViewObject>],
) -> Result<Vec<Value>, ApiError> {
    let objects = found.iter().map(view_json).collect::<Result<Vec<_>, _>>()?;
    let mut served = resource.conversion.to_served_versions(objects).await?;
    for (item, found) in served.iter_mut().zip(found) {
        object::set_resource_version(item, found.mod_revision);
    }
    Ok(served)
}

/// A view object's JSON (decoded once by the view); one that is not JSON is an internal fault.
fn view_json(found: &Arc<ViewObject>) -> Result<Value, ApiError> {
    if found.json.is_null() {
        tracing::error!(key = %found.key, "stored object is not valid JSON");
        return Err(ApiError::internal("a stored object could not be decoded"));
    }
    Ok(found.json.clone())
}
