//! The real binary and real kubectl with the rest of the core and storage API: `kubectl
//! api-resources` lists Nodes, PersistentVolumes, PodTemplates, ReplicationControllers, the CSI
//! kinds, RuntimeClasses and the flow-control kinds as kube-apiserver 1.33 does; `kubectl create
//! -f` takes a realistic object of each; `kubectl get` prints kube's columns; `kubectl scale`
//! scales a ReplicationController; invalid objects are refused with kube's field paths.

mod support;

use serde_json::Value;
use support::server::TestServer;

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const MANIFEST: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels:
    node-role.kubernetes.io/control-plane: ""
spec:
  podCIDR: 10.244.0.0/24
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "True", reason: KubeletReady, message: kubelet is posting ready status}
  addresses:
  - {type: InternalIP, address: 10.0.0.5}
  - {type: Hostname, address: node-1}
  nodeInfo:
    kubeletVersion: v1.33.0
    osImage: Debian GNU/Linux 12 (bookworm)
    kernelVersion: 6.1.0-18-amd64
    containerRuntimeVersion: containerd://1.7.13
    operatingSystem: linux
    architecture: amd64
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-1
spec:
  capacity:
    storage: 10Gi
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  claimRef:
    namespace: default
    name: data
  hostPath:
    path: /mnt/data
---
apiVersion: v1
kind: PodTemplate
metadata:
  name: web-template
template:
  metadata:
    labels: {app: web}
  spec:
    containers:
    - name: nginx
      image: nginx:1.25
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: ebs.csi.aws.com
spec:
  attachRequired: true
  podInfoOnMount: false
  fsGroupPolicy: File
---
apiVersion: storage.k8s.io/v1
kind: CSINode
metadata:
  name: node-1
spec:
  drivers:
  - name: ebs.csi.aws.com
    nodeID: i-0123456789abcdef0
    topologyKeys: [topology.ebs.csi.aws.com/zone]
    allocatable: {count: 25}
---
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata:
  name: csi-0123
spec:
  attacher: ebs.csi.aws.com
  nodeName: node-1
  source:
    persistentVolumeName: pv-1
---
apiVersion: storage.k8s.io/v1
kind: CSIStorageCapacity
metadata:
  name: ebs-zone-a
  namespace: kube-system
storageClassName: manual
capacity: 100Gi
nodeTopology:
  matchLabels:
    topology.ebs.csi.aws.com/zone: us-east-1a
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: gvisor
handler: runsc
overhead:
  podFixed: {memory: 120Mi, cpu: 250m}
scheduling:
  nodeSelector: {runtime: gvisor}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: batch-low
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 10
    limitResponse:
      type: Queue
      queuing: {queues: 16, handSize: 4, queueLengthLimit: 20}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: batch-jobs
