//! The two operations of the field manager: an update (a create, an update or a non-apply
//! patch: the writer takes over what it changed, nobody conflicts) and an apply (the applier
//! owns exactly what its configuration sets; changing another manager's field is a conflict
//! unless forced; fields it stopped applying are removed unless another applier owns them).
//!
//! Each operation is kube's chain of field managers folded into one function, outermost step
//! first: which entries count (the request's or the live object's), the version check, the
//! `kubectl` last-applied hand-over ([`super::last_applied`]), tracking from the first apply
//! of an untracked object (`before-first-apply`), the cap on Update entries, the manager's
//! identity, the time of the entries that change, and the identity fields no entry holds.
//! The set algebra itself is in [`take_over`] and [`apply_entries`], which know nothing of
//! objects.

use serde_json::{Map, Value};

use super::last_applied;
use super::managed::{self, Entry, Managed, Operation, identity_fields};
use super::walk::{self, Comparison};
use super::{ApplyError, Conflict, FieldManager, Now, Set, conflict, merge};

/// The manager kube records for an object's fields when it is first applied to while nobody
/// owns anything: every field it had then.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// The manager name kube uses when a write names none.
pub const UNKNOWN_MANAGER: &str = "unknown";

/// See [`FieldManager::update`].
pub(super) fn update(fm: &FieldManager, live: &Value, new: &mut Value, manager: &str, now: &Now) {
    if !new.get("metadata").is_some_and(Value::is_object) {
        return;
    }
    match updated_entries(fm, live, new, manager, now) {
        Ok(managed) => managed::encode_into(new, &managed),
        Err(_) => {
            // As kube's UpdateNoErrors: keep the live object's entries rather than lose them.
            match live.pointer("/metadata/managedFields").cloned() {
                Some(entries) => new["metadata"]["managedFields"] = entries,
                None => managed::remove_from(new),
            }
        }
    }
}

/// The entries after an update: kube's `decodeLiveOrNew`, then (unless the object is not
/// tracked) the writer's take-over and the cap on Update entries.
fn updated_entries(
    fm: &FieldManager,
    live: &Value,
    new: &Value,
    manager: &str,
    now: &Now,
) -> Result<Managed, ApplyError> {
    let mut managed = entries_for_update(fm, live, new);
    let creating =
        live.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().is_empty();
    if managed.is_empty() && !creating {
        // An existing object nobody tracks stays untracked until it is first applied to.
        return Ok(managed);
    }
    // A create compares against kube's zero value of the kind, as kube compares against New().
    let old = if live.is_null() { fm.zero.clone() } else { without_entries(live) };
    let new = without_entries(new);
    let comparison = compare(fm, &old, &new)?;
    let writer =
        Entry::new(manager_name(manager), Operation::Update, &fm.api_version, &fm.subresource);
    take_over(&mut managed, writer, &comparison, now);
    managed.cap_updates(fm.max_update_managers);
    Ok(managed)
}

/// Which entries an update starts from, as kube decides: through a subresource always the
/// live object's; a request asking to clear them (`[]`, `[{}]`) none; else the request's when
/// they are readable and not empty, else the live object's (unreadable ones count as none).
fn entries_for_update(fm: &FieldManager, live: &Value, new: &Value) -> Managed {
    let live_entries = || managed::decode(live).unwrap_or_default();
    if !fm.subresource.is_empty() {
        return live_entries();
    }
    if managed::is_reset(new) {
        return Managed::default();
    }
    match managed::decode(new) {
        Ok(entries) if !entries.is_empty() => entries,
        _ => live_entries(),
    }
}

