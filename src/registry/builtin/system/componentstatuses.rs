//! `v1` ComponentStatuses (`cs`, deprecated since 1.19): read-only, computed on each request
//! as kube-apiserver's `componentstatus` REST does — one object per component with a single
//! `Healthy` condition — and never stored. kube-apiserver probes etcd and the scheduler's and
//! controller-manager's `/healthz`; kube-ledger answers for what it is: `etcd-0` is its storage
//! (healthy when it answers a revision read), `controller-manager` the controllers it runs in
//! process (healthy), and `scheduler` unhealthy, as there is none.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::super::{Kind, column, name_column};
use crate::meta::status::ApiError;
use crate::registry::resource::Resource;
use crate::registry::store::Store;
use crate::registry::strategy::{Computed, Strategy};
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "ComponentStatus",
    plural: "componentstatuses",
    short_names: &["cs"],
    categories: &[],
    namespaced: false,
    storage_prefix: "/componentstatuses",
};

/// kube-apiserver's warning on every request to ComponentStatuses.
pub const DEPRECATION_WARNING: &str = "v1 ComponentStatus is deprecated in v1.19+";

pub fn resource() -> Resource {
    KIND.resource(Arc::new(ComponentStatuses), table())
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ComponentStatuses;

impl Strategy for ComponentStatuses {
    fn computed(&self) -> Option<&dyn Computed> {
        Some(self)
    }

    fn request_warning(&self) -> Option<&str> {
        Some(DEPRECATION_WARNING)
    }
}

fn status(name: &str, healthy: bool, message: &str, error: &str) -> Value {
    let mut condition =
        json!({"type": "Healthy", "status": if healthy { "True" } else { "False" }});
    if !message.is_empty() {
        condition["message"] = message.into();
    }
    if !error.is_empty() {
        condition["error"] = error.into();
    }
    json!({"kind": "ComponentStatus", "apiVersion": "v1", "metadata": {"name": name},
           "conditions": [condition]})
}

#[async_trait]
impl Computed for ComponentStatuses {
    async fn objects(&self, store: &Store) -> Result<Vec<Value>, ApiError> {
        let etcd = match store.storage.current_revision().await {
            Ok(_) => status("etcd-0", true, "ok", ""),
            Err(err) => status("etcd-0", false, "", &err.to_string()),
        };
        Ok(vec![
            status("controller-manager", true, "ok", ""),
            etcd,
            status("scheduler", false, "", "no kube-scheduler runs beside kube-ledger"),
        ])
    }
}

/// kubectl's STATUS cell: `Healthy`, `Unhealthy` or `Unknown` from the `Healthy` condition.
fn health(cs: &Value) -> Value {
    let conditions = cs.get("conditions").and_then(Value::as_array);
    let healthy = conditions.into_iter().flatten().find(|c| c["type"] == "Healthy");
    match healthy.and_then(|c| c["status"].as_str()) {
        Some("True") => "Healthy",
        Some("False") => "Unhealthy",
        _ => "Unknown",
    }
    .into()
}

fn condition_field(cs: &Value, field: &str) -> Value {
    cs.pointer(&format!("/conditions/0/{field}")).and_then(Value::as_str).unwrap_or("").into()
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Status",
                "string",
                0,
                "Status of the component conditions",
                Cell::Computed(health),
            ),
            column(
                "Message",
                "string",
                0,
                "Message of the component conditions",
                Cell::Computed(|cs| condition_field(cs, "message")),
            ),
            column(
                "Error",
                "string",
                0,
                "Error of the component conditions",
                Cell::Computed(|cs| condition_field(cs, "error")),
            ),
        ],
    }
}
