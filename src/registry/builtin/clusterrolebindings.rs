//! `rbac.authorization.k8s.io/v1` ClusterRoleBindings (`pkg/registry/rbac/clusterrolebinding`):
//! grant a ClusterRole in every namespace (and its non-resource URLs). Defaulting, validation and
//! columns are the RoleBindings' ([`super::rolebindings`]) with the cluster-scoped differences:
//! `roleRef.kind` must be `ClusterRole`, and a ServiceAccount subject must name its namespace.

use std::sync::Arc;

use super::Kind;
use super::rolebindings::{BindingStrategy, table};
use super::roles::GROUP;
use crate::registry::resource::Resource;

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/clusterrolebindings",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(BindingStrategy { namespaced: false }), table(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use serde_json::json;

    #[test]
    fn cluster_role_bindings_are_cluster_wide() {
        let r = resource();
        assert!(!r.namespaced);
        assert_eq!(r.kind, "ClusterRoleBinding");
        assert_eq!(r.key(None, "cluster-admin"), "/clusterrolebindings/cluster-admin");
        let mut binding = json!({"metadata": {"name": "cluster-admin"},
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "Group", "name": "system:masters"}]});
        r.strategy.decoded_create(&mut binding);
        assert!(r.strategy.validate(&binding).is_empty());
        let table = render_table(&r.table, &[binding], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"][1], "ClusterRole/cluster-admin");
        assert_eq!(table["rows"][0]["cells"][4], "system:masters");
        assert_eq!(
            table["columnDefinitions"][5]["description"],
            "ServiceAccounts in the clusterRoleBinding"
        );
    }
}
