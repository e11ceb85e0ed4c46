//! `apps/v1` DaemonSets (`pkg/registry/apps/daemonset`): kube's defaults (rolling updates of
//! one unavailable pod and no surge, 10 revisions), the template generation kube's v1
//! conversion keeps in the `deprecated.daemonset.template.generation` annotation (1 on create,
//! one more whenever the template changes), a selector that must match the template and never
//! changes, and `status`. Nothing schedules pods: `status` is what clients write.

use std::sync::Arc;

use serde_json::{Value, json};

use super::columns::count as count_cell;
use super::deployments::go_label_selector;
use super::replicasets::validate_status;
use super::workloads::{
    TEMPLATE_CONTAINERS, container_columns, default_template, parse_selector, selector_column,
    selector_size, validate_always_running_template, validate_positive_int_or_percent,
    validate_selector_unchanged, validate_template_labels,
};
use super::{
    Kind, age_column, child_object, default_string, default_value, format_labels, invalid_rendered,
    name_column, opt_int, opt_object, opt_str, validate_nonnegative,
};
use crate::meta::labels::validate_label_selector;
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

const KIND: Kind = Kind {
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    plural: "daemonsets",
    short_names: &["ds"],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/daemonsets",
};

/// Where kube's v1 conversion keeps the internal `spec.templateGeneration`.
pub const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(DaemonSetStrategy), table()) }
}

/// DaemonSet rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaemonSetStrategy;

/// kube's `SetDefaults_DaemonSet` and the pod-template defaults.
fn default_daemon_set(object: &mut Value) {
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        if let Some(strategy) = child_object(spec, "updateStrategy") {
            default_string(strategy, "type", "RollingUpdate");
            if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
                && let Some(rolling) = child_object(strategy, "rollingUpdate")
            {
                default_value(rolling, "maxUnavailable", json!(1));
                default_value(rolling, "maxSurge", json!(0));
            }
        }
        default_value(spec, "revisionHistoryLimit", json!(10));
    }
    default_template(object, "/spec/template");
}

fn template_generation(object: &Value) -> i64 {
    object
        .pointer(&format!("/metadata/annotations/{}", TEMPLATE_GENERATION.replace('/', "~1")))
        .and_then(Value::as_str)
        .and_then(|g| g.parse().ok())
        .unwrap_or(0)
}

fn set_template_generation(object: &mut Value, generation: i64) {
    let Some(map) = object.as_object_mut() else { return };
    let Some(meta) = child_object(map, "metadata") else { return };
    if let Some(annotations) = child_object(meta, "annotations") {
        annotations.insert(TEMPLATE_GENERATION.into(), generation.to_string().into());
    }
}

impl Strategy for DaemonSetStrategy {
    /// The spec is a struct kube always decodes, so a body without one is defaulted too.
    fn set_defaults(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.entry("spec").or_insert_with(|| json!({}));
        }
        default_daemon_set(object);
    }

    fn prepare_for_create(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert(
                "status".into(),
                json!({"currentNumberScheduled": 0, "numberMisscheduled": 0,
                       "desiredNumberScheduled": 0, "numberReady": 0}),
            );
        }
        let generation = template_generation(object).max(1);
        set_template_generation(object, generation);
    }

    fn prepare_for_update(&self, object: &mut Value, old: &Value) {
        let mut generation = template_generation(old);
        if object.pointer("/spec/template") != old.pointer("/spec/template") {
            generation += 1;
        }
        set_template_generation(object, generation);
    }

    fn prepare_for_subresource_update(&self, subresource: &str, new: &mut Value, old: &Value) {
        if subresource != "status" {
            self.prepare_for_update(new, old);
        }
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let spec = opt_object(object, "spec", "spec", &mut causes).cloned().unwrap_or_default();
        validate_spec(&Value::Object(spec), &mut causes);
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(new);
        validate_selector_unchanged(new, old, "/spec/selector", "spec.selector", &mut causes);
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
                &[
                    "currentNumberScheduled",
                    "numberMisscheduled",
                    "desiredNumberScheduled",
                    "numberReady",
                    "updatedNumberScheduled",
                    "numberAvailable",
                    "numberUnavailable",
                ],
            );
        }
        self.validate_update(new, old)
    }
}

