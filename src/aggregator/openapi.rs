//! The remote APIServices' OpenAPI documents, as kube-aggregator's OpenAPI aggregation
//! controllers keep them: fetched from each extension API server and merged into this server's
//! own `/openapi/v2` and `/openapi/v3` (`src/api/openapi`).
//!
//! ```text
//! availability loop (every replica, each check that passes) ─▶ extension over the proxy's client:
//!   GET /openapi/v2 (If-None-Match: last ETag; 304 keeps the document)
//!   GET /openapi/v3 ─▶ the serverRelativeURL of apis/<group>/<version> ─▶ GET it when it changed
//!      ─▶ RemoteOpenApi (per APIService; `generation` moves on every change)
//!           ─▶ openapi::Cache rebuilds once per (registry generation, remote generation)
//! ```
//!
//! Merging: `/openapi/v2` gains the extension's paths under `/apis/<group>/` that this server
//! does not serve itself, and its definitions whose names it does not already define (the
//! shared `io.k8s.apimachinery…` ones are the same); `/openapi/v3` lists
//! `apis/<group>/<version>` of each remote APIService whose document arrived, served as fetched.
//! An APIService that is not available, or whose extension serves no OpenAPI, is left out; the
//! rest of the documents are unaffected. A fetch that fails keeps the last document while the
//! APIService stays available.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::Value;

/// A document as fetched, with what identifies its version: the v2 ETag, or the v3
/// `serverRelativeURL` (which carries the extension's hash).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub tag: String,
    pub document: Arc<Value>,
}

/// What is known of one remote APIService's OpenAPI.
#[derive(Debug, Clone, Default)]
pub struct RemoteSpec {
    pub group: String,
    pub version: String,
    /// Whether its last availability check passed: only available APIServices are merged.
    pub available: bool,
    pub v2: Option<Fetched>,
    pub v3: Option<Fetched>,
}

impl RemoteSpec {
    /// What a change is detected by.
    fn fingerprint(&self) -> (bool, Option<&str>, Option<&str>) {
        fn tag(fetched: &Option<Fetched>) -> Option<&str> {
            fetched.as_ref().map(|f| f.tag.as_str())
        }
        (self.available, tag(&self.v2), tag(&self.v3))
    }
}

/// The remote specs by APIService name.
#[derive(Debug, Default)]
pub struct RemoteOpenApi {
    specs: RwLock<BTreeMap<String, RemoteSpec>>,
    /// Moves whenever what would be merged changes.
    generation: AtomicU64,
}

