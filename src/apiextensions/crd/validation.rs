//! Validation of a CustomResourceDefinition, with apiextensions-apiserver's field paths and
//! messages (`pkg/apis/apiextensions/validation`): the name is `<plural>.<group>`, names are
//! DNS labels, the group a dotted DNS subdomain not served by kube-ledger itself, exactly one
//! storage version, a structural schema per version (the schema engine's causes), valid scale
//! paths and printer columns, and the conversion: strategy `None`, or `Webhook` with an `https`
//! `url` (kube's URL rules), a PEM `caBundle` and `v1` among `conversionReviewVersions` (the
//! only ConversionReview version this server sends). A `service` reference is refused: this
//! server has no cluster network to reach a Service through.
//!
//! Input is the CRD as JSON after defaulting; output the causes of a 422. Wrong JSON types read
//! as absent values (and so usually as `Required`).

use serde_json::Value;

use crate::apiextensions::schema::Schema;
use crate::meta::validation::{
    FieldCause, go_quote, is_dns1035_label, is_dns1123_subdomain, name_is_dns_subdomain,
};

/// The finalizer a CRD carries while its objects are being deleted.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

const SCOPES: [&str; 2] = ["Cluster", "Namespaced"];
const CONVERSION_STRATEGIES: [&str; 2] = ["None", "Webhook"];
/// `printerColumnDatatypes`, sorted as kube lists them.
const COLUMN_TYPES: [&str; 5] = ["boolean", "date", "integer", "number", "string"];
/// `customResourceColumnDefinitionFormats`, sorted.
const COLUMN_FORMATS: [&str; 8] =
    ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"];