fn validate_spec(spec: &Value, causes: &mut Vec<FieldCause>) {
    let selector = spec.get("selector").filter(|s| !s.is_null());
    if let Some(selector) = selector {
        causes.extend(validate_label_selector(selector, "spec.selector"));
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    // A missing selector selects nothing, so the template's labels never match it.
    if let Some(parsed) = parse_selector(selector, "spec.selector", &mut Vec::new()) {
        if parsed.is_nothing() {
            causes.push(invalid_rendered(
                "spec.template.metadata.labels",
                &super::go_string_map(template.pointer("/metadata/labels")),
                "`selector` does not match template `labels`",
            ));
        } else {
            validate_template_labels(&parsed, template, "spec.template", causes);
        }
    }
    if let Some(selector) = selector
        && selector.is_object()
        && selector_size(selector) == 0
    {
        causes.push(invalid_rendered(
            "spec.selector",
            &go_label_selector(Some(selector)),
            "empty selector is invalid for daemonset",
        ));
    }
    validate_always_running_template(template, "spec.template", "DaemonSet", causes);
    let min_ready = opt_int(spec, "minReadySeconds", "spec.minReadySeconds", causes);
    validate_nonnegative(min_ready, "spec.minReadySeconds", causes);
    validate_update_strategy(spec, causes);
    let history = opt_int(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", causes);
    validate_nonnegative(history, "spec.revisionHistoryLimit", causes);
}

fn validate_update_strategy(spec: &Value, causes: &mut Vec<FieldCause>) {
    let path = "spec.updateStrategy";
    let strategy = opt_object(spec, "updateStrategy", path, causes).cloned().unwrap_or_default();
    let strategy = Value::Object(strategy);
    match opt_str(&strategy, "type", "spec.updateStrategy.type", causes).unwrap_or("") {
        "OnDelete" => {}
        "RollingUpdate" => {
            let Some(rolling) = strategy.get("rollingUpdate").filter(|r| !r.is_null()) else {
                causes.push(FieldCause::required("spec.updateStrategy.rollingUpdate", ""));
                return;
            };
            let unavailable_path = "spec.updateStrategy.rollingUpdate.maxUnavailable";
            let surge_path = "spec.updateStrategy.rollingUpdate.maxSurge";
            let unavailable = validate_positive_int_or_percent(
                rolling.get("maxUnavailable"),
                unavailable_path,
                causes,
            );
            let surge =
                validate_positive_int_or_percent(rolling.get("maxSurge"), surge_path, causes);
            let (has_unavailable, has_surge) =
                (unavailable.unwrap_or(0) != 0, surge.unwrap_or(0) != 0);
            if has_unavailable && has_surge {
                causes.push(invalid_rendered(
                    surge_path,
                    &super::workloads::int_or_string_text(&rolling["maxSurge"]),
                    "may not be set when maxUnavailable is non-zero",
                ));
            } else if !has_unavailable && !has_surge {
                causes
                    .push(FieldCause::required(unavailable_path, "cannot be 0 when maxSurge is 0"));
            }
        }
        _ => causes.push(FieldCause::not_supported(
            path,
            strategy.clone(),
            &["RollingUpdate", "OnDelete"],
        )),
    }
}

fn table() -> TableSpec {
    let status = |name: &str, pointer: &'static str| {
        KIND.field_column(name, "integer", 0, pointer, count_cell)
    };
    let [containers, images] = container_columns(1, TEMPLATE_CONTAINERS);
    TableSpec {
        columns: vec![
            name_column(),
            status("Desired", "/status/desiredNumberScheduled"),
            status("Current", "/status/currentNumberScheduled"),
            status("Ready", "/status/numberReady"),
            status("Up-to-date", "/status/updatedNumberScheduled"),
            status("Available", "/status/numberAvailable"),
            KIND.field_column(
                "Node Selector",
                "string",
                0,
                "/spec/template/spec/nodeSelector",
                |s| format_labels(s).into(),
            ),
            age_column(),
            containers,
            images,
            selector_column(&KIND, "/spec/selector"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn agent() -> Value {
        json!({"metadata": {"name": "agent"}, "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                         "spec": {"nodeSelector": {"disk": "ssd"},
                                  "containers": [{"name": "a", "image": "agent:1"}]}}}})
    }

    fn created(mut d: Value) -> Value {
        DaemonSetStrategy.decoded_create(&mut d);
        d
    }

    #[test]
    fn defaults_and_template_generation() {
        let d = created(agent());
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["metadata"]["annotations"][TEMPLATE_GENERATION], "1");
        assert_eq!(d["status"]["numberReady"], 0);
        assert!(DaemonSetStrategy.validate(&d).is_empty(), "{:?}", DaemonSetStrategy.validate(&d));
        let mut new = d.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("agent:2");
        DaemonSetStrategy.decoded_update(&mut new, &d);
        assert_eq!(new["metadata"]["annotations"][TEMPLATE_GENERATION], "2");
        let mut same = new.clone();
        DaemonSetStrategy.decoded_update(&mut same, &new);
        assert_eq!(same["metadata"]["annotations"][TEMPLATE_GENERATION], "2");
    }

    #[test]
    fn rules() {
        let mut d = agent();
        d["spec"]["selector"] = Value::Null;
        d["spec"]["updateStrategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "10%"}});
        assert_eq!(
            text(&DaemonSetStrategy.validate(&created(d))),
            [
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"agent\"}: \
                 `selector` does not match template `labels`",
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 10%: may not be set \
                 when maxUnavailable is non-zero",
            ]
        );
        let mut d = agent();
        d["spec"]["updateStrategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}});
        d["spec"]["template"]["spec"]["activeDeadlineSeconds"] = json!(5);
        assert_eq!(
            text(&DaemonSetStrategy.validate(&created(d))),
            [
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in \
                 DaemonSet is not Supported",
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when \
                 maxSurge is 0",
            ]
        );
        let mut d = agent();
        d["spec"]["updateStrategy"] = json!({"type": "Sometimes"});
        assert_eq!(
            text(&DaemonSetStrategy.validate(&created(d))),
            [
                "spec.updateStrategy: Unsupported value: {\"type\":\"Sometimes\"}: supported values: \
              \"RollingUpdate\", \"OnDelete\""
            ]
        );
    }

    #[test]
    fn columns() {
        let d = created(agent());
        let table = render_table(&table(), &[d], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["agent", 0, 0, 0, 0, 0, "disk=ssd", "<unknown>", "a", "agent:1", "app=agent"])
        );
    }
}
