//! Validation of Mutating/ValidatingWebhookConfigurations with kube's field paths and messages
//! (`pkg/apis/admissionregistration/validation`): webhook names fully qualified and unique,
//! exactly one of `clientConfig.url`/`service` (an https URL with a host and no user
//! information, query or fragment), `rules` (operations, apiGroups, apiVersions, resources and
//! their wildcards, scope), `failurePolicy`, `matchPolicy`, `sideEffects` (required, `None` or
//! `NoneOnDryRun` as the v1 API demands), `timeoutSeconds` 1–30, `admissionReviewVersions`
//! naming one this server speaks, valid label selectors, and `reinvocationPolicy` for mutating
//! webhooks.
//!
//! `matchConditions` as kube checks them: at most 64, each with a qualified, unique `name` and
//! an `expression` compiled in the admission CEL environment (`object`, `oldObject`, `request`,
//! `authorizer`, `authorizer.requestResource`; `params` is not declared): `compilation failed:
//! …`.
//!
//! One refusal goes beyond kube-apiserver, because this server could never honour it:
//! `clientConfig.service`: kube-ledger has no cluster network (no pods, no endpoints, no
//! cluster DNS), so a Service cannot be reached; as for CRD conversion webhooks, use `url`.
//! Accepting it would leave a webhook that fails every call — with the default
//! `failurePolicy: Fail`, every write it matches.
//!
//! A `caBundle` that is not base64 of PEM certificates is refused too (kube would store it and
//! fail every call); an empty one is accepted, as kube does (cert-manager's CA injector fills it
//! in after the configuration is created), and calls fail until it is set.

use std::collections::HashSet;

use serde_json::Value;

use super::super::{
    go_string_slice, invalid_rendered, object_items, opt_array, opt_int, opt_object, opt_str,
};
use crate::admission::policy::compile::compile_expression;
use crate::admission::policy::typecheck::Declared;
use crate::apiextensions::crd::validation::{is_pem_bundle, validate_webhook_url};
use crate::meta::labels::{LabelSelector, validate_label_selector};
use crate::meta::validation::{
    CauseType, FieldCause, is_dns1035_label, is_dns1123_subdomain, is_qualified_name,
};

/// AdmissionReview versions this server sends, in its order of preference.
pub const REVIEW_VERSIONS: [&str; 2] = ["v1", "v1beta1"];

const OPERATIONS: [&str; 5] = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const SCOPES: [&str; 3] = ["*", "Cluster", "Namespaced"];
const FAILURE_POLICIES: [&str; 2] = ["Fail", "Ignore"];
const MATCH_POLICIES: [&str; 2] = ["Equivalent", "Exact"];
/// The v1 API admits only webhooks without side effects on dry runs.
const SIDE_EFFECTS: [&str; 2] = ["None", "NoneOnDryRun"];
const REINVOCATION_POLICIES: [&str; 2] = ["IfNeeded", "Never"];

/// Every cause of a configuration; ObjectMeta is the store's.
pub fn validate(config: &Value, mutating: bool) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let hooks = opt_array(config, "webhooks", "webhooks", &mut causes);
    let mut names = HashSet::new();
    for (i, hook) in object_items(hooks, "webhooks", &mut causes) {
        let path = format!("webhooks[{i}]");
        validate_webhook(hook, &path, mutating, &mut causes);
        let name = hook.get("name").and_then(Value::as_str).unwrap_or("");
        if !name.is_empty() && !names.insert(name) {
            causes.push(FieldCause::duplicate(format!("{path}.name"), name));
        }
    }
    causes
}

