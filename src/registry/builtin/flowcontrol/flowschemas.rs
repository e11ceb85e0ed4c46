//! FlowSchemas: which requests (subjects × resource and non-resource rules) go to which
//! priority level, the schema with the numerically lowest `matchingPrecedence` winning.
//! Defaults (`matchingPrecedence` 1000) and validation as kube's `ValidateFlowSchema`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::{
    Kind, age_column, array_at, child_object, column, default_value, go_string_slice,
    invalid_rendered, name_column, object_items, opt_array, opt_bool, opt_int, opt_object, opt_str,
    str_at,
};
use super::{GROUP, mandatory, not_supported_rendered, validate_conditions};
use crate::meta::validation::{
    FieldCause, go_quote, name_is_dns_subdomain, validate_namespace_name,
};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "FlowSchema",
    plural: "flowschemas",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/flowschemas",
};

/// kube's `FlowSchemaMaxMatchingPrecedence`.
const MAX_PRECEDENCE: i64 = 10000;
const DISTINGUISHER_METHODS: &[&str] = &["ByNamespace", "ByUser"];
/// kube's `supportedVerbs`, sorted as its messages list them.
const VERBS: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"];
const SUBJECT_KINDS: &[&str] = &["Group", "ServiceAccount", "User"];
const NAMESPACE_INTRO: &str = "each member of this list must be '*' or a DNS-1123 label; ";

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(FlowSchemaStrategy), table()) }
}

/// FlowSchema rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowSchemaStrategy;

/// `SetDefaults_FlowSchemaSpec`: precedence 1000 when unset (or 0).
fn default_schema(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    let Some(spec) = child_object(map, "spec") else { return };
    if spec.get("matchingPrecedence").and_then(Value::as_i64) == Some(0) {
        spec.shift_remove("matchingPrecedence");
    }
    default_value(spec, "matchingPrecedence", json!(1000));
}

fn has_wildcard(items: &[Value]) -> bool {
    items.iter().any(|i| i.as_str() == Some("*"))
}

/// The verbs of a rule: some, `*` alone, or kube's supported ones.
fn validate_verbs(rule: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let verbs_path = format!("{path}.verbs");
    let verbs = opt_array(rule, "verbs", &verbs_path, causes);
    if verbs.is_empty() {
        causes.push(FieldCause::required(&verbs_path, "verbs must contain at least one value"));
    } else if has_wildcard(verbs) {
        if verbs.len() > 1 {
            causes.push(invalid_rendered(
                &verbs_path,
                &go_string_slice(rule.get("verbs")),
                "if '*' is present, must not specify other verbs",
            ));
        }
    } else if verbs.iter().any(|v| !VERBS.contains(&v.as_str().unwrap_or_default())) {
        causes.push(not_supported_rendered(
            &verbs_path,
            &go_string_slice(rule.get("verbs")),
            VERBS,
        ));
    }
}

/// A list that needs a member and may hold `*` only alone.
fn validate_list(
    rule: &Value,
    key: &str,
    path: &str,
    (required, wildcard): (&str, &str),
    causes: &mut Vec<FieldCause>,
) -> bool {
    let field = format!("{path}.{key}");
    let items = opt_array(rule, key, &field, causes);
    if items.is_empty() {
        causes.push(FieldCause::required(&field, required));
    } else if items.len() > 1 && has_wildcard(items) {
        causes.push(invalid_rendered(&field, &go_string_slice(rule.get(key)), wildcard));
    }
    !items.is_empty() && !has_wildcard(items)
}