/// ConversionReview versions the server speaks (kube-apiserver also speaks `v1beta1`).
const REVIEW_VERSIONS: [&str; 1] = ["v1"];

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn array_at<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value.pointer(pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn present(value: &Value, pointer: &str) -> bool {
    value.pointer(pointer).is_some_and(|v| !v.is_null())
}

/// A whole CRD, as on create. `builtin_groups` are the groups the server serves itself.
pub fn validate(crd: &Value, builtin_groups: &[String]) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let name = str_at(crd, "/metadata/name");
    let spec = crd.get("spec").unwrap_or(&Value::Null);
    let required_name = format!("{}.{}", str_at(spec, "/names/plural"), str_at(spec, "/group"));
    if !name.is_empty() && name != required_name && name_is_dns_subdomain(name, false).is_empty() {
        causes.push(FieldCause::invalid(
            "metadata.name",
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    validate_spec(spec, builtin_groups, &mut causes);
    causes
}

/// An update: everything [`validate`] checks, the immutable fields, and stored versions that
/// must stay in `spec.versions`.
pub fn validate_update(new: &Value, old: &Value, builtin_groups: &[String]) -> Vec<FieldCause> {
    let mut causes = validate(new, builtin_groups);
    let established = array_at(old, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "Established" && str_at(c, "/status") == "True");
    let mut immutable =
        vec![("spec.group", "/spec/group"), ("spec.names.plural", "/spec/names/plural")];
    if established {
        immutable.insert(0, ("spec.names.kind", "/spec/names/kind"));
        immutable.insert(0, ("spec.scope", "/spec/scope"));
    }
    for (field, pointer) in immutable {
        let value = str_at(new, pointer);
        if value != str_at(old, pointer) {
            causes.push(FieldCause::invalid(field, value, "field is immutable"));
        }
    }
    let versions: Vec<&str> =
        array_at(new, "/spec/versions").iter().map(|v| str_at(v, "/name")).collect();
    for (i, stored) in array_at(new, "/status/storedVersions").iter().enumerate() {
        let stored = stored.as_str().unwrap_or_default();
        if !versions.contains(&stored) {
            causes.push(FieldCause::invalid(
                format!("status.storedVersions[{i}]"),
                stored,
                &format!(
                    "missing from spec.versions; {stored} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {stored} and removes {stored} from status.storedVersions"
                ),
            ));
        }
    }
    causes
}

fn validate_spec(spec: &Value, builtin_groups: &[String], causes: &mut Vec<FieldCause>) {
    let group = str_at(spec, "/group");
    if group.is_empty() {
        causes.push(FieldCause::required("spec.group", ""));
    } else if let errs @ [_, ..] = is_dns1123_subdomain(group).as_slice() {
        causes.push(FieldCause::invalid("spec.group", group, &errs.join(",")));
    } else if group.split('.').count() < 2 {
        causes.push(FieldCause::invalid(
            "spec.group",
            group,
            "should be a domain with at least one dot",
        ));
    } else if builtin_groups.iter().any(|g| g == group) {
        causes.push(FieldCause::invalid(
            "spec.group",
            group,
            "is a group served by the API server itself and cannot be defined by a CustomResourceDefinition",
        ));
    }

    let scope = str_at(spec, "/scope");
    if scope.is_empty() {
        causes.push(FieldCause::required("spec.scope", ""));
    } else if !SCOPES.contains(&scope) {
        causes.push(FieldCause::not_supported("spec.scope", scope, &SCOPES));
    }

    if spec.get("preserveUnknownFields").and_then(Value::as_bool) == Some(true) {
        causes.push(FieldCause::invalid(
            "spec.preserveUnknownFields",
            true,
            "cannot set to true, set x-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ));
    }

    validate_versions(spec, causes);
    validate_names(spec.get("names").unwrap_or(&Value::Null), "spec.names", true, causes);
    validate_conversion(spec.get("conversion").unwrap_or(&Value::Null), causes);
}

fn validate_versions(spec: &Value, causes: &mut Vec<FieldCause>) {
    let versions = array_at(spec, "/versions");
    let mut seen: Vec<&str> = Vec::new();
    let mut unique = true;
    let mut storage = 0;
    for (i, version) in versions.iter().enumerate() {
        let path = format!("spec.versions[{i}]");
        let name = str_at(version, "/name");
        if seen.contains(&name) {
            unique = false;
        } else {
            seen.push(name);
        }
        if version.get("storage").and_then(Value::as_bool) == Some(true) {
            storage += 1;
        }
        if let errs @ [_, ..] = is_dns1035_label(name).as_slice() {
            causes.push(FieldCause::invalid(format!("{path}.name"), name, &errs.join(",")));
        }
        validate_version(version, &path, causes);
    }
    let names = Value::from(seen.iter().map(|n| Value::from(*n)).collect::<Vec<_>>());
    if !unique {
        causes.push(FieldCause::invalid(
            "spec.versions",
            names.clone(),
            "must contain unique version names",
        ));
    }
    if storage != 1 {
        causes.push(FieldCause::invalid(
            "spec.versions",
            names,
            "must have exactly one version marked as storage version",
        ));
    }
}

fn validate_version(version: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let deprecated = version.get("deprecated").and_then(Value::as_bool) == Some(true);
    if let Some(warning) = version.get("deprecationWarning").filter(|w| !w.is_null()) {
        let text = warning.as_str().unwrap_or_default();
        let field = format!("{path}.deprecationWarning");
        if !deprecated {
            causes.push(FieldCause::invalid(
                &field,
                text,
                "can only be set for deprecated versions",
            ));
        } else if text.is_empty() {
            causes.push(FieldCause::invalid(&field, text, "must not be an empty string"));
        } else if text.len() > 256 {
            causes.push(FieldCause::invalid(&field, text, "must be <= 256 characters long"));
        } else if let Some((i, _)) = text.char_indices().find(|(_, c)| c.is_control()) {
            causes.push(FieldCause::invalid(
                &field,
                text,
                &format!("must only contain printable UTF-8 characters; control character found at index {i}"),
            ));
        }
    }

    let schema_path = format!("{path}.schema.openAPIV3Schema");
    match version.pointer("/schema/openAPIV3Schema").filter(|s| !s.is_null()) {
        None => causes.push(FieldCause::required(schema_path, "")),
        Some(schema) => {
            if let Err(errs) = Schema::parse(schema, &schema_path) {
                causes.extend(errs);
            }
        }
    }

    if let Some(scale) = version.pointer("/subresources/scale").filter(|s| !s.is_null()) {
        validate_scale(scale, &format!("{path}.subresources"), causes);
    }
    for (i, column) in array_at(version, "/additionalPrinterColumns").iter().enumerate() {
        validate_column(column, &format!("{path}.additionalPrinterColumns[{i}]"), causes);
    }
}

/// `validateSimpleJSONPath`: a dot path starting with `.`.
fn simple_json_path(value: &str, field: &str) -> Option<FieldCause> {
    if value.is_empty() {
        Some(FieldCause::invalid(field, value, "must not be empty"))
    } else if !value.starts_with('.') {
        Some(FieldCause::invalid(field, value, "must be a simple json path starting with ."))
    } else {
        None
    }
}

/// `subresources.scale`: replica paths under `.spec.` and `.status.`, the selector path under
/// either.
pub fn validate_scale(scale: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let rules = [
        ("specReplicasPath", &[".spec."][..], "should be a json path under .spec", true),
        ("statusReplicasPath", &[".status."][..], "should be a json path under .status", true),
        (
            "labelSelectorPath",
            &[".spec.", ".status."][..],
            "should be a json path under either .spec or .status",
            false,
        ),
    ];
    for (key, prefixes, message, required) in rules {
        let field = format!("{path}.scale.{key}");
        let value = str_at(scale, &format!("/{key}"));
        if value.is_empty() {
            if required {
                causes.push(FieldCause::required(field, ""));
            }
            continue;
        }
        if let Some(cause) = simple_json_path(value, &field) {
            causes.push(cause);
        } else if !prefixes.iter().any(|p| value.starts_with(p)) {
            causes.push(FieldCause::invalid(field, value, message));
        }
    }
}

/// One `additionalPrinterColumns` entry.
pub fn validate_column(column: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    if str_at(column, "/name").is_empty() {
        causes.push(FieldCause::required(format!("{path}.name"), ""));
    }
    let types = format!("must be one of {}", COLUMN_TYPES.join(","));
    let kind = str_at(column, "/type");
    if kind.is_empty() {
        causes.push(FieldCause::required(format!("{path}.type"), &types));
    } else if !COLUMN_TYPES.contains(&kind) {
        causes.push(FieldCause::invalid(format!("{path}.type"), kind, &types));
    }
    let format = str_at(column, "/format");
    if !format.is_empty() && !COLUMN_FORMATS.contains(&format) {
        let formats = format!("must be one of {}", COLUMN_FORMATS.join(","));
        causes.push(FieldCause::invalid(format!("{path}.format"), format, &formats));
    }
    let json_path = str_at(column, "/jsonPath");
    let field = format!("{path}.jsonPath");
    if json_path.is_empty() {
        causes.push(FieldCause::required(field, ""));
    } else if let Some(cause) = simple_json_path(json_path, &field) {
        causes.push(cause);
    }
}

/// `spec.names` (or `status.acceptedNames` without `required`).
pub fn validate_names(names: &Value, path: &str, required: bool, causes: &mut Vec<FieldCause>) {
    let keys = ["plural", "singular", "kind", "listKind"];
    if required {
        for key in keys {
            if str_at(names, &format!("/{key}")).is_empty() {
                causes.push(FieldCause::required(format!("{path}.{key}"), ""));
            }
        }
    }
    for key in keys {
        let value = str_at(names, &format!("/{key}"));
        if value.is_empty() {
            continue;
        }
        let kind_like = key.ends_with("ind");
        let checked = if kind_like { value.to_lowercase() } else { value.to_owned() };
        if let errs @ [_, ..] = is_dns1035_label(&checked).as_slice() {
            let detail = if kind_like {
                format!("may have mixed case, but should otherwise match: {}", errs.join(","))
            } else {
                errs.join(",")
            };
            causes.push(FieldCause::invalid(format!("{path}.{key}"), value, &detail));
        }
    }
    for list in ["shortNames", "categories"] {
        for (i, item) in array_at(names, &format!("/{list}")).iter().enumerate() {
            let item = item.as_str().unwrap_or_default();
            if let errs @ [_, ..] = is_dns1035_label(item).as_slice() {
                causes.push(FieldCause::invalid(
                    format!("{path}.{list}[{i}]"),
                    item,
                    &errs.join(","),
                ));
            }
        }
    }
    let kind = str_at(names, "/kind");
    if !kind.is_empty() && kind == str_at(names, "/listKind") {
        causes.push(FieldCause::invalid(
            format!("{path}.listKind"),
            kind,
            "kind and listKind may not be the same",
        ));
    }
}

fn validate_conversion(conversion: &Value, causes: &mut Vec<FieldCause>) {
    if conversion.is_null() {
        return;
    }
    let strategy = str_at(conversion, "/strategy");
    let client_config = conversion.pointer("/webhook/clientConfig").filter(|c| !c.is_null());
    let review_versions = array_at(conversion, "/webhook/conversionReviewVersions");
    if strategy.is_empty() {
        causes.push(FieldCause::required("spec.conversion.strategy", ""));
    } else if !CONVERSION_STRATEGIES.contains(&strategy) {
        causes.push(FieldCause::not_supported(
            "spec.conversion.strategy",
            strategy,
            &CONVERSION_STRATEGIES,
        ));
    }
    if strategy != "Webhook" {
        if client_config.is_some() {
            causes.push(FieldCause::forbidden(
                "spec.conversion.webhookClientConfig",
                "should not be set when strategy is not set to Webhook",
            ));
        }
        if !review_versions.is_empty() {
            causes.push(FieldCause::forbidden(
                "spec.conversion.conversionReviewVersions",
                "should not be set when strategy is not set to Webhook",
            ));
        }
        return;
    }
    match client_config {
        None => causes.push(FieldCause::required(
            "spec.conversion.webhookClientConfig",
            "required when strategy is set to Webhook",
        )),
        Some(config) => {
            if present(config, "/url") == present(config, "/service") {
                causes.push(FieldCause::required(
                    "spec.conversion.webhookClientConfig",
                    "exactly one of url or service is required",
                ));
            }
            if present(config, "/service") {
                causes.push(FieldCause::forbidden(
                    "spec.conversion.webhookClientConfig.service",
                    "service references are not supported by this server (it has no cluster \
                     network); use url",
                ));
            }
            if present(config, "/url") {
                let field = "spec.conversion.webhookClientConfig.url";
                validate_webhook_url(field, str_at(config, "/url"), causes);
            }
            if let Some(bundle) = config.get("caBundle").and_then(Value::as_str)
                && !bundle.is_empty()
                && !is_pem_bundle(bundle)
            {
                causes.push(FieldCause::invalid(
                    "spec.conversion.webhookClientConfig.caBundle",
                    "",
                    "must be base64 of PEM-encoded certificates",
                ));
            }
        }
    }
    let field = "spec.conversion.conversionReviewVersions";
    if review_versions.is_empty() {
        causes.push(FieldCause::required(field, ""));
    } else {
        let versions: Vec<&str> = review_versions.iter().filter_map(Value::as_str).collect();
        if !versions.iter().any(|v| REVIEW_VERSIONS.contains(v)) {
            let shown: Vec<String> = versions.iter().map(|v| go_quote(v)).collect();
            causes.push(crate::registry::builtin::invalid_rendered(
                field,
                &format!("[]string{{{}}}", shown.join(", ")),
                &format!("must include at least one of {}", REVIEW_VERSIONS.join(", ")),
            ));
        }
    }
}

/// kube's `ValidateWebhookURL` with https forced: a URL with a host, no user information,
/// query or fragment. Also for admission webhooks' `clientConfig.url`.
pub(crate) fn validate_webhook_url(field: &str, url: &str, causes: &mut Vec<FieldCause>) {
    const FORM: &str = "; desired format: https://host[/path]";
    let Some((scheme, rest)) = url.split_once("://") else {
        causes.push(FieldCause::required(field, &format!("url must be a valid URL{FORM}")));
        return;
    };
    if scheme != "https" {
        let message = format!("'https' is the only allowed URL scheme{FORM}");
        causes.push(FieldCause::invalid(field, scheme, &message));
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = rest.split('/').next().unwrap_or("");
    let (user, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    if host.is_empty() {
        causes.push(FieldCause::invalid(field, host, &format!("host must be specified{FORM}")));
    }
    if authority.contains('@') {
        let message = "user information is not permitted in the URL";
        causes.push(FieldCause::invalid(field, user, message));
    }
    if !fragment.is_empty() {
        causes.push(FieldCause::invalid(field, fragment, "fragments are not permitted in the URL"));
    }
    if !query.is_empty() {
        let message = "query parameters are not permitted in the URL";
        causes.push(FieldCause::invalid(field, query, message));
    }
    if scheme == "https" && !host.is_empty() && url.parse::<hyper::Uri>().is_err() {
        causes.push(FieldCause::invalid(field, url, "url must be a valid URL"));
    }
}

/// Whether `bundle` is base64 of one or more PEM certificates, each one the webhook client can
/// trust (a `CERTIFICATE` block of garbage would make every call fail).
pub(crate) fn is_pem_bundle(bundle: &str) -> bool {
    use base64::Engine;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let Ok(pem) = base64::engine::general_purpose::STANDARD.decode(bundle) else { return false };
    let mut certs = CertificateDer::pem_slice_iter(&pem).peekable();
    let mut roots = rustls::RootCertStore::empty();
    certs.peek().is_some() && certs.all(|c| c.is_ok_and(|c| roots.add(c).is_ok()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::meta::validation::CauseType;

    fn builtin() -> Vec<String> {
        ["", "apps", "autoscaling", "events.k8s.io", "apiextensions.k8s.io"]
            .iter()
            .map(|g| (*g).to_owned())
            .collect()
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "replicas": {"type": "integer"}, "selector": {"type": "string"}}}}})
    }

    fn crd() -> Value {
        json!({"metadata": {"name": "foos.example.com"}, "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "foos", "singular": "foo", "kind": "Foo", "listKind": "FooList",
                      "shortNames": ["fo"], "categories": ["all"]},
            "conversion": {"strategy": "None"},
            "versions": [
                {"name": "v1beta1", "served": true, "storage": false, "schema": {"openAPIV3Schema": schema()}},
                {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": schema()},
                 "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                    "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}},
                 "additionalPrinterColumns": [{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}]}]}})
    }

    fn fields(crd: &Value) -> Vec<(String, CauseType)> {
        validate(crd, &builtin()).into_iter().map(|c| (c.field, c.reason)).collect()
    }

    fn one(crd: &Value) -> FieldCause {
        let causes = validate(crd, &builtin());
        assert_eq!(causes.len(), 1, "{causes:#?}");
        causes.into_iter().next().unwrap()
    }

    #[test]
    fn a_good_crd_passes() {
        assert_eq!(fields(&crd()), vec![]);
    }

    #[test]
    fn the_name_must_be_plural_dot_group() {
        let mut c = crd();
        c["metadata"]["name"] = json!("bars.example.com");
        let cause = one(&c);
        assert_eq!(cause.field, "metadata.name");
        assert_eq!(
            cause.message,
            "Invalid value: \"bars.example.com\": must be spec.names.plural+\".\"+spec.group"
        );
    }

    #[test]
    fn groups_must_be_dotted_subdomains_not_served_by_the_server() {
        for (group, detail) in [
            ("example", "should be a domain with at least one dot"),
            ("Example.com", "a lowercase RFC 1123 subdomain"),
            ("events.k8s.io", "served by the API server itself"),
        ] {
            let mut c = crd();
            c["spec"]["group"] = json!(group);
            c["metadata"]["name"] = json!(format!("foos.{group}"));
            let causes = validate(&c, &builtin());
            let cause = causes.iter().find(|c| c.field == "spec.group").expect(group);
            assert!(cause.message.contains(detail), "{cause:?}");
        }
        let mut c = crd();
        c["spec"]["group"] = json!("");
        assert!(fields(&c).contains(&("spec.group".into(), CauseType::FieldValueRequired)));
    }

    #[test]
    fn names_are_dns_labels_and_kinds() {
        let mut c = crd();
        c["spec"]["names"] = json!({"plural": "Foos", "singular": "foo_", "kind": "Foo.x",
            "listKind": "Foo.x", "shortNames": ["ok", "-no"], "categories": ["a b"]});
        c["metadata"]["name"] = json!("Foos.example.com");
        let got: Vec<String> = validate(&c, &builtin()).into_iter().map(|c| c.field).collect();
        assert_eq!(
            got,
            [
                "spec.names.plural",
                "spec.names.singular",
                "spec.names.kind",
                "spec.names.listKind",
                "spec.names.shortNames[1]",
                "spec.names.categories[0]",
                "spec.names.listKind",
            ]
        );
        let mut c = crd();
        c["spec"]["names"]["kind"] = json!("Foo-");
        assert!(one(&c).message.starts_with(
            "Invalid value: \"Foo-\": may have mixed case, but should otherwise match: a DNS-1035 label"
        ));
        let mut c = crd();
        c["spec"]["names"]["listKind"] = json!("");
        assert_eq!(one(&c).field, "spec.names.listKind");
    }

    #[test]
    fn exactly_one_storage_version_and_unique_valid_names() {
        let mut c = crd();
        c["spec"]["versions"][0]["storage"] = json!(true);
        let cause = one(&c);
        assert_eq!(cause.field, "spec.versions");
        assert!(cause.message.ends_with("must have exactly one version marked as storage version"));
        let mut c = crd();
        c["spec"]["versions"] = json!([]);
        assert_eq!(one(&c).field, "spec.versions");
        let mut c = crd();
        c["spec"]["versions"][0]["name"] = json!("v1");
        assert!(one(&c).message.ends_with("must contain unique version names"));
        let mut c = crd();
        c["spec"]["versions"][0]["name"] = json!("V1");
        assert_eq!(one(&c).field, "spec.versions[0].name");
    }

    #[test]
    fn scope_is_namespaced_or_cluster() {
        let mut c = crd();
        c["spec"]["scope"] = json!("Global");
        let cause = one(&c);
        assert_eq!(cause.field, "spec.scope");
        assert_eq!(
            cause.message,
            "Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\""
        );
    }

    #[test]
    fn schemas_are_required_and_structural() {
        let mut c = crd();
        c["spec"]["versions"][0]["schema"] = json!(null);
        let cause = one(&c);
        assert_eq!(cause.field, "spec.versions[0].schema.openAPIV3Schema");
        assert_eq!(cause.reason, CauseType::FieldValueRequired);
        let mut c = crd();
        c["spec"]["versions"][1]["schema"]["openAPIV3Schema"] =
            json!({"type": "object", "properties": {"spec": {"properties": {}}}});
        let cause = one(&c);
        assert_eq!(cause.field, "spec.versions[1].schema.openAPIV3Schema.properties[spec].type");
    }

    #[test]
    fn scale_paths() {
        let mut causes = Vec::new();
        let scale = json!({"specReplicasPath": "spec.replicas", "statusReplicasPath": ".spec.replicas",
            "labelSelectorPath": ".metadata.labels"});
        validate_scale(&scale, "spec.versions[0].subresources", &mut causes);
        let got: Vec<(&str, &str)> =
            causes.iter().map(|c| (c.field.as_str(), c.message.as_str())).collect();
        assert_eq!(
            got,
            [
                (
                    "spec.versions[0].subresources.scale.specReplicasPath",
                    "Invalid value: \"spec.replicas\": must be a simple json path starting with ."
                ),
                (
                    "spec.versions[0].subresources.scale.statusReplicasPath",
                    "Invalid value: \".spec.replicas\": should be a json path under .status"
                ),
                (
                    "spec.versions[0].subresources.scale.labelSelectorPath",
                    "Invalid value: \".metadata.labels\": should be a json path under either .spec or .status"
                ),
            ]
        );
        let mut causes = Vec::new();
        validate_scale(&json!({}), "p", &mut causes);
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].reason, CauseType::FieldValueRequired);
    }

    #[test]
    fn printer_columns() {
        let mut causes = Vec::new();
        validate_column(
            &json!({"name": "", "type": "text", "format": "hex", "jsonPath": "spec.x"}),
            "c",
            &mut causes,
        );
        let got: Vec<(&str, &str)> =
            causes.iter().map(|c| (c.field.as_str(), c.message.as_str())).collect();
        assert_eq!(
            got,
            [
                ("c.name", "Required value"),
                (
                    "c.type",
                    "Invalid value: \"text\": must be one of boolean,date,integer,number,string"
                ),
                (
                    "c.format",
                    "Invalid value: \"hex\": must be one of byte,date,date-time,double,float,int32,int64,password"
                ),
                (
                    "c.jsonPath",
                    "Invalid value: \"spec.x\": must be a simple json path starting with ."
                ),
            ]
        );
    }

    #[test]
    fn conversion_strategies() {
        let mut c = crd();
        c["spec"]["conversion"] = json!({"strategy": "Magic"});
        assert_eq!(one(&c).reason, CauseType::FieldValueNotSupported);
        let mut c = crd();
        c["spec"]["conversion"] = json!({"strategy": "Webhook"});
        let got = fields(&c);
        assert_eq!(
            got,
            [
                ("spec.conversion.webhookClientConfig".into(), CauseType::FieldValueRequired),
                ("spec.conversion.conversionReviewVersions".into(), CauseType::FieldValueRequired),
            ]
        );
        let mut c = crd();
        c["spec"]["conversion"] = json!({"strategy": "Webhook", "webhook": {
            "clientConfig": {"url": "https://x.example.com/convert"}, "conversionReviewVersions": ["v2"]}});
        let causes = validate(&c, &builtin());
        assert_eq!(
            causes[0].message,
            "Invalid value: []string{\"v2\"}: must include at least one of v1"
        );
        assert_eq!(causes.len(), 1);
        let mut c = crd();
        c["spec"]["conversion"] =
            json!({"strategy": "None", "webhook": {"clientConfig": {"url": "x"}}});
        assert_eq!(one(&c).field, "spec.conversion.webhookClientConfig");
    }

    #[test]
    fn conversion_webhooks_need_an_https_url_pem_and_review_v1() {
        use base64::Engine;
        let pem = rcgen::generate_simple_self_signed(vec!["x".to_owned()]).unwrap().cert.pem();
        let bundle = base64::engine::general_purpose::STANDARD.encode(pem);
        let webhook = |client: Value, versions: Value| {
            let mut c = crd();
            c["spec"]["conversion"] = json!({"strategy": "Webhook", "webhook": {
                "clientConfig": client, "conversionReviewVersions": versions}});
            validate(&c, &builtin())
        };
        let ok = json!({"url": "https://127.0.0.1:8443/convert", "caBundle": bundle});
        assert_eq!(webhook(ok, json!(["v1beta1", "v1"])), []);
        // A CERTIFICATE block that holds no certificate the client could trust.
        let garbage = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let garbage = base64::engine::general_purpose::STANDARD.encode(garbage);
        let url = "https://127.0.0.1:8443/convert";
        let causes = webhook(json!({"url": url, "caBundle": garbage}), json!(["v1"]));
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, "spec.conversion.webhookClientConfig.caBundle");
        let causes = webhook(json!({"url": "http://x.example.com/convert"}), json!(["v1"]));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.conversion.webhookClientConfig.url");
        assert!(causes[0].message.contains("'https' is the only allowed URL scheme"));
        let causes = webhook(json!({"url": "https://u@x/c?a=1#f"}), json!(["v1"]));
        let got: Vec<&str> = causes.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            got,
            [
                "Invalid value: \"u\": user information is not permitted in the URL",
                "Invalid value: \"f\": fragments are not permitted in the URL",
                "Invalid value: \"a=1\": query parameters are not permitted in the URL",
            ]
        );
        let service = json!({"service": {"namespace": "ns", "name": "conv", "port": 443}});
        let causes = webhook(service, json!(["v1"]));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.conversion.webhookClientConfig.service");
        assert_eq!(causes[0].reason, CauseType::FieldValueForbidden);
        assert!(causes[0].message.contains("use url"));
        let causes = webhook(json!({"url": "https://x/c"}), json!(["v1beta1"]));
        assert_eq!(causes[0].field, "spec.conversion.conversionReviewVersions");
        let causes =
            webhook(json!({"url": "https://x/c", "caBundle": "bm90IHBlbQ=="}), json!(["v1"]));
        assert_eq!(causes[0].field, "spec.conversion.webhookClientConfig.caBundle");
    }

    #[test]
    fn updates_keep_group_plural_and_stored_versions() {
        let old = json!({"spec": crd()["spec"], "metadata": crd()["metadata"],
            "status": {"conditions": [{"type": "Established", "status": "True"}],
                       "storedVersions": ["v1"]}});
        let mut new = old.clone();
        new["spec"]["scope"] = json!("Cluster");
        new["spec"]["names"]["kind"] = json!("Bar");
        new["spec"]["names"]["listKind"] = json!("BarList");
        let got: Vec<String> =
            validate_update(&new, &old, &builtin()).into_iter().map(|c| c.field).collect();
        assert_eq!(got, ["spec.scope", "spec.names.kind"]);
        let mut new = old.clone();
        new["status"]["storedVersions"] = json!(["v0", "v1"]);
        let causes = validate_update(&new, &old, &builtin());
        assert_eq!(causes[0].field, "status.storedVersions[0]");
    }
}
