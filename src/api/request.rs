//! What a request is about: the path parsed into group, version, namespace, resource, name and
//! subresource (k8s.io/apiserver's `RequestInfo`), and the query parsed into typed options with
//! kube-apiserver's 400s for malformed values.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::api::status::ApiError;
use crate::meta::validation::is_valid_path_segment_name;

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
    /// The path segment after a `history` subresource (kube's `RequestInfo.Parts[3]`): a
    /// revision, `diff`, `blame` or `restore`.
    pub history_route: Option<String>,
}

/// Subresources of a namespace that are not namespaced resources (`/namespaces/x/status`).
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// Parses a request path. Like Go's `URL.Path`, which k8s.io/apiserver's `RequestInfo` and its
/// router read, the whole path is percent-decoded first and then split on `/` (so `%2F` separates
/// segments, and `%73` is `s`), with leading and trailing slashes ignored (`/api/v1/pods/` is
/// `/api/v1/pods`, as go-restful routes it). A malformed escape is a 400; a path that is no API
/// path kube-ledger knows is a 404.
pub fn parse_path(path: &str) -> Result<Target, ApiError> {
    let decoded = percent_decode(path)?;
    let parts: Vec<&str> = decoded.trim_matches('/').split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ApiError::no_such_path());
    }
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return Ok(Target::Root { core: true }),
        ["apis"] => return Ok(Target::Root { core: false }),
        ["apis", group] => return Ok(Target::Group { group: (*group).to_owned() }),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::no_such_path()),
    };
    let (group, version) = (group.to_owned(), version.to_owned());
    if rest.is_empty() {
        return Ok(Target::GroupVersion { group, version });
    }
    let mut rest = rest.to_vec();
    let mut namespace = None;
    if rest[0] == "namespaces" && rest.len() > 1 {
        namespace = Some(rest[1].to_owned());
        if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
            rest.drain(..2);
        }
    }
    let mut history_route = None;
    let (resource, name, subresource) = match rest.as_slice() {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, sub] => (*resource, Some(*name), Some(*sub)),
        [resource, name, sub, route] if *sub == "history" => {
            history_route = Some((*route).to_owned());
            (*resource, Some(*name), Some(*sub))
        }
        // `…/pods/x/proxy/some/path`: the rest is the proxied path (RequestInfo's extra parts).
        [resource, name, sub, ..] if *sub == "proxy" => (*resource, Some(*name), Some(*sub)),
        _ => return Err(ApiError::no_such_path()),
    };
    if resource == "namespaces" {
        // `/api/v1/namespaces/x[/status]`: the namespace object itself, cluster-scoped.
        namespace = None;
    }
    Ok(Target::Resource(ResourcePath {
        group,
        version,
        namespace,
        resource: resource.to_owned(),
        name: name.map(str::to_owned),
        subresource: subresource.map(str::to_owned),
        history_route,
    }))
}

impl ResourcePath {
    /// Refuses a name or namespace that cannot be one path segment (`.`, `..`, or containing `/`
    /// or `%` once decoded) before it reaches the store, as kube-apiserver's key functions do:
    /// `Name parameter invalid: "..": may not be '..'`, a 400. (kube-apiserver reaches a `.` or
    /// `..` namespace only at its storage layer, whose "invalid key" is a 500; here it is the
    /// same 400 as a name, worded for the namespace.)
    pub fn check_segments(&self) -> Result<(), ApiError> {
        let fields = [("Namespace", self.namespace.as_deref()), ("Name", self.name.as_deref())];
        for (field, value) in fields {
            let Some(value) = value else { continue };
            let problems = is_valid_path_segment_name(value);
            if !problems.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "{field} parameter invalid: {value:?}: {}",
                    problems.join(";")
                )));
            }
        }
        Ok(())
    }
}

