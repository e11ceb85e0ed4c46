//! RBAC's objects as the authorizer reads them — policy rules, role references, subjects,
//! bindings — parsed leniently from stored JSON (the registry has validated them), and the
//! rule-matching helpers of kube's `pkg/apis/rbac/v1/evaluation_helpers.go`.

use serde_json::{Map, Value};

use super::attributes::Attributes;
use crate::meta::validation::go_quote;

/// The RBAC API group, which every `roleRef` names.
pub const GROUP: &str = "rbac.authorization.k8s.io";
/// Matches every verb, API group or resource.
pub const ALL: &str = "*";

/// One `PolicyRule`. Lists are empty when absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// A resource rule (`NewRule(verbs…).Groups(…).Resources(…)`).
    pub fn resource(verbs: &[&str], api_groups: &[&str], resources: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs),
            api_groups: strings(api_groups),
            resources: strings(resources),
            ..PolicyRule::default()
        }
    }

    /// A non-resource rule (`NewRule(verbs…).URLs(…)`).
    pub fn urls(verbs: &[&str], urls: &[&str]) -> PolicyRule {
        PolicyRule { verbs: strings(verbs), non_resource_urls: strings(urls), ..Default::default() }
    }

    /// This rule restricted to `names`.
    pub fn names(mut self, names: &[&str]) -> PolicyRule {
        self.resource_names = strings(names);
        self
    }

    /// Reads a rule; entries that are not strings are skipped.
    pub fn from_json(rule: &Value) -> PolicyRule {
        PolicyRule {
            verbs: string_list(rule.get("verbs")),
            api_groups: string_list(rule.get("apiGroups")),
            resources: string_list(rule.get("resources")),
            resource_names: string_list(rule.get("resourceNames")),
            non_resource_urls: string_list(rule.get("nonResourceURLs")),
        }
    }

    /// The `rules` of a Role or ClusterRole.
    pub fn list_from_json(rules: Option<&Value>) -> Vec<PolicyRule> {
        rules
            .and_then(Value::as_array)
            .map(|rules| {
                rules.iter().filter(|r| r.is_object()).map(PolicyRule::from_json).collect()
            })
            .unwrap_or_default()
    }

    /// The rule as kube's JSON shows it: `verbs` always, the other lists when not empty.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("verbs".into(), self.verbs.clone().into());
        for (key, list) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !list.is_empty() {
                map.insert(key.into(), list.clone().into());
            }
        }
        Value::Object(map)
    }

    /// `CompactString`: the form escalation errors list missing permissions in,
    /// `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`.
    pub fn compact_string(&self) -> String {
        let parts: Vec<String> = [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ]
        .iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(name, list)| format!("{name}:{}", go_quote_list(list)))
        .collect();
        format!("{{{}}}", parts.join(", "))
    }

    /// `RuleAllows`: whether this rule lets the request through.
    pub fn allows(&self, attributes: &Attributes) -> bool {
        if !attributes.resource_request {
            return self.verb_matches(&attributes.verb)
                && self.non_resource_url_matches(&attributes.path);
        }
        let combined;
        let resource = if attributes.subresource.is_empty() {
            attributes.resource.as_str()
        } else {
            combined = format!("{}/{}", attributes.resource, attributes.subresource);
            combined.as_str()
        };
        self.verb_matches(&attributes.verb)
            && self.api_group_matches(&attributes.api_group)
            && self.resource_matches(resource, &attributes.subresource)
            && self.resource_name_matches(&attributes.name)
    }

    /// `VerbMatches`: the verb or `*`.
    pub fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == ALL || v == verb)
    }

    /// `APIGroupMatches`: the group or `*`.
    pub fn api_group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == ALL || g == group)
    }

    /// `ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*/subresource`.
    pub fn resource_matches(&self, combined: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            r == ALL
                || r == combined
                || (!subresource.is_empty()
                    && r.strip_prefix("*/").is_some_and(|sub| sub == subresource))
        })
    }

    /// `ResourceNameMatches`: no names means every name; otherwise the exact name (so a rule with
    /// names never matches a request without one, such as a list or a create).
    pub fn resource_name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }

    /// `NonResourceURLMatches`: `*`, the exact path, or a prefix ending in `*`.
    pub fn non_resource_url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|url| {
            url == ALL
                || url == path
                || url
                    .strip_suffix('*')
                    .is_some_and(|_| path.starts_with(url.trim_end_matches('*')))
        })
    }
}

/// A binding's `roleRef`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RoleRef {
    pub api_group: String,
    pub kind: String,
    pub name: String,
}

