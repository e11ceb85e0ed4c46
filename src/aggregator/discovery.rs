//! The remote APIServices' part of discovery: what each extension API server said its
//! group/version serves (its `APIResourceList`), kept by the availability loop
//! ([`super::availability`]) on every replica and merged into this server's own documents:
//! `/apis` (`APIGroupList`), `/apis/<group>`, and the aggregated `APIGroupDiscoveryList`.
//!
//! An extension that stops answering keeps its last known resources, marked `freshness: Stale`
//! in aggregated discovery (kube-aggregator's discovery manager does the same), and one never
//! reached is listed with no resources, also stale. Nothing here ever fails: a broken extension
//! never breaks discovery of the rest. Groups are ordered after the local ones; versions by
//! `versionPriority` (highest first), then kube's version order.

use std::collections::BTreeMap;
use std::sync::RwLock;

use serde_json::{Map, Value, json};

use crate::registry::version_priority;

/// One remote group/version.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteVersion {
    pub group: String,
    pub version: String,
    pub group_priority: i64,
    pub version_priority: i64,
    /// The `resources` of the extension's last `APIResourceList`; `None` until one arrived.
    pub resources: Option<Vec<Value>>,
    /// Whether the last check reached the extension.
    pub fresh: bool,
}

/// The remote group/versions by APIService name.
#[derive(Debug, Default)]
pub struct RemoteDiscovery {
    versions: RwLock<BTreeMap<String, RemoteVersion>>,
    /// Their OpenAPI documents, merged into `/openapi/v2` and `/openapi/v3`.
    pub openapi: super::openapi::RemoteOpenApi,
}

impl RemoteDiscovery {
    /// Records the outcome of a check of the APIService `name`: `resources` when the
    /// extension answered, `None` when it did not (the last resources are kept, stale).
    pub fn record(&self, name: &str, mut entry: RemoteVersion) {
        let mut versions = self.versions.write().unwrap_or_else(|e| e.into_inner());
        if entry.resources.is_none()
            && let Some(previous) = versions.get(name)
        {
            entry.resources.clone_from(&previous.resources);
        }
        versions.insert(name.to_owned(), entry);
    }

    /// Forgets the APIServices not in `names` (deleted, or now local).
    pub fn retain(&self, names: &[String]) {
        let mut versions = self.versions.write().unwrap_or_else(|e| e.into_inner());
        versions.retain(|name, _| names.contains(name));
    }

    /// Every remote group with its versions, preferred first; groups by descending
    /// `groupPriorityMinimum`, then name.
    pub fn groups(&self) -> Vec<(String, Vec<RemoteVersion>)> {
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        let mut groups: BTreeMap<String, Vec<RemoteVersion>> = BTreeMap::new();
        for entry in versions.values() {
            groups.entry(entry.group.clone()).or_default().push(entry.clone());
        }
        let mut groups: Vec<(String, Vec<RemoteVersion>)> = groups.into_iter().collect();
        for (_, versions) in &mut groups {
            versions.sort_by(|a, b| {
                b.version_priority
                    .cmp(&a.version_priority)
                    .then_with(|| version_priority(&b.version).cmp(&version_priority(&a.version)))
            });
        }
        groups.sort_by(|(a, av), (b, bv)| {
            let top = |v: &[RemoteVersion]| v.iter().map(|e| e.group_priority).max().unwrap_or(0);
            top(bv).cmp(&top(av)).then_with(|| a.cmp(b))
        });
        groups
    }

