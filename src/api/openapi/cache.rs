//! The built documents, kept until the registry's generation moves (a CRD or a resource came or
//! went) or the remote APIServices' OpenAPI does (`crate::aggregator::openapi`: an extension's
//! document changed, or it became available or unavailable): each is built on the first request
//! after a change, never per request. A request
//! whose `If-None-Match` holds the current ETag costs an atomic load, a read lock and a
//! string comparison.
//!
//! v2 keeps its JSON and protobuf bodies, each also gzipped, and one ETag (kube-openapi shares
//! the JSON's ETag with the protobuf form, told apart by `Vary: Accept`). v3 keeps the index
//! and every group/version document with its hash.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Map, Value, json};

use super::{documents, gnostic};
use crate::aggregator::openapi::RemoteOpenApi;
use crate::registry::Registry;

/// What the documents were built from: the registry's generation and the remote specs'.
type Generation = (u64, u64);

fn generation(registry: &Registry, remote: &RemoteOpenApi) -> Generation {
    (registry.generation(), remote.generation())
}

/// A body as sent, plain and gzipped.
#[derive(Debug)]
pub struct Body {
    pub plain: Bytes,
    pub gzip: Bytes,
}

impl Body {
    fn new(plain: Vec<u8>) -> Self {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(&plain);
        let gzip = encoder.finish().unwrap_or_default();
        Body { plain: Bytes::from(plain), gzip: Bytes::from(gzip) }
    }
}

/// `/openapi/v2` in both encodings.
#[derive(Debug)]
pub struct V2 {
    generation: Generation,
    /// Upper-case hex SHA-512 of the JSON body, unquoted.
    pub etag: String,
    pub built: SystemTime,
    pub json: Body,
    pub protobuf: Body,
}

/// One `/openapi/v3/{path}` document.
#[derive(Debug)]
pub struct V3Document {
    /// Upper-case hex SHA-512 of the body: the ETag and the index's `?hash=`.
    pub hash: String,
    pub body: Body,
}

/// `/openapi/v3` and its documents.
#[derive(Debug)]
pub struct V3 {
    generation: Generation,
    pub built: SystemTime,
    pub index: V3Document,
    pub documents: BTreeMap<String, V3Document>,
}

/// The documents of one server.
#[derive(Debug, Default)]
pub struct Cache {
    v2: RwLock<Option<Arc<V2>>>,
    v3: RwLock<Option<Arc<V3>>>,
    /// One build at a time: requests arriving during a build wait for it rather than build too.
    building: Mutex<()>,
}

impl Cache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The current `/openapi/v2`: this server's, with the available extensions' merged.
    pub fn v2(&self, registry: &Registry, remote: &RemoteOpenApi) -> Arc<V2> {
        let current = |slot: &RwLock<Option<Arc<V2>>>| {
            let generation = generation(registry, remote);
            let held = slot.read().unwrap_or_else(|e| e.into_inner());
            held.as_ref().filter(|v| v.generation == generation).cloned()
        };
        if let Some(v2) = current(&self.v2) {
            return v2;
        }
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v2) = current(&self.v2) {
            return v2;
        }
        // The generation read before the build: a change during it makes the next request
        // build again.
        let generation = generation(registry, remote);
        let mut document = documents::v2(registry);
        remote.merge_v2(&mut document);
        let json = serde_json::to_vec(&document).unwrap_or_default();
        let v2 = Arc::new(V2 {
            generation,
            etag: sha512_hex(&json),
            built: SystemTime::now(),
            protobuf: Body::new(gnostic::encode(&document)),
            json: Body::new(json),
        });
        *self.v2.write().unwrap_or_else(|e| e.into_inner()) = Some(v2.clone());
        v2
    }

    /// The current `/openapi/v3` index and documents: this server's group/versions, then the
    /// available extensions' (as fetched) for the group/versions it does not serve.
    pub fn v3(&self, registry: &Registry, remote: &RemoteOpenApi) -> Arc<V3> {
        let current = |slot: &RwLock<Option<Arc<V3>>>| {
            let generation = generation(registry, remote);
            let held = slot.read().unwrap_or_else(|e| e.into_inner());
            held.as_ref().filter(|v| v.generation == generation).cloned()
        };
        if let Some(v3) = current(&self.v3) {
            return v3;
        }
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v3) = current(&self.v3) {
            return v3;
        }
        let generation = generation(registry, remote);
        let mut bodies: BTreeMap<String, Vec<u8>> = documents::group_versions(registry)
            .into_iter()
            .map(|(path, resources)| {
                (path, serde_json::to_vec(&documents::v3(&resources)).unwrap_or_default())
            })
            .collect();
        for (path, document) in remote.v3_documents() {
            // A group/version this server serves itself keeps its own document.
            bodies
                .entry(path)
                .or_insert_with(|| serde_json::to_vec(&*document).unwrap_or_default());
        }
        let mut documents = BTreeMap::new();
        let mut paths = Map::new();
        for (path, body) in bodies {
            let hash = sha512_hex(&body);
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
            documents.insert(path, V3Document { hash, body: Body::new(body) });
        }
        let index = serde_json::to_vec(&json!({"paths": Value::Object(paths)})).unwrap_or_default();
        let index = V3Document { hash: sha512_hex(&index), body: Body::new(index) };
        let v3 = Arc::new(V3 { generation, built: SystemTime::now(), index, documents });
        *self.v3.write().unwrap_or_else(|e| e.into_inner()) = Some(v3.clone());
        v3
    }
}