fn validate_resource_rule(rule: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    validate_verbs(rule, path, causes);
    validate_list(
        rule,
        "apiGroups",
        path,
        (
            "resource rules must supply at least one api group",
            "if '*' is present, must not specify other api groups",
        ),
        causes,
    );
    validate_list(
        rule,
        "resources",
        path,
        (
            "resource rules must supply at least one resource",
            "if '*' is present, must not specify other resources",
        ),
        causes,
    );
    let cluster_scope =
        opt_bool(rule, "clusterScope", &format!("{path}.clusterScope"), causes).unwrap_or(false);
    let ns_path = format!("{path}.namespaces");
    let namespaces = opt_array(rule, "namespaces", &ns_path, causes);
    if namespaces.is_empty() && !cluster_scope {
        causes.push(FieldCause::required(
            &ns_path,
            "resource rules that are not cluster scoped must supply at least one namespace",
        ));
    } else if has_wildcard(namespaces) {
        if namespaces.len() > 1 {
            causes.push(invalid_rendered(
                &ns_path,
                &go_string_slice(rule.get("namespaces")),
                "if '*' is present, must not specify other namespaces",
            ));
        }
    } else {
        for (i, namespace) in namespaces.iter().enumerate() {
            let namespace = namespace.as_str().unwrap_or_default();
            for msg in validate_namespace_name(namespace, false) {
                causes.push(FieldCause::invalid(
                    format!("{ns_path}[{i}]"),
                    namespace,
                    &format!("{NAMESPACE_INTRO}{msg}"),
                ));
            }
        }
    }
}

/// kube's `ValidateNonResourceURLPath`.
fn url_problem(url: &str) -> Option<&'static str> {
    if url.is_empty() {
        return Some("must not be empty");
    }
    if url == "/" {
        return None;
    }
    if !url.starts_with('/') {
        return Some("must start with slash");
    }
    if url.contains(' ') {
        return Some("must not contain white-space");
    }
    if url.contains("//") {
        return Some("must not contain double slash");
    }
    let stars = url.matches('*').count();
    if stars > 1 || (stars == 1 && !url.ends_with("/*")) {
        return Some("wildcard can only do suffix glob matching");
    }
    None
}

fn validate_non_resource_rule(rule: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    validate_verbs(rule, path, causes);
    let checked = validate_list(
        rule,
        "nonResourceURLs",
        path,
        (
            "nonResourceURLs must contain at least one value",
            "if '*' is present, must not specify other non-resource URLs",
        ),
        causes,
    );
    if checked {
        for (i, url) in array_at(rule, "/nonResourceURLs").iter().enumerate() {
            let url = url.as_str().unwrap_or_default();
            if let Some(problem) = url_problem(url) {
                causes.push(FieldCause::invalid(
                    format!("{path}.nonResourceURLs[{i}]"),
                    url,
                    problem,
                ));
            }
        }
    }
}

/// kube's `ValidateFlowSchemaSubject`.
fn validate_subject(subject: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let set = |key: &str| subject.get(key).is_some_and(|v| !v.is_null());
    let forbid = |key: &str, kind: &str, causes: &mut Vec<FieldCause>| {
        if set(key) {
            causes.push(FieldCause::forbidden(
                format!("{path}.{key}"),
                &format!("{key} is forbidden when subject kind is not '{kind}'"),
            ));
        }
    };
    let kind = opt_str(subject, "kind", &format!("{path}.kind"), causes).unwrap_or("");
    let named = |key: &str, kind: &str, causes: &mut Vec<FieldCause>| -> Option<String> {
        let field = format!("{path}.{key}");
        let Some(body) = opt_object(subject, key, &field, causes) else {
            causes.push(FieldCause::required(
                &field,
                &format!("{key} is required when subject kind is '{kind}'"),
            ));
            return None;
        };
        let name = body.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
        if name.is_empty() {
            causes.push(FieldCause::required(format!("{field}.name"), ""));
            return None;
        }
        Some(name)
    };
    match kind {
        "ServiceAccount" => {
            let field = format!("{path}.serviceAccount");
            if let Some(name) = named("serviceAccount", kind, causes)
                && name != "*"
            {
                for msg in name_is_dns_subdomain(&name, false) {
                    causes.push(FieldCause::invalid(format!("{field}.name"), name.as_str(), &msg));
                }
            }
            if let Some(account) = subject.get("serviceAccount").filter(|a| a.is_object()) {
                let namespace = str_at(account, "/namespace");
                if namespace.is_empty() {
                    causes.push(FieldCause::required(
                        format!("{field}.namespace"),
                        "must specify namespace for service account",
                    ));
                }
                for msg in validate_namespace_name(namespace, false)
                    .into_iter()
                    .filter(|_| !namespace.is_empty())
                {
                    causes.push(FieldCause::invalid(format!("{field}.namespace"), namespace, &msg));
                }
            }
            forbid("user", "User", causes);
            forbid("group", "Group", causes);
        }
        "User" => {
            named("user", kind, causes);
            forbid("serviceAccount", "ServiceAccount", causes);
            forbid("group", "Group", causes);
        }
        "Group" => {
            named("group", kind, causes);
            forbid("serviceAccount", "ServiceAccount", causes);
            forbid("user", "User", causes);
        }
        other => {
            causes.push(FieldCause::not_supported(format!("{path}.kind"), other, SUBJECT_KINDS))
        }
    }
}

