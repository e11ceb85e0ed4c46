//! kube's two system PriorityClasses (`system-node-critical`, `system-cluster-critical`),
//! created at start-up as kube-apiserver's `scheduling/bootstrap-system-priority-classes`
//! post-start hook creates them: each one that does not exist is created through the store as
//! `system:apiserver` (admitted and recorded like any write); one that exists is left as it is.
//! Their strategy refuses to delete them
//! (`crate::registry::builtin::priorityclasses::PriorityClassStrategy`).

use super::builtin::priorityclasses::{GROUP, PLURAL, SYSTEM_CLASSES};
use super::operation::APISERVER;
use super::store::{Operation, Store};
use crate::meta::status::{ApiError, Reason};
use crate::storage::Verb;

/// Creates the system classes that do not exist yet; a no-op when PriorityClasses are not
/// served (`--runtime-config`).
pub async fn ensure(store: &Store) -> Result<(), ApiError> {
    let Some(classes) = store.registry.get(GROUP, "v1", PLURAL) else { return Ok(()) };
    for class in SYSTEM_CLASSES {
        let op = Operation::internal(APISERVER, Verb::Create, &classes).named(class.name);
        match store.create(&classes, &op, class.object()).await {
            Ok(_) => tracing::info!(name = class.name, "created system priority class"),
            Err(err) if err.reason == Reason::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