impl RemoteOpenApi {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The last known spec of the APIService `name`.
    pub fn get(&self, name: &str) -> Option<RemoteSpec> {
        self.specs.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    /// Records the spec of the APIService `name`.
    pub fn record(&self, name: &str, spec: RemoteSpec) {
        let mut specs = self.specs.write().unwrap_or_else(|e| e.into_inner());
        let changed = specs.get(name).is_none_or(|old| old.fingerprint() != spec.fingerprint());
        specs.insert(name.to_owned(), spec);
        if changed {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Marks the APIService `name` unavailable (its documents are kept for when it returns).
    pub fn unavailable(&self, name: &str, group: &str, version: &str) {
        let mut spec = self.get(name).unwrap_or_default();
        (spec.group, spec.version, spec.available) = (group.to_owned(), version.to_owned(), false);
        self.record(name, spec);
    }

    /// Forgets the APIServices not in `names`.
    pub fn retain(&self, names: &[String]) {
        let mut specs = self.specs.write().unwrap_or_else(|e| e.into_inner());
        let before = specs.len();
        specs.retain(|name, _| names.contains(name));
        if specs.len() != before {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn available(&self) -> Vec<RemoteSpec> {
        let specs = self.specs.read().unwrap_or_else(|e| e.into_inner());
        specs.values().filter(|s| s.available).cloned().collect()
    }

    /// Merges the available extensions' v2 documents into `document` (this server's own).
    pub fn merge_v2(&self, document: &mut Value) {
        for spec in self.available() {
            let Some(fetched) = &spec.v2 else { continue };
            let group_prefix = format!("/apis/{}/", spec.group);
            let group_path = format!("/apis/{}", spec.group);
            if let (Some(paths), Some(theirs)) = (
                document.get_mut("paths").and_then(Value::as_object_mut),
                fetched.document.get("paths").and_then(Value::as_object),
            ) {
                for (path, item) in theirs {
                    let theirs_to_give = path.starts_with(&group_prefix) || *path == group_path;
                    if theirs_to_give && !paths.contains_key(path) {
                        paths.insert(path.clone(), item.clone());
                    }
                }
            }
            if let Some(theirs) = fetched.document.get("definitions").and_then(Value::as_object) {
                if document.get("definitions").is_none_or(|d| !d.is_object()) {
                    document["definitions"] = Value::Object(serde_json::Map::new());
                }
                if let Some(definitions) =
                    document.get_mut("definitions").and_then(Value::as_object_mut)
                {
                    for (name, definition) in theirs {
                        if !definitions.contains_key(name) {
                            definitions.insert(name.clone(), definition.clone());
                        }
                    }
                }
            }
        }
    }

    /// The available extensions' v3 documents, by index path (`apis/<group>/<version>`).
    pub fn v3_documents(&self) -> Vec<(String, Arc<Value>)> {
        self.available()
            .into_iter()
            .filter_map(|spec| {
                let fetched = spec.v3?;
                Some((format!("apis/{}/{}", spec.group, spec.version), fetched.document))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(available: bool, tag: &str) -> RemoteSpec {
        let v2 = json!({"paths": {
                "/apis/wardle.example.com/v1alpha1/flunders": {"get": {"operationId": "listFlunders"}},
                "/apis/wardle.example.com/": {"get": {"operationId": "getGroup"}},
                "/api/v1/pods": {"get": {"operationId": "hijack"}}},
            "definitions": {"com.example.wardle.v1alpha1.Flunder": {"type": "object"},
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "theirs"}}});
        RemoteSpec {
            group: "wardle.example.com".into(),
            version: "v1alpha1".into(),
            available,
            v2: Some(Fetched { tag: tag.into(), document: Arc::new(v2) }),
            v3: Some(Fetched { tag: tag.into(), document: Arc::new(json!({"openapi": "3.0.0"})) }),
        }
    }

    #[test]
    fn available_specs_merge_without_overriding_local_ones() {
        let remote = RemoteOpenApi::default();
        remote.record("v1alpha1.wardle.example.com", spec(true, "a"));
        let mut local = json!({"paths": {"/api/v1/pods": {"get": {"operationId": "listPods"}}},
            "definitions": {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object"}}});
        remote.merge_v2(&mut local);
        let paths = local["paths"].as_object().unwrap();
        assert_eq!(paths["/api/v1/pods"]["get"]["operationId"], "listPods");
        assert!(paths.contains_key("/apis/wardle.example.com/v1alpha1/flunders"));
        assert!(paths.contains_key("/apis/wardle.example.com/"));
        assert_eq!(
            local["definitions"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["type"],
            "object"
        );
        assert!(local["definitions"]["com.example.wardle.v1alpha1.Flunder"].is_object());
        assert_eq!(remote.v3_documents()[0].0, "apis/wardle.example.com/v1alpha1");
    }

    #[test]
    fn the_generation_moves_only_on_change_and_unavailable_specs_are_left_out() {
        let remote = RemoteOpenApi::default();
        let name = "v1alpha1.wardle.example.com";
        remote.record(name, spec(true, "a"));
        let first = remote.generation();
        remote.record(name, spec(true, "a"));
        assert_eq!(remote.generation(), first, "the same documents again");
        remote.unavailable(name, "wardle.example.com", "v1alpha1");
        assert!(remote.generation() > first);
        let mut local = json!({"paths": {}, "definitions": {}});
        remote.merge_v2(&mut local);
        assert_eq!(local, json!({"paths": {}, "definitions": {}}));
        assert!(remote.v3_documents().is_empty());
        assert!(remote.get(name).unwrap().v2.is_some(), "kept for when it returns");
        let before = remote.generation();
        remote.retain(&[]);
        assert!(remote.generation() > before);
        assert!(remote.get(name).is_none());
    }
}