fn validate_rule(rule: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let subjects_path = format!("{path}.subjects");
    let subjects = opt_array(rule, "subjects", &subjects_path, causes);
    if subjects.is_empty() {
        causes
            .push(FieldCause::required(&subjects_path, "subjects must contain at least one value"));
    }
    for (i, subject) in object_items(subjects, &subjects_path, causes) {
        validate_subject(subject, &format!("{subjects_path}[{i}]"), causes);
    }
    let resource_path = format!("{path}.resourceRules");
    let non_resource_path = format!("{path}.nonResourceRules");
    let resource_rules = opt_array(rule, "resourceRules", &resource_path, causes);
    let non_resource_rules = opt_array(rule, "nonResourceRules", &non_resource_path, causes);
    if resource_rules.is_empty() && non_resource_rules.is_empty() {
        causes.push(FieldCause::required(
            path,
            "at least one of resourceRules and nonResourceRules has to be non-empty",
        ));
    }
    for (i, r) in object_items(resource_rules, &resource_path, causes) {
        validate_resource_rule(r, &format!("{resource_path}[{i}]"), causes);
    }
    for (i, r) in object_items(non_resource_rules, &non_resource_path, causes) {
        validate_non_resource_rule(r, &format!("{non_resource_path}[{i}]"), causes);
    }
}

/// kube's `ValidateFlowSchemaSpec`.
fn validate_spec(name: &str, spec: &Value, causes: &mut Vec<FieldCause>) {
    let precedence_path = "spec.matchingPrecedence";
    let precedence = opt_int(spec, "matchingPrecedence", precedence_path, causes).unwrap_or(0);
    if precedence <= 0 {
        causes.push(FieldCause::invalid(precedence_path, precedence, "must be a positive value"));
    }
    if precedence > MAX_PRECEDENCE {
        causes.push(FieldCause::invalid(
            precedence_path,
            precedence,
            &format!("must not be greater than {MAX_PRECEDENCE}"),
        ));
    }
    if precedence == 1 && name != mandatory::EXEMPT {
        causes.push(FieldCause::invalid(
            precedence_path,
            precedence,
            "only the schema named 'exempt' may have matchingPrecedence 1",
        ));
    }
    if let Some(method) =
        opt_object(spec, "distinguisherMethod", "spec.distinguisherMethod", causes)
    {
        let kind = method.get("type").and_then(Value::as_str).unwrap_or("");
        if !DISTINGUISHER_METHODS.contains(&kind) {
            causes.push(not_supported_rendered(
                "spec.distinguisherMethod.type",
                &format!("flowcontrol.FlowDistinguisherMethod{{Type:{}}}", go_quote(kind)),
                DISTINGUISHER_METHODS,
            ));
        }
    }
    let level_path = "spec.priorityLevelConfiguration.name";
    let level = spec.pointer("/priorityLevelConfiguration/name");
    let level = match level {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s,
        Some(other) => {
            causes.push(FieldCause::type_invalid(level_path, other.clone(), "must be a string"));
            "-"
        }
    };
    if level.is_empty() {
        causes.push(FieldCause::required(level_path, "must reference a priority level"));
    } else if level != "-" {
        for msg in name_is_dns_subdomain(level, false) {
            causes.push(FieldCause::invalid(level_path, level, &msg));
        }
    }
    let rules = opt_array(spec, "rules", "spec.rules", causes);
    for (i, rule) in object_items(rules, "spec.rules", causes) {
        validate_rule(rule, &format!("spec.rules[{i}]"), causes);
    }
}