/// kube-openapi's ETag: the SHA-512 of the body in upper-case hex.
pub fn sha512_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, data);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_once_per_generation() {
        let registry = Registry::new();
        crate::registry::builtin::register_all(&registry);
        let remote = RemoteOpenApi::default();
        let cache = Cache::new();
        let first = cache.v2(&registry, &remote);
        assert!(Arc::ptr_eq(&first, &cache.v2(&registry, &remote)), "not rebuilt without a change");
        assert_eq!(first.etag.len(), 128);
        assert!(first.etag.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let lease = registry.get("coordination.k8s.io", "v1", "leases").unwrap();
        registry.unregister(&lease.gv, "leases");
        let second = cache.v2(&registry, &remote);
        assert!(!Arc::ptr_eq(&first, &second));
        assert_ne!(first.etag, second.etag, "a resource gone changes the document");
        let v3 = cache.v3(&registry, &remote);
        assert!(!v3.documents.contains_key("apis/coordination.k8s.io/v1"));
        assert!(Arc::ptr_eq(&v3, &cache.v3(&registry, &remote)));
    }

    #[test]
    fn remote_documents_are_merged_and_rebuild_the_cache() {
        use crate::aggregator::openapi::{Fetched, RemoteSpec};
        let registry = Registry::new();
        crate::registry::builtin::register_all(&registry);
        let remote = RemoteOpenApi::default();
        let cache = Cache::new();
        let before = cache.v3(&registry, &remote);
        let flunders = "/apis/wardle.example.com/v1alpha1/namespaces/{namespace}/flunders";
        let v2 = json!({"paths": {flunders: {"get": {"operationId": "listFlunders"}}},
            "definitions": {"com.example.wardle.v1alpha1.Flunder": {"type": "object"}}});
        let v3 = json!({"openapi": "3.0.0", "paths": {flunders: {}}});
        remote.record(
            "v1alpha1.wardle.example.com",
            RemoteSpec {
                group: "wardle.example.com".into(),
                version: "v1alpha1".into(),
                available: true,
                v2: Some(Fetched { tag: "\"E1\"".into(), document: Arc::new(v2) }),
                v3: Some(Fetched { tag: "/openapi/v3/x?hash=1".into(), document: Arc::new(v3) }),
            },
        );
        let after = cache.v3(&registry, &remote);
        assert!(!Arc::ptr_eq(&before, &after), "rebuilt when a remote document arrived");
        let document = &after.documents["apis/wardle.example.com/v1alpha1"];
        let served: Value = serde_json::from_slice(&document.body.plain).unwrap();
        assert_eq!(served["openapi"], "3.0.0");
        let index: Value = serde_json::from_slice(&after.index.body.plain).unwrap();
        assert_eq!(
            index["paths"]["apis/wardle.example.com/v1alpha1"]["serverRelativeURL"],
            format!("/openapi/v3/apis/wardle.example.com/v1alpha1?hash={}", document.hash)
        );
        assert!(after.documents.contains_key("api/v1"), "local documents stay");
        let v2: Value = serde_json::from_slice(&cache.v2(&registry, &remote).json.plain).unwrap();
        assert!(v2["paths"][flunders].is_object());
        assert!(v2["paths"]["/api/v1/namespaces/{namespace}/pods"].is_object());
        assert!(v2["definitions"]["com.example.wardle.v1alpha1.Flunder"].is_object());
    }
}
