//! Which writes a policy or binding applies to (`matchConstraints`, a binding's
//! `matchResources`), as k8s.io/apiserver's policy `matching` package decides: the
//! `namespaceSelector` against the write's namespace (checked by the plugin, which reads the
//! namespace), the `objectSelector` against the new or old object's labels, `excludeResourceRules`
//! (any match excludes), then `resourceRules` with their `resourceNames`; `matchPolicy:
//! Equivalent` also matches the resource through another served group/version. The rules are
//! the webhooks' ([`crate::admission::webhook::matching`]).

use serde_json::Value;

use crate::admission::Attributes;
use crate::admission::webhook::config::Rule;
use crate::admission::webhook::matching::{Gvr, Matched, match_versions, rule_matches};
use crate::meta::labels::LabelSelector;
use crate::registry::Registry;

/// One `NamedRuleWithOperations`.
#[derive(Debug, Clone, Default)]
pub struct NamedRule {
    pub rule: Rule,
    /// Empty: every name.
    pub resource_names: Vec<String>,
}

/// A policy's `matchConstraints` or a binding's `matchResources`, as stored (defaulted).
#[derive(Debug, Clone)]
pub struct MatchResources {
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    pub resource_rules: Vec<NamedRule>,
    pub exclude_resource_rules: Vec<NamedRule>,
    /// `matchPolicy: Equivalent` (the default).
    pub equivalent: bool,
}

impl MatchResources {
    /// Reads a stored `matchResources`; a selector that cannot be read matches nothing.
    pub fn parse(value: &Value) -> MatchResources {
        let selector = |key: &str| match value.get(key) {
            None | Some(Value::Null) => LabelSelector::everything(),
            Some(selector) => LabelSelector::from_structured(selector)
                .unwrap_or_else(|_| LabelSelector::nothing()),
        };
        MatchResources {
            namespace_selector: selector("namespaceSelector"),
            object_selector: selector("objectSelector"),
            resource_rules: rules(value.get("resourceRules")),
            exclude_resource_rules: rules(value.get("excludeResourceRules")),
            equivalent: value.get("matchPolicy").and_then(Value::as_str) != Some("Exact"),
        }
    }

    /// Everything but the namespace selector: whether the write matches, and through which
    /// version. `everything_without_rules`: a binding's `matchResources` without
    /// `resourceRules` matches every resource its policy matches.
    pub fn matches(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        registry: &Registry,
        everything_without_rules: bool,
    ) -> Option<Matched> {
        if !self.object_selector.is_everything()
            && ![object, attributes.old_object]
                .into_iter()
                .flatten()
                .any(|o| self.object_selector.matches_object(o))
        {
            return None;
        }
        if matches_rules(&self.exclude_resource_rules, self.equivalent, attributes, registry)
            .is_some()
        {
            return None;
        }
        if self.resource_rules.is_empty() && everything_without_rules {
            return Some(Matched::AsRequested);
        }
        matches_rules(&self.resource_rules, self.equivalent, attributes, registry)
    }
}

fn rules(value: Option<&Value>) -> Vec<NamedRule> {
    let items = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let strings = |value: &Value, key: &str| -> Vec<String> {
        let items = value.get(key).and_then(Value::as_array).map(Vec::as_slice);
        items.unwrap_or(&[]).iter().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    items
        .iter()
        .map(|rule| NamedRule {
            rule: Rule {
                operations: strings(rule, "operations"),
                api_groups: strings(rule, "apiGroups"),
                api_versions: strings(rule, "apiVersions"),
                resources: strings(rule, "resources"),
                scope: rule.get("scope").and_then(Value::as_str).unwrap_or("*").to_owned(),
            },
            resource_names: strings(rule, "resourceNames"),
        })
        .collect()
}

/// Whether any of `rules` matches the write, as requested or (`equivalent`) through another
/// served version of the same resource (the storage version first).
fn matches_rules(
    rules: &[NamedRule],
    equivalent: bool,
    attributes: &Attributes<'_>,
    registry: &Registry,
) -> Option<Matched> {
    let named = |rule: &NamedRule| {
        rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == attributes.name)
    };
    let matches = |gvr: &Gvr<'_>| {
        rules.iter().any(|rule| named(rule) && rule_matches(&rule.rule, attributes, gvr))
    };
    match_versions(matches, equivalent, attributes, registry)
}
