//! Entries of a workload seen through its `/scale` subresource and back: the parent's owners of
//! its replicas field appear to the `autoscaling/v1` Scale as owners of `spec.replicas`, and a
//! write through `/scale` takes that field over in the parent's entries.
//!
//! Data flows (a write to `/scale`, as kube's ScaleHandler): the parent's entries →
//! [`to_subresource`] → the old Scale's entries → the Scale endpoint's [`super::FieldManager`]
//! (`autoscaling/v1`, subresource `scale`) updates them → [`to_parent`] → the parent's entries.

use serde_json::Value;

use super::managed::{self, Entry, Managed};
use super::path::{Path, PathElement};
use super::set::Set;

/// The version of the Scale objects `/scale` serves.
pub const SCALE_API_VERSION: &str = "autoscaling/v1";

fn replicas_in_scale() -> Vec<PathElement> {
    Path::fields(&["spec", "replicas"]).0
}

fn path_of(fields: &[&str]) -> Vec<PathElement> {
    Path::fields(fields).0
}

fn single(path: &[PathElement]) -> Set {
    let mut set = Set::new();
    set.insert(path);
    set
}

fn as_array(managed: &Managed) -> Value {
    let mut object = serde_json::json!({"metadata": {}});
    managed::encode_into(&mut object, managed);
    object["metadata"].get("managedFields").cloned().unwrap_or_else(|| Value::Array(Vec::new()))
}

/// The `managedFields` a Scale built from `parent` shows, given where the parent keeps its
/// replicas (`&["spec", "replicas"]`): each parent entry owning that field, as an entry of the
/// same owner owning the Scale's `spec.replicas` in `autoscaling/v1`, with the entry's time.
/// An empty array when nobody owns the replicas (or the parent's entries cannot be read).
pub fn to_subresource(parent: &Value, replicas_path: &[&str]) -> Value {
    let replicas = path_of(replicas_path);
    let parent = managed::decode(parent).unwrap_or_default();
    let entries = parent
        .entries
        .into_iter()
        .filter(|e| e.fields.has(&replicas))
        .map(|e| Entry {
            api_version: SCALE_API_VERSION.to_owned(),
            fields: single(&replicas_in_scale()),
            ..e
        })
        .collect();
    as_array(&Managed { entries })
}

/// The parent's `managedFields` after a write through `/scale` whose resulting Scale is
/// `scale` (its entries as the Scale's field manager left them), for a parent served as
/// `api_version` keeping its replicas at `replicas_path`. A parent entry owning the replicas
/// loses them unless its owner still owns the Scale's `spec.replicas`; each Scale entry owning
/// `spec.replicas` becomes an entry owning the parent's replicas in `api_version` (an Update
/// entry of the Scale's version is a new owner to the parent: it takes the parent's time for
/// that owner, which is none — as kube does). When either side's entries cannot be read, the
/// parent's stay as they are.
pub fn to_parent(
    parent: &Value,
    scale: &Value,
    api_version: &str,
    replicas_path: &[&str],
) -> Value {
    let unchanged =
        || parent.pointer("/metadata/managedFields").cloned().unwrap_or(Value::Array(Vec::new()));
    let (Ok(parent_entries), Ok(scale_entries)) = (managed::decode(parent), managed::decode(scale))
    else {
        return unchanged();
    };
    let replicas = path_of(replicas_path);
    let times = parent_entries.clone();
    let mut scale_entries = scale_entries;
    let mut out = Managed::default();
    for entry in parent_entries.entries {
        if !entry.fields.has(&replicas) {
            out.entries.push(entry);
        } else if scale_entries.remove(&entry).is_some() {
            // Still the owner of the replicas through the Scale: kept as it is.
            out.entries.push(entry);
        } else {
            let fields = entry.fields.difference(&single(&replicas));
            if !fields.is_empty() {
                out.entries.push(Entry { fields, ..entry });
            }
        }
    }
    for entry in scale_entries.entries {
        if !entry.fields.has(&replicas_in_scale()) {
            continue;
        }
        // The parent's time for the Scale entry's owner, as kube looks it up.
        let time = times.find(&entry).and_then(|e| e.time.clone());
        out.put(Entry {
            api_version: api_version.to_owned(),
            fields: single(&replicas),
            time,
            ..entry
        });
    }
    as_array(&out)
}

#[cfg(test)]
mod tests;
