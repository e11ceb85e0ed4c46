//! The paths of the OpenAPI documents, from the registry: for every served resource, one path
//! per URL kube-apiserver serves (the collection, the object, `/status`, `/scale`, the
//! all-namespaces list and the deprecated `/watch/` paths), each operation with its
//! `operationId` in kube's spelling (`listCoreV1NamespacedConfigMap`), its query parameters,
//! its `x-kubernetes-action` and `x-kubernetes-group-version-kind`. kubectl reads the PATCH
//! operations' `fieldValidation` parameter to know the server validates fields itself.

use serde_json::{Map, Value, json};

use super::definitions::Flavor;
use crate::registry::Resource;

/// Where each kind's definition is, by GVK: the built-in table's name, a CRD's, or none.
pub trait Names {
    fn definition(&self, group: &str, version: &str, kind: &str) -> Option<String>;
    /// Whether the document defines `name` (a body or response left untyped otherwise).
    fn defined(&self, name: &str) -> bool;
}

/// One operation before it is written in v2 or v3.
struct Op {
    method: &'static str,
    id: String,
    description: String,
    action: &'static str,
    params: &'static [&'static str],
    body: Option<String>,
    response: Option<String>,
    gvk: Value,
    patch: bool,
    /// Whether PATCH takes a strategic merge patch: built-ins only (a CRD's would be a 415).
    strategic: bool,
}

const LIST: &[&str] = &[
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
];
const WRITE: &[&str] = &["dryRun", "fieldManager", "fieldValidation"];
const PATCH: &[&str] = &["dryRun", "fieldManager", "fieldValidation", "force"];
const DELETE: &[&str] = &[
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
];
const DELETE_COLLECTION: &[&str] = &[
    "continue",
    "dryRun",
    "fieldSelector",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "labelSelector",
    "limit",
    "orphanDependents",
    "propagationPolicy",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
];

const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
const PATCH_BODY: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

