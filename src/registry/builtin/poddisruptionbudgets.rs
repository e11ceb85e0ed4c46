//! `policy/v1` PodDisruptionBudgets (`pkg/registry/policy/poddisruptionbudget`): no defaults,
//! `minAvailable` or `maxUnavailable` (not both) as a non-negative integer or a percentage up
//! to 100%, a valid selector, a supported unhealthy-pod eviction policy, and `status` (its four
//! counters start at 0, as kube writes them). Nothing computes disruptions: `status` is what
//! clients write.

use std::sync::Arc;

use serde_json::{Value, json};

use super::replicasets::validate_status;
use super::workloads::{int_or_string_text, validate_positive_int_or_percent};
use super::{Kind, age_column, column, invalid_rendered, name_column, opt_object, opt_str};
use crate::meta::labels::validate_label_selector;
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    short_names: &["pdb"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/poddisruptionbudgets",
};

const EVICTION_POLICIES: &[&str] = &["AlwaysAllow", "IfHealthyBudget"];

pub fn resource() -> Resource {
    Resource {
        status_subresource: true,
        ..KIND.resource(Arc::new(PodDisruptionBudgetStrategy), table())
    }
}

/// PodDisruptionBudget rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct PodDisruptionBudgetStrategy;

impl Strategy for PodDisruptionBudgetStrategy {
    fn prepare_for_create(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert(
                "status".into(),
                json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
                       "expectedPods": 0}),
            );
        }
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let spec = opt_object(object, "spec", "spec", &mut causes).cloned().unwrap_or_default();
        let spec = Value::Object(spec);
        let set = |key: &str| spec.get(key).filter(|v| !v.is_null());
        if set("minAvailable").is_some() && set("maxUnavailable").is_some() {
            causes.push(invalid_rendered(
                "spec",
                &go_spec(&spec),
                "minAvailable and maxUnavailable cannot be both set",
            ));
        }
        validate_positive_int_or_percent(set("minAvailable"), "spec.minAvailable", &mut causes);
        validate_positive_int_or_percent(set("maxUnavailable"), "spec.maxUnavailable", &mut causes);
        if let Some(selector) = set("selector") {
            causes.extend(validate_label_selector(selector, "spec.selector"));
        }
        let path = "spec.unhealthyPodEvictionPolicy";
        if let Some(policy) = opt_str(&spec, "unhealthyPodEvictionPolicy", path, &mut causes)
            && !EVICTION_POLICIES.contains(&policy)
        {
            causes.push(FieldCause::not_supported(path, policy, EVICTION_POLICIES));
        }
        causes
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldCause> {
        if subresource == "status" {
            return validate_status(
                new,
                &["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"],
            );
        }
        self.validate_update(new, old)
    }
}

/// Go's `%#v` of a `policy.PodDisruptionBudgetSpec` as far as it can be told: its pointers'
/// addresses are no one's business, so they print as `(…)`.
fn go_spec(spec: &Value) -> String {
    let pointer = |key: &str, ty: &str| match spec.get(key).filter(|v| !v.is_null()) {
        Some(_) => format!("(*{ty})(…)"),
        None => format!("(*{ty})(nil)"),
    };
    format!(
        "policy.PodDisruptionBudgetSpec{{MinAvailable:{}, Selector:{}, MaxUnavailable:{}, \
         UnhealthyPodEvictionPolicy:{}}}",
        pointer("minAvailable", "intstr.IntOrString"),
        pointer("selector", "v1.LabelSelector"),
        pointer("maxUnavailable", "intstr.IntOrString"),
        pointer("unhealthyPodEvictionPolicy", "policy.UnhealthyPodEvictionPolicyType"),
    )
}

fn int_or_na(object: &Value, pointer: &str) -> Value {
    match object.pointer(pointer).filter(|v| !v.is_null()) {
        Some(value) => int_or_string_text(value).into(),
        None => "N/A".into(),
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Min Available",
                "string",
                0,
                "The minimum number of pods that must be available.",
                Cell::Computed(|p| int_or_na(p, "/spec/minAvailable")),
            ),
            column(
                "Max Unavailable",
                "string",
                0,
                "The maximum number of pods that may be unavailable.",
                Cell::Computed(|p| int_or_na(p, "/spec/maxUnavailable")),
            ),
            column(
                "Allowed Disruptions",
                "integer",
                0,
                "Calculated number of pods that may be disrupted at this time.",
                Cell::Computed(|p| super::workloads::count(p, "/status/disruptionsAllowed").into()),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    #[test]
    fn rules() {
        let s = PodDisruptionBudgetStrategy;
        let mut ok =
            json!({"spec": {"minAvailable": "50%", "selector": {"matchLabels": {"a": "b"}}}});
        s.decoded_create(&mut ok);
        assert!(s.validate(&ok).is_empty());
        assert_eq!(ok["status"]["expectedPods"], 0);
        let both = json!({"spec": {"minAvailable": 1, "maxUnavailable": "150%",
                                    "unhealthyPodEvictionPolicy": "Never"}});
        assert_eq!(
            text(&s.validate(&both)),
            [
                "spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:\
                 (*intstr.IntOrString)(…), Selector:(*v1.LabelSelector)(nil), MaxUnavailable:\
                 (*intstr.IntOrString)(…), UnhealthyPodEvictionPolicy:\
                 (*policy.UnhealthyPodEvictionPolicyType)(…)}: minAvailable and maxUnavailable \
                 cannot be both set",
                "spec.maxUnavailable: Invalid value: 150%: must not be greater than 100%",
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \
                 \"AlwaysAllow\", \"IfHealthyBudget\"",
            ]
        );
        assert_eq!(
            text(&s.validate(&json!({"spec": {"minAvailable": -1}}))),
            ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"]
        );
        assert_eq!(
            text(&s.validate(&json!({"spec": {"maxUnavailable": "x"}}))),
            ["spec.maxUnavailable: Invalid value: x: a valid percent string must be a numeric \
              string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation \
              is '[0-9]+%')"]
        );
    }

    #[test]
    fn columns() {
        let p = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 2},
                       "status": {"disruptionsAllowed": 1}});
        let table = render_table(&table(), &[p], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["web", "2", "N/A", 1, "<unknown>"]));
    }
}