/// Decodes `%XX` escapes as Go's `url.PathUnescape` does: a `%` not followed by two hex digits is
/// an error (Go's server refuses such a request line with a 400), and so is a result that is not
/// UTF-8.
fn percent_decode(path: &str) -> Result<Cow<'_, str>, ApiError> {
    if !path.contains('%') {
        return Ok(Cow::Borrowed(path));
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
            let escape: String = path[i..].chars().take(3).collect();
            return Err(ApiError::bad_request(format!("invalid URL escape {escape:?}")));
        };
        out.push((high * 16 + low) as u8);
        i += 3;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| ApiError::bad_request("invalid URL path: escapes decode to invalid UTF-8"))
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
            Ok(Target::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths_parse_like_request_info() {
        assert_eq!(parse_path("/api"), Ok(Target::Root { core: true }));
        assert_eq!(parse_path("/apis/apps"), Ok(Target::Group { group: "apps".into() }));
        assert_eq!(
            parse_path("/apis/apps/v1"),
            Ok(Target::GroupVersion { group: "apps".into(), version: "v1".into() })
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
        let r = resource("/apis/apps/v1/namespaces/ns/deployments/web/history/diff");
        assert_eq!(
            (r.name.as_deref(), r.subresource.as_deref(), r.history_route.as_deref()),
            (Some("web"), Some("history"), Some("diff"))
        );
        assert_eq!(resource("/api/v1/namespaces/ns/configmaps/cm/history").history_route, None);
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
        for bad in [
            "/",
            "/healthz",
            "/api//v1",
            "/api/v1/a/b/c/d",
            "/apis/g/v/namespaces/n/r/x/y/z",
            "/api/v1/namespaces/n/configmaps/x/history/diff/more",
        ] {
            assert_eq!(parse_path(bad).unwrap_err().to_status()["code"], 404, "{bad}");
        }
    }

    #[test]
    fn paths_are_percent_decoded_then_split_like_go_url_path() {
        let r = resource("/api/v1/namespaces/d%65fault/secrets/%73");
        assert_eq!((r.namespace.as_deref(), r.name.as_deref()), (Some("default"), Some("s")));
        // `%2F` decodes to a separator, as in Go's `URL.Path`: a name cannot contain `/`.
        let r = resource("/api/v1/namespaces/default/secrets/a%2Fstatus");
        assert_eq!((r.name.as_deref(), r.subresource.as_deref()), (Some("a"), Some("status")));
        let r = resource("/api/v1/namespaces/default/secrets/a%25b");
        assert_eq!(r.name.as_deref(), Some("a%b"));
        for bad in ["/api/v1/namespaces/default/secrets/%zz", "/api/v1/pods/%4", "/api/v1/pods/%ff"]
        {
            let status = parse_path(bad).unwrap_err().to_status();
            assert_eq!(
                (status["code"].as_u64(), status["reason"].as_str()),
                (Some(400), Some("BadRequest")),
                "{bad}"
            );
        }
    }

    #[test]
    fn trailing_slashes_are_ignored_as_go_restful_does() {
        assert_eq!(parse_path("/api/"), Ok(Target::Root { core: true }));
        assert_eq!(parse_path("/apis/"), Ok(Target::Root { core: false }));
        assert_eq!(parse_path("/apis/apps/"), Ok(Target::Group { group: "apps".into() }));
        assert_eq!(parse_path("/apis/apps/v1/"), parse_path("/apis/apps/v1"));
        assert_eq!(
            parse_path("/api/v1/namespaces/a/pods/"),
            parse_path("/api/v1/namespaces/a/pods")
        );
    }

    #[test]
    fn dot_segments_as_names_or_namespaces_are_bad_requests() {
        for (path, message) in [
            (
                "/api/v1/namespaces/../secrets",
                r#"Namespace parameter invalid: "..": may not be '..'"#,
            ),
            ("/api/v1/namespaces/./secrets", r#"Namespace parameter invalid: ".": may not be '.'"#),
            (
                "/api/v1/namespaces/default/secrets/..",
                r#"Name parameter invalid: "..": may not be '..'"#,
            ),
            ("/api/v1/namespaces/%2e%2E", r#"Name parameter invalid: "..": may not be '..'"#),
            (
                "/api/v1/namespaces/a/secrets/x%25y",
                r#"Name parameter invalid: "x%y": may not contain '%'"#,
            ),
        ] {
            let status = resource(path).check_segments().unwrap_err().to_status();
            assert_eq!(status["code"], 400, "{path}");
            assert_eq!(status["message"], message, "{path}");
        }
        assert!(resource("/api/v1/namespaces/a/secrets/s.x").check_segments().is_ok());
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
