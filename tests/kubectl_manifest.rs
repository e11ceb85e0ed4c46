//! The real binary and real kubectl with a whole application's manifest — Namespace,
//! ServiceAccount, ConfigMap, Secret, Deployment, StatefulSet with volume claim templates,
//! Service, Ingress, HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy, CronJob and
//! PriorityClass in one multi-document file: `kubectl apply -f` creates everything, a second
//! apply with changes lands them, `kubectl delete -f` removes it all; an invalid variant of
//! each kind is refused as Invalid (422) naming kube's field path; `kubectl get` prints the
//! workload kinds with kube's columns and `kubectl api-resources` shows their short names.

mod support;

use serde_json::Value;
use support::server::{KUBECTL, TestServer};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

/// The application; `{replicas}`, `{schedule}`, `{min}`, `{greeting}` and `{port}` are what the
/// second apply changes.
const APP: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop
  namespace: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  greeting: "{greeting}"
---
apiVersion: v1
kind: Secret
metadata:
  name: db-password
  namespace: shop
type: Opaque
stringData:
  password: s3cret
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: shop
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
        envFrom:
        - configMapRef: {name: settings}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  serviceName: db
  replicas: {replicas}
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: postgres
        image: postgres:16
        env:
        - name: POSTGRES_PASSWORD
          valueFrom:
            secretKeyRef: {name: db-password, key: password}
        volumeMounts:
        - name: data
          mountPath: /var/lib/postgresql/data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port: {number: 80}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 70}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  minAvailable: {min}
  selector:
    matchLabels: {app: web}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: db}
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: web}
    ports:
    - port: {port}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
  namespace: shop
spec:
  schedule: "{schedule}"
  timeZone: Etc/UTC
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: postgres:16
            command: [pg_dump]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: shop-critical
value: 100000
description: the shop's own pods
"#;

fn app(replicas: u32, schedule: &str, min: u32, greeting: &str, port: u32) -> String {
    APP.replace("{replicas}", &replicas.to_string())
        .replace("{schedule}", schedule)
        .replace("{min}", &min.to_string())
        .replace("{greeting}", greeting)
        .replace("{port}", &port.to_string())
}

/// The objects of the manifest as kubectl names them.
const OBJECTS: &[&str] = &[
    "namespace/shop",
    "serviceaccount/shop",
    "configmap/settings",
    "secret/db-password",
    "deployment.apps/web",
    "statefulset.apps/db",
    "service/web",
    "ingress.networking.k8s.io/web",
    "horizontalpodautoscaler.autoscaling/web",
    "poddisruptionbudget.policy/web",
    "networkpolicy.networking.k8s.io/db",
    "cronjob.batch/backup",
    "priorityclass.scheduling.k8s.io/shop-critical",
];