fn validate_webhook(hook: &Value, path: &str, mutating: bool, causes: &mut Vec<FieldCause>) {
    let name = opt_str(hook, "name", &format!("{path}.name"), causes).unwrap_or("");
    validate_fully_qualified_name(name, &format!("{path}.name"), causes);

    let rules_path = format!("{path}.rules");
    for (i, rule) in
        object_items(opt_array(hook, "rules", &rules_path, causes), &rules_path, causes)
    {
        validate_rule(rule, &format!("{rules_path}[{i}]"), causes);
    }

    let one_of = |key: &str, valid: &[&str], causes: &mut Vec<FieldCause>| {
        let field = format!("{path}.{key}");
        if let Some(value) = opt_str(hook, key, &field, causes)
            && !valid.contains(&value)
        {
            causes.push(FieldCause::not_supported(field, value, valid));
        }
    };
    one_of("failurePolicy", &FAILURE_POLICIES, causes);
    one_of("matchPolicy", &MATCH_POLICIES, causes);
    if mutating {
        one_of("reinvocationPolicy", &REINVOCATION_POLICIES, causes);
    }

    let side_effects = format!("{path}.sideEffects");
    match opt_str(hook, "sideEffects", &side_effects, causes) {
        None => causes.push(FieldCause::required(
            side_effects,
            &format!("must specify one of {}", SIDE_EFFECTS.join(", ")),
        )),
        Some(value) if !SIDE_EFFECTS.contains(&value) => {
            causes.push(FieldCause::not_supported(side_effects, value, &SIDE_EFFECTS));
        }
        Some(_) => {}
    }

    let timeout = format!("{path}.timeoutSeconds");
    if let Some(seconds) = opt_int(hook, "timeoutSeconds", &timeout, causes)
        && !(1..=30).contains(&seconds)
    {
        let detail = "the timeout value must be between 1 and 30 seconds";
        causes.push(FieldCause::invalid(timeout, seconds, detail));
    }

    validate_selectors(hook, path, causes);

    validate_match_conditions(hook, &format!("{path}.matchConditions"), causes);

    validate_client_config(hook, &format!("{path}.clientConfig"), causes);
    validate_review_versions(hook, &format!("{path}.admissionReviewVersions"), causes);
}

/// kube's most `matchConditions` per webhook.
const MAX_MATCH_CONDITIONS: usize = 64;

/// kube's `validateMatchConditions` for a webhook: at most 64; each an `expression` (required,
/// compiled) and a `name` (required, a qualified name, unique).
fn validate_match_conditions(hook: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let conditions = opt_array(hook, "matchConditions", path, causes);
    if conditions.len() > MAX_MATCH_CONDITIONS {
        causes.push(FieldCause {
            field: path.to_owned(),
            reason: CauseType::FieldValueTooMany,
            message: format!(
                "Too many: {}: must have at most {MAX_MATCH_CONDITIONS} items",
                conditions.len()
            ),
        });
        return;
    }
    let declared = Declared::default();
    let mut names = HashSet::new();
    for (i, condition) in object_items(conditions, path, causes) {
        let at = format!("{path}[{i}]");
        let text = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or("");
        let expression = text("expression").trim();
        if expression.is_empty() {
            causes.push(FieldCause::required(format!("{at}.expression"), ""));
        } else if let Err(detail) = compile_expression(expression, &declared) {
            causes.push(FieldCause::invalid(format!("{at}.expression"), expression, &detail));
        }
        validate_match_condition_name(text("name"), &format!("{at}.name"), &mut names, causes);
    }
}

/// A `matchConditions[i].name` of a webhook or a policy: required, a qualified name, and not
/// one already in `names` (which it joins).
pub(crate) fn validate_match_condition_name<'a>(
    name: &'a str,
    field: &str,
    names: &mut HashSet<&'a str>,
    causes: &mut Vec<FieldCause>,
) {
    if name.is_empty() {
        causes.push(FieldCause::required(field, ""));
        return;
    }
    for message in is_qualified_name(name) {
        causes.push(FieldCause::invalid(field, name, &message));
    }
    if !names.insert(name) {
        causes.push(FieldCause::duplicate(field, name));
    }
}

