//! The audit policy: which level and which stages each request is audited at.
//!
//! [`Policy::evaluate`] takes a request's [`Attributes`] and returns the [`RequestAuditConfig`]
//! of the FIRST rule that matches (kube-apiserver's `policyRuleEvaluator`): its level, its
//! `omitStages` joined with the policy's, and `omitManagedFields` (the rule's if it sets one,
//! else the policy's). When no rule matches, the level is `None` and the policy's own
//! `omitStages` and `omitManagedFields` apply.
//!
//! A rule matches when every list it sets matches (an empty list matches anything):
//! - `users`: the user's name; `userGroups`: any of the user's groups (no user, no match);
//! - `verbs`: the authorization verb (`get`, `list`, `watch`, …, or the lower-cased HTTP
//!   method of a non-resource request);
//! - `namespaces` or `resources` set: only resource requests; the namespace is `""` for
//!   cluster-scoped ones; per `resources` entry, the API group must be equal, then any of its
//!   `resources` (if none, the whole group matches) within its `resourceNames` (if any):
//!   `*` (anything, subresources too), `pods` (pods without a subresource), `pods/log`,
//!   `*/status` (that subresource of anything), `pods/*` (pods and every subresource of pods);
//! - otherwise `nonResourceURLs` set: only non-resource requests; `*`, the exact path, or a
//!   prefix ending in `*` (`/healthz*` matches `/healthz` and `/healthz/etcd`).
//!
//! `file` reads and checks `--audit-policy-file`.

mod file;
#[cfg(test)]
mod tests;

pub use file::PolicyError;

use crate::audit::types::{Level, StageSet};

/// The level a request gets when no rule matches.
pub const DEFAULT_LEVEL: Level = Level::None;

/// What the policy needs to know about a request: a plain struct the request path fills from
/// its request info and authentication (the authenticated user — the audit filter runs before
/// impersonation, so `--as` does not change which rule applies).
#[derive(Debug, Clone, Copy, Default)]
pub struct Attributes<'a> {
    /// `None` before authentication has run (kube: a nil user matches no user or group rule).
    pub user: Option<User<'a>>,
    /// The authorization verb, lower case.
    pub verb: &'a str,
    /// A request for an API resource (`/api/…`, `/apis/…` naming a resource), as opposed to a
    /// non-resource path (`/healthz`, `/version`, `/apis` discovery, `/metrics`).
    pub resource_request: bool,
    /// The request path, without the query (used for non-resource requests).
    pub path: &'a str,
    /// Empty for the core group.
    pub api_group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    /// Empty for cluster-scoped resources and cluster-wide lists.
    pub namespace: &'a str,
    pub name: &'a str,
}

/// The user as the policy sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct User<'a> {
    pub name: &'a str,
    pub groups: &'a [String],
}

/// How one request is audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestAuditConfig {
    pub level: Level,
    /// Stages that produce no event for this request.
    pub omit_stages: StageSet,
    /// Whether `metadata.managedFields` is left out of the request and response bodies.
    pub omit_managed_fields: bool,
}

/// A loaded, checked policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    rules: Vec<Rule>,
    /// The policy-wide `omitStages` (also already joined into each rule's).
    omit_stages: StageSet,
    omit_managed_fields: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    level: Level,
    users: Vec<String>,
    user_groups: Vec<String>,
    verbs: Vec<String>,
    resources: Vec<GroupResources>,
    namespaces: Vec<String>,
    non_resource_urls: Vec<String>,
    omit_stages: StageSet,
    omit_managed_fields: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
struct GroupResources {
    group: String,
    resources: Vec<String>,
    resource_names: Vec<String>,
}

impl Policy {
    /// The first matching rule's level and stages, or [`DEFAULT_LEVEL`].
    pub fn evaluate(&self, attributes: &Attributes<'_>) -> RequestAuditConfig {
        match self.rules.iter().find(|rule| rule.matches(attributes)) {
            Some(rule) => RequestAuditConfig {
                level: rule.level,
                omit_stages: rule.omit_stages,
                omit_managed_fields: rule.omit_managed_fields.unwrap_or(self.omit_managed_fields),
            },
            None => RequestAuditConfig {
                level: DEFAULT_LEVEL,
                omit_stages: self.omit_stages,
                omit_managed_fields: self.omit_managed_fields,
            },
        }
    }
}

fn has(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == value)
}

impl Rule {
    fn matches(&self, attributes: &Attributes<'_>) -> bool {
        if !self.users.is_empty() {
            match attributes.user {
                Some(user) if has(&self.users, user.name) => {}
                _ => return false,
            }
        }
        if !self.user_groups.is_empty() {
            let Some(user) = attributes.user else { return false };
            if !user.groups.iter().any(|group| has(&self.user_groups, group)) {
                return false;
            }
        }
        if !self.verbs.is_empty() && !has(&self.verbs, attributes.verb) {
            return false;
        }
        if !self.namespaces.is_empty() || !self.resources.is_empty() {
            return self.matches_resource(attributes);
        }
        if !self.non_resource_urls.is_empty() {
            return !attributes.resource_request
                && self.non_resource_urls.iter().any(|spec| path_matches(attributes.path, spec));
        }
        true
    }

    fn matches_resource(&self, attributes: &Attributes<'_>) -> bool {
        if !attributes.resource_request {
            return false;
        }
        if !self.namespaces.is_empty() && !has(&self.namespaces, attributes.namespace) {
            return false;
        }
        if self.resources.is_empty() {
            return true;
        }
        let (resource, subresource) = (attributes.resource, attributes.subresource);
        self.resources.iter().filter(|g| g.group == attributes.api_group).any(|group| {
            if group.resources.is_empty() {
                return true;
            }
            if !group.resource_names.is_empty() && !has(&group.resource_names, attributes.name) {
                return false;
            }
            group.resources.iter().any(|spec| resource_matches(spec, resource, subresource))
        })
    }
}

/// One `resources` entry against a resource and subresource (kube's `ruleMatchesResource`).
fn resource_matches(spec: &str, resource: &str, subresource: &str) -> bool {
    if spec == "*" {
        return true;
    }
    let combined_matches = if subresource.is_empty() {
        spec == resource
    } else {
        spec.strip_prefix(resource).and_then(|rest| rest.strip_prefix('/')) == Some(subresource)
    };
    if combined_matches {
        return true;
    }
    if !subresource.is_empty() && spec.strip_prefix("*/") == Some(subresource) {
        return true;
    }
    // `pods/*`: the resource itself and every subresource of it.
    spec.strip_suffix("/*") == Some(resource)
}

/// A `nonResourceURLs` entry against a path (kube's `pathMatches`).
fn path_matches(path: &str, spec: &str) -> bool {
    if spec == "*" || spec == path {
        return true;
    }
    match spec.strip_suffix('*') {
        // Go's TrimRight removes every trailing `*`; validation allows only one anyway.
        Some(_) => path.starts_with(spec.trim_end_matches('*')),
        None => false,
    }
}