impl RoleRef {
    pub fn from_json(role_ref: Option<&Value>) -> RoleRef {
        let field = |f: &str| str_of(role_ref.and_then(|r| r.get(f)));
        RoleRef { api_group: field("apiGroup"), kind: field("kind"), name: field("name") }
    }

    /// A reference to the ClusterRole `name`.
    pub fn cluster_role(name: &str) -> RoleRef {
        RoleRef {
            api_group: GROUP.to_owned(),
            kind: "ClusterRole".to_owned(),
            name: name.to_owned(),
        }
    }
}

/// One subject of a binding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Subject {
    pub kind: String,
    pub api_group: String,
    pub name: String,
    pub namespace: String,
}

impl Subject {
    pub fn from_json(subject: &Value) -> Subject {
        let field = |f: &str| str_of(subject.get(f));
        Subject {
            kind: field("kind"),
            api_group: field("apiGroup"),
            name: field("name"),
            namespace: field("namespace"),
        }
    }

    /// The subject as kube's JSON shows it (`apiGroup` and `namespace` only when set).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("kind".into(), self.kind.clone().into());
        if !self.api_group.is_empty() {
            map.insert("apiGroup".into(), self.api_group.clone().into());
        }
        map.insert("name".into(), self.name.clone().into());
        if !self.namespace.is_empty() {
            map.insert("namespace".into(), self.namespace.clone().into());
        }
        Value::Object(map)
    }
}

/// A RoleBinding (with its namespace) or ClusterRoleBinding (namespace empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Binding {
    pub name: String,
    pub namespace: String,
    pub role_ref: RoleRef,
    pub subjects: Vec<Subject>,
}

impl Binding {
    /// Reads a stored RoleBinding or ClusterRoleBinding.
    pub fn from_json(binding: &Value) -> Binding {
        Binding {
            name: str_of(binding.pointer("/metadata/name")),
            namespace: str_of(binding.pointer("/metadata/namespace")),
            role_ref: RoleRef::from_json(binding.get("roleRef")),
            subjects: binding
                .get("subjects")
                .and_then(Value::as_array)
                .map(|s| s.iter().map(Subject::from_json).collect())
                .unwrap_or_default(),
        }
    }
}

/// A Role (with its namespace) or ClusterRole (namespace empty): the rules it grants.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Role {
    pub name: String,
    pub namespace: String,
    pub rules: Vec<PolicyRule>,
}

impl Role {
    /// Reads a stored Role or ClusterRole.
    pub fn from_json(role: &Value) -> Role {
        Role {
            name: str_of(role.pointer("/metadata/name")),
            namespace: str_of(role.pointer("/metadata/namespace")),
            rules: PolicyRule::list_from_json(role.get("rules")),
        }
    }
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub(crate) fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn str_of(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_read_and_write_kubes_json() {
        let rule = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods", 3],
                          "resourceNames": []});
        let parsed = PolicyRule::from_json(&rule);
        assert_eq!(parsed, PolicyRule::resource(&["get"], &[""], &["pods"]));
        assert_eq!(
            parsed.to_json(),
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]})
        );
        assert_eq!(
            PolicyRule::urls(&["get"], &["/healthz"]).to_json(),
            json!({"verbs": ["get"], "nonResourceURLs": ["/healthz"]})
        );
        assert!(PolicyRule::list_from_json(Some(&Value::Null)).is_empty());
    }

    #[test]
    fn compact_strings_as_escalation_errors_print_them() {
        let rule = PolicyRule::resource(&["get", "list"], &[""], &["pods"]).names(&["a"]);
        assert_eq!(
            rule.compact_string(),
            "{APIGroups:[\"\"], Resources:[\"pods\"], ResourceNames:[\"a\"], Verbs:[\"get\" \"list\"]}"
        );
        assert_eq!(
            PolicyRule::urls(&["get"], &["/metrics"]).compact_string(),
            "{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}"
        );
    }

    #[test]
    fn bindings_and_roles_from_stored_objects() {
        let binding = Binding::from_json(&json!({"metadata": {"name": "b", "namespace": "ns"},
            "roleRef": {"apiGroup": GROUP, "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa"}]}));
        assert_eq!(
            binding.role_ref,
            RoleRef { api_group: GROUP.into(), kind: "Role".into(), name: "r".into() }
        );
        assert_eq!(binding.subjects[0].to_json(), json!({"kind": "ServiceAccount", "name": "sa"}));
        let role = Role::from_json(&json!({"metadata": {"name": "view"}, "rules": null}));
        assert!(role.rules.is_empty() && role.namespace.is_empty());
    }
}
