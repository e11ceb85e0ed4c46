//! The real binary and real kubectl with the class kinds and the admission plugins that use
//! them: `kubectl get priorityclasses` shows kube's two system classes; a pod naming a class gets
//! its priority; a PersistentVolumeClaim and an Ingress naming no class get the default ones;
//! invalid objects are refused with kube's field paths; the short names work.

mod support;

use serde_json::Value;
use support::server::TestServer;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

const MANIFEST: &str = r#"
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 100000
description: for the important pods
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: example.com/disk
allowVolumeExpansion: true
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: v1
kind: Pod
metadata:
  name: important
spec:
  priorityClassName: high
  containers:
  - name: app
    image: nginx
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - host: www.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
  tls:
  - hosts: [www.example.com]
    secretName: web-tls
"#;

#[tokio::test(flavor = "multi_thread")]
async fn classes_and_their_defaults_with_kubectl() {
    let server = TestServer::embedded().await;

    // Names, short names, scope and kind as kube-apiserver 1.33 serves them.
    let resources = rows(&server.ok(&["api-resources"]));
    let find = |name: &str| {
        resources
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} missing: {resources:?}"))
            .clone()
    };
    assert_eq!(
        find("priorityclasses"),
        ["priorityclasses", "pc", "scheduling.k8s.io/v1", "false", "PriorityClass"]
    );
    assert_eq!(
        find("storageclasses"),
        ["storageclasses", "sc", "storage.k8s.io/v1", "false", "StorageClass"]
    );
    assert_eq!(
        find("persistentvolumeclaims"),
        ["persistentvolumeclaims", "pvc", "v1", "true", "PersistentVolumeClaim"]
    );
    assert_eq!(find("ingresses"), ["ingresses", "ing", "networking.k8s.io/v1", "true", "Ingress"]);
    assert_eq!(
        find("ingressclasses"),
        ["ingressclasses", "networking.k8s.io/v1", "false", "IngressClass"]
    );

    let table = rows(&server.ok(&["get", "priorityclasses"]));
    assert_eq!(table[0], ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]);
    let system: Vec<(&str, &str, &str)> =
        table[1..].iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(
        system,
        [
            ("system-cluster-critical", "2000000000", "false"),
            ("system-node-critical", "2000001000", "false")
        ]
    );
    let refused = server.fails(&["delete", "pc", "system-cluster-critical"]);
    assert!(refused.contains("this is a system priority class and cannot be deleted"), "{refused}");

    server.ok_stdin(&["apply", "-f", "-"], MANIFEST);

    let pod = json(&server.ok(&["get", "pod", "important", "-o", "json"]));
    assert_eq!(pod["spec"]["priority"], 100000);
    assert_eq!(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");

    let claim = json(&server.ok(&["get", "pvc", "data", "-o", "json"]));
    assert_eq!(claim["spec"]["storageClassName"], "standard");
    let table = rows(&server.ok(&["get", "pvc"]));
    assert_eq!(
        table[0],
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS",
            "MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE"
        ]
    );
    assert_eq!(table[1][..4], ["data", "Pending", "standard", "<unset>"]);

    let table = rows(&server.ok(&["get", "sc"]));
    assert_eq!(
        table[0],
        [
            "NAME",
            "PROVISIONER",
            "RECLAIMPOLICY",
            "VOLUMEBINDINGMODE",
            "ALLOWVOLUMEEXPANSION",
            "AGE"
        ]
    );
    assert_eq!(
        table[1][..6],
        ["standard", "(default)", "example.com/disk", "Delete", "Immediate", "true"]
    );

    let ingress = json(&server.ok(&["get", "ing", "web", "-o", "json"]));
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    let table = rows(&server.ok(&["get", "ingress"]));
    assert_eq!(table[0], ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    assert_eq!(table[1][..4], ["web", "nginx", "www.example.com", "80,"]);
    let table = rows(&server.ok(&["get", "ingressclasses"]));
    assert_eq!(table[0], ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]);
    assert_eq!(table[1][..3], ["nginx", "k8s.io/ingress-nginx", "<none>"]);

    // Invalid variants: 422 with kube's field paths.
    let bad_path = r#"{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "bad"}, "spec": {"rules": [{"http": {"paths": [{"path": "/",
        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}"#;
    let out = server.kubectl_with(support::server::KUBECTL, &["create", "-f", "-"], Some(bad_path));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"
        ),
        "{stderr}"
    );
    let bad_claim = r#"{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "bad"}, "spec": {"accessModes": ["ReadWriteOnce"]}}"#;
    let out =
        server.kubectl_with(support::server::KUBECTL, &["create", "-f", "-"], Some(bad_claim));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("spec.resources[storage]: Required value"), "{stderr}");
    let out = server.kubectl(&["patch", "pc", "high", "--type=merge", "-p", r#"{"value": 5}"#]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("value: Forbidden: may not be changed in an update."), "{stderr}");
}
