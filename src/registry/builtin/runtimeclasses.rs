//! `node.k8s.io/v1` RuntimeClasses (`pkg/registry/node/runtimeclass`, `pkg/apis/node/
//! validation`): the container runtime configurations pods may name. Cluster-scoped, no short
//! name. `handler` is a DNS label and fixed at creation; an update checks nothing else, as
//! kube's does.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use super::podspec::validate_toleration;
use super::{
    Kind, age_column, column, name_column, object_items, opt_array, opt_object, opt_str,
    opt_string_map, str_at,
};
use crate::meta::quantity::Quantity;
use crate::meta::validation::{
    CauseType, FieldCause, go_quote, name_is_dns_label, validate_labels,
};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "node.k8s.io",
    version: "v1",
    kind: "RuntimeClass",
    plural: "runtimeclasses",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/runtimeclasses",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(RuntimeClassStrategy), table())
}

/// RuntimeClass rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuntimeClassStrategy;

/// Go's `%#v` of a `core.Toleration`, as kube's duplicate message prints it.
fn go_toleration(toleration: &Value) -> String {
    let seconds = match toleration.get("tolerationSeconds").and_then(Value::as_i64) {
        Some(s) => format!("(*int64)({s})"),
        None => "(*int64)(nil)".to_owned(),
    };
    format!(
        "core.Toleration{{Key:{}, Operator:{}, Value:{}, Effect:{}, TolerationSeconds:{seconds}}}",
        go_quote(str_at(toleration, "/key")),
        go_quote(str_at(toleration, "/operator")),
        go_quote(str_at(toleration, "/value")),
        go_quote(str_at(toleration, "/effect")),
    )
}

/// kube's `validateOverhead`: the fixed overhead checked as container limits, at kube's path
/// `overhead.limits[<name>]`.
fn validate_overhead(class: &Value, causes: &mut Vec<FieldCause>) {
    let Some(overhead) = opt_object(class, "overhead", "overhead", causes) else { return };
    let overhead = Value::Object(overhead.clone());
    let Some(fixed) = opt_object(&overhead, "podFixed", "overhead.podFixed", causes) else {
        return;
    };
    for (name, amount) in fixed {
        let path = format!("overhead.limits[{name}]");
        match Quantity::from_json(amount) {
            None => causes.push(FieldCause::type_invalid(
                path,
                amount.clone(),
                "quantities must match the regular expression \
                 '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            )),
            Some(q) if q.nanos() < 0 => causes.push(FieldCause::invalid(
                path,
                amount.clone(),
                "must be greater than or equal to 0",
            )),
            Some(_) => {}
        }
    }
}

/// kube's `validateScheduling`: node selector labels and unique, valid tolerations.
fn validate_scheduling(class: &Value, causes: &mut Vec<FieldCause>) {
    let Some(scheduling) = opt_object(class, "scheduling", "scheduling", causes) else { return };
    let scheduling = Value::Object(scheduling.clone());
    let selector = opt_string_map(&scheduling, "nodeSelector", "scheduling.nodeSelector", causes);
    causes.extend(validate_labels(selector, "scheduling.nodeSelector"));
    let path = "scheduling.tolerations";
    let tolerations = opt_array(&scheduling, "tolerations", path, causes);
    let mut seen = BTreeSet::new();
    for (i, toleration) in object_items(tolerations, path, causes) {
        validate_toleration(toleration, &format!("{path}[{i}]"), causes);
        let key =
            ["key", "operator", "value", "effect"].map(|k| str_at(toleration, &format!("/{k}")));
        if !seen.insert(key) {
            causes.push(FieldCause {
                field: format!("{path}[{i}]"),
                reason: CauseType::FieldValueDuplicate,
                message: format!("Duplicate value: {}", go_toleration(toleration)),
            });
        }
    }
}

impl Strategy for RuntimeClassStrategy {
    /// kube's `ValidateRuntimeClass`.
    fn validate(&self, class: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let handler = opt_str(class, "handler", "handler", &mut causes).unwrap_or("");
        for msg in name_is_dns_label(handler, false) {
            causes.push(FieldCause::invalid("handler", handler, &msg));
        }
        validate_overhead(class, &mut causes);
        validate_scheduling(class, &mut causes);
        causes
    }

    /// kube's `ValidateRuntimeClassUpdate`: only that the handler stays.
    fn validate_update(&self, class: &Value, old: &Value) -> Vec<FieldCause> {
        let handler = class.get("handler").cloned().unwrap_or(Value::Null);
        if handler != old.get("handler").cloned().unwrap_or(Value::Null) {
            return vec![super::immutable("handler", &handler)];
        }
        Vec::new()
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            // kube describes this column by ObjectMeta's doc of a `handler` key it lacks: "".
            column("Handler", "string", 0, "", Cell::Computed(|c| str_at(c, "/handler").into())),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::table::render_table;
    use serde_json::json;

    #[test]
    fn handler_overhead_and_scheduling() {
        let class = json!({"metadata": {"name": "gvisor"}, "handler": "runsc",
            "overhead": {"podFixed": {"memory": "120Mi", "cpu": "250m"}},
            "scheduling": {"nodeSelector": {"runtime": "gvisor"},
                "tolerations": [{"key": "runtime", "operator": "Equal", "value": "gvisor",
                    "effect": "NoSchedule"}]}});
        assert!(RuntimeClassStrategy.validate(&class).is_empty());
        let table = render_table(
            &table(),
            std::slice::from_ref(&class),
            Default::default(),
            Default::default(),
        );
        assert_eq!(
            table["rows"][0]["cells"].as_array().unwrap()[..2],
            [json!("gvisor"), json!("runsc")]
        );

        let bad = json!({"metadata": {"name": "x"}, "handler": "Run_SC",
            "overhead": {"podFixed": {"cpu": "-1"}},
            "scheduling": {"tolerations": [{"key": "a", "operator": "Exists"},
                {"key": "a", "operator": "Exists"}]}});
        assert_eq!(
            cause_texts(&RuntimeClassStrategy.validate(&bad)),
            [
                "handler: Invalid value: \"Run_SC\": a lowercase RFC 1123 label must consist of \
                 lower case alphanumeric characters or '-', and must start and end with an \
                 alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for \
                 validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "scheduling.tolerations[1]: Duplicate value: core.Toleration{Key:\"a\", \
                 Operator:\"Exists\", Value:\"\", Effect:\"\", TolerationSeconds:(*int64)(nil)}",
            ]
        );
        let missing = json!({"metadata": {"name": "x"}});
        assert!(
            cause_texts(&RuntimeClassStrategy.validate(&missing))[0]
                .starts_with("handler: Invalid value: \"\"")
        );

        let mut changed = class.clone();
        changed["handler"] = json!("kata");
        changed["overhead"] = json!({"podFixed": {"cpu": "-5"}});
        assert_eq!(
            cause_texts(&RuntimeClassStrategy.validate_update(&changed, &class)),
            ["handler: Invalid value: \"kata\": field is immutable"]
        );
    }
}
