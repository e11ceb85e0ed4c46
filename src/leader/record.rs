//! The leader-election record as a `coordination.k8s.io/v1` Lease holds it (client-go's
//! `LeaderElectionRecord` and its `LeaseLock` mapping): read from a Lease's `spec`, written back
//! into one.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

/// What a Lease's `spec` says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaseRecord {
    /// `spec.holderIdentity`; empty when nobody holds it (released).
    pub holder_identity: String,
    /// `spec.leaseDurationSeconds`: how long others wait from when they saw this record.
    pub lease_duration_seconds: i64,
    /// `spec.acquireTime`, a MicroTime: when the current holder took the lease.
    pub acquire_time: Option<String>,
    /// `spec.renewTime`, a MicroTime: the holder's last renewal.
    pub renew_time: Option<String>,
    /// `spec.leaseTransitions`: how many times the lease changed hands.
    pub lease_transitions: i64,
}

impl LeaseRecord {
    /// The record in a Lease object (a Lease without a spec holds an empty record).
    pub fn of_lease(lease: &Value) -> LeaseRecord {
        let spec = &lease["spec"];
        let text = |field: &str| spec.get(field).and_then(Value::as_str).map(str::to_owned);
        let int = |field: &str| spec.get(field).and_then(Value::as_i64).unwrap_or(0);
        LeaseRecord {
            holder_identity: text("holderIdentity").unwrap_or_default(),
            lease_duration_seconds: int("leaseDurationSeconds"),
            acquire_time: text("acquireTime"),
            renew_time: text("renewTime"),
            lease_transitions: int("leaseTransitions"),
        }
    }

    /// The Lease's `spec` for this record, in the Go type's field order.
    pub fn to_spec(&self) -> Value {
        let mut spec = Map::new();
        spec.insert("holderIdentity".into(), self.holder_identity.clone().into());
        spec.insert("leaseDurationSeconds".into(), self.lease_duration_seconds.into());
        if let Some(acquired) = &self.acquire_time {
            spec.insert("acquireTime".into(), acquired.clone().into());
        }
        if let Some(renewed) = &self.renew_time {
            spec.insert("renewTime".into(), renewed.clone().into());
        }
        spec.insert("leaseTransitions".into(), self.lease_transitions.into());
        Value::Object(spec)
    }

    /// A new Lease `namespace/name` holding this record, for a create.
    pub fn to_lease(&self, namespace: &str, name: &str) -> Value {
        json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
            "spec": self.to_spec(),
        })
    }

    /// `lease` (as read, with its resourceVersion: the update is conditional on it) holding this
    /// record instead of its own.
    pub fn into_lease(&self, mut lease: Value) -> Value {
        lease["spec"] = self.to_spec();
        lease
    }
}

/// A MicroTime (`2006-01-02T15:04:05.000000Z07:00`, always UTC here).
pub fn micro_time(at: SystemTime) -> String {
    humantime::format_rfc3339_micros(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_survives_a_round_trip_through_a_lease() {
        let record = LeaseRecord {
            holder_identity: "host_1".into(),
            lease_duration_seconds: 15,
            acquire_time: Some("2026-12-07T17:00:00.000001Z".into()),
            renew_time: Some("2026-12-07T17:00:02.000001Z".into()),
            lease_transitions: 3,
        };
        let lease = record.to_lease("kube-system", "kube-ledger-controllers");
        assert_eq!(lease["metadata"]["namespace"], "kube-system");
        let keys: Vec<&String> = lease["spec"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "holderIdentity",
                "leaseDurationSeconds",
                "acquireTime",
                "renewTime",
                "leaseTransitions"
            ]
        );
        assert_eq!(LeaseRecord::of_lease(&lease), record);
    }

    #[test]
    fn a_lease_without_a_spec_is_held_by_nobody() {
        let record = LeaseRecord::of_lease(&json!({"metadata": {"name": "x"}}));
        assert_eq!(record, LeaseRecord::default());
    }

    #[test]
    fn micro_times_have_six_digits() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_500_000);
        assert_eq!(micro_time(at), "1970-01-01T00:00:01.500000Z");
    }
}
