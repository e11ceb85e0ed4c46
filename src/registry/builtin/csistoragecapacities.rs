//! `storage.k8s.io/v1` CSIStorageCapacities (`pkg/registry/storage/csistoragecapacity`): the
//! capacity a CSI driver reports for a storage class in a topology segment. Namespaced, no
//! short name; the class and the topology are fixed at creation. Kube's printer shows no age.

use std::sync::Arc;

use serde_json::Value;

use super::csi::GROUP;
use super::{Kind, column, invalid_rendered, name_column, opt_str, str_at};
use crate::meta::labels::validate_label_selector;
use crate::meta::quantity::Quantity;
use crate::meta::validation::{FieldCause, is_dns1123_subdomain};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "CSIStorageCapacity",
    plural: "csistoragecapacities",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/csistoragecapacities",
};

const QUANTITY_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

pub fn resource() -> Resource {
    KIND.resource(Arc::new(CapacityStrategy), table())
}

/// CSIStorageCapacity rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct CapacityStrategy;

/// `ValidateNonnegativeQuantity` of an optional quantity field.
fn validate_quantity(object: &Value, key: &str, causes: &mut Vec<FieldCause>) {
    let Some(amount) = object.get(key).filter(|v| !v.is_null()) else { return };
    match Quantity::from_json(amount) {
        None => causes.push(FieldCause::type_invalid(key, amount.clone(), QUANTITY_FORMAT)),
        Some(q) if q.nanos() < 0 => causes.push(FieldCause::invalid(
            key,
            amount.clone(),
            "must be greater than or equal to 0",
        )),
        Some(_) => {}
    }
}

impl Strategy for CapacityStrategy {
    /// kube's `ValidateCSIStorageCapacity`.
    fn validate(&self, capacity: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if let Some(topology) = capacity.get("nodeTopology").filter(|t| !t.is_null()) {
            causes.extend(validate_label_selector(topology, "nodeTopology"));
        }
        let class = opt_str(capacity, "storageClassName", "storageClassName", &mut causes);
        for msg in is_dns1123_subdomain(class.unwrap_or("")) {
            causes.push(FieldCause::invalid("storageClassName", class.unwrap_or(""), &msg));
        }
        validate_quantity(capacity, "capacity", &mut causes);
        validate_quantity(capacity, "maximumVolumeSize", &mut causes);
        causes
    }

    /// kube's `ValidateCSIStorageCapacityUpdate`: only the class and the topology are checked,
    /// and they may not change.
    fn validate_update(&self, capacity: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let topology = capacity.get("nodeTopology");
        if topology != old.get("nodeTopology") {
            causes.push(invalid_rendered(
                "nodeTopology",
                &super::deployments::go_label_selector(topology),
                "field is immutable",
            ));
        }
        let class = capacity.get("storageClassName").cloned().unwrap_or(Value::Null);
        if class != old.get("storageClassName").cloned().unwrap_or(Value::Null) {
            causes.push(super::immutable("storageClassName", &class));
        }
        causes
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "StorageClassName",
                "string",
                0,
                &KIND.doc("/storageClassName"),
                Cell::Computed(|c| str_at(c, "/storageClassName").into()),
            ),
            column(
                "Capacity",
                "string",
                0,
                &KIND.doc("/capacity"),
                Cell::Computed(|c| {
                    let amount = c.get("capacity").and_then(Quantity::from_json);
                    amount.map_or_else(|| "<unset>".to_owned(), |q| q.canonical()).into()
                }),
            ),
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
    fn validation_immutability_and_row() {
        let c = json!({"metadata": {"name": "cap-1", "namespace": "kube-system"},
            "storageClassName": "fast", "capacity": "100Gi",
            "nodeTopology": {"matchLabels": {"topology.kubernetes.io/zone": "a"}}});
        assert!(CapacityStrategy.validate(&c).is_empty());
        let bad = json!({"metadata": {"name": "x"}, "capacity": "-1"});
        let texts = cause_texts(&CapacityStrategy.validate(&bad));
        assert!(
            texts[0].starts_with("storageClassName: Invalid value: \"\": a lowercase RFC 1123")
        );
        assert_eq!(texts[1], "capacity: Invalid value: \"-1\": must be greater than or equal to 0");
        let mut moved = c.clone();
        moved["storageClassName"] = json!("slow");
        moved["capacity"] = json!("50Gi");
        assert_eq!(
            cause_texts(&CapacityStrategy.validate_update(&moved, &c)),
            ["storageClassName: Invalid value: \"slow\": field is immutable"]
        );
        let unset = json!({"metadata": {"name": "y"}, "storageClassName": "fast"});
        let table =
            render_table(&table(), &[c, bad, unset], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["cap-1", "fast", "100Gi"]));
        assert_eq!(table["rows"][1]["cells"], json!(["x", "", "-1"]));
        assert_eq!(table["rows"][2]["cells"], json!(["y", "fast", "<unset>"]));
    }
}
