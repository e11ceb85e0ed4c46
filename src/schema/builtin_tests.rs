//! The generated table against what kube-ledger serves, what the crates compile to, and what
//! the hand tables it replaces said.

use super::*;
use crate::registry::Registry;

/// The kinds issue 13 adds (§4), beyond those served today.
const ISSUE_KINDS: &[(&str, &str, &str)] = &[
    ("", "v1", "Node"),
    ("", "v1", "Endpoints"),
    ("", "v1", "PersistentVolume"),
    ("", "v1", "PersistentVolumeClaim"),
    ("", "v1", "PodTemplate"),
    ("", "v1", "ReplicationController"),
    ("", "v1", "ResourceQuota"),
    ("", "v1", "LimitRange"),
    ("", "v1", "Binding"),
    ("", "v1", "ComponentStatus"),
    ("apps", "v1", "ReplicaSet"),
    ("apps", "v1", "StatefulSet"),
    ("apps", "v1", "DaemonSet"),
    ("apps", "v1", "ControllerRevision"),
    ("autoscaling", "v1", "Scale"),
    ("batch", "v1", "Job"),
    ("batch", "v1", "CronJob"),
    ("networking.k8s.io", "v1", "Ingress"),
    ("networking.k8s.io", "v1", "IngressClass"),
    ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("discovery.k8s.io", "v1", "EndpointSlice"),
    ("policy", "v1", "PodDisruptionBudget"),
    ("policy", "v1", "Eviction"),
    ("scheduling.k8s.io", "v1", "PriorityClass"),
    ("storage.k8s.io", "v1", "StorageClass"),
    ("storage.k8s.io", "v1", "CSIDriver"),
    ("storage.k8s.io", "v1", "CSINode"),
    ("storage.k8s.io", "v1", "VolumeAttachment"),
    ("storage.k8s.io", "v1", "CSIStorageCapacity"),
    ("node.k8s.io", "v1", "RuntimeClass"),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration"),
    ("apiregistration.k8s.io", "v1", "APIService"),
    ("", "v1", "DeleteOptions"),
    ("meta.k8s.io", "v1", "DeleteOptions"),
    ("apps", "v1", "WatchEvent"),
];

/// Every resource kube-ledger serves today: the built-ins and `customresourcedefinitions`.
fn served() -> Vec<std::sync::Arc<crate::registry::resource::Resource>> {
    let registry = Registry::new();
    crate::registry::builtin::register_all(&registry);
    crate::apiextensions::register(&registry);
    // kube-ledger's own resources (ledger.kube-ledger.io) are no Kubernetes types.
    let mut all: Vec<_> =
        registry.all().into_iter().filter(|r| r.strategy.own_endpoint().is_none()).collect();
    all.sort_by(|a, b| {
        (&a.gv.group, &a.gv.version, &a.kind).cmp(&(&b.gv.group, &b.gv.version, &b.kind))
    });
    all
}

#[test]
fn every_served_kind_and_every_kind_of_the_issue_resolves_by_gvk() {
    let schemas = builtin();
    let mut missing = Vec::new();
    for resource in served() {
        let (group, version, kind) = (&resource.gv.group, &resource.gv.version, &resource.kind);
        match schemas.by_gvk(group, version, kind) {
            Some(id) => assert!(schemas.get(id).gvks.iter().any(|g| g.kind == kind)),
            None => missing.push(format!("{group}/{version} {kind}")),
        }
    }
    // The create-only reviews, by their plural (their kinds are k8s-openapi's).
    let reviews = crate::registry::reviews::known();
    assert!(!reviews.is_empty());
    for (gv, plural) in reviews {
        let found = builtin::resources()
            .iter()
            .find(|r| r.gvk.group == gv.group && r.gvk.version == gv.version && r.plural == plural);
        match found {
            Some(r) if schemas.by_gvk(r.gvk.group, r.gvk.version, r.gvk.kind).is_some() => {}
            _ => missing.push(format!("{gv} {plural}")),
        }
    }
    for (group, version, kind) in ISSUE_KINDS {
        if schemas.by_gvk(group, version, kind).is_none() {
            missing.push(format!("{group}/{version} {kind}"));
        }
    }
    assert!(missing.is_empty(), "kinds without a definition: {missing:?}");
}

#[test]
fn the_table_is_sorted_and_complete() {
    let schemas = builtin();
    let names: Vec<&str> = schemas.iter().map(|(_, d)| d.name).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "definitions sorted by name, no duplicates");
    // Every definition of Kubernetes 1.33 (k8s-openapi's 626) and the Go-inlined structs.
    assert!(names.len() > 626, "{}", names.len());
    let inlined: Vec<&str> =
        schemas.iter().filter(|(_, d)| !d.in_openapi).map(|(_, d)| d.name).collect();
    assert!(inlined.contains(&"io.k8s.api.core.v1.VolumeSource"), "{inlined:?}");
    assert_eq!(names.len() - inlined.len(), 626);
    for (id, definition) in schemas.iter() {
        for gvk in definition.gvks {
            assert_eq!(schemas.by_gvk(gvk.group, gvk.version, gvk.kind), Some(id), "{gvk:?}");
        }
        for field in definition.fields() {
            if let Some(inner) = element(&field.ty) {
                assert!(usize::from(inner.0) < names.len());
            }
        }
    }
    let pod = schemas.by_gvk("", "v1", "Pod").unwrap();
    let image = schemas.field_at(pod, &["spec", "containers", "image"]).unwrap();
    assert_eq!(image.number, Some(2));
    // A field of a Go-inlined struct: `Volume.configMap` is `VolumeSource`'s.
    let config_map = schemas.field_at(pod, &["spec", "volumes", "configMap", "name"]).unwrap();
    assert_eq!(config_map.number, Some(1));
}

