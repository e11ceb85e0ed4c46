//! Discovery: the documents clients read to learn which groups, versions and resources are
//! served, built from the [`Registry`] on every request (nothing is cached, so CRDs show up and
//! disappear as soon as they are registered or removed).
//!
//! Two families are served:
//! - the legacy documents, one request per level: `APIVersions` at `/api`, `APIGroupList` at
//!   `/apis`, `APIGroup` at `/apis/{group}`, `APIResourceList` at `/api/v1` and
//!   `/apis/{group}/{version}`;
//! - the aggregated `APIGroupDiscoveryList` (`apidiscovery.k8s.io/v2`, or `v2beta1` for older
//!   clients) at `/api` and `/apis`, which carries every version and resource in one response.
//!   A client opts in through its Accept header ([`negotiate_aggregated`]); kubectl 1.27+ does.
//!
//! Everything here is pure: `&Registry` in, `serde_json::Value` out. The HTTP layer picks the
//! document and sets the response content type ([`AggregatedVersion::content_type`] for the
//! aggregated one; clients look at it to decide how to parse the body).

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::registry::{GroupVersion, Registry, Resource};

/// The API group of the aggregated discovery types.
pub const DISCOVERY_GROUP: &str = "apidiscovery.k8s.io";

/// The kind of the aggregated discovery document.
pub const DISCOVERY_LIST_KIND: &str = "APIGroupDiscoveryList";

/// The versions of the aggregated discovery format this server writes. Both have the same
/// shape; only `apiVersion` (and the response content type) differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregatedVersion {
    /// `apidiscovery.k8s.io/v2`: Kubernetes 1.30+ clients.
    V2,
    /// `apidiscovery.k8s.io/v2beta1`: Kubernetes 1.26–1.29 clients.
    V2Beta1,
}

impl AggregatedVersion {
    /// `v2` or `v2beta1`.
    pub fn version(self) -> &'static str {
        match self {
            AggregatedVersion::V2 => "v2",
            AggregatedVersion::V2Beta1 => "v2beta1",
        }
    }

    /// `apidiscovery.k8s.io/v2` or `apidiscovery.k8s.io/v2beta1`.
    pub fn api_version(self) -> &'static str {
        match self {
            AggregatedVersion::V2 => "apidiscovery.k8s.io/v2",
            AggregatedVersion::V2Beta1 => "apidiscovery.k8s.io/v2beta1",
        }
    }

    /// The `Content-Type` of a response carrying this document. client-go only parses the body
    /// as aggregated discovery when `g`, `v` and `as` are present here.
    pub fn content_type(self) -> &'static str {
        match self {
            AggregatedVersion::V2 => {
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            }
            AggregatedVersion::V2Beta1 => {
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy (unaggregated) documents
// ---------------------------------------------------------------------------------------------

/// `/api`: the core group's served versions (none when `--runtime-config` turned `v1` off), and
/// where clients from any network reach this server.
pub fn api_versions(registry: &Registry, server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": registry.versions_of(""),
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    })
}

