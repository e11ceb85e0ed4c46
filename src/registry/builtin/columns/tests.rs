//! The built-in kinds' tables as a client receives them: column definitions described by the
//! schema (checked against the field each column shows, as kube quotes `SwaggerDoc()`), rows
//! as kubectl prints them.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::*;
use crate::registry::table::{IncludeObject, render_table_at};

/// kube's `<definition>{}.SwaggerDoc()[field]`, read straight from the schema by definition
/// name (`apps.v1.DeploymentStatus`).
fn swagger(definition: &str, field: &str) -> String {
    let schemas = schema::builtin();
    let name = if definition.starts_with("io.") {
        definition.to_owned()
    } else {
        format!("io.k8s.api.{definition}")
    };
    let id = schemas.by_name(&name).unwrap_or_else(|| panic!("no definition {name}"));
    let field = schemas.field(id, field).unwrap_or_else(|| panic!("no {field} in {name}"));
    assert!(!field.description.is_empty(), "{name}.{field:?} has no description");
    field.description.to_owned()
}

fn meta(field: &str) -> String {
    swagger(OBJECT_META, field)
}

const CONTAINERS: &str = "Names of each container in the template.";
const IMAGES: &str = "Images referenced by each container in the template.";

/// The table of a served built-in resource (`apps/v1`, `deployments`).
fn table_of(gv: &str, plural: &str) -> TableSpec {
    let resource = super::super::resources()
        .into_iter()
        .find(|r| r.gv.to_string() == gv && r.plural == plural)
        .unwrap_or_else(|| panic!("{gv}/{plural} is not served"));
    resource.table
}

/// `columnDefinitions` as kube-apiserver sends them.
fn definitions(columns: &[(&str, &str, i32, String)]) -> Value {
    columns
        .iter()
        .map(|(name, kind, priority, description)| {
            json!({"name": name, "type": kind,
                   "format": if *name == "Name" { "name" } else { "" },
                   "description": description, "priority": priority})
        })
        .collect()
}

/// Renders `object`, created an hour before `now`, and returns the whole table.
fn render(spec: &TableSpec, mut object: Value) -> Value {
    let now = crate::registry::object::parse_timestamp("2026-12-07T12:00:00Z").unwrap();
    object["metadata"]["creationTimestamp"] = "2026-12-07T11:00:00Z".into();
    render_table_at(spec, &[object], IncludeObject::None, Map::new(), now)
}

fn template(containers: Value) -> Value {
    json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}})
}

fn web_containers() -> Value {
    json!([{"name": "app", "image": "nginx:1.25"}, {"name": "side", "image": "busybox:1.36"}])
}

#[test]
fn deployments() {
    let table = render(
        &table_of("apps/v1", "deployments"),
        json!({"metadata": {"name": "web"}, "spec": {"replicas": 3,
            "selector": {"matchLabels": {"app": "web"}}, "template": template(web_containers())},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}),
    );
    assert_eq!(
        table["columnDefinitions"],
        definitions(&[
            ("Name", "string", 0, meta("name")),
            ("Ready", "string", 0, "Number of the pod with ready state".into()),
            ("Up-to-date", "string", 0, swagger("apps.v1.DeploymentStatus", "updatedReplicas")),
            ("Available", "string", 0, swagger("apps.v1.DeploymentStatus", "availableReplicas")),
            ("Age", "string", 0, meta("creationTimestamp")),
            ("Containers", "string", 1, CONTAINERS.into()),
            ("Images", "string", 1, IMAGES.into()),
            ("Selector", "string", 1, swagger("apps.v1.DeploymentSpec", "selector")),
        ])
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!(["web", "2/3", 3, 2, "60m", "app,side", "nginx:1.25,busybox:1.36", "app=web"])
    );
}

#[test]
fn statefulsets_and_daemonsets() {
    let table = render(
        &table_of("apps/v1", "statefulsets"),
        json!({"metadata": {"name": "db"}, "spec": {"replicas": 3,
            "template": template(json!([{"name": "pg", "image": "postgres:16"}]))},
            "status": {"readyReplicas": 1}}),
    );
    assert_eq!(
        table["columnDefinitions"],
        definitions(&[
            ("Name", "string", 0, meta("name")),
            ("Ready", "string", 0, "Number of the pod with ready state".into()),
            ("Age", "string", 0, meta("creationTimestamp")),
            ("Containers", "string", 1, CONTAINERS.into()),
            ("Images", "string", 1, IMAGES.into()),
        ])
    );
    assert_eq!(table["rows"][0]["cells"], json!(["db", "1/3", "60m", "pg", "postgres:16"]));

    let mut agent_template = template(json!([{"name": "agent", "image": "fluent-bit:3"}]));
    agent_template["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
    let table = render(
        &table_of("apps/v1", "daemonsets"),
        json!({"metadata": {"name": "logs"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}}, "template": agent_template},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                       "numberReady": 2, "updatedNumberScheduled": 1}}),
    );
    let status = |field| swagger("apps.v1.DaemonSetStatus", field);
    assert_eq!(
        table["columnDefinitions"],
        definitions(&[
            ("Name", "string", 0, meta("name")),
            ("Desired", "integer", 0, status("desiredNumberScheduled")),
            ("Current", "integer", 0, status("currentNumberScheduled")),
            ("Ready", "integer", 0, status("numberReady")),
            ("Up-to-date", "integer", 0, status("updatedNumberScheduled")),
            ("Available", "integer", 0, status("numberAvailable")),
            ("Node Selector", "string", 0, swagger("core.v1.PodSpec", "nodeSelector")),
            ("Age", "string", 0, meta("creationTimestamp")),
            ("Containers", "string", 1, CONTAINERS.into()),
            ("Images", "string", 1, IMAGES.into()),
            ("Selector", "string", 1, swagger("apps.v1.DaemonSetSpec", "selector")),
        ])
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!([
            "logs",
            3,
            3,
            2,
            1,
            0,
            "kubernetes.io/os=linux",
            "60m",
            "agent",
            "fluent-bit:3",
            "app=web"
        ])
    );
}