/// `IsFullyQualifiedName`: a DNS subdomain of at least three labels (`name.example.com`).
fn validate_fully_qualified_name(name: &str, field: &str, causes: &mut Vec<FieldCause>) {
    if name.is_empty() {
        causes.push(FieldCause::required(field, ""));
        return;
    }
    let errors = is_dns1123_subdomain(name);
    if !errors.is_empty() {
        causes.push(FieldCause::invalid(field, name, &errors.join(",")));
        return;
    }
    if name.split('.').count() < 3 {
        let detail = "should be a domain with at least three segments separated by dots";
        causes.push(FieldCause::invalid(field, name, detail));
    }
}

/// `validateRuleWithOperations` and `validateRule` (subresources allowed).
pub(crate) fn validate_rule(rule: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let operations = strings(rule, "operations", &format!("{path}.operations"), causes);
    if operations.is_empty() {
        causes.push(FieldCause::required(format!("{path}.operations"), ""));
    }
    if operations.len() > 1 && operations.contains(&"*") {
        causes.push(invalid_rendered(
            format!("{path}.operations"),
            &go_string_slice(rule.get("operations")),
            "if '*' is present, must not specify other operations",
        ));
    }
    for (i, operation) in operations.iter().enumerate() {
        if !OPERATIONS.contains(operation) {
            let field = format!("{path}.operations[{i}]");
            causes.push(FieldCause::not_supported(field, *operation, &OPERATIONS));
        }
    }

    for (key, what) in [("apiGroups", "API groups"), ("apiVersions", "API versions")] {
        let field = format!("{path}.{key}");
        let values = strings(rule, key, &field, causes);
        if values.is_empty() {
            causes.push(FieldCause::required(field.clone(), ""));
        }
        if values.len() > 1 && values.contains(&"*") {
            causes.push(invalid_rendered(
                field.clone(),
                &go_string_slice(rule.get(key)),
                &format!("if '*' is present, must not specify other {what}"),
            ));
        }
        if key == "apiVersions" {
            for (i, _) in values.iter().enumerate().filter(|(_, v)| v.is_empty()) {
                causes.push(FieldCause::required(format!("{field}[{i}]"), ""));
            }
        }
    }

    validate_resources(rule, &format!("{path}.resources"), causes);

    let scope = format!("{path}.scope");
    if let Some(value) = opt_str(rule, "scope", &scope, causes)
        && !SCOPES.contains(&value)
    {
        causes.push(FieldCause::not_supported(scope, value, &SCOPES));
    }
}

/// `validateResources`: `*`, `*/*`, `pods`, `pods/*`, `*/status`, `pods/status`, without
/// combinations that overlap.
fn validate_resources(rule: &Value, field: &str, causes: &mut Vec<FieldCause>) {
    let resources = strings(rule, "resources", field, causes);
    if resources.is_empty() {
        causes.push(FieldCause::required(field, ""));
    }
    let mut wildcard_subresources = HashSet::new();
    let mut wildcard_resources = HashSet::new();
    let (mut double_wildcard, mut single_wildcard, mut plain_resource) = (false, false, false);
    for (i, resource) in resources.iter().enumerate() {
        if resource.is_empty() {
            causes.push(FieldCause::required(format!("{field}[{i}]"), ""));
            continue;
        }
        double_wildcard |= *resource == "*/*";
        single_wildcard |= *resource == "*";
        let Some((res, sub)) = resource.split_once('/') else {
            plain_resource |= *resource != "*";
            continue;
        };
        if wildcard_subresources.contains(res) {
            let detail = format!("if '{res}/*' is present, must not specify {resource}");
            causes.push(FieldCause::invalid(format!("{field}[{i}]"), *resource, &detail));
        }
        if wildcard_resources.contains(sub) {
            let detail = format!("if '*/{sub}' is present, must not specify {resource}");
            causes.push(FieldCause::invalid(format!("{field}[{i}]"), *resource, &detail));
        }
        if sub == "*" {
            wildcard_subresources.insert(res);
        }
        if res == "*" {
            wildcard_resources.insert(sub);
        }
    }
    let rendered = go_string_slice(rule.get("resources"));
    if resources.len() > 1 && double_wildcard {
        let detail = "if '*/*' is present, must not specify other resources";
        causes.push(invalid_rendered(field, &rendered, detail));
    }
    if single_wildcard && plain_resource {
        let detail = "if '*' is present, must not specify other resources without subresources";
        causes.push(invalid_rendered(field, &rendered, detail));
    }
}

