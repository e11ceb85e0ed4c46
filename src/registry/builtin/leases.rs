//! `coordination.k8s.io/v1` Leases (`pkg/registry/coordination/lease`): the leader-election and
//! node-heartbeat records. Only the spec's types and ranges are checked.

use std::sync::Arc;

use serde_json::Value;

use super::{Kind, age_column, column, name_column, opt_int, opt_object, opt_str, str_at};
use crate::meta::validation::{FieldCause, is_qualified_name};
use crate::registry::object::parse_timestamp;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/leases",
};

/// The coordinated-leader-election strategies kube defines.
const LEASE_STRATEGIES: &[&str] = &["OldestEmulationVersion"];

pub fn resource() -> Resource {
    KIND.resource(Arc::new(LeaseStrategy), table())
}

/// Lease rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeaseStrategy;

impl Strategy for LeaseStrategy {
    fn validate(&self, lease: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if opt_object(lease, "spec", "spec", &mut causes).is_none() {
            return causes;
        }
        let spec = &lease["spec"];
        opt_str(spec, "holderIdentity", "spec.holderIdentity", &mut causes);
        for field in ["acquireTime", "renewTime"] {
            let path = format!("spec.{field}");
            if let Some(text) = opt_str(spec, field, &path, &mut causes)
                && parse_timestamp(text).is_none()
            {
                causes.push(FieldCause::type_invalid(
                    path,
                    text,
                    "must be an RFC 3339 timestamp (MicroTime)",
                ));
            }
        }
        let duration_path = "spec.leaseDurationSeconds";
        match opt_int(spec, "leaseDurationSeconds", duration_path, &mut causes) {
            Some(n) if n <= 0 => {
                causes.push(FieldCause::invalid(duration_path, n, "must be greater than 0"))
            }
            Some(n) if n > i64::from(i32::MAX) => {
                causes.push(FieldCause::type_invalid(duration_path, n, "must be a 32-bit integer"))
            }
            _ => {}
        }
        let transitions_path = "spec.leaseTransitions";
        match opt_int(spec, "leaseTransitions", transitions_path, &mut causes) {
            Some(n) if n < 0 => causes.push(FieldCause::invalid(
                transitions_path,
                n,
                "must be greater than or equal to 0",
            )),
            Some(n) if n > i64::from(i32::MAX) => causes.push(FieldCause::type_invalid(
                transitions_path,
                n,
                "must be a 32-bit integer",
            )),
            _ => {}
        }
        let strategy = opt_str(spec, "strategy", "spec.strategy", &mut causes).unwrap_or("");
        if !strategy.is_empty() {
            if strategy.contains('/') {
                for msg in is_qualified_name(strategy) {
                    causes.push(FieldCause::invalid("spec.strategy", strategy, &msg));
                }
            } else if !LEASE_STRATEGIES.contains(&strategy) {
                causes.push(FieldCause::not_supported("spec.strategy", strategy, LEASE_STRATEGIES));
            }
        }
        let preferred = opt_str(spec, "preferredHolder", "spec.preferredHolder", &mut causes);
        if preferred.is_some_and(|p| !p.is_empty()) && strategy.is_empty() {
            causes.push(FieldCause::forbidden(
                "spec.preferredHolder",
                "may only be specified if `strategy` is defined",
            ));
        }
        causes
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Holder",
                "string",
                0,
                &KIND.doc("/spec/holderIdentity"),
                Cell::Computed(|lease| str_at(lease, "/spec/holderIdentity").into()),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::table::render_table;
    use serde_json::json;

    fn text(lease: Value) -> Vec<String> {
        LeaseStrategy.validate(&lease).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_node_heartbeat_lease_is_valid() {
        let lease = json!({"metadata": {"name": "node-1"}, "spec": {
            "holderIdentity": "node-1", "leaseDurationSeconds": 40,
            "renewTime": "2024-01-01T00:00:00.123456Z", "acquireTime": "2024-01-01T00:00:00.000000Z",
            "leaseTransitions": 0}});
        assert!(text(lease).is_empty());
        assert!(text(json!({"metadata": {"name": "empty"}})).is_empty());
    }

    #[test]
    fn ranges_and_types_are_checked() {
        assert_eq!(
            text(json!({"spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1}})),
            [
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
        let causes = LeaseStrategy.validate(&json!({"spec": {
            "holderIdentity": 7, "renewTime": "yesterday", "leaseDurationSeconds": "15"}}));
        let fields: Vec<_> = causes.iter().map(|c| (c.field.as_str(), c.reason.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("spec.holderIdentity", "FieldValueTypeInvalid"),
                ("spec.renewTime", "FieldValueTypeInvalid"),
                ("spec.leaseDurationSeconds", "FieldValueTypeInvalid"),
            ]
        );
    }

    #[test]
    fn strategy_and_preferred_holder() {
        assert_eq!(
            text(json!({"spec": {"preferredHolder": "a"}})),
            ["spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"]
        );
        assert_eq!(
            text(json!({"spec": {"strategy": "Newest"}})),
            [
                "spec.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\""
            ]
        );
        assert!(
            text(json!({"spec": {"strategy": "example.com/mine", "preferredHolder": "a"}}))
                .is_empty()
        );
    }

    #[test]
    fn table_shows_the_holder() {
        let lease = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}});
        let table = render_table(&table(), &[lease], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["l", "me", "<unknown>"]));
        let r = resource();
        assert_eq!(r.gv.api_version(), "coordination.k8s.io/v1");
        assert_eq!(r.key(Some("kube-node-lease"), "n"), "/leases/kube-node-lease/n");
    }
}