#[test]
fn replica_sets_and_replication_controllers_share_their_counts() {
    for (gv, plural, spec, selector) in [
        (
            "apps/v1",
            "replicasets",
            "apps.v1.ReplicaSetSpec",
            json!({"matchLabels": {"app": "web"}}),
        ),
        (
            "v1",
            "replicationcontrollers",
            "core.v1.ReplicationControllerSpec",
            json!({"app": "web"}),
        ),
    ] {
        let status = spec.replace("Spec", "Status");
        let table = render(
            &table_of(gv, plural),
            json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": selector,
                "template": template(web_containers())}, "status": {"replicas": 2}}),
        );
        assert_eq!(
            table["columnDefinitions"],
            definitions(&[
                ("Name", "string", 0, meta("name")),
                ("Desired", "integer", 0, swagger(spec, "replicas")),
                ("Current", "integer", 0, swagger(&status, "replicas")),
                ("Ready", "integer", 0, swagger(&status, "readyReplicas")),
                ("Age", "string", 0, meta("creationTimestamp")),
                ("Containers", "string", 1, CONTAINERS.into()),
                ("Images", "string", 1, IMAGES.into()),
                ("Selector", "string", 1, swagger(spec, "selector")),
            ]),
            "{plural}"
        );
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["web", 2, 2, 0, "60m", "app,side", "nginx:1.25,busybox:1.36", "app=web"]),
            "{plural}"
        );
    }
}

#[test]
fn jobs_and_cronjobs() {
    let pi = template(json!([{"name": "pi", "image": "perl:5.34"}]));
    let table = render(
        &table_of("batch/v1", "jobs"),
        json!({"metadata": {"name": "pi"}, "spec": {"completions": 1,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
            "template": pi}}),
    );
    assert_eq!(
        table["columnDefinitions"],
        definitions(&[
            ("Name", "string", 0, meta("name")),
            ("Status", "string", 0, "Status of the job.".into()),
            ("Completions", "string", 0, swagger("batch.v1.JobStatus", "succeeded")),
            ("Duration", "string", 0, "Time required to complete the job.".into()),
            ("Age", "string", 0, meta("creationTimestamp")),
            ("Containers", "string", 1, CONTAINERS.into()),
            ("Images", "string", 1, IMAGES.into()),
            ("Selector", "string", 1, swagger("batch.v1.JobSpec", "selector")),
        ])
    );
    let cells = table["rows"][0]["cells"].as_array().unwrap();
    assert_eq!(cells[0], "pi");
    assert_eq!(
        cells[4..],
        [
            json!("60m"),
            json!("pi"),
            json!("perl:5.34"),
            json!("batch.kubernetes.io/controller-uid=u-1")
        ]
    );

    let table = render(
        &table_of("batch/v1", "cronjobs"),
        json!({"metadata": {"name": "nightly"}, "spec": {"schedule": "0 3 * * *",
            "suspend": false, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "backup", "image": "restic:0.16"}]}}}}}}),
    );
    let spec = |field| swagger("batch.v1.CronJobSpec", field);
    let status = |field| swagger("batch.v1.CronJobStatus", field);
    assert_eq!(
        table["columnDefinitions"],
        definitions(&[
            ("Name", "string", 0, meta("name")),
            ("Schedule", "string", 0, spec("schedule")),
            ("Timezone", "string", 0, spec("timeZone")),
            ("Suspend", "boolean", 0, spec("suspend")),
            ("Active", "integer", 0, status("active")),
            ("Last Schedule", "string", 0, status("lastScheduleTime")),
            ("Age", "string", 0, meta("creationTimestamp")),
            ("Containers", "string", 1, CONTAINERS.into()),
            ("Images", "string", 1, IMAGES.into()),
            ("Selector", "string", 1, swagger("batch.v1.JobSpec", "selector")),
        ])
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!([
            "nightly",
            "0 3 * * *",
            "<none>",
            "False",
            0,
            "<none>",
            "60m",
            "backup",
            "restic:0.16",
            "<none>"
        ])
    );
}