/// Exactly one of `url` and `service`; see the module docs for why `service` is refused.
fn validate_client_config(hook: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let empty = Value::Null;
    let config = match opt_object(hook, "clientConfig", path, causes) {
        Some(_) => &hook["clientConfig"],
        None => &empty,
    };
    let present = |key: &str| config.get(key).is_some_and(|v| !v.is_null());
    if present("url") == present("service") {
        causes.push(FieldCause::required(path, "exactly one of url or service is required"));
    }
    if present("service") {
        causes.push(FieldCause::forbidden(
            format!("{path}.service"),
            "service references are not supported by this server (it has no cluster network \
             to reach a Service through); use url",
        ));
    }
    if present("url") {
        let field = format!("{path}.url");
        if let Some(url) = opt_str(config, "url", &field, causes) {
            validate_webhook_url(&field, url, causes);
        }
    }
    let field = format!("{path}.caBundle");
    if let Some(bundle) = opt_str(config, "caBundle", &field, causes)
        && !bundle.is_empty()
        && !is_pem_bundle(bundle)
    {
        causes.push(FieldCause::invalid(field, "", "must be base64 of PEM-encoded certificates"));
    }
}

/// `validateAdmissionReviewVersions`: at least one, no duplicates, DNS-1035 labels, and one
/// this server speaks.
fn validate_review_versions(hook: &Value, field: &str, causes: &mut Vec<FieldCause>) {
    let versions = strings(hook, "admissionReviewVersions", field, causes);
    if versions.is_empty() {
        let detail = format!("must specify one of {}", REVIEW_VERSIONS.join(", "));
        causes.push(FieldCause::required(field, &detail));
        return;
    }
    let mut seen = HashSet::new();
    for (i, version) in versions.iter().enumerate() {
        if !seen.insert(*version) {
            causes.push(FieldCause::invalid(
                format!("{field}[{i}]"),
                *version,
                "duplicate version",
            ));
            continue;
        }
        for error in is_dns1035_label(version) {
            causes.push(FieldCause::invalid(format!("{field}[{i}]"), *version, &error));
        }
    }
    if !versions.iter().any(|v| REVIEW_VERSIONS.contains(v)) {
        causes.push(invalid_rendered(
            field,
            &go_string_slice(hook.get("admissionReviewVersions")),
            &format!("must include at least one of {}", REVIEW_VERSIONS.join(", ")),
        ));
    }
}

/// A list of strings; a wrong type adds a cause and its element is skipped.
pub(crate) fn strings<'a>(
    object: &'a Value,
    key: &str,
    field: &str,
    causes: &mut Vec<FieldCause>,
) -> Vec<&'a str> {
    let mut out = Vec::new();
    for (i, item) in opt_array(object, key, field, causes).iter().enumerate() {
        match item.as_str() {
            Some(s) => out.push(s),
            None => causes.push(FieldCause::type_invalid(
                format!("{field}[{i}]"),
                item.clone(),
                "must be a string",
            )),
        }
    }
    out
}

