//! Which webhooks a write is sent to, as k8s.io/apiserver's webhook `rules.Matcher` and
//! `namespace`/`object` matchers decide: a rule matches the operation, group, version, resource
//! with its subresource (`*`, `*/*`, `pods`, `pods/*`, `*/status`, `pods/status`) and scope;
//! `matchPolicy: Equivalent` also matches the same resource through another group or version
//! (core/v1 and events.k8s.io/v1 events, autoscaling/v1 and v2 HPAs), and the webhook then sees
//! the object in the version its rule named. The `namespaceSelector` is matched against the
//! labels of the write's namespace (of the object itself for a namespace being created or
//! updated; cluster-scoped writes other than namespaces always match it), the `objectSelector`
//! against the new or the old object's labels.

use std::sync::Arc;

use serde_json::Value;

use super::config::{Hook, Rule};
use crate::admission::{Action, Attributes};
use crate::registry::Registry;
use crate::registry::resource::Resource;

/// A resource as a rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Gvr<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
}

/// How a webhook's rules matched a write.
#[derive(Debug, Clone)]
pub enum Matched {
    /// The resource the request addressed.
    AsRequested,
    /// An equivalent served version of it (`matchPolicy: Equivalent`).
    Equivalent(Arc<Resource>),
}

/// Whether `hook`'s rules match the write, and through which version.
pub fn match_rules(
    hook: &Hook,
    attributes: &Attributes<'_>,
    registry: &Registry,
) -> Option<Matched> {
    let matches = |gvr: &Gvr<'_>| hook.rules.iter().any(|rule| rule_matches(rule, attributes, gvr));
    match_versions(matches, hook.equivalent, attributes, registry)
}

