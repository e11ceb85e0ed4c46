//! Resource arguments as kubectl takes them (`configmaps/cm`, `cm cm`, `deploy/web`,
//! `deployments.apps/web`, `deployment.v1.apps/web`) and their resolution through discovery to
//! the API paths the history endpoints hang under.
//!
//! Data flows: the words of the command line → a [`ResourceArg`] (what the user typed, split) →
//! discovery (`/api/v1`, then `/apis` and each group's preferred version, read only as far as
//! needed) → an [`ApiResource`] whose paths the commands call.

use serde_json::Value;

use crate::client::{Client, Error};

/// A resource argument, split but not resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceArg {
    /// The resource as typed, lower-cased: a plural, singular, short name or kind.
    pub resource: String,
    /// The group (`apps` of `deployments.apps`), when given.
    pub group: Option<String>,
    /// The version (`v1` of `deployment.v1.apps`), when given.
    pub version: Option<String>,
    /// The object's name, when given.
    pub name: Option<String>,
}

/// Splits `TYPE/NAME`, or `TYPE` and an optional `NAME` given as a second word.
pub fn parse(words: &[String]) -> Result<ResourceArg, String> {
    let (kind, name) = match words {
        [one] => match one.split_once('/') {
            Some((kind, name)) => (kind, Some(name)),
            None => (one.as_str(), None),
        },
        [kind, name] if !kind.contains('/') => (kind.as_str(), Some(name.as_str())),
        [] => return Err("you must specify a resource (e.g. configmap/name)".into()),
        _ => {
            return Err(format!(
                "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. '{}')",
                words.join(" ")
            ));
        }
    };
    if kind.is_empty() {
        return Err(format!(
            "arguments in resource/name form must have a single resource and name: {:?}",
            words.join(" ")
        ));
    }
    if let Some(name) = name
        && (name.is_empty() || name.contains('/'))
    {
        return Err(format!(
            "arguments in resource/name form must have a single resource and name: {:?}",
            words.join(" ")
        ));
    }
    let kind = kind.to_ascii_lowercase();
    let (resource, group) = match kind.split_once('.') {
        Some((resource, group)) => (resource.to_owned(), Some(group.to_owned())),
        None => (kind, None),
    };
    Ok(ResourceArg { resource, group, version: None, name: name.map(str::to_owned) })
}

impl ResourceArg {
    /// The resource as the user typed it (with its group), for messages.
    pub fn typed(&self) -> String {
        match &self.group {
            Some(group) => format!("{}.{group}", self.resource),
            None => self.resource.clone(),
        }
    }

    /// The readings of `resource.group`: kubectl tries `resource.version.group` first when the
    /// group has a dot and its first part looks like a version, then `resource.group`.
    fn readings(&self) -> Vec<(Option<String>, Option<String>)> {
        let mut readings = Vec::new();
        if let Some(group) = &self.group
            && let Some((version, rest)) = group.split_once('.')
            && looks_like_version(version)
        {
            readings.push((Some(rest.to_owned()), Some(version.to_owned())));
        }
        readings.push((self.group.clone(), self.version.clone()));
        readings
    }
}

/// `v1`, `v2beta1`, `v1alpha3`: kube's version shape.
fn looks_like_version(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('v') else { return false };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    tail.is_empty()
        || ["alpha", "beta"].iter().any(|stage| {
            tail.strip_prefix(stage)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
}

/// A served resource as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    pub group: String,
    pub version: String,
    /// The plural name (`configmaps`).
    pub resource: String,
    pub kind: String,
    pub namespaced: bool,
    singular: String,
    short_names: Vec<String>,
}

impl ApiResource {
    /// `/api/v1` or `/apis/group/version`.
    pub fn group_version_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// `apiVersion` of its objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection in `namespace` (all namespaces, or a cluster-scoped resource: `None`).
    pub fn collection(&self, namespace: Option<&str>) -> String {
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{}/namespaces/{ns}/{}", self.group_version_path(), self.resource),
            None => format!("{}/{}", self.group_version_path(), self.resource),
        }
    }

    /// One object's path.
    pub fn object(&self, namespace: &str, name: &str) -> String {
        format!("{}/{name}", self.collection(Some(namespace)))
    }

    /// `configmaps` or `deployments.apps`: how kube names the resource in messages.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// `configmap` or `deployment.apps`: how kubectl names an object's type in its output.
    pub fn type_name(&self) -> String {
        let kind = self.kind.to_ascii_lowercase();
        if self.group.is_empty() { kind } else { format!("{kind}.{}", self.group) }
    }

    /// Whether `name` (lower-cased) names this resource by plural, singular or kind (`exact`),
    /// or by a short name (otherwise).
    fn named(&self, name: &str, exact: bool) -> bool {
        if exact {
            self.resource == name || self.singular == name || self.kind.eq_ignore_ascii_case(name)
        } else {
            self.short_names.iter().any(|s| s == name)
        }
    }
}