/// An Update by `writer`: every entry loses what changed (values added or modified, fields
/// removed); the writer's entry gains what was added or modified, apart from the object's
/// identity fields, and takes the time `now` — only when it gains something. Entries left
/// owning nothing are dropped.
pub fn take_over(managed: &mut Managed, writer: Entry, comparison: &Comparison, now: &Now) {
    let changed = comparison.modified.union(&comparison.added);
    for entry in &mut managed.entries {
        entry.fields = entry.fields.difference(&changed).difference(&comparison.removed);
    }
    managed.drop_empty();
    let taken = changed.difference(&comparison.removed).difference(&identity_fields());
    if taken.is_empty() {
        return;
    }
    let previous = managed.remove(&writer).map(|e| e.fields).unwrap_or_default();
    managed.entries.push(Entry {
        fields: taken.union(&previous),
        time: Some(now.0.clone()),
        ..writer
    });
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
    check_version(fm, &config)?;
    if config.pointer("/metadata/managedFields").is_some_and(|v| !v.is_null()) {
        return Err(ApplyError::BadRequest("metadata.managedFields must be nil".into()));
    }
    let entries = managed::decode(live)
        .map_err(|e| ApplyError::BadRequest(format!("failed to decode managed fields: {e}")))?;
    let old = if live.is_null() { Value::Object(Map::new()) } else { without_entries(live) };
    let manager = manager_name(manager);
    let (mut object, managed) =
        match apply_to(fm, &old, &config, entries.clone(), manager, force, now) {
            Err(ApplyError::Conflicts(conflicts)) if manager == last_applied::KUBECTL => {
                // kube's client-side → server-side hand-over: what kubectl's last client-side
                // apply set, and the object still holds, does not conflict.
                let allowed =
                    last_applied::allowed_conflicts(&old, &fm.api_version, fm.root.at_root());
                let Some(allowed) = allowed else {
                    return Err(ApplyError::Conflicts(conflicts));
                };
                let left: Vec<Conflict> =
                    conflicts.into_iter().filter(|c| !allowed.has(&c.path.0)).collect();
                if !left.is_empty() {
                    return Err(ApplyError::Conflicts(left));
                }
                apply_to(fm, &old, &config, entries, manager, true, now)?
            }
            result => result?,
        };
    if manager == last_applied::KUBECTL {
        last_applied::keep_current(&mut object, &config);
    }
    managed::encode_into(&mut object, &managed);
    Ok((object != *live).then_some(object))
}

/// kube's version check: an apply is made in the endpoint's version.
fn check_version(fm: &FieldManager, config: &Value) -> Result<(), ApplyError> {
    let api_version = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if api_version == fm.api_version {
        return Ok(());
    }
    let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
    // Go's GroupVersionKind text: `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`.
    let group_version = match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [version] => format!("/{version}"),
        [group, version] => format!("{group}/{version}"),
        _ => "/".to_owned(),
    };
    Err(ApplyError::BadRequest(format!("invalid object type: {group_version}, Kind={kind}")))
}

/// One apply of `config` to `old` (no entries in it) with `managed` as they stand: the new
/// object (without entries) and the entries.
fn apply_to(
    fm: &FieldManager,
    old: &Value,
    config: &Value,
    mut managed: Managed,
    manager: &str,
    force: bool,
    now: &Now,
) -> Result<(Value, Managed), ApplyError> {
    let ty = fm.root.at_root();
    if managed.is_empty() {
        // kube starts tracking an untracked object at its first apply: what it holds then
        // belongs to `before-first-apply` (nothing, for a create).
        let empty = Value::Object(Map::new());
        let comparison = compare(fm, &empty, old)?;
        let first =
            Entry::new(BEFORE_FIRST_APPLY, Operation::Update, &fm.api_version, &fm.subresource);
        take_over(&mut managed, first, &comparison, now);
    }
    let merged = merge::merge(old, config, ty)?;
    let applier = Entry::new(manager, Operation::Apply, &fm.api_version, &fm.subresource);
    let last = managed.find(&applier).map(|e| e.fields.clone()).unwrap_or_default();
    let applied = walk::fieldset(config, ty)?.recursive_difference(&fm.reset);
    // Nothing the applier applied last time is missing now: nothing to prune.
    let stopped_applying = !last.difference(&applied).is_empty();
    let time = managed.find(&applier).and_then(|e| e.time.clone());
    managed.put(Entry { fields: applied, time, ..applier.clone() });
    let new = if stopped_applying { prune(fm, merged, &managed, &last)? } else { merged };
    let comparison = compare(fm, old, &new)?;
    apply_entries(&mut managed, &applier, &comparison, force)?;
    let changed = new != *old;
    if let Some(entry) = managed.find_mut(&applier) {
        entry.fields = entry.fields.difference(&identity_fields());
        if changed {
            entry.time = Some(now.0.clone());
        }
    }
    managed.drop_empty();
    Ok((new, managed))
}

