//! The documents themselves, from the registry: `/openapi/v2` (every served resource) and one
//! `/openapi/v3/{api/v1 | apis/group/version}` document per served group/version. Each holds
//! the paths of its resources ([`super::paths`]) and the definitions they reach: built-in kinds
//! from `crate::schema::builtin()` ([`super::definitions`]), custom resources from their CRD's
//! schema ([`super::crd`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::crd;
use super::definitions::{self, Flavor, sorted};
use super::paths::{self, Names};
use crate::registry::{Registry, Resource};
use crate::schema::{self, DefId, Schemas};

/// Definitions the paths refer to besides the kinds.
const META: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
];
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

fn version() -> String {
    let (major, minor) = crate::server::KUBERNETES_VERSION;
    format!("v{major}.{minor}.0")
}

/// `/openapi/v2`.
pub fn v2(registry: &Registry) -> Value {
    let resources = registry.all();
    let (paths, definitions) = contents(&resources, Flavor::V2);
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": version()},
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": {
            "description": "Bearer Token authentication", "in": "header",
            "name": "authorization", "type": "apiKey",
        }},
        "security": [{"BearerToken": []}],
    })
}

/// The served group/versions as their document paths (`api/v1`, `apis/apps/v1`), each with
/// its resources.
pub fn group_versions(registry: &Registry) -> BTreeMap<String, Vec<Arc<Resource>>> {
    let mut groups: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for resource in registry.all() {
        let path = match resource.gv.group.is_empty() {
            true => format!("api/{}", resource.gv.version),
            false => format!("apis/{}/{}", resource.gv.group, resource.gv.version),
        };
        groups.entry(path).or_default().push(resource);
    }
    groups
}

/// One `/openapi/v3/{path}` document.
pub fn v3(resources: &[Arc<Resource>]) -> Value {
    let (paths, schemas) = contents(resources, Flavor::V3);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": version()},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"BearerToken": {
                "description": "Bearer Token authentication", "in": "header",
                "name": "authorization", "type": "apiKey",
            }},
        },
        "security": [{"BearerToken": []}],
    })
}

/// Where each served kind's definition is, by (group, version, kind), and every name defined.
struct Index(HashMap<(String, String, String), String>, HashSet<String>);

impl Names for Index {
    fn definition(&self, group: &str, version: &str, kind: &str) -> Option<String> {
        self.0.get(&(group.to_owned(), version.to_owned(), kind.to_owned())).cloned()
    }

    fn defined(&self, name: &str) -> bool {
        self.1.contains(name)
    }
}

/// The paths and the definitions they reach, sorted by name.
fn contents(resources: &[Arc<Resource>], flavor: Flavor) -> (Value, Value) {
    let schemas = schema::builtin();
    let mut index = Index(HashMap::new(), HashSet::new());
    let mut definitions: BTreeMap<String, Value> = BTreeMap::new();
    let mut roots: BTreeSet<DefId> = META.iter().filter_map(|n| schemas.by_name(n)).collect();
    let key =
        |r: &Resource, kind: &str| (r.gv.group.clone(), r.gv.version.clone(), kind.to_owned());
    for resource in resources {
        if resource.scale_subresource.is_some()
            && let Some(scale) = schemas.by_name(SCALE)
        {
            roots.insert(scale);
        }
        if let Some(raw) = resource.strategy.openapi_v3_schema() {
            for (name, definition) in crd::definitions(resource, raw, flavor) {
                definitions.insert(name, definition);
            }
            let name =
                crd::definition_name(&resource.gv.group, &resource.gv.version, &resource.kind);
            index.0.insert(key(resource, &resource.list_kind()), format!("{name}List"));
            index.0.insert(key(resource, &resource.kind), name);
            continue;
        }
        let Some(id) = schemas.by_gvk(&resource.gv.group, &resource.gv.version, &resource.kind)
        else {
            let (name, definition) = open_definition(resource);
            index.0.insert(key(resource, &resource.kind), name.clone());
            definitions.insert(name, definition);
            continue;
        };
        roots.insert(id);
        let name = schemas.get(id).name;
        index.0.insert(key(resource, &resource.kind), name.to_owned());
        let list = format!("{name}List");
        match schemas.by_name(&list) {
            Some(list_id) => {
                roots.insert(list_id);
            }
            None if !resource.strategy.create_only() => {
                definitions.insert(list.clone(), list_definition(schemas, resource, name, flavor));
            }
            None => continue,
        }
        index.0.insert(key(resource, &resource.list_kind()), list);
    }
    for id in definitions::closure(schemas, roots) {
        // The Go-inlined structs kube's OpenAPI folds into their parents have no definition.
        if !schemas.get(id).in_openapi {
            continue;
        }
        definitions
            .insert(schemas.get(id).name.to_owned(), definitions::definition(schemas, id, flavor));
    }
    index.1 = definitions.keys().cloned().collect();
    let mut paths = Map::new();
    for resource in resources {
        paths::add(&mut paths, resource, &index, flavor);
    }
    let mut sorted_paths: Vec<(String, Value)> = paths.into_iter().collect();
    sorted_paths.sort_by(|a, b| a.0.cmp(&b.0));
    let paths: Map<String, Value> = sorted_paths.into_iter().collect();
    let definitions: Map<String, Value> = definitions.into_iter().collect();
    (Value::Object(paths), Value::Object(definitions))
}

