//! The real binary driven by real kubectl (v1.32 at /usr/bin/kubectl, and the versioned
//! binaries 1.27–1.33): the commands users run, asserted on their output.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::server::{KUBECTL, TestServer};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Rows of `kubectl get` output as whitespace-separated columns, header first.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn get_namespaces_lists_the_built_in_ones() {
    let server = TestServer::embedded().await;
    let table = rows(&server.ok(&["get", "ns"]));
    assert_eq!(table[0], ["NAME", "STATUS", "AGE"]);
    let names: Vec<&str> = table[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["default", "kube-node-lease", "kube-public", "kube-system"]);
    assert!(table[1..].iter().all(|r| r[1] == "Active"), "{table:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_through_api_resources_and_api_versions() {
    let server = TestServer::embedded().await;
    let versions = server.ok(&["api-versions"]);
    for gv in ["v1", "apps/v1", "coordination.k8s.io/v1", "events.k8s.io/v1"] {
        assert!(versions.lines().any(|l| l == gv), "{gv} missing from:\n{versions}");
    }
    let resources = rows(&server.ok(&["api-resources"]));
    let find = |name: &str, version: &str| {
        resources
            .iter()
            .find(|r| r[0] == name && r.iter().any(|c| c == version))
            .unwrap_or_else(|| panic!("{name} {version} missing: {resources:?}"))
            .clone()
    };
    assert_eq!(find("configmaps", "v1"), ["configmaps", "cm", "v1", "true", "ConfigMap"]);
    assert_eq!(find("namespaces", "v1"), ["namespaces", "ns", "v1", "false", "Namespace"]);
    assert_eq!(
        find("deployments", "apps/v1"),
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    assert_eq!(
        find("leases", "coordination.k8s.io/v1"),
        ["leases", "coordination.k8s.io/v1", "true", "Lease"]
    );
    assert_eq!(find("events", "events.k8s.io/v1")[0], "events");
    // Short names and categories work in commands.
    server.ok(&["get", "cm", "-n", "kube-system"]);
    server.ok(&["get", "all", "-n", "default"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_get_label_annotate_and_select() {
    let server = TestServer::embedded().await;
    assert!(server.ok(&["create", "ns", "demo"]).contains("namespace/demo created"));
    server.ok(&[
        "create",
        "configmap",
        "cfg",
        "--from-literal=a=1",
        "--from-literal=b=two",
        "-n",
        "demo",
    ]);
    let cm = json(&server.ok(&["get", "configmap", "cfg", "-n", "demo", "-o", "json"]));
    assert_eq!(cm["data"], serde_json::json!({"a": "1", "b": "two"}));
    assert_eq!(cm["metadata"]["namespace"], "demo");
    assert!(cm["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert!(cm["metadata"]["resourceVersion"].as_str().unwrap().parse::<i64>().unwrap() > 0);

    server.ok(&["label", "configmap", "cfg", "tier=web", "-n", "demo"]);
    server.ok(&["annotate", "configmap", "cfg", "owner=alice", "-n", "demo"]);
    server.ok(&["create", "configmap", "other", "-n", "demo"]);
    let selected = rows(&server.ok(&["get", "cm", "-n", "demo", "-l", "tier=web"]));
    assert_eq!(selected.len(), 2, "{selected:?}");
    assert_eq!(selected[1][0], "cfg");
    assert_eq!(selected[1][1], "2", "DATA column");
    let not_selected =
        rows(&server.ok(&["get", "cm", "-n", "demo", "-l", "tier!=web", "-o", "name"]));
    // Every namespace holds kube-root-ca.crt, as in kube.
    assert_eq!(not_selected, [["configmap/kube-root-ca.crt"], ["configmap/other"]]);
    let yaml = server.ok(&["get", "cm", "cfg", "-n", "demo", "-o", "yaml"]);
    assert!(yaml.contains("owner: alice") && yaml.contains("tier: web"), "{yaml}");

    // Creating again is AlreadyExists; in a missing namespace NotFound.
    let err = server.fails(&["create", "configmap", "cfg", "-n", "demo"]);
    assert!(err.contains("configmaps \"cfg\" already exists"), "{err}");
    let err = server.fails(&["create", "configmap", "x", "-n", "nowhere"]);
    assert!(err.contains("namespaces \"nowhere\" not found"), "{err}");
    let err = server.fails(&["create", "configmap", "Bad_Name", "-n", "demo"]);
    assert!(err.contains("is invalid") && err.contains("metadata.name"), "{err}");
}

const DEPLOYMENT_V1: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        env:
        - {name: MODE, value: blue}
        - {name: LEVEL, value: "1"}
      - name: sidecar
        image: busybox:1.36
"#;

#[tokio::test(flavor = "multi_thread")]
async fn apply_twice_with_a_change_and_scale() {
    let server = TestServer::embedded().await;
    assert!(
        server
            .ok_stdin(&["apply", "-f", "-"], DEPLOYMENT_V1)
            .contains("deployment.apps/web created")
    );
    let first = json(&server.ok(&["get", "deploy", "web", "-o", "json"]));
    assert_eq!(first["metadata"]["generation"], 1);
    assert_eq!(first["spec"]["strategy"]["type"], "RollingUpdate", "defaulted");

    // Change the image, drop the sidecar and one env var: client-side apply sends a strategic
    // merge patch computed from the last-applied annotation.
    let changed = DEPLOYMENT_V1
        .replace("nginx:1.25", "nginx:1.27")
        .replace("        - {name: LEVEL, value: \"1\"}\n", "")
        .replace("      - name: sidecar\n        image: busybox:1.36\n", "");
    assert!(
        server.ok_stdin(&["apply", "-f", "-"], &changed).contains("deployment.apps/web configured")
    );
    let second = json(&server.ok(&["get", "deploy", "web", "-o", "json"]));
    let containers = second["spec"]["template"]["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(containers[0]["image"], "nginx:1.27");
    assert_eq!(containers[0]["env"], serde_json::json!([{"name": "MODE", "value": "blue"}]));
    assert_eq!(second["metadata"]["generation"], 2, "spec change bumps generation");
    // Applying the same manifest again changes nothing.
    assert!(server.ok_stdin(&["apply", "-f", "-"], &changed).contains("unchanged"));

    assert!(server.ok(&["scale", "deployment", "web", "--replicas=5"]).contains("scaled"));
    let scaled = json(&server.ok(&["get", "deploy", "web", "-o", "json"]));
    assert_eq!(scaled["spec"]["replicas"], 5);
    assert_eq!(scaled["metadata"]["generation"], 3);
    let table = rows(&server.ok(&["get", "deploy", "-o", "wide"]));
    assert_eq!(&table[0][..5], ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert!(table[0].contains(&"IMAGES".to_owned()), "{table:?}");
    assert_eq!(table[1][0], "web");
}

#[tokio::test(flavor = "multi_thread")]
async fn get_watch_sees_another_process_writing() {
    let server = TestServer::embedded().await;
    let mut watch = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .args(["get", "configmaps", "-n", "default", "--watch", "--output-watch-events"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.ok(&["create", "configmap", "watched", "--from-literal=k=v"]);
    server.ok(&["label", "configmap", "watched", "x=y"]);
    server.ok(&["delete", "configmap", "watched"]);
    // A server-side Table per event: the header once, then EVENT, NAME and DATA per row; the
    // namespace's kube-root-ca.crt is there from the start.
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("watch output stalled");
        seen.push(line.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(
        seen,
        [
            "EVENT NAME DATA",
            "ADDED kube-root-ca.crt 1",
            "ADDED watched 1",
            "MODIFIED watched 1",
            "DELETED watched 1"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_objects_and_namespaces() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "ns", "doomed"]);
    server.ok(&["create", "configmap", "a", "-n", "doomed"]);
    server.ok(&["create", "secret", "generic", "s", "--from-literal=p=q", "-n", "doomed"]);
    assert!(
        server
            .ok(&["delete", "configmap", "a", "-n", "doomed"])
            .contains("configmap \"a\" deleted")
    );
    let err = server.fails(&["get", "configmap", "a", "-n", "doomed"]);
    assert!(err.contains("NotFound") || err.contains("not found"), "{err}");
    // Pods and service accounts answer DELETE with the deleted object, as kube-apiserver.
    server.ok(&["run", "p", "--image=nginx", "-n", "doomed"]);
    assert!(server.ok(&["delete", "pod", "p", "-n", "doomed"]).contains("pod \"p\" deleted"));
    server.ok(&["create", "serviceaccount", "robot", "-n", "doomed"]);
    let deleted = server.ok(&["delete", "serviceaccount", "robot", "-n", "doomed"]);
    assert!(deleted.contains("serviceaccount \"robot\" deleted"), "{deleted}");

    assert!(server.ok(&["delete", "ns", "doomed"]).contains("namespace \"doomed\" deleted"));
    // kubectl delete waits for the namespace to go; its contents went first.
    let err = server.fails(&["get", "ns", "doomed"]);
    assert!(err.contains("not found"), "{err}");
    let secrets = server.ok(&["get", "secrets", "-A", "-o", "name"]);
    assert!(!secrets.contains("secret/s"), "{secrets}");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_one_object_in_two_api_versions() {
    let server = TestServer::embedded().await;
    let event = r#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1","namespace":"default"},
        "involvedObject":{"kind":"ConfigMap","name":"cfg","namespace":"default"},
        "reason":"Tested","message":"it works","type":"Normal","source":{"component":"test"}}"#;
    server.ok_stdin(&["create", "-f", "-"], event);
    let table = server.ok(&["get", "events"]);
    assert!(
        table.contains("Tested") && table.contains("it works") && table.contains("configmap/cfg"),
        "{table}"
    );
    let as_new = json(&server.ok(&["get", "events.v1.events.k8s.io", "e1", "-o", "json"]));
    assert_eq!(as_new["apiVersion"], "events.k8s.io/v1");
    assert_eq!(as_new["note"], "it works");
    assert_eq!(as_new["regarding"]["name"], "cfg");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_supported_kubectl_version_reads_the_server() {
    let server = TestServer::embedded().await;
    for minor in 27..=33 {
        let binary = format!("/usr/lib/google-cloud-sdk/bin/kubectl.1.{minor}");
        let out = server.kubectl_with(&binary, &["get", "ns", "-o", "name"], None);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "kubectl 1.{minor}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("namespace/kube-system"), "kubectl 1.{minor}: {stdout}");
        let out = server.kubectl_with(
            &binary,
            &["api-resources", "--api-group=apps", "-o", "name"],
            None,
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("deployments.apps"),
            "kubectl 1.{minor}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_commands_on_etcd_and_across_a_restart() {
    let mut server = TestServer::on_etcd().await;
    server.ok(&["create", "ns", "team"]);
    server.ok(&["create", "configmap", "cfg", "--from-literal=a=1", "-n", "team"]);
    server.ok_stdin(&["apply", "-f", "-"], DEPLOYMENT_V1);
    server.restart().await;
    let cm = json(&server.ok(&["get", "cm", "cfg", "-n", "team", "-o", "json"]));
    assert_eq!(cm["data"]["a"], "1");
    assert!(server.ok(&["get", "deploy"]).contains("web"));
    server.ok(&["delete", "ns", "team"]);
    assert!(server.fails(&["get", "cm", "cfg", "-n", "team"]).contains("not found"));
}

/// kubectl's typed clients ask for protobuf (`application/vnd.kubernetes.protobuf, */*`) and
/// decode the server's protobuf answers: the created Deployment, the Scale of `kubectl scale`,
/// and a protobuf Status for an error. `-v=8` prints each response's Content-Type.
#[tokio::test(flavor = "multi_thread")]
async fn typed_commands_read_protobuf_answers() {
    let server = TestServer::embedded().await;
    let out = server.kubectl(&["create", "deployment", "pb", "--image=nginx:1.27", "-v=8"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("deployment.apps/pb created"));
    assert!(
        log.contains("Content-Type: application/vnd.kubernetes.protobuf"),
        "the create's answer is protobuf: {log}"
    );
    server.ok(&["scale", "deployment", "pb", "--replicas=4"]);
    let deploy = json(&server.ok(&["get", "deploy", "pb", "-o", "json"]));
    assert_eq!(deploy["spec"]["replicas"], 4);
    // An error in protobuf: kubectl prints the Status' message.
    let out = server.kubectl(&["create", "deployment", "pb", "--image=nginx", "-v=8"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(log.contains("deployments.apps \"pb\" already exists"), "{log}");
}

/// kubectl ≥ 1.32's typed `create` commands send Kubernetes protobuf bodies.
#[tokio::test(flavor = "multi_thread")]
async fn typed_create_commands_send_protobuf_and_work() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "deployment", "api", "--image=nginx:1.27", "--replicas=3"]);
    server.ok(&["create", "service", "clusterip", "api", "--tcp=80:8080"]);
    server.ok(&["create", "serviceaccount", "robot"]);
    server.ok(&["create", "secret", "generic", "creds", "--from-literal=user=admin"]);
    let deploy = json(&server.ok(&["get", "deploy", "api", "-o", "json"]));
    assert_eq!(deploy["spec"]["replicas"], 3);
    assert_eq!(deploy["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
    let svc = json(&server.ok(&["get", "svc", "api", "-o", "json"]));
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert!(svc["spec"]["clusterIP"].as_str().unwrap().starts_with("10."), "{svc}");
    let secret = json(&server.ok(&["get", "secret", "creds", "-o", "json"]));
    assert_eq!(secret["data"]["user"], "YWRtaW4=", "base64 of admin");
    assert_eq!(secret["type"], "Opaque");
    let table = rows(&server.ok(&["get", "svc", "api"]));
    assert_eq!(table[0], ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    assert_eq!(table[1][4], "80/TCP");
    assert!(server.ok(&["get", "sa", "robot", "-o", "name"]).contains("serviceaccount/robot"));
}

const WORKLOADS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: "nginx:1.25"}
      - {name: side, image: "busybox:1.36"}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: pg, image: "postgres:16"}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  selector: {matchLabels: {app: logs}}
  template:
    metadata: {labels: {app: logs}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      containers:
      - {name: agent, image: "fluent-bit:3"}
---
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: pi, image: "perl:5.34"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: backup, image: "restic:0.16"}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports:
  - {port: 80}
"#;

/// `kubectl get -o wide` of the workload kinds and Services prints kube's columns, wide ones
/// included, and the cells kube's printers compute (AGE, which moves, left out).
#[tokio::test(flavor = "multi_thread")]
async fn wide_tables_show_kubes_columns() {
    let server = TestServer::embedded().await;
    let out = server.ok_stdin(&["create", "-f", "-"], WORKLOADS);
    assert!(out.contains("cronjob.batch/nightly created"), "{out}");
    let wide = |kind: &str| {
        let table = rows(&server.ok(&["get", kind, "-o", "wide"]));
        assert_eq!(table.len(), 2, "{kind}: {table:?}");
        table
    };
    // Every row but AGE (at `age` in the row): the header, then the cells.
    let without_age = |row: &[String], age: usize| {
        let mut cells = row.to_vec();
        cells.remove(age);
        cells
    };

    let t = wide("deployments");
    assert_eq!(
        t[0],
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    );
    assert_eq!(
        without_age(&t[1], 4),
        ["web", "0/2", "0", "0", "app,side", "nginx:1.25,busybox:1.36", "app=web"]
    );

    let t = wide("statefulsets");
    assert_eq!(t[0], ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]);
    assert_eq!(without_age(&t[1], 2), ["db", "0/1", "pg", "postgres:16"]);

    let t = wide("daemonsets");
    assert_eq!(
        t[0],
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE",
            "SELECTOR",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(
        without_age(&t[1], 7),
        [
            "logs",
            "0",
            "0",
            "0",
            "0",
            "0",
            "kubernetes.io/os=linux",
            "agent",
            "fluent-bit:3",
            "app=logs"
        ]
    );

    let t = wide("jobs");
    assert_eq!(
        t[0],
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    );
    // No pod ran, so DURATION is empty: read the row from both ends.
    assert_eq!(t[1][..3], ["pi", "Running", "0/1"]);
    let tail = &t[1][t[1].len() - 3..];
    assert_eq!(tail[..2], ["pi", "perl:5.34"]);
    assert!(tail[2].starts_with("batch.kubernetes.io/controller-uid="), "{tail:?}");

    let t = wide("cronjobs");
    assert_eq!(
        t[0],
        [
            "NAME",
            "SCHEDULE",
            "TIMEZONE",
            "SUSPEND",
            "ACTIVE",
            "LAST",
            "SCHEDULE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(
        without_age(&t[1], 6),
        ["nightly", "@daily", "<none>", "False", "0", "<none>", "backup", "restic:0.16", "<none>"]
    );

    let table = rows(&server.ok(&["get", "services", "api", "-o", "wide"]));
    assert_eq!(
        table[0],
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    );
    let service = json(&server.ok(&["get", "service", "api", "-o", "json"]));
    let cluster_ip = service["spec"]["clusterIP"].as_str().unwrap();
    assert_eq!(
        without_age(&table[1], 5),
        ["api", "ClusterIP", cluster_ip, "<none>", "80/TCP", "app=api"]
    );
}
