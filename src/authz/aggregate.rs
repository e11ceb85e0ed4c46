//! ClusterRole aggregation (`pkg/controller/clusterroleaggregation`): a ClusterRole with an
//! `aggregationRule` gets as `rules` the rules of every other ClusterRole its selectors match —
//! selector by selector, the matching roles by name, each distinct rule once. The controller
//! loop (watch ClusterRoles; on any change recompute every aggregated role and write those that
//! differ) comes with the server's wiring; these are its pure parts.

use std::collections::BTreeMap;

use serde_json::Value;

use super::rule::PolicyRule;
use crate::meta::labels::LabelSelector;

/// The rules `role` should have given every stored ClusterRole, or `None` when it has no
/// `aggregationRule`. A selector that does not parse selects nothing (validation refuses them).
pub fn aggregated_rules(role: &Value, cluster_roles: &[Value]) -> Option<Vec<PolicyRule>> {
    let selectors = role.pointer("/aggregationRule").filter(|r| !r.is_null())?;
    let name = role.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let mut rules: Vec<PolicyRule> = Vec::new();
    let selectors = selectors.get("clusterRoleSelectors").and_then(Value::as_array);
    for selector in selectors.into_iter().flatten() {
        let Ok(selector) = LabelSelector::from_structured(selector) else { continue };
        let mut matched: Vec<&Value> = cluster_roles
            .iter()
            .filter(|r| r.pointer("/metadata/name").and_then(Value::as_str) != Some(name))
            .filter(|r| selector.matches_object(r))
            .collect();
        matched.sort_by_key(|r| r.pointer("/metadata/name").and_then(Value::as_str).unwrap_or(""));
        for other in matched {
            for rule in PolicyRule::list_from_json(other.get("rules")) {
                if !rules.contains(&rule) {
                    rules.push(rule);
                }
            }
        }
    }
    Some(rules)
}

/// `role` with its aggregated rules, when they differ from its current ones.
pub fn aggregate(role: &Value, cluster_roles: &[Value]) -> Option<Value> {
    let rules = aggregated_rules(role, cluster_roles)?;
    if rules == PolicyRule::list_from_json(role.get("rules")) {
        return None;
    }
    let mut updated = role.clone();
    updated["rules"] = if rules.is_empty() {
        Value::Null
    } else {
        rules.iter().map(PolicyRule::to_json).collect::<Vec<_>>().into()
    };
    Some(updated)
}

/// Every aggregated ClusterRole whose rules change, in their final form: aggregation is repeated
/// until nothing changes, so roles aggregating aggregated roles (`admin` ← `edit` ← `view`)
/// settle in one call, as the controller would after several rounds of its own writes.
pub fn aggregate_all(cluster_roles: &[Value]) -> Vec<Value> {
    let mut current: Vec<Value> = cluster_roles.to_vec();
    let mut changed: BTreeMap<String, Value> = BTreeMap::new();
    // Each round settles at least one more level of nesting; a cycle of aggregated roles only
    // grows, so it settles too. The bound is a guard.
    for _ in 0..=cluster_roles.len() {
        let mut any = false;
        for i in 0..current.len() {
            if let Some(updated) = aggregate(&current[i], &current) {
                let name = updated.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
                changed.insert(name.to_owned(), updated.clone());
                current[i] = updated;
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    changed.into_values().collect()
}