/// `/apis`: every served non-core group with its versions, preferred version first. Groups come
/// in the registry's order (alphabetical).
pub fn api_group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|group| !group.is_empty())
        .filter_map(|group| group_entry(registry, group))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`: one group's versions. `None` for the core group (it lives at `/api`) and for
/// groups with nothing served.
pub fn api_group(registry: &Registry, group: &str) -> Option<Value> {
    if group.is_empty() {
        return None;
    }
    let Value::Object(entry) = group_entry(registry, group)? else { return None };
    let mut doc = Map::new();
    doc.insert("kind".into(), "APIGroup".into());
    doc.insert("apiVersion".into(), "v1".into());
    doc.extend(entry);
    Some(Value::Object(doc))
}

/// `/api/v1` (group `""`) and `/apis/{group}/{version}`: the resources served at one
/// group/version, each followed by its subresources (`deployments/scale`, `deployments/status`).
/// `None` when nothing is served there.
pub fn api_resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let resources = registry.in_group_version(group, version);
    if resources.is_empty() {
        return None;
    }
    let mut entries = Vec::new();
    for resource in &resources {
        entries.push(legacy_resource(resource));
        for sub in subresources(registry, resource) {
            entries.push(legacy_subresource(resource, &sub));
        }
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": GroupVersion::new(group, version).api_version(),
        "resources": entries,
    }))
}

/// `{"name", "versions", "preferredVersion"}` of one group, or `None` when it serves nothing.
fn group_entry(registry: &Registry, group: &str) -> Option<Value> {
    let versions = registry.versions_of(group);
    let preferred = versions.first()?;
    let for_discovery = |version: &str| {
        json!({
            "groupVersion": GroupVersion::new(group, version).api_version(),
            "version": version,
        })
    };
    Some(json!({
        "name": group,
        "versions": versions.iter().map(|v| for_discovery(v)).collect::<Vec<_>>(),
        "preferredVersion": for_discovery(preferred),
    }))
}

/// A `metav1.APIResource` for a resource itself. Empty `shortNames` and `categories` are left
/// out, as kube-apiserver does.
fn legacy_resource(resource: &Resource) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), resource.plural.clone().into());
    entry.insert("singularName".into(), resource.singular.clone().into());
    entry.insert("namespaced".into(), resource.namespaced.into());
    entry.insert("kind".into(), resource.kind.clone().into());
    entry.insert("verbs".into(), resource.verbs().into());
    insert_non_empty(&mut entry, "shortNames", &resource.short_names);
    insert_non_empty(&mut entry, "categories", &resource.categories);
    // A create-only resource (a review) or one of the ledger's stores nothing: no storage
    // version to fingerprint.
    if !resource.strategy.create_only() && resource.strategy.own_endpoint().is_none() {
        entry.insert("storageVersionHash".into(), storage_version_hash(resource).into());
    }
    Value::Object(entry)
}

/// A `metav1.APIResource` for `{plural}/{subresource}`: no singular name, and `group`/`version`
/// only when the subresource speaks another group/version than its parent (`Scale`).
fn legacy_subresource(resource: &Resource, sub: &Subresource) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), format!("{}/{}", resource.plural, sub.name).into());
    entry.insert("singularName".into(), "".into());
    entry.insert("namespaced".into(), resource.namespaced.into());
    if sub.response_gv != resource.gv {
        entry.insert("group".into(), sub.response_gv.group.clone().into());
        entry.insert("version".into(), sub.response_gv.version.clone().into());
    }
    entry.insert("kind".into(), sub.response_kind.clone().into());
    entry.insert("verbs".into(), sub.verbs.into());
    Value::Object(entry)
}

fn insert_non_empty(entry: &mut Map<String, Value>, key: &str, values: &[String]) {
    if !values.is_empty() {
        entry.insert(key.into(), values.into());
    }
}

/// A stable, opaque fingerprint of the storage group/version/kind: the base64 of an 8-byte hash,
/// shaped like kube-apiserver's (which clients only compare for equality, to notice a storage
/// version change). Every served version of a resource shares its storage version, so they
/// share the hash.
fn storage_version_hash(resource: &Resource) -> String {
    let gvk =
        format!("{}/{}/{}", resource.storage_gv.group, resource.storage_gv.version, resource.kind);
    STANDARD.encode(fnv1a_64(gvk.as_bytes()).to_be_bytes())
}

/// 64-bit FNV-1a: tiny, and stable across builds and Rust releases (unlike std's hasher).
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

// ---------------------------------------------------------------------------------------------
// Subresources
// ---------------------------------------------------------------------------------------------

/// A subresource as both discovery formats describe it.
#[derive(Debug)]
struct Subresource {
    /// `scale`, `status`, `token`.
    name: String,
    /// The group/version and kind of what the subresource's endpoints return.
    response_gv: GroupVersion,
    response_kind: String,
    verbs: &'static [&'static str],
}

/// Verbs of `/status` and `/scale`: read, patch and replace, never create, delete, list or watch.
const SUBRESOURCE_VERBS: &[&str] = &["get", "patch", "update"];

/// The verbs of a create-only subresource (`serviceaccounts/token`).
const CREATE_ONLY_VERBS: &[&str] = &["create"];

/// The verbs of `<resource>/history`: read an object's history, restore it (docs/history.md).
const HISTORY_VERBS: &[&str] = &["create", "get"];

/// The served subresources of a resource, alphabetically (as kube-apiserver lists them): scale,
/// status, the create-only ones registered for it (`serviceaccounts/token`), and kube-ledger's
/// `history` on every stored resource.
fn subresources(registry: &Registry, resource: &Resource) -> Vec<Subresource> {
    let mut subs = Vec::new();
    let create_only = registry.create_only_subresources(
        &resource.gv.group,
        &resource.gv.version,
        &resource.plural,
    );
    for (name, creater) in create_only {
        let (group, version, kind) = creater.kind();
        subs.push(Subresource {
            name,
            response_gv: GroupVersion::new(group, version),
            response_kind: kind.to_owned(),
            verbs: CREATE_ONLY_VERBS,
        });
    }
    if resource.scale_subresource.is_some() {
        subs.push(Subresource {
            name: "scale".to_owned(),
            response_gv: GroupVersion::new("autoscaling", "v1"),
            response_kind: "Scale".into(),
            verbs: SUBRESOURCE_VERBS,
        });
    }
    if resource.status_subresource {
        subs.push(Subresource {
            name: "status".to_owned(),
            response_gv: resource.gv.clone(),
            response_kind: resource.kind.clone(),
            verbs: SUBRESOURCE_VERBS,
        });
    }
    for &(name, kind, verbs) in super::kubelet::subresources(resource) {
        subs.push(Subresource {
            name: name.to_owned(),
            response_gv: resource.gv.clone(),
            response_kind: kind.to_owned(),
            verbs,
        });
    }
    if resource.stored() {
        subs.push(Subresource {
            name: "history".to_owned(),
            response_gv: GroupVersion::new(crate::history::GROUP, crate::history::VERSION),
            response_kind: "RevisionList".into(),
            verbs: HISTORY_VERBS,
        });
    }
    for name in resource.strategy.update_subresources() {
        subs.push(Subresource {
            name: (*name).to_owned(),
            response_gv: resource.gv.clone(),
            response_kind: resource.kind.clone(),
            verbs: SUBRESOURCE_VERBS,
        });
    }
    subs.sort_by(|a, b| a.name.cmp(&b.name));
    subs
}

// ---------------------------------------------------------------------------------------------
// Aggregated documents
// ---------------------------------------------------------------------------------------------

/// The aggregated `APIGroupDiscoveryList`: the core group only at `/api` (`legacy_core`), every
/// non-core group at `/apis`. Versions within a group are in preference order; every version is
/// `Current` (this server has no aggregated API servers that could be stale).
pub fn aggregated(registry: &Registry, legacy_core: bool, version: AggregatedVersion) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|group| group.is_empty() == legacy_core)
        .filter_map(|group| aggregated_group(registry, group))
        .collect();
    json!({
        "kind": DISCOVERY_LIST_KIND,
        "apiVersion": version.api_version(),
        "metadata": {},
        "items": items,
    })
}

/// One `APIGroupDiscovery`; the core group's name is `""`.
fn aggregated_group(registry: &Registry, group: &str) -> Option<Value> {
    let versions: Vec<Value> = registry
        .versions_of(group)
        .iter()
        .map(|version| {
            let resources: Vec<Value> = registry
                .in_group_version(group, version)
                .iter()
                .map(|r| aggregated_resource(registry, r))
                .collect();
            json!({"version": version, "resources": resources, "freshness": "Current"})
        })
        .collect();
    if versions.is_empty() {
        return None;
    }
    Some(json!({"metadata": {"name": group}, "versions": versions}))
}

/// One `APIResourceDiscovery`. Empty `shortNames`, `categories` and `subresources` are left out
/// (they are optional in the schema); `singularResource` and `verbs` are always present.
fn aggregated_resource(registry: &Registry, resource: &Resource) -> Value {
    let mut entry = Map::new();
    entry.insert("resource".into(), resource.plural.clone().into());
    entry.insert("responseKind".into(), gvk(&resource.gv, &resource.kind));
    let scope = if resource.namespaced { "Namespaced" } else { "Cluster" };
    entry.insert("scope".into(), scope.into());
    entry.insert("singularResource".into(), resource.singular.clone().into());
    entry.insert("verbs".into(), resource.verbs().into());
    insert_non_empty(&mut entry, "shortNames", &resource.short_names);
    insert_non_empty(&mut entry, "categories", &resource.categories);
    let subs: Vec<Value> = subresources(registry, resource)
        .iter()
        .map(|sub| {
            json!({
                "subresource": sub.name,
                "responseKind": gvk(&sub.response_gv, &sub.response_kind),
                "verbs": sub.verbs,
            })
        })
        .collect();
    if !subs.is_empty() {
        entry.insert("subresources".into(), subs.into());
    }
    Value::Object(entry)
}

/// A `metav1.GroupVersionKind`: all three fields always present (group `""` for core).
fn gvk(gv: &GroupVersion, kind: &str) -> Value {
    json!({"group": gv.group, "version": gv.version, "kind": kind})
}

// ---------------------------------------------------------------------------------------------
// Negotiation
// ---------------------------------------------------------------------------------------------

/// Which aggregated format an Accept header asks for, if any.
///
/// Media ranges are tried in the client's order of preference (quality, highest first; at equal
/// quality concrete types before wildcards, then the order written) and the first one this
/// server can answer decides:
/// - `application/json` with `g=apidiscovery.k8s.io`, `v=v2` or `v=v2beta1` and
///   `as=APIGroupDiscoveryList` (parameters in any order, `profile=nopeer` and others such as
///   `charset` tolerated) → that aggregated version;
/// - a plain JSON, YAML, protobuf or wildcard range → `None`: the legacy document;
/// - anything else (other `as`/`g`/`v`, aggregated protobuf, other types, `q=0`) is skipped.
///
/// An empty or unusable header also yields `None`.
pub fn negotiate_aggregated(accept: &str) -> Option<AggregatedVersion> {
    for range in accept_ranges(accept) {
        match classify(&range) {
            Answer::Aggregated(version) => return Some(version),
            Answer::Legacy => return None,
            Answer::Unsupported => {}
        }
    }
    None
}

/// One media range of an Accept header, lower-cased type and parameter names.
#[derive(Debug)]
struct AcceptRange {
    main: String,
    sub: String,
    params: Vec<(String, String)>,
    q: f32,
}

impl AcceptRange {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// 2 for `type/subtype`, 1 for `type/*`, 0 for `*/*`.
    fn specificity(&self) -> u8 {
        u8::from(self.main != "*") + u8::from(self.sub != "*")
    }
}

enum Answer {
    Aggregated(AggregatedVersion),
    Legacy,
    Unsupported,
}

fn classify(range: &AcceptRange) -> Answer {
    let wants_conversion =
        range.param("g").is_some() || range.param("v").is_some() || range.param("as").is_some();
    if !wants_conversion {
        let legacy = match (range.main.as_str(), range.sub.as_str()) {
            ("*", "*") => true,
            ("application", sub) => {
                matches!(sub, "*" | "json" | "yaml" | "vnd.kubernetes.protobuf")
            }
            _ => false,
        };
        return if legacy { Answer::Legacy } else { Answer::Unsupported };
    }
    let json = range.main == "application" && range.sub == "json";
    let known_profile = matches!(range.param("profile"), None | Some("nopeer"));
    let discovery =
        range.param("g") == Some(DISCOVERY_GROUP) && range.param("as") == Some(DISCOVERY_LIST_KIND);
    if !(json && known_profile && discovery) {
        return Answer::Unsupported;
    }
    match range.param("v") {
        Some("v2") => Answer::Aggregated(AggregatedVersion::V2),
        Some("v2beta1") => Answer::Aggregated(AggregatedVersion::V2Beta1),
        _ => Answer::Unsupported,
    }
}

/// Parses an Accept header into acceptable ranges (q > 0), most preferred first. Malformed
/// ranges are dropped; an unparsable `q` counts as 0.
fn accept_ranges(accept: &str) -> Vec<AcceptRange> {
    let mut ranges: Vec<AcceptRange> = split_unquoted(accept, ',')
        .into_iter()
        .filter_map(|raw| {
            let mut parts = split_unquoted(raw, ';').into_iter().map(str::trim);
            let (main, sub) = parts.next()?.split_once('/')?;
            let (main, sub) = (main.trim().to_ascii_lowercase(), sub.trim().to_ascii_lowercase());
            if main.is_empty() || sub.is_empty() {
                return None;
            }
            let mut q = 1.0_f32;
            let mut params = Vec::new();
            for part in parts.filter(|p| !p.is_empty()) {
                let (key, value) = part.split_once('=').unwrap_or((part, ""));
                let key = key.trim().to_ascii_lowercase();
                let value = value.trim().trim_matches('"');
                if key == "q" {
                    q = value.parse().ok().filter(|q: &f32| q.is_finite()).unwrap_or(0.0);
                } else {
                    params.push((key, value.to_owned()));
                }
            }
            (q > 0.0).then_some(AcceptRange { main, sub, params, q })
        })
        .collect();
    // Stable: ties keep the order the client wrote.
    ranges.sort_by(|a, b| {
        b.q.partial_cmp(&a.q).unwrap_or(Ordering::Equal).then(b.specificity().cmp(&a.specificity()))
    });
    ranges
}

/// Splits on `sep` outside double-quoted strings.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::registry::resource::{SameVersion, ScaleSubresource};
    use crate::registry::strategy::NoRules;
    use crate::registry::table::TableSpec;

    const ALL_VERBS: [&str; 8] =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    struct Spec {
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: String,
        short_names: &'static [&'static str],
        categories: &'static [&'static str],
        namespaced: bool,
        status: bool,
        scale: bool,
    }

    impl Spec {
        fn new(group: &'static str, version: &'static str, kind: &'static str) -> Self {
            Spec {
                group,
                version,
                kind,
                plural: format!("{}s", kind.to_lowercase()),
                short_names: &[],
                categories: &[],
                namespaced: true,
                status: false,
                scale: false,
            }
        }

        fn build(self) -> Resource {
            let gv = GroupVersion::new(self.group, self.version);
            Resource {
                gv: gv.clone(),
                kind: self.kind.into(),
                plural: self.plural.clone(),
                singular: self.kind.to_lowercase(),
                short_names: self.short_names.iter().map(|s| s.to_string()).collect(),
                categories: self.categories.iter().map(|s| s.to_string()).collect(),
                namespaced: self.namespaced,
                status_subresource: self.status,
                scale_subresource: self.scale.then(|| ScaleSubresource {
                    spec_replicas_path: ".spec.replicas".into(),
                    status_replicas_path: ".status.replicas".into(),
                    label_selector_path: Some(".status.selector".into()),
                }),
                storage_prefix: format!("/{}", self.plural),
                storage_gv: gv.clone(),
                conversion: Arc::new(SameVersion {
                    api_version: gv.api_version(),
                    kind: self.kind.into(),
                }),
                strategy: Arc::new(NoRules),
                table: TableSpec { columns: vec![] },
            }
        }
    }

    /// core/v1 pods (status) and namespaces (cluster-scoped), apps/v1 deployments (status,
    /// scale), and example.com served at v1beta1, v2 and v1 (registered in that order).
    fn registry() -> Registry {
        let registry = Registry::new();
        let specs = [
            Spec {
                short_names: &["po"],
                categories: &["all"],
                status: true,
                ..Spec::new("", "v1", "Pod")
            },
            Spec { short_names: &["ns"], namespaced: false, ..Spec::new("", "v1", "Namespace") },
            Spec {
                short_names: &["deploy"],
                categories: &["all"],
                status: true,
                scale: true,
                ..Spec::new("apps", "v1", "Deployment")
            },
            Spec::new("example.com", "v1beta1", "Widget"),
            Spec { status: true, ..Spec::new("example.com", "v2", "Widget") },
            Spec::new("example.com", "v1", "Widget"),
            Spec { namespaced: false, ..Spec::new("example.com", "v1", "Gadget") },
        ];
        for spec in specs {
            registry.register(spec.build()).unwrap();
        }
        registry
    }

    fn hash(group: &str, version: &str, kind: &str) -> String {
        STANDARD.encode(fnv1a_64(format!("{group}/{version}/{kind}").as_bytes()).to_be_bytes())
    }

    #[test]
    fn api_versions_lists_core_v1_and_the_server_address() {
        assert_eq!(
            api_versions(&Registry::new(), "10.0.0.1:6443")["versions"],
            json!([]),
            "no core version served, none listed"
        );
        assert_eq!(
            api_versions(&registry(), "10.0.0.1:6443"),
            json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}
                ],
            })
        );
    }

    #[test]
    fn api_group_list_has_non_core_groups_with_preferred_versions() {
        assert_eq!(
            api_group_list(&registry()),
            json!({
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": "apps",
                        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
                    },
                    {
                        "name": "example.com",
                        "versions": [
                            {"groupVersion": "example.com/v2", "version": "v2"},
                            {"groupVersion": "example.com/v1", "version": "v1"},
                            {"groupVersion": "example.com/v1beta1", "version": "v1beta1"},
                        ],
                        "preferredVersion": {"groupVersion": "example.com/v2", "version": "v2"},
                    },
                ],
            })
        );
    }

    #[test]
    fn api_group_list_of_an_empty_registry_is_empty() {
        assert_eq!(
            api_group_list(&Registry::new()),
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        );
    }

    #[test]
    fn api_group_serves_one_group_and_not_core_or_unknown() {
        let registry = registry();
        assert_eq!(
            api_group(&registry, "apps"),
            Some(json!({
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": "apps",
                "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
            }))
        );
        let example = api_group(&registry, "example.com").unwrap();
        assert_eq!(example["preferredVersion"]["version"], "v2");
        assert_eq!(example["versions"][2]["groupVersion"], "example.com/v1beta1");
        assert_eq!(api_group(&registry, ""), None);
        assert_eq!(api_group(&registry, "batch"), None);
    }

    #[test]
    fn core_resource_list_has_status_entries_and_omits_empty_lists() {
        let listed = api_resource_list(&registry(), "", "v1").unwrap();
        let names: Vec<&str> = listed["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(names.contains(&"pods/exec") && names.contains(&"pods/log"), "{names:?}");
        assert_eq!(
            Some(without_kubelet(listed)),
            Some(json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": "v1",
                "resources": [
                    {
                        "name": "namespaces",
                        "singularName": "namespace",
                        "namespaced": false,
                        "kind": "Namespace",
                        "verbs": ALL_VERBS,
                        "shortNames": ["ns"],
                        "storageVersionHash": hash("", "v1", "Namespace"),
                    },
                    {
                        "name": "pods",
                        "singularName": "pod",
                        "namespaced": true,
                        "kind": "Pod",
                        "verbs": ALL_VERBS,
                        "shortNames": ["po"],
                        "categories": ["all"],
                        "storageVersionHash": hash("", "v1", "Pod"),
                    },
                    {
                        "name": "pods/status",
                        "singularName": "",
                        "namespaced": true,
                        "kind": "Pod",
                        "verbs": ["get", "patch", "update"],
                    },
                ],
            }))
        );
    }

    #[test]
    fn group_resource_list_has_scale_in_autoscaling_v1() {
        assert_eq!(
            api_resource_list(&registry(), "apps", "v1").map(without_kubelet),
            Some(json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": "apps/v1",
                "resources": [
                    {
                        "name": "deployments",
                        "singularName": "deployment",
                        "namespaced": true,
                        "kind": "Deployment",
                        "verbs": ALL_VERBS,
                        "shortNames": ["deploy"],
                        "categories": ["all"],
                        "storageVersionHash": hash("apps", "v1", "Deployment"),
                    },
                    {
                        "name": "deployments/scale",
                        "singularName": "",
                        "namespaced": true,
                        "group": "autoscaling",
                        "version": "v1",
                        "kind": "Scale",
                        "verbs": ["get", "patch", "update"],
                    },
                    {
                        "name": "deployments/status",
                        "singularName": "",
                        "namespaced": true,
                        "kind": "Deployment",
                        "verbs": ["get", "patch", "update"],
                    },
                ],
            }))
        );
    }

    /// `document` without the kubelet's subresources of pods (`api::kubelet`), which every core
    /// `pods` resource has, and without the `history` every stored resource has (tested on its
    /// own): entries `pods/exec` of a resource list, `subresources` of an aggregated document.
    fn list<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Vec<Value>> {
        value.get_mut(key).and_then(Value::as_array_mut)
    }

    fn without_kubelet(mut document: Value) -> Value {
        const KUBELET: [&str; 5] = ["attach", "exec", "log", "portforward", "proxy"];
        if let Some(resources) = document.get_mut("resources").and_then(Value::as_array_mut) {
            resources.retain(|r| {
                let name = r["name"].as_str().unwrap_or("");
                !KUBELET.iter().any(|k| name == format!("pods/{k}")) && !name.ends_with("/history")
            });
        }
        for item in list(&mut document, "items").into_iter().flatten() {
            for version in list(item, "versions").into_iter().flatten() {
                for resource in list(version, "resources").into_iter().flatten() {
                    if let Some(subs) = list(resource, "subresources") {
                        subs.retain(|s| {
                            let name = s["subresource"].as_str().unwrap_or("");
                            !KUBELET.contains(&name) && name != "history"
                        });
                        if subs.is_empty() {
                            resource.as_object_mut().map(|r| r.shift_remove("subresources"));
                        }
                    }
                }
            }
        }
        document
    }

    #[test]
    fn every_stored_resource_lists_its_history_subresource() {
        let registry = registry();
        let listed = api_resource_list(&registry, "apps", "v1").unwrap();
        let history = listed["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/history")
            .cloned();
        assert_eq!(
            history,
            Some(json!({
                "name": "deployments/history",
                "singularName": "",
                "namespaced": true,
                "group": "ledger.kube-ledger.io",
                "version": "v1",
                "kind": "RevisionList",
                "verbs": ["create", "get"],
            }))
        );
        let doc = aggregated(&registry, true, AggregatedVersion::V2);
        let resources = doc["items"][0]["versions"][0]["resources"].as_array().unwrap();
        for resource in resources {
            let subs = resource["subresources"].as_array().unwrap();
            assert!(
                subs.contains(&json!({
                    "subresource": "history",
                    "responseKind": {"group": "ledger.kube-ledger.io", "version": "v1", "kind": "RevisionList"},
                    "verbs": ["create", "get"],
                })),
                "{resource}"
            );
        }
    }

    #[test]
    fn resource_list_of_unserved_group_versions_is_none() {
        let registry = registry();
        assert_eq!(api_resource_list(&registry, "apps", "v1beta1"), None);
        assert_eq!(api_resource_list(&registry, "batch", "v1"), None);
        assert_eq!(api_resource_list(&registry, "", "v2"), None);
    }

    #[test]
    fn storage_version_hash_is_stable_and_base64_of_eight_bytes() {
        let pods = registry().get("", "v1", "pods").unwrap();
        let h = storage_version_hash(&pods);
        assert_eq!(h, storage_version_hash(&pods));
        assert_eq!(h.len(), 12);
        assert!(h.ends_with('='));
        assert_eq!(STANDARD.decode(&h).unwrap().len(), 8);
        // FNV-1a reference value: the empty input hashes to the offset basis.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        let deployments = registry().get("apps", "v1", "deployments").unwrap();
        assert_ne!(h, storage_version_hash(&deployments));
    }

    #[test]
    fn aggregated_core_document_has_only_the_core_group() {
        assert_eq!(
            without_kubelet(aggregated(&registry(), true, AggregatedVersion::V2)),
            json!({
                "kind": "APIGroupDiscoveryList",
                "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {},
                "items": [{
                    "metadata": {"name": ""},
                    "versions": [{
                        "version": "v1",
                        "freshness": "Current",
                        "resources": [
                            {
                                "resource": "namespaces",
                                "responseKind": {"group": "", "version": "v1", "kind": "Namespace"},
                                "scope": "Cluster",
                                "singularResource": "namespace",
                                "verbs": ALL_VERBS,
                                "shortNames": ["ns"],
                            },
                            {
                                "resource": "pods",
                                "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                                "scope": "Namespaced",
                                "singularResource": "pod",
                                "verbs": ALL_VERBS,
                                "shortNames": ["po"],
                                "categories": ["all"],
                                "subresources": [{
                                    "subresource": "status",
                                    "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                                    "verbs": ["get", "patch", "update"],
                                }],
                            },
                        ],
                    }],
                }],
            })
        );
    }

    #[test]
    fn aggregated_apis_document_has_groups_and_versions_in_preference_order() {
        let doc = without_kubelet(aggregated(&registry(), false, AggregatedVersion::V2));
        assert_eq!(doc["kind"], "APIGroupDiscoveryList");
        assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
        assert_eq!(doc["metadata"], json!({}));
        let items = doc["items"].as_array().unwrap();
        let names: Vec<&str> =
            items.iter().map(|i| i["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["apps", "example.com"]);

        assert_eq!(
            items[0],
            json!({
                "metadata": {"name": "apps"},
                "versions": [{
                    "version": "v1",
                    "freshness": "Current",
                    "resources": [{
                        "resource": "deployments",
                        "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                        "scope": "Namespaced",
                        "singularResource": "deployment",
                        "verbs": ALL_VERBS,
                        "shortNames": ["deploy"],
                        "categories": ["all"],
                        "subresources": [
                            {
                                "subresource": "scale",
                                "responseKind": {
                                    "group": "autoscaling",
                                    "version": "v1",
                                    "kind": "Scale",
                                },
                                "verbs": ["get", "patch", "update"],
                            },
                            {
                                "subresource": "status",
                                "responseKind": {
                                    "group": "apps",
                                    "version": "v1",
                                    "kind": "Deployment",
                                },
                                "verbs": ["get", "patch", "update"],
                            },
                        ],
                    }],
                }],
            })
        );

        let example = &items[1]["versions"];
        let versions: Vec<&str> =
            example.as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
        assert_eq!(versions, ["v2", "v1", "v1beta1"]);
        // v2 widgets have status, v1 has two resources, a cluster-scoped one among them.
        assert_eq!(example[0]["resources"][0]["subresources"][0]["subresource"], "status");
        assert_eq!(
            example[0]["resources"][0]["responseKind"],
            json!({"group": "example.com", "version": "v2", "kind": "Widget"})
        );
        let v1: Vec<(&str, &str)> = example[1]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["resource"].as_str().unwrap(), r["scope"].as_str().unwrap()))
            .collect();
        assert_eq!(v1, [("gadgets", "Cluster"), ("widgets", "Namespaced")]);
        assert!(example[1]["resources"][1].get("subresources").is_none());
        assert!(example[2]["resources"][0].get("shortNames").is_none());
        assert!(example[2]["resources"][0].get("categories").is_none());
    }

    #[test]
    fn aggregated_v2beta1_differs_only_in_api_version() {
        let registry = registry();
        for core in [true, false] {
            let mut beta = aggregated(&registry, core, AggregatedVersion::V2Beta1);
            assert_eq!(beta["apiVersion"], "apidiscovery.k8s.io/v2beta1");
            beta["apiVersion"] = "apidiscovery.k8s.io/v2".into();
            assert_eq!(beta, aggregated(&registry, core, AggregatedVersion::V2));
        }
    }

    #[test]
    fn aggregated_documents_of_an_empty_registry_have_no_items() {
        for core in [true, false] {
            assert_eq!(
                aggregated(&Registry::new(), core, AggregatedVersion::V2),
                json!({
                    "kind": "APIGroupDiscoveryList",
                    "apiVersion": "apidiscovery.k8s.io/v2",
                    "metadata": {},
                    "items": [],
                })
            );
        }
    }

    #[test]
    fn content_types_name_group_version_and_kind() {
        for v in [AggregatedVersion::V2, AggregatedVersion::V2Beta1] {
            assert_eq!(
                v.content_type(),
                format!(
                    "application/json;g={DISCOVERY_GROUP};v={};as={DISCOVERY_LIST_KIND}",
                    v.version()
                )
            );
            assert_eq!(v.api_version(), format!("{DISCOVERY_GROUP}/{}", v.version()));
            // What the server writes, it also accepts.
            assert_eq!(negotiate_aggregated(v.content_type()), Some(v));
        }
    }

    #[test]
    fn negotiation_of_kubectl_accept_headers() {
        const V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
        const V2BETA1: &str =
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
        use AggregatedVersion::{V2 as Two, V2Beta1 as Beta};
        let cases: &[(String, Option<AggregatedVersion>)] = &[
            // kubectl 1.27–1.29, 1.30+ and the nopeer profile.
            (format!("{V2},{V2BETA1},application/json"), Some(Two)),
            (format!("{V2BETA1},application/json"), Some(Beta)),
            (format!("{V2},application/json"), Some(Two)),
            (format!("{V2};profile=nopeer,{V2},application/json"), Some(Two)),
            // Legacy clients.
            ("application/json".into(), None),
            ("application/json, */*".into(), None),
            ("*/*".into(), None),
            ("application/yaml".into(), None),
            ("".into(), None),
            ("   ".into(), None),
            // Order decides when the legacy type comes first.
            (format!("application/json,{V2}"), None),
            // Quality: a preferred v2beta1 beats v2; q=0 excludes a range.
            (format!("{V2};q=0.5,{V2BETA1};q=0.9,application/json;q=0.1"), Some(Beta)),
            (format!("application/json;q=0.5,{V2}"), Some(Two)),
            (format!("{V2};q=0,application/json"), None),
            (format!("{V2};q=0,{V2BETA1}"), Some(Beta)),
            (format!("{V2};q=oops,application/json"), None),
            // Whitespace, parameter order, case of names, quotes, extra parameters.
            (
                " application/json ; g=apidiscovery.k8s.io ; v=v2 ; as=APIGroupDiscoveryList , \
                 application/json"
                    .into(),
                Some(Two),
            ),
            (
                "application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io".into(),
                Some(Beta),
            ),
            (
                "Application/JSON;G=apidiscovery.k8s.io;V=v2;AS=APIGroupDiscoveryList".into(),
                Some(Two),
            ),
            (
                "application/json;g=\"apidiscovery.k8s.io\";v=\"v2\";as=APIGroupDiscoveryList"
                    .into(),
                Some(Two),
            ),
            (format!("{V2};charset=utf-8"), Some(Two)),
            // Wildcards rank after concrete types at equal quality.
            (format!("*/*,{V2}"), Some(Two)),
            (format!("*/*;q=0.8,{V2};q=0.5"), None),
            // Unservable aggregated variants are skipped, not fatal.
            (
                format!(
                    "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;\
                     as=APIGroupDiscoveryList,{V2BETA1},application/json"
                ),
                Some(Beta),
            ),
            ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList".into(), None),
            (format!("{V2};profile=other,application/json"), None),
            ("application/json;g=apidiscovery.k8s.io;v=v2".into(), None),
            ("application/json;as=Table;v=v1;g=meta.k8s.io".into(), None),
            (format!("text/html,{V2}"), Some(Two)),
            ("garbage,,;;".into(), None),
        ];
        for (accept, want) in cases {
            assert_eq!(negotiate_aggregated(accept), *want, "Accept: {accept}");
        }
    }
}
