//! Stage 1b of a write: field ownership (`metadata.managedFields`), between decoding and
//! mutating admission, on a body its kind's `Strategy::set_defaults` has defaulted already (so
//! the writer owns the defaults, as in kube).
//!
//! Every create, update and non-apply patch records what its manager changed
//! ([`Store::manage_update`], kube's `UpdateNoErrors`: never fails); an apply merges its
//! configuration by ownership ([`Store::field_manager`] then [`FieldManager::apply`], called by
//! [`super::apply`]). Both work on objects in the **served** version, the version the entries
//! record, so they run before the conversion to the storage version.
//!
//! One [`FieldManager`] is built per resource, served version and subresource, from the
//! built-in kind's schema or the custom resource version's structural schema, and kept here
//! until the resource is served by another definition (a CRD changed). The manager of a write
//! is the `fieldManager` query value, or the client's name from its User-Agent
//! ([`Operation::manager`]). The field manager's errors become Status errors in one place,
//! [`apply_error`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::{Operation, Store, invalid};
use crate::apply::{ApplyError, FieldManager, Now, TypeRoot, conflict};
use crate::meta::status::ApiError;
use crate::registry::{Resource, Strategy, object};

/// The field managers built so far.
#[derive(Debug, Default)]
pub(super) struct FieldManagers {
    /// By `(group/version, plural, subresource)`; each with the strategy it was built for, so
    /// that a resource served anew (a CRD updated) gets a new one.
    built: Mutex<HashMap<(String, String, String), Built>>,
}

#[derive(Debug, Clone)]
struct Built {
    strategy: Arc<dyn Strategy>,
    manager: Arc<FieldManager>,
}

impl Store {
    /// The field manager of writes to `resource` through `subresource` (`""`, `status`,
    /// `scale`).
    pub(super) fn field_manager(
        &self,
        resource: &Resource,
        subresource: &str,
    ) -> Arc<FieldManager> {
        let key = (resource.gv.api_version(), resource.plural.clone(), subresource.to_owned());
        let mut built = self.field_managers.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = built.get(&key)
            && Arc::ptr_eq(&found.strategy, &resource.strategy)
        {
            return found.manager.clone();
        }
        let manager = Arc::new(build(resource, subresource));
        let entry = Built { strategy: resource.strategy.clone(), manager: manager.clone() };
        built.insert(key, entry);
        manager
    }

    /// A create, update or non-apply patch by `op`'s manager: `new`'s `managedFields` computed
    /// from `live`'s (`Value::Null` on create) and what changed. Both in the served version.
    pub(super) fn manage_update(
        &self,
        resource: &Resource,
        op: &Operation,
        live: &Value,
        new: &mut Value,
    ) {
        if !new.is_object() {
            return; // refused later, as a body that is not an object
        }
        let field_manager = self.field_manager(resource, &op.subresource);
        field_manager.update(live, new, &op.manager(), &now());
    }
}

/// The time of a write as `managedFields[].time` records it.
pub(super) fn now() -> Now {
    Now(object::now_rfc3339())
}

/// The field manager of `resource` through `subresource`, with kube's reset fields: on the
/// main resource of a kind with `/status`, `status` (written only through `/status`); on
/// `/status`, every other top-level field (this server keeps all of them, metadata included,
/// from the stored object on a status write); on `/scale`, nothing (a scale write changes only
/// the replicas).
fn build(resource: &Resource, subresource: &str) -> FieldManager {
    let gv = &resource.gv;
    let root = match resource.strategy.openapi_v3_schema() {
        Some(schema) => TypeRoot::crd(Some(schema)),
        None => TypeRoot::builtin(&gv.group, &gv.version, &resource.kind)
            .unwrap_or_else(|| TypeRoot::crd(None)),
    };
    let reset: Vec<String> = match subresource {
        "status" => top_level_fields(resource).into_iter().filter(|f| f != "status").collect(),
        "" if resource.status_subresource => vec!["status".to_owned()],
        _ => Vec::new(),
    };
    let paths: Vec<[&str; 1]> = reset.iter().map(|f| [f.as_str()]).collect();
    let reset: Vec<&[&str]> = paths.iter().map(|p| &p[..]).collect();
    FieldManager::new(root, &gv.api_version(), subresource, &reset)
}

/// The top-level fields an object of `resource` may have: the built-in definition's, or a
/// custom resource's schema properties; `apiVersion`, `kind`, `metadata` and `spec` always.
fn top_level_fields(resource: &Resource) -> Vec<String> {
    let mut fields: Vec<String> =
        ["apiVersion", "kind", "metadata", "spec"].map(str::to_owned).into();
    let gv = &resource.gv;
    let schemas = crate::schema::builtin();
    if let Some(id) = schemas.by_gvk(&gv.group, &gv.version, &resource.kind) {
        fields.extend(schemas.get(id).fields().iter().map(|f| f.json.to_owned()));
    } else if let Some(Value::Object(properties)) =
        resource.strategy.openapi_v3_schema().and_then(|s| s.get("properties"))
    {
        fields.extend(properties.keys().cloned());
    }
    fields.sort_unstable();
    fields.dedup();
    fields
}

/// The Status error of a refused apply to `name` of `resource`: 409 with the conflicts, 400,
/// or 422 with causes.
pub(crate) fn apply_error(resource: &Resource, name: &str, err: ApplyError) -> ApiError {
    match err {
        ApplyError::Conflicts(conflicts) => conflict::conflict_error(&conflicts),
        ApplyError::BadRequest(message) => ApiError::bad_request(message),
        ApplyError::Invalid(causes) => invalid(resource, name, causes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::Set;
    use crate::registry::{Registry, builtin};

    fn resource(group: &str, plural: &str) -> Arc<Resource> {
        let registry = Registry::new();
        builtin::register_enabled(&registry, &Default::default());
        registry.get(group, "v1", plural).unwrap()
    }

    fn fields(set: &Set) -> Vec<String> {
        set.paths().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reset_fields_follow_the_status_subresource() {
        let deployments = resource("apps", "deployments");
        assert_eq!(fields(&build(&deployments, "").reset), [".status"]);
        let on_status = fields(&build(&deployments, "status").reset);
        assert_eq!(on_status, [".apiVersion", ".kind", ".metadata", ".spec"]);
        assert!(fields(&build(&deployments, "scale").reset).is_empty());
        // A kind without /status resets nothing on its main resource.
        assert!(fields(&build(&resource("", "configmaps"), "").reset).is_empty());
    }

    #[tokio::test]
    async fn one_field_manager_per_resource_and_subresource() {
        use crate::storage::Storage;
        use crate::storage::embedded::EmbeddedStorage;
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
        let registry = Arc::new(Registry::new());
        builtin::register_all(&registry);
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let views =
            crate::registry::views::Views::new(storage.clone(), Default::default(), stopped);
        let store = Store::new(storage, registry, views);
        let deployments = resource("apps", "deployments");
        let main = store.field_manager(&deployments, "");
        assert!(Arc::ptr_eq(&main, &store.field_manager(&deployments, "")));
        assert!(!Arc::ptr_eq(&main, &store.field_manager(&deployments, "status")));
        assert_eq!(main.api_version, "apps/v1");
    }
}
