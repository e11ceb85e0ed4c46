//! The resources of `ledger.kube-ledger.io/v1` that read across objects (docs/history.md, "Across
//! objects"): `logpositions`, `deletedobjects` and `replay`. They are registered like any
//! built-in, so discovery, `kubectl api-resources`, RBAC and `--runtime-config` see them, but
//! they store nothing: their strategy names them served by their own endpoint
//! (`crate::api::ledger`), which reads the log.

use std::sync::Arc;

use super::Kind;
use crate::history::{GROUP, VERSION};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

/// `GET …/logpositions?time=T`: the log's position at a time.
const LOG_POSITIONS: Kind = Kind {
    group: GROUP,
    version: VERSION,
    kind: "LogPosition",
    plural: "logpositions",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/ledger.kube-ledger.io/logpositions",
};

/// `GET …/namespaces/{ns}/deletedobjects` (and cluster-wide): what was deleted, by whom.
const DELETED_OBJECTS: Kind = Kind {
    group: GROUP,
    version: VERSION,
    kind: "DeletedObject",
    plural: "deletedobjects",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/ledger.kube-ledger.io/deletedobjects",
};

/// `GET …/replay?from&to`: the log's events as JSON lines.
const REPLAY: Kind = Kind {
    group: GROUP,
    version: VERSION,
    kind: "Replay",
    plural: "replay",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/ledger.kube-ledger.io/replay",
};

/// The three resources, in registration order.
pub fn resources() -> Vec<Resource> {
    vec![
        resource(&LOG_POSITIONS, &["get", "list"]),
        resource(&DELETED_OBJECTS, &["list"]),
        resource(&REPLAY, &["get"]),
    ]
}

fn resource(kind: &Kind, verbs: &'static [&'static str]) -> Resource {
    let mut resource = kind.resource(Arc::new(Ledger { verbs }), TableSpec { columns: Vec::new() });
    // `replay` names an action, not a kind of object: singular and plural are the same.
    resource.singular = kind.plural.strip_suffix('s').unwrap_or(kind.plural).to_owned();
    resource
}

/// The strategy of a ledger resource: only the verbs its endpoint answers.
#[derive(Debug, Clone, Copy)]
struct Ledger {
    verbs: &'static [&'static str],
}

impl Strategy for Ledger {
    fn own_endpoint(&self) -> Option<&'static [&'static str]> {
        Some(self.verbs)
    }
}
