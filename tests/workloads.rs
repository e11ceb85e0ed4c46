//! The API router in-process with the workload kinds and their neighbours — ReplicaSets,
//! StatefulSets, DaemonSets, ControllerRevisions, Jobs, CronJobs, PodDisruptionBudgets,
//! NetworkPolicies: kube's defaults on create, each validation rule refused with a 422 naming
//! the field, `status` and `scale` as subresources, and the printer columns of a Table.

mod support;

use axum::http::Method;
use serde_json::{Value, json};
use support::router::{Api, api, assert_status};

const NS: &str = "/apis/apps/v1/namespaces/default";
const BATCH: &str = "/apis/batch/v1/namespaces/default";

fn template(labels: Value, restart: &str) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {"restartPolicy": restart,
        "containers": [{"name": "app", "image": "nginx:1.25"}]}})
}

fn object(api_version: &str, kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec})
}

/// A create that must be refused with 422 `Invalid`, naming exactly these fields (in order).
async fn refused(api: &Api, uri: &str, body: Value, fields: &[&str]) -> Value {
    let got = api.post(uri, body).await;
    assert_status(&got, 422, "Invalid");
    let causes: Vec<&str> = got.1["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(causes, fields, "{}", got.1);
    got.1
}

fn message_of(status: &Value, field: &str) -> String {
    status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .and_then(|c| c["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn created(api: &Api, uri: &str, body: Value) -> Value {
    let (code, object) = api.post(uri, body).await;
    assert_eq!(code.as_u16(), 201, "{object}");
    object
}

async fn put(api: &Api, uri: &str, body: &Value) -> (u16, Value) {
    let (code, body) =
        api.call(Method::PUT, uri, "application/json", body.to_string().into_bytes()).await;
    (code.as_u16(), body)
}

#[tokio::test]
async fn replicasets_default_validate_and_scale() {
    let api = api().await;
    let uri = format!("{NS}/replicasets");
    let labels = json!({"app": "web"});
    let spec =
        json!({"selector": {"matchLabels": labels}, "template": template(labels.clone(), "")});
    let rs = created(&api, &uri, object("apps/v1", "ReplicaSet", "web", spec.clone())).await;
    assert_eq!(rs["spec"]["replicas"], 1);
    assert_eq!(rs["status"], json!({"replicas": 0}));
    assert_eq!(rs["spec"]["template"]["spec"]["restartPolicy"], "Always");

    let mut bad = spec.clone();
    bad["template"]["metadata"]["labels"] = json!({"app": "other"});
    bad["replicas"] = json!(-1);
    refused(
        &api,
        &uri,
        object("apps/v1", "ReplicaSet", "bad", bad),
        &["spec.replicas", "spec.template.metadata.labels"],
    )
    .await;
    let mut bad = spec.clone();
    bad["template"]["spec"]["restartPolicy"] = json!("Never");
    refused(
        &api,
        &uri,
        object("apps/v1", "ReplicaSet", "bad", bad),
        &["spec.template.spec.restartPolicy"],
    )
    .await;

    // Scale: the replicas move, the selector is the spec's.
    let scale_uri = format!("{uri}/web/scale");
    let (code, scale) = api.get(&scale_uri).await;
    assert_eq!(code.as_u16(), 200, "{scale}");
    assert_eq!(scale["spec"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "app=web");
    let mut scale = scale;
    scale["spec"]["replicas"] = json!(4);
    let (code, body) = put(&api, &scale_uri, &scale).await;
    assert_eq!(code, 200, "{body}");
    let (_, rs) = api.get(&format!("{uri}/web")).await;
    assert_eq!(rs["spec"]["replicas"], 4);

    // The selector never changes.
    let mut changed = rs.clone();
    changed["spec"]["selector"]["matchLabels"]["tier"] = json!("fe");
    changed["spec"]["template"]["metadata"]["labels"]["tier"] = json!("fe");
    let (code, status) = put(&api, &format!("{uri}/web"), &changed).await;
    assert_eq!(code, 422, "{status}");
    assert!(message_of(&status, "spec.selector").ends_with("field is immutable"), "{status}");

    // Status: a write through /status moves only the status.
    let mut status = rs.clone();
    status["status"] = json!({"replicas": 4, "readyReplicas": 3});
    status["spec"]["replicas"] = json!(9);
    let (code, body) = put(&api, &format!("{uri}/web/status"), &status).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"]["readyReplicas"], 3);
    assert_eq!(body["spec"]["replicas"], 4);
    status["status"]["readyReplicas"] = json!(-1);
    status["metadata"]["resourceVersion"] = body["metadata"]["resourceVersion"].clone();
    let (code, body) = put(&api, &format!("{uri}/web/status"), &status).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["details"]["causes"][0]["field"], "status.readyReplicas");
}

#[tokio::test]
async fn statefulsets_default_validate_and_keep_most_of_their_spec() {
    let api = api().await;
    let uri = format!("{NS}/statefulsets");
    let labels = json!({"app": "db"});
    let spec = json!({"serviceName": "db", "selector": {"matchLabels": labels},
        "template": template(labels.clone(), ""),
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]});
    let sts = created(&api, &uri, object("apps/v1", "StatefulSet", "db", spec.clone())).await;
    let s = &sts["spec"];
    assert_eq!(s["replicas"], 1);
    assert_eq!(s["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        s["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(s["revisionHistoryLimit"], 10);
    assert_eq!(
        s["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(s["volumeClaimTemplates"][0]["spec"]["volumeMode"], "Filesystem");
    assert_eq!(sts["status"], json!({"replicas": 0}));

    let mut bad = spec.clone();
    bad["podManagementPolicy"] = json!("Whenever");
    bad["selector"] = json!({});
    bad["updateStrategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": -1}});
    refused(
        &api,
        &uri,
        object("apps/v1", "StatefulSet", "bad", bad),
        &[
            "spec.podManagementPolicy",
            "spec.updateStrategy.rollingUpdate.partition",
            "spec.selector",
        ],
    )
    .await;
    let mut bad = spec.clone();
    bad.as_object_mut().unwrap().shift_remove("selector");
    refused(&api, &uri, object("apps/v1", "StatefulSet", "bad", bad), &["spec.selector"]).await;

    // Replicas, template and strategy change; the claim templates do not.
    let mut update = sts.clone();
    update["spec"]["replicas"] = json!(3);
    update["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    let (code, body) = put(&api, &format!("{uri}/db"), &update).await;
    assert_eq!(code, 200, "{body}");
    let mut update = body;
    update["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] =
        json!("5Gi");
    update["spec"]["serviceName"] = json!("other");
    let (code, status) = put(&api, &format!("{uri}/db"), &update).await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "spec");
    assert!(message_of(&status, "spec").contains("'persistentVolumeClaimRetentionPolicy'"));

    let (code, scale) = api.get(&format!("{uri}/db/scale")).await;
    assert_eq!(code.as_u16(), 200, "{scale}");
    assert_eq!(scale["spec"]["replicas"], 3);
}

#[tokio::test]
async fn daemonsets_and_controllerrevisions() {
    let api = api().await;
    let uri = format!("{NS}/daemonsets");
    let labels = json!({"app": "agent"});
    let spec =
        json!({"selector": {"matchLabels": labels}, "template": template(labels.clone(), "")});
    let ds = created(&api, &uri, object("apps/v1", "DaemonSet", "agent", spec.clone())).await;
    assert_eq!(
        ds["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(ds["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"], "1");
    assert_eq!(ds["status"]["desiredNumberScheduled"], 0);

    let mut bad = spec.clone();
    bad["updateStrategy"] = json!({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}});
    bad["template"]["spec"]["restartPolicy"] = json!("OnFailure");
    refused(
        &api,
        &uri,
        object("apps/v1", "DaemonSet", "bad", bad),
        &["spec.template.spec.restartPolicy", "spec.updateStrategy.rollingUpdate.maxUnavailable"],
    )
    .await;
    // No selector selects nothing: the template's labels never match it.
    let mut bad = spec.clone();
    bad.as_object_mut().unwrap().shift_remove("selector");
    refused(
        &api,
        &uri,
        object("apps/v1", "DaemonSet", "bad", bad),
        &["spec.template.metadata.labels"],
    )
    .await;

    let mut update = ds.clone();
    update["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    let (code, body) = put(&api, &format!("{uri}/agent"), &update).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["metadata"]["annotations"]["deprecated.daemonset.template.generation"], "2");

    let revisions = format!("{NS}/controllerrevisions");
    let revision = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": "agent-1"}, "data": {"spec": {"template": {}}}, "revision": 1});
    let stored = created(&api, &revisions, revision).await;
    refused(
        &api,
        &revisions,
        json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
               "metadata": {"name": "agent-2"}, "revision": -1}),
        &["data", "revision"],
    )
    .await;
    let mut changed = stored.clone();
    changed["data"] = json!({"spec": {"template": {"x": 1}}});
    let (code, status) = put(&api, &format!("{revisions}/agent-1"), &changed).await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "data");
}

#[tokio::test]
async fn jobs_generate_their_selector_and_refuse_what_kube_refuses() {
    let api = api().await;
    let uri = format!("{BATCH}/jobs");
    let spec = json!({"template": template(json!({"app": "pi"}), "Never")});
    let job = created(&api, &uri, object("batch/v1", "Job", "pi", spec.clone())).await;
    let uid = job["metadata"]["uid"].as_str().unwrap();
    let s = &job["spec"];
    assert_eq!(
        (
            &s["completions"],
            &s["parallelism"],
            &s["backoffLimit"],
            &s["completionMode"],
            &s["suspend"],
            &s["manualSelector"],
            &s["podReplacementPolicy"],
        ),
        (
            &json!(1),
            &json!(1),
            &json!(6),
            &json!("NonIndexed"),
            &json!(false),
            &json!(false),
            &json!("TerminatingOrFailed")
        )
    );
    assert_eq!(s["selector"], json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}));
    let labels = &s["template"]["metadata"]["labels"];
    assert_eq!(labels["controller-uid"], uid);
    assert_eq!(labels["job-name"], "pi");
    assert_eq!(labels["batch.kubernetes.io/job-name"], "pi");
    assert_eq!(job["metadata"]["labels"], json!({"app": "pi"}));

    // restartPolicy defaults to Always in a pod template, which a Job refuses.
    let mut bad = spec.clone();
    bad["template"]["spec"].as_object_mut().unwrap().shift_remove("restartPolicy");
    let status = refused(
        &api,
        &uri,
        object("batch/v1", "Job", "bad", bad),
        &["spec.template.spec.restartPolicy"],
    )
    .await;
    assert_eq!(
        message_of(&status, "spec.template.spec.restartPolicy"),
        "Required value: valid values: \"OnFailure\", \"Never\""
    );
    let mut bad = spec.clone();
    bad["selector"] = json!({"matchLabels": {"app": "pi"}});
    refused(&api, &uri, object("batch/v1", "Job", "bad", bad), &["spec.selector"]).await;
    let mut bad = spec.clone();
    bad["completionMode"] = json!("Sometimes");
    bad["parallelism"] = json!(-1);
    refused(
        &api,
        &uri,
        object("batch/v1", "Job", "bad", bad),
        &["spec.parallelism", "spec.completionMode"],
    )
    .await;

    // The template and the selector never change; the backoff limit may.
    let mut update = job.clone();
    update["spec"]["backoffLimit"] = json!(2);
    let (code, body) = put(&api, &format!("{uri}/pi"), &update).await;
    assert_eq!(code, 200, "{body}");
    let mut update = body;
    update["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl");
    let (code, status) = put(&api, &format!("{uri}/pi"), &update).await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["causes"][0]["field"], "spec.template");

    // status.successful is a field selector.
    let (code, list) = api.get(&format!("{uri}?fieldSelector=status.successful%3D0")).await;
    assert_eq!(code.as_u16(), 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn cronjobs_check_schedules_and_time_zones() {
    let api = api().await;
    let uri = format!("{BATCH}/cronjobs");
    let spec = json!({"schedule": "*/5 * * * *",
        "jobTemplate": {"spec": {"template": template(json!({}), "OnFailure")}}});
    let cj = created(&api, &uri, object("batch/v1", "CronJob", "tick", spec.clone())).await;
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
    assert_eq!(cj["spec"]["suspend"], false);
    assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);

    for (schedule, message) in [
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("@weekdays", "unrecognized descriptor: @weekdays"),
        (
            "CRON_TZ=UTC * * * * *",
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ),
    ] {
        let mut bad = spec.clone();
        bad["schedule"] = json!(schedule);
        let status =
            refused(&api, &uri, object("batch/v1", "CronJob", "bad", bad), &["spec.schedule"])
                .await;
        assert!(message_of(&status, "spec.schedule").ends_with(message), "{status}");
    }
    let mut bad = spec.clone();
    bad["timeZone"] = json!("Nowhere/Special");
    bad["concurrencyPolicy"] = json!("Sometimes");
    bad["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    refused(
        &api,
        &uri,
        object("batch/v1", "CronJob", "bad", bad),
        &[
            "spec.concurrencyPolicy",
            "spec.jobTemplate.spec.template.spec.restartPolicy",
            "spec.timeZone",
        ],
    )
    .await;
    let mut ok = spec.clone();
    ok["schedule"] = json!("@hourly");
    ok["timeZone"] = json!("Etc/UTC");
    created(&api, &uri, object("batch/v1", "CronJob", "hourly", ok)).await;
}

#[tokio::test]
async fn pdbs_and_network_policies() {
    let api = api().await;
    let pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
    let pdb = created(
        &api,
        pdbs,
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
               "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}}),
    )
    .await;
    assert_eq!(
        pdb["status"],
        json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
    );
    refused(
        &api,
        pdbs,
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "bad"},
               "spec": {"minAvailable": 1, "maxUnavailable": "101%"}}),
        &["spec", "spec.maxUnavailable"],
    )
    .await;

    let policies = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies";
    let policy = created(
        &api,
        policies,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "db"}, "spec": {"podSelector": {"matchLabels": {"app": "db"}},
               "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                            "ports": [{"port": 5432}]}],
               "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}}),
    )
    .await;
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["protocol"], "TCP");
    refused(
        &api,
        policies,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "bad"}, "spec": {"podSelector": {},
               "ingress": [{"from": [{}], "ports": [{"port": 0}]}],
               "egress": [{"to": [{"ipBlock": {"cidr": "300.0.0.0/8"}, "podSelector": {}}]}]}}),
        &[
            "spec.ingress[0].ports[0].port",
            "spec.ingress[0].from[0]",
            "spec.egress[0].to[0].ipBlock.cidr",
            "spec.egress[0].to[0]",
        ],
    )
    .await;
}