    /// Whether any remote group/version is known (the documents are left alone otherwise).
    pub fn is_empty(&self) -> bool {
        self.versions.read().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// Appends the remote groups to an `APIGroupList` (`/apis`).
    pub fn merge_group_list(&self, document: &mut Value) {
        let Some(groups) = document.get_mut("groups").and_then(Value::as_array_mut) else {
            return;
        };
        for (group, versions) in self.groups() {
            if groups.iter().any(|g| g["name"] == group.as_str()) {
                continue;
            }
            groups.push(api_group(&group, &versions));
        }
    }

    /// The `APIGroup` of a remote group (`/apis/<group>`).
    pub fn api_group(&self, group: &str) -> Option<Value> {
        let (name, versions) = self.groups().into_iter().find(|(name, _)| name == group)?;
        let mut document = api_group(&name, &versions);
        document["kind"] = json!("APIGroup");
        document["apiVersion"] = json!("v1");
        Some(document)
    }

    /// Appends the remote groups to an aggregated `APIGroupDiscoveryList` (`/apis`).
    pub fn merge_aggregated(&self, document: &mut Value) {
        let Some(items) = document.get_mut("items").and_then(Value::as_array_mut) else {
            return;
        };
        for (group, versions) in self.groups() {
            if items.iter().any(|g| g["metadata"]["name"] == group.as_str()) {
                continue;
            }
            let versions: Vec<Value> = versions
                .iter()
                .map(|entry| {
                    let resources = entry.resources.as_deref().unwrap_or_default();
                    let fresh = entry.fresh && entry.resources.is_some();
                    json!({
                        "version": entry.version,
                        "resources": aggregated_resources(&entry.group, &entry.version, resources),
                        "freshness": if fresh { "Current" } else { "Stale" },
                    })
                })
                .collect();
            items.push(json!({"metadata": {"name": group}, "versions": versions}));
        }
    }
}

/// An `APIGroup` entry (without kind and apiVersion, as in an `APIGroupList`).
fn api_group(group: &str, versions: &[RemoteVersion]) -> Value {
    let entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{}", v.version), "version": v.version}))
        .collect();
    json!({"name": group, "versions": entries, "preferredVersion": entries.first()})
}

/// An `APIResourceList`'s `resources` as aggregated discovery's `APIResourceDiscovery`
/// entries: `<resource>/<subresource>` entries become their parent's `subresources`.
pub fn aggregated_resources(group: &str, version: &str, resources: &[Value]) -> Vec<Value> {
    let text =
        |r: &Value, field: &str| r.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
    let kind_of = |r: &Value| {
        json!({"group": r.get("group").and_then(Value::as_str).unwrap_or(group),
               "version": r.get("version").and_then(Value::as_str).unwrap_or(version),
               "kind": text(r, "kind")})
    };
    let mut out: Vec<Map<String, Value>> = Vec::new();
    for resource in resources.iter().filter(|r| !text(r, "name").contains('/')) {
        let mut entry = Map::new();
        entry.insert("resource".into(), json!(text(resource, "name")));
        entry.insert("responseKind".into(), kind_of(resource));
        let namespaced = resource.get("namespaced").and_then(Value::as_bool).unwrap_or(false);
        entry.insert("scope".into(), json!(if namespaced { "Namespaced" } else { "Cluster" }));
        entry.insert("singularResource".into(), json!(text(resource, "singularName")));
        entry.insert("verbs".into(), resource.get("verbs").cloned().unwrap_or(json!([])));
        for field in ["shortNames", "categories"] {
            if let Some(values) =
                resource.get(field).filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
            {
                entry.insert(field.into(), values.clone());
            }
        }
        out.push(entry);
    }
    for sub in resources.iter().filter(|r| text(r, "name").contains('/')) {
        let name = text(sub, "name");
        let Some((parent, subresource)) = name.split_once('/') else { continue };
        let Some(entry) = out.iter_mut().find(|e| e["resource"] == parent) else { continue };
        let list = entry.entry("subresources").or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(json!({"subresource": subresource, "responseKind": kind_of(sub),
                             "verbs": sub.get("verbs").cloned().unwrap_or(json!([]))}));
        }
    }
    out.into_iter().map(Value::Object).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        group: &str,
        version: &str,
        priority: i64,
        fresh: bool,
        resources: Option<Vec<Value>>,
    ) -> RemoteVersion {
        RemoteVersion {
            group: group.to_owned(),
            version: version.to_owned(),
            group_priority: 1000,
            version_priority: priority,
            resources,
            fresh,
        }
    }

    fn flunders() -> Vec<Value> {
        vec![
            json!({"name": "flunders", "singularName": "flunder", "namespaced": true,
                   "kind": "Flunder", "verbs": ["get", "list"], "shortNames": ["fl"]}),
            json!({"name": "flunders/status", "singularName": "", "namespaced": true,
                   "kind": "Flunder", "verbs": ["get", "update"]}),
        ]
    }

    #[test]
    fn remote_groups_join_the_group_list_and_aggregated_discovery() {
        let remote = RemoteDiscovery::default();
        remote.record(
            "v1alpha1.wardle.example.com",
            entry("wardle.example.com", "v1alpha1", 15, true, Some(flunders())),
        );
        remote.record(
            "v1beta1.wardle.example.com",
            entry("wardle.example.com", "v1beta1", 20, false, None),
        );

        let mut list = json!({"kind": "APIGroupList", "groups": [{"name": "apps"}]});
        remote.merge_group_list(&mut list);
        let wardle = &list["groups"][1];
        assert_eq!(wardle["name"], "wardle.example.com");
        assert_eq!(wardle["preferredVersion"]["version"], "v1beta1");
        assert_eq!(wardle["versions"][1]["groupVersion"], "wardle.example.com/v1alpha1");
        assert_eq!(remote.api_group("wardle.example.com").unwrap()["kind"], "APIGroup");
        assert_eq!(remote.api_group("apps"), None);

        let mut aggregated = json!({"items": []});
        remote.merge_aggregated(&mut aggregated);
        let versions = &aggregated["items"][0]["versions"];
        assert_eq!(versions[0]["version"], "v1beta1");
        assert_eq!(versions[0]["freshness"], "Stale");
        assert_eq!(versions[0]["resources"], json!([]));
        assert_eq!(versions[1]["freshness"], "Current");
        let resource = &versions[1]["resources"][0];
        assert_eq!(resource["resource"], "flunders");
        assert_eq!(resource["scope"], "Namespaced");
        assert_eq!(resource["responseKind"]["group"], "wardle.example.com");
        assert_eq!(resource["shortNames"], json!(["fl"]));
        assert_eq!(resource["subresources"][0]["subresource"], "status");
    }

    #[test]
    fn an_unreachable_extension_keeps_its_last_resources_as_stale() {
        let remote = RemoteDiscovery::default();
        let name = "v1alpha1.wardle.example.com";
        remote.record(name, entry("wardle.example.com", "v1alpha1", 15, true, Some(flunders())));
        remote.record(name, entry("wardle.example.com", "v1alpha1", 15, false, None));
        let mut aggregated = json!({"items": []});
        remote.merge_aggregated(&mut aggregated);
        let version = &aggregated["items"][0]["versions"][0];
        assert_eq!(version["freshness"], "Stale");
        assert_eq!(version["resources"][0]["resource"], "flunders");

        remote.retain(&[]);
        assert!(remote.is_empty());
    }
}
