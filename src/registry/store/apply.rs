//! Server-side apply (`PATCH` with `application/apply-patch+yaml`): the configuration merged
//! into the live object by field ownership, then written like any update — or, when there is
//! no object, like a create.
//!
//! Flow: the decoded configuration (served version) is checked against the endpoint's kind →
//! the live object (the view's copy first, as every write) in the served version →
//! [`FieldManager::apply`](crate::apply::FieldManager::apply): a 409 on conflicts, `None` when
//! the apply changes nothing (the live object is returned and nothing is written: no new
//! revision), else the merged object → the update stages of [`super::write`] (preconditions,
//! admission, validation, the conditioned write, retried on a lost race). An absent object is
//! created from the configuration applied to nothing, after the `create` authorization kube
//! asks for ([`Operation::create_check`]); a create that loses to a concurrent one is retried
//! as an update.

use serde_json::Value;

use super::manage::{apply_error, now};
use super::write::{Current, Retry, check_name, conflict, settle_namespace};
use super::{MAX_RETRIES, Operation, Store, decode};
use crate::meta::status::{ApiError, Reason};
use crate::registry::{Resource, object};

/// The outcome of an apply: the object, and whether the apply created it (201) or not (200).
#[derive(Debug, Clone)]
pub struct Applied {
    pub object: Value,
    pub created: bool,
}

impl Store {
    /// Applies `config` (decoded, in the served version) to `op`'s object of `resource` as
    /// `op`'s manager, forced when `op.force`.
    pub async fn apply(
        &self,
        resource: &Resource,
        op: &Operation,
        config: Value,
    ) -> Result<Applied, ApiError> {
        check_applied_type(resource, &config)?;
        check_name(&op.name, &config)?;
        let field_manager = self.field_manager(resource, &op.subresource);
        let manager = op.manager();
        let (namespace, name) = (op.namespace.as_deref(), op.name.as_str());
        let pinned = object::resource_version(&config).map(str::to_owned);
        // A dry run writes nothing, so it reads the log at once (see `guaranteed_update`).
        let mut attempts = usize::from(op.dry_run);
        loop {
            let found = match self.read_for_write(resource, namespace, name, attempts).await {
                Ok(found) => Some(found),
                Err(err) if err.reason == Reason::NotFound => None,
                Err(err) => return Err(err),
            };
            let Some((stored, from_view)) = found else {
                match self.create_by_apply(resource, op, &config, &manager).await {
                    Err(err) if err.reason == Reason::AlreadyExists && attempts < MAX_RETRIES => {
                        attempts += 1;
                        continue;
                    }
                    outcome => return outcome.map(|object| Applied { object, created: true }),
                }
            };
            let current = Current { old: decode(&stored)?, object: stored, from_view };
            let outcome = async {
                if pinned.as_deref().is_some_and(|rv| rv != current.object.mod_revision.to_string())
                {
                    return Err(Retry::Fail(conflict(resource, name)));
                }
                let live = self.live_served(resource, &current).await?;
                let applied =
                    field_manager.apply(&live, config.clone(), &manager, op.force, &now());
                let mut merged = match applied.map_err(|err| apply_error(resource, name, err))? {
                    Some(merged) => merged,
                    // Nothing changes: nothing is written (once the log confirms the copy).
                    None if current.from_view => return Err(Retry::Conflict),
                    None => return Ok(self.to_served(resource, &current.object).await?),
                };
                check_name(name, &merged)?;
                // The merged object is defaulted, as kube's field manager does after a merge:
                // the applier owns what it applied, not the defaults.
                resource.strategy.set_defaults(&mut merged);
                let mut desired = resource.conversion.to_storage_version(merged).await?;
                settle_namespace(resource, namespace, &mut desired)?;
                self.commit_update(resource, op, &current, desired, op.part()).await
            };
            match outcome.await {
                Ok(object) => return Ok(Applied { object, created: false }),
                Err(Retry::Storage(err)) => return Err(err),
                Err(_) if from_view => attempts += 1,
                Err(Retry::Conflict) if attempts < MAX_RETRIES => attempts += 1,
                Err(Retry::Conflict) => return Err(conflict(resource, name)),
                Err(Retry::Fail(err)) => return Err(err),
            }
        }
    }

    /// The create of an apply that found no object: `config` applied to nothing, named by the
    /// URL, then the create stages. Only the main resource can be created so: an apply to a
    /// subresource of a missing object is a 404.
    async fn create_by_apply(
        &self,
        resource: &Resource,
        op: &Operation,
        config: &Value,
        manager: &str,
    ) -> Result<Value, ApiError> {
        if !op.subresource.is_empty() {
            return Err(super::not_found(resource, &op.name));
        }
        let field_manager = self.field_manager(resource, "");
        let applied = field_manager.apply(&Value::Null, config.clone(), manager, op.force, &now());
        let mut object = match applied.map_err(|err| apply_error(resource, &op.name, err))? {
            Some(object) => object,
            None => config.clone(),
        };
        let meta = object::metadata_mut(&mut object);
        if meta.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
            meta.insert("name".into(), op.name.clone().into());
        }
        // Defaulted once named (a Namespace's name label), as kube defaults an applied object.
        resource.strategy.set_defaults(&mut object);
        if let Some(check) = &op.create_check {
            check.check()?;
        }
        let mut op = op.clone();
        op.verb = crate::storage::Verb::Create;
        self.create_managed(resource, &op, object).await
    }
}

/// kube's check that an apply configuration is of the endpoint's kind: its `apiVersion` and
/// `kind` must both be there and be the resource's (a 400 naming what was sent).
fn check_applied_type(resource: &Resource, config: &Value) -> Result<(), ApiError> {
    check_config_type(config, &resource.gv.api_version(), &resource.kind)
}

/// The same check against a given type (the `autoscaling/v1` `Scale` of `/scale`).
pub fn check_config_type(
    config: &Value,
    expected_version: &str,
    expected_kind: &str,
) -> Result<(), ApiError> {
    let text = |field: &str| config.get(field).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if api_version == expected_version && kind == expected_kind {
        return Ok(());
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    Err(ApiError::bad_request(format!("invalid object type: {group}/{version}, Kind={kind}")))
}