/// `namespaceSelector` and `objectSelector` of a webhook or a policy's `matchResources`: each a
/// valid label selector.
pub(crate) fn validate_selectors(object: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    for key in ["namespaceSelector", "objectSelector"] {
        let field = format!("{path}.{key}");
        if let Some(selector) = object.get(key).filter(|s| !s.is_null()) {
            let found = validate_label_selector(selector, &field);
            let clean = found.is_empty();
            causes.extend(found);
            if clean && LabelSelector::from_structured(selector).is_err() {
                causes.push(FieldCause::invalid(
                    field,
                    selector.clone(),
                    "invalid label selector.",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use serde_json::json;

    use super::*;
    use crate::registry::builtin::cause_texts;

    fn hook() -> Value {
        json!({"name": "label.example.com",
               "clientConfig": {"url": "https://127.0.0.1:8443/mutate"},
               "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""],
                          "apiVersions": ["v1"], "resources": ["configmaps"], "scope": "*"}],
               "failurePolicy": "Fail", "matchPolicy": "Equivalent", "sideEffects": "None",
               "timeoutSeconds": 10, "admissionReviewVersions": ["v1"],
               "namespaceSelector": {}, "objectSelector": {}, "reinvocationPolicy": "Never"})
    }

    fn causes_of(change: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut hook = hook();
        change(&mut hook);
        cause_texts(&validate(&json!({"webhooks": [hook]}), true))
    }

    #[test]
    fn a_complete_webhook_is_valid() {
        assert!(causes_of(|_| {}).is_empty());
        assert!(validate(&json!({}), false).is_empty(), "no webhooks at all is valid");
        let ca = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap().cert.pem();
        let ca = base64::engine::general_purpose::STANDARD.encode(ca);
        assert!(causes_of(|h| h["clientConfig"]["caBundle"] = json!(ca)).is_empty());
    }

    #[test]
    fn names_are_qualified_and_unique() {
        assert_eq!(
            causes_of(|h| h["name"] = json!("label")),
            ["webhooks[0].name: Invalid value: \"label\": should be a domain with at least \
              three segments separated by dots"]
        );
        assert_eq!(causes_of(|h| h["name"] = json!("")), ["webhooks[0].name: Required value"]);
        let twice = json!({"webhooks": [hook(), hook()]});
        assert_eq!(
            cause_texts(&validate(&twice, false)),
            ["webhooks[1].name: Duplicate value: \"label.example.com\""]
        );
    }

    #[test]
    fn client_config_needs_exactly_one_https_url() {
        let exactly_one = "webhooks[0].clientConfig: Required value: exactly one of url or \
                           service is required";
        assert_eq!(causes_of(|h| h["clientConfig"] = json!({})), [exactly_one]);
        let http = causes_of(|h| h["clientConfig"]["url"] = json!("http://127.0.0.1/x"));
        assert_eq!(
            http,
            ["webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only \
              allowed URL scheme; desired format: https://host[/path]"]
        );
        let query = causes_of(|h| h["clientConfig"]["url"] = json!("https://u@h/x?a=b#f"));
        assert_eq!(query.len(), 3, "{query:?}");
        let service = causes_of(|h| {
            h["clientConfig"] = json!({"service": {"namespace": "ns", "name": "svc", "port": 443}})
        });
        assert_eq!(service.len(), 1, "{service:?}");
        assert!(service[0].starts_with("webhooks[0].clientConfig.service: Forbidden"));
        let bad_ca = causes_of(|h| h["clientConfig"]["caBundle"] = json!("bm90IGEgY2VydA=="));
        assert_eq!(
            bad_ca,
            ["webhooks[0].clientConfig.caBundle: Invalid value: \"\": must be base64 of \
              PEM-encoded certificates"]
        );
    }

    #[test]
    fn rules_policies_and_versions() {
        assert_eq!(
            causes_of(|h| h["rules"][0]["operations"] = json!(["*", "CREATE"])),
            ["webhooks[0].rules[0].operations: Invalid value: []string{\"*\", \"CREATE\"}: if \
              '*' is present, must not specify other operations"]
        );
        assert_eq!(
            causes_of(|h| h["rules"][0]["operations"] = json!(["PATCH"])),
            ["webhooks[0].rules[0].operations[0]: Unsupported value: \"PATCH\": supported \
              values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\""]
        );
        assert_eq!(
            causes_of(|h| h["rules"][0]["resources"] = json!(["*", "pods"])),
            ["webhooks[0].rules[0].resources: Invalid value: []string{\"*\", \"pods\"}: if '*' \
              is present, must not specify other resources without subresources"]
        );
        assert_eq!(
            causes_of(|h| h["rules"][0]["resources"] = json!(["pods/*", "pods/status"])),
            ["webhooks[0].rules[0].resources[1]: Invalid value: \"pods/status\": if 'pods/*' is \
              present, must not specify pods/status"]
        );
        assert!(causes_of(|h| h["rules"][0]["resources"] = json!(["*", "*/status"])).is_empty());
        assert_eq!(causes_of(|h| h["rules"][0]["scope"] = json!("Global")).len(), 1);
        assert_eq!(
            causes_of(|h| h["rules"][0]["apiVersions"] = json!([])),
            ["webhooks[0].rules[0].apiVersions: Required value"]
        );
        assert_eq!(
            causes_of(|h| {
                h.as_object_mut().unwrap().shift_remove("sideEffects");
            }),
            ["webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"]
        );
        assert_eq!(
            causes_of(|h| h["sideEffects"] = json!("Some")),
            ["webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \
              \"NoneOnDryRun\""]
        );
        assert_eq!(
            causes_of(|h| h["timeoutSeconds"] = json!(31)),
            ["webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between \
              1 and 30 seconds"]
        );
        assert_eq!(causes_of(|h| h["failurePolicy"] = json!("Retry")).len(), 1);
        assert_eq!(causes_of(|h| h["matchPolicy"] = json!("Loose")).len(), 1);
        assert_eq!(causes_of(|h| h["reinvocationPolicy"] = json!("Always")).len(), 1);
        assert_eq!(
            causes_of(|h| h["admissionReviewVersions"] = json!(["v2"])),
            ["webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must \
              include at least one of v1, v1beta1"]
        );
        assert_eq!(
            causes_of(|h| h["admissionReviewVersions"] = json!(["v1", "v1"])),
            ["webhooks[0].admissionReviewVersions[1]: Invalid value: \"v1\": duplicate version"]
        );
        let selector = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
        let bad = causes_of(|h| h["objectSelector"] = selector);
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].starts_with("webhooks[0].objectSelector.matchExpressions[0].values"));
        let conditions = json!([
            {"name": "ok", "expression": "request.userInfo.username != 'admin'"},
            {"name": "ok", "expression": "object.metadata.name =="},
            {"name": "bad name!", "expression": "params.x == 1"},
            {"name": "", "expression": " "},
            {"name": "authz", "expression": "authorizer.requestResource.check('get').allowed()"}]);
        let cel = causes_of(|h| h["matchConditions"] = conditions);
        assert_eq!(cel.len(), 6, "{cel:?}");
        assert!(
            cel[0].starts_with(
                "webhooks[0].matchConditions[1].expression: Invalid value: \"object.metadata.name ==\": compilation failed: ERROR: <input>:1:"
            ),
            "{cel:?}"
        );
        assert_eq!(cel[1], "webhooks[0].matchConditions[1].name: Duplicate value: \"ok\"");
        assert!(cel[2].contains("undeclared reference to 'params'"), "{cel:?}");
        assert!(
            cel[3].starts_with("webhooks[0].matchConditions[2].name: Invalid value: \"bad name!\"")
        );
        assert_eq!(
            &cel[4..],
            [
                "webhooks[0].matchConditions[3].expression: Required value",
                "webhooks[0].matchConditions[3].name: Required value",
            ]
        );
        let many: Vec<Value> =
            (0..65).map(|i| json!({"name": format!("c{i}"), "expression": "true"})).collect();
        assert_eq!(
            causes_of(|h| h["matchConditions"] = json!(many)),
            ["webhooks[0].matchConditions: Too many: 65: must have at most 64 items"]
        );
    }
}