/// A built-in list kind the table has no definition of: kube's shape for every `…List`.
fn list_definition(schemas: &Schemas, resource: &Resource, item: &str, flavor: Flavor) -> Value {
    let kind = &resource.kind;
    let list_meta = match schemas.by_name("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta") {
        Some(_) => flavor.described_ref(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
            "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
        ),
        None => json!({"type": "object"}),
    };
    let mut out = Map::new();
    out.insert("description".into(), format!("{kind}List is a list of {kind} objects.").into());
    out.insert("properties".into(), json!({
        "apiVersion": {"description": crd::API_VERSION_DESCRIPTION, "type": "string"},
        "items": {"description": format!("Items is the list of {kind}."), "items": {"$ref": flavor.reference(item)}, "type": "array"},
        "kind": {"description": crd::KIND_DESCRIPTION, "type": "string"},
        "metadata": list_meta,
    }));
    out.insert("required".into(), json!(["items"]));
    out.insert("type".into(), "object".into());
    out.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([{"group": resource.gv.group, "kind": resource.list_kind(), "version": resource.gv.version}]),
    );
    sorted(out)
}

/// A served kind the built-in table does not know: an open object with its GVK, so clients
/// still find the kind (and send whatever fields; the server validates them).
fn open_definition(resource: &Resource) -> (String, Value) {
    let group = if resource.gv.group.is_empty() { "core" } else { &resource.gv.group };
    let name = format!("ledger.{group}.{}.{}", resource.gv.version, resource.kind);
    let definition = json!({
        "description": format!("{} ({}): fields are validated by the server.", resource.kind, resource.gv),
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": resource.gv.group, "kind": resource.kind, "version": resource.gv.version}],
        "x-kubernetes-preserve-unknown-fields": true,
    });
    (name, definition)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let registry = Registry::new();
        crate::registry::builtin::register_all(&registry);
        registry
    }

    #[test]
    fn v2_has_config_maps_paths_and_definition() {
        let doc = v2(&registry());
        assert_eq!(doc["swagger"], "2.0");
        let cm = &doc["definitions"]["io.k8s.api.core.v1.ConfigMap"];
        assert_eq!(cm["x-kubernetes-group-version-kind"][0]["kind"], "ConfigMap");
        assert!(doc["definitions"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].is_object());
        let list = &doc["definitions"]["io.k8s.api.core.v1.ConfigMapList"];
        assert_eq!(
            list["properties"]["items"]["items"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.ConfigMap"
        );
        let get = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["get"];
        assert_eq!(
            get["responses"]["200"]["schema"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.ConfigMap"
        );
        // Every reference resolves.
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/definitions/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(doc["definitions"][name].is_object(), "{name} is referenced but not defined");
        }
    }

    #[test]
    fn v3_documents_per_group_version() {
        let registry = registry();
        let groups = group_versions(&registry);
        let apps = v3(&groups["apis/apps/v1"]);
        let patch =
            &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert!(
            patch["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "fieldValidation")
        );
        let core = v3(&groups["api/v1"]);
        assert!(core["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"].is_object());
        assert!(core["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
    }
}
