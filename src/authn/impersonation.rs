//! Impersonation headers (`kubectl --as`, `--as-group`, `--as-uid`): `Impersonate-User`,
//! `Impersonate-Group` (repeatable), `Impersonate-Uid` and `Impersonate-Extra-<key>`
//! (repeatable; the key lower-cased and percent-decoded), read into an
//! [`ImpersonationRequest`]: the checks the authorizer must allow (verb `impersonate` on users,
//! serviceaccounts, groups, `userextras/<key>`, uids) and the user the request then runs as.
//!
//! As kube: groups, extras or a uid without a user are a 400; a ServiceAccount user without
//! groups gets the ServiceAccount groups; the new user gets `system:authenticated` (or, for
//! `system:anonymous`, `system:unauthenticated`) unless the groups already say. After the
//! checks pass, [`strip_headers`] removes the headers.

use std::collections::BTreeMap;

use http::HeaderMap;

use super::serviceaccount;
use super::{ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS_USER, UserInfo};

pub const USER_HEADER: &str = "impersonate-user";
pub const GROUP_HEADER: &str = "impersonate-group";
pub const UID_HEADER: &str = "impersonate-uid";
pub const EXTRA_HEADER_PREFIX: &str = "impersonate-extra-";

/// One thing to be allowed to impersonate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User(String),
    ServiceAccount { namespace: String, name: String },
    Group(String),
    UserExtra { key: String, value: String },
    Uid(String),
}

/// The authorization attributes of a [`Target`]: a resource request with verb `impersonate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub verb: &'static str,
    pub api_group: &'static str,
    pub resource: &'static str,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

impl Target {
    /// What the authorizer is asked for this target.
    pub fn check(&self) -> Check {
        let check = |api_group, resource, subresource: &str, namespace: &str, name: &str| Check {
            verb: "impersonate",
            api_group,
            resource,
            subresource: subresource.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        match self {
            Target::User(name) => check("", "users", "", "", name),
            Target::ServiceAccount { namespace, name } => {
                check("", "serviceaccounts", "", namespace, name)
            }
            Target::Group(name) => check("", "groups", "", "", name),
            Target::UserExtra { key, value } => {
                check("authentication.k8s.io", "userextras", key, "", value)
            }
            Target::Uid(uid) => check("authentication.k8s.io", "uids", "", "", uid),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::User(name) => write!(f, "User {name:?}"),
            Target::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace:?}/{name:?}")
            }
            Target::Group(name) => write!(f, "Group {name:?}"),
            Target::UserExtra { key, value } => write!(f, "UserExtra {key:?}={value:?}"),
            Target::Uid(uid) => write!(f, "UID {uid:?}"),
        }
    }
}

/// The impersonation a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpersonationRequest {
    /// Each must be allowed for the authenticated user, in this order; the first denial is a
    /// 403 naming it.
    pub targets: Vec<Target>,
    /// The user the request runs as once every target is allowed.
    pub user: UserInfo,
}

/// A malformed impersonation: a 400 BadRequest Status with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ImpersonationError(pub String);

