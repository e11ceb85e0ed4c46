//! `admissionregistration.k8s.io/v1` MutatingWebhookConfigurations and
//! ValidatingWebhookConfigurations (`pkg/registry/admissionregistration`): cluster-scoped lists
//! of admission webhooks, each with the rules of the writes it is called for and where to call
//! it. The admission plugins that call them read them from the views
//! ([`crate::admission::webhook`]).
//!
//! Defaulting is kube's v1 `SetDefaults_*`: `failurePolicy: Fail`, `matchPolicy: Equivalent`,
//! empty `namespaceSelector`/`objectSelector`, `timeoutSeconds: 10`, each rule's
//! `scope: "*"`, a service reference's `port: 443`, and for mutating webhooks
//! `reinvocationPolicy: Never`. Validation is in [`validation`]. Both printers show
//! `NAME`, `WEBHOOKS` (how many) and `AGE`, as kube-apiserver's.

pub mod validation;

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Kind, age_column, column, default_string, default_value, name_column, object_items_mut,
};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const GROUP: &str = "admissionregistration.k8s.io";

const MUTATING: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "MutatingWebhookConfiguration",
    plural: "mutatingwebhookconfigurations",
    short_names: &[],
    categories: &["api-extensions"],
    namespaced: false,
    storage_prefix: "/mutatingwebhookconfigurations",
};

const VALIDATING: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "ValidatingWebhookConfiguration",
    plural: "validatingwebhookconfigurations",
    short_names: &[],
    categories: &["api-extensions"],
    namespaced: false,
    storage_prefix: "/validatingwebhookconfigurations",
};

/// Where the plugins find each kind's objects.
pub const MUTATING_PREFIX: &str = MUTATING.storage_prefix;
pub const VALIDATING_PREFIX: &str = VALIDATING.storage_prefix;

pub fn mutating_resource() -> Resource {
    MUTATING.resource(Arc::new(WebhookConfigurationStrategy { mutating: true }), table())
}

pub fn validating_resource() -> Resource {
    VALIDATING.resource(Arc::new(WebhookConfigurationStrategy { mutating: false }), table())
}

/// `NAME`, `WEBHOOKS`, `AGE`.
fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Webhooks",
                "integer",
                0,
                "Webhooks indicates the number of webhooks registered in this configuration",
                Cell::Computed(|c| super::array_at(c, "/webhooks").len().into()),
            ),
            age_column(),
        ],
    }
}

/// Both kinds: the same defaulting and validation, plus `reinvocationPolicy` for mutating ones.
#[derive(Debug, Clone, Copy)]
pub struct WebhookConfigurationStrategy {
    mutating: bool,
}

impl Strategy for WebhookConfigurationStrategy {
    fn set_defaults(&self, object: &mut Value) {
        default_webhooks(object, self.mutating);
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        validation::validate(object, self.mutating)
    }
}

/// kube's v1 defaults for every webhook of a configuration.
fn default_webhooks(object: &mut Value, mutating: bool) {
    let Some(object) = object.as_object_mut() else { return };
    for hook in object_items_mut(object, "webhooks") {
        default_string(hook, "failurePolicy", "Fail");
        default_string(hook, "matchPolicy", "Equivalent");
        default_value(hook, "namespaceSelector", json!({}));
        default_value(hook, "objectSelector", json!({}));
        default_value(hook, "timeoutSeconds", json!(10));
        if mutating {
            default_string(hook, "reinvocationPolicy", "Never");
        }
        for rule in object_items_mut(hook, "rules") {
            default_string(rule, "scope", "*");
        }
        if let Some(config) = hook.get_mut("clientConfig").and_then(Value::as_object_mut)
            && let Some(service) = config.get_mut("service").and_then(Value::as_object_mut)
        {
            default_value(service, "port", json!(443));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    #[test]
    fn defaults_as_kube_v1() {
        let mut config = json!({"webhooks": [{"name": "a.example.com",
            "clientConfig": {"service": {"namespace": "ns", "name": "svc"}},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                       "resources": ["pods"]}]}]});
        WebhookConfigurationStrategy { mutating: true }.decoded_create(&mut config);
        let hook = &config["webhooks"][0];
        assert_eq!(hook["failurePolicy"], "Fail");
        assert_eq!(hook["matchPolicy"], "Equivalent");
        assert_eq!(hook["namespaceSelector"], json!({}));
        assert_eq!(hook["objectSelector"], json!({}));
        assert_eq!(hook["timeoutSeconds"], 10);
        assert_eq!(hook["reinvocationPolicy"], "Never");
        assert_eq!(hook["rules"][0]["scope"], "*");
        assert_eq!(hook["clientConfig"]["service"]["port"], 443);
        assert_eq!(hook.get("sideEffects"), None, "v1 has no default sideEffects");
        let mut validating = json!({"webhooks": [{"name": "a.example.com"}]});
        WebhookConfigurationStrategy { mutating: false }.decoded_create(&mut validating);
        assert_eq!(validating["webhooks"][0].get("reinvocationPolicy"), None);
    }

    #[test]
    fn served_cluster_wide_with_kube_columns() {
        for resource in [mutating_resource(), validating_resource()] {
            assert!(!resource.namespaced);
            assert_eq!(resource.categories, ["api-extensions"]);
            let names: Vec<_> = resource.table.columns.iter().map(|c| c.name.clone()).collect();
            assert_eq!(names, ["Name", "Webhooks", "Age"]);
        }
        let objects = [json!({"metadata": {"name": "c"}, "webhooks": [{}, {}]})];
        let table = render_table(&table(), &objects, Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"][1], 2);
    }
}