impl Strategy for FlowSchemaStrategy {
    fn set_defaults(&self, schema: &mut Value) {
        default_schema(schema);
    }

    /// kube's `ValidateFlowSchema` (and `ValidateFlowSchemaUpdate`, which checks the same).
    fn validate(&self, schema: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let name = str_at(schema, "/metadata/name");
        let empty = json!({});
        let spec = match opt_object(schema, "spec", "spec", &mut causes) {
            Some(_) => &schema["spec"],
            None => &empty,
        };
        validate_spec(name, spec, &mut causes);
        if let Some(fixed) = mandatory::flow_schema_spec(name)
            && *spec != fixed
        {
            causes.push(FieldCause::invalid(
                "spec",
                spec.clone(),
                &format!("spec of '{name}' must equal the fixed value"),
            ));
        }
        validate_conditions(schema, &mut causes);
        causes
    }

    fn validate_subresource_update(&self, sub: &str, new: &Value, old: &Value) -> Vec<FieldCause> {
        if sub != "status" {
            return self.validate_update(new, old);
        }
        let mut causes = Vec::new();
        validate_conditions(new, &mut causes);
        causes
    }
}

/// MissingPL: the status of the `Dangling` condition kube's APF controller sets, `?` without.
fn missing_priority_level(schema: &Value) -> Value {
    array_at(schema, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == "Dangling")
        .map_or("?".into(), |c| str_at(c, "/status").into())
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "PriorityLevel",
                "string",
                0,
                &KIND.doc("/spec/priorityLevelConfiguration/name"),
                Cell::Computed(|s| str_at(s, "/spec/priorityLevelConfiguration/name").into()),
            ),
            column(
                "MatchingPrecedence",
                "string",
                0,
                &KIND.doc("/spec/matchingPrecedence"),
                Cell::Computed(|s| {
                    json!(
                        s.pointer("/spec/matchingPrecedence").and_then(Value::as_i64).unwrap_or(0)
                    )
                }),
            ),
            column(
                "DistinguisherMethod",
                "string",
                0,
                &KIND.doc("/spec/distinguisherMethod"),
                Cell::Computed(|s| match s.pointer("/spec/distinguisherMethod") {
                    Some(method) if method.is_object() => str_at(method, "/type").into(),
                    _ => "<none>".into(),
                }),
            ),
            age_column(),
            column(
                "MissingPL",
                "string",
                0,
                "references a broken or non-existent PriorityLevelConfiguration",
                Cell::Computed(missing_priority_level),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn schema(name: &str, spec: Value) -> Value {
        let mut s = json!({"metadata": {"name": name}, "spec": spec});
        FlowSchemaStrategy.decoded_create(&mut s);
        s
    }

    fn rules() -> Value {
        json!([{"subjects": [{"kind": "User", "user": {"name": "alice"}}],
            "resourceRules": [{"verbs": ["get", "list"], "apiGroups": [""],
                "resources": ["pods"], "namespaces": ["default"]}]}])
    }

    #[test]
    fn defaults_and_a_valid_schema() {
        let s = schema(
            "alice",
            json!({"priorityLevelConfiguration": {"name": "workload-low"},
            "rules": rules()}),
        );
        assert_eq!(s["spec"]["matchingPrecedence"], 1000);
        assert!(
            FlowSchemaStrategy.validate(&s).is_empty(),
            "{:?}",
            FlowSchemaStrategy.validate(&s)
        );
        let table = render_table(&table(), &[s], Default::default(), Default::default());
        let cells = table["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(
            cells[..4],
            [json!("alice"), json!("workload-low"), json!(1000), json!("<none>")]
        );
        assert_eq!(cells[5], "?");
    }

    #[test]
    fn spec_rules_and_subjects_are_checked() {
        let s = schema(
            "bad",
            json!({"matchingPrecedence": 1,
            "distinguisherMethod": {"type": "ByPod"},
            "rules": [{"subjects": [{"kind": "User"}, {"kind": "Robot"},
                    {"kind": "ServiceAccount", "serviceAccount": {"name": "sa"}, "group": {"name": "g"}}],
                "resourceRules": [{"verbs": ["get", "fly"], "apiGroups": ["*", "apps"],
                    "resources": []}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["healthz", "/a/*/b"]}]},
                {"subjects": []}]}),
        );
        assert_eq!(
            cause_texts(&FlowSchemaStrategy.validate(&s)),
            [
                "spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may \
                 have matchingPrecedence 1",
                "spec.distinguisherMethod.type: Unsupported value: \
                 flowcontrol.FlowDistinguisherMethod{Type:\"ByPod\"}: supported values: \
                 \"ByNamespace\", \"ByUser\"",
                "spec.priorityLevelConfiguration.name: Required value: must reference a priority \
                 level",
                "spec.rules[0].subjects[0].user: Required value: user is required when subject \
                 kind is 'User'",
                "spec.rules[0].subjects[1].kind: Unsupported value: \"Robot\": supported values: \
                 \"Group\", \"ServiceAccount\", \"User\"",
                "spec.rules[0].subjects[2].serviceAccount.namespace: Required value: must specify \
                 namespace for service account",
                "spec.rules[0].subjects[2].group: Forbidden: group is forbidden when subject kind \
                 is not 'Group'",
                "spec.rules[0].resourceRules[0].verbs: Unsupported value: []string{\"get\", \
                 \"fly\"}: supported values: \"create\", \"delete\", \"deletecollection\", \
                 \"get\", \"list\", \"patch\", \"proxy\", \"update\", \"watch\"",
                "spec.rules[0].resourceRules[0].apiGroups: Invalid value: []string{\"*\", \
                 \"apps\"}: if '*' is present, must not specify other api groups",
                "spec.rules[0].resourceRules[0].resources: Required value: resource rules must \
                 supply at least one resource",
                "spec.rules[0].resourceRules[0].namespaces: Required value: resource rules that \
                 are not cluster scoped must supply at least one namespace",
                "spec.rules[0].nonResourceRules[0].nonResourceURLs[0]: Invalid value: \
                 \"healthz\": must start with slash",
                "spec.rules[0].nonResourceRules[0].nonResourceURLs[1]: Invalid value: \
                 \"/a/*/b\": wildcard can only do suffix glob matching",
                "spec.rules[1].subjects: Required value: subjects must contain at least one value",
                "spec.rules[1]: Required value: at least one of resourceRules and \
                 nonResourceRules has to be non-empty",
            ]
        );
    }

    #[test]
    fn mandatory_schemas_are_fixed() {
        for object in mandatory::flow_schemas() {
            let mut object = object.clone();
            FlowSchemaStrategy.decoded_create(&mut object);
            assert!(FlowSchemaStrategy.validate(&object).is_empty(), "{object}");
        }
        let mut changed = mandatory::flow_schemas()[1].clone();
        changed["spec"]["matchingPrecedence"] = json!(9000);
        let causes = FlowSchemaStrategy.validate(&changed);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec");
        assert!(causes[0].message.ends_with("spec of 'catch-all' must equal the fixed value"));
    }
}