/// Reads the impersonation headers; `Ok(None)` when there are none.
pub fn parse(headers: &HeaderMap) -> Result<Option<ImpersonationRequest>, ImpersonationError> {
    let text = |name: &str, value: &http::HeaderValue| {
        value
            .to_str()
            .map(str::to_owned)
            .map_err(|_| ImpersonationError(format!("invalid {name} header: not visible ASCII")))
    };
    let mut targets = Vec::new();

    let requested_user = match headers.get(USER_HEADER) {
        Some(value) => text("Impersonate-User", value)?,
        None => String::new(),
    };
    let has_user = !requested_user.is_empty();
    let service_account = serviceaccount::split_username(&requested_user)
        .map(|(ns, name)| (ns.to_owned(), name.to_owned()));
    if has_user {
        targets.push(match &service_account {
            Some((namespace, name)) => {
                Target::ServiceAccount { namespace: namespace.clone(), name: name.clone() }
            }
            None => Target::User(requested_user.clone()),
        });
    }

    let mut groups = Vec::new();
    for value in headers.get_all(GROUP_HEADER) {
        let group = text("Impersonate-Group", value)?;
        targets.push(Target::Group(group.clone()));
        groups.push(group);
    }
    let has_groups = !groups.is_empty();

    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut extra_targets = Vec::new();
    for (name, value) in headers {
        let Some(raw_key) = name.as_str().strip_prefix(EXTRA_HEADER_PREFIX) else {
            continue;
        };
        let key = unescape_extra_key(&raw_key.to_ascii_lowercase());
        let value = text(name.as_str(), value)?;
        extra_targets.push(Target::UserExtra { key: key.clone(), value: value.clone() });
        extra.entry(key).or_default().push(value);
    }
    // Headers arrive in any order: check extras by key for a stable order.
    extra_targets.sort_by(|a, b| match (a, b) {
        (Target::UserExtra { key: a, .. }, Target::UserExtra { key: b, .. }) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    });
    let has_extra = !extra_targets.is_empty();
    targets.extend(extra_targets);

    let uid = match headers.get(UID_HEADER) {
        Some(value) => text("Impersonate-Uid", value)?,
        None => String::new(),
    };
    if !uid.is_empty() {
        targets.push(Target::Uid(uid.clone()));
    }

    if !has_user && (has_groups || has_extra || !uid.is_empty()) {
        let listed: Vec<String> = targets.iter().map(Target::to_string).collect();
        return Err(ImpersonationError(format!(
            "requested [{}] without impersonating a user",
            listed.join(", ")
        )));
    }
    if !has_user {
        return Ok(None);
    }

    if let (Some((namespace, _)), false) = (&service_account, has_groups) {
        groups = serviceaccount::groups(namespace);
    }
    if requested_user != ANONYMOUS_USER {
        if !groups.iter().any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED) {
            groups.push(ALL_AUTHENTICATED.to_owned());
        }
    } else if !groups.iter().any(|g| g == ALL_UNAUTHENTICATED) {
        groups.push(ALL_UNAUTHENTICATED.to_owned());
    }
    Ok(Some(ImpersonationRequest {
        targets,
        user: UserInfo { name: requested_user, uid, groups, extra },
    }))
}

/// Removes every impersonation header (once the impersonation is allowed).
pub fn strip_headers(headers: &mut HeaderMap) {
    let names: Vec<http::HeaderName> = headers
        .keys()
        .filter(|n| {
            let n = n.as_str();
            n == USER_HEADER
                || n == GROUP_HEADER
                || n == UID_HEADER
                || n.starts_with(EXTRA_HEADER_PREFIX)
        })
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}

