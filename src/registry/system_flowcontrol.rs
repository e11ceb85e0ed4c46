//! kube-apiserver's mandatory API Priority and Fairness objects (the `exempt` and `catch-all`
//! PriorityLevelConfigurations and FlowSchemas), created at start-up as its
//! `priority-and-fairness-config-producer` post-start hook creates them: each one missing is
//! created through the store as `system:apiserver`, priority levels first (the schemas name
//! them); one that exists is left as it is (validation keeps its spec the fixed one). kube's
//! suggested objects (`system-leader-election`, `workload-low`, …) are not created.

use serde_json::Value;

use super::builtin::flowcontrol::{GROUP, mandatory};
use super::operation::APISERVER;
use super::store::{Operation, Store};
use crate::meta::status::{ApiError, Reason};
use crate::storage::Verb;

/// Creates the mandatory objects that do not exist yet; a kind not served
/// (`--runtime-config`) is skipped.
pub async fn ensure(store: &Store) -> Result<(), ApiError> {
    type Objects = fn() -> Vec<Value>;
    let kinds: [(&str, Objects); 2] = [
        ("prioritylevelconfigurations", mandatory::priority_levels),
        ("flowschemas", mandatory::flow_schemas),
    ];
    for (plural, objects) in kinds {
        let Some(resource) = store.registry.get(GROUP, "v1", plural) else { continue };
        for object in objects() {
            let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            let op = Operation::internal(APISERVER, Verb::Create, &resource).named(&name);
            match store.create(&resource, &op, object).await {
                Ok(_) => tracing::info!(resource = plural, name, "created mandatory APF object"),
                Err(err) if err.reason == Reason::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(())
}
