//! `v1` PodTemplates (`pkg/registry/core/podtemplate`, `ValidatePodTemplate*`): a stored pod
//! template, namespaced, with the pod-template defaults and kube's pod-template validation at
//! `template.…`. Kube's printer shows no age for them.

use std::sync::Arc;

use serde_json::Value;

use super::podspec::{default_pod_spec, validate_pod_template};
use super::workloads::container_columns;
use super::{Kind, column, format_labels, name_column};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "PodTemplate",
    plural: "podtemplates",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/podtemplates",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(PodTemplateStrategy), table())
}

/// PodTemplate rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct PodTemplateStrategy;

fn default_template(object: &mut Value) {
    let spec = object
        .get_mut("template")
        .and_then(Value::as_object_mut)
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut);
    if let Some(spec) = spec {
        default_pod_spec(spec);
    }
}

impl Strategy for PodTemplateStrategy {
    fn set_defaults(&self, object: &mut Value) {
        default_template(object);
    }

    /// kube's `ValidatePodTemplate` (and `ValidatePodTemplateUpdate`, which checks the same).
    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        validate_pod_template(object.get("template").unwrap_or(&Value::Null), "template")
    }
}

fn table() -> TableSpec {
    let [containers, images] = container_columns(0, "/template/spec/containers");
    TableSpec {
        columns: vec![
            name_column(),
            containers,
            images,
            column(
                "Pod Labels",
                "string",
                0,
                "The labels for the pod template.",
                Cell::Field {
                    pointer: "/template/metadata/labels",
                    show: |l| format_labels(l).into(),
                },
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use serde_json::json;

    #[test]
    fn defaults_validation_and_cells() {
        let mut t = json!({"metadata": {"name": "web"}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}});
        PodTemplateStrategy.decoded_create(&mut t);
        assert_eq!(t["template"]["spec"]["restartPolicy"], "Always");
        assert_eq!(t["template"]["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert!(PodTemplateStrategy.validate(&t).is_empty());
        let table = render_table(&table(), &[t], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["web", "nginx", "nginx:1.25", "app=web"]));

        let empty = json!({"metadata": {"name": "x"}});
        assert_eq!(
            cause_texts(&PodTemplateStrategy.validate(&empty)),
            ["template.spec.containers: Required value"]
        );
    }
}