/// Whether `matches` holds for the resource the write addressed, or (`equivalent`, kube's
/// `matchPolicy: Equivalent`) for another served version of the same resource.
pub(crate) fn match_versions(
    matches: impl Fn(&Gvr<'_>) -> bool,
    equivalent: bool,
    attributes: &Attributes<'_>,
    registry: &Registry,
) -> Option<Matched> {
    let requested = Gvr {
        group: attributes.group,
        version: attributes.version,
        resource: attributes.resource,
        subresource: attributes.subresource,
    };
    if matches(&requested) {
        return Some(Matched::AsRequested);
    }
    if !equivalent {
        return None;
    }
    let served = registry.get(attributes.group, attributes.version, attributes.resource)?;
    let mut equivalents: Vec<_> = registry
        .all()
        .into_iter()
        .filter(|r| r.storage_prefix == served.storage_prefix && r.gv != served.gv)
        .collect();
    // The storage version first, then the others in registry order, so the choice is stable.
    equivalents.sort_by_key(|r| r.gv != served.storage_gv);
    equivalents.into_iter().find_map(|resource| {
        let gvr = Gvr {
            group: &resource.gv.group,
            version: &resource.gv.version,
            resource: &resource.plural,
            subresource: attributes.subresource,
        };
        matches(&gvr).then(|| Matched::Equivalent(resource.clone()))
    })
}

/// One rule against one resource: operation, group, version, resource/subresource and scope.
pub(crate) fn rule_matches(rule: &Rule, attributes: &Attributes<'_>, gvr: &Gvr<'_>) -> bool {
    let listed = |values: &[String], value: &str| values.iter().any(|v| v == "*" || v == value);
    listed(&rule.operations, attributes.action.as_str())
        && listed(&rule.api_groups, gvr.group)
        && listed(&rule.api_versions, gvr.version)
        && resource_matches(&rule.resources, gvr.resource, gvr.subresource)
        && scope_matches(&rule.scope, attributes, gvr)
}

/// `pods` matches only the resource itself, `pods/*` it and every subresource, `*/status` the
/// status of every resource, `*/*` everything.
fn resource_matches(resources: &[String], resource: &str, subresource: &str) -> bool {
    resources.iter().any(|entry| {
        let (res, sub) = entry.split_once('/').unwrap_or((entry, ""));
        (res == "*" || res == resource) && (sub == "*" || sub == subresource)
    })
}

/// Namespaces are cluster-scoped, whatever namespace their own attributes carry.
fn scope_matches(scope: &str, attributes: &Attributes<'_>, gvr: &Gvr<'_>) -> bool {
    let is_namespace = gvr.group.is_empty() && gvr.resource == "namespaces";
    match scope {
        "Cluster" => is_namespace || attributes.namespace.is_empty(),
        "Namespaced" => !is_namespace && !attributes.namespace.is_empty(),
        _ => true,
    }
}

/// Whether the new or the old object's labels satisfy the `objectSelector`.
pub fn object_selector_matches(
    hook: &Hook,
    object: Option<&Value>,
    old_object: Option<&Value>,
) -> bool {
    if hook.object_selector.is_everything() {
        return true;
    }
    [object, old_object].into_iter().flatten().any(|o| hook.object_selector.matches_object(o))
}

/// The labels the `namespaceSelector` is matched against, when it must be: `None` for a
/// cluster-scoped write (other than to a namespace), which every selector matches.
pub enum NamespaceLabels<'a> {
    /// The namespace object being created or updated.
    Object(&'a Value),
    /// The stored namespace of this name.
    Stored(&'a str),
    Exempt,
}

/// Where a write's namespace labels come from.
pub fn namespace_labels<'a>(
    attributes: &Attributes<'a>,
    object: Option<&'a Value>,
) -> NamespaceLabels<'a> {
    let is_namespace = attributes.group.is_empty() && attributes.resource == "namespaces";
    if is_namespace && attributes.subresource.is_empty() {
        if matches!(attributes.action, Action::Create | Action::Update)
            && let Some(object) = object
        {
            return NamespaceLabels::Object(object);
        }
        return NamespaceLabels::Stored(attributes.name);
    }
    if is_namespace {
        return NamespaceLabels::Stored(attributes.name);
    }
    if attributes.namespace.is_empty() {
        return NamespaceLabels::Exempt;
    }
    NamespaceLabels::Stored(attributes.namespace)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::authn::UserInfo;
    use crate::registry::builtin;

    fn hook(rules: Value, extra: Value) -> Hook {
        let mut hook = json!({"name": "h.example.com", "rules": rules,
            "clientConfig": {"url": "https://127.0.0.1:1/"}});
        for (k, v) in extra.as_object().unwrap() {
            hook[k] = v.clone();
        }
        Hook::parse("c", &hook)
    }

    fn attributes<'a>(
        user: &'a UserInfo,
        action: Action,
        (group, version, resource, subresource): (&'a str, &'a str, &'a str, &'a str),
        namespace: &'a str,
    ) -> Attributes<'a> {
        Attributes {
            action,
            user,
            group,
            version,
            resource,
            subresource,
            kind: "",
            namespace,
            name: "x",
            dry_run: false,
            old_object: None,
            options: None,
            audit_annotations: crate::admission::AuditAnnotations::unrecorded(),
        }
    }

    fn registry() -> Arc<Registry> {
        let registry = Arc::new(Registry::new());
        builtin::register_all(&registry);
        registry
    }

    #[test]
    fn rules_match_operations_resources_subresources_and_scope() {
        let (user, registry) = (UserInfo::anonymous(), registry());
        let pods = hook(
            json!([{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                     "resources": ["pods", "*/status"], "scope": "Namespaced"}]),
            json!({}),
        );
        let create = |resource, sub, ns| {
            let a = attributes(&user, Action::Create, ("", "v1", resource, sub), ns);
            match_rules(&pods, &a, &registry).is_some()
        };
        assert!(create("pods", "", "default"));
        assert!(!create("pods", "log", "default"), "pods does not match its subresources");
        assert!(create("services", "status", "default"));
        assert!(!create("services", "", "default"));
        assert!(!create("pods", "", ""), "Namespaced scope");
        let update = attributes(&user, Action::Update, ("", "v1", "pods", ""), "default");
        assert!(match_rules(&pods, &update, &registry).is_none());

        let everything = hook(
            json!([{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"],
                     "resources": ["*/*"], "scope": "Cluster"}]),
            json!({}),
        );
        let ns = attributes(&user, Action::Delete, ("", "v1", "namespaces", ""), "x");
        assert!(
            match_rules(&everything, &ns, &registry).is_some(),
            "namespaces are cluster-scoped"
        );
        let cm = attributes(&user, Action::Delete, ("", "v1", "configmaps", ""), "x");
        assert!(match_rules(&everything, &cm, &registry).is_none());
    }

    #[test]
    fn equivalent_versions_match_unless_exact() {
        let (user, registry) = (UserInfo::anonymous(), registry());
        let rules = json!([{"operations": ["CREATE"], "apiGroups": ["autoscaling"],
            "apiVersions": ["v2"], "resources": ["horizontalpodautoscalers"]}]);
        let v1 = attributes(
            &user,
            Action::Create,
            ("autoscaling", "v1", "horizontalpodautoscalers", ""),
            "default",
        );
        let equivalent = hook(rules.clone(), json!({"matchPolicy": "Equivalent"}));
        match match_rules(&equivalent, &v1, &registry) {
            Some(Matched::Equivalent(resource)) => assert_eq!(resource.gv.version, "v2"),
            other => panic!("{other:?}"),
        }
        let exact = hook(rules, json!({"matchPolicy": "Exact"}));
        assert!(match_rules(&exact, &v1, &registry).is_none());
    }

    #[test]
    fn selectors() {
        let user = UserInfo::anonymous();
        let selective = hook(json!([]), json!({"objectSelector": {"matchLabels": {"a": "1"}}}));
        let labelled = json!({"metadata": {"labels": {"a": "1"}}});
        let plain = json!({"metadata": {}});
        assert!(object_selector_matches(&selective, Some(&plain), Some(&labelled)));
        assert!(!object_selector_matches(&selective, Some(&plain), None));
        assert!(object_selector_matches(&hook(json!([]), json!({})), Some(&plain), None));

        let pod = attributes(&user, Action::Create, ("", "v1", "pods", ""), "team");
        assert!(matches!(namespace_labels(&pod, None), NamespaceLabels::Stored("team")));
        let node = attributes(&user, Action::Create, ("", "v1", "nodes", ""), "");
        assert!(matches!(namespace_labels(&node, None), NamespaceLabels::Exempt));
        let ns = attributes(&user, Action::Create, ("", "v1", "namespaces", ""), "");
        assert!(matches!(namespace_labels(&ns, Some(&plain)), NamespaceLabels::Object(_)));
        let ns = attributes(&user, Action::Delete, ("", "v1", "namespaces", ""), "");
        assert!(matches!(namespace_labels(&ns, None), NamespaceLabels::Stored("x")));
    }
}
