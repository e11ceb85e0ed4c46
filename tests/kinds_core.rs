//! The rest of the core and storage API through the router, in-process: Nodes,
//! PersistentVolumes, PodTemplates, ReplicationControllers (with `scale`), CSIDrivers, CSINodes,
//! VolumeAttachments, CSIStorageCapacities, RuntimeClasses, FlowSchemas and
//! PriorityLevelConfigurations — kube's defaults, each kind's validation as a 422 naming kube's
//! field path, the status subresources keeping spec and status apart, and kube's mandatory
//! priority-and-fairness objects present from the start.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::router::{Api, api, assert_status};

const NODES: &str = "/api/v1/nodes";
const VOLUMES: &str = "/api/v1/persistentvolumes";
const TEMPLATES: &str = "/api/v1/namespaces/default/podtemplates";
const CONTROLLERS: &str = "/api/v1/namespaces/default/replicationcontrollers";
const STORAGE: &str = "/apis/storage.k8s.io/v1";
const RUNTIME_CLASSES: &str = "/apis/node.k8s.io/v1/runtimeclasses";
const FLOWCONTROL: &str = "/apis/flowcontrol.apiserver.k8s.io/v1";

async fn put(api: &Api, uri: &str, body: &Value) -> (StatusCode, Value) {
    api.call(Method::PUT, uri, "application/json", body.to_string().into_bytes()).await
}

async fn patch(api: &Api, uri: &str, body: Value) -> (StatusCode, Value) {
    api.call(Method::PATCH, uri, "application/merge-patch+json", body.to_string().into_bytes())
        .await
}

/// The `field: message` of each cause of a 422.
fn causes(got: &(StatusCode, Value)) -> Vec<String> {
    assert_status(got, 422, "Invalid");
    got.1["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}: {}", c["field"].as_str().unwrap(), c["message"].as_str().unwrap()))
        .collect()
}

fn created(got: (StatusCode, Value)) -> Value {
    assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
    got.1
}

fn ok(got: (StatusCode, Value)) -> Value {
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    got.1
}

#[tokio::test]
async fn nodes_keep_their_status_apart_and_cidrs_once_set() {
    let api = api().await;
    let node = json!({"metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {"capacity": {"cpu": "4", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]}});
    let node = created(api.post(NODES, node).await);
    // A node is created with its status (a kubelet registers so), allocatable defaulted.
    assert_eq!(node["status"]["allocatable"], json!({"cpu": "4", "pods": "110"}));
    assert_eq!(node["status"]["conditions"][0]["type"], "Ready");
    assert_eq!(node["spec"]["podCIDRs"], json!(["10.244.1.0/24"]));

    // The main resource keeps the status; /status keeps the spec.
    let uri = format!("{NODES}/node-1");
    let mut cordoned = node.clone();
    cordoned["spec"]["unschedulable"] = json!(true);
    cordoned["status"]["conditions"][0]["status"] = json!("False");
    let cordoned = ok(put(&api, &uri, &cordoned).await);
    assert_eq!(cordoned["spec"]["unschedulable"], true);
    assert_eq!(cordoned["status"]["conditions"][0]["status"], "True");
    let mut not_ready = cordoned.clone();
    not_ready["spec"]["unschedulable"] = json!(false);
    not_ready["status"]["conditions"][0]["status"] = json!("False");
    let not_ready = ok(put(&api, &format!("{uri}/status"), &not_ready).await);
    assert_eq!(not_ready["spec"]["unschedulable"], true);
    assert_eq!(not_ready["status"]["conditions"][0]["status"], "False");

    // Field selector spec.unschedulable.
    let list = ok(api.get(&format!("{NODES}?fieldSelector=spec.unschedulable%3Dtrue")).await);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let list = ok(api.get(&format!("{NODES}?fieldSelector=spec.unschedulable%3Dfalse")).await);
    assert!(list["items"].as_array().unwrap().is_empty());

    let moved = patch(&api, &uri, json!({"spec": {"podCIDR": "", "podCIDRs": ["10.9.0.0/24"]}}));
    assert_eq!(
        causes(&moved.await),
        ["spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid"]
    );
    let tainted = json!({"metadata": {"name": "node-2"}, "spec": {"taints": [
        {"key": "dedicated", "value": "gpu"}]}});
    assert_eq!(causes(&api.post(NODES, tainted).await), ["spec.taints[0].effect: Required value"]);
}

fn volume(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
        "spec": spec})
}

