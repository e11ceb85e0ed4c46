//! SelfSubjectRulesReview's rules: what each authorizer of the chain lists for a user in a
//! namespace, as kube's `authorizer.RuleResolver`s do. AlwaysAllow lists `*` for resources and
//! non-resource URLs, AlwaysDeny nothing, RBAC the rules of every role bound to the user there
//! (ClusterRoleBindings, then the namespace's RoleBindings). The `system:masters` authorizer
//! lists nothing, as in kube: an admin's rules come from the `cluster-admin` binding.

use std::sync::Arc;

use crate::authz::rule::PolicyRule;
use crate::authz::source::RuleSource;
use crate::authz::{AuthorizationMode, RuleResolver, UserInfo};

/// The rule resolver of one authorizer.
#[derive(Debug, Clone)]
pub enum RuleSet {
    AlwaysAllow,
    AlwaysDeny,
    Rbac(RuleResolver),
}

/// The rules of a user in a namespace, split as SelfSubjectRulesReview shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Rules naming resources.
    pub resource: Vec<PolicyRule>,
    /// Rules naming non-resource URLs.
    pub non_resource: Vec<PolicyRule>,
    /// Whether some authorizer could not list all it allows.
    pub incomplete: bool,
    /// What went wrong resolving them (`status.evaluationError`), if anything.
    pub evaluation_error: Option<String>,
}

/// The chain's rule resolvers, in `--authorization-mode` order.
#[derive(Debug, Clone, Default)]
pub struct RulesResolver {
    sets: Vec<RuleSet>,
}

impl RulesResolver {
    pub fn new(sets: Vec<RuleSet>) -> RulesResolver {
        RulesResolver { sets }
    }

    /// `--authorization-mode=AlwaysAllow`.
    pub fn always_allow() -> RulesResolver {
        RulesResolver::new(vec![RuleSet::AlwaysAllow])
    }

    /// The resolvers of `modes`, RBAC reading `source`.
    pub fn for_modes(modes: &[AuthorizationMode], source: &Arc<dyn RuleSource>) -> RulesResolver {
        let sets = modes
            .iter()
            .map(|mode| match mode {
                AuthorizationMode::AlwaysAllow => RuleSet::AlwaysAllow,
                AuthorizationMode::AlwaysDeny => RuleSet::AlwaysDeny,
                AuthorizationMode::Rbac => RuleSet::Rbac(RuleResolver::new(source.clone())),
            })
            .collect();
        RulesResolver::new(sets)
    }

    /// kube's union `RulesFor`: every resolver's rules, in order.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> Rules {
        let mut rules = Rules::default();
        let mut errors = Vec::new();
        for set in &self.sets {
            match set {
                RuleSet::AlwaysAllow => {
                    rules.resource.push(PolicyRule::resource(&["*"], &["*"], &["*"]));
                    rules.non_resource.push(PolicyRule::urls(&["*"], &["*"]));
                }
                RuleSet::AlwaysDeny => {}
                RuleSet::Rbac(resolver) => {
                    let (found, failed) = resolver.rules_for(user, namespace);
                    for rule in found {
                        if !rule.resources.is_empty() {
                            rules
                                .resource
                                .push(PolicyRule { non_resource_urls: Vec::new(), ..rule.clone() });
                        }
                        if !rule.non_resource_urls.is_empty() {
                            rules.non_resource.push(PolicyRule {
                                verbs: rule.verbs.clone(),
                                non_resource_urls: rule.non_resource_urls.clone(),
                                ..PolicyRule::default()
                            });
                        }
                    }
                    errors.extend(failed.iter().map(ToString::to_string));
                }
            }
        }
        if !errors.is_empty() {
            rules.evaluation_error = Some(crate::authz::rbac::aggregate_errors(&errors));
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::InMemoryRules;
    use serde_json::json;

    #[test]
    fn rbac_rules_split_into_resource_and_non_resource_rules_with_errors_reported() {
        let rules = Arc::new(InMemoryRules::new());
        rules.apply(&json!({"kind": "ClusterRole", "metadata": {"name": "mixed"}, "rules": [
            {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["p"]},
            {"verbs": ["get"], "nonResourceURLs": ["/metrics"]},
        ]}));
        rules.apply(&json!({"kind": "ClusterRoleBinding", "metadata": {"name": "b"},
            "roleRef": {"kind": "ClusterRole", "name": "mixed"},
            "subjects": [{"kind": "Group", "name": "ops"}]}));
        rules.apply(
            &json!({"kind": "RoleBinding", "metadata": {"name": "gone", "namespace": "ns"},
            "roleRef": {"kind": "Role", "name": "missing"},
            "subjects": [{"kind": "Group", "name": "ops"}]}),
        );
        let source: Arc<dyn RuleSource> = rules;
        let modes = [AuthorizationMode::Rbac, AuthorizationMode::AlwaysDeny];
        let resolver = RulesResolver::for_modes(&modes, &source);
        let user = UserInfo::new("u", &["ops"]);
        let found = resolver.rules_for(&user, "ns");
        assert_eq!(
            found.resource,
            [PolicyRule::resource(&["get"], &[""], &["pods"]).names(&["p"])]
        );
        assert_eq!(found.non_resource, [PolicyRule::urls(&["get"], &["/metrics"])]);
        assert!(!found.incomplete);
        assert_eq!(
            found.evaluation_error.as_deref(),
            Some("role.rbac.authorization.k8s.io \"missing\" not found")
        );
        let stranger = resolver.rules_for(&UserInfo::new("x", &[]), "ns");
        assert_eq!(stranger, Rules::default());
    }
}