/// `CoreV1`, `AppsV1`, `RbacAuthorizationV1`, `StableExampleComV1`: kube's operation infix.
fn group_version_id(resource: &Resource) -> String {
    let group = resource.gv.group.trim_end_matches(".k8s.io");
    let group = if group.is_empty() { "core" } else { group };
    let mut out = String::new();
    for part in group.split(['.', '-']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    let mut version = resource.gv.version.chars();
    if let Some(first) = version.next() {
        out.extend(first.to_uppercase());
        out.push_str(version.as_str());
    }
    out
}

/// `core_v1`, `apps_v1`, `rbacAuthorization_v1`: kube's tag.
fn tag(resource: &Resource) -> String {
    let group = resource.gv.group.trim_end_matches(".k8s.io");
    let group = if group.is_empty() { "core" } else { group };
    let mut out = String::new();
    let mut upper = false;
    for c in group.chars() {
        if c == '.' || c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    format!("{out}_{}", resource.gv.version)
}

/// The paths of one served resource, added to `paths`.
pub fn add(paths: &mut Map<String, Value>, resource: &Resource, names: &dyn Names, flavor: Flavor) {
    let gv = &resource.gv;
    let prefix = match gv.group.is_empty() {
        true => format!("/api/{}", gv.version),
        false => format!("/apis/{}/{}", gv.group, gv.version),
    };
    let kind = &resource.kind;
    let gvk = json!({"group": gv.group, "kind": kind, "version": gv.version});
    let object = names.definition(&gv.group, &gv.version, kind);
    let list = names.definition(&gv.group, &gv.version, &resource.list_kind());
    let id = group_version_id(resource);
    let (ns, scope) = match resource.namespaced {
        true => ("/namespaces/{namespace}", "Namespaced"),
        false => ("", ""),
    };
    let tag = tag(resource);
    let strategic = resource.strategy.openapi_v3_schema().is_none();
    let op = |method,
              verb: &str,
              suffix: &str,
              action,
              params,
              body: Option<String>,
              response: Option<String>| Op {
        method,
        id: format!("{verb}{id}{scope}{kind}{suffix}"),
        description: String::new(),
        action,
        params,
        body,
        response,
        gvk: gvk.clone(),
        patch: method == "patch",
        strategic,
    };
    let base = format!("{prefix}{ns}/{}", resource.plural);
    let mut path_params: Vec<&'static str> =
        if resource.namespaced { vec!["namespace"] } else { vec![] };
    if resource.strategy.create_only() {
        let mut create = op("post", "create", "", "post", WRITE, object.clone(), object.clone());
        create.description = format!("create a {kind}");
        insert(paths, &base, &path_params, vec![create], &tag, names, flavor);
        return;
    }
    if resource.strategy.own_endpoint().is_some() {
        // The ledger's resources (src/api/ledger) answer GET of their collection alone, in one
        // namespace or across all.
        let mut read = op("get", "read", "", "get", &[], None, object.clone());
        read.description = format!("read {kind} from the log");
        insert(paths, &base, &path_params, vec![read], &tag, names, flavor);
        if resource.namespaced {
            let mut all = op("get", "read", "ForAllNamespaces", "get", &[], None, object.clone());
            all.description = format!("read {kind} from the log, across all namespaces");
            insert(
                paths,
                &format!("{prefix}/{}", resource.plural),
                &[],
                vec![all],
                &tag,
                names,
                flavor,
            );
        }
        return;
    }
    let mut ops = vec![
        op("get", "list", "", "list", LIST, None, list.clone()),
        op("post", "create", "", "post", WRITE, object.clone(), object.clone()),
        op(
            "delete",
            "delete",
            "",
            "deletecollection",
            DELETE_COLLECTION,
            Some(DELETE_OPTIONS.into()),
            Some(STATUS.into()),
        ),
    ];
    ops[0].description = format!("list or watch objects of kind {kind}");
    ops[1].description = format!("create a {kind}");
    ops[2].id = format!("delete{id}Collection{scope}{kind}");
    ops[2].description = format!("delete collection of {kind}");
    insert(paths, &base, &path_params, ops, &tag, names, flavor);

    path_params.insert(0, "name");
    let item = format!("{base}/{{name}}");
    let mut ops = vec![
        op("get", "read", "", "get", &[], None, object.clone()),
        op("put", "replace", "", "put", WRITE, object.clone(), object.clone()),
        op("patch", "patch", "", "patch", PATCH, Some(PATCH_BODY.into()), object.clone()),
        op(
            "delete",
            "delete",
            "",
            "delete",
            DELETE,
            Some(DELETE_OPTIONS.into()),
            Some(STATUS.into()),
        ),
    ];
    for (op, what) in ops.iter_mut().zip([
        "read the specified",
        "replace the specified",
        "partially update the specified",
        "delete a",
    ]) {
        op.description = format!("{what} {kind}");
    }
    insert(paths, &item, &path_params, ops, &tag, names, flavor);

    let mut subresources = Vec::new();
    if resource.status_subresource {
        subresources.push(("status", "Status", object.clone(), gvk.clone()));
    }
    if resource.scale_subresource.is_some() {
        let scale = json!({"group": "autoscaling", "kind": "Scale", "version": "v1"});
        subresources.push(("scale", "Scale", Some(SCALE.to_owned()), scale));
    }
    for (sub, suffix, schema, sub_gvk) in subresources {
        let mut ops = vec![
            op("get", "read", suffix, "get", &[], None, schema.clone()),
            op("put", "replace", suffix, "put", WRITE, schema.clone(), schema.clone()),
            op("patch", "patch", suffix, "patch", PATCH, Some(PATCH_BODY.into()), schema.clone()),
        ];
        for (op, what) in ops.iter_mut().zip(["read", "replace", "partially update"]) {
            op.description = format!("{what} {sub} of the specified {kind}");
            op.gvk = sub_gvk.clone();
        }
        insert(paths, &format!("{item}/{sub}"), &path_params, ops, &tag, names, flavor);
    }

    let watch = |suffix: &str, action, path: String, params: Vec<&'static str>, list_too: bool| {
        let mut op = op("get", "watch", suffix, action, LIST, None, Some(WATCH_EVENT.into()));
        op.description = match list_too {
            true => format!(
                "watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."
            ),
            false => format!(
                "watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."
            ),
        };
        (path, params, op)
    };
    let watches = [
        watch(
            "List",
            "watchlist",
            format!("{prefix}/watch{ns}/{}", resource.plural),
            path_params[1..].to_vec(),
            true,
        ),
        watch(
            "",
            "watch",
            format!("{prefix}/watch{ns}/{}/{{name}}", resource.plural),
            path_params.clone(),
            false,
        ),
    ];
    for (path, params, op) in watches {
        insert(paths, &path, &params, vec![op], &tag, names, flavor);
    }
    if resource.namespaced {
        let mut all = op("get", "list", "ForAllNamespaces", "list", LIST, None, list.clone());
        all.id = format!("list{id}{kind}ForAllNamespaces");
        all.description = format!("list or watch objects of kind {kind}");
        insert(
            paths,
            &format!("{prefix}/{}", resource.plural),
            &[],
            vec![all],
            &tag,
            names,
            flavor,
        );
        let mut all = op("get", "watch", "", "watchlist", LIST, None, Some(WATCH_EVENT.into()));
        all.id = format!("watch{id}{kind}ListForAllNamespaces");
        all.description = format!(
            "watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."
        );
        insert(
            paths,
            &format!("{prefix}/watch/{}", resource.plural),
            &[],
            vec![all],
            &tag,
            names,
            flavor,
        );
    }
}

fn insert(
    paths: &mut Map<String, Value>,
    path: &str,
    path_params: &[&str],
    ops: Vec<Op>,
    tag: &str,
    names: &dyn Names,
    flavor: Flavor,
) {
    let mut item = Map::new();
    for op in ops {
        item.insert(op.method.into(), operation(op, tag, names, flavor));
    }
    let mut params: Vec<Value> = path_params.iter().map(|p| path_param(p, flavor)).collect();
    params.push(query_param("pretty", flavor));
    item.insert("parameters".into(), params.into());
    paths.insert(path.into(), Value::Object(item));
}

fn operation(mut op: Op, tag: &str, names: &dyn Names, flavor: Flavor) -> Value {
    op.body = op.body.filter(|name| names.defined(name));
    op.response = op.response.filter(|name| names.defined(name));
    let mut params: Vec<Value> = op.params.iter().map(|p| query_param(p, flavor)).collect();
    let mut out = Map::new();
    if op.method == "patch" || op.method == "put" || op.method == "post" {
        out.insert("consumes".into(), json!(["*/*"]));
    }
    if op.patch {
        let mut consumes = vec!["application/json-patch+json", "application/merge-patch+json"];
        if op.strategic {
            consumes.push("application/strategic-merge-patch+json");
        }
        consumes.push("application/apply-patch+yaml");
        out.insert("consumes".into(), json!(consumes));
    }
    out.insert("description".into(), op.description.into());
    out.insert("operationId".into(), op.id.into());
    let produces = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
    let reference = |name: &str| json!({"$ref": flavor.reference(name)});
    let mut responses = Map::new();
    let ok = match &op.response {
        Some(name) => reference(name),
        None => json!({"type": "object"}),
    };
    let codes: &[&str] = match op.method {
        "post" => &["200", "201", "202"],
        "put" | "patch" => &["200", "201"],
        "delete" => &["200", "202"],
        _ => &["200"],
    };
    for code in codes {
        let description = match *code {
            "201" => "Created",
            "202" => "Accepted",
            _ => "OK",
        };
        let response = match flavor {
            Flavor::V2 => json!({"description": description, "schema": ok}),
            Flavor::V3 => {
                let content: Map<String, Value> =
                    produces.iter().map(|m| ((*m).to_owned(), json!({"schema": ok}))).collect();
                json!({"content": content, "description": description})
            }
        };
        responses.insert((*code).into(), response);
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    if let Some(body) = &op.body {
        match flavor {
            Flavor::V2 => params.insert(0, json!({"in": "body", "name": "body", "required": op.method != "delete", "schema": reference(body)})),
            Flavor::V3 => {
                let media: &[&str] = match (op.patch, op.strategic) {
                    (true, true) => &["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"],
                    (true, false) => &["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"],
                    (false, _) => &["*/*"],
                };
                let content: Map<String, Value> = media.iter().map(|m| ((*m).to_owned(), json!({"schema": reference(body)}))).collect();
                out.insert("requestBody".into(), json!({"content": content, "required": op.method != "delete"}));
            }
        }
    }
    if !params.is_empty() {
        out.insert("parameters".into(), params.into());
    }
    if flavor == Flavor::V2 {
        out.insert("produces".into(), json!(produces));
        out.insert("schemes".into(), json!(["https"]));
    }
    out.insert("responses".into(), Value::Object(responses));
    out.insert("tags".into(), json!([tag]));
    out.insert("x-kubernetes-action".into(), op.action.into());
    out.insert("x-kubernetes-group-version-kind".into(), op.gvk);
    Value::Object(out)
}

fn param_type(name: &str) -> &'static str {
    match name {
        "allowWatchBookmarks"
        | "force"
        | "orphanDependents"
        | "sendInitialEvents"
        | "watch"
        | "ignoreStoreReadErrorWithClusterBreakingPotential" => "boolean",
        "gracePeriodSeconds" | "limit" | "timeoutSeconds" => "integer",
        _ => "string",
    }
}

fn query_param(name: &str, flavor: Flavor) -> Value {
    let ty = param_type(name);
    let description = param_description(name);
    match flavor {
        Flavor::V2 => {
            json!({"description": description, "in": "query", "name": name, "type": ty, "uniqueItems": true})
        }
        Flavor::V3 => {
            json!({"description": description, "in": "query", "name": name, "schema": {"type": ty, "uniqueItems": true}})
        }
    }
}

fn path_param(name: &str, flavor: Flavor) -> Value {
    let description = match name {
        "namespace" => "object name and auth scope, such as for teams and projects",
        _ => "name of the object",
    };
    match flavor {
        Flavor::V2 => {
            json!({"description": description, "in": "path", "name": name, "required": true, "type": "string", "uniqueItems": true})
        }
        Flavor::V3 => {
            json!({"description": description, "in": "path", "name": name, "required": true, "schema": {"type": "string", "uniqueItems": true}})
        }
    }
}

fn param_description(name: &str) -> &'static str {
    match name {
        "pretty" => {
            "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."
        }
        "dryRun" => {
            "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"
        }
        "fieldManager" => {
            "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint."
        }
        "fieldValidation" => {
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered."
        }
        "force" => {
            "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."
        }
        "labelSelector" => {
            "A selector to restrict the list of returned objects by their labels. Defaults to everything."
        }
        "fieldSelector" => {
            "A selector to restrict the list of returned objects by their fields. Defaults to everything."
        }
        "limit" => "limit is a maximum number of responses to return for a list call.",
        "continue" => {
            "The continue option should be set when retrieving more results from the server."
        }
        "resourceVersion" => {
            "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details."
        }
        "resourceVersionMatch" => {
            "resourceVersionMatch determines how resourceVersion is applied to list calls."
        }
        "timeoutSeconds" => {
            "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity."
        }
        "watch" => {
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion."
        }
        "allowWatchBookmarks" => {
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."
        }
        "sendInitialEvents" => {
            "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection."
        }
        "gracePeriodSeconds" => {
            "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately."
        }
        "orphanDependents" => {
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned."
        }
        "propagationPolicy" => {
            "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. Acceptable values are: 'Orphan', 'Background', 'Foreground'."
        }
        "ignoreStoreReadErrorWithClusterBreakingPotential" => {
            "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error."
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_and_tags_in_kube_spelling() {
        let registry = crate::registry::Registry::new();
        crate::registry::builtin::register_all(&registry);
        let rbac = registry.get("rbac.authorization.k8s.io", "v1", "clusterroles").unwrap();
        assert_eq!(group_version_id(&rbac), "RbacAuthorizationV1");
        assert_eq!(tag(&rbac), "rbacAuthorization_v1");
        let cm = registry.get("", "v1", "configmaps").unwrap();
        struct None_;
        impl Names for None_ {
            fn definition(&self, _: &str, _: &str, _: &str) -> Option<String> {
                None
            }
            fn defined(&self, _: &str) -> bool {
                false
            }
        }
        let mut paths = Map::new();
        add(&mut paths, &cm, &None_, Flavor::V2);
        let list = &paths["/api/v1/namespaces/{namespace}/configmaps"]["get"];
        assert_eq!(list["operationId"], "listCoreV1NamespacedConfigMap");
        assert_eq!(list["x-kubernetes-action"], "list");
        let all = &paths["/api/v1/configmaps"]["get"];
        assert_eq!(all["operationId"], "listCoreV1ConfigMapForAllNamespaces");
        let patch = &paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(patch["operationId"], "patchCoreV1NamespacedConfigMap");
        assert!(
            patch["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "fieldValidation")
        );
        let watch = &paths["/api/v1/watch/namespaces/{namespace}/configmaps/{name}"]["get"];
        assert_eq!(watch["x-kubernetes-action"], "watch");
    }
}