spec:
  priorityLevelConfiguration: {name: batch-low}
  distinguisherMethod: {type: ByNamespace}
  rules:
  - subjects:
    - kind: ServiceAccount
      serviceAccount: {name: runner, namespace: batch}
    resourceRules:
    - verbs: ["*"]
      apiGroups: ["*"]
      resources: ["*"]
      namespaces: ["*"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_of_the_api_with_kubectl() {
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
    for expected in [
        &["nodes", "no", "v1", "false", "Node"][..],
        &["persistentvolumes", "pv", "v1", "false", "PersistentVolume"],
        &["podtemplates", "v1", "true", "PodTemplate"],
        &["replicationcontrollers", "rc", "v1", "true", "ReplicationController"],
        &["csidrivers", "storage.k8s.io/v1", "false", "CSIDriver"],
        &["csinodes", "storage.k8s.io/v1", "false", "CSINode"],
        &["csistoragecapacities", "storage.k8s.io/v1", "true", "CSIStorageCapacity"],
        &["volumeattachments", "storage.k8s.io/v1", "false", "VolumeAttachment"],
        &["runtimeclasses", "node.k8s.io/v1", "false", "RuntimeClass"],
        &["flowschemas", "flowcontrol.apiserver.k8s.io/v1", "false", "FlowSchema"],
        &[
            "prioritylevelconfigurations",
            "flowcontrol.apiserver.k8s.io/v1",
            "false",
            "PriorityLevelConfiguration",
        ],
    ] {
        assert_eq!(find(expected[0]), expected);
    }

    let out = server.ok_stdin(&["create", "-f", "-"], MANIFEST);
    assert!(out.contains("node/node-1 created"), "{out}");
    assert!(out.contains("flowschema.flowcontrol.apiserver.k8s.io/batch-jobs created"), "{out}");

    let table = rows(&server.ok(&["get", "nodes"]));
    assert_eq!(table[0], ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(table[1][..3], ["node-1", "Ready", "control-plane"]);
    assert_eq!(table[1][4], "v1.33.0");
    let wide = rows(&server.ok(&["get", "no", "-o", "wide"]));
    assert_eq!(
        wide[0][5..],
        ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    );
    assert_eq!(wide[1][5..7], ["10.0.0.5", "<none>"]);

    let table = rows(&server.ok(&["get", "pv"]));
    assert_eq!(
        table[0],
        [
            "NAME",
            "CAPACITY",
            "ACCESS",
            "MODES",
            "RECLAIM",
            "POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE"
        ]
    );
    assert_eq!(
        table[1][..8],
        ["pv-1", "10Gi", "RWO", "Retain", "Pending", "default/data", "manual", "<unset>"]
    );

    let table = rows(&server.ok(&["get", "podtemplates"]));
    assert_eq!(table[0], ["NAME", "CONTAINERS", "IMAGES", "POD", "LABELS"]);
    assert_eq!(table[1], ["web-template", "nginx", "nginx:1.25", "app=web"]);

    let table = rows(&server.ok(&["get", "rc"]));
    assert_eq!(table[0], ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    assert_eq!(table[1][..4], ["web", "2", "0", "0"]);
    let wide = rows(&server.ok(&["get", "rc", "-o", "wide"]));
    assert_eq!(wide[0][4..], ["AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    // The selector kube defaulted from the template's labels, printed as a plain label map.
    assert_eq!(wide[1][5..], ["nginx", "nginx:1.25", "app=web"]);
    server.ok(&["scale", "rc", "web", "--replicas=3"]);
    let rc = json(&server.ok(&["get", "rc", "web", "-o", "json"]));
    assert_eq!(rc["spec"]["replicas"], 3);
    assert_eq!(rc["spec"]["selector"]["app"], "web");
    let all = server.ok(&["get", "all"]);
    assert!(all.contains("replicationcontroller/web"), "{all}");

    let table = rows(&server.ok(&["get", "csidrivers"]));
    assert_eq!(
        table[0],
        [
            "NAME",
            "ATTACHREQUIRED",
            "PODINFOONMOUNT",
            "STORAGECAPACITY",
            "TOKENREQUESTS",
            "REQUIRESREPUBLISH",
            "MODES",
            "AGE"
        ]
    );
    assert_eq!(
        table[1][..7],
        ["ebs.csi.aws.com", "true", "false", "false", "<unset>", "false", "Persistent"]
    );
    let table = rows(&server.ok(&["get", "csinodes"]));
    assert_eq!(table[0], ["NAME", "DRIVERS", "AGE"]);
    assert_eq!(table[1][..2], ["node-1", "1"]);
    let table = rows(&server.ok(&["get", "volumeattachments"]));
    assert_eq!(table[0], ["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"]);
    assert_eq!(table[1][..5], ["csi-0123", "ebs.csi.aws.com", "pv-1", "node-1", "false"]);
    let table = rows(&server.ok(&["get", "csistoragecapacities", "-n", "kube-system"]));
    assert_eq!(table[0], ["NAME", "STORAGECLASSNAME", "CAPACITY"]);
    assert_eq!(table[1], ["ebs-zone-a", "manual", "100Gi"]);
    let table = rows(&server.ok(&["get", "runtimeclasses"]));
    assert_eq!(table[0], ["NAME", "HANDLER", "AGE"]);
    assert_eq!(table[1][..2], ["gvisor", "runsc"]);

    let table = rows(&server.ok(&["get", "prioritylevelconfigurations"]));
    assert_eq!(
        table[0],
        [
            "NAME",
            "TYPE",
            "NOMINALCONCURRENCYSHARES",
            "QUEUES",
            "HANDSIZE",
            "QUEUELENGTHLIMIT",
            "AGE"
        ]
    );
    let levels: Vec<&[String]> = table[1..].iter().map(|r| &r[..6]).collect();
    assert!(
        levels.contains(&&["batch-low", "Limited", "10", "16", "4", "20"].map(String::from)[..])
    );
    assert!(levels.contains(
        &&["exempt", "Exempt", "<none>", "<none>", "<none>", "<none>"].map(String::from)[..]
    ));
    assert!(levels.contains(
        &&["catch-all", "Limited", "5", "<none>", "<none>", "<none>"].map(String::from)[..]
    ));
    let table = rows(&server.ok(&["get", "flowschemas"]));
    assert_eq!(
        table[0],
        ["NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL"]
    );
    let schemas: Vec<&[String]> = table[1..].iter().map(|r| &r[..4]).collect();
    assert!(
        schemas
            .contains(&&["batch-jobs", "batch-low", "1000", "ByNamespace"].map(String::from)[..])
    );
    assert!(schemas.contains(&&["exempt", "exempt", "1", "<none>"].map(String::from)[..]));
    assert!(
        schemas.contains(&&["catch-all", "catch-all", "10000", "ByUser"].map(String::from)[..])
    );

    // Several kinds at once.
    let many = server.ok(&["get", "nodes,pv,rc,csidrivers,runtimeclasses"]);
    for name in [
        "node/node-1",
        "persistentvolume/pv-1",
        "replicationcontroller/web",
        "csidriver.storage.k8s.io/ebs.csi.aws.com",
        "runtimeclass.node.k8s.io/gvisor",
    ] {
        assert!(many.contains(name), "{name} missing from:\n{many}");
    }

    // Invalid objects: 422 with kube's field paths.
    let bad_volume = r#"{"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "bad"}, "spec": {"capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"]}}"#;
    let out =
        server.kubectl_with(support::server::KUBECTL, &["create", "-f", "-"], Some(bad_volume));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("spec: Required value: must specify a volume type"), "{stderr}");
    let out = server.kubectl(&[
        "patch",
        "runtimeclass",
        "gvisor",
        "--type=merge",
        "-p",
        r#"{"handler": "kata"}"#,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("handler: Invalid value: \"kata\": field is immutable"), "{stderr}");
    let out = server.kubectl(&[
        "patch",
        "csidriver",
        "ebs.csi.aws.com",
        "--type=merge",
        "-p",
        r#"{"spec": {"attachRequired": false}}"#,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec.attachedRequired: Invalid value: false: field is immutable"),
        "{stderr}"
    );
}
