//! `v1` ServiceAccounts (`pkg/registry/core/serviceaccount`): `secrets` references keep only
//! their names.

use std::sync::Arc;

use serde_json::Value;

use super::columns::item_count;
use super::{Kind, age_column, name_column, object_items, opt_array, opt_bool};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    short_names: &["sa"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/serviceaccounts",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(ServiceAccountStrategy), table())
}

/// ServiceAccount rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceAccountStrategy;

/// kube's `cleanSecretReferences`: a `secrets` entry is reduced to its `name`.
fn clean_secret_references(sa: &mut Value) {
    let Some(secrets) = sa.get_mut("secrets").and_then(Value::as_array_mut) else { return };
    for secret in secrets.iter_mut() {
        if let Some(reference) = secret.as_object_mut() {
            let name = reference.shift_remove("name");
            reference.clear();
            if let Some(name) = name {
                reference.insert("name".into(), name);
            }
        }
    }
}

impl Strategy for ServiceAccountStrategy {
    /// kube-apiserver's serviceaccounts storage sets `ReturnDeletedObject`.
    fn return_deleted_object(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, sa: &mut Value) {
        clean_secret_references(sa);
    }

    fn prepare_for_update(&self, sa: &mut Value, _old: &Value) {
        clean_secret_references(sa);
    }

    fn validate(&self, sa: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        for field in ["secrets", "imagePullSecrets"] {
            let items = opt_array(sa, field, field, &mut causes);
            object_items(items, field, &mut causes);
        }
        opt_bool(sa, "automountServiceAccountToken", "automountServiceAccountToken", &mut causes);
        causes
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            KIND.field_column("Secrets", "string", 0, "/secrets", item_count),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use serde_json::json;

    #[test]
    fn secret_references_keep_only_names() {
        let mut sa = json!({"metadata": {"name": "sa"},
                            "secrets": [{"name": "tok", "namespace": "x", "uid": "u"}, {"kind": "Secret"}]});
        ServiceAccountStrategy.decoded_create(&mut sa);
        assert_eq!(sa["secrets"], json!([{"name": "tok"}, {}]));
        assert!(ServiceAccountStrategy.validate(&sa).is_empty());
    }

    #[test]
    fn wrong_types_are_reported() {
        let sa = json!({"secrets": ["x"], "automountServiceAccountToken": "yes"});
        let causes = ServiceAccountStrategy.validate(&sa);
        let fields: Vec<_> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["secrets[0]", "automountServiceAccountToken"]);
    }

    #[test]
    fn table_counts_secrets() {
        let sa = json!({"metadata": {"name": "default"}, "secrets": [{"name": "a"}]});
        let table = render_table(&table(), &[sa], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["default", 1, "<unknown>"]));
        assert_eq!(resource().short_names, ["sa"]);
    }
}