#[tokio::test]
async fn persistent_volumes_are_defaulted_checked_and_fixed() {
    let api = api().await;
    let spec = json!({"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"],
        "hostPath": {"path": "/data/pv-1"}});
    let mut pv = volume("pv-1", spec);
    pv["status"] = json!({"phase": "Bound"});
    let pv = created(api.post(VOLUMES, pv).await);
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(pv["spec"]["volumeMode"], "Filesystem");
    assert_eq!(pv["spec"]["hostPath"]["type"], "");
    // The status is the server's: Pending, stamped.
    assert_eq!(pv["status"]["phase"], "Pending");
    assert!(pv["status"]["lastPhaseTransitionTime"].is_string(), "{pv}");

    assert_eq!(
        causes(&api.post(VOLUMES, volume("pv-2", json!({}))).await),
        [
            "spec.accessModes: Required value: must specify at least 1 access mode",
            "spec.capacity: Required value",
            "spec.capacity: Unsupported value: core.ResourceList(nil): supported values: \
             \"storage\"",
            "spec: Required value: must specify a volume type",
        ]
    );
    let two_sources = volume(
        "pv-3",
        json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "nfs": {"server": "nfs.example.com", "path": "/exports"},
            "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}}),
    );
    assert_eq!(
        causes(&api.post(VOLUMES, two_sources).await),
        ["spec.csi: Forbidden: may not specify more than 1 volume type"]
    );

    // The source and the mode are fixed; the capacity may change.
    let uri = format!("{VOLUMES}/pv-1");
    let moved = causes(&patch(&api, &uri, json!({"spec": {"hostPath": {"path": "/other"}}})).await);
    assert_eq!(moved.len(), 1);
    assert!(moved[0].starts_with(
        "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after \
         creation"
    ));
    let grown = ok(patch(&api, &uri, json!({"spec": {"capacity": {"storage": "20Gi"}}})).await);
    assert_eq!(grown["spec"]["capacity"]["storage"], "20Gi");
    assert_eq!(
        causes(&patch(&api, &uri, json!({"spec": {"volumeMode": "Block"}})).await),
        ["volumeMode: Invalid value: \"Block\": field is immutable"]
    );

    // A status write that keeps the phase keeps the time it is given; one that moves the
    // phase stamps the time of the move.
    let old_time = json!({"status": {"lastPhaseTransitionTime": "2020-01-01T00:00:00Z"}});
    let kept = ok(patch(&api, &format!("{uri}/status"), old_time).await);
    assert_eq!(kept["status"]["lastPhaseTransitionTime"], "2020-01-01T00:00:00Z");
    let status_uri = format!("{uri}/status");
    let bound = ok(patch(&api, &status_uri, json!({"status": {"phase": "Available"}})).await);
    assert_eq!(bound["status"]["phase"], "Available");
    assert_ne!(bound["status"]["lastPhaseTransitionTime"], "2020-01-01T00:00:00Z");
    assert_eq!(bound["spec"]["capacity"]["storage"], "20Gi");
}