#[test]
fn config_map_is_in_kube_json_order() {
    let schemas = builtin();
    let cm = schemas.get(schemas.by_gvk("", "v1", "ConfigMap").unwrap());
    let order: Vec<(&str, Option<u32>)> = cm.fields().iter().map(|f| (f.json, f.number)).collect();
    assert_eq!(
        order,
        [
            ("kind", None),
            ("apiVersion", None),
            ("metadata", Some(1)),
            ("immutable", Some(4)),
            ("data", Some(2)),
            ("binaryData", Some(3)),
        ]
    );
    assert_eq!(cm.proto, Some("k8s.io.api.core.v1.ConfigMap"));
    assert!(cm.description.starts_with("ConfigMap holds configuration data"));
    assert!(!cm.fields()[2].required, "k8s-openapi's `metadata` in required is dropped");
    let binary = &cm.fields()[5];
    assert!(matches!(binary.ty, Ty::Map(Ty::Scalar(Scalar::Bytes))));
}

#[test]
fn markers_wire_types_and_wrapped_lists() {
    let schemas = builtin();
    let pod = schemas.by_gvk("", "v1", "Pod").unwrap();
    let ports = schemas.field_at(pod, &["spec", "containers", "ports"]).unwrap();
    assert_eq!(ports.list, Some(ListType::Map(&["containerPort", "protocol"])));
    assert_eq!(ports.patch.unwrap().merge_key, Some("containerPort"));
    let volumes = schemas.field_at(pod, &["spec", "volumes"]).unwrap();
    let patch = volumes.patch.unwrap();
    assert!(patch.merge && patch.retain_keys);
    // The patch strategy and the list type are kept apart.
    let host_ips = schemas.field_at(pod, &["status", "hostIPs"]).unwrap();
    assert_eq!(host_ips.list, Some(ListType::Atomic));
    assert_eq!(host_ips.patch.unwrap().merge_key, Some("ip"));
    let created = schemas.field_at(pod, &["metadata", "creationTimestamp"]).unwrap();
    let Ty::Ref(time) = created.ty else { panic!("{created:?}") };
    assert!(matches!(schemas.get(time).shape, Shape::Wire(Wire::Time)));
    let selector = schemas.by_name("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector").unwrap();
    assert!(schemas.get(selector).struct_atomic);
    let resource = schemas.by_name("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource").unwrap();
    let verbs = schemas.field(resource, "verbs").unwrap();
    assert!(verbs.wrapped && matches!(verbs.ty, Ty::Array(Ty::Scalar(Scalar::String))));
    let review = schemas.by_name("io.k8s.api.authentication.v1.UserInfo").unwrap();
    assert!(schemas.field(review, "extra").unwrap().wrapped);
    assert!(!schemas.field(review, "groups").unwrap().wrapped);
}

#[test]
fn zero_rule_is_derived_with_the_named_exceptions() {
    let schemas = builtin();
    let at = |kind: (&str, &str), path: &[&str]| {
        let id = schemas.by_gvk(kind.0, "v1", kind.1).unwrap();
        schemas.field_at(id, path).unwrap().zero
    };
    // Optional strings drop "", optional ints and bools keep 0 and false, required fields keep.
    assert_eq!(at(("", "Pod"), &["spec", "nodeName"]), ZeroRule::Omit);
    assert_eq!(at(("apps", "Deployment"), &["spec", "replicas"]), ZeroRule::Keep);
    assert_eq!(at(("", "Pod"), &["spec", "containers", "name"]), ZeroRule::Keep);
    // `*string` fields whose "" kube-ledger acts on.
    assert_eq!(at(("", "PersistentVolumeClaim"), &["spec", "storageClassName"]), ZeroRule::Keep);
    assert_eq!(at(("networking.k8s.io", "Ingress"), &["spec", "ingressClassName"]), ZeroRule::Keep);
    assert_eq!(at(("", "PersistentVolume"), &["spec", "storageClassName"]), ZeroRule::Omit);
}

// The cross-check of the merge keys against `patch::strategic`'s hand table went with the table
// (writepath): strategic merge patch now reads `Field.patch` itself, and the two places Go
// declares no merge key where the table had one (CRD and CSR `status.conditions`) are asserted
// in `patch::strategic`'s tests.

#[test]
fn plural_and_scope_match_k8s_openapi() {
    // The scanned `impl Resource`s are the compiled crate's.
    let compiled = builtin::compiled_resources();
    assert_eq!(compiled.len(), builtin::resources().len());
    for (group, version, kind, plural, scope) in compiled {
        let names = builtin_resource(group, version, kind).unwrap_or_else(|| panic!("{kind}"));
        assert_eq!(names.plural, plural, "{group}/{version} {kind}");
        let expected = match names.scope {
            ResourceScope::Namespaced => "NamespaceResourceScope",
            ResourceScope::Cluster => "ClusterResourceScope",
            ResourceScope::Subresource => "SubResourceScope",
        };
        assert_eq!(scope.rsplit("::").next(), Some(expected), "{group}/{version} {kind}");
    }
    // And kube-ledger serves each built-in under k8s-openapi's plural and scope.
    let mut wrong = Vec::new();
    for resource in served() {
        let (group, version, kind) = (&resource.gv.group, &resource.gv.version, &resource.kind);
        match builtin_resource(group, version, kind) {
            Some(names)
                if names.plural == resource.plural
                    && (names.scope == ResourceScope::Namespaced) == resource.namespaced => {}
            other => wrong.push(format!(
                "{group}/{version} {kind} {} {}: {other:?}",
                resource.plural, resource.namespaced
            )),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