#[tokio::test(flavor = "multi_thread")]
async fn an_application_manifest_applies_changes_and_deletes() {
    let server = TestServer::embedded().await;

    let out = server.ok_stdin(&["apply", "-f", "-"], &app(2, "0 3 * * *", 1, "hello", 5432));
    for object in OBJECTS {
        assert!(out.contains(&format!("{object} created")), "{object} not created:\n{out}");
    }
    let get = |args: &[&str]| {
        json(&server.ok(&[&["-n", "shop", "get"][..], args, &["-o", "json"][..]].concat()))
    };
    let sts = get(&["sts", "db"]);
    assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"], "Filesystem");
    let cj = get(&["cj", "backup"]);
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
    let policy = get(&["netpol", "db"]);
    assert_eq!(policy["spec"]["policyTypes"], serde_json::json!(["Ingress"]));

    // The same manifest with changes: what changed lands, the rest is unchanged.
    let out = server.ok_stdin(&["apply", "-f", "-"], &app(3, "30 4 * * 1-5", 2, "hi there", 5433));
    for changed in [
        "configmap/settings configured",
        "deployment.apps/web configured",
        "statefulset.apps/db configured",
        "poddisruptionbudget.policy/web configured",
        "networkpolicy.networking.k8s.io/db configured",
        "cronjob.batch/backup configured",
        "namespace/shop unchanged",
        "service/web unchanged",
        "priorityclass.scheduling.k8s.io/shop-critical unchanged",
    ] {
        assert!(out.contains(changed), "expected {changed:?}:\n{out}");
    }
    assert_eq!(get(&["deploy", "web"])["spec"]["replicas"], 3);
    assert_eq!(get(&["sts", "db"])["spec"]["replicas"], 3);
    assert_eq!(get(&["cj", "backup"])["spec"]["schedule"], "30 4 * * 1-5");
    assert_eq!(get(&["pdb", "web"])["spec"]["minAvailable"], 2);
    assert_eq!(get(&["cm", "settings"])["data"]["greeting"], "hi there");
    assert_eq!(get(&["netpol", "db"])["spec"]["ingress"][0]["ports"][0]["port"], 5433);

    // Columns as kubectl shows them against kube-apiserver 1.33.
    let header = |kind: &str| rows(&server.ok(&["-n", "shop", "get", kind]))[0].clone();
    assert_eq!(header("sts"), ["NAME", "READY", "AGE"]);
    assert_eq!(
        header("pdb"),
        ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    );
    assert_eq!(
        header("cj"),
        ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]
    );
    assert_eq!(header("netpol"), ["NAME", "POD-SELECTOR", "AGE"]);
    let cronjob = rows(&server.ok(&["-n", "shop", "get", "cj"]))[1].clone();
    assert_eq!(cronjob[..9], ["backup", "30", "4", "*", "*", "1-5", "Etc/UTC", "False", "0"]);
    assert_eq!(rows(&server.ok(&["-n", "shop", "get", "pdb"]))[1][..4], ["web", "2", "N/A", "0"]);

    // Deleted: the namespace and everything in it, and the cluster-scoped class.
    server.ok_stdin(
        &["delete", "--ignore-not-found", "--wait=false", "-f", "-"],
        &app(3, "30 4 * * 1-5", 2, "hi there", 5433),
    );
    let mut gone = false;
    for _ in 0..100 {
        let out = server.kubectl(&["get", "namespace", "shop"]);
        if !out.status.success() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "namespace shop was never removed");
    let out = server.fails(&["get", "priorityclass", "shop-critical"]);
    assert!(out.contains("NotFound"), "{out}");
}

