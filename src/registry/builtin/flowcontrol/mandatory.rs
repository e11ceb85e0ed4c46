//! kube-apiserver's mandatory APF objects (`apiserver/pkg/apis/flowcontrol/bootstrap`): the
//! `exempt` priority level and flow schema (everything `system:masters` does, never limited)
//! and the `catch-all` ones (everything else that no other schema matches, rejected when
//! over a small share). Their specs are fixed: validation refuses any other.

use serde_json::{Value, json};

use super::{AUTO_UPDATE, GROUP};
use crate::authz::user::{ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, SYSTEM_PRIVILEGED_GROUP};

pub const EXEMPT: &str = "exempt";
pub const CATCH_ALL: &str = "catch-all";

/// The spec a mandatory PriorityLevelConfiguration must have, in its defaulted v1 form.
pub fn priority_level_spec(name: &str) -> Option<Value> {
    match name {
        EXEMPT => Some(json!({"type": "Exempt",
            "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}})),
        CATCH_ALL => Some(json!({"type": "Limited", "limited": {
            "nominalConcurrencyShares": 5, "limitResponse": {"type": "Reject"},
            "lendablePercent": 0}})),
        _ => None,
    }
}

/// Every verb, API group, resource and namespace, and every non-resource URL.
fn everything(groups: &[&str]) -> Value {
    let subjects: Vec<Value> =
        groups.iter().map(|g| json!({"kind": "Group", "group": {"name": g}})).collect();
    json!([{
        "subjects": subjects,
        "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
            "clusterScope": true, "namespaces": ["*"]}],
        "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
    }])
}

/// The spec a mandatory FlowSchema must have, in its defaulted v1 form.
pub fn flow_schema_spec(name: &str) -> Option<Value> {
    match name {
        EXEMPT => Some(json!({"priorityLevelConfiguration": {"name": EXEMPT},
            "matchingPrecedence": 1, "rules": everything(&[SYSTEM_PRIVILEGED_GROUP])})),
        CATCH_ALL => Some(json!({"priorityLevelConfiguration": {"name": CATCH_ALL},
            "matchingPrecedence": 10000, "distinguisherMethod": {"type": "ByUser"},
            "rules": everything(&[ALL_UNAUTHENTICATED, ALL_AUTHENTICATED])})),
        _ => None,
    }
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": format!("{GROUP}/v1"),
        "kind": kind,
        "metadata": {"name": name, "annotations": {AUTO_UPDATE: "true"}},
        "spec": spec,
    })
}

/// The mandatory PriorityLevelConfigurations, as kube creates them.
pub fn priority_levels() -> Vec<Value> {
    [EXEMPT, CATCH_ALL]
        .iter()
        .filter_map(|n| Some(object("PriorityLevelConfiguration", n, priority_level_spec(n)?)))
        .collect()
}

/// The mandatory FlowSchemas, as kube creates them.
pub fn flow_schemas() -> Vec<Value> {
    [EXEMPT, CATCH_ALL]
        .iter()
        .filter_map(|n| Some(object("FlowSchema", n, flow_schema_spec(n)?)))
        .collect()
}