/// The entries after an apply by `applier` (whose entry already holds its configuration's
/// fields) changed the object as `comparison` says: another entry owning a field whose value
/// was added or modified is a conflict — refused unless `force`, which moves the field to the
/// applier; every other entry loses the fields removed. Conflicts come in kube's order: owners
/// by kube's identifier, fields in path order.
pub fn apply_entries(
    managed: &mut Managed,
    applier: &Entry,
    comparison: &Comparison,
    force: bool,
) -> Result<(), ApplyError> {
    let changed = comparison.modified.union(&comparison.added);
    if !force {
        let mut owners: Vec<(String, String, Set)> = managed
            .entries
            .iter()
            .filter(|e| !e.same_owner(applier))
            .map(|e| (e.identifier(), conflict::owner_text(e), e.fields.intersection(&changed)))
            .filter(|(_, _, set)| !set.is_empty())
            .collect();
        if !owners.is_empty() {
            owners.sort_by(|a, b| a.0.cmp(&b.0));
            let conflicts = owners
                .into_iter()
                .flat_map(|(_, owner, set)| {
                    set.paths()
                        .into_iter()
                        .map(move |path| Conflict { manager: owner.clone(), path })
                })
                .collect();
            return Err(ApplyError::Conflicts(conflicts));
        }
    }
    for entry in managed.entries.iter_mut().filter(|e| !e.same_owner(applier)) {
        entry.fields = entry.fields.difference(&changed).difference(&comparison.removed);
    }
    managed.drop_empty();
    Ok(())
}

/// structured-merge-diff's prune: what the applier applied last time (`last`) and no longer
/// applies is removed from the merged object, unless an applier (this one included) still
/// owns it; fields nobody's apply ever set stay.
fn prune(
    fm: &FieldManager,
    merged: Value,
    managed: &Managed,
    last: &Set,
) -> Result<Value, ApplyError> {
    let ty = fm.root.at_root();
    let owned = managed
        .entries
        .iter()
        .filter(|e| e.operation == Operation::Apply)
        .fold(Set::new(), |acc, e| acc.union(&e.fields));
    let merged_set = walk::fieldset(&merged, ty)?;
    let pruned = merge::remove_items(&merged, last, ty);
    let pruned_set = walk::fieldset(&pruned, ty)?;
    let pruned =
        merge::remove_items(&merged, &merged_set.difference(&pruned_set.union(&owned)), ty);
    let pruned_set = walk::fieldset(&pruned, ty)?;
    Ok(merge::remove_items(&merged, &merged_set.difference(&pruned_set).intersection(last), ty))
}

/// What changed from `old` to `new`, apart from the fields this endpoint leaves alone.
fn compare(fm: &FieldManager, old: &Value, new: &Value) -> Result<Comparison, ApplyError> {
    let comparison = walk::compare(old, new, fm.root.at_root())?;
    if fm.reset.is_empty() {
        return Ok(comparison);
    }
    Ok(Comparison {
        added: comparison.added.recursive_difference(&fm.reset),
        modified: comparison.modified.recursive_difference(&fm.reset),
        removed: comparison.removed.recursive_difference(&fm.reset),
    })
}

/// `object` without `metadata.managedFields`; `{}` for no object (a create).
fn without_entries(object: &Value) -> Value {
    if object.is_null() {
        return Value::Object(Map::new());
    }
    let mut copy = object.clone();
    managed::remove_from(&mut copy);
    copy
}

fn manager_name(manager: &str) -> &str {
    if manager.is_empty() { UNKNOWN_MANAGER } else { manager }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod sequences;