fn controller(name: &str) -> Value {
    json!({"metadata": {"name": name}, "spec": {"template": {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
}

#[tokio::test]
async fn replication_controllers_default_from_their_template_and_scale() {
    let api = api().await;
    let rc = created(api.post(CONTROLLERS, controller("web")).await);
    assert_eq!(rc["spec"]["replicas"], 1);
    assert_eq!(rc["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(rc["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(rc["spec"]["template"]["spec"]["restartPolicy"], "Always");
    assert_eq!(rc["status"], json!({"replicas": 0}));

    let uri = format!("{CONTROLLERS}/web");
    let scale = ok(api.get(&format!("{uri}/scale")).await);
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 1);
    assert_eq!(scale["status"], json!({"replicas": 0, "selector": "app=web"}));
    let mut bigger = scale.clone();
    bigger["spec"]["replicas"] = json!(5);
    let scaled = ok(put(&api, &format!("{uri}/scale"), &bigger).await);
    assert_eq!(scaled["spec"]["replicas"], 5);
    assert_eq!(ok(api.get(&uri).await)["spec"]["replicas"], 5);

    // Status through /status only, checked as kube checks it.
    let status = json!({"status": {"replicas": 5, "readyReplicas": 3, "availableReplicas": 4}});
    assert_eq!(
        causes(&patch(&api, &format!("{uri}/status"), status).await),
        ["status.availableReplicas: Invalid value: 4: cannot be greater than readyReplicas"]
    );
    let status = json!({"status": {"replicas": 5, "readyReplicas": 3}});
    let written = ok(patch(&api, &format!("{uri}/status"), status).await);
    assert_eq!(written["status"]["readyReplicas"], 3);
    let ignored = ok(patch(&api, &uri, json!({"status": {"readyReplicas": 0}})).await);
    assert_eq!(ignored["status"]["readyReplicas"], 3);

    let mut mismatched = controller("api");
    mismatched["spec"]["selector"] = json!({"app": "other"});
    assert_eq!(
        causes(&api.post(CONTROLLERS, mismatched).await),
        ["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"api\"}: \
          `selector` does not match template `labels`"]
    );
    let templateless = json!({"metadata": {"name": "bare"}, "spec": {"replicas": 2}});
    assert_eq!(
        causes(&api.post(CONTROLLERS, templateless).await),
        ["spec.selector: Required value", "spec.template: Required value"]
    );
}

#[tokio::test]
async fn pod_templates_are_defaulted_and_checked() {
    let api = api().await;
    let template = json!({"metadata": {"name": "web"}, "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}});
    let stored = created(api.post(TEMPLATES, template).await);
    let pod_spec = &stored["template"]["spec"];
    assert_eq!(pod_spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod_spec["containers"][0]["imagePullPolicy"], "Always");
    let empty = json!({"metadata": {"name": "empty"}, "template": {"spec": {"containers": []}}});
    assert_eq!(
        causes(&api.post(TEMPLATES, empty).await),
        ["template.spec.containers: Required value"]
    );
}

#[tokio::test]
async fn csi_objects_and_runtime_classes() {
    let api = api().await;
    let drivers = format!("{STORAGE}/csidrivers");
    let driver = created(
        api.post(&drivers, json!({"metadata": {"name": "ebs.csi.aws.com"}, "spec": {}})).await,
    );
    assert_eq!(
        driver["spec"],
        json!({"attachRequired": true, "podInfoOnMount": false, "storageCapacity": false,
            "fsGroupPolicy": "ReadWriteOnceWithFSType", "volumeLifecycleModes": ["Persistent"],
            "requiresRepublish": false, "seLinuxMount": false})
    );
    let uri = format!("{drivers}/ebs.csi.aws.com");
    assert_eq!(
        causes(&patch(&api, &uri, json!({"spec": {"attachRequired": false}})).await),
        ["spec.attachedRequired: Invalid value: false: field is immutable"]
    );
    let mutable = ok(patch(&api, &uri, json!({"spec": {"podInfoOnMount": true}})).await);
    assert_eq!(mutable["spec"]["podInfoOnMount"], true);

    let nodes = format!("{STORAGE}/csinodes");
    let csi_node = json!({"metadata": {"name": "node-1"}, "spec": {"drivers": [
        {"name": "ebs.csi.aws.com", "nodeID": "i-0123", "topologyKeys": ["topology.ebs.csi.aws.com/zone"]}]}});
    created(api.post(&nodes, csi_node).await);
    let no_id =
        json!({"metadata": {"name": "node-2"}, "spec": {"drivers": [{"name": "x.example.com"}]}});
    assert_eq!(causes(&api.post(&nodes, no_id).await), ["spec.drivers[0].nodeID: Required value"]);

    let attachments = format!("{STORAGE}/volumeattachments");
    let attachment = json!({"metadata": {"name": "csi-abc"}, "spec": {
        "attacher": "ebs.csi.aws.com", "nodeName": "node-1",
        "source": {"persistentVolumeName": "pv-1"}}, "status": {"attached": true}});
    let attachment = created(api.post(&attachments, attachment).await);
    assert_eq!(attachment["status"], json!({"attached": false}));
    let uri = format!("{attachments}/csi-abc");
    let attached =
        ok(patch(&api, &format!("{uri}/status"), json!({"status": {"attached": true}})).await);
    assert_eq!(attached["status"]["attached"], true);
    let moved = causes(&patch(&api, &uri, json!({"spec": {"nodeName": "node-2"}})).await);
    assert_eq!(moved.len(), 1);
    assert!(
        moved[0].starts_with("spec: Invalid value: storage.VolumeAttachmentSpec{"),
        "{moved:?}"
    );
    assert!(moved[0].ends_with("field is immutable"));
    let sourceless = json!({"metadata": {"name": "csi-x"}, "spec": {
        "attacher": "ebs.csi.aws.com", "nodeName": "node-1", "source": {}}});
    assert_eq!(
        causes(&api.post(&attachments, sourceless).await),
        ["spec.source: Required value: must specify exactly one of inlineVolumeSpec and \
          persistentVolumeName"]
    );

    let capacities = format!("{STORAGE}/namespaces/kube-system/csistoragecapacities");
    let capacity = json!({"metadata": {"name": "cap-1"}, "storageClassName": "fast",
        "capacity": "100Gi", "nodeTopology": {"matchLabels": {"zone": "a"}}});
    created(api.post(&capacities, capacity).await);
    let cap_uri = format!("{capacities}/cap-1");
    let moved = patch(&api, &cap_uri, json!({"storageClassName": "slow"})).await;
    assert_eq!(causes(&moved), ["storageClassName: Invalid value: \"slow\": field is immutable"]);

    let class = json!({"metadata": {"name": "gvisor"}, "handler": "runsc"});
    created(api.post(RUNTIME_CLASSES, class).await);
    let class_uri = format!("{RUNTIME_CLASSES}/gvisor");
    let changed = patch(&api, &class_uri, json!({"handler": "kata"})).await;
    assert_eq!(causes(&changed), ["handler: Invalid value: \"kata\": field is immutable"]);
    let bad = json!({"metadata": {"name": "bad"}, "handler": "Run_SC"});
    let texts = causes(&api.post(RUNTIME_CLASSES, bad).await);
    assert!(texts[0].starts_with("handler: Invalid value: \"Run_SC\": a lowercase RFC 1123 label"));
}

#[tokio::test]
async fn flow_control_has_the_mandatory_objects_and_checks_new_ones() {
    let api = api().await;
    let levels = format!("{FLOWCONTROL}/prioritylevelconfigurations");
    let schemas = format!("{FLOWCONTROL}/flowschemas");
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let present = ok(api.get(&levels).await);
    assert_eq!(names(&present), ["catch-all", "exempt"]);
    assert_eq!(
        present["items"][0]["metadata"]["annotations"]["apf.kubernetes.io/autoupdate-spec"],
        "true"
    );
    let present = ok(api.get(&schemas).await);
    assert_eq!(names(&present), ["catch-all", "exempt"]);
    assert_eq!(present["items"][1]["spec"]["matchingPrecedence"], 1);

    let level = json!({"metadata": {"name": "workload-low"}, "spec": {"type": "Limited",
        "limited": {"limitResponse": {"type": "Queue", "queuing": {"queues": 16}}}}});
    let level = created(api.post(&levels, level).await);
    assert_eq!(level["spec"]["limited"]["nominalConcurrencyShares"], 30);
    assert_eq!(
        level["spec"]["limited"]["limitResponse"]["queuing"],
        json!({"queues": 16, "handSize": 8, "queueLengthLimit": 50})
    );
    let exempt_type = json!({"metadata": {"name": "ops"}, "spec": {"type": "Exempt"}});
    assert_eq!(
        causes(&api.post(&levels, exempt_type).await),
        ["spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name is \
          'exempt'"]
    );

    let schema = json!({"metadata": {"name": "batch"}, "spec": {
        "priorityLevelConfiguration": {"name": "workload-low"},
        "rules": [{"subjects": [{"kind": "Group", "group": {"name": "batch"}}],
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"],
                "namespaces": ["*"]}]}]}});
    let schema = created(api.post(&schemas, schema).await);
    assert_eq!(schema["spec"]["matchingPrecedence"], 1000);
    let unnamed = json!({"metadata": {"name": "x"}, "spec": {"priorityLevelConfiguration": {}}});
    assert_eq!(
        causes(&api.post(&schemas, unnamed).await),
        ["spec.priorityLevelConfiguration.name: Required value: must reference a priority level"]
    );
    let catch_all = format!("{schemas}/catch-all");
    let changed = patch(&api, &catch_all, json!({"spec": {"matchingPrecedence": 5}})).await;
    let texts = causes(&changed);
    assert_eq!(texts.len(), 1);
    assert!(texts[0].ends_with("spec of 'catch-all' must equal the fixed value"), "{texts:?}");
    // The status is the controller's: written through /status only.
    let dangling = json!({"status": {"conditions": [{"type": "Dangling", "status": "False"}]}});
    let written = ok(patch(&api, &format!("{schemas}/batch/status"), dangling).await);
    assert_eq!(written["status"]["conditions"][0]["status"], "False");
}