#[test]
fn pods_and_pod_templates() {
    let table = table_of("v1", "pods");
    let described: Vec<(&str, &str)> =
        table.columns.iter().map(|c| (c.name.as_str(), c.description.as_str())).collect();
    assert_eq!(described[5], ("IP", swagger("core.v1.PodStatus", "podIP").as_str()));
    assert_eq!(described[6], ("Node", swagger("core.v1.PodSpec", "nodeName").as_str()));
    assert_eq!(
        described[7],
        ("Nominated Node", swagger("core.v1.PodStatus", "nominatedNodeName").as_str())
    );
    assert_eq!(
        described[8],
        ("Readiness Gates", swagger("core.v1.PodSpec", "readinessGates").as_str())
    );

    let table = render(
        &table_of("v1", "podtemplates"),
        json!({"metadata": {"name": "t"}, "template": template(web_containers())}),
    );
    assert_eq!(
        table["columnDefinitions"],
        definitions(&[
            ("Name", "string", 0, meta("name")),
            ("Containers", "string", 0, CONTAINERS.into()),
            ("Images", "string", 0, IMAGES.into()),
            ("Pod Labels", "string", 0, "The labels for the pod template.".into()),
        ])
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!(["t", "app,side", "nginx:1.25,busybox:1.36", "app=web"])
    );
}

#[test]
fn services_are_described_by_their_spec() {
    let spec = |field| swagger("core.v1.ServiceSpec", field);
    let table = render(
        &table_of("v1", "services"),
        json!({"metadata": {"name": "api"}, "spec": {"type": "ClusterIP",
            "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": {"app": "api"},
            "ports": [{"port": 80, "protocol": "TCP"}]}}),
    );
    assert_eq!(
        table["columnDefinitions"],
        definitions(&[
            ("Name", "string", 0, meta("name")),
            ("Type", "string", 0, spec("type")),
            ("Cluster-IP", "string", 0, spec("clusterIP")),
            ("External-IP", "string", 0, spec("externalIPs")),
            ("Port(s)", "string", 0, spec("ports")),
            ("Age", "string", 0, meta("creationTimestamp")),
            ("Selector", "string", 1, spec("selector")),
        ])
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!(["api", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "60m", "app=api"])
    );
}

/// Every column of every built-in kind has a description, except where kube's own is empty.
#[test]
fn every_built_in_column_is_described() {
    // kube describes RuntimeClass's HANDLER by ObjectMeta's doc of a `handler` field it lacks.
    let undescribed = [("runtimeclasses", "Handler")];
    for resource in super::super::resources() {
        for column in &resource.table.columns {
            let key = (resource.plural.as_str(), column.name.as_str());
            assert_eq!(
                column.description.is_empty(),
                undescribed.contains(&key),
                "{}/{} column {}",
                resource.gv,
                resource.plural,
                column.name
            );
        }
    }
}

#[test]
fn name_and_age_are_described_by_object_meta() {
    let name = name_column();
    assert_eq!(name.format, "name");
    assert!(name.description.starts_with("Name must be unique within a namespace."));
    assert_eq!(name.description, meta("name"));
    assert!(age_column().description.starts_with(
        "CreationTimestamp is a timestamp representing the server time when this object was \
         created."
    ));
}

#[test]
fn a_field_column_shows_and_describes_one_field() {
    let deployment = Kind {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        short_names: &[],
        categories: &[],
        namespaced: true,
        storage_prefix: "/deployments",
    };
    // Through the pod template and into a list's items.
    assert_eq!(
        deployment.doc("/spec/template/spec/containers/image"),
        swagger("core.v1.Container", "image")
    );
    let column =
        deployment.field_column("Available", "string", 0, "/status/availableReplicas", count);
    let now = SystemTime::now();
    let cell = crate::registry::table::cell_value(&column, &json!({"status": {}}), now);
    assert_eq!(cell, json!(0));
}

#[test]
fn default_tables() {
    let names: Vec<_> = default_table().columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["Name", "Age"]);
    assert_eq!(default_table().columns[1].kind, "date");
    let names: Vec<_> = generic_table().columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["Name", "Created At"]);
    // DefaultTableConvertor prints the timestamp itself, not an age.
    let objects = [
        json!({"metadata": {"name": "a", "creationTimestamp": "2024-05-06T07:08:09Z"}}),
        json!({"metadata": {"name": "b"}}),
    ];
    let table = crate::registry::table::render_table(
        &generic_table(),
        &objects,
        Default::default(),
        Default::default(),
    );
    assert_eq!(table["rows"][0]["cells"], json!(["a", "2024-05-06T07:08:09Z"]));
    assert_eq!(table["rows"][1]["cells"], json!(["b", "0001-01-01T00:00:00Z"]));
}