#[tokio::test]
async fn tables_show_kubes_columns() {
    let api = api().await;
    let labels = json!({"app": "web"});
    let spec =
        json!({"selector": {"matchLabels": labels}, "template": template(labels.clone(), "")});
    created(&api, &format!("{NS}/statefulsets"), object("apps/v1", "StatefulSet", "web", spec))
        .await;
    let job = json!({"template": template(json!({}), "Never")});
    created(&api, &format!("{BATCH}/jobs"), object("batch/v1", "Job", "once", job)).await;
    let (names, cells) = table_of(&api, &format!("{NS}/statefulsets")).await;
    assert_eq!(names, ["Name", "Ready", "Age"]);
    assert_eq!(cells[..2], [json!("web"), json!("0/1")]);
    let (names, cells) = table_of(&api, &format!("{BATCH}/jobs")).await;
    assert_eq!(names, ["Name", "Status", "Completions", "Duration", "Age"]);
    assert_eq!(cells[..4], [json!("once"), json!("Running"), json!("0/1"), json!("")]);
}

/// The Table of `uri`: the names of its default columns and the first row's cells.
async fn table_of(api: &Api, uri: &str) -> (Vec<String>, Vec<Value>) {
    let (code, table) = api_table(api, uri).await;
    assert_eq!(code, 200, "{table}");
    let names: Vec<String> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["priority"] == 0)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    (names, table["rows"][0]["cells"].as_array().cloned().unwrap_or_default())
}

async fn api_table(api: &Api, uri: &str) -> (u16, Value) {
    let request = axum::http::Request::builder()
        .uri(uri)
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(axum::body::Body::empty())
        .unwrap();
    use tower::ServiceExt;
    let response = api.router.clone().oneshot(request).await.unwrap();
    let code = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}
