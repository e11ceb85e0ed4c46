//! Decisions cached per request shape, so the hot read path does not walk every binding: the key
//! is what RBAC looks at (user name and groups, verb, namespace, API group, resource,
//! subresource, name — or verb and path for non-resource requests); every entry belongs to one
//! generation of the [`super::source::RuleSource`], and a new generation (any RBAC object
//! written) empties the cache.
//!
//! Lookups hash the request's fields in place and compare the stored key field by field, so a
//! hit allocates nothing. The cache holds at most [`CAPACITY`] entries and starts over when full
//! — per-name GETs by many users are the only way to fill it, and a miss costs one evaluation.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::attributes::{Attributes, Decision};

/// Most entries kept before the cache starts over.
pub const CAPACITY: usize = 16 * 1024;

/// What RBAC's decision depends on, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    user: String,
    groups: Vec<String>,
    verb: String,
    resource_request: bool,
    /// The path for non-resource requests; empty for resource requests.
    path: String,
    namespace: String,
    api_group: String,
    resource: String,
    subresource: String,
    name: String,
}

impl Shape {
    fn of(a: &Attributes) -> Shape {
        let resource = |s: &String| if a.resource_request { s.clone() } else { String::new() };
        Shape {
            user: a.user.name.clone(),
            groups: a.user.groups.clone(),
            verb: a.verb.clone(),
            resource_request: a.resource_request,
            path: if a.resource_request { String::new() } else { a.path.clone() },
            namespace: resource(&a.namespace),
            api_group: resource(&a.api_group),
            resource: resource(&a.resource),
            subresource: resource(&a.subresource),
            name: resource(&a.name),
        }
    }

    fn matches(&self, a: &Attributes) -> bool {
        self.user == a.user.name
            && self.groups == a.user.groups
            && self.verb == a.verb
            && self.resource_request == a.resource_request
            && if a.resource_request {
                self.namespace == a.namespace
                    && self.api_group == a.api_group
                    && self.resource == a.resource
                    && self.subresource == a.subresource
                    && self.name == a.name
            } else {
                self.path == a.path
            }
    }
}

/// The hash of a request's shape, from its fields in place.
fn shape_hash(a: &Attributes) -> u64 {
    let mut h = DefaultHasher::new();
    a.user.name.hash(&mut h);
    a.user.groups.hash(&mut h);
    a.verb.hash(&mut h);
    a.resource_request.hash(&mut h);
    if a.resource_request {
        (&a.namespace, &a.api_group, &a.resource, &a.subresource, &a.name).hash(&mut h);
    } else {
        a.path.hash(&mut h);
    }
    h.finish()
}

#[derive(Debug, Default)]
struct Entries {
    generation: u64,
    by_hash: HashMap<u64, (Shape, Decision)>,
}

/// Hits, misses and how often the cache was emptied (a new generation, or full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub resets: u64,
}

/// The cache. Reads take a shared lock; an insert takes the exclusive one briefly.
#[derive(Debug, Default)]
pub struct DecisionCache {
    entries: RwLock<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
    resets: AtomicU64,
}

impl DecisionCache {
    /// The decision cached for this request shape at `generation`, if any.
    pub fn get(&self, generation: u64, attributes: &Attributes) -> Option<Decision> {
        let found = {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            (entries.generation == generation)
                .then(|| entries.by_hash.get(&shape_hash(attributes)))
                .flatten()
                .filter(|(shape, _)| shape.matches(attributes))
                .map(|(_, decision)| decision.clone())
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Remembers a decision reached at `generation`. A decision of an older generation than
    /// the cache's is dropped; a newer one empties the cache first.
    pub fn insert(&self, generation: u64, attributes: &Attributes, decision: &Decision) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if generation < entries.generation {
            return;
        }
        if generation > entries.generation || entries.by_hash.len() >= CAPACITY {
            entries.by_hash.clear();
            entries.generation = generation;
            self.resets.fetch_add(1, Ordering::Relaxed);
        }
        entries.by_hash.insert(shape_hash(attributes), (Shape::of(attributes), decision.clone()));
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            resets: self.resets.load(Ordering::Relaxed),
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::user::UserInfo;
    use std::sync::Arc;

    fn get(user: &str, name: &str) -> Attributes {
        Attributes::resource(Arc::new(UserInfo::new(user, &["g"])), "get", "", "v1", "pods")
            .namespace("ns")
            .name(name)
    }

    #[test]
    fn entries_are_per_shape_and_per_generation() {
        let cache = DecisionCache::default();
        let allow = Decision::Allow("yes".into());
        assert_eq!(cache.get(1, &get("alice", "a")), None);
        cache.insert(1, &get("alice", "a"), &allow);
        assert_eq!(cache.get(1, &get("alice", "a")), Some(allow.clone()));
        assert_eq!(cache.get(1, &get("alice", "b")), None, "another name");
        assert_eq!(cache.get(1, &get("bob", "a")), None, "another user");
        let mut other_groups = get("alice", "a");
        other_groups.user = Arc::new(UserInfo::new("alice", &["h"]));
        assert_eq!(cache.get(1, &other_groups), None, "other groups");
        // The API version does not matter to RBAC; a new generation drops everything.
        let mut v2 = get("alice", "a");
        v2.api_version = "v2".into();
        assert_eq!(cache.get(1, &v2), Some(allow.clone()));
        assert_eq!(cache.get(2, &get("alice", "a")), None);
        cache.insert(1, &get("alice", "b"), &allow);
        cache.insert(2, &get("alice", "c"), &allow);
        assert_eq!(cache.len(), 1, "the new generation emptied the cache");
        cache.insert(1, &get("alice", "d"), &allow);
        assert_eq!(cache.len(), 1, "a stale decision is not kept");
        assert_eq!(cache.stats(), CacheStats { hits: 2, misses: 5, resets: 2 });
    }

    #[test]
    fn non_resource_requests_are_keyed_by_path() {
        let cache = DecisionCache::default();
        let user = Arc::new(UserInfo::anonymous());
        let healthz = Attributes::non_resource(user.clone(), "get", "/healthz");
        cache.insert(7, &healthz, &Decision::Allow(String::new()));
        assert!(cache.get(7, &Attributes::non_resource(user.clone(), "get", "/healthz")).is_some());
        assert!(cache.get(7, &Attributes::non_resource(user.clone(), "get", "/metrics")).is_none());
        assert!(cache.get(7, &Attributes::non_resource(user, "post", "/healthz")).is_none());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = DecisionCache::default();
        for i in 0..CAPACITY + 1 {
            cache.insert(1, &get("alice", &i.to_string()), &Decision::NoOpinion(String::new()));
        }
        assert_eq!(cache.len(), 1);
    }
}