/// Percent-decodes an extra key (`%2F` → `/`), as Go's `url.PathUnescape`; a key that does not
/// decode is kept as sent.
fn unescape_extra_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                None => return key.to_owned(),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn no_headers_no_impersonation() {
        assert_eq!(parse(&headers(&[("Authorization", "Bearer x")])), Ok(None));
        assert_eq!(parse(&headers(&[("Impersonate-User", "")])), Ok(None));
    }

    #[test]
    fn a_user_with_groups_extras_and_uid() {
        let request = parse(&headers(&[
            ("Impersonate-User", "jane"),
            ("Impersonate-Group", "dev"),
            ("Impersonate-Group", "ops"),
            ("Impersonate-Extra-Scopes", "view"),
            ("Impersonate-Extra-scopes", "edit"),
            ("Impersonate-Extra-Example.com%2Fteam", "a"),
            ("Impersonate-Uid", "u-1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            request.targets,
            vec![
                Target::User("jane".into()),
                Target::Group("dev".into()),
                Target::Group("ops".into()),
                Target::UserExtra { key: "example.com/team".into(), value: "a".into() },
                Target::UserExtra { key: "scopes".into(), value: "view".into() },
                Target::UserExtra { key: "scopes".into(), value: "edit".into() },
                Target::Uid("u-1".into()),
            ]
        );
        let user = request.user;
        assert_eq!((user.name.as_str(), user.uid.as_str()), ("jane", "u-1"));
        assert_eq!(user.groups, vec!["dev", "ops", "system:authenticated"]);
        assert_eq!(user.extra["scopes"], vec!["view", "edit"]);
        assert_eq!(user.extra["example.com/team"], vec!["a"]);
        let check = Target::UserExtra { key: "scopes".into(), value: "view".into() }.check();
        assert_eq!(
            (
                check.verb,
                check.api_group,
                check.resource,
                check.subresource.as_str(),
                check.name.as_str()
            ),
            ("impersonate", "authentication.k8s.io", "userextras", "scopes", "view")
        );
    }

    #[test]
    fn a_service_account_gets_its_groups_unless_groups_are_given() {
        let request = parse(&headers(&[("Impersonate-User", "system:serviceaccount:ci:builder")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            request.targets,
            vec![Target::ServiceAccount { namespace: "ci".into(), name: "builder".into() }]
        );
        let check = request.targets[0].check();
        assert_eq!(
            (check.resource, check.namespace.as_str(), check.name.as_str()),
            ("serviceaccounts", "ci", "builder")
        );
        assert_eq!(
            request.user.groups,
            vec!["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]
        );
        let request = parse(&headers(&[
            ("Impersonate-User", "system:serviceaccount:ci:builder"),
            ("Impersonate-Group", "system:unauthenticated"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(request.user.groups, vec!["system:unauthenticated"]);
    }

    #[test]
    fn anonymous_is_unauthenticated() {
        let request =
            parse(&headers(&[("Impersonate-User", "system:anonymous")])).unwrap().unwrap();
        assert_eq!(request.user.groups, vec!["system:unauthenticated"]);
    }

    #[test]
    fn groups_extras_or_uid_without_a_user_are_a_bad_request() {
        for pairs in [
            vec![("Impersonate-Group", "dev")],
            vec![("Impersonate-Extra-Scopes", "view")],
            vec![("Impersonate-Uid", "u-1")],
            vec![("Impersonate-User", ""), ("Impersonate-Group", "dev")],
        ] {
            let error = parse(&headers(&pairs)).unwrap_err();
            assert!(error.0.ends_with("without impersonating a user"), "{error}");
        }
        let error = parse(&headers(&[("Impersonate-Group", "dev")])).unwrap_err();
        assert_eq!(error.0, "requested [Group \"dev\"] without impersonating a user");
    }

    #[test]
    fn non_ascii_values_are_a_bad_request() {
        let mut map = HeaderMap::new();
        map.insert(USER_HEADER, http::HeaderValue::from_bytes(b"j\xe9").unwrap());
        let error = parse(&map).unwrap_err();
        assert!(error.0.contains("Impersonate-User"), "{error}");
    }

    #[test]
    fn extra_keys_decode_or_stay_as_sent() {
        assert_eq!(unescape_extra_key("a%2fb"), "a/b");
        assert_eq!(unescape_extra_key("a%zzb"), "a%zzb");
        assert_eq!(unescape_extra_key("a%2"), "a%2");
        assert_eq!(unescape_extra_key("a%ff"), "a%ff");
    }

    #[test]
    fn headers_are_stripped() {
        let mut map = headers(&[
            ("Impersonate-User", "jane"),
            ("Impersonate-Group", "dev"),
            ("Impersonate-Extra-X", "1"),
            ("Impersonate-Uid", "u"),
            ("Accept", "application/json"),
        ]);
        strip_headers(&mut map);
        assert_eq!(map.len(), 1);
        assert!(map.contains_key("accept"));
    }
}