/// The resources of one group version's discovery document (`APIResourceList`), without
/// subresources.
pub fn resources_of(group: &str, version: &str, list: &Value) -> Vec<ApiResource> {
    let empty = Vec::new();
    let items = list["resources"].as_array().unwrap_or(&empty);
    items
        .iter()
        .filter_map(|item| {
            let resource = item["name"].as_str()?;
            if resource.contains('/') {
                return None;
            }
            let kind = item["kind"].as_str().unwrap_or_default();
            let singular = match item["singularName"].as_str() {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => kind.to_ascii_lowercase(),
            };
            let short_names = item["shortNames"]
                .as_array()
                .map(|names| names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            Some(ApiResource {
                group: group.to_owned(),
                version: version.to_owned(),
                resource: resource.to_owned(),
                kind: kind.to_owned(),
                namespaced: item["namespaced"].as_bool().unwrap_or(false),
                singular,
                short_names,
            })
        })
        .collect()
}

/// The first resource `arg` names among `candidates` (discovery order): by plural, singular or
/// kind first, then by short name.
pub fn pick<'a>(candidates: &'a [ApiResource], arg: &ResourceArg) -> Option<&'a ApiResource> {
    arg.readings().into_iter().find_map(|(group, version)| {
        let fits = |r: &&ApiResource| {
            group.as_ref().is_none_or(|g| *g == r.group)
                && version.as_ref().is_none_or(|v| *v == r.version)
        };
        let exact = candidates.iter().filter(fits).find(|r| r.named(&arg.resource, true));
        exact.or_else(|| candidates.iter().filter(fits).find(|r| r.named(&arg.resource, false)))
    })
}

/// Resolves `arg` through the server's discovery: the core group first, then every group's
/// preferred version (or the version the argument names), in discovery order. `None`: the
/// server serves no such resource.
pub async fn resolve(client: &Client, arg: &ResourceArg) -> Result<Option<ApiResource>, Error> {
    let mut seen = Vec::new();
    let wants_core = arg.readings().iter().any(|(g, _)| g.as_deref().is_none_or(str::is_empty));
    if wants_core {
        seen.extend(resources_of("", "v1", &client.get("/api/v1").await?));
        if let Some(found) = pick(&seen, arg) {
            return Ok(Some(found.clone()));
        }
    }
    let groups = client.get("/apis").await?;
    let empty = Vec::new();
    let wanted: Vec<Option<String>> = arg.readings().into_iter().map(|(g, _)| g).collect();
    for group in groups["groups"].as_array().unwrap_or(&empty) {
        let name = group["name"].as_str().unwrap_or_default();
        if !wanted.iter().any(|g| g.as_deref().is_none_or(|g| g == name)) {
            continue;
        }
        let preferred = group["preferredVersion"]["version"].as_str().unwrap_or_default();
        let mut versions = vec![preferred.to_owned()];
        // A version named in the argument may be another than the preferred one.
        for (g, v) in arg.readings() {
            if let (Some(g), Some(v)) = (g, v)
                && g == name
                && v != preferred
            {
                versions.push(v);
            }
        }
        for version in versions {
            let served = group["versions"]
                .as_array()
                .is_some_and(|vs| vs.iter().any(|v| v["version"] == version.as_str()));
            if !served {
                continue;
            }
            let list = client.get(&format!("/apis/{name}/{version}")).await?;
            seen.extend(resources_of(name, &version, &list));
        }
    }
    Ok(pick(&seen, arg).cloned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn discovered() -> Vec<ApiResource> {
        let core = json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "configmaps", "singularName": "configmap", "namespaced": true, "kind": "ConfigMap", "shortNames": ["cm"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "Pod", "shortNames": ["po"]},
            {"name": "pods/status", "singularName": "", "namespaced": true, "kind": "Pod"},
            {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace", "shortNames": ["ns"]}]});
        let apps = json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
            {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment", "shortNames": ["deploy"]},
            {"name": "deployments/scale", "singularName": "", "namespaced": true, "kind": "Scale"}]});
        let mut all = resources_of("", "v1", &core);
        all.extend(resources_of("apps", "v1", &apps));
        all
    }

    fn resolve(text: &str) -> (String, Option<String>) {
        let arg = parse(&words(text)).unwrap();
        let all = discovered();
        let found = pick(&all, &arg).unwrap_or_else(|| panic!("{text} resolves"));
        (found.group_resource(), arg.name)
    }

    #[test]
    fn kubectl_forms_resolve() {
        let cm = ("configmaps".to_owned(), Some("cm".to_owned()));
        for form in ["configmaps/cm", "configmap/cm", "cm/cm", "ConfigMap/cm", "configmaps cm"] {
            assert_eq!(resolve(form), cm, "{form}");
        }
        let web = ("deployments.apps".to_owned(), Some("web".to_owned()));
        for form in [
            "deploy/web",
            "deployments.apps/web",
            "deployment.apps/web",
            "deployment.v1.apps/web",
            "deployment web",
        ] {
            assert_eq!(resolve(form), web, "{form}");
        }
        assert_eq!(resolve("pod/p").0, "pods", "the kind names a resource without singularName");
        assert_eq!(resolve("ns").1, None);
    }

    #[test]
    fn wrong_forms_are_refused() {
        assert!(parse(&words("configmaps/cm extra")).is_err());
        assert!(parse(&words("a/b/c")).is_err());
        assert!(parse(&words("/cm")).is_err());
        assert!(parse(&[]).is_err());
        let all = discovered();
        assert!(pick(&all, &parse(&words("deployments.batch/x")).unwrap()).is_none());
        assert!(pick(&all, &parse(&words("scale/x")).unwrap()).is_none(), "no subresource");
    }

    #[test]
    fn paths() {
        let all = discovered();
        let deploy = pick(&all, &parse(&words("deploy")).unwrap()).unwrap();
        assert_eq!(deploy.object("ns", "web"), "/apis/apps/v1/namespaces/ns/deployments/web");
        assert_eq!(deploy.collection(None), "/apis/apps/v1/deployments");
        assert_eq!(deploy.type_name(), "deployment.apps");
        let ns = pick(&all, &parse(&words("ns")).unwrap()).unwrap();
        assert_eq!(ns.collection(Some("x")), "/api/v1/namespaces", "cluster-scoped");
        assert_eq!(ns.type_name(), "namespace");
        assert!(
            looks_like_version("v2beta1")
                && !looks_like_version("apps")
                && !looks_like_version("v1x")
        );
    }
}
