//! Escalation prevention: nobody can grant, through a Role, ClusterRole or binding, a permission
//! they do not hold themselves — unless they are in `system:masters`, or are explicitly allowed
//! the `escalate` verb on roles / the `bind` verb on the role a binding refers to
//! (`pkg/registry/rbac/{escalation_check.go,*/policybased}`, `validation.Covers`).
//!
//! The checks are pure functions over the [`Authorizer`] (for `escalate` and `bind`) and the
//! [`RuleResolver`] (for what the writer holds); the registry calls them before a write of one of
//! the four RBAC kinds, after validation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::attributes::{Attributes, Authorizer};
use super::forbidden::Forbidden;
use super::rbac::{RoleRefError, RuleResolver, aggregate_errors};
use super::rule::{ALL, GROUP, PolicyRule, RoleRef, go_quote_list};
use super::user::{SYSTEM_PRIVILEGED_GROUP, UserInfo};
use crate::meta::validation::go_quote;
use std::sync::Arc;

/// `Covers`: whether `owner` allows everything `servant` does, and the pieces (one verb, one
/// group, one resource, at most one name, or one verb and one URL) it does not.
pub fn covers(owner: &[PolicyRule], servant: &[PolicyRule]) -> (bool, Vec<PolicyRule>) {
    let uncovered: Vec<PolicyRule> = servant
        .iter()
        .flat_map(breakdown_rule)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect();
    (uncovered.is_empty(), uncovered)
}

/// `breakdownRule`: one rule per group × resource × verb (× name), and per URL × verb.
fn breakdown_rule(rule: &PolicyRule) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                let one = |names: Vec<String>| PolicyRule {
                    verbs: vec![verb.clone()],
                    api_groups: vec![group.clone()],
                    resources: vec![resource.clone()],
                    resource_names: names,
                    non_resource_urls: Vec::new(),
                };
                if rule.resource_names.is_empty() {
                    out.push(one(Vec::new()));
                } else {
                    out.extend(rule.resource_names.iter().map(|n| one(vec![n.clone()])));
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                verbs: vec![verb.clone()],
                non_resource_urls: vec![url.clone()],
                ..PolicyRule::default()
            });
        }
    }
    out
}

/// `ruleCovers`: an owner rule covers a broken-down rule when it has `*` or every value of each
/// list, every URL (exactly or by a `*` prefix), and no name restriction the sub-rule lacks.
fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let has_all = |set: &[String], items: &[String]| items.iter().all(|i| set.contains(i));
    let all_or =
        |set: &[String], items: &[String]| set.iter().any(|s| s == ALL) || has_all(set, items);
    let urls = sub.non_resource_urls.iter().all(|path| {
        owner.non_resource_urls.iter().any(|o| {
            o == path
                || o.strip_suffix('*').is_some_and(|_| path.starts_with(o.trim_end_matches('*')))
        })
    });
    let names = if sub.resource_names.is_empty() {
        owner.resource_names.is_empty()
    } else {
        owner.resource_names.is_empty() || has_all(&owner.resource_names, &sub.resource_names)
    };
    all_or(&owner.verbs, &sub.verbs)
        && all_or(&owner.api_groups, &sub.api_groups)
        && all_or(&owner.resources, &sub.resources)
        && names
        && urls
}

/// `CompactRules`: rules with one group, one resource, at most one name and nothing else are
/// merged when they differ only by verb. The merged ones follow the others.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut compacted = Vec::new();
    let mut simple: BTreeMap<(String, String, Option<String>), PolicyRule> = BTreeMap::new();
    for rule in rules {
        let is_simple = rule.resource_names.len() <= 1
            && rule.non_resource_urls.is_empty()
            && rule.api_groups.len() == 1
            && rule.resources.len() == 1;
        if !is_simple {
            compacted.push(rule.clone());
            continue;
        }
        let key = (
            rule.api_groups[0].clone(),
            rule.resources[0].clone(),
            rule.resource_names.first().cloned(),
        );
        simple
            .entry(key)
            .and_modify(|existing| existing.verbs.extend(rule.verbs.iter().cloned()))
            .or_insert_with(|| rule.clone());
    }
    compacted.extend(simple.into_values());
    compacted
}

/// `*` on everything: what setting an `aggregationRule` needs.
pub fn full_authority() -> Vec<PolicyRule> {
    vec![PolicyRule::resource(&[ALL], &[ALL], &[ALL]), PolicyRule::urls(&[ALL], &[ALL])]
}

/// `ConfirmNoEscalation`: `Ok` when what `user` holds in `namespace` covers `rules`; otherwise
/// kube's message listing the missing permissions (compacted, one per line, sorted).
pub fn confirm_no_escalation(
    resolver: &RuleResolver,
    user: &UserInfo,
    namespace: &str,
    rules: &[PolicyRule],
) -> Result<(), String> {
    let (owner, errors) = resolver.rules_for(user, namespace);
    let (covered, missing) = covers(&owner, rules);
    if covered {
        return Ok(());
    }
    let missing: BTreeSet<String> =
        compact_rules(&missing).iter().map(PolicyRule::compact_string).collect();
    let mut message = format!(
        "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quote(&user.name),
        go_quote_list(&user.groups),
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    if !errors.is_empty() {
        // kube prints its one aggregated resolution error as a Go slice: `[…]`.
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        message.push_str(&format!("; resolution errors: [{}]", aggregate_errors(&errors)));
    }
    Err(message)
}

/// Why a write of an RBAC object is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscalationError {
    /// 403: the writer would grant what they do not hold.
    #[error("{}", .0.message)]
    Forbidden(Forbidden),
    /// 404: the binding's role does not exist (so its rules cannot be checked). The message
    /// is the registry's: `roles.rbac.authorization.k8s.io "x" not found`.
    #[error("{}.rbac.authorization.k8s.io {} not found", .resource, go_quote(.name))]
    RoleNotFound { resource: String, name: String },
    /// 500: the rules could not be read.
    #[error("{0}")]
    Internal(String),
}

