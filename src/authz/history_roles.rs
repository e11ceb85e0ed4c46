//! kube-ledger's bootstrap roles for object history (docs/history.md): reading an object's
//! history needs `get` on `<resource>/history`, restoring it `create` there (and the write
//! itself on the resource). They aggregate into kube's user-facing roles, derived from the
//! rules of kube's own `system:aggregate-to-{view,edit,admin}` so that each of `view`, `edit`
//! and `admin` may read the history of exactly the resources it may `get` (`view`: not
//! Secrets), and `edit` and `admin` may restore them. kube's roles themselves stay as kube
//! has them.

use serde_json::Value;

use super::bootstrap::{aggregate_to_admin, aggregate_to_edit, aggregate_to_view, cluster_role};
use super::rule::PolicyRule;

/// `kube-ledger:aggregate-to-view-history`, `…-edit-history`, `…-admin-history`.
pub fn cluster_roles() -> Vec<Value> {
    let view = gettable(&aggregate_to_view());
    let edit = gettable(&aggregate_to_edit());
    let admin = gettable(&aggregate_to_admin());
    // `view` aggregates into `edit`, and `edit` into `admin`: each role adds what its own
    // kube rules add, and may restore what it may read.
    let restorable = |gets: &[(String, String)], also: &[(String, String)]| {
        let mut all: Vec<(String, String)> = gets.iter().chain(also).cloned().collect();
        all.sort();
        all.dedup();
        all
    };
    vec![
        cluster_role(
            "kube-ledger:aggregate-to-view-history",
            &rules(&["get"], &view),
            Some("view"),
            None,
        ),
        cluster_role(
            "kube-ledger:aggregate-to-edit-history",
            &[rules(&["get"], &edit), rules(&["create"], &restorable(&view, &edit))].concat(),
            Some("edit"),
            None,
        ),
        cluster_role(
            "kube-ledger:aggregate-to-admin-history",
            &rules(&["create", "get"], &admin),
            Some("admin"),
            None,
        ),
    ]
}

/// The (group, resource) pairs, not subresources, that `rules` grant `get` on, sorted.
fn gettable(rules: &[PolicyRule]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for rule in rules.iter().filter(|r| r.verbs.iter().any(|v| v == "get" || v == "*")) {
        for group in &rule.api_groups {
            for resource in rule.resources.iter().filter(|r| !r.contains('/')) {
                pairs.push((group.clone(), resource.clone()));
            }
        }
    }
    pairs.sort();
    pairs.dedup();
    pairs
}

/// One rule per group: `verbs` on `<resource>/history` of each pair.
fn rules(verbs: &[&str], pairs: &[(String, String)]) -> Vec<PolicyRule> {
    let mut groups: Vec<&str> = pairs.iter().map(|(g, _)| g.as_str()).collect();
    groups.dedup();
    groups
        .into_iter()
        .map(|group| {
            let resources: Vec<String> = pairs
                .iter()
                .filter(|(g, _)| g == group)
                .map(|(_, r)| format!("{r}/history"))
                .collect();
            let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
            PolicyRule::resource(verbs, &[group], &resources)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(role: &Value, verb: &str) -> Vec<String> {
        PolicyRule::list_from_json(role.get("rules"))
            .iter()
            .filter(|r| r.verbs.iter().any(|v| v == verb))
            .flat_map(|r| {
                let group = r.api_groups[0].clone();
                r.resources.iter().map(move |res| format!("{group}:{res}")).collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn view_reads_the_history_of_what_it_gets_but_not_secrets() {
        let roles = cluster_roles();
        let view = granted(&roles[0], "get");
        assert!(view.contains(&":configmaps/history".to_owned()), "{view:?}");
        assert!(view.contains(&"apps:deployments/history".to_owned()), "{view:?}");
        assert!(!view.iter().any(|r| r.contains("secrets")), "{view:?}");
        assert!(granted(&roles[0], "create").is_empty());
        assert_eq!(
            roles[0]["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"],
            "true"
        );
    }

    #[test]
    fn edit_adds_secrets_and_restores_and_admin_adds_rbac() {
        let roles = cluster_roles();
        assert_eq!(
            granted(&roles[1], "get"),
            [":secrets/history", "coordination.k8s.io:leases/history"]
        );
        let restore = granted(&roles[1], "create");
        for expected in [":configmaps/history", ":secrets/history", "apps:deployments/history"] {
            assert!(restore.contains(&expected.to_owned()), "{expected}: {restore:?}");
        }
        let admin = granted(&roles[2], "get");
        assert!(admin.contains(&"rbac.authorization.k8s.io:roles/history".to_owned()), "{admin:?}");
        assert_eq!(admin, granted(&roles[2], "create"));
    }
}
