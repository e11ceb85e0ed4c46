//! `flowcontrol.apiserver.k8s.io/v1` — API Priority and Fairness configuration
//! (`pkg/registry/flowcontrol`, `pkg/apis/flowcontrol/validation`): FlowSchemas
//! ([`flowschemas`]) classify requests into PriorityLevelConfigurations ([`prioritylevels`]).
//! Both cluster-scoped, with `status` subresources, no short names. They are stored, defaulted
//! and validated as kube does; nothing here queues or limits requests by them (kube-ledger's
//! in-flight limits are `--max-requests-inflight`). kube-apiserver's mandatory objects
//! (`exempt`, `catch-all`) are in [`mandatory`], created at start by
//! `crate::registry::system_flowcontrol`, and their specs are fixed by validation.

pub mod flowschemas;
pub mod mandatory;
pub mod prioritylevels;

use std::collections::BTreeSet;

use serde_json::Value;

use super::{object_items, opt_array, opt_str};
use crate::meta::validation::{CauseType, FieldCause, go_quote};

pub const GROUP: &str = "flowcontrol.apiserver.k8s.io";
/// The annotation kube's config producer keeps the specs of its objects up to date by.
pub const AUTO_UPDATE: &str = "apf.kubernetes.io/autoupdate-spec";

/// `Unsupported value: <rendered>: supported values: "a", "b"` with a value kube prints with
/// Go's `%#v`.
pub(crate) fn not_supported_rendered(field: &str, rendered: &str, valid: &[&str]) -> FieldCause {
    let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
    FieldCause {
        field: field.to_owned(),
        reason: CauseType::FieldValueNotSupported,
        message: format!("Unsupported value: {rendered}: supported values: {}", quoted.join(", ")),
    }
}

/// kube's check of status conditions of both kinds: each with a type, no type twice.
pub(crate) fn validate_conditions(object: &Value, causes: &mut Vec<FieldCause>) {
    let Some(status) = object.get("status").filter(|s| s.is_object()) else { return };
    let conditions = opt_array(status, "conditions", "status.conditions", causes);
    let mut types = BTreeSet::new();
    for (i, condition) in object_items(conditions, "status.conditions", causes) {
        let path = format!("status.conditions[{i}].type");
        let kind = opt_str(condition, "type", &path, causes).unwrap_or("");
        if !types.insert(kind) {
            causes.push(FieldCause::duplicate(&path, kind));
        }
        if kind.is_empty() {
            causes.push(FieldCause::required(&path, "must not be empty"));
        }
    }
}