/// One invalid object of each kind: (manifest, the field path kube names).
const INVALID: &[(&str, &str)] = &[
    ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Bad_Namespace\n", "metadata.name"),
    (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bad\n  labels:\n    -bad: x\n",
        "metadata.labels",
    ),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a b: c\n", "data[a b]"),
    (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ntype: kubernetes.io/basic-auth\n",
        "data[username]",
    ),
    (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  selector:\n    \
         matchLabels: {app: a}\n  template:\n    metadata:\n      labels: {app: b}\n    spec:\n      \
         containers: [{name: c, image: nginx}]\n",
        "spec.template.metadata.labels",
    ),
    (
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: bad\nspec:\n  \
         podManagementPolicy: Eventually\n  selector:\n    matchLabels: {app: a}\n  template:\n    \
         metadata:\n      labels: {app: a}\n    spec:\n      containers: [{name: c, image: nginx}]\n",
        "spec.podManagementPolicy",
    ),
    (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n  - port: 70000\n",
        "spec.ports[0].port",
    ),
    (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: bad\nspec:\n  rules:\n  \
         - http:\n      paths:\n      - path: /\n        backend:\n          service: {name: web, \
         port: {number: 80}}\n",
        "spec.rules[0].http.paths[0].pathType",
    ),
    (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: bad\nspec:\n  \
         scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 0\n",
        "spec.maxReplicas",
    ),
    (
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: bad\nspec:\n  \
         minAvailable: 1\n  maxUnavailable: 1\n",
        "spec",
    ),
    (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: bad\nspec:\n  \
         podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: \
         [192.168.0.0/16]}\n",
        "spec.ingress[0].from[0].ipBlock.except[0]",
    ),
    (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: bad\nspec:\n  schedule: \"0 25 * * \
         *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: \
         Never\n          containers: [{name: c, image: busybox}]\n",
        "spec.schedule",
    ),
    (
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: bad\nvalue: \
         2000000000\n",
        "value",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn invalid_variants_are_refused_with_kubes_field_paths() {
    let server = TestServer::embedded().await;
    for (manifest, field) in INVALID {
        let out = server.kubectl_with(KUBECTL, &["apply", "-f", "-"], Some(manifest));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "accepted:\n{manifest}");
        // `is invalid` is how kubectl words a 422 Invalid Status.
        assert!(stderr.contains("is invalid"), "{field}: {stderr}");
        assert!(stderr.contains(&format!("{field}: ")), "{field}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workloads_print_with_kubes_columns() {
    let server = TestServer::embedded().await;
    let resources = rows(&server.ok(&["api-resources"]));
    let find = |name: &str| {
        resources
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} missing: {resources:?}"))
            .clone()
    };
    assert_eq!(find("replicasets"), ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"]);
    assert_eq!(find("statefulsets"), ["statefulsets", "sts", "apps/v1", "true", "StatefulSet"]);
    assert_eq!(find("daemonsets"), ["daemonsets", "ds", "apps/v1", "true", "DaemonSet"]);
    assert_eq!(
        find("controllerrevisions"),
        ["controllerrevisions", "apps/v1", "true", "ControllerRevision"]
    );
    assert_eq!(find("jobs"), ["jobs", "batch/v1", "true", "Job"]);
    assert_eq!(find("cronjobs"), ["cronjobs", "cj", "batch/v1", "true", "CronJob"]);
    assert_eq!(
        find("poddisruptionbudgets"),
        ["poddisruptionbudgets", "pdb", "policy/v1", "true", "PodDisruptionBudget"]
    );
    assert_eq!(
        find("networkpolicies"),
        ["networkpolicies", "netpol", "networking.k8s.io/v1", "true", "NetworkPolicy"]
    );

    let manifest = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: agent, image: agent}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: perl}]
---
apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: agent-1}
data: {spec: {}}
revision: 1
"#;
    server.ok_stdin(&["apply", "-f", "-"], manifest);
    let table = |kind: &str| rows(&server.ok(&["get", kind]));
    let rs = table("rs");
    assert_eq!(rs[0], ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    assert_eq!(rs[1][..4], ["web", "2", "0", "0"]);
    let ds = table("ds");
    assert_eq!(
        ds[0],
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE",
            "SELECTOR",
            "AGE"
        ]
    );
    assert_eq!(ds[1][..7], ["agent", "0", "0", "0", "0", "0", "disk=ssd"]);
    let jobs = table("jobs");
    assert_eq!(jobs[0], ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    assert_eq!(jobs[1][..3], ["pi", "Running", "0/1"]);
    let revisions = table("controllerrevisions");
    assert_eq!(revisions[0], ["NAME", "CONTROLLER", "REVISION", "AGE"]);
    assert_eq!(revisions[1][..3], ["agent-1", "<none>", "1"]);
    let wide = rows(&server.ok(&["get", "job", "pi", "-o", "wide"]));
    assert_eq!(wide[0][5..], ["CONTAINERS", "IMAGES", "SELECTOR"]);
    // No DURATION before the job starts: the row has one word less than the header.
    let selector = wide[1].last().unwrap();
    assert!(selector.starts_with("batch.kubernetes.io/controller-uid="), "{wide:?}");
    // `all` includes the workloads.
    let all = server.ok(&["get", "all", "-o", "name"]);
    for name in ["replicaset.apps/web", "daemonset.apps/agent", "job.batch/pi"] {
        assert!(all.contains(name), "{name} missing from `get all`:\n{all}");
    }
}