impl EscalationError {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            EscalationError::Forbidden(_) => 403,
            EscalationError::RoleNotFound { .. } => 404,
            EscalationError::Internal(_) => 500,
        }
    }
}

/// Which role kind a write is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    fn resource(self) -> &'static str {
        match self {
            RoleKind::Role => "roles",
            RoleKind::ClusterRole => "clusterroles",
        }
    }
}

/// One create or update of a Role, ClusterRole, RoleBinding or ClusterRoleBinding, as the
/// registry sees it after defaulting and validation.
#[derive(Debug, Clone, Copy)]
pub struct RbacWrite<'a> {
    pub user: &'a Arc<UserInfo>,
    /// The request's namespace (empty for cluster-scoped kinds).
    pub namespace: &'a str,
    /// The name in the request path: empty for a create by POST, as kube's RequestInfo has it.
    pub request_name: &'a str,
    /// The object to be written.
    pub object: &'a Value,
    /// The stored object, on update.
    pub old: Option<&'a Value>,
}

impl RbacWrite<'_> {
    fn name(&self) -> &str {
        self.object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
    }

    fn is_privileged(&self) -> bool {
        self.user.in_group(SYSTEM_PRIVILEGED_GROUP)
    }

    /// `IsOnlyMutatingGCFields`: an update that changes only owner references and finalizers
    /// (what the garbage collector writes) is not checked.
    fn only_gc_fields_change(&self) -> bool {
        let Some(old) = self.old else { return false };
        let strip = |object: &Value| {
            let mut copy = object.clone();
            if let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
                for key in [
                    "ownerReferences",
                    "finalizers",
                    "selfLink",
                    "managedFields",
                    "resourceVersion",
                ] {
                    meta.shift_remove(key);
                }
            }
            copy
        };
        strip(self.object) == strip(old)
    }

    fn forbidden(&self, resource: &str, message: &str) -> EscalationError {
        EscalationError::Forbidden(Forbidden::new(GROUP, resource, self.name(), message))
    }
}

/// The check on creating or updating a Role or ClusterRole: allowed for `system:masters`, for
/// a user allowed to `escalate` this role, for an update of garbage-collector fields only, and
/// when the writer holds every rule; an `aggregationRule` (set now or before) needs `*` on
/// everything.
pub fn check_role_write(
    authorizer: &dyn Authorizer,
    resolver: &RuleResolver,
    kind: RoleKind,
    write: RbacWrite<'_>,
) -> Result<(), EscalationError> {
    if write.is_privileged() {
        return Ok(());
    }
    let escalate =
        Attributes::resource(write.user.clone(), "escalate", GROUP, "*", kind.resource())
            .namespace(write.namespace)
            .name(write.request_name);
    if authorizer.authorize(&escalate).is_allowed() || write.only_gc_fields_change() {
        return Ok(());
    }
    let rules = PolicyRule::list_from_json(write.object.get("rules"));
    confirm_no_escalation(resolver, write.user, write.namespace, &rules)
        .map_err(|message| write.forbidden(kind.resource(), &message))?;
    let aggregated = |role: Option<&Value>| {
        role.and_then(|r| r.pointer("/aggregationRule/clusterRoleSelectors"))
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty())
    };
    if kind == RoleKind::ClusterRole
        && (aggregated(Some(write.object)) || aggregated(write.old))
        && confirm_no_escalation(resolver, write.user, write.namespace, &full_authority()).is_err()
    {
        return Err(write.forbidden(
            kind.resource(),
            "must have cluster-admin privileges to use the aggregationRule",
        ));
    }
    Ok(())
}

/// The check on creating or updating a RoleBinding (`namespace` set) or ClusterRoleBinding:
/// allowed for `system:masters`, for an update of garbage-collector fields only, for a user
/// allowed to `bind` the referenced role, and when the writer holds every rule of that role.
pub fn check_binding_write(
    authorizer: &dyn Authorizer,
    resolver: &RuleResolver,
    write: RbacWrite<'_>,
) -> Result<(), EscalationError> {
    if write.is_privileged() || write.only_gc_fields_change() {
        return Ok(());
    }
    let role_ref = RoleRef::from_json(write.object.get("roleRef"));
    let role_resource = match role_ref.kind.as_str() {
        "Role" => Some("roles"),
        "ClusterRole" => Some("clusterroles"),
        _ => None,
    };
    if let Some(resource) = role_resource {
        let bind =
            Attributes::resource(write.user.clone(), "bind", &role_ref.api_group, "*", resource)
                .namespace(write.namespace)
                .name(&role_ref.name);
        if authorizer.authorize(&bind).is_allowed() {
            return Ok(());
        }
    }
    let rules = resolver.role_ref_rules(&role_ref, write.namespace).map_err(|err| match err {
        RoleRefError::NotFound { name, .. } => EscalationError::RoleNotFound {
            resource: role_resource.unwrap_or_default().to_owned(),
            name,
        },
        other => EscalationError::Internal(aggregate_errors(&[other.to_string()])),
    })?;
    let resource = if write.namespace.is_empty() { "clusterrolebindings" } else { "rolebindings" };
    confirm_no_escalation(resolver, write.user, write.namespace, &rules)
        .map_err(|message| write.forbidden(resource, &message))
}
