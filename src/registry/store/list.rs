//! LIST with selectors, pagination (`limit`/`continue`) and resourceVersion semantics as in
//! Kubernetes "API Concepts".
//!
//! Pages are read at one revision: the first page's, carried in the continue token. Selectors
//! filter page by page; a page is filled from as many storage pages as it takes, and the token
//! resumes after the last key *read*, so no object is skipped or repeated.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::read::{Freshness, all_served_from_view};
use super::{Store, decode, storage_err};
use crate::meta::fields::FieldSelector;
use crate::meta::labels::LabelSelector;
use crate::meta::status::{ApiError, Reason};
use crate::registry::Resource;
use crate::registry::object;
use crate::storage::{ListOptions, Object, Revision, StorageError};

/// The list query, already parsed by the endpoint.
#[derive(Debug, Clone)]
pub struct ListParams {
    pub label_selector: LabelSelector,
    pub field_selector: FieldSelector,
    /// At most this many items (0 or `None`: all).
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    /// The caller encodes the items itself from the view's objects ([`ListResult::view_objects`],
    /// with the encodings they cache), when the page comes from the view and converts in-process.
    pub wants_view_objects: bool,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams {
            label_selector: LabelSelector::everything(),
            field_selector: FieldSelector::everything(),
            limit: None,
            continue_token: None,
            resource_version: None,
            resource_version_match: None,
            wants_view_objects: false,
        }
    }
}

/// A list result in the served version.
#[derive(Debug, Clone)]
pub struct ListResult {
    pub items: Vec<Value>,
    pub resource_version: Revision,
    pub continue_token: Option<String>,
    /// Only without selectors, as kube-apiserver.
    pub remaining_item_count: Option<u64>,
    /// With [`ListParams::wants_view_objects`], a page from the view: its objects as stored (not
    /// converted, no resourceVersion set) in place of `items`, which is left empty.
    pub view_objects: Option<Vec<std::sync::Arc<::watch::Object>>>,
}

/// kube-apiserver's continue token: base64url of `{"v":"meta.k8s.io/v1","rv":…,"start":…}`,
/// where `start` is the last key read, relative to the list prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContinueToken {
    pub v: String,
    pub rv: Revision,
    pub start: String,
}

impl ContinueToken {
    pub fn encode(&self) -> String {
        URL_SAFE.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(token: &str) -> Result<ContinueToken, ApiError> {
        let invalid = || ApiError::bad_request("continue key is not valid");
        let bytes = URL_SAFE.decode(token).map_err(|_| invalid())?;
        let token: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if token.v != "meta.k8s.io/v1" || token.rv <= 0 || token.start.starts_with('/') {
            return Err(invalid());
        }
        Ok(token)
    }
}

/// Where a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadAt {
    Latest,
    Exact(Revision),
    NotOlderThan(Revision),
}

