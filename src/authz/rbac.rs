//! The RBAC authorizer (kube's `plugin/pkg/auth/authorizer/rbac` over
//! `pkg/registry/rbac/validation/rule.go`): a request is allowed when some rule of some role
//! bound to the user allows it. ClusterRoleBindings are visited first, then the RoleBindings of
//! the request's namespace; the first allowing rule ends the search and names its binding in the
//! reason. RBAC never denies: without an allowing rule it has no opinion, and its reason lists
//! the bindings it could not resolve (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not
//! found`).
//!
//! [`RuleResolver`] is the rule lookup on its own — what the escalation checks and
//! SelfSubjectRulesReview need; [`RbacAuthorizer`] adds the per-request-shape decision cache.

use std::fmt;
use std::sync::Arc;

use super::attributes::{Attributes, Authorizer, Decision};
use super::cache::{CacheStats, DecisionCache};
use super::rule::{Binding, PolicyRule, RoleRef, Subject};
use super::source::{RuleSource, SourceError};
use super::user::{UserInfo, matches_service_account};

/// Why a binding's role could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleRefError {
    /// The Role or ClusterRole does not exist. Displayed as the authorizer's informers word it
    /// (singular resource: `role.rbac.authorization.k8s.io "x" not found`).
    #[error("{}.rbac.authorization.k8s.io {} not found", .kind.to_lowercase(), crate::meta::validation::go_quote(.name))]
    NotFound { kind: String, name: String },
    /// `roleRef.kind` is neither `Role` nor `ClusterRole`.
    #[error("unsupported role reference kind: {}", crate::meta::validation::go_quote(.0))]
    UnsupportedKind(String),
    /// The source could not answer.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Finds the rules that apply to a user, from a [`RuleSource`].
#[derive(Debug, Clone)]
pub struct RuleResolver {
    source: Arc<dyn RuleSource>,
}

/// One rule a visit found, and which binding of which subject granted it.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub binding: &'a Binding,
    pub subject: &'a Subject,
    pub rule: &'a PolicyRule,
}

impl fmt::Display for Grant<'_> {
    /// kube's `clusterRoleBindingDescriber` / `roleBindingDescriber`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.binding;
        let quote = crate::meta::validation::go_quote;
        let subject = describe_subject(self.subject, &b.namespace);
        if b.namespace.is_empty() {
            write!(f, "ClusterRoleBinding {}", quote(&b.name))?;
        } else {
            write!(f, "RoleBinding {}", quote(&format!("{}/{}", b.name, b.namespace)))?;
        }
        write!(f, " of {} {} to {subject}", b.role_ref.kind, quote(&b.role_ref.name))
    }
}

fn describe_subject(subject: &Subject, binding_namespace: &str) -> String {
    let quote = crate::meta::validation::go_quote;
    match subject.kind.as_str() {
        "ServiceAccount" => {
            let namespace =
                if subject.namespace.is_empty() { binding_namespace } else { &subject.namespace };
            format!("{} {}", subject.kind, quote(&format!("{}/{namespace}", subject.name)))
        }
        _ => format!("{} {}", subject.kind, quote(&subject.name)),
    }
}

