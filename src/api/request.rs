//! What a request is about: the path parsed into group, version, namespace, resource, name and
//! subresource (k8s.io/apiserver's `RequestInfo`), and the query parsed into typed options with
//! kube-apiserver's 400s for malformed values.

use std::collections::HashMap;

use crate::api::status::ApiError;

/// A path under `/api` or `/apis`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/api` or `/apis`.
    Root { core: bool },
    /// `/apis/{group}`.
    Group { group: String },
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion { group: String, version: String },
    /// A resource, an object or a subresource.
    Resource(ResourcePath),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Subresources of a namespace that are not namespaced resources (`/namespaces/x/status`).
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// Parses a request path; `None` when it is not an API path kube-ledger knows.
pub fn parse_path(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return Some(Target::Root { core: true }),
        ["apis"] => return Some(Target::Root { core: false }),
        ["apis", group] => return Some(Target::Group { group: (*group).to_owned() }),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (group, version) = (group.to_owned(), version.to_owned());
    if rest.is_empty() {
        return Some(Target::GroupVersion { group, version });
    }
    let mut rest = rest.to_vec();
    let mut namespace = None;
    if rest[0] == "namespaces" && rest.len() > 1 {
        namespace = Some(rest[1].to_owned());
        if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
            rest.drain(..2);
        }
    }
    let (resource, name, subresource) = match rest.as_slice() {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, sub] => (*resource, Some(*name), Some(*sub)),
        _ => return None,
    };
    if resource == "namespaces" {
        // `/api/v1/namespaces/x[/status]`: the namespace object itself, cluster-scoped.
        namespace = None;
    }
    Some(Target::Resource(ResourcePath {
        group,
        version,
        namespace,
        resource: resource.to_owned(),
        name: name.map(str::to_owned),
        subresource: subresource.map(str::to_owned),
    }))
}

/// Query parameters by name (the last value wins, as Go's `url.Values.Get` returns the first —
/// clients send each once).
#[derive(Debug, Clone, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|_| ApiError::bad_request("malformed query string"))?;
        Ok(Query(pairs.into_iter().collect()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A non-empty value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// A boolean as Go's `strconv.ParseBool` reads it; absent or empty is `false`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.value(name) {
            None => Ok(false),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(other) => {
                Err(ApiError::bad_request(format!("invalid boolean value for {name}: {other:?}")))
            }
        }
    }

    /// A non-negative integer.
    pub fn number(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.value(name) {
            None => Ok(None),
            Some(text) => text.parse::<i64>().ok().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "invalid value for {name}: {text:?}: must be a non-negative integer"
                ))
            }),
        }
    }

    /// `dryRun`: empty or `All`; anything else is a 400 as in kube-apiserver.
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.value("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid dry run value: {other:?}: supported values are \"All\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> ResourcePath {
        match parse_path(path) {
            Some(Target::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths_parse_like_request_info() {
        assert_eq!(parse_path("/api"), Some(Target::Root { core: true }));
        assert_eq!(parse_path("/apis/apps"), Some(Target::Group { group: "apps".into() }));
        assert_eq!(
            parse_path("/apis/apps/v1"),
            Some(Target::GroupVersion { group: "apps".into(), version: "v1".into() })
        );
        let r = resource("/api/v1/namespaces/default/configmaps/x");
        assert_eq!(
            (r.namespace.as_deref(), r.resource.as_str(), r.name.as_deref()),
            (Some("default"), "configmaps", Some("x"))
        );
        let r = resource("/apis/apps/v1/namespaces/ns/deployments/web/scale");
        assert_eq!(r.subresource.as_deref(), Some("scale"));
        let r = resource("/api/v1/pods");
        assert_eq!((r.namespace, r.resource.as_str(), r.name), (None, "pods", None));
        let r = resource("/api/v1/namespaces/kube-system");
        assert_eq!(
            (r.namespace, r.resource.as_str(), r.name.as_deref()),
            (None, "namespaces", Some("kube-system"))
        );
        let r = resource("/api/v1/namespaces/x/status");
        assert_eq!(
            (r.resource.as_str(), r.name.as_deref(), r.subresource.as_deref()),
            ("namespaces", Some("x"), Some("status"))
        );
        let r = resource("/api/v1/namespaces/x/pods");
        assert_eq!(
            (r.namespace.as_deref(), r.resource.as_str(), r.name),
            (Some("x"), "pods", None)
        );
        for bad in
            ["/", "/healthz", "/api//v1", "/api/v1/a/b/c/d", "/apis/g/v/namespaces/n/r/x/y/z"]
        {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn query_values_are_checked() {
        let q = Query::parse(Some("watch=1&limit=5&dryRun=All&labelSelector=a%3Db")).unwrap();
        assert!(q.flag("watch").unwrap());
        assert_eq!(q.number("limit").unwrap(), Some(5));
        assert!(q.dry_run().unwrap());
        assert_eq!(q.get("labelSelector"), Some("a=b"));
        let bad = Query::parse(Some("watch=maybe&limit=-1&dryRun=Some")).unwrap();
        assert!(bad.flag("watch").is_err());
        assert!(bad.number("limit").is_err());
        assert!(bad.dry_run().is_err());
    }
}