fn parse_revision(text: &str) -> Result<Revision, ApiError> {
    text.parse::<Revision>()
        .ok()
        .filter(|rv| *rv >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {text:?}")))
}

impl ListParams {
    /// Decides the read revision and the start key from resourceVersion, resourceVersionMatch
    /// and continue, with kube-apiserver's 400s for combinations it refuses.
    fn plan(&self) -> Result<(ReadAt, Option<String>), ApiError> {
        let rv = self.resource_version.as_deref().filter(|s| !s.is_empty());
        if let Some(token) = &self.continue_token {
            if rv.is_some_and(|rv| rv != "0") {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let token = ContinueToken::decode(token)?;
            return Ok((ReadAt::Exact(token.rv), Some(token.start)));
        }
        let read = match (self.resource_version_match.as_deref(), rv) {
            (Some(_), None) => {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            (Some("Exact"), Some(rv)) => match parse_revision(rv)? {
                0 => {
                    return Err(ApiError::bad_request(
                        "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
                    ));
                }
                rv => ReadAt::Exact(rv),
            },
            (Some("NotOlderThan"), Some(rv)) => ReadAt::NotOlderThan(parse_revision(rv)?),
            (Some(other), Some(_)) => {
                return Err(ApiError::bad_request(format!(
                    "unsupported resourceVersionMatch value {other:?}: supported values are \"Exact\", \"NotOlderThan\""
                )));
            }
            (None, None) => ReadAt::Latest,
            (None, Some(rv)) => match parse_revision(rv)? {
                0 => ReadAt::Latest,
                // With a limit, a resourceVersion means "exactly this one" (legacy semantics).
                rv if self.limit.is_some_and(|l| l > 0) => ReadAt::Exact(rv),
                rv => ReadAt::NotOlderThan(rv),
            },
        };
        Ok((read, None))
    }

    fn has_selectors(&self) -> bool {
        !self.label_selector.is_everything() || !self.field_selector.is_everything()
    }
}

impl Store {
    pub async fn list(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<ListResult, ApiError> {
        let (read_at, start) = params.plan()?;
        let prefix = resource.prefix(namespace);
        // A first page at the latest (or a not-older-than) revision comes from the view, and so
        // does an exact revision (a later page, or resourceVersionMatch=Exact) while the view is
        // still at it; other revisions come from the log, which holds every retained one.
        if let ReadAt::Exact(revision) = read_at {
            let view = self.views.of(resource);
            let scope = namespace.filter(|_| resource.namespaced);
            if view.revision() == Some(revision)
                && let Ok((mut objects, at)) =
                    view.list(scope, &|stored| matches(resource, stored, params))
                && at == revision
            {
                if let Some(start) = &start {
                    let start_key = format!("{prefix}{start}");
                    objects.retain(|o| *o.key > *start_key.as_str());
                }
                return list_from_view(resource, &prefix, (objects, revision), params).await;
            }
        }
        if start.is_none() {
            let freshness = match read_at {
                ReadAt::Latest if params.resource_version.as_deref() == Some("0") => {
                    Some(Freshness::Any)
                }
                ReadAt::Latest => Some(Freshness::Consistent),
                ReadAt::NotOlderThan(0) => Some(Freshness::Any),
                ReadAt::NotOlderThan(n) => Some(Freshness::AtLeast(n)),
                ReadAt::Exact(_) => None,
            };
            if let Some(freshness) = freshness
                && let Some(view) = self.fresh_view(resource, freshness).await?
                && let Ok(listed) = view
                    .list(namespace.filter(|_| resource.namespaced), &|stored| {
                        matches(resource, stored, params)
                    })
            {
                return list_from_view(resource, &prefix, listed, params).await;
            }
        }
        let to_api = storage_err(resource, "");
        let mut revision = match read_at {
            ReadAt::Latest => None,
            ReadAt::Exact(rv) => Some(rv),
            ReadAt::NotOlderThan(rv) => {
                let current =
                    self.storage.current_revision().await.map_err(storage_err(resource, ""))?;
                if rv > current {
                    return Err(ApiError::too_large_resource_version(rv, current));
                }
                None
            }
        };
        let limit = params.limit.filter(|l| *l > 0);
        let mut start_after = start.map(|s| format!("{prefix}{s}"));
        let mut items = Vec::new();
        let mut last_read: Option<String> = None;
        let mut remaining;
        loop {
            let want = limit.map(|l| l - items.len());
            let options = ListOptions { revision, limit: want, start_after: start_after.clone() };
            let page = match self.storage.list(&prefix, options).await {
                Ok(page) => page,
                Err(StorageError::Compacted { .. }) if params.continue_token.is_some() => {
                    return Err(ApiError::expired_continue());
                }
                Err(StorageError::Compacted { compacted, .. }) => {
                    return Err(expired_list(compacted));
                }
                Err(err) => return Err(to_api(err)),
            };
            revision = Some(page.revision);
            remaining = page.remaining;
            // One conversion per page: a webhook converts the page with one review.
            let mut selected = Vec::new();
            let mut revisions = Vec::new();
            for stored in &page.objects {
                if let Some(value) = select(resource, stored, params)? {
                    selected.push(value);
                    revisions.push(stored.mod_revision);
                }
            }
            let served = resource.conversion.to_served_versions(selected).await?;
            for (mut item, revision) in served.into_iter().zip(revisions) {
                object::set_resource_version(&mut item, revision);
                items.push(item);
            }
            last_read = page.objects.last().map(|o| o.key.clone()).or(last_read);
            let full = limit.is_some_and(|l| items.len() >= l);
            if remaining == 0 || full || limit.is_none() {
                break;
            }
            start_after = last_read.clone();
        }
        let revision = revision.unwrap_or_default();
        let continue_token = match (remaining > 0, &last_read) {
            (true, Some(key)) => Some(
                ContinueToken {
                    v: "meta.k8s.io/v1".to_owned(),
                    rv: revision,
                    start: key[prefix.len()..].to_owned(),
                }
                .encode(),
            ),
            _ => None,
        };
        let remaining_item_count =
            (continue_token.is_some() && !params.has_selectors()).then_some(remaining);
        Ok(ListResult {
            items,
            resource_version: revision,
            continue_token,
            remaining_item_count,
            view_objects: None,
        })
    }
}

/// The stored object, decoded, if it passes the selectors.
fn select(
    resource: &Resource,
    stored: &Object,
    params: &ListParams,
) -> Result<Option<Value>, ApiError> {
    let value = decode(stored)?;
    if params.has_selectors() && !matches(resource, &value, params) {
        return Ok(None);
    }
    Ok(Some(value))
}

/// One page of a snapshot the view took at one revision; a continue token leads to the log at
/// that same revision for the following pages.
async fn list_from_view(
    resource: &Resource,
    prefix: &str,
    (objects, revision): (Vec<std::sync::Arc<::watch::Object>>, Revision),
    params: &ListParams,
) -> Result<ListResult, ApiError> {
    let limit = params.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let more = objects.len().saturating_sub(limit);
    let page = &objects[..objects.len().min(limit)];
    let (items, view_objects) = if params.wants_view_objects && !resource.conversion.is_remote() {
        (Vec::new(), Some(page.to_vec()))
    } else {
        (all_served_from_view(resource, page).await?, None)
    };
    let continue_token = match (more > 0, page.last()) {
        (true, Some(last)) => Some(
            ContinueToken {
                v: "meta.k8s.io/v1".to_owned(),
                rv: revision,
                start: last.key[prefix.len()..].to_owned(),
            }
            .encode(),
        ),
        _ => None,
    };
    let remaining_item_count =
        (continue_token.is_some() && !params.has_selectors()).then_some(more as u64);
    Ok(ListResult {
        items,
        resource_version: revision,
        continue_token,
        remaining_item_count,
        view_objects,
    })
}

/// Whether a stored object passes a list's (or watch's) label and field selectors.
pub fn matches(resource: &Resource, stored: &Value, params: &ListParams) -> bool {
    // Read in place: a watch applies this to both sides of every event for every watcher, so
    // copying the labels into a map (or anything at all, without selectors) is per-delivery work.
    (params.label_selector.is_everything() || params.label_selector.matches_object(stored))
        && (params.field_selector.is_everything()
            || params.field_selector.matches(&field_set(resource, stored)))
}

/// The fields a field selector can test on an object.
pub fn field_set(resource: &Resource, stored: &Value) -> BTreeMap<String, String> {
    let mut fields = resource.strategy.selectable_fields(stored);
    fields.insert("metadata.name".into(), object::name(stored).unwrap_or_default().into());
    if resource.namespaced {
        fields.insert(
            "metadata.namespace".into(),
            object::namespace(stored).unwrap_or_default().into(),
        );
    }
    fields
}

/// kube's 410 for a list at a revision the log no longer holds (etcd3's `interpretListError`),
/// naming the oldest retained revision.
fn expired_list(oldest: Revision) -> ApiError {
    ApiError::new(
        Reason::Expired,
        format!(
            "The resourceVersion for the provided list is too old (the oldest retained revision is {oldest})."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(rv: Option<&str>, rv_match: Option<&str>, limit: Option<usize>) -> ListParams {
        ListParams {
            resource_version: rv.map(str::to_owned),
            resource_version_match: rv_match.map(str::to_owned),
            limit,
            ..Default::default()
        }
    }

    #[test]
    fn resource_version_semantics_follow_api_concepts() {
        let plan = |p: ListParams| p.plan().map(|(at, _)| at).map_err(|e| e.reason);
        assert_eq!(plan(params(None, None, None)), Ok(ReadAt::Latest));
        assert_eq!(plan(params(Some("0"), None, None)), Ok(ReadAt::Latest));
        assert_eq!(plan(params(Some("5"), None, None)), Ok(ReadAt::NotOlderThan(5)));
        assert_eq!(plan(params(Some("5"), None, Some(10))), Ok(ReadAt::Exact(5)));
        assert_eq!(plan(params(Some("5"), Some("Exact"), None)), Ok(ReadAt::Exact(5)));
        assert_eq!(
            plan(params(Some("5"), Some("NotOlderThan"), None)),
            Ok(ReadAt::NotOlderThan(5))
        );
        for bad in [
            params(Some("0"), Some("Exact"), None),
            params(None, Some("Exact"), None),
            params(Some("5"), Some("Newest"), None),
            params(Some("x"), None, None),
            params(Some("-3"), None, None),
        ] {
            assert_eq!(plan(bad), Err(Reason::BadRequest));
        }
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let token = ContinueToken { v: "meta.k8s.io/v1".into(), rv: 42, start: "default/b".into() };
        assert_eq!(ContinueToken::decode(&token.encode()).unwrap(), token);
        for bad in ["", "!!!", "e30", &URL_SAFE.encode(br#"{"v":"x","rv":1,"start":""}"#)] {
            assert!(ContinueToken::decode(bad).is_err(), "{bad}");
        }
        let mut p = params(Some("7"), None, Some(1));
        p.continue_token = Some(token.encode());
        assert_eq!(p.plan().unwrap_err().reason, Reason::BadRequest);
        p.resource_version = None;
        assert_eq!(p.plan().unwrap(), (ReadAt::Exact(42), Some("default/b".into())));
    }
}