/// What a visit reports: a rule with its grant, or an error met on the way.
#[derive(Debug)]
pub enum Visit<'a> {
    Rule(Grant<'a>),
    Error(&'a RoleRefError),
}

impl RuleResolver {
    pub fn new(source: Arc<dyn RuleSource>) -> RuleResolver {
        RuleResolver { source }
    }

    pub fn source(&self) -> &Arc<dyn RuleSource> {
        &self.source
    }

    /// `GetRoleReferenceRules`: the rules of the role a binding in `binding_namespace` (empty
    /// for a ClusterRoleBinding) refers to.
    pub fn role_ref_rules(
        &self,
        role_ref: &RoleRef,
        binding_namespace: &str,
    ) -> Result<Vec<PolicyRule>, RoleRefError> {
        let role = match role_ref.kind.as_str() {
            "Role" => self.source.role(binding_namespace, &role_ref.name)?,
            "ClusterRole" => self.source.cluster_role(&role_ref.name)?,
            other => return Err(RoleRefError::UnsupportedKind(other.to_owned())),
        };
        match role {
            Some(role) => Ok(role.rules.clone()),
            None => Err(RoleRefError::NotFound {
                kind: role_ref.kind.clone(),
                name: role_ref.name.clone(),
            }),
        }
    }

    /// `VisitRulesFor`: calls `visitor` with every rule that applies to `user` in `namespace`
    /// (ClusterRoleBindings first, then the namespace's RoleBindings) and every error met,
    /// until it returns false.
    pub fn visit_rules_for(
        &self,
        user: &UserInfo,
        namespace: &str,
        visitor: &mut dyn FnMut(Visit<'_>) -> bool,
    ) {
        let cluster = self.source.cluster_role_bindings().map_err(RoleRefError::from);
        if !self.visit_bindings(user, "", cluster, visitor) || namespace.is_empty() {
            return;
        }
        let local = self.source.role_bindings(namespace).map_err(RoleRefError::from);
        self.visit_bindings(user, namespace, local, visitor);
    }

    /// Visits the bindings of one scope; false when the visitor stopped.
    fn visit_bindings(
        &self,
        user: &UserInfo,
        namespace: &str,
        bindings: Result<Vec<Arc<Binding>>, RoleRefError>,
        visitor: &mut dyn FnMut(Visit<'_>) -> bool,
    ) -> bool {
        let bindings = match bindings {
            Ok(bindings) => bindings,
            Err(err) => return visitor(Visit::Error(&err)),
        };
        for binding in &bindings {
            let Some(subject) = binding.subjects.iter().find(|s| applies_to(user, s, namespace))
            else {
                continue;
            };
            match self.role_ref_rules(&binding.role_ref, namespace) {
                Ok(rules) => {
                    for rule in &rules {
                        if !visitor(Visit::Rule(Grant { binding, subject, rule })) {
                            return false;
                        }
                    }
                }
                Err(err) => {
                    if !visitor(Visit::Error(&err)) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// `RulesFor`: every rule that applies to `user` in `namespace`, and the errors met (the
    /// rules found still count: RBAC only ever adds permissions).
    pub fn rules_for(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> (Vec<PolicyRule>, Vec<RoleRefError>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        self.visit_rules_for(user, namespace, &mut |visit| {
            match visit {
                Visit::Rule(grant) => rules.push(grant.rule.clone()),
                Visit::Error(err) => errors.push(err.clone()),
            }
            true
        });
        (rules, errors)
    }
}

/// `appliesToUser`: a User subject by name, a Group by membership, a ServiceAccount by its user
/// name (namespace defaulting to the binding's).
pub fn applies_to(user: &UserInfo, subject: &Subject, binding_namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.name == subject.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let namespace =
                if subject.namespace.is_empty() { binding_namespace } else { &subject.namespace };
            !namespace.is_empty() && matches_service_account(namespace, &subject.name, &user.name)
        }
        _ => false,
    }
}

/// `utilerrors.NewAggregate(errs).Error()`: one message alone, several deduplicated in
/// brackets.
pub(crate) fn aggregate_errors(messages: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for m in messages {
        if !seen.contains(&m.as_str()) {
            seen.push(m);
        }
    }
    if seen.len() == 1 { seen[0].to_owned() } else { format!("[{}]", seen.join(", ")) }
}

/// The RBAC authorizer, with its decision cache.
#[derive(Debug)]
pub struct RbacAuthorizer {
    resolver: RuleResolver,
    cache: DecisionCache,
}

impl RbacAuthorizer {
    pub fn new(source: Arc<dyn RuleSource>) -> RbacAuthorizer {
        RbacAuthorizer { resolver: RuleResolver::new(source), cache: DecisionCache::default() }
    }

    /// The rule lookup, for escalation checks and rules reviews.
    pub fn resolver(&self) -> &RuleResolver {
        &self.resolver
    }

    /// How the decision cache has done.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The decision without the cache: walk the bindings until a rule allows the request.
    /// The second value is false when the source failed, so the decision must not be cached.
    pub fn decide(&self, attributes: &Attributes) -> (Decision, bool) {
        let mut allowed_by = None;
        let mut errors = Vec::new();
        let mut cacheable = true;
        self.resolver.visit_rules_for(&attributes.user, &attributes.namespace, &mut |visit| {
            match visit {
                Visit::Rule(grant) if grant.rule.allows(attributes) => {
                    allowed_by = Some(format!("RBAC: allowed by {grant}"));
                    return false;
                }
                Visit::Rule(_) => {}
                Visit::Error(err) => {
                    cacheable &= !matches!(err, RoleRefError::Source(_));
                    errors.push(err.to_string());
                }
            }
            true
        });
        if let Some(reason) = allowed_by {
            return (Decision::Allow(reason), true);
        }
        let reason = if errors.is_empty() {
            String::new()
        } else {
            format!("RBAC: {}", aggregate_errors(&errors))
        };
        (Decision::NoOpinion(reason), cacheable)
    }
}

impl Authorizer for RbacAuthorizer {
    fn authorize(&self, attributes: &Attributes) -> Decision {
        let generation = self.resolver.source.generation();
        if let Some(decision) = self.cache.get(generation, attributes) {
            return decision;
        }
        let (decision, cacheable) = self.decide(attributes);
        if cacheable {
            self.cache.insert(generation, attributes, &decision);
        }
        decision
    }
}
